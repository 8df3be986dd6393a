/* Private interface between the files of the IP layer: link.c (Ethernet framing), arp.c
 * (RFC 826 cache and queue), ipv4.c (input, routing, output, fragmentation), ip_frag.c
 * (RFC 791 and RFC 8200 §4.5 reassembly), icmp.c (RFC 792), udp.c (RFC 768), ip_state.c (the
 * state and its timer), and tcp/tcp_icmp.c (ICMP errors acted on by TCP).
 *
 * All of it hangs off the stack (st->ip); nothing is global. Memory comes from sk_mem_alloc
 * and is bounded by the limits in sk_config.
 */
#ifndef SK_IP_INT_H
#define SK_IP_INT_H

#include "internal.h"
#include "synack/addr.h"

struct sk_udp;

/* ---- ARP (arp.c) ---- */
enum arp_state {
    ARP_FREE = 0,
    ARP_INCOMPLETE, /* request sent, no answer yet; packets may wait in the queue */
    ARP_REACHABLE,  /* answer younger than arp_timeout_us */
    ARP_PROBING,    /* answer too old: still used, a request is out to confirm it */
};
struct arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;     /* enum arp_state */
    uint8_t tries;     /* requests sent in the current round */
    uint32_t queued;   /* INCOMPLETE: packets waiting in the pending queue */
    sk_time_us expires; /* REACHABLE: when the answer gets old; otherwise the next retry */
    sk_time_us used;   /* last lookup, to pick a victim when the cache is full */
};
/* A packet (IPv4 header onwards) waiting for its next hop's link address. */
struct arp_pending {
    struct sk_list_node link; /* on sk_ipstate.pending, in the order queued */
    uint32_t nexthop;
    uint16_t pkt_len;         /* the packet's bytes at data */
    size_t len;               /* bytes at data: the packet, then its sk_frame_meta (offsets
                               * from the Ethernet header) if it has one */
    uint8_t data[];
};

/* ---- Reassembly (ip_frag.c), both families ---- */
#define SK_FRAG_HDR_ROOM 60 /* the largest IPv4 header */
#define SK_IP6FRAG_TIMEOUT_US (60 * 1000000LL) /* RFC 8200 §4.5: 60 s from the first fragment */
/* One fragment's data as it came: the list is sorted by offset and never overlaps. */
struct frag_piece {
    struct sk_list_node link; /* on its datagram's pieces */
    uint32_t off, len;        /* payload bytes [off, off + len) */
    uint8_t data[];
};
/* A datagram being reassembled. Its key: IPv4 (RFC 791 §3.2) source, destination, protocol
 * and 16-bit identification; IPv6 (RFC 8200 §4.5) source, destination and 32-bit
 * identification. Addresses as struct sk_addr (IPv4-mapped for IPv4). */
struct frag_dgram {
    struct sk_list_node link; /* on sk_ipstate.frags, in arrival order (eviction order) */
    struct sk_addr src, dst;
    uint32_t id;
    uint8_t proto;            /* IPv4: the key's protocol; IPv6: 0 */
    uint8_t family;           /* 4 or 6 */
    bool have_first, have_last;
    sk_time_us expires;
    uint32_t total;           /* payload length, known once the last fragment came */
    uint32_t data_end;        /* one past the highest payload byte held */
    uint32_t received;        /* payload bytes held: complete when it reaches total */
    uint32_t nfrags;          /* fragments taken (duplicates not counted) */
    struct sk_list pieces;    /* struct frag_piece, sorted by offset */
    size_t bytes;             /* memory held: this, its header, its pieces, the buffer */
    /* The offset-0 fragment's header: IPv4's header with its options (RFC 791 §3.2), or
     * IPv6's unfragmentable part (RFC 8200 §4.5), with (IPv6) where its last Next Header field
     * is and the Fragment header's Next Header that goes there. */
    uint8_t *hdr;
    uint16_t hdr_len;
    uint16_t next_off;
    uint8_t next;
    uint8_t *buf;             /* once complete: hdr_len + total bytes, header then data */
};

/* ---- The state ---- */
struct sk_ipstate {
    uint16_t next_id;         /* RFC 6864 §4.1: IDs of fragmentable datagrams */

    struct arp_entry *arp;    /* cfg.arp_cache_entries of them */
    uint32_t arp_last;        /* index of the last hit: most traffic goes to one neighbour */
    struct sk_list pending;   /* struct arp_pending, oldest first */
    size_t pend_bytes;        /* memory of the queued copies, their headers included */

    struct sk_list frags;     /* struct frag_dgram, oldest first */
    uint32_t frag_count;
    size_t frag_bytes;

    /* ICMP error token bucket (RFC 1812 §4.3.2.8), tokens scaled by 1e6 for integer math. */
    uint64_t icmp_tokens;
    sk_time_us icmp_refill;

    /* UDP sockets by port: chained hash. */
#define SK_UDP_TAB 64
    struct sk_udp *udp_tab[SK_UDP_TAB];
    uint16_t udp_next_port;
};

/* The datagram as handed to the transports: parsed header (payload pointing into the frame
 * or the reassembly buffer), the raw bytes from the IPv4 header on (for ICMP quotes), the
 * frame for traces, and whether it was addressed to a broadcast address. */
struct ip_pkt {
    struct sk_ipv4_hdr h;
    const uint8_t *raw;
    size_t raw_len;
    const uint8_t *frame;
    size_t frame_len;
    bool broadcast;
};

/* ip_state.c */
/* Asks for sk_ip_timer at time t (the earliest request wins until the timer runs). */
void sk_ip_deadline_at(struct sk_stack *st, sk_time_us t);

/* link.c */
/* Sends the IPv4 packet at frame + sk_link_hlen() (frame has that headroom; len counts it)
 * towards nexthop: frames it, or queues a copy (meta with it) until ARP answers. meta: the
 * offload metadata for the link, offsets from frame; NULL for a complete frame. */
void sk_link_output(struct sk_stack *st, uint32_t nexthop, uint8_t *frame, size_t len,
                    const struct sk_frame_meta *meta);
/* Puts a finished link frame on the wire, counting it (meta NULL: a complete frame). */
void sk_link_emit(struct sk_stack *st, const uint8_t *frame, size_t len,
                  const struct sk_frame_meta *meta);

/* arp.c */
void sk_arp_input(struct sk_stack *st, const uint8_t *p, size_t len, const uint8_t *frame,
                  size_t frame_len);
/* True with *mac filled if ip's link address is known; otherwise starts (or continues)
 * resolution and returns false. */
bool sk_arp_lookup(struct sk_stack *st, uint32_t ip, uint8_t mac[6]);
/* Queues a copy of the IPv4 packet pkt for nexthop (counted drop if the queue is full), with
 * the frame's offload metadata (NULL: none), sent with it once ARP answers. */
void sk_arp_enqueue(struct sk_stack *st, uint32_t nexthop, const uint8_t *pkt, size_t len,
                    const struct sk_frame_meta *meta);
/* Retries due at st->now; returns the earliest next ARP deadline. */
sk_time_us sk_arp_timer(struct sk_stack *st);
void sk_arp_free(struct sk_stack *st);

/* ipv4.c */
/* Next hop for dst (RFC 1122 §3.3.1.1: on the connected network, else the gateway); 0 if none.
 * *bcast is set for the limited and the directed broadcast address. */
uint32_t sk_ip_route(const struct sk_stack *st, uint32_t dst, bool *bcast);
/* Sends a datagram whose transport part is head (hlen bytes) then body (blen), fragmenting
 * it when it exceeds the MTU (RFC 791 §3.2 "Fragmentation"). -EMSGSIZE if it cannot be
 * described (over 65515 bytes), -EHOSTUNREACH without a route, else 0. meta (NULL: none)
 * goes to the link with an unfragmented datagram only (offsets from the frame's start): the
 * caller sends a partial checksum only when the datagram fits the MTU. */
int sk_ip_send(struct sk_stack *st, uint32_t dst, uint8_t proto, const uint8_t *head,
               size_t hlen, const uint8_t *body, size_t blen, const struct sk_frame_meta *meta);

/* ip_frag.c */
/* Takes one IPv4 fragment. Returns true and fills *out when it completes a datagram; the
 * datagram is valid until sk_ipfrag_release. */
bool sk_ipfrag_input(struct sk_stack *st, const struct ip_pkt *frag, struct ip_pkt *out,
                     struct frag_dgram **done);
/* Takes one IPv6 packet with a Fragment header (RFC 8200 §4.5), the same mechanism and limits
 * as IPv4 (one memory and datagram budget for both families). pkt is the packet from its IPv6
 * header, len = 40 + its payload length (link padding excluded); e is sk_ip6_ext_walk's report
 * on it (it returned 0, e->has_frag is set); frame is the link frame, for traces.
 *  - An atomic fragment (offset 0, M 0: RFC 6946 §4, RFC 8021) is never queued nor matched
 *    with a queued datagram of the same identification: true at once, *out = pkt,
 *    *out_len = len, *done = NULL. e already describes its upper layer (the walk goes through
 *    an atomic Fragment header), so the caller delivers it as it is.
 *  - Any other fragment is queued (false), or dropped with its reason counted (false): RFC
 *    5722 overlap (the whole datagram goes, ip-fragment-overlap), an exact duplicate (alone,
 *    ip-fragment-duplicate), lengths past 65535 or a second end (ip-fragment-invalid),
 *    limits (ip-reassembly-limit), reassembly off (ip-fragment). (A first fragment without its
 *    whole header chain, RFC 7112 §5, never gets here: the walk refuses it.)
 *  - Or it completes a datagram: true, *out is the reassembled packet (*out_len bytes): the
 *    offset-0 fragment's unfragmentable part, its last Next Header set to that fragment's
 *    Fragment header's Next Header and its Payload Length to the whole, then the data; no
 *    Fragment header. The caller parses and walks it again like a packet off the wire. It is
 *    valid until sk_ipfrag_release(st, *done).
 * Incomplete datagrams expire SK_IP6FRAG_TIMEOUT_US after their first fragment (counted as
 * ip-reassembly-timeout; the ICMPv6 Time Exceeded of §4.5 is not sent from here). */
bool sk_ip6frag_input(struct sk_stack *st, const uint8_t *pkt, size_t len,
                      const struct sk_ip6_ext *e, const uint8_t *frame, size_t frame_len,
                      const uint8_t **out, size_t *out_len, struct frag_dgram **done);
void sk_ipfrag_release(struct sk_stack *st, struct frag_dgram *d);
/* Expires datagrams due at st->now; returns the earliest next expiry. */
sk_time_us sk_ipfrag_timer(struct sk_stack *st);
void sk_ipfrag_free(struct sk_stack *st);

/* icmp.c */
void sk_icmp_input(struct sk_stack *st, const struct ip_pkt *pkt);
/* RFC 792 Destination Unreachable about the datagram pkt (rate limited, and never about an
 * ICMP error, a broadcast, a non-initial fragment: RFC 1122 §3.2.2). */
void sk_icmp_send_unreach(struct sk_stack *st, const struct ip_pkt *pkt, uint8_t code);

/* udp.c */
void sk_udp_input(struct sk_stack *st, const struct ip_pkt *pkt);
void sk_udp_free_all(struct sk_stack *st);
/* An ICMP error about a datagram a socket sent: recorded on it (RFC 1122 §4.1.3.3). False if
 * no socket of ours sent it. */
bool sk_udp_icmp_error(struct sk_stack *st, uint8_t type, uint8_t code,
                       const struct sk_ipv4_hdr *quoted);

/* tcp/tcp_icmp.c: an ICMP error (type, code, the "rest of header" word) quoting a TCP segment:
 * quoted is the quoted IPv4 header, l4 the quoted bytes after it (at least 8). */
void sk_tcp_icmp_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t rest,
                       const struct sk_ipv4_hdr *quoted, const uint8_t *l4, size_t l4_len);

#endif
