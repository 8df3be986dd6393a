/* Pacing (sk_config.pacing) and the pacing rate (also what sk_config.tso_autosize sizes a
 * transmission by).
 *
 * A sender that may send a whole cwnd at once sends it as one burst at the line rate; the
 * burst fills the bottleneck's queue, and a slow-start burst is what overflows it. Pacing
 * spreads the window over the round trip instead (RFC 9002 §7.7 recommends it for QUIC,
 * Aggarwal, Savage and Anderson measured it for TCP in 2000). This is Linux's own pacing, as
 * it runs when a socket paces itself and as the fq qdisc enforces it: every data transmission
 * leaves a departure stamp (tcp_wstamp_ns) for the next, L / rate after this one's, and the
 * next data segment waits for it (tcp_pacing_check); ACKs never wait. */
#include "tcp/tcp_int.h"

/* tcp_update_pacing_rate: ratio percent of cwnd * MSS / SRTT, in bytes a second. cwnd counts
 * what is in flight if that is more (after a reduction the flight drains at the old rate),
 * and the ratio is the slow-start one while cwnd is under half ssthresh, where it will at
 * least double again. Before any RTT sample there is no rate to speak of. */
uint64_t sk_tcp_pacing_rate(const struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    uint32_t mss = c->snd_mss ? c->snd_mss : 536;
    if (c->srtt_us == 0)
        return UINT64_MAX;
    uint64_t segs = c->cwnd / mss;
    uint64_t flight = ((uint64_t)(c->snd_max - c->snd_una) + mss - 1) / mss;
    if (flight > segs)
        segs = flight;
    bool ss = c->cwnd < c->ssthresh / 2;
    uint64_t ratio = ss ? (cfg->pacing_ss_ratio ? cfg->pacing_ss_ratio : 200)
                        : (cfg->pacing_ca_ratio ? cfg->pacing_ca_ratio : 120);
    /* mss * ratio / 100 * segs per srtt_us microseconds. */
    return (uint64_t)mss * ratio * 10000u * segs / c->srtt_us;
}

/* tcp_pacing_check: the next data segment waits for the departure stamp; the pacing timer
 * brings the sender back then (sk_tcp_send_due). */
bool sk_tcp_pace_hold(struct sk_tcp *c)
{
    if (!c->st->cfg.pacing || c->x == NULL || c->x->pace_stamp <= c->st->now)
        return false;
    if (c->timer[SK_TIMER_PACE] != c->x->pace_stamp) {
        c->timer[SK_TIMER_PACE] = c->x->pace_stamp;
        sk_timer_update(c);
    }
    return true;
}

/* tcp_update_skb_after_send: len bytes of data (segs segments) left now. The stamp starts
 * from now if it lay in the past; a stamp already passed by `credit` (the timer fired late,
 * the sender was held by something else) takes up to half of this transmission's time back,
 * so that a sender woken late does not fall behind its rate for good. The first ten segments
 * are not paced: the initial window goes at once, as without pacing. */
void sk_tcp_pace_sent(struct sk_tcp *c, uint32_t len, uint32_t segs)
{
    struct sk_tcp_ext *x = c->x;
    if (!c->st->cfg.pacing || x == NULL || (len == 0 && segs == 0))
        return;
    sk_time_us prior = x->pace_stamp;
    sk_time_us stamp = prior > c->st->now ? prior : c->st->now;
    x->pace_segs = (uint8_t)(x->pace_segs + segs > 255 ? 255 : x->pace_segs + segs);
    uint64_t rate = x->pace_segs >= 10 ? sk_tcp_pacing_rate(c) : 0;
    if (rate != UINT64_MAX && rate != 0) {
        uint64_t t = (uint64_t)len * 1000000u / rate;
        uint64_t credit = stamp - prior;
        t -= credit < t / 2 ? credit : t / 2;
        stamp += t;
    }
    x->pace_stamp = stamp;
}
