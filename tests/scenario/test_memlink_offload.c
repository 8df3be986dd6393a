/* Link offloads end to end (issue 12): two stacks on the in-memory link with checksum and
 * segmentation offload on, off and mixed, under loss, reordering, duplication and corruption;
 * the software segmenter checked piece by piece against RFC arithmetic done here; the
 * link's word on checksums honoured per frame; coalesced segments on input.
 *
 * Every expected value comes from outside the code under test: the stream's bytes (fx_byte),
 * RFC 1071 sums computed by the routine below (byte at a time, big-endian words, as the RFC
 * states it), RFC 9293 sequence arithmetic, RFC 5681 §4.2's ACK rule.
 */
#include "fixture.h"
#include "ipframes.h"
#include "synack/udp.h"
#include "synack/gso.h"
#include "synack/memlink.h"
#include "ref_csum.h"

/* A whole segment sums to 0xffff when its checksum is right (RFC 1071 §1). */
static bool ref_tcp_ok(const uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)ip[2] << 8 | ip[3];
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)((tot - ihl) >> 8);
    pseudo[11] = (uint8_t)(tot - ihl);
    return ref_sum(ref_sum(0, pseudo, 12), ip + ihl, tot - ihl) == 0xffff;
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the segmenter ---- */

struct pieces {
    uint8_t buf[64][1600];
    size_t len[64];
    int n;
};
static void keep_piece(void *ctx, const uint8_t *frame, size_t len)
{
    struct pieces *p = ctx;
    assert_true(p->n < 64 && len <= sizeof(p->buf[0]));
    memcpy(p->buf[p->n], frame, len);
    p->len[p->n++] = len;
}

/* A super-segment built here by hand: IPv4 (id 0x1234, DF), TCP with NOP,NOP,TS, flags
 * CWR|ACK|PSH|FIN, payload bytes fx_byte(k), the checksum field holding the pseudo-header sum
 * of the whole length, as virtio's NEEDS_CSUM wants it. */
static size_t build_super(uint8_t *f, size_t payload, uint32_t seq)
{
    size_t ihl = 20, thl = 32, tot = ihl + thl + payload;
    memset(f, 0, ihl + thl);
    f[0] = 0x45;
    f[2] = (uint8_t)(tot >> 8);
    f[3] = (uint8_t)tot;
    f[4] = 0x12, f[5] = 0x34, f[6] = 0x40, f[8] = 64, f[9] = 6;
    uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    memcpy(f + 12, addrs, 8);
    uint16_t ipc = (uint16_t)~ref_sum(0, f, 20);
    f[10] = (uint8_t)(ipc >> 8), f[11] = (uint8_t)ipc;
    uint8_t *t = f + ihl;
    t[0] = 0x9c, t[1] = 0x40, t[2] = 0, t[3] = 80;
    t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[12] = (uint8_t)(thl / 4 << 4);
    t[13] = SK_TCP_CWR | SK_TCP_ACK | SK_TCP_PSH | SK_TCP_FIN;
    t[14] = 0xff, t[15] = 0xff;
    uint8_t opt[12] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    memcpy(t + 20, opt, 12);
    fx_fill(t + thl, 0, payload);
    uint8_t pseudo[12];
    memcpy(pseudo, addrs, 8);
    pseudo[8] = 0, pseudo[9] = 6;
    pseudo[10] = (uint8_t)((thl + payload) >> 8), pseudo[11] = (uint8_t)(thl + payload);
    uint16_t ps = (uint16_t)ref_sum(0, pseudo, 12);
    t[16] = (uint8_t)(ps >> 8), t[17] = (uint8_t)ps;
    return tot;
}

static void test_segmenter_follows_the_rfcs(void **state)
{
    (void)state;
    static uint8_t f[65536];
    static struct pieces got;
    uint8_t scratch[1600];
    const size_t gso = 1448, payload = 10 * 1448 + 333; /* 11 pieces, the last short */
    const uint32_t seq0 = 0xfffff000u;                 /* wraps inside the train */
    size_t len = build_super(f, payload, seq0);
    struct sk_frame_meta m = {.flags = SK_FRAME_CSUM_PARTIAL, .gso_type = SK_GSO_TCPV4,
                              .hdr_len = 52, .gso_size = (uint16_t)gso, .csum_start = 20,
                              .csum_offset = 16};
    got.n = 0;
    assert_int_equal(sk_gso_segment(f, len, &m, 0, scratch, sizeof(scratch), keep_piece, &got),
                     11);
    assert_int_equal(got.n, 11);
    for (int i = 0; i < got.n; i++) {
        const uint8_t *ip = got.buf[i], *t = ip + 20;
        size_t plen = i < 10 ? gso : 333;
        assert_int_equal(got.len[i], 52 + plen);
        assert_int_equal((size_t)ip[2] << 8 | ip[3], 52 + plen);         /* total length */
        assert_int_equal((uint16_t)(ip[4] << 8 | ip[5]), 0x1234 + i);   /* id + i */
        assert_int_equal(ref_sum(0, ip, 20), 0xffff);                    /* IP checksum */
        assert_int_equal(get32(t + 4), (uint32_t)(seq0 + (uint32_t)(i * gso))); /* SEG.SEQ */
        uint8_t want = SK_TCP_ACK | (i == 0 ? SK_TCP_CWR : 0) |
                       (i == 10 ? SK_TCP_PSH | SK_TCP_FIN : 0);
        assert_int_equal(t[13], want);
        assert_memory_equal(t + 20, f + 40, 12);                         /* same options */
        assert_true(ref_tcp_ok(ip));                                     /* TCP checksum */
        for (size_t k = 0; k < plen; k++)
            assert_int_equal(t[32 + k], fx_byte(i * gso + k));
    }
    /* Completing the checksum of the super-segment itself gives the RFC's checksum. */
    assert_int_equal(sk_csum_complete(f, len, &m), 0);
    assert_true(ref_tcp_ok(f));
    /* Malformed: no partial flag, a csum_start that is not the TCP header, no room. */
    struct sk_frame_meta bad = m;
    bad.flags = 0;
    assert_int_equal(sk_gso_segment(f, len, &bad, 0, scratch, sizeof(scratch), keep_piece, &got),
                     -EINVAL);
    bad = m;
    bad.csum_start = 24;
    assert_int_equal(sk_gso_segment(f, len, &bad, 0, scratch, sizeof(scratch), keep_piece, &got),
                     -EINVAL);
    assert_int_equal(sk_gso_segment(f, len, &m, 0, scratch, 1000, keep_piece, &got), -ENOSPC);
}

/* ---- bulk transfers through the link ---- */

static const struct sk_link_caps caps_all = {.tso_max = 65535, .tx_csum = true, .rx_csum = true,
                                             .rx_large = true};

struct bulk_result {
    struct sk_stack_counters a, b;
    struct sk_memlink_stats la;
};

/* Moves `total` stream bytes from a to b; every byte is checked on arrival (fx_recv_check). */
static struct bulk_result bulk(const struct sk_link_caps *ca, const struct sk_link_caps *cb,
                               size_t total, bool faults)
{
    struct sk_config c[2];
    harness_config(&c[0], 0);
    harness_config(&c[1], 1);
    c[0].caps = *ca;
    c[1].caps = *cb;
    struct fx_pair f = fx_pair_open(&(struct fx_pair_opts){.ca = &c[0], .cb = &c[1],
                                                           .sndbuf = 1u << 20,
                                                           .rcvbuf = 1u << 20});
    struct sk_memlink_faults fa = {.delay_us = 1000};
    if (faults) {
        fa.loss = 0.01;
        fa.reorder = 0.02;
        fa.reorder_us = 700;
        fa.dup = 0.005;
        fa.corrupt = 0.005;
    }
    struct sk_memlink_faults fb = {.delay_us = 1000, .loss = faults ? 0.01 : 0};
    sk_memlink_set_faults(f.p->sim.link, 0, &fa);
    sk_memlink_set_faults(f.p->sim.link, 1, &fb);
    size_t sent = 0, got = 0;
    sk_time_us limit = pair_now(f.p) + SEC(600);
    while (got < total) {
        if (sent < total)
            sent += fx_send(f.ca, sent, total - sent < (1u << 20) ? total - sent : (1u << 20));
        fx_recv_check(f.cb, &got);
        assert_true(pair_now(f.p) < limit);
        pair_step(f.p, limit);
    }
    struct bulk_result r;
    sk_stack_counters(f.p->a, &r.a);
    sk_stack_counters(f.p->b, &r.b);
    sk_memlink_get_stats(f.p->sim.link, 0, &r.la);
    printf("  %zu bytes in %.3f s virtual: a frames_out %llu tso %llu segs_out %llu rtx %llu; "
           "link corrupted %llu cut %llu; b drops %llu\n",
           total, (double)(pair_now(f.p) - T0) / 1e6, (unsigned long long)r.a.frames_out,
           (unsigned long long)r.a.tcp_tso_segs, (unsigned long long)r.a.tcp_segs_out,
           (unsigned long long)r.a.tcp_retransmits, (unsigned long long)r.la.corrupted,
           (unsigned long long)r.la.gso_segmented, (unsigned long long)r.b.drops_total);
    pair_free(f.p);
    return r;
}

#define BULK (24u << 20)

static void test_bulk_caps_on_with_faults(void **state)
{
    (void)state;
    struct bulk_result r = bulk(&caps_all, &caps_all, BULK, true);
    assert_true(r.a.tcp_tso_segs > 0);
    assert_true(r.a.tcp_retransmits > 0);
    /* Corrupted frames reached b unvouched and its own verification threw them away. */
    assert_true(r.la.corrupted > 0);
    assert_true(r.b.drops[SK_DROP_TCP_CHECKSUM] + r.b.drops[SK_DROP_IP_CHECKSUM] > 0);
    assert_int_equal(r.la.gso_segmented, 0); /* b takes large frames: nothing cut */
}

/* Caps off both ways, then a sender with TSO and checksum offload towards a receiver with
 * none: the link cuts every super-segment (sk_gso_segment) and finishes every checksum, which
 * b verifies. A super-segment ends where the MSS-sized train would end a segment, so the
 * pieces on the wire are the very frames the plain sender sent, the link's seeded faults hit
 * the same ones, and both runs go identically, segment for segment. */
static void test_bulk_caps_off_and_mixed(void **state)
{
    (void)state;
    const struct sk_link_caps none = {0};
    struct bulk_result off = bulk(&none, &none, BULK, true);
    assert_int_equal(off.a.tcp_tso_segs, 0);
    assert_true(off.la.corrupted > 0);
    assert_true(off.b.drops[SK_DROP_TCP_CHECKSUM] + off.b.drops[SK_DROP_IP_CHECKSUM] > 0);

    struct bulk_result mix = bulk(&caps_all, &none, BULK, true);
    assert_true(mix.a.tcp_tso_segs > 0);
    assert_true(mix.la.gso_segmented > 0);
    assert_int_equal(mix.la.gso_errors, 0);
    assert_int_equal(mix.b.drops[SK_DROP_LINK_OVERSIZE], 0);
    assert_true(mix.a.frames_out < off.a.frames_out);
    assert_int_equal(mix.la.sent, off.la.sent);
    assert_int_equal(mix.la.corrupted, off.la.corrupted);
    assert_int_equal(mix.a.tcp_segs_out, off.a.tcp_segs_out);
    assert_int_equal(mix.a.tcp_retransmits, off.a.tcp_retransmits);
    assert_int_equal(mix.b.tcp_segs_in, off.b.tcp_segs_in);
    assert_memory_equal(mix.b.drops, off.b.drops, sizeof(off.b.drops));
}

/* The same bytes on a clean link: with TSO the sender hands the link far fewer frames. */
static void test_tso_fewer_frames(void **state)
{
    (void)state;
    const struct sk_link_caps none = {0};
    struct bulk_result on = bulk(&caps_all, &caps_all, 8u << 20, false);
    struct bulk_result off = bulk(&none, &none, 8u << 20, false);
    assert_int_equal(off.b.drops_total, 0);
    assert_int_equal(on.b.drops_total, 0);
    assert_true(on.a.frames_out * 4 < off.a.frames_out);
    /* tcp_segs_out counts what the link cuts, so it stays of the same order. */
    assert_true(on.a.tcp_segs_out * 2 > off.a.tcp_segs_out);
}

/* ---- input: the link's word, per frame ---- */

static struct fx accept_with(const struct sk_link_caps *caps)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.caps = *caps;
    return fx_accept(&cfg, NULL);
}

/* The peer's stream bytes [off, off + len) as one frame handed in with `flags`. */
static void peer_frame(struct fx *f, size_t off, size_t len, bool bad_csum, uint8_t flags)
{
    static uint8_t data[65536], frame[65600];
    fx_fill(data, off, len);
    struct rseg s = {.flags = ACK | PSH, .seq = FX_RCV(f, off), .ack = FX_SND(f, 0),
                     .data = data, .len = len, .bad_csum = bad_csum};
    size_t n = raw_build(frame, sizeof(frame), &s);
    struct sk_frame_meta m = {.flags = flags};
    sk_stack_input_meta(f->r->st, frame, n, &m, f->r->now);
}

static uint64_t drop_count(struct fx *f, enum sk_drop_reason r)
{
    struct sk_stack_counters c;
    sk_stack_counters(f->r->st, &c);
    return c.drops[r];
}

/* A segment whose checksum is wrong is dropped unless its own frame says the link verified
 * it; the frame after it, without the mark, is verified again. */
static void test_checksum_verification_is_per_frame(void **state)
{
    (void)state;
    const struct sk_link_caps rx = {.rx_csum = true};
    struct fx f = accept_with(&rx);
    size_t got = 0;
    peer_frame(&f, 0, 100, true, 0);
    assert_int_equal(drop_count(&f, SK_DROP_TCP_CHECKSUM), 1);
    assert_int_equal(fx_recv_check(f.c, &got), 0);
    peer_frame(&f, 0, 100, true, SK_FRAME_CSUM_VALID);   /* the same bytes, vouched for */
    assert_int_equal(fx_recv_check(f.c, &got), 100);
    peer_frame(&f, 100, 100, true, SK_FRAME_CSUM_PARTIAL); /* a local sender's frame */
    assert_int_equal(fx_recv_check(f.c, &got), 100);
    peer_frame(&f, 200, 100, true, 0);                   /* and the next is checked again */
    assert_int_equal(drop_count(&f, SK_DROP_TCP_CHECKSUM), 2);
    assert_int_equal(fx_recv_check(f.c, &got), 0);
    fx_free(&f);

    /* A link that never offered rx_csum is not believed. */
    const struct sk_link_caps none = {0};
    f = accept_with(&none);
    peer_frame(&f, 0, 100, true, SK_FRAME_CSUM_VALID);
    assert_int_equal(drop_count(&f, SK_DROP_TCP_CHECKSUM), 1);
    fx_free(&f);
}

/* A frame longer than the MTU only from a link that coalesces (caps.rx_large). */
static void test_large_frames_only_with_rx_large(void **state)
{
    (void)state;
    const struct sk_link_caps none = {0}, large = {.rx_large = true};
    struct fx f = accept_with(&none);
    size_t got = 0;
    peer_frame(&f, 0, 8000, false, 0);
    assert_int_equal(drop_count(&f, SK_DROP_LINK_OVERSIZE), 1);
    assert_int_equal(fx_recv_check(f.c, &got), 0);
    fx_free(&f);
    f = accept_with(&large);
    peer_frame(&f, 0, 65535 - 40, false, 0); /* the largest IPv4 datagram, verified */
    assert_int_equal(drop_count(&f, SK_DROP_LINK_OVERSIZE), 0);
    assert_int_equal(fx_recv_check(f.c, &got), 65535 - 40);
    fx_free(&f);
}

/* RFC 5681 §4.2: an ACK at least for every second full-sized segment. A coalesced segment of
 * two MSS (1460 each: we announced 1460, the peer sends no options) is two segments: it is
 * acknowledged at once; a single one waits for the delayed-ACK timer. */
static void test_coalesced_segment_counts_as_several(void **state)
{
    (void)state;
    const struct sk_link_caps large = {.rx_large = true, .rx_csum = true};
    struct fx f = accept_with(&large);
    size_t got = 0;
    fx_take(f.r, NULL);
    peer_frame(&f, 0, 1460, false, 0);
    assert_int_equal(fx_take(f.r, NULL), 0); /* one segment: the ACK is delayed */
    raw_run_for(f.r, SEC(1));
    fx_expect_data(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 1460), 0);
    peer_frame(&f, 1460, 2 * 1460, false, SK_FRAME_CSUM_VALID);
    fx_expect_data(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 3 * 1460), 0); /* at once */
    /* The same through the header-predicted path (the receive ring now has room for it, so
     * the segment is predicted): it counted such a segment as one and left its ACK to the
     * delayed-ACK timer, so that a Linux sender over TAP with GRO retransmitted its tail
     * (tests/interop/test_slow_reader.sh found it). */
    struct sk_stack_counters before, after;
    sk_stack_counters(f.r->st, &before);
    peer_frame(&f, 3 * 1460, 2 * 1460, false, SK_FRAME_CSUM_VALID);
    sk_stack_counters(f.r->st, &after);
    assert_int_equal(after.tcp_fastpath_data, before.tcp_fastpath_data + 1);
    fx_expect_data(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 5 * 1460), 0); /* at once */
    assert_int_equal(fx_recv_check(f.c, &got), 5 * 1460);
    fx_free(&f);
}

/* ---- Ethernet framing, ARP ---- */

static void all_caps(struct sk_config *c)
{
    c->caps = caps_all;
    c->sndbuf_bytes = c->rcvbuf_bytes = 256u << 10;
}

/* Two Ethernet stacks with every offload; the link tells B's side nothing, so it cuts A's
 * super-segments (the IPv4 header at 14) and finishes every checksum, and B verifies them
 * all. A's first segments wait in its ARP queue: their partial checksums must survive it. */
static void test_ethernet_segmenter_and_arp_queue(void **state)
{
    (void)state;
    struct ethpair *p = ethpair_new(all_caps);
    const struct sk_link_caps none = {0};
    sk_memlink_set_caps(p->link, 1, &none, SK_ETH_HLEN);
    struct sk_tcp *l, *c, *s;
    assert_int_equal(sk_tcp_listen(p->b->st, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_connect(p->a->st, 0, ETH_B_ADDR, 80, &c), 0);
    ethpair_run_until(p, p->now + 100000);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    size_t sent = 0, got = 0, total = 4u << 20;
    while (got < total) {
        sent += fx_send(c, sent, total - sent);
        ethpair_run_until(p, p->now + 1000);
        fx_recv_check(s, &got);
        assert_true(p->now < 1000000 + SEC(60));
    }
    struct sk_stack_counters ca = ethstack_counters(p->a), cb = ethstack_counters(p->b);
    struct sk_memlink_stats la;
    sk_memlink_get_stats(p->link, 0, &la);
    assert_true(ca.tcp_tso_segs > 0);
    assert_true(la.gso_segmented > 0);
    assert_int_equal(la.gso_errors, 0);
    assert_int_equal(cb.drops_total, 0); /* every checksum B verified was right */
    assert_int_equal(ca.arp_out, 1);
    sk_tcp_abort(c);
    sk_tcp_abort(s);
    sk_tcp_close(l);
    ethpair_free(p);
}

/* UDP with caps.tx_csum: a datagram that fits the MTU leaves with a partial checksum (the
 * link finishes it for B, which verifies), a larger one is fragmented and finished by the
 * stack. Both arrive intact and B drops nothing. */
static void test_udp_partial_checksum(void **state)
{
    (void)state;
    struct sk_config ca, cb;
    harness_config(&ca, 0);
    harness_config(&cb, 1);
    ca.caps = caps_all;
    struct pair *p = pair_new(&ca, &cb);
    struct sk_udp *ua, *ub;
    assert_int_equal(sk_udp_bind(p->a, 5000, &ua), 0);
    assert_int_equal(sk_udp_bind(p->b, 7000, &ub), 0);
    static uint8_t out[3000], in[4000];
    fx_fill(out, 0, sizeof(out));
    const size_t sizes[] = {1000, 1472, 3000, 1};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sk_udp_sendto(ua, out, sizes[i], ADDR_B, 7000), (ssize_t)sizes[i]);
        pair_run_for(p, MS(50));
        assert_int_equal(sk_udp_recvfrom(ub, in, sizeof(in), NULL, NULL), (ssize_t)sizes[i]);
        assert_memory_equal(in, out, sizes[i]);
    }
    struct sk_stack_counters c;
    sk_stack_counters(p->b, &c);
    assert_int_equal(c.drops_total, 0);
    assert_int_equal(c.udp_in, 4);
    sk_udp_close(ua);
    sk_udp_close(ub);
    pair_free(p);
}

/* ---- the driver lends its TX buffer ---- */

static uint8_t lent[70000];
static size_t lends, lent_size;
static uint8_t *lend(void *ctx, size_t size)
{
    (void)ctx;
    assert_true(size <= sizeof(lent));
    lends++;
    lent_size = size;
    memset(lent, 0, size); /* nothing left from the last frame */
    return lent;
}

/* With sk_config.tx_buffer every frame is built in the driver's buffer: one lend per frame,
 * and the last frame sent is there, byte for byte (the harness verified its checksum). */
static void test_frames_built_in_lent_buffer(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.tx_buffer = lend;
    lends = 0;
    struct fx f = fx_connect(&cfg, NULL);
    size_t before = f.r->nout, lends_before = lends;
    assert_int_equal(lends_before, before); /* SYN and ACK */
    fx_send(f.c, 0, 3000);
    size_t first;
    size_t n = fx_take(f.r, &first);
    assert_int_equal(n, 2); /* 1460 + 1460; Nagle (RFC 896) holds the last 80 */
    assert_int_equal(lends - lends_before, n);
    const struct raw_out *last = &f.r->out[first + n - 1];
    assert_int_equal(last->len, 1460);
    assert_true(lent_size >= 40 + 1460);
    assert_memory_equal(lent + 40, last->data, 1460); /* IPv4 20 + TCP 20, then payload */
    for (size_t k = 0; k < 1460; k++)
        assert_int_equal(last->data[k], fx_byte(1460 + k));
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segmenter_follows_the_rfcs),
        cmocka_unit_test(test_bulk_caps_on_with_faults),
        cmocka_unit_test(test_bulk_caps_off_and_mixed),
        cmocka_unit_test(test_tso_fewer_frames),
        cmocka_unit_test(test_checksum_verification_is_per_frame),
        cmocka_unit_test(test_large_frames_only_with_rx_large),
        cmocka_unit_test(test_coalesced_segment_counts_as_several),
        cmocka_unit_test(test_frames_built_in_lent_buffer),
        cmocka_unit_test(test_ethernet_segmenter_and_arp_queue),
        cmocka_unit_test(test_udp_partial_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
