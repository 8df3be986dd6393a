/* The passive observer (synack/observe.h), one segment: RFC 9293's state diagram (§3.3.2) for
 * both ends, and the notes. The model, the memory and the limits: tcp_observe.c.
 */
#include <errno.h>
#include <string.h>

#include "tcp/tcp_observe_int.h"

#define OBS_DUPTHRESH 3      /* RFC 5681 §3.2: the third duplicate ACK triggers fast retransmit */
#define OBS_MAX_WSCALE 14    /* RFC 7323 §2.3 */
#define OBS_NO_WSCALE 0xffff /* SK_OBS_OPTIONS's b when window scaling is off */

void sk_obs_note(struct obs_ctx *x, enum sk_obs_note_kind k, uint64_t a, uint64_t b)
{
    if (x->s.nnotes >= SK_OBS_MAX_NOTES)
        return;
    x->s.notes[x->s.nnotes++] = (struct sk_obs_note){k, a, b};
}

static uint32_t seg_end(const struct obs_ctx *x)
{
    const struct sk_tcp_hdr *th = &x->in->th;
    return th->seq + x->in->len + ((th->flags & SK_TCP_SYN) ? 1u : 0u) +
           ((th->flags & SK_TCP_FIN) ? 1u : 0u);
}

/* Raises a side's highest sequence number sent. */
static void advance_max(struct obs_side *s, uint32_t end)
{
    if (!s->seq_known) {
        s->seq_known = true;
        s->snd_una = end;
        s->snd_max = end;
    } else if (seq_gt(end, s->snd_max)) {
        s->snd_max = end;
    }
}

/* RFC 7323 §2.2-2.3: scaling applies once both SYNs carried the option, never to a SYN. */
static uint32_t wnd_bytes(const struct obs_conn *c, const struct obs_side *s, uint8_t flags,
                          uint16_t wnd)
{
    if ((flags & SK_TCP_SYN) || !c->scale_on)
        return wnd;
    return (uint32_t)wnd << s->wscale;
}

/* The options both SYNs agreed on (RFC 7323 §1.3, §2.2; RFC 2018 §2; RFC 9293 §3.7.1). */
static void options_agreed(struct obs_ctx *x)
{
    struct obs_conn *c = x->c;
    uint8_t both = c->side[0].opts & c->side[1].opts;
    c->scale_known = true;
    c->scale_on = (both & SK_OPT_WSCALE) != 0;
    uint64_t b = c->scale_on ? ((uint64_t)c->side[0].wscale << 8 | c->side[1].wscale)
                             : OBS_NO_WSCALE;
    sk_obs_note(x, SK_OBS_OPTIONS, both & (SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM |
                                    SK_OPT_TIMESTAMP), b);
}

static void take_syn_options(struct obs_side *s, const struct sk_tcp_opts *op)
{
    s->opts = op->present & (SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP);
    s->mss = op->mss;
    s->wscale = op->wscale > OBS_MAX_WSCALE ? OBS_MAX_WSCALE : op->wscale;
}

/* A SYN sent again: same ISN. SYN|ACK and SYN alike (RFC 9293 §3.8.1, RFC 6298 §5). */
static bool syn_again(struct obs_ctx *x)
{
    struct obs_side *s = x->snd;
    bool synack = (x->flags & SK_TCP_ACK) != 0;
    if (!s->syn_seen || s->isn != x->in->th.seq || (synack && !s->synack_seen))
        return false;
    sk_obs_note(x, SK_OBS_SYN_RETRANSMIT, (uint64_t)(x->in->t - s->syn_time), 0);
    s->retransmits++;
    return true;
}

/* A SYN without ACK (RFC 9293 §3.5, §3.10.7.2, §3.10.7.3). */
static void on_syn(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t seq = x->in->th.seq;
    if (syn_again(x))
        return;
    if (s->syn_seen || (s->state != SK_TCP_CLOSED && s->state != SK_TCP_LISTEN &&
                        s->state != SK_TCP_SYN_RECEIVED)) {
        /* RFC 5961 §4: a SYN in a synchronized state is answered with a challenge ACK. */
        r->challenge_pending = true;
        return;
    }
    s->syn_seen = true;
    s->isn_known = true;
    s->isn = seq;
    s->syn_time = x->in->t;
    s->seq_known = false;
    advance_max(s, seq + 1);
    s->snd_una = seq;
    take_syn_options(s, &x->in->th.opts);
    if (r->syn_seen && r->state == SK_TCP_SYN_SENT) {
        /* §3.5 Figure 8: the SYNs crossed; each side, SYN-SENT, receives a SYN. */
        sk_obs_note(x, SK_OBS_SIMULTANEOUS_OPEN, seq, 0);
        s->state = SK_TCP_SYN_RECEIVED;
        r->state = SK_TCP_SYN_RECEIVED;
        return;
    }
    sk_obs_note(x, SK_OBS_HANDSHAKE_SYN, seq, 0);
    s->state = SK_TCP_SYN_SENT;
    r->state = SK_TCP_SYN_RECEIVED; /* from LISTEN, §3.10.7.2 */
}

/* A SYN|ACK (RFC 9293 §3.5 Figure 6 line 3; §3.10.7.3). */
static void on_synack(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct sk_tcp_hdr *th = &x->in->th;
    if (syn_again(x))
        return;
    if (s->synack_seen || (s->syn_seen && s->isn != th->seq)) {
        r->challenge_pending = true;
        return;
    }
    if (r->isn_known && th->ack != r->isn + 1) {
        /* §3.10.7.3: an unacceptable ACK in SYN-SENT: the opener answers with a RST. */
        sk_obs_note(x, SK_OBS_SYN_BAD_ACK, (uint64_t)r->isn + 1, th->ack);
        return;
    }
    bool crossed = s->syn_seen; /* simultaneous open: its SYN came first */
    s->syn_seen = s->synack_seen = true;
    s->isn_known = true;
    s->isn = th->seq;
    s->syn_time = x->in->t;
    s->seq_known = false;
    advance_max(s, th->seq + 1);
    s->snd_una = th->seq;
    if (!crossed)
        take_syn_options(s, &th->opts);
    r->snd_una = th->ack; /* it acknowledges the SYN */
    if (!r->isn_known) { /* the SYN was not seen: its ISN is the ACK - 1 */
        r->isn_known = r->syn_seen = true;
        r->isn = th->ack - 1;
        advance_max(r, th->ack);
        r->snd_una = th->ack - 1;
    }
    sk_obs_note(x, SK_OBS_HANDSHAKE_SYNACK, th->seq, 0);
    if (s->state != SK_TCP_ESTABLISHED) /* crossed: it may have had the other's already */
        s->state = SK_TCP_SYN_RECEIVED;
    /* §3.10.7.3 (SYN-SENT) and §3.10.7.4 (SYN-RECEIVED, simultaneous open): our SYN is
     * acknowledged. */
    r->state = SK_TCP_ESTABLISHED;
    if (!x->c->scale_known)
        options_agreed(x);
}

/* ---- Acknowledgements, windows, SACK ---- */

/* The peer's FIN reaches r (RFC 9293 §3.10.7.4, eighth step: check the FIN bit). */
static void fin_arrives(struct obs_side *r)
{
    if (r->got_fin)
        return;
    r->got_fin = true;
    switch (r->state) {
    case SK_TCP_SYN_RECEIVED:
    case SK_TCP_ESTABLISHED:
        r->state = SK_TCP_CLOSE_WAIT;
        break;
    case SK_TCP_FIN_WAIT_1: /* its own FIN not acknowledged yet: both FINs crossed */
        r->state = SK_TCP_CLOSING;
        break;
    case SK_TCP_FIN_WAIT_2:
        r->state = SK_TCP_TIME_WAIT;
        break;
    default:
        break;
    }
}

/* The newest remembered send overlapping [left, right), or NULL. */
static const struct obs_send *last_send(const struct obs_track_side *t, uint32_t left,
                                        uint32_t right)
{
    for (uint8_t k = 0; k < t->nsends; k++) {
        const struct obs_send *e = &t->sends[(t->next + OBS_SENDS - 1 - k) % OBS_SENDS];
        if (seq_lt(e->left, right) && seq_lt(left, e->right))
            return e;
    }
    return NULL;
}

/* RFC 2018 §4, RFC 2883 §4: the blocks, and whether the first reports a duplicate. */
static void on_sack(struct obs_ctx *x)
{
    const struct sk_tcp_opts *op = &x->in->th.opts;
    struct obs_side *s = x->snd;
    uint32_t ack = x->in->th.ack;
    s->sacked = 0;
    s->sack_high = ack;
    if (!(op->present & SK_OPT_SACK) || op->nsack == 0)
        return;
    sk_obs_note(x, SK_OBS_SACK, op->nsack, 0);
    for (uint8_t i = 0; i < op->nsack; i++) {
        uint32_t l = op->sack[i].left, r = op->sack[i].right;
        if (!seq_lt(l, r) || !seq_gt(r, ack))
            continue;
        if (seq_lt(l, ack))
            l = ack;
        s->sacked += r - l;
        if (seq_gt(r, s->sack_high))
            s->sack_high = r;
    }
    /* RFC 2883 §4: a first block below the cumulative ACK, or inside the second block. */
    uint32_t l0 = op->sack[0].left, r0 = op->sack[0].right;
    bool dsack = seq_lt(l0, ack) ||
                 (op->nsack >= 2 && seq_ge(l0, op->sack[1].left) &&
                  seq_le(r0, op->sack[1].right));
    if (!dsack)
        return;
    sk_obs_note(x, SK_OBS_DSACK, l0, r0);
    /* RFC 3708 §2 (D-SACK based detection): the duplicate is of our retransmission. */
    const struct obs_send *e = x->tr ? last_send(x->tr, l0, r0) : NULL;
    if (e && e->retx)
        sk_obs_note(x, SK_OBS_SPURIOUS_RETRANSMIT, l0, r0);
}

static void seen_add(struct obs_track_side *t, uint32_t left, uint32_t right);

/* An ACK that reaches beyond what the acknowledged side was seen to send. */
static void ack_beyond(struct obs_ctx *x, uint32_t ack)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t over = ack - r->snd_max;
    if (r->probe_out && r->probe_seq == r->snd_max && over == 1) {
        /* The window had opened: the probe's byte was taken (RFC 9293 §3.8.6.1). */
        r->probe_out = false;
        r->bytes++;
        if (x->tr)
            seen_add(x->tr, r->snd_max, ack);
        r->snd_max = ack;
        return;
    }
    /* Nothing unseen fits past a FIN, nor more than the acknowledging side's window. */
    uint32_t limit = x->c->scale_known ? (s->max_wnd > 65535 ? s->max_wnd : 65535) : 1u << 30;
    if (r->fin_sent || over > limit) {
        sk_obs_note(x, SK_OBS_ACK_UNSEEN, over, 0);
        return;
    }
    sk_obs_note(x, SK_OBS_CAPTURE_MISSED, over, 0);
    r->bytes += over;
    if (x->tr)
        seen_add(x->tr, r->snd_max, ack);
    r->snd_max = ack;
}

/* RFC 5681 §2: "duplicate acknowledgment" (a)-(e). A closed window's answers to probes and
 * the answers to keep-alives and to RFC 5961 are not reports of loss. */
static bool is_dup_ack(const struct obs_ctx *x, bool pure, uint32_t wnd)
{
    const struct obs_side *s = x->snd, *r = x->rcv;
    return pure && s->ack_known && x->in->th.ack == s->ack && wnd == s->wnd && wnd != 0 &&
           r->seq_known && seq_lt(r->snd_una, r->snd_max) &&
           !(r->fin_sent && r->snd_max - r->snd_una == 1) && !r->keepalive_pending;
}

/* The acknowledgement and window of a segment with ACK (RFC 9293 §3.10.7.4, fifth step). */
static void on_ack(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t ack = x->in->th.ack, wnd = x->s.wnd_bytes;
    bool pure = x->in->len == 0 && !(x->flags & (SK_TCP_SYN | SK_TCP_FIN));
    if (!r->seq_known) { /* mid-stream: the first we learn of the peer's sequence space */
        r->seq_known = true;
        r->snd_una = r->snd_max = ack;
    } else if (seq_gt(ack, r->snd_max)) {
        ack_beyond(x, ack);
    }
    if (pure && r->keepalive_pending && seq_ge(ack, r->snd_max - 1)) {
        sk_obs_note(x, SK_OBS_KEEPALIVE_ACK, 0, 0);
        r->keepalive_pending = false;
    } else if (pure && s->challenge_pending) {
        sk_obs_note(x, SK_OBS_CHALLENGE_ACK, 0, 0);
        s->challenge_pending = false;
    } else if (is_dup_ack(x, pure, wnd)) {
        s->dupacks++;
        sk_obs_note(x, SK_OBS_DUP_ACK, s->dupacks, 0);
    } else if (!s->ack_known || seq_gt(ack, s->ack)) {
        s->dupacks = 0;
    }
    if (seq_gt(ack, r->snd_una) && seq_le(ack, r->snd_max)) {
        r->snd_una = ack;
        r->keepalive_pending = false;
        if (x->tr)
            sk_ranges_remove_below(&x->tr->seen, ack);
    }
    if (!(x->flags & SK_TCP_SYN))
        on_sack(x);
    /* §3.10.7.4 SYN-RECEIVED: an ACK of our SYN|ACK moves it to ESTABLISHED. */
    if (r->state == SK_TCP_SYN_RECEIVED && r->synack_seen && seq_gt(ack, r->isn) &&
        !(x->flags & SK_TCP_SYN)) {
        r->state = SK_TCP_ESTABLISHED;
        sk_obs_note(x, SK_OBS_HANDSHAKE_ACK, 0, 0);
    }
    /* §3.10.7.4 FIN-WAIT-1, CLOSING, LAST-ACK: an ACK of our FIN. Acknowledging it proves the
     * FIN arrived, even where the capture shows a gap before it. */
    if (r->fin_sent && !r->fin_acked && seq_ge(ack, r->fin_seq + 1)) {
        r->fin_acked = true;
        fin_arrives(s);
        sk_obs_note(x, SK_OBS_FIN_ACKED, 0, 0);
        if (r->state == SK_TCP_FIN_WAIT_1)
            r->state = SK_TCP_FIN_WAIT_2;
        else if (r->state == SK_TCP_CLOSING)
            r->state = SK_TCP_TIME_WAIT;
        else if (r->state == SK_TCP_LAST_ACK)
            r->state = SK_TCP_CLOSED;
    }
    if (r->fin_sent && !s->fin_ack_sent && seq_ge(ack, r->fin_seq + 1)) {
        s->fin_ack_sent = true;
        if (s->state == SK_TCP_TIME_WAIT)
            sk_obs_note(x, SK_OBS_TIME_WAIT, 0, 0);
    }
    /* RFC 9293 §3.8.6, §3.8.6.1: the window. */
    if (wnd == 0)
        sk_obs_note(x, SK_OBS_ZERO_WINDOW, 0, 0);
    else if (s->zero_wnd)
        sk_obs_note(x, SK_OBS_WINDOW_OPEN, wnd, 0);
    else if (pure && s->ack_known && ack == s->ack && wnd != s->wnd)
        sk_obs_note(x, SK_OBS_WINDOW_UPDATE, wnd, 0);
    s->zero_wnd = wnd == 0;
    if (!s->ack_known || seq_ge(ack, s->ack))
        s->ack = ack;
    s->ack_known = true;
    s->wnd = wnd;
    if (wnd > s->max_wnd)
        s->max_wnd = wnd;
}

/* ---- Data ---- */

/* Keep-alive (RFC 9293 §3.8.4): SND.NXT - 1 with 0 or 1 byte, nothing outstanding. Against a
 * zero window the same segment is a window probe (§3.8.6.1; Linux probes so). */
static bool keepalive_or_probe(struct obs_ctx *x, uint32_t seq)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t len = x->in->len;
    if ((x->flags & (SK_TCP_SYN | SK_TCP_FIN | SK_TCP_RST)) || len > 1 || !s->seq_known)
        return false;
    /* A probe is the next byte at the window's edge, or (Linux) SND.UNA - 1 with nothing. */
    if (r->ack_known && r->wnd == 0 && ((len == 1 && seq == r->ack) || seq == s->snd_una - 1) &&
        s->state >= SK_TCP_ESTABLISHED) {
        sk_obs_note(x, SK_OBS_WINDOW_PROBE, len, 0);
        x->probe = true; /* the receiver drops its byte: it is sent again when the window opens */
        s->probe_out = len == 1;
        s->probe_seq = seq;
        return true;
    }
    if (seq == s->snd_max - 1 && s->snd_una == s->snd_max && s->state >= SK_TCP_ESTABLISHED &&
        !s->fin_sent) {
        sk_obs_note(x, SK_OBS_KEEPALIVE, len, 0);
        s->keepalive_pending = true;
        return true;
    }
    return false;
}

/* Remembers [left, right) as seen; when the set is full, the lowest hole is taken as filled
 * (its late arrival then reads as a retransmission: a documented limit). */
static void seen_add(struct obs_track_side *t, uint32_t left, uint32_t right)
{
    while (sk_ranges_add(&t->seen, left, right, NULL) == -ENOSPC)
        sk_ranges_add(&t->seen, t->seen.r[0].right, t->seen.r[1].left, NULL);
}

static void remember_send(struct obs_track_side *t, uint32_t left, uint32_t right,
                          sk_time_us when, bool retx)
{
    t->sends[t->next] = (struct obs_send){left, right, when, retx};
    t->next = (uint8_t)((t->next + 1) % OBS_SENDS);
    if (t->nsends < OBS_SENDS)
        t->nsends++;
}

/* A retransmission (RFC 9293 §3.8.1; RFC 5681 §3.2 fast retransmit after three duplicate
 * ACKs, or RFC 6675 §5 loss shown by SACK blocks above it). */
static void retransmitted(struct obs_ctx *x, uint32_t seq, uint32_t end, uint32_t again)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct obs_send *e = x->ts ? last_send(x->ts, seq, end) : NULL;
    uint64_t since = e ? (uint64_t)(x->in->t - e->t) : 0;
    /* The sender's segments are bounded by the receiver's MSS option (RFC 9293 §3.7.1). */
    uint32_t smss = (r->opts & SK_OPT_MSS) && r->mss ? r->mss : 536;
    bool sack_loss = r->sacked > (OBS_DUPTHRESH - 1) * smss && seq_lt(seq, r->sack_high);
    if (r->dupacks >= OBS_DUPTHRESH || sack_loss)
        sk_obs_note(x, SK_OBS_FAST_RETRANSMIT, since, r->dupacks);
    else
        sk_obs_note(x, SK_OBS_RETRANSMIT, since, again);
    s->retransmits++;
}

static void on_data(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t seq = x->in->th.seq + ((x->flags & SK_TCP_SYN) ? 1u : 0u);
    uint32_t len = x->in->len, end = seq + len;
    if (keepalive_or_probe(x, seq) || len == 0)
        return;
    uint32_t again = 0, from = seq;
    if (seq_lt(seq, s->snd_una)) { /* acknowledged already: sent before */
        from = seq_lt(end, s->snd_una) ? end : s->snd_una;
        again = from - seq;
    }
    if (x->ts)
        again += sk_ranges_covered(&x->ts->seen, from, end);
    if (again)
        retransmitted(x, seq, end, again);
    else if (seq_gt(seq, s->snd_max))
        sk_obs_note(x, SK_OBS_OUT_OF_ORDER, seq - s->snd_max, 0);
    else if (seq_lt(seq, s->snd_max))
        sk_obs_note(x, SK_OBS_FILLS_GAP, len, 0);
    s->bytes += len - again;
    if (r->fin_sent)
        sk_obs_note(x, SK_OBS_HALF_CLOSE, len, 0);
    if (r->ack_known && r->wnd && end == r->ack + r->wnd)
        sk_obs_note(x, SK_OBS_WINDOW_FULL, 0, 0);
    if (x->ts) {
        if (seq_lt(from, end))
            seen_add(x->ts, from, end);
        remember_send(x->ts, seq, end, x->in->t, again != 0);
    }
}

/* ---- Closing and resets ---- */

/* The FIN reaches the receiver once every byte before it has (RFC 9293 §3.10.7.4: a FIN is
 * processed in sequence); a gap the capture shows holds it back. So does the receiver's
 * window as last advertised: a FIN beyond it is not acceptable (§3.10.7.4 first check; a
 * zero window takes no FIN at all). Either way the receiver's ACK of it settles it later. */
static void fin_try(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    if (!s->fin_sent || r->got_fin)
        return;
    uint32_t base = s->snd_una, gl, gr;
    if (s->isn_known && seq_lt(base, s->isn + 1))
        base = s->isn + 1;
    if (x->ts && sk_ranges_next_gap(&x->ts->seen, base, s->fin_seq, &gl, &gr))
        return;
    if (r->ack_known && !seq_lt(s->fin_seq, r->ack + (r->wnd ? r->wnd : 1)))
        return; /* (a FIN right at RCV.NXT is taken even by a zero window, as Linux does) */
    fin_arrives(r);
}

static void on_fin(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct sk_tcp_hdr *th = &x->in->th;
    uint32_t fseq = th->seq + x->in->len + ((x->flags & SK_TCP_SYN) ? 1u : 0u);
    if (s->fin_sent) {
        if (fseq == s->fin_seq) {
            sk_obs_note(x, SK_OBS_FIN_RETRANSMIT, (uint64_t)(x->in->t - s->fin_time), 0);
            if (x->in->len == 0)
                s->retransmits++;
        }
        return;
    }
    s->fin_sent = true;
    s->fin_seq = fseq;
    s->fin_time = x->in->t;
    sk_obs_note(x, SK_OBS_FIN, s->bytes, 0);
    /* §3.6 Figure 13: its FIN does not acknowledge the peer's, so it left before that one
     * arrived: it went to FIN-WAIT-1 and then, receiving the peer's FIN, to CLOSING. */
    bool crossed = r->fin_sent &&
                   !((x->flags & SK_TCP_ACK) && seq_ge(th->ack, r->fin_seq + 1));
    if (crossed)
        sk_obs_note(x, SK_OBS_SIMULTANEOUS_CLOSE, 0, 0);
    switch (s->state) {
    case SK_TCP_SYN_RECEIVED:
    case SK_TCP_ESTABLISHED:
        s->state = SK_TCP_FIN_WAIT_1; /* §3.10.4 CLOSE */
        break;
    case SK_TCP_CLOSE_WAIT:
        s->state = crossed ? SK_TCP_CLOSING : SK_TCP_LAST_ACK;
        break;
    default:
        break;
    }
}

/* RST (RFC 9293 §3.5.2, §3.10.7; RFC 5961 §3). */
static void on_rst(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct sk_tcp_hdr *th = &x->in->th;
    struct obs_conn *c = x->c;
    if (r->state == SK_TCP_SYN_SENT && !s->syn_seen) {
        /* §3.10.7.3: acceptable in SYN-SENT only if it acknowledges the SYN; then nobody
         * was listening (§3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>). */
        if ((x->flags & SK_TCP_ACK) && th->ack == r->isn + 1) {
            sk_obs_note(x, SK_OBS_RST_REFUSED, 0, 0);
            s->state = r->state = SK_TCP_CLOSED;
            c->end = SK_OBS_END_REFUSED;
        } else {
            sk_obs_note(x, SK_OBS_RST_IGNORED, 0, 0);
        }
        return;
    }
    enum sk_obs_note_kind why = SK_OBS_RST_ABORT;
    if (s->state == SK_TCP_SYN_SENT) {
        why = SK_OBS_RST_SYN_SENT;
    } else if (s->state == SK_TCP_CLOSED || s->state == SK_TCP_LISTEN) {
        why = SK_OBS_RST_NO_CONNECTION;
    } else if (r->ack_known && r->state != SK_TCP_SYN_SENT) {
        /* RFC 5961 §3.2: exactly RCV.NXT resets; elsewhere in the window it is answered with
         * a challenge ACK; outside it, dropped. RCV.NXT is the receiver's last ACK or, as
         * everything seen is taken as delivered, the end of what the sender sent. */
        bool exact = th->seq == r->ack || (s->seq_known && th->seq == s->snd_max);
        if (!exact) {
            if (seq_ge(th->seq, r->ack) && seq_lt(th->seq, r->ack + (r->wnd ? r->wnd : 1)))
                r->challenge_pending = true;
            sk_obs_note(x, SK_OBS_RST_IGNORED, 0, 0);
            return;
        }
    }
    sk_obs_note(x, why, 0, 0);
    s->state = r->state = SK_TCP_CLOSED;
    c->end = SK_OBS_END_RESET;
    c->reset_by = (int8_t)(s == &c->side[0] ? 0 : 1);
}

/* ---- The segment as reported ---- */

void sk_obs_fill_segment(struct obs_ctx *x, uint8_t from)
{
    const struct obs_in *in = x->in;
    struct sk_obs_segment *s = &x->s;
    struct sk_trace_segment *g = &s->seg;
    const struct sk_tcp_opts *op = &in->th.opts;
    s->conn = x->c->id;
    s->index = x->c->nseg;
    s->from = from;
    s->time = in->t;
    s->src = in->tup.src;
    s->dst = in->tup.dst;
    if (in->v4) {
        g->saddr = in->saddr4;
        g->daddr = in->daddr4;
    }
    g->sport = in->th.sport;
    g->dport = in->th.dport;
    g->seq = in->th.seq;
    g->ack = in->th.ack;
    g->flags = in->th.flags;
    g->wnd = in->th.wnd;
    g->len = in->len;
    g->opts = op->present;
    g->mss = op->mss;
    g->wscale = op->wscale;
    g->ts_val = op->ts_val;
    g->ts_ecr = op->ts_ecr;
    g->nsack = op->nsack;
    for (uint8_t i = 0; i < op->nsack && i < 4; i++) {
        g->sack[i].left = op->sack[i].left;
        g->sack[i].right = op->sack[i].right;
    }
    s->captured_len = in->captured;
    for (int i = 0; i < 2; i++)
        s->state_before[i] = x->c->side[i].state;
    /* RFC 7323 §2.2: a SYN's window is never scaled. */
    s->wnd_scale_known = (in->th.flags & SK_TCP_SYN) || x->c->scale_known;
    s->wnd_bytes = wnd_bytes(x->c, x->snd, in->th.flags, in->th.wnd);
}

void sk_obs_relative(struct obs_ctx *x)
{
    bool ack = (x->flags & SK_TCP_ACK) != 0;
    x->s.rel_known = x->snd->isn_known && (!ack || x->rcv->isn_known);
    if (x->snd->isn_known)
        x->s.rel_seq = x->in->th.seq - x->snd->isn;
    if (ack && x->rcv->isn_known)
        x->s.rel_ack = x->in->th.ack - x->rcv->isn;
}

void sk_obs_analyse(struct obs_ctx *x)
{
    struct obs_side *s = x->snd;
    if (x->flags & SK_TCP_RST) {
        on_rst(x);
        return;
    }
    if (!(x->flags & SK_TCP_SYN) && !s->seq_known) { /* mid-stream: its first segment */
        s->seq_known = true;
        s->snd_una = s->snd_max = x->in->th.seq;
    }
    bool syn_again = false;
    if ((x->flags & (SK_TCP_SYN | SK_TCP_ACK)) == SK_TCP_SYN) {
        uint64_t n = s->retransmits;
        on_syn(x);
        syn_again = s->retransmits != n;
    } else if (x->flags & SK_TCP_SYN) {
        uint64_t n = s->retransmits;
        on_synack(x);
        syn_again = s->retransmits != n;
        s->ack = x->in->th.ack;
        s->ack_known = true;
        s->wnd = s->max_wnd = x->s.wnd_bytes;
    }
    if (syn_again)
        return;
    if ((x->flags & (SK_TCP_ACK | SK_TCP_SYN)) == SK_TCP_ACK)
        on_ack(x);
    on_data(x);
    if (x->flags & SK_TCP_FIN)
        on_fin(x);
    if (s->seq_known && !x->probe)
        advance_max(s, seg_end(x));
    fin_try(x);
}

/* A segment once both ends are CLOSED or in TIME-WAIT. A FIN or data sent again says the
 * last ACK did not arrive (the LAST-ACK side retransmits, RFC 9293 §3.10.7.4): counted as
 * the retransmission it is; the states stay as inferred. */
void sk_obs_after_close(struct obs_ctx *x)
{
    struct obs_side *s = x->snd;
    const struct sk_tcp_hdr *th = &x->in->th;
    if (x->flags & SK_TCP_RST) {
        sk_obs_note(x, SK_OBS_RST_NO_CONNECTION, 0, 0);
        return;
    }
    sk_obs_note(x, SK_OBS_AFTER_CLOSE, 0, 0);
    if (x->flags & SK_TCP_SYN)
        return;
    if ((x->flags & SK_TCP_FIN) && s->fin_sent && th->seq + x->in->len == s->fin_seq) {
        sk_obs_note(x, SK_OBS_FIN_RETRANSMIT, (uint64_t)(x->in->t - s->fin_time), 0);
        s->retransmits++;
    } else if (x->in->len && s->seq_known && seq_lt(th->seq, s->snd_max)) {
        sk_obs_note(x, SK_OBS_RETRANSMIT, 0, x->in->len);
        s->retransmits++;
    }
}
