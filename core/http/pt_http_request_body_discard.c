/*
 * pt_http_request_body_discard.c: dropping a request body nobody reads,
 * and the "100 Continue" that precedes reading one.
 *
 * A handler that answers without reading the body (return, an error page,
 * 404) still has to consume it, or the body's bytes would be parsed as the
 * next request on a keepalive connection.  Discarding reads what is there
 * at once and, when more is due, goes on in the background while the
 * response is sent; the request stays referenced (r->count) until the body
 * is gone.  Bytes are read into a stack buffer, never past the end of the
 * body, so a pipelined request that follows stays in the socket.
 */

#include "pt_http.h"

static pt_int_t pt_http_read_discarded_request_body(pt_http_request_t *r);
static pt_int_t pt_http_discard_request_body_filter(pt_http_request_t *r,
    pt_buf_t *b);

pt_int_t
pt_http_discard_request_body(pt_http_request_t *r)
{
    pt_int_t     rc;
    pt_event_t  *rev;

    if (r != r->main || r->discard_body || r->request_body) {
        return PT_OK;
    }

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return PT_OK;
    }

    if (pt_http_test_expect(r) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    rev = r->connection->read;

    if (rev->timer_set) {
        pt_event_del_timer(rev);
    }

    if (r->header_in->pos < r->header_in->last || r->headers_in.chunked) {
        rc = pt_http_discard_request_body_filter(r, r->header_in);

        if (rc != PT_OK) {
            return rc;
        }

        if (r->headers_in.content_length_n == 0) {
            return PT_OK;
        }
    }

    rc = pt_http_read_discarded_request_body(r);

    if (rc == PT_OK) {
        r->lingering_close = 0;
        return PT_OK;
    }

    if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* PT_AGAIN: the rest comes later */

    r->read_event_handler = pt_http_discarded_request_body_handler;

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->count++;
    r->discard_body = 1;

    return PT_OK;
}

/* The read event handler while a body is discarded in the background. */
void
pt_http_discarded_request_body_handler(pt_http_request_t *r)
{
    pt_int_t                  rc;
    pt_msec_t                 timer;
    pt_event_t               *rev;
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    rev = c->read;

    if (rev->timedout) {
        c->timedout = 1;
        c->error = 1;
        pt_http_finalize_request(r, PT_ERROR);
        return;
    }

    if (r->lingering_time) {
        if (r->lingering_time <= pt_time()) {
            r->discard_body = 0;
            r->lingering_close = 0;
            pt_http_finalize_request(r, PT_ERROR);
            return;
        }

        timer = (pt_msec_t) (r->lingering_time - pt_time()) * 1000;

    } else {
        timer = 0;
    }

    rc = pt_http_read_discarded_request_body(r);

    if (rc == PT_OK) {
        r->discard_body = 0;
        r->lingering_close = 0;
        r->lingering_time = 0;
        pt_http_finalize_request(r, PT_DONE);
        return;
    }

    if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
        c->error = 1;
        pt_http_finalize_request(r, PT_ERROR);
        return;
    }

    /* PT_AGAIN */

    if (pt_handle_read_event(rev, 0) != PT_OK) {
        c->error = 1;
        pt_http_finalize_request(r, PT_ERROR);
        return;
    }

    if (timer) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

        if (timer > clcf->lingering_timeout) {
            timer = clcf->lingering_timeout;
        }

        pt_event_add_timer(rev, timer);
    }
}

/* Reads and drops body bytes, never more than the body still owes (so a
 * pipelined request after it stays in the socket).  PT_OK when the body is
 * done (or the client went away), PT_AGAIN, or an HTTP error status. */
static pt_int_t
pt_http_read_discarded_request_body(pt_http_request_t *r)
{
    size_t     size;
    ssize_t    n;
    pt_int_t   rc;
    pt_buf_t   b;
    u_char     buffer[PT_HTTP_DISCARD_BUFFER_SIZE];

    pt_memzero(&b, sizeof(pt_buf_t));
    b.temporary = 1;

    for ( ;; ) {
        if (r->headers_in.content_length_n == 0) {
            r->read_event_handler = pt_http_block_reading;
            return PT_OK;
        }

        if (!r->connection->read->ready) {
            return PT_AGAIN;
        }

        size = (size_t) pt_min(r->headers_in.content_length_n,
                               PT_HTTP_DISCARD_BUFFER_SIZE);

        n = r->connection->recv(r->connection, buffer, size);

        if (n == PT_ERROR) {
            r->connection->error = 1;
            return PT_OK;
        }

        if (n == PT_AGAIN) {
            return PT_AGAIN;
        }

        if (n == 0) {
            return PT_OK;
        }

        r->request_length += n;

        b.pos = buffer;
        b.last = buffer + n;
        b.start = buffer;
        b.end = buffer + n;

        rc = pt_http_discard_request_body_filter(r, &b);

        if (rc != PT_OK) {
            return rc;
        }
    }
}

/* Consumes body bytes from b; headers_in.content_length_n becomes what is
 * still owed (for chunked: the fewest bytes that can end the body). */
static pt_int_t
pt_http_discard_request_body_filter(pt_http_request_t *r, pt_buf_t *b)
{
    size_t              size;
    pt_int_t            rc;
    pt_http_chunked_t  *ctx;

    if (!r->headers_in.chunked) {
        size = b->last - b->pos;

        if ((off_t) size > r->headers_in.content_length_n) {
            b->pos += r->headers_in.content_length_n;
            r->headers_in.content_length_n = 0;

        } else {
            b->pos = b->last;
            r->headers_in.content_length_n -= size;
        }

        return PT_OK;
    }

    ctx = r->discard_chunked;

    if (ctx == NULL) {
        ctx = pt_pcalloc(r->pool, sizeof(pt_http_chunked_t));
        if (ctx == NULL) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }
        r->discard_chunked = ctx;
    }

    for ( ;; ) {
        rc = pt_http_parse_chunked(r, b, ctx);

        if (rc == PT_OK) {
            size = b->last - b->pos;

            if ((off_t) size > ctx->size) {
                b->pos += (size_t) ctx->size;
                ctx->size = 0;
            } else {
                b->pos = b->last;
                ctx->size -= size;
            }

            continue;
        }

        if (rc == PT_DONE) {
            r->headers_in.content_length_n = 0;
            return PT_OK;
        }

        if (rc == PT_AGAIN) {
            r->headers_in.content_length_n = ctx->length;
            return PT_OK;
        }

        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "client sent invalid chunked body");

        return PT_HTTP_BAD_REQUEST;
    }
}

/*
 * "Expect: 100-continue" (RFC 9110 10.1.1): the client waits for a go
 * before it sends the body; tell it to send (the body is going to be read
 * or dropped).  Only HTTP/1.1 clients get it, and only while no body byte
 * has arrived.  An error answer instead makes it pointless: the special
 * response marks the request tested before it discards.
 */
pt_int_t
pt_http_test_expect(pt_http_request_t *r)
{
    ssize_t  n;

    if (r->expect_tested || r->headers_in.expect == NULL
        || r->http_version < PT_HTTP_VERSION_11)
    {
        return PT_OK;
    }

    r->expect_tested = 1;

    if (r->header_in->pos < r->header_in->last) {
        return PT_OK;
    }

    n = r->connection->send(r->connection, (u_char *) "HTTP/1.1 100 Continue" CRLF CRLF,
                            sizeof("HTTP/1.1 100 Continue" CRLF CRLF) - 1);

    if (n == (ssize_t) (sizeof("HTTP/1.1 100 Continue" CRLF CRLF) - 1)) {
        return PT_OK;
    }

    /* such a small first write fails only on a broken connection */
    r->connection->error = 1;

    return PT_ERROR;
}
