/* Wire formats: bounds-checked parse and emit of Ethernet II, ARP, IPv4, ICMPv4, IPv6 (with its
 * extension headers), ICMPv6 and Neighbor Discovery, UDP and TCP (with its options), over
 * either family's pseudo-header, and the Internet checksum (RFC 1071).
 *
 * Private to the library. Pure functions over byte spans: no allocation, no global state.
 * Parsers never read outside [p, p+len) and never trust a length field; on malformed input
 * they return an sk_drop_reason (non-zero) and leave the output unspecified. Emitters return
 * the number of bytes written, or 0 if `cap` is too small (nothing meaningful is written then).
 * All multi-byte fields in the structs are in host byte order.
 */
#ifndef SK_WIRE_H
#define SK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/addr.h"  /* struct sk_addr */
#include "synack/trace.h" /* enum sk_drop_reason, SK_TCP_* flags, SK_OPT_* bits */

/* ---- Internet checksum (RFC 1071) ---- */

/* One's-complement sum of len bytes added to sum (not folded). Any alignment, any length. */
uint32_t sk_csum_add(uint32_t sum, const void *p, size_t len);
/* Folds to 16 bits and complements: the value to put in a checksum field. */
uint16_t sk_csum_fold(uint32_t sum);
/* The TCP/UDP pseudo-header sum (RFC 9293 §3.1; RFC 768). */
uint32_t sk_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* The IPv6 pseudo-header sum (RFC 8200 §8.1): source, destination, the 32-bit upper-layer
 * packet length, three zero bytes and the Next Header value. */
uint32_t sk_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                         uint32_t len);
/* Copies len bytes from src to dst (not overlapping) and returns sum plus their one's
 * complement sum, as sk_csum_add(sum, src, len) would, in one pass over the bytes. */
uint32_t sk_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);
/* The sum of two unfolded sums (end-around carry). */
static inline uint32_t sk_csum_combine(uint32_t a, uint32_t b)
{
    uint32_t r = a + b;
    return r + (r < b);
}
/* A partial sum of bytes that start at an odd offset of the summed span, made as if they
 * started at an even one: RFC 1071 §2(B), their contribution is the byte-swapped sum. */
static inline uint32_t sk_csum_at_odd(uint32_t sum)
{
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return ((sum & 0xffu) << 8) | (sum >> 8);
}

/* ---- Ethernet II ---- */
#define SK_ETH_HLEN 14
#define SK_ETHERTYPE_IPV4 0x0800
#define SK_ETHERTYPE_ARP 0x0806
#define SK_ETHERTYPE_IPV6 0x86dd
struct sk_eth_hdr {
    uint8_t dst[6], src[6];
    uint16_t ethertype;
};
/* 802.1Q tags are not accepted (SK_DROP_LINK_ETHERTYPE is left to the caller to decide). */
int sk_eth_parse(const uint8_t *p, size_t len, struct sk_eth_hdr *h);
size_t sk_eth_emit(uint8_t *p, size_t cap, const struct sk_eth_hdr *h);

/* ---- ARP (RFC 826), Ethernet/IPv4 only ---- */
#define SK_ARP_LEN 28
#define SK_ARP_REQUEST 1
#define SK_ARP_REPLY 2
struct sk_arp {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa;
    uint8_t tha[6];
    uint32_t tpa;
};
/* Rejects (SK_DROP_ARP_MALFORMED) hardware type != 1, protocol != 0x0800, hlen != 6, plen != 4,
 * op not 1/2, or fewer than 28 bytes. Trailing padding is ignored. */
int sk_arp_parse(const uint8_t *p, size_t len, struct sk_arp *a);
size_t sk_arp_emit(uint8_t *p, size_t cap, const struct sk_arp *a);

/* ---- IPv4 (RFC 791) ---- */
#define SK_IPV4_HLEN 20
#define SK_IPPROTO_ICMP 1
#define SK_IPPROTO_TCP 6
#define SK_IPPROTO_UDP 17
/* RFC 3168 §5: the ECN field, the low two bits of the TOS byte. */
#define SK_IP_ECN_MASK 0x03
#define SK_IP_ECT0 0x02
#define SK_IP_CE 0x03
struct sk_ipv4_hdr {
    uint8_t hdr_len;        /* bytes, 20..60 */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    bool df, mf;
    uint16_t frag_off;      /* in bytes (field * 8) */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src, dst;
    const uint8_t *options; /* points into the packet; options_len = hdr_len - 20 */
    size_t options_len;
    const uint8_t *payload; /* total_len - hdr_len bytes; link padding beyond total_len excluded */
    size_t payload_len;
};
/* Checks: len >= 20 (IP_TRUNCATED), version 4 (IP_VERSION), 20 <= hdr_len <= len (IP_HDRLEN),
 * hdr_len <= total_len <= len (IP_TOTLEN), header checksum (IP_CHECKSUM). Options are skipped
 * as a block (their content is not interpreted). */
int sk_ipv4_parse(const uint8_t *p, size_t len, struct sk_ipv4_hdr *h);
/* The same for a packet from a capture (the passive observer, synack/observe.h): a total
 * length beyond len means the capture kept only len bytes (payload_len is then what is held,
 * total_len what the header says), and the header checksum is not verified. */
int sk_ipv4_parse_capture(const uint8_t *p, size_t len, struct sk_ipv4_hdr *h);
/* Writes a 20-byte header (h->hdr_len, options ignored) with total_len = 20 + payload_len,
 * computing the header checksum. The payload itself is not written. */
size_t sk_ipv4_emit(uint8_t *p, size_t cap, const struct sk_ipv4_hdr *h, size_t payload_len);

/* ---- ICMPv4 (RFC 792) ---- */
#define SK_ICMP_HLEN 8
#define SK_ICMP_ECHO_REPLY 0
#define SK_ICMP_DEST_UNREACH 3
#define SK_ICMP_ECHO_REQUEST 8
#define SK_ICMP_TIME_EXCEEDED 11
struct sk_icmp_hdr {
    uint8_t type, code;
    uint32_t rest;          /* id<<16|seq for echo; next-hop MTU in the low 16 bits for 3/4 */
    const uint8_t *payload;
    size_t payload_len;
};
/* Checks length (ICMP_TRUNCATED) and checksum over the whole message (ICMP_CHECKSUM). */
int sk_icmp_parse(const uint8_t *p, size_t len, struct sk_icmp_hdr *h);
/* Writes header and copies payload (payload may alias p + 8), computing the checksum. */
size_t sk_icmp_emit(uint8_t *p, size_t cap, const struct sk_icmp_hdr *h);

/* ---- IPv6 (RFC 8200 §3) ---- */
#define SK_IPV6_HLEN 40
#define SK_IPV6_MIN_MTU 1280        /* RFC 8200 §5 */
#define SK_IPPROTO_HOPOPTS 0        /* RFC 8200 §4.3 */
#define SK_IPPROTO_ROUTING 43       /* RFC 8200 §4.4 */
#define SK_IPPROTO_FRAGMENT 44      /* RFC 8200 §4.5 */
#define SK_IPPROTO_ICMPV6 58        /* RFC 4443 */
#define SK_IPPROTO_NONE 59          /* RFC 8200 §4.7: No Next Header */
#define SK_IPPROTO_DSTOPTS 60       /* RFC 8200 §4.6 */
#define SK_IP6_FRAG_HLEN 8
struct sk_ipv6_hdr {
    uint8_t tclass;         /* traffic class: DSCP << 2 | ECN */
    uint32_t flow;          /* 20-bit flow label (RFC 6437) */
    uint16_t payload_len_field; /* as received: the bytes after the fixed header */
    uint8_t next;           /* Next Header of the fixed header */
    uint8_t hop_limit;
    struct sk_addr src, dst;
    const uint8_t *payload; /* payload_len_field bytes after the fixed header; link padding
                             * beyond them excluded */
    size_t payload_len;
};
/* Checks: len >= 40 (IP6_TRUNCATED), version 6 (IP_VERSION), 40 + payload length <= len
 * (IP6_TRUNCATED; bytes beyond are link padding). A payload length of 0 means an empty payload:
 * jumbograms (RFC 2675) are not supported, their Jumbo Payload option then lies past the end. */
int sk_ipv6_parse(const uint8_t *p, size_t len, struct sk_ipv6_hdr *h);
/* The same for a packet from a capture: a payload length beyond the bytes held means the
 * capture cut it (payload_len is then what is held, payload_len_field what the header says). */
int sk_ipv6_parse_capture(const uint8_t *p, size_t len, struct sk_ipv6_hdr *h);
/* Writes the 40-byte fixed header with payload length payload_len (h->payload_len_field and
 * h->payload ignored). 0 if cap < 40 or payload_len > 65535. */
size_t sk_ipv6_emit(uint8_t *p, size_t cap, const struct sk_ipv6_hdr *h, size_t payload_len);

/* The extension-header chain (RFC 8200 §4), walked by sk_ip6_ext_walk over a whole packet
 * (from the IPv6 header, 40 + payload length bytes). Offsets are from the start of the IPv6
 * header: what an ICMPv6 Parameter Problem's pointer counts (RFC 4443 §3.4). */
#define SK_IP6_EXT_MAX_HDRS 8       /* extension headers walked before giving up */
#define SK_IP6_EXT_MAX_BYTES 1024   /* bytes of extension headers walked before giving up */
/* RFC 4443 §3.4 Parameter Problem codes. */
#define SK_ICMP6_PP_HEADER 0        /* erroneous header field */
#define SK_ICMP6_PP_NEXT_HEADER 1   /* unrecognized Next Header type */
#define SK_ICMP6_PP_OPTION 2        /* unrecognized IPv6 option */
#define SK_ICMP6_PP_CHAIN 3         /* RFC 7112 §5: first fragment lacks the header chain */
#define SK_ICMP6_PP_CHAIN_TOO_LONG 7 /* RFC 8883: extension header chain too long */
#define SK_ICMP6_PP_TOO_MANY_HDRS 8 /* RFC 8883: too many extension headers */
/* RFC 8200 §4.2: the action an unrecognized option's two high-order type bits ask for. */
enum sk_ip6_opt_action {
    SK_IP6_OPT_SKIP = 0,            /* 00: skip it and go on */
    SK_IP6_OPT_DISCARD = 1,         /* 01: discard the packet silently */
    SK_IP6_OPT_DISCARD_PP = 2,      /* 10: discard, Parameter Problem code 2 to the source */
    SK_IP6_OPT_DISCARD_PP_UNICAST = 3, /* 11: the same, unless the destination is multicast */
};
struct sk_ip6_ext {
    uint8_t proto;          /* the upper-layer protocol: the last Next Header value (59 for
                             * none); for a non-first fragment, the Fragment header's */
    size_t upper_off;       /* where the upper-layer header (or the fragment's data) starts */
    size_t next_hdr_off;    /* the Next Header field naming proto (6: the fixed header's) */
    uint8_t nhdrs;          /* extension headers walked */
    /* Fragment header (RFC 8200 §4.5), if has_frag. The walk goes on past it only at offset 0
     * (the first fragment, or an atomic one, RFC 6946), else it stops there. */
    bool has_frag;
    size_t frag_hdr_off;    /* the Fragment header: also the unfragmentable part's length */
    size_t frag_next_off;   /* the Next Header field before it (6 or inside the last
                             * unfragmentable header) */
    uint8_t frag_next;      /* the Fragment header's Next Header */
    uint16_t frag_offset;   /* in bytes (field * 8) */
    bool frag_more;         /* M */
    uint32_t frag_id;
    /* The first Routing header (RFC 8200 §4.4), if has_routing. The caller rejects type 0
     * (RFC 5095 §3) and acts on segments left; routing_type_off is where a Parameter Problem
     * code 0 points. */
    bool has_routing;
    uint8_t routing_type, segments_left;
    size_t routing_type_off;
    /* On a drop: the Parameter Problem it would justify (code SK_ICMP6_PP_*, pointer), and
     * for SK_DROP_IP6_OPTION the option and its action. */
    uint8_t pp_code;
    uint32_t pp_pointer;
    uint8_t opt_type;
    uint8_t opt_action;     /* enum sk_ip6_opt_action */
};
/* Walks the chain of pkt (len bytes: 40 + payload length, as sk_ipv6_parse found). Hop-by-hop
 * and destination options are checked option by option (Pad1 and PadN skipped). Returns 0
 * with e filled, or:
 *   IP6_TRUNCATED    len below 40;
 *   IP6_BAD_EXT      a header or option running past its end, a Hop-by-Hop header anywhere but
 *                    right after the fixed header (RFC 8200 §4.1: PP code 1, pointer to the
 *                    Next Header naming it), a second Fragment header (PP code 0);
 *   IP6_EXT_LIMIT    more than SK_IP6_EXT_MAX_HDRS headers (PP code 8) or SK_IP6_EXT_MAX_BYTES
 *                    bytes of them (PP code 7), pointer at the first header past the limit
 *                    (RFC 8883);
 *   IP6_CHAIN_INCOMPLETE  a first fragment (offset 0, M set) whose chain runs past its end,
 *                    or without the whole TCP, UDP or ICMPv6 header after it (RFC 7112 §5:
 *                    PP code 3, pointer 0; e->proto and e->upper_off are set in the latter);
 *   IP_FRAG_INVALID  a fragment with M set whose data is not a multiple of 8 (PP code 0,
 *                    pointer 4: the Payload Length), or whose offset + length pass 65535
 *                    (PP code 0, pointer to the Fragment Offset) (RFC 8200 §4.5);
 *   IP6_OPTION       an unrecognized option whose action is not "skip": e->opt_type,
 *                    e->opt_action, and e->pp_pointer at the option's type byte (the caller
 *                    decides on the Parameter Problem code 2 from the action and destination).
 * On a drop with a pointer, e->pp_code and e->pp_pointer are set. */
int sk_ip6_ext_walk(const uint8_t *pkt, size_t len, struct sk_ip6_ext *e);

/* ---- ICMPv6 (RFC 4443) ---- */
#define SK_ICMP6_HLEN 8             /* type, code, checksum, and the 32-bit field every RFC
                                     * 4443 and RFC 4861 message begins its body with */
#define SK_ICMP6_DEST_UNREACH 1
#define SK_ICMP6_PACKET_TOO_BIG 2
#define SK_ICMP6_TIME_EXCEEDED 3
#define SK_ICMP6_PARAM_PROBLEM 4
#define SK_ICMP6_ECHO_REQUEST 128
#define SK_ICMP6_ECHO_REPLY 129
#define SK_ND_ROUTER_SOLICIT 133
#define SK_ND_ROUTER_ADVERT 134
#define SK_ND_NEIGHBOR_SOLICIT 135
#define SK_ND_NEIGHBOR_ADVERT 136
#define SK_ND_REDIRECT 137
/* RFC 4443 §2.1: error messages have the high-order type bit clear. */
static inline bool sk_icmp6_is_error(uint8_t type) { return type < 128; }
struct sk_icmp6_hdr {
    uint8_t type, code;
    uint32_t data;          /* echo: id << 16 | seq; Packet Too Big: MTU; Parameter Problem:
                             * pointer; errors otherwise unused; ND: its first 32 bits */
    const uint8_t *payload; /* after the 8 bytes */
    size_t payload_len;
};
/* Checks length (ICMP6_TRUNCATED) and the checksum over the pseudo-header (RFC 4443 §2.3) and
 * the whole message (ICMP6_CHECKSUM). */
int sk_icmp6_parse(const uint8_t *p, size_t len, const struct sk_addr *src,
                   const struct sk_addr *dst, struct sk_icmp6_hdr *h);
/* Writes header and copies payload (may alias p + 8), computing the checksum. */
size_t sk_icmp6_emit(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                     const struct sk_icmp6_hdr *h);

/* ---- Neighbor Discovery (RFC 4861 §4) over ICMPv6 ---- */
#define SK_ND_OPT_SRC_LLADDR 1      /* §4.6.1 */
#define SK_ND_OPT_TGT_LLADDR 2      /* §4.6.1 */
#define SK_ND_OPT_PREFIX_INFO 3     /* §4.6.2 */
#define SK_ND_OPT_REDIRECTED 4      /* §4.6.3 */
#define SK_ND_OPT_MTU 5             /* §4.6.4 */
#define SK_ND_MAX_PREFIXES 8        /* Prefix Information options kept per message */
#define SK_ND_LLADDR_MAX 14         /* link-layer address bytes kept (8 * 2 - 2) */
#define SK_ND_INFINITE 0xffffffffu  /* a lifetime that never ends (RFC 4861 §4.6.2) */
struct sk_nd_prefix {
    uint8_t prefix_len;
    bool on_link;           /* L */
    bool autonomous;        /* A (RFC 4862 §5.5.3) */
    uint32_t valid_lifetime, preferred_lifetime; /* seconds */
    struct sk_addr prefix;
};
struct sk_nd_opts {
    uint8_t src_ll_len, tgt_ll_len; /* 0: the option is absent; else its address bytes */
    uint8_t src_ll[SK_ND_LLADDR_MAX], tgt_ll[SK_ND_LLADDR_MAX];
    bool has_mtu;
    uint32_t mtu;
    uint8_t nprefix;        /* prefixes beyond SK_ND_MAX_PREFIXES are ignored */
    struct sk_nd_prefix prefix[SK_ND_MAX_PREFIXES];
    const uint8_t *redirected; /* Redirected Header: the quoted packet (in the parsed bytes) */
    size_t redirected_len;
};
struct sk_nd_msg {
    uint8_t type;           /* SK_ND_* */
    /* Router Advertisement (§4.2) */
    uint8_t cur_hop_limit;
    bool managed, other;    /* M, O */
    uint16_t router_lifetime;                 /* seconds */
    uint32_t reachable_time, retrans_timer;   /* milliseconds */
    /* Neighbor Solicitation / Advertisement / Redirect: the target (§4.3-4.5) */
    struct sk_addr target;
    bool router, solicited, override;         /* NA: R, S, O */
    struct sk_addr dest;    /* Redirect: the destination */
    struct sk_nd_opts opts;
};
/* Parses an ND message: p is the whole ICMPv6 message (checksum already verified by
 * sk_icmp6_parse), type 133..137. ND_MALFORMED for: another type, a code other than 0 or a
 * body shorter than its type's (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1), a multicast
 * target (NS, NA) or Redirect destination, an option of length 0 or running past the end, a
 * Prefix Information option of length other than 4 or prefix length over 128, an MTU option
 * of length other than 1 (§4.6). Unknown options are skipped (§4.6). The hop limit of 255 and
 * the source address rules are the IP layer's to check. */
int sk_nd_parse(const uint8_t *p, size_t len, struct sk_nd_msg *m);
/* Writes the ICMPv6 message for m (m->type) with the options m->opts holds (source and target
 * link-layer address when their length is set, MTU, prefixes, the Redirected Header cut to
 * fit in 1280 bytes in all and to a multiple of 8), and the checksum. */
size_t sk_nd_emit(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                  const struct sk_nd_msg *m);

/* ---- UDP (RFC 768) ---- */
#define SK_UDP_HLEN 8
struct sk_udp_hdr {
    uint16_t sport, dport;
    uint16_t len;           /* header + payload, from the header */
    uint16_t checksum;
    const uint8_t *payload;
    size_t payload_len;
};
/* Checks 8 <= len field <= len (UDP_TRUNCATED) and the checksum unless it is 0 (UDP_CHECKSUM).
 * src/dst are the IPv4 addresses for the pseudo-header. */
int sk_udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct sk_udp_hdr *h);
/* The same; verify_csum false skips the checksum (the link vouched for it, per frame). */
int sk_udp_parse_verify(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
                        bool verify_csum, struct sk_udp_hdr *h);
/* Writes header + copies payload (may alias p + 8), computing the checksum (0 becomes 0xffff). */
size_t sk_udp_emit(uint8_t *p, size_t cap, uint32_t src, uint32_t dst, const struct sk_udp_hdr *h);
/* The same over IPv6 (RFC 8200 §8.1): the pseudo-header of src and dst, and a checksum of 0 is
 * a drop (UDP_CHECKSUM: IPv6 receivers discard it) unless verify_csum is false. */
int sk_udp_parse6(const uint8_t *p, size_t len, const struct sk_addr *src,
                  const struct sk_addr *dst, bool verify_csum, struct sk_udp_hdr *h);
size_t sk_udp_emit6(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                    const struct sk_udp_hdr *h);

/* ---- TCP (RFC 9293 §3.1) and options (RFC 9293 §3.2, RFC 7323, RFC 2018) ---- */
#define SK_TCP_HLEN 20
#define SK_TCP_MAX_SACK 4
#define SK_TCP_FO_COOKIE_MIN 4  /* RFC 7413 §4.1.1: 4 to 16 bytes */
#define SK_TCP_FO_COOKIE_MAX 16
struct sk_tcp_opts {
    uint8_t present;        /* SK_OPT_* bits */
    uint16_t mss;
    uint8_t wscale;         /* as received (the caller clamps to 14, RFC 7323 §2.3) */
    uint32_t ts_val, ts_ecr;
    uint8_t nsack;
    struct { uint32_t left, right; } sack[SK_TCP_MAX_SACK];
    /* TCP Fast Open (RFC 7413 §4.1.1): with SK_OPT_FASTOPEN, the cookie (fo_len bytes, 0: a
     * cookie request); fo_exp: the experimental form (kind 254, magic 0xF989, RFC 6994) rather
     * than kind 34; fo_valid: the length is one a cookie may have (0, or even and 4..16, as
     * Linux's tcp_parse_fastopen_option takes it); an invalid one is present but not used. */
    uint8_t fo_len;
    bool fo_exp, fo_valid;
    uint8_t fo_cookie[SK_TCP_FO_COOKIE_MAX];
};
struct sk_tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hdr_len;        /* bytes, 20..60 */
    uint8_t flags;          /* SK_TCP_FIN..SK_TCP_CWR */
    uint16_t wnd;
    uint16_t checksum;
    uint16_t urg;
    struct sk_tcp_opts opts;
    const uint8_t *payload;
    size_t payload_len;
    /* Emit only: how the checksum field is filled. csum_partial: with the pseudo-header sum
     * alone, folded and not complemented, for the link to complete by summing from the TCP
     * header to the end (SK_FRAME_CSUM_PARTIAL, virtio's NEEDS_CSUM). payload_summed: the
     * payload already sits right after the header and payload_sum is its sum (sk_csum_copy
     * made it while copying), so only the header is summed here. */
    bool csum_partial;
    bool payload_summed;
    uint32_t payload_sum;
};
/* Parses a TCP segment of len bytes (the IP payload). Checks len >= 20 (TCP_TRUNCATED),
 * 20 <= data offset*4 <= len (TCP_HDRLEN), the checksum with the pseudo-header when
 * verify_csum (TCP_CHECKSUM), and the options (TCP_OPTIONS). */
int sk_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool verify_csum,
                 struct sk_tcp_hdr *h);
/* Options: EOL ends the list; NOP is skipped; MSS(len 4), WS(3), SACK-permitted(2),
 * SACK(2+8n, n 1..4; more blocks than 4 are ignored), timestamps(10), Fast Open (34, len 2+n;
 * 254 len 4+n with magic 0xF989; a cookie of a length no cookie has is marked !fo_valid, never a
 * drop: RFC 7413 §4.1.1 leaves it to the receiver to ignore) are decoded; any other kind
 * is skipped by its length. A length below 2, beyond the end, or wrong for a known kind is
 * SK_DROP_TCP_OPTIONS. A repeated known option: the last one wins. */
int sk_tcp_opts_parse(const uint8_t *p, size_t len, struct sk_tcp_opts *o);
/* Emits the options in o->present in the given layout (SYN segments: enum sk_syn_opt_layout;
 * others: timestamps as NOP,NOP,TS then SACK as NOP,NOP,SACK), padded with NOPs (never EOL) to a
 * multiple of 4. Fast Open comes last, followed by NOPs to the next word (Linux's
 * tcp_options_write); it is left out if it does not fit. At most 40 bytes: SACK blocks that do not fit are left out. */
size_t sk_tcp_opts_emit(uint8_t *p, size_t cap, const struct sk_tcp_opts *o, int syn_layout);
/* Writes a whole segment: header (hdr_len computed from the options), options, then copies
 * h->payload (may alias the right place in p), and the checksum. Returns the segment's length. */
size_t sk_tcp_emit(uint8_t *p, size_t cap, uint32_t src, uint32_t dst, const struct sk_tcp_hdr *h,
                   int syn_layout);
/* The same over IPv6: the pseudo-header of RFC 8200 §8.1 (a 32-bit length, so a segment of
 * any size is summed as it is). */
int sk_tcp_parse6(const uint8_t *p, size_t len, const struct sk_addr *src,
                  const struct sk_addr *dst, bool verify_csum, struct sk_tcp_hdr *h);
size_t sk_tcp_emit6(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                    const struct sk_tcp_hdr *h, int syn_layout);

/* ---- Big-endian field access (network byte order, RFC 1700 "Data Notations") ----
 * Byte loads and stores only: fields in packets are not aligned, so no pointer casts. */
static inline uint16_t sk_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sk_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void sk_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void sk_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
