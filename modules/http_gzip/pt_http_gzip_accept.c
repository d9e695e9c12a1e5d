/*
 * pt_http_gzip_accept.c: how much an Accept-Encoding field wants gzip.
 *
 *   Accept-Encoding  = #( codings [ weight ] )
 *   codings          = content-coding / "identity" / "*"
 *   weight           = OWS ";" OWS "q=" qvalue
 *   qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 *
 * nginx accepts "gzip" anywhere in the value unless a q=0 follows it;
 * portico reads the list strictly, as RFC 9110 12.5.3 asks: "gzip;q=0"
 * refuses gzip, so does a list naming only identity or deflate, and "*"
 * stands for gzip when gzip is not named.  Codings compare case-
 * insensitively.  Pure code, unit-tested in t/unit/gzip.c.
 */

#include "pt_http_gzip.h"

#define PT_GZIP_Q_BAD  -1

static pt_uint_t
pt_http_gzip_ows(u_char c)
{
    return c == ' ' || c == '\t';
}

/* A tchar of RFC 9110 5.6.2. */
static pt_uint_t
pt_http_gzip_tchar(u_char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return 1;
    }

    return c != '\0' && pt_strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A qvalue at *pp, in thousandths; PT_GZIP_Q_BAD if malformed.  *pp ends
 * after the token. */
static pt_int_t
pt_http_gzip_qvalue(u_char **pp, u_char *last)
{
    u_char    *p;
    pt_int_t   q, scale, digits;

    p = *pp;

    if (p == last || (*p != '0' && *p != '1')) {
        q = PT_GZIP_Q_BAD;
        goto skip;
    }

    q = (*p++ - '0') * 1000;

    if (p < last && *p == '.') {
        p++;
        scale = 100;

        for (digits = 0; p < last && *p >= '0' && *p <= '9'; digits++, p++) {
            if (digits == 3) {
                q = PT_GZIP_Q_BAD;
                goto skip;
            }
            q += (*p - '0') * scale;
            scale /= 10;
        }
    }

    if (q > 1000) {
        q = PT_GZIP_Q_BAD;
    }

skip:

    /* whatever else the token holds makes it malformed */
    while (p < last && *p != ',' && *p != ';' && !pt_http_gzip_ows(*p)) {
        q = PT_GZIP_Q_BAD;
        p++;
    }

    *pp = p;

    return q;
}

/* The weight of the list element at *pp (whose coding was read): 1000
 * without one, PT_GZIP_Q_BAD if malformed.  Parameters other than q are
 * skipped.  *pp ends at the "," that ends the element, or at last. */
static pt_int_t
pt_http_gzip_weight(u_char **pp, u_char *last)
{
    u_char    *p;
    pt_int_t   q;

    p = *pp;
    q = 1000;

    for ( ;; ) {
        while (p < last && pt_http_gzip_ows(*p)) {
            p++;
        }

        if (p == last || *p == ',') {
            break;
        }

        if (*p != ';') {
            q = PT_GZIP_Q_BAD;
            break;
        }

        p++;

        while (p < last && pt_http_gzip_ows(*p)) {
            p++;
        }

        if (last - p >= 2 && (p[0] | 0x20) == 'q' && p[1] == '=') {
            p += 2;
            q = pt_http_gzip_qvalue(&p, last);
            continue;
        }

        while (p < last && *p != ';' && *p != ',') {
            p++;
        }
    }

    while (p < last && *p != ',') {
        p++;
    }

    *pp = p;

    return q;
}

pt_uint_t
pt_http_gzip_accept_q(u_char *p, u_char *last)
{
    u_char    *name;
    size_t     len;
    pt_int_t   q, gzip, star;

    gzip = -1;
    star = -1;

    while (p < last) {
        if (*p == ',' || pt_http_gzip_ows(*p)) {
            p++;
            continue;
        }

        name = p;

        while (p < last && pt_http_gzip_tchar(*p)) {
            p++;
        }

        len = p - name;

        q = pt_http_gzip_weight(&p, last);

        if (len == 0 || q == PT_GZIP_Q_BAD) {
            /* not a coding, or a weight nobody can read: it accepts
             * nothing */
            q = 0;
            if (len == 0) {
                continue;
            }
        }

        if ((len == 4 && pt_strncasecmp(name, (u_char *) "gzip", 4) == 0)
            || (len == 6 && pt_strncasecmp(name, (u_char *) "x-gzip", 6) == 0))
        {
            gzip = pt_max(gzip, q);

        } else if (len == 1 && *name == '*') {
            star = pt_max(star, q);
        }
    }

    if (gzip >= 0) {
        return (pt_uint_t) gzip;
    }

    return star > 0 ? (pt_uint_t) star : 0;
}
