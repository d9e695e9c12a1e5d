/*
 * pt_http_request_body.c: reading request bodies for handlers.
 *
 * The contract is written at pt_http_request_body_t (pt_http_request.h):
 * buffered reading (memory up to client_body_buffer_size, then an
 * unlinked temp file) and streaming reading (one memory buffer handed out
 * piece by piece as data arrives).
 *
 * Both run on one buffer, rb->buf.  Raw bytes are read from the socket
 * into its free tail, never more than the body can still owe (so a
 * pipelined request stays in the socket), and decoded in place: for a
 * Content-Length body the bytes are already where they belong; for a
 * chunked one the chunk data moves down over the framing.  Body bytes that
 * came with the head (in the header buffer) go through the same decoder,
 * copied into rb->buf; a Content-Length body that came whole with the
 * head is used where it is.
 *
 * Discarding a body nobody reads is in pt_http_request_body_discard.c.
 */

#include "pt_http.h"

static pt_int_t pt_http_do_read_client_request_body(pt_http_request_t *r);
static pt_int_t pt_http_read_body_buffered(pt_http_request_t *r);
static pt_int_t pt_http_read_body_streaming(pt_http_request_t *r);
static pt_int_t pt_http_read_body_socket(pt_http_request_t *r);
static pt_int_t pt_http_request_body_input(pt_http_request_t *r, pt_buf_t *src);
static pt_int_t pt_http_request_body_preread(pt_http_request_t *r);
static pt_int_t pt_http_request_body_in_header(pt_http_request_t *r);
static pt_int_t pt_http_request_body_spill(pt_http_request_t *r);
static pt_int_t pt_http_request_body_done(pt_http_request_t *r);
static pt_int_t pt_http_request_body_hand_out(pt_http_request_t *r);
static pt_int_t pt_http_request_body_wait(pt_http_request_t *r);
static void pt_http_read_client_request_body_handler(pt_http_request_t *r);

/* The tag of the buffers handed out in streaming mode. */
#define PT_HTTP_BODY_TAG  ((pt_buf_tag_t) &pt_http_read_client_request_body)

pt_int_t
pt_http_read_client_request_body(pt_http_request_t *r,
    pt_http_client_body_handler_pt post_handler)
{
    size_t                    size;
    pt_int_t                  rc;
    pt_http_request_body_t   *rb;
    pt_http_core_loc_conf_t  *clcf;

    r->main->count++;

    if (r != r->main || r->request_body || r->discard_body) {
        r->request_body_no_buffering = 0;
        post_handler(r);
        return PT_OK;
    }

    if (pt_http_test_expect(r) != PT_OK) {
        rc = PT_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    rb = pt_pcalloc(r->pool, sizeof(pt_http_request_body_t));
    if (rb == NULL) {
        rc = PT_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    rb->post_handler = post_handler;
    r->request_body = rb;

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        /* no body at all */
        if (r->request_body_no_buffering && pt_http_request_body_hand_out(r) != PT_OK) {
            rc = PT_HTTP_INTERNAL_SERVER_ERROR;
            goto failed;
        }
        post_handler(r);
        return PT_OK;
    }

    r->reading_body = 1;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->headers_in.chunked) {
        rb->chunked = pt_pcalloc(r->pool, sizeof(pt_http_chunked_t));
        if (rb->chunked == NULL) {
            rc = PT_HTTP_INTERNAL_SERVER_ERROR;
            goto failed;
        }
        rb->rest = 5;                   /* "0" CRLF CRLF at least */
        size = clcf->client_body_buffer_size;

    } else {
        rb->rest = r->headers_in.content_length_n;
        size = (size_t) pt_min(rb->rest, (off_t) clcf->client_body_buffer_size);

        if (!r->request_body_no_buffering
            && r->header_in->last - r->header_in->pos >= rb->rest)
        {
            if (pt_http_request_body_in_header(r) != PT_OK) {
                rc = PT_HTTP_INTERNAL_SERVER_ERROR;
                goto failed;
            }

            post_handler(r);
            return PT_OK;
        }
    }

    rb->buf = pt_create_temp_buf(r->pool, size);
    if (rb->buf == NULL) {
        rc = PT_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    rb->handed = rb->buf->start;
    r->read_event_handler = pt_http_read_client_request_body_handler;
    r->write_event_handler = pt_http_request_empty_handler;

    rc = pt_http_do_read_client_request_body(r);

    if (rc >= PT_HTTP_SPECIAL_RESPONSE || rc == PT_ERROR) {
        goto failed;
    }

    if (r->request_body_no_buffering) {
        post_handler(r);
    }

    return PT_OK;

failed:

    r->main->count--;
    r->read_event_handler = pt_http_block_reading;

    return rc == PT_ERROR ? PT_HTTP_INTERNAL_SERVER_ERROR : rc;
}

/* A Content-Length body that came whole with the head is used where it
 * is, in the header buffer. */
static pt_int_t
pt_http_request_body_in_header(pt_http_request_t *r)
{
    pt_buf_t                *b;
    pt_chain_t              *cl;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    b = pt_calloc_buf(r->pool);
    cl = pt_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return PT_ERROR;
    }

    b->temporary = 1;
    b->start = r->header_in->pos;
    b->pos = b->start;
    b->last = b->start + rb->rest;
    b->end = b->last;
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;

    r->header_in->pos += rb->rest;
    r->request_length += rb->rest;
    rb->received = rb->rest;
    rb->rest = 0;
    r->reading_body = 0;

    return PT_OK;
}

pt_int_t
pt_http_read_unbuffered_request_body(pt_http_request_t *r)
{
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    if (rb == NULL || !r->request_body_no_buffering) {
        return PT_OK;
    }

    if (r->connection->read->timedout) {
        r->keepalive = 0;
        return PT_HTTP_REQUEST_TIME_OUT;
    }

    if (rb->rest == 0 && rb->last_sent) {
        return PT_OK;
    }

    return pt_http_read_body_streaming(r);
}

/* The read event handler while a body is read. */
static void
pt_http_read_client_request_body_handler(pt_http_request_t *r)
{
    pt_int_t                 rc;
    pt_http_request_body_t  *rb;

    if (r->connection->read->timedout) {
        pt_http_request_timed_out(r);
        return;
    }

    rb = r->request_body;

    rc = pt_http_do_read_client_request_body(r);

    if (rc >= PT_HTTP_SPECIAL_RESPONSE || rc == PT_ERROR) {
        r->read_event_handler = pt_http_block_reading;
        pt_http_finalize_request(r, rc);
        return;
    }

    if (r->request_body_no_buffering && rb->bufs) {
        rb->post_handler(r);
    }
}

/* One round of reading: PT_OK when the body is complete (buffered mode
 * has then called post_handler), PT_AGAIN, or an error status. */
static pt_int_t
pt_http_do_read_client_request_body(pt_http_request_t *r)
{
    pt_int_t  rc;

    if (r->request_body_no_buffering) {
        return pt_http_read_body_streaming(r);
    }

    rc = pt_http_read_body_buffered(r);

    if (rc != PT_OK) {
        return rc;
    }

    rc = pt_http_request_body_done(r);

    if (rc != PT_OK) {
        return rc;
    }

    r->request_body->post_handler(r);

    return PT_OK;
}

/* Buffered: reads until the body is complete or the socket is empty,
 * spilling the buffer to the temp file whenever it fills. */
static pt_int_t
pt_http_read_body_buffered(pt_http_request_t *r)
{
    pt_int_t                 rc;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    for ( ;; ) {
        if (rb->buf->last == rb->buf->end && rb->rest) {
            rc = pt_http_request_body_spill(r);
            if (rc != PT_OK) {
                return rc;
            }
        }

        if (rb->rest == 0) {
            return PT_OK;
        }

        if (r->header_in->pos < r->header_in->last) {
            rc = pt_http_request_body_preread(r);
            if (rc != PT_OK) {
                return rc;
            }
            continue;
        }

        rc = pt_http_read_body_socket(r);

        if (rc == PT_AGAIN) {
            return pt_http_request_body_wait(r);
        }

        if (rc != PT_OK) {
            return rc;
        }
    }
}

/* Streaming: frees the consumed part of the buffer, reads while there is
 * room, and hands out what is new. */
static pt_int_t
pt_http_read_body_streaming(pt_http_request_t *r)
{
    pt_int_t                 rc;
    pt_chain_t              *out;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    for ( ;; ) {
        out = NULL;
        pt_chain_update_chains(r->pool, &rb->free, &rb->busy, &out, PT_HTTP_BODY_TAG);

        if (rb->busy == NULL && rb->handed == rb->buf->last) {
            /* everything handed out was consumed: start over */
            rb->buf->pos = rb->buf->start;
            rb->buf->last = rb->buf->start;
            rb->handed = rb->buf->start;
        }

        if (rb->rest == 0 || rb->buf->last == rb->buf->end) {
            break;
        }

        if (r->header_in->pos < r->header_in->last) {
            rc = pt_http_request_body_preread(r);
            if (rc != PT_OK) {
                return rc;
            }
            continue;
        }

        rc = pt_http_read_body_socket(r);

        if (rc == PT_AGAIN) {
            break;
        }

        if (rc != PT_OK) {
            return rc;
        }
    }

    if (pt_http_request_body_hand_out(r) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rb->rest == 0) {
        return PT_OK;
    }

    if (rb->buf->last == rb->buf->end) {
        /* paused until the handler consumes: not the client's delay */
        if (r->connection->read->timer_set) {
            pt_event_del_timer(r->connection->read);
        }
        return PT_AGAIN;
    }

    return pt_http_request_body_wait(r);
}

/* Arms client_body_timeout and the read event; PT_AGAIN or an error. */
static pt_int_t
pt_http_request_body_wait(pt_http_request_t *r)
{
    pt_event_t               *rev;
    pt_http_core_loc_conf_t  *clcf;

    rev = r->connection->read;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    pt_event_add_timer(rev, clcf->client_body_timeout);

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    return PT_AGAIN;
}

/* Reads raw body bytes into the free tail of rb->buf and decodes them.
 * Returns PT_OK (something was read), PT_AGAIN, or an HTTP error status
 * (the client closed or the socket failed: 400, as nginx logs it). */
static pt_int_t
pt_http_read_body_socket(pt_http_request_t *r)
{
    size_t                   size;
    ssize_t                  n;
    pt_int_t                 rc;
    pt_buf_t                 raw;
    pt_connection_t         *c;
    pt_http_request_body_t  *rb;

    c = r->connection;
    rb = r->request_body;

    if (!c->read->ready) {
        return PT_AGAIN;
    }

    size = rb->buf->end - rb->buf->last;

    if ((off_t) size > rb->rest) {
        size = (size_t) rb->rest;
    }

    n = c->recv(c, rb->buf->last, size);

    if (n == PT_AGAIN) {
        return PT_AGAIN;
    }

    if (n == 0 || n == PT_ERROR) {
        if (n == 0) {
            pt_log_error(PT_LOG_INFO, c->log, 0,
                         "client prematurely closed connection");
        }
        c->error = 1;
        return PT_HTTP_BAD_REQUEST;
    }

    r->request_length += n;

    pt_memzero(&raw, sizeof(pt_buf_t));
    raw.pos = rb->buf->last;
    raw.last = rb->buf->last + n;

    rc = pt_http_request_body_input(r, &raw);

    if (rc != PT_OK) {
        return rc;
    }

    if (raw.pos != raw.last) {
        /* the decoder stops only at the end of the body, and nothing past
         * the end was read */
        pt_log_error(PT_LOG_ALERT, c->log, 0, "request body bytes left over");
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    return PT_OK;
}

/* Moves body bytes that came with the head into rb->buf. */
static pt_int_t
pt_http_request_body_preread(pt_http_request_t *r)
{
    u_char    *pos;
    pt_int_t   rc;

    pos = r->header_in->pos;

    rc = pt_http_request_body_input(r, r->header_in);

    r->request_length += r->header_in->pos - pos;

    return rc;
}

/*
 * The decoder: moves the body bytes of src (raw bytes just read past the
 * data of rb->buf, or the header buffer) to the end of rb->buf's data,
 * dropping the chunked framing, until src is used up, rb->buf is full or
 * the body is complete; src->pos is left past what was used.  rb->rest
 * becomes what is still owed (for chunked: the fewest bytes that can end
 * the body).  Chunked bodies are held to client_max_body_size here.
 * Returns PT_OK or an HTTP error status.
 */
static pt_int_t
pt_http_request_body_input(pt_http_request_t *r, pt_buf_t *src)
{
    off_t                     size;
    pt_int_t                  rc;
    pt_buf_t                 *dst;
    pt_http_chunked_t        *ctx;
    pt_http_request_body_t   *rb;
    pt_http_core_loc_conf_t  *clcf;

    rb = r->request_body;
    dst = rb->buf;
    ctx = rb->chunked;

    if (ctx == NULL) {
        size = pt_min(src->last - src->pos, rb->rest);
        size = pt_min(size, dst->end - dst->last);

        if (dst->last != src->pos) {
            pt_memmove(dst->last, src->pos, (size_t) size);
        }

        dst->last += size;
        src->pos += size;
        rb->rest -= size;
        rb->received += size;

        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    for ( ;; ) {
        rc = pt_http_parse_chunked(r, src, ctx);

        if (rc == PT_OK) {
            size = pt_min(ctx->size, src->last - src->pos);
            size = pt_min(size, dst->end - dst->last);

            if (size == 0) {
                /* rb->buf is full; the rest of src waits */
                return PT_OK;
            }

            if (clcf->client_max_body_size
                && rb->received + size > clcf->client_max_body_size)
            {
                pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                             "client intended to send too large chunked body: "
                             "%" PRId64 "+%" PRId64 " bytes",
                             (int64_t) rb->received, (int64_t) size);
                return PT_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }

            if (dst->last != src->pos) {
                pt_memmove(dst->last, src->pos, (size_t) size);
            }

            dst->last += size;
            src->pos += size;
            ctx->size -= size;
            rb->received += size;
            continue;
        }

        if (rc == PT_DONE) {
            rb->rest = 0;
            return PT_OK;
        }

        if (rc == PT_AGAIN) {
            rb->rest = ctx->length;
            return PT_OK;
        }

        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent invalid chunked body");

        return PT_HTTP_BAD_REQUEST;
    }
}

/* Buffered: writes the data of rb->buf to the temp file (created on the
 * first spill) and empties the buffer. */
static pt_int_t
pt_http_request_body_spill(pt_http_request_t *r)
{
    pt_buf_t                 *b;
    pt_http_request_body_t   *rb;
    pt_http_core_loc_conf_t  *clcf;

    rb = r->request_body;
    b = rb->buf;

    if (rb->temp_file == NULL) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

        rb->temp_file = pt_pcalloc(r->pool, sizeof(pt_file_t));
        if (rb->temp_file == NULL) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (pt_create_temp_file(rb->temp_file, clcf->client_body_temp_path, r->pool,
                                r->connection->log)
            != PT_OK)
        {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        pt_log_error(PT_LOG_WARN, r->connection->log, 0,
                     "a client request body is buffered to a temporary file "
                     "\"" PT_STR_FMT "\"", PT_STR_ARG(rb->temp_file->name));
    }

    if (b->last > b->pos
        && pt_write_temp_file(rb->temp_file, b->pos, b->last - b->pos) != PT_OK)
    {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = b->start;
    b->last = b->start;

    return PT_OK;
}

/* Buffered: the body is complete; builds rb->bufs and stops reading. */
static pt_int_t
pt_http_request_body_done(pt_http_request_t *r)
{
    pt_buf_t                *b;
    pt_chain_t              *cl;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    r->reading_body = 0;
    r->read_event_handler = pt_http_block_reading;

    if (r->connection->read->timer_set) {
        pt_event_del_timer(r->connection->read);
    }

    if (rb->temp_file) {
        if (pt_http_request_body_spill(r) != PT_OK) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        b = pt_calloc_buf(r->pool);
        if (b == NULL) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->in_file = 1;
        b->temp_file = 1;
        b->file = rb->temp_file;
        b->file_pos = 0;
        b->file_last = rb->temp_file->offset;

    } else if (rb->buf->last > rb->buf->pos) {
        b = rb->buf;

    } else {
        return PT_OK;                   /* an empty chunked body */
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    cl = pt_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;

    return PT_OK;
}

/* Streaming: appends the data decoded since the last call to rb->bufs
 * (and to the busy list), and the last_buf mark once the body is done. */
static pt_int_t
pt_http_request_body_hand_out(pt_http_request_t *r)
{
    pt_buf_t                *b;
    pt_chain_t              *cl, *busy, **ll;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    ll = &rb->bufs;
    for (cl = rb->bufs; cl; cl = cl->next) {
        ll = &cl->next;
    }

    b = NULL;

    if (rb->buf && rb->buf->last > rb->handed) {
        cl = pt_chain_get_free_buf(r->pool, &rb->free);
        busy = pt_alloc_chain_link(r->pool);
        if (cl == NULL || busy == NULL) {
            return PT_ERROR;
        }

        b = cl->buf;
        pt_memzero(b, sizeof(pt_buf_t));
        b->temporary = 1;
        b->tag = PT_HTTP_BODY_TAG;
        b->start = rb->handed;
        b->pos = rb->handed;
        b->last = rb->buf->last;
        b->end = rb->buf->last;
        rb->handed = rb->buf->last;

        *ll = cl;
        ll = &cl->next;

        busy->buf = b;
        busy->next = rb->busy;
        rb->busy = busy;
    }

    if (rb->rest || rb->last_sent) {
        return PT_OK;
    }

    rb->last_sent = 1;
    r->reading_body = 0;
    r->read_event_handler = pt_http_block_reading;

    if (r->connection->read->timer_set) {
        pt_event_del_timer(r->connection->read);
    }

    if (b == NULL) {
        cl = pt_alloc_chain_link(r->pool);
        b = pt_calloc_buf(r->pool);
        if (cl == NULL || b == NULL) {
            return PT_ERROR;
        }

        cl->buf = b;
        cl->next = NULL;
        *ll = cl;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    return PT_OK;
}

pt_int_t
pt_http_variable_request_body(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    size_t                   len;
    u_char                  *p;
    pt_chain_t              *cl;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    if (rb == NULL || rb->bufs == NULL || rb->temp_file || r->request_body_no_buffering) {
        v->not_found = 1;
        return PT_OK;
    }

    len = 0;

    for (cl = rb->bufs; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    if (rb->bufs->next == NULL) {
        p = rb->bufs->buf->pos;

    } else {
        p = pt_pnalloc(r->pool, len);
        if (p == NULL) {
            return PT_ERROR;
        }

        v->data = p;

        for (cl = rb->bufs; cl; cl = cl->next) {
            p = pt_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }

        p = v->data;
    }

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}
