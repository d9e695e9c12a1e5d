/*
 * pt_http_proxy_redirect.c: proxy_redirect, the rewriting of the Location
 * and Refresh fields of upstream responses.
 *
 *   proxy_redirect default;        (the default) proxy_pass's URL is
 *                                  replaced by the location's prefix
 *   proxy_redirect off;
 *   proxy_redirect FROM TO;        FROM at the start of the value becomes
 *                                  TO; both may hold variables
 *
 * Rules are tried in order, the first that matches applies; a level
 * without proxy_redirect inherits its parent's rules.  The comparison is
 * case-sensitive, as nginx's.
 */

#include "pt_http_proxy.h"

static pt_int_t
pt_http_proxy_compile(pt_conf_t *cf, pt_str_t *value, pt_http_complex_value_t *cv)
{
    pt_http_compile_complex_value_t  ccv;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;

    return pt_http_compile_complex_value(&ccv);
}

static pt_http_proxy_rewrite_t *
pt_http_proxy_redirect_add(pt_conf_t *cf, pt_http_proxy_loc_conf_t *plcf)
{
    pt_http_proxy_rewrite_t  *pr;

    if (plcf->redirects == NULL) {
        plcf->redirects = pt_array_create(cf->pool, 1, sizeof(pt_http_proxy_rewrite_t));
        if (plcf->redirects == NULL) {
            return NULL;
        }
    }

    pr = pt_array_push(plcf->redirects);
    if (pr == NULL) {
        return NULL;
    }

    pt_memzero(pr, sizeof(pt_http_proxy_rewrite_t));

    return pr;
}

/* "proxy_redirect default": proxy_pass's URL -> the location's prefix; a
 * URL without a URI part stands for "URL/" -> "/". */
static pt_int_t
pt_http_proxy_redirect_default(pt_conf_t *cf, pt_http_proxy_loc_conf_t *plcf)
{
    pt_str_t                  from, to;
    pt_http_proxy_rewrite_t  *pr;

    if (plcf->vars.uri.len) {
        from = plcf->url;
        to = plcf->location;

    } else {
        from.len = plcf->url.len + 1;
        from.data = pt_pnalloc(cf->pool, from.len);
        if (from.data == NULL) {
            return PT_ERROR;
        }

        pt_memcpy(from.data, plcf->url.data, plcf->url.len);
        from.data[plcf->url.len] = '/';
        pt_str_set(&to, "/");
    }

    pr = pt_http_proxy_redirect_add(cf, plcf);
    if (pr == NULL) {
        return PT_ERROR;
    }

    /* literal strings: no variables in either */
    pr->pattern.value = from;
    pr->replacement.value = to;

    return PT_OK;
}

char *
pt_http_proxy_redirect(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    pt_str_t                 *value;
    pt_http_proxy_rewrite_t  *pr;

    if (plcf->redirect == 0) {
        /* "off" came first at this level */
        return PT_CONF_OK;
    }

    plcf->redirect = 1;

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (pt_str_eq_lit(&value[1], "off")) {
            if (plcf->redirects) {
                return "is duplicate";
            }
            plcf->redirect = 0;
            plcf->redirects = NULL;
            return PT_CONF_OK;
        }

        if (!pt_str_eq_lit(&value[1], "default")) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"",
                              value[1].data);
            return PT_CONF_ERROR;
        }

        if (plcf->url_cv) {
            return "\"default\" cannot be used with \"proxy_pass\" "
                   "directive with variables";
        }

        if (plcf->url.data == NULL) {
            return "\"default\" should be placed after the \"proxy_pass\" directive";
        }

        return pt_http_proxy_redirect_default(cf, plcf) == PT_OK ? PT_CONF_OK
                                                                 : PT_CONF_ERROR;
    }

    if (value[1].len && value[1].data[0] == '~') {
        return "with a regular expression is not supported";
    }

    pr = pt_http_proxy_redirect_add(cf, plcf);
    if (pr == NULL) {
        return PT_CONF_ERROR;
    }

    if (pt_http_proxy_compile(cf, &value[1], &pr->pattern) != PT_OK
        || pt_http_proxy_compile(cf, &value[2], &pr->replacement) != PT_OK)
    {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

pt_int_t
pt_http_proxy_redirect_merge(pt_conf_t *cf, pt_http_proxy_loc_conf_t *conf,
    pt_http_proxy_loc_conf_t *prev)
{
    if (conf->redirect == PT_CONF_UNSET) {
        if (prev->redirect == PT_CONF_UNSET) {
            conf->redirect = 1;

        } else {
            conf->redirect = prev->redirect;
            conf->redirects = prev->redirects;
        }
    }

    if (conf->redirect && conf->redirects == NULL && conf->url.data
        && conf->url_cv == NULL)
    {
        return pt_http_proxy_redirect_default(cf, conf);
    }

    return PT_OK;
}

pt_int_t
pt_http_proxy_rewrite_redirect(pt_http_request_t *r, pt_http_header_t *h,
    size_t prefix)
{
    u_char                    *p;
    size_t                     len;
    pt_str_t                   pattern, replacement;
    pt_uint_t                  i;
    pt_http_proxy_rewrite_t   *pr;
    pt_http_proxy_loc_conf_t  *plcf;

    plcf = pt_http_get_module_loc_conf(r, pt_http_proxy_module);

    if (plcf->redirects == NULL) {
        return PT_DECLINED;
    }

    pr = plcf->redirects->elts;
    len = h->value.len - prefix;

    for (i = 0; i < plcf->redirects->nelts; i++) {

        if (pt_http_complex_value(r, &pr[i].pattern, &pattern) != PT_OK) {
            return PT_ERROR;
        }

        if (pattern.len > len
            || pt_memcmp(h->value.data + prefix, pattern.data, pattern.len) != 0)
        {
            continue;
        }

        if (pt_http_complex_value(r, &pr[i].replacement, &replacement) != PT_OK) {
            return PT_ERROR;
        }

        p = pt_pnalloc(r->pool, h->value.len - pattern.len + replacement.len);
        if (p == NULL) {
            return PT_ERROR;
        }

        pt_memcpy(p, h->value.data, prefix);
        pt_memcpy(p + prefix, replacement.data, replacement.len);
        pt_memcpy(p + prefix + replacement.len, h->value.data + prefix + pattern.len,
                  len - pattern.len);

        h->value.len = h->value.len - pattern.len + replacement.len;
        h->value.data = p;

        return PT_OK;
    }

    return PT_DECLINED;
}
