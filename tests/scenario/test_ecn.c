/* Explicit Congestion Notification (RFC 3168) against a scripted peer: the ECN-setup SYN and
 * SYN-ACK (§6.1.1) and the fallback to a plain SYN (§6.1.1.1), ECT(0) on new data only
 * (§6.1.2, §6.1.5), the receiver's ECE echo until CWR (§6.1.3), the sender's reduction on ECE
 * once per window and its CWR (§6.1.2). The ECN field is read from the IP header of each
 * captured frame. D = IRS + 1 is the peer's first data byte. Every ISS expected is RFC 6528's
 * for the key the test hands the stack (tests/ref/ref_isn.h), and every window the RFCs'
 * arithmetic from the initial window of RFC 6928, computed here. */
#include "test_datapath.h"
#include "../ref/ref_raw.h"

#define D (IRS + 1)
#define ECE SK_TCP_ECE
#define CWR SK_TCP_CWR
#define ECN_FIELD(o) ((o)->tos & SK_IP_ECN_MASK)
#define NOT_ECT 0

/* RFC 6928 §2: the initial window, min(10*MSS, max(2*MSS, 14600)). */
static uint32_t iw_bytes(uint32_t mss)
{
    uint32_t floor = 2 * mss > 14600 ? 2 * mss : 14600;
    return 10 * mss < floor ? 10 * mss : floor;
}
#define IW iw_bytes(MSS) /* no timestamps: the stack's segments carry the peer's MSS */

/* The stack's ISN key (one stack at a time in each test). */
static struct ref_key key;

/* A raw stack on cfg (NULL: harness_config(side 0)) with the test's ISN key. */
static struct raw *keyed_raw(const struct sk_config *cfg)
{
    return ref_raw_new(cfg, &key, 21);
}

/* A raw stack whose sk_config.ecn is `ecn` (0 off, 1 request, 2 accept). */
static struct raw *ecn_raw(uint8_t ecn)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.ecn = ecn;
    return keyed_raw(&cfg);
}

/* Active open: the stack's SYN has exactly SYN|syn_ecn (and no ECN codepoint in IP, §6.1.1:
 * SYNs are not ECT); 10 ms later the peer's SYN,ACK carries synack_ecn; the stack's ACK is
 * plain and not ECT. */
static struct sk_tcp *ecn_connect(struct raw *r, uint8_t syn_ecn, uint8_t synack_ecn,
                                  uint32_t *iss)
{
    struct sk_tcp *c = NULL;
    uint32_t s = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    assert_int_equal(ECN_FIELD(raw_expect(r, SYN | syn_ecn, s, 0)), NOT_ECT);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = SYN | ACK | synack_ecn, .seq = IRS, .ack = s + 1, .opts = SK_OPT_MSS,
             .mss = MSS);
    assert_int_equal(ECN_FIELD(raw_expect(r, ACK, s + 1, IRS + 1)), NOT_ECT);
    expect_state(c, SK_TCP_ESTABLISHED);
    *iss = s;
    return c;
}

/* Passive open: the peer's SYN carries syn_ecn; the SYN,ACK must have exactly SYN|ACK|
 * synack_ecn and be not ECT; the peer ACKs and the connection is accepted. */
static struct sk_tcp *ecn_accept(struct raw *r, uint8_t syn_ecn, uint8_t synack_ecn,
                                 uint32_t *iss)
{
    struct sk_tcp *l = NULL, *c = NULL;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint32_t s = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN | syn_ecn, .seq = IRS, .opts = SK_OPT_MSS, .mss = MSS);
    assert_int_equal(ECN_FIELD(raw_expect(r, SYN | ACK | synack_ecn, s, IRS + 1)), NOT_ECT);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = s + 1);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_expect_none(r);
    *iss = s;
    return c;
}

/* The connection writes 100 bytes at seq iss+1: one ACK|PSH segment with this ECN field. */
static void expect_first_data_ecn_(const char *f, int l, struct raw *r, struct sk_tcp *c,
                                   uint32_t iss, uint8_t field)
{
    uint8_t buf[100];
    fx_fill(buf, 0, sizeof(buf));
    assert_int_equal(sk_tcp_send(c, buf, sizeof(buf)), 100);
    const struct raw_out *o = fx_expect_data_(f, l, r, ACK | PSH, iss + 1, D, 100);
    if (ECN_FIELD(o) != field) {
        print_error("data segment: expected ECN field %u, got %u (tos 0x%02x)\n", field,
                    ECN_FIELD(o), o->tos);
        _fail(f, l);
    }
}
#define expect_first_data_ecn(r, c, iss, field)                                                    \
    expect_first_data_ecn_(HLOC, (r), (c), (iss), (field))

/* The peer sends len bytes at stream offset off with the given flags and IP TOS. */
static void peer_data(struct raw *r, uint32_t iss_ack, uint32_t off, uint32_t len, uint8_t flags,
                      uint8_t tos)
{
    uint8_t buf[MSS];
    fx_fill(buf, off, len);
    raw_send(r, .flags = flags, .seq = D + off, .ack = iss_ack, .data = buf, .len = len,
             .tos = tos);
}

/* ---------------- setup: active open ---------------- */

/* §6.1.1: with ecn = 1 the SYN is an ECN-setup SYN (ECE and CWR); an ECN-setup SYN-ACK (ECE,
 * no CWR) agrees, and the first data segment is ECT(0). */
static void test_active_open_ecn_setup_syn_and_synack(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, ECE, &iss);
    expect_first_data_ecn(r, c, iss, SK_IP_ECT0);
    raw_free(r);
}

/* sk_stack_set_setting(SK_SET_ECN) on a running stack (the tcp_ecn sysctl changed at run
 * time): a stack made with ECN off asks for it in the next connection's SYN once the setting
 * is 1 (RFC 3168 §6.1.1: ECE and CWR), and that connection uses it; values beyond 2 and
 * unknown settings are refused, changing nothing. */
static void test_ecn_setting_at_run_time(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(0);
    assert_int_equal(sk_stack_set_setting(r->st, SK_SET_ECN, 3), -EINVAL);
    assert_int_equal(sk_stack_set_setting(r->st, (enum sk_setting)99, 1), -EINVAL);
    assert_int_equal(sk_stack_set_setting(r->st, SK_SET_OPT_SACK, 2), -EINVAL);
    assert_int_equal(sk_stack_config(r->st)->ecn, 0);
    assert_int_equal(sk_stack_set_setting(r->st, SK_SET_ECN, 1), 0);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, ECE, &iss);
    expect_first_data_ecn(r, c, iss, SK_IP_ECT0);
    raw_free(r);
}

/* §6.1.1: a SYN-ACK without ECE declines: no ECN, data is not ECT. */
static void test_active_open_synack_without_ece_leaves_ecn_off(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, 0, &iss);
    expect_first_data_ecn(r, c, iss, NOT_ECT);
    raw_free(r);
}

/* §6.1.1: a SYN-ACK with both ECE and CWR is not an ECN-setup SYN-ACK (a reflected SYN looks
 * like that): no ECN. */
static void test_active_open_synack_with_ece_and_cwr_leaves_ecn_off(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, ECE | CWR, &iss);
    expect_first_data_ecn(r, c, iss, NOT_ECT);
    raw_free(r);
}

/* §6.1.1.1 with ecn_syn_retries = 1: the first SYN and its first retransmission (1 s later)
 * ask for ECN, the second retransmission (2 s after that) is a plain SYN. An ECN-setup SYN-ACK
 * that answers only then does not turn ECN on: we have sent a non-ECN-setup SYN. */
static void test_active_open_falls_back_to_plain_syn(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    sk_time_us t = r->now;
    struct sk_tcp *c = NULL;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    assert_int_equal(raw_expect(r, SYN | ECE | CWR, iss, 0)->time, t);
    raw_run_until(r, t + SEC(1) - 1);
    raw_expect_none(r);
    raw_run_until(r, t + SEC(1));
    assert_int_equal(raw_expect(r, SYN | ECE | CWR, iss, 0)->time, t + SEC(1));
    raw_run_until(r, t + SEC(3) - 1);
    raw_expect_none(r);
    raw_run_until(r, t + SEC(3));
    const struct raw_out *o = raw_expect(r, SYN, iss, 0);
    assert_int_equal(o->time, t + SEC(3));
    assert_int_equal(ECN_FIELD(o), NOT_ECT);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = SYN | ACK | ECE, .seq = IRS, .ack = iss + 1, .opts = SK_OPT_MSS,
             .mss = MSS);
    raw_expect(r, ACK, iss + 1, IRS + 1);
    expect_first_data_ecn(r, c, iss, NOT_ECT);
    raw_free(r);
}

/* ecn_syn_retries = 0: only the first SYN asks. */
static void test_active_open_no_ecn_retries(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.ecn = 1;
    cfg.ecn_syn_retries = 0;
    struct raw *r = keyed_raw(&cfg);
    struct sk_tcp *c = NULL;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect(r, SYN | ECE | CWR, iss, 0);
    raw_run_for(r, SEC(1));
    raw_expect(r, SYN, iss, 0);
    raw_free(r);
}

/* ecn = 2 (the default) and ecn = 0 never ask: the SYN is plain, and an ECN-setup SYN-ACK
 * to it does not turn ECN on. */
static void test_active_open_without_request(void **state)
{
    (void)state;
    static const uint8_t modes[] = {2, 0};
    for (size_t i = 0; i < sizeof(modes); i++) {
        struct raw *r = ecn_raw(modes[i]);
        uint32_t iss;
        struct sk_tcp *c = ecn_connect(r, 0, ECE, &iss);
        expect_first_data_ecn(r, c, iss, NOT_ECT);
        raw_free(r);
    }
    struct sk_config d;
    sk_config_default(&d);
    assert_int_equal(d.ecn, 2);
    assert_int_equal(d.ecn_syn_retries, 1);
}

/* ---------------- setup: passive open ---------------- */

/* §6.1.1 with ecn = 2 (the default): an ECN-setup SYN (ECE|CWR) gets an ECN-setup SYN-ACK
 * (ECE only); data is ECT(0). */
static void test_passive_open_agrees_to_ecn(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    uint32_t iss;
    struct sk_tcp *c = ecn_accept(r, ECE | CWR, ECE, &iss);
    expect_first_data_ecn(r, c, iss, SK_IP_ECT0);
    raw_free(r);
}

/* A plain SYN gets a plain SYN-ACK; no ECN. */
static void test_passive_open_plain_syn_plain_synack(void **state)
{
    (void)state;
    struct raw *r = keyed_raw(NULL);
    uint32_t iss;
    struct sk_tcp *c = ecn_accept(r, 0, 0, &iss);
    expect_first_data_ecn(r, c, iss, NOT_ECT);
    raw_free(r);
}

/* A SYN with ECE alone (or CWR alone) is not an ECN-setup SYN. */
static void test_passive_open_partial_setup_syn_is_not_ecn(void **state)
{
    (void)state;
    static const uint8_t partial[] = {ECE, CWR};
    for (size_t i = 0; i < sizeof(partial); i++) {
        struct raw *r = keyed_raw(NULL);
        uint32_t iss;
        struct sk_tcp *c = ecn_accept(r, partial[i], 0, &iss);
        expect_first_data_ecn(r, c, iss, NOT_ECT);
        raw_free(r);
    }
}

/* ecn = 0: an ECN-setup SYN gets a plain SYN-ACK; no ECN. ecn = 1 agrees like ecn = 2. */
static void test_passive_open_by_mode(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(0);
    uint32_t iss;
    struct sk_tcp *c = ecn_accept(r, ECE | CWR, 0, &iss);
    expect_first_data_ecn(r, c, iss, NOT_ECT);
    raw_free(r);
    r = ecn_raw(1);
    c = ecn_accept(r, ECE | CWR, ECE, &iss);
    expect_first_data_ecn(r, c, iss, SK_IP_ECT0);
    raw_free(r);
}

/* ---------------- data path ---------------- */

/* §6.1.5 and §6.1.4: new data is ECT(0); pure ACKs and retransmissions are not, and carry
 * no ECN flags. */
static void test_ect0_on_new_data_only(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, ECE, &iss);
    /* Two full segments of new data: both ECT(0). */
    assert_int_equal(fx_send(c, 0, 2 * MSS), 2 * MSS);
    assert_int_equal(ECN_FIELD(fx_expect_data(r, ACK, iss + 1, D, MSS)), SK_IP_ECT0);
    assert_int_equal(ECN_FIELD(fx_expect_data(r, ACK | PSH, iss + 1 + MSS, D, MSS)), SK_IP_ECT0);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 1 + 2 * MSS);
    /* The peer's data is acknowledged 40 ms later by a pure ACK: not ECT. */
    peer_data(r, iss + 1 + 2 * MSS, 0, 100, ACK | PSH, 0);
    raw_run_for(r, MS(40));
    assert_int_equal(ECN_FIELD(raw_expect(r, ACK, iss + 1 + 2 * MSS, D + 100)), NOT_ECT);
    /* One more segment, unacknowledged: ECT(0); its retransmission at the RTO is not. */
    uint32_t seq = iss + 1 + 2 * MSS;
    assert_int_equal(fx_send(c, 2 * MSS, 500), 500);
    assert_int_equal(ECN_FIELD(fx_expect_data(r, ACK | PSH, seq, D + 100, 500)), SK_IP_ECT0);
    raw_run_for(r, SEC(2));
    const struct raw_out *o = fx_expect_data(r, ACK | PSH, seq, D + 100, 500);
    assert_int_equal(ECN_FIELD(o), NOT_ECT);
    raw_free(r);
}

/* Without ECN nothing is ECT, and no segment carries ECE or CWR. */
static void test_no_ect_without_ecn(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, 0, &iss);
    assert_int_equal(fx_send(c, 0, 2 * MSS), 2 * MSS);
    assert_int_equal(ECN_FIELD(fx_expect_data(r, ACK, iss + 1, D, MSS)), NOT_ECT);
    assert_int_equal(ECN_FIELD(fx_expect_data(r, ACK | PSH, iss + 1 + MSS, D, MSS)), NOT_ECT);
    /* A CE mark (a broken router) is not echoed, an ECE is no congestion signal: no
     * reduction, which would have put both at 0.7 * IW (RFC 9438 §4.6); ssthresh is still
     * the "arbitrarily high" one of RFC 5681 §3.1 and cwnd at least the initial window. */
    peer_data(r, iss + 1 + MSS, 0, 100, ACK | PSH | ECE, SK_IP_CE);
    assert_true(info(c).ssthresh > IW);
    assert_true(info(c).cwnd >= IW);
    raw_run_for(r, MS(40));
    raw_expect(r, ACK, iss + 1 + 2 * MSS, D + 100);
    raw_free(r);
}

/* §6.1.3: a CE mark is acknowledged at once with ECE, and every later ACK, pure or on data,
 * carries ECE until a segment with CWR arrives; the ACK for that one has none. */
static void test_ce_echoed_with_ece_until_cwr(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, ECE, &iss);
    raw_run_for(r, MS(10));
    /* CE on the first segment: ACK now (no delayed-ACK wait), with ECE, not ECT. */
    peer_data(r, iss + 1, 0, 100, ACK | PSH, SK_IP_CE);
    const struct raw_out *o = raw_expect(r, ACK | ECE, iss + 1, D + 100);
    assert_int_equal(o->time, r->now);
    assert_int_equal(ECN_FIELD(o), NOT_ECT);
    /* An ECT(0) segment without CE: the delayed ACK still carries ECE. */
    raw_run_for(r, MS(10));
    sk_time_us t = r->now;
    peer_data(r, iss + 1, 100, 100, ACK | PSH, SK_IP_ECT0);
    raw_expect_none(r);
    raw_run_until(r, t + MS(40));
    assert_int_equal(raw_expect(r, ACK | ECE, iss + 1, D + 200)->time, t + MS(40));
    /* Our own data segment acknowledges too: ECE on it, and it is ECT(0). */
    uint8_t buf[10] = {0};
    assert_int_equal(sk_tcp_send(c, buf, sizeof(buf)), 10);
    o = fx_expect_data(r, ACK | PSH | ECE, iss + 1, D + 200, 10);
    assert_int_equal(ECN_FIELD(o), SK_IP_ECT0);
    /* The peer's CWR: ECE stops with the ACK for that very segment. */
    raw_run_for(r, MS(10));
    t = r->now;
    peer_data(r, iss + 11, 200, 100, ACK | PSH | CWR, SK_IP_ECT0);
    raw_run_until(r, t + MS(40));
    assert_int_equal(raw_expect(r, ACK, iss + 11, D + 300)->time, t + MS(40));
    peer_data(r, iss + 11, 300, 100, ACK | PSH, SK_IP_ECT0);
    raw_run_for(r, MS(40));
    raw_expect(r, ACK, iss + 11, D + 400);
    raw_expect_none(r);
    raw_free(r);
}

/* A new CE mark on the very segment that carries CWR starts the echo again. */
static void test_ce_on_cwr_segment_keeps_echo(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    ecn_connect(r, ECE | CWR, ECE, &iss);
    peer_data(r, iss + 1, 0, 100, ACK | PSH, SK_IP_CE);
    raw_expect(r, ACK | ECE, iss + 1, D + 100);
    peer_data(r, iss + 1, 100, 100, ACK | PSH | CWR, SK_IP_CE);
    assert_int_equal(raw_expect(r, ACK | ECE, iss + 1, D + 200)->time, r->now);
    peer_data(r, iss + 1, 200, 100, ACK | PSH, SK_IP_ECT0);
    raw_run_for(r, MS(40));
    raw_expect(r, ACK | ECE, iss + 1, D + 300);
    raw_free(r);
}

/* Sender side: n full segments of new data in flight, each ECT(0). */
static void send_segments(struct raw *r, struct sk_tcp *c, uint32_t iss, size_t off, size_t n)
{
    assert_int_equal(fx_send(c, off, n * MSS), n * MSS);
    for (size_t i = 0; i < n; i++) {
        uint8_t fl = i + 1 == n ? ACK | PSH : ACK;
        const struct raw_out *o =
            fx_expect_data(r, fl, iss + 1 + (uint32_t)(off + i * MSS), D, MSS);
        assert_int_equal(ECN_FIELD(o), SK_IP_ECT0);
        assert_int_equal(o->flags & (CWR | ECE), 0);
    }
}

/* ECN agreed by an active open, n full segments of new data in flight, 10 ms on: the peer's
 * ACKs come next. Returns cwnd before any of them. */
static uint32_t ecn_flight(struct raw *r, struct sk_tcp **c, uint32_t *iss, size_t n)
{
    *c = ecn_connect(r, ECE | CWR, ECE, iss);
    send_segments(r, *c, *iss, 0, n);
    raw_run_for(r, MS(10));
    return IW; /* nothing acknowledged yet */
}

/* §6.1.2: an ACK with ECE is congestion: ssthresh = 0.7 * cwnd (CUBIC's beta, RFC 9438
 * §4.6) and cwnd = ssthresh. Four segments in flight, so that one duplicate ACK is no loss
 * signal (RFC 5827 needs fewer than four); the ECE comes on a duplicate ACK, and the window
 * reduction is all that happens. */
static void test_ece_reduces_cwnd_to_ssthresh(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c;
    uint32_t cwnd0 = ecn_flight(r, &c, &iss, 4);
    assert_int_equal(info(c).cwnd, cwnd0); /* RFC 6928 */
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1);
    uint32_t want = (uint32_t)(cwnd0 * 0.7);
    assert_int_equal(info(c).ssthresh, want);
    assert_int_equal(info(c).cwnd, want);
    raw_expect_none(r);
    raw_free(r);
}

/* The same when the ECE ACK also acknowledges new data, as it does in practice (the receiver
 * ACKs the CE-marked segment at once): RFC 3168 §6.1.2, "The sending TCP SHOULD NOT increase
 * the congestion window in response to the receipt of an ECN-Echo ACK packet": cwnd is
 * exactly ssthresh afterwards. */
static void test_ece_ack_of_new_data_does_not_grow_cwnd(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c;
    uint32_t cwnd0 = ecn_flight(r, &c, &iss, 4);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    uint32_t want = (uint32_t)(cwnd0 * 0.7);
    assert_int_equal(info(c).ssthresh, want);
    assert_int_equal(info(c).cwnd, want);
    raw_free(r);
}

/* With SACK agreed and sk_config.prr (the default), the reduction follows the ACK clock by
 * PRR, as Linux's CWR state does: RFC 6937 §3 with RecoverFS = FlightSize = 4 segments,
 * ssthresh = 0.7 * IW. The ECE ACK delivers one segment: pipe = 3 <= ssthresh, so PRR-SSRB
 * gives sndcnt = min(ssthresh - pipe, max(prr_delivered - prr_out, DeliveredData) + SMSS) =
 * min(7 - 3, 1 + 1) = 2 and cwnd = pipe + sndcnt = 5 segments; the ACK of the whole window
 * ends the reduction at cwnd = ssthresh. */
static void test_ece_reduction_by_prr_with_sack(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss, s = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    struct sk_tcp *c = NULL;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect(r, SYN | ECE | CWR, s, 0);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = SYN | ACK | ECE, .seq = IRS, .ack = s + 1,
             .opts = SK_OPT_MSS | SK_OPT_SACK_PERM, .mss = MSS);
    raw_expect(r, ACK, s + 1, IRS + 1);
    iss = s;
    assert_true(info(c).sack_ok);
    send_segments(r, c, iss, 0, 4);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    uint32_t ssthresh = (uint32_t)(IW * 0.7);
    assert_int_equal(info(c).ssthresh, ssthresh);
    assert_int_equal(info(c).ca_state, SK_CA_CWR);
    uint32_t pipe = 3 * MSS, sndcnt = MSS + MSS;
    if (ssthresh - pipe < sndcnt)
        sndcnt = ssthresh - pipe;
    assert_int_equal(info(c).cwnd, pipe + sndcnt);
    raw_expect_none(r);
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 1 + 4 * MSS);
    assert_int_equal(info(c).cwnd, ssthresh);
    assert_int_equal(info(c).ca_state, SK_CA_OPEN);
    raw_free(r);
}

/* §6.1.2: after the reduction the next new data segment carries CWR (and is ECT(0)); the one
 * after it does not. */
static void test_new_data_after_ece_carries_cwr(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c = ecn_connect(r, ECE | CWR, ECE, &iss);
    send_segments(r, c, iss, 0, 1);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    raw_expect_none(r); /* CWR waits for new data: no pure ACK carries it */
    assert_int_equal(fx_send(c, MSS, 2 * MSS), 2 * MSS);
    const struct raw_out *o = fx_expect_data(r, ACK | CWR, iss + 1 + MSS, D, MSS);
    assert_int_equal(ECN_FIELD(o), SK_IP_ECT0);
    o = fx_expect_data(r, ACK | PSH, iss + 1 + 2 * MSS, D, MSS);
    assert_int_equal(ECN_FIELD(o), SK_IP_ECT0);
    raw_free(r);
}

/* §6.1.2: once per window. Four segments in flight; the receiver keeps echoing ECE on its
 * ACKs for the first three (it has not seen our CWR): only the first one reduces. Data sent
 * after the reduction (the CWR segment) being acknowledged with ECE is new congestion: a
 * second reduction, 0.7 of the reduced window. */
static void test_ece_reduces_once_per_window(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c;
    uint32_t cwnd0 = ecn_flight(r, &c, &iss, 4);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    uint32_t ss1 = (uint32_t)(cwnd0 * 0.7);
    assert_int_equal(info(c).ssthresh, ss1);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + 2 * MSS);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + 3 * MSS);
    assert_int_equal(info(c).ssthresh, ss1);
    /* New data: CWR on it. The peer sees CWR, then a new CE on it: ECE on its ACK. */
    assert_int_equal(fx_send(c, 4 * MSS, MSS), MSS);
    fx_expect_data(r, ACK | PSH | CWR, iss + 1 + 4 * MSS, D, MSS);
    raw_run_for(r, MS(10));
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 1 + 4 * MSS);
    assert_int_equal(info(c).ssthresh, ss1);
    /* The second reduction is 0.7 of cwnd at that moment: cwnd was ss1 after the first and one
     * ACK in congestion avoidance has grown it by less than one MSS since (RFC 9438 §4.2: by
     * (target - cwnd) / cwnd per ACK, target at most 1.5 cwnd), so ssthresh lands in
     * [0.7 * ss1, 0.7 * (ss1 + MSS)) and below ss1. */
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + 5 * MSS);
    uint32_t ss2 = info(c).ssthresh;
    assert_true(ss2 >= (uint32_t)(ss1 * 0.7) && ss2 < (uint32_t)((ss1 + MSS) * 0.7));
    assert_true(ss2 < ss1);
    raw_free(r);
}

/* §6.1.2, the edge of the window: the ACK that covers exactly the data in flight at the
 * reduction (SND.UNA == the point recorded then) still comes before the peer can have seen
 * our CWR, so its ECE is the same congestion event and must not reduce again (Linux holds CWR
 * state until something above high_seq is acknowledged, tcp_fastretrans_alert). */
static void test_ece_on_ack_of_last_segment_of_window_does_not_reduce_again(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c;
    uint32_t cwnd0 = ecn_flight(r, &c, &iss, 2);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    uint32_t ss1 = (uint32_t)(cwnd0 * 0.7);
    assert_int_equal(info(c).ssthresh, ss1);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + 2 * MSS);
    assert_int_equal(info(c).ssthresh, ss1);
    raw_free(r);
}

/* §6.1.2: "the TCP source's congestion window should be reduced only once in response to a
 * series of dropped and/or CE packets from a single window of data". A CE mark on the first
 * of five segments, then the second is lost: three duplicate ACKs start fast retransmit, but
 * ssthresh stays where the ECE put it (Linux: tcp_enter_recovery keeps ssthresh while in CWR). */
static void test_loss_in_same_window_as_ece_does_not_reduce_again(void **state)
{
    (void)state;
    struct raw *r = ecn_raw(1);
    uint32_t iss;
    struct sk_tcp *c;
    uint32_t cwnd0 = ecn_flight(r, &c, &iss, 5);
    raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    uint32_t ss1 = (uint32_t)(cwnd0 * 0.7);
    assert_int_equal(info(c).ssthresh, ss1);
    for (int i = 0; i < 3; i++)
        raw_send(r, .flags = ACK | ECE, .seq = D, .ack = iss + 1 + MSS);
    const struct raw_out *o = fx_expect_data(r, ACK, iss + 1 + MSS, D, MSS);
    assert_int_equal(ECN_FIELD(o), NOT_ECT);
    assert_int_equal(info(c).ssthresh, ss1);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_active_open_ecn_setup_syn_and_synack),
        TEST(test_ecn_setting_at_run_time),
        TEST(test_active_open_synack_without_ece_leaves_ecn_off),
        TEST(test_active_open_synack_with_ece_and_cwr_leaves_ecn_off),
        TEST(test_active_open_falls_back_to_plain_syn),
        TEST(test_active_open_no_ecn_retries),
        TEST(test_active_open_without_request),
        TEST(test_passive_open_agrees_to_ecn),
        TEST(test_passive_open_plain_syn_plain_synack),
        TEST(test_passive_open_partial_setup_syn_is_not_ecn),
        TEST(test_passive_open_by_mode),
        TEST(test_ect0_on_new_data_only),
        TEST(test_no_ect_without_ecn),
        TEST(test_ce_echoed_with_ece_until_cwr),
        TEST(test_ce_on_cwr_segment_keeps_echo),
        TEST(test_ece_reduces_cwnd_to_ssthresh),
        TEST(test_ece_ack_of_new_data_does_not_grow_cwnd),
        TEST(test_new_data_after_ece_carries_cwr),
        TEST(test_ece_reduces_once_per_window),
        TEST(test_ece_reduction_by_prr_with_sack),
        TEST(test_ece_on_ack_of_last_segment_of_window_does_not_reduce_again),
        TEST(test_loss_in_same_window_as_ece_does_not_reduce_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
