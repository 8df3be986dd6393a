/* IPv4 input, routing and output (RFC 791, RFC 1122 §3.2.1, §3.3).
 *
 * Input validates the header (version, lengths, checksum: RFC 1122 §3.2.1.1-2; the parser in
 * wire/ipv4.c), checks the destination (ours, or a broadcast address for UDP) and the source
 * (§3.2.1.3), hands fragments to reassembly (ip_frag.c) and the payload to TCP, UDP or ICMP;
 * any other protocol gets an ICMP protocol unreachable (§3.2.2.1).
 *
 * Routing (§3.3.1.1): a destination on the connected network (addr/prefix_len) is its own
 * next hop; any other goes to the default gateway; without one the datagram is dropped and
 * counted (a bare-IP link is point to point: everything leaves through it). Output writes a 20-byte header: TCP segments are sized to the path MTU and sent
 * with DF (RFC 1191); UDP and ICMP datagrams larger than the MTU are fragmented (RFC 791 §3.2
 * "Fragmentation"), each fragment but the last carrying a multiple of 8 bytes. IDs come from
 * a per-stack counter with a random start (RFC 6864 §4.1).
 */
#include "ip/ip_int.h"

#define IP_TTL 64 /* RFC 1700 default TTL, as Linux and FreeBSD */

size_t sk_ip_headroom(const struct sk_stack *st)
{
    return sk_link_hlen(st) + SK_IPV4_HLEN;
}

static uint32_t prefix_mask(const struct sk_stack *st)
{
    return st->cfg.prefix_len == 0 ? 0 : 0xffffffffu << (32 - st->cfg.prefix_len);
}

/* The limited broadcast, or the connected network's directed broadcast (RFC 1122 §3.2.1.3). */
bool sk_ip_is_broadcast(const struct sk_stack *st, uint32_t a)
{
    uint32_t m = prefix_mask(st);
    if (a == 0xffffffffu)
        return true;
    return st->cfg.prefix_len <= 30 && (a & m) == (st->cfg.addr & m) && (a & ~m) == ~m;
}

uint32_t sk_ip_route(const struct sk_stack *st, uint32_t dst, bool *bcast)
{
    uint32_t m = prefix_mask(st);
    *bcast = sk_ip_is_broadcast(st, dst);
    if (*bcast || (dst & m) == (st->cfg.addr & m))
        return dst;
    if (st->cfg.gateway != 0)
        return st->cfg.gateway;
    /* A bare-IP link (TUN, the simulator, packetdrill) is point to point: whatever is not
     * on the connected network still leaves through it, and there is no next hop to name. */
    return st->cfg.link_type == SK_LINK_IP ? dst : 0;
}

static bool is_bad_source(const struct sk_stack *st, uint32_t a)
{
    /* RFC 1122 §3.2.1.3: never accept a broadcast, multicast or loopback source, nor (a
     * martian on a link) our own address. */
    return a == 0xffffffffu || (a >> 28) == 0xe || (a >> 24) == 127 || a == st->cfg.addr ||
           sk_ip_is_broadcast(st, a);
}

static void deliver(struct sk_stack *st, const struct ip_pkt *p)
{
    switch (p->h.proto) {
    case SK_IPPROTO_TCP:
        if (p->broadcast) {
            sk_drop(st, SK_DROP_IP_NOT_FOR_US, NULL, p->frame, p->frame_len);
            return;
        }
        sk_tcp_input(st, &p->h, p->frame, p->frame_len);
        break;
    case SK_IPPROTO_UDP:
        sk_udp_input(st, p);
        break;
    case SK_IPPROTO_ICMP:
        sk_icmp_input(st, p);
        break;
    default:
        /* RFC 1122 §3.2.2.1: a host SHOULD answer an unknown protocol with code 2. */
        sk_icmp_send_unreach(st, p, 2);
        sk_drop(st, SK_DROP_IP_PROTO, NULL, p->frame, p->frame_len);
        break;
    }
}

void sk_ip_input(struct sk_stack *st, const uint8_t *pkt, size_t len, const uint8_t *frame,
                 size_t frame_len)
{
    struct ip_pkt p = {.raw = pkt, .frame = frame, .frame_len = frame_len};
    int r = sk_ipv4_parse(pkt, len, &p.h);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return;
    }
    st->ctr.ip_in++;
    p.raw_len = p.h.total_len;
    /* RFC 1122 §3.2.1.7: a host does not discard a datagram for its TTL; nothing to check. */
    p.broadcast = p.h.dst != st->cfg.addr && sk_ip_is_broadcast(st, p.h.dst);
    if (p.h.dst != st->cfg.addr && !p.broadcast) {
        sk_drop(st, SK_DROP_IP_NOT_FOR_US, NULL, frame, frame_len);
        return;
    }
    if (is_bad_source(st, p.h.src)) {
        sk_drop(st, SK_DROP_IP_BAD_SRC, NULL, frame, frame_len);
        return;
    }
    if (p.h.mf || p.h.frag_off != 0) {
        /* A link vouches for a frame's transport checksum, never for a datagram put
         * together from several frames: the reassembled one is verified. */
        st->rx_flags = 0;
        struct ip_pkt whole;
        struct frag_dgram *d = NULL;
        if (sk_ipfrag_input(st, &p, &whole, &d)) {
            deliver(st, &whole);
            sk_ipfrag_release(st, d);
        }
        return;
    }
    deliver(st, &p);
}

static void write_header(struct sk_stack *st, uint8_t *at, uint32_t dst, uint8_t proto,
                         uint8_t tos, uint16_t id, bool df, bool mf, uint16_t frag_off, size_t len)
{
    struct sk_ipv4_hdr ip = {
        .hdr_len = SK_IPV4_HLEN, .tos = tos, .id = id, .df = df, .mf = mf,
        .frag_off = frag_off,
        .ttl = IP_TTL, .proto = proto, .src = st->cfg.addr, .dst = dst,
    };
    sk_ipv4_emit(at, SK_IPV4_HLEN, &ip, len);
}

/* Segments a TSO super-segment will be cut into: its payload in gso_size pieces. */
uint16_t sk_gso_pieces(const struct sk_frame_meta *meta, size_t frame_len)
{
    if (meta == NULL || meta->gso_type == SK_GSO_NONE || meta->gso_size == 0 ||
        frame_len <= meta->hdr_len)
        return 1;
    return (uint16_t)((frame_len - meta->hdr_len + meta->gso_size - 1) / meta->gso_size);
}

void sk_ip_output(struct sk_stack *st, uint32_t dst, uint8_t proto, uint8_t tos, size_t len,
                  const struct sk_frame_meta *meta)
{
    bool bcast;
    uint32_t nexthop = sk_ip_route(st, dst, &bcast);
    size_t lh = sk_link_hlen(st);
    /* Callers size what they build to the MTU (TCP: the MSS, or caps.tso_max for a
     * super-segment the link cuts); anything else is a bug kept visible as a counted drop
     * rather than a truncated datagram. */
    bool gso = meta && meta->gso_type != SK_GSO_NONE;
    size_t most = gso ? st->cfg.caps.tso_max : st->cfg.mtu;
    if (nexthop == 0 || SK_IPV4_HLEN + len > most) {
        sk_drop(st, SK_DROP_OUT_NO_ROUTE, NULL, NULL, 0);
        return;
    }
    /* RFC 1191 §3: TCP probes the path MTU with DF; the others may be fragmented. A
     * super-segment's IP id is its first segment's; the link gives each following segment
     * the next one (as Linux's TSO does), so the ids of all of them are taken here. */
    uint16_t pieces = sk_gso_pieces(meta, lh + SK_IPV4_HLEN + len);
    write_header(st, st->tx + lh, dst, proto, tos, st->ip->next_id, proto == SK_IPPROTO_TCP,
                 false, 0, len);
    st->ip->next_id = (uint16_t)(st->ip->next_id + pieces);
    st->ctr.ip_out += pieces;
    struct sk_addr nh = sk_addr_from_v4(nexthop);
    sk_link_output(st, &nh, st->tx, lh + SK_IPV4_HLEN + len, meta);
}

/* Copies bytes [off, off+n) of the concatenation head|body to dst. */
void sk_ip_copy_span(uint8_t *dst, const uint8_t *head, size_t hlen, const uint8_t *body,
                      size_t off, size_t n)
{
    if (off < hlen) {
        size_t k = hlen - off < n ? hlen - off : n;
        memmove(dst, head + off, k);
        dst += k;
        n -= k;
        off = hlen;
    }
    if (n)
        memmove(dst, body + (off - hlen), n);
}

int sk_ip_send(struct sk_stack *st, uint32_t dst, uint8_t proto, const uint8_t *head,
               size_t hlen, const uint8_t *body, size_t blen, const struct sk_frame_meta *meta)
{
    size_t total = hlen + blen;
    if (total > UINT16_MAX - SK_IPV4_HLEN)
        return -EMSGSIZE;
    bool bcast;
    uint32_t nexthop = sk_ip_route(st, dst, &bcast);
    if (nexthop == 0) {
        sk_drop(st, SK_DROP_OUT_NO_ROUTE, NULL, NULL, 0);
        return -EHOSTUNREACH;
    }
    size_t lh = sk_link_hlen(st);
    uint16_t id = st->ip->next_id++;
    /* RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes of data. */
    size_t per = SK_IPV4_HLEN + total <= st->cfg.mtu ? total
                                                      : (size_t)(st->cfg.mtu - SK_IPV4_HLEN) / 8 * 8;
    for (size_t off = 0; off < total || total == 0;) {
        size_t n = total - off < per ? total - off : per;
        bool mf = off + n < total;
        uint8_t *payload = sk_tx_begin(st, lh + SK_IPV4_HLEN + n) + lh + SK_IPV4_HLEN;
        sk_ip_copy_span(payload, head, hlen, body, off, n);
        write_header(st, st->tx + lh, dst, proto, 0, id, false, mf, (uint16_t)off, n);
        st->ctr.ip_out++;
        if (per < total)
            st->ctr.ip_frags_out++;
        struct sk_addr nh = sk_addr_from_v4(nexthop);
        sk_link_output(st, &nh, st->tx, lh + SK_IPV4_HLEN + n, per < total ? NULL : meta);
        off += n;
        if (total == 0)
            break;
    }
    return 0;
}
