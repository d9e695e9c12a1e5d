/*
 * pt_http.h: the umbrella header of the HTTP engine.
 *
 * Every HTTP source (core/http and the HTTP modules) includes this one
 * header.  It pulls in portico.h and then the HTTP headers in dependency
 * order:
 *
 *   pt_http_config.h       module descriptor, conf levels, conf macros
 *   pt_http_request.h      connection, request, headers, status codes
 *   pt_http_variables.h    $variables
 *   pt_http_script.h       complex values, the script engine
 *   pt_http_file.h         root/alias mapping, types {}
 *   pt_http_core_module.h  core conf, listen, locations, phases
 *   pt_http_parse.h        request line, header, uri and chunked parsers
 *   pt_http_filters.h      the header and body filter chains
 *   pt_http_upstream.h     the upstream framework (proxy), balancers
 *
 * and declares the request lifecycle API shared between the files.
 */

#ifndef PT_HTTP_H
#define PT_HTTP_H

#include "portico.h"

typedef struct pt_http_request_s  pt_http_request_t;

#include "pt_http_config.h"
#include "pt_http_request.h"
#include "pt_http_variables.h"
#include "pt_http_script.h"
#include "pt_http_file.h"
#include "pt_http_core_module.h"
#include "pt_http_parse.h"
#include "pt_http_filters.h"
#include "pt_http_upstream.h"
#include "pt_http_upstream_round_robin.h"

/* ---- pt_http.c: the http {} block ---- */

/* Records a "listen" of cscf (duplicates and option conflicts are config
 * errors). */
pt_int_t pt_http_add_listen(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_listen_opt_t *lsopt);
/* Queues a location under its parent while parsing. */
pt_int_t pt_http_add_location(pt_conf_t *cf, pt_queue_t **locations,
    pt_http_core_loc_conf_t *clcf);
/* The server of addr_conf named host (lower case, no port); NULL when no
 * name matches. */
pt_http_core_srv_conf_t *pt_http_find_virtual_server(
    pt_http_addr_conf_t *addr_conf, pt_str_t *host);
/* The same for a request: the "~regex" name that matches also sets r's
 * captures and named-capture variables ($1, $name in that server). */
pt_http_core_srv_conf_t *pt_http_find_request_server(pt_http_request_t *r,
    pt_http_addr_conf_t *addr_conf, pt_str_t *host);

/* ---- pt_http_request.c: the connection and request lifecycle ---- */

/* ls->handler: a new connection was accepted. */
void pt_http_init_connection(pt_connection_t *c);
void pt_http_close_connection(pt_connection_t *c);

/* The single exit of a request handler: rc is PT_OK / PT_DONE / PT_AGAIN /
 * PT_DECLINED / PT_ERROR or an HTTP status, which then gets its special
 * response.  Decides between writing on, keepalive, lingering close and
 * close. */
void pt_http_finalize_request(pt_http_request_t *r, pt_int_t rc);
/* client_header_timeout or client_body_timeout ran out: 408 and close
 * (or a reset, with reset_timedout_connection). */
void pt_http_request_timed_out(pt_http_request_t *r);
/* tcp_nopush: corks the connection until the response is done. */
void pt_http_tcp_nopush(pt_connection_t *c);
/* Closes the request and its connection right away (errors, shutdown). */
void pt_http_terminate_request(pt_http_request_t *r, pt_int_t rc);
/* Logs the request (LOG phase) and releases it. */
void pt_http_free_request(pt_http_request_t *r, pt_int_t rc);

void pt_http_request_empty_handler(pt_http_request_t *r);
void pt_http_block_reading(pt_http_request_t *r);
pt_http_cleanup_t *pt_http_cleanup_add(pt_http_request_t *r, size_t size);
/* c->log->handler: ", client: ..., server: ..., request: ..." */
u_char *pt_http_log_error(pt_log_t *log, u_char *buf, size_t len);

/* The read and write handler of a connection whose request runs. */
void pt_http_request_handler(pt_event_t *ev);
/* The read handler of a connection waiting for the first byte of a
 * request (after the TLS handshake too). */
void pt_http_wait_request_handler(pt_event_t *rev);
/* Drops a reference to the request; the last one frees it and closes the
 * connection. */
void pt_http_close_request(pt_http_request_t *r, pt_int_t rc);

/* ---- pt_http_request_header.c: reading the request head ---- */

/* The read handler from the first byte of a request to its last header. */
void pt_http_process_request_line(pt_event_t *rev);
/* Sets r->headers_in.msie6 and .safari from the User-Agent (on demand). */
void pt_http_detect_browser(pt_http_request_t *r);

/* ---- pt_http_auth_basic_user.c: the Basic credentials ---- */

/* Decodes "Authorization: Basic ..." once per request into
 * r->headers_in.user and .passwd (NUL-terminated, user followed by its
 * ':').  PT_OK; PT_DECLINED when there are none or they are malformed;
 * PT_ERROR (no memory).  $remote_user and auth_basic use it. */
pt_int_t pt_http_auth_basic_user(pt_http_request_t *r);

/* ---- pt_http_request_body.c ---- */

/* Reads the request body for a handler; see pt_http_request_body_t in
 * pt_http_request.h.  PT_OK, PT_AGAIN, or an HTTP error status. */
pt_int_t pt_http_read_client_request_body(pt_http_request_t *r,
    pt_http_client_body_handler_pt post_handler);
/* Streaming mode: reads on after the handler consumed data.  PT_OK (the
 * body is complete), PT_AGAIN, or an HTTP error status. */
pt_int_t pt_http_read_unbuffered_request_body(pt_http_request_t *r);
/* $request_body: the body when it was read into memory. */
pt_int_t pt_http_variable_request_body(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);

/* ---- pt_http_request_body_discard.c ---- */

/* Reads and drops a request body the handler does not want, so the next
 * request on the connection starts at the right byte.  PT_OK (possibly
 * still discarding in the background) or an HTTP error status. */
pt_int_t pt_http_discard_request_body(pt_http_request_t *r);
void pt_http_discarded_request_body_handler(pt_http_request_t *r);
/* Sends "100 Continue" if the client waits for it (once). */
pt_int_t pt_http_test_expect(pt_http_request_t *r);

/* ---- pt_http_special_response.c ---- */

/* Sends the built-in page for an error or redirect status. */
pt_int_t pt_http_special_response_handler(pt_http_request_t *r,
    pt_int_t error);
/* "200 OK" for 200; NULL for a status without a text. */
pt_str_t *pt_http_status_line(pt_uint_t status);

/* ---- modules/http_ssl (TLS termination) ---- */

#if (PT_HAVE_HTTP_SSL_MODULE)
/* Starts the handshake of a connection to a "listen ... ssl" address. */
void pt_http_ssl_init_connection(pt_connection_t *c);
/* After the head of a request on such an address: 497 for plain HTTP,
 * 495/496 for client certificates; PT_ERROR when it finalized r. */
pt_int_t pt_http_ssl_verify_request(pt_http_request_t *r);

/* TLS to upstreams (pt_http_upstream_ssl_module): */
typedef void (*pt_http_upstream_ssl_done_pt)(pt_http_request_t *r, pt_int_t rc);
/* "proxy_pass https://..." in the location being parsed (maybe: the
 * scheme comes from a variable; no warning when not verified). */
pt_int_t pt_http_upstream_ssl_enable(pt_conf_t *cf, pt_uint_t maybe);
/* Starts TLS on the upstream connection c of r, just connected to sa;
 * host is the upstream's name without port (proxy_ssl_name's default).
 * PT_OK: done and verified; PT_AGAIN: done(r, rc) runs when it ends;
 * PT_ERROR: failed (logged): try the next peer. */
pt_int_t pt_http_upstream_ssl_init_connection(pt_http_request_t *r,
    pt_connection_t *c, pt_str_t *host, struct sockaddr *sa, socklen_t socklen,
    pt_http_upstream_ssl_done_pt done);
#endif

/* ---- modules that are always built ---- */

extern pt_module_t  pt_http_log_module;

#endif /* PT_HTTP_H */
