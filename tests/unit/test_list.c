/* The intrusive list (src/util/list.h) against a reference model: a plain array holding the
 * elements' ids in list order. Random appends, prepends, inserts before a random element and
 * removals of a random element, each followed by a walk of the list both ways, compared with
 * the array. Every element sits on two lists at once through two nodes, as a half-open TCB sits
 * on its listener's SYN queue and the stack's. Replay a run with SK_LIST_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_rng.h"

#include "util/list.h"

#define POOL 24u

struct elem {
    unsigned id;
    struct sk_list_node a_node; /* on list a */
    unsigned pad;               /* so the second node is not at a simple offset from the first */
    struct sk_list_node b_node; /* on list b */
};

struct model {
    unsigned ids[POOL];
    unsigned len;
};

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    return test_rng_below(&rng_state, n); /* seeded and printed */
}

static bool model_has(const struct model *m, unsigned id)
{
    for (unsigned i = 0; i < m->len; i++)
        if (m->ids[i] == id)
            return true;
    return false;
}

static void model_insert_at(struct model *m, unsigned at, unsigned id)
{
    memmove(&m->ids[at + 1], &m->ids[at], (m->len - at) * sizeof(m->ids[0]));
    m->ids[at] = id;
    m->len++;
}

static void model_remove_at(struct model *m, unsigned at)
{
    memmove(&m->ids[at], &m->ids[at + 1], (m->len - at - 1) * sizeof(m->ids[0]));
    m->len--;
}

/* The walk forward with first/next, the walk backward through prev links, count, empty and
 * each element's linked flag, all against the model. */
static void check_a(const struct sk_list *l, const struct model *m, struct elem *pool)
{
    unsigned i = 0;
    for (struct sk_list_node *n = sk_list_first(l); n; n = sk_list_next(l, n), i++) {
        assert_true(i < m->len);
        assert_int_equal(sk_list_entry(n, struct elem, a_node)->id, m->ids[i]);
    }
    assert_int_equal(i, m->len);
    i = m->len;
    for (const struct sk_list_node *n = l->head.prev; n != &l->head; n = n->prev) {
        assert_true(i > 0);
        i--;
        assert_int_equal(sk_list_entry((struct sk_list_node *)n, struct elem, a_node)->id,
                         m->ids[i]);
    }
    assert_int_equal(i, 0);
    assert_int_equal(sk_list_count(l), m->len);
    assert_int_equal(sk_list_empty(l), m->len == 0);
    for (unsigned id = 0; id < POOL; id++)
        assert_int_equal(sk_list_linked(&pool[id].a_node), model_has(m, id));
}

static void check_b(const struct sk_list *l, const struct model *m)
{
    unsigned i = 0;
    for (struct sk_list_node *n = sk_list_first(l); n; n = sk_list_next(l, n), i++) {
        assert_true(i < m->len);
        assert_int_equal(sk_list_entry(n, struct elem, b_node)->id, m->ids[i]);
    }
    assert_int_equal(i, m->len);
    assert_int_equal(sk_list_count(l), m->len);
}

/* An element not on list a, chosen at random; POOL if every one is on it. */
static unsigned pick_off(const struct model *m)
{
    if (m->len == POOL)
        return POOL;
    unsigned k = rnd(POOL - m->len);
    for (unsigned id = 0; id < POOL; id++)
        if (!model_has(m, id) && k-- == 0)
            return id;
    return POOL;
}

/* One random operation on list a; list b takes appends and removals only (a FIFO). */
static void step(struct sk_list *a, struct model *ma, struct sk_list *b, struct model *mb,
                 struct elem *pool)
{
    unsigned op = rnd(5);
    if (op <= 2 && ma->len < POOL) {
        unsigned id = pick_off(ma);
        if (op == 0) {
            sk_list_append(a, &pool[id].a_node);
            model_insert_at(ma, ma->len, id);
        } else if (op == 1) {
            sk_list_prepend(a, &pool[id].a_node);
            model_insert_at(ma, 0, id);
        } else {
            unsigned at = rnd(ma->len + 1); /* ma->len: before the head, the end */
            struct sk_list_node *pos = at == ma->len ? &a->head : &pool[ma->ids[at]].a_node;
            sk_list_insert_before(pos, &pool[id].a_node);
            model_insert_at(ma, at, id);
        }
        if (!sk_list_linked(&pool[id].b_node)) {
            sk_list_append(b, &pool[id].b_node);
            model_insert_at(mb, mb->len, id);
        }
    } else if (ma->len > 0) {
        unsigned at = rnd(ma->len);
        unsigned id = ma->ids[at];
        sk_list_remove(&pool[id].a_node);
        model_remove_at(ma, at);
        if (rnd(2)) {
            for (unsigned j = 0; j < mb->len; j++)
                if (mb->ids[j] == id) {
                    sk_list_remove(&pool[id].b_node);
                    model_remove_at(mb, j);
                    break;
                }
        }
    }
    check_a(a, ma, pool);
    check_b(b, mb);
}

static void run(uint64_t seed, int steps)
{
    rng_state = seed;
    struct elem pool[POOL];
    memset(pool, 0, sizeof(pool)); /* zeroed nodes: on no list */
    for (unsigned id = 0; id < POOL; id++)
        pool[id].id = id;
    struct sk_list a, b;
    sk_list_init(&a);
    sk_list_init(&b);
    struct model ma = {.len = 0}, mb = {.len = 0};
    check_a(&a, &ma, pool);
    for (int i = 0; i < steps; i++)
        step(&a, &ma, &b, &mb, pool);
}

static uint64_t seed_from_env(void)
{
    const char *e = getenv("SK_LIST_SEED");
    return e ? strtoull(e, NULL, 0) : 0x5eedull;
}

static void test_random_against_model(void **state)
{
    (void)state;
    uint64_t seed = seed_from_env();
    for (uint64_t k = 0; k < 32; k++) {
        fprintf(stderr, "seed %llu\n", (unsigned long long)(seed + k));
        run(seed + k, 2000);
    }
}

/* The empty list: no first element, count 0; one element is both first and last. */
static void test_empty_and_single(void **state)
{
    (void)state;
    struct sk_list l;
    sk_list_init(&l);
    assert_true(sk_list_empty(&l));
    assert_null(sk_list_first(&l));
    assert_null(sk_list_entry(sk_list_first(&l), struct elem, a_node));
    struct elem e = {.id = 7};
    assert_false(sk_list_linked(&e.a_node));
    sk_list_append(&l, &e.a_node);
    assert_ptr_equal(sk_list_entry(sk_list_first(&l), struct elem, a_node), &e);
    assert_null(sk_list_next(&l, &e.a_node));
    assert_ptr_equal(l.head.prev, &e.a_node);
    sk_list_remove(&e.a_node);
    assert_true(sk_list_empty(&l));
    assert_false(sk_list_linked(&e.a_node));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
