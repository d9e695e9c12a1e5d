/*
 * pt_http_gzip.h: the gzip filter module's configuration and its pure
 * helpers.
 *
 *   pt_http_gzip_filter_module.c   the header and body filters, $gzip_ratio
 *   pt_http_gzip_conf.c            the directives, create/merge, the
 *                                  request tests (gzip_types, gzip_proxied,
 *                                  gzip_disable, gzip_http_version)
 *   pt_http_gzip_accept.c          Accept-Encoding, pure (t/unit/gzip.c)
 */

#ifndef PT_HTTP_GZIP_H
#define PT_HTTP_GZIP_H

#include "pt_http.h"

/* gzip_proxied bits, nginx's values. */
#define PT_HTTP_GZIP_PROXIED_OFF       0x0002
#define PT_HTTP_GZIP_PROXIED_EXPIRED   0x0004
#define PT_HTTP_GZIP_PROXIED_NO_CACHE  0x0008
#define PT_HTTP_GZIP_PROXIED_NO_STORE  0x0010
#define PT_HTTP_GZIP_PROXIED_PRIVATE   0x0020
#define PT_HTTP_GZIP_PROXIED_NO_LM     0x0040
#define PT_HTTP_GZIP_PROXIED_NO_ETAG   0x0080
#define PT_HTTP_GZIP_PROXIED_AUTH      0x0100
#define PT_HTTP_GZIP_PROXIED_ANY       0x0200

/* Unset sentinel of disable_msie6 (a flag that gzip_disable sets). */
#define PT_HTTP_GZIP_UNSET_MSIE6       2

typedef struct {
    pt_flag_t       enable;         /* gzip */
    pt_flag_t       vary;           /* gzip_vary */
    pt_bufs_t       bufs;           /* gzip_buffers */
    pt_int_t        level;          /* gzip_comp_level */
    size_t          min_length;     /* gzip_min_length */
    pt_uint_t       http_version;   /* gzip_http_version */
    pt_uint_t       proxied;        /* gzip_proxied, PT_HTTP_GZIP_PROXIED_* */

    /* gzip_disable: regexes (pt_regex_t *) against User-Agent, caseless;
     * NULL: unset.  "msie6" is the flag, tested through the parser's
     * headers_in.msie6. */
    pt_array_t     *disable;
    pt_uint_t       disable_msie6;

    /* gzip_types: lower-cased types (pt_str_t), text/html always among
     * them; NULL: unset; types_any: "*". */
    pt_array_t     *types;
    pt_flag_t       types_any;
} pt_http_gzip_conf_t;

extern pt_module_t      pt_http_gzip_filter_module;
extern pt_command_t     pt_http_gzip_commands[];

void *pt_http_gzip_create_conf(pt_conf_t *cf);
char *pt_http_gzip_merge_conf(pt_conf_t *cf, void *parent, void *child);

/* Whether the response's Content-Type is one of gzip_types. */
pt_uint_t pt_http_gzip_type_ok(pt_http_request_t *r, pt_http_gzip_conf_t *conf);
/* Whether this client and this request may get a gzipped body: the
 * Accept-Encoding qvalue, gzip_http_version, gzip_proxied (when Via is
 * there), gzip_disable.  PT_OK or PT_DECLINED. */
pt_int_t pt_http_gzip_client_ok(pt_http_request_t *r, pt_http_gzip_conf_t *conf);

/* The qvalue, in thousandths (0..1000), that an Accept-Encoding field
 * value gives the gzip coding (RFC 9110 12.5.3): its own ("x-gzip" is the
 * same coding), else that of "*", else 0.  A malformed weight counts as 0. */
pt_uint_t pt_http_gzip_accept_q(u_char *p, u_char *last);

#endif /* PT_HTTP_GZIP_H */
