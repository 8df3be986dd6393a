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
 * Three more runs for `make bench` (records through bench_out.h, besides the printout):
 *   --states N   bytes per connection in each state, by difference: N connections are driven
 *                by hand-made segments through SYN-RECEIVED, ESTABLISHED (accepted, idle),
 *                ESTABLISHED after 32 B each way, CLOSE-WAIT, LAST-ACK, and N more through
 *                FIN-WAIT-1, FIN-WAIT-2 and TIME-WAIT (handle closed: the stack's record), N
 *                outgoing ones in SYN-SENT, N listeners; every byte the stack holds (TCB,
 *                tables, timers, buffers) over N. Also sizeof(struct sk_tcp).
 *   --scale MAX  n = 1, 10, ..., MAX established connections (SYN in, SYN-ACK out, ACK in,
 *                accepted, idle; the peers are hand-made segments, so only this stack works):
 *                connections per second of the whole handshake-and-accept and bytes per
 *                connection at each n.
 *   --rate SECS  connections per second between two stacks in one thread (sk_sim, no delay):
 *                connect, 32 B each way, the server closes first, then the client; sequential.
 *
 * Usage: bench_connections [--count N] [--states N] [--scale MAX] [--rate SECS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_out.h"
#include "internal.h"
#include "synack/synack.h"
#include "wire/wire.h"

#define LISTEN_ADDR 0x0a000001u /* 10.0.0.1, inside this process only */
#define PORT 80

struct counts {
    uint64_t frames, syn_acks;
    size_t bytes_now, bytes_peak;
    uint32_t *s_nxt; /* per peer: the stack's next sequence number (SYN, data, FIN counted) */
    uint32_t peers;
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
    if (k->s_nxt == NULL || len < 40)
        return;
    /* Which hand-made peer it goes to (see segment()), and where the stack's sequence ends. */
    uint32_t dst = (uint32_t)frame[16] << 24 | (uint32_t)frame[17] << 16 |
                   (uint32_t)frame[18] << 8 | frame[19];
    uint32_t dport = (uint32_t)frame[22] << 8 | frame[23];
    uint32_t i = (dst - 0x0a800000u) * 50000 + (dport - 10000);
    if (i >= k->peers)
        return;
    size_t ihl = (size_t)(frame[0] & 15) * 4, thl = (size_t)(frame[ihl + 12] >> 4) * 4;
    size_t iplen = (size_t)frame[2] << 8 | frame[3];
    uint32_t seq = (uint32_t)frame[ihl + 4] << 24 | (uint32_t)frame[ihl + 5] << 16 |
                   (uint32_t)frame[ihl + 6] << 8 | frame[ihl + 7];
    uint8_t fl = frame[ihl + 13];
    uint32_t end = seq + (uint32_t)(iplen - ihl - thl) + ((fl & SK_TCP_SYN) ? 1 : 0) +
                   ((fl & SK_TCP_FIN) ? 1 : 0);
    if ((fl & SK_TCP_SYN) || (int32_t)(end - k->s_nxt[i]) > 0)
        k->s_nxt[i] = end;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A segment from peer i (address 10.128.0.0 + i / 50000, port 10000 + i % 50000). */
static size_t segment_data(uint8_t *buf, uint32_t i, uint8_t flags, uint32_t seq, uint32_t ack,
                           size_t data_len)
{
    uint32_t src = 0x0a800000u + i / 50000;
    struct sk_tcp_hdr h = {.sport = (uint16_t)(10000 + i % 50000), .dport = PORT, .seq = seq,
                           .ack = ack, .flags = flags, .wnd = 65535};
    if (flags & SK_TCP_SYN) {
        h.opts.present = SK_OPT_MSS;
        h.opts.mss = 1460;
    }
    static const uint8_t data[64] = {'p'};
    h.payload = data;
    h.payload_len = data_len < sizeof(data) ? data_len : sizeof(data);
    size_t n = sk_tcp_emit(buf + SK_IPV4_HLEN, 1500 - SK_IPV4_HLEN, src, LISTEN_ADDR, &h, 0);
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = src, .dst = LISTEN_ADDR};
    return sk_ipv4_emit(buf, SK_IPV4_HLEN, &ip, n) + n;
}

static size_t segment(uint8_t *buf, uint32_t i, uint8_t flags, uint32_t seq, uint32_t ack)
{
    return segment_data(buf, i, flags, seq, ack, 0);
}

static int run_half_open(uint32_t count)
{
    struct counts k = {0};
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.addr = LISTEN_ADDR;
    cfg.max_connections = count + 16;
    cfg.max_syn_backlog = count + 16;
    cfg.max_half_open = count + 16; /* a TCB for each, not SYN cookies */
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

/* A stack like run_half_open's, room for `count` connections, counting every byte. */
static struct sk_stack *stack_new(struct counts *k, uint32_t count, sk_time_us t)
{
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.addr = LISTEN_ADDR;
    cfg.max_connections = count + 16;
    cfg.max_syn_backlog = count + 16;
    cfg.max_half_open = count + 16; /* real TCBs, not SYN cookies */
    cfg.max_time_wait = count + 16;
    cfg.max_buffer_bytes = UINT64_MAX; /* measured here, not limited */
    cfg.output = on_frame;
    cfg.output_ctx = k;
    sk_config_set_test_seed(&cfg, 1);
    cfg.alloc = count_alloc;
    cfg.alloc_ctx = k;
    return sk_stack_new(&cfg, t, NULL);
}

static uint32_t peer_iss(uint32_t i) { return i * 7919u + 1000u; }

static void feed(struct sk_stack *st, uint32_t i, uint8_t flags, uint32_t seq, uint32_t ack,
                 size_t len, sk_time_us t)
{
    uint8_t buf[1500];
    sk_stack_input(st, buf, segment_data(buf, i, flags, seq, ack, len), t);
}

/* SYN in, SYN-ACK out, ACK in: peer i's connection is established and waits in the queue. */
static void handshake(struct sk_stack *st, struct counts *k, uint32_t i, sk_time_us t)
{
    feed(st, i, SK_TCP_SYN, peer_iss(i), 0, 0, t);
    feed(st, i, SK_TCP_ACK, peer_iss(i) + 1, k->s_nxt[i], 0, t);
}

static void record_state(const char *state, double bytes, uint32_t n)
{
    char metric[64], params[64];
    snprintf(metric, sizeof(metric), "conn_bytes_%s", state);
    snprintf(params, sizeof(params), "{\"connections\":%u}", n);
    printf("  %-22s %8.0f bytes per connection\n", state, bytes);
    bench_record("memory", metric, "synack", bytes, "bytes", bench_round(), params);
}

/* Bytes per connection in each state, from the allocator's count, by difference. */
static int run_states(uint32_t n)
{
    struct counts k = {0};
    k.peers = 3 * n;
    k.s_nxt = calloc(k.peers, sizeof(uint32_t));
    struct sk_tcp **h = calloc(2 * (size_t)n, sizeof(*h));
    sk_time_us t = 1000000;
    struct sk_stack *st = stack_new(&k, 4 * n, t);
    struct sk_tcp *l;
    if (!k.s_nxt || !h || !st || sk_tcp_listen(st, PORT, (int)(2 * n), &l) != 0) {
        fprintf(stderr, "bench_connections: setup failed\n");
        return 1;
    }
    printf("bench_connections --states: bytes per connection by state (%u connections each; "
           "TCB, tables, timers, buffers; sizeof(struct sk_tcp) = %zu)\n", n, sizeof(struct sk_tcp));
    bench_record("memory", "tcb_bytes", "synack", (double)sizeof(struct sk_tcp), "bytes",
                 bench_round(), "{}");
    const size_t base = k.bytes_now;
    int bad = 0;
    /* Peers 0..2n-1 connect; 0..n-1 ("A") close first, n..2n-1 ("B") are closed by us. */
    for (uint32_t i = 0; i < 2 * n; i++)
        feed(st, i, SK_TCP_SYN, peer_iss(i), 0, 0, t);
    double syn_rcvd = (double)(k.bytes_now - base) / (2 * n);
    record_state("syn_received", syn_rcvd, n);
    for (uint32_t i = 0; i < 2 * n; i++) {
        feed(st, i, SK_TCP_ACK, peer_iss(i) + 1, k.s_nxt[i], 0, t);
        bad += sk_tcp_accept(l, &h[i]) != 0;
    }
    record_state("established", (double)(k.bytes_now - base) / (2 * n), n);
    uint8_t msg[32];
    for (uint32_t i = 0; i < 2 * n && !bad; i++) {
        feed(st, i, SK_TCP_ACK | SK_TCP_PSH, peer_iss(i) + 1, k.s_nxt[i], sizeof(msg), t);
        bad += sk_tcp_recv(h[i], msg, sizeof(msg)) != (ssize_t)sizeof(msg);
        bad += sk_tcp_send(h[i], msg, sizeof(msg)) != (ssize_t)sizeof(msg);
        sk_stack_poll(st, t);
        feed(st, i, SK_TCP_ACK, peer_iss(i) + 33, k.s_nxt[i], 0, t);
    }
    size_t m = k.bytes_now;
    double est_data = (double)(m - base) / (2 * n);
    record_state("established_32b", est_data, n);
    for (uint32_t i = 0; i < n; i++) /* A: the peer's FIN */
        feed(st, i, SK_TCP_ACK | SK_TCP_FIN, peer_iss(i) + 33, k.s_nxt[i], 0, t);
    bad += sk_tcp_get_state(h[0]) != SK_TCP_CLOSE_WAIT;
    double close_wait = est_data + ((double)k.bytes_now - (double)m) / n;
    record_state("close_wait", close_wait, n);
    m = k.bytes_now;
    for (uint32_t i = 0; i < n; i++) /* A: our close, our FIN */
        sk_tcp_close(h[i]);
    sk_stack_poll(st, t);
    record_state("last_ack", close_wait + ((double)k.bytes_now - (double)m) / n, n);
    m = k.bytes_now;
    for (uint32_t i = n; i < 2 * n; i++) /* B: we close first */
        sk_tcp_shutdown(h[i]);
    sk_stack_poll(st, t);
    bad += sk_tcp_get_state(h[n]) != SK_TCP_FIN_WAIT_1;
    double fw1 = est_data + ((double)k.bytes_now - (double)m) / n;
    record_state("fin_wait_1", fw1, n);
    m = k.bytes_now;
    for (uint32_t i = n; i < 2 * n; i++)
        feed(st, i, SK_TCP_ACK, peer_iss(i) + 33, k.s_nxt[i], 0, t);
    bad += sk_tcp_get_state(h[n]) != SK_TCP_FIN_WAIT_2;
    double fw2 = fw1 + ((double)k.bytes_now - (double)m) / n;
    record_state("fin_wait_2", fw2, n);
    m = k.bytes_now;
    for (uint32_t i = n; i < 2 * n; i++) {
        feed(st, i, SK_TCP_ACK | SK_TCP_FIN, peer_iss(i) + 33, k.s_nxt[i], 0, t);
        sk_tcp_close(h[i]); /* TIME-WAIT goes on in the stack's record */
    }
    struct sk_stack_counters c;
    sk_stack_counters(st, &c);
    bad += c.timewait_records != n;
    bad += c.tcp_syncookies_sent != 0 || c.limit_buffers != 0;
    record_state("time_wait", fw2 + ((double)k.bytes_now - (double)m) / n, n);
    m = k.bytes_now;
    for (uint32_t i = 2 * n; i < 3 * n; i++) {
        struct sk_tcp *o;
        bad += sk_tcp_connect(st, 0, 0x0a800000u + i / 50000, (uint16_t)(10000 + i % 50000),
                              &o) != 0;
    }
    record_state("syn_sent", ((double)k.bytes_now - (double)m) / n, n);
    m = k.bytes_now;
    for (uint32_t i = 0; i < n; i++) {
        struct sk_tcp *o;
        bad += sk_tcp_listen(st, (uint16_t)(20000 + i % 40000), 16, &o) != 0;
    }
    record_state("listen", ((double)k.bytes_now - (double)m) / n, n);
    if (bad)
        fprintf(stderr, "bench_connections --states: %d steps went otherwise than planned\n",
                bad);
    sk_stack_free(st);
    free(h);
    free(k.s_nxt);
    return bad ? 1 : 0;
}

static uint64_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return (uint64_t)kb * 1024;
}

/* Established connections from 1 to max, each n in a fresh stack: rate and bytes. */
static int run_scale(uint32_t max)
{
    printf("bench_connections --scale: n established connections in one stack (handshake "
           "from hand-made peers, accepted, idle)\n");
    double per_conn = 0;
    int bad = 0;
    for (uint32_t n = 1; n <= max; n *= 10) {
        if (per_conn * n * 2 > (double)mem_available()) {
            printf("  n %8u: skipped, would need %.0f MiB\n", n, per_conn * n / (1 << 20));
            continue;
        }
        struct counts k = {0};
        k.peers = n;
        k.s_nxt = calloc(n, sizeof(uint32_t));
        sk_time_us t = 1000000;
        struct sk_stack *st = stack_new(&k, n, t);
        struct sk_tcp *l, *c;
        if (!k.s_nxt || !st || sk_tcp_listen(st, PORT, (int)n + 1, &l) != 0)
            return fprintf(stderr, "bench_connections: setup failed\n"), 1;
        size_t base = k.bytes_now;
        uint32_t accepted = 0;
        double t0 = now_s();
        for (uint32_t i = 0; i < n; i++) {
            handshake(st, &k, i, t);
            accepted += sk_tcp_accept(l, &c) == 0;
        }
        double secs = now_s() - t0;
        per_conn = (double)(k.bytes_now - base) / n;
        bad += accepted != n;
        char params[64];
        snprintf(params, sizeof(params), "{\"n\":%u}", n);
        printf("  n %8u: %10.0f connections/s, %6.0f bytes per connection, %8.1f MiB\n", n,
               n / secs, per_conn, (double)(k.bytes_now - base) / (1 << 20));
        bench_record("scale", "scale_conn_per_s", "synack-memory", n / secs, "conn/s",
                     bench_round(), params);
        bench_record("scale", "scale_bytes_per_conn", "synack-memory", per_conn, "bytes",
                     bench_round(), params);
        sk_stack_free(st);
        free(k.s_nxt);
    }
    return bad ? 1 : 0;
}

/* Steps the simulation until *cond is true; false if it stalls for 10 virtual seconds. */
static bool sim_until(struct sk_sim *sim, bool (*cond)(void *), void *ctx)
{
    return cond(ctx) || sk_sim_run(sim, cond, ctx, sim->now + 10000000);
}

struct rr_ctx {
    struct sk_tcp *l, *a, *b;
    uint8_t buf[64];
    size_t got;
};
static bool accepted(void *p)
{
    struct rr_ctx *x = p;
    return x->b != NULL || sk_tcp_accept(x->l, &x->b) == 0;
}
static bool server_got(void *p)
{
    struct rr_ctx *x = p;
    ssize_t n = sk_tcp_recv(x->b, x->buf + x->got, 32 - x->got);
    x->got += n > 0 ? (size_t)n : 0;
    return x->got == 32;
}
static bool client_done(void *p) /* 32 B back, then the server's FIN */
{
    struct rr_ctx *x = p;
    ssize_t n = sk_tcp_recv(x->a, x->buf + x->got, sizeof(x->buf) - x->got);
    x->got += n > 0 ? (size_t)n : 0;
    return n == 0 && x->got == 32;
}

/* Connections per second between two stacks in one thread. */
static int run_rate(double secs)
{
    struct sk_config ca, cb;
    sk_config_default(&ca);
    sk_config_default(&cb);
    ca.addr = 0x0a000001u;
    cb.addr = 0x0a000002u;
    ca.prefix_len = cb.prefix_len = 24;
    sk_config_set_test_seed(&ca, 0xa11ce);
    sk_config_set_test_seed(&cb, 0xb0b);
    struct sk_sim sim;
    struct rr_ctx x = {0};
    if (sk_sim_init(&sim, &ca, &cb, 1, 1000000) != 0 ||
        sk_tcp_listen(sim.stack[1], PORT, 128, &x.l) != 0)
        return fprintf(stderr, "bench_connections --rate: setup failed\n"), 1;
    uint64_t n = 0;
    double t0 = now_s(), t;
    static const uint8_t msg[32] = {'m'};
    while ((t = now_s() - t0) < secs) {
        x.a = x.b = NULL;
        x.got = 0;
        if (sk_tcp_connect(sim.stack[0], 0, cb.addr, PORT, &x.a) != 0 ||
            !sim_until(&sim, accepted, &x) || sk_tcp_send(x.a, msg, 32) != 32 ||
            !sim_until(&sim, server_got, &x) || sk_tcp_send(x.b, msg, 32) != 32)
            break;
        sk_tcp_close(x.b); /* the server closes first: its TIME-WAIT, the client's ports free */
        x.got = 0;
        if (!sim_until(&sim, client_done, &x))
            break;
        sk_tcp_close(x.a);
        n++;
    }
    bool ok = t >= secs;
    if (!ok)
        fprintf(stderr, "bench_connections --rate: connection %llu stalled\n",
                (unsigned long long)n);
    char params[96];
    snprintf(params, sizeof(params), "{\"connections\":%llu,\"seconds\":%.3f,\"bytes_each_way\":32}",
             (unsigned long long)n, t);
    printf("bench_connections --rate: two stacks, one thread: %llu connections in %.2f s = "
           "%.0f connections/s (32 B each way)\n", (unsigned long long)n, t, n / t);
    if (ok)
        bench_record("inmem", "mem_conn_per_s", "synack-memory", n / t, "conn/s",
                     bench_round(), params);
    sk_sim_destroy(&sim);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    uint32_t count = 1000000, states = 0, scale = 0;
    double rate = 0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        unsigned long v = 0;
        if (i + 1 < argc && argv[i][0] == '-')
            v = strtoul(argv[i + 1], &end, 10);
        if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            rate = strtod(argv[++i], &end);
            if (*end != '\0' || rate <= 0)
                return fprintf(stderr, "bench_connections: --rate takes seconds\n"), 2;
            continue;
        }
        if (end == NULL || *end != '\0' || v == 0 || v > 10000000) {
            fprintf(stderr, "usage: %s [--count N] [--states N] [--scale MAX] [--rate SECS] "
                            "(N, MAX: 1..10000000)\n", argv[0]);
            return 2;
        }
        if (strcmp(argv[i], "--count") == 0)
            count = (uint32_t)v;
        else if (strcmp(argv[i], "--states") == 0)
            states = (uint32_t)v;
        else if (strcmp(argv[i], "--scale") == 0)
            scale = (uint32_t)v;
        else
            return fprintf(stderr, "bench_connections: unknown option %s\n", argv[i]), 2;
        i++;
    }
    if (states)
        return run_states(states);
    if (scale)
        return run_scale(scale);
    if (rate > 0)
        return run_rate(rate);
    return run_half_open(count);
}
