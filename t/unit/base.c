/*
 * base.c: unit tests for the pure base library: number, size and time
 * parsers, the rbtree, pools and arrays.
 */

#include "portico.h"
#include "tap.h"

static pt_int_t
parse_time(const char *s, pt_uint_t is_sec)
{
    pt_str_t  str;

    str.data = (u_char *) s;
    str.len = strlen(s);
    return pt_parse_time(&str, is_sec);
}

static ssize_t
parse_size(const char *s)
{
    pt_str_t  str;

    str.data = (u_char *) s;
    str.len = strlen(s);
    return pt_parse_size(&str);
}

static void
test_numbers(void)
{
    tap_is_int(pt_atoi((u_char *) "123", 3), 123, "atoi plain");
    tap_is_int(pt_atoi((u_char *) "", 0), PT_ERROR, "atoi empty");
    tap_is_int(pt_atoi((u_char *) "-1", 2), PT_ERROR, "atoi rejects a sign");
    tap_is_int(pt_atoi((u_char *) " 1", 2), PT_ERROR, "atoi rejects space");
    tap_is_int(pt_atoi((u_char *) "99999999999999999999", 20), PT_ERROR,
               "atoi rejects overflow");
    tap_is_int(pt_atoi((u_char *) "9223372036854775807", 19),
               9223372036854775807LL, "atoi max");
    tap_is_int(pt_hextoi((u_char *) "1aF", 3), 0x1af, "hextoi");
    tap_is_int(pt_hextoi((u_char *) "1g", 2), PT_ERROR, "hextoi bad digit");
    tap_is_int(pt_hextoi((u_char *) "fffffffffffffffff", 17), PT_ERROR,
               "hextoi overflow");
    tap_is_int(pt_atoof((u_char *) "4294967296", 10), 4294967296LL,
               "atoof past 4 GiB");
}

static void
test_sizes_and_times(void)
{
    tap_is_int(parse_size("1k"), 1024, "size 1k");
    tap_is_int(parse_size("8K"), 8192, "size 8K");
    tap_is_int(parse_size("1m"), 1048576, "size 1m");
    tap_is_int(parse_size("2g"), 2147483648LL, "size 2g");
    tap_is_int(parse_size("k"), PT_ERROR, "size unit without number");
    tap_is_int(parse_size("1x"), PT_ERROR, "size bad unit");
    tap_is_int(parse_size("99999999999g"), PT_ERROR, "size overflow");

    tap_is_int(parse_time("30", 1), 30, "time bare number is seconds");
    tap_is_int(parse_time("30s", 1), 30, "time 30s");
    tap_is_int(parse_time("1h 30m", 1), 5400, "time 1h 30m");
    tap_is_int(parse_time("1d", 1), 86400, "time 1d");
    tap_is_int(parse_time("500ms", 0), 500, "time 500ms in msec");
    tap_is_int(parse_time("75s", 0), 75000, "time 75s in msec");
    tap_is_int(parse_time("60", 0), 60000, "time bare number in msec");
    tap_is_int(parse_time("500ms", 1), PT_ERROR, "time ms not allowed in sec");
    tap_is_int(parse_time("1s1h", 1), PT_ERROR, "time units out of order");
    tap_is_int(parse_time("", 1), PT_ERROR, "time empty");
    tap_is_int(parse_time("s", 1), PT_ERROR, "time unit only");
    tap_is_int(parse_time("1x", 1), PT_ERROR, "time bad unit");
}

typedef struct {
    pt_rbtree_node_t  node;
    int               live;
} test_node_t;

/* Checks red-black invariants; returns black height or -1. */
static int
rb_check(pt_rbtree_node_t *n, pt_rbtree_node_t *sentinel, pt_uint_t *count)
{
    int  l, r;

    if (n == sentinel) {
        return 1;
    }

    (*count)++;

    if (pt_rbt_is_red(n)
        && (pt_rbt_is_red(n->left) || pt_rbt_is_red(n->right)))
    {
        return -1;
    }

    if ((n->left != sentinel && n->left->key > n->key)
        || (n->right != sentinel && n->right->key < n->key))
    {
        return -1;
    }

    l = rb_check(n->left, sentinel, count);
    r = rb_check(n->right, sentinel, count);

    if (l < 0 || r < 0 || l != r) {
        return -1;
    }

    return l + (pt_rbt_is_black(n) ? 1 : 0);
}

static void
test_rbtree(void)
{
    int                i, ok, live;
    pt_uint_t          count;
    pt_rbtree_t        tree;
    pt_rbtree_node_t   sentinel, *min;
    static test_node_t nodes[2000];

    pt_rbtree_init(&tree, &sentinel, pt_rbtree_insert_value);
    srandom(42);

    ok = 1;
    live = 0;

    for (i = 0; i < 20000; i++) {
        test_node_t  *t = &nodes[random() % 2000];

        if (t->live) {
            pt_rbtree_delete(&tree, &t->node);
            t->live = 0;
            live--;
        } else {
            t->node.key = random() % 500;
            pt_rbtree_insert(&tree, &t->node);
            t->live = 1;
            live++;
        }

        if (i % 997 == 0) {
            count = 0;
            if (rb_check(tree.root, &sentinel, &count) < 0
                || count != (pt_uint_t) live)
            {
                ok = 0;
            }
        }
    }

    tap_ok(ok, "rbtree keeps its invariants over 20000 random operations");

    count = 0;
    ok = 1;
    if (tree.root != &sentinel) {
        pt_rbtree_node_t  *n, *prev = NULL;

        min = pt_rbtree_min(tree.root, &sentinel);
        for (n = min; n; n = pt_rbtree_next(&tree, n)) {
            if (prev && prev->key > n->key) {
                ok = 0;
            }
            prev = n;
            count++;
        }
    }

    tap_ok(ok && count == (pt_uint_t) live, "rbtree_next walks in order");
}

static void
test_pool_and_array(void)
{
    int          i, ok;
    pt_pool_t   *pool;
    pt_array_t  *a;
    pt_list_t   *l;
    int         *p, *first;
    u_char      *big;

    pool = pt_create_pool(1024, NULL);
    tap_ok(pool != NULL, "pool created");

    a = pt_array_create(pool, 2, sizeof(int));
    for (i = 0; i < 1000; i++) {
        p = pt_array_push(a);
        *p = i;
    }

    ok = a->nelts == 1000;
    for (i = 0; i < 1000; i++) {
        if (((int *) a->elts)[i] != i) {
            ok = 0;
        }
    }
    tap_ok(ok, "array grows and keeps its elements");

    l = pt_list_create(pool, 4, sizeof(int));
    first = pt_list_push(l);
    *first = 7;
    for (i = 0; i < 100; i++) {
        p = pt_list_push(l);
        *p = i;
    }
    tap_ok(*first == 7, "list elements never move");

    big = pt_palloc(pool, 100000);
    tap_ok(big != NULL && pt_pfree(pool, big) == PT_OK, "large block freed");

    p = pt_palloc(pool, 24);
    tap_ok(((uintptr_t) p % sizeof(unsigned long)) == 0, "palloc aligns");

    pt_destroy_pool(pool);
}

/* Connection pools: first blocks come from a free list and go back to it. */
static void
test_cached_pools(void)
{
    int          i, ok;
    pt_pool_t   *pools[200], *a, *b, *other;
    u_char      *p;

    a = pt_create_pool_cached(512, NULL);
    tap_ok(a != NULL && a->d.cached && ((uintptr_t) a % PT_POOL_ALIGNMENT) == 0,
           "a cached pool, aligned");

    /* more than one slab, each filled past its first block and with a
     * large allocation */
    ok = 1;
    for (i = 0; i < 200; i++) {
        pools[i] = pt_create_pool_cached(512, NULL);
        if (pools[i] == NULL || pools[i] == a) {
            ok = 0;
            continue;
        }
        p = pt_palloc(pools[i], 400);
        if (p == NULL) {
            ok = 0;
            continue;
        }
        memset(p, 0xa5, 400);
        p = pt_palloc(pools[i], 300);
        if (p == NULL) {
            ok = 0;
            continue;
        }
        memset(p, 0x5a, 300);
        p = pt_palloc(pools[i], 100000);
        if (p == NULL) {
            ok = 0;
            continue;
        }
        memset(p, 0x3c, 100000);
    }
    tap_ok(ok, "200 distinct cached pools");

    ok = 1;
    for (i = 0; i < 200; i++) {
        if (pools[i]->d.next == NULL || pools[i]->d.next->d.cached) {
            ok = 0;
        }
    }
    tap_ok(ok, "their extra blocks are ordinary ones");

    for (i = 0; i < 200; i++) {
        pt_destroy_pool(pools[i]);
    }

    pt_destroy_pool(a);
    b = pt_create_pool_cached(512, NULL);
    tap_ok(b == a, "a freed first block is the next one given");
    tap_ok(b->d.last == (u_char *) b + sizeof(pt_pool_t) && b->large == NULL
           && b->cleanup == NULL && b->d.next == NULL, "and it starts empty");

    other = pt_create_pool_cached(1024, NULL);
    tap_ok(other != NULL && !other->d.cached, "another size: an ordinary pool");

    pt_destroy_pool(other);
    pt_destroy_pool(b);
}

int
main(void)
{
    pt_pagesize = (pt_uint_t) getpagesize();

    tap_plan(42);

    test_numbers();
    test_sizes_and_times();
    test_rbtree();
    test_pool_and_array();
    test_cached_pools();

    return tap_done();
}
