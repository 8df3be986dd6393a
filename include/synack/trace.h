/* synack: trace events.
 *
 * Every segment sent or received, every state change, every timer that fires and every drop
 * (with its reason) is reported through sk_config.trace. The CLI draws its ladder diagram from
 * these events; tests assert on them. Event data is valid only during the callback.
 */
#ifndef SYNACK_TRACE_H
#define SYNACK_TRACE_H

#include "synack/addr.h"
#include "synack/stack.h"
#include "synack/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sk_trace_kind {
    SK_TRACE_SEG_OUT = 1, /* a TCP segment left the stack */
    SK_TRACE_SEG_IN,      /* a TCP segment arrived and passed the checksum */
    SK_TRACE_STATE,       /* a connection changed state */
    SK_TRACE_TIMER,       /* a timer fired */
    SK_TRACE_DROP,        /* a frame or segment was dropped */
    SK_TRACE_ERROR,       /* a connection failed with an error the application will see */
};

/* Why something was dropped. Stable numbering: counters are indexed by it. */
enum sk_drop_reason {
    SK_DROP_NONE = 0,
    SK_DROP_LINK_TRUNCATED,    /* shorter than a link header */
    SK_DROP_LINK_NOT_FOR_US,   /* Ethernet destination is someone else */
    SK_DROP_LINK_ETHERTYPE,    /* neither IPv4 nor ARP */
    SK_DROP_IP_TRUNCATED,
    SK_DROP_IP_VERSION,
    SK_DROP_IP_HDRLEN,
    SK_DROP_IP_TOTLEN,
    SK_DROP_IP_CHECKSUM,
    SK_DROP_IP_NOT_FOR_US,
    SK_DROP_IP_FRAGMENT,       /* fragments not reassembled yet */
    SK_DROP_IP_PROTO,          /* no handler for the protocol */
    SK_DROP_IP_BAD_SRC,        /* broadcast/multicast/loopback source */
    SK_DROP_TCP_TRUNCATED,
    SK_DROP_TCP_HDRLEN,
    SK_DROP_TCP_CHECKSUM,
    SK_DROP_TCP_OPTIONS,       /* malformed option lengths */
    SK_DROP_TCP_NO_SOCKET,     /* nobody listening; answered with RST unless it was a RST */
    SK_DROP_TCP_SEQ,           /* not acceptable (RFC 9293 §3.10.7.4 first check) */
    SK_DROP_TCP_RST_INVALID,   /* RST out of window or inexact (challenge ACK sent) */
    SK_DROP_TCP_SYN_INVALID,   /* SYN in a synchronized state (challenge ACK sent) */
    SK_DROP_TCP_ACK_INVALID,   /* unacceptable ACK */
    SK_DROP_TCP_NO_ACK,        /* neither SYN nor RST nor ACK in a synchronized state */
    SK_DROP_TCP_BACKLOG_FULL,  /* SYN to a listener whose half-open queue is full */
    SK_DROP_TCP_ACCEPT_FULL,   /* handshake done but accept queue full */
    SK_DROP_TCP_NO_MEMORY,     /* connection or buffer limit reached */
    SK_DROP_TCP_RCV_WINDOW,    /* data beyond the receive window, trimmed or dropped */
    SK_DROP_TCP_OUT_OF_ORDER,  /* out-of-order data not queued */
    SK_DROP_TCP_PAWS,          /* RFC 7323 §5: timestamp older than TS.Recent */
    SK_DROP_TCP_AFTER_CLOSE,   /* data after the application closed: RST sent */
    SK_DROP_ICMP_TRUNCATED,
    SK_DROP_ICMP_CHECKSUM,
    SK_DROP_ICMP_TYPE,
    SK_DROP_UDP_TRUNCATED,
    SK_DROP_UDP_CHECKSUM,
    SK_DROP_UDP_NO_SOCKET,
    SK_DROP_ARP_MALFORMED,
    SK_DROP_OUT_NO_ROUTE,      /* outgoing: no route / no link address */
    /* The real wire: Ethernet, ARP, fragments, ICMP and UDP (src/ip/). */
    SK_DROP_LINK_OVERSIZE,     /* frame longer than the link MTU allows */
    SK_DROP_IP_FRAG_OVERLAP,   /* overlapping fragments: the whole datagram (RFC 5722 style) */
    SK_DROP_IP_FRAG_DUP,       /* a fragment repeating bytes already held, unchanged */
    SK_DROP_IP_FRAG_INVALID,   /* beyond 65535 bytes, not a multiple of 8, or a second end */
    SK_DROP_IP_REASM_TIMEOUT,  /* incomplete datagram expired (RFC 791: 30 s here) */
    SK_DROP_IP_REASM_LIMIT,    /* reassembly memory, datagram or hole limit reached */
    SK_DROP_ARP_NOT_FOR_US,    /* a request for somebody else's address */
    SK_DROP_ARP_QUEUE_FULL,    /* outgoing packet waiting for ARP: queue full */
    SK_DROP_ARP_UNRESOLVED,    /* outgoing packet: ARP got no answer after its retries */
    SK_DROP_ICMP_UNMATCHED,    /* ICMP error quoting nothing of ours (or out of window) */
    SK_DROP_ICMP_RATELIMIT,    /* an ICMP error we owed was not sent: rate limit */
    SK_DROP_UDP_QUEUE_FULL,    /* the socket's receive queue is full */
    SK_DROP_IP_FRAG_TINY,      /* RFC 1858 §3: TCP header split or rewritten by fragments */
    SK_DROP_TCP_COOKIE_UNVERIFIED, /* data or FIN to a listener, no valid cookie: no RST
                                    * (sk_config.syncookie_quiet_data) */
    /* IPv6 wire formats (src/wire/ipv6.c, icmp6.c, nd.c). */
    SK_DROP_IP6_TRUNCATED,     /* under 40 bytes, or payload length past the bytes present */
    SK_DROP_IP6_BAD_EXT,       /* malformed extension header chain (Parameter Problem 0/1) */
    SK_DROP_IP6_EXT_LIMIT,     /* more extension headers or bytes than the walker takes */
    SK_DROP_IP6_CHAIN_INCOMPLETE, /* RFC 7112: first fragment without the whole chain */
    SK_DROP_IP6_OPTION,        /* unrecognized option whose action bits discard (RFC 8200 §4.2) */
    SK_DROP_IP6_ROUTING,       /* routing header type 0 (RFC 5095) or unsupported, segments left */
    SK_DROP_ICMP6_TRUNCATED,
    SK_DROP_ICMP6_CHECKSUM,
    SK_DROP_ND_MALFORMED,      /* RFC 4861 validity: code, length, options (§4.6) */
    SK_DROP_ND_INVALID,        /* ND message failing RFC 4861's IP-layer checks (hop limit
                                * 255, source and destination rules, §6.1, §7.1) */
    SK_DROP_REASON_COUNT
};

/* Short name of a drop reason, e.g. "tcp-checksum". */
SK_API const char *sk_drop_reason_name(enum sk_drop_reason r);

enum sk_timer_kind {
    SK_TIMER_RETRANSMIT = 0, /* RFC 6298 retransmission (SYN, data, FIN) */
    SK_TIMER_PERSIST,        /* zero-window probe */
    SK_TIMER_DELACK,         /* delayed ACK */
    SK_TIMER_KEEPALIVE,
    SK_TIMER_TIME_WAIT,      /* 2*MSL expired */
    SK_TIMER_USER_TIMEOUT,   /* RFC 9293 §3.8.3 */
    SK_TIMER_TLP,            /* RFC 8985 §7 tail loss probe */
    SK_TIMER_RACK,           /* RFC 8985 §6.2 step 5: RACK's reordering timer */
    SK_TIMER_PACE,           /* sk_config.pacing: the next transmission's departure time */
    SK_TIMER_COUNT
};
SK_API const char *sk_timer_name(enum sk_timer_kind k);

/* TCP header flags, as on the wire. */
#define SK_TCP_FIN 0x01
#define SK_TCP_SYN 0x02
#define SK_TCP_RST 0x04
#define SK_TCP_PSH 0x08
#define SK_TCP_ACK 0x10
#define SK_TCP_URG 0x20
#define SK_TCP_ECE 0x40
#define SK_TCP_CWR 0x80

/* A TCP segment as seen in a trace: header fields in host order, window unscaled as on the wire. */
struct sk_trace_segment {
    uint32_t saddr, daddr;  /* IPv4 (host order); 0 for an IPv6 segment: see the event's
                             * src and dst */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint32_t len;           /* payload bytes */
    /* Options present (bit set) and their values. */
#define SK_OPT_MSS 0x01
#define SK_OPT_WSCALE 0x02
#define SK_OPT_SACK_PERM 0x04
#define SK_OPT_TIMESTAMP 0x08
#define SK_OPT_SACK 0x10
#define SK_OPT_FASTOPEN 0x20 /* RFC 7413 §4.1.1 Fast Open (kind 34, or 254 with magic 0xF989) */
    uint8_t opts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t nsack;
    struct { uint32_t left, right; } sack[4];
};

/* Why a segment left (SK_TRACE_SEG_OUT): the event that made the stack send it. Stable
 * numbering; sk_seg_why_name gives a short stable identifier ("rto", "fast-retransmit"). */
enum sk_seg_why {
    SK_SEG_WHY_UNKNOWN = 0,     /* not a SEG_OUT event */
    SK_SEG_WHY_SYN,             /* the opening SYN (RFC 9293 §3.5) */
    SK_SEG_WHY_SYNACK,          /* SYN|ACK answering a SYN (again, for a repeated SYN) */
    SK_SEG_WHY_NEW_DATA,        /* data (or a FIN) never sent before */
    SK_SEG_WHY_FIN,             /* a FIN carrying no data, never sent before */
    SK_SEG_WHY_RTO,             /* sent again after the retransmission timer expired
                                 * (RFC 6298 §5: data, FIN, SYN or SYN|ACK) */
    SK_SEG_WHY_FAST_RETRANSMIT, /* sent again on duplicate ACKs (RFC 5681 §3.2, RFC 6582) */
    SK_SEG_WHY_RECOVERY,        /* sent again during loss recovery: a SACK hole (RFC 6675
                                 * §5), a NewReno partial ACK, a lost retransmission */
    SK_SEG_WHY_RETRANSMIT,      /* sent again for another reason: going on after a timeout as
                                 * ACKs arrive, a smaller path MTU (RFC 1191 §6.1) */
    SK_SEG_WHY_TLP,             /* tail loss probe (RFC 8985 §7) */
    SK_SEG_WHY_WINDOW_PROBE,    /* probe of a zero window (RFC 9293 §3.8.6.1) */
    SK_SEG_WHY_KEEPALIVE,       /* keep-alive probe (RFC 9293 §3.8.4) */
    SK_SEG_WHY_ACK,             /* pure ACK sent at once (segment arrived) */
    SK_SEG_WHY_DELAYED_ACK,     /* pure ACK sent when the delayed-ACK timer expired
                                 * (RFC 9293 §3.8.6.3) */
    SK_SEG_WHY_WINDOW_UPDATE,   /* pure ACK announcing a window reopened by a read
                                 * (RFC 9293 §3.8.6.2.2) */
    SK_SEG_WHY_CHALLENGE_ACK,   /* RFC 5961 §3.2, §4.2: answers a suspicious RST or SYN */
    SK_SEG_WHY_RST_NO_CONNECTION, /* RST answering a segment for no connection or a closed
                                   * port (RFC 9293 §3.10.7.1) */
    SK_SEG_WHY_RST_BAD_ACK,     /* RST answering an unacceptable ACK in SYN-SENT or
                                 * SYN-RECEIVED (RFC 9293 §3.10.7.3, §3.10.7.4), or a SYN-ACK
                                 * echoing a TSval never sent (synack_tsecr_check) */
    SK_SEG_WHY_RST_ABORT,       /* RST because the application aborted (RFC 9293 §3.10.5) */
    SK_SEG_WHY_RST_AFTER_CLOSE, /* RST for data arriving after close (RFC 2525 §2.17) */
    SK_SEG_WHY_RST_SYN,         /* RST for an in-window SYN (RFC 793 rule, rfc793_syn) */
    SK_SEG_WHY_PMTU_PROBE,      /* a larger segment testing the path MTU (RFC 4821 §7.5) */
    SK_SEG_WHY_COUNT
};

/* "new-data", "rto", "fast-retransmit", ... ("unknown" out of range). */
SK_API const char *sk_seg_why_name(enum sk_seg_why w);

struct sk_trace_event {
    enum sk_trace_kind kind;
    sk_time_us time;
    const struct sk_tcp *conn;  /* the connection concerned, or NULL */
    uint64_t conn_id;           /* stable id of that connection within the stack, 0 if none */
    union {
        struct sk_trace_segment seg;                         /* SEG_OUT, SEG_IN */
        struct { enum sk_tcp_state from, to; } state;        /* STATE */
        struct { enum sk_timer_kind timer; } timer;          /* TIMER */
        struct { enum sk_drop_reason reason; } drop;         /* DROP */
        struct { int err; } error;                           /* ERROR: negative errno */
    } u;
    /* The whole frame for SEG_OUT, SEG_IN and DROP (as handed in or out), else NULL. */
    const uint8_t *frame;
    size_t frame_len;
    /* SEG_OUT, SEG_IN: the segment's addresses of either family (an IPv4 segment's
     * IPv4-mapped, synack/addr.h); at the end, so that the fields before keep their places. */
    struct sk_addr src, dst;
    /* SEG_OUT: why the segment left; at the end for the same reason. */
    enum sk_seg_why why;
};

/* Formats flags like "SYN|ACK" into buf; returns buf. */
SK_API const char *sk_tcp_flags_str(uint8_t flags, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
