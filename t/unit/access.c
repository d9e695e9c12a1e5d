/*
 * access.c: unit tests for the address syntax of allow and deny
 * (pt_http_access_parse_cidr), which follows nginx's ngx_ptocidr() and
 * ngx_inet_addr(): exactly four dotted parts, each up to 255, leading
 * zeros and empty parts accepted, 255.255.255.255 refused (it is
 * INADDR_NONE); prefix lengths up to 32 / 128, decimal digits only; host
 * bits beyond the prefix cleared with PT_DONE.  The expectations were
 * checked against "nginx -t" (1.22).
 */

#include "pt_http.h"
#include "tap.h"

#if (PT_HAVE_HTTP_ACCESS_MODULE)

#include "pt_http_access.h"

static pt_int_t
parse(const char *s, pt_http_access_cidr_t *cidr)
{
    pt_str_t  text;

    text.data = (u_char *) s;
    text.len = strlen(s);

    pt_memzero(cidr, sizeof(pt_http_access_cidr_t));

    return pt_http_access_parse_cidr(&text, cidr);
}

/* IPv4: the rc, and addr/mask in dotted form. */
static void
v4(const char *s, pt_int_t rc, const char *addr, const char *mask)
{
    char                   a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
    pt_int_t               got;
    pt_http_access_cidr_t  cidr;

    got = parse(s, &cidr);
    tap_is_int(got, rc, "\"%s\": rc", s);

    if (got == PT_ERROR || rc == PT_ERROR) {
        return;
    }

    inet_ntop(AF_INET, &cidr.addr, a, sizeof(a));
    inet_ntop(AF_INET, &cidr.mask, m, sizeof(m));

    tap_ok(cidr.family == AF_INET && strcmp(a, addr) == 0 && strcmp(m, mask) == 0,
           "\"%s\": %s mask %s (got %s mask %s)", s, addr, mask, a, m);
}

/* IPv6: the rc, the address, and the prefix length the mask has. */
static void
v6(const char *s, pt_int_t rc, const char *addr, pt_uint_t bits)
{
    char                   a[INET6_ADDRSTRLEN];
    u_char                 want[16];
    pt_int_t               got;
    pt_uint_t              i;
    pt_http_access_cidr_t  cidr;

    got = parse(s, &cidr);
    tap_is_int(got, rc, "\"%s\": rc", s);

    if (got == PT_ERROR || rc == PT_ERROR) {
        return;
    }

    for (i = 0; i < 16; i++) {
        want[i] = (bits >= 8 * (i + 1)) ? 0xff
                  : (bits > 8 * i) ? (u_char) (0xff << (8 - (bits - 8 * i))) : 0;
    }

    inet_ntop(AF_INET6, cidr.addr6, a, sizeof(a));

    tap_ok(cidr.family == AF_INET6 && strcmp(a, addr) == 0
           && memcmp(cidr.mask6, want, 16) == 0,
           "\"%s\": %s/%u (got %s)", s, addr, (unsigned) bits, a);
}

int
main(void)
{
    tap_plan(51);

    v4("192.0.2.1", PT_OK, "192.0.2.1", "255.255.255.255");
    v4("10.0.0.0/8", PT_OK, "10.0.0.0", "255.0.0.0");
    v4("10.1.2.3/8", PT_DONE, "10.0.0.0", "255.0.0.0");
    v4("192.0.2.128/25", PT_OK, "192.0.2.128", "255.255.255.128");
    v4("192.0.2.130/25", PT_DONE, "192.0.2.128", "255.255.255.128");
    v4("1.2.3.4/0", PT_DONE, "0.0.0.0", "0.0.0.0");
    v4("0.0.0.0/0", PT_OK, "0.0.0.0", "0.0.0.0");
    v4("1.2.3.4/32", PT_OK, "1.2.3.4", "255.255.255.255");
    v4("10.1.2.3/08", PT_DONE, "10.0.0.0", "255.0.0.0");
    v4("01.2.3.4", PT_OK, "1.2.3.4", "255.255.255.255");
    v4("1..2.3", PT_OK, "1.0.2.3", "255.255.255.255");

    v4("255.255.255.255", PT_ERROR, NULL, NULL);
    v4("1.2.3", PT_ERROR, NULL, NULL);
    v4("1.2.3.4.5", PT_ERROR, NULL, NULL);
    v4("256.1.1.1", PT_ERROR, NULL, NULL);
    v4("1.2.3.4/33", PT_ERROR, NULL, NULL);
    v4("1.2.3.4/", PT_ERROR, NULL, NULL);
    v4("1.2.3.4/+8", PT_ERROR, NULL, NULL);
    v4("1.2.3.4/-1", PT_ERROR, NULL, NULL);
    v4("1.2.3.4:80", PT_ERROR, NULL, NULL);
    v4("", PT_ERROR, NULL, NULL);
    v4("/8", PT_ERROR, NULL, NULL);
    v4("localhost", PT_ERROR, NULL, NULL);

    v6("::1", PT_OK, "::1", 128);
    v6("2001:db8::/32", PT_OK, "2001:db8::", 32);
    v6("2001:db8::1/32", PT_DONE, "2001:db8::", 32);
    v6("::/0", PT_OK, "::", 0);
    v6("2001:db8:ff::/41", PT_DONE, "2001:db8:80::", 41);
    v6("::ffff:192.0.2.1", PT_OK, "::ffff:192.0.2.1", 128);

    v6("::1/129", PT_ERROR, NULL, 0);
    v6("1::2::3", PT_ERROR, NULL, 0);
    v6("[::1]", PT_ERROR, NULL, 0);
    v6("12345::1", PT_ERROR, NULL, 0);
    v6(":1:2:3:4:5:6:7", PT_ERROR, NULL, 0);

    return tap_done();
}

#else

int
main(void)
{
    printf("1..0 # SKIP http_access not compiled in\n");
    return 0;
}

#endif
