/* The keyed hashes over an address pair, for both families (issue 13): the ISN (RFC 6528), the
 * timestamp offset (RFC 7323 §5.4) and SYN cookies (RFC 4987) take the bytes docs/api.md lays
 * out ("Addresses of both families"). Expected values come from tests/ref (SipHash written from
 * its paper, the layouts written from the documentation), never from the stack: IPv4 through
 * an IPv4-mapped struct sk_addr must give exactly what the IPv4 reference gave before IPv6,
 * IPv6 the 36- and 32-byte layouts. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "internal.h"
#include "tcp/tcp_int.h"
#include "../ref/ref_isn.h"

#define NOW_US 123456789ull

/* 2001:db8::1 and 2001:db8::2 (RFC 3849's documentation prefix). */
static const uint8_t V6_A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t V6_B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static struct raw *new_stack(struct ref_key *key)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    ref_isn_config(&cfg, key, 7);
    struct raw *r = raw_new_at(&cfg, NOW_US);
    assert_non_null(r);
    return r;
}

static struct sk_addr v6(const uint8_t b[16])
{
    struct sk_addr a;
    memcpy(a.b, b, 16);
    return a;
}

/* IPv4 held IPv4-mapped hashes as the uint32_t array it always was. */
static void test_v4_mapped_isn_and_offset_unchanged(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = new_stack(&key);
    struct sk_stack *st = r->st;
    struct sk_addr a = sk_addr_from_v4(ADDR_A), b = sk_addr_from_v4(ADDR_B);
    assert_int_equal(sk_tcp_isn(st, &a, 40000, &b, 80),
                     ref_isn(&key, ADDR_A, 40000, ADDR_B, 80, NOW_US));
    assert_int_equal(sk_tcp_ts_offset(st, &a, &b), ref_ts_offset(&key, ADDR_A, ADDR_B));
    /* The pair's bytes themselves: {laddr, raddr, tail} as host-order uint32_t. */
    uint32_t tail = 0x12345678u, want[3] = {ADDR_A, ADDR_B, tail};
    uint8_t got[SK_PAIR_KEY_MAX];
    assert_int_equal(sk_pair_key(&a, &b, &tail, 1, got), sizeof(want));
    assert_memory_equal(got, want, sizeof(want));
    raw_free(r);
}

/* IPv6: 36 bytes for the ISN, 32 for the offset; the order of the addresses matters. */
static void test_v6_isn_and_offset_layout(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = new_stack(&key);
    struct sk_stack *st = r->st;
    struct sk_addr a = v6(V6_A), b = v6(V6_B);
    assert_int_equal(sk_tcp_isn(st, &a, 40000, &b, 80),
                     ref_isn6(&key, V6_A, 40000, V6_B, 80, NOW_US));
    assert_int_equal(sk_tcp_isn(st, &b, 80, &a, 40000),
                     ref_isn6(&key, V6_B, 80, V6_A, 40000, NOW_US));
    assert_int_equal(sk_tcp_ts_offset(st, &a, &b), ref_ts_offset6(&key, V6_A, V6_B));
    assert_int_not_equal(sk_tcp_ts_offset(st, &a, &b), sk_tcp_ts_offset(st, &b, &a));
    uint8_t got[SK_PAIR_KEY_MAX];
    assert_int_equal(sk_pair_key(&a, &b, NULL, 0, got), 32);
    assert_memory_equal(got, V6_A, 16);
    assert_memory_equal(got + 16, V6_B, 16);
    raw_free(r);
}

/* A mixed pair (never a real connection, but a table key may meet one) takes the IPv6 form:
 * the IPv4-mapped address's 16 bytes as they are. */
static void test_mixed_pair_is_sixteen_bytes_each(void **state)
{
    (void)state;
    struct sk_addr a = sk_addr_from_v4(ADDR_A), b = v6(V6_B);
    uint8_t got[SK_PAIR_KEY_MAX];
    uint32_t tail = 1;
    assert_int_equal(sk_pair_key(&a, &b, &tail, 1, got), 36);
    assert_memory_equal(got, a.b, 16);
    assert_memory_equal(got + 16, V6_B, 16);
    assert_memory_equal(got + 32, &tail, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_mapped_isn_and_offset_unchanged),
        cmocka_unit_test(test_v6_isn_and_offset_layout),
        cmocka_unit_test(test_mixed_pair_is_sixteen_bytes_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
