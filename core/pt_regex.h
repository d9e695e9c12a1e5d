/*
 * pt_regex.h: regular expressions (a thin wrapper over PCRE2).
 *
 * Patterns are compiled once, at configuration time, in the master; the
 * workers inherit the compiled code by fork.  With PT_HAVE_PCRE2_JIT every
 * pattern is also JIT-compiled; when that fails at run time (no executable
 * memory, an unsupported CPU) the pattern silently keeps the interpreter.
 *
 * Matching does not allocate: every match of the process goes through one
 * match-data block, sized at compile time for the pattern with the most
 * captures, and the caller receives the capture offsets in its own array.
 * A process is single-threaded, so one block per process (that is, per
 * worker) is enough; the offsets are copied out before the next match.
 */

#ifndef PT_REGEX_H
#define PT_REGEX_H

#define PT_REGEX_CASELESS     0x00000001

/* pt_regex_exec() results besides the number of captures set (>= 1). */
#define PT_REGEX_NO_MATCHED   -1000

typedef struct {
    void          *code;            /* pcre2_code */
    pt_uint_t      captures;        /* capturing groups, $0 not counted */
    pt_uint_t      named_captures;
    pt_uint_t      name_size;       /* bytes of one name table entry */
    u_char        *names;           /* the name table (pcre2 layout) */
    unsigned       jit:1;           /* JIT-compiled */
} pt_regex_t;

typedef struct {
    pt_str_t       pattern;
    pt_pool_t     *pool;            /* the regex and its cleanup live here */
    pt_uint_t      options;         /* PT_REGEX_CASELESS */

    pt_regex_t    *regex;           /* out */
    pt_str_t       err;             /* out: the message on failure */
    u_char         err_buf[256];
} pt_regex_compile_t;

/* pcre_jit: nonzero (the default) matches JIT-compiled patterns with the
 * JIT; a process sets it from its configuration before serving. */
extern pt_uint_t  pt_regex_jit;

/* Compiles rc->pattern into rc->regex.  PT_OK, or PT_ERROR with rc->err
 * set to a message such as "pcre2_compile() failed: missing closing
 * parenthesis in \"(a\" at \"\"". */
pt_int_t pt_regex_compile(pt_regex_compile_t *rc);

/* Matches s against re.  captures (may be NULL when size is 0) receives
 * up to size / 2 pairs of byte offsets into s: $0, $1, ...; a group that
 * did not take part in the match is (-1, -1).  Returns the number of pairs
 * the match set (at least 1), PT_REGEX_NO_MATCHED, or another negative
 * PCRE2 error code. */
pt_int_t pt_regex_exec(pt_regex_t *re, pt_str_t *s, int *captures,
    pt_uint_t size);

/* The name and capture number of named group n (0 <= n <
 * re->named_captures). */
void pt_regex_named_capture(pt_regex_t *re, pt_uint_t n, pt_str_t *name,
    pt_uint_t *capture);

/* Describes a pt_regex_exec() error code for a log line. */
u_char *pt_regex_strerror(pt_int_t rc, u_char *buf, size_t len);

#endif /* PT_REGEX_H */
