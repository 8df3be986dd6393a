/* Helpers shared by the data-path scenarios (test_datapath_*.c): a raw active open with a
 * chosen RTT and chosen SYN,ACK options, peer segments carrying SACK blocks, and the SACK
 * blocks of what the stack sent (raw_out has no room for them; the trace has). */
#ifndef SK_TEST_DATAPATH_H
#define SK_TEST_DATAPATH_H

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "wire/wire.h"

#define IRS 1000u      /* the scripted peer's ISN */
#define MSS 1460u      /* the peer's MSS, and ours on a 1500-byte MTU */

/* Options the scripted peer puts in its SYN,ACK. */
struct peer_opts {
    bool sack, ts, ws;
    uint8_t wscale;
    uint16_t wnd;        /* window in the SYN,ACK (unscaled, as always on a SYN) */
    uint32_t ts_val;     /* the peer's TSval on the SYN,ACK */
};

/* Active open from the raw stack: SYN at the current time, the peer's SYN,ACK rtt_us later,
 * then the stack's ACK. The RTT sample of the handshake is exactly rtt_us. */
static inline struct sk_tcp *dp_connect(struct raw *r, sk_time_us rtt_us,
                                        const struct peer_opts *po, uint32_t *iss)
{
    struct sk_tcp *c = NULL;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t s = info(c).iss;
    const struct raw_out *syn = raw_expect(r, SYN, s, 0);
    uint32_t syn_tsval = syn->ts_val;
    raw_run_for(r, rtt_us);
    struct peer_opts none = {0};
    if (po == NULL)
        po = &none;
    uint8_t o = SK_OPT_MSS;
    if (po->sack)
        o |= SK_OPT_SACK_PERM;
    if (po->ts)
        o |= SK_OPT_TIMESTAMP;
    if (po->ws)
        o |= SK_OPT_WSCALE;
    raw_send(r, .flags = SYN | ACK, .seq = IRS, .ack = s + 1, .opts = o, .mss = MSS,
             .wscale = po->wscale, .wnd = po->wnd, .ts_val = po->ts_val, .ts_ecr = syn_tsval);
    raw_expect(r, ACK, s + 1, IRS + 1);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    if (iss)
        *iss = s;
    return c;
}

/* Raw option bytes: an optional timestamp (NOP NOP TS) and up to 3 SACK blocks (NOP NOP SACK). */
static inline size_t dp_opts(uint8_t *b, bool ts, uint32_t ts_val, uint32_t ts_ecr,
                             const uint32_t (*blocks)[2], size_t nblocks)
{
    size_t n = 0;
    if (ts) {
        b[n++] = 1;
        b[n++] = 1;
        b[n++] = 8;
        b[n++] = 10;
        sk_put32(b + n, ts_val);
        sk_put32(b + n + 4, ts_ecr);
        n += 8;
    }
    if (nblocks) {
        b[n++] = 1;
        b[n++] = 1;
        b[n++] = 5;
        b[n++] = (uint8_t)(2 + 8 * nblocks);
        for (size_t i = 0; i < nblocks; i++) {
            sk_put32(b + n, blocks[i][0]);
            sk_put32(b + n + 4, blocks[i][1]);
            n += 8;
        }
    }
    return n;
}

/* The peer acknowledges `ack` with SACK blocks (no timestamps), window wnd (0: 65535). */
static inline void dp_sack(struct raw *r, uint32_t ack, const uint32_t (*blocks)[2],
                           size_t nblocks)
{
    uint8_t o[40];
    size_t n = dp_opts(o, false, 0, 0, blocks, nblocks);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = ack, .raw_opts = n ? o : NULL,
             .raw_opts_len = n);
}

/* The trace record of the i-th segment the raw stack sent (r->out[i]): it has the SACK blocks. */
static inline const struct sk_trace_segment *dp_out_seg(struct raw *r, size_t i)
{
    size_t k = 0;
    for (size_t j = 0; j < r->rec.n; j++) {
        if (r->rec.ev[j].ev.kind != SK_TRACE_SEG_OUT)
            continue;
        if (k++ == i)
            return &r->rec.ev[j].ev.u.seg;
    }
    fail_msg("no trace record for segment %zu", i);
    return NULL;
}

/* The SACK blocks of r->out[i] are exactly these, in this order. */
static inline void dp_expect_sack_(const char *f, int l, struct raw *r, size_t i,
                                   const uint32_t (*blocks)[2], size_t n)
{
    const struct sk_trace_segment *s = dp_out_seg(r, i);
    bool ok = s->nsack == n && (n == 0 || (s->opts & SK_OPT_SACK));
    for (size_t k = 0; ok && k < n; k++)
        ok = s->sack[k].left == blocks[k][0] && s->sack[k].right == blocks[k][1];
    if (!ok) {
        print_error("segment %zu: expected %zu SACK blocks:", i, n);
        for (size_t k = 0; k < n; k++)
            print_error(" [%u,%u)", blocks[k][0], blocks[k][1]);
        print_error("\n  got %u:", s->nsack);
        for (size_t k = 0; k < s->nsack && k < 4; k++)
            print_error(" [%u,%u)", s->sack[k].left, s->sack[k].right);
        print_error("\n");
        _fail(f, l);
    }
}
#define dp_expect_sack(r, i, ...)                                                                  \
    dp_expect_sack_(HLOC, (r), (i), (const uint32_t[][2]){__VA_ARGS__},                          \
                    sizeof((const uint32_t[][2]){__VA_ARGS__}) / sizeof(uint32_t[2]))
#define dp_expect_no_sack(r, i) dp_expect_sack_(HLOC, (r), (i), NULL, 0)

/* A deterministic payload: byte k of the stream. */
static inline uint8_t dp_byte(size_t k)
{
    return (uint8_t)(k * 7 + (k >> 8));
}
static inline void dp_fill(uint8_t *p, size_t off, size_t n)
{
    for (size_t k = 0; k < n; k++)
        p[k] = dp_byte(off + k);
}

/* The stack sends stream bytes [off, off + n) from the start of the stream (the caller keeps
 * the offset); returns what was taken. */
static inline size_t dp_send(struct sk_tcp *c, size_t off, size_t n)
{
    static uint8_t buf[1 << 16];
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
        dp_fill(buf, off + done, k);
        ssize_t m = sk_tcp_send(c, buf, k);
        if (m <= 0)
            break;
        done += (size_t)m;
    }
    return done;
}

/* The next segment the raw stack sent: flags, seq, ack and payload length. */
static inline const struct raw_out *dp_expect_data_(const char *f, int l, struct raw *r,
                                                    uint8_t flags, uint32_t seq, uint32_t ack,
                                                    uint32_t len)
{
    const struct raw_out *o = raw_expect_(f, l, r, flags, seq, ack);
    if (o->len != len) {
        print_error("segment %zu seq=%u: expected len %u, got %u\n", r->cursor - 1, seq, len,
                    o->len);
        _fail(f, l);
    }
    return o;
}
#define dp_expect_data(r, flags, seq, ack, len) dp_expect_data_(HLOC, (r), (flags), (seq), (ack), (len))

#endif
