/*
 * pt_http_request.c: the life of an HTTP/1.x connection and its requests.
 *
 *   accept -> pt_http_init_connection
 *     -> wait_request_handler     idle: no buffer until bytes arrive
 *     -> process_request_line     parse as data arrives
 *     -> process_request_headers  one header per line, pointers into the
 *                                 buffer; a line that outgrows the buffer
 *                                 moves to a large header buffer
 *     -> process_request          the phases (pt_http_core_module.c)
 *     -> pt_http_finalize_request write on, or finish:
 *          keepalive              reuse the request pool; pipelined bytes
 *                                 left in the buffer start the next request
 *          lingering close        shut down writing, drain the client
 *          close
 *
 * Every handler installed here also copes with the shutdown path of the
 * worker: when draining starts, an idle connection gets c->close and a
 * short grace timer (a request that arrives in time is served, answered
 * with "Connection: close"); when worker_shutdown_timeout fires, c->close
 * and c->error are set and the read handler runs: it must close promptly.
 */

#include "pt_http.h"

static void pt_http_wait_request_handler(pt_event_t *rev);
static pt_http_request_t *pt_http_create_request(pt_connection_t *c);
static void pt_http_process_request_line(pt_event_t *rev);
static void pt_http_process_request_headers(pt_event_t *rev);
static ssize_t pt_http_read_request_header(pt_http_request_t *r);
static pt_int_t pt_http_alloc_large_header_buffer(pt_http_request_t *r,
    pt_uint_t request_line);
static pt_int_t pt_http_process_request_uri(pt_http_request_t *r);
static pt_int_t pt_http_process_request_header(pt_http_request_t *r);
static void pt_http_process_request(pt_http_request_t *r);
static pt_int_t pt_http_set_virtual_server(pt_http_request_t *r, pt_str_t *host);

static pt_int_t pt_http_process_header_line(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_process_unique_header_line(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_process_host(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_process_connection(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);

static void pt_http_request_handler(pt_event_t *ev);
static void pt_http_finalize_connection(pt_http_request_t *r);
static pt_int_t pt_http_set_write_handler(pt_http_request_t *r);
static void pt_http_writer(pt_http_request_t *r);
static void pt_http_test_reading(pt_http_request_t *r);
static void pt_http_set_keepalive(pt_http_request_t *r);
static void pt_http_set_lingering_close(pt_connection_t *c);
static void pt_http_lingering_close_handler(pt_event_t *rev);
static void pt_http_close_request(pt_http_request_t *r, pt_int_t rc);
static void pt_http_log_request(pt_http_request_t *r);
static void pt_http_empty_handler(pt_event_t *ev);

#define pt_http_hdr_off(field)  offsetof(pt_http_headers_in_t, field)

pt_http_header_in_t  pt_http_headers_in[] = {
    { pt_string("Host"), pt_http_hdr_off(host), pt_http_process_host },
    { pt_string("Connection"), pt_http_hdr_off(connection),
      pt_http_process_connection },
    { pt_string("If-Modified-Since"), pt_http_hdr_off(if_modified_since),
      pt_http_process_unique_header_line },
    { pt_string("If-Unmodified-Since"), pt_http_hdr_off(if_unmodified_since),
      pt_http_process_unique_header_line },
    { pt_string("If-Match"), pt_http_hdr_off(if_match), pt_http_process_header_line },
    { pt_string("If-None-Match"), pt_http_hdr_off(if_none_match),
      pt_http_process_header_line },
    { pt_string("User-Agent"), pt_http_hdr_off(user_agent), pt_http_process_header_line },
    { pt_string("Referer"), pt_http_hdr_off(referer), pt_http_process_header_line },
    { pt_string("Content-Length"), pt_http_hdr_off(content_length),
      pt_http_process_unique_header_line },
    { pt_string("Content-Range"), pt_http_hdr_off(content_range),
      pt_http_process_unique_header_line },
    { pt_string("Content-Type"), pt_http_hdr_off(content_type),
      pt_http_process_header_line },
    { pt_string("Range"), pt_http_hdr_off(range), pt_http_process_header_line },
    { pt_string("If-Range"), pt_http_hdr_off(if_range),
      pt_http_process_unique_header_line },
    { pt_string("Transfer-Encoding"), pt_http_hdr_off(transfer_encoding),
      pt_http_process_unique_header_line },
    { pt_string("TE"), pt_http_hdr_off(te), pt_http_process_header_line },
    { pt_string("Expect"), pt_http_hdr_off(expect), pt_http_process_unique_header_line },
    { pt_string("Upgrade"), pt_http_hdr_off(upgrade), pt_http_process_header_line },
    { pt_string("Accept-Encoding"), pt_http_hdr_off(accept_encoding),
      pt_http_process_header_line },
    { pt_string("Via"), pt_http_hdr_off(via), pt_http_process_header_line },
    { pt_string("Authorization"), pt_http_hdr_off(authorization),
      pt_http_process_unique_header_line },
    { pt_string("Keep-Alive"), pt_http_hdr_off(keep_alive), pt_http_process_header_line },
    { pt_string("X-Forwarded-For"), pt_http_hdr_off(x_forwarded_for),
      pt_http_process_header_line },
    { pt_string("X-Real-IP"), pt_http_hdr_off(x_real_ip), pt_http_process_header_line },
    { pt_string("Accept"), pt_http_hdr_off(accept), pt_http_process_header_line },
    { pt_string("Accept-Language"), pt_http_hdr_off(accept_language),
      pt_http_process_header_line },
    { pt_string("Cookie"), pt_http_hdr_off(cookie), pt_http_process_header_line },
    { pt_null_string, 0, NULL }
};

static char  *pt_http_client_errors[] = {
    "client sent invalid method",
    "client sent invalid request",
    "client sent invalid version",
    "client sent invalid method in HTTP/0.9 request"
};

/* ---- connection setup ---- */

/* Finds the address entry of the connection's local address among those
 * its listening socket serves. */
static pt_int_t
pt_http_find_addr_conf(pt_connection_t *c, pt_http_connection_t *hc)
{
    pt_uint_t             i;
    pt_http_port_t       *port;
    pt_http_in_addr_t    *addr;
    pt_http_in6_addr_t   *addr6;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    port = c->listening->servers;

    if (port->naddrs > 1 && pt_connection_local_sockaddr(c, NULL, 0) != PT_OK) {
        return PT_ERROR;
    }

    if (c->listening->sockaddr->sa_family == AF_INET6) {
        addr6 = port->addrs;
        i = 0;

        if (port->naddrs > 1) {
            sin6 = (struct sockaddr_in6 *) c->local_sockaddr;
            for ( /* void */ ; i < port->naddrs - 1; i++) {
                if (pt_memcmp(&addr6[i].addr6, &sin6->sin6_addr, 16) == 0) {
                    break;
                }
            }
        }

        hc->addr_conf = &addr6[i].conf;
        return PT_OK;
    }

    addr = port->addrs;
    i = 0;

    if (port->naddrs > 1) {
        sin = (struct sockaddr_in *) c->local_sockaddr;
        for ( /* void */ ; i < port->naddrs - 1; i++) {
            if (addr[i].addr == sin->sin_addr.s_addr) {
                break;
            }
        }
    }

    hc->addr_conf = &addr[i].conf;

    return PT_OK;
}

void
pt_http_init_connection(pt_connection_t *c)
{
    pt_event_t               *rev;
    pt_http_log_ctx_t        *ctx;
    pt_http_connection_t     *hc;
    pt_http_core_srv_conf_t  *cscf;

    hc = pt_pcalloc(c->pool, sizeof(pt_http_connection_t));
    ctx = pt_palloc(c->pool, sizeof(pt_http_log_ctx_t));

    if (hc == NULL || ctx == NULL) {
        pt_http_close_connection(c);
        return;
    }

    c->data = hc;

    if (pt_http_find_addr_conf(c, hc) != PT_OK) {
        pt_http_close_connection(c);
        return;
    }

    cscf = hc->addr_conf->default_server;
    hc->conf_ctx = cscf->ctx;

    ctx->connection = c;
    ctx->request = NULL;
    ctx->current_request = NULL;

    c->log->connection = c->number;
    c->log->handler = pt_http_log_error;
    c->log->data = ctx;
    c->log->action = "waiting for request";
    c->log_error = PT_ERROR_INFO;

    rev = c->read;
    rev->handler = pt_http_wait_request_handler;
    c->write->handler = pt_http_empty_handler;

    c->idle = 1;
    pt_reusable_connection(c, 1);

    if (rev->ready) {
        /* deferred accept: the request is already there */
        rev->handler(rev);
        return;
    }

    pt_event_add_timer(rev, cscf->client_header_timeout);

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        pt_http_close_connection(c);
        return;
    }
}

/*
 * Waits for the first byte of a request: of the first one on a new
 * connection and of each next one on a keepalive connection.  The header
 * buffer exists only while bytes are there to hold: it is allocated on
 * arrival and, when it is large enough to come from the heap, released
 * again while idle.
 */
static void
pt_http_wait_request_handler(pt_event_t *rev)
{
    size_t                    size;
    ssize_t                   n;
    pt_buf_t                 *b;
    pt_connection_t          *c;
    pt_http_connection_t     *hc;
    pt_http_core_srv_conf_t  *cscf;

    c = rev->data;

    if (rev->timedout || (c->close && c->error)) {
        if (rev->timedout && !c->close && c->requests == 0) {
            pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        }
        pt_http_close_connection(c);
        return;
    }

    hc = c->data;
    cscf = hc->conf_ctx->srv_conf[pt_http_core_module.ctx_index];
    size = cscf->client_header_buffer_size;

    b = c->buffer;

    if (b == NULL) {
        b = pt_calloc_buf(c->pool);
        if (b == NULL) {
            pt_http_close_connection(c);
            return;
        }
        c->buffer = b;
    }

    if (b->start == NULL) {
        b->start = pt_palloc(c->pool, size);
        if (b->start == NULL) {
            pt_http_close_connection(c);
            return;
        }
        b->pos = b->start;
        b->last = b->start;
        b->end = b->start + size;
        b->temporary = 1;
    }

    c->log_error = PT_ERROR_IGNORE_ECONNRESET;
    n = c->recv(c, b->last, b->end - b->last);
    c->log_error = PT_ERROR_INFO;

    if (n == PT_AGAIN) {
        if (pt_handle_read_event(rev, 0) != PT_OK) {
            pt_http_close_connection(c);
            return;
        }

        if (c->close && !rev->timer_set) {
            pt_event_add_timer(rev, 1000);
        }

        if (b->pos == b->last && pt_pfree(c->pool, b->start) == PT_OK) {
            b->start = NULL;
        }

        return;
    }

    if (n == PT_ERROR) {
        pt_http_close_connection(c);
        return;
    }

    if (n == 0) {
        /* nginx's wording, without the request context */
        c->log->handler = NULL;
        pt_log_error(PT_LOG_INFO, c->log, 0, "client " PT_STR_FMT " closed %s",
                     PT_STR_ARG(c->addr_text),
                     c->requests ? "keepalive connection" : "connection");
        pt_http_close_connection(c);
        return;
    }

    b->last += n;

    c->log->action = "reading client request line";

    c->idle = 0;
    pt_reusable_connection(c, 0);

    if (rev->timer_set) {
        pt_event_del_timer(rev);
    }

    c->data = pt_http_create_request(c);
    if (c->data == NULL) {
        c->data = hc;
        pt_http_close_connection(c);
        return;
    }

    rev->handler = pt_http_process_request_line;
    pt_http_process_request_line(rev);
}

/* The request pool lives as long as the connection: destroyed with it. */
static void
pt_http_destroy_request_pool(void *data)
{
    pt_http_connection_t  *hc = data;

    if (hc->request_pool) {
        pt_destroy_pool(hc->request_pool);
        hc->request_pool = NULL;
    }
}

/* A request in the connection's reusable request pool. */
static pt_http_request_t *
pt_http_create_request(pt_connection_t *c)
{
    pt_pool_t                 *pool;
    pt_time_t                 *tp;
    pt_pool_cleanup_t         *cln;
    pt_http_request_t         *r;
    pt_http_log_ctx_t         *ctx;
    pt_http_connection_t      *hc;
    pt_http_core_srv_conf_t   *cscf;
    pt_http_core_main_conf_t  *cmcf;

    hc = c->data;
    cscf = hc->conf_ctx->srv_conf[pt_http_core_module.ctx_index];
    cmcf = hc->conf_ctx->main_conf[pt_http_core_module.ctx_index];

    pool = hc->request_pool;

    if (pool == NULL) {
        cln = pt_pool_cleanup_add(c->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        pool = pt_create_pool(cscf->request_pool_size, c->log);
        if (pool == NULL) {
            return NULL;
        }

        hc->request_pool = pool;
        cln->handler = pt_http_destroy_request_pool;
        cln->data = hc;
    }

    r = pt_pcalloc(pool, sizeof(pt_http_request_t));
    if (r == NULL) {
        return NULL;
    }

    r->pool = pool;
    r->signature = PT_HTTP_REQUEST_SIGNATURE;
    r->http_connection = hc;
    r->connection = c;

    r->main_conf = hc->conf_ctx->main_conf;
    r->srv_conf = hc->conf_ctx->srv_conf;
    r->loc_conf = hc->conf_ctx->loc_conf;

    r->read_event_handler = pt_http_block_reading;
    r->write_event_handler = pt_http_request_empty_handler;
    r->header_in = hc->busy ? hc->busy->buf : c->buffer;

    if (pt_list_init(&r->headers_in.headers, pool, 16, sizeof(pt_http_header_t))
        != PT_OK
        || pt_list_init(&r->headers_out.headers, pool, 8, sizeof(pt_http_header_t))
           != PT_OK
        || pt_list_init(&r->headers_out.trailers, pool, 2, sizeof(pt_http_header_t))
           != PT_OK)
    {
        return NULL;
    }

    r->ctx = pt_pcalloc(pool, sizeof(void *) * pt_http_max_module);
    r->variables = pt_pcalloc(pool, (cmcf->variables.nelts + 1)
                                    * sizeof(pt_http_variable_value_t));
    if (r->ctx == NULL || r->variables == NULL) {
        return NULL;
    }

    r->main = r;
    r->count = 1;

    /* until the request line says otherwise: an error page then gets a
     * status line and headers */
    r->method = PT_HTTP_UNKNOWN;
    r->http_version = PT_HTTP_VERSION_10;

    tp = pt_timeofday();
    r->start_sec = tp->sec;
    r->start_msec = tp->msec;

    r->headers_in.content_length_n = -1;
    r->headers_in.keep_alive_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    r->uri_changes = PT_HTTP_MAX_URI_CHANGES + 1;

    c->requests++;

    ctx = c->log->data;
    ctx->request = r;
    ctx->current_request = r;

    return r;
}

/* ---- reading the head ---- */

/* The request line and headers have been read up to b->pos: log a parse
 * error with what we have of the request line. */
static void
pt_http_set_request_line_for_log(pt_http_request_t *r)
{
    u_char  *p;

    if (r->request_line.len || r->request_start == NULL) {
        return;
    }

    for (p = r->request_start; p < r->header_in->last; p++) {
        if (*p == CR || *p == LF) {
            break;
        }
    }

    r->request_line.len = p - r->request_start;
    r->request_line.data = r->request_start;
}

static pt_int_t
pt_http_request_line_done(pt_http_request_t *r)
{
    pt_str_t   host;
    pt_uint_t  lowcase;

    r->request_line.len = r->request_end - r->request_start;
    r->request_line.data = r->request_start;
    r->request_length = r->header_in->pos - r->request_start;

    r->method_name.len = r->method_end - r->request_start;
    r->method_name.data = r->request_start;

    if (r->http_protocol_start) {
        r->http_protocol.data = r->http_protocol_start;
        r->http_protocol.len = r->request_end - r->http_protocol_start;
    }

    if (pt_http_process_request_uri(r) != PT_OK) {
        return PT_ERROR;
    }

    if (r->schema_end) {
        r->schema.len = r->schema_end - r->schema_start;
        r->schema.data = r->schema_start;
    }

    if (r->host_end) {
        /* absolute-form: the target's host takes precedence over Host */
        host.data = r->host_start;
        host.len = (r->port_end ? r->port_end : r->host_end) - r->host_start;

        if (pt_http_validate_host(&host, &lowcase) != PT_OK) {
            pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                         "client sent invalid host in request line");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }

        if (lowcase) {
            host.data = pt_pstrdup(r->pool, &host);
            if (host.data == NULL) {
                pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
                return PT_ERROR;
            }
            pt_strlow(host.data, host.data, host.len);
        }

        if (pt_http_set_virtual_server(r, &host) == PT_ERROR) {
            return PT_ERROR;
        }

        r->headers_in.server = host;
    }

    return PT_OK;
}

static void
pt_http_process_request_line(pt_event_t *rev)
{
    ssize_t              n;
    pt_int_t             rc, rv;
    pt_connection_t     *c;
    pt_http_request_t   *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        pt_http_close_request(r, PT_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (c->close && c->error) {
        pt_http_close_request(r, 0);
        return;
    }

    rc = PT_AGAIN;

    for ( ;; ) {

        if (rc == PT_AGAIN) {
            n = pt_http_read_request_header(r);
            if (n == PT_AGAIN || n == PT_ERROR) {
                return;
            }
        }

        rc = pt_http_parse_request_line(r, r->header_in);

        if (rc == PT_OK) {
            if (pt_http_request_line_done(r) != PT_OK) {
                return;
            }

            if (r->http_version < PT_HTTP_VERSION_10) {
                /* HTTP/0.9: no headers follow */
                if (r->headers_in.server.len == 0
                    && pt_http_set_virtual_server(r, &r->headers_in.server) == PT_ERROR)
                {
                    return;
                }
                pt_http_process_request(r);
                return;
            }

            c->log->action = "reading client request headers";
            rev->handler = pt_http_process_request_headers;
            pt_http_process_request_headers(rev);
            return;
        }

        if (rc != PT_AGAIN) {
            pt_http_set_request_line_for_log(r);
            pt_log_error(PT_LOG_INFO, c->log, 0, "%s",
                         pt_http_client_errors[rc - PT_HTTP_PARSE_INVALID_METHOD]);

            pt_http_finalize_request(r, rc == PT_HTTP_PARSE_INVALID_VERSION
                                        ? PT_HTTP_VERSION_NOT_SUPPORTED
                                        : PT_HTTP_BAD_REQUEST);
            return;
        }

        /* PT_AGAIN: the line goes on past the end of the buffer */

        if (r->header_in->pos == r->header_in->end) {
            rv = pt_http_alloc_large_header_buffer(r, 1);

            if (rv == PT_ERROR) {
                pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            if (rv == PT_DECLINED) {
                r->request_line.len = r->header_in->end - r->request_start;
                r->request_line.data = r->request_start;

                pt_log_error(PT_LOG_INFO, c->log, 0, "client sent too long URI");
                pt_http_finalize_request(r, PT_HTTP_REQUEST_URI_TOO_LARGE);
                return;
            }
        }
    }
}

/* Sets r->uri, r->args, r->exten, r->unparsed_uri from the parsed line. */
static pt_int_t
pt_http_process_request_uri(pt_http_request_t *r)
{
    u_char                   *end;
    pt_http_core_srv_conf_t  *cscf;

    end = r->args_start ? r->args_start - 1 : r->uri_end;

    if (r->complex_uri || r->quoted_uri) {
        r->uri.data = pt_pnalloc(r->pool, end - r->uri_start + 1);
        if (r->uri.data == NULL) {
            pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_ERROR;
        }

        cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

        if (pt_http_parse_complex_uri(r, cscf->merge_slashes) != PT_OK) {
            r->uri.len = 0;
            pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                         "client sent invalid request");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }

    } else {
        r->uri.len = end - r->uri_start;
        r->uri.data = r->uri_start;

        if (r->uri_ext) {
            r->exten.len = end - r->uri_ext;
            r->exten.data = r->uri_ext;
        }
    }

    r->unparsed_uri.len = r->uri_end - r->uri_start;
    r->unparsed_uri.data = r->uri_start;
    r->valid_unparsed_uri = r->empty_path_in_uri ? 0 : 1;

    if (r->args_start && r->uri_end > r->args_start) {
        r->args.len = r->uri_end - r->args_start;
        r->args.data = r->args_start;
    }

    return PT_OK;
}

/* Logs and answers a header line the parser or a size limit rejected;
 * [start, end) is the offending line, start NULL when unknown. */
static void
pt_http_header_error(pt_http_request_t *r, pt_int_t status, const char *what,
    u_char *start, u_char *end)
{
    size_t  len;

    if (start == NULL || end < start) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0, "client sent %s", what);

    } else {
        len = end - start;
        if (len > PT_MAX_ERROR_STR - 300) {
            len = PT_MAX_ERROR_STR - 300;
        }
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent %s: \"%.*s\"", what, (int) len, start);
    }

    r->lingering_close = 1;
    pt_http_finalize_request(r, status);
}

static pt_http_header_in_t *
pt_http_find_header_in(pt_http_core_main_conf_t *cmcf, pt_http_header_t *h)
{
    pt_uint_t             key, mask;
    pt_http_header_in_t  *hh;

    mask = cmcf->headers_in_hash_size - 1;

    for (key = h->hash & mask; (hh = cmcf->headers_in_hash[key]);
         key = (key + 1) & mask)
    {
        if (hh->name.len == h->key.len
            && pt_strncasecmp(hh->name.data, h->lowcase_key, h->key.len) == 0)
        {
            return hh;
        }
    }

    return NULL;
}

/* Stores the header line the parser just found. */
static pt_int_t
pt_http_store_header(pt_http_request_t *r)
{
    pt_http_header_t          *h;
    pt_http_header_in_t       *hh;
    pt_http_core_main_conf_t  *cmcf;

    h = pt_list_push(&r->headers_in.headers);
    if (h == NULL) {
        pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_ERROR;
    }

    h->hash = r->header_hash;
    h->key.len = r->header_name_end - r->header_name_start;
    h->key.data = r->header_name_start;
    h->value.len = r->header_end - r->header_start;
    h->value.data = r->header_start;
    h->next = NULL;

    h->lowcase_key = pt_pnalloc(r->pool, h->key.len);
    if (h->lowcase_key == NULL) {
        pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_ERROR;
    }

    if (h->key.len == r->lowcase_index) {
        pt_memcpy(h->lowcase_key, r->lowcase_header, h->key.len);
    } else {
        pt_strlow(h->lowcase_key, h->key.data, h->key.len);
    }

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);

    hh = pt_http_find_header_in(cmcf, h);

    if (hh && hh->handler(r, h, hh->offset) != PT_OK) {
        return PT_ERROR;
    }

    return PT_OK;
}

static void
pt_http_process_request_headers(pt_event_t *rev)
{
    ssize_t                   n;
    pt_int_t                  rc, rv;
    pt_connection_t          *c;
    pt_http_request_t        *r;
    pt_http_core_srv_conf_t  *cscf;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        pt_http_close_request(r, PT_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (c->close && c->error) {
        pt_http_close_request(r, 0);
        return;
    }

    rc = PT_AGAIN;

    for ( ;; ) {

        if (rc == PT_AGAIN) {

            if (r->header_in->pos == r->header_in->end) {
                rv = pt_http_alloc_large_header_buffer(r, 0);

                if (rv == PT_ERROR) {
                    pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                if (rv == PT_DECLINED) {
                    if (r->state == 0) {
                        pt_http_header_error(r, PT_HTTP_REQUEST_HEADER_TOO_LARGE,
                                             "too large request", NULL, NULL);
                    } else {
                        pt_http_header_error(r, PT_HTTP_REQUEST_HEADER_TOO_LARGE,
                                             "too long header line",
                                             r->header_name_start,
                                             r->header_in->pos);
                    }
                    return;
                }
            }

            n = pt_http_read_request_header(r);
            if (n == PT_AGAIN || n == PT_ERROR) {
                return;
            }
        }

        cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

        rc = pt_http_parse_header_line(r, r->header_in, cscf->underscores_in_headers);

        if (rc == PT_OK) {
            r->request_length += r->header_in->pos - r->header_name_start;

            if (r->invalid_header && cscf->ignore_invalid_headers) {
                pt_log_error(PT_LOG_INFO, c->log, 0,
                             "client sent invalid header line: \"%.*s\"",
                             (int) (r->header_end - r->header_name_start),
                             r->header_name_start);
                continue;
            }

            if (pt_http_store_header(r) != PT_OK) {
                return;
            }

            continue;
        }

        if (rc == PT_HTTP_PARSE_HEADER_DONE) {
            r->request_length += r->header_in->pos - r->header_name_start;

            c->log->action = "processing client request headers";

            if (pt_http_process_request_header(r) != PT_OK) {
                return;
            }

            pt_http_process_request(r);
            return;
        }

        if (rc == PT_AGAIN) {
            continue;
        }

        /* PT_HTTP_PARSE_INVALID_HEADER */
        pt_http_header_error(r, PT_HTTP_BAD_REQUEST, "invalid header line",
                             r->header_name_start, r->header_in->pos);
        return;
    }
}

/* Returns the bytes waiting in the header buffer, reading if there are
 * none; PT_AGAIN (the read event is armed) or PT_ERROR (the request is
 * finalized). */
static ssize_t
pt_http_read_request_header(pt_http_request_t *r)
{
    ssize_t                   n;
    pt_event_t               *rev;
    pt_connection_t          *c;
    pt_http_core_srv_conf_t  *cscf;

    c = r->connection;
    rev = c->read;

    n = r->header_in->last - r->header_in->pos;

    if (n > 0) {
        return n;
    }

    if (rev->ready) {
        n = c->recv(c, r->header_in->last, r->header_in->end - r->header_in->last);
    } else {
        n = PT_AGAIN;
    }

    if (n == PT_AGAIN) {
        if (!rev->timer_set) {
            cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
            pt_event_add_timer(rev, cscf->client_header_timeout);
        }

        if (pt_handle_read_event(rev, 0) != PT_OK) {
            pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_ERROR;
        }

        return PT_AGAIN;
    }

    if (n == 0) {
        pt_log_error(PT_LOG_INFO, c->log, 0, "client prematurely closed connection");
    }

    if (n == 0 || n == PT_ERROR) {
        c->error = 1;
        c->log->action = "reading client request headers";
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    r->header_in->last += n;

    return n;
}

#define pt_http_rebase(field)                                               \
    do {                                                                    \
        if (r->field) {                                                     \
            r->field = new + (r->field - old);                              \
        }                                                                   \
    } while (0)

/*
 * The head outgrew its buffer: take a large header buffer (a free one, or
 * a new one while fewer than large_client_header_buffers.num are busy)
 * and move the incomplete request line or header line into it, fixing the
 * parser's pointers.  Lines already parsed stay where they are.  Returns
 * PT_DECLINED when the line alone is too long or no buffer is left.
 */
static pt_int_t
pt_http_alloc_large_header_buffer(pt_http_request_t *r, pt_uint_t request_line)
{
    u_char                   *old, *new;
    size_t                    size, len;
    pt_buf_t                 *b;
    pt_chain_t               *cl;
    pt_connection_t          *c;
    pt_http_connection_t     *hc;
    pt_http_core_srv_conf_t  *cscf;

    c = r->connection;

    if (request_line && r->request_start == NULL) {
        /* only empty lines so far */
        r->header_in->pos = r->header_in->start;
        r->header_in->last = r->header_in->start;
        return PT_OK;
    }

    old = request_line ? r->request_start : r->header_name_start;
    len = r->state ? (size_t) (r->header_in->pos - old) : 0;

    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
    size = cscf->large_client_header_buffers.size;

    if (len >= size) {
        return PT_DECLINED;
    }

    hc = r->http_connection;

    if (hc->nbusy >= cscf->large_client_header_buffers.num) {
        return PT_DECLINED;
    }

    if (hc->free) {
        cl = hc->free;
        hc->free = cl->next;
        b = cl->buf;

        if (b->start && (size_t) (b->end - b->start) < size) {
            (void) pt_pfree(c->pool, b->start);
            b->start = NULL;
        }

    } else {
        b = pt_calloc_buf(c->pool);
        cl = pt_alloc_chain_link(c->pool);
        if (b == NULL || cl == NULL) {
            return PT_ERROR;
        }
        cl->buf = b;
    }

    if (b->start == NULL) {
        b->start = pt_palloc(c->pool, size);
        if (b->start == NULL) {
            return PT_ERROR;
        }
        b->end = b->start + size;
        b->temporary = 1;
    }

    cl->next = hc->busy;
    hc->busy = cl;
    hc->nbusy++;

    new = b->start;

    if (len) {
        pt_memcpy(new, old, len);
    }

    b->pos = new + len;
    b->last = new + len;

    if (len == 0) {
        r->header_in = b;
        return PT_OK;
    }

    if (request_line) {
        pt_http_rebase(request_start);
        pt_http_rebase(request_end);
        pt_http_rebase(method_end);
        pt_http_rebase(uri_start);
        pt_http_rebase(uri_end);
        pt_http_rebase(uri_ext);
        pt_http_rebase(args_start);
        pt_http_rebase(schema_start);
        pt_http_rebase(schema_end);
        pt_http_rebase(host_start);
        pt_http_rebase(host_end);
        pt_http_rebase(port_end);
        pt_http_rebase(http_protocol_start);

    } else {
        pt_http_rebase(header_name_start);
        pt_http_rebase(header_name_end);
        pt_http_rebase(header_start);
        pt_http_rebase(header_end);
    }

    r->header_in = b;

    return PT_OK;
}

/* ---- request header handlers ---- */

/* Keeps the first occurrence in its slot and chains the others. */
static pt_int_t
pt_http_process_header_line(pt_http_request_t *r, pt_http_header_t *h,
    pt_uint_t offset)
{
    pt_http_header_t  **ph;

    ph = (pt_http_header_t **) ((char *) &r->headers_in + offset);

    while (*ph) {
        ph = &(*ph)->next;
    }

    *ph = h;

    return PT_OK;
}

static pt_int_t
pt_http_process_unique_header_line(pt_http_request_t *r, pt_http_header_t *h,
    pt_uint_t offset)
{
    pt_http_header_t  **ph;

    ph = (pt_http_header_t **) ((char *) &r->headers_in + offset);

    if (*ph == NULL) {
        *ph = h;
        return PT_OK;
    }

    pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                 "client sent duplicate header line: \"" PT_STR_FMT ": " PT_STR_FMT
                 "\", previous value: \"" PT_STR_FMT ": " PT_STR_FMT "\"",
                 PT_STR_ARG(h->key), PT_STR_ARG(h->value),
                 PT_STR_ARG((*ph)->key), PT_STR_ARG((*ph)->value));

    pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);

    return PT_ERROR;
}

static pt_int_t
pt_http_process_host(pt_http_request_t *r, pt_http_header_t *h, pt_uint_t offset)
{
    pt_str_t   host;
    pt_uint_t  lowcase;

    if (r->headers_in.host) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent duplicate host header: \"" PT_STR_FMT ": "
                     PT_STR_FMT "\", previous value: \"" PT_STR_FMT ": "
                     PT_STR_FMT "\"",
                     PT_STR_ARG(h->key), PT_STR_ARG(h->value),
                     PT_STR_ARG(r->headers_in.host->key),
                     PT_STR_ARG(r->headers_in.host->value));
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    r->headers_in.host = h;

    host = h->value;

    if (pt_http_validate_host(&host, &lowcase) != PT_OK) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent invalid host header");
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    if (r->headers_in.server.len) {
        return PT_OK;
    }

    if (lowcase) {
        host.data = pt_pstrdup(r->pool, &host);
        if (host.data == NULL) {
            pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_ERROR;
        }
        pt_strlow(host.data, host.data, host.len);
    }

    if (pt_http_set_virtual_server(r, &host) == PT_ERROR) {
        return PT_ERROR;
    }

    r->headers_in.server = host;

    return PT_OK;
}

static pt_int_t
pt_http_process_connection(pt_http_request_t *r, pt_http_header_t *h,
    pt_uint_t offset)
{
    (void) pt_http_process_header_line(r, h, offset);

    if (pt_http_list_has_token(&h->value, "close", sizeof("close") - 1)) {
        r->headers_in.connection_type = PT_HTTP_CONNECTION_CLOSE;

    } else if (r->headers_in.connection_type == 0
               && pt_http_list_has_token(&h->value, "keep-alive",
                                         sizeof("keep-alive") - 1))
    {
        r->headers_in.connection_type = PT_HTTP_CONNECTION_KEEP_ALIVE;
    }

    return PT_OK;
}

/* Checks the head as a whole once all of it is read (RFC 9112 6). */
static pt_int_t
pt_http_process_request_header(pt_http_request_t *r)
{
    pt_log_t          *log;
    pt_http_header_t  *te;

    log = r->connection->log;

    if (r->headers_in.server.len == 0
        && pt_http_set_virtual_server(r, &r->headers_in.server) == PT_ERROR)
    {
        return PT_ERROR;
    }

    if (r->headers_in.host == NULL && r->http_version > PT_HTTP_VERSION_10) {
        pt_log_error(PT_LOG_INFO, log, 0,
                     "client sent HTTP/1.1 request without \"Host\" header");
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    if (r->headers_in.content_length) {
        r->headers_in.content_length_n =
            pt_atoof(r->headers_in.content_length->value.data,
                     r->headers_in.content_length->value.len);

        if (r->headers_in.content_length_n == PT_ERROR) {
            pt_log_error(PT_LOG_INFO, log, 0,
                         "client sent invalid \"Content-Length\" header");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }
    }

    te = r->headers_in.transfer_encoding;

    if (te) {
        if (r->http_version < PT_HTTP_VERSION_11) {
            pt_log_error(PT_LOG_INFO, log, 0,
                         "client sent HTTP/1.0 request with "
                         "\"Transfer-Encoding\" header");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }

        if (te->value.len != sizeof("chunked") - 1
            || pt_strncasecmp(te->value.data, (u_char *) "chunked", te->value.len) != 0)
        {
            pt_log_error(PT_LOG_INFO, log, 0,
                         "client sent unknown \"Transfer-Encoding\": \""
                         PT_STR_FMT "\"", PT_STR_ARG(te->value));
            pt_http_finalize_request(r, PT_HTTP_NOT_IMPLEMENTED);
            return PT_ERROR;
        }

        if (r->headers_in.content_length) {
            pt_log_error(PT_LOG_INFO, log, 0,
                         "client sent \"Content-Length\" and "
                         "\"Transfer-Encoding\" headers at the same time");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }

        r->headers_in.chunked = 1;
    }

    if (r->method == PT_HTTP_CONNECT) {
        pt_log_error(PT_LOG_INFO, log, 0, "client sent CONNECT method");
        pt_http_finalize_request(r, PT_HTTP_NOT_ALLOWED);
        return PT_ERROR;
    }

    if (r->method == PT_HTTP_TRACE) {
        pt_log_error(PT_LOG_INFO, log, 0, "client sent TRACE method");
        pt_http_finalize_request(r, PT_HTTP_NOT_ALLOWED);
        return PT_ERROR;
    }

    return PT_OK;
}

static void
pt_http_process_request(pt_http_request_t *r)
{
    pt_connection_t  *c;

    c = r->connection;

    if (c->read->timer_set) {
        pt_event_del_timer(c->read);
    }

    c->log->action = "processing request";

    c->read->handler = pt_http_request_handler;
    c->write->handler = pt_http_request_handler;
    r->read_event_handler = pt_http_block_reading;

    pt_http_handler(r);
}

static pt_int_t
pt_http_set_virtual_server(pt_http_request_t *r, pt_str_t *host)
{
    pt_http_core_srv_conf_t  *cscf;

    cscf = pt_http_find_virtual_server(r->http_connection->addr_conf, host);

    if (cscf == NULL) {
        return PT_OK;
    }

    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;

    return PT_OK;
}

/* ---- running and finishing ---- */

static void
pt_http_request_handler(pt_event_t *ev)
{
    pt_connection_t    *c;
    pt_http_request_t  *r;
    pt_http_log_ctx_t  *ctx;

    c = ev->data;
    r = c->data;

    ctx = c->log->data;
    ctx->current_request = r;

    if (c->close && c->error) {
        /* worker_shutdown_timeout */
        pt_http_terminate_request(r, 0);
        return;
    }

    if (ev->write) {
        r->write_event_handler(r);
    } else {
        r->read_event_handler(r);
    }
}

void
pt_http_finalize_request(pt_http_request_t *r, pt_int_t rc)
{
    pt_connection_t  *c;

    c = r->connection;

    if (rc == PT_DONE) {
        pt_http_finalize_connection(r);
        return;
    }

    if (rc == PT_OK && r->filter_finalize) {
        c->error = 1;
    }

    if (rc == PT_DECLINED) {
        r->content_handler = NULL;
        r->write_event_handler = pt_http_core_run_phases;
        pt_http_core_run_phases(r);
        return;
    }

    if (rc == PT_ERROR || rc == PT_HTTP_REQUEST_TIME_OUT
        || rc == PT_HTTP_CLIENT_CLOSED_REQUEST || c->error)
    {
        pt_http_terminate_request(r, rc);
        return;
    }

    if (rc >= PT_HTTP_SPECIAL_RESPONSE || rc == PT_HTTP_CREATED
        || rc == PT_HTTP_NO_CONTENT)
    {
        if (rc == PT_HTTP_CLOSE) {
            c->timedout = 1;
            pt_http_terminate_request(r, rc);
            return;
        }

        if (c->read->timer_set) {
            pt_event_del_timer(c->read);
        }

        if (c->write->timer_set) {
            pt_event_del_timer(c->write);
        }

        c->read->handler = pt_http_request_handler;
        c->write->handler = pt_http_request_handler;

        pt_http_finalize_request(r, pt_http_special_response_handler(r, rc));
        return;
    }

    /* PT_OK or PT_AGAIN */

    if (r->buffered || c->buffered) {
        if (pt_http_set_write_handler(r) != PT_OK) {
            pt_http_terminate_request(r, 0);
        }
        return;
    }

    r->done = 1;
    r->read_event_handler = pt_http_block_reading;
    r->write_event_handler = pt_http_request_empty_handler;

    if (c->read->timer_set) {
        pt_event_del_timer(c->read);
    }

    if (c->write->timer_set) {
        c->write->delayed = 0;
        pt_event_del_timer(c->write);
    }

    pt_http_finalize_connection(r);
}

void
pt_http_terminate_request(pt_http_request_t *r, pt_int_t rc)
{
    pt_http_cleanup_t  *cln;

    r = r->main;

    if (r->terminated) {
        return;
    }

    r->terminated = 1;

    if (rc > 0 && (r->headers_out.status == 0 || r->connection->sent == 0)) {
        r->headers_out.status = rc;
    }

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler) {
            cln->handler(cln->data);
            cln->handler = NULL;
        }
    }

    r->count = 1;
    pt_http_close_request(r, rc);
}

static void
pt_http_finalize_connection(pt_http_request_t *r)
{
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->main->count != 1) {
        if (r->discard_body) {
            r->read_event_handler = pt_http_discarded_request_body_handler;
            pt_event_add_timer(c->read, clcf->lingering_timeout);

            if (r->lingering_time == 0) {
                r->lingering_time = pt_time() + (time_t) (clcf->lingering_time / 1000);
            }
        }

        pt_http_close_request(r, 0);
        return;
    }

    r = r->main;

    if (c->read->eof) {
        pt_http_close_request(r, 0);
        return;
    }

    if (r->reading_body) {
        r->keepalive = 0;
        r->lingering_close = 1;
    }

    if (!pt_terminate && !pt_exiting && !c->close && r->keepalive
        && clcf->keepalive_timeout > 0)
    {
        pt_http_set_keepalive(r);
        return;
    }

    if (clcf->lingering_close == PT_HTTP_LINGERING_ALWAYS
        || (clcf->lingering_close == PT_HTTP_LINGERING_ON
            && (r->lingering_close || r->header_in->pos < r->header_in->last
                || c->read->ready)))
    {
        pt_http_set_lingering_close(c);
        return;
    }

    pt_http_close_request(r, 0);
}

static pt_int_t
pt_http_set_write_handler(pt_http_request_t *r)
{
    pt_event_t               *wev;
    pt_http_core_loc_conf_t  *clcf;

    r->read_event_handler = r->discard_body
                            ? pt_http_discarded_request_body_handler
                            : pt_http_test_reading;
    r->write_event_handler = pt_http_writer;

    wev = r->connection->write;

    if (wev->ready && wev->delayed) {
        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (!wev->delayed) {
        pt_event_add_timer(wev, clcf->send_timeout);
    }

    if (pt_handle_write_event(wev, 0) != PT_OK) {
        pt_http_close_request(r, 0);
        return PT_ERROR;
    }

    return PT_OK;
}

/* The write event handler while a response is still being sent. */
static void
pt_http_writer(pt_http_request_t *r)
{
    pt_int_t                  rc;
    pt_event_t               *wev;
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (wev->timedout) {
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        pt_http_finalize_request(r, PT_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed) {
        if (!wev->timer_set) {
            pt_event_add_timer(wev, clcf->send_timeout);
        }
        if (pt_handle_write_event(wev, 0) != PT_OK) {
            pt_http_close_request(r, 0);
        }
        return;
    }

    rc = pt_http_output_filter(r, NULL);

    if (rc == PT_ERROR) {
        pt_http_finalize_request(r, rc);
        return;
    }

    if (r->buffered || c->buffered) {
        pt_event_add_timer(wev, clcf->send_timeout);

        if (pt_handle_write_event(wev, 0) != PT_OK) {
            pt_http_close_request(r, 0);
        }
        return;
    }

    r->write_event_handler = pt_http_request_empty_handler;

    pt_http_finalize_request(r, rc);
}

/* While a response is written: notices a client that went away. */
static void
pt_http_test_reading(pt_http_request_t *r)
{
    char              buf[1];
    ssize_t           n;
    pt_err_t          err;
    pt_event_t       *rev;
    pt_connection_t  *c;

    c = r->connection;
    rev = c->read;

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n > 0) {
        /* pipelined data: read it after this response */
        return;
    }

    if (n == -1) {
        err = pt_socket_errno;
        if (err == EAGAIN || err == EINTR) {
            rev->ready = 0;
            return;
        }
    } else {
        err = 0;
    }

    rev->eof = 1;
    c->error = 1;

    pt_log_error(PT_LOG_INFO, c->log, err, "client prematurely closed connection");

    pt_http_finalize_request(r, PT_HTTP_CLIENT_CLOSED_REQUEST);
}

/* Moves the large header buffers of the finished request to the free list;
 * when the connection goes idle (release), their memory is returned too. */
static void
pt_http_release_large_buffers(pt_connection_t *c, pt_http_connection_t *hc,
    pt_uint_t release)
{
    pt_chain_t  *cl, *next;

    for (cl = hc->busy; cl; cl = next) {
        next = cl->next;
        cl->next = hc->free;
        hc->free = cl;
    }

    hc->busy = NULL;
    hc->nbusy = 0;

    if (!release) {
        return;
    }

    for (cl = hc->free; cl; cl = cl->next) {
        if (cl->buf->start && pt_pfree(c->pool, cl->buf->start) == PT_OK) {
            cl->buf->start = NULL;
        }
    }
}

/* Pipelined bytes left in a large header buffer: give them to c->buffer. */
static pt_int_t
pt_http_move_pipelined(pt_connection_t *c, pt_http_connection_t *hc, pt_buf_t *b)
{
    size_t       len;
    pt_chain_t  *cl, **ll;

    len = b->last - b->pos;

    if (c->buffer->start && (size_t) (c->buffer->end - c->buffer->start) >= len) {
        pt_memcpy(c->buffer->start, b->pos, len);
        c->buffer->pos = c->buffer->start;
        c->buffer->last = c->buffer->start + len;
        return PT_OK;
    }

    /* Too large for it: the large buffer becomes the connection's buffer. */
    for (ll = &hc->busy; (cl = *ll); ll = &cl->next) {
        if (cl->buf == b) {
            *ll = cl->next;
            hc->nbusy--;
            break;
        }
    }

    if (c->buffer->start) {
        (void) pt_pfree(c->pool, c->buffer->start);
    }

    c->buffer = b;

    return PT_OK;
}

static void
pt_http_set_keepalive(pt_http_request_t *r)
{
    pt_buf_t                 *b;
    pt_event_t               *rev;
    pt_uint_t                 pipelined;
    pt_connection_t          *c;
    pt_http_connection_t     *hc;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    rev = c->read;
    hc = r->http_connection;
    b = r->header_in;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    c->log->action = "closing request";

    pipelined = (b->pos < b->last);

    /* Log first: the request's strings point into the header buffers. */
    pt_http_free_request(r, 0);

    if (pipelined && b != c->buffer) {
        (void) pt_http_move_pipelined(c, hc, b);
    }

    c->data = hc;
    c->sent = 0;
    c->destroyed = 0;

    if (clcf->tcp_nodelay && pt_tcp_nodelay(c) != PT_OK) {
        pt_http_close_connection(c);
        return;
    }

    pt_http_release_large_buffers(c, hc, !pipelined);

    if (pipelined) {
        b = c->buffer;

        if (b->pos != b->start) {
            /* nothing points into the finished request any more */
            pt_memmove(b->start, b->pos, b->last - b->pos);
            b->last = b->start + (b->last - b->pos);
            b->pos = b->start;
        }

        r = pt_http_create_request(c);
        if (r == NULL) {
            pt_http_close_connection(c);
            return;
        }

        c->data = r;
        hc->pipeline = 1;
        c->log->action = "reading client pipelined request line";

        c->write->handler = pt_http_empty_handler;
        rev->handler = pt_http_process_request_line;
        pt_post_event(rev, &pt_posted_events);
        return;
    }

    hc->pipeline = 0;

    b = c->buffer;

    if (b && b->start) {
        if (pt_pfree(c->pool, b->start) == PT_OK) {
            b->start = NULL;
        } else {
            b->pos = b->start;
            b->last = b->start;
        }
    }

    c->log->action = "keepalive";

    rev->handler = pt_http_wait_request_handler;
    c->write->handler = pt_http_empty_handler;

    c->idle = 1;
    pt_reusable_connection(c, 1);

    pt_event_add_timer(rev, clcf->keepalive_timeout);

    if (rev->ready) {
        pt_post_event(rev, &pt_posted_events);
    }
}

/*
 * Closing with unread input pending would make the kernel answer it with a
 * reset, which can destroy the response in flight.  So: shut down the
 * writing side, then read and drop what the client still sends until it
 * closes, lingering_timeout passes without data, or lingering_time ends.
 * The request is logged now, not when the connection finally closes.
 */
static void
pt_http_set_lingering_close(pt_connection_t *c)
{
    pt_event_t               *rev, *wev;
    pt_http_request_t        *r;
    pt_http_core_loc_conf_t  *clcf;

    r = c->data;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->lingering_time == 0) {
        r->lingering_time = pt_time() + (time_t) (clcf->lingering_time / 1000);
    }

    if (!r->logged) {
        pt_http_log_request(r);
    }

    rev = c->read;
    rev->handler = pt_http_lingering_close_handler;

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        pt_http_close_request(r, 0);
        return;
    }

    wev = c->write;
    wev->handler = pt_http_empty_handler;

    if (shutdown(c->fd, SHUT_WR) == -1) {
        pt_connection_error(c, pt_socket_errno, "shutdown() failed");
        pt_http_close_request(r, 0);
        return;
    }

    c->log->action = "lingering close";

    pt_event_add_timer(rev, clcf->lingering_timeout);

    if (rev->ready) {
        pt_http_lingering_close_handler(rev);
    }
}

static void
pt_http_lingering_close_handler(pt_event_t *rev)
{
    ssize_t                   n;
    pt_msec_t                 timer;
    pt_connection_t          *c;
    pt_http_request_t        *r;
    pt_http_core_loc_conf_t  *clcf;
    u_char                    buffer[PT_HTTP_LINGERING_BUFFER_SIZE];

    c = rev->data;
    r = c->data;

    if (rev->timedout || (c->close && c->error)) {
        pt_http_close_request(r, 0);
        return;
    }

    if (r->lingering_time <= pt_time()) {
        pt_http_close_request(r, 0);
        return;
    }

    timer = (pt_msec_t) (r->lingering_time - pt_time()) * 1000;

    do {
        n = c->recv(c, buffer, PT_HTTP_LINGERING_BUFFER_SIZE);

        if (n == PT_ERROR || n == 0) {
            pt_http_close_request(r, 0);
            return;
        }

    } while (rev->ready);

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        pt_http_close_request(r, 0);
        return;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (timer > clcf->lingering_timeout) {
        timer = clcf->lingering_timeout;
    }

    pt_event_add_timer(rev, timer);
}

/* ---- releasing ---- */

static void
pt_http_close_request(pt_http_request_t *r, pt_int_t rc)
{
    pt_connection_t  *c;

    r = r->main;
    c = r->connection;

    if (r->count == 0) {
        pt_log_error(PT_LOG_ALERT, c->log, 0, "http request count is zero");
    }

    r->count--;

    if (r->count) {
        return;
    }

    pt_http_free_request(r, rc);
    pt_http_close_connection(c);
}

/* Runs the request pool's cleanups and empties it for the next request on
 * the connection (the pool's first block is kept: no malloc next time). */
static void
pt_http_recycle_pool(pt_pool_t *pool)
{
    pt_pool_cleanup_t  *cln;

    for (cln = pool->cleanup; cln; cln = cln->next) {
        if (cln->handler) {
            cln->handler(cln->data);
        }
    }

    pool->cleanup = NULL;

    pt_reset_pool(pool);
}

void
pt_http_free_request(pt_http_request_t *r, pt_int_t rc)
{
    pt_log_t              *log;
    pt_pool_t             *pool;
    pt_http_log_ctx_t     *ctx;
    pt_http_cleanup_t     *cln;

    log = r->connection->log;

    if (r->pool == NULL) {
        pt_log_error(PT_LOG_ALERT, log, 0, "http request already closed");
        return;
    }

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler) {
            cln->handler(cln->data);
        }
    }

    if (rc > 0 && (r->headers_out.status == 0 || r->connection->sent == 0)) {
        r->headers_out.status = rc;
    }

    if (!r->logged) {
        log->action = "logging request";
        pt_http_log_request(r);
    }

    log->action = "closing request";

    r->connection->destroyed = 1;

    ctx = log->data;
    ctx->request = NULL;
    ctx->current_request = NULL;

    r->signature = 0;

    pool = r->pool;
    r->pool = NULL;

    /* r itself lives in the pool: nothing of it may be used after this. */
    pt_http_recycle_pool(pool);
}

static void
pt_http_log_request(pt_http_request_t *r)
{
    pt_uint_t                  i, n;
    pt_http_handler_pt        *log_handler;
    pt_http_core_main_conf_t  *cmcf;

    r->logged = 1;

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);

    log_handler = cmcf->phases[PT_HTTP_LOG_PHASE].handlers.elts;
    n = cmcf->phases[PT_HTTP_LOG_PHASE].handlers.nelts;

    for (i = 0; i < n; i++) {
        log_handler[i](r);
    }
}

void
pt_http_close_connection(pt_connection_t *c)
{
    pt_pool_t  *pool;

    c->destroyed = 1;

    pool = c->pool;

    pt_close_connection(c);

    /* Destroys the request pool too (a cleanup of the connection pool). */
    pt_destroy_pool(pool);
}

/* ---- small handlers ---- */

void
pt_http_request_empty_handler(pt_http_request_t *r)
{
}

void
pt_http_block_reading(pt_http_request_t *r)
{
    /* Edge-triggered: nothing to disable; data waits in the socket. */
}

static void
pt_http_empty_handler(pt_event_t *ev)
{
}

pt_http_cleanup_t *
pt_http_cleanup_add(pt_http_request_t *r, size_t size)
{
    pt_http_cleanup_t  *cln;

    r = r->main;

    cln = pt_palloc(r->pool, sizeof(pt_http_cleanup_t));
    if (cln == NULL) {
        return NULL;
    }

    if (size) {
        cln->data = pt_palloc(r->pool, size);
        if (cln->data == NULL) {
            return NULL;
        }
    } else {
        cln->data = NULL;
    }

    cln->handler = NULL;
    cln->next = r->cleanup;
    r->cleanup = cln;

    return cln;
}

/* ---- error log context ---- */

u_char *
pt_http_log_error(pt_log_t *log, u_char *buf, size_t len)
{
    u_char              *p, *last;
    pt_connection_t     *c;
    pt_http_request_t   *r;
    pt_http_log_ctx_t   *ctx;

    last = buf + len;
    p = buf;

    if (log->action) {
        p = pt_slprintf(p, last, " while %s", log->action);
    }

    ctx = log->data;
    c = ctx->connection;

    p = pt_slprintf(p, last, ", client: " PT_STR_FMT, PT_STR_ARG(c->addr_text));

    r = ctx->request;

    if (r == NULL) {
        return pt_slprintf(p, last, ", server: " PT_STR_FMT,
                           PT_STR_ARG(c->listening->addr_text));
    }

    if (r->srv_conf) {
        p = pt_slprintf(p, last, ", server: " PT_STR_FMT,
                        PT_STR_ARG(((pt_http_core_srv_conf_t *)
                                    r->srv_conf[pt_http_core_module.ctx_index])
                                   ->server_name));
    }

    if (r->request_line.len) {
        p = pt_slprintf(p, last, ", request: \"" PT_STR_FMT "\"",
                        PT_STR_ARG(r->request_line));
    }

    if (r->headers_in.host) {
        p = pt_slprintf(p, last, ", host: \"" PT_STR_FMT "\"",
                        PT_STR_ARG(r->headers_in.host->value));
    }

    return p;
}
