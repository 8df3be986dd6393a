/* The passive observer (synack/observe.h) on hand-built packets.
 *
 * Every packet is written here byte by byte after RFC 791 §3.1 (IPv4), RFC 8200 §3 (IPv6) and
 * RFC 9293 §3.1-3.2 (TCP and its options; RFC 7323 window scale, RFC 2018 SACK). Checksums are
 * left zero: the observer does not verify them (captures on a sending host show offloaded ones
 * unfinished). Every expected state comes from RFC 9293 §3.3.2's diagram, every relative number
 * and window from the arithmetic written out in the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "synack/observe.h"

#define A 0 /* the opener, 10.0.0.1:40000 (or 2001:db8::1) */
#define B 1 /* the listener, 10.0.0.2:80 (or 2001:db8::2) */
#define ACKF SK_TCP_ACK
#define SYN SK_TCP_SYN
#define FIN SK_TCP_FIN
#define RST SK_TCP_RST
#define PSH SK_TCP_PSH

/* ---- Packet building ---- */

struct tseg {
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t wnd;        /* 0: 1000, unless zero_wnd */
    bool zero_wnd;
    uint32_t len;        /* payload bytes on the wire */
    uint8_t opt[40];
    uint8_t optlen;
    uint16_t port_a;     /* 0: 40000 */
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* RFC 9293 §3.2: MSS kind 2 len 4; RFC 7323 §2.2: WS kind 3 len 3; RFC 2018 §2: SACK-permitted
 * kind 4 len 2; §3: SACK kind 5 len 2+8n. NOPs (kind 1) pad to a multiple of 4. */
static void opt_mss(struct tseg *s, uint16_t mss)
{
    uint8_t *p = s->opt + s->optlen;
    p[0] = 2, p[1] = 4;
    put16(p + 2, mss);
    s->optlen += 4;
}
static void opt_ws(struct tseg *s, uint8_t shift)
{
    uint8_t *p = s->opt + s->optlen;
    p[0] = 1, p[1] = 3, p[2] = 3, p[3] = shift;
    s->optlen += 4;
}
static void opt_sackok(struct tseg *s)
{
    uint8_t *p = s->opt + s->optlen;
    p[0] = 1, p[1] = 1, p[2] = 4, p[3] = 2;
    s->optlen += 4;
}
static void opt_sack(struct tseg *s, int n, const uint32_t *edges)
{
    uint8_t *p = s->opt + s->optlen;
    p[0] = 1, p[1] = 1, p[2] = 5, p[3] = (uint8_t)(2 + 8 * n);
    for (int i = 0; i < 2 * n; i++)
        put32(p + 4 + 4 * i, edges[i]);
    s->optlen = (uint8_t)(s->optlen + 4 + 8 * n);
}

/* The TCP header and payload at p; returns its length. */
static size_t put_tcp(uint8_t *p, int from, const struct tseg *s)
{
    uint16_t pa = s->port_a ? s->port_a : 40000;
    put16(p, from == A ? pa : 80);
    put16(p + 2, from == A ? 80 : pa);
    put32(p + 4, s->seq);
    put32(p + 8, s->ack);
    p[12] = (uint8_t)((20 + s->optlen) / 4 << 4);
    p[13] = s->flags;
    put16(p + 14, s->wnd || s->zero_wnd ? s->wnd : 1000);
    put16(p + 16, 0);
    put16(p + 18, 0);
    memcpy(p + 20, s->opt, s->optlen);
    memset(p + 20 + s->optlen, 'x', s->len);
    return 20 + s->optlen + s->len;
}

/* IPv4 (RFC 791 §3.1): version 4, IHL 5, total length, DF, TTL 64, protocol 6. */
static size_t build4(uint8_t *p, int from, const struct tseg *s)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 6;
    uint32_t a = 0x0a000001, b = 0x0a000002;
    put32(p + 12, from == A ? a : b);
    put32(p + 16, from == A ? b : a);
    size_t n = 20 + put_tcp(p + 20, from, s);
    put16(p + 2, (uint16_t)n);
    return n;
}

/* IPv6 (RFC 8200 §3): version 6, payload length, next header 6, hop limit 64. */
static size_t build6(uint8_t *p, int from, const struct tseg *s)
{
    static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    static const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    memset(p, 0, 40);
    p[0] = 0x60;
    p[6] = 6;
    p[7] = 64;
    memcpy(p + 8, from == A ? a : b, 16);
    memcpy(p + 24, from == A ? b : a, 16);
    size_t n = put_tcp(p + 40, from, s);
    put16(p + 4, (uint16_t)n);
    return 40 + n;
}

/* ---- The observer under test, and what it reported ---- */

#define MAX_LOG 256
static struct sk_obs_segment logv[MAX_LOG];
static int nlog;
static struct sk_observer *obs;
static bool use_v6;

static void on_seg(void *user, const struct sk_obs_segment *s)
{
    (void)user;
    if (nlog < MAX_LOG)
        logv[nlog++] = *s;
}

static struct sk_observer *new_obs(uint32_t max_conns)
{
    struct sk_observer_config cfg = {.on_segment = on_seg, .max_conns = max_conns};
    nlog = 0;
    return sk_observer_new(&cfg);
}

static int setup(void **state)
{
    (void)state;
    obs = new_obs(0);
    return obs ? 0 : -1;
}
static int setup6(void **state)
{
    use_v6 = true;
    return setup(state);
}
static int teardown(void **state)
{
    (void)state;
    sk_observer_free(obs);
    obs = NULL;
    use_v6 = false;
    return 0;
}

/* Feeds one segment at time t (µs); returns the record of it. */
static const struct sk_obs_segment *feed(sk_time_us t, int from, struct tseg s)
{
    static uint8_t pkt[70000];
    size_t n = use_v6 ? build6(pkt, from, &s) : build4(pkt, from, &s);
    int before = nlog;
    assert_int_equal(sk_observer_input(obs, t, pkt, n, n), SK_OBS_TCP);
    assert_int_equal(nlog, before + 1);
    return &logv[nlog - 1];
}

static bool has(const struct sk_obs_segment *s, enum sk_obs_note_kind k, uint64_t *a,
                uint64_t *b)
{
    for (int i = 0; i < s->nnotes; i++) {
        if (s->notes[i].kind == k) {
            if (a)
                *a = s->notes[i].a;
            if (b)
                *b = s->notes[i].b;
            return true;
        }
    }
    return false;
}

static void states(const struct sk_obs_segment *s, enum sk_tcp_state a, enum sk_tcp_state b)
{
    assert_int_equal(s->state_after[A], a);
    assert_int_equal(s->state_after[B], b);
}

static struct sk_obs_conn_info info(uint64_t id)
{
    struct sk_obs_conn_info ci;
    assert_int_equal(sk_observer_conn_info(obs, id, &ci), 0);
    return ci;
}

#define ISN_A 1000u
#define ISN_B 5000u

/* RFC 9293 §3.5 Figure 6: SYN, SYN|ACK, ACK. A offers MSS 1460 and window scale 7, B MSS 1400
 * and scale 2, both SACK-permitted. */
static void handshake(sk_time_us t0)
{
    struct tseg syn = {.flags = SYN, .seq = ISN_A, .wnd = 64240};
    opt_mss(&syn, 1460);
    opt_ws(&syn, 7);
    opt_sackok(&syn);
    const struct sk_obs_segment *s = feed(t0, A, syn);
    uint64_t a;
    assert_true(has(s, SK_OBS_HANDSHAKE_SYN, &a, NULL));
    assert_int_equal(a, ISN_A);
    assert_int_equal(s->state_before[A], SK_TCP_CLOSED);
    assert_int_equal(s->state_before[B], SK_TCP_LISTEN);
    states(s, SK_TCP_SYN_SENT, SK_TCP_SYN_RECEIVED);
    assert_int_equal(s->from, A);
    assert_true(s->rel_known);
    assert_int_equal(s->rel_seq, 0);
    assert_int_equal(s->wnd_bytes, 64240); /* RFC 7323 §2.2: a SYN's window is not scaled */

    struct tseg sa = {.flags = SYN | ACKF, .seq = ISN_B, .ack = ISN_A + 1, .wnd = 65160};
    opt_mss(&sa, 1400);
    opt_ws(&sa, 2);
    opt_sackok(&sa);
    s = feed(t0 + 100, B, sa);
    assert_true(has(s, SK_OBS_HANDSHAKE_SYNACK, &a, NULL));
    assert_int_equal(a, ISN_B);
    uint64_t b;
    assert_true(has(s, SK_OBS_OPTIONS, &a, &b));
    assert_int_equal(a, SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM);
    assert_int_equal(b, 7 << 8 | 2);
    states(s, SK_TCP_ESTABLISHED, SK_TCP_SYN_RECEIVED);
    assert_int_equal(s->from, B);
    assert_int_equal(s->rel_seq, 0);
    assert_int_equal(s->rel_ack, 1); /* ISN+1 */

    struct tseg ack = {.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1, .wnd = 502};
    s = feed(t0 + 200, A, ack);
    assert_true(has(s, SK_OBS_HANDSHAKE_ACK, NULL, NULL));
    states(s, SK_TCP_ESTABLISHED, SK_TCP_ESTABLISHED);
    assert_int_equal(s->rel_seq, 1);
    assert_int_equal(s->rel_ack, 1);
    assert_true(s->wnd_scale_known);
    assert_int_equal(s->wnd_bytes, 502u << 7); /* 64256 */
}

static void test_handshake_data_close(void **state)
{
    (void)state;
    handshake(0);
    /* 100 bytes A -> B, acknowledged. */
    const struct sk_obs_segment *s =
        feed(1000, A, (struct tseg){.flags = ACKF | PSH, .seq = ISN_A + 1, .ack = ISN_B + 1,
                                    .wnd = 502, .len = 100});
    assert_int_equal(s->nnotes, 0);
    assert_int_equal(s->rel_seq, 1);
    s = feed(1100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 101,
                                    .wnd = 16000});
    assert_int_equal(s->rel_ack, 101);
    assert_int_equal(s->wnd_bytes, 16000u << 2);
    /* B answers 50 bytes. */
    s = feed(1200, B, (struct tseg){.flags = ACKF | PSH, .seq = ISN_B + 1, .ack = ISN_A + 101,
                                    .wnd = 16000, .len = 50});
    s = feed(1300, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 101, .ack = ISN_B + 51,
                                    .wnd = 502});
    assert_int_equal(s->nnotes, 0);
    /* §3.6 Figure 12: A closes first. */
    s = feed(2000, A, (struct tseg){.flags = FIN | ACKF, .seq = ISN_A + 101, .ack = ISN_B + 51,
                                    .wnd = 502});
    uint64_t a;
    assert_true(has(s, SK_OBS_FIN, &a, NULL));
    assert_int_equal(a, 100);
    states(s, SK_TCP_FIN_WAIT_1, SK_TCP_CLOSE_WAIT);
    s = feed(2100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 51, .ack = ISN_A + 102,
                                    .wnd = 16000});
    assert_true(has(s, SK_OBS_FIN_ACKED, NULL, NULL));
    states(s, SK_TCP_FIN_WAIT_2, SK_TCP_CLOSE_WAIT);
    s = feed(2200, B, (struct tseg){.flags = FIN | ACKF, .seq = ISN_B + 51, .ack = ISN_A + 102,
                                    .wnd = 16000});
    states(s, SK_TCP_TIME_WAIT, SK_TCP_LAST_ACK);
    s = feed(2300, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 102, .ack = ISN_B + 52,
                                    .wnd = 502});
    assert_true(has(s, SK_OBS_FIN_ACKED, NULL, NULL));
    assert_true(has(s, SK_OBS_TIME_WAIT, NULL, NULL));
    states(s, SK_TCP_TIME_WAIT, SK_TCP_CLOSED);
    assert_int_equal(s->rel_seq, 102);
    assert_int_equal(s->rel_ack, 52);

    assert_int_equal(sk_observer_conn_count(obs), 1);
    struct sk_obs_conn_info ci = info(1);
    assert_int_equal(ci.bytes[A], 100);
    assert_int_equal(ci.bytes[B], 50);
    assert_int_equal(ci.segments[A], 6); /* SYN, ACK, data, ACK, FIN, ACK */
    assert_int_equal(ci.segments[B], 5); /* SYN|ACK, ACK, data, ACK, FIN */
    assert_int_equal(ci.retransmits[A] + ci.retransmits[B], 0);
    assert_int_equal(ci.isn[A], ISN_A);
    assert_int_equal(ci.isn[B], ISN_B);
    assert_true(ci.isn_known[A] && ci.isn_known[B]);
    assert_int_equal(ci.mss[A], 1460);
    assert_int_equal(ci.mss[B], 1400);
    assert_int_equal(ci.wscale[A], 7);
    assert_int_equal(ci.wscale[B], 2);
    assert_true(ci.sack_ok);
    assert_false(ci.ts_ok);
    assert_int_equal(ci.end, SK_OBS_END_CLOSED);
    assert_int_equal(ci.reset_by, -1);
    assert_false(ci.mid_stream);
    assert_int_equal(ci.first, 0);
    assert_int_equal(ci.last, 2300);
    assert_int_equal(ci.state[A], SK_TCP_TIME_WAIT);
    assert_int_equal(ci.state[B], SK_TCP_CLOSED);
    assert_int_equal(sk_observer_conn_info(obs, 2, &ci), -ENOENT);
    assert_int_equal(sk_observer_conn_info(obs, 0, &ci), -ENOENT);
}

/* RFC 9293 §3.5.2 / §3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=ISN+1><CTL=RST,ACK>. */
static void test_refused(void **state)
{
    (void)state;
    feed(0, A, (struct tseg){.flags = SYN, .seq = ISN_A, .wnd = 1000});
    const struct sk_obs_segment *s =
        feed(50, B, (struct tseg){.flags = RST | ACKF, .seq = 0, .ack = ISN_A + 1});
    assert_true(has(s, SK_OBS_RST_REFUSED, NULL, NULL));
    assert_int_equal(s->state_before[A], SK_TCP_SYN_SENT);
    states(s, SK_TCP_CLOSED, SK_TCP_CLOSED);
    struct sk_obs_conn_info ci = info(1);
    assert_int_equal(ci.end, SK_OBS_END_REFUSED);
    assert_int_equal(ci.reset_by, -1);
    /* A RST without the ACK of the SYN is not acceptable in SYN-SENT (§3.10.7.3). */
    feed(100, A, (struct tseg){.flags = SYN, .seq = 7777, .wnd = 1000, .port_a = 40001});
    s = feed(150, B, (struct tseg){.flags = RST, .seq = 0, .port_a = 40001});
    assert_true(has(s, SK_OBS_RST_IGNORED, NULL, NULL));
    states(s, SK_TCP_SYN_SENT, SK_TCP_SYN_RECEIVED);
}

/* §3.10.7.4: an acceptable RST in ESTABLISHED closes both; reset_by the sender. */
static void test_abort(void **state)
{
    (void)state;
    handshake(0);
    feed(1000, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1, .wnd = 502,
                                .len = 10});
    /* RFC 5961 §3.2: a RST not at RCV.NXT (A's next is ISN_A+11) but inside B's window is
     * answered with a challenge ACK, not obeyed. B's window: 16000 << 2 from its last ACK. */
    feed(1100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 11,
                                .wnd = 16000});
    const struct sk_obs_segment *s =
        feed(1200, A, (struct tseg){.flags = RST, .seq = ISN_A + 500});
    assert_true(has(s, SK_OBS_RST_IGNORED, NULL, NULL));
    states(s, SK_TCP_ESTABLISHED, SK_TCP_ESTABLISHED);
    s = feed(1250, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 11,
                                    .wnd = 16000});
    assert_true(has(s, SK_OBS_CHALLENGE_ACK, NULL, NULL));
    assert_false(has(s, SK_OBS_DUP_ACK, NULL, NULL));
    s = feed(1300, A, (struct tseg){.flags = RST, .seq = ISN_A + 11});
    assert_true(has(s, SK_OBS_RST_ABORT, NULL, NULL));
    states(s, SK_TCP_CLOSED, SK_TCP_CLOSED);
    struct sk_obs_conn_info ci = info(1);
    assert_int_equal(ci.end, SK_OBS_END_RESET);
    assert_int_equal(ci.reset_by, A);
    /* Anything after: noted, nothing reopened. */
    s = feed(1400, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 11,
                                    .wnd = 16000, .len = 5});
    assert_true(has(s, SK_OBS_AFTER_CLOSE, NULL, NULL));
    assert_int_equal(s->conn, 1);
    s = feed(1450, A, (struct tseg){.flags = RST, .seq = ISN_A + 11});
    assert_true(has(s, SK_OBS_RST_NO_CONNECTION, NULL, NULL));
    assert_int_equal(sk_observer_conn_count(obs), 1);
}


/* §3.5 Figure 8: both SYNs cross; each side goes SYN-SENT -> SYN-RECEIVED -> ESTABLISHED. */
static void test_simultaneous_open(void **state)
{
    (void)state;
    const struct sk_obs_segment *s = feed(0, A, (struct tseg){.flags = SYN, .seq = ISN_A});
    states(s, SK_TCP_SYN_SENT, SK_TCP_SYN_RECEIVED);
    s = feed(10, B, (struct tseg){.flags = SYN, .seq = ISN_B});
    assert_true(has(s, SK_OBS_SIMULTANEOUS_OPEN, NULL, NULL));
    states(s, SK_TCP_SYN_RECEIVED, SK_TCP_SYN_RECEIVED);
    s = feed(20, A, (struct tseg){.flags = SYN | ACKF, .seq = ISN_A, .ack = ISN_B + 1});
    states(s, SK_TCP_SYN_RECEIVED, SK_TCP_ESTABLISHED);
    assert_false(has(s, SK_OBS_SYN_RETRANSMIT, NULL, NULL));
    s = feed(30, B, (struct tseg){.flags = SYN | ACKF, .seq = ISN_B, .ack = ISN_A + 1});
    states(s, SK_TCP_ESTABLISHED, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_observer_conn_count(obs), 1);
}

/* §3.6 Figure 13: both FINs cross: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both sides. */
static void test_simultaneous_close(void **state)
{
    (void)state;
    handshake(0);
    const struct sk_obs_segment *s =
        feed(1000, A, (struct tseg){.flags = FIN | ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1});
    states(s, SK_TCP_FIN_WAIT_1, SK_TCP_CLOSE_WAIT);
    /* B's FIN does not acknowledge A's: it left before A's arrived. */
    s = feed(1010, B, (struct tseg){.flags = FIN | ACKF, .seq = ISN_B + 1, .ack = ISN_A + 1});
    assert_true(has(s, SK_OBS_SIMULTANEOUS_CLOSE, NULL, NULL));
    states(s, SK_TCP_CLOSING, SK_TCP_CLOSING);
    s = feed(1020, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 2, .ack = ISN_B + 2});
    states(s, SK_TCP_CLOSING, SK_TCP_TIME_WAIT);
    s = feed(1030, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 2, .ack = ISN_A + 2});
    states(s, SK_TCP_TIME_WAIT, SK_TCP_TIME_WAIT);
    assert_true(has(s, SK_OBS_TIME_WAIT, NULL, NULL)); /* B was in TIME-WAIT when it sent it */
    assert_int_equal(info(1).end, SK_OBS_END_CLOSED);
}

/* §3.6: A closes its half; B goes on sending (half-close); B's FIN then closes the rest. */
static void test_half_close(void **state)
{
    (void)state;
    handshake(0);
    feed(1000, A, (struct tseg){.flags = FIN | ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1});
    feed(1010, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 2});
    const struct sk_obs_segment *s =
        feed(1020, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 2, .len = 300});
    uint64_t a;
    assert_true(has(s, SK_OBS_HALF_CLOSE, &a, NULL));
    assert_int_equal(a, 300);
    states(s, SK_TCP_FIN_WAIT_2, SK_TCP_CLOSE_WAIT);
    feed(1030, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 2, .ack = ISN_B + 301});
    assert_int_equal(info(1).end, SK_OBS_END_HALF_CLOSED);
    s = feed(1040, B, (struct tseg){.flags = FIN | ACKF, .seq = ISN_B + 301, .ack = ISN_A + 2});
    assert_true(has(s, SK_OBS_FIN, &a, NULL));
    assert_int_equal(a, 300);
    states(s, SK_TCP_TIME_WAIT, SK_TCP_LAST_ACK);
}

/* RFC 9293 §3.6.1: a new SYN on a tuple in TIME-WAIT starts a new connection. */
static void test_time_wait_reuse(void **state)
{
    (void)state;
    handshake(0);
    feed(1000, A, (struct tseg){.flags = FIN | ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1});
    feed(1010, B, (struct tseg){.flags = FIN | ACKF, .seq = ISN_B + 1, .ack = ISN_A + 2});
    const struct sk_obs_segment *s =
        feed(1020, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 2, .ack = ISN_B + 2});
    states(s, SK_TCP_TIME_WAIT, SK_TCP_CLOSED);
    s = feed(5000, A, (struct tseg){.flags = SYN, .seq = ISN_A + 100000});
    assert_int_equal(s->conn, 2);
    assert_int_equal(s->index, 0);
    assert_true(has(s, SK_OBS_HANDSHAKE_SYN, NULL, NULL));
    assert_int_equal(s->state_before[A], SK_TCP_CLOSED);
    states(s, SK_TCP_SYN_SENT, SK_TCP_SYN_RECEIVED);
    assert_int_equal(sk_observer_conn_count(obs), 2);
    assert_int_equal(info(1).end, SK_OBS_END_CLOSED);
    assert_int_equal(info(2).isn[A], ISN_A + 100000);
    /* The new connection's segments go to it, in either direction. */
    s = feed(5100, B, (struct tseg){.flags = SYN | ACKF, .seq = 42, .ack = ISN_A + 100001});
    assert_int_equal(s->conn, 2);
    assert_int_equal(s->from, B);
}

/* RFC 6298 §5: the SYN sent again after 1 s, data sent again after 200 ms; the times are the
 * differences of the capture times given. */
static void test_retransmit_times(void **state)
{
    (void)state;
    feed(0, A, (struct tseg){.flags = SYN, .seq = ISN_A});
    const struct sk_obs_segment *s = feed(1000000, A, (struct tseg){.flags = SYN, .seq = ISN_A});
    uint64_t a, b;
    assert_true(has(s, SK_OBS_SYN_RETRANSMIT, &a, NULL));
    assert_int_equal(a, 1000000);
    states(s, SK_TCP_SYN_SENT, SK_TCP_SYN_RECEIVED);
    feed(1000100, B, (struct tseg){.flags = SYN | ACKF, .seq = ISN_B, .ack = ISN_A + 1});
    s = feed(1000150, B, (struct tseg){.flags = SYN | ACKF, .seq = ISN_B, .ack = ISN_A + 1});
    assert_true(has(s, SK_OBS_SYN_RETRANSMIT, &a, NULL));
    assert_int_equal(a, 50);
    feed(1000200, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1});
    feed(1001000, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1, .len = 500});
    s = feed(1201000, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1,
                                       .len = 500});
    assert_true(has(s, SK_OBS_RETRANSMIT, &a, &b));
    assert_int_equal(a, 200000);
    assert_int_equal(b, 500);
    /* Part old, part new: 500 resent, 300 new. */
    s = feed(1401000, A, (struct tseg){.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1,
                                       .len = 800});
    assert_true(has(s, SK_OBS_RETRANSMIT, &a, &b));
    assert_int_equal(a, 200000);
    assert_int_equal(b, 500);
    struct sk_obs_conn_info ci = info(1);
    assert_int_equal(ci.retransmits[A], 3); /* the SYN and the two data segments */
    assert_int_equal(ci.retransmits[B], 1); /* the SYN|ACK */
    assert_int_equal(ci.bytes[A], 800);     /* counted once */
}

/* RFC 5681 §2-3.2: three duplicate ACKs, then the fast retransmission of the hole. */
static void test_dup_acks_fast_retransmit(void **state)
{
    (void)state;
    handshake(0);
    uint32_t s0 = ISN_A + 1;
    for (int i = 0; i < 5; i++)
        feed(1000 + i, A, (struct tseg){.flags = ACKF, .seq = s0 + 1000u * (uint32_t)i,
                                        .ack = ISN_B + 1, .wnd = 502, .len = 1000});
    /* The first segment was lost after the capture point: B acks nothing new, four times. */
    const struct sk_obs_segment *s = NULL;
    for (int i = 0; i < 4; i++) {
        s = feed(2000 + i, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0,
                                            .wnd = 16000});
        uint64_t n;
        if (i == 0) {
            assert_false(has(s, SK_OBS_DUP_ACK, NULL, NULL)); /* the first is not a duplicate */
        } else {
            assert_true(has(s, SK_OBS_DUP_ACK, &n, NULL));
            assert_int_equal(n, (uint64_t)i);
        }
    }
    /* A window change makes it no duplicate (RFC 5681 §2 (e)). */
    s = feed(2010, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0, .wnd = 15000});
    assert_false(has(s, SK_OBS_DUP_ACK, NULL, NULL));
    assert_true(has(s, SK_OBS_WINDOW_UPDATE, NULL, NULL));
    s = feed(3000, A, (struct tseg){.flags = ACKF, .seq = s0, .ack = ISN_B + 1, .wnd = 502,
                                    .len = 1000});
    uint64_t a, b;
    assert_true(has(s, SK_OBS_FAST_RETRANSMIT, &a, &b));
    assert_int_equal(a, 2000);
    assert_int_equal(b, 3);
    /* The retransmission repaired it: the ACK covers all five. */
    s = feed(3100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 5000,
                                    .wnd = 15000});
    assert_int_equal(s->nnotes, 0);
    assert_int_equal(info(1).retransmits[A], 1);
    assert_int_equal(info(1).bytes[A], 5000);
}

/* RFC 2018 §3 SACK blocks; RFC 2883 §4 a D-SACK of a retransmission that was not needed. */
static void test_sack_dsack(void **state)
{
    (void)state;
    handshake(0);
    uint32_t s0 = ISN_A + 1;
    for (int i = 0; i < 3; i++)
        feed(1000 + i, A, (struct tseg){.flags = ACKF, .seq = s0 + 1000u * (uint32_t)i,
                                        .ack = ISN_B + 1, .wnd = 502, .len = 1000});
    struct tseg sk = {.flags = ACKF, .seq = ISN_B + 1, .ack = s0, .wnd = 16000};
    uint32_t blk[] = {s0 + 1000, s0 + 3000};
    opt_sack(&sk, 1, blk);
    const struct sk_obs_segment *s = feed(2000, B, sk);
    uint64_t a, b;
    assert_true(has(s, SK_OBS_SACK, &a, NULL));
    assert_int_equal(a, 1);
    assert_int_equal(s->seg.nsack, 1);
    assert_int_equal(s->seg.sack[0].left, s0 + 1000);
    assert_false(has(s, SK_OBS_DSACK, NULL, NULL));
    /* A resends the first segment; the original arrives too, B reports the duplicate. */
    s = feed(2500, A, (struct tseg){.flags = ACKF, .seq = s0, .ack = ISN_B + 1, .wnd = 502,
                                    .len = 1000});
    assert_true(has(s, SK_OBS_RETRANSMIT, NULL, NULL) ||
                has(s, SK_OBS_FAST_RETRANSMIT, NULL, NULL));
    struct tseg ds = {.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 3000, .wnd = 16000};
    uint32_t dblk[] = {s0, s0 + 1000};
    opt_sack(&ds, 1, dblk);
    s = feed(2600, B, ds);
    assert_true(has(s, SK_OBS_DSACK, &a, &b));
    assert_int_equal(a, s0);
    assert_int_equal(b, s0 + 1000);
    assert_true(has(s, SK_OBS_SPURIOUS_RETRANSMIT, NULL, NULL));
    /* RFC 2883 §4 second form: the first block inside the second. */
    struct tseg d2 = {.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 3000, .wnd = 16000};
    uint32_t d2blk[] = {s0 + 4500, s0 + 5000, s0 + 4000, s0 + 6000};
    opt_sack(&d2, 2, d2blk);
    s = feed(2700, B, d2);
    assert_true(has(s, SK_OBS_DSACK, NULL, NULL));
    assert_true(has(s, SK_OBS_SACK, &a, NULL));
    assert_int_equal(a, 2);
}

/* RFC 9293 §3.8.6.1: a zero window, a probe of one byte, then the window opens. */
static void test_zero_window_probe(void **state)
{
    (void)state;
    handshake(0);
    uint32_t s0 = ISN_A + 1;
    feed(1000, A, (struct tseg){.flags = ACKF, .seq = s0, .ack = ISN_B + 1, .len = 1000});
    const struct sk_obs_segment *s =
        feed(1100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 1000,
                                    .zero_wnd = true});
    assert_true(has(s, SK_OBS_ZERO_WINDOW, NULL, NULL));
    assert_int_equal(s->wnd_bytes, 0);
    /* A pure ACK from A at its SND.NXT is no probe. */
    s = feed(1200, A, (struct tseg){.flags = ACKF, .seq = s0 + 1000, .ack = ISN_B + 1});
    assert_int_equal(s->nnotes, 0);
    s = feed(300000, A, (struct tseg){.flags = ACKF, .seq = s0 + 1000, .ack = ISN_B + 1,
                                      .len = 1});
    uint64_t a;
    assert_true(has(s, SK_OBS_WINDOW_PROBE, &a, NULL));
    assert_int_equal(a, 1);
    assert_false(has(s, SK_OBS_RETRANSMIT, NULL, NULL));
    s = feed(300100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 1000,
                                      .zero_wnd = true});
    assert_false(has(s, SK_OBS_DUP_ACK, NULL, NULL));
    s = feed(900000, A, (struct tseg){.flags = ACKF, .seq = s0 + 1000, .ack = ISN_B + 1,
                                      .len = 1});
    assert_true(has(s, SK_OBS_WINDOW_PROBE, NULL, NULL));
    s = feed(1000000, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 1000,
                                       .wnd = 1000});
    assert_true(has(s, SK_OBS_WINDOW_OPEN, &a, NULL));
    assert_int_equal(a, 1000u << 2); /* B's scale is 2 */
    /* Data filling B's window exactly: 4000 bytes. */
    s = feed(1000100, A, (struct tseg){.flags = ACKF, .seq = s0 + 1000, .ack = ISN_B + 1,
                                       .len = 4000});
    assert_true(has(s, SK_OBS_WINDOW_FULL, NULL, NULL));
    assert_false(has(s, SK_OBS_RETRANSMIT, NULL, NULL));
    assert_int_equal(info(1).bytes[A], 5000);
}

/* RFC 9293 §3.8.4: SEG.SEQ = SND.NXT - 1, with 0 or 1 byte, nothing outstanding. */
static void test_keepalive(void **state)
{
    (void)state;
    handshake(0);
    uint32_t s0 = ISN_A + 1;
    const struct sk_obs_segment *s =
        feed(75000000, A, (struct tseg){.flags = ACKF, .seq = s0 - 1, .ack = ISN_B + 1,
                                        .wnd = 502});
    uint64_t a;
    assert_true(has(s, SK_OBS_KEEPALIVE, &a, NULL));
    assert_int_equal(a, 0);
    s = feed(75000100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0,
                                        .wnd = 16000});
    assert_true(has(s, SK_OBS_KEEPALIVE_ACK, NULL, NULL));
    /* The one-byte form (a garbage byte already acknowledged). */
    s = feed(150000000, A, (struct tseg){.flags = ACKF, .seq = s0 - 1, .ack = ISN_B + 1,
                                         .wnd = 502, .len = 1});
    assert_true(has(s, SK_OBS_KEEPALIVE, &a, NULL));
    assert_int_equal(a, 1);
    assert_false(has(s, SK_OBS_RETRANSMIT, NULL, NULL));
    assert_int_equal(info(1).retransmits[A], 0);
    assert_int_equal(info(1).bytes[A], 0);
}

/* Data above a gap, then the gap's data: out of order, then filling it (never seen before). */
static void test_out_of_order_fill(void **state)
{
    (void)state;
    handshake(0);
    uint32_t s0 = ISN_A + 1;
    feed(1000, A, (struct tseg){.flags = ACKF, .seq = s0, .ack = ISN_B + 1, .len = 100});
    const struct sk_obs_segment *s =
        feed(1010, A, (struct tseg){.flags = ACKF, .seq = s0 + 300, .ack = ISN_B + 1, .len = 100});
    uint64_t a;
    assert_true(has(s, SK_OBS_OUT_OF_ORDER, &a, NULL));
    assert_int_equal(a, 200);
    s = feed(1020, A, (struct tseg){.flags = ACKF, .seq = s0 + 100, .ack = ISN_B + 1, .len = 200});
    assert_true(has(s, SK_OBS_FILLS_GAP, &a, NULL));
    assert_int_equal(a, 200);
    assert_false(has(s, SK_OBS_RETRANSMIT, NULL, NULL));
    assert_int_equal(info(1).bytes[A], 400);
    assert_int_equal(info(1).retransmits[A], 0);
}

/* An ACK for data the capture never showed; one beyond anything possible. */
static void test_capture_missed(void **state)
{
    (void)state;
    handshake(0);
    uint32_t s0 = ISN_A + 1;
    feed(1000, A, (struct tseg){.flags = ACKF, .seq = s0, .ack = ISN_B + 1, .len = 100});
    const struct sk_obs_segment *s =
        feed(1100, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 1100,
                                    .wnd = 16000});
    uint64_t a;
    assert_true(has(s, SK_OBS_CAPTURE_MISSED, &a, NULL));
    assert_int_equal(a, 1000);
    assert_int_equal(info(1).bytes[A], 1100);
    /* Beyond A's window of 502 << 7 bytes: nothing A could have sent. */
    s = feed(1200, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = s0 + 1100 + 200000,
                                    .wnd = 16000});
    assert_true(has(s, SK_OBS_ACK_UNSEEN, NULL, NULL));
    assert_false(has(s, SK_OBS_CAPTURE_MISSED, NULL, NULL));
}

/* The capture kept 40 of 1000 payload bytes: reported, the segment still counted whole. */
static void test_snaplen_cut(void **state)
{
    (void)state;
    handshake(0);
    static uint8_t pkt[2000];
    struct tseg t = {.flags = ACKF, .seq = ISN_A + 1, .ack = ISN_B + 1, .wnd = 502, .len = 1000};
    size_t n = build4(pkt, A, &t);
    assert_int_equal(n, 1040);
    assert_int_equal(sk_observer_input(obs, 1000, pkt, 80, n), SK_OBS_TCP);
    const struct sk_obs_segment *s = &logv[nlog - 1];
    uint64_t a, b;
    assert_true(has(s, SK_OBS_SNAPLEN_CUT, &a, &b));
    assert_int_equal(a, 40);
    assert_int_equal(b, 1000);
    assert_int_equal(s->captured_len, 40);
    assert_int_equal(s->seg.len, 1000);
    assert_int_equal(info(1).bytes[A], 1000);
    /* Cut inside the TCP header: malformed, nothing reported. */
    int before = nlog;
    assert_int_equal(sk_observer_input(obs, 1100, pkt, 30, n), SK_OBS_MALFORMED);
    assert_int_equal(nlog, before);
    /* A total length beyond the wire length is a broken packet, not a cut one. */
    assert_int_equal(sk_observer_input(obs, 1200, pkt, 80, 80), SK_OBS_MALFORMED);
}

/* Picked up mid-stream: ESTABLISHED, no ISN, no scale known. */
static void test_mid_stream(void **state)
{
    (void)state;
    const struct sk_obs_segment *s =
        feed(0, B, (struct tseg){.flags = ACKF, .seq = 777, .ack = 888, .wnd = 300, .len = 10});
    assert_true(has(s, SK_OBS_MID_STREAM, NULL, NULL));
    assert_int_equal(s->from, 0); /* the first sender is side 0 */
    states(s, SK_TCP_ESTABLISHED, SK_TCP_ESTABLISHED);
    assert_false(s->rel_known);
    assert_int_equal(s->rel_seq, 0);
    assert_false(s->wnd_scale_known);
    assert_int_equal(s->wnd_bytes, 300);
    s = feed(10, A, (struct tseg){.flags = ACKF, .seq = 888, .ack = 787, .wnd = 400});
    assert_int_equal(s->from, 1);
    assert_int_equal(s->nnotes, 0);
    s = feed(20, A, (struct tseg){.flags = FIN | ACKF, .seq = 888, .ack = 787, .wnd = 400});
    assert_int_equal(s->state_after[1], SK_TCP_FIN_WAIT_1);
    assert_int_equal(s->state_after[0], SK_TCP_CLOSE_WAIT);
    struct sk_obs_conn_info ci = info(1);
    assert_true(ci.mid_stream);
    assert_false(ci.isn_known[0] || ci.isn_known[1]);
    assert_int_equal(ci.wscale[0], -1);
    assert_int_equal(ci.port[0], 80);
    assert_int_equal(ci.bytes[0], 10);
}

/* Sequence numbers across 2^32 (RFC 9293 §3.4): every comparison is modular. */
static void test_sequence_wrap(void **state)
{
    (void)state;
    uint32_t isn = 0xfffffe00u;
    feed(0, A, (struct tseg){.flags = SYN, .seq = isn});
    feed(10, B, (struct tseg){.flags = SYN | ACKF, .seq = ISN_B, .ack = isn + 1, .wnd = 30000});
    feed(20, A, (struct tseg){.flags = ACKF, .seq = isn + 1, .ack = ISN_B + 1});
    const struct sk_obs_segment *s = feed(30, A, (struct tseg){.flags = ACKF, .seq = isn + 1,
                                                               .ack = ISN_B + 1, .len = 1000});
    assert_int_equal(s->rel_seq, 1);
    assert_int_equal(s->nnotes, 0);
    s = feed(40, A, (struct tseg){.flags = ACKF, .seq = isn + 1001, .ack = ISN_B + 1, .len = 1000});
    assert_int_equal(s->seg.seq, 0x000001e9u); /* 0xfffffe00 + 1001 - 2^32 */
    assert_int_equal(s->rel_seq, 1001);
    assert_int_equal(s->nnotes, 0);
    s = feed(50, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = isn + 2001,
                                  .wnd = 30000});
    assert_int_equal(s->rel_ack, 2001);
    assert_int_equal(s->nnotes, 0);
    s = feed(60, A, (struct tseg){.flags = ACKF, .seq = isn + 1001, .ack = ISN_B + 1, .len = 1000});
    assert_true(has(s, SK_OBS_RETRANSMIT, NULL, NULL));
    s = feed(70, A, (struct tseg){.flags = FIN | ACKF, .seq = isn + 2001, .ack = ISN_B + 1});
    states(s, SK_TCP_FIN_WAIT_1, SK_TCP_CLOSE_WAIT);
    s = feed(80, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = isn + 2002,
                                  .wnd = 30000});
    assert_true(has(s, SK_OBS_FIN_ACKED, NULL, NULL));
    assert_int_equal(info(1).bytes[A], 2000);
}

/* Anything that is not a whole TCP header inside IPv4 or IPv6 is refused and counted; nothing
 * is reported for it. */
static void test_malformed(void **state)
{
    (void)state;
    static uint8_t pkt[200];
    struct tseg t = {.flags = SYN, .seq = 1};
    size_t n = build4(pkt, A, &t);
    assert_int_equal(n, 40);
    assert_int_equal(sk_observer_input(obs, 0, NULL, 0, 0), SK_OBS_MALFORMED);
    assert_int_equal(sk_observer_input(obs, 0, pkt, 0, 0), SK_OBS_MALFORMED);
    for (size_t k = 1; k < n; k++) /* every truncation of a 40-byte SYN */
        assert_int_equal(sk_observer_input(obs, 0, pkt, k, k), SK_OBS_MALFORMED);
    uint8_t bad[40];
    memcpy(bad, pkt, n);
    bad[0] = 0x55; /* version 5 */
    assert_int_equal(sk_observer_input(obs, 0, bad, n, n), SK_OBS_MALFORMED);
    memcpy(bad, pkt, n);
    bad[0] = 0x44; /* IHL 4: below 20 bytes (RFC 791 §3.1) */
    assert_int_equal(sk_observer_input(obs, 0, bad, n, n), SK_OBS_MALFORMED);
    memcpy(bad, pkt, n);
    bad[32] = 0x40; /* TCP data offset 4 (RFC 9293 §3.1: at least 5) */
    assert_int_equal(sk_observer_input(obs, 0, bad, n, n), SK_OBS_MALFORMED);
    memcpy(bad, pkt, n);
    bad[32] = 0xf0; /* data offset 15: 60 bytes, more than the packet */
    assert_int_equal(sk_observer_input(obs, 0, bad, n, n), SK_OBS_MALFORMED);
    /* An option whose length runs past the header (RFC 9293 §3.2). */
    struct tseg o = {.flags = SYN, .seq = 1};
    o.opt[0] = 2, o.opt[1] = 9, o.optlen = 4;
    n = build4(pkt, A, &o);
    assert_int_equal(sk_observer_input(obs, 0, pkt, n, n), SK_OBS_MALFORMED);
    /* UDP (protocol 17) is well-formed, not TCP. */
    n = build4(pkt, A, &t);
    pkt[9] = 17;
    assert_int_equal(sk_observer_input(obs, 0, pkt, n, n), SK_OBS_NOT_TCP);
    /* IPv6 cut inside its fixed header; a payload length beyond the wire length. */
    n = build6(pkt, A, &t);
    assert_int_equal(sk_observer_input(obs, 0, pkt, 39, 39), SK_OBS_MALFORMED);
    assert_int_equal(sk_observer_input(obs, 0, pkt, n - 1, n - 1), SK_OBS_MALFORMED);
    struct sk_observer_stats st;
    sk_observer_get_stats(obs, &st);
    assert_int_equal(st.tcp, 0);
    assert_int_equal(st.not_tcp, 1);
    assert_int_equal(st.malformed, st.packets - 1);
    assert_int_equal(st.conns, 0);
    assert_int_equal(nlog, 0);
}

/* Fragments are not reassembled (RFC 791 §3.2, RFC 8200 §4.5): counted, not followed; an
 * atomic IPv6 fragment (offset 0, M clear, RFC 6946) is a whole packet. */
static void test_fragments(void **state)
{
    (void)state;
    static uint8_t pkt[200];
    struct tseg t = {.flags = SYN, .seq = 1};
    size_t n = build4(pkt, A, &t);
    pkt[6] = 0x20; /* MF */
    assert_int_equal(sk_observer_input(obs, 0, pkt, n, n), SK_OBS_FRAGMENT);
    pkt[6] = 0x00, pkt[7] = 0x10; /* offset 16 * 8 */
    assert_int_equal(sk_observer_input(obs, 0, pkt, n, n), SK_OBS_FRAGMENT);
    /* IPv6: fixed header, Fragment header (next 6, offset 0, M set, id 7), then TCP. */
    uint8_t v6[200];
    size_t m = build6(v6, A, &t);
    memmove(v6 + 48, v6 + 40, m - 40);
    v6[6] = 44;
    memset(v6 + 40, 0, 8);
    v6[40] = 6;
    v6[43] = 1; /* M */
    v6[47] = 7;
    put16(v6 + 4, (uint16_t)(m - 40 + 8));
    assert_int_equal(sk_observer_input(obs, 0, v6, m + 8, m + 8), SK_OBS_FRAGMENT);
    v6[43] = 0; /* atomic */
    assert_int_equal(sk_observer_input(obs, 0, v6, m + 8, m + 8), SK_OBS_TCP);
    struct sk_observer_stats st;
    sk_observer_get_stats(obs, &st);
    assert_int_equal(st.fragments, 3);
    assert_int_equal(st.tcp, 1);
    assert_int_equal(nlog, 1);
}

/* max_conns: connections followed at once; beyond, counted and ignored. Once one is over
 * (both CLOSED) it no longer counts. */
static void test_max_conns(void **state)
{
    (void)state;
    sk_observer_free(obs);
    obs = new_obs(2);
    feed(0, A, (struct tseg){.flags = SYN, .seq = 1, .port_a = 1001});
    feed(1, A, (struct tseg){.flags = SYN, .seq = 1, .port_a = 1002});
    static uint8_t pkt[100];
    struct tseg t = {.flags = SYN, .seq = 1, .port_a = 1003};
    size_t n = build4(pkt, A, &t);
    assert_int_equal(sk_observer_input(obs, 2, pkt, n, n), SK_OBS_LIMIT);
    /* The first is refused: over, so the third may be followed now. */
    feed(3, B, (struct tseg){.flags = RST | ACKF, .ack = 2, .port_a = 1001});
    assert_int_equal(sk_observer_input(obs, 4, pkt, n, n), SK_OBS_TCP);
    struct sk_observer_stats st;
    sk_observer_get_stats(obs, &st);
    assert_int_equal(st.conn_limit, 1);
    assert_int_equal(st.conns, 3);
}

/* An allocator that refuses after a budget of calls, and accounts for every byte. */
struct budget {
    int calls_left;
    long long live_bytes;
    int live_blocks;
};
static void *budget_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct budget *b = ctx;
    if (new_size == 0) {
        if (ptr) {
            b->live_bytes -= (long long)old_size;
            b->live_blocks--;
        }
        free(ptr);
        return NULL;
    }
    if (b->calls_left-- <= 0)
        return NULL;
    void *p = realloc(ptr, new_size);
    if (p) {
        b->live_bytes += (long long)new_size - (ptr ? (long long)old_size : 0);
        if (!ptr)
            b->live_blocks++;
    }
    return p;
}

/* Every allocation refused in turn: NULL from new, SK_OBS_NO_MEMORY counted, never a leak. */
static void test_allocator_failure(void **state)
{
    (void)state;
    static uint8_t pkt[100];
    for (int budget = 0; budget < 40; budget++) {
        struct budget b = {.calls_left = budget};
        struct sk_observer_config cfg = {.alloc = budget_alloc, .alloc_ctx = &b};
        struct sk_observer *o = sk_observer_new(&cfg);
        if (!o) {
            assert_int_equal(budget, 0);
            continue;
        }
        uint64_t ok = 0, nomem = 0;
        for (uint16_t i = 0; i < 40; i++) {
            struct tseg t = {.flags = SYN, .seq = i, .port_a = (uint16_t)(2000 + i)};
            size_t n = build4(pkt, A, &t);
            enum sk_obs_result r = sk_observer_input(o, i, pkt, n, n);
            assert_true(r == SK_OBS_TCP || r == SK_OBS_NO_MEMORY);
            ok += r == SK_OBS_TCP;
            nomem += r == SK_OBS_NO_MEMORY;
        }
        struct sk_observer_stats st;
        sk_observer_get_stats(o, &st);
        assert_int_equal(st.no_memory, nomem);
        assert_int_equal(st.conns, ok);
        assert_true(nomem > 0);
        sk_observer_free(o);
        assert_int_equal(b.live_blocks, 0);
        assert_int_equal(b.live_bytes, 0);
    }
}

/* §3.10.7.3: a SYN|ACK that does not acknowledge ISN+1 moves nothing; the opener's RST in
 * SYN-SENT gives up its own opening. */
static void test_bad_synack_and_syn_sent_rst(void **state)
{
    (void)state;
    feed(0, A, (struct tseg){.flags = SYN, .seq = ISN_A});
    const struct sk_obs_segment *s =
        feed(10, B, (struct tseg){.flags = SYN | ACKF, .seq = ISN_B, .ack = ISN_A + 7});
    uint64_t a, b;
    assert_true(has(s, SK_OBS_SYN_BAD_ACK, &a, &b));
    assert_int_equal(a, ISN_A + 1);
    assert_int_equal(b, ISN_A + 7);
    states(s, SK_TCP_SYN_SENT, SK_TCP_SYN_RECEIVED);
    s = feed(20, A, (struct tseg){.flags = RST, .seq = ISN_A + 1});
    assert_true(has(s, SK_OBS_RST_SYN_SENT, NULL, NULL));
    states(s, SK_TCP_CLOSED, SK_TCP_CLOSED);
    assert_int_equal(info(1).end, SK_OBS_END_RESET);
    assert_int_equal(info(1).reset_by, A);
}

/* RFC 5961 §4: a SYN on an established connection opens nothing; the answer is a challenge
 * ACK. An unanswered SYN retried with a new ISN is a new attempt: a new connection. */
static void test_syn_in_established(void **state)
{
    (void)state;
    handshake(0);
    const struct sk_obs_segment *s = feed(1000, A, (struct tseg){.flags = SYN, .seq = 99999});
    assert_int_equal(s->conn, 1);
    states(s, SK_TCP_ESTABLISHED, SK_TCP_ESTABLISHED);
    s = feed(1010, B, (struct tseg){.flags = ACKF, .seq = ISN_B + 1, .ack = ISN_A + 1});
    assert_true(has(s, SK_OBS_CHALLENGE_ACK, NULL, NULL));
    assert_int_equal(sk_observer_conn_count(obs), 1);
    feed(2000, A, (struct tseg){.flags = SYN, .seq = 10, .port_a = 50000});
    s = feed(3000, A, (struct tseg){.flags = SYN, .seq = 20, .port_a = 50000});
    assert_int_equal(s->conn, 3);
    assert_true(has(s, SK_OBS_HANDSHAKE_SYN, NULL, NULL));
    assert_int_equal(info(2).end, SK_OBS_END_HANDSHAKE);
}

/* The ids are stable kebab-case words, one per kind, documented in observe.h. */
static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sk_obs_note_name(SK_OBS_HANDSHAKE_SYN), "handshake-syn");
    assert_string_equal(sk_obs_note_name(SK_OBS_RETRANSMIT), "retransmit");
    assert_string_equal(sk_obs_note_name(SK_OBS_RST_REFUSED), "rst-refused");
    assert_string_equal(sk_obs_note_name(SK_OBS_DUP_ACK), "dup-ack");
    assert_string_equal(sk_obs_note_name(SK_OBS_TIME_WAIT), "time-wait");
    assert_string_equal(sk_obs_note_name(SK_OBS_NOTE_COUNT), "unknown");
    assert_string_equal(sk_obs_note_name((enum sk_obs_note_kind)-1), "unknown");
    for (int k = 1; k < SK_OBS_NOTE_COUNT; k++) {
        const char *n = sk_obs_note_name((enum sk_obs_note_kind)k);
        assert_true(strcmp(n, "unknown") != 0);
        for (const char *c = n; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || *c == '-');
        for (int j = 1; j < k; j++)
            assert_true(strcmp(n, sk_obs_note_name((enum sk_obs_note_kind)j)) != 0);
    }
    assert_string_equal(sk_obs_end_name(SK_OBS_END_OPEN), "open");
    assert_string_equal(sk_obs_end_name(SK_OBS_END_HANDSHAKE), "handshake");
    assert_string_equal(sk_obs_end_name(SK_OBS_END_REFUSED), "refused");
    assert_string_equal(sk_obs_end_name(SK_OBS_END_CLOSED), "closed");
    assert_string_equal(sk_obs_end_name(SK_OBS_END_HALF_CLOSED), "half-closed");
    assert_string_equal(sk_obs_end_name(SK_OBS_END_RESET), "reset");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_data_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_data_close, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_wait_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_wait_reuse, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_retransmit_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dup_acks_fast_retransmit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_dsack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sack_dsack, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_zero_window_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snaplen_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_conns, setup, teardown),
        cmocka_unit_test(test_allocator_failure),
        cmocka_unit_test_setup_teardown(test_bad_synack_and_syn_sent_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syn_in_established, setup, teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
