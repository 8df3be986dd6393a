/* Tail loss probe (RFC 8985 §7): when the last segment of a flight is lost no duplicate ACK can
 * come, and without the probe the sender waits a whole RTO. With SACK, the probe goes out one
 * PTO after the last ACK: 2*SRTT, plus the worst-case delayed ACK (200 ms) when one segment is
 * in flight. Two stacks on the simulated link, 10 ms each way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

enum { MSS_A = 1448, N = 3 * MSS_A };

/* The last of three segments is lost: the first two are ACKed at once (two full segments),
 * the probe resends the last one at exactly ACK time + 2*SRTT + 200 ms, long before the 1 s
 * RTO, its ACK ends the episode, and since no D-SACK said the original arrived the probe counts
 * as a repaired loss: cwnd is reduced (§7.4.2). */
static void test_lost_tail_is_probed_before_the_rto(void **state)
{
    (void)state;
    struct fx_pair f = fx_pair_open(NULL);
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    sk_tcp_set_nodelay(ca, true);
    pair_drop(p, SIDE_A, PSH, PSH, 1); /* the flight's last segment carries PSH */
    uint32_t a = info(ca).iss, b = info(cb).iss;
    static uint8_t msg[N], got[N];
    for (size_t i = 0; i < N; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    sk_time_us t1 = pair_now(p);
    assert_int_equal(sk_tcp_send(ca, msg, N), N);
    pair_run_until(p, t1 + MS(50));
    expect_data(p, A_TO_B, ACK, a + 1, b + 1, MSS_A);
    expect_data(p, A_TO_B, ACK, a + 1 + MSS_A, b + 1, MSS_A);
    expect_data(p, A_TO_B, ACK | PSH, a + 1 + 2 * MSS_A, b + 1, MSS_A); /* lost */
    /* B acknowledges the first two at once (two full segments); A reads SRTT from it. */
    sk_time_us t_ack = expect_seg(p, B_TO_A, ACK, b + 1, a + 1 + 2 * MSS_A)->ev.time + LINK_DELAY;
    assert_int_equal(info(ca).snd_una, a + 1 + 2 * MSS_A);
    uint32_t cwnd_before = info(ca).cwnd;
    sk_time_us probe_at = t_ack + 2ull * info(ca).srtt_us + MS(200);
    assert_true(probe_at < t1 + SEC(1));
    /* B delays its ACK of the single segment by 40 ms (the harness's delayed-ACK timer). */
    pair_run_until(p, probe_at + 2 * LINK_DELAY + MS(40) + 1);
    const struct rec_ev *probe = expect_data(p, A_TO_B, ACK | PSH, a + 1 + 2 * MSS_A, b + 1, MSS_A);
    assert_int_equal(probe->ev.time, probe_at);
    assert_int_equal(info(ca).snd_una, a + 1 + N);
    assert_int_equal(counters(p->a).tcp_tail_loss_probes, 1);
    assert_int_equal(counters(p->a).tcp_tlp_recoveries, 1);
    assert_int_equal(info(ca).total_retransmits, 1);
    assert_true(info(ca).cwnd < cwnd_before);
    assert_int_equal(sk_tcp_recv(cb, got, sizeof(got)), N);
    assert_memory_equal(got, msg, N);
    /* Nothing else: the RTO never fires. */
    pair_run_for(p, SEC(2));
    expect_no_seg(p, A_TO_B);
    pair_free(p);
}

/* Without SACK there is no probe: the lost tail waits for the RTO (1 s). */
static void test_no_probe_without_sack(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.opt_sack = false;
    struct fx_pair f = fx_pair_open(&(struct fx_pair_opts){.ca = &cfg});
    struct pair *p = f.p;
    struct sk_tcp *ca = f.ca, *cb = f.cb;
    sk_tcp_set_nodelay(ca, true);
    pair_drop(p, SIDE_A, PSH, PSH, 1);
    uint32_t a = info(ca).iss, b = info(cb).iss;
    static uint8_t msg[N];
    memset(msg, 0x5a, sizeof(msg));
    sk_time_us t1 = pair_now(p);
    assert_int_equal(sk_tcp_send(ca, msg, N), N);
    pair_run_until(p, t1 + SEC(1) + 2 * LINK_DELAY + 1);
    expect_data(p, A_TO_B, ACK, a + 1, b + 1, MSS_A);
    expect_data(p, A_TO_B, ACK, a + 1 + MSS_A, b + 1, MSS_A);
    expect_data(p, A_TO_B, ACK | PSH, a + 1 + 2 * MSS_A, b + 1, MSS_A);
    const struct rec_ev *rto = expect_data(p, A_TO_B, ACK | PSH, a + 1 + 2 * MSS_A, b + 1, MSS_A);
    assert_true(rto->ev.time >= t1 + SEC(1));
    assert_int_equal(counters(p->a).tcp_tail_loss_probes, 0);
    pair_free(p);
}

/* §7.3: the probe is "the last segment sent". Data went, then the FIN alone (shutdown after
 * the data left): the probe, 2*SRTT after the FIN (PTO, SRTT 10 ms from the handshake), is the
 * FIN alone again, not the data's last MSS with it (Linux's tcp_send_loss_probe resends the
 * last skb, here the FIN's; shutdown-rdwr-write-queue-close.pkt pins it). */
static void test_probe_after_lone_fin_is_the_fin(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.tlp = true;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true, .rtt_us = MS(10)});
    assert_int_equal(fx_send(f.c, 0, 2 * FX_MSS), 2 * FX_MSS);
    fx_expect_data(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 0), FX_MSS);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, FX_MSS), FX_RCV(&f, 0), FX_MSS);
    raw_run_for(f.r, MS(1));
    assert_int_equal(sk_tcp_shutdown(f.c), 0);
    const struct raw_out *fin =
        fx_expect_data(f.r, ACK | FIN, FX_SND(&f, 2 * FX_MSS), FX_RCV(&f, 0), 0);
    sk_time_us t_fin = fin->time;
    raw_run_until(f.r, t_fin + MS(20) - 1);
    raw_expect_none(f.r);
    raw_run_until(f.r, t_fin + MS(20));
    fx_expect_data(f.r, ACK | FIN, FX_SND(&f, 2 * FX_MSS), FX_RCV(&f, 0), 0);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_tail_is_probed_before_the_rto),
        cmocka_unit_test(test_no_probe_without_sack),
        cmocka_unit_test(test_probe_after_lone_fin_is_the_fin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
