/*
 * pt_file.h: files, paths and the open-file list that USR1 reopens.
 */

#ifndef PT_FILE_H
#define PT_FILE_H

struct pt_file_s {
    pt_fd_t      fd;
    pt_str_t     name;
    struct stat  info;
    off_t        offset;
    pt_log_t    *log;
    unsigned     valid_info:1;
};

/* Reads the whole file into a pool buffer (for config files).  Returns
 * PT_ERROR and sets errno on failure. */
pt_int_t pt_read_whole_file(pt_pool_t *pool, pt_str_t *name, pt_str_t *out);

ssize_t pt_read_file(pt_file_t *file, u_char *buf, size_t size, off_t offset);
ssize_t pt_write_fd(pt_fd_t fd, void *buf, size_t n);
pt_fd_t pt_open_append(u_char *name);   /* O_WRONLY|O_APPEND|O_CREAT, 0644 */

/* Path helpers.  Names are NUL-terminated on return. */
pt_int_t pt_get_full_name(pt_pool_t *pool, pt_str_t *prefix, pt_str_t *name);
pt_int_t pt_create_dir_path(u_char *path, mode_t mode);

/* A temp file directory with up to three levels of subdirectories
 * (pt_path.c): client_body_temp_path, proxy_temp_path. */
typedef struct {
    pt_str_t     name;          /* absolute, no trailing "/" */
    size_t       len;           /* of the level part of a file name */
    size_t       level[3];
    u_char      *conf_file;     /* where it was set, for messages */
    pt_uint_t    line;
} pt_path_t;

/* The default of a path directive: a name under the prefix. */
typedef struct {
    pt_str_t     name;
    size_t       level[3];
} pt_path_init_t;

/* "path [l1 [l2 [l3]]]" directive setter (field: pt_path_t *, NULL when
 * unset), and its merge with a default. */
char *pt_conf_set_path_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_conf_merge_path_value(pt_conf_t *cf, pt_path_t **path, pt_path_t *prev,
    pt_path_init_t *init);
/* Registers a path for creation (one entry per name). */
pt_int_t pt_add_path(pt_conf_t *cf, pt_path_t **slot);
/* Creates the registered directories, owned by user when run as root. */
pt_int_t pt_create_paths(pt_cycle_t *cycle, uid_t user);
/* A new temp file in path, unlinked at once, closed with pool. */
pt_int_t pt_create_temp_file(pt_file_t *file, pt_path_t *path, pt_pool_t *pool,
    pt_log_t *log);
/* Appends at file->offset (blocking; disk). */
pt_int_t pt_write_temp_file(pt_file_t *file, u_char *data, size_t len);

typedef struct {
    size_t      n;
    glob_t      pglob;
    u_char     *pattern;
    pt_uint_t   test;       /* matching nothing is not an error */
} pt_glob_t;

pt_int_t pt_open_glob(pt_glob_t *gl);
pt_int_t pt_read_glob(pt_glob_t *gl, pt_str_t *name);
void pt_close_glob(pt_glob_t *gl);

static inline pt_int_t
pt_nonblocking(pt_socket_t s)
{
    int nb = 1;
    return ioctl(s, FIONBIO, &nb);
}

static inline pt_int_t
pt_blocking(pt_socket_t s)
{
    int nb = 0;
    return ioctl(s, FIONBIO, &nb);
}

#endif /* PT_FILE_H */
