/* RACK: time-based loss detection (RFC 8985 §6), the default loss detector of connections
 * with SACK (sk_config.loss_detection).
 *
 * A segment is lost once a segment sent after it has been delivered (cumulatively
 * acknowledged or SACKed) and more than RACK.rtt + RACK.reo_wnd has passed since it was sent
 * (§6.2 step 5). The reordering window reo_wnd is min_RTT/4, 0 until reordering has been seen
 * while in recovery or with DupThresh segments SACKed, and grows by a quarter min_RTT for each
 * round trip that brought a D-SACK, falling back after 16 recoveries without one (step 4).
 * A segment that is not lost yet but would be after the window arms the reordering timer
 * (SK_TIMER_RACK), so that a loss no later ACK would reveal is still found. The tail loss
 * probe (§7, tcp_recovery.c) draws the ACK that lets this run for the tail of a flight.
 *
 * Transmit records (§5.2: Segment.xmit_ts, .end_seq, .lost, .retransmitted): the send ring
 * keeps bytes, not segments, so the records live here: a ring (a power of two of slots, up to
 * RACK_SEGS_MAX) sorted by sequence number covering [SND.UNA, SND.MAX) without gaps, one
 * record per transmission (a super-segment is one record; a retransmission inside one, or a
 * SACK block covering whole segments of it, splits it: never finer than the segments sent).
 * New data is appended at the tail and a cumulative ACK drops records from the head, each in
 * time proportional to the records added or dropped; a split moves the shorter side of the
 * ring by one slot. The ring is allocated when data first goes out, re-laid from slot 0 when
 * it grows, and freed when everything is acknowledged.
 *
 * Segment.xmit_ts is kept as a send stamp: the time in µs shifted left by STAMP_BITS, the low
 * bits counting the transmissions of the stack in that microsecond. On the virtual clock whole
 * bursts share a microsecond, and §6.2's tie-break on end_seq then misorders a retransmission
 * and the new data sent right after it (or before it); the stamp keeps the order they went in,
 * as Linux's nanosecond skb_mstamp_ns does in practice. Only past 2^STAMP_BITS transmissions
 * in one microsecond does the end_seq tie-break decide again.
 *
 * If the ring cannot grow (counted: alloc_failures, and tcp_rack_off) the connection falls
 * back to RFC 6675 (tcp_recovery.c) for what is outstanding, whose records are gone. RACK
 * comes back at the first data sent with nothing outstanding (SND.UNA = SND.MAX, outside
 * recovery) if the ring can be allocated then (counted: tcp_rack_resumed); else the next
 * such moment tries again.
 */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"
#include "tcp/tcp_ranges.h"

#define DUP_THRESH 3          /* RFC 6675 §2 DupThresh, in §6.2 step 4 */
#define REO_WND_PERSIST 16    /* §6.2 step 4: recoveries a grown window persists */
#define RACK_SEGS_MIN 16u
#define RACK_SEGS_MAX 65536u  /* a window of 2^30 bytes in 16 KiB super-segments */
#define MAX_REORDERING 300u   /* Linux's net.ipv4.tcp_max_reordering */

enum rack_seg_flag {
    RS_SACKED = 1u << 0,      /* SACKed (a cumulative ACK removes the record) */
    RS_LOST = 1u << 1,        /* Segment.lost: marked lost, until delivered */
    RS_RETRANS = 1u << 2,     /* a retransmission of it is in flight (Linux's SACKED_RETRANS) */
    RS_EVER_RETRANS = 1u << 3, /* Segment.retransmitted: its RTT is ambiguous */
    RS_PSH = 1u << 4          /* its first transmission carried PSH (at its end) */
};

struct sk_rack_seg {
    uint32_t start, end;      /* [seq, end_seq) */
    sk_time_us xmit_ts;       /* Segment.xmit_ts: its latest transmission, a send stamp */
    uint8_t flags;
};

#define STAMP_BITS 10

/* A send stamp for a transmission now: later than every stamp given before. */
static sk_time_us stamp(struct sk_stack *st)
{
    if (st->rack_stamp_us != st->now) {
        st->rack_stamp_us = st->now;
        st->rack_stamp_n = 0;
    }
    uint32_t n = st->rack_stamp_n < (1u << STAMP_BITS) - 1 ? st->rack_stamp_n++ : st->rack_stamp_n;
    return (st->now << STAMP_BITS) | n;
}

/* The time a stamp was given, in µs. */
static sk_time_us stamp_time(sk_time_us s)
{
    return s >> STAMP_BITS;
}

bool sk_rack_active(const struct sk_tcp *c)
{
    return c->x && (c->flags & TF_SACK) && c->st->cfg.loss_detection == SK_LOSS_RACK &&
           !c->x->rack_off;
}

/* ---- the records ---- */

static uint32_t segs_cap(const struct sk_tcp_ext *x)
{
    return x->segs ? (uint32_t)x->segs_mask + 1 : 0;
}

/* The i-th record from SND.UNA (i < segs_n). */
static struct sk_rack_seg *seg_at(const struct sk_tcp_ext *x, uint32_t i)
{
    return &x->segs[(x->segs_head + i) & x->segs_mask];
}

static void segs_free(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (x->segs)
        sk_mem_free(c->st, x->segs, sizeof(*x->segs) * segs_cap(x));
    x->segs = NULL;
    x->segs_n = 0;
    x->segs_head = x->segs_mask = 0;
}

void sk_rack_release(struct sk_tcp *c)
{
    if (c->x)
        segs_free(c);
}

static void rack_give_up(struct sk_tcp *c)
{
    segs_free(c);
    if (!c->x->rack_off)
        c->st->ctr.tcp_rack_off++;
    c->x->rack_off = true;
    sk_tcp_timer_stop(c, SK_TIMER_RACK);
}

/* Room for `more` records; false (and RACK off) when the ring cannot grow. A new ring holds
 * the records from slot 0 on. */
static bool segs_reserve(struct sk_tcp *c, uint32_t more)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t old_cap = segs_cap(x);
    if (x->segs_n + more <= old_cap)
        return true;
    uint32_t cap = old_cap ? old_cap : RACK_SEGS_MIN;
    while (cap < x->segs_n + more)
        cap *= 2;
    struct sk_rack_seg *p = cap <= RACK_SEGS_MAX ? sk_mem_alloc(c->st, sizeof(*p) * cap) : NULL;
    if (p == NULL) {
        rack_give_up(c);
        return false;
    }
    /* The ring's two runs, [head, cap) then [0, ...), one after the other. */
    uint32_t first = min_u32(x->segs_n, old_cap - x->segs_head);
    if (first)
        memcpy(p, &x->segs[x->segs_head], sizeof(*p) * first);
    if (x->segs_n > first)
        memcpy(&p[first], x->segs, sizeof(*p) * (x->segs_n - first));
    if (x->segs)
        sk_mem_free(c->st, x->segs, sizeof(*x->segs) * old_cap);
    x->segs = p;
    x->segs_head = 0;
    x->segs_mask = (uint16_t)(cap - 1);
    return true;
}

/* Index of the first record that ends after seq (segs_n if none). */
static uint32_t seg_find(const struct sk_tcp_ext *x, uint32_t seq)
{
    uint32_t lo = 0, hi = x->segs_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (seq_le(seg_at(x, mid)->end, seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Splits record i at seq, inside it: the ring opens a slot after it by moving whichever side
 * is shorter, the records before it one slot back or those after it one slot on. False: no
 * memory, RACK is off. */
static bool seg_split(struct sk_tcp *c, uint32_t i, uint32_t seq)
{
    struct sk_tcp_ext *x = c->x;
    if (!segs_reserve(c, 1))
        return false;
    if (i + 1 < x->segs_n - i - 1) {
        x->segs_head = (uint16_t)((x->segs_head - 1u) & x->segs_mask);
        for (uint32_t k = 0; k <= i; k++)
            *seg_at(x, k) = *seg_at(x, k + 1);
    } else {
        for (uint32_t k = x->segs_n; k > i + 1; k--)
            *seg_at(x, k) = *seg_at(x, k - 1);
    }
    x->segs_n++;
    /* Slot i + 1 is free: the record's second half goes there. */
    *seg_at(x, i + 1) = *seg_at(x, i);
    seg_at(x, i)->end = seq;
    seg_at(x, i)->flags &= (uint8_t)~RS_PSH; /* PSH stays at the end, as tcp_fragment's */
    seg_at(x, i + 1)->start = seq;
    return true;
}

/* Makes seq a record boundary if it falls inside one (a retransmission starts or ends
 * there). */
static bool seg_cut(struct sk_tcp *c, uint32_t seq)
{
    uint32_t i = seg_find(c->x, seq);
    if (i >= c->x->segs_n || !seq_lt(seg_at(c->x, i)->start, seq))
        return true;
    return seg_split(c, i, seq);
}

/* The same for a SACK block's edge, moved inwards to a whole segment of the record (up: the
 * block's left edge, else its right edge), as Linux splits an skb only at whole segments: a
 * record becomes SACKed when the block covers it all, and crafted blocks cannot cut the
 * records finer than the segments that were sent (the SACK Panic lesson). */
static bool seg_cut_sack(struct sk_tcp *c, uint32_t seq, bool up)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t i = seg_find(x, seq);
    if (i >= x->segs_n || c->snd_mss == 0)
        return true;
    const struct sk_rack_seg *s = seg_at(x, i);
    if (!seq_lt(s->start, seq))
        return true;
    uint32_t off = seq - s->start;
    off = (up ? off + c->snd_mss - 1 : off) / c->snd_mss * c->snd_mss;
    if (off == 0 || !seq_lt(s->start + off, s->end))
        return true;
    return seg_split(c, i, s->start + off);
}

static uint32_t segs_of(const struct sk_tcp *c, uint32_t bytes)
{
    return c->snd_mss ? (bytes + c->snd_mss - 1) / c->snd_mss : 0;
}

/* RACK comes back after a fallback once nothing is outstanding: the records start again
 * empty at SND.UNA, as at the connection's first data. */
static bool rack_resume(struct sk_tcp *c, uint32_t seq)
{
    struct sk_tcp_ext *x = c->x;
    if (!x->rack_off || !(c->flags & TF_SACK) || c->st->cfg.loss_detection != SK_LOSS_RACK ||
        seq != c->snd_una || c->snd_una != c->snd_max || (c->flags & TF_RECOVERY) || x->in_loss)
        return false;
    x->rack_off = false;
    if (!segs_reserve(c, 1))
        return false; /* off again, counted in alloc_failures only */
    c->st->ctr.tcp_rack_resumed++;
    return true;
}

void sk_rack_syn_data(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (!sk_rack_active(c) || x->segs_n != 0 || !seq_lt(c->snd_una, c->snd_max) ||
        !segs_reserve(c, 1))
        return;
    x->rack_rtx_high = c->snd_una;
    *seg_at(x, x->segs_n++) = (struct sk_rack_seg){
        .start = c->snd_una, .end = c->snd_max, .xmit_ts = stamp(c->st), .flags = RS_PSH};
}

bool sk_rack_pushed_at(const struct sk_tcp *c, uint32_t end)
{
    const struct sk_tcp_ext *x = c->x;
    if (!sk_rack_active(c) || x->segs_n == 0)
        return false;
    uint32_t i = seg_find(x, end - 1);
    return i < x->segs_n && seg_at(x, i)->end == end && (seg_at(x, i)->flags & RS_PSH);
}

void sk_rack_on_send(struct sk_tcp *c, uint32_t seq, uint32_t used, bool psh)
{
    if (c->x == NULL || used == 0 || (!sk_rack_active(c) && !rack_resume(c, seq)))
        return;
    struct sk_tcp_ext *x = c->x;
    uint32_t end = seq + used;
    if (x->segs_n == 0)
        x->rack_rtx_high = c->snd_una;
    /* A retransmission, [seq, min(end, SND.MAX)): a new xmit_ts, and it is in flight again. */
    if (seq_lt(seq, c->snd_max)) {
        uint32_t rend = seq_min(end, c->snd_max);
        if (!seg_cut(c, seq) || !seg_cut(c, rend))
            return;
        for (uint32_t i = seg_find(x, seq); i < x->segs_n; i++) {
            struct sk_rack_seg *s = seg_at(x, i);
            if (!seq_lt(s->start, rend))
                break;
            if (s->flags & RS_SACKED)
                continue;
            s->xmit_ts = stamp(c->st); /* in sequence order, as they go */
            s->flags |= RS_RETRANS | RS_EVER_RETRANS;
        }
        if (seq_gt(rend, x->rack_rtx_high))
            x->rack_rtx_high = rend;
        seq = rend;
    }
    if (!seq_lt(seq, end))
        return;
    /* New data at SND.MAX: the records must reach it, else they lost track (they never do,
     * but then RFC 6675 is the safe answer). */
    uint32_t last_end = x->segs_n ? seg_at(x, x->segs_n - 1)->end : c->snd_una;
    if (last_end != seq) {
        rack_give_up(c);
        return;
    }
    if (!segs_reserve(c, 1))
        return;
    *seg_at(x, x->segs_n++) = (struct sk_rack_seg){
        .start = seq, .end = end, .xmit_ts = stamp(c->st), .flags = psh ? RS_PSH : 0};
}

/* ---- RFC 8985 §6.2 ---- */

void sk_rack_rtt_sample(struct sk_tcp *c, uint32_t rtt_us)
{
    /* Step 1: RACK.min_RTT, the least RTT sample (Linux keeps a windowed minimum over 5
     * minutes; a path whose RTT grows for good keeps a smaller window here). */
    if (c->x && (c->x->min_rtt_us == 0 || rtt_us < c->x->min_rtt_us))
        c->x->min_rtt_us = rtt_us;
}

/* RACK_sent_after(t1, seq1, t2, seq2). */
static bool sent_after(sk_time_us t1, uint32_t seq1, sk_time_us t2, uint32_t seq2)
{
    return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

/* Steps 2 and 3 for a segment [s->start, end) newly acknowledged or SACKed; true if it was
 * delivered out of order (the caller counts reord_seen once per pass, see note_reordering). */
static bool rack_update(struct sk_tcp *c, const struct sk_rack_seg *s, uint32_t end,
                        const struct sk_tcp_hdr *h)
{
    struct sk_tcp_ext *x = c->x;
    uint64_t rtt = c->st->now - stamp_time(s->xmit_ts);
    bool update = true;
    if (s->flags & RS_EVER_RETRANS) {
        /* Step 2: an ambiguous sample is taken only when the echo shows it answers the
         * retransmission, or it is no shorter than min_RTT (so not the original's ACK). */
        uint32_t ts_xmit = (uint32_t)(stamp_time(s->xmit_ts) / 1000) + c->ts_offset;
        if ((c->flags & TF_TS) && (h->opts.present & SK_OPT_TIMESTAMP) &&
            seq_lt(h->opts.ts_ecr, ts_xmit))
            update = false;
        if (rtt < x->min_rtt_us)
            update = false;
    }
    if (update) {
        x->rack_rtt_us = (uint32_t)(rtt < UINT32_MAX ? rtt : UINT32_MAX);
        if (sent_after(s->xmit_ts, end, x->rack_xmit_ts, x->rack_end_seq)) {
            x->rack_xmit_ts = s->xmit_ts;
            x->rack_end_seq = end;
        }
    }
    /* Step 3: delivered below the highest delivered sequence without having been sent again:
     * the network reordered it. Linux's tp->reordering takes the distance in segments. */
    if (seq_gt(end, x->rack_fack)) {
        x->rack_fack = end;
    } else if (seq_lt(end, x->rack_fack) && !(s->flags & RS_EVER_RETRANS)) {
        x->rack_reord = true;
        uint32_t degree = segs_of(c, x->rack_fack - s->start);
        if (degree > x->reordering)
            x->reordering = min_u32(degree, MAX_REORDERING);
        return true;
    }
    return false;
}

/* tcpi_reord_seen counts reordering events, not segments: Linux's tcp_check_sack_reordering
 * runs at most once for an ACK's SACK blocks (tcp_sacktag_write_queue, from the lowest
 * reordered sequence) and once for what it cumulatively acknowledges (tcp_clean_rtx_queue),
 * however many segments of each were delivered out of order. */
static void note_reordering(struct sk_tcp *c, bool seen)
{
    if (seen)
        c->x->reord_seen++;
}

/* Step 4: RACK_update_reo_wnd. */
static uint32_t rack_reo_wnd(struct sk_tcp *c, bool dsack)
{
    struct sk_tcp_ext *x = c->x;
    if (x->reo_wnd_mult == 0)
        x->reo_wnd_mult = 1;
    if (x->rack_dsack_round_on && seq_ge(c->snd_una, x->rack_dsack_round))
        x->rack_dsack_round_on = false;
    /* One step per round trip that sees D-SACKs: the window was too small. */
    if (!x->rack_dsack_round_on && dsack) {
        x->rack_dsack_round_on = true;
        x->rack_dsack_round = c->snd_max;
        if (x->reo_wnd_mult < UINT8_MAX)
            x->reo_wnd_mult++;
        x->reo_wnd_persist = REO_WND_PERSIST;
    }
    if (!x->rack_reord) {
        if ((c->flags & TF_RECOVERY) || x->in_loss)
            return 0;
        uint32_t sacked = sk_ranges_covered(&x->sb, c->snd_una, c->snd_max);
        if (segs_of(c, sacked) >= DUP_THRESH)
            return 0;
    }
    uint64_t w = (uint64_t)x->reo_wnd_mult * x->min_rtt_us / 4;
    return (uint32_t)(w < c->srtt_us ? w : c->srtt_us);
}

void sk_rack_recovery_end(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (x->reo_wnd_persist > 0 && --x->reo_wnd_persist == 0)
        x->reo_wnd_mult = 1;
}

/* Step 5: RACK_detect_loss, then the timer for what is not lost yet. The RFC walks the
 * segments in the order they were sent and stops at the first one not sent before RACK's;
 * the records are in sequence order, where those above rack_rtx_high, never sent again, are
 * also in the order sent: the walk stops at the first of them not sent before RACK's, as
 * no record after it was. */
bool sk_rack_detect(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (!sk_rack_active(c))
        return false;
    bool marked = false;
    uint64_t timeout = 0;
    sk_time_us now = c->st->now;
    for (uint32_t i = 0; i < x->segs_n && x->rack_xmit_ts; i++) {
        struct sk_rack_seg *s = seg_at(x, i);
        bool before = sent_after(x->rack_xmit_ts, x->rack_end_seq, s->xmit_ts, s->end);
        if (!before && seq_ge(s->start, x->rack_rtx_high))
            break;
        /* Delivered, or lost and waiting for its retransmission (xmit_ts = INFINITE_TS). */
        if ((s->flags & RS_SACKED) || (s->flags & (RS_LOST | RS_RETRANS)) == RS_LOST)
            continue;
        if (!before)
            continue;
        sk_time_us due = stamp_time(s->xmit_ts) + x->rack_rtt_us + x->reo_wnd_us;
        if (due <= now) {
            if (s->flags & RS_RETRANS)
                c->st->ctr.tcp_lost_retransmits++; /* its retransmission was lost too */
            s->flags |= RS_LOST;
            s->flags &= ~RS_RETRANS;
            marked = true;
        } else if (due - now > timeout) {
            timeout = due - now;
        }
    }
    if (timeout) {
        /* §6.3 / §8: the reordering timer and the probe timer are exclusive. */
        sk_tcp_timer_stop(c, SK_TIMER_TLP);
        sk_tcp_timer_set(c, SK_TIMER_RACK, timeout + c->st->cfg.rack_timer_slop_us);
    } else {
        sk_tcp_timer_stop(c, SK_TIMER_RACK);
    }
    return marked;
}

/* Marks SACKed the records inside one SACK block the scoreboard now holds. */
static bool sack_block(struct sk_tcp *c, uint32_t l, uint32_t r, const struct sk_tcp_hdr *h,
                       bool *reord)
{
    struct sk_tcp_ext *x = c->x;
    if (!seg_cut_sack(c, l, true) || !seg_cut_sack(c, r, false))
        return false;
    for (uint32_t i = seg_find(x, l); i < x->segs_n; i++) {
        struct sk_rack_seg *s = seg_at(x, i);
        if (!seq_lt(s->start, r))
            break;
        if ((s->flags & RS_SACKED) ||
            sk_ranges_covered(&x->sb, s->start, s->end) != s->end - s->start)
            continue;
        *reord |= rack_update(c, s, s->end, h);
        s->flags = (uint8_t)((s->flags | RS_SACKED) & ~(RS_LOST | RS_RETRANS));
    }
    return true;
}

/* Cumulatively acknowledged records leave the ring's front (a partly acknowledged one
 * shrinks): the work is the records acknowledged, never those still out. */
static void cum_acked(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t n = 0;
    bool reord = false;
    for (; n < x->segs_n; n++) {
        struct sk_rack_seg *s = seg_at(x, n);
        if (!seq_le(s->end, c->snd_una))
            break;
        if (s->flags & RS_EVER_RETRANS)
            x->rack_rtx_acked = true; /* Linux's FLAG_RETRANS_DATA_ACKED: cumulative only */
        if (!(s->flags & RS_SACKED))
            reord |= rack_update(c, s, s->end, h);
    }
    if (n < x->segs_n && seq_lt(seg_at(x, n)->start, c->snd_una)) {
        struct sk_rack_seg *s = seg_at(x, n);
        if (!(s->flags & RS_SACKED))
            reord |= rack_update(c, s, c->snd_una, h);
        s->start = c->snd_una;
    }
    note_reordering(c, reord);
    x->segs_head = (uint16_t)((x->segs_head + n) & x->segs_mask);
    x->segs_n -= n;
    if (seq_lt(x->rack_rtx_high, c->snd_una))
        x->rack_rtx_high = c->snd_una;
}

bool sk_rack_on_ack(struct sk_tcp *c, const struct sk_tcp_hdr *h, uint32_t old_una, bool dsack)
{
    if (!sk_rack_active(c))
        return false;
    struct sk_tcp_ext *x = c->x;
    x->rack_rtx_acked = false;
    if (x->reordering == 0)
        x->reordering = DUP_THRESH;
    /* RACK.fack lies in [SND.UNA, SND.MAX]; anything else is stale (compared modulo 2^32). */
    if (seq_lt(x->rack_fack, old_una) || seq_gt(x->rack_fack, c->snd_max))
        x->rack_fack = old_una;
    cum_acked(c, h);
    if (h->opts.present & SK_OPT_SACK) {
        bool reord = false;
        for (uint8_t i = 0; i < h->opts.nsack; i++) {
            uint32_t l = h->opts.sack[i].left, r = h->opts.sack[i].right;
            if (!seq_lt(l, r) || seq_le(l, c->snd_una) || seq_gt(r, c->snd_max))
                continue;
            if (!sack_block(c, l, r, h, &reord))
                return false;
        }
        note_reordering(c, reord);
    }
    x->reo_wnd_us = rack_reo_wnd(c, dsack);
    if (x->segs_n == 0) {
        segs_free(c); /* everything is acknowledged */
        sk_tcp_timer_stop(c, SK_TIMER_RACK);
        return false;
    }
    /* Only a SACK, a retransmission or a running timer can leave a segment sent before the
     * last one delivered: a cumulative ACK alone, in order, has nothing to look at (and the
     * walk would cost a flight's worth of records on every ACK of a bulk transfer). */
    if (x->sb.n == 0 && !(c->flags & TF_RECOVERY) && !x->in_loss &&
        !sk_tcp_timer_on(c, SK_TIMER_RACK))
        return false;
    return sk_rack_detect(c);
}

uint32_t sk_rack_last_start(const struct sk_tcp *c)
{
    if (!sk_rack_active(c) || c->x->segs_n == 0)
        return c->snd_una;
    return seg_at(c->x, c->x->segs_n - 1)->start;
}

bool sk_rack_ack_rtt(const struct sk_tcp *c, uint32_t ack, uint32_t *rtt_us)
{
    if (!sk_rack_active(c))
        return false;
    const struct sk_tcp_ext *x = c->x;
    bool have = false;
    sk_time_us first = 0;
    for (uint32_t n = 0; n < x->segs_n; n++) {
        const struct sk_rack_seg *s = seg_at(x, n);
        if (!seq_lt(s->start, ack))
            break;
        if (s->flags & RS_EVER_RETRANS)
            return false; /* Karn: this ACK may answer a retransmission */
        if (!have && !(s->flags & RS_SACKED)) {
            first = stamp_time(s->xmit_ts);
            have = true;
        }
    }
    if (!have)
        return false;
    uint64_t rtt = c->st->now - first;
    *rtt_us = (uint32_t)(rtt < UINT32_MAX ? rtt : UINT32_MAX);
    return true;
}

void sk_rack_renege(struct sk_tcp *c)
{
    if (!sk_rack_active(c))
        return;
    for (uint32_t i = 0; i < c->x->segs_n; i++)
        seg_at(c->x, i)->flags &= (uint8_t)~RS_SACKED;
}

/* §6.3: on an RTO the first outstanding segment is lost (it was sent an RTO ago), and every
 * other one sent at least RACK.rtt + RACK.reo_wnd ago. */
void sk_rack_on_rto(struct sk_tcp *c)
{
    if (!sk_rack_active(c))
        return;
    struct sk_tcp_ext *x = c->x;
    sk_tcp_timer_stop(c, SK_TIMER_RACK);
    for (uint32_t i = 0; i < x->segs_n; i++) {
        struct sk_rack_seg *s = seg_at(x, i);
        if (s->flags & RS_SACKED)
            continue;
        if (s->start == c->snd_una ||
            stamp_time(s->xmit_ts) + x->rack_rtt_us + x->reo_wnd_us <= c->st->now) {
            s->flags |= RS_LOST;
            s->flags &= ~RS_RETRANS;
        }
    }
}

uint32_t sk_rack_pipe(const struct sk_tcp *c)
{
    const struct sk_tcp_ext *x = c->x;
    uint32_t pipe = 0;
    for (uint32_t i = 0; i < x->segs_n; i++) {
        const struct sk_rack_seg *s = seg_at(x, i);
        if (s->flags & RS_SACKED)
            continue;
        uint32_t len = s->end - s->start;
        pipe += (s->flags & RS_LOST ? 0 : len) + (s->flags & RS_RETRANS ? len : 0);
    }
    return pipe;
}

bool sk_rack_next_lost(const struct sk_tcp *c, uint32_t *seq, uint32_t *len)
{
    const struct sk_tcp_ext *x = c->x;
    for (uint32_t i = 0; i < x->segs_n; i++) {
        const struct sk_rack_seg *s = seg_at(x, i);
        if ((s->flags & (RS_SACKED | RS_LOST | RS_RETRANS)) == RS_LOST) {
            *seq = s->start;
            *len = s->end - s->start;
            return true;
        }
    }
    return false;
}

void sk_rack_counts(const struct sk_tcp *c, uint32_t *unacked, uint32_t *sacked, uint32_t *lost,
                    uint32_t *retrans)
{
    const struct sk_tcp_ext *x = c->x;
    *unacked = *sacked = *lost = *retrans = 0;
    for (uint32_t i = 0; i < x->segs_n; i++) {
        const struct sk_rack_seg *s = seg_at(x, i);
        uint32_t n = segs_of(c, s->end - s->start);
        *unacked += n;
        if (s->flags & RS_SACKED)
            *sacked += n;
        if (s->flags & RS_LOST)
            *lost += n;
        if (s->flags & RS_RETRANS)
            *retrans += n;
    }
}
