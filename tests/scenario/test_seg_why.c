/* Scenario: why each segment left (sk_trace_event.why, include/synack/trace.h).
 *
 * Every case forces the cause from outside: a link that drops the first data segment (so only
 * the RTO can send it again, RFC 6298 §5.4), three duplicate ACKs from a scripted peer (RFC
 * 5681 §3.2), a NewReno partial ACK (RFC 6582 §3.2 step 5), a zero window (RFC 9293
 * §3.8.6.1), a SYN in ESTABLISHED (RFC 5961 §4.2), an abort (RFC 9293 §3.10.5), a SYN to a
 * port nobody listens on (§3.10.7.1). The expected reasons are the RFC's names for those
 * events, spelled as sk_seg_why_name's stable identifiers. */
#include "test_datapath.h"

#define S(iss, i) ((iss) + 1 + (uint32_t)(i) * MSS)

/* The reason traced with raw segment o (r->out and the SEG_OUT records are in one order). */
static const char *why_of(struct raw *r, const struct raw_out *o)
{
    size_t i = (size_t)(o - r->out), k = 0;
    for (size_t j = 0; j < r->rec.n; j++) {
        const struct sk_trace_event *ev = &r->rec.ev[j].ev;
        if (ev->kind == SK_TRACE_SEG_OUT && k++ == i)
            return sk_seg_why_name(ev->why);
    }
    fail_msg("no trace record for segment %zu", i);
    return NULL;
}

/* The opening SYN, and the handshake's ACK sent at once on the SYN,ACK. */
static void test_handshake(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, NULL);
    assert_true(f.r->nout >= 2);
    assert_int_equal(f.r->out[0].flags, SYN);
    assert_string_equal(why_of(f.r, &f.r->out[0]), "syn");
    assert_int_equal(f.r->out[1].flags, ACK);
    assert_string_equal(why_of(f.r, &f.r->out[1]), "ack");
    fx_free(&f);
}

/* The link drops the first data segment; nothing comes back, so the copy that follows one
 * RTO (1 s, RFC 6298 §2.4's minimum) later is the retransmission timer's. SACK is off so
 * that no tail loss probe (RFC 8985) comes first. */
static void test_link_drop_forces_rto(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.opt_sack = false;
    struct fx_pair fp = fx_pair_open(&(struct fx_pair_opts){.ca = &cfg});
    struct pair *p = fp.p;
    pair_drop(p, SIDE_A, PSH, PSH, 1);
    uint32_t a = info(fp.ca).iss, b = info(fp.cb).iss;
    assert_int_equal(sk_tcp_send(fp.ca, "hello", 5), 5);
    pair_run_for(p, SEC(3));
    const struct rec_ev *first = expect_data(p, A_TO_B, ACK | PSH, a + 1, b + 1, 5);
    assert_string_equal(sk_seg_why_name(first->ev.why), "new-data");
    const struct rec_ev *again = expect_data(p, A_TO_B, ACK | PSH, a + 1, b + 1, 5);
    assert_string_equal(sk_seg_why_name(again->ev.why), "rto");
    assert_true(again->ev.time - first->ev.time >= SEC(1));
    pair_free(p);
}

/* Ten segments out, the first lost: three duplicate ACKs for it bring the fast retransmit,
 * and the partial ACK that follows (a second hole at segment 3) the recovery's next one. */
static void test_dupacks_fast_retransmit_then_recovery(void **state)
{
    (void)state;
    struct raw *r = fx_raw("reno", 0);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    assert_int_equal(fx_send(c, 0, 10 * MSS), 10 * MSS);
    for (unsigned i = 0; i < 10; i++) {
        const struct raw_out *o = fx_expect_data(r, ACK | (i == 9 ? PSH : 0), S(iss, i), IRS + 1,
                                                 MSS);
        assert_string_equal(why_of(r, o), "new-data");
    }
    raw_run_for(r, MS(100));
    for (int i = 0; i < 3; i++)
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(iss, 0));
    const struct raw_out *o = fx_expect_data(r, ACK, S(iss, 0), IRS + 1, MSS);
    assert_string_equal(why_of(r, o), "fast-retransmit");
    raw_expect_none(r);
    raw_run_for(r, MS(100));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(iss, 3)); /* partial ACK */
    o = fx_expect_data(r, ACK, S(iss, 3), IRS + 1, MSS);
    assert_string_equal(why_of(r, o), "recovery");
    raw_free(r);
}

/* The peer acknowledges everything with a zero window while more data waits: after one RTO
 * the persist timer sends a one-byte probe at SND.UNA (RFC 9293 §3.8.6.1). */
static void test_zero_window_probe(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    assert_int_equal(fx_send(c, 0, MSS), MSS);
    fx_expect_data(r, ACK | PSH, S(iss, 0), IRS + 1, MSS);
    raw_run_for(r, MS(100));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = S(iss, 1), .zero_wnd = true);
    assert_int_equal(fx_send(c, MSS, 100), 100);
    raw_expect_none(r);
    raw_run_for(r, SEC(1));
    const struct raw_out *o = fx_expect_data(r, ACK, S(iss, 1), IRS + 1, 1);
    assert_string_equal(why_of(r, o), "window-probe");
    raw_free(r);
}

/* RFC 5961 §4.2: a SYN in ESTABLISHED gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>. */
static void test_challenge_ack(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    dp_connect(r, MS(100), NULL, &iss);
    raw_send(r, .flags = SYN, .seq = IRS + 100);
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, IRS + 1);
    assert_string_equal(why_of(r, o), "challenge-ack");
    raw_free(r);
}

/* An abort in ESTABLISHED sends <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5). */
static void test_abort_rst(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    sk_tcp_abort(c);
    const struct raw_out *o = raw_expect(r, RST, iss + 1, 0);
    assert_string_equal(why_of(r, o), "rst-abort");
    raw_free(r);
}

/* A SYN to a port nobody listens on: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> (§3.10.7.1). */
static void test_rst_no_connection(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    raw_send(r, .flags = SYN, .seq = 5000);
    const struct raw_out *o = raw_expect(r, RST | ACK, 0, 5001);
    assert_string_equal(why_of(r, o), "rst-no-connection");
    raw_free(r);
}

/* Every reason has a name; the ones past the end do not. */
static void test_names(void **state)
{
    (void)state;
    for (int w = 0; w < SK_SEG_WHY_COUNT; w++)
        assert_true(w == SK_SEG_WHY_UNKNOWN || strcmp(sk_seg_why_name(w), "unknown") != 0);
    assert_string_equal(sk_seg_why_name(SK_SEG_WHY_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_link_drop_forces_rto),
        cmocka_unit_test(test_dupacks_fast_retransmit_then_recovery),
        cmocka_unit_test(test_zero_window_probe),
        cmocka_unit_test(test_challenge_ack),
        cmocka_unit_test(test_abort_rst),
        cmocka_unit_test(test_rst_no_connection),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
