/*
 * pt_http_geo_ranges.c: the "ranges" form of geo, as nginx's.
 *
 *   geo $var { ranges; 10.0.0.0-10.0.255.255 a; delete 10.0.1.0-10.0.1.9; }
 *
 * A range is cut at /16 boundaries; each /16 block keeps a sorted list of
 * disjoint pieces.  A new range may sit strictly inside an existing one
 * (which is split around it), share its start or its end (the old one is
 * shortened), or be identical (its value replaces the old one, with
 * nginx's warning); any other overlap is an error.  "delete" removes
 * pieces equal to the given range only.  IPv6 clients other than
 * IPv4-mapped ones, and addresses that are not known, get the default.
 */

#include "pt_http_geo.h"

#define PT_HTTP_GEO_BLOCKS  0x10000

/* The /16 block list of h, created on first use. */
static pt_array_t *
pt_http_geo_block_list(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf, pt_uint_t h)
{
    if (rcf->low[h] == NULL) {
        rcf->low[h] = pt_array_create(cf->temp_pool, 8, sizeof(pt_http_geo_range_t));
    }

    return rcf->low[h];
}

/* Opens n free slots at index at, moving the tail up. */
static pt_http_geo_range_t *
pt_http_geo_open(pt_array_t *a, pt_uint_t at, pt_uint_t n)
{
    pt_uint_t             k;
    pt_http_geo_range_t  *range;

    for (k = 0; k < n; k++) {
        if (pt_array_push(a) == NULL) {
            return NULL;
        }
    }

    range = a->elts;
    pt_memmove(&range[at + n], &range[at], (a->nelts - n - at) * sizeof(pt_http_geo_range_t));

    return range;
}

static void
pt_http_geo_set(pt_http_geo_range_t *range, pt_uint_t s, pt_uint_t e,
    pt_http_variable_value_t *value)
{
    range->start = (u_short) s;
    range->end = (u_short) e;
    range->value = value;
}

/* Puts [s, e] of block h into its list; the cases of nginx's
 * ngx_http_geo_add_range(), searched from the end as configs usually
 * list ranges in ascending order. */
static char *
pt_http_geo_range_insert(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf, pt_array_t *a,
    pt_uint_t h, pt_uint_t s, pt_uint_t e)
{
    pt_uint_t             i;
    pt_http_geo_range_t  *range, old;

    range = a->elts;

    for (i = a->nelts; i-- > 0; /* void */) {
        old = range[i];

        if (e < old.start) {
            continue;
        }

        if (s > old.end) {
            range = pt_http_geo_open(a, i + 1, 1);
            if (range == NULL) {
                return PT_CONF_ERROR;
            }
            pt_http_geo_set(&range[i + 1], s, e, rcf->value);
            return PT_CONF_OK;
        }

        if (s == old.start && e == old.end) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0, "duplicate range \"" PT_STR_FMT
                              "\", value: \"" PT_STR_FMT "\", old value: \"" PT_STR_FMT "\"",
                              PT_STR_ARG(*rcf->net), PT_STR_ARG(*rcf->value),
                              PT_STR_ARG(*old.value));
            range[i].value = rcf->value;
            return PT_CONF_OK;
        }

        if (s > old.start && e < old.end) {
            /* split: old start .. s-1, the new range, e+1 .. old end */
            range = pt_http_geo_open(a, i + 1, 2);
            if (range == NULL) {
                return PT_CONF_ERROR;
            }
            pt_http_geo_set(&range[i + 2], e + 1, old.end, old.value);
            pt_http_geo_set(&range[i + 1], s, e, rcf->value);
            range[i].end = (u_short) (s - 1);
            return PT_CONF_OK;
        }

        if (s == old.start && e < old.end) {
            range = pt_http_geo_open(a, i + 1, 1);
            if (range == NULL) {
                return PT_CONF_ERROR;
            }
            pt_http_geo_set(&range[i + 1], e + 1, old.end, old.value);
            pt_http_geo_set(&range[i], s, e, rcf->value);
            return PT_CONF_OK;
        }

        if (s > old.start && e == old.end) {
            range = pt_http_geo_open(a, i + 1, 1);
            if (range == NULL) {
                return PT_CONF_ERROR;
            }
            pt_http_geo_set(&range[i + 1], s, e, rcf->value);
            range[i].end = (u_short) (s - 1);
            return PT_CONF_OK;
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "range \"" PT_STR_FMT "\" overlaps "
                          "\"%u.%u.%u.%u-%u.%u.%u.%u\"", PT_STR_ARG(*rcf->net),
                          (unsigned) (h >> 8), (unsigned) (h & 0xff),
                          (unsigned) (old.start >> 8), (unsigned) (old.start & 0xff),
                          (unsigned) (h >> 8), (unsigned) (h & 0xff),
                          (unsigned) (old.end >> 8), (unsigned) (old.end & 0xff));
        return PT_CONF_ERROR;
    }

    /* before every range of the block */
    range = pt_http_geo_open(a, 0, 1);
    if (range == NULL) {
        return PT_CONF_ERROR;
    }

    pt_http_geo_set(&range[0], s, e, rcf->value);

    return PT_CONF_OK;
}

/* The piece of [start, end] (host order) in the /16 block of n. */
static void
pt_http_geo_piece(in_addr_t n, in_addr_t start, in_addr_t end, pt_uint_t *s, pt_uint_t *e)
{
    *s = (n == start) ? (n & 0xffff) : 0;
    *e = ((n | 0xffff) > end) ? (end & 0xffff) : 0xffff;
}

static char *
pt_http_geo_add_range(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf, in_addr_t start,
    in_addr_t end)
{
    char        *rv;
    in_addr_t    n;
    pt_uint_t    s, e;
    pt_array_t  *a;

    for (n = start; n <= end; n = (n + 0x10000) & 0xffff0000) {
        pt_http_geo_piece(n, start, end, &s, &e);

        a = pt_http_geo_block_list(cf, rcf, n >> 16);
        if (a == NULL) {
            return PT_CONF_ERROR;
        }

        rv = pt_http_geo_range_insert(cf, rcf, a, n >> 16, s, e);
        if (rv != PT_CONF_OK) {
            return rv;
        }

        if ((n >> 16) == 0xffff) {
            break;      /* n would wrap to 0 */
        }
    }

    return PT_CONF_OK;
}

/* Removes the pieces of [start, end] from the lists.  Returns 1 when a
 * piece was not there as such (nginx then warns). */
static pt_uint_t
pt_http_geo_delete_range(pt_http_geo_ranges_conf_t *rcf, in_addr_t start, in_addr_t end)
{
    in_addr_t             n;
    pt_uint_t             i, s, e, missing, found;
    pt_array_t           *a;
    pt_http_geo_range_t  *range;

    missing = 0;

    for (n = start; n <= end; n = (n + 0x10000) & 0xffff0000) {
        pt_http_geo_piece(n, start, end, &s, &e);

        a = rcf->low[n >> 16];
        found = 0;

        for (i = 0; a && i < a->nelts; i++) {
            range = a->elts;
            if (range[i].start == s && range[i].end == e) {
                pt_memmove(&range[i], &range[i + 1],
                           (a->nelts - 1 - i) * sizeof(pt_http_geo_range_t));
                a->nelts--;
                found = 1;
                break;
            }
        }

        missing |= !found;

        if ((n >> 16) == 0xffff) {
            break;
        }
    }

    return missing;
}

/* "START-END": two dotted quads, start <= end, host order.  As nginx,
 * 255.255.255.255 is not accepted (it is ngx_inet_addr()'s INADDR_NONE). */
static pt_int_t
pt_http_geo_parse_range(pt_str_t *net, in_addr_t *start, in_addr_t *end)
{
    u_char  *dash, *last;

    last = net->data + net->len;
    dash = pt_strlchr(net->data, last, '-');

    if (dash == NULL) {
        return PT_ERROR;
    }

    *start = pt_inet_addr(net->data, dash - net->data);
    *end = pt_inet_addr(dash + 1, last - dash - 1);

    if (*start == INADDR_NONE || *end == INADDR_NONE) {
        return PT_ERROR;
    }

    *start = ntohl(*start);
    *end = ntohl(*end);

    return (*start <= *end) ? PT_OK : PT_ERROR;
}

/* See pt_http_geo.h. */
char *
pt_http_geo_range_line(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf, pt_str_t *value)
{
    pt_str_t   *net;
    in_addr_t   start, end;
    pt_uint_t   del;

    if (pt_str_eq_lit(&value[0], "default")) {
        if (rcf->default_value) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0, "duplicate default geo range value: \""
                              PT_STR_FMT "\", old value: \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[1]), PT_STR_ARG(*rcf->default_value));
        }

        rcf->default_value = pt_http_geo_value(cf, &value[1]);

        return rcf->default_value ? PT_CONF_OK : PT_CONF_ERROR;
    }

    if (rcf->low == NULL) {
        rcf->low = pt_pcalloc(cf->temp_pool, PT_HTTP_GEO_BLOCKS * sizeof(pt_array_t *));
        if (rcf->low == NULL) {
            return PT_CONF_ERROR;
        }
    }

    del = pt_str_eq_lit(&value[0], "delete");
    net = del ? &value[1] : &value[0];

    if (pt_http_geo_parse_range(net, &start, &end) != PT_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid range \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*net));
        return PT_CONF_ERROR;
    }

    if (del) {
        if (pt_http_geo_delete_range(rcf, start, end)) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0, "no address range \"" PT_STR_FMT
                              "\" to delete", PT_STR_ARG(*net));
        }
        return PT_CONF_OK;
    }

    rcf->value = pt_http_geo_value(cf, &value[1]);
    if (rcf->value == NULL) {
        return PT_CONF_ERROR;
    }

    rcf->net = net;

    return pt_http_geo_add_range(cf, rcf, start, end);
}

/* See pt_http_geo.h. */
pt_int_t
pt_http_geo_ranges_done(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf,
    pt_http_geo_ranges_t *ranges)
{
    size_t                len;
    pt_uint_t             i;
    pt_array_t           *a;
    pt_http_geo_range_t  *list;

    ranges->default_value = rcf->default_value ? rcf->default_value
                                               : &pt_http_variable_null_value;
    ranges->low = NULL;

    if (rcf->low == NULL) {
        return PT_OK;
    }

    ranges->low = pt_pcalloc(cf->pool, PT_HTTP_GEO_BLOCKS * sizeof(pt_http_geo_range_t *));
    if (ranges->low == NULL) {
        return PT_ERROR;
    }

    for (i = 0; i < PT_HTTP_GEO_BLOCKS; i++) {
        a = rcf->low[i];
        if (a == NULL || a->nelts == 0) {
            continue;
        }

        len = a->nelts * sizeof(pt_http_geo_range_t);

        list = pt_palloc(cf->pool, len + sizeof(pt_http_geo_range_t));
        if (list == NULL) {
            return PT_ERROR;
        }

        pt_memcpy(list, a->elts, len);
        list[a->nelts].value = NULL;

        ranges->low[i] = list;
    }

    return PT_OK;
}

/* See pt_http_geo.h. */
pt_http_variable_value_t *
pt_http_geo_ranges_find(pt_http_geo_ranges_t *ranges, in_addr_t addr)
{
    pt_uint_t             n;
    pt_http_geo_range_t  *range;

    if (ranges->low && (range = ranges->low[addr >> 16]) != NULL) {
        n = addr & 0xffff;

        for ( /* void */ ; range->value; range++) {
            if (n >= range->start && n <= range->end) {
                return range->value;
            }
        }
    }

    return ranges->default_value;
}
