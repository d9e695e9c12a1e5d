/*
 * pt_http_ssl_module.h: TLS termination for HTTP.
 *
 *   pt_http_ssl_module.c     directives, per-server contexts, checks
 *   pt_http_ssl_handshake.c  the handshake of a new connection, SNI,
 *                            the client certificate check of a request
 *   pt_http_ssl_variables.c  $ssl_*
 */

#ifndef PT_HTTP_SSL_MODULE_H
#define PT_HTTP_SSL_MODULE_H

#include "pt_http.h"

typedef struct {
    pt_ssl_t                 ssl;           /* ssl.ctx NULL: no TLS here */

    pt_flag_t                prefer_server_ciphers;
    pt_flag_t                reject_handshake;
    pt_flag_t                session_tickets;

    pt_uint_t                protocols;
    pt_uint_t                verify;
    pt_uint_t                verify_depth;

    size_t                   buffer_size;
    ssize_t                  builtin_session_cache;
    time_t                   session_timeout;
    pt_msec_t                handshake_timeout;

    pt_array_t              *certificates;
    pt_array_t              *certificate_keys;
    pt_array_t              *passwords;
    pt_array_t              *conf_commands;
    pt_array_t              *session_ticket_keys;

    pt_str_t                 dhparam;
    pt_str_t                 ecdh_curve;
    pt_str_t                 client_certificate;
    pt_str_t                 trusted_certificate;
    pt_str_t                 crl;
    pt_str_t                 ciphers;

    pt_shm_zone_t           *shm_zone;

    u_char                  *file;          /* where the server {} starts */
    pt_uint_t                line;
} pt_http_ssl_srv_conf_t;

/* pt_http_ssl_handshake.c */
int pt_http_ssl_servername(SSL *ssl, int *ad, void *arg);

/* pt_http_ssl_variables.c */
pt_int_t pt_http_ssl_add_variables(pt_conf_t *cf);

extern pt_module_t  pt_http_ssl_module;
extern pt_module_t  pt_http_upstream_ssl_module;

#endif /* PT_HTTP_SSL_MODULE_H */
