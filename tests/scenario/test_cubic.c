/* CUBIC (RFC 9438) and NewReno (RFC 5681) windows, step by step, on a real connection.
 *
 * The stack sends to a scripted peer that acknowledges every segment exactly one RTT after it
 * left (an ACK clock on a virtual clock, so every RTT sample is the RTT and SRTT stays at it).
 * The test decides which segments are lost and keeps its own model of the window: RFC 9438's
 * equations written again here, with libm's cbrt and pow, fed with the virtual time of each
 * ACK. Nothing of the module is called; cwnd and ssthresh are only read to be compared.
 *
 * cwnd is kept in whole bytes (RFC 9438 §4.1 allows bytes), rounded down after each step, in
 * the model as in the stack; the two then agree to floating-point noise, and the test allows
 * a few bytes for it (the largest difference seen is printed). */
#include <math.h>
#include <stdlib.h>

#include "test_datapath.h"

#define RTT MS(100)
#define WND_SCALED 8192u       /* with window scale 7: 1 MiB */
#define CUBIC_C 0.4            /* §5.1: C SHOULD be 0.4 */
#define BETA 0.7               /* §4.6: beta_cubic SHOULD be 0.7 */
#define TOLERANCE 8            /* bytes: see the header comment */
/* RFC 7323 §2.3: no window is larger than 65535 << 14, just under 2^30; a cwnd above that
 * could never be used. */
#define CWND_LIMIT (1u << 30)

/* Sequence-space comparisons (RFC 9293 §3.4). */
static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

/* ---------------- the scripted network: an ACK clock with chosen losses ---------------- */

struct net {
    struct raw *r;
    struct sk_tcp *c;
    uint32_t iss;
    size_t next;              /* next r->out entry to deliver */
    uint32_t rcv_nxt;         /* the peer's cumulative ACK point */
    uint8_t *got;             /* segments the peer holds beyond rcv_nxt, by index */
    size_t nseg;
    size_t queued;            /* stream bytes handed to the stack so far */
    uint32_t last_ack;        /* the last ACK the peer sent */
    uint16_t wnd;             /* the window the peer advertises (scaled or not, as agreed) */
    uint32_t snd_max;         /* highest sequence number seen on the wire */
    size_t scanned;           /* r->out entries net_snd_max has looked at */
    bool starved;             /* the application has stopped keeping the buffer full */
};

static struct net *net_new(const char *cc, bool scaled, uint16_t wnd)
{
    struct net *n = calloc(1, sizeof(*n));
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.congestion_control = cc;
    cfg.sndbuf_bytes = 1u << 20;
    n->r = raw_new(&cfg);
    struct fx_peer po = {.ws = scaled, .wscale = 7, .wnd = 65535};
    n->c = dp_connect(n->r, RTT, &po, &n->iss);
    n->rcv_nxt = n->iss + 1;
    n->last_ack = n->iss + 1;
    n->snd_max = n->iss + 1;
    n->wnd = wnd;
    n->nseg = 1u << 20;
    n->got = calloc(n->nseg, 1);
    raw_send(n->r, .flags = ACK, .seq = IRS + 1, .ack = n->iss + 1, .wnd = wnd);
    return n;
}

static void net_free(struct net *n)
{
    raw_free(n->r);
    free(n->got);
    free(n);
}

/* Keeps the stack's send buffer full: the flow is never short of data. */
static void net_fill(struct net *n)
{
    for (;;) {
        size_t m = fx_send(n->c, n->queued, 8 * MSS);
        n->queued += m;
        if (m < 8 * MSS)
            return;
    }
}

static double now_s(const struct net *n)
{
    return (double)n->r->now / 1e6;
}

/* The highest sequence number the stack has sent (SND.MAX as the wire shows it). */
static uint32_t net_snd_max(struct net *n)
{
    for (; n->scanned < n->r->nout; n->scanned++) {
        const struct raw_out *o = &n->r->out[n->scanned];
        if (o->len && seq_gt(o->seq + o->len, n->snd_max))
            n->snd_max = o->seq + o->len;
    }
    return n->snd_max;
}

/* Loses every segment sent so far and not yet delivered. */
static void net_lose_in_flight(struct net *n)
{
    n->next = n->r->nout;
}

/* Delivers the next data segment one RTT after it left (or now, if that is past) unless
 * `lose`, and sends the peer's ACK. Returns false if nothing is left to deliver or it would
 * arrive after `until`. */
static bool net_step(struct net *n, bool lose, sk_time_us until)
{
    while (n->next < n->r->nout && n->r->out[n->next].len == 0)
        n->next++;
    if (n->next >= n->r->nout)
        return false;
    const struct raw_out *o = &n->r->out[n->next];
    sk_time_us at = o->time + RTT > n->r->now ? o->time + RTT : n->r->now;
    if (at > until)
        return false;
    uint32_t seq = o->seq, len = o->len;
    n->next++;
    raw_run_until(n->r, at);
    if (lose)
        return true;
    assert_int_equal(len, MSS);
    assert_int_equal((seq - n->iss - 1) % MSS, 0);
    size_t idx = (seq - n->iss - 1) / MSS;
    assert_true(idx < n->nseg);
    n->got[idx] = 1;
    size_t k = (n->rcv_nxt - n->iss - 1) / MSS;
    while (k < n->nseg && n->got[k])
        k++;
    n->rcv_nxt = n->iss + 1 + (uint32_t)(k * MSS);
    n->last_ack = n->rcv_nxt;
    raw_send(n->r, .flags = ACK, .seq = IRS + 1, .ack = n->rcv_nxt, .wnd = n->wnd);
    if (!n->starved)
        net_fill(n);
    return true;
}

/* Runs the clock until the stack sends something (a retransmission timeout). */
static void net_wait_for_send(struct net *n)
{
    size_t before = n->r->nout;
    for (int i = 0; i < 1000 && n->r->nout == before; i++)
        raw_run_for(n->r, MS(10));
    assert_true(n->r->nout > before);
}

/* ---------------- RFC 9438 written again ---------------- */

struct model {
    uint32_t cwnd, ssthresh;  /* bytes */
    double w_max, cwnd_prior, w_est, k;
    sk_time_us epoch;         /* SK_TIME_NEVER: no congestion avoidance stage yet */
    bool after_rto;
    unsigned region[3];       /* ACKs seen in the Reno-friendly, concave, convex regions */
    unsigned alpha_one;       /* ACKs with alpha = 1 (W_est >= cwnd_prior) */
    uint32_t worst;           /* largest |model - stack| seen, bytes */
};
enum { RENO_FRIENDLY, CONCAVE, CONVEX };

static double w_cubic(const struct model *m, double t)
{
    return CUBIC_C * pow(t - m->k, 3) + m->w_max;
}

static uint32_t bytes_of(double segments)
{
    double b = floor(segments * MSS);
    return b >= CWND_LIMIT ? CWND_LIMIT : (uint32_t)b;
}

/* One new ACK of `acked` bytes outside recovery, at time `now` (RFC 9438 §4.2-4.5, §4.8,
 * §4.10 with RFC 5681 slow start and RFC 3465 L = 2*SMSS). */
static void model_ack(struct model *m, sk_time_us now, uint32_t acked)
{
    if (m->cwnd < m->ssthresh) {
        m->cwnd += acked < 2 * MSS ? acked : 2 * MSS;
        return;
    }
    double cwnd = (double)m->cwnd / MSS;
    if (m->epoch == SK_TIME_NEVER) {
        m->epoch = now;
        if (m->after_rto) {
            m->k = 0;          /* §4.8 */
            m->w_max = cwnd;
        } else {
            m->k = cbrt((m->w_max - cwnd) / CUBIC_C); /* §4.2 Figure 2 */
        }
        m->after_rto = false;
        m->w_est = cwnd;       /* §4.3 */
    }
    double t = (double)(now - m->epoch) / 1e6;
    double rtt = (double)RTT / 1e6;
    double target = w_cubic(m, t + rtt);
    target = fmin(fmax(target, cwnd), 1.5 * cwnd);
    bool one = m->w_est >= m->cwnd_prior;
    double alpha = one ? 1 : 3 * (1 - BETA) / (1 + BETA);
    m->alpha_one += one;
    m->w_est += alpha * ((double)acked / MSS) / cwnd; /* Figure 4 */
    double next;
    if (w_cubic(m, t) < m->w_est) {
        next = fmax(m->w_est, cwnd);
        m->region[RENO_FRIENDLY]++;
    } else {
        next = cwnd + (target - cwnd) * ((double)acked / MSS) / cwnd;
        m->region[cwnd < m->w_max ? CONCAVE : CONVEX]++;
    }
    uint32_t b = bytes_of(next);
    if (b > m->cwnd)
        m->cwnd = b;
}

/* §4.6-4.7: a congestion event at the model's cwnd. */
static void model_reduce(struct model *m)
{
    double cwnd = (double)m->cwnd / MSS;
    m->w_max = cwnd < m->w_max ? cwnd * (1 + BETA) / 2 : cwnd;
    m->cwnd_prior = cwnd;
    uint32_t ss = (uint32_t)((uint64_t)m->cwnd * 7 / 10); /* beta_cubic = 7/10 exactly */
    m->ssthresh = ss > 2 * MSS ? ss : 2 * MSS;
    m->epoch = SK_TIME_NEVER;
}

static void model_check_(const char *f, int l, struct model *m, const struct net *n)
{
    struct sk_tcp_info i = info(n->c);
    uint32_t d = i.cwnd > m->cwnd ? i.cwnd - m->cwnd : m->cwnd - i.cwnd;
    if (d > m->worst)
        m->worst = d;
    /* Before any congestion event ssthresh is only "arbitrarily high" (RFC 5681 §3.1): above
     * cwnd, and no higher than any usable window. */
    bool ss_ok = m->ssthresh == CWND_LIMIT
                     ? i.ssthresh > i.cwnd && i.ssthresh <= CWND_LIMIT
                     : i.ssthresh == m->ssthresh;
    if (d > TOLERANCE || !ss_ok || i.srtt_us != RTT) {
        print_error("t=%.3f s: cwnd %u (model %u), ssthresh %u (model %u), srtt %u us\n",
                    now_s(n), i.cwnd, m->cwnd, i.ssthresh, m->ssthresh, i.srtt_us);
        _fail(f, l);
    }
}
#define model_check(m, n) model_check_(HLOC, (m), (n))

/* Slow start from the initial window to w segments: each ACK of one segment adds one SMSS
 * (RFC 5681 §3.1, RFC 3465). */
static void slow_start_to(struct net *n, struct model *m, unsigned w)
{
    net_fill(n);
    while (m->cwnd < w * MSS) {
        uint32_t before = n->last_ack;
        assert_true(net_step(n, false, SK_TIME_NEVER));
        model_ack(m, n->r->now, n->last_ack - before);
        model_check(m, n);
    }
    assert_int_equal(info(n->c).cwnd, w * MSS);
}

/* Congestion avoidance on the ACK clock until `until`, each step against the model. */
static void avoid_until(struct net *n, struct model *m, sk_time_us until)
{
    for (;;) {
        uint32_t before = n->last_ack;
        if (!net_step(n, false, until))
            return;
        if (seq_gt(n->last_ack, before))
            model_ack(m, n->r->now, n->last_ack - before);
        model_check(m, n);
    }
}

static struct model model_new(void)
{
    /* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)); RFC 5681 §3.1: ssthresh starts
     * arbitrarily high. */
    struct model m = {.cwnd = 10 * MSS, .ssthresh = CWND_LIMIT, .epoch = SK_TIME_NEVER};
    return m;
}

/* ---------------- the tests ---------------- */

/* The next segment to arrive is lost; the ones after it draw duplicate ACKs. On the third,
 * ssthresh = 0.7*cwnd (§4.6) and W_max = cwnd (§4.7: no earlier W_max); NewReno fast
 * recovery (no SACK) ends on the first ACK of everything outstanding at the loss, with
 * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) (RFC 6582 §3.2 step 3, option 1). */
static void lose_one(struct net *n, struct model *m)
{
    uint32_t w = m->cwnd;
    assert_true(net_step(n, true, SK_TIME_NEVER));
    uint32_t una = n->last_ack, recover = 0;
    for (int dups = 0; dups < 3; dups++) {
        recover = net_snd_max(n); /* SND.MAX when the third duplicate arrives */
        assert_true(net_step(n, false, SK_TIME_NEVER));
        assert_int_equal(n->last_ack, una);
    }
    model_reduce(m);
    assert_int_equal(info(n->c).ssthresh, (uint64_t)w * 7 / 10);
    while (seq_lt(n->last_ack, recover)) {
        uint32_t snd_max = net_snd_max(n);
        assert_true(net_step(n, false, SK_TIME_NEVER));
        if (!seq_lt(n->last_ack, recover)) {
            uint32_t flight = snd_max - n->last_ack;
            uint32_t f = (flight > MSS ? flight : MSS) + MSS;
            m->cwnd = f < m->ssthresh ? f : m->ssthresh;
        }
    }
    model_check(m, n);
}

/* A loss at cwnd = 100 segments, then 9 s of congestion avoidance: K = cbrt((W_max -
 * cwnd_epoch)/C), the concave region up to W_max at t = K, the convex region past it, W_est
 * reaching cwnd_prior (alpha becomes 1) and at last the Reno-friendly region. */
static void test_cubic_after_loss(void **state)
{
    (void)state;
    struct net *n = net_new("cubic", true, WND_SCALED);
    struct model m = model_new();
    slow_start_to(n, &m, 100);
    lose_one(n, &m);
    assert_int_equal(m.ssthresh, 100 * MSS * 7 / 10);
    print_message("cwnd_epoch %.2f segments, W_max %.0f\n", (double)m.cwnd / MSS, m.w_max);

    avoid_until(n, &m, n->r->now + SEC(9));
    print_message("K %.3f s; ACKs: %u Reno-friendly, %u concave, %u convex, %u with alpha 1; "
                  "cwnd %.2f segments; largest difference %u bytes\n",
                  m.k, m.region[RENO_FRIENDLY], m.region[CONCAVE], m.region[CONVEX],
                  m.alpha_one, (double)m.cwnd / MSS, m.worst);
    assert_true(m.k > 3.5 && m.k < 4.5); /* cbrt(30.x / 0.4): the scenario is what it says */
    assert_true(m.region[CONCAVE] > 1000);
    assert_true(m.region[CONVEX] > 100);
    assert_true(m.alpha_one > 100);
    assert_true(m.region[RENO_FRIENDLY] > 100);
    net_free(n);
}

/* The application offers two segments every 50 ms for `d`: far less than cwnd, never idle
 * (so RFC 5681 §4.1's restart does not apply). */
static void trickle_for(struct net *n, sk_time_us d)
{
    sk_time_us end = n->r->now + d, next_write = n->r->now;
    n->starved = true;
    while (n->r->now < end) {
        if (n->r->now >= next_write) {
            n->queued += fx_send(n->c, n->queued, 2 * MSS);
            next_write += MS(50);
        }
        if (!net_step(n, false, next_write < end ? next_write : end))
            raw_run_until(n->r, next_write < end ? next_write : end);
    }
    n->starved = false;
}

/* RFC 9438 §4.2 / §5.8: t in W_cubic(t) leaves out time the flow spent application-limited.
 * After a loss at 100 segments and 1 s of congestion avoidance (checked against the model),
 * the application sends little for 10 s, then fills the window again. Had t run on, the
 * curve would be far past K (W_cubic(11 s) ~ 240 segments) and cwnd would grow by the 1.5x
 * cap each RTT; with the time left out, the curve is still below W_max, where it rises by
 * less than one segment per RTT (3*C*(t - K)^2 * RTT < 1.2 for t in [0, K]), and W_est by at
 * most one (§4.3): over two RTTs cwnd may grow by 4 segments, not by half. */
static void test_cubic_application_limited_time_left_out(void **state)
{
    (void)state;
    struct net *n = net_new("cubic", true, WND_SCALED);
    struct model m = model_new();
    slow_start_to(n, &m, 100);
    lose_one(n, &m);
    avoid_until(n, &m, n->r->now + SEC(1));
    trickle_for(n, SEC(10));
    uint32_t before = info(n->c).cwnd;
    net_fill(n);
    sk_time_us resume = n->r->now;
    while (net_step(n, false, resume + 2 * RTT))
        ;
    uint32_t after = info(n->c).cwnd;
    print_message("cwnd %.2f segments before, %.2f two RTTs after the application-limited "
                  "period\n", (double)before / MSS, (double)after / MSS);
    assert_true(after >= before);
    assert_true(after <= before + 4 * MSS);
    net_free(n);
}

/* Two retransmission timeouts in a row at cwnd = 30 segments: the first sets ssthresh =
 * 0.7*cwnd (§4.8 with §4.6), the second holds it (RFC 5681 §3.1); cwnd is one segment after
 * each. Then slow start to ssthresh and the first congestion avoidance stage after a timeout:
 * K = 0, W_max = W_est = cwnd_epoch (§4.8); the Reno-friendly region first (alpha 0.53, then 1
 * once W_est reaches cwnd_prior = 30), the cubic curve overtaking it later. */
static void test_cubic_after_timeouts(void **state)
{
    (void)state;
    struct net *n = net_new("cubic", true, WND_SCALED);
    struct model m = model_new();
    slow_start_to(n, &m, 30);

    net_lose_in_flight(n);
    net_wait_for_send(n);
    model_reduce(&m);
    m.after_rto = true;
    m.cwnd = MSS;
    assert_int_equal(info(n->c).ssthresh, 30 * MSS * 7 / 10);
    assert_int_equal(info(n->c).cwnd, MSS);
    net_lose_in_flight(n); /* the retransmission too */
    net_wait_for_send(n);
    assert_int_equal(info(n->c).ssthresh, 30 * MSS * 7 / 10);
    assert_int_equal(info(n->c).cwnd, MSS);
    model_check(&m, n);

    /* The peer lost everything after SND.UNA: the stack goes back over it in order. */
    avoid_until(n, &m, n->r->now + SEC(8));
    print_message("ACKs: %u Reno-friendly, %u concave, %u convex, %u with alpha 1; cwnd %.2f "
                  "segments; largest difference %u bytes\n",
                  m.region[RENO_FRIENDLY], m.region[CONCAVE], m.region[CONVEX], m.alpha_one,
                  (double)m.cwnd / MSS, m.worst);
    assert_true(m.region[RENO_FRIENDLY] > 500);
    assert_true(m.alpha_one > 100);
    assert_true(m.region[CONVEX] > 100); /* K = 0: the curve is convex from the start */
    assert_int_equal(m.region[CONCAVE], 0);
    net_free(n);
}

/* RFC 5681 §3.1 equation (4) and its note: NewReno sets ssthresh = max(FlightSize/2, 2*SMSS)
 * on the first timeout and holds it on the second, when FlightSize is one segment. */
static void test_newreno_two_timeouts_keep_ssthresh(void **state)
{
    (void)state;
    struct net *n = net_new("reno", true, WND_SCALED);
    struct model m = model_new();
    slow_start_to(n, &m, 30);
    uint32_t flight = net_snd_max(n) - n->last_ack;
    assert_int_equal(flight, 30 * MSS);
    net_lose_in_flight(n);
    net_wait_for_send(n);
    assert_int_equal(info(n->c).ssthresh, flight / 2);
    assert_int_equal(info(n->c).cwnd, MSS);
    net_lose_in_flight(n);
    net_wait_for_send(n);
    assert_int_equal(info(n->c).ssthresh, flight / 2);
    assert_int_equal(info(n->c).cwnd, MSS);
    net_lose_in_flight(n);
    net_wait_for_send(n);
    assert_int_equal(info(n->c).ssthresh, flight / 2);
    net_free(n);
}

/* A flow limited by the receiver's window (16 segments, no scaling) for 2 minutes of virtual
 * time: RFC 7661 §4.3 (and RFC 9438 §5.8) grow cwnd only while the flow uses it, so cwnd stays
 * within twice what the peer lets fly (plus one step of growth, 2*SMSS), and never above the
 * largest window TCP can express. */
static void test_receiver_limited_cwnd_is_bounded(void **state)
{
    (void)state;
    static const char *const names[] = {"cubic", "reno"};
    for (int k = 0; k < 2; k++) {
        struct net *n = net_new(names[k], false, 16 * MSS);
        net_fill(n);
        uint32_t most = 0;
        while (net_step(n, false, T0 + SEC(120))) {
            uint32_t cwnd = info(n->c).cwnd;
            most = cwnd > most ? cwnd : most;
        }
        print_message("%s: largest cwnd %u bytes (%.1f segments)\n", names[k], most,
                      (double)most / MSS);
        assert_true(most <= CWND_LIMIT);
        assert_true(most <= 2 * 16 * MSS + 2 * MSS);
        net_free(n);
    }
}

/* A simultaneous open closed in SYN-RECEIVED (RFC 9293 §3.10.4: FIN-WAIT-1 at once) never
 * passes through ESTABLISHED, yet sends its queued data once the peer acknowledges the SYN.
 * Its window must start where any other starts: RFC 6928 §2's IW = min(10*MSS, max(2*MSS,
 * 14600)) with ssthresh arbitrarily high (RFC 5681 §3.1), and the ACK of that initial window
 * grows it by RFC 5681 slow start with RFC 3465 byte counting (L = 2*SMSS), which RFC 9438
 * §4.10 keeps for CUBIC. (The fuzzer found this path: with no window set, CUBIC divided by a
 * zero cwnd and jumped to the largest window there is.) */
static void test_window_starts_after_close_in_syn_received(void **state)
{
    (void)state;
    static const char *const names[] = {"cubic", "reno"};
    const uint32_t iw = 10 * MSS < 14600 ? 10 * MSS : (2 * MSS > 14600 ? 2 * MSS : 14600);
    for (int k = 0; k < 2; k++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.congestion_control = names[k];
        cfg.sndbuf_bytes = 1u << 20;
        struct raw *r = raw_new(&cfg);
        struct sk_tcp *c = NULL;
        assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
        uint32_t iss = info(c).iss;
        raw_expect(r, SYN, iss, 0);
        raw_send(r, .flags = SYN, .seq = IRS, .opts = SK_OPT_MSS, .mss = MSS);
        raw_expect(r, SYN | ACK, iss, IRS + 1);
        assert_int_equal(dp_send(c, 0, 20 * MSS), 20 * MSS);
        assert_int_equal(sk_tcp_shutdown(c), 0);
        assert_int_equal(sk_tcp_get_state(c), SK_TCP_FIN_WAIT_1);

        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1);
        uint32_t sent = 0;
        while (r->cursor < r->nout)
            sent += r->out[r->cursor++].len;
        print_message("%s: %u bytes sent when the SYN is acknowledged, cwnd %u, ssthresh %u\n",
                      names[k], sent, info(c).cwnd, info(c).ssthresh);
        assert_int_equal(info(c).cwnd, iw);
        assert_int_equal(info(c).ssthresh, CWND_LIMIT);
        assert_int_equal(sent, iw);

        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1 + iw);
        assert_int_equal(info(c).cwnd, iw + 2 * MSS);
        assert_int_equal(info(c).ssthresh, CWND_LIMIT);
        raw_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_cubic_after_loss),
        TEST(test_cubic_after_timeouts),
        TEST(test_cubic_application_limited_time_left_out),
        TEST(test_newreno_two_timeouts_keep_ssthresh),
        TEST(test_receiver_limited_cwnd_is_bounded),
        TEST(test_window_starts_after_close_in_syn_received),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
