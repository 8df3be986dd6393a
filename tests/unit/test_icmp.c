/* ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo replies, port and protocol unreachable with their
 * rate limit, and TCP acting on received errors: fragmentation needed shrinks the segments
 * (RFC 1191), a hard error aborts SYN-SENT (RFC 1122 §4.2.3.9, RFC 5461), an error quoting a
 * sequence number out of flight is ignored (RFC 5927). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "ipframes.h"
#include "synack/synack.h"
#include "wire/wire.h"

#define PEER ETH_B_ADDR

static struct sk_icmp_hdr icmp_of(const struct cap_frame *f, struct sk_ipv4_hdr *ip)
{
    struct sk_icmp_hdr m;
    assert_int_equal(sk_ipv4_parse(f->data + 14, f->len - 14, ip), 0);
    assert_int_equal(ip->proto, SK_IPPROTO_ICMP);
    assert_int_equal(sk_icmp_parse(ip->payload, ip->payload_len, &m), 0);
    return m;
}

/* A stack that already knows PEER's MAC (it answered PEER's ARP request). */
#define stack_knowing_peer ethstack_knowing_b

/* RFC 1122 §3.2.2.6: the reply carries the request's identifier, sequence number and data. */
static void test_echo_reply(void **state)
{
    (void)state;
    struct ethstack *e = stack_knowing_peer();
    uint8_t m[100], p[200];
    size_t n = fr_icmp(m, SK_ICMP_ECHO_REQUEST, 0, 0x12340007, "abcdefgh", 8);
    n = fr_ip(p, PEER, ETH_A_ADDR, SK_IPPROTO_ICMP, 1, 0, 0, m, n);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(e->nout, 1);
    struct sk_ipv4_hdr ip;
    struct sk_icmp_hdr r = icmp_of(&e->out[0], &ip);
    assert_int_equal(ip.dst, PEER);
    assert_int_equal(r.type, SK_ICMP_ECHO_REPLY);
    assert_int_equal(r.rest, 0x12340007);
    assert_int_equal(r.payload_len, 8);
    assert_memory_equal(r.payload, "abcdefgh", 8);
    ethstack_free(e);
}

/* UDP to a closed port: port unreachable quoting the datagram; at most icmp_burst (50) in a
 * burst, the rest counted as rate limited; a second later the bucket has refilled. */
static void test_port_unreachable_rate_limited(void **state)
{
    (void)state;
    struct ethstack *e = stack_knowing_peer();
    uint8_t u[100], p[200];
    size_t un = fr_udp(u, PEER, ETH_A_ADDR, 5555, 9, "x", 1);
    size_t n = fr_ip(p, PEER, ETH_A_ADDR, SK_IPPROTO_UDP, 1, 0, 0, u, un);
    for (int i = 0; i < 60; i++)
        ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(e->nout, 50);
    assert_int_equal(ethstack_drops(e, SK_DROP_ICMP_RATELIMIT), 10);
    assert_int_equal(ethstack_drops(e, SK_DROP_UDP_NO_SOCKET), 60);
    struct sk_ipv4_hdr ip;
    struct sk_icmp_hdr r = icmp_of(&e->out[0], &ip);
    assert_int_equal(r.type, SK_ICMP_DEST_UNREACH);
    assert_int_equal(r.code, 3);
    assert_int_equal(r.payload_len, n); /* the whole datagram fits the quote */
    assert_memory_equal(r.payload, p, n);
    ethstack_run_until(e, e->now + 1000000);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(e->nout, 51);
    ethstack_free(e);
}

/* RFC 1122 §3.2.2.1: an unknown protocol gets code 2; an ICMP error never gets an error. */
static void test_protocol_unreachable(void **state)
{
    (void)state;
    struct ethstack *e = stack_knowing_peer();
    uint8_t p[200];
    size_t n = fr_ip(p, PEER, ETH_A_ADDR, 253, 1, 0, 0, "data", 4);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(e->nout, 1);
    struct sk_ipv4_hdr ip;
    struct sk_icmp_hdr r = icmp_of(&e->out[0], &ip);
    assert_int_equal(r.code, 2);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_PROTO), 1);
    /* An unreachable about something we never sent: no answer, counted. */
    uint8_t m[100];
    size_t mn = fr_icmp(m, SK_ICMP_DEST_UNREACH, 1, 0, p, 28);
    n = fr_ip(p, PEER, ETH_A_ADDR, SK_IPPROTO_ICMP, 2, 0, 0, m, mn);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(e->nout, 1);
    assert_int_equal(ethstack_drops(e, SK_DROP_ICMP_UNMATCHED), 1);
    ethstack_free(e);
}

/* An ICMP error from the peer about a segment (quoted IP header + first 8 TCP bytes), the
 * quoted datagram's length as given. */
static void icmp_quoting(struct raw *r, uint8_t type, uint8_t code, uint32_t rest, uint16_t sport,
                         uint16_t dport, uint32_t seq, uint16_t quoted_len)
{
    uint8_t q[28] = {0}, m[64], p[128];
    uint8_t tcp8[8];
    sk_put16(tcp8, sport);
    sk_put16(tcp8 + 2, dport);
    sk_put32(tcp8 + 4, seq);
    fr_ip(q, ADDR_A, ADDR_B, SK_IPPROTO_TCP, 1, 0x4000, 0, tcp8, 8);
    sk_put16(q + 2, quoted_len);
    size_t n = fr_icmp(m, type, code, rest, q, sizeof(q));
    n = fr_ip(p, ADDR_B, ADDR_A, SK_IPPROTO_ICMP, 9, 0, 0, m, n);
    sk_stack_input(r->st, p, n, r->now);
}

/* An ICMP error from the peer about a segment (quoted IP header + first 8 TCP bytes). */
static void icmp_about(struct raw *r, uint8_t type, uint8_t code, uint32_t rest, uint16_t sport,
                       uint16_t dport, uint32_t seq)
{
    icmp_quoting(r, type, code, rest, sport, dport, seq, 1500); /* the length it had */
}

/* 3000 bytes sent on c: returns the first data segment (at ISS + 1), the rest skipped. */
static const struct raw_out *data_in_flight(struct raw *r, struct sk_tcp *c, uint32_t iss)
{
    static uint8_t data[3000];
    assert_int_equal(sk_tcp_send(c, data, sizeof(data)), (ssize_t)sizeof(data));
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, 1001);
    while (r->cursor < r->nout)
        r->cursor++;
    return o;
}

/* RFC 1191: fragmentation needed with a next-hop MTU of 576 makes the connection send
 * segments of at most 576 - 40 bytes (less the timestamps), retransmitting what was lost. */
static void test_frag_needed_lowers_mss(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    const struct raw_out *o = data_in_flight(r, c, iss);
    assert_true(o->len > 536);
    icmp_about(r, SK_ICMP_DEST_UNREACH, 4, 576, o->sport, o->dport, iss + 1);
    assert_true(info(c).snd_mss <= 536);
    o = raw_expect(r, ACK, iss + 1, 1001); /* the retransmission, smaller */
    assert_true(o->len > 0 && o->len <= 536);
    sk_tcp_abort(c);
    raw_free(r);
}

/* RFC 1191 §6.1: a path MTU learnt in SYN-SENT (576) holds after the SYN-ACK: the peer's MSS
 * 1460 does not raise the segments above 576 - 40 = 536. A bare SYN is not sent again (it is
 * never the datagram that was too big). */
static void test_frag_needed_in_syn_sent_kept(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t iss = info(c).iss;
    const struct raw_out *syn = raw_expect(r, SYN, iss, 0);
    uint16_t port = syn->sport;
    icmp_about(r, SK_ICMP_DEST_UNREACH, 4, 576, port, RAW_PEER_PORT, iss);
    raw_expect_none(r);
    raw_send(r, .dport = port, .flags = SYN | ACK, .seq = 1000, .ack = iss + 1,
             .opts = SK_OPT_MSS, .mss = 1460);
    raw_expect(r, ACK, iss + 1, 1001);
    assert_int_equal(info(c).snd_mss, 536);
    static uint8_t data[3000];
    assert_int_equal(sk_tcp_send(c, data, sizeof(data)), (ssize_t)sizeof(data));
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, 1001);
    assert_int_equal(o->len, 536);
    sk_tcp_abort(c);
    raw_free(r);
}

/* Forged "fragmentation needed" quoting a live sequence number, with next-hop MTU 68 (RFC
 * 791's minimum), 0 (no MTU, RFC 1191 §5: the plateau below a quoted length of 60 is 68) and
 * 16 (below any legal MTU): the path MTU stops at pmtu_min (552), so the segments carry
 * 552 - 20 - 20 = 512 bytes (no timestamps on this connection), and never the 16 bytes that
 * 68 - 52 used to give. Each floored report is counted. */
static void test_frag_needed_floored_at_pmtu_min(void **state)
{
    (void)state;
    const uint32_t mtus[] = {68, 0, 16};
    for (size_t k = 0; k < 3; k++) {
        struct raw *r = raw_new(NULL);
        uint32_t iss;
        struct sk_tcp *c = raw_connect(r, 1000, &iss);
        const struct raw_out *o = data_in_flight(r, c, iss);
        icmp_quoting(r, SK_ICMP_DEST_UNREACH, 4, mtus[k], o->sport, o->dport, iss + 1, 60);
        assert_int_equal(info(c).snd_mss, 552 - 20 - 20);
        assert_int_equal(counters(r->st).icmp_pmtu_floored, 1);
        o = raw_expect(r, ACK, iss + 1, 1001);
        assert_int_equal(o->len, 512);
        sk_tcp_abort(c);
        raw_free(r);
    }
}

/* With the path MTU floor at RFC 791's 68, the segment floor still holds: 68 - 40 = 28 bytes
 * is raised to tcp_min_mss (64), counted. */
static void test_frag_needed_floored_at_tcp_min_mss(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.pmtu_min = 68;
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    const struct raw_out *o = data_in_flight(r, c, iss);
    icmp_quoting(r, SK_ICMP_DEST_UNREACH, 4, 68, o->sport, o->dport, iss + 1, 1500);
    assert_int_equal(info(c).snd_mss, 64);
    assert_int_equal(counters(r->st).tcp_mss_floored, 1);
    assert_int_equal(counters(r->st).icmp_pmtu_floored, 0);
    o = raw_expect(r, ACK, iss + 1, 1001);
    assert_int_equal(o->len, 64);
    sk_tcp_abort(c);
    raw_free(r);
}

/* The peer's SYN,ACK announcing MSS 1 (or 0): we send segments of tcp_min_mss (64) bytes, not
 * thousands of one-byte pieces (the SACK Panic lesson, CVE-2019-11479). */
static void test_tiny_peer_mss_floored(void **state)
{
    (void)state;
    const uint16_t announced[] = {1, 0};
    for (size_t k = 0; k < 2; k++) {
        struct raw *r = raw_new(NULL);
        struct sk_tcp *c = NULL;
        assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
        uint32_t s = info(c).iss;
        raw_expect(r, SYN, s, 0);
        raw_send(r, .flags = SYN | ACK, .seq = 1000, .ack = s + 1, .opts = SK_OPT_MSS,
                 .mss = announced[k]);
        raw_expect(r, ACK, s + 1, 1001);
        assert_int_equal(info(c).snd_mss, 64);
        assert_int_equal(counters(r->st).tcp_mss_floored, 1);
        static uint8_t data[200];
        assert_int_equal(sk_tcp_send(c, data, sizeof(data)), (ssize_t)sizeof(data));
        const struct raw_out *o = raw_expect(r, ACK, s + 1, 1001);
        assert_int_equal(o->len, 64);
        sk_tcp_abort(c);
        raw_free(r);
    }
}

/* The same on a passive open: a SYN announcing MSS 1 gets a connection that sends 64-byte
 * segments. */
static void test_tiny_syn_mss_floored(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    struct sk_tcp *l, *c = NULL;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    raw_send(r, .flags = SYN, .seq = 5000, .opts = SK_OPT_MSS, .mss = 1);
    const struct raw_out *o = raw_expect(r, SYN | ACK, r->out[r->cursor].seq, 5001);
    uint32_t iss = o->seq;
    raw_send(r, .flags = ACK, .seq = 5001, .ack = iss + 1);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    assert_int_equal(info(c).snd_mss, 64);
    assert_int_equal(counters(r->st).tcp_mss_floored, 1);
    static uint8_t data[200];
    assert_int_equal(sk_tcp_send(c, data, sizeof(data)), (ssize_t)sizeof(data));
    o = raw_expect(r, ACK, iss + 1, 5001);
    assert_int_equal(o->len, 64);
    sk_tcp_abort(c);
    sk_tcp_close(l);
    raw_free(r);
}

/* RFC 1122 §4.2.3.9: port unreachable in SYN-SENT ends the attempt with ECONNREFUSED; admin
 * prohibited (code 13) with EHOSTUNREACH. */
static void test_hard_error_aborts_syn_sent(void **state)
{
    (void)state;
    for (int code = 3; code <= 13; code += 10) {
        struct raw *r = raw_new(NULL);
        struct sk_tcp *c;
        assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, RAW_PEER_PORT, &c), 0);
        const struct raw_out *syn = raw_expect(r, SYN, info(c).iss, 0);
        /* Out of flight: ignored (RFC 5927 §4.1). */
        icmp_about(r, SK_ICMP_DEST_UNREACH, (uint8_t)code, 0, syn->sport, syn->dport, 12345);
        expect_state(c, SK_TCP_SYN_SENT);
        icmp_about(r, SK_ICMP_DEST_UNREACH, (uint8_t)code, 0, syn->sport, syn->dport, syn->seq);
        expect_state(c, SK_TCP_CLOSED);
        assert_int_equal(sk_tcp_error(c), code == 3 ? -ECONNREFUSED : -EHOSTUNREACH);
        sk_tcp_close(c);
        raw_free(r);
    }
}

/* Destination unreachable `code` on an established connection (cfg NULL: the defaults)
 * leaves it established, without an error. */
static void expect_soft_when_established(const struct sk_config *cfg, uint8_t code)
{
    struct raw *r = raw_new(cfg);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    struct sk_tcp_info i = info(c);
    icmp_about(r, SK_ICMP_DEST_UNREACH, code, 0, i.lport, i.rport, iss + 1);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_error(c), 0);
    sk_tcp_abort(c);
    raw_free(r);
}

/* RFC 5461 §4: in ESTABLISHED the same error is soft: the connection lives on. */
static void test_hard_error_soft_when_established(void **state)
{
    (void)state;
    expect_soft_when_established(NULL, 3);
}

/* RFC 1122 §4.2.3.9: host unreachable (code 1) in SYN-SENT is soft: the SYN goes on being
 * retransmitted, and when the retries run out the application learns EHOSTUNREACH, what the
 * network said, rather than a bare ETIMEDOUT (as Linux reports sk_err_soft). */
static void test_soft_error_reported_when_connect_times_out(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.syn_retries = 2;
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, RAW_PEER_PORT, &c), 0);
    const struct raw_out *syn = raw_expect(r, SYN, info(c).iss, 0);
    icmp_about(r, SK_ICMP_DEST_UNREACH, 1, 0, syn->sport, syn->dport, syn->seq);
    expect_state(c, SK_TCP_SYN_SENT);
    raw_run_for(r, SEC(10));
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -EHOSTUNREACH);
    sk_tcp_close(c);
    raw_free(r);
}

/* RFC 5461 §4 (icmp_abort_handshake, as Linux's tcp_req_err): host unreachable quoting a
 * half-open connection's SYN-ACK drops it without a reset, so the peer's ACK then meets the
 * listener and draws one (RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>). Port unreachable
 * leaves it (Linux's "abort" is false for it), and an error quoting another sequence number
 * is ignored (RFC 5927). Without the knob the same error is soft (RFC 1122 §4.2.3.9): the
 * handshake completes. */
static void test_abort_handshake_drops_half_open(void **state)
{
    (void)state;
    for (int knob = 0; knob <= 1; knob++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.icmp_abort_handshake = knob;
        struct raw *r = raw_new(&cfg);
        struct sk_tcp *l, *c;
        assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
        raw_send(r, .flags = SYN, .seq = 1000);
        assert_true(r->cursor < r->nout);
        uint32_t iss = r->out[r->cursor].seq; /* the stack's random ISS: a name, not a claim */
        raw_expect(r, SYN | ACK, iss, 1001);
        icmp_about(r, SK_ICMP_DEST_UNREACH, 1, 0, RAW_LOCAL_PORT, RAW_PEER_PORT, iss + 1);
        icmp_about(r, SK_ICMP_DEST_UNREACH, 3, 0, RAW_LOCAL_PORT, RAW_PEER_PORT, iss);
        struct sk_stack_counters k;
        sk_stack_counters(r->st, &k);
        assert_int_equal(k.tcp_halfopen_icmp_dropped, 0);
        assert_int_equal(k.drops[SK_DROP_ICMP_UNMATCHED], 1);
        icmp_about(r, SK_ICMP_DEST_UNREACH, 1, 0, RAW_LOCAL_PORT, RAW_PEER_PORT, iss);
        sk_stack_counters(r->st, &k);
        assert_int_equal(k.tcp_halfopen_icmp_dropped, knob ? 1 : 0);
        assert_int_equal(r->cursor, r->nout); /* no reset for the dropped request */
        raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 1);
        if (knob) {
            raw_expect(r, RST, iss + 1, 0);
            assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
        } else {
            assert_int_equal(sk_tcp_accept(l, &c), 0);
            expect_state(c, SK_TCP_ESTABLISHED);
            sk_tcp_abort(c);
        }
        sk_tcp_close(l);
        raw_free(r);
    }
}

/* RFC 5461 §4 in SYN-SENT: under icmp_abort_handshake host unreachable (a soft error in RFC
 * 1122) ends the attempt at once with EHOSTUNREACH, time exceeded with EHOSTUNREACH too; an
 * established connection keeps treating them as soft. */
static void test_abort_handshake_syn_sent(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.icmp_abort_handshake = true;
    for (int type = SK_ICMP_DEST_UNREACH; type <= SK_ICMP_TIME_EXCEEDED; type += 8) {
        struct raw *r = raw_new(&cfg);
        struct sk_tcp *c;
        assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, RAW_PEER_PORT, &c), 0);
        const struct raw_out *syn = raw_expect(r, SYN, info(c).iss, 0);
        icmp_about(r, (uint8_t)type, 1, 0, syn->sport, syn->dport, syn->seq);
        expect_state(c, SK_TCP_CLOSED);
        assert_int_equal(sk_tcp_error(c), -EHOSTUNREACH);
        sk_tcp_close(c);
        raw_free(r);
    }
    expect_soft_when_established(&cfg, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soft_error_reported_when_connect_times_out),
        cmocka_unit_test(test_echo_reply),
        cmocka_unit_test(test_port_unreachable_rate_limited),
        cmocka_unit_test(test_protocol_unreachable),
        cmocka_unit_test(test_frag_needed_lowers_mss),
        cmocka_unit_test(test_frag_needed_in_syn_sent_kept),
        cmocka_unit_test(test_frag_needed_floored_at_pmtu_min),
        cmocka_unit_test(test_frag_needed_floored_at_tcp_min_mss),
        cmocka_unit_test(test_tiny_peer_mss_floored),
        cmocka_unit_test(test_tiny_syn_mss_floored),
        cmocka_unit_test(test_hard_error_aborts_syn_sent),
        cmocka_unit_test(test_hard_error_soft_when_established),
        cmocka_unit_test(test_abort_handshake_drops_half_open),
        cmocka_unit_test(test_abort_handshake_syn_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
