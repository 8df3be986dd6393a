/* Zero-copy receive and send (include/synack/tcp.h): sk_tcp_recv_borrow / sk_tcp_recv_release
 * and sk_tcp_send_reserve / sk_tcp_send_commit, between two stacks on the virtual clock.
 *
 * Every byte is checked against the stream the test generates itself (fx_byte(k), byte k of
 * the stream): what the sender writes into the reserved spans, what the receiver finds in the
 * borrowed ones. Buffers of 20,000 bytes (not a power of two) make the rings wrap every few
 * segments, so loans and reservations come in two spans; the test counts that they did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synack/synack.h"
#include "fixture.h"
#include "sock_addr.h"

#define BUF 20000u

static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return n ? (uint32_t)((rng_state >> 33) % n) : 0;
}

/* One direction of the transfer: the writer's offset in its stream, the reader's. */
struct flow {
    struct sk_tcp *tx, *rx;
    size_t len, sent, got;
    bool fin_sent, eof;
    uint32_t tx_wraps, rx_wraps;   /* reservations / loans that came in two spans */
    const uint8_t *held_base;      /* first lent byte's address while a loan is held */
    size_t held_at;                /* its stream offset */
    uint32_t held_checked;         /* loans re-borrowed at the same address */
};

static size_t spans_total(const struct iovec span[2])
{
    return span[0].iov_len + span[1].iov_len;
}

/* The writer reserves a random amount, writes the stream into the spans and commits a random
 * part of it (sometimes nothing, sometimes all). */
static void writer_turn(struct flow *f)
{
    if (f->sent == f->len) {
        if (!f->fin_sent) {
            assert_int_equal(sk_tcp_shutdown(f->tx), 0);
            f->fin_sent = true;
        }
        return;
    }
    struct iovec span[2];
    size_t want = 1 + rnd(9000);
    if (want > f->len - f->sent)
        want = f->len - f->sent;
    ssize_t n = sk_tcp_send_reserve(f->tx, want, span);
    if (n == -EAGAIN)
        return;
    assert_true(n > 0 && (size_t)n <= want);
    assert_int_equal(spans_total(span), (size_t)n);
    if (span[1].iov_len)
        f->tx_wraps++;
    size_t off = f->sent;
    for (int i = 0; i < 2; i++) {
        fx_fill(span[i].iov_base, off, span[i].iov_len);
        off += span[i].iov_len;
    }
    size_t commit = rnd(4) == 0 ? rnd((uint32_t)n + 1) : (size_t)n;
    assert_int_equal(sk_tcp_send_commit(f->tx, commit), (ssize_t)commit);
    f->sent += commit;
}

/* The reader borrows everything, checks every byte, and releases a random part; a loan kept
 * over stack calls must be found again at the same address. */
static void reader_turn(struct flow *f)
{
    struct iovec span[2];
    ssize_t n = sk_tcp_recv_borrow(f->rx, span);
    if (n == 0) {
        assert_int_equal(f->got, f->len);
        f->eof = true;
        return;
    }
    if (n == -EAGAIN)
        return;
    assert_true(n > 0);
    assert_int_equal(spans_total(span), (size_t)n);
    if (f->held_base) {
        /* Pinned: the bytes lent before are where they were. */
        assert_ptr_equal(span[0].iov_base, f->held_base);
        assert_int_equal(f->held_at, f->got);
        f->held_checked++;
        f->held_base = NULL;
    }
    if (span[1].iov_len)
        f->rx_wraps++;
    size_t off = f->got;
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = span[i].iov_base;
        for (size_t k = 0; k < span[i].iov_len; k++)
            if (p[k] != fx_byte(off + k))
                fail_msg("byte %zu: got %u, want %u", off + k, p[k], fx_byte(off + k));
        off += span[i].iov_len;
    }
    size_t rel;
    switch (rnd(4)) {
    case 0:
        rel = 0; /* keep everything lent over the next stack calls */
        break;
    case 1:
        rel = rnd((uint32_t)n + 1);
        break;
    default:
        rel = (size_t)n;
    }
    assert_int_equal(sk_tcp_recv_release(f->rx, rel), 0);
    f->got += rel;
    if (rel < (size_t)n) {
        f->held_base = (const uint8_t *)span[0].iov_base + (rel < span[0].iov_len ? rel : 0);
        if (rel >= span[0].iov_len)
            f->held_base = (const uint8_t *)span[1].iov_base + (rel - span[0].iov_len);
        f->held_at = f->got;
    }
}

static struct fx_pair open_pair(void)
{
    struct fx_pair_opts o = {.sndbuf = BUF, .rcvbuf = BUF};
    return fx_pair_open(&o);
}

/* Megabytes both ways at once through reserve/commit and borrow/release, with partial
 * commits and releases, loans held across stack calls, and both rings wrapping. */
static void test_zerocopy_moves_megabytes_both_ways(void **state)
{
    (void)state;
    struct fx_pair fp = open_pair();
    struct flow f[2] = {{.tx = fp.ca, .rx = fp.cb, .len = 3u << 20},
                        {.tx = fp.cb, .rx = fp.ca, .len = (2u << 20) + 12345}};
    sk_time_us limit = pair_now(fp.p) + SEC(3600);
    while (!(f[0].eof && f[1].eof)) {
        for (int i = 0; i < 2; i++) {
            writer_turn(&f[i]);
            reader_turn(&f[i]);
        }
        assert_true(pair_now(fp.p) < limit);
        pair_step(fp.p, limit);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f[i].got, f[i].len);
        fprintf(stderr, "flow %d: %zu bytes, %u reservations and %u loans in two spans, %u "
                        "loans found again in place\n", i, f[i].len, f[i].tx_wraps,
                f[i].rx_wraps, f[i].held_checked);
        assert_true(f[i].tx_wraps > 0);
        assert_true(f[i].rx_wraps > 0);
        assert_true(f[i].held_checked > 0);
    }
    /* Nothing was dropped for want of room: a ring with bytes lent kept its place. */
    for (int s = 0; s < 2; s++)
        assert_int_equal(drops(fp.p->st[s], SK_DROP_TCP_NO_MEMORY), 0);
    pair_free(fp.p);
}

/* Zero lengths, and each misuse the header names. */
static void test_zerocopy_zero_length_and_misuse(void **state)
{
    (void)state;
    struct fx_pair fp = open_pair();
    struct iovec span[2];
    /* Nothing to borrow yet: -EAGAIN, both spans empty. */
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), -EAGAIN);
    assert_int_equal(spans_total(span), 0);
    /* Nothing lent: releasing 0 is fine, 1 is not. */
    assert_int_equal(sk_tcp_recv_release(fp.cb, 0), 0);
    assert_int_equal(sk_tcp_recv_release(fp.cb, 1), -EINVAL);
    /* A zero reservation is none: committing a byte of it is -EINVAL. */
    assert_int_equal(sk_tcp_send_reserve(fp.ca, 0, span), 0);
    assert_int_equal(spans_total(span), 0);
    assert_int_equal(sk_tcp_send_commit(fp.ca, 1), -EINVAL);
    assert_int_equal(sk_tcp_send_commit(fp.ca, 0), 0);
    /* Listeners have no stream. */
    assert_int_equal(sk_tcp_recv_borrow(fp.lb, span), -ENOTCONN);
    assert_int_equal(sk_tcp_send_reserve(fp.lb, 10, span), -ENOTCONN);

    /* More than the free space: a reservation of the free space only. */
    ssize_t n = sk_tcp_send_reserve(fp.ca, 10u * BUF, span);
    assert_int_equal(n, BUF);
    /* While reserved, sk_tcp_send and sk_tcp_set_buffers are busy. */
    assert_int_equal(sk_tcp_send(fp.ca, "x", 1), -EBUSY);
    assert_int_equal(sk_tcp_set_buffers(fp.ca, 2 * BUF, 0), -EBUSY);
    /* A commit beyond the reservation is refused and keeps it. */
    assert_int_equal(sk_tcp_send_reserve(fp.ca, 100, span), 100);
    fx_fill(span[0].iov_base, 0, 100);
    assert_int_equal(sk_tcp_send_commit(fp.ca, 101), -EINVAL);
    assert_int_equal(sk_tcp_send_commit(fp.ca, 100), 100);
    assert_int_equal(sk_tcp_send(fp.ca, "", 0), 0); /* the reservation is over */
    pair_run_for(fp.p, MS(100));

    /* The receiver borrows the 100 bytes; while lent, recv and set_buffers are busy. */
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), 100);
    for (size_t k = 0; k < 100; k++)
        assert_int_equal(((uint8_t *)span[0].iov_base)[k], fx_byte(k));
    char c;
    assert_int_equal(sk_tcp_recv(fp.cb, &c, 1), -EBUSY);
    assert_int_equal(sk_tcp_set_buffers(fp.cb, 0, 2 * BUF), -EBUSY);
    assert_int_equal(sk_tcp_recv_release(fp.cb, 101), -EINVAL);
    assert_int_equal(sk_tcp_recv_release(fp.cb, 40), 0);
    assert_int_equal(sk_tcp_recv_release(fp.cb, 61), -EINVAL); /* 60 left lent */
    assert_int_equal(sk_tcp_recv_release(fp.cb, 60), 0);
    assert_int_equal(sk_tcp_recv(fp.cb, &c, 1), -EAGAIN); /* no loan, nothing left */
    assert_int_equal(sk_tcp_set_buffers(fp.cb, 0, 2 * BUF), 0);

    /* A reservation ends with shutdown: its commit is -EPIPE and nothing of it goes. */
    assert_int_equal(sk_tcp_send_reserve(fp.ca, 50, span), 50);
    fx_fill(span[0].iov_base, 100, 50);
    assert_int_equal(sk_tcp_shutdown(fp.ca), 0);
    assert_int_equal(sk_tcp_send_commit(fp.ca, 50), -EINVAL); /* no reservation left */
    assert_int_equal(sk_tcp_send_reserve(fp.ca, 50, span), -EPIPE);
    pair_run_for(fp.p, MS(100));
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), 0); /* the FIN, no more bytes */
    assert_int_equal(info(fp.cb).bytes_received, 100);
    pair_free(fp.p);
}

/* FIN after committed data: the receiver finds every byte, then the end of the stream. */
static void test_zerocopy_fin_after_committed_data(void **state)
{
    (void)state;
    struct fx_pair fp = open_pair();
    struct iovec span[2];
    const size_t total = 3 * BUF + 777; /* more than the ring: committed in turns */
    size_t sent = 0, got = 0;
    bool shut = false;
    sk_time_us limit = pair_now(fp.p) + SEC(60);
    for (;;) {
        while (sent < total) {
            ssize_t n = sk_tcp_send_reserve(fp.ca, total - sent, span);
            if (n == -EAGAIN)
                break;
            assert_true(n > 0);
            fx_fill(span[0].iov_base, sent, span[0].iov_len);
            fx_fill(span[1].iov_base, sent + span[0].iov_len, span[1].iov_len);
            assert_int_equal(sk_tcp_send_commit(fp.ca, (size_t)n), n);
            sent += (size_t)n;
        }
        if (sent == total && !shut) {
            assert_int_equal(sk_tcp_shutdown(fp.ca), 0);
            shut = true;
        }
        ssize_t n = sk_tcp_recv_borrow(fp.cb, span);
        if (n == 0)
            break;
        if (n > 0) {
            for (int i = 0; i < 2; i++)
                for (size_t k = 0; k < span[i].iov_len; k++, got++)
                    assert_int_equal(((uint8_t *)span[i].iov_base)[k], fx_byte(got));
            assert_int_equal(sk_tcp_recv_release(fp.cb, (size_t)n), 0);
        } else {
            assert_int_equal(n, -EAGAIN);
        }
        assert_true(pair_step(fp.p, limit));
    }
    assert_int_equal(got, total);
    assert_int_equal(sk_tcp_get_state(fp.cb), SK_TCP_CLOSE_WAIT);
    /* Borrowing at the end again: still 0, and a release of anything is -EINVAL. */
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), 0);
    assert_int_equal(sk_tcp_recv_release(fp.cb, 1), -EINVAL);
    pair_free(fp.p);
}

/* A reset while bytes are lent does not take them away; the error comes once they are
 * released. A reservation made before the reset commits nothing. */
static void test_zerocopy_reset_while_lent(void **state)
{
    (void)state;
    struct fx_pair fp = open_pair();
    struct iovec span[2];
    assert_int_equal(fx_send(fp.ca, 0, 1000), 1000);
    pair_run_for(fp.p, MS(100));
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), 1000);
    const uint8_t *base = span[0].iov_base;
    assert_int_equal(sk_tcp_send_reserve(fp.cb, 10, span), 10);
    sk_tcp_abort(fp.ca); /* RST to b */
    pair_run_for(fp.p, MS(100));
    assert_int_equal(sk_tcp_error(fp.cb), -ECONNRESET);
    assert_int_equal(sk_tcp_send_commit(fp.cb, 10), -ECONNRESET);
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), 1000);
    assert_ptr_equal(span[0].iov_base, base);
    for (size_t k = 0; k < 1000; k++)
        assert_int_equal(base[k], fx_byte(k));
    assert_int_equal(sk_tcp_recv_release(fp.cb, 1000), 0);
    assert_int_equal(sk_tcp_recv_borrow(fp.cb, span), -ECONNRESET);
    assert_int_equal(sk_tcp_send_reserve(fp.cb, 10, span), -ECONNRESET);
    pair_free(fp.p);
}

/* A release reopens the window as a read does: a receiver whose buffer is full holds the
 * sender back until it releases, and then the rest arrives. */
static void test_zerocopy_release_opens_window(void **state)
{
    (void)state;
    struct fx_pair fp = open_pair();
    struct iovec span[2];
    assert_int_equal(fx_send(fp.ca, 0, BUF), BUF);
    pair_run_for(fp.p, SEC(1));
    /* b holds a full buffer; a's next buffer-full waits for the window. */
    assert_int_equal(fx_send(fp.ca, BUF, BUF), BUF);
    ssize_t n = sk_tcp_recv_borrow(fp.cb, span);
    assert_int_equal(n, BUF);
    pair_run_for(fp.p, SEC(2));
    /* Nothing beyond the window came: the buffer, plus at most the 2^7 - 1 bytes a window
     * scaled by shift 7 (the default) may round up to (RFC 7323 §2.3), or a probe's byte. */
    assert_true(sk_tcp_readable(fp.cb) <= BUF + 128);
    assert_int_equal(sk_tcp_recv_release(fp.cb, (size_t)n), 0);
    size_t got = (size_t)n;
    sk_time_us limit = pair_now(fp.p) + SEC(10);
    while (got < 2 * BUF && pair_now(fp.p) < limit) {
        pair_run_for(fp.p, MS(10));
        fx_recv_check(fp.cb, &got);
    }
    assert_int_equal(got, 2 * BUF);
    pair_free(fp.p);
}

/* A reservation held while everything queued before it is acknowledged: the emptied send
 * ring is released after a pause (SK_RING_HOLD_US) unless something pins it, and reserved
 * space does. The bytes written a second later arrive intact (under AddressSanitizer a freed
 * ring would be a use after free). */
static void test_zerocopy_reservation_pins_send_ring(void **state)
{
    (void)state;
    struct fx_pair fp = open_pair();
    struct iovec span[2];
    assert_int_equal(fx_send(fp.ca, 0, 1000), 1000);
    assert_int_equal(sk_tcp_send_reserve(fp.ca, 500, span), 500);
    pair_run_for(fp.p, SEC(1)); /* the 1000 bytes acknowledged long ago */
    assert_int_equal(info(fp.ca).bytes_acked, 1000);
    fx_fill(span[0].iov_base, 1000, span[0].iov_len);
    fx_fill(span[1].iov_base, 1000 + span[0].iov_len, span[1].iov_len);
    assert_int_equal(sk_tcp_send_commit(fp.ca, 500), 500);
    pair_run_for(fp.p, SEC(1));
    size_t got = 0;
    assert_int_equal(fx_recv_check(fp.cb, &got), 1500);
    pair_free(fp.p);
}

/* The socket layer's forms: the same calls on descriptors, with sk_recv's and sk_send's
 * errors. */
static void test_zerocopy_sockets(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    struct iovec span[2];
    int lb = sk_socket(p->b, SK_SOCK_STREAM), ca = sk_socket(p->a, SK_SOCK_STREAM);
    int ua = sk_socket(p->a, SK_SOCK_DGRAM);
    assert_int_equal(bind_to(p->b, lb, 0, 80), 0);
    assert_int_equal(sk_listen(p->b, lb, 8), 0);
    assert_int_equal(sk_recv_borrow(p->b, lb, span), -ENOTCONN);
    assert_int_equal(sk_send_reserve(p->a, ca, 10, span), -ENOTCONN); /* never connected */
    assert_int_equal(connect_to(p->a, ca, ADDR_B, 80), -EINPROGRESS);
    assert_int_equal(sk_send_reserve(p->a, ca, 10, span), -EAGAIN); /* still connecting */
    pair_run_for(p, MS(50));
    int cb = sk_accept(p->b, lb, NULL, NULL);
    assert_true(cb >= 0);
    assert_int_equal(sk_recv_borrow(p->b, 999, span), -EBADF);
    assert_int_equal(sk_recv_borrow(p->a, ua, span), -EOPNOTSUPP);
    assert_int_equal(sk_send_reserve(p->a, ua, 10, span), -EOPNOTSUPP);
    assert_int_equal(sk_recv_borrow(p->b, cb, span), -EAGAIN);

    size_t sent = 0, got = 0;
    const size_t total = 300000;
    bool shut = false;
    sk_time_us limit = pair_now(p) + SEC(60);
    for (;;) {
        ssize_t n = sent < total ? sk_send_reserve(p->a, ca, total - sent, span) : -EAGAIN;
        if (n > 0) {
            fx_fill(span[0].iov_base, sent, span[0].iov_len);
            fx_fill(span[1].iov_base, sent + span[0].iov_len, span[1].iov_len);
            assert_int_equal(sk_send_commit(p->a, ca, (size_t)n), n);
            sent += (size_t)n;
        }
        if (sent == total && !shut) {
            assert_int_equal(sk_shutdown(p->a, ca, SK_SHUT_WR), 0);
            assert_int_equal(sk_send_reserve(p->a, ca, 10, span), -EPIPE);
            shut = true;
        }
        n = sk_recv_borrow(p->b, cb, span);
        if (n == 0)
            break;
        if (n > 0) {
            for (int i = 0; i < 2; i++)
                for (size_t k = 0; k < span[i].iov_len; k++, got++)
                    assert_int_equal(((uint8_t *)span[i].iov_base)[k], fx_byte(got));
            assert_int_equal(sk_recv_release(p->b, cb, (size_t)n + 1), -EINVAL);
            assert_int_equal(sk_recv_release(p->b, cb, (size_t)n), 0);
        }
        assert_true(pair_step(p, limit));
    }
    assert_int_equal(got, total);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_zerocopy_moves_megabytes_both_ways),
        TEST(test_zerocopy_zero_length_and_misuse),
        TEST(test_zerocopy_fin_after_committed_data),
        TEST(test_zerocopy_reset_while_lent),
        TEST(test_zerocopy_release_opens_window),
        TEST(test_zerocopy_reservation_pins_send_ring),
        TEST(test_zerocopy_sockets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
