/*
 * pt_palloc.c: region pools.
 *
 * A pool is a chain of blocks.  Small requests bump a pointer in the
 * current block; a block that failed to satisfy four requests is skipped
 * from then on so allocation stays O(1) in practice.  Requests larger than
 * pool->max go to malloc and are tracked on the large list.
 */

#include "portico.h"

/* Machine facts, set once in main(); here so unit tests link without it. */
pt_uint_t  pt_pagesize = 4096;
pt_uint_t  pt_ncpu = 1;
pt_uint_t  pt_cacheline_size = 64;

/*
 * The first blocks of connection pools.  Every connection, idle keepalive
 * ones included, holds one for its whole life, so what malloc adds to each
 * (a 16-byte header, and a malloc/free per accept) is paid ten thousand
 * times over by ten thousand idle clients.  They come instead from slabs of
 * PT_POOL_SLAB_BLOCKS equal blocks, and go back to a free list when the
 * connection closes; a worker keeps its peak and never returns it, as it
 * keeps its connection table.  One size is cached (that of the first pool
 * asked for; all servers share the default connection_pool_size), other
 * sizes go to malloc.
 */

#define PT_POOL_SLAB_BLOCKS  64

/* Under AddressSanitizer a free block is poisoned, so a use after the
 * connection closed is still reported although the memory is kept. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define pt_pool_block_poison(b, n)    ASAN_POISON_MEMORY_REGION(b, n)
#define pt_pool_block_unpoison(b, n)  ASAN_UNPOISON_MEMORY_REGION(b, n)
#else
#define pt_pool_block_poison(b, n)
#define pt_pool_block_unpoison(b, n)
#endif

static size_t   pt_pool_block_size;
static void    *pt_pool_block_free;

static void *pt_pool_block_get(size_t size, pt_log_t *log);
static void pt_pool_block_put(void *block);
static void pt_pool_init(pt_pool_t *p, size_t size, pt_log_t *log);
static void *pt_palloc_small(pt_pool_t *pool, size_t size, pt_uint_t align);
static void *pt_palloc_block(pt_pool_t *pool, size_t size);
static void *pt_palloc_large(pt_pool_t *pool, size_t size);

void *
pt_alloc(size_t size, pt_log_t *log)
{
    void  *p;

    p = malloc(size);
    if (p == NULL && log) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "malloc(%zu) failed", size);
    }

    return p;
}

void *
pt_calloc(size_t size, pt_log_t *log)
{
    void  *p;

    p = pt_alloc(size, log);
    if (p) {
        pt_memzero(p, size);
    }

    return p;
}

static void *
pt_memalign(size_t alignment, size_t size, pt_log_t *log)
{
    void  *p;
    int    err;

    err = posix_memalign(&p, alignment, size);
    if (err) {
        if (log) {
            pt_log_error(PT_LOG_EMERG, log, err,
                         "posix_memalign(%zu, %zu) failed", alignment, size);
        }
        return NULL;
    }

    return p;
}

pt_pool_t *
pt_create_pool(size_t size, pt_log_t *log)
{
    pt_pool_t  *p;

    if (size < PT_MIN_POOL_SIZE) {
        size = PT_MIN_POOL_SIZE;
    }

    p = pt_memalign(PT_POOL_ALIGNMENT, size, log);
    if (p == NULL) {
        return NULL;
    }

    pt_pool_init(p, size, log);

    return p;
}

pt_pool_t *
pt_create_pool_cached(size_t size, pt_log_t *log)
{
    pt_pool_t  *p;

    size = pt_align(size < PT_MIN_POOL_SIZE ? PT_MIN_POOL_SIZE : size,
                    PT_POOL_ALIGNMENT);

    if (pt_pool_block_size == 0) {
        pt_pool_block_size = size;
    }

    if (size != pt_pool_block_size) {
        return pt_create_pool(size, log);
    }

    p = pt_pool_block_get(size, log);
    if (p == NULL) {
        return NULL;
    }

    pt_pool_init(p, size, log);
    p->d.cached = 1;

    return p;
}

static void
pt_pool_init(pt_pool_t *p, size_t size, pt_log_t *log)
{
    p->d.last = (u_char *) p + sizeof(pt_pool_t);
    p->d.end = (u_char *) p + size;
    p->d.next = NULL;
    p->d.failed = 0;
    p->d.cached = 0;

    size = size - sizeof(pt_pool_t);
    p->max = (size < PT_MAX_ALLOC_FROM_POOL) ? size : PT_MAX_ALLOC_FROM_POOL;

    p->current = p;
    p->chain = NULL;
    p->large = NULL;
    p->cleanup = NULL;
    p->log = log;
}

/* A block of pt_pool_block_size bytes, from the free list or a new slab. */
static void *
pt_pool_block_get(size_t size, pt_log_t *log)
{
    u_char     *slab;
    void       *block;
    pt_uint_t   i;

    if (pt_pool_block_free == NULL) {
        slab = pt_memalign(PT_POOL_ALIGNMENT, size * PT_POOL_SLAB_BLOCKS, log);
        if (slab == NULL) {
            return NULL;
        }

        for (i = PT_POOL_SLAB_BLOCKS; i > 0; i--) {
            pt_pool_block_put(slab + (i - 1) * size);
        }
    }

    block = pt_pool_block_free;
    pt_pool_block_unpoison(block, pt_pool_block_size);
    pt_pool_block_free = *(void **) block;

    return block;
}

static void
pt_pool_block_put(void *block)
{
    *(void **) block = pt_pool_block_free;
    pt_pool_block_free = block;

    /* the link stays readable: pt_pool_block_get() reads it */
    pt_pool_block_poison((u_char *) block + sizeof(void *),
                         pt_pool_block_size - sizeof(void *));
}

void
pt_destroy_pool(pt_pool_t *pool)
{
    pt_pool_t          *p, *n;
    pt_pool_large_t    *l;
    pt_pool_cleanup_t  *c;

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            pt_free(l->alloc);
        }
    }

    for (p = pool, n = pool->d.next; /* void */; p = n, n = n->d.next) {
        if (p->d.cached) {
            pt_pool_block_put(p);
        } else {
            pt_free(p);
        }

        if (n == NULL) {
            break;
        }
    }
}

/* Empties the pool for reuse without giving its blocks back (cleanups are
 * not run: reset is for pools whose owner has none). */
void
pt_reset_pool(pt_pool_t *pool)
{
    pt_pool_t        *p;
    pt_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            pt_free(l->alloc);
        }
    }

    for (p = pool; p; p = p->d.next) {
        p->d.last = (u_char *) p + sizeof(pt_pool_t);
        p->d.failed = 0;
    }

    pool->current = pool;
    pool->chain = NULL;
    pool->large = NULL;
}

void *
pt_palloc(pt_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return pt_palloc_small(pool, size, 1);
    }

    return pt_palloc_large(pool, size);
}

void *
pt_pnalloc(pt_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return pt_palloc_small(pool, size, 0);
    }

    return pt_palloc_large(pool, size);
}

static void *
pt_palloc_small(pt_pool_t *pool, size_t size, pt_uint_t align)
{
    u_char     *m;
    pt_pool_t  *p;

    p = pool->current;

    do {
        m = p->d.last;

        if (align) {
            m = pt_align_ptr(m, PT_ALIGNMENT);
        }

        if ((size_t) (p->d.end - m) >= size) {
            p->d.last = m + size;
            return m;
        }

        p = p->d.next;

    } while (p);

    return pt_palloc_block(pool, size);
}

static void *
pt_palloc_block(pt_pool_t *pool, size_t size)
{
    u_char     *m;
    size_t      psize;
    pt_pool_t  *p, *new;

    psize = (size_t) (pool->d.end - (u_char *) pool);

    m = pt_memalign(PT_POOL_ALIGNMENT, psize, pool->log);
    if (m == NULL) {
        return NULL;
    }

    new = (pt_pool_t *) m;
    new->d.end = m + psize;
    new->d.next = NULL;
    new->d.failed = 0;
    new->d.cached = 0;

    m += sizeof(pt_pool_data_t);
    m = pt_align_ptr(m, PT_ALIGNMENT);
    new->d.last = m + size;

    for (p = pool->current; p->d.next; p = p->d.next) {
        if (p->d.failed++ > 4) {
            pool->current = p->d.next;
        }
    }

    p->d.next = new;

    return m;
}

static void *
pt_palloc_large(pt_pool_t *pool, size_t size)
{
    void             *p;
    pt_uint_t         n;
    pt_pool_large_t  *large;

    p = pt_alloc(size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    /* Reuse an emptied slot near the head before adding a new one. */
    n = 0;
    for (large = pool->large; large; large = large->next) {
        if (large->alloc == NULL) {
            large->alloc = p;
            return p;
        }
        if (n++ > 3) {
            break;
        }
    }

    large = pt_palloc_small(pool, sizeof(pt_pool_large_t), 1);
    if (large == NULL) {
        pt_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}

void *
pt_pmemalign(pt_pool_t *pool, size_t size, size_t alignment)
{
    void             *p;
    pt_pool_large_t  *large;

    p = pt_memalign(alignment, size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    large = pt_palloc_small(pool, sizeof(pt_pool_large_t), 1);
    if (large == NULL) {
        pt_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}

pt_int_t
pt_pfree(pt_pool_t *pool, void *p)
{
    pt_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (p == l->alloc) {
            pt_free(l->alloc);
            l->alloc = NULL;
            return PT_OK;
        }
    }

    return PT_DECLINED;
}

void *
pt_pcalloc(pt_pool_t *pool, size_t size)
{
    void  *p;

    p = pt_palloc(pool, size);
    if (p) {
        pt_memzero(p, size);
    }

    return p;
}

pt_pool_cleanup_t *
pt_pool_cleanup_add(pt_pool_t *p, size_t size)
{
    pt_pool_cleanup_t  *c;

    c = pt_palloc(p, sizeof(pt_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = pt_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }
    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}

void
pt_pool_cleanup_file(void *data)
{
    pt_pool_cleanup_file_t  *c = data;

    if (close(c->fd) == -1) {
        pt_log_error(PT_LOG_ALERT, c->log, pt_errno,
                     "close() \"%s\" failed", c->name);
    }
}
