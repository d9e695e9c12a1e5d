/*
 * pt_http_core_module.h: the http core configuration and the phase engine.
 *
 * A request runs through the phases below, in order.  Modules push their
 * handlers into cmcf->phases[PHASE].handlers in postconfiguration; the
 * http block then compiles every phase into one flat array of
 * (checker, handler, next) entries, and r->phase_handler walks it.  The
 * checker of a phase gives the handler return codes their meaning:
 *
 *   POST_READ       right after the head is read (realip later)
 *   SERVER_REWRITE  "return"/"rewrite" at server level
 *   FIND_CONFIG     choose the location (core only)
 *   REWRITE         "return"/"rewrite" in the location
 *   POST_REWRITE    back to FIND_CONFIG when the uri changed (core only)
 *   PREACCESS       limit_req, limit_conn
 *   ACCESS          allow/deny, auth
 *   POST_ACCESS     acts on the ACCESS verdict (core only)
 *   PRECONTENT      try_files, mirror
 *   CONTENT         r->content_handler (clcf->handler) or the content
 *                   handlers in order; none at all gives 404 (405 for
 *                   methods other than GET, HEAD and POST)
 *   LOG             run when the request is freed, not by the walk
 *
 * Handlers of one phase run in the order they were registered.
 */

#ifndef PT_HTTP_CORE_MODULE_H
#define PT_HTTP_CORE_MODULE_H

typedef enum {
    PT_HTTP_POST_READ_PHASE = 0,
    PT_HTTP_SERVER_REWRITE_PHASE,
    PT_HTTP_FIND_CONFIG_PHASE,
    PT_HTTP_REWRITE_PHASE,
    PT_HTTP_POST_REWRITE_PHASE,
    PT_HTTP_PREACCESS_PHASE,
    PT_HTTP_ACCESS_PHASE,
    PT_HTTP_POST_ACCESS_PHASE,
    PT_HTTP_PRECONTENT_PHASE,
    PT_HTTP_CONTENT_PHASE,
    PT_HTTP_LOG_PHASE
} pt_http_phases_e;

#define PT_HTTP_NPHASES  (PT_HTTP_LOG_PHASE + 1)

typedef struct pt_http_phase_handler_s  pt_http_phase_handler_t;

typedef pt_int_t (*pt_http_phase_handler_pt)(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);

struct pt_http_phase_handler_s {
    pt_http_phase_handler_pt   checker;
    pt_http_handler_pt         handler;
    pt_uint_t                  next;    /* first handler of the next phase */
};

typedef struct {
    pt_http_phase_handler_t   *handlers;    /* ended by a NULL checker */
    pt_uint_t                  server_rewrite_index;
    pt_uint_t                  location_rewrite_index;
} pt_http_phase_engine_t;

typedef struct {
    pt_array_t                 handlers;    /* of pt_http_handler_pt */
} pt_http_phase_t;

/* ---- listen ---- */

typedef struct {
    pt_sockaddr_t              sockaddr;
    socklen_t                  socklen;
    pt_str_t                   addr_text;

    unsigned                   set:1;           /* options were given */
    unsigned                   default_server:1;
    unsigned                   bind:1;          /* own socket, not the wildcard's */
    unsigned                   wildcard:1;
    unsigned                   ipv6only:1;
    unsigned                   deferred_accept:1;
    unsigned                   reuseport:1;
    unsigned                   ssl:1;           /* "listen ... ssl" */

    int                        backlog;
    int                        rcvbuf;
    int                        sndbuf;
} pt_http_listen_opt_t;

/* Names of the servers sharing one address, searched after the Host is
 * known: exact names (sorted), then "*.example.com" / ".example.com"
 * (longest match), then "www.example.*" (longest match), then the "~regex"
 * names in the order they appear in the configuration. */
typedef struct {
    pt_str_t                   name;
    void                      *server;      /* pt_http_core_srv_conf_t */
} pt_http_server_name_map_t;

typedef struct {
    pt_http_server_name_map_t *exact;
    pt_uint_t                  nexact;
    pt_http_server_name_map_t *head;        /* stored without the "*" */
    pt_uint_t                  nhead;
    pt_http_server_name_map_t *tail;        /* stored without the "*" */
    pt_uint_t                  ntail;
    struct pt_http_server_name_s  *regex;   /* in config order */
    pt_uint_t                  nregex;
} pt_http_virtual_names_t;

struct pt_http_addr_conf_s {
    void                      *default_server;  /* pt_http_core_srv_conf_t */
    pt_http_virtual_names_t   *virtual_names;   /* NULL: one server only */
    unsigned                   ssl:1;           /* TLS first (http_ssl) */
};

typedef struct {
    in_addr_t                  addr;
    pt_http_addr_conf_t        conf;
} pt_http_in_addr_t;

typedef struct {
    struct in6_addr            addr6;
    pt_http_addr_conf_t        conf;
} pt_http_in6_addr_t;

/* ls->servers: the addresses one listening socket serves.  More than one
 * when a wildcard socket also stands in for specific addresses of its port
 * (the connection's local address then selects the entry). */
typedef struct {
    void                      *addrs;       /* pt_http_in(6)_addr_t */
    pt_uint_t                  naddrs;
} pt_http_port_t;

/* Config-time: every listen address of a port and its servers. */
typedef struct {
    int                        family;
    in_port_t                  port;
    pt_array_t                 addrs;       /* of pt_http_conf_addr_t */
} pt_http_conf_port_t;

typedef struct {
    pt_http_listen_opt_t       opt;
    pt_array_t                 servers;     /* of pt_http_core_srv_conf_t * */
    void                      *default_server;
    pt_http_virtual_names_t   *virtual_names;
} pt_http_conf_addr_t;

/* ---- configuration ---- */

typedef struct pt_http_core_loc_conf_s  pt_http_core_loc_conf_t;

typedef struct {
    pt_array_t                 servers;     /* of pt_http_core_srv_conf_t * */

    pt_http_phase_engine_t     phase_engine;
    pt_http_phase_t            phases[PT_HTTP_NPHASES];

    pt_array_t                *ports;       /* of pt_http_conf_port_t */

    /* Variables: the indexed ones used by the config, the prefix families,
     * and every defined name (config time). */
    pt_array_t                 variables;        /* of pt_http_variable_t */
    pt_array_t                 prefix_variables; /* of pt_http_variable_t */
    pt_array_t                *variables_keys;   /* of pt_http_variable_t */

    /* Known request headers, hashed by lower-case name. */
    pt_http_header_in_t      **headers_in_hash;
    pt_uint_t                  headers_in_hash_size;

    pt_uint_t                  ncaptures;   /* the most groups of any regex */

    /* nginx's hash sizes, accepted and validated: portico's server names
     * and variables are looked up without these hashes, so they bound
     * nothing here. */
    pt_uint_t                  server_names_hash_max_size;
    pt_uint_t                  server_names_hash_bucket_size;
    pt_uint_t                  variables_hash_max_size;
    pt_uint_t                  variables_hash_bucket_size;
} pt_http_core_main_conf_t;

typedef struct pt_http_server_name_s {
    pt_str_t                   name;        /* as written */
    void                      *server;      /* pt_http_core_srv_conf_t */
    pt_http_regex_t           *regex;       /* "~regex" (name without "~") */
} pt_http_server_name_t;

typedef struct {
    pt_array_t                 server_names;    /* of pt_http_server_name_t */

    pt_http_conf_ctx_t        *ctx;         /* this server's conf context */

    u_char                    *file_name;   /* where "server" was written */
    pt_uint_t                  line;

    pt_str_t                   server_name; /* the first name: $server_name */

    size_t                     connection_pool_size;
    size_t                     request_pool_size;
    size_t                     client_header_buffer_size;
    pt_bufs_t                  large_client_header_buffers;

    pt_msec_t                  client_header_timeout;

    pt_flag_t                  ignore_invalid_headers;
    pt_flag_t                  merge_slashes;
    pt_flag_t                  underscores_in_headers;

    unsigned                   listen:1;
    unsigned                   captures:1;  /* a regex name with captures */

    /* "@name" locations, sorted, NULL-terminated (pt_http_location.c). */
    pt_http_core_loc_conf_t  **named_locations;
} pt_http_core_srv_conf_t;

#define PT_HTTP_ALIAS_REGEX       ((size_t) -1)

#define PT_HTTP_KEEPALIVE_DISABLE_NONE    0x0002
#define PT_HTTP_KEEPALIVE_DISABLE_MSIE6   0x0004
#define PT_HTTP_KEEPALIVE_DISABLE_SAFARI  0x0008

#define PT_HTTP_SATISFY_ALL       0
#define PT_HTTP_SATISFY_ANY       1

#define PT_HTTP_LINGERING_OFF     0
#define PT_HTTP_LINGERING_ON      1
#define PT_HTTP_LINGERING_ALWAYS  2

struct pt_http_core_loc_conf_s {
    pt_str_t                   name;        /* the location's uri */

    unsigned                   exact_match:1;   /* "=" */
    unsigned                   noregex:1;       /* "^~" */
    unsigned                   named:1;         /* "@name" */
    unsigned                   noname:1;        /* the block of "if" */
    /* "location /x/" answers "/x" with a 301 to "/x/" (set by proxy_pass
     * and the like) */
    unsigned                   auto_redirect:1;
    unsigned                   internal:1;      /* "internal" */
    unsigned                   auto_redirects:1;    /* a nested one has it */
    unsigned                   lmt_excpt:1;     /* the block of "limit_except" */

    pt_http_regex_t           *regex;       /* "~" / "~*"; name is the regex */

    pt_log_t                  *error_log;   /* "error_log" at this level */

    void                     **loc_conf;    /* this location's conf array */

    /* Nested locations (pt_http_location.c): exact ones sorted by name;
     * prefix ones sorted by name, with static_parents[i] the index of the
     * longest other prefix location that is a prefix of location i (-1:
     * none); regex ones in config order, NULL-terminated.  The queue exists
     * only while parsing. */
    pt_queue_t                *locations;
    pt_http_core_loc_conf_t  **exact_locations;
    pt_uint_t                  nexact_locations;
    pt_http_core_loc_conf_t  **static_locations;
    pt_int_t                  *static_parents;
    pt_uint_t                  nstatic_locations;
    pt_http_core_loc_conf_t  **regex_locations;

    /* error_page (pt_http_error_page.c): of pt_http_err_page_t; NULL:
     * none at this level (the parent's are inherited). */
    pt_array_t                *error_pages;
    pt_flag_t                  recursive_error_pages;

    pt_http_handler_pt         handler;     /* content handler (proxy, ...) */

    /* "limit_except": the methods (PT_HTTP_* bits) that get the block's
     * conf, limit_except_loc_conf (NULL: no block), and "satisfy". */
    uint32_t                   limit_except;
    void                     **limit_except_loc_conf;
    pt_uint_t                  satisfy;     /* PT_HTTP_SATISFY_* */

    pt_str_t                   default_type;

    /* Files (pt_http_file.c): root or alias, and types {}.  root.data is
     * NULL while unset; with variables, root_values is evaluated per
     * request.  alias is 0 for root, else the uri bytes it replaces (the
     * location's prefix length), PT_HTTP_ALIAS_REGEX in a regex location. */
    pt_str_t                   root;
    pt_http_complex_value_t   *root_values;
    size_t                     alias;
    pt_array_t                *types;       /* of pt_http_type_t */
    pt_http_types_hash_t      *types_hash;

    /* open_file_cache and its settings (pt_http_file.c): NULL when off. */
    pt_open_file_cache_t      *open_file_cache;
    time_t                     open_file_cache_valid;
    pt_uint_t                  open_file_cache_min_uses;
    pt_flag_t                  open_file_cache_errors;
    pt_flag_t                  open_file_cache_events;  /* no effect */

    off_t                      client_max_body_size;
    size_t                     postpone_output;

    /* Request bodies (pt_http_request_body.c) and connection handling. */
    size_t                     client_body_buffer_size;
    pt_path_t                 *client_body_temp_path;
    pt_uint_t                  keepalive_disable;   /* PT_HTTP_KEEPALIVE_DISABLE_* */
    pt_flag_t                  reset_timedout_connection;
    pt_flag_t                  tcp_nopush;
    pt_flag_t                  chunked_transfer_encoding;

    pt_msec_t                  keepalive_timeout;
    time_t                     keepalive_header;
    pt_uint_t                  keepalive_requests;
    pt_msec_t                  keepalive_time;
    pt_msec_t                  send_timeout;
    pt_msec_t                  client_body_timeout;
    pt_msec_t                  lingering_time;
    pt_msec_t                  lingering_timeout;

    pt_uint_t                  lingering_close;
    pt_flag_t                  server_tokens;
    pt_flag_t                  tcp_nodelay;
    pt_flag_t                  absolute_redirect;
    pt_flag_t                  server_name_in_redirect;
    pt_flag_t                  port_in_redirect;
    pt_flag_t                  log_not_found;
    pt_flag_t                  sendfile;
    size_t                     limit_rate;
    size_t                     limit_rate_after;

    /* sendfile_max_chunk bounds one send of a response (0: portico's own
     * per-call bound only).  The others are accepted for nginx configs:
     * output_buffers (portico sends files without reading them into
     * buffers), read_ahead (a no-op on Linux in nginx too), msie_padding
     * and msie_refresh (portico's error pages carry no padding; no refresh
     * redirects), log_subrequest (no subrequests yet). */
    size_t                     sendfile_max_chunk;
    size_t                     read_ahead;
    pt_bufs_t                  output_bufs;
    pt_flag_t                  msie_padding;
    pt_flag_t                  msie_refresh;
    pt_flag_t                  log_subrequest;

};

/* Element of clcf->locations while parsing. */
typedef struct {
    pt_queue_t                 queue;
    pt_http_core_loc_conf_t   *clcf;
    u_char                    *file_name;
    pt_uint_t                  line;
} pt_http_location_queue_t;

/* ---- the core API ---- */

/* Runs the phases from r->phase_handler on (the write event handler while
 * a request is in its phases). */
void pt_http_core_run_phases(pt_http_request_t *r);
/* Adds a module's handler to a phase (from its postconfiguration). */
pt_int_t pt_http_add_phase_handler(pt_conf_t *cf, pt_uint_t phase,
    pt_http_handler_pt handler);
/* Starts the phase walk for a request whose head was just read. */
void pt_http_handler(pt_http_request_t *r);
/* Binds the chosen location's config to r (loc_conf, content handler,
 * keepalive limits). */
void pt_http_update_location_config(pt_http_request_t *r);
/* Points the connection's log at the error_log of a server or location
 * (its connection number, context handler and action stay). */
void pt_http_set_connection_log(pt_connection_t *c, pt_log_t *error_log);

pt_int_t pt_http_core_generic_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);
pt_int_t pt_http_core_rewrite_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);
pt_int_t pt_http_core_find_config_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);
pt_int_t pt_http_core_post_rewrite_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);
pt_int_t pt_http_core_access_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);
pt_int_t pt_http_core_post_access_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);
pt_int_t pt_http_core_content_phase(pt_http_request_t *r,
    pt_http_phase_handler_t *ph);

/* Sets Content-Type from types {} by r->exten, else default_type. */
pt_int_t pt_http_set_content_type(pt_http_request_t *r);
/* Runs the header filter chain once; PT_ERROR, PT_OK, PT_AGAIN, or an HTTP
 * status (412, 416) when a filter refused the response before anything
 * was sent: the handler returns it to pt_http_finalize_request, which
 * sends that status's page. */
pt_int_t pt_http_send_header(pt_http_request_t *r);
/* Runs the body filter chain. */
pt_int_t pt_http_output_filter(pt_http_request_t *r, pt_chain_t *in);
/* Sends status + body text (or, for 301-308, sets Location from cv and
 * returns the status for the special response); cv may be NULL. */
pt_int_t pt_http_send_response(pt_http_request_t *r, pt_uint_t status,
    pt_str_t *ct, pt_http_complex_value_t *cv);
/* Appends a response header; NULL on allocation failure. */
pt_http_header_t *pt_http_add_response_header(pt_http_request_t *r,
    const char *key, size_t key_len, u_char *value, size_t value_len);
/* Local port of the connection; 0 for unix sockets. */
in_port_t pt_http_server_port(pt_http_request_t *r);

/* Creates the confs of one block level (server: srv and loc; location,
 * "if": loc only) for every HTTP module; cf->ctx is the enclosing level. */
pt_http_conf_ctx_t *pt_http_core_create_block_ctx(pt_conf_t *cf,
    pt_uint_t with_srv);

/* ---- locations and internal redirects (pt_http_location.c) ---- */

/* The "location" and "internal" directives. */
char *pt_http_core_location(pt_conf_t *cf, pt_command_t *cmd, void *dummy);
char *pt_http_core_internal(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* The "limit_except" block: a nameless location merged from its own. */
char *pt_http_core_limit_except(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* Builds the lookup tables of pclcf's nested locations (recursively);
 * named ones go to cscf. */
pt_int_t pt_http_init_locations(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_core_loc_conf_t *pclcf);
/* Chooses r->loc_conf for r->uri below the current r->loc_conf.  PT_OK,
 * PT_DONE (redirect to uri + "/": auto_redirect), PT_ERROR, or
 * PT_DECLINED / PT_AGAIN (the level's own conf or a prefix one stands). */
pt_int_t pt_http_core_find_location(pt_http_request_t *r);
/* Restarts r at the server's rewrite phase with a new uri and args (args
 * may be NULL), at most PT_HTTP_MAX_URI_CHANGES times; returns PT_DONE,
 * which the caller passes to pt_http_finalize_request(). */
pt_int_t pt_http_internal_redirect(pt_http_request_t *r, pt_str_t *uri,
    pt_str_t *args);
/* Restarts r in the named location ("@name"), at its rewrite phase;
 * returns PT_DONE as above (500 when there is no such location). */
pt_int_t pt_http_named_location(pt_http_request_t *r, pt_str_t *name);

/* ---- error_page (pt_http_error_page.c) ---- */

typedef struct {
    pt_int_t                   status;
    pt_int_t                   overwrite;   /* -1: keep; 0: "=": the page's */
    pt_http_complex_value_t    value;       /* uri, "@name" or URL */
    pt_str_t                   args;        /* of a literal uri */
} pt_http_err_page_t;

/* The "error_page" directive. */
char *pt_http_core_error_page(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* Called for an error status before the built-in page is sent: PT_DECLINED
 * (no error_page applies: send the built-in page for error), PT_DONE or
 * PT_ERROR (handled: an internal redirect ran), or a redirect status
 * whose built-in page to send (Location is set). */
pt_int_t pt_http_error_page(pt_http_request_t *r, pt_uint_t error);

extern pt_module_t  pt_http_core_module;

#endif /* PT_HTTP_CORE_MODULE_H */
