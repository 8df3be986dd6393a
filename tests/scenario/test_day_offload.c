/* A day of virtual time over a link that offloads (TSO, checksums, large frames), read zero-copy
 * by a slow reader: where a long-lived connection on a virtio-net TAP spends its life.
 *
 * Every 20 virtual minutes for 24 hours, a sends a burst; b reads it through
 * sk_tcp_recv_borrow / sk_tcp_recv_release, at most 16 KiB per 10 ms, so its window closes and
 * reopens in every burst. The link loses, reorders, duplicates and corrupts frames (seeded).
 * Expected from outside the stack: every byte is stream byte fx_byte(k) in order; once a burst
 * is read and the connection idle, both stacks hold no buffer bytes (rings are freed when
 * empty, sk_config.sndbuf_bytes) and hold them again on the next burst; a loan held across an
 * idle period keeps its bytes where they were (a lent ring is pinned, tcp.h). */
#include <sys/uio.h>

#include "fixture.h"

#define BURSTS 72             /* one every 20 minutes: 24 hours */
#define BURST (512u << 10)
#define READ_STEP (16u << 10) /* the slow reader's bytes per 10 ms */

static const struct sk_link_caps caps_all = {.tso_max = 65535, .tx_csum = true, .rx_csum = true,
                                             .rx_large = true};

/* Checks every lent byte against the stream from *off; returns the bytes lent (>= 0). */
static size_t borrow_check(struct sk_tcp *c, size_t off, struct iovec span[2])
{
    ssize_t n = sk_tcp_recv_borrow(c, span);
    if (n == -EAGAIN)
        return 0;
    assert_true(n > 0);
    size_t k = off;
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < span[i].iov_len; j++, k++)
            if (((const uint8_t *)span[i].iov_base)[j] != fx_byte(k))
                fail_msg("stream byte %zu: got %u, want %u", k,
                         ((const uint8_t *)span[i].iov_base)[j], fx_byte(k));
    return (size_t)n;
}

static uint64_t buffer_bytes(struct sk_stack *st)
{
    return counters(st).buffer_bytes;
}

static void test_day_of_bursts_offloaded_zero_copy_slow_reader(void **state)
{
    (void)state;
    struct sk_config c[2];
    harness_config(&c[0], 0);
    harness_config(&c[1], 1);
    c[0].caps = caps_all;
    c[1].caps = caps_all;
    struct fx_pair f = fx_pair_open(&(struct fx_pair_opts){.ca = &c[0], .cb = &c[1]});
    struct sk_memlink_faults fa = {.delay_us = 5000, .loss = 0.005, .reorder = 0.01,
                                   .reorder_us = 3000, .dup = 0.002, .corrupt = 0.002};
    struct sk_memlink_faults fb = {.delay_us = 5000, .loss = 0.005};
    sk_memlink_set_faults(f.p->sim.link, 0, &fa);
    sk_memlink_set_faults(f.p->sim.link, 1, &fb);

    size_t sent = 0, got = 0;
    sk_time_us start = pair_now(f.p);
    for (int b = 0; b < BURSTS; b++) {
        sk_time_us at = start + (sk_time_us)b * SEC(1200);
        pair_run_until(f.p, at);
        /* Idle since the last burst: no ring is held on either side. */
        assert_int_equal(buffer_bytes(f.p->a), 0);
        assert_int_equal(buffer_bytes(f.p->b), 0);
        size_t end = sent + BURST;
        sk_time_us limit = at + SEC(600);
        while (got < end) {
            if (sent < end)
                sent += fx_send(f.ca, sent, end - sent);
            struct iovec span[2];
            size_t lent = borrow_check(f.cb, got, span);
            size_t take = lent < READ_STEP ? lent : READ_STEP;
            if (take) {
                assert_int_equal(sk_tcp_recv_release(f.cb, take), 0);
                got += take;
            }
            assert_true(pair_now(f.p) < limit);
            pair_run_for(f.p, MS(10));
        }
        /* Every eighth burst, a loan is held across the idle time: one more byte sent and
         * borrowed, then 10 s of silence (the ring release waits 100 ms, sk_tcp.h): the lent
         * byte stays where it was, with its value, until released. */
        if (b % 8 == 7) {
            sent += fx_send(f.ca, sent, 1);
            struct iovec span[2];
            while (borrow_check(f.cb, got, span) == 0)
                pair_run_for(f.p, MS(10));
            const uint8_t *where = span[0].iov_base;
            pair_run_for(f.p, SEC(10));
            assert_true(buffer_bytes(f.p->b) > 0);
            struct iovec again[2];
            assert_int_equal(borrow_check(f.cb, got, again), 1);
            assert_ptr_equal(again[0].iov_base, where);
            assert_int_equal(*where, fx_byte(got));
            assert_int_equal(sk_tcp_recv_release(f.cb, 1), 0);
            got += 1;
        }
    }
    pair_run_until(f.p, start + (sk_time_us)BURSTS * SEC(1200));
    assert_int_equal(got, sent);
    assert_int_equal(got, (size_t)BURSTS * BURST + BURSTS / 8);
    expect_state(f.ca, SK_TCP_ESTABLISHED);
    expect_state(f.cb, SK_TCP_ESTABLISHED);
    assert_int_equal(buffer_bytes(f.p->a), 0);
    assert_int_equal(buffer_bytes(f.p->b), 0);
    struct sk_stack_counters ca = counters(f.p->a), cb = counters(f.p->b);
    /* The link really offloaded, and the faults really hit. */
    assert_true(ca.tcp_tso_segs > 0);
    assert_true(ca.tcp_retransmits > 0);
    assert_int_equal(ca.tcp_conn_failed + cb.tcp_conn_failed, 0);
    printf("  %zu bytes over %d bursts in 24 h virtual: tso %llu rtx %llu, b drops %llu\n", got,
           BURSTS, (unsigned long long)ca.tcp_tso_segs, (unsigned long long)ca.tcp_retransmits,
           (unsigned long long)cb.drops_total);
    pair_free(f.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_day_of_bursts_offloaded_zero_copy_slow_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
