/* synack: an in-memory link joining two stacks, with seeded faults.
 *
 * Outside the core. Frames sent on side 0 arrive on side 1 and the other way round, after the
 * configured delay, unless a fault or a rule says otherwise. Every random choice comes from
 * the link's own generator seeded at creation, so a run is replayed exactly from its seed.
 */
#ifndef SYNACK_MEMLINK_H
#define SYNACK_MEMLINK_H

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_memlink;
struct sk_pcap;

/* Faults applied to frames sent in one direction. Probabilities are 0..1. */
struct sk_memlink_faults {
    double loss;            /* uniform loss */
    double burst_enter;     /* Gilbert-Elliott: chance to enter the lossy state per frame */
    double burst_exit;      /* chance to leave it per frame */
    double burst_loss;      /* loss while in the lossy state */
    double dup;             /* duplicate a frame */
    double reorder;         /* hold a frame back by reorder_us so later ones overtake it */
    uint32_t reorder_us;
    double corrupt;         /* flip one random bit */
    uint32_t delay_us;      /* one-way propagation delay */
    uint32_t jitter_us;     /* extra uniform random delay 0..jitter_us (may reorder) */
    uint64_t rate_bps;      /* bandwidth limit, 0: unlimited */
    uint32_t queue_bytes;   /* queue in front of the rate limit; tail drop beyond (0: 256 KiB) */
    uint16_t mtu;           /* frames larger than this are dropped, 0: no limit */
};

/* A rule acts on the nth frame (counted from 1, per direction) that matches tcp_flags_mask/value
 * (flags of the TCP header; mask 0 matches every frame, TCP or not). */
enum sk_memlink_action { SK_MEMLINK_DROP = 1, SK_MEMLINK_DUP, SK_MEMLINK_DELAY };
struct sk_memlink_rule {
    int from_side;          /* 0 or 1 */
    uint8_t tcp_flags_mask, tcp_flags_value;
    uint32_t nth;           /* 1 = first match; 0 = every match */
    enum sk_memlink_action action;
    uint32_t delay_us;      /* for SK_MEMLINK_DELAY: extra delay */
};

struct sk_memlink_stats {
    uint64_t sent, delivered, lost, duplicated, reordered, corrupted, queue_drops, mtu_drops,
        rule_hits;
    /* TSO super-segments cut into frames here (sk_gso_segment), and those refused as
     * malformed (dropped). sent counts the pieces. */
    uint64_t gso_segmented, gso_errors;
};

/* Frames that arrive are handed to deliver(ctx, side, frame, len, now): side is the receiver. */
typedef void (*sk_memlink_deliver_fn)(void *ctx, int side, const uint8_t *frame, size_t len,
                                      sk_time_us now);
/* The same with what the link says about the frame, for sk_stack_input_meta. */
typedef void (*sk_memlink_deliver_meta_fn)(void *ctx, int side, const uint8_t *frame, size_t len,
                                           const struct sk_frame_meta *meta, sk_time_us now);

SK_API struct sk_memlink *sk_memlink_new(uint64_t seed);
SK_API void sk_memlink_free(struct sk_memlink *l);
/* Faults for frames sent by side `from_side`. */
SK_API void sk_memlink_set_faults(struct sk_memlink *l, int from_side,
                                  const struct sk_memlink_faults *f);
/* Returns 0, or -ENOSPC when 16 rules are already set. */
SK_API int sk_memlink_add_rule(struct sk_memlink *l, const struct sk_memlink_rule *r);
/* Every frame put on the wire (after loss at the sender, as a capture between the hosts would
 * see it: lost frames are not written) goes to pcap if set. */
SK_API void sk_memlink_set_pcap(struct sk_memlink *l, struct sk_pcap *pcap);

/* Offloads the stack on `side` was configured with (its sk_config.caps; NULL: none), so that
 * the link offers them both ways, as a virtio-net TAP would:
 *  - frames sent by `side` may carry SK_FRAME_CSUM_PARTIAL and be TSO super-segments
 *    (SK_GSO_TCPV4); a super-segment reaches the other side whole (marked
 *    SK_FRAME_CSUM_VALID, as GRO hands one over) if the other side has rx_large (and rx_csum),
 *    and is otherwise cut into frames by sk_gso_segment (gso.h) before any fault applies;
 *  - frames `side` receives are marked SK_FRAME_CSUM_VALID if it has rx_csum and the frame
 *    was not corrupted; otherwise every checksum in them is finished, for it to verify.
 * ip_off: where the IPv4 header starts in this link's frames (0 bare IP, 14 Ethernet), for
 * the segmenter. Default: no offloads, ip_off 0. */
SK_API void sk_memlink_set_caps(struct sk_memlink *l, int side, const struct sk_link_caps *caps,
                                size_t ip_off);

/* Puts a frame on the link from side `from_side` at time now. The frame is copied. */
SK_API void sk_memlink_send(struct sk_memlink *l, int from_side, const uint8_t *frame, size_t len,
                            sk_time_us now);
/* The same with the frame's offload metadata from the stack's output callback (NULL: a
 * complete frame). */
SK_API void sk_memlink_send_meta(struct sk_memlink *l, int from_side, const uint8_t *frame,
                                 size_t len, const struct sk_frame_meta *meta, sk_time_us now);
/* Time of the next arrival, SK_TIME_NEVER if nothing is in flight. */
SK_API sk_time_us sk_memlink_next_deadline(const struct sk_memlink *l);
/* Delivers every frame due at or before now, in arrival order. Returns how many. */
SK_API size_t sk_memlink_deliver(struct sk_memlink *l, sk_time_us now, sk_memlink_deliver_fn fn,
                                 void *ctx);
/* The same, handing each frame's metadata (see sk_memlink_set_caps) to fn. */
SK_API size_t sk_memlink_deliver_meta(struct sk_memlink *l, sk_time_us now,
                                      sk_memlink_deliver_meta_fn fn, void *ctx);
SK_API void sk_memlink_get_stats(const struct sk_memlink *l, int from_side,
                                 struct sk_memlink_stats *out);

#ifdef __cplusplus
}
#endif
#endif
