/* Pacing (sk_config.pacing, src/tcp/tcp_pacing.c), segment by segment against a scripted peer,
 * with Linux's arithmetic written out here:
 *   rate = ratio% * max(cwnd, packets_out) * mss / srtt      (tcp_update_pacing_rate; ratio
 *          200 while cwnd < ssthresh / 2, else 120)
 *   after a transmission of len bytes (once ten segments have gone, tcp_update_skb_after_send):
 *          stamp = max(stamp, now); t = len / rate; stamp += t - min(t / 2, stamp - prior)
 *   the next data segment leaves no earlier than stamp (tcp_pacing_check).
 * The peer's MSS is 1000 bytes, no timestamps, an RTT of 100 ms each time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

enum { MSS = 1000 };

static struct fx open_paced(bool pacing, uint16_t ss_ratio)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.pacing = pacing;
    cfg.pacing_ss_ratio = ss_ratio;
    cfg.ss_abc_limit = 0; /* Linux's slow start: cwnd grows by every segment acknowledged */
    cfg.tlp = false;
    return fx_connect(&cfg, &(struct fx_peer){.mss = MSS, .rtt_us = MS(100)});
}

/* Microseconds len bytes take at rate bytes a second, as tcp_update_skb_after_send divides. */
static sk_time_us len_us(uint64_t len, uint64_t rate)
{
    return len * 1000000u / rate;
}

/* The initial window (10 segments) goes at once; the peer acknowledges two segments an RTT
 * later (cwnd 12, SRTT still 100 ms): the four segments cwnd now allows leave at the times
 * Linux's formulas give, not together. */
static void paced_after_ack(uint16_t ss_ratio)
{
    struct fx f = open_paced(true, ss_ratio);
    uint64_t ratio = ss_ratio ? ss_ratio : 200;
    assert_int_equal(fx_send(f.c, 0, 40 * MSS), 40 * MSS);
    sk_time_us t0 = f.r->now;
    for (uint32_t i = 0; i < 10; i++) {
        const struct raw_out *o = fx_expect_data(f.r, ACK, FX_SND(&f, i * MSS),
                                                 FX_RCV(&f, 0), MSS);
        assert_int_equal(o->time, t0); /* the first ten are not paced */
    }
    /* The tenth segment set the stamp: 1000 bytes at ratio * 10 * 1000 / 0.1 s, no credit
     * (the stamp was now). */
    uint64_t rate10 = ratio * 10 * MSS * 10 / 100; /* ratio % of 10 segs * MSS / 0.1 s */
    sk_time_us stamp = t0 + len_us(MSS, rate10);
    raw_run_for(f.r, MS(100));
    raw_expect_none(f.r);
    sk_time_us t1 = f.r->now;
    fx_ack(&f, FX_SND(&f, 2 * MSS), NULL, 0);
    /* cwnd 12: rate ratio * 12 * 1000 / 0.1 s; the flight stays at or under 12 segments. */
    uint64_t rate = ratio * 12 * MSS * 10 / 100;
    sk_time_us want[4];
    sk_time_us prior = stamp;
    for (int k = 0; k < 4; k++) {
        sk_time_us now = k == 0 ? t1 : prior; /* each leaves at its stamp */
        want[k] = now;
        sk_time_us s = prior > now ? prior : now;
        sk_time_us t = len_us(MSS, rate);
        sk_time_us credit = s - prior;
        prior = s + t - (credit < t / 2 ? credit : t / 2);
    }
    raw_run_for(f.r, MS(50));
    for (int k = 0; k < 4; k++) {
        const struct raw_out *o =
            fx_expect_data(f.r, ACK, FX_SND(&f, (10 + k) * MSS), FX_RCV(&f, 0), MSS);
        assert_int_equal(o->time, want[k]);
    }
    raw_expect_none(f.r);
    fx_free(&f);
}

static void test_segments_leave_at_the_pacing_rate(void **state)
{
    (void)state;
    paced_after_ack(0);   /* 200 %: 2083 µs after the first (half of 4166: credit), then 4166 */
    paced_after_ack(400); /* tcp_pacing_ss_ratio 400: twice as fast */
}

/* The same exchange without pacing: the four segments leave together with the ACK. */
static void test_without_pacing_the_window_goes_at_once(void **state)
{
    (void)state;
    struct fx f = open_paced(false, 0);
    assert_int_equal(fx_send(f.c, 0, 40 * MSS), 40 * MSS);
    fx_take(f.r, NULL);
    raw_run_for(f.r, MS(100));
    sk_time_us t1 = f.r->now;
    fx_ack(&f, FX_SND(&f, 2 * MSS), NULL, 0);
    for (uint32_t k = 0; k < 4; k++) {
        const struct raw_out *o =
            fx_expect_data(f.r, ACK, FX_SND(&f, (10 + k) * MSS), FX_RCV(&f, 0), MSS);
        assert_int_equal(o->time, t1);
    }
    raw_expect_none(f.r);
    fx_free(&f);
}

/* An ACK is never paced: data from the peer while the sender waits for its departure time is
 * acknowledged at once (here with quick ACKs: every second full segment). */
static void test_acks_are_not_paced(void **state)
{
    (void)state;
    struct fx f = open_paced(true, 0);
    assert_int_equal(fx_send(f.c, 0, 40 * MSS), 40 * MSS);
    fx_take(f.r, NULL);
    raw_run_for(f.r, MS(100));
    fx_ack(&f, FX_SND(&f, 2 * MSS), NULL, 0);
    fx_expect_data(f.r, ACK, FX_SND(&f, 10 * MSS), FX_RCV(&f, 0), MSS);
    raw_expect_none(f.r); /* the next waits 2083 µs */
    sk_time_us t = f.r->now;
    fx_peer_data(&f, 0, MSS, FX_SND(&f, 2 * MSS));
    fx_peer_data(&f, MSS, MSS, FX_SND(&f, 2 * MSS));
    const struct raw_out *o = fx_expect_data(f.r, ACK, FX_SND(&f, 11 * MSS), FX_RCV(&f, 2 * MSS), 0);
    assert_int_equal(o->time, t);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segments_leave_at_the_pacing_rate),
        cmocka_unit_test(test_without_pacing_the_window_goes_at_once),
        cmocka_unit_test(test_acks_are_not_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
