/*
 * pt_http_proxy_cookie.c: the Set-Cookie fields of upstream responses.
 *
 *   proxy_cookie_domain off | DOMAIN REPLACEMENT;    ~REGEX: caseless
 *   proxy_cookie_path off | PATH REPLACEMENT;        ~REGEX, ~*REGEX
 *   proxy_cookie_flags off | COOKIE [FLAG ...];      ~REGEX: caseless
 *
 * Each may be given several times at a level; the first rule that matches
 * applies.  A level with none inherits its parent's rules, "off" drops
 * them.  The rules themselves are proxy_redirect's
 * (pt_http_proxy_redirect.c): DOMAIN matches the whole Domain value
 * caseless, a leading dot of either aside; PATH is a case-sensitive prefix
 * of the Path value; a regex matches the whole value and replaces it.
 *
 * A field is split at ";" into "name[=value]" attributes, spaces around
 * each trimmed (nginx's parse).  When nothing matches the field is left as
 * it came; when something does, nginx writes the attributes back joined by
 * "; ", and so does portico, so the output is the same byte for byte.
 */

#include "pt_http_proxy.h"

/* proxy_cookie_flags: a set bit per keyword; where two of a group are
 * given, the order of the tests in pt_http_proxy_cookie_edit decides, as
 * nginx's. */
#define PT_HTTP_PROXY_COOKIE_SECURE_ON      0x0001
#define PT_HTTP_PROXY_COOKIE_SECURE_OFF     0x0002
#define PT_HTTP_PROXY_COOKIE_HTTPONLY_ON    0x0004
#define PT_HTTP_PROXY_COOKIE_HTTPONLY_OFF   0x0008
#define PT_HTTP_PROXY_COOKIE_SAMESITE_STRICT  0x0010
#define PT_HTTP_PROXY_COOKIE_SAMESITE_LAX   0x0020
#define PT_HTTP_PROXY_COOKIE_SAMESITE_NONE  0x0040
#define PT_HTTP_PROXY_COOKIE_SAMESITE_OFF   0x0080

#define PT_HTTP_PROXY_COOKIE_SAMESITE_ON                                      \
    (PT_HTTP_PROXY_COOKIE_SAMESITE_STRICT|PT_HTTP_PROXY_COOKIE_SAMESITE_LAX    \
     |PT_HTTP_PROXY_COOKIE_SAMESITE_NONE)

static pt_conf_bitmask_t  pt_http_proxy_cookie_flag_names[] = {
    { pt_string("secure"), PT_HTTP_PROXY_COOKIE_SECURE_ON },
    { pt_string("nosecure"), PT_HTTP_PROXY_COOKIE_SECURE_OFF },
    { pt_string("httponly"), PT_HTTP_PROXY_COOKIE_HTTPONLY_ON },
    { pt_string("nohttponly"), PT_HTTP_PROXY_COOKIE_HTTPONLY_OFF },
    { pt_string("samesite=strict"), PT_HTTP_PROXY_COOKIE_SAMESITE_STRICT },
    { pt_string("samesite=lax"), PT_HTTP_PROXY_COOKIE_SAMESITE_LAX },
    { pt_string("samesite=none"), PT_HTTP_PROXY_COOKIE_SAMESITE_NONE },
    { pt_string("nosamesite"), PT_HTTP_PROXY_COOKIE_SAMESITE_OFF },
    { pt_null_string, 0 }
};

/* One proxy_cookie_flags. */
typedef struct {
    pt_http_complex_value_t     cookie;         /* the name, caseless */
    pt_http_regex_t            *regex;          /* "~": not cookie */
    pt_http_complex_value_t     flags[3];       /* checked per request */
    pt_uint_t                   nflags;
} pt_http_proxy_cookie_flags_t;

/* Attributes of one field: room for this many on the stack, which a real
 * cookie never exceeds; a longer field gets pool memory. */
#define PT_HTTP_PROXY_COOKIE_ATTRS  32

/* ---- configuration ---- */

/* What proxy_cookie_domain and _path share: "off", or a rule into *rules.
 * nginx refuses "off" next to rules, and rules after "off", as
 * duplicates. */
static char *
pt_http_proxy_cookie_rule(pt_conf_t *cf, pt_array_t **rules,
    pt_http_proxy_rewrite_t **rule)
{
    pt_str_t  *value;

    *rule = NULL;

    if (*rules == NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (pt_str_eq_lit(&value[1], "off")) {
            if (*rules != PT_CONF_UNSET_PTR) {
                return "is duplicate";
            }

            *rules = NULL;
            return PT_CONF_OK;
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"", value[1].data);
        return PT_CONF_ERROR;
    }

    *rule = pt_http_proxy_rewrite_add(cf, rules);

    return *rule ? PT_CONF_OK : PT_CONF_ERROR;
}

char *
pt_http_proxy_cookie_domain(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    char                     *rv;
    pt_str_t                 *value, from;
    pt_http_proxy_rewrite_t  *pr;

    rv = pt_http_proxy_cookie_rule(cf, &plcf->cookie_domains, &pr);
    if (pr == NULL) {
        return rv;
    }

    value = cf->args->elts;
    from = value[1];

    if (from.len && from.data[0] == '~') {
        /* always caseless: "~*" is a "*" regex, an error, as nginx */
        from.data++;
        from.len--;

        if (pt_http_proxy_rewrite_regex(cf, pr, &from, 1) != PT_OK) {
            return PT_CONF_ERROR;
        }

    } else {
        if (from.len && from.data[0] == '.') {
            from.data++;
            from.len--;
        }

        pr->domain = 1;

        if (pt_http_proxy_rewrite_compile(cf, &from, &pr->pattern) != PT_OK) {
            return PT_CONF_ERROR;
        }
    }

    if (pt_http_proxy_rewrite_compile(cf, &value[2], &pr->replacement) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

char *
pt_http_proxy_cookie_path(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    char                     *rv;
    pt_str_t                 *value;
    pt_http_proxy_rewrite_t  *pr;

    rv = pt_http_proxy_cookie_rule(cf, &plcf->cookie_paths, &pr);
    if (pr == NULL) {
        return rv;
    }

    value = cf->args->elts;

    if (pt_http_proxy_rewrite_set(cf, pr, &value[1], &value[2]) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* The cookie name of a proxy_cookie_flags: "~regex" or a complex value. */
static pt_int_t
pt_http_proxy_cookie_flags_name(pt_conf_t *cf, pt_http_proxy_cookie_flags_t *pcf,
    pt_str_t *name)
{
    pt_str_t            re;
    pt_regex_compile_t  rc;

    if (name->len == 0 || name->data[0] != '~') {
        return pt_http_proxy_rewrite_compile(cf, name, &pcf->cookie);
    }

    re.data = name->data + 1;
    re.len = name->len - 1;

    pt_memzero(&rc, sizeof(pt_regex_compile_t));
    rc.pattern = re;
    rc.options = PT_REGEX_CASELESS;

    pcf->regex = pt_http_regex_compile(cf, &rc);

    return pcf->regex ? PT_OK : PT_ERROR;
}

char *
pt_http_proxy_cookie_flags(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    pt_str_t                      *value;
    pt_uint_t                      i;
    pt_http_proxy_cookie_flags_t  *pcf;

    if (plcf->cookie_flags == NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (pt_str_eq_lit(&value[1], "off")) {
            if (plcf->cookie_flags != PT_CONF_UNSET_PTR) {
                return "is duplicate";
            }

            plcf->cookie_flags = NULL;
            return PT_CONF_OK;
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"", value[1].data);
        return PT_CONF_ERROR;
    }

    if (plcf->cookie_flags == PT_CONF_UNSET_PTR) {
        plcf->cookie_flags = pt_array_create(cf->pool, 1,
                                             sizeof(pt_http_proxy_cookie_flags_t));
        if (plcf->cookie_flags == NULL) {
            return PT_CONF_ERROR;
        }
    }

    pcf = pt_array_push(plcf->cookie_flags);
    if (pcf == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(pcf, sizeof(pt_http_proxy_cookie_flags_t));

    if (pt_http_proxy_cookie_flags_name(cf, pcf, &value[1]) != PT_OK) {
        return PT_CONF_ERROR;
    }

    /* the flags may hold variables, so an unknown one is only ignored at
     * run time, as nginx (which accepts "secure bogus" at load) */
    for (i = 2; i < cf->args->nelts; i++) {
        if (pt_http_proxy_rewrite_compile(cf, &value[i], &pcf->flags[pcf->nflags++])
            != PT_OK)
        {
            return PT_CONF_ERROR;
        }
    }

    return PT_CONF_OK;
}

void
pt_http_proxy_cookie_merge(pt_http_proxy_loc_conf_t *conf, pt_http_proxy_loc_conf_t *prev)
{
    pt_conf_merge_ptr_value(conf->cookie_domains, prev->cookie_domains, NULL);
    pt_conf_merge_ptr_value(conf->cookie_paths, prev->cookie_paths, NULL);
    pt_conf_merge_ptr_value(conf->cookie_flags, prev->cookie_flags, NULL);
}

/* ---- per response ---- */

static pt_uint_t
pt_http_proxy_cookie_is(pt_str_t *s, const char *name, size_t len)
{
    return s->len == len && pt_strncasecmp(s->data, (u_char *) name, len) == 0;
}

/* Splits value at ";" into attrs (which has room for every one): names
 * and values trimmed of spaces; a value is NULL without "=". */
static pt_uint_t
pt_http_proxy_cookie_parse(pt_str_t *value, pt_keyval_t *attrs)
{
    u_char     *start, *end, *last, *p;
    pt_uint_t   n;

    start = value->data;
    end = value->data + value->len;

    for (n = 0; /* void */; n++) {
        last = memchr(start, ';', end - start);
        if (last == NULL) {
            last = end;
        }

        while (start < last && *start == ' ') {
            start++;
        }

        for (p = start; p < last && *p != '='; p++) { /* void */ }

        attrs[n].key.data = start;
        attrs[n].key.len = p - start;

        while (attrs[n].key.len && start[attrs[n].key.len - 1] == ' ') {
            attrs[n].key.len--;
        }

        if (p < last) {
            for (p++; p < last && *p == ' '; p++) { /* void */ }

            attrs[n].value.data = p;
            attrs[n].value.len = last - p;

            while (attrs[n].value.len && p[attrs[n].value.len - 1] == ' ') {
                attrs[n].value.len--;
            }

        } else {
            pt_str_null(&attrs[n].value);
        }

        if (last == end) {
            return n + 1;
        }

        start = last + 1;
    }
}

/* The flags of the first proxy_cookie_flags naming cookie, 0 if none. */
static pt_int_t
pt_http_proxy_cookie_flags_find(pt_http_request_t *r, pt_array_t *rules,
    pt_str_t *cookie, pt_uint_t *flags)
{
    pt_int_t                       rc;
    pt_str_t                       s;
    pt_uint_t                      i, k, m;
    pt_conf_bitmask_t             *name;
    pt_http_proxy_cookie_flags_t  *pcf;

    pcf = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        if (pcf[i].regex) {
            rc = pt_http_regex_exec(r, pcf[i].regex, cookie);
            if (rc == PT_ERROR) {
                return PT_ERROR;
            }
            if (rc == PT_OK) {
                break;
            }
            continue;
        }

        if (pt_http_complex_value(r, &pcf[i].cookie, &s) != PT_OK) {
            return PT_ERROR;
        }

        if (s.len == cookie->len && pt_strncasecmp(s.data, cookie->data, s.len) == 0) {
            break;
        }
    }

    *flags = 0;

    if (i == rules->nelts) {
        return PT_OK;
    }

    for (k = 0; k < pcf[i].nflags; k++) {
        if (pt_http_complex_value(r, &pcf[i].flags[k], &s) != PT_OK) {
            return PT_ERROR;
        }

        for (name = pt_http_proxy_cookie_flag_names; name->name.len; name++) {
            m = name->name.len;
            if (s.len == m && pt_strncasecmp(s.data, name->name.data, m) == 0) {
                *flags |= name->mask;
                break;
            }
        }
    }

    return PT_OK;
}

/* A SameSite attribute under an "on" flag: its value replaced (and its
 * name written "SameSite") unless it already says the same. */
static void
pt_http_proxy_cookie_samesite(pt_keyval_t *attr, pt_uint_t *flags)
{
    pt_uint_t   bit;
    pt_str_t    v;

    if (*flags & PT_HTTP_PROXY_COOKIE_SAMESITE_STRICT) {
        bit = PT_HTTP_PROXY_COOKIE_SAMESITE_STRICT;
        pt_str_set(&v, "Strict");

    } else if (*flags & PT_HTTP_PROXY_COOKIE_SAMESITE_LAX) {
        bit = PT_HTTP_PROXY_COOKIE_SAMESITE_LAX;
        pt_str_set(&v, "Lax");

    } else {
        bit = PT_HTTP_PROXY_COOKIE_SAMESITE_NONE;
        pt_str_set(&v, "None");
    }

    *flags &= ~bit;

    if (attr->value.len != v.len
        || pt_strncasecmp(attr->value.data, v.data, v.len) != 0)
    {
        pt_str_set(&attr->key, "SameSite");
        attr->value = v;
    }
}

/* Applies flags to the attributes: an existing one is kept (or, for
 * SameSite, corrected) or removed (key NULL); a missing "on" one is
 * appended, in nginx's order.  Returns the new count. */
static pt_uint_t
pt_http_proxy_cookie_edit(pt_keyval_t *attrs, pt_uint_t n, pt_uint_t flags)
{
    pt_uint_t     i;
    pt_str_t     *key;

    for (i = 1; i < n; i++) {
        key = &attrs[i].key;

        if (pt_http_proxy_cookie_is(key, "secure", 6)) {
            if (flags & PT_HTTP_PROXY_COOKIE_SECURE_ON) {
                flags &= ~PT_HTTP_PROXY_COOKIE_SECURE_ON;
            } else if (flags & PT_HTTP_PROXY_COOKIE_SECURE_OFF) {
                key->data = NULL;
            }

        } else if (pt_http_proxy_cookie_is(key, "httponly", 8)) {
            if (flags & PT_HTTP_PROXY_COOKIE_HTTPONLY_ON) {
                flags &= ~PT_HTTP_PROXY_COOKIE_HTTPONLY_ON;
            } else if (flags & PT_HTTP_PROXY_COOKIE_HTTPONLY_OFF) {
                key->data = NULL;
            }

        } else if (pt_http_proxy_cookie_is(key, "samesite", 8)) {
            if (flags & PT_HTTP_PROXY_COOKIE_SAMESITE_ON) {
                pt_http_proxy_cookie_samesite(&attrs[i], &flags);
            } else if (flags & PT_HTTP_PROXY_COOKIE_SAMESITE_OFF) {
                key->data = NULL;
            }
        }
    }

    if (flags & PT_HTTP_PROXY_COOKIE_SECURE_ON) {
        pt_str_set(&attrs[n].key, "Secure");
        pt_str_null(&attrs[n].value);
        n++;
    }

    if (flags & PT_HTTP_PROXY_COOKIE_HTTPONLY_ON) {
        pt_str_set(&attrs[n].key, "HttpOnly");
        pt_str_null(&attrs[n].value);
        n++;
    }

    if (flags & PT_HTTP_PROXY_COOKIE_SAMESITE_ON) {
        pt_str_set(&attrs[n].key, "SameSite");

        if (flags & PT_HTTP_PROXY_COOKIE_SAMESITE_STRICT) {
            pt_str_set(&attrs[n].value, "Strict");
        } else if (flags & PT_HTTP_PROXY_COOKIE_SAMESITE_LAX) {
            pt_str_set(&attrs[n].value, "Lax");
        } else {
            pt_str_set(&attrs[n].value, "None");
        }
        n++;
    }

    return n;
}

/* The attributes joined again by "; " into h's value. */
static pt_int_t
pt_http_proxy_cookie_write(pt_http_request_t *r, pt_http_header_t *h, pt_keyval_t *attrs,
    pt_uint_t n)
{
    u_char     *p;
    size_t      len;
    pt_uint_t   i;

    len = 0;

    for (i = 0; i < n; i++) {
        if (attrs[i].key.data == NULL) {
            continue;
        }
        len += (i ? 2 : 0) + attrs[i].key.len;
        if (attrs[i].value.data) {
            len += 1 + attrs[i].value.len;
        }
    }

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_ERROR;
    }

    h->value.data = p;
    h->value.len = len;

    for (i = 0; i < n; i++) {
        if (attrs[i].key.data == NULL) {
            continue;
        }
        if (i) {
            *p++ = ';';
            *p++ = ' ';
        }
        p = pt_cpymem(p, attrs[i].key.data, attrs[i].key.len);
        if (attrs[i].value.data) {
            *p++ = '=';
            p = pt_cpymem(p, attrs[i].value.data, attrs[i].value.len);
        }
    }

    return PT_OK;
}

/* Domain and Path through their rules: PT_OK if one changed. */
static pt_int_t
pt_http_proxy_cookie_attrs(pt_http_request_t *r, pt_http_proxy_loc_conf_t *plcf,
    pt_keyval_t *attrs, pt_uint_t n)
{
    pt_int_t     rc, rv;
    pt_uint_t    i;
    pt_array_t  *rules;

    rv = PT_DECLINED;

    for (i = 1; i < n; i++) {
        if (attrs[i].value.data == NULL) {
            continue;
        }

        if (pt_http_proxy_cookie_is(&attrs[i].key, "domain", 6)) {
            rules = plcf->cookie_domains;
        } else if (pt_http_proxy_cookie_is(&attrs[i].key, "path", 4)) {
            rules = plcf->cookie_paths;
        } else {
            continue;
        }

        if (rules == NULL) {
            continue;
        }

        rc = pt_http_proxy_rewrite_value(r, rules, &attrs[i].value, 0);
        if (rc == PT_ERROR) {
            return PT_ERROR;
        }
        if (rc == PT_OK) {
            rv = PT_OK;
        }
    }

    return rv;
}

pt_int_t
pt_http_proxy_rewrite_cookie(pt_http_request_t *r, pt_http_header_t *h)
{
    u_char                    *p, *end;
    pt_int_t                   rv;
    pt_uint_t                  n, flags;
    pt_keyval_t                stack[PT_HTTP_PROXY_COOKIE_ATTRS], *attrs;
    pt_http_proxy_loc_conf_t  *plcf;

    if (h->value.len == 0) {
        return PT_DECLINED;
    }

    plcf = pt_http_get_module_loc_conf(r, pt_http_proxy_module);

    /* one attribute per ";", and three that flags may append */
    n = 1 + 3;
    end = h->value.data + h->value.len;

    for (p = h->value.data; p < end; p++) {
        n += (*p == ';');
    }

    attrs = stack;

    if (n > PT_HTTP_PROXY_COOKIE_ATTRS) {
        attrs = pt_palloc(r->pool, n * sizeof(pt_keyval_t));
        if (attrs == NULL) {
            return PT_ERROR;
        }
    }

    n = pt_http_proxy_cookie_parse(&h->value, attrs);

    if (attrs[0].value.data == NULL) {
        /* "name=value" first, or it is no cookie nginx touches */
        return PT_DECLINED;
    }

    rv = pt_http_proxy_cookie_attrs(r, plcf, attrs, n);
    if (rv == PT_ERROR) {
        return PT_ERROR;
    }

    if (plcf->cookie_flags) {
        if (pt_http_proxy_cookie_flags_find(r, plcf->cookie_flags, &attrs[0].key, &flags)
            != PT_OK)
        {
            return PT_ERROR;
        }

        if (flags) {
            /* nginx writes the field back even if no flag changed it */
            n = pt_http_proxy_cookie_edit(attrs, n, flags);
            rv = PT_OK;
        }
    }

    if (rv != PT_OK) {
        return rv;
    }

    return pt_http_proxy_cookie_write(r, h, attrs, n);
}
