/* TCP over IPv6 between two stacks on the virtual clock (issue 13): the handshake's ISN is
 * RFC 6528's over the 36-byte IPv6 input (tests/ref/ref_isn.h ref_isn6) and its MSS option the
 * IPv6 MTU less 60 (RFC 8200 §3's 40-byte header, RFC 9293 §3.7.1's 20 of TCP); data moves
 * byte-exact through a seeded lossy link; a listener takes both families at once; TIME-WAIT
 * keeps an IPv6 4-tuple; an ICMPv6 Packet Too Big lowers the MSS to the reported MTU less 60
 * (RFC 8201 §4) and one below 1280 is discarded; ICMPv6 hard errors end a connection in
 * SYN-SENT with Linux's errno, or FreeBSD's under icmp_admin_refused; TCP refuses a multicast
 * destination. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"
#include "synack/memlink.h"
#include "../ref/ref_isn.h"

#define PORT 80
#define MTU 1500

/* 2001:db8::1 and 2001:db8::2 (RFC 3849), on one /64. */
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static struct sk_addr addr6(const uint8_t b[16])
{
    struct sk_addr a;
    memcpy(a.b, b, 16);
    return a;
}

/* harness_config for side, with an IPv6 address of its own, ready at once (no DAD). */
static void config6(struct sk_config *cfg, int side, struct ref_key *key)
{
    harness_config(cfg, side);
    if (key)
        ref_isn_config(cfg, key, (uint8_t)(side + 3));
    cfg->mtu = MTU;
    cfg->ip6 = true;
    memcpy(cfg->addr6[0].addr, side == 0 ? A6 : B6, 16);
    cfg->addr6[0].prefix_len = 64;
    cfg->addr6_count = 1;
    cfg->ip6_dad_transmits = 0;
    cfg->ip6_linklocal = SK_IP6_LL_OFF;
}

static struct pair *pair6(struct ref_key *ka, struct ref_key *kb)
{
    struct sk_config a, b;
    config6(&a, 0, ka);
    config6(&b, 1, kb);
    return pair_new(&a, &b);
}

/* The handshake: SYN with RFC 6528's ISN over the IPv6 input and MSS 1440, SYN,ACK likewise,
 * the trace's addresses those of the connection. */
static void test_handshake_over_ipv6(void **state)
{
    (void)state;
    struct ref_key ka, kb;
    struct pair *p = pair6(&ka, &kb);
    struct sk_tcp *l, *c, *s;
    assert_int_equal(sk_tcp_listen(p->b, PORT, 8, &l), 0);
    struct sk_addr b = addr6(B6);
    assert_int_equal(sk_tcp_connect_addr(p->a, 40000, &b, PORT, NULL, &c), 0);
    uint32_t iss_a = ref_isn6(&ka, A6, 40000, B6, PORT, pair_now(p));
    const struct rec_ev *syn = expect_seg(p, A_TO_B, SYN, iss_a, 0);
    assert_true(syn->ev.u.seg.opts & SK_OPT_MSS);
    assert_int_equal(syn->ev.u.seg.mss, MTU - 40 - 20);
    assert_memory_equal(syn->ev.src.b, A6, 16);
    assert_memory_equal(syn->ev.dst.b, B6, 16);
    assert_int_equal(syn->ev.u.seg.saddr, 0); /* the IPv4 field says: not IPv4 */
    pair_run_for(p, LINK_DELAY);
    uint32_t iss_b = ref_isn6(&kb, B6, PORT, A6, 40000, pair_now(p));
    const struct rec_ev *sa = expect_seg(p, B_TO_A, SYN | ACK, iss_b, iss_a + 1);
    assert_int_equal(sa->ev.u.seg.mss, MTU - 40 - 20);
    pair_run_for(p, MS(100));
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    struct sk_addr local, remote;
    sk_tcp_get_addrs(s, &local, &remote);
    assert_memory_equal(local.b, B6, 16);
    assert_memory_equal(remote.b, A6, 16);
    assert_int_equal(info(s).laddr, 0);
    pair_free(p);
}

static bool all_moved(struct sk_tcp *c[2], const uint8_t *src, uint8_t *dst[2], size_t n,
                      size_t sent[2], size_t got[2])
{
    for (int i = 0; i < 2; i++) {
        if (sent[i] < n) {
            ssize_t k = sk_tcp_send(c[i], src + sent[i], n - sent[i]);
            if (k > 0)
                sent[i] += (size_t)k;
        }
        ssize_t k;
        while ((k = sk_tcp_recv(c[i], dst[i] + got[i], n - got[i])) > 0)
            got[i] += (size_t)k;
    }
    return got[0] == n && got[1] == n;
}

/* b listens on PORT and a connects to it over IPv6: c[0] is a's end, c[1] the accepted one. */
static void open6(struct pair *p, struct sk_tcp *c[2])
{
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(p->b, PORT, 8, &l), 0);
    struct sk_addr b = addr6(B6);
    assert_int_equal(sk_tcp_connect_addr(p->a, 0, &b, PORT, NULL, &c[0]), 0);
    sk_time_us limit = pair_now(p) + SEC(30);
    while (sk_tcp_accept(l, &c[1]) != 0) {
        assert_true(pair_now(p) < limit);
        pair_run_for(p, MS(1));
    }
}

/* n bytes each way at once, both ends sending and reading as they can; every byte must arrive
 * intact within `within` of virtual time. */
static void move_both_ways(struct pair *p, struct sk_tcp *c[2], size_t n, sk_time_us within)
{
    uint8_t *src = malloc(n), *dst[2] = {malloc(n), malloc(n)};
    assert_non_null(src);
    assert_non_null(dst[0]);
    assert_non_null(dst[1]);
    for (size_t k = 0; k < n; k++)
        src[k] = (uint8_t)(k * 131 + (k >> 9));
    size_t sent[2] = {0}, got[2] = {0};
    sk_time_us limit = pair_now(p) + within;
    while (!all_moved(c, src, dst, n, sent, got)) {
        assert_true(pair_now(p) < limit);
        pair_step(p, limit);
    }
    assert_memory_equal(dst[0], src, n);
    assert_memory_equal(dst[1], src, n);
    free(src);
    free(dst[0]);
    free(dst[1]);
}

/* 1 MB each way at once through 5 % loss and 2 % reordering each way (memlink seed 42):
 * byte-exact, and no checksum failed on the way (the IPv6 pseudo-header sums agree). */
static void test_bulk_both_ways_with_loss(void **state)
{
    (void)state;
    struct pair *p = pair6(NULL, NULL);
    struct sk_memlink_faults f = {.delay_us = (uint32_t)LINK_DELAY, .loss = 0.05,
                                  .reorder = 0.02};
    sk_memlink_set_faults(p->sim.link, 0, &f);
    sk_memlink_set_faults(p->sim.link, 1, &f);
    struct sk_tcp *c[2];
    open6(p, c);
    move_both_ways(p, c, 1u << 20, SEC(600));
    for (int i = 0; i < 2; i++) {
        struct sk_stack_counters k;
        sk_stack_counters(p->st[i], &k);
        assert_int_equal(k.drops[SK_DROP_TCP_CHECKSUM], 0);
        assert_true(k.ip6_in > 0);
    }
    pair_free(p);
}

/* RFC 6437 §3: every segment of an IPv6 connection, both ways, from the SYN to the last ACK,
 * carries the flow label of its 5-tuple: the keyed hash computed here with the reference
 * SipHash (tests/ref/ref_isn.h ref_flow_label6) under each side's own key. */
struct label_watch {
    void (*inner)(void *ctx, int side, const struct sk_trace_event *ev);
    void *inner_ctx;
    const struct ref_key *key[2];
    size_t checked[2];
};

static void watch_labels(void *ctx, int side, const struct sk_trace_event *ev)
{
    struct label_watch *w = ctx;
    if (ev->kind == SK_TRACE_SEG_OUT && ev->frame && ev->frame_len >= 40) {
        const uint8_t *ip = ev->frame;
        assert_int_equal(ip[0] >> 4, 6);
        uint32_t label = ((uint32_t)(ip[1] & 0x0f) << 16) | (uint32_t)ip[2] << 8 | ip[3];
        const uint8_t *src = side == 0 ? A6 : B6, *dst = side == 0 ? B6 : A6;
        assert_int_equal(label, ref_flow_label6(w->key[side], src, dst, 6, ev->u.seg.sport,
                                                ev->u.seg.dport));
        w->checked[side]++;
    }
    w->inner(w->inner_ctx, side, ev);
}

static void test_flow_label_every_segment(void **state)
{
    (void)state;
    struct ref_key ka, kb;
    struct pair *p = pair6(&ka, &kb);
    struct label_watch w = {p->sim.trace, p->sim.trace_ctx, {&ka, &kb}, {0, 0}};
    p->sim.trace = watch_labels;
    p->sim.trace_ctx = &w;
    struct sk_tcp *c[2];
    size_t n = 200000;
    open6(p, c);
    move_both_ways(p, c, n, SEC(60));
    sk_tcp_close(c[0]);
    sk_tcp_close(c[1]);
    pair_run_for(p, SEC(5));
    /* 200 kB each way in 1440-byte segments, and as many ACKs at least every other one. */
    assert_true(w.checked[0] > n / 1440);
    assert_true(w.checked[1] > n / 1440);
    pair_free(p);
}

/* The same transfer with every offload on both sides (TSO super-segments of SK_GSO_TCPV6 cut
 * by the link, partial checksums out, link-verified ones in): byte-exact, fewer frames than
 * segments, no checksum failure. */
static void test_bulk_with_offloads(void **state)
{
    (void)state;
    struct sk_config c[2];
    for (int i = 0; i < 2; i++) {
        config6(&c[i], i, NULL);
        c[i].caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true, .rx_csum = true,
                                          .rx_large = true};
    }
    struct pair *p = pair_new(&c[0], &c[1]);
    struct sk_memlink_faults f = {.delay_us = 1000, .loss = 0.01};
    sk_memlink_set_faults(p->sim.link, 0, &f);
    sk_memlink_set_faults(p->sim.link, 1, &f);
    struct sk_tcp *cs[2];
    open6(p, cs);
    move_both_ways(p, cs, 4u << 20, SEC(600));
    struct sk_stack_counters k;
    sk_stack_counters(p->a, &k);
    assert_true(k.tcp_tso_segs > 0);
    assert_int_equal(k.drops[SK_DROP_TCP_CHECKSUM], 0);
    pair_free(p);
}

/* One listener, both families: an IPv4 client and an IPv6 client on the same port. */
static void test_listener_takes_both_families(void **state)
{
    (void)state;
    struct pair *p = pair6(NULL, NULL);
    struct sk_tcp *l, *c4, *c6, *s1, *s2;
    assert_int_equal(sk_tcp_listen(p->b, PORT, 8, &l), 0);
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, PORT, &c4), 0);
    struct sk_addr b = addr6(B6);
    assert_int_equal(sk_tcp_connect_addr(p->a, 0, &b, PORT, NULL, &c6), 0);
    pair_run_for(p, MS(100));
    assert_int_equal(sk_tcp_accept(l, &s1), 0);
    assert_int_equal(sk_tcp_accept(l, &s2), 0);
    struct sk_addr r1, r2;
    sk_tcp_get_addrs(s1, NULL, &r1);
    sk_tcp_get_addrs(s2, NULL, &r2);
    struct sk_addr a4 = sk_addr_from_v4(ADDR_A), a6 = addr6(A6);
    assert_true((sk_addr_eq(&r1, &a4) && sk_addr_eq(&r2, &a6)) ||
                (sk_addr_eq(&r1, &a6) && sk_addr_eq(&r2, &a4)));
    pair_free(p);
}

/* The active closer keeps the IPv6 4-tuple in a TIME-WAIT record: the same local port toward
 * the same peer is refused until 2*MSL, while an IPv4 record of the same ports is another
 * 4-tuple. */
static void test_time_wait_keeps_ipv6_tuple(void **state)
{
    (void)state;
    struct pair *p = pair6(NULL, NULL);
    struct sk_tcp *l, *c, *s;
    assert_int_equal(sk_tcp_listen(p->b, PORT, 8, &l), 0);
    struct sk_addr b = addr6(B6);
    assert_int_equal(sk_tcp_connect_addr(p->a, 41000, &b, PORT, NULL, &c), 0);
    pair_run_for(p, MS(100));
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    sk_tcp_close(c);
    pair_run_for(p, MS(50));
    sk_tcp_close(s);
    pair_run_for(p, MS(100));
    struct sk_stack_counters k;
    sk_stack_counters(p->a, &k);
    assert_int_equal(k.timewait_records, 1);
    struct sk_tcp *again;
    assert_int_equal(sk_tcp_connect_addr(p->a, 41000, &b, PORT, NULL, &again), -EADDRINUSE);
    struct sk_tcp *v4;
    assert_int_equal(sk_tcp_connect(p->a, 41000, ADDR_B, PORT, &v4), 0);
    pair_run_for(p, MS(100));
    expect_state(v4, SK_TCP_ESTABLISHED);
    pair_free(p);
}

/* RFC 8201 §4: Packet Too Big quoting a segment in flight lowers the MSS to MTU - 60 (less
 * the 12 bytes of timestamps, RFC 6691); one reporting less than 1280 is discarded. */
static void test_packet_too_big_lowers_mss(void **state)
{
    (void)state;
    struct pair *p = pair6(NULL, NULL);
    struct sk_tcp *l, *c, *s;
    assert_int_equal(sk_tcp_listen(p->b, PORT, 8, &l), 0);
    struct sk_addr b = addr6(B6);
    assert_int_equal(sk_tcp_connect_addr(p->a, 42000, &b, PORT, NULL, &c), 0);
    pair_run_for(p, MS(100));
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    uint8_t data[4000];
    memset(data, 'x', sizeof(data));
    assert_int_equal(sk_tcp_send(c, data, sizeof(data)), (ssize_t)sizeof(data));
    struct sk_tcp_info in = info(c);
    bool ts = in.ts_ok;
    /* The quote: an IPv6 header from A6 to B6 with next header TCP, then the TCP header's
     * ports and a sequence number in flight. */
    uint8_t q[48] = {0x60};
    q[6] = 6;
    q[7] = 64;
    memcpy(q + 8, A6, 16);
    memcpy(q + 24, B6, 16);
    q[40] = 42000 >> 8, q[41] = 42000 & 0xff, q[42] = 0, q[43] = PORT;
    uint32_t seq = in.snd_una;
    q[44] = (uint8_t)(seq >> 24), q[45] = (uint8_t)(seq >> 16), q[46] = (uint8_t)(seq >> 8);
    q[47] = (uint8_t)seq;
    assert_true(sk_transport_icmp6_error(p->a, 2, 0, 1000, q, sizeof(q)));
    assert_int_equal(info(c).snd_mss, in.snd_mss); /* below 1280: discarded */
    assert_true(sk_transport_icmp6_error(p->a, 2, 0, 1280, q, sizeof(q)));
    assert_int_equal(info(c).snd_mss, 1280 - 60 - (ts ? 12 : 0));
    /* A sequence number outside SND.UNA..SND.MAX is no proof (RFC 5927 §4.1). */
    seq = in.snd_una - 100000;
    q[44] = (uint8_t)(seq >> 24), q[45] = (uint8_t)(seq >> 16), q[46] = (uint8_t)(seq >> 8);
    q[47] = (uint8_t)seq;
    assert_false(sk_transport_icmp6_error(p->a, 2, 0, 1300, q, sizeof(q)));
    pair_run_for(p, MS(500));
    uint8_t got[4000];
    assert_int_equal(sk_tcp_recv(s, got, sizeof(got)), (ssize_t)sizeof(got));
    pair_free(p);
}

/* An ICMPv6 error of type/code quoting c's SYN (A6:42000 -> B6:PORT, seq = ISS) into p->a. */
static bool icmp6_on_syn(struct pair *p, struct sk_tcp *c, uint8_t type, uint8_t code)
{
    uint8_t q[48] = {0x60};
    q[6] = 6;
    q[7] = 64;
    memcpy(q + 8, A6, 16);
    memcpy(q + 24, B6, 16);
    q[40] = 42000 >> 8, q[41] = 42000 & 0xff, q[42] = 0, q[43] = PORT;
    uint32_t seq = info(c).iss;
    q[44] = (uint8_t)(seq >> 24), q[45] = (uint8_t)(seq >> 16), q[46] = (uint8_t)(seq >> 8);
    q[47] = (uint8_t)seq;
    return sk_transport_icmp6_error(p->a, type, code, 0, q, sizeof(q));
}

/* RFC 4443 §3.1, §3.4 with RFC 5461 §4: Destination Unreachable codes 1 (administratively
 * prohibited) and 4 (port unreachable), and Parameter Problem code 1 (unrecognized Next
 * Header: the peer has no TCP), end a connection in SYN-SENT. The errno is Linux's
 * (icmpv6_err_convert: EACCES, ECONNREFUSED, EPROTO) by default, FreeBSD's (icmp6_errmap:
 * ECONNREFUSED for all three; the FreeBSD suite's rcv-icmp-hard-error-*-ipv6 scripts) with
 * icmp_admin_refused. */
static void test_hard_errors_end_syn_sent(void **state)
{
    (void)state;
    static const struct {
        uint8_t type, code;
        bool freebsd;
        int err;
    } cases[] = {
        {1, 1, false, EACCES},       {1, 4, false, ECONNREFUSED}, {4, 1, false, EPROTO},
        {1, 1, true, ECONNREFUSED},  {1, 4, true, ECONNREFUSED},  {4, 1, true, ECONNREFUSED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk_config a, b;
        config6(&a, 0, NULL);
        config6(&b, 1, NULL);
        a.icmp_admin_refused = cases[i].freebsd;
        struct pair *p = pair_new(&a, &b);
        struct sk_tcp *c;
        struct sk_addr dst = addr6(B6);
        assert_int_equal(sk_tcp_connect_addr(p->a, 42000, &dst, PORT, NULL, &c), 0);
        assert_int_equal(info(c).state, SK_TCP_SYN_SENT);
        assert_true(icmp6_on_syn(p, c, cases[i].type, cases[i].code));
        assert_int_equal(info(c).state, SK_TCP_CLOSED);
        assert_int_equal(sk_tcp_error(c), -cases[i].err);
        pair_free(p);
    }
}

/* No TCP to a multicast group (ff02::1). */
static void test_no_tcp_to_multicast(void **state)
{
    (void)state;
    struct pair *p = pair6(NULL, NULL);
    struct sk_addr m = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect_addr(p->a, 0, &m, PORT, NULL, &c), -ENETUNREACH);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_over_ipv6),
        cmocka_unit_test(test_bulk_both_ways_with_loss),
        cmocka_unit_test(test_bulk_with_offloads),
        cmocka_unit_test(test_flow_label_every_segment),
        cmocka_unit_test(test_listener_takes_both_families),
        cmocka_unit_test(test_time_wait_keeps_ipv6_tuple),
        cmocka_unit_test(test_packet_too_big_lowers_mss),
        cmocka_unit_test(test_hard_errors_end_syn_sent),
        cmocka_unit_test(test_no_tcp_to_multicast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
