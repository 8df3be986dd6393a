/* Torture: peers that misbehave or go away, and connections that sit idle for weeks.
 *
 * - A receiver that reneges on SACK (RFC 2018 §8): after the RTO the sender must retransmit
 *   from SND.UNA whatever was SACKed (RFC 6675 §5.1), and the transfer completes.
 * - A peer that shuts its window and vanishes: the connection ends with ETIMEDOUT within its
 *   retry budget (the backed-off probe intervals, computed here) or its user timeout, also as
 *   an orphan in FIN-WAIT-1; a peer that keeps answering probes with window 0 keeps the
 *   connection for an hour (RFC 9293 §3.8.6.1).
 * - 25 days without a segment, then data both ways: delivered (RFC 7323 §5.5: TS.Recent is
 *   invalid after 24 days idle, so PAWS must not reject the next segment although the
 *   timestamp clocks moved by more than 2^31 ms); and a peer whose TSval jumps by more than
 *   2^31 after the idle period.
 */
#include "test_datapath.h"
#include "torture.h"

#define RTT MS(100)

/* Sequence-space comparison (RFC 9293 §3.4), written here rather than taken from the core. */
static bool sq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static bool sq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
#define DAY (86400ull * 1000000)

/* RFC 6298 §2.2 and §2.3, computed here: after one RTT sample R, SRTT = R, RTTVAR = R/2,
 * RTO = SRTT + max(G, 4 * RTTVAR), then §2.4: at least rto_min (clock granularity G taken as
 * 1 ms, far below the terms it is compared with). */
static uint64_t rfc6298_rto(uint64_t r_us, uint64_t rto_min_us)
{
    uint64_t rto = r_us + (4 * (r_us / 2) > 1000 ? 4 * (r_us / 2) : 1000);
    return rto < rto_min_us ? rto_min_us : rto;
}

/* The time `retries` unanswered probes or retransmissions take, each interval doubling from
 * rto and capped at rto_max (RFC 6298 §5.5 and §2.5), plus the wait after the last one. */
static uint64_t backoff_budget(uint64_t rto, uint64_t rto_max, unsigned retries)
{
    uint64_t sum = 0;
    for (unsigned k = 0; k <= retries; k++) {
        uint64_t t = rto << (k < 40 ? k : 40);
        sum += t < rto_max ? t : rto_max;
    }
    return sum;
}

/* ---------------- SACK reneging ---------------- */

static void test_sack_renege_repaired_after_rto(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, &(struct fx_peer){.sack = true}, &iss);
    const uint32_t s0 = iss + 1, end = s0 + 4 * MSS;
    assert_int_equal(fx_send(c, 0, 4 * MSS), 4 * MSS);
    for (uint32_t i = 0; i < 4; i++)
        fx_expect_data(r, ACK | (i == 3 ? PSH : 0), s0 + i * MSS, IRS + 1, MSS);
    raw_run_for(r, RTT);
    /* The peer holds segments 2..4 (SACKed) but not the first. */
    dp_sack(r, s0, (const uint32_t[][2]){{s0 + MSS, end}}, 1);
    dp_sack(r, s0, (const uint32_t[][2]){{s0 + MSS, end}}, 1);
    dp_sack(r, s0, (const uint32_t[][2]){{s0 + MSS, end}}, 1);
    size_t first;
    fx_take(r, &first);
    /* Whatever the sender repaired of the first segment, the peer now acknowledges just that
     * one and reneges: segments 2..4 are gone from its queue (no SACK block any more). */
    raw_run_for(r, RTT);
    dp_sack(r, s0 + MSS, NULL, 0);
    fx_take(r, &first);
    /* The peer acknowledges in order whatever reaches it from here on, without SACK. */
    uint32_t rcv_nxt = s0 + MSS;
    sk_time_us renege_at = r->now, resent_at = SK_TIME_NEVER;
    const sk_time_us limit = r->now + SEC(300);
    while (rcv_nxt != end && r->now < limit) {
        raw_run_for(r, MS(10));
        size_t n = fx_take(r, &first);
        for (size_t i = first; i < first + n; i++) {
            const struct raw_out *o = &r->out[i];
            if (o->len && o->seq == s0 + MSS && resent_at == SK_TIME_NEVER)
                resent_at = o->time;
            if (o->len && sq_le(o->seq, rcv_nxt) && sq_gt(o->seq + o->len, rcv_nxt))
                rcv_nxt = o->seq + o->len;
        }
        if (n)
            dp_sack(r, rcv_nxt, NULL, 0);
    }
    if (resent_at == SK_TIME_NEVER)
        fprintf(stderr, "reneged segment at %u never retransmitted in %.1f s (snd_una %u, "
                        "snd_nxt %u, total rtx %llu)\n", s0 + MSS, (double)(r->now - renege_at) / 1e6,
                info(c).snd_una, info(c).snd_nxt, (unsigned long long)info(c).total_retransmits);
    assert_true(resent_at != SK_TIME_NEVER);
    /* Within one RTO, however far it was backed off (at most rto_max, RFC 6298 §2.5). */
    assert_true(resent_at - renege_at <= sk_stack_config(r->st)->rto_max_us);
    assert_int_equal(rcv_nxt, end);
    raw_run_for(r, MS(10));
    assert_int_equal(info(c).snd_una, end);
    assert_int_equal(sk_tcp_error(c), 0);
    raw_free(r);
}

/* ---------------- a peer behind a zero window ---------------- */

/* A connection whose peer has acknowledged everything sent so far with window 0. Returns it
 * with data still queued behind the shut window; *acked is SND.UNA. */
static struct sk_tcp *zero_window_conn(struct raw *r, uint32_t *acked)
{
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, RTT, NULL, &iss);
    assert_int_equal(fx_send(c, 0, 20000), 20000);
    raw_run_for(r, RTT);
    size_t first, n = fx_take(r, &first);
    uint32_t top = iss + 1;
    for (size_t i = first; i < first + n; i++)
        if (sq_gt(r->out[i].seq + r->out[i].len, top))
            top = r->out[i].seq + r->out[i].len;
    assert_true(sq_gt(top, iss + 1));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = top, .zero_wnd = true);
    *acked = top;
    return c;
}

static struct raw *vanish_stack(uint32_t user_timeout_us)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.data_retries = 8;
    cfg.user_timeout_us = user_timeout_us;
    return raw_new(&cfg);
}

/* Runs until the connection fails or `limit`; the peer answers nothing. */
static sk_time_us run_silent(struct raw *r, struct sk_tcp *c, sk_time_us limit)
{
    while (r->now < limit && (c == NULL || sk_tcp_error(c) == 0) &&
           (c != NULL || counters(r->st).connections > 0))
        raw_run_for(r, MS(100));
    return r->now;
}

static void test_zero_window_peer_vanishes_times_out(void **state)
{
    (void)state;
    struct raw *r = vanish_stack(0);
    const struct sk_config *cfg = sk_stack_config(r->st);
    uint32_t acked;
    struct sk_tcp *c = zero_window_conn(r, &acked);
    sk_time_us t0 = r->now;
    uint64_t bound = backoff_budget(rfc6298_rto(RTT, cfg->rto_min_us), cfg->rto_max_us,
                                    cfg->data_retries);
    sk_time_us end = run_silent(r, c, t0 + 2 * bound + SEC(600));
    fprintf(stderr, "zero window, peer gone: error %d after %.1f s (bound %.1f s)\n",
            sk_tcp_error(c), (double)(end - t0) / 1e6, (double)bound / 1e6);
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    assert_true(end - t0 <= bound + MS(200));
    sk_tcp_close(c);
    raw_free(r);
}

static void test_zero_window_peer_vanishes_user_timeout(void **state)
{
    (void)state;
    const uint32_t uto = 30000000; /* 30 s, well inside the retry budget */
    struct raw *r = vanish_stack(uto);
    uint32_t acked;
    struct sk_tcp *c = zero_window_conn(r, &acked);
    sk_time_us t0 = r->now;
    sk_time_us end = run_silent(r, c, t0 + SEC(3600));
    fprintf(stderr, "zero window, peer gone, user timeout 30 s: error %d after %.1f s\n",
            sk_tcp_error(c), (double)(end - t0) / 1e6);
    assert_int_equal(sk_tcp_error(c), -ETIMEDOUT);
    /* RFC 9293 §3.8.3: the user timeout runs from the oldest unacknowledged data. At t0
     * everything sent is acknowledged; the first probe byte goes out one RTO later (RFC 6298,
     * computed here), so the connection ends between uto and RTO + uto after t0 (plus one
     * 100 ms step of the loop). */
    uint64_t rto = rfc6298_rto(RTT, sk_stack_config(r->st)->rto_min_us);
    assert_true(end - t0 >= uto);
    assert_true(end - t0 <= rto + uto + MS(200));
    sk_tcp_close(c);
    raw_free(r);
}

static void test_zero_window_orphan_in_fin_wait_1_times_out(void **state)
{
    (void)state;
    struct raw *r = vanish_stack(0);
    const struct sk_config *cfg = sk_stack_config(r->st);
    uint32_t acked;
    struct sk_tcp *c = zero_window_conn(r, &acked);
    sk_tcp_close(c); /* the application is gone: FIN waits behind the shut window */
    assert_int_equal(counters(r->st).connections, 1);
    sk_time_us t0 = r->now;
    uint64_t bound = backoff_budget(rfc6298_rto(RTT, cfg->rto_min_us), cfg->rto_max_us,
                                    cfg->data_retries);
    sk_time_us end = run_silent(r, NULL, t0 + 2 * bound + SEC(600));
    fprintf(stderr, "orphan behind zero window: %u TCBs after %.1f s (bound %.1f s)\n",
            counters(r->st).connections, (double)(end - t0) / 1e6, (double)bound / 1e6);
    assert_int_equal(counters(r->st).connections, 0);
    assert_true(end - t0 <= bound + MS(200));
    raw_free(r);
}

static void test_zero_window_peer_answering_probes_stays_an_hour(void **state)
{
    (void)state;
    struct raw *r = vanish_stack(0);
    uint32_t acked;
    struct sk_tcp *c = zero_window_conn(r, &acked);
    sk_time_us t0 = r->now;
    unsigned probes = 0;
    while (r->now < t0 + SEC(3600) && sk_tcp_error(c) == 0) {
        raw_run_for(r, MS(100));
        size_t first, n = fx_take(r, &first);
        probes += (unsigned)n;
        if (n) /* alive, but still no room: RFC 9293 §3.8.6.1 says keep probing */
            raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = acked, .zero_wnd = true);
    }
    fprintf(stderr, "zero window answered for %.0f s: %u probes, error %d, %s\n",
            (double)(r->now - t0) / 1e6, probes, sk_tcp_error(c),
            sk_tcp_state_name(sk_tcp_get_state(c)));
    assert_int_equal(sk_tcp_error(c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_true(probes > 0);
    /* The window opens: the queued data flows again. */
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = acked, .wnd = 65535);
    raw_run_for(r, MS(10));
    assert_true(r->nout > r->cursor);
    raw_free(r);
}

/* ---------------- 25 days idle ---------------- */

static void test_idle_25_days_then_data_both_ways(void **state)
{
    (void)state;
    struct sk_config ca, cb;
    tt_config(&ca, 0, 256 * 1024, 1500, 7);
    tt_config(&cb, 1, 256 * 1024, 1500, 7);
    struct tt_run *r = tt_new(&ca, &cb, 25, 10000);
    r->keep_open = true;
    tt_stream(r, 0, 0x25a, 100000);
    tt_stream(r, 1, 0x25b, 100000);
    assert_true(tt_transfer(r, r->sim.now + SEC(60)));
    /* 25 days of silence: no keep-alive, nothing pending, the timestamp clocks (1 ms a tick,
     * RFC 7323 §5.4) move by 2.16e9 > 2^31. */
    sk_time_us idle_from = r->sim.now;
    while (sk_sim_step(&r->sim, idle_from + 25 * DAY))
        ;
    assert_int_equal(r->sim.now, idle_from + 25 * DAY);
    tt_more(r, 0, 100000);
    tt_more(r, 1, 100000);
    sk_time_us t1 = r->sim.now;
    bool done = tt_transfer(r, t1 + SEC(600));
    tt_report(r, "after 25 days");
    fprintf(stderr, "after 25 days idle: %s in %.3f s virtual\n", done ? "delivered" : "NOT delivered",
            (double)(r->sim.now - t1) / 1e6);
    assert_true(done);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r->s[i].bad_at, UINT64_MAX);
        assert_int_equal(r->s[i].error, 0);
        assert_int_equal(counters(r->sim.stack[i]).drops[SK_DROP_TCP_PAWS], 0);
    }
    tt_free(r);
}

static void test_peer_tsval_jumps_past_2_31_after_idle(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    const uint32_t tsv = 1000;
    struct sk_tcp *c = dp_connect(r, RTT, &(struct fx_peer){.ts = true, .ts_val = tsv}, &iss);
    uint8_t data[100];
    memset(data, 'x', sizeof(data));
    uint8_t o[40];
    size_t n = fx_opts(o, true, tsv + 10, 0, NULL, 0);
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 1, .ack = iss + 1, .data = data, .len = 100,
             .raw_opts = o, .raw_opts_len = n);
    assert_int_equal(sk_tcp_readable(c), 100);
    raw_run_for(r, 25 * DAY);
    /* RFC 7323 §5.5: after more than 24 days idle TS.Recent is invalid; the peer's clock
     * moved by 2^31 + 5000 ticks, which PAWS alone would read as "older". */
    n = fx_opts(o, true, tsv + 10 + 0x80000000u + 5000u, 0, NULL, 0);
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 101, .ack = iss + 1, .data = data, .len = 100,
             .raw_opts = o, .raw_opts_len = n);
    fprintf(stderr, "TSval jump after 25 days: readable %zu, paws drops %llu\n",
            sk_tcp_readable(c), (unsigned long long)drops(r->st, SK_DROP_TCP_PAWS));
    assert_int_equal(sk_tcp_readable(c), 200);
    assert_int_equal(drops(r->st, SK_DROP_TCP_PAWS), 0);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_sack_renege_repaired_after_rto),
        TEST(test_zero_window_peer_vanishes_times_out),
        TEST(test_zero_window_peer_vanishes_user_timeout),
        TEST(test_zero_window_orphan_in_fin_wait_1_times_out),
        TEST(test_zero_window_peer_answering_probes_stays_an_hour),
        cmocka_unit_test_teardown(test_idle_25_days_then_data_both_ways, tt_teardown),
        TEST(test_peer_tsval_jumps_past_2_31_after_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
