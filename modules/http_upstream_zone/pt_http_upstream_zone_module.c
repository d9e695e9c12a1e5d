/*
 * pt_http_upstream_zone_module.c: "zone NAME [SIZE]" in upstream {}.
 *
 * The peers of the group (failure counts, the round robin's weights,
 * active connections for max_conns and least_conn) move into a shared
 * memory zone, so every worker sees and updates the same state under the
 * group's lock.  Several groups may share one zone; "zone NAME" without a
 * size names a zone another group sized.
 *
 * Across a reload (same zone name, size) the state survives: a group whose
 * server list is unchanged keeps its peers in place (the new settings of
 * weight, max_fails, fail_timeout, max_conns and down are applied to
 * them), so old and new workers share one state while the old ones
 * finish; a group whose list changed gets new peers that take over the
 * state of the servers that remained.  nginx starts such a zone afresh.
 *
 * The zone's root (its list of groups) is the slab pool's data.
 */

#include "pt_http.h"

typedef struct pt_http_upstream_zone_group_s  pt_http_upstream_zone_group_t;

struct pt_http_upstream_zone_group_s {
    pt_str_t                         name;
    pt_http_upstream_rr_peers_t     *peers;
    pt_http_upstream_zone_group_t   *next;
};

static char *pt_http_upstream_zone(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static pt_int_t pt_http_upstream_init_zone(pt_shm_zone_t *shm_zone, void *data);

static pt_command_t  pt_http_upstream_zone_commands[] = {

    { pt_string("zone"),
      PT_HTTP_UPS_CONF|PT_CONF_TAKE12,
      pt_http_upstream_zone, 0, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_zone_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_zone_module = {
    PT_MODULE_V1,
    &pt_http_upstream_zone_module_ctx,
    pt_http_upstream_zone_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static char *
pt_http_upstream_zone(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    ssize_t                        size;
    pt_str_t                      *value;
    pt_http_upstream_srv_conf_t   *uscf;
    pt_http_upstream_main_conf_t  *umcf;

    uscf = pt_http_conf_get_module_srv_conf(cf, pt_http_upstream_module);
    umcf = pt_http_conf_get_module_main_conf(cf, pt_http_upstream_module);

    if (uscf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid zone name \"%s\"", value[1].data);
        return PT_CONF_ERROR;
    }

    size = 0;

    if (cf->args->nelts == 3) {
        size = pt_parse_size(&value[2]);

        if (size == PT_ERROR) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid zone size \"%s\"",
                              value[2].data);
            return PT_CONF_ERROR;
        }

        if (size < (ssize_t) (8 * pt_pagesize)) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "zone \"%s\" is too small",
                              value[1].data);
            return PT_CONF_ERROR;
        }
    }

    uscf->shm_zone = pt_shared_memory_add(cf, &value[1], size,
                                          &pt_http_upstream_zone_module);
    if (uscf->shm_zone == NULL) {
        return PT_CONF_ERROR;
    }

    uscf->shm_zone->init = pt_http_upstream_init_zone;
    uscf->shm_zone->data = umcf;

    return PT_CONF_OK;
}

/* ---- copying into the zone ---- */

static u_char *
pt_http_upstream_zone_strdup(pt_slab_pool_t *shpool, pt_str_t *dst, pt_str_t *src)
{
    dst->data = pt_slab_alloc_locked(shpool, src->len ? src->len : 1);
    if (dst->data == NULL) {
        return NULL;
    }

    pt_memcpy(dst->data, src->data, src->len);
    dst->len = src->len;

    return dst->data;
}

/* The old peer at the same address, to take its state over. */
static pt_http_upstream_rr_peer_t *
pt_http_upstream_zone_old_peer(pt_http_upstream_rr_peers_t *old,
    pt_http_upstream_rr_peer_t *peer)
{
    pt_http_upstream_rr_peer_t  *p;

    for ( /* void */ ; old; old = old->next) {
        for (p = old->peer; p; p = p->next) {
            if (pt_cmp_sockaddr(p->sockaddr, p->socklen, peer->sockaddr,
                                peer->socklen, 1) == PT_OK)
            {
                return p;
            }
        }
    }

    return NULL;
}

/* The passive health state of old into peer (fresh weights stay). */
static void
pt_http_upstream_zone_take_state(pt_http_upstream_rr_peer_t *peer,
    pt_http_upstream_rr_peer_t *old)
{
    peer->fails = old->fails;
    peer->accessed = old->accessed;
    peer->checked = old->checked;
    peer->current_weight = old->current_weight;
    peer->effective_weight = pt_min(old->effective_weight, peer->weight);
}

static pt_http_upstream_rr_peers_t *
pt_http_upstream_zone_copy_peers(pt_slab_pool_t *shpool,
    pt_http_upstream_rr_peers_t *src, pt_http_upstream_rr_peers_t *old,
    pt_str_t *name, pthread_mutex_t *lock)
{
    pt_http_upstream_rr_peer_t   *peer, *sp, *op, **peerp;
    pt_http_upstream_rr_peers_t  *peers;

    peers = pt_slab_calloc_locked(shpool, sizeof(pt_http_upstream_rr_peers_t));
    if (peers == NULL) {
        return NULL;
    }

    *peers = *src;

    peers->name = (pt_str_t *) name;
    peers->shpool = shpool;
    peers->lock = lock;
    peers->mutex.mutex = lock;
    peers->next = NULL;
    peers->zone_next = NULL;

    peerp = &peers->peer;

    for (sp = src->peer; sp; sp = sp->next) {
        peer = pt_slab_calloc_locked(shpool, sizeof(pt_http_upstream_rr_peer_t));
        if (peer == NULL) {
            return NULL;
        }

        *peer = *sp;
        peer->next = NULL;

        peer->sockaddr = pt_slab_alloc_locked(shpool, sp->socklen);
        if (peer->sockaddr == NULL
            || pt_http_upstream_zone_strdup(shpool, &peer->name, &sp->name) == NULL
            || pt_http_upstream_zone_strdup(shpool, &peer->server, &sp->server) == NULL)
        {
            return NULL;
        }

        pt_memcpy(peer->sockaddr, sp->sockaddr, sp->socklen);

        op = pt_http_upstream_zone_old_peer(old, peer);
        if (op) {
            pt_http_upstream_zone_take_state(peer, op);
        }

        *peerp = peer;
        peerp = &peer->next;
    }

    return peers;
}

/* The same servers, in the same order, as before. */
static pt_uint_t
pt_http_upstream_zone_same(pt_http_upstream_rr_peers_t *a,
    pt_http_upstream_rr_peers_t *b)
{
    pt_http_upstream_rr_peer_t  *pa, *pb;

    for ( /* void */ ; a && b; a = a->next, b = b->next) {
        if (a->number != b->number) {
            return 0;
        }

        for (pa = a->peer, pb = b->peer; pa && pb; pa = pa->next, pb = pb->next) {
            if (pt_cmp_sockaddr(pa->sockaddr, pa->socklen, pb->sockaddr,
                                pb->socklen, 1) != PT_OK
                || pa->server.len != pb->server.len
                || pt_memcmp(pa->server.data, pb->server.data, pa->server.len) != 0)
            {
                return 0;
            }
        }
    }

    return a == NULL && b == NULL;
}

/* An unchanged group after a reload: the new settings, the old state. */
static void
pt_http_upstream_zone_update(pt_http_upstream_rr_peers_t *head,
    pt_http_upstream_rr_peers_t *src)
{
    pt_http_upstream_rr_peer_t   *sp, *peer;
    pt_http_upstream_rr_peers_t  *shared;

    pt_http_upstream_rr_peers_lock(head);

    for (shared = head; shared && src; shared = shared->next, src = src->next) {
        shared->total_weight = src->total_weight;
        shared->tries = src->tries;
        shared->weighted = src->weighted;
        shared->single = src->single;

        for (peer = shared->peer, sp = src->peer; peer && sp;
             peer = peer->next, sp = sp->next)
        {
            peer->weight = sp->weight;
            peer->effective_weight = pt_min(peer->effective_weight, sp->weight);
            peer->max_conns = sp->max_conns;
            peer->max_fails = sp->max_fails;
            peer->fail_timeout = sp->fail_timeout;
            peer->down = sp->down;
        }
    }

    pt_http_upstream_rr_peers_unlock(head);
}

static pt_http_upstream_rr_peers_t *
pt_http_upstream_zone_group(pt_slab_pool_t *shpool, pt_http_upstream_srv_conf_t *uscf,
    pt_http_upstream_zone_group_t *old, pt_http_upstream_zone_group_t *g)
{
    pthread_mutex_t              *lock;
    pt_http_upstream_rr_peers_t  *src, *prev, *peers;

    src = uscf->peer.data;

    for (prev = NULL; old; old = old->next) {
        if (old->name.len == uscf->host.len
            && pt_strncasecmp(old->name.data, uscf->host.data, old->name.len) == 0)
        {
            prev = old->peers;
            break;
        }
    }

    if (pt_http_upstream_zone_strdup(shpool, &g->name, &uscf->host) == NULL) {
        return NULL;
    }

    if (prev && pt_http_upstream_zone_same(prev, src)) {
        prev->name = &g->name;
        if (prev->next) {
            prev->next->name = &g->name;
        }
        pt_http_upstream_zone_update(prev, src);
        return prev;
    }

    lock = pt_slab_alloc_locked(shpool, sizeof(pthread_mutex_t));
    if (lock == NULL) {
        return NULL;
    }

    peers = pt_http_upstream_zone_copy_peers(shpool, src, prev, &g->name, lock);
    if (peers == NULL) {
        return NULL;
    }

    if (pt_shmtx_create(&peers->mutex, lock) != PT_OK) {
        return NULL;
    }

    if (src->next) {
        peers->next = pt_http_upstream_zone_copy_peers(shpool, src->next, prev,
                                                       &g->name, lock);
        if (peers->next == NULL) {
            return NULL;
        }
    }

    return peers;
}

static pt_int_t
pt_http_upstream_init_zone(pt_shm_zone_t *shm_zone, void *data)
{
    pt_uint_t                       i;
    pt_slab_pool_t                 *shpool;
    pt_http_upstream_zone_group_t  *old, *g, *head, **gp;
    pt_http_upstream_srv_conf_t    *uscf, **uscfp;
    pt_http_upstream_main_conf_t   *umcf;

    shpool = (pt_slab_pool_t *) shm_zone->shm.addr;
    umcf = shm_zone->data;

    /* reused across a reload: the groups of the previous cycle */
    old = data ? shpool->data : NULL;

    pt_shmtx_lock(&shpool->mutex);

    /* the root changes only when every group is in place: a reload that
     * fails here leaves the zone as the running cycle knows it */
    head = NULL;
    gp = &head;

    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        uscf = uscfp[i];

        if (uscf->shm_zone != shm_zone) {
            continue;
        }

        g = pt_slab_calloc_locked(shpool, sizeof(pt_http_upstream_zone_group_t));
        if (g == NULL) {
            goto nomem;
        }

        g->peers = pt_http_upstream_zone_group(shpool, uscf, old, g);
        if (g->peers == NULL) {
            goto nomem;
        }

        uscf->peer.data = g->peers;

        *gp = g;
        gp = &g->next;
    }

    shpool->data = head;

    pt_shmtx_unlock(&shpool->mutex);

    return PT_OK;

nomem:

    pt_shmtx_unlock(&shpool->mutex);

    pt_log_error(PT_LOG_EMERG, shm_zone->shm.log, 0,
                 "could not allocate memory in upstream zone \"" PT_STR_FMT "\"",
                 PT_STR_ARG(shm_zone->shm.name));

    return PT_ERROR;
}
