/*
 * pt_http_proxy_request.c: the request sent to the upstream.
 *
 * The request line: the method (proxy_method, else the client's), the
 * target by nginx's rules, and HTTP/1.0 or 1.1 (proxy_http_version):
 *
 *   - proxy_pass with variables and a URI: that URI, as is;
 *   - proxy_pass without a URI: the client's target as it was sent, or,
 *     when a rewrite changed it, the normalized URI (escaped) and args;
 *   - proxy_pass with a URI: the part of the normalized URI that the
 *     location's prefix matched is replaced by that URI (not in regex or
 *     named locations, where a URI is a config error, nor after
 *     "rewrite ... break", where the rewritten URI goes as is).
 *
 * The header: proxy_set_header's fields in order (an empty value sends
 * none), then the defaults they do not name (Host: $proxy_host,
 * Connection: close), then, with proxy_pass_request_headers, the client's
 * fields except those named above, the hop-by-hop ones (RFC 9110 7.6.1:
 * Connection and what it lists, Keep-Alive, Proxy-Connection, TE,
 * Trailer, Transfer-Encoding, Upgrade) and Content-Length and Expect,
 * which describe the client's body, not this one.  Then the framing of
 * the body: Content-Length, or chunked for a streamed body of unknown
 * length.
 *
 * The request is built once into one buffer; a retry sends it again.
 */

#include "pt_http_proxy.h"

static pt_str_t  pt_http_proxy_default_headers[][2] = {
    { pt_string("Host"), pt_string("$proxy_host") },
    { pt_string("Connection"), pt_string("close") },
    { pt_null_string, pt_null_string }
};

/* Client fields never copied (lower case). */
static pt_str_t  pt_http_proxy_skip_headers[] = {
    pt_string("connection"),
    pt_string("keep-alive"),
    pt_string("proxy-connection"),
    pt_string("te"),
    pt_string("trailer"),
    pt_string("transfer-encoding"),
    pt_string("upgrade"),
    pt_string("content-length"),
    pt_string("expect"),
    pt_null_string
};

static pt_uint_t  pt_http_proxy_skip_hash[sizeof(pt_http_proxy_skip_headers)
                                          / sizeof(pt_str_t)];

pt_int_t
pt_http_proxy_init_headers(pt_conf_t *cf, pt_http_proxy_loc_conf_t *conf)
{
    pt_str_t                         *d;
    pt_uint_t                         i, j, n;
    pt_keyval_t                      *src;
    pt_http_proxy_header_t           *h, *hs;
    pt_http_compile_complex_value_t   ccv;

    n = (conf->headers_source && conf->headers_source != PT_CONF_UNSET_PTR)
        ? conf->headers_source->nelts : 0;

    conf->headers = pt_array_create(cf->pool, n + 2, sizeof(pt_http_proxy_header_t));
    if (conf->headers == NULL) {
        return PT_ERROR;
    }

    src = n ? conf->headers_source->elts : NULL;

    for (i = 0; i < n + 2; i++) {

        d = (i < n) ? NULL : pt_http_proxy_default_headers[i - n];

        h = pt_array_push(conf->headers);
        if (h == NULL) {
            return PT_ERROR;
        }

        h->name = d ? d[0] : src[i].key;
        h->hash = pt_hash_key_lc(h->name.data, h->name.len);

        if (d) {
            /* a default applies only when proxy_set_header left it out */
            hs = conf->headers->elts;

            for (j = 0; j < conf->headers->nelts - 1; j++) {
                if (hs[j].name.len == h->name.len
                    && pt_strncasecmp(hs[j].name.data, h->name.data, h->name.len) == 0)
                {
                    break;
                }
            }

            if (j < conf->headers->nelts - 1) {
                conf->headers->nelts--;
                continue;
            }
        }

        pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = d ? &d[1] : &src[i].value;
        ccv.complex_value = &h->value;

        if (pt_http_compile_complex_value(&ccv) != PT_OK) {
            return PT_ERROR;
        }

        if (h->name.len == sizeof("Connection") - 1
            && pt_strncasecmp(h->name.data, (u_char *) "Connection", h->name.len) == 0)
        {
            conf->connection_close = (h->value.parts == NULL
                                      && pt_str_eq_lit(&h->value.value, "close"));
        }
    }

    return PT_OK;
}

/* ---- the target ---- */

/* Bytes of a path that must be escaped in a request target. */
static pt_uint_t
pt_http_proxy_escape_byte(u_char ch)
{
    return ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '#' || ch == '%'
           || ch == '?';
}

static u_char *
pt_http_proxy_escape(u_char *dst, u_char *src, size_t len)
{
    static u_char  hex[] = "0123456789ABCDEF";

    while (len--) {
        if (pt_http_proxy_escape_byte(*src)) {
            *dst++ = '%';
            *dst++ = hex[*src >> 4];
            *dst++ = hex[*src & 0xf];
            src++;
            continue;
        }
        *dst++ = *src++;
    }

    return dst;
}

static size_t
pt_http_proxy_escape_count(u_char *src, size_t len)
{
    size_t  n;

    n = 0;

    while (len--) {
        n += pt_http_proxy_escape_byte(*src++);
    }

    return n;
}

static pt_int_t
pt_http_proxy_target(pt_http_request_t *r, pt_http_proxy_ctx_t *ctx,
    pt_http_proxy_loc_conf_t *plcf, pt_str_t *uri)
{
    u_char  *p;
    size_t   loc_len, escape, len;

    if (plcf->url_cv && ctx->vars.uri.len) {
        *uri = ctx->vars.uri;
        return PT_OK;
    }

    if (ctx->vars.uri.len == 0 && r->valid_unparsed_uri) {
        *uri = r->unparsed_uri;
        return PT_OK;
    }

    loc_len = (r->valid_location && ctx->vars.uri.len) ? plcf->location.len : 0;

    if (loc_len > r->uri.len) {
        loc_len = r->uri.len;
    }

    escape = pt_http_proxy_escape_count(r->uri.data + loc_len, r->uri.len - loc_len);

    len = ctx->vars.uri.len + r->uri.len - loc_len + 2 * escape + 1 + r->args.len;

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_ERROR;
    }

    uri->data = p;

    if (r->valid_location) {
        /* not after "rewrite ... break": that URI goes as it is */
        p = pt_cpymem(p, ctx->vars.uri.data, ctx->vars.uri.len);
    }
    p = pt_http_proxy_escape(p, r->uri.data + loc_len, r->uri.len - loc_len);

    if (r->args.len) {
        *p++ = '?';
        p = pt_cpymem(p, r->args.data, r->args.len);
    }

    uri->len = p - uri->data;

    return PT_OK;
}

/* ---- the header ---- */

static pt_uint_t
pt_http_proxy_skip(pt_http_request_t *r, pt_http_proxy_loc_conf_t *plcf,
    pt_http_header_t *h)
{
    pt_uint_t                i;
    pt_http_header_t        *c;
    pt_http_proxy_header_t  *ph;

    if (pt_http_proxy_skip_hash[0] == 0) {
        for (i = 0; pt_http_proxy_skip_headers[i].len; i++) {
            pt_http_proxy_skip_hash[i] = pt_hash_key(pt_http_proxy_skip_headers[i].data,
                                                     pt_http_proxy_skip_headers[i].len);
        }
    }

    for (i = 0; pt_http_proxy_skip_headers[i].len; i++) {
        if (pt_http_proxy_skip_hash[i] == h->hash
            && pt_http_proxy_skip_headers[i].len == h->key.len
            && pt_strncasecmp(pt_http_proxy_skip_headers[i].data, h->key.data,
                              h->key.len) == 0)
        {
            return 1;
        }
    }

    ph = plcf->headers->elts;

    for (i = 0; i < plcf->headers->nelts; i++) {
        if (ph[i].hash == h->hash && ph[i].name.len == h->key.len
            && pt_strncasecmp(ph[i].name.data, h->key.data, h->key.len) == 0)
        {
            return 1;
        }
    }

    for (c = r->headers_in.connection; c; c = c->next) {
        if (pt_http_list_has_token(&c->value, (const char *) h->key.data, h->key.len)) {
            return 1;
        }
    }

    return 0;
}

#define pt_http_proxy_each_header(r, h, body)                               \
    do {                                                                    \
        pt_uint_t         i_;                                               \
        pt_list_part_t   *part_ = &(r)->headers_in.headers.part;            \
        pt_http_header_t *arr_ = part_->elts;                               \
        for (i_ = 0; /* void */ ; i_++) {                                   \
            if (i_ >= part_->nelts) {                                       \
                if (part_->next == NULL) {                                  \
                    break;                                                  \
                }                                                           \
                part_ = part_->next;                                        \
                arr_ = part_->elts;                                         \
                i_ = 0;                                                     \
            }                                                               \
            h = &arr_[i_];                                                  \
            body                                                            \
        }                                                                   \
    } while (0)

/* The body's framing: its length, -1 for none, -2 for chunked. */
static off_t
pt_http_proxy_body_length(pt_http_request_t *r, pt_http_proxy_loc_conf_t *plcf,
    pt_str_t *body_set)
{
    pt_http_request_body_t  *rb;

    if (plcf->body_set) {
        return body_set->len;
    }

    rb = r->request_body;

    if (!plcf->upstream.pass_request_body || rb == NULL) {
        return (r->headers_in.content_length_n >= 0 && plcf->upstream.pass_request_body)
               ? 0 : -1;
    }

    if (r->request_body_no_buffering) {
        return r->headers_in.content_length_n >= 0 ? r->headers_in.content_length_n
                                                    : -2;
    }

    return rb->received;
}

/* The parts of the request head, evaluated once. */
typedef struct {
    pt_str_t                  method;
    pt_str_t                  uri;
    pt_str_t                  body_set;
    pt_str_t                 *values;       /* of plcf->headers */
    off_t                     body_len;     /* -1: none, -2: chunked */
    u_char                    num[PT_OFF_T_LEN];
    size_t                    num_len;
} pt_http_proxy_head_t;

/* Evaluates the parts and returns the head's size, or 0 on error. */
static size_t
pt_http_proxy_head_size(pt_http_request_t *r, pt_http_proxy_loc_conf_t *plcf,
    pt_http_proxy_ctx_t *ctx, pt_http_proxy_head_t *hd)
{
    size_t                   len;
    pt_uint_t                i;
    pt_http_header_t        *h;
    pt_http_proxy_header_t  *ph;

    hd->method = r->method_name;

    if ((plcf->method && pt_http_complex_value(r, plcf->method, &hd->method) != PT_OK)
        || pt_http_proxy_target(r, ctx, plcf, &hd->uri) != PT_OK)
    {
        return 0;
    }

    hd->body_set.len = 0;

    if (plcf->body_set && pt_http_complex_value(r, plcf->body_set, &hd->body_set) != PT_OK) {
        return 0;
    }

    len = hd->method.len + 1 + hd->uri.len + sizeof(" HTTP/1.1" CRLF) - 1 + 2;

    ph = plcf->headers->elts;

    hd->values = pt_palloc(r->pool, plcf->headers->nelts * sizeof(pt_str_t));
    if (hd->values == NULL) {
        return 0;
    }

    for (i = 0; i < plcf->headers->nelts; i++) {
        if (pt_http_complex_value(r, &ph[i].value, &hd->values[i]) != PT_OK) {
            return 0;
        }

        if (hd->values[i].len) {
            len += ph[i].name.len + 2 + hd->values[i].len + 2;
        }
    }

    hd->body_len = pt_http_proxy_body_length(r, plcf, &hd->body_set);

    if (hd->body_len >= 0) {
        hd->num_len = pt_uint_to_str(hd->num, (uint64_t) hd->body_len) - hd->num;
        len += sizeof("Content-Length: " CRLF) - 1 + hd->num_len;

    } else if (hd->body_len == -2) {
        len += sizeof("Transfer-Encoding: chunked" CRLF) - 1;
    }

    if (plcf->upstream.pass_request_headers) {
        pt_http_proxy_each_header(r, h, {
            if (!pt_http_proxy_skip(r, plcf, h)) {
                len += h->key.len + 2 + h->value.len + 2;
            }
        });
    }

    return len;
}

static u_char *
pt_http_proxy_head_write(pt_http_request_t *r, pt_http_proxy_loc_conf_t *plcf,
    pt_http_proxy_head_t *hd, u_char *p)
{
    pt_uint_t                i;
    pt_http_header_t        *h;
    pt_http_proxy_header_t  *ph;

    p = pt_cpymem(p, hd->method.data, hd->method.len);
    *p++ = ' ';
    p = pt_cpymem(p, hd->uri.data, hd->uri.len);

    if (plcf->http_version == PT_HTTP_VERSION_11) {
        p = pt_cpymem(p, " HTTP/1.1" CRLF, sizeof(" HTTP/1.1" CRLF) - 1);
    } else {
        p = pt_cpymem(p, " HTTP/1.0" CRLF, sizeof(" HTTP/1.0" CRLF) - 1);
    }

    ph = plcf->headers->elts;

    for (i = 0; i < plcf->headers->nelts; i++) {
        if (hd->values[i].len == 0) {
            continue;
        }

        p = pt_cpymem(p, ph[i].name.data, ph[i].name.len);
        *p++ = ':'; *p++ = ' ';
        p = pt_cpymem(p, hd->values[i].data, hd->values[i].len);
        *p++ = CR; *p++ = LF;
    }

    if (hd->body_len >= 0) {
        p = pt_cpymem(p, "Content-Length: ", sizeof("Content-Length: ") - 1);
        p = pt_cpymem(p, hd->num, hd->num_len);
        *p++ = CR; *p++ = LF;

    } else if (hd->body_len == -2) {
        p = pt_cpymem(p, "Transfer-Encoding: chunked" CRLF,
                      sizeof("Transfer-Encoding: chunked" CRLF) - 1);
    }

    if (plcf->upstream.pass_request_headers) {
        pt_http_proxy_each_header(r, h, {
            if (!pt_http_proxy_skip(r, plcf, h)) {
                p = pt_cpymem(p, h->key.data, h->key.len);
                *p++ = ':'; *p++ = ' ';
                p = pt_cpymem(p, h->value.data, h->value.len);
                *p++ = CR; *p++ = LF;
            }
        });
    }

    *p++ = CR; *p++ = LF;

    return p;
}

/* The body after the head: proxy_set_body's, or the whole body read
 * (memory buffers or one file buffer).  A streamed body is added as it
 * arrives (pt_http_upstream_request.c). */
static pt_int_t
pt_http_proxy_body_chain(pt_http_request_t *r, pt_http_proxy_loc_conf_t *plcf,
    pt_http_proxy_head_t *hd, pt_chain_t **ll)
{
    pt_buf_t    *b;
    pt_chain_t  *bcl;

    if (plcf->body_set) {
        if (hd->body_set.len == 0) {
            return PT_OK;
        }

        b = pt_calloc_buf(r->pool);
        *ll = pt_alloc_chain_link(r->pool);

        if (b == NULL || *ll == NULL) {
            return PT_ERROR;
        }

        b->memory = 1;
        b->pos = hd->body_set.data;
        b->last = hd->body_set.data + hd->body_set.len;
        (*ll)->buf = b;
        (*ll)->next = NULL;

        return PT_OK;
    }

    if (!plcf->upstream.pass_request_body || r->request_body == NULL
        || r->request_body_no_buffering)
    {
        return PT_OK;
    }

    for (bcl = r->request_body->bufs; bcl; bcl = bcl->next) {
        *ll = pt_alloc_chain_link(r->pool);
        if (*ll == NULL) {
            return PT_ERROR;
        }

        (*ll)->buf = bcl->buf;
        (*ll)->next = NULL;
        ll = &(*ll)->next;
    }

    return PT_OK;
}

pt_int_t
pt_http_proxy_create_request(pt_http_request_t *r)
{
    size_t                     len;
    pt_buf_t                  *b;
    pt_chain_t                *cl;
    pt_http_upstream_t        *u;
    pt_http_proxy_ctx_t       *ctx;
    pt_http_proxy_head_t       hd;
    pt_http_proxy_loc_conf_t  *plcf;

    u = r->upstream;
    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);
    plcf = pt_http_get_module_loc_conf(r, pt_http_proxy_module);

    len = pt_http_proxy_head_size(r, plcf, ctx, &hd);
    if (len == 0) {
        return PT_ERROR;
    }

    u->uri = hd.uri;
    ctx->chunked_body = (hd.body_len == -2);
    ctx->head = pt_str_eq_lit(&hd.method, "HEAD");
    u->request_chunked = ctx->chunked_body;

    b = pt_create_temp_buf(r->pool, len);
    cl = pt_alloc_chain_link(r->pool);

    if (b == NULL || cl == NULL) {
        return PT_ERROR;
    }

    b->last = pt_http_proxy_head_write(r, plcf, &hd, b->last);

    cl->buf = b;
    cl->next = NULL;
    u->request_bufs = cl;

    return pt_http_proxy_body_chain(r, plcf, &hd, &cl->next);
}

pt_int_t
pt_http_proxy_reinit_request(pt_http_request_t *r)
{
    pt_http_proxy_ctx_t  *ctx;

    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);

    ctx->scan = NULL;
    ctx->line_start = NULL;
    pt_memzero(&ctx->chunked, sizeof(pt_http_chunked_t));

    return PT_OK;
}

void
pt_http_proxy_finalize_request(pt_http_request_t *r, pt_int_t rc)
{
}
