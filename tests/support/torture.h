/* Torture-test support: two stacks in the simulator moving seeded byte streams both ways,
 * with an application that reads as fast as it can, N bytes every T ms, or stops and goes.
 *
 * The oracle is independent of the stack: byte k of a stream is a function of (seed, k) only,
 * so the receiver regenerates what it should have got and compares every byte, without keeping
 * a copy of gigabytes. While the transfer runs the driver also watches what only the outside
 * can judge: how often each side's SND.NXT wrapped around 2^32 and the largest cwnd seen.
 */
#ifndef SK_TEST_TORTURE_H
#define SK_TEST_TORTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/sim.h"
#include "synack/stack.h"
#include "synack/tcp.h"

#define TT_PORT 5001

/* How an application reads. All zero: everything readable, whenever something is. */
struct tt_reader {
    uint32_t bytes;        /* at most this many bytes per turn (0: all there is) */
    sk_time_us every_us;   /* one turn every every_us (0: after every simulator step) */
    sk_time_us go_us;      /* stop-and-go: after reading for go_us ... */
    sk_time_us stop_us;    /* ... the application reads nothing for stop_us (0: never stops) */
};

struct tt_side {
    struct sk_tcp *c;
    uint64_t out_seed, out_len, sent; /* the stream this side writes */
    uint64_t in_seed, in_len, got;    /* the stream it should read */
    uint64_t bad_at;                  /* first stream offset that differed, UINT64_MAX if none */
    bool shut, eof;
    struct tt_reader rd;
    sk_time_us next_read, go_since;
    uint32_t last_nxt;                /* SND.NXT when last looked at */
    uint32_t nxt_wraps;               /* times SND.NXT went from near 2^32 back past 0 */
    uint32_t cwnd_max;
    int error;                        /* first connection error seen */
    sk_time_us last_read_at;          /* virtual time of the last byte read (stalls show here) */
    /* The window this side offered, as seen on the wire (RFC 7323 §2.3: the field shifted
     * by the scale this side announced, when both SYNs carried the option). */
    int syn_wscale;                   /* shift announced in our SYN, -1 if none */
    bool edge_valid;
    uint32_t right_edge;              /* highest SEG.ACK + SEG.WND * 2^shift offered so far */
    uint32_t ack_sent;                /* highest SEG.ACK sent: RCV.NXT as the peer last heard */
    /* Segments this side dropped although they lay inside a window it had offered: new data
     * (ending past the last ACK sent) that ends at or before the right edge, or a bare ACK
     * between the last ACK sent and the edge (RFC 9293 §3.10.7.4's acceptability test, with
     * what was seen on the wire). Zero-window probes, one byte past the edge, and duplicates
     * of acknowledged data are not counted. */
    uint64_t inwin_drops;
    struct { sk_time_us time; uint32_t seq, len, right_edge; int reason; } first_inwin;
};

struct tt_run {
    struct sk_sim sim;
    struct sk_tcp *listener;
    struct tt_side s[2];
    sk_time_us established_at, done_at;
    bool watch_info;                  /* read sk_tcp_get_info after each step (wraps, cwnd) */
    bool keep_open;                   /* no shutdown: done when every byte is read */
};

/* A configuration for side 0 (10.0.0.1) or 1 (10.0.0.2): both buffers buf_bytes, the MTU
 * (the MSS follows it), window scaling offered with shift wscale, SACK and timestamps on,
 * rto_min 200 ms, and a buffer budget large enough for one connection's two buffers. */
void tt_config(struct sk_config *c, int side, uint32_t buf_bytes, uint16_t mtu, uint8_t wscale);

/* Both stacks in a simulator with `delay_us` one way, no faults; side 1 listens, side 0
 * connects, and the run waits for both to be ESTABLISHED (fails the test otherwise). */
struct tt_run *tt_new(const struct sk_config *a, const struct sk_config *b, uint64_t seed,
                      uint32_t delay_us);
void tt_free(struct tt_run *r);
/* cmocka teardown: frees the runs a failed test left behind (cmocka jumps out of it). */
int tt_teardown(void **state);
void tt_faults(struct tt_run *r, int from_side, const struct sk_memlink_faults *f);

/* Side `side` will send `len` bytes of the stream seeded `seed` (the other side expects them)
 * and then shut down. */
void tt_stream(struct tt_run *r, int side, uint64_t seed, uint64_t len);

/* Side `side` will send `len` more bytes of its stream (after a keep_open transfer). */
void tt_more(struct tt_run *r, int side, uint64_t len);

/* Runs until both sides have read the other's whole stream and its FIN, a connection fails,
 * or virtual time reaches `limit`. Returns true when both streams were read to the end (the
 * bytes may still differ: check bad_at). */
bool tt_transfer(struct tt_run *r, sk_time_us limit);

/* Prints a one-line summary of a side to stderr: bytes, wraps, cwnd, counters. */
void tt_report(const struct tt_run *r, const char *name);

/* Byte k..k+n of the stream seeded `seed`. */
void tt_fill(uint64_t seed, uint64_t k, uint8_t *p, size_t n);

/* SK_TORTURE_SCALE (a positive number, default 1) times n, at least `min`. */
uint64_t tt_scaled(uint64_t n, uint64_t min);

/* Wall-clock seconds since an unspecified origin (for the reports only, never asserted). */
double tt_wall(void);

#endif
