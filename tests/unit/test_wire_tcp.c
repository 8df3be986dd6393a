/* Wire layer: the TCP header and its options (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018).
 * Known-good bytes, round trips over every option combination and layout, the exact SYN option
 * layouts Linux and FreeBSD send, and each malformed input with its drop reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wire/wire.h"

#define SRC 0x0a000001u /* 10.0.0.1 */
#define DST 0x0a000002u /* 10.0.0.2 */
#define NON_SYN (-1)
#define ALL_OPTS (SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_SACK)

/* A Linux SYN 10.0.0.1:45678 -> 10.0.0.2:80, seq 0x12345678, win 64240,
 * <mss 1460,sackOK,TS val 123456 ecr 0,nop,wscale 7>, checksum 0x3b60. */
static const uint8_t linux_syn[] = {
    0xb2, 0x6e, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xfa, 0xf0, 0x3b, 0x60, 0x00, 0x00,
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static void test_tcp_known_linux_syn(void **state)
{
    (void)state;
    struct sk_tcp_hdr h;
    assert_int_equal(sk_tcp_parse(linux_syn, sizeof(linux_syn), SRC, DST, true, &h), SK_DROP_NONE);
    assert_int_equal(h.sport, 45678);
    assert_int_equal(h.dport, 80);
    assert_int_equal(h.seq, 0x12345678);
    assert_int_equal(h.ack, 0);
    assert_int_equal(h.hdr_len, 40);
    assert_int_equal(h.flags, SK_TCP_SYN);
    assert_int_equal(h.wnd, 64240);
    assert_int_equal(h.checksum, 0x3b60);
    assert_int_equal(h.urg, 0);
    assert_int_equal(h.opts.present, SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_WSCALE);
    assert_int_equal(h.opts.mss, 1460);
    assert_int_equal(h.opts.wscale, 7);
    assert_int_equal(h.opts.ts_val, 123456);
    assert_int_equal(h.opts.ts_ecr, 0);
    assert_int_equal(h.opts.nsack, 0);
    assert_ptr_equal(h.payload, linux_syn + 40);
    assert_int_equal(h.payload_len, 0);

    uint8_t out[60];
    assert_int_equal(sk_tcp_emit(out, sizeof(out), SRC, DST, &h, SK_SYN_OPTS_LINUX), sizeof(linux_syn));
    assert_memory_equal(out, linux_syn, sizeof(linux_syn));
    assert_int_equal(sk_tcp_emit(out, sizeof(linux_syn) - 1, SRC, DST, &h, SK_SYN_OPTS_LINUX), 0);
}

static void test_tcp_round_trip_with_payload(void **state)
{
    (void)state;
    uint8_t buf[128];
    memset(buf, 0x77, sizeof(buf));
    struct sk_tcp_hdr a = {.sport = 1, .dport = 65535, .seq = 0xfffffff0, .ack = 0x80000001,
                           .flags = SK_TCP_ACK | SK_TCP_PSH | SK_TCP_URG | SK_TCP_ECE | SK_TCP_CWR,
                           .wnd = 0xffff, .urg = 3,
                           .opts = {.present = SK_OPT_TIMESTAMP | SK_OPT_SACK, .ts_val = 1,
                                    .ts_ecr = 0xffffffff, .nsack = 2,
                                    .sack = {{100, 200}, {0xfffffff0, 0x10}}},
                           .payload = (const uint8_t *)"hello, world", .payload_len = 12}, b;
    size_t n = sk_tcp_emit(buf, sizeof(buf), SRC, DST, &a, NON_SYN);
    assert_int_equal(n, 20 + 12 + 20 + 12);
    assert_int_equal(sk_tcp_parse(buf, n, SRC, DST, true, &b), SK_DROP_NONE);
    assert_int_equal(b.sport, a.sport);
    assert_int_equal(b.dport, a.dport);
    assert_int_equal(b.seq, a.seq);
    assert_int_equal(b.ack, a.ack);
    assert_int_equal(b.hdr_len, 52);
    assert_int_equal(b.flags, a.flags);
    assert_int_equal(b.wnd, a.wnd);
    assert_int_equal(b.urg, a.urg);
    assert_int_equal(b.opts.present, a.opts.present);
    assert_int_equal(b.opts.ts_val, 1);
    assert_int_equal(b.opts.ts_ecr, 0xffffffff);
    assert_int_equal(b.opts.nsack, 2);
    assert_memory_equal(b.opts.sack, a.opts.sack, sizeof(a.opts.sack[0]) * 2);
    assert_ptr_equal(b.payload, buf + 52);
    assert_int_equal(b.payload_len, 12);
    assert_memory_equal(b.payload, "hello, world", 12);
    /* any single changed byte is caught by the checksum */
    for (size_t i = 0; i < n; i++) {
        buf[i] ^= 0x80; /* in byte 12 this makes the data offset 5: still a valid length */
        assert_int_equal(sk_tcp_parse(buf, n, SRC, DST, true, &b), SK_DROP_TCP_CHECKSUM);
        buf[i] ^= 0x80;
    }
}

/* The payload may already sit where it goes (built in place after the header). */
static void test_tcp_emit_payload_in_place(void **state)
{
    (void)state;
    uint8_t buf[20 + 12 + 5];
    memcpy(buf + 32, "abcde", 5);
    struct sk_tcp_hdr a = {.flags = SK_TCP_ACK, .opts = {.present = SK_OPT_TIMESTAMP},
                           .payload = buf + 32, .payload_len = 5}, b;
    assert_int_equal(sk_tcp_emit(buf, sizeof(buf), SRC, DST, &a, NON_SYN), 37);
    assert_int_equal(sk_tcp_parse(buf, 37, SRC, DST, true, &b), SK_DROP_NONE);
    assert_memory_equal(b.payload, "abcde", 5);
}

static void test_tcp_malformed(void **state)
{
    (void)state;
    struct sk_tcp_hdr h;
    uint8_t f[sizeof(linux_syn)];
    for (size_t n = 0; n < SK_TCP_HLEN; n++)
        assert_int_equal(sk_tcp_parse(linux_syn, n, SRC, DST, true, &h), SK_DROP_TCP_TRUNCATED);
    for (size_t n = SK_TCP_HLEN; n < sizeof(linux_syn); n++) /* data offset 10 = 40 > len */
        assert_int_equal(sk_tcp_parse(linux_syn, n, SRC, DST, true, &h), SK_DROP_TCP_HDRLEN);
    for (uint8_t doff = 0; doff < 5; doff++) {
        memcpy(f, linux_syn, sizeof(f));
        f[12] = (uint8_t)(doff << 4);
        assert_int_equal(sk_tcp_parse(f, sizeof(f), SRC, DST, false, &h), SK_DROP_TCP_HDRLEN);
    }
    memcpy(f, linux_syn, sizeof(f));
    f[12] = 0xb0; /* 44 > 40 */
    assert_int_equal(sk_tcp_parse(f, sizeof(f), SRC, DST, false, &h), SK_DROP_TCP_HDRLEN);

    memcpy(f, linux_syn, sizeof(f));
    f[17] ^= 1;
    assert_int_equal(sk_tcp_parse(f, sizeof(f), SRC, DST, true, &h), SK_DROP_TCP_CHECKSUM);
    assert_int_equal(sk_tcp_parse(f, sizeof(f), SRC, DST, false, &h), SK_DROP_NONE);
    assert_int_equal(sk_tcp_parse(linux_syn, sizeof(linux_syn), DST, SRC + 2, true, &h),
                     SK_DROP_TCP_CHECKSUM); /* pseudo-header addresses */

    /* broken options: wscale length 4 (runs into the next header field), checksum not checked */
    memcpy(f, linux_syn, sizeof(f));
    f[38] = 4;
    assert_int_equal(sk_tcp_parse(f, sizeof(f), SRC, DST, false, &h), SK_DROP_TCP_OPTIONS);
    assert_int_equal(sk_tcp_parse(f, sizeof(f), SRC, DST, true, &h), SK_DROP_TCP_CHECKSUM);
}

/* ---- Options: parsing ---- */

static int opts(const uint8_t *p, size_t len, struct sk_tcp_opts *o)
{
    memset(o, 0xa5, sizeof(*o)); /* the parser must clear what it does not set */
    return sk_tcp_opts_parse(p, len, o);
}

static void test_opts_empty_and_padding(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    assert_int_equal(opts(NULL, 0, &o), SK_DROP_NONE);
    assert_int_equal(o.present, 0);
    assert_int_equal(o.nsack, 0);
    const uint8_t nops[] = {1, 1, 1, 1};
    assert_int_equal(opts(nops, 4, &o), SK_DROP_NONE);
    assert_int_equal(o.present, 0);
}

/* EOL ends the list: whatever follows, even garbage, is not read. */
static void test_opts_eol_stops_parsing(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    const uint8_t b[] = {2, 4, 0x05, 0xb4, 0, 3, 0 /* bad WS length */, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(opts(b, sizeof(b), &o), SK_DROP_NONE);
    assert_int_equal(o.present, SK_OPT_MSS);
    assert_int_equal(o.mss, 1460);
}

static void test_opts_unknown_skipped_by_length(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    /* kind 30 (MPTCP) with 6 bytes whose content looks like an MSS option, kind 254 len 2, WS 14 */
    const uint8_t b[] = {30, 6, 2, 4, 0xff, 0xff, 254, 2, 3, 3, 14, 1};
    assert_int_equal(opts(b, sizeof(b), &o), SK_DROP_NONE);
    assert_int_equal(o.present, SK_OPT_WSCALE);
    assert_int_equal(o.wscale, 14);
}

static void test_opts_sack_blocks(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    uint8_t b[2 + 5 * 8];
    b[0] = 5;
    for (uint32_t i = 0; i < 5; i++) {
        sk_put32(b + 2 + 8 * i, 1000 * i);
        sk_put32(b + 6 + 8 * i, 1000 * i + 500);
    }
    for (uint8_t n = 1; n <= 5; n++) {
        b[1] = (uint8_t)(2 + 8 * n);
        assert_int_equal(opts(b, b[1], &o), SK_DROP_NONE);
        assert_int_equal(o.present, SK_OPT_SACK);
        assert_int_equal(o.nsack, n < 4 ? n : 4); /* a fifth block is ignored */
        for (uint32_t i = 0; i < o.nsack; i++) {
            assert_int_equal(o.sack[i].left, 1000 * i);
            assert_int_equal(o.sack[i].right, 1000 * i + 500);
        }
    }
}

/* A repeated option: the last one wins, and a later SACK replaces the blocks. */
static void test_opts_repeated_last_wins(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    const uint8_t b[] = {2, 4, 0, 100, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
                         2, 4, 0, 200, 5, 10, 0, 0, 0, 9, 0, 0, 0, 10};
    assert_int_equal(opts(b, sizeof(b), &o), SK_DROP_NONE);
    assert_int_equal(o.present, SK_OPT_MSS | SK_OPT_SACK);
    assert_int_equal(o.mss, 200);
    assert_int_equal(o.nsack, 1);
    assert_int_equal(o.sack[0].left, 9);
    assert_int_equal(o.sack[0].right, 10);
}

static void test_opts_malformed(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    static const struct {
        const char *what;
        uint8_t b[12];
        size_t len;
    } bad[] = {
        {"length 0", {30, 0, 1, 1}, 4},
        {"length 1", {30, 1, 1, 1}, 4},
        {"length 0 on a known kind", {2, 0, 1, 1}, 4},
        {"kind without length byte", {1, 1, 1, 8}, 4},
        {"unknown option past the end", {30, 6, 0, 0}, 4},
        {"MSS past the end", {1, 2, 4, 5}, 4},
        {"TS past the end", {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0}, 11},
        {"MSS length 3", {2, 3, 5, 1}, 4},
        {"MSS length 5", {2, 5, 5, 0xb4, 0}, 5},
        {"WS length 4", {3, 4, 7, 0}, 4},
        {"WS length 2", {3, 2, 1, 1}, 4},
        {"SACK-permitted length 3", {4, 3, 0, 1}, 4},
        {"SACK length 10 (not 2+8n)", {5, 10 + 1, 0, 0, 0, 1, 0, 0, 0, 2, 0}, 11},
        {"SACK length 2 (no block)", {5, 2, 1, 1}, 4},
        {"SACK length 9", {5, 9, 0, 0, 0, 1, 0, 0, 0}, 9},
        {"TS length 8", {8, 8, 0, 0, 0, 1, 0, 0}, 8},
        {"TS length 11", {8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0}, 11},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = opts(bad[i].b, bad[i].len, &o);
        if (err != SK_DROP_TCP_OPTIONS)
            fail_msg("%s: got %d", bad[i].what, err);
    }
    /* SACK with length 10 and exactly one block is fine: the bad case above is 11 */
    const uint8_t sack10[] = {5, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_int_equal(opts(sack10, sizeof(sack10), &o), SK_DROP_NONE);
    /* every truncation of a valid list either parses or fails with TCP_OPTIONS, never reads on */
    const uint8_t full[] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7};
    for (size_t n = 0; n <= sizeof(full); n++) {
        int err = opts(full, n, &o);
        bool whole = n == 0 || n == 4 || n == 6 || n == 16 || n == 17 || n == 20;
        assert_int_equal(err, whole ? SK_DROP_NONE : SK_DROP_TCP_OPTIONS);
    }
}

/* ---- Options: emitting ---- */

static size_t emit(uint8_t *out, uint8_t present, int layout)
{
    struct sk_tcp_opts o = {.present = present, .mss = 1460, .wscale = 6, .ts_val = 0x01020304,
                            .ts_ecr = 0, .nsack = 4,
                            .sack = {{0x10, 0x20}, {0x30, 0x40}, {0x50, 0x60}, {0x70, 0x80}}};
    return sk_tcp_opts_emit(out, 40, &o, layout);
}

#define TS_BYTES 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00
#define SACK_BLOCK(l, r) 0, 0, 0, l, 0, 0, 0, r

static void expect_layout(uint8_t present, int layout, const uint8_t *want, size_t want_len)
{
    uint8_t out[40];
    size_t n = emit(out, present, layout);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);
}

/* The SYN options Linux sends, byte for byte (tcp_options_write). */
static void test_emit_linux_syn_layouts(void **state)
{
    (void)state;
    const uint8_t full[] = {2, 4, 0x05, 0xb4, 4, 2, TS_BYTES, 1, 3, 3, 6};
    expect_layout(SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_WSCALE,
                  SK_SYN_OPTS_LINUX, full, sizeof(full));
    const uint8_t no_ts[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 6};
    expect_layout(SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_WSCALE, SK_SYN_OPTS_LINUX, no_ts,
                  sizeof(no_ts));
    const uint8_t no_sack[] = {2, 4, 0x05, 0xb4, 1, 1, TS_BYTES, 1, 3, 3, 6};
    expect_layout(SK_OPT_MSS | SK_OPT_TIMESTAMP | SK_OPT_WSCALE, SK_SYN_OPTS_LINUX, no_sack,
                  sizeof(no_sack));
    const uint8_t mss_only[] = {2, 4, 0x05, 0xb4};
    expect_layout(SK_OPT_MSS, SK_SYN_OPTS_LINUX, mss_only, sizeof(mss_only));
    const uint8_t mss_ws[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6};
    expect_layout(SK_OPT_MSS | SK_OPT_WSCALE, SK_SYN_OPTS_LINUX, mss_ws, sizeof(mss_ws));
}

/* The SYN options FreeBSD sends: <mss 1460,nop,wscale 6,sackOK,TS val x ecr 0>. */
static void test_emit_freebsd_syn_layouts(void **state)
{
    (void)state;
    const uint8_t full[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, TS_BYTES};
    expect_layout(SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_WSCALE,
                  SK_SYN_OPTS_FREEBSD, full, sizeof(full));
    /* sackOK without TS: closed with EOL padding, as packetdrill's FreeBSD suite expects. */
    const uint8_t no_ts[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 0, 0};
    expect_layout(SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_WSCALE, SK_SYN_OPTS_FREEBSD, no_ts,
                  sizeof(no_ts));
    const uint8_t mss_sack[] = {2, 4, 0x05, 0xb4, 4, 2, 0, 0};
    expect_layout(SK_OPT_MSS | SK_OPT_SACK_PERM, SK_SYN_OPTS_FREEBSD, mss_sack, sizeof(mss_sack));
    const uint8_t no_sack[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, TS_BYTES};
    expect_layout(SK_OPT_MSS | SK_OPT_TIMESTAMP | SK_OPT_WSCALE, SK_SYN_OPTS_FREEBSD, no_sack,
                  sizeof(no_sack));
}

/* Data and ACK segments: NOP,NOP,TS then NOP,NOP,SACK with as many blocks as fit in 40. */
static void test_emit_non_syn_layouts(void **state)
{
    (void)state;
    const uint8_t ts[] = {1, 1, TS_BYTES};
    expect_layout(SK_OPT_TIMESTAMP, NON_SYN, ts, sizeof(ts));
    expect_layout(SK_OPT_TIMESTAMP, 7, ts, sizeof(ts)); /* any value that is not a SYN layout */
    const uint8_t ts_sack[] = {1, 1, TS_BYTES, 1, 1, 5, 26,
                               SACK_BLOCK(0x10, 0x20), SACK_BLOCK(0x30, 0x40), SACK_BLOCK(0x50, 0x60)};
    expect_layout(SK_OPT_TIMESTAMP | SK_OPT_SACK, NON_SYN, ts_sack, sizeof(ts_sack));
    const uint8_t sack[] = {1, 1, 5, 34, SACK_BLOCK(0x10, 0x20), SACK_BLOCK(0x30, 0x40),
                            SACK_BLOCK(0x50, 0x60), SACK_BLOCK(0x70, 0x80)};
    expect_layout(SK_OPT_SACK, NON_SYN, sack, sizeof(sack));
    uint8_t out[40];
    assert_int_equal(emit(out, 0, NON_SYN), 0);
}

/* Options outside a layout's usual set still all go out, in order, NOP-padded to 4 bytes;
 * a full set leaves room for 2 SACK blocks. */
static void test_emit_unusual_combinations(void **state)
{
    (void)state;
    const uint8_t all_linux[] = {2, 4, 0x05, 0xb4, 4, 2, TS_BYTES, 1, 3, 3, 6,
                                 1, 1, 5, 18, SACK_BLOCK(0x10, 0x20), SACK_BLOCK(0x30, 0x40)};
    expect_layout(ALL_OPTS, SK_SYN_OPTS_LINUX, all_linux, sizeof(all_linux));
    expect_layout(ALL_OPTS, NON_SYN, all_linux, sizeof(all_linux));
    const uint8_t all_bsd[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, TS_BYTES,
                               1, 1, 5, 18, SACK_BLOCK(0x10, 0x20), SACK_BLOCK(0x30, 0x40)};
    expect_layout(ALL_OPTS, SK_SYN_OPTS_FREEBSD, all_bsd, sizeof(all_bsd));
    const uint8_t ws_only[] = {1, 3, 3, 6};
    expect_layout(SK_OPT_WSCALE, SK_SYN_OPTS_LINUX, ws_only, sizeof(ws_only));
    const uint8_t sackok_only[] = {1, 1, 4, 2};
    expect_layout(SK_OPT_SACK_PERM, NON_SYN, sackok_only, sizeof(sackok_only));
    const uint8_t ws_ts_bsd[] = {1, 3, 3, 6, 1, 1, TS_BYTES};
    expect_layout(SK_OPT_WSCALE | SK_OPT_TIMESTAMP, SK_SYN_OPTS_FREEBSD, ws_ts_bsd, sizeof(ws_ts_bsd));
}

static void test_emit_sack_edge_cases(void **state)
{
    (void)state;
    uint8_t out[40];
    /* SACK present but no blocks: nothing to send */
    struct sk_tcp_opts o = {.present = SK_OPT_SACK, .nsack = 0};
    assert_int_equal(sk_tcp_opts_emit(out, 40, &o, NON_SYN), 0);
    /* more blocks than the struct holds are clamped, not read past the array */
    o.nsack = 200;
    assert_int_equal(sk_tcp_opts_emit(out, 40, &o, NON_SYN), 36);
    /* cap too small */
    o.nsack = 1;
    assert_int_equal(sk_tcp_opts_emit(out, 11, &o, NON_SYN), 0);
    assert_int_equal(sk_tcp_opts_emit(out, 12, &o, NON_SYN), 12);
}

/* parse(emit(o)) == o for every combination of options, every layout and 0..4 SACK blocks,
 * except that SACK blocks beyond what fits are dropped (and SACK with none is not sent). */
static void test_opts_round_trip_all_combinations(void **state)
{
    (void)state;
    const int layouts[] = {SK_SYN_OPTS_LINUX, SK_SYN_OPTS_FREEBSD, NON_SYN};
    for (unsigned present = 0; present <= ALL_OPTS; present++) {
        for (size_t l = 0; l < 3; l++) {
            for (uint8_t nsack = 0; nsack <= SK_TCP_MAX_SACK; nsack++) {
                struct sk_tcp_opts a = {.present = (uint8_t)present, .mss = 536, .wscale = 14,
                                        .ts_val = 0xdeadbeef, .ts_ecr = 0xcafef00d, .nsack = nsack},
                                   b;
                for (uint32_t i = 0; i < nsack; i++)
                    a.sack[i].left = 0x11111111 * (i + 1), a.sack[i].right = ~a.sack[i].left;
                uint8_t out[40];
                size_t n = sk_tcp_opts_emit(out, sizeof(out), &a, layouts[l]);
                assert_true(n <= 40);
                assert_int_equal(n % 4, 0);
                /* EOL only as FreeBSD's trailing padding; no option has a 0 byte here */
                size_t body = n;
                while (layouts[l] == SK_SYN_OPTS_FREEBSD && body > 0 && out[body - 1] == 0)
                    body--;
                for (size_t i = 0; i < body; i++)
                    assert_int_not_equal(out[i], 0);
                assert_int_equal(sk_tcp_opts_parse(out, n, &b), SK_DROP_NONE);

                uint8_t want = a.present;
                /* bytes before SACK: MSS 4, WS 4, sackOK+TS 12, TS 12, sackOK 4 */
                /* (FreeBSD's sackOK alone takes 2 bytes, unpadded.) The SACK option is then
                 * padded with NOPs to end on a word: as many blocks as fit in 40 bytes. */
                bool bsd = layouts[l] == SK_SYN_OPTS_FREEBSD;
                size_t used = (present & SK_OPT_MSS ? 4 : 0) + (present & SK_OPT_WSCALE ? 4 : 0) +
                              (present & SK_OPT_TIMESTAMP   ? 12
                               : present & SK_OPT_SACK_PERM ? (bsd ? 2 : 4)
                                                            : 0);
                size_t fit = 4;
                while (fit > 0 && used + (4 - (used + 2 + 8 * fit) % 4) % 4 + 2 + 8 * fit > 40)
                    fit--;
                size_t sent = nsack < fit ? nsack : fit;
                if (sent == 0)
                    want &= (uint8_t)~SK_OPT_SACK;
                assert_int_equal(b.present, want);
                if (want & SK_OPT_MSS)
                    assert_int_equal(b.mss, 536);
                if (want & SK_OPT_WSCALE)
                    assert_int_equal(b.wscale, 14);
                if (want & SK_OPT_TIMESTAMP) {
                    assert_int_equal(b.ts_val, 0xdeadbeef);
                    assert_int_equal(b.ts_ecr, 0xcafef00d);
                }
                if (want & SK_OPT_SACK) {
                    assert_int_equal(b.nsack, sent);
                    assert_memory_equal(b.sack, a.sack, sent * sizeof(a.sack[0]));
                }
            }
        }
    }
}

/* ---- TCP Fast Open (RFC 7413 §4.1.1) ---- */

/* Kind 34 with an 8-byte cookie, an empty one (a request), and the experimental kind 254 with
 * magic 0xF989 (RFC 6994); bytes as Linux's tcp_options_write puts them (NOPs after). */
static void test_opts_fastopen_parse(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    const uint8_t fo8[] = {34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1};
    assert_int_equal(sk_tcp_opts_parse(fo8, sizeof(fo8), &o), SK_DROP_NONE);
    assert_true(o.present & SK_OPT_FASTOPEN);
    assert_true(o.fo_valid);
    assert_false(o.fo_exp);
    assert_int_equal(o.fo_len, 8);
    assert_memory_equal(o.fo_cookie, fo8 + 2, 8);
    const uint8_t req[] = {2, 4, 0x05, 0xb4, 34, 2, 1, 1};
    assert_int_equal(sk_tcp_opts_parse(req, sizeof(req), &o), SK_DROP_NONE);
    assert_true(o.present & SK_OPT_FASTOPEN);
    assert_true(o.fo_valid);
    assert_int_equal(o.fo_len, 0);
    assert_int_equal(o.mss, 1460);
    const uint8_t exp[] = {254, 8, 0xf9, 0x89, 0xaa, 0xbb, 0xcc, 0xdd};
    assert_int_equal(sk_tcp_opts_parse(exp, sizeof(exp), &o), SK_DROP_NONE);
    assert_true(o.fo_exp);
    assert_int_equal(o.fo_len, 4);
    assert_memory_equal(o.fo_cookie, exp + 4, 4);
    /* Kind 254 with another experiment's ExID is someone else's option: skipped. */
    const uint8_t other[] = {254, 4, 0x12, 0x34};
    assert_int_equal(sk_tcp_opts_parse(other, sizeof(other), &o), SK_DROP_NONE);
    assert_false(o.present & SK_OPT_FASTOPEN);
}

/* Lengths no cookie has (2 bytes, odd, above 16) are present but invalid, never a drop; a
 * length beyond the list is malformed as for any option. */
static void test_opts_fastopen_invalid_lengths(void **state)
{
    (void)state;
    struct sk_tcp_opts o;
    const uint8_t two[] = {34, 4, 0x11, 0x22};
    assert_int_equal(sk_tcp_opts_parse(two, sizeof(two), &o), SK_DROP_NONE);
    assert_true(o.present & SK_OPT_FASTOPEN);
    assert_false(o.fo_valid);
    assert_int_equal(o.fo_len, 0);
    const uint8_t odd[] = {34, 7, 1, 2, 3, 4, 5, 1};
    assert_int_equal(sk_tcp_opts_parse(odd, sizeof(odd), &o), SK_DROP_NONE);
    assert_false(o.fo_valid);
    uint8_t big[20] = {34, 20};
    assert_int_equal(sk_tcp_opts_parse(big, sizeof(big), &o), SK_DROP_NONE);
    assert_false(o.fo_valid);
    uint8_t sixteen[20] = {34, 18};
    sixteen[18] = sixteen[19] = 1;
    assert_int_equal(sk_tcp_opts_parse(sixteen, sizeof(sixteen), &o), SK_DROP_NONE);
    assert_true(o.fo_valid);
    assert_int_equal(o.fo_len, 16);
    const uint8_t beyond[] = {34, 10, 1, 2};
    assert_int_equal(sk_tcp_opts_parse(beyond, sizeof(beyond), &o), SK_DROP_TCP_OPTIONS);
}

/* Emitted after the others with NOPs to the word's end, as Linux's SYNs carry it:
 * <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8,FO,nop,nop>, <...,FO 8 bytes,nop,nop>,
 * <mss 1460,nop,nop,sackOK,nop,wscale 8,FOEXP 8 bytes>. */
static void test_emit_fastopen(void **state)
{
    (void)state;
    uint8_t buf[40];
    struct sk_tcp_opts o = {.present = SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP |
                                       SK_OPT_WSCALE | SK_OPT_FASTOPEN,
                            .mss = 1460, .wscale = 8, .ts_val = 1};
    const uint8_t req[] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                           1, 3, 3, 8, 34, 2, 1, 1};
    assert_int_equal(sk_tcp_opts_emit(buf, sizeof(buf), &o, SK_SYN_OPTS_LINUX), sizeof(req));
    assert_memory_equal(buf, req, sizeof(req));
    o.fo_len = 8;
    for (int i = 0; i < 8; i++)
        o.fo_cookie[i] = (uint8_t)(0xa0 + i);
    const uint8_t ck[] = {34, 10, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 1, 1};
    assert_int_equal(sk_tcp_opts_emit(buf, sizeof(buf), &o, SK_SYN_OPTS_LINUX), 20 + sizeof(ck));
    assert_memory_equal(buf + 20, ck, sizeof(ck));
    o.present &= (uint8_t)~SK_OPT_TIMESTAMP;
    o.fo_exp = true;
    const uint8_t ex[] = {2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8,
                          254, 12, 0xf9, 0x89, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7};
    assert_int_equal(sk_tcp_opts_emit(buf, sizeof(buf), &o, SK_SYN_OPTS_LINUX), sizeof(ex));
    assert_memory_equal(buf, ex, sizeof(ex));
    /* A round trip keeps the cookie. */
    struct sk_tcp_opts back;
    assert_int_equal(sk_tcp_opts_parse(buf, sizeof(ex), &back), SK_DROP_NONE);
    assert_true(back.fo_exp);
    assert_int_equal(back.fo_len, 8);
    assert_memory_equal(back.fo_cookie, o.fo_cookie, 8);
    /* A 16-byte cookie in the experimental form fills the 40 bytes exactly beside 20 bytes of
     * SYN options; on a segment with timestamps and a SACK block the option keeps its 20
     * bytes and the block, which no longer fits beside them, is left out. */
    o.present |= SK_OPT_TIMESTAMP;
    o.fo_len = 16;
    assert_int_equal(sk_tcp_opts_emit(buf, sizeof(buf), &o, SK_SYN_OPTS_LINUX), 40);
    assert_int_equal(buf[20], 254);
    assert_int_equal(buf[21], 20);
    o.present = SK_OPT_TIMESTAMP | SK_OPT_SACK | SK_OPT_FASTOPEN;
    o.nsack = 1;
    assert_int_equal(sk_tcp_opts_emit(buf, sizeof(buf), &o, NON_SYN), 12 + 20);
    assert_int_equal(buf[12], 254);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_known_linux_syn),
        cmocka_unit_test(test_tcp_round_trip_with_payload),
        cmocka_unit_test(test_tcp_emit_payload_in_place),
        cmocka_unit_test(test_tcp_malformed),
        cmocka_unit_test(test_opts_empty_and_padding),
        cmocka_unit_test(test_opts_eol_stops_parsing),
        cmocka_unit_test(test_opts_unknown_skipped_by_length),
        cmocka_unit_test(test_opts_sack_blocks),
        cmocka_unit_test(test_opts_repeated_last_wins),
        cmocka_unit_test(test_opts_malformed),
        cmocka_unit_test(test_emit_linux_syn_layouts),
        cmocka_unit_test(test_emit_freebsd_syn_layouts),
        cmocka_unit_test(test_emit_non_syn_layouts),
        cmocka_unit_test(test_emit_unusual_combinations),
        cmocka_unit_test(test_emit_sack_edge_cases),
        cmocka_unit_test(test_opts_round_trip_all_combinations),
        cmocka_unit_test(test_opts_fastopen_parse),
        cmocka_unit_test(test_opts_fastopen_invalid_lengths),
        cmocka_unit_test(test_emit_fastopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
