/*
 * pt_http_gzip_conf.c: the gzip directives and the tests a request passes
 * before its response is compressed.
 *
 *   gzip on|off;                       default off; http, server, location,
 *                                      if in location
 *   gzip_buffers NUMBER SIZE;          default 32 4k (128 KiB of pages)
 *   gzip_comp_level 1..9;              default 1
 *   gzip_disable REGEX|msie6 ...;      User-Agent regexes, caseless
 *   gzip_http_version 1.0|1.1;         default 1.1
 *   gzip_min_length LENGTH;            default 20, against Content-Length
 *   gzip_proxied off|expired|no-cache|no-store|private|no_last_modified|
 *                no_etag|auth|any ...; default off; requests with Via
 *   gzip_types TYPE ...|*;             default text/html, always included
 *   gzip_vary on|off;                  default off
 *
 * In nginx gzip_vary, gzip_http_version, gzip_proxied and gzip_disable
 * belong to the core module (gzip_static shares them); portico has no
 * gzip_static, so they live here with the others.
 */

#include "pt_http_gzip.h"

static char *pt_http_gzip_types(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_gzip_disable(pt_conf_t *cf, pt_command_t *cmd, void *conf);

#define PT_HTTP_GZIP_CONF  (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF)

static pt_conf_num_bounds_t  pt_http_gzip_comp_level_bounds = {
    pt_conf_check_num_bounds, 1, 9
};

static pt_conf_enum_t  pt_http_gzip_http_version[] = {
    { pt_string("1.0"), PT_HTTP_VERSION_10 },
    { pt_string("1.1"), PT_HTTP_VERSION_11 },
    { pt_null_string, 0 }
};

static pt_conf_bitmask_t  pt_http_gzip_proxied_mask[] = {
    { pt_string("off"), PT_HTTP_GZIP_PROXIED_OFF },
    { pt_string("expired"), PT_HTTP_GZIP_PROXIED_EXPIRED },
    { pt_string("no-cache"), PT_HTTP_GZIP_PROXIED_NO_CACHE },
    { pt_string("no-store"), PT_HTTP_GZIP_PROXIED_NO_STORE },
    { pt_string("private"), PT_HTTP_GZIP_PROXIED_PRIVATE },
    { pt_string("no_last_modified"), PT_HTTP_GZIP_PROXIED_NO_LM },
    { pt_string("no_etag"), PT_HTTP_GZIP_PROXIED_NO_ETAG },
    { pt_string("auth"), PT_HTTP_GZIP_PROXIED_AUTH },
    { pt_string("any"), PT_HTTP_GZIP_PROXIED_ANY },
    { pt_null_string, 0 }
};

pt_command_t  pt_http_gzip_commands[] = {

    { pt_string("gzip"),
      PT_HTTP_GZIP_CONF|PT_HTTP_LIF_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, enable), NULL },

    { pt_string("gzip_buffers"),
      PT_HTTP_GZIP_CONF|PT_CONF_TAKE2,
      pt_conf_set_bufs_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, bufs), NULL },

    { pt_string("gzip_types"),
      PT_HTTP_GZIP_CONF|PT_CONF_1MORE,
      pt_http_gzip_types, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("gzip_comp_level"),
      PT_HTTP_GZIP_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, level), &pt_http_gzip_comp_level_bounds },

    { pt_string("gzip_min_length"),
      PT_HTTP_GZIP_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, min_length), NULL },

    { pt_string("gzip_vary"),
      PT_HTTP_GZIP_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, vary), NULL },

    { pt_string("gzip_http_version"),
      PT_HTTP_GZIP_CONF|PT_CONF_TAKE1,
      pt_conf_set_enum_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, http_version), &pt_http_gzip_http_version },

    { pt_string("gzip_proxied"),
      PT_HTTP_GZIP_CONF|PT_CONF_1MORE,
      pt_conf_set_bitmask_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_gzip_conf_t, proxied), &pt_http_gzip_proxied_mask },

    { pt_string("gzip_disable"),
      PT_HTTP_GZIP_CONF|PT_CONF_1MORE,
      pt_http_gzip_disable, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

void *
pt_http_gzip_create_conf(pt_conf_t *cf)
{
    pt_http_gzip_conf_t  *conf;

    /* zeroed: bufs.num 0, proxied 0, disable and types NULL are "unset" */
    conf = pt_pcalloc(cf->pool, sizeof(pt_http_gzip_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = PT_CONF_UNSET;
    conf->vary = PT_CONF_UNSET;
    conf->level = PT_CONF_UNSET;
    conf->min_length = PT_CONF_UNSET_SIZE;
    conf->http_version = PT_CONF_UNSET_UINT;
    conf->disable_msie6 = PT_HTTP_GZIP_UNSET_MSIE6;
    conf->types_any = PT_CONF_UNSET;

    return conf;
}

/* The default gzip_types: text/html alone. */
static pt_int_t
pt_http_gzip_default_types(pt_conf_t *cf, pt_array_t **types)
{
    pt_str_t  *s;

    *types = pt_array_create(cf->pool, 4, sizeof(pt_str_t));
    if (*types == NULL) {
        return PT_ERROR;
    }

    s = pt_array_push(*types);
    if (s == NULL) {
        return PT_ERROR;
    }

    pt_str_set(s, "text/html");

    return PT_OK;
}

char *
pt_http_gzip_merge_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_gzip_conf_t  *prev = parent;
    pt_http_gzip_conf_t  *conf = child;

    pt_conf_merge_value(conf->enable, prev->enable, 0);
    pt_conf_merge_value(conf->vary, prev->vary, 0);
    pt_conf_merge_bufs_value(conf->bufs, prev->bufs, (128 * 1024) / pt_pagesize, pt_pagesize);
    pt_conf_merge_value(conf->level, prev->level, 1);
    pt_conf_merge_size_value(conf->min_length, prev->min_length, 20);
    pt_conf_merge_uint_value(conf->http_version, prev->http_version, PT_HTTP_VERSION_11);
    pt_conf_merge_bitmask_value(conf->proxied, prev->proxied,
                                PT_CONF_BITMASK_SET | PT_HTTP_GZIP_PROXIED_OFF);

    if (conf->disable == NULL) {
        conf->disable = prev->disable;
    }

    if (conf->disable_msie6 == PT_HTTP_GZIP_UNSET_MSIE6) {
        conf->disable_msie6 = (prev->disable_msie6 == PT_HTTP_GZIP_UNSET_MSIE6)
                              ? 0 : prev->disable_msie6;
    }

    /* "*" at a level, or types listed there, win over the parent's */
    if (conf->types_any == PT_CONF_UNSET && conf->types == NULL) {
        conf->types_any = prev->types_any;
        conf->types = prev->types;
    }

    if (conf->types_any == PT_CONF_UNSET) {
        conf->types_any = 0;
    }

    if (conf->types == NULL && pt_http_gzip_default_types(cf, &conf->types) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* gzip_types: as nginx's types setter: text/html is always in, a repeated
 * type is warned about, "*" means any. */
static char *
pt_http_gzip_types(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_gzip_conf_t  *gcf = conf;

    pt_str_t   *value, *type;
    pt_uint_t   i, n;

    if (gcf->types_any == 1) {
        return PT_CONF_OK;
    }

    if (gcf->types == NULL && pt_http_gzip_default_types(cf, &gcf->types) != PT_OK) {
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 1 && value[i].data[0] == '*') {
            gcf->types_any = 1;
            return PT_CONF_OK;
        }

        pt_strlow(value[i].data, value[i].data, value[i].len);

        type = gcf->types->elts;

        for (n = 0; n < gcf->types->nelts; n++) {
            if (type[n].len == value[i].len
                && pt_strncmp(type[n].data, value[i].data, value[i].len) == 0)
            {
                pt_conf_log_error(PT_LOG_WARN, cf, 0, "duplicate MIME type \"" PT_STR_FMT "\"",
                                  PT_STR_ARG(value[i]));
                goto next;
            }
        }

        type = pt_array_push(gcf->types);
        if (type == NULL) {
            return PT_CONF_ERROR;
        }

        *type = value[i];

    next:
        continue;
    }

    gcf->types_any = 0;

    return PT_CONF_OK;
}

/* gzip_disable: "msie6" is the parser's flag, anything else a caseless
 * regex; repeated directives add up. */
static char *
pt_http_gzip_disable(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_gzip_conf_t  *gcf = conf;

    pt_str_t            *value;
    pt_uint_t            i;
    pt_regex_t         **re;
    pt_regex_compile_t   rc;

    if (gcf->disable == NULL) {
        gcf->disable = pt_array_create(cf->pool, 2, sizeof(pt_regex_t *));
        if (gcf->disable == NULL) {
            return PT_CONF_ERROR;
        }
    }

    if (gcf->disable_msie6 == PT_HTTP_GZIP_UNSET_MSIE6) {
        gcf->disable_msie6 = 0;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 5 && pt_strncmp(value[i].data, "msie6", 5) == 0) {
            gcf->disable_msie6 = 1;
            continue;
        }

        pt_memzero(&rc, sizeof(pt_regex_compile_t));
        rc.pattern = value[i];
        rc.pool = cf->pool;
        rc.options = PT_REGEX_CASELESS;

        if (pt_regex_compile(&rc) != PT_OK) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, PT_STR_FMT, PT_STR_ARG(rc.err));
            return PT_CONF_ERROR;
        }

        re = pt_array_push(gcf->disable);
        if (re == NULL) {
            return PT_CONF_ERROR;
        }

        *re = rc.regex;
    }

    return PT_CONF_OK;
}

/* ---- the request tests ---- */

pt_uint_t
pt_http_gzip_type_ok(pt_http_request_t *r, pt_http_gzip_conf_t *conf)
{
    size_t      len;
    pt_str_t   *type;
    pt_uint_t   i;

    len = r->headers_out.content_type_len;

    if (len == 0) {
        return 0;
    }

    if (conf->types_any) {
        return 1;
    }

    type = conf->types->elts;

    for (i = 0; i < conf->types->nelts; i++) {
        if (type[i].len == len
            && pt_strncasecmp(type[i].data, r->headers_out.content_type.data, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}

/* Whether one of the Cache-Control fields lists directive (as a token). */
static pt_uint_t
pt_http_gzip_cache_control(pt_http_header_t *h, const char *directive)
{
    size_t   len;
    u_char  *p, *last, *start;

    len = pt_strlen(directive);

    for ( ; h; h = h->next) {
        if (h->hash == 0) {
            continue;
        }

        p = h->value.data;
        last = p + h->value.len;

        while (p < last) {
            while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
                p++;
            }

            start = p;

            while (p < last && *p != ',' && *p != '=' && *p != ' ' && *p != '\t') {
                p++;
            }

            if ((size_t) (p - start) == len
                && pt_strncasecmp(start, (u_char *) directive, len) == 0)
            {
                return 1;
            }

            while (p < last && *p != ',') {
                p++;
            }
        }
    }

    return 0;
}

/* gzip_proxied for a request that came through a proxy (it has Via): the
 * same decisions, in the same order, as nginx's. */
static pt_int_t
pt_http_gzip_proxied_ok(pt_http_request_t *r, pt_uint_t p)
{
    time_t             date, expires;
    pt_http_header_t  *e, *d;

    if (p & PT_HTTP_GZIP_PROXIED_OFF) {
        return PT_DECLINED;
    }

    if (p & PT_HTTP_GZIP_PROXIED_ANY) {
        return PT_OK;
    }

    if (r->headers_in.authorization && (p & PT_HTTP_GZIP_PROXIED_AUTH)) {
        return PT_OK;
    }

    e = r->headers_out.expires;

    if (e && e->hash) {
        if (!(p & PT_HTTP_GZIP_PROXIED_EXPIRED)) {
            return PT_DECLINED;
        }

        expires = pt_parse_http_time(e->value.data, e->value.len);
        if (expires == PT_ERROR) {
            return PT_DECLINED;
        }

        d = r->headers_out.date;

        if (d && d->hash) {
            date = pt_parse_http_time(d->value.data, d->value.len);
            if (date == PT_ERROR) {
                return PT_DECLINED;
            }

        } else {
            date = pt_time();
        }

        return expires < date ? PT_OK : PT_DECLINED;
    }

    if (r->headers_out.cache_control && r->headers_out.cache_control->hash) {
        if (((p & PT_HTTP_GZIP_PROXIED_NO_CACHE)
             && pt_http_gzip_cache_control(r->headers_out.cache_control, "no-cache"))
            || ((p & PT_HTTP_GZIP_PROXIED_NO_STORE)
                && pt_http_gzip_cache_control(r->headers_out.cache_control, "no-store"))
            || ((p & PT_HTTP_GZIP_PROXIED_PRIVATE)
                && pt_http_gzip_cache_control(r->headers_out.cache_control, "private")))
        {
            return PT_OK;
        }

        return PT_DECLINED;
    }

    /* nginx: without Expires and Cache-Control, only these two refuse */
    if ((p & PT_HTTP_GZIP_PROXIED_NO_LM) && r->headers_out.last_modified) {
        return PT_DECLINED;
    }

    if ((p & PT_HTTP_GZIP_PROXIED_NO_ETAG) && r->headers_out.etag) {
        return PT_DECLINED;
    }

    return PT_OK;
}

pt_int_t
pt_http_gzip_client_ok(pt_http_request_t *r, pt_http_gzip_conf_t *conf)
{
    pt_uint_t           i;
    pt_regex_t        **re;
    pt_http_header_t   *ae, *ua;

    ae = r->headers_in.accept_encoding;

    if (ae == NULL || pt_http_gzip_accept_q(ae->value.data, ae->value.data + ae->value.len) == 0) {
        return PT_DECLINED;
    }

    if (conf->disable_msie6 && r->headers_in.user_agent) {
        /* the parser leaves browser detection to those who need it */
        pt_http_detect_browser(r);

        if (r->headers_in.msie6) {
            return PT_DECLINED;
        }
    }

    if (r->http_version < conf->http_version) {
        return PT_DECLINED;
    }

    if (r->headers_in.via && pt_http_gzip_proxied_ok(r, conf->proxied) != PT_OK) {
        return PT_DECLINED;
    }

    if (conf->disable == NULL) {
        return PT_OK;
    }

    re = conf->disable->elts;

    for (ua = r->headers_in.user_agent; ua; ua = ua->next) {
        for (i = 0; i < conf->disable->nelts; i++) {
            if (pt_regex_exec(re[i], &ua->value, NULL, 0) >= 0) {
                return PT_DECLINED;
            }
        }
    }

    return PT_OK;
}
