/*
 * pt_http_auth_basic_module.c: HTTP Basic authentication, as nginx's
 * auth_basic module.
 *
 *   auth_basic STRING | off;        (http, server, location, limit_except;
 *   auth_basic_user_file FILE;       both with variables)
 *
 * The realm is evaluated per request; "off" (also as the result of
 * variables) turns the check off, so a nested location can lift it.  The
 * user file is opened and read per request with a small stack buffer, as
 * nginx does, so an edit is seen by the next request; a relative name is
 * taken from the configuration directory.  Lines are "user:hash" with an
 * optional ":comment"; "#" starts a comment line; the first line of the
 * user wins.  The hash formats are in pt_http_auth_basic_crypt.c.
 *
 * Outcomes, with nginx's status codes and error log lines:
 *   no or malformed credentials      401 (info: "no user/password ...")
 *   user not in the file             401 (error: "user ... was not found")
 *   wrong password                   401 (error: "... password mismatch")
 *   file missing                     403 (error: open() failed)
 *   file unreadable, hash failure    500 (crit)
 * Every 401 carries WWW-Authenticate: Basic realm="REALM", the realm put
 * between the quotes as it is (nginx does not escape it).
 *
 * The handler runs in the ACCESS phase after the access module, so
 * "satisfy any" lets either the address rules or the password admit.
 */

#include "pt_http_auth_basic.h"

typedef struct {
    pt_http_complex_value_t  *realm;        /* PT_CONF_UNSET_PTR: not set */
    pt_http_complex_value_t   user_file;    /* value.data NULL: not set */
} pt_http_auth_basic_loc_conf_t;

/* Where the file scan stands: matching the user name, inside the hash, or
 * skipping to the next line. */
typedef enum {
    pt_auth_login = 0,
    pt_auth_passwd,
    pt_auth_skip
} pt_http_auth_basic_state_e;

typedef struct {
    pt_http_auth_basic_state_e   state;
    size_t                       login;     /* user bytes matched on the line */
    size_t                       passwd;    /* start of the hash in buf */
    size_t                       left;      /* bytes kept at the start of buf */
    u_char                       buf[PT_HTTP_AUTH_LINE_MAX + 1];
} pt_http_auth_basic_scan_t;

static pt_int_t pt_http_auth_basic_handler(pt_http_request_t *r);
static char *pt_http_auth_basic_user_file(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static void *pt_http_auth_basic_create_loc_conf(pt_conf_t *cf);
static char *pt_http_auth_basic_merge_loc_conf(pt_conf_t *cf, void *parent, void *child);
static pt_int_t pt_http_auth_basic_init(pt_conf_t *cf);

#define PT_HTTP_AUTH_BASIC_CONF  \
    (PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_HTTP_LMT_CONF)

static pt_command_t  pt_http_auth_basic_commands[] = {

    { pt_string("auth_basic"),
      PT_HTTP_AUTH_BASIC_CONF|PT_CONF_TAKE1,
      pt_http_set_complex_value_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_auth_basic_loc_conf_t, realm), NULL },

    { pt_string("auth_basic_user_file"),
      PT_HTTP_AUTH_BASIC_CONF|PT_CONF_TAKE1,
      pt_http_auth_basic_user_file, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_auth_basic_loc_conf_t, user_file), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_auth_basic_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_auth_basic_init,               /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_auth_basic_create_loc_conf,    /* create location configuration */
    pt_http_auth_basic_merge_loc_conf      /* merge location configuration */
};

pt_module_t  pt_http_auth_basic_module = {
    PT_MODULE_V1,
    &pt_http_auth_basic_module_ctx,
    pt_http_auth_basic_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- the answer ---- */

/* 401 with the challenge; realm goes between the quotes unchanged. */
static pt_int_t
pt_http_auth_basic_set_realm(pt_http_request_t *r, pt_str_t *realm)
{
    u_char             *p;
    size_t              len;
    pt_http_header_t   *h, **last;

    len = sizeof("Basic realm=\"\"") - 1 + realm->len;

    p = pt_pnalloc(r->pool, len);
    if (p == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = pt_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    pt_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;
    h->value.len = len;
    h->lowcase_key = NULL;
    h->next = NULL;

    p = pt_cpymem(p, "Basic realm=\"", sizeof("Basic realm=\"") - 1);
    p = pt_cpymem(p, realm->data, realm->len);
    *p = '"';

    /* after another check's challenge, as a chain */
    for (last = &r->headers_out.www_authenticate; *last; last = &(*last)->next) {
        /* void */
    }

    *last = h;

    return PT_HTTP_UNAUTHORIZED;
}

/* The hash of the user was found: compare. */
static pt_int_t
pt_http_auth_basic_crypt(pt_http_request_t *r, u_char *hash, pt_str_t *realm)
{
    pt_int_t  rc;

    rc = pt_http_auth_basic_check(r->headers_in.passwd.data, hash, r->connection->log);

    if (rc == PT_OK) {
        return PT_OK;
    }

    if (rc == PT_ERROR) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    pt_log_error(PT_LOG_ERR, r->connection->log, 0, "user \"" PT_STR_FMT "\": password mismatch",
                 PT_STR_ARG(r->headers_in.user));

    return pt_http_auth_basic_set_realm(r, realm);
}

/* ---- the user file ---- */

/*
 * Scans buf[from, to) for the line of the user, as nginx: the name is
 * compared byte by byte with "user:" (user.data holds the ':' after the
 * name), and the hash runs to the next CR, LF or ':'.  Returns the end of
 * the hash (NUL-terminated there), or NULL to read on.
 */
static u_char *
pt_http_auth_basic_scan(pt_http_request_t *r, pt_http_auth_basic_scan_t *s, size_t from,
    size_t to)
{
    u_char     c;
    size_t     i;
    pt_str_t  *user;

    user = &r->headers_in.user;

    for (i = from; i < to; i++) {
        c = s->buf[i];

        switch (s->state) {

        case pt_auth_login:
            if (s->login == 0) {
                if (c == '#' || c == '\r') {
                    s->state = pt_auth_skip;
                    break;
                }

                if (c == '\n') {
                    break;
                }
            }

            if (c != user->data[s->login]) {
                s->state = pt_auth_skip;
                break;
            }

            if (s->login == user->len) {
                s->state = pt_auth_passwd;
                s->passwd = i + 1;
            }

            s->login++;
            break;

        case pt_auth_passwd:
            if (c == '\n' || c == '\r' || c == ':') {
                s->buf[i] = '\0';
                return &s->buf[i];
            }
            break;

        case pt_auth_skip:
            if (c == '\n') {
                s->state = pt_auth_login;
                s->login = 0;
            }
            break;
        }
    }

    return NULL;
}

/* Reads the file through the buffer; the hash of the user is kept at the
 * start of buf between reads.  PT_OK with *hash set or NULL (no user), or
 * PT_ERROR (read error, logged). */
static pt_int_t
pt_http_auth_basic_read(pt_http_request_t *r, pt_file_t *file, pt_http_auth_basic_scan_t *s,
    u_char **hash)
{
    off_t     offset;
    ssize_t   n;

    offset = 0;
    *hash = NULL;

    for ( ;; ) {
        n = pt_read_file(file, s->buf + s->left, PT_HTTP_AUTH_LINE_MAX - s->left, offset);

        if (n == PT_ERROR) {
            return PT_ERROR;
        }

        if (n == 0) {
            break;
        }

        if (pt_http_auth_basic_scan(r, s, s->left, s->left + n) != NULL) {
            *hash = &s->buf[s->passwd];
            return PT_OK;
        }

        if (s->state == pt_auth_passwd) {
            s->left = s->left + n - s->passwd;
            pt_memmove(s->buf, &s->buf[s->passwd], s->left);
            s->passwd = 0;

        } else {
            s->left = 0;
        }

        offset += n;
    }

    if (s->state == pt_auth_passwd) {
        /* the last line, without a newline (or cut at the buffer's end) */
        s->buf[s->left] = '\0';
        *hash = s->buf;
    }

    return PT_OK;
}

/* Opens the user file and checks the credentials against it. */
static pt_int_t
pt_http_auth_basic_file(pt_http_request_t *r, pt_str_t *name, pt_str_t *realm)
{
    u_char                     *hash;
    pt_int_t                    rc;
    pt_err_t                    err;
    pt_file_t                   file;
    pt_http_auth_basic_scan_t   scan;

    pt_memzero(&file, sizeof(pt_file_t));

    file.fd = open((char *) name->data, O_RDONLY|O_CLOEXEC);

    if (file.fd == PT_INVALID_FILE) {
        err = pt_errno;

        /* as nginx: a missing file forbids, any other failure is ours */
        pt_log_error(err == ENOENT ? PT_LOG_ERR : PT_LOG_CRIT, r->connection->log, err,
                     "open() \"%s\" failed", name->data);

        return err == ENOENT ? PT_HTTP_FORBIDDEN : PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    file.name = *name;
    file.log = r->connection->log;

    scan.state = pt_auth_login;
    scan.login = 0;
    scan.passwd = 0;
    scan.left = 0;

    if (pt_http_auth_basic_read(r, &file, &scan, &hash) != PT_OK) {
        rc = PT_HTTP_INTERNAL_SERVER_ERROR;

    } else if (hash) {
        rc = pt_http_auth_basic_crypt(r, hash, realm);

    } else {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "user \"" PT_STR_FMT "\" was not found in \"%s\"",
                     PT_STR_ARG(r->headers_in.user), name->data);

        rc = pt_http_auth_basic_set_realm(r, realm);
    }

    if (close(file.fd) == -1) {
        pt_log_error(PT_LOG_ALERT, r->connection->log, pt_errno, "close() \"%s\" failed",
                     name->data);
    }

    /* the hashes of the file do not stay on the stack */
    OPENSSL_cleanse(scan.buf, sizeof(scan.buf));

    return rc;
}

/* PT_OK (authenticated), PT_DECLINED (not configured here or "off"),
 * PT_HTTP_UNAUTHORIZED, PT_HTTP_FORBIDDEN, or an error status. */
static pt_int_t
pt_http_auth_basic_handler(pt_http_request_t *r)
{
    pt_int_t                        rc;
    pt_str_t                        realm, user_file;
    pt_http_auth_basic_loc_conf_t  *alcf;

    alcf = pt_http_get_module_loc_conf(r, pt_http_auth_basic_module);

    if (alcf->realm == NULL || alcf->user_file.value.data == NULL) {
        return PT_DECLINED;
    }

    if (pt_http_complex_value(r, alcf->realm, &realm) != PT_OK) {
        return PT_ERROR;
    }

    if (realm.len == 3 && pt_strncmp(realm.data, "off", 3) == 0) {
        return PT_DECLINED;
    }

    rc = pt_http_auth_basic_user(r);

    if (rc == PT_DECLINED) {
        pt_log_error(PT_LOG_INFO, r->connection->log, 0,
                     "no user/password was provided for basic authentication");

        return pt_http_auth_basic_set_realm(r, &realm);
    }

    if (rc == PT_ERROR) {
        return PT_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pt_http_complex_value(r, &alcf->user_file, &user_file) != PT_OK) {
        return PT_ERROR;
    }

    return pt_http_auth_basic_file(r, &user_file, &realm);
}

/* ---- configuration ---- */

/* auth_basic_user_file FILE: variables allowed; relative to the conf dir. */
static char *
pt_http_auth_basic_user_file(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_auth_basic_loc_conf_t *alcf = conf;

    pt_str_t                         *value;
    pt_http_compile_complex_value_t   ccv;

    if (alcf->user_file.value.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &alcf->user_file;
    ccv.zero = 1;
    ccv.conf_prefix = 1;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}

static void *
pt_http_auth_basic_create_loc_conf(pt_conf_t *cf)
{
    pt_http_auth_basic_loc_conf_t  *conf;

    /* user_file zeroed: not set */
    conf = pt_pcalloc(cf->pool, sizeof(pt_http_auth_basic_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->realm = PT_CONF_UNSET_PTR;

    return conf;
}

static char *
pt_http_auth_basic_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_auth_basic_loc_conf_t  *prev = parent;
    pt_http_auth_basic_loc_conf_t  *conf = child;

    pt_conf_merge_ptr_value(conf->realm, prev->realm, NULL);

    if (conf->user_file.value.data == NULL) {
        conf->user_file = prev->user_file;
    }

    return PT_CONF_OK;
}

static pt_int_t
pt_http_auth_basic_init(pt_conf_t *cf)
{
    if (pt_http_add_phase_handler(cf, PT_HTTP_ACCESS_PHASE, pt_http_auth_basic_handler)
        != PT_OK)
    {
        return PT_ERROR;
    }

    return PT_OK;
}
