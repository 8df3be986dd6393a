/* ICMPv6 messages (RFC 4443 §2.1), checksum per RFC 4443 §2.3 over the IPv6 pseudo-header
 * (RFC 8200 §8.1, Next Header 58) and the whole message.
 *
 *  0 type  1 code  2-3 checksum  4-7 the first 32 bits of the body (echo: identifier, sequence
 *  number; Packet Too Big: MTU; Parameter Problem: pointer; unused in the other errors; Neighbor
 *  Discovery: its flags and reserved bits)  8.. the rest of the body
 */
#include <string.h>

#include "wire/wire.h"

static uint32_t pseudo(const struct sk_addr *src, const struct sk_addr *dst, size_t len)
{
    return sk_csum_pseudo6(src->b, dst->b, SK_IPPROTO_ICMPV6, (uint32_t)len);
}

int sk_icmp6_parse(const uint8_t *p, size_t len, const struct sk_addr *src,
                   const struct sk_addr *dst, struct sk_icmp6_hdr *h)
{
    if (len < SK_ICMP6_HLEN)
        return SK_DROP_ICMP6_TRUNCATED;
    if (sk_csum_fold(sk_csum_add(pseudo(src, dst, len), p, len)) != 0)
        return SK_DROP_ICMP6_CHECKSUM;
    h->type = p[0];
    h->code = p[1];
    h->data = sk_get32(p + 4);
    h->payload = p + SK_ICMP6_HLEN;
    h->payload_len = len - SK_ICMP6_HLEN;
    return SK_DROP_NONE;
}

size_t sk_icmp6_emit(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                     const struct sk_icmp6_hdr *h)
{
    if (cap < SK_ICMP6_HLEN || h->payload_len > cap - SK_ICMP6_HLEN ||
        h->payload_len > UINT32_MAX - SK_ICMP6_HLEN)
        return 0;
    size_t len = SK_ICMP6_HLEN + h->payload_len;
    /* Payload first: it may overlap (or be) the bytes after the header, e.g. an echo reply
     * built in place from the request. */
    if (h->payload_len && h->payload != p + SK_ICMP6_HLEN)
        memmove(p + SK_ICMP6_HLEN, h->payload, h->payload_len);
    p[0] = h->type;
    p[1] = h->code;
    sk_put16(p + 2, 0);
    sk_put32(p + 4, h->data);
    sk_put16(p + 2, sk_csum_fold(sk_csum_add(pseudo(src, dst, len), p, len)));
    return len;
}
