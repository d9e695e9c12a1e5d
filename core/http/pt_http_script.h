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
 * sets e->ip to pt_http_script_exit to stop).  "return" is a code today;
 * "rewrite", "set", "if" and "break" become more codes in the same array.
 */

#ifndef PT_HTTP_SCRIPT_H
#define PT_HTTP_SCRIPT_H

#define PT_HTTP_CV_LITERAL   0
#define PT_HTTP_CV_VARIABLE  1
#define PT_HTTP_CV_CAPTURE   2      /* $1..$9: reserved for regexes */

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
/* Number of "$" in value: zero means a plain literal. */
pt_uint_t pt_http_script_variables_count(pt_str_t *value);
/* Directive setter: one argument compiled into a pt_http_complex_value_t*
 * at cmd->offset. */
char *pt_http_set_complex_value_slot(pt_conf_t *cf, pt_command_t *cmd,
    void *conf);

/* ---- the script engine ---- */

typedef struct {
    u_char                     *ip;         /* the current code */
    pt_http_request_t          *request;
    pt_int_t                    status;     /* PT_DECLINED: go on */

    /* Reserved for rewrite/set/if: the value stack and the output string. */
    pt_http_variable_value_t   *sp;
    pt_str_t                    buf;
    u_char                     *pos;

    unsigned                    flushed:1;
    unsigned                    log:1;
} pt_http_script_engine_t;

typedef void (*pt_http_script_code_pt)(pt_http_script_engine_t *e);

/* "return CODE [TEXT|URL]" */
typedef struct {
    pt_http_script_code_pt      code;
    uintptr_t                   status;
    pt_http_complex_value_t     text;
} pt_http_script_return_code_t;

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

extern uintptr_t  pt_http_script_exit_code;
#define pt_http_script_exit  ((u_char *) &pt_http_script_exit_code)

#endif /* PT_HTTP_SCRIPT_H */
