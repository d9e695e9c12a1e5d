/*
 * pt_http_proxy_module.c: proxy_pass, the HTTP reverse proxy.
 *
 *   proxy_pass http://HOST[:PORT][/URI];      an address, or a group name
 *   proxy_pass http://unix:/PATH:[/URI];
 *   proxy_pass http://$VARIABLES...;           evaluated per request
 *
 * The directives, their confs and defaults are nginx's.  The handler reads
 * (or streams, with proxy_request_buffering off) the request body and
 * hands the request to the upstream framework with the proxy's hooks:
 * building the request (pt_http_proxy_request.c) and parsing the response
 * head and body framing (pt_http_proxy_response.c).
 */

#include "pt_http_proxy.h"

static pt_int_t pt_http_proxy_handler(pt_http_request_t *r);
static void pt_http_proxy_body_handler(pt_http_request_t *r);
static pt_int_t pt_http_proxy_preconfiguration(pt_conf_t *cf);
static void *pt_http_proxy_create_loc_conf(pt_conf_t *cf);
static char *pt_http_proxy_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);
static char *pt_http_proxy_pass(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_proxy_http_version(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_proxy_set_cv(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static pt_int_t pt_http_proxy_vars_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_proxy_add_x_forwarded_for_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);

/* Fields nginx's proxy hides from the client unless proxy_pass_header. */
static pt_str_t  pt_http_proxy_hide_headers[] = {
    pt_string("Date"),
    pt_string("Server"),
    pt_string("X-Pad"),
    pt_string("X-Accel-Expires"),
    pt_string("X-Accel-Redirect"),
    pt_string("X-Accel-Limit-Rate"),
    pt_string("X-Accel-Buffering"),
    pt_string("X-Accel-Charset"),
    pt_null_string
};

static pt_path_init_t  pt_http_proxy_temp_path = {
    pt_string("proxy_temp"), { 1, 2, 0 }
};

#define PT_HTTP_PROXY_ALL  (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF)

#define pt_proxy_off(field)  offsetof(pt_http_proxy_loc_conf_t, field)
#define pt_proxy_uoff(field) offsetof(pt_http_proxy_loc_conf_t, upstream.field)

static char *pt_http_proxy_lowat_check(pt_conf_t *cf, void *post, void *data);

static pt_conf_post_t  pt_http_proxy_lowat_post = { pt_http_proxy_lowat_check };

static pt_command_t  pt_http_proxy_commands[] = {

    { pt_string("proxy_pass"),
      PT_HTTP_LOC_CONF|PT_HTTP_LIF_CONF|PT_HTTP_LMT_CONF|PT_CONF_TAKE1,
      pt_http_proxy_pass, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("proxy_redirect"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE12,
      pt_http_proxy_redirect, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("proxy_cookie_domain"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE12,
      pt_http_proxy_cookie_domain, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("proxy_cookie_path"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE12,
      pt_http_proxy_cookie_path, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("proxy_cookie_flags"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1234,
      pt_http_proxy_cookie_flags, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("proxy_set_header"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE2,
      pt_conf_set_keyval_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_off(headers_source), NULL },

    { pt_string("proxy_set_body"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_http_proxy_set_cv, PT_HTTP_LOC_CONF_OFFSET, pt_proxy_off(body_set), NULL },

    { pt_string("proxy_method"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_http_proxy_set_cv, PT_HTTP_LOC_CONF_OFFSET, pt_proxy_off(method), NULL },

    { pt_string("proxy_http_version"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_http_proxy_http_version, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_off(http_version), NULL },

    { pt_string("proxy_pass_request_headers"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(pass_request_headers), NULL },

    { pt_string("proxy_pass_request_body"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(pass_request_body), NULL },

    { pt_string("proxy_request_buffering"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(request_buffering), NULL },

    { pt_string("proxy_buffering"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(buffering), NULL },

    { pt_string("proxy_ignore_client_abort"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(ignore_client_abort), NULL },

    { pt_string("proxy_intercept_errors"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(intercept_errors), NULL },

    { pt_string("proxy_buffer_size"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(buffer_size), NULL },

    { pt_string("proxy_buffers"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE2,
      pt_conf_set_bufs_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(bufs), NULL },

    { pt_string("proxy_busy_buffers_size"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(busy_buffers_size_conf), NULL },

    { pt_string("proxy_temp_path"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1234,
      pt_conf_set_path_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(temp_path), NULL },

    { pt_string("proxy_max_temp_file_size"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_off_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(max_temp_file_size_conf), NULL },

    { pt_string("proxy_temp_file_write_size"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(temp_file_write_size_conf), NULL },

    { pt_string("proxy_connect_timeout"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(connect_timeout), NULL },

    { pt_string("proxy_send_timeout"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(send_timeout), NULL },

    { pt_string("proxy_read_timeout"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(read_timeout), NULL },

    { pt_string("proxy_next_upstream"),
      PT_HTTP_PROXY_ALL|PT_CONF_1MORE,
      pt_conf_set_bitmask_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(next_upstream), &pt_http_upstream_next_upstream_masks },

    { pt_string("proxy_next_upstream_tries"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(next_upstream_tries), NULL },

    { pt_string("proxy_next_upstream_timeout"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(next_upstream_timeout), NULL },

    { pt_string("proxy_hide_header"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_str_array_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(hide_headers), NULL },

    { pt_string("proxy_pass_header"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_str_array_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(pass_headers), NULL },

    { pt_string("proxy_ignore_headers"),
      PT_HTTP_PROXY_ALL|PT_CONF_1MORE,
      pt_conf_set_bitmask_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(ignore_headers), &pt_http_upstream_ignore_headers_masks },

    { pt_string("proxy_bind"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE12,
      pt_http_upstream_bind_set_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(local), NULL },

    { pt_string("proxy_socket_keepalive"),
      PT_HTTP_PROXY_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(socket_keepalive), NULL },

    { pt_string("proxy_limit_rate"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_uoff(limit_rate), NULL },

    { pt_string("proxy_send_lowat"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_off(send_lowat), &pt_http_proxy_lowat_post },

    { pt_string("proxy_headers_hash_max_size"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_off(headers_hash_max_size), NULL },

    { pt_string("proxy_headers_hash_bucket_size"),
      PT_HTTP_PROXY_ALL|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      pt_proxy_off(headers_hash_bucket_size), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_proxy_module_ctx = {
    pt_http_proxy_preconfiguration,        /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_proxy_create_loc_conf,         /* create location configuration */
    pt_http_proxy_merge_loc_conf           /* merge location configuration */
};

pt_module_t  pt_http_proxy_module = {
    PT_MODULE_V1,
    &pt_http_proxy_module_ctx,
    pt_http_proxy_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- the handler ---- */

static pt_int_t
pt_http_proxy_handler(pt_http_request_t *r)
{
    pt_int_t                   rc;
    pt_http_upstream_t        *u;
    pt_http_proxy_ctx_t       *ctx;
    pt_http_proxy_loc_conf_t  *plcf;

    if (pt_http_upstream_create(r) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = pt_pcalloc(r->pool, sizeof(pt_http_proxy_ctx_t));
    if (ctx == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    pt_http_set_ctx(r, ctx, pt_http_proxy_module);

    plcf = pt_http_get_module_loc_conf(r, pt_http_proxy_module);

    u = r->upstream;

    if (plcf->url_cv == NULL) {
        ctx->vars = plcf->vars;
        u->schema = plcf->vars.schema;

    } else if (pt_http_proxy_eval(r, ctx, plcf) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->ssl = (u->schema.len == sizeof("https://") - 1);

    u->conf = &plcf->upstream;
    u->create_request = pt_http_proxy_create_request;
    u->reinit_request = pt_http_proxy_reinit_request;
    u->process_header = pt_http_proxy_process_header;
    u->input_filter_init = pt_http_proxy_input_filter_init;
    u->finalize_request = pt_http_proxy_finalize_request;

    if (plcf->redirects) {
        u->rewrite_redirect = pt_http_proxy_rewrite_redirect;
    }

    if (plcf->cookie_domains || plcf->cookie_paths || plcf->cookie_flags) {
        u->rewrite_cookie = pt_http_proxy_rewrite_cookie;
    }

    if (!plcf->upstream.pass_request_body || plcf->body_set) {
        rc = pt_http_discard_request_body(r);
        if (rc != PT_OK) {
            return rc;
        }

        r->main->count++;
        pt_http_upstream_init(r);
        return PT_DONE;
    }

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        /* no body: nothing to read */
        r->main->count++;
        pt_http_upstream_init(r);
        return PT_DONE;
    }

    if (!plcf->upstream.request_buffering
        && (r->headers_in.content_length_n >= 0 || plcf->http_version == PT_HTTP_VERSION_11))
    {
        /* streamed; a body of unknown length only as chunked HTTP/1.1 */
        r->request_body_no_buffering = 1;
    }

    rc = pt_http_read_client_request_body(r, pt_http_proxy_body_handler);

    if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return PT_DONE;
}

/* The body reader's post_handler: once (buffered), or at once and then on
 * every arrival of data (streamed). */
static void
pt_http_proxy_body_handler(pt_http_request_t *r)
{
    pt_http_proxy_ctx_t  *ctx;

    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);

    if (!ctx->body_started) {
        ctx->body_started = 1;
        pt_http_upstream_init(r);
        return;
    }

    pt_http_upstream_send_request_body(r);
}

/* ---- variables ---- */

typedef struct {
    const char               *name;
    pt_http_get_variable_pt   get;
    uintptr_t                 data;
} pt_http_proxy_var_t;

static pt_http_proxy_var_t  pt_http_proxy_vars[] = {
    { "proxy_host", pt_http_proxy_vars_variable,
      offsetof(pt_http_proxy_vars_t, host_header) },
    { "proxy_port", pt_http_proxy_vars_variable,
      offsetof(pt_http_proxy_vars_t, port) },
    { "proxy_add_x_forwarded_for", pt_http_proxy_add_x_forwarded_for_variable, 0 },
    { NULL, NULL, 0 }
};

static pt_int_t
pt_http_proxy_preconfiguration(pt_conf_t *cf)
{
    pt_str_t              name;
    pt_http_variable_t   *var;
    pt_http_proxy_var_t  *v;

    for (v = pt_http_proxy_vars; v->name; v++) {
        name.data = (u_char *) v->name;
        name.len = pt_strlen(v->name);

        var = pt_http_add_variable(cf, &name, PT_HTTP_VAR_NOCACHEABLE);
        if (var == NULL) {
            return PT_ERROR;
        }

        var->get_handler = v->get;
        var->data = v->data;
    }

    return PT_OK;
}

static pt_int_t
pt_http_proxy_var_set(pt_http_variable_value_t *v, pt_str_t *s)
{
    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}

/* $proxy_host and $proxy_port: data is the field's offset in the
 * request's pt_http_proxy_vars_t. */
static pt_int_t
pt_http_proxy_vars_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_proxy_ctx_t  *ctx;

    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return PT_OK;
    }

    return pt_http_proxy_var_set(v, (pt_str_t *) ((u_char *) &ctx->vars + data));
}

/* The client's X-Forwarded-For values, then $remote_addr. */
static pt_int_t
pt_http_proxy_add_x_forwarded_for_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data)
{
    u_char            *p;
    size_t             len;
    pt_connection_t   *c;
    pt_http_header_t  *h;

    c = r->connection;

    len = 0;

    for (h = r->headers_in.x_forwarded_for; h; h = h->next) {
        len += h->value.len + 2;
    }

    if (len == 0) {
        return pt_http_proxy_var_set(v, &c->addr_text);
    }

    len += c->addr_text.len;

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_ERROR;
    }

    v->data = p;

    for (h = r->headers_in.x_forwarded_for; h; h = h->next) {
        p = pt_cpymem(p, h->value.data, h->value.len);
        *p++ = ',';
        *p++ = ' ';
    }

    p = pt_cpymem(p, c->addr_text.data, c->addr_text.len);

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}

/* ---- configuration ---- */

static void *
pt_http_proxy_create_loc_conf(pt_conf_t *cf)
{
    pt_http_proxy_loc_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_proxy_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->upstream.connect_timeout = PT_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = PT_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = PT_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_timeout = PT_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_tries = PT_CONF_UNSET_UINT;

    conf->upstream.buffer_size = PT_CONF_UNSET_SIZE;
    conf->upstream.busy_buffers_size_conf = PT_CONF_UNSET_SIZE;
    conf->upstream.max_temp_file_size_conf = PT_CONF_UNSET;
    conf->upstream.temp_file_write_size_conf = PT_CONF_UNSET_SIZE;

    conf->upstream.buffering = PT_CONF_UNSET;
    conf->upstream.request_buffering = PT_CONF_UNSET;
    conf->upstream.pass_request_headers = PT_CONF_UNSET;
    conf->upstream.pass_request_body = PT_CONF_UNSET;
    conf->upstream.ignore_client_abort = PT_CONF_UNSET;
    conf->upstream.intercept_errors = PT_CONF_UNSET;

    conf->upstream.hide_headers = PT_CONF_UNSET_PTR;
    conf->upstream.pass_headers = PT_CONF_UNSET_PTR;
    conf->upstream.local = PT_CONF_UNSET_PTR;
    conf->upstream.socket_keepalive = PT_CONF_UNSET;
    conf->upstream.limit_rate = PT_CONF_UNSET_SIZE;

    conf->headers_hash_max_size = PT_CONF_UNSET_UINT;
    conf->headers_hash_bucket_size = PT_CONF_UNSET_UINT;
    conf->send_lowat = PT_CONF_UNSET_SIZE;

    pt_str_set(&conf->upstream.module, "proxy");

    conf->headers_source = PT_CONF_UNSET_PTR;
    conf->body_set = PT_CONF_UNSET_PTR;
    conf->method = PT_CONF_UNSET_PTR;
    conf->http_version = PT_CONF_UNSET_UINT;

    conf->redirect = PT_CONF_UNSET;
    conf->cookie_domains = PT_CONF_UNSET_PTR;
    conf->cookie_paths = PT_CONF_UNSET_PTR;
    conf->cookie_flags = PT_CONF_UNSET_PTR;

    return conf;
}

/* nginx's sizes: one page for the head, 8 pages of buffers, busy and temp
 * writes twice the larger of the two sizes. */
static char *
pt_http_proxy_merge_buffers(pt_conf_t *cf, pt_http_upstream_conf_t *conf,
    pt_http_upstream_conf_t *prev)
{
    size_t  size;

    pt_conf_merge_size_value(conf->buffer_size, prev->buffer_size, pt_pagesize);
    pt_conf_merge_bufs_value(conf->bufs, prev->bufs, 8, pt_pagesize);

    if (conf->bufs.num < 2) {
        return "there must be at least 2 \"proxy_buffers\"";
    }

    size = pt_max(conf->buffer_size, conf->bufs.size);

    pt_conf_merge_size_value(conf->busy_buffers_size_conf,
                             prev->busy_buffers_size_conf, PT_CONF_UNSET_SIZE);

    conf->busy_buffers_size = conf->busy_buffers_size_conf == PT_CONF_UNSET_SIZE
                              ? 2 * size : conf->busy_buffers_size_conf;

    if (conf->busy_buffers_size < size) {
        return "\"proxy_busy_buffers_size\" must be equal to or greater than "
               "the maximum of the value of \"proxy_buffer_size\" and "
               "one of the \"proxy_buffers\"";
    }

    if (conf->busy_buffers_size > (conf->bufs.num - 1) * conf->bufs.size) {
        return "\"proxy_busy_buffers_size\" must be less than the size of all "
               "\"proxy_buffers\" minus one buffer";
    }

    pt_conf_merge_size_value(conf->temp_file_write_size_conf,
                             prev->temp_file_write_size_conf, PT_CONF_UNSET_SIZE);

    conf->temp_file_write_size = conf->temp_file_write_size_conf == PT_CONF_UNSET_SIZE
                                 ? 2 * size : conf->temp_file_write_size_conf;

    pt_conf_merge_off_value(conf->max_temp_file_size_conf,
                            prev->max_temp_file_size_conf, PT_CONF_UNSET);

    conf->max_temp_file_size = conf->max_temp_file_size_conf == PT_CONF_UNSET
                               ? 1024 * 1024 * 1024 : conf->max_temp_file_size_conf;

    if (conf->max_temp_file_size != 0 && conf->max_temp_file_size < (off_t) size) {
        return "\"proxy_max_temp_file_size\" must be equal to zero to disable "
               "temporary files usage or must be equal to or greater than "
               "the maximum of the value of \"proxy_buffer_size\" and "
               "one of the \"proxy_buffers\"";
    }

    return PT_CONF_OK;
}

/* Timeouts, tries and the on/off switches. */
static void
pt_http_proxy_merge_values(pt_http_upstream_conf_t *conf, pt_http_upstream_conf_t *prev)
{
    pt_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout, 60000);
    pt_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    pt_conf_merge_msec_value(conf->read_timeout, prev->read_timeout, 60000);
    pt_conf_merge_msec_value(conf->next_upstream_timeout, prev->next_upstream_timeout, 0);
    pt_conf_merge_uint_value(conf->next_upstream_tries, prev->next_upstream_tries, 0);

    pt_conf_merge_value(conf->buffering, prev->buffering, 1);
    pt_conf_merge_value(conf->request_buffering, prev->request_buffering, 1);
    pt_conf_merge_value(conf->pass_request_headers, prev->pass_request_headers, 1);
    pt_conf_merge_value(conf->pass_request_body, prev->pass_request_body, 1);
    pt_conf_merge_value(conf->ignore_client_abort, prev->ignore_client_abort, 0);
    pt_conf_merge_value(conf->intercept_errors, prev->intercept_errors, 0);

    pt_conf_merge_bitmask_value(conf->ignore_headers, prev->ignore_headers,
                                PT_CONF_BITMASK_SET);

    pt_conf_merge_bitmask_value(conf->next_upstream, prev->next_upstream,
                                (PT_CONF_BITMASK_SET|PT_HTTP_UPSTREAM_FT_ERROR
                                 |PT_HTTP_UPSTREAM_FT_TIMEOUT));

    if (conf->next_upstream & PT_HTTP_UPSTREAM_FT_OFF) {
        conf->next_upstream = PT_CONF_BITMASK_SET|PT_HTTP_UPSTREAM_FT_OFF;
    }
}

/* proxy_pass itself is inherited into nested and "if" locations; an "if"
 * block gets the handler too. */
static void
pt_http_proxy_merge_pass(pt_conf_t *cf, pt_http_proxy_loc_conf_t *conf,
    pt_http_proxy_loc_conf_t *prev)
{
    pt_http_core_loc_conf_t  *clcf;

    if (conf->upstream.upstream == NULL && conf->url_cv == NULL) {
        conf->upstream.upstream = prev->upstream.upstream;
        conf->url = prev->url;
        conf->url_cv = prev->url_cv;
        conf->vars = prev->vars;
        conf->location = prev->location;
    }

    clcf = pt_http_conf_get_module_loc_conf(cf, pt_http_core_module);

    if (clcf->noname && clcf->handler == NULL
        && (conf->upstream.upstream || conf->url_cv))
    {
        clcf->handler = pt_http_proxy_handler;
    }
}

static char *
pt_http_proxy_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_proxy_loc_conf_t *prev = parent;
    pt_http_proxy_loc_conf_t *conf = child;

    char  *rv;

    pt_http_proxy_merge_values(&conf->upstream, &prev->upstream);

    rv = pt_http_proxy_merge_buffers(cf, &conf->upstream, &prev->upstream);
    if (rv != PT_CONF_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "%s", rv);
        return PT_CONF_ERROR;
    }

    rv = pt_conf_merge_path_value(cf, &conf->upstream.temp_path,
                                  prev->upstream.temp_path, &pt_http_proxy_temp_path);
    if (rv != PT_CONF_OK) {
        return rv;
    }

    if (pt_http_upstream_hide_headers_merge(cf, &conf->upstream, &prev->upstream,
                                            pt_http_proxy_hide_headers) != PT_OK)
    {
        return PT_CONF_ERROR;
    }

    pt_conf_merge_ptr_value(conf->upstream.local, prev->upstream.local, NULL);
    pt_conf_merge_value(conf->upstream.socket_keepalive,
                        prev->upstream.socket_keepalive, 0);
    pt_conf_merge_size_value(conf->upstream.limit_rate,
                             prev->upstream.limit_rate, 0);
    pt_conf_merge_uint_value(conf->headers_hash_max_size,
                             prev->headers_hash_max_size, 512);
    pt_conf_merge_uint_value(conf->headers_hash_bucket_size,
                             prev->headers_hash_bucket_size, 64);
    pt_conf_merge_size_value(conf->send_lowat, prev->send_lowat, 0);

    pt_conf_merge_ptr_value(conf->body_set, prev->body_set, NULL);
    pt_conf_merge_ptr_value(conf->method, prev->method, NULL);
    pt_conf_merge_uint_value(conf->http_version, prev->http_version,
                             PT_HTTP_VERSION_10);

    pt_http_proxy_merge_pass(cf, conf, prev);

    if (pt_http_proxy_redirect_merge(cf, conf, prev) != PT_OK) {
        return PT_CONF_ERROR;
    }

    pt_http_proxy_cookie_merge(conf, prev);

    if (conf->headers_source == PT_CONF_UNSET_PTR) {
        /* none at this level: the parent's list, as nginx */
        conf->headers_source = prev->headers_source;
        conf->headers = prev->headers;
        conf->connection_close = prev->connection_close;
    }

    if (conf->headers == NULL && pt_http_proxy_init_headers(cf, conf) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* "http://", "https://" (with the TLS module) or an error. */
static pt_int_t
pt_http_proxy_schema(pt_conf_t *cf, pt_str_t *url, pt_uint_t *add)
{
    if (url->len > 7 && pt_strncasecmp(url->data, (u_char *) "http://", 7) == 0) {
        *add = 7;
        return PT_OK;
    }

    if (url->len > 8 && pt_strncasecmp(url->data, (u_char *) "https://", 8) == 0) {
#if (PT_HAVE_HTTP_SSL_MODULE)
        *add = 8;
        return pt_http_upstream_ssl_enable(cf, 0);
#else
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "https protocol requires SSL support");
        return PT_ERROR;
#endif
    }

    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid URL prefix in \"" PT_STR_FMT "\"",
                      PT_STR_ARG(*url));
    return PT_ERROR;
}

/* The Host header and $proxy_port of a parsed address. */
static void
pt_http_proxy_set_vars(pt_url_t *u, pt_http_proxy_vars_t *v)
{
    if (u->family != AF_UNIX) {
        if (u->no_port || u->port == u->default_port) {
            v->host_header = u->host;
        } else {
            v->host_header.len = u->host.len + 1 + u->port_text.len;
            v->host_header.data = u->host.data;
        }

        if (u->no_port && u->default_port == 443) {
            pt_str_set(&v->port, "443");
        } else if (u->no_port) {
            pt_str_set(&v->port, "80");
        } else {
            v->port = u->port_text;
        }

    } else {
        pt_str_set(&v->host_header, "localhost");
        pt_str_null(&v->port);
    }

    v->uri = u->uri;
}

/* proxy_pass with variables: compiled, evaluated per request. */
static char *
pt_http_proxy_pass_variables(pt_conf_t *cf, pt_http_proxy_loc_conf_t *plcf,
    pt_http_core_loc_conf_t *clcf, pt_str_t *url)
{
    pt_http_compile_complex_value_t  ccv;

    plcf->url_cv = pt_pcalloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (plcf->url_cv == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = url;
    ccv.complex_value = plcf->url_cv;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

#if (PT_HAVE_HTTP_SSL_MODULE)
    /* "https://$host" warns if not verified; "$url" may become https */
    if ((url->len > 8 && pt_strncasecmp(url->data, (u_char *) "https://", 8) == 0)
        || url->data[0] == '$')
    {
        if (pt_http_upstream_ssl_enable(cf, url->data[0] == '$') != PT_OK) {
            return PT_CONF_ERROR;
        }
    }
#endif

    plcf->url = *url;
    plcf->location = clcf->name;

    return PT_CONF_OK;
}

static char *
pt_http_proxy_pass(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    pt_url_t                  u;
    pt_str_t                 *value, *url;
    pt_uint_t                 add;
    pt_http_core_loc_conf_t  *clcf;

    if (plcf->upstream.upstream || plcf->url_cv) {
        return "is duplicate";
    }

    clcf = pt_http_conf_get_module_loc_conf(cf, pt_http_core_module);

    clcf->handler = pt_http_proxy_handler;

    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/') {
        clcf->auto_redirect = 1;
    }

    value = cf->args->elts;
    url = &value[1];

    if (pt_http_script_variables_count(url)) {
        return pt_http_proxy_pass_variables(cf, plcf, clcf, url);
    }

    if (pt_http_proxy_schema(cf, url, &add) != PT_OK) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&u, sizeof(pt_url_t));

    u.url.len = url->len - add;
    u.url.data = url->data + add;
    u.default_port = (add == 8) ? 443 : 80;
    u.uri_part = 1;
    u.no_resolve = 1;

    plcf->upstream.upstream = pt_http_upstream_add(cf, &u, 0);
    if (plcf->upstream.upstream == NULL) {
        return PT_CONF_ERROR;
    }

    if (add == 8) {
        pt_str_set(&plcf->vars.schema, "https://");
    } else {
        pt_str_set(&plcf->vars.schema, "http://");
    }
    pt_http_proxy_set_vars(&u, &plcf->vars);

    plcf->location = clcf->name;

    if (clcf->named || clcf->regex || clcf->noname) {
        if (plcf->vars.uri.len) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "\"proxy_pass\" cannot have URI part in "
                              "location given by regular expression, "
                              "or inside named location, "
                              "or inside \"if\" statement, "
                              "or inside \"limit_except\" block");
            return PT_CONF_ERROR;
        }

        plcf->location.len = 0;
    }

    plcf->url = *url;

    return PT_CONF_OK;
}

/* What a proxy_pass with variables named: a group (found by its name at
 * connect time) or, for an address, the address itself. */
static pt_http_upstream_resolved_t *
pt_http_proxy_resolved(pt_http_request_t *r, pt_url_t *url)
{
    pt_http_upstream_resolved_t  *ur;

    ur = pt_pcalloc(r->pool, sizeof(pt_http_upstream_resolved_t));
    if (ur == NULL) {
        return NULL;
    }

    ur->host = url->host;
    ur->port = url->port;
    ur->no_port = url->no_port;

    if (url->naddrs) {
        ur->sockaddr = url->addrs[0].sockaddr;
        ur->socklen = url->addrs[0].socklen;
        ur->name = url->addrs[0].name;

        if (url->family == AF_UNIX) {
            ur->name.data = url->url.data;
            ur->name.len = sizeof("unix:") - 1 + url->host.len;
        }
    }

    return ur;
}

/* proxy_pass with variables, per request: the address or group, and the
 * vars; PT_ERROR (logged) for a bad value. */
pt_int_t
pt_http_proxy_eval(pt_http_request_t *r, pt_http_proxy_ctx_t *ctx,
    pt_http_proxy_loc_conf_t *plcf)
{
    pt_str_t             proxy;
    pt_url_t             url;
    pt_http_upstream_t  *u;

    if (pt_http_complex_value(r, plcf->url_cv, &proxy) != PT_OK) {
        return PT_ERROR;
    }

    u = r->upstream;

    if (proxy.len > 7 && pt_strncasecmp(proxy.data, (u_char *) "http://", 7) == 0) {
        pt_str_set(&ctx->vars.schema, "http://");

#if (PT_HAVE_HTTP_SSL_MODULE)
    } else if (proxy.len > 8
               && pt_strncasecmp(proxy.data, (u_char *) "https://", 8) == 0)
    {
        pt_str_set(&ctx->vars.schema, "https://");
#endif

    } else {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "invalid URL prefix in \"" PT_STR_FMT "\"", PT_STR_ARG(proxy));
        return PT_ERROR;
    }

    u->schema = ctx->vars.schema;

    pt_memzero(&url, sizeof(pt_url_t));

    url.url.len = proxy.len - ctx->vars.schema.len;
    url.url.data = proxy.data + ctx->vars.schema.len;
    url.default_port = (ctx->vars.schema.len == 8) ? 443 : 80;
    url.uri_part = 1;
    url.no_resolve = 1;

    if (pt_parse_url(r->pool, &url) != PT_OK) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0, "%s in upstream \""
                     PT_STR_FMT "\"", url.err ? url.err : "invalid URL",
                     PT_STR_ARG(url.url));
        return PT_ERROR;
    }

    pt_http_proxy_set_vars(&url, &ctx->vars);

    if (url.uri.len && url.uri.data[0] == '?') {
        /* "http://host?args": the uri is "/?args" */
        ctx->vars.uri.data = pt_pnalloc(r->pool, url.uri.len + 1);
        if (ctx->vars.uri.data == NULL) {
            return PT_ERROR;
        }
        ctx->vars.uri.data[0] = '/';
        pt_memcpy(ctx->vars.uri.data + 1, url.uri.data, url.uri.len);
        ctx->vars.uri.len = url.uri.len + 1;
    }

    u->resolved = pt_http_proxy_resolved(r, &url);

    return u->resolved ? PT_OK : PT_ERROR;
}

static char *
pt_http_proxy_http_version(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_proxy_loc_conf_t *plcf = conf;

    pt_str_t  *value;

    if (plcf->http_version != PT_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (pt_str_eq_lit(&value[1], "1.0")) {
        plcf->http_version = PT_HTTP_VERSION_10;

    } else if (pt_str_eq_lit(&value[1], "1.1")) {
        plcf->http_version = PT_HTTP_VERSION_11;

    } else {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"%s\"", value[1].data);
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* A complex value into a pt_http_complex_value_t * field (PT_CONF_UNSET_PTR
 * while unset). */
static char *
pt_http_proxy_set_cv(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t                         *value;
    pt_http_complex_value_t         **cv;
    pt_http_compile_complex_value_t   ccv;

    cv = (pt_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (*cv != PT_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *cv = pt_pcalloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (*cv == NULL) {
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = *cv;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* proxy_send_lowat: Linux has no SO_SNDLOWAT for sockets, so nginx warns
 * and ignores it there; so does portico. */
static char *
pt_http_proxy_lowat_check(pt_conf_t *cf, void *post, void *data)
{
    pt_conf_log_error(PT_LOG_WARN, cf, 0, "\"proxy_send_lowat\" is not supported, ignored");

    return PT_CONF_OK;
}
