/* bench_kernel_loopback: the peer for bench_goodput's clean runs, measured the same way.
 *
 * The Linux kernel's TCP moves the same 1 GiB from one socket to another over 127.0.0.1, with
 * the loopback MTU (65536) and the kernel's defaults: a sender thread and the receiving main
 * thread in one process, as bench_goodput runs two synack stacks in one process. Reports wall
 * time and the CPU time of both threads (the kernel's work is charged to them as system time).
 * Only the loopback address is used.
 *
 * With --metric NAME the result is recorded for bench/report.py (bench_out.h) under that
 * metric name (make bench runs it with loopback's MTU at 65536 and at 1500, in a namespace).
 *
 * Usage: bench_kernel_loopback [--bytes N] [--metric NAME]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_out.h"

#define CHUNK (256u << 10)

struct sender {
    int fd;
    uint64_t bytes;
    int err;
};

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *send_all(void *arg)
{
    struct sender *s = arg;
    static uint8_t buf[CHUNK];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131);
    uint64_t left = s->bytes;
    while (left > 0) {
        size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        ssize_t w = send(s->fd, buf, n, 0);
        if (w <= 0) {
            s->err = 1;
            break;
        }
        left -= (uint64_t)w;
    }
    shutdown(s->fd, SHUT_WR);
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t total = 1ull << 30;
    const char *metric = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) {
            char *end;
            total = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || total == 0) {
                fprintf(stderr, "bench_kernel_loopback: --bytes takes a positive number\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--metric") == 0 && i + 1 < argc) {
            metric = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--bytes N] [--metric NAME]\n", argv[0]);
            return 2;
        }
    }
    static const char cc[] = "cubic"; /* as bench/kpeer.c: CUBIC whatever the host's default */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, cc, sizeof(cc) - 1);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) != 0) {
        perror("bench_kernel_loopback: listen");
        return 1;
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, sizeof(cc) - 1);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("bench_kernel_loopback: connect");
        return 1;
    }
    int r = accept(l, NULL, NULL);
    if (r < 0) {
        perror("bench_kernel_loopback: accept");
        return 1;
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = now_s(CLOCK_MONOTONIC);
    struct sender s = {.fd = c, .bytes = total};
    pthread_t th;
    pthread_create(&th, NULL, send_all, &s);
    static uint8_t buf[CHUNK];
    uint64_t got = 0;
    for (;;) {
        ssize_t n = recv(r, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        got += (uint64_t)n;
    }
    pthread_join(th, NULL);
    double wall = now_s(CLOCK_MONOTONIC) - t0;
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    if (s.err || got != total) {
        fprintf(stderr, "bench_kernel_loopback: received %llu of %llu bytes\n",
                (unsigned long long)got, (unsigned long long)total);
        return 1;
    }
    double bits = (double)total * 8;
    int mtu = 0;
    FILE *mf = fopen("/sys/class/net/lo/mtu", "r");
    if (mf == NULL || fscanf(mf, "%d", &mtu) != 1)
        mtu = 0;
    if (mf)
        fclose(mf);
    printf("kernel-loopback  Linux TCP over 127.0.0.1 (MTU %d, kernel defaults), two threads: "
           "%llu MiB in %.3f s wall = %.2f Gbit/s (%.3f s CPU, user+sys of both threads = "
           "%.2f Gbit/s per core)\n",
           mtu, (unsigned long long)(total >> 20), wall, bits / wall / 1e9, cpu, bits / cpu / 1e9);
    if (metric) {
        char params[128];
        snprintf(params, sizeof(params), "{\"bytes\":%llu,\"wall_s\":%.3f,\"cpu_gbps\":%.3f}",
                 (unsigned long long)total, wall, bits / cpu / 1e9);
        bench_record("inmem", metric, "kernel-loopback", bits / wall / 1e9, "Gbit/s",
                     bench_round(), params);
    }
    close(c);
    close(r);
    close(l);
    return 0;
}
