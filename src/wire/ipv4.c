/* IPv4 header (RFC 791 §3.1), checksum per RFC 1071.
 *
 *  0 ver|ihl  1 tos  2-3 total length  4-5 identification  6-7 flags|fragment offset
 *  8 ttl  9 protocol  10-11 header checksum  12-15 source  16-19 destination  20.. options
 *
 * The checks run in the order a receiver can trust the fields: enough bytes for the fixed header,
 * the version, the header length against the buffer, the total length against the header length
 * and the buffer (bytes past total length are link padding), then the header checksum.
 */
#include "wire/wire.h"

#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_MASK 0x1fff /* in units of 8 bytes */

/* capture: a total length beyond len is the capture's cut (the payload is what is held) and
 * the checksum is not verified (sk_ipv4_parse_capture). */
static int ipv4_parse(const uint8_t *p, size_t len, bool capture, struct sk_ipv4_hdr *h)
{
    if (len < SK_IPV4_HLEN)
        return SK_DROP_IP_TRUNCATED;
    if (p[0] >> 4 != 4)
        return SK_DROP_IP_VERSION;
    size_t hdr_len = (size_t)(p[0] & 0x0f) * 4;
    if (hdr_len < SK_IPV4_HLEN || hdr_len > len)
        return SK_DROP_IP_HDRLEN;
    size_t total_len = sk_get16(p + 2);
    if (total_len < hdr_len || (total_len > len && !capture))
        return SK_DROP_IP_TOTLEN;
    if (!capture && sk_csum_fold(sk_csum_add(0, p, hdr_len)) != 0)
        return SK_DROP_IP_CHECKSUM;

    uint16_t frag = sk_get16(p + 6);
    h->hdr_len = (uint8_t)hdr_len;
    h->tos = p[1];
    h->total_len = (uint16_t)total_len;
    h->id = sk_get16(p + 4);
    h->df = (frag & IP_FLAG_DF) != 0;
    h->mf = (frag & IP_FLAG_MF) != 0;
    h->frag_off = (uint16_t)((frag & IP_FRAG_MASK) * 8);
    h->ttl = p[8];
    h->proto = p[9];
    h->src = sk_get32(p + 12);
    h->dst = sk_get32(p + 16);
    h->options = p + SK_IPV4_HLEN;
    h->options_len = hdr_len - SK_IPV4_HLEN;
    h->payload = p + hdr_len;
    h->payload_len = (total_len > len ? len : total_len) - hdr_len;
    return SK_DROP_NONE;
}

int sk_ipv4_parse(const uint8_t *p, size_t len, struct sk_ipv4_hdr *h)
{
    return ipv4_parse(p, len, false, h);
}

int sk_ipv4_parse_capture(const uint8_t *p, size_t len, struct sk_ipv4_hdr *h)
{
    return ipv4_parse(p, len, true, h);
}

/* total_len is 16 bits, so a payload above 65515 bytes cannot be described: that returns 0 too.
 * frag_off is rounded down to its 8-byte unit. */
size_t sk_ipv4_emit(uint8_t *p, size_t cap, const struct sk_ipv4_hdr *h, size_t payload_len)
{
    if (cap < SK_IPV4_HLEN || payload_len > UINT16_MAX - SK_IPV4_HLEN)
        return 0;
    uint16_t frag = (uint16_t)((h->frag_off / 8) & IP_FRAG_MASK);
    if (h->df)
        frag |= IP_FLAG_DF;
    if (h->mf)
        frag |= IP_FLAG_MF;

    p[0] = 4 << 4 | SK_IPV4_HLEN / 4;
    p[1] = h->tos;
    sk_put16(p + 2, (uint16_t)(SK_IPV4_HLEN + payload_len));
    sk_put16(p + 4, h->id);
    sk_put16(p + 6, frag);
    p[8] = h->ttl;
    p[9] = h->proto;
    sk_put16(p + 10, 0);
    sk_put32(p + 12, h->src);
    sk_put32(p + 16, h->dst);
    sk_put16(p + 10, sk_csum_fold(sk_csum_add(0, p, SK_IPV4_HLEN)));
    return SK_IPV4_HLEN;
}
