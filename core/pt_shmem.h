/*
 * pt_shmem.h: shared memory segments and the lock that guards them.
 *
 * Segments are anonymous shared mappings made by the master before it forks,
 * so every worker sees the same bytes.  The lock is a process-shared robust
 * pthread mutex: when a worker dies holding it, the next locker is told
 * (EOWNERDEAD), marks it consistent and goes on, so a crash never deadlocks
 * the other workers.
 */

#ifndef PT_SHMEM_H
#define PT_SHMEM_H

typedef struct {
    u_char      *addr;
    size_t       size;
    pt_str_t     name;
    pt_log_t    *log;
    pt_uint_t    exists;    /* reused from the previous cycle */
} pt_shm_t;

pt_int_t pt_shm_alloc(pt_shm_t *shm);
void pt_shm_free(pt_shm_t *shm);

typedef struct {
    pthread_mutex_t  *mutex;
} pt_shmtx_t;

/* mutex points into shared memory; it is initialized there. */
pt_int_t pt_shmtx_create(pt_shmtx_t *mtx, pthread_mutex_t *mutex);
void pt_shmtx_lock(pt_shmtx_t *mtx);
pt_uint_t pt_shmtx_trylock(pt_shmtx_t *mtx);
void pt_shmtx_unlock(pt_shmtx_t *mtx);

/*
 * The slab allocator carves a shared zone into pages and power-of-two
 * chunks.  All calls with the _locked suffix expect the caller to hold
 * pool->mutex.
 */
typedef struct pt_slab_page_s pt_slab_page_t;

struct pt_slab_page_s {
    uintptr_t         slab;
    pt_slab_page_t   *next;
    uintptr_t         prev;
};

typedef struct {
    pt_uint_t  total;
    pt_uint_t  used;
    pt_uint_t  reqs;
    pt_uint_t  fails;
} pt_slab_stat_t;

typedef struct {
    pthread_mutex_t   lock;         /* lives in the zone */
    size_t            min_size;
    size_t            min_shift;
    pt_slab_page_t   *pages;
    pt_slab_page_t   *last;
    pt_slab_page_t    free;
    pt_slab_stat_t   *stats;
    pt_uint_t         pfree;
    u_char           *start;
    u_char           *end;
    pt_shmtx_t        mutex;
    u_char           *log_ctx;
    u_char            zero;
    unsigned          log_nomem:1;
    void             *data;         /* the owning module's root object */
    void             *addr;
} pt_slab_pool_t;

void pt_slab_sizes_init(void);
void pt_slab_init(pt_slab_pool_t *pool);
void *pt_slab_alloc(pt_slab_pool_t *pool, size_t size);
void *pt_slab_alloc_locked(pt_slab_pool_t *pool, size_t size);
void *pt_slab_calloc(pt_slab_pool_t *pool, size_t size);
void *pt_slab_calloc_locked(pt_slab_pool_t *pool, size_t size);
void pt_slab_free(pt_slab_pool_t *pool, void *p);
void pt_slab_free_locked(pt_slab_pool_t *pool, void *p);

#endif /* PT_SHMEM_H */
