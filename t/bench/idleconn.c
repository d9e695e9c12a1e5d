/*
 * idleconn.c: opens many idle keepalive connections to one HTTP server.
 *
 * The client of the benchmark's idle-connection scenario.  It opens N
 * connections one after the other; on each it sends one GET and reads the
 * response (so every connection has served a request and now sits in the
 * server's keepalive state, as a browser's would), then holds them all
 * open and silent.  The benchmark reads the server's memory meanwhile.
 *
 *   cc -O2 -o idleconn idleconn.c
 *   idleconn HOST PORT N HOLD_SECONDS [PATH]
 *
 * Prints "ready OPEN FAILED" once all are open, then waits until stdin
 * has input or reaches end of file, or HOLD_SECONDS pass, whichever is
 * first, and exits (closing them all).  Every wait is bounded.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define IC_BATCH        500
#define IC_IO_TIMEOUT   5           /* seconds for one connect or response */

/*
 * Connects one socket, sends the request and waits for the first bytes of
 * the response (the scenario's response is small: one read holds it).
 * Returns the descriptor, or -1.
 */
static int
ic_open(struct sockaddr_in *sin, const char *req, size_t len)
{
    int             fd;
    char            buf[4096];
    struct timeval  tv = { IC_IO_TIMEOUT, 0 };

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    if (connect(fd, (struct sockaddr *) sin, sizeof(*sin)) == -1
        || send(fd, req, len, MSG_NOSIGNAL) != (ssize_t) len)
    {
        close(fd);
        return -1;
    }

    if (recv(fd, buf, sizeof(buf), 0) <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        close(fd);
        return -1;
    }

    return fd;
}

int
main(int argc, char **argv)
{
    int                 n, i, fd, open_n = 0, failed = 0, hold;
    char                req[512];
    size_t              len;
    struct rlimit       rl;
    struct pollfd       pfd;
    struct sockaddr_in  sin;

    if (argc < 5) {
        fprintf(stderr, "usage: idleconn HOST PORT N HOLD_SECONDS [PATH]\n");
        return 1;
    }

    n = atoi(argv[3]);
    hold = atoi(argv[4]);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) atoi(argv[2]));
    if (n <= 0 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "idleconn: bad arguments\n");
        return 1;
    }

    rl.rlim_cur = rl.rlim_max = (rlim_t) n + 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
        fprintf(stderr, "idleconn: setrlimit(%d): %s\n", n + 64, strerror(errno));
        return 1;
    }

    len = (size_t) snprintf(req, sizeof(req),
                            "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                            argc > 5 ? argv[5] : "/");

    /* sequential, so the server's accept queue never overflows */
    for (i = 0; i < n; i++) {
        fd = ic_open(&sin, req, len);
        if (fd == -1) {
            failed++;
            if (failed > n / 100 + 10) {
                break;      /* the server is refusing: report, do not grind */
            }
            continue;
        }
        open_n++;
        if (open_n % IC_BATCH == 0) {
            /* let the server's worker settle between batches */
            usleep(1000);
        }
    }

    printf("ready %d %d\n", open_n, failed);
    fflush(stdout);

    pfd.fd = 0;
    pfd.events = POLLIN;
    poll(&pfd, 1, hold * 1000);

    return 0;
}
