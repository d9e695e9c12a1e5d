/*
 * pt_http_realip_module.c: the client address a trusted proxy reports.
 *
 *   set_real_ip_from ADDRESS | CIDR | unix:;     (http, server, location)
 *   real_ip_header X-Real-IP | X-Forwarded-For | NAME;   (default X-Real-IP)
 *   real_ip_recursive on | off;                  (default off)
 *
 * When the connection comes from a trusted address, the address in the
 * header replaces the client address for the rest of the request: the
 * connection's sockaddr and addr_text ($remote_addr, $remote_port, the
 * "client:" of error lines, access logs).  The header value is a list of
 * addresses, the last one added by the nearest proxy: without recursion
 * the last one is taken; with it, trusted addresses are skipped from the
 * right and the first untrusted one is the client (all trusted: the
 * leftmost).  An address that does not parse leaves the request alone.
 * The original address is restored when the request ends (a keepalive
 * connection starts every request from its real peer) and stays
 * available as $realip_remote_addr and $realip_remote_port.
 *
 * The handler runs in POST_READ (with the server's settings) and again in
 * PREACCESS (with the location's); a request is changed at most once.
 * "real_ip_header proxy_protocol" waits for the PROXY protocol listener.
 */

#include "pt_http.h"

#define PT_HTTP_REALIP_XREALIP  0
#define PT_HTTP_REALIP_XFWD     1
#define PT_HTTP_REALIP_HEADER   2

typedef struct {
    int                 family;     /* AF_INET, AF_INET6, AF_UNIX */
    u_char              addr[16];
    u_char              mask[16];
} pt_http_realip_cidr_t;

typedef struct {
    pt_array_t         *from;       /* of pt_http_realip_cidr_t */
    pt_uint_t           type;
    pt_uint_t           hash;
    pt_str_t            header;     /* lower case, for the other headers */
    pt_flag_t           recursive;
} pt_http_realip_loc_conf_t;

/* Kept in the request pool's cleanup: the connection's own address. */
typedef struct {
    pt_connection_t    *connection;
    struct sockaddr    *sockaddr;
    socklen_t           socklen;
    pt_str_t            addr_text;
    pt_sockaddr_t       new_addr;
} pt_http_realip_ctx_t;

static pt_int_t pt_http_realip_add_variables(pt_conf_t *cf);
static pt_int_t pt_http_realip_init(pt_conf_t *cf);
static void *pt_http_realip_create_loc_conf(pt_conf_t *cf);
static char *pt_http_realip_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);
static char *pt_http_realip_from(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_realip_header(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static void pt_http_realip_cleanup(void *data);

#define PT_HTTP_REALIP_CONF  (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF)

static pt_command_t  pt_http_realip_commands[] = {

    { pt_string("set_real_ip_from"),
      PT_HTTP_REALIP_CONF|PT_CONF_TAKE1,
      pt_http_realip_from, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("real_ip_header"),
      PT_HTTP_REALIP_CONF|PT_CONF_TAKE1,
      pt_http_realip_header, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("real_ip_recursive"),
      PT_HTTP_REALIP_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_realip_loc_conf_t, recursive), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_realip_module_ctx = {
    pt_http_realip_add_variables,          /* preconfiguration */
    pt_http_realip_init,                   /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_realip_create_loc_conf,        /* create location configuration */
    pt_http_realip_merge_loc_conf          /* merge location configuration */
};

pt_module_t  pt_http_realip_module = {
    PT_MODULE_V1,
    &pt_http_realip_module_ctx,
    pt_http_realip_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- addresses ---- */

/* Whether sa is in one of the trusted ranges.  An IPv4-mapped IPv6 peer
 * is checked against the IPv4 ranges too. */
static pt_uint_t
pt_http_realip_trusted(pt_array_t *from, struct sockaddr *sa)
{
    int                     family;
    u_char                 *addr, mapped[4];
    size_t                  len, k;
    pt_uint_t               i;
    pt_http_realip_cidr_t  *cidr;

    family = sa->sa_family;
    addr = NULL;
    len = 0;

    if (family == AF_INET) {
        addr = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        len = 4;

    } else if (family == AF_INET6) {
        addr = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        len = 16;

        if (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *) sa)->sin6_addr)) {
            pt_memcpy(mapped, addr + 12, 4);
        }
    }

    cidr = from->elts;

    for (i = 0; i < from->nelts; i++) {
        if (cidr[i].family == AF_UNIX) {
            if (family == AF_UNIX) {
                return 1;
            }
            continue;
        }

        if (cidr[i].family == AF_INET && family == AF_INET6
            && IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *) sa)->sin6_addr))
        {
            for (k = 0; k < 4; k++) {
                if ((mapped[k] & cidr[i].mask[k]) != cidr[i].addr[k]) {
                    break;
                }
            }
            if (k == 4) {
                return 1;
            }
            continue;
        }

        if (cidr[i].family != family) {
            continue;
        }

        for (k = 0; k < len; k++) {
            if ((addr[k] & cidr[i].mask[k]) != cidr[i].addr[k]) {
                break;
            }
        }

        if (k == len) {
            return 1;
        }
    }

    return 0;
}

/* Parses "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]:80" into
 * sa (the port, when given, kept).  PT_ERROR when it is not an address. */
static pt_int_t
pt_http_realip_parse(u_char *p, size_t len, pt_sockaddr_t *sa, socklen_t *socklen)
{
    char       text[PT_INET6_ADDRSTRLEN + 1];
    u_char    *colon, *end;
    pt_int_t   port;

    port = 0;
    end = p + len;

    if (len && p[0] == '[') {
        colon = pt_strlchr(p, end, ']');
        if (colon == NULL) {
            return PT_ERROR;
        }
        if (colon + 1 < end) {
            if (colon[1] != ':') {
                return PT_ERROR;
            }
            port = pt_atoi(colon + 2, end - colon - 2);
        }
        p++;
        len = colon - p;

    } else if ((colon = pt_strlchr(p, end, ':')) != NULL
               && pt_strlchr(colon + 1, end, ':') == NULL)
    {
        /* one colon: IPv4 with a port */
        port = pt_atoi(colon + 1, end - colon - 1);
        len = colon - p;
    }

    if (port == PT_ERROR || port > 65535 || len == 0 || len > PT_INET6_ADDRSTRLEN) {
        return PT_ERROR;
    }

    pt_memcpy(text, p, len);
    text[len] = '\0';

    pt_memzero(sa, sizeof(pt_sockaddr_t));

    if (inet_pton(AF_INET, text, &sa->sockaddr_in.sin_addr) == 1) {
        sa->sockaddr_in.sin_family = AF_INET;
        sa->sockaddr_in.sin_port = htons((in_port_t) port);
        *socklen = sizeof(struct sockaddr_in);
        return PT_OK;
    }

    if (inet_pton(AF_INET6, text, &sa->sockaddr_in6.sin6_addr) == 1) {
        sa->sockaddr_in6.sin6_family = AF_INET6;
        sa->sockaddr_in6.sin6_port = htons((in_port_t) port);
        *socklen = sizeof(struct sockaddr_in6);
        return PT_OK;
    }

    return PT_ERROR;
}

/*
 * The client address in a list of header values (first field first, each
 * "a, b, c"), taken from the right: the last entry, or with recursion the
 * last one that is not trusted (all trusted: the first).  Empty entries
 * are skipped; an entry that does not parse ends the walk with what was
 * found before it.  PT_DECLINED: nothing usable.
 */
static pt_int_t
pt_http_realip_pick(pt_http_request_t *r, pt_http_realip_loc_conf_t *rlcf,
    pt_http_header_t **fields, pt_uint_t nfields, pt_sockaddr_t *sa, socklen_t *socklen)
{
    u_char         *p, *s, *e, *start, *last;
    pt_int_t        found;
    pt_uint_t       i;
    socklen_t       len;
    pt_sockaddr_t   tmp;

    found = PT_DECLINED;

    for (i = nfields; i-- > 0; /* void */) {
        start = fields[i]->value.data;
        last = start + fields[i]->value.len;

        while (last > start) {
            for (p = last; p > start && p[-1] != ','; p--) { /* void */ }

            s = p;
            e = last;
            last = (p > start) ? p - 1 : start;

            while (s < e && (*s == ' ' || *s == '\t')) {
                s++;
            }

            while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }

            if (s == e) {
                continue;
            }

            if (pt_http_realip_parse(s, e - s, &tmp, &len) != PT_OK) {
                return found;
            }

            pt_memcpy(sa, &tmp, len);
            *socklen = len;
            found = PT_OK;

            if (!rlcf->recursive || !pt_http_realip_trusted(rlcf->from, &sa->sockaddr)) {
                return PT_OK;
            }
        }
    }

    return found;
}

/* ---- the handler ---- */

static pt_http_realip_ctx_t *
pt_http_realip_get_ctx(pt_http_request_t *r)
{
    pt_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == pt_http_realip_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}

static pt_int_t
pt_http_realip_set(pt_http_request_t *r, pt_sockaddr_t *sa, socklen_t socklen)
{
    u_char                *text;
    size_t                 len;
    pt_connection_t       *c;
    pt_pool_cleanup_t     *cln;
    pt_http_realip_ctx_t  *ctx;

    c = r->connection;

    cln = pt_pool_cleanup_add(r->pool, sizeof(pt_http_realip_ctx_t));
    text = pt_pnalloc(r->pool, PT_SOCKADDR_STRLEN);
    if (cln == NULL || text == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = pt_sock_ntop(&sa->sockaddr, socklen, text, PT_SOCKADDR_STRLEN, 0);

    ctx = cln->data;
    ctx->connection = c;
    ctx->sockaddr = c->sockaddr;
    ctx->socklen = c->socklen;
    ctx->addr_text = c->addr_text;
    pt_memcpy(&ctx->new_addr, sa, socklen);

    cln->handler = pt_http_realip_cleanup;

    c->sockaddr = &ctx->new_addr.sockaddr;
    c->socklen = socklen;
    c->addr_text.data = text;
    c->addr_text.len = len;

    return PT_DECLINED;
}

static void
pt_http_realip_cleanup(void *data)
{
    pt_http_realip_ctx_t  *ctx = data;

    ctx->connection->sockaddr = ctx->sockaddr;
    ctx->connection->socklen = ctx->socklen;
    ctx->connection->addr_text = ctx->addr_text;
}

/* The fields of the configured header, in order. */
static pt_uint_t
pt_http_realip_fields(pt_http_request_t *r, pt_http_realip_loc_conf_t *rlcf,
    pt_http_header_t **fields, pt_uint_t max)
{
    pt_uint_t          i, n;
    pt_list_part_t    *part;
    pt_http_header_t  *h;

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == rlcf->header.len
            && pt_strncasecmp(h[i].key.data, rlcf->header.data, rlcf->header.len) == 0
            && n < max)
        {
            fields[n++] = &h[i];
        }
    }

    return n;
}

static pt_int_t
pt_http_realip_handler(pt_http_request_t *r)
{
    socklen_t                   socklen;
    pt_uint_t                   n;
    pt_sockaddr_t               sa;
    pt_http_header_t           *fields[32];
    pt_http_realip_loc_conf_t  *rlcf;

    rlcf = pt_http_get_module_loc_conf(r, pt_http_realip_module);

    if (rlcf->from == NULL || pt_http_realip_get_ctx(r) != NULL) {
        return PT_DECLINED;
    }

    if (!pt_http_realip_trusted(rlcf->from, r->connection->sockaddr)) {
        return PT_DECLINED;
    }

    n = pt_http_realip_fields(r, rlcf, fields, pt_nelems(fields));

    if (n == 0) {
        return PT_DECLINED;
    }

    if (pt_http_realip_pick(r, rlcf, fields, n, &sa, &socklen) != PT_OK) {
        return PT_DECLINED;
    }

    return pt_http_realip_set(r, &sa, socklen);
}

/* ---- variables ---- */

static pt_int_t
pt_http_realip_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                *p;
    pt_str_t               addr;
    in_port_t              port;
    struct sockaddr       *sa;
    pt_http_realip_ctx_t  *ctx;

    ctx = pt_http_realip_get_ctx(r);

    sa = ctx ? ctx->sockaddr : r->connection->sockaddr;
    addr = ctx ? ctx->addr_text : r->connection->addr_text;

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    if (data == 0) {
        v->len = addr.len;
        v->data = addr.data;
        return PT_OK;
    }

    if (sa->sa_family == AF_UNIX) {
        v->len = 0;
        v->data = (u_char *) "";
        return PT_OK;
    }

    port = pt_inet_get_port(sa);

    p = pt_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    v->len = pt_uint_to_str(p, port) - p;
    v->data = p;

    return PT_OK;
}

static pt_int_t
pt_http_realip_add_variables(pt_conf_t *cf)
{
    pt_str_t             name;
    pt_http_variable_t  *v;

    pt_str_set(&name, "realip_remote_addr");
    v = pt_http_add_variable(cf, &name, PT_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return PT_ERROR;
    }
    v->get_handler = pt_http_realip_variable;
    v->data = 0;

    pt_str_set(&name, "realip_remote_port");
    v = pt_http_add_variable(cf, &name, PT_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return PT_ERROR;
    }
    v->get_handler = pt_http_realip_variable;
    v->data = 1;

    return PT_OK;
}

/* ---- configuration ---- */

/* The mask of a /bits network of len bytes; host bits set in the address
 * are cleared, with nginx's warning. */
static void
pt_http_realip_mask(pt_conf_t *cf, pt_http_realip_cidr_t *cidr, size_t bits,
    size_t len, pt_str_t *text)
{
    size_t     k, bytes;
    pt_uint_t  warned;

    bytes = bits / 8;
    warned = 0;

    for (k = 0; k < len; k++) {
        if (k < bytes) {
            cidr->mask[k] = 0xff;
        } else if (k == bytes) {
            cidr->mask[k] = (u_char) (0xff << (8 - bits % 8));
        }

        if ((cidr->addr[k] & ~cidr->mask[k]) && !warned++) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0,
                              "low address bits of " PT_STR_FMT " are meaningless",
                              PT_STR_ARG(*text));
        }

        cidr->addr[k] &= cidr->mask[k];
    }
}

static char *
pt_http_realip_from(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_realip_loc_conf_t *rlcf = conf;

    u_char                  *slash;
    size_t                   len;
    pt_int_t                 bits;
    pt_str_t                *value, addr;
    pt_sockaddr_t            sa;
    socklen_t                socklen;
    pt_http_realip_cidr_t   *cidr;

    value = cf->args->elts;

    if (rlcf->from == NULL) {
        rlcf->from = pt_array_create(cf->pool, 2, sizeof(pt_http_realip_cidr_t));
        if (rlcf->from == NULL) {
            return PT_CONF_ERROR;
        }
    }

    cidr = pt_array_push(rlcf->from);
    if (cidr == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(cidr, sizeof(pt_http_realip_cidr_t));

    if (pt_str_eq_lit(&value[1], "unix:")) {
        cidr->family = AF_UNIX;
        return PT_CONF_OK;
    }

    addr = value[1];
    slash = pt_strlchr(addr.data, addr.data + addr.len, '/');
    bits = -1;

    if (slash) {
        bits = pt_atoi(slash + 1, addr.data + addr.len - slash - 1);
        addr.len = slash - addr.data;
    }

    if (addr.len == 0 || (addr.data[0] == '[')
        || pt_http_realip_parse(addr.data, addr.len, &sa, &socklen) != PT_OK
        || pt_inet_get_port(&sa.sockaddr) != 0)
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid address \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[1]));
        return PT_CONF_ERROR;
    }

    cidr->family = sa.sockaddr.sa_family;
    len = (cidr->family == AF_INET) ? 4 : 16;

    if (bits == -1) {
        bits = (pt_int_t) len * 8;
    }

    if (bits == PT_ERROR || bits > (pt_int_t) len * 8) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid network mask \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[1]));
        return PT_CONF_ERROR;
    }

    pt_memcpy(cidr->addr, (cidr->family == AF_INET)
                          ? (u_char *) &sa.sockaddr_in.sin_addr
                          : sa.sockaddr_in6.sin6_addr.s6_addr, len);

    pt_http_realip_mask(cf, cidr, (size_t) bits, len, &value[1]);

    return PT_CONF_OK;
}

static char *
pt_http_realip_header(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_realip_loc_conf_t *rlcf = conf;

    pt_str_t  *value;

    if (rlcf->type != PT_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (pt_str_eq_lit(&value[1], "proxy_protocol")) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"real_ip_header proxy_protocol\" is not supported yet");
        return PT_CONF_ERROR;
    }

    rlcf->header.len = value[1].len;
    rlcf->header.data = pt_pnalloc(cf->pool, value[1].len);
    if (rlcf->header.data == NULL) {
        return PT_CONF_ERROR;
    }

    pt_strlow(rlcf->header.data, value[1].data, value[1].len);

    if (pt_str_eq_lit(&rlcf->header, "x-real-ip")) {
        rlcf->type = PT_HTTP_REALIP_XREALIP;
    } else if (pt_str_eq_lit(&rlcf->header, "x-forwarded-for")) {
        rlcf->type = PT_HTTP_REALIP_XFWD;
    } else {
        rlcf->type = PT_HTTP_REALIP_HEADER;
    }

    return PT_CONF_OK;
}

static void *
pt_http_realip_create_loc_conf(pt_conf_t *cf)
{
    pt_http_realip_loc_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_realip_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->from = NULL;
    conf->type = PT_CONF_UNSET_UINT;
    conf->recursive = PT_CONF_UNSET;

    return conf;
}

static char *
pt_http_realip_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_realip_loc_conf_t  *prev = parent;
    pt_http_realip_loc_conf_t  *conf = child;

    if (conf->from == NULL) {
        conf->from = prev->from;
    }

    if (conf->type == PT_CONF_UNSET_UINT) {
        conf->type = prev->type;
        conf->header = prev->header;
    }

    if (conf->type == PT_CONF_UNSET_UINT) {
        conf->type = PT_HTTP_REALIP_XREALIP;
        pt_str_set(&conf->header, "x-real-ip");
    }

    pt_conf_merge_value(conf->recursive, prev->recursive, 0);

    return PT_CONF_OK;
}

static pt_int_t
pt_http_realip_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_POST_READ_PHASE, pt_http_realip_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    if (pt_http_add_phase_handler(cf, PT_HTTP_PREACCESS_PHASE, pt_http_realip_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}
