/*
 * pt_http_upstream_ssl_module.c: TLS towards upstreams ("proxy_pass
 * https://...") and the proxy_ssl_* directives.
 *
 * The proxy module calls pt_http_upstream_ssl_enable() for every
 * "proxy_pass https://" it parses; each such location gets a client TLS
 * context built from its merged proxy_ssl_* settings, and "portico -t"
 * warns when its upstream's certificate is not verified.  The upstream
 * framework calls pt_http_upstream_ssl_init_connection() once the TCP
 * connection to a peer is up (not for a keepalive connection that is
 * already TLS); the handshake runs in the event loop and ends in the
 * framework's done(r, rc) callback:
 *
 *   PT_OK     the connection is TLS (and verified, with proxy_ssl_verify)
 *   PT_ERROR  it failed, logged: the framework tries the next peer or
 *             answers 502
 *
 * Sessions are reused per worker, per location and peer address
 * (proxy_ssl_session_reuse, on by default): the newest session the peer
 * sent is kept and offered on the next connection.
 */

#include "pt_http_ssl_module.h"

#define PT_HTTP_UPSTREAM_SSL_SESSIONS  16

/* A peer's remembered session. */
typedef struct {
    pt_sockaddr_t            sockaddr;
    socklen_t                socklen;
    SSL_SESSION             *session;
} pt_http_upstream_ssl_session_t;

typedef struct {
    pt_flag_t                enable;        /* proxy_pass https:// here */
    pt_flag_t                maybe;         /* ... or a scheme in a variable */
    pt_ssl_t                *ssl;

    pt_uint_t                protocols;
    pt_flag_t                server_name;
    pt_flag_t                verify;
    pt_uint_t                verify_depth;
    pt_flag_t                session_reuse;

    pt_str_t                 ciphers;
    pt_str_t                 trusted_certificate;
    pt_str_t                 crl;
    pt_str_t                 certificate;
    pt_str_t                 certificate_key;

    pt_http_complex_value_t *name;
    pt_array_t              *passwords;
    pt_array_t              *conf_commands;

    /* this worker's sessions, by peer address (round-robin replacement) */
    pt_http_upstream_ssl_session_t  *sessions;
    pt_uint_t                nsessions;
    pt_uint_t                next_session;

    u_char                  *file;          /* where proxy_pass https was */
    pt_uint_t                line;
} pt_http_upstream_ssl_conf_t;

/* Per connection: what the handshake needs once it ends. */
typedef struct {
    pt_http_request_t              *request;
    pt_http_upstream_ssl_conf_t    *conf;
    pt_http_upstream_ssl_done_pt    done;
    pt_str_t                        name;
    pt_sockaddr_t                   sockaddr;
    socklen_t                       socklen;
} pt_http_upstream_ssl_ctx_t;

static void *pt_http_upstream_ssl_create_loc_conf(pt_conf_t *cf);
static char *pt_http_upstream_ssl_merge_loc_conf(pt_conf_t *cf, void *parent,
    void *child);
static pt_int_t pt_http_upstream_ssl_configure(pt_conf_t *cf,
    pt_http_upstream_ssl_conf_t *conf);
static void pt_http_upstream_ssl_handshake_handler(pt_connection_t *c);
static pt_int_t pt_http_upstream_ssl_verify(pt_connection_t *c,
    pt_http_upstream_ssl_ctx_t *ctx);
static void pt_http_upstream_ssl_save_session(pt_connection_t *c);
static pt_http_upstream_ssl_session_t *pt_http_upstream_ssl_find_session(
    pt_http_upstream_ssl_conf_t *conf, struct sockaddr *sa, socklen_t len);
static pt_uint_t pt_http_upstream_ssl_is_address(pt_str_t *name);
static pt_int_t pt_http_upstream_ssl_name(pt_http_request_t *r, pt_connection_t *c,
    pt_http_upstream_ssl_conf_t *conf, pt_str_t *host, pt_str_t *out);

static pt_conf_bitmask_t  pt_http_upstream_ssl_protocols[] = {
    { pt_string("SSLv2"), PT_SSL_SSLv2 },
    { pt_string("SSLv3"), PT_SSL_SSLv3 },
    { pt_string("TLSv1"), PT_SSL_TLSv1 },
    { pt_string("TLSv1.1"), PT_SSL_TLSv1_1 },
    { pt_string("TLSv1.2"), PT_SSL_TLSv1_2 },
    { pt_string("TLSv1.3"), PT_SSL_TLSv1_3 },
    { pt_null_string, 0 }
};

static int  pt_http_upstream_ssl_index = -1;

#define PT_USSL(field)  offsetof(pt_http_upstream_ssl_conf_t, field)
#define PT_USSL_CONF    (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF)

static pt_command_t  pt_http_upstream_ssl_commands[] = {

    { pt_string("proxy_ssl_protocols"), PT_USSL_CONF|PT_CONF_1MORE,
      pt_conf_set_bitmask_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(protocols),
      &pt_http_upstream_ssl_protocols },

    { pt_string("proxy_ssl_ciphers"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(ciphers), NULL },

    { pt_string("proxy_ssl_server_name"), PT_USSL_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(server_name), NULL },

    { pt_string("proxy_ssl_name"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_http_set_complex_value_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(name), NULL },

    { pt_string("proxy_ssl_verify"), PT_USSL_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(verify), NULL },

    { pt_string("proxy_ssl_verify_depth"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(verify_depth), NULL },

    { pt_string("proxy_ssl_trusted_certificate"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(trusted_certificate),
      NULL },

    { pt_string("proxy_ssl_crl"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(crl), NULL },

    { pt_string("proxy_ssl_certificate"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(certificate), NULL },

    { pt_string("proxy_ssl_certificate_key"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_conf_set_str_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(certificate_key), NULL },

    { pt_string("proxy_ssl_password_file"), PT_USSL_CONF|PT_CONF_TAKE1,
      pt_ssl_conf_set_passwords_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_upstream_ssl_conf_t, passwords), NULL },

    { pt_string("proxy_ssl_session_reuse"), PT_USSL_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(session_reuse), NULL },

    { pt_string("proxy_ssl_conf_command"), PT_USSL_CONF|PT_CONF_TAKE2,
      pt_conf_set_keyval_slot, PT_HTTP_LOC_CONF_OFFSET, PT_USSL(conf_commands), NULL },

    pt_null_command
};

static pt_http_module_t  pt_http_upstream_ssl_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main conf */
    NULL,                                  /* init main conf */
    NULL,                                  /* create srv conf */
    NULL,                                  /* merge srv conf */
    pt_http_upstream_ssl_create_loc_conf,
    pt_http_upstream_ssl_merge_loc_conf
};

pt_module_t  pt_http_upstream_ssl_module = {
    PT_MODULE_V1,
    &pt_http_upstream_ssl_module_ctx,
    pt_http_upstream_ssl_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};


static void *
pt_http_upstream_ssl_create_loc_conf(pt_conf_t *cf)
{
    pt_http_upstream_ssl_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_ssl_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* pcalloc: enable 0, protocols 0, strings empty, ssl NULL */
    conf->server_name = PT_CONF_UNSET;
    conf->verify = PT_CONF_UNSET;
    conf->verify_depth = PT_CONF_UNSET_UINT;
    conf->session_reuse = PT_CONF_UNSET;
    conf->name = PT_CONF_UNSET_PTR;
    conf->passwords = PT_CONF_UNSET_PTR;
    conf->conf_commands = PT_CONF_UNSET_PTR;

    return conf;
}


static char *
pt_http_upstream_ssl_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_upstream_ssl_conf_t  *prev = parent;
    pt_http_upstream_ssl_conf_t  *conf = child;

    pt_conf_merge_bitmask_value(conf->protocols, prev->protocols,
                                PT_SSL_DEFAULT_PROTOCOLS);
    pt_conf_merge_value(conf->server_name, prev->server_name, 0);
    pt_conf_merge_value(conf->verify, prev->verify, 0);
    pt_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);
    pt_conf_merge_value(conf->session_reuse, prev->session_reuse, 1);
    pt_conf_merge_str_value(conf->ciphers, prev->ciphers, "DEFAULT");
    pt_conf_merge_str_value(conf->trusted_certificate, prev->trusted_certificate, "");
    pt_conf_merge_str_value(conf->crl, prev->crl, "");
    pt_conf_merge_str_value(conf->certificate, prev->certificate, "");
    pt_conf_merge_str_value(conf->certificate_key, prev->certificate_key, "");
    pt_conf_merge_ptr_value(conf->name, prev->name, NULL);
    pt_conf_merge_ptr_value(conf->passwords, prev->passwords, NULL);
    pt_conf_merge_ptr_value(conf->conf_commands, prev->conf_commands, NULL);

    if (!conf->enable) {
        return PT_CONF_OK;
    }

    if (!conf->verify && !conf->maybe) {
        pt_log_error(PT_LOG_WARN, cf->log, 0,
                     "the certificate of the upstream of \"proxy_pass https://...\" "
                     "in %s:%" PRIuPTR " is not verified (\"proxy_ssl_verify\" is off)",
                     conf->file ? (char *) conf->file : "-", (uintptr_t) conf->line);
    }

    if (pt_http_upstream_ssl_configure(cf, conf) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}


/* The client context of one location. */
static pt_int_t
pt_http_upstream_ssl_configure(pt_conf_t *cf, pt_http_upstream_ssl_conf_t *conf)
{
    pt_array_t  certs, keys;

    if (pt_http_upstream_ssl_index == -1) {
        pt_http_upstream_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (pt_http_upstream_ssl_index == -1) {
            pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_get_ex_new_index() failed");
            return PT_ERROR;
        }
    }

    conf->ssl = pt_pcalloc(cf->pool, sizeof(pt_ssl_t));
    if (conf->ssl == NULL) {
        return PT_ERROR;
    }

    if (pt_ssl_create(cf, conf->ssl, conf->protocols, 1, conf) != PT_OK) {
        return PT_ERROR;
    }

    if (conf->certificate.len) {
        if (conf->certificate_key.len == 0) {
            pt_log_error(PT_LOG_EMERG, cf->log, 0,
                         "no \"proxy_ssl_certificate_key\" is defined for certificate \""
                         PT_STR_FMT "\"", PT_STR_ARG(conf->certificate));
            return PT_ERROR;
        }

        if (pt_array_init(&certs, cf->temp_pool, 1, sizeof(pt_str_t)) != PT_OK
            || pt_array_init(&keys, cf->temp_pool, 1, sizeof(pt_str_t)) != PT_OK)
        {
            return PT_ERROR;
        }

        *(pt_str_t *) pt_array_push(&certs) = conf->certificate;
        *(pt_str_t *) pt_array_push(&keys) = conf->certificate_key;

        if (pt_ssl_certificates(cf, conf->ssl, &certs, &keys, conf->passwords)
            != PT_OK)
        {
            return PT_ERROR;
        }
    }

    if (pt_ssl_ciphers(cf, conf->ssl, &conf->ciphers, 0) != PT_OK) {
        return PT_ERROR;
    }

    if (conf->verify) {
        if (conf->trusted_certificate.len == 0) {
            pt_log_error(PT_LOG_EMERG, cf->log, 0,
                         "no proxy_ssl_trusted_certificate for proxy_ssl_verify in %s:%"
                         PRIuPTR, conf->file ? (char *) conf->file : "-",
                         (uintptr_t) conf->line);
            return PT_ERROR;
        }

        pt_ssl_set_verify(conf->ssl, PT_SSL_VERIFY_ON, (pt_int_t) conf->verify_depth);
    }

    if (pt_ssl_trusted_certificate(cf, conf->ssl, &conf->trusted_certificate,
                                   (pt_int_t) conf->verify_depth) != PT_OK
        || pt_ssl_crl(cf, conf->ssl, &conf->crl) != PT_OK
        || pt_ssl_client_session_cache(cf, conf->ssl, conf->session_reuse) != PT_OK
        || pt_ssl_conf_commands(cf, conf->ssl, conf->conf_commands) != PT_OK)
    {
        return PT_ERROR;
    }

    if (conf->session_reuse) {
        conf->sessions = pt_pcalloc(cf->pool, PT_HTTP_UPSTREAM_SSL_SESSIONS
                                    * sizeof(pt_http_upstream_ssl_session_t));
        if (conf->sessions == NULL) {
            return PT_ERROR;
        }
    }

    return PT_OK;
}


/* Called by the proxy module for "proxy_pass https://..." in the current
 * location (cf->ctx is its context). */
pt_int_t
pt_http_upstream_ssl_enable(pt_conf_t *cf, pt_uint_t maybe)
{
    pt_http_upstream_ssl_conf_t  *conf;

    conf = pt_http_conf_get_module_loc_conf(cf, pt_http_upstream_ssl_module);

    conf->enable = 1;
    conf->maybe = maybe ? 1 : 0;

    if (cf->conf_file) {
        conf->file = cf->conf_file->file.name.data;
        conf->line = cf->conf_file->line;
    }

    return PT_OK;
}


/* An address is no server name: it is neither sent as SNI nor matched as
 * a DNS name. */
static pt_uint_t
pt_http_upstream_ssl_is_address(pt_str_t *name)
{
    size_t  i;

    if (name->len && name->data[0] == '[') {
        return 1;
    }

    for (i = 0; i < name->len; i++) {
        if (!((name->data[i] >= '0' && name->data[i] <= '9') || name->data[i] == '.')) {
            return 0;
        }
    }

    return 1;
}


/* The name to send and to verify: proxy_ssl_name, else the upstream's
 * host; without a port; NUL-terminated, in c->pool. */
static pt_int_t
pt_http_upstream_ssl_name(pt_http_request_t *r, pt_connection_t *c,
    pt_http_upstream_ssl_conf_t *conf, pt_str_t *host, pt_str_t *out)
{
    u_char    *colon;
    pt_str_t   name;

    if (conf->name) {
        if (pt_http_complex_value(r, conf->name, &name) != PT_OK) {
            return PT_ERROR;
        }
    } else {
        name = *host;
    }

    if (name.len && name.data[0] != '[') {
        colon = pt_strlchr(name.data, name.data + name.len, ':');
        if (colon) {
            name.len = colon - name.data;
        }
    }

    out->data = pt_pnalloc(c->pool, name.len + 1);
    if (out->data == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(out->data, name.data, name.len);
    out->data[name.len] = '\0';
    out->len = name.len;

    return PT_OK;
}


/*
 * Starts TLS on the upstream connection c of r, just connected to sa.
 * host is the upstream's name (proxy_pass's host, no port), used when
 * proxy_ssl_name is not set.  PT_OK: done (and verified); PT_AGAIN: done()
 * runs when the handshake ends; PT_ERROR: failed, logged.
 */
pt_int_t
pt_http_upstream_ssl_init_connection(pt_http_request_t *r, pt_connection_t *c,
    pt_str_t *host, struct sockaddr *sa, socklen_t socklen,
    pt_http_upstream_ssl_done_pt done)
{
    pt_int_t                         rc;
    pt_http_upstream_ssl_ctx_t      *ctx;
    pt_http_upstream_ssl_conf_t     *conf;
    pt_http_upstream_ssl_session_t  *s;

    conf = pt_http_get_module_loc_conf(r, pt_http_upstream_ssl_module);

    if (conf->ssl == NULL) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                     "no TLS context for an https upstream");
        return PT_ERROR;
    }

    if (pt_ssl_create_connection(conf->ssl, c, PT_SSL_BUFFER | PT_SSL_CLIENT) != PT_OK) {
        return PT_ERROR;
    }

    ctx = pt_pcalloc(c->pool, sizeof(pt_http_upstream_ssl_ctx_t));
    if (ctx == NULL) {
        return PT_ERROR;
    }

    ctx->request = r;
    ctx->conf = conf;
    ctx->done = done;

    if (socklen <= sizeof(pt_sockaddr_t)) {
        pt_memcpy(&ctx->sockaddr, sa, socklen);
        ctx->socklen = socklen;
    }

    if (pt_http_upstream_ssl_name(r, c, conf, host, &ctx->name) != PT_OK) {
        return PT_ERROR;
    }

    if (SSL_set_ex_data(c->ssl->connection, pt_http_upstream_ssl_index, ctx) == 0) {
        pt_ssl_error(PT_LOG_ALERT, c->log, 0, "SSL_set_ex_data() failed");
        return PT_ERROR;
    }

    if (conf->server_name && ctx->name.len
        && !pt_http_upstream_ssl_is_address(&ctx->name)
        && SSL_set_tlsext_host_name(c->ssl->connection, (char *) ctx->name.data) == 0)
    {
        pt_ssl_error(PT_LOG_ERR, c->log, 0, "SSL_set_tlsext_host_name(\"%s\") failed",
                     ctx->name.data);
        return PT_ERROR;
    }

    if (conf->session_reuse) {
        s = pt_http_upstream_ssl_find_session(conf, sa, socklen);

        if (s && s->session && pt_ssl_set_session(c, s->session) != PT_OK) {
            return PT_ERROR;
        }

        c->ssl->save_session = pt_http_upstream_ssl_save_session;
    }

    c->log->action = "SSL handshaking to upstream";

    rc = pt_ssl_handshake(c);

    if (rc == PT_AGAIN) {
        c->ssl->handler = pt_http_upstream_ssl_handshake_handler;
        return PT_AGAIN;
    }

    if (rc == PT_ERROR) {
        return PT_ERROR;
    }

    return pt_http_upstream_ssl_verify(c, ctx);
}


/* The handshake that returned PT_AGAIN ended. */
static void
pt_http_upstream_ssl_handshake_handler(pt_connection_t *c)
{
    pt_int_t                     rc;
    pt_http_upstream_ssl_ctx_t  *ctx;

    ctx = SSL_get_ex_data(c->ssl->connection, pt_http_upstream_ssl_index);

    if (c->ssl->handshake_timedout) {
        pt_log_error(PT_LOG_ERR, c->log, ETIMEDOUT, "upstream timed out");
        c->timedout = 1;
        rc = PT_ERROR;

    } else if (!c->ssl->handshaked) {
        rc = PT_ERROR;

    } else {
        rc = pt_http_upstream_ssl_verify(c, ctx);
    }

    ctx->done(ctx->request, rc);
}


/* proxy_ssl_verify: the chain (with proxy_ssl_trusted_certificate and
 * proxy_ssl_crl) and the name. */
static pt_int_t
pt_http_upstream_ssl_verify(pt_connection_t *c, pt_http_upstream_ssl_ctx_t *ctx)
{
    long  rc;

    if (!ctx->conf->verify) {
        return PT_OK;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        pt_log_error(PT_LOG_ERR, c->log, 0,
                     "upstream SSL certificate verify error: (%ld:%s)",
                     rc, X509_verify_cert_error_string(rc));
        return PT_ERROR;
    }

    if (pt_ssl_check_host(c, &ctx->name) != PT_OK) {
        pt_log_error(PT_LOG_ERR, c->log, 0,
                     "upstream SSL certificate does not match \"" PT_STR_FMT "\"",
                     PT_STR_ARG(ctx->name));
        return PT_ERROR;
    }

    return PT_OK;
}


static pt_http_upstream_ssl_session_t *
pt_http_upstream_ssl_find_session(pt_http_upstream_ssl_conf_t *conf,
    struct sockaddr *sa, socklen_t len)
{
    pt_uint_t  i;

    for (i = 0; i < conf->nsessions; i++) {
        if (conf->sessions[i].socklen == len
            && pt_memcmp(&conf->sessions[i].sockaddr, sa, len) == 0)
        {
            return &conf->sessions[i];
        }
    }

    return NULL;
}


/* The peer sent a session (after the handshake in TLS 1.3): keep the
 * newest one for the peer's address. */
static void
pt_http_upstream_ssl_save_session(pt_connection_t *c)
{
    SSL_SESSION                     *sess;
    pt_http_upstream_ssl_ctx_t      *ctx;
    pt_http_upstream_ssl_conf_t     *conf;
    pt_http_upstream_ssl_session_t  *s;

    ctx = SSL_get_ex_data(c->ssl->connection, pt_http_upstream_ssl_index);

    if (ctx == NULL || ctx->socklen == 0) {
        return;
    }

    conf = ctx->conf;

    sess = pt_ssl_get1_session(c);
    if (sess == NULL) {
        return;
    }

    s = pt_http_upstream_ssl_find_session(conf, &ctx->sockaddr.sockaddr, ctx->socklen);

    if (s == NULL) {
        if (conf->nsessions < PT_HTTP_UPSTREAM_SSL_SESSIONS) {
            s = &conf->sessions[conf->nsessions++];
        } else {
            s = &conf->sessions[conf->next_session++ % PT_HTTP_UPSTREAM_SSL_SESSIONS];
        }

        pt_memcpy(&s->sockaddr, &ctx->sockaddr, ctx->socklen);
        s->socklen = ctx->socklen;
    }

    if (s->session) {
        SSL_SESSION_free(s->session);
    }

    s->session = sess;
}
