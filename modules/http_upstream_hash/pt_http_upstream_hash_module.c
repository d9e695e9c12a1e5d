/*
 * pt_http_upstream_hash_module.c: "hash KEY [consistent]" in upstream {}.
 *
 * Both variants are nginx's, bit for bit, so a key lands on the same
 * server behind either (a cache migrated from nginx keeps its placement).
 *
 * Plain: the key's hash, ((crc32(KEY) >> 16) & 0x7fff), picks a point in
 * the total weight; an unusable peer makes the next step hash "1KEY",
 * "2KEY", ... and add that to the previous value (Cache::Memcached's
 * rehash).
 *
 * consistent: ketama.  Every server gets 160 points per weight unit on a
 * ring of crc32 values: crc32(host "\0" port) chained with the previous
 * point's value; the key's crc32 finds the first point at or after it.  An
 * unusable server moves the key to the next point of the ring.  Adding or
 * removing one server moves only the keys of its points.
 *
 * After 20 fruitless steps, or for an empty key or a single peer, the
 * round robin chooses.  "backup" servers do not fit either scheme: they
 * are a configuration error, as in nginx.
 */

#include "pt_http_upstream_hash.h"

typedef struct {
    pt_http_complex_value_t            key;
    pt_http_upstream_chash_points_t   *points;
} pt_http_upstream_hash_srv_conf_t;

typedef struct {
    /* the round robin data first: get/free of the rr work on it */
    pt_http_upstream_rr_peer_data_t    rrp;
    pt_http_upstream_hash_srv_conf_t  *conf;
    pt_str_t                           key;
    pt_uint_t                          tries;
    pt_uint_t                          rehash;
    uint32_t                           hash;
} pt_http_upstream_hash_peer_data_t;

static pt_int_t pt_http_upstream_init_hash(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_init_hash_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_get_hash_peer(pt_peer_connection_t *pc,
    void *data);
static pt_int_t pt_http_upstream_init_chash(pt_conf_t *cf,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_init_chash_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_get_chash_peer(pt_peer_connection_t *pc,
    void *data);
static void *pt_http_upstream_hash_create_conf(pt_conf_t *cf);
static char *pt_http_upstream_hash(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_upstream_hash_commands[] = {

    { pt_string("hash"),
      PT_HTTP_UPS_CONF|PT_CONF_TAKE12,
      pt_http_upstream_hash, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_hash_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    pt_http_upstream_hash_create_conf,     /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_hash_module = {
    PT_MODULE_V1,
    &pt_http_upstream_hash_module_ctx,
    pt_http_upstream_hash_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- the pure parts ---- */

static uint32_t  pt_http_upstream_crc32_table[256];

uint32_t
pt_http_upstream_crc32_update(uint32_t crc, u_char *p, size_t len)
{
    uint32_t   c;
    pt_uint_t  i, k;

    if (pt_http_upstream_crc32_table[1] == 0) {
        for (i = 0; i < 256; i++) {
            c = (uint32_t) i;
            for (k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
            }
            pt_http_upstream_crc32_table[i] = c;
        }
    }

    while (len--) {
        crc = pt_http_upstream_crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return crc;
}

uint32_t
pt_http_upstream_hash_step(pt_str_t *key, pt_uint_t rehash)
{
    u_char    buf[PT_INT_T_LEN];
    uint32_t  hash;

    hash = pt_http_upstream_crc32_init();

    if (rehash > 0) {
        hash = pt_http_upstream_crc32_update(hash, buf,
                                             pt_uint_to_str(buf, rehash) - buf);
    }

    hash = pt_http_upstream_crc32_update(hash, key->data, key->len);
    hash = pt_http_upstream_crc32_final(hash);

    return (hash >> 16) & 0x7fff;
}

/* "host:port" (or "unix:path") of a server, for its base hash. */
static void
pt_http_upstream_chash_split(pt_str_t *server, pt_str_t *host, pt_str_t *port)
{
    u_char     c;
    pt_uint_t  j;

    port->len = 0;
    port->data = NULL;

    if (server->len >= 5 && pt_strncasecmp(server->data, (u_char *) "unix:", 5) == 0) {
        host->data = server->data + 5;
        host->len = server->len - 5;
        return;
    }

    for (j = 0; j < server->len; j++) {
        c = server->data[server->len - j - 1];

        if (c == ':') {
            host->data = server->data;
            host->len = server->len - j - 1;
            port->data = server->data + server->len - j;
            port->len = j;
            return;
        }

        if (c < '0' || c > '9') {
            break;
        }
    }

    *host = *server;
}

static int
pt_http_upstream_chash_cmp(const void *one, const void *two)
{
    const pt_http_upstream_chash_point_t  *a = one, *b = two;

    return (a->hash < b->hash) ? -1 : (a->hash > b->hash) ? 1 : 0;
}

pt_http_upstream_chash_points_t *
pt_http_upstream_chash_build(pt_pool_t *pool, pt_str_t **servers,
    pt_uint_t *weights, pt_uint_t n)
{
    u_char                            prev[4];
    size_t                            size;
    uint32_t                          base, hash;
    pt_str_t                          host, port;
    pt_uint_t                         i, j, k, npoints;
    pt_http_upstream_chash_points_t  *points;

    npoints = 0;

    for (i = 0; i < n; i++) {
        npoints += weights[i] * 160;
    }

    size = sizeof(pt_http_upstream_chash_points_t)
           + sizeof(pt_http_upstream_chash_point_t) * (npoints ? npoints - 1 : 0);

    points = pt_palloc(pool, size);
    if (points == NULL) {
        return NULL;
    }

    points->number = 0;

    for (i = 0; i < n; i++) {
        pt_http_upstream_chash_split(servers[i], &host, &port);

        base = pt_http_upstream_crc32_init();
        base = pt_http_upstream_crc32_update(base, host.data, host.len);
        base = pt_http_upstream_crc32_update(base, (u_char *) "", 1);
        base = pt_http_upstream_crc32_update(base, port.data, port.len);

        /* the previous point's value, little-endian, as nginx on x86 */
        pt_memzero(prev, 4);

        for (j = 0; j < weights[i] * 160; j++) {
            hash = pt_http_upstream_crc32_update(base, prev, 4);
            hash = pt_http_upstream_crc32_final(hash);

            points->point[points->number].hash = hash;
            points->point[points->number].server = servers[i];
            points->number++;

            prev[0] = (u_char) (hash & 0xff);
            prev[1] = (u_char) ((hash >> 8) & 0xff);
            prev[2] = (u_char) ((hash >> 16) & 0xff);
            prev[3] = (u_char) ((hash >> 24) & 0xff);
        }
    }

    qsort(points->point, points->number, sizeof(pt_http_upstream_chash_point_t),
          pt_http_upstream_chash_cmp);

    if (points->number > 1) {
        for (k = 0, j = 1; j < points->number; j++) {
            if (points->point[k].hash != points->point[j].hash) {
                points->point[++k] = points->point[j];
            }
        }
        points->number = k + 1;
    }

    return points;
}

pt_uint_t
pt_http_upstream_chash_find(pt_http_upstream_chash_points_t *points, uint32_t hash)
{
    pt_uint_t                        i, j, k;
    pt_http_upstream_chash_point_t  *point;

    point = &points->point[0];

    i = 0;
    j = points->number;

    while (i < j) {
        k = (i + j) / 2;

        if (hash > point[k].hash) {
            i = k + 1;

        } else if (hash < point[k].hash) {
            j = k;

        } else {
            return k;
        }
    }

    return i;
}

/* ---- configuration ---- */

static void *
pt_http_upstream_hash_create_conf(pt_conf_t *cf)
{
    return pt_pcalloc(cf->pool, sizeof(pt_http_upstream_hash_srv_conf_t));
}

static pt_int_t
pt_http_upstream_init_hash(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    if (pt_http_upstream_init_round_robin(cf, us) != PT_OK
        || pt_http_upstream_rr_no_backup(cf, us, "hash") != PT_OK)
    {
        return PT_ERROR;
    }

    us->peer.init = pt_http_upstream_init_hash_peer;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_init_chash(pt_conf_t *cf, pt_http_upstream_srv_conf_t *us)
{
    pt_uint_t                          i, n;
    pt_str_t                         **servers;
    pt_uint_t                         *weights;
    pt_http_upstream_rr_peer_t        *peer;
    pt_http_upstream_rr_peers_t       *peers;
    pt_http_upstream_hash_srv_conf_t  *hcf;

    if (pt_http_upstream_init_round_robin(cf, us) != PT_OK
        || pt_http_upstream_rr_no_backup(cf, us, "hash") != PT_OK)
    {
        return PT_ERROR;
    }

    us->peer.init = pt_http_upstream_init_chash_peer;

    peers = us->peer.data;
    n = peers->number;

    servers = pt_palloc(cf->pool, n * sizeof(pt_str_t *));
    weights = pt_palloc(cf->pool, n * sizeof(pt_uint_t));

    if (servers == NULL || weights == NULL) {
        return PT_ERROR;
    }

    for (peer = peers->peer, i = 0; peer; peer = peer->next, i++) {
        servers[i] = &peer->server;
        weights[i] = peer->weight;
    }

    hcf = pt_http_conf_upstream_srv_conf(us, pt_http_upstream_hash_module);

    hcf->points = pt_http_upstream_chash_build(cf->pool, servers, weights, n);
    if (hcf->points == NULL) {
        return PT_ERROR;
    }

    return PT_OK;
}

static char *
pt_http_upstream_hash(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_upstream_hash_srv_conf_t  *hcf = conf;

    pt_str_t                         *value;
    pt_http_upstream_init_pt          init;
    pt_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &hcf->key;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        init = pt_http_upstream_init_hash;

    } else if (pt_str_eq_lit(&value[2], "consistent")) {
        init = pt_http_upstream_init_chash;

    } else {
        init = NULL;
    }

    /* the warning about a redefined method comes first, as in nginx */
    pt_http_upstream_rr_set_method(cf, init,
                                   PT_HTTP_UPSTREAM_CREATE
                                   |PT_HTTP_UPSTREAM_WEIGHT
                                   |PT_HTTP_UPSTREAM_MAX_CONNS
                                   |PT_HTTP_UPSTREAM_MAX_FAILS
                                   |PT_HTTP_UPSTREAM_FAIL_TIMEOUT
                                   |PT_HTTP_UPSTREAM_DOWN);

    if (init == NULL) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"%s\"",
                          value[2].data);
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* ---- per request ---- */

static pt_int_t
pt_http_upstream_init_hash_peer(pt_http_request_t *r, pt_http_upstream_srv_conf_t *us)
{
    pt_http_upstream_hash_peer_data_t  *hp;
    pt_http_upstream_hash_srv_conf_t   *hcf;

    hp = pt_palloc(r->pool, sizeof(pt_http_upstream_hash_peer_data_t));
    if (hp == NULL) {
        return PT_ERROR;
    }

    r->upstream->peer.data = &hp->rrp;

    if (pt_http_upstream_init_round_robin_peer(r, us) != PT_OK) {
        return PT_ERROR;
    }

    r->upstream->peer.get = pt_http_upstream_get_hash_peer;

    hcf = pt_http_conf_upstream_srv_conf(us, pt_http_upstream_hash_module);

    if (pt_http_complex_value(r, &hcf->key, &hp->key) != PT_OK) {
        return PT_ERROR;
    }

    hp->conf = hcf;
    hp->tries = 0;
    hp->rehash = 0;
    hp->hash = 0;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_get_hash_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_hash_peer_data_t  *hp = data;

    time_t                        now;
    pt_uint_t                     p;
    pt_http_upstream_rr_peer_t   *peer;
    pt_http_upstream_rr_peers_t  *peers;

    peers = hp->rrp.peers;

    if (hp->tries > 20 || peers->single || hp->key.len == 0) {
        return pt_http_upstream_get_round_robin_peer(pc, &hp->rrp);
    }

    now = pt_http_upstream_rr_begin(pc, peers);

    for ( ;; ) {
        hp->hash += pt_http_upstream_hash_step(&hp->key, hp->rehash);
        hp->rehash++;

        peer = pt_http_upstream_rr_peer_at(peers, hp->hash % peers->total_weight, &p);

        if (pt_http_upstream_rr_available(&hp->rrp, peer, p, now)) {
            break;
        }

        if (++hp->tries > 20) {
            return pt_http_upstream_rr_fallback(pc, &hp->rrp);
        }
    }

    pt_http_upstream_rr_take(pc, &hp->rrp, peer, p, now);

    pt_http_upstream_rr_peers_unlock(peers);

    return PT_OK;
}

static pt_int_t
pt_http_upstream_init_chash_peer(pt_http_request_t *r, pt_http_upstream_srv_conf_t *us)
{
    uint32_t                            hash;
    pt_http_upstream_hash_peer_data_t  *hp;

    if (pt_http_upstream_init_hash_peer(r, us) != PT_OK) {
        return PT_ERROR;
    }

    r->upstream->peer.get = pt_http_upstream_get_chash_peer;

    hp = (pt_http_upstream_hash_peer_data_t *) r->upstream->peer.data;

    hash = pt_http_upstream_crc32_final(
               pt_http_upstream_crc32_update(pt_http_upstream_crc32_init(),
                                             hp->key.data, hp->key.len));

    hp->hash = (uint32_t) pt_http_upstream_chash_find(hp->conf->points, hash);

    return PT_OK;
}

static pt_int_t
pt_http_upstream_get_chash_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_hash_peer_data_t  *hp = data;

    time_t                            now;
    pt_int_t                          total;
    pt_str_t                         *server;
    pt_uint_t                         i, best_i;
    pt_http_upstream_rr_peer_t       *peer, *best;
    pt_http_upstream_rr_peers_t      *peers;
    pt_http_upstream_chash_points_t  *points;

    peers = hp->rrp.peers;

    if (hp->tries > 20 || peers->number < 2 || hp->key.len == 0) {
        return pt_http_upstream_get_round_robin_peer(pc, &hp->rrp);
    }

    now = pt_http_upstream_rr_begin(pc, peers);
    points = hp->conf->points;

    for ( ;; ) {
        server = points->point[hp->hash % points->number].server;

        /* the server's usable peers (a name may have several addresses):
         * smooth weighted round robin among them */
        best = NULL;
        best_i = 0;
        total = 0;

        for (peer = peers->peer, i = 0; peer; peer = peer->next, i++) {

            if (peer->server.len != server->len
                || pt_strncmp(peer->server.data, server->data, server->len) != 0
                || !pt_http_upstream_rr_available(&hp->rrp, peer, i, now))
            {
                continue;
            }

            total += pt_http_upstream_rr_weigh(peer);

            if (best == NULL || peer->current_weight > best->current_weight) {
                best = peer;
                best_i = i;
            }
        }

        if (best) {
            best->current_weight -= total;
            break;
        }

        hp->hash++;

        if (++hp->tries > 20) {
            return pt_http_upstream_rr_fallback(pc, &hp->rrp);
        }
    }

    pt_http_upstream_rr_take(pc, &hp->rrp, best, best_i, now);

    pt_http_upstream_rr_peers_unlock(peers);

    return PT_OK;
}
