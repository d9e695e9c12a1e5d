/*
 * pt_event_timer.c: the timer tree.
 *
 * Timers live in one rbtree keyed by their expiry time in milliseconds
 * (pt_current_msec + delay), with the node embedded in the event, so arming
 * and cancelling a timer never allocates.  The keys wrap around with the
 * millisecond clock, so every comparison is done on the signed difference
 * (pt_rbtree_insert_timer_value orders the tree the same way).
 */

#include "portico.h"

pt_rbtree_t              pt_event_timer_rbtree;
static pt_rbtree_node_t  pt_event_timer_sentinel;


pt_int_t
pt_event_timer_init(pt_log_t *log)
{
    (void) log;

    pt_rbtree_init(&pt_event_timer_rbtree, &pt_event_timer_sentinel,
                   pt_rbtree_insert_timer_value);

    return PT_OK;
}


/* Milliseconds until the nearest timer (0 when one is already due), or
 * PT_TIMER_INFINITE when no timer is armed. */
pt_msec_t
pt_event_find_timer(void)
{
    pt_msec_int_t      timer;
    pt_rbtree_node_t  *node, *root, *sentinel;

    root = pt_event_timer_rbtree.root;
    sentinel = pt_event_timer_rbtree.sentinel;

    if (root == sentinel) {
        return PT_TIMER_INFINITE;
    }

    node = pt_rbtree_min(root, sentinel);

    timer = (pt_msec_int_t) (node->key - pt_current_msec);

    return (pt_msec_t) (timer > 0 ? timer : 0);
}


/*
 * Runs the handler of every timer that is due, earliest first, with
 * ev->timedout set.  A handler may arm or cancel other timers; the loop
 * looks at the tree afresh each time.
 */
void
pt_event_expire_timers(void)
{
    pt_event_t        *ev;
    pt_rbtree_node_t  *node, *root, *sentinel;

    sentinel = pt_event_timer_rbtree.sentinel;

    for ( ;; ) {
        root = pt_event_timer_rbtree.root;

        if (root == sentinel) {
            return;
        }

        node = pt_rbtree_min(root, sentinel);

        if ((pt_msec_int_t) (node->key - pt_current_msec) > 0) {
            return;
        }

        ev = pt_queue_data(node, pt_event_t, timer);

        pt_rbtree_delete(&pt_event_timer_rbtree, &ev->timer);

        ev->timer_set = 0;
        ev->timedout = 1;

        ev->handler(ev);
    }
}


/*
 * Returns 1 when no timer is armed or every armed one is cancelable (a
 * keepalive timer, say): a draining worker may exit then.  Returns 0 while
 * some timer still guards work in progress.
 */
pt_int_t
pt_event_no_timers_left(void)
{
    pt_event_t        *ev;
    pt_rbtree_node_t  *node, *root, *sentinel;

    sentinel = pt_event_timer_rbtree.sentinel;
    root = pt_event_timer_rbtree.root;

    if (root == sentinel) {
        return 1;
    }

    for (node = pt_rbtree_min(root, sentinel);
         node;
         node = pt_rbtree_next(&pt_event_timer_rbtree, node))
    {
        ev = pt_queue_data(node, pt_event_t, timer);

        if (!ev->cancelable) {
            return 0;
        }
    }

    return 1;
}
