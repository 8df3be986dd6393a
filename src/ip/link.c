/* The link layer inside the core: bare IP (SK_LINK_IP, IPv4 or IPv6 by the version nibble)
 * or Ethernet II (SK_LINK_ETHERNET, RFC 894 for IPv4 over Ethernet, RFC 826 for ARP, RFC 2464
 * for IPv6 and its multicast addresses).
 *
 * Input: an Ethernet frame is ours if its destination is our address or the broadcast
 * address; anything else (another host's unicast, multicast we never joined) is dropped and
 * counted, as is a frame longer than the MTU allows (65535 bytes of IP from a link with
 * caps.rx_large) or of another EtherType (802.1Q tags included).
 * Output: the IPv4 packet already sits in st->tx (the driver's buffer when it lends one:
 * sk_tx_begin) after room for the link header; the next hop's address comes from the ARP
 * cache, or the packet waits (copied, with its offload metadata) in the ARP queue until the
 * answer comes.
 */
#include "ip/ip_int.h"

static const uint8_t eth_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

size_t sk_link_hlen(const struct sk_stack *st)
{
    return st->cfg.link_type == SK_LINK_ETHERNET ? SK_ETH_HLEN : 0;
}

/* The most IP datagram bytes one frame may carry: the MTU, or 65535 (the IPv4 limit) from a
 * link that hands in coalesced segments (caps.rx_large, GRO/LRO). */
static size_t rx_ip_max(const struct sk_stack *st)
{
    return st->cfg.caps.rx_large ? UINT16_MAX : st->cfg.mtu;
}

/* RFC 2464 §7: an IPv6 group's frames go to 33:33 and its low 32 bits; only our groups'
 * (all-nodes, our solicited-node groups) are taken. */
static bool our_group_mac(const struct sk_stack *st, const uint8_t mac[6])
{
    if (!st->cfg.ip6 || mac[0] != 0x33 || mac[1] != 0x33)
        return false;
    struct sk_addr g = {{0xff, 0x02, [11] = 0x01, [12] = 0xff}};
    memcpy(g.b + 12, mac + 2, 4);
    if (mac[2] != 0xff) { /* not a solicited-node group: all-nodes is the one we join */
        memset(g.b + 2, 0, 10);
    }
    return sk_ip6_is_our_group(st, &g);
}

void sk_link_input(struct sk_stack *st, const uint8_t *frame, size_t len)
{
    if (st->cfg.link_type == SK_LINK_IP) {
        if (len > rx_ip_max(st)) {
            sk_drop(st, SK_DROP_LINK_OVERSIZE, NULL, frame, len);
            return;
        }
        /* A bare-IP link says the version in the first nibble (as TUN does). */
        if (len > 0 && frame[0] >> 4 == 6)
            sk_ip6_input(st, frame, len, frame, len);
        else
            sk_ip_input(st, frame, len, frame, len);
        return;
    }
    struct sk_eth_hdr eth;
    int r = sk_eth_parse(frame, len, &eth);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, len);
        return;
    }
    if (memcmp(eth.dst, st->cfg.mac, 6) != 0 && memcmp(eth.dst, eth_broadcast, 6) != 0 &&
        !our_group_mac(st, eth.dst)) {
        sk_drop(st, SK_DROP_LINK_NOT_FOR_US, NULL, frame, len);
        return;
    }
    /* The link carries at most MTU bytes of payload (RFC 894); TAP strips the FCS. */
    if (len > SK_ETH_HLEN + rx_ip_max(st)) {
        sk_drop(st, SK_DROP_LINK_OVERSIZE, NULL, frame, len);
        return;
    }
    const uint8_t *p = frame + SK_ETH_HLEN;
    size_t n = len - SK_ETH_HLEN;
    switch (eth.ethertype) {
    case SK_ETHERTYPE_IPV4:
        sk_ip_input(st, p, n, frame, len);
        break;
    case SK_ETHERTYPE_IPV6:
        sk_ip6_input(st, p, n, frame, len);
        break;
    case SK_ETHERTYPE_ARP:
        sk_arp_input(st, p, n, frame, len);
        break;
    default:
        sk_drop(st, SK_DROP_LINK_ETHERTYPE, NULL, frame, len);
        break;
    }
}

uint8_t *sk_tx_begin(struct sk_stack *st, size_t size)
{
    uint8_t *lent = NULL;
    if (st->cfg.tx_buffer && size <= st->tx_cap)
        lent = st->cfg.tx_buffer(st->cfg.output_ctx, size);
    st->tx = lent ? lent : st->tx_own;
    return st->tx;
}

void sk_link_emit(struct sk_stack *st, const uint8_t *frame, size_t len,
                  const struct sk_frame_meta *meta)
{
    st->ctr.frames_out++;
    st->ctr.bytes_out += len;
    static const struct sk_frame_meta complete = {0};
    st->cfg.output(st->cfg.output_ctx, frame, len, meta ? meta : &complete);
}

void sk_link_eth_header(struct sk_stack *st, uint8_t *frame, const uint8_t dst[6],
                        const struct sk_addr *ip)
{
    struct sk_eth_hdr eth = {
        .ethertype = sk_addr_is_v4(ip) ? SK_ETHERTYPE_IPV4 : SK_ETHERTYPE_IPV6,
    };
    memcpy(eth.dst, dst, 6);
    memcpy(eth.src, st->cfg.mac, 6);
    sk_eth_emit(frame, SK_ETH_HLEN, &eth);
}

/* The link address of a group or broadcast address, false for a unicast one: the broadcast
 * address for IPv4's broadcasts, 33:33 and the group's low 32 bits for IPv6 multicast (RFC
 * 2464 §7). */
static bool group_mac(const struct sk_stack *st, const struct sk_addr *ip, uint8_t mac[6])
{
    if (sk_addr_is_v4(ip)) {
        bool bcast = false;
        (void)sk_ip_route(st, sk_addr_v4(ip), &bcast);
        if (bcast)
            memcpy(mac, eth_broadcast, 6);
        return bcast;
    }
    if (!sk_addr_is_multicast6(ip))
        return false;
    mac[0] = mac[1] = 0x33;
    memcpy(mac + 2, ip->b + 12, 4);
    return true;
}

void sk_link_output(struct sk_stack *st, const struct sk_addr *nexthop, uint8_t *frame,
                    size_t len, const struct sk_frame_meta *meta)
{
    if (st->cfg.link_type == SK_LINK_IP) {
        sk_link_emit(st, frame, len, meta);
        return;
    }
    uint8_t dst[6];
    if (!group_mac(st, nexthop, dst) && !sk_neigh_lookup(st, nexthop, dst)) {
        sk_neigh_enqueue(st, nexthop, frame + SK_ETH_HLEN, len - SK_ETH_HLEN, meta);
        return;
    }
    sk_link_eth_header(st, frame, dst, nexthop);
    sk_link_emit(st, frame, len, meta);
}
