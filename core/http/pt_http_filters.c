/*
 * pt_http_filters.c: the one place where the order of the response filters
 * is written down.
 *
 * A response header goes down the header chain, its body down the body
 * chain; each chain runs top (first) to bottom (last).  A filter module
 * registers its handlers into its named slot in postconfiguration (with
 * pt_http_register_filter); once every module has run, pt_http_filters_init
 * links the occupied slots in the order of this table.  Empty slots cost
 * nothing.  To add a filter, give it a slot here (and in the enum of
 * pt_http_filters.h) at the position its work requires.
 *
 *   slot           header  body  what it does
 *   ------------   ------  ----  -------------------------------------------
 *   slice            x      x    byte-range slices of a large upstream file
 *   not_modified     x           304 for If-Modified-Since / If-None-Match
 *   range_body              x    cuts the body to the requested ranges
 *   copy                    x    reads file buffers into memory when a
 *                                filter below needs to see the bytes
 *   headers          x           add_header, expires
 *   userid           x           the userid cookie
 *   gunzip           x      x    decompresses for clients without gzip
 *   addition         x      x    add_before_body / add_after_body
 *   sub              x      x    sub_filter
 *   charset          x      x    charset conversion, "; charset="
 *   ssi              x      x    server side includes
 *   postpone                x    orders subrequest output
 *   gzip             x      x    compresses
 *   range_header     x           206 and Content-Range
 *   chunked          x      x    Transfer-Encoding: chunked for HTTP/1.1
 *                                bodies of unknown length
 *   header           x           serializes the header (always present):
 *                                the end of the header chain
 *   write                   x    sends to the socket (always present):
 *                                the end of the body chain
 *
 * Compression sits below the content-changing filters and above chunked;
 * the range filters are split around them the way nginx's are: the body
 * cut happens on the uncompressed, unchanged content.
 */

#include "pt_http.h"

typedef struct {
    const char                        *name;
    pt_http_output_header_filter_pt    header;
    pt_http_output_header_filter_pt   *next_header;
    pt_http_output_body_filter_pt      body;
    pt_http_output_body_filter_pt     *next_body;
} pt_http_filter_slot_t;

/* Indexed by pt_http_filter_slot_e; the names are for error messages. */
static pt_http_filter_slot_t  pt_http_filter_slots[PT_HTTP_FILTER_NSLOTS] = {
    [PT_HTTP_FILTER_SLICE]          = { "slice", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_NOT_MODIFIED]   = { "not_modified", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_RANGE_BODY]     = { "range_body", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_COPY]           = { "copy", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_HEADERS]        = { "headers", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_USERID]         = { "userid", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_GUNZIP]         = { "gunzip", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_ADDITION]       = { "addition", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_SUB]            = { "sub", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_CHARSET]        = { "charset", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_SSI]            = { "ssi", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_POSTPONE]       = { "postpone", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_GZIP]           = { "gzip", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_RANGE_HEADER]   = { "range_header", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_CHUNKED]        = { "chunked", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_HEADER]         = { "header", NULL, NULL, NULL, NULL },
    [PT_HTTP_FILTER_WRITE]          = { "write", NULL, NULL, NULL, NULL },
};

pt_http_output_header_filter_pt  pt_http_top_header_filter;
pt_http_output_body_filter_pt    pt_http_top_body_filter;

void
pt_http_filters_reset(void)
{
    pt_uint_t  i;

    for (i = 0; i < PT_HTTP_FILTER_NSLOTS; i++) {
        pt_http_filter_slots[i].header = NULL;
        pt_http_filter_slots[i].next_header = NULL;
        pt_http_filter_slots[i].body = NULL;
        pt_http_filter_slots[i].next_body = NULL;
    }
}

pt_int_t
pt_http_register_filter(pt_conf_t *cf, pt_uint_t slot,
    pt_http_output_header_filter_pt header,
    pt_http_output_header_filter_pt *next_header,
    pt_http_output_body_filter_pt body,
    pt_http_output_body_filter_pt *next_body)
{
    pt_http_filter_slot_t  *s;

    if (slot >= PT_HTTP_FILTER_NSLOTS) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid http filter slot %lu",
                          (unsigned long) slot);
        return PT_ERROR;
    }

    s = &pt_http_filter_slots[slot];

    if (s->header || s->body) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the \"%s\" http filter slot is taken twice", s->name);
        return PT_ERROR;
    }

    s->header = header;
    s->next_header = next_header;
    s->body = body;
    s->next_body = next_body;

    return PT_OK;
}

pt_int_t
pt_http_filters_init(pt_conf_t *cf)
{
    pt_int_t                          i;
    pt_http_filter_slot_t            *s;
    pt_http_output_header_filter_pt   header;
    pt_http_output_body_filter_pt     body;

    header = NULL;
    body = NULL;

    /* From the bottom up: each filter's next is the one below it. */
    for (i = PT_HTTP_FILTER_NSLOTS - 1; i >= 0; i--) {
        s = &pt_http_filter_slots[i];

        if (s->header) {
            if (s->next_header) {
                *s->next_header = header;
            }
            header = s->header;
        }

        if (s->body) {
            if (s->next_body) {
                *s->next_body = body;
            }
            body = s->body;
        }
    }

    if (pt_http_filter_slots[PT_HTTP_FILTER_HEADER].header == NULL
        || pt_http_filter_slots[PT_HTTP_FILTER_WRITE].body == NULL)
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "the http header or write filter is not compiled in");
        return PT_ERROR;
    }

    pt_http_top_header_filter = header;
    pt_http_top_body_filter = body;

    return PT_OK;
}
