/*
 * pt_log.c: the error log, in nginx's line format.
 */

#include "portico.h"

static char *pt_error_log(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static void pt_log_insert(pt_log_t *head, pt_log_t *log);

pt_uint_t  pt_use_stderr = 1;

static pt_open_file_t  pt_log_file;
static pt_log_t        pt_log;

static const char *err_levels[] = {
    "", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"
};

static pt_command_t  pt_errlog_commands[] = {

    { pt_string("error_log"),
      PT_MAIN_CONF | PT_CONF_1MORE,
      pt_error_log,
      0,
      0,
      NULL },

    pt_null_command
};

static pt_core_module_t  pt_errlog_module_ctx = {
    pt_string("errlog"),
    NULL,
    NULL
};

pt_module_t  pt_errlog_module = {
    PT_MODULE_V1,
    &pt_errlog_module_ctx,
    pt_errlog_commands,
    PT_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL
};

u_char *
pt_log_errno(u_char *buf, u_char *last, pt_err_t err)
{
    return pt_slprintf(buf, last, " (%d: %s)", err, strerror(err));
}

/* Writes one formatted line to fd; a line is written with one write(2)
 * so lines from different workers never interleave. */
static void
pt_log_write(pt_fd_t fd, u_char *line, size_t len)
{
    (void) pt_write_fd(fd, line, len);
}

void
pt_log_error_core(pt_uint_t level, pt_log_t *log, pt_err_t err,
    const char *fmt, ...)
{
    u_char    errstr[PT_MAX_ERROR_STR], *p, *last, *msg;
    va_list   args;
    pt_uint_t wrote_stderr;

    last = errstr + PT_MAX_ERROR_STR - 1;    /* room for the newline */

    p = pt_cpymem(errstr, pt_cached_err_log_time.data,
                  pt_cached_err_log_time.len);
    p = pt_slprintf(p, last, " [%s] %d#0: ", err_levels[level], (int) getpid());

    if (log->connection) {
        p = pt_slprintf(p, last, "*%lu ", (unsigned long) log->connection);
    }

    msg = p;

    va_start(args, fmt);
    p = pt_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = pt_log_errno(p, last, err);
    }

    if (level != PT_LOG_DEBUG && log->handler && p < last) {
        p = log->handler(log, p, last - p);
    }

    *p++ = '\n';

    wrote_stderr = 0;

    for ( ; log; log = log->next) {

        if ((log->log_level & PT_LOG_LEVEL_MASK) < level) {
            /* Logs are sorted most verbose first. */
            break;
        }

        if (log->file == NULL || log->file->fd == PT_INVALID_FILE) {
            continue;
        }

        pt_log_write(log->file->fd, errstr, p - errstr);

        if (log->file->fd == STDERR_FILENO) {
            wrote_stderr = 1;
        }
    }

    /* During startup, -t and -s, problems also go to the terminal in
     * nginx's short form: "portico: [emerg] message". */
    if (!pt_use_stderr || level > PT_LOG_WARN || wrote_stderr) {
        return;
    }

    {
        u_char  line[PT_MAX_ERROR_STR + 64], *q;

        q = pt_slprintf(line, line + 64, "portico: [%s] ", err_levels[level]);
        q = pt_cpymem(q, msg, p - msg);
        pt_log_write(STDERR_FILENO, line, q - line);
    }
}

void
pt_log_stderr(pt_err_t err, const char *fmt, ...)
{
    u_char    buf[PT_MAX_ERROR_STR], *p, *last;
    va_list   args;

    last = buf + PT_MAX_ERROR_STR - 1;
    p = pt_cpymem(buf, "portico: ", sizeof("portico: ") - 1);

    va_start(args, fmt);
    p = pt_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = pt_log_errno(p, last, err);
    }

    *p++ = '\n';
    pt_log_write(STDERR_FILENO, buf, p - buf);
}

void
pt_write_stderr(const char *text)
{
    pt_log_write(STDERR_FILENO, (u_char *) text, strlen(text));
}

void
pt_write_stdout(const char *text)
{
    pt_log_write(STDOUT_FILENO, (u_char *) text, strlen(text));
}

pt_log_t *
pt_log_init(u_char *prefix, u_char *error_log)
{
    u_char    *name, *p;
    size_t     plen, nlen;

    pt_log.file = &pt_log_file;
    pt_log.log_level = PT_LOG_NOTICE;
    pt_log_file.fd = STDERR_FILENO;

    if (error_log == NULL) {
        error_log = (u_char *) PT_ERROR_LOG_PATH;
    }

    if (pt_strcmp(error_log, "stderr") == 0 || *error_log == '\0') {
        return &pt_log;
    }

    /* Always a private copy: argv memory is later reused for the process
     * title. */
    name = (u_char *) strdup((char *) error_log);
    if (name == NULL) {
        return NULL;
    }

    if (name[0] != '/') {
        if (prefix == NULL) {
            prefix = (u_char *) PT_PREFIX;
        }

        plen = pt_strlen(prefix);
        nlen = pt_strlen(error_log);

        p = malloc(plen + nlen + 2);
        if (p == NULL) {
            return NULL;
        }

        name = p;
        p = pt_cpymem(p, prefix, plen);
        if (plen && p[-1] != '/') {
            *p++ = '/';
        }
        pt_memcpy(p, error_log, nlen + 1);
    }

    pt_log_file.fd = pt_open_append(name);

    if (pt_log_file.fd == PT_INVALID_FILE) {
        pt_log_stderr(pt_errno, "[alert] could not open error log file: "
                      "open() \"%s\" failed", name);
        pt_log_file.fd = STDERR_FILENO;
    }

    pt_log_file.name.data = name;
    pt_log_file.name.len = pt_strlen(name);

    return &pt_log;
}

pt_int_t
pt_log_open_default(pt_cycle_t *cycle)
{
    pt_str_t   name;

    if (cycle->new_log.file != NULL) {
        return PT_OK;
    }

    if (cycle->error_log.len == 0
        || pt_str_eq_lit(&cycle->error_log, "stderr"))
    {
        if (cycle->error_log.len) {
            cycle->new_log.file = pt_pcalloc(cycle->pool, sizeof(pt_open_file_t));
            if (cycle->new_log.file == NULL) {
                return PT_ERROR;
            }
            cycle->new_log.file->fd = STDERR_FILENO;
            cycle->new_log.log_level = PT_LOG_ERR;
            return PT_OK;
        }

        pt_str_set(&name, PT_ERROR_LOG_PATH);

    } else {
        name = cycle->error_log;
    }

    cycle->new_log.file = pt_conf_open_file(cycle, &name);
    if (cycle->new_log.file == NULL) {
        return PT_ERROR;
    }

    cycle->new_log.log_level = PT_LOG_ERR;

    return PT_OK;
}

pt_int_t
pt_log_redirect_stderr(pt_cycle_t *cycle)
{
    pt_log_t  *log;

    for (log = cycle->log; log; log = log->next) {
        if (log->file && log->file->fd != STDERR_FILENO
            && log->file->fd != PT_INVALID_FILE)
        {
            if (dup2(log->file->fd, STDERR_FILENO) == -1) {
                pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                             "dup2(STDERR) failed");
                return PT_ERROR;
            }
            return PT_OK;
        }
    }

    return PT_OK;
}

static pt_int_t
pt_log_set_levels(pt_conf_t *cf, pt_log_t *log)
{
    pt_uint_t   i, n;
    pt_str_t   *value;

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        log->log_level = PT_LOG_ERR;
        return PT_OK;
    }

    log->log_level = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        for (n = 1; n <= PT_LOG_DEBUG; n++) {
            if (pt_strcmp(value[i].data, err_levels[n]) == 0) {
                break;
            }
        }

        if (n > PT_LOG_DEBUG || log->log_level != 0) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "invalid log level \"" PT_STR_FMT "\"",
                              PT_STR_ARG(value[i]));
            return PT_ERROR;
        }

        log->log_level = n;
    }

    if (log->log_level == PT_LOG_DEBUG) {
        log->log_level = PT_LOG_DEBUG | PT_LOG_DEBUG_ALL;
    }

    return PT_OK;
}

char *
pt_log_set_log(pt_conf_t *cf, pt_log_t **head)
{
    pt_log_t   *new;
    pt_str_t   *value, name;

    if (*head != NULL && (*head)->file == NULL) {
        /* The fixed head (cycle->new_log) is still empty: fill it. */
        new = *head;

    } else {
        new = pt_pcalloc(cf->pool, sizeof(pt_log_t));
        if (new == NULL) {
            return PT_CONF_ERROR;
        }
        if (*head == NULL) {
            *head = new;
        }
    }

    value = cf->args->elts;

    if (pt_str_eq_lit(&value[1], "stderr")) {
        new->file = pt_pcalloc(cf->pool, sizeof(pt_open_file_t));
        if (new->file == NULL) {
            return PT_CONF_ERROR;
        }
        new->file->fd = STDERR_FILENO;

    } else {
        name = value[1];
        new->file = pt_conf_open_file(cf->cycle, &name);
        if (new->file == NULL) {
            return PT_CONF_ERROR;
        }
    }

    if (pt_log_set_levels(cf, new) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (*head != new) {
        pt_log_insert(*head, new);
    }

    return PT_CONF_OK;
}

/* Keeps the chain sorted most verbose first; the head struct may be fixed
 * in place (cycle->new_log), so a more verbose log swaps contents with it. */
static void
pt_log_insert(pt_log_t *head, pt_log_t *log)
{
    pt_log_t  tmp;

    if ((log->log_level & PT_LOG_LEVEL_MASK)
        > (head->log_level & PT_LOG_LEVEL_MASK))
    {
        tmp = *log;
        *log = *head;
        *head = tmp;
        head->next = log;
        return;
    }

    while (head->next) {
        if ((log->log_level & PT_LOG_LEVEL_MASK)
            > (head->next->log_level & PT_LOG_LEVEL_MASK))
        {
            log->next = head->next;
            head->next = log;
            return;
        }
        head = head->next;
    }

    head->next = log;
}

static char *
pt_error_log(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_log_t  *head;

    head = &cf->cycle->new_log;
    return pt_log_set_log(cf, &head);
}
