/*
 * pt_http_core_module.c: the http core module.
 *
 * Its directives (server, listen, server_name and the connection and
 * request settings) and its confs at the three levels.  The phase walk and
 * the helpers every content handler uses to answer are in
 * pt_http_core_phases.c; the location directive, the location search and
 * internal redirects in pt_http_location.c; error_page in
 * pt_http_error_page.c.
 */

#include "pt_http.h"

static pt_int_t pt_http_core_preconfiguration(pt_conf_t *cf);
static void *pt_http_core_create_main_conf(pt_conf_t *cf);
static char *pt_http_core_init_main_conf(pt_conf_t *cf, void *conf);
static void *pt_http_core_create_srv_conf(pt_conf_t *cf);
static char *pt_http_core_merge_srv_conf(pt_conf_t *cf, void *parent, void *child);
static void *pt_http_core_create_loc_conf(pt_conf_t *cf);
static char *pt_http_core_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);

static char *pt_http_core_server(pt_conf_t *cf, pt_command_t *cmd, void *dummy);
static char *pt_http_core_listen(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_core_server_name(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static pt_int_t pt_http_core_regex_server_name(pt_conf_t *cf,
    pt_http_core_srv_conf_t *cscf, pt_str_t *name);
static char *pt_http_core_keepalive(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_conf_bitmask_t  pt_http_core_keepalive_disable[] = {
    { pt_string("none"), PT_HTTP_KEEPALIVE_DISABLE_NONE },
    { pt_string("msie6"), PT_HTTP_KEEPALIVE_DISABLE_MSIE6 },
    { pt_string("safari"), PT_HTTP_KEEPALIVE_DISABLE_SAFARI },
    { pt_null_string, 0 }
};

static pt_conf_enum_t  pt_http_core_lingering_close[] = {
    { pt_string("off"), PT_HTTP_LINGERING_OFF },
    { pt_string("on"), PT_HTTP_LINGERING_ON },
    { pt_string("always"), PT_HTTP_LINGERING_ALWAYS },
    { pt_null_string, 0 }
};

static pt_conf_enum_t  pt_http_core_satisfy[] = {
    { pt_string("all"), PT_HTTP_SATISFY_ALL },
    { pt_string("any"), PT_HTTP_SATISFY_ANY },
    { pt_null_string, 0 }
};

#define PT_HTTP_CORE_ALL  (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF)

/* client_body_temp_path's default: under the prefix, no levels. */
static pt_path_init_t  pt_http_client_temp_path = {
    pt_string("client_body_temp"), { 0, 0, 0 }
};

static char *pt_http_core_error_log(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_core_commands[] = {

    { pt_string("error_log"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_1MORE,
      pt_http_core_error_log, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("server"),
      PT_HTTP_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_NOARGS,
      pt_http_core_server, 0, 0, NULL },

    { pt_string("listen"),
      PT_HTTP_SRV_CONF|PT_CONF_1MORE,
      pt_http_core_listen, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { pt_string("server_name"),
      PT_HTTP_SRV_CONF|PT_CONF_1MORE,
      pt_http_core_server_name, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { pt_string("location"),
      PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_BLOCK|PT_CONF_TAKE12,
      pt_http_core_location, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { pt_string("connection_pool_size"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, connection_pool_size), NULL },

    { pt_string("request_pool_size"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, request_pool_size), NULL },

    { pt_string("client_header_timeout"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, client_header_timeout), NULL },

    { pt_string("client_header_buffer_size"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, client_header_buffer_size), NULL },

    { pt_string("large_client_header_buffers"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_TAKE2,
      pt_conf_set_bufs_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, large_client_header_buffers), NULL },

    { pt_string("ignore_invalid_headers"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, ignore_invalid_headers), NULL },

    { pt_string("merge_slashes"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, merge_slashes), NULL },

    { pt_string("underscores_in_headers"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_core_srv_conf_t, underscores_in_headers), NULL },

    { pt_string("default_type"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, default_type), NULL },

    { pt_string("root"),
      PT_HTTP_CORE_ALL|PT_HTTP_LIF_CONF|PT_CONF_TAKE1,
      pt_http_file_root, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("alias"),
      PT_HTTP_LOC_CONF|PT_CONF_TAKE1,
      pt_http_file_root, PT_HTTP_LOC_CONF_OFFSET, 1, NULL },

    { pt_string("types"),
      PT_HTTP_CORE_ALL|PT_CONF_BLOCK|PT_CONF_NOARGS,
      pt_http_file_types, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("open_file_cache"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE12,
      pt_http_file_open_file_cache, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("open_file_cache_valid"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_sec_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, open_file_cache_valid), NULL },

    { pt_string("open_file_cache_min_uses"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, open_file_cache_min_uses), NULL },

    { pt_string("open_file_cache_errors"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, open_file_cache_errors), NULL },

    /* nginx reacts to file events only on kqueue systems; on Linux the
     * directive is accepted and does nothing there, and so here */
    { pt_string("open_file_cache_events"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, open_file_cache_events), NULL },

    { pt_string("types_hash_max_size"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_http_file_types_hash_size, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("types_hash_bucket_size"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_http_file_types_hash_size, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("sendfile"),
      PT_HTTP_CORE_ALL|PT_HTTP_LIF_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, sendfile), NULL },

    { pt_string("sendfile_max_chunk"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, sendfile_max_chunk), NULL },

    /* accepted for nginx configs; see pt_http_core_loc_conf_t */
    { pt_string("output_buffers"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE2,
      pt_conf_set_bufs_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, output_bufs), NULL },

    { pt_string("read_ahead"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, read_ahead), NULL },

    { pt_string("msie_padding"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, msie_padding), NULL },

    { pt_string("msie_refresh"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, msie_refresh), NULL },

    { pt_string("log_subrequest"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, log_subrequest), NULL },

    { pt_string("server_names_hash_max_size"),
      PT_HTTP_MAIN_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_MAIN_CONF_OFFSET,
      offsetof(pt_http_core_main_conf_t, server_names_hash_max_size), NULL },

    { pt_string("server_names_hash_bucket_size"),
      PT_HTTP_MAIN_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_MAIN_CONF_OFFSET,
      offsetof(pt_http_core_main_conf_t, server_names_hash_bucket_size), NULL },

    { pt_string("variables_hash_max_size"),
      PT_HTTP_MAIN_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_MAIN_CONF_OFFSET,
      offsetof(pt_http_core_main_conf_t, variables_hash_max_size), NULL },

    { pt_string("variables_hash_bucket_size"),
      PT_HTTP_MAIN_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_MAIN_CONF_OFFSET,
      offsetof(pt_http_core_main_conf_t, variables_hash_bucket_size), NULL },

    { pt_string("limit_rate"),
      PT_HTTP_CORE_ALL|PT_HTTP_LIF_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, limit_rate), NULL },

    { pt_string("limit_rate_after"),
      PT_HTTP_CORE_ALL|PT_HTTP_LIF_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, limit_rate_after), NULL },

    { pt_string("client_max_body_size"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_off_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, client_max_body_size), NULL },

    { pt_string("client_body_timeout"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, client_body_timeout), NULL },

    { pt_string("client_body_buffer_size"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, client_body_buffer_size), NULL },

    { pt_string("client_body_temp_path"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1234,
      pt_conf_set_path_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, client_body_temp_path), NULL },

    { pt_string("keepalive_disable"),
      PT_HTTP_CORE_ALL|PT_CONF_1MORE,
      pt_conf_set_bitmask_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, keepalive_disable),
      &pt_http_core_keepalive_disable },

    { pt_string("reset_timedout_connection"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, reset_timedout_connection), NULL },

    { pt_string("tcp_nopush"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, tcp_nopush), NULL },

    { pt_string("chunked_transfer_encoding"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, chunked_transfer_encoding), NULL },

    { pt_string("postpone_output"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, postpone_output), NULL },

    { pt_string("keepalive_timeout"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE12,
      pt_http_core_keepalive, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("keepalive_requests"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, keepalive_requests), NULL },

    { pt_string("keepalive_time"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, keepalive_time), NULL },

    { pt_string("send_timeout"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, send_timeout), NULL },

    { pt_string("lingering_close"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_enum_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, lingering_close),
      &pt_http_core_lingering_close },

    { pt_string("lingering_time"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, lingering_time), NULL },

    { pt_string("lingering_timeout"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, lingering_timeout), NULL },

    { pt_string("server_tokens"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, server_tokens), NULL },

    { pt_string("tcp_nodelay"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, tcp_nodelay), NULL },

    { pt_string("absolute_redirect"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, absolute_redirect), NULL },

    { pt_string("server_name_in_redirect"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, server_name_in_redirect), NULL },

    { pt_string("port_in_redirect"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, port_in_redirect), NULL },

    { pt_string("log_not_found"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, log_not_found), NULL },

    /* locations and error pages: pt_http_location.c, pt_http_error_page.c */

    { pt_string("internal"),
      PT_HTTP_LOC_CONF|PT_CONF_NOARGS,
      pt_http_core_internal, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("limit_except"),
      PT_HTTP_LOC_CONF|PT_CONF_BLOCK|PT_CONF_1MORE,
      pt_http_core_limit_except, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    /* how the ACCESS phase combines its modules' answers */
    { pt_string("satisfy"),
      PT_HTTP_CORE_ALL|PT_CONF_TAKE1,
      pt_conf_set_enum_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, satisfy), &pt_http_core_satisfy },

    { pt_string("error_page"),
      PT_HTTP_CORE_ALL|PT_HTTP_LIF_CONF|PT_CONF_2MORE,
      pt_http_core_error_page, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("recursive_error_pages"),
      PT_HTTP_CORE_ALL|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_core_loc_conf_t, recursive_error_pages), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_core_module_ctx = {
    pt_http_core_preconfiguration,         /* preconfiguration */
    NULL,                                  /* postconfiguration */
    pt_http_core_create_main_conf,         /* create main configuration */
    pt_http_core_init_main_conf,           /* init main configuration */
    pt_http_core_create_srv_conf,          /* create server configuration */
    pt_http_core_merge_srv_conf,           /* merge server configuration */
    pt_http_core_create_loc_conf,          /* create location configuration */
    pt_http_core_merge_loc_conf            /* merge location configuration */
};

pt_module_t  pt_http_core_module = {
    PT_MODULE_V1,
    &pt_http_core_module_ctx,
    pt_http_core_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* error_log in http, server or location: as nginx, several per level, the
 * innermost level that has one wins. */
static char *
pt_http_core_error_log(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t  *clcf = conf;

    return pt_log_set_log(cf, &clcf->error_log);
}

/* ---- configuration ---- */

static pt_int_t
pt_http_core_preconfiguration(pt_conf_t *cf)
{
    return pt_http_variables_add_core_vars(cf);
}

static void *
pt_http_core_create_main_conf(pt_conf_t *cf)
{
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_pcalloc(cf->pool, sizeof(pt_http_core_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    if (pt_array_init(&cmcf->servers, cf->pool, 4, sizeof(pt_http_core_srv_conf_t *))
        != PT_OK)
    {
        return NULL;
    }

    cmcf->server_names_hash_max_size = PT_CONF_UNSET_UINT;
    cmcf->server_names_hash_bucket_size = PT_CONF_UNSET_UINT;
    cmcf->variables_hash_max_size = PT_CONF_UNSET_UINT;
    cmcf->variables_hash_bucket_size = PT_CONF_UNSET_UINT;

    return cmcf;
}

static char *
pt_http_core_init_main_conf(pt_conf_t *cf, void *conf)
{
    pt_http_core_main_conf_t  *cmcf = conf;

    /* nginx's defaults (64: its cache line size here) */
    pt_conf_init_uint_value(cmcf->server_names_hash_max_size, 512);
    pt_conf_init_uint_value(cmcf->server_names_hash_bucket_size, 64);
    pt_conf_init_uint_value(cmcf->variables_hash_max_size, 1024);
    pt_conf_init_uint_value(cmcf->variables_hash_bucket_size, 64);

    return PT_CONF_OK;
}

static void *
pt_http_core_create_srv_conf(pt_conf_t *cf)
{
    pt_http_core_srv_conf_t  *cscf;

    cscf = pt_pcalloc(cf->pool, sizeof(pt_http_core_srv_conf_t));
    if (cscf == NULL) {
        return NULL;
    }

    if (pt_array_init(&cscf->server_names, cf->temp_pool, 4,
                      sizeof(pt_http_server_name_t)) != PT_OK)
    {
        return NULL;
    }

    cscf->connection_pool_size = PT_CONF_UNSET_SIZE;
    cscf->request_pool_size = PT_CONF_UNSET_SIZE;
    cscf->client_header_timeout = PT_CONF_UNSET_MSEC;
    cscf->client_header_buffer_size = PT_CONF_UNSET_SIZE;
    cscf->ignore_invalid_headers = PT_CONF_UNSET;
    cscf->merge_slashes = PT_CONF_UNSET;
    cscf->underscores_in_headers = PT_CONF_UNSET;

    if (cf->conf_file) {
        cscf->file_name = cf->conf_file->file.name.data;
        cscf->line = cf->conf_file->line;
    }

    return cscf;
}

static char *
pt_http_core_merge_srv_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_core_srv_conf_t  *prev = parent;
    pt_http_core_srv_conf_t  *conf = child;
    pt_http_server_name_t    *sn;

    pt_conf_merge_size_value(conf->connection_pool_size,
                             prev->connection_pool_size, 512);
    pt_conf_merge_size_value(conf->request_pool_size, prev->request_pool_size, 4096);
    pt_conf_merge_msec_value(conf->client_header_timeout,
                             prev->client_header_timeout, 60000);
    pt_conf_merge_size_value(conf->client_header_buffer_size,
                             prev->client_header_buffer_size, 1024);
    pt_conf_merge_bufs_value(conf->large_client_header_buffers,
                             prev->large_client_header_buffers, 4, 8192);
    pt_conf_merge_value(conf->ignore_invalid_headers, prev->ignore_invalid_headers, 1);
    pt_conf_merge_value(conf->merge_slashes, prev->merge_slashes, 1);
    pt_conf_merge_value(conf->underscores_in_headers, prev->underscores_in_headers, 0);

    if (conf->connection_pool_size < PT_MIN_POOL_SIZE) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the \"connection_pool_size\" must be at least %zu",
                          (size_t) PT_MIN_POOL_SIZE);
        return PT_CONF_ERROR;
    }

    if (conf->request_pool_size < PT_MIN_POOL_SIZE) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the \"request_pool_size\" must be at least %zu",
                          (size_t) PT_MIN_POOL_SIZE);
        return PT_CONF_ERROR;
    }

    if (conf->large_client_header_buffers.size < conf->connection_pool_size) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the \"large_client_header_buffers\" size must be "
                          "equal to or greater than \"connection_pool_size\"");
        return PT_CONF_ERROR;
    }

    if (conf->server_names.nelts == 0) {
        /* No server_name: the server answers requests without a Host. */
        sn = pt_array_push(&conf->server_names);
        if (sn == NULL) {
            return PT_CONF_ERROR;
        }
        pt_str_null(&sn->name);
        sn->name.data = (u_char *) "";
        sn->server = conf;
        sn->regex = NULL;
    }

    /* $server_name: the first name, as nginx has it (".example.com"
     * without its dot, a regex with its "~") */
    sn = conf->server_names.elts;
    conf->server_name = sn[0].name;

    if (sn[0].regex == NULL && conf->server_name.len > 1
        && conf->server_name.data[0] == '.')
    {
        conf->server_name.data++;
        conf->server_name.len--;
    }

    return PT_CONF_OK;
}

static void *
pt_http_core_create_loc_conf(pt_conf_t *cf)
{
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_pcalloc(cf->pool, sizeof(pt_http_core_loc_conf_t));
    if (clcf == NULL) {
        return NULL;
    }

    clcf->client_max_body_size = PT_CONF_UNSET;
    clcf->client_body_buffer_size = PT_CONF_UNSET_SIZE;
    clcf->client_body_temp_path = NULL;
    clcf->keepalive_disable = 0;
    clcf->reset_timedout_connection = PT_CONF_UNSET;
    clcf->tcp_nopush = PT_CONF_UNSET;
    clcf->chunked_transfer_encoding = PT_CONF_UNSET;
    clcf->postpone_output = PT_CONF_UNSET_SIZE;
    clcf->keepalive_timeout = PT_CONF_UNSET_MSEC;
    clcf->keepalive_header = PT_CONF_UNSET;
    clcf->keepalive_requests = PT_CONF_UNSET_UINT;
    clcf->keepalive_time = PT_CONF_UNSET_MSEC;
    clcf->send_timeout = PT_CONF_UNSET_MSEC;
    clcf->client_body_timeout = PT_CONF_UNSET_MSEC;
    clcf->lingering_time = PT_CONF_UNSET_MSEC;
    clcf->lingering_timeout = PT_CONF_UNSET_MSEC;
    clcf->lingering_close = PT_CONF_UNSET_UINT;
    clcf->server_tokens = PT_CONF_UNSET;
    clcf->tcp_nodelay = PT_CONF_UNSET;
    clcf->absolute_redirect = PT_CONF_UNSET;
    clcf->server_name_in_redirect = PT_CONF_UNSET;
    clcf->port_in_redirect = PT_CONF_UNSET;
    clcf->log_not_found = PT_CONF_UNSET;
    clcf->recursive_error_pages = PT_CONF_UNSET;
    clcf->satisfy = PT_CONF_UNSET_UINT;
    clcf->sendfile = PT_CONF_UNSET;
    clcf->limit_rate = PT_CONF_UNSET_SIZE;
    clcf->limit_rate_after = PT_CONF_UNSET_SIZE;
    clcf->sendfile_max_chunk = PT_CONF_UNSET_SIZE;
    clcf->read_ahead = PT_CONF_UNSET_SIZE;
    clcf->msie_padding = PT_CONF_UNSET;
    clcf->msie_refresh = PT_CONF_UNSET;
    clcf->log_subrequest = PT_CONF_UNSET;
    clcf->open_file_cache = PT_CONF_UNSET_PTR;
    clcf->open_file_cache_valid = PT_CONF_UNSET;
    clcf->open_file_cache_min_uses = PT_CONF_UNSET_UINT;
    clcf->open_file_cache_errors = PT_CONF_UNSET;
    clcf->open_file_cache_events = PT_CONF_UNSET;

    return clcf;
}

static char *
pt_http_core_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_core_loc_conf_t  *prev = parent;
    pt_http_core_loc_conf_t  *conf = child;

    if (conf->error_log == NULL) {
        conf->error_log = prev->error_log ? prev->error_log : &cf->cycle->new_log;
    }

    pt_conf_merge_str_value(conf->default_type, prev->default_type, "text/plain");
    pt_conf_merge_off_value(conf->client_max_body_size,
                            prev->client_max_body_size, 1024 * 1024);
    pt_conf_merge_size_value(conf->client_body_buffer_size,
                             prev->client_body_buffer_size, 2 * pt_pagesize);

    if (conf->client_body_buffer_size == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"client_body_buffer_size\" must not be zero");
        return PT_CONF_ERROR;
    }

    if (pt_conf_merge_path_value(cf, &conf->client_body_temp_path,
                                 prev->client_body_temp_path,
                                 &pt_http_client_temp_path)
        != PT_CONF_OK)
    {
        return PT_CONF_ERROR;
    }

    if (conf->keepalive_disable == 0) {
        conf->keepalive_disable = prev->keepalive_disable
                                  ? prev->keepalive_disable
                                  : PT_CONF_BITMASK_SET | PT_HTTP_KEEPALIVE_DISABLE_MSIE6;
    }

    if (conf->keepalive_disable & PT_HTTP_KEEPALIVE_DISABLE_NONE) {
        conf->keepalive_disable = PT_CONF_BITMASK_SET | PT_HTTP_KEEPALIVE_DISABLE_NONE;
    }

    pt_conf_merge_value(conf->reset_timedout_connection,
                        prev->reset_timedout_connection, 0);
    pt_conf_merge_value(conf->tcp_nopush, prev->tcp_nopush, 0);
    pt_conf_merge_value(conf->chunked_transfer_encoding,
                        prev->chunked_transfer_encoding, 1);
    pt_conf_merge_size_value(conf->postpone_output, prev->postpone_output, 1460);
    pt_conf_merge_msec_value(conf->keepalive_timeout, prev->keepalive_timeout, 75000);
    pt_conf_merge_sec_value(conf->keepalive_header, prev->keepalive_header, 0);
    pt_conf_merge_uint_value(conf->keepalive_requests, prev->keepalive_requests, 1000);
    pt_conf_merge_msec_value(conf->keepalive_time, prev->keepalive_time, 3600000);
    pt_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    pt_conf_merge_msec_value(conf->client_body_timeout, prev->client_body_timeout, 60000);
    pt_conf_merge_msec_value(conf->lingering_time, prev->lingering_time, 30000);
    pt_conf_merge_msec_value(conf->lingering_timeout, prev->lingering_timeout, 5000);
    pt_conf_merge_uint_value(conf->lingering_close, prev->lingering_close,
                             PT_HTTP_LINGERING_ON);
    pt_conf_merge_value(conf->server_tokens, prev->server_tokens, 1);
    pt_conf_merge_value(conf->tcp_nodelay, prev->tcp_nodelay, 1);
    pt_conf_merge_value(conf->absolute_redirect, prev->absolute_redirect, 1);
    pt_conf_merge_value(conf->server_name_in_redirect, prev->server_name_in_redirect, 0);
    pt_conf_merge_value(conf->port_in_redirect, prev->port_in_redirect, 1);
    pt_conf_merge_value(conf->log_not_found, prev->log_not_found, 1);
    pt_conf_merge_value(conf->recursive_error_pages, prev->recursive_error_pages, 0);
    pt_conf_merge_uint_value(conf->satisfy, prev->satisfy, PT_HTTP_SATISFY_ALL);

    if (conf->error_pages == NULL) {
        conf->error_pages = prev->error_pages;
    }
    pt_conf_merge_value(conf->sendfile, prev->sendfile, 0);
    pt_conf_merge_size_value(conf->limit_rate, prev->limit_rate, 0);
    pt_conf_merge_size_value(conf->limit_rate_after, prev->limit_rate_after, 0);
    pt_conf_merge_size_value(conf->sendfile_max_chunk, prev->sendfile_max_chunk,
                             2 * 1024 * 1024);
    pt_conf_merge_size_value(conf->read_ahead, prev->read_ahead, 0);
    pt_conf_merge_bufs_value(conf->output_bufs, prev->output_bufs, 2, 32768);
    pt_conf_merge_value(conf->msie_padding, prev->msie_padding, 1);
    pt_conf_merge_value(conf->msie_refresh, prev->msie_refresh, 0);
    pt_conf_merge_value(conf->log_subrequest, prev->log_subrequest, 0);

    return pt_http_file_merge_loc_conf(cf, prev, conf);
}

/* ---- block directives ---- */

/* Creates the confs of one block level (server: srv and loc; location: loc
 * only) for every HTTP module. */
pt_http_conf_ctx_t *
pt_http_core_create_block_ctx(pt_conf_t *cf, pt_uint_t with_srv)
{
    pt_uint_t            m, mi;
    pt_module_t        **modules;
    pt_http_module_t    *module;
    pt_http_conf_ctx_t  *ctx, *pctx;

    ctx = pt_pcalloc(cf->pool, sizeof(pt_http_conf_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    pctx = cf->ctx;
    ctx->main_conf = pctx->main_conf;
    ctx->srv_conf = pctx->srv_conf;

    if (with_srv) {
        ctx->srv_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);
        if (ctx->srv_conf == NULL) {
            return NULL;
        }
    }

    ctx->loc_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);
    if (ctx->loc_conf == NULL) {
        return NULL;
    }

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != PT_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (with_srv && module->create_srv_conf) {
            ctx->srv_conf[mi] = module->create_srv_conf(cf);
            if (ctx->srv_conf[mi] == NULL) {
                return NULL;
            }
        }

        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return NULL;
            }
        }
    }

    return ctx;
}

/* A server without "listen" listens on *:80, or *:8000 when not started as
 * root (nginx's rule). */
static char *
pt_http_core_default_listen(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf)
{
    u_char                *p;
    pt_http_listen_opt_t   lsopt;
    struct sockaddr_in    *sin;

    pt_memzero(&lsopt, sizeof(pt_http_listen_opt_t));

    sin = &lsopt.sockaddr.sockaddr_in;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((getuid() == 0) ? 80 : 8000);
    sin->sin_addr.s_addr = INADDR_ANY;

    lsopt.socklen = sizeof(struct sockaddr_in);
    lsopt.backlog = 511;
    lsopt.rcvbuf = -1;
    lsopt.sndbuf = -1;
    lsopt.wildcard = 1;
    lsopt.ipv6only = 1;

    p = pt_pnalloc(cf->pool, PT_SOCKADDR_STRLEN);
    if (p == NULL) {
        return PT_CONF_ERROR;
    }

    lsopt.addr_text.data = p;
    lsopt.addr_text.len = pt_sock_ntop(&lsopt.sockaddr.sockaddr, lsopt.socklen, p,
                                       PT_SOCKADDR_STRLEN, 1);

    if (pt_http_add_listen(cf, cscf, &lsopt) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static char *
pt_http_core_server(pt_conf_t *cf, pt_command_t *cmd, void *dummy)
{
    char                      *rv;
    pt_conf_t                  pcf;
    pt_http_conf_ctx_t        *ctx;
    pt_http_core_srv_conf_t   *cscf, **cscfp;
    pt_http_core_main_conf_t  *cmcf;

    ctx = pt_http_core_create_block_ctx(cf, 1);
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    cscf = ctx->srv_conf[pt_http_core_module.ctx_index];
    cscf->ctx = ctx;

    cmcf = ctx->main_conf[pt_http_core_module.ctx_index];

    cscfp = pt_array_push(&cmcf->servers);
    if (cscfp == NULL) {
        return PT_CONF_ERROR;
    }

    *cscfp = cscf;

    /* The server level's own location conf: the parent of its locations. */
    ((pt_http_core_loc_conf_t *) ctx->loc_conf[pt_http_core_module.ctx_index])
        ->loc_conf = ctx->loc_conf;

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = PT_HTTP_SRV_CONF;

    rv = pt_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv == PT_CONF_OK && !cscf->listen) {
        rv = pt_http_core_default_listen(cf, cscf);
    }

    return rv;
}

/* ---- listen, server_name, keepalive_timeout ---- */

/* One "name=value" option of listen; returns PT_CONF_ERROR after logging. */
static char *
pt_http_core_listen_option(pt_conf_t *cf, pt_str_t *v, pt_http_listen_opt_t *lsopt)
{
    pt_str_t  s;
    ssize_t   size;
    pt_int_t  n;

    if (v->len > 8 && pt_strncmp(v->data, "backlog=", 8) == 0) {
        n = pt_atoi(v->data + 8, v->len - 8);
        if (n == PT_ERROR || n == 0) {
            goto invalid;
        }
        lsopt->backlog = (int) n;

    } else if (v->len > 7 && (pt_strncmp(v->data, "rcvbuf=", 7) == 0
                              || pt_strncmp(v->data, "sndbuf=", 7) == 0))
    {
        s.data = v->data + 7;
        s.len = v->len - 7;
        size = pt_parse_size(&s);
        if (size == PT_ERROR || size > INT_MAX) {
            goto invalid;
        }
        if (v->data[0] == 'r') {
            lsopt->rcvbuf = (int) size;
        } else {
            lsopt->sndbuf = (int) size;
        }

    } else if (pt_str_eq_lit(v, "ipv6only=on") || pt_str_eq_lit(v, "ipv6only=off")) {
        if (lsopt->sockaddr.sockaddr.sa_family != AF_INET6) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "ipv6only is not supported on addr \"" PT_STR_FMT
                              "\", ignored", PT_STR_ARG(lsopt->addr_text));
            return PT_CONF_ERROR;
        }
        lsopt->ipv6only = (v->data[10] == 'n');

    } else {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "invalid parameter \"" PT_STR_FMT "\"", PT_STR_ARG(*v));
        return PT_CONF_ERROR;
    }

    lsopt->set = 1;
    lsopt->bind = 1;

    return PT_CONF_OK;

invalid:

    pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                      "invalid value \"" PT_STR_FMT "\" of the \"listen\" directive",
                      PT_STR_ARG(*v));

    return PT_CONF_ERROR;
}

static char *
pt_http_core_listen(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_srv_conf_t *cscf = conf;

    u_char                *p;
    pt_str_t              *value;
    pt_uint_t              i;
    pt_url_t               u;
    pt_http_listen_opt_t   lsopt;

    cscf->listen = 1;

    value = cf->args->elts;

    pt_memzero(&u, sizeof(pt_url_t));
    u.url = value[1];
    u.listen = 1;
    u.default_port = 80;

    if (pt_parse_url(cf->pool, &u) != PT_OK) {
        if (u.err) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "%s in \"" PT_STR_FMT "\" of the \"listen\" directive",
                              u.err, PT_STR_ARG(u.url));
        }
        return PT_CONF_ERROR;
    }

    pt_memzero(&lsopt, sizeof(pt_http_listen_opt_t));

    pt_memcpy(&lsopt.sockaddr, &u.sockaddr, u.socklen);
    lsopt.socklen = u.socklen;
    lsopt.backlog = 511;
    lsopt.rcvbuf = -1;
    lsopt.sndbuf = -1;
    lsopt.ipv6only = 1;
    lsopt.wildcard = (lsopt.sockaddr.sockaddr.sa_family != AF_UNIX)
                     && pt_inet_wildcard(&lsopt.sockaddr.sockaddr);

    p = pt_pnalloc(cf->pool, PT_SOCKADDR_STRLEN);
    if (p == NULL) {
        return PT_CONF_ERROR;
    }

    lsopt.addr_text.data = p;
    lsopt.addr_text.len = pt_sock_ntop(&lsopt.sockaddr.sockaddr, lsopt.socklen, p,
                                       PT_SOCKADDR_STRLEN, 1);

    for (i = 2; i < cf->args->nelts; i++) {

        if (pt_str_eq_lit(&value[i], "default_server")
            || pt_str_eq_lit(&value[i], "default"))
        {
            lsopt.default_server = 1;
            continue;
        }

        if (pt_str_eq_lit(&value[i], "bind")) {
            lsopt.set = 1;
            lsopt.bind = 1;
            continue;
        }

        if (pt_str_eq_lit(&value[i], "reuseport")) {
            /* Every listening socket is SO_REUSEPORT already. */
            lsopt.set = 1;
            lsopt.bind = 1;
            lsopt.reuseport = 1;
            continue;
        }

        if (pt_str_eq_lit(&value[i], "deferred")) {
            lsopt.set = 1;
            lsopt.bind = 1;
            lsopt.deferred_accept = 1;
            continue;
        }

        if (pt_str_eq_lit(&value[i], "ssl")) {
#if (PT_HAVE_HTTP_SSL_MODULE)
            /* not a socket option: every server of the address gets TLS */
            lsopt.ssl = 1;
            continue;
#else
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "the \"ssl\" parameter requires "
                              "pt_http_ssl_module");
            return PT_CONF_ERROR;
#endif
        }

        if (pt_http_core_listen_option(cf, &value[i], &lsopt) != PT_CONF_OK) {
            return PT_CONF_ERROR;
        }
    }

    if (pt_http_add_listen(cf, cscf, &lsopt) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static char *
pt_http_core_server_name(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_srv_conf_t *cscf = conf;

    u_char                 ch;
    pt_str_t              *value, name;
    pt_uint_t              i;
    pt_http_server_name_t *sn;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        name = value[i];

        if (pt_str_eq_lit(&name, "$hostname")) {
            name = cf->cycle->hostname;
        }

        ch = name.len ? name.data[0] : '\0';

        if ((ch == '*' && (name.len < 3 || name.data[1] != '.'))
            || (ch == '.' && name.len < 2))
        {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "server name \"" PT_STR_FMT "\" is invalid",
                              PT_STR_ARG(name));
            return PT_CONF_ERROR;
        }

        if (ch == '~') {
            if (pt_http_core_regex_server_name(cf, cscf, &name) != PT_OK) {
                return PT_CONF_ERROR;
            }
            continue;
        }

        if (name.len > 2 && pt_strlchr(name.data + 1, name.data + name.len - 1, '*')) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "server name \"" PT_STR_FMT "\" is invalid",
                              PT_STR_ARG(name));
            return PT_CONF_ERROR;
        }

        if (pt_strlchr(name.data, name.data + name.len, '/')) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0,
                              "server name \"" PT_STR_FMT "\" has suspicious symbols",
                              PT_STR_ARG(name));
        }

        sn = pt_array_push(&cscf->server_names);
        if (sn == NULL) {
            return PT_CONF_ERROR;
        }

        sn->server = cscf;
        sn->regex = NULL;
        sn->name.len = name.len;
        sn->name.data = pt_pnalloc(cf->pool, name.len + 1);
        if (sn->name.data == NULL) {
            return PT_CONF_ERROR;
        }

        pt_strlow(sn->name.data, name.data, name.len);
        sn->name.data[name.len] = '\0';
    }

    return PT_CONF_OK;
}

/* "server_name ~REGEX": matched against the lower-cased host, without
 * regard to case; its captures serve the server's configuration. */
static pt_int_t
pt_http_core_regex_server_name(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_str_t *name)
{
    pt_regex_compile_t      rc;
    pt_http_server_name_t  *sn;

    sn = pt_array_push(&cscf->server_names);
    if (sn == NULL) {
        return PT_ERROR;
    }

    sn->server = cscf;
    sn->name = *name;

    pt_memzero(&rc, sizeof(pt_regex_compile_t));
    rc.pattern.data = name->data + 1;
    rc.pattern.len = name->len - 1;
    rc.options = PT_REGEX_CASELESS;

    sn->regex = pt_http_regex_compile(cf, &rc);
    if (sn->regex == NULL) {
        return PT_ERROR;
    }

    if (sn->regex->ncaptures) {
        cscf->captures = 1;
    }

    return PT_OK;
}

/* keepalive_timeout TIMEOUT [HEADER_TIMEOUT] */
static char *
pt_http_core_keepalive(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t *clcf = conf;

    pt_str_t  *value;
    pt_int_t   n;

    if (clcf->keepalive_timeout != PT_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = pt_parse_time(&value[1], 0);
    if (n == PT_ERROR) {
        return "invalid value";
    }

    clcf->keepalive_timeout = (pt_msec_t) n;

    if (cf->args->nelts == 2) {
        return PT_CONF_OK;
    }

    n = pt_parse_time(&value[2], 1);
    if (n == PT_ERROR) {
        return "invalid value";
    }

    clcf->keepalive_header = (time_t) n;

    return PT_CONF_OK;
}
