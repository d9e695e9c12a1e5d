/*
 * regex.c: unit tests for the PCRE2 wrapper: compiling (errors, caseless,
 * capture counts), matching with offsets, groups that did not take part,
 * named captures, JIT use where the build has it, and that matching does
 * not allocate.
 */

#include "portico.h"
#include "tap.h"

/*
 * Allocation counting: the test program's malloc, calloc and realloc take
 * precedence over the C library's for every caller in the process, PCRE2
 * included, and forward to glibc's own entry points.
 */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

static int   counting;
static long  nalloc;

void *
malloc(size_t size)
{
    nalloc += counting;
    return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
    nalloc += counting;
    return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t size)
{
    nalloc += counting;
    return __libc_realloc(p, size);
}

static pt_pool_t  *pool;

static pt_regex_t *
compile(const char *pattern, pt_uint_t options)
{
    pt_regex_compile_t  rc;

    pt_memzero(&rc, sizeof(rc));
    rc.pattern.data = (u_char *) pattern;
    rc.pattern.len = strlen(pattern);
    rc.pool = pool;
    rc.options = options;

    if (pt_regex_compile(&rc) != PT_OK) {
        printf("# compile \"%s\": %.*s\n", pattern, (int) rc.err.len, rc.err.data);
        return NULL;
    }

    return rc.regex;
}

static pt_int_t
exec(pt_regex_t *re, const char *subject, int *cap, pt_uint_t size)
{
    pt_str_t  s;

    s.data = (u_char *) subject;
    s.len = strlen(subject);

    return pt_regex_exec(re, &s, cap, size);
}

static void
test_compile(void)
{
    pt_regex_compile_t  rc;

    pt_memzero(&rc, sizeof(rc));
    rc.pattern.data = (u_char *) "^/(a";
    rc.pattern.len = 4;
    rc.pool = pool;

    tap_is_int(pt_regex_compile(&rc), PT_ERROR, "a bad pattern fails");
    tap_ok(rc.err.len > 0 && pt_strstr(rc.err_buf, "pcre2_compile() failed") != NULL
           && pt_strstr(rc.err_buf, "^/(a") != NULL,
           "the message names pcre2_compile and the pattern: %.*s",
           (int) rc.err.len, rc.err.data);

    tap_ok(compile("^/img/(\\w+)\\.(png|gif)$", 0) != NULL, "a good pattern compiles");
    tap_is_int(compile("^/img/(\\w+)\\.(png|gif)$", 0)->captures, 2, "two captures");
    tap_is_int(compile("^/static/", 0)->captures, 0, "no captures");
}

static void
test_match(void)
{
    int          cap[30];
    pt_int_t     rc;
    pt_regex_t  *re;

    re = compile("^/img/(\\w+)\\.(png|gif)$", 0);

    rc = exec(re, "/img/logo.png", cap, 30);
    tap_is_int(rc, 3, "match sets $0, $1, $2");
    tap_ok(cap[0] == 0 && cap[1] == 13, "$0 is the whole subject");
    tap_ok(cap[2] == 5 && cap[3] == 9, "$1 is \"logo\"");
    tap_ok(cap[4] == 10 && cap[5] == 13, "$2 is \"png\"");

    tap_is_int(exec(re, "/img/logo.jpg", cap, 30), PT_REGEX_NO_MATCHED, "no match");
    tap_is_int(exec(re, "/IMG/logo.png", cap, 30), PT_REGEX_NO_MATCHED,
               "case-sensitive by default");

    re = compile("^/img/", PT_REGEX_CASELESS);
    tap_is_int(exec(re, "/IMG/x", cap, 30), 1, "caseless matches other case");

    /* A subject that is not NUL-terminated: only len bytes count. */
    {
        pt_str_t  s;

        re = compile("^abc$", 0);
        s.data = (u_char *) "abcdef";
        s.len = 3;
        tap_is_int(pt_regex_exec(re, &s, cap, 30), 1, "the subject is (len, data)");
    }

    re = compile("^/(a)?(b)$", 0);
    rc = exec(re, "/b", cap, 30);
    tap_is_int(rc, 3, "an unset group before a set one counts");
    tap_ok(cap[2] == -1 && cap[3] == -1, "an unset group is (-1, -1)");

    re = compile("^/(\\w+)/(\\w+)$", 0);
    cap[2] = 1234;
    rc = exec(re, "/a/b", cap, 2);
    tap_is_int(rc, 3, "the result counts every pair");
    tap_is_int(cap[2], 1234, "only size / 2 pairs are copied");

    tap_is_int(exec(re, "/a/b", NULL, 0), 3, "captures may be NULL with size 0");
}

static void
test_named(void)
{
    int          cap[30];
    pt_str_t     name;
    pt_uint_t    n;
    pt_regex_t  *re;

    re = compile("^/(?<user>[a-z]+)/(\\d+)/(?<file>.*)$", 0);

    tap_is_int(re->captures, 3, "named groups are captures too");
    tap_is_int(re->named_captures, 2, "two named captures");

    pt_regex_named_capture(re, 0, &name, &n);
    tap_ok(name.len == 4 && pt_memcmp(name.data, "file", 4) == 0 && n == 3,
           "the name table is sorted by name: file is group 3");

    pt_regex_named_capture(re, 1, &name, &n);
    tap_ok(name.len == 4 && pt_memcmp(name.data, "user", 4) == 0 && n == 1,
           "user is group 1");

    tap_is_int(exec(re, "/bob/42/a/b.txt", cap, 30), 4, "named match");
    tap_ok(cap[2] == 1 && cap[3] == 4, "user = bob");
}

static void
test_jit(void)
{
    pt_regex_t  *re;

    re = compile("^/x(\\d+)$", 0);

#if (PT_HAVE_PCRE2_JIT)
    tap_ok(re->jit, "JIT-compiled when the build has the JIT");
#else
    tap_ok(!re->jit, "interpreted without JIT support");
#endif
}

static void
test_no_alloc(void)
{
    int          cap[30], i, ok;
    pt_regex_t  *re, *re2, *re3;

    re = compile("^/(\\w+)/(\\w+)/(.*)\\.(?:html|php)$", PT_REGEX_CASELESS);
    re2 = compile("^(a|b)*c(d+)e$", 0);
    re3 = compile("^/(?<a>x+)(?<b>y*)$", 0);

    /* the first match may initialize library state */
    (void) exec(re, "/a/b/c.html", cap, 30);
    (void) exec(re2, "ababcdde", cap, 30);

    ok = 1;
    counting = 1;

    for (i = 0; i < 1000; i++) {
        ok &= exec(re, "/alpha/beta/gamma/delta.HTML", cap, 30) == 4;
        ok &= exec(re2, "abababababcdddde", cap, 30) == 3;
        ok &= exec(re3, "/xxxyy", cap, 30) == 3;
        ok &= exec(re, "/nope", cap, 30) == PT_REGEX_NO_MATCHED;
    }

    counting = 0;

    tap_ok(ok, "1000 rounds of matches gave the right results");
    tap_is_int(nalloc, 0, "matching does not allocate");

    /* the counter works: a compile allocates */
    counting = 1;
    (void) compile("^/(\\d+)$", 0);
    counting = 0;
    tap_ok(nalloc > 0, "compiling allocates (the counter counts)");
}

int
main(void)
{
    pt_pagesize = getpagesize();

    pool = pt_create_pool(4096, NULL);
    if (pool == NULL) {
        printf("Bail out! no pool\n");
        return 1;
    }

    tap_plan(28);

    test_compile();
    test_match();
    test_named();
    test_jit();
    test_no_alloc();

    pt_destroy_pool(pool);

    return tap_done();
}
