/* TCP output: which segment to send now, and building it.
 *
 * The send sequence space is laid out as RFC 9293 §3.4 draws it: ISS carries the SYN, the send
 * ring holds the bytes from sndbuf_seq on, and a queued FIN takes the number after the last
 * byte. Every transmission, first or repeated, is "send from SND.NXT what the windows allow",
 * so SYN, data and FIN retransmission share one path.
 *
 * Follows RFC 9293 §3.8.6 (windows, sender SWS avoidance), RFC 896 (Nagle), RFC 7323 (window
 * scale, timestamps), RFC 2018 (SACK blocks), RFC 6298 §5 (the retransmission timer).
 */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"
#include "util/rand.h"

uint32_t sk_tcp_ts_now(const struct sk_tcp *c)
{
    /* RFC 7323 §5.4: a 1 ms clock with a random per-connection offset. */
    return (uint32_t)(c->st->now / 1000) + c->ts_offset;
}

uint32_t sk_tcp_rcv_window(const struct sk_tcp *c)
{
    /* The window comes from the configured buffer size; the ring is a little larger
     * (sk_rcv_ring_bytes), because a scaled window is rounded up where rounding down would pull
     * its right edge back (send_segment), promising up to 2^shift - 1 bytes beyond it. */
    uint32_t used = c->rcv.buf ? c->rcv.len : 0;
    uint32_t space = c->rcvbuf_size > used ? c->rcvbuf_size - used : 0;
    uint32_t max = (uint32_t)c->st->cfg.rcv_wnd_max << c->rcv_wscale;
    return space < max ? space : max;
}

void sk_tcp_trace_seg(struct sk_stack *st, enum sk_trace_kind kind, const struct sk_tcp *c,
                      const struct sk_addr *saddr, const struct sk_addr *daddr,
                      const struct sk_tcp_hdr *h, const uint8_t *frame, size_t frame_len)
{
    sk_tcp_trace_seg_as(st, kind, c, c ? c->conn_id : 0, saddr, daddr, h, frame, frame_len);
}

static bool why_is_rst(enum sk_seg_why w)
{
    return w >= SK_SEG_WHY_RST_NO_CONNECTION && w <= SK_SEG_WHY_RST_SYN;
}

/* Why segment h leaves now: from its flags, whether it lies below SND.MAX (sent before) and
 * the event the stack is handling (st->seg_cause, sk_tcp_cause). c is NULL for a segment
 * without a TCB (a RST for no connection, a TIME-WAIT record's ACK). */
static enum sk_seg_why seg_why(const struct sk_stack *st, const struct sk_tcp *c,
                               const struct sk_tcp_hdr *h)
{
    enum sk_seg_why cause = st->seg_cause;
    if (h->flags & SK_TCP_RST)
        return why_is_rst(cause) ? cause : SK_SEG_WHY_RST_NO_CONNECTION;
    if (h->flags & SK_TCP_SYN) {
        if (cause == SK_SEG_WHY_RTO)
            return cause;
        return (h->flags & SK_TCP_ACK) ? SK_SEG_WHY_SYNACK : SK_SEG_WHY_SYN;
    }
    bool fin = (h->flags & SK_TCP_FIN) != 0;
    if (h->payload_len == 0 && !fin) {
        switch (cause) {
        case SK_SEG_WHY_DELAYED_ACK:
        case SK_SEG_WHY_KEEPALIVE:
        case SK_SEG_WHY_CHALLENGE_ACK:
        case SK_SEG_WHY_WINDOW_UPDATE:
            return cause;
        default:
            return SK_SEG_WHY_ACK;
        }
    }
    bool again = c && seq_lt(h->seq, c->snd_max); /* snd_max moves after the send */
    switch (cause) {
    case SK_SEG_WHY_WINDOW_PROBE:
    case SK_SEG_WHY_TLP:
    case SK_SEG_WHY_PMTU_PROBE:
        return cause;
    case SK_SEG_WHY_RTO:
    case SK_SEG_WHY_FAST_RETRANSMIT:
    case SK_SEG_WHY_RECOVERY:
        if (again)
            return cause;
        break;
    default:
        break;
    }
    if (again)
        return SK_SEG_WHY_RETRANSMIT;
    return h->payload_len == 0 ? SK_SEG_WHY_FIN : SK_SEG_WHY_NEW_DATA;
}

void sk_tcp_trace_seg_as(struct sk_stack *st, enum sk_trace_kind kind, const struct sk_tcp *c,
                         uint64_t conn_id, const struct sk_addr *saddr,
                         const struct sk_addr *daddr, const struct sk_tcp_hdr *h,
                         const uint8_t *frame, size_t frame_len)
{
    if (st->cfg.trace == NULL)
        return;
    struct sk_trace_event ev = {.kind = kind, .conn = c, .conn_id = conn_id};
    struct sk_trace_segment *s = &ev.u.seg;
    ev.src = *saddr;
    ev.dst = *daddr;
    s->saddr = sk_addr_is_v4(saddr) ? sk_addr_v4(saddr) : 0;
    s->daddr = sk_addr_is_v4(daddr) ? sk_addr_v4(daddr) : 0;
    s->sport = h->sport;
    s->dport = h->dport;
    s->seq = h->seq;
    s->ack = h->ack;
    s->flags = h->flags;
    s->wnd = h->wnd;
    s->len = (uint32_t)h->payload_len;
    s->opts = h->opts.present;
    s->mss = h->opts.mss;
    s->wscale = h->opts.wscale;
    s->ts_val = h->opts.ts_val;
    s->ts_ecr = h->opts.ts_ecr;
    s->nsack = h->opts.nsack;
    for (int i = 0; i < h->opts.nsack && i < 4; i++) {
        s->sack[i].left = h->opts.sack[i].left;
        s->sack[i].right = h->opts.sack[i].right;
    }
    ev.frame = frame;
    ev.frame_len = frame_len;
    if (kind == SK_TRACE_SEG_OUT)
        ev.why = seg_why(st, c, h);
    sk_trace_emit(st, &ev);
}

/* The two ends of a segment: the IP addresses, and which IP carries it (their form). */
struct ends {
    const struct sk_addr *laddr, *raddr;
};

/* Builds and sends one segment from e.laddr to e.raddr. c may be NULL (a RST for a segment
 * that found no TCB); then lport/rport come from h. Payload comes from c's send ring at
 * `snd_off`. gso_size non-zero (only with caps.tso_max) makes a payload longer than it one
 * TSO super-segment the link cuts into gso_size-byte segments, each with these options. tos:
 * the ECN field for IPv4's TOS or IPv6's traffic class (RFC 3168 §5). */
static void emit_as(struct sk_stack *st, struct sk_tcp *c, uint64_t conn_id, struct ends e,
                    struct sk_tcp_hdr *h, uint32_t snd_off, uint8_t tos, uint32_t gso_size);

static void emit(struct sk_stack *st, struct sk_tcp *c, struct ends e, struct sk_tcp_hdr *h,
                 uint32_t snd_off, uint8_t tos)
{
    emit_as(st, c, c ? c->conn_id : 0, e, h, snd_off, tos, 0);
}

static struct ends ends_of(const struct sk_tcp *c)
{
    struct ends e = {&c->laddr, &c->raddr};
    return e;
}

void sk_tcp_emit_bare(struct sk_stack *st, uint64_t conn_id, const struct sk_addr *laddr,
                      const struct sk_addr *raddr, struct sk_tcp_hdr *h)
{
    struct ends e = {laddr, raddr};
    emit_as(st, NULL, conn_id, e, h, 0, 0, 0);
}

/* RFC 6437 §3: the flow label of a connection, the IPv6 layer's keyed hash of its 5-tuple:
 * the same for every segment of a connection (and its RSTs). A synchronized connection keeps
 * it, so that a bulk transfer does not hash the 37-byte 5-tuple again for every segment. */
static uint32_t flow_label(const struct sk_stack *st, struct sk_tcp *c, const struct sk_tcp_hdr *h,
                           struct ends e)
{
    if (c && c->x && c->x->flow_label)
        return c->x->flow_label;
    uint32_t f = sk_ip6_flow_label(st, e.laddr, e.raddr, SK_IPPROTO_TCP, h->sport, h->dport);
    if (c && c->x)
        c->x->flow_label = f;
    return f;
}

/* Copies len bytes of the send ring from offset off to dst, summing them on the way
 * (sk_csum_copy: one pass); the ring may wrap, and a second piece that starts at an odd
 * offset of the payload adds its sum byte-swapped (RFC 1071 §2(B)). */
static uint32_t ring_peek_sum(const struct sk_ring *r, uint32_t off, uint8_t *dst, uint32_t len)
{
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < len ? r->size - pos : len;
    uint32_t sum = sk_csum_copy(dst, r->buf + pos, first, 0);
    if (len > first) {
        uint32_t rest = sk_csum_copy(dst + first, r->buf, len - first, 0);
        sum = sk_csum_combine(sum, (first & 1) ? sk_csum_at_odd(rest) : rest);
    }
    return sum;
}

/* The offload metadata of a segment of n bytes at st->tx + room (sk_frame_meta). */
static void segment_meta(const struct sk_tcp_hdr *h, size_t room, size_t n, uint32_t gso_size,
                         bool v6, struct sk_frame_meta *m)
{
    memset(m, 0, sizeof(*m));
    if (!h->csum_partial)
        return;
    m->flags = SK_FRAME_CSUM_PARTIAL;
    m->csum_start = (uint16_t)room;
    m->csum_offset = 16; /* RFC 9293 §3.1: the checksum field */
    if (gso_size && h->payload_len > gso_size) {
        m->gso_type = v6 ? SK_GSO_TCPV6 : SK_GSO_TCPV4;
        m->gso_size = (uint16_t)gso_size;
        m->hdr_len = (uint16_t)(room + n - h->payload_len);
    }
}

static void emit_as(struct sk_stack *st, struct sk_tcp *c, uint64_t conn_id, struct ends e,
                    struct sk_tcp_hdr *h, uint32_t snd_off, uint8_t tos, uint32_t gso_size)
{
    bool v6 = !sk_addr_is_v4(e.raddr);
    size_t room = v6 ? sk_ip6_headroom(st) : sk_ip_headroom(st);
    /* Built where the driver wants the frame, if it lends a buffer: the payload's one copy
     * from the send ring is straight into it. 40: the most bytes of options. */
    size_t most = room + SK_TCP_HLEN + 40 + h->payload_len;
    if (most > st->tx_cap)
        most = st->tx_cap;
    uint8_t *seg = sk_tx_begin(st, most) + room;
    size_t cap = most - room;
    int layout = (h->flags & SK_TCP_SYN) ? (int)st->cfg.syn_opt_layout : -1;
    /* The link completes the checksum if it offered to (caps.tx_csum); a super-segment goes
     * only to such a link (tso_payload). */
    h->csum_partial = st->cfg.caps.tx_csum;
    h->payload_summed = false;
    if (h->payload_len) {
        uint8_t optbuf[40];
        size_t optlen = sk_tcp_opts_emit(optbuf, sizeof(optbuf), &h->opts, layout);
        /* Each datagram on the wire must fit the MTU (RFC 1191: it goes with DF); so must each
         * segment cut from a super-segment, which all carry these options. The payload was
         * sized to the MSS less the timestamps; SACK blocks that do not fit beside it are left
         * out (RFC 2018 §3 lets a receiver send fewer; pure ACKs still carry them all). */
        size_t fit = v6 ? (size_t)sk_ip6_path_mtu(st, e.raddr) - SK_IPV6_HLEN - SK_TCP_HLEN
                        : (size_t)st->cfg.mtu - SK_IPV4_HLEN - SK_TCP_HLEN;
        size_t piece = gso_size && h->payload_len > gso_size ? gso_size : h->payload_len;
        while ((h->opts.present & SK_OPT_SACK) && optlen + piece > fit) {
            if (--h->opts.nsack == 0)
                h->opts.present &= (uint8_t)~SK_OPT_SACK;
            optlen = sk_tcp_opts_emit(optbuf, sizeof(optbuf), &h->opts, layout);
        }
        uint8_t *dst = seg + SK_TCP_HLEN + optlen;
        if (SK_TCP_HLEN + optlen + h->payload_len > cap)
            h->payload_len = cap - SK_TCP_HLEN - optlen; /* never: the MSS fits the MTU */
        if (h->csum_partial) {
            sk_ring_peek(&c->snd, snd_off, dst, (uint32_t)h->payload_len);
        } else {
            h->payload_sum = ring_peek_sum(&c->snd, snd_off, dst, (uint32_t)h->payload_len);
            h->payload_summed = true;
        }
        h->payload = dst;
    }
    size_t n = v6 ? sk_tcp_emit6(seg, cap, e.laddr, e.raddr, h, layout)
                  : sk_tcp_emit(seg, cap, st->cfg.addr, sk_addr_v4(e.raddr), h, layout);
    if (n == 0) {
        sk_drop(st, SK_DROP_OUT_NO_ROUTE, c, NULL, 0);
        return;
    }
    struct sk_frame_meta meta;
    segment_meta(h, room, n, gso_size, v6, &meta);
    if (meta.gso_type != SK_GSO_NONE) {
        st->ctr.tcp_tso_segs++;
        st->ctr.tcp_segs_out += (h->payload_len + gso_size - 1) / gso_size;
    } else {
        st->ctr.tcp_segs_out++;
    }
    if (h->flags & SK_TCP_RST)
        st->ctr.tcp_rst_out++;
    if (v6)
        sk_ip6_output(st, e.laddr, e.raddr, SK_IPPROTO_TCP, tos, flow_label(st, c, h, e), n,
                      &meta);
    else
        sk_ip_output(st, sk_addr_v4(e.raddr), SK_IPPROTO_TCP, tos, n, &meta);
    /* IPv4 goes from our one address, whatever the segment it answers was sent to. */
    struct sk_addr me = v6 ? *e.laddr : sk_addr_from_v4(st->cfg.addr);
    sk_tcp_trace_seg_as(st, SK_TRACE_SEG_OUT, c, conn_id, &me, e.raddr, h, st->tx, room + n);
}

/* Options for a segment of connection c (RFC 7323 §3.2: TS on every segment once agreed;
 * RFC 2018 §4: SACK blocks while out-of-order data is held). */
static void segment_options(struct sk_tcp *c, struct sk_tcp_hdr *h)
{
    const struct sk_config *cfg = &c->st->cfg;
    memset(&h->opts, 0, sizeof(h->opts));
    if (h->flags & SK_TCP_SYN) {
        bool active = c->state == SK_TCP_SYN_SENT;
        if (c->flags & TF_NOOPT)
            return;
        h->opts.present = SK_OPT_MSS;
        h->opts.mss = c->rcv_mss;
        if (active && cfg->syn_mss_path && c->snd_mss < c->rcv_mss)
            h->opts.mss = c->snd_mss; /* the path MTU as far as known (stack.h) */
        /* After enough lost SYNs, try one a middlebox cannot object to (profile knob). */
        if (active && cfg->syn_rtx_plain_after && c->retries >= cfg->syn_rtx_plain_after)
            c->flags |= TF_SYN_PLAIN;
        if (active && (c->flags & TF_SYN_PLAIN))
            return;
        /* On a SYN-ACK, only what the peer offered (RFC 7323 §2.2, RFC 2018 §2). */
        if (active ? cfg->opt_wscale : (c->flags & TF_WSCALE) != 0) {
            h->opts.present |= SK_OPT_WSCALE;
            h->opts.wscale = c->rcv_wscale;
        }
        if (active ? cfg->opt_sack : (c->flags & TF_SACK) != 0)
            h->opts.present |= SK_OPT_SACK_PERM;
        if (active ? cfg->opt_timestamps : (c->flags & TF_TS) != 0) {
            h->opts.present |= SK_OPT_TIMESTAMP;
            h->opts.ts_val = sk_tcp_ts_now(c);
            h->opts.ts_ecr = active ? 0 : c->ts_recent;
        }
        sk_tfo_syn_options(c, &h->opts); /* RFC 7413 §4.1.1, last */
        return;
    }
    if (c->flags & TF_TS) {
        h->opts.present |= SK_OPT_TIMESTAMP;
        h->opts.ts_val = sk_tcp_ts_now(c);
        h->opts.ts_ecr = c->ts_recent;
    }
    if (!(c->flags & TF_SACK) || (h->flags & SK_TCP_RST) || c->x == NULL)
        return; /* without x: not synchronized, nothing received to report */
    /* RFC 2883 §4: a D-SACK block goes first. RFC 2018 §4: then the block holding the most
     * recently received segment, then those reported most recently, then any others.
     * Blocks that do not fit in 40 bytes are left out by the emitter. */
    uint8_t n = 0;
    if (c->x->dsack_left != c->x->dsack_right) {
        h->opts.sack[n].left = c->x->dsack_left;
        h->opts.sack[n].right = c->x->dsack_right;
        n++;
    }
    uint32_t used = 0; /* bit i: ooo range i already listed */
    for (uint8_t k = 0; k < c->x->sack_hist_n && n < SK_TCP_MAX_SACK; k++) {
        for (int i = 0; i < c->x->ooo.n; i++) {
            if ((used >> i) & 1 || !seq_le(c->x->ooo.r[i].left, c->x->sack_hist[k]) ||
                !seq_lt(c->x->sack_hist[k], c->x->ooo.r[i].right))
                continue;
            used |= 1u << i;
            h->opts.sack[n].left = c->x->ooo.r[i].left;
            h->opts.sack[n].right = c->x->ooo.r[i].right;
            n++;
            break;
        }
    }
    for (int i = c->x->ooo.n - 1; i >= 0 && n < SK_TCP_MAX_SACK; i--) {
        if ((used >> i) & 1)
            continue;
        h->opts.sack[n].left = c->x->ooo.r[i].left;
        h->opts.sack[n].right = c->x->ooo.r[i].right;
        n++;
    }
    if (n > 0) {
        h->opts.present |= SK_OPT_SACK;
        h->opts.nsack = n;
    }
}

/* The right edge of what the receive ring can hold: RCV.NXT plus the ring's free bytes at its
 * configured size (it grows to that as data arrives: sk_tcb_rcv_ring). It never moves left (in-order data moves RCV.NXT and fills the ring by the same amount; reading
 * frees room), so an edge advertised within it stays within it. */
static uint32_t rcv_capacity_edge(const struct sk_tcp *c)
{
    uint32_t room = sk_rcv_ring_bytes(c, c->rcvbuf_size) - c->rcv.len;
    return c->rcv_nxt + room;
}

/* The 16-bit window field for `wnd` bytes at a shift of `shift` (RFC 7323 §2.3). Scaling
 * rounds down, which would pull the right edge back by up to 2^shift - 1 bytes when RCV.NXT has
 * moved by an amount that is not a multiple of 2^shift; RFC 1122 §4.2.2.16 asks us not to shrink
 * the window, so the field is rounded up instead, but only where the ring can hold every byte
 * up to the rounded edge. Otherwise it is rounded down: RFC 7323 §2.4 lets the edge recede by
 * less than 2^shift, and the peer may still send up to the old edge (RCV.ADV), which is always
 * within the ring. Rounding up unconditionally let the edge creep a little further beyond the
 * buffer on every ACK to a reader that was not reading, until in-window data no longer fit. */
static uint32_t window_field(const struct sk_tcp *c, uint32_t wnd, uint8_t shift)
{
    uint32_t field = wnd >> shift;
    if (shift > 0 && seq_lt(c->rcv_nxt + (field << shift), c->rcv_adv) &&
        seq_le(c->rcv_nxt + ((field + 1) << shift), rcv_capacity_edge(c)))
        field++;
    return field > 65535 ? 65535 : field;
}

/* Sends a segment on connection c and does the receive-side bookkeeping every ACK implies.
 * gso_size: see emit_as. */
/* Builds and sends one segment (a super-segment of gso_size pieces if non-zero). False when
 * the driver refused the frame (sk_stack_output_refused): counted, and the caller treats the
 * segment as not sent. */
static bool send_segment_gso(struct sk_tcp *c, uint32_t seq, uint8_t flags, uint32_t len,
                             uint32_t gso_size)
{
    struct sk_tcp_hdr h = {.sport = c->lport, .dport = c->rport, .seq = seq, .flags = flags};
    if (flags & SK_TCP_ACK)
        h.ack = c->rcv_nxt;
    if (!(flags & SK_TCP_RST)) {
        /* RFC 9293 §3.8.6.2.2: never shrink the window we offered. */
        uint32_t wnd = sk_tcp_rcv_window(c);
        if (c->state != SK_TCP_SYN_SENT) {
            /* RFC 9293 §3.8.6.2.2: never shrink the window we offered, and move its right
             * edge only by at least min(MSS, half the buffer): no silly small windows. */
            uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
            uint32_t buf = c->rcvbuf_size;
            if (c->st->cfg.bsd_receive_window) {
                if (wnd < min_u32(c->rcv_mss, buf / 4))
                    wnd = 0;
                wnd = max_u32(wnd, offered);
            } else if (wnd < offered || wnd - offered < min_u32(c->rcv_mss, buf / 2)) {
                wnd = offered;
            }
        }
        /* RFC 7323 §2.2: the window in a SYN is never scaled. */
        uint8_t shift = (flags & SK_TCP_SYN) ? 0 : c->rcv_wscale;
        uint32_t field = window_field(c, wnd, shift);
        h.wnd = (uint16_t)field;
        if (field == 0 && !(flags & SK_TCP_SYN))
            c->flags |= TF_RCV_WND_ZERO;
        else
            c->flags &= ~TF_RCV_WND_ZERO;
        if (flags & SK_TCP_ACK) {
            uint32_t adv = c->rcv_nxt + ((uint32_t)h.wnd << shift);
            if (seq_gt(adv, c->rcv_adv) || c->state == SK_TCP_SYN_SENT)
                c->rcv_adv = adv;
        }
    }
    segment_options(c, &h);
    h.payload_len = len;
    /* RFC 3168 §6.1.2-6.1.5: new data is sent ECN-capable, ECT(0), with CWR after we
     * reacted to an ECE; never retransmissions, pure ACKs or window probes. ACKs carry ECE
     * while a CE mark is unanswered (§6.1.3). */
    uint8_t tos = 0;
    if ((c->flags & TF_ECN) && !(flags & (SK_TCP_SYN | SK_TCP_RST))) {
        if (len > 0 && !seq_lt(seq, c->snd_max) && c->snd_wnd > 0) {
            tos = SK_IP_ECT0;
            if (c->flags & TF_ECN_CWR) {
                h.flags |= SK_TCP_CWR;
                c->flags &= ~TF_ECN_CWR;
            }
        }
        if (c->flags & TF_ECN_ECE)
            h.flags |= SK_TCP_ECE;
    }
    /* A SYN's data (Fast Open) is the ring's first bytes: the SYN's sequence number precedes
     * them. */
    uint32_t off = (flags & SK_TCP_SYN) ? 0 : seq - c->sndbuf_seq;
    c->st->tx_refused = false;
    emit_as(c->st, c, c->conn_id, ends_of(c), &h, off, tos, gso_size);
    bool refused = c->st->tx_refused;
    c->st->tx_refused = false;
    if (refused)
        c->st->ctr.tcp_tx_refused++;
    else if (len > 0)
        sk_tcp_data_leaving(c);
    if (flags & SK_TCP_ACK) {
        sk_tcp_ack_leaving(c);
        c->last_ack_sent = c->rcv_nxt;
        if (c->x) {
            c->x->dsack_left = c->x->dsack_right = 0;
            c->x->unacked_segs = 0;
        }
        c->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED);
        sk_tcp_timer_stop(c, SK_TIMER_DELACK);
    }
    return !refused;
}

static void send_segment(struct sk_tcp *c, uint32_t seq, uint8_t flags, uint32_t len)
{
    (void)send_segment_gso(c, seq, flags, len, 0);
}

void sk_tcp_send_ctl(struct sk_tcp *c, uint32_t seq, uint32_t ack, uint8_t flags)
{
    if (flags & SK_TCP_ACK) {
        send_segment(c, seq, flags, 0);
        return;
    }
    struct sk_tcp_hdr h = {.sport = c->lport, .dport = c->rport, .seq = seq, .ack = ack,
                           .flags = flags};
    emit(c->st, c, ends_of(c), &h, 0, 0);
}

void sk_tcp_send_ctl_why(struct sk_tcp *c, uint32_t seq, uint32_t ack, uint8_t flags,
                         enum sk_seg_why why)
{
    enum sk_seg_why old = sk_tcp_cause(c->st, why);
    sk_tcp_send_ctl(c, seq, ack, flags);
    c->st->seg_cause = old;
}

void sk_tcp_send_ack(struct sk_tcp *c)
{
    /* <SEQ=SND.NXT> in the RFC's sense: the next new number. Our snd_nxt goes back to SND.UNA
     * while retransmitting; an ACK carrying that old number would fail the peer's acceptability
     * test and be thrown away with the acknowledgment in it. */
    if (c->st->cfg.ack_repeats_fin && (c->flags & TF_FIN_QUEUED) &&
        (c->state == SK_TCP_FIN_WAIT_1 || c->state == SK_TCP_CLOSING ||
         c->state == SK_TCP_LAST_ACK) &&
        c->snd_max == c->sndbuf_seq + c->snd.len + 1 && seq_lt(c->snd_una, c->snd_max)) {
        send_segment(c, c->snd_max - 1, SK_TCP_ACK | SK_TCP_FIN, 0); /* see sk_config */
        return;
    }
    /* While we probe a zero window, the one byte beyond SND.UNA is the probe, which the peer
     * most likely did not take: its window admits SEG.SEQ = RCV.NXT = SND.UNA alone, and an ACK
     * from SND.MAX would be dropped with the acknowledgment in it (Linux drops it). From
     * SND.UNA it is acceptable either way (acceptable() in tcp_input.c takes it from a peer
     * that kept the byte but has not acknowledged it yet). A flag, not "the persist timer
     * runs": when the timer itself sends an owed ACK before the next probe it has just fired,
     * and that ACK left from SND.MAX (Linux then retransmitted the data it acknowledged). */
    uint32_t seq = c->snd_max;
    if (c->snd_wnd == 0 && c->snd_max == c->snd_una + 1 && (c->flags & TF_PROBING))
        seq = c->snd_una;
    send_segment(c, seq, SK_TCP_ACK, 0);
}

void sk_tcp_send_rst_for(struct sk_stack *st, const struct sk_l3 *ip,
                         const struct sk_tcp_hdr *seg)
{
    /* RFC 9293 §3.10.7.1: if the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
     * if it is on, <SEQ=SEG.ACK><CTL=RST>. SYN and FIN count in SEG.LEN. */
    struct sk_tcp_hdr h = {.sport = seg->dport, .dport = seg->sport};
    if (seg->flags & SK_TCP_ACK) {
        h.seq = seg->ack;
        h.flags = SK_TCP_RST;
    } else {
        uint32_t seg_len = (uint32_t)seg->payload_len + ((seg->flags & SK_TCP_SYN) ? 1 : 0) +
                           ((seg->flags & SK_TCP_FIN) ? 1 : 0);
        h.seq = 0;
        h.ack = seg->seq + seg_len;
        h.flags = SK_TCP_RST | SK_TCP_ACK;
    }
    struct ends e = {&ip->dst, &ip->src};
    emit(st, NULL, e, &h, 0, 0);
}

static void arm_retransmit(struct sk_tcp *c)
{
    if (!sk_tcp_timer_on(c, SK_TIMER_RETRANSMIT))
        sk_tcp_timer_set(c, SK_TIMER_RETRANSMIT, c->rto_us);
    if (c->user_timeout_us && !sk_tcp_timer_on(c, SK_TIMER_USER_TIMEOUT))
        sk_tcp_timer_set(c, SK_TIMER_USER_TIMEOUT, c->user_timeout_us);
}

/* RFC 3168 §6.1.1: an ECN-setup SYN-ACK carries ECE only. */
static uint8_t synack_flags(const struct sk_tcp *c)
{
    return SK_TCP_SYN | SK_TCP_ACK | ((c->flags & TF_ECN) ? SK_TCP_ECE : 0);
}

void sk_tcp_send_synack(struct sk_tcp *c)
{
    send_segment(c, c->iss, synack_flags(c), 0);
}

/* SYN in SYN-SENT; SYN,ACK once the peer's SYN is known (RFC 9293 §3.10.7.2-3). */
static void send_syn(struct sk_tcp *c)
{
    uint8_t flags = SK_TCP_SYN;
    const struct sk_config *cfg = &c->st->cfg;
    if (c->state == SK_TCP_SYN_SENT) {
        /* TS.Recent holds nothing before the peer's SYN (our SYN echoes 0): it keeps the first
         * SYN's TSval, the oldest echo a SYN-ACK may carry (synack_tsecr_check). */
        if (c->snd_max == c->iss)
            c->ts_recent = sk_tcp_ts_now(c);
        /* RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; after ecn_syn_retries
         * unanswered ones, a plain SYN (§6.1.1.1: the network may drop the setup SYN). */
        c->flags &= ~TF_ECN_REQ;
        if (cfg->ecn == 1 && c->retries <= cfg->ecn_syn_retries) {
            flags |= SK_TCP_ECE | SK_TCP_CWR;
            c->flags |= TF_ECN_REQ;
        }
    } else {
        flags = synack_flags(c);
    }
    if (c->retries == 0 && !(c->flags & TF_RTT_TIMING)) {
        c->flags |= TF_RTT_TIMING;
        c->rtt_seq = c->iss;
        c->rtt_start = c->st->now;
    }
    /* RFC 7413 §4.2.1: a client's first SYN may carry data (0 otherwise). */
    uint32_t data = c->state == SK_TCP_SYN_SENT ? sk_tfo_syn_data(c) : 0;
    send_segment(c, c->iss, flags, data);
    c->snd_nxt = c->iss + 1 + data;
    if (seq_gt(c->snd_nxt, c->snd_max))
        c->snd_max = c->snd_nxt;
    arm_retransmit(c);
}

static bool fin_may_go(const struct sk_tcp *c)
{
    return (c->flags & TF_FIN_QUEUED) &&
           (c->state == SK_TCP_FIN_WAIT_1 || c->state == SK_TCP_LAST_ACK ||
            c->state == SK_TCP_CLOSING);
}

/* RFC 5681 §4.1: after an idle period longer than the RTO, start again from the initial
 * window rather than bursting a stale cwnd into the network. */
static void restart_after_idle(struct sk_tcp *c)
{
    if (!c->st->cfg.slow_start_after_idle || c->snd_una != c->snd_max || c->last_send == 0 ||
        c->st->now - c->last_send <= c->rto_us)
        return;
    c->cwnd = min_u32(c->cwnd, sk_cc_iw(c));
}

/* Room the congestion window leaves at SND.NXT. In SACK recovery it is cwnd - pipe
 * (RFC 6675 §5), otherwise the classic SND.UNA + cwnd. */
static uint32_t cwnd_room(const struct sk_tcp *c)
{
    if ((c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK)) {
        uint32_t pipe = sk_tcp_pipe(c);
        return c->cwnd > pipe ? c->cwnd - pipe : 0;
    }
    uint32_t end = c->snd_una + c->cwnd;
    /* RFC 3042 limited transmit (RFC 5681 §3.2): each of the first two duplicate ACKs lets
     * one new segment out beyond cwnd, so that a small window still draws the third. */
    if (!(c->flags & TF_RECOVERY) && c->x && c->x->dupacks > 0 && c->x->dupacks < 3 && c->snd_nxt == c->snd_max)
        end += c->x->dupacks * (uint32_t)c->snd_mss;
    return seq_gt(end, c->snd_nxt) ? end - c->snd_nxt : 0;
}

/* The payload of a full segment now. RFC 2018 §4 asks for SACK blocks on every ACK while
 * out-of-order data is held, and in a flow carrying data both ways most ACKs carry data: if
 * the blocks were left out of those (no room beside a full MSS of payload), the peer would see
 * neither SACK information nor duplicate ACKs (RFC 5681 §2: only segments without data count)
 * and could only wait for its RTO. So the payload gives way to the blocks, as the MSS counts
 * no options (RFC 6691): 2 bytes of kind and length and 8 per block, padded to 4. */
static uint32_t payload_mss(const struct sk_tcp *c)
{
    uint32_t n = 0;
    if ((c->flags & TF_SACK) && c->x)
        n = c->x->ooo.n + (c->x->dsack_left != c->x->dsack_right ? 1u : 0u);
    if (n == 0)
        return c->snd_mss;
    uint32_t fit = (c->flags & TF_TS) ? 3 : 4; /* 40 bytes of options in all */
    uint32_t opt = (2 + 8 * min_u32(n, fit) + 3) & ~3u;
    return c->snd_mss > 2 * opt ? c->snd_mss - opt : c->snd_mss;
}

/* Sends what there is from seq on, at most max_len bytes of it; with gso_size non-zero, as
 * one super-segment of gso_size pieces (emit_as). Returns the sequence space used. */
static uint32_t send_at(struct sk_tcp *c, uint32_t seq, uint32_t max_len, uint32_t gso_size)
{
    uint32_t data_end = c->sndbuf_seq + c->snd.len;
    /* No segment crosses a record end (MSG_EOR, tcp_marks.c), retransmissions included. */
    uint32_t rec_end = sk_tcp_record_end(c, seq);
    /* Data lives from sndbuf_seq on: a seq before it is the SYN's (a persist probe from
     * SND.UNA before the SYN is acknowledged) and has no byte to send. */
    uint32_t avail = seq_ge(seq, c->sndbuf_seq) && seq_lt(seq, rec_end) ? rec_end - seq : 0;
    uint32_t len = min_u32(avail, max_len);
    bool fin = fin_may_go(c) && seq + len == data_end;
    if (len == 0 && !fin)
        return 0;
    uint8_t flags = SK_TCP_ACK;
    /* RFC 9293 §3.9.1 PUSH: the end of what the application has handed over (not after a
     * MSG_MORE write's data), and the end of each of its records. */
    bool ends_record = rec_end != data_end && seq + len == rec_end;
    if (len > 0 && ((seq + len == data_end && !(c->flags & TF_NOPUSH)) || ends_record))
        flags |= SK_TCP_PSH;
    bool pushed = (flags & SK_TCP_PSH) != 0; /* what the records keep */
    /* A retransmission ending where a push ended says so again: the receiver delivers. */
    if (len > 0 && seq_lt(seq, c->snd_max) && sk_rack_pushed_at(c, seq + len))
        flags |= SK_TCP_PSH;
    if (c->st->cfg.psh_tso && gso_size && len > gso_size)
        flags |= SK_TCP_PSH; /* sk_config.psh_tso: Linux marks every GSO packet */
    if (fin)
        flags |= SK_TCP_FIN;
    if (!send_segment_gso(c, seq, flags, len, len > gso_size ? gso_size : 0))
        return 0; /* refused by the link: not sent (sk_stack_output_refused) */
    c->tx_blocked = false;
    sk_tcp_on_send(c, seq, len + (fin ? 1 : 0), pushed); /* RACK's records, PRR's prr_out */
    uint32_t segs = len == 0 ? 0 : gso_size && len > gso_size ? (len + gso_size - 1) / gso_size : 1;
    sk_tcp_pace_sent(c, len, segs);
    if (seq == c->snd_una && seq_lt(seq, c->snd_max)) {
        c->una_rtx = true; /* sent again: see advance_una */
        c->ts_una_rtx = sk_tcp_ts_now(c);
        /* The retransmission timer watches the oldest outstanding segment (RFC 6298 §5); once
         * that segment has gone again (fast retransmit, a lost retransmission found), its
         * answer is due an RTT from now, not from the last new ACK. Without the restart an RTO
         * near 2·RTT (a 200 ms minimum on a 100 ms path) fired while the repair's ACK was on
         * its way, and everything in flight went again. Linux restarts it the same way. */
        sk_tcp_timer_set(c, SK_TIMER_RETRANSMIT, c->rto_us);
    }
    uint32_t used = len + (fin ? 1 : 0);
    if (seq_gt(seq + used, c->snd_max)) {
        if (c->x) /* else a FIN queued in SYN-SENT: no byte of data */
            c->x->bytes_sent += seq + used - c->snd_max;
        c->snd_max = seq + used;
    }
    c->last_send = c->st->now;
    arm_retransmit(c);
    sk_tcp_timer_stop(c, SK_TIMER_PERSIST);
    return used;
}

uint32_t sk_tcp_send_at(struct sk_tcp *c, uint32_t seq, uint32_t max_len)
{
    return send_at(c, seq, min_u32(max_len, payload_mss(c)), 0);
}

static uint32_t tso_payload(const struct sk_tcp *c, uint32_t mss);

uint32_t sk_tcp_send_rtx(struct sk_tcp *c, uint32_t seq, uint32_t len, uint32_t room)
{
    uint32_t mss = payload_mss(c);
    /* sk_config.tso_rtx, Linux's tcp_xmit_retransmit_queue and __tcp_retransmit_skb: the
     * lost skb goes again whole, cut to cwnd - in_flight segments, as one GSO packet (which
     * psh_tso then marks, as __tcp_transmit_skb does every GSO packet). */
    uint32_t most = min_u32(tso_payload(c, mss), room / mss * mss);
    if (!c->st->cfg.tso_rtx || len <= mss || most <= mss)
        return sk_tcp_send_at(c, seq, len);
    return send_at(c, seq, min_u32(len, most), mss);
}

uint32_t sk_tcp_send_probe(struct sk_tcp *c, uint32_t seq, uint32_t len)
{
    enum sk_seg_why cause = sk_tcp_cause(c->st, SK_SEG_WHY_PMTU_PROBE);
    uint32_t used = send_at(c, seq, len, 0);
    c->st->seg_cause = cause;
    return used;
}

/* The most payload one super-segment may carry (caps.tso_max, which needs caps.tx_csum: a
 * super-segment's checksums are the link's to compute, as Linux's NETIF_F_TSO needs checksum
 * offload), in whole segments of mss bytes; mss when segmentation offload is off. The
 * headers of the largest segment (40 bytes of options) are counted off the limit. */
static uint32_t tso_payload(const struct sk_tcp *c, uint32_t mss)
{
    const struct sk_link_caps *caps = &c->st->cfg.caps;
    if (caps->tso_max == 0 || !caps->tx_csum || mss == 0)
        return mss;
    uint32_t most = min_u32(caps->tso_max, UINT16_MAX) - sk_tcp_ip_hlen(c) - SK_TCP_HLEN - 40;
    return most / mss > 1 ? most / mss * mss : mss;
}

uint32_t sk_tcp_size_goal(const struct sk_tcp *c)
{
    uint32_t mss = c->snd_mss;
    uint32_t most = tso_payload(c, mss);
    if (most <= mss)
        return mss;
    /* tcp_bound_to_half_wnd: no more than half the largest window the peer offered. */
    uint32_t half = c->max_snd_wnd > 536 ? c->max_snd_wnd / 2 : c->max_snd_wnd;
    uint32_t goal = min_u32(most, half) / mss * mss;
    return goal > mss ? goal : mss;
}

/* sk_config.tso_autosize, Linux's tcp_tso_autosize: a transmission carries about a
 * millisecond of the pacing rate (sk_pacing_shift 10: rate / 1024; the rate is Linux's
 * tcp_update_pacing_rate, sk_tcp_pacing_rate), and more on short paths (tcp_tso_rtt_log 9:
 * 64 KiB >> (min RTT in µs >> 9)), at least tso_min_segs segments (tcp_min_tso_segs, 2); no
 * more than half of cwnd (tcp_write_xmit's tcp_cwnd_test quota). */
static uint32_t autosize(struct sk_tcp *c, uint32_t mss, uint32_t most)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    uint64_t rate = sk_tcp_pacing_rate(c);
    uint64_t bytes = rate == UINT64_MAX ? most : rate >> 10;
    /* RACK's min_RTT, else the handshake's RTT (Linux's min filter starts from it). */
    uint32_t min_rtt = x->min_rtt_us ? x->min_rtt_us : c->srtt_us;
    uint32_t r = min_rtt >> 9;
    if (r < 32)
        bytes += 65536u >> r;
    uint32_t min_segs = cfg->tso_min_segs ? cfg->tso_min_segs : 2;
    uint32_t n = (uint32_t)((bytes < most ? bytes : most) / mss);
    n = n > min_segs ? n : min_segs;
    uint32_t half_cwnd = c->cwnd / mss / 2;
    n = min_u32(n, half_cwnd > 1 ? half_cwnd : 1);
    return n * mss;
}

/* RFC 896: a short segment waits while data is unacknowledged; with
 * sk_config.nagle_minshall only while a short one is (Linux's tcp_minshall_check). */
static bool nagle_holds(const struct sk_tcp *c)
{
    uint32_t una = (c->flags & TF_SYN_ACKED) ? c->snd_una : c->iss + 1;
    if (una == c->snd_max)
        return false;
    if (!c->st->cfg.nagle_minshall)
        return true;
    return seq_gt(c->x->snd_sml, c->snd_una) && !seq_gt(c->x->snd_sml, c->snd_max);
}

/* Payload of the next transmission at SND.NXT with segmentation offload: the MSS-sized
 * segments the loop in sk_tcp_output would send back to back, as one. It takes the whole
 * segments that fit in what is available and in the windows (`room`, already the smaller
 * of the peer's and cwnd's), and the short last one only where that loop would send it
 * without waiting (it is the last of the data, and it carries the FIN or Nagle is off), so
 * every segment ends where the MSS-sized train would end it. A retransmission (SND.NXT below
 * SND.MAX) stops at SND.MAX, and, with a SACK scoreboard to skip holes by, is one segment. */
static uint32_t super_len(struct sk_tcp *c, uint32_t avail, uint32_t room, uint32_t mss,
                          bool record)
{
    /* No more than half the largest window the peer offered (Linux's tcp_bound_to_half_wnd
     * sizes its socket buffers so, and a transmission never spans two). */
    uint32_t most = min_u32(tso_payload(c, mss), sk_tcp_size_goal(c));
    if (c->st->cfg.tso_autosize && most > mss)
        most = min_u32(most, autosize(c, mss, most));
    uint32_t span = min_u32(avail, min_u32(room, most));
    if (most <= mss || span <= mss)
        return min_u32(span, mss);
    bool rtx = seq_lt(c->snd_nxt, c->snd_max);
    if (rtx) {
        if (c->x->sb.n > 0)
            return mss;
        span = min_u32(span, c->snd_max - c->snd_nxt);
    }
    uint32_t whole = span / mss * mss;
    /* avail ends at a record end (record): the short segment before it goes at once, as
     * Linux sends an skb that is not the last of the queue without Nagle's test. */
    bool last = rtx ? c->snd_nxt + span == c->snd_max || (record && span == avail)
                    : span == avail;
    /* ... or where Nagle would not hold it (Linux's tcp_mss_split_point with
     * tcp_nagle_check: the partial tail rides in the same packet). */
    bool tail_free = (c->flags & TF_NODELAY) ||
                     (!(c->flags & (TF_CORK | TF_MORE)) && !nagle_holds(c));
    if (span > whole && last && (rtx || record || fin_may_go(c) || tail_free))
        return span;
    return whole;
}

/* tcp_chrono.c: the next new segment would fit cwnd but not the peer's window (Linux's
 * tcp_write_xmit: tcp_cwnd_test passes, tcp_snd_wnd_test fails). */
static bool rwnd_limited(const struct sk_tcp *c)
{
    uint32_t data_end = c->sndbuf_seq + c->snd.len;
    if (!seq_lt(c->snd_max, data_end))
        return false;
    uint32_t seg = min_u32(data_end - c->snd_max, payload_mss(c));
    return seq_gt(c->snd_max + seg, c->snd_una + c->snd_wnd) && cwnd_room(c) >= seg;
}

void sk_tcp_output(struct sk_tcp *c)
{
    switch (c->state) {
    case SK_TCP_CLOSED:
    case SK_TCP_LISTEN:
        return;
    case SK_TCP_TIME_WAIT:
        if (c->flags & TF_ACK_NOW)
            sk_tcp_send_ack(c);
        return;
    default:
        break;
    }
    if (!(c->flags & TF_SYN_ACKED)) {
        /* Our SYN is not acknowledged yet: it is the only thing we may send (a Fast Open
         * client's waits for its data, FO_DEFER) ... */
        if (c->snd_nxt == c->iss && !(c->fo & FO_DEFER))
            send_syn(c);
        else if (c->flags & TF_ACK_NOW)
            c->flags &= ~TF_ACK_NOW;
        /* ... but a Fast Open child may send data after its SYN-ACK (RFC 7413 §4.2.2). */
        if (!(c->fo & FO_PASSIVE) || c->state != SK_TCP_SYN_RECEIVED || c->snd_nxt == c->iss)
            return;
    }
    restart_after_idle(c);
    sk_tcp_records_prune(c);
    uint32_t snd_max_before = c->snd_max; /* for sk_cc_on_output (cwnd validation) */
    bool had_unsent = seq_lt(c->snd_nxt, c->sndbuf_seq + c->snd.len);
    bool sent = false;
    for (;;) {
        /* Going back over sent data (after a timeout), skip what the peer SACKed
         * (RFC 6675 §5.1). */
        if (seq_lt(c->snd_nxt, c->snd_max))
            c->snd_nxt = seq_min(sk_tcp_sack_skip(c, c->snd_nxt), c->snd_max);
        uint32_t data_end = c->sndbuf_seq + c->snd.len;
        if (seq_gt(c->snd_nxt, data_end))
            break; /* the FIN is out and nothing follows it */
        /* A record end (MSG_EOR) ends the data this segment may take. */
        uint32_t rec_end = sk_tcp_record_end(c, c->snd_nxt);
        bool record = rec_end != data_end;
        uint32_t avail = rec_end - c->snd_nxt;
        uint32_t win_end = c->snd_una + c->snd_wnd;
        uint32_t room = seq_lt(c->snd_nxt, win_end) ? win_end - c->snd_nxt : 0;
        uint32_t cw_room = cwnd_room(c);
        uint32_t mss = payload_mss(c);
        /* RFC 7661: note when cwnd, not the peer's window or the application, is what holds
         * data back; only then has the flow shown that a larger cwnd would be used. */
        if (avail > cw_room && cw_room <= room && cw_room < mss)
            c->x->cwnd_limited = true; /* x: SYN acknowledged, synchronized */
        room = min_u32(room, cw_room);
        /* RFC 4821 §7.5: a path MTU probe goes as the next new segment when one is due. */
        if (c->snd_nxt == c->snd_max && c->st->cfg.plpmtud && avail > 0 && room > 0) {
            if (sk_tcp_pace_hold(c))
                break;
            uint32_t probe = sk_plpmtu_probe(c, avail, room);
            if (probe) {
                c->snd_nxt += probe;
                sent = true;
                continue;
            }
        }
        uint32_t len = super_len(c, avail, room, mss, record);
        bool fin = fin_may_go(c) && c->snd_nxt + len == data_end;
        if (len == 0 && !fin)
            break;
        /* Both rules hold back new data only: what was sent before goes again as it can. */
        if (len > 0 && len < mss && !fin && c->snd_nxt == c->snd_max) {
            if (len < avail) {
                /* RFC 9293 §3.8.6.2.1: window-limited; wait for a useful window. */
                if (len < c->max_snd_wnd / 2)
                    break;
            } else if ((c->flags & (TF_CORK | TF_MORE)) && !(c->flags & TF_PUSH_ONCE)) {
                /* TCP_CORK, MSG_MORE (Linux's tcp_nagle_test with TCP_NAGLE_CORK): the short
                 * tail waits for more data, the uncork, or the persist timer below. */
                break;
            } else if (!(c->flags & TF_NODELAY) && !record && nagle_holds(c)) {
                /* RFC 896 (Nagle): one small segment in flight at a time (a Fast Open
                 * child's unacknowledged SYN-ACK is not one, RFC 7413 §4.2.2). A segment cut short by
                 * a record end is not small for want of data: more is queued. */
                break;
            }
        }
        /* sk_config.pacing: the segment waits for its departure time (tcp_pacing.c). */
        if (sk_tcp_pace_hold(c))
            break;
        /* RFC 6298 §3 with Karn: time one new segment per RTT when timestamps are off. */
        if (!(c->flags & (TF_RTT_TIMING | TF_TS)) && c->snd_nxt == c->snd_max) {
            c->flags |= TF_RTT_TIMING;
            c->rtt_seq = c->snd_nxt;
            c->rtt_start = c->st->now;
        }
        /* tcp_minshall_update: a short segment of new data (a short one sent again was short
         * when new, or was the data of a Fast Open SYN, which Linux does not count either). */
        if (len % mss != 0 && c->x && c->snd_nxt == c->snd_max)
            c->x->snd_sml = c->snd_nxt + len;
        uint32_t used = send_at(c, c->snd_nxt, len, mss);
        if (used == 0) {
            /* The link refused it (sk_stack_output_refused): it stays queued, untimed. With
             * nothing in flight the persist timer below tries again (on_persist). */
            if ((c->flags & TF_RTT_TIMING) && c->rtt_seq == c->snd_nxt)
                c->flags &= ~TF_RTT_TIMING;
            c->tx_blocked = c->snd_una == c->snd_max;
            break;
        }
        c->snd_nxt += used;
        sent = true;
        if (fin)
            break;
    }
    if (!sent && (c->flags & TF_ACK_NOW))
        sk_tcp_send_ack(c);
    sk_cc_on_output(c, snd_max_before, had_unsent);
    sk_tcp_tlp_arm(c);
    /* Data waits behind a zero window (RFC 9293 §3.8.6.1), or behind a window too small to be
     * worth a segment (§3.8.6.2.1), and nothing is in flight whose ACK could open it: the
     * persist timer probes, or sends what fits when it expires (the SWS override timeout). */
    if (c->snd_una == c->snd_max && seq_lt(c->snd_nxt, c->sndbuf_seq + c->snd.len) &&
        !sk_tcp_timer_on(c, SK_TIMER_PERSIST)) {
        sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
        sk_tcp_timer_set(c, SK_TIMER_PERSIST, c->rto_us);
    }
    /* Send-buffer starvation is asked only of a writer that found no room: cwnd_room walks the
     * scoreboard in recovery, too much for every output. */
    bool starved = sent && c->x && c->x->sndbuf_limited && cwnd_room(c) >= payload_mss(c);
    sk_tcp_chrono_update(c, rwnd_limited(c), starved);
}

void sk_tcp_retransmit(struct sk_tcp *c)
{
    sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
    if (!(c->flags & TF_SYN_ACKED)) {
        send_syn(c);
        return;
    }
    /* Go back to the oldest unacknowledged byte; cwnd decides how much follows. */
    c->snd_nxt = c->snd_una;
    sk_tcp_output(c);
    if (!sk_tcp_timer_on(c, SK_TIMER_RETRANSMIT) && c->snd_una != c->snd_max)
        sk_tcp_timer_set(c, SK_TIMER_RETRANSMIT, c->rto_us);
}
