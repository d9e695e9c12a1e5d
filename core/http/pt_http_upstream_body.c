/*
 * pt_http_upstream_body.c: the response body, from the upstream to the
 * client, in one of three ways.
 *
 * Buffered (proxy_buffering on).  The upstream is read as fast as it
 * sends, into up to proxy_buffers buffers (the rest of the head buffer
 * first).  The protocol module's input filter decodes each read in place,
 * so a buffer holds body bytes only.  Filled buffers queue in p->in, in
 * order, and go down the client's filter chain while the bytes the client
 * has not taken yet stay under proxy_busy_buffers_size; a partly filled
 * buffer goes too when the client keeps up.  When every buffer is full
 * and the client is slow, queued buffers are written to a temp file
 * (proxy_temp_path, at most proxy_max_temp_file_size) and the queue holds
 * file ranges instead, so the upstream is released early.  A buffer comes
 * back once the write filter sent it.
 *
 * Unbuffered (proxy_buffering off, or "X-Accel-Buffering: no").  One
 * buffer; every read goes to the client at once, flushed.  Reading stops
 * while the buffer is full of bytes the client has not taken.
 *
 * Upgraded (a 101 answer).  After the header, both connections are joined:
 * bytes are copied each way with plain recv/send, and the tunnel ends when
 * either side closes or nothing moved for proxy_read_timeout.
 *
 * Whatever the way, the end of the body is the upstream's end only when
 * the framing says so (length reached, last chunk); an upstream that
 * closes or fails earlier gives the client a truncated response (see
 * pt_http_upstream_finalize_request), never a clean end.
 */

#include "pt_http.h"

struct pt_http_upstream_pipe_s {
    pt_buf_t                *read;      /* receiving; NULL: take a free one */
    pt_chain_t              *free;      /* empty buffers */
    pt_chain_t              *in;        /* filled, not yet given to the client */
    pt_chain_t             **in_tail;
    pt_chain_t              *busy;      /* given, not all sent yet */
    pt_chain_t              *free_bufs; /* unbuffered: spare buffer headers */
    pt_int_t                 allocated;

    pt_file_t               *temp_file;
    off_t                    temp_written;

    pt_buf_t                *to_upstream;   /* tunnel: client -> upstream */

    time_t                   start_sec;     /* proxy_limit_rate: since when */
    off_t                    read_length;   /* and how much was read */

    unsigned                 upstream_done:1;   /* the body ended as framed */
    unsigned                 upstream_eof:1;
    unsigned                 upstream_error:1;
    unsigned                 upstream_timedout:1;
    unsigned                 downstream_error:1;
    unsigned                 last_sent:1;
    unsigned                 no_temp:1;         /* the temp file failed */
};

static void pt_http_upstream_process_buffered(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_uint_t from_upstream);
static void pt_http_upstream_buffered_upstream(pt_http_request_t *r,
    pt_http_upstream_t *u);
static void pt_http_upstream_buffered_downstream(pt_http_request_t *r);
static void pt_http_upstream_process_unbuffered(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_uint_t from_upstream);
static void pt_http_upstream_unbuffered_upstream(pt_http_request_t *r,
    pt_http_upstream_t *u);
static void pt_http_upstream_unbuffered_downstream(pt_http_request_t *r);
static void pt_http_upstream_start_tunnel(pt_http_request_t *r,
    pt_http_upstream_t *u);

/* ---- common ---- */

/* The rest of the head buffer, after the head, as the first body buffer:
 * the head's strings before it stay untouched. */
static pt_buf_t *
pt_http_upstream_rest_buffer(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_buf_t  *b;

    b = pt_calloc_buf(r->pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = u->buffer.pos;
    b->pos = u->buffer.pos;
    b->last = u->buffer.last;
    b->end = u->buffer.end;
    b->temporary = 1;
    b->tag = PT_HTTP_UPSTREAM_TAG;

    return b;
}

/* Feeds the body bytes that came with the head through the input filter.
 * PT_OK or PT_ERROR (an invalid body). */
static pt_int_t
pt_http_upstream_preread(pt_http_request_t *r, pt_http_upstream_t *u, pt_buf_t *b)
{
    u_char  *start;

    if (b->pos == b->last) {
        return PT_OK;
    }

    start = b->pos;

    if (u->input_filter(r, b, start) != PT_OK) {
        return PT_ERROR;
    }

    u->state->response_length += b->last - start;

    return PT_OK;
}

static pt_http_upstream_pipe_t *
pt_http_upstream_create_pipe(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_pipe_t  *p;

    p = pt_pcalloc(r->pool, sizeof(pt_http_upstream_pipe_t));
    if (p == NULL) {
        return NULL;
    }

    p->in_tail = &p->in;
    u->pipe = p;

    return p;
}

void
pt_http_upstream_pipe_done(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_event_t  *rev;

    /* a proxy_limit_rate pause ends with the body: a cached connection
     * must not come back paused */
    if (u->peer.connection && u->peer.connection->read->delayed) {
        rev = u->peer.connection->read;
        rev->delayed = 0;

        if (rev->timer_set) {
            pt_event_del_timer(rev);
        }
    }

    /* the temp file stays open until the request ends: the write filter
     * may still send from it (a pool cleanup closes it) */
}

/* Bytes given to the client that it has not taken yet. */
static off_t
pt_http_upstream_busy_size(pt_chain_t *busy)
{
    off_t        size;
    pt_chain_t  *cl;

    size = 0;

    for (cl = busy; cl; cl = cl->next) {
        if (pt_buf_in_memory(cl->buf)) {
            size += cl->buf->last - cl->buf->pos;
        }
    }

    return size;
}

/* Client timers: send_timeout while bytes wait for the client. */
static void
pt_http_upstream_client_timer(pt_http_request_t *r)
{
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;

    if (c->write->delayed) {
        /* a limit_rate pause: its timer lets the writing go on */
        return;
    }

    if (c->buffered) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
        pt_event_add_timer(c->write, clcf->send_timeout);

    } else if (c->write->timer_set) {
        pt_event_del_timer(c->write);
    }
}

/* The timeouts a pass of the buffered or unbuffered body starts with.
 * PT_ERROR: the upstream's read timed out (logged, an upstream error);
 * PT_DONE: the client's send timed out and the request is finalized
 * (408); PT_OK: neither. */
static pt_int_t
pt_http_upstream_body_timeouts(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t from_upstream)
{
    pt_connection_t  *c, *uc;

    c = r->connection;
    uc = u->peer.connection;

    if (from_upstream && uc->read->timedout && uc->read->delayed) {
        /* the end of a proxy_limit_rate pause, not a timeout */
        uc->read->timedout = 0;
        uc->read->delayed = 0;
    }

    if (!from_upstream && c->write->timedout && c->write->delayed) {
        /* the end of a limit_rate pause */
        c->write->timedout = 0;
        c->write->delayed = 0;
    }

    if (from_upstream && uc->read->timedout) {
        uc->read->timedout = 0;
        /* the log's action adds "while reading upstream", as in nginx */
        pt_log_error(PT_LOG_ERR, c->log, ETIMEDOUT, "upstream timed out");
        u->pipe->upstream_timedout = 1;
        u->pipe->upstream_error = 1;
        return PT_ERROR;
    }

    if (!from_upstream && c->write->timedout) {
        c->timedout = 1;
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        pt_http_upstream_finalize_request(r, u, PT_HTTP_REQUEST_TIME_OUT);
        return PT_DONE;
    }

    return PT_OK;
}

/* The end of a pass of the buffered or unbuffered body.  With room to
 * read (room), the upstream gets read_timeout to send more; without, the
 * client's pace rules and the upstream waits untimed.  Then the client's
 * send timer. */
static void
pt_http_upstream_body_wait(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t room)
{
    pt_connection_t  *uc;

    uc = u->peer.connection;

    if (uc->read->delayed) {
        /* a proxy_limit_rate pause: its timer resumes the reading */

    } else if (room) {
        pt_event_add_timer(uc->read, u->conf->read_timeout);

        if (pt_handle_read_event(uc->read, 0) != PT_OK) {
            pt_http_upstream_finalize_request(r, u, PT_ERROR);
            return;
        }

    } else if (uc->read->timer_set) {
        pt_event_del_timer(uc->read);
    }

    pt_http_upstream_client_timer(r);
}

/* ---- the header and the choice of the way ---- */

void
pt_http_upstream_send_response(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_int_t                  rc;
    pt_buf_t                 *b;
    pt_connection_t          *c;
    pt_http_upstream_pipe_t  *p;

    c = r->connection;

    if (u->input_filter_init(r) != PT_OK) {
        pt_http_upstream_finalize_request(r, u, PT_ERROR);
        return;
    }

    if (u->upgrade) {
        r->keepalive = 0;
        r->header_only = 1;
    }

    rc = pt_http_send_header(r);

    u->header_sent = 1;

    if (rc == PT_ERROR || rc > PT_OK) {
        pt_http_upstream_finalize_request(r, u, rc);
        return;
    }

    if (u->upgrade) {
        pt_http_upstream_start_tunnel(r, u);
        return;
    }

    if (r->header_only) {
        /* HEAD, 204, 304: the upstream sent no body (or one nobody asked
         * for, and the connection is not reused then) */
        if (u->length != 0 || u->buffer.pos != u->buffer.last) {
            u->keepalive = 0;
        }

        pt_http_upstream_finalize_request(r, u, rc);
        return;
    }

    p = pt_http_upstream_create_pipe(r, u);
    if (p == NULL) {
        pt_http_upstream_finalize_request(r, u, PT_ERROR);
        return;
    }

    b = pt_http_upstream_rest_buffer(r, u);
    if (b == NULL) {
        pt_http_upstream_finalize_request(r, u, PT_ERROR);
        return;
    }

    if (pt_http_upstream_preread(r, u, b) != PT_OK) {
        p->upstream_error = 1;
    }

    p->start_sec = pt_time();
    p->read_length = b->last - b->pos;

    if (u->length == 0) {
        p->upstream_done = 1;
    }

    p->read = b;

    c->log->action = "reading upstream";

    if (u->buffering) {
        r->write_event_handler = pt_http_upstream_buffered_downstream;
        u->read_event_handler = pt_http_upstream_buffered_upstream;
        pt_http_upstream_process_buffered(r, u, 1);
        return;
    }

    r->write_event_handler = pt_http_upstream_unbuffered_downstream;
    u->read_event_handler = pt_http_upstream_unbuffered_upstream;

    pt_http_upstream_process_unbuffered(r, u, 1);
}

/* The end of a forwarded body: the upstream part ends with rc, which is
 * 0 when the body ended as framed. */
static void
pt_http_upstream_body_end(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_pipe_t  *p;

    p = u->pipe;

    if (p->upstream_timedout) {
        pt_http_upstream_finalize_request(r, u, PT_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    if (p->upstream_error || p->downstream_error) {
        u->keepalive = 0;
        pt_http_upstream_finalize_request(r, u, p->downstream_error ? PT_ERROR
                                                : PT_HTTP_BAD_GATEWAY);
        return;
    }

    pt_http_upstream_finalize_request(r, u, 0);
}

/* At the upstream's close: a body without framing ends here; one whose
 * length or last chunk has not come is truncated. */
static void
pt_http_upstream_eof(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p)
{
    if (u->length == -1) {
        p->upstream_done = 1;
        return;
    }

    pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                 "upstream prematurely closed connection while reading upstream");

    p->upstream_error = 1;
}

/* ---- buffered ---- */

static pt_buf_t *
pt_http_upstream_get_buffer(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p)
{
    pt_buf_t    *b;
    pt_chain_t  *cl;

    if (p->free) {
        cl = p->free;
        p->free = cl->next;
        b = cl->buf;
        pt_free_chain(r->pool, cl);

        b->pos = b->start;
        b->last = b->start;
        return b;
    }

    if (p->allocated >= u->conf->bufs.num) {
        return NULL;
    }

    b = pt_create_temp_buf(r->pool, u->conf->bufs.size);
    if (b == NULL) {
        return NULL;
    }

    b->tag = PT_HTTP_UPSTREAM_TAG;
    p->allocated++;

    return b;
}

static pt_int_t
pt_http_upstream_enqueue(pt_http_request_t *r, pt_http_upstream_pipe_t *p,
    pt_buf_t *b)
{
    pt_chain_t  *cl;

    cl = pt_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return PT_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    *p->in_tail = cl;
    p->in_tail = &cl->next;

    return PT_OK;
}

static void
pt_http_upstream_give_back(pt_http_request_t *r, pt_http_upstream_pipe_t *p,
    pt_buf_t *b)
{
    pt_chain_t  *cl;

    cl = pt_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return;     /* the buffer is lost for this request; harmless */
    }

    b->pos = b->start;
    b->last = b->start;

    cl->buf = b;
    cl->next = p->free;
    p->free = cl;
}

/* The response's temp file, created on the first spill.  PT_ERROR turns
 * spilling off for this response (the client's pace rules then). */
static pt_int_t
pt_http_upstream_temp_file(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p)
{
    if (p->temp_file) {
        return PT_OK;
    }

    p->temp_file = pt_pcalloc(r->pool, sizeof(pt_file_t));
    if (p->temp_file == NULL) {
        return PT_ERROR;
    }

    if (pt_create_temp_file(p->temp_file, u->conf->temp_path, r->pool,
                            r->connection->log) != PT_OK)
    {
        p->temp_file = NULL;
        p->no_temp = 1;
        return PT_ERROR;
    }

    pt_log_error(PT_LOG_WARN, r->connection->log, 0,
                 "an upstream response is buffered to a temporary file "
                 PT_STR_FMT, PT_STR_ARG(p->temp_file->name));

    return PT_OK;
}

/* Writes the memory buffer of cl to the temp file and puts a file range in
 * its place (the file range before it grows instead when they touch).
 * *prev is the last file buffer of the queue so far. */
static pt_int_t
pt_http_upstream_spill_buf(pt_http_request_t *r, pt_http_upstream_pipe_t *p,
    pt_chain_t *cl, pt_buf_t **prev)
{
    off_t      size;
    pt_buf_t  *b, *fb;

    b = cl->buf;
    size = b->last - b->pos;

    /* reads of the file (the copy filter's) move its offset too */
    p->temp_file->offset = p->temp_written;

    if (pt_write_temp_file(p->temp_file, b->pos, (size_t) size) != PT_OK) {
        return PT_ERROR;
    }

    if (*prev && (*prev)->in_file && (*prev)->file_last == p->temp_written) {
        (*prev)->file_last += size;

        /* an empty buffer stands in the queue; it is skipped */
        fb = pt_calloc_buf(r->pool);
        if (fb == NULL) {
            return PT_ERROR;
        }

    } else {
        fb = pt_calloc_buf(r->pool);
        if (fb == NULL) {
            return PT_ERROR;
        }

        fb->in_file = 1;
        fb->temp_file = 1;
        fb->file = p->temp_file;
        fb->file_pos = p->temp_written;
        fb->file_last = p->temp_written + size;

        *prev = fb;
    }

    p->temp_written += size;

    pt_http_upstream_give_back(r, p, b);
    cl->buf = fb;

    return PT_OK;
}

/*
 * Writes the queued memory buffers (not yet given to the client) to the
 * temp file and puts file ranges in their place, freeing the buffers.
 * Returns 1 when a buffer was freed.
 */
static pt_uint_t
pt_http_upstream_spill(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p)
{
    off_t        written;
    pt_buf_t    *prev;
    pt_uint_t    freed;
    pt_chain_t  *cl;

    if (p->no_temp || u->conf->max_temp_file_size == 0 || u->conf->temp_path == NULL
        || pt_http_upstream_temp_file(r, u, p) != PT_OK)
    {
        return 0;
    }

    freed = 0;
    prev = NULL;
    written = 0;

    for (cl = p->in; cl; cl = cl->next) {

        if (!pt_buf_in_memory(cl->buf)) {
            prev = cl->buf;
            continue;
        }

        /* at most proxy_temp_file_write_size per spill: the disk write
         * blocks the worker */
        if (p->temp_written + (cl->buf->last - cl->buf->pos)
            > u->conf->max_temp_file_size
            || (written && written >= (off_t) u->conf->temp_file_write_size))
        {
            break;
        }

        written += cl->buf->last - cl->buf->pos;

        if (pt_http_upstream_spill_buf(r, p, cl, &prev) != PT_OK) {
            p->no_temp = 1;
            break;
        }

        freed = 1;
    }

    return freed;
}

/*
 * proxy_limit_rate, as nginx's event pipe: how much may be read now, with
 * the average since the body began under the rate (0: no limit), or -1
 * while reading is paused (read->delayed, until the timer).
 */
static off_t
pt_http_upstream_read_limit(pt_http_upstream_t *u, pt_http_upstream_pipe_t *p)
{
    off_t        limit, rate;
    pt_event_t  *rev;

    rate = (off_t) u->conf->limit_rate;
    rev = u->peer.connection->read;

    if (rate == 0) {
        return 0;
    }

    if (rev->delayed) {
        return -1;
    }

    limit = rate * (pt_time() - p->start_sec + 1) - p->read_length;

    if (limit > 0) {
        return limit;
    }

    rev->delayed = 1;
    pt_event_add_timer(rev, (pt_msec_t) (-limit * 1000 / rate + 1));

    return -1;
}

/* After a read of n bytes under proxy_limit_rate: pause as long as they
 * take at the rate. */
static void
pt_http_upstream_read_delay(pt_http_upstream_t *u, ssize_t n)
{
    pt_msec_t    delay;
    pt_event_t  *rev;

    delay = (pt_msec_t) ((off_t) n * 1000 / (off_t) u->conf->limit_rate);

    if (delay > 0) {
        rev = u->peer.connection->read;
        rev->delayed = 1;
        pt_event_add_timer(rev, delay);
    }
}

/* Reads from the upstream while it has bytes and a buffer is there.
 * Returns 1 when something was read. */
static pt_uint_t
pt_http_upstream_read_buffered(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p)
{
    off_t             limit;
    size_t            size;
    ssize_t           n;
    u_char           *start;
    pt_buf_t         *b;
    pt_uint_t         progress;
    pt_connection_t  *uc;

    uc = u->peer.connection;
    progress = 0;

    while (!p->upstream_done && !p->upstream_eof && !p->upstream_error
           && uc->read->ready)
    {
        b = p->read;

        if (b == NULL || b->last == b->end) {
            if (b) {
                if (pt_http_upstream_enqueue(r, p, b) != PT_OK) {
                    p->upstream_error = 1;
                    break;
                }
                p->read = NULL;
            }

            b = pt_http_upstream_get_buffer(r, u, p);

            if (b == NULL) {
                if (pt_http_upstream_spill(r, u, p)) {
                    continue;
                }
                /* every buffer is busy: wait for the client */
                break;
            }

            p->read = b;
        }

        limit = pt_http_upstream_read_limit(u, p);

        if (limit < 0) {
            break;
        }

        size = b->end - b->last;

        if (limit && (off_t) size > limit) {
            size = (size_t) limit;
        }

        n = uc->recv(uc, b->last, size);

        if (n == PT_AGAIN) {
            break;
        }

        if (n == PT_ERROR) {
            p->upstream_error = 1;
            break;
        }

        if (n == 0) {
            p->upstream_eof = 1;
            pt_http_upstream_eof(r, u, p);
            break;
        }

        u->state->bytes_received += n;
        p->read_length += n;

        start = b->last;
        b->last += n;

        if (u->input_filter(r, b, start) != PT_OK) {
            p->upstream_error = 1;
            break;
        }

        u->state->response_length += b->last - start;
        progress = 1;

        if (u->length == 0) {
            p->upstream_done = 1;
            break;
        }

        if (u->conf->limit_rate) {
            pt_http_upstream_read_delay(u, n);
        }
    }

    return progress;
}

/* Takes from the queue what may go to the client now (all of it at the
 * end, else while the bytes it has not taken stay under
 * proxy_busy_buffers_size; file ranges always), and the last buffer once
 * the body is complete.  The chain goes to *out.  PT_OK or PT_ERROR. */
static pt_int_t
pt_http_upstream_collect(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p, pt_uint_t all, pt_chain_t **out)
{
    off_t        busy, limit;
    pt_buf_t    *b;
    pt_chain_t  *cl, **ll;

    busy = pt_http_upstream_busy_size(p->busy);
    limit = (off_t) u->conf->busy_buffers_size;

    /* a partly filled buffer goes too when the client keeps up (or the
     * body is over): bytes do not wait for a buffer to fill */
    b = p->read;

    if (b && b->last > b->pos && (all || busy < limit)) {
        if (pt_http_upstream_enqueue(r, p, b) != PT_OK) {
            return PT_ERROR;
        }
        p->read = NULL;

    } else if (b && all) {
        /* the body is over: an empty buffer is not needed any more */
        p->read = NULL;
    }

    *out = NULL;
    ll = out;

    while (p->in) {
        cl = p->in;
        b = cl->buf;

        if (pt_buf_in_memory(b) && !all && busy >= limit) {
            break;
        }

        p->in = cl->next;
        if (p->in == NULL) {
            p->in_tail = &p->in;
        }

        if (pt_buf_size(b) == 0 && !pt_buf_special(b)) {
            pt_free_chain(r->pool, cl);
            continue;
        }

        if (pt_buf_in_memory(b)) {
            busy += b->last - b->pos;
        }

        cl->next = NULL;
        *ll = cl;
        ll = &cl->next;
    }

    if (p->upstream_done && p->in == NULL && p->read == NULL && !p->last_sent) {
        cl = pt_alloc_chain_link(r->pool);
        b = pt_calloc_buf(r->pool);

        if (cl == NULL || b == NULL) {
            return PT_ERROR;
        }

        b->last_buf = 1;
        b->last_in_chain = 1;
        cl->buf = b;
        cl->next = NULL;
        *ll = cl;

        p->last_sent = 1;
    }

    return PT_OK;
}

/* Gives what may go to the client down its filter chain.  Returns 1 on
 * progress: buffers went out, or came back for reading. */
static pt_uint_t
pt_http_upstream_write_buffered(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p, pt_uint_t all)
{
    pt_int_t     rc;
    pt_uint_t    progress;
    pt_chain_t  *out, *free;

    if (p->downstream_error) {
        return 0;
    }

    if (pt_http_upstream_collect(r, u, p, all, &out) != PT_OK) {
        p->downstream_error = 1;
        return 0;
    }

    progress = (out != NULL);

    if (out == NULL && !(r->connection->buffered & PT_HTTP_LOWLEVEL_BUFFERED)
        && r->out == NULL)
    {
        return 0;
    }

    free = p->free;

    rc = pt_http_output_filter(r, out);

    if (rc == PT_ERROR) {
        p->downstream_error = 1;
        return 0;
    }

    pt_chain_update_chains(r->pool, &p->free, &p->busy, &out, PT_HTTP_UPSTREAM_TAG);

    /* a buffer that came back lets the upstream be read again */
    return progress || p->free != free;
}

static void
pt_http_upstream_process_buffered(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t from_upstream)
{
    pt_uint_t                 rd, wr, finished;
    pt_connection_t          *uc;
    pt_http_upstream_pipe_t  *p;

    uc = u->peer.connection;
    p = u->pipe;

    /* an upstream timeout is an upstream error the loop below ends on */
    if (pt_http_upstream_body_timeouts(r, u, from_upstream) == PT_DONE) {
        return;
    }

    for ( ;; ) {
        rd = pt_http_upstream_read_buffered(r, u, p);

        finished = p->upstream_done || p->upstream_eof || p->upstream_error;

        wr = pt_http_upstream_write_buffered(r, u, p, finished);

        if (p->downstream_error) {
            pt_http_upstream_body_end(r, u);
            return;
        }

        if (finished) {
            if (p->upstream_done && !p->last_sent) {
                continue;
            }
            pt_http_upstream_body_end(r, u);
            return;
        }

        if (!rd && !wr) {
            break;
        }
    }

    /* waiting: for the upstream (read timeout) or, stopped by full
     * buffers with the upstream still readable, for the client */
    pt_http_upstream_body_wait(r, u, !uc->read->ready);
}

static void
pt_http_upstream_buffered_upstream(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_process_buffered(r, u, 1);
}

static void
pt_http_upstream_buffered_downstream(pt_http_request_t *r)
{
    pt_http_upstream_process_buffered(r, r->upstream, 0);
}

/* ---- unbuffered ---- */

/* Gives the new bytes [start, last) of the read buffer to the client, or
 * with no bytes pushes what waits. */
static void
pt_http_upstream_write_unbuffered(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p, u_char *start, u_char *last)
{
    pt_int_t     rc;
    pt_buf_t    *b;
    pt_chain_t  *out, *cl, **ll;

    out = NULL;
    ll = &out;

    if (last > start) {
        cl = pt_chain_get_free_buf(r->pool, &p->free_bufs);
        if (cl == NULL) {
            p->downstream_error = 1;
            return;
        }

        b = cl->buf;
        pt_memzero(b, sizeof(pt_buf_t));
        b->start = start;
        b->pos = start;
        b->last = last;
        b->end = last;
        b->temporary = 1;
        b->flush = 1;
        b->tag = PT_HTTP_UPSTREAM_TAG;

        *ll = cl;
        ll = &cl->next;
    }

    if (p->upstream_done && !p->last_sent) {
        cl = pt_chain_get_free_buf(r->pool, &p->free_bufs);
        if (cl == NULL) {
            p->downstream_error = 1;
            return;
        }

        b = cl->buf;
        pt_memzero(b, sizeof(pt_buf_t));
        b->last_buf = 1;
        b->last_in_chain = 1;

        *ll = cl;
        p->last_sent = 1;
    }

    if (out == NULL && r->out == NULL) {
        return;
    }

    rc = pt_http_output_filter(r, out);

    if (rc == PT_ERROR) {
        p->downstream_error = 1;
        return;
    }

    pt_chain_update_chains(r->pool, &p->free_bufs, &p->busy, &out,
                           PT_HTTP_UPSTREAM_TAG);
}

/* One read after the bytes of b: PT_OK (bytes, the end, or an error,
 * noted in p), PT_AGAIN (nothing there). */
static pt_int_t
pt_http_upstream_read_unbuffered(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_upstream_pipe_t *p, pt_buf_t *b)
{
    ssize_t           n;
    u_char           *start;
    pt_connection_t  *uc;

    uc = u->peer.connection;

    n = uc->recv(uc, b->last, b->end - b->last);

    if (n == PT_AGAIN) {
        return PT_AGAIN;
    }

    if (n == PT_ERROR) {
        p->upstream_error = 1;
        return PT_OK;
    }

    if (n == 0) {
        p->upstream_eof = 1;
        pt_http_upstream_eof(r, u, p);
        return PT_OK;
    }

    u->state->bytes_received += n;

    start = b->last;
    b->last += n;

    if (u->input_filter(r, b, start) != PT_OK) {
        p->upstream_error = 1;
        return PT_OK;
    }

    u->state->response_length += b->last - start;

    if (u->length == 0) {
        p->upstream_done = 1;
    }

    return PT_OK;
}

static void
pt_http_upstream_process_unbuffered(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_uint_t from_upstream)
{
    pt_int_t                  rc;
    pt_buf_t                 *b;
    pt_connection_t          *uc;
    pt_http_upstream_pipe_t  *p;

    uc = u->peer.connection;
    p = u->pipe;
    b = p->read;

    rc = pt_http_upstream_body_timeouts(r, u, from_upstream);

    if (rc == PT_DONE) {
        return;
    }

    if (rc == PT_ERROR) {
        pt_http_upstream_body_end(r, u);
        return;
    }

    /* [b->start, b->pos) went to the client, [b->pos, b->last) not yet */

    for ( ;; ) {
        pt_http_upstream_write_unbuffered(r, u, p, b->pos, b->last);
        b->pos = b->last;

        if (p->downstream_error) {
            pt_http_upstream_body_end(r, u);
            return;
        }

        if (p->busy == NULL && r->out == NULL) {
            /* all went out: the buffer starts over */
            b->pos = b->start;
            b->last = b->start;
        }

        if (p->upstream_done || p->upstream_error) {
            if (p->upstream_done && !p->last_sent) {
                continue;
            }
            pt_http_upstream_body_end(r, u);
            return;
        }

        if (!uc->read->ready || b->last == b->end
            || pt_http_upstream_read_unbuffered(r, u, p, b) == PT_AGAIN)
        {
            break;
        }
    }

    /* room in the buffer: wait for the upstream; none: for the client */
    pt_http_upstream_body_wait(r, u, b->last < b->end);
}

static void
pt_http_upstream_unbuffered_upstream(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_process_unbuffered(r, u, 1);
}

static void
pt_http_upstream_unbuffered_downstream(pt_http_request_t *r)
{
    pt_http_upstream_process_unbuffered(r, r->upstream, 0);
}

/* ---- the tunnel after 101 ---- */

/* Moves bytes src -> b -> dst until neither side can go on.  Returns 1 on
 * progress, PT_ERROR on a failed send. */
static pt_int_t
pt_http_upstream_tunnel_copy(pt_connection_t *src, pt_connection_t *dst,
    pt_buf_t *b)
{
    ssize_t   n;
    pt_int_t  progress;

    progress = 0;

    for ( ;; ) {
        if (b->pos < b->last && dst->write->ready) {
            n = dst->send(dst, b->pos, b->last - b->pos);

            if (n == PT_ERROR) {
                return PT_ERROR;
            }

            if (n > 0) {
                b->pos += n;
                progress = 1;
                if (b->pos == b->last) {
                    b->pos = b->start;
                    b->last = b->start;
                }
                continue;
            }
        }

        if (b->last < b->end && src->read->ready && !src->read->eof) {
            n = src->recv(src, b->last, b->end - b->last);

            if (n == PT_AGAIN || n == 0) {
                if (n == 0) {
                    progress = 1;
                }
                break;
            }

            if (n == PT_ERROR) {
                src->read->eof = 1;
                break;
            }

            b->last += n;
            progress = 1;
            continue;
        }

        break;
    }

    return progress;
}

static void
pt_http_upstream_process_tunnel(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_int_t                  rc1, rc2;
    pt_connection_t          *c, *uc;
    pt_http_upstream_pipe_t  *p;

    c = r->connection;
    uc = u->peer.connection;
    p = u->pipe;

    c->log->action = "proxying upgraded connection";

    if (uc->read->timedout) {
        uc->read->timedout = 0;
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT,
                     "upstream timed out while proxying upgraded connection");
        pt_http_upstream_finalize_request(r, u, PT_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    if (c->buffered && pt_http_output_filter(r, NULL) == PT_ERROR) {
        pt_http_upstream_finalize_request(r, u, PT_ERROR);
        return;
    }

    if (c->buffered) {
        /* the 101 header is still on its way */
        pt_http_upstream_client_timer(r);
        return;
    }

    for ( ;; ) {
        rc1 = pt_http_upstream_tunnel_copy(uc, c, p->read);
        rc2 = pt_http_upstream_tunnel_copy(c, uc, p->to_upstream);

        if (rc1 == PT_ERROR || rc2 == PT_ERROR) {
            pt_http_upstream_finalize_request(r, u, PT_ERROR);
            return;
        }

        if ((uc->read->eof && p->read->pos == p->read->last)
            || (c->read->eof && p->to_upstream->pos == p->to_upstream->last))
        {
            /* one side closed and what it sent was delivered */
            pt_http_upstream_finalize_request(r, u, 0);
            return;
        }

        if (rc1 == 1 || rc2 == 1) {
            /* idle limit: proxy_read_timeout without traffic either way */
            pt_event_add_timer(uc->read, u->conf->read_timeout);
            continue;
        }

        break;
    }

    if (!uc->read->timer_set) {
        pt_event_add_timer(uc->read, u->conf->read_timeout);
    }
}

static void
pt_http_upstream_tunnel_upstream(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_http_upstream_process_tunnel(r, u);
}

static void
pt_http_upstream_tunnel_downstream(pt_http_request_t *r)
{
    pt_http_upstream_process_tunnel(r, r->upstream);
}

static void
pt_http_upstream_start_tunnel(pt_http_request_t *r, pt_http_upstream_t *u)
{
    size_t                    len;
    pt_buf_t                 *hb;
    pt_connection_t          *c;
    pt_http_upstream_pipe_t  *p;

    c = r->connection;

    p = pt_http_upstream_create_pipe(r, u);
    if (p == NULL) {
        pt_http_upstream_finalize_request(r, u, PT_ERROR);
        return;
    }

    u->keepalive = 0;

    p->read = pt_http_upstream_rest_buffer(r, u);
    p->to_upstream = pt_create_temp_buf(r->pool, u->conf->buffer_size);

    if (p->read == NULL || p->to_upstream == NULL) {
        pt_http_upstream_finalize_request(r, u, PT_ERROR);
        return;
    }

    /* what the client sent after its request head belongs to the tunnel */
    hb = r->header_in;
    len = hb->last - hb->pos;

    if (len) {
        len = pt_min(len, u->conf->buffer_size);
        p->to_upstream->last = pt_cpymem(p->to_upstream->last, hb->pos, len);
        hb->pos += len;
    }

    if (c->read->timer_set) {
        pt_event_del_timer(c->read);
    }

    r->read_event_handler = pt_http_upstream_tunnel_downstream;
    r->write_event_handler = pt_http_upstream_tunnel_downstream;
    u->read_event_handler = pt_http_upstream_tunnel_upstream;
    u->write_event_handler = pt_http_upstream_tunnel_upstream;

    if (u->peer.connection->write->timer_set) {
        pt_event_del_timer(u->peer.connection->write);
    }

    pt_http_upstream_process_tunnel(r, u);
}
