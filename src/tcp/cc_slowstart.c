/* Slow start and the decisions around it, shared by the congestion control modules:
 *   - when an ACK may grow cwnd at all (cwnd validation): RFC 7661 §4.1's "at least half of
 *     cwnd in use", or Linux's tcp_is_cwnd_limited (sk_config.cwnd_validation);
 *   - how much a slow-start ACK adds: RFC 5681 §3.1 with RFC 3465 §2.2 byte counting, limited
 *     to L*SMSS (sk_config.ss_abc_limit; 0: no limit, as Linux);
 *   - how CUBIC leaves slow start before a loss (sk_config.hystart): RFC 9406 HyStart++
 *     (rounds, the minimum RTT of each, Conservative Slow Start), or Linux's HyStart
 *     (net/ipv4/tcp_cubic.c: ACK train and delay against the least RTT seen, straight to
 *     congestion avoidance). Both need an RTT sample per ACK: the send time of the newest byte
 *     it acknowledges, from a short record of when new data left (x->hs->sent). */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"

/* RFC 9406 §4.3 constants. */
#define PP_MIN_RTT_THRESH_US 4000
#define PP_MAX_RTT_THRESH_US 16000
#define PP_MIN_RTT_DIVISOR 8
#define PP_N_RTT_SAMPLE 8
#define PP_CSS_GROWTH_DIVISOR 4
#define PP_CSS_ROUNDS 5
#define PP_L 8 /* SMSS per ACK without pacing; a paced sender has no limit (RFC 9406 §4.3) */

/* net/ipv4/tcp_cubic.c: hystart_low_window 16 packets, hystart_ack_delta_us 2 ms,
 * HYSTART_MIN_SAMPLES 8, HYSTART_DELAY_MIN/MAX 4 and 16 ms. */
#define LNX_LOW_WINDOW 16
#define LNX_ACK_DELTA_US 2000
#define LNX_MIN_SAMPLES 8
#define LNX_DELAY_MIN_US 4000
#define LNX_DELAY_MAX_US 16000

#define RTT_INF UINT32_MAX
#define SENT_SLOTS (sizeof(((struct sk_hystart_state *)0)->sent) / sizeof(((struct sk_hystart_state *)0)->sent[0]))

enum { HS_SS, HS_CSS, HS_DONE };

/* The exit this connection's slow start asks for. */
static enum sk_hystart hs_wanted(const struct sk_tcp *c)
{
    /* RFC 9438 §4.10 asks CUBIC for HyStart++; Linux's HyStart is CUBIC's own. NewReno keeps
     * RFC 5681's slow start. */
    return c->cc == &sk_cc_cubic ? c->st->cfg.hystart : SK_HYSTART_OFF;
}

/* ... and the one it runs: none without its state (never allocated, or the allocation
 * failed: counted in alloc_failures, and the connection slow-starts as RFC 5681's). */
static enum sk_hystart hs_mode(const struct sk_tcp *c)
{
    return c->x && c->x->hs ? hs_wanted(c) : SK_HYSTART_OFF;
}

static bool hs_active(const struct sk_tcp *c)
{
    /* Linux keeps its least RTT (delay_min) after HyStart is done: CUBIC's t uses it. */
    enum sk_hystart m = hs_mode(c);
    return m == SK_HYSTART_LINUX || (m != SK_HYSTART_OFF && c->x->hs->phase != HS_DONE);
}

static uint32_t now32(const struct sk_tcp *c)
{
    return (uint32_t)c->st->now;
}

/* A new round: the data sent so far must be acknowledged before the next (RFC 9406 §4.2
 * windowEnd, Linux bictcp_hystart_reset). */
static void round_begin(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    x->hs->window_end = c->snd_max;
    x->hs->last_min = x->hs->cur_min;
    x->hs->cur_min = RTT_INF;
    x->hs->samples = 0;
    x->hs->round_start = x->hs->last_ack = now32(c);
}

/* Forget the send times: what is in flight now may be sent again, and an ACK of it says
 * nothing certain about the RTT (Karn). */
static void sent_forget(struct sk_tcp *c)
{
    c->x->hs->n = 0;
    c->x->hs->head = 0;
    c->x->hs->floor = c->snd_max;
}

void sk_cc_hystart_init(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    x->cwv.win_cwnd_limited = false;
    x->cwv.max_flight = 0;
    x->cwv.usage_seq = c->snd_max;
    if (hs_wanted(c) == SK_HYSTART_OFF)
        return;
    if (x->hs == NULL)
        x->hs = sk_mem_alloc(c->st, sizeof(*x->hs));
    if (x->hs == NULL)
        return;
    x->hs->phase = HS_SS;
    x->hs->css_rounds = 0;
    x->hs->cur_min = RTT_INF;
    x->hs->css_baseline = RTT_INF;
    x->hs->delay_min = 0;
    x->hs->sample_us = 0;
    sent_forget(c);
    round_begin(c);
    x->hs->last_min = RTT_INF;
}

void sk_cc_hystart_release(struct sk_tcp *c)
{
    if (c->x && c->x->hs) {
        sk_mem_free(c->st, c->x->hs, sizeof(*c->x->hs));
        c->x->hs = NULL;
    }
}

void sk_cc_hystart_event(struct sk_tcp *c, bool timeout)
{
    /* RFC 9406 §4.2: HyStart++ is for the initial slow start only; a loss or ECN mark ends
     * it. Linux starts HyStart again after a timeout (cubictcp_state, TCP_CA_Loss). */
    if (hs_mode(c) == SK_HYSTART_OFF)
        return;
    if (hs_mode(c) == SK_HYSTART_LINUX && timeout) {
        c->x->hs->phase = HS_SS;
        c->x->hs->cur_min = RTT_INF;
        c->x->hs->samples = 0;
        c->x->hs->window_end = c->snd_max;
        c->x->hs->round_start = c->x->hs->last_ack = now32(c);
    } else {
        c->x->hs->phase = HS_DONE;
    }
    sent_forget(c);
}

/* New data left: remember when, one entry per instant; the oldest gives way when full. */
static void sent_record(struct sk_tcp *c, uint32_t from)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t t = now32(c);
    if (x->hs->n > 0) {
        uint32_t last = (x->hs->head + x->hs->n - 1u) % SENT_SLOTS;
        if (x->hs->sent[last].t == t) {
            x->hs->sent[last].end = c->snd_max;
            return;
        }
    } else if (seq_lt(x->hs->floor, from)) {
        x->hs->floor = from; /* bytes below `from` left before the record was kept */
    }
    if (x->hs->n == SENT_SLOTS) {
        x->hs->floor = x->hs->sent[x->hs->head].end;
        x->hs->head = (uint8_t)((x->hs->head + 1u) % SENT_SLOTS);
        x->hs->n--;
    }
    uint32_t i = (x->hs->head + x->hs->n) % SENT_SLOTS;
    x->hs->sent[i].end = c->snd_max;
    x->hs->sent[i].t = t;
    x->hs->n++;
}

/* The RTT of this ACK, from the newest byte it acknowledges (SND.UNA - 1), as Linux's ca_rtt;
 * 0 if unknown. Entries now wholly acknowledged are dropped. */
static uint32_t sent_sample(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t rtt = 0;
    if (seq_gt(c->snd_una, x->hs->floor)) {
        for (uint32_t k = 0; k < x->hs->n; k++) {
            uint32_t i = (x->hs->head + k) % SENT_SLOTS;
            if (seq_ge(x->hs->sent[i].end, c->snd_una)) {
                rtt = now32(c) - x->hs->sent[i].t;
                if (rtt == 0)
                    rtt = 1;
                break;
            }
        }
    }
    while (x->hs->n > 0 && seq_le(x->hs->sent[x->hs->head].end, c->snd_una)) {
        x->hs->head = (uint8_t)((x->hs->head + 1u) % SENT_SLOTS);
        x->hs->n--;
    }
    return rtt;
}

/* Linux's HyStart (tcp_cubic.c hystart_update), on every ACK with a sample before cwnd grows:
 * leaving slow start sets ssthresh to cwnd, so this ACK already grows it as in congestion
 * avoidance. */
static void linux_hystart(struct sk_tcp *c, uint32_t delay)
{
    struct sk_tcp_ext *x = c->x;
    /* "Discard delay samples right after fast recovery": within a second of an epoch. */
    if (c->st->cfg.cubic_linux ? x->lcubic.epoch_start &&
                                     (int32_t)((uint32_t)(c->st->now / 1000) - x->lcubic.epoch_start) < 1000
                               : x->cubic.epoch_start != SK_TIME_NEVER &&
                                     c->st->now - x->cubic.epoch_start < 1000000)
        return;
    if (x->hs->delay_min == 0 || x->hs->delay_min > delay)
        x->hs->delay_min = delay;
    if (x->hs->phase == HS_DONE || c->cwnd >= c->ssthresh || c->cwnd < LNX_LOW_WINDOW * (uint32_t)c->snd_mss)
        return;
    if (seq_gt(c->snd_una, x->hs->window_end))
        round_begin(c);
    uint32_t now = now32(c);
    bool found = false;
    /* ACK train: ACKs no more than 2 ms apart spanning half the least RTT since the round
     * began (threshold delay_min >> 1: no pacing). */
    if (now - x->hs->last_ack <= LNX_ACK_DELTA_US) {
        x->hs->last_ack = now;
        if (now - x->hs->round_start > x->hs->delay_min / 2)
            found = true;
    }
    /* Delay: after 8 samples in the round, their minimum above delay_min plus an eighth of it
     * (clamped to 4..16 ms). */
    if (x->hs->cur_min > delay)
        x->hs->cur_min = delay;
    if (x->hs->samples < LNX_MIN_SAMPLES) {
        x->hs->samples++;
    } else {
        uint32_t thresh = x->hs->delay_min / 8;
        thresh = thresh < LNX_DELAY_MIN_US ? LNX_DELAY_MIN_US : thresh > LNX_DELAY_MAX_US ? LNX_DELAY_MAX_US : thresh;
        if (x->hs->cur_min > x->hs->delay_min + thresh)
            found = true;
    }
    if (found) {
        x->hs->phase = HS_DONE;
        c->ssthresh = c->cwnd;
    }
}

/* RFC 9406 §4.2, at each ACK before cwnd grows: a new round when the ACK goes beyond
 * windowEnd (the ACK of windowEnd itself closes the old round, as Linux's end_seq); CSS
 * ends when CSS_ROUNDS rounds have begun since it did (the round it began in counts as its
 * first), and ssthresh = cwnd starts congestion avoidance. */
static void pp_round(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (c->ssthresh != SK_CWND_MAX) {
        x->hs->phase = HS_DONE; /* not the initial slow start (§4.2) */
        return;
    }
    if (!seq_gt(c->snd_una, x->hs->window_end))
        return;
    round_begin(c);
    if (x->hs->phase == HS_CSS && ++x->hs->css_rounds >= PP_CSS_ROUNDS) {
        c->ssthresh = c->cwnd;
        x->hs->phase = HS_DONE;
    }
}

/* RFC 9406 §4.2, after cwnd grew (or would have, if the flow used it): the round's minimum
 * RTT, then slow start's exit into CSS on a delay increase, or CSS's return to slow start
 * when the RTT falls back below the baseline. */
static void pp_sample(struct sk_tcp *c, uint32_t rtt)
{
    struct sk_tcp_ext *x = c->x;
    if (x->hs->phase == HS_DONE || rtt == 0)
        return;
    if (rtt < x->hs->cur_min)
        x->hs->cur_min = rtt;
    if (x->hs->samples < UINT8_MAX)
        x->hs->samples++;
    if (x->hs->samples < PP_N_RTT_SAMPLE)
        return;
    if (x->hs->phase == HS_SS) {
        if (x->hs->cur_min == RTT_INF || x->hs->last_min == RTT_INF)
            return;
        uint32_t thresh = x->hs->last_min / PP_MIN_RTT_DIVISOR;
        if (thresh > PP_MAX_RTT_THRESH_US)
            thresh = PP_MAX_RTT_THRESH_US;
        if (thresh < PP_MIN_RTT_THRESH_US)
            thresh = PP_MIN_RTT_THRESH_US;
        if ((uint64_t)x->hs->cur_min >= (uint64_t)x->hs->last_min + thresh) {
            x->hs->css_baseline = x->hs->cur_min;
            x->hs->phase = HS_CSS;
            x->hs->css_rounds = 0;
        }
    } else if (x->hs->cur_min < x->hs->css_baseline) {
        /* The delay increase was jitter: back to slow start. */
        x->hs->css_baseline = RTT_INF;
        x->hs->phase = HS_SS;
    }
}

void sk_cc_slow_start(struct sk_tcp *c, uint32_t acked)
{
    /* RFC 3465 §2.2: cwnd += min(N, L*SMSS); HyStart++ with its own L (RFC 9406 §4.2), and
     * in CSS a quarter of that. */
    uint32_t l = c->st->cfg.ss_abc_limit;
    bool pp = hs_mode(c) == SK_HYSTART_PP && c->x->hs->phase != HS_DONE;
    if (pp)
        l = c->st->cfg.pacing ? 0 : PP_L; /* RFC 9406 §4.3: L = infinity when paced */
    uint32_t inc = l ? min_u32(acked, l * (uint32_t)c->snd_mss) : acked;
    if (pp && c->x->hs->phase == HS_CSS)
        inc /= PP_CSS_GROWTH_DIVISOR;
    c->cwnd = sk_cc_clamp((uint64_t)c->cwnd + inc);
}

/* May this ACK grow cwnd? `flight`: FlightSize before it. */
static bool may_grow(const struct sk_tcp *c, uint32_t flight)
{
    const struct sk_tcp_ext *x = c->x;
    if (c->st->cfg.cwnd_validation == SK_CWV_LINUX) {
        /* include/net/tcp.h tcp_is_cwnd_limited: cwnd was filled in this window; or, in
         * slow start, "ensure cwnd grows to twice what was ACKed". */
        if (x->cwv.win_cwnd_limited)
            return true;
        return c->cwnd < c->ssthresh && c->cwnd < 2ull * x->cwv.max_flight;
    }
    /* RFC 7661 §4.3: no growth while the flow does not use its cwnd (limited by the peer's
     * window or the application): only when sending stopped at cwnd, or at least half of it
     * was in flight (§4.1 "validated"). Without this a receiver-limited flow grew cwnd
     * without bound. */
    return x->cwnd_limited || 2ull * flight >= c->cwnd;
}

void sk_cc_ack(struct sk_tcp *c, uint32_t flight, uint32_t acked, bool ece)
{
    if (acked == 0)
        return;
    enum sk_hystart mode = hs_active(c) ? hs_mode(c) : SK_HYSTART_OFF;
    uint32_t rtt = mode != SK_HYSTART_OFF ? sent_sample(c) : 0;
    if (mode == SK_HYSTART_LINUX && rtt)
        linux_hystart(c, rtt);
    bool pp = mode == SK_HYSTART_PP && c->cwnd < c->ssthresh;
    if (pp)
        pp_round(c);
    /* RFC 3168 §6.1.2: an ECN-Echo ACK never grows cwnd. */
    if (!ece && may_grow(c, flight))
        c->cc->on_ack(c, acked);
    if (pp)
        pp_sample(c, rtt);
}

void sk_cc_on_output(struct sk_tcp *c, uint32_t snd_max_before, bool had_unsent)
{
    struct sk_tcp_ext *x = c->x;
    if (x == NULL)
        return;
    bool sent_new = seq_gt(c->snd_max, snd_max_before);
    if (sent_new && hs_active(c))
        sent_record(c, snd_max_before);
    if (sent_new && c->cc == &sk_cc_cubic && c->st->cfg.cubic_linux)
        sk_cc_lcubic_tx_start(c, c->snd_una == snd_max_before);
    if (c->st->cfg.cwnd_validation != SK_CWV_LINUX)
        return;
    /* tcp_output.c tcp_write_xmit / tcp_cwnd_validate: cwnd-limited when the packets in flight
     * reach cwnd; the window's record is kept until SND.UNA passes the data sent when it was
     * taken, unless a fuller use replaces it. Only calls that sent, or found cwnd full with
     * data waiting, count. */
    bool recovery_sack = (c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK);
    uint32_t in_flight = recovery_sack ? sk_tcp_pipe(c) : c->snd_nxt - c->snd_una;
    bool lim = (uint64_t)in_flight + c->snd_mss > c->cwnd;
    if (!sent_new && !(lim && had_unsent))
        return;
    uint32_t out = c->snd_max - c->snd_una; /* packets_out */
    if (!seq_lt(c->snd_una, x->cwv.usage_seq) || lim ||
        (!x->cwv.win_cwnd_limited && out > x->cwv.max_flight)) {
        x->cwv.win_cwnd_limited = lim;
        x->cwv.max_flight = out;
        x->cwv.usage_seq = c->snd_nxt;
    }
}
