/*
 * pt_http_request.h: the HTTP connection and request objects.
 *
 * A pt_http_connection_t lives in the connection pool for the whole life of
 * a client connection; a pt_http_request_t lives in the request pool for one
 * request.  The request head is never copied: the request line and every
 * header are (pointer, length) pairs into the header buffer (c->buffer, or
 * one of the large header buffers when the head outgrew it), which stays
 * untouched until the request is freed.
 */

#ifndef PT_HTTP_REQUEST_H
#define PT_HTTP_REQUEST_H

#define PT_HTTP_MAX_URI_CHANGES     10
#define PT_HTTP_MAX_SUBREQUESTS     50

/* Lower-cased copy of a header name kept by the parser; longer names are
 * lower-cased separately. */
#define PT_HTTP_LC_HEADER_LEN       32

#define PT_HTTP_DISCARD_BUFFER_SIZE    4096
#define PT_HTTP_LINGERING_BUFFER_SIZE  4096

/* r->http_version */
#define PT_HTTP_VERSION_9           9
#define PT_HTTP_VERSION_10          1000
#define PT_HTTP_VERSION_11          1001

/* r->method: one bit per known method, so a location can hold a mask. */
#define PT_HTTP_UNKNOWN             0x00000001
#define PT_HTTP_GET                 0x00000002
#define PT_HTTP_HEAD                0x00000004
#define PT_HTTP_POST                0x00000008
#define PT_HTTP_PUT                 0x00000010
#define PT_HTTP_DELETE              0x00000020
#define PT_HTTP_MKCOL               0x00000040
#define PT_HTTP_COPY                0x00000080
#define PT_HTTP_MOVE                0x00000100
#define PT_HTTP_OPTIONS             0x00000200
#define PT_HTTP_PROPFIND            0x00000400
#define PT_HTTP_PROPPATCH           0x00000800
#define PT_HTTP_LOCK                0x00001000
#define PT_HTTP_UNLOCK              0x00002000
#define PT_HTTP_PATCH               0x00004000
#define PT_HTTP_TRACE               0x00008000
#define PT_HTTP_CONNECT             0x00010000

/* headers_in.connection_type */
#define PT_HTTP_CONNECTION_CLOSE       1
#define PT_HTTP_CONNECTION_KEEP_ALIVE  2

/* Parser results beyond PT_OK / PT_AGAIN (see pt_http_parse.h). */
#define PT_HTTP_PARSE_HEADER_DONE      1
#define PT_HTTP_PARSE_INVALID_METHOD   10
#define PT_HTTP_PARSE_INVALID_REQUEST  11
#define PT_HTTP_PARSE_INVALID_VERSION  12
#define PT_HTTP_PARSE_INVALID_09        13  /* no version: HTTP/0.9 */
#define PT_HTTP_PARSE_INVALID_HEADER   14

/* Status codes. */
#define PT_HTTP_CONTINUE                    100
#define PT_HTTP_SWITCHING_PROTOCOLS         101
#define PT_HTTP_OK                          200
#define PT_HTTP_CREATED                     201
#define PT_HTTP_ACCEPTED                    202
#define PT_HTTP_NO_CONTENT                  204
#define PT_HTTP_PARTIAL_CONTENT             206

#define PT_HTTP_SPECIAL_RESPONSE            300
#define PT_HTTP_MOVED_PERMANENTLY           301
#define PT_HTTP_MOVED_TEMPORARILY           302
#define PT_HTTP_SEE_OTHER                   303
#define PT_HTTP_NOT_MODIFIED                304
#define PT_HTTP_TEMPORARY_REDIRECT          307
#define PT_HTTP_PERMANENT_REDIRECT          308

#define PT_HTTP_BAD_REQUEST                 400
#define PT_HTTP_UNAUTHORIZED                401
#define PT_HTTP_FORBIDDEN                   403
#define PT_HTTP_NOT_FOUND                   404
#define PT_HTTP_NOT_ALLOWED                 405
#define PT_HTTP_REQUEST_TIME_OUT            408
#define PT_HTTP_CONFLICT                    409
#define PT_HTTP_LENGTH_REQUIRED             411
#define PT_HTTP_PRECONDITION_FAILED         412
#define PT_HTTP_REQUEST_ENTITY_TOO_LARGE    413
#define PT_HTTP_REQUEST_URI_TOO_LARGE       414
#define PT_HTTP_UNSUPPORTED_MEDIA_TYPE      415
#define PT_HTTP_RANGE_NOT_SATISFIABLE       416
#define PT_HTTP_EXPECTATION_FAILED          417
#define PT_HTTP_MISDIRECTED_REQUEST         421
#define PT_HTTP_TOO_MANY_REQUESTS           429

/* nginx's internal codes: 444 closes without a response; 494 is sent as
 * 400 "Request Header Or Cookie Too Large"; 499 is logged when the client
 * went away before the response. */
#define PT_HTTP_CLOSE                       444
#define PT_HTTP_REQUEST_HEADER_TOO_LARGE    494
#define PT_HTTP_CLIENT_CLOSED_REQUEST       499

#define PT_HTTP_INTERNAL_SERVER_ERROR       500
#define PT_HTTP_NOT_IMPLEMENTED             501
#define PT_HTTP_BAD_GATEWAY                 502
#define PT_HTTP_SERVICE_UNAVAILABLE         503
#define PT_HTTP_GATEWAY_TIME_OUT            504
#define PT_HTTP_VERSION_NOT_SUPPORTED       505
#define PT_HTTP_INSUFFICIENT_STORAGE        507

/* Bits of c->buffered / r->buffered: who still holds unsent data. */
#define PT_HTTP_LOWLEVEL_BUFFERED   0xf0
#define PT_HTTP_WRITE_BUFFERED      0x10
#define PT_HTTP_GZIP_BUFFERED       0x20
#define PT_HTTP_SSI_BUFFERED        0x01
#define PT_HTTP_SUB_BUFFERED        0x02
#define PT_HTTP_COPY_BUFFERED       0x04

/* One header field: pointers into the header buffer (request) or the pool
 * (response).  hash == 0 marks a response header as deleted.  next chains
 * repeated fields (Cookie, X-Forwarded-For).  lowcase_key is the name in
 * lower case, or NULL: compare key case-insensitively (request headers
 * sent in mixed case get no copy; hash is of the lower-cased name). */
typedef struct pt_http_header_s  pt_http_header_t;

struct pt_http_header_s {
    pt_uint_t            hash;
    pt_str_t             key;
    pt_str_t             value;
    u_char              *lowcase_key;
    pt_http_header_t    *next;
};

typedef struct {
    pt_list_t            headers;       /* of pt_http_header_t, in order */

    pt_http_header_t    *host;
    pt_http_header_t    *connection;
    pt_http_header_t    *if_modified_since;
    pt_http_header_t    *if_unmodified_since;
    pt_http_header_t    *if_match;
    pt_http_header_t    *if_none_match;
    pt_http_header_t    *user_agent;
    pt_http_header_t    *referer;
    pt_http_header_t    *content_length;
    pt_http_header_t    *content_range;
    pt_http_header_t    *content_type;
    pt_http_header_t    *range;
    pt_http_header_t    *if_range;
    pt_http_header_t    *transfer_encoding;
    pt_http_header_t    *te;
    pt_http_header_t    *expect;
    pt_http_header_t    *upgrade;
    pt_http_header_t    *accept_encoding;
    pt_http_header_t    *via;
    pt_http_header_t    *authorization;
    pt_http_header_t    *keep_alive;
    pt_http_header_t    *x_forwarded_for;   /* chained by next */
    pt_http_header_t    *x_real_ip;
    pt_http_header_t    *accept;
    pt_http_header_t    *accept_language;
    pt_http_header_t    *cookie;            /* chained by next */

    pt_str_t             user;              /* reserved: basic auth */
    pt_str_t             passwd;

    pt_str_t             server;        /* validated, lower-cased host */
    off_t                content_length_n;   /* -1: none */
    time_t               keep_alive_n;

    unsigned             connection_type:2;
    unsigned             chunked:1;
    unsigned             multi:1;
    unsigned             msie6:1;       /* for keepalive_disable */
    unsigned             safari:1;
} pt_http_headers_in_t;

typedef struct {
    pt_list_t            headers;       /* extra headers, of pt_http_header_t */
    pt_list_t            trailers;

    pt_uint_t            status;
    pt_str_t             status_line;   /* overrides the built-in text */

    pt_http_header_t    *server;
    pt_http_header_t    *date;
    pt_http_header_t    *content_length;
    pt_http_header_t    *content_encoding;
    pt_http_header_t    *location;
    pt_http_header_t    *refresh;
    pt_http_header_t    *last_modified;
    pt_http_header_t    *content_range;
    pt_http_header_t    *accept_ranges;
    pt_http_header_t    *www_authenticate;
    pt_http_header_t    *expires;
    pt_http_header_t    *etag;
    pt_http_header_t    *cache_control;
    pt_http_header_t    *link;

    pt_str_t            *override_charset;

    size_t               content_type_len;  /* type without "; params" */
    pt_str_t             content_type;
    pt_str_t             charset;
    u_char              *content_type_lowcase;
    pt_uint_t            content_type_hash;

    off_t                content_length_n;  /* -1: unknown */
    off_t                content_offset;
    time_t               date_time;
    time_t               last_modified_time;    /* -1: none */
} pt_http_headers_out_t;

/* State of the chunked transfer-coding parser (pt_http_parse_chunked). */
typedef struct {
    pt_uint_t            state;
    off_t                size;      /* bytes of chunk data at b->pos */
    off_t                length;    /* at least this many bytes still due */
    size_t               line;      /* bytes of the chunk line / trailers */
    pt_uint_t            digits;    /* hex digits of the chunk size */
} pt_http_chunked_t;

typedef void (*pt_http_client_body_handler_pt)(pt_http_request_t *r);

/*
 * The request body, read for a handler by pt_http_read_client_request_body
 * (pt_http_request_body.c):
 *
 *     rc = pt_http_read_client_request_body(r, post_handler);
 *     if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
 *         return rc;                      (an error to answer with)
 *     }
 *     return PT_DONE;                     (post_handler finalizes)
 *
 * The reader takes a reference on the request (r->main->count) that the
 * handler's PT_DONE gives back; post_handler must end the request with
 * pt_http_finalize_request.  The reader decodes chunked, enforces
 * client_max_body_size (413) and client_body_timeout (408), and sends
 * "100 Continue" to an HTTP/1.1 client that expects it.  Errors after the
 * call finalize the request with their status; post_handler is then not
 * called.  A second call, or one for a body being discarded, calls
 * post_handler at once.
 *
 * Buffered (the default).  post_handler runs once the whole body is
 * there.  rb->bufs holds it, its last buffer flagged last_buf: memory
 * buffers when it fit in client_body_buffer_size (a body that came with
 * the head may point into the header buffer), else one file buffer
 * (temp_file set) over rb->temp_file, an unlinked temp file in
 * client_body_temp_path.  An empty body leaves rb->bufs NULL.
 * rb->received is the body's size (decoded).
 *
 * Streaming (r->request_body_no_buffering set before the call; the proxy
 * uses it for proxy_request_buffering off).  Nothing goes to disk and
 * nothing waits for the end.  post_handler is called at once, then again
 * each time new data arrived or the body ended: rb->bufs then holds the
 * data not yet taken, as memory buffers into one client_body_buffer_size
 * buffer, and once the body is complete (rb->rest == 0) its last buffer
 * has last_buf set (an empty one if no data is left).  The handler takes
 * the links off rb->bufs (and sets rb->bufs to NULL), and consumes a
 * buffer by moving its pos to last (the write filter does so as it
 * sends).  Reading pauses while the buffer is full of data not consumed;
 * the handler calls pt_http_read_unbuffered_request_body(r) after it
 * consumed some, which reads what the client has sent meanwhile into
 * rb->bufs (without calling post_handler) and returns PT_OK once the body
 * is complete, PT_AGAIN, or an error status.
 */
typedef struct {
    pt_chain_t                     *bufs;       /* see above */
    pt_buf_t                       *buf;        /* the memory read into */
    pt_file_t                      *temp_file;  /* buffered, when it spilled */
    off_t                           rest;       /* at least this much is due;
                                                   0: complete */
    off_t                           received;   /* decoded body bytes */
    pt_http_chunked_t              *chunked;
    pt_http_client_body_handler_pt  post_handler;

    /* streaming: bufs handed out, and free ones to reuse */
    pt_chain_t                     *busy;
    pt_chain_t                     *free;
    u_char                         *handed;     /* buf data below this is out */

    unsigned                        last_sent:1;    /* the last_buf went out */
} pt_http_request_body_t;

typedef struct pt_http_addr_conf_s  pt_http_addr_conf_t;

/* Per-connection state, in c->pool.  c->data points here between requests
 * and at the current request while one runs. */
typedef struct {
    pt_http_addr_conf_t  *addr_conf;
    pt_http_conf_ctx_t   *conf_ctx;     /* the default server's */

    /* Large header buffers in use by the current request and kept free
     * for the next one; links are pt_chain_t from c->pool. */
    pt_chain_t           *busy;
    pt_int_t              nbusy;
    pt_chain_t           *free;

    unsigned              pipeline:1;
    unsigned              ssl:1;        /* on a "listen ... ssl" address */
} pt_http_connection_t;

typedef pt_int_t (*pt_http_handler_pt)(pt_http_request_t *r);
typedef void (*pt_http_event_handler_pt)(pt_http_request_t *r);

typedef struct pt_http_cleanup_s  pt_http_cleanup_t;
typedef void (*pt_http_cleanup_pt)(void *data);

struct pt_http_cleanup_s {
    pt_http_cleanup_pt   handler;
    void                *data;
    pt_http_cleanup_t   *next;
};

/* c->log->data while a connection speaks HTTP: the ", client: ..., server:
 * ..., request: ..." suffix of error lines comes from here. */
typedef struct {
    pt_connection_t     *connection;
    pt_http_request_t   *request;
    pt_http_request_t   *current_request;
} pt_http_log_ctx_t;

typedef struct pt_http_variable_value_s  pt_http_variable_value_t;

#define PT_HTTP_REQUEST_SIGNATURE   0x50545452      /* "RTTP" */

struct pt_http_request_s {
    uint32_t                    signature;

    pt_connection_t            *connection;

    void                      **ctx;            /* per-module request state */
    void                      **main_conf;
    void                      **srv_conf;
    void                      **loc_conf;

    pt_http_event_handler_pt    read_event_handler;
    pt_http_event_handler_pt    write_event_handler;

    pt_http_request_t          *main;           /* subrequests: reserved */
    pt_http_request_t          *parent;

    pt_pool_t                  *pool;
    pt_buf_t                   *header_in;      /* buffer holding the head */

    pt_http_headers_in_t        headers_in;
    pt_http_headers_out_t       headers_out;

    pt_http_request_body_t     *request_body;

    struct pt_http_upstream_s  *upstream;       /* proxy: see pt_http_upstream.h */
    pt_array_t                 *upstream_states;    /* of pt_http_upstream_state_t */

    time_t                      lingering_time;
    time_t                      start_sec;
    pt_msec_t                   start_msec;

    pt_uint_t                   method;
    pt_uint_t                   http_version;

    pt_str_t                    request_line;
    pt_str_t                    uri;            /* decoded, normalized path */
    pt_str_t                    args;
    pt_str_t                    exten;
    pt_str_t                    unparsed_uri;   /* path and args as sent */

    pt_str_t                    method_name;
    pt_str_t                    http_protocol;
    pt_str_t                    schema;

    pt_chain_t                 *out;            /* unsent output */

    pt_http_variable_value_t   *variables;

    /* The last successful regex match (location, rewrite, if, server_name):
     * ncaptures offsets, in pairs ($0, $1, ...), into captures_data.  The
     * array is allocated on first use, sized for the largest regex. */
    int                        *captures;
    pt_uint_t                   ncaptures;
    u_char                     *captures_data;

    pt_uint_t                   phase_handler;
    pt_http_handler_pt          content_handler;
    pt_uint_t                   access_code;

    size_t                      header_size;    /* response header bytes */
    off_t                       request_length; /* request bytes received */

    pt_uint_t                   err_status;

    /* limit_rate: bytes per second (0: none), after the first
     * limit_rate_after bytes; taken from the location on the first write
     * unless $limit_rate set them before */
    size_t                      limit_rate;
    size_t                      limit_rate_after;

    pt_http_connection_t       *http_connection;
    pt_http_cleanup_t          *cleanup;

    /* Discarding an unread body. */
    pt_http_chunked_t          *discard_chunked;

    unsigned                    count:16;       /* references (body, ...) */
    unsigned                    uri_changes:4;

    unsigned                    complex_uri:1;  /* "//", "/.", "#" in uri */
    unsigned                    quoted_uri:1;   /* "%" in uri */
    unsigned                    plus_in_uri:1;
    unsigned                    empty_path_in_uri:1;
    unsigned                    invalid_header:1;

    unsigned                    valid_location:1;
    unsigned                    valid_unparsed_uri:1;
    unsigned                    uri_changed:1;
    unsigned                    internal:1;
    unsigned                    error_page:1;
    unsigned                    filter_finalize:1;

    unsigned                    header_only:1;
    unsigned                    allow_ranges:1;     /* the range filters may cut */
    unsigned                    filter_need_in_memory:1;    /* a filter (gzip) reads the
                                                               body: no sendfile */
    unsigned                    single_range:1;     /* ... but to one range only */
    unsigned                    disable_not_modified:1;
    unsigned                    limit_rate_set:1;
    unsigned                    keepalive:1;
    unsigned                    lingering_close:1;
    unsigned                    discard_body:1;
    unsigned                    reading_body:1;
    unsigned                    request_body_no_buffering:1;    /* streaming */
    unsigned                    chunked:1;      /* response is chunked */
    unsigned                    expect_tested:1;
    unsigned                    header_sent:1;
    unsigned                    done:1;
    unsigned                    logged:1;
    unsigned                    terminated:1;
    unsigned                    buffered:4;

    /* ---- parser state, see pt_http_parse.c ---- */

    pt_uint_t                   state;
    pt_uint_t                   header_hash;
    pt_uint_t                   lowcase_index;
    u_char                      lowcase_header[PT_HTTP_LC_HEADER_LEN];

    u_char                     *header_name_start;
    u_char                     *header_name_end;
    u_char                     *header_start;
    u_char                     *header_end;

    u_char                     *request_start;
    u_char                     *request_end;
    u_char                     *method_end;
    u_char                     *uri_start;
    u_char                     *uri_end;
    u_char                     *uri_ext;
    u_char                     *args_start;
    u_char                     *schema_start;
    u_char                     *schema_end;
    u_char                     *host_start;
    u_char                     *host_end;
    u_char                     *port_end;
    u_char                     *http_protocol_start;

    unsigned                    http_minor:16;
    unsigned                    http_major:16;
};

/* The table of request headers with dedicated handling (pt_http_request.c). */
typedef pt_int_t (*pt_http_header_handler_pt)(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);

typedef struct {
    pt_str_t                    name;
    pt_uint_t                   offset;     /* in pt_http_headers_in_t */
    pt_http_header_handler_pt   handler;
} pt_http_header_in_t;

extern pt_http_header_in_t  pt_http_headers_in[];

#endif /* PT_HTTP_REQUEST_H */
