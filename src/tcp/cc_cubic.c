/* CUBIC congestion control, RFC 9438.
 *
 * Window arithmetic is in segments (doubles), time in seconds, as the RFC writes it:
 * W_cubic(t) = C*(t - K)^3 + W_max (§4.2), K = cbrt(W_max*(1 - beta)/C) (§4.2, eq. 2),
 * the Reno-friendly estimate W_est (§4.3), fast convergence (§4.7) and the 1.5x cap on the
 * target (§4.2). C = 0.4, beta_cubic = 0.7. */
#include "tcp/tcp_cc.h"

static const double cubic_c = 0.4;
static const double cubic_beta = 0.7;

/* Cube root by Newton's method, so the core needs no libm. */
static double cube_root(double x)
{
    if (x <= 0)
        return 0;
    double r = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 60; i++) {
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

static void cubic_init(struct sk_tcp *c)
{
    sk_cc_initial_window(c);
    c->cubic.w_max = 0;
    c->cubic.w_last_max = 0;
    c->cubic.epoch_start = SK_TIME_NEVER;
    c->cc_acked = 0;
}

static void cubic_on_ack(struct sk_tcp *c, uint32_t acked)
{
    if (c->cwnd < c->ssthresh) {
        sk_cc_slow_start(c, acked);
        return;
    }
    sk_time_us now = c->st->now;
    double cwnd = segs(c, c->cwnd);
    if (c->cubic.epoch_start == SK_TIME_NEVER) {
        /* §4.2: a new congestion-avoidance epoch starts now. */
        c->cubic.epoch_start = now;
        if (c->cubic.w_max < cwnd) {
            c->cubic.k = 0;
            c->cubic.w_max = cwnd;
        } else {
            c->cubic.k = cube_root(c->cubic.w_max * (1 - cubic_beta) / cubic_c);
        }
        c->cubic.w_est = cwnd;
    }
    double rtt = (c->srtt_us ? c->srtt_us : 100000) / 1e6;
    double t = (double)(now - c->cubic.epoch_start) / 1e6;
    double d = t + rtt - c->cubic.k;
    double target = cubic_c * d * d * d + c->cubic.w_max;
    /* §4.2: the target stays within [cwnd, 1.5*cwnd]. */
    if (target < cwnd)
        target = cwnd;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;
    /* §4.3: the Reno-friendly region, alpha = 3*(1 - beta)/(1 + beta). */
    double alpha = 3 * (1 - cubic_beta) / (1 + cubic_beta);
    c->cubic.w_est += alpha * segs(c, acked) / cwnd;
    double next;
    if (c->cubic.w_est > target)
        next = cwnd + (c->cubic.w_est - cwnd) * segs(c, acked) / cwnd;
    else
        next = cwnd + (target - cwnd) * segs(c, acked) / cwnd;
    if (next > cwnd)
        c->cwnd = (uint32_t)(next * c->snd_mss);
}

static void cubic_on_loss(struct sk_tcp *c)
{
    double cwnd = segs(c, c->cwnd);
    /* §4.7 fast convergence: release bandwidth for newer flows. */
    c->cubic.w_max = cwnd < c->cubic.w_last_max ? cwnd * (1 + cubic_beta) / 2 : cwnd;
    c->cubic.w_last_max = cwnd;
    /* §4.6: ssthresh = cwnd * beta_cubic, at least 2 segments. */
    c->ssthresh = max_u32((uint32_t)(c->cwnd * cubic_beta), 2u * c->snd_mss);
    c->cubic.epoch_start = SK_TIME_NEVER;
}

static void cubic_on_rto(struct sk_tcp *c)
{
    /* §4.8: a timeout is a congestion event; the epoch restarts after slow start. */
    cubic_on_loss(c);
}

static void cubic_on_recovery_end(struct sk_tcp *c)
{
    c->cubic.epoch_start = SK_TIME_NEVER;
}

const struct sk_cc_ops sk_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_rto = cubic_on_rto,
    .on_recovery_end = cubic_on_recovery_end,
};
