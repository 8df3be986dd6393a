/* IPv4 fragmentation (RFC 791 §3.2) and reassembly with RFC 815 holes: a large UDP datagram
 * crosses the in-memory link in fragments; fragments in any order reassemble; overlaps drop
 * the whole datagram, duplicates only themselves; time, memory and hole limits hold. */
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

#define MF 0x2000
#define PEER ETH_B_ADDR

static uint8_t dgram[4008];   /* a UDP datagram of 4000 data bytes, from PEER to A */
static size_t dgram_len;

static void make_dgram(void)
{
    uint8_t data[4000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    dgram_len = fr_udp(dgram, PEER, ETH_A_ADDR, 9999, 7, data, sizeof(data));
}

/* Sends bytes [off, off+len) of dgram as a fragment of datagram id. */
static void frag(struct ethstack *e, uint16_t id, size_t off, size_t len)
{
    uint8_t p[4100];
    bool more = off + len < dgram_len;
    size_t n = fr_ip(p, PEER, ETH_A_ADDR, SK_IPPROTO_UDP, id, more ? MF : 0, (uint16_t)off,
                     dgram + off, len);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
}

static struct ethstack *receiver(struct sk_udp **u)
{
    make_dgram();
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    assert_int_equal(sk_udp_bind(e->st, 7, u), 0);
    return e;
}

static void expect_whole(struct sk_udp *u)
{
    uint8_t buf[5000];
    assert_int_equal(sk_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 4000);
    assert_memory_equal(buf, dgram + 8, 4000);
}

/* A 4000-byte datagram leaves A in three fragments (1480 + 1480 + 1048 bytes) and B puts it
 * back together. */
static void test_fragment_and_reassemble_over_link(void **state)
{
    (void)state;
    make_dgram();
    struct ethpair *p = ethpair_new(NULL);
    struct sk_udp *ua, *ub;
    assert_int_equal(sk_udp_bind(p->a->st, 5000, &ua), 0);
    assert_int_equal(sk_udp_bind(p->b->st, 7, &ub), 0);
    assert_int_equal(sk_udp_sendto(ua, dgram + 8, 4000, ETH_B_ADDR, 7), 4000);
    ethpair_run_until(p, p->now + 100000);
    assert_int_equal(ethstack_counters(p->a).ip_frags_out, 3);
    assert_int_equal(ethstack_counters(p->b).ip_reassembled, 1);
    uint8_t buf[5000];
    assert_int_equal(sk_udp_recvfrom(ub, buf, sizeof(buf), NULL, NULL), 4000);
    assert_memory_equal(buf, dgram + 8, 4000);
    sk_udp_close(ua);
    sk_udp_close(ub);
    ethpair_free(p);
}

/* Fragments arriving last-first and out of order fill the holes all the same. */
static void test_any_order(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    frag(e, 1, 3200, dgram_len - 3200);
    frag(e, 1, 800, 800);
    frag(e, 1, 2400, 800);
    frag(e, 1, 0, 800);
    assert_int_equal(sk_udp_pending(u), 0);
    frag(e, 1, 1600, 800);
    expect_whole(u);
    sk_udp_close(u);
    ethstack_free(e);
}

/* A fragment overlapping bytes already held discards the whole datagram (RFC 5722 style):
 * the rest of it then never completes. */
static void test_overlap_drops_datagram(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    frag(e, 2, 0, 800);
    frag(e, 2, 400, 800); /* overlaps [400, 800) */
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_OVERLAP), 1);
    frag(e, 2, 800, 1480);
    frag(e, 2, 2280, 1480);
    frag(e, 2, 3760, dgram_len - 3760);
    assert_int_equal(sk_udp_pending(u), 0);
    sk_udp_close(u);
    ethstack_free(e);
}

/* The same fragment twice: the copy is dropped alone, the datagram completes. */
static void test_duplicate_dropped_alone(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    frag(e, 3, 0, 1480);
    frag(e, 3, 0, 1480);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_DUP), 1);
    frag(e, 3, 1480, 1480);
    frag(e, 3, 2960, dgram_len - 2960);
    expect_whole(u);
    sk_udp_close(u);
    ethstack_free(e);
}

/* An incomplete datagram expires ipfrag_timeout_us (30 s) after its first fragment, at the
 * deadline the stack reports. */
static void test_timeout(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    sk_time_us t0 = e->now;
    frag(e, 4, 0, 800);
    assert_int_equal(sk_stack_next_deadline(e->st), t0 + 30000000);
    ethstack_run_until(e, t0 + 29999999);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 0);
    ethstack_run_until(e, t0 + 30000000);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 1);
    assert_int_equal(sk_stack_next_deadline(e->st), SK_TIME_NEVER);
    sk_udp_close(u);
    ethstack_free(e);
}

/* A flood of first fragments never holds more than ipfrag_max_datagrams; the oldest are
 * evicted (counted) and a datagram sent afterwards still gets through. */
static void test_flood_bounded(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    for (uint16_t id = 100; id < 300; id++)
        frag(e, id, 0, 1480);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_LIMIT), 200 - 64);
    frag(e, 7, 0, 1480);
    frag(e, 7, 1480, 1480);
    frag(e, 7, 2960, dgram_len - 2960);
    expect_whole(u);
    sk_udp_close(u);
    ethstack_free(e);
}

/* A fragment that would end past 65535 bytes, and one with MF whose length is not a multiple
 * of 8, are invalid. */
static void test_invalid_fragments(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    uint8_t p[100];
    size_t n = fr_ip(p, PEER, ETH_A_ADDR, SK_IPPROTO_UDP, 9, 0, 65528, dgram, 16);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    n = fr_ip(p, PEER, ETH_A_ADDR, SK_IPPROTO_UDP, 9, MF, 0, dgram, 13);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, n);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_INVALID), 2);
    sk_udp_close(u);
    ethstack_free(e);
}

/* Every other 8-byte piece: more than 16 holes discards the datagram. */
static void test_hole_limit(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    for (size_t off = 0; off < 40 * 16; off += 16)
        frag(e, 10, off, 8);
    assert_true(ethstack_drops(e, SK_DROP_IP_REASM_LIMIT) >= 1);
    sk_udp_close(u);
    ethstack_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragment_and_reassemble_over_link),
        cmocka_unit_test(test_any_order),
        cmocka_unit_test(test_overlap_drops_datagram),
        cmocka_unit_test(test_duplicate_dropped_alone),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_flood_bounded),
        cmocka_unit_test(test_invalid_fragments),
        cmocka_unit_test(test_hole_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
