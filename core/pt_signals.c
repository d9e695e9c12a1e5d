/*
 * pt_signals.c: the signal table, the handler, and "-s" signalling.
 *
 * The handler is async-signal-safe: it only stores sig_atomic_t flags and a
 * note (sender pid, chosen action) per signal.  The main loops log those
 * notes with pt_log_signals() once the handler has returned, so a signal can
 * never interrupt the logger or the allocator in the middle of a write.
 */

#include "portico.h"

/* What the handler decided to do with a signal; indexes pt_sig_actions. */
typedef enum {
    PT_SIG_ACT_NONE = 0,
    PT_SIG_ACT_EXITING,
    PT_SIG_ACT_SHUTDOWN,
    PT_SIG_ACT_RECONFIGURE,
    PT_SIG_ACT_REOPEN,
    PT_SIG_ACT_CHANGEBIN,
    PT_SIG_ACT_NOACCEPT,
    PT_SIG_ACT_IGNORING
} pt_sig_action_e;

static const char *pt_sig_actions[] = {
    "",
    ", exiting",
    ", shutting down",
    ", reconfiguring",
    ", reopening logs",
    ", changing binary",
    ", stop accepting connections",
    ", ignoring",
};

/* Written by the handler, read and cleared by pt_log_signals(). */
typedef struct {
    volatile sig_atomic_t  pending;
    volatile sig_atomic_t  from;        /* si_pid, 0: unknown */
    volatile sig_atomic_t  action;      /* pt_sig_action_e */
} pt_sig_note_t;

static pt_sig_note_t  pt_sig_notes[NSIG];

static void pt_signal_handler(int signo, siginfo_t *siginfo, void *ucontext);
static pt_sig_action_e pt_signal_master(int signo);
static pt_sig_action_e pt_signal_worker(int signo);

sig_atomic_t  pt_reap;
sig_atomic_t  pt_sigio;
sig_atomic_t  pt_sigalrm;
sig_atomic_t  pt_terminate;
sig_atomic_t  pt_quit;
sig_atomic_t  pt_reconfigure;
sig_atomic_t  pt_reopen;
sig_atomic_t  pt_change_binary;
sig_atomic_t  pt_noaccept;

/* The handled signals; "name" is the -s argument that sends it. */
static pt_signal_t  pt_signals[] = {
    { SIGHUP,   "SIGHUP",   "reload",  pt_signal_handler },
    { SIGUSR1,  "SIGUSR1",  "reopen",  pt_signal_handler },
    { SIGWINCH, "SIGWINCH", "",        pt_signal_handler },
    { SIGTERM,  "SIGTERM",  "stop",    pt_signal_handler },
    { SIGQUIT,  "SIGQUIT",  "quit",    pt_signal_handler },
    { SIGUSR2,  "SIGUSR2",  "",        pt_signal_handler },
    { SIGALRM,  "SIGALRM",  "",        pt_signal_handler },
    { SIGINT,   "SIGINT",   "",        pt_signal_handler },
    { SIGIO,    "SIGIO",    "",        pt_signal_handler },
    { SIGCHLD,  "SIGCHLD",  "",        pt_signal_handler },
    { SIGSYS,   "SIGSYS, SIG_IGN", "", NULL },
    { SIGPIPE,  "SIGPIPE, SIG_IGN", "", NULL },
    { 0, NULL, "", NULL }
};


/* Installs the handler for every signal of the table (SIG_IGN where the
 * table has no handler).  Called once, before the process model starts. */
pt_int_t
pt_init_signals(pt_log_t *log)
{
    pt_signal_t       *sig;
    struct sigaction   sa;

    for (sig = pt_signals; sig->signo != 0; sig++) {
        pt_memzero(&sa, sizeof(struct sigaction));

        if (sig->handler) {
            sa.sa_sigaction = sig->handler;
            sa.sa_flags = SA_SIGINFO;
        } else {
            sa.sa_handler = SIG_IGN;
        }

        sigemptyset(&sa.sa_mask);

        if (sigaction(sig->signo, &sa, NULL) == -1) {
            pt_log_error(PT_LOG_EMERG, log, pt_errno,
                         "sigaction(%s) failed", sig->signame);
            return PT_ERROR;
        }
    }

    return PT_OK;
}


/* The signals the master blocks outside sigsuspend(), so that flags change
 * only while it waits and never between a test and its action. */
void
pt_signals_block_set(sigset_t *set)
{
    pt_signal_t  *sig;

    sigemptyset(set);

    for (sig = pt_signals; sig->signo != 0; sig++) {
        if (sig->handler) {
            sigaddset(set, sig->signo);
        }
    }
}


/* The handler proper.  It must stay async-signal-safe: no logging, no
 * allocation, no stdio; errno is preserved because it may interrupt any
 * system call of the main loop. */
static void
pt_signal_handler(int signo, siginfo_t *siginfo, void *ucontext)
{
    pt_err_t         err;
    pt_sig_action_e  action;

    (void) ucontext;

    if (signo <= 0 || signo >= NSIG) {
        return;
    }

    err = pt_errno;

    switch (pt_process) {

    case PT_PROCESS_MASTER:
    case PT_PROCESS_SINGLE:
        action = pt_signal_master(signo);
        break;

    case PT_PROCESS_WORKER:
        action = pt_signal_worker(signo);
        break;

    default:
        action = PT_SIG_ACT_NONE;
        break;
    }

    pt_sig_notes[signo].from = (siginfo && siginfo->si_pid) ? siginfo->si_pid : 0;
    pt_sig_notes[signo].action = action;
    pt_sig_notes[signo].pending = 1;

    pt_set_errno(err);
}


/* Signal meanings in the master (and in single-process mode). */
static pt_sig_action_e
pt_signal_master(int signo)
{
    switch (signo) {

    case SIGQUIT:
        pt_quit = 1;
        return PT_SIG_ACT_SHUTDOWN;

    case SIGTERM:
    case SIGINT:
        pt_terminate = 1;
        return PT_SIG_ACT_EXITING;

    case SIGWINCH:
        /*
         * nginx honours WINCH only in a daemon, since a terminal sends it on
         * every resize.  A master that has started a new binary gets it on
         * purpose (the upgrade procedure), so it is honoured there too,
         * which makes upgrades work under "daemon off" supervisors.
         */
        if (pt_process == PT_PROCESS_MASTER && (pt_daemonized || pt_new_binary > 0)) {
            pt_noaccept = 1;
            return PT_SIG_ACT_NOACCEPT;
        }
        return PT_SIG_ACT_IGNORING;

    case SIGHUP:
        pt_reconfigure = 1;
        return PT_SIG_ACT_RECONFIGURE;

    case SIGUSR1:
        pt_reopen = 1;
        return PT_SIG_ACT_REOPEN;

    case SIGUSR2:
        /*
         * A new binary ignores USR2 while the old master that started it
         * is still its parent (the pid files would be clobbered), and an
         * old master ignores it while its new binary runs.  Unlike nginx,
         * the parent test applies only to an inherited (upgraded) master,
         * so a master under "daemon off" can still be upgraded.
         */
        if (pt_process != PT_PROCESS_MASTER || pt_new_binary > 0
            || (pt_inherited && getppid() == pt_parent))
        {
            return PT_SIG_ACT_IGNORING;
        }
        pt_change_binary = 1;
        return PT_SIG_ACT_CHANGEBIN;

    case SIGALRM:
        pt_sigalrm = 1;
        return PT_SIG_ACT_NONE;

    case SIGIO:
        pt_sigio = 1;
        return PT_SIG_ACT_NONE;

    case SIGCHLD:
        pt_reap = 1;
        return PT_SIG_ACT_NONE;
    }

    return PT_SIG_ACT_NONE;
}


/* Signal meanings in a worker: the master drives it with QUIT, TERM and
 * USR1 only; the rest are meaningless there. */
static pt_sig_action_e
pt_signal_worker(int signo)
{
    switch (signo) {

    case SIGQUIT:
        pt_quit = 1;
        return PT_SIG_ACT_SHUTDOWN;

    case SIGTERM:
    case SIGINT:
        pt_terminate = 1;
        return PT_SIG_ACT_EXITING;

    case SIGUSR1:
        pt_reopen = 1;
        return PT_SIG_ACT_REOPEN;

    case SIGALRM:
        pt_sigalrm = 1;
        return PT_SIG_ACT_NONE;

    case SIGIO:
        pt_sigio = 1;
        return PT_SIG_ACT_NONE;

    case SIGHUP:
    case SIGUSR2:
    case SIGWINCH:
        return PT_SIG_ACT_IGNORING;
    }

    return PT_SIG_ACT_NONE;
}


/* Logs "signal 1 (SIGHUP) received from 1234, reconfiguring" for every
 * signal that arrived since the last call.  SIGCHLD is logged at info, the
 * rest at notice, as nginx does. */
void
pt_log_signals(pt_log_t *log)
{
    pid_t         from;
    pt_uint_t     level;
    pt_signal_t  *sig;
    const char   *action;

    for (sig = pt_signals; sig->signo != 0; sig++) {
        if (!pt_sig_notes[sig->signo].pending) {
            continue;
        }

        pt_sig_notes[sig->signo].pending = 0;
        from = pt_sig_notes[sig->signo].from;
        action = pt_sig_actions[pt_sig_notes[sig->signo].action];
        level = (sig->signo == SIGCHLD) ? PT_LOG_INFO : PT_LOG_NOTICE;

        if (from) {
            pt_log_error(level, log, 0, "signal %d (%s) received from %d%s",
                         sig->signo, sig->signame, (int) from, action);
        } else {
            pt_log_error(level, log, 0, "signal %d (%s) received%s",
                         sig->signo, sig->signame, action);
        }
    }
}


/* -s NAME: sends the signal named NAME (stop, quit, reopen, reload) to
 * pid.  Returns PT_OK when it was sent, PT_ERROR otherwise. */
pt_int_t
pt_os_signal_process(pt_cycle_t *cycle, char *name, pid_t pid)
{
    pt_signal_t  *sig;

    for (sig = pt_signals; sig->signo != 0; sig++) {
        if (sig->name[0] == '\0' || strcmp(name, sig->name) != 0) {
            continue;
        }

        if (kill(pid, sig->signo) == -1) {
            pt_log_error(PT_LOG_ALERT, cycle->log, pt_errno,
                         "kill(%d, %d) failed", (int) pid, sig->signo);
            return PT_ERROR;
        }

        return PT_OK;
    }

    pt_log_error(PT_LOG_EMERG, cycle->log, 0, "invalid signal \"%s\"", name);
    return PT_ERROR;
}
