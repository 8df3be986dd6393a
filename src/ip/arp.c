/* ARP (RFC 826) for IPv4 over Ethernet, with the timeouts of RFC 1122 §2.3.2, on the
 * neighbour cache shared with IPv6 (neigh.c: entries, states, the queue of waiting packets
 * and their limits). This file is ARP's wire side: requests the cache asks for, and input.
 *
 * Receiving follows RFC 826 "Packet Reception": update an entry we already have for the
 * sender (merge), and when the packet is addressed to us, learn the sender and answer a
 * request. Sending a gratuitous announcement at start follows RFC 5227 §3.
 */
#include <stdlib.h>

#include "ip/ip_int.h"

#define ARP_FRAME_LEN 60 /* Ethernet minimum frame without the FCS: 14 + 28 + 18 padding */

static const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[6] = {0};

static void send_arp(struct sk_stack *st, uint16_t op, const uint8_t eth_dst[6],
                     const uint8_t tha[6], uint32_t tpa)
{
    /* Built on the C stack, not in st->tx: a request can go out while a TCP segment is being
     * built there (the segment is what triggered the lookup). */
    uint8_t f[ARP_FRAME_LEN] = {0};
    struct sk_eth_hdr eth = {.ethertype = SK_ETHERTYPE_ARP};
    memcpy(eth.dst, eth_dst, 6);
    memcpy(eth.src, st->cfg.mac, 6);
    sk_eth_emit(f, sizeof(f), &eth);
    struct sk_arp a = {.op = op, .spa = st->cfg.addr, .tpa = tpa};
    memcpy(a.sha, st->cfg.mac, 6);
    memcpy(a.tha, tha, 6);
    sk_arp_emit(f + SK_ETH_HLEN, sizeof(f) - SK_ETH_HLEN, &a);
    st->ctr.arp_out++;
    sk_link_emit(st, f, sizeof(f), NULL);
}

void sk_stack_announce(struct sk_stack *st)
{
    if (st->cfg.link_type != SK_LINK_ETHERNET)
        return;
    sk_enter(st);
    /* RFC 5227 §3: ARP Request, sender and target protocol address both ours, target
     * hardware address zero, broadcast. */
    send_arp(st, SK_ARP_REQUEST, mac_broadcast, mac_zero, st->cfg.addr);
    sk_leave(st);
}

void sk_arp_solicit(struct sk_stack *st, uint32_t ip, const uint8_t *dst)
{
    send_arp(st, SK_ARP_REQUEST, dst ? dst : mac_broadcast, mac_zero, ip);
}

void sk_arp_input(struct sk_stack *st, const uint8_t *p, size_t len, const uint8_t *frame,
                  size_t frame_len)
{
    struct sk_arp a;
    int r = sk_arp_parse(p, len, &a);
    /* A sender hardware address that is a group address cannot be a neighbour's. */
    if (r == 0 && (a.sha[0] & 1))
        r = SK_DROP_ARP_MALFORMED;
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return;
    }
    st->ctr.arp_in++;
    bool for_us = a.tpa == st->cfg.addr && st->cfg.addr != 0;
    /* RFC 826: "If the pair <protocol type, sender protocol address> is already in my
     * translation table, update the sender hardware address field of the entry". A sender
     * address of 0 is an RFC 5227 probe: nothing to learn. Our own address from elsewhere is
     * a conflict, never an entry. */
    struct sk_addr spa = sk_addr_from_v4(a.spa);
    bool merged = false;
    if (a.spa != 0 && a.spa != st->cfg.addr)
        merged = sk_neigh_update(st, &spa, a.sha, NUD_REACHABLE, false) != NULL;
    if (!for_us) {
        if (!merged)
            sk_drop(st, SK_DROP_ARP_NOT_FOR_US, NULL, frame, frame_len);
        return;
    }
    /* "?Am I the target protocol address? Yes: if the merge flag is false, add the triplet". */
    if (!merged && a.spa != 0 && a.spa != st->cfg.addr)
        sk_neigh_update(st, &spa, a.sha, NUD_REACHABLE, true);
    /* "?Is the opcode ares_op$REQUEST? Yes: swap fields, put my addresses, send a REPLY to
     * the requester's hardware address." */
    if (a.op == SK_ARP_REQUEST)
        send_arp(st, SK_ARP_REPLY, a.sha, a.sha, a.spa);
}
