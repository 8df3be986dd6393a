/* synack: a passive observer of TCP connections.
 *
 * Given the IP packets of a capture (or of any vantage point: a tap, a mirror port, a link in
 * the simulator) in the order and at the times they were seen, the observer follows every TCP
 * connection among them and runs RFC 9293's state diagram (§3.3.2) for *both* ends on what it
 * sees: a SYN moves its sender to SYN-SENT and its receiver from LISTEN to SYN-RECEIVED, the
 * ACK of a FIN moves FIN-WAIT-1 to FIN-WAIT-2, and so on. It assumes each segment reaches its
 * receiver at the moment it is seen; a capture taken away from both ends makes the inferred
 * times approximate, never the order of one end's own segments.
 *
 * For every TCP segment it reports what an experienced reader of a capture would point out:
 * the handshake and its ISN+1 acknowledgements, retransmissions (and after how long), duplicate
 * ACKs and fast retransmit, SACK blocks, zero windows and window probes, out-of-order arrival,
 * keep-alives, resets and their likely reason, half-close, TIME-WAIT, and segments the capture
 * itself missed. Notes are codes with numeric arguments: the words (English, Chinese, ...)
 * belong to the tool that shows them (the synack CLI's `synack trace`).
 *
 * Sans-IO, like the stack: no clock, no files, no threads. Memory comes from the allocator in
 * the config (default malloc/realloc/free); an allocation refused is counted, never a crash.
 * Input is untrusted: any bytes may be passed; anything that is not a well-formed IPv4 or IPv6
 * packet carrying TCP is reported as such and changes nothing.
 */
#ifndef SYNACK_OBSERVE_H
#define SYNACK_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/addr.h"
#include "synack/stack.h"
#include "synack/tcp.h"
#include "synack/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the observer says about a segment. Stable numbering; sk_obs_note_name gives a stable
 * short English identifier ("handshake-syn"), for tools, JSON and tests. a and b are the
 * note's arguments, as listed. */
enum sk_obs_note_kind {
    SK_OBS_NOTE_NONE = 0,
    /* Opening (RFC 9293 §3.5). */
    SK_OBS_HANDSHAKE_SYN,       /* first SYN: a = the sender's ISN */
    SK_OBS_HANDSHAKE_SYNACK,    /* SYN|ACK acknowledging the SYN's ISN+1: a = its own ISN */
    SK_OBS_HANDSHAKE_ACK,       /* ACK of the SYN|ACK's ISN+1: the connection is open */
    SK_OBS_SIMULTANEOUS_OPEN,   /* a SYN crossing the other side's SYN */
    SK_OBS_SYN_RETRANSMIT,      /* SYN or SYN|ACK sent again: a = µs since the first one */
    SK_OBS_SYN_BAD_ACK,         /* SYN|ACK whose ACK is not the SYN's ISN+1 (b = it, a = ISN+1) */
    SK_OBS_OPTIONS,             /* options negotiated, on the segment that completes them:
                                 * a = bit set of SK_OPT_* both sides agreed on, b = window
                                 * scale shifts, (side 0's << 8) | side 1's, 0xffff if none */
    /* Data and acknowledgements (RFC 9293 §3.10.7.4, RFC 5681, RFC 2018, RFC 6675). */
    SK_OBS_RETRANSMIT,          /* data sent again: a = µs since it was last sent, b = bytes
                                 * resent */
    SK_OBS_FAST_RETRANSMIT,     /* a retransmission following duplicate ACKs: a = µs since
                                 * it was last sent, b = how many duplicate ACKs preceded it */
    SK_OBS_DUP_ACK,             /* duplicate ACK (RFC 5681 §2): a = its number in the run */
    SK_OBS_SACK,                /* SACK blocks (the segment's sack[] fields): a = blocks */
    SK_OBS_DSACK,               /* first SACK block reports data received twice (RFC 2883) */
    SK_OBS_OUT_OF_ORDER,        /* data above a gap: a = bytes missing before it */
    SK_OBS_FILLS_GAP,           /* data below the highest sent, never seen before: arrived
                                 * late (reordered) or seen for the first time: a = bytes */
    SK_OBS_CAPTURE_MISSED,      /* an ACK for data the capture never showed: a = bytes */
    SK_OBS_ACK_UNSEEN,          /* ACK acknowledging beyond anything the peer sent */
    SK_OBS_SPURIOUS_RETRANSMIT, /* D-SACK shows a retransmission was not needed */
    /* Flow control (RFC 9293 §3.8.6, §3.8.6.1). */
    SK_OBS_ZERO_WINDOW,         /* the sender's receive window is zero */
    SK_OBS_WINDOW_OPEN,         /* window update after a zero window: a = bytes now offered */
    SK_OBS_WINDOW_PROBE,        /* a probe of the peer's zero window: a = bytes (0 or 1) */
    SK_OBS_WINDOW_FULL,         /* this data fills the peer's advertised window exactly */
    SK_OBS_WINDOW_UPDATE,       /* pure window update: no data, ACK unchanged, window moved */
    /* Keep-alive (RFC 9293 §3.8.4). */
    SK_OBS_KEEPALIVE,           /* SEG.SEQ = SND.NXT-1 with 0 or 1 bytes, everything acked */
    SK_OBS_KEEPALIVE_ACK,       /* the answer to a keep-alive */
    /* Closing (RFC 9293 §3.6). */
    SK_OBS_FIN,                 /* the sender has no more data: a = bytes it sent in all */
    SK_OBS_HALF_CLOSE,          /* data from a side whose peer has already sent its FIN */
    SK_OBS_FIN_ACKED,           /* acknowledges the peer's FIN (its sequence number + 1) */
    SK_OBS_SIMULTANEOUS_CLOSE,  /* a FIN crossing the other side's FIN */
    SK_OBS_TIME_WAIT,           /* the sender of this segment enters TIME-WAIT (2 MSL) */
    SK_OBS_FIN_RETRANSMIT,      /* FIN sent again: a = µs since the first */
    /* Resets (RFC 9293 §3.5.2, §3.10.7, RFC 5961). */
    SK_OBS_RST_REFUSED,         /* answers a SYN: nobody listens on that port */
    SK_OBS_RST_ABORT,           /* reset in a synchronized state: the application aborted
                                 * (SO_LINGER 0, or close with unread data: RFC 9293 §3.10.4) */
    SK_OBS_RST_NO_CONNECTION,   /* answers a segment for a connection the sender no longer
                                 * has (after it closed, crashed or timed out) */
    SK_OBS_RST_IGNORED,         /* out of the receiver's window: it will be ignored */
    SK_OBS_RST_SYN_SENT,        /* the sender aborts its own opening (no SYN|ACK answered) */
    SK_OBS_CHALLENGE_ACK,       /* an ACK that answers an in-window SYN or inexact RST
                                 * (RFC 5961 §3, §4) */
    /* The capture itself. */
    SK_OBS_MID_STREAM,          /* first segment of a connection whose opening was not seen */
    SK_OBS_SNAPLEN_CUT,         /* the capture kept only part of the payload: a = bytes kept,
                                 * b = bytes on the wire */
    SK_OBS_AFTER_CLOSE,         /* a segment after both sides reached CLOSED or TIME-WAIT that
                                 * does not open a new connection */
    SK_OBS_NOTE_COUNT
};

/* "handshake-syn", "retransmit", ... */
SK_API const char *sk_obs_note_name(enum sk_obs_note_kind k);

struct sk_obs_note {
    enum sk_obs_note_kind kind;
    uint64_t a, b;
};

#define SK_OBS_MAX_NOTES 8

/* One TCP segment, as the observer saw it. Valid only during the callback. */
struct sk_obs_segment {
    uint64_t conn;              /* connection number, from 1, in the order first seen */
    uint64_t index;             /* segment number within the connection, from 0 */
    uint8_t from;               /* the side that sent it: 0 the opener (the first SYN's
                                 * sender, or the first segment's when mid-stream), or 1 */
    sk_time_us time;            /* as given to sk_observer_input */
    struct sk_addr src, dst;    /* IPv4 as IPv4-mapped (synack/addr.h) */
    struct sk_trace_segment seg; /* header fields (window as on the wire; seg.saddr/daddr
                                  * set for IPv4 only) */
    uint32_t wnd_bytes;         /* the window in bytes: seg.wnd << the sender's scale when
                                 * both SYNs carried the option (RFC 7323 §2.2: never on a SYN) */
    bool wnd_scale_known;       /* false if the scale could not be seen (mid-stream) */
    uint32_t rel_seq, rel_ack;  /* seq relative to the sender's ISN, ack to the receiver's;
                                 * 0 when the ISN is unknown (then rel_known is false) */
    bool rel_known;
    uint32_t captured_len;      /* payload bytes present in the capture (< seg.len if cut) */
    enum sk_tcp_state state_before[2], state_after[2]; /* each side's inferred state */
    uint8_t nnotes;
    struct sk_obs_note notes[SK_OBS_MAX_NOTES];
};

/* How a connection ended, as far as the capture shows. */
enum sk_obs_end {
    SK_OBS_END_OPEN = 0,        /* still open at the end of the capture */
    SK_OBS_END_HANDSHAKE,       /* opening not finished (SYN with no answer, ...) */
    SK_OBS_END_REFUSED,         /* the SYN was answered by a RST */
    SK_OBS_END_CLOSED,          /* both FINs sent and acknowledged */
    SK_OBS_END_HALF_CLOSED,     /* one side's FIN only */
    SK_OBS_END_RESET,           /* a RST ended it: reset_by says who */
};
SK_API const char *sk_obs_end_name(enum sk_obs_end e); /* "open", "refused", "closed", ... */

/* A connection, summed up. */
struct sk_obs_conn_info {
    uint64_t id;
    struct sk_addr addr[2];     /* side 0, side 1 */
    uint16_t port[2];
    bool mid_stream;            /* the capture started after the opening */
    sk_time_us first, last;     /* times of its first and last segments */
    uint64_t segments[2];       /* segments sent by each side */
    uint64_t bytes[2];          /* payload bytes each side sent, counted once (the sequence
                                 * space covered, retransmissions not counted again) */
    uint64_t retransmits[2];    /* segments that were retransmissions */
    uint32_t isn[2];
    bool isn_known[2];
    uint16_t mss[2];            /* 0: no MSS option seen */
    int8_t wscale[2];           /* -1: none (or not both: scaling off) */
    bool sack_ok, ts_ok;        /* both sides agreed */
    enum sk_tcp_state state[2]; /* inferred states now */
    enum sk_obs_end end;
    int8_t reset_by;            /* SK_OBS_END_RESET: the side that sent it, else -1 */
};

struct sk_observer_config {
    /* Called for every TCP segment, in input order. May be NULL (then only the summaries). */
    void (*on_segment)(void *user, const struct sk_obs_segment *s);
    void *user;
    /* Optional allocator with the stack's signature (sk_config.alloc). */
    void *(*alloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void *alloc_ctx;
    /* Connections followed at once; beyond it new ones are counted (conn_limit) and ignored.
     * 0: 65536. */
    uint32_t max_conns;
};

/* What sk_observer_input made of a packet. */
enum sk_obs_result {
    SK_OBS_TCP = 0,             /* a TCP segment: reported */
    SK_OBS_NOT_TCP,             /* a well-formed IP packet of another protocol (or ICMP) */
    SK_OBS_FRAGMENT,            /* an IP fragment: not reassembled, counted */
    SK_OBS_MALFORMED,           /* not an IPv4/IPv6 packet, or a TCP header cut or invalid */
    SK_OBS_NO_MEMORY,           /* a new connection could not be followed */
    SK_OBS_LIMIT,               /* max_conns reached */
};

struct sk_observer_stats {
    uint64_t packets, tcp, not_tcp, fragments, malformed, no_memory, conn_limit;
    uint64_t conns;
};

struct sk_observer;

/* NULL if out of memory. A NULL config takes the defaults. */
SK_API struct sk_observer *sk_observer_new(const struct sk_observer_config *cfg);
SK_API void sk_observer_free(struct sk_observer *o);

/* One IP packet (starting at the IPv4 or IPv6 header) seen at time t. captured is how many
 * bytes of it the capture holds in pkt; wire_len the packet's length on the wire (the capture's
 * original length less the link header; equal to captured when nothing was cut). Checksums are
 * not verified: captures taken on a sending host show offloaded checksums unfinished. */
SK_API enum sk_obs_result sk_observer_input(struct sk_observer *o, sk_time_us t,
                                            const uint8_t *pkt, size_t captured,
                                            size_t wire_len);

/* Connections seen so far (ids 1..count). */
SK_API uint64_t sk_observer_conn_count(const struct sk_observer *o);
/* 0, or -ENOENT for an unknown id. */
SK_API int sk_observer_conn_info(const struct sk_observer *o, uint64_t id,
                                 struct sk_obs_conn_info *out);
SK_API void sk_observer_get_stats(const struct sk_observer *o, struct sk_observer_stats *out);

#ifdef __cplusplus
}
#endif
#endif
