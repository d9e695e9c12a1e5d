/*
 * pt_module.c: numbering the compiled-in modules.
 */

#include "portico.h"

pt_uint_t  pt_max_module;

pt_int_t
pt_preinit_modules(void)
{
    pt_uint_t  i;

    for (i = 0; pt_modules[i]; i++) {
        pt_modules[i]->index = i;
        pt_modules[i]->name = pt_module_names[i];
    }

    pt_max_module = i;

    return PT_OK;
}

pt_int_t
pt_cycle_modules(pt_cycle_t *cycle)
{
    cycle->modules = pt_pcalloc(cycle->pool,
                                (pt_max_module + 1) * sizeof(pt_module_t *));
    if (cycle->modules == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(cycle->modules, pt_modules, pt_max_module * sizeof(pt_module_t *));
    cycle->modules_n = pt_max_module;

    return PT_OK;
}

pt_int_t
pt_init_modules(pt_cycle_t *cycle)
{
    pt_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->init_module
            && cycle->modules[i]->init_module(cycle) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

pt_int_t
pt_count_modules(pt_cycle_t *cycle, pt_uint_t type)
{
    pt_uint_t  i, n;

    n = 0;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->type != type) {
            continue;
        }
        cycle->modules[i]->ctx_index = n++;
    }

    cycle->modules_used = 1;

    return (pt_int_t) n;
}
