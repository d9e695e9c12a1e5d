/*
 * pt_http_upstream_xaccel.c: the X-Accel-* fields of an upstream's head,
 * as nginx 1.22 acts on them (each unless proxy_ignore_headers names it):
 *
 *   X-Accel-Redirect: /uri[?args] | @name    the upstream's body is not
 *       used; the request goes on, internally, at that uri (GET, a HEAD
 *       stays HEAD) or named location.  The classic use: an application
 *       checks access, then lets portico serve a file from an "internal"
 *       location.  Only Content-Type, Set-Cookie, Content-Disposition,
 *       Cache-Control, Expires and Accept-Ranges of the upstream's head
 *       are kept for the redirected response.
 *   X-Accel-Limit-Rate: bytes   the request's limit_rate from now on.
 *   X-Accel-Expires, X-Accel-Charset   accepted and not acted on: they
 *       set the cache validity and the response charset, and portico has
 *       neither proxy_cache nor the charset module.
 *
 * X-Accel-Buffering is handled in pt_http_upstream_headers.c.
 */

#include "pt_http.h"

/* The fields kept when the response is redirected (those nginx's upstream
 * header table marks "redirect"). */
static pt_str_t  pt_http_upstream_xa_kept[] = {
    pt_string("Content-Type"),
    pt_string("Set-Cookie"),
    pt_string("Content-Disposition"),
    pt_string("Cache-Control"),
    pt_string("Expires"),
    pt_string("Accept-Ranges"),
    pt_null_string
};

static pt_str_t  pt_http_upstream_xa_get = pt_string("GET");

static pt_uint_t
pt_http_upstream_xa_named(pt_http_header_t *h, const char *name, size_t len)
{
    return h->key.len == len
           && pt_strncasecmp(h->key.data, (u_char *) name, len) == 0;
}

/* X-Accel-Limit-Rate: a plain number of bytes per second (no k/m, as
 * nginx's atoi); anything else is ignored. */
static void
pt_http_upstream_xa_limit_rate(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    pt_int_t                  n;
    pt_http_core_loc_conf_t  *clcf;

    if (u->conf->ignore_headers & PT_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE) {
        return;
    }

    n = pt_atoi(h->value.data, h->value.len);

    if (n == PT_ERROR) {
        return;
    }

    if (!r->limit_rate_set) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
        r->limit_rate_after = clcf->limit_rate_after;
        r->limit_rate_set = 1;
    }

    r->limit_rate = (size_t) n;
}

/*
 * The redirect target, as nginx's parse_unsafe_uri: args split at "?",
 * %XX decoded, and an empty uri, a NUL or a ".." segment refused (the
 * value comes from another server and may reach the file system).  PT_OK or
 * PT_ERROR (unsafe, logged).
 */
static pt_int_t
pt_http_upstream_xa_uri(pt_http_request_t *r, pt_str_t *uri, pt_str_t *args)
{
    u_char    *p, *d, *last, *q;
    pt_int_t   n;

    q = pt_strlchr(uri->data, uri->data + uri->len, '?');

    if (q) {
        args->data = q + 1;
        args->len = uri->data + uri->len - args->data;
        uri->len = q - uri->data;
    }

    d = pt_pnalloc(r->pool, uri->len + 1);
    if (d == NULL) {
        return PT_ERROR;
    }

    p = uri->data;
    last = p + uri->len;
    q = d;

    while (p < last) {
        if (*p == '%' && last - p >= 3 && (n = pt_hextoi(p + 1, 2)) != PT_ERROR) {
            *q++ = (u_char) n;
            p += 3;
            continue;
        }
        *q++ = *p++;
    }

    uri->data = d;
    uri->len = q - d;

    for (p = d; p < q; p++) {
        if (*p == '\0'
            || (*p == '.' && p + 1 < q && p[1] == '.'
                && (p == d || p[-1] == '/') && (p + 2 == q || p[2] == '/')))
        {
            break;
        }
    }

    if (p == q && uri->len) {
        return PT_OK;
    }

    pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                 "unsafe URI \"" PT_STR_FMT "\" was detected", PT_STR_ARG(*uri));
    return PT_ERROR;
}

/* Copies the kept fields of the upstream's head (hidden or not, as
 * nginx) into headers_out. */
static pt_int_t
pt_http_upstream_xa_copy(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_uint_t          i;
    pt_str_t          *k;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return PT_OK;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = pt_http_upstream_xa_kept; k->len; k++) {
            if (pt_http_upstream_xa_named(&h[i], (char *) k->data, k->len)) {
                if (pt_http_upstream_copy_one(r, u, &h[i]) != PT_OK) {
                    return PT_ERROR;
                }
                break;
            }
        }
    }
}

/*
 * Ends the upstream part (its connection cached only when nothing of a
 * body is left to read on it) and restarts r at the field's target.
 * Always PT_DONE: r is taken care of.
 */
static pt_int_t
pt_http_upstream_xa_redirect(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h)
{
    pt_str_t  uri, args;

    if (u->input_filter_init(r) != PT_OK || u->length != 0
        || u->buffer.pos != u->buffer.last)
    {
        u->keepalive = 0;
    }

    pt_http_upstream_finalize_request(r, u, PT_DECLINED);

    if (pt_http_upstream_xa_copy(r, u) != PT_OK) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_DONE;
    }

    uri = h->value;
    pt_str_null(&args);

    if (uri.len && uri.data[0] == '@') {
        (void) pt_http_named_location(r, &uri);

    } else {
        if (pt_http_upstream_xa_uri(r, &uri, &args) != PT_OK) {
            pt_http_finalize_request(r, PT_HTTP_NOT_FOUND);
            return PT_DONE;
        }

        if (r->method != PT_HTTP_HEAD) {
            r->method = PT_HTTP_GET;
            r->method_name = pt_http_upstream_xa_get;
        }

        (void) pt_http_internal_redirect(r, &uri, &args);
    }

    /* the redirect took its own reference: give back the upstream's */
    pt_http_finalize_request(r, PT_DONE);

    return PT_DONE;
}

pt_int_t
pt_http_upstream_x_accel(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_uint_t          i;
    pt_list_part_t    *part;
    pt_http_header_t  *h, *redirect;

    redirect = NULL;

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

        if (h[i].key.len < sizeof("X-Accel-") - 1
            || pt_strncasecmp(h[i].key.data, (u_char *) "X-Accel-", 8) != 0)
        {
            continue;
        }

        if (pt_http_upstream_xa_named(&h[i], "X-Accel-Redirect", 16)) {
            if (redirect == NULL) {
                redirect = &h[i];
            }

        } else if (pt_http_upstream_xa_named(&h[i], "X-Accel-Limit-Rate", 18)) {
            pt_http_upstream_xa_limit_rate(r, u, &h[i]);
        }

        /* X-Accel-Expires, X-Accel-Charset: no cache, no charset module */
    }

    if (redirect == NULL
        || (u->conf->ignore_headers & PT_HTTP_UPSTREAM_IGN_XA_REDIRECT))
    {
        return PT_OK;
    }

    return pt_http_upstream_xa_redirect(r, u, redirect);
}
