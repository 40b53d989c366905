/* subscribers.c -- holds N pub/sub connections subscribed to one channel and drains them.
 *
 *   subscribers <port> <channel> <count>
 *
 * Used by bench/run.sh for the fan-out benchmark: one process, one epoll loop, every byte
 * read and discarded as fast as the kernel hands it over, so the server's output buffers
 * stay small and no subscriber is disconnected by client-output-buffer-limit. The bench
 * waits for `PUBSUB NUMSUB <channel>` to reach <count> before it starts the load, and stops
 * this process with SIGTERM (by pid); on exit it prints the bytes it received to stderr.
 * Plain POSIX + Linux epoll, no hiredis: the replies are never parsed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void onSignal(int sig) {
    (void)sig;
    stopping = 1;
}

static int connectOne(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <port> <channel> <count>\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    const char *chan = argv[2];
    int count = atoi(argv[3]);
    if (port <= 0 || count <= 0) {
        fprintf(stderr, "subscribers: bad port or count\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = onSignal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char cmd[512];
    int cmdlen =
        snprintf(cmd, sizeof(cmd), "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n", strlen(chan), chan);
    if (cmdlen <= 0 || (size_t)cmdlen >= sizeof(cmd)) {
        fprintf(stderr, "subscribers: channel name too long\n");
        return 2;
    }
    int ep = epoll_create1(0);
    if (ep < 0) {
        perror("epoll_create1");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        int fd = connectOne(port);
        if (fd < 0) {
            perror("subscribers: connect");
            return 1;
        }
        if (write(fd, cmd, (size_t)cmdlen) != cmdlen) {
            perror("subscribers: write");
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            perror("epoll_ctl");
            return 1;
        }
    }

    static char buf[1 << 18];
    unsigned long long total = 0;
    int open = count;
    struct epoll_event evs[128];
    while (!stopping && open > 0) {
        int n = epoll_wait(ep, evs, 128, 200);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            ssize_t r = read(evs[i].data.fd, buf, sizeof(buf));
            if (r > 0) {
                total += (unsigned long long)r;
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
                close(evs[i].data.fd);
                open--;
            }
        }
    }
    fprintf(stderr, "subscribers: %d of %d connections open, %llu bytes received\n", open, count,
            total);
    return 0;
}
