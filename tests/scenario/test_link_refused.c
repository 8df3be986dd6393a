/* A link that refuses frames (sk_stack_output_refused: a full transmit queue, a local qdisc
 * drop). TCP treats a refused segment as not sent, as Linux treats NET_XMIT_DROP: the expected
 * times below are Linux's arithmetic, which its own user-timeout-probe.pkt pins (a probe timer
 * at the RTO, then TCP_RESOURCE_PROBE_INTERVAL = 500 ms without backoff, the user timeout
 * counted from the first probe: six probes in 3 s). The peer's MSS is 1460, its RTT 100 ms;
 * the RTO floor is Linux's (200 ms on the variance term), so after one 100 ms sample the RTO
 * is 100 + max(4 * 50, 200) = 300 ms, and after a second 100 ms + max(4 * 37.5, 200) = 300. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

enum { RTO_US = 300000, RESOURCE_PROBE_US = 500000 };

static struct fx open_conn(void)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rto_min_us = 200000;
    cfg.rto_min_on_variance = true;
    cfg.tlp = false;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.rtt_us = MS(100)});
    /* 24 bytes out and acknowledged an RTT later: the link works, the RTO is 300 ms. */
    assert_int_equal(fx_send(f.c, 0, 24), 24);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 24);
    raw_run_for(f.r, MS(100));
    fx_ack(&f, FX_SND(&f, 24), NULL, 0);
    assert_int_equal(info(f.c).rto_us, RTO_US);
    return f;
}

static uint64_t refused(struct fx *f)
{
    struct sk_stack_counters k;
    sk_stack_counters(f->r->st, &k);
    return k.tcp_tx_refused;
}

/* Data written while the link refuses everything: not sent, not in flight. The persist timer
 * tries at the RTO, then every 500 ms, each try a probe (tcpi_probes) without backoff; with a
 * 3 s user timeout from the first try the sixth is the last, and the connection ends with
 * ETIMEDOUT at 0.3 + 3 s. */
static void test_refused_data_retried_until_user_timeout(void **state)
{
    (void)state;
    struct fx f = open_conn();
    sk_tcp_set_user_timeout(f.c, SEC(3));
    f.r->refuse = true;
    sk_time_us t0 = f.r->now;
    assert_int_equal(fx_send(f.c, 24, 24), 24);
    assert_int_equal(refused(&f), 1);
    assert_int_equal(info(f.c).snd_nxt, FX_SND(&f, 24)); /* nothing went */
    sk_time_us first = t0 + RTO_US;
    for (uint32_t k = 1; k <= 6; k++) {
        sk_time_us at = first + (k - 1) * RESOURCE_PROBE_US;
        raw_run_until(f.r, at - 1);
        assert_int_equal(info(f.c).probes, k - 1);
        raw_run_until(f.r, at);
        assert_int_equal(info(f.c).probes, k);
        assert_int_equal(refused(&f), 1 + k);
        assert_int_equal(info(f.c).retransmits, 0); /* no backoff */
    }
    raw_run_until(f.r, first + SEC(3) - 1);
    expect_state(f.c, SK_TCP_ESTABLISHED);
    raw_run_until(f.r, first + SEC(3));
    expect_state(f.c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(f.c), -ETIMEDOUT);
    assert_int_equal(info(f.c).probes, 6);
    assert_int_equal(refused(&f), 7);
    raw_expect_none(f.r);
    fx_free(&f);
}

/* The link takes frames again: the next try sends the data, and the ACK clock runs on. */
static void test_refused_data_goes_when_the_link_takes_it(void **state)
{
    (void)state;
    struct fx f = open_conn();
    f.r->refuse = true;
    sk_time_us t0 = f.r->now;
    assert_int_equal(fx_send(f.c, 24, 1000), 1000);
    raw_run_until(f.r, t0 + RTO_US + RESOURCE_PROBE_US); /* two tries refused */
    assert_int_equal(info(f.c).probes, 2);
    f.r->refuse = false;
    raw_run_until(f.r, t0 + RTO_US + 2 * RESOURCE_PROBE_US);
    const struct raw_out *o = fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 24), FX_RCV(&f, 0), 1000);
    assert_int_equal(o->time, t0 + RTO_US + 2 * RESOURCE_PROBE_US);
    fx_ack(&f, FX_SND(&f, 1024), NULL, 0);
    assert_int_equal(info(f.c).probes, 0);
    assert_int_equal(info(f.c).total_retransmits, 0); /* it was never sent before */
    fx_free(&f);
}

/* A retransmission the link refuses after a timeout: not counted, no backoff (the RTO stays
 * 300 ms), tried again 500 ms later; once the link takes it, it is counted and the timer
 * backs off from there (600 ms). */
static void test_refused_retransmission_not_backed_off(void **state)
{
    (void)state;
    struct fx f = open_conn();
    sk_time_us t0 = f.r->now;
    assert_int_equal(fx_send(f.c, 24, 1000), 1000);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 24), FX_RCV(&f, 0), 1000); /* lost */
    f.r->refuse = true;
    raw_run_until(f.r, t0 + RTO_US);
    assert_int_equal(refused(&f), 1);
    assert_int_equal(info(f.c).total_retransmits, 0);
    assert_int_equal(info(f.c).retransmits, 0);
    assert_int_equal(info(f.c).rto_us, RTO_US);
    f.r->refuse = false;
    raw_run_until(f.r, t0 + RTO_US + RESOURCE_PROBE_US - 1);
    raw_expect_none(f.r);
    raw_run_until(f.r, t0 + RTO_US + RESOURCE_PROBE_US);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 24), FX_RCV(&f, 0), 1000);
    assert_int_equal(info(f.c).total_retransmits, 1);
    assert_int_equal(info(f.c).rto_us, 2 * RTO_US);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_data_retried_until_user_timeout),
        cmocka_unit_test(test_refused_data_goes_when_the_link_takes_it),
        cmocka_unit_test(test_refused_retransmission_not_backed_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
