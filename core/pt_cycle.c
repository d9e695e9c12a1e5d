/*
 * pt_cycle.c: building the runtime from a configuration.
 *
 * pt_init_cycle() runs named steps: create, parse, open files, shared
 * memory, listeners, init modules, release old.  Any failure undoes what
 * the new cycle acquired and returns NULL, so the running cycle keeps
 * serving.  The old cycle's pool is not destroyed here: its workers may
 * still be draining, and the process code frees it once they are gone.
 */

#include "portico.h"

volatile pt_cycle_t  *pt_cycle;

pt_uint_t  pt_test_config;
pt_uint_t  pt_dump_config;
pt_uint_t  pt_quiet_mode;

static pt_cycle_t *pt_cycle_create(pt_cycle_t *old_cycle);
static pt_int_t pt_cycle_parse(pt_cycle_t *cycle, pt_cycle_t *old_cycle);
static pt_int_t pt_cycle_open_files(pt_cycle_t *cycle);
static pt_int_t pt_cycle_shared_memory(pt_cycle_t *cycle, pt_cycle_t *old_cycle);
static pt_int_t pt_cycle_listeners(pt_cycle_t *cycle, pt_cycle_t *old_cycle);
static void pt_cycle_release_old(pt_cycle_t *cycle, pt_cycle_t *old_cycle);
static void pt_cycle_rollback(pt_cycle_t *cycle, pt_cycle_t *old_cycle);
static pt_int_t pt_shm_zone_init(pt_cycle_t *cycle, pt_shm_zone_t *zone);

pt_cycle_t *
pt_init_cycle(pt_cycle_t *old_cycle)
{
    pt_cycle_t  *cycle;

    pt_time_update();

    cycle = pt_cycle_create(old_cycle);
    if (cycle == NULL) {
        return NULL;
    }

    if (pt_cycle_parse(cycle, old_cycle) != PT_OK) {
        pt_destroy_pool(cycle->pool);
        return NULL;
    }

    if (pt_process == PT_PROCESS_SIGNALLER) {
        return cycle;
    }

    if (pt_log_open_default(cycle) != PT_OK
        || pt_cycle_open_files(cycle) != PT_OK
        || pt_create_paths(cycle, ((pt_core_conf_t *)
                                   pt_get_conf(cycle->conf_ctx, pt_core_module))->user)
           != PT_OK)
    {
        goto failed;
    }

    cycle->log = &cycle->new_log;

    if (pt_test_config) {
        return cycle;
    }

    if (pt_cycle_shared_memory(cycle, old_cycle) != PT_OK
        || pt_cycle_listeners(cycle, old_cycle) != PT_OK
        || pt_init_modules(cycle) != PT_OK)
    {
        goto failed;
    }

    pt_cycle_release_old(cycle, old_cycle);

    return cycle;

failed:

    cycle->log = old_cycle->log;
    pt_cycle_rollback(cycle, old_cycle);
    return NULL;
}

/* Step 1: a new cycle with the old one's command-line settings. */
static pt_cycle_t *
pt_cycle_create(pt_cycle_t *old_cycle)
{
    char         hostname[256];
    pt_pool_t   *pool;
    pt_cycle_t  *cycle;

    pool = pt_create_pool(PT_CYCLE_POOL_SIZE, old_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    cycle = pt_pcalloc(pool, sizeof(pt_cycle_t));
    if (cycle == NULL) {
        goto failed;
    }

    cycle->pool = pool;
    cycle->log = old_cycle->log;
    cycle->old_cycle = old_cycle;

    if (pt_pstrdup_z(pool, &cycle->conf_prefix, &old_cycle->conf_prefix) != PT_OK
        || pt_pstrdup_z(pool, &cycle->prefix, &old_cycle->prefix) != PT_OK
        || pt_pstrdup_z(pool, &cycle->error_log, &old_cycle->error_log) != PT_OK
        || pt_pstrdup_z(pool, &cycle->conf_file, &old_cycle->conf_file) != PT_OK
        || pt_pstrdup_z(pool, &cycle->conf_param, &old_cycle->conf_param) != PT_OK)
    {
        goto failed;
    }

    if (pt_array_init(&cycle->paths, pool, 4, sizeof(void *)) != PT_OK
        || pt_array_init(&cycle->config_dump, pool, 1, sizeof(pt_conf_dump_t))
           != PT_OK
        || pt_list_init(&cycle->open_files, pool, 16, sizeof(pt_open_file_t))
           != PT_OK
        || pt_list_init(&cycle->shared_memory, pool, 4, sizeof(pt_shm_zone_t))
           != PT_OK
        || pt_array_init(&cycle->listening, pool, 8, sizeof(pt_listening_t))
           != PT_OK)
    {
        goto failed;
    }

    pt_queue_init(&cycle->reusable_connections_queue);

    if (gethostname(hostname, sizeof(hostname) - 1) == -1) {
        pt_log_error(PT_LOG_EMERG, old_cycle->log, pt_errno, "gethostname() failed");
        goto failed;
    }

    hostname[sizeof(hostname) - 1] = '\0';
    cycle->hostname.len = pt_strlen(hostname);
    cycle->hostname.data = pt_pnalloc(pool, cycle->hostname.len);
    if (cycle->hostname.data == NULL) {
        goto failed;
    }
    pt_strlow(cycle->hostname.data, (u_char *) hostname, cycle->hostname.len);

    if (pt_cycle_modules(cycle) != PT_OK) {
        goto failed;
    }

    return cycle;

failed:

    pt_destroy_pool(pool);
    return NULL;
}

/* Step 2: create the core confs, parse -g and the file, init the confs. */
static pt_int_t
pt_cycle_parse(pt_cycle_t *cycle, pt_cycle_t *old_cycle)
{
    void               *rv;
    pt_uint_t           i;
    pt_conf_t           conf;
    pt_core_module_t   *module;

    cycle->conf_ctx = pt_pcalloc(cycle->pool, pt_max_module * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        return PT_ERROR;
    }

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->type != PT_CORE_MODULE) {
            continue;
        }

        module = cycle->modules[i]->ctx;

        if (module->create_conf) {
            rv = module->create_conf(cycle);
            if (rv == NULL) {
                return PT_ERROR;
            }
            cycle->conf_ctx[cycle->modules[i]->index] = rv;
        }
    }

    pt_memzero(&conf, sizeof(pt_conf_t));

    conf.args = pt_array_create(cycle->pool, 10, sizeof(pt_str_t));
    if (conf.args == NULL) {
        return PT_ERROR;
    }

    conf.temp_pool = pt_create_pool(PT_CYCLE_POOL_SIZE, old_cycle->log);
    if (conf.temp_pool == NULL) {
        return PT_ERROR;
    }

    conf.ctx = cycle->conf_ctx;
    conf.cycle = cycle;
    conf.pool = cycle->pool;
    conf.log = old_cycle->log;
    conf.module_type = PT_CORE_MODULE;
    conf.cmd_type = PT_MAIN_CONF;

    if (pt_conf_param(&conf) != PT_CONF_OK
        || pt_conf_parse(&conf, &cycle->conf_file) != PT_CONF_OK)
    {
        pt_destroy_pool(conf.temp_pool);
        return PT_ERROR;
    }

    pt_destroy_pool(conf.temp_pool);

    if (pt_test_config && !pt_quiet_mode) {
        pt_log_stderr(0, "the configuration file " PT_STR_FMT " syntax is ok",
                      PT_STR_ARG(cycle->conf_file));
    }

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->type != PT_CORE_MODULE) {
            continue;
        }

        module = cycle->modules[i]->ctx;

        if (module->init_conf
            && module->init_conf(cycle, cycle->conf_ctx[cycle->modules[i]->index])
               == PT_CONF_ERROR)
        {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

/* Walks a pt_list_t of pt_open_file_t calling fn on each. */
#define pt_open_files_each(list, file, body)                                 \
    do {                                                                     \
        pt_list_part_t  *part_ = &(list)->part;                              \
        pt_open_file_t  *files_ = part_->elts;                               \
        pt_uint_t        i_;                                                 \
        for (i_ = 0; /* void */ ; i_++) {                                    \
            if (i_ >= part_->nelts) {                                        \
                if (part_->next == NULL) {                                   \
                    break;                                                   \
                }                                                            \
                part_ = part_->next;                                         \
                files_ = part_->elts;                                        \
                i_ = 0;                                                      \
                if (part_->nelts == 0) {                                     \
                    break;                                                   \
                }                                                            \
            }                                                                \
            file = &files_[i_];                                              \
            body                                                             \
        }                                                                    \
    } while (0)

/* Step 3: open the log files (and any other registered file). */
static pt_int_t
pt_cycle_open_files(pt_cycle_t *cycle)
{
    pt_open_file_t  *file;
    pt_int_t         rc = PT_OK;

    pt_open_files_each(&cycle->open_files, file, {
        if (rc != PT_OK || file->name.len == 0 || file->fd != PT_INVALID_FILE) {
            continue;
        }

        file->fd = pt_open_append(file->name.data);

        if (file->fd == PT_INVALID_FILE) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "open() \"%s\" failed", file->name.data);
            rc = PT_ERROR;
        }
    });

    return rc;
}

static void
pt_cycle_close_files(pt_list_t *list, pt_log_t *log)
{
    pt_open_file_t  *file;

    pt_open_files_each(list, file, {
        if (file->fd == PT_INVALID_FILE || file->fd == STDERR_FILENO) {
            continue;
        }
        if (file->flush) {
            file->flush(file, log);
        }
        if (close(file->fd) == -1) {
            pt_log_error(PT_LOG_ALERT, log, pt_errno,
                         "close() \"%s\" failed", file->name.data);
        }
        file->fd = PT_INVALID_FILE;
    });
}

/* Finds the old cycle's zone with the same name. */
static pt_shm_zone_t *
pt_cycle_find_zone(pt_cycle_t *old_cycle, pt_str_t *name)
{
    pt_uint_t        i;
    pt_list_part_t  *part;
    pt_shm_zone_t   *zone;

    if (old_cycle->shared_memory.part.elts == NULL) {
        return NULL;
    }

    part = &old_cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
            if (part->nelts == 0) {
                return NULL;
            }
        }

        if (zone[i].shm.name.len == name->len
            && pt_memcmp(zone[i].shm.name.data, name->data, name->len) == 0)
        {
            return &zone[i];
        }
    }
}

/*
 * Step 4: shared memory.  A zone that keeps its name, size and owner
 * survives the reload with its contents (rate-limit buckets, health state,
 * counters); anything else gets a fresh segment.
 */
static pt_int_t
pt_cycle_shared_memory(pt_cycle_t *cycle, pt_cycle_t *old_cycle)
{
    pt_uint_t        i;
    pt_list_part_t  *part;
    pt_shm_zone_t   *zone, *old;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.size == 0) {
            pt_log_error(PT_LOG_EMERG, cycle->log, 0,
                         "zero size shared memory zone \"" PT_STR_FMT "\"",
                         PT_STR_ARG(zone[i].shm.name));
            return PT_ERROR;
        }

        zone[i].shm.log = cycle->log;

        old = pt_cycle_find_zone(old_cycle, &zone[i].shm.name);

        if (old && !zone[i].noreuse && old->tag == zone[i].tag
            && old->shm.size == zone[i].shm.size)
        {
            pt_log_debug(PT_LOG_DEBUG_CORE, cycle->log, 0,
                         "shared memory zone \"" PT_STR_FMT "\" reused",
                         PT_STR_ARG(zone[i].shm.name));
            zone[i].shm.addr = old->shm.addr;
            zone[i].shm.exists = 1;

            if (zone[i].init(&zone[i], old->data) != PT_OK) {
                return PT_ERROR;
            }
            continue;
        }

        if (pt_shm_alloc(&zone[i].shm) != PT_OK) {
            return PT_ERROR;
        }

        if (pt_shm_zone_init(cycle, &zone[i]) != PT_OK
            || zone[i].init(&zone[i], NULL) != PT_OK)
        {
            return PT_ERROR;
        }
    }

    return PT_OK;
}

/* A fresh zone starts as a slab pool owning its whole segment. */
static pt_int_t
pt_shm_zone_init(pt_cycle_t *cycle, pt_shm_zone_t *zone)
{
    pt_slab_pool_t  *sp;

    sp = (pt_slab_pool_t *) zone->shm.addr;

    sp->end = zone->shm.addr + zone->shm.size;
    sp->min_shift = 3;
    sp->addr = zone->shm.addr;

    if (pt_shmtx_create(&sp->mutex, &sp->lock) != PT_OK) {
        return PT_ERROR;
    }

    pt_slab_init(sp);

    /* " in zone \"NAME\"" for the slab's out-of-memory message. */
    sp->log_ctx = pt_slab_alloc(sp, sizeof(" in zone \"\"") + zone->shm.name.len);
    if (sp->log_ctx == NULL) {
        return PT_ERROR;
    }
    (void) sprintf((char *) sp->log_ctx, " in zone \"%.*s\"",
                   (int) zone->shm.name.len, zone->shm.name.data);

    return PT_OK;
}

static pt_uint_t
pt_cycle_zone_reused(pt_cycle_t *cycle, pt_shm_zone_t *old)
{
    pt_uint_t        i;
    pt_list_part_t  *part;
    pt_shm_zone_t   *zone;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
            if (part->nelts == 0) {
                return 0;
            }
        }

        if (zone[i].shm.addr == old->shm.addr) {
            return 1;
        }
    }
}

/* Frees the zones of from that cycle `keep` does not use. */
static void
pt_cycle_free_zones(pt_cycle_t *from, pt_cycle_t *keep)
{
    pt_uint_t        i;
    pt_list_part_t  *part;
    pt_shm_zone_t   *zone;

    if (from->shared_memory.part.elts == NULL) {
        return;
    }

    part = &from->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
            if (part->nelts == 0) {
                return;
            }
        }

        if (zone[i].shm.addr == NULL
            || (keep && pt_cycle_zone_reused(keep, &zone[i])))
        {
            continue;
        }

        pt_shm_free(&zone[i].shm);
        zone[i].shm.addr = NULL;
    }
}

/* Step 5: one socket per worker per address; reuse what the old cycle (or
 * the binary we were upgraded from) already holds, bind only what is new. */
static pt_int_t
pt_cycle_listeners(pt_cycle_t *cycle, pt_cycle_t *old_cycle)
{
    pt_uint_t         i, n;
    pt_listening_t   *ls;
    pt_core_conf_t   *ccf;

    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    if (ccf->master) {
        n = cycle->listening.nelts;
        for (i = 0; i < n; i++) {
            ls = cycle->listening.elts;
            if (pt_clone_listening(cycle, &ls[i]) != PT_OK) {
                return PT_ERROR;
            }
        }
    }

    if (pt_listening_inherit_from(cycle, old_cycle) != PT_OK) {
        return PT_ERROR;
    }

    if (pt_open_listening_sockets(cycle) != PT_OK) {
        return PT_ERROR;
    }

    pt_configure_listening_sockets(cycle);

    return PT_OK;
}

/* Step 6: the new cycle is in charge; give back what it did not take. */
static void
pt_cycle_release_old(pt_cycle_t *cycle, pt_cycle_t *old_cycle)
{
    pt_listening_close_unused(old_cycle);
    pt_cycle_close_files(&old_cycle->open_files, cycle->log);
    pt_cycle_free_zones(old_cycle, cycle);
}

/* Undoes a failed cycle: its new sockets, files and zones go, the old
 * cycle's stay exactly as they were. */
static void
pt_cycle_rollback(pt_cycle_t *cycle, pt_cycle_t *old_cycle)
{
    pt_uint_t        i;
    pt_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == (pt_socket_t) -1 || ls[i].previous || ls[i].inherited) {
            if (ls[i].previous) {
                ls[i].previous->remain = 0;
            }
            continue;
        }
        if (close(ls[i].fd) == -1) {
            pt_log_error(PT_LOG_EMERG, old_cycle->log, pt_errno,
                         "close() socket " PT_STR_FMT " failed", PT_STR_ARG(ls[i].addr_text));
        }
        ls[i].fd = (pt_socket_t) -1;
    }

    pt_cycle_close_files(&cycle->open_files, old_cycle->log);
    pt_cycle_free_zones(cycle, old_cycle);
    pt_destroy_pool(cycle->pool);
}

pt_shm_zone_t *
pt_shared_memory_add(pt_conf_t *cf, pt_str_t *name, size_t size, void *tag)
{
    pt_uint_t        i;
    pt_list_part_t  *part;
    pt_shm_zone_t   *zone;

    part = &cf->cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (name->len != zone[i].shm.name.len
            || pt_memcmp(name->data, zone[i].shm.name.data, name->len) != 0)
        {
            continue;
        }

        if (tag != zone[i].tag) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "the shared memory zone \"" PT_STR_FMT "\" is "
                              "already declared for a different use",
                              PT_STR_ARG(zone[i].shm.name));
            return NULL;
        }

        if (zone[i].shm.size == 0) {
            zone[i].shm.size = size;
        }

        if (size && size != zone[i].shm.size) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                              "the size %zu of shared memory zone \""
                              PT_STR_FMT "\" conflicts with already declared "
                              "size %zu", size, PT_STR_ARG(zone[i].shm.name),
                              zone[i].shm.size);
            return NULL;
        }

        return &zone[i];
    }

    zone = pt_list_push(&cf->cycle->shared_memory);
    if (zone == NULL) {
        return NULL;
    }

    pt_memzero(zone, sizeof(pt_shm_zone_t));
    zone->shm.log = cf->cycle->log;
    zone->shm.size = size;
    zone->shm.name = *name;
    zone->tag = tag;

    return zone;
}

pt_int_t
pt_create_pidfile(pt_str_t *name, pt_log_t *log)
{
    int      fd;
    u_char   pid[PT_INT64_LEN + 2], *p;

    if (pt_process > PT_PROCESS_MASTER || pt_test_config) {
        return PT_OK;
    }

    fd = open((char *) name->data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "open() \"%s\" failed",
                     name->data);
        return PT_ERROR;
    }

    p = pt_uint_to_str(pid, (uint64_t) pt_pid);
    *p++ = '\n';

    if (pt_write_fd(fd, pid, p - pid) != p - pid) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "write() \"%s\" failed",
                     name->data);
        close(fd);
        return PT_ERROR;
    }

    close(fd);
    return PT_OK;
}

void
pt_delete_pidfile(pt_cycle_t *cycle)
{
    u_char          *name;
    pt_core_conf_t  *ccf;

    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    name = pt_new_binary ? ccf->oldpid.data : ccf->pid.data;

    if (unlink((char *) name) == -1 && errno != ENOENT) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "unlink() \"%s\" failed", name);
    }
}

pt_int_t
pt_signal_process(pt_cycle_t *cycle, char *sig)
{
    pid_t            pid;
    pt_str_t         text;
    pt_core_conf_t  *ccf;
    size_t           len;

    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    if (pt_read_whole_file(cycle->pool, &ccf->pid, &text) != PT_OK) {
        pt_log_error(PT_LOG_ERR, cycle->log, pt_errno, "open() \"%s\" failed",
                     ccf->pid.data);
        return 1;
    }

    len = text.len;
    while (len && (text.data[len - 1] == LF || text.data[len - 1] == CR)) {
        len--;
    }

    pid = (pid_t) pt_atoi(text.data, len);

    if (pid <= 0) {
        pt_log_error(PT_LOG_ERR, cycle->log, 0,
                     "invalid PID number \"%.*s\" in \"%s\"",
                     (int) len, text.data, ccf->pid.data);
        return 1;
    }

    return pt_os_signal_process(cycle, sig, pid) == PT_OK ? 0 : 1;
}

void
pt_reopen_files(pt_cycle_t *cycle, uid_t user)
{
    pt_fd_t          fd;
    struct stat      st;
    pt_open_file_t  *file;

    pt_open_files_each(&cycle->open_files, file, {
        if (file->name.len == 0 || file->fd == PT_INVALID_FILE) {
            continue;
        }

        if (file->flush) {
            file->flush(file, cycle->log);
        }

        fd = pt_open_append(file->name.data);

        if (fd == PT_INVALID_FILE) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "open() \"%s\" failed", file->name.data);
            continue;
        }

        /* The master reopens as root; the workers that write the file run
         * as the worker user, so hand it over. */
        if (user != (uid_t) PT_CONF_UNSET_UINT && geteuid() == 0
            && fstat(fd, &st) == 0 && st.st_uid != user)
        {
            if (fchown(fd, user, (gid_t) -1) == -1) {
                pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                             "chown(\"%s\", %d) failed", file->name.data,
                             (int) user);
            }
        }

        if (dup2(fd, file->fd) == -1) {
            pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                         "dup2() \"%s\" failed", file->name.data);
        }
        close(fd);
    });

    pt_log_redirect_stderr(cycle);
}

/* Builds "PORTICO=fd;fd;...;" for the listening sockets, in cycle order. */
static char *
pt_cycle_sockets_env(pt_cycle_t *cycle)
{
    char            *var, *p;
    pt_uint_t        i;
    pt_listening_t  *ls;

    var = pt_alloc(sizeof(PORTICO_VAR) + 1
                   + cycle->listening.nelts * (PT_INT_T_LEN + 1) + 1,
                   cycle->log);
    if (var == NULL) {
        return NULL;
    }

    p = var + sprintf(var, PORTICO_VAR "=");

    ls = cycle->listening.elts;
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == (pt_socket_t) -1) {
            continue;
        }
        p += sprintf(p, "%d;", ls[i].fd);
    }

    return var;
}

/* Environment for the new binary: ours, minus any stale PORTICO, plus the
 * sockets. */
static char **
pt_cycle_child_env(pt_cycle_t *cycle, char *var)
{
    char      **env;
    pt_uint_t   i, n;

    for (n = 0; pt_os_environ[n]; n++) { /* void */ }

    env = pt_alloc((n + 2) * sizeof(char *), cycle->log);
    if (env == NULL) {
        return NULL;
    }

    for (i = 0, n = 0; pt_os_environ[i]; i++) {
        if (pt_strncmp(pt_os_environ[i], PORTICO_VAR "=",
                       sizeof(PORTICO_VAR)) == 0)
        {
            continue;
        }
        env[n++] = pt_os_environ[i];
    }

    env[n++] = var;
    env[n] = NULL;

    return env;
}

pid_t
pt_exec_new_binary(pt_cycle_t *cycle, char *const *argv)
{
    char            *var, **env;
    pid_t            pid;
    pt_core_conf_t  *ccf;

    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    var = pt_cycle_sockets_env(cycle);
    if (var == NULL) {
        return PT_INVALID_PID;
    }

    env = pt_cycle_child_env(cycle, var);
    if (env == NULL) {
        pt_free(var);
        return PT_INVALID_PID;
    }

    if (rename((char *) ccf->pid.data, (char *) ccf->oldpid.data) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "rename() %s to %s failed, "
                     "cannot start new binary process",
                     ccf->pid.data, ccf->oldpid.data);
        pt_free(env);
        pt_free(var);
        return PT_INVALID_PID;
    }

    pid = fork();

    if (pid == 0) {
        /* The child must not run our signal handlers' masks. */
        sigset_t  set;
        sigemptyset(&set);
        sigprocmask(SIG_SETMASK, &set, NULL);

        execve(argv[0], argv, env);

        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "execve() failed while executing new binary process "
                     "\"%s\"", argv[0]);
        _exit(1);
    }

    if (pid == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "fork() failed while executing new binary process");
        if (rename((char *) ccf->oldpid.data, (char *) ccf->pid.data) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "rename() %s back to %s failed after an "
                         "unsuccessful fork", ccf->oldpid.data, ccf->pid.data);
        }
        pid = PT_INVALID_PID;

    } else {
        pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                     "start new binary process %d", (int) pid);
    }

    pt_free(env);
    pt_free(var);

    return pid;
}
