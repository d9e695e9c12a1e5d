/*
 * pt_event_posted.c: events queued to run after the epoll pass.
 *
 * While the backend walks the epoll results it only marks events ready and
 * queues them; the handlers run afterwards, accepts first.  So no handler
 * runs inside another one, and a handler that closes a connection simply
 * unlinks that connection's queued events (pt_close_connection does it).
 *
 * pt_posted_next_events holds events that must run again but only on the
 * next loop iteration, after a fresh epoll pass: a writer that stopped
 * early because of the per-call send bound lands here, so one busy
 * connection cannot keep the loop from serving the others.
 */

#include "portico.h"

pt_queue_t  pt_posted_accept_events = {
    &pt_posted_accept_events, &pt_posted_accept_events
};

pt_queue_t  pt_posted_events = { &pt_posted_events, &pt_posted_events };

pt_queue_t  pt_posted_next_events = {
    &pt_posted_next_events, &pt_posted_next_events
};


/* Runs the handlers of the queued events in order; a handler may post more
 * events to the same queue and they run in this call too. */
void
pt_event_process_posted(pt_cycle_t *cycle, pt_queue_t *posted)
{
    pt_queue_t  *q;
    pt_event_t  *ev;

    (void) cycle;

    while (!pt_queue_empty(posted)) {
        q = pt_queue_head(posted);
        ev = pt_queue_data(q, pt_event_t, queue);

        pt_delete_posted_event(ev);

        ev->handler(ev);
    }
}


/* Moves the events deferred to this iteration onto pt_posted_events; they
 * are ready by definition (nothing has consumed their readiness). */
void
pt_event_move_posted_next(pt_cycle_t *cycle)
{
    pt_queue_t  *q;
    pt_event_t  *ev;

    (void) cycle;

    for (q = pt_queue_head(&pt_posted_next_events);
         q != pt_queue_sentinel(&pt_posted_next_events);
         q = pt_queue_next(q))
    {
        ev = pt_queue_data(q, pt_event_t, queue);
        ev->ready = 1;
        ev->available = -1;
    }

    if (pt_queue_empty(&pt_posted_next_events)) {
        return;
    }

    /* splice the whole list onto the tail of pt_posted_events */
    q = pt_queue_head(&pt_posted_next_events);
    q->prev = pt_posted_events.prev;
    q->prev->next = q;

    q = pt_queue_last(&pt_posted_next_events);
    q->next = &pt_posted_events;
    pt_posted_events.prev = q;

    pt_queue_init(&pt_posted_next_events);
}
