/*
 * pt_os_io.c: plain-socket I/O on Linux.
 *
 * Sockets are edge-triggered, so every function here keeps ev->ready
 * exact: it is cleared whenever the socket may be drained (EAGAIN, or a
 * read/write shorter than asked), and a handler that sees ready == 0 waits
 * for the next epoll report instead of calling again.
 *
 * Writes go through sendmsg() with MSG_NOSIGNAL (a peer that went away
 * yields EPIPE, never SIGPIPE).  A send_chain call moves at most
 * PT_SEND_CHAIN_LIMIT bytes when the caller sets no limit, so one fast
 * client downloading a large file cannot monopolize the loop: when it
 * stops at that bound with the socket still writable it posts the write
 * event to pt_posted_next_events, which runs it again on the next loop
 * iteration, after the others had their turn.  (With edge triggering no
 * new EPOLLOUT would arrive for a socket that was never filled.)
 */

#include "portico.h"

#define PT_SEND_CHAIN_LIMIT  (2 * 1024 * 1024)
#define PT_IOVS              64

typedef struct {
    struct iovec  iovs[PT_IOVS];
    int           count;
    size_t        size;
} pt_iovec_t;

static pt_chain_t *pt_send_chain(pt_connection_t *c, pt_chain_t *in,
    off_t limit, pt_uint_t use_sendfile);
static ssize_t pt_send_chain_once(pt_connection_t *c, pt_chain_t *in,
    off_t limit, pt_uint_t use_sendfile, off_t *size);
static pt_chain_t *pt_chain_to_iovec(pt_iovec_t *vec, pt_chain_t *in,
    size_t limit, pt_uint_t use_sendfile, pt_log_t *log);
static off_t pt_chain_coalesce_file(pt_chain_t **in, off_t limit);
static ssize_t pt_os_sendmsg(pt_connection_t *c, pt_iovec_t *vec, int flags);
static ssize_t pt_os_sendfile(pt_connection_t *c, pt_buf_t *file,
    size_t size);
static pt_chain_t *pt_os_update_sent(pt_chain_t *in, off_t sent);


/*
 * Reads up to size bytes.  Returns the count, 0 at end of stream (rev->eof
 * set), PT_AGAIN when nothing is there, PT_ERROR (rev->error set, logged).
 */
ssize_t
pt_unix_recv(pt_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    pt_err_t     err;
    pt_event_t  *rev;

    rev = c->read;

    for ( ;; ) {
        n = recv(c->fd, buf, size, 0);

        if (n > 0) {
            /*
             * A short read drained the socket; new data will be reported
             * by a new edge.  After EPOLLRDHUP no further edge will come,
             * so stay ready to read the end of stream.
             */
            if ((size_t) n < size) {
                if (!rev->pending_eof) {
                    rev->ready = 0;
                }
                rev->available = 0;
            }

            return n;
        }

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        err = pt_socket_errno;

        if (err == EINTR) {
            continue;
        }

        rev->ready = 0;

        if (err == EAGAIN) {
            return PT_AGAIN;
        }

        rev->error = 1;
        (void) pt_connection_error(c, err, "recv() failed");

        return PT_ERROR;
    }
}


/*
 * Writes up to size bytes.  Returns the count (a short count clears
 * wev->ready), PT_AGAIN, or PT_ERROR (wev->error set, logged).
 */
ssize_t
pt_unix_send(pt_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    pt_err_t     err;
    pt_event_t  *wev;

    wev = c->write;

    for ( ;; ) {
        n = send(c->fd, buf, size, MSG_NOSIGNAL);

        if (n > 0) {
            if ((size_t) n < size) {
                wev->ready = 0;
            }

            c->sent += n;
            return n;
        }

        if (n == 0) {
            pt_log_error(PT_LOG_ALERT, c->log, 0, "send() returned zero");
            wev->ready = 0;
            return 0;
        }

        err = pt_socket_errno;

        if (err == EINTR) {
            continue;
        }

        if (err == EAGAIN) {
            wev->ready = 0;
            return PT_AGAIN;
        }

        wev->error = 1;
        (void) pt_connection_error(c, err, "send() failed");

        return PT_ERROR;
    }
}


/* Memory buffers only; a buffer that exists only in a file is an error. */
pt_chain_t *
pt_writev_chain(pt_connection_t *c, pt_chain_t *in, off_t limit)
{
    return pt_send_chain(c, in, limit, 0);
}


/* Memory buffers with sendmsg(), file buffers with sendfile(). */
pt_chain_t *
pt_linux_sendfile_chain(pt_connection_t *c, pt_chain_t *in, off_t limit)
{
    return pt_send_chain(c, in, limit, 1);
}


/*
 * Sends as much of in as the socket takes, at most limit bytes (0: the
 * per-call bound).  Runs of memory buffers go out in one sendmsg() each;
 * with use_sendfile, runs of adjacent file ranges go out with sendfile().
 *
 * A header in memory directly followed by file data is sent with MSG_MORE,
 * so the kernel packs it with the first bytes of the file into full
 * segments.  That is what nginx gets from TCP_CORK, but without the two
 * setsockopt() calls per response and without having to uncork at the
 * end: sendfile() itself pushes its last segment.  (A connection whose
 * protocol disabled tcp_nopush gets plain sends.)
 *
 * Returns the first link not completely sent, NULL when everything was,
 * or PT_CHAIN_ERROR.
 */
static pt_chain_t *
pt_send_chain(pt_connection_t *c, pt_chain_t *in, off_t limit,
    pt_uint_t use_sendfile)
{
    off_t        send, size, sent;
    ssize_t      n;
    pt_uint_t    bounded;
    pt_event_t  *wev;

    wev = c->write;

    if (!wev->ready) {
        return in;
    }

    bounded = 0;

    if (limit == 0 || limit > PT_SEND_CHAIN_LIMIT) {
        limit = PT_SEND_CHAIN_LIMIT;
        bounded = 1;
    }

    for (send = 0; send < limit; send += size) {

        n = pt_send_chain_once(c, in, limit - send, use_sendfile, &size);

        if (n == PT_ERROR) {
            wev->error = 1;
            return PT_CHAIN_ERROR;
        }

        sent = (n == PT_AGAIN) ? 0 : n;

        c->sent += sent;

        in = pt_os_update_sent(in, sent);

        if (sent != size) {
            wev->ready = 0;     /* the socket is full */
            return in;
        }

        if (in == NULL || size == 0) {
            return in;
        }
    }

    if (bounded) {
        /* stopped by our own bound while still writable: resume on the
         * next iteration, no epoll report will do it */
        pt_post_event(wev, &pt_posted_next_events);
    }

    return in;
}


/*
 * Sends the run at the head of in: memory buffers with one sendmsg(), or
 * (use_sendfile) adjacent file ranges with one sendfile().  *size is set
 * to the bytes offered.  Returns the bytes sent, PT_AGAIN or PT_ERROR.
 */
static ssize_t
pt_send_chain_once(pt_connection_t *c, pt_chain_t *in, off_t limit,
    pt_uint_t use_sendfile, off_t *size)
{
    int          flags;
    pt_buf_t    *file;
    pt_chain_t  *cl;
    pt_iovec_t   vec;

    cl = pt_chain_to_iovec(&vec, in, (size_t) limit, use_sendfile, c->log);

    if (cl == PT_CHAIN_ERROR) {
        *size = 0;
        return PT_ERROR;
    }

    if (vec.count == 0 && use_sendfile && cl && cl->buf->in_file) {
        file = cl->buf;
        *size = pt_chain_coalesce_file(&cl, limit);

        return pt_os_sendfile(c, file, (size_t) *size);
    }

    *size = (off_t) vec.size;

    if (vec.count == 0) {
        return 0;
    }

    flags = 0;

    if (use_sendfile && cl && cl->buf->in_file && *size < limit
        && c->tcp_nopush != PT_TCP_NOPUSH_DISABLED)
    {
        flags = MSG_MORE;       /* the file follows in this call */
    }

    return pt_os_sendmsg(c, &vec, flags);
}


/*
 * Fills vec with the memory buffers at the head of in, up to limit bytes
 * and PT_IOVS entries, merging adjacent ones.  Stops at a file buffer when
 * use_sendfile (the caller sends it with sendfile()).  Returns the link it
 * stopped at (NULL at the end of the chain) or PT_CHAIN_ERROR.
 */
static pt_chain_t *
pt_chain_to_iovec(pt_iovec_t *vec, pt_chain_t *in, size_t limit,
    pt_uint_t use_sendfile, pt_log_t *log)
{
    size_t         total, size;
    u_char        *prev;
    struct iovec  *iov;

    iov = NULL;
    prev = NULL;
    total = 0;
    vec->count = 0;

    for ( /* void */ ; in && total < limit; in = in->next) {

        if (pt_buf_special(in->buf)) {
            continue;
        }

        if (in->buf->in_file && (use_sendfile || !pt_buf_in_memory(in->buf))) {
            if (use_sendfile) {
                break;
            }

            pt_log_error(PT_LOG_ALERT, log, 0,
                         "file buf in a chain sent without sendfile");
            return PT_CHAIN_ERROR;
        }

        if (!pt_buf_in_memory(in->buf)) {
            pt_log_error(PT_LOG_ALERT, log, 0, "bad buf in output chain");
            return PT_CHAIN_ERROR;
        }

        size = in->buf->last - in->buf->pos;

        if (size == 0) {
            continue;
        }

        if (size > limit - total) {
            size = limit - total;
        }

        if (prev == in->buf->pos) {
            iov->iov_len += size;

        } else {
            if (vec->count == PT_IOVS) {
                break;
            }

            iov = &vec->iovs[vec->count++];

            iov->iov_base = (void *) in->buf->pos;
            iov->iov_len = size;
        }

        prev = in->buf->pos + size;
        total += size;
    }

    vec->size = total;

    return in;
}


/*
 * Sums the file buffers at *in that continue each other in the same file
 * (one sendfile() covers them), up to limit; moves *in past them.
 */
static off_t
pt_chain_coalesce_file(pt_chain_t **in, off_t limit)
{
    off_t        total, size;
    pt_fd_t      fd;
    pt_chain_t  *cl;
    off_t        last;

    cl = *in;
    fd = cl->buf->file->fd;
    total = 0;
    last = cl->buf->file_pos;

    do {
        size = cl->buf->file_last - cl->buf->file_pos;

        if (size > limit - total) {
            size = limit - total;
        }

        total += size;
        last = cl->buf->file_pos + size;

        cl = cl->next;

    } while (cl
             && total < limit
             && cl->buf->in_file
             && !pt_buf_special(cl->buf)
             && cl->buf->file->fd == fd
             && cl->buf->file_pos == last);

    *in = cl;

    return total;
}


static ssize_t
pt_os_sendmsg(pt_connection_t *c, pt_iovec_t *vec, int flags)
{
    ssize_t        n;
    pt_err_t       err;
    struct msghdr  msg;

    pt_memzero(&msg, sizeof(struct msghdr));
    msg.msg_iov = vec->iovs;
    msg.msg_iovlen = vec->count;

    for ( ;; ) {
        n = sendmsg(c->fd, &msg, flags | MSG_NOSIGNAL);

        if (n >= 0) {
            return n;
        }

        err = pt_socket_errno;

        if (err == EINTR) {
            continue;
        }

        if (err == EAGAIN) {
            return PT_AGAIN;
        }

        (void) pt_connection_error(c, err, "sendmsg() failed");

        return PT_ERROR;
    }
}


static ssize_t
pt_os_sendfile(pt_connection_t *c, pt_buf_t *file, size_t size)
{
    off_t     offset;
    ssize_t   n;
    pt_err_t  err;

    if (size == 0) {
        return 0;
    }

    for ( ;; ) {
        offset = file->file_pos;

        n = sendfile(c->fd, file->file->fd, &offset, size);

        if (n > 0) {
            return n;
        }

        if (n == 0) {
            /* the file is shorter than the response said */
            pt_log_error(PT_LOG_ALERT, c->log, 0,
                         "sendfile() reported that \"" PT_STR_FMT
                         "\" was truncated at %lld",
                         PT_STR_ARG(file->file->name),
                         (long long) file->file_pos);
            return PT_ERROR;
        }

        err = pt_errno;

        if (err == EINTR) {
            continue;
        }

        if (err == EAGAIN) {
            return PT_AGAIN;
        }

        (void) pt_connection_error(c, err, "sendfile() failed");

        return PT_ERROR;
    }
}


/*
 * Advances the buffers of in past sent bytes and returns the first link
 * that still holds data, skipping special and empty buffers (so a chain
 * whose data all went out yields NULL).
 */
static pt_chain_t *
pt_os_update_sent(pt_chain_t *in, off_t sent)
{
    off_t  size;

    for ( /* void */ ; in; in = in->next) {

        if (pt_buf_special(in->buf)) {
            continue;
        }

        size = pt_buf_size(in->buf);

        if (size == 0) {
            continue;
        }

        if (sent == 0) {
            break;
        }

        if (sent >= size) {
            sent -= size;

            if (pt_buf_in_memory(in->buf)) {
                in->buf->pos = in->buf->last;
            }

            if (in->buf->in_file) {
                in->buf->file_pos = in->buf->file_last;
            }

            continue;
        }

        if (pt_buf_in_memory(in->buf)) {
            in->buf->pos += (size_t) sent;
        }

        if (in->buf->in_file) {
            in->buf->file_pos += sent;
        }

        break;
    }

    return in;
}
