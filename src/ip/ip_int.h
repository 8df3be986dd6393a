/* Private interface between the files of the IP layer: link.c (Ethernet framing), neigh.c
 * (the neighbour cache and its queue, both families), arp.c (RFC 826 on it), ipv4.c (input,
 * routing, output, fragmentation), ip_frag.c (RFC 791 reassembly), icmp.c (RFC 792), udp.c
 * (RFC 768), ipv6.c (RFC 8200), icmp6.c (RFC 4443), nd.c (RFC 4861, RFC 4862), addr6.c (our
 * IPv6 addresses), ip_state.c (the state and its timer), and tcp/tcp_icmp.c (ICMP errors
 * acted on by TCP).
 *
 * All of it hangs off the stack (st->ip); nothing is global. Memory comes from sk_mem_alloc
 * and is bounded by the limits in sk_config.
 */
#ifndef SK_IP_INT_H
#define SK_IP_INT_H

#include "internal.h"
#include "synack/addr.h"

struct sk_udp;

#ifndef SK_ETHERTYPE_IPV6
#define SK_ETHERTYPE_IPV6 0x86dd /* RFC 2464 §3 */
#endif

/* ---- The neighbour cache (neigh.c): one for both families ---- */
/* RFC 4861 §7.3.2's states, which ARP (RFC 826, RFC 1122 §2.3.2) goes through too. */
enum nud_state {
    NUD_FREE = 0,
    NUD_INCOMPLETE, /* solicitation out, no answer yet; packets may wait in the queue */
    NUD_REACHABLE,  /* confirmed less than the reachable time ago (checked when used) */
    NUD_STALE,      /* older: still used; the first use starts DELAY */
    NUD_DELAY,      /* used while STALE: a probe follows unless a confirmation comes */
    NUD_PROBE,      /* unicast solicitations out to confirm it; still used */
};
struct neigh {
    struct sk_addr ip;  /* IPv4-mapped for ARP */
    uint8_t mac[6];
    uint8_t state;      /* enum nud_state */
    uint8_t tries;      /* solicitations sent in the current round */
    bool router;        /* RFC 4861 §7.3.2 IsRouter */
    uint32_t queued;    /* INCOMPLETE: packets waiting in the pending queue */
    sk_time_us expires; /* REACHABLE: when it turns STALE; INCOMPLETE, DELAY, PROBE: the
                         * next timer */
    sk_time_us used;    /* last lookup, to pick a victim when the cache is full */
};
/* A packet (IP header onwards) waiting for its next hop's link address. */
struct neigh_pending {
    struct sk_list_node link; /* on sk_ipstate.pending, in the order queued */
    uint32_t neigh;           /* index of the INCOMPLETE entry it waits for: the queue's
                               * bytes are a limit, so the 16-byte address is not repeated */
    uint16_t pkt_len;         /* the packet's bytes at data */
    size_t len;               /* bytes at data: the packet, then its sk_frame_meta (offsets
                               * from the Ethernet header) if it has one */
    uint8_t data[];
};

/* ---- IPv6 addresses, routers, path MTUs (addr6.c, nd.c, ipv6.c) ---- */
enum ip6_addr_state {
    IP6A_FREE = 0,
    IP6A_TENTATIVE,  /* RFC 4862 §5.4: duplicate address detection runs; not used */
    IP6A_PREFERRED,
    IP6A_DEPRECATED, /* preferred lifetime over: kept for what uses it, avoided for new */
    IP6A_DUPLICATED, /* DAD found another node with it (§5.4.5): never used */
};
enum ip6_addr_origin { IP6A_STATIC, IP6A_LINKLOCAL, IP6A_SLAAC };
struct ip6_addr {
    struct sk_addr a;
    uint8_t prefix_len;
    uint8_t state;              /* enum ip6_addr_state */
    uint8_t origin;             /* enum ip6_addr_origin */
    uint8_t dad_left;           /* TENTATIVE: solicitations still to send */
    uint8_t dad_counter;        /* RFC 7217 DAD_Counter its identifier was made with */
    sk_time_us dad_next;        /* TENTATIVE: the next solicitation, or the end of DAD */
    sk_time_us preferred_until; /* SK_TIME_NEVER: forever (static, link-local) */
    sk_time_us valid_until;
};
#define IP6_ADDRS (SK_IP6_ADDR_MAX + 5) /* statics, the link-local, SLAAC addresses */
/* RFC 4861 §6.3.4: the Default Router List and the Prefix List (on-link prefixes). */
struct ip6_router {
    struct sk_addr a;
    sk_time_us until; /* 0: free */
};
struct ip6_onlink {
    struct sk_addr prefix;
    uint8_t len;
    sk_time_us until; /* 0: free */
};
/* RFC 8201: what a Packet Too Big taught about one destination. */
struct ip6_pmtu {
    struct sk_addr dst;
    uint32_t mtu;       /* 0: free */
    sk_time_us expires; /* RFC 8201 §4: raised back to the link MTU after 10 minutes */
};
#define IP6_ROUTERS 4
#define IP6_ONLINK 4
#define IP6_PMTU_ENTRIES 16
struct sk_ip6state {
    struct ip6_addr addrs[IP6_ADDRS];
    struct ip6_router routers[IP6_ROUTERS];
    struct ip6_onlink onlink[IP6_ONLINK];
    struct ip6_pmtu pmtu[IP6_PMTU_ENTRIES];
    uint32_t link_mtu;          /* cfg.mtu, or less from an RA's MTU option */
    uint8_t cur_hop_limit;      /* RFC 4861 §6.3.2 CurHopLimit */
    uint32_t base_reachable_us; /* BaseReachableTime */
    uint32_t reachable_us;      /* ReachableTime: 0.5..1.5 x BaseReachableTime at random */
    uint32_t retrans_us;        /* RetransTimer */
    uint8_t rs_left;            /* router solicitations still to send (§6.3.7) */
    sk_time_us rs_next;
    sk_time_us deadline;        /* the earliest of DAD, RS, lifetimes (SK_TIME_NEVER: none) */
};

/* ---- Reassembly (ip_frag.c) ---- */
#define SK_FRAG_HDR_ROOM 60 /* the largest IPv4 header, kept in front of the data */
/* One fragment's data as it came: the list is sorted by offset and never overlaps. */
struct frag_piece {
    struct sk_list_node link; /* on its datagram's pieces */
    uint32_t off, len;        /* payload bytes [off, off + len) */
    uint8_t data[];
};
struct frag_dgram {
    struct sk_list_node link; /* on sk_ipstate.frags, in arrival order: the first expires first */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    bool have_first, have_last;
    sk_time_us expires;
    uint32_t total;           /* payload length, known once the last fragment came */
    uint32_t data_end;        /* one past the highest payload byte held */
    uint32_t received;        /* payload bytes held: complete when it reaches total */
    uint32_t nfrags;          /* fragments taken (duplicates not counted) */
    struct sk_list pieces;    /* struct frag_piece, sorted by offset */
    size_t bytes;             /* memory held: this, its pieces, the buffer */
    uint8_t hdr[SK_FRAG_HDR_ROOM]; /* header of the fragment at offset 0 */
    uint8_t hdr_len;
    uint8_t *buf;             /* once complete: SK_FRAG_HDR_ROOM + total bytes, data at +ROOM */
};

/* ---- The state ---- */
struct sk_ipstate {
    uint16_t next_id;         /* RFC 6864 §4.1: IDs of fragmentable datagrams */

    struct neigh *neigh;      /* cfg.arp_cache_entries of them */
    uint32_t neigh_last;      /* index of the last hit: most traffic goes to one neighbour */
    struct sk_list pending;   /* struct neigh_pending, oldest first */
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

    struct sk_ip6state ip6;
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
/* Sends the IP packet at frame + sk_link_hlen() (frame has that headroom; len counts it)
 * towards nexthop (IPv4-mapped or IPv6): frames it, or queues a copy (meta with it) until the
 * neighbour cache knows the link address. meta: the offload metadata for the link, offsets
 * from frame; NULL for a complete frame. */
void sk_link_output(struct sk_stack *st, const struct sk_addr *nexthop, uint8_t *frame,
                    size_t len, const struct sk_frame_meta *meta);
/* Puts a finished link frame on the wire, counting it (meta NULL: a complete frame). */
void sk_link_emit(struct sk_stack *st, const uint8_t *frame, size_t len,
                  const struct sk_frame_meta *meta);
/* Writes the Ethernet header of a frame to link address dst for the family of ip. */
void sk_link_eth_header(struct sk_stack *st, uint8_t *frame, const uint8_t dst[6],
                        const struct sk_addr *ip);

/* neigh.c: the neighbour cache and its queue (ARP's for IPv4, RFC 4861's for IPv6). */
struct neigh *sk_neigh_find(struct sk_stack *st, const struct sk_addr *ip);
/* True with *mac filled if ip's link address is known (REACHABLE, STALE, DELAY, PROBE: RFC
 * 4861 §7.3.3 moves a STALE entry to DELAY here); otherwise starts (or continues) resolution
 * and returns false. */
bool sk_neigh_lookup(struct sk_stack *st, const struct sk_addr *ip, uint8_t mac[6]);
/* Queues a copy of the IP packet pkt for nexthop (counted drop if the queue is full), with
 * the frame's offload metadata (NULL: none), sent with it once the address is known. */
void sk_neigh_enqueue(struct sk_stack *st, const struct sk_addr *nexthop, const uint8_t *pkt,
                      size_t len, const struct sk_frame_meta *meta);
/* Records ip's link address mac (NULL: keep the one held) in state `to` (REACHABLE or STALE),
 * creating the entry if `create` (replacing the least recently used when full); an entry that
 * was INCOMPLETE sends what waited for it. Returns the entry, NULL if none. */
struct neigh *sk_neigh_update(struct sk_stack *st, const struct sk_addr *ip, const uint8_t *mac,
                              enum nud_state to, bool create);
/* Forgets ip's entry (its waiting packets dropped, counted). */
void sk_neigh_forget(struct sk_stack *st, const struct sk_addr *ip);
/* Solicitations due at st->now; returns the earliest next deadline. */
sk_time_us sk_neigh_timer(struct sk_stack *st);
void sk_neigh_free(struct sk_stack *st);

/* arp.c */
void sk_arp_input(struct sk_stack *st, const uint8_t *p, size_t len, const uint8_t *frame,
                  size_t frame_len);
/* An ARP request for ip to the link address dst (NULL: broadcast). */
void sk_arp_solicit(struct sk_stack *st, uint32_t ip, const uint8_t *dst);

/* nd.c: neighbour discovery (RFC 4861) and address autoconfiguration (RFC 4862). */
/* A neighbour solicitation for target to the link address dst (NULL: its solicited-node
 * multicast group), from one of our addresses (RFC 4861 §7.2.2). */
void sk_nd_solicit(struct sk_stack *st, const struct sk_addr *target, const uint8_t *dst);
/* A neighbour solicitation for target from src (:: for DAD: no source link address option),
 * unicast to target (its cache entry's link address) or to its solicited-node group. */
void sk_nd_send_ns(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *target,
                   bool unicast);
/* A router solicitation to all-routers (RFC 4861 §6.3.7). */
void sk_nd_send_rs(struct sk_stack *st);
/* Starts what IPv6 does at start: link-local address, DAD, router solicitations. */
void sk_nd_start(struct sk_stack *st);
/* DAD, router solicitations, lifetimes due at st->now; returns the next deadline. */
sk_time_us sk_nd_timer(struct sk_stack *st);
/* An ICMPv6 message of neighbour discovery (types 133-137) in p. */
struct ip6_pkt;
void sk_nd_input(struct sk_stack *st, const struct ip6_pkt *p);

/* addr6.c: our IPv6 addresses (RFC 4291, RFC 4862, RFC 6724, RFC 7217). */
/* Adds an address in state TENTATIVE (DAD to run: sk_nd_timer) or PREFERRED (dad_transmits 0);
 * NULL when the table is full or it is already there. */
struct ip6_addr *sk_ip6_addr_add(struct sk_stack *st, const struct sk_addr *a, uint8_t plen,
                                 enum ip6_addr_origin origin);
struct ip6_addr *sk_ip6_addr_find(struct sk_stack *st, const struct sk_addr *a);
/* RFC 7217 §5: the stable-privacy interface identifier for prefix (its first 8 bytes) and
 * the DAD counter, written to iid[8]. */
void sk_ip6_stable_iid(const struct sk_stack *st, const struct sk_addr *prefix,
                       uint8_t dad_counter, uint8_t iid[8]);
/* Is a in one of our groups: all-nodes ff02::1 or the solicited-node group of an address
 * of ours (tentative ones included: RFC 4862 §5.4.2)? */
bool sk_ip6_is_our_group(const struct sk_stack *st, const struct sk_addr *a);
/* Is a on-link (RFC 4861 §5.2: a link-local address, or under a prefix of ours)? */
bool sk_ip6_on_link(const struct sk_stack *st, const struct sk_addr *a);
/* The solicited-node multicast address of a (RFC 4291 §2.7.1: ff02::1:ffXX:XXXX). */
struct sk_addr sk_ip6_solicited_node(const struct sk_addr *a);
/* Lifetimes due at st->now; returns the next deadline. */
sk_time_us sk_ip6_addr_timer(struct sk_stack *st);

/* icmp.c: the ICMP error rate limit, one token bucket for ICMPv4 and ICMPv6 (RFC 1812
 * §4.3.2.8, RFC 4443 §2.4 (f)). False if the error is not to be sent. */
bool sk_icmp_take_token(struct sk_stack *st);

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

/* Segments a TSO super-segment (frame_len bytes from the link header) will be cut into: its
 * payload in gso_size pieces; 1 for any other frame. */
uint16_t sk_gso_pieces(const struct sk_frame_meta *meta, size_t frame_len);
/* Copies bytes [off, off+n) of the concatenation head|body to dst. */
void sk_ip_copy_span(uint8_t *dst, const uint8_t *head, size_t hlen, const uint8_t *body,
                     size_t off, size_t n);

/* ipv6.c */
/* sk_ip6_send with the hop limit and flow label given (ND: 255 and 0). */
int sk_ip6_send_hl(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   uint8_t proto, uint8_t hop_limit, uint32_t flow, const uint8_t *head,
                   size_t hlen, const uint8_t *body, size_t blen,
                   const struct sk_frame_meta *meta);
/* An ND message (the whole ICMPv6 message, checksum done, at most SK_ND_MSG_MAX bytes): hop
 * limit 255, flow label 0, built apart from st->tx. */
#define SK_ND_MSG_MAX 128
int sk_ip6_send_nd(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   const uint8_t *msg, size_t len);
/* RFC 8201: a Packet Too Big said the path to dst takes mtu bytes (floored at 1280). */
void sk_ip6_pmtu_update(struct sk_stack *st, const struct sk_addr *dst, uint32_t mtu);

/* icmp6.c: ICMPv6 (RFC 4443). */
void sk_icmp6_input(struct sk_stack *st, const struct ip6_pkt *p);
/* An ICMPv6 error (type, code, its 32-bit field) about the packet p, quoting as much of it as
 * fits in 1280 bytes; never about an error or a packet from an address that is not one
 * node's, nor (unless to_multicast: RFC 4443 §2.4 (e.3)) a packet sent to a group; rate
 * limited with ICMPv4's bucket. */
void sk_icmp6_send_error(struct sk_stack *st, const struct ip6_pkt *p, uint8_t type,
                         uint8_t code, uint32_t info, bool to_multicast);

/* ip_frag.c */
/* Takes one fragment. Returns true and fills *out when it completes a datagram; the datagram
 * is valid until sk_ipfrag_release. */
bool sk_ipfrag_input(struct sk_stack *st, const struct ip_pkt *frag, struct ip_pkt *out,
                     struct frag_dgram **done);
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
