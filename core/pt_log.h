/*
 * pt_log.h: the error log.
 *
 * Lines look like nginx's:
 *   2026/11/27 19:44:45 [error] 1234#0: *5 message, client: 127.0.0.1, ...
 * The level test happens inside the macro so disabled levels cost a compare.
 * Debug logging exists only in --with-debug builds (PT_DEBUG); elsewhere the
 * debug macros compile to nothing, though "error_log ... debug" is accepted.
 */

#ifndef PT_LOG_H
#define PT_LOG_H

#define PT_LOG_STDERR   0
#define PT_LOG_EMERG    1
#define PT_LOG_ALERT    2
#define PT_LOG_CRIT     3
#define PT_LOG_ERR      4
#define PT_LOG_WARN     5
#define PT_LOG_NOTICE   6
#define PT_LOG_INFO     7
#define PT_LOG_DEBUG    8

/* Debug subsystem masks (high bits of log_level in debug builds). */
#define PT_LOG_DEBUG_CORE     0x010
#define PT_LOG_DEBUG_ALLOC    0x020
#define PT_LOG_DEBUG_MUTEX    0x040
#define PT_LOG_DEBUG_EVENT    0x080
#define PT_LOG_DEBUG_HTTP     0x100
#define PT_LOG_DEBUG_STREAM   0x200
#define PT_LOG_DEBUG_UPSTREAM 0x400
#define PT_LOG_DEBUG_ALL      0x7ff0
#define PT_LOG_LEVEL_MASK     0x000f

#define PT_MAX_ERROR_STR   2048

/* Appends context to a log line (", client: ..., server: ..."). */
typedef u_char *(*pt_log_handler_pt)(pt_log_t *log, u_char *buf, size_t len);

struct pt_log_s {
    pt_uint_t           log_level;
    pt_open_file_t     *file;
    pt_atomic_uint_t    connection;    /* "*N" connection number, 0: none */
    pt_log_handler_pt   handler;
    void               *data;
    const char         *action;        /* "while reading ..." */
    pt_log_t           *next;          /* further error_log targets */
};

void pt_log_error_core(pt_uint_t level, pt_log_t *log, pt_err_t err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define pt_log_error(level, log, ...)                                       \
    do {                                                                    \
        if (((log)->log_level & PT_LOG_LEVEL_MASK) >= (level)) {            \
            pt_log_error_core(level, log, __VA_ARGS__);                     \
        }                                                                   \
    } while (0)

#if (PT_DEBUG)
#define pt_log_debug(mask, log, ...)                                        \
    do {                                                                    \
        if ((log)->log_level & (mask)) {                                    \
            pt_log_error_core(PT_LOG_DEBUG, log, __VA_ARGS__);              \
        }                                                                   \
    } while (0)
#else
#define pt_log_debug(mask, log, ...)  do { } while (0)
#endif

/* "portico: " + message + ": (errno: strerror)" on stderr, for the command
 * line and early startup. */
void pt_log_stderr(pt_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pt_write_stderr(const char *text);
void pt_write_stdout(const char *text);

/* The log used before any config is read: PREFIX/logs/error.log or the -e
 * file, falling back to stderr. */
pt_log_t *pt_log_init(u_char *prefix, u_char *error_log);
/* Ensures the cycle has an error log (the default one when none is set). */
pt_int_t pt_log_open_default(pt_cycle_t *cycle);
/* Points fd 2 at the error log so stray stderr output lands there. */
pt_int_t pt_log_redirect_stderr(pt_cycle_t *cycle);
/* The "error_log" directive body, shared by every level that has one. */
char *pt_log_set_log(pt_conf_t *cf, pt_log_t **head);
/* Formats strerror for err into buf; returns end. */
u_char *pt_log_errno(u_char *buf, u_char *last, pt_err_t err);

extern pt_module_t  pt_errlog_module;
extern pt_uint_t    pt_use_stderr;

#endif /* PT_LOG_H */
