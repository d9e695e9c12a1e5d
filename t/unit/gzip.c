/*
 * gzip.c: unit tests for the Accept-Encoding reading of the gzip filter
 * (pt_http_gzip_accept_q): the qvalue, in thousandths, that a field value
 * gives gzip.  RFC 9110 12.5.3, read strictly: q=0 refuses, a coding not
 * named is refused unless "*" names it, "x-gzip" is gzip, codings compare
 * case-insensitively, a malformed weight counts as 0.  t/http_gzip.t
 * checks the same through a running server.
 */

#include "pt_http.h"
#include "tap.h"

#if (PT_HAVE_HTTP_GZIP_MODULE)

#include "pt_http_gzip.h"

static pt_uint_t
q(const char *s)
{
    return pt_http_gzip_accept_q((u_char *) s, (u_char *) s + strlen(s));
}

static const struct {
    const char  *value;
    pt_uint_t    q;
} cases[] = {
    { "gzip", 1000 },
    { "GZIP", 1000 },
    { "x-gzip", 1000 },
    { "gzip, deflate, br", 1000 },
    { "deflate,gzip", 1000 },
    { "br;q=1.0, gzip;q=0.8, *;q=0.1", 800 },
    { "gzip;q=0.5", 500 },
    { "gzip ; q=0.25", 250 },
    { "gzip;Q=0.3", 300 },
    { "gzip;q=1", 1000 },
    { "gzip;q=1.000", 1000 },
    { "gzip;q=0.001", 1 },
    { "*", 1000 },
    { "*;q=0.2", 200 },
    { "identity;q=0, *", 1000 },
    { ", , gzip", 1000 },
    { "gzip;level=9", 1000 },
    { "gzip;level=9;q=0.4", 400 },
    /* refused */
    { "", 0 },
    { "identity", 0 },
    { "deflate", 0 },
    { "deflate, br", 0 },
    { "gzip;q=0", 0 },
    { "gzip;q=0.000", 0 },
    { "gzip;q=0, *", 0 },
    { "*;q=0", 0 },
    { "*;q=0, deflate", 0 },
    { "gzipx", 0 },
    { "xgzip", 0 },
    { "gzip;q=", 0 },
    { "gzip;q=2", 0 },
    { "gzip;q=1.5", 0 },
    { "gzip;q=0.5555", 0 },
    { "gzip;q=abc", 0 },
    { "gzip;q=0.5x", 0 },
    { "gzip x", 0 },
    { "\"gzip\"", 0 },
    { ";q=1", 0 },
    /* the highest of two mentions */
    { "gzip;q=0, gzip;q=0.7", 700 },
};

int
main(void)
{
    pt_uint_t  i;

    tap_plan(sizeof(cases) / sizeof(cases[0]));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tap_is_int(q(cases[i].value), cases[i].q, "\"%s\" gives gzip %lu", cases[i].value,
                   (unsigned long) cases[i].q);
    }

    return tap_done();
}

#else

int
main(void)
{
    printf("1..0 # SKIP the gzip module is not compiled in\n");
    return 0;
}

#endif
