/* Scenario test harness: see harness.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/gso.h"
#include "wire/wire.h"

/* ---------------- recording ---------------- */

static void rec_add(struct recorder *rec, int side, const struct sk_trace_event *ev)
{
    if (rec->n == rec->cap) {
        rec->cap = rec->cap ? rec->cap * 2 : 256;
        rec->ev = realloc(rec->ev, rec->cap * sizeof(*rec->ev));
        if (rec->ev == NULL)
            abort();
    }
    struct rec_ev *r = &rec->ev[rec->n++];
    r->side = side;
    r->ev = *ev;
    r->ev.frame = NULL;
    r->ev.frame_len = 0;
    r->ev.conn = NULL; /* may be freed later: tests identify connections by conn_id */
}

static void rec_free(struct recorder *rec)
{
    free(rec->ev);
    memset(rec, 0, sizeof(*rec));
}

static void print_seg(const struct sk_trace_segment *s)
{
    char fl[64];
    sk_tcp_flags_str(s->flags, fl, sizeof(fl));
    fprintf(stderr, "%u->%u %-11s seq=%u ack=%u wnd=%u len=%u", s->sport, s->dport, fl, s->seq,
            s->ack, s->wnd, s->len);
    if (s->opts & SK_OPT_MSS)
        fprintf(stderr, " mss=%u", s->mss);
    if (s->opts & SK_OPT_WSCALE)
        fprintf(stderr, " ws=%u", s->wscale);
    if (s->opts & SK_OPT_SACK_PERM)
        fprintf(stderr, " sackOK");
    if (s->opts & SK_OPT_TIMESTAMP)
        fprintf(stderr, " TS(%u,%u)", s->ts_val, s->ts_ecr);
    if (s->opts & SK_OPT_SACK)
        fprintf(stderr, " sack[%u]", s->nsack);
}

void rec_dump(const struct recorder *rec)
{
    fprintf(stderr, "---- recorded ladder (%zu events; '>' marks the next unconsumed segment) ----\n",
            rec->n);
    for (size_t i = 0; i < rec->n; i++) {
        const struct rec_ev *r = &rec->ev[i];
        const struct sk_trace_event *ev = &r->ev;
        bool mark = ev->kind == SK_TRACE_SEG_OUT && rec->seg_cursor[r->side] == i;
        fprintf(stderr, "%c %4zu %10.6f %c#%llu ", mark ? '>' : ' ', i, (double)ev->time / 1e6,
                r->side ? 'B' : 'A', (unsigned long long)ev->conn_id);
        switch (ev->kind) {
        case SK_TRACE_SEG_OUT:
            fprintf(stderr, "OUT  ");
            print_seg(&ev->u.seg);
            break;
        case SK_TRACE_SEG_IN:
            fprintf(stderr, " IN  ");
            print_seg(&ev->u.seg);
            break;
        case SK_TRACE_STATE:
            fprintf(stderr, "STATE %s -> %s", sk_tcp_state_name(ev->u.state.from),
                    sk_tcp_state_name(ev->u.state.to));
            break;
        case SK_TRACE_TIMER:
            fprintf(stderr, "TIMER %s", sk_timer_name(ev->u.timer.timer));
            break;
        case SK_TRACE_DROP:
            fprintf(stderr, "DROP %s", sk_drop_reason_name(ev->u.drop.reason));
            break;
        case SK_TRACE_ERROR:
            fprintf(stderr, "ERROR %d", ev->u.error.err);
            break;
        }
        fputc('\n', stderr);
    }
    fprintf(stderr, "---- end of ladder ----\n");
}

void harness_config(struct sk_config *cfg, int side)
{
    sk_config_default(cfg);
    cfg->addr = side ? ADDR_B : ADDR_A;
    cfg->prefix_len = 24;
    sk_config_set_test_seed(cfg, side ? 0xb0b : 0xa11ce);
}

uint64_t conn_id(const struct sk_tcp *c)
{
    struct sk_tcp_info i;
    sk_tcp_get_info(c, &i);
    return i.conn_id;
}

struct sk_tcp_info info(const struct sk_tcp *c)
{
    struct sk_tcp_info i;
    sk_tcp_get_info(c, &i);
    return i;
}

struct sk_stack_counters counters(struct sk_stack *st)
{
    struct sk_stack_counters c;
    sk_stack_counters(st, &c);
    return c;
}

uint64_t drops(struct sk_stack *st, enum sk_drop_reason why)
{
    return counters(st).drops[why];
}

/* Live objects, so that a failed test (cmocka longjmps out of it) still frees them. */
#define LIVE_MAX 8
static void *live[LIVE_MAX];
static bool live_is_pair[LIVE_MAX];

static void live_add(void *o, bool is_pair)
{
    for (int i = 0; i < LIVE_MAX; i++)
        if (live[i] == NULL) {
            live[i] = o;
            live_is_pair[i] = is_pair;
            return;
        }
}

static void live_del(void *o)
{
    for (int i = 0; i < LIVE_MAX; i++)
        if (live[i] == o)
            live[i] = NULL;
}

/* ---------------- pair ---------------- */

static void pair_trace(void *ctx, int side, const struct sk_trace_event *ev)
{
    struct pair *p = ctx;
    rec_add(&p->rec, side, ev);
}

struct pair *pair_new(const struct sk_config *ca, const struct sk_config *cb)
{
    struct sk_config a, b;
    if (ca)
        a = *ca;
    else
        harness_config(&a, 0);
    if (cb)
        b = *cb;
    else
        harness_config(&b, 1);
    struct pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    assert_int_equal(sk_sim_init(&p->sim, &a, &b, 42, T0), 0);
    p->sim.trace = pair_trace;
    p->sim.trace_ctx = p;
    p->a = p->st[0] = p->sim.stack[0];
    p->b = p->st[1] = p->sim.stack[1];
    struct sk_memlink_faults f = {.delay_us = (uint32_t)LINK_DELAY};
    sk_memlink_set_faults(p->sim.link, 0, &f);
    sk_memlink_set_faults(p->sim.link, 1, &f);
    live_add(p, true);
    return p;
}

void pair_free(struct pair *p)
{
    if (p == NULL)
        return;
    live_del(p);
    sk_sim_destroy(&p->sim);
    rec_free(&p->rec);
    free(p);
}

sk_time_us pair_now(const struct pair *p)
{
    return p->sim.now;
}

bool pair_step(struct pair *p, sk_time_us limit)
{
    return sk_sim_step(&p->sim, limit);
}

void pair_run_until(struct pair *p, sk_time_us t)
{
    while (sk_sim_step(&p->sim, t))
        ;
}

void pair_run_for(struct pair *p, sk_time_us d)
{
    pair_run_until(p, p->sim.now + d);
}

void pair_drop(struct pair *p, int side, uint8_t mask, uint8_t value, uint32_t nth)
{
    struct sk_memlink_rule r = {.from_side = side, .tcp_flags_mask = mask,
                                .tcp_flags_value = value, .nth = nth,
                                .action = SK_MEMLINK_DROP};
    assert_int_equal(sk_memlink_add_rule(p->sim.link, &r), 0);
}

void skip_segs(struct pair *p, int from)
{
    p->rec.seg_cursor[from] = p->rec.n;
}

void pair_establish(struct pair *p, uint16_t port, struct sk_tcp **ca, struct sk_tcp **lb,
                    struct sk_tcp **cb)
{
    assert_int_equal(sk_tcp_listen(p->b, port, 16, lb), 0);
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, port, ca), 0);
    sk_time_us limit = pair_now(p) + SEC(10);
    *cb = NULL;
    while (pair_now(p) <= limit) {
        if (*cb == NULL)
            sk_tcp_accept(*lb, cb);
        if (*cb && sk_tcp_get_state(*ca) == SK_TCP_ESTABLISHED)
            break;
        if (!pair_step(p, limit))
            break;
    }
    assert_non_null(*cb);
    assert_int_equal(sk_tcp_get_state(*ca), SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_get_state(*cb), SK_TCP_ESTABLISHED);
    /* Let the last ACK land and nothing else be pending on the wire. */
    pair_run_for(p, LINK_DELAY);
    skip_segs(p, 0);
    skip_segs(p, 1);
}

/* ---------------- expectations ---------------- */

static const struct rec_ev *next_seg(struct recorder *rec, int side)
{
    for (size_t i = rec->seg_cursor[side]; i < rec->n; i++) {
        if (rec->ev[i].side == side && rec->ev[i].ev.kind == SK_TRACE_SEG_OUT) {
            rec->seg_cursor[side] = i;
            return &rec->ev[i];
        }
    }
    rec->seg_cursor[side] = rec->n;
    return NULL;
}

const struct sk_trace_segment *peek_seg(struct pair *p, int from)
{
    const struct rec_ev *r = next_seg(&p->rec, from);
    return r ? &r->ev.u.seg : NULL;
}

static void fail_at(const char *f, int l, const struct recorder *rec)
{
    rec_dump(rec);
    _fail(f, l);
}

const struct rec_ev *expect_data_(const char *f, int l, struct pair *p, int from, uint8_t flags,
                                  uint32_t seq, uint32_t ack, uint32_t len)
{
    struct recorder *rec = &p->rec;
    const struct rec_ev *r = next_seg(rec, from);
    char want[64], got[64];
    sk_tcp_flags_str(flags, want, sizeof(want));
    if (r == NULL) {
        print_error("expected %s %s seq=%u ack=%u len=%u, but side %c sent nothing more (t=%.6f)\n",
                    from ? "B->A" : "A->B", want, seq, ack, len, from ? 'B' : 'A',
                    (double)pair_now(p) / 1e6);
        fail_at(f, l, rec);
    }
    const struct sk_trace_segment *s = &r->ev.u.seg;
    sk_tcp_flags_str(s->flags, got, sizeof(got));
    if (s->flags != flags || s->seq != seq || s->ack != ack || s->len != len) {
        print_error("segment %zu from %c: expected %s seq=%u ack=%u len=%u, got %s seq=%u ack=%u "
                    "len=%u (t=%.6f)\n",
                    (size_t)(r - rec->ev), from ? 'B' : 'A', want, seq, ack, len, got, s->seq,
                    s->ack, s->len, (double)r->ev.time / 1e6);
        fail_at(f, l, rec);
    }
    rec->seg_cursor[from] = (size_t)(r - rec->ev) + 1;
    return r;
}

const struct rec_ev *expect_seg_(const char *f, int l, struct pair *p, int from, uint8_t flags,
                                 uint32_t seq, uint32_t ack)
{
    return expect_data_(f, l, p, from, flags, seq, ack, 0);
}

void expect_no_seg_(const char *f, int l, struct pair *p, int from)
{
    const struct rec_ev *r = next_seg(&p->rec, from);
    if (r) {
        print_error("expected no more segments from %c, got event %zu\n", from ? 'B' : 'A',
                    (size_t)(r - p->rec.ev));
        fail_at(f, l, &p->rec);
    }
}

void expect_state_(const char *f, int l, const struct sk_tcp *c, enum sk_tcp_state s)
{
    enum sk_tcp_state got = sk_tcp_get_state(c);
    if (got != s) {
        print_error("expected state %s, got %s\n", sk_tcp_state_name(s), sk_tcp_state_name(got));
        _fail(f, l);
    }
}

void expect_states_(const char *f, int l, struct recorder *rec, int side, uint64_t id,
                    const int *path, size_t n)
{
    int got[64];
    size_t m = 0;
    for (size_t i = 0; i < rec->n && m < 63; i++) {
        const struct rec_ev *r = &rec->ev[i];
        if (r->side != side || r->ev.kind != SK_TRACE_STATE || r->ev.conn_id != id)
            continue;
        if (m == 0)
            got[m++] = (int)r->ev.u.state.from;
        got[m++] = (int)r->ev.u.state.to;
    }
    bool ok = m == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = got[i] == path[i];
    if (!ok) {
        print_error("side %c conn #%llu: expected states", side ? 'B' : 'A',
                    (unsigned long long)id);
        for (size_t i = 0; i < n; i++)
            print_error(" %s", sk_tcp_state_name((enum sk_tcp_state)path[i]));
        print_error("\n  got");
        for (size_t i = 0; i < m; i++)
            print_error(" %s", sk_tcp_state_name((enum sk_tcp_state)got[i]));
        print_error("\n");
        fail_at(f, l, rec);
    }
}

sk_time_us state_time(struct recorder *rec, int side, uint64_t id, enum sk_tcp_state s)
{
    sk_time_us t = SK_TIME_NEVER;
    for (size_t i = 0; i < rec->n; i++) {
        const struct rec_ev *r = &rec->ev[i];
        if (r->side == side && r->ev.kind == SK_TRACE_STATE && r->ev.conn_id == id &&
            r->ev.u.state.to == s)
            t = r->ev.time;
    }
    return t;
}

/* ---------------- raw ---------------- */

static void raw_record(void *ctx, const uint8_t *frame, size_t len);

/* A frame the stack left to the link (segmentation or checksum offload, with caps set) is
 * finished first, as a NIC would: the peer sees MSS-sized segments with their checksums. */
static void raw_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    static uint8_t piece[65536 + 64];
    struct raw *r = ctx;
    if (r->refuse) {
        sk_stack_output_refused(r->st);
        return;
    }
    if (meta != NULL && (meta->flags != 0 || meta->gso_type != SK_GSO_NONE)) {
        if (sk_gso_segment(frame, len, meta, 0, piece, sizeof(piece), raw_record, ctx) < 0)
            abort(); /* the stack sent a malformed super-segment */
        return;
    }
    raw_record(ctx, frame, len);
}

static void raw_record(void *ctx, const uint8_t *frame, size_t len)
{
    struct raw *r = ctx;
    struct sk_ipv4_hdr ip;
    struct sk_tcp_hdr h;
    if (sk_ipv4_parse(frame, len, &ip) != 0 || ip.proto != SK_IPPROTO_TCP)
        return;
    if (sk_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, true, &h) != 0)
        abort(); /* the stack sent a malformed segment */
    if (r->nout == r->outcap) {
        r->outcap = r->outcap ? r->outcap * 2 : 64;
        r->out = realloc(r->out, r->outcap * sizeof(*r->out));
        if (r->out == NULL)
            abort();
    }
    struct raw_out *o = &r->out[r->nout++];
    memset(o, 0, sizeof(*o));
    o->time = sk_stack_now(r->st);
    o->saddr = ip.src;
    o->daddr = ip.dst;
    o->sport = h.sport;
    o->dport = h.dport;
    o->seq = h.seq;
    o->ack = h.ack;
    o->flags = h.flags;
    o->wnd = h.wnd;
    o->len = (uint32_t)h.payload_len;
    memcpy(o->data, h.payload, h.payload_len < sizeof(o->data) ? h.payload_len : sizeof(o->data));
    o->opts = h.opts.present;
    o->mss = h.opts.mss;
    o->wscale = h.opts.wscale;
    o->ts_val = h.opts.ts_val;
    o->ts_ecr = h.opts.ts_ecr;
    o->fo_len = h.opts.fo_len;
    o->fo_exp = h.opts.fo_exp;
    memcpy(o->fo_cookie, h.opts.fo_cookie, sizeof(o->fo_cookie));
    o->tos = ip.tos;
}

static void raw_trace(void *ctx, const struct sk_trace_event *ev)
{
    struct raw *r = ctx;
    rec_add(&r->rec, 0, ev);
}

struct raw *raw_new(const struct sk_config *cfg)
{
    return raw_new_at(cfg, T0);
}

struct raw *raw_new_at(const struct sk_config *cfg, sk_time_us start)
{
    struct raw *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    struct sk_config c;
    if (cfg)
        c = *cfg;
    else
        harness_config(&c, 0);
    c.output = raw_output;
    c.output_ctx = r;
    c.trace = raw_trace;
    c.trace_ctx = r;
    r->now = start;
    int err = 0;
    r->st = sk_stack_new(&c, start, &err);
    assert_non_null(r->st);
    live_add(r, false);
    return r;
}

void raw_free(struct raw *r)
{
    if (r == NULL)
        return;
    live_del(r);
    sk_stack_free(r->st);
    rec_free(&r->rec);
    free(r->out);
    free(r);
}

size_t raw_build(uint8_t *buf, size_t cap, const struct rseg *s)
{
    uint8_t opts[40];
    size_t optlen;
    if (s->raw_opts) {
        optlen = s->raw_opts_len;
        memcpy(opts, s->raw_opts, optlen);
    } else {
        struct sk_tcp_opts o = {.present = s->opts, .mss = s->mss, .wscale = s->wscale,
                                .ts_val = s->ts_val, .ts_ecr = s->ts_ecr};
        optlen = sk_tcp_opts_emit(opts, sizeof(opts), &o, SK_SYN_OPTS_LINUX);
    }
    size_t tcp_len = SK_TCP_HLEN + optlen + s->len;
    assert_true(SK_IPV4_HLEN + tcp_len <= cap);
    uint8_t *t = buf + SK_IPV4_HLEN;
    uint32_t src = ADDR_B, dst = ADDR_A;
    sk_put16(t, s->sport ? s->sport : RAW_PEER_PORT);
    sk_put16(t + 2, s->dport ? s->dport : RAW_LOCAL_PORT);
    sk_put32(t + 4, s->seq);
    sk_put32(t + 8, s->ack);
    t[12] = (uint8_t)(((SK_TCP_HLEN + optlen) / 4) << 4);
    t[13] = s->flags;
    sk_put16(t + 14, s->zero_wnd ? 0 : (s->wnd ? s->wnd : 65535));
    sk_put16(t + 16, 0);
    sk_put16(t + 18, 0);
    memcpy(t + SK_TCP_HLEN, opts, optlen);
    if (s->len)
        memcpy(t + SK_TCP_HLEN + optlen, s->data, s->len);
    uint16_t csum = sk_csum_fold(sk_csum_add(sk_csum_pseudo(src, dst, SK_IPPROTO_TCP,
                                                            (uint16_t)tcp_len),
                                             t, tcp_len));
    if (s->bad_csum)
        csum ^= 0x5a5a;
    sk_put16(t + 16, csum);
    size_t ip_payload = s->truncate_to ? s->truncate_to : tcp_len;
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .tos = s->tos, .ttl = 64,
                             .proto = SK_IPPROTO_TCP, .src = src, .dst = dst, .df = true};
    sk_ipv4_emit(buf, cap, &ip, ip_payload);
    return SK_IPV4_HLEN + ip_payload;
}

void raw_inject(struct raw *r, const struct rseg *s)
{
    uint8_t buf[2048];
    size_t n = raw_build(buf, sizeof(buf), s);
    sk_stack_input(r->st, buf, n, r->now);
}

void raw_run_until(struct raw *r, sk_time_us t)
{
    for (;;) {
        sk_time_us d = sk_stack_next_deadline(r->st);
        if (d > t)
            break;
        sk_stack_poll(r->st, d);
    }
    sk_stack_poll(r->st, t);
    r->now = t;
}

void raw_run_for(struct raw *r, sk_time_us d)
{
    raw_run_until(r, r->now + d);
}

static void raw_fail(const char *f, int l, struct raw *r)
{
    fprintf(stderr, "---- segments the stack sent ('>' next unconsumed) ----\n");
    for (size_t i = 0; i < r->nout; i++) {
        const struct raw_out *o = &r->out[i];
        char fl[64];
        sk_tcp_flags_str(o->flags, fl, sizeof(fl));
        fprintf(stderr, "%c %3zu %10.6f %u->%u %-11s seq=%u ack=%u wnd=%u len=%u\n",
                i == r->cursor ? '>' : ' ', i, (double)o->time / 1e6, o->sport, o->dport, fl,
                o->seq, o->ack, o->wnd, o->len);
    }
    rec_dump(&r->rec);
    _fail(f, l);
}

const struct raw_out *raw_expect_(const char *f, int l, struct raw *r, uint8_t flags, uint32_t seq,
                                  uint32_t ack)
{
    char want[64], got[64];
    sk_tcp_flags_str(flags, want, sizeof(want));
    if (r->cursor >= r->nout) {
        print_error("expected %s seq=%u ack=%u from the stack, got nothing (t=%.6f)\n", want, seq,
                    ack, (double)r->now / 1e6);
        raw_fail(f, l, r);
    }
    const struct raw_out *o = &r->out[r->cursor];
    sk_tcp_flags_str(o->flags, got, sizeof(got));
    if (o->flags != flags || o->seq != seq || o->ack != ack) {
        print_error("segment %zu: expected %s seq=%u ack=%u, got %s seq=%u ack=%u\n", r->cursor,
                    want, seq, ack, got, o->seq, o->ack);
        raw_fail(f, l, r);
    }
    r->cursor++;
    return o;
}

void raw_expect_none_(const char *f, int l, struct raw *r)
{
    if (r->cursor < r->nout) {
        print_error("expected no segment from the stack, got %zu\n", r->nout - r->cursor);
        raw_fail(f, l, r);
    }
}

struct sk_tcp *raw_accept(struct raw *r, struct sk_tcp *listener, uint32_t irs, uint32_t *iss)
{
    raw_send(r, .flags = SK_TCP_SYN, .seq = irs, .opts = SK_OPT_MSS, .mss = 1460);
    assert_true(r->cursor < r->nout);
    const struct raw_out *o = &r->out[r->cursor];
    uint32_t s = o->seq;
    raw_expect(r, SK_TCP_SYN | SK_TCP_ACK, s, irs + 1);
    raw_send(r, .flags = SK_TCP_ACK, .seq = irs + 1, .ack = s + 1);
    struct sk_tcp *c = NULL;
    assert_int_equal(sk_tcp_accept(listener, &c), 0);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    if (iss)
        *iss = s;
    return c;
}

struct sk_tcp *raw_connect(struct raw *r, uint32_t irs, uint32_t *iss)
{
    struct sk_tcp *c = NULL;
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t s = info(c).iss;
    raw_expect(r, SK_TCP_SYN, s, 0);
    raw_send(r, .flags = SK_TCP_SYN | SK_TCP_ACK, .seq = irs, .ack = s + 1, .opts = SK_OPT_MSS,
             .mss = 1460);
    raw_expect(r, SK_TCP_ACK, s + 1, irs + 1);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    if (iss)
        *iss = s;
    return c;
}

int harness_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < LIVE_MAX; i++) {
        if (live[i] == NULL)
            continue;
        if (live_is_pair[i])
            pair_free(live[i]);
        else
            raw_free(live[i]);
    }
    return 0;
}
