/*
 * pt_http_ssl_handshake.c: the start of a connection to a "listen ... ssl"
 * address, and the TLS checks of each request on it.
 *
 *   accept -> pt_http_ssl_init_connection   handshake timer armed
 *     -> peek at the first byte:
 *          0x16 (a TLS record) or 0x80 (an SSLv2 hello): handshake with
 *            the default server's context; SNI (pt_http_ssl_servername)
 *            may switch to another server's, or refuse the name
 *          anything else: plain HTTP; the request is read as usual and
 *            answered 400 "The plain HTTP request was sent to HTTPS port"
 *     -> handshake done: the HTTP engine's wait_request_handler, with the
 *        client_header_timeout of the chosen server
 *
 * A failed or truncated handshake is the client's doing: it is logged at
 * [info] and the connection closed.
 */

#include "pt_http_ssl_module.h"

static void pt_http_ssl_peek(pt_event_t *rev);
static void pt_http_ssl_start(pt_connection_t *c);
static void pt_http_ssl_handshake_done(pt_connection_t *c);
static void pt_http_ssl_empty_handler(pt_event_t *ev);
static pt_uint_t pt_http_ssl_verify_error_optional(long rc);
static pt_int_t pt_http_ssl_server_name(u_char *buf, const char *name,
    pt_str_t *host);

#define pt_http_ssl_srv_conf(ctx)                                           \
    ((pt_http_ssl_srv_conf_t *) (ctx)->srv_conf[pt_http_ssl_module.ctx_index])


/* Called by pt_http_init_connection() for a connection to an ssl address. */
void
pt_http_ssl_init_connection(pt_connection_t *c)
{
    pt_event_t              *rev;
    pt_http_connection_t    *hc;
    pt_http_ssl_srv_conf_t  *sscf;

    hc = c->data;
    rev = c->read;

    hc->ssl = 1;
    sscf = pt_http_ssl_srv_conf(hc->conf_ctx);

    c->log->action = "SSL handshaking";

    rev->handler = pt_http_ssl_peek;
    c->write->handler = pt_http_ssl_empty_handler;

    pt_event_add_timer(rev, sscf->handshake_timeout);

    if (rev->ready) {
        pt_http_ssl_peek(rev);
        return;
    }

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        pt_http_close_connection(c);
    }
}


/* Tells a TLS client from a plain HTTP one by the first byte. */
static void
pt_http_ssl_peek(pt_event_t *rev)
{
    u_char                    buf;
    ssize_t                   n;
    pt_err_t                  err;
    pt_connection_t          *c;
    pt_http_connection_t     *hc;
    pt_http_core_srv_conf_t  *cscf;

    c = rev->data;
    hc = c->data;

    if (rev->timedout) {
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        pt_http_close_connection(c);
        return;
    }

    if (c->close && c->error) {
        /* worker_shutdown_timeout */
        pt_http_close_connection(c);
        return;
    }

    n = recv(c->fd, &buf, 1, MSG_PEEK);

    if (n == -1) {
        err = pt_socket_errno;

        if (err == EAGAIN || err == EINTR) {
            rev->ready = 0;

            if (pt_handle_read_event(rev, 0) != PT_OK) {
                pt_http_close_connection(c);
            }
            return;
        }

        pt_connection_error(c, err, "recv() failed");
        pt_http_close_connection(c);
        return;
    }

    if (n == 0) {
        pt_log_error(PT_LOG_INFO, c->log, 0, "client closed connection");
        pt_http_close_connection(c);
        return;
    }

    if (buf == 0x16 || (buf & 0x80)) {
        pt_http_ssl_start(c);
        return;
    }

    /* plain HTTP: read the request, then answer it with the 497 page */
    c->log->action = "waiting for request";

    cscf = hc->conf_ctx->srv_conf[pt_http_core_module.ctx_index];

    if (rev->timer_set) {
        pt_event_del_timer(rev);
    }
    pt_event_add_timer(rev, cscf->client_header_timeout);

    rev->handler = pt_http_wait_request_handler;
    pt_http_wait_request_handler(rev);
}


/* A TLS record came: the handshake, with the default server's context. */
static void
pt_http_ssl_start(pt_connection_t *c)
{
    pt_http_connection_t     *hc;
    pt_http_ssl_srv_conf_t   *sscf;
    pt_http_core_loc_conf_t  *clcf;

    hc = c->data;
    sscf = pt_http_ssl_srv_conf(hc->conf_ctx);
    clcf = hc->conf_ctx->loc_conf[pt_http_core_module.ctx_index];

    /* the handshake is a ping-pong of small flights: Nagle would hold
     * each one back until the peer's delayed ACK */
    if (clcf->tcp_nodelay && pt_tcp_nodelay(c) != PT_OK) {
        pt_http_close_connection(c);
        return;
    }

    if (pt_ssl_create_connection(&sscf->ssl, c, PT_SSL_BUFFER) != PT_OK) {
        pt_http_close_connection(c);
        return;
    }

    if (pt_ssl_handshake(c) == PT_AGAIN) {
        c->ssl->handler = pt_http_ssl_handshake_done;
        return;
    }

    pt_http_ssl_handshake_done(c);
}


static void
pt_http_ssl_handshake_done(pt_connection_t *c)
{
    pt_event_t               *rev;
    pt_http_connection_t     *hc;
    pt_http_core_srv_conf_t  *cscf;

    rev = c->read;
    hc = c->data;

    if (c->ssl->handshake_timedout) {
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        pt_http_close_connection(c);
        return;
    }

    if (!c->ssl->handshaked || (c->close && c->error)) {
        pt_http_close_connection(c);
        return;
    }

    c->log->action = "waiting for request";

    /* the server SNI chose sets the header timeout; a draining worker
     * (c->close) gives a request already on its way a short grace only */
    cscf = hc->conf_ctx->srv_conf[pt_http_core_module.ctx_index];

    if (rev->timer_set) {
        pt_event_del_timer(rev);
    }
    pt_event_add_timer(rev, c->close ? 1000 : cscf->client_header_timeout);

    rev->handler = pt_http_wait_request_handler;
    c->write->handler = pt_http_ssl_empty_handler;

    /* the request may already wait decrypted inside OpenSSL */
    pt_http_wait_request_handler(rev);
}


static void
pt_http_ssl_empty_handler(pt_event_t *ev)
{
}


/*
 * The SNI value as a host name: lower case, without a trailing dot, and
 * only the characters a host name may have (RFC 6066 3 forbids a literal
 * address here).  buf holds 256 bytes.
 */
static pt_int_t
pt_http_ssl_server_name(u_char *buf, const char *name, pt_str_t *host)
{
    size_t  len, i;
    u_char  ch;

    len = pt_strlen(name);

    if (len && name[len - 1] == '.') {
        len--;
    }

    if (len == 0 || len > 255) {
        return PT_ERROR;
    }

    for (i = 0; i < len; i++) {
        ch = pt_tolower((u_char) name[i]);

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '.' || ch == '_'))
        {
            return PT_ERROR;
        }

        if (ch == '.' && (i == 0 || buf[i - 1] == '.')) {
            return PT_ERROR;
        }

        buf[i] = ch;
    }

    host->len = len;
    host->data = buf;

    return PT_OK;
}


/*
 * The client hello's server name chooses the server, among those of the
 * connection's address, by server_name as for the Host header (the
 * default server when none matches or no name was sent).  Its context
 * replaces the default one: certificates, verification, options.  A
 * server with ssl_reject_handshake refuses the handshake with an
 * unrecognized_name alert.
 */
int
pt_http_ssl_servername(SSL *ssl_conn, int *ad, void *arg)
{
    SSL_CTX                  *ctx;
    pt_str_t                  host;
    const char               *name;
    pt_connection_t          *c;
    pt_http_connection_t     *hc;
    pt_http_ssl_srv_conf_t   *sscf;
    pt_http_core_srv_conf_t  *cscf;
    u_char                    buf[256];

    (void) arg;

    c = SSL_get_ex_data(ssl_conn, pt_ssl_connection_index);

    if (c == NULL || c->ssl == NULL || c->ssl->client) {
        return SSL_TLSEXT_ERR_NOACK;
    }

    hc = c->data;
    cscf = NULL;

    name = SSL_get_servername(ssl_conn, TLSEXT_NAMETYPE_host_name);

    if (name) {
        if (pt_http_ssl_server_name(buf, name, &host) != PT_OK) {
            pt_log_error(PT_LOG_INFO, c->log, 0, "client sent invalid server name");
            *ad = SSL_AD_UNRECOGNIZED_NAME;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }

        cscf = pt_http_find_virtual_server(hc->addr_conf, &host);
    }

    if (cscf == NULL) {
        cscf = hc->addr_conf->default_server;
    }

    hc->conf_ctx = cscf->ctx;

    sscf = pt_http_ssl_srv_conf(cscf->ctx);

    if (sscf->reject_handshake || sscf->ssl.ctx == NULL) {
        c->ssl->no_send_shutdown = 1;
        *ad = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    ctx = sscf->ssl.ctx;

    if (ctx != SSL_get_SSL_CTX(ssl_conn)) {
        if (SSL_set_SSL_CTX(ssl_conn, ctx) == NULL) {
            pt_ssl_error(PT_LOG_ALERT, c->log, 0, "SSL_set_SSL_CTX() failed");
            *ad = SSL_AD_INTERNAL_ERROR;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }

        /* SSL_set_SSL_CTX() switches certificates only */
        SSL_set_verify(ssl_conn, SSL_CTX_get_verify_mode(ctx),
                       SSL_CTX_get_verify_callback(ctx));
        SSL_set_verify_depth(ssl_conn, SSL_CTX_get_verify_depth(ctx));
        SSL_clear_options(ssl_conn, SSL_get_options(ssl_conn) & ~SSL_CTX_get_options(ctx));
        SSL_set_options(ssl_conn, SSL_CTX_get_options(ctx));

        c->ssl->buffer_size = sscf->ssl.buffer_size;
    }

    return SSL_TLSEXT_ERR_OK;
}


/* Verification errors that "optional_no_ca" lets through: the chain is
 * fine, only its CA is unknown. */
static pt_uint_t
pt_http_ssl_verify_error_optional(long rc)
{
    return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
           || rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
           || rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
           || rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
           || rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}


/*
 * Called when a request's head was read on a connection to an ssl
 * address.  Finalizes the request and returns PT_ERROR when it must not
 * run: a plain HTTP request (497), a client certificate that failed
 * verification (495) or is missing while required (496), or a Host of
 * another server than the one whose client certificate rules SNI chose
 * (421).
 */
pt_int_t
pt_http_ssl_verify_request(pt_http_request_t *r)
{
    long                     rc;
    pt_connection_t         *c;
    pt_http_connection_t    *hc;
    pt_http_ssl_srv_conf_t  *sscf, *sni;

    c = r->connection;
    hc = r->http_connection;

    if (c->ssl == NULL) {
        pt_log_error(PT_LOG_INFO, c->log, 0,
                     "client sent plain HTTP request to HTTPS port");
        pt_http_finalize_request(r, 497);
        return PT_ERROR;
    }

    sscf = pt_http_get_module_srv_conf(r, pt_http_ssl_module);

    if (sscf->verify != PT_SSL_VERIFY_OFF) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK
            && (sscf->verify != PT_SSL_VERIFY_OPTIONAL_NO_CA
                || !pt_http_ssl_verify_error_optional(rc)))
        {
            pt_log_error(PT_LOG_INFO, c->log, 0,
                         "client SSL certificate verify error: (%ld:%s)",
                         rc, X509_verify_cert_error_string(rc));
            pt_http_finalize_request(r, 495);
            return PT_ERROR;
        }

        if (sscf->verify == PT_SSL_VERIFY_ON
            && SSL_get0_peer_certificate(c->ssl->connection) == NULL)
        {
            pt_log_error(PT_LOG_INFO, c->log, 0,
                         "client sent no required SSL certificate");
            pt_http_finalize_request(r, 496);
            return PT_ERROR;
        }
    }

    /* a certificate checked for one server must not open another */
    sni = pt_http_ssl_srv_conf(hc->conf_ctx);

    if (r->srv_conf != hc->conf_ctx->srv_conf && sni->verify != PT_SSL_VERIFY_OFF
        && SSL_get_servername(c->ssl->connection, TLSEXT_NAMETYPE_host_name))
    {
        pt_log_error(PT_LOG_INFO, c->log, 0,
                     "client attempted to request the server name different "
                     "from the one that was negotiated");
        pt_http_finalize_request(r, PT_HTTP_MISDIRECTED_REQUEST);
        return PT_ERROR;
    }

    return PT_OK;
}
