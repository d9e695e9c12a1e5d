/*
 * pt_times.h: the cached clock.
 *
 * The event loop calls pt_time_update() once per iteration; everything else
 * reads the cached values and the preformatted strings that logs and headers
 * need, so no hot path calls gettimeofday() or strftime().  Only the main
 * loop updates the cache (signal handlers never do), so no locking.
 */

#ifndef PT_TIMES_H
#define PT_TIMES_H

typedef struct {
    time_t      sec;
    pt_uint_t   msec;
    pt_int_t    gmtoff;     /* minutes east of UTC */
} pt_time_t;

extern volatile pt_msec_t  pt_current_msec;     /* monotonic, ms */
extern volatile pt_time_t *pt_cached_time;      /* wall clock */

/* "2026/11/27 19:44:45" */
extern volatile pt_str_t   pt_cached_err_log_time;
/* "Fri, 27 Nov 2026 19:44:45 GMT" */
extern volatile pt_str_t   pt_cached_http_time;
/* "27/Nov/2026:19:44:45 +0000" */
extern volatile pt_str_t   pt_cached_http_log_time;
/* "2026-11-27T19:44:45+00:00" */
extern volatile pt_str_t   pt_cached_http_log_iso8601;

#define pt_time()           pt_cached_time->sec
#define pt_timeofday()      ((pt_time_t *) pt_cached_time)

void pt_time_init(void);
void pt_time_update(void);

/* Formats t as an IMF-fixdate ("Fri, 27 Nov 2026 19:44:45 GMT"); returns end. */
u_char *pt_http_time(u_char *buf, time_t t);
/* Parses IMF-fixdate, RFC 850 and asctime dates; PT_ERROR on bad input. */
time_t pt_parse_http_time(u_char *value, size_t len);
void pt_gmtime(time_t t, struct tm *tp);

#endif /* PT_TIMES_H */
