/*
 * pt_event.c: the events {} block, the event core module and the loop.
 *
 * pt_events_module (a core module) owns the "events" block: it creates the
 * configuration of every event module, parses the block with the event
 * modules' directives, and completes each configuration.
 *
 * pt_event_core_module holds worker_connections, use, multi_accept and
 * accept_mutex, and sets up each worker after fork: timers, posted queues,
 * the epoll backend, the connection table with its free list, and one
 * accept "connection" per listening socket that belongs to this worker.
 *
 * Every address has one SO_REUSEPORT socket per worker slot, so the kernel
 * spreads new connections over the workers and no accept lock is needed.
 */

#include "portico.h"

static char *pt_events_block(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_event_init_conf(pt_cycle_t *cycle, void *conf);
static char *pt_event_use(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_event_check_connections(pt_conf_t *cf, void *post, void *data);
static void *pt_event_core_create_conf(pt_cycle_t *cycle);
static char *pt_event_core_init_conf(pt_cycle_t *cycle, void *conf);
static pt_int_t pt_event_core_init_module(pt_cycle_t *cycle);
static pt_int_t pt_event_core_init_process(pt_cycle_t *cycle);
static void pt_event_core_exit_process(pt_cycle_t *cycle);
static pt_int_t pt_event_init_connections(pt_cycle_t *cycle,
    pt_event_conf_t *ecf);
static pt_int_t pt_event_init_listening(pt_cycle_t *cycle);
static void pt_event_remove_listener(pt_listening_t *ls);

pt_event_actions_t  pt_event_actions;
pt_uint_t           pt_event_flags;

/*
 * Set while accepting is paused after EMFILE/ENFILE (pt_event_accept.c).
 * nginx also uses its counterpart to balance load between workers that
 * share one socket; with a socket per worker the kernel balances instead.
 */
pt_uint_t           pt_accept_disabled;

static pt_uint_t    pt_event_max_module;


/* ---- the events {} block ---- */

static pt_command_t  pt_events_commands[] = {

    { pt_string("events"),
      PT_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_NOARGS,
      pt_events_block,
      0,
      0,
      NULL },

    pt_null_command
};

static pt_core_module_t  pt_events_module_ctx = {
    pt_string("events"),
    NULL,
    pt_event_init_conf
};

pt_module_t  pt_events_module = {
    PT_MODULE_V1,
    &pt_events_module_ctx,
    pt_events_commands,
    PT_CORE_MODULE,
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* ---- the event core module ---- */

static pt_str_t  event_core_name = pt_string("event_core");

static pt_conf_post_t  pt_event_connections_post = { pt_event_check_connections };

static pt_command_t  pt_event_core_commands[] = {

    { pt_string("worker_connections"),
      PT_EVENT_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot,
      0,
      offsetof(pt_event_conf_t, connections),
      &pt_event_connections_post },

    { pt_string("use"),
      PT_EVENT_CONF|PT_CONF_TAKE1,
      pt_event_use,
      0,
      0,
      NULL },

    { pt_string("multi_accept"),
      PT_EVENT_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot,
      0,
      offsetof(pt_event_conf_t, multi_accept),
      NULL },

    /*
     * Accepted for nginx compatibility only.  The accept mutex exists to
     * keep workers that share one listening socket from all waking up for
     * each connection; here every worker has its own SO_REUSEPORT socket,
     * so there is nothing to serialize and the setting has no effect.
     */
    { pt_string("accept_mutex"),
      PT_EVENT_CONF|PT_CONF_FLAG,
      pt_conf_set_flag_slot,
      0,
      offsetof(pt_event_conf_t, accept_mutex),
      NULL },

    /* Also the pause after accept4() runs out of descriptors. */
    { pt_string("accept_mutex_delay"),
      PT_EVENT_CONF|PT_CONF_TAKE1,
      pt_conf_set_msec_slot,
      0,
      offsetof(pt_event_conf_t, accept_mutex_delay),
      NULL },

    pt_null_command
};

static pt_event_module_t  pt_event_core_module_ctx = {
    &event_core_name,
    pt_event_core_create_conf,
    pt_event_core_init_conf,
    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};

pt_module_t  pt_event_core_module = {
    PT_MODULE_V1,
    &pt_event_core_module_ctx,
    pt_event_core_commands,
    PT_EVENT_MODULE,
    NULL,                               /* init master */
    pt_event_core_init_module,
    pt_event_core_init_process,
    pt_event_core_exit_process,
    NULL                                /* exit master */
};


/*
 * The "events" block: creates every event module's configuration, parses
 * the block in the event context, then completes the configurations.
 */
static char *
pt_events_block(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char                 *rv;
    void               ***ctx;
    pt_uint_t             i;
    pt_conf_t             pcf;
    pt_module_t          *mod;
    pt_event_module_t    *m;

    (void) cmd;

    if (*(void **) conf) {
        return "is duplicate";
    }

    pt_event_max_module = pt_count_modules(cf->cycle, PT_EVENT_MODULE);

    ctx = pt_pcalloc(cf->pool, sizeof(void *));
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    *ctx = pt_pcalloc(cf->pool, pt_event_max_module * sizeof(void *));
    if (*ctx == NULL) {
        return PT_CONF_ERROR;
    }

    *(void **) conf = ctx;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        mod = cf->cycle->modules[i];

        if (mod->type != PT_EVENT_MODULE) {
            continue;
        }

        m = mod->ctx;

        if (m->create_conf) {
            (*ctx)[mod->ctx_index] = m->create_conf(cf->cycle);
            if ((*ctx)[mod->ctx_index] == NULL) {
                return PT_CONF_ERROR;
            }
        }
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->module_type = PT_EVENT_MODULE;
    cf->cmd_type = PT_EVENT_CONF;

    rv = pt_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != PT_CONF_OK) {
        return rv;
    }

    for (i = 0; i < cf->cycle->modules_n; i++) {
        mod = cf->cycle->modules[i];

        if (mod->type != PT_EVENT_MODULE) {
            continue;
        }

        m = mod->ctx;

        if (m->init_conf) {
            rv = m->init_conf(cf->cycle, (*ctx)[mod->ctx_index]);
            if (rv != PT_CONF_OK) {
                return rv;
            }
        }
    }

    return PT_CONF_OK;
}


/* The events module's init_conf: the block is mandatory, as in nginx. */
static char *
pt_event_init_conf(pt_cycle_t *cycle, void *conf)
{
    (void) conf;

    if (pt_get_conf(cycle->conf_ctx, pt_events_module) == NULL) {
        pt_log_error(PT_LOG_EMERG, cycle->log, 0,
                     "no \"events\" section in configuration");
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}


/* "use epoll": picks the event backend by name (only epoll exists). */
static char *
pt_event_use(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_event_conf_t  *ecf = conf;

    pt_str_t           *value;
    pt_uint_t           i;
    pt_module_t        *mod;
    pt_event_module_t  *m;

    (void) cmd;

    if (ecf->use != PT_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        mod = cf->cycle->modules[i];

        if (mod->type != PT_EVENT_MODULE || mod == &pt_event_core_module) {
            continue;
        }

        m = mod->ctx;

        if (m->name->len == value[1].len
            && pt_memcmp(m->name->data, value[1].data, value[1].len) == 0)
        {
            ecf->use = mod->ctx_index;
            ecf->name = m->name->data;
            return PT_CONF_OK;
        }
    }

    pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid event type \"" PT_STR_FMT
                      "\"", PT_STR_ARG(value[1]));

    return PT_CONF_ERROR;
}


static void *
pt_event_core_create_conf(pt_cycle_t *cycle)
{
    pt_event_conf_t  *ecf;

    ecf = pt_palloc(cycle->pool, sizeof(pt_event_conf_t));
    if (ecf == NULL) {
        return NULL;
    }

    ecf->connections = PT_CONF_UNSET_UINT;
    ecf->use = PT_CONF_UNSET_UINT;
    ecf->multi_accept = PT_CONF_UNSET;
    ecf->accept_mutex = PT_CONF_UNSET;
    ecf->accept_mutex_delay = PT_CONF_UNSET_MSEC;
    ecf->name = PT_CONF_UNSET_PTR;

    return ecf;
}


/* The init_conf check below, made where the value is read, so that the
 * error names the file and line. */
static char *
pt_event_check_connections(pt_conf_t *cf, void *post, void *data)
{
    pt_uint_t  *np = data;

    if (*np < 2) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "%" PRIuPTR " worker_connections are not enough",
                          (uintptr_t) *np);
        return PT_CONF_ERROR;
    }

    return PT_CONF_OK;
}


static char *
pt_event_core_init_conf(pt_cycle_t *cycle, void *conf)
{
    pt_event_conf_t  *ecf = conf;

    pt_uint_t           i;
    pt_module_t        *mod;
    pt_event_module_t  *m;

    pt_conf_init_uint_value(ecf->connections, 512);
    pt_conf_init_value(ecf->multi_accept, 0);
    pt_conf_init_value(ecf->accept_mutex, 0);
    pt_conf_init_msec_value(ecf->accept_mutex_delay, 500);

    if (ecf->connections < 2) {
        pt_log_error(PT_LOG_EMERG, cycle->log, 0,
                     "%" PRIuPTR " worker_connections are not enough",
                     (uintptr_t) ecf->connections);
        return PT_CONF_ERROR;
    }

    if (ecf->use != PT_CONF_UNSET_UINT) {
        return PT_CONF_OK;
    }

    /* the default backend: the first one compiled in (epoll) */
    for (i = 0; i < cycle->modules_n; i++) {
        mod = cycle->modules[i];

        if (mod->type != PT_EVENT_MODULE || mod == &pt_event_core_module) {
            continue;
        }

        m = mod->ctx;
        ecf->use = mod->ctx_index;
        ecf->name = m->name->data;

        return PT_CONF_OK;
    }

    pt_log_error(PT_LOG_EMERG, cycle->log, 0, "no events module found");

    return PT_CONF_ERROR;
}


/* In the master after the configuration: warn when worker_connections
 * cannot be reached under the open-file limit, as nginx does. */
static pt_int_t
pt_event_core_init_module(pt_cycle_t *cycle)
{
    void             ***cf;
    struct rlimit       rlmt;
    pt_core_conf_t     *ccf;
    pt_event_conf_t    *ecf;

    if (pt_connection_counter_init(cycle->log) != PT_OK) {
        return PT_ERROR;
    }

    cf = pt_get_conf(cycle->conf_ctx, pt_events_module);
    if (cf == NULL) {
        return PT_OK;
    }

    ecf = (*cf)[pt_event_core_module.ctx_index];
    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    if (getrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
        return PT_OK;
    }

    if (ccf && ccf->rlimit_nofile != PT_CONF_UNSET) {
        return PT_OK;
    }

    if (rlmt.rlim_cur != RLIM_INFINITY
        && ecf->connections > (pt_uint_t) rlmt.rlim_cur)
    {
        pt_log_error(PT_LOG_WARN, cycle->log, 0,
                     "%" PRIuPTR " worker_connections exceed "
                     "open file resource limit: %" PRIuPTR,
                     (uintptr_t) ecf->connections, (uintptr_t) rlmt.rlim_cur);
    }

    return PT_OK;
}


/*
 * In each worker after fork: timers, the backend, the connection table,
 * and the accept events of this worker's listening sockets.
 */
static pt_int_t
pt_event_core_init_process(pt_cycle_t *cycle)
{
    pt_uint_t           i;
    pt_module_t        *mod;
    pt_event_conf_t    *ecf;
    pt_event_module_t  *m;

    ecf = pt_event_get_conf(cycle->conf_ctx, pt_event_core_module);

    pt_queue_init(&pt_posted_accept_events);
    pt_queue_init(&pt_posted_events);
    pt_queue_init(&pt_posted_next_events);

    if (pt_event_timer_init(cycle->log) != PT_OK) {
        return PT_ERROR;
    }

    for (i = 0; i < cycle->modules_n; i++) {
        mod = cycle->modules[i];

        if (mod->type != PT_EVENT_MODULE || mod->ctx_index != ecf->use) {
            continue;
        }

        m = mod->ctx;

        if (m->actions.init(cycle, 0) != PT_OK) {
            return PT_ERROR;
        }

        break;
    }

    if (pt_event_init_connections(cycle, ecf) != PT_OK) {
        return PT_ERROR;
    }

    return pt_event_init_listening(cycle);
}


/* The listeners leave epoll while the epoll descriptor still exists. */
static void
pt_event_core_exit_process(pt_cycle_t *cycle)
{
    if (cycle->connections) {
        pt_close_worker_listeners(cycle);
    }

    if (pt_event_actions.done) {
        pt_event_actions.done(cycle);
    }
}


/* The connection table and its two event arrays; all slots start free. */
static pt_int_t
pt_event_init_connections(pt_cycle_t *cycle, pt_event_conf_t *ecf)
{
    pt_uint_t         i, n;
    pt_event_t       *rev, *wev;
    pt_connection_t  *c, *next;

    n = ecf->connections;

    cycle->connection_n = n;

    cycle->connections = pt_calloc(sizeof(pt_connection_t) * n, cycle->log);
    cycle->read_events = pt_calloc(sizeof(pt_event_t) * n, cycle->log);
    cycle->write_events = pt_calloc(sizeof(pt_event_t) * n, cycle->log);

    if (cycle->connections == NULL || cycle->read_events == NULL
        || cycle->write_events == NULL)
    {
        return PT_ERROR;
    }

    c = cycle->connections;
    rev = cycle->read_events;
    wev = cycle->write_events;

    for (i = 0; i < n; i++) {
        rev[i].closed = 1;
        rev[i].instance = 1;
        wev[i].closed = 1;
    }

    next = NULL;
    i = n;

    do {
        i--;

        c[i].data = next;
        c[i].read = &rev[i];
        c[i].write = &wev[i];
        c[i].fd = -1;

        next = &c[i];
    } while (i);

    cycle->free_connections = next;
    cycle->free_connection_n = n;

    pt_queue_init(&cycle->reusable_connections_queue);
    cycle->reusable_connections_n = 0;

    return PT_OK;
}


/*
 * Takes this worker's listening sockets into the event loop.  The worker
 * inherited every socket of every slot from the master; the ones that
 * belong to other slots are closed here (the master keeps its copies).
 * A shared socket (a unix-domain one, which cannot be duplicated with
 * SO_REUSEPORT) is used by all workers, with EPOLLEXCLUSIVE so a new
 * connection wakes only one of them.
 */
static pt_int_t
pt_event_init_listening(pt_cycle_t *cycle)
{
    pt_uint_t         i;
    pt_event_t       *rev;
    pt_listening_t   *ls;
    pt_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].fd == -1 || ls[i].ignore) {
            continue;
        }

        if (ls[i].worker != pt_worker && !ls[i].shared) {
            if (close(ls[i].fd) == -1) {
                pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                             "close() of listening socket %d failed",
                             ls[i].fd);
            }
            ls[i].fd = -1;
            continue;
        }

        c = pt_get_connection(ls[i].fd, cycle->log);
        if (c == NULL) {
            return PT_ERROR;
        }

        c->type = ls[i].type;
        c->log = &ls[i].log;
        c->listening = &ls[i];
        ls[i].connection = c;

        rev = c->read;
        rev->log = c->log;
        rev->accept = 1;
        rev->handler = pt_event_accept;
        c->write->log = c->log;

        if (ls[i].deferred_accept) {
            rev->deferred_accept = 1;
        }

        if (pt_add_event(rev, PT_READ_EVENT,
                         ls[i].shared ? EPOLLEXCLUSIVE : 0) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    return PT_OK;
}


/* ---- the loop ---- */

void
pt_process_events_and_timers(pt_cycle_t *cycle)
{
    pt_msec_t  timer;

    timer = pt_event_find_timer();

    if (!pt_queue_empty(&pt_posted_next_events)) {
        pt_event_move_posted_next(cycle);
        timer = 0;
    }

    (void) pt_process_events(cycle, timer, PT_UPDATE_TIME|PT_POST_EVENTS);

    pt_event_process_posted(cycle, &pt_posted_accept_events);

    pt_event_expire_timers();

    pt_event_process_posted(cycle, &pt_posted_events);
}


/*
 * A connection added with pt_add_conn() is registered for both directions
 * already, and these do nothing.  Otherwise the direction is registered
 * edge-triggered, once.
 */
pt_int_t
pt_handle_read_event(pt_event_t *rev, pt_uint_t flags)
{
    (void) flags;

    if (!rev->active && !rev->ready) {
        return pt_add_event(rev, PT_READ_EVENT, PT_CLEAR_EVENT);
    }

    return PT_OK;
}


pt_int_t
pt_handle_write_event(pt_event_t *wev, size_t lowat)
{
    int               sndlowat;
    pt_connection_t  *c;

    if (lowat) {
        c = wev->data;

        if (!c->sndlowat) {
            sndlowat = (int) lowat;

            if (setsockopt(c->fd, SOL_SOCKET, SO_SNDLOWAT, &sndlowat,
                           sizeof(int)) == -1)
            {
                pt_connection_error(c, pt_socket_errno,
                                    "setsockopt(SO_SNDLOWAT) failed");
                return PT_ERROR;
            }

            c->sndlowat = 1;
        }
    }

    if (!wev->active && !wev->ready) {
        return pt_add_event(wev, PT_WRITE_EVENT, PT_CLEAR_EVENT);
    }

    return PT_OK;
}


/* ---- listener control in the worker ---- */

pt_int_t
pt_enable_accept_events(pt_cycle_t *cycle)
{
    pt_uint_t        i;
    pt_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].connection == NULL || ls[i].connection->read->active) {
            continue;
        }

        if (pt_add_event(ls[i].connection->read, PT_READ_EVENT,
                         ls[i].shared ? EPOLLEXCLUSIVE : 0) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    pt_accept_disabled = 0;

    return PT_OK;
}


pt_int_t
pt_disable_accept_events(pt_cycle_t *cycle)
{
    pt_uint_t        i;
    pt_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].connection == NULL || !ls[i].connection->read->active) {
            continue;
        }

        if (pt_del_event(ls[i].connection->read, PT_READ_EVENT, 0) != PT_OK) {
            return PT_ERROR;
        }
    }

    pt_accept_disabled = 1;

    return PT_OK;
}


/*
 * Stops accepting in this worker for good (graceful stop or reload): the
 * accept events leave epoll explicitly (the master holds the same socket,
 * so close() alone would not remove them) and the worker's copies of its
 * sockets are closed.  Connections still queued on them stay in the
 * kernel and go to the next worker that takes the slot.
 */
void
pt_close_worker_listeners(pt_cycle_t *cycle)
{
    pt_uint_t        i;
    pt_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].connection == NULL) {
            continue;
        }

        pt_event_remove_listener(&ls[i]);

        if (close(ls[i].fd) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "close() of listening socket %d failed", ls[i].fd);
        }

        ls[i].fd = -1;
    }
}


/* Frees the accept connection of ls; the socket itself stays open. */
static void
pt_event_remove_listener(pt_listening_t *ls)
{
    pt_event_t       *rev;
    pt_connection_t  *c;

    c = ls->connection;
    rev = c->read;

    if (rev->timer_set) {
        pt_event_del_timer(rev);
    }

    if (rev->posted) {
        pt_delete_posted_event(rev);
    }

    (void) pt_del_event(rev, PT_READ_EVENT, 0);

    rev->closed = 1;
    c->write->closed = 1;
    c->fd = -1;

    pt_free_connection(c);

    ls->connection = NULL;
}

