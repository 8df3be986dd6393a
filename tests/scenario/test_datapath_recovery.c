/* Data path: loss recovery before the RTO.
 *
 * Fast retransmit after exactly three duplicate ACKs (RFC 5681 §3.2), NewReno partial ACKs
 * (RFC 6582 §3.2), early retransmit for short flights (RFC 5827), and SACK-based recovery
 * (RFC 6675) that resends only the holes. The peer is scripted; segment i of the flight starts
 * at S(i) = ISS + 1 + i*MSS. */
#include "test_datapath.h"

#define RTT MS(100)
#define S(i) (iss + 1 + (uint32_t)(i) * MSS)

/* A raw stack that detects losses by RFC 6675's DupThresh and sets cwnd = ssthresh in
 * recovery (sk_config.loss_detection, prr): for the tests of those RFCs' rules. RACK and PRR,
 * the defaults, have their own in test_rack_prr.c. */
static struct raw *raw_rfc6675(const char *cc)
{
    struct sk_config cfg;
    harness_config(&cfg, SIDE_A);
    cfg.congestion_control = cc;
    cfg.loss_detection = SK_LOSS_RFC6675;
    cfg.prr = false;
    return raw_new(&cfg);
}

/* n full segments go out back to back; the last one carries PSH. */
static void send_flight(struct raw *r, struct sk_tcp *c, uint32_t iss, unsigned n)
{
    assert_int_equal(fx_send(c, 0, n * MSS), n * MSS);
    for (unsigned i = 0; i < n; i++)
        fx_expect_data(r, ACK | (i == n - 1 ? PSH : 0), S(i), IRS + 1, MSS);
    raw_expect_none(r);
}

static void dupack(struct raw *r, uint32_t ack)
{
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = ack);
}

/* RFC 5681 §3.2: the first two duplicate ACKs send nothing (no new data is queued); the third
 * resends the segment at SND.UNA at once, long before the 1 s RTO. */
static void test_fast_retransmit_after_three_dupacks(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    send_flight(r, c, iss, 10);
    raw_run_for(r, RTT); /* segment 0 is lost; 1..9 arrive */
    dupack(r, S(0));
    dupack(r, S(0));
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 0);
    dupack(r, S(0));
    const struct raw_out *o = fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    assert_int_equal(o->time, r->now);
    uint8_t want[MSS];
    fx_fill(want, 0, MSS);
    assert_memory_equal(o->data, want, MSS); /* the same bytes as the first copy */
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 1);
    /* RFC 6582 §3.2 step 2-3: ssthresh = FlightSize/2, cwnd = ssthresh + 3*SMSS. */
    assert_int_equal(info(c).ssthresh, 5 * MSS);
    assert_int_equal(info(c).cwnd, 8 * MSS);
    /* More duplicates inflate cwnd by one SMSS each and resend nothing. */
    for (int i = 0; i < 6; i++)
        dupack(r, S(0));
    assert_int_equal(info(c).cwnd, 14 * MSS);
    raw_expect_none(r);
    raw_free(r);
}

/* RFC 6582 §3.2 step 5: holes at segments 0 and 3. After the fast retransmit of 0, the ACK
 * for it is partial (up to 3): segment 3 is resent at once, without waiting for more
 * duplicates; the ACK for everything ends recovery and nothing more is resent. */
static void test_newreno_partial_ack_retransmits_next_hole(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    send_flight(r, c, iss, 10);
    raw_run_for(r, RTT);
    for (int i = 0; i < 8; i++) /* segments 1, 2, 4..9 arrive */
        dupack(r, S(0));
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    raw_expect_none(r);
    raw_run_for(r, RTT);
    dupack(r, S(3)); /* partial ACK */
    const struct raw_out *o = fx_expect_data(r, ACK, S(3), IRS + 1, MSS);
    assert_int_equal(o->time, r->now);
    raw_expect_none(r);
    /* ssthresh + 3 + 5 inflations = 13 SMSS, deflated by the 3 segments acknowledged, plus
     * one SMSS (step 5): 11 SMSS. */
    assert_int_equal(info(c).cwnd, 11 * MSS);
    raw_run_for(r, RTT);
    dupack(r, S(10)); /* full ACK: recovery is over */
    raw_expect_none(r);
    raw_run_for(r, SEC(5));
    raw_expect_none(r); /* no RTO, no spurious resend */
    assert_int_equal(counters(r->st).tcp_retransmits, 2);
    assert_true(info(c).cwnd <= info(c).ssthresh);
    raw_free(r);
}

/* RFC 6582 §3.2 step 3 (full acknowledgment): cwnd = min(ssthresh, max(FlightSize, SMSS) +
 * SMSS). With nothing left in flight that is min(5*SMSS, 2*SMSS) = 2*SMSS. */
static void test_newreno_full_ack_deflates_to_flight_plus_one(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    send_flight(r, c, iss, 10);
    raw_run_for(r, RTT);
    for (int i = 0; i < 3; i++)
        dupack(r, S(0));
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    dupack(r, S(10));
    assert_int_equal(info(c).ssthresh, 5 * MSS);
    assert_int_equal(info(c).cwnd, 2 * MSS);
    raw_free(r);
}

/* RFC 5827 §3.1: three segments outstanding and nothing more to send: two duplicate ACKs
 * (oseg - 1) are enough. */
static void test_early_retransmit_three_segments(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    send_flight(r, c, iss, 3);
    raw_run_for(r, RTT);
    dupack(r, S(0));
    raw_expect_none(r);
    dupack(r, S(0));
    assert_int_equal(fx_expect_data(r, ACK, S(0), IRS + 1, MSS)->time, r->now);
    raw_expect_none(r);
    raw_free(r);
}

/* RFC 5827 §3.1: two segments outstanding: one duplicate ACK. */
static void test_early_retransmit_two_segments(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    send_flight(r, c, iss, 2);
    raw_run_for(r, RTT);
    dupack(r, S(0));
    assert_int_equal(fx_expect_data(r, ACK, S(0), IRS + 1, MSS)->time, r->now);
    raw_expect_none(r);
    raw_free(r);
}

/* Four segments outstanding: early retransmit does not apply, two duplicates are not enough. */
static void test_no_early_retransmit_with_four_segments(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    send_flight(r, c, iss, 4);
    raw_run_for(r, RTT);
    dupack(r, S(0));
    dupack(r, S(0));
    raw_expect_none(r);
    dupack(r, S(0));
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    raw_free(r);
}

/* RFC 6675: ten segments, holes at 0, 3 and 6; the peer SACKs every other segment as it
 * arrives. Each hole is resent once, as soon as IsLost() holds for it (more than
 * (DupThresh - 1) * SMSS bytes SACKed above it): hole 0 on the ACK that SACKs segment 4,
 * hole 3 on the one that SACKs 7, hole 6 on the one that SACKs 9. No SACKed segment is ever
 * sent again. The partial ACKs that follow do not end recovery; the ACK of the recovery point
 * does. */
static void test_sack_recovery_resends_only_holes(void **state)
{
    (void)state;
    struct raw *r = raw_rfc6675("cubic");
    uint32_t iss;
    struct fx_peer po = {.sack = true};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    assert_true(info(c).sack_ok);
    send_flight(r, c, iss, 10);
    raw_run_for(r, RTT);
    /* Arrivals 1, 2, 4, 5, 7, 8, 9: the SACK blocks the peer sends, newest first. */
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), S(2)}}, 1);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), S(3)}}, 1);
    raw_expect_none(r);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(4), S(5)}, {S(1), S(3)}}, 2);
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    raw_expect_none(r);
    /* RFC 6675 §5 (4.2): cwnd = ssthresh = 0.7 * 10 segments for CUBIC. */
    assert_int_equal(info(c).ssthresh, 7 * MSS);
    assert_int_equal(info(c).cwnd, 7 * MSS);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(4), S(6)}, {S(1), S(3)}}, 2);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(7), S(8)}, {S(4), S(6)}, {S(1), S(3)}}, 3);
    fx_expect_data(r, ACK, S(3), IRS + 1, MSS);
    raw_expect_none(r);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(7), S(9)}, {S(4), S(6)}, {S(1), S(3)}}, 3);
    raw_expect_none(r);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(7), S(10)}, {S(4), S(6)}, {S(1), S(3)}}, 3);
    fx_expect_data(r, ACK, S(6), IRS + 1, MSS);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 3);
    /* The retransmissions arrive: two partial ACKs, then the recovery point. */
    raw_run_for(r, RTT);
    dp_sack(r, S(3), (const uint32_t[][2]){{S(4), S(6)}, {S(7), S(10)}}, 2);
    dp_sack(r, S(6), (const uint32_t[][2]){{S(7), S(10)}}, 1);
    raw_expect_none(r);
    assert_int_equal(info(c).cwnd, 7 * MSS); /* still in recovery: no growth */
    dupack(r, S(10));
    raw_expect_none(r);
    raw_run_for(r, SEC(5));
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 3);
    /* Recovery is over, and it left cwnd at min(ssthresh, FlightSize + SMSS) with nothing in
     * flight: two segments (RFC 6582 §3.2 step 3). New data: the first two go out, the first is
     * lost. The first two duplicate ACKs each let one more new segment out beyond cwnd
     * (RFC 3042 limited transmit), the third starts a new recovery. */
    assert_int_equal(info(c).cwnd, 2 * MSS);
    uint32_t s10 = S(10);
    assert_int_equal(fx_send(c, 10 * MSS, 4 * MSS), 4 * MSS);
    fx_expect_data(r, ACK, s10, IRS + 1, MSS);
    fx_expect_data(r, ACK, s10 + MSS, IRS + 1, MSS);
    raw_expect_none(r);
    raw_run_for(r, RTT);
    dp_sack(r, s10, (const uint32_t[][2]){{s10 + MSS, s10 + 2 * MSS}}, 1);
    fx_expect_data(r, ACK, s10 + 2 * MSS, IRS + 1, MSS);
    dp_sack(r, s10, (const uint32_t[][2]){{s10 + MSS, s10 + 2 * MSS}}, 1);
    fx_expect_data(r, ACK | PSH, s10 + 3 * MSS, IRS + 1, MSS);
    raw_expect_none(r);
    dp_sack(r, s10, (const uint32_t[][2]){{s10 + MSS, s10 + 3 * MSS}}, 1);
    dp_sack(r, s10, (const uint32_t[][2]){{s10 + MSS, s10 + 4 * MSS}}, 1);
    fx_expect_data(r, ACK, s10, IRS + 1, MSS);
    raw_free(r);
}

/* RFC 9293 §3.10.7.4: the window a segment carries is measured from that segment's ACK. An
 * ACK that moves SND.UNA by one segment and keeps the peer's right edge where it was (the
 * window one segment smaller) also starts SACK recovery: what recovery sends must stay left of
 * that edge. Measuring the old window from the new SND.UNA put it one segment further right. */
static void test_recovery_sends_nothing_beyond_the_right_edge(void **state)
{
    (void)state;
    struct raw *r = fx_raw("cubic", 0);
    uint32_t iss;
    struct fx_peer po = {.sack = true, .wnd = 10 * MSS};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    assert_int_equal(fx_send(c, 0, 20 * MSS), 20 * MSS);
    for (unsigned i = 0; i < 10; i++) /* the window, and IW, are 10 segments */
        fx_expect_data(r, ACK, S(i), IRS + 1, MSS);
    raw_expect_none(r);
    raw_run_for(r, RTT);
    /* Segment 0 arrives, 1 is lost, 2..4 arrive: ACK S(1), SACK S(2)-S(5), window 9 segments,
     * so the right edge stays at S(10). */
    uint8_t o[40];
    size_t n = fx_opts(o, false, 0, 0, (const uint32_t[][2]){{S(2), S(5)}}, 1);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(1), .wnd = 9 * MSS, .raw_opts = o,
             .raw_opts_len = n);
    fx_expect_data(r, ACK, S(1), IRS + 1, MSS); /* RFC 6675: the hole goes at once */
    raw_expect_none(r);                         /* and nothing at or beyond S(10) */
    raw_free(r);
}

/* The retransmission timer watches the oldest outstanding segment (RFC 6298 §5): once a fast
 * retransmit has sent it again, the answer is due an RTT after that, and the timer runs from
 * there. RTO here is RFC 6298 §2.2's first value from the 100 ms handshake sample,
 * 100 + 4 * 50 = 300 ms, above the 200 ms minimum set. The holes are reported 250 ms after the
 * flight left; the repair's ACK comes 100 ms later, at 350 ms: a timer still running from the
 * flight (due at 300 ms) would fire first and send everything again. */
static void test_fast_retransmit_restarts_the_timer(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rto_min_us = MS(200);
    cfg.congestion_control = "cubic";
    cfg.tlp = false; /* its probe at 2*SRTT would come before the holes are reported */
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct fx_peer po = {.sack = true};
    struct sk_tcp *c = dp_connect(r, MS(100), &po, &iss);
    send_flight(r, c, iss, 10);
    raw_run_for(r, MS(250));
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), S(2)}}, 1);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), S(3)}}, 1);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), S(4)}}, 1);
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    raw_expect_none(r);
    raw_run_for(r, MS(100)); /* 350 ms: past where the flight's timer would have fired */
    raw_expect_none(r);
    dp_sack(r, S(10), NULL, 0);
    raw_run_for(r, SEC(2));
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 1);
    (void)c;
    raw_free(r);
}

/* A SACK block that starts at the cumulative ACK claims bytes the ACK itself should have
 * covered (a receiver that reneged, or nonsense): it is no SACK information (RFC 2018 §4), and
 * when the RTO fires the segment at SND.UNA goes again (RFC 2018 §8), not the one after the
 * block. Taking the block made the timeout skip SND.UNA as delivered, for ever. */
static void test_sack_block_at_the_ack_is_ignored(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.tlp = false; /* the probe would come first; this is about the timeout */
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct fx_peer po = {.sack = true};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    send_flight(r, c, iss, 4);
    raw_run_for(r, RTT);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(0), S(2)}}, 1);
    raw_expect_none(r);
    /* RFC 6298 §2.2: the first RTO from the 100 ms sample is 100 + 4 * 50 = 300 ms, raised to
     * the 1 s minimum; it runs from the flight. */
    raw_run_until(r, r->out[r->cursor - 1].time + SEC(1));
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    raw_free(r);
}

/* RFC 6675 repairs each hole once (with loss_detection = RFC 6675; RACK finds a lost repair
 * by its own transmit time); when the repair is lost too, RACK's time order (RFC 8985
 * §6.2) still tells: data sent after the repair has been SACKed, and more than 5/4 of an SRTT
 * (125 ms here) has passed since the repair left, so the repair is lost and goes again, long
 * before the 1 s RTO. */
static void test_lost_retransmission_is_sent_again(void **state)
{
    (void)state;
    struct raw *r = raw_rfc6675("cubic");
    uint32_t iss;
    struct fx_peer po = {.sack = true};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    assert_int_equal(fx_send(c, 0, 30 * MSS), 30 * MSS);
    r->cursor = r->nout; /* the first flight: IW10, S(0)..S(9) */
    raw_run_for(r, RTT);
    /* S(0) is lost, S(1)..S(9) arrive: the third SACK starts recovery, S(0) goes again. */
    for (int k = 2; k <= 10; k++)
        dp_sack(r, S(0), (const uint32_t[][2]){{S(1), S(k)}}, 1);
    const sk_time_us repair_at = r->now;
    size_t i = r->cursor;
    while (i < r->nout && r->out[i].seq != S(0))
        i++;
    assert_true(i < r->nout);
    assert_int_equal(r->out[i].time, repair_at);
    uint32_t fence = info(c).snd_nxt; /* new data went out behind the repair */
    assert_true((int32_t)(fence - S(10)) > 0);
    r->cursor = r->nout;
    /* The repair is lost; the new data arrives and is SACKed one RTT later. */
    raw_run_for(r, RTT);
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), fence}}, 1);
    r->cursor = r->nout; /* 100 ms: too early to call the repair lost */
    assert_int_equal(counters(r->st).tcp_lost_retransmits, 0);
    raw_run_for(r, MS(30));
    dp_sack(r, S(0), (const uint32_t[][2]){{S(1), fence}}, 1);
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    assert_true(r->now - repair_at < SEC(1));
    assert_int_equal(counters(r->st).tcp_lost_retransmits, 1);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_fast_retransmit_after_three_dupacks),
        TEST(test_newreno_partial_ack_retransmits_next_hole),
        TEST(test_newreno_full_ack_deflates_to_flight_plus_one),
        TEST(test_early_retransmit_three_segments),
        TEST(test_early_retransmit_two_segments),
        TEST(test_no_early_retransmit_with_four_segments),
        TEST(test_sack_recovery_resends_only_holes),
        TEST(test_recovery_sends_nothing_beyond_the_right_edge),
        TEST(test_fast_retransmit_restarts_the_timer),
        TEST(test_sack_block_at_the_ack_is_ignored),
        TEST(test_lost_retransmission_is_sent_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
