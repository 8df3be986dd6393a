/* Slow start, ACK by ACK, on a real connection to a scripted peer (cc_slowstart.c): byte
 * counting without a limit (sk_config.ss_abc_limit = 0), cwnd validation when the application
 * does not fill the window (RFC 7661 §4.1, and Linux's tcp_is_cwnd_limited), and the two
 * slow-start exits: RFC 9406 HyStart++ (delay increase, Conservative Slow Start, congestion
 * avoidance after CSS_ROUNDS) and Linux's HyStart (tcp_cubic.c, delay against the least RTT).
 * Every expected window is the RFC's (or Linux's documented) arithmetic written here; the
 * stack's cwnd and ssthresh are only read to be compared. */
#include "test_datapath.h"

#define S(i) (iss + 1 + (uint32_t)(i) * MSS)
#define BIG_WND 8192 /* with window scale 7: 1 MiB */
#define INF_SSTHRESH (1u << 30) /* RFC 5681 §3.1 "arbitrarily high": synack's largest window */

static bool seq_le_(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

static struct raw *raw_with(const char *cc, void (*tune)(struct sk_config *))
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.congestion_control = cc;
    cfg.sndbuf_bytes = 4u << 20;
    if (tune)
        tune(&cfg);
    return raw_new(&cfg);
}

static struct sk_tcp *open_conn(struct raw *r, sk_time_us rtt, uint32_t *iss)
{
    struct fx_peer po = {.ws = true, .wscale = 7, .wnd = 65535};
    struct sk_tcp *c = dp_connect(r, rtt, &po, iss);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = *iss + 1, .wnd = BIG_WND);
    return c;
}

static void ack(struct raw *r, uint32_t seq)
{
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = seq, .wnd = BIG_WND);
}

static void no_abc_limit(struct sk_config *cfg)
{
    cfg->ss_abc_limit = 0;
}

/* RFC 3465 §2.2 with no L (sk_config.ss_abc_limit = 0, Linux's tcp_slow_start): an ACK of 4
 * segments grows cwnd by 4 SMSS, where L = 2 would give 2. */
static void test_no_abc_limit_counts_every_byte(void **state)
{
    (void)state;
    struct raw *r = raw_with("reno", no_abc_limit);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(100), &iss);
    fx_send(c, 0, 40 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, MS(100));
    ack(r, S(4));
    assert_int_equal(info(c).cwnd, 14 * MSS);
    /* 6 in flight, cwnd 14: 8 new segments. */
    assert_int_equal(fx_take(r, NULL), 8);
    raw_free(r);
}

/* RFC 7661 §4.1 (the default): the application writes 9 segments, under the initial window of
 * 10 (RFC 6928), and the peer ACKs every other one. An ACK may grow cwnd while the flow is
 * "validated", pipeACK >= cwnd/2, here FlightSize before the ACK; the growth is RFC 3465's
 * min(N, 2*SMSS). NewReno: RFC 5681's slow start, no HyStart++. */
static void test_rfc7661_application_limited(void **state)
{
    (void)state;
    struct raw *r = raw_with("reno", NULL);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(100), &iss);
    fx_send(c, 0, 9 * MSS);
    assert_int_equal(fx_take(r, NULL), 9);
    raw_run_for(r, MS(100));
    uint32_t cwnd = 10 * MSS, una = 0;
    static const uint32_t acks[] = {2, 4, 6, 8, 9};
    for (size_t k = 0; k < sizeof(acks) / sizeof(acks[0]); k++) {
        uint32_t flight = (9 - una) * MSS, n = (acks[k] - una) * MSS;
        if (2 * flight >= cwnd)
            cwnd += n < 2 * MSS ? n : 2 * MSS;
        ack(r, S(acks[k]));
        una = acks[k];
        assert_int_equal(info(c).cwnd, cwnd);
    }
    /* 10, 12, 14, then FlightSize 5 segments < 7: held at 14. */
    assert_int_equal(cwnd, 14 * MSS);
    raw_free(r);
}

static void linux_rules(struct sk_config *cfg)
{
    cfg->ss_abc_limit = 0;
    cfg->cwnd_validation = SK_CWV_LINUX;
}

/* Linux's rule (include/net/tcp.h tcp_is_cwnd_limited): in slow start cwnd grows while it is
 * below twice the most that was in flight in this window ("ensure cwnd grows to twice what was
 * ACKed"), or if the window was filled. Writes of 9, 5, 6 and 10 segments, ACKs of 2 (the
 * packetdrill scripts slow-start-app-limited*.pkt, slow-start-ack-per-2pkt-send-*.pkt). */
static void test_linux_cwnd_validation(void **state)
{
    (void)state;
    static const uint32_t writes[] = {9, 5, 6, 10};
    for (size_t w = 0; w < sizeof(writes) / sizeof(writes[0]); w++) {
        struct raw *r = raw_with("reno", linux_rules);
        uint32_t iss;
        struct sk_tcp *c = open_conn(r, MS(100), &iss);
        uint32_t n = writes[w];
        fx_send(c, 0, n * MSS);
        assert_int_equal(fx_take(r, NULL), n);
        raw_run_for(r, MS(100));
        uint32_t cwnd = 10 * MSS, una = 0;
        bool filled = n >= 10; /* packets in flight reached cwnd */
        while (una < n) {
            uint32_t to = una + 2 < n ? una + 2 : n;
            if (filled || cwnd < 2 * n * MSS)
                cwnd += (to - una) * MSS;
            ack(r, S(to));
            una = to;
            assert_int_equal(info(c).cwnd, cwnd);
        }
        static const uint32_t final[] = {18, 10, 12, 20};
        assert_int_equal(cwnd, final[w] * MSS);
        raw_free(r);
    }
}

static void linux_delivered(struct sk_config *cfg)
{
    linux_rules(cfg);
    cfg->grow_by_delivered = true;
}

/* The peer SACKs [S(a), S(b)) and, if c < d, [S(c), S(d)), acknowledging `seq`. */
static void ack_sack2(struct raw *r, uint32_t iss, uint32_t seq, uint32_t a, uint32_t b, uint32_t c,
                      uint32_t d)
{
    uint32_t blk[2][2] = {{S(a), S(b)}, {S(c), S(d)}};
    uint8_t o[40];
    size_t n = fx_opts(o, false, 0, 0, blk, c < d ? 2 : 1);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = seq, .wnd = BIG_WND, .raw_opts = o,
             .raw_opts_len = n);
}

/* The peer acknowledges `seq`, SACKing [S(1), S(to)) if to > 1, the window unchanged. */
static void ack_sack_to(struct raw *r, uint32_t iss, uint32_t seq, uint32_t to)
{
    if (to > 1)
        ack_sack2(r, iss, seq, 1, to, 0, 0);
    else
        ack(r, seq);
}

/* A Reno connection with Linux's growth rules (and grow_by_delivered if `delivered`) whose
 * initial window of ten segments has just gone out, `bytes` queued, RTT `rtt`. */
static struct sk_tcp *ten_out(struct raw **r, bool delivered, bool sack, sk_time_us rtt,
                              uint32_t bytes, uint32_t *iss)
{
    *r = raw_with("reno", delivered ? linux_delivered : linux_rules);
    struct fx_peer po = {.ws = true, .wscale = 7, .wnd = 65535, .sack = sack};
    struct sk_tcp *c = dp_connect(*r, rtt, &po, iss);
    ack(*r, *iss + 1);
    fx_send(c, 0, bytes);
    assert_int_equal(fx_take(*r, NULL), 10);
    return c;
}

/* sk_config.grow_by_delivered (Linux's tcp_ack: acked_sacked, tcp_remove_reno_sacks), with the
 * kernel's own numbers: Linux 6.18 running limited-transmit-sack.pkt and -no-sack.pkt printed
 * tcpi_snd_cwnd 10, 10, 10, 11, 13 after the ACKs below. Ten segments out; two duplicate ACKs
 * (SACKing segment 1, then 1-2, where SACK is agreed) each let one new segment out (RFC 3042)
 * and leave cwnd alone; the ACK of segments 0-2 delivers only segment 0, not announced before:
 * cwnd 11, and 11 - 9 in flight = 2 new segments; the ACK of 3-4 grows it by 2, to 13. Off
 * (RFC 5681 §3.1's N, unlimited by ss_abc_limit 0), the ACK of 0-2 grows cwnd by all 3. */
static void test_grow_by_delivered(void **state)
{
    (void)state;
    for (int sack = 0; sack <= 1; sack++) {
        for (int knob = 0; knob <= 1; knob++) {
            struct raw *r;
            uint32_t iss;
            struct sk_tcp *c = ten_out(&r, knob, sack, MS(100), 40 * MSS, &iss);
            raw_run_for(r, MS(100));
            for (uint32_t d = 1; d <= 2; d++) {
                ack_sack_to(r, iss, S(0), sack ? d + 1 : 0);
                fx_expect_data(r, ACK, S(9 + d), IRS + 1, MSS);
                assert_int_equal(info(c).cwnd, 10 * MSS);
            }
            raw_run_for(r, MS(10));
            ack(r, S(3));
            assert_int_equal(info(c).cwnd, (knob ? 11 : 13) * MSS);
            assert_int_equal(fx_take(r, NULL), knob ? 2 : 4);
            raw_run_for(r, MS(20));
            ack(r, S(5));
            assert_int_equal(info(c).cwnd, (knob ? 13 : 15) * MSS);
            raw_free(r);
        }
    }
}

/* grow_by_delivered once reordering is seen (tcp_may_raise_cwnd: above tcp_reordering, 3, a
 * SACK alone grows cwnd by what it delivered), as Linux 6.18 ran the start of
 * cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt: ten segments out, a SACK of the
 * tenth (no reordering known yet: no growth), a SACK of the fourth and tenth (the fourth,
 * below the highest SACKed, is reordering: one segment of growth), then the ACK of all ten,
 * which delivers the 8 not SACKed: the kernel asserts cwnd 19. Off, RFC 5681 §3.1 grows
 * cwnd by the 10 segments the last ACK acknowledges: 20. */
static void test_grow_on_sack_after_reordering(void **state)
{
    (void)state;
    for (int knob = 0; knob <= 1; knob++) {
        struct raw *r;
        uint32_t iss;
        struct sk_tcp *c = ten_out(&r, knob, true, MS(20), 10 * MSS, &iss);
        raw_run_for(r, MS(20));
        ack_sack2(r, iss, S(0), 9, 10, 0, 0);
        assert_int_equal(info(c).cwnd, 10 * MSS);
        ack_sack2(r, iss, S(0), 3, 4, 9, 10);
        assert_int_equal(info(c).cwnd, (knob ? 11 : 10) * MSS);
        ack(r, S(10));
        assert_int_equal(info(c).cwnd, (knob ? 19 : 20) * MSS);
        raw_free(r);
    }
}

/* ---- HyStart++ (RFC 9406), the slow start RFC 9438 §4.10 recommends for CUBIC ---- */

static void hystart_pp(struct sk_config *cfg)
{
    cfg->hystart = SK_HYSTART_PP;
}

#define PP_N_RTT_SAMPLE 8
#define PP_CSS_GROWTH_DIVISOR 4
#define PP_CSS_ROUNDS 5
#define PP_L 8

/* One round: every segment in flight is acknowledged, one ACK each, `rtt` after the instant
 * they all left (the previous round's ACKs all arrived at one instant, so its data left at
 * one instant too). `each` runs after each ACK with the number of ACKs so far in the round.
 * Returns the number of ACKs. */
static uint32_t round_trip(struct raw *r, struct sk_tcp *c, sk_time_us rtt,
                           void (*each)(struct sk_tcp *, uint32_t, void *), void *arg)
{
    uint32_t una = info(c).snd_una, end = info(c).snd_nxt;
    assert_int_equal((end - una) % MSS, 0);
    raw_run_for(r, rtt);
    uint32_t k = 0;
    for (uint32_t seq = una + MSS; seq_le_(seq, end); seq += MSS) {
        ack(r, seq);
        k++;
        if (each)
            each(c, k, arg);
    }
    return k;
}

struct pp_model {
    uint32_t cwnd;
    bool css;          /* in Conservative Slow Start */
    uint32_t ss_acks;  /* ACKs that still grow by a full min(N, L*SMSS) in this round */
};

/* RFC 9406 §4.2: cwnd += min(N, L*SMSS), in CSS divided by CSS_GROWTH_DIVISOR; every ACK here
 * acknowledges N = 1 SMSS. */
static void pp_check(struct sk_tcp *c, uint32_t k, void *arg)
{
    struct pp_model *m = arg;
    uint32_t n = MSS < PP_L * MSS ? MSS : PP_L * MSS;
    bool full = !m->css || k <= m->ss_acks;
    m->cwnd += full ? n : n / PP_CSS_GROWTH_DIVISOR;
    assert_int_equal(info(c).cwnd, m->cwnd);
    assert_int_equal(info(c).ssthresh, INF_SSTHRESH);
}

/* Round 1 (the initial window) sees a 100 ms RTT, every later round 115 ms. RttThresh =
 * max(4 ms, min(lastRoundMinRTT / 8, 16 ms)) = 12.5 ms, and 115 >= 100 + 12.5: after the 8th
 * sample of round 2 (N_RTT_SAMPLE) slow start gives way to CSS, whose ACKs add SMSS/4. The RTT
 * never falls back below cssBaselineMinRtt (115 ms), so CSS lasts CSS_ROUNDS rounds (the one
 * it began in counts as the first: rounds 2 to 6), and the first ACK of round 7 sets
 * ssthresh = cwnd: congestion avoidance. */
static void test_hystart_pp_css_then_congestion_avoidance(void **state)
{
    (void)state;
    struct raw *r = raw_with("cubic", hystart_pp);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(100), &iss);
    fx_send(c, 0, 3000 * MSS / 2);
    assert_int_equal(fx_take(r, NULL), 10);
    struct pp_model m = {.cwnd = 10 * MSS};
    /* Round 1: no lastRoundMinRTT yet, no check; 10 ACKs of full growth. */
    assert_int_equal(round_trip(r, c, MS(100), pp_check, &m), 10);
    assert_int_equal(m.cwnd, 20 * MSS);
    /* Round 2: the 8th sample shows the increase; that ACK still grew by a full SMSS. */
    m.css = true;
    m.ss_acks = PP_N_RTT_SAMPLE;
    uint32_t acks = round_trip(r, c, MS(115), pp_check, &m);
    assert_true(acks > PP_N_RTT_SAMPLE);
    assert_int_equal(m.cwnd, 28 * MSS + (acks - 8) * (MSS / PP_CSS_GROWTH_DIVISOR));
    /* Rounds 3 to 6: CSS throughout. */
    m.ss_acks = 0;
    for (int round = 3; round <= 1 + PP_CSS_ROUNDS; round++)
        round_trip(r, c, MS(115), pp_check, &m);
    /* Round 7's first ACK: ssthresh = cwnd as it stood, congestion avoidance from there. */
    raw_run_for(r, MS(115));
    ack(r, info(c).snd_una + MSS);
    assert_int_equal(info(c).ssthresh, m.cwnd);
    assert_true(info(c).cwnd < m.cwnd + MSS / PP_CSS_GROWTH_DIVISOR);
    raw_free(r);
}

/* Jitter is not congestion (RFC 9406 §4.2): when a CSS round's minimum RTT falls below
 * cssBaselineMinRtt, slow start resumes with full growth. Round 2 at 115 ms enters CSS; round 3
 * at 100 ms is back under the baseline after its 8th sample, and the ACKs after it add a full
 * SMSS again. */
static void test_hystart_pp_css_back_to_slow_start(void **state)
{
    (void)state;
    struct raw *r = raw_with("cubic", hystart_pp);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(100), &iss);
    fx_send(c, 0, 3000 * MSS / 2);
    fx_take(r, NULL);
    struct pp_model m = {.cwnd = 10 * MSS};
    round_trip(r, c, MS(100), pp_check, &m);
    m.css = true;
    m.ss_acks = PP_N_RTT_SAMPLE;
    round_trip(r, c, MS(115), pp_check, &m);
    /* Round 3: CSS for 8 ACKs (the 8th one's growth comes before its check), then slow start. */
    uint32_t una = info(c).snd_una, end = info(c).snd_nxt;
    raw_run_for(r, MS(100));
    for (uint32_t k = 1, seq = una + MSS; seq_le_(seq, end); seq += MSS, k++) {
        ack(r, seq);
        m.cwnd += k <= PP_N_RTT_SAMPLE ? MSS / PP_CSS_GROWTH_DIVISOR : MSS;
        assert_int_equal(info(c).cwnd, m.cwnd);
    }
    assert_int_equal(info(c).ssthresh, INF_SSTHRESH);
    raw_free(r);
}

static void linux_hystart(struct sk_config *cfg)
{
    cfg->ss_abc_limit = 0;
    cfg->cwnd_validation = SK_CWV_LINUX;
    cfg->hystart = SK_HYSTART_LINUX;
}

/* Linux's HyStart delay test (tcp_cubic.c hystart_update; packetdrill's
 * cubic-hystart-delay-rtt-jumps-upward.pkt): active from cwnd >= hystart_low_window (16); in a
 * round, after HYSTART_MIN_SAMPLES (8) samples, the round's least RTT above delay_min +
 * clamp(delay_min / 8, 4 ms, 16 ms) leaves slow start with ssthresh = cwnd, before the ACK
 * grows it. delay_min is 200 ms (the initial window's ACK); the next round's ACKs, 2 segments
 * each 1 ms apart, see 240 ms and more: the 9th exits at cwnd 20 + 8*2 = 36 segments. The ACK
 * train (ACKs 2 ms apart or less spanning delay_min/2 = 100 ms) never spans more than 9 ms. */
static void test_hystart_linux_delay_exit(void **state)
{
    (void)state;
    struct raw *r = raw_with("cubic", linux_hystart);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(200), &iss);
    fx_send(c, 0, 30 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, MS(200));
    ack(r, S(10));
    assert_int_equal(info(c).cwnd, 20 * MSS); /* no limit on byte counting */
    assert_int_equal(fx_take(r, NULL), 20);
    raw_run_for(r, MS(240));
    uint32_t thresh = 200000 / 8 < 4000 ? 4000 : 200000 / 8 > 16000 ? 16000 : 200000 / 8;
    assert_true(240000 > 200000 + thresh);
    for (uint32_t k = 1; k <= 8; k++) {
        ack(r, S(10 + 2 * k));
        assert_int_equal(info(c).cwnd, (20 + 2 * k) * MSS);
        assert_int_equal(info(c).ssthresh, INF_SSTHRESH);
        raw_run_for(r, MS(1));
    }
    ack(r, S(28));
    assert_int_equal(info(c).ssthresh, 36 * MSS);
    assert_true(info(c).cwnd >= 36 * MSS && info(c).cwnd < 37 * MSS);
    raw_free(r);
}

static void linux_cubic(struct sk_config *cfg)
{
    cfg->ss_abc_limit = 0;
    cfg->cwnd_validation = SK_CWV_LINUX;
    cfg->cubic_linux = true;
}

/* CUBIC with Linux's arithmetic (net/ipv4/tcp_cubic.c, sk_config.cubic_linux) after a
 * timeout: ssthresh = max(cwnd * 717 >> 10, 2) = 7 of the 10 packets in flight; the loss state
 * resets CUBIC (bictcp_reset: last_max_cwnd 0). The ACK of all 10 takes slow start from 1 to
 * ssthresh (tcp_slow_start stops there) and hands the 4 packets left to congestion
 * avoidance, whose first ACK starts the epoch at origin 7, K 0: the curve's target is cwnd
 * itself, so cnt = 100 * cwnd, capped at 20 while no loss has set last_max_cwnd ("5% per
 * RTT"). ACKs 1 ms apart: bictcp_update recomputes cnt only when cwnd changed or 1/32 s
 * passed (HZ/32), and each time finds 20 again (target below cwnd; the Reno estimate,
 * one packet per cwnd * 15/8 acknowledged, has not passed cwnd). tcp_cong_avoid_ai then adds a
 * packet per 20 acknowledged: 8 after 16 more ACKs, 9 after 20 more. */
static void test_linux_cubic_after_timeout(void **state)
{
    (void)state;
    struct raw *r = raw_with("cubic", linux_cubic);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(100), &iss);
    fx_send(c, 0, 100 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, SEC(1));
    fx_expect_data(r, ACK, S(0), IRS + 1, MSS); /* the timeout's retransmission */
    uint32_t ssthresh = (10 * 717) >> 10;
    assert_int_equal(info(c).ssthresh, ssthresh * MSS);
    assert_int_equal(info(c).cwnd, MSS);
    ack(r, S(10));
    assert_int_equal(info(c).cwnd, ssthresh * MSS);
    uint32_t cwnd = ssthresh, cwnd_cnt = 10 - (ssthresh - 1), cnt = 20, una = 10;
    for (int k = 1; k <= 36; k++) {
        raw_run_for(r, MS(1));
        ack(r, S(++una));
        if (++cwnd_cnt >= cnt) {
            cwnd_cnt -= cnt;
            cwnd++;
        }
        assert_int_equal(info(c).cwnd, cwnd * MSS);
        if (k == 16)
            assert_int_equal(cwnd, 8);
    }
    assert_int_equal(cwnd, 9);
    raw_free(r);
}

static void hystart_pp_paced(struct sk_config *cfg)
{
    cfg->hystart = SK_HYSTART_PP;
    cfg->pacing = true;
}

/* RFC 9406 §4.3: "A paced TCP implementation SHOULD use L = infinity". One ACK of the whole
 * initial window (10 SMSS) grows cwnd by 10 SMSS when paced, by L = 8 SMSS when not. */
static void one_ack_of_ten(void (*tune)(struct sk_config *), uint32_t want_growth)
{
    struct raw *r = raw_with("cubic", tune);
    uint32_t iss;
    struct sk_tcp *c = open_conn(r, MS(100), &iss);
    fx_send(c, 0, 100 * MSS);
    assert_int_equal(fx_take(r, NULL), 10);
    raw_run_for(r, MS(100));
    ack(r, iss + 1 + 10 * MSS);
    assert_int_equal(info(c).cwnd, 10 * MSS + want_growth);
    raw_free(r);
}

static void test_hystart_pp_unlimited_when_paced(void **state)
{
    (void)state;
    one_ack_of_ten(hystart_pp_paced, 10 * MSS);
    one_ack_of_ten(hystart_pp, PP_L * MSS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_no_abc_limit_counts_every_byte),
        TEST(test_rfc7661_application_limited),
        TEST(test_linux_cwnd_validation),
        TEST(test_grow_by_delivered),
        TEST(test_grow_on_sack_after_reordering),
        TEST(test_hystart_pp_css_then_congestion_avoidance),
        TEST(test_hystart_pp_css_back_to_slow_start),
        TEST(test_hystart_linux_delay_exit),
        TEST(test_linux_cubic_after_timeout),
        TEST(test_hystart_pp_unlimited_when_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
