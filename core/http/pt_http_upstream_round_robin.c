/*
 * pt_http_upstream_round_robin.c: the default balancer and the peer
 * bookkeeping every balancer shares.
 *
 * Smooth weighted round robin: on each pick every usable peer's
 * current_weight grows by its effective_weight, the peer with the largest
 * current_weight wins and gives back the total.  Weights 5,1,1 give
 * a a b a c a a, spread evenly instead of five a's in a row.
 *
 * Passive health: a failed try adds one to the peer's fails and lowers its
 * effective_weight by weight/max_fails; max_fails failures take the peer
 * out for fail_timeout.  When that time has passed the peer gets one
 * request: success clears fails (its weight then grows back by one per
 * pick, so a recovering peer takes load gradually), failure takes it out
 * for another fail_timeout.  A group of a single peer never takes it out.
 * When every primary peer is out, the backup peers are tried; when they
 * are too, the answer is "no live upstreams".
 */

#include "pt_http.h"

static pt_int_t pt_http_upstream_rr_build(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us, pt_uint_t backup,
    pt_http_upstream_rr_peers_t **out);

pt_uint_t
pt_http_upstream_rr_tries(pt_http_upstream_rr_peers_t *peers)
{
    return peers->tries + (peers->next ? peers->next->tries : 0);
}

pt_int_t
pt_http_upstream_rr_no_backup(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us,
    const char *method)
{
    pt_http_upstream_rr_peers_t  *peers;

    peers = us->peer.data;

    if (peers->next) {
        pt_log_error(PT_LOG_EMERG, cf->log, 0,
                     "\"backup\" servers are not supported by \"%s\" in "
                     "upstream \"" PT_STR_FMT "\" in %s:%lu",
                     method, PT_STR_ARG(us->host), us->file_name,
                     (unsigned long) us->line);
        return PT_ERROR;
    }

    return PT_OK;
}

void
pt_http_upstream_rr_set_method(pt_conf_t *cf, pt_http_upstream_init_pt init,
    pt_uint_t flags)
{
    pt_http_upstream_srv_conf_t  *uscf;

    uscf = pt_http_conf_get_module_srv_conf(cf, pt_http_upstream_module);

    if (uscf->peer.init_upstream) {
        pt_conf_log_error(PT_LOG_WARN, cf, 0, "load balancing method redefined");
    }

    uscf->peer.init_upstream = init;
    uscf->flags = flags;
}

pt_http_upstream_rr_peer_t *
pt_http_upstream_rr_peer_at(pt_http_upstream_rr_peers_t *peers, pt_uint_t w,
    pt_uint_t *index)
{
    pt_uint_t                    i;
    pt_http_upstream_rr_peer_t  *peer;

    peer = peers->peer;
    i = 0;

    while (w >= (pt_uint_t) peer->weight) {
        w -= peer->weight;
        peer = peer->next;
        i++;
    }

    *index = i;

    return peer;
}

/* Counts the peers of the primary (backup = 0) or backup servers. */
static void
pt_http_upstream_rr_count(pt_http_upstream_srv_conf_t *us, pt_uint_t backup,
    pt_uint_t *n, pt_uint_t *w, pt_uint_t *t)
{
    pt_uint_t                   i;
    pt_http_upstream_server_t  *server;

    server = us->servers->elts;
    *n = 0;
    *w = 0;
    *t = 0;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].backup != backup) {
            continue;
        }

        *n += server[i].naddrs;
        *w += server[i].naddrs * server[i].weight;

        if (!server[i].down) {
            *t += server[i].naddrs;
        }
    }
}

/* The peers of the primary or backup servers of us, in config order;
 * *out is NULL when there are none. */
static pt_int_t
pt_http_upstream_rr_build(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us,
    pt_uint_t backup, pt_http_upstream_rr_peers_t **out)
{
    pt_uint_t                     i, j, n, w, t;
    pt_http_upstream_server_t    *server;
    pt_http_upstream_rr_peer_t   *peer, **peerp;
    pt_http_upstream_rr_peers_t  *peers;

    *out = NULL;

    pt_http_upstream_rr_count(us, backup, &n, &w, &t);

    if (n == 0) {
        return PT_OK;
    }

    peers = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_rr_peers_t));
    peer = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_rr_peer_t) * n);

    if (peers == NULL || peer == NULL) {
        return PT_ERROR;
    }

    peers->single = (n == 1);
    peers->number = n;
    peers->weighted = (w != n);
    peers->total_weight = w;
    peers->tries = t;
    peers->name = &us->host;

    server = us->servers->elts;
    peerp = &peers->peer;
    n = 0;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].backup != backup) {
            continue;
        }

        for (j = 0; j < server[i].naddrs; j++) {
            peer[n].sockaddr = server[i].addrs[j].sockaddr;
            peer[n].socklen = server[i].addrs[j].socklen;
            peer[n].name = server[i].addrs[j].name;
            peer[n].server = server[i].name;
            peer[n].weight = server[i].weight;
            peer[n].effective_weight = server[i].weight;
            peer[n].current_weight = 0;
            peer[n].max_conns = server[i].max_conns;
            peer[n].max_fails = server[i].max_fails;
            peer[n].fail_timeout = server[i].fail_timeout;
            peer[n].down = server[i].down;

            *peerp = &peer[n];
            peerp = &peer[n].next;
            n++;
        }
    }

    *out = peers;

    return PT_OK;
}

/* An implicit group (proxy_pass http://name:port) whose name was left for
 * now: every address of the name becomes a peer, with nginx's implicit
 * parameters (weight 1, max_fails 1, fail_timeout 10s). */
static pt_int_t
pt_http_upstream_rr_resolve_implicit(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    pt_url_t                    u;
    pt_http_upstream_server_t  *server;

    pt_memzero(&u, sizeof(pt_url_t));

    u.url = us->host;
    u.default_port = us->port;

    if (pt_parse_url(cf->pool, &u) != PT_OK || u.naddrs == 0) {
        pt_log_error(PT_LOG_EMERG, cf->log, 0,
                     "%s in upstream \"" PT_STR_FMT "\" in %s:%lu",
                     u.err ? u.err : "host not found", PT_STR_ARG(us->host),
                     us->file_name, (unsigned long) us->line);
        return PT_ERROR;
    }

    us->servers = pt_array_create(cf->pool, 1, sizeof(pt_http_upstream_server_t));
    if (us->servers == NULL) {
        return PT_ERROR;
    }

    server = pt_array_push(us->servers);
    if (server == NULL) {
        return PT_ERROR;
    }

    pt_memzero(server, sizeof(pt_http_upstream_server_t));
    server->name = us->host;
    server->addrs = u.addrs;
    server->naddrs = u.naddrs;
    server->weight = 1;
    server->max_fails = 1;
    server->fail_timeout = 10;

    return PT_OK;
}

pt_int_t
pt_http_upstream_init_round_robin(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    pt_http_upstream_rr_peers_t  *peers, *backup;

    us->peer.init = pt_http_upstream_init_round_robin_peer;

    if (us->servers == NULL || us->servers->nelts == 0) {
        if (us->flags & PT_HTTP_UPSTREAM_CREATE) {
            pt_log_error(PT_LOG_EMERG, cf->log, 0,
                         "no servers in upstream \"" PT_STR_FMT "\" in %s:%lu",
                         PT_STR_ARG(us->host), us->file_name,
                         (unsigned long) us->line);
            return PT_ERROR;
        }

        if (pt_http_upstream_rr_resolve_implicit(cf, us) != PT_OK) {
            return PT_ERROR;
        }
    }

    if (pt_http_upstream_rr_build(cf, us, 0, &peers) != PT_OK) {
        return PT_ERROR;
    }

    if (peers == NULL) {
        pt_log_error(PT_LOG_EMERG, cf->log, 0,
                     "no servers in upstream \"" PT_STR_FMT "\" in %s:%lu",
                     PT_STR_ARG(us->host), us->file_name, (unsigned long) us->line);
        return PT_ERROR;
    }

    if (pt_http_upstream_rr_build(cf, us, 1, &backup) != PT_OK) {
        return PT_ERROR;
    }

    if (backup) {
        peers->single = 0;
        peers->next = backup;
    }

    us->peer.data = peers;

    return PT_OK;
}

/* The per-request part shared by every balancer that keeps rr data. */
static pt_http_upstream_rr_peer_data_t *
pt_http_upstream_rr_data(pt_http_request_t *r, pt_http_upstream_rr_peers_t *peers)
{
    pt_uint_t                         n;
    pt_http_upstream_rr_peer_data_t  *rrp;

    rrp = r->upstream->peer.data;

    if (rrp == NULL) {
        rrp = pt_palloc(r->pool, sizeof(pt_http_upstream_rr_peer_data_t));
        if (rrp == NULL) {
            return NULL;
        }
        r->upstream->peer.data = rrp;
    }

    rrp->peers = peers;
    rrp->current = NULL;

    n = peers->number;

    if (peers->next && peers->next->number > n) {
        n = peers->next->number;
    }

    if (n <= 8 * sizeof(uintptr_t)) {
        rrp->tried = &rrp->data;
        rrp->data = 0;

    } else {
        n = (n + (8 * sizeof(uintptr_t) - 1)) / (8 * sizeof(uintptr_t));
        rrp->tried = pt_pcalloc(r->pool, n * sizeof(uintptr_t));
        if (rrp->tried == NULL) {
            return NULL;
        }
    }

    return rrp;
}

pt_int_t
pt_http_upstream_init_round_robin_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us)
{
    pt_http_upstream_rr_peers_t  *peers;

    peers = us->peer.data;

    if (pt_http_upstream_rr_data(r, peers) == NULL) {
        return PT_ERROR;
    }

    r->upstream->peer.get = pt_http_upstream_get_round_robin_peer;
    r->upstream->peer.free = pt_http_upstream_free_round_robin_peer;
    r->upstream->peer.tries = pt_http_upstream_rr_tries(peers);

    return PT_OK;
}

pt_int_t
pt_http_upstream_create_round_robin_peer(pt_http_request_t *r,
    pt_http_upstream_resolved_t *ur)
{
    pt_http_upstream_rr_peer_t   *peer;
    pt_http_upstream_rr_peers_t  *peers;

    peers = pt_pcalloc(r->pool, sizeof(pt_http_upstream_rr_peers_t));
    peer = pt_pcalloc(r->pool, sizeof(pt_http_upstream_rr_peer_t));

    if (peers == NULL || peer == NULL) {
        return PT_ERROR;
    }

    peer->sockaddr = ur->sockaddr;
    peer->socklen = ur->socklen;
    peer->name = ur->name;
    peer->server = ur->name;
    peer->weight = 1;
    peer->effective_weight = 1;
    peer->max_fails = 1;
    peer->fail_timeout = 10;

    peers->single = 1;
    peers->number = 1;
    peers->tries = 1;
    peers->total_weight = 1;
    peers->name = &ur->host;
    peers->peer = peer;

    r->upstream->peer.data = NULL;

    if (pt_http_upstream_rr_data(r, peers) == NULL) {
        return PT_ERROR;
    }

    r->upstream->peer.get = pt_http_upstream_get_round_robin_peer;
    r->upstream->peer.free = pt_http_upstream_free_round_robin_peer;
    r->upstream->peer.tries = 1;

    return PT_OK;
}

pt_uint_t
pt_http_upstream_rr_peer_usable(pt_http_upstream_rr_peer_t *peer, time_t now)
{
    if (peer->down) {
        return 0;
    }

    if (peer->max_fails && peer->fails >= peer->max_fails
        && now - peer->checked <= peer->fail_timeout)
    {
        return 0;
    }

    if (peer->max_conns && peer->conns >= peer->max_conns) {
        return 0;
    }

    return 1;
}

pt_http_upstream_rr_peer_t *
pt_http_upstream_rr_select(pt_http_upstream_rr_peer_data_t *rrp, time_t now)
{
    pt_int_t                     total;
    pt_uint_t                    i, p;
    pt_http_upstream_rr_peer_t  *peer, *best;

    best = NULL;
    total = 0;
    p = 0;

    for (peer = rrp->peers->peer, i = 0; peer; peer = peer->next, i++) {

        if (!pt_http_upstream_rr_available(rrp, peer, i, now)) {
            continue;
        }

        total += pt_http_upstream_rr_weigh(peer);

        if (best == NULL || peer->current_weight > best->current_weight) {
            best = peer;
            p = i;
        }
    }

    if (best == NULL) {
        return NULL;
    }

    best->current_weight -= total;

    rrp->current = best;
    rrp->tried[pt_http_upstream_rr_tried_n(p)] |= pt_http_upstream_rr_tried_m(p);

    if (now - best->checked > best->fail_timeout) {
        best->checked = now;
    }

    return best;
}

void
pt_http_upstream_rr_take(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peer_data_t *rrp, pt_http_upstream_rr_peer_t *peer,
    pt_uint_t i, time_t now)
{
    rrp->current = peer;
    rrp->tried[pt_http_upstream_rr_tried_n(i)] |= pt_http_upstream_rr_tried_m(i);

    if (now - peer->checked > peer->fail_timeout) {
        peer->checked = now;
    }

    pc->sockaddr = peer->sockaddr;
    pc->socklen = peer->socklen;
    pc->name = &peer->name;

    peer->conns++;
}

pt_int_t
pt_http_upstream_rr_try_backup(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peer_data_t *rrp, pt_peer_get_pt get)
{
    pt_int_t                      rc;
    pt_uint_t                     i, n;
    pt_http_upstream_rr_peers_t  *peers;

    peers = rrp->peers;

    if (peers->next) {
        rrp->peers = peers->next;

        n = (rrp->peers->number + (8 * sizeof(uintptr_t) - 1)) / (8 * sizeof(uintptr_t));

        for (i = 0; i < n; i++) {
            rrp->tried[i] = 0;
        }

        pt_http_upstream_rr_peers_unlock(peers);

        rc = get(pc, rrp);

        if (rc != PT_BUSY) {
            return rc;
        }

        pt_http_upstream_rr_peers_lock(peers);
    }

    pt_http_upstream_rr_peers_unlock(peers);

    pc->name = peers->name;

    return PT_BUSY;
}

pt_int_t
pt_http_upstream_rr_fallback(pt_peer_connection_t *pc,
    pt_http_upstream_rr_peer_data_t *rrp)
{
    pt_http_upstream_rr_peers_unlock(rrp->peers);

    return pt_http_upstream_get_round_robin_peer(pc, rrp);
}

pt_int_t
pt_http_upstream_get_round_robin_peer(pt_peer_connection_t *pc, void *data)
{
    time_t                            now;
    pt_http_upstream_rr_peer_t       *peer;
    pt_http_upstream_rr_peers_t      *peers;
    pt_http_upstream_rr_peer_data_t  *rrp = data;

    peers = rrp->peers;
    now = pt_http_upstream_rr_begin(pc, peers);

    if (peers->single) {
        peer = peers->peer;

        if (peer->down || (peer->max_conns && peer->conns >= peer->max_conns)) {
            return pt_http_upstream_rr_try_backup(pc, rrp,
                                                  pt_http_upstream_get_round_robin_peer);
        }

        pt_http_upstream_rr_take(pc, rrp, peer, 0, now);

    } else {
        peer = pt_http_upstream_rr_select(rrp, now);

        if (peer == NULL) {
            return pt_http_upstream_rr_try_backup(pc, rrp,
                                                  pt_http_upstream_get_round_robin_peer);
        }

        pc->sockaddr = peer->sockaddr;
        pc->socklen = peer->socklen;
        pc->name = &peer->name;
        peer->conns++;
    }

    pt_http_upstream_rr_peers_unlock(peers);

    return PT_OK;
}

void
pt_http_upstream_free_round_robin_peer(pt_peer_connection_t *pc, void *data,
    pt_uint_t state)
{
    time_t                            now;
    pt_http_upstream_rr_peer_t       *peer;
    pt_http_upstream_rr_peers_t      *peers;
    pt_http_upstream_rr_peer_data_t  *rrp = data;

    peer = rrp->current;
    peers = rrp->peers;

    if (peer == NULL) {
        return;
    }

    pt_http_upstream_rr_peers_lock(peers);

    if (peers->single) {
        peer->conns--;
        pt_http_upstream_rr_peers_unlock(peers);
        rrp->current = NULL;
        pc->tries = 0;
        return;
    }

    if (state & PT_PEER_FAILED) {
        now = pt_time();

        peer->fails++;
        peer->accessed = now;
        peer->checked = now;

        if (peer->max_fails) {
            peer->effective_weight -= peer->weight / peer->max_fails;

            if (peer->fails >= peer->max_fails) {
                pt_log_error(PT_LOG_WARN, pc->log, 0,
                             "upstream server temporarily disabled");
            }
        }

        if (peer->effective_weight < 0) {
            peer->effective_weight = 0;
        }

    } else if (peer->accessed < peer->checked) {
        /* the first success after fail_timeout: the peer is back */
        peer->fails = 0;
    }

    peer->conns--;

    pt_http_upstream_rr_peers_unlock(peers);

    rrp->current = NULL;

    if (pc->tries) {
        pc->tries--;
    }
}
