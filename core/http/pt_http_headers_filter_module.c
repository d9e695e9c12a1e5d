/*
 * pt_http_headers_filter_module.c: add_header and expires (nginx's
 * ngx_http_headers_module, which nginx always builds; so is this one).
 *
 *   add_header NAME VALUE [always];
 *   expires [modified] TIME | epoch | max | off;
 *
 * Both apply to responses with status 200, 201, 204, 206, 301, 302, 303,
 * 304, 307 or 308; "always" makes add_header apply to every status.  A
 * value (with variables) that comes out empty adds nothing.  add_header
 * is inherited from the enclosing level only when a level has none of its
 * own, as nginx does.  "add_header ETag ..." and "add_header
 * Last-Modified ..." replace the generated ones.
 *
 * expires sets Expires and "Cache-Control: max-age=N" (a negative time:
 * "no-cache"); "modified" counts from Last-Modified; "@15h30m" is a time
 * of day (the next one); epoch: 1 Jan 1970 00:00:01 and "no-cache"; max:
 * 31 Dec 2037 23:55:55 and ten years of max-age.
 */

#include "pt_http.h"

#define PT_HTTP_EXPIRES_OFF       0
#define PT_HTTP_EXPIRES_EPOCH     1
#define PT_HTTP_EXPIRES_MAX       2
#define PT_HTTP_EXPIRES_ACCESS    3
#define PT_HTTP_EXPIRES_MODIFIED  4
#define PT_HTTP_EXPIRES_DAILY     5
#define PT_HTTP_EXPIRES_UNSET     ((pt_uint_t) -1)

#define PT_HTTP_MAX_EXPIRES_TIME  315360000

typedef struct {
    pt_str_t                  name;
    pt_http_complex_value_t   value;
    pt_uint_t                 always;
} pt_http_header_val_t;

typedef struct {
    pt_uint_t                 expires;
    time_t                    expires_time;
    pt_array_t               *headers;      /* of pt_http_header_val_t */
} pt_http_headers_conf_t;

static pt_int_t pt_http_headers_filter_init(pt_conf_t *cf);
static void *pt_http_headers_create_conf(pt_conf_t *cf);
static char *pt_http_headers_merge_conf(pt_conf_t *cf, void *parent, void *child);
static char *pt_http_headers_expires(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_headers_add(pt_conf_t *cf, pt_command_t *cmd, void *conf);

#define PT_HTTP_HEADERS_CONF                                                \
    (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_HTTP_LIF_CONF)

static pt_command_t  pt_http_headers_commands[] = {

    { pt_string("expires"),
      PT_HTTP_HEADERS_CONF|PT_CONF_TAKE12,
      pt_http_headers_expires, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("add_header"),
      PT_HTTP_HEADERS_CONF|PT_CONF_TAKE23,
      pt_http_headers_add, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_headers_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_headers_filter_init,           /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_headers_create_conf,           /* create location configuration */
    pt_http_headers_merge_conf             /* merge location configuration */
};

pt_module_t  pt_http_headers_filter_module = {
    PT_MODULE_V1,
    &pt_http_headers_filter_module_ctx,
    pt_http_headers_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_http_output_header_filter_pt  pt_http_next_header_filter;

/* Points an existing response header at value, or adds it; *slot is the
 * headers_out pointer for that field (NULL: none). */
static pt_int_t
pt_http_headers_set(pt_http_request_t *r, pt_http_header_t **slot,
    const char *name, size_t name_len, u_char *value, size_t value_len)
{
    pt_http_header_t  *h;

    h = *slot;

    if (h == NULL || h->hash == 0) {
        h = pt_http_add_response_header(r, name, name_len, value, value_len);
        if (h == NULL) {
            return PT_ERROR;
        }
        *slot = h;
        return PT_OK;
    }

    h->value.data = value;
    h->value.len = value_len;

    return PT_OK;
}

/* Drops every Cache-Control but the one in slot. */
static void
pt_http_headers_drop_other_cache_control(pt_http_request_t *r, pt_http_header_t *keep)
{
    pt_uint_t          i;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

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

        if (&h[i] != keep && h[i].hash && h[i].key.len == sizeof("Cache-Control") - 1
            && pt_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                              sizeof("Cache-Control") - 1) == 0)
        {
            h[i].hash = 0;
        }
    }
}

static pt_int_t
pt_http_headers_set_expires(pt_http_request_t *r, pt_http_headers_conf_t *conf)
{
    size_t     len;
    time_t     now, expires, since, max_age;
    u_char    *p, *cc;
    struct tm  tm;

    now = pt_time();
    expires = conf->expires_time;

    switch (conf->expires) {
    case PT_HTTP_EXPIRES_EPOCH:
        expires = 1;
        max_age = -1;
        break;

    case PT_HTTP_EXPIRES_MAX:
        expires = 2145916555;       /* Thu, 31 Dec 2037 23:55:55 GMT */
        max_age = PT_HTTP_MAX_EXPIRES_TIME;
        break;

    case PT_HTTP_EXPIRES_DAILY:
        /* the next time of day "expires_time" seconds after midnight UTC */
        pt_gmtime(now, &tm);
        since = now - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
        expires = since + conf->expires_time;
        if (expires <= now) {
            expires += 86400;
        }
        max_age = expires - now;
        break;

    default:
        since = now;
        if (conf->expires == PT_HTTP_EXPIRES_MODIFIED
            && r->headers_out.last_modified_time != -1)
        {
            since = r->headers_out.last_modified_time;
        }
        expires = since + conf->expires_time;
        max_age = expires - now;
        break;
    }

    len = sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1;

    p = pt_pnalloc(r->pool, len + sizeof("max-age=") - 1 + PT_TIME_T_LEN);
    if (p == NULL) {
        return PT_ERROR;
    }

    (void) pt_http_time(p, expires);

    if (pt_http_headers_set(r, &r->headers_out.expires, "Expires", sizeof("Expires") - 1,
                            p, len) != PT_OK)
    {
        return PT_ERROR;
    }

    cc = p + len;

    if (max_age < 0) {
        cc = (u_char *) "no-cache";
        len = sizeof("no-cache") - 1;

    } else {
        len = pt_uint_to_str(pt_cpymem(cc, "max-age=", sizeof("max-age=") - 1),
                             (uint64_t) max_age) - cc;
    }

    if (pt_http_headers_set(r, &r->headers_out.cache_control, "Cache-Control",
                            sizeof("Cache-Control") - 1, cc, len) != PT_OK)
    {
        return PT_ERROR;
    }

    pt_http_headers_drop_other_cache_control(r, r->headers_out.cache_control);

    return PT_OK;
}

static pt_int_t
pt_http_headers_add_one(pt_http_request_t *r, pt_http_header_val_t *hv, pt_str_t *value)
{
    pt_http_header_t  *h;

    if (pt_str_eq_lit(&hv->name, "ETag")) {
        if (r->headers_out.etag) {
            r->headers_out.etag->hash = 0;
            r->headers_out.etag = NULL;
        }

    } else if (pt_str_eq_lit(&hv->name, "Last-Modified")) {
        r->headers_out.last_modified_time = -1;
        if (r->headers_out.last_modified) {
            r->headers_out.last_modified->hash = 0;
            r->headers_out.last_modified = NULL;
        }
    }

    h = pt_http_add_response_header(r, (const char *) hv->name.data, hv->name.len,
                                    value->data, value->len);
    if (h == NULL) {
        return PT_ERROR;
    }

    if (pt_str_eq_lit(&hv->name, "ETag")) {
        r->headers_out.etag = h;

    } else if (pt_str_eq_lit(&hv->name, "Last-Modified")) {
        r->headers_out.last_modified = h;

    } else if (pt_str_eq_lit(&hv->name, "Cache-Control")
               && r->headers_out.cache_control == NULL)
    {
        r->headers_out.cache_control = h;
    }

    return PT_OK;
}

static pt_int_t
pt_http_headers_filter(pt_http_request_t *r)
{
    pt_str_t                 value;
    pt_uint_t                i, safe_status;
    pt_http_header_val_t    *hv;
    pt_http_headers_conf_t  *conf;

    if (r != r->main) {
        return pt_http_next_header_filter(r);
    }

    conf = pt_http_get_module_loc_conf(r, pt_http_headers_filter_module);

    if (conf->expires == PT_HTTP_EXPIRES_OFF && conf->headers == NULL) {
        return pt_http_next_header_filter(r);
    }

    switch (r->headers_out.status) {
    case PT_HTTP_OK:
    case PT_HTTP_CREATED:
    case PT_HTTP_NO_CONTENT:
    case PT_HTTP_PARTIAL_CONTENT:
    case PT_HTTP_MOVED_PERMANENTLY:
    case PT_HTTP_MOVED_TEMPORARILY:
    case PT_HTTP_SEE_OTHER:
    case PT_HTTP_NOT_MODIFIED:
    case PT_HTTP_TEMPORARY_REDIRECT:
    case PT_HTTP_PERMANENT_REDIRECT:
        safe_status = 1;
        break;
    default:
        safe_status = 0;
        break;
    }

    if (conf->expires != PT_HTTP_EXPIRES_OFF && safe_status
        && pt_http_headers_set_expires(r, conf) != PT_OK)
    {
        return PT_ERROR;
    }

    if (conf->headers) {
        hv = conf->headers->elts;

        for (i = 0; i < conf->headers->nelts; i++) {
            if (!safe_status && !hv[i].always) {
                continue;
            }

            if (pt_http_complex_value(r, &hv[i].value, &value) != PT_OK) {
                return PT_ERROR;
            }

            if (value.len == 0) {
                continue;
            }

            /* a variable (a decoded $uri) must not split the header */
            if (pt_strlchr(value.data, value.data + value.len, CR)
                || pt_strlchr(value.data, value.data + value.len, LF))
            {
                pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                             "the value of the \"" PT_STR_FMT "\" header holds "
                             "a line break; not added", PT_STR_ARG(hv[i].name));
                continue;
            }

            if (pt_http_headers_add_one(r, &hv[i], &value) != PT_OK) {
                return PT_ERROR;
            }
        }
    }

    return pt_http_next_header_filter(r);
}

/* ---- configuration ---- */

static void *
pt_http_headers_create_conf(pt_conf_t *cf)
{
    pt_http_headers_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_headers_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->expires = PT_HTTP_EXPIRES_UNSET;
    conf->headers = NULL;

    return conf;
}

static char *
pt_http_headers_merge_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_headers_conf_t  *prev = parent;
    pt_http_headers_conf_t  *conf = child;

    if (conf->expires == PT_HTTP_EXPIRES_UNSET) {
        conf->expires = prev->expires;
        conf->expires_time = prev->expires_time;

        if (conf->expires == PT_HTTP_EXPIRES_UNSET) {
            conf->expires = PT_HTTP_EXPIRES_OFF;
        }
    }

    if (conf->headers == NULL) {
        conf->headers = prev->headers;
    }

    return PT_CONF_OK;
}

static char *
pt_http_headers_expires(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_headers_conf_t *hcf = conf;

    pt_str_t   *value, t;
    pt_int_t    n;
    pt_uint_t   minus, n_arg;

    if (hcf->expires != PT_HTTP_EXPIRES_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n_arg = 1;

    if (cf->args->nelts == 2) {
        hcf->expires = PT_HTTP_EXPIRES_ACCESS;

        if (pt_str_eq_lit(&value[1], "epoch")) {
            hcf->expires = PT_HTTP_EXPIRES_EPOCH;
            return PT_CONF_OK;
        }

        if (pt_str_eq_lit(&value[1], "max")) {
            hcf->expires = PT_HTTP_EXPIRES_MAX;
            return PT_CONF_OK;
        }

        if (pt_str_eq_lit(&value[1], "off")) {
            hcf->expires = PT_HTTP_EXPIRES_OFF;
            return PT_CONF_OK;
        }

    } else {
        if (!pt_str_eq_lit(&value[1], "modified")) {
            return "invalid value";
        }
        hcf->expires = PT_HTTP_EXPIRES_MODIFIED;
        n_arg = 2;
    }

    t = value[n_arg];
    minus = 0;

    if (t.len && t.data[0] == '@') {
        t.data++;
        t.len--;

        if (hcf->expires == PT_HTTP_EXPIRES_MODIFIED) {
            return "daily time cannot be used with \"modified\" parameter";
        }

        hcf->expires = PT_HTTP_EXPIRES_DAILY;

    } else if (t.len && t.data[0] == '+') {
        t.data++;
        t.len--;

    } else if (t.len && t.data[0] == '-') {
        t.data++;
        t.len--;
        minus = 1;
    }

    n = pt_parse_time(&t, 1);
    if (n == PT_ERROR) {
        return "invalid value";
    }

    if (hcf->expires == PT_HTTP_EXPIRES_DAILY && n >= 24 * 60 * 60) {
        return "daily time value must be less than 24 hours";
    }

    hcf->expires_time = minus ? -(time_t) n : (time_t) n;

    return PT_CONF_OK;
}

static char *
pt_http_headers_add(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_headers_conf_t *hcf = conf;

    pt_str_t                         *value;
    pt_http_header_val_t             *hv;
    pt_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (hcf->headers == NULL) {
        hcf->headers = pt_array_create(cf->pool, 1, sizeof(pt_http_header_val_t));
        if (hcf->headers == NULL) {
            return PT_CONF_ERROR;
        }
    }

    hv = pt_array_push(hcf->headers);
    if (hv == NULL) {
        return PT_CONF_ERROR;
    }

    hv->name = value[1];
    hv->always = 0;

    if (cf->args->nelts == 4) {
        if (!pt_str_eq_lit(&value[3], "always")) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[3]));
            return PT_CONF_ERROR;
        }
        hv->always = 1;
    }

    /* a field name is a token (RFC 9110 5.1); a value holds no CR or LF */
    if (value[1].len == 0
        || pt_strlchr(value[1].data, value[1].data + value[1].len, ':')
        || pt_strlchr(value[1].data, value[1].data + value[1].len, ' ')
        || pt_strlchr(value[1].data, value[1].data + value[1].len, CR)
        || pt_strlchr(value[1].data, value[1].data + value[1].len, LF)
        || pt_strlchr(value[2].data, value[2].data + value[2].len, CR)
        || pt_strlchr(value[2].data, value[2].data + value[2].len, LF))
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid header \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[1]));
        return PT_CONF_ERROR;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &hv->value;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static pt_int_t
pt_http_headers_filter_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_HEADERS, pt_http_headers_filter,
                                   &pt_http_next_header_filter, NULL, NULL);
}
