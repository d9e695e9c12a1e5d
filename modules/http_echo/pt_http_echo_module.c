/*
 * pt_http_echo_module.c: "echo_request_body [stream]", a content handler
 * that answers 200 with the request body it read.
 *
 * It is the smallest real user of the request body API
 * (pt_http_request_body_t in pt_http_request.h), and the tests of bodies,
 * temp files and the chunked response filter run through it:
 *
 *   echo_request_body;         buffered: the whole body is read (memory
 *                              or temp file), then sent back with a
 *                              Content-Length; "X-Body: memory", "file" or
 *                              "empty" tells where it was
 *   echo_request_body stream;  streaming: each piece is sent back as it
 *                              arrives, in chunks for HTTP/1.1; reading
 *                              pauses while the client does not read
 */

#include "pt_http.h"

typedef struct {
    pt_uint_t    stream;
} pt_http_echo_loc_conf_t;

typedef struct {
    unsigned     done:1;        /* the last buffer went to the filters */
} pt_http_echo_ctx_t;

static void *pt_http_echo_create_loc_conf(pt_conf_t *cf);
static char *pt_http_echo(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static pt_int_t pt_http_echo_handler(pt_http_request_t *r);
static void pt_http_echo_buffered(pt_http_request_t *r);
static void pt_http_echo_stream(pt_http_request_t *r);
static void pt_http_echo_stream_send(pt_http_request_t *r);
static void pt_http_echo_stream_writer(pt_http_request_t *r);

static pt_command_t  pt_http_echo_commands[] = {

    { pt_string("echo_request_body"),
      PT_HTTP_LOC_CONF|PT_CONF_NOARGS|PT_CONF_TAKE1,
      pt_http_echo, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_echo_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_echo_create_loc_conf,          /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_echo_module = {
    PT_MODULE_V1,
    &pt_http_echo_module_ctx,
    pt_http_echo_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_int_t
pt_http_echo_handler(pt_http_request_t *r)
{
    pt_int_t                  rc;
    pt_http_echo_loc_conf_t  *elcf;

    elcf = pt_http_get_module_loc_conf(r, pt_http_echo_module);

    if (elcf->stream) {
        r->request_body_no_buffering = 1;
    }

    rc = pt_http_read_client_request_body(r, elcf->stream ? pt_http_echo_stream
                                                          : pt_http_echo_buffered);

    if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return PT_DONE;
}

/* Links to new buffer structs describing the same bytes as in. */
static pt_int_t
pt_http_echo_copy_bufs(pt_http_request_t *r, pt_chain_t *in, pt_chain_t **out)
{
    pt_buf_t    *b;
    pt_chain_t  *cl, **ll;

    ll = out;

    for ( /* void */ ; in; in = in->next) {
        b = pt_calloc_buf(r->pool);
        cl = pt_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return PT_ERROR;
        }

        *b = *in->buf;
        b->shadow = in->buf;
        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    return PT_OK;
}

/* Buffered: the body is all there; send it back. */
static void
pt_http_echo_buffered(pt_http_request_t *r)
{
    pt_int_t                 rc;
    pt_str_t                 where;
    pt_buf_t                *b;
    pt_chain_t               out, *copy;
    pt_http_request_body_t  *rb;

    rb = r->request_body;

    if (rb == NULL || rb->bufs == NULL) {
        pt_str_set(&where, "empty");
    } else if (rb->temp_file) {
        pt_str_set(&where, "file");
    } else {
        pt_str_set(&where, "memory");
    }

    if (pt_http_add_response_header(r, "X-Body", sizeof("X-Body") - 1,
                                    where.data, where.len) == NULL
        || pt_http_set_content_type(r) != PT_OK)
    {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = PT_HTTP_OK;
    r->headers_out.content_length_n = rb ? rb->received : 0;

    rc = pt_http_send_header(r);

    if (rc == PT_ERROR || rc > PT_OK || r->header_only) {
        pt_http_finalize_request(r, rc);
        return;
    }

    if (rb && rb->bufs) {
        /* send copies of the buffers: sending moves their pos, and
         * rb->bufs stays whole for $request_body */
        if (pt_http_echo_copy_bufs(r, rb->bufs, &copy) != PT_OK) {
            pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        pt_http_finalize_request(r, pt_http_output_filter(r, copy));
        return;
    }

    b = pt_calloc_buf(r->pool);
    if (b == NULL) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;
    out.buf = b;
    out.next = NULL;

    pt_http_finalize_request(r, pt_http_output_filter(r, &out));
}

/* Streaming: called at once and then per piece of body. */
static void
pt_http_echo_stream(pt_http_request_t *r)
{
    pt_int_t             rc;
    pt_http_echo_ctx_t  *ctx;

    ctx = pt_http_get_module_ctx(r, pt_http_echo_module);

    if (ctx == NULL) {
        ctx = pt_pcalloc(r->pool, sizeof(pt_http_echo_ctx_t));
        if (ctx == NULL) {
            pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        pt_http_set_ctx(r, ctx, pt_http_echo_module);

        if (pt_http_set_content_type(r) != PT_OK) {
            pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        r->headers_out.status = PT_HTTP_OK;
        r->headers_out.content_length_n = -1;

        rc = pt_http_send_header(r);

        if (rc == PT_ERROR || rc > PT_OK || r->header_only) {
            pt_http_finalize_request(r, rc);
            return;
        }
    }

    if (ctx->done) {
        return;
    }

    pt_http_echo_stream_send(r);
}

/* Passes what the reader handed out, then reads on while the output
 * drains; waits for the write event when the client does not read. */
static void
pt_http_echo_stream_send(pt_http_request_t *r)
{
    pt_int_t                  rc;
    pt_chain_t               *out, *cl;
    pt_connection_t          *c;
    pt_http_echo_ctx_t       *ctx;
    pt_http_request_body_t   *rb;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    rb = r->request_body;
    ctx = pt_http_get_module_ctx(r, pt_http_echo_module);

    for ( ;; ) {
        out = rb->bufs;
        rb->bufs = NULL;

        for (cl = out; cl; cl = cl->next) {
            if (cl->buf->last_buf) {
                ctx->done = 1;
            }
            if (cl->next == NULL) {
                cl->buf->flush = 1;
            }
        }

        if (out == NULL && !c->buffered) {
            rc = PT_OK;

        } else {
            rc = pt_http_output_filter(r, out);
        }

        if (rc == PT_ERROR) {
            pt_http_finalize_request(r, PT_ERROR);
            return;
        }

        if (ctx->done) {
            pt_http_finalize_request(r, rc);
            return;
        }

        if (c->buffered) {
            clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

            r->write_event_handler = pt_http_echo_stream_writer;

            if (!c->write->timer_set) {
                pt_event_add_timer(c->write, clcf->send_timeout);
            }

            if (pt_handle_write_event(c->write, 0) != PT_OK) {
                pt_http_finalize_request(r, PT_ERROR);
            }

            return;
        }

        rc = pt_http_read_unbuffered_request_body(r);

        if (rc >= PT_HTTP_SPECIAL_RESPONSE) {
            pt_http_finalize_request(r, rc);
            return;
        }

        if (rb->bufs == NULL) {
            /* wait for the client: the reader calls us again */
            return;
        }
    }
}

static void
pt_http_echo_stream_writer(pt_http_request_t *r)
{
    pt_connection_t  *c;

    c = r->connection;

    if (c->write->timedout) {
        pt_log_error(PT_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        pt_http_finalize_request(r, PT_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (c->write->timer_set) {
        pt_event_del_timer(c->write);
    }

    r->write_event_handler = pt_http_request_empty_handler;

    pt_http_echo_stream_send(r);
}

static void *
pt_http_echo_create_loc_conf(pt_conf_t *cf)
{
    return pt_pcalloc(cf->pool, sizeof(pt_http_echo_loc_conf_t));
}

static char *
pt_http_echo(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_echo_loc_conf_t *elcf = conf;

    pt_str_t                 *value;
    pt_http_core_loc_conf_t  *clcf;

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (!pt_str_eq_lit(&value[1], "stream")) {
            return "takes only \"stream\"";
        }
        elcf->stream = 1;
    }

    clcf = pt_http_conf_get_module_loc_conf(cf, pt_http_core_module);
    clcf->handler = pt_http_echo_handler;

    return PT_CONF_OK;
}
