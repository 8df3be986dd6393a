/* Attacks on the sender's data path by a hostile receiver, each held by a bound the test
 * computes itself and fails loudly without:
 *
 *  - the SACK Panic class (CVE-2019-11477/78/79): a peer with a tiny MSS and SACK blocks
 *    crafted to fragment the scoreboard (1-byte islands, blocks beyond SND.MAX, below SND.UNA,
 *    reversed, overlapping, thousands a second): the scoreboard holds at most SB_MAX ranges,
 *    overflow is counted, the work per ACK is linear in the scoreboard and in what the ACK
 *    makes us send, memory does not grow, and the transfer completes byte-exact;
 *  - ACK division (Savage et al., "TCP Congestion Control with a Misbehaving Receiver", 1999):
 *    cwnd grows by the bytes acknowledged, not by the ACKs (RFC 5681 §3.1, RFC 3465);
 *  - duplicate-ACK spoofing (same paper): without SACK, cwnd is inflated by at most one SMSS
 *    per segment outstanding (RFC 5681 §3.2, the note after step 4); with SACK, duplicate
 *    ACKs that SACK nothing new release nothing (RFC 6675 §5: pipe, not the ACK count);
 *  - optimistic ACKs, for data not yet sent: dropped (RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2),
 *    nothing counted as delivered, cwnd unchanged.
 */
#include "fixture.h"

#include <stdlib.h>

#define SB_MAX 32u  /* the scoreboard's capacity by default (sk_config.sack_ranges_max) */
#define OOO_MAX 16u /* the out-of-order ranges' by default (sk_config.ooo_ranges_max) */
#define SMSS 1460u  /* the peer's MSS without options: our SMSS (RFC 6691) */

/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
static uint32_t rfc6928_iw(uint32_t mss)
{
    uint32_t a = 2 * mss > 14600 ? 2 * mss : 14600;
    return 10 * mss < a ? 10 * mss : a;
}

/* ---- what the scripted peer has received of the stack's stream ---- */
struct sink {
    size_t total;    /* the stream's length */
    bool *got;       /* byte k arrived */
    size_t cum;      /* bytes in order from 0 */
    size_t hi;       /* highest offset sent + 1 (SND.MAX as the peer sees it) */
    size_t next;     /* next r->out to look at */
    size_t segs;     /* data segments seen */
};

static struct sink sink_new(size_t total)
{
    struct sink k = {.total = total, .got = calloc(total, 1)};
    assert_non_null(k.got);
    return k;
}

/* Takes every segment the stack sent since the last call: each payload must be the stream's
 * bytes at its offset, inside the stream. Returns the data segments taken. */
static size_t sink_take(struct fx *f, struct sink *k)
{
    size_t n = 0;
    for (; k->next < f->r->nout; k->next++) {
        const struct raw_out *o = &f->r->out[k->next];
        if (o->len == 0)
            continue;
        uint32_t off = o->seq - FX_SND(f, 0);
        if (off >= k->total || o->len > k->total - off)
            fail_msg("segment seq=%u len=%u outside the stream of %zu", o->seq, o->len, k->total);
        for (uint32_t i = 0; i < o->len; i++) {
            if (o->data[i] != fx_byte(off + i))
                fail_msg("stream byte %u: got %u, want %u", off + i, o->data[i], fx_byte(off + i));
            k->got[off + i] = true;
        }
        if (off + o->len > k->hi)
            k->hi = off + o->len;
        n++;
    }
    k->segs += n;
    while (k->cum < k->total && k->got[k->cum])
        k->cum++;
    f->r->cursor = f->r->nout;
    return n;
}

/* Up to 4 true SACK blocks above the cumulative point (RFC 2018 §4, lowest first). */
static size_t sink_blocks(const struct fx *f, const struct sink *k, uint32_t (*b)[2])
{
    size_t n = 0;
    size_t i = k->cum;
    while (n < 4 && i < k->hi) {
        while (i < k->hi && !k->got[i])
            i++;
        if (i >= k->hi)
            break;
        size_t e = i;
        while (e < k->hi && k->got[e])
            e++;
        b[n][0] = FX_SND(f, i);
        b[n][1] = FX_SND(f, e);
        n++;
        i = e;
    }
    return n;
}

/* One round of slow start: the peer takes what the stack sent and acknowledges each data
 * segment on its own (RFC 5681 §3.1: each ACK of a full segment grows cwnd by one SMSS); the
 * answers wait for the next round, 10 ms later. */
static void ack_each_segment(struct fx *f, struct sink *k)
{
    size_t from = k->next;
    sink_take(f, k);
    size_t end = f->r->nout;
    for (size_t i = from; i < end; i++)
        if (f->r->out[i].len)
            fx_ack(f, f->r->out[i].seq + f->r->out[i].len, NULL, 0);
    raw_run_for(f->r, MS(10));
}

/* The peer acknowledges honestly until the whole stream arrived, running timers as it goes. */
static void sink_complete(struct fx *f, struct sink *k, sk_time_us limit)
{
    sk_time_us end = f->r->now + limit;
    while (k->cum < k->total && f->r->now < end) {
        sink_take(f, k);
        uint32_t b[4][2];
        size_t nb = sink_blocks(f, k, b);
        fx_ack(f, FX_SND(f, k->cum), b, nb);
        raw_run_for(f->r, MS(1));
    }
    sink_take(f, k);
    fx_ack(f, FX_SND(f, k->cum), NULL, 0);
    if (k->cum != k->total)
        fail_msg("transfer incomplete: %zu of %zu bytes in order", k->cum, k->total);
}

/* A sender to attack: the stack connects to the scripted peer (MSS 1460, window scale 7, SACK
 * if asked) with congestion control cc and a 1 MiB send buffer; the peer's first ACK carries
 * the scaled window, so that later ACKs repeat it exactly (duplicates, RFC 5681 §2); the
 * application writes `bytes` of the stream and the sink takes the initial window (RFC 6928:
 * ten segments). */
#define STREAM (2u * 1024 * 1024)
static struct fx sender(const char *cc, bool sack, size_t bytes, struct sink *k)
{
    struct fx f = fx_connect_on(fx_raw(cc, 1024 * 1024),
                                &(struct fx_peer){.sack = sack, .ws = true, .wscale = 7});
    fx_ack(&f, FX_SND(&f, 0), NULL, 0);
    assert_int_equal(info(f.c).snd_mss, SMSS);
    assert_int_equal(info(f.c).cwnd, rfc6928_iw(SMSS));
    assert_true(bytes >= rfc6928_iw(SMSS));
    assert_int_equal(fx_send(f.c, 0, bytes), bytes);
    *k = sink_new(STREAM);
    assert_int_equal(sink_take(&f, k), rfc6928_iw(SMSS) / SMSS);
    return f;
}

/* ---- SACK Panic ---- */

/* Work per ACK: a scoreboard operation (tcp_ranges.h) visits at most a binary search, the
 * ranges it covers and one move of the array: 2 * SB_MAX + 16 entries (the bound the range
 * set's unit test checks per operation). An ACK runs a fixed number of them (four blocks
 * taken, the trim at SND.UNA, the loss checks) and a fixed number per segment it makes us
 * send (pipe, NextSeg, the SACK skip): the bound is linear, never quadratic, in either. */
#define OP_WORK (2 * SB_MAX + 16)
#define OPS_PER_ACK 16u
#define OPS_PER_SEG 8u

struct attack_rng {
    uint64_t s;
};
static uint32_t arnd(struct attack_rng *g, uint32_t n)
{
    g->s = g->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g->s >> 33) % n;
}

/* One crafted block about the flight [una, max) the peer sees. */
static void crafted_block(struct attack_rng *g, uint32_t una, uint32_t max, uint32_t *b)
{
    uint32_t span = max - una;
    uint32_t j = span > 4 ? arnd(g, span / 2 - 1) : 0;
    switch (arnd(g, 8)) {
    case 0: /* 1-byte islands every other byte: the most ranges the flight can hold */
    case 1:
        b[0] = una + 1 + 2 * j;
        b[1] = b[0] + 1;
        break;
    case 2: /* beyond SND.MAX */
        b[0] = max + 1 + arnd(g, 1000);
        b[1] = b[0] + 1 + arnd(g, 1000);
        break;
    case 3: /* below SND.UNA */
        b[0] = una - 1 - arnd(g, 5000);
        b[1] = una - arnd(g, 1) ;
        break;
    case 4: /* reversed */
        b[0] = una + 10 + 2 * j;
        b[1] = una + 1 + j;
        break;
    case 5: /* overlapping the islands, bridging some */
        b[0] = una + 1 + 2 * j;
        b[1] = b[0] + 3 + arnd(g, 6);
        break;
    case 6: /* straddling SND.MAX */
        b[0] = max - 1 - arnd(g, 10);
        b[1] = max + 1 + arnd(g, 10);
        break;
    default: /* half the sequence space */
        b[0] = una + 1;
        b[1] = una + 0x7fffffffu;
        break;
    }
}

/* cap: the scoreboard's capacity configured (0: the default, SB_MAX). */
static void sack_panic(uint8_t cap)
{
    const uint32_t sb_max = cap ? cap : SB_MAX;
    const size_t total = 96 * 1024;
    struct fx_mem mem = {0};
    struct sk_config cfg;
    harness_config(&cfg, SIDE_A);
    cfg.sndbuf_bytes = 128 * 1024;
    cfg.sack_ranges_max = cap;
    fx_mem_use(&cfg, &mem);
    /* The peer announces an MSS of 48 (Linux's tcp_min_snd_mss, the floor after the SACK
     * Panic fixes): whatever floor the stack puts under it, segments are tiny. */
    struct fx f = fx_connect(&cfg, &(struct fx_peer){.mss = 48, .sack = true, .ws = true,
                                                     .wscale = 7});
    uint32_t mss = info(f.c).snd_mss;
    fprintf(stderr, "peer MSS 48: SMSS %u\n", mss);
    assert_true(mss >= 48 && mss <= 64);
    assert_int_equal(fx_send(f.c, 0, total), total);
    struct sink k = sink_new(total);

    /* Slow start first, every segment acknowledged, so that the flight is wide. */
    for (int round = 0; round < 5; round++) {
        ack_each_segment(&f, &k);
    }
    size_t acked = k.hi;
    sink_take(&f, &k);
    uint32_t una = FX_SND(&f, acked);
    assert_int_equal(info(f.c).snd_una, una);
    fprintf(stderr, "flight before the attack: %zu bytes, cwnd %u\n", k.hi - acked,
            info(f.c).cwnd);
    assert_true(k.hi - acked > 4 * SB_MAX); /* room for more islands than the scoreboard */
    size_t mem_before = mem.live;
    mem.peak = mem.live;

    /* 4,000 ACKs in one second, four crafted blocks each, the cumulative ACK held still. */
    struct attack_rng g = {.s = 11477};
    uint64_t max_work = 0, full_before = counters(f.r->st).tcp_sack_sb_full;
    size_t max_segs = 0;
    for (int a = 0; a < 4000; a++) {
        uint32_t max = FX_SND(&f, k.hi);
        uint32_t b[4][2];
        for (int i = 0; i < 4; i++)
            crafted_block(&g, una, max, b[i]);
        uint64_t w0 = info(f.c).sack_work;
        fx_ack(&f, una, b, 4);
        size_t segs = sink_take(&f, &k);
        uint64_t work = info(f.c).sack_work - w0;
        uint64_t bound = (OPS_PER_ACK + OPS_PER_SEG * (uint64_t)segs) * OP_WORK;
        if (work > bound)
            fail_msg("ACK %d: %llu scoreboard steps for %zu segments sent, bound %llu", a,
                     (unsigned long long)work, segs, (unsigned long long)bound);
        if (info(f.c).sack_ranges > sb_max)
            fail_msg("ACK %d: %u scoreboard ranges, capacity %u", a, info(f.c).sack_ranges,
                     sb_max);
        if (work > max_work)
            max_work = work;
        if (segs > max_segs)
            max_segs = segs;
        raw_run_for(f.r, 250);
    }
    uint64_t full = counters(f.r->st).tcp_sack_sb_full - full_before;
    fprintf(stderr, "4000 crafted ACKs: at most %llu steps and %zu segments per ACK; "
                    "%llu blocks refused with the scoreboard full; memory %zu -> %zu bytes\n",
            (unsigned long long)max_work, max_segs, (unsigned long long)full, mem_before,
            mem.live);
    assert_true(full > 0);              /* the overflow happened and was counted */
    /* Nothing allocated per block or per ACK: at most the scoreboard's own storage, which
     * appears with the first SACK block, sb_max ranges of two 32-bit edges (the peak too). */
    assert_true(mem.live <= mem_before + sb_max * 8);
    assert_true(mem.peak <= mem_before + sb_max * 8);

    /* The peer turns honest: every byte arrives, in order, exactly once in the stream. */
    sink_complete(&f, &k, SEC(300));
    assert_int_equal(info(f.c).bytes_acked, total);
    assert_int_equal(info(f.c).sack_ranges, 0);
    free(k.got);
    fx_free(&f);
}

static void test_sack_panic_tiny_mss_crafted_blocks(void **state)
{
    (void)state;
    sack_panic(0);
}

/* The same with the scoreboard configured down to 4 ranges: the knob is the bound. */
static void test_sack_panic_scoreboard_limit_configured(void **state)
{
    (void)state;
    sack_panic(4);
}

/* ---- the receiver's side: out-of-order ranges ---- */

/* The peer sends thousands of 1-byte segments out of order, every other byte of the window,
 * in a random order: the ranges held stay within ooo_ranges_max (16), each one that would need
 * more is dropped and counted, memory does not move; then the peer sends the stream in order
 * and it arrives exact. */
static void test_ooo_one_byte_islands_bounded(void **state)
{
    (void)state;
    struct fx_mem mem = {0};
    struct sk_config cfg;
    harness_config(&cfg, SIDE_A);
    fx_mem_use(&cfg, &mem);
    struct fx f = fx_accept(&cfg, &(struct fx_peer){.sack = true});
    uint8_t one[1];
    const uint32_t w = 60000; /* offsets inside the 64 KiB receive buffer */
    /* First a byte in order, then one island above every offset the attack uses, so the
     * receive ring (which grows with the highest offset it holds) and the out-of-order ranges'
     * storage exist at their size before the count starts. */
    fx_peer_data(&f, 0, 1, FX_SND(&f, 0));
    size_t rd = 0;
    assert_int_equal(fx_recv_check(f.c, &rd), 1);
    fx_fill(one, w, 1);
    raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, w), .ack = FX_SND(&f, 0), .data = one, .len = 1);
    size_t mem_before = mem.live;
    uint64_t dropped0 = drops(f.r->st, SK_DROP_TCP_OUT_OF_ORDER);
    struct attack_rng g = {.s = 2018};
    int sent = 0;
    for (int i = 0; i < 5000; i++) {
        uint32_t off = 2 + 2 * arnd(&g, w / 2 - 1); /* never at RCV.NXT: a hole stays */
        fx_fill(one, off, 1);
        raw_send(f.r, .flags = ACK, .seq = FX_RCV(&f, off), .ack = FX_SND(&f, 0), .data = one,
                 .len = 1);
        sent++;
        if (info(f.c).ooo_ranges > OOO_MAX)
            fail_msg("segment %d: %u ranges held", i, info(f.c).ooo_ranges);
    }
    uint64_t dropped = drops(f.r->st, SK_DROP_TCP_OUT_OF_ORDER) - dropped0;
    fprintf(stderr, "%d one-byte islands: %u ranges held, %llu dropped, memory %zu -> %zu\n", sent,
            info(f.c).ooo_ranges, (unsigned long long)dropped, mem_before, mem.live);
    assert_int_equal(info(f.c).ooo_ranges, OOO_MAX);
    assert_true(dropped > 0);
    assert_int_equal(mem.live, mem_before);
    /* The stream in order, in full segments: every byte read back exact, once. */
    for (uint32_t off = 1; off < 20000; off += SMSS) {
        uint32_t n = 20000 - off < SMSS ? 20000 - off : SMSS;
        fx_peer_data(&f, off, n, FX_SND(&f, 0));
        fx_recv_check(f.c, &rd);
    }
    assert_int_equal(rd, 20000);
    fx_free(&f);
}

/* ---- ACK division ---- */

/* The peer acknowledges the first two segments of the initial window in pieces of 1 to 7
 * bytes. RFC 5681 §3.1: in slow start cwnd += min(N, SMSS) per ACK of N new bytes, so the
 * growth is the bytes, not SMSS per ACK; and no ACK makes the sender emit a runt (sender
 * silly-window avoidance, RFC 9293 §3.8.6.2.1): every new segment is SMSS. */
static void ack_division(const char *cc)
{
    struct sink k;
    struct fx f = sender(cc, false, 200000, &k);
    uint32_t iw = rfc6928_iw(SMSS);

    static const uint32_t pieces[] = {1, 2, 3, 5, 7};
    uint32_t acked = 0, acks = 0;
    while (acked + 7 <= 2 * SMSS) {
        acked += pieces[acks % 5];
        acks++;
        fx_ack(&f, FX_SND(&f, acked), NULL, 0);
    }
    uint32_t want = iw + acked;           /* every N < SMSS: min(N, SMSS) = N */
    uint32_t per_ack = iw + acks * SMSS;  /* what counting ACKs would give */
    fprintf(stderr, "%s: %u ACKs for %u bytes: cwnd %u (RFC 5681: %u; per ACK: %u)\n", cc, acks,
            acked, info(f.c).cwnd, want, per_ack);
    assert_int_equal(info(f.c).cwnd, want);
    /* What went out: whole segments only, no more than the window allows. */
    size_t from = k.next;
    sink_take(&f, &k);
    size_t segs = 0;
    for (size_t i = from; i < f.r->nout; i++) {
        if (f.r->out[i].len == 0)
            continue;
        assert_int_equal(f.r->out[i].len, SMSS);
        segs++;
    }
    assert_true(segs * SMSS <= acked + (want - iw));
    free(k.got);
    fx_free(&f);
}

static void test_ack_division_newreno(void **state)
{
    (void)state;
    ack_division("reno");
}

static void test_ack_division_cubic(void **state)
{
    (void)state;
    ack_division("cubic");
}

/* In congestion avoidance: after a loss (three duplicate ACKs, recovery, its end) and slow
 * start back to ssthresh, one window of data is acknowledged either a segment at a time or in
 * pieces of `piece` bytes. Returns cwnd before and after that window, and the ACKs' sizes. */
struct ca_run {
    uint32_t cwnd0, cwnd1, smss;
    uint32_t acked;
    bool in_ca;
};

static struct ca_run ca_window(const char *cc, uint32_t piece)
{
    struct sink k;
    struct fx f = sender(cc, false, 1024 * 1024, &k);
    for (int i = 0; i < 3; i++)
        fx_ack(&f, FX_SND(&f, 0), NULL, 0);
    sink_take(&f, &k);
    /* Everything acknowledged: recovery ends; slow start, a segment per ACK, up to ssthresh. */
    size_t acked = k.hi;
    fx_ack(&f, FX_SND(&f, acked), NULL, 0);
    while (info(f.c).cwnd < info(f.c).ssthresh) {
        ack_each_segment(&f, &k);
    }
    /* The window in flight now is acknowledged in pieces. */
    sink_take(&f, &k);
    acked = info(f.c).snd_una - FX_SND(&f, 0);
    struct ca_run run = {.cwnd0 = info(f.c).cwnd, .smss = info(f.c).snd_mss,
                         .acked = (uint32_t)(k.hi - acked), .in_ca = true};
    run.in_ca = info(f.c).cwnd >= info(f.c).ssthresh;
    for (uint32_t done = 0; done < run.acked;) {
        uint32_t n = run.acked - done < piece ? run.acked - done : piece;
        done += n;
        fx_ack(&f, FX_SND(&f, acked + done), NULL, 0);
    }
    run.cwnd1 = info(f.c).cwnd;
    free(k.got);
    fx_free(&f);
    return run;
}

/* NewReno: RFC 5681 §3.1 with byte counting (RFC 3465 §2.1): bytes_acked grows by each ACK's
 * bytes; when it reaches cwnd, it drops by cwnd and cwnd grows by SMSS. Done here over the
 * window a segment at a time, it gives cwnd after the window; ACK division changes nothing. */
static void test_ack_division_in_congestion_avoidance_newreno(void **state)
{
    (void)state;
    struct ca_run honest = ca_window("reno", SMSS);
    struct ca_run div = ca_window("reno", 7);
    assert_true(honest.in_ca && div.in_ca);
    assert_int_equal(div.cwnd0, honest.cwnd0);
    assert_int_equal(div.acked, honest.acked);
    uint32_t cwnd = honest.cwnd0, bytes_acked = 0;
    for (uint32_t done = 0; done < honest.acked; done += SMSS) {
        bytes_acked += SMSS;
        if (bytes_acked >= cwnd) {
            bytes_acked -= cwnd;
            cwnd += SMSS;
        }
    }
    fprintf(stderr, "newreno, %u bytes acked in CA: cwnd %u -> %u (RFC 3465: %u); in pieces "
                    "of 7 bytes: %u\n",
            honest.acked, honest.cwnd0, honest.cwnd1, cwnd, div.cwnd1);
    assert_int_equal(honest.cwnd1, cwnd);
    assert_int_equal(div.cwnd1, cwnd);
}

/* CUBIC grows by the bytes acknowledged too (RFC 9438 §4.3 W_est, §4.4 the curve's step per
 * segment acknowledged): the window acknowledged in pieces of 7 bytes grows cwnd no more than
 * the same window acknowledged a segment at a time, at the same instants. */
static void test_ack_division_in_congestion_avoidance_cubic(void **state)
{
    (void)state;
    struct ca_run honest = ca_window("cubic", SMSS);
    struct ca_run div = ca_window("cubic", 7);
    assert_true(honest.in_ca && div.in_ca);
    assert_int_equal(div.cwnd0, honest.cwnd0);
    fprintf(stderr, "cubic, %u bytes acked in CA: cwnd %u -> %u; in pieces of 7 bytes: %u\n",
            honest.acked, honest.cwnd0, honest.cwnd1, div.cwnd1);
    assert_true(div.cwnd1 <= honest.cwnd1);
}

/* ---- duplicate-ACK spoofing ---- */

/* NewReno without SACK: ten segments out, the first "lost", three duplicate ACKs start fast
 * recovery (RFC 6582 §3.2 step 2: ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh +
 * 3*SMSS), then 1,000 more duplicate ACKs. At most one per segment outstanding can be genuine:
 * RFC 5681 §3.2 (note after step 4) lets a sender stop inflating there, and a sender that does
 * not can be made to burst any amount once the application writes. */
static void test_dupack_spoofing_inflates_at_most_flight(void **state)
{
    (void)state;
    const uint32_t n = 10; /* the initial window, all the application wrote */
    struct sink k;
    struct fx f = sender("reno", false, n * SMSS, &k);
    for (int i = 0; i < 3; i++)
        fx_ack(&f, FX_SND(&f, 0), NULL, 0);
    const struct raw_out *rtx = &f.r->out[f.r->cursor];
    assert_int_equal(rtx->seq, FX_SND(&f, 0));
    sink_take(&f, &k);
    uint32_t flight = n * SMSS;
    uint32_t ssthresh = flight / 2 > 2 * SMSS ? flight / 2 : 2 * SMSS;
    assert_int_equal(info(f.c).ssthresh, ssthresh);
    assert_int_equal(info(f.c).cwnd, ssthresh + 3 * SMSS);

    uint64_t limited0 = counters(f.r->st).tcp_dupack_limited;
    for (int i = 0; i < 1000; i++)
        fx_ack(&f, FX_SND(&f, 0), NULL, 0);
    /* Duplicate ACKs 4..n inflate (one per segment outstanding); the other 993 do not. */
    uint32_t bound = ssthresh + n * SMSS;
    fprintf(stderr, "after 1003 duplicate ACKs: cwnd %u, bound %u (unlimited: %u)\n",
            info(f.c).cwnd, bound, ssthresh + 1003 * SMSS);
    assert_int_equal(info(f.c).cwnd, bound);
    assert_int_equal(counters(f.r->st).tcp_dupack_limited - limited0, 1003 - n);

    /* The application writes a lot: what goes out at once is what cwnd leaves beside the
     * flight, not a burst bought with forged ACKs. */
    assert_int_equal(fx_send(f.c, n * SMSS, 512 * 1024), 512 * 1024);
    size_t burst = sink_take(&f, &k);
    fprintf(stderr, "burst on write: %zu segments (bound %u)\n", burst, (bound - flight) / SMSS);
    assert_true(burst <= (bound - flight) / SMSS);
    free(k.got);
    fx_free(&f);
}

/* With SACK, recovery is driven by pipe (RFC 6675 §5): duplicate ACKs that SACK nothing new
 * change neither cwnd nor pipe, and release nothing, however many come. */
static void test_dupack_spoofing_with_sack_releases_nothing(void **state)
{
    (void)state;
    struct sink k;
    struct fx f = sender(NULL, true, 512 * 1024, &k);
    /* Segments 1, 2, 3 SACKed: segment 0 is lost (RFC 6675 §4 IsLost), recovery starts. */
    for (uint32_t s = 1; s <= 3; s++) {
        uint32_t b[1][2] = {{FX_SND(&f, SMSS), FX_SND(&f, (s + 1) * SMSS)}};
        fx_ack(&f, FX_SND(&f, 0), b, 1);
    }
    sink_take(&f, &k);
    uint32_t cwnd = info(f.c).cwnd;
    size_t segs0 = k.segs;
    uint32_t b[1][2] = {{FX_SND(&f, SMSS), FX_SND(&f, 4 * SMSS)}};
    for (int i = 0; i < 1000; i++)
        fx_ack(&f, FX_SND(&f, 0), b, 1);
    sink_take(&f, &k);
    fprintf(stderr, "1000 duplicate ACKs in SACK recovery: cwnd %u -> %u, %zu segments\n", cwnd,
            info(f.c).cwnd, k.segs - segs0);
    assert_int_equal(info(f.c).cwnd, cwnd);
    assert_int_equal(k.segs, segs0);
    free(k.got);
    fx_free(&f);
}

/* ---- optimistic ACKs ---- */

/* ACKs for data not yet sent (queued or not even written), and SACK blocks for it: dropped
 * (RFC 9293 §3.10.7.4 fifth: "If the ACK acks something not yet sent (SEG.ACK > SND.NXT) then
 * send an ACK, drop the segment"; RFC 5961 §5.2), and nothing is counted as delivered. */
static void test_optimistic_acks_dropped(void **state)
{
    (void)state;
    struct sink k;
    struct fx f = sender(NULL, true, 20 * SMSS, &k); /* 10 go, 10 wait for cwnd */
    uint32_t snd_max = FX_SND(&f, 10 * SMSS);
    struct sk_tcp_info before = info(f.c);
    uint64_t bad0 = drops(f.r->st, SK_DROP_TCP_ACK_INVALID);
    const uint32_t acks[] = {snd_max + 1, snd_max + SMSS, FX_SND(&f, 20 * SMSS),
                             FX_SND(&f, 1000000), before.snd_una + 0x7fffffffu};
    for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
        fx_ack(&f, acks[i], NULL, 0);
        struct sk_tcp_info now = info(f.c);
        assert_int_equal(now.snd_una, before.snd_una);
        assert_int_equal(now.bytes_acked, 0);
        assert_int_equal(now.cwnd, before.cwnd);
        assert_int_equal(now.sndbuf_used, before.sndbuf_used);
        assert_int_equal(drops(f.r->st, SK_DROP_TCP_ACK_INVALID), bad0 + i + 1);
    }
    /* Whatever answers the stack sent carry no data beyond what it had sent. */
    sink_take(&f, &k);
    assert_int_equal(k.hi, 10 * SMSS);
    /* SACK blocks for unsent data, or straddling SND.MAX, are not taken (RFC 6675 §2). */
    uint32_t b[2][2] = {{snd_max, snd_max + 1000}, {snd_max - 100, snd_max + 100}};
    fx_ack(&f, before.snd_una, b, 2);
    assert_int_equal(info(f.c).sack_ranges, 0);
    /* It is still a duplicate ACK (RFC 5681 §2), which lets one new segment out (RFC 3042):
     * the next one of the stream, nothing the blocks claimed. */
    sink_take(&f, &k);
    assert_int_equal(k.hi, 11 * SMSS);
    snd_max += SMSS;
    /* The honest ACK of what was sent: exactly that is delivered, and never more than sent. */
    fx_ack(&f, snd_max, NULL, 0);
    assert_int_equal(info(f.c).bytes_acked, 11 * SMSS);
    assert_true(info(f.c).bytes_acked <= info(f.c).bytes_sent);
    free(k.got);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_sack_panic_tiny_mss_crafted_blocks),
        TEST(test_sack_panic_scoreboard_limit_configured),
        TEST(test_ooo_one_byte_islands_bounded),
        TEST(test_ack_division_newreno),
        TEST(test_ack_division_cubic),
        TEST(test_ack_division_in_congestion_avoidance_newreno),
        TEST(test_ack_division_in_congestion_avoidance_cubic),
        TEST(test_dupack_spoofing_inflates_at_most_flight),
        TEST(test_dupack_spoofing_with_sack_releases_nothing),
        TEST(test_optimistic_acks_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
