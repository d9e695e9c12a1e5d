/*
 * pt_string.c: counted-string helpers, strict number parsers and formatting.
 */

#include "portico.h"

void
pt_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n) {
        *dst = pt_tolower(*src);
        dst++;
        src++;
        n--;
    }
}

/* Copies at most n - 1 bytes and always terminates; returns the NUL. */
u_char *
pt_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;
        if (*dst == '\0') {
            return dst;
        }
        dst++;
        src++;
    }

    *dst = '\0';
    return dst;
}

pt_int_t
pt_strcasecmp(u_char *s1, u_char *s2)
{
    pt_uint_t  c1, c2;

    for ( ;; ) {
        c1 = pt_tolower(*s1);
        c2 = pt_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return c1 - c2;
        }
        if (c1 == 0) {
            return 0;
        }
    }
}

pt_int_t
pt_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    pt_uint_t  c1, c2;

    while (n) {
        c1 = pt_tolower(*s1);
        c2 = pt_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return c1 - c2;
        }
        if (c1 == 0) {
            return 0;
        }
        n--;
    }

    return 0;
}

pt_int_t
pt_str_caseeq(pt_str_t *a, pt_str_t *b)
{
    size_t  i;

    if (a->len != b->len) {
        return 0;
    }

    for (i = 0; i < a->len; i++) {
        if (pt_tolower(a->data[i]) != pt_tolower(b->data[i])) {
            return 0;
        }
    }

    return 1;
}

/* Case-insensitive search of s2 (n bytes, lowercase) in [s1, last). */
u_char *
pt_strlcasestrn(u_char *s1, u_char *last, u_char *s2, size_t n)
{
    if (n == 0) {
        return s1;
    }

    while (s1 + n <= last) {
        if (pt_tolower(*s1) == s2[0] && pt_strncasecmp(s1, s2, n) == 0) {
            return s1;
        }
        s1++;
    }

    return NULL;
}

/* Strict decimal parser shared by pt_atoi and pt_atoof: max bounds the
 * result, so each caller keeps its own type's range. */
static int64_t
pt_atoi_bounded(u_char *line, size_t n, int64_t max)
{
    int64_t  value, cutoff, cutlim;

    if (n == 0) {
        return PT_ERROR;
    }

    cutoff = max / 10;
    cutlim = max % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return PT_ERROR;
        }
        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return PT_ERROR;
        }
        value = value * 10 + (*line - '0');
    }

    return value;
}

pt_int_t
pt_atoi(u_char *line, size_t n)
{
    return (pt_int_t) pt_atoi_bounded(line, n, PT_MAX_INT_T_VALUE);
}

off_t
pt_atoof(u_char *line, size_t n)
{
    return (off_t) pt_atoi_bounded(line, n, PT_MAX_OFF_T_VALUE);
}

pt_int_t
pt_hextoi(u_char *line, size_t n)
{
    u_char    c, ch;
    pt_int_t  value, cutoff;

    if (n == 0) {
        return PT_ERROR;
    }

    cutoff = PT_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        if (value > cutoff) {
            return PT_ERROR;
        }

        ch = *line;

        if (ch >= '0' && ch <= '9') {
            value = value * 16 + (ch - '0');
            continue;
        }

        c = (u_char) (ch | 0x20);

        if (c >= 'a' && c <= 'f') {
            value = value * 16 + (c - 'a' + 10);
            continue;
        }

        return PT_ERROR;
    }

    return value;
}

/* Splits "10k" into its number and a unit multiplier from table. */
static off_t
pt_parse_scaled(pt_str_t *line, off_t max)
{
    u_char  unit;
    off_t   value, scale;
    size_t  len;

    len = line->len;
    if (len == 0) {
        return PT_ERROR;
    }

    unit = line->data[len - 1];

    switch (unit) {
    case 'K':
    case 'k':
        len--;
        scale = 1024;
        break;
    case 'M':
    case 'm':
        len--;
        scale = 1024 * 1024;
        break;
    case 'G':
    case 'g':
        len--;
        scale = 1024 * 1024 * 1024;
        break;
    default:
        scale = 1;
    }

    value = pt_atoof(line->data, len);
    if (value == PT_ERROR || value > max / scale) {
        return PT_ERROR;
    }

    return value * scale;
}

ssize_t
pt_parse_size(pt_str_t *line)
{
    return (ssize_t) pt_parse_scaled(line, SSIZE_MAX);
}

off_t
pt_parse_offset(pt_str_t *line)
{
    return pt_parse_scaled(line, PT_MAX_OFF_T_VALUE);
}

/*
 * nginx time syntax: a sequence of number+unit terms, each unit at most
 * once and in decreasing order (y M w d h m s ms), separated by optional
 * spaces.  A bare number is seconds.
 */
pt_int_t
pt_parse_time(pt_str_t *line, pt_uint_t is_sec)
{
    u_char     *p, *last;
    pt_int_t    value, total, scale, max, cutoff, cutlim;
    pt_uint_t   valid;
    enum { st_start = 0, st_year, st_month, st_week, st_day, st_hour,
           st_min, st_sec, st_msec, st_last } step;

    valid = 0;
    value = 0;
    total = 0;
    cutoff = PT_MAX_INT_T_VALUE / 10;
    cutlim = PT_MAX_INT_T_VALUE % 10;
    step = is_sec ? st_start : st_month;

    p = line->data;
    last = p + line->len;

    while (p < last) {

        if (*p >= '0' && *p <= '9') {
            if (value >= cutoff && (value > cutoff || *p - '0' > cutlim)) {
                return PT_ERROR;
            }
            value = value * 10 + (*p++ - '0');
            valid = 1;
            continue;
        }

        switch (*p++) {
        case 'y':
            if (step > st_start) return PT_ERROR;
            step = st_year; max = PT_MAX_INT_T_VALUE / (60 * 60 * 24 * 365);
            scale = 60 * 60 * 24 * 365;
            break;
        case 'M':
            if (step >= st_month) return PT_ERROR;
            step = st_month; max = PT_MAX_INT_T_VALUE / (60 * 60 * 24 * 30);
            scale = 60 * 60 * 24 * 30;
            break;
        case 'w':
            if (step >= st_week) return PT_ERROR;
            step = st_week; max = PT_MAX_INT_T_VALUE / (60 * 60 * 24 * 7);
            scale = 60 * 60 * 24 * 7;
            break;
        case 'd':
            if (step >= st_day) return PT_ERROR;
            step = st_day; max = PT_MAX_INT_T_VALUE / (60 * 60 * 24);
            scale = 60 * 60 * 24;
            break;
        case 'h':
            if (step >= st_hour) return PT_ERROR;
            step = st_hour; max = PT_MAX_INT_T_VALUE / (60 * 60);
            scale = 60 * 60;
            break;
        case 'm':
            if (p < last && *p == 's') {
                if (is_sec || step >= st_msec) return PT_ERROR;
                p++;
                step = st_msec; max = PT_MAX_INT_T_VALUE;
                scale = 1;
                break;
            }
            if (step >= st_min) return PT_ERROR;
            step = st_min; max = PT_MAX_INT_T_VALUE / 60;
            scale = 60;
            break;
        case 's':
            if (step >= st_sec) return PT_ERROR;
            step = st_sec; max = PT_MAX_INT_T_VALUE;
            scale = 1;
            break;
        case ' ':
            if (step >= st_sec) return PT_ERROR;
            step = st_last; max = PT_MAX_INT_T_VALUE;
            scale = 1;
            break;
        default:
            return PT_ERROR;
        }

        if (step != st_msec && !is_sec) {
            scale *= 1000;
            max /= 1000;
        }

        if (value > max) {
            return PT_ERROR;
        }
        value *= scale;

        if (total > PT_MAX_INT_T_VALUE - value) {
            return PT_ERROR;
        }
        total += value;
        value = 0;

        while (p < last && *p == ' ') {
            p++;
        }
    }

    if (!valid) {
        return PT_ERROR;
    }

    if (!is_sec) {
        if (value > PT_MAX_INT_T_VALUE / 1000) {
            return PT_ERROR;
        }
        value *= 1000;
    }

    if (total > PT_MAX_INT_T_VALUE - value) {
        return PT_ERROR;
    }

    return total + value;
}

u_char *
pt_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    int     n;
    size_t  room;

    if (buf >= last) {
        return buf;
    }

    room = last - buf;
    n = vsnprintf((char *) buf, room, fmt, args);

    if (n < 0) {
        return buf;
    }

    /* vsnprintf writes a NUL in the last byte when truncating; the caller
     * owns [buf, last) entirely, so report the truncated length. */
    if ((size_t) n >= room) {
        return last - 1;
    }

    return buf + n;
}

u_char *
pt_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = pt_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}

u_char *
pt_psprintf(pt_pool_t *pool, pt_str_t *out, const char *fmt, ...)
{
    int       n;
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);

    if (n < 0) {
        return NULL;
    }

    p = pt_pnalloc(pool, n + 1);
    if (p == NULL) {
        return NULL;
    }

    va_start(args, fmt);
    vsnprintf((char *) p, n + 1, fmt, args);
    va_end(args);

    if (out) {
        out->len = n;
        out->data = p;
    }

    return p;
}

u_char *
pt_hex_dump(u_char *dst, u_char *src, size_t len)
{
    static const u_char  hex[] = "0123456789abcdef";

    while (len--) {
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src++ & 0xf];
    }

    return dst;
}

u_char *
pt_pstrdup(pt_pool_t *pool, pt_str_t *src)
{
    u_char  *dst;

    dst = pt_pnalloc(pool, src->len);
    if (dst == NULL) {
        return NULL;
    }

    pt_memcpy(dst, src->data, src->len);
    return dst;
}

pt_int_t
pt_pstrdup_z(pt_pool_t *pool, pt_str_t *dst, pt_str_t *src)
{
    u_char  *p;

    p = pt_pnalloc(pool, src->len + 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    if (src->len) {
        pt_memcpy(p, src->data, src->len);
    }
    p[src->len] = '\0';

    dst->len = src->len;
    dst->data = p;
    return PT_OK;
}

u_char *
pt_uint_to_str(u_char *dst, uint64_t value)
{
    u_char   tmp[PT_INT64_LEN + 1], *p;
    size_t   len;

    p = tmp + sizeof(tmp);

    do {
        *--p = (u_char) (value % 10 + '0');
        value /= 10;
    } while (value);

    len = tmp + sizeof(tmp) - p;
    return pt_cpymem(dst, p, len);
}

u_char *
pt_uint_to_hex(u_char *dst, uint64_t value)
{
    u_char   tmp[16], *p;
    size_t   len;

    static const u_char  hex[] = "0123456789abcdef";

    p = tmp + sizeof(tmp);

    do {
        *--p = hex[value & 0xf];
        value >>= 4;
    } while (value);

    len = tmp + sizeof(tmp) - p;
    return pt_cpymem(dst, p, len);
}

pt_uint_t
pt_hash_key(u_char *data, size_t len)
{
    pt_uint_t  i, key;

    key = 0;
    for (i = 0; i < len; i++) {
        key = pt_hash(key, data[i]);
    }

    return key;
}

pt_uint_t
pt_hash_key_lc(u_char *data, size_t len)
{
    pt_uint_t  i, key;

    key = 0;
    for (i = 0; i < len; i++) {
        key = pt_hash(key, pt_tolower(data[i]));
    }

    return key;
}

pt_uint_t
pt_hash_strlow(u_char *dst, u_char *src, size_t n)
{
    pt_uint_t  key;

    key = 0;
    while (n--) {
        *dst = pt_tolower(*src);
        key = pt_hash(key, *dst);
        dst++;
        src++;
    }

    return key;
}

/* The value of a base64 character, or 0xff outside the alphabet. */
static u_char
pt_base64_value(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return 0xff;
}

pt_int_t
pt_decode_base64(pt_str_t *dst, pt_str_t *src)
{
    u_char    *s, *d, v;
    size_t     n, i, pad;
    uint32_t   acc;

    s = src->data;

    for (n = 0; n < src->len && s[n] != '='; n++) {
        if (pt_base64_value(s[n]) == 0xff) {
            return PT_ERROR;
        }
    }

    /* one character left over carries fewer than 8 bits */
    if (n % 4 == 1) {
        return PT_ERROR;
    }

    pad = src->len - n;

    if (pad) {
        /* exactly the padding that ends the last quantum, then the end */
        if ((n + pad) % 4 != 0 || pad != (4 - n % 4) % 4) {
            return PT_ERROR;
        }
        for (i = n; i < src->len; i++) {
            if (s[i] != '=') {
                return PT_ERROR;
            }
        }
    }

    d = dst->data;
    acc = 0;

    for (i = 0; i < n; i++) {
        v = pt_base64_value(s[i]);
        acc = (acc << 6) | v;

        if (i % 4 == 3) {
            *d++ = (u_char) (acc >> 16);
            *d++ = (u_char) (acc >> 8);
            *d++ = (u_char) acc;
            acc = 0;
        }
    }

    if (n % 4 == 2) {
        *d++ = (u_char) (acc >> 4);

    } else if (n % 4 == 3) {
        *d++ = (u_char) (acc >> 10);
        *d++ = (u_char) (acc >> 2);
    }

    dst->len = d - dst->data;

    return PT_OK;
}
