/*
 * pt_path.c: temp file directories and temp files.
 *
 * A pt_path_t is a directory for temp files (client_body_temp_path, later
 * proxy_temp_path), optionally with up to three levels of subdirectories
 * named by the last digits of each file's number, as nginx lays them out
 * ("levels" 1 2: .../temp/7/45/0000000457).  Paths are registered while
 * the configuration is read and created (and handed to the worker user)
 * when the cycle opens its files, so a worker never needs to create the
 * directory itself; level subdirectories are made on demand.
 *
 * Temp files are unlinked as soon as they are open: nothing is left behind
 * whatever happens to the process, and the pool cleanup closes the fd.
 */

#include "portico.h"

static pt_int_t pt_create_level_dirs(u_char *name, pt_path_t *path, pt_log_t *log);

/* "NAME [LEVEL1 [LEVEL2 [LEVEL3]]]" into a pt_path_t * at cmd->offset
 * (NULL while unset); each level is 1 or 2 digits. */
char *
pt_conf_set_path_slot(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char  *p = conf;

    pt_str_t    *value;
    pt_int_t     level;
    pt_uint_t    i;
    pt_path_t   *path, **slot;

    slot = (pt_path_t **) (p + cmd->offset);

    if (*slot) {
        return "is duplicate";
    }

    path = pt_pcalloc(cf->pool, sizeof(pt_path_t));
    if (path == NULL) {
        return PT_CONF_ERROR;
    }

    value = cf->args->elts;

    path->name = value[1];

    if (path->name.len > 1 && path->name.data[path->name.len - 1] == '/') {
        path->name.len--;
    }

    if (pt_conf_full_name(cf->cycle, &path->name, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    for (i = 0; i + 2 < cf->args->nelts; i++) {
        level = pt_atoi(value[i + 2].data, value[i + 2].len);

        if (level == PT_ERROR || level < 1 || level > 2) {
            return "has an invalid level (1 or 2 digits each)";
        }

        path->level[i] = level;
        path->len += level + 1;
    }

    path->conf_file = cf->conf_file ? cf->conf_file->file.name.data : NULL;
    path->line = cf->conf_file ? cf->conf_file->line : 0;

    *slot = path;

    return pt_add_path(cf, slot) == PT_OK ? PT_CONF_OK : PT_CONF_ERROR;
}

/* Fills an unset *path from prev, else from the default init (a name under
 * the prefix, with levels). */
char *
pt_conf_merge_path_value(pt_conf_t *cf, pt_path_t **path, pt_path_t *prev,
    pt_path_init_t *init)
{
    pt_uint_t   i;
    pt_path_t  *p;

    if (*path) {
        return PT_CONF_OK;
    }

    if (prev) {
        *path = prev;
        return PT_CONF_OK;
    }

    p = pt_pcalloc(cf->pool, sizeof(pt_path_t));
    if (p == NULL) {
        return PT_CONF_ERROR;
    }

    p->name = init->name;

    if (pt_conf_full_name(cf->cycle, &p->name, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    for (i = 0; i < 3; i++) {
        p->level[i] = init->level[i];
        p->len += init->level[i] + (init->level[i] ? 1 : 0);
    }

    *path = p;

    return pt_add_path(cf, path) == PT_OK ? PT_CONF_OK : PT_CONF_ERROR;
}

/* Registers *slot in cycle->paths; a path already there under the same
 * name is shared (and must have the same levels). */
pt_int_t
pt_add_path(pt_conf_t *cf, pt_path_t **slot)
{
    pt_uint_t   i;
    pt_path_t  *path, **p;

    path = *slot;
    p = cf->cycle->paths.elts;

    for (i = 0; i < cf->cycle->paths.nelts; i++) {
        if (p[i]->name.len != path->name.len
            || pt_strncmp(p[i]->name.data, path->name.data, path->name.len) != 0)
        {
            continue;
        }

        if (p[i]->level[0] != path->level[0] || p[i]->level[1] != path->level[1]
            || p[i]->level[2] != path->level[2])
        {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "the same path name \"" PT_STR_FMT "\" is used "
                              "with different levels", PT_STR_ARG(path->name));
            return PT_ERROR;
        }

        *slot = p[i];
        return PT_OK;
    }

    p = pt_array_push(&cf->cycle->paths);
    if (p == NULL) {
        return PT_ERROR;
    }

    *p = path;

    return PT_OK;
}

/* Creates every registered directory (and its parents), owned by the
 * worker user when the master runs as root. */
pt_int_t
pt_create_paths(pt_cycle_t *cycle, uid_t user)
{
    u_char       *name;
    pt_uint_t     i;
    pt_path_t   **path;
    struct stat   st;

    path = cycle->paths.elts;

    for (i = 0; i < cycle->paths.nelts; i++) {
        name = pt_pnalloc(cycle->pool, path[i]->name.len + 1);
        if (name == NULL) {
            return PT_ERROR;
        }

        (void) pt_cpystrn(name, path[i]->name.data, path[i]->name.len + 1);

        if (pt_create_dir_path(name, 0755) != PT_OK
            || (mkdir((char *) name, 0700) == -1 && pt_errno != EEXIST))
        {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "mkdir() \"%s\" failed", name);
            return PT_ERROR;
        }

        if (stat((char *) name, &st) == -1 || !S_ISDIR(st.st_mode)) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "\"%s\" is not a directory", name);
            return PT_ERROR;
        }

        if (user != (uid_t) PT_CONF_UNSET_UINT && geteuid() == 0 && st.st_uid != user) {
            if (chown((char *) name, user, (gid_t) -1) == -1) {
                pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                             "chown(\"%s\", %d) failed", name, (int) user);
                return PT_ERROR;
            }
        }
    }

    return PT_OK;
}

/* Makes the level subdirectories of the temp file name (in place). */
static pt_int_t
pt_create_level_dirs(u_char *name, pt_path_t *path, pt_log_t *log)
{
    u_char     *p, ch;
    pt_uint_t   i;

    p = name + path->name.len + 1;

    for (i = 0; i < 3 && path->level[i]; i++) {
        p += path->level[i];
        ch = *p;
        *p = '\0';

        if (mkdir((char *) name, 0700) == -1 && pt_errno != EEXIST) {
            pt_log_error(PT_LOG_CRIT, log, pt_errno, "mkdir() \"%s\" failed", name);
            *p = ch;
            return PT_ERROR;
        }

        *p++ = ch;
    }

    return PT_OK;
}

/* Writes number n and its level directories after the path in name: the
 * levels are the number's last digits, 457 with levels 1 2 giving
 * "7/45/0000000457". */
static void
pt_temp_file_name(u_char *name, pt_path_t *path, uint32_t n)
{
    u_char     *p, *num, *last;
    pt_uint_t   i;

    p = name + path->name.len + 1;
    num = p + path->len;

    (void) snprintf((char *) num, 11, "%010u", (unsigned) n);

    last = num + 10;

    for (i = 0; i < 3 && path->level[i]; i++) {
        last -= path->level[i];
        p = pt_cpymem(p, last, path->level[i]);
        *p++ = '/';
    }
}

/*
 * Opens a new temp file in path and unlinks it at once.  file->fd is
 * registered for closing with pool; file->name keeps the (now gone) name
 * for error messages; file->offset starts at 0.  PT_ERROR is logged.
 */
pt_int_t
pt_create_temp_file(pt_file_t *file, pt_path_t *path, pt_pool_t *pool,
    pt_log_t *log)
{
    static uint32_t          counter;
    u_char                  *name, *p;
    uint32_t                 n;
    pt_err_t                 err;
    pt_uint_t                tries, made;
    pt_pool_cleanup_t       *cln;
    pt_pool_cleanup_file_t  *clnf;

    cln = pt_pool_cleanup_add(pool, sizeof(pt_pool_cleanup_file_t));
    name = pt_pnalloc(pool, path->name.len + 1 + path->len + 10 + 1);

    if (cln == NULL || name == NULL) {
        return PT_ERROR;
    }

    if (counter == 0) {
        /* workers start apart: one sequence per process */
        counter = (uint32_t) pt_pid * 7919 + (uint32_t) pt_time();
    }

    p = pt_cpymem(name, path->name.data, path->name.len);
    *p = '/';
    made = 0;

    for (tries = 0; tries < 1000; tries++) {
        n = counter++;

        pt_temp_file_name(name, path, n);

        file->fd = open((char *) name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);

        if (file->fd != PT_INVALID_FILE) {
            break;
        }

        err = pt_errno;

        if (err == EEXIST) {
            continue;
        }

        if (err == ENOENT && path->level[0] && !made) {
            made = 1;
            counter--;

            if (pt_create_level_dirs(name, path, log) != PT_OK) {
                return PT_ERROR;
            }

            continue;
        }

        pt_log_error(PT_LOG_CRIT, log, err, "open() \"%s\" failed", name);
        return PT_ERROR;
    }

    if (file->fd == PT_INVALID_FILE) {
        pt_log_error(PT_LOG_CRIT, log, 0, "no free temp file name in \"" PT_STR_FMT "\"",
                     PT_STR_ARG(path->name));
        return PT_ERROR;
    }

    if (unlink((char *) name) == -1) {
        pt_log_error(PT_LOG_CRIT, log, pt_errno, "unlink() \"%s\" failed", name);
    }

    clnf = cln->data;
    clnf->fd = file->fd;
    clnf->name = name;
    clnf->log = log;
    cln->handler = pt_pool_cleanup_file;

    file->name.data = name;
    file->name.len = pt_strlen(name);
    file->offset = 0;
    file->log = log;
    file->valid_info = 0;

    return PT_OK;
}

/* Appends len bytes at file->offset; PT_ERROR is logged. */
pt_int_t
pt_write_temp_file(pt_file_t *file, u_char *data, size_t len)
{
    ssize_t  n;

    while (len) {
        n = pwrite(file->fd, data, len, file->offset);

        if (n == -1) {
            if (pt_errno == EINTR) {
                continue;
            }

            pt_log_error(PT_LOG_CRIT, file->log, pt_errno,
                         "pwrite() \"" PT_STR_FMT "\" failed", PT_STR_ARG(file->name));
            return PT_ERROR;
        }

        file->offset += n;
        data += n;
        len -= n;
    }

    return PT_OK;
}
