/* IPv6 datagrams to the transports (RFC 8200 §8): TCP and UDP over IPv6, and the ICMPv6
 * errors (RFC 4443) that quote what they sent.
 *
 * The IPv6 layer (ipv6.c) has walked the extension headers and hands over the upper-layer
 * bytes; here they become struct sk_l3, the view TCP and UDP take of either IP. TCP never
 * answers a multicast destination (RFC 1122 §4.2.3.10, carried into IPv6 by RFC 8200 §8:
 * no connection to or from a group). An ICMPv6 error's quote starts at the IPv6 header of
 * what we sent; the transport header follows its extension headers, which we never send, so
 * the next header field names it directly.
 */
#include "ip/ip_int.h"
#include "tcp/tcp_int.h"

void sk_transport_input6(struct sk_stack *st, const struct ip6_pkt *p)
{
    struct sk_l3 l3 = {.src = *p->src, .dst = *p->dst, .v6 = true, .ecn = p->tclass & 3,
                       .multicast = p->multicast, .payload = p->payload,
                       .payload_len = p->payload_len};
    if (p->proto == SK_IPPROTO_TCP) {
        if (p->multicast) {
            sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
            return;
        }
        sk_tcp_input_l3(st, &l3, p->frame, p->frame_len);
    } else if (p->proto == SK_IPPROTO_UDP) {
        /* RFC 4443 §3.1: no socket on the port is Destination Unreachable, code 4. */
        if (!sk_udp_input6(st, &l3, p->frame, p->frame_len))
            sk_icmp6_send_error(st, p, SK_ICMP6_DEST_UNREACH, 4, 0, false);
    } else {
        sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
    }
}

bool sk_transport_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t info,
                              const uint8_t *quote, size_t quote_len)
{
    if (quote_len < SK_IPV6_HLEN + 8)
        return false;
    struct sk_addr src, dst;
    memcpy(src.b, quote + 8, 16);
    memcpy(dst.b, quote + 24, 16);
    uint8_t next = quote[6];
    const uint8_t *l4 = quote + SK_IPV6_HLEN;
    size_t l4_len = quote_len - SK_IPV6_HLEN;
    if (next == SK_IPPROTO_TCP)
        return sk_tcp_icmp6_error(st, type, code, info, &src, &dst, l4, l4_len);
    if (next == SK_IPPROTO_UDP)
        return sk_udp_icmp6_error(st, type, code, &dst, l4, l4_len);
    return false;
}
