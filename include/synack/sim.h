/* synack: a two-host simulation on a virtual clock.
 *
 * Joins two stacks (side 0 "a", side 1 "b") with an sk_memlink and drives them from one
 * virtual clock: each step jumps to the earliest deadline of the stacks and the link. Used by
 * the scenario tests and `synack sim`. Deterministic for a given seed.
 */
#ifndef SYNACK_SIM_H
#define SYNACK_SIM_H

#include "synack/memlink.h"
#include "synack/stack.h"
#include "synack/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_sim {
    struct sk_stack *stack[2];
    struct sk_memlink *link;
    sk_time_us now;
    /* Trace events of both stacks go here with the side (0/1) that produced them. */
    void (*trace)(void *ctx, int side, const struct sk_trace_event *ev);
    void *trace_ctx;
    struct sk_pcap *pcap;   /* if set: every frame on the wire, at its send time */
    /* private */
    struct { struct sk_sim *sim; int side; } port_[2];
};

/* Creates both stacks from the two configurations (their output, trace and link_type are
 * taken over by the simulator: bare IP frames; the link offers each stack the offloads of its
 * caps, sk_memlink_set_caps) and a link seeded with seed. Time starts at
 * `start`. Returns 0 or a negative errno. */
SK_API int sk_sim_init(struct sk_sim *sim, const struct sk_config *a, const struct sk_config *b,
                       uint64_t seed, sk_time_us start);
SK_API void sk_sim_destroy(struct sk_sim *sim);

/* Advances to the next event (an arrival or a timer), but never past `limit`, and runs it.
 * Returns false when nothing is pending before limit (time is then set to limit). */
SK_API bool sk_sim_step(struct sk_sim *sim, sk_time_us limit);

/* Steps until done(ctx) is true (checked after every step) or time passes limit.
 * Returns true if done() became true. done may be NULL: run until idle or limit. */
SK_API bool sk_sim_run(struct sk_sim *sim, bool (*done)(void *ctx), void *ctx, sk_time_us limit);

#ifdef __cplusplus
}
#endif
#endif
