/* Packetization-layer path MTU discovery (RFC 4821, RFC 8899 §5.2) between two stacks on the
 * virtual clock. The link from A to B drops every frame larger than the path MTU and sends no
 * ICMP (sk_memlink_faults.mtu: a black hole), so only PLPMTUD can find the size:
 *   - plpmtud 1 (Linux's tcp_mtu_probing=1), IPv4 and IPv6: A's full-size segments vanish;
 *     after the third consecutive retransmission timeout (plpmtu_blackhole_rtos) the MSS drops
 *     to the base (1024 bytes of payload; a 1280-byte packet over IPv6), the transfer goes on,
 *     and probes climb back to the
 *     largest size within the probe threshold of the path MTU;
 *   - a path narrower than the base: the fourth timeout halves the size (ERROR), the search
 *     climbs from there;
 *   - plpmtud 2 with a path below the link: the sizes probed, lost and kept, and each lost
 *     probe leaving cwnd and ssthresh as they were (RFC 4821 §7.6.2);
 *   - plpmtud 2 on a path that carries the link MTU: the search ends (SEARCH_COMPLETE) at
 *     exactly the link MTU.
 * Every expected size comes from RFC 4821 §7.3's binary search, written again here over the
 * headers of RFC 9293 §3.7.1 / RFC 6691 (IP, 20 bytes of TCP, 12 of timestamps), never read
 * back from the stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "ipframes.h"
#include "synack/memlink.h"
#include "wire/wire.h"

#define PORT 80
#define LINK_MTU 1500
#define TCP_TS_HDRS (20 + 12)   /* TCP header and the timestamp option every segment carries */
#define BASE_MSS 1024           /* sk_config's default plpmtu_base_mss (Linux tcp_base_mss) */
#define THRESHOLD 8u            /* plpmtu_probe_threshold (Linux tcp_probe_threshold) */
#define MAX_PROBES 3            /* plpmtu_max_probes (RFC 8899 MAX_PROBES) */
#define BYTES (600u * 1024u)

/* ---- RFC 4821 §7.3, written again: the probes a search sends and where it ends ---- */
struct ref {
    uint32_t probe[64];  /* every probe sent, in order (a lost size MAX_PROBES times) */
    bool ok[64];
    size_t n;
    uint32_t final;      /* the size in use at the end */
};

/* cur: the size in use at the start; [low, high]: the range; high is also the ceiling (the
 * largest size the flow may carry: nothing failed there yet, so it is probed last). */
static struct ref ref_search(uint32_t cur, uint32_t low, uint32_t high, uint32_t path)
{
    struct ref r = {.n = 0};
    uint32_t ceiling = high;
    for (;;) {
        if (high <= cur)
            break;
        if ((low + high) / 2 <= cur)
            low = cur;
        uint32_t probe;
        if (high - low < THRESHOLD) {
            if (high != ceiling)
                break;
            probe = high;
        } else {
            probe = (low + high) / 2;
        }
        if (probe <= path) { /* §7.6.1: acknowledged, the new size */
            r.ok[r.n] = true;
            r.probe[r.n++] = probe;
            low = cur = probe;
        } else { /* §7.6.2 with RFC 8899 MAX_PROBES: lost that many times, out of range */
            for (int i = 0; i < MAX_PROBES; i++) {
                r.ok[r.n] = false;
                r.probe[r.n++] = probe;
            }
            high = probe - 1;
        }
        assert_true(r.n < 60);
    }
    r.final = cur;
    return r;
}

/* ---- IPv6 addresses (RFC 3849) ---- */
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void config(struct sk_config *cfg, int side, bool v6, uint8_t mode, uint16_t mss)
{
    harness_config(cfg, side);
    cfg->mtu = LINK_MTU;
    cfg->plpmtud = mode;
    cfg->mss = mss;
    if (v6) {
        cfg->ip6 = true;
        memcpy(cfg->addr6[0].addr, side == 0 ? A6 : B6, 16);
        cfg->addr6[0].prefix_len = 64;
        cfg->addr6_count = 1;
        cfg->ip6_dad_transmits = 0;
        cfg->ip6_linklocal = SK_IP6_LL_OFF;
    }
}

/* A connects to B (over IPv6 when v6) with plpmtud `mode` on A, which announces `mss` (0:
 * the link's); frames from A larger than path_mtu are dropped silently. */
struct run {
    struct pair *p;
    struct sk_tcp *ca, *cb;
    size_t sent, got;
    uint32_t hdrs;
    /* Lost probes found by duplicate ACKs, and whether each left cwnd and ssthresh alone. */
    unsigned lost_by_dupack, cwnd_kept;
};

static struct run open_run(bool v6, uint8_t mode, uint16_t mss, uint16_t path_mtu)
{
    struct sk_config a, b;
    config(&a, 0, v6, mode, mss);
    config(&b, 1, v6, 0, 0);
    struct run r = {.p = pair_new(&a, &b)};
    struct sk_tcp *l;
    if (v6) {
        assert_int_equal(sk_tcp_listen(r.p->b, PORT, 8, &l), 0);
        struct sk_addr dst;
        memcpy(dst.b, B6, 16);
        assert_int_equal(sk_tcp_connect_addr(r.p->a, 40000, &dst, PORT, NULL, &r.ca), 0);
        pair_run_for(r.p, MS(100));
        assert_int_equal(sk_tcp_accept(l, &r.cb), 0);
    } else {
        pair_establish(r.p, PORT, &r.ca, &l, &r.cb);
    }
    expect_state(r.ca, SK_TCP_ESTABLISHED);
    struct sk_memlink_faults f = {.delay_us = (uint32_t)LINK_DELAY, .mtu = path_mtu};
    sk_memlink_set_faults(r.p->sim.link, SIDE_A, &f);
    r.hdrs = (v6 ? 40u : 20u) + TCP_TS_HDRS;
    return r;
}

static bool seq_ge_(uint32_t x, uint32_t y)
{
    return (int32_t)(x - y) >= 0;
}

static uint8_t byte_at(size_t i)
{
    return (uint8_t)(i * 7 + i / 253);
}

/* Moves BYTES from A to B, B reading as they come, checking each byte; one event at a time,
 * so that every lost probe can be caught with cwnd and ssthresh just before and after. */
static void transfer(struct run *r, sk_time_us limit)
{
    static uint8_t out[65536], in[65536];
    while (r->got < BYTES) {
        while (r->sent < BYTES) {
            size_t n = BYTES - r->sent < sizeof(out) ? BYTES - r->sent : sizeof(out);
            for (size_t i = 0; i < n; i++)
                out[i] = byte_at(r->sent + i);
            ssize_t k = sk_tcp_send(r->ca, out, n);
            if (k <= 0)
                break;
            r->sent += (size_t)k;
        }
        ssize_t k;
        while ((k = sk_tcp_recv(r->cb, in, sizeof(in))) > 0) {
            for (ssize_t i = 0; i < k; i++)
                assert_int_equal(in[i], byte_at(r->got + (size_t)i));
            r->got += (size_t)k;
        }
        struct sk_tcp_info before = info(r->ca);
        if (!pair_step(r->p, limit))
            break;
        struct sk_tcp_info after = info(r->ca);
        /* A probe found lost by duplicate ACKs (no timeout ran in this step). The ACK that
         * shows it may acknowledge data before the probe and grow cwnd as any ACK does; it
         * must not reduce cwnd or ssthresh. */
        if (after.plpmtu_probes_lost > before.plpmtu_probes_lost &&
            after.total_retransmits > before.total_retransmits && after.retransmits == 0) {
            r->lost_by_dupack++;
            if (after.cwnd >= before.cwnd && after.ssthresh == before.ssthresh)
                r->cwnd_kept++;
        }
    }
    assert_int_equal(r->got, BYTES);
}

/* The probes A sent (SK_SEG_WHY_PMTU_PROBE), as packet sizes, in order; and for each lost
 * one, that its bytes went again at once in smaller segments, as a fast retransmit. */
static size_t trace_probes(struct run *r, uint32_t *sizes, size_t cap, uint32_t path_mtu)
{
    size_t n = 0;
    const struct recorder *rec = &r->p->rec;
    for (size_t i = 0; i < rec->n; i++) {
        const struct rec_ev *e = &rec->ev[i];
        if (e->side != SIDE_A || e->ev.kind != SK_TRACE_SEG_OUT ||
            e->ev.why != SK_SEG_WHY_PMTU_PROBE)
            continue;
        uint32_t size = e->ev.u.seg.len + r->hdrs;
        assert_true(n < cap);
        sizes[n++] = size;
        if (size <= path_mtu)
            continue;
        bool repaired = false;
        for (size_t j = i + 1; j < rec->n && !repaired; j++) {
            const struct rec_ev *f = &rec->ev[j];
            if (f->side == SIDE_A && f->ev.kind == SK_TRACE_SEG_OUT &&
                f->ev.u.seg.seq == e->ev.u.seg.seq)
                repaired = f->ev.u.seg.len < e->ev.u.seg.len &&
                           f->ev.u.seg.len + r->hdrs <= path_mtu &&
                           f->ev.why == SK_SEG_WHY_FAST_RETRANSMIT;
        }
        assert_true(repaired);
    }
    return n;
}

static void expect_probes(struct run *r, const struct ref *want, uint32_t path_mtu)
{
    uint32_t got[64];
    size_t n = trace_probes(r, got, 64, path_mtu);
    if (n != want->n || memcmp(got, want->probe, n * sizeof(got[0])) != 0) {
        struct sk_tcp_info i = info(r->ca);
        fprintf(stderr, "state %u plpmtu %u low %u high %u probe %u sent %u lost %u cwnd %u mss %u rtx %llu\n",
                i.plpmtu_state, i.plpmtu, i.plpmtu_search_low, i.plpmtu_search_high,
                i.plpmtu_probe, i.plpmtu_probes_sent, i.plpmtu_probes_lost, i.cwnd, i.snd_mss,
                (unsigned long long)i.total_retransmits);
        fprintf(stderr, "probes sent:");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %u", got[i]);
        fprintf(stderr, "\nRFC 4821 §7.3 says:");
        for (size_t i = 0; i < want->n; i++)
            fprintf(stderr, " %u%s", want->probe[i], want->ok[i] ? "" : "x");
        fprintf(stderr, "\n");
        fail();
    }
}

static unsigned lost_in(const struct ref *want)
{
    unsigned lost = 0;
    for (size_t i = 0; i < want->n; i++)
        lost += !want->ok[i];
    return lost;
}

/* The sizes of A's data segments up to the black-hole reaction: the first flight and the first
 * two timeouts' retransmissions are full-size (and lost); the third timeout's is at the base. */
static void expect_black_hole(struct run *r, uint32_t base_mtu)
{
    uint32_t full = LINK_MTU - r->hdrs, base = base_mtu - r->hdrs;
    unsigned rto = 0;
    const struct recorder *rec = &r->p->rec;
    for (size_t i = 0; i < rec->n && rto < 3; i++) {
        const struct rec_ev *e = &rec->ev[i];
        if (e->side != SIDE_A || e->ev.kind != SK_TRACE_SEG_OUT || e->ev.why != SK_SEG_WHY_RTO)
            continue;
        rto++;
        assert_int_equal(e->ev.u.seg.len, rto < 3 ? full : base);
    }
    assert_int_equal(rto, 3);
}

static void black_hole_case(bool v6)
{
    const uint16_t path = 1400;
    struct run r = open_run(v6, 1, 0, path);
    assert_int_equal(info(r.ca).snd_mss, LINK_MTU - r.hdrs);
    assert_int_equal(info(r.ca).plpmtu_state, SK_PLPMTU_DISABLED);
    transfer(&r, pair_now(r.p) + SEC(600));
    /* After the black hole: the size in use is the base (for IPv6 never under 1280, RFC 8899
     * §5.1.2's BASE_PLPMTU, since every IPv6 path carries it, RFC 8200 §5); the ceiling the
     * link MTU (and B's MSS option, 1460 or 1440: the same 1500-byte packet). */
    uint32_t base = BASE_MSS + r.hdrs;
    if (v6 && base < 1280)
        base = 1280;
    expect_black_hole(&r, base);
    struct ref want = ref_search(base, base, LINK_MTU, path);
    expect_probes(&r, &want, path);
    struct sk_tcp_info i = info(r.ca);
    assert_int_equal(i.plpmtu_state, SK_PLPMTU_SEARCH_COMPLETE);
    assert_int_equal(i.plpmtu, want.final);
    assert_int_equal(i.snd_mss, want.final - r.hdrs);
    assert_true(want.final <= path && want.final + THRESHOLD > path); /* §7.3's promise */
    assert_int_equal(i.plpmtu_probes_sent, want.n);
    assert_int_equal(i.plpmtu_probes_lost, lost_in(&want));
    assert_int_equal(r.lost_by_dupack, r.cwnd_kept);
    pair_free(r.p);
}

static void test_black_hole_found_ipv4(void **state)
{
    (void)state;
    black_hole_case(false);
}

static void test_black_hole_found_ipv6(void **state)
{
    (void)state;
    black_hole_case(true);
}

/* A path narrower than the base (900 bytes): the third timeout drops to the base (1076, still
 * too large), the fourth halves it to the floor (ERROR: max(1076 / 2, pmtu_min 552) = 552, as
 * Linux's tcp_mtu_probing halves search_low), an ACK confirms 552 and the search climbs from
 * there to within the threshold of 900. */
static void test_black_hole_below_the_base(void **state)
{
    (void)state;
    const uint16_t path = 900;
    struct run r = open_run(false, 1, 0, path);
    transfer(&r, pair_now(r.p) + SEC(600));
    uint32_t base = BASE_MSS + r.hdrs, floor = 552;
    uint32_t half = base / 2 > floor ? base / 2 : floor;
    unsigned rto = 0;
    const struct recorder *rec = &r.p->rec;
    for (size_t i = 0; i < rec->n && rto < 4; i++) {
        const struct rec_ev *e = &rec->ev[i];
        if (e->side != SIDE_A || e->ev.kind != SK_TRACE_SEG_OUT || e->ev.why != SK_SEG_WHY_RTO)
            continue;
        rto++;
        uint32_t want = rto < 3 ? LINK_MTU : rto == 3 ? base : half;
        assert_int_equal(e->ev.u.seg.len, want - r.hdrs);
    }
    assert_int_equal(rto, 4);
    struct ref want = ref_search(half, half, LINK_MTU, path);
    expect_probes(&r, &want, path);
    struct sk_tcp_info i = info(r.ca);
    assert_int_equal(i.plpmtu_state, SK_PLPMTU_SEARCH_COMPLETE);
    assert_int_equal(i.plpmtu, want.final);
    assert_true(want.final <= path && want.final + THRESHOLD > path);
    pair_free(r.p);
}

/* plpmtud 2: A announces MSS 1000, so it starts sending 1000-byte segments (less the 12 of
 * timestamps), below what B's MSS option and the link allow; the path carries 1300. */
static void test_search_below_link_mtu_loses_probes_without_congestion(void **state)
{
    (void)state;
    const uint16_t path = 1300;
    struct run r = open_run(false, 2, 1000, path);
    uint32_t start = 1000 - 12 + r.hdrs;
    assert_int_equal(info(r.ca).plpmtu, start);
    transfer(&r, pair_now(r.p) + SEC(600));
    /* search_low starts at the smaller of the base and the size in use. */
    uint32_t base = BASE_MSS + r.hdrs;
    struct ref want = ref_search(start, start < base ? start : base, LINK_MTU, path);
    expect_probes(&r, &want, path);
    struct sk_tcp_info i = info(r.ca);
    assert_int_equal(i.plpmtu_state, SK_PLPMTU_SEARCH_COMPLETE);
    assert_int_equal(i.plpmtu, want.final);
    assert_int_equal(i.snd_mss, want.final - r.hdrs);
    assert_true(want.final <= path && want.final + THRESHOLD > path);
    /* Every probe lost was found by duplicate ACKs and left cwnd and ssthresh unchanged
     * (RFC 4821 §7.6.2): no timeout, no recovery. */
    assert_true(lost_in(&want) > 0);
    assert_int_equal(i.plpmtu_probes_lost, lost_in(&want));
    assert_int_equal(r.lost_by_dupack, lost_in(&want));
    assert_int_equal(r.cwnd_kept, lost_in(&want));
    pair_free(r.p);
}

/* plpmtud 2 on a path that carries the link MTU: the search climbs from the announced size to
 * exactly 1500 (the ceiling is probed last) and completes there. */
static void test_full_path_completes_at_link_mtu(void **state)
{
    (void)state;
    struct run r = open_run(false, 2, 1000, 0);
    uint32_t start = 1000 - 12 + r.hdrs;
    transfer(&r, pair_now(r.p) + SEC(600));
    uint32_t base = BASE_MSS + r.hdrs;
    struct ref want = ref_search(start, start < base ? start : base, LINK_MTU, LINK_MTU);
    expect_probes(&r, &want, LINK_MTU);
    assert_int_equal(want.final, LINK_MTU);
    struct sk_tcp_info i = info(r.ca);
    assert_int_equal(i.plpmtu_state, SK_PLPMTU_SEARCH_COMPLETE);
    assert_int_equal(i.plpmtu, LINK_MTU);
    assert_int_equal(i.snd_mss, LINK_MTU - r.hdrs);
    assert_int_equal(i.plpmtu_probes_lost, 0);
    pair_free(r.p);
}

/* B's router says (ICMP "fragmentation needed", RFC 1191) the path carries 1200 bytes, quoting
 * a segment in flight. With plpmtud 2 the search then stays at or below 1200 and ends exactly
 * there (the reported size is the new ceiling, probed last); once plpmtu_probe_interval_us has
 * passed, the search starts again with the ceiling worked out afresh (the report aged out), and
 * probes raise the size to the link MTU the path really carries: only probing raises it. */
static void icmp_frag_needed(struct run *r, uint32_t mtu)
{
    struct sk_addr la, ra;
    sk_tcp_get_addrs(r->ca, &la, &ra);
    struct sk_tcp_info i = info(r->ca);
    uint8_t tcp8[8], q[28], m[64], pkt[128];
    sk_put16(tcp8, i.lport);
    sk_put16(tcp8 + 2, i.rport);
    sk_put32(tcp8 + 4, i.snd_una); /* RFC 5927 §4.1: a sequence number in flight */
    fr_ip(q, ADDR_A, ADDR_B, SK_IPPROTO_TCP, 1, 0x4000, 0, tcp8, 8);
    sk_put16(q + 2, 1040); /* the quoted datagram's length */
    size_t n = fr_icmp(m, SK_ICMP_DEST_UNREACH, 4, mtu, q, sizeof(q));
    n = fr_ip(pkt, ADDR_B, ADDR_A, SK_IPPROTO_ICMP, 9, 0, 0, m, n);
    sk_stack_input(r->p->a, pkt, n, pair_now(r->p));
}

static void test_icmp_lowers_the_ceiling_and_probing_raises_it_later(void **state)
{
    (void)state;
    struct run r = open_run(false, 2, 1000, 0);
    uint32_t start = 1000 - 12 + r.hdrs;
    static uint8_t first[4000];
    assert_int_equal(sk_tcp_send(r.ca, first, sizeof(first)), (ssize_t)sizeof(first));
    assert_true(info(r.ca).snd_una != info(r.ca).snd_nxt);
    icmp_frag_needed(&r, 1200);
    struct sk_tcp_info i = info(r.ca);
    assert_int_equal(i.plpmtu_search_high, 1200);
    assert_int_equal(i.snd_mss, 1000 - 12); /* 1200 is above the size in use: no change */
    pair_run_for(r.p, SEC(1));
    uint8_t sink[4096];
    size_t got = 0;
    ssize_t k;
    while ((k = sk_tcp_recv(r.cb, sink, sizeof(sink))) > 0)
        got += (size_t)k;
    assert_int_equal(got, sizeof(first));
    transfer(&r, pair_now(r.p) + SEC(600));
    uint32_t base = BASE_MSS + r.hdrs;
    struct ref want = ref_search(start, start < base ? start : base, 1200, 1200);
    expect_probes(&r, &want, LINK_MTU);
    assert_int_equal(want.final, 1200);
    i = info(r.ca);
    assert_int_equal(i.plpmtu_state, SK_PLPMTU_SEARCH_COMPLETE);
    assert_int_equal(i.plpmtu, 1200);
    /* Ten minutes later (RFC 8899 PMTU_RAISE_TIMER), more data: the search runs again from
     * 1200 to the link MTU. */
    pair_run_for(r.p, SEC(600));
    size_t before = (size_t)info(r.ca).plpmtu_probes_sent;
    r.sent = r.got = 0;
    transfer(&r, pair_now(r.p) + SEC(600));
    struct ref again = ref_search(1200, 1200, LINK_MTU, LINK_MTU);
    i = info(r.ca);
    assert_int_equal(i.plpmtu_probes_sent - before, again.n);
    assert_int_equal(i.plpmtu_state, SK_PLPMTU_SEARCH_COMPLETE);
    assert_int_equal(i.plpmtu, LINK_MTU);
    assert_int_equal(i.snd_mss, LINK_MTU - r.hdrs);
    pair_free(r.p);
}

/* Segment by segment, a lost probe (plpmtud 2; A announces 1000, so its segments carry 988 bytes
 * besides the timestamps, a 1040-byte packet; the path carries 1200). search_low = min(base
 * 1076, 1040) = 1040, search_high 1500: the first probe is (1040 + 1500) / 2 = 1270 bytes, 1218
 * of payload, and goes first, as the initial window (RFC 6928: min(10 * 988, 14600) = 9880)
 * holds it and the data queued holds DupThresh + 1 full segments after it. The eight full
 * segments after it (8 * 988 = 7904 of the 8662 left) draw duplicate ACKs; the first two each
 * let one more segment out (RFC 3042), the third shows the probe lost: its 1218 bytes go again
 * at once as 988 + 230 (a fast retransmit), cwnd and ssthresh stay as they were, no recovery
 * starts (RFC 4821 §7.6.2), and the repair's ACK takes everything. */
static void test_lost_probe_segment_by_segment(void **state)
{
    (void)state;
    struct run r = open_run(false, 2, 1000, 1200);
    uint32_t a = info(r.ca).snd_nxt, b = info(r.cb).snd_nxt;
    struct sk_tcp_info i0 = info(r.ca);
    assert_int_equal(i0.cwnd, 9880);
    static uint8_t data[64 * 1024];
    assert_int_equal(sk_tcp_send(r.ca, data, 20000), 20000);
    const struct rec_ev *probe = expect_data(r.p, A_TO_B, ACK, a, b, 1218);
    assert_int_equal(probe->ev.why, SK_SEG_WHY_PMTU_PROBE);
    assert_int_equal(info(r.ca).plpmtu_probe, 1270);
    for (uint32_t k = 0; k < 8; k++)
        assert_int_equal(expect_data(r.p, A_TO_B, ACK, a + 1218 + k * 988, b, 988)->ev.why,
                         SK_SEG_WHY_NEW_DATA);
    expect_no_seg(r.p, A_TO_B);
    pair_run_for(r.p, 2 * LINK_DELAY);
    /* Limited transmit: new segments on the first two duplicate ACKs (RFC 3042; a loss
     * detector that calls the loss sooner lets fewer out). */
    uint32_t next = a + 1218 + 8 * 988, lt = 0;
    for (const struct sk_trace_segment *g; (g = peek_seg(r.p, A_TO_B)) && g->seq != a; lt++) {
        assert_true(lt < 2);
        assert_int_equal(expect_data(r.p, A_TO_B, ACK, next + lt * 988, b, 988)->ev.why,
                         SK_SEG_WHY_NEW_DATA);
    }
    /* Then the loss: the probe's bytes again, in segments of the MSS in use. */
    const struct rec_ev *r1 = expect_data(r.p, A_TO_B, ACK, a, b, 988);
    const struct rec_ev *r2 = expect_data(r.p, A_TO_B, ACK, a + 988, b, 1218 - 988);
    assert_int_equal(r1->ev.why, SK_SEG_WHY_FAST_RETRANSMIT);
    assert_int_equal(r2->ev.why, SK_SEG_WHY_FAST_RETRANSMIT);
    struct sk_tcp_info i1 = info(r.ca);
    assert_int_equal(i1.cwnd, i0.cwnd);
    assert_int_equal(i1.ssthresh, i0.ssthresh);
    assert_int_equal(i1.plpmtu_probes_lost, 1);
    assert_int_equal(i1.plpmtu_probe, 0);
    assert_int_equal(i1.snd_mss, 988);
    pair_run_for(r.p, 2 * LINK_DELAY);
    assert_true(seq_ge_(info(r.ca).snd_una, next + lt * 988));
    assert_int_equal(info(r.ca).retransmits, 0);
    pair_free(r.p);
}

/* Off (the default): no probe ever leaves, the MSS stays the handshake's. */
static void test_off_by_default(void **state)
{
    (void)state;
    struct sk_config d;
    sk_config_default(&d);
    assert_int_equal(d.plpmtud, 0);
    struct run r = open_run(false, 0, 1000, 0);
    transfer(&r, pair_now(r.p) + SEC(600));
    uint32_t got[4];
    assert_int_equal(trace_probes(&r, got, 4, LINK_MTU), 0);
    assert_int_equal(info(r.ca).snd_mss, 1000 - 12);
    assert_int_equal(info(r.ca).plpmtu_state, SK_PLPMTU_DISABLED);
    pair_free(r.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_black_hole_found_ipv4),
        TEST(test_black_hole_found_ipv6),
        TEST(test_black_hole_below_the_base),
        TEST(test_search_below_link_mtu_loses_probes_without_congestion),
        TEST(test_lost_probe_segment_by_segment),
        TEST(test_full_path_completes_at_link_mtu),
        TEST(test_icmp_lowers_the_ceiling_and_probing_raises_it_later),
        TEST(test_off_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
