/*
 * pt_open_file_cache.h: a per-process cache of open file descriptors and
 * the stat() facts of the files behind them (nginx's open_file_cache).
 *
 *   pt_open_cached_file(cache, name, of, pool)
 *
 * opens (or, with of->test_only and no cache, only stat()s) the file
 * name and fills of.  With a cache, a file looked up again within
 * of->valid seconds is answered from memory, with no system call at all;
 * after that its path is stat()ed again and the descriptor kept only when
 * the path still names the same file (device and inode).  The caller's
 * pool holds the cached entry through a pool cleanup, so a descriptor is
 * never closed while a request is still sending from it: an entry that is
 * evicted or replaced while in use leaves the tree and is closed and freed
 * by its last user.
 *
 * The cache lives in the configuration pool and so is copied into each
 * worker by fork(); only workers open files, so each worker has its own,
 * as nginx's.  There is no locking: one thread per process uses it.
 * Entries are kept in an rbtree ordered by the name's hash, then its
 * length and bytes (a hit allocates nothing), and in a queue from the most
 * to the least recently used: at most max entries, the least recently used
 * evicted first, and entries unused for inactive seconds dropped one or
 * two at a time when a request releases its entry.
 */

#ifndef PT_OPEN_FILE_CACHE_H
#define PT_OPEN_FILE_CACHE_H

/* What the caller asks for (the first group) and gets (the rest). */
typedef struct {
    time_t          valid;      /* seconds a cached answer is trusted */
    pt_uint_t       min_uses;   /* lookups before a descriptor is kept */
    unsigned        test_dir:1; /* a directory is likely: stat() first */
    unsigned        test_only:1;/* without a cache: stat() only, no fd */
    unsigned        errors:1;   /* cache open() and stat() errors too */

    pt_fd_t         fd;         /* PT_INVALID_FILE for a directory or a test */
    dev_t           dev;
    ino_t           ino;
    time_t          mtime;
    off_t           size;
    pt_err_t        err;        /* errno of the failed call; 0: not a file
                                   error (already logged) */
    const char     *failed;     /* that call: "open()" or "stat()" */

    unsigned        is_dir:1;
    unsigned        is_file:1;
    unsigned        is_exec:1;  /* S_IXUSR */
} pt_open_file_info_t;

typedef struct pt_cached_open_file_s  pt_cached_open_file_t;

typedef struct {
    pt_rbtree_t         rbtree;
    pt_rbtree_node_t    sentinel;
    pt_queue_t          expire_queue;   /* most recently used first */
    pt_uint_t           current;        /* entries in the tree */
    pt_uint_t           max;
    time_t              inactive;
    pt_pool_t          *pool;           /* its log, when the pool goes */
} pt_open_file_cache_t;

/* A cache of at most max entries, emptied (every descriptor closed) when
 * pool is destroyed.  NULL on allocation failure. */
pt_open_file_cache_t *pt_open_file_cache_init(pt_pool_t *pool, pt_uint_t max,
    time_t inactive);

/*
 * Opens or tests name (NUL-terminated; name->len bytes are the key) and
 * fills of; cache NULL works without one, as a plain open() and fstat(),
 * or a stat() with of->test_only.  A descriptor in of->fd belongs to pool:
 * closed, or released to the cache, when pool is destroyed; the caller
 * never closes it.  PT_OK, or PT_ERROR with of->err and of->failed set
 * for an error of the file (not logged: the caller decides, as a missing
 * file is often no error), or of->err 0 for any other failure (logged).
 */
pt_int_t pt_open_cached_file(pt_open_file_cache_t *cache, pt_str_t *name,
    pt_open_file_info_t *of, pt_pool_t *pool);

#endif /* PT_OPEN_FILE_CACHE_H */
