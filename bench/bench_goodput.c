/* bench_goodput: goodput between two synack stacks in one process.
 *
 * Two stacks on the in-memory link (sk_sim), one bulk flow A -> B:
 *   clean-1500   zero delay, unlimited rate, MTU 1500, 1 GB
 *   clean-64k    zero delay, unlimited rate, MTU 65535 (like loopback), 1 GB
 *   clean-64k-offload  the same with checksum offload: the in-memory link vouches for the
 *                segments' integrity, as Linux's loopback does (sk_config.caps)
 *   clean-1500-offload MTU 1500 with the link's offloads (TSO up to 64 KiB, checksums,
 *                large frames in, as a virtio-net TAP offers them)
 *   lossy-cubic  1 % uniform loss on the data direction, 10 ms RTT, CUBIC
 *   lossy-reno   the same with NewReno
 *   bigwnd-cubic a window of thousands of segments: 0.0001 % loss, 100 ms RTT, 32 MiB
 *                buffers and window scale 9, CUBIC (not in the default set: --only
 *                bigwnd-cubic). RACK keeps a
 *                transmit record per segment in flight, so this measures what each ACK costs
 *                the records (wall and CPU time beside the virtual time)
 *
 * Clean runs are limited by CPU: goodput is bytes over real elapsed time (CLOCK_MONOTONIC, read
 * here, outside the core), and over the process's CPU time (the two differ on a busy machine). Lossy runs are limited by the congestion controller: goodput is bytes
 * over the simulated (virtual) time, printed beside what the controller's model predicts for the
 * same loss rate and RTT:
 *   Reno  (Mathis et al. 1997):   rate = MSS/RTT * 1.22/sqrt(p)
 *   CUBIC (RFC 9438 §5.1):        W_avg = max(W_cubic, W_est) segments per RTT, where
 *                                 W_cubic = (C*(3+beta)/(4*(1-beta)))^(1/4) * RTT^(3/4) / p^(3/4)
 *                                 W_est   = sqrt(alpha*(1+beta)/(2*(1-beta)*p)), alpha =
 *                                           3*(1-beta)/(1+beta), i.e. 1.22/sqrt(p) (Reno-friendly)
 *                                 C = 0.4, beta = 0.7; rate = W_avg * MSS / RTT
 *
 * Usage: bench_goodput [--bytes N] [--lossy-bytes N] [--only NAME] [--verify] [--seed N]
 *                      [--no-fast-path]
 * --no-fast-path sends every segment through the full RFC 9293 path (sk_config.tcp_fast_path
 * false), to measure what header prediction saves (docs/performance.md).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_out.h"
#include "synack/synack.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define PORT 5001
#define PATTERN_BYTES (1u << 20)
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

struct scenario {
    const char *name;
    uint16_t mtu;
    double loss;          /* on the data direction A -> B */
    uint32_t one_way_us;  /* propagation delay each way */
    const char *cc;
    bool lossy;           /* report virtual-time goodput and the model */
    bool offload;         /* the link vouches for checksums (sk_config.caps) */
    uint32_t buf_kib;     /* buffers each way; 0: 512 KiB clean, 4 MiB lossy */
    bool on_request;      /* only with --only */
};

struct result {
    bool ok;
    uint64_t bytes;
    double wall_s, cpu_s, virt_s;
    uint64_t retransmits, segs_out_a, segs_out_b, frames_lost;
    uint16_t mss;
    uint32_t srtt_us;
};

static uint8_t pattern[PATTERN_BYTES];
static bool fast_path = true; /* sk_config.tcp_fast_path of both stacks (--no-fast-path) */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of this process: on a shared machine the wall clock also counts time the
 * scheduler gave to others. */
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(buf, size, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static void config(struct sk_config *c, int side, const struct scenario *s, uint32_t buf_bytes)
{
    sk_config_default(c);
    c->addr = side ? ADDR_B : ADDR_A;
    c->prefix_len = 24;
    sk_config_set_test_seed(c, side ? 0xb0b : 0xa11ce); /* simulated: replayable */
    c->mtu = s->mtu;
    c->sndbuf_bytes = buf_bytes;
    c->rcvbuf_bytes = buf_bytes;
    c->max_buffer_bytes = 8ull * buf_bytes;
    c->congestion_control = s->cc;
    if (buf_bytes > (65535u << 7))
        c->wscale = 9; /* RFC 7323 §2.3: room for the whole buffer in the window */
    c->tcp_fast_path = fast_path;
    if (s->offload) /* the link's offloads, as a virtio-net device offers them (sk_link_caps) */
        c->caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true, .rx_csum = true,
                                        .rx_large = true};
}

static struct result run(const struct scenario *s, uint64_t total, uint64_t seed, bool verify)
{
    struct result res = {0};
    /* The clean runs have no delay, so a 512 KiB window is many times the bandwidth-delay
     * product and, unlike 16 MiB, stays in cache: measured here, 16 MiB buffers spent 90 % of
     * the time in memmove at memory speed. The lossy runs need room for cwnd: 4 MiB. */
    uint32_t buf_bytes = s->buf_kib ? s->buf_kib << 10 : s->lossy ? 4u << 20 : 512u << 10;
    struct sk_config ca, cb;
    config(&ca, 0, s, buf_bytes);
    config(&cb, 1, s, buf_bytes);
    struct sk_sim sim;
    const sk_time_us start = 1000000;
    if (sk_sim_init(&sim, &ca, &cb, seed, start) != 0) {
        fprintf(stderr, "%s: sk_sim_init failed\n", s->name);
        return res;
    }
    struct sk_memlink_faults fa = {.delay_us = s->one_way_us, .loss = s->loss};
    struct sk_memlink_faults fb = {.delay_us = s->one_way_us};
    sk_memlink_set_faults(sim.link, 0, &fa);
    sk_memlink_set_faults(sim.link, 1, &fb);

    struct sk_tcp *l = NULL, *a = NULL, *b = NULL;
    if (sk_tcp_listen(sim.stack[1], PORT, 4, &l) != 0 ||
        sk_tcp_connect(sim.stack[0], 0, ADDR_B, PORT, &a) != 0) {
        fprintf(stderr, "%s: listen/connect failed\n", s->name);
        sk_sim_destroy(&sim);
        return res;
    }
    while (b == NULL || sk_tcp_get_state(a) != SK_TCP_ESTABLISHED) {
        if (b == NULL)
            sk_tcp_accept(l, &b);
        if (b && sk_tcp_get_state(a) == SK_TCP_ESTABLISHED)
            break;
        if (!sk_sim_step(&sim, start + 60000000)) {
            fprintf(stderr, "%s: handshake did not complete\n", s->name);
            sk_sim_destroy(&sim);
            return res;
        }
    }

    uint8_t *rbuf = malloc(PATTERN_BYTES);
    if (rbuf == NULL)
        abort();
    uint64_t sent = 0, got = 0;
    bool corrupt = false;
    sk_time_us v0 = sim.now;
    /* Give up if the virtual clock runs for an hour or the wall clock for ten minutes. */
    sk_time_us vlimit = v0 + 3600ull * 1000000;
    double t0 = now_s(), c0s = cpu_s();
    while (got < total) {
        while (sent < total) {
            uint64_t off = sent % PATTERN_BYTES;
            uint64_t n = PATTERN_BYTES - off;
            if (n > total - sent)
                n = total - sent;
            ssize_t k = sk_tcp_send(a, pattern + off, (size_t)n);
            if (k <= 0)
                break;
            sent += (uint64_t)k;
        }
        for (;;) {
            uint64_t off = got % PATTERN_BYTES;
            ssize_t k = sk_tcp_recv(b, rbuf, PATTERN_BYTES - off);
            if (k <= 0)
                break;
            if (verify && memcmp(rbuf, pattern + off, (size_t)k) != 0)
                corrupt = true;
            got += (uint64_t)k;
        }
        if (got >= total)
            break;
        if (!sk_sim_step(&sim, vlimit) || ((got & 0xfff) == 0 && now_s() - t0 > 600)) {
            fprintf(stderr, "%s: stalled at %llu of %llu bytes (virtual %.3f s)\n", s->name,
                    (unsigned long long)got, (unsigned long long)total,
                    (double)(sim.now - v0) / 1e6);
            break;
        }
    }
    double t1 = now_s(), c1s = cpu_s();
    struct sk_tcp_info ia;
    sk_tcp_get_info(a, &ia);
    struct sk_stack_counters c0, c1;
    sk_stack_counters(sim.stack[0], &c0);
    sk_stack_counters(sim.stack[1], &c1);
    struct sk_memlink_stats ls;
    sk_memlink_get_stats(sim.link, 0, &ls);
    res.ok = got == total && !corrupt;
    if (corrupt)
        fprintf(stderr, "%s: received data differs from what was sent\n", s->name);
    res.bytes = got;
    res.wall_s = t1 - t0;
    res.cpu_s = c1s - c0s;
    res.virt_s = (double)(sim.now - v0) / 1e6;
    res.retransmits = c0.tcp_retransmits;
    res.segs_out_a = c0.tcp_segs_out;
    res.segs_out_b = c1.tcp_segs_out;
    res.frames_lost = ls.lost;
    res.mss = ia.snd_mss;
    res.srtt_us = ia.srtt_us;
    free(rbuf);
    sk_tcp_close(a);
    sk_tcp_close(b);
    sk_tcp_close(l);
    sk_sim_destroy(&sim);
    return res;
}

/* Mathis et al. 1997: rate = MSS/RTT * sqrt(3/2)/sqrt(p), in bit/s. */
static double model_reno_bps(double mss, double rtt_s, double p)
{
    return mss * 8.0 / rtt_s * sqrt(1.5) / sqrt(p);
}

/* RFC 9438 §5.1: CUBIC's average window in segments is the larger of the cubic-region
 * average and the Reno-friendly (AIMD with alpha_cubic, beta_cubic) average. */
static double model_cubic_bps(double mss, double rtt_s, double p, double *w_cubic, double *w_est)
{
    double wc = pow(CUBIC_C * (3 + CUBIC_BETA) / (4 * (1 - CUBIC_BETA)), 0.25) *
                pow(rtt_s, 0.75) / pow(p, 0.75);
    double alpha = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    double we = sqrt(alpha * (1 + CUBIC_BETA) / (2 * (1 - CUBIC_BETA) * p));
    *w_cubic = wc;
    *w_est = we;
    double w = wc > we ? wc : we;
    return w * mss * 8.0 / rtt_s;
}

int main(int argc, char **argv)
{
    uint64_t clean_bytes = 1ull << 30, lossy_bytes = 64ull << 20, seed = 1;
    const char *only = NULL;
    bool verify = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            clean_bytes = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--lossy-bytes") == 0 && i + 1 < argc)
            lossy_bytes = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--verify") == 0)
            verify = true;
        else if (strcmp(argv[i], "--no-fast-path") == 0)
            fast_path = false;
        else {
            fprintf(stderr,
                    "usage: %s [--bytes N] [--lossy-bytes N] [--only NAME] [--seed N] [--verify] "
                    "[--no-fast-path]\n",
                    argv[0]);
            return 2;
        }
    }
    for (size_t i = 0; i < PATTERN_BYTES; i++)
        pattern[i] = (uint8_t)(i * 131 + (i >> 12));

    static const struct scenario all[] = {
        {"clean-1500", 1500, 0, 0, "cubic", false, false, 0, false},
        {"clean-64k", 65535, 0, 0, "cubic", false, false, 0, false},
        {"clean-64k-offload", 65535, 0, 0, "cubic", false, true, 0, false},
        {"clean-1500-offload", 1500, 0, 0, "cubic", false, true, 0, false},
        {"lossy-cubic", 1500, 0.01, 5000, "cubic", true, false, 0, false},
        {"lossy-newreno", 1500, 0.01, 5000, "reno", true, false, 0, false},
        {"bigwnd-cubic", 1500, 0.000001, 50000, "cubic", true, false, 32768, true},
    };
    char cpu[256];
    cpu_model(cpu, sizeof(cpu));
    printf("synack bench_goodput: two stacks in one process over the in-memory link (sk_sim)\n");
    printf("cpu: %s; one flow A->B, one thread; wall clock: CLOCK_MONOTONIC\n", cpu);
    printf("defaults: SACK, timestamps, window scale 7, delayed ACK 40 ms, RTO min 1 s; buffers "
           "512 KiB each way (clean runs), 4 MiB (lossy runs)\n\n");
    int failed = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const struct scenario *s = &all[i];
        if (only ? strcmp(only, s->name) != 0 : s->on_request)
            continue;
        uint64_t total = s->lossy ? lossy_bytes : clean_bytes;
        struct result r = run(s, total, seed, verify || s->lossy);
        if (!r.ok)
            failed++;
        if (!s->lossy) {
            printf("%-14s mtu %5u mss %5u, zero delay, unlimited rate, %s: %.0f MiB in %.3f s "
                   "wall = %.2f Gbit/s (%.3f s CPU = %.2f Gbit/s per core; %llu segs A->B, "
                   "%llu ACKs B->A)\n",
                   s->name, s->mtu, r.mss, s->cc, (double)r.bytes / (1 << 20), r.wall_s,
                   (double)r.bytes * 8 / r.wall_s / 1e9, r.cpu_s,
                   (double)r.bytes * 8 / r.cpu_s / 1e9, (unsigned long long)r.segs_out_a,
                   (unsigned long long)r.segs_out_b);
            if (r.ok) {
                /* make bench: wall-clock goodput of the one thread; per-CPU-second beside it. */
                char metric[64], params[160];
                snprintf(metric, sizeof(metric), "goodput_%s%s_gbps",
                         s->mtu == 1500 ? "1500" : "64k", s->offload ? "_offload" : "");
                snprintf(params, sizeof(params),
                         "{\"bytes\":%llu,\"wall_s\":%.3f,\"cpu_gbps\":%.3f,\"mss\":%u}",
                         (unsigned long long)r.bytes, r.wall_s,
                         (double)r.bytes * 8 / r.cpu_s / 1e9, r.mss);
                bench_record("inmem", metric, "synack-memory",
                             (double)r.bytes * 8 / r.wall_s / 1e9, "Gbit/s", bench_round(),
                             params);
            }
            continue;
        }
        double rtt_s = 2.0 * s->one_way_us / 1e6;
        double measured = (double)r.bytes * 8 / r.virt_s;
        double wc, we;
        double cubic = model_cubic_bps(r.mss, rtt_s, s->loss, &wc, &we);
        double reno = model_reno_bps(r.mss, rtt_s, s->loss);
        double model = strcmp(s->cc, "cubic") == 0 ? cubic : reno;
        printf("%-14s mtu %5u mss %5u, loss %.1f%% (data direction), RTT %.0f ms, %s: "
               "%.0f MiB in %.2f s virtual (%.2f s wall, %.2f s CPU)\n",
               s->name, s->mtu, r.mss, s->loss * 100, rtt_s * 1e3, s->cc,
               (double)r.bytes / (1 << 20), r.virt_s, r.wall_s, r.cpu_s);
        printf("%-14s   measured %.2f Mbit/s; model %.2f Mbit/s (%.0f%%) [Mathis/Reno %.2f, "
               "RFC 9438 CUBIC %.2f: W_cubic %.2f, W_est %.2f segs]; retransmits %llu, "
               "frames lost %llu, SRTT %.1f ms\n",
               "", measured / 1e6, model / 1e6, 100 * measured / model, reno / 1e6, cubic / 1e6,
               wc, we, (unsigned long long)r.retransmits, (unsigned long long)r.frames_lost,
               r.srtt_us / 1e3);
    }
    return failed ? 1 : 0;
}
