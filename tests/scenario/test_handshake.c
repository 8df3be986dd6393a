/* Scenario: opening a connection (RFC 9293 §3.5, §3.10.1, §3.10.7.2-3).
 *
 * Three-way handshake with and without options, options declined by the peer, simultaneous
 * open, and CLOSE in SYN-SENT. Every segment is checked: flags, seq, ack, window, options,
 * and the virtual time it left. */
#include "harness.h"

/* Active CLOSED -> SYN-SENT -> ESTABLISHED; passive LISTEN -> SYN-RECEIVED -> ESTABLISHED.
 * Both sides offer MSS, window scale, SACK-permitted and timestamps; all are agreed. */
static void test_three_way_handshake_with_options(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    struct sk_tcp *l, *ca, *cb = NULL;
    assert_int_equal(sk_tcp_listen(p->b, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, 80, &ca), 0);
    expect_state(ca, SK_TCP_SYN_SENT);

    pair_run_until(p, T0 + LINK_DELAY); /* the SYN reaches B: a half-open child, not acceptable */
    assert_int_equal(sk_tcp_accept(l, &cb), -EAGAIN);
    pair_run_until(p, T0 + 2 * LINK_DELAY); /* the SYN,ACK reaches A */
    expect_state(ca, SK_TCP_ESTABLISHED);
    pair_run_until(p, T0 + 3 * LINK_DELAY); /* the ACK reaches B */
    assert_int_equal(sk_tcp_accept(l, &cb), 0);
    expect_state(cb, SK_TCP_ESTABLISHED);

    struct sk_tcp_info ia = info(ca), ib = info(cb);
    assert_int_equal(ia.irs, ib.iss);
    assert_int_equal(ib.irs, ia.iss);

    const struct rec_ev *syn = expect_seg(p, A_TO_B, SYN, ia.iss, 0);
    assert_int_equal(syn->ev.time, T0);
    assert_int_equal(syn->ev.u.seg.wnd, 65535); /* RFC 7323 §2.2: a SYN's window is not scaled */
    assert_int_equal(syn->ev.u.seg.opts,
                     SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP);
    assert_int_equal(syn->ev.u.seg.mss, 1460);
    assert_int_equal(syn->ev.u.seg.wscale, 7);
    assert_int_equal(syn->ev.u.seg.ts_ecr, 0);

    const struct rec_ev *synack = expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 1);
    assert_int_equal(synack->ev.time, T0 + LINK_DELAY);
    assert_int_equal(synack->ev.u.seg.opts,
                     SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP);
    assert_int_equal(synack->ev.u.seg.mss, 1460);
    assert_int_equal(synack->ev.u.seg.wscale, 7);
    assert_int_equal(synack->ev.u.seg.ts_ecr, syn->ev.u.seg.ts_val); /* RFC 7323 §3.2 */

    const struct rec_ev *ack = expect_seg(p, A_TO_B, ACK, ia.iss + 1, ib.iss + 1);
    assert_int_equal(ack->ev.time, T0 + 2 * LINK_DELAY);
    assert_int_equal(ack->ev.u.seg.opts, SK_OPT_TIMESTAMP);
    assert_int_equal(ack->ev.u.seg.ts_ecr, synack->ev.u.seg.ts_val);
    assert_int_equal(ack->ev.u.seg.wnd, 65536 >> 7); /* scaled from now on */
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);

    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_ESTABLISHED);
    expect_states(&p->rec, SIDE_B, ib.conn_id, SK_TCP_LISTEN, SK_TCP_SYN_RECEIVED,
                  SK_TCP_ESTABLISHED);

    /* What was agreed. RFC 6691: the MSS leaves room for the 12 bytes of timestamps. */
    assert_int_equal(ia.snd_wscale, 7);
    assert_int_equal(ia.rcv_wscale, 7);
    assert_true(ia.sack_ok && ia.ts_ok && ib.sack_ok && ib.ts_ok);
    assert_int_equal(ia.snd_mss, 1448);
    assert_int_equal(ib.snd_mss, 1448);
    assert_int_equal(ia.snd_una, ia.iss + 1);
    assert_int_equal(ia.snd_nxt, ia.iss + 1);
    assert_int_equal(ib.rcv_nxt, ia.iss + 1);
    assert_int_equal(counters(p->a).tcp_active_opens, 1);
    assert_int_equal(counters(p->b).tcp_passive_opens, 1);
    pair_free(p);
}

/* With every option turned off in both configurations, the SYN carries only the MSS
 * (RFC 9293 §3.7.1 says it SHOULD always be sent), and nothing else is used. */
static void test_three_way_handshake_without_options(void **state)
{
    (void)state;
    struct sk_config ca_cfg, cb_cfg;
    harness_config(&ca_cfg, 0);
    harness_config(&cb_cfg, 1);
    ca_cfg.opt_wscale = ca_cfg.opt_sack = ca_cfg.opt_timestamps = false;
    cb_cfg.opt_wscale = cb_cfg.opt_sack = cb_cfg.opt_timestamps = false;
    struct pair *p = pair_new(&ca_cfg, &cb_cfg);
    struct sk_tcp *l, *ca, *cb;
    pair_establish(p, 80, &ca, &l, &cb);
    struct sk_tcp_info ia = info(ca), ib = info(cb);

    p->rec.seg_cursor[0] = p->rec.seg_cursor[1] = 0;
    const struct rec_ev *syn = expect_seg(p, A_TO_B, SYN, ia.iss, 0);
    assert_int_equal(syn->ev.u.seg.opts, SK_OPT_MSS);
    assert_int_equal(syn->ev.u.seg.mss, 1460);
    const struct rec_ev *synack = expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 1);
    assert_int_equal(synack->ev.u.seg.opts, SK_OPT_MSS);
    assert_int_equal(synack->ev.u.seg.wnd, 65535);
    const struct rec_ev *ack = expect_seg(p, A_TO_B, ACK, ia.iss + 1, ib.iss + 1);
    assert_int_equal(ack->ev.u.seg.opts, 0);
    assert_int_equal(ack->ev.u.seg.wnd, 65535); /* unscaled: 64 KiB buffer capped at 65535 */
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);
    assert_false(ia.ts_ok || ia.sack_ok || ib.ts_ok || ib.sack_ok);
    assert_int_equal(ia.snd_wscale, 0);
    assert_int_equal(ia.rcv_wscale, 0);
    assert_int_equal(ib.snd_wscale, 0);
    assert_int_equal(ia.snd_mss, 1460);
    assert_int_equal(ib.snd_mss, 1460);
    pair_free(p);
}

/* A offers everything, B has every option off: B's SYN,ACK answers with the MSS only and A
 * must then use none of them (RFC 7323 §2.2, §3.2; RFC 2018 §2). B's smaller MSS wins. */
static void test_handshake_options_declined_by_peer(void **state)
{
    (void)state;
    struct sk_config cb_cfg;
    harness_config(&cb_cfg, 1);
    cb_cfg.opt_wscale = cb_cfg.opt_sack = cb_cfg.opt_timestamps = false;
    cb_cfg.mss = 1000;
    struct pair *p = pair_new(NULL, &cb_cfg);
    struct sk_tcp *l, *ca, *cb;
    pair_establish(p, 80, &ca, &l, &cb);
    struct sk_tcp_info ia = info(ca), ib = info(cb);

    p->rec.seg_cursor[0] = p->rec.seg_cursor[1] = 0;
    const struct rec_ev *syn = expect_seg(p, A_TO_B, SYN, ia.iss, 0);
    assert_int_equal(syn->ev.u.seg.opts,
                     SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP);
    const struct rec_ev *synack = expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 1);
    assert_int_equal(synack->ev.u.seg.opts, SK_OPT_MSS);
    assert_int_equal(synack->ev.u.seg.mss, 1000);
    const struct rec_ev *ack = expect_seg(p, A_TO_B, ACK, ia.iss + 1, ib.iss + 1);
    assert_int_equal(ack->ev.u.seg.opts, 0);            /* no timestamps after all */
    assert_int_equal(ack->ev.u.seg.wnd, 65535);          /* and no scaling */
    assert_false(ia.ts_ok || ia.sack_ok);
    assert_int_equal(ia.snd_wscale, 0);
    assert_int_equal(ia.rcv_wscale, 0);
    assert_int_equal(ia.snd_mss, 1000);
    assert_int_equal(ib.snd_mss, 1000); /* B never sends more than it announced either */
    pair_free(p);
}

/* Simultaneous open (RFC 9293 Figure 7): both SYNs cross, both sides go SYN-SENT ->
 * SYN-RECEIVED, each answers <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, and each SYN,ACK
 * completes the other side's handshake: ESTABLISHED. The SYN,ACK repeats a SYN already held,
 * a duplicate, which §3.10.7.4 acknowledges: one bare ACK each (as FreeBSD's tcp_input and
 * Linux's), then nothing. */
static void test_simultaneous_open(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    struct sk_tcp *ca, *cb;
    assert_int_equal(sk_tcp_connect(p->a, 5000, ADDR_B, 6000, &ca), 0);
    assert_int_equal(sk_tcp_connect(p->b, 6000, ADDR_A, 5000, &cb), 0);
    struct sk_tcp_info ia = info(ca), ib = info(cb);
    expect_seg(p, A_TO_B, SYN, ia.iss, 0);
    expect_seg(p, B_TO_A, SYN, ib.iss, 0);

    pair_run_until(p, T0 + LINK_DELAY);
    expect_state(ca, SK_TCP_SYN_RECEIVED);
    expect_state(cb, SK_TCP_SYN_RECEIVED);
    const struct rec_ev *sa = expect_seg(p, A_TO_B, SYN | ACK, ia.iss, ib.iss + 1);
    const struct rec_ev *sb = expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 1);
    assert_int_equal(sa->ev.time, T0 + LINK_DELAY);
    assert_int_equal(sb->ev.time, T0 + LINK_DELAY);

    pair_run_until(p, T0 + 2 * LINK_DELAY);
    expect_state(ca, SK_TCP_ESTABLISHED);
    expect_state(cb, SK_TCP_ESTABLISHED);
    pair_run_for(p, SEC(5));
    expect_seg(p, A_TO_B, ACK, ia.iss + 1, ib.iss + 1);
    expect_seg(p, B_TO_A, ACK, ib.iss + 1, ia.iss + 1);
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_SYN_RECEIVED, SK_TCP_ESTABLISHED);
    expect_states(&p->rec, SIDE_B, ib.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_SYN_RECEIVED, SK_TCP_ESTABLISHED);
    ia = info(ca);
    ib = info(cb);
    assert_int_equal(ia.snd_una, ia.iss + 1);
    assert_int_equal(ia.rcv_nxt, ib.iss + 1);
    assert_int_equal(ib.snd_una, ib.iss + 1);
    assert_int_equal(ib.rcv_nxt, ia.iss + 1);

    /* And data flows. */
    assert_int_equal(sk_tcp_send(ca, "hi", 2), 2);
    pair_run_for(p, MS(100));
    char buf[8];
    assert_int_equal(sk_tcp_recv(cb, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "hi", 2);
    pair_free(p);
}

/* CLOSE in SYN-SENT (RFC 9293 §3.10.4): the TCB is deleted, nothing is sent, and the
 * SYN,ACK that arrives later finds no TCB and is answered with <SEQ=SEG.ACK><CTL=RST>. */
static void test_close_in_syn_sent_deletes_tcb(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    struct sk_tcp *l, *ca;
    assert_int_equal(sk_tcp_listen(p->b, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, 80, &ca), 0);
    struct sk_tcp_info ia = info(ca);
    sk_tcp_close(ca);
    assert_int_equal(counters(p->a).connections, 0);
    expect_seg(p, A_TO_B, SYN, ia.iss, 0);
    expect_no_seg(p, A_TO_B);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_CLOSED);

    pair_run_until(p, T0 + 3 * LINK_DELAY);
    /* B's SYN,ACK finds nothing at A: RST <SEQ=SEG.ACK>, and B's half-open child is reset. */
    const struct sk_trace_segment *sa = peek_seg(p, B_TO_A);
    assert_non_null(sa);
    uint32_t iss_b = sa->seq;
    expect_seg(p, B_TO_A, SYN | ACK, iss_b, ia.iss + 1);
    expect_seg(p, A_TO_B, RST, ia.iss + 1, 0);
    /* RFC 9293 §3.10.7.4: RST in SYN-RECEIVED (passive) returns to LISTEN: only the listener
     * is left, with nothing to accept. */
    pair_run_for(p, SEC(1));
    struct sk_tcp *cb;
    assert_int_equal(sk_tcp_accept(l, &cb), -EAGAIN);
    assert_int_equal(counters(p->b).connections, 1);
    expect_no_seg(p, B_TO_A);
    expect_no_seg(p, A_TO_B);
    pair_free(p);
}

/* A half-open connection answers a segment that is not acceptable with its SYN,ACK again
 * (RFC 9293 §3.10.7.4 first check), but the retransmission timer keeps running: such segments,
 * which anyone can send, must not hold the TCB beyond its retries. With synack_retries = 2 and
 * RFC 6298's 1 s initial RTO doubled after each timeout (§5.5), the child is gone once 1 + 2 + 4
 * seconds have passed, whatever arrives meanwhile. */
static void test_synrcvd_unacceptable_segments_do_not_extend_it(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.synack_retries = 2;
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    const uint32_t irs = 5000;
    raw_send(r, .flags = SK_TCP_SYN, .seq = irs, .opts = SK_OPT_MSS, .mss = 1460);
    assert_int_equal(counters(r->st).connections, 2);
    /* Every 300 ms a segment far outside the window: each is answered, none restarts the timer. */
    const sk_time_us life = 1000000 + 2000000 + 4000000;
    for (sk_time_us t = 300000; t < life + 2000000; t += 300000) {
        raw_run_until(r, T0 + t);
        if (sk_tcp_accept(l, &(struct sk_tcp *){NULL}) == 0)
            fail_msg("the half-open connection completed");
        raw_send(r, .flags = SK_TCP_ACK, .seq = irs + 1 + 1000000, .ack = 1);
    }
    raw_run_until(r, T0 + life + 2000000);
    assert_int_equal(counters(r->st).connections, 1); /* the listener alone */
    raw_free(r);
}

/* RFC 9293 §3.10.7.3 SYN-SENT: after the SYN, "if there are other controls or text in the
 * segment, continue processing at the sixth step" — so a FIN on the SYN-ACK is the eighth
 * step's FIN: RCV.NXT = IRS + 1 (+ text) + 1, CLOSE-WAIT at once, and its ACK acknowledges it.
 * With text before it, the text is readable and then end of stream. */
static void synack_fin(const char *text, uint32_t len)
{
    struct raw *r = raw_new(NULL);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t iss = info(c).iss, irs = 7000;
    raw_expect(r, SYN, iss, 0);
    raw_send(r, .flags = SYN | ACK | FIN, .seq = irs, .ack = iss + 1, .opts = SK_OPT_MSS,
             .mss = 1460, .data = text, .len = len);
    expect_state(c, SK_TCP_CLOSE_WAIT);
    raw_expect(r, ACK, iss + 1, irs + 1 + len + 1);
    char buf[16];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), (ssize_t)len);
    assert_memory_equal(buf, text, len);
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 0);
    sk_tcp_close(c);
    raw_free(r);
}

static void test_fin_on_synack_closes_wait(void **state)
{
    (void)state;
    synack_fin("", 0);
    synack_fin("hello", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synrcvd_unacceptable_segments_do_not_extend_it),
        TEST(test_three_way_handshake_with_options),
        TEST(test_fin_on_synack_closes_wait),
        TEST(test_three_way_handshake_without_options),
        TEST(test_handshake_options_declined_by_peer),
        TEST(test_simultaneous_open),
        TEST(test_close_in_syn_sent_deletes_tcb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
