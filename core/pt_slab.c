/*
 * pt_slab.c: the slab allocator for shared memory zones.
 *
 * A zone starts with the pool header, then per-size-class list heads
 * ("slots") and their statistics, then one descriptor per page, then the
 * pages themselves, aligned to pt_pagesize:
 *
 *   | pool | slots[n] | stats[n] | pages[npages] | pad | page 0 | page 1 |...
 *
 * Requests up to half a page are rounded up to a power of two (at least
 * min_size) and served as chunks of a page dedicated to that size; larger
 * requests get a run of whole pages.  A page descriptor says what its page
 * is through the low two bits of its prev field (pointers to descriptors
 * are at least 4-aligned, so those bits are free):
 *
 *   PAGE   part of a free run or of a multi-page allocation
 *   SMALL  chunks smaller than the "exact" size: the bitmap does not fit
 *          in the descriptor, so it lives in the first chunks of the page
 *          itself; slab holds the chunk shift
 *   EXACT  chunks of exactly pagesize / bits-per-word bytes: slab is the
 *          bitmap, one bit per chunk
 *   BIG    bigger chunks, fewer than bits-per-word per page: slab holds
 *          the bitmap in its low bits and the shift in its top byte
 *
 * Chunk pages with at least one free chunk are linked into the list of
 * their size class; a full page is unlinked (next == NULL) until a chunk
 * of it is freed, and a page whose chunks are all free goes back to the
 * free runs.  Free runs are linked into pool->free; the first page of a run
 * holds its length in slab, and its last page points back at the first, so
 * a page being freed finds and merges with both neighbouring runs in O(1).
 *
 * Page descriptors of PAGE type:
 *   free run head    slab = npages, next != NULL (in pool->free)
 *   free run tail    slab = 0, next == NULL, prev = head (runs of 2+ pages)
 *   free, interior   slab = 0, next == NULL, prev = 0
 *   busy run head    slab = npages | PT_SLAB_PAGE_START, next == NULL
 *   busy, interior   slab = PT_SLAB_PAGE_BUSY, next == NULL
 */

#include "portico.h"

#define PT_SLAB_PAGE_MASK    3
#define PT_SLAB_PAGE         0
#define PT_SLAB_BIG          1
#define PT_SLAB_EXACT        2
#define PT_SLAB_SMALL        3

#define PT_SLAB_WORD_BITS    (8 * sizeof(uintptr_t))
#define PT_SLAB_PAGE_START   ((uintptr_t) 1 << (PT_SLAB_WORD_BITS - 1))
#define PT_SLAB_PAGE_BUSY    ((uintptr_t) -1)
#define PT_SLAB_SHIFT_POS    (PT_SLAB_WORD_BITS - 8)
#define PT_SLAB_MAP_MASK     (((uintptr_t) 1 << PT_SLAB_SHIFT_POS) - 1)
#define PT_SLAB_MIN_SHIFT    3

#define pt_slab_page_type(page)  ((page)->prev & PT_SLAB_PAGE_MASK)
#define pt_slab_page_prev(page)                                              \
    ((pt_slab_page_t *) ((page)->prev & ~(uintptr_t) PT_SLAB_PAGE_MASK))
#define pt_slab_slots(pool)                                                  \
    ((pt_slab_page_t *) ((u_char *) (pool) + sizeof(pt_slab_pool_t)))
#define pt_slab_page_addr(pool, page)                                        \
    ((pool)->start + ((uintptr_t) ((page) - (pool)->pages) << pt_slab_page_shift))

static pt_uint_t  pt_slab_page_shift;
static pt_uint_t  pt_slab_max_size;
static pt_uint_t  pt_slab_exact_size;
static pt_uint_t  pt_slab_exact_shift;

static void pt_slab_link(pt_slab_page_t *head, pt_slab_page_t *page, uintptr_t type);
static void pt_slab_unlink(pt_slab_page_t *page, uintptr_t type);
static void pt_slab_run_insert(pt_slab_pool_t *pool, pt_slab_page_t *page,
    pt_uint_t npages);
static pt_slab_page_t *pt_slab_alloc_pages(pt_slab_pool_t *pool, pt_uint_t npages);
static void pt_slab_free_pages(pt_slab_pool_t *pool, pt_slab_page_t *page,
    pt_uint_t npages);
static void *pt_slab_alloc_chunk(pt_slab_pool_t *pool, pt_uint_t shift);
static pt_uint_t pt_slab_chunk_shift(pt_slab_page_t *page);
static void pt_slab_free_chunk(pt_slab_pool_t *pool, pt_slab_page_t *page,
    u_char *p);
static pt_uint_t pt_slab_chunks(pt_uint_t shift);
static pt_uint_t pt_slab_reserved(pt_uint_t shift);
static uintptr_t pt_slab_reserved_mask(pt_uint_t reserved, pt_uint_t word);
static void pt_slab_error(pt_slab_pool_t *pool, pt_uint_t level, const char *text);


/* Derives the size classes from pt_pagesize. */
void
pt_slab_sizes_init(void)
{
    pt_uint_t  n;

    for (n = pt_pagesize, pt_slab_page_shift = 0; n >>= 1; pt_slab_page_shift++) {
        /* void */
    }

    pt_slab_max_size = pt_pagesize / 2;
    pt_slab_exact_size = pt_pagesize / PT_SLAB_WORD_BITS;

    for (n = pt_slab_exact_size, pt_slab_exact_shift = 0; n >>= 1; pt_slab_exact_shift++) {
        /* void */
    }
}


/*
 * Lays out a fresh zone.  The caller sets pool->end (one past the zone)
 * and may set min_shift (default 3: 8-byte chunks) and log_ctx.  The mutex
 * is created in pool->lock unless the caller already did so.
 */
void
pt_slab_init(pt_slab_pool_t *pool)
{
    u_char          *p, *start;
    pt_uint_t        i, n, pages;
    pt_slab_page_t  *slots;

    if (pt_slab_max_size == 0) {
        pt_slab_sizes_init();
    }

    if (pool->min_shift < PT_SLAB_MIN_SHIFT) {
        pool->min_shift = PT_SLAB_MIN_SHIFT;
    }
    pool->min_size = (size_t) 1 << pool->min_shift;

    n = pt_slab_page_shift - pool->min_shift;

    slots = pt_slab_slots(pool);
    for (i = 0; i < n; i++) {
        slots[i].slab = 0;
        slots[i].next = &slots[i];
        slots[i].prev = 0;
    }

    p = (u_char *) (slots + n);
    pool->stats = (pt_slab_stat_t *) p;
    p += n * sizeof(pt_slab_stat_t);

    if (p < pool->end) {
        pt_memzero(pool->stats, n * sizeof(pt_slab_stat_t));
        pages = (pool->end - p) / (pt_pagesize + sizeof(pt_slab_page_t));
    } else {
        pages = 0;
    }

    /* The alignment pad may cost one page. */
    for ( ;; ) {
        start = pt_align_ptr(p + pages * sizeof(pt_slab_page_t), pt_pagesize);
        if (pages == 0 || start + pages * pt_pagesize <= pool->end) {
            break;
        }
        pages--;
    }

    pool->pages = (pt_slab_page_t *) p;
    pool->last = pool->pages + pages;
    pool->start = start;
    pool->pfree = 0;

    pool->free.slab = 0;
    pool->free.next = &pool->free;
    pool->free.prev = (uintptr_t) &pool->free;

    if (pages) {
        pt_memzero(pool->pages, pages * sizeof(pt_slab_page_t));
        pt_slab_run_insert(pool, pool->pages, pages);
        pool->pfree = pages;
    }

    pool->zero = '\0';
    pool->log_nomem = 1;
    if (pool->log_ctx == NULL) {
        pool->log_ctx = &pool->zero;
    }

    if (pool->mutex.mutex != &pool->lock) {
        (void) pt_shmtx_create(&pool->mutex, &pool->lock);
    }
}


/* pt_slab_alloc_locked() under the zone's mutex. */
void *
pt_slab_alloc(pt_slab_pool_t *pool, size_t size)
{
    void  *p;

    pt_shmtx_lock(&pool->mutex);
    p = pt_slab_alloc_locked(pool, size);
    pt_shmtx_unlock(&pool->mutex);

    return p;
}


/* Returns size bytes (aligned to the chunk size, or to a page for big
 * requests) or NULL when the zone is full. */
void *
pt_slab_alloc_locked(pt_slab_pool_t *pool, size_t size)
{
    void            *p;
    pt_uint_t        shift, npages;
    pt_slab_page_t  *page;

    if (size > pt_slab_max_size) {
        npages = (size >> pt_slab_page_shift) + ((size & (pt_pagesize - 1)) ? 1 : 0);

        page = (size <= (size_t) PT_MAX_INT_T_VALUE) ? pt_slab_alloc_pages(pool, npages)
                                                     : NULL;
        p = page ? pt_slab_page_addr(pool, page) : NULL;

    } else {
        for (shift = pool->min_shift; ((size_t) 1 << shift) < size; shift++) {
            /* void */
        }

        p = pt_slab_alloc_chunk(pool, shift);
    }

    if (p == NULL && pool->log_nomem) {
        pt_slab_error(pool, PT_LOG_CRIT, "pt_slab_alloc() failed: no memory");
    }

    return p;
}


/* pt_slab_calloc_locked() under the zone's mutex. */
void *
pt_slab_calloc(pt_slab_pool_t *pool, size_t size)
{
    void  *p;

    pt_shmtx_lock(&pool->mutex);
    p = pt_slab_calloc_locked(pool, size);
    pt_shmtx_unlock(&pool->mutex);

    return p;
}


/* pt_slab_alloc_locked(), zero-filled. */
void *
pt_slab_calloc_locked(pt_slab_pool_t *pool, size_t size)
{
    void  *p;

    p = pt_slab_alloc_locked(pool, size);
    if (p) {
        pt_memzero(p, size);
    }

    return p;
}


/* pt_slab_free_locked() under the zone's mutex. */
void
pt_slab_free(pt_slab_pool_t *pool, void *p)
{
    pt_shmtx_lock(&pool->mutex);
    pt_slab_free_locked(pool, p);
    pt_shmtx_unlock(&pool->mutex);
}


/* Frees a pointer pt_slab_alloc() returned.  Pointers that are not the
 * start of a live allocation are refused with an alert, not trusted. */
void
pt_slab_free_locked(pt_slab_pool_t *pool, void *p)
{
    u_char          *u;
    pt_uint_t        npages;
    pt_slab_page_t  *page;

    u = p;

    if (u < pool->start
        || u >= pool->start + ((uintptr_t) (pool->last - pool->pages) << pt_slab_page_shift))
    {
        pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): outside of pool");
        return;
    }

    page = &pool->pages[(uintptr_t) (u - pool->start) >> pt_slab_page_shift];

    if (pt_slab_page_type(page) != PT_SLAB_PAGE) {
        pt_slab_free_chunk(pool, page, u);
        return;
    }

    if ((uintptr_t) u & (pt_pagesize - 1)) {
        pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): pointer to wrong page");
        return;
    }

    if (page->slab == PT_SLAB_PAGE_BUSY) {
        pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): pointer to wrong page");
        return;
    }

    if (!(page->slab & PT_SLAB_PAGE_START)) {
        pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): page is already free");
        return;
    }

    npages = page->slab & ~PT_SLAB_PAGE_START;
    pt_slab_free_pages(pool, page, npages);
}


/* ---- lists ---- */

/* Inserts page after head in a circular list; type goes to the low bits of
 * the prev links that point at page. */
static void
pt_slab_link(pt_slab_page_t *head, pt_slab_page_t *page, uintptr_t type)
{
    page->next = head->next;
    page->prev = (uintptr_t) head | type;
    head->next->prev = (uintptr_t) page | type;
    head->next = page;
}


/* Takes page out of its list; type stays in its prev bits. */
static void
pt_slab_unlink(pt_slab_page_t *page, uintptr_t type)
{
    pt_slab_page_t  *prev;

    prev = pt_slab_page_prev(page);
    prev->next = page->next;
    page->next->prev = page->prev;

    page->next = NULL;
    page->prev = type;
}


/* Makes [page, page + npages) one free run in pool->free. */
static void
pt_slab_run_insert(pt_slab_pool_t *pool, pt_slab_page_t *page, pt_uint_t npages)
{
    pt_slab_page_t  *tail;

    pt_slab_link(&pool->free, page, PT_SLAB_PAGE);
    page->slab = npages;

    if (npages > 1) {
        tail = page + npages - 1;
        tail->slab = 0;
        tail->next = NULL;
        tail->prev = (uintptr_t) page | PT_SLAB_PAGE;
    }
}


/* ---- page runs ---- */

/* First fit over the free runs; the run is split and its tail stays free. */
static pt_slab_page_t *
pt_slab_alloc_pages(pt_slab_pool_t *pool, pt_uint_t npages)
{
    pt_uint_t        i, rest;
    pt_slab_page_t  *page;

    if (npages == 0 || npages > pool->pfree) {
        return NULL;
    }

    for (page = pool->free.next; page != &pool->free; page = page->next) {

        if (page->slab < npages) {
            continue;
        }

        rest = page->slab - npages;
        pt_slab_unlink(page, PT_SLAB_PAGE);

        if (rest) {
            pt_slab_run_insert(pool, page + npages, rest);
        }

        page->slab = npages | PT_SLAB_PAGE_START;

        for (i = 1; i < npages; i++) {
            page[i].slab = PT_SLAB_PAGE_BUSY;
            page[i].next = NULL;
            page[i].prev = PT_SLAB_PAGE;
        }

        pool->pfree -= npages;

        return page;
    }

    return NULL;
}


/* Returns a run to the free list, merged with the free runs right after
 * and right before it. */
static void
pt_slab_free_pages(pt_slab_pool_t *pool, pt_slab_page_t *page, pt_uint_t npages)
{
    pt_uint_t        i;
    pt_slab_page_t  *next, *prev, *head;

    pool->pfree += npages;

    for (i = 0; i < npages; i++) {
        page[i].slab = 0;
        page[i].next = NULL;
        page[i].prev = PT_SLAB_PAGE;
    }

    next = page + npages;

    if (next < pool->last && pt_slab_page_type(next) == PT_SLAB_PAGE && next->next) {
        npages += next->slab;
        pt_slab_unlink(next, PT_SLAB_PAGE);
        next->slab = 0;
    }

    if (page > pool->pages) {
        prev = page - 1;
        head = NULL;

        if (pt_slab_page_type(prev) == PT_SLAB_PAGE) {
            if (prev->next) {
                head = prev;                        /* a one-page free run */
            } else if (prev->slab == 0) {
                head = pt_slab_page_prev(prev);     /* the tail of a run */
            }
        }

        /* A tail pointer is trusted only if it leads to a free run that
         * really ends right before page. */
        if (head && head >= pool->pages && head < page
            && pt_slab_page_type(head) == PT_SLAB_PAGE && head->next
            && head + head->slab == page)
        {
            pt_slab_unlink(head, PT_SLAB_PAGE);
            npages += head->slab;
            prev->prev = PT_SLAB_PAGE;              /* no longer a tail */
            page = head;
        }
    }

    pt_slab_run_insert(pool, page, npages);
}


/* ---- chunks ---- */

/* Chunks of 1 << shift bytes per page. */
static pt_uint_t
pt_slab_chunks(pt_uint_t shift)
{
    return (pt_uint_t) 1 << (pt_slab_page_shift - shift);
}


/* Chunks a SMALL page gives up to hold its own bitmap. */
static pt_uint_t
pt_slab_reserved(pt_uint_t shift)
{
    size_t  map;

    map = pt_slab_chunks(shift) / 8;

    return (pt_uint_t) ((map + ((size_t) 1 << shift) - 1) >> shift);
}


/* Bits of bitmap word "word" that the reserved chunks occupy. */
static uintptr_t
pt_slab_reserved_mask(pt_uint_t reserved, pt_uint_t word)
{
    pt_uint_t  first;

    first = word * PT_SLAB_WORD_BITS;

    if (reserved <= first) {
        return 0;
    }

    if (reserved - first >= PT_SLAB_WORD_BITS) {
        return (uintptr_t) -1;
    }

    return ((uintptr_t) 1 << (reserved - first)) - 1;
}


/* Turns a free page into a chunk page of the given shift and lists it in
 * its size class. */
static void
pt_slab_chunk_page_init(pt_slab_pool_t *pool, pt_slab_page_t *page, pt_uint_t shift)
{
    pt_uint_t        i, words, reserved, slot;
    uintptr_t       *map, type;
    pt_slab_page_t  *slots;

    slot = shift - pool->min_shift;
    slots = pt_slab_slots(pool);

    if (shift < pt_slab_exact_shift) {
        type = PT_SLAB_SMALL;
        map = (uintptr_t *) pt_slab_page_addr(pool, page);
        words = pt_slab_chunks(shift) / PT_SLAB_WORD_BITS;
        reserved = pt_slab_reserved(shift);

        for (i = 0; i < words; i++) {
            map[i] = pt_slab_reserved_mask(reserved, i);
        }

        page->slab = shift;
        pool->stats[slot].total += pt_slab_chunks(shift) - reserved;

    } else if (shift == pt_slab_exact_shift) {
        type = PT_SLAB_EXACT;
        page->slab = 0;
        pool->stats[slot].total += PT_SLAB_WORD_BITS;

    } else {
        type = PT_SLAB_BIG;
        page->slab = (uintptr_t) shift << PT_SLAB_SHIFT_POS;
        pool->stats[slot].total += pt_slab_chunks(shift);
    }

    pt_slab_link(&slots[slot], page, type);
}


/* Takes a free chunk of 1 << shift bytes from the first page of its size
 * class that has one, starting a new page when none has. */
static void *
pt_slab_alloc_chunk(pt_slab_pool_t *pool, pt_uint_t shift)
{
    u_char          *addr;
    uintptr_t       *map, bits, full;
    pt_uint_t        i, n, bit, slot, words;
    pt_slab_page_t  *page, *slots;

    slot = shift - pool->min_shift;
    slots = pt_slab_slots(pool);
    pool->stats[slot].reqs++;

    page = slots[slot].next;

    if (page == &slots[slot]) {
        page = pt_slab_alloc_pages(pool, 1);
        if (page == NULL) {
            pool->stats[slot].fails++;
            return NULL;
        }
        pt_slab_chunk_page_init(pool, page, shift);
    }

    addr = pt_slab_page_addr(pool, page);

    switch (pt_slab_page_type(page)) {

    case PT_SLAB_SMALL:
        map = (uintptr_t *) addr;
        words = pt_slab_chunks(shift) / PT_SLAB_WORD_BITS;

        for (i = 0; map[i] == (uintptr_t) -1; i++) {
            /* a listed page has a free chunk, so this stops in the map */
        }

        bit = (pt_uint_t) __builtin_ctzl(~map[i]);
        map[i] |= (uintptr_t) 1 << bit;
        n = i * PT_SLAB_WORD_BITS + bit;

        for ( /* void */ ; i < words && map[i] == (uintptr_t) -1; i++) {
            /* void */
        }
        if (i == words) {
            pt_slab_unlink(page, PT_SLAB_SMALL);
        }
        break;

    case PT_SLAB_EXACT:
        n = (pt_uint_t) __builtin_ctzl(~page->slab);
        page->slab |= (uintptr_t) 1 << n;
        if (page->slab == (uintptr_t) -1) {
            pt_slab_unlink(page, PT_SLAB_EXACT);
        }
        break;

    default: /* PT_SLAB_BIG */
        full = ((uintptr_t) 1 << pt_slab_chunks(shift)) - 1;
        bits = page->slab & PT_SLAB_MAP_MASK;
        n = (pt_uint_t) __builtin_ctzl(~bits);
        page->slab |= (uintptr_t) 1 << n;
        if (((bits | ((uintptr_t) 1 << n)) & full) == full) {
            pt_slab_unlink(page, PT_SLAB_BIG);
        }
        break;
    }

    pool->stats[slot].used++;

    return addr + ((uintptr_t) n << shift);
}


/* The chunk shift of a chunk page, wherever its type keeps it. */
static pt_uint_t
pt_slab_chunk_shift(pt_slab_page_t *page)
{
    switch (pt_slab_page_type(page)) {
    case PT_SLAB_SMALL:
        return page->slab;
    case PT_SLAB_EXACT:
        return pt_slab_exact_shift;
    default: /* PT_SLAB_BIG */
        return page->slab >> PT_SLAB_SHIFT_POS;
    }
}


/* Frees chunk p of a chunk page; a page left with no used chunk goes back
 * to the free runs. */
static void
pt_slab_free_chunk(pt_slab_pool_t *pool, pt_slab_page_t *page, u_char *p)
{
    u_char          *addr;
    uintptr_t       *map, type, mask;
    pt_uint_t        i, n, shift, slot, words, reserved, was_full, empty;
    pt_slab_page_t  *slots;

    type = pt_slab_page_type(page);
    addr = pt_slab_page_addr(pool, page);
    shift = pt_slab_chunk_shift(page);

    if ((uintptr_t) (p - addr) & (((uintptr_t) 1 << shift) - 1)) {
        pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): pointer to wrong chunk");
        return;
    }

    n = (pt_uint_t) ((uintptr_t) (p - addr) >> shift);
    mask = (uintptr_t) 1 << (n % PT_SLAB_WORD_BITS);
    slot = shift - pool->min_shift;
    slots = pt_slab_slots(pool);
    was_full = (page->next == NULL);

    if (type == PT_SLAB_SMALL) {
        map = (uintptr_t *) addr;
        words = pt_slab_chunks(shift) / PT_SLAB_WORD_BITS;
        reserved = pt_slab_reserved(shift);

        if (n < reserved) {
            pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): pointer to wrong chunk");
            return;
        }
        if (!(map[n / PT_SLAB_WORD_BITS] & mask)) {
            goto already_free;
        }

        map[n / PT_SLAB_WORD_BITS] &= ~mask;

        for (i = 0, empty = 1; i < words && empty; i++) {
            empty = (map[i] == pt_slab_reserved_mask(reserved, i));
        }

        pool->stats[slot].total -= empty ? pt_slab_chunks(shift) - reserved : 0;

    } else {
        if (!(page->slab & mask)) {
            goto already_free;
        }

        page->slab &= ~mask;
        empty = (type == PT_SLAB_EXACT) ? page->slab == 0
                                        : (page->slab & PT_SLAB_MAP_MASK) == 0;

        pool->stats[slot].total -= empty ? pt_slab_chunks(shift) : 0;
    }

    pool->stats[slot].used--;

    if (empty) {
        if (!was_full) {
            pt_slab_unlink(page, type);
        }
        pt_slab_free_pages(pool, page, 1);
        return;
    }

    if (was_full) {
        pt_slab_link(&slots[slot], page, type);
    }

    return;

already_free:

    pt_slab_error(pool, PT_LOG_ALERT, "pt_slab_free(): chunk is already free");
}


/* Logs text followed by the zone's context (' in zone "NAME"') in the
 * current cycle's log; silent when there is none (unit tests). */
static void
pt_slab_error(pt_slab_pool_t *pool, pt_uint_t level, const char *text)
{
    if (pt_cycle && pt_cycle->log) {
        pt_log_error(level, pt_cycle->log, 0, "%s%s", text, (char *) pool->log_ctx);
    }
}
