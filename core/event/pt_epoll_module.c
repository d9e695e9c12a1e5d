/*
 * pt_epoll_module.c: the epoll backend.
 *
 * Connections are registered once, edge-triggered, for both directions
 * (add_conn: EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET) and never touched again
 * until close, which needs no epoll_ctl() at all because closing the last
 * descriptor of a socket removes it from the epoll set.  Handlers read and
 * write until EAGAIN and track readiness in ev->ready.
 *
 * Listening sockets are the exception: they are registered level-triggered
 * (see pt_event_accept.c for why) and removed explicitly, because the
 * master holds another descriptor of the same socket, so closing the
 * worker's copy would not remove it from the set.
 *
 * The epoll data pointer is the connection with the read event's
 * "instance" bit in its lowest bit.  pt_get_connection() flips the bit each
 * time a slot is reused, so an event that was already reported for the
 * slot's previous connection is recognized as stale and dropped.
 */

#include "portico.h"

typedef struct {
    pt_uint_t  events;
} pt_epoll_conf_t;

static pt_int_t pt_epoll_init(pt_cycle_t *cycle, pt_msec_t timer);
static void pt_epoll_done(pt_cycle_t *cycle);
static pt_int_t pt_epoll_add_event(pt_event_t *ev, pt_int_t event,
    pt_uint_t flags);
static pt_int_t pt_epoll_del_event(pt_event_t *ev, pt_int_t event,
    pt_uint_t flags);
static pt_int_t pt_epoll_add_connection(pt_connection_t *c);
static pt_int_t pt_epoll_del_connection(pt_connection_t *c, pt_uint_t flags);
static pt_int_t pt_epoll_process_events(pt_cycle_t *cycle, pt_msec_t timer,
    pt_uint_t flags);
static void *pt_epoll_create_conf(pt_cycle_t *cycle);
static char *pt_epoll_init_conf(pt_cycle_t *cycle, void *conf);

static int                  ep = -1;
static struct epoll_event  *event_list;
static pt_uint_t            nevents;

static pt_str_t  epoll_name = pt_string("epoll");

static pt_command_t  pt_epoll_commands[] = {

    { pt_string("epoll_events"),
      PT_EVENT_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot,
      0,
      offsetof(pt_epoll_conf_t, events),
      NULL },

    pt_null_command
};

static pt_event_module_t  pt_epoll_module_ctx = {
    &epoll_name,
    pt_epoll_create_conf,
    pt_epoll_init_conf,
    {
        pt_epoll_add_event,
        pt_epoll_del_event,
        pt_epoll_add_event,             /* enable */
        pt_epoll_del_event,             /* disable */
        pt_epoll_add_connection,
        pt_epoll_del_connection,
        pt_epoll_process_events,
        pt_epoll_init,
        pt_epoll_done
    }
};

pt_module_t  pt_epoll_module = {
    PT_MODULE_V1,
    &pt_epoll_module_ctx,
    pt_epoll_commands,
    PT_EVENT_MODULE,
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* Creates the epoll instance and the result array (in the worker). */
static pt_int_t
pt_epoll_init(pt_cycle_t *cycle, pt_msec_t timer)
{
    pt_epoll_conf_t  *epcf;

    (void) timer;

    epcf = pt_event_get_conf(cycle->conf_ctx, pt_epoll_module);

    if (ep == -1) {
        ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep == -1) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "epoll_create1() failed");
            return PT_ERROR;
        }
    }

    if (nevents < epcf->events) {
        if (event_list) {
            pt_free(event_list);
        }

        event_list = pt_alloc(sizeof(struct epoll_event) * epcf->events,
                              cycle->log);
        if (event_list == NULL) {
            return PT_ERROR;
        }
    }

    nevents = epcf->events;

    pt_event_actions = pt_epoll_module_ctx.actions;

    return PT_OK;
}


static void
pt_epoll_done(pt_cycle_t *cycle)
{
    if (ep != -1 && close(ep) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "epoll close() failed");
    }

    ep = -1;

    pt_free(event_list);
    event_list = NULL;
    nevents = 0;
}


/* The epoll data word: the connection pointer tagged with the instance. */
static inline void *
pt_epoll_tag(pt_connection_t *c, pt_event_t *ev)
{
    return (void *) ((uintptr_t) c | ev->instance);
}


/*
 * Registers one direction of a connection.  event is PT_READ_EVENT or
 * PT_WRITE_EVENT; flags are extra epoll bits (PT_CLEAR_EVENT for
 * edge-triggered, EPOLLEXCLUSIVE for a socket several workers wait on).
 * When the other direction is already registered the entry is modified to
 * cover both.
 */
static pt_int_t
pt_epoll_add_event(pt_event_t *ev, pt_int_t event, pt_uint_t flags)
{
    int                  op;
    uint32_t             events, prev;
    pt_event_t          *e;
    pt_connection_t     *c;
    struct epoll_event   ee;

    if (ev->active) {
        return PT_OK;
    }

    c = ev->data;

    events = (uint32_t) event;

    if (event == PT_READ_EVENT) {
        e = c->write;
        prev = EPOLLOUT;
    } else {
        e = c->read;
        prev = PT_READ_EVENT;
    }

    if (e->active) {
        op = EPOLL_CTL_MOD;
        events |= prev;
    } else {
        op = EPOLL_CTL_ADD;
    }

    if (ev->accept) {
        /* a listener has no half-close, and EPOLLEXCLUSIVE refuses
         * EPOLLRDHUP */
        events = EPOLLIN;
    }

    ee.events = events | (uint32_t) flags;
    ee.data.ptr = pt_epoll_tag(c, c->read);

    if (epoll_ctl(ep, op, c->fd, &ee) == -1) {
        pt_log_error(PT_LOG_ALERT, ev->log, pt_errno,
                     "epoll_ctl(%d, %d) failed", op, c->fd);
        return PT_ERROR;
    }

    ev->active = 1;

    return PT_OK;
}


/*
 * Unregisters one direction.  With PT_CLOSE_EVENT the descriptor is about
 * to be closed, which removes it from the set, so no system call is made.
 */
static pt_int_t
pt_epoll_del_event(pt_event_t *ev, pt_int_t event, pt_uint_t flags)
{
    int                  op;
    uint32_t             prev;
    pt_event_t          *e;
    pt_connection_t     *c;
    struct epoll_event   ee;

    if (!ev->active) {
        return PT_OK;
    }

    if (flags & PT_CLOSE_EVENT) {
        ev->active = 0;
        return PT_OK;
    }

    c = ev->data;

    if (event == PT_READ_EVENT) {
        e = c->write;
        prev = EPOLLOUT;
    } else {
        e = c->read;
        prev = PT_READ_EVENT;
    }

    if (e->active) {
        /* only connections register both directions, and always ET */
        op = EPOLL_CTL_MOD;
        ee.events = prev | EPOLLET;
        ee.data.ptr = pt_epoll_tag(c, c->read);
    } else {
        op = EPOLL_CTL_DEL;
        ee.events = 0;
        ee.data.ptr = NULL;
    }

    if (epoll_ctl(ep, op, c->fd, &ee) == -1) {
        pt_log_error(PT_LOG_ALERT, ev->log, pt_errno,
                     "epoll_ctl(%d, %d) failed", op, c->fd);
        return PT_ERROR;
    }

    ev->active = 0;

    return PT_OK;
}


/* Registers a connection for both directions, once for its lifetime. */
static pt_int_t
pt_epoll_add_connection(pt_connection_t *c)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN|EPOLLOUT|EPOLLET|EPOLLRDHUP;
    ee.data.ptr = pt_epoll_tag(c, c->read);

    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        pt_log_error(PT_LOG_ALERT, c->log, pt_errno,
                     "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return PT_ERROR;
    }

    c->read->active = 1;
    c->write->active = 1;

    return PT_OK;
}


static pt_int_t
pt_epoll_del_connection(pt_connection_t *c, pt_uint_t flags)
{
    struct epoll_event  ee;

    if (!(flags & PT_CLOSE_EVENT) && (c->read->active || c->write->active)) {
        ee.events = 0;
        ee.data.ptr = NULL;

        if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
            pt_log_error(PT_LOG_ALERT, c->log, pt_errno,
                         "epoll_ctl(EPOLL_CTL_DEL, %d) failed", c->fd);
            return PT_ERROR;
        }
    }

    c->read->active = 0;
    c->write->active = 0;

    return PT_OK;
}


/* Hands a ready event to its handler now, or queues it when posting. */
static inline void
pt_epoll_dispatch(pt_event_t *ev, pt_uint_t flags)
{
    if (flags & PT_POST_EVENTS) {
        pt_post_event(ev, ev->accept ? &pt_posted_accept_events
                                     : &pt_posted_events);
    } else {
        ev->handler(ev);
    }
}


/* One pass over the reported events: those of upstream connections
 * (upstream == 1) or the others. */
static void
pt_epoll_dispatch_pass(int n, pt_uint_t flags, pt_uint_t upstream)
{
    int               i;
    uint32_t          revents;
    pt_uint_t         instance;
    pt_event_t       *rev, *wev;
    pt_connection_t  *c;

    for (i = 0; i < n; i++) {
        c = event_list[i].data.ptr;

        instance = (uintptr_t) c & 1;
        c = (pt_connection_t *) ((uintptr_t) c & (uintptr_t) ~1);

        rev = c->read;

        if (c->fd == -1 || rev->instance != instance) {
            continue;           /* stale: the slot was closed or reused */
        }

        if (c->upstream != upstream) {
            continue;
        }

        revents = event_list[i].events;

        if (revents & (EPOLLERR|EPOLLHUP)) {
            revents |= EPOLLIN|EPOLLOUT;
        }

        if ((revents & EPOLLIN) && rev->active) {
            if (revents & EPOLLRDHUP) {
                rev->pending_eof = 1;
            }

            rev->ready = 1;
            rev->available = -1;

            pt_epoll_dispatch(rev, flags);
        }

        wev = c->write;

        if ((revents & EPOLLOUT) && wev->active) {
            /* the read handler may have closed or reused the slot */
            if (c->fd == -1 || wev->instance != instance) {
                continue;
            }

            wev->ready = 1;

            pt_epoll_dispatch(wev, flags);
        }
    }
}


/*
 * Waits up to timer ms for events (PT_TIMER_INFINITE: until one arrives),
 * updates the cached clock when asked, and marks each reported event ready
 * before dispatching it.  Errors and hangups are reported as both read and
 * write readiness so the handlers meet the error in recv()/send().
 */
static pt_int_t
pt_epoll_process_events(pt_cycle_t *cycle, pt_msec_t timer, pt_uint_t flags)
{
    int               n;
    pt_err_t          err;
    sigset_t          wait_mask;

    /* The process keeps its handled signals blocked; the wait is the only
     * place they are delivered (see pt_worker.c). */
    sigemptyset(&wait_mask);

    n = epoll_pwait(ep, event_list, (int) nevents,
                    timer == PT_TIMER_INFINITE ? -1 : (int) timer, &wait_mask);

    err = (n == -1) ? pt_errno : 0;

    pt_log_debug(PT_LOG_DEBUG_EVENT, cycle->log, 0, "epoll: %d events, timer: %ld",
                 n, timer == PT_TIMER_INFINITE ? -1L : (long) timer);

    if (flags & PT_UPDATE_TIME) {
        pt_time_update();
    }

    if (err) {
        if (err == EINTR) {
            return PT_OK;       /* a signal arrived; the caller checks flags */
        }

        pt_log_error(PT_LOG_ALERT, cycle->log, err, "epoll_pwait() failed");
        return PT_ERROR;
    }

    if (n == 0) {
        if (timer != PT_TIMER_INFINITE) {
            return PT_OK;
        }

        pt_log_error(PT_LOG_ALERT, cycle->log, 0,
                     "epoll_wait() returned no events without timeout");
        return PT_ERROR;
    }

    /* Upstream connections first: a response read now returns its
     * keepalive connection to the cache before the client requests of the
     * same batch look for one, so fewer new upstream connections are
     * opened under load. */
    pt_epoll_dispatch_pass(n, flags, 1);
    pt_epoll_dispatch_pass(n, flags, 0);

    return PT_OK;
}


static void *
pt_epoll_create_conf(pt_cycle_t *cycle)
{
    pt_epoll_conf_t  *epcf;

    epcf = pt_palloc(cycle->pool, sizeof(pt_epoll_conf_t));
    if (epcf == NULL) {
        return NULL;
    }

    epcf->events = PT_CONF_UNSET_UINT;

    return epcf;
}


static char *
pt_epoll_init_conf(pt_cycle_t *cycle, void *conf)
{
    pt_epoll_conf_t  *epcf = conf;

    (void) cycle;

    pt_conf_init_uint_value(epcf->events, 512);

    if (epcf->events == 0) {
        epcf->events = 1;
    }

    return PT_CONF_OK;
}
