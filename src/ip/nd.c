/* Neighbour discovery (RFC 4861) and stateless address autoconfiguration (RFC 4862) on
 * Ethernet links.
 *
 * At start (sk_nd_start): the static addresses and a link-local address (fe80::/64 with RFC
 * 7217's stable-privacy identifier) are added tentative, and duplicate address detection
 * sends ip6_dad_transmits solicitations from :: for each (RFC 4862 §5.4.2), RetransTimer
 * apart; an address becomes preferred RetransTimer after the last unless a solicitation or an
 * advertisement for it came from elsewhere (§5.4.3, §5.4.4), which marks it duplicated
 * (§5.4.5): counted, never used. Once the link-local address is usable, up to
 * MAX_RTR_SOLICITATIONS (3) router solicitations go out RTR_SOLICITATION_INTERVAL (4 s) apart
 * (RFC 4861 §6.3.7) until an advertisement comes. (Both random delays before the first
 * message, §6.3.7 and RFC 4862 §5.4.2's SHOULDs, are left out: the stack starts when its link
 * does, and a replayable start suits the tests.)
 *
 * Resolution (the neighbour cache's states are neigh.c's): a solicitation goes to the
 * target's solicited-node group (INCOMPLETE) or to its link address (PROBE), from one of our
 * addresses with our link address option (§7.2.2); a solicitation for one of our addresses is
 * answered (§7.2.4) with S set when it came from a unicast source and O set, and its source
 * link address recorded STALE (§7.2.3); an advertisement updates the cache as §7.2.5 says.
 * Every message must come with hop limit 255 and pass §7.1.1 / §7.1.2 / §6.1.2's checks,
 * else it is a counted drop (nd-invalid).
 *
 * Router advertisements (§6.3.4, taken when ip6_accept_ra): from a link-local source; the
 * default router list with each router's lifetime, CurHopLimit, BaseReachableTime (ReachableTime
 * drawn again), RetransTimer, the MTU option (lowering the IPv6 link MTU, never below 1280 nor
 * above the link's), on-link prefixes (L flag), and SLAAC (RFC 4862 §5.5.3: a /64 prefix with
 * the A flag gives an address of the prefix and a stable-privacy identifier, with the valid and
 * preferred lifetimes and §5.5.3 (e)'s two-hour rule), DAD before use.
 */
#include "ip/ip_int.h"
#include "util/rand.h"

#define ND_MAX_RTR_SOLICITATIONS 3              /* RFC 4861 §10 */
#define ND_RTR_SOLICITATION_INTERVAL_US 4000000
#define ND_REACHABLE_TIME_MS 30000
#define ND_RETRANS_TIMER_MS 1000
#define SLAAC_TWO_HOURS_US (2ull * 3600 * 1000000) /* RFC 4862 §5.5.3 (e) */

static const struct sk_addr all_routers = {{0xff, 0x02, [15] = 2}};
static const struct sk_addr all_nodes = {{0xff, 0x02, [15] = 1}};
static const struct sk_addr unspecified;

/* RFC 4861 §6.3.2: ReachableTime, a uniform random value between MIN_RANDOM_FACTOR (0.5) and
 * MAX_RANDOM_FACTOR (1.5) times BaseReachableTime. */
static void draw_reachable_time(struct sk_stack *st)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    uint64_t base = s6->base_reachable_us;
    s6->reachable_us = (uint32_t)(base / 2 + sk_random(st) % (base + 1));
}

static bool nd_link(const struct sk_stack *st)
{
    return st->cfg.link_type == SK_LINK_ETHERNET;
}

static bool want_linklocal(const struct sk_stack *st)
{
    return st->cfg.ip6_linklocal == SK_IP6_LL_ON ||
           (st->cfg.ip6_linklocal == SK_IP6_LL_AUTO && nd_link(st));
}

static void ip6_deadline(struct sk_stack *st, sk_time_us t)
{
    if (t < st->ip->ip6.deadline)
        st->ip->ip6.deadline = t;
    sk_ip_deadline_at(st, t);
}

void sk_nd_start(struct sk_stack *st)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    s6->deadline = SK_TIME_NEVER;
    s6->link_mtu = st->cfg.mtu;
    s6->cur_hop_limit = st->cfg.ip6_hop_limit;
    s6->base_reachable_us = ND_REACHABLE_TIME_MS * 1000u;
    s6->retrans_us = ND_RETRANS_TIMER_MS * 1000u;
    draw_reachable_time(st);
    if (want_linklocal(st)) {
        struct sk_addr ll = {{0xfe, 0x80}};
        sk_ip6_stable_iid(st, &ll, 0, ll.b + 8);
        sk_ip6_addr_add(st, &ll, 64, IP6A_LINKLOCAL);
    }
    for (unsigned i = 0; i < st->cfg.addr6_count; i++) {
        struct sk_addr a;
        memcpy(a.b, st->cfg.addr6[i].addr, 16);
        sk_ip6_addr_add(st, &a, st->cfg.addr6[i].prefix_len, IP6A_STATIC);
    }
    /* RFC 4861 §6.3.7: solicitations once a link-local source is usable (dad_done starts
     * them), or at once if none will be. */
    if (nd_link(st) && st->cfg.ip6_accept_ra) {
        s6->rs_left = ND_MAX_RTR_SOLICITATIONS;
        s6->rs_next = want_linklocal(st) ? SK_TIME_NEVER : st->now;
        ip6_deadline(st, s6->rs_next);
    }
}

/* RFC 4862 §5.4.5: another node has the address. */
static void dad_failed(struct sk_stack *st, struct ip6_addr *x)
{
    st->ctr.ip6_dad_duplicates++;
    x->state = IP6A_DUPLICATED;
}

/* One step of DAD for a tentative address (RFC 4862 §5.4.2-3). */
static void dad_step(struct sk_stack *st, struct ip6_addr *x)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    if (x->dad_left > 0) {
        x->dad_left--;
        x->dad_next = st->now + s6->retrans_us;
        sk_nd_send_ns(st, &unspecified, &x->a, NULL);
        return;
    }
    x->state = st->now < x->preferred_until ? IP6A_PREFERRED : IP6A_DEPRECATED;
    if (x->origin == IP6A_LINKLOCAL && s6->rs_left > 0 && s6->rs_next == SK_TIME_NEVER)
        s6->rs_next = st->now;
}

/* Router solicitation (RFC 4861 §6.3.7), from our link-local address with our link address,
 * or from :: without it. */
static void rs_step(struct sk_stack *st)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    s6->rs_left--;
    s6->rs_next = s6->rs_left ? st->now + ND_RTR_SOLICITATION_INTERVAL_US : SK_TIME_NEVER;
    sk_nd_send_rs(st);
}

/* The routers, prefixes and path MTUs whose lifetime ended by st->now; the earliest next. */
static sk_time_us expire_tables(struct sk_stack *st)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    sk_time_us next = SK_TIME_NEVER;
    for (int i = 0; i < IP6_ROUTERS; i++) {
        struct ip6_router *r = &s6->routers[i];
        if (r->until != 0 && r->until <= st->now)
            r->until = 0;
        if (r->until != 0 && r->until < next)
            next = r->until;
    }
    for (int i = 0; i < IP6_ONLINK; i++) {
        struct ip6_onlink *p = &s6->onlink[i];
        if (p->until != 0 && p->until <= st->now)
            p->until = 0;
        if (p->until != 0 && p->until < next)
            next = p->until;
    }
    for (int i = 0; i < IP6_PMTU_ENTRIES; i++) {
        struct ip6_pmtu *m = &s6->pmtu[i];
        if (m->mtu != 0 && m->expires <= st->now)
            m->mtu = 0;
        if (m->mtu != 0 && m->expires < next)
            next = m->expires;
    }
    return next;
}

sk_time_us sk_nd_timer(struct sk_stack *st)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    if (s6->deadline > st->now)
        return s6->deadline;
    sk_time_us next = SK_TIME_NEVER;
    for (int i = 0; i < IP6_ADDRS; i++) {
        struct ip6_addr *x = &s6->addrs[i];
        if (x->state != IP6A_TENTATIVE)
            continue;
        if (x->dad_next <= st->now)
            dad_step(st, x);
        if (x->state == IP6A_TENTATIVE && x->dad_next < next)
            next = x->dad_next;
    }
    if (s6->rs_left > 0 && s6->rs_next <= st->now)
        rs_step(st);
    if (s6->rs_left > 0 && s6->rs_next < next)
        next = s6->rs_next;
    sk_time_us t = expire_tables(st);
    next = t < next ? t : next;
    t = sk_ip6_addr_timer(st);
    next = t < next ? t : next;
    s6->deadline = next;
    return next;
}
