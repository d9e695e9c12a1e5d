/*
 * pt_http_request_header.c: reading the request head.
 *
 * The request line and the header lines are parsed as the bytes arrive
 * (pt_http_parse.c does the parsing; this file feeds it and acts on the
 * results).  Nothing is copied: every string of the head points into the
 * header buffer.  When a line does not fit in the buffer, the incomplete
 * line moves to a large header buffer (large_client_header_buffers) and
 * the parser's pointers move with it; lines already parsed stay where they
 * are.  Known headers get their own handler (duplicates, Host, Connection),
 * and once the head is complete it is checked as a whole (RFC 9112: Host,
 * Content-Length, Transfer-Encoding) before the phases run.
 */

#include "pt_http.h"

static void pt_http_process_request_headers(pt_event_t *rev);
static ssize_t pt_http_read_request_header(pt_http_request_t *r);
static pt_int_t pt_http_alloc_large_header_buffer(pt_http_request_t *r,
    pt_uint_t request_line);
static pt_int_t pt_http_process_request_uri(pt_http_request_t *r);
static pt_int_t pt_http_process_request_header(pt_http_request_t *r);
static void pt_http_process_request(pt_http_request_t *r);
static pt_int_t pt_http_set_virtual_server(pt_http_request_t *r, pt_str_t *host);
static pt_int_t pt_http_use_host(pt_http_request_t *r, pt_str_t *host,
    pt_uint_t lowcase);

static pt_int_t pt_http_process_header_line(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_process_unique_header_line(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_process_host(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_process_connection(pt_http_request_t *r,
    pt_http_header_t *h, pt_uint_t offset);
static pt_int_t pt_http_check_transfer_encoding(pt_http_request_t *r);
static pt_int_t pt_http_check_expect(pt_http_request_t *r);
static void pt_http_options_asterisk(pt_http_request_t *r);

#define pt_http_hdr_off(field)  offsetof(pt_http_headers_in_t, field)

pt_http_header_in_t  pt_http_headers_in[] = {
    { pt_string("Host"), pt_http_hdr_off(host), pt_http_process_host },
    { pt_string("Connection"), pt_http_hdr_off(connection),
      pt_http_process_connection },
    { pt_string("If-Modified-Since"), pt_http_hdr_off(if_modified_since),
      pt_http_process_unique_header_line },
    { pt_string("If-Unmodified-Since"), pt_http_hdr_off(if_unmodified_since),
      pt_http_process_unique_header_line },
    { pt_string("If-Match"), pt_http_hdr_off(if_match), pt_http_process_header_line },
    { pt_string("If-None-Match"), pt_http_hdr_off(if_none_match),
      pt_http_process_header_line },
    { pt_string("User-Agent"), pt_http_hdr_off(user_agent), pt_http_process_header_line },
    { pt_string("Referer"), pt_http_hdr_off(referer), pt_http_process_header_line },
    { pt_string("Content-Length"), pt_http_hdr_off(content_length),
      pt_http_process_unique_header_line },
    { pt_string("Content-Range"), pt_http_hdr_off(content_range),
      pt_http_process_unique_header_line },
    { pt_string("Content-Type"), pt_http_hdr_off(content_type),
      pt_http_process_header_line },
    { pt_string("Range"), pt_http_hdr_off(range), pt_http_process_header_line },
    { pt_string("If-Range"), pt_http_hdr_off(if_range),
      pt_http_process_unique_header_line },
    { pt_string("Transfer-Encoding"), pt_http_hdr_off(transfer_encoding),
      pt_http_process_header_line },
    { pt_string("TE"), pt_http_hdr_off(te), pt_http_process_header_line },
    { pt_string("Expect"), pt_http_hdr_off(expect), pt_http_process_header_line },
    { pt_string("Upgrade"), pt_http_hdr_off(upgrade), pt_http_process_header_line },
    { pt_string("Accept-Encoding"), pt_http_hdr_off(accept_encoding),
      pt_http_process_header_line },
    { pt_string("Via"), pt_http_hdr_off(via), pt_http_process_header_line },
    { pt_string("Authorization"), pt_http_hdr_off(authorization),
      pt_http_process_unique_header_line },
    { pt_string("Keep-Alive"), pt_http_hdr_off(keep_alive), pt_http_process_header_line },
    { pt_string("X-Forwarded-For"), pt_http_hdr_off(x_forwarded_for),
      pt_http_process_header_line },
    { pt_string("X-Real-IP"), pt_http_hdr_off(x_real_ip), pt_http_process_header_line },
    { pt_string("Accept"), pt_http_hdr_off(accept), pt_http_process_header_line },
    { pt_string("Accept-Language"), pt_http_hdr_off(accept_language),
      pt_http_process_header_line },
    { pt_string("Cookie"), pt_http_hdr_off(cookie), pt_http_process_header_line },
    { pt_null_string, 0, NULL }
};

static char  *pt_http_client_errors[] = {
    "client sent invalid method",
    "client sent invalid request",
    "client sent unsupported HTTP version",
    "client sent HTTP/0.9 request"
};

/* ---- reading the head ---- */

/* The request line and headers have been read up to b->pos: log a parse
 * error with what we have of the request line. */
static void
pt_http_set_request_line_for_log(pt_http_request_t *r)
{
    u_char  *p;

    if (r->request_line.len || r->request_start == NULL) {
        return;
    }

    for (p = r->request_start; p < r->header_in->last; p++) {
        if (*p == CR || *p == LF) {
            break;
        }
    }

    r->request_line.len = p - r->request_start;
    r->request_line.data = r->request_start;
}

static pt_int_t
pt_http_request_line_done(pt_http_request_t *r)
{
    pt_str_t   host;
    pt_uint_t  lowcase;

    r->request_line.len = r->request_end - r->request_start;
    r->request_line.data = r->request_start;
    r->request_length = r->header_in->pos - r->request_start;

    r->method_name.len = r->method_end - r->request_start;
    r->method_name.data = r->request_start;

    if (r->http_protocol_start) {
        r->http_protocol.data = r->http_protocol_start;
        r->http_protocol.len = r->request_end - r->http_protocol_start;
    }

    if (pt_http_process_request_uri(r) != PT_OK) {
        return PT_ERROR;
    }

    if (r->schema_end) {
        r->schema.len = r->schema_end - r->schema_start;
        r->schema.data = r->schema_start;
    }

    if (r->host_end) {
        /* absolute-form: the target's host takes precedence over Host */
        host.data = r->host_start;
        host.len = (r->port_end ? r->port_end : r->host_end) - r->host_start;

        if (pt_http_validate_host(&host, &lowcase) != PT_OK) {
            pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                         "client sent invalid host in request line");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }

        if (pt_http_use_host(r, &host, lowcase) != PT_OK) {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

/* The start of both handlers that read the request head: the event's
 * request, or NULL when a timeout or a connection error ended it. */
static pt_http_request_t *
pt_http_request_head_event(pt_event_t *rev)
{
    pt_connection_t    *c;
    pt_http_request_t  *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        pt_http_request_timed_out(r);
        return NULL;
    }

    if (c->close && c->error) {
        pt_http_close_request(r, 0);
        return NULL;
    }

    return r;
}

void
pt_http_process_request_line(pt_event_t *rev)
{
    ssize_t              n;
    pt_int_t             rc, rv;
    pt_connection_t     *c;
    pt_http_request_t   *r;

    r = pt_http_request_head_event(rev);
    if (r == NULL) {
        return;
    }

    c = rev->data;
    rc = PT_AGAIN;

    for ( ;; ) {

        if (rc == PT_AGAIN) {
            n = pt_http_read_request_header(r);
            if (n == PT_AGAIN || n == PT_ERROR) {
                return;
            }
        }

        rc = pt_http_parse_request_line(r, r->header_in);

        if (rc == PT_OK) {
            if (pt_http_request_line_done(r) != PT_OK) {
                return;
            }

            c->log->action = "reading client request headers";
            rev->handler = pt_http_process_request_headers;
            pt_http_process_request_headers(rev);
            return;
        }

        if (rc != PT_AGAIN) {
            pt_http_set_request_line_for_log(r);
            pt_log_error(PT_LOG_INFO, c->log, 0, "%s",
                         pt_http_client_errors[rc - PT_HTTP_PARSE_INVALID_METHOD]);

            pt_http_finalize_request(r, rc == PT_HTTP_PARSE_INVALID_VERSION
                                        ? PT_HTTP_VERSION_NOT_SUPPORTED
                                        : PT_HTTP_BAD_REQUEST);
            return;
        }

        /* PT_AGAIN: the line goes on past the end of the buffer */

        if (r->header_in->pos == r->header_in->end) {
            rv = pt_http_alloc_large_header_buffer(r, 1);

            if (rv == PT_ERROR) {
                pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            if (rv == PT_DECLINED) {
                r->request_line.len = r->header_in->end - r->request_start;
                r->request_line.data = r->request_start;

                pt_log_error(PT_LOG_INFO, c->log, 0, "client sent too long URI");
                pt_http_finalize_request(r, PT_HTTP_REQUEST_URI_TOO_LARGE);
                return;
            }
        }
    }
}

/* Sets r->uri, r->args, r->exten, r->unparsed_uri from the parsed line. */
static pt_int_t
pt_http_process_request_uri(pt_http_request_t *r)
{
    u_char                   *end;
    pt_http_core_srv_conf_t  *cscf;

    end = r->args_start ? r->args_start - 1 : r->uri_end;

    if (r->complex_uri || r->quoted_uri) {
        r->uri.data = pt_pnalloc(r->pool, end - r->uri_start + 1);
        if (r->uri.data == NULL) {
            pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_ERROR;
        }

        cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

        if (pt_http_parse_complex_uri(r, cscf->merge_slashes) != PT_OK) {
            r->uri.len = 0;
            pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                         "client sent invalid request");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }

    } else {
        r->uri.len = end - r->uri_start;
        r->uri.data = r->uri_start;

        if (r->uri_ext) {
            r->exten.len = end - r->uri_ext;
            r->exten.data = r->uri_ext;
        }
    }

    r->unparsed_uri.len = r->uri_end - r->uri_start;
    r->unparsed_uri.data = r->uri_start;
    r->valid_unparsed_uri = r->empty_path_in_uri ? 0 : 1;

    if (r->args_start && r->uri_end > r->args_start) {
        r->args.len = r->uri_end - r->args_start;
        r->args.data = r->args_start;
    }

    return PT_OK;
}

/* Logs and answers a header line the parser or a size limit rejected;
 * [start, end) is the offending line, start NULL when unknown. */
static void
pt_http_header_error(pt_http_request_t *r, pt_int_t status, const char *what,
    u_char *start, u_char *end)
{
    size_t  len;

    if (start == NULL || end < start) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0, "client sent %s", what);

    } else {
        len = end - start;
        if (len > PT_MAX_ERROR_STR - 300) {
            len = PT_MAX_ERROR_STR - 300;
        }
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent %s: \"%.*s\"", what, (int) len, start);
    }

    r->lingering_close = 1;
    pt_http_finalize_request(r, status);
}

static pt_http_header_in_t *
pt_http_find_header_in(pt_http_core_main_conf_t *cmcf, pt_http_header_t *h)
{
    pt_uint_t             key, mask;
    pt_http_header_in_t  *hh;

    mask = cmcf->headers_in_hash_size - 1;

    for (key = h->hash & mask; (hh = cmcf->headers_in_hash[key]);
         key = (key + 1) & mask)
    {
        if (hh->name.len == h->key.len
            && pt_strncasecmp(hh->name.data, h->key.data, h->key.len) == 0)
        {
            return hh;
        }
    }

    return NULL;
}

/* Stores the header line the parser just found. */
static pt_int_t
pt_http_store_header(pt_http_request_t *r)
{
    pt_http_header_t          *h;
    pt_http_header_in_t       *hh;
    pt_http_core_main_conf_t  *cmcf;

    h = pt_list_push(&r->headers_in.headers);
    if (h == NULL) {
        pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_ERROR;
    }

    h->hash = r->header_hash;
    h->key.len = r->header_name_end - r->header_name_start;
    h->key.data = r->header_name_start;
    h->value.len = r->header_end - r->header_start;
    h->value.data = r->header_start;
    h->next = NULL;

    /* No allocation per header: a name sent in lower case is its own
     * lower-case form; any other is compared case-insensitively (NULL). */
    if (h->key.len == r->lowcase_index
        && pt_memcmp(h->key.data, r->lowcase_header, h->key.len) == 0)
    {
        h->lowcase_key = h->key.data;
    } else {
        h->lowcase_key = NULL;
    }

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);

    hh = pt_http_find_header_in(cmcf, h);

    if (hh && hh->handler(r, h, hh->offset) != PT_OK) {
        return PT_ERROR;
    }

    return PT_OK;
}

static void
pt_http_process_request_headers(pt_event_t *rev)
{
    ssize_t                   n;
    pt_int_t                  rc, rv;
    pt_connection_t          *c;
    pt_http_request_t        *r;
    pt_http_core_srv_conf_t  *cscf;

    r = pt_http_request_head_event(rev);
    if (r == NULL) {
        return;
    }

    c = rev->data;
    rc = PT_AGAIN;

    for ( ;; ) {

        if (rc == PT_AGAIN) {

            if (r->header_in->pos == r->header_in->end) {
                rv = pt_http_alloc_large_header_buffer(r, 0);

                if (rv == PT_ERROR) {
                    pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                if (rv == PT_DECLINED) {
                    if (r->state == 0) {
                        pt_http_header_error(r, PT_HTTP_REQUEST_HEADER_TOO_LARGE,
                                             "too large request", NULL, NULL);
                    } else {
                        pt_http_header_error(r, PT_HTTP_REQUEST_HEADER_TOO_LARGE,
                                             "too long header line",
                                             r->header_name_start,
                                             r->header_in->pos);
                    }
                    return;
                }
            }

            n = pt_http_read_request_header(r);
            if (n == PT_AGAIN || n == PT_ERROR) {
                return;
            }
        }

        cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

        rc = pt_http_parse_header_line(r, r->header_in, cscf->underscores_in_headers);

        if (rc == PT_OK) {
            r->request_length += r->header_in->pos - r->header_name_start;

            if (r->invalid_header && cscf->ignore_invalid_headers) {
                pt_log_error(PT_LOG_INFO, c->log, 0,
                             "client sent invalid header line: \"%.*s\"",
                             (int) (r->header_end - r->header_name_start),
                             r->header_name_start);
                continue;
            }

            if (pt_http_store_header(r) != PT_OK) {
                return;
            }

            continue;
        }

        if (rc == PT_HTTP_PARSE_HEADER_DONE) {
            r->request_length += r->header_in->pos - r->header_name_start;

            c->log->action = "processing client request headers";

            if (pt_http_process_request_header(r) != PT_OK) {
                return;
            }

            pt_http_process_request(r);
            return;
        }

        if (rc == PT_AGAIN) {
            continue;
        }

        /* PT_HTTP_PARSE_INVALID_HEADER */
        pt_http_header_error(r, PT_HTTP_BAD_REQUEST, "invalid header line",
                             r->header_name_start, r->header_in->pos);
        return;
    }
}

/* Returns the bytes waiting in the header buffer, reading if there are
 * none; PT_AGAIN (the read event is armed) or PT_ERROR (the request is
 * finalized). */
static ssize_t
pt_http_read_request_header(pt_http_request_t *r)
{
    ssize_t                   n;
    pt_event_t               *rev;
    pt_connection_t          *c;
    pt_http_core_srv_conf_t  *cscf;

    c = r->connection;
    rev = c->read;

    n = r->header_in->last - r->header_in->pos;

    if (n > 0) {
        return n;
    }

    if (rev->ready) {
        n = c->recv(c, r->header_in->last, r->header_in->end - r->header_in->last);
    } else {
        n = PT_AGAIN;
    }

    if (n == PT_AGAIN) {
        if (!rev->timer_set) {
            cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
            pt_event_add_timer(rev, cscf->client_header_timeout);
        }

        if (pt_handle_read_event(rev, 0) != PT_OK) {
            pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_ERROR;
        }

        return PT_AGAIN;
    }

    if (n == 0) {
        pt_log_error(PT_LOG_INFO, c->log, 0, "client prematurely closed connection");
    }

    if (n == 0 || n == PT_ERROR) {
        c->error = 1;
        c->log->action = "reading client request headers";
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    r->header_in->last += n;

    return n;
}

#define pt_http_rebase(field)                                               \
    do {                                                                    \
        if (r->field) {                                                     \
            r->field = new + (r->field - old);                              \
        }                                                                   \
    } while (0)

/*
 * The head outgrew its buffer: take a large header buffer (a free one, or
 * a new one while fewer than large_client_header_buffers.num are busy)
 * and move the incomplete request line or header line into it, fixing the
 * parser's pointers.  Lines already parsed stay where they are.  Returns
 * PT_DECLINED when the line alone is too long or no buffer is left.
 */
static pt_int_t
pt_http_alloc_large_header_buffer(pt_http_request_t *r, pt_uint_t request_line)
{
    u_char                   *old, *new;
    size_t                    size, len;
    pt_buf_t                 *b;
    pt_chain_t               *cl;
    pt_connection_t          *c;
    pt_http_connection_t     *hc;
    pt_http_core_srv_conf_t  *cscf;

    c = r->connection;

    if (request_line && r->request_start == NULL) {
        /* only empty lines so far */
        r->header_in->pos = r->header_in->start;
        r->header_in->last = r->header_in->start;
        return PT_OK;
    }

    old = request_line ? r->request_start : r->header_name_start;
    len = r->state ? (size_t) (r->header_in->pos - old) : 0;

    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
    size = cscf->large_client_header_buffers.size;

    if (len >= size) {
        return PT_DECLINED;
    }

    hc = r->http_connection;

    if (hc->nbusy >= cscf->large_client_header_buffers.num) {
        return PT_DECLINED;
    }

    if (hc->free) {
        cl = hc->free;
        hc->free = cl->next;
        b = cl->buf;

        if (b->start && (size_t) (b->end - b->start) < size) {
            (void) pt_pfree(c->pool, b->start);
            b->start = NULL;
        }

    } else {
        b = pt_calloc_buf(c->pool);
        cl = pt_alloc_chain_link(c->pool);
        if (b == NULL || cl == NULL) {
            return PT_ERROR;
        }
        cl->buf = b;
    }

    if (b->start == NULL) {
        b->start = pt_palloc(c->pool, size);
        if (b->start == NULL) {
            return PT_ERROR;
        }
        b->end = b->start + size;
        b->temporary = 1;
    }

    cl->next = hc->busy;
    hc->busy = cl;
    hc->nbusy++;

    new = b->start;

    if (len) {
        pt_memcpy(new, old, len);
    }

    b->pos = new + len;
    b->last = new + len;

    if (len == 0) {
        r->header_in = b;
        return PT_OK;
    }

    if (request_line) {
        pt_http_rebase(request_start);
        pt_http_rebase(request_end);
        pt_http_rebase(method_end);
        pt_http_rebase(uri_start);
        pt_http_rebase(uri_end);
        pt_http_rebase(uri_ext);
        pt_http_rebase(args_start);
        pt_http_rebase(schema_start);
        pt_http_rebase(schema_end);
        pt_http_rebase(host_start);
        pt_http_rebase(host_end);
        pt_http_rebase(port_end);
        pt_http_rebase(http_protocol_start);

    } else {
        pt_http_rebase(header_name_start);
        pt_http_rebase(header_name_end);
        pt_http_rebase(header_start);
        pt_http_rebase(header_end);
    }

    r->header_in = b;

    return PT_OK;
}

/* ---- request header handlers ---- */

/* Keeps the first occurrence in its slot and chains the others. */
static pt_int_t
pt_http_process_header_line(pt_http_request_t *r, pt_http_header_t *h,
    pt_uint_t offset)
{
    pt_http_header_t  **ph;

    ph = (pt_http_header_t **) ((char *) &r->headers_in + offset);

    while (*ph) {
        ph = &(*ph)->next;
    }

    *ph = h;

    return PT_OK;
}

static pt_int_t
pt_http_process_unique_header_line(pt_http_request_t *r, pt_http_header_t *h,
    pt_uint_t offset)
{
    pt_http_header_t  **ph;

    ph = (pt_http_header_t **) ((char *) &r->headers_in + offset);

    if (*ph == NULL) {
        *ph = h;
        return PT_OK;
    }

    pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                 "client sent duplicate header line: \"" PT_STR_FMT ": " PT_STR_FMT
                 "\", previous value: \"" PT_STR_FMT ": " PT_STR_FMT "\"",
                 PT_STR_ARG(h->key), PT_STR_ARG(h->value),
                 PT_STR_ARG((*ph)->key), PT_STR_ARG((*ph)->value));

    pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);

    return PT_ERROR;
}

static pt_int_t
pt_http_process_host(pt_http_request_t *r, pt_http_header_t *h, pt_uint_t offset)
{
    pt_str_t   host;
    pt_uint_t  lowcase;

    if (r->headers_in.host) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent duplicate host header: \"" PT_STR_FMT ": "
                     PT_STR_FMT "\", previous value: \"" PT_STR_FMT ": "
                     PT_STR_FMT "\"",
                     PT_STR_ARG(h->key), PT_STR_ARG(h->value),
                     PT_STR_ARG(r->headers_in.host->key),
                     PT_STR_ARG(r->headers_in.host->value));
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    r->headers_in.host = h;

    host = h->value;

    if (pt_http_validate_host(&host, &lowcase) != PT_OK) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent invalid host header");
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    if (r->headers_in.server.len) {
        return PT_OK;
    }

    return pt_http_use_host(r, &host, lowcase);
}

/* A validated host (of the request line or the Host header) becomes the
 * request's server name, in lower case (lowcase: it has upper-case
 * letters, so it is copied first), and chooses the virtual server.
 * PT_ERROR: the request is finalized. */
static pt_int_t
pt_http_use_host(pt_http_request_t *r, pt_str_t *host, pt_uint_t lowcase)
{
    pt_str_t  name;

    name = *host;

    if (lowcase) {
        name.data = pt_pstrdup(r->pool, host);
        if (name.data == NULL) {
            pt_http_close_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return PT_ERROR;
        }
        pt_strlow(name.data, name.data, name.len);
    }

    if (pt_http_set_virtual_server(r, &name) == PT_ERROR) {
        return PT_ERROR;
    }

    r->headers_in.server = name;

    return PT_OK;
}

static pt_int_t
pt_http_process_connection(pt_http_request_t *r, pt_http_header_t *h,
    pt_uint_t offset)
{
    (void) pt_http_process_header_line(r, h, offset);

    if (pt_http_list_has_token(&h->value, "close", sizeof("close") - 1)) {
        r->headers_in.connection_type = PT_HTTP_CONNECTION_CLOSE;

    } else if (r->headers_in.connection_type == 0
               && pt_http_list_has_token(&h->value, "keep-alive",
                                         sizeof("keep-alive") - 1))
    {
        r->headers_in.connection_type = PT_HTTP_CONNECTION_KEEP_ALIVE;
    }

    return PT_OK;
}

/*
 * Notes the clients that keepalive_disable can name, as nginx detects them:
 * MSIE 4 and 5, and 6 unless its token says "SV1"; Safari on Mac OS X (and
 * not Chrome, whose User-Agent also says Safari).  Called only where
 * keepalive_disable can use the answer (pt_http_update_location_config):
 * a browser's User-Agent is over 100 bytes, and scanning it for every
 * request cost more than the rest of a short request's head.
 */
void
pt_http_detect_browser(pt_http_request_t *r)
{
    u_char            *ua, *last, *msie;
    pt_http_header_t  *h;

    for (h = r->headers_in.user_agent; h; h = h->next) {
        ua = h->value.data;
        last = ua + h->value.len;

        msie = pt_strlcasestrn(ua, last, (u_char *) "msie ", 5);

        if (msie && msie + 7 < last && msie[6] == '.') {
            switch (msie[5]) {
            case '4':
            case '5':
                r->headers_in.msie6 = 1;
                break;
            case '6':
                if (pt_strlcasestrn(msie + 8, last, (u_char *) "sv1", 3) == NULL) {
                    r->headers_in.msie6 = 1;
                }
                break;
            }
            continue;
        }

        if (pt_strlcasestrn(ua, last, (u_char *) "safari/", 7)
            && pt_strlcasestrn(ua, last, (u_char *) "mac os x", 8)
            && pt_strlcasestrn(ua, last, (u_char *) "chrome/", 7) == NULL)
        {
            r->headers_in.safari = 1;
        }
    }
}

/* Checks the head as a whole once all of it is read (RFC 9112 6, 3.2).
 * Every failure here answers and closes: r->keepalive is not set yet. */
static pt_int_t
pt_http_process_request_header(pt_http_request_t *r)
{
    pt_int_t   rc;
    pt_log_t  *log;

    log = r->connection->log;

    if (r->headers_in.server.len == 0
        && pt_http_set_virtual_server(r, &r->headers_in.server) == PT_ERROR)
    {
        return PT_ERROR;
    }

    if (r->headers_in.host == NULL && r->http_version > PT_HTTP_VERSION_10) {
        pt_log_error(PT_LOG_INFO, log, 0,
                     "client sent HTTP/1.1 request without \"Host\" header");
        pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
        return PT_ERROR;
    }

    if (r->headers_in.content_length) {
        /* 1*DIGIT: no sign, no inner space, no list, no hex (RFC 9110 8.6) */
        r->headers_in.content_length_n =
            pt_atoof(r->headers_in.content_length->value.data,
                     r->headers_in.content_length->value.len);

        if (r->headers_in.content_length_n == PT_ERROR) {
            pt_log_error(PT_LOG_INFO, log, 0,
                         "client sent invalid \"Content-Length\" header");
            pt_http_finalize_request(r, PT_HTTP_BAD_REQUEST);
            return PT_ERROR;
        }
    }

    if (r->headers_in.transfer_encoding) {
        rc = pt_http_check_transfer_encoding(r);
        if (rc != PT_OK) {
            pt_http_finalize_request(r, rc);
            return PT_ERROR;
        }
    }

    if (r->method == PT_HTTP_CONNECT) {
        pt_log_error(PT_LOG_INFO, log, 0, "client sent CONNECT method");
        pt_http_finalize_request(r, PT_HTTP_NOT_ALLOWED);
        return PT_ERROR;
    }

    if (r->method == PT_HTTP_TRACE) {
        pt_log_error(PT_LOG_INFO, log, 0, "client sent TRACE method");
        pt_http_finalize_request(r, PT_HTTP_NOT_ALLOWED);
        return PT_ERROR;
    }

    if (r->headers_in.expect && pt_http_check_expect(r) != PT_OK) {
        pt_http_finalize_request(r, PT_HTTP_EXPECTATION_FAILED);
        return PT_ERROR;
    }

    return PT_OK;
}

/* The next member of a comma-separated list value (RFC 9110 5.6.1):
 * skips empty members and OWS; false when the list is used up. */
static pt_uint_t
pt_http_list_member(u_char **pos, u_char *last, u_char **start, u_char **end)
{
    u_char  *p, *e;

    p = *pos;

    while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
        p++;
    }

    if (p == last) {
        *pos = p;
        return 0;
    }

    *start = p;

    while (p < last && *p != ',') {
        p++;
    }

    for (e = p; e > *start && (e[-1] == ' ' || e[-1] == '\t'); e--) { /* void */ }

    *end = e;
    *pos = p;

    return 1;
}

/* Whether [start, end) equals the lower-case literal s, ignoring case. */
static pt_uint_t
pt_http_token_eq(u_char *start, u_char *end, const char *s, size_t len)
{
    return (size_t) (end - start) == len
           && pt_strncasecmp(start, (u_char *) s, len) == 0;
}

/*
 * Transfer-Encoding (RFC 9112 6.1, 6.3): the codings of all its field
 * lines, in order.  A request without Content-Length and with chunked as
 * its only coding has a chunked body.  Otherwise:
 *   - HTTP/1.0, or Content-Length as well: 400 (smuggling risk);
 *   - an empty list, a malformed member, chunked twice, a coding after
 *     chunked, or parameters on chunked: 400;
 *   - any other coding (gzip, identity, ...) is not implemented: 501.
 * Returns PT_OK or the status to answer with.
 */
static pt_int_t
pt_http_check_transfer_encoding(pt_http_request_t *r)
{
    u_char            *p, *last, *start, *end, *tok;
    pt_log_t          *log;
    pt_uint_t          chunked, after_chunked, other, n;
    pt_http_header_t  *h;

    log = r->connection->log;

    if (r->http_version < PT_HTTP_VERSION_11) {
        pt_log_error(PT_LOG_INFO, log, 0,
                     "client sent HTTP/1.0 request with \"Transfer-Encoding\" header");
        return PT_HTTP_BAD_REQUEST;
    }

    if (r->headers_in.content_length) {
        pt_log_error(PT_LOG_INFO, log, 0,
                     "client sent \"Content-Length\" and \"Transfer-Encoding\" "
                     "headers at the same time");
        return PT_HTTP_BAD_REQUEST;
    }

    chunked = 0;
    after_chunked = 0;
    other = 0;
    n = 0;

    for (h = r->headers_in.transfer_encoding; h; h = h->next) {
        p = h->value.data;
        last = p + h->value.len;

        /* each member: coding [ OWS ";" params ] */
        while (pt_http_list_member(&p, last, &start, &end)) {

            for (tok = start; tok < end && pt_http_token_lc[*tok]; tok++) { /* void */ }

            if (tok == start || (tok < end && *tok != ';' && *tok != ' ' && *tok != '\t')) {
                goto invalid;
            }

            n++;

            if (pt_http_token_eq(start, tok, "chunked", sizeof("chunked") - 1)) {
                if (chunked || tok != end) {
                    goto invalid;
                }
                chunked = 1;
                continue;
            }

            other = 1;

            if (chunked) {
                after_chunked = 1;
            }
        }
    }

    if (n == 0 || after_chunked) {
        goto invalid;
    }

    if (other) {
        pt_log_error(PT_LOG_INFO, log, 0,
                     "client sent unknown \"Transfer-Encoding\": \"" PT_STR_FMT "\"",
                     PT_STR_ARG(r->headers_in.transfer_encoding->value));
        return PT_HTTP_NOT_IMPLEMENTED;
    }

    r->headers_in.chunked = 1;

    return PT_OK;

invalid:

    pt_log_error(PT_LOG_INFO, log, 0,
                 "client sent invalid \"Transfer-Encoding\": \"" PT_STR_FMT "\"",
                 PT_STR_ARG(h ? h->value : r->headers_in.transfer_encoding->value));

    return PT_HTTP_BAD_REQUEST;
}

/* Expect (RFC 9110 10.1.1): an HTTP/1.1 request may expect 100-continue and
 * nothing else (417); HTTP/1.0 clients cannot, so their Expect is ignored.
 * The interim 100 itself is sent when the body is first read. */
static pt_int_t
pt_http_check_expect(pt_http_request_t *r)
{
    u_char            *p, *last, *start, *end;
    pt_http_header_t  *h;

    if (r->http_version < PT_HTTP_VERSION_11) {
        return PT_OK;
    }

    for (h = r->headers_in.expect; h; h = h->next) {
        p = h->value.data;
        last = p + h->value.len;

        while (pt_http_list_member(&p, last, &start, &end)) {
            if (!pt_http_token_eq(start, end, "100-continue", sizeof("100-continue") - 1)) {
                pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                             "client sent unsupported \"Expect\": \"" PT_STR_FMT "\"",
                             PT_STR_ARG(h->value));
                return PT_ERROR;
            }
        }
    }

    return PT_OK;
}

static void
pt_http_process_request(pt_http_request_t *r)
{
    pt_connection_t  *c;

    c = r->connection;

    if (c->read->timer_set) {
        pt_event_del_timer(c->read);
    }

    /* nginx's request-time error lines have no " while ..." part
     * ("access forbidden by rule, client: ...") */
    c->log->action = NULL;

    c->read->handler = pt_http_request_handler;
    c->write->handler = pt_http_request_handler;
    r->read_event_handler = pt_http_block_reading;

#if (PT_HAVE_HTTP_SSL_MODULE)
    /* plain HTTP on a TLS port, client certificate checks */
    if (r->http_connection->ssl && pt_http_ssl_verify_request(r) != PT_OK) {
        return;
    }
#endif

    if (r->uri.len == 1 && r->uri.data[0] == '*') {
        pt_http_options_asterisk(r);
        return;
    }

    pt_http_handler(r);
}

/*
 * "OPTIONS *" (RFC 9110 9.3.7) asks about the server, not a resource: it
 * is answered here, by the server the Host chose, without locations.
 */
static void
pt_http_options_asterisk(pt_http_request_t *r)
{
    pt_http_header_t  *h;

    r->keepalive = (r->headers_in.connection_type == 0)
                   ? (r->http_version > PT_HTTP_VERSION_10)
                   : (r->headers_in.connection_type == PT_HTTP_CONNECTION_KEEP_ALIVE);

    pt_http_update_location_config(r);

    h = pt_http_add_response_header(r, "Allow", sizeof("Allow") - 1,
                                    (u_char *) "GET, HEAD, POST, OPTIONS",
                                    sizeof("GET, HEAD, POST, OPTIONS") - 1);
    if (h == NULL) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    pt_http_finalize_request(r, pt_http_send_response(r, PT_HTTP_OK, NULL, NULL));
}

static pt_int_t
pt_http_set_virtual_server(pt_http_request_t *r, pt_str_t *host)
{
    pt_http_core_srv_conf_t  *cscf;
    pt_http_core_loc_conf_t  *clcf;

    cscf = pt_http_find_request_server(r, r->http_connection->addr_conf, host);

    if (cscf == NULL) {
        return PT_OK;
    }

    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
    pt_http_set_connection_log(r->connection, clcf->error_log);

    return PT_OK;
}
