/*
 * pt_conf_file.h: the configuration language (nginx's grammar).
 *
 * The parser tokenizes directives, finds each one in the directive tables of
 * the modules of the current block type, checks its context and argument
 * count centrally, and calls the directive's setter.  Modules only write
 * setters, and most use the generic ones declared here.
 */

#ifndef PT_CONF_FILE_H
#define PT_CONF_FILE_H

/* Argument-count flags of a directive. */
#define PT_CONF_NOARGS      0x00000001
#define PT_CONF_TAKE1       0x00000002
#define PT_CONF_TAKE2       0x00000004
#define PT_CONF_TAKE3       0x00000008
#define PT_CONF_TAKE4       0x00000010
#define PT_CONF_TAKE5       0x00000020
#define PT_CONF_TAKE6       0x00000040
#define PT_CONF_TAKE7       0x00000080
#define PT_CONF_MAX_ARGS    8

#define PT_CONF_TAKE12      (PT_CONF_TAKE1|PT_CONF_TAKE2)
#define PT_CONF_TAKE13      (PT_CONF_TAKE1|PT_CONF_TAKE3)
#define PT_CONF_TAKE23      (PT_CONF_TAKE2|PT_CONF_TAKE3)
#define PT_CONF_TAKE123     (PT_CONF_TAKE1|PT_CONF_TAKE2|PT_CONF_TAKE3)
#define PT_CONF_TAKE1234    (PT_CONF_TAKE1|PT_CONF_TAKE2|PT_CONF_TAKE3|PT_CONF_TAKE4)

#define PT_CONF_ARGS_NUMBER 0x000000ff
#define PT_CONF_BLOCK       0x00000100
#define PT_CONF_FLAG        0x00000200    /* exactly one "on"/"off" */
#define PT_CONF_ANY         0x00000400
#define PT_CONF_1MORE       0x00000800
#define PT_CONF_2MORE       0x00001000

/* Contexts.  The low byte of the top half is the main level; modules of
 * other types (event, http, stream) define their own context bits. */
#define PT_DIRECT_CONF      0x00010000    /* main-context conf, no nesting */
#define PT_MAIN_CONF        0x01000000
#define PT_ANY_CONF         0xFF000000

#define PT_CONF_UNSET       -1
#define PT_CONF_UNSET_UINT  (pt_uint_t) -1
#define PT_CONF_UNSET_PTR   (void *) -1
#define PT_CONF_UNSET_SIZE  (size_t) -1
#define PT_CONF_UNSET_MSEC  (pt_msec_t) -1

#define PT_CONF_OK          NULL
#define PT_CONF_ERROR       (void *) -1

#define PT_CONF_BLOCK_START 1
#define PT_CONF_BLOCK_DONE  2
#define PT_CONF_FILE_DONE   3

#define PT_CORE_MODULE      0x45524F43  /* "CORE" */
#define PT_CONF_MODULE      0x464E4F43  /* "CONF" */

#define PT_MAX_CONF_ERRSTR  1024

/* Nesting limits: an include of itself, or a block nested without end,
 * gets an error instead of exhausting the stack. */
#define PT_CONF_MAX_INCLUDE_DEPTH  32
#define PT_CONF_MAX_BLOCK_DEPTH    64

struct pt_command_s {
    pt_str_t     name;
    pt_uint_t    type;      /* contexts | argument flags */
    char        *(*set)(pt_conf_t *cf, pt_command_t *cmd, void *conf);
    pt_uint_t    conf;      /* which conf of a block (e.g. http loc_conf) */
    pt_uint_t    offset;    /* field the generic setters write */
    void        *post;      /* pt_conf_post_t, bounds or enum table */
};

#define pt_null_command  { pt_null_string, 0, NULL, 0, 0, NULL }

struct pt_open_file_s {
    pt_fd_t     fd;
    pt_str_t    name;       /* full path, NUL-terminated */
    void      (*flush)(pt_open_file_t *file, pt_log_t *log);
    void       *data;
};

typedef struct {
    pt_file_t    file;      /* name is what error messages show */
    pt_buf_t    *buffer;    /* the whole file, read at once */
    pt_buf_t    *dump;      /* copy kept for -T */
    pt_uint_t    line;
    pt_uint_t    param;     /* the -g string, not a file */
} pt_conf_file_t;

typedef struct {
    pt_str_t     name;
    pt_buf_t    *buffer;
} pt_conf_dump_t;

typedef char *(*pt_conf_handler_pt)(pt_conf_t *cf, pt_command_t *dummy, void *conf);

struct pt_conf_s {
    char                *name;
    pt_array_t          *args;          /* of pt_str_t; args[0] = name */

    pt_cycle_t          *cycle;
    pt_pool_t           *pool;
    pt_pool_t           *temp_pool;
    pt_conf_file_t      *conf_file;
    pt_log_t            *log;

    void                *ctx;           /* the current block's conf context */
    pt_uint_t            module_type;   /* modules whose directives apply */
    pt_uint_t            cmd_type;      /* the current context bit */

    pt_conf_handler_pt   handler;       /* custom handler (types {}) */
    void                *handler_conf;

    pt_uint_t            include_depth; /* files open below the main one */
    pt_uint_t            block_depth;   /* "{" levels open */
};

typedef char *(*pt_conf_post_handler_pt)(pt_conf_t *cf, void *data, void *conf);

typedef struct {
    pt_conf_post_handler_pt  post_handler;
} pt_conf_post_t;

typedef struct {
    pt_conf_post_handler_pt  post_handler;
    pt_int_t                 low;
    pt_int_t                 high;
} pt_conf_num_bounds_t;

typedef struct {
    pt_str_t    name;
    pt_uint_t   value;
} pt_conf_enum_t;

#define PT_CONF_BITMASK_SET  1

typedef struct {
    pt_str_t    name;
    pt_uint_t   mask;
} pt_conf_bitmask_t;

extern pt_module_t  pt_conf_module;

/* Flushes buffered log-like files (access_log buffer=) of a cycle. */
void pt_conf_flush_cycle_files(pt_cycle_t *cycle);

char *pt_conf_check_num_bounds(pt_conf_t *cf, void *post, void *data);

/* Parses -g directives (cycle->conf_param) into the main context. */
char *pt_conf_param(pt_conf_t *cf);
/* Parses a file, or with filename NULL the rest of the current block. */
char *pt_conf_parse(pt_conf_t *cf, pt_str_t *filename);
char *pt_conf_include(pt_conf_t *cf, pt_command_t *cmd, void *conf);

/* Makes name absolute against the prefix (conf_prefix: the config's folder). */
pt_int_t pt_conf_full_name(pt_cycle_t *cycle, pt_str_t *name, pt_uint_t conf_prefix);
/* Registers a log-like file that the cycle opens and USR1 reopens. */
pt_open_file_t *pt_conf_open_file(pt_cycle_t *cycle, pt_str_t *name);

/* "[emerg] message in FILE:LINE" while parsing. */
void pt_conf_log_error(pt_uint_t level, pt_conf_t *cf, pt_err_t err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

char *pt_conf_set_flag_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_str_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_str_array_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_keyval_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_num_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_size_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_off_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_msec_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_sec_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_bufs_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_enum_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_set_bitmask_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);

/*
 * Create/merge helpers.  A child value left unset inherits the parent's,
 * and an unset parent falls back to the default.  They are statement macros
 * wrapped in do/while so they are safe after an unbraced if.
 */
#define pt_conf_init_value(conf, default)                                   \
    do { if ((conf) == PT_CONF_UNSET) { (conf) = (default); } } while (0)
#define pt_conf_init_ptr_value(conf, default)                               \
    do { if ((conf) == PT_CONF_UNSET_PTR) { (conf) = (default); } } while (0)
#define pt_conf_init_uint_value(conf, default)                              \
    do { if ((conf) == PT_CONF_UNSET_UINT) { (conf) = (default); } } while (0)
#define pt_conf_init_size_value(conf, default)                              \
    do { if ((conf) == PT_CONF_UNSET_SIZE) { (conf) = (default); } } while (0)
#define pt_conf_init_msec_value(conf, default)                              \
    do { if ((conf) == PT_CONF_UNSET_MSEC) { (conf) = (default); } } while (0)

#define pt_conf_merge_unset_(conf, prev, default, unset)                    \
    do {                                                                    \
        if ((conf) == (unset)) {                                            \
            (conf) = ((prev) == (unset)) ? (default) : (prev);              \
        }                                                                   \
    } while (0)

#define pt_conf_merge_value(conf, prev, default)                            \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET)
#define pt_conf_merge_ptr_value(conf, prev, default)                        \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET_PTR)
#define pt_conf_merge_uint_value(conf, prev, default)                       \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET_UINT)
#define pt_conf_merge_msec_value(conf, prev, default)                       \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET_MSEC)
#define pt_conf_merge_sec_value(conf, prev, default)                        \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET)
#define pt_conf_merge_size_value(conf, prev, default)                       \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET_SIZE)
#define pt_conf_merge_off_value(conf, prev, default)                        \
    pt_conf_merge_unset_(conf, prev, default, PT_CONF_UNSET)

#define pt_conf_merge_str_value(conf, prev, default)                        \
    do {                                                                    \
        if ((conf).data == NULL) {                                          \
            if ((prev).data) {                                              \
                (conf).len = (prev).len;                                    \
                (conf).data = (prev).data;                                  \
            } else {                                                        \
                (conf).len = sizeof(default) - 1;                           \
                (conf).data = (u_char *) default;                           \
            }                                                               \
        }                                                                   \
    } while (0)

#define pt_conf_merge_bufs_value(conf, prev, default_num, default_size)     \
    do {                                                                    \
        if ((conf).num == 0) {                                              \
            if ((prev).num) {                                               \
                (conf) = (prev);                                            \
            } else {                                                        \
                (conf).num = (default_num);                                 \
                (conf).size = (default_size);                               \
            }                                                               \
        }                                                                   \
    } while (0)

#define pt_conf_merge_bitmask_value(conf, prev, default)                    \
    do {                                                                    \
        if ((conf) == 0) {                                                  \
            (conf) = ((prev) == 0) ? (default) : (prev);                    \
        }                                                                   \
    } while (0)

#endif /* PT_CONF_FILE_H */
