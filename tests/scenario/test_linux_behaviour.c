/* Behaviour other stacks show, for profiles (sk_config's "profile=linux" knobs), each against a
 * scripted peer on the virtual clock, with the expected values taken from Linux's documented
 * behaviour (net/ipv4/tcp_input.c, tcp_timer.c, tcp_output.c, include/net/tcp.h) and written
 * again here, never read back from the stack. Each knob's default is checked too: RFC
 * behaviour. */
#include "fixture.h"

#include <cmocka.h>
#include <sys/uio.h>

#define MS(x) ((sk_time_us)(x) * 1000u)
#define SEC(x) ((sk_time_us)(x) * 1000000u)

/* Linux's constants (include/net/tcp.h). */
#define TCP_MAX_QUICKACKS 16u
#define TCP_ATO_MIN_US 40000u   /* HZ / 25 */
#define TCP_DELACK_MAX_US 200000u
#define TCP_RTO_MIN_US 200000u
#define TCP_FIN_TIMEOUT_US 60000000u

static void linux_acks(struct sk_config *cfg)
{
    harness_config(cfg, 0);
    cfg->quickack_max = TCP_MAX_QUICKACKS;
    cfg->delack_us = TCP_ATO_MIN_US;
    cfg->delack_max_us = TCP_DELACK_MAX_US;
}

/* Quick-ACK mode at a connection's first data (tcp_incr_quickack): with a 16 KiB receive
 * buffer (window scaling agreed, so the window is the whole buffer) and full 1460-byte
 * segments, quickacks = min(16, 16384 / (2 * 1460)) = 5: the first five segments are each
 * acknowledged at once. The sixth waits (one segment unacknowledged is not "more than one full
 * frame"), the seventh is acknowledged at once with it. */
static void test_quickack_first_segments_each_acked(void **state)
{
    (void)state;
    struct sk_config cfg;
    linux_acks(&cfg);
    cfg.rcvbuf_bytes = 16384;
    struct fx f = fx_accept(&cfg, &(struct fx_peer){.ws = true, .wscale = 7});
    uint32_t quick = 16384u / (2u * FX_MSS);
    if (quick > TCP_MAX_QUICKACKS)
        quick = TCP_MAX_QUICKACKS;
    assert_int_equal(quick, 5);
    uint32_t off = 0;
    for (uint32_t i = 0; i < quick; i++) {
        raw_run_for(f.r, MS(1));
        fx_peer_data(&f, off, FX_MSS, FX_SND(&f, 0));
        off += FX_MSS;
        assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, off))->time, f.r->now);
    }
    raw_run_for(f.r, MS(1));
    fx_peer_data(&f, off, FX_MSS, FX_SND(&f, 0));
    off += FX_MSS;
    raw_expect_none(f.r);
    raw_run_for(f.r, MS(1));
    fx_peer_data(&f, off, FX_MSS, FX_SND(&f, 0));
    off += FX_MSS;
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, off))->time, f.r->now);
    fx_free(&f);
}

/* The default (quickack_max 0): RFC 5681 §4.2, the first lone segment waits delack_us. */
static void test_default_first_segment_delayed(void **state)
{
    (void)state;
    struct fx f = fx_accept(NULL, NULL);
    sk_time_us t = f.r->now;
    fx_peer_data(&f, 0, 100, FX_SND(&f, 0));
    raw_expect_none(f.r);
    raw_run_until(f.r, t + MS(40));
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 100))->time, t + MS(40));
    fx_free(&f);
}

/* Interactive ("pingpong", tcp_event_data_sent): the first request is acknowledged at once
 * (quick-ACK mode); the application answers 10 ms later, within the ACK timeout, so the next
 * request's ACK waits the full 40 ms (TCP_ATO_MIN) in case an answer can carry it. When that
 * timer fires the connection stops being interactive (tcp_delack_timer_handler), and the
 * next request is acknowledged at once again (quick ACKs are left). */
static void test_pingpong_delays_then_timer_ends_it(void **state)
{
    (void)state;
    struct sk_config cfg;
    linux_acks(&cfg);
    struct fx f = fx_accept(&cfg, NULL);
    fx_peer_data(&f, 0, 100, FX_SND(&f, 0));
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 100))->time, f.r->now);
    raw_run_for(f.r, MS(10));
    assert_int_equal(fx_send(f.c, 0, 50), 50);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 100), 50);
    raw_run_for(f.r, MS(10));
    sk_time_us t = f.r->now;
    fx_peer_data(&f, 100, 100, FX_SND(&f, 50));
    raw_run_until(f.r, t + TCP_ATO_MIN_US - 1);
    raw_expect_none(f.r);
    raw_run_until(f.r, t + TCP_ATO_MIN_US);
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 50), FX_RCV(&f, 200))->time,
                     t + TCP_ATO_MIN_US);
    raw_run_for(f.r, MS(10));
    fx_peer_data(&f, 200, 100, FX_SND(&f, 50));
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 50), FX_RCV(&f, 300))->time, f.r->now);
    fx_free(&f);
}

/* The ACK timeout doubles when the delayed-ACK timer fires on a bulk connection
 * (tcp_delack_timer_handler: ato << 1, at most the RTO) and is capped by the smoothed RTT
 * (tcp_send_delayed_ack). Quick ACKs limited to 2 (quickack_max), RTT 100 ms: two segments
 * acknowledged at once; a lone third waits 40 ms; the timeout is then 80 ms (under both the
 * RTT's 100 ms and the 500 ms bulk cap), so a lone fourth segment, 150 ms later (a gap longer
 * than the timeout and shorter than the RTO leaves it alone), waits exactly 80 ms. */
static void test_ack_timeout_doubles_after_timer(void **state)
{
    (void)state;
    struct sk_config cfg;
    linux_acks(&cfg);
    cfg.quickack_max = 2;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.rtt_us = MS(100)});
    fx_peer_data(&f, 0, FX_MSS, FX_SND(&f, 0));
    raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, FX_MSS));
    raw_run_for(f.r, MS(1));
    fx_peer_data(&f, FX_MSS, FX_MSS, FX_SND(&f, 0));
    raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 2 * FX_MSS));
    raw_run_for(f.r, MS(1));
    sk_time_us t = f.r->now;
    fx_peer_data(&f, 2 * FX_MSS, 100, FX_SND(&f, 0));
    raw_run_until(f.r, t + TCP_ATO_MIN_US);
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 2 * FX_MSS + 100))->time,
                     t + TCP_ATO_MIN_US);
    raw_run_until(f.r, t + MS(150));
    t = f.r->now;
    fx_peer_data(&f, 2 * FX_MSS + 100, 100, FX_SND(&f, 0));
    raw_run_until(f.r, t + 2 * TCP_ATO_MIN_US - 1);
    raw_expect_none(f.r);
    raw_run_until(f.r, t + 2 * TCP_ATO_MIN_US);
    assert_int_equal(raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 2 * FX_MSS + 200))->time,
                     t + 2 * TCP_ATO_MIN_US);
    fx_free(&f);
}

/* rto_min_on_variance (tcp_rtt_estimator, tcp_set_rto): after one 10 ms sample the RTO is
 * SRTT + max(2 * RTT, rto_min) = 10 + 200 = 210 ms; RFC 6298 §2.4 with the same 200 ms floor
 * gives max(10 + 4 * 5, 200) = 200 ms. The first retransmission of unacknowledged data shows
 * which. */
static void rto_after_10ms_sample(bool linux_floor, sk_time_us want)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rto_min_us = TCP_RTO_MIN_US;
    cfg.rto_min_on_variance = linux_floor;
    cfg.tlp = false;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.rtt_us = MS(10)});
    sk_time_us t = f.r->now;
    assert_int_equal(fx_send(f.c, 0, 100), 100);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 100);
    raw_run_until(f.r, t + want - 1);
    raw_expect_none(f.r);
    raw_run_until(f.r, t + want);
    assert_int_equal(fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 100)->time,
                     t + want);
    fx_free(&f);
}

static void test_rto_floor_on_variance(void **state)
{
    (void)state;
    rto_after_10ms_sample(true, MS(10) + TCP_RTO_MIN_US);
    rto_after_10ms_sample(false, TCP_RTO_MIN_US);
}

/* An orphan in FIN-WAIT-2: closed, its FIN acknowledged, the peer never sends its own. With
 * fin_wait2_timeout_us = 60 s (tcp_fin_timeout) and MSL 10 s, it is gone exactly 60 s after the
 * ACK of its FIN, silently; by default after 2 * MSL = 20 s. */
static void fin_wait2_orphan(uint32_t timeout_us, sk_time_us want)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.msl_us = (uint32_t)SEC(10);
    cfg.fin_wait2_timeout_us = timeout_us;
    struct fx f = fx_accept(&cfg, NULL);
    uint64_t id = conn_id(f.c);
    sk_tcp_close(f.c);
    raw_expect(f.r, FIN | ACK, FX_SND(&f, 0), FX_RCV(&f, 0));
    raw_run_for(f.r, MS(10));
    raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, 0), .ack = FX_SND(&f, 1));
    sk_time_us t = f.r->now;
    raw_run_until(f.r, t + want - 1);
    assert_int_equal(state_time(&f.r->rec, 0, id, SK_TCP_CLOSED), SK_TIME_NEVER);
    raw_run_until(f.r, t + want);
    assert_int_equal(state_time(&f.r->rec, 0, id, SK_TCP_CLOSED), t + want);
    raw_expect_none(f.r);
    assert_int_equal(counters(f.r->st).connections, 1); /* the listener */
    f.c = NULL;
    fx_free(&f);
}

static void test_fin_wait2_timeout(void **state)
{
    (void)state;
    fin_wait2_orphan(TCP_FIN_TIMEOUT_US, SEC(60));
    fin_wait2_orphan(0, SEC(20));
}

/* A segment acknowledging data never sent (SEG.ACK > SND.NXT): RFC 9293 §3.10.7.4 answers
 * with an ACK; Linux's tcp_ack drops it silently (ack_unsent_silent). */
static void ack_of_unsent(bool silent)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.ack_unsent_silent = silent;
    struct fx f = fx_accept(&cfg, NULL);
    raw_run_for(f.r, SEC(1));
    raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, 0), .ack = FX_SND(&f, 5000));
    if (silent)
        raw_expect_none(f.r);
    else
        raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 0));
    assert_int_equal(sk_tcp_get_state(f.c), SK_TCP_ESTABLISHED);
    fx_free(&f);
}

static void test_ack_of_unsent_data(void **state)
{
    (void)state;
    ack_of_unsent(true);
    ack_of_unsent(false);
}

/* Closing with unread data resets the connection (RFC 2525 §2.17). RFC 9293's RST is
 * <SEQ=SND.NXT><CTL=RST>; Linux's tcp_send_active_reset sends RST|ACK with ACK = RCV.NXT
 * (rst_ack_on_abort). */
static void abort_with_unread(bool with_ack)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rst_ack_on_abort = with_ack;
    struct fx f = fx_accept(&cfg, NULL);
    fx_peer_data(&f, 0, 100, FX_SND(&f, 0));
    raw_run_for(f.r, SEC(1)); /* the delayed ACK goes */
    raw_expect(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 100));
    sk_tcp_close(f.c);
    if (with_ack)
        raw_expect(f.r, RST | ACK, FX_SND(&f, 0), FX_RCV(&f, 100));
    else
        raw_expect(f.r, RST, FX_SND(&f, 0), 0);
    f.c = NULL;
    fx_free(&f);
}

static void test_abort_rst_carries_ack(void **state)
{
    (void)state;
    abort_with_unread(true);
    abort_with_unread(false);
}

/* RFC 6928 (Linux's TCP_INIT_CWND = 10): a 20-segment write sends exactly 10 full segments
 * before the first ACK. */
static void test_initial_window_ten_segments(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, &(struct fx_peer){.ws = true, .wscale = 7});
    assert_int_equal(fx_send(f.c, 0, 20 * FX_MSS), 20 * FX_MSS);
    for (uint32_t i = 0; i < 10; i++)
        fx_expect_data(f.r, ACK, FX_SND(&f, i * FX_MSS), FX_RCV(&f, 0), FX_MSS);
    raw_expect_none(f.r);
    fx_free(&f);
}

/* TCP_CORK (sk_tcp_set_cork): two short writes wait; removing the cork sends them as one
 * segment with PSH at once. */
static void test_cork_holds_until_uncork(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, NULL);
    sk_tcp_set_cork(f.c, true);
    assert_int_equal(fx_send(f.c, 0, 40), 40);
    raw_run_for(f.r, MS(50));
    assert_int_equal(fx_send(f.c, 40, 40), 40);
    raw_expect_none(f.r);
    sk_tcp_set_cork(f.c, false);
    assert_int_equal(fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 80)->time,
                     f.r->now);
    fx_free(&f);
}

/* A corked short segment with nothing in flight leaves when the persist timer fires, one RTO
 * after the write (Linux's tcp_check_probe_timer / tcp_write_wakeup, with PSH): after one
 * 10 ms RTT sample, RFC 6298's RTO is max(10 + 4 * 5 ms, rto_min 1 s) = 1 s. */
static void test_cork_ceiling_is_one_rto(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, &(struct fx_peer){.rtt_us = MS(10)});
    sk_tcp_set_cork(f.c, true);
    sk_time_us t = f.r->now;
    assert_int_equal(fx_send(f.c, 0, 40), 40);
    raw_run_until(f.r, t + SEC(1) - 1);
    raw_expect_none(f.r);
    raw_run_until(f.r, t + SEC(1));
    assert_int_equal(fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 40)->time,
                     t + SEC(1));
    fx_free(&f);
}

static ssize_t send_more(struct fx *f, size_t off, size_t n, bool more)
{
    uint8_t buf[4096];
    fx_fill(buf, off, n);
    struct iovec v = {.iov_base = buf, .iov_len = n};
    return sk_tcp_sendv_flags(f->c, &v, 1, more ? SK_TCP_SEND_MORE : 0);
}

/* MSG_MORE (SK_TCP_SEND_MORE), Nagle off: a short write with `more` waits; the next write
 * without it sends both with PSH. A long write with `more` sends its full segments without
 * PSH and holds the short tail; the ACK of the first segment lets the tail go, still without
 * PSH (Linux marks no push after MSG_MORE data). */
static void test_msg_more(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, NULL);
    sk_tcp_set_nodelay(f.c, true);
    assert_int_equal(send_more(&f, 0, 40, true), 40);
    raw_expect_none(f.r);
    assert_int_equal(send_more(&f, 40, 20, false), 20);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 60);
    raw_run_for(f.r, MS(10));
    fx_ack(&f, FX_SND(&f, 60), NULL, 0);
    assert_int_equal(send_more(&f, 60, 2 * FX_MSS + 100, true), 2 * FX_MSS + 100);
    fx_expect_data(f.r, ACK, FX_SND(&f, 60), FX_RCV(&f, 0), FX_MSS);
    fx_expect_data(f.r, ACK, FX_SND(&f, 60 + FX_MSS), FX_RCV(&f, 0), FX_MSS);
    raw_expect_none(f.r);
    raw_run_for(f.r, MS(10));
    fx_ack(&f, FX_SND(&f, 60 + FX_MSS), NULL, 0);
    fx_expect_data(f.r, ACK, FX_SND(&f, 60 + 2 * FX_MSS), FX_RCV(&f, 0), 100);
    fx_free(&f);
}

/* Where the sender's time goes (sk_tcp_info busy_us, rwnd_limited_us: Linux's tcpi_busy_time
 * and tcpi_rwnd_limited): the peer's window is shut when 1000 bytes are written, so for the
 * 100 ms until it opens the connection is busy and receive-window limited; then the data
 * leaves and its ACK comes 20 ms later: busy 120 ms, of which 100 ms window-limited, and
 * nothing more once all is acknowledged. last_data_recv_us (tcpi_last_data_recv) counts from
 * the synchronization, then from the last data; rcv_mss_seen follows the segments. */
static void test_chrono_busy_and_rwnd_limited(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, NULL);
    raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, 0), .ack = FX_SND(&f, 0), .zero_wnd = true);
    raw_run_for(f.r, SEC(1));
    assert_int_equal(info(f.c).last_data_recv_us, SEC(1) + 0);
    assert_int_equal(info(f.c).busy_us, 0);
    assert_int_equal(fx_send(f.c, 0, 1000), 1000);
    raw_run_for(f.r, MS(100));
    assert_int_equal(info(f.c).rwnd_limited_us, MS(100));
    assert_int_equal(info(f.c).busy_us, MS(100));
    raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, 0), .ack = FX_SND(&f, 0));
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 1000);
    raw_run_for(f.r, MS(20));
    fx_ack(&f, FX_SND(&f, 1000), NULL, 0);
    raw_run_for(f.r, SEC(1));
    assert_int_equal(info(f.c).busy_us, MS(120));
    assert_int_equal(info(f.c).rwnd_limited_us, MS(100));
    assert_int_equal(info(f.c).sndbuf_limited_us, 0);
    fx_peer_data(&f, 0, 100, FX_SND(&f, 1000));
    assert_int_equal(info(f.c).last_data_recv_us, 0);
    /* rcv_mss_seen (icsk_ack.rcv_mss, tcp_measure_rcv_mss): 536 until a segment at least that
     * long, then the largest seen, at most the 1460 we announced. */
    assert_int_equal(info(f.c).rcv_mss_seen, 536);
    fx_peer_data(&f, 100, 1000, FX_SND(&f, 1000));
    assert_int_equal(info(f.c).rcv_mss_seen, 1000);
    fx_free(&f);
}

/* A peer's ACK with the window field win (unscaled, as sent). */
static void ack_wnd(struct fx *f, uint32_t ack, uint16_t win)
{
    raw_send(f->r, .flags = ACK, .seq = f->irs + 1, .ack = ack, .wnd = win);
}

static bool writable(const struct sk_tcp *c)
{
    return (sk_tcp_events(c) & SK_EV_WRITABLE) != 0;
}

/* A sender with segmentation offload (the size goal is whole segments up to half the peer's
 * largest window), Linux's slow start (cwnd grows by every byte acknowledged) and a send
 * buffer of sndbuf bytes. */
static struct sk_config sndbuf_cfg(uint32_t sndbuf, bool chunks)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
    cfg.ss_abc_limit = 0;
    cfg.sndbuf_bytes = sndbuf;
    cfg.sndbuf_chunks = chunks;
    return cfg;
}

static uint8_t big[150000];

/* sndbuf_chunks, Linux's tcp_sendmsg_locked with sk_sndbuf 42000 (SO_SNDBUF 21000), MSS 1000
 * and a 50000-byte window: the size goal is 25000 (half the window). One write of 61000: a
 * chunk of 25000, pushed at once, 10000 of it leaving (IW10); its 15000-byte rest fills to
 * 25000 again; the queue, 35000, is below 42000, so a second chunk of 25000 starts; at 60000
 * no more. Linux 6.18 queued the same 60000 (tcpi_notsent_bytes 50000 with 10000 in flight,
 * blocking-write.pkt). Writable again only at free >= queued / 2 (queued <= 28000): not with
 * 30000 acknowledged (30000 queued), but with 36000 (24000), as the kernel woke the writer.
 * The default: 42000 bytes at most, and writable at any free byte. */
static void test_sndbuf_chunks_fill_and_wake(void **state)
{
    (void)state;
    struct sk_config cfg = sndbuf_cfg(42000, true);
    const struct fx_peer peer = {.mss = 1000, .wnd = 50000};
    struct fx f = fx_accept(&cfg, &peer);
    assert_int_equal(sk_tcp_send(f.c, big, 61000), 60000);
    assert_int_equal(sk_tcp_send(f.c, big, 1000), -EAGAIN);
    assert_false(writable(f.c));
    raw_run_for(f.r, MS(100));
    ack_wnd(&f, FX_SND(&f, 10000), 50000); /* cwnd 20: 30000 sent */
    assert_false(writable(f.c));
    raw_run_for(f.r, MS(100));
    ack_wnd(&f, FX_SND(&f, 30000), 50000); /* cwnd 40: all 60000 sent */
    assert_false(writable(f.c));
    assert_int_equal(info(f.c).sndbuf_used, 30000);
    raw_run_for(f.r, MS(100));
    ack_wnd(&f, FX_SND(&f, 36000), 50000);
    assert_true(writable(f.c));
    assert_int_equal(sk_tcp_send(f.c, big, 1000), 1000);
    fx_free(&f);

    cfg = sndbuf_cfg(42000, false);
    f = fx_accept(&cfg, &peer);
    assert_int_equal(sk_tcp_send(f.c, big, 61000), 42000);
    assert_false(writable(f.c));
    raw_run_for(f.r, MS(100));
    ack_wnd(&f, FX_SND(&f, 1000), 50000);
    assert_true(writable(f.c));
    fx_free(&f);
}

/* Send-buffer-limited time (tcpi_sndbuf_limited) runs only while nothing but the buffer holds
 * data back (Linux's tcp_cwnd_validate: data just sent, cwnd not full, nothing unsent, the
 * writer waiting): tcp-info-sndbuf-limited.pkt's exchange, sk_sndbuf 20000, MSS 1000, the
 * SYN-ACK's window 10000 then 10000 << 8. The first write takes four chunks of 5000 (half the
 * SYN-ACK's window), IW10 sends half: cwnd-limited, not buffer-limited. The ACK of 10000 (cwnd
 * 20) leaves 10000 queued, writable (a third free); the next write takes a 65000-byte chunk
 * (the link's most), 10000 of it leaving, and 10000 more into its rest: 95000 written in all,
 * as Linux 6.18 had. The ACK of 30000 (cwnd 40) leaves 25000 unsent; the ACK of 70000 (cwnd
 * 80) sends them all with cwnd to spare and 25000 queued, not writable: buffer-limited from
 * here until the ACK of 95000 20 ms later empties the queue. Linux reported 20000 us of
 * 50000 us busy; without the rule, the time from the first write that found no room: 50 ms. */
static void test_chrono_sndbuf_limited(void **state)
{
    (void)state;
    struct sk_config cfg = sndbuf_cfg(20000, true);
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.mss = 1000, .wnd = 10000, .sack = true,
                                                     .ws = true, .wscale = 8});
    assert_int_equal(sk_tcp_send(f.c, big, 150000), 20000);
    raw_run_for(f.r, MS(10));
    ack_wnd(&f, FX_SND(&f, 10000), 10000);
    assert_true(writable(f.c));
    assert_int_equal(sk_tcp_send(f.c, big, 130000), 75000);
    assert_int_equal(info(f.c).sndbuf_limited_us, 0);
    raw_run_for(f.r, MS(10));
    ack_wnd(&f, FX_SND(&f, 30000), 10000);
    raw_run_for(f.r, MS(10));
    ack_wnd(&f, FX_SND(&f, 70000), 10000);
    assert_int_equal(info(f.c).sndbuf_limited_us, 0);
    assert_false(writable(f.c));
    raw_run_for(f.r, MS(20));
    ack_wnd(&f, FX_SND(&f, 95000), 10000);
    assert_true(writable(f.c));
    raw_run_for(f.r, MS(20));
    assert_int_equal(info(f.c).sndbuf_limited_us, MS(20));
    assert_int_equal(info(f.c).busy_us, MS(50));
    fx_free(&f);

    /* Without the chunks, a writer that cwnd holds back is not buffer-limited either: 20000
     * queued, 10000 in flight and no ACK for 100 ms. */
    cfg = sndbuf_cfg(20000, false);
    f = fx_accept(&cfg, &(struct fx_peer){.mss = 1000});
    assert_int_equal(sk_tcp_send(f.c, big, 150000), 20000);
    raw_run_for(f.r, MS(100));
    assert_int_equal(info(f.c).sndbuf_limited_us, 0);
    assert_int_equal(info(f.c).busy_us, MS(100));
    fx_free(&f);
}

/* Nagle (Nagle on, the default): a write of 1.5 segments. RFC 896 holds the short half while
 * the full segment is unacknowledged; Minshall's form (nagle_minshall, Linux's
 * tcp_minshall_check) sends it at once, no short segment being outstanding, and holds the
 * next short write while that one is unacknowledged. */
static void nagle_tail(bool minshall)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.nagle_minshall = minshall;
    struct fx f = fx_connect(&cfg, NULL);
    uint32_t half = FX_MSS / 2;
    assert_int_equal(fx_send(f.c, 0, FX_MSS + half), FX_MSS + half);
    fx_expect_data(f.r, ACK, FX_SND(&f, 0), FX_RCV(&f, 0), FX_MSS);
    if (minshall) {
        fx_expect_data(f.r, ACK | PSH, FX_SND(&f, FX_MSS), FX_RCV(&f, 0), half);
        assert_int_equal(fx_send(f.c, FX_MSS + half, 10), 10);
    }
    raw_expect_none(f.r);
    fx_free(&f);
}

static void test_nagle_minshall(void **state)
{
    (void)state;
    nagle_tail(true);
    nagle_tail(false);
}

/* Segmentation offload with sk_config.psh_tso (Linux's __tcp_transmit_skb: PSH on every
 * packet of more than one segment, tcp_skb_pcount(skb) > 1; GSO keeps it on the last piece
 * only). A 30-segment write against an initial window of 10: the first super-segment is 10
 * segments and ends mid-write, yet its last piece carries PSH; the ACK of one segment lets
 * two more go (slow start), again with PSH on the second. A fast retransmission is a single
 * segment and goes without. Linux 6.18 on packetdrill's tun showed the same marks
 * (slow-start-ack-per-2pkt.pkt, every two-segment TSO packet with P). The default marks only
 * the end of the data (RFC 9293 §3.9.1): none of these segments. */
static void tso_burst(bool psh_tso)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
    cfg.psh_tso = psh_tso;
    uint8_t burst_end = psh_tso ? ACK | PSH : ACK;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true});
    assert_int_equal(fx_send(f.c, 0, 30 * FX_MSS), 30 * FX_MSS);
    for (uint32_t i = 0; i < 10; i++)
        fx_expect_data(f.r, i == 9 ? burst_end : ACK, FX_SND(&f, i * FX_MSS), FX_RCV(&f, 0),
                       FX_MSS);
    raw_expect_none(f.r);
    raw_run_for(f.r, MS(10));
    fx_ack(&f, FX_SND(&f, FX_MSS), NULL, 0);
    fx_expect_data(f.r, ACK, FX_SND(&f, 10 * FX_MSS), FX_RCV(&f, 0), FX_MSS);
    fx_expect_data(f.r, burst_end, FX_SND(&f, 11 * FX_MSS), FX_RCV(&f, 0), FX_MSS);
    raw_expect_none(f.r);
    /* Segment 2 lost: three SACKs (segments 3-5) make the fast retransmission. */
    for (uint32_t k = 3; k <= 5; k++) {
        const uint32_t blk[1][2] = {{FX_SND(&f, 2 * FX_MSS), FX_SND(&f, k * FX_MSS)}};
        fx_ack(&f, FX_SND(&f, FX_MSS), blk, 1);
    }
    /* New segments may go first (RFC 6675's NextSeg rule 3, RACK); the repair is alone. */
    bool repaired = false;
    for (size_t i = f.r->cursor; i < f.r->nout; i++) {
        const struct raw_out *o = &f.r->out[i];
        if (o->seq == FX_SND(&f, FX_MSS)) {
            assert_int_equal(o->flags, ACK);
            assert_int_equal(o->len, FX_MSS);
            repaired = true;
        }
    }
    assert_true(repaired);
    fx_free(&f);
}

static void test_psh_on_tso_packets(void **state)
{
    (void)state;
    tso_burst(true);
    tso_burst(false);
}

/* Linux's tcp_tso_autosize with tcp_update_pacing_rate (slow start: 200 %), written out:
 * rate = mss * ((USEC_PER_SEC / 100) << 3) * 200 * cwnd / (srtt_us << 3) bytes a second,
 * rate >> sk_pacing_shift (10), plus gso_max_size (65536) >> (min_rtt_us >> tcp_tso_rtt_log
 * (9)), at most gso_max_size, in segments, at least tcp_min_tso_segs (2). */
static uint32_t linux_tso_segs(uint64_t mss, uint64_t cwnd, uint64_t srtt_us, uint64_t min_rtt)
{
    uint64_t rate = mss * (10000u << 3) * 200 * cwnd / (srtt_us << 3);
    uint64_t bytes = rate >> 10;
    if ((min_rtt >> 9) < 32)
        bytes += 65536u >> (min_rtt >> 9);
    if (bytes > 65536)
        bytes = 65536;
    return bytes / mss > 2 ? (uint32_t)(bytes / mss) : 2;
}

/* tso_autosize: the first flight (cwnd 10) leaves in super-segments of linux_tso_segs
 * segments, at most half of cwnd (tcp_cwnd_test), each ending in PSH (psh_tso), after the
 * handshake's RTT (20 ms: 2 segments; 4 ms: 5; 1 ms: 41, cut to 5). The raw harness cuts them
 * as a NIC would: PSH shows where each ended. The rate follows cwnd and SRTT from ACK to ACK,
 * as Linux 6.18 with CUBIC reported it (tcpi_pacing_rate 1772578 B/s at cwnd 10 and SRTT
 * 11283 µs, 2115632 at cwnd 12 and 11344 µs: 2 * cwnd * 1000 / SRTT both times). */
static void test_tso_autosize(void **state)
{
    (void)state;
    const sk_time_us rtts[] = {MS(20), MS(4), MS(1)};
    const uint32_t want[] = {2, 5, 41}; /* the arithmetic below, done by hand */
    for (int k = 0; k < 3; k++) {
        uint32_t segs = linux_tso_segs(FX_MSS, 10, rtts[k], rtts[k]);
        assert_int_equal(segs, want[k]);
        if (segs > 10 / 2)
            segs = 10 / 2;
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
        cfg.psh_tso = true;
        cfg.tso_autosize = true;
        cfg.ss_abc_limit = 0; /* Linux's tcp_slow_start: cwnd += every segment acknowledged */
        struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true, .rtt_us = rtts[k]});
        assert_int_equal(fx_send(f.c, 0, 30 * FX_MSS), 30 * FX_MSS);
        for (uint32_t i = 0; i < 10; i++) {
            uint32_t chunk_start = i / segs * segs, chunk_end = chunk_start + segs;
            if (chunk_end > 10)
                chunk_end = 10;
            bool psh = i + 1 == chunk_end && chunk_end - chunk_start > 1;
            fx_expect_data(f.r, psh ? ACK | PSH : ACK, FX_SND(&f, i * FX_MSS), FX_RCV(&f, 0),
                           FX_MSS);
        }
        raw_expect_none(f.r);
        if (k == 1) {
            /* With cwnd 20 after the whole flight is acknowledged (an RTT of 4 ms again), the
             * rate from cwnd 20 makes the packets 10 segments, half of cwnd too. */
            assert_int_equal(linux_tso_segs(FX_MSS, 20, rtts[k], rtts[k]), 10);
            raw_run_for(f.r, rtts[k]);
            fx_ack(&f, FX_SND(&f, 10 * FX_MSS), NULL, 0);
            for (uint32_t i = 10; i < 30; i++)
                fx_expect_data(f.r, (i - 10) % 10 == 9 ? ACK | PSH : ACK,
                               FX_SND(&f, i * FX_MSS), FX_RCV(&f, 0), FX_MSS);
        }
        fx_free(&f);
    }
    /* tcp_min_tso_segs changed on the running stack (SK_SET_TSO_MIN_SEGS): 3 at 20 ms, where
     * the rate gives fewer; the tenth segment goes alone, without PSH. */
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
    cfg.psh_tso = true;
    cfg.tso_autosize = true;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true, .rtt_us = MS(20)});
    assert_int_equal(sk_stack_set_setting(f.r->st, SK_SET_TSO_MIN_SEGS, 256), -EINVAL);
    assert_int_equal(sk_stack_set_setting(f.r->st, SK_SET_TSO_MIN_SEGS, 3), 0);
    assert_int_equal(fx_send(f.c, 0, 30 * FX_MSS), 30 * FX_MSS);
    for (uint32_t i = 0; i < 10; i++)
        fx_expect_data(f.r, i % 3 == 2 ? ACK | PSH : ACK, FX_SND(&f, i * FX_MSS),
                       FX_RCV(&f, 0), FX_MSS);
    fx_free(&f);
}

/* Sends until the connection has put `segs` full segments of one write on the wire, the peer
 * acknowledging everything after each flight; flags[i] receives segment i's flags. */
static void collect_flags(struct fx *f, uint32_t segs, uint8_t *flags)
{
    uint32_t seen = 0;
    for (int round = 0; round < 64 && seen < segs; round++) {
        uint32_t high = 0;
        for (size_t i = f->r->cursor; i < f->r->nout; i++) {
            const struct raw_out *o = &f->r->out[i];
            if (o->len == 0)
                continue;
            uint32_t k = (o->seq - FX_SND(f, 0)) / FX_MSS;
            assert_true(k < segs && o->len == FX_MSS);
            flags[k] = o->flags;
            seen = k + 1 > seen ? k + 1 : seen;
            high = k + 1;
        }
        f->r->cursor = f->r->nout;
        raw_run_for(f->r, MS(10));
        if (high)
            fx_ack(f, FX_SND(f, high * FX_MSS), NULL, 0);
    }
    assert_int_equal(seen, segs);
}

/* forced_push (Linux's tcp_sendmsg: forced_push and tcp_mark_push): one write of 60 segments
 * to a peer whose largest window is 65535 bytes (no scaling). Without offload Linux's size
 * goal is one segment, so each segment is a chunk; a chunk gets PSH once the data queued since
 * the last push exceeds 65535 / 2 = 32767 bytes: 23 * 1460 = 33580 > 32767 >= 22 * 1460, so
 * segments 23 and 46 (1-based) and the write's last, 60. The default marks the last only. */
static void forced_push_case(bool on)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.forced_push = on;
    cfg.sndbuf_bytes = 256 * 1024;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true});
    static uint8_t data[60 * FX_MSS];
    fx_fill(data, 0, sizeof(data));
    assert_int_equal(sk_tcp_send(f.c, data, sizeof(data)), sizeof(data)); /* one write */
    uint8_t flags[60];
    collect_flags(&f, 60, flags);
    for (uint32_t i = 0; i < 60; i++) {
        bool psh = i == 59 || (on && (i == 22 || i == 45));
        assert_int_equal(flags[i], psh ? ACK | PSH : ACK);
    }
    fx_free(&f);
}

static void test_forced_push(void **state)
{
    (void)state;
    forced_push_case(true);
    forced_push_case(false);
}

/* tso_rtx with psh_tso (Linux's tcp_xmit_retransmit_queue / __tcp_retransmit_skb: a lost skb
 * goes again as one GSO packet of up to cwnd - in_flight segments, and __tcp_transmit_skb
 * marks every GSO packet PSH). Ten segments leave as one super-segment; the peer SACKs
 * segments 3 and 6-9, so RACK finds [0, 3) and [4, 6) lost (sent before segment 9, delivered,
 * with no reordering window while three segments are SACKed). Nothing is in flight then, so
 * the first repair may be several segments: [0, 3) as one super-segment (PSH on segment 2),
 * then [4, 6) (PSH on segment 5), as sack-route-refresh-ip-tos.pkt showed Linux 6.18 doing
 * (P. on a two-segment retransmission, none on a single segment). The default repairs one
 * segment at a time, none marked (the first transmission's PSH was at segment 9's end). */
static void tso_rtx_case(bool on)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
    cfg.psh_tso = true;
    cfg.tso_rtx = on;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true});
    assert_int_equal(fx_send(f.c, 0, 10 * FX_MSS), 10 * FX_MSS);
    for (uint32_t i = 0; i < 10; i++)
        fx_expect_data(f.r, i == 9 ? ACK | PSH : ACK, FX_SND(&f, i * FX_MSS), FX_RCV(&f, 0),
                       FX_MSS);
    raw_run_for(f.r, MS(10));
    const uint32_t blk[2][2] = {{FX_SND(&f, 3 * FX_MSS), FX_SND(&f, 4 * FX_MSS)},
                                {FX_SND(&f, 6 * FX_MSS), FX_SND(&f, 10 * FX_MSS)}};
    fx_ack(&f, FX_SND(&f, 0), blk, 2);
    const uint32_t lost[] = {0, 1, 2, 4, 5};
    for (uint32_t k = 0; k < 5; k++) {
        bool psh = on && (lost[k] == 2 || lost[k] == 5);
        fx_expect_data(f.r, psh ? ACK | PSH : ACK, FX_SND(&f, lost[k] * FX_MSS), FX_RCV(&f, 0),
                       FX_MSS);
    }
    fx_free(&f);
}

static void test_tso_rtx(void **state)
{
    (void)state;
    tso_rtx_case(true);
    tso_rtx_case(false);
}

/* tcpi_reord_seen counts reordering events as Linux's tcp_check_sack_reordering does: once for
 * an ACK whose SACK blocks show reordering, once for an ACK that cumulatively acknowledges data
 * below what was SACKed, whatever the number of segments. Ten segments; the peer SACKs 9, then
 * 3 and 9 (segment 3 arrived before 0-2: one event), then acknowledges all (0-2 and 4-8 came
 * after 9: one event). Linux 6.18 reported 2 for the same sequence
 * (cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt). */
static void test_reord_seen_per_event(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true});
    assert_int_equal(fx_send(f.c, 0, 10 * FX_MSS), 10 * FX_MSS);
    raw_run_for(f.r, MS(10));
    const uint32_t b9[1][2] = {{FX_SND(&f, 9 * FX_MSS), FX_SND(&f, 10 * FX_MSS)}};
    fx_ack(&f, FX_SND(&f, 0), b9, 1);
    assert_int_equal(info(f.c).reord_seen, 0);
    const uint32_t b39[2][2] = {{FX_SND(&f, 3 * FX_MSS), FX_SND(&f, 4 * FX_MSS)},
                                {FX_SND(&f, 9 * FX_MSS), FX_SND(&f, 10 * FX_MSS)}};
    fx_ack(&f, FX_SND(&f, 0), b39, 2);
    assert_int_equal(info(f.c).reord_seen, 1);
    fx_ack(&f, FX_SND(&f, 10 * FX_MSS), NULL, 0);
    assert_int_equal(info(f.c).reord_seen, 2);
    fx_free(&f);
}

/* sk_tcp_set_write_pending (Linux's tcp_rcv_synsent_state_process, "Save one ACK" while
 * sk_write_pending): with a writer waiting, the SYN-ACK's ACK is not sent alone; the data
 * written next carries it. That data leaves within the ACK timeout of the SYN-ACK, so under
 * Linux's ACK policy the connection is interactive (tcp_event_data_sent, pingpong): the
 * answer that comes 5 ms later is not quick-ACKed but waits the 40 ms ACK timeout. Without a
 * writer the ACK goes at once, and the first data is quick-ACKed (tcp_incr_quickack). With a
 * writer that never writes, the saved ACK goes alone at TCP_DELACK_MAX (200 ms). */
enum pending_case { NO_WRITER, WRITER_WRITES, WRITER_SILENT };

static void save_one_ack(enum pending_case k)
{
    struct sk_config cfg;
    linux_acks(&cfg);
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t iss = info(c).iss, irs = 5000;
    raw_expect(r, SYN, iss, 0);
    if (k != NO_WRITER)
        sk_tcp_set_write_pending(c, true);
    raw_run_for(r, MS(10));
    sk_time_us t = r->now;
    raw_send(r, .flags = SYN | ACK, .seq = irs, .ack = iss + 1, .opts = SK_OPT_MSS,
             .mss = FX_MSS, .wnd = 65535);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    if (k == NO_WRITER) {
        assert_int_equal(raw_expect(r, ACK, iss + 1, irs + 1)->time, t);
    } else {
        raw_expect_none(r);
        if (k == WRITER_SILENT) {
            raw_run_until(r, t + TCP_DELACK_MAX_US - 1);
            raw_expect_none(r);
            raw_run_until(r, t + TCP_DELACK_MAX_US);
            raw_expect(r, ACK, iss + 1, irs + 1);
            raw_free(r);
            return;
        }
        sk_tcp_set_write_pending(c, false);
        assert_int_equal(fx_send(c, 0, 100), 100);
        assert_int_equal(fx_expect_data(r, ACK | PSH, iss + 1, irs + 1, 100)->time, t);
    }
    raw_run_for(r, MS(5));
    uint8_t d[100];
    fx_fill(d, 0, sizeof(d));
    sk_time_us t2 = r->now;
    raw_send(r, .flags = ACK | PSH, .seq = irs + 1, .ack = iss + 1 + (k == NO_WRITER ? 0 : 100),
             .wnd = 65535, .data = d, .len = sizeof(d));
    sk_time_us when = k == NO_WRITER ? t2 : t2 + TCP_ATO_MIN_US;
    raw_run_until(r, t2 + TCP_ATO_MIN_US);
    const struct raw_out *a =
        raw_expect(r, ACK, iss + 1 + (k == NO_WRITER ? 0 : 100), irs + 1 + sizeof(d));
    assert_int_equal(a->time, when);
    raw_free(r);
}

static void test_write_pending_saves_handshake_ack(void **state)
{
    (void)state;
    save_one_ack(NO_WRITER);
    save_one_ack(WRITER_WRITES);
    save_one_ack(WRITER_SILENT);
}

/* RFC 8985 §7.2: "If TCP_RTO_expiration() < Now + PTO", the probe goes at the RTO's time. One
 * 100 ms RTT sample: RTO = max(100 + 4 * 50, 200 ms floor) = 300 ms; PTO for one segment in
 * flight = 2 * 100 + WCDelAckT 200 = 400 ms, later than the RTO. So at 300 ms (less the
 * microsecond by which it goes first) a tail loss probe (the last segment again), which is not
 * a timeout: the RTO runs afresh from it, not backed off, and fires 300 ms later (600 ms after
 * the send) as a retransmission timeout. */
static void test_tlp_at_rto_time(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rto_min_us = 200000;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true, .rtt_us = MS(100)});
    assert_int_equal(info(f.c).rto_us, 300000);
    sk_time_us t = f.r->now;
    assert_int_equal(fx_send(f.c, 0, 100), 100);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 100);
    raw_run_until(f.r, t + MS(300) - 2);
    raw_expect_none(f.r);
    raw_run_until(f.r, t + MS(300));
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 100);
    assert_int_equal(counters(f.r->st).tcp_tail_loss_probes, 1);
    raw_run_until(f.r, t + MS(600) - 2);
    raw_expect_none(f.r);
    raw_run_until(f.r, t + MS(600));
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 100);
    assert_int_equal(counters(f.r->st).tcp_tail_loss_probes, 1);
    fx_free(&f);
}

/* sk_tcp_info.delivered counts as Linux's tcpi_delivered does: the acknowledged SYN is one
 * segment, and a short segment is one. */
static void test_delivered_counts_syn(void **state)
{
    (void)state;
    struct fx f = fx_connect(NULL, NULL);
    assert_int_equal(info(f.c).delivered, 1);
    assert_int_equal(fx_send(f.c, 0, 100), 100);
    fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 100);
    raw_run_for(f.r, MS(10));
    fx_ack(&f, FX_SND(&f, 100), NULL, 0);
    assert_int_equal(info(f.c).delivered, 2);
    fx_free(&f);
}

/* synack_tsecr_check (tcp_rcv_synsent_state_process): a SYN-ACK echoing a TSval after now or
 * before our first SYN's is answered with <SEQ=SEG.ACK><CTL=RST> and dropped, the connection
 * left in SYN-SENT; an echo in between is taken. Off (RFC 9293 §3.10.7.3, RFC 7323), the
 * future echo is taken. Our TSvals tick once a millisecond (RFC 7323 §5.4), so 50 ms after the
 * SYN the newest is the SYN's plus 50. */
static void test_synack_tsecr_checked(void **state)
{
    (void)state;
    for (int knob = 0; knob <= 1; knob++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.opt_timestamps = true;
        cfg.synack_tsecr_check = knob;
        struct raw *r = raw_new(&cfg);
        struct sk_tcp *c;
        assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, RAW_PEER_PORT, &c), 0);
        uint32_t iss = info(c).iss;
        const struct raw_out *syn = raw_expect(r, SYN, iss, 0);
        assert_true(syn->opts & SK_OPT_TIMESTAMP);
        uint32_t v = syn->ts_val;
        uint16_t port = syn->sport;
        raw_run_for(r, MS(50));
        const uint32_t bad[] = {v + 51, v - 1};
        for (int i = 0; knob && i < 2; i++) {
            raw_send(r, .dport = port, .flags = SYN | ACK, .seq = 5000, .ack = iss + 1,
                     .opts = SK_OPT_TIMESTAMP, .ts_val = 777, .ts_ecr = bad[i]);
            raw_expect(r, RST, iss + 1, 0);
            expect_state(c, SK_TCP_SYN_SENT);
        }
        raw_send(r, .dport = port, .flags = SYN | ACK, .seq = 5000, .ack = iss + 1,
                 .opts = SK_OPT_TIMESTAMP, .ts_val = 777, .ts_ecr = knob ? v + 20 : v + 51);
        const struct raw_out *o = raw_expect(r, ACK, iss + 1, 5001);
        assert_int_equal(o->ts_ecr, 777);
        expect_state(c, SK_TCP_ESTABLISHED);
        sk_tcp_abort(c);
        raw_free(r);
    }
}

/* rtt_every_ack: two segments sent together, acknowledged 10 ms and 20 ms later, give two
 * samples (Linux's tcp_clean_rtx_queue), so SRTT is RFC 6298's 7/8 * 10 ms + 1/8 * 20 ms =
 * 11.25 ms; without it the second ACK covers no timed segment and SRTT stays 10 ms. */
static void srtt_after_two_acks(bool every, uint32_t want_srtt)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.rtt_every_ack = every;
    cfg.tlp = false;
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.sack = true, .rtt_us = MS(10)});
    assert_int_equal(fx_send(f.c, 0, 2 * FX_MSS), 2 * FX_MSS);
    fx_take(f.r, NULL);
    raw_run_for(f.r, MS(10));
    fx_ack(&f, FX_SND(&f, FX_MSS), NULL, 0);
    raw_run_for(f.r, MS(10));
    fx_ack(&f, FX_SND(&f, 2 * FX_MSS), NULL, 0);
    struct sk_tcp_info ti;
    sk_tcp_get_info(f.c, &ti);
    assert_int_equal(ti.srtt_us, want_srtt);
    fx_free(&f);
}

static void test_rtt_every_ack(void **state)
{
    (void)state;
    srtt_after_two_acks(true, 10000 - 10000 / 8 + 20000 / 8);
    srtt_after_two_acks(false, 10000);
}

/* window_probe_empty (Linux's tcp_write_wakeup: tcp_xmit_probe_skb(sk, 0), "use a previous
 * sequence"): the peer acknowledges everything with a zero window while 100 bytes wait. One
 * RTO later (RFC 6298 §2.4's 1 s floor above 100 ms samples) the probe is a bare ACK from
 * SND.UNA - 1, again 2 s after it (the backoff); the window opens and the 100 bytes go from
 * SND.UNA. Off: RFC 9293 §3.8.6.1's probe, the first waiting byte. */
static void test_window_probe_empty(void **state)
{
    (void)state;
    for (int knob = 0; knob <= 1; knob++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.window_probe_empty = knob;
        struct fx f = fx_connect(&cfg, &(struct fx_peer){.rtt_us = MS(100)});
        assert_int_equal(fx_send(f.c, 0, 1000), 1000);
        fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 0), FX_RCV(&f, 0), 1000);
        raw_run_for(f.r, MS(100));
        raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, 0), .ack = FX_SND(&f, 1000), .zero_wnd = true);
        assert_int_equal(fx_send(f.c, 1000, 100), 100);
        raw_expect_none(f.r);
        sk_time_us t = f.r->now;
        for (int probe = 0; probe < 2; probe++) {
            t += probe ? SEC(2) : SEC(1);
            raw_run_until(f.r, t - 1);
            raw_expect_none(f.r);
            raw_run_until(f.r, t);
            if (knob)
                fx_expect_data(f.r, ACK, FX_SND(&f, 999), FX_RCV(&f, 0), 0);
            else
                fx_expect_data(f.r, ACK, FX_SND(&f, 1000), FX_RCV(&f, 0), 1);
            assert_int_equal(info(f.c).snd_nxt, FX_SND(&f, knob ? 1000 : 1001));
        }
        raw_run_for(f.r, MS(10));
        raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, 0), .ack = FX_SND(&f, 1000));
        fx_expect_data(f.r, ACK | PSH, FX_SND(&f, 1000), FX_RCV(&f, 0), 100);
        fx_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_quickack_first_segments_each_acked),
        TEST(test_default_first_segment_delayed),
        TEST(test_pingpong_delays_then_timer_ends_it),
        TEST(test_ack_timeout_doubles_after_timer),
        TEST(test_rto_floor_on_variance),
        TEST(test_fin_wait2_timeout),
        TEST(test_ack_of_unsent_data),
        TEST(test_abort_rst_carries_ack),
        TEST(test_initial_window_ten_segments),
        TEST(test_cork_holds_until_uncork),
        TEST(test_cork_ceiling_is_one_rto),
        TEST(test_msg_more),
        TEST(test_chrono_busy_and_rwnd_limited),
        TEST(test_sndbuf_chunks_fill_and_wake),
        TEST(test_chrono_sndbuf_limited),
        TEST(test_nagle_minshall),
        TEST(test_psh_on_tso_packets),
        TEST(test_write_pending_saves_handshake_ack),
        TEST(test_tlp_at_rto_time),
        TEST(test_delivered_counts_syn),
        TEST(test_synack_tsecr_checked),
        TEST(test_window_probe_empty),
        TEST(test_tso_autosize),
        TEST(test_rtt_every_ack),
        TEST(test_forced_push),
        TEST(test_tso_rtx),
        TEST(test_reord_seen_per_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
