/*
 * pt_buf.h: buffers and chains.
 *
 * A buffer describes memory [pos, last) inside [start, end), or a file range
 * [file_pos, file_last), plus flags.  Chains of buffers flow through the
 * response filters; free and busy lists let a producer reuse buffers once
 * the writer has sent them, so steady-state traffic allocates nothing.
 */

#ifndef PT_BUF_H
#define PT_BUF_H

typedef void *pt_buf_tag_t;

typedef struct pt_buf_s pt_buf_t;

struct pt_buf_s {
    u_char          *pos;
    u_char          *last;
    off_t            file_pos;
    off_t            file_last;

    u_char          *start;         /* start of the memory block */
    u_char          *end;           /* end of the memory block */
    pt_buf_tag_t     tag;           /* owner, for free-list reuse */
    pt_file_t       *file;
    pt_buf_t        *shadow;

    unsigned         temporary:1;   /* memory may be changed by filters */
    unsigned         memory:1;      /* read-only memory */
    unsigned         in_file:1;
    unsigned         flush:1;
    unsigned         sync:1;
    unsigned         last_buf:1;    /* last buffer of the response */
    unsigned         last_in_chain:1;
    unsigned         temp_file:1;
    unsigned         recycled:1;
};

struct pt_chain_s {
    pt_buf_t    *buf;
    pt_chain_t  *next;
};

typedef struct {
    pt_int_t  num;
    size_t    size;
} pt_bufs_t;

#define pt_buf_in_memory(b)       ((b)->temporary || (b)->memory)
#define pt_buf_in_memory_only(b)  (pt_buf_in_memory(b) && !(b)->in_file)
#define pt_buf_special(b) \
    (((b)->flush || (b)->last_buf || (b)->sync) \
     && !pt_buf_in_memory(b) && !(b)->in_file)
#define pt_buf_size(b) \
    (pt_buf_in_memory(b) ? (off_t) ((b)->last - (b)->pos) : \
                           ((b)->file_last - (b)->file_pos))

#define pt_calloc_buf(pool)  pt_pcalloc(pool, sizeof(pt_buf_t))

pt_buf_t *pt_create_temp_buf(pt_pool_t *pool, size_t size);
pt_chain_t *pt_create_chain_of_bufs(pt_pool_t *pool, pt_bufs_t *bufs);
pt_chain_t *pt_alloc_chain_link(pt_pool_t *pool);

static inline void
pt_free_chain(pt_pool_t *pool, pt_chain_t *cl)
{
    cl->next = pool->chain;
    pool->chain = cl;
}

/* Appends copies of the links of in to *chain (buffers are shared). */
pt_int_t pt_chain_add_copy(pt_pool_t *pool, pt_chain_t **chain, pt_chain_t *in);
pt_chain_t *pt_chain_get_free_buf(pt_pool_t *p, pt_chain_t **free);
/* Moves sent buffers from *busy (and *out) to *free when their tag matches. */
void pt_chain_update_chains(pt_pool_t *p, pt_chain_t **free, pt_chain_t **busy,
    pt_chain_t **out, pt_buf_tag_t tag);
/* Advances the chain past sent bytes; returns the first unsent link. */
pt_chain_t *pt_chain_update_sent(pt_chain_t *in, off_t sent);

#endif /* PT_BUF_H */
