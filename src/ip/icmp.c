/* ICMPv4 (RFC 792) as RFC 1122 §3.2.2 asks of a host.
 *
 * Echo requests are answered with the same identifier, sequence number and data (§3.2.2.6),
 * however long (a fragmented request gets a fragmented reply); a request sent to a broadcast
 * address is not answered. Destination Unreachable goes out for a protocol we do not handle
 * (code 2) and a UDP port nobody listens on (code 3), never about an ICMP error, a broadcast
 * or a fragment other than the first (§3.2.2), quoting as much of the datagram as fits in 576
 * bytes (RFC 1812 §4.3.2.3), and at most at the rate of a token bucket (RFC 1812 §4.3.2.8).
 * Errors received (Destination Unreachable, Time Exceeded, Parameter Problem) are passed to
 * the transport that sent the quoted datagram (§3.2.2.1-4, RFC 5927): TCP in tcp_icmp.c, UDP
 * in udp.c. Source Quench is ignored (RFC 6633).
 */
#include "ip/ip_int.h"

#define ICMP_SOURCE_QUENCH 4
#define ICMP_PARAM_PROBLEM 12
#define ICMP_MAX_ERROR_LEN 576 /* RFC 1812 §4.3.2.3: the whole error datagram */

static bool is_error_type(uint8_t t)
{
    return t == SK_ICMP_DEST_UNREACH || t == ICMP_SOURCE_QUENCH || t == 5 /* redirect */ ||
           t == SK_ICMP_TIME_EXCEEDED || t == ICMP_PARAM_PROBLEM;
}

/* Checksum over head (8 bytes: an even length keeps the byte pairs aligned) then body. */
static void icmp_finish(uint8_t head[SK_ICMP_HLEN], const uint8_t *body, size_t blen)
{
    sk_put16(head + 2, 0);
    uint32_t sum = sk_csum_add(sk_csum_add(0, head, SK_ICMP_HLEN), body, blen);
    sk_put16(head + 2, sk_csum_fold(sum));
}

bool sk_icmp_take_token(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    const uint64_t one = 1000000u, cap = (uint64_t)st->cfg.icmp_burst * one;
    if (st->now > s->icmp_refill) {
        uint64_t add = (st->now - s->icmp_refill) * st->cfg.icmp_rate_per_s;
        s->icmp_tokens = add > cap - s->icmp_tokens ? cap : s->icmp_tokens + add;
        s->icmp_refill = st->now;
    }
    if (s->icmp_tokens < one)
        return false;
    s->icmp_tokens -= one;
    return true;
}

void sk_icmp_send_unreach(struct sk_stack *st, const struct ip_pkt *p, uint8_t code)
{
    /* RFC 1122 §3.2.2: never about an ICMP error, a broadcast, a non-initial fragment. */
    if (p->broadcast || p->h.frag_off != 0)
        return;
    if (p->h.proto == SK_IPPROTO_ICMP && p->h.payload_len > 0 && is_error_type(p->h.payload[0]))
        return;
    if (!sk_icmp_take_token(st)) {
        sk_drop(st, SK_DROP_ICMP_RATELIMIT, NULL, p->frame, p->frame_len);
        return;
    }
    uint8_t head[SK_ICMP_HLEN] = {SK_ICMP_DEST_UNREACH, code};
    size_t qlen = p->raw_len;
    if (qlen > ICMP_MAX_ERROR_LEN - SK_IPV4_HLEN - SK_ICMP_HLEN)
        qlen = ICMP_MAX_ERROR_LEN - SK_IPV4_HLEN - SK_ICMP_HLEN;
    icmp_finish(head, p->raw, qlen);
    if (sk_ip_send(st, p->h.src, SK_IPPROTO_ICMP, head, sizeof(head), p->raw, qlen, NULL) == 0)
        st->ctr.icmp_out++;
}

static void echo_reply(struct sk_stack *st, const struct ip_pkt *p, const struct sk_icmp_hdr *m)
{
    /* RFC 1122 §3.2.2.6: the data received in the request MUST be returned entirely. */
    uint8_t head[SK_ICMP_HLEN] = {SK_ICMP_ECHO_REPLY, 0};
    sk_put32(head + 4, m->rest);
    icmp_finish(head, m->payload, m->payload_len);
    if (sk_ip_send(st, p->h.src, SK_IPPROTO_ICMP, head, sizeof(head), m->payload,
                   m->payload_len, NULL) == 0)
        st->ctr.icmp_out++;
}

/* An error quoting one of our datagrams: the IPv4 header it quotes, then at least 8 bytes
 * (RFC 792: "the internet header plus the first 64 bits of the original datagram"). */
static void error_input(struct sk_stack *st, const struct ip_pkt *p, const struct sk_icmp_hdr *m)
{
    const uint8_t *q = m->payload;
    size_t n = m->payload_len;
    size_t qhl = n >= SK_IPV4_HLEN ? (size_t)(q[0] & 0x0f) * 4 : 0;
    if (n < SK_IPV4_HLEN || q[0] >> 4 != 4 || qhl < SK_IPV4_HLEN || n < qhl + 8) {
        sk_drop(st, SK_DROP_ICMP_TRUNCATED, NULL, p->frame, p->frame_len);
        return;
    }
    struct sk_ipv4_hdr qh = {
        .hdr_len = (uint8_t)qhl, .total_len = sk_get16(q + 2), .id = sk_get16(q + 4),
        .proto = q[9], .src = sk_get32(q + 12), .dst = sk_get32(q + 16),
        .payload = q + qhl, .payload_len = n - qhl,
    };
    if (qh.src != st->cfg.addr) {
        sk_drop(st, SK_DROP_ICMP_UNMATCHED, NULL, p->frame, p->frame_len);
        return;
    }
    switch (qh.proto) {
    case SK_IPPROTO_TCP:
        sk_tcp_icmp_error(st, m->type, m->code, m->rest, &qh, qh.payload, qh.payload_len);
        break;
    case SK_IPPROTO_UDP:
        if (!sk_udp_icmp_error(st, m->type, m->code, &qh))
            sk_drop(st, SK_DROP_ICMP_UNMATCHED, NULL, p->frame, p->frame_len);
        break;
    default:
        sk_drop(st, SK_DROP_ICMP_UNMATCHED, NULL, p->frame, p->frame_len);
        break;
    }
}

void sk_icmp_input(struct sk_stack *st, const struct ip_pkt *p)
{
    struct sk_icmp_hdr m;
    int r = sk_icmp_parse(p->h.payload, p->h.payload_len, &m);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, p->frame, p->frame_len);
        return;
    }
    st->ctr.icmp_in++;
    switch (m.type) {
    case SK_ICMP_ECHO_REQUEST:
        /* RFC 1122 §3.2.2.6: an echo request to a broadcast address MAY be silently
         * discarded; answering would let one packet draw replies from a whole network. */
        if (p->broadcast || m.code != 0) {
            sk_drop(st, SK_DROP_ICMP_TYPE, NULL, p->frame, p->frame_len);
            return;
        }
        echo_reply(st, p, &m);
        break;
    case SK_ICMP_DEST_UNREACH:
    case SK_ICMP_TIME_EXCEEDED:
    case ICMP_PARAM_PROBLEM:
        error_input(st, p, &m);
        break;
    default:
        /* Echo replies (we send no requests), RFC 6633 Source Quench, redirects (a host on
         * one network with one gateway has nothing to learn), the obsolete rest. */
        sk_drop(st, SK_DROP_ICMP_TYPE, NULL, p->frame, p->frame_len);
        break;
    }
}
