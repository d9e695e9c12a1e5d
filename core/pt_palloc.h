/*
 * pt_palloc.h: region pools tied to lifetimes (cycle, connection, request).
 *
 * Small allocations are carved from pool blocks and never freed one by one;
 * large ones are malloc'ed and may be released early with pt_pfree().
 * Cleanup handlers run when the pool is destroyed, so files and other
 * resources follow the same lifetime as the memory.
 */

#ifndef PT_PALLOC_H
#define PT_PALLOC_H

#define PT_MAX_ALLOC_FROM_POOL  (pt_pagesize - 1)
#define PT_DEFAULT_POOL_SIZE    (16 * 1024)
#define PT_POOL_ALIGNMENT       16
#define PT_MIN_POOL_SIZE \
    pt_align((sizeof(pt_pool_t) + 2 * sizeof(pt_pool_large_t)), PT_POOL_ALIGNMENT)

typedef void (*pt_pool_cleanup_pt)(void *data);

typedef struct pt_pool_cleanup_s pt_pool_cleanup_t;

struct pt_pool_cleanup_s {
    pt_pool_cleanup_pt   handler;
    void                *data;
    pt_pool_cleanup_t   *next;
};

typedef struct pt_pool_large_s pt_pool_large_t;

struct pt_pool_large_s {
    pt_pool_large_t  *next;
    void             *alloc;
};

typedef struct {
    u_char      *last;
    u_char      *end;
    pt_pool_t   *next;
    uint32_t     failed;
    uint32_t     cached;        /* first block from the block cache */
} pt_pool_data_t;

struct pt_pool_s {
    pt_pool_data_t      d;
    size_t              max;
    pt_pool_t          *current;
    pt_chain_t         *chain;      /* free chain links for reuse */
    pt_pool_large_t    *large;
    pt_pool_cleanup_t  *cleanup;
    pt_log_t           *log;
};

typedef struct {
    pt_fd_t    fd;
    u_char    *name;
    pt_log_t  *log;
} pt_pool_cleanup_file_t;

void *pt_alloc(size_t size, pt_log_t *log);
void *pt_calloc(size_t size, pt_log_t *log);
#define pt_free  free

pt_pool_t *pt_create_pool(size_t size, pt_log_t *log);
/* The same, with the first block from a per-process cache of equal blocks:
 * for the pools of connections (see pt_palloc.c). */
pt_pool_t *pt_create_pool_cached(size_t size, pt_log_t *log);
void pt_destroy_pool(pt_pool_t *pool);
void pt_reset_pool(pt_pool_t *pool);

void *pt_palloc(pt_pool_t *pool, size_t size);    /* aligned */
void *pt_pnalloc(pt_pool_t *pool, size_t size);   /* unaligned, for bytes */
void *pt_pcalloc(pt_pool_t *pool, size_t size);
void *pt_pmemalign(pt_pool_t *pool, size_t size, size_t alignment);
pt_int_t pt_pfree(pt_pool_t *pool, void *p);

pt_pool_cleanup_t *pt_pool_cleanup_add(pt_pool_t *p, size_t size);
void pt_pool_cleanup_file(void *data);

#endif /* PT_PALLOC_H */
