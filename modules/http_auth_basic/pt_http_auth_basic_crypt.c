/*
 * pt_http_auth_basic_crypt.c: the password formats nginx accepts in a
 * user file (ngx_crypt), each checked in place of nginx's "encrypt the
 * key the same way and strcmp()".
 *
 * The comparisons run in constant time over the secret bytes
 * (CRYPTO_memcmp): only the lengths, which a hash format fixes anyway,
 * end one early.  Nothing is allocated: digests go to the stack, MD5 and
 * SHA-1 run on two EVP contexts made once per process, and crypt_r() on
 * one static struct crypt_data (32 KiB with libxcrypt: too big for the
 * stack of every request, and a worker has one thread).
 */

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pt_http_auth_basic.h"

#define PT_HTTP_AUTH_SHA1_LEN  20

static EVP_MD_CTX  *pt_http_auth_md5_ctx;
static EVP_MD_CTX  *pt_http_auth_md_ctx;
static EVP_MD      *pt_http_auth_md5_md;
static EVP_MD      *pt_http_auth_sha1_md;

/* Equal strings, in time that depends on the lengths only. */
static pt_int_t
pt_http_auth_equal(u_char *a, size_t alen, u_char *b, size_t blen)
{
    if (alen != blen) {
        return PT_DECLINED;
    }

    return CRYPTO_memcmp(a, b, alen) == 0 ? PT_OK : PT_DECLINED;
}

/* The digests and contexts, fetched once (an implicit fetch per digest
 * would cost a lookup in each of apr1's thousand rounds). */
static pt_int_t
pt_http_auth_digests(void)
{
    if (pt_http_auth_md_ctx) {
        return PT_OK;
    }

    if (pt_http_auth_md5_md == NULL) {
        pt_http_auth_md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
    }

    if (pt_http_auth_sha1_md == NULL) {
        pt_http_auth_sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
    }

    if (pt_http_auth_md5_ctx == NULL) {
        pt_http_auth_md5_ctx = EVP_MD_CTX_new();
    }

    if (pt_http_auth_md5_md == NULL || pt_http_auth_sha1_md == NULL
        || pt_http_auth_md5_ctx == NULL)
    {
        return PT_ERROR;
    }

    pt_http_auth_md_ctx = EVP_MD_CTX_new();

    return pt_http_auth_md_ctx ? PT_OK : PT_ERROR;
}

/* ---- Apache's apr1: Poul-Henning Kamp's MD5 crypt with "$apr1$" ---- */

static u_char *
pt_http_auth_to64(u_char *p, uint32_t v, pt_uint_t n)
{
    static u_char  itoa64[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    while (n--) {
        *p++ = itoa64[v & 0x3f];
        v >>= 6;
    }

    return p;
}

#define pt_md5_init(ctx)  EVP_DigestInit_ex(ctx, pt_http_auth_md5_md, NULL)
#define pt_md5_update(ctx, d, n)  EVP_DigestUpdate(ctx, d, n)
#define pt_md5_final(ctx, out)  EVP_DigestFinal_ex(ctx, out, NULL)

/* The initial digest: key, magic, salt, then the alternate sum of key,
 * salt, key spread over the key's length, then a bit-driven tail. */
static int
pt_http_auth_apr1_start(u_char *key, size_t keylen, u_char *salt, size_t saltlen,
    u_char *final)
{
    int          ok;
    size_t       n, i;
    EVP_MD_CTX  *md5, *alt;

    md5 = pt_http_auth_md_ctx;
    alt = pt_http_auth_md5_ctx;

    ok = pt_md5_init(alt)
         && pt_md5_update(alt, key, keylen)
         && pt_md5_update(alt, salt, saltlen)
         && pt_md5_update(alt, key, keylen)
         && pt_md5_final(alt, final);

    ok = ok && pt_md5_init(md5)
         && pt_md5_update(md5, key, keylen)
         && pt_md5_update(md5, "$apr1$", sizeof("$apr1$") - 1)
         && pt_md5_update(md5, salt, saltlen);

    for (n = keylen; ok && n > 0; n -= (n > 16 ? 16 : n)) {
        ok = pt_md5_update(md5, final, n > 16 ? 16 : n);
    }

    /* the famous oddity: a zero byte for each 1 bit, key[0] for each 0 */
    pt_memzero(final, 16);

    for (i = keylen; ok && i; i >>= 1) {
        ok = pt_md5_update(md5, (i & 1) ? final : key, 1);
    }

    return ok && pt_md5_final(md5, final);
}

pt_int_t
pt_http_auth_basic_apr1(u_char *key, u_char *hash, u_char *out)
{
    int          ok;
    u_char      *salt, *p, final[16];
    size_t       keylen, saltlen;
    pt_uint_t    i;
    EVP_MD_CTX  *ctx;

    if (pt_http_auth_digests() != PT_OK) {
        return PT_ERROR;
    }

    keylen = pt_strlen(key);

    /* the salt: up to 8 characters after the magic, to the next '$' */
    salt = hash + sizeof("$apr1$") - 1;
    for (p = salt; *p && *p != '$' && p < salt + 8; p++) { /* void */ }
    saltlen = p - salt;

    ok = pt_http_auth_apr1_start(key, keylen, salt, saltlen, final);

    /* a thousand rounds, to make it slow */
    ctx = pt_http_auth_md5_ctx;

    for (i = 0; ok && i < 1000; i++) {
        ok = pt_md5_init(ctx)
             && ((i & 1) ? pt_md5_update(ctx, key, keylen) : pt_md5_update(ctx, final, 16))
             && (i % 3 == 0 || pt_md5_update(ctx, salt, saltlen))
             && (i % 7 == 0 || pt_md5_update(ctx, key, keylen))
             && ((i & 1) ? pt_md5_update(ctx, final, 16) : pt_md5_update(ctx, key, keylen))
             && pt_md5_final(ctx, final);
    }

    if (!ok) {
        return PT_ERROR;
    }

    p = pt_cpymem(out, "$apr1$", sizeof("$apr1$") - 1);
    p = pt_cpymem(p, salt, saltlen);
    *p++ = '$';

    p = pt_http_auth_to64(p, (final[0] << 16) | (final[6] << 8) | final[12], 4);
    p = pt_http_auth_to64(p, (final[1] << 16) | (final[7] << 8) | final[13], 4);
    p = pt_http_auth_to64(p, (final[2] << 16) | (final[8] << 8) | final[14], 4);
    p = pt_http_auth_to64(p, (final[3] << 16) | (final[9] << 8) | final[15], 4);
    p = pt_http_auth_to64(p, (final[4] << 16) | (final[10] << 8) | final[5], 4);
    p = pt_http_auth_to64(p, final[11], 2);
    *p = '\0';

    OPENSSL_cleanse(final, sizeof(final));

    return PT_OK;
}

static pt_int_t
pt_http_auth_check_apr1(u_char *key, u_char *hash, pt_log_t *log)
{
    u_char    out[PT_HTTP_AUTH_APR1_LEN + 1];
    pt_int_t  rc;

    if (pt_http_auth_basic_apr1(key, hash, out) != PT_OK) {
        pt_log_error(PT_LOG_CRIT, log, 0, "MD5 for \"$apr1$\" failed");
        return PT_ERROR;
    }

    rc = pt_http_auth_equal(out, pt_strlen(out), hash, pt_strlen(hash));
    OPENSSL_cleanse(out, sizeof(out));

    return rc;
}

/* ---- {SHA} and {SSHA} ---- */

/* SHA-1 of key followed by salt, into digest. */
static pt_int_t
pt_http_auth_sha1(u_char *key, u_char *salt, size_t saltlen, u_char *digest,
    pt_log_t *log)
{
    EVP_MD_CTX  *ctx;

    if (pt_http_auth_digests() == PT_OK) {
        ctx = pt_http_auth_md_ctx;

        if (EVP_DigestInit_ex(ctx, pt_http_auth_sha1_md, NULL)
            && EVP_DigestUpdate(ctx, key, pt_strlen(key))
            && EVP_DigestUpdate(ctx, salt, saltlen)
            && EVP_DigestFinal_ex(ctx, digest, NULL))
        {
            return PT_OK;
        }
    }

    pt_log_error(PT_LOG_CRIT, log, 0, "SHA-1 for \"{SHA}\" or \"{SSHA}\" failed");

    return PT_ERROR;
}

/* "{SHA}" base64(SHA-1(key)). */
static pt_int_t
pt_http_auth_check_sha(u_char *key, u_char *hash, pt_log_t *log)
{
    u_char  digest[PT_HTTP_AUTH_SHA1_LEN], b64[32];
    int     len;

    if (pt_http_auth_sha1(key, NULL, 0, digest, log) != PT_OK) {
        return PT_ERROR;
    }

    len = EVP_EncodeBlock(b64, digest, PT_HTTP_AUTH_SHA1_LEN);
    hash += sizeof("{SHA}") - 1;

    return pt_http_auth_equal(b64, len, hash, pt_strlen(hash));
}

/* "{SSHA}" base64(SHA-1(key salt) salt).  A value that is not base64 or
 * holds no full digest matches nothing (nginx compares it with a digest
 * that cannot be equal). */
static pt_int_t
pt_http_auth_check_ssha(u_char *key, u_char *hash, pt_log_t *log)
{
    u_char    buf[PT_HTTP_AUTH_LINE_MAX], digest[PT_HTTP_AUTH_SHA1_LEN];
    pt_str_t  encoded, decoded;

    encoded.data = hash + sizeof("{SSHA}") - 1;
    encoded.len = pt_strlen(encoded.data);

    if (pt_base64_decoded_length(encoded.len) > sizeof(buf)) {
        return PT_DECLINED;
    }

    decoded.data = buf;

    if (pt_decode_base64(&decoded, &encoded) != PT_OK
        || decoded.len < PT_HTTP_AUTH_SHA1_LEN)
    {
        return PT_DECLINED;
    }

    if (pt_http_auth_sha1(key, buf + PT_HTTP_AUTH_SHA1_LEN,
                          decoded.len - PT_HTTP_AUTH_SHA1_LEN, digest, log)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return pt_http_auth_equal(digest, sizeof(digest), buf, PT_HTTP_AUTH_SHA1_LEN);
}

/* ---- crypt() ---- */

static pt_int_t
pt_http_auth_check_crypt(u_char *key, u_char *hash, pt_log_t *log)
{
    char                     *out;
    pt_err_t                  err;
    static struct crypt_data  data;

    data.initialized = 0;

    out = crypt_r((char *) key, (char *) hash, &data);

    if (out == NULL) {
        /* glibc's crypt_r() (not libxcrypt's) says "unknown method" so */
        err = pt_errno;

        if (err == EINVAL) {
            return PT_DECLINED;
        }

        pt_log_error(PT_LOG_CRIT, log, err, "crypt_r() failed");
        return PT_ERROR;
    }

    /* libxcrypt answers "*0" or "*1" for a hash it cannot read: no match,
     * as the stored hash is never that string */
    return pt_http_auth_equal((u_char *) out, pt_strlen(out), hash, pt_strlen(hash));
}

pt_int_t
pt_http_auth_basic_check(u_char *key, u_char *hash, pt_log_t *log)
{
    size_t  len;

    if (pt_strncmp(hash, "$apr1$", sizeof("$apr1$") - 1) == 0) {
        return pt_http_auth_check_apr1(key, hash, log);
    }

    if (pt_strncmp(hash, "{PLAIN}", sizeof("{PLAIN}") - 1) == 0) {
        len = sizeof("{PLAIN}") - 1;
        return pt_http_auth_equal(key, pt_strlen(key), hash + len, pt_strlen(hash) - len);
    }

    if (pt_strncmp(hash, "{SSHA}", sizeof("{SSHA}") - 1) == 0) {
        return pt_http_auth_check_ssha(key, hash, log);
    }

    if (pt_strncmp(hash, "{SHA}", sizeof("{SHA}") - 1) == 0) {
        return pt_http_auth_check_sha(key, hash, log);
    }

    return pt_http_auth_check_crypt(key, hash, log);
}
