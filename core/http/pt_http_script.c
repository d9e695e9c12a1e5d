/*
 * pt_http_script.c: complex values and the script engine (see
 * pt_http_script.h).
 */

#include "pt_http.h"

uintptr_t  pt_http_script_exit_code = (uintptr_t) NULL;

pt_uint_t
pt_http_script_variables_count(pt_str_t *value)
{
    pt_uint_t  i, n;

    for (n = 0, i = 0; i < value->len; i++) {
        if (value->data[i] == '$') {
            n++;
        }
    }

    return n;
}

static pt_uint_t
pt_http_script_is_name_char(u_char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
           || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Parses "$name" or "${name}" at v[*i] (which is "$"); sets *name and moves
 * *i past it. */
static pt_int_t
pt_http_script_parse_name(pt_conf_t *cf, pt_str_t *v, size_t *i, pt_str_t *name)
{
    size_t     j;
    pt_uint_t  bracket;

    j = *i + 1;
    bracket = 0;

    if (j < v->len && v->data[j] == '{') {
        bracket = 1;
        j++;
    }

    name->data = v->data + j;

    while (j < v->len && pt_http_script_is_name_char(v->data[j])) {
        j++;
    }

    name->len = v->data + j - name->data;

    if (bracket) {
        if (j >= v->len || v->data[j] != '}') {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "the closing bracket in \"" PT_STR_FMT
                              "\" variable is missing", PT_STR_ARG(*name));
            return PT_ERROR;
        }
        j++;
    }

    if (name->len == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid variable name in \""
                          PT_STR_FMT "\"", PT_STR_ARG(*v));
        return PT_ERROR;
    }

    *i = j;

    return PT_OK;
}

static pt_http_cv_part_t *
pt_http_script_add_literal(pt_array_t *parts, u_char *data, size_t len)
{
    pt_http_cv_part_t  *part;

    part = pt_array_push(parts);
    if (part == NULL) {
        return NULL;
    }

    part->type = PT_HTTP_CV_LITERAL;
    part->index = 0;
    part->text.data = data;
    part->text.len = len;

    return part;
}

pt_int_t
pt_http_compile_complex_value(pt_http_compile_complex_value_t *ccv)
{
    size_t                    i, start;
    pt_int_t                  index;
    pt_str_t                 *v, name, prefix;
    pt_array_t                parts;
    pt_conf_t                *cf;
    pt_http_cv_part_t        *part;
    pt_http_complex_value_t  *cv;

    cf = ccv->cf;
    v = ccv->value;
    cv = ccv->complex_value;

    pt_memzero(cv, sizeof(pt_http_complex_value_t));
    cv->value = *v;
    cv->zero = ccv->zero;

    pt_str_null(&prefix);

    if ((ccv->conf_prefix || ccv->root_prefix) && (v->len == 0 || v->data[0] != '/')) {
        prefix = ccv->conf_prefix ? cf->cycle->conf_prefix : cf->cycle->prefix;
    }

    if (pt_http_script_variables_count(v) == 0) {
        if (prefix.len || ccv->zero) {
            /* a literal, made absolute or NUL-terminated once, here */
            cv->value.len = prefix.len + v->len;
            cv->value.data = pt_pnalloc(cf->pool, cv->value.len + 1);
            if (cv->value.data == NULL) {
                return PT_ERROR;
            }
            pt_memcpy(cv->value.data, prefix.data, prefix.len);
            pt_memcpy(cv->value.data + prefix.len, v->data, v->len);
            cv->value.data[cv->value.len] = '\0';
        }
        return PT_OK;
    }

    if (pt_array_init(&parts, cf->pool, 4, sizeof(pt_http_cv_part_t)) != PT_OK) {
        return PT_ERROR;
    }

    if (prefix.len && pt_http_script_add_literal(&parts, prefix.data, prefix.len) == NULL) {
        return PT_ERROR;
    }

    i = 0;

    while (i < v->len) {

        if (v->data[i] != '$') {
            start = i;
            while (i < v->len && v->data[i] != '$') {
                i++;
            }
            if (pt_http_script_add_literal(&parts, v->data + start, i - start) == NULL) {
                return PT_ERROR;
            }
            continue;
        }

        if (i + 1 < v->len && v->data[i + 1] >= '0' && v->data[i + 1] <= '9') {
            /* "$1": a capture is one digit, so "$12" is $1 then "2" */
            name.data = v->data + i + 1;
            name.len = 1;
            i += 2;

        } else if (pt_http_script_parse_name(cf, v, &i, &name) != PT_OK) {
            return PT_ERROR;
        }

        part = pt_array_push(&parts);
        if (part == NULL) {
            return PT_ERROR;
        }

        pt_str_null(&part->text);

        if (name.len == 1 && name.data[0] >= '0' && name.data[0] <= '9') {
            /* a regex capture ("${1}" too) */
            part->type = PT_HTTP_CV_CAPTURE;
            part->index = name.data[0] - '0';
            continue;
        }

        index = pt_http_get_variable_index(cf, &name);
        if (index == PT_ERROR) {
            return PT_ERROR;
        }

        part->type = PT_HTTP_CV_VARIABLE;
        part->index = (pt_uint_t) index;
    }

    cv->parts = parts.elts;
    cv->nparts = parts.nelts;

    return PT_OK;
}

/* Capture n of the request's last regex match; empty when the match had no
 * such group. */
static void
pt_http_script_capture(pt_http_request_t *r, pt_uint_t n, pt_str_t *s)
{
    n *= 2;

    if (n < r->ncaptures && r->captures[n] >= 0) {
        s->data = r->captures_data + r->captures[n];
        s->len = r->captures[n + 1] - r->captures[n];
        return;
    }

    s->data = NULL;
    s->len = 0;
}

/* Bytes that are escaped again in a uri ("args" 0: " # % ?") or in its
 * arguments ("args" 1: " # % & + ;"), besides controls and non-ASCII. */
static pt_uint_t
pt_http_script_must_escape(u_char ch, pt_uint_t args)
{
    if (ch <= 0x20 || ch >= 0x7f || ch == '#' || ch == '%') {
        return 1;
    }

    if (args) {
        return ch == '&' || ch == '+' || ch == ';';
    }

    return ch == '?';
}

/* With dst NULL returns the number of bytes of src that need escaping;
 * otherwise copies src escaped to dst and returns the end. */
static u_char *
pt_http_script_escape(u_char *dst, pt_str_t *src, pt_uint_t args, size_t *n)
{
    size_t        i;
    u_char        ch;
    static u_char hex[] = "0123456789ABCDEF";

    if (dst == NULL) {
        for (*n = 0, i = 0; i < src->len; i++) {
            *n += pt_http_script_must_escape(src->data[i], args);
        }
        return NULL;
    }

    for (i = 0; i < src->len; i++) {
        ch = src->data[i];

        if (pt_http_script_must_escape(ch, args)) {
            *dst++ = '%';
            *dst++ = hex[ch >> 4];
            *dst++ = hex[ch & 0xf];
        } else {
            *dst++ = ch;
        }
    }

    return dst;
}

/* The modes of pt_http_script_eval. */
#define PT_HTTP_SCRIPT_PLAIN     0
#define PT_HTTP_SCRIPT_URI       1      /* rewrite: captures in args escaped */
#define PT_HTTP_SCRIPT_REDIRECT  2      /* every capture escaped */

/* The value of one variable or capture part; cached: take the value the
 * first pass evaluated. */
static void
pt_http_script_part(pt_http_request_t *r, pt_http_cv_part_t *part, pt_uint_t cached,
    pt_str_t *s)
{
    pt_http_variable_value_t  *vv;

    if (part->type == PT_HTTP_CV_CAPTURE) {
        pt_http_script_capture(r, part->index, s);
        return;
    }

    vv = cached ? pt_http_get_indexed_variable(r, part->index)
                : pt_http_get_flushed_variable(r, part->index);

    if (vv && !vv->not_found) {
        s->data = vv->data;
        s->len = vv->len;
    } else {
        s->data = NULL;
        s->len = 0;
    }
}

/*
 * Evaluates cv in two passes: the first evaluates (and caches) every
 * variable and sums the lengths, the second copies.  In the URI and
 * REDIRECT modes captures may be escaped (see
 * pt_http_complex_value_escaped), and *args gets the "?" that starts the
 * arguments.
 */
static pt_int_t
pt_http_script_eval(pt_http_request_t *r, pt_http_complex_value_t *cv,
    pt_uint_t mode, pt_str_t *value, u_char **args)
{
    size_t              len, n;
    u_char             *p, *q;
    pt_str_t            s;
    pt_uint_t           i, pass, escape, in_args;
    pt_http_cv_part_t  *part;

    if (args) {
        *args = NULL;
    }

    if (cv->parts == NULL) {
        *value = cv->value;

        if (args) {
            *args = pt_strlchr(value->data, value->data + value->len, '?');
        }

        return PT_OK;
    }

    escape = (mode != PT_HTTP_SCRIPT_PLAIN) && (r->quoted_uri || r->plus_in_uri);
    part = cv->parts;
    len = 0;
    p = NULL;

    for (pass = 0; pass < 2; pass++) {

        if (pass == 1) {
            p = pt_pnalloc(r->pool, len + cv->zero);
            if (p == NULL) {
                return PT_ERROR;
            }
            value->data = p;
        }

        in_args = 0;

        for (i = 0; i < cv->nparts; i++) {

            if (part[i].type == PT_HTTP_CV_LITERAL) {
                s = part[i].text;

                if (!in_args && (q = pt_strlchr(s.data, s.data + s.len, '?'))) {
                    in_args = 1;
                    if (pass == 1 && args) {
                        *args = p + (q - s.data);
                    }
                }

            } else {
                pt_http_script_part(r, &part[i], pass, &s);

                if (escape && part[i].type == PT_HTTP_CV_CAPTURE
                    && (in_args || mode == PT_HTTP_SCRIPT_REDIRECT))
                {
                    if (pass == 0) {
                        (void) pt_http_script_escape(NULL, &s, in_args, &n);
                        len += s.len + 2 * n;
                    } else {
                        p = pt_http_script_escape(p, &s, in_args, &n);
                    }
                    continue;
                }
            }

            if (pass == 0) {
                len += s.len;
            } else if (s.len) {
                p = pt_cpymem(p, s.data, s.len);
            }
        }
    }

    value->len = p - value->data;

    if (cv->zero) {
        *p = '\0';
    }

    return PT_OK;
}

pt_int_t
pt_http_complex_value(pt_http_request_t *r, pt_http_complex_value_t *cv,
    pt_str_t *value)
{
    return pt_http_script_eval(r, cv, PT_HTTP_SCRIPT_PLAIN, value, NULL);
}

pt_int_t
pt_http_complex_value_escaped(pt_http_request_t *r, pt_http_complex_value_t *cv,
    pt_uint_t redirect, pt_str_t *value)
{
    return pt_http_script_eval(r, cv, redirect ? PT_HTTP_SCRIPT_REDIRECT
                                               : PT_HTTP_SCRIPT_URI, value, NULL);
}

pt_int_t
pt_http_complex_value_args(pt_http_request_t *r, pt_http_complex_value_t *cv,
    pt_str_t *value, u_char **args)
{
    return pt_http_script_eval(r, cv, PT_HTTP_SCRIPT_URI, value, args);
}

char *
pt_http_set_complex_value_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char  *p = conf;

    pt_str_t                          *value;
    pt_http_complex_value_t          **cv;
    pt_http_compile_complex_value_t    ccv;

    cv = (pt_http_complex_value_t **) (p + cmd->offset);

    if (*cv != NULL && *cv != PT_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *cv = pt_palloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (*cv == NULL) {
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = *cv;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* ---- the script engine ---- */

void *
pt_http_script_start_code(pt_pool_t *pool, pt_array_t **codes, size_t size)
{
    if (*codes == NULL) {
        *codes = pt_array_create(pool, 256, 1);
        if (*codes == NULL) {
            return NULL;
        }
    }

    /* Codes are laid end to end: keep each one pointer-aligned. */
    return pt_array_push_n(*codes, pt_align(size, sizeof(uintptr_t)));
}

pt_int_t
pt_http_script_end_codes(pt_pool_t *pool, pt_array_t **codes)
{
    uintptr_t  *code;

    code = pt_http_script_start_code(pool, codes, sizeof(uintptr_t));
    if (code == NULL) {
        return PT_ERROR;
    }

    *code = (uintptr_t) NULL;

    return PT_OK;
}

void
pt_http_script_run(pt_http_script_engine_t *e, u_char *codes)
{
    pt_http_script_code_pt  code;

    e->ip = codes;

    while (*(uintptr_t *) e->ip) {
        code = *(pt_http_script_code_pt *) e->ip;
        code(e);
    }
}

void
pt_http_script_return_code(pt_http_script_engine_t *e)
{
    pt_http_script_return_code_t  *code;

    code = (pt_http_script_return_code_t *) e->ip;

    if (code->status < PT_HTTP_BAD_REQUEST || code->text.value.len
        || code->text.parts)
    {
        e->status = pt_http_send_response(e->request, code->status, NULL,
                                          &code->text);
    } else {
        e->status = code->status;
    }

    e->ip = pt_http_script_exit;
}

#define pt_http_script_code_size(type)  pt_align(sizeof(type), sizeof(uintptr_t))

/* Replaces the response's Location with value. */
static pt_int_t
pt_http_script_set_location(pt_http_request_t *r, pt_str_t *value)
{
    pt_http_header_t  *h;

    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
    }

    h = pt_http_add_response_header(r, "Location", sizeof("Location") - 1,
                                    value->data, value->len);
    if (h == NULL) {
        return PT_ERROR;
    }

    r->headers_out.location = h;

    return PT_OK;
}

/* value + "?" (or "&" when value has arguments already) + the request's
 * arguments. */
static pt_int_t
pt_http_script_add_args(pt_http_request_t *r, pt_str_t *value, u_char sep)
{
    u_char  *p;

    p = pt_pnalloc(r->pool, value->len + 1 + r->args.len);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(p, value->data, value->len);
    p[value->len] = sep;
    pt_memcpy(p + value->len + 1, r->args.data, r->args.len);

    value->data = p;
    value->len += 1 + r->args.len;

    return PT_OK;
}

/* The redirect half of "rewrite": Location is the replacement (plus the
 * request's arguments), and the script stops with the status. */
static void
pt_http_script_rewrite_redirect(pt_http_script_engine_t *e,
    pt_http_script_rewrite_code_t *code)
{
    pt_str_t            value;
    pt_http_request_t  *r;

    r = e->request;
    e->ip = pt_http_script_exit;

    if (pt_http_complex_value_escaped(r, &code->replacement, 1, &value) != PT_OK
        || (code->add_args && r->args.len
            && pt_http_script_add_args(r, &value, code->has_args ? '&' : '?')
               != PT_OK)
        || pt_http_script_set_location(r, &value) != PT_OK)
    {
        e->status = PT_HTTP_INTERNAL_SERVER_ERROR;
        return;
    }

    if (e->log) {
        pt_log_error(PT_LOG_NOTICE, r->connection->log, 0,
                     "rewritten redirect: \"" PT_STR_FMT "\"", PT_STR_ARG(value));
    }

    e->status = code->status;
}

/* The uri half of "rewrite": the replacement becomes r->uri (and, after a
 * "?", r->args); the location is chosen again unless the flag is break. */
static pt_int_t
pt_http_script_rewrite_uri(pt_http_script_engine_t *e,
    pt_http_script_rewrite_code_t *code)
{
    u_char             *q;
    pt_str_t            value, args;
    pt_http_request_t  *r;

    r = e->request;

    if (pt_http_complex_value_args(r, &code->replacement, &value, &q) != PT_OK) {
        return PT_ERROR;
    }

    if (q) {
        args.data = q + 1;
        args.len = value.data + value.len - args.data;
        value.len = q - value.data;

        if (code->add_args && r->args.len
            && pt_http_script_add_args(r, &args, '&') != PT_OK)
        {
            return PT_ERROR;
        }

        r->args = args;

    } else if (!code->add_args) {
        r->args.len = 0;
    }

    if (value.len == 0) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "the rewritten URI has a zero length");
        return PT_ERROR;
    }

    r->uri = value;
    pt_http_set_exten(r);

    if (e->log) {
        pt_log_error(PT_LOG_NOTICE, r->connection->log, 0,
                     "rewritten data: \"" PT_STR_FMT "\", args: \"" PT_STR_FMT "\"",
                     PT_STR_ARG(r->uri), PT_STR_ARG(r->args));
    }

    /* a rewritten request may reach "internal" locations, as in nginx */
    r->internal = 1;
    r->valid_unparsed_uri = 0;

    if (code->break_cycle) {
        r->valid_location = 0;
        r->uri_changed = 0;
    } else {
        r->uri_changed = 1;
    }

    return PT_OK;
}

void
pt_http_script_rewrite_code(pt_http_script_engine_t *e)
{
    pt_int_t                        rc;
    pt_http_request_t              *r;
    pt_http_script_rewrite_code_t  *code;

    code = (pt_http_script_rewrite_code_t *) e->ip;
    r = e->request;

    rc = pt_http_regex_exec(r, code->regex, &r->uri);

    if (rc == PT_DECLINED) {
        if (e->log) {
            pt_log_error(PT_LOG_NOTICE, r->connection->log, 0,
                         "\"" PT_STR_FMT "\" does not match \"" PT_STR_FMT "\"",
                         PT_STR_ARG(code->regex->name), PT_STR_ARG(r->uri));
        }

        e->ip += pt_http_script_code_size(pt_http_script_rewrite_code_t);
        return;
    }

    if (rc != PT_OK) {
        e->status = PT_HTTP_INTERNAL_SERVER_ERROR;
        e->ip = pt_http_script_exit;
        return;
    }

    if (e->log) {
        pt_log_error(PT_LOG_NOTICE, r->connection->log, 0,
                     "\"" PT_STR_FMT "\" matches \"" PT_STR_FMT "\"",
                     PT_STR_ARG(code->regex->name), PT_STR_ARG(r->uri));
    }

    if (code->status) {
        pt_http_script_rewrite_redirect(e, code);
        return;
    }

    if (pt_http_script_rewrite_uri(e, code) != PT_OK) {
        e->status = PT_HTTP_INTERNAL_SERVER_ERROR;
        e->ip = pt_http_script_exit;
        return;
    }

    if (code->stop) {
        e->ip = pt_http_script_exit;
        return;
    }

    e->ip += pt_http_script_code_size(pt_http_script_rewrite_code_t);
}

void
pt_http_script_set_code(pt_http_script_engine_t *e)
{
    pt_str_t                    value;
    pt_http_request_t          *r;
    pt_http_variable_value_t   *vv, tmp;
    pt_http_script_set_code_t  *code;

    code = (pt_http_script_set_code_t *) e->ip;
    r = e->request;

    if (pt_http_complex_value(r, &code->value, &value) != PT_OK) {
        e->status = PT_HTTP_INTERNAL_SERVER_ERROR;
        e->ip = pt_http_script_exit;
        return;
    }

    /* a variable with a setter ($args, ...) stores it where it lives */
    vv = code->set_handler ? &tmp : &r->variables[code->index];

    vv->len = value.len;
    vv->valid = 1;
    vv->no_cacheable = 0;
    vv->not_found = 0;
    vv->escape = 0;
    vv->data = value.data;

    if (code->set_handler) {
        code->set_handler(r, vv, code->data);
    }

    e->ip += pt_http_script_code_size(pt_http_script_set_code_t);
}

/* -f, -d, -e, -x on path (NUL-terminated), through the location's open
 * file cache: 1, 0, or PT_ERROR. */
static pt_int_t
pt_http_script_test_file(pt_http_request_t *r, pt_http_script_if_code_t *code,
    pt_str_t *path)
{
    pt_open_file_info_t  of;

    pt_memzero(&of, sizeof(pt_open_file_info_t));
    of.test_only = 1;
    of.test_dir = (code->type == PT_HTTP_IF_DIR) ? 1 : 0;

    if (pt_http_file_open(r, path, &of) != PT_OK) {
        if (of.err == 0) {
            return PT_ERROR;
        }

        if (of.err != ENOENT && of.err != ENOTDIR && of.err != ENAMETOOLONG) {
            pt_log_error(PT_LOG_ERR, r->connection->log, of.err,
                         "%s \"%s\" failed", of.failed, path->data);
        }
        return 0;
    }

    switch (code->type) {
    case PT_HTTP_IF_FILE:
        return of.is_file;
    case PT_HTTP_IF_DIR:
        return of.is_dir;
    case PT_HTTP_IF_EXEC:
        return of.is_exec;
    default:    /* PT_HTTP_IF_EXISTS */
        return 1;
    }
}

/* The condition of an "if": 1, 0, or PT_ERROR. */
static pt_int_t
pt_http_script_condition(pt_http_script_engine_t *e, pt_http_script_if_code_t *code)
{
    pt_int_t            rc;
    pt_str_t            value, operand;
    pt_http_request_t  *r;

    r = e->request;

    if (pt_http_complex_value(r, &code->value, &value) != PT_OK) {
        return PT_ERROR;
    }

    switch (code->type) {

    case PT_HTTP_IF_VAR:
        return !(value.len == 0 || (value.len == 1 && value.data[0] == '0'));

    case PT_HTTP_IF_EQ:
    case PT_HTTP_IF_NE:
        if (pt_http_complex_value(r, &code->operand, &operand) != PT_OK) {
            return PT_ERROR;
        }
        rc = (value.len == operand.len
              && pt_memcmp(value.data, operand.data, value.len) == 0);
        return code->type == PT_HTTP_IF_EQ ? rc : !rc;

    case PT_HTTP_IF_REGEX:
    case PT_HTTP_IF_NOT_REGEX:
        rc = pt_http_regex_exec(r, code->regex, &value);
        if (rc == PT_ERROR) {
            return PT_ERROR;
        }

        if (e->log) {
            pt_log_error(PT_LOG_NOTICE, r->connection->log, 0,
                         "\"" PT_STR_FMT "\" %s \"" PT_STR_FMT "\"",
                         PT_STR_ARG(code->regex->name),
                         rc == PT_OK ? "matches" : "does not match", PT_STR_ARG(value));
        }

        rc = (rc == PT_OK);
        return code->type == PT_HTTP_IF_REGEX ? rc : !rc;

    default:
        rc = pt_http_script_test_file(r, code, &value);
        if (rc == PT_ERROR) {
            return PT_ERROR;
        }
        return code->negative ? !rc : rc;
    }
}

void
pt_http_script_if_code(pt_http_script_engine_t *e)
{
    pt_int_t                   rc;
    pt_http_request_t         *r;
    pt_http_script_if_code_t  *code;

    code = (pt_http_script_if_code_t *) e->ip;
    r = e->request;

    rc = pt_http_script_condition(e, code);

    if (rc == PT_ERROR) {
        e->status = PT_HTTP_INTERNAL_SERVER_ERROR;
        e->ip = pt_http_script_exit;
        return;
    }

    if (rc == 0) {
        e->ip += code->next;
        return;
    }

    if (code->loc_conf) {
        /* inside a location, the block's settings apply from here on */
        r->loc_conf = code->loc_conf;
        pt_http_update_location_config(r);
    }

    e->ip += pt_http_script_code_size(pt_http_script_if_code_t);
}

void
pt_http_script_break_code(pt_http_script_engine_t *e)
{
    pt_http_request_t  *r;

    r = e->request;

    /* after a rewrite without a flag: stay in this location */
    if (r->uri_changed) {
        r->valid_location = 0;
        r->uri_changed = 0;
    }

    e->ip = pt_http_script_exit;
}
