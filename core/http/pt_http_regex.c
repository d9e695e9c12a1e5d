/*
 * pt_http_regex.c: regular expressions in the HTTP engine.
 *
 * A regex of a location, a server name, "rewrite" or "if" is compiled with
 * pt_http_regex_compile(), which also defines one variable per named
 * capture and keeps, in the core main conf, the largest number of captures
 * any regex has: every request's capture array is that long, so it is
 * allocated once per request, from its pool, on the first match.
 */

#include "pt_http.h"

/* The value of a named capture before any regex set it: not found. */
static pt_int_t
pt_http_regex_variable_unset(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    v->not_found = 1;

    return PT_OK;
}

pt_http_regex_t *
pt_http_regex_compile(pt_conf_t *cf, pt_regex_compile_t *rc)
{
    pt_str_t                   name;
    pt_uint_t                  i, capture;
    pt_int_t                   index;
    pt_http_regex_t           *re;
    pt_http_variable_t        *v;
    pt_http_core_main_conf_t  *cmcf;

    rc->pool = cf->pool;

    if (pt_regex_compile(rc) != PT_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, PT_STR_FMT, PT_STR_ARG(rc->err));
        return NULL;
    }

    re = pt_pcalloc(cf->pool, sizeof(pt_http_regex_t));
    if (re == NULL) {
        return NULL;
    }

    re->regex = rc->regex;
    re->ncaptures = rc->regex->captures;
    re->name = rc->pattern;

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);
    cmcf->ncaptures = pt_max(cmcf->ncaptures, re->ncaptures);

    re->nvariables = rc->regex->named_captures;

    if (re->nvariables == 0) {
        return re;
    }

    re->variables = pt_palloc(cf->pool,
                              re->nvariables * sizeof(pt_http_regex_variable_t));
    if (re->variables == NULL) {
        return NULL;
    }

    for (i = 0; i < re->nvariables; i++) {
        pt_regex_named_capture(rc->regex, i, &name, &capture);

        /* "the duplicate variable" when a built-in one has that name */
        v = pt_http_add_variable(cf, &name, PT_HTTP_VAR_CHANGEABLE);
        if (v == NULL) {
            return NULL;
        }

        if (v->get_handler == NULL) {
            v->get_handler = pt_http_regex_variable_unset;
        }

        index = pt_http_get_variable_index(cf, &name);
        if (index == PT_ERROR) {
            return NULL;
        }

        re->variables[i].capture = 2 * capture;
        re->variables[i].index = (pt_uint_t) index;
    }

    return re;
}

pt_int_t
pt_http_regex_exec(pt_http_request_t *r, pt_http_regex_t *re, pt_str_t *s)
{
    int                        *cap;
    u_char                      errstr[128], *p;
    pt_int_t                    rc;
    pt_uint_t                   i, n, len;
    pt_http_variable_value_t   *vv;
    pt_http_core_main_conf_t   *cmcf;

    len = 0;

    if (re->ncaptures) {
        cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
        len = 2 * (cmcf->ncaptures + 1);

        if (r->captures == NULL) {
            r->captures = pt_palloc(r->pool, len * sizeof(int));
            if (r->captures == NULL) {
                return PT_ERROR;
            }
        }
    }

    rc = pt_regex_exec(re->regex, s, r->captures, len);

    if (rc == PT_REGEX_NO_MATCHED) {
        return PT_DECLINED;
    }

    if (rc < 0) {
        p = pt_regex_strerror(rc, errstr, sizeof(errstr));
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                     "pcre2_match() failed: %.*s on \"" PT_STR_FMT "\" using \""
                     PT_STR_FMT "\"", (int) (p - errstr), errstr, PT_STR_ARG(*s),
                     PT_STR_ARG(re->name));
        return PT_ERROR;
    }

    if (re->ncaptures == 0) {
        /* the captures of an earlier match stay */
        return PT_OK;
    }

    r->ncaptures = 2 * (pt_uint_t) rc;
    r->captures_data = s->data;
    cap = r->captures;

    for (i = 0; i < re->nvariables; i++) {
        n = re->variables[i].capture;
        vv = &r->variables[re->variables[i].index];

        vv->valid = 1;
        vv->no_cacheable = 0;
        vv->not_found = 0;
        vv->escape = 0;

        if (n < r->ncaptures && cap[n] >= 0) {
            vv->len = cap[n + 1] - cap[n];
            vv->data = s->data + cap[n];
        } else {
            vv->len = 0;
            vv->data = s->data;
        }
    }

    return PT_OK;
}
