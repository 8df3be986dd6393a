/* What an acknowledgment means for the sender: SND.UNA advancing (RFC 9293 §3.10.7.4 fifth),
 * RTT samples (RFC 6298, RFC 7323 §4), the SACK scoreboard (RFC 2018), loss detection and
 * recovery — RACK (RFC 8985 §6, tcp_rack.c) by default on connections with SACK, or RFC 6675's
 * DupThresh (sk_config.loss_detection); NewReno per RFC 6582 for peers without SACK, with early
 * retransmit (RFC 5827) for short flights; the tail loss probe of RFC 8985 §7 — cwnd during
 * SACK recovery by Proportional Rate Reduction (RFC 6937, sk_config.prr) or RFC 6675 §5, and
 * the congestion-control hooks (tcp_cc.h).
 */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"
#include "tcp/tcp_ranges.h"

#define DUP_THRESH 3 /* RFC 5681 §3.2, RFC 6675 §2 DupThresh */

/* ---- Scoreboard: SACKed ranges within [SND.UNA, SND.MAX), sorted and disjoint
 * (tcp_ranges.h). ---- */

static uint32_t sacked_in(const struct sk_tcp *c, uint32_t from, uint32_t to)
{
    return sk_ranges_covered(&c->x->sb, from, to);
}

/* Adds [left, right); returns true if it covered bytes not SACKed before. When the scoreboard
 * is full a block that needs a new entry is forgotten (counted): the cumulative ACK or a later
 * block that merges will cover it, and until then the bytes only look unSACKed, which at worst
 * sends them again. */
static bool sb_add(struct sk_tcp *c, uint32_t left, uint32_t right)
{
    int r = sk_tcb_ranges_need(c, &c->x->sb) == 0 ? sk_ranges_add(&c->x->sb, left, right, NULL)
                                                : -ENOSPC; /* no memory: not taken either */
    if (r == -ENOSPC)
        c->st->ctr.tcp_sack_sb_full++;
    return r > 0;
}

/* Drops what SND.UNA has passed. A SACKed range that reaches SND.UNA means the receiver
 * reneged: had it kept those bytes, its cumulative ACK would have covered them (RFC 2018 §8
 * allows it to discard SACKed data). The whole scoreboard is then suspect and is forgotten, so
 * that the data is sent again instead of being skipped as delivered for ever. */
static void sb_trim(struct sk_tcp *c)
{
    struct sk_ranges *sb = &c->x->sb;
    sk_ranges_remove_below(sb, c->snd_una);
    if (sb->n > 0 && seq_le(sb->r[0].left, c->snd_una)) {
        c->st->ctr.tcp_sack_reneging++;
        sk_ranges_clear(sb);
        sk_rack_renege(c);
    }
    if (sb->n == 0)
        sk_tcb_ranges_release(c, sb); /* every SACKed byte is cumulatively acknowledged */
}

/* RFC 2018 §4 / RFC 6675 §2: take the SACK blocks that lie within (SND.UNA, SND.MAX];
 * D-SACK blocks (RFC 2883) and nonsense are ignored. A block starting at the cumulative ACK
 * claims bytes that ACK should have covered: it is nonsense too, and taking it would let the
 * segment at SND.UNA be skipped as delivered. So no range of the scoreboard ever reaches
 * SND.UNA, except by a receiver reneging, which sb_trim catches. */
static bool sb_update(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    bool news = false;
    for (uint8_t i = 0; i < h->opts.nsack; i++) {
        uint32_t l = h->opts.sack[i].left, r = h->opts.sack[i].right;
        if (!seq_lt(l, r) || seq_le(l, c->snd_una) || seq_le(l, h->ack) || seq_gt(r, c->snd_max))
            continue;
        news |= sb_add(c, l, r);
    }
    return news;
}

/* RFC 6675 §4 IsLost: a byte is lost once more than (DupThresh - 1) * SMSS bytes, or DupThresh
 * discontiguous ranges, are SACKed above it. Everything unSACKed below the returned point is
 * lost. */
static uint32_t lost_below(const struct sk_tcp *c, uint32_t thresh)
{
    uint32_t bytes = 0;
    for (int i = c->x->sb.n - 1; i >= 0; i--) {
        bytes += c->x->sb.r[i].right - c->x->sb.r[i].left;
        if (bytes > (thresh - 1) * (uint32_t)c->snd_mss || (uint32_t)(c->x->sb.n - i) >= thresh)
            return c->x->sb.r[i].left;
    }
    return c->snd_una;
}

static uint32_t unsacked(const struct sk_tcp *c, uint32_t from, uint32_t to)
{
    if (!seq_lt(from, to))
        return 0;
    return (to - from) - sacked_in(c, from, to);
}

/* RFC 6675 §4 SetPipe: bytes thought to be in the network. */
uint32_t sk_tcp_pipe(const struct sk_tcp *c)
{
    if (sk_rack_active(c))
        return sk_rack_pipe(c); /* RACK's marks in place of IsLost */
    uint32_t lost = lost_below(c, DUP_THRESH);
    uint32_t rxt_end = seq_min(seq_max(c->x->high_rxt, c->snd_una), lost);
    return unsacked(c, lost, c->snd_max) + unsacked(c, c->snd_una, rxt_end);
}

uint32_t sk_tcp_sack_skip(const struct sk_tcp *c, uint32_t seq)
{
    return sk_ranges_skip(&c->x->sb, seq);
}

/* RFC 6675 §4 NextSeg rule 1: the first lost, unSACKed byte above HighRxt. */
static bool next_lost(const struct sk_tcp *c, uint32_t *seq, uint32_t *len)
{
    if (sk_rack_active(c))
        return sk_rack_next_lost(c, seq, len);
    uint32_t lost = lost_below(c, DUP_THRESH);
    uint32_t s = seq_max(c->x->high_rxt, c->snd_una);
    uint32_t end;
    if (!sk_ranges_next_gap(&c->x->sb, s, lost, &s, &end))
        return false;
    *seq = s;
    *len = min_u32(end - s, c->snd_mss);
    return true;
}

/* Every retransmission (timeout, fast retransmit, probe) is counted, and is no RTT sample:
 * Karn's rule for the timed segment and for timestamp echoes older than it. */
void sk_tcp_count_retransmit(struct sk_tcp *c)
{
    c->st->ctr.tcp_retransmits++;
    c->total_retransmits++;
    c->flags &= ~TF_RTT_TIMING; /* Karn */
}

/* ---- Lost retransmissions ----
 * RFC 6675 repairs each hole once; a retransmission that is lost again is left to the RTO, which
 * at a 1 s minimum and with back-off costs more than everything else under heavy loss. The
 * time-ordering idea of RACK (RFC 8985 §6.2) applied to the oldest hole: when data sent after
 * its retransmission has been SACKed and more than 5/4 of an SRTT has passed since it went
 * out (a reordering allowance like RACK's reo_wnd), the retransmission is lost too. */

static void rxt_watch_begin(struct sk_tcp *c)
{
    c->x->rxt_watch = true;
    c->x->rxt_first = c->snd_una;
    c->x->rxt_fence = c->snd_max;
    c->x->rxt_start = c->st->now;
}

static bool rxt_lost(const struct sk_tcp *c)
{
    if (!(c->flags & TF_SACK) || c->snd_una != c->x->rxt_first || c->srtt_us == 0)
        return false;
    if (c->st->now - c->x->rxt_start < (uint64_t)c->srtt_us + c->srtt_us / 4)
        return false;
    return sacked_in(c, c->x->rxt_fence, c->snd_max) >= c->snd_mss;
}

/* On every ACK while repairing: a repaired oldest hole moves the watch to the next one; a lost
 * retransmission is sent again (in SACK recovery, every hole from SND.UNA on is due again). */
static void rxt_check(struct sk_tcp *c, bool new_ack)
{
    if (!c->x->rxt_watch)
        return;
    if (sk_rack_active(c)) {
        c->x->rxt_watch = false; /* RACK finds lost retransmissions by their own xmit_ts */
        return;
    }
    /* Only while repairing: in recovery, or after a timeout until SND.UNA passes the point
     * it was at (RFC 6582 §4's recover, set by the timeout too). */
    if (c->snd_una == c->snd_max ||
        (!(c->flags & TF_RECOVERY) && !seq_lt(c->snd_una, c->x->recover))) {
        c->x->rxt_watch = false;
        return;
    }
    if (new_ack && seq_gt(c->snd_una, c->x->rxt_first)) {
        rxt_watch_begin(c);
        return;
    }
    if (!rxt_lost(c))
        return;
    c->st->ctr.tcp_lost_retransmits++;
    if (c->flags & TF_RECOVERY) {
        c->x->high_rxt = c->snd_una;
    } else if (sk_tcp_send_at(c, c->snd_una, c->snd_mss)) {
        sk_tcp_count_retransmit(c);
    } else {
        return; /* refused by the link: the RTO tries again */
    }
    rxt_watch_begin(c);
}

static void enter_recovery_send(struct sk_tcp *c);
static void sack_recovery_send(struct sk_tcp *c);

void sk_tcp_send_due(struct sk_tcp *c)
{
    if ((c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK))
        sack_recovery_send(c);
    else
        sk_tcp_output(c);
}

/* RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send NextSeg. */
static void sack_recovery_send(struct sk_tcp *c)
{
    for (int guard = 0; guard < 1024; guard++) {
        uint32_t pipe = sk_tcp_pipe(c);
        if (c->cwnd < pipe + c->snd_mss)
            return;
        if (sk_tcp_pace_hold(c)) /* sk_config.pacing: Linux's tcp_xmit_retransmit_queue */
            return;
        uint32_t seq, len;
        if (next_lost(c, &seq, &len)) {
            uint32_t used = sk_tcp_send_rtx(c, seq, len, c->cwnd - pipe);
            if (used == 0)
                return;
            c->x->high_rxt = seq + used;
            sk_tcp_count_retransmit(c);
            continue;
        }
        /* Rule 2: new data, as far as cwnd - pipe and the peer's window allow. */
        sk_tcp_output(c);
        return;
    }
}

/* ---- Proportional Rate Reduction (RFC 6937 §3), PRR-SSRB ----
 * During SACK recovery cwnd follows the ACK clock down to ssthresh instead of dropping to it
 * at once: while pipe > ssthresh, sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) -
 * prr_out sends in proportion to what was delivered; once pipe <= ssthresh, the slow-start
 * reduction bound lets it rebuild towards ssthresh by at most one SMSS more than was
 * delivered. In bytes; sending goes in whole segments, so cwnd = pipe + sndcnt rounded up to
 * SMSS (with full-size segments, Linux's count in packets). */

static bool prr_on(const struct sk_tcp *c)
{
    return c->st->cfg.prr && (c->flags & TF_SACK);
}

static void prr_begin(struct sk_tcp *c, uint32_t flight, uint32_t cwnd_before)
{
    c->x->prr_delivered = 0;
    c->x->prr_out = 0;
    /* RecoverFS = snd.nxt - snd.una before recovery; Linux takes cwnd then (prior_cwnd). */
    c->x->recover_fs = max_u32(c->st->cfg.prr_linux ? cwnd_before : flight, 1);
}

/* One ACK (or the reordering timer) in recovery: `delivered` bytes newly acknowledged or
 * SACKed; safe: it acknowledged retransmitted data cumulatively and marked no new loss (only
 * prr_linux asks: Linux's FLAG_RETRANS_DATA_ACKED without FLAG_LOST_RETRANS). */
static void prr_on_ack(struct sk_tcp *c, uint32_t delivered, bool safe)
{
    struct sk_tcp_ext *x = c->x;
    x->prr_delivered += delivered;
    uint32_t pipe = sk_tcp_pipe(c);
    uint64_t sndcnt;
    if (pipe > c->ssthresh) {
        uint64_t want = ((uint64_t)x->prr_delivered * c->ssthresh + x->recover_fs - 1) /
                        x->recover_fs;
        sndcnt = want > x->prr_out ? want - x->prr_out : 0;
    } else {
        /* PRR-SSRB; Linux catches up only on an ACK of retransmitted data that finds no
         * retransmission lost, and otherwise sends what was delivered (PRR-CRB's pace). */
        uint64_t behind = x->prr_delivered > x->prr_out ? x->prr_delivered - x->prr_out : 0;
        uint64_t limit = (behind > delivered ? behind : delivered) + c->snd_mss;
        if (c->st->cfg.prr_linux && !safe)
            limit = delivered;
        sndcnt = c->ssthresh - pipe < limit ? c->ssthresh - pipe : limit;
    }
    /* The fast retransmit goes whatever the arithmetic says (Linux's tcp_cwnd_reduction:
     * "force a fast retransmit upon entering fast recovery"). */
    if (x->prr_out == 0 && sndcnt == 0)
        sndcnt = c->snd_mss;
    sndcnt = (sndcnt + c->snd_mss - 1) / c->snd_mss * c->snd_mss;
    c->cwnd = sk_cc_clamp(pipe + sndcnt);
}

void sk_tcp_on_send(struct sk_tcp *c, uint32_t seq, uint32_t used, bool psh)
{
    if (c->x == NULL)
        return;
    if (seq_gt(seq + used, c->snd_max))
        sk_tcp_timer_stop(c, SK_TIMER_TLP); /* §7.2: new data: the probe is rescheduled */
    sk_rack_on_send(c, seq, used, psh);
    if (c->flags & TF_RECOVERY)
        c->x->prr_out += used; /* RFC 6937 §3: on any data transmission or retransmission */
}

static void enter_recovery(struct sk_tcp *c, uint32_t flight, uint32_t delivered, bool safe)
{
    /* RFC 4821 §7.6.2: a lost path MTU probe is no sign of congestion. */
    if (sk_plpmtu_probe_lost(c))
        return;
    uint32_t cwnd_before = c->cwnd;
    /* The first retransmission is the fast retransmit; what follows it, recovery. */
    enum sk_seg_why cause = sk_tcp_cause(c->st, SK_SEG_WHY_FAST_RETRANSMIT);
    c->x->in_cwr = false; /* recovery's reduction takes over */
    c->flags |= TF_RECOVERY;
    c->x->recover = c->snd_max;
    c->x->high_rxt = c->snd_una;
    /* RFC 3168 §6.1.2: one reduction per window, whether for CE marks or for losses. */
    if (!seq_lt(c->snd_una, c->x->ecn_recover))
        c->cc->on_loss(c);
    if (prr_on(c)) {
        prr_begin(c, flight, cwnd_before);
        prr_on_ack(c, delivered, safe);
    }
    enter_recovery_send(c);
    c->st->seg_cause = cause;
}

static void enter_recovery_send(struct sk_tcp *c)
{
    if (c->flags & TF_SACK) {
        /* RFC 6675 §5 (4.2-4.3): cwnd = ssthresh (PRR: set above); the first lost segment
         * goes regardless. */
        if (!prr_on(c))
            c->cwnd = c->ssthresh;
        uint32_t seq = c->snd_una, len = c->snd_mss;
        if (!next_lost(c, &seq, &len)) {
            seq = c->snd_una;
            len = c->snd_mss;
        }
        uint32_t pipe = sk_tcp_pipe(c);
        uint32_t used = sk_tcp_send_rtx(c, seq, len, c->cwnd > pipe ? c->cwnd - pipe : 0);
        if (used == 0)
            return; /* the link refused it (sk_stack_output_refused): still lost, unsent */
        c->x->high_rxt = seq + used;
        sk_tcp_count_retransmit(c);
        rxt_watch_begin(c);
        c->st->seg_cause = SK_SEG_WHY_RECOVERY;
        sack_recovery_send(c);
        return;
    }
    /* RFC 6582 §3.2 step 2-3: retransmit, cwnd = ssthresh + 3*SMSS. */
    if (sk_tcp_send_at(c, c->snd_una, c->snd_mss))
        sk_tcp_count_retransmit(c);
    c->cwnd = sk_cc_clamp((uint64_t)c->ssthresh + DUP_THRESH * (uint32_t)c->snd_mss);
    c->st->seg_cause = SK_SEG_WHY_RECOVERY;
    sk_tcp_output(c);
}

/* RFC 5827 §3.1: with fewer than four segments outstanding and nothing new to send, fewer
 * duplicate ACKs (oseg - 1) are enough to call a loss. */
static uint32_t loss_threshold(const struct sk_tcp *c)
{
    uint32_t flight = c->snd_max - c->snd_una;
    uint32_t oseg = (flight + c->snd_mss - 1) / c->snd_mss;
    bool unsent = seq_lt(c->snd_max, c->sndbuf_seq + c->snd.len) && c->snd_wnd > flight;
    if (oseg >= 2 && oseg < 4 && !unsent)
        return oseg - 1;
    return DUP_THRESH;
}

/* RFC 5681 §3.2 step 4: each further duplicate ACK says a segment left the network, and cwnd
 * is inflated by SMSS so that a new one may take its place. A receiver can send any number of
 * them, though (Savage et al. 1999), and an inflated cwnd is a burst waiting for the
 * application's next write. The note after step 4 lets a sender inflate at most once per
 * segment outstanding: no honest receiver sends more duplicates since the last new ACK than
 * there are segments above SND.UNA to cause them. */
static void dupack_inflate(struct sk_tcp *c)
{
    uint32_t flight = c->snd_max - c->snd_una;
    uint32_t outstanding = (flight + c->snd_mss - 1) / c->snd_mss;
    if (c->x->dupacks > outstanding) {
        c->st->ctr.tcp_dupack_limited++;
        return;
    }
    c->cwnd = sk_cc_clamp((uint64_t)c->cwnd + c->snd_mss);
}

static uint32_t advance_una(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    uint32_t acked = 0; /* data bytes: SYN and FIN do not grow cwnd */
    if (seq_gt(h->ack, c->sndbuf_seq)) {
        acked = min_u32(h->ack - c->sndbuf_seq, c->snd.len);
        sk_ring_consume(&c->snd, acked);
        c->sndbuf_seq += acked;
        c->x->bytes_acked += acked;
        if (c->snd.len == 0)
            sk_tcb_rings_check(c);
    }
    /* Karn's rule, applied to echoes: when the segment at SND.UNA was sent again, an echo
     * older than that retransmission is ambiguous. The peer may be answering the duplicate of
     * a copy it already had, whose ACK was lost: an out-of-window duplicate does not update
     * TS.Recent (RFC 7323 §4.3), so the echo names the original and the sample would include
     * the whole RTO. Any other echo measures the copy that moved the peer's RCV.NXT, which is
     * what RFC 7323 §4.1 means to measure, retransmission or not; refusing those too (as an
     * echo older than *any* retransmission) left no sample at all under heavy loss, and the
     * backed-off RTO stayed at tens of seconds on a 20 ms path. */
    bool ambiguous = c->una_rtx && seq_lt(h->opts.ts_ecr, c->ts_una_rtx);
    c->una_rtx = false;
    uint32_t sent_rtt = 0;
    bool every = c->st->cfg.rtt_every_ack && sk_rack_ack_rtt(c, h->ack, &sent_rtt);
    c->snd_una = h->ack;
    c->flags |= TF_SYN_ACKED;
    /* The recovery points are compared with SND.UNA in sequence space, which only works within
     * 2^31 of it: a connection that has no loss for 2 GiB would find them "ahead" again and
     * never enter recovery. Once passed, they follow SND.UNA (the tests read the same). */
    if (!(c->flags & TF_RECOVERY) && seq_gt(c->snd_una, c->x->recover))
        c->x->recover = c->snd_una;
    if (seq_gt(c->snd_una, c->x->ecn_recover + 1))
        c->x->ecn_recover = c->snd_una - 1;
    if (seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;
    c->soft_error = 0; /* the path works: earlier ICMP soft errors are moot */
    sb_trim(c);
    /* RTT: with sk_config.rtt_every_ack from the send time of what this ACK covers (Linux's
     * tcp_clean_rtx_queue, which prefers it to the echo); else from the echoed timestamp
     * (RFC 7323 §4.1), else the one timed segment (Karn). */
    if (every) {
        if ((c->flags & TF_RTT_TIMING) && seq_gt(h->ack, c->rtt_seq))
            c->flags &= ~TF_RTT_TIMING;
        sk_tcp_rtt_sample(c, sent_rtt);
    } else if ((c->flags & TF_TS) && (h->opts.present & SK_OPT_TIMESTAMP) && h->opts.ts_ecr &&
               !ambiguous) {
        uint32_t ms = sk_tcp_ts_now(c) - h->opts.ts_ecr;
        if (ms < 3600000)
            sk_tcp_rtt_sample(c, ms * 1000 + 500);
    } else if ((c->flags & TF_RTT_TIMING) && seq_gt(h->ack, c->rtt_seq)) {
        c->flags &= ~TF_RTT_TIMING;
        sk_tcp_rtt_sample(c, (uint32_t)(c->st->now - c->rtt_start));
    }
    c->retries = 0;
    /* RFC 6298 §5.2-5.3: stop the timer when all is acknowledged, else restart it. */
    sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
    sk_tcp_timer_stop(c, SK_TIMER_USER_TIMEOUT);
    if (c->snd_una != c->snd_max) {
        sk_tcp_timer_set(c, SK_TIMER_RETRANSMIT, c->rto_us);
        if (c->user_timeout_us)
            sk_tcp_timer_set(c, SK_TIMER_USER_TIMEOUT, c->user_timeout_us);
    }
    return acked;
}

static void tlp_on_ack(struct sk_tcp *c, const struct sk_tcp_hdr *h);

/* RFC 2883 §4: the first SACK block reports a duplicate when it lies below the cumulative
 * ACK or inside the second block. */
static bool has_dsack(const struct sk_tcp_hdr *h)
{
    if (!(h->opts.present & SK_OPT_SACK) || h->opts.nsack == 0)
        return false;
    uint32_t l0 = h->opts.sack[0].left, r0 = h->opts.sack[0].right;
    return seq_lt(l0, h->ack) || (h->opts.nsack > 1 && seq_ge(l0, h->opts.sack[1].left) &&
                                  seq_le(r0, h->opts.sack[1].right));
}

/* Recovery (fast, or after a timeout) is over: everything up to its point is acknowledged. */
static void recovery_end(struct sk_tcp *c)
{
    if (c->flags & TF_RECOVERY) {
        c->flags &= ~TF_RECOVERY;
        if (prr_on(c)) {
            c->cwnd = c->ssthresh; /* RFC 6937 §3: PRR ends with cwnd = ssthresh */
        } else {
            /* RFC 6675 §5 / RFC 6582 §3.2 step 3: no burst beyond ssthresh. */
            uint32_t flight = c->snd_max - c->snd_una;
            c->cwnd = min_u32(c->ssthresh, max_u32(flight, c->snd_mss) + c->snd_mss);
        }
        c->cc->on_recovery_end(c);
    } else {
        c->x->in_loss = false;
    }
    sk_rack_recovery_end(c); /* RFC 8985 §6.2 step 4: reo_wnd_persist */
}

/* What this ACK may grow cwnd by: the bytes it acknowledged (RFC 5681 §3.1's N), or with
 * sk_config.grow_by_delivered what it delivered (RFC 6937 §3 DeliveredData, Linux's
 * acked_sacked): with SACK, `delivered`; without, each earlier duplicate ACK (dup_before)
 * already stood for a segment, and at least one is left to this ACK (tcp_remove_reno_sacks).
 * Nothing when SND.UNA did not move (tcp_may_raise_cwnd: FLAG_DATA_ACKED). */
static uint32_t growth(const struct sk_tcp *c, uint32_t acked, int64_t delivered, uint32_t dup_before)
{
    if (!c->st->cfg.grow_by_delivered)
        return acked;
    /* tcp_may_raise_cwnd: once the path has shown more reordering than tcp_reordering (3
     * segments) a SACK alone grows cwnd too (FLAG_FORWARD_PROGRESS), by what it delivered. */
    if (acked == 0)
        return (c->flags & TF_SACK) && c->x->reordering > DUP_THRESH ? (uint32_t)delivered : 0;
    if (c->flags & TF_SACK)
        return (uint32_t)delivered;
    uint64_t dup = (uint64_t)dup_before * c->snd_mss;
    return acked > dup ? acked - (uint32_t)dup : min_u32(acked, c->snd_mss);
}

void sk_tcp_ack_process(struct sk_tcp *c, const struct sk_tcp_hdr *h, bool pure, bool wnd_same)
{
    tlp_on_ack(c, h);
    uint32_t old_una = c->snd_una;
    uint32_t flight = c->snd_max - c->snd_una; /* FlightSize before this ACK */
    bool new_ack = seq_gt(h->ack, c->snd_una);
    if (new_ack)
        sk_tcp_timer_stop(c, SK_TIMER_TLP); /* §7.2: rescheduled from this ACK */
    uint32_t sacked_before = c->x->sb.n ? sacked_in(c, c->snd_una, c->snd_max) : 0;
    bool new_sack = (c->flags & TF_SACK) && (h->opts.present & SK_OPT_SACK) && sb_update(c, h);
    uint32_t acked = new_ack ? advance_una(c, h) : 0;
    /* RFC 6937 §3 DeliveredData: change in SND.UNA plus change in SACKed bytes. */
    int64_t delivered = (int64_t)(c->snd_una - old_una) +
                        (c->x->sb.n ? sacked_in(c, c->snd_una, c->snd_max) : 0) - sacked_before;
    if (delivered < 0)
        delivered = 0; /* a renege */
    c->x->delivered += (uint64_t)delivered;
    /* A duplicate ACK: RFC 5681 §2 (same ACK, no data, same window, data outstanding), or an
     * ACK that SACKs new data (RFC 6675 §2). Answers to zero-window probes look the same but
     * say nothing about loss: a shut window never counts. */
    bool outstanding = c->snd_una != c->snd_max;
    bool dup = !new_ack && h->ack == c->snd_una && outstanding && c->snd_wnd != 0 &&
               ((pure && wnd_same) || new_sack);
    uint32_t dup_before = c->x->dupacks;
    if (dup)
        c->x->dupacks++;
    else if (new_ack)
        c->x->dupacks = 0;

    /* RFC 3168 §6.1.2: ECE is congestion without loss: reduce as for a fast retransmit, once
     * per window of data, and tell the peer with CWR on the next new segment. */
    bool ece = (c->flags & TF_ECN) && (h->flags & SK_TCP_ECE);
    bool cwr_begins = false;
    if (ece && !(c->flags & TF_RECOVERY) && seq_gt(c->snd_una, c->x->ecn_recover)) {
        uint32_t cwnd_before = c->cwnd;
        c->cc->on_loss(c);
        if (prr_on(c)) {
            /* Linux reduces cwnd in CWR by PRR too ("tcp: use PRR to reduce cwin in CWR
             * state", 3.7): the reduction follows the ACK clock, ending at ssthresh. */
            c->x->in_cwr = cwr_begins = true;
            prr_begin(c, flight, cwnd_before);
        } else {
            c->cwnd = max_u32(c->ssthresh, c->snd_mss);
        }
        c->x->ecn_recover = c->snd_max;
        c->flags |= TF_ECN_CWR;
    }
    if (c->x->in_cwr && !seq_lt(c->snd_una, c->x->ecn_recover)) {
        c->x->in_cwr = false; /* the window of data that saw the mark is acknowledged */
        c->cwnd = c->ssthresh;
    }

    /* RFC 6675 §5 / RFC 6582 §3.2 step 3, RFC 6937 §3: the ACK of the recovery point ends
     * recovery (after a timeout, too), before RACK looks at this ACK outside it. */
    bool ended = false;
    if (((c->flags & TF_RECOVERY) && new_ack && seq_ge(c->snd_una, c->x->recover)) ||
        (c->x->in_loss && !seq_lt(c->snd_una, c->x->recover))) {
        ended = (c->flags & TF_RECOVERY) != 0;
        recovery_end(c);
    }
    /* RFC 8985 §6.2: RACK's steps on every ACK; true when it marked a segment lost. */
    bool rack_lost = sk_rack_on_ack(c, h, old_una, has_dsack(h));
    rxt_check(c, new_ack);
    if (ended)
        return;
    if (c->flags & TF_RECOVERY) {
        if (c->flags & TF_SACK) {
            if (prr_on(c) && (delivered > 0 || rack_lost))
                prr_on_ack(c, (uint32_t)delivered, c->x->rack_rtx_acked && !rack_lost);
            /* RFC 6675 §5 (C) runs on every ACK that says something was delivered, an old
             * ACK with new SACK blocks too (Linux's tcp_ack takes SACKs below SND.UNA). */
            if (new_ack || dup || rack_lost || delivered > 0)
                sack_recovery_send(c);
        } else if (new_ack) {
            /* RFC 6582 §3.2 step 5: a partial ACK; retransmit the next hole, deflate. */
            if (sk_tcp_send_at(c, c->snd_una, c->snd_mss))
                sk_tcp_count_retransmit(c);
            c->cwnd = c->cwnd > acked ? sk_cc_clamp((uint64_t)c->cwnd - acked + c->snd_mss) : c->snd_mss;
        } else if (dup) {
            dupack_inflate(c);
        }
        return;
    }
    /* Growth (cc_slowstart.c): never on ECN-Echo (RFC 3168 §6.1.2), only while the flow uses
     * its cwnd (RFC 7661, or Linux's rule); none while ECN's reduction runs by PRR. */
    if (c->x->in_cwr && !(c->flags & TF_RECOVERY)) {
        if (delivered > 0 || cwr_begins)
            prr_on_ack(c, (uint32_t)delivered, c->x->rack_rtx_acked && !rack_lost);
    } else {
        sk_cc_ack(c, flight, growth(c, acked, delivered, dup_before), ece);
    }
    c->x->cwnd_limited = false;
    if (sk_rack_active(c)) {
        /* RFC 8985 §6.2: recovery starts when RACK marks a segment lost (not before the end
         * of a recovery after a timeout: that one repairs the same losses). */
        if (rack_lost && !c->x->in_loss)
            enter_recovery(c, flight, (uint32_t)delivered, false);
        return;
    }
    /* RFC 6582 §3.2 step 1 / §4: no new recovery until SND.UNA passes the last one's point. */
    if (!outstanding || !seq_gt(c->snd_una, c->x->recover - 1) || (!dup && !new_ack))
        return;
    uint32_t thresh = loss_threshold(c);
    bool sack_lost = (c->flags & TF_SACK) && seq_gt(lost_below(c, thresh), c->snd_una);
    if (c->x->dupacks >= thresh || sack_lost)
        enter_recovery(c, flight, (uint32_t)delivered, false);
}

/* RFC 8985 §6.3: the reordering timer fired: what RACK now marks lost is repaired as on an
 * ACK, entering recovery first if need be (Linux's tcp_rack_reo_timeout, which counts one
 * segment delivered for PRR). */
void sk_tcp_rack_timeout(struct sk_tcp *c)
{
    if (!sk_rack_active(c) || !sk_rack_detect(c))
        return;
    if (!(c->flags & TF_RECOVERY)) {
        /* After a timeout, the go-back retransmission goes on as ACKs come. */
        if (!c->x->in_loss)
            enter_recovery(c, c->snd_max - c->snd_una, c->snd_mss, false);
        return;
    }
    enum sk_seg_why cause = sk_tcp_cause(c->st, SK_SEG_WHY_RECOVERY);
    if (prr_on(c))
        prr_on_ack(c, c->snd_mss, false);
    sack_recovery_send(c);
    c->st->seg_cause = cause;
}

/* The header-predicted ACK (tcp_input.c fast_path): new data acknowledged, no SACK option,
 * no ECE, outside recovery, with an empty scoreboard, no probe out and no watch. What
 * sk_tcp_ack_process does then, without the tests that cannot hold: no duplicate ACK, no
 * loss to detect (nothing SACKed, duplicate ACKs reset), only SND.UNA, the RTT and cwnd. */
void sk_tcp_ack_fast(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    uint32_t flight = c->snd_max - c->snd_una; /* FlightSize before this ACK */
    uint32_t old_una = c->snd_una;
    sk_tcp_timer_stop(c, SK_TIMER_TLP); /* §7.2: rescheduled from this ACK */
    uint32_t acked = advance_una(c, h);
    c->x->dupacks = 0;
    c->x->delivered += c->snd_una - old_una;
    if (c->x->in_loss && !seq_lt(c->snd_una, c->x->recover))
        recovery_end(c);
    sk_rack_on_ack(c, h, old_una, false); /* RACK's records and RTT; nothing can be lost */
    if (c->x->in_cwr) { /* ECN's reduction by PRR, as in sk_tcp_ack_process */
        if (!seq_lt(c->snd_una, c->x->ecn_recover)) {
            c->x->in_cwr = false;
            c->cwnd = c->ssthresh;
        } else {
            prr_on_ack(c, acked, false);
        }
        c->x->cwnd_limited = false;
        return;
    }
    sk_cc_ack(c, flight, acked, false); /* as in sk_tcp_ack_process */
    c->x->cwnd_limited = false;
}

void sk_tcp_on_timeout_recovery(struct sk_tcp *c)
{
    /* RFC 6298 §5.5-5.6 with RFC 5681 §3.1 (4): a timeout ends any recovery, cwnd is one
     * segment. RFC 6675 §5.1: the scoreboard is kept so SACKed data is not sent again. */
    c->cc->on_rto(c);
    c->cwnd = c->snd_mss;
    c->x->dupacks = 0;
    c->flags &= ~TF_RECOVERY;
    c->x->in_loss = true;
    c->x->in_cwr = false;
    sk_rack_on_rto(c); /* RFC 8985 §6.3 */
    c->x->recover = c->snd_max;
    c->x->high_rxt = c->snd_una;
    c->x->tlp_out = false;
    sk_tcp_timer_stop(c, SK_TIMER_TLP);
    rxt_watch_begin(c);
}

/* ---- Tail loss probe (RFC 8985 §7) ----
 * When the last segments of a flight are lost no ACK comes back to trigger recovery, and the
 * sender would wait a whole RTO. A probe after about two round trips draws an ACK whose SACK
 * information starts the recovery above, or shows that nothing was lost. Used with SACK only:
 * without it the ACK of a probe cannot tell which segments arrived. */

#define TLP_WCDELACK_US 200000 /* §7.2 WCDelAckT: the peer may delay its ACK this long */

static bool tlp_allowed(const struct sk_tcp *c)
{
    /* §7.2: not while RACK's reordering timer runs (one or the other, §8). */
    return c->x && c->st->cfg.tlp && (c->flags & TF_SACK) && !(c->flags & TF_RECOVERY) && !c->x->tlp_out &&
           !sk_tcp_timer_on(c, SK_TIMER_RACK) &&
           c->snd_una != c->snd_max && c->snd_wnd > 0 && c->retries == 0 &&
           (c->state == SK_TCP_ESTABLISHED || c->state == SK_TCP_CLOSE_WAIT ||
            c->state == SK_TCP_FIN_WAIT_1 || c->state == SK_TCP_CLOSING ||
            c->state == SK_TCP_LAST_ACK);
}

void sk_tcp_tlp_arm(struct sk_tcp *c)
{
    if (!tlp_allowed(c)) {
        if (c->snd_una == c->snd_max)
            sk_tcp_timer_stop(c, SK_TIMER_TLP);
        return;
    }
    /* §7.2: the timer is scheduled after new data goes out and on an ACK that acknowledges
     * data cumulatively (both stop it first, sk_tcp_on_send and the ACK paths); a SACK alone
     * leaves it where it was. */
    if (sk_tcp_timer_on(c, SK_TIMER_TLP))
        return;
    /* §7.2: PTO = 2*SRTT, plus the worst delayed ACK when one segment is in flight; 1 s
     * before any RTT sample. "If TCP_RTO_expiration() < Now + PTO", the probe goes at the
     * RTO's time instead: a microsecond before it, so that it fires first and restarts the
     * RTO (sk_tcp_tlp_fire), while the RTO stays armed behind it for whatever stops the
     * probe (an ACK, RACK's timer). */
    uint64_t pto = c->srtt_us ? 2ull * c->srtt_us : 1000000;
    if (c->snd_max - c->snd_una <= c->snd_mss)
        pto += TLP_WCDELACK_US;
    sk_time_us due = c->st->now + pto;
    sk_time_us rto_due = c->timer[SK_TIMER_RETRANSMIT];
    if (rto_due != SK_TIME_NEVER && due >= rto_due) {
        if (rto_due <= c->st->now + 1) {
            sk_tcp_timer_stop(c, SK_TIMER_TLP); /* no room before the RTO */
            return;
        }
        due = rto_due - 1;
    }
    c->timer[SK_TIMER_TLP] = due;
    sk_timer_update(c);
}

void sk_tcp_tlp_fire(struct sk_tcp *c)
{
    if (!tlp_allowed(c))
        return;
    /* §7.3: new data if the windows allow it, else the last segment sent again. */
    uint32_t data_end = c->sndbuf_seq + c->snd.len;
    uint32_t rwnd_end = c->snd_una + c->snd_wnd;
    uint32_t used = 0;
    bool rxt = false;
    if (seq_lt(c->snd_max, data_end) && seq_lt(c->snd_max, rwnd_end)) {
        used = sk_tcp_send_at(c, c->snd_max, min_u32(c->snd_mss, rwnd_end - c->snd_max));
        c->snd_nxt = seq_max(c->snd_nxt, c->snd_max);
    }
    if (used == 0) {
        /* §7.3: "the last segment sent": its last MSS, and no more than it (a FIN that went
         * alone after its data goes alone again, as Linux's tcp_send_loss_probe resends the
         * rtx queue's last skb, cut to one MSS). */
        uint32_t seq = c->snd_max - min_u32(c->snd_mss, c->snd_max - c->snd_una);
        seq = seq_max(seq, sk_rack_last_start(c));
        used = sk_tcp_send_at(c, seq, c->snd_max - seq);
        rxt = true;
    }
    if (used == 0)
        return;
    c->st->ctr.tcp_tail_loss_probes++;
    if (rxt)
        sk_tcp_count_retransmit(c);
    c->x->tlp_out = true;
    c->x->tlp_rxt = rxt;
    c->x->tlp_dsacked = false;
    c->x->tlp_end_seq = c->snd_max;
    /* §7.3: the RTO runs afresh from the probe. */
    sk_tcp_timer_set(c, SK_TIMER_RETRANSMIT, c->rto_us);
}

/* §7.4: the episode ends with the ACK of TLP.end_seq. If the probe was a retransmission and no
 * D-SACK said the original had arrived, the probe repaired a loss: congestion was there, so
 * cwnd is reduced as for a fast retransmit (§7.4.2). */
static void tlp_on_ack(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    if (!c->x->tlp_out)
        return;
    for (uint8_t i = 0; i < h->opts.nsack && (h->opts.present & SK_OPT_SACK); i++)
        if (seq_lt(h->opts.sack[i].left, h->ack) &&
            seq_le(h->opts.sack[i].right, c->x->tlp_end_seq) &&
            seq_gt(h->opts.sack[i].right, c->x->tlp_end_seq - c->snd_mss))
            c->x->tlp_dsacked = true;
    if (!seq_ge(h->ack, c->x->tlp_end_seq))
        return;
    c->x->tlp_out = false;
    if (c->x->tlp_rxt && !c->x->tlp_dsacked && !(c->flags & TF_RECOVERY)) {
        c->st->ctr.tcp_tlp_recoveries++;
        c->cc->on_loss(c);
        c->cwnd = max_u32(c->ssthresh, c->snd_mss);
        c->cc->on_recovery_end(c);
    }
}
