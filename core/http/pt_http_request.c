/*
 * pt_http_request.c: the life of an HTTP/1.x connection and its requests.
 *
 *   accept -> pt_http_init_connection
 *     -> wait_request_handler     idle: no buffer until bytes arrive
 *     -> process_request_line     parse the head as data arrives, see
 *        process_request_headers  pt_http_request_header.c
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

static pt_http_request_t *pt_http_create_request(pt_connection_t *c);
static void pt_http_finalize_connection(pt_http_request_t *r);
static pt_int_t pt_http_set_write_handler(pt_http_request_t *r);
static void pt_http_writer(pt_http_request_t *r);
static void pt_http_test_reading(pt_http_request_t *r);
static void pt_http_set_keepalive(pt_http_request_t *r);
static void pt_http_set_lingering_close(pt_connection_t *c);
static void pt_http_lingering_close_handler(pt_event_t *rev);
static void pt_http_log_request(pt_http_request_t *r);
static void pt_http_reset_timedout(pt_http_request_t *r);
static void pt_http_tcp_push(pt_connection_t *c);
static void pt_http_empty_handler(pt_event_t *ev);

/* ---- memory of idle connections ----
 *
 * An idle keepalive connection holds neither a request pool nor header
 * buffer memory: both go back to small per-worker caches when a request
 * ends, and the next request, on any connection, takes them from there
 * (most recently used first, so they are warm).  Steady traffic therefore
 * allocates nothing, and ten thousand idle connections cost ten thousand
 * connection pools only.
 */

#define PT_HTTP_CACHE_MAX  64

typedef struct {
    void        *elts[PT_HTTP_CACHE_MAX];
    pt_uint_t    n;
    size_t       size;          /* every cached block has this size */
} pt_http_block_cache_t;

static pt_http_block_cache_t  pt_http_pool_cache;
static pt_http_block_cache_t  pt_http_buffer_cache;

static pt_pool_t *
pt_http_get_request_pool(size_t size, pt_log_t *log)
{
    pt_pool_t              *pool;
    pt_http_block_cache_t  *cache;

    cache = &pt_http_pool_cache;

    if (cache->n && cache->size == size) {
        pool = cache->elts[--cache->n];
        pool->log = log;
        return pool;
    }

    return pt_create_pool(size, log);
}

/* A request pool that grew (a head with many fields, say) is kept with
 * its extra blocks, so the next such request allocates nothing either;
 * one that grew more than this is given back. */
#define PT_HTTP_POOL_KEEP_BLOCKS  4

/* Runs the pool's cleanups, then keeps it (emptied, its blocks kept) or
 * destroys it. */
static void
pt_http_put_request_pool(pt_pool_t *pool)
{
    size_t                  size;
    pt_uint_t               blocks;
    pt_pool_t              *p;
    pt_pool_cleanup_t      *cln;
    pt_http_block_cache_t  *cache;

    for (cln = pool->cleanup; cln; cln = cln->next) {
        if (cln->handler) {
            cln->handler(cln->data);
        }
    }

    pool->cleanup = NULL;

    cache = &pt_http_pool_cache;
    size = pool->d.end - (u_char *) pool;

    if (cache->n == 0) {
        cache->size = size;
    }

    blocks = 0;
    for (p = pool; p; p = p->d.next) {
        blocks++;
    }

    if (blocks > PT_HTTP_POOL_KEEP_BLOCKS || cache->n == PT_HTTP_CACHE_MAX
        || cache->size != size)
    {
        pt_destroy_pool(pool);
        return;
    }

    pt_reset_pool(pool);
    cache->elts[cache->n++] = pool;
}

/* Memory for c->buffer (client_header_buffer_size bytes). */
static u_char *
pt_http_alloc_header_buffer(size_t size, pt_log_t *log)
{
    pt_http_block_cache_t  *cache;

    cache = &pt_http_buffer_cache;

    if (cache->n && cache->size == size) {
        return cache->elts[--cache->n];
    }

    return pt_alloc(size, log);
}

static void
pt_http_free_header_buffer(pt_buf_t *b)
{
    size_t                  size;
    pt_http_block_cache_t  *cache;

    cache = &pt_http_buffer_cache;
    size = b->end - b->start;

    if (cache->n == 0) {
        cache->size = size;
    }

    if (cache->n < PT_HTTP_CACHE_MAX && cache->size == size) {
        cache->elts[cache->n++] = b->start;
    } else {
        pt_free(b->start);
    }

    b->start = NULL;
    b->pos = NULL;
    b->last = NULL;
    b->end = NULL;
}

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

#if (PT_HAVE_HTTP_SSL_MODULE)
    if (hc->addr_conf->ssl) {
        /* the TLS handshake comes first (modules/http_ssl) */
        pt_http_ssl_init_connection(c);
        return;
    }
#endif

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
 * buffer exists only while bytes are there to hold: it is taken on
 * arrival and given back while the connection is idle.
 */
void
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
        b->start = pt_http_alloc_header_buffer(size, c->log);
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

        if (b->pos == b->last) {
            pt_http_free_header_buffer(b);
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

    /* The first request's head must arrive within client_header_timeout of
     * the connect (that timer stays); on a keepalive connection the idle
     * timer ends here and the header timer starts when reading stalls. */
    if (c->requests && rev->timer_set) {
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

/* A request, in a request pool from the cache. */
static pt_http_request_t *
pt_http_create_request(pt_connection_t *c)
{
    pt_pool_t                 *pool;
    pt_time_t                 *tp;
    pt_http_request_t         *r;
    pt_http_log_ctx_t         *ctx;
    pt_http_connection_t      *hc;
    pt_http_core_srv_conf_t   *cscf;
    pt_http_core_main_conf_t  *cmcf;

    hc = c->data;
    cscf = hc->conf_ctx->srv_conf[pt_http_core_module.ctx_index];
    cmcf = hc->conf_ctx->main_conf[pt_http_core_module.ctx_index];

    pool = pt_http_get_request_pool(cscf->request_pool_size, c->log);
    if (pool == NULL) {
        return NULL;
    }

    r = pt_pcalloc(pool, sizeof(pt_http_request_t));
    if (r == NULL) {
        pt_destroy_pool(pool);
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
        pt_destroy_pool(pool);
        return NULL;
    }

    r->ctx = pt_pcalloc(pool, sizeof(void *) * pt_http_max_module);
    r->variables = pt_pcalloc(pool, (cmcf->variables.nelts + 1)
                                    * sizeof(pt_http_variable_value_t));
    if (r->ctx == NULL || r->variables == NULL) {
        pt_destroy_pool(pool);
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

/* ---- running and finishing ---- */

void
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

    if (rc == PT_ERROR || rc == PT_HTTP_CLIENT_CLOSED_REQUEST || c->error
        || (rc == PT_HTTP_REQUEST_TIME_OUT && c->timedout))
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
pt_http_request_timed_out(pt_http_request_t *r)
{
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");

    if (clcf->reset_timedout_connection || r->header_sent) {
        /* no answer: the connection is reset (or just closed) at once */
        c->timedout = 1;
        pt_http_terminate_request(r, PT_HTTP_REQUEST_TIME_OUT);
        return;
    }

    /* RFC 9110 15.5.9: a 408 says the connection is being closed */
    r->keepalive = 0;
    r->lingering_close = 0;
    r->reading_body = 0;
    r->read_event_handler = pt_http_block_reading;

    pt_http_finalize_request(r, PT_HTTP_REQUEST_TIME_OUT);
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
        if (!wev->delayed) {
            /* send_timeout: the client stopped reading; nothing more can go */
            pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
            c->timedout = 1;
            pt_http_finalize_request(r, PT_HTTP_REQUEST_TIME_OUT);
            return;
        }

        /* the limit_rate pause is over */
        wev->timedout = 0;
        wev->delayed = 0;
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
        if (!wev->delayed) {
            pt_event_add_timer(wev, clcf->send_timeout);
        }

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

/* Moves the large header buffers of the finished request to the free list,
 * but keep (the one holding pipelined bytes) stays busy; when the
 * connection goes idle (release), the memory of the free ones is returned
 * too. */
static void
pt_http_release_large_buffers(pt_connection_t *c, pt_http_connection_t *hc,
    pt_buf_t *keep, pt_uint_t release)
{
    pt_chain_t  *cl, *next, *kept;

    kept = NULL;

    for (cl = hc->busy; cl; cl = next) {
        next = cl->next;

        if (cl->buf == keep) {
            cl->next = NULL;
            kept = cl;
            continue;
        }

        cl->next = hc->free;
        hc->free = cl;
    }

    hc->busy = kept;
    hc->nbusy = kept ? 1 : 0;

    if (!release) {
        return;
    }

    for (cl = hc->free; cl; cl = cl->next) {
        if (cl->buf->start && pt_pfree(c->pool, cl->buf->start) == PT_OK) {
            cl->buf->start = NULL;
        }
    }
}

static void
pt_http_set_keepalive(pt_http_request_t *r)
{
    size_t                    len;
    pt_buf_t                 *b, *keep;
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

    keep = NULL;

    if (pipelined && b != c->buffer) {
        /* pipelined bytes in a large header buffer: into c->buffer when
         * they fit, else that buffer stays the next request's */
        len = b->last - b->pos;

        if ((size_t) (c->buffer->end - c->buffer->start) >= len) {
            pt_memcpy(c->buffer->start, b->pos, len);
            c->buffer->pos = c->buffer->start;
            c->buffer->last = c->buffer->start + len;
            b = c->buffer;

        } else {
            keep = b;
        }
    }

    c->data = hc;
    c->sent = 0;
    c->destroyed = 0;

    if (c->tcp_nopush == PT_TCP_NOPUSH_SET) {
        /* let the corked tail of the response go before the wait */
        pt_http_tcp_push(c);
    }

    if (clcf->tcp_nodelay && pt_tcp_nodelay(c) != PT_OK) {
        pt_http_close_connection(c);
        return;
    }

    pt_http_release_large_buffers(c, hc, keep, !pipelined);

    if (pipelined) {
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

    if (c->buffer && c->buffer->start) {
        pt_http_free_header_buffer(c->buffer);
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

    if (c->ssl) {
        /* close_notify must precede the TCP half-close */
        pt_ssl_shutdown_notify(c);
    }

    if (shutdown(c->fd, SHUT_WR) == -1) {
        pt_connection_error(c, pt_socket_errno, "shutdown() failed");
        pt_http_close_request(r, 0);
        return;
    }

    c->log->action = "lingering close";

    /* nothing more is owed to the client: a draining worker may cut the
     * wait short (idle connections get the short grace timer) */
    c->idle = 1;
    pt_reusable_connection(c, 1);

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

void
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

    if (r->connection->timedout) {
        pt_http_reset_timedout(r);
    }

    r->connection->destroyed = 1;

    ctx = log->data;
    ctx->request = NULL;
    ctx->current_request = NULL;

    r->signature = 0;

    pool = r->pool;
    r->pool = NULL;

    /* r itself lives in the pool: nothing of it may be used after this. */
    pt_http_put_request_pool(pool);
}

/* tcp_nopush (with sendfile): TCP_CORK while a response is written, so
 * the header and the start of the file fill whole packets. */
void
pt_http_tcp_nopush(pt_connection_t *c)
{
    int  cork;

    if (c->tcp_nopush != PT_TCP_NOPUSH_UNSET) {
        return;
    }

    cork = 1;

    if (setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof(int)) == -1) {
        /* not TCP (a unix socket): never again on this connection */
        c->tcp_nopush = PT_TCP_NOPUSH_DISABLED;
        return;
    }

    c->tcp_nopush = PT_TCP_NOPUSH_SET;
}

static void
pt_http_tcp_push(pt_connection_t *c)
{
    int  cork;

    cork = 0;

    if (setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof(int)) == -1) {
        pt_connection_error(c, pt_socket_errno, "setsockopt(!TCP_CORK) failed");
    }

    c->tcp_nopush = PT_TCP_NOPUSH_UNSET;
}

/* reset_timedout_connection: a connection given up on (a timeout, or
 * 444) is closed with a RST, which frees its socket memory at once instead
 * of lingering in FIN_WAIT with unsent data. */
static void
pt_http_reset_timedout(pt_http_request_t *r)
{
    struct linger             linger;
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (!clcf->reset_timedout_connection || c->fd == -1) {
        return;
    }

    linger.l_onoff = 1;
    linger.l_linger = 0;

    if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(struct linger)) == -1) {
        pt_log_error(PT_LOG_ALERT, c->log, pt_socket_errno,
                     "setsockopt(SO_LINGER) failed");
    }
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

    if (c->ssl) {
        /* close_notify first; if it cannot be written yet, come back */
        c->ssl->no_wait_shutdown = 1;

        if (pt_ssl_shutdown(c) == PT_AGAIN) {
            c->ssl->handler = pt_http_close_connection;
            return;
        }
    }

    c->destroyed = 1;

    if (c->buffer && c->buffer->start) {
        pt_http_free_header_buffer(c->buffer);
    }

    pool = c->pool;

    pt_close_connection(c);

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

    if (r->upstream) {
        p = pt_http_upstream_log_error(r, p, last - p);
    }

    if (r->headers_in.host) {
        p = pt_slprintf(p, last, ", host: \"" PT_STR_FMT "\"",
                        PT_STR_ARG(r->headers_in.host->value));
    }

    return p;
}
