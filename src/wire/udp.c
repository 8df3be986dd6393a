/* UDP (RFC 768), checksum per RFC 1071 over the pseudo-header (IPv4: RFC 768; IPv6: RFC 8200
 * §8.1), header and data.
 *
 *  0-1 source port  2-3 destination port  4-5 length (header + data)  6-7 checksum  8.. data
 *
 * A checksum field of 0 means the sender computed none (RFC 768: "all zero ... means the
 * transmitter generated no checksum"); so a computed 0 is sent as its other form, 0xffff. Over
 * IPv6 the checksum is mandatory (RFC 8200 §8.1): a received 0 is a checksum drop.
 *
 * Both families share one implementation, given the pseudo-header's sum without the length.
 */
#include <string.h>

#include "wire/wire.h"

static int udp_parse(const uint8_t *p, size_t len, uint32_t pseudo, bool verify_csum,
                     bool zero_ok, struct sk_udp_hdr *h)
{
    if (len < SK_UDP_HLEN)
        return SK_DROP_UDP_TRUNCATED;
    uint16_t ulen = sk_get16(p + 4);
    if (ulen < SK_UDP_HLEN || ulen > len)
        return SK_DROP_UDP_TRUNCATED;
    uint16_t csum = sk_get16(p + 6);
    if (verify_csum && csum == 0 && !zero_ok)
        return SK_DROP_UDP_CHECKSUM;
    if (verify_csum && csum != 0 && sk_csum_fold(sk_csum_add(pseudo + ulen, p, ulen)) != 0)
        return SK_DROP_UDP_CHECKSUM;
    h->sport = sk_get16(p);
    h->dport = sk_get16(p + 2);
    h->len = ulen;
    h->checksum = csum;
    h->payload = p + SK_UDP_HLEN;
    h->payload_len = ulen - SK_UDP_HLEN;
    return SK_DROP_NONE;
}

int sk_udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct sk_udp_hdr *h)
{
    return sk_udp_parse_verify(p, len, src, dst, true, h);
}

int sk_udp_parse_verify(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
                        bool verify_csum, struct sk_udp_hdr *h)
{
    return udp_parse(p, len, sk_csum_pseudo(src, dst, SK_IPPROTO_UDP, 0), verify_csum, true, h);
}

int sk_udp_parse6(const uint8_t *p, size_t len, const struct sk_addr *src,
                  const struct sk_addr *dst, bool verify_csum, struct sk_udp_hdr *h)
{
    return udp_parse(p, len, sk_csum_pseudo6(src->b, dst->b, SK_IPPROTO_UDP, 0), verify_csum,
                     false, h);
}

/* h->len and h->checksum are ignored: both are computed. A datagram over 65535 bytes returns 0. */
static size_t udp_emit(uint8_t *p, size_t cap, uint32_t pseudo, const struct sk_udp_hdr *h)
{
    if (cap < SK_UDP_HLEN || h->payload_len > cap - SK_UDP_HLEN ||
        h->payload_len > UINT16_MAX - SK_UDP_HLEN)
        return 0;
    uint16_t len = (uint16_t)(SK_UDP_HLEN + h->payload_len);
    if (h->payload_len && h->payload != p + SK_UDP_HLEN)
        memmove(p + SK_UDP_HLEN, h->payload, h->payload_len);
    sk_put16(p, h->sport);
    sk_put16(p + 2, h->dport);
    sk_put16(p + 4, len);
    sk_put16(p + 6, 0);
    uint16_t csum = sk_csum_fold(sk_csum_add(pseudo + len, p, len));
    sk_put16(p + 6, csum ? csum : 0xffff);
    return len;
}

size_t sk_udp_emit(uint8_t *p, size_t cap, uint32_t src, uint32_t dst, const struct sk_udp_hdr *h)
{
    return udp_emit(p, cap, sk_csum_pseudo(src, dst, SK_IPPROTO_UDP, 0), h);
}

size_t sk_udp_emit6(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                    const struct sk_udp_hdr *h)
{
    return udp_emit(p, cap, sk_csum_pseudo6(src->b, dst->b, SK_IPPROTO_UDP, 0), h);
}
