/*
 * pt_http_upstream_hash.h: the pure parts of the hash balancers, for the
 * module and for t/unit/upstream_hash.c.
 */

#ifndef PT_HTTP_UPSTREAM_HASH_H
#define PT_HTTP_UPSTREAM_HASH_H

#include "pt_http.h"

/* A point of the ketama ring: a hash and the server that owns it. */
typedef struct {
    uint32_t                    hash;
    pt_str_t                   *server;
} pt_http_upstream_chash_point_t;

typedef struct {
    pt_uint_t                       number;
    pt_http_upstream_chash_point_t  point[1];
} pt_http_upstream_chash_points_t;

/* CRC-32 (IEEE 802.3, reflected), as nginx's ngx_crc32_*. */
uint32_t pt_http_upstream_crc32_update(uint32_t crc, u_char *p, size_t len);
#define pt_http_upstream_crc32_init()      0xffffffff
#define pt_http_upstream_crc32_final(crc)  ((crc) ^ 0xffffffff)

/* One step of the non-consistent hash (compatible with Cache::Memcached):
 * (crc32([REHASH] KEY) >> 16) & 0x7fff, REHASH omitted when 0. */
uint32_t pt_http_upstream_hash_step(pt_str_t *key, pt_uint_t rehash);

/* The ring of servers[0..n) with weights: 160 points per weight unit, the
 * first crc32(host "\0" port) chained with the previous point (nginx's,
 * so a key keeps its server across nginx and portico), sorted, duplicates
 * dropped.  NULL on allocation failure. */
pt_http_upstream_chash_points_t *pt_http_upstream_chash_build(pt_pool_t *pool,
    pt_str_t **servers, pt_uint_t *weights, pt_uint_t n);
/* Index of the first point at or after hash (may be number: the ring
 * wraps, callers take it modulo number). */
pt_uint_t pt_http_upstream_chash_find(pt_http_upstream_chash_points_t *points,
    uint32_t hash);

#endif /* PT_HTTP_UPSTREAM_HASH_H */
