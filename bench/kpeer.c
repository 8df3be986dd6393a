/* kpeer: the Linux kernel's side of every wire measurement in `make bench`.
 *
 * The kernel's TCP, through ordinary sockets, is the peer of each subject (synack, lwIP, the
 * raw TAP endpoint, the kernel itself over veth). One program so that every subject meets the
 * same client, measured the same way:
 *
 *   kpeer send HOST PORT SECS   bulk kernel -> subject: writes 256 KiB chunks for SECS, then
 *                               shuts down its side and waits for the subject's FIN (a discard
 *                               server answers it); goodput = bytes / (time to that FIN), so
 *                               bytes still queued when SECS ends count only once delivered.
 *   kpeer recv HOST PORT SECS   bulk subject -> kernel: reads for SECS from the first byte.
 *   kpeer crr HOST PORT SECS    connections/s, one thread: connect, 32 B out, 32 B back,
 *                               close, again, for SECS (an echo server).
 *   kpeer rr HOST PORT SECS     latency on one connection (TCP_NODELAY): 32 B out, wait for
 *                               the 32 B echo, again; p50 and p99 of the round trips.
 *   kpeer serve PORT APP        a server for the kernel-as-subject runs: APP discard (read to
 *                               EOF, close), source (write until the peer goes) or echo; one
 *                               connection at a time, forever.
 *
 * Client options (before the mode): --subject NAME records the result for bench/report.py
 * (bench_out.h: $SK_BENCH_OUT/wire.jsonl, round $SK_BENCH_ROUND) besides printing it;
 * --metric NAME records send's, recv's or crr's result under another metric name (the kernel
 * over loopback's connection rate goes beside the in-memory one). Every
 * socket call is bounded by a 5 s timeout, so a subject that stalls fails the run instead of
 * hanging it. Exit status 0 on success, 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_out.h"

#define CHUNK (256u << 10)
#define RR_BYTES 32
#define IO_TIMEOUT_S 5
#define MAX_SAMPLES (8u << 20)

static const char *subject;
static const char *metric_name; /* --metric: renames what the mode records */
static uint8_t buf[CHUNK];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record(const char *metric, double value, const char *unit, const char *params)
{
    if (metric_name && strcmp(metric, "rr_p99_us") != 0)
        metric = metric_name;
    printf("%s %s %.3f %s\n", subject ? subject : "-", metric, value, unit);
    if (subject)
        bench_record("wire", metric, subject, value, unit, bench_round(), params);
}

/* CUBIC on every kernel socket of the bench, whatever the host's default (BBR here: its
 * bandwidth estimate reacts to a TAP's drops unlike the subjects' own controllers). Needs
 * CAP_NET_ADMIN outside tcp_allowed_congestion_control; left as it is if refused. */
static void set_cubic(int fd)
{
    static const char cc[] = "cubic";
    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, sizeof(cc) - 1);
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int dial(const struct sockaddr_in *to, bool nodelay)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    set_timeouts(fd);
    set_cubic(fd);
    if (nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads exactly n bytes; false on EOF, error or timeout. */
static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = recv(fd, p, n, 0);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static int run_send(const struct sockaddr_in *to, double secs)
{
    int fd = dial(to, false);
    if (fd < 0)
        return perror("kpeer send: connect"), 1;
    uint64_t bytes = 0;
    double t0 = now_s();
    while (now_s() - t0 < secs) {
        ssize_t k = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
        if (k <= 0)
            return perror("kpeer send: send"), close(fd), 1;
        bytes += (uint64_t)k;
    }
    shutdown(fd, SHUT_WR);
    /* The subject's FIN comes after it has read (and acknowledged) everything. */
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof(buf), 0);
        if (k == 0)
            break;
        if (k < 0)
            return perror("kpeer send: waiting for the peer's FIN"), close(fd), 1;
    }
    double t = now_s() - t0;
    close(fd);
    char params[128];
    snprintf(params, sizeof(params), "{\"bytes\":%llu,\"seconds\":%.3f}",
             (unsigned long long)bytes, t);
    record("bulk_in_gbps", (double)bytes * 8 / t / 1e9, "Gbit/s", params);
    return 0;
}

static int run_recv(const struct sockaddr_in *to, double secs)
{
    int fd = dial(to, false);
    if (fd < 0)
        return perror("kpeer recv: connect"), 1;
    uint64_t bytes = 0;
    double t0 = 0;
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof(buf), 0);
        if (k <= 0)
            return perror("kpeer recv: recv"), close(fd), 1;
        if (t0 == 0) {
            t0 = now_s(); /* the clock starts at the first byte, the bytes after it */
            continue;
        }
        bytes += (uint64_t)k;
        if (now_s() - t0 >= secs)
            break;
    }
    double t = now_s() - t0;
    close(fd);
    char params[128];
    snprintf(params, sizeof(params), "{\"bytes\":%llu,\"seconds\":%.3f}",
             (unsigned long long)bytes, t);
    record("bulk_out_gbps", (double)bytes * 8 / t / 1e9, "Gbit/s", params);
    return 0;
}

static int run_crr(const struct sockaddr_in *to, double secs)
{
    uint8_t msg[RR_BYTES], back[RR_BYTES];
    memset(msg, 'c', sizeof(msg));
    uint64_t n = 0;
    double t0 = now_s(), t;
    while ((t = now_s() - t0) < secs) {
        int fd = dial(to, true);
        if (fd < 0)
            return fprintf(stderr, "kpeer crr: connect %llu: %s\n", (unsigned long long)n,
                           strerror(errno)), 1;
        if (!write_full(fd, msg, sizeof(msg)) || !read_full(fd, back, sizeof(back)))
            return fprintf(stderr, "kpeer crr: exchange %llu: %s\n", (unsigned long long)n,
                           strerror(errno)), close(fd), 1;
        close(fd);
        n++;
    }
    char params[128];
    snprintf(params, sizeof(params), "{\"connections\":%llu,\"seconds\":%.3f,\"bytes_each_way\":%d}",
             (unsigned long long)n, t, RR_BYTES);
    record("conn_per_s", (double)n / t, "conn/s", params);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run_rr(const struct sockaddr_in *to, double secs)
{
    int fd = dial(to, true);
    if (fd < 0)
        return perror("kpeer rr: connect"), 1;
    double *lat = malloc(MAX_SAMPLES * sizeof(double));
    if (lat == NULL)
        return close(fd), 1;
    uint8_t msg[RR_BYTES], back[RR_BYTES];
    memset(msg, 'r', sizeof(msg));
    size_t n = 0;
    double t0 = now_s();
    while (n < MAX_SAMPLES && now_s() - t0 < secs) {
        double a = now_s();
        if (!write_full(fd, msg, sizeof(msg)) || !read_full(fd, back, sizeof(back)))
            return perror("kpeer rr: exchange"), free(lat), close(fd), 1;
        lat[n++] = (now_s() - a) * 1e6;
    }
    close(fd);
    qsort(lat, n, sizeof(double), cmp_double);
    char params[128];
    snprintf(params, sizeof(params), "{\"samples\":%zu,\"bytes_each_way\":%d}", n, RR_BYTES);
    record("rr_p50_us", lat[n / 2], "us", params);
    record("rr_p99_us", lat[n * 99 / 100], "us", params);
    free(lat);
    return 0;
}

static void serve_one(int fd, const char *app)
{
    set_timeouts(fd);
    if (strcmp(app, "source") == 0) {
        while (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) > 0) {
        }
        return;
    }
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof(buf), 0);
        if (k <= 0)
            return;
        if (strcmp(app, "echo") == 0 && !write_full(fd, buf, (size_t)k))
            return;
    }
}

static int run_serve(uint16_t port, const char *app)
{
    if (strcmp(app, "discard") != 0 && strcmp(app, "source") != 0 && strcmp(app, "echo") != 0)
        return fprintf(stderr, "kpeer serve: APP is discard, source or echo\n"), 2;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    set_cubic(l); /* accepted sockets inherit it */
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 128) != 0)
        return perror("kpeer serve: listen"), 1;
    printf("kpeer serve: %s on port %u\n", app, (unsigned)port);
    fflush(stdout);
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        if (strcmp(app, "echo") == 0)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        serve_one(fd, app);
        close(fd);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: kpeer [--subject NAME] [--metric NAME] send|recv|crr|rr HOST PORT SECS\n"
                    "       kpeer serve PORT discard|source|echo\n");
    return 2;
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--subject") == 0)
            subject = argv[i + 1];
        else if (strcmp(argv[i], "--metric") == 0)
            metric_name = argv[i + 1];
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    signal(SIGPIPE, SIG_IGN);
    memset(buf, 'k', sizeof(buf));
    const char *mode = argv[i];
    if (strcmp(mode, "serve") == 0)
        return i + 2 < argc ? run_serve((uint16_t)atoi(argv[i + 1]), argv[i + 2]) : usage();
    if (i + 3 >= argc)
        return usage();
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[i + 2]))};
    double secs = atof(argv[i + 3]);
    if (inet_pton(AF_INET, argv[i + 1], &to.sin_addr) != 1 || secs <= 0)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "send") == 0)
        return run_send(&to, secs);
    if (strcmp(mode, "recv") == 0)
        return run_recv(&to, secs);
    if (strcmp(mode, "crr") == 0)
        return run_crr(&to, secs);
    if (strcmp(mode, "rr") == 0)
        return run_rr(&to, secs);
    return usage();
}
