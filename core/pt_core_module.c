/*
 * pt_core_module.c: the main-context directives (daemon, master_process,
 * worker_processes, worker_rlimit_nofile, worker_shutdown_timeout, pid,
 * user; worker_cpu_affinity, worker_priority, worker_rlimit_core,
 * working_directory, which pt_worker.c applies after fork; pcre_jit,
 * timer_resolution, lock_file and load_module, which stock nginx.conf files
 * carry) and their defaults.
 */

#include "portico.h"

static void *pt_core_module_create_conf(pt_cycle_t *cycle);
static char *pt_core_module_init_conf(pt_cycle_t *cycle, void *conf);
static char *pt_set_worker_processes(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_set_user(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_set_cpu_affinity(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_set_priority(pt_conf_t *cf, pt_command_t *cmd, void *conf);
static char *pt_load_module(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_core_commands[] = {

    { pt_string("daemon"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_FLAG,
      pt_conf_set_flag_slot,
      0,
      offsetof(pt_core_conf_t, daemon),
      NULL },

    { pt_string("master_process"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_FLAG,
      pt_conf_set_flag_slot,
      0,
      offsetof(pt_core_conf_t, master),
      NULL },

    { pt_string("worker_processes"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_set_worker_processes,
      0,
      0,
      NULL },

    { pt_string("worker_rlimit_nofile"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_num_slot,
      0,
      offsetof(pt_core_conf_t, rlimit_nofile),
      NULL },

    { pt_string("worker_shutdown_timeout"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_msec_slot,
      0,
      offsetof(pt_core_conf_t, shutdown_timeout),
      NULL },

    { pt_string("pid"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_str_slot,
      0,
      offsetof(pt_core_conf_t, pid),
      NULL },

    { pt_string("user"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE12,
      pt_set_user,
      0,
      0,
      NULL },

    { pt_string("worker_cpu_affinity"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_1MORE,
      pt_set_cpu_affinity,
      0,
      0,
      NULL },

    { pt_string("worker_priority"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_set_priority,
      0,
      0,
      NULL },

    { pt_string("worker_rlimit_core"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_off_slot,
      0,
      offsetof(pt_core_conf_t, rlimit_core),
      NULL },

    { pt_string("working_directory"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_str_slot,
      0,
      offsetof(pt_core_conf_t, working_directory),
      NULL },

    { pt_string("pcre_jit"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_FLAG,
      pt_conf_set_flag_slot,
      0,
      offsetof(pt_core_conf_t, pcre_jit),
      NULL },

    /* portico refreshes its cached time once per event-loop iteration,
     * which is never staler than a timer_resolution interval */
    { pt_string("timer_resolution"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_msec_slot,
      0,
      offsetof(pt_core_conf_t, timer_resolution),
      NULL },

    /* nginx ignores it where atomics replace the lock file, as on Linux */
    { pt_string("lock_file"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_conf_set_str_slot,
      0,
      offsetof(pt_core_conf_t, lock_file),
      NULL },

    { pt_string("load_module"),
      PT_MAIN_CONF | PT_DIRECT_CONF | PT_CONF_TAKE1,
      pt_load_module,
      0,
      0,
      NULL },

    pt_null_command
};

static pt_core_module_t  pt_core_module_ctx = {
    pt_string("core"),
    pt_core_module_create_conf,
    pt_core_module_init_conf
};

pt_module_t  pt_core_module = {
    PT_MODULE_V1,
    &pt_core_module_ctx,
    pt_core_commands,
    PT_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL
};

static void *
pt_core_module_create_conf(pt_cycle_t *cycle)
{
    pt_core_conf_t  *ccf;

    ccf = pt_pcalloc(cycle->pool, sizeof(pt_core_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    ccf->daemon = PT_CONF_UNSET;
    ccf->master = PT_CONF_UNSET;
    ccf->shutdown_timeout = PT_CONF_UNSET_MSEC;
    ccf->worker_processes = PT_CONF_UNSET;
    ccf->rlimit_nofile = PT_CONF_UNSET;
    ccf->user = (uid_t) PT_CONF_UNSET_UINT;
    ccf->group = (gid_t) PT_CONF_UNSET_UINT;
    ccf->priority = PT_CONF_UNSET;
    ccf->rlimit_core = PT_CONF_UNSET;
    ccf->pcre_jit = PT_CONF_UNSET;
    ccf->timer_resolution = PT_CONF_UNSET_MSEC;

    return ccf;
}

/* Looks up the default worker user; a missing user only matters when the
 * master runs as root and must drop privileges. */
static char *
pt_core_default_user(pt_cycle_t *cycle, pt_core_conf_t *ccf)
{
    struct passwd  *pwd;
    struct group   *grp;

    if (ccf->user != (uid_t) PT_CONF_UNSET_UINT || geteuid() != 0) {
        return PT_CONF_OK;
    }

    errno = 0;
    pwd = getpwnam(PT_USER);
    if (pwd == NULL) {
        pt_log_error(PT_LOG_EMERG, cycle->log, errno,
                     "getpwnam(\"" PT_USER "\") failed");
        return PT_CONF_ERROR;
    }

    ccf->username = (u_char *) PT_USER;
    ccf->user = pwd->pw_uid;

    errno = 0;
    grp = getgrnam(PT_GROUP);
    if (grp == NULL) {
        pt_log_error(PT_LOG_EMERG, cycle->log, errno,
                     "getgrnam(\"" PT_GROUP "\") failed");
        return PT_CONF_ERROR;
    }

    ccf->group = grp->gr_gid;

    return PT_CONF_OK;
}

static char *
pt_core_module_init_conf(pt_cycle_t *cycle, void *conf)
{
    pt_core_conf_t  *ccf = conf;

    pt_conf_init_value(ccf->daemon, 1);
    pt_conf_init_value(ccf->master, 1);
    pt_conf_init_msec_value(ccf->shutdown_timeout, 0);
    pt_conf_init_value(ccf->worker_processes, 1);
    pt_conf_init_value(ccf->priority, 0);
    pt_conf_init_msec_value(ccf->timer_resolution, 0);

    if (ccf->cpu_affinity_n > 1 && !ccf->cpu_affinity_auto
        && ccf->cpu_affinity_n != (pt_uint_t) ccf->worker_processes)
    {
        pt_log_error(PT_LOG_WARN, cycle->log, 0,
                     "the number of \"worker_processes\" is not equal to the "
                     "number of \"worker_cpu_affinity\" masks, using last "
                     "mask for remaining worker processes");
    }

    /* nginx resolves it against the prefix; whether it exists is found
     * out by the worker's chdir() */
    if (ccf->working_directory.len
        && pt_conf_full_name(cycle, &ccf->working_directory, 0) != PT_OK)
    {
        return PT_CONF_ERROR;
    }

    if (pt_core_default_user(cycle, ccf) != PT_CONF_OK) {
        return PT_CONF_ERROR;
    }

    if (ccf->pid.len == 0) {
        pt_str_set(&ccf->pid, PT_PID_PATH);
    }

    if (pt_conf_full_name(cycle, &ccf->pid, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    ccf->oldpid.len = ccf->pid.len + sizeof(".oldbin") - 1;
    ccf->oldpid.data = pt_pnalloc(cycle->pool, ccf->oldpid.len + 1);
    if (ccf->oldpid.data == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memcpy(pt_cpymem(ccf->oldpid.data, ccf->pid.data, ccf->pid.len),
              ".oldbin", sizeof(".oldbin"));

    return PT_CONF_OK;
}

static char *
pt_set_worker_processes(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t        *value;
    pt_core_conf_t  *ccf = conf;

    if (ccf->worker_processes != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (pt_str_eq_lit(&value[1], "auto")) {
        ccf->worker_processes = pt_ncpu;
        return PT_CONF_OK;
    }

    ccf->worker_processes = pt_atoi(value[1].data, value[1].len);

    if (ccf->worker_processes == PT_ERROR || ccf->worker_processes == 0) {
        return "invalid value";
    }

    if (ccf->worker_processes > PT_MAX_PROCESSES / 2) {
        return "is too large";
    }

    return PT_CONF_OK;
}

static char *
pt_set_user(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char            *group;
    struct passwd   *pwd;
    struct group    *grp;
    pt_str_t        *value;
    pt_core_conf_t  *ccf = conf;

    if (ccf->user != (uid_t) PT_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (geteuid() != 0) {
        pt_conf_log_error(PT_LOG_WARN, cf, 0,
                          "the \"user\" directive makes sense only "
                          "if the master process runs "
                          "with super-user privileges, ignored");
        return PT_CONF_OK;
    }

    value = cf->args->elts;

    ccf->username = value[1].data;

    errno = 0;
    pwd = getpwnam((const char *) value[1].data);
    if (pwd == NULL) {
        pt_conf_log_error(PT_LOG_EMERG, cf, errno,
                          "getpwnam(\"%s\") failed", value[1].data);
        return PT_CONF_ERROR;
    }

    ccf->user = pwd->pw_uid;

    /* As nginx: without a group, the group named like the user. */
    group = (char *) ((cf->args->nelts == 2) ? value[1].data : value[2].data);

    errno = 0;
    grp = getgrnam(group);
    if (grp == NULL) {
        pt_conf_log_error(PT_LOG_EMERG, cf, errno,
                          "getgrnam(\"%s\") failed", group);
        return PT_CONF_ERROR;
    }

    ccf->group = grp->gr_gid;

    return PT_CONF_OK;
}

/*
 * worker_cpu_affinity auto [mask] | mask ...: masks are binary strings,
 * the rightmost character being CPU 0 (spaces skipped, as nginx).  With
 * "auto" the only mask, if given, limits the CPUs auto picks from.
 */
static char *
pt_set_cpu_affinity(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    u_char          *p;
    pt_str_t        *value;
    pt_uint_t        i, n, first;
    cpu_set_t       *mask;
    pt_core_conf_t  *ccf = conf;

    if (ccf->cpu_affinity) {
        return "is duplicate";
    }

    value = cf->args->elts;
    first = 1;

    if (pt_str_eq_lit(&value[1], "auto")) {
        if (cf->args->nelts > 3) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid number of arguments "
                              "in \"worker_cpu_affinity\" directive");
            return PT_CONF_ERROR;
        }
        ccf->cpu_affinity_auto = 1;
        first = 2;
    }

    n = (cf->args->nelts > first) ? cf->args->nelts - first : 1;

    mask = pt_pcalloc(cf->pool, n * sizeof(cpu_set_t));
    if (mask == NULL) {
        return PT_CONF_ERROR;
    }

    ccf->cpu_affinity = mask;
    ccf->cpu_affinity_n = n;

    if (first == 2 && cf->args->nelts == 2) {
        for (i = 0; i < CPU_SETSIZE; i++) {
            CPU_SET(i, &mask[0]);           /* auto alone: any CPU */
        }
        return PT_CONF_OK;
    }

    for (n = first; n < cf->args->nelts; n++, mask++) {
        if (value[n].len > CPU_SETSIZE) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "\"worker_cpu_affinity\" "
                              "supports up to %d CPUs only", CPU_SETSIZE);
            return PT_CONF_ERROR;
        }

        i = 0;
        for (p = value[n].data + value[n].len; p-- > value[n].data; /* void */) {
            if (*p == ' ') {
                continue;
            }
            if (*p != '0' && *p != '1') {
                pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid character \"%c\" "
                                  "in \"worker_cpu_affinity\"", *p);
                return PT_CONF_ERROR;
            }
            if (*p == '1') {
                CPU_SET(i, mask);
            }
            i++;
        }
    }

    return PT_CONF_OK;
}

/* worker_priority [-+]number: any integer, as nginx; setpriority() clamps
 * it to -20..19 and only root may go below 0. */
static char *
pt_set_priority(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t        *value, n;
    pt_uint_t        minus;
    pt_core_conf_t  *ccf = conf;

    if (ccf->priority != PT_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = value[1];
    minus = 0;

    if (n.len && (n.data[0] == '-' || n.data[0] == '+')) {
        minus = (n.data[0] == '-');
        n.data++;
        n.len--;
    }

    ccf->priority = pt_atoi(n.data, n.len);

    if (ccf->priority == PT_ERROR) {
        return "invalid number";
    }

    if (minus) {
        ccf->priority = -ccf->priority;
    }

    return PT_CONF_OK;
}

/* load_module: portico has no dynamic modules.  Accepting the line keeps
 * stock nginx.conf files (Debian's includes the modules-enabled folder)
 * working; a directive of the module that is used later fails as unknown,
 * which is the truth. */
static char *
pt_load_module(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_str_t  *value, file;

    value = cf->args->elts;
    file = value[1];

    if (pt_conf_full_name(cf->cycle, &file, 0) != PT_OK) {
        return PT_CONF_ERROR;
    }

    pt_conf_log_error(PT_LOG_WARN, cf, 0,
                      "\"load_module\" ignored for \"" PT_STR_FMT "\": portico has "
                      "no dynamic modules, the module's directives must be compiled "
                      "in with ./configure (\"portico -V\" lists the modules)",
                      PT_STR_ARG(file));

    return PT_CONF_OK;
}
