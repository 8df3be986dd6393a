/* Our IPv6 addresses: the table (static ones from sk_config.addr6, the link-local one formed
 * at start, SLAAC ones from router advertisements), their states (RFC 4862 §5.5.4:
 * tentative, preferred, deprecated; and duplicated, §5.4.5) and lifetimes, the interface
 * identifiers of RFC 7217, on-link tests (RFC 4861 §5.2) and source address selection
 * (RFC 6724 §5).
 *
 * Duplicate address detection itself (the solicitations and what answers them) is nd.c's; an
 * address is usable (sk_ip6_is_local, a source) only once preferred or deprecated.
 */
#include "ip/ip_int.h"
#include "util/rand.h"

static bool usable(const struct ip6_addr *x)
{
    return x->state == IP6A_PREFERRED || x->state == IP6A_DEPRECATED;
}

struct ip6_addr *sk_ip6_addr_find(struct sk_stack *st, const struct sk_addr *a)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    for (int i = 0; i < IP6_ADDRS; i++)
        if (s6->addrs[i].state != IP6A_FREE && sk_addr_eq(&s6->addrs[i].a, a))
            return &s6->addrs[i];
    return NULL;
}

struct ip6_addr *sk_ip6_addr_add(struct sk_stack *st, const struct sk_addr *a, uint8_t plen,
                                 enum ip6_addr_origin origin)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    if (sk_ip6_addr_find(st, a) != NULL)
        return NULL;
    for (int i = 0; i < IP6_ADDRS; i++) {
        struct ip6_addr *x = &s6->addrs[i];
        if (x->state != IP6A_FREE)
            continue;
        memset(x, 0, sizeof(*x));
        x->a = *a;
        x->prefix_len = plen;
        x->origin = (uint8_t)origin;
        x->preferred_until = x->valid_until = SK_TIME_NEVER;
        /* RFC 4862 §5.4: tentative until DupAddrDetectTransmits solicitations went
         * unanswered; with none, usable at once (§5.4: "0 indicates that DAD is not
         * performed"). Only links with neighbour discovery run it. */
        bool dad = st->cfg.ip6_dad_transmits > 0 && st->cfg.link_type == SK_LINK_ETHERNET;
        x->state = dad ? IP6A_TENTATIVE : IP6A_PREFERRED;
        x->dad_left = st->cfg.ip6_dad_transmits;
        x->dad_next = st->now;
        if (dad) {
            s6->deadline = st->now;
            sk_ip_deadline_at(st, st->now);
        }
        return x;
    }
    return NULL;
}

void sk_ip6_stable_iid(const struct sk_stack *st, const struct sk_addr *prefix,
                       uint8_t dad_counter, uint8_t iid[8])
{
    /* RFC 7217 §5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key), F a PRF
     * (SipHash-2-4 under SK_KEY_IID), Net_Iface the link address (stable for the interface,
     * and the key makes it unguessable), no Network_ID; the low 64 bits are the identifier.
     * RFC 7136 §3: no bit of it carries meaning (no "u"/"g" bits to set). */
    uint8_t msg[8 + 6 + 1];
    memcpy(msg, prefix->b, 8);
    memcpy(msg + 8, st->cfg.mac, 6);
    msg[14] = dad_counter;
    const uint64_t *k = sk_key(st, SK_KEY_IID);
    uint64_t h = sk_siphash(k[0], k[1], msg, sizeof(msg));
    for (int i = 0; i < 8; i++)
        iid[i] = (uint8_t)(h >> (56 - 8 * i));
}

struct sk_addr sk_ip6_solicited_node(const struct sk_addr *a)
{
    struct sk_addr g = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff}};
    memcpy(g.b + 13, a->b + 13, 3);
    return g;
}

bool sk_ip6_is_our_group(const struct sk_stack *st, const struct sk_addr *a)
{
    static const struct sk_addr all_nodes = {{0xff, 0x02, [15] = 1}};
    if (sk_addr_eq(a, &all_nodes))
        return true;
    const struct sk_ip6state *s6 = &st->ip->ip6;
    for (int i = 0; i < IP6_ADDRS; i++) {
        const struct ip6_addr *x = &s6->addrs[i];
        if (x->state == IP6A_FREE || x->state == IP6A_DUPLICATED)
            continue;
        struct sk_addr g = sk_ip6_solicited_node(&x->a);
        if (sk_addr_eq(a, &g))
            return true;
    }
    return false;
}

bool sk_ip6_is_local(const struct sk_stack *st, const struct sk_addr *a)
{
    if (st->ip == NULL || !st->cfg.ip6)
        return false;
    const struct sk_ip6state *s6 = &st->ip->ip6;
    for (int i = 0; i < IP6_ADDRS; i++)
        if (usable(&s6->addrs[i]) && sk_addr_eq(&s6->addrs[i].a, a))
            return true;
    return false;
}

/* Leading bits a and b share (0..128). */
static unsigned common_prefix(const struct sk_addr *a, const struct sk_addr *b)
{
    unsigned n = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t d = a->b[i] ^ b->b[i];
        if (d == 0) {
            n += 8;
            continue;
        }
        while (!(d & 0x80)) {
            d <<= 1;
            n++;
        }
        break;
    }
    return n;
}

bool sk_ip6_on_link(const struct sk_stack *st, const struct sk_addr *a)
{
    if (sk_addr_is_linklocal6(a) || sk_addr_is_multicast6(a))
        return true;
    const struct sk_ip6state *s6 = &st->ip->ip6;
    for (int i = 0; i < IP6_ADDRS; i++) {
        const struct ip6_addr *x = &s6->addrs[i];
        if (x->state != IP6A_FREE && x->origin == IP6A_STATIC &&
            common_prefix(&x->a, a) >= x->prefix_len)
            return true;
    }
    for (int i = 0; i < IP6_ONLINK; i++) {
        const struct ip6_onlink *p = &s6->onlink[i];
        if (p->until > st->now && common_prefix(&p->prefix, a) >= p->len)
            return true;
    }
    return false;
}

/* RFC 6724 §3.1: scope of an address (multicast: its scope field; link-local 2; global 14). */
static unsigned scope_of(const struct sk_addr *a)
{
    static const struct sk_addr loopback = {{[15] = 1}};
    if (sk_addr_is_multicast6(a))
        return a->b[1] & 0x0f;
    if (sk_addr_is_linklocal6(a) || sk_addr_eq(a, &loopback))
        return 2;
    return 14;
}

/* RFC 6724 §5: is candidate sb better than sa as a source for dst? The rules that can
 * differ between our addresses: 1 (prefer the destination itself), 2 (appropriate scope),
 * 3 (avoid deprecated), 8 (longest matching prefix). Rules 4-7 have nothing to decide here
 * (no home, outgoing interface is the one link, no labels policy, no temporary addresses). */
static bool better_source(const struct ip6_addr *sa, const struct ip6_addr *sb,
                          const struct sk_addr *dst)
{
    if (sk_addr_eq(&sb->a, dst) != sk_addr_eq(&sa->a, dst)) /* rule 1 */
        return sk_addr_eq(&sb->a, dst);
    unsigned ca = scope_of(&sa->a), cb = scope_of(&sb->a), cd = scope_of(dst);
    if (ca != cb) /* rule 2 */
        return ca < cb ? ca < cd : cb >= cd;
    bool da = sa->state == IP6A_DEPRECATED, db = sb->state == IP6A_DEPRECATED;
    if (da != db) /* rule 3 */
        return da;
    unsigned la = common_prefix(&sa->a, dst), lb = common_prefix(&sb->a, dst);
    /* Rule 8 compares only up to the source's prefix length (RFC 6724 §2.2 CommonPrefixLen). */
    la = la > sa->prefix_len ? sa->prefix_len : la;
    lb = lb > sb->prefix_len ? sb->prefix_len : lb;
    return lb > la;
}

bool sk_ip6_select_src(const struct sk_stack *st, const struct sk_addr *dst, struct sk_addr *src)
{
    if (st->ip == NULL || !st->cfg.ip6)
        return false;
    const struct sk_ip6state *s6 = &st->ip->ip6;
    const struct ip6_addr *best = NULL;
    for (int i = 0; i < IP6_ADDRS; i++) {
        const struct ip6_addr *x = &s6->addrs[i];
        if (!usable(x))
            continue;
        if (best == NULL || better_source(best, x, dst))
            best = x;
    }
    if (best == NULL)
        return false;
    *src = best->a;
    return true;
}

sk_time_us sk_ip6_addr_timer(struct sk_stack *st)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    sk_time_us next = SK_TIME_NEVER;
    for (int i = 0; i < IP6_ADDRS; i++) {
        struct ip6_addr *x = &s6->addrs[i];
        if (x->state == IP6A_FREE || x->state == IP6A_DUPLICATED)
            continue;
        /* RFC 4862 §5.5.4: past the valid lifetime the address goes; past the preferred one it
         * is deprecated (kept for what uses it, avoided for anything new). */
        if (x->valid_until <= st->now) {
            memset(x, 0, sizeof(*x));
            continue;
        }
        if (x->state == IP6A_PREFERRED && x->preferred_until <= st->now)
            x->state = IP6A_DEPRECATED;
        if (x->valid_until < next)
            next = x->valid_until;
        if (x->state == IP6A_PREFERRED && x->preferred_until < next)
            next = x->preferred_until;
    }
    return next;
}
