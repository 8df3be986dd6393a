/* The passive observer's internals (src/tcp/tcp_observe.c: the table of connections, the
 * parsing and the API; tcp_observe_seg.c: the analysis of one segment). Private to the library.
 */
#ifndef SK_TCP_OBSERVE_INT_H
#define SK_TCP_OBSERVE_INT_H

#include "synack/observe.h"
#include "internal.h"
#include "tcp/tcp_ranges.h"
#include "wire/wire.h"

#define OBS_RANGES 16        /* disjoint ranges of one side's sequence space remembered */
#define OBS_SENDS 32         /* recent data segments remembered with their send times */

/* One data segment as sent: [left, right) at time t; retx if it was a retransmission. */
struct obs_send {
    uint32_t left, right;
    sk_time_us t;
    bool retx;
};

/* The per-side tracking freed once the connection is over. */
struct obs_track_side {
    struct sk_range store[OBS_RANGES];
    struct sk_ranges seen; /* data bytes this side has sent, at or above snd_una */
    struct obs_send sends[OBS_SENDS];
    uint8_t nsends, next;  /* ring of the most recent sends */
};
struct obs_track {
    struct obs_track_side s[2];
};

struct obs_side {
    struct sk_addr addr;
    uint16_t port;
    enum sk_tcp_state state;
    bool isn_known, syn_seen, synack_seen;
    uint32_t isn;
    sk_time_us syn_time;
    bool seq_known;          /* snd_una and snd_max hold values */
    uint32_t snd_una;        /* highest ACK the peer sent for this side's sequence space */
    uint32_t snd_max;        /* highest sequence number sent + 1 (SYN and FIN count) */
    bool ack_known;          /* this side has sent an ACK: ack and wnd below */
    uint32_t ack;            /* highest ACK this side sent (its RCV.NXT as far as seen) */
    uint32_t wnd;            /* last window offered, in bytes */
    uint32_t max_wnd;        /* largest window offered, in bytes */
    bool fin_sent, fin_acked, got_fin, fin_ack_sent;
    uint32_t fin_seq;
    sk_time_us fin_time;
    uint8_t opts;            /* options on its SYN */
    uint16_t mss;
    uint8_t wscale;          /* as sent (clamped to 14) */
    uint32_t dupacks;        /* duplicate ACKs this side has sent in the current run */
    uint32_t sacked;         /* bytes its last ACK's SACK blocks cover above its ACK */
    uint32_t sack_high;      /* the highest right edge of those blocks */
    bool zero_wnd;           /* its last window was zero */
    bool keepalive_pending;  /* it sent a keep-alive not answered yet */
    bool challenge_pending;  /* it received what RFC 5961 answers with a challenge ACK */
    bool probe_out;          /* it sent a window probe of one byte at probe_seq */
    uint32_t probe_seq;
    uint64_t segments, bytes, retransmits;
};

struct obs_conn {
    struct obs_conn *hnext;  /* hash chain: only the newest connection of a 4-tuple */
    uint64_t id, nseg;
    struct obs_side side[2];
    bool mid_stream, scale_known, scale_on;
    sk_time_us first, last;
    enum sk_obs_end end;
    int8_t reset_by;
    struct obs_track *track; /* NULL once the connection is over */
};

struct obs_tuple {
    struct sk_addr src, dst;
    uint16_t sport, dport;
};

/* What one segment is, as parsed. */
struct obs_in {
    sk_time_us t;
    struct obs_tuple tup;
    bool v4;
    uint32_t saddr4, daddr4;
    struct sk_tcp_hdr th;
    uint32_t len;            /* payload bytes on the wire */
    uint32_t captured;       /* of them, in the capture */
};

/* The analysis of one segment in progress. */
struct obs_ctx {
    struct sk_observer *o;
    struct obs_conn *c;
    const struct obs_in *in;
    struct sk_obs_segment s;
    struct obs_side *snd, *rcv;
    struct obs_track_side *ts, *tr; /* the tracks of snd and rcv, NULL when released */
    uint8_t flags;
    bool probe;              /* a window probe: its byte lies beyond a zero window */
};

static inline bool obs_side_closed(const struct obs_side *s)
{
    return s->state == SK_TCP_CLOSED || s->state == SK_TCP_TIME_WAIT;
}

/* Both ends CLOSED or in TIME-WAIT: the connection is over. */
static inline bool obs_conn_over(const struct obs_conn *c)
{
    return obs_side_closed(&c->side[0]) && obs_side_closed(&c->side[1]);
}

/* tcp_observe_seg.c */
void sk_obs_fill_segment(struct obs_ctx *x, uint8_t from);
void sk_obs_note(struct obs_ctx *x, enum sk_obs_note_kind k, uint64_t a, uint64_t b);
/* The segment in a connection still followed: states, sequence space, notes. */
void sk_obs_analyse(struct obs_ctx *x);
/* The segment once both ends are CLOSED or in TIME-WAIT. */
void sk_obs_after_close(struct obs_ctx *x);
/* rel_seq, rel_ack, rel_known, once the segment is analysed. */
void sk_obs_relative(struct obs_ctx *x);

#endif
