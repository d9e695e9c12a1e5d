/*
 * pt_http_variables.c: the variable system and the built-in variables.
 *
 * Three tables live in the core main conf:
 *   variables_keys    every defined variable (name -> getter), config time
 *   prefix_variables  families: $http_, $sent_http_, $cookie_, $arg_
 *   variables         the ones the config uses, by index; bound to a
 *                     definition or a prefix family at the end of http {}
 *
 * A getter fills a pt_http_variable_value_t.  Values point into the request
 * (buffer, pool, conf) whenever possible, so most getters allocate nothing.
 */

#include "pt_http.h"

#include <sys/random.h>

static pt_int_t pt_http_variable_request(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static void pt_http_variable_request_set(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_header(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_cookies(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_headers_joined(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_unknown_header_in(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_unknown_header_out(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_cookie(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_argument(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_host(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_remote_addr(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_binary_remote_addr(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_remote_port(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_server_addr(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_server_port(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_scheme(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_https(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_is_args(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_server_name(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_remote_user(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_number(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_status(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_request_time(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_time(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_hostname(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_content_length(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_content_type(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_content_length(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_location(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_connection(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_version(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_last_modified(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_transfer_encoding(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_sent_keep_alive(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_request_id(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static pt_int_t pt_http_variable_limit_rate(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);
static void pt_http_variable_set_limit_rate(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);

/* pt_http_variable_number: which number */
#define PT_HTTP_VAR_NUM_CONNECTION        1
#define PT_HTTP_VAR_NUM_REQUESTS          2
#define PT_HTTP_VAR_NUM_PID               3
#define PT_HTTP_VAR_NUM_BYTES_SENT        4
#define PT_HTTP_VAR_NUM_BODY_BYTES_SENT   5
#define PT_HTTP_VAR_NUM_REQUEST_LENGTH    6

/* pt_http_variable_time: which format */
#define PT_HTTP_VAR_TIME_LOCAL    1
#define PT_HTTP_VAR_TIME_ISO8601  2
#define PT_HTTP_VAR_TIME_MSEC     3

#define pt_http_var_req(field)  offsetof(pt_http_request_t, field)
#define pt_http_var_hin(field)                                              \
    (offsetof(pt_http_request_t, headers_in) + offsetof(pt_http_headers_in_t, field))

#define PT_VAR(name, get, data, flags)                                      \
    { pt_string(name), NULL, get, (uintptr_t) (data), flags, 0 }

static pt_http_variable_t  pt_http_core_variables[] = {

    PT_VAR("http_host", pt_http_variable_header, pt_http_var_hin(host), 0),
    PT_VAR("http_user_agent", pt_http_variable_header, pt_http_var_hin(user_agent), 0),
    PT_VAR("http_referer", pt_http_variable_header, pt_http_var_hin(referer), 0),
    PT_VAR("http_via", pt_http_variable_headers_joined, pt_http_var_hin(via), 0),
    PT_VAR("http_x_forwarded_for", pt_http_variable_headers_joined,
           pt_http_var_hin(x_forwarded_for), 0),
    PT_VAR("http_cookie", pt_http_variable_cookies, pt_http_var_hin(cookie), 0),

    PT_VAR("content_length", pt_http_variable_content_length, 0, 0),
    PT_VAR("content_type", pt_http_variable_header, pt_http_var_hin(content_type), 0),

    PT_VAR("host", pt_http_variable_host, 0, 0),
    PT_VAR("binary_remote_addr", pt_http_variable_binary_remote_addr, 0, 0),
    PT_VAR("remote_addr", pt_http_variable_remote_addr, 0, 0),
    PT_VAR("remote_port", pt_http_variable_remote_port, 0, 0),
    PT_VAR("server_addr", pt_http_variable_server_addr, 0, 0),
    PT_VAR("server_port", pt_http_variable_server_port, 0, 0),
    PT_VAR("server_protocol", pt_http_variable_request, pt_http_var_req(http_protocol), 0),
    PT_VAR("scheme", pt_http_variable_scheme, 0, 0),
    PT_VAR("https", pt_http_variable_https, 0, 0),

    PT_VAR("request_uri", pt_http_variable_request, pt_http_var_req(unparsed_uri), 0),
    PT_VAR("uri", pt_http_variable_request, pt_http_var_req(uri), PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("document_uri", pt_http_variable_request, pt_http_var_req(uri),
           PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("request", pt_http_variable_request, pt_http_var_req(request_line), 0),
    PT_VAR("query_string", pt_http_variable_request, pt_http_var_req(args),
           PT_HTTP_VAR_NOCACHEABLE),
    /* "set $args ..." replaces the request's arguments */
    { pt_string("args"), pt_http_variable_request_set, pt_http_variable_request,
      pt_http_var_req(args), PT_HTTP_VAR_CHANGEABLE|PT_HTTP_VAR_NOCACHEABLE, 0 },
    PT_VAR("is_args", pt_http_variable_is_args, 0, PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("request_method", pt_http_variable_request, pt_http_var_req(method_name), 0),
    PT_VAR("remote_user", pt_http_variable_remote_user, 0, 0),

    PT_VAR("bytes_sent", pt_http_variable_number, PT_HTTP_VAR_NUM_BYTES_SENT,
           PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("body_bytes_sent", pt_http_variable_number, PT_HTTP_VAR_NUM_BODY_BYTES_SENT,
           PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("request_length", pt_http_variable_number, PT_HTTP_VAR_NUM_REQUEST_LENGTH,
           PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("request_time", pt_http_variable_request_time, 0, PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("status", pt_http_variable_status, 0, PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("request_body", pt_http_variable_request_body, 0, PT_HTTP_VAR_NOCACHEABLE),

    PT_VAR("sent_http_content_type", pt_http_variable_sent_content_type, 0, 0),
    PT_VAR("sent_http_content_length", pt_http_variable_sent_content_length, 0, 0),
    PT_VAR("sent_http_location", pt_http_variable_sent_location, 0, 0),
    PT_VAR("sent_http_connection", pt_http_variable_sent_connection, 0, 0),
    PT_VAR("sent_http_last_modified", pt_http_variable_sent_last_modified, 0, 0),
    PT_VAR("sent_http_transfer_encoding", pt_http_variable_sent_transfer_encoding,
           0, 0),
    PT_VAR("sent_http_keep_alive", pt_http_variable_sent_keep_alive, 0, 0),
    PT_VAR("request_id", pt_http_variable_request_id, 0, 0),
    { pt_string("limit_rate"), pt_http_variable_set_limit_rate,
      pt_http_variable_limit_rate, 0,
      PT_HTTP_VAR_CHANGEABLE|PT_HTTP_VAR_NOCACHEABLE, 0 },

    PT_VAR("connection", pt_http_variable_number, PT_HTTP_VAR_NUM_CONNECTION, 0),
    PT_VAR("connection_requests", pt_http_variable_number, PT_HTTP_VAR_NUM_REQUESTS, 0),
    PT_VAR("server_name", pt_http_variable_server_name, 0, 0),
    PT_VAR("pid", pt_http_variable_number, PT_HTTP_VAR_NUM_PID, 0),
    PT_VAR("hostname", pt_http_variable_hostname, 0, 0),
    PT_VAR("portico_version", pt_http_variable_version, 0, 0),
    PT_VAR("nginx_version", pt_http_variable_version, 0, 0),

    PT_VAR("msec", pt_http_variable_time, PT_HTTP_VAR_TIME_MSEC, PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("time_iso8601", pt_http_variable_time, PT_HTTP_VAR_TIME_ISO8601,
           PT_HTTP_VAR_NOCACHEABLE),
    PT_VAR("time_local", pt_http_variable_time, PT_HTTP_VAR_TIME_LOCAL,
           PT_HTTP_VAR_NOCACHEABLE),

    PT_VAR("http_", pt_http_variable_unknown_header_in, 0, PT_HTTP_VAR_PREFIX),
    PT_VAR("sent_http_", pt_http_variable_unknown_header_out, 0, PT_HTTP_VAR_PREFIX),
    PT_VAR("cookie_", pt_http_variable_cookie, 0, PT_HTTP_VAR_PREFIX),
    PT_VAR("arg_", pt_http_variable_argument, 0,
           PT_HTTP_VAR_NOCACHEABLE|PT_HTTP_VAR_PREFIX),

    pt_http_null_variable
};

pt_http_variable_value_t  pt_http_variable_null_value = {
    0, 1, 0, 0, 0, (u_char *) ""
};

pt_http_variable_value_t  pt_http_variable_true_value = {
    1, 1, 0, 0, 0, (u_char *) "1"
};

static void
pt_http_variable_set(pt_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = data;
}

static pt_int_t
pt_http_variable_not_found(pt_http_variable_value_t *v)
{
    v->not_found = 1;
    return PT_OK;
}

/* ---- registration ---- */

static pt_int_t
pt_http_variables_arrays_init(pt_conf_t *cf, pt_http_core_main_conf_t *cmcf)
{
    if (cmcf->variables_keys == NULL) {
        cmcf->variables_keys = pt_array_create(cf->pool, 64, sizeof(pt_http_variable_t));
        if (cmcf->variables_keys == NULL) {
            return PT_ERROR;
        }
    }

    if (cmcf->variables.elts == NULL
        && pt_array_init(&cmcf->variables, cf->pool, 16, sizeof(pt_http_variable_t))
           != PT_OK)
    {
        return PT_ERROR;
    }

    if (cmcf->prefix_variables.elts == NULL
        && pt_array_init(&cmcf->prefix_variables, cf->pool, 8,
                         sizeof(pt_http_variable_t)) != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}

static pt_http_variable_t *
pt_http_find_variable(pt_array_t *a, pt_str_t *name)
{
    pt_uint_t            i;
    pt_http_variable_t  *v;

    v = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (v[i].name.len == name->len
            && pt_strncasecmp(v[i].name.data, name->data, name->len) == 0)
        {
            return &v[i];
        }
    }

    return NULL;
}

pt_int_t
pt_http_variable_arg(pt_conf_t *cf, pt_str_t *arg, pt_str_t *name)
{
    if (arg->len == 0 || arg->data[0] != '$') {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid variable name \""
                          PT_STR_FMT "\"", PT_STR_ARG(*arg));
        return PT_ERROR;
    }

    name->data = arg->data + 1;
    name->len = arg->len - 1;

    return PT_OK;
}

pt_http_variable_t *
pt_http_add_variable(pt_conf_t *cf, pt_str_t *name, pt_uint_t flags)
{
    pt_array_t                *a;
    pt_http_variable_t        *v;
    pt_http_core_main_conf_t  *cmcf;

    if (name->len == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid variable name \"$\"");
        return NULL;
    }

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    if (pt_http_variables_arrays_init(cf, cmcf) != PT_OK) {
        return NULL;
    }

    a = (flags & PT_HTTP_VAR_PREFIX) ? &cmcf->prefix_variables : cmcf->variables_keys;

    v = pt_http_find_variable(a, name);

    if (v) {
        if (!(v->flags & PT_HTTP_VAR_CHANGEABLE)) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "the duplicate \"" PT_STR_FMT "\" variable",
                              PT_STR_ARG(*name));
            return NULL;
        }

        if (!(flags & PT_HTTP_VAR_WEAK)) {
            v->flags &= ~PT_HTTP_VAR_WEAK;
        }

        return v;
    }

    v = pt_array_push(a);
    if (v == NULL) {
        return NULL;
    }

    v->name.len = name->len;
    v->name.data = pt_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return NULL;
    }

    pt_strlow(v->name.data, name->data, name->len);

    v->set_handler = NULL;
    v->get_handler = NULL;
    v->data = 0;
    v->flags = flags;
    v->index = 0;

    return v;
}

pt_int_t
pt_http_get_variable_index(pt_conf_t *cf, pt_str_t *name)
{
    pt_http_variable_t        *v;
    pt_http_core_main_conf_t  *cmcf;

    if (name->len == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid variable name \"$\"");
        return PT_ERROR;
    }

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    if (pt_http_variables_arrays_init(cf, cmcf) != PT_OK) {
        return PT_ERROR;
    }

    v = pt_http_find_variable(&cmcf->variables, name);

    if (v) {
        return v->index;
    }

    v = pt_array_push(&cmcf->variables);
    if (v == NULL) {
        return PT_ERROR;
    }

    v->name.len = name->len;
    v->name.data = pt_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return PT_ERROR;
    }

    pt_strlow(v->name.data, name->data, name->len);

    v->set_handler = NULL;
    v->get_handler = NULL;
    v->data = 0;
    v->flags = 0;
    v->index = cmcf->variables.nelts - 1;

    return v->index;
}

pt_int_t
pt_http_variables_add_core_vars(pt_conf_t *cf)
{
    pt_http_variable_t  *cv, *v;

    for (cv = pt_http_core_variables; cv->name.len; cv++) {
        v = pt_http_add_variable(cf, &cv->name, cv->flags);
        if (v == NULL) {
            return PT_ERROR;
        }

        *v = *cv;
    }

    return PT_OK;
}

/* Binds every variable the config uses to its definition or prefix family;
 * an unknown name is an error. */
pt_int_t
pt_http_variables_init_vars(pt_conf_t *cf)
{
    size_t                     len;
    pt_uint_t                  i, n;
    pt_http_variable_t        *v, *key, *pv;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_conf_get_module_main_conf(cf, pt_http_core_module);

    if (pt_http_variables_arrays_init(cf, cmcf) != PT_OK) {
        return PT_ERROR;
    }

    v = cmcf->variables.elts;
    pv = cmcf->prefix_variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {

        key = pt_http_find_variable(cmcf->variables_keys, &v[i].name);

        if (key) {
            v[i].get_handler = key->get_handler;
            v[i].set_handler = key->set_handler;
            v[i].data = key->data;
            key->flags |= PT_HTTP_VAR_INDEXED;
            v[i].flags = key->flags;
            key->index = i;
            continue;
        }

        for (n = 0; n < cmcf->prefix_variables.nelts; n++) {
            len = pv[n].name.len;

            if (v[i].name.len > len
                && pt_strncmp(v[i].name.data, pv[n].name.data, len) == 0)
            {
                v[i].get_handler = pv[n].get_handler;
                v[i].data = (uintptr_t) &v[i].name;
                v[i].flags = pv[n].flags & ~PT_HTTP_VAR_PREFIX;
                break;
            }
        }

        if (n < cmcf->prefix_variables.nelts) {
            continue;
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unknown \"" PT_STR_FMT "\" variable",
                          PT_STR_ARG(v[i].name));
        return PT_ERROR;
    }

    return PT_OK;
}

/* ---- evaluation ---- */

pt_http_variable_value_t *
pt_http_get_indexed_variable(pt_http_request_t *r, pt_uint_t index)
{
    pt_http_variable_t        *v;
    pt_http_variable_value_t  *value;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);

    if (index >= cmcf->variables.nelts) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                     "unknown variable index: %lu", (unsigned long) index);
        return NULL;
    }

    value = &r->variables[index];

    if (value->not_found || value->valid) {
        return value;
    }

    v = cmcf->variables.elts;

    if (v[index].get_handler(r, value, v[index].data) == PT_OK) {
        if (v[index].flags & PT_HTTP_VAR_NOCACHEABLE) {
            value->no_cacheable = 1;
        }
        return value;
    }

    value->valid = 0;
    value->not_found = 1;

    return NULL;
}

pt_http_variable_value_t *
pt_http_get_flushed_variable(pt_http_request_t *r, pt_uint_t index)
{
    pt_http_variable_value_t  *v;

    v = &r->variables[index];

    if (v->valid || v->not_found) {
        if (!v->no_cacheable) {
            return v;
        }
        v->valid = 0;
        v->not_found = 0;
    }

    return pt_http_get_indexed_variable(r, index);
}

pt_http_variable_value_t *
pt_http_get_variable(pt_http_request_t *r, pt_str_t *name)
{
    size_t                     len;
    pt_uint_t                  i;
    pt_str_t                  *copy;
    pt_http_variable_t        *v, *pv;
    pt_http_variable_value_t  *value;
    pt_http_core_main_conf_t  *cmcf;

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);

    v = pt_http_find_variable(&cmcf->variables, name);
    if (v) {
        return pt_http_get_flushed_variable(r, v->index);
    }

    value = pt_pcalloc(r->pool, sizeof(pt_http_variable_value_t));
    if (value == NULL) {
        return NULL;
    }

    v = pt_http_find_variable(cmcf->variables_keys, name);

    if (v) {
        if (v->get_handler(r, value, v->data) != PT_OK) {
            return NULL;
        }
        return value;
    }

    pv = cmcf->prefix_variables.elts;

    for (i = 0; i < cmcf->prefix_variables.nelts; i++) {
        len = pv[i].name.len;

        if (name->len > len && pt_strncmp(name->data, pv[i].name.data, len) == 0) {
            copy = pt_palloc(r->pool, sizeof(pt_str_t));
            if (copy == NULL) {
                return NULL;
            }
            *copy = *name;

            if (pv[i].get_handler(r, value, (uintptr_t) copy) != PT_OK) {
                return NULL;
            }
            return value;
        }
    }

    value->not_found = 1;

    return value;
}

/* ---- getters ---- */

static pt_int_t
pt_http_variable_request(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  *s;

    s = (pt_str_t *) ((char *) r + data);

    if (s->data == NULL) {
        return pt_http_variable_not_found(v);
    }

    pt_http_variable_set(v, s->data, s->len);

    return PT_OK;
}

/* The setter of a pt_str_t field of the request ("set $args"). */
static void
pt_http_variable_request_set(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  *s;

    s = (pt_str_t *) ((char *) r + data);

    s->len = v->len;
    s->data = v->data;
}

static pt_int_t
pt_http_variable_header(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_header_t  *h;

    h = *(pt_http_header_t **) ((char *) r + data);

    if (h == NULL) {
        return pt_http_variable_not_found(v);
    }

    pt_http_variable_set(v, h->value.data, h->value.len);

    return PT_OK;
}

/* Repeated fields joined with sep (RFC 9110 5.3); one field costs nothing. */
static pt_int_t
pt_http_variable_join(pt_http_request_t *r, pt_http_variable_value_t *v,
    pt_http_header_t *h, const char *sep, size_t seplen)
{
    size_t             len;
    u_char            *p;
    pt_http_header_t  *th;

    if (h == NULL) {
        return pt_http_variable_not_found(v);
    }

    if (h->next == NULL) {
        pt_http_variable_set(v, h->value.data, h->value.len);
        return PT_OK;
    }

    len = 0;
    for (th = h; th; th = th->next) {
        len += th->value.len + seplen;
    }
    len -= seplen;

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p, len);

    for (th = h; th; th = th->next) {
        p = pt_cpymem(p, th->value.data, th->value.len);
        if (th->next) {
            p = pt_cpymem(p, sep, seplen);
        }
    }

    return PT_OK;
}

static pt_int_t
pt_http_variable_headers_joined(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    return pt_http_variable_join(r, v, *(pt_http_header_t **) ((char *) r + data),
                                 ", ", 2);
}

static pt_int_t
pt_http_variable_cookies(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    return pt_http_variable_join(r, v, *(pt_http_header_t **) ((char *) r + data),
                                 "; ", 2);
}

/* True when the lower-case field name equals the variable suffix, where
 * "_" in the variable stands for "-". */
static pt_uint_t
pt_http_header_name_match(pt_http_header_t *h, u_char *name, size_t len)
{
    size_t  i;
    u_char  ch;

    if (h->key.len != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = h->lowcase_key ? h->lowcase_key[i] : pt_tolower(h->key.data[i]);
        if (ch == '-') {
            ch = '_';
        }
        if (ch != name[i]) {
            return 0;
        }
    }

    return 1;
}

/* $http_NAME / $sent_http_NAME over a header list. */
static pt_int_t
pt_http_variable_header_list(pt_http_request_t *r, pt_http_variable_value_t *v,
    pt_list_t *headers, u_char *name, size_t len, pt_uint_t skip_deleted)
{
    pt_uint_t          i;
    pt_list_part_t    *part;
    pt_http_header_t  *h, *first, **last;

    first = NULL;
    last = &first;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (skip_deleted && h[i].hash == 0) {
            continue;
        }

        if (pt_http_header_name_match(&h[i], name, len)) {
            /* chain the matches through a copy, the list entries keep their
             * own next pointers */
            *last = pt_palloc(r->pool, sizeof(pt_http_header_t));
            if (*last == NULL) {
                return PT_ERROR;
            }
            **last = h[i];
            (*last)->next = NULL;
            last = &(*last)->next;
        }
    }

    if (len == sizeof("cookie") - 1 && pt_strncmp(name, "cookie", len) == 0) {
        return pt_http_variable_join(r, v, first, "; ", 2);
    }

    return pt_http_variable_join(r, v, first, ", ", 2);
}

static pt_int_t
pt_http_variable_unknown_header_in(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  *var = (pt_str_t *) data;

    return pt_http_variable_header_list(r, v, &r->headers_in.headers,
                                        var->data + sizeof("http_") - 1,
                                        var->len - (sizeof("http_") - 1), 0);
}

static pt_int_t
pt_http_variable_unknown_header_out(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  *var = (pt_str_t *) data;

    return pt_http_variable_header_list(r, v, &r->headers_out.headers,
                                        var->data + sizeof("sent_http_") - 1,
                                        var->len - (sizeof("sent_http_") - 1), 1);
}

/* $cookie_NAME: the value of NAME in the Cookie fields ("a=1; b=2"). */
static pt_int_t
pt_http_variable_cookie(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    size_t             len;
    u_char            *p, *last, *start, *name;
    pt_str_t          *var = (pt_str_t *) data;
    pt_http_header_t  *h;

    name = var->data + sizeof("cookie_") - 1;
    len = var->len - (sizeof("cookie_") - 1);

    for (h = r->headers_in.cookie; h; h = h->next) {
        p = h->value.data;
        last = p + h->value.len;

        while (p < last) {
            while (p < last && (*p == ' ' || *p == ';')) {
                p++;
            }

            start = p;

            while (p < last && *p != ';') {
                p++;
            }

            if ((size_t) (p - start) > len && start[len] == '='
                && pt_strncasecmp(start, name, len) == 0)
            {
                pt_http_variable_set(v, start + len + 1, p - start - len - 1);
                return PT_OK;
            }
        }
    }

    return pt_http_variable_not_found(v);
}

static pt_int_t
pt_http_variable_argument(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  *var = (pt_str_t *) data;
    pt_str_t   value;

    if (pt_http_arg(r, var->data + sizeof("arg_") - 1, var->len - (sizeof("arg_") - 1),
                    &value) != PT_OK)
    {
        return pt_http_variable_not_found(v);
    }

    pt_http_variable_set(v, value.data, value.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_host(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_core_srv_conf_t  *cscf;

    if (r->headers_in.server.len) {
        pt_http_variable_set(v, r->headers_in.server.data, r->headers_in.server.len);
        return PT_OK;
    }

    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
    pt_http_variable_set(v, cscf->server_name.data, cscf->server_name.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_remote_addr(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_variable_set(v, r->connection->addr_text.data, r->connection->addr_text.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_binary_remote_addr(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    struct sockaddr  *sa;

    sa = r->connection->sockaddr;

    switch (sa->sa_family) {
    case AF_INET6:
        pt_http_variable_set(v, (u_char *) &((struct sockaddr_in6 *) sa)->sin6_addr, 16);
        break;
    case AF_INET:
        pt_http_variable_set(v, (u_char *) &((struct sockaddr_in *) sa)->sin_addr, 4);
        break;
    default:
        pt_http_variable_set(v, (u_char *) "", 0);
        break;
    }

    return PT_OK;
}

static pt_int_t
pt_http_variable_format_port(pt_http_request_t *r, pt_http_variable_value_t *v,
    struct sockaddr *sa)
{
    u_char  *p;

    if (sa == NULL || sa->sa_family == AF_UNIX) {
        pt_http_variable_set(v, (u_char *) "", 0);
        return PT_OK;
    }

    p = pt_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p, pt_uint_to_str(p, pt_inet_get_port(sa)) - p);

    return PT_OK;
}

static pt_int_t
pt_http_variable_remote_port(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    return pt_http_variable_format_port(r, v, r->connection->sockaddr);
}

static pt_int_t
pt_http_variable_server_port(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (pt_connection_local_sockaddr(r->connection, NULL, 0) != PT_OK) {
        return PT_ERROR;
    }

    return pt_http_variable_format_port(r, v, r->connection->local_sockaddr);
}

static pt_int_t
pt_http_variable_server_addr(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t  s;

    s.len = PT_SOCKADDR_STRLEN;
    s.data = pt_pnalloc(r->pool, s.len);
    if (s.data == NULL) {
        return PT_ERROR;
    }

    if (pt_connection_local_sockaddr(r->connection, &s, 0) != PT_OK) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, s.data, s.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_scheme(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->connection->ssl) {
        pt_http_variable_set(v, (u_char *) "https", 5);
        return PT_OK;
    }

    pt_http_variable_set(v, (u_char *) "http", 4);

    return PT_OK;
}

static pt_int_t
pt_http_variable_https(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->connection->ssl) {
        pt_http_variable_set(v, (u_char *) "on", 2);
        return PT_OK;
    }

    pt_http_variable_set(v, (u_char *) "", 0);

    return PT_OK;
}

static pt_int_t
pt_http_variable_is_args(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->args.len == 0) {
        pt_http_variable_set(v, (u_char *) "", 0);
    } else {
        pt_http_variable_set(v, (u_char *) "?", 1);
    }

    return PT_OK;
}

static pt_int_t
pt_http_variable_server_name(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_core_srv_conf_t  *cscf;

    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);
    pt_http_variable_set(v, cscf->server_name.data, cscf->server_name.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_remote_user(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_int_t  rc;

    rc = pt_http_auth_basic_user(r);

    if (rc == PT_DECLINED) {
        return pt_http_variable_not_found(v);
    }

    if (rc == PT_ERROR) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, r->headers_in.user.data, r->headers_in.user.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_number(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char    *p;
    uint64_t   n;
    off_t      sent;

    switch (data) {
    case PT_HTTP_VAR_NUM_CONNECTION:
        n = r->connection->number;
        break;
    case PT_HTTP_VAR_NUM_REQUESTS:
        n = r->connection->requests;
        break;
    case PT_HTTP_VAR_NUM_PID:
        n = (uint64_t) pt_pid;
        break;
    case PT_HTTP_VAR_NUM_BYTES_SENT:
        n = (uint64_t) r->connection->sent;
        break;
    case PT_HTTP_VAR_NUM_BODY_BYTES_SENT:
        sent = r->connection->sent - (off_t) r->header_size;
        n = sent > 0 ? (uint64_t) sent : 0;
        break;
    default: /* PT_HTTP_VAR_NUM_REQUEST_LENGTH */
        n = r->request_length > 0 ? (uint64_t) r->request_length : 0;
        break;
    }

    p = pt_pnalloc(r->pool, PT_INT64_LEN);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p, pt_uint_to_str(p, n) - p);

    return PT_OK;
}

static pt_int_t
pt_http_variable_status(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char     *p;
    pt_uint_t   status;

    status = r->err_status ? r->err_status : r->headers_out.status;

    p = pt_pnalloc(r->pool, 3);
    if (p == NULL) {
        return PT_ERROR;
    }

    if (status > 999) {
        status = 0;
    }

    p[0] = (u_char) ('0' + status / 100);
    p[1] = (u_char) ('0' + status / 10 % 10);
    p[2] = (u_char) ('0' + status % 10);

    pt_http_variable_set(v, p, 3);

    return PT_OK;
}

/* "SEC.MSC" with exactly three decimals, as nginx logs times. */
static pt_int_t
pt_http_variable_msec_format(pt_http_request_t *r, pt_http_variable_value_t *v,
    uint64_t sec, pt_uint_t msec)
{
    u_char  *p, *start;

    start = pt_pnalloc(r->pool, PT_TIME_T_LEN + 4);
    if (start == NULL) {
        return PT_ERROR;
    }

    p = pt_uint_to_str(start, sec);
    *p++ = '.';
    *p++ = (u_char) ('0' + msec / 100);
    *p++ = (u_char) ('0' + msec / 10 % 10);
    *p++ = (u_char) ('0' + msec % 10);

    pt_http_variable_set(v, start, p - start);

    return PT_OK;
}

static pt_int_t
pt_http_variable_request_time(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_time_t      *tp;
    pt_msec_int_t   ms;

    tp = pt_timeofday();

    ms = (pt_msec_int_t) ((tp->sec - r->start_sec) * 1000
                          + ((pt_msec_int_t) tp->msec - (pt_msec_int_t) r->start_msec));
    ms = pt_max(ms, 0);

    return pt_http_variable_msec_format(r, v, (uint64_t) ms / 1000,
                                        (pt_uint_t) (ms % 1000));
}

static pt_int_t
pt_http_variable_time(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char     *p;
    pt_time_t  *tp;
    pt_str_t    s;

    if (data == PT_HTTP_VAR_TIME_MSEC) {
        tp = pt_timeofday();
        return pt_http_variable_msec_format(r, v, (uint64_t) tp->sec, tp->msec);
    }

    /* the cached strings change when the clock ticks: copy them */
    if (data == PT_HTTP_VAR_TIME_LOCAL) {
        s = *(pt_str_t *) &pt_cached_http_log_time;
    } else {
        s = *(pt_str_t *) &pt_cached_http_log_iso8601;
    }

    p = pt_pnalloc(r->pool, s.len);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(p, s.data, s.len);
    pt_http_variable_set(v, p, s.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_hostname(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_cycle_t  *cycle;

    cycle = (pt_cycle_t *) pt_cycle;
    pt_http_variable_set(v, cycle->hostname.data, cycle->hostname.len);

    return PT_OK;
}

static pt_int_t
pt_http_variable_version(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_variable_set(v, (u_char *) PORTICO_VERSION, sizeof(PORTICO_VERSION) - 1);

    return PT_OK;
}

static pt_int_t
pt_http_variable_content_length(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->headers_in.content_length) {
        pt_http_variable_set(v, r->headers_in.content_length->value.data,
                             r->headers_in.content_length->value.len);
        return PT_OK;
    }

    return pt_http_variable_not_found(v);
}

static pt_int_t
pt_http_variable_sent_content_type(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->headers_out.content_type.len) {
        pt_http_variable_set(v, r->headers_out.content_type.data,
                             r->headers_out.content_type.len);
        return PT_OK;
    }

    return pt_http_variable_not_found(v);
}

static pt_int_t
pt_http_variable_sent_content_length(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char  *p;

    if (r->headers_out.content_length) {
        pt_http_variable_set(v, r->headers_out.content_length->value.data,
                             r->headers_out.content_length->value.len);
        return PT_OK;
    }

    if (r->headers_out.content_length_n < 0) {
        return pt_http_variable_not_found(v);
    }

    p = pt_pnalloc(r->pool, PT_OFF_T_LEN);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p,
        pt_uint_to_str(p, (uint64_t) r->headers_out.content_length_n) - p);

    return PT_OK;
}

static pt_int_t
pt_http_variable_sent_location(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->headers_out.location) {
        pt_http_variable_set(v, r->headers_out.location->value.data,
                             r->headers_out.location->value.len);
        return PT_OK;
    }

    return pt_http_variable_not_found(v);
}

static pt_int_t
pt_http_variable_sent_connection(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    if (r->keepalive) {
        pt_http_variable_set(v, (u_char *) "keep-alive", sizeof("keep-alive") - 1);
    } else {
        pt_http_variable_set(v, (u_char *) "close", sizeof("close") - 1);
    }

    return PT_OK;
}

/* The header filter writes Last-Modified from last_modified_time. */
static pt_int_t
pt_http_variable_sent_last_modified(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char  *p;

    if (r->headers_out.last_modified) {
        pt_http_variable_set(v, r->headers_out.last_modified->value.data,
                             r->headers_out.last_modified->value.len);
        return PT_OK;
    }

    if (r->headers_out.last_modified_time < 0) {
        return pt_http_variable_not_found(v);
    }

    p = pt_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p, pt_http_time(p, r->headers_out.last_modified_time) - p);

    return PT_OK;
}

static pt_int_t
pt_http_variable_sent_transfer_encoding(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data)
{
    if (r->chunked) {
        pt_http_variable_set(v, (u_char *) "chunked", sizeof("chunked") - 1);
        return PT_OK;
    }

    return pt_http_variable_not_found(v);
}

static pt_int_t
pt_http_variable_sent_keep_alive(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                   *p;
    pt_http_core_loc_conf_t  *clcf;

    clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);

    if (!r->keepalive || clcf->keepalive_header == 0) {
        return pt_http_variable_not_found(v);
    }

    p = pt_pnalloc(r->pool, sizeof("timeout=") - 1 + PT_TIME_T_LEN);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p,
        pt_uint_to_str(pt_cpymem(p, "timeout=", sizeof("timeout=") - 1),
                       (uint64_t) clcf->keepalive_header) - p);

    return PT_OK;
}

/*
 * $request_id: 16 random bytes in hex.  The bytes come from a per-worker
 * buffer that getrandom() refills in bulk, so an id costs a copy, not a
 * system call.  The buffer remembers the pid that filled it: a worker
 * never reuses bytes its master (or a sibling) drew before the fork.
 */
#define PT_HTTP_REQUEST_ID_POOL  4096

static pt_int_t
pt_http_variable_request_id(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    static u_char   pool[PT_HTTP_REQUEST_ID_POOL];
    static size_t   avail;
    static pid_t    owner;

    u_char   *p, *bytes;
    ssize_t   n;
    size_t    i, got;

    if (owner != pt_pid) {
        owner = pt_pid;
        avail = 0;
    }

    if (avail < 16) {
        for (got = 0; got < sizeof(pool); got += n) {
            n = getrandom(pool + got, sizeof(pool) - got, 0);
            if (n == -1) {
                if (errno == EINTR) {
                    n = 0;
                    continue;
                }
                pt_log_error(PT_LOG_ALERT, r->connection->log, pt_errno,
                             "getrandom() failed");
                return PT_ERROR;
            }
        }
        avail = sizeof(pool);
    }

    avail -= 16;
    bytes = pool + avail;

    p = pt_pnalloc(r->pool, 32);
    if (p == NULL) {
        return PT_ERROR;
    }

    for (i = 0; i < 16; i++) {
        p[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
        p[2 * i + 1] = "0123456789abcdef"[bytes[i] & 0xf];
    }

    /* a used id is not kept around */
    pt_memzero(bytes, 16);

    pt_http_variable_set(v, p, 32);

    return PT_OK;
}

/* $limit_rate: the rate of this request in bytes per second; "set
 * $limit_rate 10k" changes it for the rest of the request. */
static pt_int_t
pt_http_variable_limit_rate(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                   *p;
    size_t                    rate;
    pt_http_core_loc_conf_t  *clcf;

    if (r->limit_rate_set) {
        rate = r->limit_rate;

    } else {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
        rate = clcf->limit_rate;
    }

    p = pt_pnalloc(r->pool, PT_INT64_LEN);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_http_variable_set(v, p, pt_uint_to_str(p, rate) - p);

    return PT_OK;
}

static void
pt_http_variable_set_limit_rate(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    ssize_t                   rate;
    pt_str_t                  s;
    pt_http_core_loc_conf_t  *clcf;

    s.len = v->len;
    s.data = v->data;

    rate = pt_parse_size(&s);

    if (rate == PT_ERROR) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "invalid $limit_rate \"" PT_STR_FMT "\"", PT_STR_ARG(s));
        return;
    }

    if (!r->limit_rate_set) {
        clcf = pt_http_get_module_loc_conf(r, pt_http_core_module);
        r->limit_rate_after = clcf->limit_rate_after;
        r->limit_rate_set = 1;
    }

    r->limit_rate = (size_t) rate;
}
