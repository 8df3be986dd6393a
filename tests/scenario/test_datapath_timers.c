/* Data path: Nagle (RFC 896, RFC 9293 §3.7.4), delayed ACKs (RFC 9293 §3.8.6.3, RFC 1122
 * §4.2.3.2), keep-alives (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) and PAWS (RFC 7323 §5), each on
 * the virtual clock against a scripted peer. D = IRS + 1 is the peer's first data byte. */
#include "test_datapath.h"

#define D (IRS + 1)

/* Nagle on (the default): "a" leaves at once; "b" waits while "a" is unacknowledged and
 * leaves the moment the ACK arrives. */
static void test_nagle_holds_second_small_write(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    assert_int_equal(sk_tcp_send(c, "a", 1), 1);
    fx_expect_data(r, ACK | PSH, iss + 1, D, 1);
    assert_int_equal(sk_tcp_send(c, "b", 1), 1);
    raw_expect_none(r);
    raw_run_for(r, MS(100));
    raw_expect_none(r);
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 2);
    const struct raw_out *o = fx_expect_data(r, ACK | PSH, iss + 2, D, 1);
    assert_int_equal(o->time, r->now);
    assert_int_equal(o->data[0], 'b');
    raw_free(r);
}

/* sk_tcp_set_nodelay: both small writes go at once. */
static void test_nodelay_sends_both_at_once(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    sk_tcp_set_nodelay(c, true);
    assert_int_equal(sk_tcp_send(c, "a", 1), 1);
    assert_int_equal(sk_tcp_send(c, "b", 1), 1);
    assert_int_equal(fx_expect_data(r, ACK | PSH, iss + 1, D, 1)->time, r->now);
    assert_int_equal(fx_expect_data(r, ACK | PSH, iss + 2, D, 1)->time, r->now);
    raw_free(r);
}

/* Turning Nagle off releases what it held. */
static void test_nodelay_releases_held_data(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    sk_tcp_send(c, "a", 1);
    sk_tcp_send(c, "b", 1);
    fx_expect_data(r, ACK | PSH, iss + 1, D, 1);
    raw_expect_none(r);
    sk_tcp_set_nodelay(c, true);
    fx_expect_data(r, ACK | PSH, iss + 2, D, 1);
    raw_free(r);
}

/* A single segment is acknowledged after exactly delack_us (40 ms by default). */
static void test_delayed_ack_single_segment(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    dp_connect(r, MS(10), NULL, &iss);
    sk_time_us t = r->now;
    dp_peer_data(r, iss, 0, MSS);
    raw_expect_none(r);
    raw_run_until(r, t + MS(40) - 1);
    raw_expect_none(r);
    raw_run_until(r, t + MS(40));
    assert_int_equal(raw_expect(r, ACK, iss + 1, D + MSS)->time, t + MS(40));
    raw_free(r);
}

/* delack_us is configurable: 100 ms. */
static void test_delayed_ack_timer_configurable(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.delack_us = (uint32_t)MS(100);
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    dp_connect(r, MS(10), NULL, &iss);
    sk_time_us t = r->now;
    dp_peer_data(r, iss, 0, 500);
    raw_run_until(r, t + MS(100) - 1);
    raw_expect_none(r);
    raw_run_until(r, t + MS(100));
    assert_int_equal(raw_expect(r, ACK, iss + 1, D + 500)->time, t + MS(100));
    raw_free(r);
}

/* Two full segments: the second is acknowledged at once (at least every second full-sized
 * segment, RFC 9293 §3.8.6.3), covering both; the delayed-ACK timer does not fire later. */
static void test_two_full_segments_acked_at_once(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    dp_connect(r, MS(10), NULL, &iss);
    dp_peer_data(r, iss, 0, MSS);
    raw_expect_none(r);
    raw_run_for(r, MS(5));
    dp_peer_data(r, iss, MSS, MSS);
    assert_int_equal(raw_expect(r, ACK, iss + 1, D + 2 * MSS)->time, r->now);
    raw_run_for(r, SEC(1));
    raw_expect_none(r);
    raw_free(r);
}

/* Keep-alive on, idle 10 s, interval 2 s, 3 probes: the probe <SEQ=SND.UNA-1><ACK=RCV.NXT>
 * leaves 10 s after the last segment from the peer, again at 12 s and 14 s; at 16 s the third
 * is unanswered and the connection fails with -ETIMEDOUT. */
static void test_keepalive_probes_then_etimedout(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(10), NULL, &iss);
    sk_time_us t = r->now; /* the SYN,ACK arrived now */
    sk_tcp_set_keepalive(c, true, SEC(10), (uint32_t)SEC(2), 3);
    static const unsigned at_s[] = {10, 12, 14};
    for (size_t i = 0; i < 3; i++) {
        raw_run_until(r, t + SEC(at_s[i]) - 1);
        raw_expect_none(r);
        raw_run_until(r, t + SEC(at_s[i]));
        const struct raw_out *o = raw_expect(r, ACK, iss, D);
        assert_int_equal(o->time, t + SEC(at_s[i]));
        assert_true(o->len <= 1);
    }
    raw_run_until(r, t + SEC(16) - 1);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_run_until(r, t + SEC(16));
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    raw_free(r);
}

/* An answered probe keeps the connection: the next probe is one idle time after the answer. */
static void test_keepalive_answered_probe_keeps_alive(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(10), NULL, &iss);
    sk_time_us t = r->now;
    sk_tcp_set_keepalive(c, true, SEC(10), (uint32_t)SEC(2), 3);
    raw_run_until(r, t + SEC(12));
    raw_expect(r, ACK, iss, D);
    raw_expect(r, ACK, iss, D);
    raw_run_until(r, t + SEC(12) + MS(10));
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 1); /* the answer */
    sk_time_us ans = r->now;
    raw_run_until(r, ans + SEC(10) - 1);
    raw_expect_none(r);
    raw_run_until(r, ans + SEC(10));
    assert_int_equal(raw_expect(r, ACK, iss, D)->time, ans + SEC(10));
    raw_run_until(r, ans + SEC(100));
    expect_state(c, SK_TCP_CLOSED); /* unanswered from here: 10 + 3 * 2 s */
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    raw_free(r);
}

/* Keep-alives are off by default: an idle connection sends nothing for hours. */
static void test_keepalive_off_by_default(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    struct sk_tcp *c = dp_connect(r, MS(10), NULL, NULL);
    raw_run_for(r, SEC(5 * 3600));
    raw_expect_none(r);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* RFC 7323 §5.3: data with TSval 5010 sets TS.Recent; a segment carrying an older TSval (4000)
 * is an old duplicate: dropped (counted as PAWS), its data not delivered, and answered with an
 * ACK <SEQ=SND.NXT><ACK=RCV.NXT> echoing TS.Recent. */
static void test_paws_drops_old_timestamp(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct fx_peer po = {.ts = true, .ts_val = 5000};
    struct sk_tcp *c = dp_connect(r, MS(10), &po, &iss);
    uint8_t buf[200];
    fx_fill(buf, 0, 200);
    raw_send(r, .flags = ACK | PSH, .seq = D, .ack = iss + 1, .data = buf, .len = 100,
             .opts = SK_OPT_TIMESTAMP, .ts_val = 5010, .ts_ecr = 0);
    raw_run_for(r, MS(40));
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, D + 100);
    assert_int_equal(o->ts_ecr, 5010);
    uint64_t paws = drops(r->st, SK_DROP_TCP_PAWS);
    raw_send(r, .flags = ACK | PSH, .seq = D + 100, .ack = iss + 1, .data = buf + 100,
             .len = 100, .opts = SK_OPT_TIMESTAMP, .ts_val = 4000, .ts_ecr = 0);
    assert_int_equal(drops(r->st, SK_DROP_TCP_PAWS), paws + 1);
    o = raw_expect(r, ACK, iss + 1, D + 100);
    assert_int_equal(o->time, r->now);
    assert_int_equal(o->ts_ecr, 5010);
    assert_int_equal(sk_tcp_readable(c), 100);
    assert_int_equal(info(c).rcv_nxt, D + 100);
    /* The same bytes with a current timestamp are taken. */
    raw_send(r, .flags = ACK | PSH, .seq = D + 100, .ack = iss + 1, .data = buf + 100,
             .len = 100, .opts = SK_OPT_TIMESTAMP, .ts_val = 5020, .ts_ecr = 0);
    assert_int_equal(sk_tcp_readable(c), 200);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_nagle_holds_second_small_write),
        TEST(test_nodelay_sends_both_at_once),
        TEST(test_nodelay_releases_held_data),
        TEST(test_delayed_ack_single_segment),
        TEST(test_delayed_ack_timer_configurable),
        TEST(test_two_full_segments_acked_at_once),
        TEST(test_keepalive_probes_then_etimedout),
        TEST(test_keepalive_answered_probe_keeps_alive),
        TEST(test_keepalive_off_by_default),
        TEST(test_paws_drops_old_timestamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
