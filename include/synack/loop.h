/* synack: an event loop driving one stack on a TAP device, outside the core.
 *
 * It sleeps in poll() until a frame arrives, the stack's next deadline comes, or another
 * thread (or a signal handler) wakes it; it hands frames to sk_stack_input and runs
 * sk_stack_poll with CLOCK_MONOTONIC time in microseconds. Optionally every frame, in both
 * directions, passes the seeded faults of the in-memory link (synack/memlink.h) on its way,
 * and a pcap capture records every frame at its sender's side of those faults (so frames
 * the faults drop are in it).
 *
 * Set up: sk_loop_new, then give the stack's configuration output = sk_loop_output,
 * tx_buffer = sk_loop_tx_buffer, output_ctx = the loop and caps = sk_tap_get_caps (offload is
 * chosen when the TAP is opened: sk_tap_opts), create the stack, sk_loop_set_stack. Frames are
 * read in batches of up to 256 per wake-up, each stamped with the clock when read. Then call sk_loop_run_once
 * until done. Only sk_loop_wake may be called from another thread or a signal handler.
 */
#ifndef SYNACK_LOOP_H
#define SYNACK_LOOP_H

#include "synack/memlink.h"
#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_loop;
struct sk_tap;
struct sk_pcap;

struct sk_loop_stats {
    uint64_t frames_read, frames_written, write_errors, wakeups;
    /* System calls: ppoll() calls and read() calls (the last of each batch finds nothing:
     * frames per read call is frames_read / read_calls). A TAP takes one frame per write, so
     * write calls are frames_written + write_errors. */
    uint64_t polls, read_calls;
    /* Partial checksums the loop completed in software (for a stack without caps.rx_csum, or
     * a frame crossing the fault link), and super-segments it could not pass on (a bare wire
     * or the fault link). */
    uint64_t csum_completed, gso_dropped;
    /* Frames beyond the stack's MTU (plus an Ethernet header and a VLAN tag) that the kernel
     * did not mark as coalesced, dropped here. */
    uint64_t oversize_dropped;
    /* Groups: frames read here and copied to another loop's ring, frames taken from the
     * rings, frames lost because a ring was full, eventfd writes to wake a sleeping owner. */
    uint64_t steered_out, steered_in, steer_drops, steer_wakeups;
    /* Frames the fault link dropped (loss, its queue, its MTU) on their way to the stack
     * (sent by the kernel) and from it (sent by the stack); 0 without faults. */
    uint64_t lost_to_stack, lost_from_stack;
};

/* Fills cfg's secret (sk_config_set_secret) with SK_SECRET_BYTES from getrandom(2): what every
 * stack facing a real network must have. 0, or a negative errno from getrandom. */
SK_API int sk_config_secret_from_os(struct sk_config *cfg);

/* The loop does not own the tap. NULL with *err set on failure. */
SK_API struct sk_loop *sk_loop_new(struct sk_tap *tap, int *err);
SK_API void sk_loop_free(struct sk_loop *l);
SK_API void sk_loop_set_stack(struct sk_loop *l, struct sk_stack *st);
/* The stack's output callback (ctx is the loop). Frames go to the TAP with their metadata
 * when it has the virtio-net header (synack/tap.h); to a TAP without it, a partial checksum
 * is completed and a super-segment cut (sk_csum_complete, sk_gso_segment); through the fault
 * link, as sk_memlink_set_caps says. Give the stack sk_tap_get_caps's caps. */
SK_API void sk_loop_output(void *ctx, const uint8_t *frame, size_t len,
                          const struct sk_frame_meta *meta);
/* sk_config.tx_buffer (ctx is the loop): the loop's one transmit buffer, with room in front
 * for the virtio-net header, so a frame built there goes out in one write(2) without a gather
 * or a copy. NULL for frames over 65553 bytes. Valid until the next call. */
SK_API uint8_t *sk_loop_tx_buffer(void *ctx, size_t size);
/* Faults on frames towards the stack (from the kernel) and from it; NULL for none. The fault
 * link carries each frame's offload metadata (sk_memlink_set_caps with the stack's caps, and
 * on the kernel's side what the TAP's header lets the kernel send): the stack's super-segments
 * are cut into wire frames before any fault acts on them. The same
 * seed replays the same fault schedule for the same frame sequence. 0 or -ENOMEM. */
SK_API int sk_loop_set_faults(struct sk_loop *l, const struct sk_memlink_faults *to_stack,
                              const struct sk_memlink_faults *from_stack, uint64_t seed);
/* Every frame the kernel and the stack send is captured, before the faults act on it (the
 * loop does not own the capture). */
SK_API void sk_loop_set_pcap(struct sk_loop *l, struct sk_pcap *pcap);
/* CLOCK_MONOTONIC in microseconds. */
SK_API sk_time_us sk_loop_clock(void);
/* Several loops, one per thread, each on its own queue of one multi-queue TAP
 * (sk_tap_open_queue) with its own stack (same address and MAC, each with its own listeners):
 * every frame a loop reads is handed to the loop that owns its flow, by a keyed symmetric hash
 * of its 4-tuple (see src/link/loop.c), through a 1 MiB lock-free ring per (reader, owner)
 * pair; ARP frames to every loop. n is 1 to 64; a loop belongs to at most one group; the key
 * comes from getrandom(2). Allocates n * (n - 1) MiB. NULL with *err (-EINVAL, -ENOMEM, or
 * getrandom's) on failure. Free the group before its loops, after their threads stopped. A
 * loop in a group runs only on its own thread; the pcap, if shared, is written under a lock. */
struct sk_loop_group;
SK_API struct sk_loop_group *sk_loop_group_new(struct sk_loop *const *loops, unsigned n,
                                               int *err);
SK_API void sk_loop_group_free(struct sk_loop_group *g);
/* Waits at most max_wait_us (SK_TIME_NEVER: until something happens) for a frame, the
 * stack's next deadline or a wake-up, then feeds the stack every frame waiting and runs its
 * timers. Returns 1 if woken by sk_loop_wake, 0 otherwise, or a negative errno. */
SK_API int sk_loop_run_once(struct sk_loop *l, sk_time_us max_wait_us);
/* Makes a sleeping (or the next) sk_loop_run_once return. Async-signal-safe. */
SK_API void sk_loop_wake(struct sk_loop *l);
SK_API void sk_loop_get_stats(const struct sk_loop *l, struct sk_loop_stats *out);

#ifdef __cplusplus
}
#endif
#endif
