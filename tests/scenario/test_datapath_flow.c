/* Data path: flow control. Zero-window probing with backoff and recovery (RFC 9293 §3.8.6.1),
 * silly-window avoidance on both sides (RFC 9293 §3.8.6.2), and window scaling (RFC 7323 §2).
 * D = IRS + 1 is the peer's first data byte; S = ISS + 1 the stack's. */
#include "test_datapath.h"

#define D (IRS + 1)

/* The stack sends 2 full segments, the peer acknowledges them with a zero window; 2000 more
 * bytes wait. Returns the connection; the clock is at the zero-window ACK. */
static struct sk_tcp *closed_window(struct raw *r, uint32_t *iss)
{
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, iss);
    uint32_t s = *iss + 1;
    assert_int_equal(fx_send(c, 0, 2 * MSS), 2 * MSS);
    fx_expect_data(r, ACK, s, D, MSS);
    fx_expect_data(r, ACK | PSH, s + MSS, D, MSS);
    assert_int_equal(fx_send(c, 2 * MSS, 2000), 2000);
    fx_expect_data(r, ACK, s + 2 * MSS, D, MSS); /* cwnd allows a third segment */
    raw_expect_none(r); /* Nagle holds the 540-byte tail */
    raw_run_for(r, MS(100));
    raw_send(r, .flags = ACK, .seq = D, .ack = s + 3 * MSS, .zero_wnd = true);
    raw_expect_none(r);
    return c;
}

/* RFC 9293 §3.8.6.1: behind a zero window the sender probes with one byte at SND.UNA, first
 * after one RTO (1 s), then backing off: 2 s, 4 s, 8 s, 16 s. Nothing else leaves. When the
 * window opens, sending resumes at SND.UNA (the probe byte again: it was never taken),
 * byte-exact. */
static void test_zero_window_probes_back_off_then_resume(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = closed_window(r, &iss);
    uint32_t una = iss + 1 + 3 * MSS;
    sk_time_us t = r->now;
    static const unsigned gaps_s[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < 5; i++) {
        t += SEC(gaps_s[i]);
        raw_run_until(r, t - 1);
        raw_expect_none(r);
        raw_run_until(r, t);
        const struct raw_out *o = fx_expect_data(r, ACK, una, D, 1);
        assert_int_equal(o->time, t);
        assert_int_equal(o->data[0], fx_byte(3 * MSS));
    }
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_send(r, .flags = ACK, .seq = D, .ack = una);
    const struct raw_out *o = fx_expect_data(r, ACK | PSH, una, D, 2000 - MSS);
    uint8_t want[2000];
    fx_fill(want, 3 * MSS, 2000 - MSS);
    assert_memory_equal(o->data, want, 2000 - MSS);
    raw_expect_none(r);
    raw_free(r);
}

/* Both windows shut at once: we probe the peer's zero window while we owe it a delayed ACK for
 * data it sent. The owed ACK leaves before the probe, on its own, and from SND.UNA: the probe
 * byte beyond it lies outside the peer's zero window, and an ACK from SND.MAX = SND.UNA + 1
 * fails the peer's acceptability test (RFC 9293 §3.10.7.4: with RCV.WND = 0 only
 * SEG.SEQ = RCV.NXT is acceptable), so Linux dropped it and retransmitted the data it acked.
 * Found over TAP (test_slow_reader): the ACK left from SND.MAX whenever the persist timer
 * itself sent it, because the timer was no longer running at that instant. */
static void test_owed_ack_before_probe_is_from_snd_una(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    closed_window(r, &iss);
    uint32_t una = iss + 1 + 3 * MSS;
    sk_time_us t = r->now + SEC(1);
    raw_run_until(r, t);
    fx_expect_data(r, ACK, una, D, 1); /* the first probe: SND.MAX = SND.UNA + 1 from now */
    /* 10 ms before the second probe (2 s later) the peer sends 100 bytes: the ACK for them is
     * delayed (40 ms), so it is still owed when the probe goes. */
    t += SEC(2);
    raw_run_until(r, t - MS(10));
    uint8_t data[100];
    memset(data, 'x', sizeof(data));
    raw_send(r, .flags = ACK | PSH, .seq = D, .ack = una, .zero_wnd = true, .data = data,
             .len = sizeof(data));
    raw_expect_none(r);
    raw_run_until(r, t);
    raw_expect(r, ACK, una, D + 100);
    fx_expect_data(r, ACK, una, D + 100, 1);
    raw_free(r);
}

/* The peer answers every probe with its zero window (RFC 1122 §4.2.2.17: as long as it does,
 * the connection stays open). Those answers are not duplicate ACKs that signal a loss: only
 * probes may leave while the window is zero. */
static void test_answered_probes_do_not_trigger_fast_retransmit(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = closed_window(r, &iss);
    uint32_t una = iss + 1 + 3 * MSS;
    sk_time_us t = r->now;
    static const unsigned gaps_s[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < 5; i++) {
        t += SEC(gaps_s[i]);
        raw_run_until(r, t);
        assert_int_equal(fx_expect_data(r, ACK, una, D, 1)->time, t);
        raw_send(r, .flags = ACK, .seq = D, .ack = una, .zero_wnd = true);
        raw_expect_none(r);
    }
    expect_state(c, SK_TCP_ESTABLISHED);
    raw_free(r);
}

/* The window update is lost: the next probe finds the window open; the peer takes the probe
 * byte and acknowledges it with an open window; the rest follows at once. */
static void test_lost_window_update_recovered_by_probe(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    closed_window(r, &iss);
    uint32_t una = iss + 1 + 3 * MSS;
    sk_time_us t = r->now;
    raw_run_until(r, t + SEC(1));
    fx_expect_data(r, ACK, una, D, 1);
    raw_send(r, .flags = ACK, .seq = D, .ack = una, .zero_wnd = true);
    /* The peer's application reads; its window update is lost on the way. */
    raw_run_until(r, t + SEC(3) - 1);
    raw_expect_none(r);
    raw_run_until(r, t + SEC(3));
    fx_expect_data(r, ACK, una, D, 1);
    raw_send(r, .flags = ACK, .seq = D, .ack = una + 1);
    const struct raw_out *o = fx_expect_data(r, ACK | PSH, una + 1, D, 2000 - MSS - 1);
    uint8_t want[2000];
    fx_fill(want, 3 * MSS + 1, 2000 - MSS - 1);
    assert_memory_equal(o->data, want, 2000 - MSS - 1);
    raw_free(r);
}

/* Two stacks; B's receive buffer is 4 KiB and its application does not read. A's 20000
 * bytes stop at B's window; A then probes with one byte, 1 s after the window closed, then at
 * 2 s and 4 s gaps (B answers each with its window still 0). B's application then reads everything as it comes, its window updates reopen
 * A at once, and every byte arrives in order. */
static void test_zero_window_pair_byte_exact(void **state)
{
    (void)state;
    struct sk_config cb;
    harness_config(&cb, 1);
    cb.rcvbuf_bytes = 4096;
    struct pair *p = pair_new(NULL, &cb);
    struct sk_tcp *ca, *l, *b;
    pair_establish(p, 80, &ca, &l, &b);
    enum { N = 20000 };
    static uint8_t want[N], got[N];
    fx_fill(want, 0, N);
    size_t sent = 0;
    sent += (size_t)sk_tcp_send(ca, want, N);
    pair_run_for(p, SEC(10));
    assert_true(sk_tcp_readable(b) > 4096 - 128);
    /* A's probes: one byte at SND.UNA each, at doubling gaps. */
    sk_time_us probe[8];
    size_t np = 0;
    sk_time_us closed = SK_TIME_NEVER;
    for (size_t i = 0; i < p->rec.n && np < 8; i++) {
        const struct rec_ev *e = &p->rec.ev[i];
        if (closed == SK_TIME_NEVER && e->side == SIDE_A && e->ev.kind == SK_TRACE_SEG_IN &&
            e->ev.u.seg.wnd == 0)
            closed = e->ev.time;
        if (e->side == SIDE_A && e->ev.kind == SK_TRACE_SEG_OUT && e->ev.u.seg.len == 1)
            probe[np++] = e->ev.time;
    }
    assert_int_equal(np, 3);
    assert_int_equal(probe[0] - closed, SEC(1));
    assert_int_equal(probe[1] - probe[0], SEC(2));
    assert_int_equal(probe[2] - probe[1], SEC(4));
    /* B took everything up to the right edge it offered: the 4096-byte buffer, plus what the
     * last window, rounded up to the 128-byte unit of window scale 7 so that the edge never
     * moved back, promised beyond it (the ring keeps room for that); the probes found it shut. */
    assert_true(sk_tcp_readable(b) >= 4096 && sk_tcp_readable(b) < 4096 + 128);
    /* B reads; A resumes on B's window update, not at its next probe (due at +8 s). */
    size_t have = 0;
    sk_time_us read_at = pair_now(p);
    while (have < N && pair_now(p) < read_at + SEC(60)) {
        ssize_t k = sk_tcp_recv(b, got + have, N - have);
        if (k > 0)
            have += (size_t)k;
        if (sent < N)
            sent += (size_t)sk_tcp_send(ca, want + sent, N - sent);
        pair_step(p, read_at + SEC(60));
    }
    assert_int_equal(have, N);
    assert_memory_equal(got, want, N);
    assert_true(pair_now(p) < read_at + SEC(1)); /* long before the next probe (+8 s) */
    pair_free(p);
}

/* Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a 500-byte window, far below half the largest
 * window seen, with 5000 bytes queued: nothing is sent until the override timeout (the persist
 * timer, one RTO), which then sends what fits. */
static void test_sender_does_not_fill_small_window(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    uint32_t s = iss + 1;
    fx_send(c, 0, MSS);
    fx_expect_data(r, ACK | PSH, s, D, MSS);
    raw_run_for(r, MS(100));
    raw_send(r, .flags = ACK, .seq = D, .ack = s + MSS, .wnd = 500);
    sk_time_us t = r->now;
    assert_int_equal(fx_send(c, MSS, 5000), 5000);
    raw_expect_none(r);
    raw_run_until(r, t + SEC(1) - 1);
    raw_expect_none(r);
    raw_run_until(r, t + SEC(1));
    const struct raw_out *o = fx_expect_data(r, ACK, s + MSS, D, 500);
    assert_int_equal(o->time, t + SEC(1));
    raw_free(r);
}

/* ... but when everything queued fits the small window it goes at once (§3.8.6.2.1 (b)). */
static void test_sender_sends_all_queued_if_it_fits(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(100), NULL, &iss);
    uint32_t s = iss + 1;
    fx_send(c, 0, MSS);
    fx_expect_data(r, ACK | PSH, s, D, MSS);
    raw_send(r, .flags = ACK, .seq = D, .ack = s + MSS, .wnd = 500);
    fx_send(c, MSS, 300);
    fx_expect_data(r, ACK | PSH, s + MSS, D, 300);
    raw_free(r);
}

/* Fills the stack's 8 KiB receive window from the peer: 5 full segments and 892 bytes. */
static struct sk_tcp *full_receiver(struct raw *r, uint32_t *iss)
{
    struct sk_tcp *c = dp_connect(r, MS(10), NULL, iss);
    uint8_t buf[MSS];
    uint32_t off = 0;
    while (off < 8192) {
        uint32_t n = 8192 - off < MSS ? 8192 - off : MSS;
        fx_fill(buf, off, n);
        raw_send(r, .flags = ACK, .seq = D + off, .ack = *iss + 1, .data = buf, .len = n);
        off += n;
    }
    raw_run_for(r, MS(40));
    r->cursor = r->nout - 1;
    const struct raw_out *o = raw_expect(r, ACK, *iss + 1, D + 8192);
    assert_int_equal(o->wnd, 0);
    assert_int_equal(sk_tcp_readable(c), 8192);
    return c;
}

static struct raw *raw_small_rcvbuf(void)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rcvbuf_bytes = 8192;
    cfg.opt_wscale = false;
    return raw_new(&cfg);
}

/* Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3): after the window closed,
 * reading 100 bytes does not advertise a 100-byte window, neither by itself nor in the next
 * ACK (here the answer to a duplicate segment): the window stays 0 until it can grow by
 * min(MSS, RCV.BUFF/2). */
static void test_receiver_does_not_advertise_small_increase(void **state)
{
    (void)state;
    struct raw *r = raw_small_rcvbuf();
    uint32_t iss;
    struct sk_tcp *c = full_receiver(r, &iss);
    uint8_t buf[100];
    assert_int_equal(sk_tcp_recv(c, buf, 100), 100);
    raw_expect_none(r);
    uint8_t dup[892];
    fx_fill(dup, 8192 - 892, 892);
    raw_send(r, .flags = ACK, .seq = D + 8192 - 892, .ack = iss + 1, .data = dup, .len = 892);
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, D + 8192);
    assert_int_equal(o->wnd, 0);
    raw_free(r);
}

/* RFC 9293 §3.10.7.4 (an unacceptable segment is answered with an ACK) and RFC 1122
 * §4.2.2.17: a one-byte probe into our zero window gets <SEQ=SND.NXT><ACK=RCV.NXT> with the
 * window still 0. */
static void test_zero_window_probe_is_acked(void **state)
{
    (void)state;
    struct raw *r = raw_small_rcvbuf();
    uint32_t iss;
    full_receiver(r, &iss);
    raw_send(r, .flags = ACK, .seq = D + 8192, .ack = iss + 1, .data = "x", .len = 1);
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, D + 8192);
    assert_int_equal(o->wnd, 0);
    raw_free(r);
}

/* ... and once small reads add up to one MSS, a window update goes out without waiting for a
 * probe. */
static void test_receiver_updates_window_after_small_reads_add_up(void **state)
{
    (void)state;
    struct raw *r = raw_small_rcvbuf();
    uint32_t iss;
    struct sk_tcp *c = full_receiver(r, &iss);
    uint8_t buf[100];
    for (int i = 0; i < 14; i++) {
        assert_int_equal(sk_tcp_recv(c, buf, 100), 100);
        raw_expect_none(r); /* 1400 bytes: below one MSS */
    }
    assert_int_equal(sk_tcp_recv(c, buf, 100), 100);
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, D + 8192);
    assert_int_equal(o->wnd, 1500);
    raw_free(r);
}

/* A read that frees at least one MSS at once sends the update. */
static void test_receiver_updates_window_after_large_read(void **state)
{
    (void)state;
    struct raw *r = raw_small_rcvbuf();
    uint32_t iss;
    struct sk_tcp *c = full_receiver(r, &iss);
    uint8_t buf[4096];
    assert_int_equal(sk_tcp_recv(c, buf, 4096), 4096);
    const struct raw_out *o = raw_expect(r, ACK, iss + 1, D + 8192);
    assert_int_equal(o->wnd, 4096);
    raw_free(r);
}

/* RFC 7323 §2: the peer announces shift 14. Its SYN,ACK window is taken as is; every later
 * window is shifted by 14. Ours (shift 7, 1 MiB buffer) is sent as 1 MiB >> 7 = 8192, but
 * unscaled (65535 at most) in the SYN. */
static void test_window_scale_14(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rcvbuf_bytes = 1u << 20;
    cfg.sndbuf_bytes = 1u << 20;
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct fx_peer po = {.ws = true, .wscale = 14, .wnd = 1000};
    struct sk_tcp *c = dp_connect(r, MS(10), &po, &iss);
    const struct raw_out *syn = &r->out[0];
    assert_true(syn->opts & SK_OPT_WSCALE);
    assert_int_equal(syn->wscale, 7);
    assert_int_equal(syn->wnd, 65535);
    assert_int_equal(info(c).snd_wscale, 14);
    assert_int_equal(info(c).rcv_wscale, 7);
    assert_int_equal(info(c).snd_wnd, 1000); /* the SYN,ACK's window is not scaled */
    assert_int_equal(r->out[1].wnd, 8192);   /* our ACK: 1 MiB >> 7 */
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 1, .wnd = 64);
    assert_int_equal(info(c).snd_wnd, 64u << 14); /* 1 MiB */
    raw_send(r, .flags = ACK, .seq = D, .ack = iss + 1, .wnd = 65535);
    assert_int_equal(info(c).snd_wnd, 65535u << 14);
    /* The large window is usable: cwnd, not the window, limits the first flight. */
    fx_send(c, 0, 20 * MSS);
    for (int i = 0; i < 10; i++)
        fx_expect_data(r, ACK, iss + 1 + (uint32_t)i * MSS, D, MSS);
    raw_expect_none(r);
    raw_free(r);
}

/* RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.2.16: the right edge we advertise (ACK + WND << 7) does not
 * move left while the application does not read, whatever the segment sizes, except by the
 * rounding a scaled window cannot avoid (RFC 7323 §2.4: less than 2^7 bytes), and it never
 * promises more than the buffer and that one rounding step can hold: every byte sent up to the
 * highest edge ever advertised is taken, none dropped. */
static void test_window_never_shrinks(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rcvbuf_bytes = 40000; /* not a multiple of 2^7 */
    struct raw *r = raw_new(&cfg);
    uint32_t iss;
    struct fx_peer po = {.ws = true, .wscale = 7};
    dp_connect(r, MS(10), &po, &iss);
    uint32_t edge = r->out[1].ack + ((uint32_t)r->out[1].wnd << 7);
    uint32_t max_edge = edge;
    uint8_t buf[1000];
    size_t first = r->nout;
    uint32_t off = 0;
    /* 1000-byte segments until the advertised window is used up. */
    for (;;) {
        uint32_t room = max_edge - (D + off);
        if ((int32_t)room <= 0)
            break;
        uint32_t n = room < 1000 ? room : 1000;
        fx_fill(buf, off, n);
        raw_send(r, .flags = ACK, .seq = D + off, .ack = iss + 1, .data = buf, .len = n);
        raw_run_for(r, MS(50));
        off += n;
        for (size_t i = first; i < r->nout; i++) {
            uint32_t e = r->out[i].ack + ((uint32_t)r->out[i].wnd << 7);
            assert_true((int32_t)(e - edge) > -(1 << 7));
            edge = e;
            if ((int32_t)(e - max_edge) > 0)
                max_edge = e;
        }
        first = r->nout;
    }
    /* The buffer (40000) plus at most one rounding step beyond it was promised and all of it
     * arrived in order: the last ACK covers every byte sent. */
    assert_true(off >= 40000 && off <= 40000 + (1u << 7));
    assert_int_equal(r->out[r->nout - 1].ack, D + off);
    assert_int_equal(counters(r->st).drops[SK_DROP_TCP_OUT_OF_ORDER], 0);
    assert_int_equal(counters(r->st).drops[SK_DROP_TCP_RCV_WINDOW], 0);
    raw_free(r);
}

/* sk_config.ack_at_window_edge (on by default, a documented deviation from RFC 9293
 * §3.10.7.4's SEG.SEQ < RCV.NXT+RCV.WND): a peer that filled our 4000-byte window but for a hole
 * at its start sends its pure ACKs from exactly the right edge, D + 4000. The acknowledgment in
 * them (of our 1000 bytes) is taken. With the knob off, the RFC's strict test drops the segment
 * and answers it, and our data stays unacknowledged. */
static void test_pure_ack_at_the_right_edge(void **state)
{
    (void)state;
    for (int knob = 1; knob >= 0; knob--) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.rcvbuf_bytes = 4000;
        cfg.ack_at_window_edge = knob;
        struct raw *r = raw_new(&cfg);
        uint32_t iss;
        struct sk_tcp *c = dp_connect(r, MS(10), NULL, &iss);
        assert_int_equal(r->out[1].wnd, 4000); /* no scaling: the edge is D + 4000 */
        uint32_t s = iss + 1;
        assert_int_equal(fx_send(c, 0, 1000), 1000);
        fx_expect_data(r, ACK | PSH, s, D, 1000);
        uint8_t buf[1500];
        for (uint32_t off = 1000; off < 4000; off += 1500) {
            fx_fill(buf, off, 1500);
            raw_send(r, .flags = ACK, .seq = D + off, .ack = s, .data = buf, .len = 1500);
        }
        r->cursor = r->nout; /* their ACKs (with the hole) are not what this test is about */
        raw_send(r, .flags = ACK, .seq = D + 4000, .ack = s + 1000);
        if (knob) {
            assert_int_equal(info(c).snd_una, s + 1000);
            assert_int_equal(drops(r->st, SK_DROP_TCP_SEQ), 0);
            raw_expect_none(r);
        } else {
            assert_int_equal(info(c).snd_una, s);
            assert_int_equal(drops(r->st, SK_DROP_TCP_SEQ), 1);
            raw_expect(r, ACK, s + 1000, D); /* RFC 9293: an unacceptable segment is answered */
        }
        raw_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_zero_window_probes_back_off_then_resume),
        TEST(test_owed_ack_before_probe_is_from_snd_una),
        TEST(test_answered_probes_do_not_trigger_fast_retransmit),
        TEST(test_lost_window_update_recovered_by_probe),
        TEST(test_zero_window_pair_byte_exact),
        TEST(test_sender_does_not_fill_small_window),
        TEST(test_sender_sends_all_queued_if_it_fits),
        TEST(test_receiver_does_not_advertise_small_increase),
        TEST(test_zero_window_probe_is_acked),
        TEST(test_receiver_updates_window_after_small_reads_add_up),
        TEST(test_receiver_updates_window_after_large_read),
        TEST(test_window_scale_14),
        TEST(test_window_never_shrinks),
        TEST(test_pure_ack_at_the_right_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
