/* IPv6 input, routing and output (RFC 8200, RFC 4861 §5.2 for the next hop, RFC 8201 for
 * path MTUs, RFC 6437 for flow labels).
 *
 * Input (sk_config.ip6 only; otherwise an ip-version drop as before): the fixed header (wire's
 * sk_ipv6_parse), a source that is not multicast nor loopback (RFC 4291 §2.5.3, §2.7), a
 * destination that is one of our usable addresses or one of our groups (all-nodes, the
 * solicited-node group of any address of ours), then the extension-header chain walked by
 * wire's sk_ip6_ext_walk: malformed chains and options whose action bits ask for it get an
 * ICMPv6 Parameter Problem with the pointer the walker found (RFC 8200 §4, §4.2); a Routing
 * header with segments left is refused with code 0 pointing at its type, whatever the type
 * (RFC 5095 §3 for type 0: a host processes none; drop ip6-routing-header); atomic fragments
 * are processed as they are (RFC 6946); other fragments are reassembled by ip_frag.c (RFC 8200
 * §4.5, with IPv4's limits) and the whole packet processed again. The upper layer: TCP and UDP to the transports (deliver6.c,
 * which answers no TCP to a group), ICMPv6 to icmp6.c, No Next Header ends quietly (§4.7),
 * anything else is a Parameter Problem code 1 at the Next Header that named it (§4).
 *
 * Routing (RFC 4861 §5.2): on-link destinations (link-local, multicast, under one of our
 * prefixes or an advertised on-link prefix) are their own next hop; others go to a default
 * router (§6.3.6: one whose neighbour entry is not known unreachable, first); a bare-IP link
 * is point to point. Output writes the 40-byte header (hop limit CurHopLimit, 255 for ND),
 * and sk_ip6_send fragments (RFC 8200 §4.5) at the path MTU with a random 32-bit
 * identification per datagram (RFC 7739 §5).
 */
#include "ip/ip_int.h"
#include "util/rand.h"

#define IP6_ND_HOP_LIMIT 255  /* RFC 4861 §6.1, §7.1: a message not forwarded by a router */
#define PMTU_AGE_US (10ull * 60 * 1000000) /* RFC 8201 §4: try a larger MTU after 10 min */

size_t sk_ip6_headroom(const struct sk_stack *st)
{
    return sk_link_hlen(st) + SK_IPV6_HLEN;
}

/* ---- Routing and path MTU ---- */

static bool route6(struct sk_stack *st, const struct sk_addr *dst, struct sk_addr *nexthop)
{
    if (st->cfg.link_type == SK_LINK_IP || sk_ip6_on_link(st, dst)) {
        *nexthop = *dst;
        return true;
    }
    /* RFC 4861 §6.3.6: routers known reachable (or probably so) before the others. */
    const struct ip6_router *pick = NULL;
    for (int i = 0; i < IP6_ROUTERS; i++) {
        const struct ip6_router *r = &st->ip->ip6.routers[i];
        if (r->until <= st->now)
            continue;
        const struct neigh *n = sk_neigh_find(st, &r->a);
        if (pick == NULL || (n != NULL && n->state != NUD_INCOMPLETE))
            pick = r;
        if (n != NULL && n->state != NUD_INCOMPLETE)
            break;
    }
    if (pick == NULL)
        return false;
    *nexthop = pick->a;
    return true;
}

uint32_t sk_ip6_path_mtu(const struct sk_stack *st, const struct sk_addr *dst)
{
    uint32_t mtu = st->cfg.mtu;
    if (st->ip != NULL && st->cfg.ip6) {
        const struct sk_ip6state *s6 = &st->ip->ip6;
        mtu = s6->link_mtu;
        for (int i = 0; i < IP6_PMTU_ENTRIES; i++)
            if (s6->pmtu[i].mtu != 0 && sk_addr_eq(&s6->pmtu[i].dst, dst) &&
                s6->pmtu[i].mtu < mtu)
                mtu = s6->pmtu[i].mtu;
    }
    return mtu < SK_IPV6_MIN_MTU ? SK_IPV6_MIN_MTU : mtu;
}

void sk_ip6_pmtu_update(struct sk_stack *st, const struct sk_addr *dst, uint32_t mtu)
{
    struct sk_ip6state *s6 = &st->ip->ip6;
    /* RFC 8201 §4: never below the IPv6 minimum link MTU; never raised by a report. */
    if (mtu < SK_IPV6_MIN_MTU) {
        st->ctr.ip6_pmtu_floored++;
        mtu = SK_IPV6_MIN_MTU;
    }
    if (mtu >= sk_ip6_path_mtu(st, dst))
        return;
    struct ip6_pmtu *slot = NULL;
    for (int i = 0; i < IP6_PMTU_ENTRIES; i++) {
        struct ip6_pmtu *m = &s6->pmtu[i];
        if (m->mtu != 0 && sk_addr_eq(&m->dst, dst)) {
            slot = m;
            break;
        }
        /* A free slot, else the entry that would expire first. */
        if (slot == NULL || (slot->mtu != 0 && (m->mtu == 0 || m->expires < slot->expires)))
            slot = m;
    }
    slot->dst = *dst;
    slot->mtu = mtu;
    slot->expires = st->now + PMTU_AGE_US;
    if (slot->expires < s6->deadline)
        s6->deadline = slot->expires;
    sk_ip_deadline_at(st, slot->expires);
    st->ctr.ip6_pmtu_lowered++;
}

uint32_t sk_ip6_flow_label(const struct sk_stack *st, const struct sk_addr *src,
                           const struct sk_addr *dst, uint8_t proto, uint16_t sport,
                           uint16_t dport)
{
    /* RFC 6437 §3: a keyed hash of the 5-tuple, so that it is stable for the flow, uniformly
     * spread and unguessable to others; 20 bits. */
    uint8_t m[16 + 16 + 1 + 4];
    memcpy(m, src->b, 16);
    memcpy(m + 16, dst->b, 16);
    m[32] = proto;
    sk_put16(m + 33, sport);
    sk_put16(m + 35, dport);
    const uint64_t *k = sk_key(st, SK_KEY_FLOW);
    uint32_t f = (uint32_t)sk_siphash(k[0], k[1], m, sizeof(m)) & 0xfffffu;
    return f ? f : 1; /* 0 would say "not part of a flow" */
}

/* ---- Output ---- */

static void write_header(uint8_t *at, const struct sk_addr *src, const struct sk_addr *dst,
                         uint8_t next, uint8_t tclass, uint32_t flow, uint8_t hop_limit,
                         size_t plen)
{
    struct sk_ipv6_hdr h = {.tclass = tclass, .flow = flow, .next = next,
                            .hop_limit = hop_limit, .src = *src, .dst = *dst};
    sk_ipv6_emit(at, SK_IPV6_HLEN, &h, plen);
}

void sk_ip6_output(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   uint8_t proto, uint8_t tclass, uint32_t flow, size_t len,
                   const struct sk_frame_meta *meta)
{
    struct sk_addr nh;
    bool gso = meta && meta->gso_type != SK_GSO_NONE;
    size_t most = gso ? st->cfg.caps.tso_max : sk_ip6_path_mtu(st, dst);
    if (!st->cfg.ip6 || !route6(st, dst, &nh) || SK_IPV6_HLEN + len > most) {
        sk_drop(st, SK_DROP_OUT_NO_ROUTE, NULL, NULL, 0);
        return;
    }
    size_t lh = sk_link_hlen(st);
    write_header(st->tx + lh, src, dst, proto, tclass, flow, st->ip->ip6.cur_hop_limit, len);
    st->ctr.ip6_out += sk_gso_pieces(meta, lh + SK_IPV6_HLEN + len);
    sk_link_output(st, &nh, st->tx, lh + SK_IPV6_HLEN + len, meta);
}

int sk_ip6_send_hl(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   uint8_t proto, uint8_t hop_limit, uint32_t flow, const uint8_t *head,
                   size_t hlen, const uint8_t *body, size_t blen,
                   const struct sk_frame_meta *meta)
{
    size_t total = hlen + blen;
    struct sk_addr nh;
    if (!st->cfg.ip6 || !route6(st, dst, &nh)) {
        sk_drop(st, SK_DROP_OUT_NO_ROUTE, NULL, NULL, 0);
        return -ENETUNREACH;
    }
    size_t lh = sk_link_hlen(st), mtu = sk_ip6_path_mtu(st, dst);
    if (SK_IPV6_HLEN + total <= mtu) {
        uint8_t *payload = sk_tx_begin(st, lh + SK_IPV6_HLEN + total) + lh + SK_IPV6_HLEN;
        sk_ip_copy_span(payload, head, hlen, body, 0, total);
        write_header(st->tx + lh, src, dst, proto, 0, flow, hop_limit, total);
        st->ctr.ip6_out++;
        sk_link_output(st, &nh, st->tx, lh + SK_IPV6_HLEN + total, meta);
        return 0;
    }
    /* RFC 8200 §4.5: fragments of at most the path MTU, each but the last a multiple of 8
     * bytes of data, one identification for them all; the largest datagram a Fragment header
     * can describe is 65535 bytes after the fixed header. */
    if (SK_IP6_FRAG_HLEN + total > UINT16_MAX)
        return -EMSGSIZE;
    size_t per = (mtu - SK_IPV6_HLEN - SK_IP6_FRAG_HLEN) / 8 * 8;
    uint32_t id = (uint32_t)sk_random(st);
    for (size_t off = 0; off < total; off += per) {
        size_t n = total - off < per ? total - off : per;
        size_t flen = lh + SK_IPV6_HLEN + SK_IP6_FRAG_HLEN + n;
        uint8_t *fh = sk_tx_begin(st, flen) + lh + SK_IPV6_HLEN;
        fh[0] = proto;
        fh[1] = 0;
        sk_put16(fh + 2, (uint16_t)(off | (off + n < total ? 1 : 0)));
        sk_put32(fh + 4, id);
        sk_ip_copy_span(fh + SK_IP6_FRAG_HLEN, head, hlen, body, off, n);
        write_header(st->tx + lh, src, dst, SK_IPPROTO_FRAGMENT, 0, flow, hop_limit,
                     SK_IP6_FRAG_HLEN + n);
        st->ctr.ip6_out++;
        st->ctr.ip6_frags_out++;
        sk_link_output(st, &nh, st->tx, flen, NULL);
    }
    return 0;
}

int sk_ip6_send(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                uint8_t proto, const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen,
                const struct sk_frame_meta *meta)
{
    if (st->ip == NULL || !st->cfg.ip6)
        return -ENETUNREACH;
    /* The ports of TCP and UDP, the first 4 bytes of their headers, name the flow. */
    uint16_t sport = 0, dport = 0;
    if ((proto == SK_IPPROTO_TCP || proto == SK_IPPROTO_UDP) && hlen >= 4) {
        sport = sk_get16(head);
        dport = sk_get16(head + 2);
    }
    uint32_t flow = sk_ip6_flow_label(st, src, dst, proto, sport, dport);
    return sk_ip6_send_hl(st, src, dst, proto, st->ip->ip6.cur_hop_limit, flow, head, hlen,
                          body, blen, meta);
}

int sk_ip6_send_nd(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   const uint8_t *msg, size_t len)
{
    /* Built on the C stack, not in st->tx: a solicitation goes out from inside the output of
     * the packet that needs it, which sits in st->tx (as arp.c's requests). Its destination is
     * on-link by definition (RFC 4861 §7.2.2, §7.2.4, §6.3.7): it is its own next hop. */
    uint8_t f[SK_ETH_HLEN + SK_IPV6_HLEN + SK_ND_MSG_MAX];
    size_t lh = sk_link_hlen(st);
    if (len > SK_ND_MSG_MAX)
        return -EMSGSIZE;
    /* RFC 6437 §2: flow label 0 for what is not a flow; RFC 4861: hop limit 255. */
    write_header(f + lh, src, dst, SK_IPPROTO_ICMPV6, 0, 0, IP6_ND_HOP_LIMIT, len);
    memcpy(f + lh + SK_IPV6_HLEN, msg, len);
    st->ctr.ip6_out++;
    sk_link_output(st, dst, f, lh + SK_IPV6_HLEN + len, NULL);
    return 0;
}

/* ---- Input ---- */

static bool bad_source(const struct sk_addr *a)
{
    static const struct sk_addr loopback = {{[15] = 1}};
    return sk_addr_is_multicast6(a) || sk_addr_eq(a, &loopback) || sk_addr_is_v4(a);
}

static void deliver6(struct sk_stack *st, const struct ip6_pkt *p, const struct sk_ip6_ext *e)
{
    switch (p->proto) {
    case SK_IPPROTO_TCP: /* deliver6.c refuses TCP to a group */
    case SK_IPPROTO_UDP:
        sk_transport_input6(st, p);
        break;
    case SK_IPPROTO_ICMPV6:
        sk_icmp6_input(st, p);
        break;
    case SK_IPPROTO_NONE:
        /* RFC 8200 §4.7: nothing follows; nothing to answer. */
        sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
        break;
    default:
        /* RFC 8200 §4: an unrecognized Next Header: Parameter Problem code 1 pointing at it. */
        sk_icmp6_send_error(st, p, SK_ICMP6_PARAM_PROBLEM, SK_ICMP6_PP_NEXT_HEADER,
                            (uint32_t)e->next_hdr_off, false);
        sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
        break;
    }
}

/* A chain the walker refused: the Parameter Problem its report justifies, if any. */
static void ext_refused(struct sk_stack *st, const struct ip6_pkt *p, int r,
                        const struct sk_ip6_ext *e)
{
    if (r == SK_DROP_IP6_OPTION) {
        /* RFC 8200 §4.2: action 10 answers even a multicast destination (RFC 4443 §2.4 (e.3)
         * allows it), 11 only a unicast one, 01 never. */
        if (e->opt_action == SK_IP6_OPT_DISCARD_PP ||
            (e->opt_action == SK_IP6_OPT_DISCARD_PP_UNICAST && !p->multicast))
            sk_icmp6_send_error(st, p, SK_ICMP6_PARAM_PROBLEM, SK_ICMP6_PP_OPTION,
                                e->pp_pointer, e->opt_action == SK_IP6_OPT_DISCARD_PP);
    } else if (r == SK_DROP_IP6_BAD_EXT || r == SK_DROP_IP6_CHAIN_INCOMPLETE ||
               r == SK_DROP_IP_FRAG_INVALID || r == SK_DROP_IP6_EXT_LIMIT) {
        /* The walker names the field; past its limits RFC 8883 §4 lets the node say so. */
        sk_icmp6_send_error(st, p, SK_ICMP6_PARAM_PROBLEM, e->pp_code, e->pp_pointer, false);
    }
    sk_drop(st, (enum sk_drop_reason)r, NULL, p->frame, p->frame_len);
}

/* The packet at pkt (p->raw_len bytes from its IPv6 header) past the checks of its fixed
 * header: its extension headers, then its upper layer. A fragment goes to reassembly (RFC
 * 8200 §4.5, ip_frag.c); the datagram it completes comes back here, once, without its Fragment
 * header (a second one in it is refused). */
static void chain(struct sk_stack *st, struct ip6_pkt *p, const uint8_t *pkt, bool reassembled)
{
    struct sk_ip6_ext e;
    int r = sk_ip6_ext_walk(pkt, p->raw_len, &e);
    if (r != 0) {
        ext_refused(st, p, r, &e);
        return;
    }
    /* RFC 8200 §4.4: a host acts on no routing type; one with segments left is refused with
     * code 0 at its type (for type 0, RFC 5095 §3 says the same), one with none is ignored. */
    if (e.has_routing && e.segments_left != 0) {
        sk_icmp6_send_error(st, p, SK_ICMP6_PARAM_PROBLEM, SK_ICMP6_PP_HEADER,
                            (uint32_t)e.routing_type_off, false);
        sk_drop(st, SK_DROP_IP6_ROUTING, NULL, p->frame, p->frame_len);
        return;
    }
    if (e.has_frag && reassembled) {
        sk_drop(st, SK_DROP_IP_FRAG_INVALID, NULL, p->frame, p->frame_len);
        return;
    }
    if (e.has_frag) {
        /* A link vouches for a frame's transport checksum, never for a packet put together
         * from several frames: the reassembled one is verified. An atomic fragment (RFC 6946
         * §4) comes straight back (done NULL) and is processed as a whole packet. */
        const uint8_t *out;
        size_t out_len;
        struct frag_dgram *done = NULL;
        if (!sk_ip6frag_input(st, pkt, p->raw_len, &e, p->frame, p->frame_len, &out, &out_len,
                              &done))
            return;
        if (done != NULL) {
            struct ip6_pkt whole = *p;
            whole.raw = out;
            whole.raw_len = out_len;
            whole.csum_ok = false;
            chain(st, &whole, out, true);
            sk_ipfrag_release(st, done);
            return;
        }
    }
    p->proto = e.proto;
    p->payload = pkt + e.upper_off;
    p->payload_len = p->raw_len - e.upper_off;
    deliver6(st, p, &e);
}

void sk_ip6_input(struct sk_stack *st, const uint8_t *pkt, size_t len, const uint8_t *frame,
                  size_t frame_len)
{
    struct sk_ipv6_hdr h;
    int r = st->cfg.ip6 ? sk_ipv6_parse(pkt, len, &h) : SK_DROP_IP_VERSION;
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return;
    }
    st->ctr.ip6_in++;
    struct ip6_pkt p = {
        .src = &h.src, .dst = &h.dst, .tclass = h.tclass, .hop_limit = h.hop_limit,
        .flow = h.flow, .raw = pkt, .raw_len = SK_IPV6_HLEN + h.payload_len, .frame = frame,
        .frame_len = frame_len, .multicast = sk_addr_is_multicast6(&h.dst),
        .csum_ok = sk_rx_csum_trusted(st),
    };
    if (p.multicast ? !sk_ip6_is_our_group(st, &h.dst) : !sk_ip6_is_local(st, &h.dst)) {
        sk_drop(st, SK_DROP_IP_NOT_FOR_US, NULL, frame, frame_len);
        return;
    }
    if (bad_source(&h.src)) {
        sk_drop(st, SK_DROP_IP_BAD_SRC, NULL, frame, frame_len);
        return;
    }
    chain(st, &p, pkt, false);
}
