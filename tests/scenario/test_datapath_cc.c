/* Data path: congestion control. Initial window (RFC 6928), slow start with appropriate byte
 * counting (RFC 5681 §3.1, RFC 3465, L = 2*SMSS), the two modules' reaction to a loss (RFC 9438
 * §4.6 for CUBIC, RFC 5681 §3.1 eq. (4) / RFC 6582 for NewReno), module selection through
 * sk_config.congestion_control, and restart after idle (RFC 5681 §4.1). */
#include "test_datapath.h"

#define RTT MS(100)
#define S(i) (iss + 1 + (uint32_t)(i) * MSS)

/* One RTT of slow start: the peer ACKs each of the n outstanding segments separately. */
static void ack_each(struct raw *r, uint32_t iss, unsigned from, unsigned n)
{
    for (unsigned i = 1; i <= n; i++)
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(from + i), .wnd = 65535);
}

/* IW = min(10*MSS, max(2*MSS, 14600)) = 10 segments; each ACK of one segment adds one SMSS,
 * so the window doubles every round trip: 10, 20, 40 segments. */
static void test_slow_start_doubles_per_rtt(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.sndbuf_bytes = 1u << 20;
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct fx_peer po = {.ws = true, .wscale = 7, .wnd = 65535};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1, .wnd = 8192); /* 1 MiB window */
    assert_int_equal(info(c).cwnd, 10 * MSS);
    assert_int_equal(fx_send(c, 0, 200 * MSS), 200 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, RTT);
    for (unsigned i = 1; i <= 10; i++)
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(i), .wnd = 8192);
    assert_int_equal(info(c).cwnd, 20 * MSS);
    assert_int_equal(fx_take(r, NULL), 20);
    raw_run_for(r, RTT);
    for (unsigned i = 11; i <= 30; i++)
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(i), .wnd = 8192);
    assert_int_equal(info(c).cwnd, 40 * MSS);
    assert_int_equal(fx_take(r, NULL), 40);
    raw_free(r);
}

/* RFC 3465 §2.2 with L = 2*SMSS: an ACK that covers 4 segments grows cwnd by 2 SMSS, not 4. */
static void test_abc_limits_growth_per_ack(void **state)
{
    (void)state;
    struct raw *r = fx_raw("cubic", 1u << 20);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    fx_send(c, 0, 10 * MSS);
    fx_take(r, NULL);
    raw_run_for(r, RTT);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(4));
    assert_int_equal(info(c).cwnd, 12 * MSS);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(5));
    assert_int_equal(info(c).cwnd, 13 * MSS);
    raw_free(r);
}

/* Ten segments in flight (cwnd 10 SMSS), the first lost, three duplicates. */
static struct sk_tcp *fast_retransmit(struct raw *r, uint32_t *iss)
{
    struct sk_tcp *c = dp_connect(r, RTT, NULL, iss);
    fx_send(c, 0, 10 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, RTT);
    for (int i = 0; i < 3; i++)
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = *iss + 1);
    raw_expect(r, ACK, *iss + 1, IRS + 1);
    return c;
}

/* RFC 9438 §4.6: CUBIC sets ssthresh = cwnd * beta_cubic (0.7). */
static void test_cubic_loss_ssthresh_is_07_cwnd(void **state)
{
    (void)state;
    struct raw *r = fx_raw("cubic", 1u << 20);
    uint32_t iss;
    struct sk_tcp *c = fast_retransmit(r, &iss);
    assert_int_equal(info(c).ssthresh, 10 * MSS * 7 / 10);
    raw_free(r);
}

/* RFC 5681 §3.1 eq. (4): NewReno sets ssthresh = max(FlightSize / 2, 2*SMSS). */
static void test_newreno_loss_ssthresh_is_half_flight(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 1u << 20);
    uint32_t iss;
    struct sk_tcp *c = fast_retransmit(r, &iss);
    assert_int_equal(info(c).ssthresh, 5 * MSS);
    raw_free(r);
}

/* The same two modules after a timeout (RFC 5681 §3.1, RFC 9438 §4.8): ssthresh as above,
 * cwnd one segment. */
static void test_rto_sets_cwnd_to_one_segment(void **state)
{
    (void)state;
    static const char *const names[] = {"cubic", "reno"};
    static const uint32_t ssthresh[] = {10 * MSS * 7 / 10, 5 * MSS};
    for (int k = 0; k < 2; k++) {
        struct raw *r = fx_raw(names[k], 1u << 20);
        uint32_t iss;
        struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
        fx_send(c, 0, 10 * MSS);
        fx_take(r, NULL);
        raw_run_for(r, SEC(1));
        fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
        raw_expect_none(r);
        assert_int_equal(info(c).cwnd, MSS);
        assert_int_equal(info(c).ssthresh, ssthresh[k]);
        raw_free(r);
    }
}

static void no_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    (void)ctx;
    (void)frame;
    (void)len;
}

/* An unknown module name makes the configuration invalid. */
static void test_unknown_congestion_control_rejected(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.output = no_output;
    cfg.congestion_control = "vegas";
    int err = 0;
    assert_null(sk_stack_new(&cfg, T0, &err));
    assert_int_equal(err, -EINVAL);
}

/* RFC 5681 §4.1: after an idle period longer than the RTO, cwnd is cut back to the initial
 * window (min(IW, cwnd)); after a shorter one it is kept. The flow fills its window until the
 * idle period (RFC 7661 §4.3: a window the flow does not use does not grow): 10 segments, each
 * ACK of one releasing two (cwnd 20), then one ACK for all 20 in flight (+2 SMSS, RFC 3465
 * with L = 2*SMSS): cwnd 22 segments. */
static void test_restart_after_idle(void **state)
{
    (void)state;
    /* 2: the restart turned off on the running stack (SK_SET_SLOW_START_AFTER_IDLE, Linux's
     * tcp_slow_start_after_idle=0 set mid-run): the long idle period keeps cwnd; 3: turned off,
     * then on again. */
    for (int longer = 0; longer < 4; longer++) {
        struct raw *r = fx_raw("cubic", 1u << 20);
        if (longer >= 2) {
            assert_int_equal(sk_stack_set_setting(r->st, SK_SET_SLOW_START_AFTER_IDLE, 2), -EINVAL);
            assert_int_equal(sk_stack_set_setting(r->st, SK_SET_SLOW_START_AFTER_IDLE, 0), 0);
        }
        uint32_t iss;
        struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
        fx_send(c, 0, 30 * MSS);
        assert_int_equal(fx_take(r, NULL), 10);
        raw_run_for(r, RTT);
        ack_each(r, iss, 0, 10);
        assert_int_equal(info(c).cwnd, 20 * MSS);
        assert_int_equal(fx_take(r, NULL), 20);
        raw_run_for(r, RTT);
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(30));
        assert_int_equal(info(c).cwnd, 22 * MSS);
        assert_int_equal(info(c).snd_una, info(c).snd_nxt);
        if (longer == 3)
            assert_int_equal(sk_stack_set_setting(r->st, SK_SET_SLOW_START_AFTER_IDLE, 1), 0);
        /* RTO is 1 s; the last segment left one RTT before the ACK. */
        raw_run_for(r, longer ? SEC(1) + 1 : MS(800));
        fx_send(c, 30 * MSS, 30 * MSS);
        bool restart = longer == 1 || longer == 3;
        assert_int_equal(fx_take(r, NULL), restart ? 10 : 22);
        assert_int_equal(info(c).cwnd, restart ? 10 * MSS : 22 * MSS);
        raw_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_slow_start_doubles_per_rtt),
        TEST(test_abc_limits_growth_per_ack),
        TEST(test_cubic_loss_ssthresh_is_07_cwnd),
        TEST(test_newreno_loss_ssthresh_is_half_flight),
        TEST(test_rto_sets_cwnd_to_one_segment),
        TEST(test_unknown_congestion_control_rejected),
        TEST(test_restart_after_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
