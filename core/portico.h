/*
 * portico.h: the umbrella header of the core.
 *
 * Every core and module source includes this one header.  It pulls in the
 * system headers, the configure-generated feature macros, the base types and
 * return codes, and then each core subsystem header in dependency order.
 */

#ifndef PORTICO_H
#define PORTICO_H

#include "config.h"

#include <sys/types.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <time.h>
#include <glob.h>
#include <pwd.h>
#include <grp.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#define PORTICO_VERSION      "0.1.0"
#define PORTICO_VER          "portico/" PORTICO_VERSION
#define PORTICO_NAME         "portico"

/* Environment variable through which a binary upgrade hands listening sockets
 * to the new executable: "fd;fd;fd;". */
#define PORTICO_VAR          "PORTICO"

typedef intptr_t   pt_int_t;
typedef uintptr_t  pt_uint_t;
typedef intptr_t   pt_flag_t;
typedef int        pt_err_t;
typedef pt_uint_t  pt_msec_t;
typedef intptr_t   pt_msec_int_t;
typedef int        pt_fd_t;
typedef int        pt_socket_t;
typedef volatile pt_uint_t  pt_atomic_uint_t;

/* The return codes every boundary speaks.  AGAIN means "would block, call me
 * again when the event fires"; DECLINED means "not mine, try the next
 * handler"; DONE means "finished, and the caller must not touch the object". */
#define PT_OK          0
#define PT_ERROR      -1
#define PT_AGAIN      -2
#define PT_BUSY       -3
#define PT_DONE       -4
#define PT_DECLINED   -5
#define PT_ABORT      -6

#define PT_INVALID_FILE   -1
#define PT_INVALID_PID    -1
#define PT_FILE_ERROR     -1

#define PT_INT_T_LEN        (sizeof("-9223372036854775808") - 1)
#define PT_INT64_LEN        (sizeof("-9223372036854775808") - 1)
#define PT_OFF_T_LEN        (sizeof("-9223372036854775808") - 1)
#define PT_TIME_T_LEN       (sizeof("-9223372036854775808") - 1)
#define PT_MAX_INT_T_VALUE  INTPTR_MAX
#define PT_MAX_UINT_T_VALUE UINTPTR_MAX
#define PT_MAX_SIZE_T_VALUE SIZE_MAX
#define PT_MAX_OFF_T_VALUE  INT64_MAX
#define PT_MAX_TIME_T_VALUE INT64_MAX

#define PT_ALIGNMENT   sizeof(unsigned long)
#define pt_align(d, a)     (((d) + ((a) - 1)) & ~((a) - 1))
#define pt_align_ptr(p, a) \
    (u_char *) (((uintptr_t) (p) + ((uintptr_t) (a) - 1)) & ~((uintptr_t) (a) - 1))

#define pt_abs(value)       (((value) >= 0) ? (value) : -(value))
#define pt_max(val1, val2)  (((val1) < (val2)) ? (val2) : (val1))
#define pt_min(val1, val2)  (((val1) > (val2)) ? (val2) : (val1))
#define pt_nelems(a)        (sizeof(a) / sizeof((a)[0]))

#define PT_LINEFEED  "\x0a"
#define CR     (u_char) '\r'
#define LF     (u_char) '\n'
#define CRLF   "\r\n"

#define pt_likely(x)    __builtin_expect(!!(x), 1)
#define pt_unlikely(x)  __builtin_expect(!!(x), 0)

typedef struct pt_module_s      pt_module_t;
typedef struct pt_conf_s        pt_conf_t;
typedef struct pt_cycle_s       pt_cycle_t;
typedef struct pt_pool_s        pt_pool_t;
typedef struct pt_chain_s       pt_chain_t;
typedef struct pt_log_s         pt_log_t;
typedef struct pt_open_file_s   pt_open_file_t;
typedef struct pt_command_s     pt_command_t;
typedef struct pt_file_s        pt_file_t;
typedef struct pt_event_s       pt_event_t;
typedef struct pt_connection_s  pt_connection_t;
typedef struct pt_listening_s   pt_listening_t;
typedef struct pt_ssl_connection_s  pt_ssl_connection_t;

typedef void (*pt_event_handler_pt)(pt_event_t *ev);
typedef void (*pt_connection_handler_pt)(pt_connection_t *c);

#define pt_errno        errno
#define pt_socket_errno errno
#define pt_set_errno(err) errno = (err)

extern pt_uint_t  pt_pagesize;
extern pt_uint_t  pt_ncpu;
extern pt_uint_t  pt_cacheline_size;

#include "pt_string.h"
#include "pt_queue.h"
#include "pt_rbtree.h"
#include "pt_palloc.h"
#include "pt_array.h"
#include "pt_regex.h"
#include "pt_list.h"
#include "pt_buf.h"
#include "pt_file.h"
#include "pt_open_file_cache.h"
#include "pt_times.h"
#include "pt_log.h"
#include "pt_inet.h"
#include "pt_shmem.h"
#include "pt_conf_file.h"
#include "pt_module.h"
#include "pt_connection.h"
#include "pt_cycle.h"
#include "pt_process.h"
#include "pt_event.h"
#include "pt_ssl.h"

#endif /* PORTICO_H */
