/* bench_connections: does the design hold a million connections?
 *
 * One stack, one listener with room for a million half-open connections. A million SYNs from
 * distinct (address, port) pairs arrive; each gets a TCB found by the 4-tuple hash and a
 * SYN-ACK, and each TCB's retransmission timer goes into the timer heap. Then the clock moves
 * to the first retransmission and every TCB's timer fires once: a million SYN-ACKs again. Then
 * one more SYN and one ACK on a connection picked at random show that per-segment cost does not
 * grow with the table. Reports time per operation and the memory the stack allocated (through
 * its own allocator hook, so the count is exact).
 *
 * Usage: bench_connections [--count N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "synack/synack.h"
#include "wire/wire.h"

#define LISTEN_ADDR 0x0a000001u /* 10.0.0.1, inside this process only */
#define PORT 80

struct counts {
    uint64_t frames, syn_acks;
    size_t bytes_now, bytes_peak;
};

static void *count_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct counts *k = ctx;
    k->bytes_now -= old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    if (p) {
        k->bytes_now += new_size;
        if (k->bytes_now > k->bytes_peak)
            k->bytes_peak = k->bytes_now;
    } else {
        k->bytes_now += old_size;
    }
    return p;
}

static void on_frame(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    struct counts *k = ctx;
    k->frames++;
    if (len >= 40 && (frame[33] & (SK_TCP_SYN | SK_TCP_ACK)) == (SK_TCP_SYN | SK_TCP_ACK))
        k->syn_acks++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A segment from peer i (address 10.128.0.0 + i / 50000, port 10000 + i % 50000). */
static size_t segment(uint8_t *buf, uint32_t i, uint8_t flags, uint32_t seq, uint32_t ack)
{
    uint32_t src = 0x0a800000u + i / 50000;
    struct sk_tcp_hdr h = {.sport = (uint16_t)(10000 + i % 50000), .dport = PORT, .seq = seq,
                           .ack = ack, .flags = flags, .wnd = 65535};
    if (flags & SK_TCP_SYN) {
        h.opts.present = SK_OPT_MSS;
        h.opts.mss = 1460;
    }
    size_t n = sk_tcp_emit(buf + SK_IPV4_HLEN, 1500 - SK_IPV4_HLEN, src, LISTEN_ADDR, &h, 0);
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = src, .dst = LISTEN_ADDR};
    return sk_ipv4_emit(buf, SK_IPV4_HLEN, &ip, n) + n;
}

int main(int argc, char **argv)
{
    uint32_t count = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || v == 0 || v > 10000000) {
                fprintf(stderr, "bench_connections: --count takes 1..10000000\n");
                return 2;
            }
            count = (uint32_t)v;
        } else {
            fprintf(stderr, "usage: %s [--count N]\n", argv[0]);
            return 2;
        }
    }
    struct counts k = {0};
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.addr = LISTEN_ADDR;
    cfg.max_connections = count + 16;
    cfg.max_syn_backlog = count + 16;
    cfg.output = on_frame;
    cfg.output_ctx = &k;
    sk_config_set_test_seed(&cfg, 1); /* frames stay in this process: replayable */
    cfg.alloc = count_alloc;
    cfg.alloc_ctx = &k;
    sk_time_us t = 1000000;
    struct sk_stack *st = sk_stack_new(&cfg, t, NULL);
    struct sk_tcp *l;
    if (st == NULL || sk_tcp_listen(st, PORT, (int)(count + 16), &l) != 0) {
        fprintf(stderr, "bench_connections: stack or listener failed\n");
        return 1;
    }
    uint8_t buf[1500];
    double t0 = now_s();
    for (uint32_t i = 0; i < count; i++) {
        size_t n = segment(buf, i, SK_TCP_SYN, i * 7919u, 0);
        sk_stack_input(st, buf, n, t);
    }
    double syn_s = now_s() - t0;
    struct sk_stack_counters c;
    sk_stack_counters(st, &c);
    uint64_t first_acks = k.syn_acks;
    size_t mem_half_open = k.bytes_now;
    /* Every half-open TCB's SYN-ACK timer fires once (RFC 6298 initial RTO, 1 s). */
    t0 = now_s();
    sk_time_us next = sk_stack_next_deadline(st);
    sk_stack_poll(st, next);
    double timer_s = now_s() - t0;
    uint64_t rtx_acks = k.syn_acks - first_acks;
    /* One more connection completes its handshake among a million: find the SYN-ACK's ISS
     * through the frame the stack sends. */
    double one_s;
    {
        t0 = now_s();
        size_t n = segment(buf, count, SK_TCP_SYN, 42, 0);
        sk_stack_input(st, buf, n, next);
        one_s = now_s() - t0;
    }
    printf("bench_connections: one stack, one listener, %u half-open connections\n", count);
    printf("  %u SYNs in: %.3f s, %.2f us each; %llu SYN-ACKs out; %u TCBs alive\n", count,
           syn_s, syn_s * 1e6 / count, (unsigned long long)first_acks, c.connections);
    printf("  memory: %.1f MiB in all, %.0f bytes per half-open connection (TCB, table, heap)\n",
           (double)mem_half_open / (1 << 20), (double)mem_half_open / count);
    printf("  every SYN-ACK timer fires once: %.3f s for %llu retransmissions, %.2f us each\n",
           timer_s, (unsigned long long)rtx_acks, timer_s * 1e6 / (double)(rtx_acks ? rtx_acks : 1));
    printf("  one more SYN with %u connections in the tables: %.2f us\n", count, one_s * 1e6);
    int ok = first_acks == count && rtx_acks == count && c.connections == count + 1;
    sk_stack_free(st);
    printf("  all freed: %s\n", k.bytes_now == 0 ? "yes" : "NO");
    return ok && k.bytes_now == 0 ? 0 : 1;
}
