/* Scenario: the socket-level marks at the stack's API (tcp.h), segment by segment against a
 * scripted peer: record boundaries (MSG_EOR) on the wire, first transmission and
 * retransmission; TCP_NOTSENT_LOWAT's admission and writability; SO_RCVLOWAT's readability;
 * the queue sizes of SIOCINQ/SIOCOUTQ/SIOCOUTQNSD and TCP_INQ's hint.
 *
 * Expectations are computed here from the rules as Linux documents them (tcp(7): "data after
 * an MSG_EOR send is not coalesced with data before it"; TCP_NOTSENT_LOWAT: unsent bytes
 * below the mark, the poll side at half of it; socket(7) SO_RCVLOWAT) and from RFC 6928's
 * initial window, never read back from the stack. The peer announces MSS 1000 and no
 * timestamps, so every full segment carries 1000 bytes. */
#include <string.h>

#include "../ref/ref_raw.h"

#define MSS 1000u
#define IRS 5000u
/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
#define IW (10u * MSS < 14600u ? 10u * MSS : (2u * MSS > 14600u ? 2u * MSS : 14600u))

static uint8_t big[65536];

/* The raw stack connects to the peer, which answers with MSS 1000 and a 65535 window. */
static struct sk_tcp *connect_mss(struct raw *r, struct ref_key *key, uint32_t *iss)
{
    struct sk_tcp *c = NULL;
    *iss = ref_raw_iss(r, key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect(r, SYN, *iss, 0);
    raw_send(r, .flags = SYN | ACK, .seq = IRS, .ack = *iss + 1, .opts = SK_OPT_MSS, .mss = MSS);
    raw_expect(r, ACK, *iss + 1, IRS + 1);
    return c;
}

static void peer_ack(struct raw *r, uint32_t ack)
{
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = ack);
}

/* The segments a sender that never crosses a record end cuts [from, to) into: full MSS
 * segments, each shortened to end at the next record end. */
static size_t ref_segments(uint32_t from, uint32_t to, const uint32_t *ends, size_t nends,
                           uint32_t seg_start[], uint32_t seg_len[])
{
    size_t n = 0;
    for (uint32_t s = from; s < to;) {
        uint32_t e = s + MSS < to ? s + MSS : to;
        for (size_t k = 0; k < nends; k++)
            if (ends[k] > s && ends[k] < e)
                e = ends[k];
        seg_start[n] = s;
        seg_len[n] = e - s;
        n++;
        s = e;
    }
    return n;
}

/* Data after an MSG_EOR send never shares a segment with data before it; the segment that
 * ends a record carries PSH. The queue is 10400 plain bytes, a 400-byte record, then 10000
 * plain bytes: the initial window takes 10000, and after the ACK the 400-byte tail joins the
 * record (both precede its end), then the rest goes in full segments. */
static void test_eor_segments_end_at_records(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 41);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    uint32_t base = iss + 1;
    assert_int_equal(sk_tcp_send(c, big, 10400), 10400);
    assert_int_equal(sk_tcp_send_flags(c, big, 400, SK_TCP_SEND_EOR), 400);
    assert_int_equal(sk_tcp_send(c, big, 10000), 10000);
    /* Offsets from the first byte: one record end, at 10800. */
    uint32_t ends[] = {10800};
    uint32_t start[64], len[64];
    size_t n = ref_segments(0, IW, ends, 1, start, len);
    for (size_t i = 0; i < n; i++) {
        const struct raw_out *o = raw_expect(r, ACK, base + start[i], IRS + 1);
        assert_int_equal(o->len, len[i]);
    }
    raw_expect_none(r);
    peer_ack(r, base + IW);
    /* The window now holds all the rest (cwnd grew by at least one MSS past what is left). */
    n = ref_segments(IW, 20800, ends, 1, start, len);
    for (size_t i = 0; i < n; i++) {
        bool ends_record = start[i] + len[i] == 10800 || start[i] + len[i] == 20800;
        const struct raw_out *o =
            raw_expect(r, ACK | (ends_record ? PSH : 0), base + start[i], IRS + 1);
        assert_int_equal(o->len, len[i]);
    }
    assert_int_equal(len[0], 800); /* the tail and the record, nothing after it */
    raw_expect_none(r);
    raw_free(r);
}

/* Small records are not held by Nagle while more data is queued behind them (Linux sends an
 * skb that is not the last without Nagle's test); the last one, at the end of the queue, is
 * held while data is in flight (RFC 896), as any small write is. */
static void test_eor_small_records_and_nagle(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 42);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    uint32_t base = iss + 1;
    assert_int_equal(sk_tcp_send_flags(c, big, 400, SK_TCP_SEND_EOR), 400);
    raw_expect(r, ACK | PSH, base, IRS + 1); /* nothing in flight: it goes */
    assert_int_equal(sk_tcp_send_flags(c, big, 400, SK_TCP_SEND_EOR), 400);
    raw_expect_none(r);                      /* Nagle: 400 bytes unacknowledged */
    assert_int_equal(sk_tcp_send_flags(c, big, 400, SK_TCP_SEND_EOR), 400);
    const struct raw_out *o = raw_expect(r, ACK | PSH, base + 400, IRS + 1);
    assert_int_equal(o->len, 400);           /* the second record, not joined to the third */
    raw_expect_none(r);
    peer_ack(r, base + 800);
    o = raw_expect(r, ACK | PSH, base + 800, IRS + 1);
    assert_int_equal(o->len, 400);
    raw_expect_none(r);
    raw_free(r);
}

/* A retransmission after a timeout respects records too: go-back-N from SND.UNA with one MSS
 * of window (RFC 5681 §3.1: LW = 1 SMSS) sends only the first record. */
static void test_eor_retransmission_keeps_records(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 43);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    sk_tcp_set_nodelay(c, true);
    uint32_t base = iss + 1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(sk_tcp_send_flags(c, big, 300, SK_TCP_SEND_EOR), 300);
    assert_int_equal(sk_tcp_send(c, big, 2000), 2000);
    uint32_t ends[] = {300, 600, 900};
    uint32_t start[16], len[16];
    size_t n = ref_segments(0, 2900, ends, 3, start, len);
    for (size_t i = 0; i < n; i++) {
        uint32_t end = start[i] + len[i];
        bool push = end == 300 || end == 600 || end == 900 || end == 2900;
        const struct raw_out *o = raw_expect(r, ACK | (push ? PSH : 0), base + start[i], IRS + 1);
        assert_int_equal(o->len, len[i]);
    }
    raw_expect_none(r);
    /* No ACK: the retransmission timer (RFC 6298: the initial RTO, 1 s) fires. */
    raw_run_for(r, SEC(1) + MS(1));
    const struct raw_out *o = raw_expect(r, ACK | PSH, base, IRS + 1);
    assert_int_equal(o->len, 300);
    raw_free(r);
}

/* TCP_NOTSENT_LOWAT: a send takes data while fewer than the mark are unsent, checked before
 * each new chunk (one MSS here: no segmentation offload), so a send may leave up to a chunk
 * beyond it; the connection is writable only while twice the unsent bytes are below it. */
static uint32_t ref_lowat_accepts(uint32_t in_window, uint32_t lowat)
{
    /* The window takes in_window at once; then chunks of MSS are queued while unsent < lowat. */
    uint32_t unsent = 0;
    while (unsent < lowat)
        unsent += MSS;
    return in_window + unsent;
}

static void test_notsent_lowat_admission_and_writability(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 44);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    uint32_t base = iss + 1;
    assert_int_equal(sk_tcp_get_notsent_lowat(c), 0);
    assert_int_equal(sk_tcp_set_notsent_lowat(c, 4000), 0);
    assert_int_equal(sk_tcp_get_notsent_lowat(c), 4000);
    assert_true(sk_tcp_events(c) & SK_EV_WRITABLE);
    uint32_t want = ref_lowat_accepts(IW, 4000);
    assert_int_equal(sk_tcp_send(c, big, 59000), (ssize_t)want);
    uint32_t unsent = want - IW;
    assert_int_equal(sk_tcp_outq_nsd(c), unsent);
    assert_int_equal(sk_tcp_outq(c), want);
    assert_false(sk_tcp_events(c) & SK_EV_WRITABLE);
    assert_int_equal(sk_tcp_writable(c), 0);
    assert_int_equal(sk_tcp_send(c, big, 100), -EAGAIN);
    /* Each 1-MSS ACK grows cwnd by one MSS in slow start (RFC 5681 §3.1): two segments more
     * go out per ACK. */
    peer_ack(r, base + MSS);
    unsent -= 2 * MSS;
    assert_int_equal(sk_tcp_outq_nsd(c), unsent);
    assert_int_equal(2 * unsent < 4000, (sk_tcp_events(c) & SK_EV_WRITABLE) != 0);
    peer_ack(r, base + 2 * MSS);
    unsent = unsent > 2 * MSS ? unsent - 2 * MSS : 0;
    assert_int_equal(sk_tcp_outq_nsd(c), unsent);
    assert_true(2 * unsent < 4000);
    assert_true(sk_tcp_events(c) & SK_EV_WRITABLE);
    /* 0 restores the stack's default: no mark. */
    assert_int_equal(sk_tcp_set_notsent_lowat(c, 0), 0);
    assert_int_equal(sk_tcp_get_notsent_lowat(c), 0);
    raw_free(r);
}

/* The stack-wide default (Linux's net.ipv4.tcp_notsent_lowat) acts the same, and the option
 * still reads 0 (the sysctl is not the option). */
static void test_notsent_lowat_stack_default(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.notsent_lowat = 2500;
    struct ref_key key;
    struct raw *r = ref_raw_new(&cfg, &key, 45);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    assert_int_equal(sk_tcp_get_notsent_lowat(c), 0);
    assert_int_equal(sk_tcp_send(c, big, 59000), (ssize_t)ref_lowat_accepts(IW, 2500));
    raw_free(r);
}

/* SO_RCVLOWAT: readable once the mark is reached, or at the peer's FIN; recv takes what is
 * there. */
static void test_rcvlowat_readability(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 46);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    assert_int_equal(sk_tcp_get_rcvlowat(c), 1);
    assert_int_equal(sk_tcp_set_rcvlowat(c, 3000), 0);
    assert_int_equal(sk_tcp_get_rcvlowat(c), 3000);
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 1, .ack = iss + 1, .data = big, .len = 1000);
    assert_false(sk_tcp_events(c) & SK_EV_READABLE);
    assert_int_equal(sk_tcp_inq(c), 1000);
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 1001, .ack = iss + 1, .data = big, .len = 1000);
    assert_false(sk_tcp_events(c) & SK_EV_READABLE);
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 2001, .ack = iss + 1, .data = big, .len = 1000);
    assert_true(sk_tcp_events(c) & SK_EV_READABLE);
    char buf[4000];
    assert_int_equal(sk_tcp_recv(c, buf, 500), 500); /* below the mark again */
    assert_false(sk_tcp_events(c) & SK_EV_READABLE);
    raw_send(r, .flags = ACK | FIN, .seq = IRS + 3001, .ack = iss + 1);
    assert_true(sk_tcp_events(c) & SK_EV_READABLE); /* the FIN wakes the reader */
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 2500);
    raw_free(r);
}

/* SIOCINQ counts readable bytes; TCP_INQ's hint counts the FIN as one more (Linux's
 * tcp_inq_hint: RCV.NXT - copied_seq), so a reader that drained the data sees 1 and reads end
 * of stream. SIOCOUTQ counts what is unacknowledged (our FIN too), SIOCOUTQNSD what is
 * unsent. */
static void test_queue_sizes(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 47);
    uint32_t iss;
    struct sk_tcp *c = connect_mss(r, &key, &iss);
    uint32_t base = iss + 1;
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 1, .ack = base, .data = big, .len = 1000);
    assert_int_equal(sk_tcp_inq(c), 1000);
    assert_int_equal(sk_tcp_inq_hint(c), 1000);
    char buf[2000];
    assert_int_equal(sk_tcp_recv(c, buf, 300), 300);
    assert_int_equal(sk_tcp_inq(c), 700);
    raw_send(r, .flags = ACK | FIN, .seq = IRS + 1001, .ack = base);
    assert_int_equal(sk_tcp_inq(c), 700);
    assert_int_equal(sk_tcp_inq_hint(c), 701);
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 700);
    assert_int_equal(sk_tcp_inq(c), 0);
    assert_int_equal(sk_tcp_inq_hint(c), 1);
    /* Sending: IW goes out, the rest waits (Nagle off, so that a short tail goes too). */
    sk_tcp_set_nodelay(c, true);
    assert_int_equal(sk_tcp_send(c, big, IW + 2500), (ssize_t)(IW + 2500));
    assert_int_equal(sk_tcp_outq(c), IW + 2500);
    assert_int_equal(sk_tcp_outq_nsd(c), 2500);
    /* The peer's next sequence number is past its data and FIN. */
    raw_send(r, .flags = ACK, .seq = IRS + 1002, .ack = base + IW);
    assert_int_equal(sk_tcp_outq(c), 2500);
    assert_int_equal(sk_tcp_outq_nsd(c), 0);
    raw_send(r, .flags = ACK, .seq = IRS + 1002, .ack = base + IW + 2500);
    assert_int_equal(sk_tcp_outq(c), 0);
    assert_int_equal(sk_tcp_shutdown(c), 0);
    assert_int_equal(sk_tcp_outq(c), 1); /* our FIN takes a sequence number */
    raw_free(r);
}

int main(void)
{
    memset(big, 'r', sizeof(big));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eor_segments_end_at_records),
        cmocka_unit_test(test_eor_small_records_and_nagle),
        cmocka_unit_test(test_eor_retransmission_keeps_records),
        cmocka_unit_test(test_notsent_lowat_admission_and_writability),
        cmocka_unit_test(test_notsent_lowat_stack_default),
        cmocka_unit_test(test_rcvlowat_readability),
        cmocka_unit_test(test_queue_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
