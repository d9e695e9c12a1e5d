/*
 * pt_http_static_module.c: files from the location's root or alias.
 *
 * A CONTENT handler: a uri ending in "/" is declined (the index module or
 * the final 403/404 of the core answers it); otherwise the mapped file is
 * opened once and checked with one fstat() (or found in the location's
 * open_file_cache, with no system call), and answered as a single file
 * buffer that the write filter sends with sendfile() (or the copy filter
 * reads into memory when sendfile is off).  The response carries
 * Last-Modified, an ETag in nginx's format ("mtime-size" in hex) and
 * allows ranges; the not_modified and range filters do the conditional
 * and partial answers.  A directory gets a 301 to its slash form.
 *
 *   etag on|off;      (http, server, location; default on)
 */

#include "pt_http.h"

typedef struct {
    pt_flag_t     etag;
} pt_http_static_loc_conf_t;

static pt_int_t pt_http_static_init(pt_conf_t *cf);
static void *pt_http_static_create_loc_conf(pt_conf_t *cf);
static char *pt_http_static_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);

static pt_command_t  pt_http_static_commands[] = {

    { pt_string("etag"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_static_loc_conf_t, etag), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_static_module_ctx = {
    pt_http_file_add_variables,            /* preconfiguration */
    pt_http_static_init,                   /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_static_create_loc_conf,        /* create location configuration */
    pt_http_static_merge_loc_conf          /* merge location configuration */
};

pt_module_t  pt_http_static_module = {
    PT_MODULE_V1,
    &pt_http_static_module_ctx,
    pt_http_static_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* Percent-encodes the bytes of a decoded path that may not appear in a
 * Location path as they are (RFC 3986 pchar and "/"); "%" itself too, so
 * the redirect names the same resource.  dst NULL: only count. */
static size_t
pt_http_static_escape_path(u_char *dst, u_char *src, size_t len)
{
    static const char  hex[] = "0123456789ABCDEF";

    size_t  i, n;
    u_char  ch;

    n = 0;

    for (i = 0; i < len; i++) {
        ch = src[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9')
            || (ch != '\0' && pt_strchr("-._~!$&'()*+,;=:@/", ch)))
        {
            if (dst) {
                dst[n] = ch;
            }
            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = hex[ch >> 4];
            dst[n + 2] = hex[ch & 0xf];
        }
        n += 3;
    }

    return n;
}

/* 301 to "uri/" (with the query), made absolute by the header filter. */
static pt_int_t
pt_http_static_redirect_dir(pt_http_request_t *r)
{
    size_t             len;
    u_char            *p;
    pt_http_header_t  *h;

    len = pt_http_static_escape_path(NULL, r->uri.data, r->uri.len);

    p = pt_pnalloc(r->pool, len + 1 + (r->args.len ? 1 + r->args.len : 0));
    if (p == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = pt_http_add_response_header(r, "Location", sizeof("Location") - 1, p, 0);
    if (h == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    p += pt_http_static_escape_path(p, r->uri.data, r->uri.len);
    *p++ = '/';

    if (r->args.len) {
        *p++ = '?';
        p = pt_cpymem(p, r->args.data, r->args.len);
    }

    h->value.len = p - h->value.data;
    r->headers_out.location = h;

    return PT_HTTP_MOVED_PERMANENTLY;
}

/* ETag: "mtime-size" in hex, as nginx makes it. */
static pt_int_t
pt_http_static_etag(pt_http_request_t *r, pt_open_file_info_t *of)
{
    u_char            *p;
    pt_http_header_t  *h;

    p = pt_pnalloc(r->pool, 2 + 2 * 16 + 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    h = pt_http_add_response_header(r, "ETag", sizeof("ETag") - 1, p, 0);
    if (h == NULL) {
        return PT_ERROR;
    }

    *p++ = '"';
    p = pt_uint_to_hex(p, (uint64_t) of->mtime);
    *p++ = '-';
    p = pt_uint_to_hex(p, (uint64_t) of->size);
    *p++ = '"';

    h->value.len = p - h->value.data;
    r->headers_out.etag = h;

    return PT_OK;
}

/* Opens path (through the open file cache when the location has one);
 * PT_OK with of filled, or the HTTP status to answer. */
static pt_int_t
pt_http_static_open(pt_http_request_t *r, pt_str_t *path, pt_open_file_info_t *of)
{
    pt_memzero(of, sizeof(pt_open_file_info_t));

    if (pt_http_file_open(r, path, of) != PT_OK) {
        if (of->err == 0) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        return pt_http_file_open_error(r, of->err, of->failed, path->data);
    }

    if (of->is_dir) {
        return pt_http_static_redirect_dir(r);
    }

    if (!of->is_file) {
        pt_log_error(PT_LOG_CRIT, r->connection->log, 0,
                     "\"%s\" is not a regular file", path->data);
        return PT_HTTP_NOT_FOUND;
    }

    return PT_OK;
}

static pt_int_t
pt_http_static_handler(pt_http_request_t *r)
{
    size_t                      root;
    pt_int_t                    rc;
    pt_str_t                    path;
    pt_buf_t                   *b;
    pt_file_t                  *file;
    pt_chain_t                  out;
    pt_open_file_info_t         of;
    pt_http_static_loc_conf_t  *slcf;

    if (!(r->method & (PT_HTTP_GET|PT_HTTP_HEAD|PT_HTTP_POST))) {
        return PT_HTTP_NOT_ALLOWED;
    }

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] == '/') {
        return PT_DECLINED;
    }

    if (pt_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = pt_http_static_open(r, &path, &of);
    if (rc != PT_OK) {
        return rc;
    }

    if (r->method == PT_HTTP_POST) {
        return PT_HTTP_NOT_ALLOWED;
    }

    rc = pt_http_discard_request_body(r);
    if (rc != PT_OK) {
        return rc;
    }

    r->headers_out.status = PT_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;

    slcf = pt_http_get_module_loc_conf(r, pt_http_static_module);

    if (slcf->etag && pt_http_static_etag(r, &of) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pt_http_set_content_type(r) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    b = pt_calloc_buf(r->pool);
    file = pt_pcalloc(r->pool, sizeof(pt_file_t));
    if (b == NULL || file == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = pt_http_send_header(r);

    if (rc == PT_ERROR || rc > PT_OK || r->header_only) {
        return rc;
    }

    file->fd = of.fd;
    file->name = path;
    file->log = r->connection->log;

    b->file = file;
    b->file_pos = 0;
    b->file_last = of.size;
    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return pt_http_output_filter(r, &out);
}

static void *
pt_http_static_create_loc_conf(pt_conf_t *cf)
{
    pt_http_static_loc_conf_t  *conf;

    conf = pt_palloc(cf->pool, sizeof(pt_http_static_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->etag = PT_CONF_UNSET;

    return conf;
}

static char *
pt_http_static_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_static_loc_conf_t  *prev = parent;
    pt_http_static_loc_conf_t  *conf = child;

    pt_conf_merge_value(conf->etag, prev->etag, 1);

    return PT_CONF_OK;
}

static pt_int_t
pt_http_static_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_CONTENT_PHASE, pt_http_static_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}
