/*
 * pt_http_upstream_random_module.c: "random [two [least_conn]]" in
 * upstream {}.
 *
 * random: a peer drawn with probability proportional to its weight (a
 * binary search in the running sums of the weights).  random two: two
 * distinct peers drawn so, and the one with fewer connections relative to
 * its weight takes the request (power of two choices; least_conn is the
 * only method, and the default).  An unusable draw is drawn again; after
 * 20 draws the round robin chooses.  "backup" is not supported.
 */

#include "pt_http.h"

typedef struct {
    pt_http_upstream_rr_peer_t   *peer;
    pt_uint_t                     range;    /* sum of the weights up to it */
} pt_http_upstream_random_range_t;

typedef struct {
    pt_http_upstream_random_range_t  *ranges;
    pt_uint_t                         two;
} pt_http_upstream_random_srv_conf_t;

typedef struct {
    /* the round robin data first: get/free of the rr work on it */
    pt_http_upstream_rr_peer_data_t      rrp;
    pt_http_upstream_random_srv_conf_t  *conf;
    u_char                               tries;
} pt_http_upstream_random_peer_data_t;

static pt_int_t pt_http_upstream_init_random(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_init_random_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_get_random_peer(pt_peer_connection_t *pc,
    void *data);
static pt_int_t pt_http_upstream_get_random2_peer(pt_peer_connection_t *pc,
    void *data);
static void *pt_http_upstream_random_create_conf(pt_conf_t *cf);
static char *pt_http_upstream_random(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_upstream_random_commands[] = {

    { pt_string("random"),
      PT_HTTP_UPS_CONF|PT_CONF_NOARGS|PT_CONF_TAKE12,
      pt_http_upstream_random, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_random_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    pt_http_upstream_random_create_conf,   /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_random_module = {
    PT_MODULE_V1,
    &pt_http_upstream_random_module_ctx,
    pt_http_upstream_random_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static void *
pt_http_upstream_random_create_conf(pt_conf_t *cf)
{
    return pt_pcalloc(cf->pool, sizeof(pt_http_upstream_random_srv_conf_t));
}

static pt_int_t
pt_http_upstream_init_random(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    pt_uint_t                            i, total;
    pt_http_upstream_rr_peer_t          *peer;
    pt_http_upstream_rr_peers_t         *peers;
    pt_http_upstream_random_srv_conf_t  *rcf;

    if (pt_http_upstream_init_round_robin(cf, us) != PT_OK
        || pt_http_upstream_rr_no_backup(cf, us, "random") != PT_OK)
    {
        return PT_ERROR;
    }

    peers = us->peer.data;

    us->peer.init = pt_http_upstream_init_random_peer;

    rcf = pt_http_conf_upstream_srv_conf(us, pt_http_upstream_random_module);

    rcf->ranges = pt_palloc(cf->pool, peers->number
                                      * sizeof(pt_http_upstream_random_range_t));
    if (rcf->ranges == NULL) {
        return PT_ERROR;
    }

    total = 0;

    for (peer = peers->peer, i = 0; peer; peer = peer->next, i++) {
        total += peer->weight;
        rcf->ranges[i].peer = peer;
        rcf->ranges[i].range = total;
    }

    return PT_OK;
}

static pt_int_t
pt_http_upstream_init_random_peer(pt_http_request_t *r, pt_http_upstream_srv_conf_t *us)
{
    pt_http_upstream_random_peer_data_t  *rp;

    rp = pt_palloc(r->pool, sizeof(pt_http_upstream_random_peer_data_t));
    if (rp == NULL) {
        return PT_ERROR;
    }

    r->upstream->peer.data = &rp->rrp;

    if (pt_http_upstream_init_round_robin_peer(r, us) != PT_OK) {
        return PT_ERROR;
    }

    rp->conf = pt_http_conf_upstream_srv_conf(us, pt_http_upstream_random_module);
    rp->tries = 0;

    r->upstream->peer.get = rp->conf->two ? pt_http_upstream_get_random2_peer
                                          : pt_http_upstream_get_random_peer;

    return PT_OK;
}

/* A peer's index, drawn by weight.  The peers of a zone are copies in the
 * same order, so the index is found in rrp->peers. */
static pt_uint_t
pt_http_upstream_peek_random_peer(pt_http_upstream_rr_peers_t *peers,
    pt_http_upstream_random_srv_conf_t *rcf)
{
    pt_uint_t  i, j, k, x;

    x = (pt_uint_t) random() % peers->total_weight;

    i = 0;
    j = peers->number;

    while (j - i > 1) {
        k = (i + j) / 2;

        if (x < rcf->ranges[k - 1].range) {
            j = k;
        } else {
            i = k;
        }
    }

    return i;
}

static pt_http_upstream_rr_peer_t *
pt_http_upstream_random_nth(pt_http_upstream_rr_peers_t *peers, pt_uint_t n)
{
    pt_http_upstream_rr_peer_t  *peer;

    for (peer = peers->peer; n; n--) {
        peer = peer->next;
    }

    return peer;
}

static pt_int_t
pt_http_upstream_get_random_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_random_peer_data_t  *rp = data;

    time_t                        now;
    pt_uint_t                     x;
    pt_http_upstream_rr_peer_t   *peer;
    pt_http_upstream_rr_peers_t  *peers;

    peers = rp->rrp.peers;

    if (rp->tries > 20 || peers->single) {
        return pt_http_upstream_get_round_robin_peer(pc, &rp->rrp);
    }

    now = pt_http_upstream_rr_begin(pc, peers);

    for ( ;; ) {
        x = pt_http_upstream_peek_random_peer(peers, rp->conf);
        peer = pt_http_upstream_random_nth(peers, x);

        if (pt_http_upstream_rr_available(&rp->rrp, peer, x, now)) {
            break;
        }

        if (++rp->tries > 20) {
            return pt_http_upstream_rr_fallback(pc, &rp->rrp);
        }
    }

    pt_http_upstream_rr_take(pc, &rp->rrp, peer, x, now);

    pt_http_upstream_rr_peers_unlock(peers);

    return PT_OK;
}

static pt_int_t
pt_http_upstream_get_random2_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_random_peer_data_t  *rp = data;

    time_t                        now;
    pt_uint_t                     x, y;
    pt_http_upstream_rr_peer_t   *peer, *prev;
    pt_http_upstream_rr_peers_t  *peers;

    peers = rp->rrp.peers;

    if (rp->tries > 20 || peers->number < 2) {
        return pt_http_upstream_get_round_robin_peer(pc, &rp->rrp);
    }

    now = pt_http_upstream_rr_begin(pc, peers);

    prev = NULL;
    y = 0;

    for ( ;; ) {
        x = pt_http_upstream_peek_random_peer(peers, rp->conf);
        peer = pt_http_upstream_random_nth(peers, x);

        if (peer != prev && pt_http_upstream_rr_available(&rp->rrp, peer, x, now)) {
            if (prev) {
                break;
            }

            prev = peer;
            y = x;
        }

        if (++rp->tries > 20) {
            if (prev) {
                /* one usable draw: it takes the request */
                peer = prev;
                x = y;
                break;
            }

            return pt_http_upstream_rr_fallback(pc, &rp->rrp);
        }
    }

    /* least_conn between the two */
    if (prev != peer && prev->conns * peer->weight <= peer->conns * prev->weight) {
        peer = prev;
        x = y;
    }

    pt_http_upstream_rr_take(pc, &rp->rrp, peer, x, now);

    pt_http_upstream_rr_peers_unlock(peers);

    return PT_OK;
}

static char *
pt_http_upstream_random(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_upstream_random_srv_conf_t  *rcf = conf;

    pt_str_t  *value;

    value = cf->args->elts;

    if (cf->args->nelts > 1) {
        if (!pt_str_eq_lit(&value[1], "two")) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"",
                              value[1].data);
            return PT_CONF_ERROR;
        }

        rcf->two = 1;

        if (cf->args->nelts == 3 && !pt_str_eq_lit(&value[2], "least_conn")) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"",
                              value[2].data);
            return PT_CONF_ERROR;
        }
    }

    pt_http_upstream_rr_set_method(cf, pt_http_upstream_init_random,
                                   PT_HTTP_UPSTREAM_CREATE
                                   |PT_HTTP_UPSTREAM_WEIGHT
                                   |PT_HTTP_UPSTREAM_MAX_CONNS
                                   |PT_HTTP_UPSTREAM_MAX_FAILS
                                   |PT_HTTP_UPSTREAM_FAIL_TIMEOUT
                                   |PT_HTTP_UPSTREAM_DOWN);

    return PT_CONF_OK;
}
