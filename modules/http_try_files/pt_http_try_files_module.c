/*
 * pt_http_try_files_module.c: "try_files file ... uri|=code|@name".
 *
 * In the PRECONTENT phase each "file" (a complex value: "$uri",
 * "/cache$uri.html") is mapped to a path through the location's root or
 * alias (pt_http_map_uri_to_path) and tested (pt_http_file_open: a stat(),
 * or the location's open_file_cache); a "file/" with a final slash
 * must be a directory, any other must not be.  The first that exists
 * becomes r->uri, and the request goes on to its content handler in the
 * same location.  When none exists, the last parameter decides: "=CODE"
 * answers CODE, "@name" runs the named location, anything else is an
 * internal redirect to that uri (its "?..." becomes the arguments).
 *
 * As in nginx, try_files is not inherited: in a server block it applies
 * only to requests that no location matches.
 */

#include "pt_http.h"

typedef struct {
    pt_http_complex_value_t    value;
    unsigned                   test_dir:1;     /* "file/" */
} pt_http_try_file_t;

typedef struct {
    pt_array_t                *try_files;      /* of pt_http_try_file_t */
    pt_int_t                   code;           /* "=CODE" last; 0: none */
} pt_http_try_files_loc_conf_t;

static void *pt_http_try_files_create_loc_conf(pt_conf_t *cf);
static pt_int_t pt_http_try_files_init(pt_conf_t *cf);
static char *pt_http_try_files(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_try_files_commands[] = {

    { pt_string("try_files"),
      PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_2MORE,
      pt_http_try_files, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_try_files_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_try_files_init,                /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_try_files_create_loc_conf,     /* create location configuration */
    NULL                                   /* merge: not inherited */
};

pt_module_t  pt_http_try_files_module = {
    PT_MODULE_V1,
    &pt_http_try_files_module_ctx,
    pt_http_try_files_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* Whether the candidate uri names an existing file (or directory, with
 * test_dir).  PT_OK, PT_DECLINED, or PT_ERROR (mapping or the cache
 * failed). */
static pt_int_t
pt_http_try_file(pt_http_request_t *r, pt_http_try_file_t *tf, pt_str_t *uri)
{
    size_t               root;
    pt_str_t             path, saved;
    pt_open_file_info_t  of;

    if (!pt_http_uri_is_safe(uri)) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "try_files skips the unsafe \"" PT_STR_FMT "\"", PT_STR_ARG(*uri));
        return PT_DECLINED;
    }

    /* the mapping works on r->uri */
    saved = r->uri;
    r->uri = *uri;

    if (pt_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
        r->uri = saved;
        return PT_ERROR;
    }

    r->uri = saved;

    pt_memzero(&of, sizeof(pt_open_file_info_t));
    of.test_only = 1;
    of.test_dir = tf->test_dir;

    if (pt_http_file_open(r, &path, &of) != PT_OK) {
        if (of.err == 0) {
            return PT_ERROR;
        }

        if (of.err != ENOENT && of.err != ENOTDIR && of.err != ENAMETOOLONG) {
            pt_log_error(PT_LOG_CRIT, r->connection->log, of.err,
                         "%s \"%s\" failed", of.failed, path.data);
        }
        return PT_DECLINED;
    }

    if (of.is_dir != tf->test_dir) {
        return PT_DECLINED;
    }

    return PT_OK;
}

/* None of the files exists: the fallback uri or named location. */
static pt_int_t
pt_http_try_files_fallback(pt_http_request_t *r, pt_http_try_file_t *tf)
{
    u_char    *q;
    pt_str_t   uri, args;

    if (pt_http_complex_value(r, &tf->value, &uri) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (uri.len && uri.data[0] == '@') {
        (void) pt_http_named_location(r, &uri);

    } else {
        pt_str_null(&args);

        q = pt_strlchr(uri.data, uri.data + uri.len, '?');
        if (q) {
            args.data = q + 1;
            args.len = uri.data + uri.len - args.data;
            uri.len = q - uri.data;
        }

        (void) pt_http_internal_redirect(r, &uri, &args);
    }

    /* the redirect took a reference and finished the request's phases */
    pt_http_finalize_request(r, PT_DONE);

    return PT_DONE;
}

static pt_int_t
pt_http_try_files_handler(pt_http_request_t *r)
{
    pt_int_t                       rc;
    pt_str_t                       uri;
    pt_uint_t                      i, n;
    pt_http_try_file_t            *tf;
    pt_http_try_files_loc_conf_t  *tlcf;

    tlcf = pt_http_get_module_loc_conf(r, pt_http_try_files_module);

    if (tlcf->try_files == NULL) {
        return PT_DECLINED;
    }

    tf = tlcf->try_files->elts;
    n = tlcf->try_files->nelts;

    for (i = 0; i < n; i++) {

        if (pt_http_complex_value(r, &tf[i].value, &uri) != PT_OK) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = pt_http_try_file(r, &tf[i], &uri);

        if (rc == PT_ERROR) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == PT_OK) {
            r->uri = uri;
            pt_http_set_exten(r);
            return PT_DECLINED;
        }
    }

    if (tlcf->code) {
        return tlcf->code;
    }

    return pt_http_try_files_fallback(r, &tf[n]);
}

static void *
pt_http_try_files_create_loc_conf(pt_conf_t *cf)
{
    return pt_pcalloc(cf->pool, sizeof(pt_http_try_files_loc_conf_t));
}

static pt_int_t
pt_http_try_files_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_PRECONTENT_PHASE, pt_http_try_files_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}

static char *
pt_http_try_files(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_try_files_loc_conf_t *tlcf = conf;

    pt_str_t                         *value, name;
    pt_uint_t                         i, last;
    pt_http_try_file_t               *tf;
    pt_http_compile_complex_value_t   ccv;

    if (tlcf->try_files) {
        return "is duplicate";
    }

    value = cf->args->elts;
    last = cf->args->nelts - 1;

    /* the files, then the fallback at try_files->elts[nelts] */
    tlcf->try_files = pt_array_create(cf->pool, last, sizeof(pt_http_try_file_t));
    if (tlcf->try_files == NULL) {
        return PT_CONF_ERROR;
    }

    for (i = 1; i <= last; i++) {
        tf = pt_array_push(tlcf->try_files);
        if (tf == NULL) {
            return PT_CONF_ERROR;
        }

        pt_memzero(tf, sizeof(pt_http_try_file_t));
        name = value[i];

        if (i < last && name.len > 1 && name.data[name.len - 1] == '/') {
            tf->test_dir = 1;
            name.len--;
        }

        if (i == last && name.len && name.data[0] == '=') {
            tlcf->code = pt_atoi(name.data + 1, name.len - 1);

            if (tlcf->code == PT_ERROR || tlcf->code < 100 || tlcf->code > 999) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid code \"" PT_STR_FMT "\"",
                                  PT_STR_ARG(name));
                return PT_CONF_ERROR;
            }
        }

        pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &name;
        ccv.complex_value = &tf->value;

        if (pt_http_compile_complex_value(&ccv) != PT_OK) {
            return PT_CONF_ERROR;
        }
    }

    /* the fallback is not tried as a file */
    tlcf->try_files->nelts--;

    return PT_CONF_OK;
}
