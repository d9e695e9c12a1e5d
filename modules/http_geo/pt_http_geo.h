/*
 * pt_http_geo.h: what the geo module's two files share: the "ranges"
 * table (pt_http_geo_ranges.c) and the value of a line.
 */

#ifndef PT_HTTP_GEO_H
#define PT_HTTP_GEO_H

#include "pt_http.h"

/* One range within a /16 block: the low 16 bits of its first and last
 * addresses. */
typedef struct {
    u_short                     start;
    u_short                     end;
    pt_http_variable_value_t   *value;      /* NULL ends a block's list */
} pt_http_geo_range_t;

/* nginx's layout: 65536 blocks by the high 16 bits of the address, each a
 * sorted list of disjoint ranges, so a lookup scans one short list. */
typedef struct {
    pt_http_geo_range_t       **low;        /* NULL: no range at all */
    pt_http_variable_value_t   *default_value;
} pt_http_geo_ranges_t;

/* The state of "ranges" lines while the block is parsed. */
typedef struct {
    pt_array_t                **low;        /* of pt_http_geo_range_t, temp pool */
    pt_http_variable_value_t   *default_value;
    pt_str_t                   *net;        /* the line's range, for messages */
    pt_http_variable_value_t   *value;
} pt_http_geo_ranges_conf_t;

/* The value of a line: the text itself (geo values hold no variables). */
pt_http_variable_value_t *pt_http_geo_value(pt_conf_t *cf, pt_str_t *text);

/* One "START-END VALUE;", "delete START-END;" or "default VALUE;" line. */
char *pt_http_geo_range_line(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf, pt_str_t *value);

/* After the block: the lists moved to the cycle pool, ended by NULL. */
pt_int_t pt_http_geo_ranges_done(pt_conf_t *cf, pt_http_geo_ranges_conf_t *rcf,
    pt_http_geo_ranges_t *ranges);

/* The value for an IPv4 address in host order (INADDR_NONE when the
 * address is unknown or not IPv4). */
pt_http_variable_value_t *pt_http_geo_ranges_find(pt_http_geo_ranges_t *ranges,
    in_addr_t addr);

#endif /* PT_HTTP_GEO_H */
