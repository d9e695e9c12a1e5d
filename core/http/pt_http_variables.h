/*
 * pt_http_variables.h: the variable system ($remote_addr, $http_host, ...).
 *
 * Modules define variables in their preconfiguration with
 * pt_http_add_variable().  Configuration that uses a variable asks for its
 * index with pt_http_get_variable_index(); after parsing, every index is
 * bound to its definition or to a prefix variable ($http_NAME, $arg_NAME,
 * $cookie_NAME, $sent_http_NAME), and an unknown name is a config error.
 * At run time a request evaluates a variable lazily, on first use, and
 * caches the value in r->variables[index] unless the variable is marked
 * not cacheable.
 */

#ifndef PT_HTTP_VARIABLES_H
#define PT_HTTP_VARIABLES_H

struct pt_http_variable_value_s {
    unsigned    len:28;
    unsigned    valid:1;            /* evaluated for this request */
    unsigned    no_cacheable:1;     /* evaluate again on every use */
    unsigned    not_found:1;        /* logged as "-" */
    unsigned    escape:1;
    u_char     *data;
};

typedef struct pt_http_variable_s  pt_http_variable_t;

/* A getter fills v (data may point into the request, the buffer or the
 * pool) and returns PT_OK, or PT_ERROR on allocation failure. */
typedef pt_int_t (*pt_http_get_variable_pt)(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
typedef void (*pt_http_set_variable_pt)(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);

#define PT_HTTP_VAR_CHANGEABLE   1      /* "set" may assign it */
#define PT_HTTP_VAR_NOCACHEABLE  2      /* changes during a request */
#define PT_HTTP_VAR_INDEXED      4
#define PT_HTTP_VAR_NOHASH       8      /* not found by name at run time */
#define PT_HTTP_VAR_WEAK         16     /* may be redefined */
#define PT_HTTP_VAR_PREFIX       32     /* name is a prefix: $http_... */

struct pt_http_variable_s {
    pt_str_t                  name;     /* lower case, without "$" */
    pt_http_set_variable_pt   set_handler;
    pt_http_get_variable_pt   get_handler;
    uintptr_t                 data;
    pt_uint_t                 flags;
    pt_uint_t                 index;
};

#define pt_http_null_variable  { pt_null_string, NULL, NULL, 0, 0, 0 }

/* Defines a variable (or, with PT_HTTP_VAR_PREFIX, a family of them). */
pt_http_variable_t *pt_http_add_variable(pt_conf_t *cf, pt_str_t *name,
    pt_uint_t flags);
/* The name of a "$name" directive argument, without its "$"; PT_ERROR,
 * with nginx's "invalid variable name" logged, when there is no "$". */
pt_int_t pt_http_variable_arg(pt_conf_t *cf, pt_str_t *arg, pt_str_t *name);
/* Index for a name used in the config; PT_ERROR on allocation failure. */
pt_int_t pt_http_get_variable_index(pt_conf_t *cf, pt_str_t *name);

/* Cached value of an indexed variable; NULL on error. */
pt_http_variable_value_t *pt_http_get_indexed_variable(pt_http_request_t *r,
    pt_uint_t index);
/* Same, but a not-cacheable variable is evaluated again. */
pt_http_variable_value_t *pt_http_get_flushed_variable(pt_http_request_t *r,
    pt_uint_t index);
/* Lookup by name at run time (lower-case name); NULL on error, a value with
 * not_found set when no such variable exists. */
pt_http_variable_value_t *pt_http_get_variable(pt_http_request_t *r,
    pt_str_t *name);

/* "value" of a "name=value" list (args, cookies) split by sep; PT_DECLINED
 * when absent. */
pt_int_t pt_http_arg(pt_http_request_t *r, u_char *name, size_t len,
    pt_str_t *value);

/* Called by the core: define the built-in variables; bind indices. */
pt_int_t pt_http_variables_add_core_vars(pt_conf_t *cf);
pt_int_t pt_http_variables_init_vars(pt_conf_t *cf);

extern pt_http_variable_value_t  pt_http_variable_null_value;
extern pt_http_variable_value_t  pt_http_variable_true_value;

#endif /* PT_HTTP_VARIABLES_H */
