/*
 * pt_process.h: the master and worker processes and their signals.
 *
 * The master never serves traffic.  It parses the config, holds the
 * listening sockets and shared memory, forks one worker per slot, respawns
 * a worker that dies in the same slot, and turns signals into reloads,
 * graceful or fast stops, log reopening and binary upgrades.  It talks to
 * workers with signals only.
 */

#ifndef PT_PROCESS_H
#define PT_PROCESS_H

#define PT_MAX_PROCESSES  1024

#define PT_PROCESS_SINGLE     0
#define PT_PROCESS_MASTER     1
#define PT_PROCESS_SIGNALLER  2
#define PT_PROCESS_WORKER     3

/* Signal names, as nginx uses them. */
#define PT_SHUTDOWN_SIGNAL      QUIT
#define PT_TERMINATE_SIGNAL     TERM
#define PT_NOACCEPT_SIGNAL      WINCH
#define PT_RECONFIGURE_SIGNAL   HUP
#define PT_REOPEN_SIGNAL        USR1
#define PT_CHANGEBIN_SIGNAL     USR2

typedef void (*pt_spawn_proc_pt)(pt_cycle_t *cycle, void *data);

typedef struct {
    pid_t              pid;
    int                status;
    pt_int_t           slot;        /* worker slot (listening socket index) */
    pt_cycle_t        *cycle;       /* the cycle it was forked from */
    pt_spawn_proc_pt   proc;
    void              *data;
    char              *name;

    unsigned           respawn:1;
    unsigned           just_spawn:1;
    unsigned           detached:1;  /* the new binary's master */
    unsigned           exiting:1;
    unsigned           exited:1;
} pt_process_t;

typedef struct {
    int     signo;
    char   *signame;
    char   *name;       /* for -s */
    void  (*handler)(int signo, siginfo_t *siginfo, void *ucontext);
} pt_signal_t;

/*
 * A draining worker (graceful shutdown, reload, upgrade) closes an idle
 * keepalive connection only after it stayed idle this long, and marks it
 * c->close so a request that arrives meanwhile is still answered (with
 * "Connection: close").  nginx closes idle connections at once, and a
 * request the client sent just before the close is then lost under load.
 */
#define PT_DRAIN_GRACE_MSEC  1000

pt_int_t pt_init_signals(pt_log_t *log);
/* The set of handled signals (what the master blocks outside sigsuspend). */
void pt_signals_block_set(sigset_t *set);
/* Logs the signals received since the last call ("signal 1 (SIGHUP)
 * received from 123, reconfiguring"); the handler itself never logs. */
void pt_log_signals(pt_log_t *log);
pt_int_t pt_daemon(pt_log_t *log);
/* Sends the named -s signal to pid. */
pt_int_t pt_os_signal_process(pt_cycle_t *cycle, char *name, pid_t pid);

void pt_master_process_cycle(pt_cycle_t *cycle);
void pt_single_process_cycle(pt_cycle_t *cycle);

/* Forks proc(cycle, data) as a child named name (for log lines) in worker
 * slot slot; respawn: restart it in the same slot when it dies.  Returns
 * the pid or PT_INVALID_PID (logged). */
pid_t pt_spawn_process(pt_cycle_t *cycle, pt_spawn_proc_pt proc, void *data,
    char *name, pt_int_t slot, pt_uint_t respawn);
/* The body of a worker; data is its slot, (void *) (intptr_t) slot. */
void pt_worker_process_cycle(pt_cycle_t *cycle, void *data);
/* Shows "portico: TITLE" in ps (argv) and in /proc/PID/comm. */
void pt_set_process_title(const char *title);

extern pt_uint_t      pt_process;
extern pt_uint_t      pt_worker;         /* this worker's slot */
extern pid_t          pt_pid;
extern pid_t          pt_parent;
extern pid_t          pt_new_binary;
extern pt_uint_t      pt_inherited;
extern pt_uint_t      pt_daemonized;
extern pt_uint_t      pt_exiting;        /* draining: finish, then exit */
extern char         **pt_os_argv;
extern char         **pt_os_environ;
extern int            pt_argc;
extern char         **pt_argv;

extern sig_atomic_t   pt_reap;
extern sig_atomic_t   pt_sigio;
extern sig_atomic_t   pt_sigalrm;
extern sig_atomic_t   pt_terminate;
extern sig_atomic_t   pt_quit;
extern sig_atomic_t   pt_reconfigure;
extern sig_atomic_t   pt_reopen;
extern sig_atomic_t   pt_change_binary;
extern sig_atomic_t   pt_noaccept;

extern pt_process_t   pt_processes[PT_MAX_PROCESSES];
extern pt_int_t       pt_last_process;

#endif /* PT_PROCESS_H */
