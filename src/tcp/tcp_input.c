/* TCP input: segment arrival, RFC 9293 §3.10.7, in the RFC's order.
 *
 * CLOSED (no TCB) §3.10.7.1, LISTEN §3.10.7.2, SYN-SENT §3.10.7.3, then for every other state
 * §3.10.7.4: sequence check, RST, security (nothing to do), SYN, ACK, URG, text, FIN.
 * RFC 5961 hardens the RST, SYN and ACK checks with challenge ACKs; RFC 7323 adds PAWS and the
 * options; RFC 6191 lets a new SYN reuse a TIME-WAIT 4-tuple. In front of §3.10.7.4, header
 * prediction (fast_path) takes the in-order data and pure ACKs of ESTABLISHED through the same
 * steps without the tests that cannot apply to them.
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
    bool text_blocked;  /* at RCV.NXT in a zero window: its ACK counts, its text finds no room */
    bool old_syn;       /* a simultaneous open's SYN,ACK: its SYN, a duplicate, was taken off */
    const uint8_t *frame;
    size_t frame_len;
};

static void drop(struct sk_stack *st, struct sk_tcp *c, const struct seg *s,
                 enum sk_drop_reason r)
{
    sk_drop(st, r, c, s->frame, s->frame_len);
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
        c->ts_recent_age_s = (uint32_t)(c->st->now / 1000000);
    }
    uint32_t peer_mss = (o->present & SK_OPT_MSS) && !(c->flags & TF_NOOPT) ? o->mss : 536;
    c->peer_mss = (uint16_t)peer_mss; /* PLPMTUD's ceiling (tcp_plpmtu.c) */
    /* RFC 1191 §6.1: a path MTU learnt while the handshake ran (snd_mss, tcp_icmp.c) holds. */
    uint32_t mss = min_u32(min_u32(peer_mss, c->rcv_mss), c->snd_mss);
    if (cfg->rcvbuf_round_to_mss && c->rcv.len == 0 && mss > 0) {
        /* FreeBSD's tcp_mss(): a whole number of segments. */
        uint32_t want = (c->rcvbuf_size + mss - 1) / mss * mss;
        if (want > c->rcvbuf_size)
            c->rcvbuf_size = want; /* a limit: the ring grows to it with use */
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
static void closed_input(struct sk_stack *st, const struct sk_l3 *ip, const struct seg *s)
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
static bool process_text(struct sk_tcp *c, struct seg *s);
static void check_fin(struct sk_tcp *c, const struct seg *s);

/* "If there are other controls or text in the segment, continue processing at the sixth
 * step": text on a SYN-ACK (a Fast Open server's answer, RFC 7413 §4.2.2) is taken as the
 * text of any segment, from IRS + 1 and within the window our SYN offered, and a FIN after it
 * as the eighth step takes any FIN (CLOSE-WAIT at once); a FIN beyond a text cut short by the
 * window comes again. */
static void syn_sent_text(struct sk_tcp *c, const struct seg *s)
{
    if (s->len == 0 && !s->fin)
        return;
    struct seg t = *s;
    t.seq = s->seq + 1;
    t.syn = false;
    t.len = min_u32(t.len, sk_tcp_rcv_window(c));
    if (t.len < s->len)
        t.fin = false;
    if (t.len > 0 && !process_text(c, &t))
        return;
    check_fin(c, &t);
    c->flags |= TF_ACK_NOW;
}

/* A SYN-ACK's TSecr that is none of our TSvals from the first SYN (TS.Recent in SYN-SENT,
 * send_syn) until now. Zero is no echo at all (Linux: rcv_tsecr 0 is not checked). */
static bool synack_tsecr_bad(const struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    if (!(h->opts.present & SK_OPT_TIMESTAMP) || h->opts.ts_ecr == 0 ||
        !c->st->cfg.opt_timestamps || (c->flags & (TF_SYN_PLAIN | TF_NOOPT)))
        return false;
    return seq_lt(h->opts.ts_ecr, c->ts_recent) || seq_gt(h->opts.ts_ecr, sk_tcp_ts_now(c));
}

static void syn_sent_input(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    const struct sk_tcp_hdr *h = s->h;
    bool ack = (h->flags & SK_TCP_ACK) != 0;
    /* First, the ACK: it must acknowledge our SYN and nothing beyond. */
    if (ack && (seq_le(h->ack, c->iss) || seq_gt(h->ack, c->snd_max))) {
        drop(st, c, s, SK_DROP_TCP_ACK_INVALID);
        if (!(h->flags & SK_TCP_RST))
            sk_tcp_send_ctl_why(c, h->ack, 0, SK_TCP_RST, SK_SEG_WHY_RST_BAD_ACK);
        return;
    }
    /* sk_config.synack_tsecr_check (Linux): an echo of a TSval we never sent is refused. */
    if (ack && st->cfg.synack_tsecr_check && synack_tsecr_bad(c, h)) {
        drop(st, c, s, SK_DROP_TCP_PAWS);
        if (!(h->flags & SK_TCP_RST))
            sk_tcp_send_ctl_why(c, h->ack, 0, SK_TCP_RST, SK_SEG_WHY_RST_BAD_ACK);
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
    /* A SYN-ACK synchronizes us: the sender's state (struct sk_tcp_ext) comes now, or the
     * segment is dropped, counted, untouched, and the peer's retransmission tries again. */
    if (ack && sk_tcb_ext_attach(c) != 0) {
        drop(st, c, s, SK_DROP_TCP_NO_MEMORY);
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
        sk_tfo_synack(c, h); /* RFC 7413 §4.2.2: the SYN's data acknowledged or sent again */
        sk_tcp_set_state(c, SK_TCP_ESTABLISHED);
        /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, or data that was queued meanwhile; or, with
         * a writer waiting, the ACK saved for its data (tcp_quickack.c). */
        sk_tcp_established_ack(c, (c->flags & TF_WRITE_PENDING) != 0);
        if (c->flags & TF_FIN_QUEUED)
            sk_tcp_set_state(c, SK_TCP_FIN_WAIT_1);
        syn_sent_text(c, s);
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
#define PAWS_IDLE_S (24u * 24 * 3600)
static bool ts_recent_valid(const struct sk_tcp *c)
{
    return (uint32_t)(c->st->now / 1000000) - c->ts_recent_age_s <= PAWS_IDLE_S;
}

/* RFC 7323 §4.3: TS.Recent follows the segment that covers Last.ACK.sent. */
static void ts_recent_update(struct sk_tcp *c, const struct seg *s)
{
    const struct sk_tcp_hdr *h = s->h;
    if ((c->flags & TF_TS) && (h->opts.present & SK_OPT_TIMESTAMP) &&
        seq_le(s->seq, c->last_ack_sent) &&
        (seq_ge(h->opts.ts_val, c->ts_recent) || !ts_recent_valid(c))) {
        c->ts_recent = h->opts.ts_val;
        c->ts_recent_age_s = (uint32_t)(c->st->now / 1000000);
    }
}

static bool fin_acked(const struct sk_tcp *c)
{
    return (c->flags & TF_FIN_QUEUED) && c->snd.len == 0 && c->snd_una == c->sndbuf_seq + 1;
}

/* RFC 2883 §4: the next ACK reports [left, right) as a duplicate in its first SACK block. */
static void report_dsack(struct sk_tcp *c, uint32_t left, uint32_t right)
{
    if (!(c->flags & TF_SACK) || c->x == NULL)
        return; /* not yet synchronized: no SACK block goes out before x either */
    c->x->dsack_left = left;
    c->x->dsack_right = right;
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
    for (uint8_t i = 0; i < c->x->sack_hist_n && k < SK_TCP_MAX_SACK; i++)
        if (!(seq_le(left, c->x->sack_hist[i]) && seq_lt(c->x->sack_hist[i], right)))
            keep[k++] = c->x->sack_hist[i];
    memcpy(c->x->sack_hist, keep, k * sizeof(keep[0]));
    c->x->sack_hist_n = k;
}

/* Writes in-window text into the receive ring and advances RCV.NXT over what is contiguous.
 * Returns false if the segment could not be kept. */
static bool receive_text(struct sk_tcp *c, const struct seg *s)
{
    uint32_t off = c->rcv.len + (s->seq - c->rcv_nxt);
    uint32_t len = s->len;
    if (off >= c->rcv.size) /* the ring grew to off + len before (sk_tcb_rcv_ring) */
        return false;
    if (len > c->rcv.size - off)
        len = c->rcv.size - off;
    /* RFC 2883 §4: the part of this segment already held out of order arrived twice. */
    struct sk_range dup;
    if (c->x->dsack_left == c->x->dsack_right &&
        sk_ranges_first_overlap(&c->x->ooo, s->seq, s->seq + len, &dup))
        report_dsack(c, dup.left, dup.right);
    if (s->seq != c->rcv_nxt) {
        /* Out of order: remember the range, merged with its neighbours. */
        struct sk_range merged;
        if (sk_tcb_ranges_need(c, &c->x->ooo) != 0 ||
            sk_ranges_add(&c->x->ooo, s->seq, s->seq + len, &merged) < 0)
            return false;
        sack_note_recent(c, merged.left, merged.right);
        sk_ring_write_at(&c->rcv, off, s->data, len);
        return true;
    }
    sk_ring_write_at(&c->rcv, off, s->data, len);
    /* The new data and the out-of-order ranges it reaches are now in order. */
    uint32_t nxt = sk_ranges_pull(&c->x->ooo, c->rcv_nxt + len);
    if (c->x->ooo.n == 0)
        sk_tcb_ranges_release(c, &c->x->ooo); /* reassembly complete */
    uint32_t more = nxt - c->rcv_nxt;
    c->rcv.len += more;
    c->rcv_nxt = nxt;
    c->x->bytes_received += more;
    return true;
}

/* The peer's FIN is accepted when RCV.NXT reaches it (RFC 9293 §3.10.7.4 eighth). */
static void accept_fin(struct sk_tcp *c)
{
    c->rcv_nxt++;
    c->flags |= TF_FIN_RCVD | TF_ACK_NOW;
    c->flags &= ~TF_OOO_FIN;
    sk_tcb_rings_check(c); /* nothing more will arrive */
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

/* ---- §3.10.7.4: SYN-RECEIVED and the synchronized states, one function per step ----
 *
 * Each step returns false when it is done with the segment (dropped, answered, or the
 * connection ended); sync_input below calls them in the RFC's order. */

/* RCV.WND: the window offered, or the free buffer if that is larger (a 16-bit field without
 * scaling cannot offer all of a buffer over 64 KiB, but the room is there). */
static uint32_t rcv_wnd(const struct sk_tcp *c)
{
    uint32_t used = c->rcv.buf ? c->rcv.len : 0;
    uint32_t space = c->rcvbuf_size > used ? c->rcvbuf_size - used : 0;
    uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    return max_u32(wnd, space);
}

/* SEG.LEN: the payload and the SYN and FIN, which count in sequence space. */
static uint32_t seg_len(const struct seg *s)
{
    return s->len + (s->syn ? 1 : 0) + (s->fin ? 1 : 0);
}

/* RFC 5961 §7 on one connection (sk_config.invalid_ack_ratelimit_us, Linux's
 * tcp_invalid_ratelimit): at most one ACK per interval in answer to unacceptable segments. */
static bool invalid_ack_allowed(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    if (st->cfg.invalid_ack_ratelimit_us == 0)
        return true;
    uint32_t now_ms = (uint32_t)(st->now / 1000);
    uint64_t interval_ms = (st->cfg.invalid_ack_ratelimit_us + 999) / 1000;
    if (c->invalid_ack_ms != 0 && (uint32_t)(now_ms - c->invalid_ack_ms) < interval_ms) {
        st->ctr.tcp_invalid_acks_limited++;
        return false;
    }
    c->invalid_ack_ms = now_ms ? now_ms : 1;
    return true;
}

/* A copy of what we already hold, as a real sender retransmits it: it ends at or before
 * RCV.NXT and starts no further back than any window we could have offered (the receive
 * ring). A blind guess lands there once in 2^32 / (ring size), 65,000 tries for 64 KiB. */
static bool recent_duplicate(const struct sk_tcp *c, const struct seg *s)
{
    uint32_t len = seg_len(s);
    return len > 0 && seq_le(s->seq + len, c->rcv_nxt) &&
           c->rcv_nxt - s->seq <= sk_rcv_ring_bytes(c, c->rcvbuf_size);
}

/* RFC 9293 §3.10.7.4 first check (and RFC 7323 §5.3 R1): an unacceptable segment is answered
 * with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, within the connection's limit (§7), so that
 * neither an ACK loop nor a blind attacker can make us send one per segment: each of those
 * ACKs reaches the real peer as a duplicate ACK, and a stream of them collapses its congestion
 * window. Not limited: a recent duplicate, whose sender needs the answer (its D-SACK). */
static void invalid_ack(struct sk_tcp *c, const struct seg *s)
{
    if (!recent_duplicate(c, s) && !invalid_ack_allowed(c))
        return;
    c->st->ctr.tcp_invalid_acks++;
    sk_tcp_send_ack(c);
}

/* RFC 5961 §7 for the whole stack (sk_config.challenge_ack_limit). Each second's budget
 * L/2 + random(L) is drawn when the second starts, as Linux does since CVE-2016-5696: with a
 * fixed budget shared by all connections, an off-path attacker counted the challenge ACKs his
 * own connection got for a burst of RSTs and learnt whether his guesses at someone else's
 * connection had spent some. */
bool sk_tcp_challenge_budget(struct sk_stack *st)
{
    uint32_t limit = st->cfg.challenge_ack_limit;
    if (limit == 0)
        return true;
    if (st->now >= st->challenge_end) {
        uint64_t budget = (uint64_t)limit / 2 + limit % 2 + sk_random(st) % limit;
        st->challenge_end = st->now + 1000000;
        st->challenge_left = budget > UINT32_MAX ? UINT32_MAX : (uint32_t)budget;
    }
    if (st->challenge_left == 0) {
        st->ctr.tcp_challenge_acks_limited++;
        return false;
    }
    st->challenge_left--;
    return true;
}

/* RFC 5961 §3.2, §4.2, §5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, within the connection's
 * limit first (as Linux: a challenge ACK is an answer to an unacceptable segment too), then
 * the stack's (§7). */
static void challenge_ack(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    if (!invalid_ack_allowed(c))
        return;
    if (!sk_tcp_challenge_budget(st))
        return;
    st->ctr.tcp_challenge_acks++;
    /* Exactly this ACK, never one repeating our FIN (sk_config.ack_repeats_fin). */
    sk_tcp_send_ctl_why(c, c->snd_max, c->rcv_nxt, SK_TCP_ACK, SK_SEG_WHY_CHALLENGE_ACK);
}

/* The first check's answer to a segment that is not acceptable. */
static void unacceptable(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    drop(st, c, s, SK_DROP_TCP_SEQ);
    /* RFC 5961 §3.2: a RST outside the window is dropped without a word. */
    if (s->h->flags & SK_TCP_RST)
        return;
    if (c->state == SK_TCP_SYN_RECEIVED && !(c->flags & TF_SYN_ACKED)) {
        /* Our acknowledgment in SYN-RECEIVED is the SYN,ACK itself. It spends a retry:
         * restarting the timer for free on each such segment let anyone who sends them hold
         * the half-open TCB for ever. */
        sk_tcp_resend_synack(c);
        return;
    }
    /* RFC 2883: tell the sender this data arrived twice, if it can be the sender's: a D-SACK
     * for any range a forged segment names would feed the peer's undo and reordering
     * detection with lies (and its ACK would go out past the limit below). */
    if (s->len > 0 && seq_le(s->seq + s->len, c->rcv_nxt) && recent_duplicate(c, s))
        report_dsack(c, s->seq, s->seq + s->len);
    invalid_ack(c, s);
}

/* The first check's trimming: what lies before RCV.NXT (a SYN there, in SYN-RECEIVED, is an
 * old one) and beyond the window goes, so the rest is "the idealized segment that begins at
 * RCV.NXT and does not exceed the window". */
static void trim_to_window(struct sk_tcp *c, struct seg *s, uint32_t wnd)
{
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
        sk_drop(c->st, SK_DROP_TCP_RCV_WINDOW, c, NULL, 0);
        /* RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.17: answer with our window, which is also how
         * a zero-window probe learns that the window is still shut. */
        c->flags |= TF_ACK_NOW;
    }
}

/* First: the sequence number (RFC 9293 §3.10.7.4, RFC 7323 §5.3 PAWS). An acceptable segment
 * is trimmed to the window, except a RST or a SYN of a synchronized state: RFC 5961 judges
 * those on their own SEG.SEQ (second and fourth checks), and neither gets past those. */
static bool check_sequence_number(struct sk_tcp *c, struct seg *s)
{
    struct sk_stack *st = c->st;
    const struct sk_tcp_hdr *h = s->h;
    bool rst = (h->flags & SK_TCP_RST) != 0;

    /* RFC 9293 Figure 7 (simultaneous open): in SYN-RECEIVED (or FIN-WAIT-1 after a CLOSE
     * there) the peer's SYN,ACK repeats the SYN we already hold (SEG.SEQ = IRS); only its ACK
     * is new. Take the old SYN off it; as a duplicate it is acknowledged (syn_received_ack),
     * as FreeBSD's and Linux's do. */
    if (!(c->flags & TF_PASSIVE) && !(c->flags & TF_SYN_ACKED) && s->syn && !rst &&
        (h->flags & SK_TCP_ACK) && s->seq == c->irs) {
        s->syn = false;
        s->seq++;
        s->old_syn = true;
    }

    /* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK "irrespective of the
     * sequence number" (fourth check); neither its number nor its timestamp is judged here,
     * and nothing of it is trimmed into data. */
    if (s->syn && !rst && c->state != SK_TCP_SYN_RECEIVED)
        return true;

    /* RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate, unless
     * TS.Recent itself is stale (§5.5). */
    if ((c->flags & TF_TS) && (h->opts.present & SK_OPT_TIMESTAMP) && !rst &&
        ts_recent_valid(c) && seq_lt(h->opts.ts_val, c->ts_recent)) {
        drop(st, c, s, SK_DROP_TCP_PAWS);
        invalid_ack(c, s);
        return false;
    }

    /* A zero window still lets ACK and RST through when SEG.SEQ = RCV.NXT ("special
     * allowance"). A segment from one byte before RCV.NXT without data is taken for its ACK
     * (acceptable()) but still answered with our window, as RFC 9293 answers an unacceptable
     * one: it is also how Linux probes a zero window. Not when it acknowledges new data: that
     * is the ACK of a peer we are probing, and answering it would only start an exchange of
     * ACKs. */
    uint32_t wnd = rcv_wnd(c);
    if (seg_len(s) == 0 && !rst && s->seq == c->rcv_nxt - 1 && !seq_gt(h->ack, c->snd_una))
        c->flags |= TF_ACK_NOW;
    if (!acceptable(c, s->seq, seg_len(s), wnd, rst)) {
        if (wnd != 0 || s->seq != c->rcv_nxt) {
            unacceptable(c, s);
            return false;
        }
        s->text_blocked = true; /* its ACK and flags count, its text finds no room */
    }
    /* RFC 5961 §3.2: a RST is judged on SEG.SEQ as it came (second check): trimmed, one
     * that straddles RCV.NXT would look exact. */
    if (rst)
        return true;
    trim_to_window(c, s, wnd);
    return true;
}

/* Second: RST (RFC 5961 §3.2: only SEG.SEQ = RCV.NXT exactly resets; anywhere else in the
 * window, a challenge ACK). */
static bool check_rst(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    if (!(s->h->flags & SK_TCP_RST))
        return true;
    if (s->seq != c->rcv_nxt) {
        drop(st, c, s, SK_DROP_TCP_RST_INVALID);
        challenge_ack(c);
        return false;
    }
    switch (c->state) {
    case SK_TCP_SYN_RECEIVED:
        /* Passive: back to LISTEN, i.e. the half-open child goes. Active: refused. A Fast
         * Open child is the application's already (RFC 7413 §4.2.2: acceptable, its data
         * taken): it is reset, as Linux reports it. */
        sk_tcp_terminate(c, (c->fo & FO_PASSIVE) ? -ECONNRESET
                            : (c->flags & TF_PASSIVE) ? 0 : -ECONNREFUSED);
        break;
    case SK_TCP_ESTABLISHED:
    case SK_TCP_FIN_WAIT_1:
    case SK_TCP_FIN_WAIT_2:
        sk_tcp_terminate(c, -ECONNRESET);
        break;
    case SK_TCP_CLOSE_WAIT:
        /* The peer already ended its stream: what fails is our sending side. EPIPE, as
         * Linux's tcp_reset (net/ipv4/tcp_input.c) reports in CLOSE_WAIT. */
        sk_tcp_terminate(c, -EPIPE);
        break;
    default: /* CLOSING, LAST-ACK */
        sk_tcp_terminate(c, 0);
        break;
    }
    return false;
}

/* Fourth: SYN. In a passive SYN-RECEIVED, back to LISTEN; in the synchronized states RFC
 * 5961 §4.2's challenge ACK, whatever SEG.SEQ (the first check let every SYN through). */
static bool check_syn(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    if (!s->syn)
        return true;
    drop(st, c, s, SK_DROP_TCP_SYN_INVALID);
    if (c->state == SK_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE)) {
        sk_tcp_terminate(c, 0); /* RFC 9293: return to LISTEN */
        return false;
    }
    /* sk_config.rfc793_syn: RFC 793's reset, for a SYN whose SEG.SEQ lies in the window
     * (FreeBSD's insecure_syn tests the same; RCV.NXT itself counts when the window is 0). */
    uint32_t off = s->seq - c->rcv_nxt;
    if (st->cfg.rfc793_syn && (off == 0 || off < rcv_wnd(c))) {
        sk_tcp_send_ctl_why(c, c->snd_max, c->rcv_nxt, SK_TCP_RST | SK_TCP_ACK,
                            SK_SEG_WHY_RST_SYN);
        sk_tcp_terminate(c, -ECONNRESET);
        return false;
    }
    challenge_ack(c);
    return false;
}

/* RFC 3168 §6.1.3: a CE mark is echoed with ECE on every ACK until the peer's CWR says it has
 * reacted. Noted for every segment that passed the checks above, with an ACK or not. */
static void note_ce(struct sk_tcp *c, const struct seg *s)
{
    if (!(c->flags & TF_ECN))
        return;
    if (s->h->flags & SK_TCP_CWR)
        c->flags &= ~TF_ECN_ECE;
    if (s->ce)
        c->flags |= TF_ECN_ECE | TF_ACK_NOW;
}

/* Fifth, in SYN-RECEIVED: an acceptable ACK (SND.UNA < SEG.ACK =< SND.NXT) completes the
 * handshake; an unacceptable one gets <SEQ=SEG.ACK><CTL=RST>. */
static bool syn_received_ack(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    const struct sk_tcp_hdr *h = s->h;
    if (!(seq_lt(c->snd_una, h->ack) && seq_le(h->ack, c->snd_max))) {
        drop(st, c, s, SK_DROP_TCP_ACK_INVALID);
        sk_tcp_send_ctl_why(c, h->ack, 0, SK_TCP_RST, SK_SEG_WHY_RST_BAD_ACK);
        return false;
    }
    if (c->listener && !(c->flags & TF_IN_ACCEPTQ) &&
        c->listener->lsn->accept_queued >= (uint32_t)c->listener->lsn->backlog) {
        /* No room to hand it over: stay half-open, the peer's next ACK may fit. */
        drop(st, c, s, SK_DROP_TCP_ACCEPT_FULL);
        return false;
    }
    if (sk_tcb_ext_attach(c) != 0) {
        /* No memory for the sender's state (struct sk_tcp_ext): stay half-open, counted;
         * the peer's next segment carries the ACK again. */
        drop(st, c, s, SK_DROP_TCP_NO_MEMORY);
        return false;
    }
    if (!(c->fo & FO_PASSIVE)) /* a Fast Open child's cwnd runs since its SYN-ACK */
        init_cwnd(c); /* no rings yet: they come with the first byte each way (sk_tcb_snd_ring) */
    c->snd_wnd = (uint32_t)h->wnd << c->snd_wscale;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = s->seq;
    c->snd_wl2 = h->ack;
    sk_tcp_set_state(c, SK_TCP_ESTABLISHED);
    sk_tcp_child_established(c);
    if (s->old_syn) {
        /* RFC 9293 §3.10.7.4: a duplicate is acknowledged; RFC 2883 §4: reported as a D-SACK
         * (its SYN's sequence number) where SACK was agreed. */
        c->flags |= TF_ACK_NOW;
        report_dsack(c, c->irs, c->irs + 1);
    }
    return true;
}

/* Fifth, the send window: only a segment newer than the last one that updated it updates it
 * (SND.WL1, SND.WL2). It comes before the acknowledgment is acted on: that may send
 * (recovery), and new data must be measured against this segment's window from this
 * segment's ACK. The old window from the new SND.UNA reaches beyond the right edge the peer
 * offers by all that was acknowledged. */
static void update_send_window(struct sk_tcp *c, const struct seg *s)
{
    const struct sk_tcp_hdr *h = s->h;
    uint32_t old_wnd = c->snd_wnd;
    if (!(seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_le(c->snd_wl2, h->ack))))
        return;
    c->snd_wnd = (uint32_t)h->wnd << c->snd_wscale;
    c->max_snd_wnd = max_u32(c->max_snd_wnd, c->snd_wnd);
    c->snd_wl1 = s->seq;
    c->snd_wl2 = h->ack;
    if (c->snd_wnd > 0 && old_wnd == 0) {
        /* The window opened: stop probing and send from SND.UNA again, the probe byte
         * included if the peer did not keep it. */
        sk_tcp_timer_stop(c, SK_TIMER_PERSIST);
        c->persist_shift = 0;
        c->flags &= ~TF_PROBING;
        c->snd_nxt = c->snd_una;
    }
}

/* Fifth, what the acknowledgment of our FIN does in each closing state. */
static bool fin_acked_transition(struct sk_tcp *c, const struct seg *s)
{
    switch (c->state) {
    case SK_TCP_FIN_WAIT_1:
        /* A FIN+ACK goes straight to TIME-WAIT when its FIN is taken below (eighth). */
        if (s->fin && !s->text_blocked && s->seq == c->rcv_nxt)
            break;
        sk_tcp_set_state(c, SK_TCP_FIN_WAIT_2);
        if (!(c->flags & TF_USER))
            sk_tcp_timer_set(c, SK_TIMER_TIME_WAIT, sk_tcp_fin_wait2_us(c));
        break;
    case SK_TCP_CLOSING:
        enter_time_wait(c);
        break;
    case SK_TCP_LAST_ACK:
        sk_tcp_terminate(c, 0);
        return false;
    default:
        break;
    }
    return true;
}

/* Fifth: ACK. SYN-RECEIVED's own check, RFC 5961 §5.2's range, the send window, the
 * acknowledgment itself (tcp_recovery.c), TS.Recent, then each state's own processing. */
static bool check_ack(struct sk_tcp *c, const struct seg *s)
{
    struct sk_stack *st = c->st;
    const struct sk_tcp_hdr *h = s->h;
    if (!(h->flags & SK_TCP_ACK)) {
        drop(st, c, s, SK_DROP_TCP_NO_ACK);
        return false;
    }
    if (c->state == SK_TCP_SYN_RECEIVED && !syn_received_ack(c, s))
        return false;
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
    if (seq_gt(h->ack, c->snd_max) || seq_lt(h->ack, c->snd_una - c->max_snd_wnd)) {
        drop(st, c, s, SK_DROP_TCP_ACK_INVALID);
        /* sk_config.ack_unsent_silent: Linux's tcp_ack drops an ACK of unsent data quietly. */
        if (!(st->cfg.ack_unsent_silent && seq_gt(h->ack, c->snd_max)))
            challenge_ack(c);
        return false;
    }
    bool fin_was_acked = fin_acked(c);
    bool wnd_same = ((uint32_t)h->wnd << c->snd_wscale) == c->snd_wnd;
    update_send_window(c, s);
    /* What the ACK sends again is loss recovery (sk_tcp_ack_process: RFC 5681, 6582, 6675). */
    enum sk_seg_why cause = sk_tcp_cause(st, SK_SEG_WHY_RECOVERY);
    sk_plpmtu_on_ack(c, h); /* a path MTU probe answered (RFC 4821 §7.6.1) */
    sk_tcp_ack_process(c, h, s->len == 0 && !s->fin, wnd_same);
    st->seg_cause = cause;
    ts_recent_update(c, s);
    if (!fin_was_acked && fin_acked(c))
        return fin_acked_transition(c, s);
    return true;
}

/* How many of the peer's segments this one stands for: a link that coalesces (GRO/LRO,
 * caps.rx_large) hands in several MSS of data as one, and RFC 5681 §4.2's "ACK at least every
 * second full-sized segment" counts the segments the peer sent, ceil(len / payload per
 * segment), where the peer's payload per segment is our announced MSS less the options it
 * repeats on each (RFC 6691). */
static uint32_t segments_in(const struct sk_tcp *c, const struct seg *s)
{
    uint32_t opts = (uint32_t)s->h->hdr_len - SK_TCP_HLEN;
    uint32_t per = c->rcv_mss > opts + 1 ? c->rcv_mss - opts : 1;
    return s->len <= per ? 1 : (s->len + per - 1) / per;
}

/* Seventh: segment text, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 only; after the peer's
 * FIN nothing more can be text. */
static bool process_text(struct sk_tcp *c, struct seg *s)
{
    struct sk_stack *st = c->st;
    if (s->len == 0)
        return true;
    if (c->state != SK_TCP_ESTABLISHED && c->state != SK_TCP_FIN_WAIT_1 &&
        c->state != SK_TCP_FIN_WAIT_2) {
        s->len = 0;
        return true;
    }
    if ((c->flags & TF_RCV_SHUT) &&
        (c->state == SK_TCP_FIN_WAIT_1 || c->state == SK_TCP_FIN_WAIT_2)) {
        /* Nobody will read it (RFC 2525 §2.17, as Linux and FreeBSD): reset. Linux's
         * tcp_rcv_state_process tests this in FIN-WAIT-1/2 only, after close or after
         * shutdown of both sides; with only reading shut, data is still queued. The RST
         * takes its sequence number from SEG.ACK (as FreeBSD's tcp_dropwithreset and Linux's
         * tcp_v4_send_reset answer the segment): that is the peer's RCV.NXT exactly, which
         * RFC 5961 §3.2 requires before a RST resets; SND.MAX, past a FIN the peer has not
         * acknowledged, would only draw a challenge ACK. */
        drop(st, c, s, SK_DROP_TCP_AFTER_CLOSE);
        sk_tcp_send_ctl_why(c, s->h->ack, 0, SK_TCP_RST, SK_SEG_WHY_RST_AFTER_CLOSE);
        sk_tcp_terminate(c, -ECONNRESET);
        return false;
    }
    bool filled_hole = c->x->ooo.n > 0;
    /* Text that finds no memory for the receive ring is dropped, counted and not
     * acknowledged: the ACK repeats RCV.NXT and the peer sends it again later. */
    if (s->text_blocked || sk_tcb_rcv_ring(c, c->rcv.len + (s->seq - c->rcv_nxt) + s->len) != 0) {
        drop(st, c, s, s->text_blocked ? SK_DROP_TCP_RCV_WINDOW : SK_DROP_TCP_NO_MEMORY);
        c->flags |= TF_ACK_NOW;
    } else if (!receive_text(c, s)) {
        drop(st, c, s, SK_DROP_TCP_OUT_OF_ORDER);
        c->flags |= TF_ACK_NOW;
    } else if (s->seq != c->rcv_nxt - s->len || filled_hole) {
        /* RFC 5681 §4.2: ACK out-of-order data and hole fills at once. */
        c->flags |= TF_ACK_NOW;
    } else {
        sk_tcp_ack_in_order(c, s->len, segments_in(c, s));
    }
    return true;
}

/* Eighth: FIN, taken when RCV.NXT reaches it (a FIN that came early waits as ooo_fin_seq). */
static void check_fin(struct sk_tcp *c, const struct seg *s)
{
    if ((c->flags & TF_OOO_FIN) && c->ooo_fin_seq == c->rcv_nxt &&
        (c->x == NULL || c->x->ooo.n == 0))
        accept_fin(c);
    if (!s->fin || s->text_blocked)
        return;
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

/* ---- Header prediction (Van Jacobson's, as in BSD's tcp_input and Linux's
 * tcp_rcv_established) ----
 *
 * In ESTABLISHED nearly every segment is one of two kinds: a bare ACK of new data (the
 * sender's side of a bulk transfer) or the next in-order data acknowledging nothing new (the
 * receiver's side). For those, the eight steps below come down to a few assignments. Each
 * condition in predicted() is one under which §3.10.7.4 would take exactly these steps and no
 * other: the first check accepts (SEG.SEQ = RCV.NXT, the segment fits the window, PAWS
 * passes), no RST, SYN, URG, FIN or ECN signal, no loss recovery, SACK scoreboard, tail
 * loss probe or lost-retransmission watch (sk_tcp_ack_process would find nothing to do
 * there), no out-of-order data or FIN held, and no FIN queued (its acknowledgment changes
 * state). Anything else takes
 * the full path. Unlike BSD's and Linux's prediction, a new window does not stop it: both
 * paths hand the segment to update_send_window, and a window field that differs only decides
 * duplicate ACKs, which neither kind can be; this receiver's own windows shrink with every
 * segment until the application reads (the right edge stays put, RFC 9293 §3.8.6.2.2), so
 * requiring the same window would leave most ACKs of a bulk transfer on the full path.
 * sk_config.tcp_fast_path turns this off; tests/scenario/test_fastpath.c runs the same seeded
 * simulations both ways and compares every frame on the wire. */

static bool predicted(const struct sk_tcp *c, const struct seg *s)
{
    const struct sk_tcp_hdr *h = s->h;
    if (c->state != SK_TCP_ESTABLISHED || !c->st->cfg.tcp_fast_path)
        return false;
    /* ACK, perhaps PSH; no CE mark (RFC 3168 §6.1.3 needs note_ce). */
    if ((h->flags & ~SK_TCP_PSH) != SK_TCP_ACK || s->ce || s->seq != c->rcv_nxt)
        return false;
    /* Options: only the timestamp, where agreed, and not older than TS.Recent (RFC 7323 §5.3
     * PAWS passes whatever TS.Recent's age). */
    if (c->flags & TF_TS) {
        if (h->opts.present != SK_OPT_TIMESTAMP || seq_lt(h->opts.ts_val, c->ts_recent))
            return false;
    } else if (h->opts.present != 0) {
        return false;
    }
    if (c->flags & (TF_RECOVERY | TF_FIN_QUEUED | TF_OOO_FIN | TF_FIN_RCVD))
        return false;
    /* ESTABLISHED: c->x is there (sk_tcb_ext_attach). */
    /* Duplicate ACKs before this one: their count decides what it delivered
     * (sk_config.grow_by_delivered). */
    if (c->x->sb.n != 0 || c->x->ooo.n != 0 || c->x->tlp_out || c->x->rxt_watch || c->x->dupacks != 0)
        return false;
    /* (1) A pure ACK of new data, within what was sent; or one that acknowledges all that was
     * sent already (a window update: with nothing outstanding it cannot be a duplicate). */
    if (s->len == 0)
        return (seq_gt(h->ack, c->snd_una) && seq_le(h->ack, c->snd_max)) ||
               (h->ack == c->snd_una && c->snd_una == c->snd_max);
    /* (2) in-order data acknowledging nothing new, all of it room in the window and ring. */
    return h->ack == c->snd_una && c->rcv.buf != NULL && s->len <= rcv_wnd(c) &&
           s->len <= sk_ring_free_space(&c->rcv);
}

/* (2): process_text's in-order case, with its delayed ACK (tcp_quickack.c). */
static void fast_text(struct sk_tcp *c, const struct seg *s)
{
    sk_ring_write_at(&c->rcv, c->rcv.len, s->data, s->len);
    c->rcv.len += s->len;
    c->rcv_nxt += s->len;
    c->x->bytes_received += s->len;
    sk_tcp_ack_in_order(c, s->len, segments_in(c, s));
}

/* Returns false when the segment needs the full path (nothing was changed then). */
static bool fast_path(struct sk_tcp *c, const struct seg *s)
{
    if (!predicted(c, s))
        return false;
    update_send_window(c, s);
    sk_plpmtu_on_ack(c, s->h);
    if (seq_gt(s->h->ack, c->snd_una))
        sk_tcp_ack_fast(c, s->h);
    else
        c->x->cwnd_limited = false; /* all sk_tcp_ack_process does for an ACK of nothing new */
    if (s->len == 0)
        c->st->ctr.tcp_fastpath_acks++;
    else
        c->st->ctr.tcp_fastpath_data++;
    ts_recent_update(c, s);
    if (s->len > 0)
        fast_text(c, s);
    return true;
}

/* RFC 9293 §3.10.7.4, "Otherwise" (SYN-RECEIVED and every synchronized state): the eight
 * steps in the RFC's order. */
static void sync_input(struct sk_tcp *c, struct seg *s)
{
    if (!check_sequence_number(c, s)) /* first */
        return;
    if (!check_rst(c, s))             /* second */
        return;
    /* Third: security. The IP security compartment (RFC 791's option 130, RFC 1108) is not
     * used by this stack: there is nothing to compare, so nothing to check. */
    if (!check_syn(c, s))             /* fourth */
        return;
    note_ce(c, s);                    /* RFC 3168 §6.1.3, before the ACK bit is judged */
    if (!check_ack(c, s))             /* fifth */
        return;
    /* Sixth: URG. The urgent pointer is not acted on; urgent bytes arrive inline (as with
     * SO_OOBINLINE), which RFC 6093 §4 recommends for new applications. */
    if (!process_text(c, s))          /* seventh */
        return;
    check_fin(c, s);                  /* eighth */
}

void sk_tcp_input(struct sk_stack *st, const struct sk_ipv4_hdr *ip4, const uint8_t *frame,
                  size_t frame_len)
{
    struct sk_l3 ip = {.src = sk_addr_from_v4(ip4->src), .dst = sk_addr_from_v4(ip4->dst),
                       .ecn = ip4->tos & SK_IP_ECN_MASK, .payload = ip4->payload,
                       .payload_len = ip4->payload_len};
    sk_tcp_input_l3(st, &ip, frame, frame_len);
}

/* Parses the segment in ip, checking its checksum over the pseudo-header of its family (RFC
 * 9293 §3.1, RFC 8200 §8.1) unless the link vouched for this very frame (rx_flags). */
static int parse_segment(struct sk_stack *st, const struct sk_l3 *ip, struct sk_tcp_hdr *h)
{
    bool verify = !sk_rx_csum_trusted(st);
    if (!ip->v6)
        return sk_tcp_parse(ip->payload, ip->payload_len, sk_addr_v4(&ip->src),
                            sk_addr_v4(&ip->dst), verify, h);
    return sk_tcp_parse6(ip->payload, ip->payload_len, &ip->src, &ip->dst, verify, h);
}

void sk_tcp_input_l3(struct sk_stack *st, const struct sk_l3 *ip, const uint8_t *frame,
                     size_t frame_len)
{
    struct sk_tcp_hdr h;
    int r = parse_segment(st, ip, &h);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return;
    }
    st->ctr.tcp_segs_in++;
    struct seg s = {.h = &h, .seq = h.seq, .data = h.payload, .len = (uint32_t)h.payload_len,
                    .syn = (h.flags & SK_TCP_SYN) != 0, .fin = (h.flags & SK_TCP_FIN) != 0,
                    .ce = ip->ecn == SK_IP_CE,
                    .frame = frame, .frame_len = frame_len};
    struct sk_tcp *c = sk_tcb_lookup(st, &ip->dst, h.dport, &ip->src, h.sport);
    /* TIME-WAIT lives in a record (tcp_timewait.c), even while the application holds its TCB.
     * It takes the segment, unless a SYN reopens the 4-tuple for the listener (RFC 6191). */
    if (c == NULL || c->state == SK_TCP_TIME_WAIT) {
        if (sk_tw_input(st, ip, &h, frame, frame_len))
            return;
        c = NULL;
    }
    struct sk_tcp *l = c ? NULL : sk_listener_lookup(st, h.dport, ip->v6, &ip->dst);
    sk_tcp_trace_seg(st, SK_TRACE_SEG_IN, c ? c : l, &ip->src, &ip->dst, &h, frame, frame_len);
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
    /* The peer answers our zero-window probes: it is alive. The user timeout keeps running
     * from the first probe until the window opens (Linux's tcp_probe_timer). */
    c->probes_out = 0;
    if (c->state == SK_TCP_SYN_SENT)
        syn_sent_input(c, &s);
    else if (!fast_path(c, &s))
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
