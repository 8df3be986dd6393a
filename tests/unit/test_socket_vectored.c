/* sk_sendv / sk_recvv (writev / readv) over two stacks on the virtual clock: a gather write is
 * one write to TCP (Nagle judges the whole of it), a scatter read one pass over the queue, and
 * the argument checks are Linux's. Every expected errno below was read from a kernel socket on
 * 127.0.0.1 (writev/readv on Linux 6.x, a small C program) unless the comment says otherwise. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "sock_addr.h"
#include "synack/socket.h"

#define PORT 80

/* A listener on b:80 and a connection from a, accepted: *ca on a, *cb on b. Nagle is on
 * (TCP_NODELAY defaults to off, as on Linux) and b delays its ACKs (delack_us 40 ms by
 * default, Linux's TCP_DELACK_MIN). */
static struct pair *connected(int *ca, int *cb)
{
    struct pair *p = pair_new(NULL, NULL);
    int lb = sk_socket(p->b, SK_SOCK_STREAM);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    assert_int_equal(sk_bind(p->b, lb, (struct sockaddr *)&any, sizeof(any)), 0);
    assert_int_equal(sk_listen(p->b, lb, 8), 0);
    *ca = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(connect_to(p->a, *ca, ADDR_B, PORT), -EINPROGRESS);
    pair_run_for(p, MS(50));
    *cb = sk_accept(p->b, lb, NULL, NULL);
    assert_true(*cb >= 0);
    assert_int_equal(connect_to(p->a, *ca, ADDR_B, PORT), 0);
    pair_run_for(p, MS(100)); /* quiet: every ACK of the handshake delivered */
    skip_segs(p, 0);
    skip_segs(p, 1);
    return p;
}

/* The payload lengths of the data segments side `side` sent from trace event `from` on, and
 * their send times. Returns how many. */
static size_t data_segs(const struct pair *p, int side, size_t from, uint32_t *len,
                        sk_time_us *at, size_t cap)
{
    size_t k = 0;
    for (size_t i = from; i < p->rec.n && k < cap; i++) {
        const struct rec_ev *e = &p->rec.ev[i];
        if (e->side != side || e->ev.kind != SK_TRACE_SEG_OUT || e->ev.u.seg.len == 0)
            continue;
        len[k] = e->ev.u.seg.len;
        at[k++] = e->ev.time;
    }
    return k;
}

/* Issue 11, item 5. With Nagle on and the peer delaying its ACKs, a 4-byte header and a
 * 1000-byte body written with writev leave as one 1004-byte segment at once: Linux's
 * tcp_sendmsg_locked (net/ipv4/tcp.c) copies the whole iov into the write queue before
 * tcp_push, so Nagle (RFC 9293 §3.7.4: send when nothing is unacknowledged) sees 1004 bytes
 * with nothing in flight. Each iovec used to be its own send: the header left alone and the
 * body waited for the peer's delayed ACK, 40 ms later. */
static void test_sendv_header_and_body_leave_as_one_segment(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected(&ca, &cb);
    static uint8_t body[1000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 7 + 3);
    uint8_t hdr[4] = {0, 0, 0x03, 0xe8};
    struct iovec iv[2] = {{hdr, sizeof(hdr)}, {body, sizeof(body)}};
    size_t mark = p->rec.n;
    sk_time_us t0 = pair_now(p);
    assert_int_equal(sk_sendv(p->a, ca, iv, 2), 1004);
    /* The link takes LINK_DELAY one way; 1 ms more is far short of the 40 ms delayed ACK. */
    pair_run_for(p, LINK_DELAY + MS(1));
    uint32_t len[8];
    sk_time_us at[8];
    assert_int_equal(data_segs(p, 0, mark, len, at, 8), 1);
    assert_int_equal(len[0], 1004);
    assert_int_equal(at[0], t0);
    uint8_t got[1100];
    assert_int_equal(sk_recv(p->b, cb, got, sizeof(got), 0), 1004);
    assert_memory_equal(got, hdr, 4);
    assert_memory_equal(got + 4, body, sizeof(body));
    pair_free(p);
}

/* writev larger than the send buffer queues what fits and returns that count (POSIX writev:
 * "the number of bytes actually written"; Linux returned 35840 of 180000 for a full
 * 3-buffer writev on a non-blocking socket), the next writev -EAGAIN; the bytes arrive in
 * the buffers' order across their boundaries. */
static void test_sendv_larger_than_the_send_buffer_is_partial(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected(&ca, &cb);
    static uint8_t src[3][40000];
    for (size_t i = 0; i < sizeof(src); i++)
        (&src[0][0])[i] = (uint8_t)(i * 13 + (i >> 9));
    struct iovec iv[3] = {{src[0], 40000}, {src[1], 40000}, {src[2], 40000}};
    /* The default send buffer is 64 KiB (sk_config_default, sndbuf_bytes = 65536), empty. */
    ssize_t n = sk_sendv(p->a, ca, iv, 3);
    assert_int_equal(n, 65536);
    assert_int_equal(sk_sendv(p->a, ca, iv, 3), -EAGAIN);
    static uint8_t got[120000];
    size_t have = 0;
    for (int i = 0; i < 200 && have < (size_t)n; i++) {
        pair_run_for(p, MS(10));
        ssize_t r = sk_recv(p->b, cb, got + have, sizeof(got) - have, 0);
        if (r > 0)
            have += (size_t)r;
    }
    assert_int_equal(have, 65536);
    assert_memory_equal(got, &src[0][0], have);
    pair_free(p);
}

/* The argument checks, each the errno Linux's writev gave (lib/iov_iter.c import_iovec:
 * -EINVAL for a negative count or more than UIO_MAXIOV = 1024 buffers and for a length above
 * SSIZE_MAX, -EFAULT for an unreadable array; a NULL base faults on the copy and the kernel
 * queued nothing); a zero total returns 0 before the socket is looked at (fs/read_write.c
 * vfs_writev). */
static void test_sendv_argument_errors_as_linux(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected(&ca, &cb);
    uint8_t b[8] = "abcdefg";
    struct iovec hdr_null[2] = {{b, 4}, {NULL, 1000}};
    struct iovec null_hdr[2] = {{NULL, 1000}, {b, 4}};
    assert_int_equal(sk_sendv(p->a, ca, hdr_null, 2), -EFAULT);
    assert_int_equal(sk_sendv(p->a, ca, null_hdr, 2), -EFAULT);
    assert_int_equal(sk_sendv(p->a, ca, NULL, 1), -EFAULT);
    assert_int_equal(sk_sendv(p->a, ca, NULL, 0), 0);
    assert_int_equal(sk_sendv(p->a, ca, hdr_null, 0), 0);
    assert_int_equal(sk_sendv(p->a, ca, hdr_null, -1), -EINVAL);
    static struct iovec many[1025];
    for (int i = 0; i < 1025; i++)
        many[i] = (struct iovec){b + (i % 7), 1};
    assert_int_equal(sk_sendv(p->a, ca, many, 1025), -EINVAL);
    struct iovec huge[1] = {{b, (size_t)SSIZE_MAX + 1}};
    assert_int_equal(sk_sendv(p->a, ca, huge, 1), -EINVAL);
    struct iovec zeros[3] = {{b, 0}, {NULL, 0}, {b, 3}};
    assert_int_equal(sk_sendv(p->a, ca, zeros, 3), 3);
    assert_int_equal(sk_sendv(p->a, ca, many, 1024), 1024);
    /* The low-level calls make the same checks (sk_tcp_send with a NULL buffer crashed). */
    struct sk_tcp *t = sk_socket_tcp(p->a, ca);
    assert_int_equal(sk_tcp_sendv(t, NULL, 1), -EFAULT);
    assert_int_equal(sk_tcp_sendv(t, hdr_null, 2), -EFAULT);
    assert_int_equal(sk_tcp_sendv(t, hdr_null, -1), -EINVAL);
    assert_int_equal(sk_tcp_sendv(t, many, 1025), -EINVAL);
    assert_int_equal(sk_tcp_send(t, NULL, 5), -EFAULT);
    assert_int_equal(sk_tcp_recvv(t, NULL, 1), -EFAULT);
    pair_run_for(p, MS(200));
    /* Only the two good writes arrived: nothing of the faulting ones was queued. */
    uint8_t got[2048];
    assert_int_equal(sk_recv(p->b, cb, got, sizeof(got), 0), 3 + 1024);
    assert_memory_equal(got, "abc", 3);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(got[3 + i], b[i % 7]);
    pair_free(p);
}

/* readv: the same checks; a NULL base with data waiting is -EFAULT and consumes nothing
 * (Linux returned EFAULT to readv {3},{NULL,10} and the next read had every byte). A zero
 * total returns 0 even with a reset pending, which stays for the next call (Linux:
 * sock_read_iter "Match SYS5 behaviour" returns before tcp_recvmsg; writev likewise). */
static void test_recvv_argument_errors_and_zero_total(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected(&ca, &cb);
    assert_int_equal(sk_send(p->b, cb, "0123456789", 10, 0), 10);
    pair_run_for(p, MS(50));
    char x[3], y[20];
    struct iovec bad[2] = {{x, 3}, {NULL, 10}};
    assert_int_equal(sk_recvv(p->a, ca, bad, 2), -EFAULT);
    assert_int_equal(sk_recvv(p->a, ca, NULL, 1), -EFAULT);
    assert_int_equal(sk_recvv(p->a, ca, bad, -1), -EINVAL);
    assert_int_equal(sk_recvv(p->a, ca, bad, 1025), -EINVAL);
    assert_int_equal(sk_recvv(p->a, ca, bad, 0), 0);
    struct iovec ov[3] = {{x, 3}, {y, 0}, {y, sizeof(y)}};
    assert_int_equal(sk_recvv(p->a, ca, ov, 3), 10);
    assert_memory_equal(x, "012", 3);
    assert_memory_equal(y, "3456789", 7);
    /* A reset arrives: zero-total calls leave it for the call that moves bytes. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(sk_setsockopt(p->b, cb, SK_SOL_SOCKET, SK_SO_LINGER, &lg, sizeof(lg)), 0);
    assert_int_equal(sk_close(p->b, cb), 0);
    pair_run_for(p, MS(50));
    struct iovec empty[1] = {{x, 0}};
    assert_int_equal(sk_sendv(p->a, ca, empty, 1), 0);
    assert_int_equal(sk_recvv(p->a, ca, empty, 1), 0);
    assert_int_equal(sk_recvv(p->a, ca, ov, 3), -ECONNRESET);
    pair_free(p);
}

/* UDP: one datagram per writev (a gather), cut to the buffers by readv with the rest
 * discarded (Linux: readv {3},{4} of a 10-byte datagram returned 7, the next -EAGAIN; only
 * recvmsg could report MSG_TRUNC). A NULL base is -EFAULT and sends nothing; a zero total
 * sends no datagram (vfs_writev returns before udp_sendmsg). */
static void test_udp_vectored_as_linux(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int a = sk_socket(p->a, SK_SOCK_DGRAM), b = sk_socket(p->b, SK_SOCK_DGRAM);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(5353)};
    assert_int_equal(sk_bind(p->b, b, (struct sockaddr *)&any, sizeof(any)), 0);
    assert_int_equal(connect_to(p->a, a, ADDR_B, 5353), 0);
    struct iovec bad[2] = {{(void *)"abcd", 4}, {NULL, 1000}};
    assert_int_equal(sk_sendv(p->a, a, bad, 2), -EFAULT);
    assert_int_equal(sk_sendv(p->a, a, bad, 0), 0);
    struct iovec iv[2] = {{(void *)"abcd", 4}, {(void *)"efghij", 6}};
    assert_int_equal(sk_sendv(p->a, a, iv, 2), 10);
    pair_run_for(p, MS(50));
    char x[3], y[4];
    struct iovec ov[2] = {{x, 3}, {y, 4}};
    assert_int_equal(sk_recvv(p->b, b, ov, 2), 7);
    assert_memory_equal(x, "abc", 3);
    assert_memory_equal(y, "defg", 4);
    assert_int_equal(sk_recvv(p->b, b, ov, 2), -EAGAIN);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendv_header_and_body_leave_as_one_segment),
        cmocka_unit_test(test_sendv_larger_than_the_send_buffer_is_partial),
        cmocka_unit_test(test_sendv_argument_errors_as_linux),
        cmocka_unit_test(test_recvv_argument_errors_and_zero_total),
        cmocka_unit_test(test_udp_vectored_as_linux),
    };
    return cmocka_run_group_tests(tests, NULL, harness_teardown);
}
