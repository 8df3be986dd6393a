/* Neighbour discovery (RFC 4861) and stateless address autoconfiguration (RFC 4862) on
 * Ethernet links.
 *
 * At start (sk_nd_start): the static addresses and a link-local address (fe80::/64 with RFC
 * 7217's stable-privacy identifier) are added tentative, and duplicate address detection
 * sends ip6_dad_transmits solicitations from :: for each (RFC 4862 §5.4.2), RetransTimer
 * apart; an address becomes preferred RetransTimer after the last unless a solicitation or an
 * advertisement for it came from elsewhere (§5.4.3, §5.4.4), which marks it duplicated
 * (§5.4.5): counted, never used; a link-local or SLAAC address is then made again with RFC
 * 7217's next DAD_Counter (at most 3 times). Once the link-local address is usable, up to
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
#define RFC7217_IDGEN_RETRIES 3                 /* RFC 7217 §7 */
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

/* RFC 4862 §5.4.5: another node has the address: it is never used. RFC 7217 §6: an address
 * we made from a stable-privacy identifier is made again with the next DAD_Counter, up to
 * IDGEN_RETRIES times; a static one stays duplicated. */
static void dad_failed(struct sk_stack *st, struct ip6_addr *x)
{
    st->ctr.ip6_dad_duplicates++;
    x->state = IP6A_DUPLICATED;
    if (x->origin == IP6A_STATIC || x->dad_counter >= RFC7217_IDGEN_RETRIES)
        return;
    struct sk_addr a = x->a;
    sk_ip6_stable_iid(st, &x->a, (uint8_t)(x->dad_counter + 1), a.b + 8);
    struct ip6_addr *y = sk_ip6_addr_add(st, &a, x->prefix_len, (enum ip6_addr_origin)x->origin);
    if (y == NULL)
        return;
    y->dad_counter = (uint8_t)(x->dad_counter + 1);
    y->preferred_until = x->preferred_until;
    y->valid_until = x->valid_until;
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

/* ---- Messages out ---- */

static void send_nd(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                    struct sk_nd_msg *m)
{
    uint8_t buf[SK_ND_MSG_MAX];
    size_t n = sk_nd_emit(buf, sizeof(buf), src, dst, m);
    if (n != 0)
        sk_ip6_send_nd(st, src, dst, buf, n);
}

static void put_lladdr(const struct sk_stack *st, uint8_t *len, uint8_t *opt)
{
    *len = 6;
    memcpy(opt, st->cfg.mac, 6);
}

void sk_nd_send_ns(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *target,
                   bool unicast)
{
    /* RFC 4861 §7.2.2: our link address with it, except from :: (DAD, RFC 4862 §5.4.2). */
    struct sk_nd_msg m = {.type = SK_ND_NEIGHBOR_SOLICIT, .target = *target};
    if (!sk_addr_is_any(src))
        put_lladdr(st, &m.opts.src_ll_len, m.opts.src_ll);
    struct sk_addr dst = unicast ? *target : sk_ip6_solicited_node(target);
    st->ctr.nd_ns_out++;
    send_nd(st, src, &dst, &m);
}

void sk_nd_solicit(struct sk_stack *st, const struct sk_addr *target, const uint8_t *dst)
{
    struct sk_addr src;
    if (!sk_ip6_select_src(st, target, &src))
        return; /* no usable address yet: the retries will find one */
    sk_nd_send_ns(st, &src, target, dst != NULL);
}

void sk_nd_send_rs(struct sk_stack *st)
{
    struct sk_nd_msg m = {.type = SK_ND_ROUTER_SOLICIT};
    struct sk_addr src = unspecified;
    if (sk_ip6_select_src(st, &all_routers, &src))
        put_lladdr(st, &m.opts.src_ll_len, m.opts.src_ll);
    st->ctr.nd_rs_out++;
    send_nd(st, &src, &all_routers, &m);
}

static void send_na(struct sk_stack *st, const struct sk_addr *target, const struct sk_addr *dst,
                    bool solicited)
{
    struct sk_nd_msg m = {.type = SK_ND_NEIGHBOR_ADVERT, .target = *target,
                          .solicited = solicited, .override = true};
    put_lladdr(st, &m.opts.tgt_ll_len, m.opts.tgt_ll);
    st->ctr.nd_na_out++;
    send_nd(st, target, dst, &m);
}

/* ---- Messages in ---- */

static bool is_solicited_node(const struct sk_addr *a)
{
    static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    return memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

/* RFC 4861 §7.2.3: the solicitor's link address, if it sent one, is recorded STALE (or left
 * as it is when unchanged). */
static void learn_stale(struct sk_stack *st, const struct sk_addr *ip, const uint8_t *ll,
                        uint8_t ll_len)
{
    if (ll_len != 6 || sk_addr_is_any(ip))
        return;
    struct neigh *e = sk_neigh_find(st, ip);
    if (e != NULL && e->state != NUD_INCOMPLETE && memcmp(e->mac, ll, 6) == 0)
        return;
    sk_neigh_update(st, ip, ll, NUD_STALE, true);
}

static void ns_input(struct sk_stack *st, const struct ip6_pkt *p, const struct sk_nd_msg *m)
{
    bool from_dad = sk_addr_is_any(p->src);
    /* RFC 4861 §7.1.1: from ::, only to a solicited-node group and without our... its link
     * address option. */
    if (from_dad && (!is_solicited_node(p->dst) || m->opts.src_ll_len != 0)) {
        sk_drop(st, SK_DROP_ND_INVALID, NULL, p->frame, p->frame_len);
        return;
    }
    st->ctr.nd_ns_in++;
    struct ip6_addr *x = sk_ip6_addr_find(st, &m->target);
    if (x == NULL || x->state == IP6A_DUPLICATED) {
        sk_drop(st, SK_DROP_IP_NOT_FOR_US, NULL, p->frame, p->frame_len);
        return;
    }
    if (x->state == IP6A_TENTATIVE) {
        /* RFC 4862 §5.4.3: another node's DAD for the same address means it is a duplicate;
         * a resolution from a unicast source is not answered while tentative. */
        if (from_dad)
            dad_failed(st, x);
        return;
    }
    learn_stale(st, p->src, m->opts.src_ll, m->opts.src_ll_len);
    /* RFC 4861 §7.2.4: solicited advertisement to the solicitor; to all-nodes, unsolicited,
     * when the solicitor was DAD's ::. O set: the address is ours, no proxy. */
    send_na(st, &m->target, from_dad ? &all_nodes : p->src, !from_dad);
}

static void na_input(struct sk_stack *st, const struct ip6_pkt *p, const struct sk_nd_msg *m)
{
    /* RFC 4861 §7.1.2: S is never set toward a group. */
    if (p->multicast && m->solicited) {
        sk_drop(st, SK_DROP_ND_INVALID, NULL, p->frame, p->frame_len);
        return;
    }
    st->ctr.nd_na_in++;
    struct ip6_addr *x = sk_ip6_addr_find(st, &m->target);
    if (x != NULL) {
        /* RFC 4862 §5.4.4: an advertisement for a tentative address of ours: a duplicate. For
         * an address in use there is nothing to do but note it (§5.4.4's last paragraph). */
        if (x->state == IP6A_TENTATIVE)
            dad_failed(st, x);
        return;
    }
    struct neigh *e = sk_neigh_find(st, &m->target);
    if (e == NULL)
        return; /* §7.2.5: no entry, no interest */
    bool has_ll = m->opts.tgt_ll_len == 6;
    if (e->state == NUD_INCOMPLETE) {
        if (!has_ll)
            return;
        e = sk_neigh_update(st, &m->target, m->opts.tgt_ll,
                            m->solicited ? NUD_REACHABLE : NUD_STALE, false);
        e->router = m->router;
        return;
    }
    bool differs = has_ll && memcmp(e->mac, m->opts.tgt_ll, 6) != 0;
    if (!m->override && differs) {
        /* §7.2.5: a different address without O does not replace ours, but casts doubt. */
        if (e->state == NUD_REACHABLE)
            e->state = NUD_STALE;
        return;
    }
    if (m->solicited)
        sk_neigh_update(st, &m->target, has_ll ? m->opts.tgt_ll : NULL, NUD_REACHABLE, false);
    else if (differs)
        sk_neigh_update(st, &m->target, m->opts.tgt_ll, NUD_STALE, false);
    /* §7.2.5: a router that says it no longer is one leaves the default router list. */
    if (e->router && !m->router)
        for (int i = 0; i < IP6_ROUTERS; i++)
            if (sk_addr_eq(&st->ip->ip6.routers[i].a, &m->target))
                st->ip->ip6.routers[i].until = 0;
    e->router = m->router;
}

static sk_time_us lifetime_end(const struct sk_stack *st, uint32_t seconds)
{
    return seconds == SK_ND_INFINITE ? SK_TIME_NEVER : st->now + (sk_time_us)seconds * 1000000;
}

/* RFC 4861 §6.3.4: the Default Router List. */
static void ra_router(struct sk_stack *st, const struct sk_addr *a, uint16_t lifetime_s)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    struct ip6_router *slot = NULL;
    for (int i = 0; i < IP6_ROUTERS; i++) {
        struct ip6_router *r = &s6->routers[i];
        if (r->until > st->now && sk_addr_eq(&r->a, a)) {
            slot = r;
            break;
        }
        if (slot == NULL && r->until <= st->now)
            slot = r;
    }
    if (slot == NULL)
        return; /* the list is full: the routers it holds serve */
    slot->a = *a;
    slot->until = lifetime_s ? st->now + (sk_time_us)lifetime_s * 1000000 : 0;
    if (slot->until)
        ip6_deadline(st, slot->until);
}

/* RFC 4861 §6.3.4: an on-link prefix (L), valid for its valid lifetime (0: withdrawn). */
static void ra_onlink(struct sk_stack *st, const struct sk_nd_prefix *p)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    if (sk_addr_is_linklocal6(&p->prefix))
        return;
    struct ip6_onlink *slot = NULL;
    for (int i = 0; i < IP6_ONLINK; i++) {
        struct ip6_onlink *o = &s6->onlink[i];
        if (o->until > st->now && o->len == p->prefix_len && sk_addr_eq(&o->prefix, &p->prefix)) {
            slot = o;
            break;
        }
        if (slot == NULL && o->until <= st->now)
            slot = o;
    }
    if (slot == NULL)
        return;
    slot->prefix = p->prefix;
    slot->len = p->prefix_len;
    slot->until = p->valid_lifetime ? lifetime_end(st, p->valid_lifetime) : 0;
    if (slot->until)
        ip6_deadline(st, slot->until);
}

/* RFC 4862 §5.5.3: an address from a prefix with the A flag. */
static void ra_slaac(struct sk_stack *st, const struct sk_nd_prefix *p)
{
    /* (a) not link-local; (c) preferred <= valid; a 64-bit identifier needs a /64 (RFC 4291
     * §2.5.1), else the prefix is ignored (§5.5.3 (d)). */
    if (sk_addr_is_linklocal6(&p->prefix) || p->preferred_lifetime > p->valid_lifetime ||
        p->prefix_len != 64)
        return;
    struct sk_addr a = p->prefix;
    sk_ip6_stable_iid(st, &p->prefix, 0, a.b + 8);
    struct ip6_addr *x = sk_ip6_addr_find(st, &a);
    sk_time_us valid = lifetime_end(st, p->valid_lifetime);
    if (x == NULL) {
        if (p->valid_lifetime == 0)
            return;
        x = sk_ip6_addr_add(st, &a, 64, IP6A_SLAAC);
        if (x == NULL)
            return;
        x->valid_until = valid;
    } else {
        if (x->origin != IP6A_SLAAC)
            return;
        /* (e): the two-hour rule against a forged advertisement that would end it. */
        sk_time_us remaining = x->valid_until - st->now;
        if (valid > st->now + SLAAC_TWO_HOURS_US || valid > x->valid_until)
            x->valid_until = valid;
        else if (remaining > SLAAC_TWO_HOURS_US)
            x->valid_until = st->now + SLAAC_TWO_HOURS_US;
    }
    x->preferred_until = lifetime_end(st, p->preferred_lifetime);
    if (x->state == IP6A_DEPRECATED && x->preferred_until > st->now)
        x->state = IP6A_PREFERRED;
    ip6_deadline(st, st->now);
}

static void ra_input(struct sk_stack *st, const struct ip6_pkt *p, const struct sk_nd_msg *m)
{
    /* RFC 4861 §6.1.2: from a link-local address. */
    if (!sk_addr_is_linklocal6(p->src)) {
        sk_drop(st, SK_DROP_ND_INVALID, NULL, p->frame, p->frame_len);
        return;
    }
    st->ctr.nd_ra_in++;
    if (!st->cfg.ip6_accept_ra)
        return;
    struct sk_ip6state *s6 = &st->ip->ip6;
    s6->rs_left = 0; /* §6.3.7: an advertisement ends the solicitations */
    ra_router(st, p->src, m->router_lifetime);
    if (m->cur_hop_limit != 0)
        s6->cur_hop_limit = m->cur_hop_limit;
    if (m->reachable_time != 0 && m->reachable_time * 1000ull != s6->base_reachable_us &&
        m->reachable_time <= 3600000u) { /* §6.2.1: MAX_REACHABLE_TIME, one hour */
        s6->base_reachable_us = m->reachable_time * 1000u;
        draw_reachable_time(st);
    }
    if (m->retrans_timer != 0 && m->retrans_timer <= 3600000u)
        s6->retrans_us = m->retrans_timer * 1000u;
    learn_stale(st, p->src, m->opts.src_ll, m->opts.src_ll_len);
    struct neigh *e = sk_neigh_find(st, p->src);
    if (e != NULL)
        e->router = true;
    /* §6.3.4: an MTU option within [1280, the link's MTU] sets the IPv6 link MTU. */
    if (m->opts.has_mtu && m->opts.mtu >= SK_IPV6_MIN_MTU && m->opts.mtu <= st->cfg.mtu)
        s6->link_mtu = m->opts.mtu;
    for (unsigned i = 0; i < m->opts.nprefix; i++) {
        const struct sk_nd_prefix *px = &m->opts.prefix[i];
        if (px->on_link)
            ra_onlink(st, px);
        if (px->autonomous)
            ra_slaac(st, px);
    }
}

void sk_nd_input(struct sk_stack *st, const struct ip6_pkt *p)
{
    struct sk_nd_msg m;
    int r = sk_nd_parse(p->payload, p->payload_len, &m);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, p->frame, p->frame_len);
        return;
    }
    /* RFC 4861 §6.1, §7.1: 255, or it was forwarded by a router: not from this link. Only
     * Ethernet links have neighbour discovery. */
    if (p->hop_limit != 255 || !nd_link(st)) {
        sk_drop(st, SK_DROP_ND_INVALID, NULL, p->frame, p->frame_len);
        return;
    }
    switch (m.type) {
    case SK_ND_NEIGHBOR_SOLICIT:
        ns_input(st, p, &m);
        break;
    case SK_ND_NEIGHBOR_ADVERT:
        na_input(st, p, &m);
        break;
    case SK_ND_ROUTER_ADVERT:
        ra_input(st, p, &m);
        break;
    default:
        /* Router solicitations are for routers (§6.2.6); redirects are not followed: one
         * link, its routers from advertisements. */
        sk_drop(st, SK_DROP_ICMP_TYPE, NULL, p->frame, p->frame_len);
        break;
    }
}
