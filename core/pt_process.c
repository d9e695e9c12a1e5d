/*
 * pt_process.c: the master process.
 *
 * The master holds the listening sockets and shared memory and never serves
 * traffic.  It keeps a table of its children (workers, and during a binary
 * upgrade the new binary's master, "detached"), and turns signals into
 * actions.  All handled signals stay blocked except inside sigsuspend(), so
 * the flags set by the handler change only while the master waits: no flag
 * can flip between a test and the action that follows it.
 *
 *   CHLD  reap; respawn a dead worker in its slot at once
 *   TERM  TERM to the workers, KILL after 1 s, exit when all are reaped
 *   QUIT  QUIT to the workers, close the listeners, exit when all are reaped
 *   HUP   new cycle; new workers for every slot; QUIT to the old ones
 *         (during an upgrade: bring our workers back, the rollback)
 *   USR1  reopen the log files, then USR1 to the workers
 *   USR2  start the new binary with the listening sockets inherited
 *   WINCH QUIT to the workers and do not respawn them (upgrade)
 */

#include "portico.h"

pt_uint_t      pt_process;
pt_uint_t      pt_worker;
pid_t          pt_pid;
pid_t          pt_parent;
pid_t          pt_new_binary;
pt_uint_t      pt_inherited;
pt_uint_t      pt_daemonized;
pt_uint_t      pt_exiting;
char         **pt_os_argv;
char         **pt_os_environ;
int            pt_argc;
char         **pt_argv;

pt_process_t   pt_processes[PT_MAX_PROCESSES];
pt_int_t       pt_last_process;

/* Master state that no signal handler touches. */
static pt_uint_t     pt_noaccepting;    /* WINCH: workers stopped for good */
static pt_uint_t     pt_terminating;    /* TERM sent to the workers */
static pt_uint_t     pt_quitting;       /* QUIT sent, listeners closed */

/* Cycles replaced by a reload; each is destroyed once no child forked from
 * it is alive. */
static pt_cycle_t  **pt_old_cycles;
static pt_uint_t     pt_old_cycles_n;
static pt_uint_t     pt_old_cycles_max;

static pid_t pt_spawn_at(pt_cycle_t *cycle, pt_spawn_proc_pt proc, void *data,
    char *name, pt_int_t slot, pt_uint_t respawn, pt_int_t index);
static void pt_start_worker_processes(pt_cycle_t *cycle, pt_int_t n);
static void pt_signal_workers(pt_cycle_t *cycle, int signo);
static void pt_quit_old_workers(pt_cycle_t *cycle);
static pt_uint_t pt_workers_alive(void);
static pt_uint_t pt_master_pending(void);
static pt_cycle_t *pt_master_handle(pt_cycle_t *cycle);
static void pt_master_shutdown(pt_cycle_t *cycle);
static pt_cycle_t *pt_master_reconfigure(pt_cycle_t *cycle);
static void pt_master_change_binary(pt_cycle_t *cycle);
static void pt_reap_children(pt_cycle_t *cycle);
static void pt_process_status(pt_cycle_t *cycle, pid_t pid, int status);
static void pt_new_binary_exited(pt_cycle_t *cycle, pt_process_t *p);
static void pt_free_process(pt_int_t i);
static void pt_keep_old_cycle(pt_cycle_t *cycle);
static void pt_release_old_cycles(void);
static void pt_master_process_exit(pt_cycle_t *cycle);
static void pt_set_master_title(void);
static u_char *pt_cstr(u_char *buf, size_t size, pt_str_t *s);

#define pt_core_conf(cycle)                                                  \
    ((pt_core_conf_t *) pt_get_conf((cycle)->conf_ctx, pt_core_module))


/* Forks a child into the first free entry of the process table. */
pid_t
pt_spawn_process(pt_cycle_t *cycle, pt_spawn_proc_pt proc, void *data,
    char *name, pt_int_t slot, pt_uint_t respawn)
{
    return pt_spawn_at(cycle, proc, data, name, slot, respawn, -1);
}


/* Forks a child into entry index of the table (-1: the first free one).  A
 * respawned worker reuses its dead predecessor's entry. */
static pid_t
pt_spawn_at(pt_cycle_t *cycle, pt_spawn_proc_pt proc, void *data, char *name,
    pt_int_t slot, pt_uint_t respawn, pt_int_t index)
{
    pid_t          pid;
    pt_process_t  *p;

    if (index < 0) {
        for (index = 0; index < pt_last_process; index++) {
            if (pt_processes[index].pid == -1) {
                break;
            }
        }

        if (index == PT_MAX_PROCESSES) {
            pt_log_error(PT_LOG_ALERT, cycle->log, 0,
                         "no more than %d processes can be spawned", PT_MAX_PROCESSES);
            return PT_INVALID_PID;
        }
    }

    pid = fork();

    switch (pid) {

    case -1:
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                     "fork() failed while spawning \"%s\"", name);
        return PT_INVALID_PID;

    case 0:
        pt_parent = pt_pid;
        pt_pid = getpid();
        proc(cycle, data);
        exit(0);    /* proc never returns; this is only a safety net */
    }

    p = &pt_processes[index];
    pt_memzero(p, sizeof(pt_process_t));
    p->pid = pid;
    p->slot = slot;
    p->cycle = cycle;
    p->proc = proc;
    p->data = data;
    p->name = name;
    p->respawn = respawn ? 1 : 0;

    if (index == pt_last_process) {
        pt_last_process++;
    }

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "start %s %d", name, (int) pid);

    return pid;
}


/* Starts a worker for every slot 0..n-1 that has no live, non-exiting
 * worker of this cycle.  A reload finds every slot empty (the workers
 * there belong to the old cycle); a rollback finds the slots whose workers
 * WINCH stopped; a stray HUP during an upgrade starts nothing twice. */
static void
pt_start_worker_processes(pt_cycle_t *cycle, pt_int_t n)
{
    pt_int_t       slot, i;
    pt_process_t  *p;

    for (slot = 0; slot < n; slot++) {
        for (i = 0; i < pt_last_process; i++) {
            p = &pt_processes[i];
            if (p->pid != -1 && !p->detached && !p->exited && !p->exiting
                && p->cycle == cycle && p->slot == slot)
            {
                break;
            }
        }

        if (i < pt_last_process) {
            continue;
        }

        pt_spawn_process(cycle, pt_worker_process_cycle, (void *) (intptr_t) slot,
                         "worker process", slot, 1);
    }
}


/* Sends signo to every worker (never to a detached new binary).  QUIT is
 * sent once per worker; a worker asked to stop is never respawned. */
static void
pt_signal_workers(pt_cycle_t *cycle, int signo)
{
    pt_int_t       i;
    pt_err_t       err;
    pt_process_t  *p;

    for (i = 0; i < pt_last_process; i++) {
        p = &pt_processes[i];

        if (p->pid == -1 || p->detached || p->exited) {
            continue;
        }

        if (p->exiting && signo == SIGQUIT) {
            continue;
        }

        if (kill(p->pid, signo) == -1) {
            err = pt_errno;
            pt_log_error(PT_LOG_ALERT, cycle->log, err,
                         "kill(%d, %d) failed", (int) p->pid, signo);
            if (err == ESRCH) {
                p->exited = 1;
                p->exiting = 0;
                pt_reap = 1;
            }
            continue;
        }

        if (signo == SIGQUIT || signo == SIGTERM || signo == SIGKILL) {
            p->exiting = 1;
        }
    }
}


/* After a reload: every worker forked from an older cycle drains and
 * exits; none of them is respawned. */
static void
pt_quit_old_workers(pt_cycle_t *cycle)
{
    pt_int_t       i;
    pt_process_t  *p;

    for (i = 0; i < pt_last_process; i++) {
        p = &pt_processes[i];

        if (p->pid == -1 || p->detached || p->exited || p->cycle == cycle) {
            continue;
        }

        p->respawn = 0;

        if (p->exiting) {
            continue;
        }

        if (kill(p->pid, SIGQUIT) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "kill(%d, %d) failed", (int) p->pid, SIGQUIT);
            continue;
        }

        p->exiting = 1;
    }
}


/* True while some worker has not been reaped (the new binary's master
 * does not count: it outlives us on purpose). */
static pt_uint_t
pt_workers_alive(void)
{
    pt_int_t  i;

    for (i = 0; i < pt_last_process; i++) {
        if (pt_processes[i].pid != -1 && !pt_processes[i].detached) {
            return 1;
        }
    }

    return 0;
}


/* True when a flag asks for an action not taken yet, so the master must
 * act before waiting (a signal that arrived while main() was starting up,
 * or pt_reap set by pt_signal_workers()).  pt_terminate and pt_quit stay
 * set once handled, so they count only until their action has run. */
static pt_uint_t
pt_master_pending(void)
{
    return pt_reap || pt_reconfigure || pt_reopen || pt_change_binary || pt_noaccept
           || (pt_terminate && !pt_terminating)
           || (pt_quit && !pt_quitting && !pt_terminating)
           || (pt_terminating && pt_sigalrm);
}


/* The master's main loop: start the workers, then wait for signals. */
void
pt_master_process_cycle(pt_cycle_t *cycle)
{
    sigset_t         set;
    pt_core_conf_t  *ccf;

    pt_signals_block_set(&set);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno, "sigprocmask() failed");
    }

    sigemptyset(&set);

    pt_process = PT_PROCESS_MASTER;
    pt_pid = getpid();
    if (pt_parent == 0) {
        pt_parent = getppid();
    }

    pt_set_master_title();

    ccf = pt_core_conf(cycle);
    pt_start_worker_processes(cycle, ccf->worker_processes);

    for (;;) {
        if (!pt_master_pending()) {
            sigsuspend(&set);
        }

        pt_time_update();
        pt_log_signals(cycle->log);

        cycle = pt_master_handle(cycle);
    }
}


/* Acts on the flags the handler set; returns the (possibly new) cycle. */
static pt_cycle_t *
pt_master_handle(pt_cycle_t *cycle)
{
    pt_core_conf_t  *ccf;

    if (pt_reap) {
        pt_reap = 0;
        pt_reap_children(cycle);
    }

    if (pt_terminate || pt_quit) {
        /* Shutting down: a reload, reopen or upgrade makes no sense now. */
        pt_reconfigure = pt_reopen = pt_change_binary = pt_noaccept = 0;
        pt_master_shutdown(cycle);
        return cycle;
    }

    pt_sigalrm = 0;

    if (pt_reconfigure) {
        pt_reconfigure = 0;
        cycle = pt_master_reconfigure(cycle);
    }

    if (pt_reopen) {
        pt_reopen = 0;
        ccf = pt_core_conf(cycle);
        pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "reopening logs");
        pt_reopen_files(cycle, ccf->user);
        pt_signal_workers(cycle, SIGUSR1);
    }

    if (pt_change_binary) {
        pt_change_binary = 0;
        pt_master_change_binary(cycle);
    }

    if (pt_noaccept) {
        pt_noaccept = 0;
        pt_noaccepting = 1;
        pt_signal_workers(cycle, SIGQUIT);
    }

    return cycle;
}


/* TERM: TERM to the workers, KILL to the survivors one second later.
 * QUIT: QUIT to the workers and close our listeners so nothing new queues.
 * Either way the master exits as soon as the last worker is reaped. */
static void
pt_master_shutdown(pt_cycle_t *cycle)
{
    struct itimerval  itv;

    if (pt_terminate) {
        if (!pt_terminating) {
            pt_terminating = 1;
            pt_sigalrm = 0;
            pt_signal_workers(cycle, SIGTERM);

            pt_memzero(&itv, sizeof(struct itimerval));
            itv.it_value.tv_sec = 1;
            if (setitimer(ITIMER_REAL, &itv, NULL) == -1) {
                pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno, "setitimer() failed");
            }

        } else if (pt_sigalrm) {
            pt_sigalrm = 0;
            pt_signal_workers(cycle, SIGKILL);
        }

    } else if (!pt_quitting) {
        pt_quitting = 1;
        pt_signal_workers(cycle, SIGQUIT);
        pt_close_listening_sockets(cycle);
    }

    if (!pt_workers_alive()) {
        pt_master_process_exit(cycle);
    }
}


/*
 * HUP.  During an upgrade (a new binary runs) it is the rollback: start our
 * workers again from the current cycle, without reading the config.
 * Otherwise build a new cycle; on failure the old one keeps serving (the
 * cause was logged at emerg).  On success the new workers start first and
 * only then are the old ones asked to drain, so every slot always has a
 * worker accepting on its socket.
 */
static pt_cycle_t *
pt_master_reconfigure(pt_cycle_t *cycle)
{
    pt_cycle_t      *new_cycle;
    pt_core_conf_t  *ccf;

    if (pt_new_binary > 0) {
        pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                     "starting the workers again, new binary %d still running",
                     (int) pt_new_binary);
        ccf = pt_core_conf(cycle);
        pt_noaccepting = 0;
        pt_start_worker_processes(cycle, ccf->worker_processes);
        return cycle;
    }

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "reconfiguring");

    new_cycle = pt_init_cycle(cycle);

    if (new_cycle == NULL) {
        pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                     "reconfiguration failed, the current configuration stays");
        return cycle;
    }

    pt_keep_old_cycle(cycle);

    pt_cycle = new_cycle;
    pt_noaccepting = 0;

    ccf = pt_core_conf(new_cycle);
    pt_start_worker_processes(new_cycle, ccf->worker_processes);
    pt_quit_old_workers(new_cycle);
    pt_release_old_cycles();

    return new_cycle;
}


/* USR2: exec the new binary with the listening sockets inherited.  It is
 * our child but "detached": never signalled with the workers, never
 * respawned, and its exit means the upgrade was abandoned. */
static void
pt_master_change_binary(pt_cycle_t *cycle)
{
    pid_t          pid;
    pt_int_t       i;
    pt_process_t  *p;

    if (pt_new_binary > 0) {
        pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                     "new binary %d is already running, ignoring", (int) pt_new_binary);
        return;
    }

    pid = pt_exec_new_binary(cycle, pt_argv);

    if (pid == PT_INVALID_PID) {
        return;
    }

    pt_new_binary = pid;

    for (i = 0; i < pt_last_process; i++) {
        if (pt_processes[i].pid == pid) {
            break;
        }
    }

    if (i == pt_last_process) {
        for (i = 0; i < pt_last_process; i++) {
            if (pt_processes[i].pid == -1) {
                break;
            }
        }

        if (i == PT_MAX_PROCESSES) {
            pt_log_error(PT_LOG_ALERT, cycle->log, 0,
                         "no room for new binary process %d in the process table",
                         (int) pid);
            return;
        }

        if (i == pt_last_process) {
            pt_last_process++;
        }
    }

    p = &pt_processes[i];
    pt_memzero(p, sizeof(pt_process_t));
    p->pid = pid;
    p->slot = -1;
    p->name = "new binary process";
    p->detached = 1;
}


/* Reaps every child that exited, then respawns the workers that must come
 * back and frees the entries of the others. */
static void
pt_reap_children(pt_cycle_t *cycle)
{
    int            status;
    pid_t          pid;
    pt_int_t       i;
    pt_err_t       err;
    pt_process_t  *p;

    for (;;) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            break;
        }

        if (pid == -1) {
            err = pt_errno;
            if (err == EINTR) {
                continue;
            }
            if (err != ECHILD) {
                pt_log_error(PT_LOG_ALERT, cycle->log, err, "waitpid() failed");
            }
            break;
        }

        pt_process_status(cycle, pid, status);
    }

    for (i = 0; i < pt_last_process; i++) {
        p = &pt_processes[i];

        if (p->pid == -1 || !p->exited) {
            continue;
        }

        if (p->detached) {
            if (p->pid == pt_new_binary) {
                pt_new_binary_exited(cycle, p);
            }
            pt_free_process(i);
            continue;
        }

        if (p->respawn && !p->exiting && !pt_terminate && !pt_quit && !pt_noaccepting) {
            if (pt_spawn_at(cycle, p->proc, p->data, p->name, p->slot, 1, i)
                != PT_INVALID_PID)
            {
                continue;
            }
            pt_log_error(PT_LOG_ALERT, cycle->log, 0,
                         "could not respawn %s in slot %d", p->name, (int) p->slot);
        }

        pt_free_process(i);
    }

    pt_release_old_cycles();
}


/* Logs how a child ended and marks its entry exited. */
static void
pt_process_status(pt_cycle_t *cycle, pid_t pid, int status)
{
    int            code;
    char          *name;
    pt_int_t       i;
    pt_uint_t      level;
    pt_process_t  *p;

    p = NULL;
    name = "unknown process";

    for (i = 0; i < pt_last_process; i++) {
        if (pt_processes[i].pid == pid) {
            p = &pt_processes[i];
            name = p->name;
            break;
        }
    }

    if (WIFSIGNALED(status)) {
        pt_log_error(PT_LOG_ALERT, cycle->log, 0, "%s %d exited on signal %d%s",
                     name, (int) pid, WTERMSIG(status),
                     WCOREDUMP(status) ? " (core dumped)" : "");

    } else {
        code = WEXITSTATUS(status);
        /* An abandoned upgrade whose new master failed is worth an alert;
         * a new master stopped with QUIT (the rollback) is routine. */
        level = (p && p->detached && code != 0) ? PT_LOG_ALERT : PT_LOG_NOTICE;
        pt_log_error(level, cycle->log, 0, "%s %d exited with code %d",
                     name, (int) pid, code);

        if (code == 2 && p && p->respawn) {
            pt_log_error(PT_LOG_ALERT, cycle->log, 0,
                         "%s %d exited with fatal code %d and cannot be respawned",
                         name, (int) pid, code);
            p->respawn = 0;
        }
    }

    if (p) {
        p->status = status;
        p->exited = 1;
    }
}


/*
 * The new binary's master is gone: the upgrade failed or was rolled back.
 * Our pid file comes back (.oldbin renamed to the pid file, or written
 * anew if there is no .oldbin), and if WINCH had stopped our workers they
 * start again, since nobody else serves now.
 */
static void
pt_new_binary_exited(pt_cycle_t *cycle, pt_process_t *p)
{
    u_char           pid[PATH_MAX], oldpid[PATH_MAX];
    pt_core_conf_t  *ccf;

    ccf = pt_core_conf(cycle);
    pt_new_binary = 0;

    if (pt_cstr(pid, sizeof(pid), &ccf->pid) && pt_cstr(oldpid, sizeof(oldpid), &ccf->oldpid)) {
        if (rename((char *) oldpid, (char *) pid) == -1) {
            if (pt_errno == ENOENT) {
                (void) pt_create_pidfile(&ccf->pid, cycle->log);
            } else {
                pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                             "rename(\"%s\", \"%s\") failed", oldpid, pid);
            }
        }
    }

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0,
                 "%s %d is gone, this master carries on", p->name, (int) p->pid);

    if (pt_noaccepting && !pt_terminate && !pt_quit) {
        pt_noaccepting = 0;
        pt_start_worker_processes(cycle, pt_core_conf(cycle)->worker_processes);
    }
}


/* Marks entry i free and trims the table's tail. */
static void
pt_free_process(pt_int_t i)
{
    pt_memzero(&pt_processes[i], sizeof(pt_process_t));
    pt_processes[i].pid = -1;

    while (pt_last_process > 0 && pt_processes[pt_last_process - 1].pid == -1) {
        pt_last_process--;
    }
}


/* Remembers a cycle that a reload replaced.  Its pool is destroyed by
 * pt_release_old_cycles() once no child forked from it is alive. */
static void
pt_keep_old_cycle(pt_cycle_t *cycle)
{
    pt_uint_t     n;
    pt_cycle_t  **a;

    if (pt_old_cycles_n == pt_old_cycles_max) {
        n = pt_old_cycles_max ? 2 * pt_old_cycles_max : 8;
        a = realloc(pt_old_cycles, n * sizeof(pt_cycle_t *));
        if (a == NULL) {
            /* Leaking one cycle beats destroying it under live workers. */
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "realloc() failed, the old cycle is not freed");
            return;
        }
        pt_old_cycles = a;
        pt_old_cycles_max = n;
    }

    pt_old_cycles[pt_old_cycles_n++] = cycle;
}


/* Destroys every old cycle that no live child was forked from. */
static void
pt_release_old_cycles(void)
{
    pt_int_t     j;
    pt_uint_t    i, k;
    pt_cycle_t  *c;

    i = 0;

    while (i < pt_old_cycles_n) {
        c = pt_old_cycles[i];

        for (j = 0; j < pt_last_process; j++) {
            if (pt_processes[j].pid != -1 && pt_processes[j].cycle == c) {
                break;
            }
        }

        if (j < pt_last_process) {
            i++;
            continue;
        }

        pt_old_cycles[i] = pt_old_cycles[--pt_old_cycles_n];

        /* No cycle may keep pointing at the one that goes away. */
        if (pt_cycle->old_cycle == c) {
            pt_cycle->old_cycle = NULL;
        }
        for (k = 0; k < pt_old_cycles_n; k++) {
            if (pt_old_cycles[k]->old_cycle == c) {
                pt_old_cycles[k]->old_cycle = NULL;
            }
        }

        pt_destroy_pool(c->pool);
    }
}


/* The master's exit, once the last worker is reaped. */
static void
pt_master_process_exit(pt_cycle_t *cycle)
{
    pt_uint_t  i;

    /* With a new binary running this removes .oldbin, not its pid file. */
    pt_delete_pidfile(cycle);

    pt_log_error(PT_LOG_NOTICE, cycle->log, 0, "exit");

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->exit_master) {
            cycle->modules[i]->exit_master(cycle);
        }
    }

    if (!pt_quitting) {
        pt_close_listening_sockets(cycle);
    }

    exit(0);
}


/* Copies a counted string into buf with a trailing NUL; NULL when empty or
 * too long. */
static u_char *
pt_cstr(u_char *buf, size_t size, pt_str_t *s)
{
    if (s->len == 0 || s->len >= size) {
        return NULL;
    }

    pt_memcpy(buf, s->data, s->len);
    buf[s->len] = '\0';

    return buf;
}


/* Daemonizes: the parent exits 0, the child leads a new session with a
 * zero umask and /dev/null on stdin and stdout (stderr is pointed at the
 * error log by the caller). */
pt_int_t
pt_daemon(pt_log_t *log)
{
    int  fd;

    switch (fork()) {

    case -1:
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "fork() failed");
        return PT_ERROR;

    case 0:
        break;

    default:
        exit(0);
    }

    pt_parent = pt_pid;
    pt_pid = getpid();
    pt_daemonized = 1;

    if (setsid() == -1) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "setsid() failed");
        return PT_ERROR;
    }

    umask(0);

    fd = open("/dev/null", O_RDWR);
    if (fd == -1) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "open(\"/dev/null\") failed");
        return PT_ERROR;
    }

    if (dup2(fd, STDIN_FILENO) == -1) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "dup2(STDIN) failed");
        return PT_ERROR;
    }

    if (dup2(fd, STDOUT_FILENO) == -1) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "dup2(STDOUT) failed");
        return PT_ERROR;
    }

    if (fd > STDERR_FILENO && close(fd) == -1) {
        pt_log_error(PT_LOG_EMERG, log, pt_errno, "close() failed");
        return PT_ERROR;
    }

    return PT_OK;
}


/* ---- process title ---- */

/* The argv strings, and the environment strings right after them, form one
 * block that ps reads through /proc/PID/cmdline; the title is written over
 * it.  Anything still pointing into the block is moved to the heap first. */
static char  *pt_title_start;
static char  *pt_title_end;
static int    pt_title_ready;

extern char **environ;


/* Moves the strings of a NULL-terminated vector that lie in [start, end)
 * to the heap.  Returns PT_ERROR when out of memory. */
static pt_int_t
pt_title_relocate(char **v, char *start, char *end)
{
    char  *copy;

    for ( /* void */ ; v && *v; v++) {
        if (*v >= start && *v < end) {
            copy = strdup(*v);
            if (copy == NULL) {
                return PT_ERROR;
            }
            *v = copy;
        }
    }

    return PT_OK;
}


/* Finds the argv+environ block once and frees it for titles. */
static void
pt_title_init(void)
{
    int    i;
    char  *start, *end;

    pt_title_ready = 1;

    if (pt_os_argv == NULL || pt_os_argv[0] == NULL) {
        return;
    }

    start = pt_os_argv[0];
    end = start;

    for (i = 0; pt_os_argv[i] && pt_os_argv[i] == end; i++) {
        end = pt_os_argv[i] + strlen(pt_os_argv[i]) + 1;
    }

    for (i = 0; environ && environ[i] && environ[i] == end; i++) {
        end = environ[i] + strlen(environ[i]) + 1;
    }

    if (pt_title_relocate(environ, start, end) != PT_OK
        || pt_title_relocate(pt_os_environ, start, end) != PT_OK
        || pt_title_relocate(pt_argv, start, end) != PT_OK
        || pt_title_relocate(pt_os_argv, start, end) != PT_OK)
    {
        return;
    }

    pt_title_start = start;
    pt_title_end = end;
}


/* Sets "portico: TITLE" as the command line ps shows and, shortened to 15
 * bytes, as the comm name (top, /proc/PID/comm). */
void
pt_set_process_title(const char *title)
{
    size_t  len;
    char    comm[16];

    (void) snprintf(comm, sizeof(comm), "portico: %s", title);
    (void) prctl(PR_SET_NAME, comm, 0, 0, 0);

    if (!pt_title_ready) {
        pt_title_init();
    }

    if (pt_title_start == NULL) {
        return;
    }

    len = pt_title_end - pt_title_start;
    (void) snprintf(pt_title_start, len, PORTICO_NAME ": %s", title);
    len = strlen(pt_title_start);
    pt_memzero(pt_title_start + len, (pt_title_end - pt_title_start) - len);
}


/* "portico: master process /path/portico -c ..." as nginx shows it. */
static void
pt_set_master_title(void)
{
    int     i;
    char    title[1024];
    size_t  len;

    len = (size_t) snprintf(title, sizeof(title), "master process");

    for (i = 0; pt_argv && pt_argv[i] && len < sizeof(title) - 1; i++) {
        len += (size_t) snprintf(title + len, sizeof(title) - len, " %s", pt_argv[i]);
    }

    pt_set_process_title(title);
}
