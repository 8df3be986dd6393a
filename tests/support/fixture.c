/* The scenario fixture (fixture.h): established connections, the stream, the peer's segments. */
#include "fixture.h"

#include <stdlib.h>

static struct fx_peer peer_defaults(const struct fx_peer *p)
{
    struct fx_peer d = p ? *p : (struct fx_peer){0};
    if (d.isn == 0)
        d.isn = FX_IRS;
    if (d.mss == 0)
        d.mss = FX_MSS;
    if (d.wnd == 0)
        d.wnd = 65535;
    if (d.rtt_us == 0)
        d.rtt_us = MS(10);
    return d;
}

static uint8_t peer_syn_opts(const struct fx_peer *p)
{
    uint8_t o = SK_OPT_MSS;
    if (p->sack)
        o |= SK_OPT_SACK_PERM;
    if (p->ts)
        o |= SK_OPT_TIMESTAMP;
    if (p->ws)
        o |= SK_OPT_WSCALE;
    return o;
}

struct raw *fx_raw(const char *cc, uint32_t sndbuf)
{
    struct sk_config cfg;
    harness_config(&cfg, SIDE_A);
    if (cc)
        cfg.congestion_control = cc;
    if (sndbuf)
        cfg.sndbuf_bytes = sndbuf;
    return raw_new(&cfg);
}

struct fx fx_connect_on(struct raw *r, const struct fx_peer *peer)
{
    struct fx f = {.r = r, .peer = peer_defaults(peer)};
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &f.c), 0);
    f.iss = info(f.c).iss;
    f.irs = f.peer.isn;
    const struct raw_out *syn = raw_expect(r, SYN, f.iss, 0);
    uint32_t syn_tsval = syn->ts_val;
    raw_run_for(r, f.peer.rtt_us);
    raw_send(r, .flags = SYN | ACK, .seq = f.irs, .ack = f.iss + 1, .opts = peer_syn_opts(&f.peer),
             .mss = f.peer.mss, .wscale = f.peer.wscale, .wnd = f.peer.wnd,
             .ts_val = f.peer.ts_val, .ts_ecr = syn_tsval);
    raw_expect(r, ACK, f.iss + 1, f.irs + 1);
    assert_int_equal(sk_tcp_get_state(f.c), SK_TCP_ESTABLISHED);
    return f;
}

struct fx fx_connect(const struct sk_config *cfg, const struct fx_peer *peer)
{
    return fx_connect_on(raw_new(cfg), peer);
}

struct fx fx_accept(const struct sk_config *cfg, const struct fx_peer *peer)
{
    struct fx f = {.r = raw_new(cfg), .peer = peer_defaults(peer)};
    assert_int_equal(sk_tcp_listen(f.r->st, RAW_LOCAL_PORT, 16, &f.listener), 0);
    f.irs = f.peer.isn;
    raw_send(f.r, .flags = SYN, .seq = f.irs, .opts = peer_syn_opts(&f.peer), .mss = f.peer.mss,
             .wscale = f.peer.wscale, .wnd = f.peer.wnd, .ts_val = f.peer.ts_val);
    assert_true(f.r->cursor < f.r->nout);
    const struct raw_out *sa = &f.r->out[f.r->cursor];
    f.iss = sa->seq;
    raw_expect(f.r, SYN | ACK, f.iss, f.irs + 1);
    raw_send(f.r, .flags = ACK, .seq = f.irs + 1, .ack = f.iss + 1, .wnd = f.peer.wnd,
             .opts = f.peer.ts ? SK_OPT_TIMESTAMP : 0, .ts_val = f.peer.ts_val + 1,
             .ts_ecr = sa->ts_val);
    assert_int_equal(sk_tcp_accept(f.listener, &f.c), 0);
    assert_int_equal(sk_tcp_get_state(f.c), SK_TCP_ESTABLISHED);
    return f;
}

void fx_free(struct fx *f)
{
    raw_free(f->r);
    f->r = NULL;
}

void fx_fill(uint8_t *p, size_t off, size_t n)
{
    for (size_t k = 0; k < n; k++)
        p[k] = fx_byte(off + k);
}

size_t fx_send(struct sk_tcp *c, size_t off, size_t n)
{
    uint8_t buf[1 << 14];
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
        fx_fill(buf, off + done, k);
        ssize_t m = sk_tcp_send(c, buf, k);
        if (m <= 0)
            break;
        done += (size_t)m;
    }
    return done;
}

size_t fx_recv_check(struct sk_tcp *c, size_t *off)
{
    uint8_t buf[1 << 14];
    size_t total = 0;
    ssize_t m;
    while ((m = sk_tcp_recv(c, buf, sizeof(buf))) > 0) {
        for (ssize_t k = 0; k < m; k++)
            if (buf[k] != fx_byte(*off + (size_t)k))
                fail_msg("stream byte %zu: got %u, want %u", *off + (size_t)k, buf[k],
                         fx_byte(*off + (size_t)k));
        *off += (size_t)m;
        total += (size_t)m;
    }
    return total;
}

size_t fx_opts(uint8_t *b, bool ts, uint32_t ts_val, uint32_t ts_ecr,
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

void fx_ack(struct fx *f, uint32_t ack, const uint32_t (*blocks)[2], size_t nblocks)
{
    uint8_t o[40];
    size_t n = fx_opts(o, false, 0, 0, blocks, nblocks);
    raw_send(f->r, .flags = ACK, .seq = f->irs + 1, .ack = ack, .raw_opts = n ? o : NULL,
             .raw_opts_len = n);
}

void fx_peer_data(struct fx *f, uint32_t off, uint32_t len, uint32_t ack)
{
    uint8_t buf[1600];
    assert_true(len <= sizeof(buf));
    fx_fill(buf, off, len);
    raw_send(f->r, .flags = ACK | PSH, .seq = FX_RCV(f, off), .ack = ack, .data = buf, .len = len);
}

const struct sk_trace_segment *fx_out_seg(struct raw *r, size_t i)
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

void fx_expect_sack_(const char *f, int l, struct raw *r, size_t i, const uint32_t (*blocks)[2],
                     size_t n)
{
    const struct sk_trace_segment *s = fx_out_seg(r, i);
    bool ok = s->nsack == n && (n == 0 || (s->opts & SK_OPT_SACK));
    for (size_t k = 0; ok && k < n; k++)
        ok = s->sack[k].left == blocks[k][0] && s->sack[k].right == blocks[k][1];
    if (ok)
        return;
    print_error("segment %zu: expected %zu SACK blocks:", i, n);
    for (size_t k = 0; k < n; k++)
        print_error(" [%u,%u)", blocks[k][0], blocks[k][1]);
    print_error("\n  got %u:", s->nsack);
    for (size_t k = 0; k < s->nsack && k < 4; k++)
        print_error(" [%u,%u)", s->sack[k].left, s->sack[k].right);
    print_error("\n");
    _fail(f, l);
}

const struct raw_out *fx_expect_data_(const char *f, int l, struct raw *r, uint8_t flags,
                                      uint32_t seq, uint32_t ack, uint32_t len)
{
    const struct raw_out *o = raw_expect_(f, l, r, flags, seq, ack);
    if (o->len != len) {
        print_error("segment %zu seq=%u: expected len %u, got %u\n", r->cursor - 1, seq, len,
                    o->len);
        _fail(f, l);
    }
    return o;
}

size_t fx_take(struct raw *r, size_t *first)
{
    if (first)
        *first = r->cursor;
    size_t n = r->nout - r->cursor;
    r->cursor = r->nout;
    return n;
}

struct fx_pair fx_pair_open(const struct fx_pair_opts *o)
{
    struct fx_pair_opts d = o ? *o : (struct fx_pair_opts){0};
    struct sk_config c[2];
    const struct sk_config *given[2] = {d.ca, d.cb};
    for (int s = 0; s < 2; s++) {
        if (given[s])
            c[s] = *given[s];
        else
            harness_config(&c[s], s);
        if (d.sndbuf)
            c[s].sndbuf_bytes = d.sndbuf;
        if (d.rcvbuf)
            c[s].rcvbuf_bytes = d.rcvbuf;
        if (d.mss)
            c[s].mss = d.mss;
    }
    struct fx_pair f = {.p = pair_new(&c[0], &c[1])};
    pair_establish(f.p, d.port ? d.port : 80, &f.ca, &f.lb, &f.cb);
    return f;
}

void *fx_mem_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct fx_mem *m = ctx;
    if (new_size == 0) {
        free(ptr);
        m->live -= old_size;
        return NULL;
    }
    if (m->fail_next > 0) {
        m->fail_next--;
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    if (p == NULL)
        return NULL;
    m->live = m->live - old_size + new_size;
    if (m->live > m->peak)
        m->peak = m->live;
    return p;
}
