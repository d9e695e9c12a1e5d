/*
 * pt_string.h: counted strings and the byte helpers the parsers use.
 *
 * Strings in portico are (length, pointer) pairs that usually point into a
 * read buffer or a pool; they are not NUL-terminated unless a function says
 * so.  Print them with PT_STR_FMT / PT_STR_ARG.
 */

#ifndef PT_STRING_H
#define PT_STRING_H

typedef struct {
    size_t   len;
    u_char  *data;
} pt_str_t;

typedef struct {
    pt_str_t  key;
    pt_str_t  value;
} pt_keyval_t;

#define pt_string(str)     { sizeof(str) - 1, (u_char *) str }
#define pt_null_string     { 0, NULL }
#define pt_str_set(str, text) \
    do { (str)->len = sizeof(text) - 1; (str)->data = (u_char *) text; } while (0)
#define pt_str_null(str)   do { (str)->len = 0; (str)->data = NULL; } while (0)

#define PT_STR_FMT         "%.*s"
#define PT_STR_ARG(s)      (int) (s).len, (const char *) (s).data

#define pt_tolower(c)      (u_char) (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))
#define pt_toupper(c)      (u_char) (((c) >= 'a' && (c) <= 'z') ? ((c) & ~0x20) : (c))

#define pt_strncmp(s1, s2, n)  strncmp((const char *) (s1), (const char *) (s2), n)
#define pt_strcmp(s1, s2)      strcmp((const char *) (s1), (const char *) (s2))
#define pt_strlen(s)           strlen((const char *) (s))
#define pt_strchr(s1, c)       (u_char *) strchr((const char *) (s1), (int) (c))
#define pt_strstr(s1, s2)      (u_char *) strstr((const char *) (s1), (const char *) (s2))

#define pt_memzero(buf, n)       (void) memset(buf, 0, n)
#define pt_memset(buf, c, n)     (void) memset(buf, c, n)
#define pt_memcpy(dst, src, n)   (void) memcpy(dst, src, n)
#define pt_cpymem(dst, src, n)   (((u_char *) memcpy(dst, src, n)) + (n))
#define pt_memmove(dst, src, n)  (void) memmove(dst, src, n)
#define pt_memcmp(s1, s2, n)     memcmp((const char *) (s1), (const char *) (s2), n)

/* True when the counted string s equals the C literal lit. */
#define pt_str_eq_lit(s, lit) \
    ((s)->len == sizeof(lit) - 1 && pt_memcmp((s)->data, lit, sizeof(lit) - 1) == 0)

static inline u_char *
pt_strlchr(u_char *p, u_char *last, u_char c)
{
    /* memchr: libc's is vectorized, a byte loop is not */
    return (p < last) ? memchr(p, c, (size_t) (last - p)) : NULL;
}

void pt_strlow(u_char *dst, u_char *src, size_t n);
u_char *pt_cpystrn(u_char *dst, u_char *src, size_t n);
pt_int_t pt_strcasecmp(u_char *s1, u_char *s2);
pt_int_t pt_strncasecmp(u_char *s1, u_char *s2, size_t n);
pt_int_t pt_str_caseeq(pt_str_t *a, pt_str_t *b);
u_char *pt_strlcasestrn(u_char *s1, u_char *last, u_char *s2, size_t n);

/* Number parsers accept only decimal digits (no sign, no space) and return
 * PT_ERROR on an empty string, a stray byte, or overflow. */
pt_int_t pt_atoi(u_char *line, size_t n);
off_t pt_atoof(u_char *line, size_t n);
pt_int_t pt_hextoi(u_char *line, size_t n);

/* "10", "10k", "10m", "10g" -> bytes; PT_ERROR on bad input or overflow. */
ssize_t pt_parse_size(pt_str_t *line);
off_t pt_parse_offset(pt_str_t *line);
/* nginx time syntax: "30", "30s", "500ms", "1h 30m", "1d", "1y"; is_sec
 * selects seconds (1) or milliseconds (0) as the result unit. */
pt_int_t pt_parse_time(pt_str_t *line, pt_uint_t is_sec);

/* snprintf into [buf, last); returns the end of what was written, never past
 * last.  Standard printf formats; counted strings via PT_STR_FMT. */
u_char *pt_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
u_char *pt_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args);
/* Same, allocating the result from a pool; the result is NUL-terminated. */
u_char *pt_psprintf(pt_pool_t *pool, pt_str_t *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

u_char *pt_hex_dump(u_char *dst, u_char *src, size_t len);
u_char *pt_pstrdup(pt_pool_t *pool, pt_str_t *src);
/* Copies src into the pool with a trailing NUL (not counted in len). */
pt_int_t pt_pstrdup_z(pt_pool_t *pool, pt_str_t *dst, pt_str_t *src);

/* Decimal formatting without printf, for hot paths.  Returns the end. */
u_char *pt_uint_to_str(u_char *dst, uint64_t value);
/* The same in lowercase hexadecimal, no prefix (at most 16 digits). */
u_char *pt_uint_to_hex(u_char *dst, uint64_t value);

/* Base64 (RFC 4648, the standard alphabet).  The decoder is strict: only
 * alphabet characters, then at most the padding that completes the last
 * quantum and nothing after it; missing padding is accepted, as nginx
 * does (a lone final character is not).  PT_OK or PT_ERROR; dst->data
 * must hold pt_base64_decoded_length(src->len) bytes. */
#define pt_base64_decoded_length(len)  (((len) + 3) / 4 * 3)
pt_int_t pt_decode_base64(pt_str_t *dst, pt_str_t *src);

#define pt_hash(key, c)  ((pt_uint_t) (key) * 31 + (c))
pt_uint_t pt_hash_key(u_char *data, size_t len);
pt_uint_t pt_hash_key_lc(u_char *data, size_t len);
pt_uint_t pt_hash_strlow(u_char *dst, u_char *src, size_t n);

#endif /* PT_STRING_H */
