/*
 * timer.c: unit tests for the timer tree: find and expire order, the lazy
 * re-arm, cancelable timers, deletion, and expiry keys that wrap around
 * the millisecond clock.
 */

#include "portico.h"
#include "tap.h"

#define NFIRED  2048

static pt_event_t  *fired[NFIRED];
static pt_uint_t    nfired;


static void
record_handler(pt_event_t *ev)
{
    if (nfired < NFIRED) {
        fired[nfired] = ev;
    }
    nfired++;
}


static void
ev_init(pt_event_t *ev)
{
    pt_memzero(ev, sizeof(pt_event_t));
    ev->handler = record_handler;
}


static void
test_basic(void)
{
    pt_event_t  e1, e2, e3;

    pt_current_msec = 1000;

    tap_ok(pt_event_find_timer() == PT_TIMER_INFINITE, "empty: infinite");
    tap_ok(pt_event_no_timers_left(), "empty: no timers left");

    ev_init(&e1);
    ev_init(&e2);
    ev_init(&e3);
    e3.cancelable = 1;

    pt_event_add_timer(&e1, 100);
    pt_event_add_timer(&e2, 50);
    pt_event_add_timer(&e3, 200);

    tap_ok(e1.timer_set && e2.timer_set && e3.timer_set, "timers set");
    tap_is_int(pt_event_find_timer(), 50, "nearest timer");
    tap_ok(!pt_event_no_timers_left(), "non-cancelable timers left");

    pt_current_msec = 1049;
    nfired = 0;
    pt_event_expire_timers();
    tap_is_int(nfired, 0, "nothing due yet");
    tap_is_int(pt_event_find_timer(), 1, "1 ms to go");

    pt_current_msec = 1060;
    pt_event_expire_timers();
    tap_ok(nfired == 1 && fired[0] == &e2, "due timer fired");
    tap_ok(e2.timedout && !e2.timer_set, "fired: timedout, not set");
    tap_is_int(pt_event_find_timer(), 40, "next timer");

    /* re-arming within PT_TIMER_LAZY_DELAY keeps the old expiry */
    pt_event_add_timer(&e1, 100);
    tap_is_int(e1.timer.key, 1100, "lazy re-arm keeps the key");

    pt_event_add_timer(&e1, 1000);
    tap_is_int(e1.timer.key, 2060, "far re-arm moves the key");

    pt_event_del_timer(&e1);
    tap_ok(!e1.timer_set, "deleted");
    tap_ok(pt_event_no_timers_left(), "only cancelable timers left");

    pt_current_msec = 5000;
    nfired = 0;
    pt_event_expire_timers();
    tap_ok(nfired == 1 && fired[0] == &e3, "the cancelable one fires too");
    tap_ok(pt_event_find_timer() == PT_TIMER_INFINITE, "tree empty again");
}


static void
test_wrap(void)
{
    pt_event_t  a, b, c;

    /* 100 ms before the clock wraps */
    pt_current_msec = (pt_msec_t) -100;

    ev_init(&a);
    ev_init(&b);
    ev_init(&c);

    pt_event_add_timer(&a, 50);      /* before the wrap */
    pt_event_add_timer(&b, 150);     /* key 50 after the wrap */
    pt_event_add_timer(&c, 120);     /* key 20 after the wrap */

    tap_ok(b.timer.key == 50 && c.timer.key == 20, "keys wrapped");
    tap_is_int(pt_event_find_timer(), 50, "wrap: nearest is before the wrap");

    nfired = 0;
    pt_current_msec += 60;           /* (pt_msec_t) -40 */
    pt_event_expire_timers();
    tap_ok(nfired == 1 && fired[0] == &a, "wrap: only the first fired");
    tap_is_int(pt_event_find_timer(), 60, "wrap: distance across the wrap");

    pt_current_msec += 80;           /* 40, wrapped */
    pt_event_expire_timers();
    tap_ok(nfired == 2 && fired[1] == &c, "wrap: wrapped key fired in order");
    tap_is_int(pt_event_find_timer(), 10, "wrap: last one in 10 ms");

    pt_current_msec += 10;
    pt_event_expire_timers();
    tap_ok(nfired == 3 && fired[2] == &b, "wrap: all fired");
}


/* A handler that arms another timer while timers are being expired. */
static pt_event_t  chained;

static void
chain_handler(pt_event_t *ev)
{
    record_handler(ev);
    pt_event_add_timer(&chained, 0);
}


static void
test_handler_rearms(void)
{
    pt_event_t  e;

    pt_current_msec = 10000;

    ev_init(&e);
    ev_init(&chained);
    e.handler = chain_handler;

    pt_event_add_timer(&e, 0);

    nfired = 0;
    pt_event_expire_timers();

    tap_ok(nfired == 2 && fired[0] == &e && fired[1] == &chained,
           "a timer armed by a handler for now fires in the same pass");
}


static void
test_many(void)
{
    pt_uint_t    i, ordered;
    pt_event_t  *evs;

    evs = calloc(1000, sizeof(pt_event_t));
    if (evs == NULL) {
        tap_ok(0, "calloc");
        return;
    }

    pt_current_msec = (pt_msec_t) -5000;
    srandom(42);

    for (i = 0; i < 1000; i++) {
        ev_init(&evs[i]);
        pt_event_add_timer(&evs[i], (pt_msec_t) (random() % 10000));
    }

    /* delete every tenth */
    for (i = 0; i < 1000; i += 10) {
        pt_event_del_timer(&evs[i]);
    }

    nfired = 0;
    pt_current_msec += 10000;
    pt_event_expire_timers();

    tap_is_int(nfired, 900, "all remaining timers fired");

    ordered = 1;
    for (i = 1; i < nfired && i < NFIRED; i++) {
        if ((pt_msec_int_t) (fired[i]->timer.key - fired[i - 1]->timer.key)
            < 0)
        {
            ordered = 0;
        }
    }

    tap_ok(ordered, "fired in expiry order across the wrap");
    tap_ok(pt_event_find_timer() == PT_TIMER_INFINITE, "tree empty");

    free(evs);
}


int
main(void)
{
    tap_plan(27);

    pt_event_timer_init(NULL);

    test_basic();
    test_wrap();
    test_handler_rearms();
    test_many();

    if (tap_n != 27) {
        printf("# planned 27, ran %d\n", tap_n);
    }

    return tap_done();
}
