/* Scenario: closing a connection (RFC 9293 §3.6, §3.10.4, §3.10.7.4 "eighth, check the FIN").
 *
 * Four-way close from either side, half-close with data flowing towards the side that closed
 * first, simultaneous close through CLOSING, FIN-WAIT-1 -> TIME-WAIT on a FIN+ACK, TIME-WAIT
 * lasting exactly 2*MSL and restarting on a retransmitted FIN, CLOSE in SYN-RECEIVED. */
#include <string.h>

#include "fixture.h"

#define MSL SEC(30) /* the default configuration's msl_us */

/* A closes first: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED after exactly 2*MSL;
 * B goes CLOSE-WAIT -> LAST-ACK -> CLOSED. */
static void test_four_way_close_initiated_by_active_opener(void **state)
{
    (void)state;
    struct fx_pair f = fx_pair_open(NULL);
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    struct sk_tcp_info ia = info(ca), ib = info(cb);
    uint32_t a = ia.iss, b = ib.iss;
    sk_time_us t1 = pair_now(p);

    assert_int_equal(sk_tcp_shutdown(ca), 0);
    expect_state(ca, SK_TCP_FIN_WAIT_1);
    assert_int_equal(expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 1)->ev.time, t1);
    assert_int_equal(sk_tcp_send(ca, "x", 1), -EPIPE);

    pair_run_until(p, t1 + LINK_DELAY);
    expect_state(cb, SK_TCP_CLOSE_WAIT);
    assert_int_equal(expect_seg(p, B_TO_A, ACK, b + 1, a + 2)->ev.time, t1 + LINK_DELAY);
    char buf[4];
    assert_int_equal(sk_tcp_recv(cb, buf, sizeof(buf)), 0); /* end of stream */

    pair_run_until(p, t1 + 2 * LINK_DELAY);
    expect_state(ca, SK_TCP_FIN_WAIT_2);

    sk_time_us t2 = pair_now(p) + MS(100);
    pair_run_until(p, t2);
    sk_tcp_close(cb);
    assert_int_equal(expect_seg(p, B_TO_A, FIN | ACK, b + 1, a + 2)->ev.time, t2);

    pair_run_until(p, t2 + LINK_DELAY);
    expect_state(ca, SK_TCP_TIME_WAIT);
    sk_time_us tw = t2 + LINK_DELAY;
    assert_int_equal(expect_seg(p, A_TO_B, ACK, a + 2, b + 2)->ev.time, tw);
    pair_run_until(p, t2 + 2 * LINK_DELAY);
    assert_int_equal(counters(p->b).connections, 1); /* LAST-ACK -> CLOSED: only the listener */

    pair_run_until(p, tw + 2 * MSL - 1);
    expect_state(ca, SK_TCP_TIME_WAIT);
    pair_run_until(p, tw + 2 * MSL);
    expect_state(ca, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(ca), 0);
    assert_int_equal(sk_tcp_recv(ca, buf, sizeof(buf)), 0);
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_ESTABLISHED, SK_TCP_FIN_WAIT_1, SK_TCP_FIN_WAIT_2, SK_TCP_TIME_WAIT,
                  SK_TCP_CLOSED);
    expect_states(&p->rec, SIDE_B, ib.conn_id, SK_TCP_LISTEN, SK_TCP_SYN_RECEIVED,
                  SK_TCP_ESTABLISHED, SK_TCP_CLOSE_WAIT, SK_TCP_LAST_ACK, SK_TCP_CLOSED);
    sk_tcp_close(ca);
    assert_int_equal(counters(p->a).connections, 0);
    pair_free(p);
}

/* The passive opener closes first, with sk_tcp_close (no handle kept): it walks the active
 * close path; its TCB is freed on entering TIME-WAIT, and its TIME-WAIT record ends exactly
 * 2*MSL later. */
static void test_four_way_close_initiated_by_passive_opener(void **state)
{
    (void)state;
    struct fx_pair f = fx_pair_open(NULL);
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    struct sk_tcp_info ia = info(ca), ib = info(cb);
    uint32_t a = ia.iss, b = ib.iss;
    sk_time_us t1 = pair_now(p);

    sk_tcp_close(cb);
    expect_seg(p, B_TO_A, FIN | ACK, b + 1, a + 1);
    pair_run_until(p, t1 + LINK_DELAY);
    expect_state(ca, SK_TCP_CLOSE_WAIT);
    expect_seg(p, A_TO_B, ACK, a + 1, b + 2);
    sk_tcp_close(ca);
    expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 2);
    expect_state(ca, SK_TCP_LAST_ACK);
    pair_run_until(p, t1 + 2 * LINK_DELAY);
    expect_seg(p, B_TO_A, ACK, b + 2, a + 2);
    sk_time_us tw = state_time(&p->rec, SIDE_B, ib.conn_id, SK_TCP_TIME_WAIT);
    assert_int_equal(tw, t1 + 2 * LINK_DELAY);
    pair_run_until(p, t1 + 3 * LINK_DELAY);
    assert_int_equal(counters(p->a).connections, 0);
    /* The TIME-WAIT is a record, not a TCB: the listener is the only TCB left. */
    assert_int_equal(counters(p->b).connections, 1);
    assert_int_equal(counters(p->b).timewait_records, 1);
    pair_run_until(p, tw + 2 * MSL - 1);
    assert_int_equal(counters(p->b).timewait_records, 1);
    pair_run_until(p, tw + 2 * MSL);
    assert_int_equal(counters(p->b).timewait_records, 0);
    assert_int_equal(counters(p->b).connections, 1);
    expect_states(&p->rec, SIDE_B, ib.conn_id, SK_TCP_LISTEN, SK_TCP_SYN_RECEIVED,
                  SK_TCP_ESTABLISHED, SK_TCP_FIN_WAIT_1, SK_TCP_FIN_WAIT_2, SK_TCP_TIME_WAIT,
                  SK_TCP_CLOSED);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_ESTABLISHED, SK_TCP_CLOSE_WAIT, SK_TCP_LAST_ACK, SK_TCP_CLOSED);
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);
    pair_free(p);
}

/* Half-close: after A's FIN, B (CLOSE-WAIT) still sends; A (FIN-WAIT-2) receives every byte
 * in order, ACKs it, and only B's FIN moves A to TIME-WAIT. */
static void test_half_close_data_flows_to_fin_wait_2(void **state)
{
    (void)state;
    struct fx_pair f = fx_pair_open(NULL);
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    uint32_t a = info(ca).iss, b = info(cb).iss;
    sk_time_us t1 = pair_now(p);
    assert_int_equal(sk_tcp_shutdown(ca), 0);
    pair_run_until(p, t1 + 2 * LINK_DELAY);
    expect_state(ca, SK_TCP_FIN_WAIT_2);
    expect_state(cb, SK_TCP_CLOSE_WAIT);
    expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 1);
    expect_seg(p, B_TO_A, ACK, b + 1, a + 2);

    uint8_t msg[3000];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    sk_tcp_set_nodelay(cb, true);
    sk_time_us t2 = pair_now(p);
    assert_int_equal(sk_tcp_send(cb, msg, sizeof(msg)), (ssize_t)sizeof(msg));
    expect_data(p, B_TO_A, ACK, b + 1, a + 2, 1448);
    expect_data(p, B_TO_A, ACK, b + 1449, a + 2, 1448);
    expect_data(p, B_TO_A, ACK | PSH, b + 2897, a + 2, 104);
    pair_run_until(p, t2 + LINK_DELAY);
    /* RFC 9293 §3.8.6.3 / RFC 5681 §4.2: every second full segment is ACKed at once, the odd
     * one after the delayed-ACK timer (40 ms). */
    assert_int_equal(expect_seg(p, A_TO_B, ACK, a + 2, b + 2897)->ev.time, t2 + LINK_DELAY);
    pair_run_until(p, t2 + LINK_DELAY + MS(40));
    assert_int_equal(expect_seg(p, A_TO_B, ACK, a + 2, b + 3001)->ev.time,
                     t2 + LINK_DELAY + MS(40));
    expect_state(ca, SK_TCP_FIN_WAIT_2);
    uint8_t got[4000];
    assert_int_equal(sk_tcp_recv(ca, got, sizeof(got)), (ssize_t)sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));
    assert_int_equal(sk_tcp_recv(ca, got, sizeof(got)), -EAGAIN);

    sk_tcp_close(cb);
    expect_seg(p, B_TO_A, FIN | ACK, b + 3001, a + 2);
    pair_run_for(p, LINK_DELAY);
    expect_state(ca, SK_TCP_TIME_WAIT);
    expect_seg(p, A_TO_B, ACK, a + 2, b + 3002);
    assert_int_equal(sk_tcp_recv(ca, got, sizeof(got)), 0);
    pair_free(p);
}

/* Simultaneous close (RFC 9293 Figure 13): both FINs cross, each side goes FIN-WAIT-1 ->
 * CLOSING -> TIME-WAIT, and both leave TIME-WAIT exactly 2*MSL later. */
static void test_simultaneous_close_through_closing(void **state)
{
    (void)state;
    struct fx_pair f = fx_pair_open(NULL);
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    struct sk_tcp_info ia = info(ca), ib = info(cb);
    uint32_t a = ia.iss, b = ib.iss;
    sk_time_us t1 = pair_now(p);
    assert_int_equal(sk_tcp_shutdown(ca), 0);
    assert_int_equal(sk_tcp_shutdown(cb), 0);
    expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 1);
    expect_seg(p, B_TO_A, FIN | ACK, b + 1, a + 1);

    pair_run_until(p, t1 + LINK_DELAY);
    expect_state(ca, SK_TCP_CLOSING);
    expect_state(cb, SK_TCP_CLOSING);
    expect_seg(p, A_TO_B, ACK, a + 2, b + 2);
    expect_seg(p, B_TO_A, ACK, b + 2, a + 2);

    pair_run_until(p, t1 + 2 * LINK_DELAY);
    expect_state(ca, SK_TCP_TIME_WAIT);
    expect_state(cb, SK_TCP_TIME_WAIT);
    pair_run_until(p, t1 + 2 * LINK_DELAY + 2 * MSL - 1);
    expect_state(ca, SK_TCP_TIME_WAIT);
    expect_state(cb, SK_TCP_TIME_WAIT);
    pair_run_until(p, t1 + 2 * LINK_DELAY + 2 * MSL);
    expect_state(ca, SK_TCP_CLOSED);
    expect_state(cb, SK_TCP_CLOSED);
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_ESTABLISHED, SK_TCP_FIN_WAIT_1, SK_TCP_CLOSING, SK_TCP_TIME_WAIT,
                  SK_TCP_CLOSED);
    expect_states(&p->rec, SIDE_B, ib.conn_id, SK_TCP_LISTEN, SK_TCP_SYN_RECEIVED,
                  SK_TCP_ESTABLISHED, SK_TCP_FIN_WAIT_1, SK_TCP_CLOSING, SK_TCP_TIME_WAIT,
                  SK_TCP_CLOSED);
    pair_free(p);
}

/* FIN-WAIT-1 -> TIME-WAIT directly when the peer's FIN also acknowledges ours. */
static void test_fin_wait_1_to_time_wait_on_fin_ack(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    uint64_t id = conn_id(c);
    assert_int_equal(sk_tcp_shutdown(c), 0);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
    raw_expect(r, ACK, iss + 2, 1002);
    expect_state(c, SK_TCP_TIME_WAIT);
    expect_states(&r->rec, 0, id, SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_ESTABLISHED,
                  SK_TCP_FIN_WAIT_1, SK_TCP_TIME_WAIT);
    raw_run_until(r, T0 + 2 * MSL - 1);
    expect_state(c, SK_TCP_TIME_WAIT);
    raw_run_until(r, T0 + 2 * MSL);
    expect_state(c, SK_TCP_CLOSED);
    raw_expect_none(r);
    sk_tcp_close(c);
    raw_free(r);
}

/* TIME-WAIT: a retransmitted FIN is ACKed again and the 2*MSL timer starts over
 * (RFC 9293 §3.10.7.4, TIME-WAIT under "eighth"). */
static void test_time_wait_reacks_fin_and_restarts_2msl(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    assert_int_equal(sk_tcp_shutdown(c), 0);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 2);
    raw_expect_none(r);
    expect_state(c, SK_TCP_FIN_WAIT_2);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
    raw_expect(r, ACK, iss + 2, 1002);
    expect_state(c, SK_TCP_TIME_WAIT);

    raw_run_until(r, T0 + SEC(40));
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2); /* our ACK was lost */
    const struct raw_out *o = raw_expect(r, ACK, iss + 2, 1002);
    assert_int_equal(o->time, T0 + SEC(40));
    raw_run_until(r, T0 + 2 * MSL);
    expect_state(c, SK_TCP_TIME_WAIT); /* would have ended here without the restart */
    raw_run_until(r, T0 + SEC(40) + 2 * MSL - 1);
    expect_state(c, SK_TCP_TIME_WAIT);
    raw_run_until(r, T0 + SEC(40) + 2 * MSL);
    expect_state(c, SK_TCP_CLOSED);
    raw_expect_none(r);
    sk_tcp_close(c);
    raw_free(r);
}

/* An application that closes (not shutdown) and whose peer never sends its FIN: the orphan
 * waits in FIN-WAIT-2 for 2*MSL and is then freed; the peer's late FIN finds no TCB: RST. */
static void test_orphan_fin_wait_2_times_out(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    uint64_t id = conn_id(c);
    sk_tcp_close(c);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 2);
    assert_int_equal(counters(r->st).connections, 1);
    raw_run_until(r, T0 + 2 * MSL - 1);
    assert_int_equal(counters(r->st).connections, 1);
    raw_run_until(r, T0 + 2 * MSL);
    assert_int_equal(counters(r->st).connections, 0);
    expect_states(&r->rec, 0, id, SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_ESTABLISHED,
                  SK_TCP_FIN_WAIT_1, SK_TCP_FIN_WAIT_2, SK_TCP_CLOSED);
    raw_expect_none(r);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
    raw_expect(r, RST, iss + 2, 0);
    raw_free(r);
}

/* CLOSE in SYN-RECEIVED (after a simultaneous open): FIN-WAIT-1 at once; the FIN follows as
 * soon as the SYN is acknowledged, and the close completes normally. */
static void test_close_in_syn_received_goes_fin_wait_1(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    struct sk_tcp *ca, *cb;
    assert_int_equal(sk_tcp_connect(p->a, 5000, ADDR_B, 6000, &ca), 0);
    assert_int_equal(sk_tcp_connect(p->b, 6000, ADDR_A, 5000, &cb), 0);
    struct sk_tcp_info ia = info(ca), ib = info(cb);
    uint32_t a = ia.iss, b = ib.iss;
    pair_run_until(p, T0 + LINK_DELAY);
    expect_state(ca, SK_TCP_SYN_RECEIVED);
    assert_int_equal(sk_tcp_shutdown(ca), 0);
    expect_state(ca, SK_TCP_FIN_WAIT_1);
    expect_seg(p, A_TO_B, SYN, a, 0);
    expect_seg(p, A_TO_B, SYN | ACK, a, b + 1);
    expect_no_seg(p, A_TO_B); /* nothing may follow a SYN not yet acknowledged */

    pair_run_until(p, T0 + 2 * LINK_DELAY);
    assert_int_equal(expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 1)->ev.time,
                     T0 + 2 * LINK_DELAY);
    expect_state(cb, SK_TCP_ESTABLISHED);
    pair_run_until(p, T0 + 3 * LINK_DELAY);
    expect_state(cb, SK_TCP_CLOSE_WAIT);
    pair_run_until(p, T0 + 4 * LINK_DELAY);
    expect_state(ca, SK_TCP_FIN_WAIT_2);
    expect_states(&p->rec, SIDE_A, ia.conn_id, SK_TCP_CLOSED, SK_TCP_SYN_SENT,
                  SK_TCP_SYN_RECEIVED, SK_TCP_FIN_WAIT_1, SK_TCP_FIN_WAIT_2);
    pair_free(p);
}

/* RFC 2525 §2.17: closing with unread received data resets the connection instead of a FIN. */
static void test_close_with_unread_data_sends_rst(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    raw_send(r, .flags = ACK | PSH, .seq = 1001, .ack = iss + 1, .data = "hello", .len = 5);
    assert_int_equal(sk_tcp_readable(c), 5);
    r->cursor = r->nout; /* the delayed ACK, if any */
    sk_tcp_close(c);
    raw_expect(r, RST, iss + 1, 0);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 0);
    raw_free(r);
}

/* Data after close (RFC 2525 §2.17: nobody will read it) is answered with a RST the peer can
 * accept: RFC 5961 §3.2 resets only on SEG.SEQ == RCV.NXT, and the peer's RCV.NXT is what it
 * acknowledges, here ISS + 1, since it has not acknowledged our FIN (ISS + 1 .. ISS + 2). A
 * RST at SND.MAX (ISS + 2) would draw a challenge ACK instead. */
static void test_data_after_close_rst_from_seg_ack(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    sk_tcp_close(c);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .flags = ACK | PSH, .seq = 1001, .ack = iss + 1, .data = "late", .len = 4);
    raw_expect(r, RST, iss + 1, 0);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 0);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_data_after_close_rst_from_seg_ack),
        TEST(test_four_way_close_initiated_by_active_opener),
        TEST(test_four_way_close_initiated_by_passive_opener),
        TEST(test_half_close_data_flows_to_fin_wait_2),
        TEST(test_simultaneous_close_through_closing),
        TEST(test_fin_wait_1_to_time_wait_on_fin_ack),
        TEST(test_time_wait_reacks_fin_and_restarts_2msl),
        TEST(test_orphan_fin_wait_2_times_out),
        TEST(test_close_in_syn_received_goes_fin_wait_1),
        TEST(test_close_with_unread_data_sends_rst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
