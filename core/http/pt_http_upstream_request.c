/*
 * pt_http_upstream_request.c: the request to the upstream, written.
 *
 * Every try sends a fresh copy of the buffers create_request built (the
 * links and buffer headers are new, the bytes shared), so a retry starts
 * from the first byte.  A streamed request body (proxy_request_buffering
 * off) is the exception: the body reader's own buffers go out as they
 * fill, chunk-framed when the body's length is unknown, and such a
 * request is never sent twice.  For an https peer the TLS handshake runs
 * first (modules/http_ssl), bounded by the connect timeout.  Once all is
 * out, the response head is awaited (pt_http_upstream.c).
 */

#include "pt_http.h"

static void pt_http_upstream_read_request_handler(pt_http_request_t *r);
static void pt_http_upstream_request_sent(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_connection_t *c);
#if (PT_HAVE_HTTP_SSL_MODULE)
static void pt_http_upstream_ssl_start(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_connection_t *c);
static void pt_http_upstream_ssl_done(pt_http_request_t *r, pt_int_t rc);
#endif

/* A copy of u->request_bufs for one try: the links and buffers are new, the
 * bytes are shared, so the original stays intact for the next try. */
static pt_chain_t *
pt_http_upstream_copy_request(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_buf_t    *b;
    pt_chain_t  *cl, *out, **ll;

    out = NULL;
    ll = &out;

    for (cl = u->request_bufs; cl; cl = cl->next) {
        if (pt_buf_size(cl->buf) == 0) {
            continue;
        }

        b = pt_palloc(r->pool, sizeof(pt_buf_t));
        if (b == NULL) {
            return PT_CHAIN_ERROR;
        }

        *b = *cl->buf;
        b->shadow = cl->buf;

        *ll = pt_alloc_chain_link(r->pool);
        if (*ll == NULL) {
            return PT_CHAIN_ERROR;
        }

        (*ll)->buf = b;
        ll = &(*ll)->next;
    }

    *ll = NULL;

    return out;
}

void
pt_http_upstream_send_request_handler(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_connection_t  *c;

    c = u->peer.connection;

    if (c->write->timedout) {
        pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    if (u->header_sent) {
        /* the response has started (it may precede the request's end) */
        u->write_event_handler = pt_http_upstream_dummy_handler;
        return;
    }

    pt_http_upstream_send_request(r, u, 1);
}

/* Appends a link to a small framing buffer: len bytes at p, copied into
 * the pool when copy is set (a chunk size), else referenced. */
static pt_int_t
pt_http_upstream_frame(pt_http_request_t *r, pt_chain_t ***ll, u_char *p,
    size_t len, pt_uint_t copy)
{
    pt_buf_t    *b;
    pt_chain_t  *cl;

    b = copy ? pt_create_temp_buf(r->pool, len) : pt_calloc_buf(r->pool);
    cl = pt_alloc_chain_link(r->pool);

    if (b == NULL || cl == NULL) {
        return PT_ERROR;
    }

    if (copy) {
        b->last = pt_cpymem(b->last, p, len);

    } else {
        b->memory = 1;
        b->pos = p;
        b->last = p + len;
    }

    cl->buf = b;
    cl->next = NULL;

    **ll = cl;
    *ll = &cl->next;

    return PT_OK;
}

/* A streamed body: the links the reader filled go to the end of
 * request_out, each data buffer between "SIZE" CRLF and CRLF when the
 * body's length is unknown (chunked), "0" CRLF CRLF at its end.  The
 * reader's own buffers are sent, not copies: it sees them consumed. */
static pt_int_t
pt_http_upstream_take_body(pt_http_request_t *r, pt_http_upstream_t *u)
{
    u_char                  num[PT_OFF_T_LEN + 2];
    off_t                    size;
    pt_buf_t                *b;
    pt_chain_t              *cl, *next, **ll;
    pt_http_request_body_t  *rb;

    static u_char  crlf[] = CRLF;
    static u_char  last_chunk[] = "0" CRLF CRLF;

    rb = r->request_body;

    if (rb == NULL || rb->bufs == NULL) {
        return PT_OK;
    }

    for (ll = &u->request_out; *ll; ll = &(*ll)->next) { /* void */ }

    for (cl = rb->bufs; cl; cl = next) {
        next = cl->next;
        cl->next = NULL;
        b = cl->buf;
        size = pt_buf_size(b);

        if (b->last_buf) {
            u->request_body_done = 1;
        }

        if (u->request_chunked && size
            && pt_http_upstream_frame(r, &ll, num,
                                      pt_slprintf(num, num + sizeof(num),
                                                  "%" PRIx64 CRLF, (uint64_t) size)
                                      - num, 1) != PT_OK)
        {
            return PT_ERROR;
        }

        *ll = cl;
        ll = &cl->next;

        if (!u->request_chunked) {
            continue;
        }

        if (size && pt_http_upstream_frame(r, &ll, crlf, 2, 0) != PT_OK) {
            return PT_ERROR;
        }

        if (b->last_buf
            && pt_http_upstream_frame(r, &ll, last_chunk, sizeof(last_chunk) - 1, 0)
               != PT_OK)
        {
            return PT_ERROR;
        }
    }

    rb->bufs = NULL;

    return PT_OK;
}

/* The client's read event while a streamed body goes to the upstream. */
static void
pt_http_upstream_read_request_handler(pt_http_request_t *r)
{
    pt_http_upstream_t  *u;

    u = r->upstream;

    if (u->peer.connection == NULL || !u->request_sent) {
        return;
    }

    pt_http_upstream_send_request(r, u, 1);
}

void
pt_http_upstream_send_request_body(pt_http_request_t *r)
{
    pt_http_upstream_t  *u;

    u = r->upstream;

    if (u == NULL || u->finalized || u->peer.connection == NULL
        || !u->request_sent || u->request_body_sent)
    {
        return;
    }

    pt_http_upstream_send_request(r, u, 1);
}

/* Sends what request_out holds; for a streamed body, also what the client
 * sent meanwhile.  PT_OK: all is out; PT_AGAIN: waiting (for the
 * upstream or, streaming, for the client); PT_ERROR: the try failed;
 * an HTTP status: the client's body was bad. */
static pt_int_t
pt_http_upstream_write_request(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t do_write)
{
    pt_int_t          rc;
    pt_chain_t       *out;
    pt_connection_t  *c;

    c = u->peer.connection;

    for ( ;; ) {
        if (r->request_body_no_buffering && !u->request_body_done
            && pt_http_upstream_take_body(r, u) != PT_OK)
        {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (u->request_out && do_write && c->write->ready) {
            out = c->send_chain(c, u->request_out, 0);

            if (out == PT_CHAIN_ERROR) {
                return PT_ERROR;
            }

            u->request_out = out;
        }

        if (u->request_out) {
            return PT_AGAIN;
        }

        if (!r->request_body_no_buffering || u->request_body_done) {
            return PT_OK;
        }

        /* the streamed body: read what the client has sent by now */
        rc = pt_http_read_unbuffered_request_body(r);

        if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        if (r->request_body->bufs == NULL) {
            if (rc == PT_OK) {
                u->request_body_done = 1;
                return PT_OK;
            }
            return PT_AGAIN;
        }
    }
}

void
pt_http_upstream_send_request(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t do_write)
{
    pt_int_t          rc;
    pt_connection_t  *c;

    c = u->peer.connection;

    if (u->state->connect_time == (pt_msec_t) -1) {
        u->state->connect_time = pt_current_msec - u->start_time;
    }

    if (!u->request_sent && !u->peer.cached && pt_http_upstream_test_connect(c) != PT_OK) {
        pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

#if (PT_HAVE_HTTP_SSL_MODULE)
    if (u->ssl && c->ssl == NULL) {
        /* TLS first; pt_http_upstream_ssl_done() comes back here */
        pt_http_upstream_ssl_start(r, u, c);
        return;
    }
#endif

    r->connection->log->action = "sending request to upstream";

    if (!u->request_sent) {
        u->request_sent = 1;

        u->request_out = pt_http_upstream_copy_request(r, u);
        if (u->request_out == PT_CHAIN_ERROR) {
            pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    rc = pt_http_upstream_write_request(r, u, do_write);

    if (rc == PT_ERROR) {
        pt_http_upstream_next(r, u, PT_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
        pt_http_upstream_finalize_request(r, u, rc);
        return;
    }

    if (rc == PT_AGAIN) {
        if (u->request_out) {
            pt_event_add_timer(c->write, u->conf->send_timeout);

        } else {
            /* the upstream is waiting for the client's body */
            if (c->write->timer_set) {
                pt_event_del_timer(c->write);
            }

            r->read_event_handler = pt_http_upstream_read_request_handler;
        }

        return;
    }

    pt_http_upstream_request_sent(r, u, c);
}

/* The whole request is out: the response head is awaited, within
 * proxy_read_timeout. */
static void
pt_http_upstream_request_sent(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_connection_t *c)
{
    u->request_body_sent = 1;

    if (r->request_body_no_buffering) {
        r->read_event_handler = pt_http_upstream_rd_check_broken_connection;
    }

    if (c->write->timer_set) {
        pt_event_del_timer(c->write);
    }

    u->write_event_handler = pt_http_upstream_dummy_handler;

    pt_event_add_timer(c->read, u->conf->read_timeout);

    r->connection->log->action = "reading response header from upstream";

    if (c->read->ready) {
        pt_http_upstream_process_header(r, u);
    }
}

/* ---- TLS to the peer ---- */

#if (PT_HAVE_HTTP_SSL_MODULE)

/* proxy_pass https://: the handshake (modules/http_ssl) runs between the
 * connect and the request, bounded by the connect timeout. */
static void
pt_http_upstream_ssl_start(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_connection_t *c)
{
    pt_int_t   rc;
    pt_str_t  *host;

    host = u->resolved ? &u->resolved->host : &u->upstream->host;

    rc = pt_http_upstream_ssl_init_connection(r, c, host, u->peer.sockaddr,
                                              u->peer.socklen,
                                              pt_http_upstream_ssl_done);

    if (rc == PT_AGAIN) {
        if (!c->write->timer_set) {
            pt_event_add_timer(c->write, u->conf->connect_timeout);
        }
        return;
    }

    pt_http_upstream_ssl_done(r, rc);
}

static void
pt_http_upstream_ssl_done(pt_http_request_t *r, pt_int_t rc)
{
    pt_connection_t     *c;
    pt_http_upstream_t  *u;

    u = r->upstream;
    c = u->peer.connection;

    if (rc != PT_OK) {
        pt_http_upstream_next(r, u, c->timedout ? PT_HTTP_UPSTREAM_FT_TIMEOUT
                                                : PT_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    c->write->handler = pt_http_upstream_handler;
    c->read->handler = pt_http_upstream_handler;

    if (c->write->timer_set) {
        pt_event_del_timer(c->write);
    }

    pt_http_upstream_send_request(r, u, 1);
}

#endif
