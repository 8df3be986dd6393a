/* Differential test of header prediction (sk_config.tcp_fast_path, src/tcp/tcp_input.c).
 *
 * The fast path may only save instructions: every frame either stack puts on the wire, every
 * byte delivered and every counter must be the same with it on and off. Each seeded schedule
 * (bulk one way or both, loss, reordering, duplication, jitter, a slow or stop-and-go reader
 * behind a small window, timestamps, SACK and window scaling on or off, delayed ACKs or not,
 * several MSS) runs twice in the simulator from the same seeds, fast path off then on; the
 * traces are compared event by event (every frame out and in with its side, virtual time and
 * bytes, every state change, timer fired, drop and error), and so are the streams read
 * (byte-exact against the pattern, the same amounts at the same times) and all of both
 * stacks' counters except the two that count the fast path. Those must be zero with it off,
 * and must show it taken (both kinds) over the whole set, or the comparison proved nothing.
 *
 * SK_FASTPATH_SEEDS=N runs N schedules (default 400); SK_FASTPATH_SEED=N replays one.
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
#include "torture.h"

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uni(uint64_t *s) { return (double)(mix(s) >> 11) / 9007199254740992.0; }
static uint32_t upto(uint64_t *s, uint32_t n) { return n ? (uint32_t)(mix(s) % n) : 0; }

struct schedule {
    bool ts, sack, ws, delack_off, ecn, keep_open;
    uint16_t mtu;
    uint32_t buf;
    uint64_t bytes[2];
    struct sk_memlink_faults f[2];
    struct tt_reader rd[2];
};

static void draw(uint64_t seed, struct schedule *s)
{
    uint64_t r = seed * 0x2545f4914f6cdd1dULL + 7;
    memset(s, 0, sizeof(*s));
    s->ts = uni(&r) < 0.6;
    s->sack = uni(&r) < 0.6;
    s->ws = uni(&r) < 0.7;
    s->delack_off = uni(&r) < 0.2;
    s->ecn = uni(&r) < 0.2;
    /* Half the runs shut each side down once its stream is sent (the other side then runs in
     * CLOSE-WAIT or FIN-WAIT-2, where nothing is predicted); half keep both ESTABLISHED. */
    s->keep_open = uni(&r) < 0.5;
    static const uint16_t mtus[] = {576, 1500, 1500, 9000};
    s->mtu = mtus[upto(&r, 4)];
    static const uint32_t bufs[] = {8192, 20000, 65536, 262144};
    s->buf = bufs[upto(&r, 4)];
    /* Bulk one way, the other, or both at once. */
    int dirs = (int)upto(&r, 3);
    for (int d = 0; d < 2; d++) {
        bool on = dirs == 2 || dirs == d;
        s->bytes[d] = on ? 20000 + upto(&r, 1500000) : upto(&r, 3000);
        struct sk_memlink_faults *f = &s->f[d];
        f->delay_us = 100 + upto(&r, 20000);
        if (uni(&r) < 0.5)
            f->loss = uni(&r) * 0.05;
        if (uni(&r) < 0.3) {
            f->reorder = uni(&r) * 0.05;
            f->reorder_us = 1000 + upto(&r, 10000);
        }
        if (uni(&r) < 0.2)
            f->dup = uni(&r) * 0.02;
        if (uni(&r) < 0.2)
            f->jitter_us = upto(&r, 2000);
        if (uni(&r) < 0.3)
            f->rate_bps = 10000000ull + upto(&r, 200000000);
        /* Readers: as fast as possible, N bytes every T ms (window-limited), or stop-and-go. */
        struct tt_reader *rd = &s->rd[d];
        uint32_t kind = upto(&r, 3);
        if (kind >= 1) {
            rd->bytes = 500 + upto(&r, 8000);
            rd->every_us = 1000 + upto(&r, 20000);
        }
        if (kind == 2) {
            rd->go_us = 50000 + upto(&r, 200000);
            rd->stop_us = 50000 + upto(&r, 500000);
        }
    }
}

/* The trace of a run, one 64-bit FNV-1a hash per event. */
struct wire {
    uint64_t *h;
    size_t n, cap;
    void (*prev)(void *ctx, int side, const struct sk_trace_event *ev);
    void *prev_ctx;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Every trace event of both stacks: frames out and in, state changes, timers fired, drops and
 * errors, each hashed with its side, kind, time, connection id, its own fields and its frame. */
static void on_trace(void *ctx, int side, const struct sk_trace_event *ev)
{
    struct wire *w = ctx;
    w->prev(w->prev_ctx, side, ev);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 4096;
        w->h = realloc(w->h, w->cap * sizeof(*w->h));
        assert_non_null(w->h);
    }
    int32_t f[4] = {side, (int32_t)ev->kind, 0, 0};
    switch (ev->kind) {
    case SK_TRACE_STATE:
        f[2] = (int32_t)ev->u.state.from;
        f[3] = (int32_t)ev->u.state.to;
        break;
    case SK_TRACE_TIMER:
        f[2] = (int32_t)ev->u.timer.timer;
        break;
    case SK_TRACE_DROP:
        f[2] = (int32_t)ev->u.drop.reason;
        break;
    case SK_TRACE_ERROR:
        f[2] = ev->u.error.err;
        break;
    default:
        break;
    }
    uint64_t h = fnv(0xcbf29ce484222325ULL, f, sizeof(f));
    h = fnv(h, &ev->time, sizeof(ev->time));
    h = fnv(h, &ev->conn_id, sizeof(ev->conn_id));
    if (ev->frame)
        h = fnv(h, ev->frame, ev->frame_len);
    w->h[w->n++] = h;
}

struct outcome {
    struct wire wire;
    bool done;
    sk_time_us done_at, last_read_at[2];
    uint64_t got[2], bad_at[2];
    int error[2];
    struct sk_stack_counters k[2];
};

static void run(uint64_t seed, const struct schedule *s, bool fast, struct outcome *o)
{
    struct sk_config cfg[2];
    for (int i = 0; i < 2; i++) {
        tt_config(&cfg[i], i, s->buf, s->mtu, 7);
        cfg[i].opt_timestamps = s->ts;
        cfg[i].opt_sack = s->sack;
        cfg[i].opt_wscale = s->ws;
        cfg[i].ecn = s->ecn ? 1 : 2;
        if (s->delack_off)
            cfg[i].delack_us = 0;
        cfg[i].tcp_fast_path = fast;
    }
    memset(o, 0, sizeof(*o));
    struct tt_run *r = tt_new(&cfg[0], &cfg[1], seed, s->f[0].delay_us);
    r->keep_open = s->keep_open;
    o->wire.prev = r->sim.trace;
    o->wire.prev_ctx = r->sim.trace_ctx;
    r->sim.trace = on_trace;
    r->sim.trace_ctx = &o->wire;
    for (int d = 0; d < 2; d++) {
        tt_faults(r, d, &s->f[d]);
        r->s[d].rd = s->rd[d];
        tt_stream(r, d, seed * 2 + (uint64_t)d, s->bytes[d]);
    }
    o->done = tt_transfer(r, r->sim.now + 3600ull * 1000000);
    o->done_at = r->done_at;
    for (int i = 0; i < 2; i++) {
        o->got[i] = r->s[i].got;
        o->bad_at[i] = r->s[i].bad_at;
        o->error[i] = r->s[i].error;
        o->last_read_at[i] = r->s[i].last_read_at;
        sk_stack_counters(r->sim.stack[i], &o->k[i]);
    }
    tt_free(r);
}

static uint64_t total_acks, total_data, total_segs_in;

/* Returns the number of differences found (and prints them). */
static int compare_one(uint64_t seed)
{
    struct schedule s;
    draw(seed, &s);
    struct outcome off, on;
    run(seed, &s, false, &off);
    run(seed, &s, true, &on);
    int bad = 0;
    if (!off.done || !on.done) {
        fprintf(stderr, "seed %llu: transfer did not finish (off %d, on %d)\n",
                (unsigned long long)seed, off.done, on.done);
        bad++;
    }
    size_t n = off.wire.n < on.wire.n ? off.wire.n : on.wire.n;
    for (size_t i = 0; i < n; i++)
        if (off.wire.h[i] != on.wire.h[i]) {
            fprintf(stderr, "seed %llu: trace event %zu differs\n", (unsigned long long)seed, i);
            bad++;
            break;
        }
    if (off.wire.n != on.wire.n) {
        fprintf(stderr, "seed %llu: %zu trace events off, %zu on\n", (unsigned long long)seed,
                off.wire.n, on.wire.n);
        bad++;
    }
    if (off.done_at != on.done_at)
        bad++;
    for (int i = 0; i < 2; i++) {
        /* What each side read: the other's stream, byte-exact, the same amount by the same
         * time. */
        if (on.bad_at[i] != UINT64_MAX || off.bad_at[i] != UINT64_MAX ||
            on.got[i] != s.bytes[1 - i] || off.got[i] != s.bytes[1 - i] ||
            on.last_read_at[i] != off.last_read_at[i] || on.error[i] != off.error[i]) {
            fprintf(stderr, "seed %llu side %d: read %llu/%llu bad_at %lld (fast path off: "
                            "%llu, %lld)\n", (unsigned long long)seed, i,
                    (unsigned long long)on.got[i], (unsigned long long)s.bytes[1 - i],
                    (long long)on.bad_at[i], (unsigned long long)off.got[i],
                    (long long)off.bad_at[i]);
            bad++;
        }
        if (off.k[i].tcp_fastpath_acks || off.k[i].tcp_fastpath_data) {
            fprintf(stderr, "seed %llu: fast path taken while off\n", (unsigned long long)seed);
            bad++;
        }
        total_acks += on.k[i].tcp_fastpath_acks;
        total_data += on.k[i].tcp_fastpath_data;
        total_segs_in += on.k[i].tcp_segs_in;
        on.k[i].tcp_fastpath_acks = on.k[i].tcp_fastpath_data = 0;
        if (memcmp(&on.k[i], &off.k[i], sizeof(on.k[i])) != 0) {
            fprintf(stderr, "seed %llu side %d: counters differ\n", (unsigned long long)seed, i);
            bad++;
        }
    }
    if (bad)
        fprintf(stderr, "seed %llu: ts %d sack %d ws %d delack_off %d ecn %d mtu %u buf %u "
                        "bytes %llu/%llu loss %.3f/%.3f reorder %.3f/%.3f\n",
                (unsigned long long)seed, s.ts, s.sack, s.ws, s.delack_off, s.ecn, s.mtu, s.buf,
                (unsigned long long)s.bytes[0], (unsigned long long)s.bytes[1], s.f[0].loss,
                s.f[1].loss, s.f[0].reorder, s.f[1].reorder);
    free(off.wire.h);
    free(on.wire.h);
    return bad;
}

static void test_fast_path_changes_nothing_on_the_wire(void **state)
{
    (void)state;
    const char *one = getenv("SK_FASTPATH_SEED");
    const char *count = getenv("SK_FASTPATH_SEEDS");
    uint64_t first = one ? strtoull(one, NULL, 0) : 1;
    uint64_t n = one ? 1 : (count ? strtoull(count, NULL, 0) : 400);
    int bad = 0;
    for (uint64_t seed = first; seed < first + n; seed++)
        bad += compare_one(seed);
    fprintf(stderr, "%llu schedules: %llu segments in, fast path %llu ACKs, %llu data\n",
            (unsigned long long)n, (unsigned long long)total_segs_in,
            (unsigned long long)total_acks, (unsigned long long)total_data);
    assert_int_equal(bad, 0);
    /* It was taken, both kinds: otherwise the comparison above compared the slow path with
     * itself. */
    assert_true(total_acks > 0);
    assert_true(total_data > 0);
}

/* A lossless bulk transfer one way with timestamps, both sides ESTABLISHED: nearly every
 * segment is predicted, the receiver's in-order data and the sender's ACKs of new data. */
static void test_fast_path_takes_bulk_transfer(void **state)
{
    (void)state;
    struct sk_config cfg[2];
    for (int i = 0; i < 2; i++)
        tt_config(&cfg[i], i, 65536, 1500, 7);
    struct tt_run *r = tt_new(&cfg[0], &cfg[1], 99, 1000);
    r->keep_open = true; /* both ESTABLISHED throughout */
    tt_stream(r, 0, 5, 10u << 20);
    tt_stream(r, 1, 6, 0);
    assert_true(tt_transfer(r, r->sim.now + 600ull * 1000000));
    struct sk_stack_counters ka, kb;
    sk_stack_counters(r->sim.stack[0], &ka);
    sk_stack_counters(r->sim.stack[1], &kb);
    assert_int_equal(r->s[1].bad_at, UINT64_MAX);
    /* 10 MiB in segments of at most 1448 bytes (MSS 1460 less 12 for the timestamp): at
     * least 7242 data segments, 9/10 of them predicted at least. */
    uint64_t segs = ((10u << 20) + 1447) / 1448;
    fprintf(stderr, "receiver: %llu segments in, %llu fast data; sender: %llu in, %llu fast "
                    "ACKs\n", (unsigned long long)kb.tcp_segs_in,
            (unsigned long long)kb.tcp_fastpath_data, (unsigned long long)ka.tcp_segs_in,
            (unsigned long long)ka.tcp_fastpath_acks);
    assert_true(kb.tcp_fastpath_data >= segs * 9 / 10);
    assert_true(ka.tcp_fastpath_acks >= ka.tcp_segs_in * 8 / 10);
    /* Both counters are in the formatted list, with their values. */
    char buf[8192], line[64];
    assert_true(sk_stack_counters_format(r->sim.stack[1], buf, sizeof(buf)) < (int)sizeof(buf));
    snprintf(line, sizeof(line), "tcp_fastpath_data %llu\n",
             (unsigned long long)kb.tcp_fastpath_data);
    assert_non_null(strstr(buf, line));
    assert_true(sk_stack_counters_format(r->sim.stack[0], buf, sizeof(buf)) < (int)sizeof(buf));
    snprintf(line, sizeof(line), "tcp_fastpath_acks %llu\n",
             (unsigned long long)ka.tcp_fastpath_acks);
    assert_non_null(strstr(buf, line));
    tt_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fast_path_changes_nothing_on_the_wire, tt_teardown),
        cmocka_unit_test_teardown(test_fast_path_takes_bulk_transfer, tt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
