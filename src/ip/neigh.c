/* The neighbour cache: one table, one state machine and one queue of waiting packets for both
 * families, IPv4 neighbours resolved by ARP (arp.c) and IPv6 ones by neighbour discovery
 * (nd.c). Entries are keyed by struct sk_addr (IPv4-mapped for ARP).
 *
 * The states are RFC 4861 §7.3.2's: INCOMPLETE while a solicitation is out (packets for the
 * neighbour wait, copied, in one per-stack queue bounded in bytes, headers counted, and in
 * packets per neighbour: arp_queue_per_entry, so that one unanswered address cannot take the
 * whole queue from the others); REACHABLE for the reachable time after a confirmation; STALE
 * after that, still used; DELAY from the first use of a STALE entry; PROBE when DELAY ends
 * unconfirmed, with unicast solicitations every retransmission interval; an entry whose
 * solicitations all go unanswered is forgotten (and what waited for it is dropped and
 * counted: RFC 4861 §7.3.3, RFC 1122 §2.3.2.2). REACHABLE needs no timer: its age is checked
 * when it is used (§7.3.3 allows the transition to be made lazily).
 *
 * The numbers differ by family (struct nud_params): IPv6 takes RFC 4861 §10's
 * (ReachableTime drawn from 0.5..1.5 x BaseReachableTime, RetransTimer, MAX_MULTICAST_SOLICIT
 * and MAX_UNICAST_SOLICIT 3, DELAY_FIRST_PROBE_TIME 5 s), IPv4 the ARP settings (arp_timeout_us,
 * arp_retry_us, arp_retries + 1 requests) and no DELAY: RFC 1122 §2.3.2.1 revalidates an old
 * entry in use at once, as this stack always did.
 *
 * The cache holds arp_cache_entries; a new neighbour when it is full replaces the one used
 * least recently (counted: arp_cache_evicted).
 */
#include "ip/ip_int.h"

#define ND_MAX_MULTICAST_SOLICIT 3      /* RFC 4861 §10 */
#define ND_MAX_UNICAST_SOLICIT 3
#define ND_DELAY_FIRST_PROBE_US 5000000

struct nud_params {
    sk_time_us reachable_us, retrans_us, delay_us;
    uint8_t mcast_solicit, ucast_solicit;
};

static struct nud_params params_of(const struct sk_stack *st, const struct sk_addr *ip)
{
    if (sk_addr_is_v4(ip)) {
        uint8_t n = (uint8_t)(st->cfg.arp_retries + 1);
        return (struct nud_params){st->cfg.arp_timeout_us, st->cfg.arp_retry_us, 0, n, n};
    }
    const struct sk_ip6state *s6 = &st->ip->ip6;
    return (struct nud_params){s6->reachable_us, s6->retrans_us, ND_DELAY_FIRST_PROBE_US,
                               ND_MAX_MULTICAST_SOLICIT, ND_MAX_UNICAST_SOLICIT};
}

/* One solicitation for e: to its link address in PROBE (unicast), else to the group. */
static void solicit(struct sk_stack *st, struct neigh *e)
{
    struct nud_params p = params_of(st, &e->ip);
    e->tries++;
    e->expires = st->now + p.retrans_us;
    sk_ip_deadline_at(st, e->expires);
    const uint8_t *dst = e->state == NUD_PROBE ? e->mac : NULL;
    if (sk_addr_is_v4(&e->ip))
        sk_arp_solicit(st, sk_addr_v4(&e->ip), dst);
    else
        sk_nd_solicit(st, &e->ip, dst);
}

struct neigh *sk_neigh_find(struct sk_stack *st, const struct sk_addr *ip)
{
    struct sk_ipstate *s = st->ip;
    struct neigh *e = &s->neigh[s->neigh_last];
    if (e->state != NUD_FREE && sk_addr_eq(&e->ip, ip))
        return e;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        e = &s->neigh[i];
        if (e->state != NUD_FREE && sk_addr_eq(&e->ip, ip)) {
            s->neigh_last = i;
            return e;
        }
    }
    return NULL;
}

/* The next packet queued for e after the node `from` (the list's head: from the start),
 * NULL if none. The walk resumes from a node still on the list, so the caller may take off
 * and free what it finds. */
static struct neigh_pending *pending_next(struct sk_ipstate *s, struct sk_list_node *from,
                                          const struct neigh *e)
{
    for (struct sk_list_node *n = sk_list_next(&s->pending, from); n;
         n = sk_list_next(&s->pending, n)) {
        struct neigh_pending *p = sk_list_entry(n, struct neigh_pending, link);
        if (p->neigh == (uint32_t)(e - s->neigh))
            return p;
    }
    return NULL;
}

/* Takes p off the queue; the caller frees it. */
static void pending_unlink(struct sk_ipstate *s, struct neigh_pending *p)
{
    sk_list_remove(&p->link);
    s->pend_bytes -= sizeof(*p) + p->len;
}

/* Drops (counted) every queued packet for e. */
static void pending_drop(struct sk_stack *st, const struct neigh *e)
{
    struct sk_ipstate *s = st->ip;
    struct sk_list_node *at = &s->pending.head;
    struct neigh_pending *p;
    while ((p = pending_next(s, at, e)) != NULL) {
        at = p->link.prev;
        pending_unlink(s, p);
        sk_drop(st, SK_DROP_ARP_UNRESOLVED, NULL, p->data, p->pkt_len);
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
}

/* Sends, in the order they were queued, the packets that waited for e's address. */
static void pending_flush(struct sk_stack *st, const struct neigh *e)
{
    struct sk_ipstate *s = st->ip;
    struct sk_list_node *at = &s->pending.head;
    struct neigh_pending *p;
    while ((p = pending_next(s, at, e)) != NULL) {
        at = p->link.prev;
        pending_unlink(s, p);
        if (SK_ETH_HLEN + (size_t)p->pkt_len <= st->tx_cap) {
            struct sk_frame_meta meta = {0};
            if (p->len > p->pkt_len)
                memcpy(&meta, p->data + p->pkt_len, sizeof(meta));
            sk_tx_begin(st, SK_ETH_HLEN + (size_t)p->pkt_len);
            sk_link_eth_header(st, st->tx, e->mac, &e->ip);
            memcpy(st->tx + SK_ETH_HLEN, p->data, p->pkt_len);
            sk_link_emit(st, st->tx, SK_ETH_HLEN + p->pkt_len, &meta);
        }
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
}

static void forget(struct sk_stack *st, struct neigh *e)
{
    if (e->state == NUD_INCOMPLETE)
        pending_drop(st, e);
    memset(e, 0, sizeof(*e));
}

/* A free entry, else the one used least recently (its waiting packets are dropped). */
static struct neigh *neigh_alloc(struct sk_stack *st, const struct sk_addr *ip)
{
    struct sk_ipstate *s = st->ip;
    struct neigh *victim = NULL;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        struct neigh *e = &s->neigh[i];
        if (e->state == NUD_FREE) {
            victim = e;
            break;
        }
        if (victim == NULL || e->used < victim->used)
            victim = e;
    }
    if (victim->state != NUD_FREE)
        st->ctr.arp_cache_evicted++;
    forget(st, victim);
    victim->ip = *ip;
    victim->used = st->now;
    s->neigh_last = (uint32_t)(victim - s->neigh);
    return victim;
}

bool sk_neigh_lookup(struct sk_stack *st, const struct sk_addr *ip, uint8_t mac[6])
{
    struct neigh *e = sk_neigh_find(st, ip);
    if (e == NULL) {
        e = neigh_alloc(st, ip);
        e->state = NUD_INCOMPLETE;
        solicit(st, e);
        return false;
    }
    if (e->state == NUD_INCOMPLETE)
        return false;
    e->used = st->now;
    if (e->state == NUD_REACHABLE && st->now >= e->expires)
        e->state = NUD_STALE;
    if (e->state == NUD_STALE) {
        /* RFC 4861 §7.3.3: the first packet to a STALE entry starts DELAY; ARP has none and
         * probes at once (RFC 1122 §2.3.2.1: revalidate by a unicast request). */
        struct nud_params p = params_of(st, ip);
        e->tries = 0;
        if (p.delay_us == 0) {
            e->state = NUD_PROBE;
            solicit(st, e);
        } else {
            e->state = NUD_DELAY;
            e->expires = st->now + p.delay_us;
            sk_ip_deadline_at(st, e->expires);
        }
    }
    memcpy(mac, e->mac, 6);
    return true;
}

void sk_neigh_enqueue(struct sk_stack *st, const struct sk_addr *nexthop, const uint8_t *pkt,
                      size_t len, const struct sk_frame_meta *meta)
{
    struct sk_ipstate *s = st->ip;
    struct neigh *e = sk_neigh_find(st, nexthop); /* made INCOMPLETE by the failed lookup */
    struct neigh_pending *p = NULL;
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
    p->neigh = (uint32_t)(e - s->neigh);
    p->pkt_len = (uint16_t)pkt_len;
    p->len = len;
    memcpy(p->data, pkt, pkt_len);
    if (keep_meta)
        memcpy(p->data + pkt_len, meta, sizeof(*meta));
    sk_list_append(&s->pending, &p->link);
    s->pend_bytes += sizeof(*p) + len;
    e->queued++;
}

struct neigh *sk_neigh_update(struct sk_stack *st, const struct sk_addr *ip, const uint8_t *mac,
                              enum nud_state to, bool create)
{
    struct neigh *e = sk_neigh_find(st, ip);
    if (e == NULL) {
        if (!create || mac == NULL)
            return NULL;
        e = neigh_alloc(st, ip);
    }
    bool was_incomplete = e->state == NUD_INCOMPLETE;
    if (mac)
        memcpy(e->mac, mac, 6);
    e->state = (uint8_t)to;
    e->tries = 0;
    e->queued = 0;
    if (to == NUD_REACHABLE)
        e->expires = st->now + params_of(st, ip).reachable_us;
    if (was_incomplete)
        pending_flush(st, e);
    return e;
}

void sk_neigh_forget(struct sk_stack *st, const struct sk_addr *ip)
{
    struct neigh *e = sk_neigh_find(st, ip);
    if (e)
        forget(st, e);
}

sk_time_us sk_neigh_timer(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    sk_time_us next = SK_TIME_NEVER;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        struct neigh *e = &s->neigh[i];
        if (e->state != NUD_INCOMPLETE && e->state != NUD_DELAY && e->state != NUD_PROBE)
            continue;
        if (e->expires <= st->now) {
            struct nud_params p = params_of(st, &e->ip);
            if (e->state == NUD_DELAY) {
                /* RFC 4861 §7.3.3: DELAY ends unconfirmed: PROBE, a unicast solicitation. */
                e->state = NUD_PROBE;
                e->tries = 0;
                solicit(st, e);
            } else if (e->tries < (e->state == NUD_PROBE ? p.ucast_solicit : p.mcast_solicit)) {
                solicit(st, e);
            } else {
                /* No answer after every retry: whatever waited is lost, and the next packet
                 * starts afresh (RFC 4861 §7.3.3, RFC 1122 §2.3.2.2). */
                forget(st, e);
                continue;
            }
        }
        if (e->expires < next)
            next = e->expires;
    }
    return next;
}

void sk_neigh_free(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    struct neigh_pending *p;
    while ((p = sk_list_entry(sk_list_first(&s->pending), struct neigh_pending, link)) != NULL) {
        sk_list_remove(&p->link);
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
    s->pend_bytes = 0;
}
