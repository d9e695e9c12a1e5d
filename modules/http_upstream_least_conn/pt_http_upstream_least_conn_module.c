/*
 * pt_http_upstream_least_conn_module.c: "least_conn" in upstream {}.
 *
 * A request goes to the usable peer with the fewest active connections
 * relative to its weight (conns / weight, compared by cross-multiplying);
 * among equals the smooth weighted round robin decides.  Passive health,
 * max_conns and backups are the round robin's (the backup group is chosen
 * the same way).  With "zone" the connection counts are the whole
 * server's, across workers.
 */

#include "pt_http.h"

static pt_int_t pt_http_upstream_init_least_conn(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_init_least_conn_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_get_least_conn_peer(pt_peer_connection_t *pc,
    void *data);
static char *pt_http_upstream_least_conn(pt_conf_t *cf, pt_command_t *cmd,
    void *conf);

static pt_command_t  pt_http_upstream_least_conn_commands[] = {

    { pt_string("least_conn"),
      PT_HTTP_UPS_CONF|PT_CONF_NOARGS,
      pt_http_upstream_least_conn, 0, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_least_conn_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_least_conn_module = {
    PT_MODULE_V1,
    &pt_http_upstream_least_conn_module_ctx,
    pt_http_upstream_least_conn_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_int_t
pt_http_upstream_init_least_conn(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    if (pt_http_upstream_init_round_robin(cf, us) != PT_OK) {
        return PT_ERROR;
    }

    us->peer.init = pt_http_upstream_init_least_conn_peer;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_init_least_conn_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us)
{
    if (pt_http_upstream_init_round_robin_peer(r, us) != PT_OK) {
        return PT_ERROR;
    }

    r->upstream->peer.get = pt_http_upstream_get_least_conn_peer;

    return PT_OK;
}

/* conns/weight of a against b: <0, 0, >0 */
#define pt_lc_cmp(a, b)                                                     \
    ((pt_int_t) ((a)->conns * (b)->weight) - (pt_int_t) ((b)->conns * (a)->weight))

/* With the lock held: the least loaded usable peer, round robin among
 * equals; NULL when none. */
static pt_http_upstream_rr_peer_t *
pt_http_upstream_least_conn_select(pt_http_upstream_rr_peer_data_t *rrp,
    time_t now, pt_uint_t *index)
{
    pt_int_t                     total;
    pt_uint_t                    i, p, many;
    pt_http_upstream_rr_peer_t  *peer, *best;

    best = NULL;
    many = 0;
    p = 0;

    for (peer = rrp->peers->peer, i = 0; peer; peer = peer->next, i++) {

        if (!pt_http_upstream_rr_available(rrp, peer, i, now)) {
            continue;
        }

        if (best == NULL || pt_lc_cmp(peer, best) < 0) {
            best = peer;
            many = 0;
            p = i;

        } else if (pt_lc_cmp(peer, best) == 0) {
            many = 1;
        }
    }

    if (best == NULL || !many) {
        *index = p;
        return best;
    }

    /* several share the least load: smooth weighted round robin */

    total = 0;

    for (peer = best, i = p; peer; peer = peer->next, i++) {

        if (!pt_http_upstream_rr_available(rrp, peer, i, now)
            || pt_lc_cmp(peer, best) != 0)
        {
            continue;
        }

        total += pt_http_upstream_rr_weigh(peer);

        if (peer->current_weight > best->current_weight) {
            best = peer;
            p = i;
        }
    }

    best->current_weight -= total;

    *index = p;

    return best;
}

static pt_int_t
pt_http_upstream_get_least_conn_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_rr_peer_data_t  *rrp = data;

    time_t                        now;
    pt_uint_t                     p;
    pt_http_upstream_rr_peer_t   *best;
    pt_http_upstream_rr_peers_t  *peers;

    peers = rrp->peers;
    now = pt_http_upstream_rr_begin(pc, peers);

    best = pt_http_upstream_least_conn_select(rrp, now, &p);

    if (best) {
        pt_http_upstream_rr_take(pc, rrp, best, p, now);
        pt_http_upstream_rr_peers_unlock(peers);
        return PT_OK;
    }

    /* the backups, chosen the same way */
    return pt_http_upstream_rr_try_backup(pc, rrp,
                                          pt_http_upstream_get_least_conn_peer);
}

static char *
pt_http_upstream_least_conn(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_upstream_rr_set_method(cf, pt_http_upstream_init_least_conn,
                                   PT_HTTP_UPSTREAM_CREATE
                                   |PT_HTTP_UPSTREAM_WEIGHT
                                   |PT_HTTP_UPSTREAM_MAX_CONNS
                                   |PT_HTTP_UPSTREAM_MAX_FAILS
                                   |PT_HTTP_UPSTREAM_FAIL_TIMEOUT
                                   |PT_HTTP_UPSTREAM_DOWN
                                   |PT_HTTP_UPSTREAM_BACKUP);

    return PT_CONF_OK;
}
