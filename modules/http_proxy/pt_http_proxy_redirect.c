/*
 * pt_http_proxy_redirect.c: proxy_redirect, the rewriting of the Location
 * and Refresh fields of upstream responses, and the rewrite rules it
 * shares with proxy_cookie_domain and proxy_cookie_path.
 *
 *   proxy_redirect default;        (the default) proxy_pass's URL is
 *                                  replaced by the location's prefix
 *   proxy_redirect off;
 *   proxy_redirect FROM TO;        FROM at the start of the value becomes
 *                                  TO; both may hold variables
 *   proxy_redirect ~REGEX TO;      a match (~* caseless) replaces the whole
 *                                  value by TO, which may use the captures
 *
 * Rules are tried in order, the first that matches applies; a level
 * without proxy_redirect inherits its parent's rules.  The FROM comparison
 * is case-sensitive, as nginx's.  A rule costs no allocation unless it
 * matches (or its FROM holds variables).
 */

#include "pt_http_proxy.h"

pt_int_t
pt_http_proxy_rewrite_compile(pt_conf_t *cf, pt_str_t *value, pt_http_complex_value_t *cv)
{
    pt_http_compile_complex_value_t  ccv;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;

    return pt_http_compile_complex_value(&ccv);
}

/* A new, zeroed rule at the end of *rules (created when NULL or unset). */
pt_http_proxy_rewrite_t *
pt_http_proxy_rewrite_add(pt_conf_t *cf, pt_array_t **rules)
{
    pt_http_proxy_rewrite_t  *pr;

    if (*rules == NULL || *rules == PT_CONF_UNSET_PTR) {
        *rules = pt_array_create(cf->pool, 1, sizeof(pt_http_proxy_rewrite_t));
        if (*rules == NULL) {
            return NULL;
        }
    }

    pr = pt_array_push(*rules);
    if (pr == NULL) {
        return NULL;
    }

    pt_memzero(pr, sizeof(pt_http_proxy_rewrite_t));

    return pr;
}

/* The "~" form: regex is the pattern without its "~" / "~*". */
pt_int_t
pt_http_proxy_rewrite_regex(pt_conf_t *cf, pt_http_proxy_rewrite_t *pr, pt_str_t *regex,
    pt_uint_t caseless)
{
    pt_regex_compile_t  rc;

    pt_memzero(&rc, sizeof(pt_regex_compile_t));
    rc.pattern = *regex;
    rc.options = caseless ? PT_REGEX_CASELESS : 0;

    pr->regex = pt_http_regex_compile(cf, &rc);

    return pr->regex ? PT_OK : PT_ERROR;
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

    pr = pt_http_proxy_rewrite_add(cf, &plcf->redirects);
    if (pr == NULL) {
        return PT_ERROR;
    }

    /* literal strings: no variables in either */
    pr->pattern.value = from;
    pr->replacement.value = to;

    return PT_OK;
}

/* proxy_redirect off | default (one argument). */
static char *
pt_http_proxy_redirect_keyword(pt_conf_t *cf, pt_http_proxy_loc_conf_t *plcf,
    pt_str_t *value)
{
    if (pt_str_eq_lit(value, "off")) {
        if (plcf->redirects) {
            return "is duplicate";
        }
        plcf->redirect = 0;
        return PT_CONF_OK;
    }

    if (!pt_str_eq_lit(value, "default")) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"", value->data);
        return PT_CONF_ERROR;
    }

    if (plcf->url_cv) {
        return "\"default\" cannot be used with \"proxy_pass\" "
               "directive with variables";
    }

    if (plcf->url.data == NULL) {
        return "\"default\" should be placed after the \"proxy_pass\" directive";
    }

    return pt_http_proxy_redirect_default(cf, plcf) == PT_OK ? PT_CONF_OK : PT_CONF_ERROR;
}

char *
pt_http_proxy_redirect(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    pt_str_t                 *value;
    pt_http_proxy_rewrite_t  *pr;

    if (plcf->redirect == 0) {
        /* "off" came first at this level: nginx refuses any other */
        return "is duplicate";
    }

    plcf->redirect = 1;

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        return pt_http_proxy_redirect_keyword(cf, plcf, &value[1]);
    }

    pr = pt_http_proxy_rewrite_add(cf, &plcf->redirects);
    if (pr == NULL) {
        return PT_CONF_ERROR;
    }

    if (pt_http_proxy_rewrite_set(cf, pr, &value[1], &value[2]) != PT_OK) {
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

/* value = its first prefix bytes, replacement, then what follows the len
 * bytes the rule matched; new memory only when the value is not replaced
 * whole. */
static pt_int_t
pt_http_proxy_rewrite_replace(pt_http_request_t *r, pt_str_t *value, size_t prefix,
    size_t len, pt_str_t *replacement)
{
    u_char  *p;
    size_t   n;

    if (prefix == 0 && len == value->len) {
        *value = *replacement;

        if (value->data == NULL) {
            /* an empty TO: still a value, "Domain=" */
            value->data = (u_char *) "";
        }

        return PT_OK;
    }

    n = value->len - len + replacement->len;

    p = pt_pnalloc(r->pool, n);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(p, value->data, prefix);

    if (replacement->len) {
        /* an empty complex value may have no data at all */
        pt_memcpy(p + prefix, replacement->data, replacement->len);
    }

    pt_memcpy(p + prefix + replacement->len, value->data + prefix + len,
              value->len - prefix - len);

    value->data = p;
    value->len = n;

    return PT_OK;
}

/* How many bytes after prefix rule pr matches (*len), or PT_DECLINED.  A
 * domain matches whole and caseless, a leading dot of the value aside (it
 * stays); a regex matches the whole rest of the value. */
static pt_int_t
pt_http_proxy_rewrite_match(pt_http_request_t *r, pt_http_proxy_rewrite_t *pr,
    pt_str_t *value, size_t *prefix, size_t *len)
{
    u_char    *p;
    size_t     rest;
    pt_str_t   s;

    p = value->data + *prefix;
    rest = value->len - *prefix;

    if (pr->regex) {
        s.data = p;
        s.len = rest;
        *len = rest;

        /* a failed match is logged and counts as none, as nginx */
        return pt_http_regex_exec(r, pr->regex, &s) == PT_OK ? PT_OK : PT_DECLINED;
    }

    if (pt_http_complex_value(r, &pr->pattern, &s) != PT_OK) {
        return PT_ERROR;
    }

    if (pr->domain) {
        if (rest && p[0] == '.') {
            p++;
            rest--;
            (*prefix)++;
        }

        if (s.len != rest || pt_strncasecmp(s.data, p, rest) != 0) {
            return PT_DECLINED;
        }

        *len = rest;
        return PT_OK;
    }

    if (s.len > rest || (s.len && pt_memcmp(p, s.data, s.len) != 0)) {
        return PT_DECLINED;
    }

    *len = s.len;

    return PT_OK;
}

pt_int_t
pt_http_proxy_rewrite_value(pt_http_request_t *r, pt_array_t *rules, pt_str_t *value,
    size_t prefix)
{
    size_t                    at, len;
    pt_int_t                  rc;
    pt_str_t                  replacement;
    pt_uint_t                 i;
    pt_http_proxy_rewrite_t  *pr;

    pr = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        at = prefix;

        rc = pt_http_proxy_rewrite_match(r, &pr[i], value, &at, &len);

        if (rc == PT_DECLINED) {
            continue;
        }

        if (rc != PT_OK
            || pt_http_complex_value(r, &pr[i].replacement, &replacement) != PT_OK)
        {
            return PT_ERROR;
        }

        return pt_http_proxy_rewrite_replace(r, value, at, len, &replacement);
    }

    return PT_DECLINED;
}

pt_int_t
pt_http_proxy_rewrite_redirect(pt_http_request_t *r, pt_http_header_t *h,
    size_t prefix)
{
    pt_http_proxy_loc_conf_t  *plcf;

    plcf = pt_http_get_module_loc_conf(r, pt_http_proxy_module);

    if (plcf->redirects == NULL) {
        return PT_DECLINED;
    }

    return pt_http_proxy_rewrite_value(r, plcf->redirects, &h->value, prefix);
}

/* FROM and TO of a rule: FROM "~regex" (case-sensitive), "~*regex", or a
 * complex value; TO a complex value (captures usable with a regex). */
pt_int_t
pt_http_proxy_rewrite_set(pt_conf_t *cf, pt_http_proxy_rewrite_t *pr,
    pt_str_t *from_arg, pt_str_t *to)
{
    pt_str_t   from;
    pt_uint_t  caseless;

    from = *from_arg;

    if (from.len && from.data[0] == '~') {
        from.data++;
        from.len--;

        caseless = (from.len && from.data[0] == '*');
        if (caseless) {
            from.data++;
            from.len--;
        }

        if (pt_http_proxy_rewrite_regex(cf, pr, &from, caseless) != PT_OK) {
            return PT_ERROR;
        }

    } else if (pt_http_proxy_rewrite_compile(cf, &from, &pr->pattern) != PT_OK) {
        return PT_ERROR;
    }

    return pt_http_proxy_rewrite_compile(cf, to, &pr->replacement);
}
