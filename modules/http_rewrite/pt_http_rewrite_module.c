/*
 * pt_http_rewrite_module.c: "return" (and, next, rewrite/set/if/break).
 *
 * Each server and location level compiles its directives, in config order,
 * into a script: a code array run by the engine of pt_http_script.c.  The
 * handler runs in SERVER_REWRITE (the server level's script) and in
 * REWRITE (the chosen location's script), as nginx's does.  Scripts are not
 * inherited: a location without directives of its own runs none.
 *
 *   return CODE [TEXT];          TEXT: a complex value, the body
 *   return CODE URL;             for 301, 302, 303, 307, 308: Location
 *   return URL;                  302; URL starts with http://, https://
 *                                or $scheme
 */

#include "pt_http.h"

typedef struct {
    pt_array_t    *codes;           /* the script; NULL: nothing to run */
    pt_flag_t      log;             /* reserved: rewrite_log */
} pt_http_rewrite_loc_conf_t;

static void *pt_http_rewrite_create_loc_conf(pt_conf_t *cf);
static char *pt_http_rewrite_merge_loc_conf(pt_conf_t *cf, void *parent,
    void *child);
static pt_int_t pt_http_rewrite_init(pt_conf_t *cf);
static char *pt_http_rewrite_return(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_rewrite_commands[] = {

    { pt_string("return"),
      PT_HTTP_SRV_CONF|PT_HTTP_SIF_CONF|PT_HTTP_LOC_CONF|PT_HTTP_LIF_CONF
      |PT_CONF_TAKE12,
      pt_http_rewrite_return, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_rewrite_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_rewrite_init,                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_rewrite_create_loc_conf,       /* create location configuration */
    pt_http_rewrite_merge_loc_conf         /* merge location configuration */
};

pt_module_t  pt_http_rewrite_module = {
    PT_MODULE_V1,
    &pt_http_rewrite_module_ctx,
    pt_http_rewrite_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_int_t
pt_http_rewrite_handler(pt_http_request_t *r)
{
    pt_http_script_engine_t      e;
    pt_http_core_srv_conf_t     *cscf;
    pt_http_core_main_conf_t    *cmcf;
    pt_http_rewrite_loc_conf_t  *rlcf;

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

    if (r->phase_handler == cmcf->phase_engine.location_rewrite_index
        && r->loc_conf == cscf->ctx->loc_conf)
    {
        /* no location matched: the server level already ran its script in
         * SERVER_REWRITE */
        return PT_DECLINED;
    }

    rlcf = pt_http_get_module_loc_conf(r, pt_http_rewrite_module);

    if (rlcf->codes == NULL) {
        return PT_DECLINED;
    }

    pt_memzero(&e, sizeof(pt_http_script_engine_t));
    e.request = r;
    e.status = PT_DECLINED;
    e.log = rlcf->log ? 1 : 0;

    pt_http_script_run(&e, rlcf->codes->elts);

    if (e.status < PT_HTTP_BAD_REQUEST) {
        return e.status;
    }

    if (r->err_status == 0) {
        return e.status;
    }

    return r->err_status;
}

static void *
pt_http_rewrite_create_loc_conf(pt_conf_t *cf)
{
    pt_http_rewrite_loc_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_rewrite_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->codes = NULL;
    conf->log = PT_CONF_UNSET;

    return conf;
}

static char *
pt_http_rewrite_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_rewrite_loc_conf_t *prev = parent;
    pt_http_rewrite_loc_conf_t *conf = child;

    pt_conf_merge_value(conf->log, prev->log, 0);

    if (conf->codes == NULL) {
        return PT_CONF_OK;
    }

    /* each level is merged once: the script is complete, end it */
    if (pt_http_script_end_codes(cf->pool, &conf->codes) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static pt_int_t
pt_http_rewrite_init(pt_conf_t *cf)
{
    pt_http_handler_pt        *h;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    h = pt_array_push(&cmcf->phases[PT_HTTP_SERVER_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return PT_ERROR;
    }

    *h = pt_http_rewrite_handler;

    h = pt_array_push(&cmcf->phases[PT_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return PT_ERROR;
    }

    *h = pt_http_rewrite_handler;

    return PT_OK;
}

/* A lone "return" argument that is a redirect target, not a code. */
static pt_uint_t
pt_http_rewrite_is_url(pt_str_t *v)
{
    return (v->len > 7 && pt_strncmp(v->data, "http://", 7) == 0)
           || (v->len > 8 && pt_strncmp(v->data, "https://", 8) == 0)
           || (v->len >= 7 && pt_strncmp(v->data, "$scheme", 7) == 0);
}

static char *
pt_http_rewrite_return(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_rewrite_loc_conf_t *lcf = conf;

    pt_int_t                          n;
    pt_str_t                         *value, *v;
    pt_http_script_return_code_t     *ret;
    pt_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    ret = pt_http_script_start_code(cf->pool, &lcf->codes,
                                    sizeof(pt_http_script_return_code_t));
    if (ret == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(ret, sizeof(pt_http_script_return_code_t));
    ret->code = pt_http_script_return_code;

    n = pt_atoi(value[1].data, value[1].len);

    if (n == PT_ERROR) {
        if (cf->args->nelts == 2 && pt_http_rewrite_is_url(&value[1])) {
            ret->status = PT_HTTP_MOVED_TEMPORARILY;
            v = &value[1];

        } else {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid return code \""
                              PT_STR_FMT "\"", PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

    } else {
        if (n > 999) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid return code \""
                              PT_STR_FMT "\"", PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

        ret->status = (uintptr_t) n;

        if (cf->args->nelts == 2) {
            return PT_CONF_OK;
        }

        v = &value[2];
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = v;
    ccv.complex_value = &ret->text;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}
