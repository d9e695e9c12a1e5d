/*
 * pt_http.c: the http {} block (pt_http_module, a core module).
 *
 * Parsing the block is a sequence of named steps:
 *
 *   1. create the main/srv/loc conf of every HTTP module at the http level
 *   2. preconfiguration (variables), then parse the block
 *   3. init main confs; merge every server into http, and every location
 *      into its parent (unset values inherit)
 *   4. turn each level's location queue into the lookup arrays
 *   5. postconfiguration (modules push phase handlers and filters)
 *   6. bind variable indices; compile the phase engine; link the filters
 *   7. per listen address, build the server-name lookup, then create the
 *      listening sockets
 */

#include "pt_http.h"

static char *pt_http_block(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static pt_int_t pt_http_create_confs(pt_conf_t *cf, pt_http_conf_ctx_t *ctx);
static char *pt_http_merge_servers(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf,
    pt_http_module_t *module, pt_uint_t ctx_index);
static char *pt_http_merge_locations(pt_conf_t *cf, pt_queue_t *locations,
    void **loc_conf, pt_http_module_t *module, pt_uint_t ctx_index);
static pt_int_t pt_http_init_phases(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf);
static pt_int_t pt_http_init_headers_in_hash(pt_conf_t *cf,
    pt_http_core_main_conf_t *cmcf);
static pt_int_t pt_http_init_phase_handlers(pt_conf_t *cf,
    pt_http_core_main_conf_t *cmcf);
static pt_int_t pt_http_add_addresses(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_conf_port_t *port, pt_http_listen_opt_t *lsopt);
static pt_int_t pt_http_optimize_servers(pt_conf_t *cf,
    pt_http_core_main_conf_t *cmcf, pt_array_t *ports);
static pt_int_t pt_http_server_names(pt_conf_t *cf, pt_http_conf_addr_t *addr);
static pt_int_t pt_http_init_listening(pt_conf_t *cf, pt_http_conf_port_t *port);

pt_uint_t  pt_http_max_module;

static pt_command_t  pt_http_commands[] = {

    { pt_string("http"),
      PT_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_NOARGS,
      pt_http_block,
      0,
      0,
      NULL },

      pt_null_command
};

static pt_core_module_t  pt_http_module_ctx = {
    pt_string("http"),
    NULL,
    NULL
};

pt_module_t  pt_http_module = {
    PT_MODULE_V1,
    &pt_http_module_ctx,
    pt_http_commands,
    PT_CORE_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

#define pt_http_module_ctx_of(m)  ((pt_http_module_t *) (m)->ctx)

/* Runs one hook of every HTTP module (pre- or postconfiguration). */
static pt_int_t
pt_http_run_hooks(pt_conf_t *cf, pt_uint_t post)
{
    pt_uint_t          m;
    pt_int_t         (*hook)(pt_conf_t *cf);
    pt_module_t      **modules;
    pt_http_module_t  *module;

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != PT_HTTP_MODULE) {
            continue;
        }

        module = pt_http_module_ctx_of(modules[m]);
        hook = post ? module->postconfiguration : module->preconfiguration;

        if (hook && hook(cf) != PT_OK) {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

/* Step 3: init main confs and merge every level into its parent. */
static char *
pt_http_merge_confs(pt_conf_t *cf, pt_http_conf_ctx_t *ctx,
    pt_http_core_main_conf_t *cmcf)
{
    char               *rv;
    pt_uint_t           m;
    pt_module_t       **modules;
    pt_http_module_t   *module;

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != PT_HTTP_MODULE) {
            continue;
        }

        module = pt_http_module_ctx_of(modules[m]);

        if (module->init_main_conf) {
            rv = module->init_main_conf(cf, ctx->main_conf[modules[m]->ctx_index]);
            if (rv != PT_CONF_OK) {
                return rv;
            }
        }

        rv = pt_http_merge_servers(cf, cmcf, module, modules[m]->ctx_index);
        if (rv != PT_CONF_OK) {
            return rv;
        }
    }

    return PT_CONF_OK;
}

/* Steps 4 to 6, with cf->ctx still the http context. */
static pt_int_t
pt_http_block_init(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf)
{
    pt_uint_t                  s;
    pt_http_core_srv_conf_t  **cscfp;
    pt_http_core_loc_conf_t   *clcf;

    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        clcf = cscfp[s]->ctx->loc_conf[pt_http_core_module.ctx_index];
        if (pt_http_init_locations(cf, cscfp[s], clcf) != PT_OK) {
            return PT_ERROR;
        }
    }

    if (pt_http_init_phases(cf, cmcf) != PT_OK
        || pt_http_init_headers_in_hash(cf, cmcf) != PT_OK
        || pt_http_run_hooks(cf, 1) != PT_OK
        || pt_http_variables_init_vars(cf) != PT_OK
        || pt_http_init_phase_handlers(cf, cmcf) != PT_OK
        || pt_http_filters_init(cf) != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}

static char *
pt_http_block(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char                       *rv;
    pt_conf_t                   pcf;
    pt_http_conf_ctx_t         *ctx;
    pt_http_core_main_conf_t   *cmcf;

    if (*(pt_http_conf_ctx_t **) conf) {
        return "is duplicate";
    }

    ctx = pt_pcalloc(cf->pool, sizeof(pt_http_conf_ctx_t));
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    *(pt_http_conf_ctx_t **) conf = ctx;

    pt_http_max_module = pt_count_modules(cf->cycle, PT_HTTP_MODULE);

    /* cf->ctx is the http context from here: create hooks may already use
     * it (the log module compiles "combined", which needs variables). */
    pcf = *cf;
    cf->ctx = ctx;

    pt_http_filters_reset();

    rv = PT_CONF_ERROR;

    if (pt_http_create_confs(cf, ctx) != PT_OK || pt_http_run_hooks(cf, 0) != PT_OK) {
        goto done;
    }

    /* Step 2: the block itself. */
    cf->module_type = PT_HTTP_MODULE;
    cf->cmd_type = PT_HTTP_MAIN_CONF;

    rv = pt_conf_parse(cf, NULL);
    if (rv != PT_CONF_OK) {
        goto done;
    }

    cmcf = ctx->main_conf[pt_http_core_module.ctx_index];

    rv = pt_http_merge_confs(cf, ctx, cmcf);
    if (rv != PT_CONF_OK) {
        goto done;
    }

    rv = PT_CONF_ERROR;

    if (pt_http_block_init(cf, cmcf) != PT_OK) {
        goto done;
    }

    /* Step 7, in the enclosing context: the listening sockets belong to the
     * cycle. */
    *cf = pcf;

    if (pt_http_optimize_servers(cf, cmcf, cmcf->ports) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;

done:

    *cf = pcf;

    return rv;
}

/* Step 1: the http-level conf of every HTTP module. */
static pt_int_t
pt_http_create_confs(pt_conf_t *cf, pt_http_conf_ctx_t *ctx)
{
    pt_uint_t          m, mi;
    pt_module_t      **modules;
    pt_http_module_t  *module;

    ctx->main_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);
    ctx->srv_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);
    ctx->loc_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);

    if (ctx->main_conf == NULL || ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return PT_ERROR;
    }

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != PT_HTTP_MODULE) {
            continue;
        }

        module = pt_http_module_ctx_of(modules[m]);
        mi = modules[m]->ctx_index;

        if (module->create_main_conf) {
            ctx->main_conf[mi] = module->create_main_conf(cf);
            if (ctx->main_conf[mi] == NULL) {
                return PT_ERROR;
            }
        }

        if (module->create_srv_conf) {
            ctx->srv_conf[mi] = module->create_srv_conf(cf);
            if (ctx->srv_conf[mi] == NULL) {
                return PT_ERROR;
            }
        }

        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return PT_ERROR;
            }
        }
    }

    return PT_OK;
}

/* Step 3: merge one module's server and location confs into their parents.
 * cf->ctx is switched to the level being merged so merge hooks can reach
 * the other confs of that level. */
static char *
pt_http_merge_servers(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf,
    pt_http_module_t *module, pt_uint_t ctx_index)
{
    char                      *rv;
    pt_uint_t                  s;
    pt_http_conf_ctx_t        *ctx, saved;
    pt_http_core_loc_conf_t   *clcf;
    pt_http_core_srv_conf_t  **cscfp;

    cscfp = cmcf->servers.elts;
    ctx = (pt_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;
    rv = PT_CONF_OK;

    for (s = 0; s < cmcf->servers.nelts; s++) {

        ctx->srv_conf = cscfp[s]->ctx->srv_conf;

        if (module->merge_srv_conf) {
            rv = module->merge_srv_conf(cf, saved.srv_conf[ctx_index],
                                        cscfp[s]->ctx->srv_conf[ctx_index]);
            if (rv != PT_CONF_OK) {
                goto done;
            }
        }

        if (module->merge_loc_conf) {
            ctx->loc_conf = cscfp[s]->ctx->loc_conf;

            rv = module->merge_loc_conf(cf, saved.loc_conf[ctx_index],
                                        cscfp[s]->ctx->loc_conf[ctx_index]);
            if (rv != PT_CONF_OK) {
                goto done;
            }

            clcf = cscfp[s]->ctx->loc_conf[pt_http_core_module.ctx_index];

            rv = pt_http_merge_locations(cf, clcf->locations,
                                         cscfp[s]->ctx->loc_conf,
                                         module, ctx_index);
            if (rv != PT_CONF_OK) {
                goto done;
            }
        }
    }

done:

    *ctx = saved;

    return rv;
}

static char *
pt_http_merge_locations(pt_conf_t *cf, pt_queue_t *locations, void **loc_conf,
    pt_http_module_t *module, pt_uint_t ctx_index)
{
    char                      *rv;
    pt_queue_t                *q;
    pt_http_conf_ctx_t        *ctx, saved;
    pt_http_core_loc_conf_t   *clcf;
    pt_http_location_queue_t  *lq;

    if (locations == NULL) {
        return PT_CONF_OK;
    }

    ctx = (pt_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;

    for (q = pt_queue_head(locations);
         q != pt_queue_sentinel(locations);
         q = pt_queue_next(q))
    {
        lq = (pt_http_location_queue_t *) q;
        clcf = lq->clcf;
        ctx->loc_conf = clcf->loc_conf;

        rv = module->merge_loc_conf(cf, loc_conf[ctx_index],
                                    clcf->loc_conf[ctx_index]);
        if (rv != PT_CONF_OK) {
            return rv;
        }

        rv = pt_http_merge_locations(cf, clcf->locations, clcf->loc_conf,
                                     module, ctx_index);
        if (rv != PT_CONF_OK) {
            return rv;
        }
    }

    *ctx = saved;

    return PT_CONF_OK;
}

pt_int_t
pt_http_add_location(pt_conf_t *cf, pt_queue_t **locations,
    pt_http_core_loc_conf_t *clcf)
{
    pt_http_location_queue_t  *lq;

    if (*locations == NULL) {
        *locations = pt_palloc(cf->temp_pool, sizeof(pt_queue_t));
        if (*locations == NULL) {
            return PT_ERROR;
        }
        pt_queue_init(*locations);
    }

    lq = pt_palloc(cf->temp_pool, sizeof(pt_http_location_queue_t));
    if (lq == NULL) {
        return PT_ERROR;
    }

    lq->clcf = clcf;
    lq->file_name = cf->conf_file->file.name.data;
    lq->line = cf->conf_file->line;

    pt_queue_insert_tail(*locations, &lq->queue);

    return PT_OK;
}

static pt_int_t
pt_http_init_phases(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf)
{
    pt_uint_t  i;

    for (i = 0; i < PT_HTTP_NPHASES; i++) {
        if (pt_array_init(&cmcf->phases[i].handlers, cf->pool, 2,
                          sizeof(pt_http_handler_pt)) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

/* The known request headers in an open-addressed table keyed by the same
 * hash the header parser computes, so a lookup costs one probe or two. */
static pt_int_t
pt_http_init_headers_in_hash(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf)
{
    size_t                 i;
    pt_uint_t              size, key, n;
    pt_http_header_in_t   *h, **table;

    n = 0;
    for (h = pt_http_headers_in; h->name.len; h++) {
        n++;
    }

    for (size = 16; size < n * 4; size *= 2) { /* void */ }

    table = pt_pcalloc(cf->pool, size * sizeof(pt_http_header_in_t *));
    if (table == NULL) {
        return PT_ERROR;
    }

    for (h = pt_http_headers_in; h->name.len; h++) {
        key = 0;
        for (i = 0; i < h->name.len; i++) {
            key = pt_hash(key, pt_tolower(h->name.data[i]));
        }

        for (key &= size - 1; table[key]; key = (key + 1) & (size - 1)) {
            /* probe */
        }

        table[key] = h;
    }

    cmcf->headers_in_hash = table;
    cmcf->headers_in_hash_size = size;

    return PT_OK;
}

/*
 * Step 6: compile the phases into one array.  Each entry's "next" is the
 * first entry of the following phase, so a handler that returns PT_OK in a
 * generic phase skips the rest of its phase.  FIND_CONFIG is always there;
 * POST_REWRITE and POST_ACCESS only when REWRITE / ACCESS have handlers;
 * CONTENT ends with a catch-all entry (no handler) that answers 404/405.
 */
static pt_int_t
pt_http_init_phase_handlers(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf)
{
    pt_uint_t                  i, j, n, idx, find_config_index, use_rewrite,
                               use_access;
    pt_http_handler_pt        *h;
    pt_http_phase_handler_t   *ph;
    pt_http_phase_handler_pt   checker;

    use_rewrite = cmcf->phases[PT_HTTP_REWRITE_PHASE].handlers.nelts ? 1 : 0;
    use_access = cmcf->phases[PT_HTTP_ACCESS_PHASE].handlers.nelts ? 1 : 0;

    n = 1 /* find config */ + use_rewrite + use_access + 1 /* content end */;

    for (i = 0; i < PT_HTTP_LOG_PHASE; i++) {
        n += cmcf->phases[i].handlers.nelts;
    }

    ph = pt_pcalloc(cf->pool, (n + 1) * sizeof(pt_http_phase_handler_t));
    if (ph == NULL) {
        return PT_ERROR;
    }

    cmcf->phase_engine.handlers = ph;
    idx = 0;
    find_config_index = 0;

    for (i = 0; i < PT_HTTP_LOG_PHASE; i++) {
        h = cmcf->phases[i].handlers.elts;

        switch (i) {

        case PT_HTTP_SERVER_REWRITE_PHASE:
            cmcf->phase_engine.server_rewrite_index = idx;
            checker = pt_http_core_rewrite_phase;
            break;

        case PT_HTTP_FIND_CONFIG_PHASE:
            find_config_index = idx;
            ph->checker = pt_http_core_find_config_phase;
            ph->next = ++idx;
            ph++;
            continue;

        case PT_HTTP_REWRITE_PHASE:
            cmcf->phase_engine.location_rewrite_index = idx;
            checker = pt_http_core_rewrite_phase;
            break;

        case PT_HTTP_POST_REWRITE_PHASE:
            if (use_rewrite) {
                ph->checker = pt_http_core_post_rewrite_phase;
                ph->next = find_config_index;
                idx++;
                ph++;
            }
            continue;

        case PT_HTTP_ACCESS_PHASE:
            checker = pt_http_core_access_phase;
            break;

        case PT_HTTP_POST_ACCESS_PHASE:
            if (use_access) {
                ph->checker = pt_http_core_post_access_phase;
                ph->next = ++idx;
                ph++;
            }
            continue;

        case PT_HTTP_CONTENT_PHASE:
            checker = pt_http_core_content_phase;
            break;

        default:
            checker = pt_http_core_generic_phase;
            break;
        }

        n = cmcf->phases[i].handlers.nelts;

        for (j = 0; j < n; j++) {
            ph->checker = checker;
            ph->handler = h[j];
            ph->next = idx + n + (i == PT_HTTP_CONTENT_PHASE);
            ph++;
        }

        idx += n;

        if (i == PT_HTTP_CONTENT_PHASE) {
            ph->checker = pt_http_core_content_phase;
            ph->handler = NULL;
            ph->next = idx + 1;
            ph++;
            idx++;
        }
    }

    return PT_OK;
}

/* ---- listen ---- */

pt_int_t
pt_http_add_listen(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_listen_opt_t *lsopt)
{
    in_port_t                  p;
    pt_uint_t                  i;
    struct sockaddr           *sa;
    pt_http_conf_port_t       *port;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    if (cmcf->ports == NULL) {
        cmcf->ports = pt_array_create(cf->temp_pool, 2, sizeof(pt_http_conf_port_t));
        if (cmcf->ports == NULL) {
            return PT_ERROR;
        }
    }

    sa = &lsopt->sockaddr.sockaddr;
    p = (sa->sa_family == AF_UNIX) ? 0 : pt_inet_get_port(sa);

    port = cmcf->ports->elts;
    for (i = 0; i < cmcf->ports->nelts; i++) {
        if (p == port[i].port && sa->sa_family == port[i].family) {
            return pt_http_add_addresses(cf, cscf, &port[i], lsopt);
        }
    }

    port = pt_array_push(cmcf->ports);
    if (port == NULL) {
        return PT_ERROR;
    }

    port->family = sa->sa_family;
    port->port = p;

    if (pt_array_init(&port->addrs, cf->temp_pool, 2, sizeof(pt_http_conf_addr_t))
        != PT_OK)
    {
        return PT_ERROR;
    }

    return pt_http_add_addresses(cf, cscf, port, lsopt);
}

static pt_int_t
pt_http_add_server(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_conf_addr_t *addr)
{
    pt_uint_t                  i;
    pt_http_core_srv_conf_t  **server;

    server = addr->servers.elts;

    for (i = 0; i < addr->servers.nelts; i++) {
        if (server[i] == cscf) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "duplicate listen options for " PT_STR_FMT,
                              PT_STR_ARG(addr->opt.addr_text));
            return PT_ERROR;
        }
    }

    server = pt_array_push(&addr->servers);
    if (server == NULL) {
        return PT_ERROR;
    }

    *server = cscf;

    return PT_OK;
}

static pt_int_t
pt_http_add_addresses(pt_conf_t *cf, pt_http_core_srv_conf_t *cscf,
    pt_http_conf_port_t *port, pt_http_listen_opt_t *lsopt)
{
    pt_uint_t             i, default_server, ssl;
    pt_http_conf_addr_t  *addr;

    addr = port->addrs.elts;

    for (i = 0; i < port->addrs.nelts; i++) {

        if (pt_cmp_sockaddr(&lsopt->sockaddr.sockaddr, lsopt->socklen,
                            &addr[i].opt.sockaddr.sockaddr, addr[i].opt.socklen, 0)
            != PT_OK)
        {
            continue;
        }

        /* The address is already known: add the server to it. */

        if (pt_http_add_server(cf, cscf, &addr[i]) != PT_OK) {
            return PT_ERROR;
        }

        default_server = addr[i].opt.default_server;
        ssl = addr[i].opt.ssl || lsopt->ssl;    /* one "ssl" covers all */

        if (lsopt->set) {
            if (addr[i].opt.set) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "duplicate listen options for " PT_STR_FMT,
                                  PT_STR_ARG(addr[i].opt.addr_text));
                return PT_ERROR;
            }
            addr[i].opt = *lsopt;
        }

        if (lsopt->default_server) {
            if (default_server) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "a duplicate default server for " PT_STR_FMT,
                                  PT_STR_ARG(addr[i].opt.addr_text));
                return PT_ERROR;
            }
            default_server = 1;
            addr[i].default_server = cscf;
        }

        addr[i].opt.default_server = default_server;
        addr[i].opt.ssl = ssl;

        return PT_OK;
    }

    addr = pt_array_push(&port->addrs);
    if (addr == NULL) {
        return PT_ERROR;
    }

    pt_memzero(addr, sizeof(pt_http_conf_addr_t));
    addr->opt = *lsopt;
    addr->default_server = lsopt->default_server ? cscf : NULL;

    if (pt_array_init(&addr->servers, cf->temp_pool, 2,
                      sizeof(pt_http_core_srv_conf_t *)) != PT_OK)
    {
        return PT_ERROR;
    }

    return pt_http_add_server(cf, cscf, addr);
}

/* Explicitly bound addresses first, the wildcard last. */
static int
pt_http_cmp_conf_addrs(const void *one, const void *two)
{
    const pt_http_conf_addr_t  *a = one, *b = two;

    if (a->opt.wildcard != b->opt.wildcard) {
        return a->opt.wildcard ? 1 : -1;
    }

    if (a->opt.bind != b->opt.bind) {
        return a->opt.bind ? -1 : 1;
    }

    return 0;
}

/* Step 7. */
static pt_int_t
pt_http_optimize_servers(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf,
    pt_array_t *ports)
{
    pt_uint_t             p, a;
    pt_http_conf_port_t  *port;
    pt_http_conf_addr_t  *addr;

    if (ports == NULL) {
        return PT_OK;
    }

    port = ports->elts;

    for (p = 0; p < ports->nelts; p++) {

        qsort(port[p].addrs.elts, port[p].addrs.nelts, sizeof(pt_http_conf_addr_t),
              pt_http_cmp_conf_addrs);

        addr = port[p].addrs.elts;

        for (a = 0; a < port[p].addrs.nelts; a++) {
            if (addr[a].default_server == NULL) {
                addr[a].default_server = ((void **) addr[a].servers.elts)[0];
            }

            /* one server needs the names only to set regex captures */
            if ((addr[a].servers.nelts > 1
                 || ((pt_http_core_srv_conf_t *) addr[a].default_server)->captures)
                && pt_http_server_names(cf, &addr[a]) != PT_OK)
            {
                return PT_ERROR;
            }
        }

        if (pt_http_init_listening(cf, &port[p]) != PT_OK) {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

static int
pt_http_cmp_names(const void *one, const void *two)
{
    const pt_http_server_name_map_t  *a = one, *b = two;
    int                               rc;

    rc = pt_memcmp(a->name.data, b->name.data, pt_min(a->name.len, b->name.len));
    if (rc) {
        return rc;
    }

    return (a->name.len > b->name.len) - (a->name.len < b->name.len);
}

/* Longest first, so the first wildcard that matches is the best. */
static int
pt_http_cmp_wildcards(const void *one, const void *two)
{
    const pt_http_server_name_map_t  *a = one, *b = two;

    return (b->name.len > a->name.len) - (b->name.len < a->name.len);
}

/* Adds name -> server to one list unless the name is already there (the
 * first server keeps it, as nginx does). */
static pt_int_t
pt_http_add_server_name(pt_conf_t *cf, pt_array_t *list, pt_str_t *name,
    void *server, pt_http_conf_addr_t *addr)
{
    pt_uint_t                   i;
    pt_http_server_name_map_t  *map;

    map = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (map[i].name.len == name->len
            && pt_memcmp(map[i].name.data, name->data, name->len) == 0)
        {
            if (map[i].server != server) {
                pt_conf_log_error(PT_LOG_WARN, cf, 0,
                                  "conflicting server name \"" PT_STR_FMT "\" on "
                                  PT_STR_FMT ", ignored",
                                  PT_STR_ARG(*name), PT_STR_ARG(addr->opt.addr_text));
            }
            return PT_OK;
        }
    }

    map = pt_array_push(list);
    if (map == NULL) {
        return PT_ERROR;
    }

    map->name = *name;
    map->server = server;

    return PT_OK;
}

/* Builds the name lookup of one address shared by several servers. */
static pt_int_t
pt_http_server_names(pt_conf_t *cf, pt_http_conf_addr_t *addr)
{
    pt_str_t                   name;
    pt_uint_t                  s, n;
    pt_array_t                 exact, head, tail, regex;
    pt_http_server_name_t     *sn, *rsn;
    pt_http_virtual_names_t   *vn;
    pt_http_core_srv_conf_t  **cscfp;

    if (pt_array_init(&exact, cf->pool, 4, sizeof(pt_http_server_name_map_t)) != PT_OK
        || pt_array_init(&head, cf->pool, 2, sizeof(pt_http_server_name_map_t)) != PT_OK
        || pt_array_init(&tail, cf->pool, 2, sizeof(pt_http_server_name_map_t)) != PT_OK
        || pt_array_init(&regex, cf->pool, 2, sizeof(pt_http_server_name_t)) != PT_OK)
    {
        return PT_ERROR;
    }

    cscfp = addr->servers.elts;

    for (s = 0; s < addr->servers.nelts; s++) {
        sn = cscfp[s]->server_names.elts;

        for (n = 0; n < cscfp[s]->server_names.nelts; n++) {
            name = sn[n].name;

            if (sn[n].regex) {
                /* tried in config order, after every other kind */
                rsn = pt_array_push(&regex);
                if (rsn == NULL) {
                    return PT_ERROR;
                }
                *rsn = sn[n];

            } else if (name.len > 1 && name.data[0] == '*' && name.data[1] == '.') {
                /* "*.example.com": stored as ".example.com" */
                name.data++;
                name.len--;
                if (pt_http_add_server_name(cf, &head, &name, cscfp[s], addr) != PT_OK) {
                    return PT_ERROR;
                }

            } else if (name.len > 1 && name.data[0] == '.') {
                /* ".example.com": the domain and all its subdomains */
                if (pt_http_add_server_name(cf, &head, &name, cscfp[s], addr) != PT_OK) {
                    return PT_ERROR;
                }
                name.data++;
                name.len--;
                if (pt_http_add_server_name(cf, &exact, &name, cscfp[s], addr) != PT_OK) {
                    return PT_ERROR;
                }

            } else if (name.len > 1 && name.data[name.len - 1] == '*'
                       && name.data[name.len - 2] == '.')
            {
                /* "www.example.*": stored as "www.example." */
                name.len--;
                if (pt_http_add_server_name(cf, &tail, &name, cscfp[s], addr) != PT_OK) {
                    return PT_ERROR;
                }

            } else if (pt_http_add_server_name(cf, &exact, &name, cscfp[s], addr)
                       != PT_OK)
            {
                return PT_ERROR;
            }
        }
    }

    vn = pt_palloc(cf->pool, sizeof(pt_http_virtual_names_t));
    if (vn == NULL) {
        return PT_ERROR;
    }

    qsort(exact.elts, exact.nelts, sizeof(pt_http_server_name_map_t), pt_http_cmp_names);
    qsort(head.elts, head.nelts, sizeof(pt_http_server_name_map_t), pt_http_cmp_wildcards);
    qsort(tail.elts, tail.nelts, sizeof(pt_http_server_name_map_t), pt_http_cmp_wildcards);

    vn->exact = exact.elts;
    vn->nexact = exact.nelts;
    vn->head = head.elts;
    vn->nhead = head.nelts;
    vn->tail = tail.elts;
    vn->ntail = tail.nelts;
    vn->regex = regex.elts;
    vn->nregex = regex.nelts;

    addr->virtual_names = vn;

    return PT_OK;
}

pt_http_core_srv_conf_t *
pt_http_find_virtual_server(pt_http_addr_conf_t *addr_conf, pt_str_t *host)
{
    return pt_http_find_request_server(NULL, addr_conf, host);
}

/* The first "~regex" name that matches host; with r, its captures go to the
 * request.  NULL: none matched. */
static pt_http_core_srv_conf_t *
pt_http_find_regex_server(pt_http_request_t *r, pt_http_virtual_names_t *vn,
    pt_str_t *host)
{
    pt_int_t                rc;
    pt_uint_t               i;
    pt_http_server_name_t  *sn;

    for (i = 0; i < vn->nregex; i++) {
        sn = &vn->regex[i];

        if (r) {
            rc = pt_http_regex_exec(r, sn->regex, host);
            if (rc == PT_DECLINED) {
                continue;
            }
            /* an error was logged; the default server answers */
            return (rc == PT_OK) ? sn->server : NULL;
        }

        rc = pt_regex_exec(sn->regex->regex, host, NULL, 0);
        if (rc >= 0) {
            return sn->server;
        }
    }

    return NULL;
}

pt_http_core_srv_conf_t *
pt_http_find_request_server(pt_http_request_t *r, pt_http_addr_conf_t *addr_conf,
    pt_str_t *host)
{
    int                         rc;
    size_t                      n;
    pt_uint_t                   lo, hi, mid, i;
    pt_http_server_name_map_t  *map;
    pt_http_virtual_names_t    *vn;

    vn = addr_conf->virtual_names;

    if (vn == NULL) {
        return NULL;
    }

    lo = 0;
    hi = vn->nexact;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        map = &vn->exact[mid];

        /* an absent Host is an empty name with data NULL: memcmp() must
         * not see it, even for 0 bytes */
        n = pt_min(host->len, map->name.len);
        rc = n ? pt_memcmp(host->data, map->name.data, n) : 0;
        if (rc == 0) {
            rc = (host->len > map->name.len) - (host->len < map->name.len);
        }

        if (rc == 0) {
            return map->server;
        }

        if (rc < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }

    for (i = 0; i < vn->nhead; i++) {
        map = &vn->head[i];
        if (host->len > map->name.len
            && pt_memcmp(host->data + host->len - map->name.len, map->name.data,
                         map->name.len) == 0)
        {
            return map->server;
        }
    }

    for (i = 0; i < vn->ntail; i++) {
        map = &vn->tail[i];
        if (host->len > map->name.len
            && pt_memcmp(host->data, map->name.data, map->name.len) == 0)
        {
            return map->server;
        }
    }

    if (vn->nregex) {
        return pt_http_find_regex_server(r, vn, host);
    }

    return NULL;
}

static pt_listening_t *
pt_http_add_listening(pt_conf_t *cf, pt_http_conf_addr_t *addr)
{
    pt_listening_t           *ls;
    pt_http_core_srv_conf_t  *cscf;

    ls = pt_create_listening(cf, &addr->opt.sockaddr.sockaddr, addr->opt.socklen);
    if (ls == NULL) {
        return NULL;
    }

    cscf = addr->default_server;

    ls->addr_ntop = 1;
    ls->handler = pt_http_init_connection;
    ls->pool_size = cscf->connection_pool_size;
    ls->post_accept_timeout = cscf->client_header_timeout;

    if (ls->logp == NULL) {
        ls->logp = &cf->cycle->new_log;
    }

    ls->backlog = addr->opt.backlog;
    ls->rcvbuf = addr->opt.rcvbuf;
    ls->sndbuf = addr->opt.sndbuf;
    ls->wildcard = addr->opt.wildcard;
    ls->ipv6only = addr->opt.ipv6only;
    ls->deferred_accept = addr->opt.deferred_accept;

    /* Every listening socket is SO_REUSEPORT, one per worker. */
    ls->reuseport = 1;

    return ls;
}

static pt_int_t
pt_http_add_addrs(pt_conf_t *cf, pt_http_port_t *hport, pt_http_conf_addr_t *addr)
{
    pt_uint_t            i;
    pt_http_in_addr_t   *addrs;
    pt_http_in6_addr_t  *addrs6;

    if (addr[0].opt.sockaddr.sockaddr.sa_family == AF_INET6) {
        addrs6 = pt_pcalloc(cf->pool, hport->naddrs * sizeof(pt_http_in6_addr_t));
        if (addrs6 == NULL) {
            return PT_ERROR;
        }

        for (i = 0; i < hport->naddrs; i++) {
            addrs6[i].addr6 = addr[i].opt.sockaddr.sockaddr_in6.sin6_addr;
            addrs6[i].conf.default_server = addr[i].default_server;
            addrs6[i].conf.virtual_names = addr[i].virtual_names;
            addrs6[i].conf.ssl = addr[i].opt.ssl;
        }

        hport->addrs = addrs6;
        return PT_OK;
    }

    addrs = pt_pcalloc(cf->pool, hport->naddrs * sizeof(pt_http_in_addr_t));
    if (addrs == NULL) {
        return PT_ERROR;
    }

    for (i = 0; i < hport->naddrs; i++) {
        if (addr[i].opt.sockaddr.sockaddr.sa_family == AF_INET) {
            addrs[i].addr = addr[i].opt.sockaddr.sockaddr_in.sin_addr.s_addr;
        }
        addrs[i].conf.default_server = addr[i].default_server;
        addrs[i].conf.virtual_names = addr[i].virtual_names;
        addrs[i].conf.ssl = addr[i].opt.ssl;
    }

    hport->addrs = addrs;

    return PT_OK;
}

/*
 * One listening socket per bound address.  When the port has a wildcard
 * listen, only it and the addresses with options of their own ("bind") get
 * sockets; the other addresses are served by the wildcard socket, which
 * then tells them apart by the connection's local address.  Addresses were
 * sorted: bound ones first, the wildcard last.
 */
static pt_int_t
pt_http_init_listening(pt_conf_t *cf, pt_http_conf_port_t *port)
{
    pt_uint_t             i, last, bind_wildcard;
    pt_listening_t       *ls;
    pt_http_port_t       *hport;
    pt_http_conf_addr_t  *addr;

    addr = port->addrs.elts;
    last = port->addrs.nelts;

    if (addr[last - 1].opt.wildcard) {
        addr[last - 1].opt.bind = 1;
        bind_wildcard = 1;
    } else {
        bind_wildcard = 0;
    }

    i = 0;

    while (i < last) {

        if (bind_wildcard && !addr[i].opt.bind) {
            i++;
            continue;
        }

        ls = pt_http_add_listening(cf, &addr[i]);
        if (ls == NULL) {
            return PT_ERROR;
        }

        hport = pt_pcalloc(cf->pool, sizeof(pt_http_port_t));
        if (hport == NULL) {
            return PT_ERROR;
        }

        ls->servers = hport;

        /* The skipped implicit addresses before it, and itself. */
        hport->naddrs = i + 1;

        if (pt_http_add_addrs(cf, hport, addr) != PT_OK) {
            return PT_ERROR;
        }

        addr++;
        last--;
    }

    return PT_OK;
}
