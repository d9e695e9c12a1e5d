/*
 * pt_http_ssl_module.c: the ssl_* directives and one TLS context per
 * server.
 *
 * Every server {} that has certificates (or ssl_reject_handshake on) gets
 * its own SSL_CTX, built while its configuration is merged, so "portico -t"
 * already loads every certificate and key.  A connection to a "listen ...
 * ssl" address starts with the context of the address's default server;
 * the client's server name (SNI) then selects the server, with the same
 * server_name rules as the Host header, and the connection switches to
 * that server's context (its certificates, verification and protocols).
 * Sessions and tickets stay those of the default server's context.
 */

#include "pt_http_ssl_module.h"

#define PT_HTTP_SSL_DEFAULT_CIPHERS  "HIGH:!aNULL:!MD5"

/* ALPN: HTTP/1.1 only (wire format: length-prefixed names). */
static const u_char  pt_http_ssl_alpn[] = "\x08http/1.1";

static pt_int_t pt_http_ssl_preconfiguration(pt_conf_t *cf);
static pt_int_t pt_http_ssl_postconfiguration(pt_conf_t *cf);
static void *pt_http_ssl_create_srv_conf(pt_conf_t *cf);
static char *pt_http_ssl_merge_srv_conf(pt_conf_t *cf, void *parent, void *child);
static pt_int_t pt_http_ssl_configure(pt_conf_t *cf, pt_http_ssl_srv_conf_t *conf);
static char *pt_http_ssl_session_cache(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static pt_int_t pt_http_ssl_shared_cache(pt_conf_t *cf, pt_http_ssl_srv_conf_t *sscf,
    pt_str_t *value);

static pt_conf_bitmask_t  pt_http_ssl_protocols[] = {
    { pt_string("SSLv2"), PT_SSL_SSLv2 },
    { pt_string("SSLv3"), PT_SSL_SSLv3 },
    { pt_string("TLSv1"), PT_SSL_TLSv1 },
    { pt_string("TLSv1.1"), PT_SSL_TLSv1_1 },
    { pt_string("TLSv1.2"), PT_SSL_TLSv1_2 },
    { pt_string("TLSv1.3"), PT_SSL_TLSv1_3 },
    { pt_null_string, 0 }
};

static pt_conf_enum_t  pt_http_ssl_verify[] = {
    { pt_string("off"), PT_SSL_VERIFY_OFF },
    { pt_string("on"), PT_SSL_VERIFY_ON },
    { pt_string("optional"), PT_SSL_VERIFY_OPTIONAL },
    { pt_string("optional_no_ca"), PT_SSL_VERIFY_OPTIONAL_NO_CA },
    { pt_null_string, 0 }
};

#define PT_SSL_SRV(field)  offsetof(pt_http_ssl_srv_conf_t, field)
#define PT_SSL_CTX_CONF    (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF)

static pt_command_t  pt_http_ssl_commands[] = {

    { pt_string("ssl_certificate"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_array_slot, PT_HTTP_SRV_CONF_OFFSET,
      PT_SSL_SRV(certificates), NULL },

    { pt_string("ssl_certificate_key"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_array_slot, PT_HTTP_SRV_CONF_OFFSET,
      PT_SSL_SRV(certificate_keys), NULL },

    { pt_string("ssl_password_file"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_ssl_conf_set_passwords_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_ssl_srv_conf_t, passwords), NULL },

    { pt_string("ssl_dhparam"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(dhparam), NULL },

    { pt_string("ssl_ecdh_curve"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(ecdh_curve), NULL },

    { pt_string("ssl_protocols"), PT_SSL_CTX_CONF|PT_CONF_1MORE,
      pt_conf_set_bitmask_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(protocols),
      &pt_http_ssl_protocols },

    { pt_string("ssl_ciphers"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(ciphers), NULL },

    { pt_string("ssl_prefer_server_ciphers"), PT_SSL_CTX_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_SRV_CONF_OFFSET,
      PT_SSL_SRV(prefer_server_ciphers), NULL },

    { pt_string("ssl_conf_command"), PT_SSL_CTX_CONF|PT_CONF_TAKE2,
      pt_conf_set_keyval_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(conf_commands),
      NULL },

    { pt_string("ssl_buffer_size"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_size_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(buffer_size), NULL },

    { pt_string("ssl_handshake_timeout"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(handshake_timeout),
      NULL },

    { pt_string("ssl_verify_client"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_enum_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(verify),
      &pt_http_ssl_verify },

    { pt_string("ssl_verify_depth"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(verify_depth), NULL },

    { pt_string("ssl_client_certificate"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_SRV_CONF_OFFSET,
      PT_SSL_SRV(client_certificate), NULL },

    { pt_string("ssl_trusted_certificate"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_SRV_CONF_OFFSET,
      PT_SSL_SRV(trusted_certificate), NULL },

    { pt_string("ssl_crl"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(crl), NULL },

    { pt_string("ssl_session_cache"), PT_SSL_CTX_CONF|PT_CONF_TAKE12,
      pt_http_ssl_session_cache, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { pt_string("ssl_session_timeout"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_sec_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(session_timeout),
      NULL },

    { pt_string("ssl_session_tickets"), PT_SSL_CTX_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(session_tickets),
      NULL },

    { pt_string("ssl_session_ticket_key"), PT_SSL_CTX_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_array_slot, PT_HTTP_SRV_CONF_OFFSET,
      PT_SSL_SRV(session_ticket_keys), NULL },

    { pt_string("ssl_reject_handshake"), PT_SSL_CTX_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_SRV_CONF_OFFSET, PT_SSL_SRV(reject_handshake),
      NULL },

    pt_null_command
};

static pt_http_module_t  pt_http_ssl_module_ctx = {
    pt_http_ssl_preconfiguration,
    pt_http_ssl_postconfiguration,
    NULL,                                  /* create main conf */
    NULL,                                  /* init main conf */
    pt_http_ssl_create_srv_conf,
    pt_http_ssl_merge_srv_conf,
    NULL,                                  /* create loc conf */
    NULL                                   /* merge loc conf */
};

pt_module_t  pt_http_ssl_module = {
    PT_MODULE_V1,
    &pt_http_ssl_module_ctx,
    pt_http_ssl_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};


static pt_int_t
pt_http_ssl_preconfiguration(pt_conf_t *cf)
{
    return pt_http_ssl_add_variables(cf);
}


static void *
pt_http_ssl_create_srv_conf(pt_conf_t *cf)
{
    pt_http_ssl_srv_conf_t  *sscf;

    sscf = pt_pcalloc(cf->pool, sizeof(pt_http_ssl_srv_conf_t));
    if (sscf == NULL) {
        return NULL;
    }

    /* pcalloc: protocols 0, string fields empty, ssl.ctx NULL */
    sscf->prefer_server_ciphers = PT_CONF_UNSET;
    sscf->reject_handshake = PT_CONF_UNSET;
    sscf->session_tickets = PT_CONF_UNSET;
    sscf->verify = PT_CONF_UNSET_UINT;
    sscf->verify_depth = PT_CONF_UNSET_UINT;
    sscf->buffer_size = PT_CONF_UNSET_SIZE;
    sscf->builtin_session_cache = PT_CONF_UNSET;
    sscf->session_timeout = PT_CONF_UNSET;
    sscf->handshake_timeout = PT_CONF_UNSET_MSEC;
    sscf->certificates = PT_CONF_UNSET_PTR;
    sscf->certificate_keys = PT_CONF_UNSET_PTR;
    sscf->passwords = PT_CONF_UNSET_PTR;
    sscf->conf_commands = PT_CONF_UNSET_PTR;
    sscf->session_ticket_keys = PT_CONF_UNSET_PTR;
    sscf->shm_zone = PT_CONF_UNSET_PTR;

    if (cf->conf_file) {
        sscf->file = cf->conf_file->file.name.data;
        sscf->line = cf->conf_file->line;
    }

    return sscf;
}


static char *
pt_http_ssl_merge_srv_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_ssl_srv_conf_t  *prev = parent;
    pt_http_ssl_srv_conf_t  *conf = child;

    pt_conf_merge_value(conf->prefer_server_ciphers, prev->prefer_server_ciphers, 0);
    pt_conf_merge_value(conf->reject_handshake, prev->reject_handshake, 0);
    pt_conf_merge_value(conf->session_tickets, prev->session_tickets, 1);
    pt_conf_merge_bitmask_value(conf->protocols, prev->protocols,
                                PT_SSL_DEFAULT_PROTOCOLS);
    pt_conf_merge_uint_value(conf->verify, prev->verify, PT_SSL_VERIFY_OFF);
    pt_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);
    pt_conf_merge_size_value(conf->buffer_size, prev->buffer_size, PT_SSL_BUFSIZE);
    pt_conf_merge_value(conf->builtin_session_cache, prev->builtin_session_cache,
                        PT_SSL_NONE_SCACHE);
    pt_conf_merge_value(conf->session_timeout, prev->session_timeout, 300);
    pt_conf_merge_msec_value(conf->handshake_timeout, prev->handshake_timeout, 60000);
    pt_conf_merge_ptr_value(conf->certificates, prev->certificates, NULL);
    pt_conf_merge_ptr_value(conf->certificate_keys, prev->certificate_keys, NULL);
    pt_conf_merge_ptr_value(conf->passwords, prev->passwords, NULL);
    pt_conf_merge_ptr_value(conf->conf_commands, prev->conf_commands, NULL);
    pt_conf_merge_ptr_value(conf->session_ticket_keys, prev->session_ticket_keys, NULL);
    pt_conf_merge_ptr_value(conf->shm_zone, prev->shm_zone, NULL);
    pt_conf_merge_str_value(conf->dhparam, prev->dhparam, "");
    pt_conf_merge_str_value(conf->ecdh_curve, prev->ecdh_curve, "auto");
    pt_conf_merge_str_value(conf->client_certificate, prev->client_certificate, "");
    pt_conf_merge_str_value(conf->trusted_certificate, prev->trusted_certificate, "");
    pt_conf_merge_str_value(conf->crl, prev->crl, "");
    pt_conf_merge_str_value(conf->ciphers, prev->ciphers, PT_HTTP_SSL_DEFAULT_CIPHERS);

    if (conf->buffer_size == 0 || conf->buffer_size > 16 * 1024 * 1024) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"ssl_buffer_size\" must be between 1 and 16m");
        return PT_CONF_ERROR;
    }

    if (conf->certificates == NULL && !conf->reject_handshake) {
        /* no TLS in this server; a "listen ... ssl" of it is an error
         * reported by the postconfiguration */
        return PT_CONF_OK;
    }

    if (conf->certificates) {
        if (conf->certificate_keys == NULL
            || conf->certificate_keys->nelts < conf->certificates->nelts)
        {
            pt_log_error(PT_LOG_EMERG, cf->log, 0,
                         "no \"ssl_certificate_key\" is defined for certificate \""
                         PT_STR_FMT "\"",
                         PT_STR_ARG(((pt_str_t *) conf->certificates->elts)
                                    [conf->certificate_keys
                                     ? conf->certificate_keys->nelts : 0]));
            return PT_CONF_ERROR;
        }
    }

    if (pt_http_ssl_configure(cf, conf) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}


/* Builds the server's context from its merged settings. */
static pt_int_t
pt_http_ssl_configure(pt_conf_t *cf, pt_http_ssl_srv_conf_t *conf)
{
    pt_str_t  sess_ctx = pt_string("HTTP");

    if (pt_ssl_create(cf, &conf->ssl, conf->protocols, 0, conf) != PT_OK) {
        return PT_ERROR;
    }

    conf->ssl.buffer_size = conf->buffer_size;

    pt_ssl_servername_callback(&conf->ssl, pt_http_ssl_servername);

    if (pt_ssl_alpn(cf, &conf->ssl, pt_http_ssl_alpn, sizeof(pt_http_ssl_alpn) - 1)
        != PT_OK)
    {
        return PT_ERROR;
    }

    if (conf->certificates
        && pt_ssl_certificates(cf, &conf->ssl, conf->certificates,
                               conf->certificate_keys, conf->passwords) != PT_OK)
    {
        return PT_ERROR;
    }

    if (pt_ssl_ciphers(cf, &conf->ssl, &conf->ciphers, conf->prefer_server_ciphers)
        != PT_OK
        || pt_ssl_ecdh_curve(cf, &conf->ssl, &conf->ecdh_curve) != PT_OK
        || pt_ssl_dhparam(cf, &conf->ssl, &conf->dhparam) != PT_OK)
    {
        return PT_ERROR;
    }

    pt_ssl_set_verify(&conf->ssl, conf->verify, (pt_int_t) conf->verify_depth);

    if (conf->verify != PT_SSL_VERIFY_OFF) {
        if (conf->client_certificate.len == 0
            && conf->trusted_certificate.len == 0
            && conf->verify != PT_SSL_VERIFY_OPTIONAL_NO_CA)
        {
            pt_log_error(PT_LOG_EMERG, cf->log, 0,
                         "no ssl_client_certificate or ssl_trusted_certificate for "
                         "ssl_verify_client in %s:%" PRIuPTR,
                         conf->file ? (char *) conf->file : "-", (uintptr_t) conf->line);
            return PT_ERROR;
        }

        if (pt_ssl_client_certificate(cf, &conf->ssl, &conf->client_certificate,
                                      (pt_int_t) conf->verify_depth) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    if (pt_ssl_trusted_certificate(cf, &conf->ssl, &conf->trusted_certificate,
                                   (pt_int_t) conf->verify_depth) != PT_OK
        || pt_ssl_crl(cf, &conf->ssl, &conf->crl) != PT_OK)
    {
        return PT_ERROR;
    }

    if (pt_ssl_session_cache(&conf->ssl, &sess_ctx, conf->certificates,
                             conf->builtin_session_cache, conf->shm_zone,
                             conf->session_timeout) != PT_OK
        || pt_ssl_session_ticket_keys(cf, &conf->ssl, conf->session_tickets,
                                      conf->session_ticket_keys) != PT_OK
        || pt_ssl_conf_commands(cf, &conf->ssl, conf->conf_commands) != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}


/*
 * Every server of a "listen ... ssl" address needs a context: certificates,
 * or ssl_reject_handshake (which then refuses every handshake for it).
 */
static pt_int_t
pt_http_ssl_postconfiguration(pt_conf_t *cf)
{
    pt_uint_t                   p, a, s;
    pt_http_conf_port_t        *port;
    pt_http_conf_addr_t        *addr;
    pt_http_ssl_srv_conf_t     *sscf;
    pt_http_core_srv_conf_t   **cscfp;
    pt_http_core_main_conf_t   *cmcf;

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    if (cmcf->ports == NULL) {
        return PT_OK;
    }

    port = cmcf->ports->elts;

    for (p = 0; p < cmcf->ports->nelts; p++) {
        addr = port[p].addrs.elts;

        for (a = 0; a < port[p].addrs.nelts; a++) {
            if (!addr[a].opt.ssl) {
                continue;
            }

            cscfp = addr[a].servers.elts;

            for (s = 0; s < addr[a].servers.nelts; s++) {
                sscf = cscfp[s]->ctx->srv_conf[pt_http_ssl_module.ctx_index];

                if (sscf->ssl.ctx) {
                    continue;
                }

                pt_log_error(PT_LOG_EMERG, cf->log, 0,
                             "no \"ssl_certificate\" is defined for the \"listen ... "
                             "ssl\" directive in %s:%" PRIuPTR,
                             cscfp[s]->file_name ? (char *) cscfp[s]->file_name : "-",
                             (uintptr_t) cscfp[s]->line);
                return PT_ERROR;
            }
        }
    }

    return PT_OK;
}


/* "shared:NAME:SIZE": PT_OK, PT_DECLINED (malformed), PT_ERROR (logged). */
static pt_int_t
pt_http_ssl_shared_cache(pt_conf_t *cf, pt_http_ssl_srv_conf_t *sscf, pt_str_t *value)
{
    u_char   *colon;
    ssize_t   size;
    pt_str_t  name, s;

    name.data = value->data + sizeof("shared:") - 1;
    colon = pt_strlchr(name.data, value->data + value->len, ':');

    if (colon == NULL || colon == name.data) {
        return PT_DECLINED;
    }

    name.len = colon - name.data;

    s.data = colon + 1;
    s.len = value->data + value->len - s.data;

    size = pt_parse_size(&s);
    if (size == PT_ERROR) {
        return PT_DECLINED;
    }

    if (size < (ssize_t) (8 * pt_pagesize)) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "session cache \"" PT_STR_FMT "\" is too small",
                          PT_STR_ARG(*value));
        return PT_ERROR;
    }

    sscf->shm_zone = pt_shared_memory_add(cf, &name, size, &pt_http_ssl_module);
    if (sscf->shm_zone == NULL) {
        return PT_ERROR;
    }

    sscf->shm_zone->init = pt_ssl_session_cache_init;

    return PT_OK;
}


/*
 * ssl_session_cache off | none | [builtin[:size]] [shared:name:size]
 * A shared zone is a slab pool; one session takes about 256 bytes plus its
 * certificate data, so 1m holds about 4000 sessions.
 */
static char *
pt_http_ssl_session_cache(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_ssl_srv_conf_t  *sscf = conf;

    pt_str_t  *value;
    pt_int_t   n, rc;
    pt_uint_t  i;

    if (sscf->builtin_session_cache != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (pt_str_eq_lit(&value[i], "off")) {
            sscf->builtin_session_cache = PT_SSL_NO_SCACHE;
            continue;
        }

        if (pt_str_eq_lit(&value[i], "none")) {
            sscf->builtin_session_cache = PT_SSL_NONE_SCACHE;
            continue;
        }

        if (pt_str_eq_lit(&value[i], "builtin")) {
            sscf->builtin_session_cache = PT_SSL_DFLT_BUILTIN_SCACHE;
            continue;
        }

        if (value[i].len > sizeof("builtin:") - 1
            && pt_strncmp(value[i].data, "builtin:", sizeof("builtin:") - 1) == 0)
        {
            n = pt_atoi(value[i].data + sizeof("builtin:") - 1,
                        value[i].len - (sizeof("builtin:") - 1));
            if (n == PT_ERROR) {
                goto invalid;
            }
            sscf->builtin_session_cache = n;
            continue;
        }

        if (value[i].len > sizeof("shared:") - 1
            && pt_strncmp(value[i].data, "shared:", sizeof("shared:") - 1) == 0)
        {
            rc = pt_http_ssl_shared_cache(cf, sscf, &value[i]);

            if (rc == PT_DECLINED) {
                goto invalid;
            }

            if (rc != PT_OK) {
                return PT_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (sscf->shm_zone != PT_CONF_UNSET_PTR
        && sscf->builtin_session_cache == PT_CONF_UNSET)
    {
        sscf->builtin_session_cache = PT_SSL_NO_BUILTIN_SCACHE;
    }

    if (sscf->shm_zone != PT_CONF_UNSET_PTR
        && (sscf->builtin_session_cache == PT_SSL_NO_SCACHE
            || sscf->builtin_session_cache == PT_SSL_NONE_SCACHE))
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"off\" and \"none\" of \"ssl_session_cache\" "
                          "cannot be combined with a shared cache");
        return PT_CONF_ERROR;
    }

    if (sscf->shm_zone == PT_CONF_UNSET_PTR) {
        sscf->shm_zone = NULL;
    }

    return PT_CONF_OK;

invalid:

    pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                      "invalid session cache \"" PT_STR_FMT "\"", PT_STR_ARG(value[i]));

    return PT_CONF_ERROR;
}
