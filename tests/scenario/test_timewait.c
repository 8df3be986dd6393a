/* Scenario: reusing a 4-tuple held in TIME-WAIT (RFC 6191; RFC 1122 §4.2.2.13 without
 * timestamps). The stack closed first as the passive opener, so its TIME-WAIT TCB and a
 * listener share the port; a new SYN either reopens the 4-tuple or is refused. */
#include "../ref/ref_raw.h"

/* The ISN key of the stack under test (tests/ref/ref_isn.h): every ISS below is RFC 6528's for
 * it, computed here. The peer's ISNs are the test's own. */
static struct ref_key key;

static struct raw *keyed_raw(const struct sk_config *cfg)
{
    return ref_raw_new(cfg, &key, 9);
}

/* Passive open with timestamps, then the stack closes first and ends in TIME-WAIT.
 * The peer used ISN 1000 and TSval 100..102. Returns the TIME-WAIT connection's ISS. */
static uint32_t into_time_wait(struct raw *r, struct sk_tcp **l, bool ts)
{
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, l), 0);
    uint8_t o = SK_OPT_MSS | (ts ? SK_OPT_TIMESTAMP : 0);
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 1000, .opts = o, .mss = 1460, .ts_val = 100);
    uint32_t tsv = raw_expect(r, SYN | ACK, iss, 1001)->ts_val; /* the peer echoes it */
    uint8_t ot = ts ? SK_OPT_TIMESTAMP : 0;
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 1, .opts = ot, .ts_val = 101,
             .ts_ecr = tsv);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_accept(*l, &c), 0);
    assert_int_equal(info(c).ts_ok, ts);
    sk_tcp_close(c);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2, .opts = ot, .ts_val = 102,
             .ts_ecr = tsv);
    raw_expect(r, ACK, iss + 2, 1002);
    assert_int_equal(counters(r->st).connections, 2); /* listener + TIME-WAIT */
    return iss;
}

/* A new SYN whose timestamp is newer than TS.Recent reopens the 4-tuple at once. */
static void test_time_wait_reused_by_syn_with_newer_timestamp(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l, *c;
    uint32_t iss = into_time_wait(r, &l, true);
    raw_run_for(r, SEC(1));
    /* The new incarnation's ISS is RFC 6528's for now: the same F, M 250000 ticks on, so
     * above the old incarnation's last sequence number. */
    uint32_t iss2 = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_true((int32_t)(iss2 - (iss + 2)) > 0);
    raw_send(r, .flags = SYN, .seq = 500, .opts = SK_OPT_MSS | SK_OPT_TIMESTAMP, .mss = 1460,
             .ts_val = 103);
    raw_expect(r, SYN | ACK, iss2, 501);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 1);
    assert_int_equal(counters(r->st).connections, 2); /* listener + the new child */
    raw_send(r, .flags = ACK, .seq = 501, .ack = iss2 + 1, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 104);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_int_equal(info(c).irs, 500);
    raw_free(r);
}

/* A SYN with an older timestamp fails the RFC 6191 test: PAWS drops it and the TIME-WAIT
 * TCB answers with an ACK of what it has (<SEQ=SND.NXT><ACK=RCV.NXT>); no new connection. */
static void test_time_wait_syn_with_old_timestamp_is_not_accepted(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l, *c;
    uint32_t iss = into_time_wait(r, &l, true);
    raw_send(r, .flags = SYN, .seq = 5000, .opts = SK_OPT_MSS | SK_OPT_TIMESTAMP, .mss = 1460,
             .ts_val = 50);
    raw_expect(r, ACK, iss + 2, 1002);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 0);
    assert_int_equal(counters(r->st).connections, 2);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
    raw_free(r);
}

/* Without timestamps: a SYN whose sequence number is above RCV.NXT reopens the 4-tuple;
 * one at or below it does not (challenge ACK / ACK from TIME-WAIT). */
static void test_time_wait_reuse_without_timestamps_by_sequence(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.opt_timestamps = false;
    struct raw *r = keyed_raw(&cfg);
    struct sk_tcp *l, *c;
    uint32_t iss = into_time_wait(r, &l, false);

    raw_send(r, .flags = SYN, .seq = 900, .opts = SK_OPT_MSS, .mss = 1460); /* old */
    raw_expect(r, ACK, iss + 2, 1002);
    raw_send(r, .flags = SYN, .seq = 1002, .opts = SK_OPT_MSS, .mss = 1460); /* = RCV.NXT */
    raw_expect(r, ACK, iss + 2, 1002);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 0);

    uint32_t iss2 = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 200000, .opts = SK_OPT_MSS, .mss = 1460);
    raw_expect(r, SYN | ACK, iss2, 200001);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 1);
    raw_send(r, .flags = ACK, .seq = 200001, .ack = iss2 + 1);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    raw_free(r);
}

/* RFC 9293 §3.10.7.4: an exact RST ends TIME-WAIT at once (the default, as Linux). */
static void test_rst_ends_time_wait_by_default(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l;
    into_time_wait(r, &l, false);
    raw_send(r, .flags = RST, .seq = 1002);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 1); /* the listener alone */
    raw_free(r);
}

/* RFC 1337 §3 (sk_config.rfc1337): the same RST is dropped and counted, TIME-WAIT runs its
 * 2*MSL, and a retransmitted FIN is still answered. */
static void test_rfc1337_keeps_time_wait_against_rst(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rfc1337 = true;
    struct raw *r = keyed_raw(&cfg);
    struct sk_tcp *l;
    uint32_t iss = into_time_wait(r, &l, false);
    uint64_t before = counters(r->st).drops[SK_DROP_TCP_RST_INVALID];
    raw_send(r, .flags = RST, .seq = 1002);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 2);
    assert_int_equal(counters(r->st).drops[SK_DROP_TCP_RST_INVALID], before + 1);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
    raw_expect(r, ACK, iss + 2, 1002);
    raw_run_for(r, 2 * cfg.msl_us + 1);
    assert_int_equal(counters(r->st).connections, 1);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_rst_ends_time_wait_by_default),
        TEST(test_rfc1337_keeps_time_wait_against_rst),
        TEST(test_time_wait_reused_by_syn_with_newer_timestamp),
        TEST(test_time_wait_syn_with_old_timestamp_is_not_accepted),
        TEST(test_time_wait_reuse_without_timestamps_by_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
