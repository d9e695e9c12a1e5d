/*
 * pt_http_index_module.c: the index files of a directory uri.
 *
 *   index FILE ...;      (http, server, location; default index.html)
 *
 * A CONTENT handler for uris ending in "/": the names are tried in order
 * under the mapped directory (one stat() each, or the location's
 * open_file_cache); the first that exists
 * becomes an internal redirect to uri + name, so the location of the
 * index file (its handler, its headers) answers.  A name starting with
 * "/" is a redirect target as it is and ends the list.  Names may hold
 * variables.  Nothing found in an existing directory: declined, and the
 * core answers 403 "directory index ... is forbidden"; a directory that
 * does not exist: 404.
 */

#include "pt_http.h"

typedef struct {
    pt_array_t    *indices;     /* of pt_http_complex_value_t; NULL: unset */
    size_t         max_len;     /* longest literal name, for the path */
} pt_http_index_loc_conf_t;

static pt_int_t pt_http_index_init(pt_conf_t *cf);
static void *pt_http_index_create_loc_conf(pt_conf_t *cf);
static char *pt_http_index_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);
static char *pt_http_index_set_index(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_index_commands[] = {

    { pt_string("index"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_1MORE,
      pt_http_index_set_index, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_index_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_index_init,                    /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_index_create_loc_conf,         /* create location configuration */
    pt_http_index_merge_loc_conf           /* merge location configuration */
};

pt_module_t  pt_http_index_module = {
    PT_MODULE_V1,
    &pt_http_index_module_ctx,
    pt_http_index_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* The directory itself, once the first name was missing: PT_OK when it
 * exists, else the status to answer. */
static pt_int_t
pt_http_index_test_dir(pt_http_request_t *r, u_char *dir, u_char *end)
{
    u_char                    save;
    pt_int_t                  rc;
    pt_str_t                  path;
    pt_open_file_info_t       of;
    pt_http_core_loc_conf_t  *clcf;

    save = *end;
    *end = '\0';

    path.data = dir;
    path.len = end - dir;

    pt_memzero(&of, sizeof(pt_open_file_info_t));
    of.test_only = 1;
    of.test_dir = 1;

    rc = PT_OK;

    if (pt_http_file_open(r, &path, &of) != PT_OK) {

        if (of.err == 0) {
            rc = PT_HTTP_INTERNAL_SERVER_ERROR;

        } else if (of.err == ENOENT) {
            clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
            if (clcf->log_not_found) {
                pt_log_error(PT_LOG_ERR, r->connection->log, of.err,
                             "\"%s\" is not found", dir);
            }
            rc = PT_HTTP_NOT_FOUND;

        } else {
            rc = pt_http_file_open_error(r, of.err, of.failed, dir);
        }

    } else if (!of.is_dir) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                     "\"%s\" is not a directory", dir);
        rc = PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    *end = save;

    return rc;
}

/* Redirects to uri + name (or to name when it is absolute). */
static pt_int_t
pt_http_index_redirect(pt_http_request_t *r, pt_str_t *name)
{
    u_char    *p;
    pt_str_t   uri;

    if (name->data[0] == '/') {
        uri = *name;

    } else {
        uri.len = r->uri.len + name->len;
        uri.data = pt_pnalloc(r->pool, uri.len);
        if (uri.data == NULL) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = pt_cpymem(uri.data, r->uri.data, r->uri.len);
        pt_memcpy(p, name->data, name->len);
    }

    return pt_http_internal_redirect(r, &uri, &r->args);
}

static pt_int_t
pt_http_index_handler(pt_http_request_t *r)
{
    u_char                    *last, *dir_end;
    size_t                     root;
    pt_int_t                   rc;
    pt_str_t                   path, name;
    pt_uint_t                  i, dir_tested;
    pt_open_file_info_t        of;
    pt_http_complex_value_t   *cv;
    pt_http_index_loc_conf_t  *ilcf;

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return PT_DECLINED;
    }

    if (!(r->method & (PT_HTTP_GET|PT_HTTP_HEAD|PT_HTTP_POST))) {
        return PT_DECLINED;
    }

    ilcf = pt_http_get_module_loc_conf(r, pt_http_index_module);
    cv = ilcf->indices->elts;

    path.data = NULL;
    dir_end = NULL;
    last = NULL;
    dir_tested = 0;

    for (i = 0; i < ilcf->indices->nelts; i++) {

        if (pt_http_complex_value(r, &cv[i], &name) != PT_OK) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (name.len == 0) {
            continue;
        }

        if (name.data[0] == '/') {
            /* an absolute name is the last resort: no test */
            return pt_http_index_redirect(r, &name);
        }

        if (path.data == NULL || name.len > ilcf->max_len) {
            last = pt_http_map_uri_to_path(r, &path, &root,
                                           pt_max(name.len, ilcf->max_len));
            if (last == NULL) {
                return PT_HTTP_INTERNAL_SERVER_ERROR;
            }
            dir_end = last;
        }

        last = pt_cpymem(dir_end, name.data, name.len);
        *last = '\0';
        path.len = last - path.data;

        pt_memzero(&of, sizeof(pt_open_file_info_t));
        of.test_only = 1;

        if (pt_http_file_open(r, &path, &of) == PT_OK) {
            return pt_http_index_redirect(r, &name);
        }

        if (of.err == 0) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (of.err != ENOENT) {
            return pt_http_file_open_error(r, of.err, of.failed, path.data);
        }

        if (!dir_tested) {
            rc = pt_http_index_test_dir(r, path.data, dir_end);
            if (rc != PT_OK) {
                return rc;
            }
            dir_tested = 1;
        }
    }

    return PT_DECLINED;
}

/* ---- configuration ---- */

static void *
pt_http_index_create_loc_conf(pt_conf_t *cf)
{
    pt_http_index_loc_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_index_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->indices = NULL;
    conf->max_len = 0;

    return conf;
}

static char *
pt_http_index_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_index_loc_conf_t  *prev = parent;
    pt_http_index_loc_conf_t  *conf = child;

    pt_http_complex_value_t  *cv;

    if (conf->indices) {
        return PT_CONF_OK;
    }

    if (prev->indices == NULL) {
        prev->indices = pt_array_create(cf->pool, 1, sizeof(pt_http_complex_value_t));
        if (prev->indices == NULL) {
            return PT_CONF_ERROR;
        }

        cv = pt_array_push(prev->indices);
        if (cv == NULL) {
            return PT_CONF_ERROR;
        }

        pt_memzero(cv, sizeof(pt_http_complex_value_t));
        pt_str_set(&cv->value, "index.html");
        prev->max_len = sizeof("index.html") - 1;
    }

    conf->indices = prev->indices;
    conf->max_len = prev->max_len;

    return PT_CONF_OK;
}

static char *
pt_http_index_set_index(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_index_loc_conf_t *ilcf = conf;

    pt_str_t                         *value;
    pt_uint_t                         i;
    pt_http_complex_value_t          *cv;
    pt_http_compile_complex_value_t   ccv;

    if (ilcf->indices == NULL) {
        ilcf->indices = pt_array_create(cf->pool, 2, sizeof(pt_http_complex_value_t));
        if (ilcf->indices == NULL) {
            return PT_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "index \"" PT_STR_FMT "\" in \"index\" directive "
                              "is invalid", PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

        if (value[i].data[0] == '/' && i != cf->args->nelts - 1) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0,
                              "only the last index in \"index\" directive "
                              "should be absolute");
        }

        cv = pt_array_push(ilcf->indices);
        if (cv == NULL) {
            return PT_CONF_ERROR;
        }

        pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (pt_http_compile_complex_value(&ccv) != PT_OK) {
            return PT_CONF_ERROR;
        }

        if (cv->parts == NULL && value[i].len > ilcf->max_len) {
            ilcf->max_len = value[i].len;
        }
    }

    return PT_CONF_OK;
}

static pt_int_t
pt_http_index_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_CONTENT_PHASE, pt_http_index_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}
