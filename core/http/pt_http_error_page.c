/*
 * pt_http_error_page.c: "error_page CODE ... [=[RESPONSE]] URI|@NAME|URL".
 *
 * When a request ends with an error status that an error_page of its
 * location lists, the page replaces the built-in one:
 *
 *   a uri ("/50x.html")   an internal redirect (the method becomes GET,
 *                         except HEAD); the response keeps the error status
 *   "@name"               the named location runs instead
 *   anything else         a redirect: Location is the URL, the status 302
 *                         unless "=301", "=303", "=307" or "=308" says
 *
 * "=CODE" answers with CODE instead of the error status; a bare "=" lets
 * the page's own status stand.  A request gets one error page unless
 * recursive_error_pages is on, and at most PT_HTTP_MAX_URI_CHANGES in any
 * case.
 */

#include "pt_http.h"

static pt_str_t  pt_http_error_page_get = pt_string("GET");

/* "=CODE" or "=" before the page: the overwrite; -1 when absent. */
static pt_int_t
pt_http_error_page_overwrite(pt_conf_t *cf, pt_str_t *v, pt_int_t *overwrite)
{
    if (v->len == 0 || v->data[0] != '=') {
        *overwrite = -1;
        return PT_OK;
    }

    if (v->len == 1) {
        *overwrite = 0;
        return PT_OK;
    }

    *overwrite = pt_atoi(v->data + 1, v->len - 1);

    if (*overwrite == PT_ERROR || *overwrite < 100 || *overwrite > 999) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*v));
        return PT_ERROR;
    }

    return PT_OK;
}

/* One status of the list: 300..599 (499 is the logging-only code). */
static pt_int_t
pt_http_error_page_status(pt_conf_t *cf, pt_str_t *v)
{
    pt_int_t  status;

    status = pt_atoi(v->data, v->len);

    if (status == PT_ERROR || status == PT_HTTP_CLIENT_CLOSED_REQUEST) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*v));
        return PT_ERROR;
    }

    if (status < 300 || status > 599) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "value \"" PT_STR_FMT "\" must be between 300 and 599",
                          PT_STR_ARG(*v));
        return PT_ERROR;
    }

    return status;
}

char *
pt_http_core_error_page(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_core_loc_conf_t  *clcf = conf;

    u_char                           *q;
    pt_int_t                          overwrite, status;
    pt_str_t                         *value, uri, args;
    pt_uint_t                         i, n;
    pt_http_err_page_t               *err;
    pt_http_complex_value_t           cv;
    pt_http_compile_complex_value_t   ccv;

    if (clcf->error_pages == NULL) {
        clcf->error_pages = pt_array_create(cf->pool, 4, sizeof(pt_http_err_page_t));
        if (clcf->error_pages == NULL) {
            return PT_CONF_ERROR;
        }
    }

    value = cf->args->elts;
    n = cf->args->nelts;

    if (pt_http_error_page_overwrite(cf, &value[n - 2], &overwrite) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (overwrite != -1 && n == 3) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[1]));
        return PT_CONF_ERROR;
    }

    uri = value[n - 1];

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &uri;
    ccv.complex_value = &cv;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    /* a literal uri is split from its arguments once, here */
    pt_str_null(&args);

    if (cv.parts == NULL && uri.len && uri.data[0] == '/') {
        q = pt_strlchr(uri.data, uri.data + uri.len, '?');
        if (q) {
            cv.value.len = q - uri.data;
            args.data = q + 1;
            args.len = uri.data + uri.len - args.data;
        }
    }

    for (i = 1; i < n - 1 - (overwrite != -1); i++) {

        status = pt_http_error_page_status(cf, &value[i]);
        if (status == PT_ERROR) {
            return PT_CONF_ERROR;
        }

        err = pt_array_push(clcf->error_pages);
        if (err == NULL) {
            return PT_CONF_ERROR;
        }

        err->status = status;
        err->overwrite = overwrite;
        err->value = cv;
        err->args = args;

        /* nginx's own 4xx codes are answered as 400 unless "=" says */
        if (overwrite == -1 && status >= PT_HTTP_REQUEST_HEADER_TOO_LARGE
            && status <= 497)
        {
            err->overwrite = PT_HTTP_BAD_REQUEST;
        }
    }

    return PT_CONF_OK;
}

/* The redirect form: Location is the URL and the status a redirect one. */
static pt_int_t
pt_http_error_page_redirect(pt_http_request_t *r, pt_http_err_page_t *err,
    pt_str_t *url)
{
    pt_http_header_t  *h;

    r->expect_tested = 1;

    if (pt_http_discard_request_body(r) != PT_OK) {
        r->keepalive = 0;
    }

    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
    }

    h = pt_http_add_response_header(r, "Location", sizeof("Location") - 1,
                                    url->data, url->len);
    if (h == NULL) {
        return PT_ERROR;
    }

    r->headers_out.location = h;

    switch (err->overwrite) {
    case PT_HTTP_MOVED_PERMANENTLY:
    case PT_HTTP_MOVED_TEMPORARILY:
    case PT_HTTP_SEE_OTHER:
    case PT_HTTP_TEMPORARY_REDIRECT:
    case PT_HTTP_PERMANENT_REDIRECT:
        r->err_status = err->overwrite;
        break;
    default:
        r->err_status = PT_HTTP_MOVED_TEMPORARILY;
    }

    return r->err_status;
}

static pt_int_t
pt_http_send_error_page(pt_http_request_t *r, pt_http_err_page_t *err)
{
    u_char    *q;
    pt_str_t   uri, args;

    if (err->overwrite > 0 && err->overwrite != PT_HTTP_OK) {
        r->expect_tested = 1;
    }

    if (err->overwrite >= 0) {
        r->err_status = err->overwrite;
    }

    if (pt_http_complex_value(r, &err->value, &uri) != PT_OK) {
        return PT_ERROR;
    }

    if (uri.len && uri.data[0] == '/') {
        args = err->args;

        if (err->value.parts) {
            q = pt_strlchr(uri.data, uri.data + uri.len, '?');
            if (q) {
                args.data = q + 1;
                args.len = uri.data + uri.len - args.data;
                uri.len = q - uri.data;
            }
        }

        if (r->method != PT_HTTP_HEAD) {
            r->method = PT_HTTP_GET;
            r->method_name = pt_http_error_page_get;
        }

        return pt_http_internal_redirect(r, &uri, &args);
    }

    if (uri.len && uri.data[0] == '@') {
        return pt_http_named_location(r, &uri);
    }

    return pt_http_error_page_redirect(r, err, &uri);
}

pt_int_t
pt_http_error_page(pt_http_request_t *r, pt_uint_t error)
{
    pt_uint_t                 i;
    pt_http_err_page_t       *err;
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return PT_DECLINED;
    }

    if (!clcf->recursive_error_pages) {
        r->error_page = 1;
    }

    err = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if ((pt_uint_t) err[i].status == error) {
            return pt_http_send_error_page(r, &err[i]);
        }
    }

    return PT_DECLINED;
}
