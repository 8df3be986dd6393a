/* IPv6 reassembly (RFC 8200 §4.5) through sk_ip6frag_input, the same mechanism and budget as
 * IPv4's: fragments built here by hand from one original packet, and the reassembled packet
 * compared with that original byte for byte (RFC 8200 §4.5's rules rebuild it exactly: the
 * unfragmentable part of the first fragment, its last Next Header from the Fragment header,
 * the payload length of the whole). Overlaps (RFC 5722), duplicates, atomic fragments (RFC
 * 6946), the 60 s timeout beside IPv4's 30 s, and the shared datagram limit. (RFC 7112's
 * incomplete first fragment is refused by the walk: test_wire_ipv6.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ip/ip_int.h"
#include "ipframes.h"
#include "synack/synack.h"
#include "wire/wire.h"

#define ID 0xdeadbeefu
#define UNFRAG 48                 /* fixed header + an 8-byte Hop-by-Hop header */
#define DATA 3000
#define ORIG_LEN (UNFRAG + 8 + DATA) /* then UDP: header and data */
#define FRAG_A 1232               /* the first two fragments' data, multiples of 8 */

/* The original packet: 2001:db8::1 -> 2001:db8::2, Hop-by-Hop (PadN) then UDP. */
static uint8_t orig[ORIG_LEN];

static void make_orig(void)
{
    memset(orig, 0, sizeof(orig));
    orig[0] = 0x60;
    sk_put16(orig + 4, ORIG_LEN - 40);
    orig[6] = SK_IPPROTO_HOPOPTS;
    orig[7] = 64;
    orig[8] = 0x20, orig[9] = 0x01, orig[10] = 0x0d, orig[11] = 0xb8, orig[23] = 1;
    orig[24] = 0x20, orig[25] = 0x01, orig[26] = 0x0d, orig[27] = 0xb8, orig[39] = 2;
    orig[40] = SK_IPPROTO_UDP; /* Hop-by-Hop: next, length 0, PadN of 4 */
    orig[42] = 1;
    orig[43] = 4;
    sk_put16(orig + 48, 1000);
    sk_put16(orig + 50, 7);
    sk_put16(orig + 52, 8 + DATA);
    sk_put16(orig + 54, 0x1234); /* not checked by reassembly */
    for (size_t i = 0; i < DATA; i++)
        orig[56 + i] = (uint8_t)(i * 13 + 5);
}

/* RFC 8200 §4.5's fragment packet: the unfragmentable part with the Hop-by-Hop's Next Header
 * changed to 44, the Fragment header (next 17, offset, M, id), then bytes [off, off+len) of
 * the fragmentable part (orig from UNFRAG on). */
static size_t make_frag(uint8_t *p, uint32_t id, size_t off, size_t len, bool more)
{
    memcpy(p, orig, UNFRAG);
    p[40] = SK_IPPROTO_FRAGMENT;
    uint8_t *f = p + UNFRAG;
    f[0] = SK_IPPROTO_UDP;
    f[1] = 0;
    sk_put16(f + 2, (uint16_t)(off | (more ? 1 : 0)));
    sk_put32(f + 4, id);
    memcpy(f + 8, orig + UNFRAG + off, len);
    sk_put16(p + 4, (uint16_t)(UNFRAG + 8 + len - 40));
    return UNFRAG + 8 + len;
}

struct result {
    bool done;
    uint8_t bytes[ORIG_LEN + 64];
    size_t len;
    bool same_as_input;
};

/* Parses, walks and hands one packet to sk_ip6frag_input, as the IPv6 layer will. */
static struct result feed_pkt(struct ethstack *e, const uint8_t *p, size_t n)
{
    struct result r = {0};
    struct sk_ipv6_hdr h;
    struct sk_ip6_ext x;
    assert_int_equal(sk_ipv6_parse(p, n, &h), SK_DROP_NONE);
    assert_int_equal(sk_ip6_ext_walk(p, 40 + h.payload_len, &x), SK_DROP_NONE);
    assert_true(x.has_frag);
    const uint8_t *out = NULL;
    size_t out_len = 0;
    struct frag_dgram *d = NULL;
    r.done = sk_ip6frag_input(e->st, p, 40 + h.payload_len, &x, p, n, &out, &out_len, &d);
    if (r.done) {
        assert_true(out_len <= sizeof(r.bytes));
        memcpy(r.bytes, out, out_len);
        r.len = out_len;
        r.same_as_input = out == p;
        sk_ipfrag_release(e->st, d);
    }
    return r;
}

static struct result feed(struct ethstack *e, uint32_t id, size_t off, size_t len, bool more)
{
    uint8_t p[ORIG_LEN + 64];
    return feed_pkt(e, p, make_frag(p, id, off, len, more));
}

static void expect_orig(const struct result *r)
{
    assert_true(r->done);
    assert_int_equal(r->len, ORIG_LEN);
    assert_memory_equal(r->bytes, orig, ORIG_LEN);
}

static struct ethstack *stack(void (*tweak)(struct sk_config *))
{
    make_orig();
    return ethstack_new(ETH_A_ADDR, MAC_A, tweak);
}

static void test_in_order(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    assert_false(feed(e, ID, FRAG_A, FRAG_A, true).done);
    assert_true(ethstack_counters(e).ip_reasm_bytes > 0);
    struct result r = feed(e, ID, 2 * FRAG_A, DATA + 8 - 2 * FRAG_A, false);
    expect_orig(&r);
    assert_int_equal(ethstack_counters(e).ip_reassembled, 1);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    ethstack_free(e);
}

static void test_any_order(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    assert_false(feed(e, ID, 2 * FRAG_A, DATA + 8 - 2 * FRAG_A, false).done);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    struct result r = feed(e, ID, FRAG_A, FRAG_A, true);
    expect_orig(&r);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    ethstack_free(e);
}

/* RFC 5722 §4: an overlapping fragment discards the whole datagram; what comes after starts
 * a new one, which the lost bytes never complete. */
static void test_overlap_discards_datagram(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    assert_false(feed(e, ID, FRAG_A - 8, FRAG_A, true).done); /* 8 bytes over the first */
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_OVERLAP), 1);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    assert_false(feed(e, ID, FRAG_A, FRAG_A, true).done);
    assert_false(feed(e, ID, 2 * FRAG_A, DATA + 8 - 2 * FRAG_A, false).done);
    assert_int_equal(ethstack_counters(e).ip_reassembled, 0);
    ethstack_free(e);
}

/* An exact duplicate goes alone; the datagram completes. */
static void test_duplicate_dropped_alone(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_DUP), 1);
    assert_false(feed(e, ID, FRAG_A, FRAG_A, true).done);
    struct result r = feed(e, ID, 2 * FRAG_A, DATA + 8 - 2 * FRAG_A, false);
    expect_orig(&r);
    ethstack_free(e);
}

/* RFC 6946 §4: an atomic fragment (offset 0, M 0) is its own packet, handed back at once,
 * and a queued datagram with the same identification neither absorbs nor loses by it. */
static void test_atomic_fragment_in_isolation(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    size_t held = ethstack_counters(e).ip_reasm_bytes;
    uint8_t p[ORIG_LEN + 64];
    size_t n = make_frag(p, ID, 0, DATA + 8, false);
    struct result a = feed_pkt(e, p, n);
    assert_true(a.done);
    assert_true(a.same_as_input);
    assert_int_equal(a.len, n);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, held);
    assert_int_equal(ethstack_counters(e).ip_reassembled, 0);
    /* The queued datagram completes as if the atomic one had never come. */
    assert_false(feed(e, ID, FRAG_A, FRAG_A, true).done);
    struct result r = feed(e, ID, 2 * FRAG_A, DATA + 8 - 2 * FRAG_A, false);
    expect_orig(&r);
    ethstack_free(e);
}

/* Two different ends, or data past the end, make the datagram invalid (the whole of it). */
static void test_second_end_invalid(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    assert_false(feed(e, ID, FRAG_A, FRAG_A, false).done);     /* ends at 2 * FRAG_A */
    assert_false(feed(e, ID, 2 * FRAG_A, 8, false).done);      /* ends 8 bytes later */
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_INVALID), 1);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    assert_false(feed(e, ID, FRAG_A, FRAG_A, false).done);
    assert_false(feed(e, ID, 2 * FRAG_A, 8, true).done);       /* more data past the end */
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_INVALID), 2);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    ethstack_free(e);
}

/* RFC 8200 §4.5: 60 s from the first fragment; IPv4's 30 s still holds beside it (a younger
 * IPv4 datagram behind an older IPv6 one expires first). */
static void test_timeout_60s_beside_ipv4(void **state)
{
    (void)state;
    struct ethstack *e = stack(NULL);
    sk_time_us t0 = e->now;
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    ethstack_run_until(e, t0 + 1000000);
    uint8_t d4[64] = {0};
    uint8_t p4[128];
    size_t n4 = fr_ip(p4, ETH_B_ADDR, ETH_A_ADDR, SK_IPPROTO_UDP, 77, 0x2000, 0, d4, 16);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p4, n4);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 0);
    ethstack_run_until(e, t0 + 1000000 + 30000000);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 1); /* the IPv4 one */
    ethstack_run_until(e, t0 + 60000000 - 1);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 1);
    assert_true(ethstack_counters(e).ip_reasm_bytes > 0);
    ethstack_run_until(e, t0 + 60000000);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 2);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    ethstack_free(e);
}

static void two_datagrams(struct sk_config *c)
{
    c->ipfrag_max_datagrams = 2;
}

/* One budget for both families: with room for two datagrams, an IPv4 one and an IPv6 one
 * fill it and a third (IPv6) evicts the oldest, the IPv4 one. */
static void test_shared_datagram_limit(void **state)
{
    (void)state;
    struct ethstack *e = stack(two_datagrams);
    uint8_t d4[64] = {0};
    uint8_t p4[128];
    size_t n4 = fr_ip(p4, ETH_B_ADDR, ETH_A_ADDR, SK_IPPROTO_UDP, 77, 0x2000, 0, d4, 16);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p4, n4);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    assert_int_equal(ethstack_counters(e).ip_reasm_evicted, 0);
    assert_false(feed(e, ID + 1, 0, FRAG_A, true).done);
    assert_int_equal(ethstack_counters(e).ip_reasm_evicted, 1);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_LIMIT), 1);
    /* Both IPv6 datagrams are still there: ID completes. */
    assert_false(feed(e, ID, FRAG_A, FRAG_A, true).done);
    struct result r = feed(e, ID, 2 * FRAG_A, DATA + 8 - 2 * FRAG_A, false);
    expect_orig(&r);
    ethstack_free(e);
}

/* Our side of the test packets: 2001:db8::2/64 on a bare-IP link, no DAD. */
static void ipv6_bare_ip(struct sk_config *c)
{
    c->link_type = SK_LINK_IP;
    c->ip6 = true;
    c->ip6_dad_transmits = 0;
    c->addr6_count = 1;
    memset(&c->addr6[0], 0, sizeof(c->addr6[0]));
    memcpy(c->addr6[0].addr, orig + 24, 16);
    c->addr6[0].prefix_len = 64;
}

/* RFC 8200 §4.5: the datagram abandoned after its offset-0 fragment came earns its source a
 * Time Exceeded, code 1 (RFC 4443 §3.3), quoting that fragment as it came; one abandoned
 * without its offset-0 fragment earns nothing. */
static void test_timeout_time_exceeded(void **state)
{
    (void)state;
    struct ethstack *e = stack(ipv6_bare_ip);
    uint8_t first[ORIG_LEN + 64];
    size_t n = make_frag(first, ID, 0, FRAG_A, true);
    assert_false(feed_pkt(e, first, n).done);
    assert_false(feed(e, ID + 1, FRAG_A, FRAG_A, true).done); /* no offset 0: no error */
    e->nout = 0;
    ethstack_run_until(e, e->now + 60000000);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_TIMEOUT), 2);
    assert_int_equal(e->nout, 1);
    const uint8_t *o = e->out[0].data;
    size_t len = e->out[0].len;
    /* 40 + 8 + the fragment whole (1288 bytes) would pass 1280: the quote is cut there. */
    assert_int_equal(len, 1280);
    assert_int_equal(o[0] >> 4, 6);
    assert_int_equal(o[6], SK_IPPROTO_ICMPV6);
    assert_memory_equal(o + 8, orig + 24, 16);  /* from us */
    assert_memory_equal(o + 24, orig + 8, 16);  /* to the fragment's source */
    assert_int_equal(o[40], SK_ICMP6_TIME_EXCEEDED);
    assert_int_equal(o[41], 1);
    assert_int_equal(sk_get32(o + 44), 0);
    assert_memory_equal(o + 48, first, 1280 - 48);
    struct sk_addr us, them;
    memcpy(us.b, o + 8, 16);
    memcpy(them.b, o + 24, 16);
    struct sk_icmp6_hdr h;
    assert_int_equal(sk_icmp6_parse(o + 40, len - 40, &us, &them, &h), SK_DROP_NONE);
    ethstack_free(e);
}

static void reassembly_off(struct sk_config *c)
{
    c->ipfrag_max_bytes = 0;
}

static void test_reassembly_off(void **state)
{
    (void)state;
    struct ethstack *e = stack(reassembly_off);
    assert_false(feed(e, ID, 0, FRAG_A, true).done);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAGMENT), 1);
    ethstack_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_any_order),
        cmocka_unit_test(test_overlap_discards_datagram),
        cmocka_unit_test(test_duplicate_dropped_alone),
        cmocka_unit_test(test_atomic_fragment_in_isolation),
        cmocka_unit_test(test_second_end_invalid),
        cmocka_unit_test(test_timeout_60s_beside_ipv4),
        cmocka_unit_test(test_shared_datagram_limit),
        cmocka_unit_test(test_timeout_time_exceeded),
        cmocka_unit_test(test_reassembly_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
