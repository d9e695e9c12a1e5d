/*
 * pt_queue.h: an intrusive circular doubly linked list.
 *
 * The sentinel is a pt_queue_t of its own; elements embed a pt_queue_t and
 * are recovered with pt_queue_data().  Nothing here allocates.
 */

#ifndef PT_QUEUE_H
#define PT_QUEUE_H

typedef struct pt_queue_s pt_queue_t;

struct pt_queue_s {
    pt_queue_t  *prev;
    pt_queue_t  *next;
};

static inline void
pt_queue_init(pt_queue_t *q)
{
    q->prev = q;
    q->next = q;
}

static inline int
pt_queue_empty(const pt_queue_t *h)
{
    return h == h->prev;
}

static inline void
pt_queue_insert_head(pt_queue_t *h, pt_queue_t *x)
{
    x->next = h->next;
    x->next->prev = x;
    x->prev = h;
    h->next = x;
}

static inline void
pt_queue_insert_tail(pt_queue_t *h, pt_queue_t *x)
{
    x->prev = h->prev;
    x->prev->next = x;
    x->next = h;
    h->prev = x;
}

#define pt_queue_insert_after   pt_queue_insert_head
#define pt_queue_head(h)        (h)->next
#define pt_queue_last(h)        (h)->prev
#define pt_queue_sentinel(h)    (h)
#define pt_queue_next(q)        (q)->next
#define pt_queue_prev(q)        (q)->prev

/* Unlinks x; x is left pointing at itself so a second removal is harmless. */
static inline void
pt_queue_remove(pt_queue_t *x)
{
    x->next->prev = x->prev;
    x->prev->next = x->next;
    x->prev = x;
    x->next = x;
}

#define pt_queue_data(q, type, link) \
    ((type *) ((u_char *) (q) - offsetof(type, link)))

#endif /* PT_QUEUE_H */
