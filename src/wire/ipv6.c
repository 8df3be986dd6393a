/* IPv6 fixed header (RFC 8200 §3) and the extension-header chain (RFC 8200 §4).
 *
 *  0 version(4)|traffic class(8)|flow label(20)  4-5 payload length  6 next header
 *  7 hop limit  8-23 source  24-39 destination  40.. extension headers, then the upper layer
 *
 * The walker follows Next Header values through Hop-by-Hop Options, Routing, Fragment and
 * Destination Options headers (the ones RFC 8200 §4.1 defines that a host processes); any other
 * value ends the chain and is the upper-layer protocol, for the caller to know or answer with a
 * Parameter Problem code 1 (RFC 8200 §4, "unrecognized Next Header"). Every length is checked
 * against the bytes present, and the walk is bounded in headers and bytes: RFC 8200 puts no
 * limit on the chain, but RFC 8504 §5.3 lets a host set one, and a chain a host will not walk
 * costs a counted drop instead of unbounded work per packet.
 */
#include <string.h>

#include "wire/wire.h"

#define OPT_PAD1 0 /* RFC 8200 §4.2 */
#define OPT_PADN 1
#define FRAG_OFFSET_MASK 0xfff8 /* RFC 8200 §4.5: offset in 8-octet units, in the high 13 bits */
#define FRAG_M 0x0001
#define PAYLOAD_LENGTH_OFF 4    /* the Payload Length field: a Parameter Problem's pointer */

static int ipv6_parse(const uint8_t *p, size_t len, bool capture, struct sk_ipv6_hdr *h)
{
    if (len < SK_IPV6_HLEN)
        return SK_DROP_IP6_TRUNCATED;
    if (p[0] >> 4 != 6)
        return SK_DROP_IP_VERSION;
    size_t plen = sk_get16(p + 4);
    if (plen > len - SK_IPV6_HLEN && !capture)
        return SK_DROP_IP6_TRUNCATED;
    h->tclass = (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
    h->flow = (uint32_t)(p[1] & 0x0f) << 16 | (uint32_t)p[2] << 8 | p[3];
    h->payload_len_field = (uint16_t)plen;
    h->next = p[6];
    h->hop_limit = p[7];
    memcpy(h->src.b, p + 8, 16);
    memcpy(h->dst.b, p + 24, 16);
    h->payload = p + SK_IPV6_HLEN;
    h->payload_len = plen > len - SK_IPV6_HLEN ? len - SK_IPV6_HLEN : plen;
    return SK_DROP_NONE;
}

int sk_ipv6_parse(const uint8_t *p, size_t len, struct sk_ipv6_hdr *h)
{
    return ipv6_parse(p, len, false, h);
}

int sk_ipv6_parse_capture(const uint8_t *p, size_t len, struct sk_ipv6_hdr *h)
{
    return ipv6_parse(p, len, true, h);
}

size_t sk_ipv6_emit(uint8_t *p, size_t cap, const struct sk_ipv6_hdr *h, size_t payload_len)
{
    if (cap < SK_IPV6_HLEN || payload_len > UINT16_MAX)
        return 0;
    p[0] = (uint8_t)(6 << 4 | h->tclass >> 4);
    p[1] = (uint8_t)((h->tclass & 0x0f) << 4 | ((h->flow >> 16) & 0x0f));
    p[2] = (uint8_t)(h->flow >> 8);
    p[3] = (uint8_t)h->flow;
    sk_put16(p + 4, (uint16_t)payload_len);
    p[6] = h->next;
    p[7] = h->hop_limit;
    memcpy(p + 8, h->src.b, 16);
    memcpy(p + 24, h->dst.b, 16);
    return SK_IPV6_HLEN;
}

/* ---- The extension-header chain ---- */

static int bad(struct sk_ip6_ext *e, int why, uint8_t code, size_t pointer)
{
    e->pp_code = code;
    e->pp_pointer = (uint32_t)pointer;
    return why;
}

static bool is_ext(uint8_t next)
{
    return next == SK_IPPROTO_HOPOPTS || next == SK_IPPROTO_ROUTING ||
           next == SK_IPPROTO_FRAGMENT || next == SK_IPPROTO_DSTOPTS;
}

/* RFC 8200 §4.2: the TLV options of a Hop-by-Hop or Destination Options header at
 * pkt[off, end). Pad1 and PadN are skipped; no other option is known to this stack, so each is
 * handled by its action bits: "skip" goes on, the others stop the walk with the option. */
static int walk_options(const uint8_t *pkt, size_t off, size_t end, struct sk_ip6_ext *e)
{
    size_t i = off + 2;
    while (i < end) {
        uint8_t type = pkt[i];
        if (type == OPT_PAD1) {
            i++;
            continue;
        }
        if (end - i < 2)
            return bad(e, SK_DROP_IP6_BAD_EXT, SK_ICMP6_PP_HEADER, i);
        size_t olen = 2 + (size_t)pkt[i + 1];
        if (olen > end - i)
            return bad(e, SK_DROP_IP6_BAD_EXT, SK_ICMP6_PP_HEADER, i + 1);
        uint8_t action = type >> 6;
        if (type != OPT_PADN && action != SK_IP6_OPT_SKIP) {
            e->opt_type = type;
            e->opt_action = action;
            return bad(e, SK_DROP_IP6_OPTION, SK_ICMP6_PP_OPTION, i);
        }
        i += olen;
    }
    return SK_DROP_NONE;
}

/* RFC 8200 §4.5: the Fragment header at off; its data runs from off + 8 to len. */
static int take_fragment(const uint8_t *pkt, size_t len, size_t off, size_t nh_off,
                         struct sk_ip6_ext *e)
{
    if (e->has_frag) /* one fragmentation per packet: a second header is malformed */
        return bad(e, SK_DROP_IP6_BAD_EXT, SK_ICMP6_PP_HEADER, off);
    uint16_t w = sk_get16(pkt + off + 2);
    e->has_frag = true;
    e->frag_hdr_off = off;
    e->frag_next_off = nh_off;
    e->frag_next = pkt[off];
    e->frag_offset = w & FRAG_OFFSET_MASK;
    e->frag_more = (w & FRAG_M) != 0;
    e->frag_id = sk_get32(pkt + off + 4);
    size_t data = len - off - SK_IP6_FRAG_HLEN;
    /* "If the length of a fragment ... is not a multiple of 8 octets and the M flag of that
     * fragment is 1": Parameter Problem code 0 at the Payload Length. */
    if (e->frag_more && data % 8 != 0)
        return bad(e, SK_DROP_IP_FRAG_INVALID, SK_ICMP6_PP_HEADER, PAYLOAD_LENGTH_OFF);
    /* "...such that the Payload Length of the packet reassembled from that fragment would
     * exceed 65,535 octets": Parameter Problem code 0 at the Fragment Offset. */
    if ((off - SK_IPV6_HLEN) + e->frag_offset + data > UINT16_MAX)
        return bad(e, SK_DROP_IP_FRAG_INVALID, SK_ICMP6_PP_HEADER, off + 2);
    return SK_DROP_NONE;
}

/* A header that runs past the packet. In a first fragment that is RFC 7112 §5's incomplete
 * chain (Parameter Problem code 3, pointer 0); otherwise the packet is malformed, at the
 * header's length field when it is there. */
static int chain_short(struct sk_ip6_ext *e, size_t len, size_t off)
{
    if (e->has_frag && e->frag_offset == 0 && e->frag_more)
        return bad(e, SK_DROP_IP6_CHAIN_INCOMPLETE, SK_ICMP6_PP_CHAIN, 0);
    return bad(e, SK_DROP_IP6_BAD_EXT, SK_ICMP6_PP_HEADER,
               off + 1 < len ? off + 1 : PAYLOAD_LENGTH_OFF);
}

/* RFC 7112 §5 asks the first fragment for all headers through the upper-layer header: for the
 * upper layers this stack speaks, is that header whole in the len bytes at p? (TCP's with its
 * options, as its data offset says.) */
static bool upper_header_whole(uint8_t proto, const uint8_t *p, size_t len)
{
    size_t need = 0;
    if (proto == SK_IPPROTO_TCP) {
        need = SK_TCP_HLEN;
        if (len > 12 && (size_t)(p[12] >> 4) * 4 > need)
            need = (size_t)(p[12] >> 4) * 4;
    } else if (proto == SK_IPPROTO_UDP) {
        need = SK_UDP_HLEN;
    } else if (proto == SK_IPPROTO_ICMPV6) {
        need = SK_ICMP6_HLEN;
    }
    return len >= need;
}

int sk_ip6_ext_walk(const uint8_t *pkt, size_t len, struct sk_ip6_ext *e)
{
    memset(e, 0, sizeof(*e));
    if (len < SK_IPV6_HLEN)
        return SK_DROP_IP6_TRUNCATED;
    uint8_t next = pkt[6];
    size_t nh_off = 6, off = SK_IPV6_HLEN;
    while (is_ext(next)) {
        /* RFC 8200 §4.1: Hop-by-Hop Options only right after the fixed header; anywhere else
         * its Next Header value is treated as unrecognized. */
        if (next == SK_IPPROTO_HOPOPTS && off != SK_IPV6_HLEN)
            return bad(e, SK_DROP_IP6_BAD_EXT, SK_ICMP6_PP_NEXT_HEADER, nh_off);
        size_t hlen = SK_IP6_FRAG_HLEN;
        if (len - off < SK_IP6_FRAG_HLEN) /* 8: every extension header's least length */
            return chain_short(e, len, off);
        if (next != SK_IPPROTO_FRAGMENT)
            hlen = ((size_t)pkt[off + 1] + 1) * 8; /* Hdr Ext Len, 8-octet units beyond 8 */
        if (hlen > len - off)
            return chain_short(e, len, off);
        if (e->nhdrs == SK_IP6_EXT_MAX_HDRS)
            return bad(e, SK_DROP_IP6_EXT_LIMIT, SK_ICMP6_PP_TOO_MANY_HDRS, off);
        if (off + hlen - SK_IPV6_HLEN > SK_IP6_EXT_MAX_BYTES)
            return bad(e, SK_DROP_IP6_EXT_LIMIT, SK_ICMP6_PP_CHAIN_TOO_LONG, off);
        int err = SK_DROP_NONE;
        if (next == SK_IPPROTO_HOPOPTS || next == SK_IPPROTO_DSTOPTS) {
            err = walk_options(pkt, off, off + hlen, e);
        } else if (next == SK_IPPROTO_ROUTING && !e->has_routing) {
            e->has_routing = true;
            e->routing_type = pkt[off + 2];
            e->segments_left = pkt[off + 3];
            e->routing_type_off = off + 2;
        } else if (next == SK_IPPROTO_FRAGMENT) {
            err = take_fragment(pkt, len, off, nh_off, e);
        }
        if (err != SK_DROP_NONE)
            return err;
        e->nhdrs++;
        nh_off = off;
        next = pkt[off];
        off += hlen;
        /* A fragment other than the first holds data, not headers, after its Fragment
         * header: the rest of the chain is walked once the datagram is whole. */
        if (e->has_frag && e->frag_hdr_off + SK_IP6_FRAG_HLEN == off && e->frag_offset != 0)
            break;
    }
    e->proto = next;
    e->upper_off = off;
    e->next_hdr_off = nh_off;
    if (e->has_frag && e->frag_offset == 0 && e->frag_more &&
        !upper_header_whole(next, pkt + off, len - off))
        return bad(e, SK_DROP_IP6_CHAIN_INCOMPLETE, SK_ICMP6_PP_CHAIN, 0);
    return SK_DROP_NONE;
}
