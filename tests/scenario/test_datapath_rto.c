/* Data path: the retransmission timer (RFC 6298) and RTT measurement (Karn; RFC 7323 §4).
 *
 * The handshake gives the first RTT sample (the SYN is timed), so the first RTO is
 * SRTT + max(G, 4*RTTVAR) with SRTT = R, RTTVAR = R/2 (§2.2), clamped to rto_min (§2.4).
 * Each timeout doubles it up to rto_max (§5.5); a new ACK restarts the timer (§5.3); the backoff
 * holds until a valid sample (Karn), after which the RTO is computed afresh. */
#include "test_datapath.h"

#define RTT MS(100)

static struct raw *raw_rto(sk_time_us rto_min, sk_time_us rto_max, bool ts)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rto_min_us = (uint32_t)rto_min;
    cfg.rto_max_us = (uint32_t)rto_max;
    cfg.opt_timestamps = ts;
    return raw_new(&cfg);
}

/* RFC 6298 §2.2: R = 100 ms gives SRTT 100 ms, RTTVAR 50 ms, RTO 100 + 4*50 = 300 ms. */
static void test_first_rto_from_handshake_sample(void **state)
{
    (void)state;
    struct raw *r = raw_rto(MS(200), SEC(60), false);
    struct sk_tcp *c = dp_connect(r, RTT, NULL, NULL);
    assert_int_equal(info(c).srtt_us, MS(100));
    assert_int_equal(info(c).rttvar_us, MS(50));
    assert_int_equal(info(c).rto_us, MS(300));
    raw_free(r);
}

/* RFC 6298 §2.4: with rto_min 1 s (the RFC's value, the default) the same sample gives 1 s. */
static void test_first_rto_clamped_by_rto_min(void **state)
{
    (void)state;
    struct raw *r = raw_rto(SEC(1), SEC(60), false);
    struct sk_tcp *c = dp_connect(r, RTT, NULL, NULL);
    assert_int_equal(info(c).srtt_us, MS(100));
    assert_int_equal(info(c).rttvar_us, MS(50));
    assert_int_equal(info(c).rto_us, SEC(1));
    raw_free(r);
}

/* RFC 6298 §5.4-5.5: lost data is resent from SND.UNA at 300 ms, then the timer doubles:
 * 600 ms, 1.2 s, then rto_max (2 s here) caps it: 2 s, 2 s. */
static void test_backoff_doubles_up_to_rto_max(void **state)
{
    (void)state;
    struct raw *r = raw_rto(MS(200), SEC(2), false);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    sk_time_us t = r->now;
    assert_int_equal(fx_send(c, 0, 100), 100);
    assert_int_equal(fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 100)->time, t);
    static const sk_time_us gaps[] = {MS(300), MS(600), MS(1200), SEC(2), SEC(2)};
    for (size_t i = 0; i < 5; i++) {
        t += gaps[i];
        raw_run_until(r, t - 1);
        raw_expect_none(r);
        raw_run_until(r, t);
        assert_int_equal(fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 100)->time, t);
        assert_int_equal(info(c).retransmits, i + 1);
    }
    assert_int_equal(info(c).rto_us, SEC(2));
    raw_free(r);
}

/* A new ACK restarts the timer and clears the retry count; without a valid sample (Karn) the
 * backed-off RTO stays; the next timed segment's sample brings it back to SRTT + 4*RTTVAR. */
static void test_rto_restarts_after_new_ack(void **state)
{
    (void)state;
    struct raw *r = raw_rto(MS(200), SEC(60), false);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    sk_time_us t = r->now;
    fx_send(c, 0, 10);
    fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 10);
    raw_run_until(r, t + MS(300));
    fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 10);
    raw_run_until(r, t + MS(900));
    fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 10);
    assert_int_equal(info(c).rto_us, MS(1200));
    /* The ACK of the twice-resent segment: no RTT sample (ambiguous), backoff kept. */
    raw_run_until(r, t + MS(950));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 11);
    assert_int_equal(info(c).retransmits, 0);
    assert_int_equal(info(c).srtt_us, MS(100));
    assert_int_equal(info(c).rto_us, MS(1200));
    /* A new segment, acknowledged 100 ms later: SRTT 100 ms, RTTVAR 3/4*50 = 37.5 ms,
     * RTO 100 + 150 = 250 ms. */
    sk_time_us t2 = r->now;
    fx_send(c, 10, 10);
    fx_expect_data(r, ACK | PSH, iss + 11, IRS + 1, 10);
    raw_run_until(r, t2 + RTT);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 21);
    assert_int_equal(info(c).srtt_us, MS(100));
    assert_int_equal(info(c).rttvar_us, 37500);
    assert_int_equal(info(c).rto_us, MS(250));
    /* The next loss is resent after exactly that RTO, not the backed-off one. */
    sk_time_us t3 = r->now;
    fx_send(c, 20, 10);
    fx_expect_data(r, ACK | PSH, iss + 21, IRS + 1, 10);
    raw_run_until(r, t3 + MS(250) - 1);
    raw_expect_none(r);
    raw_run_until(r, t3 + MS(250));
    assert_int_equal(fx_expect_data(r, ACK | PSH, iss + 21, IRS + 1, 10)->time, t3 + MS(250));
    raw_free(r);
}

/* Karn (RFC 6298 §3), timestamps off: the ACK of a retransmitted segment gives no sample,
 * whether it answers the first copy (310 ms) or the second (10 ms). */
static void test_karn_no_sample_from_retransmission(void **state)
{
    (void)state;
    struct raw *r = raw_rto(MS(200), SEC(60), false);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    sk_time_us t = r->now;
    fx_send(c, 0, 50);
    fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 50);
    raw_run_until(r, t + MS(300));
    fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 50);
    raw_run_until(r, t + MS(310));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 51);
    assert_int_equal(info(c).srtt_us, MS(100));
    assert_int_equal(info(c).rttvar_us, MS(50));
    assert_int_equal(info(c).rto_us, MS(600)); /* backed off, kept */
    raw_free(r);
}

static uint32_t srtt_after(uint32_t srtt, uint32_t sample)
{
    return srtt - srtt / 8 + sample / 8;
}

/* RFC 7323 §4.1: with timestamps the sample is now - TSecr. The peer echoes a TSval 200 ms
 * older than the segment it acknowledges 50 ms after it was sent: the sample is 250 ms
 * (on the 1 ms timestamp clock), not 50 ms. */
static void test_rtt_from_tsecr(void **state)
{
    (void)state;
    struct raw *r = raw_rto(MS(200), SEC(60), true);
    uint32_t iss;
    struct fx_peer po = {.ts = true, .ts_val = 5000};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    assert_true(info(c).ts_ok);
    assert_int_equal(info(c).srtt_us, MS(100)); /* the SYN was timed: exactly 100 ms */
    raw_run_for(r, SEC(1));
    fx_send(c, 0, 20);
    const struct raw_out *o = fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 20);
    assert_true(o->opts & SK_OPT_TIMESTAMP);
    assert_int_equal(o->ts_ecr, 5000);
    uint32_t tsval = o->ts_val;
    raw_run_for(r, MS(50));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 21, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 5001, .ts_ecr = tsval - 200);
    uint32_t srtt = info(c).srtt_us;
    assert_in_range(srtt, srtt_after(MS(100), MS(250)), srtt_after(MS(100), MS(251)));
    raw_free(r);
}

/* With timestamps the echo tells which copy is acknowledged (RFC 7323 §4, RFC 6298 §3): an
 * echo of the retransmission's TSval is a valid sample; an echo of the first copy's is not. */
static void test_ts_sample_from_retransmission_echo(void **state)
{
    (void)state;
    struct raw *r = raw_rto(MS(200), SEC(60), true);
    uint32_t iss;
    struct fx_peer po = {.ts = true, .ts_val = 5000};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    sk_time_us t = r->now;
    /* First segment: the ACK echoes the first copy, sent before the retransmission. */
    fx_send(c, 0, 20);
    uint32_t first = fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 20)->ts_val;
    raw_run_until(r, t + MS(300));
    fx_expect_data(r, ACK | PSH, iss + 1, IRS + 1, 20);
    raw_run_until(r, t + MS(320));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 21, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 5001, .ts_ecr = first);
    assert_int_equal(info(c).srtt_us, MS(100)); /* no sample */
    /* Second segment: the ACK echoes the retransmission's TSval, 30 ms after it left. */
    t = r->now;
    fx_send(c, 20, 20);
    fx_expect_data(r, ACK | PSH, iss + 21, IRS + 1, 20);
    sk_time_us rto = info(c).rto_us;
    raw_run_until(r, t + rto);
    uint32_t again = fx_expect_data(r, ACK | PSH, iss + 21, IRS + 1, 20)->ts_val;
    raw_run_until(r, t + rto + MS(30));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 41, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 5002, .ts_ecr = again);
    uint32_t srtt = info(c).srtt_us;
    assert_in_range(srtt, srtt_after(MS(100), MS(30)), srtt_after(MS(100), MS(31)));
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_first_rto_from_handshake_sample),
        TEST(test_first_rto_clamped_by_rto_min),
        TEST(test_backoff_doubles_up_to_rto_max),
        TEST(test_rto_restarts_after_new_ack),
        TEST(test_karn_no_sample_from_retransmission),
        TEST(test_rtt_from_tsecr),
        TEST(test_ts_sample_from_retransmission_echo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
