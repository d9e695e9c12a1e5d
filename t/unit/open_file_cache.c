/*
 * open_file_cache.c: unit tests for the open file cache on real files in a
 * temporary folder: the uncached path, hits that reuse a descriptor, the
 * request's hold (an entry evicted or replaced while held keeps its
 * descriptor until the pool goes), least recently used eviction at max,
 * re-checks after valid, min_uses, cached errors, many names in the tree,
 * and the cache's own pool cleanup.  The cached clock is set by hand.
 */

#include "portico.h"
#include "tap.h"

static char      dir[64];
static pt_log_t  quiet;     /* level 0: logs nothing */

static void
set_time(time_t sec)
{
    ((pt_time_t *) pt_cached_time)->sec = sec;
}

static pt_str_t
path_of(const char *name)
{
    static char  buf[8][256];
    static int   n;

    pt_str_t  s;
    char     *p;

    p = buf[n++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);

    s.data = (u_char *) p;
    s.len = strlen(p);

    return s;
}

static void
write_file(const char *name, const char *content)
{
    int       fd;
    pt_str_t  p;

    p = path_of(name);
    fd = open((char *) p.data, O_WRONLY|O_CREAT|O_TRUNC, 0644);
    if (fd == -1 || write(fd, content, strlen(content)) != (ssize_t) strlen(content)) {
        printf("Bail out! cannot write %s\n", p.data);
        exit(1);
    }
    close(fd);
}

/* A new file renamed over name, as deployments replace files. */
static void
replace_file(const char *name, const char *content)
{
    pt_str_t  from, to;

    write_file("replace.tmp", content);
    from = path_of("replace.tmp");
    to = path_of(name);

    if (rename((char *) from.data, (char *) to.data) == -1) {
        printf("Bail out! rename %s\n", to.data);
        exit(1);
    }
}

/* Whether fd is open on the file name (or on what name was before a
 * replace): a closed descriptor's number may be reused by a later open(). */
static int
is_open(pt_fd_t fd, const char *name)
{
    char      link[64], target[256];
    size_t    len;
    ssize_t   n;
    pt_str_t  p;

    if (fd < 0) {
        return 0;
    }

    snprintf(link, sizeof(link), "/proc/self/fd/%d", (int) fd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n == -1) {
        return 0;
    }
    target[n] = '\0';

    p = path_of(name);
    len = p.len;

    return strncmp(target, (char *) p.data, len) == 0
           && (target[len] == '\0' || strcmp(target + len, " (deleted)") == 0);
}

static pt_int_t
lookup(pt_open_file_cache_t *cache, const char *name, pt_pool_t *pool,
    pt_open_file_info_t *of, time_t valid, pt_uint_t min_uses, pt_uint_t errors)
{
    pt_str_t  p;

    p = path_of(name);

    pt_memzero(of, sizeof(pt_open_file_info_t));
    of->valid = valid;
    of->min_uses = min_uses;
    of->errors = errors;

    return pt_open_cached_file(cache, &p, of, pool);
}

/* No cache, stat() only. */
static pt_int_t
test_only(const char *name, pt_pool_t *pool, pt_open_file_info_t *of)
{
    pt_str_t  p;

    p = path_of(name);

    pt_memzero(of, sizeof(pt_open_file_info_t));
    of->test_only = 1;

    return pt_open_cached_file(NULL, &p, of, pool);
}

static pt_pool_t *
pool(void)
{
    return pt_create_pool(1024, &quiet);
}

/* 8 tests */
static void
test_uncached(void)
{
    pt_pool_t            *p;
    pt_open_file_info_t   of;

    write_file("plain.txt", "0123456789");

    p = pool();
    tap_ok(lookup(NULL, "plain.txt", p, &of, 60, 1, 0) == PT_OK && is_open(of.fd, "plain.txt"),
           "no cache: open() gives a descriptor");
    tap_ok(of.is_file && !of.is_dir && of.size == 10, "no cache: a file of 10 bytes");
    pt_destroy_pool(p);
    tap_ok(!is_open(of.fd, "plain.txt"), "no cache: the descriptor is closed with the pool");

    p = pool();
    tap_ok(test_only("plain.txt", p, &of) == PT_OK
           && of.fd == PT_INVALID_FILE && of.size == 10,
           "no cache, test_only: stat() facts, no descriptor");

    tap_ok(lookup(NULL, "missing", p, &of, 60, 1, 0) == PT_ERROR && of.err == ENOENT
           && strcmp(of.failed, "open()") == 0, "no cache: a missing file fails open()");

    tap_ok(test_only("missing", p, &of) == PT_ERROR
           && of.err == ENOENT && strcmp(of.failed, "stat()") == 0,
           "no cache, test_only: a missing file fails stat()");

    tap_ok(lookup(NULL, "sub", p, &of, 60, 1, 0) == PT_OK && of.is_dir
           && of.fd == PT_INVALID_FILE, "no cache: a directory, not kept open");

    tap_ok(test_only("sub", p, &of) == PT_OK && of.is_dir && !of.is_file,
           "no cache, test_only: a directory");

    pt_destroy_pool(p);
}

/* 12 tests */
static void
test_hits_and_eviction(void)
{
    pt_fd_t                fa, fb, fc;
    pt_pool_t             *cp, *p1, *p2, *p3, *p4, *p5;
    pt_open_file_info_t    of;
    pt_open_file_cache_t  *cache;

    write_file("a", "a");
    write_file("b", "bb");
    write_file("c", "ccc");
    write_file("d", "dddd");

    set_time(1000);
    cp = pool();
    cache = pt_open_file_cache_init(cp, 2, 60);

    p1 = pool();
    p2 = pool();
    lookup(cache, "a", p1, &of, 10, 1, 0);
    fa = of.fd;
    tap_ok(is_open(fa, "a") && of.size == 1, "miss: a opened");

    lookup(cache, "a", p2, &of, 10, 1, 0);
    tap_ok(of.fd == fa, "hit: the same descriptor");

    pt_destroy_pool(p1);
    pt_destroy_pool(p2);
    tap_ok(is_open(fa, "a") && cache->current == 1, "released: the cache keeps a open");

    p1 = pool();
    lookup(cache, "b", p1, &of, 10, 1, 0);
    fb = of.fd;
    lookup(cache, "c", p1, &of, 10, 1, 0);
    fc = of.fd;
    pt_destroy_pool(p1);
    tap_ok(!is_open(fa, "a") && is_open(fb, "b") && is_open(fc, "c") && cache->current == 2,
           "max 2: a, the least recently used, was evicted and closed");

    /* b is held, then becomes the least recently used and is evicted */
    p3 = pool();
    lookup(cache, "b", p3, &of, 10, 1, 0);
    tap_ok(of.fd == fb, "b held by a request");

    p4 = pool();
    lookup(cache, "a", p4, &of, 10, 1, 0);
    tap_ok(!is_open(fc, "c") && is_open(fb, "b"), "a again: c evicted and closed, not b");

    p5 = pool();
    lookup(cache, "d", p5, &of, 10, 1, 0);
    tap_ok(cache->current == 2 && is_open(fb, "b"), "d: b evicted but still open while held");

    pt_destroy_pool(p3);
    tap_ok(!is_open(fb, "b"), "b closed when its request ends");

    pt_destroy_pool(p4);
    pt_destroy_pool(p5);

    /* a re-check after valid: the same file keeps its descriptor */
    p1 = pool();
    lookup(cache, "d", p1, &of, 10, 1, 0);
    fc = of.fd;
    set_time(1011);
    lookup(cache, "d", p1, &of, 10, 1, 0);
    tap_ok(of.fd == fc, "after valid, unchanged: the descriptor is kept");

    /* replaced while held: a new entry; the old descriptor lives on until
     * its request ends */
    replace_file("d", "new d");
    set_time(1022);
    p2 = pool();
    lookup(cache, "d", p2, &of, 10, 1, 0);
    tap_ok(of.fd != fc && is_open(of.fd, "d") && is_open(fc, "d") && of.size == 5,
           "after valid, replaced: the new file, the old one still open");
    fb = of.fd;

    pt_destroy_pool(p1);
    tap_ok(!is_open(fc, "d") && is_open(fb, "d"), "the old descriptor closed with its request");

    pt_destroy_pool(p2);
    pt_destroy_pool(cp);
    tap_ok(!is_open(fb, "d"), "the cache's pool closes what it kept");
}

/* 5 tests */
static void
test_min_uses_and_errors(void)
{
    pt_fd_t                fd;
    pt_pool_t             *cp, *p;
    pt_open_file_info_t    of;
    pt_open_file_cache_t  *cache;

    write_file("m", "m");

    set_time(2000);
    cp = pool();
    cache = pt_open_file_cache_init(cp, 16, 60);

    p = pool();
    lookup(cache, "m", p, &of, 60, 2, 0);
    fd = of.fd;
    pt_destroy_pool(p);
    tap_ok(!is_open(fd, "m") && cache->current == 1, "min_uses 2: closed after one use");

    p = pool();
    lookup(cache, "m", p, &of, 60, 2, 0);
    fd = of.fd;
    pt_destroy_pool(p);
    tap_ok(is_open(fd, "m"), "min_uses 2: kept after two uses");

    p = pool();
    tap_ok(lookup(cache, "gone", p, &of, 60, 1, 0) == PT_ERROR && of.err == ENOENT
           && cache->current == 1, "errors off: a missing file is not cached");

    tap_ok(lookup(cache, "gone", p, &of, 60, 1, 1) == PT_ERROR && cache->current == 2,
           "errors on: a missing file is cached");

    write_file("gone", "here now");
    tap_ok(lookup(cache, "gone", p, &of, 60, 1, 1) == PT_ERROR && of.err == ENOENT
           && strcmp(of.failed, "open()") == 0, "errors on: the cached error stands");

    pt_destroy_pool(p);
    pt_destroy_pool(cp);
}

/* 3 tests */
static void
test_many(void)
{
    int                    i, ok_ino, ok_hit;
    char                   name[32];
    pt_fd_t                fds[200];
    pt_pool_t             *cp, *p;
    struct stat            st, fst;
    pt_open_file_info_t    of;
    pt_open_file_cache_t  *cache;

    set_time(3000);
    cp = pool();
    cache = pt_open_file_cache_init(cp, 1000, 60);
    p = pool();

    for (i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "many%d", i);
        write_file(name, name);
        lookup(cache, name, p, &of, 60, 1, 0);
        fds[i] = of.fd;
    }

    tap_is_int(cache->current, 200, "200 names cached");

    ok_ino = 1;
    ok_hit = 1;

    for (i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "many%d", i);
        lookup(cache, name, p, &of, 60, 1, 0);

        if (of.fd != fds[i]) {
            ok_hit = 0;
        }

        if (stat((char *) path_of(name).data, &st) == -1 || fstat(of.fd, &fst) == -1
            || st.st_ino != fst.st_ino)
        {
            ok_ino = 0;
        }
    }

    tap_ok(ok_hit, "each name found again, with its own descriptor");
    tap_ok(ok_ino, "each descriptor is its name's file");

    pt_destroy_pool(p);
    pt_destroy_pool(cp);

    for (i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "many%d", i);
        unlink((char *) path_of(name).data);
    }
}

int
main(void)
{
    char  cmd[128];

    pt_pagesize = getpagesize();
    pt_time_init();

    snprintf(dir, sizeof(dir), "/tmp/pt_ofc_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    if (mkdir((char *) path_of("sub").data, 0755) == -1) {
        printf("Bail out! mkdir\n");
        return 1;
    }

    tap_plan(28);

    test_uncached();
    test_hits_and_eviction();
    test_min_uses_and_errors();
    test_many();

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", dir);
    }

    return tap_done();
}
