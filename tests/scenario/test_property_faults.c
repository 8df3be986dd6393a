/* Property: whatever a seeded hostile link does (loss up to 30 %, bursts, duplication,
 * reordering, corruption, delay, jitter, rate limits), data sent both ways at once arrives
 * byte-exact, both sides close cleanly, nothing stalls and memory stays bounded.
 *
 * Each schedule is drawn from its seed; a failure prints the seed and the schedule, and
 * SK_PROPERTY_SEED=N replays just that one. SK_PROPERTY_SCHEDULES=N runs N schedules
 * (default 1000; `make soak` runs many more).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synack/synack.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define PORT 5001

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uni(uint64_t *s) { return (double)(mix(s) >> 11) / 9007199254740992.0; }
static uint32_t upto(uint64_t *s, uint32_t n) { return n ? (uint32_t)(mix(s) % n) : 0; }

struct endpoint {
    struct sk_tcp *c;
    const uint8_t *out;   /* what this side sends */
    size_t out_len, sent;
    uint8_t *in;          /* what it received */
    size_t in_cap, got;
    bool shut, eof, closed;
};

struct schedule {
    struct sk_memlink_faults f[2];
    size_t bytes[2];
    uint32_t buf[2];
    uint16_t mtu;
    bool ts, sack, ws, nodelay;
    uint32_t delack_us;
};

static void draw(uint64_t seed, struct schedule *s)
{
    uint64_t r = seed * 0x2545f4914f6cdd1dULL + 1;
    memset(s, 0, sizeof(*s));
    for (int d = 0; d < 2; d++) {
        struct sk_memlink_faults *f = &s->f[d];
        f->loss = uni(&r) < 0.7 ? uni(&r) * 0.30 : 0;
        if (uni(&r) < 0.2) {
            f->burst_enter = uni(&r) * 0.05;
            f->burst_exit = 0.3 + uni(&r) * 0.5;
            f->burst_loss = 0.5 + uni(&r) * 0.5;
        }
        f->dup = uni(&r) < 0.3 ? uni(&r) * 0.1 : 0;
        f->reorder = uni(&r) < 0.3 ? uni(&r) * 0.2 : 0;
        f->reorder_us = upto(&r, 30000);
        f->corrupt = uni(&r) < 0.3 ? uni(&r) * 0.05 : 0;
        f->delay_us = 100 + upto(&r, 50000);
        f->jitter_us = uni(&r) < 0.3 ? upto(&r, 10000) : 0;
        f->rate_bps = uni(&r) < 0.3 ? 1000000ull * (1 + upto(&r, 100)) : 0;
        s->bytes[d] = uni(&r) < 0.1 ? 0 : upto(&r, uni(&r) < 0.2 ? 300000 : 40000);
        s->buf[d] = 2048u + upto(&r, 96 * 1024);
    }
    s->mtu = (uint16_t)(576 + upto(&r, 1500 - 576 + 1));
    s->ts = uni(&r) < 0.7;
    s->sack = uni(&r) < 0.7;
    s->ws = uni(&r) < 0.7;
    s->nodelay = uni(&r) < 0.3;
    s->delack_us = uni(&r) < 0.2 ? 0 : 40000;
}

static void describe(uint64_t seed, const struct schedule *s)
{
    fprintf(stderr, "seed %llu: bytes %zu/%zu buf %u/%u mtu %u ts %d sack %d ws %d nodelay %d "
                    "delack %u\n", (unsigned long long)seed, s->bytes[0], s->bytes[1], s->buf[0],
            s->buf[1], s->mtu, s->ts, s->sack, s->ws, s->nodelay, s->delack_us);
    for (int d = 0; d < 2; d++)
        fprintf(stderr, "  %s: loss %.3f burst %.3f/%.3f/%.3f dup %.3f reorder %.3f/%uus corrupt "
                        "%.3f delay %uus jitter %uus rate %llu\n", d ? "b->a" : "a->b",
                s->f[d].loss, s->f[d].burst_enter, s->f[d].burst_exit, s->f[d].burst_loss,
                s->f[d].dup, s->f[d].reorder, s->f[d].reorder_us, s->f[d].corrupt,
                s->f[d].delay_us, s->f[d].jitter_us, (unsigned long long)s->f[d].rate_bps);
}

static void pump(struct endpoint *e)
{
    if (e->c == NULL || e->closed)
        return;
    enum sk_tcp_state st = sk_tcp_get_state(e->c);
    if (st == SK_TCP_SYN_SENT || st == SK_TCP_SYN_RECEIVED)
        return;
    while (e->sent < e->out_len) {
        ssize_t n = sk_tcp_send(e->c, e->out + e->sent, e->out_len - e->sent);
        if (n <= 0)
            break;
        e->sent += (size_t)n;
    }
    if (e->sent == e->out_len && !e->shut) {
        e->shut = true;
        sk_tcp_shutdown(e->c);
    }
    for (;;) {
        uint8_t tmp[8192];
        ssize_t n = sk_tcp_recv(e->c, tmp, sizeof(tmp));
        if (n > 0) {
            if (e->got + (size_t)n <= e->in_cap)
                memcpy(e->in + e->got, tmp, (size_t)n);
            e->got += (size_t)n;
            continue;
        }
        if (n == 0)
            e->eof = true;
        break;
    }
    if (e->eof && e->shut && !e->closed && sk_tcp_error(e->c) == 0) {
        /* Close once our data is acknowledged too, so the close itself is exercised. */
        if (sk_tcp_get_state(e->c) == SK_TCP_TIME_WAIT || sk_tcp_get_state(e->c) == SK_TCP_CLOSED) {
            e->closed = true;
            sk_tcp_close(e->c);
        }
    }
}

/* SK_PROPERTY_TRACE=1 prints every event of a replayed schedule. */
static void print_event(void *ctx, int side, const struct sk_trace_event *ev)
{
    (void)ctx;
    char fl[48];
    const char *who = side ? "b" : "a";
    switch (ev->kind) {
    case SK_TRACE_SEG_OUT:
    case SK_TRACE_SEG_IN:
        fprintf(stderr, "%10.3f %s %s %-12s seq=%u ack=%u wnd=%u len=%u sack=%u\n", ev->time / 1e3,
                who, ev->kind == SK_TRACE_SEG_OUT ? "out" : "in ",
                sk_tcp_flags_str(ev->u.seg.flags, fl, sizeof(fl)), ev->u.seg.seq, ev->u.seg.ack,
                ev->u.seg.wnd, ev->u.seg.len, ev->u.seg.nsack);
        break;
    case SK_TRACE_STATE:
        fprintf(stderr, "%10.3f %s state %s -> %s\n", ev->time / 1e3, who,
                sk_tcp_state_name(ev->u.state.from), sk_tcp_state_name(ev->u.state.to));
        break;
    case SK_TRACE_TIMER:
        fprintf(stderr, "%10.3f %s timer %s\n", ev->time / 1e3, who, sk_timer_name(ev->u.timer.timer));
        break;
    case SK_TRACE_DROP:
        fprintf(stderr, "%10.3f %s drop %s\n", ev->time / 1e3, who,
                sk_drop_reason_name(ev->u.drop.reason));
        break;
    case SK_TRACE_ERROR:
        fprintf(stderr, "%10.3f %s error %d\n", ev->time / 1e3, who, ev->u.error.err);
        break;
    }
}

/* Runs one schedule; returns NULL on success or a description of what went wrong. */
static const char *run_one(uint64_t seed, const struct schedule *s)
{
    static char why[256];
    struct sk_config ca, cb;
    sk_config_default(&ca);
    sk_config_default(&cb);
    ca.addr = ADDR_A;
    cb.addr = ADDR_B;
    ca.random_seed = seed * 2 + 1;
    cb.random_seed = seed * 2 + 2;
    struct sk_config *cs[2] = {&ca, &cb};
    for (int i = 0; i < 2; i++) {
        cs[i]->mtu = s->mtu;
        cs[i]->sndbuf_bytes = s->buf[i];
        cs[i]->rcvbuf_bytes = s->buf[1 - i];
        cs[i]->opt_timestamps = s->ts;
        cs[i]->opt_sack = s->sack;
        cs[i]->opt_wscale = s->ws;
        cs[i]->delack_us = s->delack_us;
        cs[i]->rto_min_us = 200000;
        /* 30 % loss both ways loses a SYN and its answers often: allow many retries. */
        cs[i]->syn_retries = 20;
        cs[i]->synack_retries = 20;
        cs[i]->data_retries = 30;
        cs[i]->max_buffer_bytes = 1u << 20;
    }
    struct sk_sim sim;
    if (sk_sim_init(&sim, &ca, &cb, seed, 0) != 0)
        return "sim init failed";
    if (getenv("SK_PROPERTY_TRACE"))
        sim.trace = print_event;
    sk_memlink_set_faults(sim.link, 0, &s->f[0]);
    sk_memlink_set_faults(sim.link, 1, &s->f[1]);

    uint8_t *data[2], *recv[2];
    for (int i = 0; i < 2; i++) {
        data[i] = malloc(s->bytes[i] + 1);
        recv[i] = malloc(s->bytes[1 - i] + 1);
        uint64_t r = seed ^ (i + 77);
        for (size_t k = 0; k < s->bytes[i]; k++)
            data[i][k] = (uint8_t)mix(&r);
    }
    struct endpoint ep[2] = {
        {.out = data[0], .out_len = s->bytes[0], .in = recv[0], .in_cap = s->bytes[1]},
        {.out = data[1], .out_len = s->bytes[1], .in = recv[1], .in_cap = s->bytes[0]},
    };
    struct sk_tcp *l = NULL;
    const char *err = NULL;
    if (sk_tcp_listen(sim.stack[1], PORT, 8, &l) != 0 ||
        sk_tcp_connect(sim.stack[0], 0, ADDR_B, PORT, &ep[0].c) != 0) {
        err = "listen/connect failed";
        goto out;
    }
    sk_tcp_set_nodelay(ep[0].c, s->nodelay);
    /* Virtual time limit: generous for 30 % loss on a slow link, but finite: a stall fails. */
    const sk_time_us limit = 3600ull * 1000000;
    while (!(ep[0].closed && ep[1].closed)) {
        if (!sk_sim_step(&sim, limit))
            break;
        if (ep[1].c == NULL && sk_tcp_accept(l, &ep[1].c) == 0)
            sk_tcp_set_nodelay(ep[1].c, s->nodelay);
        pump(&ep[0]);
        pump(&ep[1]);
        for (int i = 0; i < 2; i++) {
            if (ep[i].c && !ep[i].closed && sk_tcp_error(ep[i].c) != 0) {
                snprintf(why, sizeof(why), "side %d: connection error %d in %s", i,
                         sk_tcp_error(ep[i].c), sk_tcp_state_name(sk_tcp_get_state(ep[i].c)));
                err = why;
                goto out;
            }
        }
        struct sk_stack_counters k;
        for (int i = 0; i < 2; i++) {
            sk_stack_counters(sim.stack[i], &k);
            if (k.buffer_bytes > (1u << 20) || k.connections > 3) {
                snprintf(why, sizeof(why), "side %d: memory bound broken", i);
                err = why;
                goto out;
            }
        }
    }
    if (!(ep[0].closed && ep[1].closed)) {
        for (int i = 0; i < 2; i++) {
            struct sk_tcp_info in;
            if (ep[i].c == NULL || ep[i].closed)
                continue;
            sk_tcp_get_info(ep[i].c, &in);
            fprintf(stderr, "  side %d: una %u nxt %u wnd %u rcv_nxt %u rcv_wnd %u sndbuf %u "
                            "rcvbuf %u cwnd %u rto %u\n", i, in.snd_una, in.snd_nxt, in.snd_wnd,
                    in.rcv_nxt, in.rcv_wnd, in.sndbuf_used, in.rcvbuf_used, in.cwnd, in.rto_us);
        }
        snprintf(why, sizeof(why), "stalled at %.3f s: a %s sent %zu/%zu got %zu/%zu, b %s sent "
                 "%zu/%zu got %zu/%zu", sim.now / 1e6,
                 ep[0].c ? sk_tcp_state_name(sk_tcp_get_state(ep[0].c)) : "-", ep[0].sent,
                 ep[0].out_len, ep[0].got, s->bytes[1],
                 ep[1].c ? sk_tcp_state_name(sk_tcp_get_state(ep[1].c)) : "-", ep[1].sent,
                 ep[1].out_len, ep[1].got, s->bytes[0]);
        err = why;
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        if (ep[i].got != s->bytes[1 - i] || memcmp(recv[i], data[1 - i], ep[i].got) != 0) {
            snprintf(why, sizeof(why), "side %d: received %zu bytes, expected %zu, %s", i,
                     ep[i].got, s->bytes[1 - i], ep[i].got == s->bytes[1 - i] ? "differ" : "");
            err = why;
            goto out;
        }
    }
    /* Everything drains: TIME-WAIT ends and no TCB is left behind. */
    sk_tcp_close(l);
    l = NULL;
    sk_sim_run(&sim, NULL, NULL, sim.now + 3600ull * 1000000);
    for (int i = 0; i < 2; i++) {
        struct sk_stack_counters k;
        sk_stack_counters(sim.stack[i], &k);
        if (k.connections != 0 || k.buffer_bytes != 0) {
            snprintf(why, sizeof(why), "side %d: %u TCBs, %llu buffer bytes left after drain", i,
                     k.connections, (unsigned long long)k.buffer_bytes);
            err = why;
            goto out;
        }
    }
out:
    if (l)
        sk_tcp_close(l);
    sk_sim_destroy(&sim);
    for (int i = 0; i < 2; i++) {
        free(data[i]);
        free(recv[i]);
    }
    return err;
}

static void test_random_fault_schedules(void **state)
{
    (void)state;
    uint64_t first = 1, count = 1000;
    const char *e = getenv("SK_PROPERTY_SCHEDULES");
    if (e)
        count = strtoull(e, NULL, 10);
    e = getenv("SK_PROPERTY_SEED");
    if (e) {
        first = strtoull(e, NULL, 10);
        count = 1;
    }
    unsigned failed = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        struct schedule s;
        draw(seed, &s);
        const char *err = run_one(seed, &s);
        if (err) {
            failed++;
            describe(seed, &s);
            fprintf(stderr, "  FAILED: %s (replay: SK_PROPERTY_SEED=%llu)\n", err,
                    (unsigned long long)seed);
        }
    }
    fprintf(stderr, "%llu schedules, %u failed\n", (unsigned long long)count, failed);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_fault_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
