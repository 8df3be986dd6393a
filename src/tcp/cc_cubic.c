/* CUBIC congestion control, RFC 9438.
 *
 * Window arithmetic is in segments (doubles), time in seconds, as the RFC writes it; cwnd goes
 * back to bytes, clamped to SK_CWND_MAX, only when it is stored. C = 0.4, beta_cubic = 0.7.
 *   §4.2  W_cubic(t) = C*(t - K)^3 + W_max, K = cbrt((W_max - cwnd_epoch)/C), the target
 *         W_cubic(t + RTT) held within [cwnd, 1.5*cwnd], t without application-limited time;
 *   §4.3  the Reno-friendly estimate W_est, alpha_cubic until W_est reaches cwnd_prior, then 1;
 *   §4.6  ssthresh = max(cwnd * beta_cubic, 2 segments) (cwnd, not FlightSize: the §4.6 note
 *         asks for "other measures" to keep cwnd from growing while unused, which is the
 *         caller's RFC 7661 check before on_ack);
 *   §4.7  fast convergence; §4.8 after a timeout K = 0 and W_max = W_est = cwnd_epoch for the
 *         first congestion avoidance stage;
 *   §4.10 slow start is RFC 5681's (with RFC 3465 byte counting), left by HyStart++ (RFC 9406)
 *         or Linux's HyStart as sk_config.hystart says (cc_slowstart.c).
 * Not done: §4.9's undo of spurious congestion events (a MAY). */
#include "tcp/tcp_cc.h"

static const double cubic_c = 0.4;
static const double cubic_beta = 0.7;

/* Real cube root by Newton's method (odd: negative in, negative out), so the core needs no
 * libm. */
static double cube_root(double x)
{
    if (x < 0)
        return -cube_root(-x);
    if (x == 0)
        return 0;
    double r = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 100; i++) {
        double next = r - (r * r * r - x) / (3 * r * r);
        if (next == r)
            break;
        r = next;
    }
    return r;
}

static double segs(const struct sk_tcp *c, uint32_t bytes)
{
    return (double)bytes / c->snd_mss;
}

/* A window in segments, back to bytes (rounded down) within [0, SK_CWND_MAX]. */
static uint32_t to_bytes(const struct sk_tcp *c, double w)
{
    double b = w * c->snd_mss;
    if (!(b > 0))
        return 0;
    return b >= (double)SK_CWND_MAX ? SK_CWND_MAX : (uint32_t)b;
}

static double w_cubic(const struct sk_tcp *c, double t)
{
    double d = t - c->x->cubic.k;
    return cubic_c * d * d * d + c->x->cubic.w_max;
}

static void cubic_init(struct sk_tcp *c)
{
    sk_cc_initial_window(c);
    c->x->cubic.w_max = 0;
    c->x->cubic.w_last_max = 0;
    c->x->cubic.w_est = 0;
    c->x->cubic.k = 0;
    c->x->cubic.epoch_start = SK_TIME_NEVER;
    c->x->cubic.last_ack = 0;
    c->x->cubic_after_rto = false;
    c->x->cc_acked = 0;
    sk_cc_lcubic_reset(c);
}

/* §4.2: a congestion avoidance stage starts with this ACK. */
static void epoch_begin(struct sk_tcp *c, double cwnd, sk_time_us now)
{
    c->x->cubic.epoch_start = now;
    if (c->x->cubic_after_rto || c->x->cubic.w_max <= 0) {
        /* §4.8 after a timeout, and §4.10 when no congestion event has set W_max yet: the
         * curve starts flat at the current window. */
        c->x->cubic.k = 0;
        c->x->cubic.w_max = cwnd;
    } else {
        /* §4.2 Figure 2. Above W_max already (cwnd_epoch > W_max), K is negative and the
         * curve continues its convex part from where cwnd stands. */
        c->x->cubic.k = cube_root((c->x->cubic.w_max - cwnd) / cubic_c);
    }
    c->x->cubic_after_rto = false;
    c->x->cubic.w_est = cwnd; /* §4.3, and §4.8 after a timeout */
}

/* §4.2 / §5.8: t must not include time during which cwnd was not grown because the flow was
 * application-limited (the caller skips on_ack then). A cwnd-limited flow sees an ACK at least
 * every RTT; a gap longer than the RTO (the idle test of RFC 5681 §4.1) is such a period, and
 * the curve is shifted later by it rather than restarted. Shorter periods stay in t: at most
 * one RTO each. A slow start back to ssthresh after RFC 5681 §4.1's restart falls in the gap
 * too, so the curve resumes where it stood before the idle period. */
static void skip_unused_time(struct sk_tcp *c, sk_time_us now)
{
    sk_time_us gap = now - c->x->cubic.last_ack;
    if (now > c->x->cubic.last_ack && gap > c->rto_us)
        c->x->cubic.epoch_start += gap;
}

static void cubic_on_ack(struct sk_tcp *c, uint32_t acked)
{
    if (c->st->cfg.cubic_linux) {
        sk_cc_lcubic_on_ack(c, acked);
        return;
    }
    if (c->cwnd < c->ssthresh) {
        sk_cc_slow_start(c, acked);
        return;
    }
    sk_time_us now = c->st->now;
    double cwnd = segs(c, c->cwnd);
    if (c->x->cubic.epoch_start == SK_TIME_NEVER)
        epoch_begin(c, cwnd, now);
    else
        skip_unused_time(c, now);
    c->x->cubic.last_ack = now;

    double rtt = (c->srtt_us ? c->srtt_us : 100000) / 1e6;
    double t = now > c->x->cubic.epoch_start ? (double)(now - c->x->cubic.epoch_start) / 1e6 : 0;
    /* §4.2: the target one RTT ahead, no less than cwnd, no more than 1.5*cwnd. */
    double target = w_cubic(c, t + rtt);
    if (target < cwnd)
        target = cwnd;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;
    /* §4.3 Figure 4: alpha_cubic = 3*(1 - beta)/(1 + beta) until W_est reaches cwnd_prior,
     * then 1, Reno's own rate. */
    double alpha = c->x->cubic.w_est >= c->x->cubic.w_last_max
                       ? 1
                       : 3 * (1 - cubic_beta) / (1 + cubic_beta);
    double acked_segs = segs(c, acked);
    c->x->cubic.w_est += alpha * acked_segs / cwnd;
    double next;
    if (w_cubic(c, t) < c->x->cubic.w_est) {
        /* §4.3: the Reno-friendly region; cwnd follows W_est (never downwards). */
        next = c->x->cubic.w_est > cwnd ? c->x->cubic.w_est : cwnd;
    } else {
        /* §4.4-4.5: (target - cwnd)/cwnd per new ACK of one segment; an ACK that covers
         * several (delayed ACKs, RFC 3465) counts each, so that the increase per RTT is the
         * same. */
        next = cwnd + (target - cwnd) * acked_segs / cwnd;
    }
    uint32_t bytes = to_bytes(c, next);
    if (bytes > c->cwnd)
        c->cwnd = bytes;
}

/* §4.6-4.7: a congestion event. */
static void cubic_reduce(struct sk_tcp *c)
{
    double cwnd = segs(c, c->cwnd);
    /* §4.7 fast convergence: a flow whose saturation point fell releases bandwidth sooner
     * for newer flows (a SHOULD; kept on, as one flow cannot know it is alone). */
    c->x->cubic.w_max = cwnd < c->x->cubic.w_max ? cwnd * (1 + cubic_beta) / 2 : cwnd;
    c->x->cubic.w_last_max = cwnd;
    /* §4.6 Figure 5: ssthresh = cwnd * beta_cubic, at least 2 segments; in whole bytes,
     * with beta_cubic = 7/10 exactly. */
    uint32_t ss = (uint32_t)((uint64_t)c->cwnd * 7 / 10);
    c->ssthresh = sk_cc_clamp(max_u32(ss, 2u * c->snd_mss));
    c->x->cubic.epoch_start = SK_TIME_NEVER;
}

static void cubic_on_loss(struct sk_tcp *c)
{
    if (c->st->cfg.cubic_linux)
        sk_cc_lcubic_on_loss(c);
    else
        cubic_reduce(c);
    sk_cc_hystart_event(c, false);
    /* The next stage follows this event (§4.6), not an earlier timeout (§4.8). */
    c->x->cubic_after_rto = false;
}

static void cubic_on_rto(struct sk_tcp *c)
{
    /* §4.8: ssthresh through beta_cubic as in §4.6, cwnd one segment (the caller), and the
     * next epoch starts flat. RFC 5681 §3.1: when the same segment times out again, ssthresh
     * (and with it W_max, cwnd_prior) is held; cwnd is one segment by then and would
     * collapse them. */
    if (c->st->cfg.cubic_linux)
        sk_cc_lcubic_on_rto(c);
    else if (c->retries <= 1)
        cubic_reduce(c);
    c->x->cubic_after_rto = true;
    sk_cc_hystart_event(c, true);
    c->x->cubic.epoch_start = SK_TIME_NEVER;
}

static void cubic_on_recovery_end(struct sk_tcp *c)
{
    c->x->cubic.epoch_start = SK_TIME_NEVER;
}

const struct sk_cc_ops sk_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_rto = cubic_on_rto,
    .on_recovery_end = cubic_on_recovery_end,
};
