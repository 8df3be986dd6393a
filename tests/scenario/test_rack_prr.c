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
#include <stdlib.h>

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

/* ---- Large windows: the transmit records as a ring ---- */

#define BIG_WSCALE 8
#define BIG_WND_SEGS 1984u /* the peer's window: 1984 * MSS = 11315 << 8 bytes exactly */
#define BIG_LOSS_AT 7000u  /* the first segment of the lossy flight */
#define BIG_TOTAL 10000u   /* segments in the stream */

static const uint32_t big_holes[] = {BIG_LOSS_AT + 5, BIG_LOSS_AT + 200, BIG_LOSS_AT + 201,
                                     BIG_LOSS_AT + 777, BIG_LOSS_AT + 1500};

/* One transmission the peer will receive (or, for a hole's first copy, not). */
struct big_tx {
    uint32_t k;     /* segment index */
    sk_time_us at;  /* when it left the stack (raw_out.time) */
    bool rtx;
};

struct big_peer {
    struct raw *r;
    uint32_t iss;
    bool *delivered;           /* by segment index */
    uint32_t cum;              /* first segment not delivered */
    sk_time_us *xmit;          /* latest transmission of each segment, from the capture */
    uint32_t *rtx_count;
    bool *marked;              /* the model's Segment.lost, for the holes */
    struct big_tx *q;          /* transmissions in the order sent */
    size_t qn, qhead;
    uint32_t hi;               /* segments sent so far (highest index + 1) */
    size_t app_off;            /* stream bytes handed to the stack */
    sk_time_us rack_ts;        /* the model's RACK.xmit_ts and RACK.end_seq (as an index) */
    uint32_t rack_k;
};

static bool is_hole(uint32_t k)
{
    for (size_t i = 0; i < sizeof(big_holes) / sizeof(big_holes[0]); i++)
        if (big_holes[i] == k)
            return true;
    return false;
}

/* Takes what the stack sent since the last call into the queue; checks every retransmission:
 * a hole's segment, whole and with the stream's bytes. */
static void big_take(struct big_peer *b)
{
    size_t first;
    size_t n = fx_take(b->r, &first);
    for (size_t i = first; i < first + n; i++) {
        const struct raw_out *o = &b->r->out[i];
        if (o->len == 0)
            continue;
        uint32_t off = o->seq - (b->iss + 1);
        assert_int_equal(off % MSS, 0);
        assert_int_equal(o->len, MSS);
        uint32_t k = off / MSS;
        bool rtx = k < b->hi;
        if (rtx) {
            assert_true(is_hole(k));
            assert_false(b->delivered[k]);
            b->rtx_count[k]++;
            for (uint32_t j = 0; j < MSS; j++)
                assert_int_equal(o->data[j], fx_byte((size_t)off + j));
        } else {
            assert_int_equal(k, b->hi);
            b->hi++;
        }
        b->xmit[k] = o->time;
        b->q[b->qn++] = (struct big_tx){.k = k, .at = o->time, .rtx = rtx};
    }
}

/* The peer's ACK after receiving segment k: the cumulative ACK, the block holding k first,
 * then the other blocks from the highest down (RFC 2018 §4), four at most. */
static void big_ack(struct big_peer *b, uint32_t k)
{
    uint32_t iss = b->iss;
    uint32_t blocks[4][2];
    size_t nb = 0;
    uint32_t runs[64][2];
    size_t nr = 0;
    for (uint32_t i = b->cum; i < b->hi && nr < 64; i++) {
        if (!b->delivered[i])
            continue;
        uint32_t j = i;
        while (j < b->hi && b->delivered[j])
            j++;
        runs[nr][0] = i;
        runs[nr][1] = j;
        nr++;
        i = j;
    }
    for (size_t i = 0; i < nr; i++)
        if (runs[i][0] <= k && k < runs[i][1]) {
            blocks[nb][0] = S(runs[i][0]);
            blocks[nb][1] = S(runs[i][1]);
            nb++;
        }
    for (size_t i = nr; i-- > 0 && nb < 4;)
        if (!(runs[i][0] <= k && k < runs[i][1])) {
            blocks[nb][0] = S(runs[i][0]);
            blocks[nb][1] = S(runs[i][1]);
            nb++;
        }
    uint8_t o[40];
    size_t n = fx_opts(o, false, 0, 0, (const uint32_t(*)[2])blocks, nb);
    raw_send(b->r, .flags = ACK, .seq = IRS + 1, .ack = S(b->cum), .wnd = BIG_WND_SEGS * MSS >> BIG_WSCALE,
             .raw_opts = n ? o : NULL, .raw_opts_len = n);
}

/* RFC 8985 §6.2 written again for the holes: after each ACK, a hole not yet delivered is
 * lost once a segment sent after it (RACK_sent_after on the capture's times, ties by
 * sequence) has been delivered and its xmit_ts + RACK.rtt + reo_wnd has passed. Every
 * delivery here comes exactly RTT after its transmission, so RACK.rtt = RTT; reo_wnd is
 * min_RTT/4 = RTT/4 until DupThresh segments are SACKed or a loss is being repaired, then 0
 * (step 4, no reordering is ever seen). Returns the holes marked lost, not yet delivered. */
static uint32_t big_model_lost(struct big_peer *b, sk_time_us now)
{
    uint32_t sacked = 0, lost = 0;
    for (uint32_t i = b->cum; i < b->hi; i++)
        sacked += b->delivered[i];
    bool repairing = false;
    for (size_t i = 0; i < sizeof(big_holes) / sizeof(big_holes[0]); i++)
        repairing |= b->marked[i] && !b->delivered[big_holes[i]];
    sk_time_us reo = sacked >= 3 || repairing ? 0 : REO_WND;
    for (size_t i = 0; i < sizeof(big_holes) / sizeof(big_holes[0]); i++) {
        uint32_t h = big_holes[i];
        if (b->delivered[h] || h >= b->hi)
            continue;
        bool before = b->xmit[h] < b->rack_ts || (b->xmit[h] == b->rack_ts && h < b->rack_k);
        if (before && b->xmit[h] + RTT + reo <= now)
            b->marked[i] = true;
        lost += b->marked[i];
    }
    return lost;
}

/* A window of 1984 segments (window scale 8), the records a ring of 2048: 10,000 segments
 * pass through it, so it wraps several times. The peer acknowledges every segment exactly one
 * RTT after it left; in the flight from segment 7000 on five are lost (one pair adjacent).
 * After every ACK the stack's count of segments marked lost is the RFC's, each hole is sent
 * again exactly once with its own bytes, nothing else is, and the stream completes. */
static void test_rack_ring_large_window_marks_what_rfc8985_says(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 4u << 20);
    uint32_t iss;
    struct fx_peer po = {.sack = true, .ws = true, .wscale = BIG_WSCALE};
    struct sk_tcp *c = dp_connect(r, RTT, &po, &iss);
    assert_true(info(c).sack_ok);
    struct big_peer b = {.r = r, .iss = iss};
    b.delivered = calloc(BIG_TOTAL, sizeof(*b.delivered));
    b.xmit = calloc(BIG_TOTAL, sizeof(*b.xmit));
    b.rtx_count = calloc(BIG_TOTAL, sizeof(*b.rtx_count));
    b.marked = calloc(sizeof(big_holes) / sizeof(big_holes[0]), sizeof(*b.marked));
    b.q = calloc(2 * BIG_TOTAL, sizeof(*b.q));
    assert_true(b.delivered && b.xmit && b.rtx_count && b.marked && b.q);
    size_t total = (size_t)BIG_TOTAL * MSS;
    uint32_t max_out = 0;
    b.app_off += fx_send(c, 0, total);
    big_take(&b);
    while (b.qhead < b.qn) {
        struct big_tx t = b.q[b.qhead++];
        raw_run_until(r, t.at + RTT);
        if (is_hole(t.k) && !t.rtx)
            continue; /* lost on the way */
        b.delivered[t.k] = true;
        while (b.cum < b.hi && b.delivered[b.cum])
            b.cum++;
        if (t.at > b.rack_ts || (t.at == b.rack_ts && t.k > b.rack_k)) {
            b.rack_ts = t.at;
            b.rack_k = t.k;
        }
        big_ack(&b, t.k);
        assert_int_equal(info(c).lost, big_model_lost(&b, r->now));
        if (b.app_off < total)
            b.app_off += fx_send(c, b.app_off, total - b.app_off);
        big_take(&b);
        if (b.hi - b.cum > max_out)
            max_out = b.hi - b.cum;
    }
    assert_int_equal(b.cum, BIG_TOTAL);
    for (size_t i = 0; i < sizeof(big_holes) / sizeof(big_holes[0]); i++) {
        assert_int_equal(b.rtx_count[big_holes[i]], 1);
        assert_true(b.marked[i]);
    }
    /* At most BIG_WND_SEGS records were held, so the ring never passed 2048 slots; 10,000
     * records went through it. */
    assert_int_equal(max_out, BIG_WND_SEGS);
    struct sk_stack_counters k = counters(r->st);
    assert_int_equal(k.tcp_retransmits, sizeof(big_holes) / sizeof(big_holes[0]));
    assert_int_equal(k.tcp_lost_retransmits, 0);
    assert_int_equal(k.tcp_rack_off, 0);
    assert_int_equal(k.alloc_failures, 0);
    free(b.delivered);
    free(b.xmit);
    free(b.rtx_count);
    free(b.marked);
    free(b.q);
    raw_free(r);
}


/* A SACK connection with 40 segments queued at once: the initial window's 10 go out, and
 * one RTT passes. */
static struct sk_tcp *open_40_segments(struct raw *r, uint32_t *iss)
{
    struct sk_tcp *c = open_sack(r, iss);
    assert_int_equal(fx_send(c, 0, 40 * MSS), 40 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, RTT);
    return c;
}

/* Super-segments (TSO) are one record each until a SACK block or a retransmission cuts one:
 * near the ring's front (the records before it move back a slot) or near its back (those
 * after it move on). Segments [10, 30) went at one instant in ten two-segment super-segments;
 * the peer SACKs 11, then 15, then 26 (in order: no reordering is seen): after each ACK the stack's counts are the RFC's (a
 * segment is lost once one sent after it, here later in sequence, is delivered, with
 * reo_wnd 0 from the third SACKed segment on, §6.2 steps 4 and 5), every retransmission is a
 * whole lost segment with its own bytes, and the final ACK leaves nothing. */
static void test_rack_split_records_on_both_sides_of_the_ring(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct sk_tcp *c = open_40_segments(r, &iss);
    for (int i = 1; i <= 10; i++)
        dp_sack(r, S(i), NULL, 0);
    assert_int_equal(fx_take(r, NULL), 20);
    assert_int_equal(counters(r->st).tcp_tso_segs, 11);
    raw_run_for(r, RTT);
    /* Each step: the SACK blocks, and the segments then lost: every unSACKed one in [10, 30)
     * below the highest SACKed, once three are SACKed. */
    static const uint32_t sacked_k[] = {11, 15, 26};
    uint32_t blocks[3][2];
    for (size_t step = 0; step < 3; step++) {
        for (size_t b = 0; b <= step; b++) {
            blocks[b][0] = S(sacked_k[step - b]);
            blocks[b][1] = S(sacked_k[step - b] + 1);
        }
        dp_sack(r, S(10), (const uint32_t(*)[2])blocks, step + 1);
        uint32_t hi = 11, lost = 0;
        for (size_t b = 0; b <= step; b++)
            hi = sacked_k[b] > hi ? sacked_k[b] : hi;
        if (step >= 2)
            for (uint32_t k = 10; k < hi; k++)
                lost += k != 11 && k != 15 && k != 26;
        uint32_t snd_max = S(30);
        for (size_t i = 0; i < r->nout; i++)
            if ((int32_t)(r->out[i].seq + r->out[i].len - snd_max) > 0)
                snd_max = r->out[i].seq + r->out[i].len;
        struct sk_tcp_info in = info(c);
        assert_int_equal(in.sacked, step + 1);
        assert_int_equal(in.lost, lost);
        assert_int_equal(in.unacked, (snd_max - S(10)) / MSS);
    }
    assert_int_equal(info(c).ca_state, SK_CA_RECOVERY);
    /* Every piece sent since the flight: whole segments with the stream's bytes; those below
     * segment 30 are retransmissions of lost ones. */
    size_t first;
    size_t n = fx_take(r, &first);
    assert_true(n > 0);
    uint32_t snd_max = S(30);
    for (size_t i = first; i < first + n; i++) {
        const struct raw_out *o = &r->out[i];
        assert_int_equal(o->len, MSS);
        uint32_t k = (o->seq - S(0)) / MSS;
        if (k < 30)
            assert_true(k >= 10 && k < 26 && k != 11 && k != 15);
        for (uint32_t j = 0; j < MSS; j++)
            assert_int_equal(o->data[j], fx_byte((size_t)(o->seq - S(0)) + j));
        if ((int32_t)(o->seq + o->len - snd_max) > 0)
            snd_max = o->seq + o->len;
    }
    raw_run_for(r, RTT);
    dp_sack(r, snd_max, NULL, 0);
    struct sk_tcp_info in = info(c);
    assert_int_equal(in.sacked, 0);
    assert_int_equal(in.lost, 0);
    assert_int_equal(counters(r->st).tcp_rack_off, 0);
    assert_int_equal(counters(r->st).tcp_lost_retransmits, 0);
    raw_free(r);
}

/* ---- No memory for the records: RFC 6675, then RACK again ---- */

/* The records' ring cannot grow (the allocator refuses once, as memory pressure would): the
 * connection falls back to RFC 6675 (one SACKed segment, however late the hole, is no loss
 * before DupThresh; the third is), and once everything sent is acknowledged the next data
 * finds memory and RACK is back: a reordered segment is sent again by its timer at exactly
 * xmit_ts + RACK.rtt + reo_wnd. */
static void test_rack_falls_back_on_no_memory_and_comes_back(void **state)
{
    (void)state;
    struct fx_mem mem = {0};
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.congestion_control = "reno";
    fx_mem_use(&cfg, &mem);
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    /* 40 segments queued at once (the send buffer takes its memory now); 10 go out. */
    open_40_segments(r, &iss);
    /* Slow start: each ACK sends two; the 17th record outstanding needs a larger ring. */
    mem.fail_next = 1;
    for (int i = 1; i <= 10; i++)
        dp_sack(r, S(i), NULL, 0);
    assert_int_equal(fx_take(r, NULL), 20);
    struct sk_stack_counters k = counters(r->st);
    assert_int_equal(k.alloc_failures, 1);
    assert_int_equal(k.tcp_rack_off, 1);
    assert_int_equal(k.tcp_rack_resumed, 0);
    /* Segments [10, 30) went at one instant; 10 is lost. One SACK: RFC 3042 sends one new
     * segment, and no timer sends 10 again, even past xmit_ts + RTT + RTT/4. */
    sk_time_us t1 = r->now;
    raw_run_for(r, RTT);
    sack1(r, S(10), S(11), S(12));
    fx_expect_data(r, ACK, S(30), IRS + 1, MSS);
    raw_expect_none(r);
    raw_run_until(r, t1 + RTT + REO_WND + MS(20));
    raw_expect_none(r);
    sack1(r, S(10), S(11), S(13));
    fx_expect_data(r, ACK, S(31), IRS + 1, MSS);
    raw_expect_none(r);
    /* RFC 6675 §5: the third duplicate ACK: segment 10 goes again. */
    sack1(r, S(10), S(11), S(14));
    fx_expect_data(r, ACK, S(10), IRS + 1, MSS);
    fx_take(r, NULL);
    assert_int_equal(counters(r->st).tcp_rack_resumed, 0);
    /* Everything sent is acknowledged: the rest of the stream goes, RACK with it. */
    raw_run_for(r, RTT);
    uint32_t snd_max = iss + 1;
    for (size_t i = 0; i < r->nout; i++)
        if ((int32_t)(r->out[i].seq + r->out[i].len - snd_max) > 0)
            snd_max = r->out[i].seq + r->out[i].len;
    dp_sack(r, snd_max, NULL, 0);
    size_t first;
    size_t n = fx_take(r, &first);
    assert_true(n >= 2);
    assert_int_equal(counters(r->st).tcp_rack_resumed, 1);
    assert_int_equal(counters(r->st).tcp_rack_off, 1);
    assert_int_equal(r->out[first].seq, snd_max);
    sk_time_us t2 = r->out[first].time;
    assert_int_equal(r->out[first + 1].time, t2);
    /* §6.2: the first of them is overtaken by the second; its timer sends it again at
     * xmit_ts + RACK.rtt + reo_wnd = t2 + RTT + RTT/4, and not before. */
    raw_run_until(r, t2 + RTT);
    sack1(r, snd_max, snd_max + MSS, snd_max + 2 * MSS);
    raw_run_until(r, t2 + RTT + REO_WND - 1);
    raw_expect_none(r);
    raw_run_until(r, t2 + RTT + REO_WND);
    assert_int_equal(fx_expect_data(r, ACK, snd_max, IRS + 1, MSS)->time, t2 + RTT + REO_WND);
    assert_int_equal(counters(r->st).alloc_failures, 1);
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
        TEST(test_rack_ring_large_window_marks_what_rfc8985_says),
        TEST(test_rack_split_records_on_both_sides_of_the_ring),
        TEST(test_rack_falls_back_on_no_memory_and_comes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
