/*
 * pt_worker.c: the worker process, single-process mode, and the graceful
 * shutdown of a worker.
 *
 * A worker runs the event loop of the cycle it was forked from until the
 * master tells it to stop.  QUIT makes it drain: it stops accepting (the
 * listening socket stays open in the master, so connections already queued
 * there wait for the next worker of the same slot instead of being reset),
 * finishes the requests in flight, gives idle keepalive connections a short
 * grace period (PT_DRAIN_GRACE_MSEC), and exits when no connection is left.
 * TERM makes it exit at once.
 */

#include "portico.h"

static void pt_worker_process_init(pt_cycle_t *cycle, pt_int_t slot);
static void pt_worker_drop_privileges(pt_cycle_t *cycle, pt_core_conf_t *ccf);
static void pt_worker_set_limits(pt_cycle_t *cycle, pt_core_conf_t *ccf);
static void pt_worker_set_cpu_affinity(pt_cycle_t *cycle, pt_core_conf_t *ccf,
    pt_uint_t slot);
static void pt_worker_chdir(pt_cycle_t *cycle, pt_core_conf_t *ccf);
static void pt_init_processes(pt_cycle_t *cycle);
static void pt_start_draining(pt_cycle_t *cycle);
static void pt_worker_process_exit(pt_cycle_t *cycle);
static void pt_single_process_exit(pt_cycle_t *cycle);
static void pt_exit_cycle(pt_cycle_t *cycle);
static void pt_shutdown_timer_handler(pt_event_t *ev);

/* Fires worker_shutdown_timeout; cancelable, so it never keeps a worker
 * alive by itself. */
static pt_event_t  pt_shutdown_event;

/* Where log lines go while the cycle pool is destroyed at exit. */
static pt_log_t        pt_exit_log;
static pt_open_file_t  pt_exit_log_file;

#define pt_core_conf(cycle)                                                  \
    ((pt_core_conf_t *) pt_get_conf((cycle)->conf_ctx, pt_core_module))


/* The worker's life: init, then the event loop until it may exit. */
void
pt_worker_process_cycle(pt_cycle_t *cycle, void *data)
{
    pt_worker_process_init(cycle, (pt_int_t) (intptr_t) data);

    pt_set_process_title("worker process");

    for (;;) {

        if (pt_exiting && pt_active_connections(cycle) == 0) {
            pt_worker_process_exit(cycle);
        }

        pt_process_events_and_timers(cycle);

        pt_log_signals(cycle->log);

        if (pt_terminate) {
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "exiting");
            pt_worker_process_exit(cycle);
        }

        if (pt_quit) {
            pt_quit = 0;
            pt_start_draining(cycle);
        }

        if (pt_reopen) {
            pt_reopen = 0;
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "reopening logs");
            pt_reopen_files(cycle, (uid_t) -1);
        }
    }
}


/* QUIT: stop accepting, mark idle connections for closing after the grace
 * period, and arm worker_shutdown_timeout.  Idempotent. */
static void
pt_start_draining(pt_cycle_t *cycle)
{
    pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "gracefully shutting down");
    pt_set_process_title("worker process is shutting down");

    if (pt_exiting) {
        return;
    }

    pt_exiting = 1;
    pt_set_shutdown_timer(cycle);
    pt_close_worker_listeners(cycle);
    pt_drain_idle_connections(cycle, PT_DRAIN_GRACE_MSEC);
}


/* Everything a fresh child does before serving: become a worker, lower the
 * limits and privileges, unblock signals, run the modules' init_process. */
static void
pt_worker_process_init(pt_cycle_t *cycle, pt_int_t slot)
{
    sigset_t         set;
    pt_core_conf_t  *ccf;

    pt_process = PT_PROCESS_WORKER;
    pt_worker = (pt_uint_t) slot;
    pt_pid = getpid();

    /* Flags inherited from the master's state at fork() mean nothing here. */
    pt_reap = pt_sigio = pt_sigalrm = pt_terminate = pt_quit = 0;
    pt_reconfigure = pt_reopen = pt_change_binary = pt_noaccept = 0;
    pt_exiting = 0;
    pt_new_binary = 0;
    pt_last_process = 0;

    ccf = pt_core_conf(cycle);

    /* priority and limits first: lowering the nice value and raising a
     * hard limit need the root privileges dropped just after */
    pt_worker_set_limits(cycle, ccf);

    if (geteuid() == 0) {
        pt_worker_drop_privileges(cycle, ccf);
    }

    pt_worker_set_cpu_affinity(cycle, ccf, (pt_uint_t) slot);
    pt_worker_chdir(cycle, ccf);
    pt_regex_jit = (ccf->pcre_jit != 0);

    /* Signals stay blocked except inside epoll_pwait(), which unblocks them
     * atomically: a signal that arrives while handlers run is delivered at
     * the next wait and interrupts it, never lost in the gap before it. */
    pt_signals_block_set(&set);
    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno, "sigprocmask() failed");
    }

    srandom(((unsigned) pt_pid << 16) ^ (unsigned) time(NULL));

    pt_init_processes(cycle);
}


/* worker_priority, worker_rlimit_nofile, worker_rlimit_core.  Failures
 * are logged and the worker goes on, as nginx's. */
static void
pt_worker_set_limits(pt_cycle_t *cycle, pt_core_conf_t *ccf)
{
    struct rlimit  rlmt;

    if (ccf->priority != 0 && setpriority(PRIO_PROCESS, 0, (int) ccf->priority) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "setpriority(%d) failed", (int) ccf->priority);
    }

    if (ccf->rlimit_nofile != PT_CONF_UNSET) {
        rlmt.rlim_cur = (rlim_t) ccf->rlimit_nofile;
        rlmt.rlim_max = (rlim_t) ccf->rlimit_nofile;

        if (setrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "setrlimit(RLIMIT_NOFILE, %d) failed", (int) ccf->rlimit_nofile);
        }
    }

    if (ccf->rlimit_core != PT_CONF_UNSET) {
        rlmt.rlim_cur = (rlim_t) ccf->rlimit_core;
        rlmt.rlim_max = (rlim_t) ccf->rlimit_core;

        if (setrlimit(RLIMIT_CORE, &rlmt) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "setrlimit(RLIMIT_CORE, %jd) failed", (intmax_t) ccf->rlimit_core);
        }
    }
}


/*
 * worker_cpu_affinity: a list gives worker n the n-th mask (the last one
 * repeats); auto puts worker n on the n-th CPU the process may use (within
 * the mask, if one was given), wrapping around, as nginx does.
 */
static void
pt_worker_set_cpu_affinity(pt_cycle_t *cycle, pt_core_conf_t *ccf, pt_uint_t slot)
{
    int        cpu, count, pick;
    cpu_set_t  set, allowed;

    if (ccf->cpu_affinity_n == 0) {
        return;
    }

    if (!ccf->cpu_affinity_auto) {
        set = ccf->cpu_affinity[slot < ccf->cpu_affinity_n ? slot : ccf->cpu_affinity_n - 1];

    } else {
        if (sched_getaffinity(0, sizeof(cpu_set_t), &allowed) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno, "sched_getaffinity() failed");
            return;
        }

        CPU_AND(&allowed, &allowed, &ccf->cpu_affinity[0]);

        count = CPU_COUNT(&allowed);
        if (count == 0) {
            return;
        }

        pick = (int) (slot % (pt_uint_t) count);

        CPU_ZERO(&set);
        for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (CPU_ISSET(cpu, &allowed) && pick-- == 0) {
                CPU_SET(cpu, &set);
                break;
            }
        }
    }

    for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                         "sched_setaffinity(): using cpu #%d", cpu);
        }
    }

    if (sched_setaffinity(0, sizeof(cpu_set_t), &set) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno, "sched_setaffinity() failed");
    }
}


/* working_directory: where the worker dumps core.  A directory that is
 * missing or not enterable is fatal, as in nginx (exit code 2: the master
 * does not respawn). */
static void
pt_worker_chdir(pt_cycle_t *cycle, pt_core_conf_t *ccf)
{
    if (ccf->working_directory.len == 0) {
        return;
    }

    if (chdir((char *) ccf->working_directory.data) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "chdir(\"%s\") failed", ccf->working_directory.data);
        exit(2);
    }
}


/* A worker started as root keeps no root privileges: group, supplementary
 * groups, then user (the order matters: after setuid() the others fail).
 * Any failure is fatal (exit code 2: the master will not respawn it). */
static void
pt_worker_drop_privileges(pt_cycle_t *cycle, pt_core_conf_t *ccf)
{
    if (ccf->user == (uid_t) PT_CONF_UNSET_UINT) {
        return;
    }

    if (ccf->group != (gid_t) PT_CONF_UNSET_UINT && setgid(ccf->group) == -1) {
        pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                     "setgid(%d) failed", (int) ccf->group);
        exit(2);
    }

    if (ccf->username && initgroups((char *) ccf->username, ccf->group) == -1) {
        pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                     "initgroups(%s, %d) failed", ccf->username, (int) ccf->group);
        exit(2);
    }

    if (setuid(ccf->user) == -1) {
        pt_log_error(PT_LOG_EMERG, cycle->log, pt_errno,
                     "setuid(%d) failed", (int) ccf->user);
        exit(2);
    }

    /* setuid() clears the dumpable flag; core dumps are still wanted. */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "prctl(PR_SET_DUMPABLE) failed");
    }
}


/* Calls every module's init_process in module order; a failure is fatal. */
static void
pt_init_processes(pt_cycle_t *cycle)
{
    pt_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->init_process == NULL) {
            continue;
        }

        if (cycle->modules[i]->init_process(cycle) == PT_ERROR) {
            /* exit code 2: a fatal error, the master will not respawn */
            exit(2);
        }
    }
}


/* The worker's exit: exit_process hooks, the cycle pool, exit(0).  The
 * listening sockets are the master's: closing them here closes copies. */
static void
pt_worker_process_exit(pt_cycle_t *cycle)
{
    pt_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->exit_process) {
            cycle->modules[i]->exit_process(cycle);
        }
    }

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "exit");

    pt_exit_cycle(cycle);
}


/* Destroys the cycle pool and exits.  The log is copied out of the pool
 * first, so cleanup handlers that log do not write through freed memory. */
static void
pt_exit_cycle(pt_cycle_t *cycle)
{
    pt_exit_log = *cycle->log;
    pt_exit_log.next = NULL;

    if (cycle->log->file) {
        pt_exit_log_file = *cycle->log->file;
        pt_exit_log.file = &pt_exit_log_file;
    }

    cycle->log = &pt_exit_log;
    cycle->pool->log = &pt_exit_log;

    pt_destroy_pool(cycle->pool);

    exit(0);
}


/*
 * master_process off: one process does everything.  Reload and binary
 * upgrade need a master and are not supported here; HUP only logs.
 */
void
pt_single_process_cycle(pt_cycle_t *cycle)
{
    sigset_t  set;

    pt_process = PT_PROCESS_SINGLE;
    pt_worker = 0;
    pt_regex_jit = (pt_core_conf(cycle)->pcre_jit != 0);

    /* Handled signals are delivered only inside epoll_pwait(); see
     * pt_worker_process_init(). */
    pt_signals_block_set(&set);
    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno, "sigprocmask() failed");
    }

    pt_init_processes(cycle);

    for (;;) {

        if (pt_exiting && pt_active_connections(cycle) == 0) {
            pt_single_process_exit(cycle);
        }

        pt_process_events_and_timers(cycle);

        pt_log_signals(cycle->log);

        if (pt_terminate) {
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "exiting");
            pt_single_process_exit(cycle);
        }

        if (pt_quit) {
            pt_quit = 0;
            pt_start_draining(cycle);
        }

        if (pt_reconfigure) {
            pt_reconfigure = 0;
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                         "reconfiguration is not supported with \"master_process off\"");
        }

        if (pt_reopen) {
            pt_reopen = 0;
            pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "reopening logs");
            pt_reopen_files(cycle, (uid_t) -1);
        }
    }
}


/* Single-process exit: what a worker and a master do at exit, together. */
static void
pt_single_process_exit(pt_cycle_t *cycle)
{
    pt_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->exit_process) {
            cycle->modules[i]->exit_process(cycle);
        }
    }

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->exit_master) {
            cycle->modules[i]->exit_master(cycle);
        }
    }

    pt_delete_pidfile(cycle);
    pt_close_listening_sockets(cycle);

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "exit");

    pt_exit_cycle(cycle);
}


/* Arms worker_shutdown_timeout when a worker starts draining.  The timer is
 * cancelable: a worker whose connections all finish earlier just exits. */
void
pt_set_shutdown_timer(pt_cycle_t *cycle)
{
    pt_core_conf_t  *ccf;

    ccf = pt_core_conf(cycle);

    if (ccf->shutdown_timeout == PT_CONF_UNSET_MSEC || ccf->shutdown_timeout == 0) {
        return;
    }

    pt_shutdown_event.handler = pt_shutdown_timer_handler;
    pt_shutdown_event.data = cycle;
    pt_shutdown_event.log = cycle->log;
    pt_shutdown_event.cancelable = 1;

    pt_event_add_timer(&pt_shutdown_event, ccf->shutdown_timeout);
}


/* worker_shutdown_timeout expired: every connection still open (listening
 * ones aside) is told to close and its read handler runs, so the protocol
 * tears it down the usual way (logging the request, freeing its pool). */
static void
pt_shutdown_timer_handler(pt_event_t *ev)
{
    pt_uint_t         i, n;
    pt_cycle_t       *cycle;
    pt_connection_t  *c;

    cycle = ev->data;
    n = 0;

    for (i = 0; i < cycle->connection_n; i++) {
        c = &cycle->connections[i];
        if (c->fd != -1 && c->read && !c->read->accept) {
            n++;
        }
    }

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                 "worker_shutdown_timeout expired, closing %lu connections",
                 (unsigned long) n);

    for (i = 0; i < cycle->connection_n; i++) {
        c = &cycle->connections[i];

        if (c->fd == -1 || c->read == NULL || c->read->accept
            || c->read->handler == NULL)
        {
            continue;
        }

        c->close = 1;
        c->error = 1;
        c->read->handler(c->read);
    }
}
