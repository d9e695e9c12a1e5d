/*
 * pt_ssl_vars.c: what a TLS connection says about itself, as strings for
 * the $ssl_* variables.  Each getter sets s (empty when there is nothing
 * to say) in memory that lives at least as long as pool, and returns PT_OK,
 * or PT_ERROR on allocation failure.  Values are nginx's formats.
 */

#include "portico.h"

static pt_int_t pt_ssl_set_str(pt_pool_t *pool, pt_str_t *s, const u_char *data,
    size_t len);
static pt_int_t pt_ssl_name_string(X509_NAME *name, pt_pool_t *pool,
    pt_str_t *s);


static pt_int_t
pt_ssl_set_str(pt_pool_t *pool, pt_str_t *s, const u_char *data, size_t len)
{
    s->len = len;

    if (len == 0) {
        s->data = (u_char *) "";
        return PT_OK;
    }

    s->data = pt_pnalloc(pool, len);
    if (s->data == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(s->data, data, len);

    return PT_OK;
}


/* "TLSv1.3" */
pt_int_t
pt_ssl_get_protocol(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    const char  *p;

    (void) pool;

    p = SSL_get_version(c->ssl->connection);

    s->len = pt_strlen(p);
    s->data = (u_char *) p;

    return PT_OK;
}


/* "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256" */
pt_int_t
pt_ssl_get_cipher_name(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    const char  *p;

    (void) pool;

    p = SSL_get_cipher_name(c->ssl->connection);

    s->len = p ? pt_strlen(p) : 0;
    s->data = (u_char *) (p ? p : "");

    return PT_OK;
}


/* The key exchange group: "X25519", "prime256v1"; "0x..." when unnamed. */
pt_int_t
pt_ssl_get_curve(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    int          nid;
    const char  *name;

    nid = SSL_get_negotiated_group(c->ssl->connection);

    if (nid == 0) {
        s->len = 0;
        s->data = (u_char *) "";
        return PT_OK;
    }

    if (nid & TLSEXT_nid_unknown) {
        s->data = pt_pnalloc(pool, sizeof("0x0000") - 1);
        if (s->data == NULL) {
            return PT_ERROR;
        }
        s->len = pt_slprintf(s->data, s->data + sizeof("0x0000") - 1, "0x%04x",
                             nid & 0xffff) - s->data;
        return PT_OK;
    }

    name = OBJ_nid2sn(nid);

    s->len = name ? pt_strlen(name) : 0;
    s->data = (u_char *) (name ? name : "");

    return PT_OK;
}


/* The name the client asked for (SNI), as it sent it. */
pt_int_t
pt_ssl_get_server_name(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    const char  *name;

    (void) pool;

    name = SSL_get_servername(c->ssl->connection, TLSEXT_NAMETYPE_host_name);

    s->len = name ? pt_strlen(name) : 0;
    s->data = (u_char *) (name ? name : "");

    return PT_OK;
}


/* Hex of the session id (empty for a session without one). */
pt_int_t
pt_ssl_get_session_id(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    unsigned int   len;
    SSL_SESSION   *sess;
    const u_char  *id;

    sess = SSL_get0_session(c->ssl->connection);

    if (sess == NULL) {
        s->len = 0;
        s->data = (u_char *) "";
        return PT_OK;
    }

    id = SSL_SESSION_get_id(sess, &len);

    s->len = 2 * len;
    s->data = pt_pnalloc(pool, s->len + 1);
    if (s->data == NULL) {
        return PT_ERROR;
    }

    pt_hex_dump(s->data, (u_char *) id, len);

    /* nginx prints the id in upper case */
    for (len = 0; len < s->len; len++) {
        s->data[len] = pt_toupper(s->data[len]);
    }

    return PT_OK;
}


/* "r" when the session was resumed, "." otherwise. */
pt_int_t
pt_ssl_get_session_reused(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    (void) pool;

    s->len = 1;
    s->data = (u_char *) (SSL_session_reused(c->ssl->connection) ? "r" : ".");

    return PT_OK;
}


pt_int_t
pt_ssl_get_alpn_protocol(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    unsigned int          len;
    const unsigned char  *data;

    SSL_get0_alpn_selected(c->ssl->connection, &data, &len);

    return pt_ssl_set_str(pool, s, data, len);
}


/* "SUCCESS", "FAILED:reason" or "NONE". */
pt_int_t
pt_ssl_get_client_verify(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    X509        *cert;
    long         rc;
    const char  *str;

    cert = SSL_get0_peer_certificate(c->ssl->connection);

    if (cert == NULL) {
        pt_str_set(s, "NONE");
        return PT_OK;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc == X509_V_OK) {
        pt_str_set(s, "SUCCESS");
        return PT_OK;
    }

    str = X509_verify_cert_error_string(rc);

    s->len = sizeof("FAILED:") - 1 + pt_strlen(str);
    s->data = pt_pnalloc(pool, s->len);
    if (s->data == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(pt_cpymem(s->data, "FAILED:", sizeof("FAILED:") - 1), str, pt_strlen(str));

    return PT_OK;
}


/* RFC 2253 form: "CN=client,O=Example" */
static pt_int_t
pt_ssl_name_string(X509_NAME *name, pt_pool_t *pool, pt_str_t *s)
{
    BIO     *bio;
    char    *data;
    long     len;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return PT_ERROR;
    }

    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
        BIO_free(bio);
        return PT_ERROR;
    }

    len = BIO_get_mem_data(bio, &data);

    if (pt_ssl_set_str(pool, s, (u_char *) data, (size_t) len) != PT_OK) {
        BIO_free(bio);
        return PT_ERROR;
    }

    BIO_free(bio);

    return PT_OK;
}


/* The client's certificate, or NULL with s set to the empty string that
 * every certificate variable is when none was sent. */
static X509 *
pt_ssl_peer_cert(pt_connection_t *c, pt_str_t *s)
{
    X509  *cert;

    cert = SSL_get0_peer_certificate(c->ssl->connection);

    if (cert == NULL) {
        s->len = 0;
        s->data = (u_char *) "";
    }

    return cert;
}


pt_int_t
pt_ssl_get_subject_dn(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    X509  *cert;

    cert = pt_ssl_peer_cert(c, s);
    if (cert == NULL) {
        return PT_OK;
    }

    return pt_ssl_name_string(X509_get_subject_name(cert), pool, s);
}


pt_int_t
pt_ssl_get_issuer_dn(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    X509  *cert;

    cert = pt_ssl_peer_cert(c, s);
    if (cert == NULL) {
        return PT_OK;
    }

    return pt_ssl_name_string(X509_get_issuer_name(cert), pool, s);
}


/* Hex, upper case, as "openssl x509 -serial" prints it. */
pt_int_t
pt_ssl_get_serial_number(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    X509    *cert;
    BIO     *bio;
    char    *data;
    long     len;

    cert = pt_ssl_peer_cert(c, s);
    if (cert == NULL) {
        return PT_OK;
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return PT_ERROR;
    }

    i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(cert));
    len = BIO_get_mem_data(bio, &data);

    if (pt_ssl_set_str(pool, s, (u_char *) data, (size_t) len) != PT_OK) {
        BIO_free(bio);
        return PT_ERROR;
    }

    BIO_free(bio);

    return PT_OK;
}


/* SHA-1 of the certificate, lower-case hex without colons. */
pt_int_t
pt_ssl_get_fingerprint(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    X509          *cert;
    unsigned int   len;
    u_char         buf[EVP_MAX_MD_SIZE];

    cert = pt_ssl_peer_cert(c, s);
    if (cert == NULL) {
        return PT_OK;
    }

    if (!X509_digest(cert, EVP_sha1(), buf, &len)) {
        return PT_ERROR;
    }

    s->len = 2 * len;
    s->data = pt_pnalloc(pool, s->len + 1);
    if (s->data == NULL) {
        return PT_ERROR;
    }

    pt_hex_dump(s->data, buf, len);

    return PT_OK;
}


/* The PEM certificate as sent by the client. */
pt_int_t
pt_ssl_get_raw_certificate(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    X509    *cert;
    BIO     *bio;
    char    *data;
    long     len;

    cert = pt_ssl_peer_cert(c, s);
    if (cert == NULL) {
        return PT_OK;
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return PT_ERROR;
    }

    if (PEM_write_bio_X509(bio, cert) == 0) {
        BIO_free(bio);
        return PT_ERROR;
    }

    len = BIO_get_mem_data(bio, &data);

    if (pt_ssl_set_str(pool, s, (u_char *) data, (size_t) len) != PT_OK) {
        BIO_free(bio);
        return PT_ERROR;
    }

    BIO_free(bio);

    return PT_OK;
}


/*
 * $ssl_client_cert: the PEM with every line after the first indented by a
 * tab, so it fits in a header value (nginx's format, deprecated there in
 * favour of $ssl_client_escaped_cert but still what proxies expect).
 */
pt_int_t
pt_ssl_get_certificate(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s)
{
    size_t     len, i;
    u_char    *p;
    pt_str_t   raw;

    if (pt_ssl_get_raw_certificate(c, pool, &raw) != PT_OK) {
        return PT_ERROR;
    }

    if (raw.len == 0) {
        *s = raw;
        return PT_OK;
    }

    /* drop the final newline */
    if (raw.data[raw.len - 1] == LF) {
        raw.len--;
    }

    len = raw.len;
    for (i = 0; i < raw.len; i++) {
        if (raw.data[i] == LF) {
            len++;
        }
    }

    s->data = pt_pnalloc(pool, len);
    if (s->data == NULL) {
        return PT_ERROR;
    }

    p = s->data;

    for (i = 0; i < raw.len; i++) {
        *p++ = raw.data[i];
        if (raw.data[i] == LF) {
            *p++ = '\t';
        }
    }

    s->len = len;

    return PT_OK;
}


/* The peer certificate matches name: a DNS name or an IP address. */
pt_int_t
pt_ssl_check_host(pt_connection_t *c, pt_str_t *name)
{
    X509  *cert;

    cert = SSL_get0_peer_certificate(c->ssl->connection);

    if (cert == NULL) {
        return PT_ERROR;
    }

    if (X509_check_host(cert, (char *) name->data, name->len, 0, NULL) == 1) {
        return PT_OK;
    }

    /* an address: X509_check_ip_asc() wants it NUL-terminated */
    if (name->len < 64) {
        char  ip[64];

        pt_memcpy(ip, name->data, name->len);
        ip[name->len] = '\0';

        if (X509_check_ip_asc(cert, ip, 0) == 1) {
            return PT_OK;
        }
    }

    ERR_clear_error();

    return PT_ERROR;
}
