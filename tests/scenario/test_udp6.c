/* UDP over IPv6 between two stacks (issue 13): a datagram arrives byte-exact with its IPv6
 * sender (RFC 8200 §8.1's pseudo-header summed both ways); a port nobody listens on answers
 * ICMPv6 Destination Unreachable code 4 (RFC 4443 §3.1), which the sender's socket reads as
 * -ECONNREFUSED (Linux's icmpv6_err_convert); a socket from sk_udp_bind takes both families. */
#include <string.h>

#include "harness.h"
#include "synack/udp.h"

static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static struct pair *pair6(void)
{
    struct sk_config c[2];
    for (int side = 0; side < 2; side++) {
        harness_config(&c[side], side);
        c[side].ip6 = true;
        memcpy(c[side].addr6[0].addr, side == 0 ? A6 : B6, 16);
        c[side].addr6[0].prefix_len = 64;
        c[side].addr6_count = 1;
        c[side].ip6_dad_transmits = 0;
        c[side].ip6_linklocal = SK_IP6_LL_OFF;
    }
    return pair_new(&c[0], &c[1]);
}

static struct sk_addr addr6(const uint8_t b[16])
{
    struct sk_addr a;
    memcpy(a.b, b, 16);
    return a;
}

static void test_datagram_both_ways(void **state)
{
    (void)state;
    struct pair *p = pair6();
    struct sk_udp *ua, *ub;
    assert_int_equal(sk_udp_bind(p->a, 5000, &ua), 0);
    assert_int_equal(sk_udp_bind(p->b, 7, &ub), 0);
    uint8_t msg[1400];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 13);
    struct sk_addr b = addr6(B6);
    /* 1400 bytes: the largest that fits a 1500-byte MTU whole (1500 - 40 - 8 = 1452). */
    assert_int_equal(sk_udp_sendto_addr(ua, msg, sizeof(msg), &b, 7), (ssize_t)sizeof(msg));
    pair_run_for(p, MS(50));
    uint8_t got[4000];
    struct sk_addr from;
    uint16_t port;
    assert_int_equal(sk_udp_recvfrom_addr(ub, got, sizeof(got), &from, &port),
                     (ssize_t)sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));
    assert_memory_equal(from.b, A6, 16);
    assert_int_equal(port, 5000);
    /* The IPv4 form of recvfrom says 0 for an IPv6 sender. */
    assert_int_equal(sk_udp_sendto_addr(ub, "pong", 4, &from, port), 4);
    pair_run_for(p, MS(50));
    uint32_t v4 = 1;
    assert_int_equal(sk_udp_recvfrom(ua, got, sizeof(got), &v4, &port), 4);
    assert_int_equal(v4, 0);
    assert_int_equal(port, 7);
    pair_free(p);
}

static void test_port_unreachable_refuses(void **state)
{
    (void)state;
    struct pair *p = pair6();
    struct sk_udp *ua;
    assert_int_equal(sk_udp_bind(p->a, 5000, &ua), 0);
    struct sk_addr b = addr6(B6);
    assert_int_equal(sk_udp_sendto_addr(ua, "x", 1, &b, 9), 1);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_udp_error(ua), -ECONNREFUSED);
    pair_free(p);
}

static void test_one_socket_both_families(void **state)
{
    (void)state;
    struct pair *p = pair6();
    struct sk_udp *ua, *ub;
    assert_int_equal(sk_udp_bind(p->a, 5000, &ua), 0);
    assert_int_equal(sk_udp_bind(p->b, 7, &ub), 0);
    struct sk_addr b6 = addr6(B6), b4 = sk_addr_from_v4(ADDR_B);
    assert_int_equal(sk_udp_sendto_addr(ua, "six", 3, &b6, 7), 3);
    assert_int_equal(sk_udp_sendto_addr(ua, "four", 4, &b4, 7), 4);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_udp_pending(ub), 2);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datagram_both_ways),
        cmocka_unit_test(test_port_unreachable_refuses),
        cmocka_unit_test(test_one_socket_both_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
