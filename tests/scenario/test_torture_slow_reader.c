/* Torture: applications that read slowly, or stop for seconds and then go on, on a link that
 * loses nothing, at window scales 0, 1, 7 and 14 and MSS 88, 536, 1460 and 8960, with buffers
 * that are not multiples of 2^scale (65535 + 1000).
 *
 * On a lossless link nothing may be dropped that the receiver had itself offered room for
 * (issue 9: the scaled window rounded up on every ACK grew past the ring, and in-order,
 * in-window segments were dropped), so: zero in-window drops, judged from the windows seen on
 * the wire (torture.c), zero out-of-order drops, zero retransmissions on either side, and both
 * streams byte-exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "synack/synack.h"
#include "torture.h"

#define BUF (65535u + 1000u)

struct reader_case {
    const char *name;
    struct tt_reader rd;
    uint64_t bytes;
};

static const uint8_t scales[] = {0, 1, 7, 14};
static const uint16_t mtus[] = {128, 576, 1500, 9000}; /* MSS 88, 536, 1460, 8960 */

/* Runs one combination; returns the number of failed checks (and prints them). */
static int run_case(uint8_t ws, uint16_t mtu, const struct reader_case *rc)
{
    struct sk_config ca, cb;
    tt_config(&ca, 0, BUF, mtu, ws);
    tt_config(&cb, 1, BUF, mtu, ws);
    struct tt_run *r = tt_new(&ca, &cb, 7 + ws + mtu, 5000);
    /* Both directions at once; both applications read the same way. */
    r->s[0].rd = rc->rd;
    r->s[1].rd = rc->rd;
    tt_stream(r, 0, 0x51 + ws, rc->bytes);
    tt_stream(r, 1, 0x15 + mtu, rc->bytes);
    bool done = tt_transfer(r, r->sim.now + 3600ull * 1000000);
    int bad = 0;
    char name[96];
    snprintf(name, sizeof(name), "%s ws %u mss %u", rc->name, ws, mtu - 40u);
    for (int i = 0; i < 2; i++) {
        struct sk_stack_counters k;
        sk_stack_counters(r->sim.stack[i], &k);
        const struct tt_side *s = &r->s[i];
        if (!done || s->bad_at != UINT64_MAX || s->got != rc->bytes || s->inwin_drops ||
            k.drops[SK_DROP_TCP_OUT_OF_ORDER] || k.tcp_retransmits)
            bad++;
    }
    if (bad) {
        fprintf(stderr, "FAILED: %s (done %d, %.3f s virtual)\n", name, done,
                (double)(r->sim.now - r->established_at) / 1e6);
        tt_report(r, name);
    }
    tt_free(r);
    return bad ? 1 : 0;
}

static int run_matrix(const struct reader_case *rc)
{
    int failed = 0, n = 0;
    double w0 = tt_wall();
    for (size_t i = 0; i < sizeof(scales); i++)
        for (size_t j = 0; j < sizeof(mtus) / sizeof(mtus[0]); j++, n++)
            failed += run_case(scales[i], mtus[j], rc);
    fprintf(stderr, "%s: %d of %d combinations failed (%.1f s wall)\n", rc->name, failed, n,
            tt_wall() - w0);
    return failed;
}

/* The application reads 1777 bytes every 3 ms (about 590 KB/s, below what the link carries). */
static void test_slow_reader_every_3ms(void **state)
{
    (void)state;
    struct reader_case rc = {"slow 1777B/3ms", {.bytes = 1777, .every_us = 3000}, 600000};
    assert_int_equal(run_matrix(&rc), 0);
}

/* The application reads 100 ms worth, then nothing for 2.5 s, again and again: the window
 * closes, zero-window probes keep the connection, the window opens when it reads. */
static void test_stop_and_go_reader(void **state)
{
    (void)state;
    struct reader_case rc = {"stop-and-go 100ms/2.5s",
                             {.go_us = 100000, .stop_us = 2500000}, 400000};
    assert_int_equal(run_matrix(&rc), 0);
}

/* Slow and stop-and-go together: 4000 bytes every 7 ms for 1 s, then a 3 s pause. */
static void test_slow_stop_and_go_reader(void **state)
{
    (void)state;
    struct reader_case rc = {"slow 4000B/7ms, stops 3s",
                             {.bytes = 4000, .every_us = 7000, .go_us = 1000000,
                              .stop_us = 3000000}, 500000};
    assert_int_equal(run_matrix(&rc), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_slow_reader_every_3ms, tt_teardown),
        cmocka_unit_test_teardown(test_stop_and_go_reader, tt_teardown),
        cmocka_unit_test_teardown(test_slow_stop_and_go_reader, tt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
