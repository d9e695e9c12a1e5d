/*
 * pt_http_upstream_round_robin.h: the peers of an upstream group, the
 * default balancer (smooth weighted round robin) and passive health.
 *
 * Every balancer shares these structures: the other balancers pick a peer
 * their own way and leave failure accounting, backups and max_conns to the
 * functions here.  With "zone" the peers live in shared memory and every
 * access happens under the group's lock; without it they are the worker's
 * own and the lock is a no-op.
 */

#ifndef PT_HTTP_UPSTREAM_ROUND_ROBIN_H
#define PT_HTTP_UPSTREAM_ROUND_ROBIN_H

typedef struct pt_http_upstream_rr_peer_s   pt_http_upstream_rr_peer_t;
typedef struct pt_http_upstream_rr_peers_s  pt_http_upstream_rr_peers_t;

struct pt_http_upstream_rr_peer_s {
    struct sockaddr                *sockaddr;
    socklen_t                       socklen;
    pt_str_t                        name;       /* "127.0.0.1:8081" */
    pt_str_t                        server;     /* as the "server" line wrote it */

    /* smooth weighted round robin: current grows by effective each round,
     * the winner gives back the total */
    pt_int_t                        current_weight;
    pt_int_t                        effective_weight;
    pt_int_t                        weight;

    pt_uint_t                       conns;
    pt_uint_t                       max_conns;

    /* passive health: fails within fail_timeout of checked */
    pt_uint_t                       fails;
    time_t                          accessed;   /* last failure */
    time_t                          checked;    /* last time it was chosen */

    pt_uint_t                       max_fails;
    time_t                          fail_timeout;

    pt_uint_t                       down;

    pt_http_upstream_rr_peer_t     *next;
};

struct pt_http_upstream_rr_peers_s {
    pt_uint_t                       number;

    pt_shmtx_t                      mutex;      /* mutex.mutex NULL: no zone */
    pthread_mutex_t                *lock;       /* in the zone */
    pt_slab_pool_t                 *shpool;

    pt_uint_t                       total_weight;
    pt_uint_t                       tries;

    unsigned                        single:1;   /* one peer, no backup */
    unsigned                        weighted:1;

    pt_str_t                       *name;       /* the group's name */

    pt_http_upstream_rr_peers_t    *next;       /* the backup peers */
    pt_http_upstream_rr_peer_t     *peer;

    pt_http_upstream_rr_peers_t    *zone_next;  /* groups of one zone */
};

/* Per request. */
typedef struct {
    pt_http_upstream_rr_peers_t    *peers;
    pt_http_upstream_rr_peer_t     *current;
    uintptr_t                      *tried;      /* bitmap by peer index */
    uintptr_t                       data;       /* the bitmap when it fits */
} pt_http_upstream_rr_peer_data_t;

static inline void
pt_http_upstream_rr_peers_lock(pt_http_upstream_rr_peers_t *peers)
{
    if (peers->lock) {
        pt_shmtx_lock(&peers->mutex);
    }
}

static inline void
pt_http_upstream_rr_peers_unlock(pt_http_upstream_rr_peers_t *peers)
{
    if (peers->lock) {
        pt_shmtx_unlock(&peers->mutex);
    }
}

#define pt_http_upstream_rr_tried_n(i)  ((i) / (8 * sizeof(uintptr_t)))
#define pt_http_upstream_rr_tried_m(i)  ((uintptr_t) 1 << (i) % (8 * sizeof(uintptr_t)))

/* Whether this request already tried peer i of rrp->peers. */
#define pt_http_upstream_rr_tried(rrp, i)                                   \
    ((rrp)->tried[pt_http_upstream_rr_tried_n(i)] & pt_http_upstream_rr_tried_m(i))

/* Builds the peers of a group (init_upstream of the default balancer). */
pt_int_t pt_http_upstream_init_round_robin(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
/* Per request: the rr data and get/free (init of the default balancer). */
pt_int_t pt_http_upstream_init_round_robin_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
/* A peer for an address that proxy_pass computed at run time. */
pt_int_t pt_http_upstream_create_round_robin_peer(pt_http_request_t *r,
    pt_http_upstream_resolved_t *ur);
pt_int_t pt_http_upstream_get_round_robin_peer(pt_peer_connection_t *pc,
    void *data);
void pt_http_upstream_free_round_robin_peer(pt_peer_connection_t *pc,
    void *data, pt_uint_t state);

/* True when the peer may take a request now (down, failed within
 * fail_timeout, max_conns reached: not). */
pt_uint_t pt_http_upstream_rr_peer_usable(pt_http_upstream_rr_peer_t *peer,
    time_t now);
/* The smooth weighted round robin step over the untried usable peers;
 * NULL when none.  Marks the winner tried.  Pure except for the peers'
 * weights: t/unit/upstream_hash.c drives it directly. */
pt_http_upstream_rr_peer_t *pt_http_upstream_rr_select(
    pt_http_upstream_rr_peer_data_t *rrp, time_t now);
/* Bookkeeping once a balancer chose peer (index i of rrp->peers):
 * tried bit, checked time, conns; fills pc. */
void pt_http_upstream_rr_take(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peer_data_t *rrp, pt_http_upstream_rr_peer_t *peer,
    pt_uint_t i, time_t now);
/* Number of tries a request gets: every primary and backup peer. */
pt_uint_t pt_http_upstream_rr_tries(pt_http_upstream_rr_peers_t *peers);

/* True when peer i of rrp->peers is untried and usable now: the test
 * every balancer puts a candidate to. */
static inline pt_uint_t
pt_http_upstream_rr_available(pt_http_upstream_rr_peer_data_t *rrp,
    pt_http_upstream_rr_peer_t *peer, pt_uint_t i, time_t now)
{
    return !pt_http_upstream_rr_tried(rrp, i)
           && pt_http_upstream_rr_peer_usable(peer, now);
}

/* One smooth weighted round robin step for a candidate: its current
 * weight grows by its effective weight, which itself recovers by one
 * towards weight.  Returns what the candidate adds to the round's total. */
static inline pt_int_t
pt_http_upstream_rr_weigh(pt_http_upstream_rr_peer_t *peer)
{
    pt_int_t  effective;

    effective = peer->effective_weight;

    peer->current_weight += effective;

    if (peer->effective_weight < peer->weight) {
        peer->effective_weight++;
    }

    return effective;
}

/* The start of every get(): no cached connection yet, the peers locked;
 * returns the time to judge them by. */
static inline time_t
pt_http_upstream_rr_begin(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peers_t *peers)
{
    pc->cached = 0;
    pc->connection = NULL;

    pt_http_upstream_rr_peers_lock(peers);

    return pt_time();
}

/* The peer at point w (below total_weight) of the weights laid end to end,
 * in config order; *index is its index.  The hash balancers map a hash to
 * a peer so. */
pt_http_upstream_rr_peer_t *pt_http_upstream_rr_peer_at(
    pt_http_upstream_rr_peers_t *peers, pt_uint_t w, pt_uint_t *index);
/* With rrp->peers locked and none of them usable: the backup group, its
 * peer chosen by get (the balancer's own get()), or PT_BUSY with the lock
 * released and pc->name the group's name. */
pt_int_t pt_http_upstream_rr_try_backup(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peer_data_t *rrp, pt_peer_get_pt get);
/* With rrp->peers locked: a balancer gives up on its own scheme (20
 * fruitless steps) and lets the round robin choose. */
pt_int_t pt_http_upstream_rr_fallback(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peer_data_t *rrp);
/* Config time, after pt_http_upstream_init_round_robin(): PT_ERROR (with
 * nginx's message) when the group has backup servers, which method does
 * not support. */
pt_int_t pt_http_upstream_rr_no_backup(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us, const char *method);
/* The directive of a balancer: makes init the group's init_upstream (a
 * warning when another method was set before) and sets the server
 * parameters the method accepts. */
void pt_http_upstream_rr_set_method(pt_conf_t *cf, pt_http_upstream_init_pt init,
    pt_uint_t flags);

#endif /* PT_HTTP_UPSTREAM_ROUND_ROBIN_H */
