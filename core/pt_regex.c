/*
 * pt_regex.c: regular expressions over PCRE2 (see pt_regex.h).
 */

#include "portico.h"

#include <pcre2.h>

static void pt_regex_cleanup(void *data);
static pt_int_t pt_regex_reserve(pt_uint_t pairs);

/* The process's match-data block and the number of pairs it holds. */
static pcre2_match_data  *pt_regex_match_data;
static pt_uint_t          pt_regex_match_data_size;

/* pcre_jit: workers set it from their cycle; "off" matches with the
 * interpreter (the JIT code compiled at configuration time goes unused). */
pt_uint_t  pt_regex_jit = 1;

pt_int_t
pt_regex_compile(pt_regex_compile_t *rc)
{
    int                  errcode;
    u_char              *p;
    uint32_t             n, options;
    PCRE2_SIZE           erroff;
    pt_regex_t          *re;
    pcre2_code          *code;
    pt_pool_cleanup_t   *cln;
    PCRE2_UCHAR          errstr[128];

    options = (rc->options & PT_REGEX_CASELESS) ? PCRE2_CASELESS : 0;

    code = pcre2_compile((PCRE2_SPTR) rc->pattern.data, rc->pattern.len, options,
                         &errcode, &erroff, NULL);

    if (code == NULL) {
        pcre2_get_error_message(errcode, errstr, sizeof(errstr));

        if ((size_t) erroff == rc->pattern.len) {
            /* at the very end: nothing to quote (nginx's form) */
            p = pt_slprintf(rc->err_buf, rc->err_buf + sizeof(rc->err_buf),
                            "pcre2_compile() failed: %s in \"" PT_STR_FMT "\"",
                            (char *) errstr, PT_STR_ARG(rc->pattern));
        } else {
            p = pt_slprintf(rc->err_buf, rc->err_buf + sizeof(rc->err_buf),
                            "pcre2_compile() failed: %s in \"" PT_STR_FMT "\" at \""
                            PT_STR_FMT "\"", (char *) errstr, PT_STR_ARG(rc->pattern),
                            (int) (rc->pattern.len - erroff),
                            (char *) rc->pattern.data + erroff);
        }

        rc->err.data = rc->err_buf;
        rc->err.len = p - rc->err_buf;
        return PT_ERROR;
    }

    re = pt_pcalloc(rc->pool, sizeof(pt_regex_t));
    cln = pt_pool_cleanup_add(rc->pool, 0);

    if (re == NULL || cln == NULL) {
        pcre2_code_free(code);
        pt_str_set(&rc->err, "out of memory");
        return PT_ERROR;
    }

    /* Freed with the configuration's pool. */
    cln->handler = pt_regex_cleanup;
    cln->data = code;

    re->code = code;

#if (PT_HAVE_PCRE2_JIT)
    /* A JIT failure (no executable memory, say) leaves the interpreter. */
    re->jit = (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0);
#endif

    (void) pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
    re->captures = n;

    (void) pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &n);
    re->named_captures = n;

    if (n) {
        (void) pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &n);
        re->name_size = n;
        (void) pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &re->names);
    }

    if (pt_regex_reserve(re->captures + 1) != PT_OK) {
        pt_str_set(&rc->err, "pcre2_match_data_create() failed");
        return PT_ERROR;
    }

    rc->regex = re;

    return PT_OK;
}

static void
pt_regex_cleanup(void *data)
{
    pcre2_code_free(data);
}

/* Grows the process's match-data block to hold pairs ovector pairs.  Runs
 * at configuration time, so matching never allocates it. */
static pt_int_t
pt_regex_reserve(pt_uint_t pairs)
{
    pcre2_match_data  *md;

    if (pt_regex_match_data && pt_regex_match_data_size >= pairs) {
        return PT_OK;
    }

    /* A little slack, so a few more groups do not reallocate it again. */
    pairs = pt_max(pairs, 10);

    md = pcre2_match_data_create((uint32_t) pairs, NULL);
    if (md == NULL) {
        return PT_ERROR;
    }

    if (pt_regex_match_data) {
        pcre2_match_data_free(pt_regex_match_data);
    }

    pt_regex_match_data = md;
    pt_regex_match_data_size = pairs;

    return PT_OK;
}

pt_int_t
pt_regex_exec(pt_regex_t *re, pt_str_t *s, int *captures, pt_uint_t size)
{
    int          rc;
    pt_uint_t    i, n;
    PCRE2_SIZE  *ov;

    if (pt_regex_match_data == NULL) {
        /* only a regex compiled elsewhere (never: compile reserves it) */
        return PCRE2_ERROR_NOMEMORY;
    }

#if (PT_HAVE_PCRE2_JIT)
    if (re->jit && pt_regex_jit) {
        rc = pcre2_jit_match(re->code, (PCRE2_SPTR) s->data, s->len, 0, 0,
                             pt_regex_match_data, NULL);
    } else
#endif
    {
        rc = pcre2_match(re->code, (PCRE2_SPTR) s->data, s->len, 0, 0,
                         pt_regex_match_data, NULL);
    }

    if (rc == PCRE2_ERROR_NOMATCH) {
        return PT_REGEX_NO_MATCHED;
    }

    if (rc < 0) {
        return rc;
    }

    if (rc == 0) {
        /* the block was too small: cannot happen, it is sized at compile */
        rc = (int) pt_regex_match_data_size;
    }

    n = pt_min((pt_uint_t) rc, size / 2);
    ov = pcre2_get_ovector_pointer(pt_regex_match_data);

    for (i = 0; i < 2 * n; i++) {
        captures[i] = (ov[i] == PCRE2_UNSET) ? -1 : (int) ov[i];
    }

    return rc;
}

void
pt_regex_named_capture(pt_regex_t *re, pt_uint_t n, pt_str_t *name,
    pt_uint_t *capture)
{
    u_char  *p;

    /* An entry: the group number in two bytes, big-endian, then the name,
     * NUL-terminated and padded to name_size. */
    p = re->names + n * re->name_size;

    *capture = ((pt_uint_t) p[0] << 8) | p[1];
    name->data = p + 2;
    name->len = pt_strlen(name->data);
}

u_char *
pt_regex_strerror(pt_int_t rc, u_char *buf, size_t len)
{
    int  n;

    if (rc == PT_REGEX_NO_MATCHED) {
        return pt_cpystrn(buf, (u_char *) "no match", len);
    }

    n = pcre2_get_error_message((int) rc, buf, len);

    if (n < 0) {
        return pt_slprintf(buf, buf + len, "error %d", (int) rc);
    }

    return buf + n;
}
