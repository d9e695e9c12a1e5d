/*
 * pt_connection.h: listening sockets and connections.
 *
 * Every listen address gets one SO_REUSEPORT socket per worker (the
 * "worker" field says whose); the master holds all of them so a respawned
 * worker, a reloaded cycle or an upgraded binary takes over the same
 * sockets and their accept queues without binding again.
 */

#ifndef PT_CONNECTION_H
#define PT_CONNECTION_H

struct pt_listening_s {
    pt_socket_t          fd;

    struct sockaddr     *sockaddr;
    socklen_t            socklen;
    size_t               addr_text_max_len;
    pt_str_t             addr_text;     /* "127.0.0.1:8080" */

    int                  type;          /* SOCK_STREAM */
    int                  backlog;
    int                  rcvbuf;        /* -1: leave the system default */
    int                  sndbuf;
    int                  keepalive;

    pt_connection_handler_pt  handler;  /* called for each accepted conn */
    void                *servers;       /* protocol's per-address data */

    pt_log_t             log;
    pt_log_t            *logp;
    size_t               pool_size;     /* connection pool size */
    pt_msec_t            post_accept_timeout;

    pt_listening_t      *previous;      /* same address in the old cycle */
    pt_connection_t     *connection;    /* the accept "connection" */

    pt_uint_t            worker;        /* the slot that accepts on it */

    unsigned             open:1;
    unsigned             remain:1;      /* keep across the cycle swap */
    unsigned             ignore:1;      /* not ours; do not close */
    unsigned             bound:1;
    unsigned             inherited:1;   /* from a binary upgrade */
    unsigned             listen:1;
    unsigned             nonblocking:1;
    unsigned             shared:1;
    unsigned             addr_ntop:1;   /* fill c->addr_text on accept */
    unsigned             wildcard:1;
    unsigned             ipv6only:1;
    unsigned             deferred_accept:1;
    unsigned             add_deferred:1;
    unsigned             reuseport:1;
};

typedef enum {
    PT_ERROR_ALERT = 0,
    PT_ERROR_ERR,
    PT_ERROR_INFO,
    PT_ERROR_IGNORE_ECONNRESET,
    PT_ERROR_IGNORE_EINVAL
} pt_connection_log_error_e;

typedef enum {
    PT_TCP_NODELAY_UNSET = 0,
    PT_TCP_NODELAY_SET,
    PT_TCP_NODELAY_DISABLED
} pt_connection_tcp_nodelay_e;

typedef enum {
    PT_TCP_NOPUSH_UNSET = 0,
    PT_TCP_NOPUSH_SET,
    PT_TCP_NOPUSH_DISABLED
} pt_connection_tcp_nopush_e;

typedef ssize_t (*pt_recv_pt)(pt_connection_t *c, u_char *buf, size_t size);
typedef ssize_t (*pt_send_pt)(pt_connection_t *c, u_char *buf, size_t size);
/* Sends as much of in as the socket takes, at most limit bytes (0: no
 * limit); returns the first unsent link, NULL when all was sent, or
 * PT_CHAIN_ERROR. */
typedef pt_chain_t *(*pt_send_chain_pt)(pt_connection_t *c, pt_chain_t *in,
    off_t limit);

#define PT_CHAIN_ERROR  (pt_chain_t *) PT_ERROR

struct pt_connection_s {
    void                *data;          /* protocol state (http connection) */
    pt_event_t          *read;
    pt_event_t          *write;

    pt_socket_t          fd;

    pt_recv_pt           recv;
    pt_send_pt           send;
    pt_send_chain_pt     send_chain;

    pt_listening_t      *listening;

    off_t                sent;

    pt_log_t            *log;
    pt_pool_t           *pool;

    int                  type;

    struct sockaddr     *sockaddr;
    socklen_t            socklen;
    pt_str_t             addr_text;

    struct sockaddr     *local_sockaddr;
    socklen_t            local_socklen;

    pt_buf_t            *buffer;

    pt_queue_t           queue;         /* reusable (idle) connections */

    pt_atomic_uint_t     number;        /* the "*N" in log lines */
    pt_msec_t            start_time;
    pt_uint_t            requests;

    pt_ssl_connection_t *ssl;           /* TLS state, NULL: plain */

    unsigned             buffered:8;
    unsigned             log_error:3;   /* pt_connection_log_error_e */
    unsigned             timedout:1;
    unsigned             error:1;
    unsigned             destroyed:1;
    unsigned             idle:1;        /* keepalive, between requests */
    unsigned             reusable:1;
    unsigned             close:1;       /* drain: finish and close */
    unsigned             shared:1;
    unsigned             sendfile:1;
    unsigned             sndlowat:1;
    unsigned             tcp_nodelay:2;
    unsigned             tcp_nopush:2;
    unsigned             need_last_buf:1;
    unsigned             upstream:1;    /* to a peer: dispatched first */
};

/* Registers a listen address in the configuration being parsed. */
pt_listening_t *pt_create_listening(pt_conf_t *cf, struct sockaddr *sockaddr,
    socklen_t socklen);
/* Makes one copy of ls per extra worker (worker = 1 .. n-1). */
pt_int_t pt_clone_listening(pt_cycle_t *cycle, pt_listening_t *ls);
/* Builds cycle->listening from the PORTICO environment variable. */
pt_int_t pt_set_inherited_sockets(pt_cycle_t *cycle);
/* Matches the new cycle's sockets to the old cycle's by (address, worker)
 * and takes over their fds (ls->previous, old->remain). */
pt_int_t pt_listening_inherit_from(pt_cycle_t *cycle, pt_cycle_t *old_cycle);
/* Closes the old cycle's sockets that the new cycle did not take over. */
void pt_listening_close_unused(pt_cycle_t *old_cycle);
/* Binds what is new; refuses an address that something else listens on. */
pt_int_t pt_open_listening_sockets(pt_cycle_t *cycle);
void pt_configure_listening_sockets(pt_cycle_t *cycle);
void pt_close_listening_sockets(pt_cycle_t *cycle);

pt_connection_t *pt_get_connection(pt_socket_t s, pt_log_t *log);
void pt_free_connection(pt_connection_t *c);
/* Cancels timers and posted events, closes the socket and frees the slot.
 * It does not destroy c->pool: the protocol does that afterwards. */
void pt_close_connection(pt_connection_t *c);
/* Marks c as idle (in the reusable queue) or busy. */
void pt_reusable_connection(pt_connection_t *c, pt_uint_t reusable);
/* On graceful shutdown: give every idle connection a short grace timer and
 * set c->close, so a request already on its way is still answered. */
void pt_drain_idle_connections(pt_cycle_t *cycle, pt_msec_t grace);
/* Number of connections in use, listening ones excluded. */
pt_uint_t pt_active_connections(pt_cycle_t *cycle);
pt_int_t pt_connection_local_sockaddr(pt_connection_t *c, pt_str_t *s,
    pt_uint_t port);
pt_int_t pt_tcp_nodelay(pt_connection_t *c);
pt_int_t pt_connection_error(pt_connection_t *c, pt_err_t err, char *text);

/* Plain socket I/O (Linux). */
ssize_t pt_unix_recv(pt_connection_t *c, u_char *buf, size_t size);
ssize_t pt_unix_send(pt_connection_t *c, u_char *buf, size_t size);
pt_chain_t *pt_writev_chain(pt_connection_t *c, pt_chain_t *in, off_t limit);
pt_chain_t *pt_linux_sendfile_chain(pt_connection_t *c, pt_chain_t *in,
    off_t limit);

/* Connection numbers ("*N" in log lines) are unique across all workers:
 * the counter lives in a shared page the master maps once at startup
 * (pt_connection_counter_init); before that it points at a local word. */
extern pt_atomic_uint_t  *pt_connection_counter;

pt_int_t pt_connection_counter_init(pt_log_t *log);

static inline pt_uint_t
pt_next_connection_number(void)
{
    return __atomic_fetch_add(pt_connection_counter, 1, __ATOMIC_RELAXED);
}

#endif /* PT_CONNECTION_H */
