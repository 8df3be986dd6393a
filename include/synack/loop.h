/* synack: an event loop driving one stack on a TAP device, outside the core.
 *
 * It sleeps in poll() until a frame arrives, the stack's next deadline comes, or another
 * thread (or a signal handler) wakes it; it hands frames to sk_stack_input and runs
 * sk_stack_poll with CLOCK_MONOTONIC time in microseconds. Optionally every frame, in both
 * directions, passes the seeded faults of the in-memory link (synack/memlink.h) on its way,
 * and a pcap capture records every frame at its sender's side of those faults (so frames
 * the faults drop are in it).
 *
 * Set up: sk_loop_new, then give the stack's configuration output = sk_loop_output and
 * output_ctx = the loop, create the stack, sk_loop_set_stack. Then call sk_loop_run_once
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
/* The stack's output callback (ctx is the loop). */
SK_API void sk_loop_output(void *ctx, const uint8_t *frame, size_t len,
                          const struct sk_frame_meta *meta);
/* Faults on frames towards the stack (from the kernel) and from it; NULL for none. The same
 * seed replays the same fault schedule for the same frame sequence. 0 or -ENOMEM. */
SK_API int sk_loop_set_faults(struct sk_loop *l, const struct sk_memlink_faults *to_stack,
                              const struct sk_memlink_faults *from_stack, uint64_t seed);
/* Every frame the kernel and the stack send is captured, before the faults act on it (the
 * loop does not own the capture). */
SK_API void sk_loop_set_pcap(struct sk_loop *l, struct sk_pcap *pcap);
/* CLOCK_MONOTONIC in microseconds. */
SK_API sk_time_us sk_loop_clock(void);
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
