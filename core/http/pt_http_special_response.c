/*
 * pt_http_special_response.c: status lines and the built-in pages sent for
 * errors and redirects.  The texts are nginx's, byte for byte, so clients
 * and tests that know nginx see the same responses; only the signature in
 * the tail names portico.
 */

#include "pt_http.h"

#define pt_http_page(title)                                                 \
    "<html>" CRLF                                                           \
    "<head><title>" title "</title></head>" CRLF                            \
    "<body>" CRLF                                                           \
    "<center><h1>" title "</h1></center>" CRLF

static u_char  pt_http_error_tail[] =
    "<hr><center>" PORTICO_VER "</center>" CRLF
    "</body>" CRLF
    "</html>" CRLF;

static u_char  pt_http_error_tail_notokens[] =
    "<hr><center>" PORTICO_NAME "</center>" CRLF
    "</body>" CRLF
    "</html>" CRLF;

typedef struct {
    pt_uint_t    status;
    pt_str_t     line;      /* status line text, empty: none */
    pt_str_t     page;      /* built-in page, empty: none */
} pt_http_status_t;

#define PT_S(code, line, page)  { code, pt_string(line), pt_string(page) }
#define PT_S0(code, line)       { code, pt_string(line), pt_null_string }

/* Ordered by status for the binary search. */
static pt_http_status_t  pt_http_statuses[] = {
    PT_S0(200, "200 OK"),
    PT_S0(201, "201 Created"),
    PT_S0(202, "202 Accepted"),
    PT_S0(204, "204 No Content"),
    PT_S0(206, "206 Partial Content"),

    PT_S(301, "301 Moved Permanently", pt_http_page("301 Moved Permanently")),
    PT_S(302, "302 Moved Temporarily", pt_http_page("302 Found")),
    PT_S(303, "303 See Other", pt_http_page("303 See Other")),
    PT_S0(304, "304 Not Modified"),
    PT_S(307, "307 Temporary Redirect", pt_http_page("307 Temporary Redirect")),
    PT_S(308, "308 Permanent Redirect", pt_http_page("308 Permanent Redirect")),

    PT_S(400, "400 Bad Request", pt_http_page("400 Bad Request")),
    PT_S(401, "401 Unauthorized", pt_http_page("401 Authorization Required")),
    PT_S(402, "402 Payment Required", pt_http_page("402 Payment Required")),
    PT_S(403, "403 Forbidden", pt_http_page("403 Forbidden")),
    PT_S(404, "404 Not Found", pt_http_page("404 Not Found")),
    PT_S(405, "405 Not Allowed", pt_http_page("405 Not Allowed")),
    PT_S(406, "406 Not Acceptable", pt_http_page("406 Not Acceptable")),
    PT_S(408, "408 Request Time-out", pt_http_page("408 Request Time-out")),
    PT_S(409, "409 Conflict", pt_http_page("409 Conflict")),
    PT_S(410, "410 Gone", pt_http_page("410 Gone")),
    PT_S(411, "411 Length Required", pt_http_page("411 Length Required")),
    PT_S(412, "412 Precondition Failed", pt_http_page("412 Precondition Failed")),
    PT_S(413, "413 Request Entity Too Large",
         pt_http_page("413 Request Entity Too Large")),
    PT_S(414, "414 Request-URI Too Large", pt_http_page("414 Request-URI Too Large")),
    PT_S(415, "415 Unsupported Media Type", pt_http_page("415 Unsupported Media Type")),
    PT_S(416, "416 Requested Range Not Satisfiable",
         pt_http_page("416 Requested Range Not Satisfiable")),
    PT_S(417, "417 Expectation Failed", pt_http_page("417 Expectation Failed")),
    PT_S(421, "421 Misdirected Request", pt_http_page("421 Misdirected Request")),
    PT_S(429, "429 Too Many Requests", pt_http_page("429 Too Many Requests")),

    /* nginx's own codes, answered with status 400 */
    PT_S(494, "", pt_http_page("400 Request Header Or Cookie Too Large")),
    PT_S(495, "", pt_http_page("400 The SSL certificate error")),
    PT_S(496, "", pt_http_page("400 No required SSL certificate was sent")),
    PT_S(497, "", pt_http_page("400 The plain HTTP request was sent to HTTPS port")),

    PT_S(500, "500 Internal Server Error", pt_http_page("500 Internal Server Error")),
    PT_S(501, "501 Not Implemented", pt_http_page("501 Not Implemented")),
    PT_S(502, "502 Bad Gateway", pt_http_page("502 Bad Gateway")),
    PT_S(503, "503 Service Temporarily Unavailable",
         pt_http_page("503 Service Temporarily Unavailable")),
    PT_S(504, "504 Gateway Time-out", pt_http_page("504 Gateway Time-out")),
    PT_S(505, "505 HTTP Version Not Supported",
         pt_http_page("505 HTTP Version Not Supported")),
    PT_S(507, "507 Insufficient Storage", pt_http_page("507 Insufficient Storage")),
};

static pt_http_status_t *
pt_http_find_status(pt_uint_t status)
{
    pt_uint_t  lo, hi, mid;

    lo = 0;
    hi = pt_nelems(pt_http_statuses);

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (pt_http_statuses[mid].status == status) {
            return &pt_http_statuses[mid];
        }

        if (pt_http_statuses[mid].status < status) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}

pt_str_t *
pt_http_status_line(pt_uint_t status)
{
    pt_http_status_t  *s;

    s = pt_http_find_status(status);

    if (s == NULL || s->line.len == 0) {
        return NULL;
    }

    return &s->line;
}

/* Header and page for status err. */
static pt_int_t
pt_http_send_special_response(pt_http_request_t *r, pt_uint_t err)
{
    pt_int_t                  rc;
    pt_buf_t                 *b;
    pt_str_t                  tail;
    pt_chain_t                out[2];
    pt_http_status_t         *s;
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (clcf->server_tokens) {
        tail.data = pt_http_error_tail;
        tail.len = sizeof(pt_http_error_tail) - 1;
    } else {
        tail.data = pt_http_error_tail_notokens;
        tail.len = sizeof(pt_http_error_tail_notokens) - 1;
    }

    s = pt_http_find_status(err);

    r->headers_out.content_type.len = 0;
    r->headers_out.content_type_len = 0;
    r->headers_out.charset.len = 0;
    r->headers_out.last_modified_time = -1;

    /* these point into the header list: a page is not that entity */
    if (r->headers_out.last_modified) {
        r->headers_out.last_modified->hash = 0;
        r->headers_out.last_modified = NULL;
    }

    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }

    if (r->headers_out.accept_ranges) {
        r->headers_out.accept_ranges->hash = 0;
        r->headers_out.accept_ranges = NULL;
    }

    if (s && s->page.len) {
        r->headers_out.content_length_n = s->page.len + tail.len;
        pt_str_set(&r->headers_out.content_type, "text/html");
        r->headers_out.content_type_len = sizeof("text/html") - 1;
    } else {
        r->headers_out.content_length_n = 0;
    }

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    rc = pt_http_send_header(r);

    if (rc == PT_ERROR || r->header_only) {
        return rc;
    }

    b = pt_calloc_buf(r->pool);
    if (b == NULL) {
        return PT_ERROR;
    }

    if (s == NULL || s->page.len == 0) {
        b->last_buf = 1;
        b->last_in_chain = 1;
        out[0].buf = b;
        out[0].next = NULL;
        return pt_http_output_filter(r, &out[0]);
    }

    b->memory = 1;
    b->pos = s->page.data;
    b->last = s->page.data + s->page.len;

    out[0].buf = b;
    out[0].next = &out[1];

    b = pt_calloc_buf(r->pool);
    if (b == NULL) {
        return PT_ERROR;
    }

    b->memory = 1;
    b->pos = tail.data;
    b->last = tail.data + tail.len;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out[1].buf = b;
    out[1].next = NULL;

    return pt_http_output_filter(r, &out[0]);
}

pt_int_t
pt_http_special_response_handler(pt_http_request_t *r, pt_int_t error)
{
    pt_int_t  rc;

    if (r->header_sent) {
        /* too late for a page: the response is broken off */
        r->connection->error = 1;
        return PT_ERROR;
    }

    r->err_status = error;

    if (r->keepalive) {
        switch (error) {
        case PT_HTTP_BAD_REQUEST:
        case PT_HTTP_REQUEST_ENTITY_TOO_LARGE:
        case PT_HTTP_REQUEST_URI_TOO_LARGE:
        case PT_HTTP_REQUEST_HEADER_TOO_LARGE:
        case 495:
        case 496:
        case 497:
        case PT_HTTP_INTERNAL_SERVER_ERROR:
        case PT_HTTP_NOT_IMPLEMENTED:
        case PT_HTTP_VERSION_NOT_SUPPORTED:
            r->keepalive = 0;
        }
    }

    if (r->lingering_close) {
        switch (error) {
        case PT_HTTP_BAD_REQUEST:
        case 495:
        case 496:
        case 497:
            r->lingering_close = 0;
        }
    }

    /* error_page: an internal redirect, a named location, or a redirect
     * whose built-in page is sent below */
    rc = pt_http_error_page(r, error);

    if (rc != PT_DECLINED) {
        if (rc < PT_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }
        error = rc;
    }

    if (error >= PT_HTTP_REQUEST_HEADER_TOO_LARGE && error <= 497) {
        /* answered as 400, with their own page */
        r->err_status = PT_HTTP_BAD_REQUEST;
    }

    r->expect_tested = 1;

    if (pt_http_discard_request_body(r) != PT_OK) {
        r->keepalive = 0;
    }

    return pt_http_send_special_response(r, error);
}
