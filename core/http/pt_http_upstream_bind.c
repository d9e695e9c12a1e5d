/*
 * pt_http_upstream_bind.c: proxy_bind, the local address of upstream
 * connections.
 *
 * The address is numeric, as nginx's: "192.0.2.1", "192.0.2.1:8000",
 * "::1" or "[::1]:8000" (no host names: a lookup per request would block).
 * With variables it is evaluated per request; an empty result means "do
 * not bind", which lets a map choose per client.  "transparent" binds to
 * a non-local address with IP_TRANSPARENT, which needs CAP_NET_ADMIN in
 * the worker (see portico.conf(5)).
 */

#include "pt_http.h"

static pt_int_t pt_http_upstream_parse_local(pt_pool_t *pool, pt_addr_t *addr,
    u_char *text, size_t len);
static pt_int_t pt_http_upstream_parse_ip(pt_sockaddr_t *sa, socklen_t *socklen,
    u_char *text, size_t len);

char *
pt_http_upstream_bind_set_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_int_t                           rc;
    pt_str_t                          *value;
    pt_http_upstream_local_t          *local, **plocal;
    pt_http_compile_complex_value_t    ccv;

    plocal = (pt_http_upstream_local_t **) ((char *) conf + cmd->offset);

    if (*plocal != PT_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && pt_str_eq_lit(&value[1], "off")) {
        *plocal = NULL;
        return PT_CONF_OK;
    }

    local = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_local_t));
    if (local == NULL) {
        return PT_CONF_ERROR;
    }

    if (pt_http_script_variables_count(&value[1])) {
        local->value = pt_pcalloc(cf->pool, sizeof(pt_http_complex_value_t));
        if (local->value == NULL) {
            return PT_CONF_ERROR;
        }

        pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.complex_value = local->value;

        if (pt_http_compile_complex_value(&ccv) != PT_OK) {
            return PT_CONF_ERROR;
        }

    } else {
        local->addr = pt_pcalloc(cf->pool, sizeof(pt_addr_t));
        if (local->addr == NULL) {
            return PT_CONF_ERROR;
        }

        rc = pt_http_upstream_parse_local(cf->pool, local->addr, value[1].data,
                                          value[1].len);
        if (rc == PT_ERROR) {
            return PT_CONF_ERROR;
        }

        if (rc == PT_DECLINED) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid address \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

        local->addr->name = value[1];
    }

    if (cf->args->nelts > 2) {
        if (!pt_str_eq_lit(&value[2], "transparent")) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[2]));
            return PT_CONF_ERROR;
        }
        local->transparent = 1;
    }

    *plocal = local;

    return PT_CONF_OK;
}


pt_int_t
pt_http_upstream_set_local(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_int_t                   rc;
    pt_str_t                   val;
    pt_addr_t                 *addr;
    pt_http_upstream_local_t  *local;

    u->peer.so_keepalive = (u->conf->socket_keepalive == 1);
    u->peer.local = NULL;
    u->peer.transparent = 0;

    local = u->conf->local;

    if (local == NULL) {
        return PT_OK;
    }

    u->peer.transparent = local->transparent;

    if (local->value == NULL) {
        u->peer.local = local->addr;
        return PT_OK;
    }

    if (pt_http_complex_value(r, local->value, &val) != PT_OK) {
        return PT_ERROR;
    }

    if (val.len == 0) {
        return PT_OK;
    }

    /* only with variables: the address lives as long as the request */
    addr = pt_palloc(r->pool, sizeof(pt_addr_t));
    if (addr == NULL) {
        return PT_ERROR;
    }

    rc = pt_http_upstream_parse_local(r->pool, addr, val.data, val.len);

    if (rc == PT_ERROR) {
        return PT_ERROR;
    }

    if (rc != PT_OK) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "invalid local address \"" PT_STR_FMT "\"", PT_STR_ARG(val));
        return PT_OK;
    }

    addr->name = val;
    u->peer.local = addr;

    return PT_OK;
}


/*
 * "addr" or "addr:port" (port 1..65535), IPv6 also "[addr]:port", as
 * nginx's ngx_parse_addr_port(): a text whose part after the last ':' is
 * not a number is taken whole (a bare IPv6 address).  PT_OK, PT_DECLINED
 * for bad text, PT_ERROR without memory.
 */
static pt_int_t
pt_http_upstream_parse_local(pt_pool_t *pool, pt_addr_t *addr, u_char *text,
    size_t len)
{
    u_char         *last, *p, *colon;
    pt_int_t        port;
    socklen_t       socklen;
    pt_sockaddr_t   sa;

    last = text + len;

    p = pt_strlchr(text, last, ']');
    colon = pt_strlchr(p ? p : text, last, ':');
    port = 0;

    if (colon) {
        port = pt_atoi(colon + 1, last - colon - 1);
    }

    if (colon == NULL || port == PT_ERROR) {
        port = 0;

    } else {
        if (port < 1 || port > 65535) {
            return PT_DECLINED;
        }

        len = colon - text;

        if (len > 2 && text[0] == '[' && text[len - 1] == ']') {
            text++;
            len -= 2;
        }
    }

    if (pt_http_upstream_parse_ip(&sa, &socklen, text, len) != PT_OK) {
        return PT_DECLINED;
    }

    pt_inet_set_port(&sa.sockaddr, (in_port_t) port);

    addr->sockaddr = pt_palloc(pool, socklen);
    if (addr->sockaddr == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(addr->sockaddr, &sa, socklen);
    addr->socklen = socklen;

    return PT_OK;
}


/* A numeric IPv4 or IPv6 address (no brackets, no port). */
static pt_int_t
pt_http_upstream_parse_ip(pt_sockaddr_t *sa, socklen_t *socklen, u_char *text,
    size_t len)
{
    char  buf[PT_INET6_ADDRSTRLEN + 1];

    if (len == 0 || len >= sizeof(buf)) {
        return PT_DECLINED;
    }

    pt_memcpy(buf, text, len);
    buf[len] = '\0';

    pt_memzero(sa, sizeof(pt_sockaddr_t));

    if (inet_pton(AF_INET, buf, &sa->sockaddr_in.sin_addr) == 1) {
        sa->sockaddr_in.sin_family = AF_INET;
        *socklen = sizeof(struct sockaddr_in);
        return PT_OK;
    }

    if (inet_pton(AF_INET6, buf, &sa->sockaddr_in6.sin6_addr) == 1) {
        sa->sockaddr_in6.sin6_family = AF_INET6;
        *socklen = sizeof(struct sockaddr_in6);
        return PT_OK;
    }

    return PT_DECLINED;
}
