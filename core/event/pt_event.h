/*
 * pt_event.h: the event loop.
 *
 * Each worker runs one edge-triggered epoll loop.  A connection registers
 * once for read and write (EPOLLET) and handlers read or write until
 * EAGAIN.  Timers live in an rbtree keyed by expiry with the node embedded in
 * the event; posted events are queued during epoll processing and run after
 * it (accepts first), so a handler never runs re-entrantly.
 */

#ifndef PT_EVENT_H
#define PT_EVENT_H

#define PT_INVALID_INDEX  0xd0d0d0d0

struct pt_event_s {
    void                *data;          /* the connection */

    unsigned             write:1;
    unsigned             accept:1;
    /* Guards against stale epoll events for a reused connection slot. */
    unsigned             instance:1;
    unsigned             active:1;      /* registered with epoll */
    unsigned             disabled:1;
    unsigned             ready:1;       /* may read/write without EAGAIN */
    unsigned             oneshot:1;
    unsigned             complete:1;
    unsigned             eof:1;
    unsigned             error:1;
    unsigned             timedout:1;
    unsigned             timer_set:1;
    unsigned             delayed:1;
    unsigned             deferred_accept:1;
    unsigned             pending_eof:1; /* EPOLLRDHUP seen */
    unsigned             posted:1;
    unsigned             closed:1;
    unsigned             cancelable:1;  /* the worker may exit with it armed */

    int                  available;     /* bytes readable; -1: unknown */

    pt_event_handler_pt  handler;
    pt_uint_t            index;
    pt_log_t            *log;

    pt_rbtree_node_t     timer;
    pt_queue_t           queue;         /* posted queue link */
};

typedef struct {
    pt_int_t  (*add)(pt_event_t *ev, pt_int_t event, pt_uint_t flags);
    pt_int_t  (*del)(pt_event_t *ev, pt_int_t event, pt_uint_t flags);
    pt_int_t  (*enable)(pt_event_t *ev, pt_int_t event, pt_uint_t flags);
    pt_int_t  (*disable)(pt_event_t *ev, pt_int_t event, pt_uint_t flags);
    pt_int_t  (*add_conn)(pt_connection_t *c);
    pt_int_t  (*del_conn)(pt_connection_t *c, pt_uint_t flags);
    pt_int_t  (*process_events)(pt_cycle_t *cycle, pt_msec_t timer,
                                pt_uint_t flags);
    pt_int_t  (*init)(pt_cycle_t *cycle, pt_msec_t timer);
    void      (*done)(pt_cycle_t *cycle);
} pt_event_actions_t;

extern pt_event_actions_t  pt_event_actions;

#define PT_READ_EVENT     (EPOLLIN|EPOLLRDHUP)
#define PT_WRITE_EVENT    EPOLLOUT
#define PT_CLEAR_EVENT    EPOLLET

/* del flags: the fd is about to be closed, so epoll forgets it anyway. */
#define PT_CLOSE_EVENT    1
#define PT_DISABLE_EVENT  2

/* process_events flags */
#define PT_UPDATE_TIME    1
#define PT_POST_EVENTS    2

#define pt_process_events   pt_event_actions.process_events
#define pt_done_events      pt_event_actions.done
#define pt_add_event        pt_event_actions.add
#define pt_del_event        pt_event_actions.del
#define pt_add_conn         pt_event_actions.add_conn
#define pt_del_conn         pt_event_actions.del_conn

#define PT_EVENT_MODULE   0x544E5645  /* "EVNT" */
#define PT_EVENT_CONF     0x02000000

typedef struct {
    pt_uint_t    connections;
    pt_uint_t    use;
    pt_flag_t    multi_accept;
    pt_flag_t    accept_mutex;
    pt_msec_t    accept_mutex_delay;
    u_char      *name;
} pt_event_conf_t;

typedef struct {
    pt_str_t           *name;
    void             *(*create_conf)(pt_cycle_t *cycle);
    char             *(*init_conf)(pt_cycle_t *cycle, void *conf);
    pt_event_actions_t  actions;
} pt_event_module_t;

extern pt_uint_t           pt_event_flags;
extern pt_module_t         pt_events_module;
extern pt_module_t         pt_event_core_module;
extern pt_queue_t          pt_posted_accept_events;
extern pt_queue_t          pt_posted_events;
/* Events to run again on the next iteration, after a fresh epoll pass
 * (a writer stopped by the per-call send bound). */
extern pt_queue_t          pt_posted_next_events;
extern pt_uint_t           pt_accept_disabled;

#define pt_event_get_conf(conf_ctx, module)                                  \
    (*(pt_get_conf(conf_ctx, pt_events_module))) [module.ctx_index]

/* One loop iteration: wait for events or the nearest timer, update the
 * clock, run posted accepts, expire timers, run posted events. */
void pt_process_events_and_timers(pt_cycle_t *cycle);

/* Makes sure the read event will fire (edge-triggered: register once). */
pt_int_t pt_handle_read_event(pt_event_t *rev, pt_uint_t flags);
pt_int_t pt_handle_write_event(pt_event_t *wev, size_t lowat);

void pt_event_accept(pt_event_t *ev);
/* Worker-side listener control: start/stop accepting on this worker's own
 * sockets (others' are closed in the worker at start). */
pt_int_t pt_enable_accept_events(pt_cycle_t *cycle);
pt_int_t pt_disable_accept_events(pt_cycle_t *cycle);
/* Graceful shutdown of the listeners of this worker (drain starts). */
void pt_close_worker_listeners(pt_cycle_t *cycle);

/* ---- timers ---- */

#define PT_TIMER_INFINITE  (pt_msec_t) -1
#define PT_TIMER_LAZY_DELAY  300

extern pt_rbtree_t  pt_event_timer_rbtree;

pt_int_t pt_event_timer_init(pt_log_t *log);
pt_msec_t pt_event_find_timer(void);
void pt_event_expire_timers(void);
/* True when only cancelable timers remain (the worker may exit). */
pt_int_t pt_event_no_timers_left(void);

static inline void
pt_event_del_timer(pt_event_t *ev)
{
    pt_rbtree_delete(&pt_event_timer_rbtree, &ev->timer);
    ev->timer_set = 0;
}

static inline void
pt_event_add_timer(pt_event_t *ev, pt_msec_t timer)
{
    pt_msec_t      key;
    pt_msec_int_t  diff;

    key = pt_current_msec + timer;

    if (ev->timer_set) {
        /* Re-arming every read would churn the tree; a timer that moves by
         * less than PT_TIMER_LAZY_DELAY ms is left where it is. */
        diff = (pt_msec_int_t) (key - ev->timer.key);
        if (pt_abs(diff) < PT_TIMER_LAZY_DELAY) {
            return;
        }
        pt_event_del_timer(ev);
    }

    ev->timer.key = key;
    pt_rbtree_insert(&pt_event_timer_rbtree, &ev->timer);
    ev->timer_set = 1;
}

/* ---- posted events ---- */

static inline void
pt_post_event(pt_event_t *ev, pt_queue_t *q)
{
    if (!ev->posted) {
        ev->posted = 1;
        pt_queue_insert_tail(q, &ev->queue);
    }
}

static inline void
pt_delete_posted_event(pt_event_t *ev)
{
    ev->posted = 0;
    pt_queue_remove(&ev->queue);
}

void pt_event_process_posted(pt_cycle_t *cycle, pt_queue_t *posted);
/* Moves pt_posted_next_events (marked ready) onto pt_posted_events. */
void pt_event_move_posted_next(pt_cycle_t *cycle);

#endif /* PT_EVENT_H */
