/* When to acknowledge received data: RFC 5681 §4.2's delayed ACK (the default), or Linux's
 * policy for profiles (sk_config.quickack_max, delack_max_us).
 *
 * RFC 5681 §4.2 / RFC 9293 §3.8.6.3: an ACK for at least every second full-sized segment,
 * and no later than delack_us after the first unacknowledged one.
 *
 * Linux (net/ipv4/tcp_input.c, v6.x) adds two things a peer and a packetdrill script see:
 * - Quick-ACK mode (tcp_incr_quickack, tcp_enter_quickack_mode; TCP_MAX_QUICKACKS = 16): at a
 *   connection's first data, after a silence longer than the RTO, and when a retransmission
 *   of data already held arrives, the next several segments are each acknowledged at once, so
 *   that a sender in slow start is not held back by delayed ACKs. Not on an interactive
 *   ("pingpong") connection, where the ACK rides on the answer.
 * - An adaptive ACK timeout (icsk_ack.ato): tcp_event_data_recv follows the gaps between
 *   arriving segments, tcp_delack_timer_handler doubles it when it fires on a bulk
 *   connection, tcp_send_delayed_ack caps it by the smoothed RTT and by TCP_DELACK_MAX.
 * Outside quick-ACK mode Linux acknowledges at once when more than one full segment (the
 * largest seen, icsk_ack.rcv_mss) is unacknowledged (__tcp_ack_snd_check).
 */
#include "tcp/tcp_int.h"

/* tcp_send_delayed_ack: the cap on a bulk connection's ACK timeout, HZ / 2. */
#define LINUX_ATO_MAX_BULK_US 500000u
/* tcp_initialize_rcv_mss: the first estimate of the peer's segment size, TCP_MSS_DEFAULT. */
#define LINUX_RCV_MSS_INITIAL 536u

static bool linux_acks(const struct sk_config *cfg)
{
    return cfg->quickack_max != 0 || cfg->delack_max_us != 0;
}

/* tcp_incr_quickack: quick ACKs for half the window in segments (at least 2), at most
 * quickack_max, never fewer than are left. The window is the one last advertised
 * (tp->rcv_wnd). */
static void incr_quickack(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t max = c->st->cfg.quickack_max;
    if (max == 0)
        return;
    uint32_t wnd = seq_gt(c->rcv_adv, c->last_ack_sent) ? c->rcv_adv - c->last_ack_sent : 0;
    uint32_t q = wnd / (2u * x->ack_rcv_mss);
    if (q == 0)
        q = 2;
    if (q > max)
        q = max;
    if (q > x->quick)
        x->quick = (uint8_t)q;
}

/* tcp_measure_rcv_mss: the largest segment seen, at most the MSS we announced. */
static void measure_rcv_mss(struct sk_tcp *c, uint32_t len)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t adv = c->rcv_mss ? c->rcv_mss : LINUX_RCV_MSS_INITIAL;
    if (x->ack_rcv_mss == 0)
        x->ack_rcv_mss = (uint16_t)min_u32(LINUX_RCV_MSS_INITIAL, adv);
    if (len >= x->ack_rcv_mss)
        x->ack_rcv_mss = (uint16_t)min_u32(len, adv);
}

/* tcp_event_data_recv: the ACK timeout follows the gaps between arriving data. */
static void data_received(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t ato_min = c->st->cfg.delack_us;
    if (x->ato_us == 0) {
        /* The first data: start quick-ACK mode. */
        incr_quickack(c);
        x->ato_us = ato_min;
    } else {
        uint64_t m = c->st->now - x->lrcv_time;
        if (m <= ato_min / 2) {
            x->ato_us = x->ato_us / 2 + ato_min / 2;
        } else if (m < x->ato_us) {
            x->ato_us = min_u32(x->ato_us / 2 + (uint32_t)m, c->rto_us);
        } else if (m > c->rto_us) {
            /* A silence longer than the RTO: the sender restarts, ACK it quickly. */
            incr_quickack(c);
        }
    }
    x->lrcv_time = c->st->now;
}

/* tcp_send_delayed_ack: the timeout for an ACK that waits. */
static uint32_t ack_timeout(const struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    const struct sk_tcp_ext *x = c->x;
    if (cfg->delack_max_us == 0 || x->ato_us <= cfg->delack_us)
        return cfg->delack_us;
    uint32_t max_ato = x->pingpong ? cfg->delack_max_us : LINUX_ATO_MAX_BULK_US;
    if (c->srtt_us != 0)
        max_ato = min_u32(max_ato, max_u32(c->srtt_us, cfg->delack_us));
    return min_u32(x->ato_us, max_ato);
}

static void delay_ack(struct sk_tcp *c, uint32_t timeout_us)
{
    c->flags |= TF_ACK_DELAYED;
    if (!sk_tcp_timer_on(c, SK_TIMER_DELACK))
        sk_tcp_timer_set(c, SK_TIMER_DELACK, timeout_us);
}

void sk_tcp_ack_in_order(struct sk_tcp *c, uint32_t len, uint32_t segs)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    x->last_data_rcv = c->st->now; /* tcp_chrono.c: tcpi_last_data_recv */
    measure_rcv_mss(c, len);       /* sk_tcp_info.rcv_mss_seen */
    if (!linux_acks(cfg)) {
        /* RFC 5681 §4.2: at least every second segment. */
        if ((x->unacked_segs += segs) >= 2 || cfg->delack_us == 0)
            c->flags |= TF_ACK_NOW;
        else
            delay_ack(c, cfg->delack_us);
        return;
    }
    data_received(c);
    /* __tcp_ack_snd_check: more than one full segment unacknowledged, or quick-ACK mode. */
    bool quick = x->quick > 0 && !x->pingpong;
    if (c->rcv_nxt - c->last_ack_sent > x->ack_rcv_mss || quick || cfg->delack_us == 0)
        c->flags |= TF_ACK_NOW;
    else
        delay_ack(c, ack_timeout(c));
}

void sk_tcp_quickack_enter(struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    if (!linux_acks(cfg) || x == NULL)
        return;
    if (x->ack_rcv_mss == 0)
        measure_rcv_mss(c, 0);
    incr_quickack(c);
    x->pingpong = false;
    x->ato_us = cfg->delack_us;
}

void sk_tcp_established_ack(struct sk_tcp *c, bool save_ack)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    if (!save_ack) {
        c->flags |= TF_ACK_NOW; /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
        if (linux_acks(cfg))
            x->lrcv_time = c->st->now; /* tcp_finish_connect: icsk_ack.lrcvtime */
        return;
    }
    /* tcp_rcv_synsent_state_process with sk_write_pending: "Save one ACK", quick-ACK mode,
     * the delayed-ACK timer at TCP_DELACK_MAX. The data that follows carries the ACK, and
     * having gone within the ACK timeout of the SYN-ACK it makes the connection interactive
     * (sk_tcp_data_leaving), as Linux's tcp_event_data_sent does. */
    if (linux_acks(cfg)) {
        sk_tcp_quickack_enter(c);
        x->lrcv_time = c->st->now;
    }
    uint32_t wait = cfg->delack_max_us ? cfg->delack_max_us : cfg->delack_us;
    delay_ack(c, wait ? wait : 1);
}

void sk_tcp_delack_fired(struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    if (!linux_acks(cfg) || x == NULL)
        return;
    if (!x->pingpong) {
        /* Delayed ACK missed: inflate the ACK timeout. */
        x->ato_us = min_u32(max_u32(x->ato_us, cfg->delack_us) * 2u, c->rto_us);
    } else {
        /* Delayed ACK missed on an interactive connection: it is not one any more. */
        x->pingpong = false;
        x->ato_us = cfg->delack_us;
    }
}

void sk_tcp_ack_leaving(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (x == NULL || x->quick == 0 || c->rcv_nxt == c->last_ack_sent)
        return;
    /* tcp_dec_quickack_mode: one quick ACK spent; leaving the mode resets the timeout. */
    if (--x->quick == 0)
        x->ato_us = c->st->cfg.delack_us;
}

void sk_tcp_data_leaving(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (x == NULL || x->ato_us == 0 || !linux_acks(&c->st->cfg))
        return;
    /* tcp_event_data_sent: an answer within the ACK timeout of the data makes the
     * connection interactive (tcp_pingpong_thresh 1). */
    if (c->st->now - x->lrcv_time < x->ato_us)
        x->pingpong = true;
}
