/*
 * pt_http_log_module.c: the access log.
 *
 *   log_format NAME [escape=default|json|none] STRING ...;   (http level)
 *   access_log PATH [FORMAT [buffer=SIZE] [flush=TIME] [if=COND]];
 *   access_log off;
 *
 * A format compiles to a list of ops (literal text or an indexed variable).
 * The LOG phase handler sizes the line, builds it in the request pool and
 * writes it with one write(), or appends it to the file's buffer when the
 * log is buffered (flushed when full, after flush=TIME, on USR1 and when
 * the worker exits).  Files are opened by the cycle (pt_conf_open_file), so
 * USR1 reopens them (after flushing their buffers).  A path with variables
 * is evaluated per line and opened and closed by the worker each time (no
 * open log file cache), never buffered.  "combined" is predefined, as in
 * nginx.
 */

#include "pt_http.h"

#define PT_HTTP_LOG_ESCAPE_DEFAULT  0
#define PT_HTTP_LOG_ESCAPE_JSON     1
#define PT_HTTP_LOG_ESCAPE_NONE     2

typedef struct {
    pt_str_t             text;          /* literal, when index is unset */
    pt_int_t             index;         /* variable index or -1 */
} pt_http_log_op_t;

typedef struct {
    pt_str_t             name;
    pt_uint_t            escape;
    pt_array_t          *ops;           /* of pt_http_log_op_t */
} pt_http_log_fmt_t;

typedef struct {
    pt_array_t           formats;       /* of pt_http_log_fmt_t */
    pt_uint_t            combined_used;
} pt_http_log_main_conf_t;

/* A buffered file's buffer, in pt_open_file_t.data. */
typedef struct {
    u_char              *start;
    u_char              *pos;
    u_char              *last;
    pt_event_t          *event;         /* flush=TIME timer */
    pt_msec_t            flush;
} pt_http_log_buf_t;

typedef struct {
    pt_open_file_t             *file;       /* NULL: the path has variables */
    pt_http_complex_value_t    *path;       /* ... evaluated per line */
    pt_http_log_fmt_t          *format;
    pt_http_complex_value_t    *filter;     /* if=COND */
    time_t                      error_log_time;
} pt_http_log_t;

typedef struct {
    pt_array_t          *logs;          /* of pt_http_log_t; NULL: unset */
    pt_uint_t            off;
} pt_http_log_loc_conf_t;

static pt_int_t pt_http_log_init(pt_conf_t *cf);
static void *pt_http_log_create_main_conf(pt_conf_t *cf);
static void *pt_http_log_create_loc_conf(pt_conf_t *cf);
static char *pt_http_log_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);
static char *pt_http_log_set_format(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_http_log_set_log(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static void pt_http_log_exit_process(pt_cycle_t *cycle);
static void pt_http_log_flush(pt_open_file_t *file, pt_log_t *log);

static pt_command_t  pt_http_log_commands[] = {

    { pt_string("log_format"),
      PT_HTTP_MAIN_CONF|PT_CONF_2MORE,
      pt_http_log_set_format, PT_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { pt_string("access_log"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_HTTP_LIF_CONF
      |PT_HTTP_LMT_CONF|PT_CONF_1MORE,
      pt_http_log_set_log, PT_HTTP_LOC_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_log_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_log_init,                      /* postconfiguration */
    pt_http_log_create_main_conf,          /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_log_create_loc_conf,           /* create location configuration */
    pt_http_log_merge_loc_conf             /* merge location configuration */
};

pt_module_t  pt_http_log_module = {
    PT_MODULE_V1,
    &pt_http_log_module_ctx,
    pt_http_log_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    pt_http_log_exit_process,              /* exit process */
    NULL                                   /* exit master */
};

static pt_str_t  pt_http_combined_fmt = pt_string(
    "$remote_addr - $remote_user [$time_local] "
    "\"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\"");

#ifndef PT_HTTP_LOG_PATH
#define PT_HTTP_LOG_PATH  "logs/access.log"
#endif

static pt_str_t  pt_http_access_log = pt_string(PT_HTTP_LOG_PATH);

static const char  pt_http_log_hex[] = "0123456789ABCDEF";

/* ---- escaping ---- */

/*
 * The bytes each escaping adds for a byte value (0: copied as it is); a
 * table lookup per byte instead of a chain of compares, and no branch in
 * the sizing loop.
 *   default (nginx's): '"', '\' and bytes outside 0x20..0x7e become \xHH
 *   json: '"', '\' and control bytes get a JSON escape (\n, \u00HH, ...)
 */
static const u_char  pt_http_log_extra_default[256] = {
    [0x00 ... 0x1f] = 3, ['"'] = 3, ['\\'] = 3, [0x7f ... 0xff] = 3
};

static const u_char  pt_http_log_extra_json[256] = {
    [0x00 ... 0x07] = 5, ['\b'] = 1, ['\t'] = 1, ['\n'] = 1, [0x0b] = 5,
    ['\f'] = 1, ['\r'] = 1, [0x0e ... 0x1f] = 5, ['"'] = 1, ['\\'] = 1
};

/* The escaped length of src (the sizing pass of a line). */
static size_t
pt_http_log_escaped_len(pt_uint_t escape, u_char *src, size_t len)
{
    size_t         i, n;
    const u_char  *extra;

    if (escape == PT_HTTP_LOG_ESCAPE_NONE) {
        return len;
    }

    extra = (escape == PT_HTTP_LOG_ESCAPE_DEFAULT) ? pt_http_log_extra_default
                                                   : pt_http_log_extra_json;
    n = len;

    for (i = 0; i < len; i++) {
        n += extra[src[i]];
    }

    return n;
}

/* Writes one escaped byte. */
static u_char *
pt_http_log_escape_byte(pt_uint_t escape, u_char *dst, u_char ch)
{
    if (escape == PT_HTTP_LOG_ESCAPE_DEFAULT) {
        *dst++ = '\\';
        *dst++ = 'x';
        *dst++ = pt_http_log_hex[ch >> 4];
        *dst++ = pt_http_log_hex[ch & 0xf];
        return dst;
    }

    switch (ch) {
    case '"': *dst++ = '\\'; *dst++ = '"'; break;
    case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
    case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
    case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
    case '\t': *dst++ = '\\'; *dst++ = 't'; break;
    case '\b': *dst++ = '\\'; *dst++ = 'b'; break;
    case '\f': *dst++ = '\\'; *dst++ = 'f'; break;
    default:
        dst = pt_cpymem(dst, "\\u00", 4);
        *dst++ = pt_http_log_hex[ch >> 4];
        *dst++ = pt_http_log_hex[ch & 0xf];
    }

    return dst;
}

/* Copies src escaped: runs of plain bytes go with one memcpy each. */
static u_char *
pt_http_log_escape(pt_uint_t escape, u_char *dst, u_char *src, size_t len)
{
    u_char        *end, *run;
    const u_char  *extra;

    if (escape == PT_HTTP_LOG_ESCAPE_NONE) {
        return pt_cpymem(dst, src, len);
    }

    extra = (escape == PT_HTTP_LOG_ESCAPE_DEFAULT) ? pt_http_log_extra_default
                                                   : pt_http_log_extra_json;
    end = src + len;

    while (src < end) {
        run = src;

        while (src < end && extra[*src] == 0) {
            src++;
        }

        dst = pt_cpymem(dst, run, src - run);

        if (src < end) {
            dst = pt_http_log_escape_byte(escape, dst, *src++);
        }
    }

    return dst;
}

/* ---- the LOG phase ---- */

/* Length of one line of fmt for r ("-" for a missing variable, nothing with
 * escape=json).  *plain: no value needs escaping, so the writing pass
 * copies them as they are. */
static size_t
pt_http_log_line_len(pt_http_request_t *r, pt_http_log_fmt_t *fmt, pt_uint_t *plain)
{
    size_t                     len, raw;
    pt_uint_t                  i;
    pt_http_log_op_t          *op;
    pt_http_variable_value_t  *v;

    len = 1;    /* the newline */
    raw = 1;
    op = fmt->ops->elts;

    for (i = 0; i < fmt->ops->nelts; i++) {
        if (op[i].index < 0) {
            len += op[i].text.len;
            raw += op[i].text.len;
            continue;
        }

        v = pt_http_get_flushed_variable(r, (pt_uint_t) op[i].index);

        if (v == NULL || v->not_found) {
            len += (fmt->escape == PT_HTTP_LOG_ESCAPE_JSON) ? 0 : 1;
            raw += (fmt->escape == PT_HTTP_LOG_ESCAPE_JSON) ? 0 : 1;
        } else {
            len += pt_http_log_escaped_len(fmt->escape, v->data, v->len);
            raw += v->len;
        }
    }

    *plain = (len == raw);

    return len;
}

/* Writes the line; the variables were evaluated (and cached) by _len. */
static u_char *
pt_http_log_line(pt_http_request_t *r, pt_http_log_fmt_t *fmt, u_char *p,
    pt_uint_t plain)
{
    pt_uint_t                  i, escape;
    pt_http_log_op_t          *op;
    pt_http_variable_value_t  *v;

    op = fmt->ops->elts;
    escape = plain ? PT_HTTP_LOG_ESCAPE_NONE : fmt->escape;

    for (i = 0; i < fmt->ops->nelts; i++) {
        if (op[i].index < 0) {
            p = pt_cpymem(p, op[i].text.data, op[i].text.len);
            continue;
        }

        v = pt_http_get_indexed_variable(r, (pt_uint_t) op[i].index);

        if (v == NULL || v->not_found) {
            if (fmt->escape != PT_HTTP_LOG_ESCAPE_JSON) {
                *p++ = '-';
            }
        } else {
            p = pt_http_log_escape(escape, p, v->data, v->len);
        }
    }

    *p++ = LF;

    return p;
}

/*
 * A path with variables: evaluated, checked and opened for every line (no
 * cache, so it costs an open() and a close() per request: meant for
 * splitting logs by server or day, not for the hot path).  The worker
 * opens it, so its user needs write access to the folder.  A value that
 * would climb out with ".." or holds a NUL is refused.
 */
static pt_fd_t
pt_http_log_open_path(pt_http_request_t *r, pt_http_log_t *log, pt_str_t *name)
{
    pt_fd_t  fd;

    if (pt_http_complex_value(r, log->path, name) != PT_OK) {
        return PT_INVALID_FILE;
    }

    if (!pt_http_uri_is_safe(name)) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "access log path \"" PT_STR_FMT "\" is unsafe, not written",
                     PT_STR_ARG(*name));
        return PT_INVALID_FILE;
    }

    fd = pt_open_append(name->data);

    if (fd == PT_INVALID_FILE && pt_time() - log->error_log_time > 59) {
        pt_log_error(PT_LOG_ERR, r->connection->log, pt_errno,
                     "open() \"%s\" failed", name->data);
        log->error_log_time = pt_time();
    }

    return fd;
}

static void
pt_http_log_write(pt_http_request_t *r, pt_http_log_t *log, u_char *buf, size_t len)
{
    ssize_t   n;
    time_t    now;
    pt_fd_t   fd;
    pt_str_t  name;

    if (log->path) {
        fd = pt_http_log_open_path(r, log, &name);
        if (fd == PT_INVALID_FILE) {
            return;
        }

    } else {
        fd = log->file->fd;
        name = log->file->name;
    }

    n = pt_write_fd(fd, buf, len);

    if (log->path) {
        (void) close(fd);
    }

    if (n == (ssize_t) len) {
        return;
    }

    now = pt_time();

    /* at most one complaint a minute per log */
    if (now - log->error_log_time > 59) {
        if (n == -1) {
            pt_log_error(PT_LOG_ALERT, r->connection->log, pt_errno,
                         "write() to \"%s\" failed", name.data);
        } else {
            pt_log_error(PT_LOG_ALERT, r->connection->log, 0,
                         "write() to \"%s\" was incomplete: %zd of %zu",
                         name.data, n, len);
        }
        log->error_log_time = now;
    }
}

/* if=COND: the line is skipped when COND is empty or "0". */
static pt_int_t
pt_http_log_filtered(pt_http_request_t *r, pt_http_log_t *log)
{
    pt_str_t  val;

    if (log->filter == NULL) {
        return 0;
    }

    if (pt_http_complex_value(r, log->filter, &val) != PT_OK) {
        return 1;
    }

    return val.len == 0 || (val.len == 1 && val.data[0] == '0');
}

static pt_int_t
pt_http_log_handler(pt_http_request_t *r)
{
    size_t                   len;
    u_char                  *line, *p;
    pt_uint_t                i, plain;
    pt_http_log_t           *log;
    pt_http_log_buf_t       *buffer;
    pt_http_log_loc_conf_t  *lcf;

    lcf = pt_http_get_module_loc_conf(r, pt_http_log_module);

    if (lcf->off || lcf->logs == NULL) {
        return PT_OK;
    }

    log = lcf->logs->elts;

    for (i = 0; i < lcf->logs->nelts; i++) {

        if ((log[i].file && log[i].file->fd == PT_INVALID_FILE)
            || pt_http_log_filtered(r, &log[i]))
        {
            continue;
        }

        len = pt_http_log_line_len(r, log[i].format, &plain);

        buffer = log[i].file ? log[i].file->data : NULL;

        if (buffer) {
            if (len > (size_t) (buffer->last - buffer->pos)) {
                pt_http_log_flush(log[i].file, r->connection->log);
            }

            if (len <= (size_t) (buffer->last - buffer->pos)) {
                if (buffer->event && buffer->pos == buffer->start) {
                    pt_event_add_timer(buffer->event, buffer->flush);
                }

                buffer->pos = pt_http_log_line(r, log[i].format, buffer->pos, plain);
                continue;
            }

            /* a line longer than the buffer goes out directly */
        }

        line = pt_pnalloc(r->pool, len);
        if (line == NULL) {
            return PT_ERROR;
        }

        p = pt_http_log_line(r, log[i].format, line, plain);

        pt_http_log_write(r, &log[i], line, p - line);
    }

    return PT_OK;
}

/* ---- buffered logs ---- */

static void
pt_http_log_flush(pt_open_file_t *file, pt_log_t *log)
{
    size_t              len;
    ssize_t             n;
    pt_http_log_buf_t  *buffer;

    buffer = file->data;

    if (buffer == NULL) {
        return;
    }

    len = buffer->pos - buffer->start;

    if (len == 0) {
        return;
    }

    if (file->fd != PT_INVALID_FILE) {
        n = pt_write_fd(file->fd, buffer->start, len);

        if (n == -1) {
            pt_log_error(PT_LOG_ALERT, log, pt_errno, "write() to \"%s\" failed",
                         file->name.data);

        } else if ((size_t) n != len) {
            pt_log_error(PT_LOG_ALERT, log, 0,
                         "write() to \"%s\" was incomplete: %zd of %zu",
                         file->name.data, n, len);
        }
    }

    buffer->pos = buffer->start;

    if (buffer->event && buffer->event->timer_set) {
        pt_event_del_timer(buffer->event);
    }
}

static void
pt_http_log_flush_handler(pt_event_t *ev)
{
    pt_http_log_flush(ev->data, ev->log);
}

static void
pt_http_log_exit_process(pt_cycle_t *cycle)
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

        if (file[i].flush == pt_http_log_flush) {
            pt_http_log_flush(&file[i], cycle->log);
        }
    }
}

/* ---- configuration ---- */

/* Compiles the format text into ops. */
static char *
pt_http_log_compile_format(pt_conf_t *cf, pt_http_log_fmt_t *fmt, pt_str_t *text)
{
    size_t             i, start;
    pt_int_t           index;
    pt_uint_t          bracket;
    pt_str_t           name;
    pt_http_log_op_t  *op;
    u_char             ch;

    fmt->ops = pt_array_create(cf->pool, 16, sizeof(pt_http_log_op_t));
    if (fmt->ops == NULL) {
        return PT_CONF_ERROR;
    }

    i = 0;

    while (i < text->len) {
        op = pt_array_push(fmt->ops);
        if (op == NULL) {
            return PT_CONF_ERROR;
        }

        if (text->data[i] != '$') {
            start = i;
            while (i < text->len && text->data[i] != '$') {
                i++;
            }
            op->index = -1;
            op->text.data = text->data + start;
            op->text.len = i - start;
            continue;
        }

        i++;
        bracket = 0;

        if (i < text->len && text->data[i] == '{') {
            bracket = 1;
            i++;
        }

        name.data = text->data + i;

        while (i < text->len) {
            ch = text->data[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                  || (ch >= '0' && ch <= '9') || ch == '_'))
            {
                break;
            }
            i++;
        }

        name.len = text->data + i - name.data;

        if (bracket) {
            if (i >= text->len || text->data[i] != '}') {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                                  "the closing bracket in \"" PT_STR_FMT
                                  "\" variable is missing", PT_STR_ARG(name));
                return PT_CONF_ERROR;
            }
            i++;
        }

        if (name.len == 0) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \""
                              PT_STR_FMT "\"", PT_STR_ARG(*text));
            return PT_CONF_ERROR;
        }

        index = pt_http_get_variable_index(cf, &name);
        if (index == PT_ERROR) {
            return PT_CONF_ERROR;
        }

        op->index = index;
        pt_str_null(&op->text);
    }

    return PT_CONF_OK;
}

static void *
pt_http_log_create_main_conf(pt_conf_t *cf)
{
    pt_http_log_fmt_t        *fmt;
    pt_http_log_main_conf_t  *lmcf;

    lmcf = pt_pcalloc(cf->pool, sizeof(pt_http_log_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (pt_array_init(&lmcf->formats, cf->pool, 4, sizeof(pt_http_log_fmt_t)) != PT_OK) {
        return NULL;
    }

    fmt = pt_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return NULL;
    }

    pt_str_set(&fmt->name, "combined");
    fmt->escape = PT_HTTP_LOG_ESCAPE_DEFAULT;

    if (pt_http_log_compile_format(cf, fmt, &pt_http_combined_fmt) != PT_CONF_OK) {
        return NULL;
    }

    return lmcf;
}

static void *
pt_http_log_create_loc_conf(pt_conf_t *cf)
{
    pt_http_log_loc_conf_t  *lcf;

    lcf = pt_pcalloc(cf->pool, sizeof(pt_http_log_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->logs = NULL;
    lcf->off = 0;

    return lcf;
}

static pt_http_log_fmt_t *
pt_http_log_find_format(pt_http_log_main_conf_t *lmcf, pt_str_t *name)
{
    pt_uint_t           i;
    pt_http_log_fmt_t  *fmt;

    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (fmt[i].name.len == name->len
            && pt_memcmp(fmt[i].name.data, name->data, name->len) == 0)
        {
            return &fmt[i];
        }
    }

    return NULL;
}

/* Nothing configured at any level: "logs/access.log combined" at the top,
 * inherited below, as nginx does. */
static char *
pt_http_log_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_log_loc_conf_t *prev = parent;
    pt_http_log_loc_conf_t *conf = child;

    pt_http_log_t            *log;
    pt_http_log_main_conf_t  *lmcf;

    if (conf->logs || conf->off) {
        return PT_CONF_OK;
    }

    conf->logs = prev->logs;
    conf->off = prev->off;

    if (conf->logs || conf->off) {
        return PT_CONF_OK;
    }

    conf->logs = pt_array_create(cf->pool, 1, sizeof(pt_http_log_t));
    if (conf->logs == NULL) {
        return PT_CONF_ERROR;
    }

    log = pt_array_push(conf->logs);
    if (log == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(log, sizeof(pt_http_log_t));

    log->file = pt_conf_open_file(cf->cycle, &pt_http_access_log);
    if (log->file == NULL) {
        return PT_CONF_ERROR;
    }

    lmcf = pt_http_conf_get_module_main_conf(cf, pt_http_log_module);
    log->format = lmcf->formats.elts;   /* "combined" is the first */
    lmcf->combined_used = 1;

    /* The parent gets the same default so its other children share it. */
    prev->logs = conf->logs;

    return PT_CONF_OK;
}

/* buffer=SIZE and flush=TIME of one access_log. */
static char *
pt_http_log_set_buffer(pt_conf_t *cf, pt_http_log_t *log, ssize_t size,
    pt_msec_t flush)
{
    pt_http_log_buf_t  *buffer;

    buffer = log->file->data;

    if (buffer) {
        if ((size_t) (buffer->last - buffer->start) != (size_t) size
            || buffer->flush != flush)
        {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "access_log \"%s\" already defined with "
                              "conflicting parameters", log->file->name.data);
            return PT_CONF_ERROR;
        }
        return PT_CONF_OK;
    }

    buffer = pt_pcalloc(cf->pool, sizeof(pt_http_log_buf_t));
    if (buffer == NULL) {
        return PT_CONF_ERROR;
    }

    buffer->start = pt_pnalloc(cf->pool, size);
    if (buffer->start == NULL) {
        return PT_CONF_ERROR;
    }

    buffer->pos = buffer->start;
    buffer->last = buffer->start + size;

    if (flush) {
        buffer->event = pt_pcalloc(cf->pool, sizeof(pt_event_t));
        if (buffer->event == NULL) {
            return PT_CONF_ERROR;
        }

        buffer->event->data = log->file;
        buffer->event->handler = pt_http_log_flush_handler;
        buffer->event->log = &cf->cycle->new_log;
        buffer->event->cancelable = 1;
        buffer->flush = flush;
    }

    log->file->data = buffer;
    log->file->flush = pt_http_log_flush;

    return PT_CONF_OK;
}

/* The optional parameters after the format name. */
static char *
pt_http_log_set_params(pt_conf_t *cf, pt_http_log_t *log, pt_str_t *value,
    pt_uint_t n)
{
    ssize_t                           size;
    pt_int_t                          flush;
    pt_str_t                          s;
    pt_uint_t                         i;
    pt_http_compile_complex_value_t   ccv;

    size = 0;
    flush = 0;

    for (i = 0; i < n; i++) {

        if (value[i].len > 7 && pt_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            size = pt_parse_size(&s);
            if (size == PT_ERROR || size == 0) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid buffer size \""
                                  PT_STR_FMT "\"", PT_STR_ARG(s));
                return PT_CONF_ERROR;
            }
            continue;
        }

        if (value[i].len > 6 && pt_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            flush = pt_parse_time(&s, 0);
            if (flush == PT_ERROR || flush == 0) {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid flush time \""
                                  PT_STR_FMT "\"", PT_STR_ARG(s));
                return PT_CONF_ERROR;
            }
            continue;
        }

        if (value[i].len > 3 && pt_strncmp(value[i].data, "if=", 3) == 0) {
            s.data = value[i].data + 3;
            s.len = value[i].len - 3;

            log->filter = pt_palloc(cf->pool, sizeof(pt_http_complex_value_t));
            if (log->filter == NULL) {
                return PT_CONF_ERROR;
            }

            pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
            ccv.cf = cf;
            ccv.value = pt_palloc(cf->pool, sizeof(pt_str_t));
            if (ccv.value == NULL) {
                return PT_CONF_ERROR;
            }
            *ccv.value = s;
            ccv.complex_value = log->filter;

            if (pt_http_compile_complex_value(&ccv) != PT_OK) {
                return PT_CONF_ERROR;
            }
            continue;
        }

        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[i]));
        return PT_CONF_ERROR;
    }

    if (size && log->path) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "buffered logs cannot have variables in name");
        return PT_CONF_ERROR;
    }

    if (flush && size == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "no buffer is defined for access_log \""
                          PT_STR_FMT "\"", PT_STR_ARG(log->path ? log->path->value
                                                               : log->file->name));
        return PT_CONF_ERROR;
    }

    if (size) {
        return pt_http_log_set_buffer(cf, log, size, (pt_msec_t) flush);
    }

    return PT_CONF_OK;
}

/* A path with variables (relative to the prefix, NUL-terminated). */
static char *
pt_http_log_set_path(pt_conf_t *cf, pt_http_log_t *log, pt_str_t *path)
{
    pt_http_compile_complex_value_t  ccv;

    log->path = pt_palloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (log->path == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = path;
    ccv.complex_value = log->path;
    ccv.zero = 1;
    ccv.root_prefix = 1;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static char *
pt_http_log_set_log(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_log_loc_conf_t *llcf = conf;

    pt_str_t                 *value, name;
    pt_http_log_t            *log;
    pt_http_log_main_conf_t  *lmcf;

    value = cf->args->elts;

    if (pt_str_eq_lit(&value[1], "off")) {
        llcf->off = 1;
        if (cf->args->nelts == 2) {
            return PT_CONF_OK;
        }
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid parameter \"" PT_STR_FMT "\"",
                          PT_STR_ARG(value[2]));
        return PT_CONF_ERROR;
    }

    if (value[1].len > 7 && pt_strncmp(value[1].data, "syslog:", 7) == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "syslog logging is not supported yet");
        return PT_CONF_ERROR;
    }

    if (llcf->logs == NULL) {
        llcf->logs = pt_array_create(cf->pool, 2, sizeof(pt_http_log_t));
        if (llcf->logs == NULL) {
            return PT_CONF_ERROR;
        }
    }

    log = pt_array_push(llcf->logs);
    if (log == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(log, sizeof(pt_http_log_t));

    if (pt_strlchr(value[1].data, value[1].data + value[1].len, '$')) {
        if (pt_http_log_set_path(cf, log, &value[1]) != PT_CONF_OK) {
            return PT_CONF_ERROR;
        }

    } else {
        log->file = pt_conf_open_file(cf->cycle, &value[1]);
        if (log->file == NULL) {
            return PT_CONF_ERROR;
        }
    }

    lmcf = pt_http_conf_get_module_main_conf(cf, pt_http_log_module);

    if (cf->args->nelts >= 3) {
        name = value[2];
        if (pt_str_eq_lit(&name, "combined")) {
            lmcf->combined_used = 1;
        }
    } else {
        pt_str_set(&name, "combined");
        lmcf->combined_used = 1;
    }

    log->format = pt_http_log_find_format(lmcf, &name);

    if (log->format == NULL) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unknown log format \"" PT_STR_FMT "\"",
                          PT_STR_ARG(name));
        return PT_CONF_ERROR;
    }

    if (cf->args->nelts <= 3) {
        return PT_CONF_OK;
    }

    return pt_http_log_set_params(cf, log, &value[3], cf->args->nelts - 3);
}

static char *
pt_http_log_set_format(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_log_main_conf_t *lmcf = conf;

    size_t              len;
    u_char             *p;
    pt_str_t           *value, text;
    pt_uint_t           i, first;
    pt_http_log_fmt_t  *fmt;

    value = cf->args->elts;

    if (pt_http_log_find_format(lmcf, &value[1])) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "duplicate \"log_format\" name \""
                          PT_STR_FMT "\"", PT_STR_ARG(value[1]));
        return PT_CONF_ERROR;
    }

    fmt = pt_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return PT_CONF_ERROR;
    }

    fmt->name = value[1];
    fmt->escape = PT_HTTP_LOG_ESCAPE_DEFAULT;
    first = 2;

    if (value[2].len > 7 && pt_strncmp(value[2].data, "escape=", 7) == 0) {
        if (pt_str_eq_lit(&value[2], "escape=default")) {
            fmt->escape = PT_HTTP_LOG_ESCAPE_DEFAULT;
        } else if (pt_str_eq_lit(&value[2], "escape=json")) {
            fmt->escape = PT_HTTP_LOG_ESCAPE_JSON;
        } else if (pt_str_eq_lit(&value[2], "escape=none")) {
            fmt->escape = PT_HTTP_LOG_ESCAPE_NONE;
        } else {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "unknown log format escaping \""
                              PT_STR_FMT "\"", PT_STR_ARG(value[2]));
            return PT_CONF_ERROR;
        }
        first = 3;
    }

    /* the strings are joined as they are (nginx's rule) */
    len = 0;
    for (i = first; i < cf->args->nelts; i++) {
        len += value[i].len;
    }

    text.data = pt_pnalloc(cf->pool, len);
    if (text.data == NULL) {
        return PT_CONF_ERROR;
    }

    p = text.data;
    for (i = first; i < cf->args->nelts; i++) {
        p = pt_cpymem(p, value[i].data, value[i].len);
    }
    text.len = len;

    return pt_http_log_compile_format(cf, fmt, &text);
}

static pt_int_t
pt_http_log_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_LOG_PHASE, pt_http_log_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}
