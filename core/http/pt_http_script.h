/*
 * pt_http_script.h: complex values and the script engine.
 *
 * A complex value is a string with "$var" / "${var}" parts ("return 200
 * 'hello $remote_addr'"), compiled at config time into a list of literal
 * and variable parts and evaluated per request.  A value without variables
 * is kept as a plain literal and costs nothing to evaluate.
 *
 * The script engine runs the compiled code of the rewrite module: a byte
 * array of code structs, each starting with its function pointer, ended by
 * a NULL pointer.  A code does its work and advances e->ip past itself (or
 * sets e->ip to pt_http_script_exit to stop).  The codes are "return",
 * "rewrite", "set", "if" (which jumps over its block when the condition is
 * false) and "break".
 *
 * Regular expressions of the HTTP engine (locations, server names,
 * rewrite, if) go through pt_http_regex_t: a match stores the captures in
 * the request ($1..$9 in complex values) and assigns the named captures,
 * "(?<name>...)", to the variables of the same name.
 */

#ifndef PT_HTTP_SCRIPT_H
#define PT_HTTP_SCRIPT_H

#define PT_HTTP_CV_LITERAL   0
#define PT_HTTP_CV_VARIABLE  1
#define PT_HTTP_CV_CAPTURE   2      /* $0..$9: of the last regex match */

typedef struct {
    pt_uint_t     type;
    pt_uint_t     index;            /* variable index or capture number */
    pt_str_t      text;             /* literal text */
} pt_http_cv_part_t;

typedef struct {
    pt_str_t             value;     /* the source (the literal if no parts) */
    pt_http_cv_part_t   *parts;     /* NULL: a plain literal */
    pt_uint_t            nparts;
    size_t               size;      /* literal parsed as a size, if asked */
    unsigned             zero:1;    /* results end with a NUL (not in len) */
} pt_http_complex_value_t;

typedef struct {
    pt_conf_t                  *cf;
    pt_str_t                   *value;
    pt_http_complex_value_t    *complex_value;

    unsigned                    zero:1;         /* NUL-terminate the result */
    unsigned                    conf_prefix:1;  /* relative to the conf dir */
    unsigned                    root_prefix:1;  /* relative to the prefix */
} pt_http_compile_complex_value_t;

/* Compiles ccv->value into ccv->complex_value.  PT_ERROR after logging a
 * config error ("unknown variable" is reported later, at init). */
pt_int_t pt_http_compile_complex_value(pt_http_compile_complex_value_t *ccv);
/* Evaluates cv for r into value (pool memory, or the literal itself). */
pt_int_t pt_http_complex_value(pt_http_request_t *r,
    pt_http_complex_value_t *cv, pt_str_t *value);
/* Evaluates a rewrite replacement: like pt_http_complex_value, but when the
 * request's uri had %-escapes or "+", captures copied after the first
 * literal "?" (the arguments), or anywhere when redirect is set (a URL),
 * are escaped again, as nginx does. */
pt_int_t pt_http_complex_value_escaped(pt_http_request_t *r,
    pt_http_complex_value_t *cv, pt_uint_t redirect, pt_str_t *value);
/* The same for a rewrite to a uri: *args points at the "?" that starts
 * the arguments in value (the first literal one, not one a capture or a
 * variable brought), or is NULL. */
pt_int_t pt_http_complex_value_args(pt_http_request_t *r,
    pt_http_complex_value_t *cv, pt_str_t *value, u_char **args);
/* Number of "$" in value: zero means a plain literal. */
pt_uint_t pt_http_script_variables_count(pt_str_t *value);
/* Directive setter: one argument compiled into a pt_http_complex_value_t*
 * at cmd->offset. */
char *pt_http_set_complex_value_slot(pt_conf_t *cf, pt_command_t *cmd,
    void *conf);

/* ---- regular expressions ---- */

typedef struct {
    pt_uint_t                   capture;    /* 2 * group number */
    pt_uint_t                   index;      /* the variable */
} pt_http_regex_variable_t;

typedef struct {
    pt_regex_t                 *regex;
    pt_uint_t                   ncaptures;
    pt_http_regex_variable_t   *variables;  /* the named captures */
    pt_uint_t                   nvariables;
    pt_str_t                    name;       /* the pattern, for logs */
} pt_http_regex_t;

/* Compiles rc->pattern (rc->pool is set here), defines a variable for each
 * named capture and sizes the requests' capture arrays.  NULL after logging
 * a config error. */
pt_http_regex_t *pt_http_regex_compile(pt_conf_t *cf, pt_regex_compile_t *rc);
/* Matches s (which must stay valid while the captures are used): PT_OK
 * (captures and named variables set), PT_DECLINED (no match), PT_ERROR. */
pt_int_t pt_http_regex_exec(pt_http_request_t *r, pt_http_regex_t *re,
    pt_str_t *s);

/* ---- the script engine ---- */

typedef struct {
    u_char                     *ip;         /* the current code */
    pt_http_request_t          *request;
    pt_int_t                    status;     /* PT_DECLINED: go on */

    unsigned                    log:1;      /* rewrite_log */
} pt_http_script_engine_t;

typedef void (*pt_http_script_code_pt)(pt_http_script_engine_t *e);

/* "return CODE [TEXT|URL]" */
typedef struct {
    pt_http_script_code_pt      code;
    uintptr_t                   status;
    pt_http_complex_value_t     text;
} pt_http_script_return_code_t;

/* "rewrite REGEX REPLACEMENT [FLAG]" */
typedef struct {
    pt_http_script_code_pt      code;
    pt_http_regex_t            *regex;
    pt_http_complex_value_t     replacement;    /* without a final "?" */
    uintptr_t                   status;         /* 301, 302: a redirect */

    unsigned                    stop:1;         /* last, break, a redirect */
    unsigned                    break_cycle:1;  /* break: keep the location */
    unsigned                    add_args:1;     /* no final "?" */
    unsigned                    has_args:1;     /* a "?" in the replacement */
} pt_http_script_rewrite_code_t;

/* "set $name VALUE" */
typedef struct {
    pt_http_script_code_pt      code;
    pt_http_complex_value_t     value;
    uintptr_t                   index;
    pt_http_set_variable_pt     set_handler;    /* NULL: store the value */
    uintptr_t                   data;
} pt_http_script_set_code_t;

/* The conditions of "if". */
#define PT_HTTP_IF_VAR          0       /* ($var): not "" and not "0" */
#define PT_HTTP_IF_EQ           1       /* ($var = value) */
#define PT_HTTP_IF_NE           2
#define PT_HTTP_IF_REGEX        3       /* ($var ~ regex), ~* */
#define PT_HTTP_IF_NOT_REGEX    4       /* !~, !~* */
#define PT_HTTP_IF_FILE         5       /* -f path */
#define PT_HTTP_IF_DIR          6       /* -d */
#define PT_HTTP_IF_EXISTS       7       /* -e */
#define PT_HTTP_IF_EXEC         8       /* -x */

/* "if (CONDITION) { ... }": the block's codes follow this one, and next is
 * the distance from this code to the first code after the block. */
typedef struct {
    pt_http_script_code_pt      code;
    uintptr_t                   type;           /* PT_HTTP_IF_* */
    uintptr_t                   negative;       /* "!-f" and friends */
    pt_http_complex_value_t     value;          /* the variable or path */
    pt_http_complex_value_t     operand;        /* "=", "!=" */
    pt_http_regex_t            *regex;          /* "~" and friends */
    void                      **loc_conf;       /* the block's, in a location */
    uintptr_t                   next;
} pt_http_script_if_code_t;

/* Appends size bytes for a new code to *codes (created on first use) and
 * returns them; NULL on allocation failure.  The array may move, so a
 * caller keeps offsets, not pointers, across two calls. */
void *pt_http_script_start_code(pt_pool_t *pool, pt_array_t **codes,
    size_t size);
/* Ends a code array with the NULL terminator. */
pt_int_t pt_http_script_end_codes(pt_pool_t *pool, pt_array_t **codes);
/* Runs codes until a code stops the engine or the terminator is reached. */
void pt_http_script_run(pt_http_script_engine_t *e, u_char *codes);

void pt_http_script_return_code(pt_http_script_engine_t *e);
void pt_http_script_rewrite_code(pt_http_script_engine_t *e);
void pt_http_script_set_code(pt_http_script_engine_t *e);
void pt_http_script_if_code(pt_http_script_engine_t *e);
void pt_http_script_break_code(pt_http_script_engine_t *e);

extern uintptr_t  pt_http_script_exit_code;
#define pt_http_script_exit  ((u_char *) &pt_http_script_exit_code)

#endif /* PT_HTTP_SCRIPT_H */
