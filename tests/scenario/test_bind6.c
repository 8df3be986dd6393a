/* Sockets bound to one of several IPv6 addresses (issue 13). b holds two static addresses,
 * B1 and B2; a socket bound to B2 behaves as Linux's (inet_rcv_saddr, ipv6_rcv_saddr):
 *  - a TCP listener on [B2]:80 takes SYNs to B2 only: a SYN to [B1]:80 finds no listener and
 *    is answered with a RST (RFC 9293 §3.10.7.1), the client sees ECONNREFUSED;
 *  - a UDP socket on [B2]:7 takes datagrams to B2 only (one to B1 draws ICMPv6 port
 *    unreachable, RFC 4443 §3.1, which the sender reads as ECONNREFUSED), and its replies leave
 *    from B2, although RFC 6724 would pick B1 toward a (rule 8: B1 shares 126 leading bits with
 *    A, B2 only 64), as the addresses below are chosen to show. */
#include <arpa/inet.h>
#include <string.h>

#include "harness.h"
#include "synack/socket.h"

static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t B2[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 2};

static struct pair *pair6(void)
{
    struct sk_config c[2];
    for (int side = 0; side < 2; side++) {
        harness_config(&c[side], side);
        c[side].ip6 = true;
        c[side].ip6_dad_transmits = 0;
        c[side].ip6_linklocal = SK_IP6_LL_OFF;
    }
    memcpy(c[0].addr6[0].addr, A6, 16);
    c[0].addr6[0].prefix_len = 64;
    c[0].addr6_count = 1;
    memcpy(c[1].addr6[0].addr, B1, 16);
    memcpy(c[1].addr6[1].addr, B2, 16);
    c[1].addr6[0].prefix_len = c[1].addr6[1].prefix_len = 64;
    c[1].addr6_count = 2;
    return pair_new(&c[0], &c[1]);
}

static struct sockaddr_in6 sa6(const uint8_t a[16], uint16_t port)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof(s));
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    memcpy(s.sin6_addr.s6_addr, a, 16);
    return s;
}

static int connect_to(struct pair *p, const uint8_t to[16])
{
    int c = sk_socket_af(p->a, AF_INET6, SK_SOCK_STREAM);
    assert_true(c >= 0);
    struct sockaddr_in6 sa = sa6(to, 80);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&sa, sizeof(sa)), -EINPROGRESS);
    pair_run_for(p, MS(100));
    return c;
}

static int so_error(struct sk_stack *st, int fd)
{
    int e = 0;
    socklen_t len = sizeof(e);
    assert_int_equal(sk_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &e, &len), 0);
    return e;
}

static void test_listener_bound_to_one_address(void **state)
{
    (void)state;
    struct pair *p = pair6();
    int l = sk_socket_af(p->b, AF_INET6, SK_SOCK_STREAM);
    struct sockaddr_in6 at = sa6(B2, 80);
    assert_int_equal(sk_bind(p->b, l, (struct sockaddr *)&at, sizeof(at)), 0);
    assert_int_equal(sk_listen(p->b, l, 8), 0);
    uint64_t rst_before = counters(p->b).tcp_rst_out;
    int c1 = connect_to(p, B1);
    assert_int_equal(so_error(p->a, c1), ECONNREFUSED);
    assert_int_equal(counters(p->b).tcp_rst_out, rst_before + 1);
    int c2 = connect_to(p, B2);
    assert_int_equal(so_error(p->a, c2), 0);
    struct sockaddr_in6 local;
    socklen_t len = sizeof(local);
    int s = sk_accept(p->b, l, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(sk_getsockname(p->b, s, (struct sockaddr *)&local, &len), 0);
    assert_memory_equal(local.sin6_addr.s6_addr, B2, 16);
    pair_free(p);
}

static void test_udp_bound_to_one_address(void **state)
{
    (void)state;
    struct pair *p = pair6();
    int u = sk_socket_af(p->b, AF_INET6, SK_SOCK_DGRAM);
    struct sockaddr_in6 at = sa6(B2, 7);
    assert_int_equal(sk_bind(p->b, u, (struct sockaddr *)&at, sizeof(at)), 0);
    int c = sk_socket_af(p->a, AF_INET6, SK_SOCK_DGRAM);
    /* To B1: nobody there on port 7. */
    struct sockaddr_in6 to1 = sa6(B1, 7);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to1, sizeof(to1)), 0);
    assert_int_equal(sk_send(p->a, c, "one", 3, 0), 3);
    pair_run_for(p, MS(50));
    char buf[16];
    assert_int_equal(sk_recv(p->b, u, buf, sizeof(buf), 0), -EAGAIN);
    assert_int_equal(sk_recv(p->a, c, buf, sizeof(buf), 0), -ECONNREFUSED);
    /* To B2: taken, and the answer comes from B2. */
    struct sockaddr_in6 to2 = sa6(B2, 7);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to2, sizeof(to2)), 0);
    assert_int_equal(sk_send(p->a, c, "two", 3, 0), 3);
    pair_run_for(p, MS(50));
    struct sockaddr_in6 from;
    socklen_t flen = sizeof(from);
    assert_int_equal(sk_recvfrom(p->b, u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen),
                     3);
    assert_memory_equal(buf, "two", 3);
    assert_int_equal(sk_sendto(p->b, u, "back", 4, 0, (struct sockaddr *)&from, flen), 4);
    pair_run_for(p, MS(50));
    flen = sizeof(from);
    assert_int_equal(sk_recvfrom(p->a, c, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen),
                     4);
    assert_memory_equal(from.sin6_addr.s6_addr, B2, 16);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_listener_bound_to_one_address),
        TEST(test_udp_bound_to_one_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
