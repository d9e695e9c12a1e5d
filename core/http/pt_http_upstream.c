/*
 * pt_http_upstream.c: a request's life with its upstream.
 *
 *   pt_http_upstream_init        states, create_request, the balancer's
 *                                per-request init, then connect
 *   pt_http_upstream_connect     a peer from the balancer, a nonblocking
 *                                connect (or a cached connection)
 *   send_request                 (pt_http_upstream_request.c)
 *   process_header               reads into u->buffer and lets the
 *                                protocol module parse the head
 *   pt_http_upstream_next        a try failed: the next peer, or the end
 *   send_response                (pt_http_upstream_body.c)
 *   pt_http_upstream_finalize_request
 *
 * A try may be retried only while nothing of its response reached the
 * client, the request body can be sent again (not a streamed one), the
 * method is idempotent (or "non_idempotent" is set), and the tries and
 * next_upstream_timeout allow.  A failure on a connection taken from the
 * keepalive cache does not count as a try and is retried on a fresh
 * connection: a backend may close an idle connection at any moment.
 */

#include "pt_http.h"

static void pt_http_upstream_init_request(pt_http_request_t *r);
static pt_int_t pt_http_upstream_set_peer(pt_http_request_t *r,
    pt_http_upstream_t *u);
static void pt_http_upstream_connect(pt_http_request_t *r, pt_http_upstream_t *u);
static pt_int_t pt_http_upstream_reinit(pt_http_request_t *r, pt_http_upstream_t *u);
static pt_int_t pt_http_upstream_test_next(pt_http_request_t *r,
    pt_http_upstream_t *u);
static pt_int_t pt_http_upstream_intercept_errors(pt_http_request_t *r,
    pt_http_upstream_t *u);
static void pt_http_upstream_cleanup(void *data);
static void pt_http_upstream_release(pt_http_request_t *r, pt_http_upstream_t *u);
static void pt_http_upstream_wr_check_broken_connection(pt_http_request_t *r);

/* Response statuses next_upstream can act on, with their mask bit. */
static struct {
    pt_uint_t  status;
    pt_uint_t  mask;
} pt_http_upstream_next_errors[] = {
    { 500, PT_HTTP_UPSTREAM_FT_HTTP_500 },
    { 502, PT_HTTP_UPSTREAM_FT_HTTP_502 },
    { 503, PT_HTTP_UPSTREAM_FT_HTTP_503 },
    { 504, PT_HTTP_UPSTREAM_FT_HTTP_504 },
    { 403, PT_HTTP_UPSTREAM_FT_HTTP_403 },
    { 404, PT_HTTP_UPSTREAM_FT_HTTP_404 },
    { 429, PT_HTTP_UPSTREAM_FT_HTTP_429 },
    { 0, 0 }
};

pt_int_t
pt_http_upstream_create(pt_http_request_t *r)
{
    pt_http_upstream_t  *u;

    u = r->upstream;

    if (u && !u->finalized) {
        /* an error_page sent the request to another proxied location */
        pt_http_upstream_release(r, u);
    }

    u = pt_pcalloc(r->pool, sizeof(pt_http_upstream_t));
    if (u == NULL) {
        return PT_ERROR;
    }

    r->upstream = u;

    u->peer.log = r->connection->log;
    u->headers_in.content_length_n = -1;
    u->length = -1;

    return PT_OK;
}

void
pt_http_upstream_init(pt_http_request_t *r)
{
    pt_connection_t  *c;

    c = r->connection;

    if (c->read->timer_set) {
        pt_event_del_timer(c->read);
    }

    r->read_event_handler = pt_http_upstream_rd_check_broken_connection;
    r->write_event_handler = pt_http_upstream_wr_check_broken_connection;

    pt_http_upstream_init_request(r);
}

static void
pt_http_upstream_init_request(pt_http_request_t *r)
{
    pt_http_upstream_t        *u;
    pt_http_cleanup_t         *cln;
    pt_http_upstream_state_t  *state;
    pt_http_core_loc_conf_t   *clcf;

    u = r->upstream;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    u->buffering = u->conf->buffering ? 1 : 0;
    u->peer.tcp_nodelay = clcf->tcp_nodelay ? 1 : 0;

    if (pt_http_upstream_set_local(r, u) != PT_OK) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (u->create_request(r) != PT_OK) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (r->upstream_states == NULL) {
        r->upstream_states = pt_array_create(r->pool, 1,
                                             sizeof(pt_http_upstream_state_t));
        if (r->upstream_states == NULL) {
            pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

    } else {
        /* the tries of another group came before: " : " in the lists */
        state = pt_array_push(r->upstream_states);
        if (state == NULL) {
            pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        pt_memzero(state, sizeof(pt_http_upstream_state_t));
    }

    cln = pt_http_cleanup_add(r, 0);
    if (cln == NULL) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = pt_http_upstream_cleanup;
    cln->data = r;

    if (pt_http_upstream_set_peer(r, u) != PT_OK) {
        return;
    }

    u->peer.start_time = pt_current_msec;

    if (u->conf->next_upstream_tries
        && u->peer.tries > u->conf->next_upstream_tries)
    {
        u->peer.tries = u->conf->next_upstream_tries;
    }

    pt_http_upstream_connect(r, u);
}

/* The balancer of the request: the configured group, or for proxy_pass
 * with variables the group of that name or the single address given.
 * PT_OK, or PT_ERROR after finalizing. */
static pt_int_t
pt_http_upstream_set_peer(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_srv_conf_t  *uscf;
    pt_http_upstream_resolved_t  *ur;

    ur = u->resolved;

    if (ur == NULL) {
        uscf = u->conf->upstream;

    } else {
        uscf = pt_http_upstream_find(r, &ur->host, ur->port, ur->no_port);

        if (uscf == NULL) {
            if (ur->sockaddr == NULL) {
                /* a name that needs DNS at run time: nginx's "resolver" is
                 * not part of portico */
                pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                             "no resolver defined to resolve " PT_STR_FMT,
                             PT_STR_ARG(ur->host));
                pt_http_upstream_finalize_request(r, u, PT_HTTP_BAD_GATEWAY);
                return PT_ERROR;
            }

            if (pt_http_upstream_create_round_robin_peer(r, ur) != PT_OK) {
                pt_http_upstream_finalize_request(r, u,
                                                  PT_HTTP_INTERNAL_SERVER_ERROR);
                return PT_ERROR;
            }

            return PT_OK;
        }
    }

    u->upstream = uscf;

    if (uscf->peer.init(r, uscf) != PT_OK) {
        pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_ERROR;
    }

    return PT_OK;
}

static void
pt_http_upstream_connect(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_int_t                   rc;
    pt_connection_t           *c;
    pt_http_upstream_state_t  *state;

    r->connection->log->action = "connecting to upstream";

    if (u->state && u->state->response_time == (pt_msec_t) -1) {
        u->state->response_time = pt_current_msec - u->start_time;
    }

    state = pt_array_push(r->upstream_states);
    if (state == NULL) {
        pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    pt_memzero(state, sizeof(pt_http_upstream_state_t));

    state->response_time = (pt_msec_t) -1;
    state->connect_time = (pt_msec_t) -1;
    state->header_time = (pt_msec_t) -1;

    u->state = state;
    u->start_time = pt_current_msec;

    rc = pt_http_upstream_connect_peer(&u->peer);

    if (rc == PT_ERROR) {
        pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u->state->peer = u->peer.name;

    if (rc == PT_BUSY) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0, "no live upstreams");
        pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_NOLIVE);
        return;
    }

    if (rc == PT_DECLINED) {
        pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    /* PT_OK, PT_AGAIN or PT_DONE (a cached connection) */

    c = u->peer.connection;

    c->requests++;
    c->data = r;
    c->write->handler = pt_http_upstream_handler;
    c->read->handler = pt_http_upstream_handler;
    c->log = r->connection->log;
    c->read->log = c->log;
    c->write->log = c->log;

    u->write_event_handler = pt_http_upstream_send_request_handler;
    u->read_event_handler = pt_http_upstream_process_header;

    if (u->request_sent && pt_http_upstream_reinit(r, u) != PT_OK) {
        pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u->request_sent = 0;
    u->request_out = NULL;

    if (rc == PT_AGAIN) {
        pt_event_add_timer(c->write, u->conf->connect_timeout);
        return;
    }

    pt_http_upstream_send_request(r, u, 1);
}

/* Before a retry: forget what the failed try parsed. */
static pt_int_t
pt_http_upstream_reinit(pt_http_request_t *r, pt_http_upstream_t *u)
{
    if (u->reinit_request(r) != PT_OK) {
        return PT_ERROR;
    }

    u->keepalive = 0;
    u->upgrade = 0;
    u->length = -1;

    pt_memzero(&u->headers_in, sizeof(pt_http_upstream_headers_in_t));
    u->headers_in.content_length_n = -1;

    if (u->buffer.start) {
        u->buffer.pos = u->buffer.start;
        u->buffer.last = u->buffer.start;
    }

    return PT_OK;
}

void
pt_http_upstream_handler(pt_event_t *ev)
{
    pt_connection_t     *c;
    pt_http_request_t   *r;
    pt_http_upstream_t  *u;
    pt_http_log_ctx_t   *ctx;

    c = ev->data;
    r = c->data;
    u = r->upstream;

    ctx = r->connection->log->data;
    ctx->current_request = r;

    if (ev->write) {
        u->write_event_handler(r, u);
    } else {
        u->read_event_handler(r, u);
    }
}

/* ---- the response head ---- */

/*
 * The head buffer's memory.  proxy_buffer_size (a page by default) is too
 * big for the request pool's small allocations; rather than a malloc and
 * a free per request, the blocks go back to a small per-worker cache when
 * the request ends (its pool's cleanup), most recently used first.
 */

#define PT_HTTP_UPSTREAM_BUFFER_CACHE  64

typedef struct {
    u_char     *elts[PT_HTTP_UPSTREAM_BUFFER_CACHE];
    pt_uint_t   n;
    size_t      size;
} pt_http_upstream_buffer_cache_t;

typedef struct {
    u_char     *block;
    size_t      size;
} pt_http_upstream_block_t;

static pt_http_upstream_buffer_cache_t  pt_http_upstream_buffer_cache;

static void
pt_http_upstream_put_buffer_memory(void *data)
{
    pt_http_upstream_block_t         *b = data;
    pt_http_upstream_buffer_cache_t  *cache;

    cache = &pt_http_upstream_buffer_cache;

    if (cache->n == 0) {
        cache->size = b->size;
    }

    if (cache->n < PT_HTTP_UPSTREAM_BUFFER_CACHE && cache->size == b->size) {
        cache->elts[cache->n++] = b->block;
        return;
    }

    pt_free(b->block);
}

static u_char *
pt_http_upstream_buffer_memory(pt_http_request_t *r, size_t size)
{
    pt_pool_cleanup_t                *cln;
    pt_http_upstream_block_t         *b;
    pt_http_upstream_buffer_cache_t  *cache;

    if (size <= PT_MAX_ALLOC_FROM_POOL) {
        return pt_pnalloc(r->pool, size);
    }

    cln = pt_pool_cleanup_add(r->pool, sizeof(pt_http_upstream_block_t));
    if (cln == NULL) {
        return NULL;
    }

    b = cln->data;
    cache = &pt_http_upstream_buffer_cache;

    if (cache->n && cache->size == size) {
        b->block = cache->elts[--cache->n];

    } else {
        b->block = pt_alloc(size, r->connection->log);
        if (b->block == NULL) {
            return NULL;
        }
    }

    b->size = size;
    cln->handler = pt_http_upstream_put_buffer_memory;

    return b->block;
}

static pt_int_t
pt_http_upstream_alloc_header_buffer(pt_http_request_t *r, pt_http_upstream_t *u)
{
    u->buffer.start = pt_http_upstream_buffer_memory(r, u->conf->buffer_size);
    if (u->buffer.start == NULL) {
        return PT_ERROR;
    }

    u->buffer.pos = u->buffer.start;
    u->buffer.last = u->buffer.start;
    u->buffer.end = u->buffer.start + u->conf->buffer_size;
    u->buffer.temporary = 1;
    u->buffer.tag = PT_HTTP_UPSTREAM_TAG;

    return PT_OK;
}

/* Reads until the protocol module has the whole head.  PT_OK, PT_AGAIN,
 * or PT_DONE after the try was ended. */
static pt_int_t
pt_http_upstream_read_header(pt_http_request_t *r, pt_http_upstream_t *u)
{
    ssize_t           n;
    pt_int_t          rc;
    pt_connection_t  *c;

    c = u->peer.connection;

    for ( ;; ) {
        n = c->recv(c, u->buffer.last, u->buffer.end - u->buffer.last);

        if (n == PT_AGAIN) {
            if (pt_handle_read_event(c->read, 0) != PT_OK) {
                pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
                return PT_DONE;
            }
            return PT_AGAIN;
        }

        if (n == 0) {
            pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                         "upstream prematurely closed connection");
        }

        if (n == PT_ERROR || n == 0) {
            pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_ERROR);
            return PT_DONE;
        }

        u->state->bytes_received += n;
        u->buffer.last += n;

        rc = u->process_header(r);

        if (rc == PT_AGAIN) {
            if (u->buffer.last == u->buffer.end) {
                pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                             "upstream sent too big header");
                pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_INVALID_HEADER);
                return PT_DONE;
            }
            continue;
        }

        if (rc == PT_HTTP_UPSTREAM_INVALID_HEADER) {
            pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_INVALID_HEADER);
            return PT_DONE;
        }

        if (rc == PT_ERROR) {
            pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_DONE;
        }

        return PT_OK;
    }
}

void
pt_http_upstream_process_header(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_connection_t  *c;

    c = u->peer.connection;

    r->connection->log->action = "reading response header from upstream";

    if (c->read->timedout) {
        pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    if (!u->request_sent) {
        /* the read event of a connect in progress: the write one sends */
        if (!u->peer.cached && pt_http_upstream_test_connect(c) != PT_OK) {
            pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_ERROR);
        }
        return;
    }

    if (u->buffer.start == NULL) {
        if (pt_http_upstream_alloc_header_buffer(r, u) != PT_OK
            || pt_list_init(&u->headers_in.headers, r->pool, 8,
                            sizeof(pt_http_header_t)) != PT_OK)
        {
            pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

    } else if (u->headers_in.headers.last == NULL) {
        if (pt_list_init(&u->headers_in.headers, r->pool, 8,
                         sizeof(pt_http_header_t)) != PT_OK)
        {
            pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (pt_http_upstream_read_header(r, u) != PT_OK) {
        return;
    }

    /* the head is complete */

    u->state->header_time = pt_current_msec - u->start_time;

    if (u->headers_in.status_n >= PT_HTTP_SPECIAL_RESPONSE) {
        if (pt_http_upstream_test_next(r, u) == PT_OK) {
            return;
        }

        if (pt_http_upstream_intercept_errors(r, u) == PT_OK) {
            return;
        }
    }

    if (pt_http_upstream_process_headers(r, u) != PT_OK) {
        return;
    }

    pt_http_upstream_send_response(r, u);
}

/* A status next_upstream names goes to the next peer while tries remain;
 * the last peer's answer goes to the client as it is. */
static pt_int_t
pt_http_upstream_test_next(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_uint_t  i, status;
    pt_msec_t  timeout;

    status = u->headers_in.status_n;

    for (i = 0; pt_http_upstream_next_errors[i].status; i++) {

        if (status != pt_http_upstream_next_errors[i].status) {
            continue;
        }

        if (u->request_sent && (r->method & (PT_HTTP_POST|PT_HTTP_LOCK|PT_HTTP_PATCH))
            && !(u->conf->next_upstream & PT_HTTP_UPSTREAM_FT_NON_IDEMPOTENT))
        {
            return PT_DECLINED;
        }

        timeout = u->conf->next_upstream_timeout;

        if (u->peer.tries > 1
            && (u->conf->next_upstream & pt_http_upstream_next_errors[i].mask)
            && !(u->request_sent && r->request_body_no_buffering)
            && !(timeout && pt_current_msec - u->peer.start_time >= timeout))
        {
            u->state->status = status;
            pt_http_upstream_next(r, u, pt_http_upstream_next_errors[i].mask);
            return PT_OK;
        }

        return PT_DECLINED;
    }

    return PT_DECLINED;
}

static pt_uint_t
pt_http_upstream_error_page_exists(pt_http_request_t *r, pt_uint_t status)
{
    pt_uint_t                 i;
    pt_http_err_page_t       *err;
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (clcf->error_pages == NULL) {
        return 0;
    }

    err = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if ((pt_uint_t) err[i].status == status) {
            return 1;
        }
    }

    return 0;
}

/* An intercepted 401 keeps the upstream's challenge. */
static pt_int_t
pt_http_upstream_copy_www_authenticate(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_uint_t          i;
    pt_list_part_t    *part;
    pt_http_header_t  *h, *ho;

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return PT_OK;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("WWW-Authenticate") - 1
            || pt_strncasecmp(h[i].key.data, (u_char *) "WWW-Authenticate",
                              h[i].key.len) != 0)
        {
            continue;
        }

        ho = pt_list_push(&r->headers_out.headers);
        if (ho == NULL) {
            return PT_ERROR;
        }

        *ho = h[i];
        ho->hash = 1;
        ho->next = NULL;

        if (r->headers_out.www_authenticate == NULL) {
            r->headers_out.www_authenticate = ho;
        }
    }
}

/* proxy_intercept_errors: a status of 300 or more that an error_page of
 * the location handles is answered by portico instead of the upstream. */
static pt_int_t
pt_http_upstream_intercept_errors(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_uint_t  status;

    if (!u->conf->intercept_errors) {
        return PT_DECLINED;
    }

    status = u->headers_in.status_n;

    if (status == PT_HTTP_NOT_MODIFIED || status < PT_HTTP_SPECIAL_RESPONSE) {
        return PT_DECLINED;
    }

    if (!pt_http_upstream_error_page_exists(r, status)) {
        return PT_DECLINED;
    }

    u->state->status = status;

    if (status == PT_HTTP_UNAUTHORIZED
        && pt_http_upstream_copy_www_authenticate(r, u) != PT_OK)
    {
        pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_OK;
    }

    /* the upstream's answer is not used: its connection cannot be reused
     * with the body unread */
    u->keepalive = 0;

    pt_http_upstream_finalize_request(r, u, status);

    return PT_OK;
}

/* ---- retries ---- */

static pt_uint_t
pt_http_upstream_ft_status(pt_uint_t ft_type)
{
    switch (ft_type) {
    case PT_HTTP_UPSTREAM_FT_TIMEOUT:
    case PT_HTTP_UPSTREAM_FT_HTTP_504:
        return PT_HTTP_GATEWAY_TIME_OUT;
    case PT_HTTP_UPSTREAM_FT_HTTP_500:
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    case PT_HTTP_UPSTREAM_FT_HTTP_503:
        return PT_HTTP_SERVICE_UNAVAILABLE;
    case PT_HTTP_UPSTREAM_FT_HTTP_403:
        return PT_HTTP_FORBIDDEN;
    case PT_HTTP_UPSTREAM_FT_HTTP_404:
        return PT_HTTP_NOT_FOUND;
    case PT_HTTP_UPSTREAM_FT_HTTP_429:
        return PT_HTTP_TOO_MANY_REQUESTS;
    default:
        /* error, invalid_header, http_502, no live upstreams */
        return PT_HTTP_BAD_GATEWAY;
    }
}

void
pt_http_upstream_next(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t ft_type)
{
    pt_uint_t  status, state, cached_error, retry;
    pt_msec_t  timeout;

    if (ft_type == PT_HTTP_UPSTREAM_FT_TIMEOUT) {
        pt_log_error(PT_LOG_ERR, r->connection->log, ETIMEDOUT, "upstream timed out");
    }

    cached_error = (u->peer.cached && ft_type == PT_HTTP_UPSTREAM_FT_ERROR);

    status = pt_http_upstream_ft_status(ft_type);

    if (u->peer.sockaddr) {
        if (u->peer.connection) {
            u->state->bytes_sent = u->peer.connection->sent;
        }

        if (ft_type == PT_HTTP_UPSTREAM_FT_HTTP_403
            || ft_type == PT_HTTP_UPSTREAM_FT_HTTP_404
            || cached_error)
        {
            state = PT_PEER_NEXT;
        } else {
            state = PT_PEER_FAILED;
        }

        u->peer.free(&u->peer, u->peer.data, state);
        u->peer.sockaddr = NULL;
    }

    if (cached_error) {
        /* a stale keepalive connection: again, on a fresh one, and it does
         * not count as a try */
        u->peer.tries++;
        u->peer.no_cache = 1;
    }

    timeout = u->conf->next_upstream_timeout;

    retry = (u->peer.tries > 0)
            && ((u->conf->next_upstream & ft_type) == ft_type || cached_error)
            && ft_type != PT_HTTP_UPSTREAM_FT_NOLIVE
            && !u->header_sent
            && !(u->request_sent && r->request_body_no_buffering)
            && !(timeout && pt_current_msec - u->peer.start_time >= timeout);

    if (retry && u->request_sent
        && (r->method & (PT_HTTP_POST|PT_HTTP_LOCK|PT_HTTP_PATCH))
        && !(u->conf->next_upstream & PT_HTTP_UPSTREAM_FT_NON_IDEMPOTENT))
    {
        retry = 0;
    }

    if (u->state->status == 0) {
        u->state->status = (ft_type & PT_HTTP_UPSTREAM_FT_STATUS) ? status : 502;

        if (ft_type == PT_HTTP_UPSTREAM_FT_TIMEOUT) {
            u->state->status = PT_HTTP_GATEWAY_TIME_OUT;
        }
    }

    if (!retry) {
        pt_http_upstream_finalize_request(r, u, status);
        return;
    }

    if (u->peer.connection) {
        pt_http_upstream_close_peer_connection(r, u);
    }

    pt_http_upstream_connect(r, u);
}

void
pt_http_upstream_close_peer_connection(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_connection_t  *c;

    c = u->peer.connection;

    if (c == NULL) {
        return;
    }

    u->state->bytes_sent = c->sent;

    pt_http_upstream_close_connection(c);
    u->peer.connection = NULL;
}

/* ---- the end ---- */

/* Gives the peer back and closes (or, by the keepalive module, caches)
 * the connection; records the try's times and counts. */
static void
pt_http_upstream_release(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_state_t  *state;

    u->finalized = 1;

    state = u->state;

    if (state && state->response_time == (pt_msec_t) -1) {
        state->response_time = pt_current_msec - u->start_time;

        if (u->peer.connection) {
            state->bytes_sent = u->peer.connection->sent;
        }
    }

    if (u->pipe) {
        pt_http_upstream_pipe_done(r, u);
    }

    if (u->peer.free && u->peer.sockaddr) {
        u->peer.free(&u->peer, u->peer.data, 0);
        u->peer.sockaddr = NULL;
    }

    if (u->peer.connection) {
        pt_http_upstream_close_connection(u->peer.connection);
        u->peer.connection = NULL;
    }
}

static void
pt_http_upstream_cleanup(void *data)
{
    pt_http_request_t   *r = data;
    pt_http_upstream_t  *u;

    u = r->upstream;

    if (u == NULL || u->finalized) {
        return;
    }

    if (u->finalize_request) {
        u->finalize_request(r, PT_DONE);
    }

    pt_http_upstream_release(r, u);
}

void
pt_http_upstream_finalize_request(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_int_t rc)
{
    pt_uint_t  framed;

    if (u->finalized) {
        return;
    }

    if (u->finalize_request) {
        u->finalize_request(r, rc);
    }

    pt_http_upstream_release(r, u);

    if (rc == PT_DECLINED) {
        return;
    }

    r->connection->log->action = "sending to client";

    if (r->request_body_no_buffering && !u->request_body_done) {
        /* the rest of a streamed body will not be read */
        r->keepalive = 0;
        r->lingering_close = 1;
    }

    if (!u->header_sent || rc == PT_HTTP_REQUEST_TIME_OUT
        || rc == PT_HTTP_CLIENT_CLOSED_REQUEST)
    {
        pt_http_finalize_request(r, rc);
        return;
    }

    if (rc == PT_OK || rc == PT_DONE) {
        pt_http_finalize_request(r, rc);
        return;
    }

    /*
     * The response broke off after its header went out.  What arrived is
     * delivered, and the client must see a truncation, never a clean end:
     * no last chunk and no keepalive; a response framed by the connection
     * close alone is ended with a reset.
     */

    r->keepalive = 0;

    framed = (r->headers_out.content_length_n >= 0 || r->chunked);

    if (r->header_only || r->connection->error) {
        pt_http_finalize_request(r, PT_ERROR);
        return;
    }

    if (!framed) {
        pt_http_upstream_send_special(r, 0);
        (void) setsockopt(r->connection->fd, SOL_SOCKET, SO_LINGER,
                          &(struct linger) { 1, 0 }, sizeof(struct linger));
        pt_http_finalize_request(r, PT_ERROR);
        return;
    }

    if (pt_http_upstream_send_special(r, 0) == PT_ERROR) {
        pt_http_finalize_request(r, PT_ERROR);
        return;
    }

    pt_http_finalize_request(r, PT_OK);
}

pt_int_t
pt_http_upstream_send_special(pt_http_request_t *r, pt_uint_t last)
{
    pt_buf_t    *b;
    pt_chain_t   out;

    b = pt_calloc_buf(r->pool);
    if (b == NULL) {
        return PT_ERROR;
    }

    if (last) {
        b->last_buf = 1;
        b->last_in_chain = 1;
    } else {
        b->flush = 1;
    }

    out.buf = b;
    out.next = NULL;

    return pt_http_output_filter(r, &out);
}

void
pt_http_upstream_dummy_handler(pt_http_request_t *r, pt_http_upstream_t *u)
{
}

/* ---- the client while the upstream works ---- */

void
pt_http_upstream_check_broken_connection(pt_http_request_t *r)
{
    int                  n;
    char                 buf[1];
    pt_err_t             err;
    pt_event_t          *ev;
    pt_connection_t     *c;
    pt_http_upstream_t  *u;

    c = r->connection;
    u = r->upstream;
    ev = c->read;

    if (c->error) {
        return;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = pt_socket_errno;

    if (n > 0) {
        /* a pipelined request: it waits in the socket */
        return;
    }

    if (n == -1 && (err == EAGAIN || err == EINTR)) {
        ev->ready = 0;
        return;
    }

    ev->eof = 1;

    if (n == 0) {
        err = 0;
    }

    if (u->conf->ignore_client_abort && u->peer.connection) {
        /* the upstream's work finishes; its answer goes nowhere */
        return;
    }

    c->error = 1;

    if (u->peer.connection) {
        pt_log_error(PT_LOG_INFO, c->log, err,
                     "client prematurely closed connection, "
                     "so upstream connection is closed too");
    } else {
        pt_log_error(PT_LOG_INFO, c->log, err, "client prematurely closed connection");
    }

    pt_http_upstream_finalize_request(r, u, PT_HTTP_CLIENT_CLOSED_REQUEST);
}

void
pt_http_upstream_rd_check_broken_connection(pt_http_request_t *r)
{
    pt_http_upstream_check_broken_connection(r);
}

static void
pt_http_upstream_wr_check_broken_connection(pt_http_request_t *r)
{
    /* edge-triggered: writability says nothing about the client's state */
}
