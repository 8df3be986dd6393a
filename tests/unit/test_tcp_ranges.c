/* The range set (src/tcp/tcp_ranges.c) against a reference model: a bitmap over a small
 * sequence space. Random operations, each checked against the model, with the space placed
 * across 2^32 so that every comparison has to be modular (RFC 9293 §3.4). Replay a run with
 * SK_RANGES_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "test_rng.h"

#include "tcp/tcp_ranges.h"

#define SPACE 512u /* bytes modelled */

struct model {
    uint32_t base;       /* sequence number of bit 0 */
    bool held[SPACE];
};

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    return test_rng_below(&rng_state, n); /* seeded and printed */
}

static uint32_t runs_of(const bool *h)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < SPACE; i++)
        if (h[i] && (i == 0 || !h[i - 1]))
            n++;
    return n;
}

/* The set is sorted, disjoint, never touching, and holds exactly the model's bytes. */
static void check_same(const struct sk_ranges *s, const struct model *m)
{
    bool got[SPACE] = {0};
    for (uint8_t i = 0; i < s->n; i++) {
        uint32_t l = s->r[i].left - m->base, r = s->r[i].right - m->base;
        assert_true(l < r && r <= SPACE);
        if (i > 0)
            assert_true(s->r[i - 1].right - m->base < l); /* a gap between neighbours */
        for (uint32_t k = l; k < r; k++)
            got[k] = true;
    }
    assert_true(s->n <= s->cap);
    assert_memory_equal(got, m->held, sizeof(got));
}

static uint32_t model_covered(const struct model *m, uint32_t l, uint32_t r)
{
    uint32_t n = 0;
    for (uint32_t k = l; k < r; k++)
        n += m->held[k];
    return n;
}

/* One random operation on both; every answer compared. */
static void step(struct sk_ranges *s, struct model *m, uint64_t *work)
{
    uint32_t a = rnd(SPACE), b = a + rnd(SPACE - a + 1);
    if (rnd(4) == 0)
        b = a + rnd(4); /* short ranges: many small islands */
    if (b > SPACE)
        b = SPACE;
    uint64_t before = *work;
    switch (rnd(8)) {
    case 0:
    case 1:
    case 2: { /* add */
        bool after[SPACE];
        memcpy(after, m->held, sizeof(after));
        for (uint32_t k = a; k < b; k++)
            after[k] = true;
        bool grows = memcmp(after, m->held, sizeof(after)) != 0;
        struct sk_range merged;
        int r = sk_ranges_add(s, m->base + a, m->base + b, &merged);
        if (grows && runs_of(after) > s->cap) {
            assert_int_equal(r, -ENOSPC);
        } else {
            assert_int_equal(r, grows ? 1 : 0);
            memcpy(m->held, after, sizeof(after));
            if (a < b) { /* the merged range is the run of the model holding [a, b) */
                uint32_t l = a, e = b;
                while (l > 0 && m->held[l - 1])
                    l--;
                while (e < SPACE && m->held[e])
                    e++;
                assert_int_equal(merged.left, m->base + l);
                assert_int_equal(merged.right, m->base + e);
            }
        }
        break;
    }
    case 3: { /* remove below: the runs ending at or before a go; one straddling a stays */
        uint32_t k = 0;
        while (k < SPACE) {
            if (!m->held[k]) {
                k++;
                continue;
            }
            uint32_t e = k;
            while (e < SPACE && m->held[e])
                e++;
            if (e <= a)
                memset(&m->held[k], 0, e - k);
            k = e;
        }
        sk_ranges_remove_below(s, m->base + a);
        break;
    }
    case 4: { /* pull: contiguous from a */
        uint32_t e = a;
        while (e < SPACE && m->held[e])
            e++;
        /* ranges starting at or before a go, with the run through a */
        for (uint32_t k = 0; k < e; k++)
            m->held[k] = false;
        assert_int_equal(sk_ranges_pull(s, m->base + a), m->base + e);
        break;
    }
    case 5:
        assert_int_equal(sk_ranges_covered(s, m->base + a, m->base + b), model_covered(m, a, b));
        break;
    case 6: {
        uint32_t e = a;
        while (e < SPACE && m->held[e])
            e++;
        assert_int_equal(sk_ranges_skip(s, m->base + a), m->base + e);
        uint32_t gl, gr;
        bool gap = sk_ranges_next_gap(s, m->base + a, m->base + b, &gl, &gr);
        if (e >= b) {
            assert_false(gap);
        } else {
            assert_true(gap);
            uint32_t f = e;
            while (f < b && !m->held[f])
                f++;
            assert_int_equal(gl, m->base + e);
            assert_int_equal(gr, m->base + f);
        }
        break;
    }
    default: {
        struct sk_range o;
        bool any = sk_ranges_first_overlap(s, m->base + a, m->base + b, &o);
        uint32_t l = a;
        while (l < b && !m->held[l])
            l++;
        assert_int_equal(any, l < b);
        if (any) {
            uint32_t e = l;
            while (e < b && m->held[e])
                e++;
            assert_int_equal(o.left, m->base + l);
            assert_int_equal(o.right, m->base + e);
        }
        break;
    }
    }
    /* No operation looks at more than a binary search, the ranges it covers and one move of
     * the whole array: linear in the capacity at worst, never more. */
    assert_true(*work - before <= 2u * s->cap + 16u);
    check_same(s, m);
}

static void run(uint64_t seed, uint32_t base, uint8_t cap, int steps)
{
    rng_state = seed;
    struct sk_range store[32];
    uint64_t work = 0;
    struct sk_ranges s;
    sk_ranges_init(&s, store, cap, &work);
    struct model m = {.base = base};
    for (int i = 0; i < steps; i++)
        step(&s, &m, &work);
}

static uint64_t seed_from_env(void)
{
    const char *e = getenv("SK_RANGES_SEED");
    return e ? strtoull(e, NULL, 0) : 20261201;
}

/* Random operations with the space in the middle of the sequence space, across 2^31, and
 * across 2^32 (bit 0 at 2^32 - 200: ranges wrap through 0). */
static void test_ranges_match_bitmap_model(void **state)
{
    (void)state;
    uint64_t seed = seed_from_env();
    const uint32_t bases[] = {1000u, 0x80000000u - 100u, 0xffffffffu - 199u};
    const uint8_t caps[] = {1, 4, 16, 32};
    for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
        for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
            uint64_t sd = seed + b * 16 + k;
            fprintf(stderr, "seed %llu base %u cap %u\n", (unsigned long long)sd, bases[b],
                    caps[k]);
            run(sd, bases[b], caps[k], 20000);
        }
}

/* The cases a reader checks by hand: touching ranges merge, a range bridging two merges all
 * three, a full set refuses a new island but takes what extends an existing one. */
static void test_ranges_merge_and_capacity(void **state)
{
    (void)state;
    struct sk_range store[2];
    struct sk_ranges s;
    sk_ranges_init(&s, store, 2, NULL);
    const uint32_t w = 0xfffffff0u; /* wraps after 16 bytes */
    assert_int_equal(sk_ranges_add(&s, w, w + 10, NULL), 1);
    assert_int_equal(sk_ranges_add(&s, w + 20, w + 30, NULL), 1);
    assert_int_equal(s.n, 2);
    assert_int_equal(sk_ranges_add(&s, w + 40, w + 50, NULL), -ENOSPC);
    assert_int_equal(sk_ranges_add(&s, w + 30, w + 35, NULL), 1); /* touches: extends */
    assert_int_equal(s.n, 2);
    assert_int_equal(sk_ranges_add(&s, w + 2, w + 8, NULL), 0);   /* held already */
    assert_int_equal(sk_ranges_add(&s, w + 8, w + 3, NULL), 0);   /* reversed: nothing */
    struct sk_range m;
    assert_int_equal(sk_ranges_add(&s, w + 10, w + 20, &m), 1);   /* bridges both */
    assert_int_equal(s.n, 1);
    assert_int_equal(m.left, w);
    assert_int_equal(m.right, w + 35);
    assert_int_equal(sk_ranges_covered(&s, w - 5, w + 40), 35);
    assert_int_equal(sk_ranges_pull(&s, w + 35), w + 35);
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_match_bitmap_model),
        cmocka_unit_test(test_ranges_merge_and_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
