/*
 * pt_open_file_cache.c: the open file cache; see pt_open_file_cache.h.
 *
 * An entry of the tree is in one of four states:
 *   open       fd >= 0: a file (not a directory) kept open
 *   closed     fd < 0, no error, not a directory: used fewer than
 *              min_uses times, so its descriptor was closed when its last
 *              request ended; the next lookup opens the file again
 *   directory  fd < 0, is_dir: only the stat() facts
 *   error      err != 0: a failed open() or stat() (open_file_cache_errors)
 * count is the number of requests holding an open entry.  An entry that
 * leaves the tree while held (evicted, or its path now names another file)
 * is marked close and is closed and freed by the last release.
 */

#include "portico.h"

struct pt_cached_open_file_s {
    pt_rbtree_node_t    node;       /* first: tree nodes are entries */
    pt_queue_t          queue;      /* in expire_queue */
    time_t              created;    /* opened or last checked */
    time_t              accessed;
    pt_uint_t           uses;       /* lookups since the entry was made */
    pt_uint_t           count;      /* requests holding fd */
    pt_fd_t             fd;
    pt_err_t            err;
    const char         *failed;
    dev_t               dev;
    ino_t               ino;
    time_t              mtime;
    off_t               size;
    unsigned            is_dir:1;
    unsigned            is_file:1;
    unsigned            is_exec:1;
    unsigned            close:1;    /* out of the tree, freed on release */
    size_t              len;
    u_char              name[];     /* len bytes and a NUL */
};

/* What a request's pool cleanup needs to release its entry. */
typedef struct {
    pt_open_file_cache_t   *cache;
    pt_cached_open_file_t  *file;
    pt_uint_t               min_uses;
    pt_log_t               *log;
} pt_open_file_cache_cleanup_t;

static void pt_open_file_cache_cleanup(void *data);

/* ---- opening and testing a file ---- */

static void
pt_open_file_set_info(pt_open_file_info_t *of, struct stat *st)
{
    of->dev = st->st_dev;
    of->ino = st->st_ino;
    of->mtime = st->st_mtime;
    of->size = st->st_size;
    of->is_dir = S_ISDIR(st->st_mode) ? 1 : 0;
    of->is_file = S_ISREG(st->st_mode) ? 1 : 0;
    of->is_exec = (st->st_mode & S_IXUSR) ? 1 : 0;
}

static void
pt_open_file_close(pt_fd_t fd, u_char *name, pt_log_t *log)
{
    if (close(fd) == -1) {
        pt_log_error(PT_LOG_ALERT, log, pt_errno, "close() \"%s\" failed", name);
    }
}

/*
 * Opens name and fstat()s it.  With of->fd set (a cached descriptor) the
 * path is stat()ed first and the descriptor kept when it is still the same
 * file (dev and inode); with of->test_dir a directory costs one stat().
 * A directory is not kept open.
 */
static pt_int_t
pt_open_and_stat_file(pt_str_t *name, pt_open_file_info_t *of, pt_log_t *log)
{
    pt_fd_t      fd;
    pt_err_t     err;
    struct stat  st;

    if (of->fd != PT_INVALID_FILE || of->test_dir) {
        if (stat((char *) name->data, &st) == -1) {
            of->fd = PT_INVALID_FILE;
            of->err = pt_errno;
            of->failed = "stat()";
            return PT_ERROR;
        }

        if (of->fd != PT_INVALID_FILE
            ? st.st_dev == of->dev && st.st_ino == of->ino
            : S_ISDIR(st.st_mode))
        {
            goto done;
        }
    }

    /* O_NONBLOCK: a FIFO must not hang the worker; no effect on files */
    fd = open((char *) name->data, O_RDONLY|O_NONBLOCK|O_CLOEXEC);

    if (fd == -1) {
        of->fd = PT_INVALID_FILE;
        of->err = pt_errno;
        of->failed = "open()";
        return PT_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        err = pt_errno;
        pt_open_file_close(fd, name->data, log);
        pt_log_error(PT_LOG_CRIT, log, err, "fstat() \"%s\" failed", name->data);
        of->fd = PT_INVALID_FILE;
        return PT_ERROR;
    }

    if (S_ISDIR(st.st_mode)) {
        pt_open_file_close(fd, name->data, log);
        fd = PT_INVALID_FILE;
    }

    of->fd = fd;

done:

    pt_open_file_set_info(of, &st);

    return PT_OK;
}

/* No cache: a stat() for a test, else open() and fstat(), the descriptor
 * closed with the pool. */
static pt_int_t
pt_open_file_uncached(pt_str_t *name, pt_open_file_info_t *of, pt_pool_t *pool)
{
    struct stat              st;
    pt_pool_cleanup_t       *cln;
    pt_pool_cleanup_file_t  *clnf;

    if (of->test_only) {
        if (stat((char *) name->data, &st) == -1) {
            of->err = pt_errno;
            of->failed = "stat()";
            return PT_ERROR;
        }

        pt_open_file_set_info(of, &st);
        return PT_OK;
    }

    cln = pt_pool_cleanup_add(pool, sizeof(pt_pool_cleanup_file_t));
    if (cln == NULL) {
        return PT_ERROR;
    }

    if (pt_open_and_stat_file(name, of, pool->log) != PT_OK) {
        return PT_ERROR;
    }

    if (of->fd != PT_INVALID_FILE) {
        clnf = cln->data;
        clnf->fd = of->fd;
        clnf->name = name->data;
        clnf->log = pool->log;
        cln->handler = pt_pool_cleanup_file;
    }

    return PT_OK;
}

/* ---- the tree and the queue ---- */

/* The key of a name, eight bytes at a time: names are paths that share a
 * long prefix (the root), and a byte-wise hash costs some eight
 * instructions a byte on every hit.  Equal keys are told apart by the
 * name compare, so the mixing needs to be good, not perfect. */
static pt_uint_t
pt_open_file_hash(u_char *p, size_t len)
{
    size_t    n;
    uint64_t  h, w;

    h = 0x9e3779b97f4a7c15ULL ^ len;

    for (n = len; n >= 8; p += 8, n -= 8) {
        pt_memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }

    if (n == 0) {
        return (pt_uint_t) h;
    }

    if (len >= 8) {
        /* the last eight bytes, overlapping the word before */
        pt_memcpy(&w, p + n - 8, 8);

    } else {
        for (w = 0; n--; /* void */) {
            w = (w << 8) | p[n];
        }
    }

    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;

    return (pt_uint_t) h;
}

/* Orders entries by hash, then by length, then by bytes. */
static pt_int_t
pt_open_file_cmp(pt_uint_t hash, u_char *name, size_t len, pt_cached_open_file_t *file)
{
    if (hash != file->node.key) {
        return hash < file->node.key ? -1 : 1;
    }

    if (len != file->len) {
        return len < file->len ? -1 : 1;
    }

    return pt_memcmp(name, file->name, len);
}

static void
pt_open_file_insert_value(pt_rbtree_node_t *temp, pt_rbtree_node_t *node,
    pt_rbtree_node_t *sentinel)
{
    pt_rbtree_node_t       **p;
    pt_cached_open_file_t   *file;

    file = (pt_cached_open_file_t *) node;

    for ( ;; ) {
        p = pt_open_file_cmp(node->key, file->name, file->len,
                             (pt_cached_open_file_t *) temp) < 0
            ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    pt_rbtree_link_leaf(p, node, temp, sentinel);
}

static pt_cached_open_file_t *
pt_open_file_lookup(pt_open_file_cache_t *cache, pt_str_t *name, pt_uint_t hash)
{
    pt_int_t           rc;
    pt_rbtree_node_t  *node, *sentinel;

    node = cache->rbtree.root;
    sentinel = cache->rbtree.sentinel;

    while (node != sentinel) {
        rc = pt_open_file_cmp(hash, name->data, name->len, (pt_cached_open_file_t *) node);

        if (rc == 0) {
            return (pt_cached_open_file_t *) node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}

static void
pt_open_file_free(pt_cached_open_file_t *file, pt_log_t *log)
{
    pt_log_debug(PT_LOG_DEBUG_CORE, log, 0, "open file cache: free \"%s\", fd:%d",
                 file->name, (int) file->fd);

    if (file->fd != PT_INVALID_FILE) {
        pt_open_file_close(file->fd, file->name, log);
    }

    pt_free(file);
}

/* Takes file out of the cache: closed and freed now, or by the last
 * request that holds it. */
static void
pt_open_file_remove(pt_open_file_cache_t *cache, pt_cached_open_file_t *file,
    pt_log_t *log)
{
    pt_queue_remove(&file->queue);
    pt_rbtree_delete(&cache->rbtree, &file->node);
    cache->current--;

    if (file->count) {
        file->close = 1;
        return;
    }

    pt_open_file_free(file, log);
}

/*
 * From the least recently used end: with n 0, the last entry goes whatever
 * its age and then up to two more that were unused for inactive seconds
 * (making room); with n 1, up to two inactive ones (the work a release
 * does, so a busy cache sheds its idle entries a few at a time).
 */
static void
pt_open_file_expire(pt_open_file_cache_t *cache, pt_uint_t n, pt_log_t *log)
{
    time_t                  now;
    pt_queue_t             *q;
    pt_cached_open_file_t  *file;

    now = pt_time();

    while (n < 3) {
        if (pt_queue_empty(&cache->expire_queue)) {
            return;
        }

        q = pt_queue_last(&cache->expire_queue);
        file = pt_queue_data(q, pt_cached_open_file_t, queue);

        if (n++ != 0 && now - file->accessed <= cache->inactive) {
            return;
        }

        pt_open_file_remove(cache, file, log);
    }
}

/* A new entry for name, in the tree and at the head of the queue, making
 * room first when the cache is full.  NULL on allocation failure. */
static pt_cached_open_file_t *
pt_open_file_create(pt_open_file_cache_t *cache, pt_str_t *name, pt_uint_t hash,
    pt_log_t *log)
{
    pt_cached_open_file_t  *file;

    if (cache->current >= cache->max) {
        pt_open_file_expire(cache, 0, log);
    }

    file = pt_alloc(sizeof(pt_cached_open_file_t) + name->len + 1, log);
    if (file == NULL) {
        return NULL;
    }

    pt_memzero(file, sizeof(pt_cached_open_file_t));

    pt_memcpy(file->name, name->data, name->len);
    file->name[name->len] = '\0';
    file->len = name->len;
    file->fd = PT_INVALID_FILE;
    file->uses = 1;
    file->node.key = hash;

    pt_rbtree_insert(&cache->rbtree, &file->node);
    pt_queue_insert_head(&cache->expire_queue, &file->queue);
    cache->current++;

    return file;
}

/* ---- an entry and the caller's info ---- */

static void
pt_open_file_update(pt_cached_open_file_t *file, pt_open_file_info_t *of, time_t now)
{
    file->fd = of->fd;
    file->err = of->err;
    file->failed = of->failed;
    file->created = now;

    if (of->err) {
        file->is_dir = 0;
        file->is_file = 0;
        file->is_exec = 0;
        return;
    }

    file->dev = of->dev;
    file->ino = of->ino;
    file->mtime = of->mtime;
    file->size = of->size;
    file->is_dir = of->is_dir;
    file->is_file = of->is_file;
    file->is_exec = of->is_exec;
}

static void
pt_open_file_answer(pt_open_file_info_t *of, pt_cached_open_file_t *file)
{
    if (file->err) {
        of->err = file->err;
        of->failed = file->failed;
        return;
    }

    of->fd = file->fd;
    of->dev = file->dev;
    of->ino = file->ino;
    of->mtime = file->mtime;
    of->size = file->size;
    of->is_dir = file->is_dir;
    of->is_file = file->is_file;
    of->is_exec = file->is_exec;
}

/*
 * The entry is closed, or older than of->valid: its file is checked (the
 * kept descriptor reused when the path still names the same file) or
 * opened again.  Returns the entry that now stands for name: this one, or
 * a new one when the old descriptor is still held by a request; NULL when
 * the file failed with an error not to be cached (the entry is gone), or
 * on allocation failure (of->err 0).
 */
static pt_cached_open_file_t *
pt_open_file_recheck(pt_open_file_cache_t *cache, pt_cached_open_file_t *file,
    pt_str_t *name, pt_open_file_info_t *of, pt_log_t *log)
{
    pt_int_t   rc;
    pt_uint_t  hash;

    of->fd = file->fd;
    of->dev = file->dev;
    of->ino = file->ino;

    if (file->is_dir) {
        /* a directory rarely becomes a file: one stat() instead of three
         * calls */
        of->test_dir = 1;
    }

    rc = pt_open_and_stat_file(name, of, log);

    if (rc != PT_OK && (of->err == 0 || !of->errors)) {
        pt_open_file_remove(cache, file, log);
        return NULL;
    }

    if (file->fd == PT_INVALID_FILE || file->fd == of->fd) {
        return file;
    }

    /* the path names another file, or none: the old descriptor goes */

    if (file->count == 0) {
        pt_open_file_close(file->fd, file->name, log);
        file->fd = PT_INVALID_FILE;
        return file;
    }

    hash = file->node.key;
    pt_open_file_remove(cache, file, log);

    return pt_open_file_create(cache, name, hash, log);
}

/* ---- the request's hold on an entry ---- */

/* Pool cleanup: the request is done with the entry's descriptor. */
static void
pt_open_file_release(void *data)
{
    pt_open_file_cache_cleanup_t  *c = data;

    pt_cached_open_file_t  *file;

    file = c->file;
    file->count--;

    if (file->close) {
        if (file->count == 0) {
            pt_open_file_free(file, c->log);
        }
        return;
    }

    file->accessed = pt_time();
    pt_queue_remove(&file->queue);
    pt_queue_insert_head(&c->cache->expire_queue, &file->queue);

    if (file->count == 0 && file->uses < c->min_uses && file->fd != PT_INVALID_FILE) {
        /* not used often enough yet to keep a descriptor */
        pt_open_file_close(file->fd, file->name, c->log);
        file->fd = PT_INVALID_FILE;
    }

    pt_open_file_expire(c->cache, 1, c->log);
}

/* ---- the interface ---- */

pt_open_file_cache_t *
pt_open_file_cache_init(pt_pool_t *pool, pt_uint_t max, time_t inactive)
{
    pt_pool_cleanup_t     *cln;
    pt_open_file_cache_t  *cache;

    cache = pt_palloc(pool, sizeof(pt_open_file_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    pt_rbtree_init(&cache->rbtree, &cache->sentinel, pt_open_file_insert_value);
    pt_queue_init(&cache->expire_queue);

    cache->current = 0;
    cache->max = max;
    cache->inactive = inactive;
    cache->pool = pool;

    cln = pt_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = pt_open_file_cache_cleanup;
    cln->data = cache;

    return cache;
}

/* The configuration's pool is destroyed (reload, exit): every entry goes.
 * One still held (it should not be) is left to its request's cleanup,
 * which then touches only the entry. */
static void
pt_open_file_cache_cleanup(void *data)
{
    pt_open_file_cache_t  *cache = data;

    pt_queue_t             *q;
    pt_cached_open_file_t  *file;

    while (!pt_queue_empty(&cache->expire_queue)) {
        q = pt_queue_last(&cache->expire_queue);
        file = pt_queue_data(q, pt_cached_open_file_t, queue);
        pt_open_file_remove(cache, file, cache->pool->log);
    }
}

pt_int_t
pt_open_cached_file(pt_open_file_cache_t *cache, pt_str_t *name,
    pt_open_file_info_t *of, pt_pool_t *pool)
{
    time_t                         now;
    pt_uint_t                      hash;
    pt_pool_cleanup_t             *cln;
    pt_cached_open_file_t         *file;
    pt_open_file_cache_cleanup_t  *ofcln;

    of->fd = PT_INVALID_FILE;
    of->err = 0;
    of->failed = NULL;

    if (cache == NULL) {
        return pt_open_file_uncached(name, of, pool);
    }

    /* first: once an entry is counted for this request nothing may fail */
    cln = pt_pool_cleanup_add(pool, sizeof(pt_open_file_cache_cleanup_t));
    if (cln == NULL) {
        return PT_ERROR;
    }

    now = pt_time();
    hash = pt_open_file_hash(name->data, name->len);

    file = pt_open_file_lookup(cache, name, hash);

    if (file) {
        file->uses++;

        if ((file->fd != PT_INVALID_FILE || file->err || file->is_dir)
            && now - file->created < of->valid)
        {
            pt_open_file_answer(of, file);
            goto found;
        }

        file = pt_open_file_recheck(cache, file, name, of, pool->log);

    } else {
        if (pt_open_and_stat_file(name, of, pool->log) != PT_OK
            && (of->err == 0 || !of->errors))
        {
            return PT_ERROR;
        }

        file = pt_open_file_create(cache, name, hash, pool->log);
    }

    if (file == NULL) {
        if (of->fd != PT_INVALID_FILE) {
            pt_open_file_close(of->fd, name->data, pool->log);
            of->fd = PT_INVALID_FILE;
            of->err = 0;
        }
        return PT_ERROR;
    }

    pt_open_file_update(file, of, now);

found:

    file->accessed = now;
    pt_queue_remove(&file->queue);
    pt_queue_insert_head(&cache->expire_queue, &file->queue);

    pt_log_debug(PT_LOG_DEBUG_CORE, pool->log, 0,
                 "open file cache: \"%s\" fd:%d count:%lu err:%d uses:%lu",
                 file->name, (int) file->fd, (unsigned long) file->count,
                 (int) file->err, (unsigned long) file->uses);

    if (of->err) {
        return PT_ERROR;
    }

    if (!of->is_dir) {
        file->count++;

        ofcln = cln->data;
        ofcln->cache = cache;
        ofcln->file = file;
        ofcln->min_uses = of->min_uses;
        ofcln->log = pool->log;
        cln->handler = pt_open_file_release;
    }

    return PT_OK;
}
