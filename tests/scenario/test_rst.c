/* Scenario: resets (RFC 9293 §3.10.7.1-4, §3.10.5) hardened by RFC 5961.
 *
 * RST generation for segments that find no connection or an unacceptable ACK, RST acceptance
 * (only an exact RCV.NXT resets; inside the window a challenge ACK; outside nothing), SYN and
 * ACK checks of RFC 5961, and ABORT. The raw peer sees exactly what the stack sends. Every
 * ISS expected is RFC 6528's for the key the test hands the stack (tests/ref/ref_isn.h),
 * computed here; the peer's ISNs are the test's own. */
#include "../ref/ref_raw.h"

static struct ref_key key;

static struct raw *keyed_raw(void)
{
    return ref_raw_new(NULL, &key, 11);
}

/* SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the SYN counts. */
static void test_syn_to_closed_port_gets_rst_ack(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    raw_send(r, .flags = SYN, .seq = 1000);
    const struct raw_out *o = raw_expect(r, RST | ACK, 0, 1001);
    assert_int_equal(o->sport, RAW_LOCAL_PORT);
    assert_int_equal(o->dport, RAW_PEER_PORT);
    assert_int_equal(o->wnd, 0);
    raw_expect_none(r);
    assert_int_equal(drops(r->st, SK_DROP_TCP_NO_SOCKET), 1);
    assert_int_equal(counters(r->st).tcp_rst_out, 1);
    /* Data and FIN count in SEG.LEN too. */
    raw_send(r, .flags = SYN | FIN, .seq = 5000, .data = "abcdef", .len = 6);
    raw_expect(r, RST | ACK, 0, 5008);
    raw_free(r);
}

/* ACK to a closed port: <SEQ=SEG.ACK><CTL=RST>. */
static void test_ack_to_closed_port_gets_rst_seq_seg_ack(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    raw_send(r, .flags = ACK, .seq = 1000, .ack = 0xdeadbeef);
    raw_expect(r, RST, 0xdeadbeef, 0);
    raw_expect_none(r);
    raw_free(r);
}

/* RST to a closed port: nothing goes back (never answer a RST with a RST). */
static void test_rst_to_closed_port_is_silently_dropped(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    raw_send(r, .flags = RST, .seq = 1000);
    raw_send(r, .flags = RST | ACK, .seq = 1000, .ack = 77);
    raw_expect_none(r);
    assert_int_equal(drops(r->st, SK_DROP_TCP_NO_SOCKET), 2);
    raw_free(r);
}

/* LISTEN (§3.10.7.2): an ACK gets <SEQ=SEG.ACK><CTL=RST>; a RST is ignored; a segment with
 * neither SYN nor ACK is dropped. The listener stays and still accepts. */
static void test_listener_answers_ack_with_rst_and_ignores_rst(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    raw_send(r, .flags = ACK, .seq = 1000, .ack = 4242);
    raw_expect(r, RST, 4242, 0);
    raw_send(r, .flags = RST, .seq = 1000);
    raw_send(r, .flags = FIN, .seq = 1000);
    raw_expect_none(r);
    assert_int_equal(drops(r->st, SK_DROP_TCP_ACK_INVALID), 1);
    assert_int_equal(drops(r->st, SK_DROP_TCP_RST_INVALID), 1);
    assert_int_equal(drops(r->st, SK_DROP_TCP_NO_ACK), 1);
    expect_state(l, SK_TCP_LISTEN);
    assert_int_equal(counters(r->st).connections, 1);
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 7000);
    raw_expect(r, SYN | ACK, iss, 7001);
    raw_send(r, .flags = ACK, .seq = 7001, .ack = iss + 1);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* connect() to a port nobody listens on: the RST,ACK refuses it. SYN-SENT -> CLOSED with
 * -ECONNREFUSED, which recv and send then return. */
static void test_connect_refused(void **state)
{
    (void)state;
    struct ref_key ka;
    struct sk_config ca_cfg;
    harness_config(&ca_cfg, SIDE_A);
    ref_isn_config(&ca_cfg, &ka, 12);
    struct pair *p = pair_new(&ca_cfg, NULL);
    struct sk_tcp *ca;
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, 81, &ca), 0);
    struct sk_tcp_info ia = info(ca);
    /* The ephemeral port is the stack's choice, an input of F; the ISS follows from it. */
    uint32_t iss = ref_isn(&ka, ADDR_A, ia.lport, ADDR_B, 81, pair_now(p));
    expect_seg(p, A_TO_B, SYN, iss, 0);
    pair_run_until(p, T0 + LINK_DELAY);
    expect_seg(p, B_TO_A, RST | ACK, 0, iss + 1);
    pair_run_until(p, T0 + 2 * LINK_DELAY - 1);
    expect_state(ca, SK_TCP_SYN_SENT);
    pair_run_until(p, T0 + 2 * LINK_DELAY);
    expect_state(ca, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(ca), -ECONNREFUSED);
    char buf[4];
    assert_int_equal(sk_tcp_recv(ca, buf, sizeof(buf)), -ECONNREFUSED);
    assert_int_equal(sk_tcp_send(ca, "x", 1), -ECONNREFUSED);
    assert_true(sk_tcp_events(ca) & SK_EV_ERROR);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_CLOSED);
    pair_run_for(p, SEC(10));
    expect_no_seg(p, A_TO_B); /* no SYN retransmission after the refusal */
    assert_int_equal(counters(p->a).tcp_conn_failed, 1);
    sk_tcp_close(ca);
    pair_free(p);
}

/* RST with SEG.SEQ = RCV.NXT in ESTABLISHED: CLOSED, -ECONNRESET; nothing sent back. */
static void test_exact_rst_resets_established(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    raw_send(r, .flags = RST, .seq = 1001);
    raw_expect_none(r);
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -ECONNRESET);
    char buf[4];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), -ECONNRESET);
    assert_int_equal(sk_tcp_send(c, "x", 1), -ECONNRESET);
    expect_states(&r->rec, 0, conn_id(c), SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_ESTABLISHED,
                  SK_TCP_CLOSED);
    sk_tcp_close(c);
    raw_free(r);
}

/* RST in CLOSE-WAIT (after the peer's FIN): -EPIPE, as Linux's tcp_reset (net/ipv4/
 * tcp_input.c), since only our sending side is left to fail; in FIN-WAIT-2: -ECONNRESET. */
static void test_exact_rst_resets_close_wait_and_fin_wait_2(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 1);
    raw_expect(r, ACK, iss + 1, 1002);
    expect_state(c, SK_TCP_CLOSE_WAIT);
    raw_send(r, .flags = RST, .seq = 1002);
    raw_expect_none(r);
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -EPIPE);
    sk_tcp_close(c);

    struct sk_tcp *d;
    uint32_t diss = ref_raw_iss(r, &key, 81, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, 81, ADDR_B, RAW_PEER_PORT, &d), 0);
    raw_expect(r, SYN, diss, 0);
    raw_send(r, .dport = 81, .flags = SYN | ACK, .seq = 3000, .ack = diss + 1);
    raw_expect(r, ACK, diss + 1, 3001);
    sk_tcp_shutdown(d);
    raw_expect(r, FIN | ACK, diss + 1, 3001);
    raw_send(r, .dport = 81, .flags = ACK, .seq = 3001, .ack = diss + 2);
    expect_state(d, SK_TCP_FIN_WAIT_2);
    raw_send(r, .dport = 81, .flags = RST, .seq = 3001);
    expect_state(d, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(d), -ECONNRESET);
    raw_expect_none(r);
    raw_free(r);
}

/* RST in LAST-ACK: CLOSED without an error (the application already closed). */
static void test_rst_in_last_ack_closes_quietly(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    uint64_t id = conn_id(c);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 1);
    raw_expect(r, ACK, iss + 1, 1002);
    sk_tcp_close(c);
    raw_expect(r, FIN | ACK, iss + 1, 1002);
    raw_send(r, .flags = RST, .seq = 1002);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 0);
    expect_states(&r->rec, 0, id, SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_ESTABLISHED,
                  SK_TCP_CLOSE_WAIT, SK_TCP_LAST_ACK, SK_TCP_CLOSED);
    raw_free(r);
}

/* RFC 5961 §3.2: a RST inside the window but not at RCV.NXT gets a challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the connection lives on. §7: challenge ACKs are rate
 * limited. Here the connection's limit (invalid_ack_ratelimit_us, 300 ms in this test) holds
 * back the answer to a second RST at once; once 300 ms have passed, a third is answered. The
 * stack's limit (1000 a second by default) is far away. */
static void test_inexact_rst_in_window_gets_challenge_ack(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.invalid_ack_ratelimit_us = 300000;
    struct raw *r = ref_raw_new(&cfg, &key, 11);
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    raw_send(r, .flags = RST, .seq = 1002);
    raw_expect(r, ACK, iss + 1, 1001);
    raw_send(r, .flags = RST | ACK, .seq = 1001 + 30000, .ack = iss + 1);
    raw_expect_none(r);
    raw_run_for(r, MS(300) - 1);
    raw_send(r, .flags = RST, .seq = 1003);
    raw_expect_none(r);
    raw_run_for(r, 1);
    raw_send(r, .flags = RST, .seq = 1004);
    raw_expect(r, ACK, iss + 1, 1001);
    raw_expect_none(r);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_error(c), 0);
    assert_int_equal(counters(r->st).tcp_challenge_acks, 2);
    assert_int_equal(counters(r->st).tcp_invalid_acks_limited, 2);
    assert_int_equal(counters(r->st).tcp_challenge_acks_limited, 0);
    assert_int_equal(drops(r->st, SK_DROP_TCP_RST_INVALID), 4);
    /* The real one still works, limit or not. */
    raw_send(r, .flags = RST, .seq = 1001);
    expect_state(c, SK_TCP_CLOSED);
    raw_free(r);
}

/* A RST outside the window is dropped without a word (RFC 9293 §3.10.7.4 first check:
 * "If the RST bit is set, drop the segment and return"). */
static void test_out_of_window_rst_is_silently_dropped(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    raw_send(r, .flags = RST, .seq = 1001 + 70000); /* beyond the 64 KiB window */
    raw_send(r, .flags = RST, .seq = 1000);         /* just before RCV.NXT */
    raw_send(r, .flags = RST | ACK, .seq = 1001 - 100000, .ack = iss + 1);
    raw_expect_none(r);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_int_equal(drops(r->st, SK_DROP_TCP_SEQ), 3);
    assert_int_equal(counters(r->st).tcp_challenge_acks, 0);
    raw_free(r);
}

/* SYN-SENT (§3.10.7.3): a RST with an acceptable ACK refuses; a RST without ACK is dropped;
 * an unacceptable ACK (<= ISS or > SND.NXT) gets <SEQ=SEG.ACK><CTL=RST>. */
static void test_syn_sent_rst_and_bad_ack(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    struct sk_tcp *c;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect(r, SYN, iss, 0);

    raw_send(r, .flags = RST, .seq = 0);
    raw_expect_none(r);
    expect_state(c, SK_TCP_SYN_SENT);

    raw_send(r, .flags = ACK, .seq = 500, .ack = iss + 5);
    raw_expect(r, RST, iss + 5, 0);
    raw_send(r, .flags = ACK, .seq = 500, .ack = iss);
    raw_expect(r, RST, iss, 0);
    raw_send(r, .flags = SYN | ACK, .seq = 500, .ack = iss + 2);
    raw_expect(r, RST, iss + 2, 0);
    raw_send(r, .flags = RST | ACK, .seq = 0, .ack = iss + 7); /* bad ACK, but a RST: silence */
    raw_expect_none(r);
    expect_state(c, SK_TCP_SYN_SENT);
    assert_int_equal(drops(r->st, SK_DROP_TCP_ACK_INVALID), 4);

    raw_send(r, .flags = RST | ACK, .seq = 0, .ack = iss + 1);
    raw_expect_none(r);
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -ECONNREFUSED);
    sk_tcp_close(c);
    raw_free(r);
}

/* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK "irrespective of the
 * sequence number", in the window or not; nothing else changes. The second comes after the
 * connection's limit on such answers (invalid_ack_ratelimit_us, default 500 ms, §7). */
static void test_syn_in_established_gets_challenge_ack(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    raw_send(r, .flags = SYN, .seq = 1001);          /* in window */
    raw_expect(r, ACK, iss + 1, 1001);
    raw_run_for(r, MS(500));
    raw_send(r, .flags = SYN, .seq = 99);            /* out of window: a challenge ACK too */
    raw_expect(r, ACK, iss + 1, 1001);
    raw_expect_none(r);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_int_equal(drops(r->st, SK_DROP_TCP_SYN_INVALID), 2);
    assert_int_equal(counters(r->st).tcp_challenge_acks, 2);
    raw_free(r);
}

/* RFC 5961 §5.2: an ACK for data never sent (beyond SND.NXT) gets a challenge ACK and the
 * whole segment, data included, is dropped. */
static void test_ack_beyond_snd_nxt_gets_challenge_ack_and_is_dropped(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 1000, &iss);
    raw_send(r, .flags = ACK | PSH, .seq = 1001, .ack = iss + 1000, .data = "evil", .len = 4);
    raw_expect(r, ACK, iss + 1, 1001);
    raw_expect_none(r);
    assert_int_equal(sk_tcp_readable(c), 0);
    assert_int_equal(info(c).rcv_nxt, 1001);
    assert_int_equal(info(c).snd_una, iss + 1);
    assert_int_equal(drops(r->st, SK_DROP_TCP_ACK_INVALID), 1);
    assert_int_equal(counters(r->st).tcp_challenge_acks, 1);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* SYN-RECEIVED (passive): an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>; the half-open
 * connection stays and the right ACK still completes it. */
static void test_syn_received_bad_ack_gets_rst(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 1000, .opts = SK_OPT_MSS, .mss = 1460);
    raw_expect(r, SYN | ACK, iss, 1001);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 9);
    raw_expect(r, RST, iss + 9, 0);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss);
    raw_expect(r, RST, iss, 0);
    raw_expect_none(r);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 1);
    raw_expect_none(r);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    expect_states(&r->rec, 0, conn_id(c), SK_TCP_LISTEN, SK_TCP_SYN_RECEIVED,
                  SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* SYN-RECEIVED (passive): a RST at RCV.NXT returns to LISTEN (the child goes), the listener
 * is untouched and nothing is sent. */
static void test_rst_in_syn_received_returns_to_listen(void **state)
{
    (void)state;
    struct raw *r = keyed_raw();
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 1000);
    raw_expect(r, SYN | ACK, iss, 1001);
    raw_send(r, .flags = RST, .seq = 1001);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
    raw_run_for(r, SEC(10)); /* no SYN,ACK retransmission for the dead child */
    raw_expect_none(r);
    raw_free(r);
}

/* ABORT in ESTABLISHED: <SEQ=SND.NXT><CTL=RST>; the peer sees -ECONNRESET. */
static void test_abort_sends_rst_and_peer_sees_econnreset(void **state)
{
    (void)state;
    struct ref_key ka, kb;
    struct sk_config cfg_a, cfg_b;
    harness_config(&cfg_a, SIDE_A);
    harness_config(&cfg_b, SIDE_B);
    ref_isn_config(&cfg_a, &ka, 13);
    ref_isn_config(&cfg_b, &kb, 14);
    struct pair *p = pair_new(&cfg_a, &cfg_b);
    struct sk_tcp *l, *ca, *cb;
    sk_time_us t_connect = pair_now(p);
    pair_establish(p, 80, &ca, &l, &cb);
    /* A's ISS at its connect, from its ephemeral port (the stack's choice, an input of F);
     * B's when A's SYN reached it, one link delay later. */
    uint16_t pa = info(ca).lport;
    uint32_t a = ref_isn(&ka, ADDR_A, pa, ADDR_B, 80, t_connect);
    uint32_t b = ref_isn(&kb, ADDR_B, 80, ADDR_A, pa, t_connect + LINK_DELAY);
    assert_int_equal(sk_tcp_send(ca, "12345", 5), 5);
    expect_data(p, A_TO_B, ACK | PSH, a + 1, b + 1, 5);
    sk_tcp_abort(ca); /* before the data is acknowledged: SND.NXT is past it */
    expect_seg(p, A_TO_B, RST, a + 6, 0);
    assert_int_equal(counters(p->a).connections, 0);
    pair_run_for(p, LINK_DELAY);
    expect_state(cb, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(cb), -ECONNRESET);
    char buf[8];
    /* The data that arrived before the RST is still readable, then the error. */
    assert_int_equal(sk_tcp_recv(cb, buf, sizeof(buf)), 5);
    assert_int_equal(sk_tcp_recv(cb, buf, sizeof(buf)), -ECONNRESET);
    pair_run_for(p, SEC(5));
    expect_no_seg(p, B_TO_A);
    expect_no_seg(p, A_TO_B);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_syn_to_closed_port_gets_rst_ack),
        TEST(test_ack_to_closed_port_gets_rst_seq_seg_ack),
        TEST(test_rst_to_closed_port_is_silently_dropped),
        TEST(test_listener_answers_ack_with_rst_and_ignores_rst),
        TEST(test_connect_refused),
        TEST(test_exact_rst_resets_established),
        TEST(test_exact_rst_resets_close_wait_and_fin_wait_2),
        TEST(test_rst_in_last_ack_closes_quietly),
        TEST(test_inexact_rst_in_window_gets_challenge_ack),
        TEST(test_out_of_window_rst_is_silently_dropped),
        TEST(test_syn_sent_rst_and_bad_ack),
        TEST(test_syn_in_established_gets_challenge_ack),
        TEST(test_ack_beyond_snd_nxt_gets_challenge_ack_and_is_dropped),
        TEST(test_syn_received_bad_ack_gets_rst),
        TEST(test_rst_in_syn_received_returns_to_listen),
        TEST(test_abort_sends_rst_and_peer_sees_econnreset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
