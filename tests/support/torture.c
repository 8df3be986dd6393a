/* Torture-test support: see torture.h. */
#include "torture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "synack/trace.h"
#include "wire/wire.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define CHUNK (256u * 1024u)

static uint8_t txbuf[CHUNK], rxbuf[CHUNK], expbuf[CHUNK];

/* The runs alive, so that a failed test (cmocka longjmps out of it) still frees them. */
#define TT_LIVE 4
static struct tt_run *live[TT_LIVE];

/* Word i of a stream: a multiply-xorshift hash of (seed, i), independent of the stack and cheap
 * enough to generate (twice: to send and to check) ten gigabytes in seconds. Byte k is byte
 * k % 8 (little-endian order) of word k / 8. */
static inline uint64_t word_of(uint64_t seed, uint64_t i)
{
    uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
    z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ull;
    return z ^ (z >> 32);
}

static inline uint8_t byte_of(uint64_t seed, uint64_t k)
{
    return (uint8_t)(word_of(seed, k >> 3) >> (8 * (k & 7)));
}

void tt_fill(uint64_t seed, uint64_t k, uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i < n && ((k + i) & 7); i++) /* head: up to the next word boundary */
        p[i] = byte_of(seed, k + i);
    for (; i + 8 <= n; i += 8) {
        uint64_t w = word_of(seed, (k + i) >> 3);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(p + i, &w, 8);
#else
        for (int b = 0; b < 8; b++)
            p[i + b] = (uint8_t)(w >> (8 * b));
#endif
    }
    for (; i < n; i++)
        p[i] = byte_of(seed, k + i);
}

uint64_t tt_scaled(uint64_t n, uint64_t min)
{
    const char *e = getenv("SK_TORTURE_SCALE");
    double s = e ? strtod(e, NULL) : 1.0;
    if (!(s > 0))
        s = 1.0;
    double v = (double)n * s;
    return v < (double)min ? min : (uint64_t)v;
}

double tt_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tt_config(struct sk_config *c, int side, uint32_t buf_bytes, uint16_t mtu, uint8_t wscale)
{
    sk_config_default(c);
    c->addr = side ? ADDR_B : ADDR_A;
    c->prefix_len = 24;
    sk_config_set_test_seed(c, side ? 0x5eed0b0bull : 0x5eed0a11ull);
    c->mtu = mtu;
    c->sndbuf_bytes = buf_bytes;
    c->rcvbuf_bytes = buf_bytes;
    c->max_buffer_bytes = 4ull * buf_bytes + (1u << 20);
    c->opt_wscale = true;
    c->wscale = wscale;
    c->opt_sack = true;
    c->opt_timestamps = true;
    c->rto_min_us = 200000;
}

/* Learns each side's announced window scale and highest offered right edge from the segments
 * it sends, and judges each TCP segment it drops against that edge. */
static void on_trace(void *ctx, int side, const struct sk_trace_event *ev)
{
    struct tt_run *r = ctx;
    struct tt_side *s = &r->s[side];
    const struct tt_side *peer = &r->s[1 - side];
    if (ev->kind == SK_TRACE_SEG_OUT) {
        const struct sk_trace_segment *g = &ev->u.seg;
        if (g->flags & SK_TCP_SYN) {
            s->syn_wscale = (g->opts & SK_OPT_WSCALE) ? g->wscale : -1;
            return; /* RFC 7323 §2.2: the window of a SYN is never scaled */
        }
        if (!(g->flags & SK_TCP_ACK))
            return;
        int shift = s->syn_wscale >= 0 && peer->syn_wscale >= 0 ? s->syn_wscale : 0;
        uint32_t edge = g->ack + ((uint32_t)g->wnd << shift);
        if (!s->edge_valid || (int32_t)(edge - s->right_edge) > 0)
            s->right_edge = edge;
        if (!s->edge_valid || (int32_t)(g->ack - s->ack_sent) > 0)
            s->ack_sent = g->ack;
        s->edge_valid = true;
        return;
    }
    if (ev->kind != SK_TRACE_DROP || ev->frame == NULL || !s->edge_valid)
        return;
    /* Only TCP's judgements count: a corrupted frame failing its checksum is the link's doing. */
    if (ev->u.drop.reason < SK_DROP_TCP_SEQ || ev->u.drop.reason > SK_DROP_TCP_AFTER_CLOSE)
        return;
    struct sk_ipv4_hdr ip;
    struct sk_tcp_hdr h;
    if (sk_ipv4_parse(ev->frame, ev->frame_len, &ip) != 0 || ip.proto != SK_IPPROTO_TCP ||
        sk_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &h) != 0)
        return;
    uint32_t len = (uint32_t)h.payload_len + ((h.flags & SK_TCP_FIN) ? 1 : 0);
    if ((h.flags & (SK_TCP_SYN | SK_TCP_RST)) || (int32_t)(h.seq + len - s->right_edge) > 0)
        return;
    if (len ? (int32_t)(h.seq + len - s->ack_sent) <= 0 : (int32_t)(h.seq - s->ack_sent) < 0)
        return; /* a duplicate of what was already acknowledged */
    if (s->inwin_drops++ == 0) {
        s->first_inwin.time = ev->time;
        s->first_inwin.seq = h.seq;
        s->first_inwin.len = len;
        s->first_inwin.right_edge = s->right_edge;
        s->first_inwin.reason = (int)ev->u.drop.reason;
    }
}

struct tt_run *tt_new(const struct sk_config *a, const struct sk_config *b, uint64_t seed,
                      uint32_t delay_us)
{
    struct tt_run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    for (int i = 0; i < TT_LIVE; i++)
        if (live[i] == NULL) {
            live[i] = r;
            break;
        }
    assert_int_equal(sk_sim_init(&r->sim, a, b, seed, 1000000), 0);
    struct sk_memlink_faults f = {.delay_us = delay_us};
    sk_memlink_set_faults(r->sim.link, 0, &f);
    sk_memlink_set_faults(r->sim.link, 1, &f);
    for (int i = 0; i < 2; i++) {
        r->s[i].bad_at = UINT64_MAX;
        r->s[i].syn_wscale = -1;
    }
    r->sim.trace = on_trace;
    r->sim.trace_ctx = r;
    assert_int_equal(sk_tcp_listen(r->sim.stack[1], TT_PORT, 4, &r->listener), 0);
    assert_int_equal(sk_tcp_connect(r->sim.stack[0], 0, ADDR_B, TT_PORT, &r->s[0].c), 0);
    sk_time_us limit = r->sim.now + 60000000;
    while (r->s[1].c == NULL || sk_tcp_get_state(r->s[0].c) != SK_TCP_ESTABLISHED) {
        if (r->s[1].c == NULL)
            sk_tcp_accept(r->listener, &r->s[1].c);
        if (r->s[1].c && sk_tcp_get_state(r->s[0].c) == SK_TCP_ESTABLISHED)
            break;
        if (r->sim.now >= limit)
            break;
        sk_sim_step(&r->sim, limit);
    }
    assert_non_null(r->s[1].c);
    assert_int_equal(sk_tcp_get_state(r->s[0].c), SK_TCP_ESTABLISHED);
    r->established_at = r->sim.now;
    for (int i = 0; i < 2; i++) {
        struct sk_tcp_info in;
        sk_tcp_get_info(r->s[i].c, &in);
        r->s[i].last_nxt = in.snd_nxt;
        r->s[i].next_read = r->sim.now;
        r->s[i].go_since = r->sim.now;
    }
    r->watch_info = true;
    return r;
}

void tt_free(struct tt_run *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < TT_LIVE; i++)
        if (live[i] == r)
            live[i] = NULL;
    sk_sim_destroy(&r->sim);
    free(r);
}

int tt_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < TT_LIVE; i++)
        tt_free(live[i]);
    return 0;
}

void tt_faults(struct tt_run *r, int from_side, const struct sk_memlink_faults *f)
{
    sk_memlink_set_faults(r->sim.link, from_side, f);
}

void tt_stream(struct tt_run *r, int side, uint64_t seed, uint64_t len)
{
    r->s[side].out_seed = seed;
    r->s[side].out_len = len;
    r->s[1 - side].in_seed = seed;
    r->s[1 - side].in_len = len;
}

void tt_more(struct tt_run *r, int side, uint64_t len)
{
    r->s[side].out_len += len;
    r->s[1 - side].in_len += len;
}

static void push(struct tt_side *s, bool keep_open)
{
    while (s->sent < s->out_len) {
        size_t room = sk_tcp_writable(s->c);
        if (room == 0)
            break;
        uint64_t left = s->out_len - s->sent;
        size_t n = room < CHUNK ? room : CHUNK;
        if (left < n)
            n = (size_t)left;
        tt_fill(s->out_seed, s->sent, txbuf, n);
        ssize_t m = sk_tcp_send(s->c, txbuf, n);
        if (m <= 0)
            break;
        s->sent += (uint64_t)m;
    }
    if (s->sent == s->out_len && !s->shut && !keep_open) {
        s->shut = true;
        sk_tcp_shutdown(s->c);
    }
}

/* Reads up to `want` bytes (0: everything there is) and checks each against the stream. */
static void pull(struct tt_side *s, uint32_t want, sk_time_us now)
{
    uint64_t total = 0;
    for (;;) {
        size_t n = CHUNK;
        if (want && want - total < n)
            n = (size_t)(want - total);
        if (n == 0)
            return;
        ssize_t m = sk_tcp_recv(s->c, rxbuf, n);
        if (m == 0)
            s->eof = true;
        if (m <= 0)
            return;
        tt_fill(s->in_seed, s->got, expbuf, (size_t)m);
        if (s->bad_at == UINT64_MAX && memcmp(rxbuf, expbuf, (size_t)m) != 0) {
            size_t i = 0;
            while (rxbuf[i] == expbuf[i])
                i++;
            s->bad_at = s->got + i;
        }
        s->got += (uint64_t)m;
        s->last_read_at = now;
        total += (uint64_t)m;
    }
}

/* Is the reader of s in a stop now? When does its state next change (reader's next turn)? */
static bool stopped(const struct tt_side *s, sk_time_us now, sk_time_us *wake)
{
    const struct tt_reader *rd = &s->rd;
    bool stop = false;
    if (rd->stop_us) {
        sk_time_us period = rd->go_us + rd->stop_us;
        sk_time_us pos = (now - s->go_since) % period;
        stop = pos >= rd->go_us;
        sk_time_us edge = now - pos + (stop ? period : rd->go_us);
        if (edge < *wake)
            *wake = edge;
    }
    if (rd->every_us && !stop && s->next_read < *wake)
        *wake = s->next_read;
    return stop;
}

static void app_turn(struct tt_run *r, struct tt_side *s)
{
    if (s->c == NULL)
        return;
    sk_time_us now = r->sim.now, ignore = SK_TIME_NEVER;
    push(s, r->keep_open);
    if (!stopped(s, now, &ignore)) {
        if (s->rd.every_us == 0) {
            pull(s, s->rd.bytes, now);
        } else if (now >= s->next_read) {
            pull(s, s->rd.bytes, now);
            s->next_read += s->rd.every_us;
            if (s->next_read <= now)
                s->next_read = now + s->rd.every_us;
        }
    }
    if (s->error == 0)
        s->error = sk_tcp_error(s->c);
}

static void watch(struct tt_side *s)
{
    struct sk_tcp_info in;
    sk_tcp_get_info(s->c, &in);
    /* A wrap: SND.NXT moved forward (modulo 2^32) yet is numerically smaller. */
    if (in.snd_nxt < s->last_nxt && (int32_t)(in.snd_nxt - s->last_nxt) > 0)
        s->nxt_wraps++;
    s->last_nxt = in.snd_nxt;
    if (in.cwnd > s->cwnd_max)
        s->cwnd_max = in.cwnd;
}

static bool finished(const struct tt_run *r)
{
    for (int i = 0; i < 2; i++)
        if ((!r->s[i].eof && !r->keep_open) || r->s[i].got != r->s[i].in_len)
            return false;
    return true;
}

bool tt_transfer(struct tt_run *r, sk_time_us limit)
{
    for (;;) {
        for (int i = 0; i < 2; i++) {
            app_turn(r, &r->s[i]);
            if (r->watch_info)
                watch(&r->s[i]);
        }
        if (finished(r)) {
            r->done_at = r->sim.now;
            return true;
        }
        if (r->s[0].error || r->s[1].error || r->sim.now >= limit)
            return false;
        sk_time_us wake = limit;
        for (int i = 0; i < 2; i++)
            stopped(&r->s[i], r->sim.now, &wake);
        if (wake <= r->sim.now)
            wake = r->sim.now + 1;
        sk_sim_step(&r->sim, wake);
    }
}

void tt_report(const struct tt_run *r, const char *name)
{
    for (int i = 0; i < 2; i++) {
        const struct tt_side *s = &r->s[i];
        struct sk_stack_counters k;
        sk_stack_counters(r->sim.stack[i], &k);
        fprintf(stderr, "%s side %c: sent %llu/%llu got %llu/%llu eof %d bad_at %lld err %d "
                        "wraps %u cwnd_max %u rtx %llu drops %llu (seq %llu ooo %llu rcvwnd %llu "
                        "paws %llu) last read at %.3fs, now %.3fs\n",
                name, i ? 'b' : 'a', (unsigned long long)s->sent,
                (unsigned long long)s->out_len, (unsigned long long)s->got,
                (unsigned long long)s->in_len, s->eof,
                s->bad_at == UINT64_MAX ? -1LL : (long long)s->bad_at, s->error, s->nxt_wraps,
                s->cwnd_max, (unsigned long long)k.tcp_retransmits,
                (unsigned long long)k.drops_total,
                (unsigned long long)k.drops[SK_DROP_TCP_SEQ],
                (unsigned long long)k.drops[SK_DROP_TCP_OUT_OF_ORDER],
                (unsigned long long)k.drops[SK_DROP_TCP_RCV_WINDOW],
                (unsigned long long)k.drops[SK_DROP_TCP_PAWS], (double)s->last_read_at / 1e6,
                (double)r->sim.now / 1e6);
        if (s->inwin_drops)
            fprintf(stderr, "%s side %c: %llu in-window drops, the first at %.6fs: seq %u len %u "
                            "(right edge offered %u) dropped as %s\n",
                    name, i ? 'b' : 'a', (unsigned long long)s->inwin_drops,
                    (double)s->first_inwin.time / 1e6, s->first_inwin.seq, s->first_inwin.len,
                    s->first_inwin.right_edge,
                    sk_drop_reason_name((enum sk_drop_reason)s->first_inwin.reason));
    }
}
