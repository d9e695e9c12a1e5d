/*
 * pt_http_proxy_response.c: the upstream's response head and body
 * framing, parsed strictly (RFC 9112).
 *
 * A response is 502 with its connection dropped, never reused, when the
 * head breaks a framing rule a lenient parser would guess around: a status
 * line that is not "HTTP/1.x NNN [reason]", obs-fold, a control byte or
 * bare CR in a field, whitespace before a colon, a Content-Length that is
 * not all digits or comes twice, a Transfer-Encoding other than one
 * "chunked", Content-Length together with Transfer-Encoding, or
 * Transfer-Encoding in an HTTP/1.0 response.  These are where response
 * splitting and cache poisoning start.
 *
 * The head is found first (its empty line; a bare LF ends a line, RFC 9112
 * 2.2), then parsed in one pass; the scan resumes where the last read
 * ended.  Interim 1xx responses other than 101 are dropped (the client
 * asked for none of them).  Header strings point into u->buffer.
 *
 * Body framing, decoded in place by the input filters: Content-Length
 * (bytes past it are dropped and the connection is not reused), chunked,
 * or the connection's close.
 */

#include "pt_http_proxy.h"

static pt_int_t pt_http_proxy_length_filter(pt_http_request_t *r, pt_buf_t *b,
    u_char *start);
static pt_int_t pt_http_proxy_chunked_filter(pt_http_request_t *r, pt_buf_t *b,
    u_char *start);
static pt_int_t pt_http_proxy_close_filter(pt_http_request_t *r, pt_buf_t *b,
    u_char *start);

/* RFC 9110 5.6.2 tchar, lower-cased; 0 for anything else. */
static u_char
pt_http_proxy_tchar(u_char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
        return ch;
    }

    if (ch >= 'A' && ch <= 'Z') {
        return ch | 0x20;
    }

    switch (ch) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return ch;
    }

    return 0;
}

/* Field values and reason phrases: HTAB, SP, VCHAR, obs-text. */
#define pt_http_proxy_vchar(ch)  ((ch) == '\t' || ((ch) >= 0x20 && (ch) != 0x7f))

static pt_int_t
pt_http_proxy_invalid(pt_http_request_t *r, const char *what, u_char *start,
    u_char *end)
{
    pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                 "upstream sent %s: \"%.*s\"", what,
                 (int) pt_min(end - start, 256), start);

    return PT_HTTP_UPSTREAM_INVALID_HEADER;
}

/* "HTTP/1.x NNN [reason]" in [p, end). */
static pt_int_t
pt_http_proxy_status_line(pt_http_request_t *r, pt_http_upstream_t *u, u_char *p,
    u_char *end)
{
    u_char  *start, *reason;

    start = p;

    if (end - p < 12 || pt_memcmp(p, "HTTP/1.", 7) != 0
        || p[7] < '0' || p[7] > '9' || p[8] != ' '
        || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9'
        || p[11] < '0' || p[11] > '9')
    {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "upstream sent no valid HTTP/1.0 header: \"%.*s\"",
                     (int) pt_min(end - start, 256), start);
        return PT_HTTP_UPSTREAM_INVALID_HEADER;
    }

    u->headers_in.http_10 = (p[7] == '0');
    u->headers_in.status_n = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');

    p += 12;

    if (p < end && *p != ' ') {
        return pt_http_proxy_invalid(r, "invalid status line", start, end);
    }

    reason = (p < end) ? p + 1 : end;

    for (p = reason; p < end; p++) {
        if (!pt_http_proxy_vchar(*p)) {
            return pt_http_proxy_invalid(r, "invalid status line", start, end);
        }
    }

    if (reason < end) {
        /* "NNN reason" goes to the client as it is */
        u->headers_in.status_line.data = start + 9;
        u->headers_in.status_line.len = end - (start + 9);
    }

    return PT_OK;
}

/* The fields that decide the framing, and a few the upstream code needs. */
static pt_int_t
pt_http_proxy_special_header(pt_http_request_t *r, pt_http_upstream_t *u,
    pt_http_header_t *h, u_char *line, u_char *end)
{
    pt_str_t                        *n;
    pt_http_header_t               **last;
    pt_http_upstream_headers_in_t   *hi;

    hi = &u->headers_in;
    n = &h->key;

    if (n->len == 14 && pt_strncasecmp(n->data, (u_char *) "content-length", 14) == 0) {
        if (hi->content_length) {
            return pt_http_proxy_invalid(r, "duplicate \"Content-Length\" header",
                                         line, end);
        }

        hi->content_length = h;
        hi->content_length_n = pt_atoof(h->value.data, h->value.len);

        if (hi->content_length_n == PT_ERROR) {
            return pt_http_proxy_invalid(r, "invalid \"Content-Length\" header",
                                         line, end);
        }

        return PT_OK;
    }

    if (n->len == 17
        && pt_strncasecmp(n->data, (u_char *) "transfer-encoding", 17) == 0)
    {
        if (hi->transfer_encoding) {
            return pt_http_proxy_invalid(r, "duplicate \"Transfer-Encoding\" header",
                                         line, end);
        }

        hi->transfer_encoding = h;

        if (h->value.len != 7
            || pt_strncasecmp(h->value.data, (u_char *) "chunked", 7) != 0)
        {
            return pt_http_proxy_invalid(r, "unknown \"Transfer-Encoding\"", line, end);
        }

        hi->chunked = 1;

        return PT_OK;
    }

    if (n->len == 10 && pt_strncasecmp(n->data, (u_char *) "connection", 10) == 0) {
        for (last = &hi->connection; *last; last = &(*last)->next) { /* void */ }
        *last = h;

        if (pt_http_list_has_token(&h->value, "close", 5)) {
            hi->connection_close = 1;
        }

        return PT_OK;
    }

    if (n->len == 8 && pt_strncasecmp(n->data, (u_char *) "location", 8) == 0) {
        hi->location = h;
        return PT_OK;
    }

    if (n->len == 17
        && pt_strncasecmp(n->data, (u_char *) "x-accel-buffering", 17) == 0)
    {
        hi->x_accel_buffering = h;
    }

    return PT_OK;
}

/* One field line [p, end) (no CR LF). */
static pt_int_t
pt_http_proxy_header_line(pt_http_request_t *r, pt_http_upstream_t *u, u_char *p,
    u_char *end)
{
    u_char            *line, *name_end, *value, *value_end, c;
    pt_uint_t          hash;
    pt_http_header_t  *h;

    line = p;

    if (*p == ' ' || *p == '\t') {
        return pt_http_proxy_invalid(r, "obsolete line folding", line, end);
    }

    hash = 0;

    for ( /* void */ ; p < end && *p != ':'; p++) {
        c = pt_http_proxy_tchar(*p);

        if (c == 0) {
            return pt_http_proxy_invalid(r, "invalid header", line, end);
        }

        hash = pt_hash(hash, c);
    }

    if (p == end || p == line) {
        return pt_http_proxy_invalid(r, "invalid header", line, end);
    }

    name_end = p++;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    value = p;

    for ( /* void */ ; p < end; p++) {
        if (!pt_http_proxy_vchar(*p)) {
            return pt_http_proxy_invalid(r, "invalid header", line, end);
        }
    }

    value_end = end;

    while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) {
        value_end--;
    }

    h = pt_list_push(&u->headers_in.headers);
    if (h == NULL) {
        return PT_ERROR;
    }

    h->hash = hash;
    h->key.data = line;
    h->key.len = name_end - line;
    h->value.data = value;
    h->value.len = value_end - value;
    h->lowcase_key = NULL;
    h->next = NULL;

    return pt_http_proxy_special_header(r, u, h, line, end);
}

/* The head in [p, end), which ends with its empty line. */
static pt_int_t
pt_http_proxy_parse_head(pt_http_request_t *r, pt_http_upstream_t *u, u_char *p,
    u_char *end)
{
    u_char    *lf, *eol;
    pt_int_t   rc;
    pt_uint_t  first;

    first = 1;

    while (p < end) {
        lf = pt_strlchr(p, end, LF);

        eol = (lf > p && lf[-1] == CR) ? lf - 1 : lf;

        if (pt_strlchr(p, eol, CR)) {
            return pt_http_proxy_invalid(r, "bare CR in header", p, eol);
        }

        if (eol == p) {
            if (first) {
                return pt_http_proxy_invalid(r, "no valid HTTP/1.0 header", p, eol);
            }
            break;
        }

        rc = first ? pt_http_proxy_status_line(r, u, p, eol)
                   : pt_http_proxy_header_line(r, u, p, eol);

        if (rc != PT_OK) {
            return rc;
        }

        first = 0;
        p = lf + 1;
    }

    if (u->headers_in.content_length && u->headers_in.transfer_encoding) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "upstream sent \"Content-Length\" and "
                     "\"Transfer-Encoding\" headers at the same time");
        return PT_HTTP_UPSTREAM_INVALID_HEADER;
    }

    if (u->headers_in.transfer_encoding && u->headers_in.http_10) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "upstream sent \"Transfer-Encoding\" in an HTTP/1.0 response");
        return PT_HTTP_UPSTREAM_INVALID_HEADER;
    }

    return PT_OK;
}

/* Forgets a parsed head (an interim response, dropped). */
static pt_int_t
pt_http_proxy_reset_head(pt_http_request_t *r, pt_http_upstream_t *u)
{
    pt_memzero(&u->headers_in, sizeof(pt_http_upstream_headers_in_t));
    u->headers_in.content_length_n = -1;

    return pt_list_init(&u->headers_in.headers, r->pool, 8, sizeof(pt_http_header_t));
}

pt_int_t
pt_http_proxy_process_header(pt_http_request_t *r)
{
    u_char               *p, *q, *end;
    pt_int_t              rc;
    pt_buf_t             *b;
    pt_http_upstream_t   *u;
    pt_http_proxy_ctx_t  *ctx;

    u = r->upstream;
    b = &u->buffer;
    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);

    for ( ;; ) {
        if (ctx->scan == NULL) {
            ctx->scan = b->pos;
            ctx->line_start = b->pos;
        }

        end = NULL;

        for (p = ctx->scan;
             (p = pt_strlchr(p, b->last, LF)) != NULL;
             p++)
        {
            q = (p > ctx->line_start && p[-1] == CR) ? p - 1 : p;

            if (q == ctx->line_start && ctx->line_start != b->pos) {
                end = p + 1;
                break;
            }

            ctx->line_start = p + 1;
        }

        if (end == NULL) {
            ctx->scan = b->last;
            return PT_AGAIN;
        }

        rc = pt_http_proxy_parse_head(r, u, b->pos, end);

        if (rc != PT_OK) {
            return rc;
        }

        ctx->scan = NULL;

        if (u->headers_in.status_n >= 200
            || u->headers_in.status_n == PT_HTTP_SWITCHING_PROTOCOLS)
        {
            break;
        }

        /* an interim response: dropped, the final one follows */
        pt_memmove(b->pos, end, b->last - end);
        b->last -= end - b->pos;

        if (pt_http_proxy_reset_head(r, u) != PT_OK) {
            return PT_ERROR;
        }
    }

    b->pos = end;

    if (u->headers_in.status_n == PT_HTTP_SWITCHING_PROTOCOLS) {
        if (r->headers_in.upgrade == NULL || r->http_version < PT_HTTP_VERSION_11) {
            pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                         "upstream sent \"101 Switching Protocols\" to a request "
                         "without \"Upgrade\"");
            return PT_HTTP_UPSTREAM_INVALID_HEADER;
        }

        u->upgrade = 1;
        u->keepalive = 0;
    }

    return PT_OK;
}

/* ---- body framing ---- */

pt_int_t
pt_http_proxy_input_filter_init(pt_http_request_t *r)
{
    pt_uint_t                  status;
    pt_http_upstream_t        *u;
    pt_http_proxy_ctx_t       *ctx;
    pt_http_proxy_loc_conf_t  *plcf;

    u = r->upstream;
    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);
    plcf = pt_http_get_module_loc_conf(r, pt_http_proxy_module);

    status = u->headers_in.status_n;

    u->keepalive = !u->headers_in.connection_close && !u->headers_in.http_10
                   && !plcf->connection_close && !u->upgrade;

    if (u->upgrade) {
        u->length = -1;
        u->input_filter = pt_http_proxy_close_filter;
        return PT_OK;
    }

    if (status == PT_HTTP_NO_CONTENT || status == PT_HTTP_NOT_MODIFIED
        || ctx->head)
    {
        u->length = 0;
        u->input_filter = pt_http_proxy_length_filter;
        return PT_OK;
    }

    if (u->headers_in.chunked) {
        pt_memzero(&ctx->chunked, sizeof(pt_http_chunked_t));
        u->length = 1;
        u->input_filter = pt_http_proxy_chunked_filter;
        return PT_OK;
    }

    if (u->headers_in.content_length_n >= 0) {
        u->length = u->headers_in.content_length_n;
        u->input_filter = pt_http_proxy_length_filter;
        return PT_OK;
    }

    /* the body ends with the connection */
    u->length = -1;
    u->keepalive = 0;
    u->input_filter = pt_http_proxy_close_filter;

    return PT_OK;
}

static pt_int_t
pt_http_proxy_length_filter(pt_http_request_t *r, pt_buf_t *b, u_char *start)
{
    off_t                n;
    pt_http_upstream_t  *u;

    u = r->upstream;

    n = b->last - start;

    if (n > u->length) {
        pt_log_error(PT_LOG_WARN, r->connection->log, 0,
                     "upstream sent more data than specified in "
                     "\"Content-Length\" header");

        b->last = start + u->length;
        n = u->length;
        u->keepalive = 0;
    }

    u->length -= n;

    return PT_OK;
}

/* Decodes the chunks of [start, b->last) in place: the data moves down
 * over the chunk lines, so b->last ends at the last data byte. */
static pt_int_t
pt_http_proxy_chunked_filter(pt_http_request_t *r, pt_buf_t *b, u_char *start)
{
    u_char               *w;
    size_t                size;
    pt_int_t              rc;
    pt_buf_t              in;
    pt_http_upstream_t   *u;
    pt_http_proxy_ctx_t  *ctx;

    u = r->upstream;
    ctx = pt_http_get_module_ctx(r, pt_http_proxy_module);

    pt_memzero(&in, sizeof(pt_buf_t));
    in.pos = start;
    in.last = b->last;

    w = start;

    for ( ;; ) {
        rc = pt_http_parse_chunked(r, &in, &ctx->chunked);

        if (rc == PT_OK) {
            size = (size_t) pt_min(ctx->chunked.size, in.last - in.pos);

            if (w != in.pos) {
                pt_memmove(w, in.pos, size);
            }

            w += size;
            in.pos += size;
            ctx->chunked.size -= size;
            continue;
        }

        if (rc == PT_DONE) {
            u->length = 0;

            if (in.pos < in.last) {
                pt_log_error(PT_LOG_WARN, r->connection->log, 0,
                             "upstream sent data after final chunk");
                u->keepalive = 0;
            }

            break;
        }

        if (rc == PT_AGAIN) {
            /* at least this many bytes are still due */
            u->length = ctx->chunked.length ? ctx->chunked.length : 1;
            break;
        }

        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "upstream sent invalid chunked response");
        u->keepalive = 0;

        b->last = w;

        return PT_ERROR;
    }

    b->last = w;

    return PT_OK;
}

static pt_int_t
pt_http_proxy_close_filter(pt_http_request_t *r, pt_buf_t *b, u_char *start)
{
    return PT_OK;
}
