/* Wire formats: bounds-checked parse and emit of Ethernet II, ARP, IPv4, ICMPv4, UDP and TCP
 * (with its options), and the Internet checksum (RFC 1071).
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

#include "synack/trace.h" /* enum sk_drop_reason, SK_TCP_* flags, SK_OPT_* bits */

/* ---- Internet checksum (RFC 1071) ---- */

/* One's-complement sum of len bytes added to sum (not folded). Any alignment, any length. */
uint32_t sk_csum_add(uint32_t sum, const void *p, size_t len);
/* Folds to 16 bits and complements: the value to put in a checksum field. */
uint16_t sk_csum_fold(uint32_t sum);
/* The TCP/UDP pseudo-header sum (RFC 9293 §3.1; RFC 768). */
uint32_t sk_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
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

/* ---- TCP (RFC 9293 §3.1) and options (RFC 9293 §3.2, RFC 7323, RFC 2018) ---- */
#define SK_TCP_HLEN 20
#define SK_TCP_MAX_SACK 4
struct sk_tcp_opts {
    uint8_t present;        /* SK_OPT_* bits */
    uint16_t mss;
    uint8_t wscale;         /* as received (the caller clamps to 14, RFC 7323 §2.3) */
    uint32_t ts_val, ts_ecr;
    uint8_t nsack;
    struct { uint32_t left, right; } sack[SK_TCP_MAX_SACK];
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
 * SACK(2+8n, n 1..4; more blocks than 4 are ignored), timestamps(10) are decoded; any other kind
 * is skipped by its length. A length below 2, beyond the end, or wrong for a known kind is
 * SK_DROP_TCP_OPTIONS. A repeated known option: the last one wins. */
int sk_tcp_opts_parse(const uint8_t *p, size_t len, struct sk_tcp_opts *o);
/* Emits the options in o->present in the given layout (SYN segments: enum sk_syn_opt_layout;
 * others: timestamps as NOP,NOP,TS then SACK as NOP,NOP,SACK), padded with NOPs (never EOL) to a
 * multiple of 4. At most 40 bytes: SACK blocks that do not fit are left out. */
size_t sk_tcp_opts_emit(uint8_t *p, size_t cap, const struct sk_tcp_opts *o, int syn_layout);
/* Writes a whole segment: header (hdr_len computed from the options), options, then copies
 * h->payload (may alias the right place in p), and the checksum. Returns the segment's length. */
size_t sk_tcp_emit(uint8_t *p, size_t cap, uint32_t src, uint32_t dst, const struct sk_tcp_hdr *h,
                   int syn_layout);

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
