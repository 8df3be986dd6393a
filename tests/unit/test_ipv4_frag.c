/* IPv4 fragmentation (RFC 791 §3.2) and reassembly with RFC 815 holes: a large UDP datagram
 * crosses the in-memory link in fragments; fragments in any order reassemble; overlaps drop
 * the whole datagram, duplicates only themselves; time, memory and hole limits hold. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "ref_csum.h"

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

/* Every other 8-byte piece: a datagram may come in at most ipfrag_max_fragments (128)
 * fragments; the 129th discards it, counted, whatever the number of holes. */
static void test_fragment_limit(void **state)
{
    (void)state;
    struct sk_udp *u;
    struct ethstack *e = receiver(&u);
    for (size_t i = 0; i < 128; i++)
        frag(e, 10, i * 16, 8);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_LIMIT), 0);
    frag(e, 10, 128 * 16, 8);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_REASM_LIMIT), 1);
    assert_int_equal(ethstack_counters(e).ip_frag_too_many, 1);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    sk_udp_close(u);
    ethstack_free(e);
}

/* ---- Datagrams built here byte by byte, with the test's own RFC 1071 checksum ---- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* RFC 791 §3.1 header: optlen bytes of options (39 NOPs then an End of Option List), total
 * length hlen + paylen, the flags and offset word as given; returns the header length. */
static size_t ip_header(uint8_t *p, uint8_t proto, uint16_t id, uint16_t flags_off,
                        size_t optlen, size_t paylen)
{
    size_t hlen = 20 + optlen;
    memset(p, 0, hlen);
    p[0] = (uint8_t)(0x40 | hlen / 4);
    put16(p + 2, (uint32_t)(hlen + paylen));
    put16(p + 4, id);
    put16(p + 6, flags_off);
    p[8] = 64;
    p[9] = proto;
    put32(p + 12, PEER);
    put32(p + 16, ETH_A_ADDR);
    memset(p + 20, 1 /* NOP */, optlen);
    if (optlen)
        p[hlen - 1] = 0; /* EOL */
    put16(p + 10, ref_csum(0, p, hlen));
    return hlen;
}

/* A fragment at offset off carrying bytes[0, len), its header with optlen bytes of options. */
static void send_at(struct ethstack *e, uint8_t proto, uint16_t id, const uint8_t *bytes,
                    size_t off, size_t len, bool more, size_t optlen)
{
    static uint8_t p[1600];
    size_t h = ip_header(p, proto, id, (uint16_t)((more ? MF : 0) | off / 8), optlen, len);
    memcpy(p + h, bytes, len);
    ethstack_input(e, SK_ETHERTYPE_IPV4, p, h + len);
}

/* The fragment of payload[off, off+len). */
static void send_piece(struct ethstack *e, uint8_t proto, uint16_t id, const uint8_t *payload,
                       size_t off, size_t len, bool more, size_t optlen)
{
    send_at(e, proto, id, payload + off, off, len, more, optlen);
}

#define stack_knowing_peer ethstack_knowing_b /* an ICMP error leaves at once */

#define PROTO_EXPERIMENT 253 /* RFC 3692: nobody handles it, so it draws protocol unreachable */

/* A first fragment with 40 bytes of options: the rebuilt datagram is that header (options
 * kept, RFC 791 §3.2) with the whole length and no fragment fields, then the data. It is
 * checked through the protocol unreachable that quotes it: the first 548 bytes (576 less the
 * error's IP and ICMP headers, RFC 1812 §4.3.2.3) of the datagram built here. */
static void test_first_fragment_options_kept(void **state)
{
    (void)state;
    struct ethstack *e = stack_knowing_peer();
    static uint8_t data[3000], want[3060];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + 5);
    size_t h = ip_header(want, PROTO_EXPERIMENT, 77, 0, 40, sizeof(data));
    memcpy(want + h, data, sizeof(data));
    /* 60 + 1440 and 20 + 1480 fill a 1500-byte MTU; the options (NOPs, not copied) ride
     * only on the first fragment. Last fragment first, the first one last. */
    send_piece(e, PROTO_EXPERIMENT, 77, data, 2920, 80, false, 0);
    send_piece(e, PROTO_EXPERIMENT, 77, data, 1440, 1480, true, 0);
    send_piece(e, PROTO_EXPERIMENT, 77, data, 0, 1440, true, 40);
    assert_int_equal(ethstack_counters(e).ip_reassembled, 1);
    assert_int_equal(e->nout, 1);
    struct sk_ipv4_hdr ip;
    struct sk_icmp_hdr m;
    assert_int_equal(sk_ipv4_parse(e->out[0].data + 14, e->out[0].len - 14, &ip), 0);
    assert_int_equal(sk_icmp_parse(ip.payload, ip.payload_len, &m), 0);
    assert_int_equal(m.type, SK_ICMP_DEST_UNREACH);
    assert_int_equal(m.code, 2);
    assert_int_equal(m.payload_len, 548);
    assert_memory_equal(m.payload, want, 548);
    ethstack_free(e);
}

/* RFC 791 §3.1: a datagram is at most 65535 octets, header included. A first fragment with 40
 * bytes of options over 65515 bytes of data would make 65575: the datagram is discarded and
 * counted, whether the first fragment comes first or last (the length field used to wrap to
 * 39 and the datagram went up the stack). */
static void test_options_past_65535_discarded(void **state)
{
    (void)state;
    static uint8_t data[65515];
    for (int first_last = 0; first_last < 2; first_last++) {
        struct ethstack *e = stack_knowing_peer();
        if (!first_last)
            send_piece(e, PROTO_EXPERIMENT, 5, data, 0, 1440, true, 40);
        size_t off = 1440;
        for (; off + 1480 < sizeof(data); off += 1480)
            send_piece(e, PROTO_EXPERIMENT, 5, data, off, 1480, true, 0);
        send_piece(e, PROTO_EXPERIMENT, 5, data, off, sizeof(data) - off, false, 0);
        if (first_last)
            send_piece(e, PROTO_EXPERIMENT, 5, data, 0, 1440, true, 40);
        assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_INVALID), 1);
        assert_int_equal(ethstack_counters(e).ip_reassembled, 0);
        assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
        assert_int_equal(e->nout, 0);
        ethstack_free(e);
    }
}

/* The largest UDP datagram (65507 data bytes, 65535 in all) cut for a 1500-byte MTU: 45
 * fragments (44 of 1480 bytes, one of 395). In reverse order, even ones then odd ones (23
 * holes at once), and shuffled (seeded, printed): each reassembles byte-exact. */
static void test_64k_in_45_fragments_any_order(void **state)
{
    (void)state;
    static uint8_t data[65507], whole[65515], got[65535];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + (i >> 8));
    size_t n = fr_udp(whole, PEER, ETH_A_ADDR, 9999, 7, data, sizeof(data));
    assert_int_equal(n, 65515);
    enum { NFRAG = 45 };
    uint32_t seed = 20261201;
    print_message("shuffle seed %u\n", seed);
    for (int order = 0; order < 3; order++) {
        int idx[NFRAG];
        for (int i = 0; i < NFRAG; i++)
            idx[i] = order == 0 ? NFRAG - 1 - i : order == 1 ? (i < 23 ? 2 * i : 2 * (i - 23) + 1) : i;
        for (int i = NFRAG - 1; order == 2 && i > 0; i--) {
            seed = seed * 1103515245u + 12345u;
            int j = (int)((seed >> 16) % (uint32_t)(i + 1));
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        struct sk_udp *u;
        struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
        assert_int_equal(sk_udp_bind(e->st, 7, &u), 0);
        for (int i = 0; i < NFRAG; i++) {
            size_t off = (size_t)idx[i] * 1480, len = off + 1480 < n ? 1480 : n - off;
            send_piece(e, SK_IPPROTO_UDP, (uint16_t)(300 + order), whole, off, len,
                       off + len < n, 0);
        }
        assert_int_equal(ethstack_counters(e).ip_reassembled, 1);
        assert_int_equal(sk_udp_recvfrom(u, got, sizeof(got), NULL, NULL), (ssize_t)sizeof(data));
        assert_memory_equal(got, data, sizeof(data));
        assert_int_equal(ethstack_counters(e).drops_total, 0);
        assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
        sk_udp_close(u);
        ethstack_free(e);
    }
}

/* The first bytes of a TCP header: ports 4000 -> 80, data offset in 32-bit words, flags. */
static void tcp_start(uint8_t *tcp, size_t n, uint8_t doff_words, uint8_t flags)
{
    memset(tcp, 0, n);
    put16(tcp, 4000);
    put16(tcp + 2, 80);
    tcp[12] = (uint8_t)(doff_words << 4);
    tcp[13] = flags;
}

/* RFC 1858 §3.1: a first fragment of a TCP datagram too short for the TCP header (16 bytes
 * here, or 24 when the data offset says 32) is dropped; §3.2: so is any TCP fragment at
 * offset 8 (FO = 1), which could only rewrite the first one's flags. Counted as tiny. */
static void test_tiny_tcp_fragments(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    uint8_t tcp[64];
    tcp_start(tcp, sizeof(tcp), 5, 0x02 /* SYN */);
    send_piece(e, SK_IPPROTO_TCP, 40, tcp, 0, 16, true, 0);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_TINY), 1);
    tcp[12] = 8 << 4; /* a 32-byte header: 24 bytes do not hold it */
    send_piece(e, SK_IPPROTO_TCP, 41, tcp, 0, 24, true, 0);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_TINY), 2);
    /* A whole first fragment, then the FO = 1 rewrite of bytes 8..15 (flags at 13). */
    tcp[12] = 5 << 4;
    send_piece(e, SK_IPPROTO_TCP, 42, tcp, 0, 24, true, 0);
    tcp[13] = 0x04; /* RST */
    send_piece(e, SK_IPPROTO_TCP, 42, tcp, 8, 16, true, 0);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_TINY), 3);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_OVERLAP), 0);
    /* The same sizes in a UDP datagram are no attack on TCP: kept. */
    send_piece(e, SK_IPPROTO_UDP, 43, tcp, 0, 16, true, 0);
    send_piece(e, SK_IPPROTO_UDP, 43, tcp, 16, 8, true, 0);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_TINY), 3);
    ethstack_free(e);
}

/* The RFC 1858 §4 overlap attack: a first fragment with harmless TCP flags (ACK), then one at
 * offset 0 again whose bytes differ (SYN) and reach further. The whole datagram goes (RFC 5722
 * §4), and its rest, arriving after, never completes into the rewritten segment. */
static void test_overlap_rewrite_discards_datagram(void **state)
{
    (void)state;
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    uint8_t tcp[48];
    tcp_start(tcp, sizeof(tcp), 5, 0x10 /* ACK */);
    send_piece(e, SK_IPPROTO_TCP, 50, tcp, 0, 24, true, 0);
    tcp[13] = 0x02; /* SYN */
    send_piece(e, SK_IPPROTO_TCP, 50, tcp, 0, 32, true, 0);
    assert_int_equal(ethstack_drops(e, SK_DROP_IP_FRAG_OVERLAP), 1);
    send_piece(e, SK_IPPROTO_TCP, 50, tcp, 32, 16, false, 0);
    assert_int_equal(ethstack_counters(e).ip_reassembled, 0);
    assert_int_equal(ethstack_counters(e).tcp_segs_in, 0);
    ethstack_free(e);
}

/* ---- Memory under a flood, measured by the allocator ---- */

static size_t mem_now, mem_peak;

static void *counting_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx;
    mem_now = mem_now - old_size + new_size;
    if (mem_now > mem_peak)
        mem_peak = mem_now;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

#define FLOOD_LIMIT (256u * 1024u)
static void counted_small(struct sk_config *c)
{
    c->alloc = counting_alloc;
    c->ipfrag_max_bytes = FLOOD_LIMIT;
}

/* 2000 datagrams that never complete, each three full fragments and 8 bytes at offset 40000
 * (about 4.5 KB held each, so the byte limit bites before the count of 64): the memory the
 * stack holds beyond its idle size never passes ipfrag_max_bytes, the oldest are reclaimed
 * (counted), and a datagram sent afterwards still reassembles. When the rest expire every
 * byte comes back. */
static void test_flood_memory_bounded(void **state)
{
    (void)state;
    mem_now = mem_peak = 0;
    make_dgram();
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, counted_small);
    struct sk_udp *u;
    assert_int_equal(sk_udp_bind(e->st, 7, &u), 0);
    size_t idle = mem_now;
    mem_peak = idle;
    static uint8_t junk[1480];
    for (uint32_t i = 0; i < 2000; i++) {
        for (size_t off = 0; off < 3 * 1480; off += 1480)
            send_at(e, SK_IPPROTO_UDP, (uint16_t)(1000 + i), junk, off, 1480, true, 0);
        send_at(e, SK_IPPROTO_UDP, (uint16_t)(1000 + i), junk, 40000, 8, true, 0);
    }
    print_message("flood: peak %zu bytes over idle, limit %u, %llu reclaimed\n", mem_peak - idle,
                  FLOOD_LIMIT, (unsigned long long)ethstack_counters(e).ip_reasm_evicted);
    assert_true(mem_peak - idle <= FLOOD_LIMIT);
    assert_true(ethstack_counters(e).ip_reasm_bytes <= FLOOD_LIMIT);
    assert_true(ethstack_counters(e).ip_reasm_evicted > 1900);
    frag(e, 7, 0, 1480);
    frag(e, 7, 1480, 1480);
    frag(e, 7, 2960, dgram_len - 2960);
    expect_whole(u);
    ethstack_run_until(e, e->now + 31000000);
    assert_int_equal(ethstack_counters(e).ip_reasm_bytes, 0);
    assert_int_equal(mem_now, idle);
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
        cmocka_unit_test(test_fragment_limit),
        cmocka_unit_test(test_first_fragment_options_kept),
        cmocka_unit_test(test_options_past_65535_discarded),
        cmocka_unit_test(test_64k_in_45_fragments_any_order),
        cmocka_unit_test(test_tiny_tcp_fragments),
        cmocka_unit_test(test_overlap_rewrite_discards_datagram),
        cmocka_unit_test(test_flood_memory_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
