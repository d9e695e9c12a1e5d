/*
 * pt_http_geo_module.c: variables whose value depends on the client
 * address, as nginx's geo module.
 *
 *   geo [ADDRESS] $name { ... }     (http)
 *
 * ADDRESS, when given, is a string with variables ("$arg_ip") holding an
 * IPv4 or IPv6 address; else the client address is used, the one realip
 * may have replaced.  The block holds:
 *
 *   NETWORK VALUE;     "10.0.0.0/8", "192.168.1.1", "2001:db8::/32"
 *   default VALUE;     0.0.0.0/0 and ::/0 ("" when there is none)
 *   delete NETWORK;    removes a network added before (an include's)
 *   include FILE;
 *   proxy NETWORK;     trusted proxies: from those, the address is taken
 *                      from X-Forwarded-For, as nginx's
 *                      ngx_http_get_forwarded_addr() does
 *   proxy_recursive;   skip trusted addresses in X-Forwarded-For
 *   ranges;            the keys are "START-END" IPv4 ranges instead
 *                      (pt_http_geo_ranges.c); first in the block
 *
 * The longest matching prefix wins.  Networks are kept in two binary
 * tries (IPv4, IPv6) built at config time, like nginx's radix trees: a
 * lookup walks at most 32 or 128 nodes and allocates nothing.  An
 * IPv4-mapped IPv6 client is looked up as IPv4; an address that is
 * missing or does not parse (and a unix: client) as 255.255.255.255, as
 * nginx does (so usually the default).  Values are constant strings.
 */

#include "pt_http_geo.h"

/* A node of a binary trie over the address bits, most significant first. */
typedef struct pt_http_geo_node_s  pt_http_geo_node_t;

struct pt_http_geo_node_s {
    pt_http_geo_node_t         *child[2];
    pt_http_variable_value_t   *value;      /* NULL: no network ends here */
};

typedef struct {
    pt_http_complex_value_t    *source;     /* NULL: the client address */
    pt_array_t                 *proxies;    /* of pt_cidr_t, or NULL */
    pt_uint_t                   proxy_recursive;
    pt_http_geo_node_t         *tree;       /* IPv4 */
    pt_http_geo_node_t         *tree6;
    pt_http_geo_ranges_t        ranges;
} pt_http_geo_t;

/* The state of one geo {} while its lines are parsed. */
typedef struct {
    pt_http_geo_t              *geo;
    pt_http_geo_ranges_conf_t   ranges;
    unsigned                    use_ranges:1;
    unsigned                    networks:1; /* a network line was seen */
} pt_http_geo_conf_ctx_t;

/* X-Forwarded-For lines looked at, from the last one. */
#define PT_HTTP_GEO_MAX_XFF  32

static char *pt_http_geo_block(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_geo_commands[] = {

    { pt_string("geo"),
      PT_HTTP_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_TAKE12,
      pt_http_geo_block, PT_HTTP_MAIN_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_geo_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_geo_module = {
    PT_MODULE_V1,
    &pt_http_geo_module_ctx,
    pt_http_geo_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- the tries ---- */

#define pt_http_geo_bit(key, i)  (((key)[(i) >> 3] >> (7 - ((i) & 7))) & 1)

/* The value of the longest network holding key (bits long); NULL when
 * none does. */
static pt_http_variable_value_t *
pt_http_geo_trie_find(pt_http_geo_node_t *node, u_char *key, pt_uint_t bits)
{
    pt_uint_t                  i;
    pt_http_variable_value_t  *value;

    value = NULL;

    for (i = 0; node; i++) {
        if (node->value) {
            value = node->value;
        }
        if (i == bits) {
            break;
        }
        node = node->child[pt_http_geo_bit(key, i)];
    }

    return value;
}

/* The node of the network key/prefix, created with its path when create. */
static pt_http_geo_node_t *
pt_http_geo_trie_node(pt_pool_t *pool, pt_http_geo_node_t *node, u_char *key,
    pt_uint_t prefix, pt_uint_t create)
{
    pt_uint_t             i, b;
    pt_http_geo_node_t  **next;

    for (i = 0; i < prefix; i++) {
        b = pt_http_geo_bit(key, i);
        next = &node->child[b];

        if (*next == NULL) {
            if (!create) {
                return NULL;
            }
            *next = pt_pcalloc(pool, sizeof(pt_http_geo_node_t));
            if (*next == NULL) {
                return NULL;
            }
        }

        node = *next;
    }

    return node;
}

/* The prefix length of a contiguous mask. */
static pt_uint_t
pt_http_geo_prefix(u_char *mask, size_t len)
{
    size_t     i;
    pt_uint_t  bits;
    u_char     m;

    bits = 0;

    for (i = 0; i < len; i++) {
        for (m = mask[i]; m & 0x80; m <<= 1) {
            bits++;
        }
    }

    return bits;
}

/* ---- the address ---- */

/* nginx's ngx_parse_addr(): an IPv4 or IPv6 address, no port. */
static pt_int_t
pt_http_geo_parse_addr(u_char *text, size_t len, pt_sockaddr_t *sa)
{
    char       buf[PT_INET6_ADDRSTRLEN + 1];
    in_addr_t  addr;

    addr = pt_inet_addr(text, len);

    if (addr != INADDR_NONE) {
        sa->sockaddr_in.sin_family = AF_INET;
        sa->sockaddr_in.sin_addr.s_addr = addr;
        return PT_OK;
    }

    if (len == 0 || len > PT_INET6_ADDRSTRLEN) {
        return PT_DECLINED;
    }

    pt_memcpy(buf, text, len);
    buf[len] = '\0';

    if (inet_pton(AF_INET6, buf, &sa->sockaddr_in6.sin6_addr) != 1) {
        return PT_DECLINED;
    }

    sa->sockaddr_in6.sin6_family = AF_INET6;

    return PT_OK;
}

/* nginx's ngx_parse_addr_port(): also "1.2.3.4:80" and "[::1]:80" (the
 * port, 1-65535, is checked and dropped: geo does not use it). */
static pt_int_t
pt_http_geo_parse_addr_port(u_char *text, size_t len, pt_sockaddr_t *sa)
{
    u_char    *p, *last;
    pt_int_t   port;

    if (pt_http_geo_parse_addr(text, len, sa) == PT_OK) {
        return PT_OK;
    }

    last = text + len;

    if (len && text[0] == '[') {
        p = pt_strlchr(text, last, ']');
        if (p == NULL || p == last - 1 || p[1] != ':') {
            return PT_DECLINED;
        }
        p++;
        text++;
        len -= 2;

    } else {
        p = pt_strlchr(text, last, ':');
        if (p == NULL) {
            return PT_DECLINED;
        }
    }

    p++;
    port = pt_atoi(p, last - p);

    if (port < 1 || port > 65535) {
        return PT_DECLINED;
    }

    return pt_http_geo_parse_addr(text, len - (last - p) - 1, sa);
}

/* nginx's ngx_cidr_match(): an IPv4-mapped address counts as IPv4. */
static pt_uint_t
pt_http_geo_trusted(pt_array_t *proxies, struct sockaddr *sa)
{
    u_char     *p, *a, *m;
    size_t      len, k;
    pt_uint_t   i;
    in_addr_t   addr;
    pt_cidr_t  *cidr;

    if (sa->sa_family == AF_INET) {
        addr = ((struct sockaddr_in *) sa)->sin_addr.s_addr;
        p = (u_char *) &addr;
        len = 4;

    } else if (sa->sa_family == AF_INET6) {
        p = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        len = 16;
        if (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *) sa)->sin6_addr)) {
            p += 12;
            len = 4;
        }

    } else {
        return 0;
    }

    cidr = proxies->elts;

    for (i = 0; i < proxies->nelts; i++) {
        if ((cidr[i].family == AF_INET) != (len == 4)) {
            continue;
        }

        a = (len == 4) ? (u_char *) &cidr[i].addr : cidr[i].addr6;
        m = (len == 4) ? (u_char *) &cidr[i].mask : cidr[i].mask6;

        for (k = 0; k < len && (p[k] & m[k]) == a[k]; k++) { /* void */ }

        if (k == len) {
            return 1;
        }
    }

    return 0;
}

/*
 * One X-Forwarded-For value, as nginx's ngx_http_get_forwarded_addr_
 * internal(): when *sa is trusted, the last address of the list replaces
 * it; with proxy_recursive, again while the new one is trusted.  PT_OK,
 * PT_DECLINED (*sa not trusted) or PT_ERROR (an entry did not parse; *sa
 * keeps what was found before).
 */
static pt_int_t
pt_http_geo_forwarded(pt_http_geo_t *geo, u_char *xff, size_t len, pt_sockaddr_t *sa)
{
    u_char         *p;
    pt_sockaddr_t   addr;

    for ( ;; ) {
        if (!pt_http_geo_trusted(geo->proxies, &sa->sockaddr)) {
            return PT_DECLINED;
        }

        if (len == 0) {
            return PT_ERROR;
        }

        for (p = xff + len - 1; p > xff && (*p == ' ' || *p == ','); p--, len--) {
            /* void */
        }

        for ( /* void */ ; p > xff; p--) {
            if (*p == ' ' || *p == ',') {
                p++;
                break;
            }
        }

        pt_memzero(&addr, sizeof(pt_sockaddr_t));

        if (pt_http_geo_parse_addr_port(p, len - (p - xff), &addr) != PT_OK) {
            return PT_ERROR;
        }

        *sa = addr;

        if (!geo->proxy_recursive || p == xff) {
            return PT_OK;
        }

        len = p - 1 - xff;
    }
}

/* Every X-Forwarded-For line, the last one first (nginx's order); the
 * next line is looked at only with proxy_recursive, after a success.
 * The last PT_HTTP_GEO_MAX_XFF lines are kept: the nearest proxy adds to
 * the last one, the earlier ones are the client's to forge. */
static void
pt_http_geo_forwarded_lines(pt_http_request_t *r, pt_http_geo_t *geo, pt_sockaddr_t *sa)
{
    pt_uint_t          n, i;
    pt_http_header_t  *h, *lines[PT_HTTP_GEO_MAX_XFF];

    n = 0;

    for (h = r->headers_in.x_forwarded_for; h; h = h->next) {
        lines[n++ % PT_HTTP_GEO_MAX_XFF] = h;
    }

    for (i = 0; i < n && i < PT_HTTP_GEO_MAX_XFF; i++) {
        h = lines[(n - 1 - i) % PT_HTTP_GEO_MAX_XFF];

        if (pt_http_geo_forwarded(geo, h->value.data, h->value.len, sa) != PT_OK
            || !geo->proxy_recursive)
        {
            return;
        }
    }
}

/* The address to look up in sa; PT_ERROR when it is not known. */
static pt_int_t
pt_http_geo_addr(pt_http_request_t *r, pt_http_geo_t *geo, pt_sockaddr_t *sa)
{
    pt_str_t          text;
    pt_connection_t  *c;

    pt_memzero(sa, sizeof(pt_sockaddr_t));

    if (geo->source) {
        if (pt_http_complex_value(r, geo->source, &text) != PT_OK
            || pt_http_geo_parse_addr(text.data, text.len, sa) != PT_OK)
        {
            return PT_ERROR;
        }

    } else {
        c = r->connection;
        pt_memcpy(sa, c->sockaddr, pt_min(c->socklen, (socklen_t) sizeof(pt_sockaddr_t)));
    }

    if (geo->proxies && r->headers_in.x_forwarded_for) {
        pt_http_geo_forwarded_lines(r, geo, sa);
    }

    return PT_OK;
}

/* An IPv4 address (host order) when sa holds one, else INADDR_NONE. */
static in_addr_t
pt_http_geo_inet(pt_sockaddr_t *sa)
{
    u_char  *p;

    if (sa->sockaddr.sa_family == AF_INET) {
        return ntohl(sa->sockaddr_in.sin_addr.s_addr);
    }

    if (sa->sockaddr.sa_family == AF_INET6
        && IN6_IS_ADDR_V4MAPPED(&sa->sockaddr_in6.sin6_addr))
    {
        p = sa->sockaddr_in6.sin6_addr.s6_addr;
        return ((in_addr_t) p[12] << 24) | ((in_addr_t) p[13] << 16)
               | ((in_addr_t) p[14] << 8) | p[15];
    }

    return INADDR_NONE;
}

/* ---- the variables ---- */

static pt_int_t
pt_http_geo_cidr_variable(pt_http_request_t *r, pt_http_variable_value_t *v, uintptr_t data)
{
    pt_http_geo_t *geo = (pt_http_geo_t *) data;

    u_char          key[4];
    in_addr_t       addr;
    pt_sockaddr_t   sa;

    if (pt_http_geo_addr(r, geo, &sa) == PT_OK
        && sa.sockaddr.sa_family == AF_INET6
        && !IN6_IS_ADDR_V4MAPPED(&sa.sockaddr_in6.sin6_addr))
    {
        *v = *pt_http_geo_trie_find(geo->tree6, sa.sockaddr_in6.sin6_addr.s6_addr, 128);
        return PT_OK;
    }

    /* IPv4 (mapped or not); else, failed included, INADDR_NONE */
    addr = htonl(pt_http_geo_inet(&sa));
    pt_memcpy(key, &addr, 4);

    /* the root holds the default, so there is always a value */
    *v = *pt_http_geo_trie_find(geo->tree, key, 32);

    return PT_OK;
}

static pt_int_t
pt_http_geo_range_variable(pt_http_request_t *r, pt_http_variable_value_t *v, uintptr_t data)
{
    pt_http_geo_t *geo = (pt_http_geo_t *) data;

    in_addr_t       addr;
    pt_sockaddr_t   sa;

    addr = (pt_http_geo_addr(r, geo, &sa) == PT_OK) ? pt_http_geo_inet(&sa) : INADDR_NONE;

    *v = *pt_http_geo_ranges_find(&geo->ranges, addr);

    return PT_OK;
}

/* ---- configuration ---- */

/* See pt_http_geo.h. */
pt_http_variable_value_t *
pt_http_geo_value(pt_conf_t *cf, pt_str_t *text)
{
    pt_http_variable_value_t  *var;

    var = pt_pcalloc(cf->pool, sizeof(pt_http_variable_value_t));
    if (var == NULL) {
        return NULL;
    }

    var->len = text->len;
    var->data = text->data;
    var->valid = 1;

    return var;
}

/* nginx's ngx_http_geo_cidr_value(): 255.255.255.255 is taken as such
 * (pt_ptocidr() cannot tell it from an error), the rest by pt_ptocidr()
 * with its messages. */
static pt_int_t
pt_http_geo_cidr(pt_conf_t *cf, pt_str_t *net, pt_cidr_t *cidr)
{
    pt_int_t  rc;

    pt_memzero(cidr, sizeof(pt_cidr_t));

    if (pt_str_eq_lit(net, "255.255.255.255")) {
        cidr->family = AF_INET;
        cidr->addr = 0xffffffff;
        cidr->mask = 0xffffffff;
        return PT_OK;
    }

    rc = pt_ptocidr(net, cidr);

    if (rc == PT_ERROR) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid network \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*net));
        return PT_ERROR;
    }

    if (rc == PT_DONE) {
        pt_conf_log_error(PT_LOG_WARN, cf, 0, "low address bits of " PT_STR_FMT
                          " are meaningless", PT_STR_ARG(*net));
    }

    return PT_OK;
}

/* The trie, key and prefix length of cidr. */
static pt_http_geo_node_t *
pt_http_geo_cidr_key(pt_http_geo_t *geo, pt_cidr_t *cidr, u_char **key, pt_uint_t *prefix)
{
    if (cidr->family == AF_INET6) {
        *key = cidr->addr6;
        *prefix = pt_http_geo_prefix(cidr->mask6, 16);
        return geo->tree6;
    }

    *key = (u_char *) &cidr->addr;
    *prefix = pt_http_geo_prefix((u_char *) &cidr->mask, 4);

    return geo->tree;
}

/* Adds a network; one given twice takes the new value, with nginx's
 * warning (whose "old value" is the lookup of the address, as nginx's). */
static char *
pt_http_geo_cidr_add(pt_conf_t *cf, pt_http_geo_t *geo, pt_cidr_t *cidr, pt_str_t *text,
    pt_str_t *net)
{
    u_char                    *key;
    pt_uint_t                  prefix;
    pt_http_geo_node_t        *root, *node;
    pt_http_variable_value_t  *value, *old;

    value = pt_http_geo_value(cf, text);
    if (value == NULL) {
        return PT_CONF_ERROR;
    }

    root = pt_http_geo_cidr_key(geo, cidr, &key, &prefix);

    node = pt_http_geo_trie_node(cf->pool, root, key, prefix, 1);
    if (node == NULL) {
        return PT_CONF_ERROR;
    }

    if (node->value) {
        old = pt_http_geo_trie_find(root, key, (cidr->family == AF_INET6) ? 128 : 32);
        pt_conf_log_error(PT_LOG_WARN, cf, 0, "duplicate network \"" PT_STR_FMT
                          "\", value: \"" PT_STR_FMT "\", old value: \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*net), PT_STR_ARG(*value), PT_STR_ARG(*old));
    }

    node->value = value;

    return PT_CONF_OK;
}

/* "NETWORK VALUE;", "default VALUE;" or "delete NETWORK;". */
static char *
pt_http_geo_cidr_line(pt_conf_t *cf, pt_http_geo_conf_ctx_t *ctx, pt_str_t *value)
{
    char                *rv;
    u_char              *key;
    pt_str_t            *net;
    pt_uint_t            prefix, del;
    pt_cidr_t            cidr;
    pt_http_geo_node_t  *node;

    ctx->networks = 1;

    if (pt_str_eq_lit(&value[0], "default")) {
        pt_memzero(&cidr, sizeof(pt_cidr_t));
        cidr.family = AF_INET;

        rv = pt_http_geo_cidr_add(cf, ctx->geo, &cidr, &value[1], &value[0]);
        if (rv != PT_CONF_OK) {
            return rv;
        }

        cidr.family = AF_INET6;

        return pt_http_geo_cidr_add(cf, ctx->geo, &cidr, &value[1], &value[0]);
    }

    del = pt_str_eq_lit(&value[0], "delete");
    net = del ? &value[1] : &value[0];

    if (pt_http_geo_cidr(cf, net, &cidr) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (!del) {
        return pt_http_geo_cidr_add(cf, ctx->geo, &cidr, &value[1], net);
    }

    node = pt_http_geo_cidr_key(ctx->geo, &cidr, &key, &prefix);
    node = pt_http_geo_trie_node(cf->pool, node, key, prefix, 0);

    if (node == NULL || node->value == NULL) {
        pt_conf_log_error(PT_LOG_WARN, cf, 0, "no network \"" PT_STR_FMT "\" to delete",
                          PT_STR_ARG(*net));
        return PT_CONF_OK;
    }

    node->value = NULL;

    return PT_CONF_OK;
}

/* "proxy NETWORK;" */
static char *
pt_http_geo_proxy(pt_conf_t *cf, pt_http_geo_t *geo, pt_str_t *net)
{
    pt_cidr_t  *cidr;

    if (geo->proxies == NULL) {
        geo->proxies = pt_array_create(cf->pool, 4, sizeof(pt_cidr_t));
        if (geo->proxies == NULL) {
            return PT_CONF_ERROR;
        }
    }

    cidr = pt_array_push(geo->proxies);
    if (cidr == NULL) {
        return PT_CONF_ERROR;
    }

    return (pt_http_geo_cidr(cf, net, cidr) == PT_OK) ? PT_CONF_OK : PT_CONF_ERROR;
}

/* One line of geo {} (the parser's handler while the block is read). */
static char *
pt_http_geo_line(pt_conf_t *cf, pt_command_t *dummy, void *conf)
{
    pt_http_geo_conf_ctx_t *ctx = conf;

    pt_str_t  *value;

    value = cf->args->elts;

    if (cf->args->nelts == 1 && pt_str_eq_lit(&value[0], "ranges")) {
        if (ctx->networks) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "the \"ranges\" directive must be "
                              "the first directive inside \"geo\" block");
            return PT_CONF_ERROR;
        }
        ctx->use_ranges = 1;
        return PT_CONF_OK;
    }

    if (cf->args->nelts == 1 && pt_str_eq_lit(&value[0], "proxy_recursive")) {
        ctx->geo->proxy_recursive = 1;
        return PT_CONF_OK;
    }

    if (cf->args->nelts != 2) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid number of the geo parameters");
        return PT_CONF_ERROR;
    }

    if (pt_str_eq_lit(&value[0], "include")) {
        return pt_conf_include(cf, dummy, conf);
    }

    if (pt_str_eq_lit(&value[0], "proxy")) {
        return pt_http_geo_proxy(cf, ctx->geo, &value[1]);
    }

    if (ctx->use_ranges) {
        return pt_http_geo_range_line(cf, &ctx->ranges, value);
    }

    return pt_http_geo_cidr_line(cf, ctx, value);
}

/* The ADDRESS argument: a string with variables. */
static pt_int_t
pt_http_geo_source(pt_conf_t *cf, pt_http_geo_t *geo, pt_str_t *text)
{
    pt_http_compile_complex_value_t  ccv;

    geo->source = pt_palloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (geo->source == NULL) {
        return PT_ERROR;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = text;
    ccv.complex_value = geo->source;

    return pt_http_compile_complex_value(&ccv);
}

/* After the block: the tries get an empty default when none was given;
 * the ranges move to the cycle pool. */
static char *
pt_http_geo_finish(pt_conf_t *cf, pt_http_geo_conf_ctx_t *ctx, pt_http_variable_t *var)
{
    pt_http_geo_t  *geo;

    geo = ctx->geo;

    if (ctx->use_ranges) {
        var->get_handler = pt_http_geo_range_variable;
        return (pt_http_geo_ranges_done(cf, &ctx->ranges, &geo->ranges) == PT_OK)
               ? PT_CONF_OK : PT_CONF_ERROR;
    }

    var->get_handler = pt_http_geo_cidr_variable;

    if (geo->tree->value == NULL) {
        geo->tree->value = &pt_http_variable_null_value;
    }

    if (geo->tree6->value == NULL) {
        geo->tree6->value = &pt_http_variable_null_value;
    }

    return PT_CONF_OK;
}

/* "geo [ADDRESS] $name { ... }" */
static char *
pt_http_geo_block(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char                    *rv;
    pt_str_t                *value, name;
    pt_conf_t                save;
    pt_http_geo_t           *geo;
    pt_http_variable_t      *var;
    pt_http_geo_conf_ctx_t   ctx;

    value = cf->args->elts;

    geo = pt_pcalloc(cf->pool, sizeof(pt_http_geo_t));
    if (geo == NULL) {
        return PT_CONF_ERROR;
    }

    name = value[1];

    if (cf->args->nelts == 3) {
        if (pt_http_geo_source(cf, geo, &value[1]) != PT_OK) {
            return PT_CONF_ERROR;
        }
        name = value[2];
    }

    if (pt_http_variable_arg(cf, &name, &name) != PT_OK) {
        return PT_CONF_ERROR;
    }

    var = pt_http_add_variable(cf, &name, PT_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return PT_CONF_ERROR;
    }

    var->data = (uintptr_t) geo;

    geo->tree = pt_pcalloc(cf->pool, sizeof(pt_http_geo_node_t));
    geo->tree6 = pt_pcalloc(cf->pool, sizeof(pt_http_geo_node_t));
    if (geo->tree == NULL || geo->tree6 == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&ctx, sizeof(pt_http_geo_conf_ctx_t));
    ctx.geo = geo;

    save = *cf;
    cf->handler = pt_http_geo_line;
    cf->handler_conf = &ctx;

    rv = pt_conf_parse(cf, NULL);

    *cf = save;

    if (rv != PT_CONF_OK) {
        return rv;
    }

    return pt_http_geo_finish(cf, &ctx, var);
}
