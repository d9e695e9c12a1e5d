/*
 * pt_http_upstream.h: the upstream framework, shared by every module that
 * forwards a request to another server (proxy today; fastcgi, grpc later).
 *
 * The pieces, and the file of each:
 *
 *   pt_http_upstream.c            a request's life with its upstream: init,
 *                                 connect, send the request, read the head,
 *                                 retry on the next peer, finalize
 *   pt_http_upstream_request.c    writing the request: a fresh copy per
 *                                 try, a streamed body, TLS first for https
 *   pt_http_upstream_conf.c       the module: "upstream {}", "server",
 *                                 implicit upstreams, hidden headers,
 *                                 next_upstream masks
 *   pt_http_upstream_connect.c    nonblocking connect of a peer
 *   pt_http_upstream_headers.c    the upstream's head into headers_out
 *   pt_http_upstream_body.c       the response body: buffered (with
 *                                 temp-file spill), unbuffered, and the
 *                                 two-way tunnel after "101"
 *   pt_http_upstream_variables.c  $upstream_addr, $upstream_status, ...
 *   pt_http_upstream_round_robin.c  the default balancer and passive health
 *
 * A protocol module (pt_http_proxy_module) creates r->upstream, fills in
 * its hooks (create_request, process_header, input_filter, ...) and its
 * conf, and calls pt_http_upstream_init().  Balancer modules plug in
 * through pt_http_upstream_peer_t: init_upstream at config time, init per
 * request, then get/free on the peer connection for every try.
 */

#ifndef PT_HTTP_UPSTREAM_H
#define PT_HTTP_UPSTREAM_H

/* Failure types: the "next_upstream" mask bits, and what a try ended with. */
#define PT_HTTP_UPSTREAM_FT_ERROR           0x00000002
#define PT_HTTP_UPSTREAM_FT_TIMEOUT         0x00000004
#define PT_HTTP_UPSTREAM_FT_INVALID_HEADER  0x00000008
#define PT_HTTP_UPSTREAM_FT_HTTP_500        0x00000010
#define PT_HTTP_UPSTREAM_FT_HTTP_502        0x00000020
#define PT_HTTP_UPSTREAM_FT_HTTP_503        0x00000040
#define PT_HTTP_UPSTREAM_FT_HTTP_504        0x00000080
#define PT_HTTP_UPSTREAM_FT_HTTP_403        0x00000100
#define PT_HTTP_UPSTREAM_FT_HTTP_404        0x00000200
#define PT_HTTP_UPSTREAM_FT_HTTP_429        0x00000400
#define PT_HTTP_UPSTREAM_FT_NON_IDEMPOTENT  0x00004000
#define PT_HTTP_UPSTREAM_FT_NOLIVE          0x40000000
#define PT_HTTP_UPSTREAM_FT_OFF             0x80000000

#define PT_HTTP_UPSTREAM_FT_STATUS  (PT_HTTP_UPSTREAM_FT_HTTP_500              \
                                     |PT_HTTP_UPSTREAM_FT_HTTP_502             \
                                     |PT_HTTP_UPSTREAM_FT_HTTP_503             \
                                     |PT_HTTP_UPSTREAM_FT_HTTP_504             \
                                     |PT_HTTP_UPSTREAM_FT_HTTP_403             \
                                     |PT_HTTP_UPSTREAM_FT_HTTP_404             \
                                     |PT_HTTP_UPSTREAM_FT_HTTP_429)

/* "ignore_headers" bits: response fields the upstream code would act on. */
#define PT_HTTP_UPSTREAM_IGN_XA_REDIRECT    0x00000002
#define PT_HTTP_UPSTREAM_IGN_XA_EXPIRES     0x00000004
#define PT_HTTP_UPSTREAM_IGN_EXPIRES        0x00000008
#define PT_HTTP_UPSTREAM_IGN_CACHE_CONTROL  0x00000010
#define PT_HTTP_UPSTREAM_IGN_SET_COOKIE     0x00000020
#define PT_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE  0x00000040
#define PT_HTTP_UPSTREAM_IGN_XA_BUFFERING   0x00000080
#define PT_HTTP_UPSTREAM_IGN_XA_CHARSET     0x00000100
#define PT_HTTP_UPSTREAM_IGN_VARY           0x00000200

/* process_header's verdict on a head it cannot accept. */
#define PT_HTTP_UPSTREAM_INVALID_HEADER     40

/* ---- peers ---- */

/* free() states: how the try with this peer ended. */
#define PT_PEER_KEEPALIVE   1
#define PT_PEER_NEXT        2       /* not the peer's fault (403, 404) */
#define PT_PEER_FAILED      4

typedef struct pt_peer_connection_s  pt_peer_connection_t;

/* get(): PT_OK with sockaddr/name set (connect to it), PT_DONE with a
 * cached connection in pc->connection, PT_BUSY when no peer is live. */
typedef pt_int_t (*pt_peer_get_pt)(pt_peer_connection_t *pc, void *data);
typedef void (*pt_peer_free_pt)(pt_peer_connection_t *pc, void *data,
    pt_uint_t state);

struct pt_peer_connection_s {
    pt_connection_t      *connection;

    struct sockaddr      *sockaddr;
    socklen_t             socklen;
    pt_str_t             *name;

    pt_uint_t             tries;        /* tries left, the current included */
    pt_msec_t             start_time;   /* of the first try */

    pt_peer_get_pt        get;
    pt_peer_free_pt       free;
    void                 *data;

    pt_log_t             *log;

    unsigned              cached:1;     /* connection from the keepalive cache */
    unsigned              no_cache:1;   /* a cached one failed: fresh only */
    unsigned              tcp_nodelay:1;
    unsigned              so_keepalive:1;   /* proxy_socket_keepalive */
    unsigned              transparent:1;    /* proxy_bind ... transparent */

    pt_addr_t            *local;        /* proxy_bind: bind() before connect() */
};

/* Takes a peer from pc->get and starts a nonblocking connect.  PT_OK:
 * connected; PT_AGAIN: in progress (write event); PT_DONE: a cached
 * connection; PT_BUSY: no live peer; PT_DECLINED: this peer failed at
 * once (logged); PT_ERROR. */
pt_int_t pt_http_upstream_connect_peer(pt_peer_connection_t *pc);
/* Closes an upstream connection (its TLS first, if any). */
void pt_http_upstream_close_connection(pt_connection_t *c);
/* After the write event of a connect: PT_OK or PT_ERROR (logged). */
pt_int_t pt_http_upstream_test_connect(pt_connection_t *c);

/* ---- upstream pools ---- */

typedef struct pt_http_upstream_srv_conf_s  pt_http_upstream_srv_conf_t;

typedef pt_int_t (*pt_http_upstream_init_pt)(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
typedef pt_int_t (*pt_http_upstream_init_peer_pt)(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);

typedef struct {
    pt_http_upstream_init_pt        init_upstream;  /* config time */
    pt_http_upstream_init_peer_pt   init;           /* per request */
    void                           *data;           /* the balancer's peers */
} pt_http_upstream_peer_t;

/* One "server" line: all addresses of its name become peers. */
typedef struct {
    pt_str_t                 name;
    pt_addr_t               *addrs;
    pt_uint_t                naddrs;
    pt_uint_t                weight;
    pt_uint_t                max_conns;
    pt_uint_t                max_fails;
    time_t                   fail_timeout;

    unsigned                 down:1;
    unsigned                 backup:1;
} pt_http_upstream_server_t;

/* The "server" parameters the group's balancer accepts. */
#define PT_HTTP_UPSTREAM_CREATE        0x0001
#define PT_HTTP_UPSTREAM_WEIGHT        0x0002
#define PT_HTTP_UPSTREAM_MAX_FAILS     0x0004
#define PT_HTTP_UPSTREAM_FAIL_TIMEOUT  0x0008
#define PT_HTTP_UPSTREAM_DOWN          0x0010
#define PT_HTTP_UPSTREAM_BACKUP        0x0020
#define PT_HTTP_UPSTREAM_MAX_CONNS     0x0100

struct pt_http_upstream_srv_conf_s {
    pt_http_upstream_peer_t     peer;
    void                      **srv_conf;   /* the modules' confs of upstream {} */

    pt_array_t                 *servers;    /* of pt_http_upstream_server_t */

    pt_uint_t                   flags;
    pt_str_t                    host;       /* the group's name */
    u_char                     *file_name;
    pt_uint_t                   line;
    in_port_t                   port;
    pt_uint_t                   no_port;

    pt_shm_zone_t              *shm_zone;   /* "zone": shared peer state */
};

typedef struct {
    pt_array_t                  upstreams;  /* of pt_http_upstream_srv_conf_t * */
} pt_http_upstream_main_conf_t;

/* Module confs inside an upstream {} block. */
#define pt_http_conf_upstream_srv_conf(uscf, module)                        \
    (uscf)->srv_conf[module.ctx_index]

/* ---- per-location settings (part of the protocol module's loc conf) ---- */

typedef struct {
    pt_str_t                    name;       /* lower case */
    pt_uint_t                   hash;
} pt_http_upstream_hide_t;

/* proxy_bind: a fixed local address, or one evaluated per request. */
typedef struct {
    pt_addr_t                  *addr;
    pt_http_complex_value_t    *value;
    unsigned                    transparent:1;
} pt_http_upstream_local_t;

typedef struct {
    pt_http_upstream_srv_conf_t  *upstream;

    pt_msec_t                   connect_timeout;
    pt_msec_t                   send_timeout;
    pt_msec_t                   read_timeout;
    pt_msec_t                   next_upstream_timeout;

    size_t                      buffer_size;
    size_t                      busy_buffers_size;
    size_t                      busy_buffers_size_conf;
    off_t                       max_temp_file_size;
    off_t                       max_temp_file_size_conf;
    size_t                      temp_file_write_size;
    size_t                      temp_file_write_size_conf;
    pt_bufs_t                   bufs;

    pt_uint_t                   ignore_headers;
    pt_uint_t                   next_upstream;
    pt_uint_t                   next_upstream_tries;

    pt_flag_t                   buffering;
    pt_flag_t                   request_buffering;
    pt_flag_t                   pass_request_headers;
    pt_flag_t                   pass_request_body;
    pt_flag_t                   ignore_client_abort;
    pt_flag_t                   intercept_errors;

    pt_path_t                  *temp_path;

    pt_array_t                 *hide_headers;   /* as configured, of pt_str_t */
    pt_array_t                 *pass_headers;   /* as configured, of pt_str_t */
    pt_array_t                 *hide;           /* effective, of pt_http_upstream_hide_t */

    pt_str_t                    module;     /* "proxy", for messages */

    pt_http_upstream_local_t   *local;          /* proxy_bind; NULL: off */
    pt_flag_t                   socket_keepalive;

    size_t                      limit_rate;     /* proxy_limit_rate; 0: none */
} pt_http_upstream_conf_t;

/* proxy_bind address [transparent] | off (pt_http_upstream_bind.c):
 * the setter, for a pt_http_upstream_local_t * at cmd->offset (starts as
 * PT_CONF_UNSET_PTR), and its per-request evaluation into u->peer. */
char *pt_http_upstream_bind_set_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);


/* ---- per request ---- */

/* One try, for the $upstream_* variables.  A state with peer == NULL
 * separates the tries of two upstream groups (" : " in the lists). */
typedef struct {
    pt_uint_t                   status;
    pt_msec_t                   response_time;
    pt_msec_t                   connect_time;   /* (pt_msec_t) -1: none */
    pt_msec_t                   header_time;    /* (pt_msec_t) -1: none */
    off_t                       response_length;
    off_t                       bytes_received;
    off_t                       bytes_sent;
    pt_str_t                   *peer;
} pt_http_upstream_state_t;

/* The upstream's response head, as the protocol module parsed it.  Header
 * strings point into u->buffer, which is never reused for body bytes. */
typedef struct {
    pt_list_t                   headers;    /* of pt_http_header_t */

    pt_uint_t                   status_n;
    pt_str_t                    status_line;

    pt_http_header_t           *content_length;
    pt_http_header_t           *transfer_encoding;
    pt_http_header_t           *connection;
    pt_http_header_t           *location;
    pt_http_header_t           *x_accel_buffering;

    off_t                       content_length_n;   /* -1: none */

    unsigned                    chunked:1;
    unsigned                    connection_close:1;
    unsigned                    http_10:1;
} pt_http_upstream_headers_in_t;

/* A proxy_pass with variables that named an address, not a group. */
typedef struct {
    pt_str_t                    host;
    in_port_t                   port;
    pt_uint_t                   no_port;
    struct sockaddr            *sockaddr;
    socklen_t                   socklen;
    pt_str_t                    name;
} pt_http_upstream_resolved_t;

/* Response body forwarding state (pt_http_upstream_body.c). */
typedef struct pt_http_upstream_pipe_s  pt_http_upstream_pipe_t;

typedef struct pt_http_upstream_s  pt_http_upstream_t;

typedef void (*pt_http_upstream_handler_pt)(pt_http_request_t *r,
    pt_http_upstream_t *u);

struct pt_http_upstream_s {
    pt_http_upstream_handler_pt     read_event_handler;
    pt_http_upstream_handler_pt     write_event_handler;

    pt_peer_connection_t            peer;

    pt_http_upstream_conf_t        *conf;
    pt_http_upstream_srv_conf_t    *upstream;
    pt_http_upstream_resolved_t    *resolved;

    pt_http_upstream_headers_in_t   headers_in;
    pt_http_upstream_state_t       *state;

    /* The head of the response; later body bytes go to other buffers. */
    pt_buf_t                        buffer;

    /* The request as created once; every try sends a fresh copy of its
     * buffers (request_out), so a retry starts from the first byte. */
    pt_chain_t                     *request_bufs;
    pt_chain_t                     *request_out;

    off_t                           length;     /* body bytes due; -1: to close */
    pt_msec_t                       start_time; /* of the current try */

    pt_http_upstream_pipe_t        *pipe;

    /* ---- the protocol module's hooks ---- */

    pt_int_t                      (*create_request)(pt_http_request_t *r);
    pt_int_t                      (*reinit_request)(pt_http_request_t *r);
    /* PT_OK: head complete; PT_AGAIN; PT_HTTP_UPSTREAM_INVALID_HEADER;
     * PT_ERROR. */
    pt_int_t                      (*process_header)(pt_http_request_t *r);
    void                          (*finalize_request)(pt_http_request_t *r,
                                      pt_int_t rc);
    /* After the head: sets u->length and the framing of the body. */
    pt_int_t                      (*input_filter_init)(pt_http_request_t *r);
    /* Decodes the new bytes [start, b->last) in place: on return
     * [start, b->last) holds body data only (a transfer coding removed,
     * bytes past the end dropped).  Sets u->length to 0 at the end of the
     * body.  PT_OK or PT_ERROR (an invalid body, logged). */
    pt_int_t                      (*input_filter)(pt_http_request_t *r,
                                      pt_buf_t *b, u_char *start);
    /* Rewrites a Location/Refresh value (proxy_redirect); PT_OK when it
     * changed, PT_DECLINED when not, PT_ERROR. */
    pt_int_t                      (*rewrite_redirect)(pt_http_request_t *r,
                                      pt_http_header_t *h, size_t prefix);
    /* Rewrites a Set-Cookie value (proxy_cookie_domain, _path, _flags);
     * PT_OK when it changed, PT_DECLINED when not, PT_ERROR. */
    pt_int_t                      (*rewrite_cookie)(pt_http_request_t *r,
                                      pt_http_header_t *h);

    pt_str_t                        schema;     /* "http://" */
    pt_str_t                        uri;        /* for "upstream:" in logs */

    unsigned                        buffering:1;
    unsigned                        keepalive:1;    /* connection reusable */
    unsigned                        upgrade:1;
    unsigned                        request_sent:1;
    unsigned                        request_body_sent:1;
    unsigned                        header_sent:1;
    unsigned                        body_started:1; /* bytes went to the client */
    unsigned                        finalized:1;
    unsigned                        request_chunked:1;  /* streamed body, chunked */
    unsigned                        request_body_done:1;
    unsigned                        ssl:1;          /* https:// (http_ssl) */
};

#define PT_HTTP_UPSTREAM_TAG  ((pt_buf_tag_t) &pt_http_upstream_module)

/* ---- the API ---- */

/* Creates r->upstream (a previous one is cleaned up). */
pt_int_t pt_http_upstream_create(pt_http_request_t *r);
/* Starts the upstream part of r: every hook and u->conf must be set.
 * The caller has taken a reference on r (r->main->count++). */
void pt_http_upstream_init(pt_http_request_t *r);

/* The group for a config URL: an existing upstream {} of that name, or a
 * new implicit group (flags 0) for an address.  NULL on error (logged). */
pt_http_upstream_srv_conf_t *pt_http_upstream_add(pt_conf_t *cf, pt_url_t *u,
    pt_uint_t flags);
/* Merges the hide/pass header lists of a location (hide: the default
 * hidden names of the protocol module, ended by an empty string). */
pt_int_t pt_http_upstream_hide_headers_merge(pt_conf_t *cf,
    pt_http_upstream_conf_t *conf, pt_http_upstream_conf_t *prev,
    pt_str_t *default_hide);
/* The explicit group named host, for proxy_pass with variables. */
pt_http_upstream_srv_conf_t *pt_http_upstream_find(pt_http_request_t *r,
    pt_str_t *host, in_port_t port, pt_uint_t no_port);

/* "upstream: http://127.0.0.1:8081/uri" for error lines of r. */
u_char *pt_http_upstream_log_error(pt_http_request_t *r, u_char *buf,
    size_t len);

extern pt_conf_bitmask_t  pt_http_upstream_next_upstream_masks[];
extern pt_conf_bitmask_t  pt_http_upstream_ignore_headers_masks[];
extern pt_module_t        pt_http_upstream_module;

/* ---- between the framework's files ---- */

/* Ends the upstream part of r with rc (0, an error status, PT_ERROR). */
void pt_http_upstream_finalize_request(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_int_t rc);
/* A try failed with ft_type: the next peer, or the end with its status. */
void pt_http_upstream_next(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t ft_type);
/* Closes the upstream connection of the current try (not to the cache). */
void pt_http_upstream_close_peer_connection(pt_http_request_t *r,
    pt_http_upstream_t *u);
/* Copies the parsed head into r->headers_out.  PT_OK or an HTTP status. */
pt_int_t pt_http_upstream_process_headers(pt_http_request_t *r,
    pt_http_upstream_t *u);
/* Copies one field of the upstream's head into headers_out, as the
 * header table says (not copied, copied, or by its handler).  PT_OK or
 * PT_ERROR. */
pt_int_t pt_http_upstream_copy_one(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h);
/* The X-Accel-* fields (pt_http_upstream_xaccel.c): PT_OK to go on with
 * the head, PT_DONE when X-Accel-Redirect took r elsewhere. */
pt_int_t pt_http_upstream_x_accel(pt_http_request_t *r, pt_http_upstream_t *u);
/* Sends the header to the client and starts forwarding the body. */
void pt_http_upstream_send_response(pt_http_request_t *r, pt_http_upstream_t *u);
/* More of a streamed request body arrived: send it on. */
void pt_http_upstream_send_request_body(pt_http_request_t *r);
/* Sends a "last" or "flush" buffer down the client's filter chain. */
pt_int_t pt_http_upstream_send_special(pt_http_request_t *r, pt_uint_t last);
/* Writes the request (pt_http_upstream_request.c), and the upstream
 * connection's write handler while it is not all out. */
void pt_http_upstream_send_request(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t do_write);
void pt_http_upstream_send_request_handler(pt_http_request_t *r,
    pt_http_upstream_t *u);
/* Reads the response head (the upstream connection's read handler). */
void pt_http_upstream_process_header(pt_http_request_t *r, pt_http_upstream_t *u);
/* The event handler of upstream connections: to u's read/write handlers. */
void pt_http_upstream_handler(pt_event_t *ev);
void pt_http_upstream_dummy_handler(pt_http_request_t *r, pt_http_upstream_t *u);
void pt_http_upstream_rd_check_broken_connection(pt_http_request_t *r);
/* The client's read event while the upstream works: a client that went
 * away ends the request (499) unless ignore_client_abort. */
void pt_http_upstream_check_broken_connection(pt_http_request_t *r);
/* Releases the body forwarding state (temp file) at the end. */
void pt_http_upstream_pipe_done(pt_http_request_t *r, pt_http_upstream_t *u);
pt_int_t pt_http_upstream_variables_add(pt_conf_t *cf);
/* Applies proxy_bind and proxy_socket_keepalive to u->peer: PT_OK (an
 * address that evaluates to "" or does not parse means no bind, the
 * latter logged), or PT_ERROR. */
pt_int_t pt_http_upstream_set_local(pt_http_request_t *r, pt_http_upstream_t *u);

#endif /* PT_HTTP_UPSTREAM_H */
