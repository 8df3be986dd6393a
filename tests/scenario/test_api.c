/* Scenario: what each application call returns in each state, resource limits (backlog,
 * connection count), listener teardown, malformed segments, and sequence-number wraparound.
 * Every ISS expected here is RFC 6528's, computed from the key the test gives the stack
 * (tests/ref/ref_isn.h); the peer's ISNs are the test's own. */
#include <string.h>

#include "../ref/ref_raw.h"

/* Data sent in SYN-SENT is queued (send returns n) and goes out with the handshake's ACK. */
static void test_send_in_syn_sent_is_queued(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 1);
    struct sk_tcp *c;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect(r, SYN, iss, 0);
    assert_int_equal(sk_tcp_send(c, "early", 5), 5);
    raw_expect_none(r); /* nothing but the SYN before it is acknowledged */
    char buf[4];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), -EAGAIN);
    raw_send(r, .flags = SYN | ACK, .seq = 1000, .ack = iss + 1, .opts = SK_OPT_MSS, .mss = 1460);
    const struct raw_out *o = raw_expect(r, ACK | PSH, iss + 1, 1001);
    assert_int_equal(o->len, 5);
    assert_memory_equal(o->data, "early", 5);
    raw_expect_none(r);
    raw_free(r);
}

/* shutdown() in SYN-SENT: the FIN follows once ESTABLISHED, and the state goes straight on
 * to FIN-WAIT-1. */
static void test_shutdown_in_syn_sent_sends_fin_after_handshake(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 2);
    struct sk_tcp *c;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect(r, SYN, iss, 0);
    assert_int_equal(sk_tcp_shutdown(c), 0);
    expect_state(c, SK_TCP_SYN_SENT);
    assert_int_equal(sk_tcp_send(c, "x", 1), -EPIPE);
    raw_send(r, .flags = SYN | ACK, .seq = 1000, .ack = iss + 1);
    raw_expect(r, FIN | ACK, iss + 1, 1001);
    expect_state(c, SK_TCP_FIN_WAIT_1);
    expect_states(&r->rec, 0, conn_id(c), SK_TCP_CLOSED, SK_TCP_SYN_SENT, SK_TCP_ESTABLISHED,
                  SK_TCP_FIN_WAIT_1);
    raw_free(r);
}

/* The errors of the user calls, state by state. */
static void test_user_call_errors(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 3);
    struct sk_tcp *l, *l2, *c, *d, *x;
    char buf[8];
    assert_int_equal(sk_tcp_listen(r->st, 9000, 4, &l), 0);
    assert_int_equal(sk_tcp_listen(r->st, 9000, 4, &l2), -EADDRINUSE);
    assert_int_equal(sk_tcp_accept(l, &x), -EAGAIN);
    assert_int_equal(sk_tcp_send(l, "x", 1), -ENOTCONN);
    assert_int_equal(sk_tcp_recv(l, buf, sizeof(buf)), -ENOTCONN);
    assert_int_equal(sk_tcp_shutdown(l), -ENOTCONN);
    assert_int_equal(sk_tcp_listen(r->st, 0, 4, &l2), -EINVAL);
    assert_int_equal(sk_tcp_connect(r->st, 0, 0, 80, &x), -EINVAL);
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 0, &x), -EINVAL);

    uint32_t iss;
    c = ref_raw_connect(r, &key, 1000, &iss);
    assert_int_equal(sk_tcp_accept(c, &x), -EINVAL); /* not a listener */
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &d),
                     -EADDRINUSE);
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), -EAGAIN);
    assert_int_equal(sk_tcp_send(c, buf, 0), 0);

    /* The peer's FIN: recv returns 0 (end of stream), send still works in CLOSE-WAIT. */
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 1);
    raw_expect(r, ACK, iss + 1, 1002);
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 0);
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 0);
    assert_true(sk_tcp_events(c) & SK_EV_READABLE);
    assert_int_equal(sk_tcp_send(c, "ok", 2), 2);
    raw_expect(r, ACK | PSH, iss + 1, 1002);
    /* After shutdown: -EPIPE; shutdown again is a no-op. */
    assert_int_equal(sk_tcp_shutdown(c), 0);
    raw_expect(r, FIN | ACK, iss + 3, 1002);
    expect_state(c, SK_TCP_LAST_ACK);
    assert_int_equal(sk_tcp_send(c, "x", 1), -EPIPE);
    assert_int_equal(sk_tcp_shutdown(c), 0);
    raw_expect_none(r);
    raw_free(r);
}

/* More SYNs than the backlog with SYN cookies off: each new one takes the place of the oldest
 * half-open child (RFC 4987 §3.4), counted; the listener never holds more than its backlog. */
static void test_backlog_full_evicts_oldest_and_counts(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.syncookies = 0;
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 2, &l), 0);
    for (uint16_t i = 0; i < 4; i++)
        raw_send(r, .sport = (uint16_t)(40001 + i), .flags = SYN, .seq = 1000u * i);
    assert_int_equal(r->nout, 4);
    for (uint16_t i = 0; i < 4; i++) {
        assert_int_equal(r->out[i].dport, 40001 + i);
        assert_int_equal(r->out[i].flags, SYN | ACK);
        assert_int_equal(r->out[i].ack, 1000u * i + 1);
    }
    assert_int_equal(counters(r->st).tcp_halfopen_evicted, 2);
    assert_int_equal(drops(r->st, SK_DROP_TCP_BACKLOG_FULL), 0);
    assert_int_equal(counters(r->st).connections, 3);
    /* The evicted children are gone: the first peer's ACK finds only the listener (RST). */
    r->cursor = r->nout;
    raw_send(r, .sport = 40001, .flags = ACK, .seq = 1, .ack = r->out[0].seq + 1);
    raw_expect(r, RST, r->out[0].seq + 1, 0);
    raw_free(r);
}

/* max_connections counts every TCB: connect beyond it returns -ENOMEM and is counted. */
static void test_connection_limit_enomem(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.max_connections = 2;
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *c1, *c2, *c3, *l;
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 80, &c1), 0);
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 81, &c2), 0);
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 82, &c3), -ENOMEM);
    assert_int_equal(sk_tcp_listen(r->st, 99, 4, &l), -ENOMEM);
    assert_int_equal(counters(r->st).limit_connections, 2);
    assert_int_equal(r->nout, 2); /* two SYNs, nothing for the refused calls */
    sk_tcp_abort(c1);
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 82, &c3), 0);
    raw_free(r);
}

/* Closing a listener resets its half-open child (<SEQ=ISS+1>) and its never-accepted one,
 * frees all of them, and the port answers further SYNs with RST,ACK. */
static void test_close_listener_resets_children(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 4);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss1 = ref_raw_iss(r, &key, RAW_LOCAL_PORT, 40001);
    raw_send(r, .sport = 40001, .flags = SYN, .seq = 1000);
    raw_expect(r, SYN | ACK, iss1, 1001);
    uint32_t iss2 = ref_raw_iss(r, &key, RAW_LOCAL_PORT, 40002);
    raw_send(r, .sport = 40002, .flags = SYN, .seq = 2000);
    raw_expect(r, SYN | ACK, iss2, 2001);
    raw_send(r, .sport = 40002, .flags = ACK, .seq = 2001, .ack = iss2 + 1);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 3);

    sk_tcp_close(l);
    /* The accept queue first, then the half-open. */
    const struct raw_out *o = raw_expect(r, RST, iss2 + 1, 0);
    assert_int_equal(o->dport, 40002);
    o = raw_expect(r, RST, iss1 + 1, 0);
    assert_int_equal(o->dport, 40001);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 0);
    raw_send(r, .sport = 40003, .flags = SYN, .seq = 3000);
    raw_expect(r, RST | ACK, 0, 3001);
    raw_free(r);
}

/* abort() on a listener does the same as close(). */
static void test_abort_listener_resets_children(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 5);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 1000);
    raw_expect(r, SYN | ACK, iss, 1001);
    sk_tcp_abort(l);
    raw_expect(r, RST, iss + 1, 0);
    assert_int_equal(counters(r->st).connections, 0);
    raw_free(r);
}

/* Malformed segments are dropped, counted by reason, and never answered. */
static void test_malformed_segments_dropped_and_counted(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 6);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    raw_send(r, .flags = SYN, .seq = 1, .bad_csum = true);
    assert_int_equal(drops(r->st, SK_DROP_TCP_CHECKSUM), 1);
    raw_send(r, .flags = SYN, .seq = 1, .truncate_to = 12);
    assert_int_equal(drops(r->st, SK_DROP_TCP_TRUNCATED), 1);
    static const uint8_t eight[] = {1, 1, 1, 1, 1, 1, 1, 1};
    raw_send(r, .flags = SYN, .seq = 1, .raw_opts = eight, .raw_opts_len = 8, .truncate_to = 24);
    assert_int_equal(drops(r->st, SK_DROP_TCP_HDRLEN), 1);
    static const uint8_t mss_len3[] = {2, 3, 5, 1};     /* MSS with length 3 */
    raw_send(r, .flags = SYN, .seq = 1, .raw_opts = mss_len3, .raw_opts_len = 4);
    static const uint8_t ts_len1[] = {8, 1, 1, 1};      /* length below 2 */
    raw_send(r, .flags = SYN, .seq = 1, .raw_opts = ts_len1, .raw_opts_len = 4);
    static const uint8_t past_end[] = {1, 1, 30, 9};    /* unknown kind running past the end */
    raw_send(r, .flags = SYN, .seq = 1, .raw_opts = past_end, .raw_opts_len = 4);
    assert_int_equal(drops(r->st, SK_DROP_TCP_OPTIONS), 3);
    raw_expect_none(r);
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(counters(r->st).drops_total, 6);
    /* A well-formed SYN still works; an unknown option of a valid length is skipped. */
    static const uint8_t unknown_ok[] = {30, 4, 0, 0};
    raw_send(r, .flags = SYN, .seq = 1, .raw_opts = unknown_ok, .raw_opts_len = 4);
    raw_expect(r, SYN | ACK, ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT), 2);
    raw_free(r);
}

/* Sequence numbers wrap: ISS = 0xFFFFFFF0 on our side and IRS = 0xFFFFFFF8 on the peer's;
 * data crosses 2^32 both ways (out of order, too) and every number is exact modulo 2^32. */
static void test_sequence_wraparound(void **state)
{
    (void)state;
    /* RFC 6528: ISN = M + F(4-tuple, key), M = t/4 µs. With F computed here for the test's
     * key, start the stack at the time that puts the ISN at 0xFFFFFFF0. */
    struct ref_key key;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    ref_isn_config(&cfg, &key, 7);
    uint32_t f = ref_isn(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, 0); /* M = 0 */
    /* 4 * 2^32 µs on top: the 4 µs clock has wrapped once too (about 4.8 hours). */
    sk_time_us start = 4ull * (uint32_t)(0xFFFFFFF0u - f) + 4ull * 0x100000000ull;
    struct raw *r = ref_raw_new_at(&cfg, &key, 7, start);
    assert_int_equal(ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT), 0xFFFFFFF0u);
    uint32_t iss;
    struct sk_tcp *c = ref_raw_connect(r, &key, 0xFFFFFFF8u, &iss);
    sk_tcp_set_nodelay(c, true);

    /* Ours: 40 bytes from 0xFFFFFFF1 to 0x00000019. */
    uint8_t out[40];
    for (int i = 0; i < 40; i++)
        out[i] = (uint8_t)i;
    assert_int_equal(sk_tcp_send(c, out, 40), 40);
    const struct raw_out *o = raw_expect(r, ACK | PSH, 0xFFFFFFF1u, 0xFFFFFFF9u);
    assert_int_equal(o->len, 40);
    assert_memory_equal(o->data, out, 40);
    raw_send(r, .flags = ACK, .seq = 0xFFFFFFF9u, .ack = 0x19);
    assert_int_equal(info(c).snd_una, 0x19);
    assert_int_equal(info(c).sndbuf_used, 0);

    /* Theirs: 10 bytes at 0x00000003 arrive before the 10 at 0xFFFFFFF9. */
    raw_send(r, .flags = ACK, .seq = 0x3, .ack = 0x19, .data = "KLMNOPQRST", .len = 10);
    raw_expect(r, ACK, 0x19, 0xFFFFFFF9u); /* duplicate ACK for the hole, at once */
    raw_send(r, .flags = ACK, .seq = 0xFFFFFFF9u, .ack = 0x19, .data = "ABCDEFGHIJ", .len = 10);
    raw_expect(r, ACK, 0x19, 0xD);          /* the hole filled: ACK at once */
    char buf[32];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 20);
    assert_memory_equal(buf, "ABCDEFGHIJKLMNOPQRST", 20);

    /* And the close across the wrap too. */
    raw_send(r, .flags = FIN | ACK, .seq = 0xD, .ack = 0x19);
    raw_expect(r, ACK, 0x19, 0xE);
    sk_tcp_close(c);
    raw_expect(r, FIN | ACK, 0x19, 0xE);
    raw_send(r, .flags = ACK, .seq = 0xE, .ack = 0x1A);
    assert_int_equal(counters(r->st).connections, 0);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_send_in_syn_sent_is_queued),
        TEST(test_shutdown_in_syn_sent_sends_fin_after_handshake),
        TEST(test_user_call_errors),
        TEST(test_backlog_full_evicts_oldest_and_counts),
        TEST(test_connection_limit_enomem),
        TEST(test_close_listener_resets_children),
        TEST(test_abort_listener_resets_children),
        TEST(test_malformed_segments_dropped_and_counted),
        TEST(test_sequence_wraparound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
