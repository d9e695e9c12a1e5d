/*
 * portico.c: main() and nginx's command line.
 *
 *   -?,-h  help          -v  version        -V  version and build
 *   -t     test config   -T  test and dump  -q  quiet -t
 *   -s     signal        -p  prefix         -e  error log
 *   -c     config file   -g  global directives
 */

#include "portico.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

static pt_uint_t   pt_show_help;
static pt_uint_t   pt_show_version;
static pt_uint_t   pt_show_configure;
static u_char     *pt_prefix;
static u_char     *pt_error_log;
static u_char     *pt_conf_file;
static u_char     *pt_conf_params;
static char       *pt_signal;

static pt_int_t pt_get_options(int argc, char *const *argv);
static void pt_show_version_info(void);
static pt_int_t pt_process_options(pt_cycle_t *cycle);
static pt_int_t pt_save_argv(int argc, char *const *argv);
static void pt_dump_config_files(pt_cycle_t *cycle);
static pt_int_t pt_run(pt_cycle_t *cycle);

int
main(int argc, char *const *argv)
{
    pt_log_t    *log;
    pt_cycle_t  *cycle, init_cycle;

    if (pt_get_options(argc, argv) != PT_OK) {
        return 1;
    }

    if (pt_show_version) {
        pt_show_version_info();
        if (!pt_test_config) {
            return 0;
        }
    }

    pt_pagesize = (pt_uint_t) getpagesize();
    pt_ncpu = (pt_uint_t) sysconf(_SC_NPROCESSORS_ONLN);
    if (pt_ncpu < 1) {
        pt_ncpu = 1;
    }
    pt_pid = getpid();
    pt_parent = getppid();

    pt_time_init();

    log = pt_log_init(pt_prefix, pt_error_log);
    if (log == NULL) {
        return 1;
    }

    pt_memzero(&init_cycle, sizeof(pt_cycle_t));
    init_cycle.log = log;
    pt_cycle = &init_cycle;

    init_cycle.pool = pt_create_pool(1024, log);
    if (init_cycle.pool == NULL) {
        return 1;
    }

    if (pt_save_argv(argc, argv) != PT_OK || pt_process_options(&init_cycle) != PT_OK) {
        return 1;
    }

    /* After a binary upgrade the listening sockets come from the old
     * master through the environment. */
    if (getenv(PORTICO_VAR) != NULL) {
        if (pt_set_inherited_sockets(&init_cycle) != PT_OK) {
            return 1;
        }
        pt_inherited = 1;
    }

    if (pt_preinit_modules() != PT_OK) {
        return 1;
    }

    cycle = pt_init_cycle(&init_cycle);

    if (cycle == NULL) {
        if (pt_test_config) {
            pt_log_stderr(0, "configuration file " PT_STR_FMT " test failed",
                          PT_STR_ARG(init_cycle.conf_file));
        }
        return 1;
    }

    if (pt_test_config) {
        if (!pt_quiet_mode) {
            pt_log_stderr(0, "configuration file " PT_STR_FMT
                          " test is successful", PT_STR_ARG(cycle->conf_file));
        }
        if (pt_dump_config) {
            pt_dump_config_files(cycle);
        }
        return 0;
    }

    if (pt_signal) {
        return (int) pt_signal_process(cycle, pt_signal);
    }

    pt_cycle = cycle;

    return (int) pt_run(cycle);
}

/* Daemonizes if asked, writes the pid file and enters the process cycle. */
static pt_int_t
pt_run(pt_cycle_t *cycle)
{
    pt_core_conf_t  *ccf;

    ccf = (pt_core_conf_t *) pt_get_conf(cycle->conf_ctx, pt_core_module);

    if (ccf->master && pt_process == PT_PROCESS_SINGLE) {
        pt_process = PT_PROCESS_MASTER;
    }

    if (pt_init_signals(cycle->log) != PT_OK) {
        return 1;
    }

    if (!pt_inherited && ccf->daemon) {
        if (pt_daemon(cycle->log) != PT_OK) {
            return 1;
        }
        pt_daemonized = 1;
    }

    if (pt_inherited) {
        pt_daemonized = 1;
    }

    pt_pid = getpid();

    if (pt_create_pidfile(&ccf->pid, cycle->log) != PT_OK) {
        return 1;
    }

    if (pt_log_redirect_stderr(cycle) != PT_OK) {
        return 1;
    }

    /* From here on, messages go to the error log only. */
    if (cycle->log->file && cycle->log->file->fd != STDERR_FILENO) {
        pt_use_stderr = 0;
    }

    if (pt_process == PT_PROCESS_SINGLE) {
        pt_single_process_cycle(cycle);
    } else {
        pt_master_process_cycle(cycle);
    }

    return 0;
}

/* Takes the value of an option from the rest of the word or the next
 * argument ("-cfile" and "-c file" both work, as in nginx). */
static u_char *
pt_option_value(int argc, char *const *argv, int *i, u_char *p)
{
    if (*p) {
        return p;
    }

    if (argv[++(*i)]) {
        return (u_char *) argv[*i];
    }

    return NULL;
}

static pt_int_t
pt_get_options(int argc, char *const *argv)
{
    int      i;
    u_char  *p, opt;

    for (i = 1; i < argc; i++) {

        p = (u_char *) argv[i];

        /* Not in nginx, but what every operator types first. */
        if (strcmp(argv[i], "--help") == 0) {
            pt_show_version = 1;
            pt_show_help = 1;
            continue;
        }

        if (*p++ != '-') {
            pt_log_stderr(0, "invalid option: \"%s\"", argv[i]);
            return PT_ERROR;
        }

        while (*p) {

            opt = *p++;

            switch (opt) {

            case '?':
            case 'h':
                pt_show_version = 1;
                pt_show_help = 1;
                break;

            case 'v':
                pt_show_version = 1;
                break;

            case 'V':
                pt_show_version = 1;
                pt_show_configure = 1;
                break;

            case 't':
                pt_test_config = 1;
                break;

            case 'T':
                pt_test_config = 1;
                pt_dump_config = 1;
                break;

            case 'q':
                pt_quiet_mode = 1;
                break;

            case 'p':
                pt_prefix = pt_option_value(argc, argv, &i, p);
                if (pt_prefix == NULL) {
                    pt_log_stderr(0, "option \"-p\" requires directory name");
                    return PT_ERROR;
                }
                goto next;

            case 'e':
                pt_error_log = pt_option_value(argc, argv, &i, p);
                if (pt_error_log == NULL) {
                    pt_log_stderr(0, "option \"-e\" requires file name");
                    return PT_ERROR;
                }
                goto next;

            case 'c':
                pt_conf_file = pt_option_value(argc, argv, &i, p);
                if (pt_conf_file == NULL) {
                    pt_log_stderr(0, "option \"-c\" requires file name");
                    return PT_ERROR;
                }
                goto next;

            case 'g':
                pt_conf_params = pt_option_value(argc, argv, &i, p);
                if (pt_conf_params == NULL) {
                    pt_log_stderr(0, "option \"-g\" requires parameter");
                    return PT_ERROR;
                }
                goto next;

            case 's':
                pt_signal = (char *) pt_option_value(argc, argv, &i, p);
                if (pt_signal == NULL) {
                    pt_log_stderr(0, "option \"-s\" requires parameter");
                    return PT_ERROR;
                }

                if (strcmp(pt_signal, "stop") == 0
                    || strcmp(pt_signal, "quit") == 0
                    || strcmp(pt_signal, "reopen") == 0
                    || strcmp(pt_signal, "reload") == 0)
                {
                    pt_process = PT_PROCESS_SIGNALLER;
                    goto next;
                }

                pt_log_stderr(0, "invalid option: \"-s %s\"", pt_signal);
                return PT_ERROR;

            default:
                pt_log_stderr(0, "invalid option: \"%c\"", opt);
                return PT_ERROR;
            }
        }

    next:

        continue;
    }

    return PT_OK;
}

static void
pt_show_version_info(void)
{
    pt_uint_t  i;

    pt_write_stderr("portico version: " PORTICO_VER PT_LINEFEED);

    if (pt_show_help) {
        pt_write_stderr(
            "Usage: portico [-?hvVtTq] [-s signal] [-p prefix]" PT_LINEFEED
            "               [-e filename] [-c filename] [-g directives]"
            PT_LINEFEED PT_LINEFEED
            "Options:" PT_LINEFEED
            "  -?,-h         : this help" PT_LINEFEED
            "  -v            : show version and exit" PT_LINEFEED
            "  -V            : show version and configure options then exit"
            PT_LINEFEED
            "  -t            : test configuration and exit" PT_LINEFEED
            "  -T            : test configuration, dump it and exit" PT_LINEFEED
            "  -q            : suppress non-error messages "
            "during configuration testing" PT_LINEFEED
            "  -s signal     : send signal to a master process: "
            "stop, quit, reopen, reload" PT_LINEFEED
            "  -p prefix     : set prefix path (default: " PT_PREFIX ")"
            PT_LINEFEED
            "  -e filename   : set error log file (default: "
            PT_ERROR_LOG_PATH ")" PT_LINEFEED
            "  -c filename   : set configuration file (default: "
            PT_CONF_PATH ")" PT_LINEFEED
            "  -g directives : set global directives out of configuration "
            "file" PT_LINEFEED PT_LINEFEED);
    }

    if (!pt_show_configure) {
        return;
    }

    pt_write_stderr("built by " PT_COMPILER PT_LINEFEED);

    {
        char  line[512];

        snprintf(line, sizeof(line), "built with %s (running with %s)\n",
                 OPENSSL_VERSION_TEXT, OpenSSL_version(OPENSSL_VERSION));
        pt_write_stderr(line);
    }

    pt_write_stderr("configure arguments:" PT_CONFIGURE PT_LINEFEED);

    pt_write_stderr("modules:");
    for (i = 0; pt_module_names[i]; i++) {
        pt_write_stderr(" ");
        pt_write_stderr(pt_module_names[i]);
    }
    pt_write_stderr(PT_LINEFEED);
}

/* Fills the prefix, the config file and its folder, -g and -e. */
static pt_int_t
pt_process_options(pt_cycle_t *cycle)
{
    u_char    *p;
    size_t     len;
    pt_str_t   s;

    if (pt_prefix) {
        s.data = pt_prefix;
        s.len = pt_strlen(pt_prefix);
    } else {
        pt_str_set(&s, PT_PREFIX);
    }

    /* The prefix always ends with a slash. */
    len = s.len;
    p = pt_pnalloc(cycle->pool, len + 2);
    if (p == NULL) {
        return PT_ERROR;
    }
    pt_memcpy(p, s.data, len);
    if (len == 0 || p[len - 1] != '/') {
        p[len++] = '/';
    }
    p[len] = '\0';
    cycle->prefix.data = p;
    cycle->prefix.len = len;

    if (pt_conf_file) {
        cycle->conf_file.data = pt_conf_file;
        cycle->conf_file.len = pt_strlen(pt_conf_file);
    } else {
        pt_str_set(&cycle->conf_file, PT_CONF_PATH);
    }

    if (pt_conf_full_name(cycle, &cycle->conf_file, 0) != PT_OK) {
        return PT_ERROR;
    }

    /* Includes are relative to the folder of the main config file. */
    for (p = cycle->conf_file.data + cycle->conf_file.len - 1;
         p > cycle->conf_file.data; p--)
    {
        if (*p == '/') {
            break;
        }
    }

    cycle->conf_prefix.len = p - cycle->conf_file.data + 1;
    cycle->conf_prefix.data = cycle->conf_file.data;

    if (pt_pstrdup_z(cycle->pool, &cycle->conf_prefix, &cycle->conf_prefix)
        != PT_OK)
    {
        return PT_ERROR;
    }

    if (pt_error_log) {
        cycle->error_log.data = pt_error_log;
        cycle->error_log.len = pt_strlen(pt_error_log);
    }

    if (pt_conf_params) {
        cycle->conf_param.data = pt_conf_params;
        cycle->conf_param.len = pt_strlen(pt_conf_params);
    }

    if (pt_test_config) {
        cycle->log->log_level = PT_LOG_INFO;
    }

    return PT_OK;
}

static pt_int_t
pt_save_argv(int argc, char *const *argv)
{
    extern char  **environ;

    pt_argc = argc;
    pt_argv = (char **) argv;
    pt_os_argv = (char **) argv;
    pt_os_environ = environ;

    return PT_OK;
}

static void
pt_dump_config_files(pt_cycle_t *cycle)
{
    pt_uint_t        i;
    pt_conf_dump_t  *cd;
    pt_buf_t        *b;

    cd = cycle->config_dump.elts;

    for (i = 0; i < cycle->config_dump.nelts; i++) {
        pt_write_stdout("# configuration file ");
        (void) pt_write_fd(STDOUT_FILENO, cd[i].name.data, cd[i].name.len);
        pt_write_stdout(":" PT_LINEFEED);

        b = cd[i].buffer;
        if (b->last > b->pos) {
            (void) pt_write_fd(STDOUT_FILENO, b->pos, b->last - b->pos);
            if (b->last[-1] != LF) {
                pt_write_stdout(PT_LINEFEED);
            }
        }

        pt_write_stdout(PT_LINEFEED);
    }
}
