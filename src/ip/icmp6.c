/* ICMPv6 (RFC 4443) for a host.
 *
 * Echo requests are answered with the same identifier, sequence number and data (§4.2),
 * those sent to a group of ours too (from the address RFC 6724 picks for the requester).
 * Errors we send (Parameter Problem from ipv6.c; Destination Unreachable from the transports'
 * side) follow §2.4 (e): never about an ICMPv6 error or a redirect, nor a packet sent to a
 * group (except Parameter Problem code 2 for an option of action 10), nor one whose source is
 * not a single node's (unspecified, multicast); they quote as much of the packet as fits in
 * 1280 bytes (§2.4 (c)) and share ICMPv4's token bucket (§2.4 (f); RFC 1812 §4.3.2.8's
 * mechanism, icmp.c). Errors received quote a packet we sent: a Packet Too Big lowers the path
 * MTU toward its destination (RFC 8201 §4, never below 1280) and goes on to the transport like
 * the others (sk_transport_icmp6_error, which checks it against its state: RFC 5927); one that
 * quotes nothing of ours is counted (icmp-unmatched). Unknown informational messages are
 * dropped (§2.4 (b)); neighbour discovery's go to nd.c.
 */
#include "ip/ip_int.h"

#define ICMP6_ERROR_MAX 1280 /* RFC 4443 §2.4 (c): the whole error packet */

/* Writes the checksum of head (8 bytes) followed by body, over the pseudo-header. */
static void icmp6_finish(uint8_t head[SK_ICMP6_HLEN], const uint8_t *body, size_t blen,
                         const struct sk_addr *src, const struct sk_addr *dst)
{
    sk_put16(head + 2, 0);
    uint32_t sum = sk_csum_pseudo6(src->b, dst->b, SK_IPPROTO_ICMPV6,
                                   (uint32_t)(SK_ICMP6_HLEN + blen));
    sum = sk_csum_add(sk_csum_add(sum, head, SK_ICMP6_HLEN), body, blen);
    sk_put16(head + 2, sk_csum_fold(sum));
}

/* The source for a message answering p: the address it was sent to if that is ours, else
 * the one RFC 6724 picks for its source. */
static bool reply_source(const struct sk_stack *st, const struct ip6_pkt *p, struct sk_addr *src)
{
    if (!p->multicast && sk_ip6_is_local(st, p->dst)) {
        *src = *p->dst;
        return true;
    }
    return sk_ip6_select_src(st, p->src, src);
}

static void send_msg(struct sk_stack *st, const struct ip6_pkt *p, uint8_t head[SK_ICMP6_HLEN],
                     const uint8_t *body, size_t blen)
{
    struct sk_addr src;
    if (sk_addr_is_any(p->src) || !reply_source(st, p, &src))
        return;
    icmp6_finish(head, body, blen, &src, p->src);
    if (sk_ip6_send(st, &src, p->src, SK_IPPROTO_ICMPV6, head, SK_ICMP6_HLEN, body, blen,
                    NULL) == 0)
        st->ctr.icmp6_out++;
}

/* Is p an ICMPv6 error or a redirect (RFC 4443 §2.4 (e.1))? */
static bool is_error_packet(const struct ip6_pkt *p)
{
    return p->proto == SK_IPPROTO_ICMPV6 && p->payload_len > 0 &&
           (sk_icmp6_is_error(p->payload[0]) || p->payload[0] == SK_ND_REDIRECT);
}

void sk_icmp6_send_error(struct sk_stack *st, const struct ip6_pkt *p, uint8_t type,
                         uint8_t code, uint32_t info, bool to_multicast)
{
    if (is_error_packet(p) || (p->multicast && !to_multicast) || sk_addr_is_any(p->src) ||
        sk_addr_is_multicast6(p->src))
        return;
    if (!sk_icmp_take_token(st)) {
        sk_drop(st, SK_DROP_ICMP_RATELIMIT, NULL, p->frame, p->frame_len);
        return;
    }
    uint8_t head[SK_ICMP6_HLEN] = {type, code};
    sk_put32(head + 4, info);
    size_t qlen = p->raw_len;
    if (qlen > ICMP6_ERROR_MAX - SK_IPV6_HLEN - SK_ICMP6_HLEN)
        qlen = ICMP6_ERROR_MAX - SK_IPV6_HLEN - SK_ICMP6_HLEN;
    send_msg(st, p, head, p->raw, qlen);
}

/* An error quoting one of our packets: its IPv6 header at least (the transports want 8 bytes
 * of theirs beyond, and check). */
static void error_input(struct sk_stack *st, const struct ip6_pkt *p,
                        const struct sk_icmp6_hdr *m)
{
    const uint8_t *q = m->payload;
    size_t n = m->payload_len;
    if (n < SK_IPV6_HLEN || q[0] >> 4 != 6) {
        sk_drop(st, SK_DROP_ICMP6_TRUNCATED, NULL, p->frame, p->frame_len);
        return;
    }
    struct sk_addr qsrc, qdst;
    memcpy(qsrc.b, q + 8, 16);
    memcpy(qdst.b, q + 24, 16);
    if (!sk_ip6_is_local(st, &qsrc)) {
        sk_drop(st, SK_DROP_ICMP_UNMATCHED, NULL, p->frame, p->frame_len);
        return;
    }
    bool learned = false;
    if (m->type == SK_ICMP6_PACKET_TOO_BIG) {
        sk_ip6_pmtu_update(st, &qdst, m->data);
        learned = true;
    }
    if (!sk_transport_icmp6_error(st, m->type, m->code, m->data, q, n) && !learned)
        sk_drop(st, SK_DROP_ICMP_UNMATCHED, NULL, p->frame, p->frame_len);
}

void sk_icmp6_input(struct sk_stack *st, const struct ip6_pkt *p)
{
    struct sk_icmp6_hdr m;
    int r = sk_icmp6_parse(p->payload, p->payload_len, p->src, p->dst, &m);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, p->frame, p->frame_len);
        return;
    }
    st->ctr.icmp6_in++;
    if (m.type >= SK_ND_ROUTER_SOLICIT && m.type <= SK_ND_REDIRECT) {
        sk_nd_input(st, p);
        return;
    }
    if (sk_icmp6_is_error(m.type)) {
        /* RFC 4443 §2.4 (a): errors of unknown type go to the upper layer too. */
        error_input(st, p, &m);
        return;
    }
    if (m.type != SK_ICMP6_ECHO_REQUEST || m.code != 0) {
        /* Echo replies (we send no requests) and unknown informational messages. */
        sk_drop(st, SK_DROP_ICMP_TYPE, NULL, p->frame, p->frame_len);
        return;
    }
    /* RFC 4443 §4.2: the reply carries the request's identifier, sequence number and data. */
    uint8_t head[SK_ICMP6_HLEN] = {SK_ICMP6_ECHO_REPLY, 0};
    sk_put32(head + 4, m.data);
    send_msg(st, p, head, m.payload, m.payload_len);
}
