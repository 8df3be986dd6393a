/* One fixture for the scenario tests: the setups every file used to write again.
 *
 *  - fx_connect / fx_accept: a raw stack (harness.h) with one connection already ESTABLISHED
 *    to the scripted peer, by an active or a passive open, with the peer's ISN, MSS, options,
 *    window and RTT chosen by the test and the stack's ISS known (f->iss);
 *  - fx_pair: two stacks (harness.h "pair") with given configurations, buffers and MSS, the
 *    connection established and accepted;
 *  - the stream both sides move: byte k of it is fx_byte(k), so any receiver can check what
 *    arrived without keeping a copy; sending, reading and checking it;
 *  - the peer's segments: data at a stream offset, ACKs with timestamps and SACK blocks;
 *  - a counting allocator, for "memory stays flat".
 *
 * Sequence numbers: the stack's first data byte is f->iss + 1 (FX_SND(f, off) for stream
 * offset off), the peer's f->irs + 1 (FX_RCV(f, off)).
 */
#ifndef SK_TEST_FIXTURE_H
#define SK_TEST_FIXTURE_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "harness.h"
#include "wire/wire.h"

#define FX_IRS 1000u /* the scripted peer's ISN unless the test sets one */
#define FX_MSS 1460u /* the peer's MSS unless the test sets one, and ours on a 1500-byte MTU */

/* What the scripted peer puts in its SYN (fx_accept) or SYN,ACK (fx_connect). Zero fields take
 * the defaults in brackets. */
struct fx_peer {
    uint32_t isn;        /* [FX_IRS] */
    uint16_t mss;        /* [FX_MSS]; the option is always sent */
    bool sack, ts, ws;   /* SACK-permitted, timestamps, window scale offered */
    uint8_t wscale;      /* the peer's shift, if ws */
    uint16_t wnd;        /* window field of the SYN or SYN,ACK, unscaled as always [65535] */
    uint32_t ts_val;     /* the peer's TSval on its SYN or SYN,ACK */
    sk_time_us rtt_us;   /* between our SYN and the peer's SYN,ACK (fx_connect) [10 ms] */
};

struct fx {
    struct raw *r;
    struct sk_tcp *c;        /* the connection */
    struct sk_tcp *listener; /* fx_accept only */
    uint32_t iss, irs;       /* the stack's ISS (from sk_tcp_info), the peer's ISN */
    struct fx_peer peer;     /* as used, defaults filled in */
};
#define FX_SND(f, off) ((f)->iss + 1u + (uint32_t)(off))
#define FX_RCV(f, off) ((f)->irs + 1u + (uint32_t)(off))

/* A raw stack with harness_config (side A), congestion control cc (NULL: the default) and a
 * send buffer of sndbuf bytes (0: the default). */
struct raw *fx_raw(const char *cc, uint32_t sndbuf);
/* A raw stack (cfg NULL: harness_config side A) and an active open to the scripted peer:
 * SYN, the peer's SYN,ACK rtt_us later, the stack's ACK. The handshake's RTT sample is
 * exactly rtt_us. The segment cursor is past the handshake. */
struct fx fx_connect(const struct sk_config *cfg, const struct fx_peer *peer);
/* The same on an existing raw stack (for tests that configure r first). */
struct fx fx_connect_on(struct raw *r, const struct fx_peer *peer);
/* A raw stack listening on RAW_LOCAL_PORT and a passive open: the peer's SYN, the stack's
 * SYN,ACK, the peer's ACK, accept(). */
struct fx fx_accept(const struct sk_config *cfg, const struct fx_peer *peer);
void fx_free(struct fx *f);

/* ---- the stream ---- */
static inline uint8_t fx_byte(size_t k)
{
    return (uint8_t)(k * 7 + (k >> 8));
}
void fx_fill(uint8_t *p, size_t off, size_t n);
/* The stack's application sends stream bytes [off, off + n); returns what was taken. */
size_t fx_send(struct sk_tcp *c, size_t off, size_t n);
/* The stack's application reads everything there is; it must be stream bytes from *off on,
 * and *off moves past them. Returns the bytes read. */
size_t fx_recv_check(struct sk_tcp *c, size_t *off);

/* ---- the peer's segments ---- */
/* Raw option bytes: a timestamp (NOP NOP TS) if ts, and up to 4 SACK blocks (NOP NOP SACK;
 * 3 with a timestamp). Returns their length. */
size_t fx_opts(uint8_t *b, bool ts, uint32_t ts_val, uint32_t ts_ecr,
               const uint32_t (*blocks)[2], size_t nblocks);
/* The peer acknowledges `ack` with these SACK blocks (none: NULL, 0), no timestamp. */
void fx_ack(struct fx *f, uint32_t ack, const uint32_t (*blocks)[2], size_t nblocks);
/* The peer sends its stream bytes [off, off + len) acknowledging `ack` (flags ACK|PSH). */
void fx_peer_data(struct fx *f, uint32_t off, uint32_t len, uint32_t ack);

/* ---- the stack's segments ---- */
/* The trace record of r->out[i] (it has the SACK blocks raw_out has no room for). */
const struct sk_trace_segment *fx_out_seg(struct raw *r, size_t i);
/* The SACK blocks of r->out[i] are exactly these, in this order. */
void fx_expect_sack_(const char *f, int l, struct raw *r, size_t i, const uint32_t (*blocks)[2],
                     size_t n);
#define fx_expect_sack(r, i, ...)                                                                  \
    fx_expect_sack_(HLOC, (r), (i), (const uint32_t[][2]){__VA_ARGS__},                          \
                    sizeof((const uint32_t[][2]){__VA_ARGS__}) / sizeof(uint32_t[2]))
#define fx_expect_no_sack(r, i) fx_expect_sack_(HLOC, (r), (i), NULL, 0)
/* The next segment the raw stack sent: flags, seq, ack and payload length. */
const struct raw_out *fx_expect_data_(const char *f, int l, struct raw *r, uint8_t flags,
                                      uint32_t seq, uint32_t ack, uint32_t len);
#define fx_expect_data(r, flags, seq, ack, len)                                                    \
    fx_expect_data_(HLOC, (r), (flags), (seq), (ack), (len))
/* Segments the stack sent since the cursor, from r->out[*first] on (first may be NULL); moves
 * the cursor past them. */
size_t fx_take(struct raw *r, size_t *first);

/* ---- two stacks ---- */
struct fx_pair_opts {
    const struct sk_config *ca, *cb; /* NULL: harness_config */
    uint32_t sndbuf, rcvbuf;         /* both sides, if non-zero */
    uint16_t mss;                    /* both sides announce it, if non-zero */
    uint16_t port;                   /* b listens here [80] */
};
struct fx_pair {
    struct pair *p;
    struct sk_tcp *ca, *lb, *cb; /* a's connection, b's listener, b's accepted connection */
};
struct fx_pair fx_pair_open(const struct fx_pair_opts *o);

/* ---- memory ---- */
/* A counting allocator for sk_config.alloc: bytes live now and at most. fail_next: the next
 * this many allocations (frees never fail) return NULL, as under memory pressure. */
struct fx_mem {
    size_t live, peak;
    unsigned fail_next;
};
void *fx_mem_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size);
static inline void fx_mem_use(struct sk_config *cfg, struct fx_mem *m)
{
    cfg->alloc = fx_mem_alloc;
    cfg->alloc_ctx = m;
}

#endif
