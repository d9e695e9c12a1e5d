/*
 * pt_list.h: a list of fixed-size array parts.  Unlike pt_array_t, elements
 * never move once pushed, so pointers to them stay valid (request headers,
 * open files, shared memory zones).
 */

#ifndef PT_LIST_H
#define PT_LIST_H

typedef struct pt_list_part_s pt_list_part_t;

struct pt_list_part_s {
    void            *elts;
    pt_uint_t        nelts;
    pt_list_part_t  *next;
};

typedef struct {
    pt_list_part_t  *last;
    pt_list_part_t   part;
    size_t           size;
    pt_uint_t        nalloc;
    pt_pool_t       *pool;
} pt_list_t;

pt_list_t *pt_list_create(pt_pool_t *pool, pt_uint_t n, size_t size);
void *pt_list_push(pt_list_t *list);

static inline pt_int_t
pt_list_init(pt_list_t *list, pt_pool_t *pool, pt_uint_t n, size_t size)
{
    list->part.elts = pt_palloc(pool, n * size);
    if (list->part.elts == NULL) {
        return PT_ERROR;
    }
    list->part.nelts = 0;
    list->part.next = NULL;
    list->last = &list->part;
    list->size = size;
    list->nalloc = n;
    list->pool = pool;
    return PT_OK;
}

/*
 * Iterate:
 *   part = &list.part; elt = part->elts;
 *   for (i = 0; ; i++) {
 *       if (i >= part->nelts) {
 *           if (part->next == NULL) break;
 *           part = part->next; elt = part->elts; i = 0;
 *       }
 *       ... elt[i] ...
 *   }
 */

#endif /* PT_LIST_H */
