/* Packetization-layer path MTU discovery (RFC 4821; the states of RFC 8899 §5.2 where they
 * apply to TCP), for paths that drop large packets without sending the ICMP message that
 * RFC 1191 / RFC 8201 path MTU discovery (tcp_icmp.c) relies on.
 *
 * Sizes here are packet sizes, as RFC 4821 §7.1 counts them: the IP header, the TCP header with
 * the options of a full segment (timestamps, when agreed) and the payload. The size in use is
 * snd_mss plus those headers (RFC 4821's eff_pmtu). The search keeps a range
 * [search_low, search_high] (RFC 4821 §7.1) and probes its middle (§7.3's binary search):
 *   - a probe is one segment of new data of the probe size, sent only as the next new segment
 *     when at least DupThresh + 1 full segments' worth of data follows it and the windows
 *     take it all, so that its loss shows as duplicate ACKs (§7.4, §7.5; Linux's
 *     tcp_mtu_probe asks the same of its size_needed);
 *   - acknowledged, cumulatively or by SACK, it raises search_low and the MSS (§7.6.1); cwnd
 *     counts bytes here and stays as it is (Linux rescales its cwnd of packets to the same
 *     effect);
 *   - lost (the first hole when loss recovery would begin), it is no sign of congestion
 *     (§7.6.2, RFC 4821 §10.1): its bytes go again at the MSS in use, cwnd and ssthresh are
 *     left alone and recovery does not start for it. plpmtu_max_probes losses of one size
 *     (RFC 8899 §5.1.2 MAX_PROBES) lower search_high below it;
 *   - a probe caught up in other losses (recovery, or a timeout when it is not the oldest
 *     segment out) is inconclusive (§7.6.3) and is sent again later.
 * The search ends (SEARCH_COMPLETE) when search_high - search_low is under
 * plpmtu_probe_threshold; when search_high is still the ceiling (nothing failed there) the
 * ceiling itself is probed last, so that a path that carries our whole link MTU ends at it.
 * After plpmtu_probe_interval_us the search starts again from the size in use (RFC 8899
 * §5.1.1 PMTU_RAISE_TIMER, Linux's tcp_probe_interval), lazily, at the next chance to probe.
 *
 * Black holes (RFC 4821 §7.7, full-stop timeout): plpmtu_blackhole_rtos consecutive
 * retransmission timeouts with at least a full segment outstanding take the size down to the
 * base (BASE), or, at or below the base already, halve it (ERROR; never below pmtu_min for
 * IPv4, 1280 for IPv6), as Linux's tcp_mtu_probing does; the next ACK of new data confirms
 * the smaller size and the search resumes (SEARCHING). With plpmtud = 1 this is what starts
 * the search at all; with 2 the search runs from the connection's start, from the MSS the
 * handshake agreed.
 *
 * ICMP (tcp_icmp.c) and this search agree: a "fragmentation needed" or Packet Too Big lowers
 * the ceiling and the range to the reported MTU (a probe larger than it failed), and only this
 * search raises the size again, once probes show the path carries more.
 */
#include "tcp/tcp_int.h"

#define DUP_THRESH 3 /* RFC 5681 §3.2 */
#define MIN_MTU_V4 68 /* RFC 791 §3.2 */

static uint32_t hdrs(const struct sk_tcp *c)
{
    return sk_tcp_ip_hlen(c) + SK_TCP_HLEN + ((c->flags & TF_TS) ? 12 : 0);
}

/* RFC 4821's eff_pmtu: the packet a full segment makes now. */
static uint32_t eff(const struct sk_tcp *c)
{
    return c->snd_mss + hdrs(c);
}

/* The least size a black hole may take us to: IPv6 links carry 1280 bytes (RFC 8200 §5);
 * for IPv4 the floor ICMP reports are held to (pmtu_min), at least RFC 791's 68. */
static uint32_t floor_mtu(const struct sk_tcp *c)
{
    if (sk_tcp_ip_hlen(c) != SK_IPV4_HLEN)
        return SK_IPV6_MIN_MTU;
    return max_u32(c->st->cfg.pmtu_min, MIN_MTU_V4);
}

/* The base: plpmtu_base_mss and its headers, where search_low starts (as Linux's
 * tcp_base_mss). */
static uint32_t base_mtu(const struct sk_tcp *c)
{
    return c->st->cfg.plpmtu_base_mss + hdrs(c);
}

/* RFC 4821 §7.2: search_high starts at the largest packet the flow may carry: our link's MTU,
 * the peer's MSS option (RFC 9293 §3.7.1 SendMSS; RFC 6691: it counts no options) and a
 * TCP_MAXSEG cap on this connection. The MSS we announce (sk_config.mss) is a statement
 * about what we receive and does not bound it, as a route's advmss does not on Linux. */
static uint32_t ceiling_of(const struct sk_tcp *c)
{
    uint32_t ip = sk_tcp_ip_hlen(c);
    uint32_t link = c->st->cfg.mtu;
    if (ip != SK_IPV4_HLEN && link < SK_IPV6_MIN_MTU)
        link = SK_IPV6_MIN_MTU;
    uint32_t top = min_u32(link, (uint32_t)c->peer_mss + ip + SK_TCP_HLEN);
    if (c->rcv_mss < sk_tcp_our_mss(c)) /* a TCP_MAXSEG below the stack's own */
        top = min_u32(top, (uint32_t)c->rcv_mss + ip + SK_TCP_HLEN);
    return max_u32(top, eff(c)); /* never below what is already in use */
}

static void start(struct sk_tcp *c, uint8_t state)
{
    struct sk_tcp_ext *x = c->x;
    x->plp.started = true;
    if (x->plp.ceiling == 0)
        x->plp.ceiling = (uint16_t)min_u32(ceiling_of(c), UINT16_MAX);
    x->plp.search_high = x->plp.ceiling;
    x->plp.search_low = (uint16_t)min_u32(base_mtu(c), eff(c));
    x->plp.state = state;
}

static void complete(struct sk_tcp *c)
{
    c->x->plp.state = SK_PLPMTU_SEARCH_COMPLETE;
    c->x->plp.search_done_ms = (uint32_t)(c->st->now / 1000);
}

/* RFC 4821 §7.3: the next probe size, or 0 when the search is over. A midpoint not above the
 * size in use would teach nothing: search_low moves up to that size first. */
static uint32_t next_size(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t cur = eff(c), low = x->plp.search_low, high = x->plp.search_high;
    if (high <= cur) {
        complete(c);
        return 0;
    }
    if ((low + high) / 2 <= cur)
        x->plp.search_low = (uint16_t)(low = cur);
    uint32_t mid = (low + high) / 2;
    if (high - low < c->st->cfg.plpmtu_probe_threshold || mid <= cur) {
        if (high == x->plp.ceiling)
            return high; /* nothing failed at the ceiling: try it, last */
        complete(c);
        return 0;
    }
    return mid;
}

/* A completed search starts again after plpmtu_probe_interval_us (RFC 8899 §5.1.1): the
 * ceiling is worked out afresh (an ICMP report ages out, as RFC 1191 §6.3 lets it), the range
 * opens from the size in use. */
static void maybe_research(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t since_ms = (uint32_t)(c->st->now / 1000) - x->plp.search_done_ms;
    if (since_ms < c->st->cfg.plpmtu_probe_interval_us / 1000)
        return;
    x->plp.ceiling = (uint16_t)min_u32(ceiling_of(c), UINT16_MAX);
    x->plp.search_high = x->plp.ceiling;
    x->plp.search_low = (uint16_t)eff(c);
    x->plp.lost_here = 0;
    x->plp.state = SK_PLPMTU_SEARCHING;
}

uint32_t sk_plpmtu_probe(struct sk_tcp *c, uint32_t avail, uint32_t room)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    if (cfg->plpmtud == 0 || x == NULL)
        return 0;
    if (c->state != SK_TCP_ESTABLISHED && c->state != SK_TCP_CLOSE_WAIT)
        return 0;
    if (!x->plp.started) {
        if (cfg->plpmtud != 2)
            return 0;
        start(c, SK_PLPMTU_SEARCHING);
    }
    if (x->plp.state == SK_PLPMTU_SEARCH_COMPLETE)
        maybe_research(c);
    /* §7.4: one probe at a time, none while loss is being repaired, and none with SACK
     * blocks to send (they would make the probe larger than its size). */
    if (x->plp.state != SK_PLPMTU_SEARCHING || x->plp.probe_mtu != 0 || x->plp.repairing ||
        (c->flags & TF_RECOVERY) || c->retries != 0 || c->snd_nxt != c->snd_max ||
        x->ooo.n != 0 || x->dsack_left != x->dsack_right)
        return 0;
    uint32_t size = next_size(c);
    if (size == 0)
        return 0;
    uint32_t len = size - hdrs(c);
    /* §7.5: the probe fits the windows now, and enough data follows it, inside the peer's
     * window, for its loss to draw DupThresh duplicate ACKs (Linux's size_needed). */
    uint64_t need = len + (uint64_t)(DUP_THRESH + 1) * c->snd_mss;
    uint32_t wnd_end = c->snd_una + c->snd_wnd;
    uint32_t wnd_room = seq_lt(c->snd_nxt, wnd_end) ? wnd_end - c->snd_nxt : 0;
    if (room < len || avail < need || wnd_room < need)
        return 0;
    uint32_t seq = c->snd_nxt;
    uint32_t used = sk_tcp_send_probe(c, seq, len);
    if (used == 0)
        return 0;
    x->plp.probe_mtu = (uint16_t)size;
    x->plp.probe_seq = seq;
    x->plp.probe_end = seq + used;
    x->plp.probes_sent++;
    return used;
}

/* §7.6.1: the path carries the probe: it is the new size in use. */
static void probe_success(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t size = x->plp.probe_mtu;
    x->plp.probe_mtu = 0;
    x->plp.lost_here = 0;
    if (size > x->plp.search_low)
        x->plp.search_low = (uint16_t)size;
    if (size > eff(c))
        c->snd_mss = (uint16_t)(size - hdrs(c));
    if (eff(c) >= x->plp.search_high)
        complete(c);
}

/* §7.6.2: a probe lost. Enough losses of one size (MAX_PROBES) put it out of the range. */
static void probe_failed(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint8_t most = c->st->cfg.plpmtu_max_probes ? c->st->cfg.plpmtu_max_probes : 1;
    x->plp.probes_lost++;
    if (++x->plp.lost_here >= most) {
        x->plp.lost_here = 0;
        if (x->plp.probe_mtu - 1u < x->plp.search_high)
            x->plp.search_high = (uint16_t)(x->plp.probe_mtu - 1u);
    }
    x->plp.probe_mtu = 0;
}

/* The lost probe's bytes go again in segments of the MSS in use (Linux's
 * tcp_simple_retransmit), sent as a fast retransmit but without its cwnd reduction. */
static void repair(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    uint32_t seq = x->plp.probe_seq, end = x->plp.probe_end;
    enum sk_seg_why cause = sk_tcp_cause(c->st, SK_SEG_WHY_FAST_RETRANSMIT);
    while (seq_lt(seq, end)) {
        uint32_t used = sk_tcp_send_at(c, seq, min_u32(end - seq, c->snd_mss));
        if (used == 0)
            break;
        sk_tcp_count_retransmit(c);
        seq += used;
    }
    c->st->seg_cause = cause;
    x->plp.repairing = true; /* until SND.UNA passes probe_end */
}

bool sk_plpmtu_probe_lost(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (x == NULL || !x->plp.started)
        return false;
    if (x->plp.probe_mtu != 0) {
        if (c->snd_una == x->plp.probe_seq) {
            /* The first hole is the probe: its loss says nothing of congestion. */
            probe_failed(c);
            repair(c);
            return true;
        }
        x->plp.probe_mtu = 0; /* §7.6.3: lost among others, inconclusive */
        x->plp.lost_here = 0;
        return false;
    }
    /* Duplicate ACKs go on arriving for the data after the probe until the repair lands. */
    return x->plp.repairing && seq_lt(c->snd_una, x->plp.probe_end);
}

void sk_plpmtu_on_ack(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    struct sk_tcp_ext *x = c->x;
    if (x == NULL || !x->plp.started)
        return;
    if (x->plp.repairing && seq_ge(h->ack, x->plp.probe_end))
        x->plp.repairing = false;
    if (x->plp.probe_mtu != 0) {
        bool got = seq_ge(h->ack, x->plp.probe_end);
        if (h->opts.present & SK_OPT_SACK)
            for (uint8_t i = 0; i < h->opts.nsack && !got; i++)
                got = seq_le(h->opts.sack[i].left, x->plp.probe_seq) &&
                      seq_ge(h->opts.sack[i].right, x->plp.probe_end);
        if (got)
            probe_success(c);
    }
    /* RFC 8899 §5.2: new data acknowledged at the lowered size confirms it (BASE, ERROR). */
    if ((x->plp.state == SK_PLPMTU_BASE || x->plp.state == SK_PLPMTU_ERROR) &&
        seq_gt(h->ack, x->plp.probe_seq)) {
        x->plp.search_low = (uint16_t)eff(c);
        x->plp.state = SK_PLPMTU_SEARCHING;
    }
}

/* §7.7: the path has swallowed everything for several timeouts. */
static void black_hole(struct sk_tcp *c)
{
    struct sk_tcp_ext *x = c->x;
    if (!x->plp.started)
        start(c, SK_PLPMTU_BASE);
    /* A black hole drops to the base, never under the floor (RFC 8899 §5.1.2 puts IPv6's
     * BASE_PLPMTU at 1280: every IPv6 path carries that much). */
    uint32_t cur = eff(c), base = max_u32(base_mtu(c), floor_mtu(c)), next;
    if (cur > base) {
        next = base;
        x->plp.state = SK_PLPMTU_BASE;
    } else {
        next = max_u32(cur / 2, floor_mtu(c));
        if (next >= cur)
            return; /* at the floor already: nothing smaller to try */
        x->plp.state = SK_PLPMTU_ERROR;
    }
    c->snd_mss = (uint16_t)sk_tcp_mss_floor(c, next > hdrs(c) ? next - hdrs(c) : 0);
    x->plp.search_low = (uint16_t)eff(c);
    x->plp.lost_here = 0;
    x->plp.probe_seq = c->snd_una; /* an ACK beyond it confirms the new size */
}

void sk_plpmtu_on_rto(struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    struct sk_tcp_ext *x = c->x;
    if (cfg->plpmtud == 0 || x == NULL)
        return;
    x->plp.repairing = false;
    if (x->plp.probe_mtu != 0) {
        if (c->snd_una == x->plp.probe_seq)
            probe_failed(c);
        else
            x->plp.probe_mtu = x->plp.lost_here = 0; /* §7.6.3 */
    }
    uint8_t n = cfg->plpmtu_blackhole_rtos ? cfg->plpmtu_blackhole_rtos : 1;
    if (c->retries >= n && c->snd_max - c->snd_una >= c->snd_mss)
        black_hole(c);
}

void sk_plpmtu_on_icmp(struct sk_tcp *c, uint32_t mtu)
{
    struct sk_tcp_ext *x = c->x;
    if (c->st->cfg.plpmtud == 0 || x == NULL)
        return;
    if (x->plp.ceiling == 0)
        x->plp.ceiling = (uint16_t)min_u32(ceiling_of(c), UINT16_MAX);
    uint16_t m = (uint16_t)min_u32(mtu, UINT16_MAX);
    x->plp.ceiling = x->plp.ceiling < m ? x->plp.ceiling : m;
    if (x->plp.search_high > m)
        x->plp.search_high = m;
    if (x->plp.search_low > m)
        x->plp.search_low = m;
    if (x->plp.probe_mtu > m) {
        /* The report is about the probe: it failed for certain. */
        x->plp.probes_lost++;
        x->plp.lost_here = 0;
        x->plp.probe_mtu = 0;
        if (mtu >= eff(c)) /* else tcp_icmp.c sends everything in flight again */
            repair(c);
    }
}

void sk_plpmtu_info(const struct sk_tcp *c, struct sk_tcp_info *o)
{
    if (c->state < SK_TCP_ESTABLISHED && c->state != SK_TCP_CLOSED)
        return;
    o->plpmtu = (uint16_t)min_u32(eff(c), UINT16_MAX);
    if (c->x == NULL)
        return;
    o->plpmtu_state = c->x->plp.state;
    o->plpmtu_search_low = c->x->plp.search_low;
    o->plpmtu_search_high = c->x->plp.search_high;
    o->plpmtu_probe = c->x->plp.probe_mtu;
    o->plpmtu_probes_sent = c->x->plp.probes_sent;
    o->plpmtu_probes_lost = c->x->plp.probes_lost;
}
