/* Torture: bulk transfers that run long enough for every 32-bit quantity to wrap.
 *
 * - 5 GiB each way at once on a clean link: both byte streams arrive byte-exact (checked
 *   against the seeded generator, not against what the stack sent), each side's SND.NXT wraps
 *   past 2^32, and on a link that loses nothing, no segment is retransmitted and nothing is
 *   dropped (counters that must stay zero). cwnd never passes 2^30 (issue 9: past 2^31 the
 *   send test `seq_gt(snd_una + cwnd, snd_nxt)` flips sign and the connection stops).
 * - 1 GiB each way through loss, reordering, duplication and corruption: byte-exact.
 *
 * SK_TORTURE_SCALE scales the byte counts (default 1: 5 GiB and 1 GiB; the sanitizer build
 * may run with 0.1). The wrap assertion applies whenever a stream is longer than 2^32 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "synack/synack.h"
#include "torture.h"

#define GIB (1ull << 30)
#define SEQ_SPACE (1ull << 32)
#define CWND_CAP (1u << 30)

static void expect_delivered(const struct tt_run *r, uint64_t bytes)
{
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r->s[i].error, 0);
        assert_true(r->s[i].eof);
        assert_int_equal(r->s[i].got, bytes);
        /* Byte-exact: the first differing offset, if any, is printed by tt_report. */
        assert_int_equal(r->s[i].bad_at, UINT64_MAX);
    }
}

static void test_clean_5gib_each_way(void **state)
{
    (void)state;
    const uint64_t bytes = tt_scaled(5 * GIB, 16u << 20);
    struct sk_config ca, cb;
    /* 64 KB segments and 8 MiB buffers: few segments per gigabyte, so it runs in seconds. */
    tt_config(&ca, 0, 8u << 20, 65000, 7);
    tt_config(&cb, 1, 8u << 20, 65000, 7);
    struct tt_run *r = tt_new(&ca, &cb, 1, 1000);
    tt_stream(r, 0, 0xa2b, bytes);
    tt_stream(r, 1, 0xb2a, bytes);
    double w0 = tt_wall();
    bool done = tt_transfer(r, r->sim.now + 3600ull * 1000000);
    fprintf(stderr, "clean: %llu bytes each way in %.1f s wall, %.3f s virtual\n",
            (unsigned long long)bytes, tt_wall() - w0,
            (double)(r->sim.now - r->established_at) / 1e6);
    tt_report(r, "clean");
    assert_true(done);
    expect_delivered(r, bytes);
    for (int i = 0; i < 2; i++) {
        struct sk_stack_counters k;
        sk_stack_counters(r->sim.stack[i], &k);
        /* A link that loses, reorders and corrupts nothing: no retransmission, no drop. */
        assert_int_equal(k.tcp_retransmits, 0);
        assert_int_equal(k.drops_total, 0);
        /* Each side sent more than 2^32 bytes: every sequence number was used at least twice
         * and SND.NXT went past 2^32 - 1 to 0 (at least once; twice if the ISN was late). */
        if (bytes > SEQ_SPACE)
            assert_true(r->s[i].nxt_wraps >= 1);
        assert_true(r->s[i].nxt_wraps >= bytes / SEQ_SPACE);
        assert_true(r->s[i].cwnd_max <= CWND_CAP);
    }
    tt_free(r);
}

static void test_faulty_1gib_each_way(void **state)
{
    (void)state;
    const uint64_t bytes = tt_scaled(GIB, 8u << 20);
    struct sk_config ca, cb;
    tt_config(&ca, 0, 4u << 20, 9000, 7);
    tt_config(&cb, 1, 4u << 20, 9000, 7);
    for (struct sk_config *c = &ca; c; c = c == &ca ? &cb : NULL) {
        c->data_retries = 15; /* Linux's tcp_retries2 */
    }
    struct tt_run *r = tt_new(&ca, &cb, 2, 2000);
    struct sk_memlink_faults f = {.delay_us = 2000, .loss = 0.01, .dup = 0.01,
                                  .reorder = 0.02, .reorder_us = 3000, .corrupt = 0.005};
    tt_faults(r, 0, &f);
    tt_faults(r, 1, &f);
    tt_stream(r, 0, 0xfa017, bytes);
    tt_stream(r, 1, 0x710af, bytes);
    double w0 = tt_wall();
    bool done = tt_transfer(r, r->sim.now + 6 * 3600ull * 1000000);
    fprintf(stderr, "faulty: %llu bytes each way in %.1f s wall, %.3f s virtual\n",
            (unsigned long long)bytes, tt_wall() - w0,
            (double)(r->sim.now - r->established_at) / 1e6);
    tt_report(r, "faulty");
    assert_true(done);
    expect_delivered(r, bytes);
    for (int i = 0; i < 2; i++)
        assert_true(r->s[i].cwnd_max <= CWND_CAP);
    tt_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_clean_5gib_each_way, tt_teardown),
        cmocka_unit_test_teardown(test_faulty_1gib_each_way, tt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
