/*
 * pt_conf_file.c: the configuration parser.
 *
 * A file is read whole, then tokenized.  Each directive is looked up in the
 * directive tables of the modules whose type matches the current block;
 * context, argument count and the block/terminator form are checked here,
 * centrally, and only then is the module's setter called.  Every error names
 * the file and line, as nginx does.
 */

#include "portico.h"

typedef enum {
    PT_PARSE_FILE = 0,
    PT_PARSE_BLOCK,
    PT_PARSE_PARAM
} pt_conf_parse_type_e;

static char *pt_conf_parse_file(pt_conf_t *cf, pt_str_t *filename);
static char *pt_conf_parse_tokens(pt_conf_t *cf, pt_conf_parse_type_e type);
static pt_int_t pt_conf_read_token(pt_conf_t *cf);
static pt_int_t pt_conf_handler(pt_conf_t *cf, pt_int_t last);
static pt_int_t pt_conf_add_dump(pt_conf_t *cf, pt_str_t *name, pt_str_t *text);
static void pt_conf_flush_files(pt_cycle_t *cycle);

static pt_command_t  pt_conf_commands[] = {

    { pt_string("include"),
      PT_ANY_CONF | PT_CONF_TAKE1,
      pt_conf_include,
      0,
      0,
      NULL },

    pt_null_command
};

pt_module_t  pt_conf_module = {
    PT_MODULE_V1,
    NULL,
    pt_conf_commands,
    PT_CONF_MODULE,
    NULL, NULL, NULL, NULL, NULL
};

/* Argument-count flags indexed by the number of arguments. */
static const pt_uint_t  argument_number[] = {
    PT_CONF_NOARGS,
    PT_CONF_TAKE1,
    PT_CONF_TAKE2,
    PT_CONF_TAKE3,
    PT_CONF_TAKE4,
    PT_CONF_TAKE5,
    PT_CONF_TAKE6,
    PT_CONF_TAKE7
};

char *
pt_conf_param(pt_conf_t *cf)
{
    char            *rv;
    pt_buf_t         b;
    pt_conf_file_t   conf_file, *prev;
    pt_str_t        *param;

    param = &cf->cycle->conf_param;

    if (param->len == 0) {
        return PT_CONF_OK;
    }

    pt_memzero(&conf_file, sizeof(pt_conf_file_t));
    pt_memzero(&b, sizeof(pt_buf_t));

    b.start = param->data;
    b.pos = param->data;
    b.last = param->data + param->len;
    b.end = b.last;
    b.temporary = 1;

    conf_file.file.fd = PT_INVALID_FILE;
    pt_str_set(&conf_file.file.name, "command line");
    conf_file.line = 1;
    conf_file.param = 1;
    conf_file.buffer = &b;

    prev = cf->conf_file;
    cf->conf_file = &conf_file;

    rv = pt_conf_parse_tokens(cf, PT_PARSE_PARAM);

    cf->conf_file = prev;

    return rv;
}

/*
 * Parses a whole file (filename set) or the rest of the current block
 * (filename NULL).  The file is read into the cycle pool at once; tokens
 * are copied out of it, so the buffer's lifetime does not matter.  Both
 * recurse (a block directive's setter, an include), so each has a depth
 * limit: a file including itself or a runaway nesting of blocks is a
 * config error, not a stack overflow.
 */
char *
pt_conf_parse(pt_conf_t *cf, pt_str_t *filename)
{
    char            *rv;

    if (filename == NULL) {
        if (cf->block_depth >= PT_CONF_MAX_BLOCK_DEPTH) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "blocks nested too deep, more than %d levels",
                              PT_CONF_MAX_BLOCK_DEPTH);
            return PT_CONF_ERROR;
        }

        cf->block_depth++;
        rv = pt_conf_parse_tokens(cf, PT_PARSE_BLOCK);
        cf->block_depth--;

        return rv;
    }

    /* the main file is level 0, a file it includes level 1, ... */
    if (cf->include_depth > PT_CONF_MAX_INCLUDE_DEPTH) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "include nesting too deep, more than %d levels",
                          PT_CONF_MAX_INCLUDE_DEPTH);
        return PT_CONF_ERROR;
    }

    cf->include_depth++;
    rv = pt_conf_parse_file(cf, filename);
    cf->include_depth--;

    return rv;
}

/* Reads and parses one file, then restores the includer as current file. */
static char *
pt_conf_parse_file(pt_conf_t *cf, pt_str_t *filename)
{
    char            *rv;
    pt_buf_t         buf;
    pt_str_t         text;
    pt_conf_file_t  *prev, conf_file;

    if (pt_read_whole_file(cf->temp_pool, filename, &text) != PT_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, pt_errno,
                          "open() \"" PT_STR_FMT "\" failed",
                          PT_STR_ARG(*filename));
        return PT_CONF_ERROR;
    }

    if (pt_dump_config && pt_conf_add_dump(cf, filename, &text) != PT_OK) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&conf_file, sizeof(pt_conf_file_t));
    pt_memzero(&buf, sizeof(pt_buf_t));

    buf.start = text.data;
    buf.pos = text.data;
    buf.last = text.data + text.len;
    buf.end = buf.last;
    buf.temporary = 1;

    conf_file.file.fd = PT_INVALID_FILE;
    conf_file.file.name = *filename;
    conf_file.file.log = cf->log;
    conf_file.line = 1;
    conf_file.buffer = &buf;

    prev = cf->conf_file;
    cf->conf_file = &conf_file;

    rv = pt_conf_parse_tokens(cf, PT_PARSE_FILE);

    cf->conf_file = prev;

    return rv;
}

static char *
pt_conf_parse_tokens(pt_conf_t *cf, pt_conf_parse_type_e type)
{
    char      *rv;
    pt_int_t   rc;

    for ( ;; ) {
        rc = pt_conf_read_token(cf);

        if (rc == PT_ERROR) {
            return PT_CONF_ERROR;
        }

        if (rc == PT_CONF_BLOCK_DONE) {
            if (type != PT_PARSE_BLOCK) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unexpected \"}\"");
                return PT_CONF_ERROR;
            }
            return PT_CONF_OK;
        }

        if (rc == PT_CONF_FILE_DONE) {
            if (type == PT_PARSE_BLOCK) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "unexpected end of file, expecting \"}\"");
                return PT_CONF_ERROR;
            }
            return PT_CONF_OK;
        }

        if (rc == PT_CONF_BLOCK_START && type == PT_PARSE_PARAM) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "block directives are not supported "
                              "in -g option");
            return PT_CONF_ERROR;
        }

        /* rc is PT_OK (";") or PT_CONF_BLOCK_START ("{") */

        if (cf->handler) {
            /* A block with its own syntax (types {}, map {}): the handler
             * sees every line. */
            if (rc == PT_CONF_BLOCK_START) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unexpected \"{\"");
                return PT_CONF_ERROR;
            }

            rv = (*cf->handler)(cf, NULL, cf->handler_conf);
            if (rv == PT_CONF_OK) {
                continue;
            }
            if (rv != PT_CONF_ERROR) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "%s", rv);
            }
            return PT_CONF_ERROR;
        }

        if (pt_conf_handler(cf, rc) != PT_OK) {
            return PT_CONF_ERROR;
        }
    }
}

/* Checks the argument count of cmd against the tokens read. */
static pt_int_t
pt_conf_check_args(pt_conf_t *cf, pt_command_t *cmd)
{
    pt_uint_t  n;

    n = cf->args->nelts;

    if (cmd->type & PT_CONF_ANY) {
        return PT_OK;
    }
    if (cmd->type & PT_CONF_FLAG) {
        return n == 2 ? PT_OK : PT_ERROR;
    }
    if (cmd->type & PT_CONF_1MORE) {
        return n >= 2 ? PT_OK : PT_ERROR;
    }
    if (cmd->type & PT_CONF_2MORE) {
        return n >= 3 ? PT_OK : PT_ERROR;
    }
    if (n > PT_CONF_MAX_ARGS) {
        return PT_ERROR;
    }

    return (cmd->type & argument_number[n - 1]) ? PT_OK : PT_ERROR;
}

/* Finds the conf struct a directive writes, by nginx's convention. */
static void *
pt_conf_target(pt_conf_t *cf, pt_command_t *cmd, pt_module_t *module)
{
    void  **confp;

    if (cmd->type & PT_DIRECT_CONF) {
        return ((void **) cf->ctx)[module->index];
    }

    if (cmd->type & PT_MAIN_CONF) {
        return &(((void **) cf->ctx)[module->index]);
    }

    if (cf->ctx) {
        confp = *(void **) ((char *) cf->ctx + cmd->conf);
        if (confp) {
            return confp[module->ctx_index];
        }
    }

    return NULL;
}

/* True when any compiled-in module has a directive of this name, so a
 * directive in the wrong block is "not allowed here", not "unknown". */
static pt_uint_t
pt_conf_known_directive(pt_conf_t *cf, pt_str_t *name)
{
    pt_uint_t      i;
    pt_command_t  *cmd;

    for (i = 0; cf->cycle->modules[i]; i++) {
        for (cmd = cf->cycle->modules[i]->commands; cmd && cmd->name.len; cmd++) {
            if (name->len == cmd->name.len
                && pt_strcmp(name->data, cmd->name.data) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}

static pt_int_t
pt_conf_handler(pt_conf_t *cf, pt_int_t last)
{
    char          *rv;
    pt_uint_t      i, found;
    pt_str_t      *name;
    pt_command_t  *cmd;
    pt_module_t   *module;

    name = cf->args->elts;
    found = 0;

    for (i = 0; cf->cycle->modules[i]; i++) {

        module = cf->cycle->modules[i];

        if (module->type != PT_CONF_MODULE && module->type != cf->module_type) {
            continue;
        }

        for (cmd = module->commands; cmd && cmd->name.len; cmd++) {

            if (name->len != cmd->name.len
                || pt_strcmp(name->data, cmd->name.data) != 0)
            {
                continue;
            }

            found = 1;

            /* The same name may exist in another context ("server" in
             * http and in upstream): keep looking before complaining. */
            if (!(cmd->type & cf->cmd_type)) {
                continue;
            }

            if (!(cmd->type & PT_CONF_BLOCK) && last != PT_OK) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "\"%s\" directive is not terminated by \";\"",
                                  name->data);
                return PT_ERROR;
            }

            if ((cmd->type & PT_CONF_BLOCK) && last != PT_CONF_BLOCK_START) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "directive \"%s\" has no opening \"{\"",
                                  name->data);
                return PT_ERROR;
            }

            if (pt_conf_check_args(cf, cmd) != PT_OK) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "invalid number of arguments in \"%s\" "
                                  "directive", name->data);
                return PT_ERROR;
            }

            rv = cmd->set(cf, cmd, pt_conf_target(cf, cmd, module));

            if (rv == PT_CONF_OK) {
                return PT_OK;
            }

            if (rv == PT_CONF_ERROR) {
                return PT_ERROR;
            }

            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "\"%s\" directive %s",
                              name->data, rv);
            return PT_ERROR;
        }
    }

    if (found || pt_conf_known_directive(cf, name)) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"%s\" directive is not allowed here", name->data);
        return PT_ERROR;
    }

    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unknown directive \"%s\"",
                      name->data);
    return PT_ERROR;
}

/* Copies a token into the pool, NUL-terminated, undoing the escapes \" \'
 * \\ \t \r \n; any other escaped byte keeps its backslash (so regexes
 * reach PCRE intact). */
static pt_int_t
pt_conf_push_word(pt_conf_t *cf, u_char *start, u_char *end)
{
    u_char    *dst, *src;
    pt_str_t  *word;

    word = pt_array_push(cf->args);
    if (word == NULL) {
        return PT_ERROR;
    }

    word->data = pt_pnalloc(cf->pool, end - start + 1);
    if (word->data == NULL) {
        return PT_ERROR;
    }

    for (dst = word->data, src = start; src < end; ) {
        if (*src == '\\' && src + 1 < end) {
            switch (src[1]) {
            case '"': case '\'': case '\\':
                src++;
                break;
            case 't':
                *dst++ = '\t';
                src += 2;
                continue;
            case 'r':
                *dst++ = '\r';
                src += 2;
                continue;
            case 'n':
                *dst++ = '\n';
                src += 2;
                continue;
            default:
                *dst++ = *src++;
                break;
            }
        }
        *dst++ = *src++;
    }

    *dst = '\0';
    word->len = dst - word->data;

    return PT_OK;
}

#define pt_conf_is_space(ch) \
    ((ch) == ' ' || (ch) == '\t' || (ch) == CR || (ch) == LF)

/*
 * The tokenizer, a small state machine over the file buffer.  States:
 *   last_space     between words: the next non-space byte starts one;
 *   sharp_comment  inside a "#" comment, until LF;
 *   quoted         the byte after a backslash is taken literally;
 *   s_/d_quoted    inside '...' or "...";
 *   need_space     after a closing quote: only space, ";", "{" or the ")"
 *                  that closes the condition of an "if" may follow;
 *   variable       after "$", so "${name}" does not open a block.
 * Returns PT_OK at ";", PT_CONF_BLOCK_START at "{", PT_CONF_BLOCK_DONE at
 * "}", PT_CONF_FILE_DONE at the end, or PT_ERROR (already logged).
 */
static pt_int_t
pt_conf_read_token(pt_conf_t *cf)
{
    u_char     ch, *start;
    pt_buf_t  *b;
    pt_uint_t  found, need_space, last_space, sharp_comment, variable;
    pt_uint_t  quoted, s_quoted, d_quoted;

    found = 0;
    need_space = 0;
    last_space = 1;
    sharp_comment = 0;
    variable = 0;
    quoted = 0;
    s_quoted = 0;
    d_quoted = 0;

    cf->args->nelts = 0;
    b = cf->conf_file->buffer;
    start = b->pos;

    for ( ;; ) {

        if (b->pos >= b->last) {
            if (cf->args->nelts > 0 || !last_space) {
                if (cf->conf_file->param) {
                    pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                      "unexpected end of parameter, "
                                      "expecting \";\"");
                    return PT_ERROR;
                }

                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "unexpected end of file, "
                                  "expecting \";\" or \"}\"");
                return PT_ERROR;
            }

            return PT_CONF_FILE_DONE;
        }

        ch = *b->pos++;

        if (ch == LF) {
            cf->conf_file->line++;
            if (sharp_comment) {
                sharp_comment = 0;
            }
        }

        if (sharp_comment) {
            continue;
        }

        if (quoted) {
            quoted = 0;
            continue;
        }

        if (need_space) {
            if (pt_conf_is_space(ch)) {
                last_space = 1;
                need_space = 0;
                continue;
            }
            if (ch == ';') {
                return PT_OK;
            }
            if (ch == '{') {
                return PT_CONF_BLOCK_START;
            }
            if (ch == ')') {
                /* if ($a ~ "re") {: the ")" is a word of its own */
                need_space = 0;
                last_space = 0;
                start = b->pos - 1;
                continue;
            }

            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unexpected \"%c\"", ch);
            return PT_ERROR;
        }

        if (last_space) {
            start = b->pos - 1;

            if (pt_conf_is_space(ch)) {
                continue;
            }

            switch (ch) {

            case ';':
            case '{':
                if (cf->args->nelts == 0) {
                    pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                      "unexpected \"%c\"", ch);
                    return PT_ERROR;
                }
                return ch == '{' ? PT_CONF_BLOCK_START : PT_OK;

            case '}':
                if (cf->args->nelts != 0) {
                    pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                      "unexpected \"}\"");
                    return PT_ERROR;
                }
                return PT_CONF_BLOCK_DONE;

            case '#':
                sharp_comment = 1;
                continue;

            case '\\':
                quoted = 1;
                last_space = 0;
                continue;

            case '"':
                start++;
                d_quoted = 1;
                last_space = 0;
                continue;

            case '\'':
                start++;
                s_quoted = 1;
                last_space = 0;
                continue;

            case '$':
                variable = 1;
                last_space = 0;
                continue;

            default:
                last_space = 0;
            }

            continue;
        }

        if (ch == '{' && variable) {
            continue;
        }

        variable = 0;

        if (ch == '\\') {
            quoted = 1;
            continue;
        }

        if (ch == '$') {
            variable = 1;
            continue;
        }

        if (d_quoted) {
            if (ch == '"') {
                d_quoted = 0;
                need_space = 1;
                found = 1;
            }

        } else if (s_quoted) {
            if (ch == '\'') {
                s_quoted = 0;
                need_space = 1;
                found = 1;
            }

        } else if (pt_conf_is_space(ch) || ch == ';' || ch == '{') {
            last_space = 1;
            found = 1;
        }

        if (found) {
            if (pt_conf_push_word(cf, start, b->pos - 1) != PT_OK) {
                return PT_ERROR;
            }

            if (ch == ';') {
                return PT_OK;
            }
            if (ch == '{') {
                return PT_CONF_BLOCK_START;
            }

            found = 0;
        }
    }
}

char *
pt_conf_include(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char       *rv;
    pt_int_t    n;
    pt_str_t   *value, file, name;
    pt_glob_t   gl;

    value = cf->args->elts;
    file = value[1];

    if (pt_conf_full_name(cf->cycle, &file, 1) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (strpbrk((char *) file.data, "*?[") == NULL) {
        return pt_conf_parse(cf, &file);
    }

    pt_memzero(&gl, sizeof(pt_glob_t));
    gl.pattern = file.data;
    gl.test = 1;

    if (pt_open_glob(&gl) != PT_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, pt_errno,
                          "glob() \"%s\" failed", file.data);
        return PT_CONF_ERROR;
    }

    rv = PT_CONF_OK;

    for ( ;; ) {
        n = pt_read_glob(&gl, &name);
        if (n != PT_OK) {
            break;
        }

        /* glob() memory goes away at pt_close_glob(); parse a copy. */
        if (pt_pstrdup_z(cf->pool, &file, &name) != PT_OK) {
            rv = PT_CONF_ERROR;
            break;
        }

        rv = pt_conf_parse(cf, &file);
        if (rv != PT_CONF_OK) {
            break;
        }
    }

    pt_close_glob(&gl);

    return rv;
}

pt_int_t
pt_conf_full_name(pt_cycle_t *cycle, pt_str_t *name, pt_uint_t conf_prefix)
{
    pt_str_t  *prefix;

    prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;

    return pt_get_full_name(cycle->pool, prefix, name);
}

pt_open_file_t *
pt_conf_open_file(pt_cycle_t *cycle, pt_str_t *name)
{
    pt_str_t          full;
    pt_uint_t         i;
    pt_list_part_t   *part;
    pt_open_file_t   *file;

    full = *name;

    if (pt_conf_full_name(cycle, &full, 0) != PT_OK) {
        return NULL;
    }

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (full.len == file[i].name.len
            && pt_strcmp(full.data, file[i].name.data) == 0)
        {
            return &file[i];
        }
    }

    file = pt_list_push(&cycle->open_files);
    if (file == NULL) {
        return NULL;
    }

    file->fd = PT_INVALID_FILE;
    file->name = full;
    file->flush = NULL;
    file->data = NULL;

    return file;
}

static void
pt_conf_flush_files(pt_cycle_t *cycle)
{
    pt_uint_t         i;
    pt_list_part_t   *part;
    pt_open_file_t   *file;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].flush) {
            file[i].flush(&file[i], cycle->log);
        }
    }
}

/* Keeps a copy of every config file read, once each, for -T. */
static pt_int_t
pt_conf_add_dump(pt_conf_t *cf, pt_str_t *name, pt_str_t *text)
{
    pt_uint_t        i;
    pt_conf_dump_t  *cd;
    pt_buf_t        *b;

    cd = cf->cycle->config_dump.elts;

    for (i = 0; i < cf->cycle->config_dump.nelts; i++) {
        if (cd[i].name.len == name->len
            && pt_memcmp(cd[i].name.data, name->data, name->len) == 0)
        {
            return PT_OK;
        }
    }

    cd = pt_array_push(&cf->cycle->config_dump);
    if (cd == NULL) {
        return PT_ERROR;
    }

    if (pt_pstrdup_z(cf->cycle->pool, &cd->name, name) != PT_OK) {
        return PT_ERROR;
    }

    b = pt_create_temp_buf(cf->cycle->pool, text->len + 1);
    if (b == NULL) {
        return PT_ERROR;
    }

    b->last = pt_cpymem(b->pos, text->data, text->len);
    cd->buffer = b;

    return PT_OK;
}

/*
 * Copies an error message, writing control bytes as \xNN: a token of the
 * config can hold a newline or an escape sequence, and the error about it
 * must stay one line of the log.  Returns the end of the copy.
 */
static u_char *
pt_conf_escape_controls(u_char *dst, u_char *last, u_char *src, u_char *end)
{
    static const u_char  hex[] = "0123456789abcdef";

    for ( /* void */ ; src < end; src++) {
        if (*src >= 0x20 && *src != 0x7f) {
            if (dst == last) {
                break;
            }
            *dst++ = *src;
            continue;
        }

        if (last - dst < 4) {
            break;
        }
        *dst++ = '\\';
        *dst++ = 'x';
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src & 0xf];
    }

    return dst;
}

void
pt_conf_log_error(pt_uint_t level, pt_conf_t *cf, pt_err_t err,
    const char *fmt, ...)
{
    u_char   msg[PT_MAX_CONF_ERRSTR], errstr[PT_MAX_CONF_ERRSTR], *p, *last;
    va_list  args;

    last = errstr + PT_MAX_CONF_ERRSTR;

    va_start(args, fmt);
    p = pt_vslprintf(msg, msg + PT_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);

    p = pt_conf_escape_controls(errstr, last, msg, p);

    if (err) {
        p = pt_log_errno(p, last, err);
    }

    if (cf->conf_file == NULL) {
        pt_log_error(level, cf->log, 0, "%.*s", (int) (p - errstr), errstr);
        return;
    }

    if (cf->conf_file->param) {
        pt_log_error(level, cf->log, 0, "%.*s in command line",
                     (int) (p - errstr), errstr);
        return;
    }

    pt_log_error(level, cf->log, 0, "%.*s in " PT_STR_FMT ":%lu",
                 (int) (p - errstr), errstr,
                 PT_STR_ARG(cf->conf_file->file.name),
                 (unsigned long) cf->conf_file->line);
}

/* ---- generic setters ---- */

#define pt_conf_field(conf, cmd, type)  ((type *) ((char *) (conf) + (cmd)->offset))

static char *
pt_conf_run_post(pt_conf_t *cf, pt_command_t *cmd, void *field)
{
    pt_conf_post_t  *post;

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, field);
    }

    return PT_CONF_OK;
}

char *
pt_conf_set_flag_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t   *value;
    pt_flag_t  *fp;

    fp = pt_conf_field(conf, cmd, pt_flag_t);

    if (*fp != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (pt_strcasecmp(value[1].data, (u_char *) "on") == 0) {
        *fp = 1;

    } else if (pt_strcasecmp(value[1].data, (u_char *) "off") == 0) {
        *fp = 0;

    } else {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "invalid value \"%s\" in \"%s\" directive, "
                          "it must be \"on\" or \"off\"",
                          value[1].data, cmd->name.data);
        return PT_CONF_ERROR;
    }

    return pt_conf_run_post(cf, cmd, fp);
}

char *
pt_conf_set_str_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t  *field, *value;

    field = pt_conf_field(conf, cmd, pt_str_t);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *field = value[1];

    return pt_conf_run_post(cf, cmd, field);
}

char *
pt_conf_set_str_array_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t     *value, *s;
    pt_array_t  **a;

    a = pt_conf_field(conf, cmd, pt_array_t *);

    if (*a == PT_CONF_UNSET_PTR || *a == NULL) {
        *a = pt_array_create(cf->pool, 4, sizeof(pt_str_t));
        if (*a == NULL) {
            return PT_CONF_ERROR;
        }
    }

    s = pt_array_push(*a);
    if (s == NULL) {
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;
    *s = value[1];

    return pt_conf_run_post(cf, cmd, s);
}

char *
pt_conf_set_keyval_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t      *value;
    pt_array_t   **a;
    pt_keyval_t   *kv;

    a = pt_conf_field(conf, cmd, pt_array_t *);

    if (*a == PT_CONF_UNSET_PTR || *a == NULL) {
        *a = pt_array_create(cf->pool, 4, sizeof(pt_keyval_t));
        if (*a == NULL) {
            return PT_CONF_ERROR;
        }
    }

    kv = pt_array_push(*a);
    if (kv == NULL) {
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;
    kv->key = value[1];
    kv->value = value[2];

    return pt_conf_run_post(cf, cmd, kv);
}

char *
pt_conf_set_num_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_int_t  *np;
    pt_str_t  *value;

    np = pt_conf_field(conf, cmd, pt_int_t);

    if (*np != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *np = pt_atoi(value[1].data, value[1].len);
    if (*np == PT_ERROR) {
        return "invalid number";
    }

    return pt_conf_run_post(cf, cmd, np);
}

char *
pt_conf_set_size_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    size_t    *sp;
    ssize_t    n;
    pt_str_t  *value;

    sp = pt_conf_field(conf, cmd, size_t);

    if (*sp != PT_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = pt_parse_size(&value[1]);
    if (n == PT_ERROR) {
        return "invalid value";
    }
    *sp = (size_t) n;

    return pt_conf_run_post(cf, cmd, sp);
}

char *
pt_conf_set_off_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    off_t     *op;
    pt_str_t  *value;

    op = pt_conf_field(conf, cmd, off_t);

    if (*op != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *op = pt_parse_offset(&value[1]);
    if (*op == PT_ERROR) {
        return "invalid value";
    }

    return pt_conf_run_post(cf, cmd, op);
}

char *
pt_conf_set_msec_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_int_t    n;
    pt_msec_t  *msp;
    pt_str_t   *value;

    msp = pt_conf_field(conf, cmd, pt_msec_t);

    if (*msp != PT_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = pt_parse_time(&value[1], 0);
    if (n == PT_ERROR) {
        return "invalid value";
    }
    *msp = (pt_msec_t) n;

    return pt_conf_run_post(cf, cmd, msp);
}

char *
pt_conf_set_sec_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    time_t    *sp;
    pt_str_t  *value;

    sp = pt_conf_field(conf, cmd, time_t);

    if (*sp != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *sp = pt_parse_time(&value[1], 1);
    if (*sp == (time_t) PT_ERROR) {
        return "invalid value";
    }

    return pt_conf_run_post(cf, cmd, sp);
}

char *
pt_conf_set_bufs_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    ssize_t     size;
    pt_str_t   *value;
    pt_bufs_t  *bufs;

    bufs = pt_conf_field(conf, cmd, pt_bufs_t);

    if (bufs->num) {
        return "is duplicate";
    }

    value = cf->args->elts;

    bufs->num = pt_atoi(value[1].data, value[1].len);
    if (bufs->num == PT_ERROR || bufs->num == 0) {
        return "invalid value";
    }

    size = pt_parse_size(&value[2]);
    if (size == PT_ERROR || size == 0) {
        return "invalid value";
    }
    bufs->size = (size_t) size;

    return pt_conf_run_post(cf, cmd, bufs);
}

char *
pt_conf_set_enum_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_uint_t        *np, i;
    pt_str_t         *value;
    pt_conf_enum_t   *e;

    np = pt_conf_field(conf, cmd, pt_uint_t);

    if (*np != PT_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len == value[1].len
            && pt_strcasecmp(e[i].name.data, value[1].data) == 0)
        {
            *np = e[i].value;
            return PT_CONF_OK;
        }
    }

    /* nginx logs this at [warn], yet the config is rejected: say so at
     * the level of every other error that stops it */
    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"%s\"",
                      value[1].data);
    return PT_CONF_ERROR;
}

char *
pt_conf_set_bitmask_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_uint_t           *np, i, m;
    pt_str_t            *value;
    pt_conf_bitmask_t   *mask;

    np = pt_conf_field(conf, cmd, pt_uint_t);
    value = cf->args->elts;
    mask = cmd->post;

    for (i = 1; i < cf->args->nelts; i++) {
        for (m = 0; mask[m].name.len != 0; m++) {
            if (mask[m].name.len == value[i].len
                && pt_strcasecmp(mask[m].name.data, value[i].data) == 0)
            {
                break;
            }
        }

        if (mask[m].name.len == 0) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"%s\"",
                              value[i].data);
            return PT_CONF_ERROR;
        }

        if (*np & mask[m].mask) {
            pt_conf_log_error(PT_LOG_WARN, cf, 0, "duplicate value \"%s\"",
                              value[i].data);
        } else {
            *np |= mask[m].mask;
        }
    }

    return PT_CONF_OK;
}

char *
pt_conf_check_num_bounds(pt_conf_t *cf, void *post, void *data)
{
    pt_conf_num_bounds_t  *bounds = post;
    pt_int_t              *np = data;

    if (bounds->high == -1) {
        if (*np >= bounds->low) {
            return PT_CONF_OK;
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "value must be equal to or greater than %ld",
                          (long) bounds->low);
        return PT_CONF_ERROR;
    }

    if (*np >= bounds->low && *np <= bounds->high) {
        return PT_CONF_OK;
    }

    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "value must be between %ld and %ld",
                      (long) bounds->low, (long) bounds->high);
    return PT_CONF_ERROR;
}

/* Called when a cycle is released: flush buffered log files. */
void
pt_conf_flush_cycle_files(pt_cycle_t *cycle)
{
    pt_conf_flush_files(cycle);
}
