/* Scenario test harness: two stacks on a virtual clock ("pair"), or one stack and a scripted
 * peer ("raw", like packetdrill), with helpers that make a test read like the RFC's ladder:
 *
 *     sk_tcp_connect(p->a, 0, ADDR_B, 80, &c);
 *     expect_seg(p, A_TO_B, SK_TCP_SYN, iss_a, 0);
 *
 * Every trace event of every stack is recorded. The expect_* helpers consume segments in order
 * and, on a mismatch, print the whole recorded ladder and fail the test at the caller's line.
 */
#ifndef SK_TEST_HARNESS_H
#define SK_TEST_HARNESS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "synack/sim.h"
#include "synack/stack.h"
#include "synack/tcp.h"
#include "synack/trace.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */
#define SIDE_A 0
#define SIDE_B 1
#define A_TO_B SIDE_A      /* segments are named by the side that sends them */
#define B_TO_A SIDE_B

#define MS(x) ((sk_time_us)(x) * 1000u)
#define SEC(x) ((sk_time_us)(x) * 1000000u)
#define T0 SEC(1)          /* every scenario starts at t = 1 s */
#define LINK_DELAY MS(10)  /* one-way delay of the pair's link */

/* Short flag names for the scripts. */
#define ACK SK_TCP_ACK
#define SYN SK_TCP_SYN
#define FIN SK_TCP_FIN
#define RST SK_TCP_RST
#define PSH SK_TCP_PSH

/* One recorded trace event (the frame pointer is dropped: it is valid only in the callback). */
struct rec_ev {
    int side;
    struct sk_trace_event ev;
};

struct recorder {
    struct rec_ev *ev;
    size_t n, cap;
    size_t seg_cursor[2]; /* next SEG_OUT to consume, per side */
    size_t state_cursor[2];
};

/* A default configuration for side 0 or 1 (address, seed), deterministic. */
void harness_config(struct sk_config *cfg, int side);

/* ---------------- pair: two stacks, an sk_sim, a 10 ms link each way ---------------- */
struct pair {
    struct sk_sim sim;
    struct sk_stack *a, *b;
    struct sk_stack *st[2];
    struct recorder rec;
};

/* NULL configs mean harness_config(). The link delay is LINK_DELAY each way. Time starts at T0. */
struct pair *pair_new(const struct sk_config *ca, const struct sk_config *cb);
void pair_free(struct pair *p);
sk_time_us pair_now(const struct pair *p);
/* Runs every event up to and including time t; the clock ends at t. */
void pair_run_until(struct pair *p, sk_time_us t);
/* Runs for d microseconds from now. */
void pair_run_for(struct pair *p, sk_time_us d);
/* One event (arrival or timer) no later than limit; false if none. */
bool pair_step(struct pair *p, sk_time_us limit);
/* Drops the nth frame (from 1; 0 = every) from `side` whose TCP flags & mask == value. */
void pair_drop(struct pair *p, int side, uint8_t mask, uint8_t value, uint32_t nth);
/* Handshake helper: b listens on port, a connects; runs until both are ESTABLISHED and the
 * accept returns. Segment cursors are moved past the handshake. */
void pair_establish(struct pair *p, uint16_t port, struct sk_tcp **ca, struct sk_tcp **lb,
                    struct sk_tcp **cb);

/* ---------------- raw: one stack (10.0.0.1) and a scripted peer (10.0.0.2) ---------------- */
#define RAW_LOCAL_PORT 80
#define RAW_PEER_PORT 40000

struct raw_out {
    sk_time_us time;
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint32_t len;
    uint8_t data[1600];
    uint8_t opts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t tos;       /* the IP header's TOS byte (RFC 3168 §5: ECN field in the low 2 bits) */
    uint8_t fo_len;    /* RFC 7413 Fast Open option (SK_OPT_FASTOPEN in opts): cookie bytes */
    bool fo_exp;       /* the experimental form (kind 254) */
    uint8_t fo_cookie[16];
};

struct raw {
    struct sk_stack *st;
    sk_time_us now;
    struct raw_out *out;
    size_t nout, outcap, cursor;
    struct recorder rec;
    bool refuse; /* the link refuses every frame (sk_stack_output_refused), recording none */
};

/* A segment from the scripted peer. Zero ports mean RAW_PEER_PORT -> RAW_LOCAL_PORT; window
 * 65535 unless zero_wnd. Options only as set in opts. */
struct rseg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    bool zero_wnd;
    const void *data;
    size_t len;
    uint8_t opts; /* SK_OPT_* */
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t tos;            /* the IP header's TOS byte, e.g. SK_IP_CE (default 0) */
    /* Damage: */
    bool bad_csum;          /* flip the TCP checksum */
    size_t truncate_to;     /* IP payload cut to this many bytes (0: no cut) */
    const uint8_t *raw_opts; /* raw option bytes instead of opts (multiple of 4) */
    size_t raw_opts_len;
};

/* NULL config: harness_config(side 0). Time starts at T0. */
struct raw *raw_new(const struct sk_config *cfg);
/* Same, starting the clock at `start` (the ISN's clock component follows it, RFC 6528). */
struct raw *raw_new_at(const struct sk_config *cfg, sk_time_us start);
void raw_free(struct raw *r);
/* Hands the stack one segment at the current time. */
void raw_inject(struct raw *r, const struct rseg *s);
#define raw_send(r, ...) raw_inject((r), &(struct rseg){__VA_ARGS__})
/* Advances the clock to t, running every timer due on the way, each at its own deadline. */
void raw_run_until(struct raw *r, sk_time_us t);
void raw_run_for(struct raw *r, sk_time_us d);
/* Builds a frame for s (IPv4 + TCP) into buf; returns its length. */
size_t raw_build(uint8_t *buf, size_t cap, const struct rseg *s);

/* The peer's side of a passive open on a raw stack listening on RAW_LOCAL_PORT: SYN (irs),
 * expects SYN,ACK, sends ACK. Returns the accepted connection and the stack's ISS. */
struct sk_tcp *raw_accept(struct raw *r, struct sk_tcp *listener, uint32_t irs, uint32_t *iss);
/* Active open from the raw stack towards the peer: connect, expect SYN, answer SYN,ACK with
 * peer ISS `irs`, expect the ACK. Returns the connection; *iss its ISS. */
struct sk_tcp *raw_connect(struct raw *r, uint32_t irs, uint32_t *iss);

/* ---------------- expectations ---------------- */
#define HLOC __FILE__, __LINE__

/* Pair: the next segment sent by side `from` has exactly these flags, seq and ack (ack is
 * checked only when the ACK bit is in flags, or when RST without ACK: then ack must be 0).
 * Returns the recorded segment (time, window, options) for further checks. */
const struct rec_ev *expect_seg_(const char *f, int l, struct pair *p, int from, uint8_t flags,
                                 uint32_t seq, uint32_t ack);
#define expect_seg(p, from, flags, seq, ack) expect_seg_(HLOC, (p), (from), (flags), (seq), (ack))
/* Same, with the payload length too. */
const struct rec_ev *expect_data_(const char *f, int l, struct pair *p, int from, uint8_t flags,
                                  uint32_t seq, uint32_t ack, uint32_t len);
#define expect_data(p, from, flags, seq, ack, len)                                                 \
    expect_data_(HLOC, (p), (from), (flags), (seq), (ack), (len))
/* No further segment has been sent by side `from`. */
void expect_no_seg_(const char *f, int l, struct pair *p, int from);
#define expect_no_seg(p, from) expect_no_seg_(HLOC, (p), (from))
/* The next unconsumed segment sent by side `from` (not consumed), or NULL. For values a test
 * cannot know beforehand, e.g. the ISS of a child that never reaches accept(). */
const struct sk_trace_segment *peek_seg(struct pair *p, int from);
/* Skips whatever side `from` has sent so far. */
void skip_segs(struct pair *p, int from);

/* The connection is in state s now. */
void expect_state_(const char *f, int l, const struct sk_tcp *c, enum sk_tcp_state s);
#define expect_state(c, s) expect_state_(HLOC, (c), (s))

/* The exact path of states the connection conn_id of side went through: from, to1, to2, ... */
void expect_states_(const char *f, int l, struct recorder *rec, int side, uint64_t conn_id,
                    const int *path, size_t n);
#define expect_states(rec, side, id, ...)                                                          \
    expect_states_(HLOC, (rec), (side), (id), (const int[]){__VA_ARGS__},                          \
                   sizeof((const int[]){__VA_ARGS__}) / sizeof(int))
uint64_t conn_id(const struct sk_tcp *c);
struct sk_tcp_info info(const struct sk_tcp *c);

/* Time at which side `side`'s connection conn_id entered state s (the last time), or
 * SK_TIME_NEVER. */
sk_time_us state_time(struct recorder *rec, int side, uint64_t conn_id, enum sk_tcp_state s);

/* Raw: the next segment the stack sent. */
const struct raw_out *raw_expect_(const char *f, int l, struct raw *r, uint8_t flags, uint32_t seq,
                                  uint32_t ack);
#define raw_expect(r, flags, seq, ack) raw_expect_(HLOC, (r), (flags), (seq), (ack))
void raw_expect_none_(const char *f, int l, struct raw *r);
#define raw_expect_none(r) raw_expect_none_(HLOC, (r))

/* Counter helpers. */
uint64_t drops(struct sk_stack *st, enum sk_drop_reason why);
struct sk_stack_counters counters(struct sk_stack *st);

/* Frees every pair and raw a failed test left behind (cmocka jumps out of a failing test). */
int harness_teardown(void **state);
#define TEST(fn) cmocka_unit_test_teardown(fn, harness_teardown)

/* Prints the recorded ladder (every event) to stderr. */
void rec_dump(const struct recorder *rec);

#endif
