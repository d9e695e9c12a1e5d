/*
 * pt_http_upstream_variables.c: the $upstream_* variables.
 *
 * Each try of a request leaves a state; the list variables print one value
 * per try, separated by ", ", and by " : " between the tries of two
 * groups (an error_page that proxied again), as nginx's do.  Times are
 * seconds with milliseconds ("0.012"); a phase a try never reached is "-".
 */

#include "pt_http.h"

#define PT_HTTP_UPSTREAM_VAR_RESPONSE_TIME   0
#define PT_HTTP_UPSTREAM_VAR_CONNECT_TIME    1
#define PT_HTTP_UPSTREAM_VAR_HEADER_TIME     2

#define PT_HTTP_UPSTREAM_VAR_RESPONSE_LENGTH 0
#define PT_HTTP_UPSTREAM_VAR_BYTES_RECEIVED  1
#define PT_HTTP_UPSTREAM_VAR_BYTES_SENT      2

static pt_int_t pt_http_upstream_addr_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_upstream_status_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_upstream_time_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_upstream_length_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_upstream_header_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_upstream_cookie_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);

typedef struct {
    const char               *name;
    pt_http_get_variable_pt   get;
    uintptr_t                 data;
    pt_uint_t                 flags;
} pt_http_upstream_var_t;

static pt_http_upstream_var_t  pt_http_upstream_vars[] = {
    { "upstream_addr", pt_http_upstream_addr_variable, 0,
      PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_status", pt_http_upstream_status_variable, 0,
      PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_response_time", pt_http_upstream_time_variable,
      PT_HTTP_UPSTREAM_VAR_RESPONSE_TIME, PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_connect_time", pt_http_upstream_time_variable,
      PT_HTTP_UPSTREAM_VAR_CONNECT_TIME, PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_header_time", pt_http_upstream_time_variable,
      PT_HTTP_UPSTREAM_VAR_HEADER_TIME, PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_response_length", pt_http_upstream_length_variable,
      PT_HTTP_UPSTREAM_VAR_RESPONSE_LENGTH, PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_bytes_received", pt_http_upstream_length_variable,
      PT_HTTP_UPSTREAM_VAR_BYTES_RECEIVED, PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_bytes_sent", pt_http_upstream_length_variable,
      PT_HTTP_UPSTREAM_VAR_BYTES_SENT, PT_HTTP_VAR_NOCACHEABLE },
    { "upstream_http_", pt_http_upstream_header_variable, 0,
      PT_HTTP_VAR_NOCACHEABLE|PT_HTTP_VAR_PREFIX },
    { "upstream_cookie_", pt_http_upstream_cookie_variable, 0,
      PT_HTTP_VAR_NOCACHEABLE|PT_HTTP_VAR_PREFIX },
    { NULL, NULL, 0, 0 }
};

pt_int_t
pt_http_upstream_variables_add(pt_conf_t *cf)
{
    pt_str_t                 name;
    pt_http_variable_t      *var;
    pt_http_upstream_var_t  *v;

    for (v = pt_http_upstream_vars; v->name; v++) {
        name.data = (u_char *) v->name;
        name.len = pt_strlen(v->name);

        var = pt_http_add_variable(cf, &name, v->flags);
        if (var == NULL) {
            return PT_ERROR;
        }

        var->get_handler = v->get;
        var->data = v->data;
    }

    return PT_OK;
}

static pt_int_t
pt_http_upstream_var_not_found(pt_http_variable_value_t *v)
{
    v->not_found = 1;
    return PT_OK;
}

/*
 * Formats one field of every state: fmt writes the value of state s at p
 * and returns the end, at most max bytes; "- " marks what a try lacks.
 * Separators as nginx: ", " between tries, " : " where a separator state
 * (peer == NULL) stands.
 */
typedef u_char *(*pt_http_upstream_fmt_pt)(u_char *p,
    pt_http_upstream_state_t *s, uintptr_t data);

static pt_int_t
pt_http_upstream_list_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    size_t max, pt_http_upstream_fmt_pt fmt, uintptr_t data)
{
    u_char                    *p;
    size_t                     len;
    pt_uint_t                  i, n;
    pt_http_upstream_state_t  *state;

    if (r->upstream_states == NULL || r->upstream_states->nelts == 0) {
        return pt_http_upstream_var_not_found(v);
    }

    n = r->upstream_states->nelts;
    state = r->upstream_states->elts;

    len = n * (max + 3);

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_ERROR;
    }

    v->data = p;
    i = 0;

    for ( ;; ) {
        if (state[i].peer) {
            p = fmt(p, &state[i], data);
        }

        if (++i == n) {
            break;
        }

        if (state[i].peer) {
            *p++ = ',';
            *p++ = ' ';

        } else {
            *p++ = ' ';
            *p++ = ':';
            *p++ = ' ';

            if (++i == n) {
                break;
            }
        }
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}

static u_char *
pt_http_upstream_fmt_addr(u_char *p, pt_http_upstream_state_t *s, uintptr_t data)
{
    size_t  len;

    len = pt_min(s->peer->len, PT_SOCKADDR_STRLEN);

    return pt_cpymem(p, s->peer->data, len);
}

static pt_int_t
pt_http_upstream_addr_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    return pt_http_upstream_list_variable(r, v, PT_SOCKADDR_STRLEN,
                                          pt_http_upstream_fmt_addr, 0);
}

static u_char *
pt_http_upstream_fmt_status(u_char *p, pt_http_upstream_state_t *s, uintptr_t data)
{
    if (s->status) {
        return pt_uint_to_str(p, s->status);
    }

    *p++ = '-';

    return p;
}

static pt_int_t
pt_http_upstream_status_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data)
{
    return pt_http_upstream_list_variable(r, v, 3, pt_http_upstream_fmt_status, 0);
}

static u_char *
pt_http_upstream_fmt_time(u_char *p, pt_http_upstream_state_t *s, uintptr_t data)
{
    pt_msec_t  ms;

    switch (data) {
    case PT_HTTP_UPSTREAM_VAR_CONNECT_TIME:
        ms = s->connect_time;
        break;
    case PT_HTTP_UPSTREAM_VAR_HEADER_TIME:
        ms = s->header_time;
        break;
    default:
        ms = s->response_time;
    }

    if (ms == (pt_msec_t) -1) {
        *p++ = '-';
        return p;
    }

    p = pt_uint_to_str(p, ms / 1000);
    *p++ = '.';
    *p++ = (u_char) ('0' + ms % 1000 / 100);
    *p++ = (u_char) ('0' + ms % 100 / 10);
    *p++ = (u_char) ('0' + ms % 10);

    return p;
}

static pt_int_t
pt_http_upstream_time_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    return pt_http_upstream_list_variable(r, v, PT_TIME_T_LEN + 4,
                                          pt_http_upstream_fmt_time, data);
}

static u_char *
pt_http_upstream_fmt_length(u_char *p, pt_http_upstream_state_t *s, uintptr_t data)
{
    off_t  n;

    switch (data) {
    case PT_HTTP_UPSTREAM_VAR_BYTES_RECEIVED:
        n = s->bytes_received;
        break;
    case PT_HTTP_UPSTREAM_VAR_BYTES_SENT:
        n = s->bytes_sent;
        break;
    default:
        n = s->response_length;
    }

    return pt_uint_to_str(p, (uint64_t) n);
}

static pt_int_t
pt_http_upstream_length_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    return pt_http_upstream_list_variable(r, v, PT_OFF_T_LEN,
                                          pt_http_upstream_fmt_length, data);
}

/* The name of a $upstream_http_NAME header, "-" standing for "_". */
static pt_uint_t
pt_http_upstream_header_match(pt_http_header_t *h, u_char *name, size_t len)
{
    size_t  i;
    u_char  ch;

    if (h->key.len != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = pt_tolower(h->key.data[i]);

        if (ch == '-') {
            ch = '_';
        }

        if (ch != name[i]) {
            return 0;
        }
    }

    return 1;
}

/* $upstream_http_NAME: the last try's header; repeated fields joined with
 * ", " (nginx 1.23+). */
static pt_int_t
pt_http_upstream_header_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char            *p, *name;
    size_t             len, total;
    pt_str_t          *var = (pt_str_t *) data;
    pt_uint_t          i, pass, found;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

    if (r->upstream == NULL || r->upstream->headers_in.headers.last == NULL) {
        return pt_http_upstream_var_not_found(v);
    }

    found = 0;
    name = var->data + sizeof("upstream_http_") - 1;
    len = var->len - (sizeof("upstream_http_") - 1);

    total = 0;
    p = NULL;

    /* pass 0 measures, pass 1 copies */
    for (pass = 0; pass < 2; pass++) {
        part = &r->upstream->headers_in.headers.part;
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

            if (!pt_http_upstream_header_match(&h[i], name, len)) {
                continue;
            }

            if (pass == 0) {
                total += (found ? 2 : 0) + h[i].value.len;
                found++;
                continue;
            }

            if (p != v->data) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = pt_cpymem(p, h[i].value.data, h[i].value.len);
        }

        if (pass == 0) {
            if (found == 0) {
                return pt_http_upstream_var_not_found(v);
            }

            v->data = pt_pnalloc(r->pool, total + 1);
            if (v->data == NULL) {
                return PT_ERROR;
            }

            p = v->data;
        }
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}

/* $upstream_cookie_NAME: the value of cookie NAME in the last try's
 * Set-Cookie fields. */
static pt_int_t
pt_http_upstream_cookie_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char            *p, *last, *name;
    size_t             len;
    pt_str_t          *var = (pt_str_t *) data;
    pt_uint_t          i;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

    if (r->upstream == NULL || r->upstream->headers_in.headers.last == NULL) {
        return pt_http_upstream_var_not_found(v);
    }

    name = var->data + sizeof("upstream_cookie_") - 1;
    len = var->len - (sizeof("upstream_cookie_") - 1);

    part = &r->upstream->headers_in.headers.part;
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

        if (h[i].key.len != sizeof("Set-Cookie") - 1
            || pt_strncasecmp(h[i].key.data, (u_char *) "Set-Cookie",
                              h[i].key.len) != 0)
        {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if ((size_t) (last - p) <= len || p[len] != '='
            || pt_strncasecmp(p, name, len) != 0)
        {
            continue;
        }

        p += len + 1;

        v->data = p;

        while (p < last && *p != ';') {
            p++;
        }

        v->len = p - v->data;
        v->valid = 1;
        v->no_cacheable = 0;
        v->not_found = 0;

        return PT_OK;
    }

    return pt_http_upstream_var_not_found(v);
}
