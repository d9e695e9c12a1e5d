/*
 * upstream_hash.c: unit tests for the pure parts of the balancers.
 *
 *   - smooth weighted round robin: weights 5,1,1 give a a b a c a a, the
 *     sequence nginx gives; a failed peer's effective weight grows back
 *     by one per pick;
 *   - CRC-32 as nginx's (and zlib's);
 *   - the plain hash's steps and rehashing (Cache::Memcached's scheme);
 *   - the ketama ring: its points, their order, the lookup.
 *
 * The expected numbers were computed independently (Python's zlib.crc32
 * and a transcription of nginx's algorithms); t/upstream_hash.t checks the
 * same against a running nginx when one is installed.
 */

#include "pt_http.h"
#include "tap.h"

#if (PT_HAVE_HTTP_UPSTREAM_HASH_MODULE)
#include "pt_http_upstream_hash.h"
#endif

static pt_http_upstream_rr_peer_t   peer[3];
static pt_http_upstream_rr_peers_t  peers;

static void
rr_setup(pt_int_t w0, pt_int_t w1, pt_int_t w2)
{
    pt_int_t   w[3];
    pt_uint_t  i;

    w[0] = w0;
    w[1] = w1;
    w[2] = w2;

    pt_memzero(peer, sizeof(peer));
    pt_memzero(&peers, sizeof(peers));

    for (i = 0; i < 3; i++) {
        peer[i].weight = w[i];
        peer[i].effective_weight = w[i];
        peer[i].max_fails = 1;
        peer[i].fail_timeout = 10;
        peer[i].next = (i < 2) ? &peer[i + 1] : NULL;
    }

    peers.peer = &peer[0];
    peers.number = 3;
}

/* n picks, each a new request (nothing tried yet), as letters */
static void
rr_sequence(char *out, pt_uint_t n)
{
    pt_uint_t                         i;
    pt_http_upstream_rr_peer_t       *p;
    pt_http_upstream_rr_peer_data_t   rrp;

    for (i = 0; i < n; i++) {
        rrp.peers = &peers;
        rrp.current = NULL;
        rrp.data = 0;
        rrp.tried = &rrp.data;

        p = pt_http_upstream_rr_select(&rrp, 1000);
        out[i] = p ? (char) ('a' + (p - peer)) : '-';
    }

    out[n] = '\0';
}

static void
test_round_robin(void)
{
    char  seq[64];

    rr_setup(5, 1, 1);
    rr_sequence(seq, 7);
    tap_ok(strcmp(seq, "aabacaa") == 0, "weights 5,1,1: a a b a c a a (%s)", seq);

    rr_sequence(seq, 14);
    tap_ok(strcmp(seq, "aabacaaaabacaa") == 0, "and again, the period is 7 (%s)", seq);

    rr_setup(1, 1, 1);
    rr_sequence(seq, 6);
    tap_ok(strcmp(seq, "abcabc") == 0, "equal weights: in turn (%s)", seq);

    rr_setup(2, 1, 0);
    peer[2].down = 1;
    rr_sequence(seq, 6);
    tap_ok(strcmp(seq, "abaaba") == 0, "a down peer is skipped (%s)", seq);

    /* a failure lowered a's effective weight to 1 (weight 10): it grows
     * back by one per pick, so b takes most requests at first */
    rr_setup(10, 10, 0);
    peer[2].down = 1;
    peer[0].effective_weight = 1;
    rr_sequence(seq, 20);
    tap_ok(strcmp(seq, "bbbabbababababababab") == 0,
           "a failed peer recovers gradually (%s)", seq);
    tap_is_int(peer[0].effective_weight, 10, "its effective weight is back");
}

#if (PT_HAVE_HTTP_UPSTREAM_HASH_MODULE)

static pt_str_t *
str(const char *s)
{
    static pt_str_t  pool[16];
    static int       n;
    pt_str_t        *v;

    v = &pool[n++ % 16];
    v->data = (u_char *) s;
    v->len = strlen(s);

    return v;
}

static uint32_t
crc32_of(const char *s)
{
    return pt_http_upstream_crc32_final(
               pt_http_upstream_crc32_update(pt_http_upstream_crc32_init(),
                                             (u_char *) s, strlen(s)));
}

/* nginx's plain hash over weights w[0..n) with usable[]: the peer index */
static int
plain_hash(const char *key, const pt_uint_t *w, const int *usable, pt_uint_t n)
{
    uint32_t   hash;
    pt_uint_t  i, p, total, x, rehash;

    total = 0;
    for (i = 0; i < n; i++) {
        total += w[i];
    }

    hash = 0;

    for (rehash = 0; rehash <= 20; rehash++) {
        hash += pt_http_upstream_hash_step(str(key), rehash);
        x = hash % total;

        for (p = 0; x >= w[p]; p++) {
            x -= w[p];
        }

        if (usable[p]) {
            return (int) p;
        }
    }

    return -1;
}

static void
test_hash(void)
{
    static const pt_uint_t  w111[] = { 1, 1, 1 };
    static const pt_uint_t  w211[] = { 2, 1, 1 };
    static const int        all[] = { 1, 1, 1 };
    static const int        no_b[] = { 1, 0, 1 };

    tap_is_int(crc32_of("123456789"), 0xcbf43926, "crc32 check value");
    tap_is_int(crc32_of(""), 0, "crc32 of nothing");

    tap_is_int(pt_http_upstream_hash_step(str("key1"), 0), 11356, "hash step 0 of key1");
    tap_is_int(pt_http_upstream_hash_step(str("key1"), 1), 22395, "rehash 1: \"1key1\"");
    tap_is_int(pt_http_upstream_hash_step(str("key1"), 2), 4315, "rehash 2: \"2key1\"");
    tap_is_int(pt_http_upstream_hash_step(str("/index.html"), 3), 6599,
               "rehash 3 of /index.html");

    tap_is_int(plain_hash("key1", w111, all, 3), 1, "plain: key1 -> 1");
    tap_is_int(plain_hash("key2", w111, all, 3), 0, "plain: key2 -> 0");
    tap_is_int(plain_hash("/index.html", w111, all, 3), 2, "plain: /index.html -> 2");
    tap_is_int(plain_hash("key1", w111, no_b, 3), 2, "plain: key1 rehashed past 1 -> 2");
    tap_is_int(plain_hash("key3", w111, no_b, 3), 0, "plain: key3 rehashed -> 0");
    tap_is_int(plain_hash("/index.html", w211, all, 3), 1, "plain, weights 2,1,1");
}

static void
test_ketama(void)
{
    pt_str_t                         *servers[3];
    pt_uint_t                         i, sorted;
    pt_uint_t                         weights[3] = { 1, 1, 2 };
    pt_pool_t                        *pool;
    pt_http_upstream_chash_points_t  *pts;

    static const struct {
        const char  *key;
        pt_uint_t    index;
        const char  *server;
    } keys[] = {
        { "key1", 116, "127.0.0.1:8081" },
        { "key2", 462, "127.0.0.1:8083" },
        { "key3", 495, "127.0.0.1:8083" },
        { "/index.html", 595, "127.0.0.1:8083" },
        { "abc", 146, "127.0.0.1:8082" },
    };

    pool = pt_create_pool(1024, NULL);

    servers[0] = str("127.0.0.1:8081");
    servers[1] = str("127.0.0.1:8082");
    servers[2] = str("127.0.0.1:8083");

    pts = pt_http_upstream_chash_build(pool, servers, weights, 3);

    tap_ok(pts != NULL, "ring built");
    tap_is_int(pts->number, 640, "160 points per weight unit (4 units)");

    sorted = 1;
    for (i = 1; i < pts->number; i++) {
        if (pts->point[i - 1].hash >= pts->point[i].hash) {
            sorted = 0;
        }
    }
    tap_ok(sorted, "points sorted, no duplicates");

    tap_is_int(pts->point[0].hash, 0x000d1815, "the lowest point");
    tap_is_int(pts->point[pts->number - 1].hash, 0xffd03b3d, "the highest point");

    /* the first point of a server: crc32("127.0.0.1" "\0" "8081" 0x00000000) */
    for (i = 0; i < pts->number; i++) {
        if (pts->point[i].hash == 0x50aabcf7) {
            break;
        }
    }
    tap_ok(i < pts->number && pts->point[i].server == servers[0],
           "the first point of 127.0.0.1:8081 is on the ring");

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        pt_uint_t  k;

        k = pt_http_upstream_chash_find(pts, crc32_of(keys[i].key));

        tap_ok(k == keys[i].index
               && strncmp((char *) pts->point[k % pts->number].server->data,
                          keys[i].server, pts->point[k % pts->number].server->len) == 0,
               "%s -> point %lu, %s", keys[i].key, (unsigned long) k, keys[i].server);
    }

    tap_is_int(pt_http_upstream_chash_find(pts, 0xffffffff), 640,
               "past the last point: the end (wraps to the first)");

    pt_destroy_pool(pool);
}

#endif

int
main(void)
{
    pt_pagesize = getpagesize();

#if (PT_HAVE_HTTP_UPSTREAM_HASH_MODULE)
    tap_plan(6 + 12 + 12);
#else
    tap_plan(6);
#endif

    test_round_robin();

#if (PT_HAVE_HTTP_UPSTREAM_HASH_MODULE)
    test_hash();
    test_ketama();
#endif

    return tap_done();
}
