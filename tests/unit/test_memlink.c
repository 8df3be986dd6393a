/* Tests of the in-memory link: seeded schedules replay exactly, each fault does what
 * memlink.h says and nothing else, rules hit exactly the nth matching frame, and the capture
 * sees what went on the wire. Depends only on memlink and the pcap writer, not on the core.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "synack/memlink.h"
#include "synack/pcap.h"
#include "synack/trace.h"

/* ---- frames ---- */

/* A 40-byte IPv4/TCP frame (no options, no payload) with the given TCP flags; `id` goes in the
 * IP identification field so a test can tell frames apart. Checksums are irrelevant here. */
static size_t tcp_frame(uint8_t *d, uint8_t flags, uint16_t id) {
    memset(d, 0, 40);
    d[0] = 0x45;
    d[3] = 40;
    d[4] = (uint8_t)(id >> 8);
    d[5] = (uint8_t)id;
    d[8] = 64;
    d[9] = 6;
    d[20 + 12] = 5 << 4; /* data offset: 20 bytes */
    d[20 + 13] = flags;
    return 40;
}

/* The same with UDP as the protocol: not TCP, whatever sits at byte 33. */
static size_t udp_frame(uint8_t *d, uint16_t id) {
    tcp_frame(d, SK_TCP_SYN, id);
    d[9] = 17;
    return 40;
}

static uint16_t frame_id(const uint8_t *d) {
    return (uint16_t)(d[4] << 8 | d[5]);
}

/* A frame of len bytes whose content is derived from n, to compare byte for byte. */
static void pattern_frame(uint8_t *d, size_t len, uint32_t n) {
    for (size_t i = 0; i < len; i++)
        d[i] = (uint8_t)(n * 131u + i * 7u + (i >> 8));
}

/* ---- recording what arrives ---- */

struct arrival {
    int side;
    sk_time_us now;
    size_t len;
    uint8_t bytes[64]; /* the first 64 bytes */
    uint64_t hash;     /* FNV-1a of the whole frame */
};

struct recorder {
    struct arrival *a;
    size_t n, cap;
    /* Optional: a link to echo arrivals back into, from inside the callback, at most
     * `answers` times (bounded, so a broken link fails the test instead of hanging it). */
    struct sk_memlink *answer_link;
    int answers;
};

static uint64_t fnv1a(const uint8_t *p, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void record(void *ctx, int side, const uint8_t *frame, size_t len, sk_time_us now) {
    struct recorder *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->a = realloc(r->a, r->cap * sizeof(*r->a));
        assert_non_null(r->a);
    }
    struct arrival *a = &r->a[r->n++];
    a->side = side;
    a->now = now;
    a->len = len;
    memset(a->bytes, 0, sizeof(a->bytes));
    memcpy(a->bytes, frame, len < sizeof(a->bytes) ? len : sizeof(a->bytes));
    a->hash = fnv1a(frame, len);
    if (r->answer_link && r->answers-- > 0)
        sk_memlink_send(r->answer_link, side, frame, len, now);
}

/* Runs the link like the simulator: jump to each arrival time and deliver what is due, so each
 * arrival is recorded with its exact arrival time. */
static void drain(struct sk_memlink *l, struct recorder *r) {
    sk_time_us t;
    while ((t = sk_memlink_next_deadline(l)) != SK_TIME_NEVER)
        sk_memlink_deliver(l, t, record, r);
}

static void recorder_free(struct recorder *r) {
    free(r->a);
    memset(r, 0, sizeof(*r));
}

static struct sk_memlink_faults every_fault(void) {
    struct sk_memlink_faults f = {0};
    f.loss = 0.05;
    f.burst_enter = 0.02;
    f.burst_exit = 0.3;
    f.burst_loss = 0.8;
    f.dup = 0.05;
    f.reorder = 0.05;
    f.reorder_us = 3000;
    f.corrupt = 0.05;
    f.delay_us = 1000;
    f.jitter_us = 500;
    f.rate_bps = 100000000;
    return f;
}

/* Sends 2000 frames from both sides with every fault on and records what arrives. */
static void run_schedule(uint64_t seed, const struct sk_memlink_faults *f0,
                         const struct sk_memlink_faults *f1, struct recorder *r) {
    struct sk_memlink *l = sk_memlink_new(seed);
    assert_non_null(l);
    sk_memlink_set_faults(l, 0, f0);
    sk_memlink_set_faults(l, 1, f1);
    uint8_t d[200];
    for (uint32_t i = 0; i < 2000; i++) {
        size_t len = 40 + i % 150;
        pattern_frame(d, len, i);
        sk_memlink_send(l, (int)(i & 1), d, len, (sk_time_us)i * 100);
        sk_memlink_deliver(l, (sk_time_us)i * 100, record, r);
    }
    drain(l, r);
    sk_memlink_free(l);
}

static bool same_arrivals(const struct recorder *a, const struct recorder *b, int side) {
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n && a->a[i].side != side)
            i++;
        while (j < b->n && b->a[j].side != side)
            j++;
        if (i == a->n || j == b->n)
            return i == a->n && j == b->n;
        if (a->a[i].now != b->a[j].now || a->a[i].len != b->a[j].len ||
            a->a[i].hash != b->a[j].hash)
            return false;
        i++;
        j++;
    }
}

/* ---- determinism ---- */

/* The same seed gives the same arrivals (times, order, bytes) twice; another seed does not. */
static void test_seed_replays_schedule(void **state) {
    (void)state;
    struct sk_memlink_faults f = every_fault();
    struct recorder r1 = {0}, r2 = {0}, r3 = {0};
    run_schedule(42, &f, &f, &r1);
    run_schedule(42, &f, &f, &r2);
    run_schedule(43, &f, &f, &r3);
    assert_true(r1.n > 1000);
    assert_int_equal(r1.n, r2.n);
    for (size_t i = 0; i < r1.n; i++) {
        assert_int_equal(r1.a[i].side, r2.a[i].side);
        assert_int_equal(r1.a[i].now, r2.a[i].now);
        assert_int_equal(r1.a[i].hash, r2.a[i].hash);
    }
    assert_false(same_arrivals(&r1, &r3, 0));
    assert_false(same_arrivals(&r1, &r3, 1));
    recorder_free(&r1);
    recorder_free(&r2);
    recorder_free(&r3);
}

/* Faults on one direction do not move the other direction's schedule. */
static void test_directions_are_independent(void **state) {
    (void)state;
    struct sk_memlink_faults f = every_fault(), none = {0}, heavy = every_fault();
    heavy.loss = 0.5;
    heavy.dup = 0.5;
    struct recorder r1 = {0}, r2 = {0};
    run_schedule(7, &f, &none, &r1);  /* side 0 -> 1 faulty, 1 -> 0 clean */
    run_schedule(7, &f, &heavy, &r2); /* same side 0, very different side 1 */
    assert_true(same_arrivals(&r1, &r2, 1)); /* arrivals at side 1 come from side 0 */
    assert_false(same_arrivals(&r1, &r2, 0));
    recorder_free(&r1);
    recorder_free(&r2);
}

/* ---- loss ---- */

/* Uniform loss 0.3 over 100,000 frames loses 30% +- 1%, and the rest all arrive. */
static void test_uniform_loss_rate(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(1);
    struct sk_memlink_faults f = {.loss = 0.3};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[40];
    tcp_frame(d, SK_TCP_ACK, 0);
    for (int i = 0; i < 100000; i++)
        sk_memlink_send(l, 0, d, sizeof(d), 0);
    size_t n = sk_memlink_deliver(l, 0, NULL, NULL);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.sent, 100000);
    assert_in_range(s.lost, 29000, 31000);
    assert_int_equal(s.delivered, 100000 - s.lost);
    assert_int_equal(n, s.delivered);
    sk_memlink_get_stats(l, 1, &s);
    assert_int_equal(s.sent, 0);
    sk_memlink_free(l);
}

/* Gilbert-Elliott with certain loss in the bad state: the long-run loss is the share of time
 * in the bad state, enter/(enter+exit), and losses come in runs of mean length 1/exit. */
static void test_burst_loss(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(2);
    struct sk_memlink_faults f = {.burst_enter = 0.01, .burst_exit = 0.1, .burst_loss = 1.0};
    sk_memlink_set_faults(l, 0, &f);
    struct recorder r = {0};
    uint8_t d[40];
    for (uint16_t i = 0; i < 60000; i++) {
        tcp_frame(d, SK_TCP_ACK, i);
        sk_memlink_send(l, 0, d, sizeof(d), i);
    }
    drain(l, &r);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    /* 0.01 / 0.11 = 9.1% */
    assert_in_range(s.lost, 60000 * 7 / 100, 60000 * 11 / 100);
    /* Count runs of lost frames: gaps in the ids that arrived. */
    size_t runs = 0;
    for (size_t i = 1; i < r.n; i++)
        if (frame_id(r.a[i].bytes) != (uint16_t)(frame_id(r.a[i - 1].bytes) + 1))
            runs++;
    double mean_run = (double)s.lost / (double)runs;
    assert_true(mean_run > 8.0 && mean_run < 12.0);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* ---- rules ---- */

/* A rule dropping the 2nd SYN drops exactly that frame: other flags and non-TCP frames that
 * look like SYNs do not count, and the other direction is untouched. */
static void test_rule_drops_nth_syn(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(3);
    struct sk_memlink_rule rule = {.from_side = 0, .tcp_flags_mask = SK_TCP_SYN | SK_TCP_ACK,
                                   .tcp_flags_value = SK_TCP_SYN, .nth = 2,
                                   .action = SK_MEMLINK_DROP};
    assert_int_equal(sk_memlink_add_rule(l, &rule), 0);
    uint8_t d[40];
    /* ids:       1    2        3         4    5        6    7 */
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_SYN, 1), 0);
    sk_memlink_send(l, 0, d, udp_frame(d, 2), 0);
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_SYN | SK_TCP_ACK, 3), 0);
    sk_memlink_send(l, 1, d, tcp_frame(d, SK_TCP_SYN, 4), 0);
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_SYN, 5), 0); /* the 2nd SYN from side 0 */
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_SYN, 6), 0);
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, 7), 0);
    struct recorder r = {0};
    drain(l, &r);
    static const uint16_t expect[] = {1, 2, 3, 4, 6, 7};
    assert_int_equal(r.n, 6);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(frame_id(r.a[i].bytes), expect[i]);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.rule_hits, 1);
    assert_int_equal(s.sent, 6);
    assert_int_equal(s.delivered, 5);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* nth = 0 acts on every match; mask 0 matches every frame, TCP or not. */
static void test_rule_every_match_and_mask_zero(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(4);
    struct sk_memlink_rule rst = {.from_side = 1, .tcp_flags_mask = SK_TCP_RST,
                                  .tcp_flags_value = SK_TCP_RST, .nth = 0,
                                  .action = SK_MEMLINK_DROP};
    struct sk_memlink_rule third = {.from_side = 0, .nth = 3, .action = SK_MEMLINK_DROP};
    assert_int_equal(sk_memlink_add_rule(l, &rst), 0);
    assert_int_equal(sk_memlink_add_rule(l, &third), 0);
    uint8_t d[40];
    for (uint16_t i = 1; i <= 4; i++) {
        sk_memlink_send(l, 1, d, tcp_frame(d, SK_TCP_RST | SK_TCP_ACK, i), 0);
        sk_memlink_send(l, 1, d, tcp_frame(d, SK_TCP_ACK, (uint16_t)(100 + i)), 0);
    }
    sk_memlink_send(l, 0, d, udp_frame(d, 201), 0);
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, 202), 0);
    sk_memlink_send(l, 0, d, udp_frame(d, 203), 0); /* 3rd frame of any kind: dropped */
    sk_memlink_send(l, 0, d, udp_frame(d, 204), 0);
    struct recorder r = {0};
    drain(l, &r);
    static const uint16_t expect[] = {101, 102, 103, 104, 201, 202, 204};
    assert_int_equal(r.n, 7);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(frame_id(r.a[i].bytes), expect[i]);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 1, &s);
    assert_int_equal(s.rule_hits, 4);
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.rule_hits, 1);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* DUP and DELAY rules: the 1st FIN arrives twice, the 1st data-less ACK arrives late. */
static void test_rule_dup_and_delay(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(5);
    struct sk_memlink_faults f = {.delay_us = 100};
    sk_memlink_set_faults(l, 0, &f);
    struct sk_memlink_rule dup = {.from_side = 0, .tcp_flags_mask = SK_TCP_FIN,
                                  .tcp_flags_value = SK_TCP_FIN, .nth = 1,
                                  .action = SK_MEMLINK_DUP};
    struct sk_memlink_rule delay = {.from_side = 0, .tcp_flags_mask = 0xff,
                                    .tcp_flags_value = SK_TCP_ACK, .nth = 1,
                                    .action = SK_MEMLINK_DELAY, .delay_us = 5000};
    assert_int_equal(sk_memlink_add_rule(l, &dup), 0);
    assert_int_equal(sk_memlink_add_rule(l, &delay), 0);
    uint8_t d[40];
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, 1), 10);
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_FIN | SK_TCP_ACK, 2), 20);
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, 3), 30);
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(frame_id(r.a[0].bytes), 2);
    assert_int_equal(r.a[0].now, 120);
    assert_int_equal(frame_id(r.a[1].bytes), 2);
    assert_int_equal(r.a[1].now, 120);
    assert_int_equal(frame_id(r.a[2].bytes), 3);
    assert_int_equal(r.a[2].now, 130);
    assert_int_equal(frame_id(r.a[3].bytes), 1);
    assert_int_equal(r.a[3].now, 5110);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.rule_hits, 2);
    assert_int_equal(s.duplicated, 1);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* At most 16 rules; a rule for a side that does not exist is refused. */
static void test_rule_limit(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(6);
    struct sk_memlink_rule r = {.from_side = 0, .nth = 1, .action = SK_MEMLINK_DROP};
    for (int i = 0; i < 16; i++)
        assert_int_equal(sk_memlink_add_rule(l, &r), 0);
    assert_int_equal(sk_memlink_add_rule(l, &r), -ENOSPC);
    sk_memlink_free(l);
    l = sk_memlink_new(6);
    r.from_side = 2;
    assert_int_equal(sk_memlink_add_rule(l, &r), -EINVAL);
    sk_memlink_free(l);
}

/* A truncated or odd IPv4 header never matches a TCP-flags rule and is never read beyond. */
static void test_rule_parses_defensively(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(7);
    struct sk_memlink_rule r = {.from_side = 0, .tcp_flags_mask = SK_TCP_SYN,
                                .tcp_flags_value = SK_TCP_SYN, .nth = 0,
                                .action = SK_MEMLINK_DROP};
    assert_int_equal(sk_memlink_add_rule(l, &r), 0);
    uint8_t d[40];
    tcp_frame(d, SK_TCP_SYN, 1);
    for (size_t len = 0; len < 34; len++) {
        /* Exact-size heap copies so ASan sees any read past the end. */
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, d, len);
        sk_memlink_send(l, 0, p, len, 0);
        free(p);
    }
    tcp_frame(d, SK_TCP_SYN, 2);
    d[0] = 0x4f; /* IHL 60 bytes: the TCP header would start past the frame */
    sk_memlink_send(l, 0, d, 40, 0);
    tcp_frame(d, SK_TCP_SYN, 3);
    d[0] = 0x44; /* IHL below 20 */
    sk_memlink_send(l, 0, d, 40, 0);
    tcp_frame(d, SK_TCP_SYN, 4);
    d[7] = 1; /* a non-first fragment: no TCP header in it */
    sk_memlink_send(l, 0, d, 40, 0);
    tcp_frame(d, SK_TCP_SYN, 5); /* a real SYN */
    sk_memlink_send(l, 0, d, 40, 0);
    size_t n = sk_memlink_deliver(l, 0, NULL, NULL);
    assert_int_equal(n, 34 + 3);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.rule_hits, 1);
    sk_memlink_free(l);
}

/* ---- duplication, corruption, reordering ---- */

/* dup = 1: every frame arrives twice, identical, the copy right after the original. */
static void test_dup_delivers_two_identical_copies(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(8);
    struct sk_memlink_faults f = {.dup = 1.0, .delay_us = 50};
    sk_memlink_set_faults(l, 1, &f);
    uint8_t d[100];
    for (uint32_t i = 0; i < 10; i++) {
        pattern_frame(d, sizeof(d), i);
        sk_memlink_send(l, 1, d, sizeof(d), 0);
    }
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 20);
    for (uint32_t i = 0; i < 10; i++) {
        pattern_frame(d, sizeof(d), i);
        for (int k = 0; k < 2; k++) {
            struct arrival *a = &r.a[2 * i + (uint32_t)k];
            assert_int_equal(a->side, 0);
            assert_int_equal(a->now, 50);
            assert_int_equal(a->len, sizeof(d));
            assert_int_equal(a->hash, fnv1a(d, sizeof(d)));
        }
    }
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 1, &s);
    assert_int_equal(s.duplicated, 10);
    assert_int_equal(s.delivered, 20);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* With jitter the copy draws its own arrival time, within the same bounds. */
static void test_dup_with_jitter(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(9);
    struct sk_memlink_faults f = {.dup = 1.0, .delay_us = 1000, .jitter_us = 1000};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[40];
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, 1), 0);
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 2);
    for (int k = 0; k < 2; k++) {
        assert_in_range(r.a[k].now, 1000, 2000);
        assert_int_equal(frame_id(r.a[k].bytes), 1);
    }
    recorder_free(&r);
    sk_memlink_free(l);
}

static int popcount8(uint8_t x) {
    int n = 0;
    for (; x; x &= (uint8_t)(x - 1))
        n++;
    return n;
}

/* corrupt = 1: every frame arrives with exactly one bit flipped, and over many frames the
 * flipped bit lands in the first and the last byte too. */
static void test_corruption_flips_one_bit(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(10);
    struct sk_memlink_faults f = {.corrupt = 1.0};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[8];
    bool first_byte = false, last_byte = false;
    for (uint32_t i = 0; i < 1000; i++) {
        pattern_frame(d, sizeof(d), i);
        sk_memlink_send(l, 0, d, sizeof(d), i);
        struct recorder r = {0};
        assert_int_equal(sk_memlink_deliver(l, i, record, &r), 1);
        int bits = 0;
        for (size_t k = 0; k < sizeof(d); k++) {
            int b = popcount8(r.a[0].bytes[k] ^ d[k]);
            bits += b;
            if (b && k == 0)
                first_byte = true;
            if (b && k == sizeof(d) - 1)
                last_byte = true;
        }
        assert_int_equal(bits, 1);
        recorder_free(&r);
    }
    assert_true(first_byte && last_byte);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.corrupted, 1000);
    sk_memlink_free(l);
}

/* reorder: a held-back frame arrives reorder_us late, so frames sent after it overtake it. */
static void test_reorder_holds_back(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(11);
    struct sk_memlink_faults f = {.reorder = 0.25, .reorder_us = 500, .delay_us = 100};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[40];
    for (uint16_t i = 0; i < 1000; i++)
        sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, i), (sk_time_us)i * 10);
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 1000);
    size_t held = 0, overtaken = 0;
    for (size_t i = 0; i < r.n; i++) {
        sk_time_us sent = (sk_time_us)frame_id(r.a[i].bytes) * 10;
        assert_true(r.a[i].now == sent + 100 || r.a[i].now == sent + 600);
        if (r.a[i].now == sent + 600)
            held++;
        if (i > 0 && frame_id(r.a[i].bytes) < frame_id(r.a[i - 1].bytes))
            overtaken++;
    }
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.reordered, held);
    assert_in_range(held, 200, 300);
    assert_true(overtaken > 0);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* ---- delay, rate, queue, MTU ---- */

/* A frame sent at now arrives at exactly now + delay: not a microsecond before. */
static void test_delay_exact(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(12);
    struct sk_memlink_faults f = {.delay_us = 2500};
    sk_memlink_set_faults(l, 0, &f);
    assert_int_equal(sk_memlink_next_deadline(l), SK_TIME_NEVER);
    uint8_t d[40];
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, 1), 1000);
    assert_int_equal(sk_memlink_next_deadline(l), 3500);
    struct recorder r = {0};
    assert_int_equal(sk_memlink_deliver(l, 3499, record, &r), 0);
    assert_int_equal(sk_memlink_deliver(l, 3500, record, &r), 1);
    assert_int_equal(r.a[0].now, 3500);
    assert_int_equal(r.a[0].side, 1);
    assert_int_equal(sk_memlink_next_deadline(l), SK_TIME_NEVER);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* Jitter stays within [delay, delay + jitter] and uses the whole range. */
static void test_jitter_bounds(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(13);
    struct sk_memlink_faults f = {.delay_us = 100, .jitter_us = 10};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[40];
    tcp_frame(d, SK_TCP_ACK, 1);
    for (int i = 0; i < 1000; i++)
        sk_memlink_send(l, 0, d, sizeof(d), 0);
    struct recorder r = {0};
    drain(l, &r);
    bool seen[11] = {false};
    for (size_t i = 0; i < r.n; i++) {
        assert_in_range(r.a[i].now, 100, 110);
        seen[r.a[i].now - 100] = true;
        if (i > 0)
            assert_true(r.a[i].now >= r.a[i - 1].now);
    }
    for (int k = 0; k <= 10; k++)
        assert_true(seen[k]);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* 10 frames of 1250 bytes (10,000 bits) at 1 Mbit/s, all sent at once, leave 10 ms apart. */
static void test_rate_limit_serializes(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(14);
    struct sk_memlink_faults f = {.rate_bps = 1000000, .delay_us = 5};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[1250];
    for (uint32_t i = 0; i < 10; i++) {
        pattern_frame(d, sizeof(d), i);
        sk_memlink_send(l, 0, d, sizeof(d), 0);
    }
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 10);
    for (uint32_t i = 0; i < 10; i++) {
        pattern_frame(d, sizeof(d), i);
        assert_int_equal(r.a[i].now, (i + 1) * 10000 + 5);
        assert_int_equal(r.a[i].hash, fnv1a(d, sizeof(d)));
    }
    /* An idle link starts the next frame at once. */
    sk_memlink_send(l, 0, d, sizeof(d), 1000000);
    assert_int_equal(sk_memlink_next_deadline(l), 1000000 + 10000 + 5);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* The queue in front of the rate limit holds queue_bytes; beyond that frames are tail-dropped
 * and counted, and space comes back as frames leave. */
static void test_queue_tail_drop(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(15);
    struct sk_memlink_faults f = {.rate_bps = 1000000, .queue_bytes = 5000};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[1250] = {0};
    for (int i = 0; i < 10; i++)
        sk_memlink_send(l, 0, d, sizeof(d), 0);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.queue_drops, 6);
    /* At 10 ms the first frame has left: room for one more, not two. */
    sk_memlink_send(l, 0, d, sizeof(d), 10000);
    sk_memlink_send(l, 0, d, sizeof(d), 10000);
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.queue_drops, 7);
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.a[4].now, 50000);
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.sent, 12);
    assert_int_equal(s.delivered, 5);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* The default queue is 256 KiB. */
static void test_queue_default_size(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(16);
    struct sk_memlink_faults f = {.rate_bps = 1000000};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[1024] = {0};
    for (int i = 0; i < 300; i++)
        sk_memlink_send(l, 0, d, sizeof(d), 0);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.queue_drops, 300 - 256);
    sk_memlink_free(l);
}

/* Frames above the MTU are dropped and counted; a frame of exactly the MTU passes. */
static void test_mtu_drop(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(17);
    struct sk_memlink_faults f = {.mtu = 1500};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[1501] = {0};
    sk_memlink_send(l, 0, d, 1500, 0);
    sk_memlink_send(l, 0, d, 1501, 0);
    sk_memlink_send(l, 1, d, 1501, 0); /* the other direction has no MTU set */
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.a[0].len, 1500);
    assert_int_equal(r.a[1].len, 1501);
    assert_int_equal(r.a[1].side, 0);
    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_int_equal(s.mtu_drops, 1);
    assert_int_equal(s.delivered, 1);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* ---- order and scale ---- */

/* Frames with equal arrival times arrive in the order they were sent, both directions mixed. */
static void test_fifo_at_equal_times(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(18);
    struct sk_memlink_faults slow = {.delay_us = 1000}, fast = {.delay_us = 500};
    sk_memlink_set_faults(l, 0, &slow);
    sk_memlink_set_faults(l, 1, &fast);
    uint8_t d[40];
    for (uint16_t i = 0; i < 1000; i++) {
        /* Side 1's frames, sent 500 us later, arrive at the same instant as side 0's. */
        sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, i), 0);
    }
    for (uint16_t i = 1000; i < 2000; i++)
        sk_memlink_send(l, 1, d, tcp_frame(d, SK_TCP_ACK, i), 500);
    struct recorder r = {0};
    assert_int_equal(sk_memlink_deliver(l, 1000, record, &r), 2000);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(frame_id(r.a[i].bytes), i);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* 100,000 frames in flight with random arrival times come out in time order, ties FIFO. */
static void test_many_in_flight(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(19);
    struct sk_memlink_faults f = {.delay_us = 10, .jitter_us = 1000};
    sk_memlink_set_faults(l, 0, &f);
    uint8_t d[40];
    for (uint32_t i = 0; i < 100000; i++) {
        tcp_frame(d, SK_TCP_ACK, 0);
        memcpy(d + 36, &i, sizeof(i)); /* sequence number in the payload area */
        sk_memlink_send(l, 0, d, sizeof(d), 0);
    }
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(r.n, 100000);
    for (size_t i = 1; i < r.n; i++) {
        assert_true(r.a[i].now >= r.a[i - 1].now);
        if (r.a[i].now == r.a[i - 1].now) {
            uint32_t a, b;
            memcpy(&a, r.a[i - 1].bytes + 36, 4);
            memcpy(&b, r.a[i].bytes + 36, 4);
            assert_true(a < b);
        }
    }
    recorder_free(&r);
    sk_memlink_free(l);
}

/* A frame sent from inside the deliver callback (a stack answering at zero delay) waits for the
 * next call: one call never delivers what it caused. */
static void test_answer_waits_for_next_deliver(void **state) {
    (void)state;
    struct sk_memlink *l = sk_memlink_new(20);
    struct recorder r = {.answer_link = l, .answers = 2};
    uint8_t d[40];
    sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_SYN, 1), 0);
    assert_int_equal(sk_memlink_deliver(l, 0, record, &r), 1);
    assert_int_equal(sk_memlink_next_deadline(l), 0);
    assert_int_equal(sk_memlink_deliver(l, 0, record, &r), 1);
    assert_int_equal(r.a[1].side, 0); /* the echo came back from side 1 */
    assert_int_equal(sk_memlink_deliver(l, 0, record, &r), 1);
    assert_int_equal(sk_memlink_next_deadline(l), SK_TIME_NEVER);
    recorder_free(&r);
    sk_memlink_free(l);
}

/* ---- capture ---- */

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The capture holds every frame put on the wire, at its send time: not the ones lost at the
 * sender, but the duplicates, and corrupted frames as they were corrupted. */
static void test_pcap_sees_the_wire(void **state) {
    (void)state;
    char path[] = "/tmp/synack_test_memlink_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct sk_pcap *p = sk_pcap_open(path, SK_LINK_IP);
    assert_non_null(p);
    struct sk_memlink *l = sk_memlink_new(21);
    struct sk_memlink_faults f = {.loss = 0.3, .dup = 0.2, .corrupt = 0.2, .delay_us = 7};
    sk_memlink_set_faults(l, 0, &f);
    sk_memlink_set_pcap(l, p);
    uint8_t d[40];
    for (uint16_t i = 0; i < 1000; i++)
        sk_memlink_send(l, 0, d, tcp_frame(d, SK_TCP_ACK, i), 1000000 + i);
    struct recorder r = {0};
    drain(l, &r);
    assert_int_equal(sk_pcap_close(p), 0);

    struct sk_memlink_stats s;
    sk_memlink_get_stats(l, 0, &s);
    assert_true(s.lost > 0 && s.duplicated > 0 && s.corrupted > 0);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    size_t records = (len - 24) / (16 + 40);
    assert_int_equal(len, 24 + records * (16 + 40));
    assert_int_equal(records, s.sent - s.lost + s.duplicated);
    assert_int_equal(records, r.n);
    /* Records match arrivals one for one (no reordering here): same bytes, and each record's
     * time is its send time, the arrival time minus the delay. */
    for (size_t i = 0; i < records; i++) {
        const uint8_t *rec = buf + 24 + i * 56;
        uint32_t sec = (uint32_t)(rec[0] | rec[1] << 8 | rec[2] << 16 | (uint32_t)rec[3] << 24);
        uint32_t usec = (uint32_t)(rec[4] | rec[5] << 8 | rec[6] << 16 | (uint32_t)rec[7] << 24);
        assert_int_equal((sk_time_us)sec * 1000000 + usec, r.a[i].now - 7);
        assert_memory_equal(rec + 16, r.a[i].bytes, 40);
    }
    free(buf);
    unlink(path);
    recorder_free(&r);
    sk_memlink_free(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_replays_schedule),
        cmocka_unit_test(test_directions_are_independent),
        cmocka_unit_test(test_uniform_loss_rate),
        cmocka_unit_test(test_burst_loss),
        cmocka_unit_test(test_rule_drops_nth_syn),
        cmocka_unit_test(test_rule_every_match_and_mask_zero),
        cmocka_unit_test(test_rule_dup_and_delay),
        cmocka_unit_test(test_rule_limit),
        cmocka_unit_test(test_rule_parses_defensively),
        cmocka_unit_test(test_dup_delivers_two_identical_copies),
        cmocka_unit_test(test_dup_with_jitter),
        cmocka_unit_test(test_corruption_flips_one_bit),
        cmocka_unit_test(test_reorder_holds_back),
        cmocka_unit_test(test_delay_exact),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_rate_limit_serializes),
        cmocka_unit_test(test_queue_tail_drop),
        cmocka_unit_test(test_queue_default_size),
        cmocka_unit_test(test_mtu_drop),
        cmocka_unit_test(test_fifo_at_equal_times),
        cmocka_unit_test(test_many_in_flight),
        cmocka_unit_test(test_answer_waits_for_next_deliver),
        cmocka_unit_test(test_pcap_sees_the_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
