/* SYN floods (RFC 4987): SYN cookies (§3.6), oldest-first eviction of half-open children
 * (§3.4), the per-stack half-open limit, and SYN,ACK retries bounded whatever arrives.
 *
 * Every cookie ISS expected here is computed by tests/ref/ref_cookie.h from the layout that
 * src/tcp/tcp_listen.c documents, under the key the test hands the stack; MSS values come from
 * the documented table and RFC 6691's arithmetic (the 12 bytes of timestamps); everything else
 * is a counter that must move by an amount the test knows, or stay at zero. */
#include <stdlib.h>

#include "harness.h"
#include "wire/wire.h"
#include "../ref/ref_cookie.h"
#include "../ref/ref_raw.h"

#define IRS 7000u
#define TS_BYTES 12u /* RFC 6691: NOP, NOP and the 10-byte timestamps option come out of the MSS */
#define ECT_FIELD(o) ((o)->tos & SK_IP_ECN_MASK)

static struct ref_key key;

/* A raw stack with the test's key and syncookies set to `mode`. */
static struct raw *cookie_raw(uint8_t mode, struct sk_config *cfg_out)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.syncookies = mode;
    cfg.ecn = 2;
    if (cfg_out)
        *cfg_out = cfg;
    return ref_raw_new(&cfg, &key, 31);
}

/* A SYN from src:sport (a spoofed source: nobody there answers) to dst:dport, with the usual
 * Linux options, built here without the harness so that the source address can vary. */
static size_t syn_frame(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint32_t dst,
                        uint16_t dport, uint32_t seq)
{
    struct sk_tcp_hdr h = {.sport = sport, .dport = dport, .seq = seq, .flags = SK_TCP_SYN,
                           .wnd = 65535};
    h.opts.present = SK_OPT_MSS | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP | SK_OPT_WSCALE;
    h.opts.mss = 1460;
    h.opts.wscale = 7;
    h.opts.ts_val = seq;
    size_t n = sk_tcp_emit(buf + SK_IPV4_HLEN, cap - SK_IPV4_HLEN, src, dst, &h,
                           SK_SYN_OPTS_LINUX);
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = src, .dst = dst, .df = true};
    sk_ipv4_emit(buf, cap, &ip, n);
    return SK_IPV4_HLEN + n;
}

/* n SYNs from n different spoofed sources in 10.0.0.0/24 (never 10.0.0.1 or .2) at `now`. */
static void spoof_flood(struct sk_stack *st, uint32_t dst, uint16_t dport, uint32_t n,
                        sk_time_us now, uint64_t *seed)
{
    uint8_t buf[128];
    for (uint32_t i = 0; i < n; i++) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t x = (uint32_t)(*seed >> 32);
        uint32_t src = 0x0a000000u | (3 + x % 250);
        uint16_t sport = (uint16_t)(1024 + (x >> 8) % 60000);
        size_t len = syn_frame(buf, sizeof(buf), src, sport, dst, dport, x);
        sk_stack_input(st, buf, len, now);
    }
}

/* ---------------- the cookie itself ---------------- */

/* syncookies = 2: the SYN,ACK's ISS is exactly the reference cookie, its TSval's low 6 bits
 * carry window scale, SACK-permitted and ECN, it offers what the SYN offered; the returning
 * ACK (with data on it) opens a connection that keeps all of it: MSS from the table, the
 * peer's shift, SACK, timestamps and ECN (new data goes out ECT(0), RFC 3168 §6.1.2). No TCB
 * exists between the SYN and the ACK. (tests/packetdrill/scripts/syncookie-*.pkt runs a cookie
 * handshake and data through packetdrill.) */
static void test_cookie_iss_is_the_reference_and_keeps_options(void **state)
{
    (void)state;
    struct raw *r = cookie_raw(2, NULL);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    raw_run_until(r, SEC(100)); /* the cookie clock's second period (t = 1) */
    raw_send(r, .flags = SYN | SK_TCP_ECE | SK_TCP_CWR, .seq = IRS,
             .opts = SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP,
             .mss = 1400, .wscale = 9, .ts_val = 5555);
    uint32_t mssi = ref_cookie_mssi(1400), opt = ref_cookie_opt(true, 9, true, true);
    assert_int_equal(REF_COOKIE_MSS[mssi], 1380);
    uint32_t iss = ref_cookie_iss(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, IRS,
                                  r->now, mssi, opt);
    const struct raw_out *sa = raw_expect(r, SYN | ACK | SK_TCP_ECE, iss, IRS + 1);
    assert_int_equal(sa->opts, SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP);
    assert_int_equal(sa->mss, 1460);
    assert_int_equal(sa->wscale, 7);
    assert_int_equal(sa->ts_ecr, 5555);
    assert_int_equal(sa->ts_val, ref_cookie_tsval(&key, ADDR_A, ADDR_B, r->now, opt));
    assert_int_equal(counters(r->st).connections, 1); /* the listener alone: no state */
    assert_int_equal(counters(r->st).tcp_syncookies_sent, 1);

    raw_run_for(r, MS(30));
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 1, .ack = iss + 1, .wnd = 1000, .data = "hello",
             .len = 5, .opts = SK_OPT_TIMESTAMP, .ts_val = 5556, .ts_ecr = sa->ts_val);
    assert_int_equal(counters(r->st).tcp_syncookies_validated, 1);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
    struct sk_tcp_info i = info(c);
    assert_int_equal(i.iss, iss);
    assert_int_equal(i.irs, IRS);
    assert_int_equal(i.snd_mss, 1380 - TS_BYTES);
    assert_int_equal(i.snd_wscale, 9);
    assert_int_equal(i.rcv_wscale, 7);
    assert_true(i.sack_ok);
    assert_true(i.ts_ok);
    assert_int_equal(i.snd_wnd, 1000u << 9);
    /* The echo of the cookie's TSval (its low bits replaced) does not date the SYN,ACK: no RTT
     * sample, so RFC 6298 §2.1's initial RTO of 1 s stands. */
    assert_int_equal(i.srtt_us, 0);
    assert_int_equal(i.rto_us, 1000000);
    char buf[16];
    assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    /* The data is acknowledged (at once or after the delayed-ACK timer), echoing its TSval,
     * with a TSval not behind the cookie's: the peer's PAWS (RFC 7323 §5) would drop it. */
    raw_run_for(r, MS(200));
    const struct raw_out *ack = raw_expect(r, ACK, iss + 1, IRS + 6);
    assert_int_equal(ack->ts_ecr, 5556);
    assert_true((int32_t)(ack->ts_val - sa->ts_val) >= 0);
    /* ECN was agreed: new data is ECT(0). */
    assert_int_equal(sk_tcp_send(c, "world", 5), 5);
    const struct raw_out *d = raw_expect(r, ACK | PSH, iss + 1, IRS + 6);
    assert_int_equal(ECT_FIELD(d), SK_IP_ECT0);
    raw_free(r);
}

/* The MSS a cookie carries is a table entry never above what the peer announced (536 when it
 * announced nothing, RFC 9293 §3.7.1), and never above our own. Without timestamps nothing
 * else survives the cookie, so the SYN,ACK offers MSS only and the connection goes without
 * window scaling and SACK; its MSS is the entry itself. */
static void test_cookie_mss_from_table_never_above_peer(void **state)
{
    (void)state;
    static const uint16_t peer[] = {1460, 1452, 1400, 1300, 1280, 1000, 536, 300, 40, 9000, 0};
    for (size_t k = 0; k < sizeof(peer) / sizeof(peer[0]); k++) {
        struct raw *r = cookie_raw(2, NULL);
        struct sk_tcp *l, *c;
        assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
        uint8_t opts = (peer[k] ? SK_OPT_MSS : 0) | SK_OPT_WSCALE | SK_OPT_SACK_PERM;
        raw_send(r, .flags = SYN, .seq = IRS, .opts = opts, .mss = peer[k], .wscale = 7);
        uint32_t mssi = ref_cookie_mssi(peer[k]);
        uint32_t iss = ref_cookie_iss(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, IRS,
                                      r->now, mssi, 0);
        const struct raw_out *sa = raw_expect(r, SYN | ACK, iss, IRS + 1);
        assert_int_equal(sa->opts, SK_OPT_MSS);
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1);
        assert_int_equal(sk_tcp_accept(l, &c), 0);
        struct sk_tcp_info i = info(c);
        uint32_t want = REF_COOKIE_MSS[mssi] < 1460 ? REF_COOKIE_MSS[mssi] : 1460;
        if (peer[k] >= 64 && want > peer[k])
            fail_msg("table entry %u above the peer's MSS %u", want, peer[k]);
        assert_int_equal(i.snd_mss, want);
        assert_int_equal(i.snd_wscale, 0);
        assert_int_equal(i.rcv_wscale, 0);
        assert_false(i.sack_ok);
        assert_false(i.ts_ok);
        raw_free(r);
    }
}

/* Cookie ACKs that must not open anything: a forged cookie, one with any of its parts
 * changed (hash, MSS index, clock bits, the echoed options, the sequence number that names
 * the IRS), and a stale one (two periods of the cookie clock later). Each gets RST
 * <SEQ=SEG.ACK> as any bad ACK in LISTEN (RFC 9293 §3.10.7.2) and is counted. The genuine ACK
 * still works within the cookie's lifetime, in the next period. */
static void test_forged_modified_and_stale_cookie_acks_rejected(void **state)
{
    (void)state;
    struct raw *r = cookie_raw(2, NULL);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    raw_run_until(r, SEC(10));
    raw_send(r, .flags = SYN, .seq = IRS,
             .opts = SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP,
             .mss = 1460, .wscale = 7, .ts_val = 100);
    uint32_t opt = ref_cookie_opt(true, 7, true, false);
    uint32_t iss = ref_cookie_iss(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, IRS,
                                  r->now, ref_cookie_mssi(1460), opt);
    uint32_t tsval = raw_expect(r, SYN | ACK, iss, IRS + 1)->ts_val;
    struct {
        uint32_t seq, ack, ts_ecr;
    } bad[] = {
        {IRS + 1, 0x12345678u, tsval},              /* forged */
        {IRS + 1, (iss ^ 0x00000001u) + 1, tsval},  /* hash bit */
        {IRS + 1, (iss ^ 0x08000000u) + 1, tsval},  /* MSS index: 1460 -> 1440 */
        {IRS + 1, (iss ^ 0x40000000u) + 1, tsval},  /* clock bits */
        {IRS + 1, iss + 1, tsval ^ 0x10u},          /* echoed options: SACK off */
        {IRS + 1, iss + 1, tsval ^ 0x03u},          /* echoed options: another shift */
        {IRS + 2, iss + 1, tsval},                  /* not the IRS the cookie was made for */
    };
    uint64_t failed = 0;
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        raw_send(r, .flags = ACK, .seq = bad[k].seq, .ack = bad[k].ack, .opts = SK_OPT_TIMESTAMP,
                 .ts_val = 101, .ts_ecr = bad[k].ts_ecr);
        raw_expect(r, RST, bad[k].ack, 0);
        assert_int_equal(counters(r->st).tcp_syncookies_failed, ++failed);
    }
    assert_int_equal(counters(r->st).connections, 1);
    assert_int_equal(counters(r->st).tcp_syncookies_validated, 0);

    /* Stale: made at t = 0 (10 s), tried at t = 2 (130 s). */
    raw_run_until(r, SEC(130));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 101, .ts_ecr = tsval);
    raw_expect(r, RST, iss + 1, 0);
    assert_int_equal(counters(r->st).tcp_syncookies_failed, ++failed);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
    raw_free(r);

    /* The same cookie is good for the rest of its period and all of the next (t = 1, 127 s). */
    r = cookie_raw(2, NULL);
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    raw_run_until(r, SEC(10));
    raw_send(r, .flags = SYN, .seq = IRS,
             .opts = SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP,
             .mss = 1460, .wscale = 7, .ts_val = 100);
    assert_int_equal(raw_expect(r, SYN | ACK, iss, IRS + 1)->ts_val, tsval);
    raw_run_until(r, SEC(127));
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1, .opts = SK_OPT_TIMESTAMP,
             .ts_val = 101, .ts_ecr = tsval);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    assert_int_equal(counters(r->st).tcp_syncookies_failed, 0);
    raw_free(r);
}

/* syncookies = 1: an ACK that finds the listener while it has sent no cookies is a bad ACK
 * and nothing more (no cookie is tried, nothing counted as a failed cookie). */
static void test_no_cookie_check_without_recent_cookies(void **state)
{
    (void)state;
    struct raw *r = cookie_raw(1, NULL);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = 4242);
    raw_expect(r, RST, 4242, 0);
    assert_int_equal(counters(r->st).tcp_syncookies_failed, 0);
    assert_int_equal(drops(r->st, SK_DROP_TCP_ACK_INVALID), 1);
    raw_free(r);
}

/* A cookie ACK while the accept queue is full is dropped and counted, and nothing is kept (no
 * RST either: the peer believes it is connected); once the application accepts, the peer's
 * data, which starts at IRS + 1 and so brings the cookie again, opens the connection. */
static void test_cookie_ack_with_accept_queue_full_waits(void **state)
{
    (void)state;
    struct raw *r = cookie_raw(2, NULL);
    struct sk_tcp *l, *c1, *c2;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 1, &l), 0);
    uint32_t iss[2];
    for (int k = 0; k < 2; k++) {
        uint16_t sport = (uint16_t)(RAW_PEER_PORT + k);
        raw_send(r, .sport = sport, .flags = SYN, .seq = IRS, .opts = SK_OPT_MSS, .mss = 1460);
        iss[k] = ref_cookie_iss(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, sport, IRS, r->now,
                                ref_cookie_mssi(1460), 0);
        raw_expect(r, SYN | ACK, iss[k], IRS + 1);
    }
    raw_send(r, .sport = RAW_PEER_PORT, .flags = ACK, .seq = IRS + 1, .ack = iss[0] + 1);
    raw_send(r, .sport = RAW_PEER_PORT + 1, .flags = ACK, .seq = IRS + 1, .ack = iss[1] + 1);
    raw_expect_none(r);
    assert_int_equal(drops(r->st, SK_DROP_TCP_ACCEPT_FULL), 1);
    assert_int_equal(counters(r->st).connections, 2); /* the listener and the first */
    assert_int_equal(sk_tcp_accept(l, &c1), 0);
    raw_send(r, .sport = RAW_PEER_PORT + 1, .flags = ACK | PSH, .seq = IRS + 1,
             .ack = iss[1] + 1, .data = "abc", .len = 3);
    assert_int_equal(sk_tcp_accept(l, &c2), 0);
    char buf[8];
    assert_int_equal(sk_tcp_recv(c2, buf, sizeof(buf)), 3);
    assert_int_equal(counters(r->st).tcp_syncookies_validated, 2);
    raw_free(r);
}

/* ---------------- a flood, and a real client through it ---------------- */

/* Two stacks: B listens with a backlog of 8; 300 SYNs from spoofed sources fill its SYN queue
 * (8 half-open children) and draw cookies for the rest. A real client then connects through
 * a cookie, with window scaling, SACK and timestamps, and 200 KB move each way byte-exact. */
static void test_flood_fills_queue_then_client_connects_by_cookie(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    struct sk_tcp *l, *ca, *cb = NULL;
    assert_int_equal(sk_tcp_listen(p->b, 80, 8, &l), 0);
    uint64_t seed = 99;
    spoof_flood(p->b, ADDR_B, 80, 300, pair_now(p), &seed);
    assert_int_equal(counters(p->b).connections, 1 + 8);
    assert_int_equal(counters(p->b).tcp_syncookies_sent, 300 - 8);
    assert_int_equal(counters(p->b).tcp_halfopen_evicted, 0);

    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, 80, &ca), 0);
    pair_run_for(p, 3 * LINK_DELAY);
    expect_state(ca, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_accept(l, &cb), 0);
    expect_state(cb, SK_TCP_ESTABLISHED);
    assert_int_equal(counters(p->b).tcp_syncookies_validated, 1);
    assert_int_equal(counters(p->b).tcp_syncookies_sent, 300 - 8 + 1);
    struct sk_tcp_info ia = info(ca), ib = info(cb);
    assert_int_equal(ia.irs, ib.iss);
    assert_int_equal(ib.irs, ia.iss);
    assert_int_equal(ib.snd_mss, 1460 - TS_BYTES);
    assert_int_equal(ib.snd_wscale, 7);
    assert_int_equal(ia.snd_wscale, 7);
    assert_true(ia.sack_ok && ib.sack_ok && ia.ts_ok && ib.ts_ok);

    static uint8_t out_a[200000], out_b[200000], in_a[200000], in_b[200000];
    for (size_t i = 0; i < sizeof(out_a); i++) {
        out_a[i] = (uint8_t)(i * 7 + 1);
        out_b[i] = (uint8_t)(i * 13 + 5);
    }
    size_t sa = 0, sb = 0, ra = 0, rb = 0;
    for (int round = 0; round < 20000 && (ra < sizeof(in_a) || rb < sizeof(in_b)); round++) {
        ssize_t n;
        if (sa < sizeof(out_a) && (n = sk_tcp_send(ca, out_a + sa, sizeof(out_a) - sa)) > 0)
            sa += (size_t)n;
        if (sb < sizeof(out_b) && (n = sk_tcp_send(cb, out_b + sb, sizeof(out_b) - sb)) > 0)
            sb += (size_t)n;
        if ((n = sk_tcp_recv(cb, in_b + rb, sizeof(in_b) - rb)) > 0)
            rb += (size_t)n;
        if ((n = sk_tcp_recv(ca, in_a + ra, sizeof(in_a) - ra)) > 0)
            ra += (size_t)n;
        pair_run_for(p, MS(5));
    }
    assert_int_equal(rb, sizeof(out_a));
    assert_int_equal(ra, sizeof(out_b));
    assert_memory_equal(in_b, out_a, sizeof(out_a));
    assert_memory_equal(in_a, out_b, sizeof(out_b));
    assert_int_equal(info(cb).total_retransmits, 0);
    pair_free(p);
}

/* ---------------- memory under a flood ---------------- */

struct counting {
    size_t in_use, peak;
};

static void *counting_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct counting *m = ctx;
    if (new_size == 0) {
        free(ptr);
        m->in_use -= old_size;
        return NULL;
    }
    void *q = realloc(ptr, new_size);
    if (q == NULL)
        return NULL;
    m->in_use = m->in_use - old_size + new_size;
    if (m->in_use > m->peak)
        m->peak = m->in_use;
    return q;
}

static size_t frames_out;
static uint8_t last_frame[256];
static void count_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    (void)ctx;
    frames_out++;
    memcpy(last_frame, frame, len < sizeof(last_frame) ? len : sizeof(last_frame));
}

/* A real client at ADDR_B:40000 opens a connection to st's port 80 through whatever the flood
 * left: SYN, the SYN,ACK it gets back, ACK; the connection must be acceptable. */
static void real_client_connects(struct sk_stack *st, struct sk_tcp *l, sk_time_us now)
{
    uint8_t buf[128];
    size_t n = syn_frame(buf, sizeof(buf), ADDR_B, 40000, ADDR_A, 80, IRS);
    sk_stack_input(st, buf, n, now);
    struct sk_ipv4_hdr ip;
    struct sk_tcp_hdr h;
    assert_int_equal(sk_ipv4_parse(last_frame, sizeof(last_frame), &ip), 0);
    assert_int_equal(ip.dst, ADDR_B);
    assert_int_equal(sk_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, true, &h), 0);
    assert_int_equal(h.flags, SYN | ACK);
    assert_int_equal(h.ack, IRS + 1);
    struct sk_tcp_hdr a = {.sport = 40000, .dport = 80, .seq = IRS + 1, .ack = h.seq + 1,
                           .flags = SK_TCP_ACK, .wnd = 1000};
    a.opts.present = SK_OPT_TIMESTAMP;
    a.opts.ts_val = IRS + 1;
    a.opts.ts_ecr = h.opts.ts_val;
    n = sk_tcp_emit(buf + SK_IPV4_HLEN, sizeof(buf) - SK_IPV4_HLEN, ADDR_B, ADDR_A, &a, -1);
    struct sk_ipv4_hdr ipo = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                              .src = ADDR_B, .dst = ADDR_A, .df = true};
    sk_ipv4_emit(buf, sizeof(buf), &ipo, n);
    sk_stack_input(st, buf, SK_IPV4_HLEN + n, now + MS(1));
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    expect_state(c, SK_TCP_ESTABLISHED);
}

/* 100,000 SYNs from spoofed sources over 20 s, 64 listening with a backlog of 64: with cookies
 * (1) the stack holds the 64 half-open children the queue admits and answers the rest
 * statelessly; without (0) each new SYN takes the place of the oldest child. Either way the
 * memory in use after the first 1,000 SYNs is all it ever uses, every SYN is answered, and
 * a real client still connects afterwards. */
static void test_memory_flat_under_100k_syn_flood(void **state)
{
    (void)state;
    for (uint8_t mode = 0; mode <= 1; mode++) {
        struct counting mem = {0};
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.syncookies = mode;
        cfg.alloc = counting_alloc;
        cfg.alloc_ctx = &mem;
        cfg.output = count_output;
        frames_out = 0;
        struct sk_stack *st = sk_stack_new(&cfg, T0, NULL);
        assert_non_null(st);
        struct sk_tcp *l;
        assert_int_equal(sk_tcp_listen(st, 80, 64, &l), 0);
        uint64_t seed = 7 + mode;
        sk_time_us now = T0;
        spoof_flood(st, ADDR_A, 80, 1000, now, &seed);
        size_t settled = mem.in_use;
        size_t peak_before = mem.peak;
        for (int batch = 0; batch < 99; batch++) {
            now += MS(200);
            sk_stack_poll(st, now);
            spoof_flood(st, ADDR_A, 80, 1000, now, &seed);
            assert_true(counters(st).connections <= 1 + 64);
        }
        assert_true(mem.peak <= peak_before);
        assert_true(mem.in_use <= settled);
        struct sk_stack_counters k = counters(st);
        if (mode == 1) {
            assert_int_equal(k.tcp_syncookies_sent + k.tcp_passive_opens, 100000);
            assert_int_equal(k.tcp_halfopen_evicted, 0);
        } else {
            assert_int_equal(k.tcp_syncookies_sent, 0);
            assert_int_equal(k.tcp_passive_opens, 100000);
            assert_true(k.tcp_halfopen_evicted >= 100000 - 64 - k.tcp_conn_failed);
        }
        assert_int_equal(k.drops[SK_DROP_TCP_BACKLOG_FULL], 0);
        assert_true(frames_out >= 100000);
        print_message("syncookies=%u: %zu bytes in use after 1,000 SYNs, peak %zu after 100,000"
                      " (%llu cookies, %llu evicted)\n",
                      mode, settled, mem.peak, (unsigned long long)k.tcp_syncookies_sent,
                      (unsigned long long)k.tcp_halfopen_evicted);
        real_client_connects(st, l, now + MS(10));
        sk_stack_free(st);
        assert_int_equal(mem.in_use, 0);
    }
}

/* ---------------- eviction and the per-stack limit ---------------- */

/* max_half_open counts the half-open children of every listener. With cookies, a SYN for a
 * listener whose own backlog has room still gets a cookie once the stack is at the limit;
 * without, the stack's oldest child (another listener's) makes room for it. */
static void test_stack_wide_half_open_limit(void **state)
{
    (void)state;
    for (uint8_t mode = 0; mode <= 1; mode++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.syncookies = mode;
        cfg.max_half_open = 4;
        struct raw *r = ref_raw_new(&cfg, &key, 33);
        struct sk_tcp *la, *lb;
        assert_int_equal(sk_tcp_listen(r->st, 80, 16, &la), 0);
        assert_int_equal(sk_tcp_listen(r->st, 81, 16, &lb), 0);
        for (uint16_t k = 0; k < 4; k++)
            raw_send(r, .sport = (uint16_t)(40000 + k), .dport = 80, .flags = SYN, .seq = IRS);
        assert_int_equal(counters(r->st).connections, 2 + 4);
        r->cursor = r->nout;
        raw_send(r, .sport = 41000, .dport = 81, .flags = SYN, .seq = IRS, .opts = SK_OPT_MSS,
                 .mss = 1460);
        if (mode == 1) {
            uint32_t iss = ref_cookie_iss(&key, ADDR_A, 81, ADDR_B, 41000, IRS, r->now,
                                          ref_cookie_mssi(1460), 0);
            raw_expect(r, SYN | ACK, iss, IRS + 1);
            assert_int_equal(counters(r->st).connections, 2 + 4);
            assert_int_equal(counters(r->st).tcp_syncookies_sent, 1);
        } else {
            uint32_t iss = ref_raw_iss(r, &key, 81, 41000);
            raw_expect(r, SYN | ACK, iss, IRS + 1);
            assert_int_equal(counters(r->st).tcp_halfopen_evicted, 1);
            /* The oldest (port 40000) is gone: its ACK finds no connection. */
            uint32_t old_iss = ref_raw_iss(r, &key, 80, 40000);
            raw_send(r, .sport = 40000, .dport = 80, .flags = ACK, .seq = IRS + 1,
                     .ack = old_iss + 1);
            raw_expect(r, RST, old_iss + 1, 0);
            /* The second oldest (40001) is still half-open and completes. */
            struct sk_tcp *c;
            raw_send(r, .sport = 40001, .dport = 80, .flags = ACK, .seq = IRS + 1,
                     .ack = ref_raw_iss(r, &key, 80, 40001) + 1);
            assert_int_equal(sk_tcp_accept(la, &c), 0);
        }
        raw_free(r);
    }
}

/* ---------------- SYN,ACK retries of a half-open child ---------------- */

/* RFC 9293 §3.10.7.4: in SYN-RECEIVED an unacceptable segment is answered with the SYN,ACK.
 * Each such answer spends one of synack_retries, and once they are spent nothing more is sent:
 * a stream of segments every 20 ms (the SYN again, and ACKs far outside the window) draws at
 * most 1 + synack_retries SYN,ACKs in all, and the child ends within RFC 6298's backed-off
 * timer, 1 + 2 + 4 + 8 s for 3 retries, however the stream runs. */
static void test_synack_retries_bounded_under_unacceptable_stream(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.synack_retries = 3;
    cfg.syncookies = 0;
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    raw_send(r, .flags = SYN, .seq = IRS, .opts = SK_OPT_MSS, .mss = 1460);
    assert_int_equal(counters(r->st).connections, 2);
    const sk_time_us life = SEC(1 + 2 + 4 + 8);
    sk_time_us gone = SK_TIME_NEVER;
    int k = 0;
    for (sk_time_us t = MS(20); t <= life + SEC(2); t += MS(20), k++) {
        raw_run_until(r, T0 + t);
        if (counters(r->st).connections == 1) {
            gone = t;
            break;
        }
        if (k % 2)
            raw_send(r, .flags = ACK, .seq = IRS + 1 + 3000000, .ack = 1);
        else
            raw_send(r, .flags = SYN, .seq = IRS, .opts = SK_OPT_MSS, .mss = 1460);
    }
    assert_true(gone <= life);
    size_t synacks = 0;
    for (size_t i = 0; i < r->nout; i++)
        if (r->out[i].flags == (SYN | ACK))
            synacks++;
    assert_int_equal(synacks, 1 + cfg.synack_retries);
    assert_int_equal(counters(r->st).tcp_retransmits, cfg.synack_retries);
    raw_free(r);
}

/* ---------------- a cookie connection whose first segments were lost ---------------- */

/* The handshake's ACK and the first data segment are lost; the second segment is the first
 * to reach the listener. Its SEG.SEQ - 1 is not the IRS the cookie was made for, so the check
 * fails, but it may well be a real client: with syncookie_quiet_data (the default) it is
 * dropped without the RST of RFC 9293 §3.10.7.2 (drop tcp-cookie-unverified), and the peer's
 * retransmission from IRS + 1 brings the cookie and opens the connection. A pure ACK that
 * fails is still answered with a RST; with the knob off, so is data (the RFC's rule). */
static void test_cookie_data_after_lost_ack_waits_for_retransmission(void **state)
{
    (void)state;
    for (int quiet = 1; quiet >= 0; quiet--) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.syncookies = 2;
        cfg.syncookie_quiet_data = quiet;
        struct raw *r = ref_raw_new(&cfg, &key, 31);
        struct sk_tcp *l, *c = NULL;
        assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
        raw_send(r, .flags = SYN, .seq = IRS, .opts = SK_OPT_MSS, .mss = 1000);
        uint32_t iss = ref_cookie_iss(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, IRS,
                                      r->now, ref_cookie_mssi(1000), 0);
        raw_expect(r, SYN | ACK, iss, IRS + 1);
        /* The ACK and bytes [IRS + 1, IRS + 101) are lost; [IRS + 101, IRS + 201) arrives. */
        static const char d1[100] = "first", d2[100] = "second";
        raw_send(r, .flags = ACK | PSH, .seq = IRS + 101, .ack = iss + 1, .data = d2, .len = 100);
        assert_int_equal(counters(r->st).tcp_syncookies_failed, 1);
        if (!quiet) {
            raw_expect(r, RST, iss + 1, 0);
            assert_int_equal(drops(r->st, SK_DROP_TCP_ACK_INVALID), 1);
            raw_free(r);
            continue;
        }
        raw_expect_none(r);
        assert_int_equal(drops(r->st, SK_DROP_TCP_COOKIE_UNVERIFIED), 1);
        assert_int_equal(drops(r->st, SK_DROP_TCP_ACK_INVALID), 0);
        assert_int_equal(counters(r->st).tcp_rst_out, 0);
        assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
        /* A FIN alone beyond IRS + 1 is the same case. */
        raw_send(r, .flags = ACK | FIN, .seq = IRS + 201, .ack = iss + 1);
        raw_expect_none(r);
        assert_int_equal(drops(r->st, SK_DROP_TCP_COOKIE_UNVERIFIED), 2);
        /* A pure ACK that fails is not a lost-segment case: RST. */
        raw_send(r, .flags = ACK, .seq = IRS + 101, .ack = iss + 1);
        raw_expect(r, RST, iss + 1, 0);
        /* The retransmission from IRS + 1 opens the connection; then the rest follows. */
        raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = iss + 1, .data = d1, .len = 100);
        assert_int_equal(sk_tcp_accept(l, &c), 0);
        raw_send(r, .flags = ACK | PSH, .seq = IRS + 101, .ack = iss + 1, .data = d2, .len = 100);
        char buf[256];
        assert_int_equal(sk_tcp_recv(c, buf, sizeof(buf)), 200);
        assert_memory_equal(buf, d1, 100);
        assert_memory_equal(buf + 100, d2, 100);
        assert_int_equal(counters(r->st).tcp_syncookies_validated, 1);
        raw_free(r);
    }
}

/* Two stacks, every SYN answered with a cookie: the client's handshake ACK and first data
 * segment are lost on the link, so the listener first sees the second segment. The client's
 * own retransmission opens the connection and every byte arrives; the listener sends no RST. */
static void test_cookie_client_recovers_from_lost_ack_and_first_segment(void **state)
{
    (void)state;
    struct sk_config cb;
    harness_config(&cb, 1);
    cb.syncookies = 2;
    struct pair *p = pair_new(NULL, &cb);
    struct sk_tcp *l, *ca, *c = NULL;
    assert_int_equal(sk_tcp_listen(p->b, 80, 8, &l), 0);
    pair_drop(p, 0, 0xff, ACK, 1); /* the handshake's ACK: the first bare-ACK frame from a */
    pair_drop(p, 0, 0xff, ACK, 2); /* the first data segment (no PSH: more follows) */
    assert_int_equal(sk_tcp_connect(p->a, 0, ADDR_B, 80, &ca), 0);
    static uint8_t out[3 * 1448], in[sizeof(out)];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 11 + 3);
    assert_int_equal(sk_tcp_send(ca, out, sizeof(out)), (ssize_t)sizeof(out));
    size_t got = 0;
    for (int round = 0; round < 2000 && got < sizeof(in); round++) {
        if (c == NULL)
            sk_tcp_accept(l, &c);
        ssize_t n;
        if (c && (n = sk_tcp_recv(c, in + got, sizeof(in) - got)) > 0)
            got += (size_t)n;
        pair_run_for(p, MS(5));
    }
    assert_non_null(c);
    assert_int_equal(got, sizeof(out));
    assert_memory_equal(in, out, sizeof(out));
    assert_true(drops(p->b, SK_DROP_TCP_COOKIE_UNVERIFIED) >= 1);
    assert_int_equal(counters(p->b).tcp_rst_out, 0);
    assert_int_equal(counters(p->b).tcp_syncookies_validated, 1);
    expect_state(ca, SK_TCP_ESTABLISHED);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_cookie_iss_is_the_reference_and_keeps_options),
        TEST(test_cookie_mss_from_table_never_above_peer),
        TEST(test_forged_modified_and_stale_cookie_acks_rejected),
        TEST(test_no_cookie_check_without_recent_cookies),
        TEST(test_cookie_ack_with_accept_queue_full_waits),
        TEST(test_flood_fills_queue_then_client_connects_by_cookie),
        TEST(test_memory_flat_under_100k_syn_flood),
        TEST(test_stack_wide_half_open_limit),
        TEST(test_synack_retries_bounded_under_unacceptable_stream),
        TEST(test_cookie_data_after_lost_ack_waits_for_retransmission),
        TEST(test_cookie_client_recovers_from_lost_ack_and_first_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
