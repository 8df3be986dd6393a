/* IPv6 (RFC 8200): not yet. Issue 13 replaces this file; until then every IPv6 packet is a
 * counted drop (ip-version) and nothing is sent. The functions below are the seams that
 * src/internal.h declares, so that the transports can be written against them meanwhile. */
#include <errno.h>

#include "ip/ip_int.h"
#include "synack/addr.h"

void sk_ip6_input(struct sk_stack *st, const uint8_t *pkt, size_t len, const uint8_t *frame,
                  size_t frame_len)
{
    (void)pkt;
    (void)len;
    sk_drop(st, SK_DROP_IP_VERSION, NULL, frame, frame_len);
}

size_t sk_ip6_headroom(const struct sk_stack *st)
{
    return sk_link_hlen(st) + 40;
}

void sk_ip6_output(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   uint8_t proto, uint8_t tclass, uint32_t flow, size_t len,
                   const struct sk_frame_meta *meta)
{
    (void)src, (void)dst, (void)proto, (void)tclass, (void)flow, (void)len, (void)meta;
    sk_drop(st, SK_DROP_OUT_NO_ROUTE, NULL, NULL, 0);
}

int sk_ip6_send(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                uint8_t proto, const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen,
                const struct sk_frame_meta *meta)
{
    (void)st, (void)src, (void)dst, (void)proto, (void)head, (void)hlen, (void)body;
    (void)blen, (void)meta;
    return -ENETUNREACH;
}

uint32_t sk_ip6_path_mtu(const struct sk_stack *st, const struct sk_addr *dst)
{
    (void)dst;
    return st->cfg.mtu < 1280 ? 1280 : st->cfg.mtu;
}
