/* Scenario: retransmission on the virtual clock (RFC 6298, RFC 9293 §3.8.1, §3.8.3).
 *
 * SYN and SYN,ACK retransmission with exponential backoff and their retry limits, a lost
 * SYN,ACK, a lost FIN, lost data, the data retry limit and the user timeout. Every
 * retransmission is asserted at its exact virtual time. */
#include "fixture.h"

static sk_time_us error_time(struct recorder *rec, uint64_t id)
{
    for (size_t i = 0; i < rec->n; i++)
        if (rec->ev[i].ev.kind == SK_TRACE_ERROR && rec->ev[i].ev.conn_id == id)
            return rec->ev[i].ev.time;
    return SK_TIME_NEVER;
}

/* A SYN nobody answers: resent after 1 s, then 2, 4, 8, 16, 32 s (RFC 6298 §2.1, §5.5);
 * after syn_retries (6) the next expiry, capped at rto_max (60 s), gives -ETIMEDOUT. */
static void test_syn_backoff_then_etimedout(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t iss = info(c).iss;
    assert_int_equal(raw_expect(r, SYN, iss, 0)->time, T0);
    static const unsigned at_s[] = {1, 3, 7, 15, 31, 63};
    for (size_t i = 0; i < 6; i++) {
        raw_run_until(r, T0 + SEC(at_s[i]) - 1);
        raw_expect_none(r);
        raw_run_until(r, T0 + SEC(at_s[i]));
        assert_int_equal(raw_expect(r, SYN, iss, 0)->time, T0 + SEC(at_s[i]));
        assert_int_equal(info(c).retransmits, i + 1);
    }
    raw_run_until(r, T0 + SEC(123) - 1);
    expect_state(c, SK_TCP_SYN_SENT);
    raw_run_until(r, T0 + SEC(123));
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    assert_int_equal(error_time(&r->rec, conn_id(c)), T0 + SEC(123));
    raw_expect_none(r); /* no RST for a connection that never synchronized */
    char buf[4];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), -ETIMEDOUT);
    assert_int_equal(sk_tcp_send(c, "x", 1), -ETIMEDOUT);
    sk_tcp_close(c);
    raw_free(r);
}

/* syn_retries from the configuration: 2 retries, so -ETIMEDOUT at 1 + 2 + 4 = 7 s. */
static void test_syn_retries_configurable(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.syn_retries = 2;
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_run_until(r, T0 + SEC(7) - 1);
    expect_state(c, SK_TCP_SYN_SENT);
    assert_int_equal(r->nout, 3);
    raw_run_until(r, T0 + SEC(7));
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    assert_int_equal(r->nout, 3);
    sk_tcp_close(c);
    raw_free(r);
}

/* The connection's own limit (sk_tcp_params.syn_retries, Linux's TCP_SYNCNT) over the
 * configuration's 6: 1 retry, so -ETIMEDOUT at 1 + 2 = 3 s; set again on the connection in
 * SYN-SENT (sk_tcp_set_syn_retries) it holds from the next timeout: 2 retries, 7 s. */
static void test_syn_retries_per_connection(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    struct sk_tcp *c;
    struct sk_tcp_params p = {.syn_retries = 1};
    assert_int_equal(sk_tcp_connect_with(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &p, &c), 0);
    raw_run_until(r, T0 + SEC(3) - 1);
    expect_state(c, SK_TCP_SYN_SENT);
    assert_int_equal(r->nout, 2);
    raw_run_until(r, T0 + SEC(3));
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    sk_tcp_close(c);
    sk_time_us t = r->now;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT + 1, ADDR_B, RAW_PEER_PORT, &c), 0);
    sk_tcp_set_syn_retries(c, 2);
    raw_run_until(r, t + SEC(7) - 1);
    expect_state(c, SK_TCP_SYN_SENT);
    assert_int_equal(r->nout, 2 + 3);
    raw_run_until(r, t + SEC(7));
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    sk_tcp_close(c);
    raw_free(r);
}

/* A half-open connection whose SYN,ACK is never answered: the SYN,ACK is resent after 1, 2,
 * 4, 8, 16 s (synack_retries 5) and the child is dropped at the next expiry (63 s), silently. */
static void test_synack_backoff_then_child_dropped(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    raw_send(r, .flags = SYN, .seq = 1000);
    uint32_t iss = r->out[0].seq;
    raw_expect(r, SYN | ACK, iss, 1001);
    static const unsigned at_s[] = {1, 3, 7, 15, 31};
    for (size_t i = 0; i < 5; i++) {
        raw_run_until(r, T0 + SEC(at_s[i]));
        assert_int_equal(raw_expect(r, SYN | ACK, iss, 1001)->time, T0 + SEC(at_s[i]));
    }
    raw_run_until(r, T0 + SEC(63) - 1);
    assert_int_equal(counters(r->st).connections, 2);
    raw_run_until(r, T0 + SEC(63));
    assert_int_equal(counters(r->st).connections, 1);
    raw_expect_none(r);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
    /* The listener took no harm: a new handshake works. */
    c = raw_accept(r, l, 9000, NULL);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* The SYN,ACK is lost: A resends its SYN after 1 s; B, still in SYN-RECEIVED, answers the
 * duplicate SYN with its SYN,ACK again, and the handshake completes. */
static void test_lost_synack(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    pair_drop(p, SIDE_B, SYN | ACK, SYN | ACK, 1);
    struct sk_tcp *l, *ca, *cb;
    assert_int_equal(sk_tcp_listen(p->b, 80, 4, &l), 0);
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, 80, &ca), 0);
    uint32_t a = info(ca).iss;
    pair_run_until(p, T0 + SEC(1) + 3 * LINK_DELAY);
    expect_state(ca, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_accept(l, &cb), 0);
    uint32_t b = info(cb).iss;
    assert_int_equal(expect_seg(p, A_TO_B, SYN, a, 0)->ev.time, T0);
    assert_int_equal(expect_seg(p, B_TO_A, SYN | ACK, b, a + 1)->ev.time, T0 + LINK_DELAY);
    assert_int_equal(expect_seg(p, A_TO_B, SYN, a, 0)->ev.time, T0 + SEC(1));
    assert_int_equal(expect_seg(p, B_TO_A, SYN | ACK, b, a + 1)->ev.time,
                     T0 + SEC(1) + LINK_DELAY);
    assert_int_equal(expect_seg(p, A_TO_B, ACK, a + 1, b + 1)->ev.time,
                     T0 + SEC(1) + 2 * LINK_DELAY);
    expect_no_seg(p, A_TO_B);
    expect_no_seg(p, B_TO_A);
    /* RFC 6298 §5.7: after a retransmitted SYN with no RTT sample, RTO is 3 s. */
    assert_int_equal(info(ca).rto_us, SEC(3));
    pair_free(p);
}

/* Without SACK (so without the tail loss probe, which would come first) a lost FIN is resent
 * one RTO (1 s, the minimum) later, and the close completes. */
static void test_lost_fin_is_retransmitted(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.opt_sack = false;
    struct fx_pair f = fx_pair_open(&(struct fx_pair_opts){.ca = &cfg});
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    pair_drop(p, SIDE_A, FIN, FIN, 1);
    uint32_t a = info(ca).iss, b = info(cb).iss;
    assert_int_equal(info(ca).rto_us, SEC(1));
    sk_time_us t1 = pair_now(p);
    assert_int_equal(sk_tcp_shutdown(ca), 0);
    pair_run_until(p, t1 + SEC(1) - 1);
    expect_state(cb, SK_TCP_ESTABLISHED);
    pair_run_until(p, t1 + SEC(1) + 2 * LINK_DELAY);
    assert_int_equal(expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 1)->ev.time, t1);
    assert_int_equal(expect_seg(p, A_TO_B, FIN | ACK, a + 1, b + 1)->ev.time, t1 + SEC(1));
    expect_seg(p, B_TO_A, ACK, b + 1, a + 2);
    expect_state(cb, SK_TCP_CLOSE_WAIT);
    expect_state(ca, SK_TCP_FIN_WAIT_2);
    assert_int_equal(counters(p->a).tcp_retransmits, 1);
    pair_free(p);
}

/* Lost data is resent from SND.UNA after the RTO and delivered byte-exact (no SACK, so no
 * tail loss probe before it). */
static void test_lost_data_is_retransmitted_after_rto(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.opt_sack = false;
    struct fx_pair f = fx_pair_open(&(struct fx_pair_opts){.ca = &cfg});
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    pair_drop(p, SIDE_A, PSH, PSH, 1);
    uint32_t a = info(ca).iss, b = info(cb).iss;
    uint8_t msg[100];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(255 - i);
    sk_time_us t1 = pair_now(p);
    assert_int_equal(sk_tcp_send(ca, msg, sizeof(msg)), 100);
    pair_run_until(p, t1 + SEC(1) + LINK_DELAY);
    assert_int_equal(expect_data(p, A_TO_B, ACK | PSH, a + 1, b + 1, 100)->ev.time, t1);
    assert_int_equal(expect_data(p, A_TO_B, ACK | PSH, a + 1, b + 1, 100)->ev.time,
                     t1 + SEC(1));
    uint8_t got[200];
    assert_int_equal(sk_tcp_recv(cb, got, sizeof(got)), 100);
    assert_memory_equal(got, msg, 100);
    pair_run_for(p, MS(100));
    expect_seg(p, B_TO_A, ACK, b + 1, a + 101);
    expect_no_seg(p, A_TO_B);
    assert_int_equal(info(ca).snd_una, a + 101);
    assert_int_equal(info(ca).total_retransmits, 1);
    pair_free(p);
}

/* data_retries (3): data resent at +1, +3, +7 s, then -ETIMEDOUT at +15 s. */
static void test_data_retries_then_etimedout(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.data_retries = 3;
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    assert_int_equal(sk_tcp_send(c, "data", 4), 4);
    raw_expect(r, ACK | PSH, iss + 1, 1001);
    static const unsigned at_s[] = {1, 3, 7};
    for (size_t i = 0; i < 3; i++) {
        raw_run_until(r, T0 + SEC(at_s[i]));
        assert_int_equal(raw_expect(r, ACK | PSH, iss + 1, 1001)->time, T0 + SEC(at_s[i]));
    }
    raw_run_until(r, T0 + SEC(15) - 1);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_run_until(r, T0 + SEC(15));
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    raw_expect_none(r);
    sk_tcp_close(c);
    raw_free(r);
}

/* RFC 9293 §3.8.3 user timeout: data unacknowledged for 5 s ends the connection with
 * -ETIMEDOUT at exactly 5 s, whatever the retry count. */
static void test_user_timeout_etimedout(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    sk_tcp_set_user_timeout(c, (uint32_t)SEC(5));
    raw_run_until(r, T0 + SEC(2));
    assert_int_equal(sk_tcp_send(c, "data", 4), 4);
    raw_expect(r, ACK | PSH, iss + 1, 1001);
    raw_run_until(r, T0 + SEC(7) - 1);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_expect(r, ACK | PSH, iss + 1, 1001); /* at +1 s */
    raw_expect(r, ACK | PSH, iss + 1, 1001); /* at +3 s */
    raw_run_until(r, T0 + SEC(7));
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    assert_int_equal(error_time(&r->rec, conn_id(c)), T0 + SEC(7));
    assert_int_equal(sk_tcp_send(c, "x", 1), -ETIMEDOUT);
    raw_expect_none(r);
    sk_tcp_close(c);
    raw_free(r);
}

/* An ACK in time resets the backoff: the next loss is retransmitted after the base RTO. */
static void test_ack_resets_backoff(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    assert_int_equal(sk_tcp_send(c, "ab", 2), 2);
    raw_expect(r, ACK | PSH, iss + 1, 1001);
    raw_run_until(r, T0 + SEC(1));
    raw_expect(r, ACK | PSH, iss + 1, 1001);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 3);
    assert_int_equal(info(c).retransmits, 0);
    assert_int_equal(sk_tcp_send(c, "cd", 2), 2);
    const struct raw_out *o = raw_expect(r, ACK | PSH, iss + 3, 1001);
    assert_int_equal(o->time, T0 + SEC(1));
    sk_time_us rto = info(c).rto_us;
    raw_run_until(r, T0 + SEC(1) + rto);
    assert_int_equal(raw_expect(r, ACK | PSH, iss + 3, 1001)->time, T0 + SEC(1) + rto);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_syn_backoff_then_etimedout),
        TEST(test_syn_retries_configurable),
        TEST(test_syn_retries_per_connection),
        TEST(test_synack_backoff_then_child_dropped),
        TEST(test_lost_synack),
        TEST(test_lost_fin_is_retransmitted),
        TEST(test_lost_data_is_retransmitted_after_rto),
        TEST(test_data_retries_then_etimedout),
        TEST(test_user_timeout_etimedout),
        TEST(test_ack_resets_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
