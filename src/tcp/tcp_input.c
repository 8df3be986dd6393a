/* TCP input: segment arrival, RFC 9293 §3.10.7, in the RFC's order.
 *
 * CLOSED (no TCB) §3.10.7.1, LISTEN §3.10.7.2, SYN-SENT §3.10.7.3, then for every other state
 * §3.10.7.4: sequence check, RST, security (nothing to do), SYN, ACK, URG, text, FIN.
 * RFC 5961 hardens the RST, SYN and ACK checks with challenge ACKs; RFC 7323 adds PAWS and the
 * options; RFC 6191 lets a new SYN reuse a TIME-WAIT 4-tuple.
 */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"
#include "tcp/tcp_ranges.h"

/* One arriving segment, trimmed to the window as processing goes. */
struct seg {
    const struct sk_tcp_hdr *h;
    uint32_t seq;
    const uint8_t *data;
    uint32_t len;       /* payload bytes */
    bool syn, fin;
    bool ce;            /* the IP header carried Congestion Experienced (RFC 3168 §5) */
    const uint8_t *frame;
    size_t frame_len;
};

static void drop(struct sk_stack *st, struct sk_tcp *c, const struct seg *s,
                 enum sk_drop_reason r)
{
    sk_drop(st, r, c, s->frame, s->frame_len);
}

static void challenge_ack(struct sk_tcp *c)
{
    /* RFC 5961 §3.2, §4.2, §5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
    c->st->ctr.tcp_challenge_acks++;
    /* Exactly this ACK, never one repeating our FIN (sk_config.ack_repeats_fin). */
    sk_tcp_send_ctl(c, c->snd_max, c->rcv_nxt, SK_TCP_ACK);
}

/* RFC 3168 §6.1.1: a SYN carrying both ECE and CWR asks for ECN; we agree unless ECN is off
 * (our SYN-ACK then carries ECE). */
static void ecn_on_syn(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    if (c->st->cfg.ecn != 0 && (h->flags & (SK_TCP_ECE | SK_TCP_CWR)) == (SK_TCP_ECE | SK_TCP_CWR))
        c->flags |= TF_ECN;
    else
        c->flags &= ~TF_ECN;
}

static void init_cwnd(struct sk_tcp *c)
{
    c->cc->init(c);
}

/* The options of a SYN or SYN-ACK decide what this connection uses (RFC 9293 §3.7.1,
 * RFC 7323 §2.2 and §3.2, RFC 2018 §2). What we did not offer on an active open is ignored. */
static void syn_options(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    const struct sk_config *cfg = &c->st->cfg;
    const struct sk_tcp_opts *o = &h->opts;
    /* A plain SYN offered nothing but the MSS; a connection without options takes none. */
    bool offered = !(c->flags & (TF_SYN_PLAIN | TF_NOOPT));
    if ((o->present & SK_OPT_WSCALE) && cfg->opt_wscale && offered) {
        c->flags |= TF_WSCALE;
        /* RFC 7323 §2.3: a shift above 14 is used as 14. */
        c->snd_wscale = o->wscale > 14 ? 14 : o->wscale;
        c->rcv_wscale = cfg->wscale;
    } else {
        c->flags &= ~TF_WSCALE;
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    if ((o->present & SK_OPT_SACK_PERM) && cfg->opt_sack && offered)
        c->flags |= TF_SACK;
    if ((o->present & SK_OPT_TIMESTAMP) && cfg->opt_timestamps && offered) {
        c->flags |= TF_TS;
        c->ts_recent = o->ts_val;
        c->ts_recent_age = c->st->now;
    }
    uint32_t peer_mss = (o->present & SK_OPT_MSS) && !(c->flags & TF_NOOPT) ? o->mss : 536;
    uint32_t mss = min_u32(peer_mss, c->rcv_mss);
    if (cfg->rcvbuf_round_to_mss && c->rcv.len == 0 && mss > 0) {
        /* FreeBSD's tcp_mss(): a whole number of segments; an empty ring is sized afresh
         * (kept as it is if memory is short). */
        uint32_t want = (c->rcvbuf_size + mss - 1) / mss * mss;
        struct sk_ring r = {0};
        if (c->rcv.buf == NULL) {
            c->rcvbuf_size = want;
        } else if (want != c->rcvbuf_size &&
                   sk_ring_alloc(c->st, &r, sk_rcv_ring_bytes(c, want)) == 0) {
            sk_ring_free(c->st, &c->rcv);
            c->rcv = r;
            c->rcvbuf_size = want;
        }
    }
    /* RFC 6691: the MSS does not count options, so the timestamps come out of each segment. */
    if (c->flags & TF_TS)
        mss = mss > 12 ? mss - 12 : 0;
    c->snd_mss = (uint16_t)sk_tcp_mss_floor(c, mss);
}

/* TIME-WAIT is kept by a record (tcp_timewait.c), made at the end of sk_tcp_input once what
 * this segment asks for (the ACK of the peer's FIN) has gone. */
static void enter_time_wait(struct sk_tcp *c)
{
    sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
    sk_tcp_timer_stop(c, SK_TIMER_PERSIST);
    sk_tcp_timer_stop(c, SK_TIMER_USER_TIMEOUT);
    sk_tcp_set_state(c, SK_TCP_TIME_WAIT);
}

/* ---- §3.10.7.1 CLOSED ---- */
static void closed_input(struct sk_stack *st, const struct sk_ipv4_hdr *ip, const struct seg *s)
{
    drop(st, NULL, s, SK_DROP_TCP_NO_SOCKET);
    /* An incoming RST is discarded; anything else gets a RST. */
    if (!(s->h->flags & SK_TCP_RST))
        sk_tcp_send_rst_for(st, ip, s->h);
}

/* ---- §3.10.7.2 LISTEN: tcp_listen.c, which takes a SYN's options from here. ---- */
void sk_tcp_passive_syn_options(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    syn_options(c, h);
    ecn_on_syn(c, h);
}

/* ---- §3.10.7.3 SYN-SENT ---- */
static void syn_sent_input(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    const struct sk_tcp_hdr *h = s->h;
    bool ack = (h->flags & SK_TCP_ACK) != 0;
    /* First, the ACK: it must acknowledge our SYN and nothing beyond. */
    if (ack && (seq_le(h->ack, c->iss) || seq_gt(h->ack, c->snd_max))) {
        drop(st, c, s, SK_DROP_TCP_ACK_INVALID);
        if (!(h->flags & SK_TCP_RST))
            sk_tcp_send_ctl(c, h->ack, 0, SK_TCP_RST);
        return;
    }
    /* Second, a RST: only with an acceptable ACK does it refuse the connection. */
    if (h->flags & SK_TCP_RST) {
        if (ack)
            sk_tcp_terminate(c, -ECONNREFUSED);
        else
            drop(st, c, s, SK_DROP_TCP_RST_INVALID);
        return;
    }
    /* Fourth, the SYN. */
    if (!(h->flags & SK_TCP_SYN)) {
        drop(st, c, s, SK_DROP_TCP_NO_ACK);
        return;
    }
    c->irs = h->seq;
    c->rcv_nxt = h->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    syn_options(c, h);
    if (ack) {
        /* §6.1.1: an ECN-setup SYN-ACK (ECE without CWR) answers our ECN-setup SYN. */
        if ((c->flags & TF_ECN_REQ) && (h->flags & (SK_TCP_ECE | SK_TCP_CWR)) == SK_TCP_ECE)
            c->flags |= TF_ECN;
    } else {
        ecn_on_syn(c, h); /* simultaneous open: the peer's SYN asks */
    }
    c->snd_wnd = h->wnd;
    c->max_snd_wnd = h->wnd;
    c->snd_wl1 = h->seq;
    c->snd_wl2 = h->ack;
    if (ack) {
        c->snd_una = h->ack;
        c->flags |= TF_SYN_ACKED;
        c->retries = 0;
        if ((c->flags & TF_RTT_TIMING) && c->rtt_seq == c->iss) {
            c->flags &= ~TF_RTT_TIMING;
            sk_tcp_rtt_sample(c, (uint32_t)(st->now - c->rtt_start));
        } else if (c->total_retransmits) {
            /* RFC 6298 §5.7: the SYN was retransmitted and nothing was measured: RTO 3 s. */
            c->rto_us = min_u32(max_u32(3000000, st->cfg.rto_min_us), st->cfg.rto_max_us);
        }
        sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
        sk_tcp_timer_stop(c, SK_TIMER_USER_TIMEOUT);
        init_cwnd(c);
        sk_tcp_set_state(c, SK_TCP_ESTABLISHED);
        /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, or data that was queued meanwhile. */
        c->flags |= TF_ACK_NOW;
        if (c->flags & TF_FIN_QUEUED)
            sk_tcp_set_state(c, SK_TCP_FIN_WAIT_1);
        return;
    }
    /* Simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED. */
    sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
    c->snd_nxt = c->iss;
    c->flags &= ~TF_RTT_TIMING;
    sk_tcp_set_state(c, SK_TCP_SYN_RECEIVED);
}

/* RFC 9293 §3.10.7.4 first check: is any of the segment inside the receive window? */
static bool acceptable(const struct sk_tcp *c, uint32_t seq, uint32_t seg_len, uint32_t wnd,
                       bool rst)
{
    uint32_t nxt = c->rcv_nxt;
    if (seg_len == 0) {
        /* RFC 9293 §3.10.7.4: while our window is shut "special allowance should be made to
         * accept valid ACKs". A peer probing it sends one byte, and until it learns that we
         * kept the byte (room we had not offered, or a scaled window rounded down to 0) its
         * ACKs come from before it (sk_tcp_send_ack): SEG.SEQ = RCV.NXT - 1. Without this,
         * two sides probing each other at once dropped each other's ACKs for ever. */
        if (!rst && (c->flags & TF_RCV_WND_ZERO) && seq == nxt - 1)
            return true;
        if (wnd == 0)
            return seq == nxt;
        /* sk_config.ack_at_window_edge: a pure ACK from the right edge itself; never a RST,
         * which RFC 5961 §3.2 drops there without a challenge ACK. */
        if (c->st->cfg.ack_at_window_edge && !rst && seq == nxt + wnd)
            return true;
        return seq_le(nxt, seq) && seq_lt(seq, nxt + wnd);
    }
    if (wnd == 0)
        return false;
    uint32_t last = seq + seg_len - 1;
    return (seq_le(nxt, seq) && seq_lt(seq, nxt + wnd)) ||
           (seq_le(nxt, last) && seq_lt(last, nxt + wnd));
}

/* RFC 7323 §5.5: after 24 days without an update TS.Recent is no longer valid: the peer's 1 ms
 * (or faster) timestamp clock may have run more than 2^31 ticks since, so comparing with it
 * would call every new segment old and wedge an idle connection for good. */
#define PAWS_IDLE_US (24ull * 24 * 3600 * 1000000)
static bool ts_recent_valid(const struct sk_tcp *c)
{
    return c->st->now - c->ts_recent_age <= PAWS_IDLE_US;
}

static bool fin_acked(const struct sk_tcp *c)
{
    return (c->flags & TF_FIN_QUEUED) && c->snd.len == 0 && c->snd_una == c->sndbuf_seq + 1;
}

/* RFC 2883 §4: the next ACK reports [left, right) as a duplicate in its first SACK block. */
static void report_dsack(struct sk_tcp *c, uint32_t left, uint32_t right)
{
    if (!(c->flags & TF_SACK))
        return;
    c->dsack_left = left;
    c->dsack_right = right;
    c->flags |= TF_ACK_NOW;
}

/* RFC 2018 §4: the first SACK block reports the newest segment, the next ones the blocks
 * reported most recently before. sack_hist keeps the left edges of those ranges, newest
 * first; ranges merge, so an edge is looked up as "the range holding it" when sending. */
static void sack_note_recent(struct sk_tcp *c, uint32_t left, uint32_t right)
{
    uint8_t k = 0;
    uint32_t keep[SK_TCP_MAX_SACK];
    keep[k++] = left;
    for (uint8_t i = 0; i < c->sack_hist_n && k < SK_TCP_MAX_SACK; i++)
        if (!(seq_le(left, c->sack_hist[i]) && seq_lt(c->sack_hist[i], right)))
            keep[k++] = c->sack_hist[i];
    memcpy(c->sack_hist, keep, k * sizeof(keep[0]));
    c->sack_hist_n = k;
}

/* Writes in-window text into the receive ring and advances RCV.NXT over what is contiguous.
 * Returns false if the segment could not be kept. */
static bool receive_text(struct sk_tcp *c, const struct seg *s)
{
    uint32_t off = c->rcv.len + (s->seq - c->rcv_nxt);
    uint32_t len = s->len;
    if (off >= c->rcv.size)
        return false;
    if (len > c->rcv.size - off)
        len = c->rcv.size - off;
    /* RFC 2883 §4: the part of this segment already held out of order arrived twice. */
    struct sk_range dup;
    if (c->dsack_left == c->dsack_right &&
        sk_ranges_first_overlap(&c->ooo, s->seq, s->seq + len, &dup))
        report_dsack(c, dup.left, dup.right);
    if (s->seq != c->rcv_nxt) {
        /* Out of order: remember the range, merged with its neighbours. */
        struct sk_range merged;
        if (sk_ranges_add(&c->ooo, s->seq, s->seq + len, &merged) < 0)
            return false;
        sack_note_recent(c, merged.left, merged.right);
        sk_ring_write_at(&c->rcv, off, s->data, len);
        return true;
    }
    sk_ring_write_at(&c->rcv, off, s->data, len);
    /* The new data and the out-of-order ranges it reaches are now in order. */
    uint32_t nxt = sk_ranges_pull(&c->ooo, c->rcv_nxt + len);
    uint32_t more = nxt - c->rcv_nxt;
    c->rcv.len += more;
    c->rcv_nxt = nxt;
    c->bytes_received += more;
    return true;
}

/* The peer's FIN is accepted when RCV.NXT reaches it (RFC 9293 §3.10.7.4 eighth). */
static void accept_fin(struct sk_tcp *c)
{
    c->rcv_nxt++;
    c->flags |= TF_FIN_RCVD | TF_ACK_NOW;
    c->flags &= ~TF_OOO_FIN;
    switch (c->state) {
    case SK_TCP_SYN_RECEIVED:
    case SK_TCP_ESTABLISHED:
        sk_tcp_set_state(c, SK_TCP_CLOSE_WAIT);
        break;
    case SK_TCP_FIN_WAIT_1:
        /* Our FIN acknowledged too (FIN+ACK): straight to TIME-WAIT; else CLOSING. */
        if (fin_acked(c))
            enter_time_wait(c);
        else
            sk_tcp_set_state(c, SK_TCP_CLOSING);
        break;
    case SK_TCP_FIN_WAIT_2:
        enter_time_wait(c);
        break;
    default:
        break;
    }
}

/* ---- §3.10.7.4: SYN-RECEIVED and the synchronized states ---- */
static void sync_input(struct sk_tcp *c, struct seg *s)
{
    struct sk_stack *st = c->st;
    const struct sk_tcp_hdr *h = s->h;
    uint32_t seg_len = s->len + (s->syn ? 1 : 0) + (s->fin ? 1 : 0);
    /* RCV.WND: the window offered, or the free buffer if that is larger (a 16-bit field
     * without scaling cannot offer all of a buffer over 64 KiB, but the room is there). */
    uint32_t used = c->rcv.buf ? c->rcv.len : 0;
    uint32_t space = c->rcvbuf_size > used ? c->rcvbuf_size - used : 0;
    uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    wnd = max_u32(wnd, space);
    bool rst = (h->flags & SK_TCP_RST) != 0;

    /* RFC 9293 Figure 7 (simultaneous open): in SYN-RECEIVED (or FIN-WAIT-1 after a CLOSE
     * there) the peer's SYN,ACK repeats the SYN we already hold (SEG.SEQ = IRS); only its ACK
     * is new. Take the old SYN off it. */
    if (!(c->flags & TF_PASSIVE) && !(c->flags & TF_SYN_ACKED) && s->syn && !rst &&
        (h->flags & SK_TCP_ACK) && s->seq == c->irs) {
        s->syn = false;
        s->seq++;
        seg_len--;
    }

    /* RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate, unless
     * TS.Recent itself is stale (§5.5). */
    if ((c->flags & TF_TS) && (h->opts.present & SK_OPT_TIMESTAMP) && !rst &&
        ts_recent_valid(c) && seq_lt(h->opts.ts_val, c->ts_recent)) {
        drop(st, c, s, SK_DROP_TCP_PAWS);
        sk_tcp_send_ack(c);
        return;
    }

    /* First: the sequence number. A zero window still lets ACK and RST through when
     * SEG.SEQ = RCV.NXT (RFC 9293 §3.10.7.4, "special allowance"). */
    bool text_blocked = false;
    /* A segment from one byte before RCV.NXT without data is taken for its ACK (acceptable())
     * but still answered with our window, as RFC 9293 answers an unacceptable one: it is also
     * how Linux probes a zero window. Not when it acknowledges new data: that is the ACK of a
     * peer we are probing, and answering it would only start an exchange of ACKs. */
    if (seg_len == 0 && !rst && s->seq == c->rcv_nxt - 1 && !seq_gt(h->ack, c->snd_una))
        c->flags |= TF_ACK_NOW;
    if (!acceptable(c, s->seq, seg_len, wnd, rst)) {
        if (wnd == 0 && s->seq == c->rcv_nxt) {
            text_blocked = true;
        } else {
            drop(st, c, s, SK_DROP_TCP_SEQ);
            if (rst)
                return;
            if (c->state == SK_TCP_SYN_RECEIVED && !(c->flags & TF_SYN_ACKED)) {
                /* Our acknowledgment in SYN-RECEIVED is the SYN,ACK itself. It spends a
                 * retry: restarting the timer for free on each such segment let anyone who
                 * sends them hold the half-open TCB for ever. */
                sk_tcp_resend_synack(c);
                return;
            }
            /* RFC 2883: tell the sender this data arrived twice. */
            if (s->len > 0 && seq_le(s->seq + s->len, c->rcv_nxt))
                report_dsack(c, s->seq, s->seq + s->len);
            if (s->syn) /* a plain ACK, like the challenge ACK an in-window SYN gets */
                sk_tcp_send_ctl(c, c->snd_max, c->rcv_nxt, SK_TCP_ACK);
            else
                sk_tcp_send_ack(c);
            return;
        }
    }
    /* Trim what lies before RCV.NXT (a SYN there is an old one) and beyond the window. */
    if (seq_lt(s->seq, c->rcv_nxt)) {
        if (s->syn) {
            s->syn = false;
            s->seq++;
        }
        uint32_t cut = min_u32(c->rcv_nxt - s->seq, s->len);
        if (cut > 0)
            report_dsack(c, s->seq, s->seq + cut);
        s->data += cut;
        s->len -= cut;
        s->seq += cut;
    }
    if (s->len > 0 && seq_gt(s->seq + s->len, c->rcv_nxt + wnd)) {
        uint32_t keep = seq_gt(c->rcv_nxt + wnd, s->seq) ? c->rcv_nxt + wnd - s->seq : 0;
        s->len = keep;
        s->fin = false;
        sk_drop(st, SK_DROP_TCP_RCV_WINDOW, c, NULL, 0);
        /* RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.17: answer with our window, which is also how
         * a zero-window probe learns that the window is still shut. */
        c->flags |= TF_ACK_NOW;
    }

    /* Second: RST (RFC 5961 §3.2: only an exact RCV.NXT resets; else a challenge ACK). */
    if (rst) {
        if (s->seq != c->rcv_nxt) {
            drop(st, c, s, SK_DROP_TCP_RST_INVALID);
            challenge_ack(c);
            return;
        }
        switch (c->state) {
        case SK_TCP_SYN_RECEIVED:
            /* Passive: back to LISTEN, i.e. the half-open child goes. Active: refused. */
            sk_tcp_terminate(c, (c->flags & TF_PASSIVE) ? 0 : -ECONNREFUSED);
            break;
        case SK_TCP_ESTABLISHED:
        case SK_TCP_FIN_WAIT_1:
        case SK_TCP_FIN_WAIT_2:
        case SK_TCP_CLOSE_WAIT:
            sk_tcp_terminate(c, -ECONNRESET);
            break;
        default: /* CLOSING, LAST-ACK */
            sk_tcp_terminate(c, 0);
            break;
        }
        return;
    }

    /* Fourth: SYN. RFC 5961 §4.2: challenge ACK in synchronized states. */
    if (s->syn) {
        if (c->state == SK_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE)) {
            drop(st, c, s, SK_DROP_TCP_SYN_INVALID);
            sk_tcp_terminate(c, 0); /* RFC 9293: return to LISTEN */
            return;
        }
        drop(st, c, s, SK_DROP_TCP_SYN_INVALID);
        if (st->cfg.rfc793_syn) {
            sk_tcp_send_ctl(c, c->snd_max, c->rcv_nxt, SK_TCP_RST | SK_TCP_ACK);
            sk_tcp_terminate(c, -ECONNRESET);
            return;
        }
        challenge_ack(c);
        return;
    }

    /* RFC 3168 §6.1.3: a CE mark is echoed with ECE on every ACK until the peer's CWR says
     * it has reacted. */
    if (c->flags & TF_ECN) {
        if (h->flags & SK_TCP_CWR)
            c->flags &= ~TF_ECN_ECE;
        if (s->ce)
            c->flags |= TF_ECN_ECE | TF_ACK_NOW;
    }

    /* Fifth: ACK. */
    if (!(h->flags & SK_TCP_ACK)) {
        drop(st, c, s, SK_DROP_TCP_NO_ACK);
        return;
    }
    if (c->state == SK_TCP_SYN_RECEIVED) {
        if (!(seq_lt(c->snd_una, h->ack) && seq_le(h->ack, c->snd_max))) {
            drop(st, c, s, SK_DROP_TCP_ACK_INVALID);
            sk_tcp_send_ctl(c, h->ack, 0, SK_TCP_RST);
            return;
        }
        if (c->listener && c->listener->accept_queued >= (uint32_t)c->listener->backlog) {
            /* No room to hand it over: stay half-open, the peer's next ACK may fit. */
            drop(st, c, s, SK_DROP_TCP_ACCEPT_FULL);
            return;
        }
        if (sk_tcb_buffers(c) != 0) {
            drop(st, c, s, SK_DROP_TCP_NO_MEMORY);
            sk_tcp_send_ctl(c, h->ack, 0, SK_TCP_RST);
            sk_tcp_terminate(c, -ENOMEM);
            return;
        }
        init_cwnd(c);
        c->snd_wnd = (uint32_t)h->wnd << c->snd_wscale;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = s->seq;
        c->snd_wl2 = h->ack;
        sk_tcp_set_state(c, SK_TCP_ESTABLISHED);
        sk_tcp_child_established(c);
    }
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
    if (seq_gt(h->ack, c->snd_max) || seq_lt(h->ack, c->snd_una - c->max_snd_wnd)) {
        drop(st, c, s, SK_DROP_TCP_ACK_INVALID);
        challenge_ack(c);
        return;
    }
    bool fin_was_acked = fin_acked(c);
    uint32_t old_wnd = c->snd_wnd;
    bool wnd_same = ((uint32_t)h->wnd << c->snd_wscale) == c->snd_wnd;
    /* Window update, only from a segment newer than the last one that updated it. It comes
     * before the acknowledgment is acted on: that may send (recovery), and new data must be
     * measured against this segment's window from this segment's ACK. The old window from the
     * new SND.UNA reaches beyond the right edge the peer offers by all that was acknowledged. */
    if (seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_le(c->snd_wl2, h->ack))) {
        c->snd_wnd = (uint32_t)h->wnd << c->snd_wscale;
        c->max_snd_wnd = max_u32(c->max_snd_wnd, c->snd_wnd);
        c->snd_wl1 = s->seq;
        c->snd_wl2 = h->ack;
        if (c->snd_wnd > 0 && old_wnd == 0) {
            /* The window opened: stop probing and send from SND.UNA again, the probe byte
             * included if the peer did not keep it. */
            sk_tcp_timer_stop(c, SK_TIMER_PERSIST);
            c->persist_shift = 0;
            c->snd_nxt = c->snd_una;
        }
    }
    sk_tcp_ack_process(c, h, s->len == 0 && !s->fin, wnd_same);
    /* RFC 7323 §4.3: TS.Recent follows the segment that covers Last.ACK.sent. */
    if ((c->flags & TF_TS) && (h->opts.present & SK_OPT_TIMESTAMP) &&
        seq_le(s->seq, c->last_ack_sent) &&
        (seq_ge(h->opts.ts_val, c->ts_recent) || !ts_recent_valid(c))) {
        c->ts_recent = h->opts.ts_val;
        c->ts_recent_age = st->now;
    }
    if (!fin_was_acked && fin_acked(c)) {
        switch (c->state) {
        case SK_TCP_FIN_WAIT_1:
            /* A FIN+ACK goes straight to TIME-WAIT when its FIN is taken below (eighth). */
            if (s->fin && !text_blocked && s->seq == c->rcv_nxt)
                break;
            sk_tcp_set_state(c, SK_TCP_FIN_WAIT_2);
            if (!(c->flags & TF_USER))
                sk_tcp_timer_set(c, SK_TIMER_TIME_WAIT, 2ull * st->cfg.msl_us);
            break;
        case SK_TCP_CLOSING:
            enter_time_wait(c);
            break;
        case SK_TCP_LAST_ACK:
            sk_tcp_terminate(c, 0);
            return;
        default:
            break;
        }
    }

    /* Sixth: URG. The urgent pointer is not acted on; urgent bytes arrive inline
     * (as with SO_OOBINLINE), which RFC 6093 §4 recommends for new applications. */

    /* Seventh: segment text, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 only. */
    if (s->len > 0) {
        switch (c->state) {
        case SK_TCP_ESTABLISHED:
        case SK_TCP_FIN_WAIT_1:
        case SK_TCP_FIN_WAIT_2:
            break;
        default:
            s->len = 0; /* the peer's FIN came before: nothing more can be text */
            break;
        }
    }
    if (s->len > 0) {
        if (c->flags & TF_RCV_SHUT) {
            /* Nobody will read it (RFC 2525 §2.17, as Linux and FreeBSD): reset. */
            drop(st, c, s, SK_DROP_TCP_AFTER_CLOSE);
            sk_tcp_send_ctl(c, c->snd_max, 0, SK_TCP_RST);
            sk_tcp_terminate(c, -ECONNRESET);
            return;
        }
        bool filled_hole = c->ooo.n > 0;
        if (text_blocked || sk_tcb_buffers(c) != 0) {
            drop(st, c, s, text_blocked ? SK_DROP_TCP_RCV_WINDOW : SK_DROP_TCP_NO_MEMORY);
            c->flags |= TF_ACK_NOW;
        } else if (!receive_text(c, s)) {
            drop(st, c, s, SK_DROP_TCP_OUT_OF_ORDER);
            c->flags |= TF_ACK_NOW;
        } else if (s->seq != c->rcv_nxt - s->len || filled_hole) {
            /* RFC 5681 §4.2: ACK out-of-order data and hole fills at once. */
            c->flags |= TF_ACK_NOW;
        } else if (++c->unacked_segs >= 2 || st->cfg.delack_us == 0) {
            c->flags |= TF_ACK_NOW; /* at least every second segment */
        } else {
            c->flags |= TF_ACK_DELAYED;
            if (!sk_tcp_timer_on(c, SK_TIMER_DELACK))
                sk_tcp_timer_set(c, SK_TIMER_DELACK, st->cfg.delack_us);
        }
    }

    /* Eighth: FIN. */
    if ((c->flags & TF_OOO_FIN) && c->ooo_fin_seq == c->rcv_nxt && c->ooo.n == 0)
        accept_fin(c);
    if (s->fin && !text_blocked) {
        uint32_t fin_seq = s->seq + s->len;
        if (c->flags & TF_FIN_RCVD) {
            c->flags |= TF_ACK_NOW;
        } else if (fin_seq == c->rcv_nxt) {
            accept_fin(c);
        } else {
            c->flags |= TF_OOO_FIN | TF_ACK_NOW;
            c->ooo_fin_seq = fin_seq;
        }
    }
}

void sk_tcp_input(struct sk_stack *st, const struct sk_ipv4_hdr *ip, const uint8_t *frame,
                  size_t frame_len)
{
    struct sk_tcp_hdr h;
    int r = sk_tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, !st->cfg.csum_offload,
                         &h);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return;
    }
    st->ctr.tcp_segs_in++;
    struct seg s = {.h = &h, .seq = h.seq, .data = h.payload, .len = (uint32_t)h.payload_len,
                    .syn = (h.flags & SK_TCP_SYN) != 0, .fin = (h.flags & SK_TCP_FIN) != 0,
                    .ce = (ip->tos & SK_IP_ECN_MASK) == SK_IP_CE,
                    .frame = frame, .frame_len = frame_len};
    struct sk_tcp *c = sk_tcb_lookup(st, ip->dst, h.dport, ip->src, h.sport);
    /* TIME-WAIT lives in a record (tcp_timewait.c), even while the application holds its TCB.
     * It takes the segment, unless a SYN reopens the 4-tuple for the listener (RFC 6191). */
    if (c == NULL || c->state == SK_TCP_TIME_WAIT) {
        if (sk_tw_input(st, ip, &h, frame, frame_len))
            return;
        c = NULL;
    }
    struct sk_tcp *l = c ? NULL : sk_listener_lookup(st, h.dport);
    sk_tcp_trace_seg(st, SK_TRACE_SEG_IN, c ? c : l, ip->src, ip->dst, &h, frame, frame_len);
    if (c == NULL && l == NULL) {
        closed_input(st, ip, &s);
        return;
    }
    if (c == NULL) {
        c = sk_tcp_listen_input(l, ip, &h, frame, frame_len);
        if (c == NULL)
            return;
    }
    c->last_rcv = st->now;
    c->ka_probes = 0;
    if (c->probes_out) {
        /* The peer answers our zero-window probes: it is alive, and the user timeout, which
         * kept running behind the shut window, starts again. */
        c->probes_out = 0;
        if (c->user_timeout_us && sk_tcp_timer_on(c, SK_TIMER_USER_TIMEOUT))
            sk_tcp_timer_set(c, SK_TIMER_USER_TIMEOUT, c->user_timeout_us);
    }
    if (c->state == SK_TCP_SYN_SENT)
        syn_sent_input(c, &s);
    else
        sync_input(c, &s);
    if (c->state != SK_TCP_CLOSED) {
        sk_tcp_output(c);
        if (c->keepalive && !sk_tcp_timer_on(c, SK_TIMER_KEEPALIVE))
            sk_tcp_keepalive_arm(c);
    }
    if (c->state == SK_TCP_TIME_WAIT)
        sk_tw_enter(c);
    sk_tcp_notify(c);
}
