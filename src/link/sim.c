/* synack: two stacks, one in-memory link, one virtual clock.
 *
 * Outside the core. The simulator owns the clock: each step jumps to the earliest deadline of
 * the two stacks and the link, delivers the frames due, then runs both stacks' timers at that
 * time. Nothing here reads a real clock, so a run depends only on the configurations and the
 * seed.
 *
 * Each stack's output and trace callbacks get &sim->port_[side] as their context: that is how
 * a callback knows which side spoke. The simulator must therefore stay at one address between
 * sk_sim_init and sk_sim_destroy.
 */
#include "synack/sim.h"

#include <errno.h>
#include <string.h>

#include "synack/pcap.h"

/* A step that does not move the clock is normal (several events at one instant), but a stack
 * that keeps reporting a deadline of `now` without ever clearing it would spin sk_sim_run
 * forever. After this many steps at one instant sk_sim_run gives up and returns false. */
#define SIM_MAX_STEPS_AT_ONE_TIME 1000000u

/* ctx is &sim->port_[side]. Its first member is the sim pointer, and a pointer to a struct,
 * converted, points to its first member (C11 6.7.2.1p15), so this reads it without naming the
 * port's anonymous type. */
static struct sk_sim *port_sim(void *ctx, int *side) {
    struct sk_sim *sim = *(struct sk_sim **)ctx;
    *side = ctx == (void *)&sim->port_[1] ? 1 : 0;
    return sim;
}

static void sim_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta) {
    int side;
    struct sk_sim *sim = port_sim(ctx, &side);
    /* The frame leaves at the sending stack's time. Until sk_stack_new has returned there is
     * no stack to ask (stacks do not send while being created, but be safe). */
    sk_time_us now = sim->stack[side] ? sk_stack_now(sim->stack[side]) : sim->now;
    /* sim->pcap is a public field the caller may set or clear at any time, and frames can be
     * sent outside sk_sim_step (a connect call): hand the link the current one on every send. */
    sk_memlink_set_pcap(sim->link, sim->pcap);
    sk_memlink_send_meta(sim->link, side, frame, len, meta, now);
}

static void sim_trace(void *ctx, const struct sk_trace_event *ev) {
    int side;
    struct sk_sim *sim = port_sim(ctx, &side);
    if (sim->trace)
        sim->trace(sim->trace_ctx, side, ev);
}

static void sim_deliver(void *ctx, int side, const uint8_t *frame, size_t len,
                        const struct sk_frame_meta *meta, sk_time_us now) {
    struct sk_sim *sim = ctx;
    sk_stack_input_meta(sim->stack[side], frame, len, meta, now);
}

/* Clears *sim first: set trace, trace_ctx and pcap after init. */
int sk_sim_init(struct sk_sim *sim, const struct sk_config *a, const struct sk_config *b,
                uint64_t seed, sk_time_us start) {
    if (!sim || !a || !b)
        return -EINVAL;
    memset(sim, 0, sizeof(*sim));
    sim->now = start;
    sim->link = sk_memlink_new(seed);
    if (!sim->link)
        return -ENOMEM;

    const struct sk_config *cfgs[2] = {a, b};
    for (int side = 0; side < 2; side++) {
        sim->port_[side].sim = sim;
        sim->port_[side].side = side;
        struct sk_config cfg = *cfgs[side];
        cfg.link_type = SK_LINK_IP;
        /* The link offers each stack the offloads its configuration asks for. */
        sk_memlink_set_caps(sim->link, side, &cfg.caps, 0);
        cfg.output = sim_output;
        cfg.output_ctx = &sim->port_[side];
        /* Always installed, so a trace set after init is seen; it forwards only if set. */
        cfg.trace = sim_trace;
        cfg.trace_ctx = &sim->port_[side];
        int err = 0;
        sim->stack[side] = sk_stack_new(&cfg, start, &err);
        if (!sim->stack[side]) {
            sk_sim_destroy(sim);
            return err ? err : -ENOMEM;
        }
    }
    return 0;
}

void sk_sim_destroy(struct sk_sim *sim) {
    if (!sim)
        return;
    for (int side = 0; side < 2; side++) {
        if (sim->stack[side])
            sk_stack_free(sim->stack[side]);
        sim->stack[side] = NULL;
    }
    sk_memlink_free(sim->link);
    sim->link = NULL;
    /* sim->pcap belongs to the caller, who closes it. */
}

static sk_time_us min_time(sk_time_us x, sk_time_us y) {
    return x < y ? x : y;
}

bool sk_sim_step(struct sk_sim *sim, sk_time_us limit) {
    sk_time_us next = min_time(sk_memlink_next_deadline(sim->link),
                               min_time(sk_stack_next_deadline(sim->stack[0]),
                                        sk_stack_next_deadline(sim->stack[1])));
    if (next == SK_TIME_NEVER || next > limit) {
        /* Idle until limit: the clock moves there (never backwards). The stacks are brought
         * along so that a call made now (a connect, a send) acts at the simulator's time;
         * nothing of theirs is due before limit, so no timer runs. */
        if (limit != SK_TIME_NEVER && limit > sim->now) {
            sim->now = limit;
            sk_stack_poll(sim->stack[0], sim->now);
            sk_stack_poll(sim->stack[1], sim->now);
        }
        return false;
    }
    if (next > sim->now)
        sim->now = next;
    /* Arrivals first, then timers: a frame that arrives at the instant a timer fires (an ACK at
     * the RTO) is seen before the timer, as a host would see it if it came just before. */
    sk_memlink_deliver_meta(sim->link, sim->now, sim_deliver, sim);
    sk_stack_poll(sim->stack[0], sim->now);
    sk_stack_poll(sim->stack[1], sim->now);
    return true;
}

bool sk_sim_run(struct sk_sim *sim, bool (*done)(void *ctx), void *ctx, sk_time_us limit) {
    if (done && done(ctx))
        return true;
    sk_time_us last = sim->now;
    uint32_t steps_at_last = 0;
    while (sk_sim_step(sim, limit)) {
        if (done && done(ctx))
            return true;
        if (sim->now != last) {
            last = sim->now;
            steps_at_last = 0;
        } else if (++steps_at_last > SIM_MAX_STEPS_AT_ONE_TIME) {
            return false; /* a deadline that never clears: see SIM_MAX_STEPS_AT_ONE_TIME */
        }
    }
    /* The idle step may have polled the stacks at limit: look once more. */
    return done && done(ctx);
}
