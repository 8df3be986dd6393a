/* ARP (RFC 826) for IPv4 over Ethernet, with the timeouts of RFC 1122 §2.3.2.
 *
 * The cache holds arp_cache_entries (64); a new neighbour when it is full replaces the one used
 * least recently (counted). An entry is INCOMPLETE while a request is out (packets for that
 * neighbour wait, copied, in one per-stack queue bounded in bytes, headers counted, and in
 * packets per neighbour: arp_queue_per_entry, so that one unanswered address cannot take the
 * whole queue from the others), REACHABLE for
 * arp_timeout_us after an answer, then PROBING: still used while a fresh request confirms it
 * (RFC 1122 §2.3.2.1 asks to revalidate rather than flush entries in use). A request is sent
 * again every arp_retry_us, at most arp_retries times; then the waiting packets are dropped
 * and counted. Old REACHABLE entries need no timer: their age is checked when they are used.
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

static struct arp_entry *arp_find(struct sk_stack *st, uint32_t ip)
{
    struct sk_ipstate *s = st->ip;
    struct arp_entry *e = &s->arp[s->arp_last];
    if (e->state != ARP_FREE && e->ip == ip)
        return e;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        e = &s->arp[i];
        if (e->state != ARP_FREE && e->ip == ip) {
            s->arp_last = i;
            return e;
        }
    }
    return NULL;
}

/* The next packet queued for nexthop after the node `from` (the list's head: from the start),
 * NULL if none. The walk resumes from a node still on the list, so the caller may take off
 * and free what it finds. */
static struct arp_pending *pending_next(struct sk_ipstate *s, struct sk_list_node *from,
                                        uint32_t nexthop)
{
    for (struct sk_list_node *n = sk_list_next(&s->pending, from); n;
         n = sk_list_next(&s->pending, n)) {
        struct arp_pending *p = sk_list_entry(n, struct arp_pending, link);
        if (p->nexthop == nexthop)
            return p;
    }
    return NULL;
}

/* Takes p off the queue; the caller frees it. */
static void pending_unlink(struct sk_ipstate *s, struct arp_pending *p)
{
    sk_list_remove(&p->link);
    s->pend_bytes -= sizeof(*p) + p->len;
}

/* Drops (counted) every queued packet for nexthop. */
static void pending_drop(struct sk_stack *st, uint32_t nexthop)
{
    struct sk_ipstate *s = st->ip;
    struct sk_list_node *at = &s->pending.head;
    struct arp_pending *p;
    while ((p = pending_next(s, at, nexthop)) != NULL) {
        at = p->link.prev;
        pending_unlink(s, p);
        sk_drop(st, SK_DROP_ARP_UNRESOLVED, NULL, p->data, p->pkt_len);
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
}

/* Sends, in the order they were queued, the packets that waited for nexthop's address. */
static void pending_flush(struct sk_stack *st, uint32_t nexthop, const uint8_t mac[6])
{
    struct sk_ipstate *s = st->ip;
    struct sk_eth_hdr eth = {.ethertype = SK_ETHERTYPE_IPV4};
    memcpy(eth.dst, mac, 6);
    memcpy(eth.src, st->cfg.mac, 6);
    struct sk_list_node *at = &s->pending.head;
    struct arp_pending *p;
    while ((p = pending_next(s, at, nexthop)) != NULL) {
        at = p->link.prev;
        pending_unlink(s, p);
        if (SK_ETH_HLEN + (size_t)p->pkt_len <= st->tx_cap) {
            struct sk_frame_meta meta = {0};
            if (p->len > p->pkt_len)
                memcpy(&meta, p->data + p->pkt_len, sizeof(meta));
            sk_tx_begin(st, SK_ETH_HLEN + (size_t)p->pkt_len);
            sk_eth_emit(st->tx, SK_ETH_HLEN, &eth);
            memcpy(st->tx + SK_ETH_HLEN, p->data, p->pkt_len);
            sk_link_emit(st, st->tx, SK_ETH_HLEN + p->pkt_len, &meta);
        }
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
}

/* A free entry, else the one used least recently (its waiting packets are dropped). */
static struct arp_entry *arp_alloc(struct sk_stack *st, uint32_t ip)
{
    struct sk_ipstate *s = st->ip;
    struct arp_entry *victim = NULL;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        struct arp_entry *e = &s->arp[i];
        if (e->state == ARP_FREE) {
            victim = e;
            break;
        }
        if (victim == NULL || e->used < victim->used)
            victim = e;
    }
    if (victim->state != ARP_FREE)
        st->ctr.arp_cache_evicted++;
    if (victim->state == ARP_INCOMPLETE)
        pending_drop(st, victim->ip);
    memset(victim, 0, sizeof(*victim));
    victim->ip = ip;
    victim->used = st->now;
    s->arp_last = (uint32_t)(victim - s->arp);
    return victim;
}

static void request(struct sk_stack *st, struct arp_entry *e, const uint8_t *eth_dst)
{
    e->tries++;
    e->expires = st->now + st->cfg.arp_retry_us;
    sk_ip_deadline_at(st, e->expires);
    send_arp(st, SK_ARP_REQUEST, eth_dst, mac_zero, e->ip);
}

bool sk_arp_lookup(struct sk_stack *st, uint32_t ip, uint8_t mac[6])
{
    struct arp_entry *e = arp_find(st, ip);
    if (e == NULL) {
        e = arp_alloc(st, ip);
        e->state = ARP_INCOMPLETE;
        request(st, e, mac_broadcast);
        return false;
    }
    if (e->state == ARP_INCOMPLETE)
        return false;
    e->used = st->now;
    if (e->state == ARP_REACHABLE && st->now >= e->expires) {
        /* RFC 1122 §2.3.2.1: revalidate by a unicast request while the entry stays in use. */
        e->state = ARP_PROBING;
        e->tries = 0;
        request(st, e, e->mac);
    }
    memcpy(mac, e->mac, 6);
    return true;
}

void sk_arp_enqueue(struct sk_stack *st, uint32_t nexthop, const uint8_t *pkt, size_t len,
                    const struct sk_frame_meta *meta)
{
    struct sk_ipstate *s = st->ip;
    struct arp_entry *e = arp_find(st, nexthop); /* made INCOMPLETE by the failed lookup */
    struct arp_pending *p = NULL;
    /* The offload metadata is kept only for a frame that has some (partial checksum, TSO). */
    bool keep_meta = meta && (meta->flags || meta->gso_type != SK_GSO_NONE);
    size_t pkt_len = len;
    len += keep_meta ? sizeof(*meta) : 0;
    if (e != NULL && e->queued < st->cfg.arp_queue_per_entry &&
        s->pend_bytes + sizeof(*p) + len <= st->cfg.arp_queue_bytes)
        p = sk_mem_alloc(st, sizeof(*p) + len);
    if (p == NULL) {
        sk_drop(st, SK_DROP_ARP_QUEUE_FULL, NULL, pkt, pkt_len);
        return;
    }
    memset(&p->link, 0, sizeof(p->link));
    p->nexthop = nexthop;
    p->pkt_len = (uint16_t)pkt_len;
    p->len = len;
    memcpy(p->data, pkt, pkt_len);
    if (keep_meta)
        memcpy(p->data + pkt_len, meta, sizeof(*meta));
    sk_list_append(&s->pending, &p->link);
    s->pend_bytes += sizeof(*p) + len;
    e->queued++;
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
    bool merged = false;
    if (a.spa != 0 && a.spa != st->cfg.addr) {
        struct arp_entry *e = arp_find(st, a.spa);
        if (e) {
            bool was_incomplete = e->state == ARP_INCOMPLETE;
            memcpy(e->mac, a.sha, 6);
            e->state = ARP_REACHABLE;
            e->tries = 0;
            e->expires = st->now + st->cfg.arp_timeout_us;
            merged = true;
            e->queued = 0;
            if (was_incomplete)
                pending_flush(st, a.spa, a.sha);
        }
    }
    if (!for_us) {
        if (!merged)
            sk_drop(st, SK_DROP_ARP_NOT_FOR_US, NULL, frame, frame_len);
        return;
    }
    /* "?Am I the target protocol address? Yes: if the merge flag is false, add the triplet". */
    if (!merged && a.spa != 0 && a.spa != st->cfg.addr) {
        struct arp_entry *e = arp_alloc(st, a.spa);
        memcpy(e->mac, a.sha, 6);
        e->state = ARP_REACHABLE;
        e->expires = st->now + st->cfg.arp_timeout_us;
    }
    /* "?Is the opcode ares_op$REQUEST? Yes: swap fields, put my addresses, send a REPLY to
     * the requester's hardware address." */
    if (a.op == SK_ARP_REQUEST)
        send_arp(st, SK_ARP_REPLY, a.sha, a.sha, a.spa);
}

sk_time_us sk_arp_timer(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    sk_time_us next = SK_TIME_NEVER;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        struct arp_entry *e = &s->arp[i];
        if (e->state != ARP_INCOMPLETE && e->state != ARP_PROBING)
            continue;
        if (e->expires <= st->now) {
            if (e->tries <= st->cfg.arp_retries) {
                request(st, e, mac_broadcast);
            } else {
                /* No answer after every retry: whatever waited is lost (RFC 1122 §2.3.2.2
                 * allows dropping), and the next packet starts afresh. */
                if (e->state == ARP_INCOMPLETE)
                    pending_drop(st, e->ip);
                memset(e, 0, sizeof(*e));
                continue;
            }
        }
        if (e->expires < next)
            next = e->expires;
    }
    return next;
}

void sk_arp_free(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    struct arp_pending *p;
    while ((p = sk_list_entry(sk_list_first(&s->pending), struct arp_pending, link)) != NULL) {
        sk_list_remove(&p->link);
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
    s->pend_bytes = 0;
}
