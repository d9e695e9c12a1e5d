/*
 * pt_http_chunked_filter_module.c: "Transfer-Encoding: chunked" for
 * HTTP/1.1 responses whose length is not known when the header goes out
 * (a streamed or proxied body).  Its slot is "chunked" in the filter table
 * (pt_http_filters.c): below compression, above the header serializer.
 *
 * Each body call becomes one chunk: "SIZE" CRLF, the buffers as they are
 * (memory or file, never copied), CRLF.  The response's last buffer
 * becomes the last chunk, "0" CRLF, the trailer fields of
 * r->headers_out.trailers, CRLF.  The small framing buffers are reused
 * from a free list once the write filter has sent them.
 *
 * An HTTP/1.0 client cannot take chunks (or chunked_transfer_encoding is
 * off): such a response is delimited by closing the connection, which the
 * header filter decides from the missing length.
 */

#include "pt_http.h"

typedef struct {
    pt_chain_t  *free;
    pt_chain_t  *busy;
} pt_http_chunked_ctx_t;

static pt_int_t pt_http_chunked_filter_init(pt_conf_t *cf);
static pt_int_t pt_http_chunked_header_filter(pt_http_request_t *r);
static pt_int_t pt_http_chunked_body_filter(pt_http_request_t *r, pt_chain_t *in);
static pt_chain_t *pt_http_chunked_last(pt_http_request_t *r, pt_uint_t crlf);

static pt_http_module_t  pt_http_chunked_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_chunked_filter_init,           /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_chunked_filter_module = {
    PT_MODULE_V1,
    &pt_http_chunked_filter_module_ctx,
    NULL,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_http_output_header_filter_pt  pt_http_next_header_filter;
static pt_http_output_body_filter_pt    pt_http_next_body_filter;

#define PT_HTTP_CHUNKED_TAG  ((pt_buf_tag_t) &pt_http_chunked_filter_module)

static pt_int_t
pt_http_chunked_header_filter(pt_http_request_t *r)
{
    pt_http_chunked_ctx_t    *ctx;
    pt_http_core_loc_conf_t  *clcf;

    if (r->headers_out.status == PT_HTTP_NOT_MODIFIED
        || r->headers_out.status == PT_HTTP_NO_CONTENT
        || r->headers_out.status < PT_HTTP_OK
        || r != r->main
        || r->method == PT_HTTP_HEAD
        || r->header_only
        || r->headers_out.content_length_n != -1)
    {
        return pt_http_next_header_filter(r);
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->http_version < PT_HTTP_VERSION_11 || !clcf->chunked_transfer_encoding) {
        /* the end of the body is the end of the connection */
        r->keepalive = 0;
        return pt_http_next_header_filter(r);
    }

    ctx = pt_pcalloc(r->pool, sizeof(pt_http_chunked_ctx_t));
    if (ctx == NULL) {
        return PT_ERROR;
    }

    pt_http_set_ctx(r, ctx, pt_http_chunked_filter_module);

    r->chunked = 1;

    return pt_http_next_header_filter(r);
}

/* A framing buffer from the free list (or new), in memory. */
static pt_chain_t *
pt_http_chunked_buf(pt_http_request_t *r, pt_http_chunked_ctx_t *ctx)
{
    u_char      *start, *end;
    pt_buf_t    *b;
    pt_chain_t  *cl;

    cl = pt_chain_get_free_buf(r->pool, &ctx->free);
    if (cl == NULL) {
        return NULL;
    }

    /* keep the memory of a reused header buffer */
    b = cl->buf;
    start = b->start;
    end = b->end;
    pt_memzero(b, sizeof(pt_buf_t));
    b->tag = PT_HTTP_CHUNKED_TAG;
    b->start = start;
    b->end = end;

    return cl;
}

/* The chunk-size line: "SIZE" CRLF, at most 16 hex digits (sizeof counts
 * one spare byte). */
#define PT_HTTP_CHUNK_SIZE_LEN  sizeof("0000000000000000" CRLF)

static pt_chain_t *
pt_http_chunked_size(pt_http_request_t *r, pt_http_chunked_ctx_t *ctx, off_t size)
{
    u_char      *chunk;
    pt_buf_t    *b;
    pt_chain_t  *cl;

    cl = pt_http_chunked_buf(r, ctx);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;
    chunk = b->start;

    if (chunk == NULL || (size_t) (b->end - chunk) < PT_HTTP_CHUNK_SIZE_LEN) {
        chunk = pt_pnalloc(r->pool, PT_HTTP_CHUNK_SIZE_LEN);
        if (chunk == NULL) {
            return NULL;
        }
    }

    b->start = chunk;
    b->end = chunk + PT_HTTP_CHUNK_SIZE_LEN;
    b->temporary = 1;
    b->pos = chunk;
    b->last = pt_uint_to_hex(chunk, (uint64_t) size);
    *b->last++ = CR;
    *b->last++ = LF;

    return cl;
}

static pt_int_t
pt_http_chunked_body_filter(pt_http_request_t *r, pt_chain_t *in)
{
    off_t                   size;
    pt_int_t                rc;
    pt_buf_t               *b;
    pt_uint_t               last;
    pt_chain_t             *out, *cl, *tl, **ll;
    pt_http_chunked_ctx_t  *ctx;

    if (in == NULL || !r->chunked || r->header_only) {
        return pt_http_next_body_filter(r, in);
    }

    ctx = pt_http_get_module_ctx(r, pt_http_chunked_filter_module);

    if (ctx == NULL) {
        ctx = pt_pcalloc(r->pool, sizeof(pt_http_chunked_ctx_t));
        if (ctx == NULL) {
            return PT_ERROR;
        }
        pt_http_set_ctx(r, ctx, pt_http_chunked_filter_module);
    }

    out = NULL;
    ll = &out;
    size = 0;
    last = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last_buf) {
            /* the last chunk says it; the flag moves to its buffer */
            b->last_buf = 0;
            b->last_in_chain = 0;
            last = 1;
        }

        if (!pt_buf_in_memory(b) && !b->in_file && !b->flush && !b->sync) {
            continue;
        }

        size += pt_buf_size(b);

        tl = pt_alloc_chain_link(r->pool);
        if (tl == NULL) {
            return PT_ERROR;
        }

        tl->buf = b;
        *ll = tl;
        ll = &tl->next;
    }

    if (size) {
        tl = pt_http_chunked_size(r, ctx, size);
        if (tl == NULL) {
            return PT_ERROR;
        }

        tl->next = out;
        out = tl;
    }

    if (last) {
        tl = pt_http_chunked_last(r, size != 0);

    } else if (size) {
        tl = pt_http_chunked_buf(r, ctx);
        if (tl) {
            /* the CRLF that ends the chunk's data */
            tl->buf->memory = 1;
            tl->buf->pos = (u_char *) CRLF;
            tl->buf->last = tl->buf->pos + 2;
        }

    } else {
        tl = NULL;
    }

    if ((last || size) && tl == NULL) {
        return PT_ERROR;
    }

    *ll = tl;

    if (out == NULL) {
        /* a flush with nothing to frame */
        return pt_http_next_body_filter(r, in);
    }

    rc = pt_http_next_body_filter(r, out);

    pt_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out, PT_HTTP_CHUNKED_TAG);

    return rc;
}

/* CRLF (ending the previous chunk's data, when crlf), "0" CRLF, the
 * trailer fields, CRLF; flagged last_buf. */
static pt_chain_t *
pt_http_chunked_last(pt_http_request_t *r, pt_uint_t crlf)
{
    size_t             len;
    u_char            *p;
    pt_uint_t          i;
    pt_chain_t        *cl;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

    len = sizeof(CRLF "0" CRLF CRLF) - 1;

    for (part = &r->headers_out.trailers.part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash) {
                len += h[i].key.len + sizeof(": ") - 1 + h[i].value.len + 2;
            }
        }
    }

    cl = pt_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = pt_create_temp_buf(r->pool, len);
    if (cl->buf == NULL) {
        return NULL;
    }

    cl->next = NULL;
    p = cl->buf->last;

    if (crlf) {
        *p++ = CR; *p++ = LF;
    }

    *p++ = '0'; *p++ = CR; *p++ = LF;

    for (part = &r->headers_out.trailers.part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0) {
                continue;
            }
            p = pt_cpymem(p, h[i].key.data, h[i].key.len);
            *p++ = ':'; *p++ = ' ';
            p = pt_cpymem(p, h[i].value.data, h[i].value.len);
            *p++ = CR; *p++ = LF;
        }
    }

    *p++ = CR; *p++ = LF;

    cl->buf->last = p;
    cl->buf->last_buf = 1;
    cl->buf->last_in_chain = 1;

    return cl;
}

static pt_int_t
pt_http_chunked_filter_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_CHUNKED,
                                   pt_http_chunked_header_filter,
                                   &pt_http_next_header_filter,
                                   pt_http_chunked_body_filter,
                                   &pt_http_next_body_filter);
}
