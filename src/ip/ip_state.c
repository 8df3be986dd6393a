/* The IP layer's state in the stack (struct sk_ipstate) and its one housekeeping deadline.
 *
 * Neighbour solicitations (ARP and ND), reassembly expiry and IPv6's own timers (DAD, router
 * solicitations, lifetimes: nd.c) share st->ip_deadline, which sk_stack_poll and
 * sk_stack_next_deadline fold in beside the TCB heap. Nothing is scanned on an ordinary poll:
 * the ARP cache (arp_cache_entries, 64 by default) and the head of the reassembly list are looked at only
 * when that deadline has come.
 */
#include "ip/ip_int.h"

int sk_ip_init(struct sk_stack *st)
{
    struct sk_ipstate *ip = sk_mem_alloc(st, sizeof(*ip));
    if (ip == NULL)
        return -ENOMEM;
    memset(ip, 0, sizeof(*ip));
    sk_list_init(&ip->pending); /* before any failure: sk_ip_free walks them */
    sk_list_init(&ip->frags);
    st->ip = ip;
    size_t neigh_bytes = st->cfg.arp_cache_entries * sizeof(struct neigh);
    ip->neigh = sk_mem_alloc(st, neigh_bytes);
    if (ip->neigh == NULL)
        return -ENOMEM; /* sk_stack_free -> sk_ip_free releases ip */
    memset(ip->neigh, 0, neigh_bytes);
    /* RFC 6864 §4.1 only asks IDs of fragmentable datagrams not to repeat too soon; a random
     * start keeps two runs (and two stacks) from using the same sequence. */
    ip->next_id = (uint16_t)sk_random(st);
    ip->icmp_tokens = (uint64_t)st->cfg.icmp_burst * 1000000u;
    ip->icmp_refill = st->now;
    ip->udp_next_port = 0;
    st->ip_deadline = SK_TIME_NEVER;
    if (st->cfg.ip6)
        sk_nd_start(st);
    return 0;
}

void sk_ip_free(struct sk_stack *st)
{
    if (st->ip == NULL)
        return;
    sk_udp_free_all(st);
    sk_neigh_free(st);
    sk_ipfrag_free(st);
    sk_mem_free(st, st->ip->neigh, st->cfg.arp_cache_entries * sizeof(struct neigh));
    sk_mem_free(st, st->ip, sizeof(*st->ip));
    st->ip = NULL;
}

void sk_ip_deadline_at(struct sk_stack *st, sk_time_us t)
{
    if (t < st->ip_deadline)
        st->ip_deadline = t;
}

void sk_ip_timer(struct sk_stack *st)
{
    st->ip_deadline = SK_TIME_NEVER;
    sk_ip_deadline_at(st, sk_neigh_timer(st));
    sk_ip_deadline_at(st, sk_ipfrag_timer(st));
    if (st->cfg.ip6)
        sk_ip_deadline_at(st, sk_nd_timer(st));
}
