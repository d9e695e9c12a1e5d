/*
 * pt_http_upstream_conf.c: the upstream module's configuration.
 *
 *   upstream NAME { server ADDRESS [weight=N] [max_fails=N]
 *                   [fail_timeout=TIME] [max_conns=N] [backup] [down]; ... }
 *
 * A group is also created implicitly by a proxy_pass to an address; a
 * proxy_pass may name a group defined later in the file.  When the http
 * block is parsed, every group's balancer builds its peers
 * (init_upstream: round robin unless a balancer directive chose another);
 * the names of implicit groups are resolved then, every address of a name
 * becoming a peer.
 *
 * The module is always built: its upstream {} block is where the optional
 * balancer modules (least_conn, hash, ip_hash, random, keepalive, zone)
 * put their directives.
 */

#include "pt_http.h"

static pt_int_t pt_http_upstream_preconfiguration(pt_conf_t *cf);
static void *pt_http_upstream_create_main_conf(pt_conf_t *cf);
static char *pt_http_upstream_init_main_conf(pt_conf_t *cf, void *conf);
static char *pt_http_upstream_block(pt_conf_t *cf, pt_command_t *cmd, void *dummy);
static char *pt_http_upstream_server(pt_conf_t *cf, pt_command_t *cmd, void *conf);

pt_conf_bitmask_t  pt_http_upstream_next_upstream_masks[] = {
    { pt_string("error"), PT_HTTP_UPSTREAM_FT_ERROR },
    { pt_string("timeout"), PT_HTTP_UPSTREAM_FT_TIMEOUT },
    { pt_string("invalid_header"), PT_HTTP_UPSTREAM_FT_INVALID_HEADER },
    { pt_string("non_idempotent"), PT_HTTP_UPSTREAM_FT_NON_IDEMPOTENT },
    { pt_string("http_500"), PT_HTTP_UPSTREAM_FT_HTTP_500 },
    { pt_string("http_502"), PT_HTTP_UPSTREAM_FT_HTTP_502 },
    { pt_string("http_503"), PT_HTTP_UPSTREAM_FT_HTTP_503 },
    { pt_string("http_504"), PT_HTTP_UPSTREAM_FT_HTTP_504 },
    { pt_string("http_403"), PT_HTTP_UPSTREAM_FT_HTTP_403 },
    { pt_string("http_404"), PT_HTTP_UPSTREAM_FT_HTTP_404 },
    { pt_string("http_429"), PT_HTTP_UPSTREAM_FT_HTTP_429 },
    { pt_string("off"), PT_HTTP_UPSTREAM_FT_OFF },
    { pt_null_string, 0 }
};

pt_conf_bitmask_t  pt_http_upstream_ignore_headers_masks[] = {
    { pt_string("X-Accel-Redirect"), PT_HTTP_UPSTREAM_IGN_XA_REDIRECT },
    { pt_string("X-Accel-Expires"), PT_HTTP_UPSTREAM_IGN_XA_EXPIRES },
    { pt_string("X-Accel-Limit-Rate"), PT_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE },
    { pt_string("X-Accel-Buffering"), PT_HTTP_UPSTREAM_IGN_XA_BUFFERING },
    { pt_string("X-Accel-Charset"), PT_HTTP_UPSTREAM_IGN_XA_CHARSET },
    { pt_string("Expires"), PT_HTTP_UPSTREAM_IGN_EXPIRES },
    { pt_string("Cache-Control"), PT_HTTP_UPSTREAM_IGN_CACHE_CONTROL },
    { pt_string("Set-Cookie"), PT_HTTP_UPSTREAM_IGN_SET_COOKIE },
    { pt_string("Vary"), PT_HTTP_UPSTREAM_IGN_VARY },
    { pt_null_string, 0 }
};

static pt_command_t  pt_http_upstream_commands[] = {

    { pt_string("upstream"),
      PT_HTTP_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_TAKE1,
      pt_http_upstream_block, 0, 0, NULL },

    { pt_string("server"),
      PT_HTTP_UPS_CONF|PT_CONF_1MORE,
      pt_http_upstream_server, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_module_ctx = {
    pt_http_upstream_preconfiguration,     /* preconfiguration */
    NULL,                                  /* postconfiguration */
    pt_http_upstream_create_main_conf,     /* create main configuration */
    pt_http_upstream_init_main_conf,       /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_module = {
    PT_MODULE_V1,
    &pt_http_upstream_module_ctx,
    pt_http_upstream_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_int_t
pt_http_upstream_preconfiguration(pt_conf_t *cf)
{
    return pt_http_upstream_variables_add(cf);
}

static void *
pt_http_upstream_create_main_conf(pt_conf_t *cf)
{
    pt_http_upstream_main_conf_t  *umcf;

    umcf = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_main_conf_t));
    if (umcf == NULL) {
        return NULL;
    }

    if (pt_array_init(&umcf->upstreams, cf->pool, 4,
                      sizeof(pt_http_upstream_srv_conf_t *)) != PT_OK)
    {
        return NULL;
    }

    return umcf;
}

/* Every group's balancer builds its peers. */
static char *
pt_http_upstream_init_main_conf(pt_conf_t *cf, void *conf)
{
    pt_uint_t                      i;
    pt_http_upstream_init_pt       init;
    pt_http_upstream_main_conf_t  *umcf = conf;
    pt_http_upstream_srv_conf_t  **uscfp;

    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        init = uscfp[i]->peer.init_upstream ? uscfp[i]->peer.init_upstream
                                            : pt_http_upstream_init_round_robin;

        if (init(cf, uscfp[i]) != PT_OK) {
            return PT_CONF_ERROR;
        }
    }

    return PT_CONF_OK;
}

/* The confs of the modules inside upstream {}: every HTTP module but the
 * core gets a server-level conf there (balancers keep theirs in it). */
static pt_int_t
pt_http_upstream_block_ctx(pt_conf_t *cf, pt_http_conf_ctx_t *ctx,
    pt_http_upstream_srv_conf_t *uscf)
{
    void              *mconf;
    pt_uint_t          m;
    pt_module_t      **modules;
    pt_http_module_t  *module;

    ctx->main_conf = ((pt_http_conf_ctx_t *) cf->ctx)->main_conf;

    ctx->srv_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);
    ctx->loc_conf = pt_pcalloc(cf->pool, sizeof(void *) * pt_http_max_module);

    if (ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return PT_ERROR;
    }

    ctx->srv_conf[pt_http_upstream_module.ctx_index] = uscf;
    uscf->srv_conf = ctx->srv_conf;

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != PT_HTTP_MODULE
            || modules[m] == &pt_http_core_module
            || modules[m] == &pt_http_upstream_module)
        {
            continue;
        }

        module = modules[m]->ctx;

        if (module->create_srv_conf) {
            mconf = module->create_srv_conf(cf);
            if (mconf == NULL) {
                return PT_ERROR;
            }
            ctx->srv_conf[modules[m]->ctx_index] = mconf;
        }
    }

    return PT_OK;
}

static char *
pt_http_upstream_block(pt_conf_t *cf, pt_command_t *cmd, void *dummy)
{
    char                         *rv;
    pt_url_t                      u;
    pt_str_t                     *value;
    pt_conf_t                     pcf;
    pt_http_conf_ctx_t           *ctx;
    pt_http_upstream_srv_conf_t  *uscf;

    value = cf->args->elts;

    pt_memzero(&u, sizeof(pt_url_t));
    u.host = value[1];
    u.no_resolve = 1;
    u.no_port = 1;

    uscf = pt_http_upstream_add(cf, &u, PT_HTTP_UPSTREAM_CREATE
                                        |PT_HTTP_UPSTREAM_WEIGHT
                                        |PT_HTTP_UPSTREAM_MAX_CONNS
                                        |PT_HTTP_UPSTREAM_MAX_FAILS
                                        |PT_HTTP_UPSTREAM_FAIL_TIMEOUT
                                        |PT_HTTP_UPSTREAM_DOWN
                                        |PT_HTTP_UPSTREAM_BACKUP);
    if (uscf == NULL) {
        return PT_CONF_ERROR;
    }

    ctx = pt_pcalloc(cf->pool, sizeof(pt_http_conf_ctx_t));
    if (ctx == NULL || pt_http_upstream_block_ctx(cf, ctx, uscf) != PT_OK) {
        return PT_CONF_ERROR;
    }

    uscf->servers = pt_array_create(cf->pool, 4, sizeof(pt_http_upstream_server_t));
    if (uscf->servers == NULL) {
        return PT_CONF_ERROR;
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = PT_HTTP_UPS_CONF;

    rv = pt_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != PT_CONF_OK) {
        return rv;
    }

    if (uscf->servers->nelts == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "no servers are inside upstream");
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* One "name=value" parameter of a server line: value when name matches. */
static pt_uint_t
pt_http_upstream_param(pt_str_t *arg, const char *name, pt_str_t *value)
{
    size_t  len;

    len = pt_strlen(name);

    if (arg->len <= len || pt_strncmp(arg->data, name, len) != 0) {
        return 0;
    }

    value->data = arg->data + len;
    value->len = arg->len - len;

    return 1;
}

/* The parameters of a server line into us; "invalid parameter" and
 * "balancing method does not support" are reported here. */
static char *
pt_http_upstream_server_params(pt_conf_t *cf, pt_http_upstream_srv_conf_t *uscf,
    pt_http_upstream_server_t *us)
{
    pt_int_t    n;
    pt_str_t   *value, s;
    pt_uint_t   i, need;

    value = cf->args->elts;

    for (i = 2; i < cf->args->nelts; i++) {

        if (pt_http_upstream_param(&value[i], "weight=", &s)) {
            need = PT_HTTP_UPSTREAM_WEIGHT;
            n = pt_atoi(s.data, s.len);
            if (n == PT_ERROR || n == 0) {
                goto invalid;
            }
            us->weight = n;

        } else if (pt_http_upstream_param(&value[i], "max_conns=", &s)) {
            need = PT_HTTP_UPSTREAM_MAX_CONNS;
            n = pt_atoi(s.data, s.len);
            if (n == PT_ERROR) {
                goto invalid;
            }
            us->max_conns = n;

        } else if (pt_http_upstream_param(&value[i], "max_fails=", &s)) {
            need = PT_HTTP_UPSTREAM_MAX_FAILS;
            n = pt_atoi(s.data, s.len);
            if (n == PT_ERROR) {
                goto invalid;
            }
            us->max_fails = n;

        } else if (pt_http_upstream_param(&value[i], "fail_timeout=", &s)) {
            need = PT_HTTP_UPSTREAM_FAIL_TIMEOUT;
            n = pt_parse_time(&s, 1);
            if (n == PT_ERROR) {
                goto invalid;
            }
            us->fail_timeout = (time_t) n;

        } else if (value[i].len == 6 && pt_strcmp(value[i].data, "backup") == 0) {
            need = PT_HTTP_UPSTREAM_BACKUP;
            us->backup = 1;

        } else if (value[i].len == 4 && pt_strcmp(value[i].data, "down") == 0) {
            need = PT_HTTP_UPSTREAM_DOWN;
            us->down = 1;

        } else {
            goto invalid;
        }

        if (!(uscf->flags & need)) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "balancing method does not support parameter \"%s\"",
                              value[i].data);
            return PT_CONF_ERROR;
        }
    }

    return PT_CONF_OK;

invalid:

    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"", value[i].data);

    return PT_CONF_ERROR;
}

static char *
pt_http_upstream_server(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_upstream_srv_conf_t  *uscf = conf;

    char                       *rv;
    pt_url_t                    u;
    pt_str_t                   *value;
    pt_http_upstream_server_t  *us;

    us = pt_array_push(uscf->servers);
    if (us == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(us, sizeof(pt_http_upstream_server_t));

    us->weight = 1;
    us->max_fails = 1;
    us->fail_timeout = 10;

    rv = pt_http_upstream_server_params(cf, uscf, us);
    if (rv != PT_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    pt_memzero(&u, sizeof(pt_url_t));
    u.url = value[1];
    u.default_port = 80;

    if (pt_parse_url(cf->pool, &u) != PT_OK) {
        if (u.err) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "%s in upstream \"%s\"",
                              u.err, value[1].data);
        }
        return PT_CONF_ERROR;
    }

    us->name = u.url;
    us->addrs = u.addrs;
    us->naddrs = u.naddrs;

    return PT_CONF_OK;
}

/* A unix socket peer is named "unix:/path", without a "/uri" suffix. */
static void
pt_http_upstream_unix_names(pt_url_t *u)
{
    pt_uint_t  i;

    if (u->family != AF_UNIX) {
        return;
    }

    for (i = 0; i < u->naddrs; i++) {
        u->addrs[i].name.data = u->url.data;
        u->addrs[i].name.len = sizeof("unix:") - 1 + u->host.len;
    }
}

/* A group of that name already known: returned (converted to an explicit
 * group when "upstream" defines one a proxy_pass named earlier), or
 * PT_CONF_UNSET_PTR when there is none, or NULL after a config error. */
static pt_http_upstream_srv_conf_t *
pt_http_upstream_add_known(pt_conf_t *cf, pt_url_t *u, pt_uint_t flags)
{
    pt_uint_t                      i;
    pt_http_upstream_srv_conf_t  **uscfp;
    pt_http_upstream_main_conf_t  *umcf;

    umcf = pt_http_conf_get_module_main_conf(cf, pt_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {

        if (uscfp[i]->host.len != u->host.len
            || pt_strncasecmp(uscfp[i]->host.data, u->host.data, u->host.len) != 0)
        {
            continue;
        }

        if ((flags & PT_HTTP_UPSTREAM_CREATE)
            && (uscfp[i]->flags & PT_HTTP_UPSTREAM_CREATE))
        {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "duplicate upstream \""
                              PT_STR_FMT "\"", PT_STR_ARG(u->host));
            return NULL;
        }

        if ((uscfp[i]->flags & PT_HTTP_UPSTREAM_CREATE) && !u->no_port) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "upstream \"" PT_STR_FMT
                              "\" may not have port %u", PT_STR_ARG(u->host),
                              (unsigned) u->port);
            return NULL;
        }

        if ((flags & PT_HTTP_UPSTREAM_CREATE) && !uscfp[i]->no_port) {
            pt_log_error(PT_LOG_EMERG, cf->log, 0, "upstream \"" PT_STR_FMT
                         "\" may not have port %u in %s:%lu",
                         PT_STR_ARG(u->host), (unsigned) uscfp[i]->port,
                         uscfp[i]->file_name, (unsigned long) uscfp[i]->line);
            return NULL;
        }

        if (uscfp[i]->port && u->port && uscfp[i]->port != u->port) {
            continue;
        }

        if (flags & PT_HTTP_UPSTREAM_CREATE) {
            /* a proxy_pass named this group before it was defined */
            uscfp[i]->flags = flags;
            uscfp[i]->port = 0;
            uscfp[i]->servers = NULL;
        }

        return uscfp[i];
    }

    return PT_CONF_UNSET_PTR;
}

/* An implicit group of an address: its one server, known now. */
static pt_int_t
pt_http_upstream_add_address(pt_conf_t *cf, pt_http_upstream_srv_conf_t *uscf,
    pt_url_t *u)
{
    pt_http_upstream_server_t  *us;

    uscf->servers = pt_array_create(cf->pool, 1, sizeof(pt_http_upstream_server_t));
    if (uscf->servers == NULL) {
        return PT_ERROR;
    }

    us = pt_array_push(uscf->servers);
    if (us == NULL) {
        return PT_ERROR;
    }

    pt_memzero(us, sizeof(pt_http_upstream_server_t));
    us->name = u->host;
    us->addrs = u->addrs;
    us->naddrs = u->naddrs;
    us->weight = 1;
    us->max_fails = 1;
    us->fail_timeout = 10;

    return PT_OK;
}

pt_http_upstream_srv_conf_t *
pt_http_upstream_add(pt_conf_t *cf, pt_url_t *u, pt_uint_t flags)
{
    pt_http_upstream_srv_conf_t   *uscf, **uscfp;
    pt_http_upstream_main_conf_t  *umcf;

    if (!(flags & PT_HTTP_UPSTREAM_CREATE)) {
        if (pt_parse_url(cf->pool, u) != PT_OK) {
            if (u->err) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "%s in upstream \""
                                  PT_STR_FMT "\"", u->err, PT_STR_ARG(u->url));
            }
            return NULL;
        }

        pt_http_upstream_unix_names(u);
    }

    uscf = pt_http_upstream_add_known(cf, u, flags);

    if (uscf != PT_CONF_UNSET_PTR) {
        return uscf;
    }

    uscf = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_srv_conf_t));
    if (uscf == NULL) {
        return NULL;
    }

    uscf->flags = flags;
    uscf->host = u->host;
    uscf->file_name = cf->conf_file->file.name.data;
    uscf->line = cf->conf_file->line;
    uscf->port = u->port;
    uscf->no_port = u->no_port;

    if (u->naddrs && (u->port || u->family == AF_UNIX)
        && pt_http_upstream_add_address(cf, uscf, u) != PT_OK)
    {
        return NULL;
    }

    umcf = pt_http_conf_get_module_main_conf(cf, pt_http_upstream_module);

    uscfp = pt_array_push(&umcf->upstreams);
    if (uscfp == NULL) {
        return NULL;
    }

    *uscfp = uscf;

    return uscf;
}

pt_http_upstream_srv_conf_t *
pt_http_upstream_find(pt_http_request_t *r, pt_str_t *host, in_port_t port,
    pt_uint_t no_port)
{
    pt_uint_t                      i;
    pt_http_upstream_srv_conf_t   *uscf, **uscfp;
    pt_http_upstream_main_conf_t  *umcf;

    umcf = pt_http_get_module_main_conf(r, pt_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        uscf = uscfp[i];

        if (uscf->host.len == host->len
            && ((uscf->port == 0 && no_port) || uscf->port == port)
            && pt_strncasecmp(uscf->host.data, host->data, host->len) == 0)
        {
            return uscf;
        }
    }

    return NULL;
}

/* ---- hidden response headers ---- */

static pt_int_t
pt_http_upstream_hide_add(pt_conf_t *cf, pt_array_t *hide, pt_str_t *name)
{
    pt_uint_t                 i;
    pt_http_upstream_hide_t  *h;

    h = hide->elts;

    for (i = 0; i < hide->nelts; i++) {
        if (h[i].name.len == name->len
            && pt_strncasecmp(h[i].name.data, name->data, name->len) == 0)
        {
            return PT_OK;
        }
    }

    h = pt_array_push(hide);
    if (h == NULL) {
        return PT_ERROR;
    }

    h->name.len = name->len;
    h->name.data = pt_pnalloc(cf->pool, name->len);
    if (h->name.data == NULL) {
        return PT_ERROR;
    }

    h->hash = pt_hash_strlow(h->name.data, name->data, name->len);

    return PT_OK;
}

static pt_uint_t
pt_http_upstream_name_in(pt_array_t *names, pt_str_t *name)
{
    pt_uint_t   i;
    pt_str_t   *s;

    if (names == NULL || names == PT_CONF_UNSET_PTR) {
        return 0;
    }

    s = names->elts;

    for (i = 0; i < names->nelts; i++) {
        if (s[i].len == name->len
            && pt_strncasecmp(s[i].data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}

pt_int_t
pt_http_upstream_hide_headers_merge(pt_conf_t *cf, pt_http_upstream_conf_t *conf,
    pt_http_upstream_conf_t *prev, pt_str_t *default_hide)
{
    pt_uint_t   i;
    pt_str_t   *s;

    if (conf->hide_headers == PT_CONF_UNSET_PTR
        && conf->pass_headers == PT_CONF_UNSET_PTR)
    {
        conf->hide_headers = prev->hide_headers;
        conf->pass_headers = prev->pass_headers;

        if (prev->hide) {
            conf->hide = prev->hide;
            return PT_OK;
        }

    } else {
        if (conf->hide_headers == PT_CONF_UNSET_PTR) {
            conf->hide_headers = prev->hide_headers;
        }

        if (conf->pass_headers == PT_CONF_UNSET_PTR) {
            conf->pass_headers = prev->pass_headers;
        }
    }

    conf->hide = pt_array_create(cf->pool, 8, sizeof(pt_http_upstream_hide_t));
    if (conf->hide == NULL) {
        return PT_ERROR;
    }

    for (s = default_hide; s->len; s++) {
        if (!pt_http_upstream_name_in(conf->pass_headers, s)
            && pt_http_upstream_hide_add(cf, conf->hide, s) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    if (conf->hide_headers != PT_CONF_UNSET_PTR && conf->hide_headers) {
        s = conf->hide_headers->elts;

        for (i = 0; i < conf->hide_headers->nelts; i++) {
            if (pt_http_upstream_hide_add(cf, conf->hide, &s[i]) != PT_OK) {
                return PT_ERROR;
            }
        }
    }

    return PT_OK;
}

/* ---- the log ---- */

u_char *
pt_http_upstream_log_error(pt_http_request_t *r, u_char *buf, size_t len)
{
    pt_http_upstream_t  *u;

    u = r->upstream;

    if (u == NULL || u->peer.name == NULL || u->finalized) {
        return buf;
    }

    return pt_slprintf(buf, buf + len, ", upstream: \"" PT_STR_FMT PT_STR_FMT
                       PT_STR_FMT "\"", PT_STR_ARG(u->schema),
                       PT_STR_ARG(*u->peer.name), PT_STR_ARG(u->uri));
}
