/*
 * pt_http_range_filter_module.c: byte ranges (RFC 9110 14).
 *
 *   max_ranges NUMBER;    (http, server, location; default: no limit)
 *
 * Two filters of one module, in the two slots of pt_http_filters.c:
 *
 *   range_header  For a complete 200 of the main request whose handler
 *                 allowed ranges (r->allow_ranges): parses "Range:
 *                 bytes=...", checks If-Range (a date must equal
 *                 Last-Modified, an entity-tag must strongly equal the
 *                 ETag; otherwise the whole entity is sent), and turns
 *                 the response into a 206 with Content-Range (one range)
 *                 or multipart/byteranges (several).  No satisfiable range:
 *                 416 with "Content-Range: bytes * / LENGTH", returned up
 *                 the chain as a status.  A header that is not "bytes=",
 *                 more ranges than max_ranges, or ranges adding up to more
 *                 than the entity (a request that would amplify the
 *                 response): the whole entity, as nginx does.  Other 200s
 *                 get "Accept-Ranges: bytes".
 *   range_body    Cuts the body to the ranges: one range on any chain
 *                 shape; several need the entity in one buffer (static
 *                 files and in-memory bodies are), as in nginx.
 */

#include "pt_http.h"

typedef struct {
    off_t           start;
    off_t           end;            /* exclusive */
    pt_str_t        content_range;  /* multipart: the part's header */
} pt_http_range_t;

typedef struct {
    off_t           offset;         /* single range: body bytes seen */
    pt_str_t        boundary;
    pt_str_t        boundary_header;
    pt_array_t      ranges;         /* of pt_http_range_t */
} pt_http_range_ctx_t;

typedef struct {
    pt_uint_t       max_ranges;
} pt_http_range_loc_conf_t;

static pt_int_t pt_http_range_init(pt_conf_t *cf);
static void *pt_http_range_create_loc_conf(pt_conf_t *cf);
static char *pt_http_range_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);

static pt_command_t  pt_http_range_commands[] = {

    { pt_string("max_ranges"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_range_loc_conf_t, max_ranges), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_range_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_range_init,                    /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_range_create_loc_conf,         /* create location configuration */
    pt_http_range_merge_loc_conf           /* merge location configuration */
};

pt_module_t  pt_http_range_filter_module = {
    PT_MODULE_V1,
    &pt_http_range_filter_module_ctx,
    pt_http_range_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_http_output_header_filter_pt  pt_http_next_header_filter;
static pt_http_output_body_filter_pt    pt_http_next_body_filter;

/* Parses one decimal number at *p (no sign); PT_ERROR on overflow. */
static off_t
pt_http_range_number(u_char **p, u_char *last)
{
    off_t   n;
    u_char  *s;

    n = 0;

    for (s = *p; s < last && *s >= '0' && *s <= '9'; s++) {
        if (n > (PT_MAX_OFF_T_VALUE - (*s - '0')) / 10) {
            return PT_ERROR;
        }
        n = n * 10 + (*s - '0');
    }

    if (s == *p) {
        return PT_ERROR;
    }

    *p = s;

    return n;
}

/*
 * One range-spec at *p: PT_OK with [*start, *end] (inclusive) clamped to
 * the entity, PT_DECLINED for a well-formed range that cannot be
 * satisfied (it is dropped), PT_HTTP_RANGE_NOT_SATISFIABLE for bad syntax.
 */
static pt_int_t
pt_http_range_spec(u_char **p, u_char *last, off_t len, off_t *start, off_t *end)
{
    off_t      n;
    pt_uint_t  suffix;

    suffix = 0;
    *start = 0;
    *end = len - 1;

    if (*p < last && **p == '-') {
        suffix = 1;
        (*p)++;

    } else {
        *start = pt_http_range_number(p, last);
        if (*start == PT_ERROR || *p == last || *(*p)++ != '-') {
            return PT_HTTP_RANGE_NOT_SATISFIABLE;
        }
    }

    while (*p < last && (**p == ' ' || **p == '\t')) {
        (*p)++;
    }

    if (*p == last || **p == ',') {
        /* "first-" to the end; a lone "-" is no range */
        if (suffix) {
            return PT_HTTP_RANGE_NOT_SATISFIABLE;
        }

    } else {
        n = pt_http_range_number(p, last);
        if (n == PT_ERROR) {
            return PT_HTTP_RANGE_NOT_SATISFIABLE;
        }

        if (suffix) {
            /* the last n bytes; "-0" asks for none */
            if (n == 0) {
                return PT_DECLINED;
            }
            *start = (n < len) ? len - n : 0;

        } else if (*start > n) {
            return PT_HTTP_RANGE_NOT_SATISFIABLE;

        } else {
            *end = pt_min(n, len - 1);
        }
    }

    return (*start < len) ? PT_OK : PT_DECLINED;
}

/*
 * "bytes=" 1#range-spec, optional spaces around the commas.  Returns PT_OK
 * (ranges set), PT_HTTP_RANGE_NOT_SATISFIABLE, or PT_DECLINED (send the
 * whole entity: more than max ranges, or more bytes than the entity).
 */
static pt_int_t
pt_http_range_parse(pt_http_request_t *r, pt_http_range_ctx_t *ctx, pt_uint_t max)
{
    u_char           *p, *last;
    off_t             start, end, len, size;
    pt_int_t          rc;
    pt_http_range_t  *range;

    p = r->headers_in.range->value.data + 6;
    last = r->headers_in.range->value.data + r->headers_in.range->value.len;
    len = r->headers_out.content_length_n;
    size = 0;

    for ( ;; ) {
        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        rc = pt_http_range_spec(&p, last, len, &start, &end);

        if (rc == PT_HTTP_RANGE_NOT_SATISFIABLE) {
            return rc;
        }

        if (rc == PT_OK) {
            if (max-- == 0) {
                return PT_DECLINED;
            }

            range = pt_array_push(&ctx->ranges);
            if (range == NULL) {
                return PT_ERROR;
            }

            range->start = start;
            range->end = end + 1;
            size += end + 1 - start;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        if (*p++ != ',') {
            return PT_HTTP_RANGE_NOT_SATISFIABLE;
        }
    }

    if (ctx->ranges.nelts == 0) {
        return PT_HTTP_RANGE_NOT_SATISFIABLE;
    }

    return (size > len) ? PT_DECLINED : PT_OK;
}

/* If-Range (RFC 9110 13.1.5): true when the ranges may be applied. */
static pt_uint_t
pt_http_range_if_range(pt_http_request_t *r)
{
    time_t             t;
    pt_str_t          *v, *etag;

    v = &r->headers_in.if_range->value;

    if (v->len >= 2 && (v->data[0] == '"' || (v->data[0] == 'W' && v->data[1] == '/'))) {
        /* an entity-tag: strong comparison, so a weak one never matches */
        if (r->headers_out.etag == NULL || v->data[0] == 'W') {
            return 0;
        }

        etag = &r->headers_out.etag->value;

        return etag->len == v->len && etag->data[0] == '"'
               && pt_memcmp(etag->data, v->data, v->len) == 0;
    }

    t = pt_parse_http_time(v->data, v->len);

    return t != PT_ERROR && t == r->headers_out.last_modified_time;
}

static pt_int_t
pt_http_range_not_satisfiable(pt_http_request_t *r)
{
    u_char            *p;
    pt_http_header_t  *h;

    p = pt_pnalloc(r->pool, sizeof("bytes */") - 1 + PT_OFF_T_LEN);
    if (p == NULL) {
        return PT_ERROR;
    }

    h = pt_http_add_response_header(r, "Content-Range", sizeof("Content-Range") - 1,
                                    p, 0);
    if (h == NULL) {
        return PT_ERROR;
    }

    h->value.len = pt_uint_to_str(pt_cpymem(p, "bytes */", sizeof("bytes */") - 1),
                                  (uint64_t) r->headers_out.content_length_n) - p;
    r->headers_out.content_range = h;

    return PT_HTTP_RANGE_NOT_SATISFIABLE;
}

/* "START-END/LENGTH" (END inclusive) at p; returns the end. */
static u_char *
pt_http_range_print(u_char *p, pt_http_range_t *range, off_t len)
{
    p = pt_uint_to_str(p, (uint64_t) range->start);
    *p++ = '-';
    p = pt_uint_to_str(p, (uint64_t) (range->end - 1));
    *p++ = '/';
    return pt_uint_to_str(p, (uint64_t) len);
}

static pt_int_t
pt_http_range_single_header(pt_http_request_t *r, pt_http_range_ctx_t *ctx)
{
    u_char            *p;
    pt_http_header_t  *h;
    pt_http_range_t   *range;

    range = ctx->ranges.elts;

    p = pt_pnalloc(r->pool, sizeof("bytes ") - 1 + 3 * PT_OFF_T_LEN + 2);
    if (p == NULL) {
        return PT_ERROR;
    }

    h = pt_http_add_response_header(r, "Content-Range", sizeof("Content-Range") - 1,
                                    p, 0);
    if (h == NULL) {
        return PT_ERROR;
    }

    p = pt_cpymem(p, "bytes ", sizeof("bytes ") - 1);
    h->value.len = pt_http_range_print(p, range, r->headers_out.content_length_n)
                   - h->value.data;

    r->headers_out.content_range = h;
    r->headers_out.status = PT_HTTP_PARTIAL_CONTENT;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_length_n = range->end - range->start;
    r->headers_out.content_offset = range->start;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return pt_http_next_header_filter(r);
}

/* A boundary that differs between responses, as nginx's ten digits. */
static pt_uint_t
pt_http_range_boundary(void)
{
    static pt_uint_t  n;

    if (n == 0) {
        n = (pt_uint_t) pt_pid * 7919 + (pt_uint_t) pt_time();
    }

    return ++n % 10000000000ULL;
}

/* The type of the whole response: multipart, with the boundary. */
static pt_int_t
pt_http_range_multipart_type(pt_http_request_t *r, pt_http_range_ctx_t *ctx)
{
    u_char    *p;
    pt_str_t  *ct;

    ct = &r->headers_out.content_type;

    p = pt_pnalloc(r->pool, sizeof("multipart/byteranges; boundary=") - 1
                            + ctx->boundary.len);
    if (p == NULL) {
        return PT_ERROR;
    }

    ct->data = p;
    p = pt_cpymem(p, "multipart/byteranges; boundary=",
                  sizeof("multipart/byteranges; boundary=") - 1);
    p = pt_cpymem(p, ctx->boundary.data, ctx->boundary.len);
    ct->len = p - ct->data;

    r->headers_out.content_type_len = ct->len;
    r->headers_out.charset.len = 0;

    return PT_OK;
}

static pt_int_t
pt_http_range_multipart_header(pt_http_request_t *r, pt_http_range_ctx_t *ctx)
{
    off_t              len;
    size_t             blen;
    u_char            *p, boundary[16];
    pt_uint_t          i;
    pt_str_t          *ct;
    pt_http_range_t   *range;

    blen = pt_slprintf(boundary, boundary + sizeof(boundary), "%010lu",
                       (unsigned long) pt_http_range_boundary()) - boundary;

    /* CRLF "--" boundary CRLF ["Content-Type: " type CRLF]
     * "Content-Range: bytes " */
    ct = &r->headers_out.content_type;

    p = pt_pnalloc(r->pool, sizeof(CRLF "--") - 1 + blen + sizeof(CRLF) - 1
                            + sizeof("Content-Type: ") - 1 + ct->len
                            + sizeof("; charset=") - 1 + r->headers_out.charset.len
                            + sizeof(CRLF "Content-Range: bytes ") - 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    ctx->boundary_header.data = p;
    p = pt_cpymem(p, CRLF "--", sizeof(CRLF "--") - 1);
    ctx->boundary.data = p;
    ctx->boundary.len = blen;
    p = pt_cpymem(p, boundary, blen);
    p = pt_cpymem(p, CRLF, sizeof(CRLF) - 1);

    if (ct->len) {
        p = pt_cpymem(p, "Content-Type: ", sizeof("Content-Type: ") - 1);
        p = pt_cpymem(p, ct->data, ct->len);
        if (r->headers_out.charset.len) {
            p = pt_cpymem(p, "; charset=", sizeof("; charset=") - 1);
            p = pt_cpymem(p, r->headers_out.charset.data, r->headers_out.charset.len);
        }
        p = pt_cpymem(p, CRLF, sizeof(CRLF) - 1);
    }

    p = pt_cpymem(p, "Content-Range: bytes ", sizeof("Content-Range: bytes ") - 1);
    ctx->boundary_header.len = p - ctx->boundary_header.data;

    len = ctx->boundary_header.len * ctx->ranges.nelts
          + sizeof(CRLF "--") - 1 + blen + sizeof("--" CRLF) - 1;

    range = ctx->ranges.elts;

    for (i = 0; i < ctx->ranges.nelts; i++) {
        p = pt_pnalloc(r->pool, 3 * PT_OFF_T_LEN + 2 + 4);
        if (p == NULL) {
            return PT_ERROR;
        }

        range[i].content_range.data = p;
        p = pt_http_range_print(p, &range[i], r->headers_out.content_length_n);
        p = pt_cpymem(p, CRLF CRLF, 4);
        range[i].content_range.len = p - range[i].content_range.data;

        len += range[i].content_range.len + range[i].end - range[i].start;
    }

    if (pt_http_range_multipart_type(r, ctx) != PT_OK) {
        return PT_ERROR;
    }

    r->headers_out.status = PT_HTTP_PARTIAL_CONTENT;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_length_n = len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return pt_http_next_header_filter(r);
}

static pt_int_t
pt_http_range_header_filter(pt_http_request_t *r)
{
    pt_int_t                   rc;
    pt_uint_t                  max;
    pt_http_header_t          *h;
    pt_http_range_ctx_t       *ctx;
    pt_http_range_loc_conf_t  *rlcf;

    if (r->http_version < PT_HTTP_VERSION_10 || r->headers_out.status != PT_HTTP_OK
        || r != r->main || r->headers_out.content_length_n == -1 || !r->allow_ranges)
    {
        return pt_http_next_header_filter(r);
    }

    if (r->headers_in.range == NULL || r->headers_in.range->value.len < 7
        || pt_strncasecmp(r->headers_in.range->value.data, (u_char *) "bytes=", 6) != 0)
    {
        goto next_filter;
    }

    if (r->headers_in.if_range && !pt_http_range_if_range(r)) {
        goto next_filter;
    }

    ctx = pt_pcalloc(r->pool, sizeof(pt_http_range_ctx_t));
    if (ctx == NULL
        || pt_array_init(&ctx->ranges, r->pool, 1, sizeof(pt_http_range_t)) != PT_OK)
    {
        return PT_ERROR;
    }

    rlcf = pt_http_get_module_loc_conf(r, pt_http_range_filter_module);
    max = r->single_range ? 1 : rlcf->max_ranges;

    rc = pt_http_range_parse(r, ctx, max);

    switch (rc) {
    case PT_OK:
        break;
    case PT_HTTP_RANGE_NOT_SATISFIABLE:
        return pt_http_range_not_satisfiable(r);
    case PT_DECLINED:
        goto next_filter;
    default:
        return PT_ERROR;
    }

    pt_http_set_ctx(r, ctx, pt_http_range_filter_module);

    if (ctx->ranges.nelts == 1) {
        return pt_http_range_single_header(r, ctx);
    }

    return pt_http_range_multipart_header(r, ctx);

next_filter:

    h = pt_http_add_response_header(r, "Accept-Ranges", sizeof("Accept-Ranges") - 1,
                                    (u_char *) "bytes", sizeof("bytes") - 1);
    if (h == NULL) {
        return PT_ERROR;
    }

    r->headers_out.accept_ranges = h;

    return pt_http_next_header_filter(r);
}

/* One range over a chain of any shape: links wholly outside the range are
 * dropped, the others trimmed; the link holding the range's end ends the
 * response. */
static pt_int_t
pt_http_range_single_body(pt_http_request_t *r, pt_http_range_ctx_t *ctx,
    pt_chain_t *in)
{
    off_t             start, last;
    pt_buf_t         *buf;
    pt_chain_t       *out, **ll, *cl;
    pt_http_range_t  *range;

    range = ctx->ranges.elts;
    out = NULL;
    ll = &out;

    for (cl = in; cl; cl = cl->next) {
        buf = cl->buf;

        if (pt_buf_special(buf)) {
            if (ctx->offset < range->end || !buf->last_buf) {
                *ll = cl;
                ll = &cl->next;
            }
            continue;
        }

        start = ctx->offset;
        last = ctx->offset + pt_buf_size(buf);
        ctx->offset = last;

        if (range->end <= start || range->start >= last) {
            continue;
        }

        if (range->start > start) {
            if (buf->in_file) {
                buf->file_pos += range->start - start;
            }
            if (pt_buf_in_memory(buf)) {
                buf->pos += (size_t) (range->start - start);
            }
        }

        *ll = cl;
        ll = &cl->next;

        if (range->end <= last) {
            if (buf->in_file) {
                buf->file_last -= last - range->end;
            }
            if (pt_buf_in_memory(buf)) {
                buf->last -= (size_t) (last - range->end);
            }
            buf->last_buf = (r == r->main) ? 1 : 0;
            buf->last_in_chain = 1;
            break;
        }
    }

    *ll = NULL;

    if (out == NULL) {
        return PT_OK;
    }

    return pt_http_next_body_filter(r, out);
}

/* A memory buffer over [data, data + len). */
static pt_chain_t *
pt_http_range_mem_link(pt_http_request_t *r, u_char *data, size_t len)
{
    pt_buf_t    *b;
    pt_chain_t  *cl;

    b = pt_calloc_buf(r->pool);
    cl = pt_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NULL;
    }

    b->memory = 1;
    b->pos = data;
    b->last = data + len;

    cl->buf = b;
    cl->next = NULL;

    return cl;
}

/* A buffer over one range of the entity in buf (memory or file). */
static pt_chain_t *
pt_http_range_slice(pt_http_request_t *r, pt_buf_t *buf, pt_http_range_t *range)
{
    pt_buf_t    *b;
    pt_chain_t  *cl;

    b = pt_calloc_buf(r->pool);
    cl = pt_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NULL;
    }

    *b = *buf;
    b->last_buf = 0;
    b->last_in_chain = 0;

    if (buf->in_file) {
        b->file_pos = buf->file_pos + range->start;
        b->file_last = buf->file_pos + range->end;
    }

    if (pt_buf_in_memory(buf)) {
        b->pos = buf->pos + (size_t) range->start;
        b->last = buf->pos + (size_t) range->end;
    }

    cl->buf = b;
    cl->next = NULL;

    return cl;
}

/* Several ranges of an entity held in one buffer. */
static pt_int_t
pt_http_range_multipart_body(pt_http_request_t *r, pt_http_range_ctx_t *ctx,
    pt_chain_t *in)
{
    u_char           *p;
    pt_buf_t         *buf;
    pt_uint_t         i;
    pt_chain_t       *out, **ll, *cl;
    pt_http_range_t  *range;

    buf = in->buf;

    if (in->next || !buf->last_buf) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                     "multipart ranges of a body in more than one buffer "
                     "are not supported");
        return PT_ERROR;
    }

    range = ctx->ranges.elts;
    out = NULL;
    ll = &out;

    for (i = 0; i < ctx->ranges.nelts; i++) {
        *ll = pt_http_range_mem_link(r, ctx->boundary_header.data,
                                     ctx->boundary_header.len);
        if (*ll == NULL) {
            return PT_ERROR;
        }
        ll = &(*ll)->next;

        *ll = pt_http_range_mem_link(r, range[i].content_range.data,
                                     range[i].content_range.len);
        if (*ll == NULL) {
            return PT_ERROR;
        }
        ll = &(*ll)->next;

        *ll = pt_http_range_slice(r, buf, &range[i]);
        if (*ll == NULL) {
            return PT_ERROR;
        }
        ll = &(*ll)->next;
    }

    /* the close delimiter: CRLF "--" boundary "--" CRLF */
    p = pt_pnalloc(r->pool, sizeof(CRLF "--") - 1 + ctx->boundary.len
                            + sizeof("--" CRLF) - 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    cl = pt_http_range_mem_link(r, p, 0);
    if (cl == NULL) {
        return PT_ERROR;
    }

    p = pt_cpymem(p, CRLF "--", sizeof(CRLF "--") - 1);
    p = pt_cpymem(p, ctx->boundary.data, ctx->boundary.len);
    p = pt_cpymem(p, "--" CRLF, sizeof("--" CRLF) - 1);

    cl->buf->last = p;
    cl->buf->last_buf = 1;
    cl->buf->last_in_chain = 1;
    *ll = cl;

    /* the entity's buffer is replaced by the parts */
    buf->pos = buf->last;
    buf->file_pos = buf->file_last;

    return pt_http_next_body_filter(r, out);
}

static pt_int_t
pt_http_range_body_filter(pt_http_request_t *r, pt_chain_t *in)
{
    pt_http_range_ctx_t  *ctx;

    if (in == NULL) {
        return pt_http_next_body_filter(r, in);
    }

    ctx = pt_http_get_module_ctx(r, pt_http_range_filter_module);

    if (ctx == NULL) {
        return pt_http_next_body_filter(r, in);
    }

    if (ctx->ranges.nelts == 1) {
        return pt_http_range_single_body(r, ctx, in);
    }

    return pt_http_range_multipart_body(r, ctx, in);
}

static void *
pt_http_range_create_loc_conf(pt_conf_t *cf)
{
    pt_http_range_loc_conf_t  *conf;

    conf = pt_palloc(cf->pool, sizeof(pt_http_range_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->max_ranges = PT_CONF_UNSET_UINT;

    return conf;
}

static char *
pt_http_range_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_range_loc_conf_t  *prev = parent;
    pt_http_range_loc_conf_t  *conf = child;

    pt_conf_merge_uint_value(conf->max_ranges, prev->max_ranges, PT_MAX_INT_T_VALUE);

    return PT_CONF_OK;
}

static pt_int_t
pt_http_range_init(pt_conf_t *cf)
{
    if (pt_http_register_filter(cf, PT_HTTP_FILTER_RANGE_HEADER,
                                pt_http_range_header_filter,
                                &pt_http_next_header_filter, NULL, NULL) != PT_OK)
    {
        return PT_ERROR;
    }

    return pt_http_register_filter(cf, PT_HTTP_FILTER_RANGE_BODY, NULL, NULL,
                                   pt_http_range_body_filter, &pt_http_next_body_filter);
}
