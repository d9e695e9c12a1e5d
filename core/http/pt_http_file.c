/*
 * pt_http_file.c: root, alias, the uri-to-file mapping, and types {}.
 *
 * See pt_http_file.h for the rules.  The settings are fields of the core
 * location conf (root, root_values, alias, types, types_hash); this file
 * holds their setters and their merge step, which the core module calls.
 */

#include "pt_http.h"

/* The types a location has when no types {} is configured at any level,
 * as nginx's built-in defaults. */
static pt_http_type_t  pt_http_default_types[] = {
    { pt_string("html"), pt_string("text/html"), 0 },
    { pt_string("gif"), pt_string("image/gif"), 0 },
    { pt_string("jpg"), pt_string("image/jpeg"), 0 },
};

/* ---- the mapping ---- */

pt_uint_t
pt_http_uri_is_safe(pt_str_t *uri)
{
    u_char  *p, *last;

    if (uri->len == 0 || uri->data[0] != '/') {
        return 0;
    }

    p = uri->data;
    last = p + uri->len;

    if (memchr(p, '\0', uri->len) != NULL) {
        return 0;
    }

    /* a ".." segment: "/.." followed by "/" or the end */
    while ((p = memchr(p, '.', last - p)) != NULL) {
        if (p + 1 < last && p[1] == '.' && p[-1] == '/'
            && (p + 2 == last || p[2] == '/'))
        {
            return 0;
        }
        p++;
    }

    return 1;
}

pt_int_t
pt_http_document_root(pt_http_request_t *r, pt_str_t *root)
{
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (clcf->root_values == NULL) {
        *root = clcf->root;
        return PT_OK;
    }

    return pt_http_complex_value(r, clcf->root_values, root);
}

u_char *
pt_http_map_uri_to_path(pt_http_request_t *r, pt_str_t *path, size_t *root_len,
    size_t reserved)
{
    u_char                   *last;
    size_t                    skip, tail;
    pt_str_t                  root;
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (!pt_http_uri_is_safe(&r->uri)) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "unsafe uri \"" PT_STR_FMT "\" was not mapped to a file",
                     PT_STR_ARG(r->uri));
        return NULL;
    }

    if (pt_http_document_root(r, &root) != PT_OK) {
        return NULL;
    }

    skip = 0;
    tail = r->uri.len;

    if (clcf->alias) {
        if (clcf->alias == PT_HTTP_ALIAS_REGEX || clcf->regex) {
            /* the alias of a regex location is the whole name */
            tail = 0;

        } else {
            /* the part of the uri after the location's prefix */
            skip = pt_min(clcf->alias, r->uri.len);
            tail = r->uri.len - skip;
        }

        if (root.len == 0) {
            pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                         "the alias of \"" PT_STR_FMT "\" is empty",
                         PT_STR_ARG(clcf->name));
            return NULL;
        }
    }

    path->data = pt_pnalloc(r->pool, root.len + tail + reserved + 1);
    if (path->data == NULL) {
        return NULL;
    }

    last = pt_cpymem(path->data, root.data, root.len);
    last = pt_cpymem(last, r->uri.data + skip, tail);
    *last = '\0';

    path->len = last - path->data;
    *root_len = root.len;

    /* a root or alias with variables (captures, arguments) is checked as
     * a whole: its values must not climb either */
    if (clcf->root_values && !pt_http_uri_is_safe(path)) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "unsafe path \"%s\" was not mapped to a file", path->data);
        return NULL;
    }

    return last;
}

pt_int_t
pt_http_file_open(pt_http_request_t *r, pt_str_t *path, pt_open_file_info_t *of)
{
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    of->valid = clcf->open_file_cache_valid;
    of->min_uses = clcf->open_file_cache_min_uses;
    of->errors = clcf->open_file_cache_errors ? 1 : 0;

    return pt_open_cached_file(clcf->open_file_cache, path, of, r->pool);
}

/* Answer for a failed open() or stat() of a mapped file, logged as nginx
 * does (a missing file only with log_not_found). */
pt_int_t
pt_http_file_open_error(pt_http_request_t *r, pt_err_t err, const char *op,
    u_char *name)
{
    pt_uint_t                 level;
    pt_int_t                  rc;
    pt_http_core_loc_conf_t  *clcf;

    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
        if (!clcf->log_not_found) {
            return PT_HTTP_NOT_FOUND;
        }
        level = PT_LOG_ERR;
        rc = PT_HTTP_NOT_FOUND;
        break;

    case EACCES:
    case EPERM:
    case ELOOP:
        level = PT_LOG_ERR;
        rc = PT_HTTP_FORBIDDEN;
        break;

    default:
        level = PT_LOG_CRIT;
        rc = PT_HTTP_INTERNAL_SERVER_ERROR;
        break;
    }

    pt_log_error(level, r->connection->log, err, "%s \"%s\" failed", op, name);

    return rc;
}

/* ---- Content-Type ---- */

void
pt_http_set_exten(pt_http_request_t *r)
{
    u_char  *p, *start;

    r->exten.len = 0;
    r->exten.data = NULL;

    if (r->uri.len == 0) {
        return;
    }

    start = r->uri.data;

    for (p = start + r->uri.len - 1; p > start && *p != '/'; p--) {
        if (*p == '.') {
            r->exten.data = p + 1;
            r->exten.len = start + r->uri.len - p - 1;
            return;
        }
    }
}

static pt_http_type_t *
pt_http_types_find(pt_http_types_hash_t *th, u_char *exten, size_t len)
{
    pt_uint_t        key, i;
    pt_http_type_t  *t;

    key = pt_hash_key_lc(exten, len);

    for (i = key & th->mask; (t = th->buckets[i]) != NULL; i = (i + 1) & th->mask) {
        if (t->hash == key && t->exten.len == len
            && pt_strncasecmp(t->exten.data, exten, len) == 0)
        {
            return t;
        }
    }

    return NULL;
}

pt_int_t
pt_http_file_content_type(pt_http_request_t *r)
{
    pt_http_type_t           *t;
    pt_http_core_loc_conf_t  *clcf;

    if (r->headers_out.content_type.len) {
        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->exten.len && clcf->types_hash) {
        t = pt_http_types_find(clcf->types_hash, r->exten.data, r->exten.len);

        if (t) {
            r->headers_out.content_type_len = t->type.len;
            r->headers_out.content_type = t->type;
            return PT_OK;
        }
    }

    r->headers_out.content_type_len = clcf->default_type.len;
    r->headers_out.content_type = clcf->default_type;

    return PT_OK;
}

/* ---- configuration ---- */

/* "root PATH" and "alias PATH": cmd->offset is 1 for alias. */
char *
pt_http_file_root(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t *clcf = conf;

    pt_str_t                         *value;
    pt_uint_t                         alias;
    pt_http_compile_complex_value_t   ccv;

    alias = cmd->offset;

    if (clcf->root.data) {
        if ((clcf->alias != 0) == (alias != 0)) {
            return "is duplicate";
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"%s\" directive is duplicate, "
                          "\"%s\" directive was specified earlier",
                          alias ? "alias" : "root", clcf->alias ? "alias" : "root");
        return PT_CONF_ERROR;
    }

    if (clcf->named && alias) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the \"alias\" directive cannot be used "
                          "inside the named location");
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;

    if (pt_strstr(value[1].data, "$document_root")
        || pt_strstr(value[1].data, "${document_root}")
        || pt_strstr(value[1].data, "$realpath_root")
        || pt_strstr(value[1].data, "${realpath_root}"))
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the $document_root and $realpath_root variables cannot "
                          "be used in the \"%s\" directive", alias ? "alias" : "root");
        return PT_CONF_ERROR;
    }

    /* the uri bytes an alias replaces: the location's prefix */
    if (alias) {
        clcf->alias = clcf->regex ? PT_HTTP_ALIAS_REGEX : pt_max(clcf->name.len, 1);
    }

    clcf->root_values = pt_palloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (clcf->root_values == NULL) {
        return PT_CONF_ERROR;
    }

    /* a relative path is taken from the prefix, as nginx's "root html" */
    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = clcf->root_values;
    ccv.root_prefix = 1;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (clcf->root_values->parts == NULL) {
        clcf->root = clcf->root_values->value;
        clcf->root_values = NULL;

        if (clcf->root.len == 0 && !alias) {
            pt_str_set(&clcf->root, "/");
        }

    } else {
        /* marks the setting present; the value comes per request */
        clcf->root = value[1];
    }

    return PT_CONF_OK;
}

/* One line of types {}: "TYPE EXT [EXT ...];" (or "include FILE;"). */
static char *
pt_http_file_type_line(pt_conf_t *cf, pt_command_t *dummy, void *conf)
{
    pt_http_core_loc_conf_t *clcf = conf;

    pt_str_t        *value, type;
    pt_uint_t        i, n;
    pt_http_type_t  *t;

    value = cf->args->elts;

    if (pt_str_eq_lit(&value[0], "include")) {
        if (cf->args->nelts != 2) {
            return "invalid number of arguments in \"include\" directive";
        }
        return pt_conf_include(cf, dummy, conf);
    }

    if (cf->args->nelts < 2) {
        return "invalid number of arguments in \"types\" block";
    }

    type = value[0];

    for (i = 1; i < cf->args->nelts; i++) {
        t = clcf->types->elts;

        for (n = 0; n < clcf->types->nelts; n++) {
            if (t[n].exten.len == value[i].len
                && pt_strncasecmp(t[n].exten.data, value[i].data, value[i].len) == 0)
            {
                pt_conf_log_error(PT_LOG_WARN, cf, 0,
                                  "duplicate extension \"" PT_STR_FMT "\", "
                                  "content type: \"" PT_STR_FMT "\", previous "
                                  "content type: \"" PT_STR_FMT "\"",
                                  PT_STR_ARG(value[i]), PT_STR_ARG(type),
                                  PT_STR_ARG(t[n].type));
                t[n].type = type;
                break;
            }
        }

        if (n < clcf->types->nelts) {
            continue;
        }

        t = pt_array_push(clcf->types);
        if (t == NULL) {
            return PT_CONF_ERROR;
        }

        t->exten.len = value[i].len;
        t->exten.data = pt_pnalloc(cf->pool, value[i].len);
        if (t->exten.data == NULL) {
            return PT_CONF_ERROR;
        }

        pt_strlow(t->exten.data, value[i].data, value[i].len);
        t->type = type;
        t->hash = pt_hash_key(t->exten.data, t->exten.len);
    }

    return PT_CONF_OK;
}

/* "types { ... }": a block of "TYPE EXT ..." lines.  Several blocks at one
 * level add up, as nginx's do. */
char *
pt_http_file_types(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t *clcf = conf;

    char       *rv;
    pt_conf_t   save;

    if (clcf->types == NULL) {
        clcf->types = pt_array_create(cf->pool, 64, sizeof(pt_http_type_t));
        if (clcf->types == NULL) {
            return PT_CONF_ERROR;
        }
    }

    save = *cf;
    cf->handler = pt_http_file_type_line;
    cf->handler_conf = conf;

    rv = pt_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}

/* Builds the lookup table of one level's pairs. */
static pt_http_types_hash_t *
pt_http_types_hash_build(pt_conf_t *cf, pt_http_type_t *types, pt_uint_t n)
{
    pt_uint_t              i, size, k;
    pt_http_types_hash_t  *th;

    for (size = 8; size < 2 * n; size <<= 1) { /* void */ }

    th = pt_palloc(cf->pool, sizeof(pt_http_types_hash_t));
    if (th == NULL) {
        return NULL;
    }

    th->buckets = pt_pcalloc(cf->pool, size * sizeof(pt_http_type_t *));
    if (th->buckets == NULL) {
        return NULL;
    }

    th->mask = size - 1;

    for (i = 0; i < n; i++) {
        types[i].hash = pt_hash_key(types[i].exten.data, types[i].exten.len);

        for (k = types[i].hash & th->mask; th->buckets[k]; k = (k + 1) & th->mask) {
            /* void */
        }

        th->buckets[k] = &types[i];
    }

    return th;
}

/*
 * root and alias: a level without either takes its parent's, as nginx
 * does (a location nested in an alias location keeps replacing the outer
 * prefix); "html" under the prefix when no level sets one.
 * open_file_cache: a level without one shares its parent's cache.
 * types: a level without types {} takes its parent's table.
 */
char *
pt_http_file_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_core_loc_conf_t *prev = parent;
    pt_http_core_loc_conf_t *conf = child;

    pt_str_t  html;

    if (conf->root.data == NULL) {
        if (prev->root.data) {
            conf->root = prev->root;
            conf->root_values = prev->root_values;
            conf->alias = prev->alias;

        } else {
            pt_str_set(&html, "html");
            if (pt_get_full_name(cf->pool, &cf->cycle->prefix, &html) != PT_OK) {
                return PT_CONF_ERROR;
            }
            conf->root = html;
        }
    }

    pt_conf_merge_ptr_value(conf->open_file_cache, prev->open_file_cache, NULL);
    pt_conf_merge_sec_value(conf->open_file_cache_valid, prev->open_file_cache_valid, 60);
    pt_conf_merge_uint_value(conf->open_file_cache_min_uses,
                             prev->open_file_cache_min_uses, 1);
    pt_conf_merge_value(conf->open_file_cache_errors, prev->open_file_cache_errors, 0);

    if (prev->types_hash == NULL) {
        if (prev->types == NULL) {
            prev->types = pt_array_create(cf->pool, 3, sizeof(pt_http_type_t));
            if (prev->types == NULL) {
                return PT_CONF_ERROR;
            }
            if (pt_array_push_n(prev->types, pt_nelems(pt_http_default_types)) == NULL) {
                return PT_CONF_ERROR;
            }
            pt_memcpy(prev->types->elts, pt_http_default_types,
                      sizeof(pt_http_default_types));
        }

        prev->types_hash = pt_http_types_hash_build(cf, prev->types->elts,
                                                    prev->types->nelts);
        if (prev->types_hash == NULL) {
            return PT_CONF_ERROR;
        }
    }

    if (conf->types == NULL) {
        conf->types = prev->types;
        conf->types_hash = prev->types_hash;

    } else if (conf->types_hash == NULL) {
        conf->types_hash = pt_http_types_hash_build(cf, conf->types->elts,
                                                    conf->types->nelts);
        if (conf->types_hash == NULL) {
            return PT_CONF_ERROR;
        }
    }

    return PT_CONF_OK;
}

/*
 * "open_file_cache off | max=N [inactive=time]": each directive makes its
 * own cache, as nginx's; nginx's quirks kept: "off" anywhere in the
 * arguments wins, a later "max=" overrides an earlier one.
 */
char *
pt_http_file_open_file_cache(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t *clcf = conf;

    time_t      inactive;
    pt_int_t    max;
    pt_str_t   *value, s;
    pt_uint_t   i;

    if (clcf->open_file_cache != PT_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    max = 0;
    inactive = 60;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len >= 4 && pt_strncmp(value[i].data, "max=", 4) == 0) {
            max = pt_atoi(value[i].data + 4, value[i].len - 4);
            if (max <= 0) {
                goto invalid;
            }
            continue;
        }

        if (value[i].len >= 9 && pt_strncmp(value[i].data, "inactive=", 9) == 0) {
            s.len = value[i].len - 9;
            s.data = value[i].data + 9;

            inactive = pt_parse_time(&s, 1);
            if (inactive == (time_t) PT_ERROR) {
                goto invalid;
            }
            continue;
        }

        if (pt_str_eq_lit(&value[i], "off")) {
            clcf->open_file_cache = NULL;
            continue;
        }

    invalid:

        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "invalid \"open_file_cache\" parameter \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[i]));
        return PT_CONF_ERROR;
    }

    if (clcf->open_file_cache == NULL) {
        return PT_CONF_OK;
    }

    if (max == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"open_file_cache\" must have the \"max\" parameter");
        return PT_CONF_ERROR;
    }

    clcf->open_file_cache = pt_open_file_cache_init(cf->pool, max, inactive);
    if (clcf->open_file_cache == NULL) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

char *
pt_http_file_types_hash_size(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t  *value;

    value = cf->args->elts;

    if (pt_parse_size(&value[1]) <= 0) {
        return "invalid value";
    }

    return PT_CONF_OK;
}

/* ---- $document_root, $realpath_root, $request_filename ---- */

static pt_int_t
pt_http_file_variable_document_root(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  root;

    if (pt_http_document_root(r, &root) != PT_OK) {
        return PT_ERROR;
    }

    v->len = root.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = root.data;

    return PT_OK;
}

/* The document root with every symbolic link resolved (realpath(3)). */
static pt_int_t
pt_http_file_variable_realpath_root(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    char      *real;
    pt_str_t   root, zroot;

    if (pt_http_document_root(r, &root) != PT_OK
        || pt_pstrdup_z(r->pool, &zroot, &root) != PT_OK)
    {
        return PT_ERROR;
    }

    real = realpath((char *) zroot.data, NULL);

    if (real == NULL) {
        pt_log_error(PT_LOG_CRIT, r->connection->log, pt_errno,
                     "realpath() \"%s\" failed", zroot.data);
        return PT_ERROR;
    }

    root.len = pt_strlen(real);
    root.data = (u_char *) real;

    v->data = pt_pstrdup(r->pool, &root);
    free(real);

    if (v->data == NULL) {
        return PT_ERROR;
    }

    v->len = root.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}

static pt_int_t
pt_http_file_variable_request_filename(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data)
{
    size_t    root;
    pt_str_t  path;

    if (pt_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
        return PT_ERROR;
    }

    v->len = path.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = path.data;

    return PT_OK;
}

pt_int_t
pt_http_file_add_variables(pt_conf_t *cf)
{
    pt_uint_t            i;
    pt_http_variable_t  *v;

    static pt_http_variable_t  vars[] = {
        { pt_string("document_root"), NULL, pt_http_file_variable_document_root, 0,
          PT_HTTP_VAR_NOCACHEABLE, 0 },
        { pt_string("realpath_root"), NULL, pt_http_file_variable_realpath_root, 0,
          PT_HTTP_VAR_NOCACHEABLE, 0 },
        { pt_string("request_filename"), NULL, pt_http_file_variable_request_filename,
          0, PT_HTTP_VAR_NOCACHEABLE, 0 },
    };

    for (i = 0; i < pt_nelems(vars); i++) {
        v = pt_http_add_variable(cf, &vars[i].name, vars[i].flags);
        if (v == NULL) {
            return PT_ERROR;
        }

        v->get_handler = vars[i].get_handler;
        v->data = vars[i].data;
    }

    return PT_OK;
}
