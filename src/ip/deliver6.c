/* IPv6 datagrams to the transports: not yet. Issue 13 replaces this file (TCP and UDP over
 * IPv6); until then such a datagram is a counted drop. */
#include "ip/ip_int.h"

void sk_transport_input6(struct sk_stack *st, const struct ip6_pkt *p)
{
    sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
}

bool sk_transport_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t info,
                              const uint8_t *quote, size_t quote_len)
{
    (void)st, (void)type, (void)code, (void)info, (void)quote, (void)quote_len;
    return false;
}
