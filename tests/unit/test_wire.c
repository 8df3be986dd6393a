/* Wire layer: the Internet checksum, Ethernet, ARP, IPv4, ICMPv4 and UDP.
 * Every parser: known-good bytes, round trip parse(emit(x)) == x, and each malformed input
 * returning its documented drop reason. TCP is in test_wire_tcp.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "ref_csum.h"

#include "wire/wire.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SRC IP(10, 0, 0, 1)
#define DST IP(10, 0, 0, 2)

/* ---- Checksum ---- */

static uint64_t rng_state;
static uint32_t rng(void)
{
    /* xorshift64*: deterministic from the printed seed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (0x2ddf0 before the carry fold). */
static void test_csum_rfc1071_example(void **state)
{
    (void)state;
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(sk_csum_fold(sk_csum_add(0, b, sizeof(b))), (uint16_t)~0xddf2);
    assert_int_equal(sk_csum_fold(sk_csum_add(0, b, sizeof(b))), 0x220d);
}

static void test_csum_fold_edges(void **state)
{
    (void)state;
    assert_int_equal(sk_csum_fold(0), 0xffff);
    assert_int_equal(sk_csum_fold(0xffff), 0);
    assert_int_equal(sk_csum_fold(0x1fffe), 0);         /* fffe + 1 */
    assert_int_equal(sk_csum_fold(0xffffffffu), 0);     /* ffff + ffff = 1fffe -> ffff */
    assert_int_equal(sk_csum_add(0, NULL, 0), 0);
    assert_int_equal(sk_csum_add(1234, "x", 0), 1234);
}

/* The word-at-a-time sum equals the byte-wise reference for every length 0..600 and a few
 * large ones, at every start offset 0..7 (unaligned loads), with a random initial sum. */
static void test_csum_matches_reference(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed0001;
    rng_state = seed;
    static uint8_t buf[65536 + 16];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rng();
    const size_t big[] = {1499, 1500, 4095, 9000, 65535, 65536};
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len <= 600 + sizeof(big) / sizeof(big[0]); len++) {
            size_t n = len <= 600 ? len : big[len - 601];
            uint32_t init = rng();
            if (rng() & 1)
                init &= 0xffff;
            uint16_t got = sk_csum_fold(sk_csum_add(init, buf + off, n));
            uint16_t want = ref_csum(init, buf + off, n);
            if (got != want)
                fail_msg("seed %#llx off %zu len %zu: %#x != %#x", (unsigned long long)seed, off, n,
                         got, want);
        }
    }
}

/* The fused copy and sum (sk_csum_copy): the bytes arrive unchanged and nothing beyond them
 * is written, and the sum is RFC 1071's, for random lengths, source and destination
 * alignments, and spans split at odd offsets (sk_csum_at_odd, as a wrapping ring splits). */
static void test_csum_copy_matches_reference(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed0c09;
    rng_state = seed;
    static uint8_t src[65536 + 16], dst[65536 + 32];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)rng();
    for (int round = 0; round < 3000; round++) {
        size_t n = round < 2000 ? rng() % 2048 : rng() % 65536;
        size_t so = rng() % 16, doff = 8 + rng() % 16;
        uint32_t init = rng() & 0xffff;
        memset(dst, 0xa5, sizeof(dst));
        uint16_t got = sk_csum_fold(sk_csum_copy(dst + doff, src + so, n, init));
        uint16_t want = ref_csum(init, src + so, n);
        if (got != want || memcmp(dst + doff, src + so, n) != 0 || dst[doff - 1] != 0xa5 ||
            dst[doff + n] != 0xa5)
            fail_msg("seed %#llx round %d len %zu: %#x != %#x", (unsigned long long)seed, round, n,
                     got, want);
        /* The same bytes as two spans, the second starting at offset k (odd or even). */
        size_t k = n ? rng() % (n + 1) : 0;
        uint32_t a = sk_csum_copy(dst, src + so, k, init);
        uint32_t b = sk_csum_copy(dst + k, src + so + k, n - k, 0);
        uint32_t both = sk_csum_combine(a, (k & 1) ? sk_csum_at_odd(b) : b);
        if (sk_csum_fold(both) != want)
            fail_msg("seed %#llx round %d len %zu split %zu", (unsigned long long)seed, round, n, k);
    }
}

/* All-0xff data is the worst case for carries. */
static void test_csum_all_ones(void **state)
{
    (void)state;
    static uint8_t buf[70000];
    memset(buf, 0xff, sizeof(buf));
    for (size_t n = 0; n < sizeof(buf); n += 997)
        assert_int_equal(sk_csum_fold(sk_csum_add(0xffffffffu, buf, n)), ref_csum(0xffffffffu, buf, n));
}

/* Past 32 MiB the bulk loop folds its accumulators between blocks: no carry may be lost there. */
static void test_csum_beyond_one_block(void **state)
{
    (void)state;
    size_t n = ((size_t)32 << 20) + 45;
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    memset(buf, 0xff, n + 1);
    buf[n / 2] = 0x12;
    for (size_t off = 0; off < 2; off++)
        assert_int_equal(sk_csum_fold(sk_csum_add(7, buf + off, n)), ref_csum(7, buf + off, n));
    free(buf);
}

/* A sum can be built in pieces, as long as each piece but the last has even length. */
static void test_csum_chained(void **state)
{
    (void)state;
    rng_state = 0x5eed0002;
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rng();
    for (size_t split = 0; split <= sizeof(buf); split += 2) {
        uint32_t s = sk_csum_add(sk_csum_add(0, buf, split), buf + split, sizeof(buf) - split);
        assert_int_equal(sk_csum_fold(s), ref_csum(0, buf, sizeof(buf)));
    }
}

static void test_csum_pseudo(void **state)
{
    (void)state;
    /* 0a00 + 0001 + 0a00 + 0002 + 0006 + 0028 = 0x1431 */
    assert_int_equal(sk_csum_fold(sk_csum_pseudo(SRC, DST, 6, 40)), (uint16_t)~0x1431);
    const uint8_t ph[] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0x12, 0x34};
    assert_int_equal(sk_csum_fold(sk_csum_pseudo(SRC, DST, 17, 0x1234)), ref_csum(0, ph, sizeof(ph)));
    const uint8_t ph2[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff};
    assert_int_equal(sk_csum_fold(sk_csum_pseudo(0xffffffffu, 0xffffffffu, 0xff, 0xffff)),
                     ref_csum(0, ph2, sizeof(ph2)));
}

/* ---- Ethernet ---- */

static const uint8_t eth_frame[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* dst */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* src */
    0x08, 0x06,                         /* ARP */
};

static void test_eth_known_bytes(void **state)
{
    (void)state;
    struct sk_eth_hdr h;
    assert_int_equal(sk_eth_parse(eth_frame, sizeof(eth_frame), &h), SK_DROP_NONE);
    assert_memory_equal(h.dst, eth_frame, 6);
    assert_memory_equal(h.src, eth_frame + 6, 6);
    assert_int_equal(h.ethertype, SK_ETHERTYPE_ARP);
    uint8_t out[SK_ETH_HLEN];
    assert_int_equal(sk_eth_emit(out, sizeof(out), &h), SK_ETH_HLEN);
    assert_memory_equal(out, eth_frame, SK_ETH_HLEN);
    assert_int_equal(sk_eth_emit(out, SK_ETH_HLEN - 1, &h), 0);
}

static void test_eth_vlan_tag_reported_not_unwrapped(void **state)
{
    (void)state;
    uint8_t f[18] = {0};
    f[12] = 0x81;
    f[13] = 0x00;
    struct sk_eth_hdr h;
    assert_int_equal(sk_eth_parse(f, sizeof(f), &h), SK_DROP_NONE);
    assert_int_equal(h.ethertype, 0x8100);
}

static void test_eth_truncated(void **state)
{
    (void)state;
    struct sk_eth_hdr h;
    for (size_t n = 0; n < SK_ETH_HLEN; n++)
        assert_int_equal(sk_eth_parse(eth_frame, n, &h), SK_DROP_LINK_TRUNCATED);
}

/* ---- ARP ---- */

/* Who has 10.0.0.2? Tell 10.0.0.1 (02:00:00:00:00:01). */
static const uint8_t arp_request[] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2,
};

static void test_arp_known_request(void **state)
{
    (void)state;
    struct sk_arp a;
    assert_int_equal(sk_arp_parse(arp_request, sizeof(arp_request), &a), SK_DROP_NONE);
    assert_int_equal(a.op, SK_ARP_REQUEST);
    assert_memory_equal(a.sha, arp_request + 8, 6);
    assert_int_equal(a.spa, SRC);
    assert_memory_equal(a.tha, "\0\0\0\0\0\0", 6);
    assert_int_equal(a.tpa, DST);
    uint8_t out[SK_ARP_LEN];
    assert_int_equal(sk_arp_emit(out, sizeof(out), &a), SK_ARP_LEN);
    assert_memory_equal(out, arp_request, SK_ARP_LEN);
    assert_int_equal(sk_arp_emit(out, SK_ARP_LEN - 1, &a), 0);
}

static void test_arp_round_trip_reply_with_padding(void **state)
{
    (void)state;
    struct sk_arp a = {.op = SK_ARP_REPLY, .sha = {1, 2, 3, 4, 5, 6}, .spa = 0xc0a80001,
                       .tha = {6, 5, 4, 3, 2, 1}, .tpa = 0xc0a800fe}, b;
    uint8_t buf[46]; /* minimum Ethernet payload: 18 bytes of padding follow */
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(sk_arp_emit(buf, sizeof(buf), &a), SK_ARP_LEN);
    assert_int_equal(sk_arp_parse(buf, sizeof(buf), &b), SK_DROP_NONE);
    assert_int_equal(b.op, a.op);
    assert_memory_equal(b.sha, a.sha, 6);
    assert_int_equal(b.spa, a.spa);
    assert_memory_equal(b.tha, a.tha, 6);
    assert_int_equal(b.tpa, a.tpa);
}

static void test_arp_malformed(void **state)
{
    (void)state;
    struct sk_arp a;
    for (size_t n = 0; n < SK_ARP_LEN; n++)
        assert_int_equal(sk_arp_parse(arp_request, n, &a), SK_DROP_ARP_MALFORMED);
    /* byte index, bad value: htype 6 (IEEE 802), ptype 0x86dd, hlen 8, plen 16, op 0 and 3 */
    const struct { size_t at; uint8_t v; } bad[] = {
        {1, 6}, {0, 1}, {2, 0x86}, {3, 0x01}, {4, 8}, {5, 16}, {7, 0}, {7, 3}, {6, 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t f[SK_ARP_LEN];
        memcpy(f, arp_request, sizeof(f));
        f[bad[i].at] = bad[i].v;
        assert_int_equal(sk_arp_parse(f, sizeof(f), &a), SK_DROP_ARP_MALFORMED);
    }
}

/* ---- IPv4 ---- */

/* A UDP datagram header, 192.168.0.1 -> 192.168.0.199, DF, TTL 64, total length 115, checksum
 * 0xb861 (the usual worked example of the header checksum). */
static const uint8_t ip_hdr[] = {
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

static void test_ipv4_known_header(void **state)
{
    (void)state;
    uint8_t pkt[0x73 + 6] = {0}; /* 6 bytes of link padding after total_len */
    memcpy(pkt, ip_hdr, sizeof(ip_hdr));
    struct sk_ipv4_hdr h;
    assert_int_equal(sk_ipv4_parse(pkt, sizeof(pkt), &h), SK_DROP_NONE);
    assert_int_equal(h.hdr_len, 20);
    assert_int_equal(h.tos, 0);
    assert_int_equal(h.total_len, 0x73);
    assert_int_equal(h.id, 0);
    assert_true(h.df);
    assert_false(h.mf);
    assert_int_equal(h.frag_off, 0);
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.proto, SK_IPPROTO_UDP);
    assert_int_equal(h.src, IP(192, 168, 0, 1));
    assert_int_equal(h.dst, IP(192, 168, 0, 199));
    assert_int_equal(h.options_len, 0);
    assert_ptr_equal(h.payload, pkt + 20);
    assert_int_equal(h.payload_len, 0x73 - 20); /* padding excluded */

    uint8_t out[20];
    assert_int_equal(sk_ipv4_emit(out, sizeof(out), &h, h.payload_len), 20);
    assert_memory_equal(out, ip_hdr, sizeof(ip_hdr));
}

static void test_ipv4_round_trip(void **state)
{
    (void)state;
    struct sk_ipv4_hdr a = {.hdr_len = 20, .tos = 0xb8, .id = 0xbeef, .df = false, .mf = true,
                            .frag_off = 1480 * 3, .ttl = 1, .proto = SK_IPPROTO_TCP,
                            .src = 0xfffffffe, .dst = 0x01020304}, b;
    uint8_t buf[20 + 100];
    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(sk_ipv4_emit(buf, sizeof(buf), &a, 100), 20);
    assert_int_equal(sk_ipv4_parse(buf, sizeof(buf), &b), SK_DROP_NONE);
    assert_int_equal(b.hdr_len, 20);
    assert_int_equal(b.tos, a.tos);
    assert_int_equal(b.total_len, 120);
    assert_int_equal(b.id, a.id);
    assert_int_equal(b.df, a.df);
    assert_int_equal(b.mf, a.mf);
    assert_int_equal(b.frag_off, a.frag_off);
    assert_int_equal(b.ttl, a.ttl);
    assert_int_equal(b.proto, a.proto);
    assert_int_equal(b.src, a.src);
    assert_int_equal(b.dst, a.dst);
    assert_ptr_equal(b.payload, buf + 20);
    assert_int_equal(b.payload_len, 100);
    /* the largest fragment offset, 8191 * 8 */
    a.frag_off = 65528;
    assert_int_equal(sk_ipv4_emit(buf, sizeof(buf), &a, 0), 20);
    assert_int_equal(sk_ipv4_parse(buf, sizeof(buf), &b), SK_DROP_NONE);
    assert_int_equal(b.frag_off, 65528);
}

static void test_ipv4_emit_limits(void **state)
{
    (void)state;
    struct sk_ipv4_hdr a = {.ttl = 64, .proto = 6};
    uint8_t buf[20];
    assert_int_equal(sk_ipv4_emit(buf, 19, &a, 0), 0);
    assert_int_equal(sk_ipv4_emit(buf, 20, &a, 65515), 20);
    assert_int_equal(sk_get16(buf + 2), 65535);
    assert_int_equal(sk_ipv4_emit(buf, 20, &a, 65516), 0);
}

/* A header with 4 bytes of options (ihl 6): they are skipped as a block. */
static void test_ipv4_options_skipped(void **state)
{
    (void)state;
    uint8_t pkt[28] = {0x46, 0, 0, 28, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                       0x94, 0x04, 0x00, 0x00, /* router alert */ 1, 2, 3, 4};
    sk_put16(pkt + 10, sk_csum_fold(sk_csum_add(0, pkt, 24)));
    struct sk_ipv4_hdr h;
    assert_int_equal(sk_ipv4_parse(pkt, sizeof(pkt), &h), SK_DROP_NONE);
    assert_int_equal(h.hdr_len, 24);
    assert_ptr_equal(h.options, pkt + 20);
    assert_int_equal(h.options_len, 4);
    assert_ptr_equal(h.payload, pkt + 24);
    assert_int_equal(h.payload_len, 4);
}

/* Rewrites the header checksum so that only the field under test is wrong. */
static void ip_fix_csum(uint8_t *p)
{
    size_t hl = (size_t)(p[0] & 15) * 4;
    if (hl < 20)
        hl = 20;
    sk_put16(p + 10, 0);
    sk_put16(p + 10, sk_csum_fold(sk_csum_add(0, p, hl)));
}

static void test_ipv4_malformed(void **state)
{
    (void)state;
    uint8_t pkt[0x73] = {0}, f[0x73];
    memcpy(pkt, ip_hdr, sizeof(ip_hdr));
    struct sk_ipv4_hdr h;

    for (size_t n = 0; n < 20; n++)
        assert_int_equal(sk_ipv4_parse(pkt, n, &h), SK_DROP_IP_TRUNCATED);

    memcpy(f, pkt, sizeof(f));
    f[0] = 0x65; /* version 6 */
    ip_fix_csum(f);
    assert_int_equal(sk_ipv4_parse(f, sizeof(f), &h), SK_DROP_IP_VERSION);

    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        memcpy(f, pkt, sizeof(f));
        f[0] = (uint8_t)(0x40 | ihl);
        ip_fix_csum(f);
        assert_int_equal(sk_ipv4_parse(f, sizeof(f), &h), SK_DROP_IP_HDRLEN);
    }

    memcpy(f, pkt, sizeof(f));
    f[0] = 0x46; /* 24-byte header in a 20-byte buffer */
    ip_fix_csum(f);
    assert_int_equal(sk_ipv4_parse(f, 20, &h), SK_DROP_IP_HDRLEN);
    f[0] = 0x4f; /* 60 bytes, buffer 59 */
    sk_put16(f + 2, 59);
    ip_fix_csum(f);
    assert_int_equal(sk_ipv4_parse(f, 59, &h), SK_DROP_IP_HDRLEN);

    memcpy(f, pkt, sizeof(f));
    sk_put16(f + 2, 19); /* total length below the header length */
    ip_fix_csum(f);
    assert_int_equal(sk_ipv4_parse(f, sizeof(f), &h), SK_DROP_IP_TOTLEN);
    f[0] = 0x46;
    sk_put16(f + 2, 23);
    ip_fix_csum(f);
    assert_int_equal(sk_ipv4_parse(f, sizeof(f), &h), SK_DROP_IP_TOTLEN);

    memcpy(f, pkt, sizeof(f));
    assert_int_equal(sk_ipv4_parse(f, 0x72, &h), SK_DROP_IP_TOTLEN); /* total_len > len */

    memcpy(f, pkt, sizeof(f));
    f[11] ^= 1;
    assert_int_equal(sk_ipv4_parse(f, sizeof(f), &h), SK_DROP_IP_CHECKSUM);
    memcpy(f, pkt, sizeof(f));
    f[8] = 63; /* TTL changed, checksum not updated */
    assert_int_equal(sk_ipv4_parse(f, sizeof(f), &h), SK_DROP_IP_CHECKSUM);
}

/* ---- ICMP ---- */

/* Echo request, id 0x1234, seq 1, data "abcd"; checksum 0x2104. */
static const uint8_t icmp_echo[] = {8, 0, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'};

static void test_icmp_known_echo(void **state)
{
    (void)state;
    struct sk_icmp_hdr h;
    assert_int_equal(sk_icmp_parse(icmp_echo, sizeof(icmp_echo), &h), SK_DROP_NONE);
    assert_int_equal(h.type, SK_ICMP_ECHO_REQUEST);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.rest, 0x12340001);
    assert_ptr_equal(h.payload, icmp_echo + 8);
    assert_int_equal(h.payload_len, 4);
    uint8_t out[sizeof(icmp_echo)];
    assert_int_equal(sk_icmp_emit(out, sizeof(out), &h), sizeof(icmp_echo));
    assert_memory_equal(out, icmp_echo, sizeof(icmp_echo));
    assert_int_equal(sk_icmp_emit(out, sizeof(out) - 1, &h), 0);
}

/* An echo reply built in place over the request, with an odd-length payload. */
static void test_icmp_reply_in_place(void **state)
{
    (void)state;
    uint8_t buf[8 + 7];
    struct sk_icmp_hdr req = {.type = SK_ICMP_ECHO_REQUEST, .rest = 0xabcd0007,
                              .payload = (const uint8_t *)"1234567", .payload_len = 7}, h;
    assert_int_equal(sk_icmp_emit(buf, sizeof(buf), &req), 15);
    assert_int_equal(sk_icmp_parse(buf, sizeof(buf), &h), SK_DROP_NONE);
    h.type = SK_ICMP_ECHO_REPLY;
    assert_int_equal(sk_icmp_emit(buf, sizeof(buf), &h), 15);
    assert_int_equal(sk_icmp_parse(buf, sizeof(buf), &h), SK_DROP_NONE);
    assert_int_equal(h.type, SK_ICMP_ECHO_REPLY);
    assert_int_equal(h.rest, 0xabcd0007);
    assert_int_equal(h.payload_len, 7);
    assert_memory_equal(h.payload, "1234567", 7);
}

/* A payload that overlaps the destination but is not already in place is moved correctly. */
static void test_icmp_emit_overlapping_payload(void **state)
{
    (void)state;
    uint8_t buf[32];
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    struct sk_icmp_hdr h = {.type = SK_ICMP_DEST_UNREACH, .code = 4, .rest = 1400,
                            .payload = buf + 2, .payload_len = 20}, g;
    assert_int_equal(sk_icmp_emit(buf, sizeof(buf), &h), 28);
    assert_int_equal(sk_icmp_parse(buf, 28, &g), SK_DROP_NONE);
    for (int i = 0; i < 20; i++)
        assert_int_equal(g.payload[i], i + 2);
    assert_int_equal(g.rest & 0xffff, 1400);
}

static void test_icmp_malformed(void **state)
{
    (void)state;
    struct sk_icmp_hdr h;
    for (size_t n = 0; n < SK_ICMP_HLEN; n++)
        assert_int_equal(sk_icmp_parse(icmp_echo, n, &h), SK_DROP_ICMP_TRUNCATED);
    uint8_t f[sizeof(icmp_echo)];
    for (size_t i = 0; i < sizeof(f); i++) {
        memcpy(f, icmp_echo, sizeof(f));
        f[i] ^= 0x10;
        assert_int_equal(sk_icmp_parse(f, sizeof(f), &h), SK_DROP_ICMP_CHECKSUM);
    }
    /* the checksum covers the data: dropping a byte of it breaks it */
    assert_int_equal(sk_icmp_parse(icmp_echo, sizeof(icmp_echo) - 1, &h), SK_DROP_ICMP_CHECKSUM);
}

/* ---- UDP ---- */

/* 10.0.0.1:5353 -> 10.0.0.2:53, "hello", checksum 0x92e1. */
static const uint8_t udp_dgram[] = {0x14, 0xe9, 0x00, 0x35, 0x00, 0x0d, 0x92, 0xe1,
                                    'h', 'e', 'l', 'l', 'o'};

static void test_udp_known_datagram(void **state)
{
    (void)state;
    struct sk_udp_hdr h;
    assert_int_equal(sk_udp_parse(udp_dgram, sizeof(udp_dgram), SRC, DST, &h), SK_DROP_NONE);
    assert_int_equal(h.sport, 5353);
    assert_int_equal(h.dport, 53);
    assert_int_equal(h.len, 13);
    assert_int_equal(h.checksum, 0x92e1);
    assert_ptr_equal(h.payload, udp_dgram + 8);
    assert_int_equal(h.payload_len, 5);
    uint8_t out[sizeof(udp_dgram)];
    assert_int_equal(sk_udp_emit(out, sizeof(out), SRC, DST, &h), sizeof(udp_dgram));
    assert_memory_equal(out, udp_dgram, sizeof(udp_dgram));
    assert_int_equal(sk_udp_emit(out, sizeof(out) - 1, SRC, DST, &h), 0);
    /* the pseudo-header counts: other addresses, other checksum */
    assert_int_equal(sk_udp_parse(udp_dgram, sizeof(udp_dgram), SRC, DST + 1, &h),
                     SK_DROP_UDP_CHECKSUM);
}

static void test_udp_round_trip_and_trailing_bytes(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xcc, sizeof(buf));
    struct sk_udp_hdr a = {.sport = 1, .dport = 65535, .payload = (const uint8_t *)"odd",
                           .payload_len = 3}, b;
    assert_int_equal(sk_udp_emit(buf, sizeof(buf), SRC, DST, &a), 11);
    /* bytes after the UDP length (e.g. link padding) are neither payload nor checksummed */
    assert_int_equal(sk_udp_parse(buf, sizeof(buf), SRC, DST, &b), SK_DROP_NONE);
    assert_int_equal(b.sport, 1);
    assert_int_equal(b.dport, 65535);
    assert_int_equal(b.len, 11);
    assert_ptr_equal(b.payload, buf + 8);
    assert_int_equal(b.payload_len, 3);
    assert_memory_equal(b.payload, "odd", 3);
}

static void test_udp_zero_checksum_accepted(void **state)
{
    (void)state;
    uint8_t f[sizeof(udp_dgram)];
    memcpy(f, udp_dgram, sizeof(f));
    f[6] = f[7] = 0;
    f[8] = 'j'; /* the data is changed too: nobody checks it */
    struct sk_udp_hdr h;
    assert_int_equal(sk_udp_parse(f, sizeof(f), SRC, DST, &h), SK_DROP_NONE);
    assert_int_equal(h.checksum, 0);
}

/* A datagram whose checksum computes to 0 is sent with 0xffff, which still verifies. */
static void test_udp_computed_zero_sent_as_ffff(void **state)
{
    (void)state;
    uint8_t buf[10], word[2] = {0, 0};
    struct sk_udp_hdr a = {.sport = 7, .dport = 9, .payload = word, .payload_len = 2}, b;
    assert_int_equal(sk_udp_emit(buf, sizeof(buf), SRC, DST, &a), 10);
    /* Adding the complement of the sum as a data word makes the sum 0xffff: checksum 0. */
    uint16_t c = sk_get16(buf + 6);
    sk_put16(word, c);
    assert_int_equal(sk_udp_emit(buf, sizeof(buf), SRC, DST, &a), 10);
    assert_int_equal(sk_get16(buf + 6), 0xffff);
    assert_int_equal(sk_udp_parse(buf, sizeof(buf), SRC, DST, &b), SK_DROP_NONE);
    assert_int_equal(b.checksum, 0xffff);
}

static void test_udp_malformed(void **state)
{
    (void)state;
    struct sk_udp_hdr h;
    uint8_t f[sizeof(udp_dgram)];
    for (size_t n = 0; n < sizeof(udp_dgram); n++) /* below 8, and below the length field */
        assert_int_equal(sk_udp_parse(udp_dgram, n, SRC, DST, &h), SK_DROP_UDP_TRUNCATED);
    for (uint16_t ulen = 0; ulen < 8; ulen++) {
        memcpy(f, udp_dgram, sizeof(f));
        sk_put16(f + 4, ulen);
        assert_int_equal(sk_udp_parse(f, sizeof(f), SRC, DST, &h), SK_DROP_UDP_TRUNCATED);
    }
    memcpy(f, udp_dgram, sizeof(f));
    sk_put16(f + 4, 14);
    assert_int_equal(sk_udp_parse(f, sizeof(f), SRC, DST, &h), SK_DROP_UDP_TRUNCATED);
    memcpy(f, udp_dgram, sizeof(f));
    f[12] ^= 1;
    assert_int_equal(sk_udp_parse(f, sizeof(f), SRC, DST, &h), SK_DROP_UDP_CHECKSUM);
}

static void test_udp_emit_limits(void **state)
{
    (void)state;
    static uint8_t buf[65536 + 8];
    struct sk_udp_hdr a = {.payload = buf + 8, .payload_len = 65527};
    assert_int_equal(sk_udp_emit(buf, sizeof(buf), SRC, DST, &a), 65535);
    a.payload_len = 65528;
    assert_int_equal(sk_udp_emit(buf, sizeof(buf), SRC, DST, &a), 0);
    assert_int_equal(sk_udp_emit(buf, 7, SRC, DST, &(struct sk_udp_hdr){0}), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071_example),
        cmocka_unit_test(test_csum_fold_edges),
        cmocka_unit_test(test_csum_matches_reference),
        cmocka_unit_test(test_csum_copy_matches_reference),
        cmocka_unit_test(test_csum_all_ones),
        cmocka_unit_test(test_csum_beyond_one_block),
        cmocka_unit_test(test_csum_chained),
        cmocka_unit_test(test_csum_pseudo),
        cmocka_unit_test(test_eth_known_bytes),
        cmocka_unit_test(test_eth_vlan_tag_reported_not_unwrapped),
        cmocka_unit_test(test_eth_truncated),
        cmocka_unit_test(test_arp_known_request),
        cmocka_unit_test(test_arp_round_trip_reply_with_padding),
        cmocka_unit_test(test_arp_malformed),
        cmocka_unit_test(test_ipv4_known_header),
        cmocka_unit_test(test_ipv4_round_trip),
        cmocka_unit_test(test_ipv4_emit_limits),
        cmocka_unit_test(test_ipv4_options_skipped),
        cmocka_unit_test(test_ipv4_malformed),
        cmocka_unit_test(test_icmp_known_echo),
        cmocka_unit_test(test_icmp_reply_in_place),
        cmocka_unit_test(test_icmp_emit_overlapping_payload),
        cmocka_unit_test(test_icmp_malformed),
        cmocka_unit_test(test_udp_known_datagram),
        cmocka_unit_test(test_udp_round_trip_and_trailing_bytes),
        cmocka_unit_test(test_udp_zero_checksum_accepted),
        cmocka_unit_test(test_udp_computed_zero_sent_as_ffff),
        cmocka_unit_test(test_udp_malformed),
        cmocka_unit_test(test_udp_emit_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
