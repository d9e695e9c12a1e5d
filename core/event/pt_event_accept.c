/*
 * pt_event_accept.c: accepting new connections.
 *
 * Listening sockets are registered level-triggered.  Each worker accepts
 * on its own SO_REUSEPORT socket, so the kernel has already decided which
 * worker gets a connection and there is no herd to avoid.  Level
 * triggering lets multi_accept keep nginx's meaning without losing
 * connections:
 *
 *   multi_accept off (default)  one accept4() per readiness report; epoll
 *                               reports the socket again on the next pass
 *                               while its queue is not empty, so accepts are
 *                               interleaved with I/O on existing connections
 *                               and a burst of connects cannot starve them;
 *   multi_accept on             accept4() until EAGAIN, for connection-heavy
 *                               loads (fewer epoll_wait() calls per accept).
 *
 * (With edge triggering the queue would have to be drained on every report
 * or re-armed by hand, which makes "one per event" impossible.)
 *
 * When the process runs out of descriptors (EMFILE/ENFILE) accepting is
 * paused for accept_mutex_delay (500 ms) by taking the listeners out of
 * epoll; otherwise a level-triggered socket with a full queue would spin.
 */

#include "portico.h"

static void pt_event_init_accepted(pt_connection_t *lc, pt_socket_t s,
    pt_sockaddr_t *sa, socklen_t socklen);
static void pt_event_accept_failed(pt_event_t *ev, pt_err_t err,
    pt_event_conf_t *ecf);
static pt_int_t pt_event_set_accepted(pt_connection_t *c, pt_listening_t *ls,
    pt_sockaddr_t *sa, socklen_t socklen);
static void pt_close_accepted_connection(pt_connection_t *c);


void
pt_event_accept(pt_event_t *ev)
{
    socklen_t          socklen;
    pt_err_t           err;
    pt_cycle_t        *cycle;
    pt_socket_t        s;
    pt_sockaddr_t      sa;
    pt_event_conf_t   *ecf;
    pt_connection_t   *lc;

    cycle = (pt_cycle_t *) pt_cycle;
    ecf = pt_event_get_conf(cycle->conf_ctx, pt_event_core_module);

    if (ev->timedout) {
        /* the pause after EMFILE is over */
        if (pt_enable_accept_events(cycle) != PT_OK) {
            return;
        }
        ev->timedout = 0;
    }

    lc = ev->data;

    for ( ;; ) {
        socklen = sizeof(pt_sockaddr_t);

        s = accept4(lc->fd, &sa.sockaddr, &socklen,
                    SOCK_NONBLOCK|SOCK_CLOEXEC);

        if (s == -1) {
            err = pt_socket_errno;

            if (err == EAGAIN) {
                ev->ready = 0;
                return;
            }

            if (err == EINTR) {
                continue;
            }

            if (err == ECONNABORTED) {
                /* the client gave up while queued */
                pt_log_error(PT_LOG_ERR, ev->log, err, "accept4() failed");

                if (ecf->multi_accept) {
                    continue;
                }
                return;
            }

            pt_event_accept_failed(ev, err, ecf);
            return;
        }

        pt_event_init_accepted(lc, s, &sa, socklen);

        if (!ecf->multi_accept) {
            return;
        }
    }
}


/*
 * accept4() failed with something other than EAGAIN.  Running out of
 * descriptors or memory pauses accepting for a while (the connections stay
 * queued in the kernel); anything else is unexpected.
 */
static void
pt_event_accept_failed(pt_event_t *ev, pt_err_t err, pt_event_conf_t *ecf)
{
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
        pt_log_error(PT_LOG_ALERT, ev->log, err, "accept4() failed");
        return;
    }

    pt_log_error(PT_LOG_CRIT, ev->log, err, "accept4() failed");

    if (pt_disable_accept_events((pt_cycle_t *) pt_cycle) != PT_OK) {
        return;
    }

    /* pt_event_accept() sees ev->timedout and resumes accepting */
    ev->cancelable = 1;
    pt_event_add_timer(ev, ecf->accept_mutex_delay);
}


/*
 * Sets up an accepted socket: a connection slot and its pool, registers it
 * with epoll once and hands it to the protocol.  Without a free slot the
 * socket is closed (the client sees the connection closed) and the worker
 * keeps running.
 */
static void
pt_event_init_accepted(pt_connection_t *lc, pt_socket_t s, pt_sockaddr_t *sa,
    socklen_t socklen)
{
    pt_listening_t   *ls;
    pt_connection_t  *c;

    ls = lc->listening;

    c = pt_get_connection(s, lc->log);

    if (c == NULL) {
        if (close(s) == -1) {
            pt_log_error(PT_LOG_ALERT, lc->log, pt_socket_errno,
                         "close() socket failed");
        }
        return;
    }

    c->pool = pt_create_pool_cached(ls->pool_size, lc->log);

    if (c->pool == NULL
        || pt_event_set_accepted(c, ls, sa, socklen) != PT_OK
        || pt_add_conn(c) != PT_OK)
    {
        pt_close_accepted_connection(c);
        return;
    }

    pt_log_debug(PT_LOG_DEBUG_EVENT, c->log, 0, "accept: " PT_STR_FMT " fd:%d",
                 PT_STR_ARG(c->addr_text), c->fd);

    ls->handler(c);
}


/*
 * Fills in an accepted connection: the peer address (and its text when
 * the listener wants it), the plain-socket I/O functions, and a log of its
 * own that carries the connection number.
 */
static pt_int_t
pt_event_set_accepted(pt_connection_t *c, pt_listening_t *ls,
    pt_sockaddr_t *sa, socklen_t socklen)
{
    pt_log_t  *log;

    if (socklen > (socklen_t) sizeof(pt_sockaddr_t)) {
        socklen = sizeof(pt_sockaddr_t);
    }

    c->sockaddr = pt_palloc(c->pool, socklen);
    log = pt_palloc(c->pool, sizeof(pt_log_t));

    if (c->sockaddr == NULL || log == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(c->sockaddr, sa, socklen);
    c->socklen = socklen;

    *log = ls->log;
    log->connection = c->number = pt_next_connection_number();
    log->handler = NULL;        /* the protocol sets its own context */
    log->data = NULL;

    c->log = log;
    c->pool->log = log;
    c->read->log = log;
    c->write->log = log;

    c->type = SOCK_STREAM;
    c->recv = pt_unix_recv;
    c->send = pt_unix_send;
    c->send_chain = pt_linux_sendfile_chain;

    c->listening = ls;
    c->local_sockaddr = ls->sockaddr;
    c->local_socklen = ls->socklen;
    c->log_error = PT_ERROR_INFO;
    c->start_time = pt_current_msec;

    /* a new socket can be written at once; with TCP_DEFER_ACCEPT the
     * request is already in the socket too */
    c->write->ready = 1;

    if (ls->deferred_accept) {
        c->read->ready = 1;
    }

    if (ls->addr_ntop) {
        c->addr_text.data = pt_pnalloc(c->pool, ls->addr_text_max_len);
        if (c->addr_text.data == NULL) {
            return PT_ERROR;
        }

        c->addr_text.len = pt_sock_ntop(c->sockaddr, c->socklen,
                                        c->addr_text.data,
                                        ls->addr_text_max_len, 0);
    }

    return PT_OK;
}


static void
pt_close_accepted_connection(pt_connection_t *c)
{
    pt_pool_t  *pool;

    pool = c->pool;
    c->pool = NULL;

    pt_close_connection(c);

    if (pool) {
        pt_destroy_pool(pool);
    }
}
