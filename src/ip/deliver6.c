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

#define IP6_HLEN 40

/* RFC 8200 §8.1: source, destination, upper-layer length (32 bits), three zero bytes, next
 * header. Its sum is IPv4's (RFC 9293 §3.1) with the 16-byte addresses in place of the
 * 4-byte ones, the length a 32-bit word (its high half zero below 64 KiB). */
uint32_t sk_csum_pseudo6(const struct sk_addr *src, const struct sk_addr *dst, uint8_t proto,
                         uint32_t len)
{
    uint32_t sum = sk_csum_pseudo(0, 0, proto, (uint16_t)len);
    sum = sk_csum_combine(sum, sk_csum_pseudo(0, 0, 0, (uint16_t)(len >> 16)));
    sum = sk_csum_add(sum, src->b, 16);
    return sk_csum_add(sum, dst->b, 16);
}

bool sk_l4_csum6_ok(const struct sk_addr *src, const struct sk_addr *dst, uint8_t proto,
                    const uint8_t *p, size_t len)
{
    uint32_t sum = sk_csum_pseudo6(src, dst, proto, (uint32_t)len);
    return sk_csum_fold(sk_csum_add(sum, p, len)) == 0;
}

size_t sk_tcp_emit6(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                    const struct sk_tcp_hdr *h, int syn_layout)
{
    /* Written as over IPv4 with both addresses 0, whose pseudo-header sums to protocol and
     * length alone; the checksum field then takes the addresses' sum in. A partial checksum
     * holds the pseudo-header's sum, a full one the complement of the whole sum. */
    size_t n = sk_tcp_emit(p, cap, 0, 0, h, syn_layout);
    if (n == 0)
        return 0;
    uint32_t addrs = sk_csum_add(sk_csum_add(0, src->b, 16), dst->b, 16);
    uint16_t field = sk_get16(p + 16);
    if (h->csum_partial) {
        sk_put16(p + 16, (uint16_t)~sk_csum_fold(sk_csum_combine(field, addrs)));
    } else {
        uint16_t c = sk_csum_fold(sk_csum_combine((uint16_t)~field, addrs));
        sk_put16(p + 16, c);
    }
    return n;
}

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
        sk_udp_input6(st, &l3, p->frame, p->frame_len);
    } else {
        sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
    }
}

bool sk_transport_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t info,
                              const uint8_t *quote, size_t quote_len)
{
    if (quote_len < IP6_HLEN + 8)
        return false;
    struct sk_addr src, dst;
    memcpy(src.b, quote + 8, 16);
    memcpy(dst.b, quote + 24, 16);
    uint8_t next = quote[6];
    const uint8_t *l4 = quote + IP6_HLEN;
    size_t l4_len = quote_len - IP6_HLEN;
    if (next == SK_IPPROTO_TCP)
        return sk_tcp_icmp6_error(st, type, code, info, &src, &dst, l4, l4_len);
    if (next == SK_IPPROTO_UDP)
        return sk_udp_icmp6_error(st, type, code, &dst, l4, l4_len);
    return false;
}
