/*
 * pt_http_filters.h: the response filter chains.
 *
 * A response header passes through the header filters, then its body
 * through the body filters.  The order of both chains is written down in
 * one table, in pt_http_filters.c: each filter module registers its
 * handlers into a named slot in its postconfiguration, and the http block
 * links the occupied slots, top to bottom, once all modules registered.
 * Each filter calls the next one through the pointer it handed over at
 * registration.
 */

#ifndef PT_HTTP_FILTERS_H
#define PT_HTTP_FILTERS_H

/* A header filter returns what the next one returned, PT_ERROR, or an
 * HTTP status to answer instead (nothing was sent yet): the not_modified
 * filter's 412 and the range filter's 416 travel up this way. */
typedef pt_int_t (*pt_http_output_header_filter_pt)(pt_http_request_t *r);
typedef pt_int_t (*pt_http_output_body_filter_pt)(pt_http_request_t *r,
    pt_chain_t *chain);

/* The slots, in call order (top first).  See the table in
 * pt_http_filters.c for what each one is for. */
typedef enum {
    PT_HTTP_FILTER_SLICE = 0,
    PT_HTTP_FILTER_NOT_MODIFIED,
    PT_HTTP_FILTER_RANGE_BODY,
    PT_HTTP_FILTER_COPY,
    PT_HTTP_FILTER_HEADERS,
    PT_HTTP_FILTER_USERID,
    PT_HTTP_FILTER_GUNZIP,
    PT_HTTP_FILTER_ADDITION,
    PT_HTTP_FILTER_SUB,
    PT_HTTP_FILTER_CHARSET,
    PT_HTTP_FILTER_SSI,
    PT_HTTP_FILTER_POSTPONE,
    PT_HTTP_FILTER_GZIP,
    PT_HTTP_FILTER_RANGE_HEADER,
    PT_HTTP_FILTER_CHUNKED,
    PT_HTTP_FILTER_HEADER,      /* serializes the header: ends that chain */
    PT_HTTP_FILTER_WRITE,       /* sends to the socket: ends the body chain */
    PT_HTTP_FILTER_NSLOTS
} pt_http_filter_slot_e;

/* Registers a filter module's handlers into slot.  Either handler may be
 * NULL (a header-only or body-only filter).  *next_header / *next_body are
 * set, when the chain is linked, to the next filter down.  A slot holds
 * one module; a second registration is a config error. */
pt_int_t pt_http_register_filter(pt_conf_t *cf, pt_uint_t slot,
    pt_http_output_header_filter_pt header,
    pt_http_output_header_filter_pt *next_header,
    pt_http_output_body_filter_pt body,
    pt_http_output_body_filter_pt *next_body);

/* Empties the slot table (start of an http {} block). */
void pt_http_filters_reset(void);
/* Links the registered filters into the two chains. */
pt_int_t pt_http_filters_init(pt_conf_t *cf);

/* The bottom of the body chain, also called by the header filter. */
pt_int_t pt_http_write_filter(pt_http_request_t *r, pt_chain_t *in);

extern pt_http_output_header_filter_pt  pt_http_top_header_filter;
extern pt_http_output_body_filter_pt    pt_http_top_body_filter;

extern pt_module_t  pt_http_header_filter_module;
extern pt_module_t  pt_http_write_filter_module;

#endif /* PT_HTTP_FILTERS_H */
