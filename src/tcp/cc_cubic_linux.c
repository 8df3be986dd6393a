/* CUBIC's congestion avoidance as Linux computes it (net/ipv4/tcp_cubic.c, bictcp_update and
 * tcp_cong_avoid_ai), for sk_config.cubic_linux: what Linux's packetdrill scripts pin, ACK by
 * ACK. The curve is RFC 9438's, the arithmetic is not: windows in whole packets, time in
 * jiffies (ms) and 1/1024 s, t offset by the least RTT rather than one SRTT ahead, growth
 * capped at one packet per 20 acknowledged before any loss (5% per RTT), a Reno estimate
 * growing one packet per 15/8 cwnd acknowledged, and never more than one packet per two
 * acknowledged; after a timeout everything restarts (bictcp_reset). cwnd stays a whole number
 * of segments here. */
#include "tcp/tcp_cc.h"

#define BETA 717              /* beta_cubic = 717/1024 */
#define BETA_SCALE 1024
#define BIC_HZ 10             /* 2^10 units per second */
#define BIC_SCALE 41
#define CUBE_RTT_SCALE (BIC_SCALE * 10)
/* 8 * (1024 + 717) / 3 / (1024 - 717): the Reno estimate's step, in eighths of cwnd. */
#define FRIENDLY_SCALE (8 * (BETA_SCALE + BETA) / 3 / (BETA_SCALE - BETA))

static uint32_t jiffies(const struct sk_tcp *c)
{
    return (uint32_t)(c->st->now / 1000); /* HZ = 1000 */
}

static uint32_t pkts(const struct sk_tcp *c)
{
    return c->cwnd / c->snd_mss;
}

/* Integer cube root, rounded down (Linux's cubic_root approximates the same). */
static uint32_t icbrt(uint64_t a)
{
    uint32_t r = 0;
    for (int b = 21; b >= 0; b--) {
        uint64_t t = r | (1u << b);
        if (t * t * t <= a)
            r = (uint32_t)t;
    }
    return r;
}

void sk_cc_lcubic_reset(struct sk_tcp *c)
{
    memset(&c->x->lcubic, 0, sizeof(c->x->lcubic));
    c->x->lcubic.lsnd = jiffies(c);
}

static void update(struct sk_tcp *c, uint32_t cwnd, uint32_t acked)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t now = jiffies(c);
    x->lcubic.ack_cnt += acked;
    if (x->lcubic.last_cwnd == cwnd && (int32_t)(now - x->lcubic.last_time) <= 1000 / 32)
        return;
    if (!(x->lcubic.epoch_start && now == x->lcubic.last_time)) {
        x->lcubic.last_cwnd = cwnd;
        x->lcubic.last_time = now;
        if (x->lcubic.epoch_start == 0) {
            x->lcubic.epoch_start = now ? now : 1;
            x->lcubic.ack_cnt = acked;
            x->lcubic.tcp_cwnd = cwnd;
            if (x->lcubic.last_max_cwnd <= cwnd) {
                x->lcubic.k = 0;
                x->lcubic.origin = cwnd;
            } else {
                uint64_t cube_factor = (1ull << (10 + 3 * BIC_HZ)) / CUBE_RTT_SCALE;
                x->lcubic.k = icbrt(cube_factor * (x->lcubic.last_max_cwnd - cwnd));
                x->lcubic.origin = x->lcubic.last_max_cwnd;
            }
        }
        /* t = elapsed + delay_min, in 1/1024 s. */
        uint64_t t = (uint32_t)(now - x->lcubic.epoch_start) + ((x->hs ? x->hs->delay_min : 0) + 999) / 1000;
        t = (t << BIC_HZ) / 1000;
        uint64_t offs = t < x->lcubic.k ? x->lcubic.k - t : t - x->lcubic.k;
        uint32_t delta = (uint32_t)((CUBE_RTT_SCALE * offs * offs * offs) >> (10 + 3 * BIC_HZ));
        uint32_t target = t < x->lcubic.k ? x->lcubic.origin - delta : x->lcubic.origin + delta;
        x->lcubic.cnt = target > cwnd ? cwnd / (target - cwnd) : 100 * cwnd;
        if (x->lcubic.last_max_cwnd == 0 && x->lcubic.cnt > 20)
            x->lcubic.cnt = 20; /* "increase cwnd 5% per RTT" */
    }
    /* TCP friendliness: the Reno estimate. */
    uint32_t d = (cwnd * FRIENDLY_SCALE) >> 3;
    while (d && x->lcubic.ack_cnt > d) {
        x->lcubic.ack_cnt -= d;
        x->lcubic.tcp_cwnd++;
    }
    if (x->lcubic.tcp_cwnd > cwnd) {
        uint32_t max_cnt = cwnd / (x->lcubic.tcp_cwnd - cwnd);
        if (x->lcubic.cnt > max_cnt)
            x->lcubic.cnt = max_cnt;
    }
    if (x->lcubic.cnt < 2)
        x->lcubic.cnt = 2; /* at most 1 packet per 2 ACKed */
}

/* tcp_cong_avoid_ai: one packet per cnt acknowledged. */
static uint32_t avoid_ai(struct sk_tcp *c, uint32_t cwnd, uint32_t w, uint32_t acked)
{
    struct sk_tcp_ext *x = c->x;
    if (x->lcubic.cwnd_cnt >= w) {
        x->lcubic.cwnd_cnt = 0;
        cwnd++;
    }
    x->lcubic.cwnd_cnt += acked;
    if (x->lcubic.cwnd_cnt >= w) {
        uint32_t delta = x->lcubic.cwnd_cnt / w;
        x->lcubic.cwnd_cnt -= delta * w;
        cwnd += delta;
    }
    return cwnd;
}

void sk_cc_lcubic_on_ack(struct sk_tcp *c, uint32_t acked_bytes)
{
    uint32_t mss = c->snd_mss;
    uint32_t acked = (acked_bytes + mss - 1) / mss; /* Linux counts packets */
    uint32_t cwnd = pkts(c), ssthresh = c->ssthresh / mss;
    if (c->cwnd < c->ssthresh) {
        /* tcp_slow_start: no further than ssthresh; what is left goes to avoidance. */
        uint32_t to = cwnd + acked < ssthresh ? cwnd + acked : ssthresh;
        acked -= to - cwnd;
        c->cwnd = sk_cc_clamp((uint64_t)to * mss);
        cwnd = to;
        if (acked == 0)
            return;
    }
    update(c, cwnd, acked);
    c->cwnd = sk_cc_clamp((uint64_t)avoid_ai(c, cwnd, c->x->lcubic.cnt, acked) * mss);
}

void sk_cc_lcubic_on_loss(struct sk_tcp *c)
{
    /* bictcp_recalc_ssthresh, with fast convergence. */
    struct sk_tcp_ext *x = c->x;
    uint32_t cwnd = pkts(c);
    x->lcubic.epoch_start = 0;
    if (cwnd < x->lcubic.last_max_cwnd)
        x->lcubic.last_max_cwnd = (cwnd * (BETA_SCALE + BETA)) / (2 * BETA_SCALE);
    else
        x->lcubic.last_max_cwnd = cwnd;
    uint32_t ss = (cwnd * BETA) / BETA_SCALE;
    c->ssthresh = (ss > 2 ? ss : 2) * (uint32_t)c->snd_mss;
}

void sk_cc_lcubic_on_rto(struct sk_tcp *c)
{
    /* tcp_enter_loss: ssthresh first (on the first timeout only, as RFC 5681), then the
     * state change to Loss resets CUBIC, last_max_cwnd and the least RTT included. */
    if (c->retries <= 1)
        sk_cc_lcubic_on_loss(c);
    sk_cc_lcubic_reset(c);
    if (c->x->hs)
        c->x->hs->delay_min = 0;
}

/* CA_EVENT_TX_START: data leaves with nothing in flight; the idle time since the last send
 * shifts the epoch, so the curve does not credit it. */
void sk_cc_lcubic_tx_start(struct sk_tcp *c, bool idle)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t now = jiffies(c);
    int32_t delta = (int32_t)(now - x->lcubic.lsnd);
    if (idle && x->lcubic.epoch_start && delta > 0) {
        x->lcubic.epoch_start += (uint32_t)delta;
        if ((int32_t)(x->lcubic.epoch_start - now) > 0)
            x->lcubic.epoch_start = now;
    }
    x->lcubic.lsnd = now;
}
