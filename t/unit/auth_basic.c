/*
 * auth_basic.c: unit tests for the strict base64 decoder
 * (pt_decode_base64) and for the password formats of auth_basic
 * (pt_http_auth_basic_check, pt_http_auth_basic_apr1).  The hashes were
 * made with "openssl passwd" (-1, -5, -6, -apr1), Perl's crypt() (DES)
 * and Perl's Digest::SHA with MIME::Base64 ({SHA}, {SSHA}).
 */

#include "pt_http.h"
#include "tap.h"

/* base64 of s: PT_OK with the decoded bytes, or PT_ERROR. */
static void
b64(const char *s, pt_int_t rc, const char *want, size_t wantlen)
{
    u_char    buf[64];
    pt_int_t  got;
    pt_str_t  src, dst;

    src.data = (u_char *) s;
    src.len = strlen(s);
    dst.data = buf;

    got = pt_decode_base64(&dst, &src);
    tap_is_int(got, rc, "base64 \"%s\": rc", s);

    if (rc == PT_OK && got == PT_OK) {
        tap_ok(dst.len == wantlen && memcmp(buf, want, wantlen) == 0,
               "base64 \"%s\": the bytes", s);
    }
}

static void
base64_tests(void)
{
    b64("", PT_OK, "", 0);
    b64("dTE6cHc=", PT_OK, "u1:pw", 5);
    b64("dTE6cHc", PT_OK, "u1:pw", 5);
    b64("YQ==", PT_OK, "a", 1);
    b64("YQ", PT_OK, "a", 1);
    b64("YWI=", PT_OK, "ab", 2);
    b64("YWJj", PT_OK, "abc", 3);
    b64("+/+/", PT_OK, "\xfb\xff\xbf", 3);
    b64("AAEC", PT_OK, "\x00\x01\x02", 3);

    b64("dTE6cHc=x", PT_ERROR, NULL, 0);
    b64("dTE6cHc==", PT_ERROR, NULL, 0);
    b64("YQ=", PT_ERROR, NULL, 0);
    b64("YQ===", PT_ERROR, NULL, 0);
    b64("YWJj=", PT_ERROR, NULL, 0);
    b64("=", PT_ERROR, NULL, 0);
    b64("Y", PT_ERROR, NULL, 0);
    b64("YWJjZ", PT_ERROR, NULL, 0);
    b64("YW=j", PT_ERROR, NULL, 0);
    b64("YW J", PT_ERROR, NULL, 0);
    b64("YW-_", PT_ERROR, NULL, 0);
    b64("YWJ*", PT_ERROR, NULL, 0);
}

#if (PT_HAVE_HTTP_AUTH_BASIC_MODULE)

#include "pt_http_auth_basic.h"

static void
check(const char *key, const char *hash, pt_int_t rc)
{
    tap_is_int(pt_http_auth_basic_check((u_char *) key, (u_char *) hash, NULL), rc,
               "\"%s\" against \"%s\"", key, hash);
}

static void
apr1(const char *key, const char *hash)
{
    u_char  out[PT_HTTP_AUTH_APR1_LEN + 1];

    tap_is_int(pt_http_auth_basic_apr1((u_char *) key, (u_char *) hash, out), PT_OK,
               "apr1 \"%s\": rc", key);
    tap_ok(strcmp((char *) out, hash) == 0, "apr1 \"%s\": %s (got %s)", key, hash, out);
}

static void
crypt_tests(void)
{
    apr1("apr1-short", "$apr1$ab$YpCVgX3pJdsurQq2s4usK1");
    apr1("", "$apr1$abcdefgh$L.PT565ESX4Tp2bqNs7Ie.");
    apr1("01234567890123456789012345678901234567",
         "$apr1$abcdefgh$Rurz8vZLn40V7s98BepBR.");

    check("apr1-short", "$apr1$ab$YpCVgX3pJdsurQq2s4usK1", PT_OK);
    check("apr1-shorT", "$apr1$ab$YpCVgX3pJdsurQq2s4usK1", PT_DECLINED);
    check("apr1-short", "$apr1$ab$YpCVgX3pJdsurQq2s4usK", PT_DECLINED);

    check("md5-pw", "$1$saltsalt$e78r986ZkPTVusZhQh1NA/", PT_OK);
    check("md5-px", "$1$saltsalt$e78r986ZkPTVusZhQh1NA/", PT_DECLINED);
    check("sha256-pw", "$5$saltsalt$2lu5c1yCGhTklFzVr.g/RNDr4e310BZsPfRhutOwAv7", PT_OK);
    check("sha512-pw", "$6$saltsalt$LaBijBidsGBgEFftsdvtqfLIJRgOJWHllC.XJRPI3eoVRBynakB9"
          "C1EkLhGwjHMC6sEClNvysvw6gPoTOg2Bl.", PT_OK);
    check("despassw", "abBqlsEpN6XLk", PT_OK);
    check("despassword", "abBqlsEpN6XLk", PT_OK);
    check("despass", "abBqlsEpN6XLk", PT_DECLINED);

    check("plain-pw", "{PLAIN}plain-pw", PT_OK);
    check("plain-p", "{PLAIN}plain-pw", PT_DECLINED);
    check("", "{PLAIN}", PT_OK);
    check("sha-pw", "{SHA}O/MvdjOwOQpt8I9HBSVZugThPMw=", PT_OK);
    check("sha-px", "{SHA}O/MvdjOwOQpt8I9HBSVZugThPMw=", PT_DECLINED);
    check("ssha-pw", "{SSHA}7Cfv2NX612NkygtSLv0/8/+AdSRzYWx0", PT_OK);
    check("ssha-px", "{SSHA}7Cfv2NX612NkygtSLv0/8/+AdSRzYWx0", PT_DECLINED);
    check("ssha-pw", "{SSHA}7Cfv2NX612Nkyg", PT_DECLINED);
    check("ssha-pw", "{SSHA}!!!", PT_DECLINED);

    /* what crypt() cannot read matches nothing, and is not an error */
    check("x", "", PT_DECLINED);
    check("x", "*", PT_DECLINED);
    check("x", "$9$unknown$method", PT_DECLINED);
}

#else

static void
crypt_tests(void)
{
    printf("# http_auth_basic not compiled in: base64 only\n");
}

#endif

int
main(void)
{
    base64_tests();
    crypt_tests();

    tap_plan(tap_n);

    return tap_done();
}
