/* AF_INET6 sockets over IPv4 (issue 13): RFC 3493's dual-stack socket. A listener on :: with
 * IPV6_V6ONLY off (Linux's default) accepts an IPv4 client, which it sees as ::ffff:a.b.c.d
 * (RFC 4291 §2.5.5.2); an AF_INET6 socket connects and sends to an IPv4-mapped address over
 * IPv4 (RFC 4038 §4.2). Expected values are the RFCs' mapping written out here and Linux's
 * answers (inet6_bind, tcp_v6_connect, do_ipv6_setsockopt), never read back from the stack. */
#include <arpa/inet.h>
#include <string.h>

#include "harness.h"
#include "synack/socket.h"

#define PORT 80

/* ::ffff:a.b.c.d for a (host order), as RFC 4291 §2.5.5.2 draws it. */
static struct sockaddr_in6 mapped(uint32_t a, uint16_t port)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof(s));
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    s.sin6_addr.s6_addr[10] = 0xff;
    s.sin6_addr.s6_addr[11] = 0xff;
    s.sin6_addr.s6_addr[12] = (uint8_t)(a >> 24);
    s.sin6_addr.s6_addr[13] = (uint8_t)(a >> 16);
    s.sin6_addr.s6_addr[14] = (uint8_t)(a >> 8);
    s.sin6_addr.s6_addr[15] = (uint8_t)a;
    return s;
}

static struct sockaddr_in6 any6(uint16_t port)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof(s));
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    return s;
}

static struct sockaddr_in in4(uint32_t a, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = htonl(a);
    return s;
}

static int setint(struct sk_stack *st, int fd, int level, int name, int v)
{
    return sk_setsockopt(st, fd, level, name, &v, sizeof(v));
}

/* A dual-stack listener on [::]:80 of b, an IPv4 client on a. */
static void test_dual_stack_listener_accepts_ipv4_as_mapped(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int l = sk_socket_af(p->b, AF_INET6, SK_SOCK_STREAM);
    assert_true(l >= 0);
    struct sockaddr_in6 any = any6(PORT);
    assert_int_equal(sk_bind(p->b, l, (struct sockaddr *)&any, sizeof(any)), 0);
    assert_int_equal(sk_listen(p->b, l, 8), 0);
    int c = sk_socket(p->a, SK_SOCK_STREAM);
    struct sockaddr_in to = in4(ADDR_B, PORT);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
    pair_run_for(p, MS(50));
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    int s = sk_accept(p->b, l, (struct sockaddr *)&peer, &len);
    assert_true(s >= 0);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&peer;
    struct sockaddr_in local;
    socklen_t llen = sizeof(local);
    assert_int_equal(sk_getsockname(p->a, c, (struct sockaddr *)&local, &llen), 0);
    struct sockaddr_in6 want = mapped(ADDR_A, ntohs(local.sin_port));
    assert_int_equal(p6->sin6_family, AF_INET6);
    assert_int_equal(p6->sin6_port, want.sin6_port);
    assert_memory_equal(&p6->sin6_addr, &want.sin6_addr, 16);
    /* getsockname of the accepted socket: ::ffff:10.0.0.2 port 80; getpeername as accept. */
    struct sockaddr_in6 me;
    socklen_t mlen = sizeof(me);
    assert_int_equal(sk_getsockname(p->b, s, (struct sockaddr *)&me, &mlen), 0);
    assert_int_equal(mlen, sizeof(struct sockaddr_in6));
    struct sockaddr_in6 want_me = mapped(ADDR_B, PORT);
    assert_memory_equal(&me.sin6_addr, &want_me.sin6_addr, 16);
    assert_int_equal(me.sin6_port, htons(PORT));
    struct sockaddr_in6 them;
    socklen_t tlen = sizeof(them);
    assert_int_equal(sk_getpeername(p->b, s, (struct sockaddr *)&them, &tlen), 0);
    assert_memory_equal(&them.sin6_addr, &want.sin6_addr, 16);
    /* Data both ways, byte-exact. */
    assert_int_equal(sk_send(p->a, c, "hello", 5, 0), 5);
    pair_run_for(p, MS(50));
    char buf[8];
    assert_int_equal(sk_recv(p->b, s, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    pair_free(p);
}

/* IPV6_V6ONLY: the listener takes no IPv4 client (the SYN finds nobody: RST, refused). */
static void test_v6only_listener_refuses_ipv4(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int l = sk_socket_af(p->b, AF_INET6, SK_SOCK_STREAM);
    assert_int_equal(setint(p->b, l, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, 1), 0);
    int v = -1;
    socklen_t vl = sizeof(v);
    assert_int_equal(sk_getsockopt(p->b, l, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, &v, &vl), 0);
    assert_int_equal(v, 1);
    struct sockaddr_in6 any = any6(PORT);
    assert_int_equal(sk_bind(p->b, l, (struct sockaddr *)&any, sizeof(any)), 0);
    /* Linux: -EINVAL once bound. */
    assert_int_equal(setint(p->b, l, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, 0), -EINVAL);
    assert_int_equal(sk_listen(p->b, l, 8), 0);
    int c = sk_socket(p->a, SK_SOCK_STREAM);
    struct sockaddr_in to = in4(ADDR_B, PORT);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to, sizeof(to)), -ECONNREFUSED);
    assert_int_equal(sk_accept(p->b, l, NULL, NULL), -EAGAIN);
    pair_free(p);
}

/* An AF_INET6 client connects to ::ffff:10.0.0.2 over IPv4; with V6ONLY it may not. */
static void test_connect_to_mapped_goes_over_ipv4(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int l = sk_socket(p->b, SK_SOCK_STREAM);
    struct sockaddr_in b4 = in4(0, PORT);
    assert_int_equal(sk_bind(p->b, l, (struct sockaddr *)&b4, sizeof(b4)), 0);
    assert_int_equal(sk_listen(p->b, l, 8), 0);
    int only = sk_socket_af(p->a, AF_INET6, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, only, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, 1), 0);
    struct sockaddr_in6 to = mapped(ADDR_B, PORT);
    assert_int_equal(sk_connect(p->a, only, (struct sockaddr *)&to, sizeof(to)), -ENETUNREACH);
    int c = sk_socket_af(p->a, AF_INET6, SK_SOCK_STREAM);
    /* tcp_v6_connect: an AF_INET address (16 bytes, short of RFC 2133's 24) is -EINVAL. */
    struct sockaddr_in four = in4(ADDR_B, PORT);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&four, sizeof(four)), -EINVAL);
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_connect(p->a, c, (struct sockaddr *)&to, sizeof(to)), 0);
    int s = sk_accept(p->b, l, NULL, NULL);
    assert_true(s >= 0);
    struct sockaddr_in6 peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(sk_getpeername(p->a, c, (struct sockaddr *)&peer, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    assert_memory_equal(&peer, &to, sizeof(to));
    pair_free(p);
}

/* Family and bind checks of Linux's __sock_create and inet6_bind. */
static void test_af_inet6_family_and_bind_errors(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    assert_int_equal(sk_socket_af(p->a, AF_UNIX, SK_SOCK_STREAM), -EAFNOSUPPORT);
    int s = sk_socket_af(p->a, AF_INET6, SK_SOCK_STREAM);
    struct sockaddr_in four = in4(0, PORT);
    /* 16 bytes: shorter than RFC 2133's sockaddr_in6. */
    assert_int_equal(sk_bind(p->a, s, (struct sockaddr *)&four, sizeof(four)), -EINVAL);
    struct sockaddr_in6 x = mapped(0xc0000201u, PORT); /* ::ffff:192.0.2.1, not ours */
    assert_int_equal(sk_bind(p->a, s, (struct sockaddr *)&x, sizeof(x)), -EADDRNOTAVAIL);
    struct sockaddr_in6 other = any6(PORT);
    other.sin6_addr.s6_addr[0] = 0x20; /* 2001:db8::1, not ours */
    other.sin6_addr.s6_addr[1] = 0x01;
    other.sin6_addr.s6_addr[2] = 0x0d;
    other.sin6_addr.s6_addr[3] = 0xb8;
    other.sin6_addr.s6_addr[15] = 1;
    assert_int_equal(sk_bind(p->a, s, (struct sockaddr *)&other, sizeof(other)), -EADDRNOTAVAIL);
    int v6o = sk_socket_af(p->a, AF_INET6, SK_SOCK_DGRAM);
    assert_int_equal(setint(p->a, v6o, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, 1), 0);
    struct sockaddr_in6 me = mapped(ADDR_A, PORT);
    assert_int_equal(sk_bind(p->a, v6o, (struct sockaddr *)&me, sizeof(me)), -EINVAL);
    assert_int_equal(sk_bind(p->a, s, (struct sockaddr *)&me, sizeof(me)), 0);
    /* IPPROTO_IPV6 on an AF_INET socket: none (Linux: -ENOPROTOOPT). */
    int four_s = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, four_s, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, 1), -ENOPROTOOPT);
    pair_free(p);
}

/* UDP: an AF_INET6 socket sends to an AF_INET one through a mapped address and reads the
 * answer's sender mapped. */
static void test_udp_dual_stack_exchange(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int srv = sk_socket(p->b, SK_SOCK_DGRAM);
    struct sockaddr_in b4 = in4(0, 7);
    assert_int_equal(sk_bind(p->b, srv, (struct sockaddr *)&b4, sizeof(b4)), 0);
    int cli = sk_socket_af(p->a, AF_INET6, SK_SOCK_DGRAM);
    struct sockaddr_in6 to = mapped(ADDR_B, 7);
    assert_int_equal(sk_sendto(p->a, cli, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
    pair_run_for(p, MS(10));
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    char buf[8];
    assert_int_equal(sk_recvfrom(p->b, srv, buf, sizeof(buf), 0, (struct sockaddr *)&from,
                                 &flen), 4);
    assert_int_equal(flen, sizeof(struct sockaddr_in));
    assert_int_equal(from.sin_addr.s_addr, htonl(ADDR_A));
    assert_int_equal(sk_sendto(p->b, srv, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
    pair_run_for(p, MS(10));
    struct sockaddr_in6 from6;
    socklen_t f6len = sizeof(from6);
    assert_int_equal(sk_recvfrom(p->a, cli, buf, sizeof(buf), 0, (struct sockaddr *)&from6,
                                 &f6len), 4);
    assert_memory_equal(buf, "pong", 4);
    assert_int_equal(f6len, sizeof(struct sockaddr_in6));
    struct sockaddr_in6 want = mapped(ADDR_B, 7);
    assert_memory_equal(&from6, &want, sizeof(want));
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dual_stack_listener_accepts_ipv4_as_mapped),
        cmocka_unit_test(test_v6only_listener_refuses_ipv4),
        cmocka_unit_test(test_connect_to_mapped_goes_over_ipv4),
        cmocka_unit_test(test_af_inet6_family_and_bind_errors),
        cmocka_unit_test(test_udp_dual_stack_exchange),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
