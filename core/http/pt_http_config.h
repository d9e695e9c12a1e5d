/*
 * pt_http_config.h: HTTP module descriptors and the three-level config.
 *
 * Every HTTP module (type PT_HTTP_MODULE) has a pt_http_module_t context
 * with hooks to create its main, server and location configuration and to
 * merge a child level into its parent.  The http {} block builds one
 * pt_http_conf_ctx_t per level: the http level, every server {} and every
 * location {}; each holds one conf pointer per HTTP module, indexed by the
 * module's ctx_index.  A directive's "conf" field names which of the three
 * arrays its setter receives (PT_HTTP_*_CONF_OFFSET).
 */

#ifndef PT_HTTP_CONFIG_H
#define PT_HTTP_CONFIG_H

typedef struct {
    void        **main_conf;
    void        **srv_conf;
    void        **loc_conf;
} pt_http_conf_ctx_t;

typedef struct {
    /* Before the http {} block is parsed: register variables. */
    pt_int_t    (*preconfiguration)(pt_conf_t *cf);
    /* After parsing and merging: push phase handlers, register filters. */
    pt_int_t    (*postconfiguration)(pt_conf_t *cf);

    void       *(*create_main_conf)(pt_conf_t *cf);
    char       *(*init_main_conf)(pt_conf_t *cf, void *conf);

    void       *(*create_srv_conf)(pt_conf_t *cf);
    char       *(*merge_srv_conf)(pt_conf_t *cf, void *prev, void *conf);

    void       *(*create_loc_conf)(pt_conf_t *cf);
    char       *(*merge_loc_conf)(pt_conf_t *cf, void *prev, void *conf);
} pt_http_module_t;

#define PT_HTTP_MODULE           0x50545448     /* "HTTP" */

/* Context bits of HTTP directives (they share bit values with other module
 * types; the parser only consults the modules of the current block type). */
#define PT_HTTP_MAIN_CONF        0x02000000
#define PT_HTTP_SRV_CONF         0x04000000
#define PT_HTTP_LOC_CONF         0x08000000
#define PT_HTTP_UPS_CONF         0x10000000     /* reserved: upstream {} */
#define PT_HTTP_SIF_CONF         0x20000000     /* reserved: if {} in server */
#define PT_HTTP_LIF_CONF         0x40000000     /* reserved: if {} in location */
#define PT_HTTP_LMT_CONF         0x80000000     /* reserved: limit_except {} */

#define PT_HTTP_MAIN_CONF_OFFSET  offsetof(pt_http_conf_ctx_t, main_conf)
#define PT_HTTP_SRV_CONF_OFFSET   offsetof(pt_http_conf_ctx_t, srv_conf)
#define PT_HTTP_LOC_CONF_OFFSET   offsetof(pt_http_conf_ctx_t, loc_conf)

/* Per-request access: r is a pt_http_request_t *, module a pt_module_t. */
#define pt_http_get_module_ctx(r, module)        (r)->ctx[module.ctx_index]
#define pt_http_set_ctx(r, c, module)            (r)->ctx[module.ctx_index] = c
#define pt_http_get_module_main_conf(r, module)  (r)->main_conf[module.ctx_index]
#define pt_http_get_module_srv_conf(r, module)   (r)->srv_conf[module.ctx_index]
#define pt_http_get_module_loc_conf(r, module)   (r)->loc_conf[module.ctx_index]

/* While parsing: cf->ctx is the pt_http_conf_ctx_t of the current block. */
#define pt_http_conf_get_module_main_conf(cf, module)                        \
    ((pt_http_conf_ctx_t *) (cf)->ctx)->main_conf[module.ctx_index]
#define pt_http_conf_get_module_srv_conf(cf, module)                         \
    ((pt_http_conf_ctx_t *) (cf)->ctx)->srv_conf[module.ctx_index]
#define pt_http_conf_get_module_loc_conf(cf, module)                         \
    ((pt_http_conf_ctx_t *) (cf)->ctx)->loc_conf[module.ctx_index]

/* From a cycle (process hooks); NULL when the config has no http {}. */
#define pt_http_cycle_get_module_main_conf(cycle, module)                    \
    ((cycle)->conf_ctx[pt_http_module.index]                                 \
     ? ((pt_http_conf_ctx_t *) (cycle)->conf_ctx[pt_http_module.index])      \
           ->main_conf[module.ctx_index]                                     \
     : NULL)

extern pt_module_t  pt_http_module;
extern pt_uint_t    pt_http_max_module;

#endif /* PT_HTTP_CONFIG_H */
