/* Scenario: TIME-WAIT as a record of its own (src/tcp/tcp_timewait.c) and reusing a 4-tuple
 * held in it (RFC 6191; RFC 1122 §4.2.2.13 without timestamps). The stack closes first as the
 * passive opener, so its TIME-WAIT and a listener share the port; a new SYN either reopens the
 * 4-tuple or is answered as TIME-WAIT answers it. Also: the record's size and the memory of
 * 50,000 of them, reclaim at max_time_wait, the retransmitted FIN, RST with and without
 * RFC 1337, and a TIME-WAIT whose application still holds its handle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ref/ref_raw.h"
#include "tcp/tcp_int.h"

#define MSL SEC(30) /* the default configuration's msl_us */

/* The ISN key of the stack under test (tests/ref/ref_isn.h): every ISS below is RFC 6528's for
 * it, computed here. The peer's ISNs are the test's own. */
static struct ref_key key;

static struct raw *keyed_raw(const struct sk_config *cfg)
{
    return ref_raw_new(cfg, &key, 9);
}

/* Passive open from peer port sport (timestamps if ts), then the stack closes first (keeping
 * its handle in *kept if kept is not NULL: shutdown instead of close) and ends in TIME-WAIT.
 * The peer used ISN 1000 and TSval 100..102. Returns the connection's ISS; its SND.NXT in
 * TIME-WAIT is ISS + 2 (SYN and FIN), its RCV.NXT 1002. */
static uint32_t tw_from(struct raw *r, struct sk_tcp *l, uint16_t sport, bool ts,
                        struct sk_tcp **kept)
{
    uint8_t o = SK_OPT_MSS | (ts ? SK_OPT_TIMESTAMP : 0);
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, sport);
    raw_send(r, .sport = sport, .flags = SYN, .seq = 1000, .opts = o, .mss = 1460, .ts_val = 100);
    uint32_t tsv = raw_expect(r, SYN | ACK, iss, 1001)->ts_val; /* the peer echoes it */
    uint8_t ot = ts ? SK_OPT_TIMESTAMP : 0;
    raw_send(r, .sport = sport, .flags = ACK, .seq = 1001, .ack = iss + 1, .opts = ot,
             .ts_val = 101, .ts_ecr = tsv);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    assert_int_equal(info(c).ts_ok, ts);
    if (kept) {
        *kept = c;
        assert_int_equal(sk_tcp_shutdown(c), 0);
    } else {
        sk_tcp_close(c);
    }
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .sport = sport, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2, .opts = ot,
             .ts_val = 102, .ts_ecr = tsv);
    raw_expect(r, ACK, iss + 2, 1002);
    return iss;
}

/* The same from RAW_PEER_PORT, with a new listener; the application lets go of the TCB, so
 * only the listener remains a TCB and the TIME-WAIT is a record. */
static uint32_t into_time_wait(struct raw *r, struct sk_tcp **l, bool ts)
{
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, l), 0);
    uint32_t iss = tw_from(r, *l, RAW_PEER_PORT, ts, NULL);
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(counters(r->st).timewait_records, 1);
    assert_int_equal(counters(r->st).buffer_bytes, 0);
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

/* A SYN with an older timestamp fails the RFC 6191 test: the TIME-WAIT record answers with
 * an ACK of what it has (<SEQ=SND.NXT><ACK=RCV.NXT>); no new connection. It is RFC 5961
 * §4.2's challenge ACK, which a SYN gets whatever its sequence number and timestamp (as
 * Linux's PAWS check sends a SYN to its challenge ACK), so not a PAWS drop. */
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
    assert_int_equal(counters(r->st).timewait_records, 1);
    assert_int_equal(counters(r->st).drops[SK_DROP_TCP_SYN_INVALID], 1);
    assert_int_equal(counters(r->st).tcp_challenge_acks, 1);
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

    /* At the instant TIME-WAIT began RFC 6528 gives the old ISS again: the new one is taken
     * 2^17 above the old SND.NXT instead (see test_reuse_puts_new_iss_above_old_snd_nxt). */
    uint32_t isn = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    uint32_t floor = iss + 2 + (1u << 17);
    uint32_t iss2 = (int32_t)(isn - floor) >= 0 ? isn : floor;
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
    assert_int_equal(counters(r->st).timewait_records, 0);
    /* The 4-tuple is free: a late FIN now meets the listener, which resets it. */
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = 77);
    raw_expect(r, RST, 77, 0);
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
    assert_int_equal(counters(r->st).timewait_records, 1);
    assert_int_equal(counters(r->st).drops[SK_DROP_TCP_RST_INVALID], before + 1);
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
    raw_expect(r, ACK, iss + 2, 1002);
    raw_run_for(r, 2 * cfg.msl_us + 1);
    assert_int_equal(counters(r->st).timewait_records, 0);
    raw_free(r);
}

/* RFC 6191 §2 asks only that the new incarnation's sequence numbers lie above the old one's.
 * A SYN at the very moment TIME-WAIT began finds RFC 6528's ISN equal to the old ISS (same F,
 * same clock), below the old SND.NXT: the new ISS is taken 2^17 above the old SND.NXT (the
 * rule of tcp_timewait.c, TW_ISS_GAP, written again here), and it is above SND.NXT. */
static void test_reuse_puts_new_iss_above_old_snd_nxt(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l, *c;
    uint32_t iss = into_time_wait(r, &l, true);
    uint32_t old_snd_nxt = iss + 2; /* recorded from the old connection: SYN and FIN */
    uint32_t isn = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_true((int32_t)(isn - old_snd_nxt) < 0); /* RFC 6528 alone would go backwards */
    uint32_t want = old_snd_nxt + (1u << 17);
    raw_send(r, .flags = SYN, .seq = 500, .opts = SK_OPT_MSS | SK_OPT_TIMESTAMP, .mss = 1460,
             .ts_val = 103);
    uint32_t iss2 = raw_expect(r, SYN | ACK, want, 501)->seq;
    assert_true((int32_t)(iss2 - old_snd_nxt) > 0);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 1);
    assert_int_equal(counters(r->st).timewait_records, 0);
    raw_send(r, .flags = ACK, .seq = 501, .ack = iss2 + 1, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 104);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    assert_int_equal(info(c).iss, want);
    raw_free(r);
}

/* The listener is consulted first: with none on the port, a SYN RFC 6191 would admit is
 * answered as TIME-WAIT answers a SYN (RFC 5961 §4.2: an ACK), no RST, and the record stays
 * for its 2*MSL. */
static void test_syn_without_listener_is_acked_and_time_wait_stays(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l;
    uint32_t iss = into_time_wait(r, &l, true);
    sk_tcp_close(l);
    raw_send(r, .flags = SYN, .seq = 500, .opts = SK_OPT_MSS | SK_OPT_TIMESTAMP, .mss = 1460,
             .ts_val = 103);
    const struct raw_out *o = raw_expect(r, ACK, iss + 2, 1002);
    assert_int_equal(o->ts_ecr, 102); /* an unacceptable segment leaves TS.Recent alone */
    raw_expect_none(r);
    assert_int_equal(counters(r->st).tcp_rst_out, 0);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 0);
    assert_int_equal(counters(r->st).timewait_records, 1);
    assert_int_equal(counters(r->st).connections, 0);
    raw_run_until(r, T0 + 2 * MSL - 1);
    assert_int_equal(counters(r->st).timewait_records, 1);
    raw_run_until(r, T0 + 2 * MSL);
    assert_int_equal(counters(r->st).timewait_records, 0);
    raw_free(r);
}

/* RFC 9293 §3.10.7.4: the peer's FIN again (our ACK was lost) is answered from the record,
 * with our timestamp and TS.Recent (the FIN lies below RCV.NXT, so it does not move TS.Recent,
 * RFC 7323 §4.3), and 2*MSL starts over from then. */
static void test_record_acks_retransmitted_fin_and_restarts_2msl(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l;
    uint32_t iss = into_time_wait(r, &l, true);
    raw_run_until(r, T0 + SEC(40));
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 140);
    const struct raw_out *o = raw_expect(r, ACK, iss + 2, 1002);
    assert_int_equal(o->time, T0 + SEC(40));
    assert_true(o->opts & SK_OPT_TIMESTAMP);
    assert_int_equal(o->ts_ecr, 102);
    raw_run_until(r, T0 + 2 * MSL);
    assert_int_equal(counters(r->st).timewait_records, 1); /* would have ended here */
    raw_run_until(r, T0 + SEC(40) + 2 * MSL - 1);
    assert_int_equal(counters(r->st).timewait_records, 1);
    raw_run_until(r, T0 + SEC(40) + 2 * MSL);
    assert_int_equal(counters(r->st).timewait_records, 0);
    raw_expect_none(r);
    raw_free(r);
}

/* max_time_wait full: the oldest record is ended for the new one and counted; the others stay,
 * and --stats (sk_stack_counters_format) shows both numbers. */
static void test_reclaims_oldest_record_at_max_time_wait(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.max_time_wait = 3;
    struct raw *r = keyed_raw(&cfg);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss[4];
    for (int i = 0; i < 4; i++) {
        iss[i] = tw_from(r, l, (uint16_t)(5001 + i), false, NULL);
        raw_run_for(r, SEC(1));
    }
    assert_int_equal(counters(r->st).timewait_records, 3);
    assert_int_equal(counters(r->st).tcp_timewait_reclaimed, 1);
    /* The first is gone: its late FIN meets the listener, which resets it. */
    raw_send(r, .sport = 5001, .flags = FIN | ACK, .seq = 1001, .ack = iss[0] + 2);
    raw_expect(r, RST, iss[0] + 2, 0);
    /* The second still answers as TIME-WAIT. */
    raw_send(r, .sport = 5002, .flags = FIN | ACK, .seq = 1001, .ack = iss[1] + 2);
    raw_expect(r, ACK, iss[1] + 2, 1002);
    char buf[4096];
    sk_stack_counters_format(r->st, buf, sizeof(buf));
    assert_non_null(strstr(buf, "tcp_timewait_records 3\n"));
    assert_non_null(strstr(buf, "tcp_timewait_reclaimed 1\n"));
    /* The limits block: 4 connections into 3 records, one reclaimed. */
    sk_stack_limits_format(r->st, buf, sizeof(buf));
    assert_non_null(strstr(buf, "limit.time_wait 3 in-use 3 held 1\n"));
    raw_free(r);
}

/* A RST inside the window but not at RCV.NXT: RFC 5961 §3.2's challenge ACK, record kept. */
static void test_inexact_rst_gets_challenge_ack(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l;
    uint32_t iss = into_time_wait(r, &l, false);
    raw_send(r, .flags = RST, .seq = 1010);
    raw_expect(r, ACK, iss + 2, 1002);
    assert_int_equal(counters(r->st).tcp_challenge_acks, 1);
    assert_int_equal(counters(r->st).timewait_records, 1);
    raw_free(r);
}

/* The application shut down and keeps its handle: both FINs cross and the connection is in
 * TIME-WAIT for exactly 2*MSL as the application sees it, while the send buffer is gone and
 * the unread data stays readable; the record answers the retransmitted FIN; then CLOSED. */
static void test_time_wait_with_handle_held(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct sk_tcp *c = raw_connect(r, 1000, &iss);
    uint64_t id = conn_id(c);
    assert_int_equal(sk_tcp_shutdown(c), 0);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 2);
    raw_send(r, .flags = FIN | ACK | PSH, .seq = 1001, .ack = iss + 2, .data = "hello", .len = 5);
    raw_expect(r, ACK, iss + 2, 1007);
    expect_state(c, SK_TCP_TIME_WAIT);
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(counters(r->st).timewait_records, 1);
    /* Only the receive ring is held, at its first size (4 KiB, stack.h), not the 64 KiB
     * configured: it grows only with what it holds. */
    uint64_t held = counters(r->st).buffer_bytes;
    assert_int_equal(held, 4096);
    char buf[8];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 0);
    assert_int_equal(counters(r->st).buffer_bytes, 0);
    assert_true(sk_tcp_events(c) & SK_EV_CLOSED);
    /* A new connection to the same 4-tuple would collide with it. */
    struct sk_tcp *c2;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c2),
                     -EADDRINUSE);
    raw_run_until(r, T0 + SEC(10));
    raw_send(r, .flags = FIN | ACK | PSH, .seq = 1001, .ack = iss + 2, .data = "hello", .len = 5);
    raw_expect(r, ACK, iss + 2, 1007);
    raw_run_until(r, T0 + SEC(10) + 2 * MSL - 1);
    expect_state(c, SK_TCP_TIME_WAIT);
    raw_run_until(r, T0 + SEC(10) + 2 * MSL);
    expect_state(c, SK_TCP_CLOSED);
    assert_int_equal(sk_tcp_error(c), 0);
    assert_int_equal(counters(r->st).timewait_records, 0);
    expect_states(&r->rec, 0, id, SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_ESTABLISHED,
                  SK_TCP_FIN_WAIT_1, SK_TCP_FIN_WAIT_2, SK_TCP_TIME_WAIT, SK_TCP_CLOSED);
    sk_tcp_close(c);
    assert_int_equal(counters(r->st).connections, 0);
    raw_free(r);
}

/* Closing a handle in TIME-WAIT frees the TCB; TIME-WAIT runs on in its record, whose end
 * is traced under the connection's id. ABORT instead deletes it (RFC 9293 §3.10.5). */
static void test_close_or_abort_in_time_wait(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss = tw_from(r, l, 6001, true, &c);
    uint64_t id = conn_id(c);
    expect_state(c, SK_TCP_TIME_WAIT);
    assert_int_equal(counters(r->st).connections, 2);
    raw_run_until(r, T0 + SEC(5));
    sk_tcp_close(c);
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(counters(r->st).timewait_records, 1);
    raw_send(r, .sport = 6001, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
    raw_expect(r, ACK, iss + 2, 1002); /* and 2*MSL starts over */
    raw_run_until(r, T0 + SEC(5) + 2 * MSL);
    assert_int_equal(counters(r->st).timewait_records, 0);
    assert_int_equal(state_time(&r->rec, 0, id, SK_TCP_CLOSED), T0 + SEC(5) + 2 * MSL);
    expect_states(&r->rec, 0, id, SK_TCP_LISTEN, SK_TCP_SYN_RECEIVED, SK_TCP_ESTABLISHED,
                  SK_TCP_FIN_WAIT_1, SK_TCP_TIME_WAIT, SK_TCP_CLOSED); /* FIN+ACK at once */

    tw_from(r, l, 6002, true, &c);
    sk_tcp_abort(c);
    raw_expect_none(r); /* no RST: nothing to reset */
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(counters(r->st).timewait_records, 0);
    raw_free(r);
}

/* The handle is still held: a SYN that RFC 6191 would admit does not replace the connection
 * under the application; it gets RFC 5961 §4.2's challenge ACK, as in FreeBSD (packetdrill's
 * rcv-syn-time-wait-using-shutdown-*-secure). Once the application closes, the same SYN
 * reopens the 4-tuple. */
static void test_no_reuse_while_handle_held(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    struct sk_tcp *l, *c, *c2;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss = tw_from(r, l, RAW_PEER_PORT, true, &c);
    raw_run_for(r, SEC(1));
    raw_send(r, .flags = SYN, .seq = 500, .opts = SK_OPT_MSS | SK_OPT_TIMESTAMP, .mss = 1460,
             .ts_val = 103);
    raw_expect(r, ACK, iss + 2, 1002);
    raw_expect_none(r);
    expect_state(c, SK_TCP_TIME_WAIT);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 0);
    sk_tcp_close(c);
    uint32_t iss2 = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_true((int32_t)(iss2 - (iss + 2 + (1u << 17))) > 0);
    raw_send(r, .flags = SYN, .seq = 600, .opts = SK_OPT_MSS | SK_OPT_TIMESTAMP, .mss = 1460,
             .ts_val = 104);
    raw_expect(r, SYN | ACK, iss2, 601);
    assert_int_equal(counters(r->st).tcp_timewait_reused, 1);
    raw_send(r, .flags = ACK, .seq = 601, .ack = iss2 + 1, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 105);
    assert_int_equal(sk_tcp_accept(l, &c2), 0);
    expect_state(c2, SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* sk_config.bsd_time_wait (FreeBSD's tcp_twcheck) is kept by the record: a segment without
 * ACK is dropped silently, and anything but an in-sequence bare ACK is acknowledged. Without
 * the knob (RFC 9293), the segment without ACK but in the window is dropped too, while an
 * out-of-window bare ACK is acknowledged as unacceptable. */
static void test_bsd_time_wait_knob_in_record(void **state)
{
    (void)state;
    for (int bsd = 0; bsd < 2; bsd++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.bsd_time_wait = bsd;
        struct raw *r = keyed_raw(&cfg);
        struct sk_tcp *l;
        uint32_t iss = into_time_wait(r, &l, false);
        uint64_t no_ack = counters(r->st).drops[SK_DROP_TCP_NO_ACK];
        raw_send(r, .flags = PSH, .seq = 1002, .data = "x", .len = 1); /* no ACK bit */
        raw_expect_none(r);
        assert_int_equal(counters(r->st).drops[SK_DROP_TCP_NO_ACK], no_ack + 1);
        raw_send(r, .flags = ACK, .seq = 1002, .ack = iss + 2); /* in sequence: no answer */
        raw_expect_none(r);
        raw_send(r, .flags = ACK, .seq = 1002, .ack = iss + 1); /* an old ACK */
        if (bsd)
            raw_expect(r, ACK, iss + 2, 1002);
        raw_expect_none(r);
        raw_send(r, .flags = ACK, .seq = 900, .ack = iss + 2); /* below the window */
        raw_expect(r, ACK, iss + 2, 1002);
        raw_expect_none(r);
        assert_int_equal(counters(r->st).timewait_records, 1);
        raw_free(r);
    }
}

/* ---- 50,000 TIME-WAITs, memory counted from outside the stack ---- */

struct mass {
    struct sk_stack *st;
    size_t live;              /* bytes the stack holds now, counted by mass_alloc */
    uint8_t flags;            /* the last segment the stack sent */
    uint32_t seq, ack;
    unsigned nout;
};

static void *mass_alloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    struct mass *m = ctx;
    m->live = m->live - old_size + new_size;
    if (new_size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, new_size);
}

static void mass_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    struct mass *m = ctx;
    struct sk_ipv4_hdr ip;
    struct sk_tcp_hdr h;
    assert_int_equal(sk_ipv4_parse(frame, len, &ip), 0);
    assert_int_equal(sk_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, true, &h), 0);
    m->flags = h.flags;
    m->seq = h.seq;
    m->ack = h.ack;
    m->nout++;
}

static void mass_send(struct mass *m, const struct rseg *s)
{
    uint8_t buf[128];
    size_t n = raw_build(buf, sizeof(buf), s);
    sk_stack_input(m->st, buf, n, T0);
}
#define MASS_SEND(m, ...) mass_send((m), &(struct rseg){__VA_ARGS__})

/* The stack closes 50,000 connections first. Each leaves a record of sizeof(struct sk_tw)
 * bytes (at most 64); the memory they hold, measured by the allocator, stays within that
 * plus the index; max_connections (4096) and max_buffer_bytes are never touched. */
static void test_fifty_thousand_time_waits(void **state)
{
    (void)state;
    enum { N = 50000 };
    assert_true(sizeof(struct sk_tw) <= 64);
    struct mass *m = calloc(1, sizeof(*m));
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.alloc = mass_alloc;
    cfg.alloc_ctx = m;
    cfg.output = mass_output;
    cfg.output_ctx = m;
    m->st = sk_stack_new(&cfg, T0, NULL);
    assert_non_null(m->st);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(m->st, RAW_LOCAL_PORT, 16, &l), 0);
    size_t base = m->live;
    for (uint32_t i = 0; i < N; i++) {
        uint16_t port = (uint16_t)(10000 + i);
        MASS_SEND(m, .sport = port, .flags = SYN, .seq = 1000, .opts = SK_OPT_MSS, .mss = 1460);
        assert_int_equal(m->flags, SYN | ACK);
        uint32_t iss = m->seq;
        MASS_SEND(m, .sport = port, .flags = ACK, .seq = 1001, .ack = iss + 1);
        assert_int_equal(sk_tcp_accept(l, &c), 0);
        sk_tcp_close(c);
        assert_int_equal(m->flags, FIN | ACK);
        MASS_SEND(m, .sport = port, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2);
        assert_int_equal(m->flags, ACK);
        assert_int_equal(m->seq, iss + 2);
        assert_int_equal(m->ack, 1002);
    }
    struct sk_stack_counters k;
    sk_stack_counters(m->st, &k);
    assert_int_equal(k.timewait_records, N);
    assert_int_equal(k.connections, 1); /* the listener */
    assert_int_equal(k.buffer_bytes, 0);
    assert_int_equal(k.limit_connections, 0);
    assert_int_equal(k.limit_buffers, 0);
    assert_int_equal(k.tcp_timewait_reclaimed, 0);
    size_t used = m->live - base;
    /* Records, plus a hash index of at most 8 bytes a record, plus a chunk's slack. */
    size_t bound = N * (sizeof(struct sk_tw) + 8) + 64 * 1024;
    fprintf(stderr, "%d TIME-WAITs hold %zu bytes: %.1f bytes each (record %zu bytes; a TCB "
            "alone is %zu, its rings %u)\n", N, used, (double)used / N, sizeof(struct sk_tw),
            sizeof(struct sk_tcp), cfg.sndbuf_bytes + cfg.rcvbuf_bytes);
    assert_true(used <= bound);
    /* A retransmitted FIN on one of the first is still answered. */
    m->nout = 0;
    MASS_SEND(m, .sport = 10000, .flags = FIN | ACK, .seq = 1001, .ack = 1);
    assert_int_equal(m->nout, 1);
    assert_int_equal(m->flags, ACK);
    /* 2*MSL on, all of it is given back. */
    sk_stack_poll(m->st, T0 + 2 * MSL);
    sk_stack_counters(m->st, &k);
    assert_int_equal(k.timewait_records, 0);
    assert_true(m->live <= base + 64 * 1024);
    sk_tcp_close(l);
    sk_stack_free(m->st);
    assert_int_equal(m->live, 0);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_rst_ends_time_wait_by_default),
        TEST(test_rfc1337_keeps_time_wait_against_rst),
        TEST(test_time_wait_reused_by_syn_with_newer_timestamp),
        TEST(test_time_wait_syn_with_old_timestamp_is_not_accepted),
        TEST(test_time_wait_reuse_without_timestamps_by_sequence),
        TEST(test_reuse_puts_new_iss_above_old_snd_nxt),
        TEST(test_syn_without_listener_is_acked_and_time_wait_stays),
        TEST(test_record_acks_retransmitted_fin_and_restarts_2msl),
        TEST(test_reclaims_oldest_record_at_max_time_wait),
        TEST(test_inexact_rst_gets_challenge_ack),
        TEST(test_time_wait_with_handle_held),
        TEST(test_close_or_abort_in_time_wait),
        TEST(test_no_reuse_while_handle_held),
        TEST(test_bsd_time_wait_knob_in_record),
        TEST(test_fifty_thousand_time_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
