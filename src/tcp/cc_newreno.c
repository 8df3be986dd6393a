/* NewReno congestion control: RFC 5681 slow start (cc_slowstart.c) and congestion avoidance,
 * with the RFC 3465 byte counting that RFC 5681 permits. The fast-recovery half of NewReno (RFC 6582) lives in
 * tcp_recovery.c, shared with the SACK-based recovery. */
#include "tcp/tcp_cc.h"

uint32_t sk_cc_iw(const struct sk_tcp *c)
{
    /* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
    uint32_t mss = c->snd_mss;
    return min_u32(10 * mss, max_u32(2 * mss, 14600));
}

void sk_cc_initial_window(struct sk_tcp *c)
{
    c->cwnd = sk_cc_iw(c);
    /* RFC 5681 §3.1: "arbitrarily high", but no higher than any cwnd can be. */
    c->ssthresh = SK_CWND_MAX;
    sk_cc_hystart_init(c);
}

uint32_t sk_cc_half_flight(const struct sk_tcp *c)
{
    return sk_cc_clamp(max_u32((c->snd_max - c->snd_una) / 2, 2u * c->snd_mss));
}

static void reno_init(struct sk_tcp *c)
{
    sk_cc_initial_window(c);
    c->x->cc_acked = 0;
}

static void reno_on_ack(struct sk_tcp *c, uint32_t acked)
{
    if (c->cwnd < c->ssthresh) {
        sk_cc_slow_start(c, acked);
        return;
    }
    /* RFC 5681 §3.1 with byte counting (RFC 3465 §2.1): once the bytes acknowledged reach
     * cwnd, they are reduced by cwnd and cwnd grows by one SMSS. Summed wide: no wrap. */
    uint64_t sum = (uint64_t)c->x->cc_acked + acked;
    if (sum < c->cwnd) {
        c->x->cc_acked = (uint32_t)sum;
        return;
    }
    sum -= c->cwnd;
    c->x->cc_acked = sum < UINT32_MAX ? (uint32_t)sum : UINT32_MAX;
    c->cwnd = sk_cc_clamp((uint64_t)c->cwnd + c->snd_mss);
}

static void reno_on_loss(struct sk_tcp *c)
{
    c->ssthresh = sk_cc_half_flight(c);
    c->x->cc_acked = 0;
}

static void reno_on_rto(struct sk_tcp *c)
{
    /* RFC 5681 §3.1, note to equation (4): when a segment is retransmitted again, ssthresh
     * is held. FlightSize is one segment by then, so recomputing it would collapse ssthresh
     * to 2*SMSS after a second timeout in a row. */
    if (c->retries <= 1)
        c->ssthresh = sk_cc_half_flight(c);
    c->x->cc_acked = 0;
}

static void reno_on_recovery_end(struct sk_tcp *c)
{
    (void)c;
}

/* Linux calls its NewReno module "reno" (net/ipv4/tcp_cong.c tcp_reno): the name an
 * application reads back and gives TCP_CONGESTION. */
const struct sk_cc_ops sk_cc_newreno = {
    .name = "reno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .on_loss = reno_on_loss,
    .on_rto = reno_on_rto,
    .on_recovery_end = reno_on_recovery_end,
};

const struct sk_cc_ops *sk_cc_find(const char *name)
{
    static const struct sk_cc_ops *const all[] = {&sk_cc_cubic, &sk_cc_newreno};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (name && strcmp(name, all[i]->name) == 0)
            return all[i];
    /* The name this module had before it took Linux's: still understood by sk_config and
     * sk_tcp_params (not by TCP_CONGESTION, which takes Linux's names only). */
    if (name && strcmp(name, "newreno") == 0)
        return &sk_cc_newreno;
    return NULL;
}
