/* A runner driving two stacks joined by the in-memory link, in real time: the threaded
 * counterpart of sk_sim (synack/sim.h), for tests and examples of blocking programs. */
#include <string.h>

#include "synack/blocking.h"
#include "synack/loop.h"

static void pair_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    const struct sk_runner_pair_port *port = ctx;
    struct sk_runner_pair *p = port->pair;
    sk_memlink_send(p->link, port->side, frame, len, sk_stack_now(p->stack[port->side]));
}

static void pair_deliver(void *ctx, int side, const uint8_t *frame, size_t len, sk_time_us now)
{
    struct sk_runner_pair *p = ctx;
    sk_stack_input(p->stack[side], frame, len, now);
}

static sk_time_us min_time(sk_time_us a, sk_time_us b)
{
    return a < b ? a : b;
}

static sk_time_us pair_run(void *ctx, sk_time_us now)
{
    struct sk_runner_pair *p = ctx;
    sk_memlink_deliver(p->link, now, pair_deliver, p);
    sk_time_us next = sk_stack_poll(p->stack[0], now);
    next = min_time(next, sk_stack_poll(p->stack[1], now));
    return min_time(next, sk_memlink_next_deadline(p->link));
}

int sk_runner_pair_start(struct sk_runner_pair *p, const struct sk_config *a,
                         const struct sk_config *b, const struct sk_memlink_faults *faults,
                         uint64_t seed)
{
    memset(p, 0, sizeof(*p));
    p->link = sk_memlink_new(seed);
    if (p->link == NULL)
        return -ENOMEM;
    struct sk_memlink_faults clean = {.delay_us = 100};
    for (int side = 0; side < 2; side++)
        sk_memlink_set_faults(p->link, side, faults ? faults : &clean);
    sk_time_us now = sk_runner_clock();
    const struct sk_config *cfgs[2] = {a, b};
    for (int side = 0; side < 2; side++) {
        struct sk_config c = *cfgs[side];
        c.link_type = SK_LINK_IP;
        c.output = pair_output;
        p->port_[side].pair = p;
        p->port_[side].side = side;
        c.output_ctx = &p->port_[side];
        int err = 0;
        /* Real time is not replayable, so a seed buys nothing here: a configuration that
         * brings no key material gets the OS's (the caller's own, or a test seed, is kept). */
        if (c.secret_source == SK_SECRET_NONE && (err = sk_config_secret_from_os(&c)) != 0) {
            sk_stack_free(p->stack[0]);
            sk_memlink_free(p->link);
            return err;
        }
        p->stack[side] = sk_stack_new(&c, now, &err);
        if (p->stack[side] == NULL) {
            sk_stack_free(p->stack[0]);
            sk_memlink_free(p->link);
            return err ? err : -EINVAL;
        }
    }
    p->drv_ = (struct sk_runner_driver){.run = pair_run, .ctx = p};
    int err = sk_runner_start(&p->drv_, &p->runner);
    if (err != 0) {
        sk_stack_free(p->stack[0]);
        sk_stack_free(p->stack[1]);
        sk_memlink_free(p->link);
    }
    return err;
}

void sk_runner_pair_stop(struct sk_runner_pair *p)
{
    sk_runner_stop(p->runner);
    sk_stack_free(p->stack[0]);
    sk_stack_free(p->stack[1]);
    sk_memlink_free(p->link);
    memset(p, 0, sizeof(*p));
}
