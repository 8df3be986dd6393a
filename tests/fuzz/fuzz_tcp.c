/* libFuzzer target: TCP header and options (sk_tcp_parse, sk_tcp_opts_parse, sk_tcp_emit,
 * sk_tcp_opts_emit).
 * Input: mode byte, source and destination address (4 bytes each), layout byte, then the
 * segment. The segment is parsed raw (checksum verified unless mode bit 1), and (mode bit 0)
 * with the data offset clamped into range and the checksum fixed, so most runs reach the
 * options. The same bytes are also parsed as a bare option list.
 * Properties, for everything that parses:
 *  - the emitted option list is at most 40 bytes, a multiple of 4, and parses back to the same
 *    options, except SACK blocks left out only when one more would not have fit;
 *  - a re-emitted segment verifies and parses back to the same header, options and payload, and
 *    emitting that again gives the same bytes. */
#include "fuzz_common.h"

static const int layouts[] = {SK_SYN_OPTS_LINUX, SK_SYN_OPTS_FREEBSD, -1};

/* The number of SACK blocks o asks for: what parse returns and emit considers. */
static size_t want_sack(const struct sk_tcp_opts *o)
{
    if (!(o->present & SK_OPT_SACK))
        return 0;
    return o->nsack < SK_TCP_MAX_SACK ? o->nsack : SK_TCP_MAX_SACK;
}

/* b was parsed from the n option bytes emitted for a. */
static void check_same_opts(const struct sk_tcp_opts *a, const struct sk_tcp_opts *b, size_t n)
{
    FUZZ_CHECK((a->present & ~SK_OPT_SACK) == (b->present & ~SK_OPT_SACK));
    if (b->present & SK_OPT_MSS)
        FUZZ_CHECK(a->mss == b->mss);
    if (b->present & SK_OPT_WSCALE)
        FUZZ_CHECK(a->wscale == b->wscale);
    if (b->present & SK_OPT_TIMESTAMP)
        FUZZ_CHECK(a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr);
    /* RFC 7413: an invalid cookie was taken as none (fo_len 0) and goes out as a request. */
    if (b->present & SK_OPT_FASTOPEN)
        FUZZ_CHECK(b->fo_valid && a->fo_exp == b->fo_exp && a->fo_len == b->fo_len &&
                   memcmp(a->fo_cookie, b->fo_cookie, b->fo_len) == 0);
    size_t asked = want_sack(a), got = want_sack(b);
    FUZZ_CHECK(!(b->present & SK_OPT_SACK) || got >= 1);
    FUZZ_CHECK(got <= asked);
    for (size_t i = 0; i < got; i++)
        FUZZ_CHECK(a->sack[i].left == b->sack[i].left && a->sack[i].right == b->sack[i].right);
    /* blocks were left out only for lack of room: one more (with a new option header and its
     * two NOPs if none was sent) would have passed 40 bytes */
    if (got < asked)
        FUZZ_CHECK(n + (got ? 8 : 12) > 40);
}

static void check_opts_emit(const struct sk_tcp_opts *a, int layout)
{
    uint8_t out[40], again[40];
    size_t n = sk_tcp_opts_emit(out, sizeof(out), a, layout);
    FUZZ_CHECK(n <= 40 && n % 4 == 0);
    if (n > 0)
        FUZZ_CHECK(sk_tcp_opts_emit(again, n - 1, a, layout) == 0);
    struct sk_tcp_opts b;
    FUZZ_CHECK(sk_tcp_opts_parse(out, n, &b) == SK_DROP_NONE);
    check_same_opts(a, &b, n);
    FUZZ_CHECK(sk_tcp_opts_emit(again, sizeof(again), &b, layout) == n);
    FUZZ_CHECK(memcmp(again, out, n) == 0);
}

static void check_segment(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool verify,
                          int layout)
{
    struct sk_tcp_hdr h, g;
    int err = sk_tcp_parse(p, len, src, dst, verify, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_TCP_TRUNCATED || err == SK_DROP_TCP_HDRLEN ||
               err == SK_DROP_TCP_CHECKSUM || err == SK_DROP_TCP_OPTIONS);
    FUZZ_CHECK(verify || err != SK_DROP_TCP_CHECKSUM);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(h.hdr_len >= 20 && h.hdr_len <= 60 && h.hdr_len % 4 == 0 && h.hdr_len <= len);
    FUZZ_CHECK(h.payload == p + h.hdr_len && h.payload_len == len - h.hdr_len);
    for (size_t l = 0; l < 3; l++)
        check_opts_emit(&h.opts, layouts[l]);

    uint8_t opts[40];
    size_t opts_len = sk_tcp_opts_emit(opts, sizeof(opts), &h.opts, layout);
    size_t cap = 60 + h.payload_len, n;
    uint8_t *out = malloc(cap), *again = malloc(cap);
    FUZZ_CHECK(out && again);
    n = sk_tcp_emit(out, cap, src, dst, &h, layout);
    FUZZ_CHECK(n == 20 + opts_len + h.payload_len);
    FUZZ_CHECK(sk_tcp_emit(again, n - 1, src, dst, &h, layout) == 0);
    FUZZ_CHECK(memcmp(out + 20, opts, opts_len) == 0);
    FUZZ_CHECK(sk_tcp_parse(out, n, src, dst, true, &g) == SK_DROP_NONE);
    FUZZ_CHECK(g.sport == h.sport && g.dport == h.dport && g.seq == h.seq && g.ack == h.ack &&
               g.flags == h.flags && g.wnd == h.wnd && g.urg == h.urg);
    FUZZ_CHECK(g.hdr_len == 20 + opts_len && g.payload_len == h.payload_len);
    FUZZ_CHECK(h.payload_len == 0 || memcmp(g.payload, h.payload, h.payload_len) == 0);
    check_same_opts(&h.opts, &g.opts, opts_len);
    /* emit(parse(emit(x))) == emit(x), here with the payload already in place */
    memcpy(again, out, n);
    g.payload = again + g.hdr_len;
    FUZZ_CHECK(sk_tcp_emit(again, cap, src, dst, &g, layout) == n);
    FUZZ_CHECK(memcmp(again, out, n) == 0);
    free(out);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = fuzz_u8(&r);
    uint32_t src = fuzz_u32(&r), dst = fuzz_u32(&r);
    int layout = layouts[fuzz_u8(&r) % 3];
    uint8_t *p = fuzz_dup(r.p, r.n);
    size_t len = r.n;

    struct sk_tcp_opts o;
    if (sk_tcp_opts_parse(p, len, &o) == SK_DROP_NONE)
        for (size_t l = 0; l < 3; l++)
            check_opts_emit(&o, layouts[l]);

    check_segment(p, len, src, dst, !(mode & 2), layout);
    if ((mode & 1) && len >= SK_TCP_HLEN && len <= UINT16_MAX) {
        size_t max_doff = len / 4 < 15 ? len / 4 : 15;
        size_t doff = 5 + (p[12] >> 4) % (max_doff - 4);
        p[12] = (uint8_t)(doff << 4 | (p[12] & 0x0f));
        fuzz_fix_csum(p, len, 16, sk_csum_pseudo(src, dst, SK_IPPROTO_TCP, (uint16_t)len));
        check_segment(p, len, src, dst, true, layout);
    }
    free(p);
    return 0;
}
