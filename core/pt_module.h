/*
 * pt_module.h: the module descriptor.
 *
 * A module is one struct: a type tag, a type-specific context with config
 * hooks, a directive table and process hooks.  configure writes the ordered
 * list of compiled-in modules to objs/modules.c (pt_modules[]).
 */

#ifndef PT_MODULE_H
#define PT_MODULE_H

#define PT_MODULE_UNSET_INDEX  (pt_uint_t) -1

struct pt_module_s {
    pt_uint_t       ctx_index;      /* index among modules of its type */
    pt_uint_t       index;          /* index in pt_modules[] */
    char           *name;

    void           *ctx;            /* pt_core_module_t, pt_http_module_t, ... */
    pt_command_t   *commands;
    pt_uint_t       type;           /* PT_CORE_MODULE, PT_HTTP_MODULE, ... */

    pt_int_t      (*init_master)(pt_log_t *log);
    pt_int_t      (*init_module)(pt_cycle_t *cycle);     /* in the master */
    pt_int_t      (*init_process)(pt_cycle_t *cycle);    /* in each worker */
    void          (*exit_process)(pt_cycle_t *cycle);
    void          (*exit_master)(pt_cycle_t *cycle);
};

#define PT_MODULE_V1  PT_MODULE_UNSET_INDEX, PT_MODULE_UNSET_INDEX, NULL

typedef struct {
    pt_str_t     name;
    void        *(*create_conf)(pt_cycle_t *cycle);
    char        *(*init_conf)(pt_cycle_t *cycle, void *conf);
} pt_core_module_t;

/* Numbers pt_modules[] and sets each module's name. */
pt_int_t pt_preinit_modules(void);
/* Gives the cycle its own copy of the module list. */
pt_int_t pt_cycle_modules(pt_cycle_t *cycle);
/* Calls init_module of every module (master, after config). */
pt_int_t pt_init_modules(pt_cycle_t *cycle);
/* Numbers ctx_index for the modules of one type; returns the count. */
pt_int_t pt_count_modules(pt_cycle_t *cycle, pt_uint_t type);

extern pt_module_t  *pt_modules[];
extern char         *pt_module_names[];
extern pt_uint_t     pt_max_module;

#endif /* PT_MODULE_H */
