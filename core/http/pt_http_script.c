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

        if (pt_http_script_parse_name(cf, v, &i, &name) != PT_OK) {
            return PT_ERROR;
        }

        part = pt_array_push(&parts);
        if (part == NULL) {
            return PT_ERROR;
        }

        pt_str_null(&part->text);

        if (name.len == 1 && name.data[0] >= '0' && name.data[0] <= '9') {
            /* a regex capture: filled when regex locations exist */
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

pt_int_t
pt_http_complex_value(pt_http_request_t *r, pt_http_complex_value_t *cv,
    pt_str_t *value)
{
    size_t                     len;
    u_char                    *p;
    pt_uint_t                  i;
    pt_http_cv_part_t         *part;
    pt_http_variable_value_t  *vv;

    if (cv->parts == NULL) {
        *value = cv->value;
        return PT_OK;
    }

    /* Pass 1 evaluates (and caches) every variable and sums the lengths;
     * pass 2 copies the cached values. */
    len = 0;
    part = cv->parts;

    for (i = 0; i < cv->nparts; i++) {
        switch (part[i].type) {
        case PT_HTTP_CV_LITERAL:
            len += part[i].text.len;
            break;
        case PT_HTTP_CV_VARIABLE:
            vv = pt_http_get_flushed_variable(r, part[i].index);
            if (vv && !vv->not_found) {
                len += vv->len;
            }
            break;
        default:
            break;
        }
    }

    p = pt_pnalloc(r->pool, len + cv->zero);
    if (p == NULL) {
        return PT_ERROR;
    }

    value->data = p;
    value->len = len;

    for (i = 0; i < cv->nparts; i++) {
        switch (part[i].type) {
        case PT_HTTP_CV_LITERAL:
            p = pt_cpymem(p, part[i].text.data, part[i].text.len);
            break;
        case PT_HTTP_CV_VARIABLE:
            vv = pt_http_get_indexed_variable(r, part[i].index);
            if (vv && !vv->not_found) {
                p = pt_cpymem(p, vv->data, vv->len);
            }
            break;
        default:
            break;
        }
    }

    if (cv->zero) {
        *p = '\0';
    }

    return PT_OK;
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
