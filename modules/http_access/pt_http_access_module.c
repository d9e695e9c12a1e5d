/*
 * pt_http_access_module.c: access by client address, as nginx's access
 * module.
 *
 *   allow ADDRESS | CIDR | unix: | all;   (http, server, location,
 *   deny  ADDRESS | CIDR | unix: | all;    limit_except)
 *
 * The rules of a level are checked in order and the first that matches
 * decides: deny answers 403 ("access forbidden by rule" in the error log),
 * allow lets the request go on.  As in nginx the rules are kept in three
 * lists, one per address family (IPv4, IPv6, unix:), and "all" goes into
 * each; a client is checked against its own family's list only, so with
 * IPv4 rules alone an IPv6 or unix: client is not concerned by them.  An
 * IPv4-mapped IPv6 client (::ffff:a.b.c.d, on a dual-stack socket) is
 * checked as the IPv4 address when there are IPv4 rules, else against
 * the IPv6 ones.  No rule matching: the module declines.
 *
 * Rules do not add up across levels: a level with any allow or deny
 * replaces its parent's entirely.
 *
 * The handler runs in the ACCESS phase, after realip (POST_READ and
 * PREACCESS) has put the real client address in the connection, and again
 * after an internal redirect (the new location's rules), as nginx.
 */

#include "pt_http_access.h"

typedef struct {
    in_addr_t           mask;       /* network order */
    in_addr_t           addr;
    pt_uint_t           deny;
} pt_http_access_rule_t;

typedef struct {
    u_char              addr[16];
    u_char              mask[16];
    pt_uint_t           deny;
} pt_http_access_rule6_t;

typedef struct {
    pt_uint_t           deny;
} pt_http_access_rule_un_t;

typedef struct {
    pt_array_t         *rules;      /* of pt_http_access_rule_t */
    pt_array_t         *rules6;     /* of pt_http_access_rule6_t */
    pt_array_t         *rules_un;   /* of pt_http_access_rule_un_t */
} pt_http_access_loc_conf_t;

static pt_int_t pt_http_access_handler(pt_http_request_t *r);
static char *pt_http_access_rule(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static void *pt_http_access_create_loc_conf(pt_conf_t *cf);
static char *pt_http_access_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);
static pt_int_t pt_http_access_init(pt_conf_t *cf);

#define PT_HTTP_ACCESS_CONF  (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_HTTP_LMT_CONF)

static pt_command_t  pt_http_access_commands[] = {

    { pt_string("allow"),
      PT_HTTP_ACCESS_CONF|PT_CONF_TAKE1,
      pt_http_access_rule, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("deny"),
      PT_HTTP_ACCESS_CONF|PT_CONF_TAKE1,
      pt_http_access_rule, PT_HTTP_LOC_CONF_OFFSET, 1, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_access_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_access_init,                   /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_access_create_loc_conf,        /* create location configuration */
    pt_http_access_merge_loc_conf          /* merge location configuration */
};

pt_module_t  pt_http_access_module = {
    PT_MODULE_V1,
    &pt_http_access_module_ctx,
    pt_http_access_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- the handler ---- */

/* A deny answers 403; under "satisfy all" the error line is written here,
 * under "satisfy any" by POST_ACCESS, once no other module allowed. */
static pt_int_t
pt_http_access_found(pt_http_request_t *r, pt_uint_t deny)
{
    pt_http_core_loc_conf_t  *clcf;

    if (!deny) {
        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (clcf->satisfy == PT_HTTP_SATISFY_ALL) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0, "access forbidden by rule");
    }

    return PT_HTTP_FORBIDDEN;
}

/* addr in network order. */
static pt_int_t
pt_http_access_inet(pt_http_request_t *r, pt_array_t *rules, in_addr_t addr)
{
    pt_uint_t               i;
    pt_http_access_rule_t  *rule;

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        if ((addr & rule[i].mask) == rule[i].addr) {
            return pt_http_access_found(r, rule[i].deny);
        }
    }

    return PT_DECLINED;
}

static pt_int_t
pt_http_access_inet6(pt_http_request_t *r, pt_array_t *rules6, u_char *addr)
{
    pt_uint_t                i, k;
    pt_http_access_rule6_t  *rule6;

    rule6 = rules6->elts;

    for (i = 0; i < rules6->nelts; i++) {
        for (k = 0; k < 16; k++) {
            if ((addr[k] & rule6[i].mask[k]) != rule6[i].addr[k]) {
                break;
            }
        }

        if (k == 16) {
            return pt_http_access_found(r, rule6[i].deny);
        }
    }

    return PT_DECLINED;
}

/* PT_OK (allowed), PT_HTTP_FORBIDDEN, or PT_DECLINED (no rule matched). */
static pt_int_t
pt_http_access_handler(pt_http_request_t *r)
{
    u_char                     *p;
    in_addr_t                   addr;
    struct sockaddr            *sa;
    struct sockaddr_in6        *sin6;
    pt_http_access_rule_un_t   *rule_un;
    pt_http_access_loc_conf_t  *alcf;

    alcf = pt_http_get_module_loc_conf(r, pt_http_access_module);
    sa = r->connection->sockaddr;

    switch (sa->sa_family) {

    case AF_INET:
        if (alcf->rules) {
            return pt_http_access_inet(r, alcf->rules,
                                       ((struct sockaddr_in *) sa)->sin_addr.s_addr);
        }
        break;

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        p = sin6->sin6_addr.s6_addr;

        if (alcf->rules && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            addr = htonl(((in_addr_t) p[12] << 24) | ((in_addr_t) p[13] << 16)
                         | ((in_addr_t) p[14] << 8) | p[15]);
            return pt_http_access_inet(r, alcf->rules, addr);
        }

        if (alcf->rules6) {
            return pt_http_access_inet6(r, alcf->rules6, p);
        }
        break;

    case AF_UNIX:
        if (alcf->rules_un) {
            /* every unix: client is the same: the first rule decides */
            rule_un = alcf->rules_un->elts;
            return pt_http_access_found(r, rule_un[0].deny);
        }
        break;
    }

    return PT_DECLINED;
}

/* ---- configuration ---- */

/* Appends a rule to *list, created on first use. */
static void *
pt_http_access_push(pt_conf_t *cf, pt_array_t **list, size_t size)
{
    if (*list == NULL) {
        *list = pt_array_create(cf->pool, 4, size);
        if (*list == NULL) {
            return NULL;
        }
    }

    return pt_array_push(*list);
}

/* allow / deny (cmd->offset: 1 for deny). */
static char *
pt_http_access_rule(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_access_loc_conf_t *alcf = conf;

    pt_int_t                   rc;
    pt_uint_t                  all, deny;
    pt_str_t                  *value;
    pt_http_access_cidr_t      cidr;
    pt_http_access_rule_t     *rule;
    pt_http_access_rule6_t    *rule6;
    pt_http_access_rule_un_t  *rule_un;

    pt_memzero(&cidr, sizeof(pt_http_access_cidr_t));

    value = cf->args->elts;
    deny = cmd->offset;
    all = pt_str_eq_lit(&value[1], "all");

    if (!all) {
        if (pt_str_eq_lit(&value[1], "unix:")) {
            cidr.family = AF_UNIX;      /* cidr holds no unix: otherwise */
            rc = PT_OK;

        } else {
            rc = pt_http_access_parse_cidr(&value[1], &cidr);
        }

        if (rc == PT_ERROR) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

        if (rc == PT_DONE) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0,
                              "low address bits of " PT_STR_FMT " are meaningless",
                              PT_STR_ARG(value[1]));
        }
    }

    if (all || cidr.family == AF_INET) {
        rule = pt_http_access_push(cf, &alcf->rules, sizeof(pt_http_access_rule_t));
        if (rule == NULL) {
            return PT_CONF_ERROR;
        }

        rule->addr = cidr.addr;     /* "all": 0/0 */
        rule->mask = cidr.mask;
        rule->deny = deny;
    }

    if (all || cidr.family == AF_INET6) {
        rule6 = pt_http_access_push(cf, &alcf->rules6, sizeof(pt_http_access_rule6_t));
        if (rule6 == NULL) {
            return PT_CONF_ERROR;
        }

        pt_memcpy(rule6->addr, cidr.addr6, 16);
        pt_memcpy(rule6->mask, cidr.mask6, 16);
        rule6->deny = deny;
    }

    if (all || cidr.family == AF_UNIX) {
        rule_un = pt_http_access_push(cf, &alcf->rules_un,
                                      sizeof(pt_http_access_rule_un_t));
        if (rule_un == NULL) {
            return PT_CONF_ERROR;
        }

        rule_un->deny = deny;
    }

    return PT_CONF_OK;
}

static void *
pt_http_access_create_loc_conf(pt_conf_t *cf)
{
    /* NULL lists: no rule at this level */
    return pt_pcalloc(cf->pool, sizeof(pt_http_access_loc_conf_t));
}

/* A level with any rule keeps only its own; else it takes the parent's. */
static char *
pt_http_access_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_access_loc_conf_t  *prev = parent;
    pt_http_access_loc_conf_t  *conf = child;

    if (conf->rules == NULL && conf->rules6 == NULL && conf->rules_un == NULL) {
        conf->rules = prev->rules;
        conf->rules6 = prev->rules6;
        conf->rules_un = prev->rules_un;
    }

    return PT_CONF_OK;
}

static pt_int_t
pt_http_access_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_ACCESS_PHASE, pt_http_access_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}
