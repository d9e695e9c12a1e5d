/*
 * pt_ssl_io.c: TLS on a connection: handshake, reading, writing, shutdown.
 *
 * OpenSSL reads and writes the socket itself (SSL_set_fd); these functions
 * translate its answers into the event loop's terms.  The loop is
 * edge-triggered, so ev->ready must stay exact:
 *
 *   SSL_ERROR_WANT_READ    the socket was drained: rev->ready = 0
 *   SSL_ERROR_WANT_WRITE   the socket is full: wev->ready = 0
 *
 * A read may need the socket to be writable (a TLS 1.3 KeyUpdate answer)
 * and a write may need it readable; then the other direction's handler is
 * swapped for a while (saved_*_handler) so the event that unblocks TLS
 * runs the side that waits.
 *
 * Writes go through one buffer of buffer_size bytes: the chain of a
 * response (headers, small buffers, file ranges read with pread()) is
 * packed into it and sent as full records.  The buffer memory comes from a
 * small per-worker cache and goes back as soon as it is empty, so an idle
 * keepalive connection holds none and steady traffic allocates nothing.
 */

#include "portico.h"

#define PT_SSL_SEND_LIMIT   (2 * 1024 * 1024)
#define PT_SSL_CACHE_MAX    64

static void pt_ssl_handshake_handler(pt_event_t *ev);
static pt_int_t pt_ssl_handle_recv(pt_connection_t *c, int n);
static void pt_ssl_read_handler(pt_event_t *wev);
static void pt_ssl_write_handler(pt_event_t *rev);
static pt_int_t pt_ssl_get_buffer(pt_connection_t *c);
static void pt_ssl_put_buffer(pt_connection_t *c);
static pt_int_t pt_ssl_fill_buffer(pt_connection_t *c, pt_buf_t *buf,
    pt_chain_t **in, off_t limit);
static ssize_t pt_ssl_send_buffer(pt_connection_t *c, pt_buf_t *buf);
static pt_chain_t *pt_ssl_send_chain_unbuffered(pt_connection_t *c,
    pt_chain_t *in);
static void pt_ssl_shutdown_handler(pt_event_t *ev);
static void pt_ssl_free_connection(void *data);
static pt_uint_t pt_ssl_peer_eof(int sslerr, pt_err_t err);

typedef struct {
    u_char      *elts[PT_SSL_CACHE_MAX];
    pt_uint_t    n;
    size_t       size;
} pt_ssl_buffer_cache_t;

static pt_ssl_buffer_cache_t  pt_ssl_buffer_cache;


/*
 * Attaches a new SSL object to c.  flags: PT_SSL_BUFFER packs writes into
 * ssl->buffer_size bytes; PT_SSL_CLIENT makes c the connecting side.  The
 * SSL object is freed with c->pool if nothing else freed it first.
 */
pt_int_t
pt_ssl_create_connection(pt_ssl_t *ssl, pt_connection_t *c, pt_uint_t flags)
{
    pt_uint_t             own_pool;
    pt_pool_cleanup_t    *cln;
    pt_ssl_connection_t  *sc;

    own_pool = 0;

    if (c->pool == NULL) {
        c->pool = pt_create_pool(512, c->log);
        if (c->pool == NULL) {
            return PT_ERROR;
        }
        own_pool = 1;
    }

    sc = pt_pcalloc(c->pool, sizeof(pt_ssl_connection_t));
    if (sc == NULL) {
        return PT_ERROR;
    }

    sc->own_pool = own_pool;

    sc->buffer = (flags & PT_SSL_BUFFER) != 0;
    sc->buffer_size = ssl->buffer_size;
    sc->session_ctx = ssl->ctx;
    sc->last = PT_OK;

    sc->connection = SSL_new(ssl->ctx);
    if (sc->connection == NULL) {
        pt_ssl_error(PT_LOG_ALERT, c->log, 0, "SSL_new() failed");
        return PT_ERROR;
    }

    cln = pt_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        SSL_free(sc->connection);
        return PT_ERROR;
    }

    cln->handler = pt_ssl_free_connection;
    cln->data = sc;

    if (SSL_set_fd(sc->connection, c->fd) == 0) {
        pt_ssl_error(PT_LOG_ALERT, c->log, 0, "SSL_set_fd() failed");
        return PT_ERROR;
    }

    if (flags & PT_SSL_CLIENT) {
        SSL_set_connect_state(sc->connection);
        sc->client = 1;
    } else {
        SSL_set_accept_state(sc->connection);
    }

    if (SSL_set_ex_data(sc->connection, pt_ssl_connection_index, c) == 0) {
        pt_ssl_error(PT_LOG_ALERT, c->log, 0, "SSL_set_ex_data() failed");
        return PT_ERROR;
    }

    c->ssl = sc;

    return PT_OK;
}


/* Pool cleanup: the SSL object of a connection closed without a shutdown
 * (an error path) must not leak. */
static void
pt_ssl_free_connection(void *data)
{
    pt_ssl_connection_t  *sc = data;

    if (sc->connection) {
        SSL_free(sc->connection);
        sc->connection = NULL;
    }
}


/*
 * Drives the handshake.  PT_OK: done, c->recv/send/send_chain are the TLS
 * ones.  PT_AGAIN: both event handlers now continue it and call
 * c->ssl->handler when it ends, which tells success from failure by
 * c->ssl->handshaked (and a timeout by c->ssl->handshake_timedout).
 * PT_ERROR: failed and logged.
 */
pt_int_t
pt_ssl_handshake(pt_connection_t *c)
{
    int                   n, sslerr;
    pt_err_t              err;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    ERR_clear_error();

    n = SSL_do_handshake(sc->connection);

    if (n == 1) {
        sc->handshaked = 1;

        c->recv = pt_ssl_recv;
        c->send = pt_ssl_write;
        c->send_chain = pt_ssl_send_chain;

        return PT_OK;
    }

    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? pt_errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ || sslerr == SSL_ERROR_WANT_WRITE) {
        if (sslerr == SSL_ERROR_WANT_READ) {
            c->read->ready = 0;
        } else {
            c->write->ready = 0;
        }

        c->read->handler = pt_ssl_handshake_handler;
        c->write->handler = pt_ssl_handshake_handler;

        if (pt_handle_read_event(c->read, 0) != PT_OK
            || pt_handle_write_event(c->write, 0) != PT_OK)
        {
            return PT_ERROR;
        }

        return PT_AGAIN;
    }

    c->read->error = 1;
    c->read->ready = 0;
    c->write->ready = 0;

    if (pt_ssl_peer_eof(sslerr, err)) {
        c->read->eof = 1;
        pt_log_error(PT_LOG_INFO, c->log, 0, "peer closed connection in SSL handshake");
        ERR_clear_error();
        return PT_ERROR;
    }

    pt_ssl_connection_error(c, sslerr, err, "SSL_do_handshake() failed");

    return PT_ERROR;
}


/* The peer closed: close_notify, or a TCP close without it (OpenSSL 3
 * reports that as "unexpected eof while reading"); HTTP clients do the
 * latter all the time, it is no error. */
static pt_uint_t
pt_ssl_peer_eof(int sslerr, pt_err_t err)
{
    unsigned long  n;

    if (sslerr == SSL_ERROR_ZERO_RETURN) {
        return 1;
    }

    if (sslerr == SSL_ERROR_SYSCALL && err == 0 && ERR_peek_error() == 0) {
        return 1;
    }

    if (sslerr == SSL_ERROR_SSL) {
        n = ERR_peek_last_error();
        return ERR_GET_LIB(n) == ERR_LIB_SSL
               && ERR_GET_REASON(n) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
    }

    return 0;
}


/* The read and write handler while a handshake waits for the socket. */
static void
pt_ssl_handshake_handler(pt_event_t *ev)
{
    pt_connection_t  *c;

    c = ev->data;

    if (ev->timedout) {
        c->ssl->handshake_timedout = 1;
        c->ssl->handler(c);
        return;
    }

    if (c->close && c->error) {
        /* the worker's shutdown timeout: the handler closes */
        c->ssl->handler(c);
        return;
    }

    if (pt_ssl_handshake(c) == PT_AGAIN) {
        return;
    }

    c->ssl->handler(c);
}


/*
 * Reads up to size bytes of plaintext.  Records are read until the buffer
 * is full or the socket is drained; a full buffer keeps rev->ready set so
 * the caller comes back for the rest (OpenSSL may hold decrypted bytes the
 * kernel no longer reports).  An error or end of stream met after some
 * bytes is kept in sc->last and returned by the next call.
 */
ssize_t
pt_ssl_recv(pt_connection_t *c, u_char *buf, size_t size)
{
    int                   n;
    ssize_t               bytes;
    pt_int_t              rc;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    if (sc->last == PT_ERROR) {
        c->read->ready = 0;
        c->read->error = 1;
        return PT_ERROR;
    }

    if (sc->last == PT_DONE) {
        c->read->ready = 0;
        c->read->eof = 1;
        return 0;
    }

    bytes = 0;

    ERR_clear_error();

    for ( ;; ) {
        n = SSL_read(sc->connection, buf, (int) pt_min(size, (size_t) INT_MAX));

        rc = pt_ssl_handle_recv(c, n);

        if (rc == PT_OK) {
            bytes += n;
            size -= n;

            if (size == 0) {
                c->read->ready = 1;
                return bytes;
            }

            buf += n;
            continue;
        }

        if (bytes) {
            if (rc != PT_AGAIN) {
                sc->last = rc;
                c->read->ready = 1;
            }
            return bytes;
        }

        switch (rc) {

        case PT_DONE:
            c->read->ready = 0;
            c->read->eof = 1;
            return 0;

        case PT_ERROR:
            c->read->ready = 0;
            c->read->error = 1;
            return PT_ERROR;

        default: /* PT_AGAIN */
            return PT_AGAIN;
        }
    }
}


/* Classifies the result of SSL_read(): PT_OK (bytes), PT_AGAIN, PT_DONE
 * (close_notify or EOF), PT_ERROR (logged). */
static pt_int_t
pt_ssl_handle_recv(pt_connection_t *c, int n)
{
    int                   sslerr;
    pt_err_t              err;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    if (n > 0) {
        if (sc->saved_write_handler) {
            /* the read that needed the socket writable went through */
            c->write->handler = sc->saved_write_handler;
            sc->saved_write_handler = NULL;
            c->write->ready = 1;
            pt_post_event(c->write, &pt_posted_events);
        }
        return PT_OK;
    }

    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? pt_errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ) {
        if (sc->saved_write_handler) {
            c->write->handler = sc->saved_write_handler;
            sc->saved_write_handler = NULL;
        }
        c->read->ready = 0;
        return PT_AGAIN;
    }

    if (sslerr == SSL_ERROR_WANT_WRITE) {
        /* the peer asked for something that must be written first: let
         * the write event continue this read */
        c->write->ready = 0;

        if (sc->saved_write_handler == NULL) {
            sc->saved_write_handler = c->write->handler;
            c->write->handler = pt_ssl_read_handler;
        }

        return PT_AGAIN;
    }

    sc->no_wait_shutdown = 1;
    sc->no_send_shutdown = 1;

    if (pt_ssl_peer_eof(sslerr, err)) {
        ERR_clear_error();
        return PT_DONE;
    }

    c->read->error = 1;

    pt_ssl_connection_error(c, sslerr, err, "SSL_read() failed");

    return PT_ERROR;
}


/* The write event stands in for the read handler. */
static void
pt_ssl_read_handler(pt_event_t *wev)
{
    pt_connection_t  *c;

    c = wev->data;

    c->read->handler(c->read);
}


/* The read event stands in for the write handler. */
static void
pt_ssl_write_handler(pt_event_t *rev)
{
    pt_connection_t  *c;

    c = rev->data;

    c->write->handler(c->write);
}


/* Writes up to size bytes of plaintext: the count, PT_AGAIN or PT_ERROR. */
ssize_t
pt_ssl_write(pt_connection_t *c, u_char *data, size_t size)
{
    int                   n, sslerr;
    pt_err_t              err;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    ERR_clear_error();

    n = SSL_write(sc->connection, data, (int) pt_min(size, (size_t) INT_MAX));

    if (n > 0) {
        if (sc->saved_read_handler) {
            c->read->handler = sc->saved_read_handler;
            sc->saved_read_handler = NULL;
            c->read->ready = 1;
            pt_post_event(c->read, &pt_posted_events);
        }

        c->sent += n;

        return n;
    }

    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? pt_errno : 0;

    if (sslerr == SSL_ERROR_WANT_WRITE) {
        if (sc->saved_read_handler) {
            c->read->handler = sc->saved_read_handler;
            sc->saved_read_handler = NULL;
        }
        c->write->ready = 0;
        return PT_AGAIN;
    }

    if (sslerr == SSL_ERROR_WANT_READ) {
        c->read->ready = 0;

        if (sc->saved_read_handler == NULL) {
            sc->saved_read_handler = c->read->handler;
            c->read->handler = pt_ssl_write_handler;
        }

        return PT_AGAIN;
    }

    sc->no_wait_shutdown = 1;
    sc->no_send_shutdown = 1;
    c->write->error = 1;

    pt_ssl_connection_error(c, sslerr, err, "SSL_write() failed");

    return PT_ERROR;
}


/* ---- the write buffer ---- */

static pt_int_t
pt_ssl_get_buffer(pt_connection_t *c)
{
    u_char                 *p;
    pt_buf_t               *b;
    pt_ssl_connection_t    *sc;
    pt_ssl_buffer_cache_t  *cache;

    sc = c->ssl;
    b = sc->buf;

    if (b == NULL) {
        b = pt_calloc_buf(c->pool);
        if (b == NULL) {
            return PT_ERROR;
        }
        sc->buf = b;
    }

    if (b->start) {
        return PT_OK;
    }

    cache = &pt_ssl_buffer_cache;

    if (cache->n && cache->size == sc->buffer_size) {
        p = cache->elts[--cache->n];
    } else {
        p = pt_alloc(sc->buffer_size, c->log);
        if (p == NULL) {
            return PT_ERROR;
        }
    }

    b->start = p;
    b->pos = p;
    b->last = p;
    b->end = p + sc->buffer_size;
    b->temporary = 1;

    return PT_OK;
}


/* Gives the buffer memory back (its content, if any, is dropped). */
static void
pt_ssl_put_buffer(pt_connection_t *c)
{
    pt_buf_t               *b;
    pt_ssl_buffer_cache_t  *cache;

    b = c->ssl->buf;

    if (b == NULL || b->start == NULL) {
        return;
    }

    cache = &pt_ssl_buffer_cache;

    if (cache->n == 0) {
        cache->size = b->end - b->start;
    }

    if (cache->n < PT_SSL_CACHE_MAX && cache->size == (size_t) (b->end - b->start)) {
        cache->elts[cache->n++] = b->start;
    } else {
        pt_free(b->start);
    }

    b->start = NULL;
    b->pos = NULL;
    b->last = NULL;
    b->end = NULL;
}


/* Sends what the buffer holds: bytes sent, PT_AGAIN, PT_ERROR. */
static ssize_t
pt_ssl_send_buffer(pt_connection_t *c, pt_buf_t *buf)
{
    ssize_t  n;

    n = pt_ssl_write(c, buf->pos, buf->last - buf->pos);

    if (n > 0) {
        buf->pos += n;

        if (buf->pos == buf->last) {
            buf->pos = buf->start;
            buf->last = buf->start;
        }
    }

    return n;
}


/*
 * Copies the head of *in into buf until it is full, the chain ends or
 * limit bytes were taken, advancing *in past what was copied.  File
 * buffers are read with pread().  PT_OK or PT_ERROR.
 */
static pt_int_t
pt_ssl_fill_buffer(pt_connection_t *c, pt_buf_t *buf, pt_chain_t **in,
    off_t limit)
{
    off_t        size;
    ssize_t      n;
    pt_buf_t    *b;
    pt_chain_t  *cl;

    for (cl = *in; cl && buf->last < buf->end && limit > 0; /* void */) {
        b = cl->buf;

        if (pt_buf_special(b) || pt_buf_size(b) == 0) {
            cl = cl->next;
            continue;
        }

        size = pt_min((off_t) (buf->end - buf->last), pt_buf_size(b));
        size = pt_min(size, limit);

        if (pt_buf_in_memory(b)) {
            pt_memcpy(buf->last, b->pos, (size_t) size);
            b->pos += size;
            if (b->in_file) {
                b->file_pos += size;
            }

        } else {
            n = pread(b->file->fd, buf->last, (size_t) size, b->file_pos);

            if (n == -1) {
                pt_log_error(PT_LOG_CRIT, c->log, pt_errno,
                             "pread() \"" PT_STR_FMT "\" failed",
                             PT_STR_ARG(b->file->name));
                return PT_ERROR;
            }

            if (n != size) {
                pt_log_error(PT_LOG_CRIT, c->log, 0,
                             "pread() read only %zd of %" PRId64 " from \""
                             PT_STR_FMT "\"", n, (int64_t) size,
                             PT_STR_ARG(b->file->name));
                return PT_ERROR;
            }

            b->file_pos += size;
        }

        buf->last += size;
        limit -= size;

        if (pt_buf_size(b) == 0) {
            cl = cl->next;
        }
    }

    /* links left with only special buffers are done too */
    while (cl && (pt_buf_special(cl->buf) || pt_buf_size(cl->buf) == 0)) {
        cl = cl->next;
    }

    *in = cl;

    return PT_OK;
}


/* Without PT_SSL_BUFFER: each memory buffer is one SSL_write(). */
static pt_chain_t *
pt_ssl_send_chain_unbuffered(pt_connection_t *c, pt_chain_t *in)
{
    ssize_t      n;
    pt_chain_t  *cl;

    for (cl = in; cl; cl = cl->next) {
        if (pt_buf_special(cl->buf) || pt_buf_size(cl->buf) == 0) {
            continue;
        }

        if (!pt_buf_in_memory(cl->buf)) {
            pt_log_error(PT_LOG_ALERT, c->log, 0,
                         "file buffer on an unbuffered SSL connection");
            return PT_CHAIN_ERROR;
        }

        n = pt_ssl_write(c, cl->buf->pos, cl->buf->last - cl->buf->pos);

        if (n == PT_ERROR) {
            return PT_CHAIN_ERROR;
        }

        if (n == PT_AGAIN) {
            return cl;
        }

        cl->buf->pos += n;

        if (cl->buf->pos < cl->buf->last) {
            return cl;
        }
    }

    return NULL;
}


/*
 * c->send_chain over TLS.  The chain is packed into the write buffer and
 * sent one full buffer at a time; the last, partial one is sent when the
 * chain ends.  Returns the first link not yet taken into the buffer (NULL
 * when all was), with PT_SSL_BUFFERED in c->buffered while the buffer still
 * holds bytes, or PT_CHAIN_ERROR.
 */
pt_chain_t *
pt_ssl_send_chain(pt_connection_t *c, pt_chain_t *in, off_t limit)
{
    off_t                 sent;
    ssize_t               n;
    pt_buf_t             *buf;
    pt_uint_t             bounded;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    if (!c->write->ready) {
        return in;
    }

    bounded = 0;

    if (limit == 0 || limit > PT_SSL_SEND_LIMIT) {
        limit = PT_SSL_SEND_LIMIT;
        bounded = 1;
    }

    if (!sc->buffer) {
        return pt_ssl_send_chain_unbuffered(c, in);
    }

    if (pt_ssl_get_buffer(c) != PT_OK) {
        return PT_CHAIN_ERROR;
    }

    buf = sc->buf;

    for (sent = 0; /* void */ ; /* void */) {

        if (pt_ssl_fill_buffer(c, buf, &in, limit - sent) != PT_OK) {
            return PT_CHAIN_ERROR;
        }

        if (buf->pos == buf->last) {
            break;
        }

        /* a partly filled buffer waits for more unless the chain ended */
        if (buf->last < buf->end && in && sent + (buf->last - buf->pos) < limit) {
            continue;
        }

        n = pt_ssl_send_buffer(c, buf);

        if (n == PT_ERROR) {
            return PT_CHAIN_ERROR;
        }

        if (n == PT_AGAIN) {
            break;
        }

        sent += n;

        if (buf->pos < buf->last) {
            /* a partial write: the socket is full */
            continue;
        }

        if (in == NULL || sent >= limit) {
            break;
        }
    }

    if (buf->pos < buf->last) {
        c->buffered |= PT_SSL_BUFFERED;
        return in;
    }

    c->buffered &= ~PT_SSL_BUFFERED;
    pt_ssl_put_buffer(c);

    if (in && bounded && c->write->ready) {
        pt_post_event(c->write, &pt_posted_next_events);
    }

    return in;
}


/* ---- shutdown ---- */

/*
 * Sends close_notify (unless the connection broke or timed out) without
 * waiting for the peer's, then frees the SSL object.  PT_AGAIN when the
 * alert could not be written yet: c->ssl->handler runs once it is, or
 * after 3 seconds.
 */
pt_int_t
pt_ssl_shutdown(pt_connection_t *c)
{
    int                   n, sslerr, mode;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    if (sc->connection == NULL) {
        goto done;
    }

    pt_ssl_put_buffer(c);
    c->buffered &= ~PT_SSL_BUFFERED;

    if (!sc->handshaked || SSL_in_init(sc->connection)) {
        /* a handshake that failed or never ended has nothing to close */
        goto free;
    }

    if (c->timedout || c->error || c->read->error || c->write->error
        || sc->no_send_shutdown)
    {
        mode = SSL_RECEIVED_SHUTDOWN | SSL_SENT_SHUTDOWN;
        SSL_set_quiet_shutdown(sc->connection, 1);

    } else {
        mode = SSL_get_shutdown(sc->connection) | SSL_RECEIVED_SHUTDOWN;
    }

    SSL_set_shutdown(sc->connection, mode);

    ERR_clear_error();

    n = SSL_shutdown(sc->connection);

    if (n != 1 && !(mode & SSL_SENT_SHUTDOWN)) {
        sslerr = SSL_get_error(sc->connection, n);

        if (sslerr == SSL_ERROR_WANT_WRITE && !c->write->timedout) {
            c->read->handler = pt_ssl_shutdown_handler;
            c->write->handler = pt_ssl_shutdown_handler;

            if (pt_handle_write_event(c->write, 0) != PT_OK) {
                goto free;
            }

            pt_event_add_timer(c->read, 3000);

            return PT_AGAIN;
        }
    }

    ERR_clear_error();

free:

    if (sc->shutdown_without_free) {
        return PT_OK;
    }

    SSL_free(sc->connection);
    sc->connection = NULL;

done:

    c->ssl = NULL;
    c->recv = pt_unix_recv;
    c->send = pt_unix_send;
    c->send_chain = pt_linux_sendfile_chain;

    return PT_OK;
}


static void
pt_ssl_shutdown_handler(pt_event_t *ev)
{
    pt_connection_t           *c;
    pt_connection_handler_pt   handler;

    c = ev->data;
    handler = c->ssl->handler;

    if (ev->timedout) {
        c->timedout = 1;
    }

    if (pt_ssl_shutdown(c) == PT_AGAIN) {
        return;
    }

    handler(c);
}


/* For a lingering close: close_notify now, the SSL object stays so the
 * rest of the client's data can still be read (and dropped). */
void
pt_ssl_shutdown_notify(pt_connection_t *c)
{
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    if (sc == NULL || sc->connection == NULL || !sc->handshaked
        || SSL_in_init(sc->connection))
    {
        return;
    }

    ERR_clear_error();
    (void) SSL_shutdown(sc->connection);
    ERR_clear_error();

    sc->no_send_shutdown = 1;
}


void
pt_ssl_close(pt_connection_t *c)
{
    pt_pool_t            *pool;
    pt_ssl_connection_t  *sc;

    sc = c->ssl;

    if (sc == NULL) {
        return;
    }

    pool = sc->own_pool ? c->pool : NULL;

    pt_ssl_put_buffer(c);
    c->buffered &= ~PT_SSL_BUFFERED;

    if (sc->connection) {
        if (sc->handshaked && !SSL_in_init(sc->connection)
            && !c->error && !c->read->error && !c->write->error)
        {
            if (!sc->no_send_shutdown) {
                /* one try, no waiting: the peer learns it was a clean close */
                ERR_clear_error();
                (void) SSL_shutdown(sc->connection);
            }

            /* a clean end: OpenSSL would otherwise drop the session as if
             * the connection had failed, and it could not be resumed */
            SSL_set_shutdown(sc->connection, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        }

        ERR_clear_error();
        SSL_free(sc->connection);
        sc->connection = NULL;
    }

    c->ssl = NULL;
    c->recv = pt_unix_recv;
    c->send = pt_unix_send;
    c->send_chain = pt_linux_sendfile_chain;

    if (pool) {
        c->pool = NULL;
        pt_destroy_pool(pool);
    }
}


/* ---- sessions, client side ---- */

pt_int_t
pt_ssl_set_session(pt_connection_t *c, SSL_SESSION *session)
{
    if (session == NULL) {
        return PT_OK;
    }

    if (SSL_set_session(c->ssl->connection, session) == 0) {
        pt_ssl_error(PT_LOG_ALERT, c->log, 0, "SSL_set_session() failed");
        return PT_ERROR;
    }

    return PT_OK;
}


SSL_SESSION *
pt_ssl_get1_session(pt_connection_t *c)
{
    SSL_SESSION  *sess;

    sess = SSL_get1_session(c->ssl->connection);

    if (sess && !SSL_SESSION_is_resumable(sess)) {
        SSL_SESSION_free(sess);
        return NULL;
    }

    return sess;
}


/* ---- errors ---- */

/*
 * A peer can make a handshake fail in many ways (garbage, an old
 * protocol, no common cipher, a bad certificate, plain HTTP): those are
 * its problem and are logged at [info] like a closed connection.  What is
 * left (memory, internal errors) is ours and logged at [crit].
 */
void
pt_ssl_connection_error(pt_connection_t *c, int sslerr, pt_err_t err,
    const char *text)
{
    int            lib;
    pt_uint_t      level;
    unsigned long  n;

    level = PT_LOG_CRIT;

    if (sslerr == SSL_ERROR_SYSCALL) {
        if (err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ETIMEDOUT
            || err == ECONNREFUSED || err == ENETDOWN || err == ENETUNREACH
            || err == EHOSTDOWN || err == EHOSTUNREACH)
        {
            level = (c->log_error == PT_ERROR_ALERT) ? PT_LOG_ERR : PT_LOG_INFO;

            if (err == ECONNRESET && c->log_error == PT_ERROR_IGNORE_ECONNRESET) {
                ERR_clear_error();
                return;
            }
        }

    } else if (sslerr == SSL_ERROR_SSL) {
        n = ERR_peek_last_error();
        lib = ERR_GET_LIB(n);

        /*
         * Everything the TLS state machine rejects comes from the peer:
         * unexpected records, versions, alerts, failed verification of our
         * certificate by a client (an alert), garbage.  Library failures
         * elsewhere (memory, crypto providers) are ours.
         */
        if (lib == ERR_LIB_SSL || lib == 0) {
            level = (c->log_error == PT_ERROR_INFO
                     || c->log_error == PT_ERROR_IGNORE_ECONNRESET)
                    ? PT_LOG_INFO : PT_LOG_ERR;
        }
    }

    pt_ssl_error(level, c->log, err, "%s", text);
}
