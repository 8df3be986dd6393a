/* The socket layer's low-water marks, queue sizes and records over two stacks on the
 * virtual clock: SO_RCVLOWAT, TCP_NOTSENT_LOWAT, TCP_INQ, TCP_CONGESTION by name, sk_ioctl's
 * SIOCINQ/SIOCOUTQ/SIOCOUTQNSD, and SK_MSG_EOR's segment boundaries on the wire. Values and
 * errors are Linux's (socket(7), tcp(7), tcp_ioctl, tcp_set_rcvlowat), computed here. */
#include <string.h>

#include "harness.h"
#include "sock_addr.h"
#include "synack/socket.h"

#define PORT 80
/* Both stacks: MTU 1500, timestamps on both sides (RFC 7323 §3: 10 bytes, padded to 12). */
#define SEG (1500u - 20u - 20u - 12u)

static char big[200000];

static short revents(struct sk_stack *st, int fd, short events)
{
    struct sk_pollfd p = {.fd = fd, .events = events};
    sk_poll(st, &p, 1);
    return p.revents;
}

static int getint(struct sk_stack *st, int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(sk_getsockopt(st, fd, level, name, &v, &len), 0);
    return v;
}

static int setint(struct sk_stack *st, int fd, int level, int name, int v)
{
    return sk_setsockopt(st, fd, level, name, &v, sizeof(v));
}

static int ioctl_int(struct sk_stack *st, int fd, unsigned long req)
{
    int v = -1;
    assert_int_equal(sk_ioctl(st, fd, req, &v), 0);
    return v;
}

static struct pair *connected(int *ca, int *lb, int *cb)
{
    struct pair *p = pair_new(NULL, NULL);
    *lb = sk_socket(p->b, SK_SOCK_STREAM);
    assert_int_equal(bind_to(p->b, *lb, 0, PORT), 0);
    assert_int_equal(sk_listen(p->b, *lb, 8), 0);
    *ca = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(connect_to(p->a, *ca, ADDR_B, PORT), -EINPROGRESS);
    pair_run_for(p, MS(50));
    *cb = sk_accept(p->b, *lb, NULL, NULL);
    assert_true(*cb >= 0);
    assert_int_equal(connect_to(p->a, *ca, ADDR_B, PORT), 0);
    return p;
}

/* The options' values and errors, as Linux's sock_setsockopt / do_tcp_setsockopt. */
static void test_option_values(void **state)
{
    (void)state;
    int ca, lb, cb;
    struct pair *p = connected(&ca, &lb, &cb);
    /* SO_RCVLOWAT: default 1, 0 means 1, capped at half the receive buffer (64 KiB here). */
    assert_int_equal(getint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT), 1);
    assert_int_equal(setint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT, 0), 0);
    assert_int_equal(getint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT), 1);
    assert_int_equal(setint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT, -5), 0);
    assert_int_equal(getint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT), 65536 / 2);
    assert_int_equal(setint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT, 100), 0);
    assert_int_equal(getint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT), 100);
    /* TCP_NOTSENT_LOWAT: any int, read back as set (0xffffffff as -1). */
    assert_int_equal(getint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT), 0);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT, -1), 0);
    assert_int_equal(getint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT), -1);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT, 0), 0);
    /* TCP_INQ: 0 or 1. */
    assert_int_equal(setint(p->b, cb, SK_IPPROTO_TCP, SK_TCP_INQ, 2), -EINVAL);
    assert_int_equal(setint(p->b, cb, SK_IPPROTO_TCP, SK_TCP_INQ, 1), 0);
    assert_int_equal(getint(p->b, cb, SK_IPPROTO_TCP, SK_TCP_INQ), 1);
    /* TCP_CONGESTION by Linux's names; another is -ENOENT and changes nothing. */
    assert_int_equal(sk_setsockopt(p->a, ca, SK_IPPROTO_TCP, SK_TCP_CONGESTION, "reno", 4), 0);
    assert_int_equal(sk_setsockopt(p->a, ca, SK_IPPROTO_TCP, SK_TCP_CONGESTION, "vegas", 5),
                     -ENOENT);
    char name[16];
    socklen_t len = sizeof(name);
    assert_int_equal(sk_getsockopt(p->a, ca, SK_IPPROTO_TCP, SK_TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "reno");
    /* A listener passes its marks to the connections it accepts. */
    assert_int_equal(setint(p->b, lb, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT, 7000), 0);
    int ca2 = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(connect_to(p->a, ca2, ADDR_B, PORT), -EINPROGRESS);
    pair_run_for(p, MS(50));
    int cb2 = sk_accept(p->b, lb, NULL, NULL);
    assert_true(cb2 >= 0);
    assert_int_equal(getint(p->b, cb2, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT), 7000);
    assert_int_equal(sk_tcp_get_notsent_lowat(sk_socket_tcp(p->b, cb2)), 7000);
    pair_free(p);
}

/* sk_ioctl: Linux's tcp_ioctl and udp_ioctl answers. */
static void test_ioctl_queue_sizes(void **state)
{
    (void)state;
    int ca, lb, cb;
    struct pair *p = connected(&ca, &lb, &cb);
    int v;
    assert_int_equal(sk_ioctl(p->b, lb, SK_SIOCINQ, &v), -EINVAL); /* a listener */
    assert_int_equal(sk_ioctl(p->a, ca, SK_SIOCINQ, NULL), -EFAULT);
    assert_int_equal(sk_ioctl(p->a, ca, 0x5421 /* FIONBIO */, &v), -ENOTTY);
    assert_int_equal(sk_ioctl(p->a, 99, SK_SIOCINQ, &v), -EBADF);
    int fresh = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(ioctl_int(p->a, fresh, SK_SIOCOUTQ), 0); /* never connected: empty */
    assert_int_equal(sk_send(p->a, ca, big, 3000, 0), 3000);
    assert_int_equal(ioctl_int(p->a, ca, SK_SIOCOUTQ), 3000);   /* in flight */
    /* Two full segments went (IW, RFC 6928); Nagle (RFC 896) holds the short tail while they
     * are unacknowledged. */
    assert_int_equal(ioctl_int(p->a, ca, SK_SIOCOUTQNSD), 3000 - 2 * SEG);
    pair_run_for(p, MS(100));
    assert_int_equal(ioctl_int(p->a, ca, SK_SIOCOUTQ), 0);      /* acknowledged */
    assert_int_equal(ioctl_int(p->b, cb, SK_SIOCINQ), 3000);
    char buf[1000];
    assert_int_equal(sk_recv(p->b, cb, buf, sizeof(buf), 0), 1000);
    assert_int_equal(ioctl_int(p->b, cb, SK_SIOCINQ), 2000);
    /* UDP: the next datagram's length; SIOCOUTQNSD is not a UDP request. */
    int ua = sk_socket(p->a, SK_SOCK_DGRAM), ub = sk_socket(p->b, SK_SOCK_DGRAM);
    assert_int_equal(bind_to(p->b, ub, 0, 5353), 0);
    assert_int_equal(ioctl_int(p->b, ub, SK_SIOCINQ), 0);
    struct sockaddr_in to = sa(ADDR_B, 5353);
    assert_int_equal(sk_sendto(p->a, ua, big, 321, 0, (struct sockaddr *)&to, sizeof(to)), 321);
    pair_run_for(p, MS(50));
    assert_int_equal(ioctl_int(p->b, ub, SK_SIOCINQ), 321);
    assert_int_equal(ioctl_int(p->b, ub, SK_SIOCOUTQ), 0);
    assert_int_equal(sk_ioctl(p->b, ub, SK_SIOCOUTQNSD, &v), -ENOTTY);
    pair_free(p);
}

/* SO_RCVLOWAT on the poll side: POLLIN only once the mark is readable. */
static void test_rcvlowat_poll(void **state)
{
    (void)state;
    int ca, lb, cb;
    struct pair *p = connected(&ca, &lb, &cb);
    assert_int_equal(setint(p->b, cb, SK_SOL_SOCKET, SK_SO_RCVLOWAT, 2000), 0);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_NODELAY, 1), 0);
    assert_int_equal(sk_send(p->a, ca, big, 1500, 0), 1500);
    pair_run_for(p, MS(50));
    assert_int_equal(revents(p->b, cb, SK_POLLIN), 0);
    assert_int_equal(sk_send(p->a, ca, big, 500, 0), 500);
    pair_run_for(p, MS(50));
    assert_int_equal(revents(p->b, cb, SK_POLLIN), SK_POLLIN);
    pair_free(p);
}

/* TCP_NOTSENT_LOWAT on the poll side: POLLOUT only while twice the unsent bytes are below
 * the mark; a send stops once the unsent bytes reach it. */
static void test_notsent_lowat_poll(void **state)
{
    (void)state;
    int ca, lb, cb;
    struct pair *p = connected(&ca, &lb, &cb);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_NOTSENT_LOWAT, 8000), 0);
    ssize_t n = sk_send(p->a, ca, big, sizeof(big), 0);
    assert_true(n > 0 && n < (ssize_t)sizeof(big));
    int unsent = ioctl_int(p->a, ca, SK_SIOCOUTQNSD);
    /* Stopped at the first chunk (one segment) that began with 8000 or more unsent. */
    assert_true(unsent >= 8000 && unsent < 8000 + (int)SEG);
    assert_int_equal(revents(p->a, ca, SK_POLLOUT), 0);
    assert_int_equal(sk_send(p->a, ca, big, 10, 0), -EAGAIN);
    /* The peer reads along: once everything went out and was acknowledged, POLLOUT. */
    pair_run_for(p, MS(500));
    assert_int_equal(ioctl_int(p->a, ca, SK_SIOCOUTQNSD), 0);
    assert_int_equal(revents(p->a, ca, SK_POLLOUT), SK_POLLOUT);
    pair_free(p);
}

/* SK_MSG_EOR: the segments on the wire end at each record's end (PSH there), full segments
 * elsewhere. 2000 plain bytes, a 500-byte record, 2000 plain bytes, all in the initial
 * window (RFC 6928: 10 segments). */
static void test_msg_eor_on_the_wire(void **state)
{
    (void)state;
    int ca, lb, cb;
    struct pair *p = connected(&ca, &lb, &cb);
    skip_segs(p, A_TO_B);
    struct sk_tcp_info ia = info(sk_socket_tcp(p->a, ca));
    uint32_t base = ia.snd_nxt, ack = ia.rcv_nxt;
    assert_int_equal(sk_send(p->a, ca, big, 2000, 0), 2000);
    assert_int_equal(sk_send(p->a, ca, big, 500, SK_MSG_EOR), 500);
    assert_int_equal(sk_send(p->a, ca, big, 2000, 0), 2000);
    pair_run_for(p, MS(200));
    /* Nagle held the first write's short tail (2000 - SEG) and the record behind it until
     * more data followed the record's end (then the record's segment is not a small one:
     * more is queued); the last short segment waited for the first ACK. */
    uint32_t cuts[] = {SEG, 2500, 2500 + SEG, 4500};
    uint32_t at = 0;
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        bool push = cuts[i] == 2500 || cuts[i] == 4500;
        expect_data(p, A_TO_B, ACK | (push ? PSH : 0), base + at, ack, cuts[i] - at);
        at = cuts[i];
    }
    pair_run_for(p, MS(100));
    char buf[8000];
    assert_int_equal(sk_recv(p->b, cb, buf, sizeof(buf), 0), 4500);
    pair_free(p);
}

int main(void)
{
    memset(big, 'm', sizeof(big));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_values),
        cmocka_unit_test(test_ioctl_queue_sizes),
        cmocka_unit_test(test_rcvlowat_poll),
        cmocka_unit_test(test_notsent_lowat_poll),
        cmocka_unit_test(test_msg_eor_on_the_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
