/*
 * slab.c: unit tests for the shared-memory slab allocator and the robust
 * shared mutex.
 *
 * The core of it is a shadow model: every live allocation owns the 8-byte
 * units of the zone it covers (rounded up to its chunk size or to whole
 * pages), so any overlap between two live allocations is caught the moment
 * the second one is handed out.  Random alloc/free sequences run against
 * two page sizes; the free-run structure is checked for consistency along
 * the way, and after freeing everything the whole zone must be one free run
 * again.
 */

#include "portico.h"
#include "tap.h"

#define ZONE_SIZE    (2 * 1024 * 1024)
#define MAX_LIVE     4096        /* live allocations in the random runs */
#define LIVE_SLOTS   40000       /* room for a zone full of 8-byte chunks */
#define UNIT         8

typedef struct {
    u_char   *p;
    size_t    size;     /* requested */
    size_t    span;     /* what it really occupies */
    uint32_t  id;
} live_t;

static live_t     live[LIVE_SLOTS];
static pt_uint_t  nlive;
static uint32_t  *owner;        /* per UNIT of the page area: id, 0: free */
static size_t     owner_n;
static uint64_t   rnd_state = 88172645463325252ULL;

static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* A fresh zone of size bytes, page-aligned like a real mapping. */
static pt_slab_pool_t *
zone_create(size_t size)
{
    u_char          *addr;
    pt_slab_pool_t  *pool;

    addr = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_ANON|MAP_SHARED, -1, 0);
    if (addr == MAP_FAILED) {
        printf("Bail out! mmap failed\n");
        exit(1);
    }

    pool = (pt_slab_pool_t *) addr;
    pool->end = addr + size;
    pool->min_shift = 3;
    pool->addr = addr;

    pt_slab_init(pool);

    return pool;
}

static pt_uint_t
zone_pages(pt_slab_pool_t *pool)
{
    return (pt_uint_t) (pool->last - pool->pages);
}

/* What an allocation of size really occupies. */
static size_t
span_of(pt_slab_pool_t *pool, size_t size)
{
    size_t  s;

    if (size > pt_pagesize / 2) {
        return (size + pt_pagesize - 1) & ~(pt_pagesize - 1);
    }

    for (s = pool->min_size; s < size; s <<= 1) { /* void */ }

    return s;
}

/*
 * Checks the free runs: each is a PAGE-type head inside the page array,
 * with a tail pointing back at it; they do not overlap, no two are
 * adjacent (freeing always merges), and their lengths add up to pfree.
 * Returns the number of runs, or -1 (with a diagnostic) when broken.
 */
static long
check_free_runs(pt_slab_pool_t *pool)
{
    u_char          *seen;
    pt_uint_t        sum, n, i, idx, runs;
    pt_slab_page_t  *page, *tail;

    n = zone_pages(pool);
    seen = calloc(n + 2, 1);
    sum = 0;
    runs = 0;

    for (page = pool->free.next; page != &pool->free; page = page->next) {
        if (page < pool->pages || page >= pool->last || (page->prev & 3) != 0
            || page->slab == 0 || page->slab > n)
        {
            printf("# bad free run head %p slab %lu\n", (void *) page,
                   (unsigned long) page->slab);
            free(seen);
            return -1;
        }

        idx = page - pool->pages;

        if (idx + page->slab > n) {
            printf("# free run past the end\n");
            free(seen);
            return -1;
        }

        if (page->slab > 1) {
            tail = page + page->slab - 1;
            if ((pt_slab_page_t *) (tail->prev & ~(uintptr_t) 3) != page
                || tail->next != NULL)
            {
                printf("# free run tail does not point at its head\n");
                free(seen);
                return -1;
            }
        }

        for (i = idx; i < idx + page->slab; i++) {
            if (seen[i]) {
                printf("# free runs overlap at page %lu\n", (unsigned long) i);
                free(seen);
                return -1;
            }
            seen[i] = 1;
        }

        /* mark the boundaries to detect adjacency */
        sum += page->slab;
        runs++;

        if (runs > n) {
            printf("# free list loops\n");
            free(seen);
            return -1;
        }
    }

    for (page = pool->free.next; page != &pool->free; page = page->next) {
        idx = page - pool->pages;
        if (idx > 0 && seen[idx - 1]) {
            printf("# two adjacent free runs at page %lu\n", (unsigned long) idx);
            free(seen);
            return -1;
        }
    }

    free(seen);

    if (sum != pool->pfree) {
        printf("# free runs hold %lu pages, pfree says %lu\n",
               (unsigned long) sum, (unsigned long) pool->pfree);
        return -1;
    }

    return (long) runs;
}

static void
owner_reset(pt_slab_pool_t *pool)
{
    free(owner);
    owner_n = (size_t) zone_pages(pool) * pt_pagesize / UNIT;
    owner = calloc(owner_n + 1, sizeof(uint32_t));
    nlive = 0;
}

/* Claims the units of an allocation; 0 on overlap or out of range. */
static int
owner_claim(pt_slab_pool_t *pool, u_char *p, size_t span, uint32_t id)
{
    size_t  i, first, n;

    if (p < pool->start || p + span > pool->start + owner_n * UNIT) {
        printf("# allocation %p+%zu outside the page area\n", (void *) p, span);
        return 0;
    }

    first = (p - pool->start) / UNIT;
    n = span / UNIT;

    for (i = first; i < first + n; i++) {
        if (owner[i]) {
            printf("# allocation %u overlaps allocation %u\n", id, owner[i]);
            return 0;
        }
    }

    for (i = first; i < first + n; i++) {
        owner[i] = id;
    }

    return 1;
}

static void
owner_release(pt_slab_pool_t *pool, live_t *l)
{
    size_t  i, first;

    first = (l->p - pool->start) / UNIT;
    for (i = first; i < first + l->span / UNIT; i++) {
        owner[i] = 0;
    }
}

/* Sizes: mostly small, every size class, some multi-page runs. */
static size_t
random_size(void)
{
    uint64_t  r;

    r = rnd() % 100;

    if (r < 60) {
        return 1 + rnd() % 128;
    }
    if (r < 85) {
        return 1 + rnd() % (pt_pagesize / 2);
    }
    if (r < 97) {
        return pt_pagesize / 2 + 1 + rnd() % (2 * pt_pagesize);
    }
    return 1 + rnd() % (6 * pt_pagesize);
}

/* Frees live[i] after checking its fill pattern survived. */
static int
free_live(pt_slab_pool_t *pool, pt_uint_t i)
{
    size_t  k;
    u_char  fill;
    int     ok;

    fill = (u_char) live[i].id;
    ok = 1;

    for (k = 0; k < live[i].size; k++) {
        if (live[i].p[k] != fill) {
            printf("# allocation %u was overwritten\n", live[i].id);
            ok = 0;
            break;
        }
    }

    owner_release(pool, &live[i]);
    pt_slab_free(pool, live[i].p);
    live[i] = live[--nlive];

    return ok;
}

static pt_uint_t
stats_used(pt_slab_pool_t *pool)
{
    pt_uint_t  i, n, used;

    n = 0;
    for (i = pt_pagesize; i > 1; i >>= 1) {
        n++;
    }
    n -= pool->min_shift;

    for (i = 0, used = 0; i < n; i++) {
        used += pool->stats[i].used;
    }

    return used;
}

/*
 * The random run: iters operations, alloc-biased while few are live,
 * free-biased near MAX_LIVE.  Returns 1 when every check held.
 */
static int
random_run(pt_slab_pool_t *pool, pt_uint_t iters, pt_uint_t *nulls)
{
    u_char      *p;
    size_t       size;
    uint32_t     id;
    pt_uint_t    it, small;
    int          ok;

    ok = 1;
    id = 0;
    *nulls = 0;

    for (it = 0; it < iters && ok; it++) {

        if (nlive < MAX_LIVE && (nlive == 0 || rnd() % 100 < 55)) {
            size = random_size();
            p = pt_slab_alloc(pool, size);

            if (p == NULL) {
                (*nulls)++;
                continue;
            }

            if (((uintptr_t) p & (span_of(pool, size) > pt_pagesize
                                  ? pt_pagesize - 1 : span_of(pool, size) - 1)) != 0)
            {
                printf("# %p is not aligned for size %zu\n", (void *) p, size);
                ok = 0;
                break;
            }

            id++;
            if ((id & 0xff) == 0) {
                id++;               /* fill byte 0 looks like fresh memory */
            }

            live[nlive].p = p;
            live[nlive].size = size;
            live[nlive].span = span_of(pool, size);
            live[nlive].id = id;

            if (!owner_claim(pool, p, live[nlive].span, id)) {
                ok = 0;
                break;
            }

            pt_memset(p, (u_char) id, size);
            nlive++;

        } else {
            ok = free_live(pool, (pt_uint_t) (rnd() % nlive));
        }

        if ((it % 997) == 0 && check_free_runs(pool) < 0) {
            ok = 0;
        }
    }

    small = 0;
    for (it = 0; it < nlive; it++) {
        if (live[it].size <= pt_pagesize / 2) {
            small++;
        }
    }

    if (ok && stats_used(pool) != small) {
        printf("# stats say %lu chunks used, %lu small allocations are live\n",
               (unsigned long) stats_used(pool), (unsigned long) small);
        ok = 0;
    }

    return ok;
}

static int
free_all(pt_slab_pool_t *pool)
{
    int  ok;

    ok = 1;
    while (nlive) {
        ok &= free_live(pool, nlive - 1);
    }

    return ok;
}

/* The whole zone is one free run again. */
static int
all_returned(pt_slab_pool_t *pool)
{
    return pool->pfree == zone_pages(pool)
           && pool->free.next == pool->pages
           && pool->free.next->next == &pool->free
           && pool->pages->slab == zone_pages(pool)
           && check_free_runs(pool) == 1
           && stats_used(pool) == 0;
}

static void
test_layout(void)
{
    pt_slab_pool_t  *pool;

    pool = zone_create(ZONE_SIZE);

    tap_ok(zone_pages(pool) > 0 && zone_pages(pool) < ZONE_SIZE / pt_pagesize,
           "zone of %d bytes has %lu pages", ZONE_SIZE, (unsigned long) zone_pages(pool));
    tap_ok(((uintptr_t) pool->start & (pt_pagesize - 1)) == 0, "pages are page-aligned");
    tap_ok(pool->start + zone_pages(pool) * pt_pagesize <= pool->end, "pages fit in the zone");
    tap_ok((u_char *) pool->last <= pool->start, "descriptors end before the pages");
    tap_is_int(check_free_runs(pool), 1, "a fresh zone is one free run");
    tap_ok(pool->mutex.mutex == &pool->lock, "the mutex lives in the zone");

    munmap(pool, ZONE_SIZE);
}

static void
test_sizes(void)
{
    size_t           sizes[] = { 0, 1, 7, 8, 9, 16, 17, 33, 64, 65, 100, 128, 129,
                                 255, 256, 257, 511, 512, 1000, 1024, 2000, 2048,
                                 2049, 4096, 4097, 10000, 40000 };
    u_char          *p[sizeof(sizes) / sizeof(sizes[0])];
    pt_uint_t        i, n, aligned, claimed;
    pt_slab_pool_t  *pool;

    pool = zone_create(ZONE_SIZE);
    owner_reset(pool);

    n = sizeof(sizes) / sizeof(sizes[0]);
    aligned = claimed = 0;

    for (i = 0; i < n; i++) {
        p[i] = pt_slab_alloc(pool, sizes[i]);
        if (p[i] == NULL) {
            continue;
        }
        if (((uintptr_t) p[i] & (pt_min(span_of(pool, sizes[i] ? sizes[i] : 1),
                                        (size_t) pt_pagesize) - 1)) == 0)
        {
            aligned++;
        }
        claimed += owner_claim(pool, p[i], span_of(pool, sizes[i] ? sizes[i] : 1), i + 1);
        if (sizes[i]) {
            pt_memset(p[i], 0xa5, sizes[i]);
        }
    }

    tap_is_int(aligned, n, "every size class: aligned to its chunk size or a page");
    tap_is_int(claimed, n, "every size class: no overlap");

    for (i = 0; i < n; i++) {
        pt_slab_free(pool, p[i]);
    }

    tap_ok(all_returned(pool), "every size class: all memory back after free");

    p[0] = pt_slab_calloc(pool, 300);
    pt_memset(p[0], 0xff, 300);
    pt_slab_free(pool, p[0]);
    p[0] = pt_slab_calloc(pool, 300);
    for (i = 0; i < 300 && p[0][i] == 0; i++) { /* void */ }
    tap_is_int(i, 300, "calloc zeroes reused memory");
    pt_slab_free(pool, p[0]);

    munmap(pool, ZONE_SIZE);
}

static void
test_random(pt_uint_t pagesize, pt_uint_t iters)
{
    pt_uint_t        nulls, saved;
    pt_slab_pool_t  *pool;

    saved = pt_pagesize;
    pt_pagesize = pagesize;
    pt_slab_sizes_init();

    pool = zone_create(ZONE_SIZE * (pagesize > 4096 ? 4 : 1));
    owner_reset(pool);

    tap_ok(random_run(pool, iters, &nulls),
           "page %lu: %lu random alloc/free: no overlap, contents intact, "
           "free runs consistent (%lu NULL when full)",
           (unsigned long) pagesize, (unsigned long) iters, (unsigned long) nulls);
    tap_ok(free_all(pool), "page %lu: contents intact at the final free",
           (unsigned long) pagesize);
    tap_ok(all_returned(pool), "page %lu: all memory back, coalesced into one run",
           (unsigned long) pagesize);

    munmap(pool, (size_t) (pool->end - (u_char *) pool));

    pt_pagesize = saved;
    pt_slab_sizes_init();
}

/* How many allocations of size a fresh zone holds: whole pages of chunks
 * (less the bitmap of pages of small chunks), or whole runs. */
static pt_uint_t
expected_capacity(pt_slab_pool_t *pool, size_t size)
{
    size_t     span, chunks, reserved;
    pt_uint_t  pages;

    pages = zone_pages(pool);
    span = span_of(pool, size);

    if (span > pt_pagesize / 2) {
        return pages / (span / pt_pagesize);
    }

    chunks = pt_pagesize / span;
    reserved = (span < pt_pagesize / (8 * sizeof(uintptr_t)))
               ? (chunks / 8 + span - 1) / span : 0;

    return pages * (chunks - reserved);
}

/* Fill a zone with one size until it fails, then free in a scrambled
 * order; the zone must end up whole again. */
static void
test_exhaustion(size_t size, const char *what)
{
    u_char          *p;
    pt_uint_t        n, i, j, fails, freed, back;
    live_t           t;
    pt_slab_pool_t  *pool;

    pool = zone_create(256 * 1024);
    owner_reset(pool);

    n = 0;
    for ( ;; ) {
        p = pt_slab_alloc(pool, size);
        if (p == NULL) {
            break;
        }
        if (nlive == LIVE_SLOTS) {
            break;
        }
        live[nlive].p = p;
        live[nlive].size = size;
        live[nlive].span = span_of(pool, size);
        live[nlive].id = ++n;
        if (!owner_claim(pool, p, live[nlive].span, n)) {
            break;
        }
        pt_memset(p, (u_char) n, size);
        nlive++;
    }

    tap_ok(p == NULL && nlive == expected_capacity(pool, size)
           && pool->pfree * pt_pagesize < span_of(pool, size),
           "%s: %lu allocations (all the zone holds), then NULL", what,
           (unsigned long) nlive);

    fails = 0;
    for (i = 0; i < 10; i++) {
        fails += pt_slab_alloc(pool, size) == NULL;
    }
    fails += pt_slab_alloc(pool, 3 * pt_pagesize) == NULL;
    tap_is_int(fails, 11, "%s: a full zone keeps returning NULL", what);

    /* Chunks freed from full pages must be found again. */
    for (i = 0, freed = 0; i < nlive; i++) {
        if (i % 2 == 0) {
            continue;
        }
        live[i].size = 0;
        owner_release(pool, &live[i]);
        pt_slab_free(pool, live[i].p);
        freed++;
    }
    for (i = 0, back = 0; i < nlive; i++) {
        if (live[i].size == 0) {
            live[i].p = pt_slab_alloc(pool, size);
            if (live[i].p == NULL || !owner_claim(pool, live[i].p, live[i].span, live[i].id)) {
                break;
            }
            live[i].size = size;
            pt_memset(live[i].p, (u_char) live[i].id, size);
            back++;
        }
    }
    tap_ok(back == freed && i == nlive && pt_slab_alloc(pool, size) == NULL,
           "%s: freeing every other one and refilling gets all %lu back", what,
           (unsigned long) freed);

    for (i = nlive; i > 1; i--) {
        j = (pt_uint_t) (rnd() % i);
        t = live[i - 1];
        live[i - 1] = live[j];
        live[j] = t;
    }

    tap_ok(free_all(pool) && all_returned(pool), "%s: everything back after freeing", what);

    munmap(pool, 256 * 1024);
}

/* Bad frees are refused without damage. */
static void
test_bad_frees(void)
{
    u_char          *a, *b, *big;
    pt_uint_t        pfree, used;
    pt_slab_pool_t  *pool;

    pool = zone_create(ZONE_SIZE);

    a = pt_slab_alloc(pool, 32);
    b = pt_slab_alloc(pool, 32);
    big = pt_slab_alloc(pool, 3 * pt_pagesize);

    pt_slab_free(pool, a);
    pfree = pool->pfree;
    used = stats_used(pool);

    pt_slab_free(pool, a);                      /* double free */
    pt_slab_free(pool, b + 5);                  /* inside a chunk */
    pt_slab_free(pool, big + pt_pagesize);      /* inside a run */
    pt_slab_free(pool, big + 10);               /* not page aligned */
    pt_slab_free(pool, (u_char *) pool);        /* outside the pages */
    pt_slab_free(pool, pool->end + 100);

    tap_ok(pool->pfree == pfree && stats_used(pool) == used && check_free_runs(pool) > 0,
           "double free, interior and foreign pointers are refused");

    pt_slab_free(pool, b);
    pt_slab_free(pool, big);
    pt_slab_free(pool, big);                    /* double free of a run */

    tap_ok(all_returned(pool), "the zone is intact after the bad frees");

    munmap(pool, ZONE_SIZE);
}

/* A mutex whose owner died is recovered, not deadlocked. */
static void
test_robust_mutex(void)
{
    int              status;
    pid_t            pid;
    pt_slab_pool_t  *pool;

    pool = zone_create(64 * 1024);

    tap_is_int(pt_shmtx_trylock(&pool->mutex), 1, "trylock takes a free lock");
    tap_is_int(pt_shmtx_trylock(&pool->mutex), 0, "trylock fails on a held lock");
    pt_shmtx_unlock(&pool->mutex);

    pid = fork();
    if (pid == 0) {
        pt_shmtx_lock(&pool->mutex);
        _exit(0);                               /* dies holding it */
    }
    waitpid(pid, &status, 0);

    alarm(5);                                   /* a deadlock fails the test */
    pt_shmtx_lock(&pool->mutex);
    pt_shmtx_unlock(&pool->mutex);
    alarm(0);
    tap_ok(1, "lock after the owner died returns (EOWNERDEAD recovered)");

    tap_is_int(pt_shmtx_trylock(&pool->mutex), 1, "the recovered lock works again");
    pt_shmtx_unlock(&pool->mutex);

    munmap(pool, 64 * 1024);
}

/* Two processes allocate and free in one zone at the same time through
 * the locking API; the zone must come out whole. */
static void
test_processes(void)
{
    int              status, ok;
    u_char          *mine[256];
    pid_t            pids[2];
    pt_uint_t        i, k, n;
    pt_slab_pool_t  *pool;

    pool = zone_create(ZONE_SIZE);
    ok = 1;

    for (k = 0; k < 2; k++) {
        pids[k] = fork();
        if (pids[k] != 0) {
            continue;
        }

        rnd_state += k * 7919;
        n = 0;

        for (i = 0; i < 50000; i++) {
            if (n < 256 && (n == 0 || rnd() % 2)) {
                mine[n] = pt_slab_alloc(pool, random_size());
                if (mine[n]) {
                    mine[n][0] = (u_char) (k + 1);
                    n++;
                }
            } else {
                if (mine[n - 1][0] != (u_char) (k + 1)) {
                    _exit(1);
                }
                pt_slab_free(pool, mine[--n]);
            }
        }

        while (n) {
            pt_slab_free(pool, mine[--n]);
        }

        _exit(0);
    }

    for (k = 0; k < 2; k++) {
        if (waitpid(pids[k], &status, 0) != pids[k] || !WIFEXITED(status)
            || WEXITSTATUS(status) != 0)
        {
            ok = 0;
        }
    }

    tap_ok(ok, "two processes share a zone: no clobbered chunk");
    tap_ok(all_returned(pool), "two processes share a zone: all memory back");

    munmap(pool, ZONE_SIZE);
}

int
main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);    /* a crash keeps what was printed */

    pt_pagesize = (pt_uint_t) getpagesize();
    pt_slab_sizes_init();

    tap_plan(40);

    test_layout();
    test_sizes();
    test_random(pt_pagesize, 200000);
    test_random(65536, 100000);
    test_exhaustion(8, "8-byte chunks");
    test_exhaustion(100, "128-byte chunks");
    test_exhaustion(pt_pagesize / 2, "half-page chunks");
    test_exhaustion(pt_pagesize + 1, "two-page runs");
    test_bad_frees();
    test_robust_mutex();
    test_processes();

    free(owner);

    return tap_done();
}
