/* many_clients: N kernel TCP connections open at once to an echo server, each echoing a
 * pattern of its own, every byte checked.
 *
 *   many_clients ADDR PORT N BYTES [--seed S] [--window W] [--timeout SEC] [--pause]
 *
 * --timeout bounds each phase (default 90 s); --seed picks the patterns (default 1).
 *
 * "At once" is this program's definition, in three phases with a barrier after each:
 *  1. connect: N non-blocking sockets are connected, at most W handshakes in flight at a
 *     time (default 512, so that a burst of SYNs does not overflow the TAP's queue and wait
 *     out the kernel's 1 s SYN retransmission); a connection counts as established when
 *     connect() completes with SO_ERROR 0. No byte is sent in this phase, so all connections
 *     that succeed are open together at the barrier. "established E" is printed there.
 *  2. echo: every established connection sends BYTES of its pattern and reads until BYTES
 *     came back, comparing each byte with the pattern as it arrives; it stays open. "echoed
 *     E" is printed when all are done: every connection echoed is still open then, so the
 *     server held all of them, and whatever each kept of its echo, at the same time.
 *  3. close: every echoed connection shuts its sending side (SHUT_WR) and reads until end of
 *     file (the server's FIN after ours), then closes.
 * A connection is answered when exactly BYTES came back, all equal, followed by end of file;
 * mismatched when a byte differed (or more than BYTES came); failed otherwise (connect error,
 * reset, short answer, timeout), with its errno. With --pause the program waits for a line on
 * stdin at the first two barriers (the test measures the server's memory there).
 * Connection i's pattern is byte k of splitmix64(S ^ i * 2^32 ^ k / 8), so the server cannot
 * pass by echoing another connection's bytes.
 *
 * Prints "answered A failed F mismatched M", the time of each phase, and per errno the count
 * of failures ("failed errno ECONNRESET 3 (phase echo)"). Exit 0 when all N were answered,
 * 1 otherwise, 2 on bad usage. Raises RLIMIT_NOFILE to N + 64 (root may raise the hard one).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase {
    P_IDLE, P_CONNECTING, P_ESTABLISHED, P_ECHO, P_ECHOED, P_CLOSING, P_ANSWERED, P_FAILED,
    P_MISMATCH,
};

struct client {
    int fd;
    enum phase phase;
    int err;          /* errno of a failure */
    enum phase failed_in;
    uint32_t sent, recvd;
};

static uint64_t seed = 1;
static uint32_t total_bytes;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Bytes [off, off + len) of connection i's pattern. */
static void pattern(uint32_t i, uint32_t off, uint8_t *buf, uint32_t len)
{
    uint64_t block = UINT64_MAX, word = 0;
    for (uint32_t k = 0; k < len; k++) {
        uint64_t pos = (uint64_t)off + k;
        if (pos / 8 != block) {
            block = pos / 8;
            word = splitmix64(seed ^ ((uint64_t)i << 32) ^ block);
        }
        buf[k] = (uint8_t)(word >> (8 * (pos % 8)));
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(struct client *c, int err)
{
    c->failed_in = c->phase;
    c->phase = P_FAILED;
    c->err = err;
    close(c->fd);
    c->fd = -1;
}

static int watch(int ep, struct client *c, uint32_t idx, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.u32 = idx};
    return epoll_ctl(ep, op, c->fd, &ev);
}

static void start_connect(int ep, struct client *c, uint32_t idx, const struct sockaddr_in *sa)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->phase = P_CONNECTING;
    if (c->fd < 0) {
        c->failed_in = P_CONNECTING;
        c->phase = P_FAILED;
        c->err = errno;
        return;
    }
    int r = connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa));
    if (r < 0 && errno != EINPROGRESS) {
        fail(c, errno);
        return;
    }
    if (watch(ep, c, idx, EPOLLOUT, EPOLL_CTL_ADD) < 0)
        fail(c, errno);
}

/* Phase 2 for connection idx: write what the socket takes, read and check what came. */
static void pump(struct client *c, uint32_t idx)
{
    uint8_t buf[16384], want[16384];
    while (c->sent < total_bytes) {
        uint32_t n = total_bytes - c->sent;
        if (n > sizeof(buf))
            n = sizeof(buf);
        pattern(idx, c->sent, buf, n);
        ssize_t w = send(c->fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN)
                break;
            fail(c, errno);
            return;
        }
        c->sent += (uint32_t)w;
    }
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        if (r < 0) {
            if (errno != EAGAIN)
                fail(c, errno);
            return;
        }
        if (r == 0) {
            if (c->recvd == total_bytes && c->phase == P_CLOSING) {
                c->phase = P_ANSWERED;
                close(c->fd);
                c->fd = -1;
            } else {
                fail(c, EPIPE); /* end of file before all came back */
            }
            return;
        }
        if (c->recvd + (uint64_t)r > total_bytes) {
            c->phase = P_MISMATCH;
            close(c->fd);
            c->fd = -1;
            return;
        }
        pattern(idx, c->recvd, want, (uint32_t)r);
        if (memcmp(buf, want, (size_t)r) != 0) {
            c->phase = P_MISMATCH;
            close(c->fd);
            c->fd = -1;
            return;
        }
        c->recvd += (uint32_t)r;
        if (c->recvd == total_bytes && c->phase == P_ECHO) {
            c->phase = P_ECHOED; /* open and quiet until the barrier */
            return;
        }
    }
}

static void raise_nofile(uint32_t n)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = (rlim_t)n + 64;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        fprintf(stderr, "many_clients: setrlimit(RLIMIT_NOFILE, %lu): %s\n",
                (unsigned long)want, strerror(errno));
}

static const char *phase_name(enum phase p)
{
    return p == P_CONNECTING ? "connect" : p == P_IDLE ? "not started" : p == P_ECHO ? "echo"
                                                                                     : "close";
}

static void report(const struct client *cl, uint32_t n)
{
    uint32_t answered = 0, failed = 0, mismatched = 0;
    for (uint32_t i = 0; i < n; i++) {
        answered += cl[i].phase == P_ANSWERED;
        failed += cl[i].phase == P_FAILED;
        mismatched += cl[i].phase == P_MISMATCH;
    }
    printf("answered %u failed %u mismatched %u\n", answered, failed, mismatched);
    /* One line per (errno, phase) with its count and the first connection it hit. */
    for (uint32_t i = 0; i < n; i++) {
        if (cl[i].phase != P_FAILED)
            continue;
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = cl[j].phase == P_FAILED && cl[j].err == cl[i].err &&
                   cl[j].failed_in == cl[i].failed_in;
        if (seen)
            continue;
        uint32_t count = 0;
        for (uint32_t j = i; j < n; j++)
            count += cl[j].phase == P_FAILED && cl[j].err == cl[i].err &&
                     cl[j].failed_in == cl[i].failed_in;
        printf("failed errno %s %u (phase %s, first connection %u: sent %u received %u)\n",
               strerrorname_np(cl[i].err) ? strerrorname_np(cl[i].err) : "?", count,
               phase_name(cl[i].failed_in), i, cl[i].sent, cl[i].recvd);
    }
    fflush(stdout);
}

/* Waits for a line on stdin when asked to (the test's signal to go on). */
static void barrier(bool pause)
{
    char line[64];
    if (pause && !fgets(line, sizeof(line), stdin))
        fprintf(stderr, "many_clients: stdin closed at a barrier, going on\n");
}

/* Moves every connection in phase `from` to `to`, watching `events`, and serves them until
 * none is left in `to` or the deadline passes (those left fail with ETIMEDOUT). */
static void run_phase(int ep, struct client *cl, uint32_t n, enum phase from, enum phase to,
                      uint32_t events, double deadline)
{
    struct epoll_event evs[1024];
    uint32_t open = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cl[i].phase != from)
            continue;
        cl[i].phase = to;
        if (watch(ep, &cl[i], i, events, EPOLL_CTL_MOD) < 0)
            fail(&cl[i], errno);
        else
            open++;
    }
    while (open > 0 && now_s() < deadline) {
        int k = epoll_wait(ep, evs, 1024, 100);
        for (int e = 0; e < k; e++) {
            uint32_t i = evs[e].data.u32;
            struct client *c = &cl[i];
            if (c->phase != to)
                continue;
            bool all_sent = c->sent == total_bytes;
            pump(c, i);
            if (c->phase != to) {
                open--;
                if (c->phase == P_ECHOED)
                    watch(ep, c, i, 0, EPOLL_CTL_MOD);
            } else if (!all_sent && c->sent == total_bytes) {
                watch(ep, c, i, EPOLLIN, EPOLL_CTL_MOD);
            }
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (cl[i].phase == to)
            fail(&cl[i], ETIMEDOUT);
}

static int usage(void)
{
    fprintf(stderr, "usage: many_clients ADDR PORT N BYTES [--seed S] [--window W] "
                    "[--timeout SEC] [--pause]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return usage();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
        return usage();
    uint32_t n = (uint32_t)strtoul(argv[3], NULL, 10);
    total_bytes = (uint32_t)strtoul(argv[4], NULL, 10);
    uint32_t window = 512;
    double timeout = 90;
    bool pause = false;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
            window = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--pause") == 0)
            pause = true;
        else
            return usage();
    }
    if (n == 0 || window == 0)
        return usage();
    raise_nofile(n);
    struct client *cl = calloc(n, sizeof(*cl));
    struct epoll_event *evs = calloc(1024, sizeof(*evs));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cl || !evs || ep < 0) {
        perror("many_clients");
        return 1;
    }
    for (uint32_t i = 0; i < n; i++)
        cl[i].fd = -1;
    double t0 = now_s(), deadline = t0 + timeout;

    /* Phase 1: connect all, at most `window` handshakes in flight. */
    uint32_t next = 0, inflight = 0, established = 0, settled = 0;
    while (settled < n && now_s() < deadline) {
        while (inflight < window && next < n) {
            start_connect(ep, &cl[next], next, &sa);
            if (cl[next].phase == P_FAILED)
                settled++;
            else
                inflight++;
            next++;
        }
        int k = epoll_wait(ep, evs, 1024, 100);
        for (int e = 0; e < k; e++) {
            struct client *c = &cl[evs[e].data.u32];
            if (c->phase != P_CONNECTING)
                continue;
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            inflight--;
            settled++;
            if (err) {
                fail(c, err);
                continue;
            }
            c->phase = P_ESTABLISHED;
            established++;
            watch(ep, c, evs[e].data.u32, 0, EPOLL_CTL_MOD); /* quiet until the barrier */
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (cl[i].phase == P_CONNECTING || cl[i].phase == P_IDLE) {
            if (cl[i].fd >= 0)
                fail(&cl[i], ETIMEDOUT);
            else
                cl[i].failed_in = cl[i].phase, cl[i].phase = P_FAILED, cl[i].err = ETIMEDOUT;
        }
    double t1 = now_s();
    printf("established %u of %u at once in %.2f s\n", established, n, t1 - t0);
    fflush(stdout);
    barrier(pause);

    /* Phase 2: every established connection echoes its pattern and stays open. */
    double t2 = now_s();
    run_phase(ep, cl, n, P_ESTABLISHED, P_ECHO, EPOLLIN | EPOLLOUT, now_s() + timeout);
    uint32_t echoed = 0;
    for (uint32_t i = 0; i < n; i++)
        echoed += cl[i].phase == P_ECHOED;
    printf("echoed %u of %u, all open together, in %.2f s (%u bytes each way per connection)\n",
           echoed, n, now_s() - t2, total_bytes);
    fflush(stdout);
    barrier(pause);

    /* Phase 3: each shuts its side and waits for the server's FIN. */
    double t3 = now_s();
    for (uint32_t i = 0; i < n; i++)
        if (cl[i].phase == P_ECHOED && shutdown(cl[i].fd, SHUT_WR) < 0)
            fail(&cl[i], errno);
    run_phase(ep, cl, n, P_ECHOED, P_CLOSING, EPOLLIN, now_s() + timeout);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("closed in %.2f s; the client's own CPU time: %.2f s user, %.2f s system\n",
           now_s() - t3, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    report(cl, n);
    uint32_t answered = 0;
    for (uint32_t i = 0; i < n; i++)
        answered += cl[i].phase == P_ANSWERED;
    for (uint32_t i = 0; i < n; i++)
        if (cl[i].fd >= 0)
            close(cl[i].fd);
    close(ep);
    free(evs);
    free(cl);
    return answered == n ? 0 : 1;
}
