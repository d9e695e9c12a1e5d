/*
 * pt_ssl.h: TLS with OpenSSL 3, for both ends of a connection.
 *
 * A pt_ssl_t wraps one SSL_CTX: a server's certificates, protocols, ciphers,
 * verification and session settings, or the client side used towards
 * upstreams.  Contexts are built at configuration time in the master, so
 * every worker inherits them (and the ticket key) by fork.
 *
 * A connection becomes TLS with pt_ssl_create_connection() (which gives a
 * connection without a pool, an upstream one, a pool of its own, freed by
 * pt_ssl_close()) and
 * pt_ssl_handshake(); once the handshake is done the connection's recv,
 * send and send_chain are replaced by the TLS ones, so the protocol code
 * above reads and writes exactly as on a plain socket.  Everything is
 * non-blocking and edge-triggered like the rest of the event loop:
 *
 *   pt_ssl_handshake()   PT_OK, PT_AGAIN (c->ssl->handler runs when it
 *                        ends either way), PT_ERROR
 *   pt_ssl_recv()        bytes, 0 at close_notify or EOF, PT_AGAIN, PT_ERROR
 *   pt_ssl_send_chain()  coalesces the chain into one buffer of
 *                        buffer_size bytes (16k: one full TLS record) per
 *                        SSL_write, reading file buffers with pread()
 *   pt_ssl_shutdown()    sends close_notify and frees the SSL object;
 *                        PT_AGAIN (c->ssl->handler runs later) or PT_OK
 *
 * Split by responsibility: pt_ssl.c (contexts, certificates, verification,
 * errors), pt_ssl_io.c (handshake, I/O, shutdown), pt_ssl_session.c (the
 * shared session cache and ticket keys), pt_ssl_vars.c (values for $ssl_*).
 */

#ifndef PT_SSL_H
#define PT_SSL_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/conf.h>

/* ssl_protocols bits */
#define PT_SSL_SSLv2     0x0002
#define PT_SSL_SSLv3     0x0004
#define PT_SSL_TLSv1     0x0008
#define PT_SSL_TLSv1_1   0x0010
#define PT_SSL_TLSv1_2   0x0020
#define PT_SSL_TLSv1_3   0x0040
#define PT_SSL_DEFAULT_PROTOCOLS  (PT_SSL_TLSv1_2|PT_SSL_TLSv1_3)

/* c->buffered bit: bytes wait in the TLS write buffer.  It is inside
 * PT_HTTP_LOWLEVEL_BUFFERED so the write filter keeps flushing. */
#define PT_SSL_BUFFERED  0x80

#define PT_SSL_BUFSIZE   16384

/* pt_ssl_create_connection() flags */
#define PT_SSL_BUFFER    1      /* coalesce writes into buffer_size bytes */
#define PT_SSL_CLIENT    2      /* connect side (upstreams) */

/* ssl_verify_client */
#define PT_SSL_VERIFY_OFF            0
#define PT_SSL_VERIFY_ON             1
#define PT_SSL_VERIFY_OPTIONAL       2
#define PT_SSL_VERIFY_OPTIONAL_NO_CA 3

/* ssl_session_cache builtin size: none, off, or a count */
#define PT_SSL_NO_SCACHE            -2
#define PT_SSL_NONE_SCACHE          -3
#define PT_SSL_NO_BUILTIN_SCACHE    -4
#define PT_SSL_DFLT_BUILTIN_SCACHE  -5

#define PT_SSL_MAX_SESSION_SIZE  4096

typedef struct {
    SSL_CTX              *ctx;
    pt_log_t             *log;
    size_t                buffer_size;
} pt_ssl_t;

typedef void (*pt_ssl_save_session_pt)(pt_connection_t *c);

struct pt_ssl_connection_s {
    SSL                  *connection;
    SSL_CTX              *session_ctx;  /* the context sessions live in */

    pt_int_t              last;         /* a result recv() still owes */
    pt_buf_t             *buf;          /* write buffer, while it holds data */
    size_t                buffer_size;

    /* Runs when a handshake or shutdown that returned PT_AGAIN ends. */
    pt_connection_handler_pt  handler;
    /* Client side: called when the server sends a session (TLS 1.3 sends
     * it after the handshake). */
    pt_ssl_save_session_pt    save_session;

    pt_event_handler_pt   saved_read_handler;
    pt_event_handler_pt   saved_write_handler;

    unsigned              handshaked:1;
    unsigned              buffer:1;
    unsigned              client:1;
    unsigned              no_wait_shutdown:1;
    unsigned              no_send_shutdown:1;
    unsigned              shutdown_without_free:1;
    unsigned              handshake_timedout:1;
    unsigned              own_pool:1;   /* c->pool was made for TLS */
};

/* An ssl_session_ticket_key: the first one of a context encrypts, all of
 * them decrypt. */
typedef struct {
    size_t                size;         /* 48 (AES-128) or 80 (AES-256) */
    u_char                name[16];
    u_char                hmac_key[32];
    u_char                aes_key[32];
} pt_ssl_ticket_key_t;

/* ---- pt_ssl.c: contexts ---- */

/* Once per process: OpenSSL and the ex_data indices. */
pt_int_t pt_ssl_init(pt_log_t *log);
/* A new context for protocols (PT_SSL_* bits); data is what
 * pt_ssl_get_ctx_data() returns (the module conf).  The context is freed
 * with cf->pool. */
pt_int_t pt_ssl_create(pt_conf_t *cf, pt_ssl_t *ssl, pt_uint_t protocols,
    pt_uint_t client, void *data);
void *pt_ssl_get_ctx_data(SSL_CTX *ctx);
/* Reads a password file: one password per line. */
pt_array_t *pt_ssl_read_password_file(pt_conf_t *cf, pt_str_t *file);
/* Directive setter for "*ssl_password_file": reads the file into the
 * pt_array_t * at cmd->offset (unset: PT_CONF_UNSET_PTR). */
char *pt_ssl_conf_set_passwords_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* Loads each certificate (with the rest of its file as the chain) and the
 * key of the same index; passwords (may be NULL) are tried in order. */
pt_int_t pt_ssl_certificates(pt_conf_t *cf, pt_ssl_t *ssl, pt_array_t *certs,
    pt_array_t *keys, pt_array_t *passwords);
pt_int_t pt_ssl_ciphers(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *ciphers,
    pt_uint_t prefer_server_ciphers);
pt_int_t pt_ssl_ecdh_curve(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *name);
pt_int_t pt_ssl_dhparam(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *file);
/* ssl_conf_command name value pairs (pt_keyval_t), via SSL_CONF. */
pt_int_t pt_ssl_conf_commands(pt_conf_t *cf, pt_ssl_t *ssl, pt_array_t *cmds);
/* Client certificates: CAs that verify them and whose names are sent to
 * the client (client_certificate) or that only verify (trusted). */
pt_int_t pt_ssl_client_certificate(pt_conf_t *cf, pt_ssl_t *ssl,
    pt_str_t *cert, pt_int_t depth);
pt_int_t pt_ssl_trusted_certificate(pt_conf_t *cf, pt_ssl_t *ssl,
    pt_str_t *cert, pt_int_t depth);
pt_int_t pt_ssl_crl(pt_conf_t *cf, pt_ssl_t *ssl, pt_str_t *crl);
/* Sets verification to peer certificates (depth) without failing the
 * handshake: the protocol checks SSL_get_verify_result() itself. */
void pt_ssl_set_verify(pt_ssl_t *ssl, pt_uint_t verify, pt_int_t depth);
/* ALPN on a server context: offers (wire format) that the client must
 * share, else the handshake fails with no_application_protocol. */
pt_int_t pt_ssl_alpn(pt_conf_t *cf, pt_ssl_t *ssl, const u_char *protos,
    size_t len);
/* Client hello hook for server name selection: cb(ssl, &alert, arg). */
void pt_ssl_servername_callback(pt_ssl_t *ssl,
    int (*cb)(SSL *ssl, int *ad, void *arg));

/* "(SSL: error:...)" appended to the message, the queue emptied. */
void pt_ssl_error(pt_uint_t level, pt_log_t *log, pt_err_t err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pt_ssl_clear_error(pt_log_t *log);

/* ---- pt_ssl_io.c: connections ---- */

pt_int_t pt_ssl_create_connection(pt_ssl_t *ssl, pt_connection_t *c,
    pt_uint_t flags);
pt_int_t pt_ssl_handshake(pt_connection_t *c);
ssize_t pt_ssl_recv(pt_connection_t *c, u_char *buf, size_t size);
ssize_t pt_ssl_write(pt_connection_t *c, u_char *data, size_t size);
pt_chain_t *pt_ssl_send_chain(pt_connection_t *c, pt_chain_t *in,
    off_t limit);
pt_int_t pt_ssl_shutdown(pt_connection_t *c);
/* Sends close_notify but keeps the SSL object (lingering close reads on). */
void pt_ssl_shutdown_notify(pt_connection_t *c);
/* For a connection about to be closed at once (upstreams): a close_notify
 * if the socket takes it, then everything TLS attached is freed. */
void pt_ssl_close(pt_connection_t *c);
/* Client side: resume this session (NULL: none). */
pt_int_t pt_ssl_set_session(pt_connection_t *c, SSL_SESSION *session);
/* A reference to the connection's session, or NULL. */
SSL_SESSION *pt_ssl_get1_session(pt_connection_t *c);
/* Logs a TLS failure of connection c at the level its cause deserves:
 * [info] for what a peer can cause, [crit] for the rest. */
void pt_ssl_connection_error(pt_connection_t *c, int sslerr, pt_err_t err,
    const char *text);

/* ---- pt_ssl_session.c: session cache and tickets ---- */

/* ssl_session_cache: builtin is a PT_SSL_*_SCACHE value or a size;
 * shm_zone may be NULL; timeout in seconds. */
pt_int_t pt_ssl_session_cache(pt_ssl_t *ssl, pt_str_t *sess_ctx,
    pt_array_t *certificates, ssize_t builtin, pt_shm_zone_t *shm_zone,
    time_t timeout);
/* zone->init of a shared session cache. */
pt_int_t pt_ssl_session_cache_init(pt_shm_zone_t *zone, void *data);
/* ssl_session_tickets and ssl_session_ticket_key files (paths may be NULL:
 * one key made once per master, shared by all workers and kept across
 * reloads). */
pt_int_t pt_ssl_session_ticket_keys(pt_conf_t *cf, pt_ssl_t *ssl,
    pt_flag_t enable, pt_array_t *paths);
/* Client side: sessions arrive through c->ssl->save_session. */
pt_int_t pt_ssl_client_session_cache(pt_conf_t *cf, pt_ssl_t *ssl,
    pt_uint_t enable);

/* ---- pt_ssl_vars.c: values of $ssl_* (into pool memory) ---- */

typedef pt_int_t (*pt_ssl_variable_pt)(pt_connection_t *c, pt_pool_t *pool,
    pt_str_t *s);

pt_int_t pt_ssl_get_protocol(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_cipher_name(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_curve(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_server_name(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_session_id(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_session_reused(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_alpn_protocol(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_client_verify(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_subject_dn(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_issuer_dn(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_serial_number(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_fingerprint(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_certificate(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);
pt_int_t pt_ssl_get_raw_certificate(pt_connection_t *c, pt_pool_t *pool, pt_str_t *s);

/* Checks the peer certificate against name (DNS or IP); PT_OK or PT_ERROR. */
pt_int_t pt_ssl_check_host(pt_connection_t *c, pt_str_t *name);

extern int  pt_ssl_connection_index;
extern int  pt_ssl_server_conf_index;
extern int  pt_ssl_session_cache_index;
extern int  pt_ssl_ticket_keys_index;

#endif /* PT_SSL_H */
