/* Neighbour discovery (RFC 4861) and stateless address autoconfiguration (RFC 4862). */
#include "ip/ip_int.h"

void sk_nd_solicit(struct sk_stack *st, const struct sk_addr *target, const uint8_t *dst)
{
    (void)st, (void)target, (void)dst;
}

void sk_nd_start(struct sk_stack *st)
{
    (void)st;
}

sk_time_us sk_nd_timer(struct sk_stack *st)
{
    (void)st;
    return SK_TIME_NEVER;
}

void sk_nd_input(struct sk_stack *st, const struct ip6_pkt *p)
{
    (void)st, (void)p;
}
