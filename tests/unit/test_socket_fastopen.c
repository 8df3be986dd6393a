/* TCP Fast Open's socket calls (RFC 7413, Linux's API): SK_TCP_FASTOPEN on a listener,
 * sendto with SK_MSG_FASTOPEN, SK_TCP_FASTOPEN_CONNECT, and the errors Linux gives them. Two
 * stacks on the virtual clock, 10 ms each way; the SYN's data room is the server's MSS (1460)
 * less the 40 bytes Linux's tcp_send_syn_data keeps for options. */
#include <arpa/inet.h>
#include <string.h>

#include "harness.h"
#include "sock_addr.h"
#include "synack/socket.h"

#define PORT 80
#define SYN_ROOM (1460 - 40)

static int setint(struct sk_stack *st, int fd, int level, int name, int v)
{
    return sk_setsockopt(st, fd, level, name, &v, sizeof(v));
}

static int getint(struct sk_stack *st, int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(sk_getsockopt(st, fd, level, name, &v, &len), 0);
    return v;
}

static ssize_t fo_sendto(struct sk_stack *st, int fd, const void *buf, size_t len)
{
    struct sockaddr_in to = sa(ADDR_B, PORT);
    return sk_sendto(st, fd, buf, len, SK_MSG_FASTOPEN, (struct sockaddr *)&to, sizeof(to));
}

static void test_fastopen_socket_calls(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    static char data[4000], got[4000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    int l = sk_socket(p->b, SK_SOCK_STREAM);
    assert_int_equal(bind_to(p->b, l, 0, PORT), 0);
    assert_int_equal(setint(p->b, l, SK_IPPROTO_TCP, SK_TCP_FASTOPEN, -1), -EINVAL);
    assert_int_equal(setint(p->b, l, SK_IPPROTO_TCP, SK_TCP_FASTOPEN, 4), 0); /* before listen */
    assert_int_equal(sk_listen(p->b, l, 8), 0);
    assert_int_equal(getint(p->b, l, SK_IPPROTO_TCP, SK_TCP_FASTOPEN), 4);

    /* No cookie yet: the SYN asks for one, nothing is taken (Linux: EINPROGRESS). */
    int c = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(fo_sendto(p->a, c, data, 100), -EINPROGRESS);
    assert_int_equal(fo_sendto(p->a, c, data, 100), -EALREADY);
    pair_run_for(p, MS(50));
    int s = sk_accept(p->b, l, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(fo_sendto(p->a, c, data, 100), 100); /* connected: an ordinary send */
    pair_run_for(p, MS(50));
    assert_int_equal(sk_recv(p->b, s, got, sizeof(got), 0), 100);
    sk_close(p->a, c);
    sk_close(p->b, s);
    pair_run_for(p, MS(100));

    /* With the cookie: sendto takes what the SYN carries, the server reads it at once. */
    c = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(fo_sendto(p->a, c, data, 3000), SYN_ROOM);
    pair_run_for(p, LINK_DELAY); /* only the SYN has arrived */
    s = sk_accept(p->b, l, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(sk_recv(p->b, s, got, sizeof(got), 0), SYN_ROOM);
    assert_memory_equal(got, data, SYN_ROOM);
    assert_int_equal(sk_send(p->b, s, "hello", 5, 0), 5); /* before the third ACK */
    pair_run_for(p, 2 * LINK_DELAY);
    assert_int_equal(sk_recv(p->a, c, got, sizeof(got), 0), 5);
    sk_close(p->a, c);
    sk_close(p->b, s);
    pair_run_for(p, MS(100));

    /* TCP_FASTOPEN_CONNECT: connect() returns 0 with nothing sent; the first send goes in the
     * SYN (what fits), later ones wait for the handshake. */
    c = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, c, SK_IPPROTO_TCP, SK_TCP_FASTOPEN_CONNECT, 1), 0);
    assert_int_equal(getint(p->a, c, SK_IPPROTO_TCP, SK_TCP_FASTOPEN_CONNECT), 1);
    uint64_t out = counters(p->a).tcp_segs_out;
    assert_int_equal(connect_to(p->a, c, ADDR_B, PORT), 0);
    assert_int_equal(counters(p->a).tcp_segs_out, out); /* no SYN yet */
    /* Writable, so that an event loop makes the write that sends the SYN (Linux's tcp_poll
     * for DEFER_CONNECT); then, connecting, nothing. */
    struct sk_pollfd pf = {.fd = c, .events = SK_POLLIN | SK_POLLOUT};
    assert_int_equal(sk_poll(p->a, &pf, 1), 1);
    assert_int_equal(pf.revents, SK_POLLOUT);
    assert_int_equal(sk_send(p->a, c, data, 2000, 0), SYN_ROOM);
    assert_int_equal(counters(p->a).tcp_segs_out, out + 1);
    assert_int_equal(sk_poll(p->a, &pf, 1), 0);
    assert_int_equal(sk_send(p->a, c, data, 10, 0), -EAGAIN); /* connecting now */
    assert_int_equal(setint(p->a, c, SK_IPPROTO_TCP, SK_TCP_FASTOPEN_CONNECT, 0), -EISCONN);
    pair_run_for(p, LINK_DELAY);
    s = sk_accept(p->b, l, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(sk_recv(p->b, s, got, sizeof(got), 0), SYN_ROOM);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_send(p->a, c, data + SYN_ROOM, 2000 - SYN_ROOM, 0), 2000 - SYN_ROOM);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_recv(p->b, s, got, sizeof(got), 0), 2000 - SYN_ROOM);
    assert_memory_equal(got, data + SYN_ROOM, 2000 - SYN_ROOM);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fastopen_socket_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
