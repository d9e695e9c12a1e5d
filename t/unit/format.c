/*
 * format.c: unit tests for the hand-written formatters of hot paths:
 * pt_gmtime() and pt_http_time() against the C library, pt_uint_to_hex().
 */

#include "portico.h"
#include "tap.h"

/* pt_gmtime() must agree with gmtime_r() field by field. */
static int
same_tm(time_t t)
{
    struct tm  a, b;

    pt_gmtime(t, &a);

    if (gmtime_r(&t, &b) == NULL) {
        return 0;
    }

    return a.tm_sec == b.tm_sec && a.tm_min == b.tm_min && a.tm_hour == b.tm_hour
           && a.tm_mday == b.tm_mday && a.tm_mon == b.tm_mon
           && a.tm_year == b.tm_year && a.tm_wday == b.tm_wday
           && a.tm_yday == b.tm_yday;
}

/* pt_http_time() must equal strftime()'s IMF-fixdate, in 29 bytes (with
 * the year zero-padded: IMF-fixdate has four digits, strftime's %Y none). */
static int
same_http_time(time_t t)
{
    u_char     buf[64], *p;
    char       day[32], hms[32], want[128];
    struct tm  tm;

    pt_memset(buf, 'X', sizeof(buf));
    p = pt_http_time(buf, t);

    if (gmtime_r(&t, &tm) == NULL
        || strftime(day, sizeof(day), "%a, %d %b", &tm) == 0
        || strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
    {
        return 0;
    }

    (void) snprintf(want, sizeof(want), "%s %04d %s GMT", day, tm.tm_year + 1900, hms);

    return p - buf == 29 && pt_memcmp(buf, want, 29) == 0 && buf[29] == 'X';
}

static void
test_gmtime(void)
{
    /* edges: epoch, before it, leap days, century rules, 4-digit limits */
    static const time_t  edges[] = {
        0, -1, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
        -2203891200 /* 1900-03-01 */, -2203977600, 4107542400 /* 2100-03-01 */,
        4107456000, 1709164800 /* 2024-02-29 */, 2145916555, 2147483647,
        -62167219200LL /* 0000-01-01 */, 253402300799LL /* 9999-12-31 */,
        -62162035200LL /* 0000-03-01 */, 68169600 /* 1972-02-29 */
    };
    size_t    i, bad_tm, bad_http;
    uint64_t  x;
    time_t    t;

    bad_tm = 0;
    bad_http = 0;

    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        bad_tm += !same_tm(edges[i]);
        bad_http += !same_http_time(edges[i]);
    }

    tap_is_int(bad_tm, 0, "gmtime matches gmtime_r at the edges");
    tap_is_int(bad_http, 0, "http_time matches strftime at the edges");

    /* every day of 1968-2104 at a moving time of day, and random times
     * over the whole four-digit range */
    bad_tm = 0;
    bad_http = 0;

    for (t = -63158400; t < 4260211200LL; t += 86400 + 7) {
        bad_tm += !same_tm(t);
        bad_http += !same_http_time(t);
    }

    x = 88172645463325252ULL;

    for (i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t = (time_t) (x % (253402300799ULL + 62167219200ULL)) - 62167219200LL;
        bad_tm += !same_tm(t);
        bad_http += !same_http_time(t);
    }

    tap_is_int(bad_tm, 0, "gmtime matches gmtime_r over 1968-2104 and at random");
    tap_is_int(bad_http, 0, "http_time matches strftime over 1968-2104 and at random");

    tap_ok(same_tm(253402300800LL) && same_tm(-62167219201LL),
           "gmtime past the four-digit years falls back to gmtime_r");
}

static void
test_http_time_clamp(void)
{
    u_char  buf[64], *p;

    p = pt_http_time(buf, (time_t) 400000000000LL);
    tap_ok(p - buf == 29 && pt_memcmp(buf, "Fri, 31 Dec 9999 23:59:59 GMT", 29) == 0,
           "http_time clamps a far future time to 9999");

    p = pt_http_time(buf, (time_t) -70000000000LL);
    tap_ok(p - buf == 29 && pt_memcmp(buf, "Sat, 01 Jan 0000 00:00:00 GMT", 29) == 0,
           "http_time clamps a time before year 0");
}

static void
test_hex(void)
{
    u_char  buf[32], *p;

    p = pt_uint_to_hex(buf, 0);
    tap_ok(p - buf == 1 && buf[0] == '0', "hex 0");

    p = pt_uint_to_hex(buf, 0x5e3b2a1f);
    tap_ok(p - buf == 8 && pt_memcmp(buf, "5e3b2a1f", 8) == 0, "hex lowercase");

    p = pt_uint_to_hex(buf, UINT64_MAX);
    tap_ok(p - buf == 16 && pt_memcmp(buf, "ffffffffffffffff", 16) == 0, "hex max");

    p = pt_uint_to_hex(buf, 0x400);
    tap_ok(p - buf == 3 && pt_memcmp(buf, "400", 3) == 0, "hex no leading zeros");
}

int
main(void)
{
    pt_pagesize = (pt_uint_t) getpagesize();

    tap_plan(11);

    test_gmtime();
    test_http_time_clamp();
    test_hex();

    return tap_done();
}
