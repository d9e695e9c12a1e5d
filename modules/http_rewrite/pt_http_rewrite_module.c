/*
 * pt_http_rewrite_module.c: return, rewrite, set, if, break, rewrite_log,
 * uninitialized_variable_warn.
 *
 * Each server and location level compiles its directives, in config order,
 * into a script: a code array run by the engine of pt_http_script.c.  The
 * handler runs in SERVER_REWRITE (the server level's script) and in
 * REWRITE (the chosen location's script), as nginx's does.  Scripts are not
 * inherited: a location without directives of its own runs none.
 *
 *   return CODE [TEXT];          TEXT: a complex value, the body
 *   return CODE URL;             for 301, 302, 303, 307, 308: Location
 *   return URL;                  302; URL starts with http://, https://
 *                                or $scheme
 *   rewrite REGEX REPLACEMENT [last|break|redirect|permanent];
 *   set $name VALUE;
 *   if (CONDITION) { ... }       its block's codes follow the "if" code in
 *                                the same array; inside a location the
 *                                block is also a location-like level whose
 *                                settings apply when the condition holds
 *   break;
 */

#include "pt_http.h"

typedef struct {
    pt_array_t    *codes;           /* the script; NULL: nothing to run */
    pt_flag_t      log;             /* rewrite_log */
    pt_flag_t      uninitialized_variable_warn;
} pt_http_rewrite_loc_conf_t;

static void *pt_http_rewrite_create_loc_conf(pt_conf_t *cf);
static char *pt_http_rewrite_merge_loc_conf(pt_conf_t *cf, void *parent,
    void *child);
static pt_int_t pt_http_rewrite_init(pt_conf_t *cf);
static char *pt_http_rewrite_return(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_rewrite(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_rewrite_set(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_rewrite_if(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_rewrite_break(pt_conf_t *cf, pt_command_t *cmd, void *conf);

#define PT_HTTP_REWRITE_SCRIPT                                              \
    (PT_HTTP_SRV_CONF|PT_HTTP_SIF_CONF|PT_HTTP_LOC_CONF|PT_HTTP_LIF_CONF)

static pt_command_t  pt_http_rewrite_commands[] = {

    { pt_string("return"),
      PT_HTTP_REWRITE_SCRIPT|PT_CONF_TAKE12,
      pt_http_rewrite_return, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("rewrite"),
      PT_HTTP_REWRITE_SCRIPT|PT_CONF_TAKE23,
      pt_http_rewrite, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("set"),
      PT_HTTP_REWRITE_SCRIPT|PT_CONF_TAKE2,
      pt_http_rewrite_set, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("if"),
      PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_BLOCK|PT_CONF_1MORE,
      pt_http_rewrite_if, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("break"),
      PT_HTTP_REWRITE_SCRIPT|PT_CONF_NOARGS,
      pt_http_rewrite_break, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { pt_string("rewrite_log"),
      PT_HTTP_MAIN_CONF|PT_HTTP_REWRITE_SCRIPT|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_rewrite_loc_conf_t, log), NULL },

    { pt_string("uninitialized_variable_warn"),
      PT_HTTP_MAIN_CONF|PT_HTTP_REWRITE_SCRIPT|PT_CONF_FLAG,
      pt_conf_set_flag_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_rewrite_loc_conf_t, uninitialized_variable_warn), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_rewrite_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_rewrite_init,                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_rewrite_create_loc_conf,       /* create location configuration */
    pt_http_rewrite_merge_loc_conf         /* merge location configuration */
};

pt_module_t  pt_http_rewrite_module = {
    PT_MODULE_V1,
    &pt_http_rewrite_module_ctx,
    pt_http_rewrite_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_int_t
pt_http_rewrite_handler(pt_http_request_t *r)
{
    pt_http_script_engine_t      e;
    pt_http_core_srv_conf_t     *cscf;
    pt_http_core_main_conf_t    *cmcf;
    pt_http_rewrite_loc_conf_t  *rlcf;

    cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
    cscf = pt_http_get_module_srv_conf(r, pt_http_core_module);

    if (r->phase_handler == cmcf->phase_engine.location_rewrite_index
        && r->loc_conf == cscf->ctx->loc_conf)
    {
        /* no location matched: the server level already ran its script in
         * SERVER_REWRITE */
        return PT_DECLINED;
    }

    rlcf = pt_http_get_module_loc_conf(r, pt_http_rewrite_module);

    if (rlcf->codes == NULL) {
        return PT_DECLINED;
    }

    pt_memzero(&e, sizeof(pt_http_script_engine_t));
    e.request = r;
    e.status = PT_DECLINED;
    e.log = rlcf->log ? 1 : 0;

    pt_http_script_run(&e, rlcf->codes->elts);

    if (e.status < PT_HTTP_BAD_REQUEST) {
        return e.status;
    }

    if (r->err_status == 0) {
        return e.status;
    }

    return r->err_status;
}

/* The getter of a variable only "set" defines: empty until set, with a
 * warning when uninitialized_variable_warn is on. */
static pt_int_t
pt_http_rewrite_var(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_variable_t          *var;
    pt_http_core_main_conf_t    *cmcf;
    pt_http_rewrite_loc_conf_t  *rlcf;

    rlcf = pt_http_get_module_loc_conf(r, pt_http_rewrite_module);

    if (rlcf->uninitialized_variable_warn) {
        cmcf = pt_http_get_module_main_conf(r, pt_http_core_module);
        var = cmcf->variables.elts;

        pt_log_error(PT_LOG_WARN, r->connection->log, 0,
                     "using uninitialized \"" PT_STR_FMT "\" variable",
                     PT_STR_ARG(var[data].name));
    }

    *v = pt_http_variable_null_value;

    return PT_OK;
}

static void *
pt_http_rewrite_create_loc_conf(pt_conf_t *cf)
{
    pt_http_rewrite_loc_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_rewrite_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->codes = NULL;
    conf->log = PT_CONF_UNSET;
    conf->uninitialized_variable_warn = PT_CONF_UNSET;

    return conf;
}

static char *
pt_http_rewrite_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_rewrite_loc_conf_t *prev = parent;
    pt_http_rewrite_loc_conf_t *conf = child;

    pt_conf_merge_value(conf->log, prev->log, 0);
    pt_conf_merge_value(conf->uninitialized_variable_warn,
                        prev->uninitialized_variable_warn, 1);

    if (conf->codes == NULL) {
        return PT_CONF_OK;
    }

    /* each level is merged once: the script is complete, end it (the
     * blocks of "if" have none: theirs are in their parent's script) */
    if (pt_http_script_end_codes(cf->pool, &conf->codes) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static pt_int_t
pt_http_rewrite_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_SERVER_REWRITE_PHASE, pt_http_rewrite_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    if (pt_http_add_phase_handler(cf, PT_HTTP_REWRITE_PHASE, pt_http_rewrite_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}

/* A "return" argument or a "rewrite" replacement that is a redirect URL. */
static pt_uint_t
pt_http_rewrite_is_url(pt_str_t *v)
{
    return (v->len > 7 && pt_strncmp(v->data, "http://", 7) == 0)
           || (v->len > 8 && pt_strncmp(v->data, "https://", 8) == 0)
           || (v->len >= 7 && pt_strncmp(v->data, "$scheme", 7) == 0);
}

/* Compiles value into cv (NUL-terminated with zero). */
static pt_int_t
pt_http_rewrite_value(pt_conf_t *cf, pt_str_t *value, pt_http_complex_value_t *cv,
    pt_uint_t zero)
{
    pt_http_compile_complex_value_t  ccv;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;
    ccv.zero = zero;

    return pt_http_compile_complex_value(&ccv);
}

static char *
pt_http_rewrite_return(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_rewrite_loc_conf_t *lcf = conf;

    pt_int_t                       n;
    pt_str_t                      *value, *v;
    pt_http_script_return_code_t  *ret;

    value = cf->args->elts;

    ret = pt_http_script_start_code(cf->pool, &lcf->codes,
                                    sizeof(pt_http_script_return_code_t));
    if (ret == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(ret, sizeof(pt_http_script_return_code_t));
    ret->code = pt_http_script_return_code;

    n = pt_atoi(value[1].data, value[1].len);

    if (n == PT_ERROR) {
        if (cf->args->nelts == 2 && pt_http_rewrite_is_url(&value[1])) {
            ret->status = PT_HTTP_MOVED_TEMPORARILY;
            v = &value[1];

        } else {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid return code \""
                              PT_STR_FMT "\"", PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

    } else {
        if (n > 999) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid return code \""
                              PT_STR_FMT "\"", PT_STR_ARG(value[1]));
            return PT_CONF_ERROR;
        }

        ret->status = (uintptr_t) n;

        if (cf->args->nelts == 2) {
            return PT_CONF_OK;
        }

        v = &value[2];
    }

    if (pt_http_rewrite_value(cf, v, &ret->text, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

/* The flag of "rewrite" into code; PT_ERROR after logging. */
static pt_int_t
pt_http_rewrite_flag(pt_conf_t *cf, pt_str_t *flag,
    pt_http_script_rewrite_code_t *code)
{
    if (pt_str_eq_lit(flag, "last")) {
        code->stop = 1;

    } else if (pt_str_eq_lit(flag, "break")) {
        code->stop = 1;
        code->break_cycle = 1;

    } else if (pt_str_eq_lit(flag, "redirect")) {
        code->status = PT_HTTP_MOVED_TEMPORARILY;

    } else if (pt_str_eq_lit(flag, "permanent")) {
        code->status = PT_HTTP_MOVED_PERMANENTLY;

    } else {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"" PT_STR_FMT "\"",
                          PT_STR_ARG(*flag));
        return PT_ERROR;
    }

    return PT_OK;
}

/*
 * rewrite REGEX REPLACEMENT [FLAG].  As nginx: a replacement starting with
 * http://, https:// or $scheme is a redirect (302 unless "permanent"); the
 * request's arguments are appended unless the replacement ends with "?".
 */
static char *
pt_http_rewrite(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_rewrite_loc_conf_t *lcf = conf;

    pt_str_t                        *value, repl;
    pt_regex_compile_t               rc;
    pt_http_script_rewrite_code_t    code, *p;

    value = cf->args->elts;

    pt_memzero(&code, sizeof(pt_http_script_rewrite_code_t));
    code.code = pt_http_script_rewrite_code;

    pt_memzero(&rc, sizeof(pt_regex_compile_t));
    rc.pattern = value[1];

    code.regex = pt_http_regex_compile(cf, &rc);
    if (code.regex == NULL) {
        return PT_CONF_ERROR;
    }

    if (cf->args->nelts == 4 && pt_http_rewrite_flag(cf, &value[3], &code) != PT_OK) {
        return PT_CONF_ERROR;
    }

    repl = value[2];

    if (pt_http_rewrite_is_url(&repl) && code.status == 0) {
        code.status = PT_HTTP_MOVED_TEMPORARILY;
    }

    code.add_args = 1;

    if (repl.len && repl.data[repl.len - 1] == '?') {
        /* "...?": the request's arguments are not appended */
        repl.len--;
        code.add_args = 0;
    }

    code.has_args = pt_strlchr(repl.data, repl.data + repl.len, '?') ? 1 : 0;

    if (pt_http_rewrite_value(cf, &repl, &code.replacement, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    p = pt_http_script_start_code(cf->pool, &lcf->codes,
                                  sizeof(pt_http_script_rewrite_code_t));
    if (p == NULL) {
        return PT_CONF_ERROR;
    }

    *p = code;

    return PT_CONF_OK;
}

static char *
pt_http_rewrite_set(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_rewrite_loc_conf_t *lcf = conf;

    pt_int_t                    index;
    pt_str_t                   *value, name;
    pt_http_variable_t         *v;
    pt_http_script_set_code_t   code, *p;

    value = cf->args->elts;

    if (pt_http_variable_arg(cf, &value[1], &name) != PT_OK) {
        return PT_CONF_ERROR;
    }

    /* an existing variable must be changeable ("set $uri" is refused) */
    v = pt_http_add_variable(cf, &name, PT_HTTP_VAR_CHANGEABLE|PT_HTTP_VAR_WEAK);
    if (v == NULL) {
        return PT_CONF_ERROR;
    }

    index = pt_http_get_variable_index(cf, &name);
    if (index == PT_ERROR) {
        return PT_CONF_ERROR;
    }

    if (v->get_handler == NULL) {
        v->get_handler = pt_http_rewrite_var;
        v->data = (uintptr_t) index;
    }

    pt_memzero(&code, sizeof(pt_http_script_set_code_t));
    code.code = pt_http_script_set_code;
    code.index = (uintptr_t) index;
    code.set_handler = v->set_handler;
    code.data = v->data;

    if (pt_http_rewrite_value(cf, &value[2], &code.value, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    p = pt_http_script_start_code(cf->pool, &lcf->codes,
                                  sizeof(pt_http_script_set_code_t));
    if (p == NULL) {
        return PT_CONF_ERROR;
    }

    *p = code;

    return PT_CONF_OK;
}

static char *
pt_http_rewrite_break(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_rewrite_loc_conf_t *lcf = conf;

    pt_http_script_code_pt  *code;

    code = pt_http_script_start_code(cf->pool, &lcf->codes,
                                     sizeof(pt_http_script_code_pt));
    if (code == NULL) {
        return PT_CONF_ERROR;
    }

    *code = pt_http_script_break_code;

    return PT_CONF_OK;
}

/* ---- if ---- */

/* The file tests of "if": "-f", "!-f", ... */
static pt_int_t
pt_http_rewrite_file_test(pt_str_t *op, pt_http_script_if_code_t *code)
{
    u_char  *p;

    p = op->data;

    if (op->len == 3 && p[0] == '!') {
        code->negative = 1;
        p++;
    } else if (op->len != 2) {
        return PT_DECLINED;
    }

    if (p[0] != '-') {
        return PT_DECLINED;
    }

    switch (p[1]) {
    case 'f':
        code->type = PT_HTTP_IF_FILE;
        return PT_OK;
    case 'd':
        code->type = PT_HTTP_IF_DIR;
        return PT_OK;
    case 'e':
        code->type = PT_HTTP_IF_EXISTS;
        return PT_OK;
    case 'x':
        code->type = PT_HTTP_IF_EXEC;
        return PT_OK;
    }

    return PT_DECLINED;
}

/* "($var OP operand)" after the variable: "=", "!=", "~", "~*", "!~",
 * "!~*". */
static pt_int_t
pt_http_rewrite_comparison(pt_conf_t *cf, pt_str_t *op, pt_str_t *operand,
    pt_http_script_if_code_t *code)
{
    pt_uint_t           negative;
    pt_regex_compile_t  rc;

    if (pt_str_eq_lit(op, "=") || pt_str_eq_lit(op, "!=")) {
        code->type = (op->len == 1) ? PT_HTTP_IF_EQ : PT_HTTP_IF_NE;
        return pt_http_rewrite_value(cf, operand, &code->operand, 0);
    }

    negative = (op->len && op->data[0] == '!');

    if (!(pt_str_eq_lit(op, "~") || pt_str_eq_lit(op, "~*")
          || pt_str_eq_lit(op, "!~") || pt_str_eq_lit(op, "!~*")))
    {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "unexpected \"" PT_STR_FMT "\" in condition", PT_STR_ARG(*op));
        return PT_ERROR;
    }

    code->type = negative ? PT_HTTP_IF_NOT_REGEX : PT_HTTP_IF_REGEX;

    pt_memzero(&rc, sizeof(pt_regex_compile_t));
    rc.pattern = *operand;
    rc.options = (op->data[op->len - 1] == '*') ? PT_REGEX_CASELESS : 0;

    code->regex = pt_http_regex_compile(cf, &rc);

    return code->regex ? PT_OK : PT_ERROR;
}

/*
 * The condition of "if", as nginx writes it: the words between "(" and
 * ")" (which may be words of their own or stick to the first and last
 * word): "$var", "$var OP operand", or "-f path" and the other file tests.
 */
static pt_int_t
pt_http_rewrite_if_condition(pt_conf_t *cf, pt_http_script_if_code_t *code)
{
    pt_str_t   *value, *first, *last;
    pt_uint_t   cur, end;

    value = cf->args->elts;
    cur = 1;
    end = cf->args->nelts - 1;

    first = &value[cur];
    last = &value[end];

    if (first->len == 0 || first->data[0] != '(') {
        goto invalid;
    }

    if (last->len == 0 || last->data[last->len - 1] != ')') {
        first = last;
        goto invalid;
    }

    /* strip the parentheses; a bare "(" or ")" disappears */
    last->len--;
    if (last->len == 0) {
        end--;
    }

    first->data++;
    first->len--;
    if (first->len == 0) {
        cur++;
    }

    if (cur > end) {
        goto invalid;
    }

    if (value[cur].len > 1 && value[cur].data[0] == '$') {
        if (pt_http_rewrite_value(cf, &value[cur], &code->value, 0) != PT_OK) {
            return PT_ERROR;
        }

        if (cur == end) {
            code->type = PT_HTTP_IF_VAR;
            return PT_OK;
        }

        if (cur + 2 != end) {
            first = &value[cur];
            goto invalid;
        }

        return pt_http_rewrite_comparison(cf, &value[cur + 1], &value[end], code);
    }

    if (cur + 1 == end && pt_http_rewrite_file_test(&value[cur], code) == PT_OK) {
        return pt_http_rewrite_value(cf, &value[end], &code->value, 1);
    }

    first = &value[cur];

invalid:

    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid condition \"" PT_STR_FMT "\"",
                      PT_STR_ARG(*first));
    return PT_ERROR;
}

/* The block of "if": a location-like level, merged with its parent, never
 * searched; its rewrite directives go to the parent's script. */
static pt_http_conf_ctx_t *
pt_http_rewrite_if_block(pt_conf_t *cf)
{
    pt_http_conf_ctx_t       *ctx, *pctx;
    pt_http_core_loc_conf_t  *clcf, *pclcf;

    ctx = pt_http_core_create_block_ctx(cf, 0);
    if (ctx == NULL) {
        return NULL;
    }

    pctx = cf->ctx;
    pclcf = pctx->loc_conf[pt_http_core_module.ctx_index];

    clcf = ctx->loc_conf[pt_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->name = pclcf->name;
    clcf->noname = 1;

    if (pt_http_add_location(cf, &pclcf->locations, clcf) != PT_OK) {
        return NULL;
    }

    return ctx;
}

static char *
pt_http_rewrite_if(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_rewrite_loc_conf_t *lcf = conf;

    char                        *rv;
    size_t                       offset;
    pt_conf_t                    pcf;
    pt_uint_t                    in_location;
    pt_http_conf_ctx_t          *ctx;
    pt_http_script_if_code_t     code, *p;
    pt_http_rewrite_loc_conf_t  *nlcf;

    in_location = (cf->cmd_type == PT_HTTP_LOC_CONF);

    ctx = pt_http_rewrite_if_block(cf);
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&code, sizeof(pt_http_script_if_code_t));
    code.code = pt_http_script_if_code;
    code.loc_conf = in_location ? ctx->loc_conf : NULL;

    if (pt_http_rewrite_if_condition(cf, &code) != PT_OK) {
        return PT_CONF_ERROR;
    }

    offset = lcf->codes ? lcf->codes->nelts : 0;

    p = pt_http_script_start_code(cf->pool, &lcf->codes,
                                  sizeof(pt_http_script_if_code_t));
    if (p == NULL) {
        return PT_CONF_ERROR;
    }

    *p = code;

    /* the block's directives compile into the same array */
    nlcf = ctx->loc_conf[pt_http_rewrite_module.ctx_index];
    nlcf->codes = lcf->codes;

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = in_location ? PT_HTTP_LIF_CONF : PT_HTTP_SIF_CONF;

    rv = pt_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != PT_CONF_OK) {
        return rv;
    }

    /* the array may have moved while the block grew it */
    p = (pt_http_script_if_code_t *) ((u_char *) lcf->codes->elts + offset);
    p->next = lcf->codes->nelts - offset;

    nlcf->codes = NULL;

    return PT_CONF_OK;
}
