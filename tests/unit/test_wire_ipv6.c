/* Wire layer for IPv6: the fixed header (RFC 8200 §3), the extension-header walk (§4), the
 * IPv6 pseudo-header (§8.1), ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861 §4), and TCP and
 * UDP over IPv6.
 *
 * The reference packets were made with python3-scapy 2.5 and are committed as constants; each
 * carries its scapy expression (A = "2001:db8::1", B = "2001:db8::2"), run as
 * bytes(<expression>). Field values expected from them are read off the RFC layouts by hand;
 * the emitters must reproduce scapy's bytes exactly. */
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

static struct sk_addr addr(const char *text)
{
    struct sk_addr a;
    if (sk_addr_parse(text, &a) != 0)
        fail_msg("bad test address %s", text);
    return a;
}

/* IPv6(src=A,dst=B)/TCP(sport=40000,dport=80,seq=0x01020304,flags="S",window=64800,
 *   options=[('MSS',1440),('SAckOK',b''),('Timestamp',(1,0)),('NOP',None),('WScale',7)]) */
static const uint8_t tcp6_syn[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04,
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20, 0x4e, 0xe7, 0x00, 0x00,
    0x02, 0x04, 0x05, 0xa0, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
/* IPv6(src=A,dst=B)/UDP(sport=5353,dport=53)/b"hello" */
static const uint8_t udp6_hello[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0d, 0x4b, 0x6f,
    0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
/* IPv6(src=A,dst=B)/ICMPv6EchoRequest(id=0x1234,seq=1,data=b"abcd") */
static const uint8_t echo6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x4d, 0x48, 0x12, 0x34, 0x00, 0x01,
    0x61, 0x62, 0x63, 0x64,
};
/* IPv6(src="fe80::1",dst="ff02::1:ff00:2",hlim=255)/ICMPv6ND_NS(tgt="fe80::2")
 *   /ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01") */
static const uint8_t ns6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x00, 0x00, 0x02, 0x87, 0x00, 0x7a, 0x97, 0x00, 0x00, 0x00, 0x00,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};
/* IPv6(src="fe80::2",dst="fe80::1",hlim=255)/ICMPv6ND_NA(tgt="fe80::2",R=1,S=1,O=1)
 *   /ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:02") */
static const uint8_t na6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x98, 0x19, 0xe0, 0x00, 0x00, 0x00,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};
/* IPv6(src="fe80::1",dst="ff02::1",hlim=255)/ICMPv6ND_RA(chlim=64,M=1,O=1,prf=0,
 *   routerlifetime=1800,reachabletime=30000,retranstimer=1000)
 *   /ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")/ICMPv6NDOptMTU(mtu=1500)
 *   /ICMPv6NDOptPrefixInfo(prefixlen=64,L=1,A=1,validlifetime=86400,
 *   preferredlifetime=14400,prefix="2001:db8:1::") */
static const uint8_t ra6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x86, 0x00, 0xb1, 0xff, 0x40, 0xc0, 0x07, 0x08,
    0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xe8, 0x01, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
    0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* IPv6(src="fe80::2",dst="ff02::2",hlim=255)/ICMPv6ND_RS()
 *   /ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:02") */
static const uint8_t rs6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x7a, 0x2a, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};
/* IPv6(src="fe80::1",dst=B,hlim=255)/ICMPv6ND_Redirect(tgt="fe80::3",dst="2001:db8:5::9")
 *   /ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:03")
 *   /ICMPv6NDOptRedirectedHdr(pkt=bytes(IPv6(src=B,dst="2001:db8:5::9")/UDP(sport=1,dport=2))) */
static const uint8_t redirect6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x68, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x89, 0x00, 0xa4, 0x9a, 0x00, 0x00, 0x00, 0x00,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x02, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x03, 0x04, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 0x00, 0x02, 0x00, 0x08, 0xa4, 0x59,
};
/* IPv6(src=A,dst=B)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
 *   /IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")])
 *   /IPv6ExtHdrRouting(type=0,segleft=0,addresses=[])
 *   /IPv6ExtHdrFragment(offset=0,m=1,id=0x12345678)/UDP(sport=7,dport=7)/(b"x"*8)
 * Layout: 40 Hop-by-Hop (next 60; Router Alert at 42, PadN at 46), 48 Destination Options
 * (next 43; PadN at 50), 56 Routing (next 44; type 0 at 58, segments left 0 at 59), 64 Fragment
 * (next 17; offset 0, M 1 at 66-67; id at 68), 72 UDP. */
static const uint8_t chain6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x3c, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00,
    0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78,
    0x00, 0x07, 0x00, 0x07, 0x00, 0x10, 0xc2, 0x69, 0x78, 0x78, 0x78, 0x78,
    0x78, 0x78, 0x78, 0x78,
};

/* ---- Pseudo-header ---- */

/* RFC 8200 §8.1's pseudo-header written out as bytes and summed by the reference. */
static void test_pseudo6_matches_layout(void **state)
{
    (void)state;
    struct sk_addr s = addr("2001:db8::1"), d = addr("fe80::ffff:1234:5678");
    const uint32_t lens[] = {0, 20, 65535, 65536, 0x12345678};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t ph[40] = {0};
        memcpy(ph, s.b, 16);
        memcpy(ph + 16, d.b, 16);
        sk_put32(ph + 32, lens[i]);
        ph[39] = SK_IPPROTO_TCP;
        assert_int_equal(sk_csum_fold(sk_csum_pseudo6(s.b, d.b, SK_IPPROTO_TCP, lens[i])),
                         ref_csum(0, ph, sizeof(ph)));
    }
}

/* ---- IPv6 header ---- */

static void test_ipv6_known_header(void **state)
{
    (void)state;
    struct sk_ipv6_hdr h;
    assert_int_equal(sk_ipv6_parse(tcp6_syn, sizeof(tcp6_syn), &h), SK_DROP_NONE);
    assert_int_equal(h.tclass, 0);
    assert_int_equal(h.flow, 0);
    assert_int_equal(h.payload_len_field, 40);
    assert_int_equal(h.next, SK_IPPROTO_TCP);
    assert_int_equal(h.hop_limit, 64);
    struct sk_addr a = addr("2001:db8::1"), b = addr("2001:db8::2");
    assert_memory_equal(h.src.b, a.b, 16);
    assert_memory_equal(h.dst.b, b.b, 16);
    assert_ptr_equal(h.payload, tcp6_syn + 40);
    assert_int_equal(h.payload_len, 40);

    /* Link padding past the payload length is not payload. */
    uint8_t padded[sizeof(tcp6_syn) + 6];
    memcpy(padded, tcp6_syn, sizeof(tcp6_syn));
    memset(padded + sizeof(tcp6_syn), 0xee, 6);
    assert_int_equal(sk_ipv6_parse(padded, sizeof(padded), &h), SK_DROP_NONE);
    assert_int_equal(h.payload_len, 40);
}

/* Traffic class 0xab and flow label 0x12345 straddle the first word's nibbles:
 * version 6 | tclass ab | flow 12345 is 6a b1 23 45. */
static void test_ipv6_emit_fields(void **state)
{
    (void)state;
    struct sk_ipv6_hdr h = {.tclass = 0xab, .flow = 0x12345, .next = SK_IPPROTO_UDP,
                            .hop_limit = 255};
    h.src = addr("2001:db8::1");
    h.dst = addr("ff02::1");
    uint8_t p[40 + 8] = {0};
    assert_int_equal(sk_ipv6_emit(p, 39, &h, 8), 0);
    assert_int_equal(sk_ipv6_emit(p, sizeof(p), &h, 65536), 0);
    assert_int_equal(sk_ipv6_emit(p, sizeof(p), &h, 8), 40);
    const uint8_t first8[] = {0x6a, 0xb1, 0x23, 0x45, 0x00, 0x08, 17, 255};
    assert_memory_equal(p, first8, 8);
    assert_memory_equal(p + 8, h.src.b, 16);
    assert_memory_equal(p + 24, h.dst.b, 16);
    struct sk_ipv6_hdr g;
    assert_int_equal(sk_ipv6_parse(p, sizeof(p), &g), SK_DROP_NONE);
    assert_int_equal(g.tclass, 0xab);
    assert_int_equal(g.flow, 0x12345);
    assert_int_equal(g.payload_len, 8);
}

static void test_ipv6_malformed(void **state)
{
    (void)state;
    struct sk_ipv6_hdr h;
    uint8_t p[sizeof(tcp6_syn)];
    memcpy(p, tcp6_syn, sizeof(p));
    assert_int_equal(sk_ipv6_parse(p, 39, &h), SK_DROP_IP6_TRUNCATED);
    assert_int_equal(sk_ipv6_parse(p, 0, &h), SK_DROP_IP6_TRUNCATED);
    assert_int_equal(sk_ipv6_parse(p, sizeof(p) - 1, &h), SK_DROP_IP6_TRUNCATED);
    p[0] = 0x45;
    assert_int_equal(sk_ipv6_parse(p, sizeof(p), &h), SK_DROP_IP_VERSION);
}

/* ---- Extension headers ---- */

static void test_ext_walk_chain(void **state)
{
    (void)state;
    struct sk_ip6_ext e;
    assert_int_equal(sk_ip6_ext_walk(chain6, sizeof(chain6), &e), SK_DROP_NONE);
    assert_int_equal(e.proto, SK_IPPROTO_UDP);
    assert_int_equal(e.upper_off, 72);
    assert_int_equal(e.next_hdr_off, 64);
    assert_int_equal(e.nhdrs, 4);
    assert_true(e.has_frag);
    assert_int_equal(e.frag_hdr_off, 64);
    assert_int_equal(e.frag_next_off, 56);
    assert_int_equal(e.frag_next, SK_IPPROTO_UDP);
    assert_int_equal(e.frag_offset, 0);
    assert_true(e.frag_more);
    assert_int_equal(e.frag_id, 0x12345678);
    assert_true(e.has_routing);
    assert_int_equal(e.routing_type, 0);
    assert_int_equal(e.segments_left, 0);
    assert_int_equal(e.routing_type_off, 58);

    /* The fixed header alone: the upper layer right after it. */
    assert_int_equal(sk_ip6_ext_walk(tcp6_syn, sizeof(tcp6_syn), &e), SK_DROP_NONE);
    assert_int_equal(e.proto, SK_IPPROTO_TCP);
    assert_int_equal(e.upper_off, 40);
    assert_int_equal(e.next_hdr_off, 6);
    assert_int_equal(e.nhdrs, 0);
    assert_false(e.has_frag);
    assert_int_equal(sk_ip6_ext_walk(tcp6_syn, 39, &e), SK_DROP_IP6_TRUNCATED);
}

/* A fragment other than the first: the walk stops after its Fragment header. */
static void test_ext_walk_stops_at_later_fragment(void **state)
{
    (void)state;
    uint8_t p[sizeof(chain6)];
    memcpy(p, chain6, sizeof(p));
    sk_put16(p + 66, 16 | 1); /* offset 16 bytes (2 units << 3), M */
    p[72] = SK_IPPROTO_HOPOPTS; /* data, not a header: never looked at */
    struct sk_ip6_ext e;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_NONE);
    assert_int_equal(e.frag_offset, 16);
    assert_int_equal(e.proto, SK_IPPROTO_UDP);
    assert_int_equal(e.upper_off, 72);

    /* An atomic fragment (offset 0, M 0; RFC 6946) is walked through to the upper layer. */
    memcpy(p, chain6, sizeof(p));
    sk_put16(p + 66, 0);
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_NONE);
    assert_true(e.has_frag);
    assert_false(e.frag_more);
    assert_int_equal(e.proto, SK_IPPROTO_UDP);
    assert_int_equal(e.upper_off, 72);
}

/* RFC 8200 §4.2: the two high-order bits of an unrecognized option's type choose the action;
 * the pointer is the option's type byte (offset 42 here). */
static void test_ext_option_actions(void **state)
{
    (void)state;
    const struct { uint8_t type; int drop; uint8_t action; } cases[] = {
        {0x05, SK_DROP_NONE, 0},        /* 00: Router Alert, skipped */
        {0x3e, SK_DROP_NONE, 0},        /* 00: unknown, skipped */
        {0x45, SK_DROP_IP6_OPTION, SK_IP6_OPT_DISCARD},
        {0x85, SK_DROP_IP6_OPTION, SK_IP6_OPT_DISCARD_PP},
        {0xc5, SK_DROP_IP6_OPTION, SK_IP6_OPT_DISCARD_PP_UNICAST},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t p[sizeof(chain6)];
        memcpy(p, chain6, sizeof(p));
        p[42] = cases[i].type;
        struct sk_ip6_ext e;
        assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), cases[i].drop);
        if (cases[i].drop == SK_DROP_NONE)
            continue;
        assert_int_equal(e.opt_type, cases[i].type);
        assert_int_equal(e.opt_action, cases[i].action);
        assert_int_equal(e.pp_code, SK_ICMP6_PP_OPTION);
        assert_int_equal(e.pp_pointer, 42);
    }
    /* The same in the Destination Options header: its PadN at 50 turned into option 0x80. */
    uint8_t p[sizeof(chain6)];
    memcpy(p, chain6, sizeof(p));
    p[50] = 0x80;
    struct sk_ip6_ext e;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_OPTION);
    assert_int_equal(e.pp_pointer, 50);
    /* Pad1 everywhere is fine. */
    memcpy(p, chain6, sizeof(p));
    memset(p + 50, 0, 6);
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_NONE);
}

static void test_ext_malformed(void **state)
{
    (void)state;
    uint8_t p[sizeof(chain6)];
    struct sk_ip6_ext e;

    /* RFC 8200 §4.1: Hop-by-Hop after the Destination Options header: code 1 at the Next
     * Header that names it (the Destination Options header's, at 48). */
    memcpy(p, chain6, sizeof(p));
    p[48] = SK_IPPROTO_HOPOPTS;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_BAD_EXT);
    assert_int_equal(e.pp_code, SK_ICMP6_PP_NEXT_HEADER);
    assert_int_equal(e.pp_pointer, 48);

    /* PadN at 46 claiming 5 data bytes where 0 fit: its length byte (47) is wrong. */
    memcpy(p, chain6, sizeof(p));
    p[47] = 5;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_BAD_EXT);
    assert_int_equal(e.pp_code, SK_ICMP6_PP_HEADER);
    assert_int_equal(e.pp_pointer, 47);

    /* Routing header length 10 (88 bytes) runs past the packet (not a first fragment's
     * chain: the Fragment header comes later). */
    memcpy(p, chain6, sizeof(p));
    p[57] = 10;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_BAD_EXT);
    assert_int_equal(e.pp_pointer, 57);

    /* RFC 8200 §4.5: M set and 15 bytes of fragment data: code 0 at the Payload Length. */
    memcpy(p, chain6, sizeof(p));
    sk_put16(p + 4, (uint16_t)(sizeof(chain6) - 40 - 1));
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p) - 1, &e), SK_DROP_IP_FRAG_INVALID);
    assert_int_equal(e.pp_code, SK_ICMP6_PP_HEADER);
    assert_int_equal(e.pp_pointer, 4);

    /* Offset 65528 + 16 bytes of data, after 24 bytes of unfragmentable headers, pass 65535:
     * code 0 at the Fragment Offset (66). */
    memcpy(p, chain6, sizeof(p));
    sk_put16(p + 66, 65528 | 1);
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP_FRAG_INVALID);
    assert_int_equal(e.pp_pointer, 66);
    /* 24 + 65488 + 16 = 65528 is fine. */
    sk_put16(p + 66, 65488 | 1);
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_NONE);
}

/* Builds fixed header + n Destination Options headers of 8 bytes (PadN) + 8 bytes of UDP-ish
 * data; returns the length. */
static size_t build_dstopts(uint8_t *p, size_t cap, size_t n, uint8_t last_next)
{
    size_t len = 40 + 8 * n + 8;
    assert_true(len <= cap);
    memset(p, 0, len);
    p[0] = 0x60;
    sk_put16(p + 4, (uint16_t)(len - 40));
    p[6] = n ? SK_IPPROTO_DSTOPTS : last_next;
    for (size_t i = 0; i < n; i++) {
        uint8_t *h = p + 40 + 8 * i;
        h[0] = i + 1 < n ? SK_IPPROTO_DSTOPTS : last_next;
        h[1] = 0;
        h[2] = 1; /* PadN of 4 data bytes */
        h[3] = 4;
    }
    return len;
}

static void test_ext_limits(void **state)
{
    (void)state;
    uint8_t p[40 + 8 * 16 + 8];
    struct sk_ip6_ext e;
    size_t len = build_dstopts(p, sizeof(p), SK_IP6_EXT_MAX_HDRS, SK_IPPROTO_NONE);
    assert_int_equal(sk_ip6_ext_walk(p, len, &e), SK_DROP_NONE);
    assert_int_equal(e.proto, SK_IPPROTO_NONE);
    assert_int_equal(e.nhdrs, SK_IP6_EXT_MAX_HDRS);
    assert_int_equal(e.upper_off, 40 + 8 * SK_IP6_EXT_MAX_HDRS);
    len = build_dstopts(p, sizeof(p), SK_IP6_EXT_MAX_HDRS + 1, SK_IPPROTO_NONE);
    assert_int_equal(sk_ip6_ext_walk(p, len, &e), SK_DROP_IP6_EXT_LIMIT);
    /* RFC 8883: code 8, at the first header past the limit (the ninth, at 40 + 8 * 8). */
    assert_int_equal(e.pp_code, 8);
    assert_int_equal(e.pp_pointer, 40 + 8 * SK_IP6_EXT_MAX_HDRS);

    /* Eight headers whose last names a ninth that is not there: truncated, not the limit
     * (the pointer must stay inside the packet). */
    len = build_dstopts(p, sizeof(p), SK_IP6_EXT_MAX_HDRS, SK_IPPROTO_DSTOPTS) - 8;
    sk_put16(p + 4, (uint16_t)(len - 40));
    assert_int_equal(sk_ip6_ext_walk(p, len, &e), SK_DROP_IP6_BAD_EXT);
    assert_true(e.pp_pointer < len);

    /* One Hop-by-Hop header of 2048 bytes (Hdr Ext Len 255) passes the byte limit. */
    static uint8_t big[40 + 2048 + 8];
    memset(big, 0, sizeof(big));
    big[0] = 0x60;
    sk_put16(big + 4, 2048 + 8);
    big[6] = SK_IPPROTO_HOPOPTS;
    big[40] = SK_IPPROTO_NONE;
    big[41] = 255; /* the rest Pad1 */
    assert_int_equal(sk_ip6_ext_walk(big, sizeof(big), &e), SK_DROP_IP6_EXT_LIMIT);
    assert_int_equal(e.pp_code, 7); /* RFC 8883: chain too long, at the header */
    assert_int_equal(e.pp_pointer, 40);
    big[41] = (SK_IP6_EXT_MAX_BYTES / 8) - 1; /* exactly the limit */
    assert_int_equal(sk_ip6_ext_walk(big, sizeof(big), &e), SK_DROP_NONE);
}

/* RFC 7112 §5: a first fragment whose chain ends past its end: code 3, pointer 0. The same
 * chain cut short without fragmentation is simply malformed. */
static void test_ext_first_fragment_incomplete_chain(void **state)
{
    (void)state;
    uint8_t p[40 + 8 + 8] = {0x60};
    sk_put16(p + 4, 16);
    p[6] = SK_IPPROTO_FRAGMENT;
    p[40] = SK_IPPROTO_DSTOPTS;
    sk_put16(p + 42, 1);   /* offset 0, M */
    p[48] = SK_IPPROTO_UDP;
    p[49] = 1;             /* 16 bytes, of which 8 came */
    struct sk_ip6_ext e;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_CHAIN_INCOMPLETE);
    assert_int_equal(e.pp_code, SK_ICMP6_PP_CHAIN);
    assert_int_equal(e.pp_pointer, 0);
    sk_put16(p + 42, 0);   /* atomic: nothing follows, so malformed */
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_BAD_EXT);

    /* The chain whole (Destination Options of 8 bytes, the fragment's data) but the UDP
     * header it names left for the next fragment: code 3 as well. Atomic, it is only short. */
    sk_put16(p + 42, 1);
    p[49] = 0;
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_IP6_CHAIN_INCOMPLETE);
    assert_int_equal(e.pp_code, SK_ICMP6_PP_CHAIN);
    assert_int_equal(e.proto, SK_IPPROTO_UDP);
    assert_int_equal(e.upper_off, 56);
    sk_put16(p + 42, 0);
    assert_int_equal(sk_ip6_ext_walk(p, sizeof(p), &e), SK_DROP_NONE);
    /* A TCP first fragment of 24 bytes whose data offset announces 32: incomplete; with 20 of
     * 20, whole. */
    uint8_t t[40 + 8 + 24] = {0x60};
    sk_put16(t + 4, 32);
    t[6] = SK_IPPROTO_FRAGMENT;
    t[40] = SK_IPPROTO_TCP;
    sk_put16(t + 42, 1);
    t[48 + 12] = 8 << 4;
    assert_int_equal(sk_ip6_ext_walk(t, sizeof(t), &e), SK_DROP_IP6_CHAIN_INCOMPLETE);
    t[48 + 12] = 5 << 4;
    assert_int_equal(sk_ip6_ext_walk(t, sizeof(t), &e), SK_DROP_NONE);

    /* A second Fragment header is malformed. */
    uint8_t q[40 + 8 + 8 + 8] = {0x60};
    sk_put16(q + 4, 24);
    q[6] = SK_IPPROTO_FRAGMENT;
    q[40] = SK_IPPROTO_FRAGMENT;
    q[48] = SK_IPPROTO_UDP;
    assert_int_equal(sk_ip6_ext_walk(q, sizeof(q), &e), SK_DROP_IP6_BAD_EXT);
    assert_int_equal(e.pp_pointer, 48);
}

/* ---- ICMPv6 ---- */

static void test_icmp6_known_echo(void **state)
{
    (void)state;
    struct sk_addr a = addr("2001:db8::1"), b = addr("2001:db8::2");
    struct sk_icmp6_hdr h;
    const uint8_t *m = echo6 + 40;
    size_t len = sizeof(echo6) - 40;
    assert_int_equal(sk_icmp6_parse(m, len, &a, &b, &h), SK_DROP_NONE);
    assert_int_equal(h.type, SK_ICMP6_ECHO_REQUEST);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.data, 0x12340001);
    assert_int_equal(h.payload_len, 4);
    assert_memory_equal(h.payload, "abcd", 4);
    assert_false(sk_icmp6_is_error(h.type));
    assert_true(sk_icmp6_is_error(SK_ICMP6_PARAM_PROBLEM));

    uint8_t out[64];
    struct sk_icmp6_hdr e = {.type = 128, .code = 0, .data = 0x12340001,
                             .payload = (const uint8_t *)"abcd", .payload_len = 4};
    assert_int_equal(sk_icmp6_emit(out, sizeof(out), &a, &b, &e), len);
    assert_memory_equal(out, m, len);
    assert_int_equal(sk_icmp6_emit(out, len - 1, &a, &b, &e), 0);

    /* The checksum covers the pseudo-header: other addresses, other sum. */
    assert_int_equal(sk_icmp6_parse(m, len, &b, &a, &h), SK_DROP_NONE); /* the sum is symmetric */
    struct sk_addr c = addr("2001:db8::3");
    assert_int_equal(sk_icmp6_parse(m, len, &a, &c, &h), SK_DROP_ICMP6_CHECKSUM);
    uint8_t bad[sizeof(echo6) - 40];
    memcpy(bad, m, len);
    bad[len - 1] ^= 1;
    assert_int_equal(sk_icmp6_parse(bad, len, &a, &b, &h), SK_DROP_ICMP6_CHECKSUM);
    assert_int_equal(sk_icmp6_parse(m, 7, &a, &b, &h), SK_DROP_ICMP6_TRUNCATED);
}

/* ---- Neighbor Discovery ---- */

static const uint8_t MAC1[6] = {2, 0, 0, 0, 0, 1}, MAC2[6] = {2, 0, 0, 0, 0, 2},
                     MAC3[6] = {2, 0, 0, 0, 0, 3};

/* Parses the ND message of a reference packet (after its 40-byte header). */
static void nd_of(const uint8_t *pkt, size_t len, struct sk_nd_msg *m)
{
    struct sk_ipv6_hdr ip;
    struct sk_icmp6_hdr h;
    assert_int_equal(sk_ipv6_parse(pkt, len, &ip), SK_DROP_NONE);
    assert_int_equal(ip.hop_limit, 255);
    assert_int_equal(sk_icmp6_parse(ip.payload, ip.payload_len, &ip.src, &ip.dst, &h),
                     SK_DROP_NONE);
    assert_int_equal(sk_nd_parse(ip.payload, ip.payload_len, m), SK_DROP_NONE);
}

/* sk_nd_emit of m gives the reference packet's ICMPv6 bytes exactly. */
static void expect_nd_emit(const uint8_t *pkt, size_t len, const struct sk_nd_msg *m)
{
    struct sk_addr src, dst;
    memcpy(src.b, pkt + 8, 16);
    memcpy(dst.b, pkt + 24, 16);
    uint8_t out[1280];
    assert_int_equal(sk_nd_emit(out, sizeof(out), &src, &dst, m), len - 40);
    assert_memory_equal(out, pkt + 40, len - 40);
    assert_int_equal(sk_nd_emit(out, len - 41, &src, &dst, m), 0);
}

static void test_nd_neighbor_solicit_advert(void **state)
{
    (void)state;
    struct sk_nd_msg m;
    nd_of(ns6, sizeof(ns6), &m);
    assert_int_equal(m.type, SK_ND_NEIGHBOR_SOLICIT);
    struct sk_addr t2 = addr("fe80::2");
    assert_memory_equal(m.target.b, t2.b, 16);
    assert_int_equal(m.opts.src_ll_len, 6);
    assert_memory_equal(m.opts.src_ll, MAC1, 6);
    assert_int_equal(m.opts.tgt_ll_len, 0);

    struct sk_nd_msg w = {.type = SK_ND_NEIGHBOR_SOLICIT, .target = t2};
    w.opts.src_ll_len = 6;
    memcpy(w.opts.src_ll, MAC1, 6);
    expect_nd_emit(ns6, sizeof(ns6), &w);

    nd_of(na6, sizeof(na6), &m);
    assert_int_equal(m.type, SK_ND_NEIGHBOR_ADVERT);
    assert_true(m.router && m.solicited && m.override);
    assert_memory_equal(m.target.b, t2.b, 16);
    assert_int_equal(m.opts.tgt_ll_len, 6);
    assert_memory_equal(m.opts.tgt_ll, MAC2, 6);

    struct sk_nd_msg n = {.type = SK_ND_NEIGHBOR_ADVERT, .target = t2, .router = true,
                          .solicited = true, .override = true};
    n.opts.tgt_ll_len = 6;
    memcpy(n.opts.tgt_ll, MAC2, 6);
    expect_nd_emit(na6, sizeof(na6), &n);
}

static void test_nd_router_solicit_advert(void **state)
{
    (void)state;
    struct sk_nd_msg m;
    nd_of(rs6, sizeof(rs6), &m);
    assert_int_equal(m.type, SK_ND_ROUTER_SOLICIT);
    assert_int_equal(m.opts.src_ll_len, 6);
    assert_memory_equal(m.opts.src_ll, MAC2, 6);
    struct sk_nd_msg rs = {.type = SK_ND_ROUTER_SOLICIT};
    rs.opts.src_ll_len = 6;
    memcpy(rs.opts.src_ll, MAC2, 6);
    expect_nd_emit(rs6, sizeof(rs6), &rs);

    nd_of(ra6, sizeof(ra6), &m);
    assert_int_equal(m.type, SK_ND_ROUTER_ADVERT);
    assert_int_equal(m.cur_hop_limit, 64);
    assert_true(m.managed && m.other);
    assert_int_equal(m.router_lifetime, 1800);
    assert_int_equal(m.reachable_time, 30000);
    assert_int_equal(m.retrans_timer, 1000);
    assert_int_equal(m.opts.src_ll_len, 6);
    assert_memory_equal(m.opts.src_ll, MAC1, 6);
    assert_true(m.opts.has_mtu);
    assert_int_equal(m.opts.mtu, 1500);
    assert_int_equal(m.opts.nprefix, 1);
    assert_int_equal(m.opts.prefix[0].prefix_len, 64);
    assert_true(m.opts.prefix[0].on_link && m.opts.prefix[0].autonomous);
    assert_int_equal(m.opts.prefix[0].valid_lifetime, 86400);
    assert_int_equal(m.opts.prefix[0].preferred_lifetime, 14400);
    struct sk_addr pfx = addr("2001:db8:1::");
    assert_memory_equal(m.opts.prefix[0].prefix.b, pfx.b, 16);

    struct sk_nd_msg ra = {.type = SK_ND_ROUTER_ADVERT, .cur_hop_limit = 64, .managed = true,
                           .other = true, .router_lifetime = 1800, .reachable_time = 30000,
                           .retrans_timer = 1000};
    ra.opts.src_ll_len = 6;
    memcpy(ra.opts.src_ll, MAC1, 6);
    ra.opts.has_mtu = true;
    ra.opts.mtu = 1500;
    ra.opts.nprefix = 1;
    ra.opts.prefix[0] = (struct sk_nd_prefix){.prefix_len = 64, .on_link = true,
                                              .autonomous = true, .valid_lifetime = 86400,
                                              .preferred_lifetime = 14400, .prefix = pfx};
    expect_nd_emit(ra6, sizeof(ra6), &ra); /* scapy's order: SLL, MTU, prefix, as ours */
}

static void test_nd_redirect(void **state)
{
    (void)state;
    struct sk_nd_msg m;
    nd_of(redirect6, sizeof(redirect6), &m);
    assert_int_equal(m.type, SK_ND_REDIRECT);
    struct sk_addr t = addr("fe80::3"), d = addr("2001:db8:5::9");
    assert_memory_equal(m.target.b, t.b, 16);
    assert_memory_equal(m.dest.b, d.b, 16);
    assert_int_equal(m.opts.tgt_ll_len, 6);
    assert_memory_equal(m.opts.tgt_ll, MAC3, 6);
    /* The Redirected Header at 40 + 48 holds the 48-byte quoted packet after 8 bytes. */
    assert_ptr_equal(m.opts.redirected, redirect6 + 40 + 48 + 8);
    assert_int_equal(m.opts.redirected_len, 48);

    uint8_t quoted[48];
    memcpy(quoted, redirect6 + 40 + 56, sizeof(quoted));
    struct sk_nd_msg r = {.type = SK_ND_REDIRECT, .target = t, .dest = d};
    r.opts.tgt_ll_len = 6;
    memcpy(r.opts.tgt_ll, MAC3, 6);
    r.opts.redirected = quoted;
    r.opts.redirected_len = sizeof(quoted);
    expect_nd_emit(redirect6, sizeof(redirect6), &r);

    /* A long quote is cut so that the whole packet stays within 1280 bytes, in 8-byte units:
     * 40 (IPv6) + 40 (Redirect) + 16 (TLL) + 8 + 1176 = 1280. */
    static uint8_t big[2000];
    r.opts.redirected = big;
    r.opts.redirected_len = sizeof(big);
    uint8_t out[2048];
    struct sk_addr s = addr("fe80::1");
    assert_int_equal(sk_nd_emit(out, sizeof(out), &s, &d, &r), 1280 - 40);
}

static void test_nd_malformed(void **state)
{
    (void)state;
    struct sk_nd_msg m;
    const uint8_t *ra = ra6 + 40;
    size_t len = sizeof(ra6) - 40;
    uint8_t p[sizeof(ra6) - 40];

    /* RFC 4861 §4.6: an option of length 0. The SLL option's length is at 16 + 1. */
    memcpy(p, ra, len);
    p[17] = 0;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_ND_MALFORMED);
    /* An option running past the end: the prefix option (at 32) claiming 5 units. */
    memcpy(p, ra, len);
    p[33] = 5;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_ND_MALFORMED);
    /* One byte of an option left over at the end. */
    assert_int_equal(sk_nd_parse(ra, len - 31, &m), SK_DROP_ND_MALFORMED);
    /* Prefix Information of length 3 (with the MTU option's slot: still inside). */
    memcpy(p, ra, len);
    p[33] = 3;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_ND_MALFORMED);
    /* MTU option (at 24) of length 2. */
    memcpy(p, ra, len);
    p[25] = 2;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_ND_MALFORMED);
    /* Prefix length 129. */
    memcpy(p, ra, len);
    p[34] = 129;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_ND_MALFORMED);
    /* §6.1.2: code 0, at least 16 bytes. */
    memcpy(p, ra, len);
    p[1] = 1;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_ND_MALFORMED);
    assert_int_equal(sk_nd_parse(ra, 15, &m), SK_DROP_ND_MALFORMED);
    assert_int_equal(sk_nd_parse(ra, 16, &m), SK_DROP_NONE); /* no options at all */
    /* An unknown option is skipped: the SLL option's type changed to 200. */
    memcpy(p, ra, len);
    p[16] = 200;
    assert_int_equal(sk_nd_parse(p, len, &m), SK_DROP_NONE);
    assert_int_equal(m.opts.src_ll_len, 0);
    assert_true(m.opts.has_mtu);

    /* §7.1.1: NS shorter than 24, or for a multicast target. */
    assert_int_equal(sk_nd_parse(ns6 + 40, 23, &m), SK_DROP_ND_MALFORMED);
    uint8_t ns[sizeof(ns6) - 40];
    memcpy(ns, ns6 + 40, sizeof(ns));
    ns[8] = 0xff;
    assert_int_equal(sk_nd_parse(ns, sizeof(ns), &m), SK_DROP_ND_MALFORMED);
    /* Not an ND type. */
    assert_int_equal(sk_nd_parse(echo6 + 40, sizeof(echo6) - 40, &m), SK_DROP_ND_MALFORMED);
    assert_int_equal(sk_nd_parse(ns6 + 40, 1, &m), SK_DROP_ND_MALFORMED);
}

/* ---- TCP and UDP over IPv6 ---- */

static void test_tcp6_known_syn(void **state)
{
    (void)state;
    struct sk_addr a = addr("2001:db8::1"), b = addr("2001:db8::2");
    const uint8_t *seg = tcp6_syn + 40;
    size_t len = sizeof(tcp6_syn) - 40;
    struct sk_tcp_hdr h;
    assert_int_equal(sk_tcp_parse6(seg, len, &a, &b, true, &h), SK_DROP_NONE);
    assert_int_equal(h.sport, 40000);
    assert_int_equal(h.dport, 80);
    assert_int_equal(h.seq, 0x01020304);
    assert_int_equal(h.flags, SK_TCP_SYN);
    assert_int_equal(h.wnd, 64800);
    assert_int_equal(h.opts.mss, 1440);
    assert_int_equal(h.opts.wscale, 7);
    assert_int_equal(h.opts.ts_val, 1);
    assert_int_equal(h.opts.present,
                     SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_WSCALE);

    struct sk_tcp_hdr w = {.sport = 40000, .dport = 80, .seq = 0x01020304, .flags = SK_TCP_SYN,
                           .wnd = 64800};
    w.opts.present = SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_WSCALE;
    w.opts.mss = 1440;
    w.opts.wscale = 7;
    w.opts.ts_val = 1;
    uint8_t out[64];
    assert_int_equal(sk_tcp_emit6(out, sizeof(out), &a, &b, &w, SK_SYN_OPTS_LINUX), len);
    assert_memory_equal(out, seg, len);

    /* The IPv6 pseudo-header is in the sum: another address fails it, unless unverified. */
    struct sk_addr c = addr("2001:db8::3");
    assert_int_equal(sk_tcp_parse6(seg, len, &a, &c, true, &h), SK_DROP_TCP_CHECKSUM);
    assert_int_equal(sk_tcp_parse6(seg, len, &a, &c, false, &h), SK_DROP_NONE);
}

/* The offload paths over IPv6: a partial checksum (the pseudo-header sum alone, for the link
 * to finish, RFC 8200 §8.1's pseudo-header) completed here by RFC 1071 over the segment, and a
 * payload summed while copied, both give the checksum of the plain emit. */
static void test_tcp6_offload_checksums(void **state)
{
    (void)state;
    struct sk_addr a = addr("2001:db8::1"), b = addr("fe80::2");
    uint8_t payload[301];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 31 + 7);
    struct sk_tcp_hdr w = {.sport = 443, .dport = 50000, .seq = 7, .ack = 9,
                           .flags = SK_TCP_ACK | SK_TCP_PSH, .wnd = 1000,
                           .payload = payload, .payload_len = sizeof(payload)};
    uint8_t plain[400], partial[400], summed[400];
    size_t n = sk_tcp_emit6(plain, sizeof(plain), &a, &b, &w, SK_SYN_OPTS_LINUX);
    assert_int_equal(n, 20 + sizeof(payload));
    struct sk_tcp_hdr g;
    assert_int_equal(sk_tcp_parse6(plain, n, &a, &b, true, &g), SK_DROP_NONE);

    w.csum_partial = true;
    assert_int_equal(sk_tcp_emit6(partial, sizeof(partial), &a, &b, &w, SK_SYN_OPTS_LINUX), n);
    /* The pseudo-header written out as bytes, summed by the reference: the field holds that
     * sum, folded, not complemented. */
    uint8_t ph[40] = {0};
    memcpy(ph, a.b, 16);
    memcpy(ph + 16, b.b, 16);
    sk_put32(ph + 32, (uint32_t)n);
    ph[39] = SK_IPPROTO_TCP;
    assert_int_equal(sk_get16(partial + 16), (uint16_t)~ref_csum(0, ph, sizeof(ph)));
    /* The link's part: the one's complement of the sum from the TCP header to the end. */
    sk_put16(partial + 16, ref_csum(0, partial, n));
    assert_memory_equal(partial, plain, n);

    w.csum_partial = false;
    w.payload_summed = true;
    memcpy(summed + 20, payload, sizeof(payload));
    w.payload = summed + 20;
    w.payload_sum = sk_csum_add(0, payload, sizeof(payload));
    assert_int_equal(sk_tcp_emit6(summed, sizeof(summed), &a, &b, &w, SK_SYN_OPTS_LINUX), n);
    assert_memory_equal(summed, plain, n);
}

static void test_udp6_known_datagram(void **state)
{
    (void)state;
    struct sk_addr a = addr("2001:db8::1"), b = addr("2001:db8::2");
    const uint8_t *d = udp6_hello + 40;
    size_t len = sizeof(udp6_hello) - 40;
    struct sk_udp_hdr h;
    assert_int_equal(sk_udp_parse6(d, len, &a, &b, true, &h), SK_DROP_NONE);
    assert_int_equal(h.sport, 5353);
    assert_int_equal(h.dport, 53);
    assert_int_equal(h.payload_len, 5);
    assert_memory_equal(h.payload, "hello", 5);

    struct sk_udp_hdr w = {.sport = 5353, .dport = 53, .payload = (const uint8_t *)"hello",
                           .payload_len = 5};
    uint8_t out[32];
    assert_int_equal(sk_udp_emit6(out, sizeof(out), &a, &b, &w), len);
    assert_memory_equal(out, d, len);

    /* RFC 8200 §8.1: a zero checksum is a drop over IPv6 (not over IPv4). */
    uint8_t z[sizeof(udp6_hello) - 40];
    memcpy(z, d, len);
    sk_put16(z + 6, 0);
    assert_int_equal(sk_udp_parse6(z, len, &a, &b, true, &h), SK_DROP_UDP_CHECKSUM);
    assert_int_equal(sk_udp_parse6(z, len, &a, &b, false, &h), SK_DROP_NONE);
    struct sk_addr c = addr("2001:db8::3");
    assert_int_equal(sk_udp_parse6(d, len, &c, &b, true, &h), SK_DROP_UDP_CHECKSUM);
    assert_int_equal(sk_udp_parse6(d, 7, &a, &b, true, &h), SK_DROP_UDP_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pseudo6_matches_layout),
        cmocka_unit_test(test_ipv6_known_header),
        cmocka_unit_test(test_ipv6_emit_fields),
        cmocka_unit_test(test_ipv6_malformed),
        cmocka_unit_test(test_ext_walk_chain),
        cmocka_unit_test(test_ext_walk_stops_at_later_fragment),
        cmocka_unit_test(test_ext_option_actions),
        cmocka_unit_test(test_ext_malformed),
        cmocka_unit_test(test_ext_limits),
        cmocka_unit_test(test_ext_first_fragment_incomplete_chain),
        cmocka_unit_test(test_icmp6_known_echo),
        cmocka_unit_test(test_nd_neighbor_solicit_advert),
        cmocka_unit_test(test_nd_router_solicit_advert),
        cmocka_unit_test(test_nd_redirect),
        cmocka_unit_test(test_nd_malformed),
        cmocka_unit_test(test_tcp6_known_syn),
        cmocka_unit_test(test_tcp6_offload_checksums),
        cmocka_unit_test(test_udp6_known_datagram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
