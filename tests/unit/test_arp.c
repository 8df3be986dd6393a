/* ARP (RFC 826, RFC 1122 §2.3.2) on an Ethernet stack: replies, learning, resolution with a
 * queue, retries and their deadline, the queue bound, the gratuitous announcement, and two
 * stacks finding each other and talking TCP over the in-memory link. */
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

#define PEER ETH_B_ADDR

static struct sk_arp arp_of(const struct cap_frame *f)
{
    struct sk_arp a;
    assert_int_equal(sk_get16(f->data + 12), SK_ETHERTYPE_ARP);
    assert_int_equal(sk_arp_parse(f->data + 14, f->len - 14, &a), 0);
    return a;
}

/* RFC 826: a request for our address gets a reply to the requester, and the requester is
 * learned: a datagram to it then leaves at once, with its MAC, without a request of ours. */
static void test_reply_and_learn(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    uint8_t p[64];
    size_t n = fr_arp(p, SK_ARP_REQUEST, MAC_B, PEER, (const uint8_t[6]){0}, ETH_A_ADDR);
    ethstack_input(e, SK_ETHERTYPE_ARP, p, n);
    assert_int_equal(e->nout, 1);
    struct sk_arp a = arp_of(&e->out[0]);
    assert_int_equal(a.op, SK_ARP_REPLY);
    assert_memory_equal(a.sha, MAC_A, 6);
    assert_int_equal(a.spa, ETH_A_ADDR);
    assert_memory_equal(a.tha, MAC_B, 6);
    assert_int_equal(a.tpa, PEER);
    assert_memory_equal(e->out[0].data, MAC_B, 6); /* unicast to the requester */

    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    assert_int_equal(sk_udp_sendto(u, "hi", 2, PEER, 7), 2);
    assert_int_equal(e->nout, 2);
    assert_memory_equal(e->out[1].data, MAC_B, 6);
    assert_int_equal(sk_get16(e->out[1].data + 12), SK_ETHERTYPE_IPV4);
    sk_udp_close(u);
    ethstack_free(e);
}

/* A request for someone else's address is not answered, and counted. */
static void test_request_for_other_not_answered(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    uint8_t p[64];
    size_t n = fr_arp(p, SK_ARP_REQUEST, MAC_B, PEER, (const uint8_t[6]){0}, 0x0a4d0009);
    ethstack_input(e, SK_ETHERTYPE_ARP, p, n);
    assert_int_equal(e->nout, 0);
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_NOT_FOR_US), 1);
    ethstack_free(e);
}

/* Resolution: the datagram waits (copied) while a broadcast request is out; the reply sends
 * it with the answered MAC. */
static void test_resolution_queues_then_flushes(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    assert_int_equal(sk_udp_sendto(u, "one", 3, PEER, 7), 3);
    assert_int_equal(sk_udp_sendto(u, "two", 3, PEER, 7), 3);
    assert_int_equal(e->nout, 1); /* only the request */
    assert_memory_equal(e->out[0].data, MAC_BCAST, 6);
    struct sk_arp a = arp_of(&e->out[0]);
    assert_int_equal(a.op, SK_ARP_REQUEST);
    assert_int_equal(a.tpa, PEER);

    uint8_t p[64];
    size_t n = fr_arp(p, SK_ARP_REPLY, MAC_B, PEER, MAC_A, ETH_A_ADDR);
    ethstack_input(e, SK_ETHERTYPE_ARP, p, n);
    assert_int_equal(e->nout, 3);
    for (int i = 1; i <= 2; i++) {
        assert_memory_equal(e->out[i].data, MAC_B, 6);
        assert_memory_equal(e->out[i].data + 14 + 28, i == 1 ? "one" : "two", 3);
    }
    sk_udp_close(u);
    ethstack_free(e);
}

/* No answer: the request is repeated every arp_retry_us (the stack's deadline says when),
 * arp_retries times, then the waiting datagram is dropped and counted. */
static void test_retries_then_unresolved(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    sk_udp_sendto(u, "x", 1, PEER, 7);
    assert_int_equal(e->nout, 1);
    assert_int_equal(sk_stack_next_deadline(e->st), e->now + 1000000);
    ethstack_run_until(e, e->now + 10000000);
    assert_int_equal(e->nout, 4); /* the request and 3 retries, 1 s apart */
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_UNRESOLVED), 1);
    assert_int_equal(sk_stack_next_deadline(e->st), SK_TIME_NEVER);
    sk_udp_close(u);
    ethstack_free(e);
}

static void small_queue(struct sk_config *c)
{
    c->arp_queue_bytes = 100;
}

/* The queue holds at most arp_queue_bytes; beyond, datagrams are dropped and counted. */
static void test_queue_bounded(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, small_queue);
    struct sk_udp *u;
    uint8_t data[40] = {0};
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    for (int i = 0; i < 3; i++)
        sk_udp_sendto(u, data, sizeof(data), PEER, 7); /* 68 bytes each */
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_QUEUE_FULL), 2);
    sk_udp_close(u);
    ethstack_free(e);
}

/* RFC 5227 §3: the announcement is a broadcast request with our address as sender and
 * target. */
static void test_announce(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    sk_stack_announce(e->st);
    assert_int_equal(e->nout, 1);
    assert_memory_equal(e->out[0].data, MAC_BCAST, 6);
    struct sk_arp a = arp_of(&e->out[0]);
    assert_int_equal(a.op, SK_ARP_REQUEST);
    assert_int_equal(a.spa, ETH_A_ADDR);
    assert_int_equal(a.tpa, ETH_A_ADDR);
    ethstack_free(e);
}

static struct sk_stack_counters counters_of(struct sk_stack *st)
{
    struct sk_stack_counters k;
    sk_stack_counters(st, &k);
    return k;
}

/* Frames to another MAC are dropped; without a gateway an off-link destination has no route. */
static void test_not_for_us_and_no_route(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    uint8_t f[64] = {0};
    fr_eth(f, (const uint8_t[6]){0x02, 9, 9, 9, 9, 9}, MAC_B, SK_ETHERTYPE_IPV4);
    sk_stack_input(e->st, f, 60, e->now);
    assert_int_equal(ethstack_drops(e, SK_DROP_LINK_NOT_FOR_US), 1);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    assert_int_equal(sk_udp_sendto(u, "x", 1, 0x08080808, 53), -EHOSTUNREACH);
    assert_int_equal(ethstack_drops(e, SK_DROP_OUT_NO_ROUTE), 1);
    sk_udp_close(u);
    /* TCP says so at connect() (RFC 1122 §3.3.1.1), before any SYN, and creates nothing. */
    struct sk_tcp *c = NULL;
    uint64_t out_before = counters_of(e->st).frames_out;
    assert_int_equal(sk_tcp_connect(e->st, 0, 0x08080808, 80, &c), -EHOSTUNREACH);
    assert_null(c);
    assert_int_equal(counters_of(e->st).frames_out, out_before);
    assert_int_equal(counters_of(e->st).connections, 0);
    ethstack_free(e);
}

/* Two Ethernet stacks on the in-memory link: the SYN waits for ARP, then the handshake and
 * the data go through. */
static void test_two_stacks_tcp(void **state)
{
    (void)state;
    struct ethpair *p = ethpair_new(NULL);
    struct sk_tcp *l, *c, *s;
    assert_int_equal(sk_tcp_listen(p->b->st, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_connect(p->a->st, 0, ETH_B_ADDR, 80, &c), 0);
    ethpair_run_until(p, p->now + 100000);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    assert_int_equal(sk_tcp_send(c, "hello", 5), 5);
    ethpair_run_until(p, p->now + 100000);
    char buf[8];
    assert_int_equal(sk_tcp_recv(s, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    struct sk_stack_counters ca = ethstack_counters(p->a);
    assert_int_equal(ca.arp_out, 1);
    sk_tcp_abort(c);
    sk_tcp_abort(s);
    sk_tcp_close(l);
    ethpair_free(p);
}

/* A flood of datagrams towards one silent neighbour: arp_queue_per_entry (16) wait, the rest
 * are dropped and counted, and a second neighbour still finds room; each answer sends exactly
 * its own neighbour's packets, in order. */
static void test_pending_per_neighbour_bounded(void **state)
{
    (void)state;
    const uint32_t other = 0x0a4d0007u; /* 10.77.0.7 */
    const uint8_t mac_other[6] = {2, 0, 0, 0, 0, 7};
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    for (uint8_t i = 0; i < 100; i++)
        sk_udp_sendto(u, &i, 1, PEER, 7);
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_QUEUE_FULL), 100 - 16);
    for (uint8_t i = 0; i < 3; i++)
        sk_udp_sendto(u, &i, 1, other, 7);
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_QUEUE_FULL), 100 - 16);
    e->nout = 0;
    uint8_t p[64];
    size_t n = fr_arp(p, SK_ARP_REPLY, MAC_B, PEER, MAC_A, ETH_A_ADDR);
    ethstack_input(e, SK_ETHERTYPE_ARP, p, n);
    assert_int_equal(e->nout, 16);
    for (uint8_t i = 0; i < 16; i++) {
        assert_memory_equal(e->out[i].data, MAC_B, 6);
        assert_int_equal(e->out[i].data[14 + 28], i);
    }
    n = fr_arp(p, SK_ARP_REPLY, mac_other, other, MAC_A, ETH_A_ADDR);
    ethstack_input(e, SK_ETHERTYPE_ARP, p, n);
    assert_int_equal(e->nout, 19);
    assert_memory_equal(e->out[16].data, mac_other, 6);
    sk_udp_close(u);
    ethstack_free(e);
}

/* One datagram to each of 100 addresses nobody answers: the cache holds arp_cache_entries
 * (64), each newcomer past that replaces the least recently used entry (36 counted) and the
 * packet that waited there is dropped as unresolved. */
static void test_cache_bounded(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 5000, &u), 0);
    for (uint32_t i = 0; i < 100; i++)
        sk_udp_sendto(u, "x", 1, 0x0a4d0000u + 10 + i, 7);
    assert_int_equal(ethstack_counters(e).arp_cache_evicted, 36);
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_UNRESOLVED), 36);
    assert_int_equal(ethstack_drops(e, SK_DROP_ARP_QUEUE_FULL), 0);
    sk_udp_close(u);
    ethstack_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_and_learn),
        cmocka_unit_test(test_request_for_other_not_answered),
        cmocka_unit_test(test_resolution_queues_then_flushes),
        cmocka_unit_test(test_retries_then_unresolved),
        cmocka_unit_test(test_queue_bounded),
        cmocka_unit_test(test_announce),
        cmocka_unit_test(test_not_for_us_and_no_route),
        cmocka_unit_test(test_two_stacks_tcp),
        cmocka_unit_test(test_pending_per_neighbour_bounded),
        cmocka_unit_test(test_cache_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
