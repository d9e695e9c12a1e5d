/*
 * pt_http_write_filter_module.c: the last body filter.  It appends the
 * incoming chain to r->out and sends it with c->send_chain, but holds back
 * small output (under postpone_output bytes) until a buffer asks to flush
 * or ends the response: a short response, header included, leaves in one
 * writev.  What the socket does not take stays in r->out, and the
 * connection is marked buffered until the write event lets it go on.
 */

#include "pt_http.h"

static pt_int_t pt_http_write_filter_init(pt_conf_t *cf);

static pt_http_module_t  pt_http_write_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_write_filter_init,             /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_write_filter_module = {
    PT_MODULE_V1,
    &pt_http_write_filter_module_ctx,
    NULL,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/*
 * limit_rate: how many bytes may go now (0: no limit), or -1 after
 * pausing the write event until the average rate since the start of the
 * request is back under the limit.  The first limit_rate_after bytes are
 * not counted.
 */
static off_t
pt_http_write_limit(pt_http_request_t *r, pt_http_core_loc_conf_t *clcf)
{
    off_t             limit;
    pt_msec_t         delay;
    pt_connection_t  *c;

    if (!r->limit_rate_set) {
        r->limit_rate = clcf->limit_rate;
        r->limit_rate_after = clcf->limit_rate_after;
        r->limit_rate_set = 1;
    }

    if (r->limit_rate == 0) {
        return 0;
    }

    c = r->connection;

    limit = (off_t) r->limit_rate * (pt_time() - r->start_sec + 1)
            - (c->sent - (off_t) r->limit_rate_after);

    if (limit > 0) {
        return limit;
    }

    delay = (pt_msec_t) (-limit * 1000 / (off_t) r->limit_rate + 1);

    c->write->delayed = 1;
    pt_event_add_timer(c->write, delay);

    return -1;
}

/* After a send under limit_rate: pause for as long as those bytes take at
 * the rate. */
static void
pt_http_write_delay(pt_http_request_t *r, off_t sent)
{
    off_t             nsent, after;
    pt_msec_t         delay;
    pt_connection_t  *c;

    c = r->connection;
    nsent = c->sent;
    after = (off_t) r->limit_rate_after;

    sent = pt_max(sent - after, 0);
    nsent = pt_max(nsent - after, 0);

    delay = (pt_msec_t) ((nsent - sent) * 1000 / (off_t) r->limit_rate);

    if (delay > 0) {
        c->write->delayed = 1;
        pt_event_add_timer(c->write, delay);
    }
}

pt_int_t
pt_http_write_filter(pt_http_request_t *r, pt_chain_t *in)
{
    off_t                     size, limit, sent;
    pt_uint_t                 last, flush, sync;
    pt_chain_t               *cl, *ln, **ll, *chain;
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;

    if (c->error) {
        return PT_ERROR;
    }

    size = 0;
    flush = 0;
    sync = 0;
    last = 0;
    ll = &r->out;

    for (cl = r->out; cl; cl = cl->next) {
        ll = &cl->next;
        size += pt_buf_size(cl->buf);
        flush |= cl->buf->flush || cl->buf->recycled;
        sync |= cl->buf->sync;
        last |= cl->buf->last_buf;
    }

    for (ln = in; ln; ln = ln->next) {
        cl = pt_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return PT_ERROR;
        }

        cl->buf = ln->buf;
        *ll = cl;
        ll = &cl->next;

        size += pt_buf_size(cl->buf);
        flush |= cl->buf->flush || cl->buf->recycled;
        sync |= cl->buf->sync;
        last |= cl->buf->last_buf;
    }

    *ll = NULL;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (!last && !flush && in && size < (off_t) clcf->postpone_output) {
        return PT_OK;
    }

    if (c->write->delayed) {
        c->buffered |= PT_HTTP_WRITE_BUFFERED;
        return PT_AGAIN;
    }

    if (size == 0 && !(c->buffered & PT_HTTP_LOWLEVEL_BUFFERED)) {
        if (last || flush || sync) {
            for (cl = r->out; cl; /* void */) {
                ln = cl;
                cl = cl->next;
                pt_free_chain(r->pool, ln);
            }

            r->out = NULL;
            c->buffered &= ~PT_HTTP_WRITE_BUFFERED;

            return PT_OK;
        }

        pt_log_error(PT_LOG_ALERT, c->log, 0, "the http output chain is empty");
        return PT_ERROR;
    }

    limit = pt_http_write_limit(r, clcf);

    if (limit < 0) {
        c->buffered |= PT_HTTP_WRITE_BUFFERED;
        return PT_AGAIN;
    }

    /* sendfile_max_chunk: one fast client sends at most that much per
     * turn of the event loop, whatever limit_rate allows */
    if (clcf->sendfile_max_chunk
        && (limit == 0 || limit > (off_t) clcf->sendfile_max_chunk))
    {
        limit = (off_t) clcf->sendfile_max_chunk;
    }

    sent = c->sent;

    chain = c->send_chain(c, r->out, limit);

    if (chain == PT_CHAIN_ERROR) {
        c->error = 1;
        return PT_ERROR;
    }

    if (r->limit_rate) {
        pt_http_write_delay(r, sent);
    }

    for (cl = r->out; cl && cl != chain; /* void */) {
        ln = cl;
        cl = cl->next;
        pt_free_chain(r->pool, ln);
    }

    r->out = chain;

    if (chain && clcf->sendfile_max_chunk && limit == (off_t) clcf->sendfile_max_chunk
        && c->sent - sent >= limit && c->write->ready && !c->write->delayed)
    {
        /* stopped by sendfile_max_chunk while still writable: edge-
         * triggered epoll will not report it again, so resume on the next
         * iteration (only then: a send stopped for another reason must
         * not spin) */
        pt_post_event(c->write, &pt_posted_next_events);
    }

    if (chain) {
        c->buffered |= PT_HTTP_WRITE_BUFFERED;
        return PT_AGAIN;
    }

    c->buffered &= ~PT_HTTP_WRITE_BUFFERED;

    if (c->buffered & PT_HTTP_LOWLEVEL_BUFFERED) {
        return PT_AGAIN;
    }

    return PT_OK;
}

static pt_int_t
pt_http_write_filter_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_WRITE,
                                   NULL, NULL, pt_http_write_filter, NULL);
}
