/*
 * tap.h: the few TAP helpers the C unit tests share.  Each test is its own
 * program; prove reads its output.
 */

#ifndef PT_TAP_H
#define PT_TAP_H

#include <stdio.h>
#include <string.h>

static int  tap_n;
static int  tap_failed;

#define tap_plan(n)  printf("1..%d\n", (int) (n))

#define tap_ok(cond, ...)                                                   \
    do {                                                                    \
        int  c_ = (cond) ? 1 : 0;                                           \
        tap_n++;                                                            \
        if (c_) {                                                           \
            printf("ok %d - ", tap_n);                                      \
        } else {                                                            \
            tap_failed++;                                                   \
            printf("not ok %d - ", tap_n);                                  \
        }                                                                   \
        printf(__VA_ARGS__);                                                \
        printf("\n");                                                       \
        if (!c_) {                                                          \
            printf("#   failed at %s:%d\n", __FILE__, __LINE__);            \
        }                                                                   \
    } while (0)

#define tap_is_int(got, want, ...)                                          \
    do {                                                                    \
        long long  g_ = (long long) (got), w_ = (long long) (want);         \
        tap_ok(g_ == w_, __VA_ARGS__);                                      \
        if (g_ != w_) {                                                     \
            printf("#   got %lld, want %lld\n", g_, w_);                    \
        }                                                                   \
    } while (0)

#define tap_done()  (tap_failed ? 1 : 0)

#endif /* PT_TAP_H */
