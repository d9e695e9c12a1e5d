/*
 * pt_http_proxy.h: what the files of the proxy module share.
 *
 *   pt_http_proxy_module.c    directives, confs, the content handler,
 *                             $proxy_host, $proxy_port,
 *                             $proxy_add_x_forwarded_for
 *   pt_http_proxy_request.c   the request to the upstream: method, target
 *                             (nginx's URI rules), header fields, body
 *   pt_http_proxy_response.c  the upstream's head, parsed strictly, and
 *                             the body framings (length, chunked, close)
 *   pt_http_proxy_redirect.c  proxy_redirect, and the rewrite rules it
 *                             shares with proxy_cookie_domain/_path
 *   pt_http_proxy_cookie.c    proxy_cookie_domain, proxy_cookie_path,
 *                             proxy_cookie_flags
 */

#ifndef PT_HTTP_PROXY_H
#define PT_HTTP_PROXY_H

#include "pt_http.h"

/* What proxy_pass says about the upstream, for the request and the
 * variables. */
typedef struct {
    pt_str_t                    schema;         /* "http://" */
    pt_str_t                    host_header;    /* $proxy_host */
    pt_str_t                    port;           /* $proxy_port */
    pt_str_t                    uri;            /* the URI part, if any */
} pt_http_proxy_vars_t;

/* One proxy_set_header, compiled. */
typedef struct {
    pt_str_t                    name;
    pt_uint_t                   hash;           /* of the lower-cased name */
    pt_http_complex_value_t     value;
} pt_http_proxy_header_t;

/* One proxy_redirect, proxy_cookie_domain or proxy_cookie_path rule: a
 * prefix (a whole domain, for domain) or a "~" regex, which replaces the
 * whole value. */
typedef struct {
    pt_http_complex_value_t     pattern;
    pt_http_complex_value_t     replacement;
    pt_http_regex_t            *regex;          /* "~", "~*": not pattern */
    unsigned                    domain:1;       /* proxy_cookie_domain */
} pt_http_proxy_rewrite_t;

typedef struct {
    pt_http_upstream_conf_t     upstream;

    pt_str_t                    url;            /* proxy_pass as written */
    pt_http_complex_value_t    *url_cv;         /* with variables */
    pt_str_t                    location;       /* the location's prefix */
    pt_http_proxy_vars_t        vars;

    /* proxy_set_header as written (of pt_keyval_t), and the effective
     * list: these plus the defaults they do not name */
    pt_array_t                 *headers_source;
    pt_array_t                 *headers;        /* of pt_http_proxy_header_t */
    unsigned                    connection_close:1; /* "Connection: close" sent */

    pt_http_complex_value_t    *body_set;       /* proxy_set_body */
    pt_http_complex_value_t    *method;         /* proxy_method */
    pt_uint_t                   http_version;

    pt_flag_t                   redirect;       /* "default" or rules */
    pt_array_t                 *redirects;      /* of pt_http_proxy_rewrite_t */

    /* NULL: off or none; PT_CONF_UNSET_PTR while unset */
    pt_array_t                 *cookie_domains; /* of pt_http_proxy_rewrite_t */
    pt_array_t                 *cookie_paths;   /* of pt_http_proxy_rewrite_t */
    pt_array_t                 *cookie_flags;   /* pt_http_proxy_cookie.c */

    /* accepted for nginx configs: the proxy_set_header list is short and
     * scanned, not hashed; SO_SNDLOWAT does nothing on Linux */
    pt_uint_t                   headers_hash_max_size;
    pt_uint_t                   headers_hash_bucket_size;
    size_t                      send_lowat;
} pt_http_proxy_loc_conf_t;

/* Per request. */
typedef struct {
    pt_http_proxy_vars_t        vars;

    /* the head parser: the scan goes on where the last read ended */
    u_char                     *scan;
    u_char                     *line_start;

    pt_http_chunked_t           chunked;        /* a chunked response body */

    /* a streamed request body sent chunked (length unknown) */
    unsigned                    chunked_body:1;
    unsigned                    head:1;         /* the method sent is HEAD */
    unsigned                    body_started:1;
} pt_http_proxy_ctx_t;

pt_int_t pt_http_proxy_create_request(pt_http_request_t *r);
pt_int_t pt_http_proxy_reinit_request(pt_http_request_t *r);
pt_int_t pt_http_proxy_process_header(pt_http_request_t *r);
pt_int_t pt_http_proxy_input_filter_init(pt_http_request_t *r);
void pt_http_proxy_finalize_request(pt_http_request_t *r, pt_int_t rc);

/* The effective proxy_set_header list of a location. */
pt_int_t pt_http_proxy_init_headers(pt_conf_t *cf, pt_http_proxy_loc_conf_t *conf);
/* Splits "http://host[:port][/uri]" (proxy_pass at run time). */
pt_int_t pt_http_proxy_eval(pt_http_request_t *r, pt_http_proxy_ctx_t *ctx,
    pt_http_proxy_loc_conf_t *plcf);

char *pt_http_proxy_redirect(pt_conf_t *cf, pt_command_t *cmd, void *conf);
pt_int_t pt_http_proxy_redirect_merge(pt_conf_t *cf, pt_http_proxy_loc_conf_t *conf,
    pt_http_proxy_loc_conf_t *prev);
pt_int_t pt_http_proxy_rewrite_redirect(pt_http_request_t *r, pt_http_header_t *h,
    size_t prefix);

/* The rules shared by proxy_redirect and proxy_cookie_domain/_path. */
pt_http_proxy_rewrite_t *pt_http_proxy_rewrite_add(pt_conf_t *cf, pt_array_t **rules);
/* A rule's FROM (a "~" or "~*" regex, or a value) and TO. */
pt_int_t pt_http_proxy_rewrite_set(pt_conf_t *cf, pt_http_proxy_rewrite_t *pr,
    pt_str_t *from, pt_str_t *to);
pt_int_t pt_http_proxy_rewrite_compile(pt_conf_t *cf, pt_str_t *value,
    pt_http_complex_value_t *cv);
pt_int_t pt_http_proxy_rewrite_regex(pt_conf_t *cf, pt_http_proxy_rewrite_t *pr,
    pt_str_t *regex, pt_uint_t caseless);
/* The first rule that matches value after prefix rewrites it: PT_OK, or
 * PT_DECLINED (none matched), PT_ERROR. */
pt_int_t pt_http_proxy_rewrite_value(pt_http_request_t *r, pt_array_t *rules,
    pt_str_t *value, size_t prefix);

char *pt_http_proxy_cookie_domain(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_http_proxy_cookie_path(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_http_proxy_cookie_flags(pt_conf_t *cf, pt_command_t *cmd, void *conf);
void pt_http_proxy_cookie_merge(pt_http_proxy_loc_conf_t *conf,
    pt_http_proxy_loc_conf_t *prev);
pt_int_t pt_http_proxy_rewrite_cookie(pt_http_request_t *r, pt_http_header_t *h);

extern pt_module_t  pt_http_proxy_module;

#endif /* PT_HTTP_PROXY_H */
