/* ICMPv4 messages (RFC 792), checksum per RFC 1071.
 *
 *  0 type  1 code  2-3 checksum  4-7 "rest of header" (echo: identifier, sequence number;
 *  destination unreachable code 4: next-hop MTU in the low 16 bits, RFC 1191 §4)  8.. data
 *
 * The checksum covers the whole message, header and data (RFC 792, "Echo or Echo Reply").
 */
#include <string.h>

#include "wire/wire.h"

int sk_icmp_parse(const uint8_t *p, size_t len, struct sk_icmp_hdr *h)
{
    if (len < SK_ICMP_HLEN)
        return SK_DROP_ICMP_TRUNCATED;
    if (sk_csum_fold(sk_csum_add(0, p, len)) != 0)
        return SK_DROP_ICMP_CHECKSUM;
    h->type = p[0];
    h->code = p[1];
    h->rest = sk_get32(p + 4);
    h->payload = p + SK_ICMP_HLEN;
    h->payload_len = len - SK_ICMP_HLEN;
    return SK_DROP_NONE;
}

size_t sk_icmp_emit(uint8_t *p, size_t cap, const struct sk_icmp_hdr *h)
{
    if (cap < SK_ICMP_HLEN || h->payload_len > cap - SK_ICMP_HLEN)
        return 0;
    size_t len = SK_ICMP_HLEN + h->payload_len;
    /* Payload first: it may overlap (or be) the bytes after the header, e.g. an echo reply
     * built in place from the request. */
    if (h->payload_len && h->payload != p + SK_ICMP_HLEN)
        memmove(p + SK_ICMP_HLEN, h->payload, h->payload_len);
    p[0] = h->type;
    p[1] = h->code;
    sk_put16(p + 2, 0);
    sk_put32(p + 4, h->rest);
    sk_put16(p + 2, sk_csum_fold(sk_csum_add(0, p, len)));
    return len;
}
