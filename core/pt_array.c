/*
 * pt_array.c: growable pool arrays and part lists.
 */

#include "portico.h"

pt_array_t *
pt_array_create(pt_pool_t *p, pt_uint_t n, size_t size)
{
    pt_array_t  *a;

    a = pt_palloc(p, sizeof(pt_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (pt_array_init(a, p, n, size) != PT_OK) {
        return NULL;
    }

    return a;
}

/* Gives the memory back when the array is the last thing in its block. */
void
pt_array_destroy(pt_array_t *a)
{
    pt_pool_t  *p;

    p = a->pool;

    if ((u_char *) a->elts + a->size * a->nalloc == p->d.last) {
        p->d.last -= a->size * a->nalloc;
    }

    if ((u_char *) a + sizeof(pt_array_t) == p->d.last) {
        p->d.last = (u_char *) a;
    }
}

/* Makes room for n more elements, in place when possible. */
static pt_int_t
pt_array_grow(pt_array_t *a, pt_uint_t n)
{
    void       *new;
    size_t      size;
    pt_uint_t   nalloc;
    pt_pool_t  *p;

    size = n * a->size;
    p = a->pool;

    if ((u_char *) a->elts + a->size * a->nalloc == p->d.last
        && p->d.last + size <= p->d.end)
    {
        p->d.last += size;
        a->nalloc += n;
        return PT_OK;
    }

    nalloc = 2 * ((n >= a->nalloc) ? n : a->nalloc);

    new = pt_palloc(p, nalloc * a->size);
    if (new == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(new, a->elts, a->nelts * a->size);
    a->elts = new;
    a->nalloc = nalloc;

    return PT_OK;
}

void *
pt_array_push(pt_array_t *a)
{
    void  *elt;

    if (a->nelts == a->nalloc) {
        if (pt_array_grow(a, a->nalloc ? a->nalloc : 1) != PT_OK) {
            return NULL;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts++;

    return elt;
}

void *
pt_array_push_n(pt_array_t *a, pt_uint_t n)
{
    void  *elt;

    if (a->nelts + n > a->nalloc) {
        if (pt_array_grow(a, n) != PT_OK) {
            return NULL;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;

    return elt;
}

pt_list_t *
pt_list_create(pt_pool_t *pool, pt_uint_t n, size_t size)
{
    pt_list_t  *list;

    list = pt_palloc(pool, sizeof(pt_list_t));
    if (list == NULL) {
        return NULL;
    }

    if (pt_list_init(list, pool, n, size) != PT_OK) {
        return NULL;
    }

    return list;
}

void *
pt_list_push(pt_list_t *l)
{
    void            *elt;
    pt_list_part_t  *last;

    last = l->last;

    if (last->nelts == l->nalloc) {
        last = pt_palloc(l->pool, sizeof(pt_list_part_t));
        if (last == NULL) {
            return NULL;
        }

        last->elts = pt_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }

        last->nelts = 0;
        last->next = NULL;

        l->last->next = last;
        l->last = last;
    }

    elt = (char *) last->elts + l->size * last->nelts;
    last->nelts++;

    return elt;
}
