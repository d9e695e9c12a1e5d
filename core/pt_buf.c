/*
 * pt_buf.c: buffer and chain helpers.
 */

#include "portico.h"

pt_buf_t *
pt_create_temp_buf(pt_pool_t *pool, size_t size)
{
    pt_buf_t  *b;

    b = pt_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = pt_palloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->last + size;
    b->temporary = 1;

    return b;
}

pt_chain_t *
pt_alloc_chain_link(pt_pool_t *pool)
{
    pt_chain_t  *cl;

    cl = pool->chain;

    if (cl) {
        pool->chain = cl->next;
        return cl;
    }

    return pt_palloc(pool, sizeof(pt_chain_t));
}

pt_chain_t *
pt_create_chain_of_bufs(pt_pool_t *pool, pt_bufs_t *bufs)
{
    u_char       *p;
    pt_int_t      i;
    pt_buf_t     *b;
    pt_chain_t   *chain, *cl, **ll;

    p = pt_palloc(pool, bufs->num * bufs->size);
    if (p == NULL) {
        return NULL;
    }

    ll = &chain;

    for (i = 0; i < bufs->num; i++) {

        b = pt_calloc_buf(pool);
        if (b == NULL) {
            return NULL;
        }

        b->pos = p;
        b->last = p;
        b->temporary = 1;
        b->start = p;
        p += bufs->size;
        b->end = p;

        cl = pt_alloc_chain_link(pool);
        if (cl == NULL) {
            return NULL;
        }

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    return chain;
}

pt_int_t
pt_chain_add_copy(pt_pool_t *pool, pt_chain_t **chain, pt_chain_t *in)
{
    pt_chain_t  *cl, **ll;

    ll = chain;

    for (cl = *chain; cl; cl = cl->next) {
        ll = &cl->next;
    }

    while (in) {
        cl = pt_alloc_chain_link(pool);
        if (cl == NULL) {
            *ll = NULL;
            return PT_ERROR;
        }

        cl->buf = in->buf;
        *ll = cl;
        ll = &cl->next;
        in = in->next;
    }

    *ll = NULL;

    return PT_OK;
}

pt_chain_t *
pt_chain_get_free_buf(pt_pool_t *p, pt_chain_t **free)
{
    pt_chain_t  *cl;

    if (*free) {
        cl = *free;
        *free = cl->next;
        cl->next = NULL;
        return cl;
    }

    cl = pt_alloc_chain_link(p);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = pt_calloc_buf(p);
    if (cl->buf == NULL) {
        return NULL;
    }

    cl->next = NULL;

    return cl;
}

void
pt_chain_update_chains(pt_pool_t *p, pt_chain_t **free, pt_chain_t **busy,
    pt_chain_t **out, pt_buf_tag_t tag)
{
    pt_chain_t  *cl;

    if (*out) {
        if (*busy == NULL) {
            *busy = *out;

        } else {
            for (cl = *busy; cl->next; cl = cl->next) { /* void */ }
            cl->next = *out;
        }

        *out = NULL;
    }

    while (*busy) {
        cl = *busy;

        if (cl->buf->tag != tag) {
            *busy = cl->next;
            pt_free_chain(p, cl);
            continue;
        }

        if (pt_buf_size(cl->buf) != 0) {
            break;
        }

        cl->buf->pos = cl->buf->start;
        cl->buf->last = cl->buf->start;

        *busy = cl->next;
        cl->next = *free;
        *free = cl;
    }
}

pt_chain_t *
pt_chain_update_sent(pt_chain_t *in, off_t sent)
{
    off_t  size;

    for ( /* void */ ; in; in = in->next) {

        if (pt_buf_special(in->buf)) {
            continue;
        }

        if (sent == 0) {
            break;
        }

        size = pt_buf_size(in->buf);

        if (sent >= size) {
            sent -= size;

            if (pt_buf_in_memory(in->buf)) {
                in->buf->pos = in->buf->last;
            }
            if (in->buf->in_file) {
                in->buf->file_pos = in->buf->file_last;
            }
            continue;
        }

        if (pt_buf_in_memory(in->buf)) {
            in->buf->pos += (size_t) sent;
        }
        if (in->buf->in_file) {
            in->buf->file_pos += sent;
        }

        break;
    }

    return in;
}
