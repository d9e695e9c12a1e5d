/*
 * pt_http_header_filter_module.c: the last header filter.  It turns
 * r->headers_out into the status line and header block, in one buffer from
 * the request pool, and hands it to the write filter, which keeps it until
 * the body comes (so header and body leave in one writev).
 *
 * Here the connection's fate is announced: "Connection: keep-alive" only
 * when the request may be followed by another (not while the worker is
 * draining, and only when the body's end is known to the client).
 */

#include "pt_http.h"

static pt_int_t pt_http_header_filter_init(pt_conf_t *cf);
static pt_int_t pt_http_header_filter(pt_http_request_t *r);

static pt_http_module_t  pt_http_header_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_header_filter_init,            /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_header_filter_module = {
    PT_MODULE_V1,
    &pt_http_header_filter_module_ctx,
    NULL,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* The status line text (without "HTTP/1.1 "), for a known or unknown code. */
static pt_int_t
pt_http_header_status(pt_http_request_t *r, pt_str_t *line, u_char *numbuf)
{
    pt_uint_t   status;
    pt_str_t   *known;

    if (r->headers_out.status_line.len) {
        *line = r->headers_out.status_line;
        return PT_OK;
    }

    status = r->headers_out.status;

    if (status == PT_HTTP_NO_CONTENT) {
        r->header_only = 1;
        pt_str_null(&r->headers_out.content_type);
        r->headers_out.content_type_len = 0;
        r->headers_out.last_modified_time = -1;
        r->headers_out.last_modified = NULL;
        r->headers_out.content_length = NULL;
        r->headers_out.content_length_n = -1;
    }

    if (status == PT_HTTP_NOT_MODIFIED) {
        r->header_only = 1;
    }

    known = pt_http_status_line(status);

    if (known) {
        *line = *known;
        return PT_OK;
    }

    /* an unknown code: "NNN " as nginx sends it */
    if (status < 100 || status > 999) {
        status = 0;
    }

    numbuf[0] = (u_char) ('0' + status / 100);
    numbuf[1] = (u_char) ('0' + status / 10 % 10);
    numbuf[2] = (u_char) ('0' + status % 10);
    numbuf[3] = ' ';

    line->data = numbuf;
    line->len = 4;

    return PT_OK;
}

/* The header fields the filter writes itself, before those of the list.
 * Values that need formatting are built in the scratch buffers. */
#define PT_HTTP_FIXED_FIELDS  10

typedef struct {
    pt_str_t     name;
    pt_str_t     value;
} pt_http_field_t;

typedef struct {
    pt_http_field_t  field[PT_HTTP_FIXED_FIELDS];
    pt_uint_t        n;

    u_char           content_length[PT_OFF_T_LEN];
    u_char           last_modified[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];
    u_char           keep_alive[sizeof("timeout=") - 1 + PT_TIME_T_LEN];
} pt_http_fields_t;

static void
pt_http_field_add(pt_http_fields_t *f, const char *name, size_t name_len,
    u_char *value, size_t value_len)
{
    f->field[f->n].name.data = (u_char *) name;
    f->field[f->n].name.len = name_len;
    f->field[f->n].value.data = value;
    f->field[f->n].value.len = value_len;
    f->n++;
}

#define pt_http_field_lit(f, name, value)                                   \
    pt_http_field_add(f, name, sizeof(name) - 1, (u_char *) value, sizeof(value) - 1)

/*
 * A Location starting with "/" becomes absolute, as nginx's
 * absolute_redirect does: "http://" host [":" port] path, with the host
 * from server_name_in_redirect, the Host header, or the local address.
 */
static pt_int_t
pt_http_header_location(pt_http_request_t *r, pt_http_core_loc_conf_t *clcf,
    pt_str_t *value)
{
    u_char                   *p, addr[PT_SOCKADDR_STRLEN];
    pt_str_t                  host, *path;
    in_port_t                 port;
    pt_http_core_srv_conf_t  *cscf;

    path = &r->headers_out.location->value;

    if (clcf->server_name_in_redirect) {
        cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
        host = cscf->server_name;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        host.len = PT_SOCKADDR_STRLEN;
        host.data = addr;

        if (pt_connection_local_sockaddr(r->connection, &host, 0) != PT_OK) {
            return PT_ERROR;
        }
    }

    port = clcf->port_in_redirect ? pt_http_server_port(r) : 0;

    if (port == 80) {
        port = 0;
    }

    p = pt_pnalloc(r->pool, sizeof("http://") - 1 + host.len + sizeof(":65535") - 1
                            + path->len);
    if (p == NULL) {
        return PT_ERROR;
    }

    value->data = p;

    p = pt_cpymem(p, "http://", sizeof("http://") - 1);
    p = pt_cpymem(p, host.data, host.len);

    if (port) {
        *p++ = ':';
        p = pt_uint_to_str(p, port);
    }

    p = pt_cpymem(p, path->data, path->len);

    value->len = p - value->data;

    return PT_OK;
}

/* Content-Type, with "; charset=" when a charset is set apart. */
static pt_int_t
pt_http_header_content_type(pt_http_request_t *r, pt_http_fields_t *f)
{
    u_char    *p;
    pt_str_t  *ct, *cs;

    ct = &r->headers_out.content_type;
    cs = &r->headers_out.charset;

    if (r->headers_out.content_type_len != ct->len || cs->len == 0) {
        pt_http_field_add(f, "Content-Type", sizeof("Content-Type") - 1,
                          ct->data, ct->len);
        return PT_OK;
    }

    p = pt_pnalloc(r->pool, ct->len + sizeof("; charset=") - 1 + cs->len);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_field_add(f, "Content-Type", sizeof("Content-Type") - 1, p,
                      ct->len + sizeof("; charset=") - 1 + cs->len);

    p = pt_cpymem(p, ct->data, ct->len);
    p = pt_cpymem(p, "; charset=", sizeof("; charset=") - 1);
    (void) pt_cpymem(p, cs->data, cs->len);

    return PT_OK;
}

/* Fills f with the fields the filter itself writes, in nginx's order. */
static pt_int_t
pt_http_header_fixed_fields(pt_http_request_t *r, pt_http_core_loc_conf_t *clcf,
    pt_http_fields_t *f)
{
    pt_str_t           value, *date;
    pt_http_header_t  *location;

    f->n = 0;

    if (r->headers_out.server == NULL) {
        if (clcf->server_tokens) {
            pt_http_field_lit(f, "Server", PORTICO_VER);
        } else {
            pt_http_field_lit(f, "Server", PORTICO_NAME);
        }
    }

    if (r->headers_out.date == NULL) {
        date = (pt_str_t *) &pt_cached_http_time;
        pt_http_field_add(f, "Date", sizeof("Date") - 1, date->data, date->len);
    }

    if (r->headers_out.content_type.len && pt_http_header_content_type(r, f) != PT_OK) {
        return PT_ERROR;
    }

    if (r->headers_out.content_length == NULL && r->headers_out.content_length_n >= 0) {
        pt_http_field_add(f, "Content-Length", sizeof("Content-Length") - 1,
                          f->content_length,
                          pt_uint_to_str(f->content_length,
                                         (uint64_t) r->headers_out.content_length_n)
                          - f->content_length);
    }

    if (r->headers_out.last_modified == NULL
        && r->headers_out.last_modified_time != -1)
    {
        pt_http_field_add(f, "Last-Modified", sizeof("Last-Modified") - 1,
                          f->last_modified,
                          pt_http_time(f->last_modified,
                                       r->headers_out.last_modified_time)
                          - f->last_modified);
    }

    location = r->headers_out.location;

    if (location && location->hash && location->value.len
        && location->value.data[0] == '/' && clcf->absolute_redirect)
    {
        if (pt_http_header_location(r, clcf, &value) != PT_OK) {
            return PT_ERROR;
        }

        location->hash = 0;     /* written here, not with the list */
        pt_http_field_add(f, "Location", sizeof("Location") - 1, value.data, value.len);
    }

    if (r->chunked) {
        pt_http_field_lit(f, "Transfer-Encoding", "chunked");
    }

    if (r->headers_out.status == PT_HTTP_SWITCHING_PROTOCOLS) {
        /* a proxied upgrade: the connection becomes the tunnel */
        pt_http_field_lit(f, "Connection", "upgrade");
        return PT_OK;
    }

    if (!r->keepalive) {
        pt_http_field_lit(f, "Connection", "close");
        return PT_OK;
    }

    pt_http_field_lit(f, "Connection", "keep-alive");

    if (clcf->keepalive_header) {
        pt_http_field_add(f, "Keep-Alive", sizeof("Keep-Alive") - 1, f->keep_alive,
                          pt_uint_to_str(pt_cpymem(f->keep_alive, "timeout=", 8),
                                         (uint64_t) clcf->keepalive_header)
                          - f->keep_alive);
    }

    return PT_OK;
}

/* Whether the connection may carry another request after this response:
 * not while the worker drains, and only when the client can tell where
 * the body ends. */
static void
pt_http_header_keepalive(pt_http_request_t *r)
{
    if (r->keepalive && (pt_exiting || pt_terminate || r->connection->close)) {
        r->keepalive = 0;
    }

    if (r->keepalive && r->headers_out.content_length_n < 0 && !r->chunked
        && !r->header_only)
    {
        r->keepalive = 0;
    }
}

/* Runs body with h at each live header of the response list. */
#define pt_http_header_list_each(r, h, body)                                \
    do {                                                                    \
        pt_uint_t        i_;                                                \
        pt_list_part_t  *part_ = &(r)->headers_out.headers.part;            \
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
            if (arr_[i_].hash == 0) {                                       \
                continue;                                                   \
            }                                                               \
            h = &arr_[i_];                                                  \
            body                                                            \
        }                                                                   \
    } while (0)

static pt_int_t
pt_http_header_filter(pt_http_request_t *r)
{
    size_t                    len;
    u_char                   *p, numbuf[4];
    pt_str_t                  line;
    pt_buf_t                 *b;
    pt_uint_t                 i;
    pt_chain_t                out;
    pt_http_header_t         *h;
    pt_http_fields_t          f;
    pt_http_core_loc_conf_t  *clcf;

    if (r->header_sent) {
        return PT_OK;
    }

    r->header_sent = 1;

    if (r != r->main || r->http_version < PT_HTTP_VERSION_10) {
        /* a subrequest, or HTTP/0.9: the body alone */
        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->method == PT_HTTP_HEAD) {
        r->header_only = 1;
    }

    if (r->headers_out.last_modified_time != -1
        && r->headers_out.status != PT_HTTP_OK
        && r->headers_out.status != PT_HTTP_PARTIAL_CONTENT
        && r->headers_out.status != PT_HTTP_NOT_MODIFIED)
    {
        r->headers_out.last_modified_time = -1;
        r->headers_out.last_modified = NULL;
    }

    (void) pt_http_header_status(r, &line, numbuf);

    pt_http_header_keepalive(r);

    if (pt_http_header_fixed_fields(r, clcf, &f) != PT_OK) {
        return PT_ERROR;
    }

    len = sizeof("HTTP/1.1 ") - 1 + line.len + 2 + 2;

    for (i = 0; i < f.n; i++) {
        len += f.field[i].name.len + 2 + f.field[i].value.len + 2;
    }

    pt_http_header_list_each(r, h, { len += h->key.len + 2 + h->value.len + 2; });

    b = pt_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return PT_ERROR;
    }

    p = pt_cpymem(b->last, "HTTP/1.1 ", sizeof("HTTP/1.1 ") - 1);
    p = pt_cpymem(p, line.data, line.len);
    *p++ = CR; *p++ = LF;

    for (i = 0; i < f.n; i++) {
        p = pt_cpymem(p, f.field[i].name.data, f.field[i].name.len);
        *p++ = ':'; *p++ = ' ';
        p = pt_cpymem(p, f.field[i].value.data, f.field[i].value.len);
        *p++ = CR; *p++ = LF;
    }

    pt_http_header_list_each(r, h, {
        p = pt_cpymem(p, h->key.data, h->key.len);
        *p++ = ':'; *p++ = ' ';
        p = pt_cpymem(p, h->value.data, h->value.len);
        *p++ = CR; *p++ = LF;
    });

    *p++ = CR; *p++ = LF;

    b->last = p;

    r->header_size = b->last - b->pos;

    if (r->header_only) {
        b->last_buf = 1;
    }

    out.buf = b;
    out.next = NULL;

    return pt_http_write_filter(r, &out);
}

static pt_int_t
pt_http_header_filter_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_HEADER,
                                   pt_http_header_filter, NULL, NULL, NULL);
}
