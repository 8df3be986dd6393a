/* ARP for IPv4 over Ethernet (RFC 826).
 *
 * Packet: hrd(2) = 1 Ethernet, pro(2) = 0x0800, hln(1) = 6, pln(1) = 4, op(2),
 * sha(6), spa(4), tha(6), tpa(4): 28 bytes. Anything else is not ours to answer, so it is
 * rejected whole rather than partly understood. Ethernet pads the frame to 60 bytes; the
 * padding after byte 28 is ignored.
 */
#include <string.h>

#include "wire/wire.h"

#define ARP_HRD_ETHERNET 1

int sk_arp_parse(const uint8_t *p, size_t len, struct sk_arp *a)
{
    if (len < SK_ARP_LEN)
        return SK_DROP_ARP_MALFORMED;
    if (sk_get16(p) != ARP_HRD_ETHERNET || sk_get16(p + 2) != SK_ETHERTYPE_IPV4 || p[4] != 6 ||
        p[5] != 4)
        return SK_DROP_ARP_MALFORMED;
    a->op = sk_get16(p + 6);
    if (a->op != SK_ARP_REQUEST && a->op != SK_ARP_REPLY)
        return SK_DROP_ARP_MALFORMED;
    memcpy(a->sha, p + 8, 6);
    a->spa = sk_get32(p + 14);
    memcpy(a->tha, p + 18, 6);
    a->tpa = sk_get32(p + 24);
    return SK_DROP_NONE;
}

size_t sk_arp_emit(uint8_t *p, size_t cap, const struct sk_arp *a)
{
    if (cap < SK_ARP_LEN)
        return 0;
    sk_put16(p, ARP_HRD_ETHERNET);
    sk_put16(p + 2, SK_ETHERTYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    sk_put16(p + 6, a->op);
    memcpy(p + 8, a->sha, 6);
    sk_put32(p + 14, a->spa);
    memcpy(p + 18, a->tha, 6);
    sk_put32(p + 24, a->tpa);
    return SK_ARP_LEN;
}
