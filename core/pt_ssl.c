/*
 * pt_ssl.c: TLS contexts: protocols, certificates and keys, ciphers,
 * curves, verification of peer certificates, and error reporting.
 *
 * Everything here runs at configuration time, in the master (or in
 * "portico -t"), so a bad key, a key that does not match its certificate or
 * a wrong password is reported with the directive's file and line before
 * any worker starts.  Errors of OpenSSL are taken from its error queue and
 * appended to the message as "(SSL: ...)".
 */

#include "portico.h"

int  pt_ssl_connection_index = -1;
int  pt_ssl_server_conf_index = -1;
int  pt_ssl_session_cache_index = -1;
int  pt_ssl_ticket_keys_index = -1;

static void pt_ssl_cleanup_ctx(void *data);
static int pt_ssl_password_callback(char *buf, int size, int rwflag,
    void *userdata);
static pt_int_t pt_ssl_load_certificate(pt_conf_t *cf, pt_ssl_t *ssl,
    pt_str_t *cert);
static pt_int_t pt_ssl_load_key(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *key,
    pt_array_t *passwords);
static int pt_ssl_verify_callback(int ok, X509_STORE_CTX *x509_store);
static int pt_ssl_alpn_select(SSL *ssl, const unsigned char **out,
    unsigned char *outlen, const unsigned char *in, unsigned int inlen,
    void *arg);
static pt_int_t pt_ssl_full_name(pt_conf_t *cf, pt_str_t *name);


/* OpenSSL itself is set up on first use; the indices are per process and
 * the same in every worker (inherited). */
pt_int_t
pt_ssl_init(pt_log_t *log)
{
    if (pt_ssl_connection_index != -1) {
        return PT_OK;
    }

    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) == 0) {
        pt_ssl_error(PT_LOG_ALERT, log, 0, "OPENSSL_init_ssl() failed");
        return PT_ERROR;
    }

    ERR_clear_error();

    pt_ssl_connection_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    pt_ssl_server_conf_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    pt_ssl_session_cache_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    pt_ssl_ticket_keys_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);

    if (pt_ssl_connection_index == -1 || pt_ssl_server_conf_index == -1
        || pt_ssl_session_cache_index == -1 || pt_ssl_ticket_keys_index == -1)
    {
        pt_ssl_error(PT_LOG_ALERT, log, 0, "SSL_get_ex_new_index() failed");
        return PT_ERROR;
    }

    return PT_OK;
}


/*
 * A context for the given protocols.  Protocols not asked for are
 * switched off one by one, so a gap ("TLSv1 TLSv1.2") is honoured.
 * Compression (CRIME) is always off.
 */
pt_int_t
pt_ssl_create(pt_conf_t *cf, pt_ssl_t *ssl, pt_uint_t protocols,
    pt_uint_t client, void *data)
{
    uint64_t            options;
    pt_pool_cleanup_t  *cln;

    if (pt_ssl_init(cf->log) != PT_OK) {
        return PT_ERROR;
    }

    ssl->ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
    if (ssl->ctx == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_CTX_new() failed");
        return PT_ERROR;
    }

    cln = pt_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        SSL_CTX_free(ssl->ctx);
        ssl->ctx = NULL;
        return PT_ERROR;
    }

    cln->handler = pt_ssl_cleanup_ctx;
    cln->data = ssl->ctx;

    if (SSL_CTX_set_ex_data(ssl->ctx, pt_ssl_server_conf_index, data) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_CTX_set_ex_data() failed");
        return PT_ERROR;
    }

    ssl->buffer_size = PT_SSL_BUFSIZE;
    ssl->log = cf->log;

    /* The range is set wide open, the options below do the choosing. */
    (void) SSL_CTX_set_min_proto_version(ssl->ctx, 0);
    (void) SSL_CTX_set_max_proto_version(ssl->ctx, 0);

    options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_SSLv2;

    if (!(protocols & PT_SSL_SSLv3)) {
        options |= SSL_OP_NO_SSLv3;
    }
    if (!(protocols & PT_SSL_TLSv1)) {
        options |= SSL_OP_NO_TLSv1;
    }
    if (!(protocols & PT_SSL_TLSv1_1)) {
        options |= SSL_OP_NO_TLSv1_1;
    }
    if (!(protocols & PT_SSL_TLSv1_2)) {
        options |= SSL_OP_NO_TLSv1_2;
    }
    if (!(protocols & PT_SSL_TLSv1_3)) {
        options |= SSL_OP_NO_TLSv1_3;
    }

    /*
     * OpenSSL 3 refuses client-initiated renegotiation by default.  A
     * client closing without close_notify is normal for HTTP (requests are
     * framed) and must not count as a fatal error: that would also drop
     * its session from the cache.  Towards upstreams a missing
     * close_notify stays an error (it may truncate a close-delimited
     * response).
     */
    if (!client) {
        options |= SSL_OP_SINGLE_ECDH_USE | SSL_OP_SINGLE_DH_USE
                   | SSL_OP_IGNORE_UNEXPECTED_EOF;
    }

    SSL_CTX_set_options(ssl->ctx, options);

    /*
     * The write buffer may move between SSL_write() retries (it is
     * returned to a cache when empty), and a partial write is fine.
     * SSL_MODE_RELEASE_BUFFERS is deliberately not set: it would free and
     * allocate OpenSSL's record buffers on every keepalive request.
     */
    SSL_CTX_set_mode(ssl->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                               | SSL_MODE_ENABLE_PARTIAL_WRITE);

    /*
     * Read ahead: one read(2) takes whatever the socket holds instead of a
     * 5-byte record header and then its body, which halves the reads of a
     * handshake.  ev->ready stays exact: OpenSSL still reports WANT_READ
     * only after the socket said EAGAIN, and pt_ssl_recv() keeps reading
     * until then (or until the caller's buffer is full, leaving ready set).
     */
    SSL_CTX_set_read_ahead(ssl->ctx, 1);

    SSL_CTX_set_default_passwd_cb(ssl->ctx, pt_ssl_password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ssl->ctx, NULL);

    return PT_OK;
}


static void
pt_ssl_cleanup_ctx(void *data)
{
    SSL_CTX_free((SSL_CTX *) data);
}


void *
pt_ssl_get_ctx_data(SSL_CTX *ctx)
{
    return SSL_CTX_get_ex_data(ctx, pt_ssl_server_conf_index);
}


/* Paths are relative to the configuration's folder, as in nginx. */
static pt_int_t
pt_ssl_full_name(pt_conf_t *cf, pt_str_t *name)
{
    return pt_conf_full_name(cf->cycle, name, 1);
}


/* The PEM password callback: userdata is the password to try (a pt_str_t),
 * NULL when there is none.  Returning 0 makes the load fail instead of
 * prompting on a terminal. */
static int
pt_ssl_password_callback(char *buf, int size, int rwflag, void *userdata)
{
    pt_str_t  *pwd = userdata;

    (void) rwflag;

    if (pwd == NULL) {
        return 0;
    }

    if (pwd->len > (size_t) size) {
        pt_log_error(PT_LOG_ERR, pt_cycle->log, 0,
                     "password is truncated to %d bytes", size);
    } else {
        size = (int) pwd->len;
    }

    pt_memcpy(buf, pwd->data, size);

    return size;
}


pt_array_t *
pt_ssl_read_password_file(pt_conf_t *cf, pt_str_t *file)
{
    u_char      *p, *last, *end;
    pt_str_t     content, *pwd;
    pt_array_t  *passwords;

    if (pt_ssl_full_name(cf, file) != PT_OK) {
        return NULL;
    }

    if (pt_read_whole_file(cf->temp_pool, file, &content) != PT_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, pt_errno,
                          "open() \"" PT_STR_FMT "\" failed", PT_STR_ARG(*file));
        return NULL;
    }

    passwords = pt_array_create(cf->pool, 4, sizeof(pt_str_t));
    if (passwords == NULL) {
        return NULL;
    }

    p = content.data;
    end = content.data + content.len;

    while (p < end) {
        last = pt_strlchr(p, end, LF);
        if (last == NULL) {
            last = end;
        }

        pwd = pt_array_push(passwords);
        if (pwd == NULL) {
            return NULL;
        }

        pwd->len = last - p;
        if (pwd->len && p[pwd->len - 1] == CR) {
            pwd->len--;
        }

        pwd->data = pt_pnalloc(cf->pool, pwd->len + 1);
        if (pwd->data == NULL) {
            return NULL;
        }

        pt_memcpy(pwd->data, p, pwd->len);
        pwd->data[pwd->len] = '\0';

        p = last + 1;
    }

    /* the file may hold secrets: leave no copy in the temporary pool */
    OPENSSL_cleanse(content.data, content.len);

    if (passwords->nelts == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "empty password file \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*file));
        return NULL;
    }

    return passwords;
}


pt_int_t
pt_ssl_certificates(pt_conf_t *cf, pt_ssl_t *ssl, pt_array_t *certs,
    pt_array_t *keys, pt_array_t *passwords)
{
    pt_uint_t   i;
    pt_str_t   *cert, *key;

    cert = certs->elts;
    key = keys->elts;

    for (i = 0; i < certs->nelts; i++) {
        if (pt_ssl_load_certificate(cf, ssl, &cert[i]) != PT_OK
            || pt_ssl_load_key(cf, ssl, &key[i], passwords) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    return PT_OK;
}


/*
 * The first certificate of the file is the server's, the ones after it
 * form its chain.  OpenSSL keeps one certificate per key type (RSA, EC,
 * ...), each with its own chain, and serves the one the client can use.
 */
static pt_int_t
pt_ssl_load_certificate(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *cert)
{
    BIO            *bio;
    X509           *x509;
    unsigned long   n;

    if (pt_ssl_full_name(cf, cert) != PT_OK) {
        return PT_ERROR;
    }

    bio = BIO_new_file((char *) cert->data, "r");
    if (bio == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "cannot load certificate \"%s\": BIO_new_file() failed",
                     cert->data);
        return PT_ERROR;
    }

    x509 = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x509 == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "cannot load certificate \"%s\": PEM_read_bio_X509_AUX() failed",
                     cert->data);
        BIO_free(bio);
        return PT_ERROR;
    }

    if (SSL_CTX_use_certificate(ssl->ctx, x509) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_use_certificate(\"%s\") failed", cert->data);
        X509_free(x509);
        BIO_free(bio);
        return PT_ERROR;
    }

    X509_free(x509);

    (void) SSL_CTX_clear_chain_certs(ssl->ctx);

    for ( ;; ) {
        x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x509 == NULL) {
            n = ERR_peek_last_error();

            if (ERR_GET_LIB(n) == ERR_LIB_PEM
                && ERR_GET_REASON(n) == PEM_R_NO_START_LINE)
            {
                /* the end of the file */
                ERR_clear_error();
                break;
            }

            pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                         "cannot load certificate chain \"%s\": "
                         "PEM_read_bio_X509() failed", cert->data);
            BIO_free(bio);
            return PT_ERROR;
        }

        if (SSL_CTX_add0_chain_cert(ssl->ctx, x509) == 0) {
            pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                         "SSL_CTX_add0_chain_cert(\"%s\") failed", cert->data);
            X509_free(x509);
            BIO_free(bio);
            return PT_ERROR;
        }
    }

    BIO_free(bio);

    return PT_OK;
}


/*
 * Each password is tried in turn (a key file may be re-encrypted while the
 * old password is still listed).  SSL_CTX_use_PrivateKey() checks that the
 * key matches the certificate loaded last.
 */
static pt_int_t
pt_ssl_load_key(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *key,
    pt_array_t *passwords)
{
    BIO         *bio;
    EVP_PKEY    *pkey;
    pt_str_t    *pwd;
    pt_uint_t    tries, i;

    if (pt_ssl_full_name(cf, key) != PT_OK) {
        return PT_ERROR;
    }

    pwd = passwords ? passwords->elts : NULL;
    tries = passwords ? passwords->nelts : 1;
    pkey = NULL;

    for (i = 0; i < tries; i++) {
        bio = BIO_new_file((char *) key->data, "r");
        if (bio == NULL) {
            pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                         "cannot load certificate key \"%s\": BIO_new_file() failed",
                         key->data);
            return PT_ERROR;
        }

        pkey = PEM_read_bio_PrivateKey(bio, NULL, pt_ssl_password_callback,
                                       pwd ? &pwd[i] : NULL);
        BIO_free(bio);

        if (pkey != NULL) {
            break;
        }

        if (i + 1 < tries) {
            ERR_clear_error();
        }
    }

    if (pkey == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "cannot load certificate key \"%s\": "
                     "PEM_read_bio_PrivateKey() failed", key->data);
        return PT_ERROR;
    }

    if (SSL_CTX_use_PrivateKey(ssl->ctx, pkey) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_use_PrivateKey(\"%s\") failed", key->data);
        EVP_PKEY_free(pkey);
        return PT_ERROR;
    }

    EVP_PKEY_free(pkey);

    return PT_OK;
}


/* ssl_ciphers sets the TLSv1.2 list; TLSv1.3 suites keep OpenSSL's
 * default (change them with ssl_conf_command Ciphersuites). */
pt_int_t
pt_ssl_ciphers(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *ciphers,
    pt_uint_t prefer_server_ciphers)
{
    if (SSL_CTX_set_cipher_list(ssl->ctx, (char *) ciphers->data) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_set_cipher_list(\"" PT_STR_FMT "\") failed",
                     PT_STR_ARG(*ciphers));
        return PT_ERROR;
    }

    if (prefer_server_ciphers) {
        SSL_CTX_set_options(ssl->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    }

    return PT_OK;
}


/* "auto" keeps OpenSSL's default groups (X25519, P-256, ...). */
pt_int_t
pt_ssl_ecdh_curve(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *name)
{
    if (pt_str_eq_lit(name, "auto")) {
        return PT_OK;
    }

    if (SSL_CTX_set1_groups_list(ssl->ctx, (char *) name->data) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_set1_groups_list(\"" PT_STR_FMT "\") failed",
                     PT_STR_ARG(*name));
        return PT_ERROR;
    }

    return PT_OK;
}


pt_int_t
pt_ssl_dhparam(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *file)
{
    BIO       *bio;
    EVP_PKEY  *dh;

    if (file->len == 0) {
        return PT_OK;
    }

    if (pt_ssl_full_name(cf, file) != PT_OK) {
        return PT_ERROR;
    }

    bio = BIO_new_file((char *) file->data, "r");
    if (bio == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "BIO_new_file(\"%s\") failed", file->data);
        return PT_ERROR;
    }

    dh = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);

    if (dh == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "PEM_read_bio_Parameters(\"%s\") failed", file->data);
        return PT_ERROR;
    }

    if (SSL_CTX_set0_tmp_dh_pkey(ssl->ctx, dh) != 1) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_set0_tmp_dh_pkey(\"%s\") failed", file->data);
        EVP_PKEY_free(dh);
        return PT_ERROR;
    }

    return PT_OK;
}


pt_int_t
pt_ssl_conf_commands(pt_conf_t *cf, pt_ssl_t *ssl, pt_array_t *cmds)
{
    int            rc;
    pt_uint_t      i;
    pt_keyval_t   *cmd;
    SSL_CONF_CTX  *cctx;

    if (cmds == NULL || cmds->nelts == 0) {
        return PT_OK;
    }

    cctx = SSL_CONF_CTX_new();
    if (cctx == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_CONF_CTX_new() failed");
        return PT_ERROR;
    }

    SSL_CONF_CTX_set_flags(cctx, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_CERTIFICATE
                                 | SSL_CONF_FLAG_SERVER | SSL_CONF_FLAG_CLIENT
                                 | SSL_CONF_FLAG_SHOW_ERRORS);
    SSL_CONF_CTX_set_ssl_ctx(cctx, ssl->ctx);

    cmd = cmds->elts;

    for (i = 0; i < cmds->nelts; i++) {
        rc = SSL_CONF_cmd(cctx, (char *) cmd[i].key.data, (char *) cmd[i].value.data);

        if (rc <= 0) {
            pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                         "SSL_CONF_cmd(\"" PT_STR_FMT "\", \"" PT_STR_FMT "\") failed",
                         PT_STR_ARG(cmd[i].key), PT_STR_ARG(cmd[i].value));
            SSL_CONF_CTX_free(cctx);
            return PT_ERROR;
        }
    }

    if (SSL_CONF_CTX_finish(cctx) != 1) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_CONF_finish() failed");
        SSL_CONF_CTX_free(cctx);
        return PT_ERROR;
    }

    SSL_CONF_CTX_free(cctx);

    return PT_OK;
}


/*
 * Peer certificates are verified by OpenSSL but a failure does not abort
 * the handshake: the callback accepts everything and the protocol looks
 * at SSL_get_verify_result() afterwards, so that it can answer with a
 * proper error (400 "The SSL certificate error", 502 to an upstream's).
 */
void
pt_ssl_set_verify(pt_ssl_t *ssl, pt_uint_t verify, pt_int_t depth)
{
    int  mode;

    if (verify == PT_SSL_VERIFY_OFF) {
        return;
    }

    mode = SSL_VERIFY_PEER;

    SSL_CTX_set_verify(ssl->ctx, mode, pt_ssl_verify_callback);
    SSL_CTX_set_verify_depth(ssl->ctx, (int) depth);
}


static int
pt_ssl_verify_callback(int ok, X509_STORE_CTX *x509_store)
{
    (void) ok;
    (void) x509_store;

    return 1;
}


pt_int_t
pt_ssl_client_certificate(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *cert,
    pt_int_t depth)
{
    STACK_OF(X509_NAME)  *list;

    if (pt_ssl_trusted_certificate(cf, ssl, cert, depth) != PT_OK) {
        return PT_ERROR;
    }

    if (cert->len == 0) {
        return PT_OK;
    }

    /* the names of these CAs are sent in the CertificateRequest */
    list = SSL_load_client_CA_file((char *) cert->data);
    if (list == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_load_client_CA_file(\"%s\") failed", cert->data);
        return PT_ERROR;
    }

    SSL_CTX_set_client_CA_list(ssl->ctx, list);

    return PT_OK;
}


pt_int_t
pt_ssl_trusted_certificate(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *cert,
    pt_int_t depth)
{
    if (SSL_CTX_get_verify_mode(ssl->ctx) != SSL_VERIFY_NONE) {
        SSL_CTX_set_verify_depth(ssl->ctx, (int) depth);
    }

    if (cert->len == 0) {
        return PT_OK;
    }

    if (pt_ssl_full_name(cf, cert) != PT_OK) {
        return PT_ERROR;
    }

    if (SSL_CTX_load_verify_locations(ssl->ctx, (char *) cert->data, NULL) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_load_verify_locations(\"%s\") failed", cert->data);
        return PT_ERROR;
    }

    /* the CA's names are not on the wire; keep the verify error queue
     * clean of "no such file" noise from the default paths */
    ERR_clear_error();

    return PT_OK;
}


/* CRLs are checked for the whole chain; a CA without a CRL fails. */
pt_int_t
pt_ssl_crl(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *crl)
{
    X509_STORE   *store;
    X509_LOOKUP  *lookup;

    if (crl->len == 0) {
        return PT_OK;
    }

    if (pt_ssl_full_name(cf, crl) != PT_OK) {
        return PT_ERROR;
    }

    store = SSL_CTX_get_cert_store(ssl->ctx);
    if (store == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_CTX_get_cert_store() failed");
        return PT_ERROR;
    }

    lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    if (lookup == NULL) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "X509_STORE_add_lookup() failed");
        return PT_ERROR;
    }

    if (X509_LOOKUP_load_file(lookup, (char *) crl->data, X509_FILETYPE_PEM) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "X509_LOOKUP_load_file(\"%s\") failed", crl->data);
        return PT_ERROR;
    }

    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);

    return PT_OK;
}


pt_int_t
pt_ssl_alpn(pt_conf_t *cf, pt_ssl_t *ssl, const u_char *protos, size_t len)
{
    (void) cf;
    (void) len;

    SSL_CTX_set_alpn_select_cb(ssl->ctx, pt_ssl_alpn_select, (void *) protos);

    return PT_OK;
}


/* Picks our first protocol the client also offers; a client that offers
 * only others (h2 alone) is refused, as RFC 7301 3.2 asks. */
static int
pt_ssl_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned char  *srv;
    unsigned int    srvlen;

    (void) ssl;

    srv = arg;
    srvlen = (unsigned int) pt_strlen(srv);

    if (SSL_select_next_proto((unsigned char **) out, outlen, srv, srvlen, in, inlen)
        != OPENSSL_NPN_NEGOTIATED)
    {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    return SSL_TLSEXT_ERR_OK;
}


void
pt_ssl_servername_callback(pt_ssl_t *ssl, int (*cb)(SSL *ssl, int *ad, void *arg))
{
    SSL_CTX_set_tlsext_servername_callback(ssl->ctx, (void (*)(void)) cb);
}


/* Appends the OpenSSL error queue to the message and empties the queue. */
void
pt_ssl_error(pt_uint_t level, pt_log_t *log, pt_err_t err, const char *fmt, ...)
{
    int            flags;
    u_char        *p, *last;
    va_list        args;
    const char    *data;
    unsigned long  n;
    u_char         errstr[PT_MAX_ERROR_STR];

    last = errstr + PT_MAX_ERROR_STR;

    va_start(args, fmt);
    p = pt_vslprintf(errstr, last - 1, fmt, args);
    va_end(args);

    if (ERR_peek_error()) {
        p = pt_cpystrn(p, (u_char *) " (SSL:", last - p);

        for ( ;; ) {
            n = ERR_peek_error_data(&data, &flags);
            if (n == 0) {
                break;
            }

            /* the most recent, most specific errors are the last ones */
            if (p < last - 1) {
                *p++ = ' ';
                ERR_error_string_n(n, (char *) p, last - p);
                while (p < last && *p) {
                    p++;
                }
                if (p < last && *data && (flags & ERR_TXT_STRING)) {
                    p = pt_slprintf(p, last, ":%s", data);
                }
            }

            (void) ERR_get_error();
        }

        if (p < last) {
            *p++ = ')';
        }
    }

    if (level == PT_LOG_EMERG && pt_cycle && log == NULL) {
        log = pt_cycle->log;
    }

    pt_log_error(level, log, err, "%.*s", (int) (p - errstr), errstr);
}


void
pt_ssl_clear_error(pt_log_t *log)
{
    (void) log;

    ERR_clear_error();
}


char *
pt_ssl_conf_set_passwords_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t     *value;
    pt_array_t  **passwords;

    passwords = (pt_array_t **) ((char *) conf + cmd->offset);

    if (*passwords != PT_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *passwords = pt_ssl_read_password_file(cf, &value[1]);

    return *passwords ? PT_CONF_OK : PT_CONF_ERROR;
}
