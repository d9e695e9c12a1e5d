/*
 * responder.c: the benchmark's minimal HTTP/1.1 responder.
 *
 * The physical-limit reference of the benchmark suite, and the backend of
 * its proxy scenarios.  It answers every request with the same fixed 1 KiB
 * response and does nothing else: no parsing beyond finding the end of
 * each request head ("\r\n\r\n"), no headers looked at, no body read, no
 * timers, no logging.  Whatever a real server does on top of this is what
 * it costs over the bare kernel work of accept, read and write.
 *
 * One thread, one edge-triggered epoll loop.  Connections are kept alive
 * until the client closes them; pipelined requests are answered in order
 * (all complete heads found in one read get their responses in one write).
 *
 *   cc -O2 -o responder responder.c
 *   responder [-a ADDR] -p PORT [-p PORT ...]
 *
 * Prints "ready" on stdout once every port listens.  Stops on SIGTERM or
 * SIGINT.  Not part of portico: built and run only by t/bench/run.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RS_BODY_SIZE     1024
#define RS_READ_SIZE     4096       /* a request head larger than this closes */
#define RS_MAX_PORTS     16
#define RS_MAX_EVENTS    512
#define RS_MAX_IOV       64         /* pipelined responses sent in one writev */

/* One client connection; indexed by its descriptor. */
typedef struct {
    int         open;
    size_t      have;               /* bytes of the unfinished head so far */
    size_t      pending;            /* responses still to be written */
    size_t      sent;               /* bytes of the first pending one written */
    int         match;              /* chars of "\r\n\r\n" matched so far */
    char        buf[RS_READ_SIZE];  /* read scratch: bytes are not kept */
} rs_conn_t;

static char         rs_response[256 + RS_BODY_SIZE];
static size_t       rs_response_len;
static rs_conn_t  **rs_conns;
static size_t       rs_nconns;
static int          rs_listeners[RS_MAX_PORTS];
static int          rs_nlisteners;
static volatile sig_atomic_t rs_stop;

static void
rs_on_signal(int signo)
{
    (void) signo;
    rs_stop = 1;
}

/* The fixed response: a minimal valid HTTP/1.1 head and 1 KiB of text. */
static void
rs_build_response(void)
{
    int     n;
    size_t  i;

    n = snprintf(rs_response, sizeof(rs_response),
                 "HTTP/1.1 200 OK\r\n"
                 "Content-Type: text/plain\r\n"
                 "Content-Length: %d\r\n"
                 "\r\n", RS_BODY_SIZE);

    for (i = 0; i < RS_BODY_SIZE - 1; i++) {
        rs_response[n + i] = 'a' + (char) (i % 26);
    }
    rs_response[n + RS_BODY_SIZE - 1] = '\n';
    rs_response_len = (size_t) n + RS_BODY_SIZE;
}

static int
rs_listen(const char *addr, int port)
{
    int                 fd, one = 1;
    struct sockaddr_in  sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) port);
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "responder: bad address \"%s\"\n", addr);
        return -1;
    }

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1
        || bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || listen(fd, 4096) == -1)
    {
        fprintf(stderr, "responder: listen %s:%d: %s\n", addr, port, strerror(errno));
        return -1;
    }

    return fd;
}

static void
rs_close(int fd)
{
    if ((size_t) fd < rs_nconns && rs_conns[fd] != NULL) {
        rs_conns[fd]->open = 0;
    }
    close(fd);
}

/* Accepts every waiting connection (edge-triggered: until EAGAIN). */
static void
rs_accept(int ep, int lfd)
{
    int                 fd, one = 1;
    struct epoll_event  ev;

    for ( ;; ) {
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            return;     /* EAGAIN, or a transient error: the next edge retries */
        }

        if ((size_t) fd >= rs_nconns) {
            close(fd);
            continue;
        }

        if (rs_conns[fd] == NULL) {
            rs_conns[fd] = malloc(sizeof(rs_conn_t));
            if (rs_conns[fd] == NULL) {
                close(fd);
                continue;
            }
        }
        memset(rs_conns[fd], 0, offsetof(rs_conn_t, buf));
        rs_conns[fd]->open = 1;

        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
            rs_close(fd);
        }
    }
}

/*
 * Writes the pending responses.  Returns 0 when all are written or the
 * socket would block (EPOLLOUT resumes), -1 when the connection is dead.
 */
static int
rs_write(int fd, rs_conn_t *c)
{
    struct iovec  iov[RS_MAX_IOV];
    size_t        n, i;
    ssize_t       w;

    while (c->pending > 0) {
        n = c->pending < RS_MAX_IOV ? c->pending : RS_MAX_IOV;
        iov[0].iov_base = rs_response + c->sent;
        iov[0].iov_len = rs_response_len - c->sent;
        for (i = 1; i < n; i++) {
            iov[i].iov_base = rs_response;
            iov[i].iov_len = rs_response_len;
        }

        w = writev(fd, iov, (int) n);
        if (w == -1) {
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        }

        /* account whole responses, then the part of the next one */
        w += (ssize_t) c->sent;
        c->pending -= (size_t) w / rs_response_len;
        c->sent = (size_t) w % rs_response_len;
    }

    return 0;
}

/*
 * Reads until EAGAIN, counting request heads: every "\r\n\r\n" ends one.
 * The matcher state survives reads, so a terminator split across two reads
 * still counts; bytes are never kept, only the count of what is owed.
 * Returns -1 when the connection is closed or broken.
 */
static int
rs_read(int fd, rs_conn_t *c)
{
    static const char  end[] = "\r\n\r\n";
    ssize_t            r, i;

    for ( ;; ) {
        r = read(fd, c->buf, sizeof(c->buf));
        if (r == 0) {
            return -1;
        }
        if (r == -1) {
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        }

        for (i = 0; i < r; i++) {
            if (c->buf[i] == end[c->match]) {
                if (++c->match == 4) {
                    c->pending++;
                    c->match = 0;
                    c->have = 0;
                    continue;
                }
            } else {
                c->match = (c->buf[i] == '\r') ? 1 : 0;
            }
            if (++c->have > RS_READ_SIZE) {
                return -1;      /* a head this long is not a benchmark request */
            }
        }
    }
}

static void
rs_loop(int ep)
{
    struct epoll_event  evs[RS_MAX_EVENTS];
    int                 n, i, j, fd;
    rs_conn_t          *c;

    while (!rs_stop) {
        n = epoll_wait(ep, evs, RS_MAX_EVENTS, 1000);

        for (i = 0; i < n; i++) {
            fd = evs[i].data.fd;

            for (j = 0; j < rs_nlisteners; j++) {
                if (fd == rs_listeners[j]) {
                    break;
                }
            }
            if (j < rs_nlisteners) {
                rs_accept(ep, fd);
                continue;
            }

            c = rs_conns[fd];
            if (c == NULL || !c->open) {
                continue;
            }

            if ((evs[i].events & EPOLLIN) && rs_read(fd, c) == -1) {
                rs_close(fd);
                continue;
            }
            if (rs_write(fd, c) == -1
                || (evs[i].events & (EPOLLERR | EPOLLHUP)))
            {
                rs_close(fd);
            }
        }
    }
}

int
main(int argc, char **argv)
{
    const char         *addr = "127.0.0.1";
    int                 ep, i, opt;
    struct rlimit       rl;
    struct epoll_event  ev;
    struct sigaction    sa;

    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rs_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* as many descriptors as we may have: the idle-connection scenario */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        rs_nconns = (size_t) rl.rlim_cur;
    }
    if (rs_nconns == 0 || rs_nconns > 1048576) {
        rs_nconns = 1048576;
    }
    rs_conns = calloc(rs_nconns, sizeof(rs_conn_t *));
    if (rs_conns == NULL) {
        return 1;
    }

    rs_build_response();

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep == -1) {
        perror("responder: epoll_create1");
        return 1;
    }

    while ((opt = getopt(argc, argv, "a:p:")) != -1) {
        if (opt == 'a') {
            addr = optarg;
        } else if (opt == 'p' && rs_nlisteners < RS_MAX_PORTS) {
            rs_listeners[rs_nlisteners] = rs_listen(addr, atoi(optarg));
            if (rs_listeners[rs_nlisteners] == -1) {
                return 1;
            }
            ev.events = EPOLLIN | EPOLLET;
            ev.data.fd = rs_listeners[rs_nlisteners];
            epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
            rs_nlisteners++;
        } else {
            fprintf(stderr, "usage: responder [-a ADDR] -p PORT [-p PORT ...]\n");
            return 1;
        }
    }
    if (rs_nlisteners == 0) {
        fprintf(stderr, "usage: responder [-a ADDR] -p PORT [-p PORT ...]\n");
        return 1;
    }

    printf("ready\n");
    fflush(stdout);

    rs_loop(ep);

    for (i = 0; i < rs_nlisteners; i++) {
        close(rs_listeners[i]);
    }
    return 0;
}
