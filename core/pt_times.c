/*
 * pt_times.c: the cached clock and HTTP date formatting/parsing.
 */

#include "portico.h"

volatile pt_msec_t   pt_current_msec;
volatile pt_time_t  *pt_cached_time;
volatile pt_str_t    pt_cached_err_log_time;
volatile pt_str_t    pt_cached_http_time;
volatile pt_str_t    pt_cached_http_log_time;
volatile pt_str_t    pt_cached_http_log_iso8601;

static pt_time_t  cached_time;
/* Room beyond the fixed lengths only silences the compiler's worst case
 * (an int field printing 11 digits); the lengths above are what is used. */
static u_char     cached_err_log_time[96];
static u_char     cached_http_time[96];
static u_char     cached_http_log_time[96];
static u_char     cached_http_log_iso8601[96];

static const char  *week[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char  *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void
pt_time_init(void)
{
    pt_cached_err_log_time.len = sizeof("1970/09/28 12:00:00") - 1;
    pt_cached_http_time.len = sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1;
    pt_cached_http_log_time.len = sizeof("28/Sep/1970:12:00:00 +0600") - 1;
    pt_cached_http_log_iso8601.len = sizeof("1970-09-28T12:00:00+06:00") - 1;

    pt_cached_err_log_time.data = cached_err_log_time;
    pt_cached_http_time.data = cached_http_time;
    pt_cached_http_log_time.data = cached_http_log_time;
    pt_cached_http_log_iso8601.data = cached_http_log_iso8601;

    pt_cached_time = &cached_time;

    pt_time_update();
}

static pt_msec_t
pt_monotonic_msec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (pt_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refreshes the clock; the formatted strings are rebuilt only when the
 * second changes, so most iterations cost two clock reads. */
void
pt_time_update(void)
{
    struct timeval  tv;
    struct tm       gmt, tm;
    time_t          sec;
    pt_int_t        off;

    gettimeofday(&tv, NULL);
    sec = tv.tv_sec;

    pt_current_msec = pt_monotonic_msec();
    cached_time.msec = tv.tv_usec / 1000;

    if (cached_time.sec == sec && cached_http_time[0] != '\0') {
        return;
    }

    cached_time.sec = sec;

    pt_gmtime(sec, &gmt);
    (void) snprintf((char *) cached_http_time, sizeof(cached_http_time),
                    "%s, %02d %s %4d %02d:%02d:%02d GMT",
                    week[gmt.tm_wday], gmt.tm_mday, months[gmt.tm_mon],
                    gmt.tm_year + 1900, gmt.tm_hour, gmt.tm_min, gmt.tm_sec);

    localtime_r(&sec, &tm);
    off = tm.tm_gmtoff / 60;
    cached_time.gmtoff = off;

    (void) snprintf((char *) cached_err_log_time, sizeof(cached_err_log_time),
                    "%4d/%02d/%02d %02d:%02d:%02d",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);

    (void) snprintf((char *) cached_http_log_time, sizeof(cached_http_log_time),
                    "%02d/%s/%d:%02d:%02d:%02d %c%02d%02d",
                    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                    tm.tm_hour, tm.tm_min, tm.tm_sec,
                    off < 0 ? '-' : '+', (int) (pt_abs(off) / 60),
                    (int) (pt_abs(off) % 60));

    (void) snprintf((char *) cached_http_log_iso8601,
                    sizeof(cached_http_log_iso8601),
                    "%4d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec,
                    off < 0 ? '-' : '+', (int) (pt_abs(off) / 60),
                    (int) (pt_abs(off) % 60));
}

/* Earliest and latest times with a four-digit year (0000-01-01 and
 * 9999-12-31 23:59:59): an IMF-fixdate has exactly 29 bytes only there. */
#define PT_TIME_YEAR0     ((time_t) -62167219200LL)
#define PT_TIME_YEAR9999  ((time_t) 253402300799LL)

static u_char *
pt_time_2digits(u_char *p, int n)
{
    *p++ = (u_char) ('0' + n / 10);
    *p++ = (u_char) ('0' + n % 10);
    return p;
}

/*
 * Formats by hand: this runs per request for Last-Modified, where
 * sprintf() and gmtime_r() cost ten times the rest of the header.  Always
 * writes exactly 29 bytes and no NUL (callers size the buffer so); a time
 * outside years 0000-9999 is clamped to that range.
 */
u_char *
pt_http_time(u_char *buf, time_t t)
{
    int         year;
    u_char     *p;
    struct tm   tm;

    t = pt_max(t, PT_TIME_YEAR0);
    t = pt_min(t, PT_TIME_YEAR9999);

    pt_gmtime(t, &tm);
    year = tm.tm_year + 1900;

    p = pt_cpymem(buf, week[tm.tm_wday], 3);
    *p++ = ',';
    *p++ = ' ';
    p = pt_time_2digits(p, tm.tm_mday);
    *p++ = ' ';
    p = pt_cpymem(p, months[tm.tm_mon], 3);
    *p++ = ' ';
    p = pt_time_2digits(p, year / 100);
    p = pt_time_2digits(p, year % 100);
    *p++ = ' ';
    p = pt_time_2digits(p, tm.tm_hour);
    *p++ = ':';
    p = pt_time_2digits(p, tm.tm_min);
    *p++ = ':';
    p = pt_time_2digits(p, tm.tm_sec);

    return pt_cpymem(p, " GMT", 4);
}

/*
 * UTC broken-down time.  Years 0000-9999 are computed here (gmtime_r()
 * takes a lock and runs time zone code): days are split into 400-year eras
 * of 146097 days counted from 0000-03-01, so a leap day is always the last
 * day of its year; months then follow from the day of that March-based
 * year.  Other times go to gmtime_r().
 */
void
pt_gmtime(time_t t, struct tm *tp)
{
    int64_t  days, secs, era, doe, yoe, doy, mp, year, leap;

    if (t < PT_TIME_YEAR0 || t > PT_TIME_YEAR9999) {
        if (gmtime_r(&t, tp) == NULL) {
            pt_memzero(tp, sizeof(struct tm));
        }
        return;
    }

    days = t / 86400;
    secs = t % 86400;

    if (secs < 0) {
        secs += 86400;
        days--;
    }

    pt_memzero(tp, sizeof(struct tm));

    tp->tm_hour = (int) (secs / 3600);
    tp->tm_min = (int) (secs / 60 % 60);
    tp->tm_sec = (int) (secs % 60);
    tp->tm_wday = (int) ((days % 7 + 11) % 7);      /* 1970-01-01: Thursday */

    days += 719468;                                 /* now from 0000-03-01 */
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = days - era * 146097;                      /* day of era, 0..146096 */
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  /* from March 1st */
    mp = (5 * doy + 2) / 153;                       /* 0 = March */
    year = yoe + era * 400 + (mp >= 10);
    leap = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0));

    tp->tm_mday = (int) (doy - (153 * mp + 2) / 5 + 1);
    tp->tm_mon = (int) (mp < 10 ? mp + 2 : mp - 10);
    tp->tm_year = (int) (year - 1900);
    tp->tm_yday = (int) (mp >= 10 ? doy - 306 : doy + 59 + leap);
    tp->tm_zone = "GMT";
}

static pt_int_t
pt_month_index(const u_char *p)
{
    pt_int_t  i;

    for (i = 0; i < 12; i++) {
        if (pt_memcmp(p, months[i], 3) == 0) {
            return i;
        }
    }

    return -1;
}

static pt_int_t
pt_digits(const u_char *p, size_t n)
{
    pt_int_t  v = 0;

    while (n--) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        v = v * 10 + (*p++ - '0');
    }

    return v;
}

/*
 * RFC 9110 5.6.7: recipients accept IMF-fixdate ("Sun, 06 Nov 1994
 * 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
 * ("Sun Nov  6 08:49:37 1994").  Anything else is an error.
 */
time_t
pt_parse_http_time(u_char *value, size_t len)
{
    u_char     *p, *end, *comma;
    pt_int_t    day, mon, year, hour, min, sec;
    struct tm   tm;
    char        buf[64];

    if (len == 0 || len >= sizeof(buf)) {
        return PT_ERROR;
    }

    p = value;
    end = value + len;
    comma = pt_strlchr(p, end, ',');

    if (comma && pt_memcmp(end - 4, " GMT", 4) != 0) {
        return PT_ERROR;
    }

    if (comma && end - comma == sizeof(", 06 Nov 1994 08:49:37 GMT") - 1) {
        p = comma + 2;
        day = pt_digits(p, 2);
        mon = pt_month_index(p + 3);
        year = pt_digits(p + 7, 4);
        p += 12;

    } else if (comma && end - comma == sizeof(", 06-Nov-94 08:49:37 GMT") - 1) {
        p = comma + 2;
        day = pt_digits(p, 2);
        mon = pt_month_index(p + 3);
        year = pt_digits(p + 7, 2);
        if (year >= 0) {
            year += (year < 70) ? 2000 : 1900;
        }
        p += 10;

    } else if (comma == NULL && len == sizeof("Sun Nov  6 08:49:37 1994") - 1) {
        mon = pt_month_index(p + 4);
        day = (p[8] == ' ') ? pt_digits(p + 9, 1) : pt_digits(p + 8, 2);
        year = pt_digits(p + 20, 4);
        p += 11;
        end = p + 8;

    } else {
        return PT_ERROR;
    }

    if (day < 1 || day > 31 || mon < 0 || year < 1970 || p + 8 > end
        || p[2] != ':' || p[5] != ':')
    {
        return PT_ERROR;
    }

    hour = pt_digits(p, 2);
    min = pt_digits(p + 3, 2);
    sec = pt_digits(p + 6, 2);

    if (hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60) {
        return PT_ERROR;
    }

    pt_memzero(&tm, sizeof(tm));
    tm.tm_mday = (int) day;
    tm.tm_mon = (int) mon;
    tm.tm_year = (int) (year - 1900);
    tm.tm_hour = (int) hour;
    tm.tm_min = (int) min;
    tm.tm_sec = (int) sec;

    return timegm(&tm);
}
