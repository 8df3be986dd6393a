/* Loss detection by RACK-TLP (RFC 8985) and cwnd during recovery by PRR (RFC 6937), segment by
 * segment against a scripted peer with SACK, 100 ms away, on the virtual clock.
 *
 * Every expected time and count is computed here from the RFCs' rules: RACK's reordering
 * window reo_wnd = min_RTT/4 (§6.2 step 4; the handshake's one RTT sample makes min_RTT =
 * SRTT = RTT), 0 once DupThresh segments are SACKed before any reordering was seen, a step of
 * min_RTT/4 more per round with a D-SACK; a segment is lost at xmit_ts + RACK.rtt + reo_wnd
 * (step 5), found by the reordering timer when no ACK comes; PRR's sndcnt per ACK from
 * prr_delivered, prr_out, RecoverFS and ssthresh (RFC 6937 §3) in a model written below. The
 * peer's segment i of the stream starts at S(i) = ISS + 1 + i*MSS. */
#include "test_datapath.h"

#define RTT MS(100)
#define S(i) (iss + 1 + (uint32_t)(i) * MSS)
#define REO_WND (RTT / 4) /* RFC 8985 §6.2 step 4: min_RTT / 4, below SRTT */

static struct sk_tcp *open_sack(struct raw *r, uint32_t *iss)
{
    struct fx_peer po = {.sack = true};
    struct sk_tcp *c = dp_connect(r, RTT, &po, iss);
    assert_true(info(c).sack_ok);
    assert_int_equal(info(c).srtt_us, RTT);
    return c;
}

/* n full segments go out back to back; the last one carries PSH. */
static void send_flight(struct raw *r, struct sk_tcp *c, uint32_t iss, unsigned from, unsigned n)
{
    assert_int_equal(fx_send(c, from * MSS, n * MSS), n * MSS);
    for (unsigned i = from; i < from + n; i++)
        fx_expect_data(r, ACK | (i == from + n - 1 ? PSH : 0), S(i), IRS + 1, MSS);
    raw_expect_none(r);
}

static void sack1(struct raw *r, uint32_t ack, uint32_t l, uint32_t rr)
{
    dp_sack(r, ack, (const uint32_t[][2]){{l, rr}}, 1);
}

/* §6.2: segment 0 of four is overtaken by segment 1 and arrives 15 ms later, less than
 * reo_wnd (25 ms): the SACK of segment 1 arms the reordering timer, the cumulative ACK that
 * follows stops it, and nothing is sent again. The reordering is seen (step 3). */
static void test_reordering_within_reo_wnd_is_not_retransmitted(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    send_flight(r, c, iss, 0, 4);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(2));
    raw_expect_none(r);
    assert_int_equal(info(c).rack_reo_wnd_us, REO_WND);
    assert_int_equal(info(c).sacked, 1);
    raw_run_for(r, MS(15));
    dp_sack(r, S(2), NULL, 0);
    raw_expect_none(r);
    assert_int_equal(info(c).reord_seen, 1);
    dp_sack(r, S(4), NULL, 0);
    raw_run_for(r, SEC(3));
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 0);
    assert_int_equal(info(c).ca_state, SK_CA_OPEN);
    raw_free(r);
}

/* §6.2 step 5 and §6.3: segment 0 is still missing when the reordering timer fires, at
 * exactly xmit_ts + RACK.rtt + reo_wnd = t0 + RTT + RTT/4: it is sent again then (not at the
 * SACK, not at the RTO), and the connection is in recovery with one segment lost. */
static void test_reordering_beyond_reo_wnd_is_retransmitted_by_the_timer(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    sk_time_us t0 = r->now;
    send_flight(r, c, iss, 0, 4);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(2));
    raw_expect_none(r);
    sk_time_us due = t0 + RTT + REO_WND; /* xmit_ts + RACK.rtt + RACK.reo_wnd */
    raw_run_until(r, due - 1);
    raw_expect_none(r);
    raw_run_until(r, due);
    const struct raw_out *o = fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    assert_int_equal(o->time, due);
    raw_expect_none(r);
    struct sk_tcp_info i = info(c);
    assert_int_equal(i.ca_state, SK_CA_RECOVERY);
    assert_int_equal(i.lost, 1);
    assert_int_equal(i.retrans_out, 1);
    assert_int_equal(i.sacked, 1);
    assert_int_equal(i.unacked, 4);
    assert_int_equal(counters(r->st).tcp_retransmits, 1);
    raw_free(r);
}

/* §6.2 step 4: with DupThresh (3) segments SACKed and no reordering seen yet, reo_wnd is 0:
 * the hole is lost at the third SACK, at once, as RFC 6675 would have it. */
static void test_three_sacked_segments_mean_loss_at_once(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    send_flight(r, c, iss, 0, 5);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(2));
    sack1(r, S(0), S(1), S(3));
    raw_expect_none(r);
    sack1(r, S(0), S(1), S(4));
    assert_int_equal(fx_expect_data(r, ACK, S(0), IRS + 1, MSS)->time, r->now);
    assert_int_equal(info(c).rack_reo_wnd_us, 0);
    raw_free(r);
}

/* §6.2 step 4: a D-SACK (RFC 2883: a block below the cumulative ACK) says the timer's
 * retransmission was needless: reo_wnd_mult goes to 2, reo_wnd to 2 * min_RTT/4 = 50 ms. In
 * the next flight a segment 40 ms late, which the 25 ms window would have called lost, is
 * left alone. */
static void test_dsack_grows_the_reordering_window(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    sk_time_us t0 = r->now;
    send_flight(r, c, iss, 0, 4);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(2));
    raw_run_until(r, t0 + RTT + REO_WND);
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    /* The original was only late: all is acknowledged, then the copy arrives: D-SACK. */
    raw_run_for(r, MS(5));
    dp_sack(r, S(4), NULL, 0);
    assert_int_equal(info(c).ca_state, SK_CA_OPEN);
    assert_int_equal(info(c).rack_reo_wnd_us, REO_WND);
    raw_run_for(r, RTT);
    sack1(r, S(4), S(0), S(1));
    assert_int_equal(info(c).rack_reo_wnd_us, 2 * REO_WND);
    raw_expect_none(r);
    /* The next flight (two segments: recovery left cwnd = ssthresh = 2 SMSS, RFC 6937 §3):
     * segment 4 overtaken by 5, 40 ms late. */
    send_flight(r, c, iss, 4, 2);
    raw_run_for(r, RTT);
    sack1(r, S(4), S(5), S(6));
    assert_int_equal(info(c).rack_reo_wnd_us, 2 * REO_WND);
    raw_run_for(r, MS(40));
    raw_expect_none(r);
    dp_sack(r, S(6), NULL, 0);
    raw_run_for(r, SEC(3));
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 1);
    raw_free(r);
}

/* ---- PRR (RFC 6937 §3) ---- */

/* The sender as RFC 6937 §3 and RFC 8985 describe it, in segments (all full-size): what it
 * must send on each ACK of recovery. */
struct prr_model {
    int una, snd_max, rwnd_end; /* segment indexes */
    int sacked, lost, rexmitted;
    int next_lost;              /* the first lost segment not yet sent again */
    int lost_end;
    int recover_fs, ssthresh, prr_delivered, prr_out;
};

/* One ACK delivering `delivered` segments in recovery: sndcnt (RFC 6937 §3 with PRR-SSRB). */
static int prr_sndcnt(struct prr_model *m, int delivered)
{
    m->prr_delivered += delivered;
    int pipe = (m->snd_max - m->una) - m->sacked - (m->lost - m->rexmitted);
    int sndcnt;
    if (pipe > m->ssthresh) {
        /* CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out */
        sndcnt = (m->prr_delivered * m->ssthresh + m->recover_fs - 1) / m->recover_fs - m->prr_out;
    } else {
        int behind = m->prr_delivered - m->prr_out;
        int limit = (behind > delivered ? behind : delivered) + 1; /* + MSS */
        sndcnt = m->ssthresh - pipe < limit ? m->ssthresh - pipe : limit;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    if (m->prr_out == 0 && sndcnt == 0)
        sndcnt = 1; /* the fast retransmit itself */
    return sndcnt;
}

/* The segments the stack sent for this ACK are exactly `n`: the lost ones first, in order,
 * then new data (RFC 6675 §4 NextSeg rules 1 and 2). */
static void expect_sends(struct raw *r, uint32_t iss, struct prr_model *m, int n)
{
    for (int k = 0; k < n; k++) {
        if (m->next_lost < m->lost_end) {
            fx_expect_data(r, ACK, S(m->next_lost), IRS + 1, MSS);
            m->next_lost++;
            m->rexmitted++;
        } else {
            fx_expect_data(r, ACK, S(m->snd_max), IRS + 1, MSS);
            m->snd_max++;
        }
        m->prr_out++;
    }
    raw_expect_none(r);
}

/* A flight of 20 segments, [10, 30), after slow start; the first `nlost` are lost, the peer
 * SACKs the rest one by one. Before recovery, limited transmit sends one new segment for
 * each of the first two SACKs (RFC 3042); the third SACKed segment makes RACK mark the holes
 * lost (§6.2 step 4: reo_wnd 0); from then on each ACK releases what PRR computes. */
static void prr_run(int nlost, int *proportional, int *ssrb)
{
    struct raw *r = fx_raw("reno", 256 * 1024);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    /* Slow start: 10 segments, each ACK grows cwnd by one SMSS and sends two. */
    assert_int_equal(fx_send(c, 0, 60 * MSS), 60 * MSS);
    for (int i = 0; i < 10; i++)
        fx_expect_data(r, ACK, S(i), IRS + 1, MSS);
    raw_run_for(r, RTT);
    for (int i = 1; i <= 10; i++)
        dp_sack(r, S(i), NULL, 0);
    assert_int_equal(fx_take(r, NULL), 20);
    assert_int_equal(info(c).cwnd, 20 * MSS);
    raw_run_for(r, RTT);
    struct prr_model m = {.una = 10, .snd_max = 30, .next_lost = 10, .lost_end = 10 + nlost};
    int first = 10 + nlost;
    for (int k = first; k < 30; k++) {
        sack1(r, S(10), S(first), S(k + 1));
        m.sacked++;
        int nth = k - first + 1;
        if (nth <= 2) { /* RFC 3042: one new segment per duplicate ACK, before recovery */
            fx_expect_data(r, ACK, S(m.snd_max), IRS + 1, MSS);
            m.snd_max++;
            raw_expect_none(r);
            continue;
        }
        if (nth == 3) {
            /* RACK marks every hole lost; recovery starts: RecoverFS = FlightSize, Reno's
             * ssthresh = FlightSize / 2 (RFC 5681 §3.1). */
            m.lost = nlost;
            m.recover_fs = m.snd_max - m.una;
            m.ssthresh = m.recover_fs / 2;
            assert_int_equal(info(c).ca_state, SK_CA_RECOVERY);
            assert_int_equal(info(c).ssthresh, (uint32_t)m.ssthresh * MSS);
        }
        int pipe = (m.snd_max - m.una) - m.sacked - (m.lost - m.rexmitted);
        if (pipe > m.ssthresh)
            (*proportional)++;
        else
            (*ssrb)++;
        int n = prr_sndcnt(&m, 1);
        expect_sends(r, iss, &m, n);
        /* cwnd = pipe + sndcnt (RFC 6937 §3), as the stack reports it */
        int pipe_after = (m.snd_max - m.una) - m.sacked - (m.lost - m.rexmitted);
        assert_int_equal(info(c).cwnd, (uint32_t)pipe_after * MSS);
    }
    assert_int_equal(info(c).lost, (uint32_t)nlost);
    assert_int_equal(info(c).sacked, (uint32_t)m.sacked);
    /* Recovery ends with the ACK of its point: cwnd = ssthresh (RFC 6937 §3). */
    raw_run_for(r, RTT);
    dp_sack(r, S(m.snd_max), NULL, 0);
    assert_int_equal(info(c).ca_state, SK_CA_OPEN);
    assert_int_equal(info(c).cwnd, (uint32_t)m.ssthresh * MSS);
    raw_free(r);
}

/* Four losses: pipe stays above ssthresh for a while, and PRR sends in proportion
 * (about one segment for every two delivered, ssthresh / RecoverFS = 1/2), then the
 * slow-start bound takes over. */
static void test_prr_proportional_then_ssrb(void **state)
{
    (void)state;
    int prop = 0, ssrb = 0;
    prr_run(4, &prop, &ssrb);
    assert_true(prop > 0 && ssrb > 0);
}

/* Twelve losses: pipe falls below ssthresh at once, and PRR-SSRB lets the sender catch up by
 * at most one segment more than was delivered per ACK. */
static void test_prr_ssrb_after_heavy_loss(void **state)
{
    (void)state;
    int prop = 0, ssrb = 0;
    prr_run(12, &prop, &ssrb);
    assert_int_equal(prop, 0);
    assert_true(ssrb > 0);
}

/* ---- TLP (RFC 8985 §7) with RACK ---- */

/* The last two of four segments are lost. The ACK of the first two re-arms the probe timer:
 * PTO = 2 * SRTT (two segments in flight, so no delayed-ACK allowance, §7.2). The probe is
 * the last segment sent again (no new data, §7.3). Its SACK delivers a segment sent after
 * segment 2, which was sent more than RACK.rtt + reo_wnd ago: RACK marks it lost at once and
 * recovery repairs it on that ACK (loss detection by TLP, §7.4), long before the RTO. */
static void test_tlp_probe_then_rack_finds_the_hole(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    send_flight(r, c, iss, 0, 4);
    raw_run_for(r, RTT);
    dp_sack(r, S(2), NULL, 0);
    raw_expect_none(r);
    sk_time_us probe_at = r->now + 2 * RTT;
    raw_run_until(r, probe_at - 1);
    raw_expect_none(r);
    raw_run_until(r, probe_at);
    assert_int_equal(fx_expect_data(r, ACK | PSH, S(3), IRS + 1, MSS)->time, probe_at);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_tail_loss_probes, 1);
    raw_run_for(r, RTT);
    sack1(r, S(2), S(3), S(4));
    assert_int_equal(fx_expect_data(r, ACK, S(2), IRS + 1, MSS)->time, r->now);
    raw_expect_none(r);
    assert_int_equal(info(c).ca_state, SK_CA_RECOVERY);
    raw_run_for(r, RTT);
    dp_sack(r, S(4), NULL, 0);
    raw_run_for(r, SEC(5));
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_retransmits, 2);
    raw_free(r);
}

/* §6.2 step 5 finds a lost retransmission by its own transmit time: the repair of segment 0
 * (sent at t_r) is lost; data sent after it (segment 6, at t_r + 1 ms) is SACKed one RTT
 * later, when t_r + RACK.rtt + reo_wnd (0 in recovery before any reordering) has passed: the
 * repair is lost too and goes again on that ACK, not at the RTO. */
static void test_lost_retransmission_found_by_time(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    send_flight(r, c, iss, 0, 6);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(2));
    sack1(r, S(0), S(1), S(3));
    raw_expect_none(r);
    sack1(r, S(0), S(1), S(4)); /* three SACKed: segment 0 lost, sent again */
    sk_time_us t_r = fx_expect_data(r, ACK, S(0), IRS + 1, MSS)->time;
    raw_expect_none(r);
    assert_int_equal(fx_send(c, 6 * MSS, 2 * MSS), 2 * MSS);
    raw_run_for(r, MS(1));
    sack1(r, S(0), S(1), S(5)); /* PRR lets one new segment out */
    fx_expect_data(r, ACK, S(6), IRS + 1, MSS);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(7));
    const struct raw_out *o = fx_expect_data(r, ACK, S(0), IRS + 1, MSS);
    assert_int_equal(r->now, t_r + MS(1) + RTT);
    assert_int_equal(o->time, r->now);
    assert_int_equal(counters(r->st).tcp_lost_retransmits, 1);
    assert_int_equal(counters(r->st).tcp_retransmits, 2);
    raw_free(r);
}

/* The knob: with loss_detection = RFC 6675 the reordered segment of the timer test is not
 * sent again by any timer: one SACKed segment is not DupThresh, and only the RTO repairs. */
static void test_rfc6675_knob_has_no_reordering_timer(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.loss_detection = SK_LOSS_RFC6675;
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct sk_tcp *c = open_sack(r, &iss);
    sk_time_us t0 = r->now;
    send_flight(r, c, iss, 0, 4);
    raw_run_for(r, RTT);
    sack1(r, S(0), S(1), S(2));
    raw_run_until(r, t0 + RTT + REO_WND + MS(50));
    raw_expect_none(r);
    (void)c;
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_reordering_within_reo_wnd_is_not_retransmitted),
        TEST(test_reordering_beyond_reo_wnd_is_retransmitted_by_the_timer),
        TEST(test_three_sacked_segments_mean_loss_at_once),
        TEST(test_dsack_grows_the_reordering_window),
        TEST(test_prr_proportional_then_ssrb),
        TEST(test_prr_ssrb_after_heavy_loss),
        TEST(test_tlp_probe_then_rack_finds_the_hole),
        TEST(test_lost_retransmission_found_by_time),
        TEST(test_rfc6675_knob_has_no_reordering_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
