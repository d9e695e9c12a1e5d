/*
 * pt_cycle.h: the runtime built from one configuration.
 *
 * A reload builds a whole new cycle and swaps it in only when every step
 * succeeded; a failure at any step leaves the old cycle serving.  The steps
 * are named functions in pt_cycle.c: parse, open files, shared memory,
 * listeners, init modules, release old.
 */

#ifndef PT_CYCLE_H
#define PT_CYCLE_H

#define PT_CYCLE_POOL_SIZE  PT_DEFAULT_POOL_SIZE

typedef struct pt_shm_zone_s pt_shm_zone_t;

/* data is the zone's data from the previous cycle when the zone is reused
 * (same name, size and owner), NULL on first creation. */
typedef pt_int_t (*pt_shm_zone_init_pt)(pt_shm_zone_t *zone, void *data);

struct pt_shm_zone_s {
    void                  *data;
    pt_shm_t               shm;
    pt_shm_zone_init_pt    init;
    void                  *tag;     /* the owning module; must match to reuse */
    pt_uint_t              noreuse;
};

struct pt_cycle_s {
    void                ****conf_ctx;
    pt_pool_t              *pool;

    pt_log_t               *log;
    pt_log_t                new_log;
    pt_uint_t               log_use_stderr;

    pt_connection_t        *free_connections;
    pt_uint_t               free_connection_n;

    pt_module_t           **modules;
    pt_uint_t               modules_n;
    pt_uint_t               modules_used;   /* no new modules after this */

    pt_queue_t              reusable_connections_queue;
    pt_uint_t               reusable_connections_n;

    pt_array_t              listening;      /* of pt_listening_t */
    pt_array_t              paths;
    pt_array_t              config_dump;    /* of pt_conf_dump_t, for -T */

    pt_list_t               open_files;     /* of pt_open_file_t */
    pt_list_t               shared_memory;  /* of pt_shm_zone_t */

    pt_uint_t               connection_n;
    pt_connection_t        *connections;
    pt_event_t             *read_events;
    pt_event_t             *write_events;

    pt_cycle_t             *old_cycle;

    pt_str_t                conf_file;
    pt_str_t                conf_param;     /* -g */
    pt_str_t                conf_prefix;    /* the config file's folder */
    pt_str_t                prefix;         /* -p */
    pt_str_t                error_log;      /* -e */
    pt_str_t                hostname;
};

typedef struct {
    pt_flag_t      daemon;
    pt_flag_t      master;
    pt_msec_t      shutdown_timeout;
    pt_int_t       worker_processes;
    pt_int_t       rlimit_nofile;
    uid_t          user;
    gid_t          group;
    u_char        *username;
    pt_str_t       pid;
    pt_str_t       oldpid;

    /* Worker set-up after fork (pt_worker.c): worker_priority,
     * worker_rlimit_core, working_directory, worker_cpu_affinity. */
    pt_int_t       priority;
    off_t          rlimit_core;
    pt_str_t       working_directory;
    pt_uint_t      cpu_affinity_auto;
    pt_uint_t      cpu_affinity_n;      /* masks given, 0: none */
    cpu_set_t     *cpu_affinity;        /* the masks (auto: the one given) */

    pt_flag_t      pcre_jit;            /* unset: JIT, as portico always did */
    pt_msec_t      timer_resolution;    /* accepted, see portico.conf(5) */
    pt_str_t       lock_file;           /* accepted and ignored, as on Linux */
} pt_core_conf_t;

#define pt_get_conf(conf_ctx, module)  conf_ctx[module.index]

/* Builds a new cycle from the configuration; NULL on any error (the error
 * has been logged and old_cycle is untouched). */
pt_cycle_t *pt_init_cycle(pt_cycle_t *old_cycle);
pt_int_t pt_create_pidfile(pt_str_t *name, pt_log_t *log);
void pt_delete_pidfile(pt_cycle_t *cycle);
/* -s stop|quit|reopen|reload: signals the master named in the pid file. */
pt_int_t pt_signal_process(pt_cycle_t *cycle, char *sig);
/* USR1: reopen every registered file, owned by user when root. */
void pt_reopen_files(pt_cycle_t *cycle, uid_t user);
pt_shm_zone_t *pt_shared_memory_add(pt_conf_t *cf, pt_str_t *name, size_t size,
    void *tag);
/* Forks and execs argv[0] with the listening sockets in PORTICO; returns
 * the new master's pid or PT_INVALID_PID. */
pid_t pt_exec_new_binary(pt_cycle_t *cycle, char *const *argv);
/* Arms worker_shutdown_timeout in a worker that starts draining. */
void pt_set_shutdown_timer(pt_cycle_t *cycle);

extern volatile pt_cycle_t  *pt_cycle;
extern pt_uint_t             pt_test_config;
extern pt_uint_t             pt_dump_config;
extern pt_uint_t             pt_quiet_mode;
extern pt_module_t           pt_core_module;

#endif /* PT_CYCLE_H */
