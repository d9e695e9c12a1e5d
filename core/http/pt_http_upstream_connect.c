/*
 * pt_http_upstream_connect.c: a nonblocking connect to the peer a balancer
 * chose.
 *
 * The socket is registered with epoll (both directions, edge-triggered)
 * before connect() is called, so the write event that reports the end of
 * an in-progress connect cannot be missed.  Whether it succeeded is read
 * with SO_ERROR when that event comes.
 */

#include "pt_http.h"

static pt_int_t
pt_http_upstream_connect_failed(pt_peer_connection_t *pc, pt_connection_t *c,
    pt_err_t err)
{
    pt_uint_t  level;

    /* nginx's levels: a refused or unreachable peer is an error of the
     * request, anything odd is critical */
    switch (err) {
    case ECONNREFUSED:
    case EAGAIN:
    case ECONNRESET:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENOENT:            /* unix socket path */
    case EADDRNOTAVAIL:
        level = PT_LOG_ERR;
        break;
    default:
        level = PT_LOG_CRIT;
    }

    pt_log_error(level, pc->log, err, "connect() to " PT_STR_FMT " failed",
                 PT_STR_ARG(*pc->name));

    pt_http_upstream_close_connection(c);
    pc->connection = NULL;

    return PT_DECLINED;
}

/*
 * The socket options that must precede connect(): SO_KEEPALIVE
 * (proxy_socket_keepalive), and proxy_bind's local address.  A failed
 * option is logged and ignored, as nginx does; a failed bind() fails the
 * connection (PT_ERROR).
 */
static pt_int_t
pt_http_upstream_socket_options(pt_peer_connection_t *pc, pt_socket_t s)
{
    int  one, level, option;

    one = 1;

    if (pc->so_keepalive
        && setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(int)) == -1)
    {
        pt_log_error(PT_LOG_ALERT, pc->log, pt_socket_errno,
                     "setsockopt(SO_KEEPALIVE) failed, ignored");
    }

    if (pc->local == NULL) {
        return PT_OK;
    }

    if (pc->transparent) {
        /* needs CAP_NET_ADMIN; without it the bind() below fails for a
         * non-local address and says so */
        level = (pc->local->sockaddr->sa_family == AF_INET6) ? IPPROTO_IPV6 : IPPROTO_IP;
        option = (level == IPPROTO_IPV6) ? IPV6_TRANSPARENT : IP_TRANSPARENT;

        if (setsockopt(s, level, option, &one, sizeof(int)) == -1) {
            pt_log_error(PT_LOG_ALERT, pc->log, pt_socket_errno,
                         "setsockopt(IP_TRANSPARENT) failed, ignored");
        }

    } else if (pt_inet_get_port(pc->local->sockaddr) == 0) {
        /* the kernel picks the port at connect() with the destination
         * known, so many upstream connections can share one address */
#ifdef IP_BIND_ADDRESS_NO_PORT
        (void) setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(int));
#endif
    }

    if (bind(s, pc->local->sockaddr, pc->local->socklen) == -1) {
        pt_log_error(PT_LOG_CRIT, pc->log, pt_socket_errno, "bind(" PT_STR_FMT ") failed",
                     PT_STR_ARG(pc->local->name));
        return PT_ERROR;
    }

    return PT_OK;
}

pt_int_t
pt_http_upstream_connect_peer(pt_peer_connection_t *pc)
{
    int               rc, type;
    pt_int_t          grc;
    pt_err_t          err;
    pt_socket_t       s;
    pt_connection_t  *c;

    grc = pc->get(pc, pc->data);

    if (grc != PT_OK) {
        return grc;
    }

    type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;

    s = socket(pc->sockaddr->sa_family, type, 0);

    if (s == (pt_socket_t) -1) {
        pt_log_error(PT_LOG_ALERT, pc->log, pt_socket_errno, "socket() failed");
        return PT_ERROR;
    }

    if (pt_http_upstream_socket_options(pc, s) != PT_OK) {
        (void) close(s);
        return PT_ERROR;
    }

    c = pt_get_connection(s, pc->log);

    if (c == NULL) {
        (void) close(s);
        return PT_ERROR;
    }

    c->type = SOCK_STREAM;
    c->upstream = 1;
    c->recv = pt_unix_recv;
    c->send = pt_unix_send;
    c->send_chain = pt_linux_sendfile_chain;
    c->sendfile = 1;
    c->log_error = PT_ERROR_ERR;
    c->number = pt_next_connection_number();
    c->start_time = pt_current_msec;

    if (pc->sockaddr->sa_family == AF_UNIX) {
        c->tcp_nodelay = PT_TCP_NODELAY_DISABLED;
    }

    pc->connection = c;

    if (pt_add_conn(c) != PT_OK) {
        pt_http_upstream_close_connection(c);
        pc->connection = NULL;
        return PT_ERROR;
    }

    if (pc->tcp_nodelay && pc->sockaddr->sa_family != AF_UNIX) {
        (void) pt_tcp_nodelay(c);
    }

    rc = connect(s, pc->sockaddr, pc->socklen);

    if (rc == -1) {
        err = pt_socket_errno;

        if (err != EINPROGRESS) {
            return pt_http_upstream_connect_failed(pc, c, err);
        }

        /* the write event reports the end of the connect */
        c->write->ready = 0;
        c->read->ready = 0;

        return PT_AGAIN;
    }

    /* connected at once (a local or unix peer) */
    c->write->ready = 1;

    return PT_OK;
}

void
pt_http_upstream_close_connection(pt_connection_t *c)
{
#if (PT_HAVE_OPENSSL)
    if (c->ssl) {
        /* frees the TLS state and the pool it made for the connection */
        pt_ssl_close(c);
    }
#endif

    pt_close_connection(c);
}

pt_int_t
pt_http_upstream_test_connect(pt_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = pt_socket_errno;
    }

    if (err) {
        c->log->action = "connecting to upstream";
        (void) pt_connection_error(c, err, "connect() failed");
        return PT_ERROR;
    }

    return PT_OK;
}
