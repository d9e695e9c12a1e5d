/*
 * pt_connection.c: listening sockets and the connection table.
 *
 * Listening sockets.  Every listen address has one SO_REUSEPORT socket per
 * worker slot (ls->worker).  The master opens and holds all of them; each
 * worker closes the copies of the other slots after fork and accepts on its
 * own, so the kernel spreads connections and no accept lock is needed.  A
 * reload matches the new cycle's sockets to the old one's by (address,
 * worker) and hands the descriptors over; a binary upgrade passes them in
 * the PORTICO environment variable.  Unix-domain sockets cannot be bound
 * twice, so each has a single socket that every worker accepts on
 * (ls->shared).
 *
 * Connections.  Each worker has a fixed table of worker_connections slots,
 * each with a read and a write event, and a free list threaded through
 * c->data.  Nothing is allocated per connection here; the protocol's pool
 * is created on accept.
 */

#include "portico.h"

#define PT_LISTEN_BACKLOG      511
#define PT_LISTEN_POOL_SIZE    512
#define PT_BIND_TRIES          5
#define PT_BIND_RETRY_USEC     500000

/* How many idle connections one shortage may reclaim at once. */
#define PT_DRAIN_CONNECTIONS   32

static pt_atomic_uint_t  pt_local_connection_counter = 1;
pt_atomic_uint_t         *pt_connection_counter = &pt_local_connection_counter;

/* Maps the shared counter page once; reloads keep it, so numbers never
 * restart while the master lives. */
pt_int_t
pt_connection_counter_init(pt_log_t *log)
{
    pt_shm_t  shm;

    if (pt_connection_counter != &pt_local_connection_counter) {
        return PT_OK;
    }

    pt_memzero(&shm, sizeof(pt_shm_t));
    shm.size = pt_pagesize;
    pt_str_set(&shm.name, "connection counter");
    shm.log = log;

    if (pt_shm_alloc(&shm) != PT_OK) {
        return PT_ERROR;
    }

    pt_connection_counter = (pt_atomic_uint_t *) shm.addr;
    *pt_connection_counter = pt_local_connection_counter;

    return PT_OK;
}

static void pt_listening_set_family(pt_listening_t *ls);
static pt_int_t pt_listening_describe_inherited(pt_cycle_t *cycle,
    pt_uint_t n);
static pt_uint_t pt_listening_failed_before(pt_cycle_t *cycle, pt_uint_t n);
static pt_int_t pt_listening_open(pt_cycle_t *cycle, pt_listening_t *ls);
static pt_int_t pt_listening_probe(pt_cycle_t *cycle, pt_listening_t *ls);
static pt_uint_t pt_listening_addr_held(pt_cycle_t *cycle, pt_listening_t *ls);
static pt_uint_t pt_listening_overlaps_own(pt_cycle_t *cycle,
    pt_listening_t *ls);
static pt_int_t pt_listening_unix_stale(pt_cycle_t *cycle, pt_listening_t *ls);
static void pt_listening_unix_path(pt_listening_t *ls, char *path, size_t len);
static void pt_listening_configure_deferred(pt_cycle_t *cycle,
    pt_listening_t *ls);
static u_char *pt_accept_log_error(pt_log_t *log, u_char *buf, size_t len);
static void pt_drain_connections(pt_cycle_t *cycle);
static void pt_event_noop_handler(pt_event_t *ev);


/* ---- creating listening entries ---- */

/*
 * Adds a listen address to the cycle being configured, for worker slot 0.
 * The defaults match nginx: backlog 511, system buffer sizes, a
 * connection pool of 512 bytes, IPV6_V6ONLY on for IPv6.
 */
pt_listening_t *
pt_create_listening(pt_conf_t *cf, struct sockaddr *sockaddr,
    socklen_t socklen)
{
    u_char           *text;
    pt_listening_t   *ls;
    struct sockaddr  *sa;

    ls = pt_array_push(&cf->cycle->listening);
    if (ls == NULL) {
        return NULL;
    }

    pt_memzero(ls, sizeof(pt_listening_t));

    sa = pt_palloc(cf->pool, socklen);
    text = pt_pnalloc(cf->pool, PT_SOCKADDR_STRLEN);

    if (sa == NULL || text == NULL) {
        return NULL;
    }

    pt_memcpy(sa, sockaddr, socklen);

    ls->sockaddr = sa;
    ls->socklen = socklen;
    ls->addr_text.len = pt_sock_ntop(sa, socklen, text, PT_SOCKADDR_STRLEN, 1);
    ls->addr_text.data = text;

    ls->fd = (pt_socket_t) -1;
    ls->type = SOCK_STREAM;
    ls->backlog = PT_LISTEN_BACKLOG;
    ls->rcvbuf = -1;
    ls->sndbuf = -1;

    /* the log is taken from logp (or the cycle's error_log) when the
     * sockets are configured; cf->log may be the previous cycle's */
    ls->log = *cf->log;
    ls->logp = NULL;

    ls->addr_ntop = 1;
    ls->pool_size = PT_LISTEN_POOL_SIZE;
    ls->worker = 0;

    pt_listening_set_family(ls);

    return ls;
}


/* Family-dependent settings of a listening entry. */
static void
pt_listening_set_family(pt_listening_t *ls)
{
    switch (ls->sockaddr->sa_family) {

    case AF_INET6:
        ls->addr_text_max_len = PT_INET6_ADDRSTRLEN;
        ls->ipv6only = 1;
        ls->reuseport = 1;
        break;

    case AF_UNIX:
        ls->addr_text_max_len = PT_UNIX_ADDRSTRLEN;
        ls->shared = 1;         /* one socket for all workers */
        break;

    default:
        ls->addr_text_max_len = PT_INET_ADDRSTRLEN;
        ls->reuseport = 1;
        break;
    }

    ls->wildcard = pt_inet_wildcard(ls->sockaddr);
}


/*
 * Pushes a copy of ls for each further worker slot (1 .. N-1) where N is
 * worker_processes.  Nothing to do without a master (one process serves
 * all) or for a unix-domain socket (shared by all workers).
 */
pt_int_t
pt_clone_listening(pt_cycle_t *cycle, pt_listening_t *ls)
{
    pt_int_t          n, i;
    pt_listening_t    copy, *nls;
    pt_core_conf_t   *ccf;

    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    if (ccf == NULL || ccf->master == 0 || ls->shared || !ls->reuseport) {
        return PT_OK;
    }

    n = ccf->worker_processes;

    if (n == PT_CONF_UNSET || n < 1) {
        n = 1;
    }

    /* ls points into the array, which may move while we push */
    copy = *ls;

    for (i = 1; i < n; i++) {
        nls = pt_array_push(&cycle->listening);
        if (nls == NULL) {
            return PT_ERROR;
        }

        *nls = copy;
        nls->worker = (pt_uint_t) i;
    }

    return PT_OK;
}


/*
 * After a binary upgrade: the old master passed its listening sockets as
 * "PORTICO=fd;fd;...;".  Each becomes a listening entry with its address
 * from getsockname().  Sockets of one address come in worker order, so the
 * n-th socket seen for an address belongs to worker n-1.
 */
pt_int_t
pt_set_inherited_sockets(pt_cycle_t *cycle)
{
    u_char          *p, *v, *inherited;
    pt_int_t         s;
    pt_uint_t        i;
    pt_listening_t  *ls;

    inherited = (u_char *) getenv(PORTICO_VAR);
    if (inherited == NULL) {
        return PT_OK;
    }

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                 "using inherited sockets from \"%s\"", inherited);

    if (cycle->listening.elts == NULL
        && pt_array_init(&cycle->listening, cycle->pool, 10,
                         sizeof(pt_listening_t)) != PT_OK)
    {
        return PT_ERROR;
    }

    for (p = inherited, v = p; *p; p++) {
        if (*p != ':' && *p != ';') {
            continue;
        }

        s = pt_atoi(v, p - v);

        if (s == PT_ERROR) {
            pt_log_error(PT_LOG_EMERG, cycle->log, 0,
                         "invalid socket number \"%s\" in " PORTICO_VAR
                         " environment variable, ignoring the rest"
                         " of the variable", v);
            break;
        }

        v = p + 1;

        ls = pt_array_push(&cycle->listening);
        if (ls == NULL) {
            return PT_ERROR;
        }

        pt_memzero(ls, sizeof(pt_listening_t));
        ls->fd = (pt_socket_t) s;
        ls->inherited = 1;
    }

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (pt_listening_describe_inherited(cycle, i) != PT_OK) {
            return PT_ERROR;
        }
    }

    return PT_OK;
}


/* Fills inherited entry n from its socket; an unusable one is ignored. */
static pt_int_t
pt_listening_describe_inherited(pt_cycle_t *cycle, pt_uint_t n)
{
    int              type;
    socklen_t        olen;
    pt_uint_t        j;
    pt_sockaddr_t    sa;
    pt_listening_t  *ls, *all;

    all = cycle->listening.elts;
    ls = &all[n];

    ls->socklen = sizeof(pt_sockaddr_t);

    if (getsockname(ls->fd, &sa.sockaddr, &ls->socklen) == -1) {
        pt_log_error(PT_LOG_CRIT, cycle->log, pt_socket_errno,
                     "getsockname() of the inherited socket #%d failed",
                     ls->fd);
        ls->ignore = 1;
        return PT_OK;
    }

    if (sa.sockaddr.sa_family != AF_INET && sa.sockaddr.sa_family != AF_INET6
        && sa.sockaddr.sa_family != AF_UNIX)
    {
        pt_log_error(PT_LOG_CRIT, cycle->log, 0,
                     "the inherited socket #%d has an unsupported "
                     "protocol family", ls->fd);
        ls->ignore = 1;
        return PT_OK;
    }

    if (ls->socklen > (socklen_t) sizeof(pt_sockaddr_t)) {
        ls->socklen = sizeof(pt_sockaddr_t);
    }

    ls->sockaddr = pt_palloc(cycle->pool, ls->socklen);
    ls->addr_text.data = pt_pnalloc(cycle->pool, PT_SOCKADDR_STRLEN);

    if (ls->sockaddr == NULL || ls->addr_text.data == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(ls->sockaddr, &sa, ls->socklen);

    ls->addr_text.len = pt_sock_ntop(ls->sockaddr, ls->socklen,
                                     ls->addr_text.data, PT_SOCKADDR_STRLEN, 1);

    type = SOCK_STREAM;
    olen = sizeof(int);
    (void) getsockopt(ls->fd, SOL_SOCKET, SO_TYPE, &type, &olen);

    ls->type = type;
    ls->backlog = PT_LISTEN_BACKLOG;
    ls->rcvbuf = -1;
    ls->sndbuf = -1;
    ls->log = *cycle->log;
    ls->pool_size = PT_LISTEN_POOL_SIZE;
    ls->addr_ntop = 1;
    ls->listen = 1;

    pt_listening_set_family(ls);

    /* the worker slot: how many sockets of this address came before */
    ls->worker = 0;

    for (j = 0; j < n; j++) {
        if (!all[j].ignore
            && pt_cmp_sockaddr(all[j].sockaddr, all[j].socklen,
                               ls->sockaddr, ls->socklen, 1) == PT_OK)
        {
            ls->worker++;
        }
    }

    return PT_OK;
}


/* ---- handing sockets over between cycles ---- */

/*
 * Gives each listening entry of the new cycle the descriptor of the old
 * cycle's entry with the same address and worker slot, and marks that one
 * to remain open.  Entries without a match are flagged "open": this cycle
 * binds them.
 */
pt_int_t
pt_listening_inherit_from(pt_cycle_t *cycle, pt_cycle_t *old_cycle)
{
    pt_uint_t        i, j, nold;
    pt_listening_t  *nls, *ols;

    nls = cycle->listening.elts;
    ols = NULL;
    nold = 0;

    if (old_cycle && old_cycle->listening.elts) {
        ols = old_cycle->listening.elts;
        nold = old_cycle->listening.nelts;
    }

    for (i = 0; i < cycle->listening.nelts; i++) {

        for (j = 0; j < nold; j++) {
            if (ols[j].ignore || ols[j].remain || ols[j].fd == (pt_socket_t) -1
                || ols[j].type != nls[i].type
                || ols[j].worker != nls[i].worker)
            {
                continue;
            }

            if (pt_cmp_sockaddr(nls[i].sockaddr, nls[i].socklen,
                                ols[j].sockaddr, ols[j].socklen, 1)
                != PT_OK)
            {
                continue;
            }

            nls[i].fd = ols[j].fd;
            nls[i].previous = &ols[j];
            nls[i].inherited = ols[j].inherited;
            nls[i].listen = 1;
            ols[j].remain = 1;

            break;
        }

        if (nls[i].fd == (pt_socket_t) -1) {
            nls[i].open = 1;
        }
    }

    return PT_OK;
}


/*
 * After the new cycle took over: closes the old cycle's sockets that it
 * did not take (removed addresses, slots beyond a smaller
 * worker_processes) and deletes the files of removed unix sockets.
 */
void
pt_listening_close_unused(pt_cycle_t *old_cycle)
{
    char             path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 1];
    pt_uint_t        i;
    pt_listening_t  *ls;

    if (old_cycle == NULL || old_cycle->listening.elts == NULL) {
        return;
    }

    ls = old_cycle->listening.elts;

    for (i = 0; i < old_cycle->listening.nelts; i++) {
        if (ls[i].remain || ls[i].fd == (pt_socket_t) -1) {
            continue;
        }

        if (close(ls[i].fd) == -1) {
            pt_log_error(PT_LOG_EMERG, old_cycle->log, pt_socket_errno,
                         "close() socket " PT_STR_FMT " failed",
                         PT_STR_ARG(ls[i].addr_text));
        }

        ls[i].fd = (pt_socket_t) -1;

        if (ls[i].sockaddr && ls[i].sockaddr->sa_family == AF_UNIX
            && !ls[i].ignore)
        {
            pt_listening_unix_path(&ls[i], path, sizeof(path));

            if (path[0] == '\0') {
                continue;
            }

            pt_log_error(PT_LOG_WARN, old_cycle->log, 0,
                         "deleting socket %s", path);

            if (unlink(path) == -1 && pt_errno != ENOENT) {
                pt_log_error(PT_LOG_EMERG, old_cycle->log, pt_errno,
                             "unlink() %s failed", path);
            }
        }
    }
}


/* ---- opening ---- */

/*
 * Opens every entry that has no descriptor yet.  An address in use by
 * someone else is retried like nginx: 5 tries, 500 ms apart, each failure
 * logged, then "still could not bind()".
 */
pt_int_t
pt_open_listening_sockets(pt_cycle_t *cycle)
{
    pt_int_t         rc;
    pt_uint_t        tries, i, failed;
    pt_listening_t  *ls;

    failed = 0;

    for (tries = PT_BIND_TRIES; tries; tries--) {
        failed = 0;

        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].ignore || ls[i].fd != (pt_socket_t) -1) {
                continue;
            }

            if (pt_listening_failed_before(cycle, i)) {
                continue;       /* its address failed already in this try */
            }

            rc = pt_listening_open(cycle, &ls[i]);

            if (rc == PT_AGAIN) {
                failed = 1;
                continue;
            }

            if (rc != PT_OK) {
                return PT_ERROR;
            }
        }

        if (!failed) {
            return PT_OK;
        }

        if (tries > 1) {
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                         "try again to bind() after 500ms");
            usleep(PT_BIND_RETRY_USEC);
        }
    }

    pt_log_error(PT_LOG_EMERG, cycle->log, 0, "still could not bind()");

    return PT_ERROR;
}


/* True when an earlier entry for the same address is still unopened: it
 * failed in the current try, and this one would only fail the same way. */
static pt_uint_t
pt_listening_failed_before(pt_cycle_t *cycle, pt_uint_t n)
{
    pt_uint_t        i;
    pt_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < n; i++) {
        if (ls[i].fd == (pt_socket_t) -1 && !ls[i].ignore
            && pt_cmp_sockaddr(ls[i].sockaddr, ls[i].socklen,
                               ls[n].sockaddr, ls[n].socklen, 1) == PT_OK)
        {
            return 1;
        }
    }

    return 0;
}


/* Logs a failed socket call on ls at emerg; EADDRINUSE means "retry". */
static pt_int_t
pt_listening_fail(pt_cycle_t *cycle, pt_listening_t *ls, pt_socket_t s,
    const char *call)
{
    pt_err_t  err;

    err = pt_socket_errno;

    pt_log_error(PT_LOG_EMERG, cycle->log, err, "%s " PT_STR_FMT " failed",
                 call, PT_STR_ARG(ls->addr_text));

    if (s != (pt_socket_t) -1) {
        (void) close(s);
    }

    return err == EADDRINUSE ? PT_AGAIN : PT_ERROR;
}


static pt_int_t
pt_setsockopt_int(pt_socket_t s, int level, int name, int value)
{
    return setsockopt(s, level, name, &value, sizeof(int)) == -1
           ? PT_ERROR : PT_OK;
}


/*
 * Creates, binds and listens one socket.  The descriptor is deliberately
 * not close-on-exec: a binary upgrade passes it to the new executable.
 * PT_AGAIN: the address is in use (the caller retries).
 */
static pt_int_t
pt_listening_open(pt_cycle_t *cycle, pt_listening_t *ls)
{
    int          family;
    pt_int_t     rc;
    pt_socket_t  s;
    char         path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 1];

    family = ls->sockaddr->sa_family;

    if (family == AF_UNIX) {
        rc = pt_listening_unix_stale(cycle, ls);

    } else if (!pt_listening_addr_held(cycle, ls)) {
        rc = pt_listening_probe(cycle, ls);

    } else {
        rc = PT_OK;
    }

    if (rc != PT_OK) {
        return rc;
    }

    s = socket(family, ls->type, 0);

    if (s == (pt_socket_t) -1) {
        return pt_listening_fail(cycle, ls, s, "socket()");
    }

    if (family != AF_UNIX) {
        if (pt_setsockopt_int(s, SOL_SOCKET, SO_REUSEADDR, 1) != PT_OK) {
            return pt_listening_fail(cycle, ls, s, "setsockopt(SO_REUSEADDR)");
        }

        if (ls->reuseport
            && pt_setsockopt_int(s, SOL_SOCKET, SO_REUSEPORT, 1) != PT_OK)
        {
            return pt_listening_fail(cycle, ls, s, "setsockopt(SO_REUSEPORT)");
        }
    }

    if (family == AF_INET6
        && pt_setsockopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, ls->ipv6only)
           != PT_OK)
    {
        return pt_listening_fail(cycle, ls, s, "setsockopt(IPV6_V6ONLY)");
    }

    if (pt_nonblocking(s) == -1) {
        return pt_listening_fail(cycle, ls, s, "ioctl(FIONBIO)");
    }

    if (bind(s, ls->sockaddr, ls->socklen) == -1) {
        return pt_listening_fail(cycle, ls, s, "bind() to");
    }

    if (family == AF_UNIX) {
        pt_listening_unix_path(ls, path, sizeof(path));

        if (chmod(path, 0666) == -1) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "chmod() \"%s\" failed", path);
        }
    }

    if (listen(s, ls->backlog) == -1) {
        return pt_listening_fail(cycle, ls, s, "listen() to");
    }

    ls->fd = s;
    ls->open = 1;
    ls->bound = 1;
    ls->listen = 1;
    ls->nonblocking = 1;

    return PT_OK;
}


/* True when some entry of this cycle for the same address already has a
 * descriptor (taken over from the old cycle, or opened just now). */
static pt_uint_t
pt_listening_addr_held(pt_cycle_t *cycle, pt_listening_t *ls)
{
    pt_uint_t        i;
    pt_listening_t  *e;

    e = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (&e[i] != ls && e[i].fd != (pt_socket_t) -1 && !e[i].ignore
            && pt_cmp_sockaddr(e[i].sockaddr, e[i].socklen,
                               ls->sockaddr, ls->socklen, 1) == PT_OK)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Before the first socket of a new address: SO_REUSEPORT alone would let
 * us silently join a group of sockets another server listens on, so bind
 * a plain probe socket first (SO_REUSEADDR only, which tolerates
 * TIME_WAIT leftovers but not a listener) and give up on EADDRINUSE.
 */
static pt_int_t
pt_listening_probe(pt_cycle_t *cycle, pt_listening_t *ls)
{
    pt_err_t     err;
    pt_socket_t  s;

    s = socket(ls->sockaddr->sa_family, ls->type | SOCK_CLOEXEC, 0);

    if (s == (pt_socket_t) -1) {
        return pt_listening_fail(cycle, ls, s, "socket()");
    }

    (void) pt_setsockopt_int(s, SOL_SOCKET, SO_REUSEADDR, 1);

    if (ls->sockaddr->sa_family == AF_INET6) {
        (void) pt_setsockopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, ls->ipv6only);
    }

    if (bind(s, ls->sockaddr, ls->socklen) == 0) {
        (void) close(s);
        return PT_OK;
    }

    err = pt_socket_errno;

    if (err == EADDRINUSE && pt_listening_overlaps_own(cycle, ls)) {
        /* the conflict may be one of our own sockets (say 127.0.0.1:80
         * while we hold *:80); the probe cannot tell, so trust it */
        (void) close(s);
        return PT_OK;
    }

    pt_set_errno(err);

    return pt_listening_fail(cycle, ls, s, "bind() to");
}


/* Whether a socket we hold (in this cycle or the previous one) covers an
 * address that overlaps ls: same port, and one of them a wildcard. */
static pt_uint_t
pt_listening_overlaps_own(pt_cycle_t *cycle, pt_listening_t *ls)
{
    pt_uint_t        i, k, n;
    pt_cycle_t      *cycles[2];
    pt_listening_t  *e;

    cycles[0] = cycle;
    cycles[1] = cycle->old_cycle;

    for (k = 0; k < 2; k++) {
        if (cycles[k] == NULL || cycles[k]->listening.elts == NULL) {
            continue;
        }

        e = cycles[k]->listening.elts;
        n = cycles[k]->listening.nelts;

        for (i = 0; i < n; i++) {
            if (&e[i] == ls || e[i].fd == (pt_socket_t) -1 || e[i].ignore
                || e[i].sockaddr->sa_family != ls->sockaddr->sa_family
                || pt_inet_get_port(e[i].sockaddr)
                   != pt_inet_get_port(ls->sockaddr))
            {
                continue;
            }

            if (e[i].wildcard || ls->wildcard
                || pt_cmp_sockaddr(e[i].sockaddr, e[i].socklen,
                                   ls->sockaddr, ls->socklen, 0) == PT_OK)
            {
                return 1;
            }
        }
    }

    return 0;
}


/* The NUL-terminated path of a unix-domain listening socket. */
static void
pt_listening_unix_path(pt_listening_t *ls, char *path, size_t len)
{
    size_t               n;
    struct sockaddr_un  *saun;

    saun = (struct sockaddr_un *) ls->sockaddr;

    n = 0;

    if (ls->socklen > (socklen_t) offsetof(struct sockaddr_un, sun_path)) {
        n = ls->socklen - offsetof(struct sockaddr_un, sun_path);
        n = strnlen(saun->sun_path, pt_min(n, sizeof(saun->sun_path)));
    }

    n = pt_min(n, len - 1);
    pt_memcpy(path, saun->sun_path, n);
    path[n] = '\0';
}


/*
 * A unix socket file left by a server that died is removed, but only when
 * nothing listens on it (connect() is refused); a live server keeps it.
 */
static pt_int_t
pt_listening_unix_stale(pt_cycle_t *cycle, pt_listening_t *ls)
{
    pt_err_t     err;
    pt_socket_t  s;
    struct stat  st;
    char         path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 1];

    pt_listening_unix_path(ls, path, sizeof(path));

    if (path[0] == '\0' || stat(path, &st) == -1 || !S_ISSOCK(st.st_mode)) {
        return PT_OK;           /* no file, abstract, or not a socket: bind
                                 * reports what is wrong */
    }

    s = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0);
    if (s == (pt_socket_t) -1) {
        return pt_listening_fail(cycle, ls, s, "socket()");
    }

    if (connect(s, ls->sockaddr, ls->socklen) == 0) {
        (void) close(s);
        pt_set_errno(EADDRINUSE);
        return pt_listening_fail(cycle, ls, -1, "bind() to");
    }

    err = pt_socket_errno;
    (void) close(s);

    if (err == ECONNREFUSED && unlink(path) == -1) {
        pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                     "unlink() %s failed", path);
        return PT_ERROR;
    }

    return PT_OK;
}


/* ---- per-socket settings, closing ---- */

/*
 * Applies the per-socket settings: the log (the server's error_log when
 * the protocol set logp), buffer sizes, keepalive, the backlog of a socket
 * taken over from the previous cycle, and TCP_DEFER_ACCEPT.
 */
void
pt_configure_listening_sockets(pt_cycle_t *cycle)
{
    pt_uint_t        i;
    pt_log_t        *src;
    pt_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        src = ls[i].logp ? ls[i].logp
              : (cycle->new_log.file ? &cycle->new_log : cycle->log);

        ls[i].log = *src;
        ls[i].log.handler = pt_accept_log_error;
        ls[i].log.data = &ls[i].addr_text;

        if (ls[i].fd == (pt_socket_t) -1 || ls[i].ignore) {
            continue;
        }

        if (ls[i].rcvbuf != -1
            && pt_setsockopt_int(ls[i].fd, SOL_SOCKET, SO_RCVBUF,
                                 ls[i].rcvbuf) != PT_OK)
        {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_socket_errno,
                         "setsockopt(SO_RCVBUF, %d) " PT_STR_FMT " failed, "
                         "ignored", ls[i].rcvbuf, PT_STR_ARG(ls[i].addr_text));
        }

        if (ls[i].sndbuf != -1
            && pt_setsockopt_int(ls[i].fd, SOL_SOCKET, SO_SNDBUF,
                                 ls[i].sndbuf) != PT_OK)
        {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_socket_errno,
                         "setsockopt(SO_SNDBUF, %d) " PT_STR_FMT " failed, "
                         "ignored", ls[i].sndbuf, PT_STR_ARG(ls[i].addr_text));
        }

        if (ls[i].keepalive
            && pt_setsockopt_int(ls[i].fd, SOL_SOCKET, SO_KEEPALIVE,
                                 ls[i].keepalive == 1) != PT_OK)
        {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_socket_errno,
                         "setsockopt(SO_KEEPALIVE) " PT_STR_FMT " failed, "
                         "ignored", PT_STR_ARG(ls[i].addr_text));
        }

        /* a socket taken over keeps its old backlog unless listen again */
        if (ls[i].previous && ls[i].previous->backlog != ls[i].backlog
            && listen(ls[i].fd, ls[i].backlog) == -1)
        {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_socket_errno,
                         "listen() to " PT_STR_FMT ", backlog %d failed, "
                         "ignored", PT_STR_ARG(ls[i].addr_text),
                         ls[i].backlog);
        }

        pt_listening_configure_deferred(cycle, &ls[i]);
    }
}


/* TCP_DEFER_ACCEPT: wake the worker only when the request has arrived. */
static void
pt_listening_configure_deferred(pt_cycle_t *cycle, pt_listening_t *ls)
{
    int  timeout;

    if (ls->sockaddr->sa_family == AF_UNIX) {
        return;
    }

    if (ls->deferred_accept) {
        timeout = ls->post_accept_timeout
                  ? (int) ((ls->post_accept_timeout + 999) / 1000) : 60;

    } else if (ls->previous && ls->previous->deferred_accept) {
        timeout = 0;            /* switched off by the new configuration */

    } else {
        return;
    }

    if (pt_setsockopt_int(ls->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, timeout)
        != PT_OK)
    {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_socket_errno,
                     "setsockopt(TCP_DEFER_ACCEPT, %d) for " PT_STR_FMT
                     " failed, ignored", timeout, PT_STR_ARG(ls->addr_text));
        ls->deferred_accept = 0;
    }
}


/*
 * Closes every listening socket of the cycle.  In a worker these are its
 * own copies (the accept events leave epoll first); in the master or a
 * single process at exit the sockets themselves, and then the files of
 * unix sockets go too, unless a new binary has taken them over.
 */
void
pt_close_listening_sockets(pt_cycle_t *cycle)
{
    char             path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 1];
    pt_uint_t        i;
    pt_listening_t  *ls;

    if (cycle->listening.elts == NULL) {
        return;
    }

    if (cycle->connections) {
        pt_close_worker_listeners(cycle);
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != (pt_socket_t) -1 && close(ls[i].fd) == -1) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_socket_errno,
                         "close() socket " PT_STR_FMT " failed",
                         PT_STR_ARG(ls[i].addr_text));
        }

        ls[i].fd = (pt_socket_t) -1;

        /* (a single process closed its descriptors in exit_process
         * already; the file still has to go) */
        if (ls[i].sockaddr == NULL || ls[i].sockaddr->sa_family != AF_UNIX
            || ls[i].ignore || pt_new_binary
            || (pt_process != PT_PROCESS_MASTER
                && pt_process != PT_PROCESS_SINGLE))
        {
            continue;
        }

        pt_listening_unix_path(&ls[i], path, sizeof(path));

        if (path[0] && unlink(path) == -1 && pt_errno != ENOENT) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "unlink() %s failed", path);
        }
    }

    cycle->listening.nelts = 0;
}


/* The context of a log line about a listening socket. */
static u_char *
pt_accept_log_error(pt_log_t *log, u_char *buf, size_t len)
{
    pt_str_t  *addr = log->data;

    return pt_slprintf(buf, buf + len, " while accepting new connection on "
                       PT_STR_FMT, PT_STR_ARG(*addr));
}


/* ---- the connection table ---- */

/*
 * Takes a free slot for socket s.  Its events are cleared except for the
 * instance bit, which is flipped: epoll results still queued for the
 * slot's previous connection carry the old bit and are ignored.  When no
 * slot is free, idle keepalive connections are reclaimed first (as nginx
 * does); if that does not help, NULL (logged at most once a second).
 */
pt_connection_t *
pt_get_connection(pt_socket_t s, pt_log_t *log)
{
    pt_uint_t         instance;
    pt_cycle_t       *cycle;
    pt_event_t       *rev, *wev;
    pt_connection_t  *c;
    static time_t     last;

    cycle = (pt_cycle_t *) pt_cycle;

    c = cycle->free_connections;

    if (c == NULL) {
        pt_drain_connections(cycle);
        c = cycle->free_connections;
    }

    if (c == NULL) {
        if (last != pt_time()) {
            last = pt_time();
            pt_log_error(PT_LOG_ALERT, log, 0,
                         "%" PRIuPTR " worker_connections are not enough",
                         (uintptr_t) cycle->connection_n);
        }

        return NULL;
    }

    cycle->free_connections = c->data;
    cycle->free_connection_n--;

    rev = c->read;
    wev = c->write;

    pt_memzero(c, sizeof(pt_connection_t));

    c->read = rev;
    c->write = wev;
    c->fd = s;
    c->log = log;

    instance = rev->instance;

    pt_memzero(rev, sizeof(pt_event_t));
    pt_memzero(wev, sizeof(pt_event_t));

    rev->instance = !instance;
    wev->instance = !instance;

    rev->index = PT_INVALID_INDEX;
    wev->index = PT_INVALID_INDEX;

    rev->data = c;
    wev->data = c;
    wev->write = 1;

    rev->log = log;
    wev->log = log;

    /* harmless until the protocol installs its own: an edge-triggered
     * registration reports writability at once */
    rev->handler = pt_event_noop_handler;
    wev->handler = pt_event_noop_handler;

    pt_queue_init(&c->queue);

    return c;
}


static void
pt_event_noop_handler(pt_event_t *ev)
{
    (void) ev;
}


void
pt_free_connection(pt_connection_t *c)
{
    pt_cycle_t  *cycle;

    cycle = (pt_cycle_t *) pt_cycle;

    c->data = cycle->free_connections;
    cycle->free_connections = c;
    cycle->free_connection_n++;
}


/*
 * Closes c: cancels its timers and posted events, forgets it in epoll
 * (closing the descriptor does that, so no system call), closes the
 * socket and frees the slot.  The connection's pool is NOT destroyed:
 * as in nginx, the protocol owns it and destroys it after this call
 * (c->pool stays valid until then).
 */
void
pt_close_connection(pt_connection_t *c)
{
    pt_err_t     err;
    pt_uint_t    level;
    pt_socket_t  fd;

    if (c->fd == (pt_socket_t) -1) {
        pt_log_error(PT_LOG_ALERT, c->log, 0, "connection already closed");
        return;
    }

    pt_log_debug(PT_LOG_DEBUG_CORE, c->log, 0, "close connection: fd:%d", c->fd);

    if (c->read->timer_set) {
        pt_event_del_timer(c->read);
    }

    if (c->write->timer_set) {
        pt_event_del_timer(c->write);
    }

    (void) pt_del_conn(c, PT_CLOSE_EVENT);

    if (c->read->posted) {
        pt_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        pt_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    pt_reusable_connection(c, 0);

    fd = c->fd;
    c->fd = (pt_socket_t) -1;

    pt_free_connection(c);

    if (close(fd) == -1) {
        err = pt_socket_errno;

        level = (err == ECONNRESET || err == ENOTCONN) ? PT_LOG_INFO
                                                        : PT_LOG_CRIT;

        pt_log_error(level, pt_cycle->log, err, "close() socket %d failed", fd);
    }
}


/*
 * Puts c on (reusable = 1) or takes it off the cycle's queue of idle
 * connections, most recently idle first.  A slot shortage reclaims from
 * the tail: the connections idle the longest.
 */
void
pt_reusable_connection(pt_connection_t *c, pt_uint_t reusable)
{
    pt_cycle_t  *cycle;

    cycle = (pt_cycle_t *) pt_cycle;

    if (c->reusable) {
        pt_queue_remove(&c->queue);
        cycle->reusable_connections_n--;
    }

    c->reusable = reusable ? 1 : 0;

    if (reusable) {
        pt_queue_insert_head(&cycle->reusable_connections_queue, &c->queue);
        cycle->reusable_connections_n++;
    }
}


/*
 * Out of slots: closes up to PT_DRAIN_CONNECTIONS of the longest-idle
 * reusable connections.  Each is told to close (c->close) and its read
 * handler runs as if its timer expired, so the protocol closes it the
 * usual way and its slot returns to the free list.
 */
static void
pt_drain_connections(pt_cycle_t *cycle)
{
    pt_uint_t         i;
    pt_queue_t       *q;
    pt_connection_t  *c;
    static time_t     last;

    if (cycle->reusable_connections_n == 0) {
        return;
    }

    if (last != pt_time()) {
        last = pt_time();
        pt_log_error(PT_LOG_WARN, cycle->log, 0,
                     "%" PRIuPTR " worker_connections are not enough, "
                     "reusing connections", (uintptr_t) cycle->connection_n);
    }

    for (i = 0; i < PT_DRAIN_CONNECTIONS; i++) {
        if (pt_queue_empty(&cycle->reusable_connections_queue)) {
            break;
        }

        q = pt_queue_last(&cycle->reusable_connections_queue);
        c = pt_queue_data(q, pt_connection_t, queue);

        c->close = 1;
        c->read->timedout = 1;

        /* a handler that does not close must not make us loop */
        pt_reusable_connection(c, 0);

        c->read->handler(c->read);
    }
}


/*
 * Graceful shutdown: every idle connection gets c->close and a read timer
 * of at most grace ms.  The protocol's idle handler closes it when the
 * timer fires, or answers one last request that is already on its way
 * (with "Connection: close").  Connections in the middle of a request are
 * left alone; they close after their response because of pt_exiting.
 */
void
pt_drain_idle_connections(pt_cycle_t *cycle, pt_msec_t grace)
{
    pt_uint_t         i;
    pt_event_t       *rev;
    pt_connection_t  *c;

    c = cycle->connections;

    if (c == NULL) {
        return;
    }

    for (i = 0; i < cycle->connection_n; i++) {
        if (c[i].fd == (pt_socket_t) -1 || !c[i].idle || c[i].read->accept) {
            continue;
        }

        c[i].close = 1;
        rev = c[i].read;

        if (rev->timer_set
            && (pt_msec_int_t) (rev->timer.key - pt_current_msec)
               <= (pt_msec_int_t) grace)
        {
            continue;           /* it expires sooner anyway */
        }

        if (rev->timer_set) {
            pt_event_del_timer(rev);
        }

        pt_event_add_timer(rev, grace);
    }
}


/* Connections in use, not counting this worker's listening ones. */
pt_uint_t
pt_active_connections(pt_cycle_t *cycle)
{
    pt_uint_t        i, n;
    pt_listening_t  *ls;

    if (cycle->connections == NULL) {
        return 0;
    }

    n = cycle->connection_n - cycle->free_connection_n;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].connection) {
            n--;
        }
    }

    return n;
}


/*
 * The local address of c as text (into s, whose len is the buffer size on
 * entry), with ":port" when port is set.  A wildcard listener does not
 * know which of its addresses a client reached, so getsockname() is asked
 * once and the result kept in the connection's pool.
 */
pt_int_t
pt_connection_local_sockaddr(pt_connection_t *c, pt_str_t *s, pt_uint_t port)
{
    socklen_t         len;
    pt_sockaddr_t     sa;
    struct sockaddr  *local;

    local = c->local_sockaddr;

    if (local == NULL || pt_inet_wildcard(local)) {
        len = sizeof(pt_sockaddr_t);

        if (getsockname(c->fd, &sa.sockaddr, &len) == -1) {
            pt_connection_error(c, pt_socket_errno, "getsockname() failed");
            return PT_ERROR;
        }

        if (len > (socklen_t) sizeof(pt_sockaddr_t)) {
            len = sizeof(pt_sockaddr_t);
        }

        local = pt_palloc(c->pool, len);
        if (local == NULL) {
            return PT_ERROR;
        }

        pt_memcpy(local, &sa, len);

        c->local_sockaddr = local;
        c->local_socklen = len;
    }

    if (s == NULL) {
        return PT_OK;
    }

    s->len = pt_sock_ntop(c->local_sockaddr, c->local_socklen, s->data,
                          s->len, port);

    return PT_OK;
}


/* Turns Nagle off on c once (not for unix sockets, which have none). */
pt_int_t
pt_tcp_nodelay(pt_connection_t *c)
{
    if (c->tcp_nodelay != PT_TCP_NODELAY_UNSET) {
        return PT_OK;
    }

    if (c->sockaddr && c->sockaddr->sa_family == AF_UNIX) {
        c->tcp_nodelay = PT_TCP_NODELAY_DISABLED;
        return PT_OK;
    }

    if (pt_setsockopt_int(c->fd, IPPROTO_TCP, TCP_NODELAY, 1) != PT_OK) {
        pt_connection_error(c, pt_socket_errno,
                            "setsockopt(TCP_NODELAY) failed");
        return PT_ERROR;
    }

    c->tcp_nodelay = PT_TCP_NODELAY_SET;

    return PT_OK;
}


/*
 * Logs a socket error at the level it deserves: what the peer or the
 * network causes (reset, timeout, unreachable) at info for client
 * connections (c->log_error), at error otherwise; anything else at alert.
 * Returns 0 for an error the connection was told to ignore, else PT_ERROR.
 */
pt_int_t
pt_connection_error(pt_connection_t *c, pt_err_t err, char *text)
{
    pt_uint_t  level;

    if (err == ECONNRESET && c->log_error == PT_ERROR_IGNORE_ECONNRESET) {
        return 0;
    }

    if (err == EINVAL && c->log_error == PT_ERROR_IGNORE_EINVAL) {
        return 0;
    }

    switch (err) {

    case 0:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:

        switch (c->log_error) {

        case PT_ERROR_IGNORE_EINVAL:
        case PT_ERROR_IGNORE_ECONNRESET:
        case PT_ERROR_INFO:
            level = PT_LOG_INFO;
            break;

        default:
            level = PT_LOG_ERR;
        }

        break;

    default:
        level = PT_LOG_ALERT;
    }

    pt_log_error(level, c->log, err, "%s", text);

    return PT_ERROR;
}
