/*
 * pt_http_upstream_headers.c: the upstream's response head becomes the
 * client's.
 *
 * The status and every field are copied to r->headers_out (the strings are
 * not: they stay in u->buffer, which lives as long as the request), except
 *
 *   - the hop-by-hop fields (RFC 9110 7.6.1): Connection, Keep-Alive,
 *     Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade (kept for
 *     a 101), and every field the Connection header names; they describe
 *     the upstream connection, not the client's;
 *   - Content-Length, which the header filter writes from the parsed
 *     length;
 *   - the hidden fields (proxy_hide_header and the module's defaults,
 *     minus proxy_pass_header).
 *
 * Fields the core acts on get their headers_out pointer (Last-Modified
 * also its time, Content-Type its type and charset), so the header filter
 * does not add a second one.  Location and Refresh go through
 * proxy_redirect; only a Location it rewrote is made absolute by the
 * header filter, as nginx does.  Set-Cookie goes through the
 * proxy_cookie_* rules (u->rewrite_cookie).
 */

#include "pt_http.h"

typedef pt_int_t (*pt_http_upstream_header_pt)(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);

typedef struct {
    pt_str_t                     name;      /* lower case */
    pt_uint_t                    hash;
    pt_http_upstream_header_pt   handler;   /* NULL: not copied */
    pt_uint_t                    offset;    /* in headers_out; 0: none */
} pt_http_upstream_header_t;

static pt_int_t pt_http_upstream_copy_header(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);
static pt_int_t pt_http_upstream_copy_content_type(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);
static pt_int_t pt_http_upstream_copy_last_modified(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);
static pt_int_t pt_http_upstream_copy_location(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);
static pt_int_t pt_http_upstream_copy_refresh(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);
static pt_int_t pt_http_upstream_copy_upgrade(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);
static pt_int_t pt_http_upstream_copy_set_cookie(pt_http_request_t *r,
    pt_http_upstream_t *u, pt_http_header_t *h);

#define pt_http_ho(field)  offsetof(pt_http_headers_out_t, field)

static pt_http_upstream_header_t  pt_http_upstream_headers[] = {
    { pt_string("content-length"), 0, NULL, 0 },
    { pt_string("transfer-encoding"), 0, NULL, 0 },
    { pt_string("connection"), 0, NULL, 0 },
    { pt_string("keep-alive"), 0, NULL, 0 },
    { pt_string("proxy-connection"), 0, NULL, 0 },
    { pt_string("te"), 0, NULL, 0 },
    { pt_string("trailer"), 0, NULL, 0 },
    { pt_string("upgrade"), 0, pt_http_upstream_copy_upgrade, 0 },
    { pt_string("content-type"), 0, pt_http_upstream_copy_content_type, 0 },
    { pt_string("last-modified"), 0, pt_http_upstream_copy_last_modified, 0 },
    { pt_string("location"), 0, pt_http_upstream_copy_location, 0 },
    { pt_string("refresh"), 0, pt_http_upstream_copy_refresh, 0 },
    { pt_string("set-cookie"), 0, pt_http_upstream_copy_set_cookie, 0 },
    { pt_string("server"), 0, pt_http_upstream_copy_header, pt_http_ho(server) },
    { pt_string("date"), 0, pt_http_upstream_copy_header, pt_http_ho(date) },
    { pt_string("etag"), 0, pt_http_upstream_copy_header, pt_http_ho(etag) },
    { pt_string("expires"), 0, pt_http_upstream_copy_header, pt_http_ho(expires) },
    { pt_string("cache-control"), 0, pt_http_upstream_copy_header,
      pt_http_ho(cache_control) },
    { pt_string("www-authenticate"), 0, pt_http_upstream_copy_header,
      pt_http_ho(www_authenticate) },
    { pt_string("accept-ranges"), 0, pt_http_upstream_copy_header,
      pt_http_ho(accept_ranges) },
    { pt_string("content-encoding"), 0, pt_http_upstream_copy_header,
      pt_http_ho(content_encoding) },
    { pt_string("content-range"), 0, pt_http_upstream_copy_header,
      pt_http_ho(content_range) },
    { pt_string("link"), 0, pt_http_upstream_copy_header, pt_http_ho(link) },
    { pt_null_string, 0, NULL, 0 }
};

static pt_http_header_t *
pt_http_upstream_last_out(pt_http_request_t *r)
{
    return (pt_http_header_t *) r->headers_out.headers.last->elts
           + (r->headers_out.headers.last->nelts - 1);
}

static pt_http_upstream_header_t *
pt_http_upstream_header_find(pt_http_header_t *h)
{
    static pt_uint_t            hashed;
    pt_http_upstream_header_t  *hh;

    if (!hashed) {
        for (hh = pt_http_upstream_headers; hh->name.len; hh++) {
            hh->hash = pt_hash_key(hh->name.data, hh->name.len);
        }
        hashed = 1;
    }

    for (hh = pt_http_upstream_headers; hh->name.len; hh++) {
        if (hh->hash == h->hash && hh->name.len == h->key.len
            && pt_strncasecmp(hh->name.data, h->key.data, h->key.len) == 0)
        {
            return hh;
        }
    }

    return NULL;
}

static pt_uint_t
pt_http_upstream_hidden(pt_http_upstream_t *u, pt_http_header_t *h)
{
    pt_uint_t                 i;
    pt_http_upstream_hide_t  *hide;

    if (u->conf->hide == NULL) {
        return 0;
    }

    hide = u->conf->hide->elts;

    for (i = 0; i < u->conf->hide->nelts; i++) {
        if (hide[i].hash == h->hash && hide[i].name.len == h->key.len
            && pt_strncasecmp(hide[i].name.data, h->key.data, h->key.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}

/* A field the upstream's Connection header names is hop-by-hop too. */
static pt_uint_t
pt_http_upstream_connection_option(pt_http_upstream_t *u, pt_http_header_t *h)
{
    pt_http_header_t  *c;

    if (u->headers_in.status_n == PT_HTTP_SWITCHING_PROTOCOLS
        && h->key.len == sizeof("upgrade") - 1
        && pt_strncasecmp(h->key.data, (u_char *) "upgrade", h->key.len) == 0)
    {
        /* "Connection: upgrade" of a 101 names the protocol switch */
        return 0;
    }

    for (c = u->headers_in.connection; c; c = c->next) {
        if (pt_http_list_has_token(&c->value, (const char *) h->key.data, h->key.len)) {
            return 1;
        }
    }

    return 0;
}

/* X-Accel-Buffering: yes|no switches buffering for this response. */
static void
pt_http_upstream_x_accel_buffering(pt_http_upstream_t *u)
{
    pt_str_t  *v;

    if (u->headers_in.x_accel_buffering == NULL
        || (u->conf->ignore_headers & PT_HTTP_UPSTREAM_IGN_XA_BUFFERING))
    {
        return;
    }

    v = &u->headers_in.x_accel_buffering->value;

    if (v->len == 3 && pt_strncasecmp(v->data, (u_char *) "yes", 3) == 0) {
        u->buffering = 1;

    } else if (v->len == 2 && pt_strncasecmp(v->data, (u_char *) "no", 2) == 0) {
        u->buffering = 0;
    }
}

pt_int_t
pt_http_upstream_copy_one(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    pt_http_header_t           **ph;
    pt_http_upstream_header_t   *hh;

    hh = pt_http_upstream_header_find(h);

    if (hh == NULL) {
        return pt_http_upstream_copy_header(r, u, h);
    }

    if (hh->handler == NULL) {
        return PT_OK;
    }

    if (hh->offset == 0) {
        return hh->handler(r, u, h);
    }

    if (pt_http_upstream_copy_header(r, u, h) != PT_OK) {
        return PT_ERROR;
    }

    ph = (pt_http_header_t **) ((char *) &r->headers_out + hh->offset);

    if (*ph == NULL) {
        *ph = pt_http_upstream_last_out(r);
    }

    return PT_OK;
}

pt_int_t
pt_http_upstream_process_headers(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_uint_t          i;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

    u->state->status = u->headers_in.status_n;

    /* X-Accel-Redirect: the head is not the client's (r is redirected) */
    if (pt_http_upstream_x_accel(r, u) != PT_OK) {
        return PT_DONE;
    }

    r->headers_out.status = u->headers_in.status_n;
    r->headers_out.status_line = u->headers_in.status_line;
    r->headers_out.content_length_n = u->headers_in.content_length_n;

    pt_http_upstream_x_accel_buffering(u);

    part = &u->headers_in.headers.part;
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

        if (pt_http_upstream_hidden(u, &h[i])
            || pt_http_upstream_connection_option(u, &h[i]))
        {
            continue;
        }

        if (pt_http_upstream_copy_one(r, u, &h[i]) != PT_OK) {
            goto failed;
        }
    }

    return PT_OK;

failed:

    pt_http_upstream_finalize_request(r, u, PT_HTTP_INTERNAL_SERVER_ERROR);

    return PT_DONE;
}

static pt_int_t
pt_http_upstream_copy_header(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    pt_http_header_t  *ho;

    ho = pt_list_push(&r->headers_out.headers);
    if (ho == NULL) {
        return PT_ERROR;
    }

    *ho = *h;
    ho->next = NULL;

    if (ho->hash == 0) {
        ho->hash = 1;
    }

    return PT_OK;
}

/* Content-Type: the type without parameters, and the charset apart. */
static pt_int_t
pt_http_upstream_copy_content_type(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    u_char  *p, *last;

    r->headers_out.content_type = h->value;
    r->headers_out.content_type_len = h->value.len;
    r->headers_out.content_type_lowcase = NULL;

    last = h->value.data + h->value.len;
    p = pt_strlchr(h->value.data, last, ';');

    if (p == NULL) {
        return PT_OK;
    }

    while (p > h->value.data && (p[-1] == ' ' || p[-1] == '\t')) {
        p--;
    }

    r->headers_out.content_type_len = p - h->value.data;

    p = pt_strlcasestrn(p, last, (u_char *) "charset=", 8 - 1);

    if (p == NULL) {
        return PT_OK;
    }

    p += 8;

    if (p < last && *p == '"') {
        p++;
    }

    r->headers_out.charset.data = p;

    while (p < last && *p != ';' && *p != '"' && *p != ' ') {
        p++;
    }

    r->headers_out.charset.len = p - r->headers_out.charset.data;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_copy_last_modified(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    if (pt_http_upstream_copy_header(r, u, h) != PT_OK) {
        return PT_ERROR;
    }

    r->headers_out.last_modified = pt_http_upstream_last_out(r);
    r->headers_out.last_modified_time = pt_parse_http_time(h->value.data, h->value.len);

    return PT_OK;
}

static pt_int_t
pt_http_upstream_copy_location(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    pt_int_t           rc;
    pt_http_header_t  *ho;

    if (pt_http_upstream_copy_header(r, u, h) != PT_OK) {
        return PT_ERROR;
    }

    ho = pt_http_upstream_last_out(r);

    if (u->rewrite_redirect == NULL) {
        return PT_OK;
    }

    rc = u->rewrite_redirect(r, ho, 0);

    if (rc == PT_ERROR) {
        return PT_ERROR;
    }

    if (rc == PT_OK) {
        /* only a rewritten Location is made absolute by the header filter */
        r->headers_out.location = ho;
    }

    return PT_OK;
}

/* Refresh: "5; url=http://...": proxy_redirect applies after "url=". */
static pt_int_t
pt_http_upstream_copy_refresh(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    u_char            *p;
    pt_http_header_t  *ho;

    if (pt_http_upstream_copy_header(r, u, h) != PT_OK) {
        return PT_ERROR;
    }

    ho = pt_http_upstream_last_out(r);

    if (u->rewrite_redirect == NULL) {
        return PT_OK;
    }

    p = pt_strlcasestrn(ho->value.data, ho->value.data + ho->value.len,
                        (u_char *) "url=", 4 - 1);

    if (p == NULL) {
        return PT_OK;
    }

    return u->rewrite_redirect(r, ho, p + 4 - ho->value.data) == PT_ERROR
           ? PT_ERROR : PT_OK;
}

/* Set-Cookie: each one through proxy_cookie_domain/_path/_flags. */
static pt_int_t
pt_http_upstream_copy_set_cookie(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    if (pt_http_upstream_copy_header(r, u, h) != PT_OK) {
        return PT_ERROR;
    }

    if (u->rewrite_cookie == NULL) {
        return PT_OK;
    }

    return u->rewrite_cookie(r, pt_http_upstream_last_out(r)) == PT_ERROR
           ? PT_ERROR : PT_OK;
}

static pt_int_t
pt_http_upstream_copy_upgrade(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    if (u->headers_in.status_n != PT_HTTP_SWITCHING_PROTOCOLS) {
        return PT_OK;
    }

    return pt_http_upstream_copy_header(r, u, h);
}
