/*
 * pt_http_location.c: locations: the "location", "internal" and
 * "limit_except" directives, the lookup tables built after parsing, the
 * search for a request's location, and internal redirects (to a uri or to
 * a named location).
 *
 * The search follows nginx at every level of nesting:
 *
 *   1. an exact location ("= /x") equal to the uri is taken at once;
 *   2. otherwise the longest prefix location is remembered, and its nested
 *      locations are searched the same way;
 *   3. then, unless that prefix location has "^~", the regex locations of
 *      the level ("~", "~*") are tried in the order they appear; the first
 *      that matches is taken (its nested locations are searched too) and
 *      its captures stay in the request;
 *   4. else the remembered prefix location stands.
 *
 * The lookup tables of a level: the exact locations sorted by name (a
 * binary search), the prefix locations sorted by name, each with the index
 * of its "parent", the longest other prefix location that is a prefix of
 * its name.  The last name that sorts at or before the uri is either a
 * prefix of the uri, and then the longest one, or shares with the uri only
 * prefixes that are also prefixes of itself; so the search is a binary
 * search and then a walk up the parent chain, which is as long as the
 * nesting of the names themselves (rarely more than two or three).
 */

#include "pt_http.h"

/* ---- the "location" directive ---- */

/* Compiles the regex of "location ~ RE" / "~* RE". */
static pt_int_t
pt_http_location_regex(pt_conf_t *cf, pt_http_core_loc_conf_t *clcf,
    pt_str_t *pattern, pt_uint_t caseless)
{
    pt_regex_compile_t  rc;

    pt_memzero(&rc, sizeof(pt_regex_compile_t));
    rc.pattern = *pattern;
    rc.options = caseless ? PT_REGEX_CASELESS : 0;

    clcf->regex = pt_http_regex_compile(cf, &rc);
    if (clcf->regex == NULL) {
        return PT_ERROR;
    }

    clcf->name = *pattern;

    return PT_OK;
}

/* Splits "location [modifier] uri" (the modifier may also be glued to the
 * uri: "=/x", "^~/x", "~\.php$", "~*\.PNG$") into clcf's name and flags. */
static char *
pt_http_location_name(pt_conf_t *cf, pt_http_core_loc_conf_t *clcf)
{
    pt_str_t  *value, mod, name;

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        mod = value[1];
        name = value[2];

        if (pt_str_eq_lit(&mod, "=")) {
            clcf->exact_match = 1;

        } else if (pt_str_eq_lit(&mod, "^~")) {
            clcf->noregex = 1;

        } else if (pt_str_eq_lit(&mod, "~") || pt_str_eq_lit(&mod, "~*")) {
            return pt_http_location_regex(cf, clcf, &name, mod.len == 2) == PT_OK
                   ? PT_CONF_OK : PT_CONF_ERROR;

        } else {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "invalid location modifier \"" PT_STR_FMT "\"",
                              PT_STR_ARG(mod));
            return PT_CONF_ERROR;
        }

    } else {
        name = value[1];

        if (name.len && name.data[0] == '=') {
            clcf->exact_match = 1;
            name.data++;
            name.len--;

        } else if (name.len > 1 && name.data[0] == '^' && name.data[1] == '~') {
            clcf->noregex = 1;
            name.data += 2;
            name.len -= 2;

        } else if (name.len && name.data[0] == '~') {
            name.data++;
            name.len--;

            if (name.len && name.data[0] == '*') {
                name.data++;
                name.len--;
                return pt_http_location_regex(cf, clcf, &name, 1) == PT_OK
                       ? PT_CONF_OK : PT_CONF_ERROR;
            }

            return pt_http_location_regex(cf, clcf, &name, 0) == PT_OK
                   ? PT_CONF_OK : PT_CONF_ERROR;

        } else if (name.len && name.data[0] == '@') {
            clcf->named = 1;
        }
    }

    clcf->name = name;

    return PT_CONF_OK;
}

/* The nesting rules of nginx: nothing inside an exact or a named location,
 * named locations only at the server level, and a prefix location inside
 * another must extend its name. */
static char *
pt_http_location_check_nested(pt_conf_t *cf, pt_http_core_loc_conf_t *clcf,
    pt_http_core_loc_conf_t *pclcf)
{
    if (pclcf->exact_match) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "location \"" PT_STR_FMT "\" cannot be inside "
                          "the exact location \"" PT_STR_FMT "\"",
                          PT_STR_ARG(clcf->name), PT_STR_ARG(pclcf->name));
        return PT_CONF_ERROR;
    }

    if (pclcf->named) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "location \"" PT_STR_FMT "\" cannot be inside "
                          "the named location \"" PT_STR_FMT "\"",
                          PT_STR_ARG(clcf->name), PT_STR_ARG(pclcf->name));
        return PT_CONF_ERROR;
    }

    if (clcf->named) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "named location \"" PT_STR_FMT "\" can be "
                          "on the server level only", PT_STR_ARG(clcf->name));
        return PT_CONF_ERROR;
    }

    if (clcf->regex == NULL
        && (clcf->name.len < pclcf->name.len
            || pt_memcmp(clcf->name.data, pclcf->name.data, pclcf->name.len) != 0))
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "location \"" PT_STR_FMT "\" is outside "
                          "location \"" PT_STR_FMT "\"",
                          PT_STR_ARG(clcf->name), PT_STR_ARG(pclcf->name));
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

char *
pt_http_core_location(pt_conf_t *cf, pt_command_t *cmd, void *dummy)
{
    char                     *rv;
    pt_conf_t                 pcf;
    pt_http_conf_ctx_t       *ctx, *pctx;
    pt_http_core_loc_conf_t  *clcf, *pclcf;

    ctx = pt_http_core_create_block_ctx(cf, 0);
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    clcf = ctx->loc_conf[pt_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    if (pt_http_location_name(cf, clcf) != PT_CONF_OK) {
        return PT_CONF_ERROR;
    }

    pctx = cf->ctx;
    pclcf = pctx->loc_conf[pt_http_core_module.ctx_index];

    if (cf->cmd_type == PT_HTTP_LOC_CONF
        && pt_http_location_check_nested(cf, clcf, pclcf) != PT_CONF_OK)
    {
        return PT_CONF_ERROR;
    }

    if (pt_http_add_location(cf, &pclcf->locations, clcf) != PT_OK) {
        return PT_CONF_ERROR;
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = PT_HTTP_LOC_CONF;

    rv = pt_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}

char *
pt_http_core_internal(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t  *clcf = conf;

    if (clcf->internal) {
        return "is duplicate";
    }

    clcf->internal = 1;

    return PT_CONF_OK;
}

/* ---- limit_except ---- */

/* The methods "limit_except" names, as nginx's list: TRACE and CONNECT,
 * which nginx refuses before any location, are not among them. */
static pt_conf_bitmask_t  pt_http_limit_except_methods[] = {
    { pt_string("GET"), PT_HTTP_GET },
    { pt_string("HEAD"), PT_HTTP_HEAD },
    { pt_string("POST"), PT_HTTP_POST },
    { pt_string("PUT"), PT_HTTP_PUT },
    { pt_string("DELETE"), PT_HTTP_DELETE },
    { pt_string("MKCOL"), PT_HTTP_MKCOL },
    { pt_string("COPY"), PT_HTTP_COPY },
    { pt_string("MOVE"), PT_HTTP_MOVE },
    { pt_string("OPTIONS"), PT_HTTP_OPTIONS },
    { pt_string("PROPFIND"), PT_HTTP_PROPFIND },
    { pt_string("PROPPATCH"), PT_HTTP_PROPPATCH },
    { pt_string("LOCK"), PT_HTTP_LOCK },
    { pt_string("UNLOCK"), PT_HTTP_UNLOCK },
    { pt_string("PATCH"), PT_HTTP_PATCH },
    { pt_null_string, 0 }
};

/* The mask of the methods the block applies to: every method (unknown ones
 * too) but the listed ones, and HEAD goes with GET. */
static char *
pt_http_limit_except_mask(pt_conf_t *cf, uint32_t *mask)
{
    pt_str_t           *value;
    pt_uint_t           i;
    pt_conf_bitmask_t  *m;

    value = cf->args->elts;
    *mask = 0xffffffff;

    for (i = 1; i < cf->args->nelts; i++) {
        for (m = pt_http_limit_except_methods; m->name.len; m++) {
            if (m->name.len == value[i].len
                && pt_strncasecmp(m->name.data, value[i].data, value[i].len) == 0)
            {
                break;
            }
        }

        if (m->name.len == 0) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid method \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[i]));
            return PT_CONF_ERROR;
        }

        *mask &= ~(uint32_t) m->mask;
    }

    if (!(*mask & PT_HTTP_GET)) {
        *mask &= ~(uint32_t) PT_HTTP_HEAD;
    }

    return PT_CONF_OK;
}

/*
 * "limit_except METHOD ... { ... }": a nameless location inside the
 * current one, merged from it like the block of "if" and never searched;
 * pt_http_update_location_config() switches a request whose method is not
 * listed to it.  Only directives marked PT_HTTP_LMT_CONF are allowed in it
 * (allow, deny, access_log, proxy_pass).
 */
char *
pt_http_core_limit_except(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t *pclcf = conf;

    char                     *rv;
    pt_conf_t                 pcf;
    pt_http_conf_ctx_t       *ctx;
    pt_http_core_loc_conf_t  *clcf;

    if (pclcf->limit_except_loc_conf) {
        return "is duplicate";
    }

    if (pt_http_limit_except_mask(cf, &pclcf->limit_except) != PT_CONF_OK) {
        return PT_CONF_ERROR;
    }

    ctx = pt_http_core_create_block_ctx(cf, 0);
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    clcf = ctx->loc_conf[pt_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->name = pclcf->name;
    clcf->noname = 1;
    clcf->lmt_excpt = 1;

    pclcf->limit_except_loc_conf = ctx->loc_conf;

    if (pt_http_add_location(cf, &pclcf->locations, clcf) != PT_OK) {
        return PT_CONF_ERROR;
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = PT_HTTP_LMT_CONF;

    rv = pt_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}

/* ---- the lookup tables ---- */

/* memcmp order, a shorter name first when one is a prefix of the other. */
static int
pt_http_location_cmp_name(pt_str_t *a, u_char *b, size_t blen)
{
    int  rc;

    rc = pt_memcmp(a->data, b, pt_min(a->len, blen));

    if (rc) {
        return rc;
    }

    return (a->len > blen) - (a->len < blen);
}

static int
pt_http_location_cmp(const void *one, const void *two)
{
    pt_http_core_loc_conf_t  *a, *b;

    a = *(pt_http_core_loc_conf_t **) one;
    b = *(pt_http_core_loc_conf_t **) two;

    return pt_http_location_cmp_name(&a->name, b->name.data, b->name.len);
}

/* The counts of one level's locations by kind. */
typedef struct {
    pt_uint_t   exact;
    pt_uint_t   prefix;
    pt_uint_t   regex;
    pt_uint_t   named;
} pt_http_location_counts_t;

static pt_http_core_loc_conf_t **
pt_http_location_array(pt_conf_t *cf, pt_uint_t n)
{
    /* NULL-terminated, for the regex and named lists */
    return pt_pcalloc(cf->pool, (n + 1) * sizeof(pt_http_core_loc_conf_t *));
}

/* Sorts a level's exact or prefix list and refuses duplicate names. */
static pt_int_t
pt_http_location_sort(pt_conf_t *cf, pt_http_core_loc_conf_t **list, pt_uint_t n)
{
    pt_uint_t                 i;
    pt_http_core_loc_conf_t  *clcf;

    qsort(list, n, sizeof(pt_http_core_loc_conf_t *), pt_http_location_cmp);

    for (i = 1; i < n; i++) {
        clcf = list[i];

        if (pt_http_location_cmp_name(&clcf->name, list[i - 1]->name.data,
                                      list[i - 1]->name.len) == 0)
        {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "duplicate location \"" PT_STR_FMT "\"",
                              PT_STR_ARG(clcf->name));
            return PT_ERROR;
        }
    }

    return PT_OK;
}

/* parents[i]: the longest prefix location of the sorted list that is a
 * prefix of list[i]'s name.  A stack walk: the prefixes of a name that are
 * in the list come before it, and every name between a prefix and the
 * name shares that prefix. */
static pt_int_t *
pt_http_location_parents(pt_conf_t *cf, pt_http_core_loc_conf_t **list, pt_uint_t n)
{
    pt_int_t                 *parents, *stack, top;
    pt_uint_t                 i;
    pt_str_t                 *name, *p;

    parents = pt_palloc(cf->pool, n * sizeof(pt_int_t));
    stack = pt_palloc(cf->temp_pool, n * sizeof(pt_int_t));

    if (parents == NULL || stack == NULL) {
        return NULL;
    }

    top = -1;

    for (i = 0; i < n; i++) {
        name = &list[i]->name;

        while (top >= 0) {
            p = &list[stack[top]]->name;

            if (p->len <= name->len && pt_memcmp(p->data, name->data, p->len) == 0) {
                break;
            }

            top--;
        }

        parents[i] = (top >= 0) ? stack[top] : -1;
        stack[++top] = (pt_int_t) i;
    }

    return parents;
}

/* Puts the locations of one level's queue into the arrays of pclcf. */
static pt_int_t
pt_http_location_fill(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_core_loc_conf_t *pclcf, pt_http_location_counts_t *n)
{
    pt_uint_t                  ie, ip, ir, in;
    pt_queue_t                *q;
    pt_http_core_loc_conf_t   *clcf, **exact, **prefix, **regex, **named;

    exact = pt_http_location_array(cf, n->exact);
    prefix = pt_http_location_array(cf, n->prefix);
    regex = n->regex ? pt_http_location_array(cf, n->regex) : NULL;
    named = n->named ? pt_http_location_array(cf, n->named) : NULL;

    if (exact == NULL || prefix == NULL || (n->regex && regex == NULL)
        || (n->named && named == NULL))
    {
        return PT_ERROR;
    }

    ie = ip = ir = in = 0;

    for (q = pt_queue_head(pclcf->locations);
         q != pt_queue_sentinel(pclcf->locations);
         q = pt_queue_next(q))
    {
        clcf = ((pt_http_location_queue_t *) q)->clcf;

        if (clcf->noname) {
            continue;
        } else if (clcf->named) {
            named[in++] = clcf;
        } else if (clcf->regex) {
            regex[ir++] = clcf;
        } else if (clcf->exact_match) {
            exact[ie++] = clcf;
        } else {
            prefix[ip++] = clcf;
        }
    }

    if (pt_http_location_sort(cf, exact, ie) != PT_OK
        || pt_http_location_sort(cf, prefix, ip) != PT_OK
        || (named && pt_http_location_sort(cf, named, in) != PT_OK))
    {
        return PT_ERROR;
    }

    pclcf->exact_locations = exact;
    pclcf->nexact_locations = ie;
    pclcf->static_locations = prefix;
    pclcf->nstatic_locations = ip;
    pclcf->regex_locations = regex;

    if (ip) {
        pclcf->static_parents = pt_http_location_parents(cf, prefix, ip);
        if (pclcf->static_parents == NULL) {
            return PT_ERROR;
        }
    }

    if (named) {
        cscf->named_locations = named;
    }

    return PT_OK;
}

pt_int_t
pt_http_init_locations(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_core_loc_conf_t *pclcf)
{
    pt_queue_t                 *q;
    pt_http_core_loc_conf_t    *clcf;
    pt_http_location_counts_t   n;

    if (pclcf->locations == NULL) {
        return PT_OK;
    }

    pt_memzero(&n, sizeof(pt_http_location_counts_t));

    for (q = pt_queue_head(pclcf->locations);
         q != pt_queue_sentinel(pclcf->locations);
         q = pt_queue_next(q))
    {
        clcf = ((pt_http_location_queue_t *) q)->clcf;

        /* the blocks of "if" are merged like locations, never searched */
        if (clcf->noname) {
            continue;
        }

        if (clcf->named) {
            n.named++;
        } else if (clcf->regex) {
            n.regex++;
        } else if (clcf->exact_match) {
            n.exact++;
        } else {
            n.prefix++;
        }

        if (clcf->auto_redirect) {
            pclcf->auto_redirects = 1;
        }

        if (pt_http_init_locations(cf, cscf, clcf) != PT_OK) {
            return PT_ERROR;
        }
    }

    return pt_http_location_fill(cf, cscf, pclcf, &n);
}

/* ---- the search ---- */

/* Binary search: the last of the n sorted locations whose name sorts at or
 * before [key, key + len) followed by the byte tail (tail < 0: none), or
 * -1.  *equal tells whether it is equal. */
static pt_int_t
pt_http_location_bsearch(pt_http_core_loc_conf_t **list, pt_uint_t n, u_char *key,
    size_t len, int tail, pt_uint_t *equal)
{
    int        rc;
    size_t     m;
    pt_str_t  *name;
    pt_uint_t  lo, hi, mid;

    lo = 0;
    hi = n;
    *equal = 0;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        name = &list[mid]->name;

        m = pt_min(name->len, len);
        rc = pt_memcmp(name->data, key, m);

        if (rc == 0) {
            if (name->len <= len) {
                rc = (name->len < len) ? -1 : (tail < 0 ? 0 : -1);

            } else if (tail < 0) {
                rc = 1;

            } else {
                rc = (int) name->data[len] - tail;
                if (rc == 0) {
                    rc = (name->len > len + 1);
                }
            }
        }

        if (rc == 0) {
            *equal = 1;
            return (pt_int_t) mid;
        }

        if (rc < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return (pt_int_t) lo - 1;
}

/* The static locations of one level.  PT_OK: an exact location; PT_AGAIN:
 * a prefix location (nested ones are next); PT_DONE: the uri is a prefix
 * location without its final "/" and that location redirects there
 * (auto_redirect); PT_DECLINED: none. */
static pt_int_t
pt_http_find_static_location(pt_http_request_t *r, pt_http_core_loc_conf_t *pclcf)
{
    pt_int_t                   i;
    pt_uint_t                  equal;
    pt_str_t                  *name;
    pt_http_core_loc_conf_t  **list;

    if (pclcf->nexact_locations) {
        i = pt_http_location_bsearch(pclcf->exact_locations, pclcf->nexact_locations,
                                     r->uri.data, r->uri.len, -1, &equal);
        if (equal) {
            r->loc_conf = pclcf->exact_locations[i]->loc_conf;
            return PT_OK;
        }
    }

    list = pclcf->static_locations;

    if (pclcf->auto_redirects) {
        i = pt_http_location_bsearch(list, pclcf->nstatic_locations, r->uri.data,
                                     r->uri.len, '/', &equal);
        if (equal && list[i]->auto_redirect) {
            r->loc_conf = list[i]->loc_conf;
            return PT_DONE;
        }
    }

    i = pt_http_location_bsearch(list, pclcf->nstatic_locations, r->uri.data,
                                 r->uri.len, -1, &equal);

    while (i >= 0) {
        name = &list[i]->name;

        if (name->len <= r->uri.len
            && pt_memcmp(name->data, r->uri.data, name->len) == 0)
        {
            r->loc_conf = list[i]->loc_conf;
            return PT_AGAIN;
        }

        i = pclcf->static_parents[i];
    }

    return PT_DECLINED;
}

pt_int_t
pt_http_core_find_location(pt_http_request_t *r)
{
    pt_int_t                   rc, n;
    pt_uint_t                  noregex;
    pt_http_core_loc_conf_t   *pclcf, *clcf, **clcfp;

    noregex = 0;
    pclcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    rc = pt_http_find_static_location(r, pclcf);

    if (rc == PT_AGAIN) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
        noregex = clcf->noregex;

        /* the nested locations of the prefix location */
        rc = pt_http_core_find_location(r);
    }

    if (rc == PT_OK || rc == PT_DONE || rc == PT_ERROR) {
        return rc;
    }

    /* rc is PT_DECLINED, or PT_AGAIN from a nested level */

    if (noregex || pclcf->regex_locations == NULL) {
        return rc;
    }

    for (clcfp = pclcf->regex_locations; *clcfp; clcfp++) {

        n = pt_http_regex_exec(r, (*clcfp)->regex, &r->uri);

        if (n == PT_DECLINED) {
            continue;
        }

        if (n != PT_OK) {
            return PT_ERROR;
        }

        r->loc_conf = (*clcfp)->loc_conf;

        /* the nested locations of the regex location */
        rc = pt_http_core_find_location(r);

        return (rc == PT_ERROR) ? rc : PT_OK;
    }

    return rc;
}

/* ---- internal redirects ---- */

/* One more internal redirect or rewrite; false (after logging) when the
 * request has used up PT_HTTP_MAX_URI_CHANGES. */
static pt_uint_t
pt_http_location_count_change(pt_http_request_t *r, const char *what, pt_str_t *to)
{
    r->uri_changes--;

    if (r->uri_changes == 0) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle while %s \"" PT_STR_FMT "\"",
                     what, PT_STR_ARG(*to));
        return 0;
    }

    return 1;
}

pt_int_t
pt_http_internal_redirect(pt_http_request_t *r, pt_str_t *uri, pt_str_t *args)
{
    pt_http_core_srv_conf_t  *cscf;

    /* the reference the caller's PT_DONE gives back */
    r->main->count++;

    if (!pt_http_location_count_change(r, "internally redirecting to", uri)) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_DONE;
    }

    r->uri = *uri;

    if (args) {
        r->args = *args;
    } else {
        pt_str_null(&r->args);
    }

    pt_http_set_exten(r);

    /* the modules start afresh in the new location */
    pt_memzero(r->ctx, sizeof(void *) * pt_http_max_module);

    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
    r->loc_conf = cscf->ctx->loc_conf;

    pt_http_update_location_config(r);

    r->internal = 1;
    r->valid_unparsed_uri = 0;
    r->uri_changed = 0;

    pt_http_handler(r);

    return PT_DONE;
}

pt_int_t
pt_http_named_location(pt_http_request_t *r, pt_str_t *name)
{
    pt_http_core_srv_conf_t    *cscf;
    pt_http_core_loc_conf_t   **clcfp;
    pt_http_core_main_conf_t   *cmcf;

    r->main->count++;

    if (!pt_http_location_count_change(r, "redirect to named location", name)) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_DONE;
    }

    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

    for (clcfp = cscf->named_locations; clcfp && *clcfp; clcfp++) {

        if (name->len != (*clcfp)->name.len
            || pt_memcmp(name->data, (*clcfp)->name.data, name->len) != 0)
        {
            continue;
        }

        r->internal = 1;
        r->content_handler = NULL;
        r->uri_changed = 0;
        r->loc_conf = (*clcfp)->loc_conf;

        pt_memzero(r->ctx, sizeof(void *) * pt_http_max_module);

        pt_http_update_location_config(r);

        /* no location search: straight to the location's rewrite phase */
        cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
        r->phase_handler = cmcf->phase_engine.location_rewrite_index;

        r->write_event_handler = pt_http_core_run_phases;
        pt_http_core_run_phases(r);

        return PT_DONE;
    }

    pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                 "could not find named location \"" PT_STR_FMT "\"", PT_STR_ARG(*name));

    pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);

    return PT_DONE;
}
