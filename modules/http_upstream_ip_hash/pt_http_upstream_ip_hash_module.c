/*
 * pt_http_upstream_ip_hash_module.c: "ip_hash" in upstream {}.
 *
 * nginx's scheme: the client's address (the first three octets of IPv4,
 * so a /24 stays together; all sixteen of IPv6) hashed as
 * h = (h * 113 + byte) % 6271 from 89, the result picking a point in the
 * total weight.  An unusable peer hashes the address again on top of the
 * previous value; after 20 steps, or for a client that is not an IP
 * (a unix socket), the round robin chooses.  "backup" is not supported.
 */

#include "pt_http.h"

typedef struct {
    /* the round robin data first: get/free of the rr work on it */
    pt_http_upstream_rr_peer_data_t   rrp;
    pt_uint_t                         hash;
    u_char                            addrlen;
    u_char                           *addr;
    u_char                            tries;
} pt_http_upstream_ip_hash_peer_data_t;

static pt_int_t pt_http_upstream_init_ip_hash(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_init_ip_hash_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_get_ip_hash_peer(pt_peer_connection_t *pc,
    void *data);
static char *pt_http_upstream_ip_hash(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_upstream_ip_hash_commands[] = {

    { pt_string("ip_hash"),
      PT_HTTP_UPS_CONF|PT_CONF_NOARGS,
      pt_http_upstream_ip_hash, 0, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_ip_hash_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_ip_hash_module = {
    PT_MODULE_V1,
    &pt_http_upstream_ip_hash_module_ctx,
    pt_http_upstream_ip_hash_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static u_char  pt_http_upstream_ip_hash_pseudo_addr[3];

static pt_int_t
pt_http_upstream_init_ip_hash(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    if (pt_http_upstream_init_round_robin(cf, us) != PT_OK
        || pt_http_upstream_rr_no_backup(cf, us, "ip_hash") != PT_OK)
    {
        return PT_ERROR;
    }

    us->peer.init = pt_http_upstream_init_ip_hash_peer;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_init_ip_hash_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us)
{
    struct sockaddr_in                    *sin;
    struct sockaddr_in6                   *sin6;
    pt_http_upstream_ip_hash_peer_data_t  *iphp;

    iphp = pt_palloc(r->pool, sizeof(pt_http_upstream_ip_hash_peer_data_t));
    if (iphp == NULL) {
        return PT_ERROR;
    }

    r->upstream->peer.data = &iphp->rrp;

    if (pt_http_upstream_init_round_robin_peer(r, us) != PT_OK) {
        return PT_ERROR;
    }

    r->upstream->peer.get = pt_http_upstream_get_ip_hash_peer;

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        iphp->addr = (u_char *) &sin->sin_addr.s_addr;
        iphp->addrlen = 3;
        break;

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        iphp->addr = (u_char *) &sin6->sin6_addr.s6_addr;
        iphp->addrlen = 16;
        break;

    default:
        iphp->addr = pt_http_upstream_ip_hash_pseudo_addr;
        iphp->addrlen = 3;
    }

    iphp->hash = 89;
    iphp->tries = 0;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_get_ip_hash_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_ip_hash_peer_data_t  *iphp = data;

    time_t                        now;
    pt_uint_t                     i, p, hash;
    pt_http_upstream_rr_peer_t   *peer;
    pt_http_upstream_rr_peers_t  *peers;

    peers = iphp->rrp.peers;

    if (iphp->tries > 20 || peers->single) {
        return pt_http_upstream_get_round_robin_peer(pc, &iphp->rrp);
    }

    now = pt_http_upstream_rr_begin(pc, peers);

    hash = iphp->hash;

    for ( ;; ) {
        for (i = 0; i < iphp->addrlen; i++) {
            hash = (hash * 113 + iphp->addr[i]) % 6271;
        }

        peer = pt_http_upstream_rr_peer_at(peers, hash % peers->total_weight, &p);

        if (pt_http_upstream_rr_available(&iphp->rrp, peer, p, now)) {
            break;
        }

        if (++iphp->tries > 20) {
            return pt_http_upstream_rr_fallback(pc, &iphp->rrp);
        }
    }

    pt_http_upstream_rr_take(pc, &iphp->rrp, peer, p, now);

    pt_http_upstream_rr_peers_unlock(peers);

    iphp->hash = hash;

    return PT_OK;
}

static char *
pt_http_upstream_ip_hash(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_upstream_rr_set_method(cf, pt_http_upstream_init_ip_hash,
                                   PT_HTTP_UPSTREAM_CREATE
                                   |PT_HTTP_UPSTREAM_WEIGHT
                                   |PT_HTTP_UPSTREAM_MAX_CONNS
                                   |PT_HTTP_UPSTREAM_MAX_FAILS
                                   |PT_HTTP_UPSTREAM_FAIL_TIMEOUT
                                   |PT_HTTP_UPSTREAM_DOWN);

    return PT_CONF_OK;
}
