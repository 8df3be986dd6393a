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
    uint16_t wnd;
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
static inline void opt_sack(struct tseg *s, int n, const uint32_t *edges)
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
    put16(p + 14, s->wnd);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_data_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_data_close, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
