/* UDP sockets (RFC 768, RFC 1122 §4.1): two stacks exchange datagrams over the in-memory
 * link; ports are exclusive; the receive queue is bounded and counted; a long datagram is
 * cut to the buffer; ICMP port unreachable reaches the sender's socket; bad checksums drop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipframes.h"
#include "synack/synack.h"
#include "wire/wire.h"

static unsigned events_seen;
static void on_udp(struct sk_udp *u, unsigned ev, void *ctx)
{
    (void)u;
    (void)ctx;
    events_seen |= ev;
}

/* A datagram each way; the receiver learns the sender's address and port, and its callback
 * says readable. */
static void test_exchange_over_link(void **state)
{
    (void)state;
    struct ethpair *p = ethpair_new(NULL);
    struct sk_udp *a, *b;
    assert_int_equal(sk_udp_bind(p->a->st, 0, &a), 0);
    assert_int_equal(sk_udp_bind(p->b->st, 7, &b), 0);
    assert_true(sk_udp_port(a) >= 49152);
    events_seen = 0;
    sk_udp_set_callback(b, on_udp, NULL);
    assert_int_equal(sk_udp_sendto(a, "ping", 4, ETH_B_ADDR, 7), 4);
    ethpair_run_until(p, p->now + 100000);
    assert_true(events_seen & SK_EV_READABLE);
    char buf[16];
    uint32_t from;
    uint16_t port;
    assert_int_equal(sk_udp_recvfrom(b, buf, sizeof(buf), &from, &port), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(from, ETH_A_ADDR);
    assert_int_equal(port, sk_udp_port(a));
    assert_int_equal(sk_udp_sendto(b, "pong", 4, from, port), 4);
    ethpair_run_until(p, p->now + 100000);
    assert_int_equal(sk_udp_recvfrom(a, buf, sizeof(buf), NULL, NULL), 4);
    assert_memory_equal(buf, "pong", 4);
    assert_int_equal(sk_udp_recvfrom(a, buf, sizeof(buf), NULL, NULL), -EAGAIN);
    sk_udp_close(a);
    sk_udp_close(b);
    ethpair_free(p);
}

/* One socket per port; an oversize datagram is refused; bad arguments too. */
static void test_bind_and_send_errors(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    struct sk_udp *u, *v;
    assert_int_equal(sk_udp_bind(e->st, 53, &u), 0);
    assert_int_equal(sk_udp_bind(e->st, 53, &v), -EADDRINUSE);
    static uint8_t big[65508];
    assert_int_equal(sk_udp_sendto(u, big, sizeof(big), ETH_B_ADDR, 53), -EMSGSIZE);
    assert_int_equal(sk_udp_sendto(u, "x", 1, ETH_B_ADDR, 0), -EINVAL);
    sk_udp_close(u);
    assert_int_equal(sk_udp_bind(e->st, 53, &v), 0); /* free again */
    sk_udp_close(v);
    ethstack_free(e);
}

static void short_queue(struct sk_config *c)
{
    c->udp_rcvq_datagrams = 2;
}

/* Past udp_rcvq_datagrams the datagrams are dropped and counted; a read cut short returns the
 * whole length (like recvfrom with MSG_TRUNC); a bad checksum is dropped. */
static void test_queue_bound_truncation_checksum(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, short_queue);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 7, &u), 0);
    uint8_t d[64], p[128];
    size_t dn = fr_udp(d, ETH_B_ADDR, ETH_A_ADDR, 1000, 7, "0123456789", 10);
    size_t n = fr_ip(p, ETH_B_ADDR, ETH_A_ADDR, SK_IPPROTO_UDP, 1, 0, 0, d, dn);
    for (int i = 0; i < 3; i++)
        ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(sk_udp_pending(u), 2);
    assert_int_equal(ethstack_drops(e, SK_DROP_UDP_QUEUE_FULL), 1);
    char buf[4];
    assert_int_equal(sk_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 10);
    assert_memory_equal(buf, "0123", 4);
    p[n - 1] ^= 0xff; /* corrupt the data: the checksum no longer matches */
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(ethstack_drops(e, SK_DROP_UDP_CHECKSUM), 1);
    sk_udp_close(u);
    ethstack_free(e);
}

/* RFC 1122 §4.1.3.3: port unreachable from the peer is reported on the sending socket. */
static void test_port_unreachable_reported(void **state)
{
    (void)state;
    struct ethpair *p = ethpair_new(NULL);
    struct sk_udp *a;
    assert_int_equal(sk_udp_bind(p->a->st, 4000, &a), 0);
    events_seen = 0;
    sk_udp_set_callback(a, on_udp, NULL);
    assert_int_equal(sk_udp_sendto(a, "anyone?", 7, ETH_B_ADDR, 9), 7);
    ethpair_run_until(p, p->now + 100000);
    assert_true(events_seen & SK_EV_ERROR);
    assert_int_equal(sk_udp_error(a), -ECONNREFUSED);
    assert_int_equal(sk_udp_error(a), 0);
    sk_udp_close(a);
    ethpair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_over_link),
        cmocka_unit_test(test_bind_and_send_errors),
        cmocka_unit_test(test_queue_bound_truncation_checksum),
        cmocka_unit_test(test_port_unreachable_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
