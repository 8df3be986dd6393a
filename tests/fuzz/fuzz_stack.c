/* Fuzz target for the whole stack: a hostile peer and a capricious application at once.
 *
 * The input is a script of records. Each either hands the stack a datagram (raw bytes with the
 * IP header patched so that it reaches TCP, or a TCP segment crafted from fuzz bytes whose
 * acknowledgment number can follow what the stack last sent, so handshakes and data transfers
 * happen), moves the clock, or makes the application act (accept, send, recv, shutdown, close,
 * abort, connect, listen). TCP checksums are off (`csum_offload`) so that the fuzzer need not
 * guess them. Properties, checked after every record: the stack never holds more connections or
 * buffer bytes than its limits; every segment it emits parses. ASan and LeakSanitizer watch
 * memory; sk_stack_free at the end must leave nothing behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "synack/synack.h"

#define OUR_ADDR 0x0a000001u
#define PEER_ADDR 0x0a000002u
#define MAX_CONNS 16
#define MAX_BUF (64u * 1024)

static uint16_t fuzz_u16(struct fuzz_reader *r)
{
    uint16_t hi = fuzz_u8(r);
    return (uint16_t)(hi << 8 | fuzz_u8(r));
}

struct fuzz_app {
    struct sk_stack *st;
    struct sk_tcp *listener;
    struct sk_tcp *conn[8];
    sk_time_us now;
    /* What the stack last sent the peer: for crafting acceptable ACKs. */
    uint16_t last_sport, last_dport;
    uint32_t last_seq_end, last_ack;
};

static void on_output(void *ctx, const uint8_t *frame, size_t len)
{
    struct fuzz_app *a = ctx;
    struct sk_ipv4_hdr ip;
    FUZZ_CHECK(sk_ipv4_parse(frame, len, &ip) == 0);
    if (ip.proto != SK_IPPROTO_TCP)
        return;
    struct sk_tcp_hdr h;
    FUZZ_CHECK(sk_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &h) == 0);
    a->last_sport = h.sport;
    a->last_dport = h.dport;
    a->last_seq_end = h.seq + (uint32_t)h.payload_len + ((h.flags & (SK_TCP_SYN | SK_TCP_FIN)) ? 1 : 0);
    a->last_ack = h.ack;
}

static void input(struct fuzz_app *a, const uint8_t *pkt, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any read past len */
    memcpy(copy, pkt, len);
    sk_stack_input(a->st, copy, len, a->now);
    free(copy);
}

/* Raw bytes as an IP datagram to us: version, header length, total length, addresses and
 * header checksum patched (when there are 20 bytes), everything else as the fuzzer made it. */
static void raw_datagram(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t buf[1600];
    size_t len = (size_t)fuzz_u8(r) * 6;
    if (len > r->n)
        len = r->n;
    memcpy(buf, r->p, len);
    r->p += len;
    r->n -= len;
    if (len >= SK_IPV4_HLEN && (buf[0] & 1)) {
        size_t ihl = 20 + 4 * (size_t)(buf[0] >> 5 & 3);
        if (ihl > len)
            ihl = 20;
        buf[0] = (uint8_t)(0x40 | ihl / 4);
        sk_put16(buf + 2, (uint16_t)len);
        sk_put32(buf + 12, PEER_ADDR);
        sk_put32(buf + 16, OUR_ADDR);
        if (buf[1] & 1)
            buf[9] = SK_IPPROTO_TCP;
        sk_put16(buf + 6, 0x4000); /* DF, not a fragment */
        sk_put16(buf + 10, 0);
        sk_put16(buf + 10, sk_csum_fold(sk_csum_add(0, buf, ihl)));
    }
    input(a, buf, len);
}

/* A TCP segment from the peer, crafted from fuzz bytes. */
static void tcp_segment(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t mode = fuzz_u8(r);
    struct sk_tcp_hdr h = {0};
    bool follow = (mode & 1) && a->last_dport != 0;
    h.sport = follow ? a->last_dport : (uint16_t)(40000 + fuzz_u8(r) % 4);
    h.dport = follow ? a->last_sport : (uint16_t)(mode & 2 ? 80 : 81);
    h.flags = fuzz_u8(r);
    uint32_t jitter = (uint32_t)(int8_t)fuzz_u8(r);
    h.seq = follow ? a->last_ack + jitter : fuzz_u32(r);
    h.ack = follow ? a->last_seq_end + (mode & 4 ? jitter : 0) : fuzz_u32(r);
    h.wnd = fuzz_u16(r);
    h.urg = (mode & 8) ? fuzz_u16(r) : 0;
    if (mode & 16) {
        uint8_t olen = fuzz_u8(r) % 41;
        uint8_t opts[40];
        for (uint8_t i = 0; i < olen; i++)
            opts[i] = fuzz_u8(r);
        if (sk_tcp_opts_parse(opts, olen, &h.opts) != 0)
            memset(&h.opts, 0, sizeof(h.opts));
    }
    uint8_t data[1400];
    size_t dlen = (mode & 32) ? (size_t)fuzz_u8(r) * 5 : 0;
    for (size_t i = 0; i < dlen; i++)
        data[i] = (uint8_t)i;
    h.payload = data;
    h.payload_len = dlen;
    h.csum_offload = true;
    uint8_t seg[1600];
    size_t n = sk_tcp_emit(seg + SK_IPV4_HLEN, sizeof(seg) - SK_IPV4_HLEN, PEER_ADDR, OUR_ADDR,
                           &h, (h.flags & SK_TCP_SYN) ? 0 : -1);
    if (n == 0)
        return;
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = PEER_ADDR, .dst = OUR_ADDR, .df = true};
    n += sk_ipv4_emit(seg, SK_IPV4_HLEN, &ip, n);
    input(a, seg, n);
}

static void app(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t what = fuzz_u8(r);
    size_t i = (what >> 4) % 8;
    struct sk_tcp **c = &a->conn[i];
    uint8_t buf[3000];
    switch (what % 10) {
    case 0:
        if (*c == NULL && a->listener)
            sk_tcp_accept(a->listener, c);
        break;
    case 1:
        if (*c) {
            size_t n = (size_t)fuzz_u8(r) * 11;
            memset(buf, 0x61, n);
            sk_tcp_send(*c, buf, n);
        }
        break;
    case 2:
        if (*c)
            sk_tcp_recv(*c, buf, (size_t)fuzz_u8(r) * 11 + 1);
        break;
    case 3:
        if (*c)
            sk_tcp_shutdown(*c);
        break;
    case 4:
        if (*c) {
            sk_tcp_close(*c);
            *c = NULL;
        }
        break;
    case 5:
        if (*c) {
            sk_tcp_abort(*c);
            *c = NULL;
        }
        break;
    case 6:
        if (*c == NULL)
            sk_tcp_connect(a->st, (uint16_t)(80 + fuzz_u8(r) % 2), PEER_ADDR,
                           (uint16_t)(40000 + fuzz_u8(r) % 4), c);
        break;
    case 7:
        if (a->listener) {
            sk_tcp_close(a->listener);
            a->listener = NULL;
        } else {
            sk_tcp_listen(a->st, 80, 1 + fuzz_u8(r) % 4, &a->listener);
        }
        break;
    case 8:
        if (*c)
            sk_tcp_set_keepalive(*c, true, 1000000, 500000, 2);
        break;
    default:
        if (*c)
            sk_tcp_set_nodelay(*c, fuzz_u8(r) & 1);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_app a = {0};
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.addr = OUR_ADDR;
    cfg.output = on_output;
    cfg.output_ctx = &a;
    cfg.csum_offload = true;
    cfg.max_connections = MAX_CONNS;
    cfg.max_syn_backlog = 4;
    cfg.sndbuf_bytes = 4096;
    cfg.rcvbuf_bytes = 4096;
    cfg.max_buffer_bytes = MAX_BUF;
    cfg.ecn = 1;
    cfg.msl_us = 2000000;
    sk_config_set_test_seed(&cfg, 1); /* an input replays exactly */
    a.now = 1000000;
    a.st = sk_stack_new(&cfg, a.now, NULL);
    FUZZ_CHECK(a.st != NULL);
    sk_tcp_listen(a.st, 80, 4, &a.listener);
    struct fuzz_reader r = {data, size};
    while (r.n > 0) {
        switch (fuzz_u8(&r) % 4) {
        case 0:
            raw_datagram(&a, &r);
            break;
        case 1:
            tcp_segment(&a, &r);
            break;
        case 2:
            a.now += (sk_time_us)fuzz_u8(&r) * 20000;
            sk_stack_poll(a.st, a.now);
            break;
        default:
            app(&a, &r);
            break;
        }
        struct sk_stack_counters k;
        sk_stack_counters(a.st, &k);
        FUZZ_CHECK(k.connections <= MAX_CONNS);
        FUZZ_CHECK(k.buffer_bytes <= MAX_BUF);
    }
    /* Let every timer run out: TIME-WAIT, retransmissions, keep-alives. */
    for (int i = 0; i < 64; i++) {
        sk_time_us d = sk_stack_next_deadline(a.st);
        if (d == SK_TIME_NEVER)
            break;
        a.now = d > a.now ? d : a.now;
        sk_stack_poll(a.st, a.now);
    }
    sk_stack_free(a.st);
    return 0;
}
