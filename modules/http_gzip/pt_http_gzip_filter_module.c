/*
 * pt_http_gzip_filter_module.c: gzip compression of responses, as
 * nginx's gzip filter.  Its slot is "gzip" in core/http/pt_http_filters.c:
 * below the content-changing filters, above range_header (so a gzipped
 * response is never cut into ranges: it is a 200 without Accept-Ranges,
 * as in nginx) and above chunked (so a gzipped body, whose length is not
 * known, is chunked for HTTP/1.1 clients).
 *
 * Header filter.  A response is compressed when gzip is on, its status is
 * 200, 403 or 404, it has no Content-Encoding yet, its Content-Length (if
 * known) is at least gzip_min_length and its type is one of gzip_types.
 * Such a response varies with Accept-Encoding, whether this client gets
 * gzip or not: gzip_vary adds "Vary: Accept-Encoding" from that point,
 * as nginx does.  Then the client must accept gzip (pt_http_gzip_client_ok).
 * A compressed response gets "Content-Encoding: gzip", loses
 * Content-Length and Accept-Ranges, and its strong ETag turns weak
 * (W/"..."): the bytes differ, the meaning does not (RFC 9110 8.8.1).
 * A HEAD gets the same header and no body.
 *
 * Body filter.  The body is streamed through zlib's deflate with the gzip
 * wrapper (windowBits 16 + N).  Input buffers are copied by reference and
 * marked consumed (pos = last) once zlib took them, so a producer (the
 * proxy's unbuffered reads) can reuse them.  Output goes to at most
 * gzip_buffers buffers of ours, reused through free/busy lists; when all
 * of them wait for the socket the filter returns PT_AGAIN with
 * PT_HTTP_GZIP_BUFFERED set in c->buffered (a low-level bit, as in
 * nginx), and the writer calls again with in == NULL when it drained.
 * A flush buffer in the input (streamed responses) becomes Z_SYNC_FLUSH,
 * so everything read so far reaches the client decodable; the last
 * buffer becomes Z_FINISH.  A zlib error is logged as an alert and ends
 * the response there (the client sees a truncated body), as in nginx.
 *
 * Memory.  zlib's state lives in the request pool: a response of known
 * small length gets a smaller window and hash (as nginx sizes them), and
 * the whole of what deflateInit2 asks for is allocated as one block up
 * front and handed out by zalloc; zfree does nothing, the block goes
 * back early when the stream ends.
 */

#include <zlib.h>

#include "pt_http_gzip.h"

typedef struct {
    pt_chain_t          *in;        /* input not yet given to zlib */
    pt_buf_t            *in_buf;    /* the input zlib reads from */

    pt_chain_t          *free;      /* our output buffers */
    pt_chain_t          *busy;
    pt_chain_t          *out;       /* produced, to pass down */
    pt_chain_t         **last_out;
    pt_buf_t            *out_buf;   /* being filled */
    pt_uint_t            bufs;      /* output buffers allocated */

    u_char              *prealloc;  /* zlib's block */
    u_char              *free_mem;
    size_t               allocated; /* left in the block */

    off_t                length;    /* the uncompressed length, -1 unknown */
    int                  flush;     /* Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH */
    int                  wbits;
    int                  memlevel;

    uLong                zin;       /* for $gzip_ratio */
    uLong                zout;

    pt_http_request_t   *request;

    unsigned             started:1; /* deflateInit2 done */
    unsigned             done:1;

    z_stream             zstream;
} pt_http_gzip_ctx_t;

static pt_int_t pt_http_gzip_add_variables(pt_conf_t *cf);
static pt_int_t pt_http_gzip_filter_init(pt_conf_t *cf);

static pt_http_module_t  pt_http_gzip_filter_module_ctx = {
    pt_http_gzip_add_variables,            /* preconfiguration */
    pt_http_gzip_filter_init,              /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_gzip_create_conf,              /* create location configuration */
    pt_http_gzip_merge_conf                /* merge location configuration */
};

pt_module_t  pt_http_gzip_filter_module = {
    PT_MODULE_V1,
    &pt_http_gzip_filter_module_ctx,
    pt_http_gzip_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_http_output_header_filter_pt  pt_http_next_header_filter;
static pt_http_output_body_filter_pt    pt_http_next_body_filter;

#define PT_HTTP_GZIP_TAG  ((pt_buf_tag_t) &pt_http_gzip_filter_module)

/* ---- header ---- */

/* A strong ETag becomes weak; one that is neither goes (nginx's rule). */
static void
pt_http_gzip_weak_etag(pt_http_request_t *r)
{
    u_char            *p;
    pt_http_header_t  *etag;

    etag = r->headers_out.etag;

    if (etag == NULL || etag->hash == 0) {
        return;
    }

    if (etag->value.len > 2 && etag->value.data[0] == 'W' && etag->value.data[1] == '/') {
        return;
    }

    if (etag->value.len < 1 || etag->value.data[0] != '"') {
        etag->hash = 0;
        r->headers_out.etag = NULL;
        return;
    }

    p = pt_pnalloc(r->pool, etag->value.len + 2);
    if (p == NULL) {
        etag->hash = 0;
        r->headers_out.etag = NULL;
        return;
    }

    p[0] = 'W';
    p[1] = '/';
    pt_memcpy(p + 2, etag->value.data, etag->value.len);

    etag->value.data = p;
    etag->value.len += 2;
}

/* Content-Encoding: gzip, no Content-Length, no ranges, a weak ETag. */
static pt_int_t
pt_http_gzip_set_headers(pt_http_request_t *r)
{
    pt_http_header_t  *h;

    h = pt_http_add_response_header(r, "Content-Encoding", sizeof("Content-Encoding") - 1,
                                    (u_char *) "gzip", sizeof("gzip") - 1);
    if (h == NULL) {
        return PT_ERROR;
    }

    r->headers_out.content_encoding = h;

    r->headers_out.content_length_n = -1;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->allow_ranges = 0;

    if (r->headers_out.accept_ranges) {
        r->headers_out.accept_ranges->hash = 0;
        r->headers_out.accept_ranges = NULL;
    }

    pt_http_gzip_weak_etag(r);

    return PT_OK;
}

static pt_int_t
pt_http_gzip_header_filter(pt_http_request_t *r)
{
    pt_http_gzip_ctx_t   *ctx;
    pt_http_gzip_conf_t  *conf;

    conf = pt_http_get_module_loc_conf(r, pt_http_gzip_filter_module);

    if (!conf->enable
        || (r->headers_out.status != PT_HTTP_OK
            && r->headers_out.status != PT_HTTP_FORBIDDEN
            && r->headers_out.status != PT_HTTP_NOT_FOUND)
        || (r->headers_out.content_encoding && r->headers_out.content_encoding->hash
            && r->headers_out.content_encoding->value.len)
        || (r->headers_out.content_length_n != -1
            && r->headers_out.content_length_n < (off_t) conf->min_length)
        || !pt_http_gzip_type_ok(r, conf)
        || r->header_only
        || r != r->main)
    {
        return pt_http_next_header_filter(r);
    }

    /* from here the answer depends on Accept-Encoding */
    if (conf->vary
        && pt_http_add_response_header(r, "Vary", sizeof("Vary") - 1,
                                       (u_char *) "Accept-Encoding",
                                       sizeof("Accept-Encoding") - 1) == NULL)
    {
        return PT_ERROR;
    }

    if (pt_http_gzip_client_ok(r, conf) != PT_OK) {
        return pt_http_next_header_filter(r);
    }

    ctx = pt_pcalloc(r->pool, sizeof(pt_http_gzip_ctx_t));
    if (ctx == NULL) {
        return PT_ERROR;
    }

    ctx->request = r;
    ctx->length = r->headers_out.content_length_n;
    ctx->last_out = &ctx->out;

    pt_http_set_ctx(r, ctx, pt_http_gzip_filter_module);

    if (pt_http_gzip_set_headers(r) != PT_OK) {
        return PT_ERROR;
    }

    /* file buffers must reach us as memory (the copy filter reads them) */
    r->filter_need_in_memory = 1;

    return pt_http_next_header_filter(r);
}

/* ---- zlib ---- */

static void *
pt_http_gzip_alloc(void *opaque, u_int items, u_int size)
{
    pt_http_gzip_ctx_t  *ctx = opaque;

    void    *p;
    size_t   alloc;

    alloc = pt_align((size_t) items * size, 16);

    if (alloc <= ctx->allocated) {
        p = ctx->free_mem;
        ctx->free_mem += alloc;
        ctx->allocated -= alloc;
        return p;
    }

    /* a zlib that asks for more than the estimate (zlib-ng, another
     * version): still from the pool */
    return pt_palloc(ctx->request->pool, alloc);
}

static void
pt_http_gzip_free(void *opaque, void *address)
{
    /* the pool (or the preallocated block) owns it */
}

/* deflateInit2 for this response.  A body known to be small gets the
 * smallest window that holds it, and a hash table as much smaller (as
 * nginx sizes them); the block zlib will ask for is allocated at once:
 * the state, the window (2 << wbits), its prev links (2 << wbits), the
 * hash heads (2 << (memlevel + 7)) and the pending buffer
 * (4 << (memlevel + 6)), plus room for the state and alignment. */
static pt_int_t
pt_http_gzip_start(pt_http_request_t *r, pt_http_gzip_ctx_t *ctx,
    pt_http_gzip_conf_t *conf)
{
    int  rc;

    ctx->wbits = MAX_WBITS;
    ctx->memlevel = MAX_MEM_LEVEL - 1;

    if (ctx->length > 0) {
        while (ctx->length < ((1 << (ctx->wbits - 1)) - 262)) {
            ctx->wbits--;
            ctx->memlevel--;
        }

        if (ctx->memlevel < 1) {
            ctx->memlevel = 1;
        }
    }

    ctx->allocated = 8192 + 16 + (1 << (ctx->wbits + 2)) + (1 << (ctx->memlevel + 9));

    ctx->prealloc = pt_palloc(r->pool, ctx->allocated);
    if (ctx->prealloc == NULL) {
        return PT_ERROR;
    }

    ctx->free_mem = pt_align_ptr(ctx->prealloc, 16);
    ctx->allocated -= ctx->free_mem - ctx->prealloc;

    ctx->zstream.zalloc = pt_http_gzip_alloc;
    ctx->zstream.zfree = pt_http_gzip_free;
    ctx->zstream.opaque = ctx;

    rc = deflateInit2(&ctx->zstream, (int) conf->level, Z_DEFLATED, ctx->wbits + 16,
                      ctx->memlevel, Z_DEFAULT_STRATEGY);

    if (rc != Z_OK) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0, "deflateInit2() failed: %d", rc);
        return PT_ERROR;
    }

    ctx->started = 1;
    ctx->flush = Z_NO_FLUSH;

    return PT_OK;
}

/* deflateEnd and the block back to the pool, once. */
static void
pt_http_gzip_end(pt_http_request_t *r, pt_http_gzip_ctx_t *ctx)
{
    ctx->done = 1;

    if (ctx->started) {
        ctx->zin = ctx->zstream.total_in;
        ctx->zout = ctx->zstream.total_out;
        (void) deflateEnd(&ctx->zstream);
        ctx->started = 0;
    }

    if (ctx->prealloc) {
        (void) pt_pfree(r->pool, ctx->prealloc);
        ctx->prealloc = NULL;
        ctx->allocated = 0;
    }

    r->connection->buffered &= ~PT_HTTP_GZIP_BUFFERED;
}

/* ---- body ---- */

/* Gives zlib the next input buffer and sets the flush mode its flags ask
 * for.  PT_DECLINED: no input left. */
static pt_int_t
pt_http_gzip_next_input(pt_http_request_t *r, pt_http_gzip_ctx_t *ctx)
{
    pt_buf_t    *b;
    pt_chain_t  *cl;

    while (ctx->in) {
        cl = ctx->in;
        b = cl->buf;
        ctx->in = cl->next;
        pt_free_chain(r->pool, cl);

        if (b->in_file && !pt_buf_in_memory(b)) {
            pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                         "the gzip filter got a file buffer");
            return PT_ERROR;
        }

        ctx->in_buf = b;
        ctx->zstream.next_in = b->pos;
        ctx->zstream.avail_in = pt_buf_in_memory(b) ? (uInt) (b->last - b->pos) : 0;

        if (b->last_buf) {
            ctx->flush = Z_FINISH;

        } else if (b->flush) {
            ctx->flush = Z_SYNC_FLUSH;
        }

        if (ctx->zstream.avail_in || ctx->flush != Z_NO_FLUSH) {
            return PT_OK;
        }
    }

    return PT_DECLINED;
}

/* The next output buffer: a free one, or a new one while gzip_buffers
 * allows.  PT_AGAIN: all of them wait for the socket. */
static pt_int_t
pt_http_gzip_get_buf(pt_http_request_t *r, pt_http_gzip_ctx_t *ctx)
{
    pt_buf_t             *b;
    pt_chain_t           *cl;
    pt_http_gzip_conf_t  *conf;

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        b = cl->buf;
        pt_free_chain(r->pool, cl);

    } else {
        conf = pt_http_get_module_loc_conf(r, pt_http_gzip_filter_module);

        if (ctx->bufs >= (pt_uint_t) conf->bufs.num) {
            return PT_AGAIN;
        }

        b = pt_create_temp_buf(r->pool, conf->bufs.size);
        if (b == NULL) {
            return PT_ERROR;
        }

        b->tag = PT_HTTP_GZIP_TAG;
        /* the write filter must send it, not hold it: we wait for it */
        b->recycled = 1;
        ctx->bufs++;
    }

    b->pos = b->start;
    b->last = b->start;
    b->flush = 0;
    b->last_buf = 0;
    b->last_in_chain = 0;

    ctx->out_buf = b;
    ctx->zstream.next_out = b->start;
    ctx->zstream.avail_out = (uInt) (b->end - b->start);

    return PT_OK;
}

/* Queues the output buffer (flush and last flags as given); an empty one
 * stays ours and a bare flag buffer carries the flags instead. */
static pt_int_t
pt_http_gzip_emit(pt_http_request_t *r, pt_http_gzip_ctx_t *ctx, pt_uint_t flush,
    pt_uint_t last)
{
    pt_buf_t    *b;
    pt_chain_t  *cl;

    b = ctx->out_buf;

    if (b->pos == b->last) {
        if (!flush && !last) {
            return PT_OK;
        }

        b = pt_calloc_buf(r->pool);
        if (b == NULL) {
            return PT_ERROR;
        }

    } else {
        ctx->out_buf = NULL;
    }

    b->flush = flush;
    b->last_buf = last;
    b->last_in_chain = last;

    cl = pt_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return PT_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    *ctx->last_out = cl;
    ctx->last_out = &cl->next;

    return PT_OK;
}

/* Runs deflate over the queued input into ctx->out.  PT_OK: the input is
 * used up (or the stream ended); PT_AGAIN: no output buffer is free;
 * PT_ERROR (zlib's errors logged). */
static pt_int_t
pt_http_gzip_deflate(pt_http_request_t *r, pt_http_gzip_ctx_t *ctx)
{
    int       rc, flush;
    pt_int_t  n;

    for ( ;; ) {
        if (ctx->zstream.avail_in == 0 && ctx->flush == Z_NO_FLUSH) {
            n = pt_http_gzip_next_input(r, ctx);
            if (n != PT_OK) {
                return n == PT_DECLINED ? PT_OK : PT_ERROR;
            }
        }

        if (ctx->out_buf == NULL) {
            n = pt_http_gzip_get_buf(r, ctx);
            if (n != PT_OK) {
                return n;
            }
        }

        flush = ctx->flush;
        rc = deflate(&ctx->zstream, flush);

        /* Z_BUF_ERROR: nothing to do (a flush right after a flush) */
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                         "deflate() failed: %d, %d", flush, rc);
            return PT_ERROR;
        }

        ctx->out_buf->last = ctx->zstream.next_out;

        if (ctx->in_buf) {
            /* what zlib took is consumed: its producer may reuse it */
            ctx->in_buf->pos = ctx->zstream.next_in;
            if (ctx->zstream.avail_in == 0) {
                ctx->in_buf = NULL;
            }
        }

        if (ctx->zstream.avail_out == 0) {
            /* full: zlib may hold more */
            if (pt_http_gzip_emit(r, ctx, 0, 0) != PT_OK) {
                return PT_ERROR;
            }
            continue;
        }

        /* room left: zlib took all input and wrote all a flush asked for */

        if (rc == Z_STREAM_END) {
            ctx->flush = Z_NO_FLUSH;
            pt_http_gzip_end(r, ctx);
            return pt_http_gzip_emit(r, ctx, 0, 1);
        }

        if (flush == Z_FINISH) {
            pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                         "deflate(Z_FINISH) returned %d with room left", rc);
            return PT_ERROR;
        }

        if (flush == Z_SYNC_FLUSH) {
            ctx->flush = Z_NO_FLUSH;
            if (pt_http_gzip_emit(r, ctx, 1, 0) != PT_OK) {
                return PT_ERROR;
            }
        }
    }
}

static pt_int_t
pt_http_gzip_body_filter(pt_http_request_t *r, pt_chain_t *in)
{
    pt_int_t             rc, sent;
    pt_chain_t          *out;
    pt_http_gzip_ctx_t  *ctx;

    ctx = pt_http_get_module_ctx(r, pt_http_gzip_filter_module);

    if (ctx == NULL || ctx->done || r->header_only) {
        return pt_http_next_body_filter(r, in);
    }

    if (!ctx->started
        && pt_http_gzip_start(r, ctx, pt_http_get_module_loc_conf(r, pt_http_gzip_filter_module))
           != PT_OK)
    {
        goto failed;
    }

    if (in && pt_chain_add_copy(r->pool, &ctx->in, in) != PT_OK) {
        goto failed;
    }

    for ( ;; ) {
        rc = pt_http_gzip_deflate(r, ctx);

        if (rc == PT_ERROR) {
            goto failed;
        }

        out = ctx->out;
        ctx->out = NULL;
        ctx->last_out = &ctx->out;

        if (rc == PT_OK) {
            /* nothing of the input waits on us any more */
            r->connection->buffered &= ~PT_HTTP_GZIP_BUFFERED;

            if (out == NULL && ctx->busy == NULL) {
                /* all of it went into zlib's window, nothing to send yet */
                return PT_OK;
            }
        }

        sent = pt_http_next_body_filter(r, out);

        pt_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out, PT_HTTP_GZIP_TAG);

        if (sent == PT_ERROR) {
            pt_http_gzip_end(r, ctx);
            return PT_ERROR;
        }

        if (rc == PT_OK) {
            return sent;
        }

        /* PT_AGAIN: every output buffer is out */
        if (ctx->free == NULL) {
            r->connection->buffered |= PT_HTTP_GZIP_BUFFERED;
            return PT_AGAIN;
        }
    }

failed:

    /* the response ends here, short: the client sees it truncated */
    pt_http_gzip_end(r, ctx);

    return PT_ERROR;
}

/* ---- $gzip_ratio ---- */

/* The ratio of the uncompressed to the compressed size, two decimals,
 * rounded half up as nginx prints it; "-" unless compressed. */
static pt_int_t
pt_http_gzip_ratio_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    uLong                zint, zfrac;
    pt_http_gzip_ctx_t  *ctx;

    ctx = pt_http_get_module_ctx(r, pt_http_gzip_filter_module);

    if (ctx == NULL || ctx->zout == 0) {
        v->not_found = 1;
        return PT_OK;
    }

    v->data = pt_pnalloc(r->pool, PT_INT_T_LEN + 3);
    if (v->data == NULL) {
        return PT_ERROR;
    }

    zint = ctx->zin / ctx->zout;
    zfrac = (ctx->zin * 100 / ctx->zout) % 100;

    if ((ctx->zin * 1000 / ctx->zout) % 10 > 4) {
        /* 2.125 is 2.13 */
        if (++zfrac > 99) {
            zint++;
            zfrac = 0;
        }
    }

    v->len = pt_slprintf(v->data, v->data + PT_INT_T_LEN + 3, "%lu.%02lu",
                         (unsigned long) zint, (unsigned long) zfrac) - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}

static pt_int_t
pt_http_gzip_add_variables(pt_conf_t *cf)
{
    pt_str_t             name;
    pt_http_variable_t  *v;

    pt_str_set(&name, "gzip_ratio");

    v = pt_http_add_variable(cf, &name, PT_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return PT_ERROR;
    }

    v->get_handler = pt_http_gzip_ratio_variable;

    return PT_OK;
}

static pt_int_t
pt_http_gzip_filter_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_GZIP,
                                   pt_http_gzip_header_filter, &pt_http_next_header_filter,
                                   pt_http_gzip_body_filter, &pt_http_next_body_filter);
}
