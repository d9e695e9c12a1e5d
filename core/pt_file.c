/*
 * pt_file.c: file and path helpers.
 */

#include "portico.h"

pt_int_t
pt_read_whole_file(pt_pool_t *pool, pt_str_t *name, pt_str_t *out)
{
    int          fd;
    ssize_t      n;
    size_t       got;
    struct stat  st;
    u_char      *buf;

    /* O_NONBLOCK: opening a FIFO for reading waits for a writer, and a
     * config that includes one must not hang a reload.  Only st_size bytes
     * are read, so a FIFO or a device reads as empty. */
    fd = open((char *) name->data, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd == -1) {
        return PT_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        goto failed;
    }

    buf = pt_pnalloc(pool, st.st_size + 1);
    if (buf == NULL) {
        goto failed;
    }

    got = 0;
    while (got < (size_t) st.st_size) {
        n = read(fd, buf + got, st.st_size - got);
        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }
            goto failed;
        }
        if (n == 0) {
            break;
        }
        got += n;
    }

    buf[got] = '\0';
    out->data = buf;
    out->len = got;

    close(fd);
    return PT_OK;

failed:
    n = errno;
    close(fd);
    errno = (int) n;
    return PT_ERROR;
}

ssize_t
pt_read_file(pt_file_t *file, u_char *buf, size_t size, off_t offset)
{
    ssize_t  n;

    do {
        n = pread(file->fd, buf, size, offset);
    } while (n == -1 && errno == EINTR);

    if (n == -1) {
        pt_log_error(PT_LOG_CRIT, file->log, pt_errno,
                     "pread() \"" PT_STR_FMT "\" failed", PT_STR_ARG(file->name));
        return PT_ERROR;
    }

    file->offset += n;
    return n;
}

/* Writes everything or fails; used for log files and pid files. */
ssize_t
pt_write_fd(pt_fd_t fd, void *buf, size_t n)
{
    ssize_t  rc;
    size_t   done;

    done = 0;
    while (done < n) {
        rc = write(fd, (u_char *) buf + done, n - done);
        if (rc == -1) {
            if (errno == EINTR) {
                continue;
            }
            return done ? (ssize_t) done : -1;
        }
        done += rc;
    }

    return done;
}

pt_fd_t
pt_open_append(u_char *name)
{
    return open((char *) name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

pt_int_t
pt_get_full_name(pt_pool_t *pool, pt_str_t *prefix, pt_str_t *name)
{
    size_t   len;
    u_char  *p;

    if (name->len > 0 && name->data[0] == '/') {
        /* Already absolute; make sure it is NUL-terminated. */
        return pt_pstrdup_z(pool, name, name);
    }

    len = prefix->len;
    if (len && prefix->data[len - 1] != '/') {
        len++;
    }

    p = pt_pnalloc(pool, len + name->len + 1);
    if (p == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(p, prefix->data, prefix->len);
    if (len != prefix->len) {
        p[prefix->len] = '/';
    }
    pt_memcpy(p + len, name->data, name->len);
    p[len + name->len] = '\0';

    name->len = len + name->len;
    name->data = p;

    return PT_OK;
}

pt_int_t
pt_create_dir_path(u_char *path, mode_t mode)
{
    u_char  *p, ch;

    for (p = path + 1; *p; p++) {
        ch = *p;
        if (ch != '/') {
            continue;
        }

        *p = '\0';
        if (mkdir((char *) path, mode) == -1 && errno != EEXIST) {
            *p = '/';
            return PT_ERROR;
        }
        *p = '/';
    }

    return PT_OK;
}

pt_int_t
pt_open_glob(pt_glob_t *gl)
{
    int  n;

    pt_memzero(&gl->pglob, sizeof(glob_t));
    n = glob((char *) gl->pattern, 0, NULL, &gl->pglob);

    if (n == 0) {
        return PT_OK;
    }

    /* With test set, a pattern that matches nothing is an empty list, not
     * an error (nginx's rule for "include *.conf"). */
    if (n == GLOB_NOMATCH && gl->test) {
        return PT_OK;
    }

    return PT_ERROR;
}

pt_int_t
pt_read_glob(pt_glob_t *gl, pt_str_t *name)
{
    size_t  count;

    count = (size_t) gl->pglob.gl_pathc;

    if (gl->n < count) {
        name->len = strlen(gl->pglob.gl_pathv[gl->n]);
        name->data = (u_char *) gl->pglob.gl_pathv[gl->n];
        gl->n++;
        return PT_OK;
    }

    return PT_DONE;
}

void
pt_close_glob(pt_glob_t *gl)
{
    globfree(&gl->pglob);
}
