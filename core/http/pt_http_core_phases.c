/*
 * pt_http_core_phases.c: the phase walk of a request and the helpers every
 * content handler uses to answer.
 *
 * pt_http_handler() starts the walk; each phase has a checker that runs its
 * handlers and decides whether to go on, jump (find_config after a rewrite)
 * or stop.  pt_http_send_header(), pt_http_output_filter() and
 * pt_http_send_response() hand a response to the filter chain.
 */

#include "pt_http.h"

static pt_int_t pt_http_core_auto_redirect(pt_http_request_t *r);

/* ---- the phase walk ---- */

void
pt_http_handler(pt_http_request_t *r)
{
    pt_http_core_main_conf_t  *cmcf;

    if (!r->internal) {
        switch (r->headers_in.connection_type) {
        case 0:
            r->keepalive = (r->http_version > PT_HTTP_VERSION_10);
            break;
        case PT_HTTP_CONNECTION_CLOSE:
            r->keepalive = 0;
            break;
        case PT_HTTP_CONNECTION_KEEP_ALIVE:
            r->keepalive = 1;
            break;
        }

        /* A body the handler may leave unread makes a clean close need a
         * lingering read. */
        r->lingering_close = (r->headers_in.content_length_n > 0
                              || r->headers_in.chunked);
        r->phase_handler = 0;

    } else {
        cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
        r->phase_handler = cmcf->phase_engine.server_rewrite_index;
    }

    r->valid_location = 1;
    r->write_event_handler = pt_http_core_run_phases;

    pt_http_core_run_phases(r);
}

void
pt_http_core_run_phases(pt_http_request_t *r)
{
    pt_int_t                   rc;
    pt_http_phase_handler_t   *ph;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
    ph = cmcf->phase_engine.handlers;

    while (ph[r->phase_handler].checker) {
        rc = ph[r->phase_handler].checker(r, &ph[r->phase_handler]);
        if (rc == PT_OK) {
            return;
        }
    }
}

/* POST_READ, PREACCESS, PRECONTENT: OK ends the phase, DECLINED tries the
 * next handler, AGAIN/DONE park the request, anything else finalizes. */
pt_int_t
pt_http_core_generic_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    pt_int_t  rc;

    rc = ph->handler(r);

    if (rc == PT_OK) {
        r->phase_handler = ph->next;
        return PT_AGAIN;
    }

    if (rc == PT_DECLINED) {
        r->phase_handler++;
        return PT_AGAIN;
    }

    if (rc == PT_AGAIN || rc == PT_DONE) {
        return PT_OK;
    }

    pt_http_finalize_request(r, rc);

    return PT_OK;
}

/* SERVER_REWRITE, REWRITE: DECLINED goes on; anything else is the answer. */
pt_int_t
pt_http_core_rewrite_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    pt_int_t  rc;

    rc = ph->handler(r);

    if (rc == PT_DECLINED) {
        r->phase_handler++;
        return PT_AGAIN;
    }

    if (rc == PT_DONE) {
        return PT_OK;
    }

    pt_http_finalize_request(r, rc);

    return PT_OK;
}

pt_int_t
pt_http_core_find_config_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    pt_int_t                  rc;
    pt_http_core_loc_conf_t  *clcf;

    r->content_handler = NULL;
    r->uri_changed = 0;

    rc = pt_http_core_find_location(r);

    if (rc == PT_ERROR) {
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (!r->internal && clcf->internal) {
        /* reachable by internal redirects and rewrites only */
        pt_http_finalize_request(r, PT_HTTP_NOT_FOUND);
        return PT_OK;
    }

    pt_http_update_location_config(r);

    if (clcf->client_max_body_size
        && r->headers_in.content_length_n > clcf->client_max_body_size)
    {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "client intended to send too large body: %" PRId64 " bytes",
                     (int64_t) r->headers_in.content_length_n);

        r->expect_tested = 1;
        (void) pt_http_discard_request_body(r);
        pt_http_finalize_request(r, PT_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return PT_OK;
    }

    if (rc == PT_DONE) {
        pt_http_finalize_request(r, pt_http_core_auto_redirect(r));
        return PT_OK;
    }

    r->phase_handler++;

    return PT_AGAIN;
}

/* "/x" of a "location /x/" that redirects (auto_redirect): 301 to "/x/",
 * with the arguments. */
static pt_int_t
pt_http_core_auto_redirect(pt_http_request_t *r)
{
    u_char            *p;
    size_t             len;
    pt_http_header_t  *h;

    len = r->uri.len + 1 + (r->args.len ? 1 + r->args.len : 0);

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = pt_http_add_response_header(r, "Location", sizeof("Location") - 1, p, len);
    if (h == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = pt_cpymem(p, r->uri.data, r->uri.len);
    *p++ = '/';

    if (r->args.len) {
        *p++ = '?';
        pt_memcpy(p, r->args.data, r->args.len);
    }

    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
    }

    r->headers_out.location = h;

    return PT_HTTP_MOVED_PERMANENTLY;
}

pt_int_t
pt_http_core_post_rewrite_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    pt_http_core_srv_conf_t  *cscf;

    if (!r->uri_changed) {
        r->phase_handler++;
        return PT_AGAIN;
    }

    /* The uri was rewritten: choose the location again, a bounded number of
     * times. */
    r->uri_changes--;

    if (r->uri_changes == 0) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle while processing \""
                     PT_STR_FMT "\"", PT_STR_ARG(r->uri));
        pt_http_finalize_request(r, PT_HTTP_INTERNAL_SERVER_ERROR);
        return PT_OK;
    }

    /* the search starts again from the server level */
    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
    r->loc_conf = cscf->ctx->loc_conf;

    r->phase_handler = ph->next;

    return PT_AGAIN;
}

/*
 * ACCESS.  "satisfy all": every handler must allow (PT_OK) or decline, the
 * first refusal is the answer.  "satisfy any": the first PT_OK ends the
 * phase (an earlier refusal and its WWW-Authenticate forgotten); a 403 or
 * 401 is remembered in r->access_code (a 401 kept over a 403) for
 * POST_ACCESS to send when no handler allowed.  Subrequests skip it.
 */
pt_int_t
pt_http_core_access_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    pt_int_t                  rc;
    pt_http_header_t         *h;
    pt_http_core_loc_conf_t  *clcf;

    if (r != r->main) {
        r->phase_handler = ph->next;
        return PT_AGAIN;
    }

    rc = ph->handler(r);

    if (rc == PT_DECLINED) {
        r->phase_handler++;
        return PT_AGAIN;
    }

    if (rc == PT_AGAIN || rc == PT_DONE) {
        return PT_OK;
    }

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (clcf->satisfy == PT_HTTP_SATISFY_ALL) {
        if (rc == PT_OK) {
            r->phase_handler++;
            return PT_AGAIN;
        }

    } else if (rc == PT_OK) {
        r->access_code = 0;

        for (h = r->headers_out.www_authenticate; h; h = h->next) {
            h->hash = 0;
        }

        r->phase_handler = ph->next;
        return PT_AGAIN;

    } else if (rc == PT_HTTP_FORBIDDEN || rc == PT_HTTP_UNAUTHORIZED) {
        if (r->access_code != PT_HTTP_UNAUTHORIZED) {
            r->access_code = rc;
        }

        r->phase_handler++;
        return PT_AGAIN;
    }

    pt_http_finalize_request(r, rc);

    return PT_OK;
}

pt_int_t
pt_http_core_post_access_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    pt_int_t  access_code;

    access_code = r->access_code;

    if (access_code) {
        r->access_code = 0;

        if (access_code == PT_HTTP_FORBIDDEN) {
            pt_log_error(PT_LOG_ERR, r->connection->log, 0, "access forbidden by rule");
        }

        pt_http_finalize_request(r, access_code);
        return PT_OK;
    }

    r->phase_handler++;

    return PT_AGAIN;
}

/* CONTENT: the location's handler if it has one, else the content handlers
 * in order until one accepts; the last entry has no handler and answers
 * for a request nobody took. */
pt_int_t
pt_http_core_content_phase(pt_http_request_t *r, pt_http_phase_handler_t *ph)
{
    size_t    root;
    pt_int_t  rc;
    pt_str_t  path;

    if (r->content_handler) {
        r->write_event_handler = pt_http_request_empty_handler;
        pt_http_finalize_request(r, r->content_handler(r));
        return PT_OK;
    }

    if (ph->handler) {
        rc = ph->handler(r);

        if (rc != PT_DECLINED) {
            pt_http_finalize_request(r, rc);
            return PT_OK;
        }

        r->phase_handler++;
        return PT_AGAIN;
    }

    /* No handler took the request; answer as nginx's static module does for
     * a file that is not there. */

    if (!(r->method & (PT_HTTP_GET|PT_HTTP_HEAD|PT_HTTP_POST))) {
        pt_http_finalize_request(r, PT_HTTP_NOT_ALLOWED);
        return PT_OK;
    }

    if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
        /* a directory whose index file is missing (nginx's answer) */
        if (pt_http_map_uri_to_path(r, &path, &root, 0) != NULL) {
            pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                         "directory index of \"%s\" is forbidden", path.data);
        }

        pt_http_finalize_request(r, PT_HTTP_FORBIDDEN);
        return PT_OK;
    }

    pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                 "no handler for \"" PT_STR_FMT "\"", PT_STR_ARG(r->uri));

    pt_http_finalize_request(r, PT_HTTP_NOT_FOUND);

    return PT_OK;
}

void
pt_http_set_connection_log(pt_connection_t *c, pt_log_t *error_log)
{
    if (error_log == NULL || error_log->file == NULL) {
        return;
    }

    c->log->file = error_log->file;
    c->log->next = error_log->next;
    c->log->log_level = error_log->log_level;
}

void
pt_http_update_location_config(pt_http_request_t *r)
{
    pt_connection_t          *c;
    pt_http_core_loc_conf_t  *clcf;

    c = r->connection;
    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    /* a method limit_except does not list gets the block's conf */
    if (r->method & clcf->limit_except) {
        r->loc_conf = clcf->limit_except_loc_conf;
        clcf = r->loc_conf[pt_http_core_module.ctx_index];
    }

    if (r == r->main || r->main == NULL) {
        pt_http_set_connection_log(c, clcf->error_log);
    }

    /* the User-Agent is scanned only when keepalive_disable can use it */
    if (r->keepalive && r->headers_in.user_agent
        && ((clcf->keepalive_disable & PT_HTTP_KEEPALIVE_DISABLE_SAFARI)
            || ((clcf->keepalive_disable & PT_HTTP_KEEPALIVE_DISABLE_MSIE6)
                && r->method == PT_HTTP_POST)))
    {
        pt_http_detect_browser(r);
    }

    if (r->keepalive) {
        if (clcf->keepalive_timeout == 0) {
            r->keepalive = 0;

        } else if (c->requests >= clcf->keepalive_requests) {
            r->keepalive = 0;

        } else if (pt_current_msec - c->start_time > clcf->keepalive_time) {
            r->keepalive = 0;

        } else if (r->headers_in.msie6 && r->method == PT_HTTP_POST
                   && (clcf->keepalive_disable & PT_HTTP_KEEPALIVE_DISABLE_MSIE6))
        {
            /* MSIE 6 and older may not finish a POST on a reused connection */
            r->keepalive = 0;

        } else if (r->headers_in.safari
                   && (clcf->keepalive_disable & PT_HTTP_KEEPALIVE_DISABLE_SAFARI))
        {
            r->keepalive = 0;
        }
    }

    if (clcf->tcp_nopush && clcf->sendfile && c->ssl == NULL) {
        pt_http_tcp_nopush(c);
    }

    if (clcf->handler) {
        r->content_handler = clcf->handler;
    }
}

/* ---- responses ---- */

pt_int_t
pt_http_send_header(pt_http_request_t *r)
{
    if (r->header_sent) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0, "header already sent");
        return PT_ERROR;
    }

    if (r->err_status) {
        r->headers_out.status = r->err_status;
        r->headers_out.status_line.len = 0;
    }

    return pt_http_top_header_filter(r);
}

pt_int_t
pt_http_output_filter(pt_http_request_t *r, pt_chain_t *in)
{
    pt_int_t  rc;

    rc = pt_http_top_body_filter(r, in);

    if (rc == PT_ERROR) {
        r->connection->error = 1;
    }

    return rc;
}

pt_int_t
pt_http_set_content_type(pt_http_request_t *r)
{
    return pt_http_file_content_type(r);
}

pt_http_header_t *
pt_http_add_response_header(pt_http_request_t *r, const char *key,
    size_t key_len, u_char *value, size_t value_len)
{
    pt_http_header_t  *h;

    h = pt_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.len = key_len;
    h->key.data = (u_char *) key;
    h->value.len = value_len;
    h->value.data = value;
    h->lowcase_key = NULL;
    h->next = NULL;

    return h;
}

pt_int_t
pt_http_send_response(pt_http_request_t *r, pt_uint_t status, pt_str_t *ct,
    pt_http_complex_value_t *cv)
{
    pt_int_t           rc;
    pt_str_t           val;
    pt_buf_t          *b;
    pt_chain_t         out;
    pt_http_header_t  *h;

    rc = pt_http_discard_request_body(r);
    if (rc != PT_OK) {
        return rc;
    }

    r->headers_out.status = status;

    if (cv == NULL) {
        val.len = 0;
        val.data = NULL;

    } else if (pt_http_complex_value(r, cv, &val) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status >= PT_HTTP_MOVED_PERMANENTLY && status <= PT_HTTP_PERMANENT_REDIRECT
        && status != PT_HTTP_NOT_MODIFIED)
    {
        /* The text is the target; the body is the built-in page. */
        if (val.len == 0) {
            return status;
        }

        h = pt_http_add_response_header(r, "Location", sizeof("Location") - 1,
                                        val.data, val.len);
        if (h == NULL) {
            return PT_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.location = h;
        return status;
    }

    if (ct) {
        r->headers_out.content_type_len = ct->len;
        r->headers_out.content_type = *ct;

    } else if (pt_http_set_content_type(r) != PT_OK) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.content_length_n = val.len;

    b = pt_calloc_buf(r->pool);
    if (b == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (val.len) {
        b->pos = val.data;
        b->last = val.data + val.len;
        b->memory = 1;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = pt_http_send_header(r);

    if (rc == PT_ERROR || rc > PT_OK || r->header_only) {
        return rc;
    }

    return pt_http_output_filter(r, &out);
}

in_port_t
pt_http_server_port(pt_http_request_t *r)
{
    pt_connection_t  *c;

    c = r->connection;

    if (pt_connection_local_sockaddr(c, NULL, 0) != PT_OK) {
        return 0;
    }

    if (c->local_sockaddr->sa_family == AF_UNIX) {
        return 0;
    }

    return pt_inet_get_port(c->local_sockaddr);
}


pt_int_t
pt_http_add_phase_handler(pt_conf_t *cf, pt_uint_t phase, pt_http_handler_pt handler)
{
    pt_http_handler_pt        *h;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    h = pt_array_push(&cmcf->phases[phase].handlers);
    if (h == NULL) {
        return PT_ERROR;
    }

    *h = handler;

    return PT_OK;
}
