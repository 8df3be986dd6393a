/* ICMP errors that concern a TCP connection (RFC 1122 §4.2.3.9, RFC 5461, RFC 5927, RFC 1191).
 *
 * The quoted datagram names the connection (our address and port, the peer's) and a sequence
 * number; RFC 5927 §4.1 asks that the number lie within SND.UNA..SND.MAX, so that a blind
 * attacker cannot guess an error into a connection. Then:
 *   - fragmentation needed (type 3, code 4): RFC 1191 §6.1 path MTU discovery. The segments
 *     we send shrink to the next-hop MTU less the headers, and what is in flight is sent again
 *     at the new size. A router that reports no MTU (RFC 1191 §5) gets the next plateau below
 *     the quoted datagram's length. Two floors hold against forged messages: the MTU never
 *     goes below pmtu_min (552 by default, Linux's min_pmtu; RFC 1191 §3 and RFC 791's 68 at
 *     the least), and the segment payload never below tcp_min_mss (sk_tcp_mss_floor), so an
 *     ICMP message quoting a live sequence number cannot make us cut the send queue into
 *     16-byte pieces (the SACK Panic class, CVE-2019-11479);
 *   - hard errors (protocol or port unreachable, codes 2 and 3; administratively prohibited,
 *     codes 9, 10 and 13, RFC 1812 §5.2.7.1) abort a connection in SYN-SENT with
 *     -ECONNREFUSED or -EHOSTUNREACH (RFC 1122 §4.2.3.9; RFC 5461 §4 keeps them soft in
 *     synchronized states, where a stale error must not kill a working connection);
 *   - everything else is soft: recorded in the TCB, the retransmission timer decides;
 *   - under icmp_abort_handshake (RFC 5461 §4, Linux), errors end connections still being
 *     opened: see report() and stack.h.
 *
 * ICMPv6 (RFC 4443) gets the same RFC 5927 check (sk_tcp_icmp6_error). Packet Too Big is RFC
 * 8201's path MTU discovery: the MSS becomes the MTU less 60 bytes (RFC 8200's 40-byte header
 * and TCP's 20, less the timestamps if used), never from an MTU below IPv6's 1280 (RFC 8201
 * §4: such a message is ignored); destination unreachable codes 1 (administratively
 * prohibited), 4 (port unreachable), 5 and 6 (policy, reject route) and a parameter problem
 * are hard errors in SYN-SENT as for IPv4 (RFC 4443 §3.1, RFC 5461 §4), the rest soft.
 */
#include "ip/ip_int.h"
#include "tcp/tcp_int.h"

#define ICMP_CODE_FRAG_NEEDED 4
#define MIN_MTU 68 /* RFC 791 §3.2: every module must forward a 68-byte datagram */

/* RFC 1191 §7: the table of plateaus, for routers that do not report the next-hop MTU. */
static uint32_t plateau_below(uint32_t len)
{
    static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296,
                                        68};
    for (size_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++)
        if (plateaus[i] < len)
            return plateaus[i];
    return MIN_MTU;
}

uint32_t sk_tcp_mss_floor(struct sk_tcp *c, uint32_t mss)
{
    const struct sk_config *cfg = &c->st->cfg;
    uint32_t opts = (c->flags & TF_TS) ? 12 : 0;
    uint32_t mtu = cfg->mtu, hlen = sk_tcp_ip_hlen(c);
    if (hlen != SK_IPV4_HLEN && mtu < SK_IPV6_MIN_MTU)
        mtu = SK_IPV6_MIN_MTU; /* RFC 8200 §5: IPv6 links carry 1280 bytes */
    uint32_t link = mtu - hlen - SK_TCP_HLEN - opts; /* mtu >= 68: positive */
    uint32_t floor = cfg->tcp_min_mss ? cfg->tcp_min_mss : 1;
    if (floor > link)
        floor = link;
    if (mss >= floor)
        return mss;
    c->st->ctr.tcp_mss_floored++;
    return floor;
}

/* The path MTU a "fragmentation needed" reports, raised to the floor (counted). */
static uint32_t reported_mtu(struct sk_stack *st, uint32_t mtu, const struct sk_ipv4_hdr *quoted)
{
    uint32_t floor = st->cfg.pmtu_min > MIN_MTU ? st->cfg.pmtu_min : MIN_MTU;
    if (mtu == 0)
        mtu = plateau_below(quoted->total_len);
    if (mtu < floor) {
        st->ctr.icmp_pmtu_floored++;
        mtu = floor;
    }
    return mtu;
}

/* RFC 1191 §6.1: the datagram was dropped; send it again at once at the new size. A SYN that
 * carried Fast Open data goes again alone (the data follows the handshake, RFC 7413 §4.2.2),
 * as Linux's tcp_simple_retransmit has it; a bare SYN is never too big. */
static void resend_smaller(struct sk_tcp *c)
{
    if (c->state >= SK_TCP_ESTABLISHED && c->snd_una != c->snd_max)
        sk_tcp_retransmit(c);
    else if (c->state == SK_TCP_SYN_SENT && c->snd_max - c->iss > 1)
        sk_tcp_retransmit(c);
}

static void frag_needed(struct sk_tcp *c, uint32_t mtu, const struct sk_ipv4_hdr *quoted)
{
    mtu = reported_mtu(c->st, mtu, quoted);
    /* RFC 6691: the MSS counts neither IP nor TCP options; our segments carry timestamps. */
    uint32_t opts = (c->flags & TF_TS) ? 12 : 0;
    uint32_t hdrs = SK_IPV4_HLEN + SK_TCP_HLEN + opts;
    uint32_t mss = sk_tcp_mss_floor(c, mtu > hdrs ? mtu - hdrs : 0);
    sk_plpmtu_on_icmp(c, mtu); /* the search's ceiling follows (tcp_plpmtu.c) */
    if (mss >= c->snd_mss)
        return; /* RFC 1191 §6.1: never raise the estimate from an ICMP message */
    c->snd_mss = (uint16_t)mss;
    c->soft_error = -EMSGSIZE;
    resend_smaller(c);
}

/* An error for connection c (err, negative errno): hard ends a connection in SYN-SENT, and
 * drops_request says whether Linux would drop a half-open request for it (tcp_req_err's
 * "abort"). Without icmp_abort_handshake everything else is a soft error (RFC 1122 §4.2.3.9,
 * RFC 5461 §4 for synchronized states). */
static void report(struct sk_tcp *c, int err, bool hard, bool drops_request)
{
    bool abort_open = c->st->cfg.icmp_abort_handshake;
    if (c->state == SK_TCP_SYN_SENT && (hard || abort_open)) {
        sk_tcp_terminate(c, err);
    } else if (c->state == SK_TCP_SYN_RECEIVED && abort_open && (c->flags & TF_IN_SYNQ)) {
        /* tcp_req_err: the request goes, silently; the peer's next segment meets the listener. */
        if (drops_request) {
            c->st->ctr.tcp_halfopen_icmp_dropped++;
            sk_tcp_terminate(c, 0);
        } else {
            c->soft_error = err;
        }
    } else if (c->state == SK_TCP_SYN_RECEIVED && abort_open &&
               !((c->flags & TF_PASSIVE) && (c->flags & TF_USER))) {
        /* A simultaneous open, or a Fast Open child the application has not accepted: closed
         * with the error (sk_tcp_terminate keeps a queued child for accept). An accepted Fast
         * Open child counts as connected (tcp_v4_err: "fastopen && !fastopen->sk"). */
        sk_tcp_terminate(c, err);
    } else {
        c->soft_error = err;
    }
}

void sk_tcp_icmp_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t rest,
                       const struct sk_ipv4_hdr *quoted, const uint8_t *l4, size_t l4_len)
{
    if (l4_len < 8) {
        sk_drop(st, SK_DROP_ICMP_TRUNCATED, NULL, NULL, 0);
        return;
    }
    uint16_t sport = sk_get16(l4), dport = sk_get16(l4 + 2);
    uint32_t seq = sk_get32(l4 + 4);
    struct sk_addr src = sk_addr_from_v4(quoted->src), dst = sk_addr_from_v4(quoted->dst);
    struct sk_tcp *c = sk_tcb_lookup(st, &src, sport, &dst, dport);
    /* RFC 5927 §4.1: only an error quoting a sequence number we have in flight,
     * SND.UNA <= SEG.SEQ < SND.NXT, counts. */
    if (c == NULL || c->state == SK_TCP_LISTEN || !seq_le(c->snd_una, seq) ||
        !seq_lt(seq, c->snd_max)) {
        sk_drop(st, SK_DROP_ICMP_UNMATCHED, c, NULL, 0);
        return;
    }
    sk_enter(st);
    if (type == SK_ICMP_DEST_UNREACH && code == ICMP_CODE_FRAG_NEEDED) {
        frag_needed(c, rest & 0xffff, quoted);
    } else if (type == SK_ICMP_DEST_UNREACH &&
               (code == 2 || code == 3 || code == 9 || code == 10 || code == 13)) {
        /* Administratively prohibited (9, 10, 13): Linux says EHOSTUNREACH, FreeBSD
         * ECONNREFUSED (icmp_admin_refused). */
        bool refused = code == 2 || code == 3 || st->cfg.icmp_admin_refused;
        report(c, refused ? -ECONNREFUSED : -EHOSTUNREACH, true, false);
    } else if (type == SK_ICMP_DEST_UNREACH) {
        int err = code == 0 || code == 6 || code == 11 ? -ENETUNREACH : -EHOSTUNREACH;
        report(c, err, false, code == 0 || code == 1); /* net, host unreachable */
    } else {
        report(c, -EHOSTUNREACH, false, true); /* time exceeded, parameter problem */
    }
    sk_leave(st);
}

/* RFC 8201 §4: Packet Too Big lowers the connection's MSS to what the reported MTU carries. */
static void packet_too_big(struct sk_tcp *c, uint32_t mtu)
{
    if (mtu < SK_IPV6_MIN_MTU)
        return; /* RFC 8201 §4: below the minimum link MTU, the message is discarded */
    uint32_t opts = (c->flags & TF_TS) ? 12 : 0;
    uint32_t hdrs = SK_IPV6_HLEN + SK_TCP_HLEN + opts;
    uint32_t mss = sk_tcp_mss_floor(c, mtu - hdrs);
    sk_plpmtu_on_icmp(c, mtu);
    if (mss >= c->snd_mss)
        return; /* never raised by an ICMP message (RFC 8201 §4) */
    c->snd_mss = (uint16_t)mss;
    c->soft_error = -EMSGSIZE;
    resend_smaller(c);
}

bool sk_tcp_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t info,
                        const struct sk_addr *src, const struct sk_addr *dst, const uint8_t *l4,
                        size_t l4_len)
{
    if (l4_len < 8)
        return false;
    uint16_t sport = sk_get16(l4), dport = sk_get16(l4 + 2);
    uint32_t seq = sk_get32(l4 + 4);
    struct sk_tcp *c = sk_tcb_lookup(st, src, sport, dst, dport);
    /* RFC 5927 §4.1, as for IPv4. */
    if (c == NULL || c->state == SK_TCP_LISTEN || !seq_le(c->snd_una, seq) ||
        !seq_lt(seq, c->snd_max))
        return false;
    sk_enter(st);
    if (type == SK_ICMP6_PACKET_TOO_BIG) {
        packet_too_big(c, info);
    } else if (type == SK_ICMP6_DEST_UNREACH && (code == 1 || code == 4 || code == 5 ||
                                                  code == 6)) {
        /* As Linux's icmpv6_err_convert; administratively prohibited (1) is ECONNREFUSED
         * under icmp_admin_refused, as FreeBSD's icmp6_errmap, like its IPv4 twin above. */
        bool refused = code == 4 || (code == 1 && st->cfg.icmp_admin_refused);
        report(c, refused ? -ECONNREFUSED : -EACCES, true, true);
    } else if (type == SK_ICMP6_PARAM_PROBLEM) {
        /* Linux: EPROTO. An unrecognized Next Header (code 1, RFC 4443 §3.4) quoting our TCP
         * segment is IPv6's protocol unreachable: ECONNREFUSED under icmp_admin_refused (as
         * FreeBSD, and as protocol unreachable is for IPv4 above). */
        report(c, code == 1 && st->cfg.icmp_admin_refused ? -ECONNREFUSED : -EPROTO, true, true);
    } else {
        report(c, type == SK_ICMP6_DEST_UNREACH && code == 0 ? -ENETUNREACH : -EHOSTUNREACH,
               false, false);
    }
    sk_leave(st);
    return true;
}
