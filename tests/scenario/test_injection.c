/* Blind injection (RFC 5961) into a transfer between two stacks in the simulator.
 *
 * While two stacks move seeded byte streams both ways (tests/support/torture.h), an off-path
 * attacker hands each stack thousands of forged segments on the connection's 4-tuple: RSTs,
 * SYNs and data with random sequence and acknowledgment numbers, and, worse than blind, near
 * misses made with the receiver's own RCV.NXT: RSTs inside the window but not at RCV.NXT, RSTs
 * whose payload straddles RCV.NXT, SYNs at and below RCV.NXT carrying data, data inside the
 * window with an acknowledgment outside RFC 5961 §5.2's range. None of them can hit: the
 * transfer must complete byte-exact in both directions (the oracle regenerates every byte),
 * and the challenge ACKs must stay within the limits the test sets (RFC 5961 §7).
 *
 * A truly blind segment is accepted only if its sequence number lands in a window of at most
 * 256 KiB and its acknowledgment in a range of at most 512 KiB, a chance below 1e-8 each; a
 * blind RST must hit RCV.NXT exactly (2^-32). The seed is fixed, so the run is replayable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "synack/synack.h"
#include "test_rng.h"
#include "torture.h"
#include "wire/wire.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define BUF (256u * 1024)

/* The attacker's own generator, independent of the stacks'. */
static uint64_t rnd(uint64_t *s)
{
    return test_rng_next(s);
}

struct forged {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint32_t len;         /* payload bytes (filled with 'X') */
    bool ts;              /* a timestamp option with tsval */
    uint32_t tsval;
};

/* An IPv4 datagram carrying the forged TCP segment, checksums right. */
static size_t forge(uint8_t *buf, size_t cap, const struct forged *f)
{
    uint8_t opts[40];
    struct sk_tcp_opts o = {.present = f->ts ? SK_OPT_TIMESTAMP : 0, .ts_val = f->tsval};
    size_t optlen = sk_tcp_opts_emit(opts, sizeof(opts), &o, SK_SYN_OPTS_LINUX);
    size_t tcp_len = SK_TCP_HLEN + optlen + f->len;
    assert_true(SK_IPV4_HLEN + tcp_len <= cap);
    uint8_t *t = buf + SK_IPV4_HLEN;
    sk_put16(t, f->sport);
    sk_put16(t + 2, f->dport);
    sk_put32(t + 4, f->seq);
    sk_put32(t + 8, f->ack);
    t[12] = (uint8_t)(((SK_TCP_HLEN + optlen) / 4) << 4);
    t[13] = f->flags;
    sk_put16(t + 14, 65535);
    sk_put16(t + 16, 0);
    sk_put16(t + 18, 0);
    memcpy(t + SK_TCP_HLEN, opts, optlen);
    memset(t + SK_TCP_HLEN + optlen, 'X', f->len);
    sk_put16(t + 16, sk_csum_fold(sk_csum_add(sk_csum_pseudo(f->src, f->dst, SK_IPPROTO_TCP,
                                                             (uint16_t)tcp_len),
                                              t, tcp_len)));
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = f->src, .dst = f->dst, .df = true};
    sk_ipv4_emit(buf, cap, &ip, tcp_len);
    return SK_IPV4_HLEN + tcp_len;
}

enum kind {
    BLIND_RST, BLIND_RST_ACK, BLIND_SYN, BLIND_SYN_ACK, BLIND_DATA,
    NEAR_RST_IN_WINDOW, NEAR_RST_STRADDLE, NEAR_SYN_AT_RCV_NXT, NEAR_SYN_BELOW, NEAR_DATA_BAD_ACK,
    KINDS
};
static const char *const kind_name[KINDS] = {
    "blind RST", "blind RST|ACK", "blind SYN", "blind SYN|ACK", "blind data",
    "RST in window", "RST straddling RCV.NXT", "SYN at RCV.NXT", "SYN below RCV.NXT",
    "data in window, bad ACK"};

/* One forged segment at side `to`'s connection, as if from its peer. */
static void inject(struct tt_run *r, int to, uint64_t *rs, uint64_t count[KINDS])
{
    struct sk_tcp_info in;
    sk_tcp_get_info(r->s[to].c, &in);
    if (in.state < SK_TCP_ESTABLISHED || in.state == SK_TCP_TIME_WAIT)
        return;
    enum kind k = (enum kind)(rnd(rs) % KINDS);
    uint32_t x = (uint32_t)rnd(rs), y = (uint32_t)rnd(rs);
    uint32_t wnd = in.rcv_wnd > 2 ? in.rcv_wnd : 2;
    struct forged f = {.src = in.raddr, .dst = in.laddr, .sport = in.rport, .dport = in.lport,
                       .seq = x, .ack = y, .ts = (x & 1) != 0, .tsval = y};
    switch (k) {
    case BLIND_RST: f.flags = SK_TCP_RST; break;
    case BLIND_RST_ACK: f.flags = SK_TCP_RST | SK_TCP_ACK; break;
    case BLIND_SYN: f.flags = SK_TCP_SYN; break;
    case BLIND_SYN_ACK: f.flags = SK_TCP_SYN | SK_TCP_ACK; break;
    case BLIND_DATA: f.flags = SK_TCP_ACK | SK_TCP_PSH; f.len = 1 + y % 1000; break;
    case NEAR_RST_IN_WINDOW:
        f.flags = SK_TCP_RST;
        f.seq = in.rcv_nxt + 1 + x % (wnd - 1);
        break;
    case NEAR_RST_STRADDLE:
        f.flags = SK_TCP_RST | SK_TCP_ACK;
        f.seq = in.rcv_nxt - 1 - x % 500;
        f.len = (in.rcv_nxt - f.seq) + 1 + y % 100;
        break;
    case NEAR_SYN_AT_RCV_NXT: f.flags = SK_TCP_SYN; f.seq = in.rcv_nxt; f.len = 1 + y % 500; break;
    case NEAR_SYN_BELOW:
        f.flags = SK_TCP_SYN | SK_TCP_ACK;
        f.seq = in.rcv_nxt - 1 - x % 100;
        f.len = (in.rcv_nxt - f.seq) + 1 + y % 500;
        break;
    case NEAR_DATA_BAD_ACK:
        /* RFC 5961 §5.2 accepts [SND.UNA - MAX.SND.WND, SND.NXT]; MAX.SND.WND is at most the
         * peer's buffer (BUF), so SND.UNA - 2*BUF and anything past SND.NXT are outside. */
        f.flags = SK_TCP_ACK | SK_TCP_PSH;
        f.seq = in.rcv_nxt + x % wnd;
        f.len = 1 + y % 1000;
        f.ack = (y & 2) ? in.snd_nxt + 1 + y % (1u << 30) : in.snd_una - 2 * BUF - y % (1u << 30);
        break;
    default: break;
    }
    uint8_t buf[2048];
    size_t n = forge(buf, sizeof(buf), &f);
    sk_stack_input(r->sim.stack[to], buf, n, r->sim.now);
    count[k]++;
}

struct limits {
    uint32_t challenge_ack_limit;
    uint32_t invalid_ack_ratelimit_us;
};

/* Moves `bytes` each way while injecting `per_ms` forged segments a millisecond into each
 * side; returns the run (for the caller's counters) after checking byte-exact delivery. */
static struct tt_run *transfer_under_attack(const struct limits *lim, uint64_t seed,
                                            uint64_t bytes, uint32_t per_ms, uint64_t *injected)
{
    struct sk_config ca, cb;
    tt_config(&ca, 0, BUF, 1500, 7);
    tt_config(&cb, 1, BUF, 1500, 7);
    for (struct sk_config *c = &ca; c; c = c == &ca ? &cb : NULL) {
        c->challenge_ack_limit = lim->challenge_ack_limit;
        c->invalid_ack_ratelimit_us = lim->invalid_ack_ratelimit_us;
    }
    struct tt_run *r = tt_new(&ca, &cb, seed, 5000);
    tt_stream(r, 0, seed ^ 0xa, bytes);
    tt_stream(r, 1, seed ^ 0xb, bytes);
    uint64_t rs = seed, count[KINDS] = {0};
    sk_time_us start = r->sim.now, limit = start + 600ull * 1000000;
    bool done = false;
    while (!done && r->sim.now < limit && !r->s[0].error && !r->s[1].error) {
        done = tt_transfer(r, r->sim.now + 1000);
        for (uint32_t i = 0; !done && i < per_ms; i++)
            inject(r, (int)(i & 1), &rs, count);
    }
    *injected = 0;
    for (int k = 0; k < KINDS; k++) {
        fprintf(stderr, "  %-26s %llu\n", kind_name[k], (unsigned long long)count[k]);
        *injected += count[k];
    }
    tt_report(r, "injection");
    assert_true(done);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r->s[i].error, 0);
        assert_true(r->s[i].eof);
        assert_int_equal(r->s[i].got, bytes);
        assert_int_equal(r->s[i].bad_at, UINT64_MAX);
    }
    return r;
}

/* The defaults' shape: the per-connection limit (here 100 ms) holds the challenge ACKs of each
 * connection to one per interval, far below the stack's budget, and the transfer goes as fast
 * as without the attack (0.355 s of virtual time for 8 MiB each way, with or without it). */
static void test_blind_injection_transfer_survives_per_connection_limit(void **state)
{
    (void)state;
    const struct limits lim = {.challenge_ack_limit = 1000, .invalid_ack_ratelimit_us = 100000};
    uint64_t injected;
    struct tt_run *r = transfer_under_attack(&lim, 0x1e57, 8u << 20, 20, &injected);
    double secs = (double)(r->done_at - r->established_at) / 1e6;
    for (int i = 0; i < 2; i++) {
        struct sk_stack_counters k;
        sk_stack_counters(r->sim.stack[i], &k);
        /* One connection per stack: at most one answer per interval since it was set up. */
        uint64_t bound = (r->done_at - r->established_at) / lim.invalid_ack_ratelimit_us + 1;
        fprintf(stderr, "side %d: %.3f s, challenge ACKs %llu (bound %llu), limited %llu + %llu\n",
                i, secs, (unsigned long long)k.tcp_challenge_acks, (unsigned long long)bound,
                (unsigned long long)k.tcp_invalid_acks_limited,
                (unsigned long long)k.tcp_challenge_acks_limited);
        assert_true(k.tcp_challenge_acks <= bound);
        assert_true(k.tcp_invalid_acks_limited > 0);
        /* The link loses nothing: a retransmission could only come from duplicate ACKs or
         * lying D-SACKs that forged segments made this stack send to its real peer. */
        assert_int_equal(k.tcp_retransmits, 0);
    }
    assert_true(injected >= 5000);
    tt_free(r);
}

/* Without the per-connection limit the stack's own holds: in every second of the run at most
 * ceil(L/2) + L - 1 challenge ACKs (two budgets can meet in a sampled second, so the check is
 * per run: at most that many per started second plus one). The transfer still completes
 * byte-exact, but every forged segment outside the window now gets its ACK, which reaches the
 * real peer as a duplicate ACK: its congestion window collapses and 8 MiB take about 17 s of
 * virtual time instead of 0.355 s. That is what the per-connection limit is for. */
static void test_blind_injection_transfer_survives_per_stack_limit(void **state)
{
    (void)state;
    const uint32_t L = 50;
    const struct limits lim = {.challenge_ack_limit = L, .invalid_ack_ratelimit_us = 0};
    uint64_t injected;
    struct tt_run *r = transfer_under_attack(&lim, 0x5eed, 8u << 20, 20, &injected);
    uint64_t secs = (r->done_at - r->established_at + 999999) / 1000000;
    for (int i = 0; i < 2; i++) {
        struct sk_stack_counters k;
        sk_stack_counters(r->sim.stack[i], &k);
        uint64_t bound = (secs + 1) * (L / 2 + L % 2 + L - 1);
        fprintf(stderr, "side %d: %llu s, challenge ACKs %llu (bound %llu), limited %llu\n", i,
                (unsigned long long)secs, (unsigned long long)k.tcp_challenge_acks,
                (unsigned long long)bound, (unsigned long long)k.tcp_challenge_acks_limited);
        assert_true(k.tcp_challenge_acks <= bound);
        assert_true(k.tcp_challenge_acks_limited > 0);
    }
    assert_true(injected >= 5000);
    tt_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_blind_injection_transfer_survives_per_connection_limit,
                                  tt_teardown),
        cmocka_unit_test_teardown(test_blind_injection_transfer_survives_per_stack_limit,
                                  tt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
