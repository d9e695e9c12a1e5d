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

static const char  pt_http_server_full[] = "Server: " PORTICO_VER CRLF;
static const char  pt_http_server_short[] = "Server: " PORTICO_NAME CRLF;

#define pt_http_lit_len(s)  (sizeof(s) - 1)

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

/* For a Location starting with "/", the scheme, host and port to prepend
 * (nginx's absolute_redirect). */
static pt_int_t
pt_http_header_location_prefix(pt_http_request_t *r, pt_http_core_loc_conf_t *clcf,
    pt_str_t *host, in_port_t *port, u_char *addr)
{
    pt_connection_t          *c;
    pt_http_core_srv_conf_t  *cscf;

    c = r->connection;

    if (clcf->server_name_in_redirect) {
        cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
        *host = cscf->server_name;

    } else if (r->headers_in.server.len) {
        *host = r->headers_in.server;

    } else {
        host->len = PT_SOCKADDR_STRLEN;
        host->data = addr;

        if (pt_connection_local_sockaddr(c, host, 0) != PT_OK) {
            return PT_ERROR;
        }
    }

    *port = 0;

    if (clcf->port_in_redirect) {
        *port = pt_http_server_port(r);
        if (*port == 80) {
            *port = 0;
        }
    }

    return PT_OK;
}

static pt_int_t
pt_http_header_filter(pt_http_request_t *r)
{
    size_t                    len;
    u_char                   *p;
    u_char                    numbuf[4], addr[PT_SOCKADDR_STRLEN];
    pt_str_t                  line, host, *date;
    pt_buf_t                 *b;
    in_port_t                 port;
    pt_uint_t                 i;
    pt_chain_t                out;
    pt_list_part_t           *part;
    pt_connection_t          *c;
    pt_http_header_t         *h, *location;
    pt_http_core_loc_conf_t  *clcf;

    if (r->header_sent) {
        return PT_OK;
    }

    r->header_sent = 1;

    if (r != r->main) {
        return PT_OK;
    }

    if (r->http_version < PT_HTTP_VERSION_10) {
        /* HTTP/0.9: the body alone */
        return PT_OK;
    }

    c = r->connection;
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

    /* The connection's fate. */

    if (r->keepalive && (pt_exiting || pt_terminate || c->close)) {
        r->keepalive = 0;
    }

    if (r->keepalive && r->headers_out.content_length_n < 0 && !r->chunked
        && !r->header_only)
    {
        /* the end of the body is the end of the connection */
        r->keepalive = 0;
    }

    /* Pass 1: the size. */

    len = pt_http_lit_len("HTTP/1.1 ") + line.len + 2;

    if (r->headers_out.server == NULL) {
        len += clcf->server_tokens ? pt_http_lit_len(pt_http_server_full)
                                   : pt_http_lit_len(pt_http_server_short);
    }

    date = (pt_str_t *) &pt_cached_http_time;

    if (r->headers_out.date == NULL) {
        len += pt_http_lit_len("Date: ") + date->len + 2;
    }

    if (r->headers_out.content_type.len) {
        len += pt_http_lit_len("Content-Type: ") + r->headers_out.content_type.len + 2;

        if (r->headers_out.content_type_len == r->headers_out.content_type.len
            && r->headers_out.charset.len)
        {
            len += pt_http_lit_len("; charset=") + r->headers_out.charset.len;
        }
    }

    if (r->headers_out.content_length == NULL && r->headers_out.content_length_n >= 0) {
        len += pt_http_lit_len("Content-Length: ") + PT_OFF_T_LEN + 2;
    }

    if (r->headers_out.last_modified == NULL
        && r->headers_out.last_modified_time != -1)
    {
        len += pt_http_lit_len("Last-Modified: Mon, 28 Sep 1970 06:00:00 GMT" CRLF);
    }

    location = r->headers_out.location;
    port = 0;
    pt_str_null(&host);

    if (location && location->hash && location->value.len
        && location->value.data[0] == '/' && clcf->absolute_redirect)
    {
        if (pt_http_header_location_prefix(r, clcf, &host, &port, addr) != PT_OK) {
            return PT_ERROR;
        }

        location->hash = 0;     /* written below, not with the list */

        len += pt_http_lit_len("Location: http://") + host.len + location->value.len + 2;

        if (port) {
            len += pt_http_lit_len(":65535");
        }

    } else {
        location = NULL;
    }

    if (r->chunked) {
        len += pt_http_lit_len("Transfer-Encoding: chunked" CRLF);
    }

    if (r->keepalive) {
        len += pt_http_lit_len("Connection: keep-alive" CRLF);

        if (clcf->keepalive_header) {
            len += pt_http_lit_len("Keep-Alive: timeout=") + PT_TIME_T_LEN + 2;
        }

    } else {
        len += pt_http_lit_len("Connection: close" CRLF);
    }

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        len += h[i].key.len + 2 + h[i].value.len + 2;
    }

    len += 2;

    /* Pass 2: the bytes. */

    b = pt_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return PT_ERROR;
    }

    p = pt_cpymem(b->last, "HTTP/1.1 ", pt_http_lit_len("HTTP/1.1 "));
    p = pt_cpymem(p, line.data, line.len);
    *p++ = CR; *p++ = LF;

    if (r->headers_out.server == NULL) {
        if (clcf->server_tokens) {
            p = pt_cpymem(p, pt_http_server_full, pt_http_lit_len(pt_http_server_full));
        } else {
            p = pt_cpymem(p, pt_http_server_short, pt_http_lit_len(pt_http_server_short));
        }
    }

    if (r->headers_out.date == NULL) {
        p = pt_cpymem(p, "Date: ", pt_http_lit_len("Date: "));
        p = pt_cpymem(p, date->data, date->len);
        *p++ = CR; *p++ = LF;
    }

    if (r->headers_out.content_type.len) {
        p = pt_cpymem(p, "Content-Type: ", pt_http_lit_len("Content-Type: "));
        p = pt_cpymem(p, r->headers_out.content_type.data,
                      r->headers_out.content_type.len);

        if (r->headers_out.content_type_len == r->headers_out.content_type.len
            && r->headers_out.charset.len)
        {
            p = pt_cpymem(p, "; charset=", pt_http_lit_len("; charset="));
            p = pt_cpymem(p, r->headers_out.charset.data, r->headers_out.charset.len);
        }

        *p++ = CR; *p++ = LF;
    }

    if (r->headers_out.content_length == NULL && r->headers_out.content_length_n >= 0) {
        p = pt_cpymem(p, "Content-Length: ", pt_http_lit_len("Content-Length: "));
        p = pt_uint_to_str(p, (uint64_t) r->headers_out.content_length_n);
        *p++ = CR; *p++ = LF;
    }

    if (r->headers_out.last_modified == NULL
        && r->headers_out.last_modified_time != -1)
    {
        p = pt_cpymem(p, "Last-Modified: ", pt_http_lit_len("Last-Modified: "));
        p = pt_http_time(p, r->headers_out.last_modified_time);
        *p++ = CR; *p++ = LF;
    }

    if (location) {
        p = pt_cpymem(p, "Location: http://", pt_http_lit_len("Location: http://"));
        p = pt_cpymem(p, host.data, host.len);

        if (port) {
            *p++ = ':';
            p = pt_uint_to_str(p, port);
        }

        p = pt_cpymem(p, location->value.data, location->value.len);
        *p++ = CR; *p++ = LF;
    }

    if (r->chunked) {
        p = pt_cpymem(p, "Transfer-Encoding: chunked" CRLF,
                      pt_http_lit_len("Transfer-Encoding: chunked" CRLF));
    }

    if (r->keepalive) {
        p = pt_cpymem(p, "Connection: keep-alive" CRLF,
                      pt_http_lit_len("Connection: keep-alive" CRLF));

        if (clcf->keepalive_header) {
            p = pt_cpymem(p, "Keep-Alive: timeout=", pt_http_lit_len("Keep-Alive: timeout="));
            p = pt_uint_to_str(p, (uint64_t) clcf->keepalive_header);
            *p++ = CR; *p++ = LF;
        }

    } else {
        p = pt_cpymem(p, "Connection: close" CRLF, pt_http_lit_len("Connection: close" CRLF));
    }

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        p = pt_cpymem(p, h[i].key.data, h[i].key.len);
        *p++ = ':'; *p++ = ' ';
        p = pt_cpymem(p, h[i].value.data, h[i].value.len);
        *p++ = CR; *p++ = LF;
    }

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
