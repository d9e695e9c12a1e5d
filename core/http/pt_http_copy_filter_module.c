/*
 * pt_http_copy_filter_module.c: file buffers read into memory.
 *
 * The write filter sends a file buffer with sendfile().  With "sendfile
 * off", over TLS, or when a filter below must see the bytes
 * (r->filter_need_in_memory: gzip), they pass through memory instead: this
 * body filter reads
 * the file ranges of the chain into its own buffers (output_buffers: two
 * of 32 KiB by default, as nginx) and passes memory buffers down.  When
 * all of them are still queued in the write filter it stops and keeps
 * the rest of the chain; the writer calls the chain again with in == NULL
 * once the socket drained, and it goes on from there.  Small files take
 * one read() into one buffer, so header and body leave in one writev().
 *
 * Reads are plain pread()s: on Linux a regular file read does not block
 * on the socket, and the page cache makes it a copy.
 */

#include "pt_http.h"

typedef struct {
    pt_chain_t     *in;         /* what is still to be read or passed */
    pt_chain_t     *free;
    pt_chain_t     *busy;
    pt_uint_t       allocated;
} pt_http_copy_ctx_t;

static pt_int_t pt_http_copy_filter_init(pt_conf_t *cf);

static pt_http_module_t  pt_http_copy_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_copy_filter_init,              /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_copy_filter_module = {
    PT_MODULE_V1,
    &pt_http_copy_filter_module_ctx,
    NULL,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_http_output_body_filter_pt  pt_http_next_body_filter;

#define pt_http_copy_tag  ((pt_buf_tag_t) &pt_http_copy_filter_module)

/* Whether every buffer output_buffers allows is allocated (">=": an
 * internal redirect may have changed the location in between). */
static pt_uint_t
pt_http_copy_all_busy(pt_http_request_t *r, pt_http_copy_ctx_t *ctx)
{
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    return ctx->allocated >= (pt_uint_t) clcf->output_bufs.num;
}

/* A free buffer of ours, or NULL when all are queued below. */
static pt_chain_t *
pt_http_copy_get_buf(pt_http_request_t *r, pt_http_copy_ctx_t *ctx)
{
    off_t                     need;
    size_t                    size, bufsize;
    pt_chain_t               *cl;
    pt_http_core_loc_conf_t  *clcf;

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        cl->next = NULL;
        return cl;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
    bufsize = clcf->output_bufs.size;

    if (pt_http_copy_all_busy(r, ctx)) {
        return NULL;
    }

    /* a small response gets a buffer of its size */
    need = 0;

    for (cl = ctx->in; cl && need < (off_t) bufsize; cl = cl->next) {
        if (cl->buf->in_file && !pt_buf_in_memory(cl->buf)) {
            need += cl->buf->file_last - cl->buf->file_pos;
        }
    }

    size = (need < (off_t) bufsize) ? (size_t) need : bufsize;

    cl = pt_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return PT_CHAIN_ERROR;
    }

    cl->buf = pt_create_temp_buf(r->pool, size);
    if (cl->buf == NULL) {
        return PT_CHAIN_ERROR;
    }

    /* recycled: the write filter must send it at once, not postpone it,
     * or we would wait for our own buffers */
    cl->buf->tag = pt_http_copy_tag;
    cl->buf->recycled = 1;
    cl->next = NULL;
    ctx->allocated++;

    return cl;
}

/* Reads the head of file buffer src into a buffer of ours. */
static pt_int_t
pt_http_copy_read(pt_http_request_t *r, pt_buf_t *src, pt_buf_t *dst)
{
    size_t   size;
    ssize_t  n;

    size = pt_min((off_t) (dst->end - dst->start), src->file_last - src->file_pos);

    n = pt_read_file(src->file, dst->start, size, src->file_pos);

    if (n == PT_ERROR) {
        return PT_ERROR;        /* logged */
    }

    if ((size_t) n != size) {
        pt_log_error(PT_LOG_CRIT, r->connection->log, 0,
                     "pread() read only %zd of %zu from \"" PT_STR_FMT "\"",
                     n, size, PT_STR_ARG(src->file->name));
        return PT_ERROR;
    }

    dst->pos = dst->start;
    dst->last = dst->start + n;
    dst->last_buf = 0;
    dst->last_in_chain = 0;
    dst->flush = 0;

    src->file_pos += n;

    if (src->file_pos == src->file_last) {
        dst->last_buf = src->last_buf;
        dst->last_in_chain = src->last_in_chain;
        dst->flush = src->flush;
    }

    return PT_OK;
}

/* Moves what it can of ctx->in into out: memory and special buffers as
 * they are, file ranges through our buffers. */
static pt_int_t
pt_http_copy_fill(pt_http_request_t *r, pt_http_copy_ctx_t *ctx, pt_chain_t **out)
{
    pt_buf_t     *src;
    pt_chain_t   *cl, **ll;

    ll = out;

    while (ctx->in) {
        src = ctx->in->buf;

        if (!src->in_file || pt_buf_in_memory(src)) {
            cl = ctx->in;
            ctx->in = cl->next;
            cl->next = NULL;
            *ll = cl;
            ll = &cl->next;
            continue;
        }

        if (src->file_pos == src->file_last) {
            ctx->in = ctx->in->next;
            continue;
        }

        cl = pt_http_copy_get_buf(r, ctx);

        if (cl == PT_CHAIN_ERROR) {
            return PT_ERROR;
        }

        if (cl == NULL) {
            break;
        }

        if (pt_http_copy_read(r, src, cl->buf) != PT_OK) {
            return PT_ERROR;
        }

        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    return PT_OK;
}

static pt_int_t
pt_http_copy_body_filter(pt_http_request_t *r, pt_chain_t *in)
{
    pt_int_t                  rc;
    pt_chain_t               *out, *cl;
    pt_http_copy_ctx_t       *ctx;
    pt_http_core_loc_conf_t  *clcf;

    ctx = pt_http_get_module_ctx(r, pt_http_copy_filter_module);

    if (ctx == NULL) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

        /* sendfile() is for plain connections: TLS needs the bytes, and
         * so does a filter below that changes them (gzip) */
        if (clcf->sendfile && r->connection->ssl == NULL && !r->filter_need_in_memory) {
            return pt_http_next_body_filter(r, in);
        }

        for (cl = in; cl; cl = cl->next) {
            if (cl->buf->in_file && !pt_buf_in_memory(cl->buf)) {
                break;
            }
        }

        if (cl == NULL) {
            return pt_http_next_body_filter(r, in);
        }

        ctx = pt_pcalloc(r->pool, sizeof(pt_http_copy_ctx_t));
        if (ctx == NULL) {
            return PT_ERROR;
        }

        pt_http_set_ctx(r, ctx, pt_http_copy_filter_module);
    }

    if (in && pt_chain_add_copy(r->pool, &ctx->in, in) != PT_OK) {
        return PT_ERROR;
    }

    for ( ;; ) {
        if (pt_http_copy_fill(r, ctx, &out) != PT_OK) {
            return PT_ERROR;
        }

        if (out == NULL && ctx->in && ctx->busy == NULL) {
            pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                         "the copy filter is stuck");
            return PT_ERROR;
        }

        rc = pt_http_next_body_filter(r, out);

        pt_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out,
                               pt_http_copy_tag);

        if (rc == PT_ERROR) {
            return rc;
        }

        if (ctx->in == NULL) {
            r->buffered &= ~PT_HTTP_COPY_BUFFERED;
            return rc;
        }

        if (ctx->free == NULL && pt_http_copy_all_busy(r, ctx)) {
            /* everything of ours waits for the socket; the writer calls
             * again when it drained */
            r->buffered |= PT_HTTP_COPY_BUFFERED;
            return PT_AGAIN;
        }
    }
}

static pt_int_t
pt_http_copy_filter_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_COPY, NULL, NULL,
                                   pt_http_copy_body_filter, &pt_http_next_body_filter);
}
