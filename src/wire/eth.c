/* Ethernet II framing (IEEE 802.3 clause 3.2.6 "Length/Type" >= 0x0600; RFC 894 for IPv4).
 *
 * Only the 14-byte header: destination, source, EtherType. The FCS never reaches us (TAP strips
 * it). An 802.1Q tag (EtherType 0x8100) is reported as that EtherType; the caller drops it.
 */
#include <string.h>

#include "wire/wire.h"

int sk_eth_parse(const uint8_t *p, size_t len, struct sk_eth_hdr *h)
{
    if (len < SK_ETH_HLEN)
        return SK_DROP_LINK_TRUNCATED;
    memcpy(h->dst, p, 6);
    memcpy(h->src, p + 6, 6);
    h->ethertype = sk_get16(p + 12);
    return SK_DROP_NONE;
}

size_t sk_eth_emit(uint8_t *p, size_t cap, const struct sk_eth_hdr *h)
{
    if (cap < SK_ETH_HLEN)
        return 0;
    memcpy(p, h->dst, 6);
    memcpy(p + 6, h->src, 6);
    sk_put16(p + 12, h->ethertype);
    return SK_ETH_HLEN;
}
