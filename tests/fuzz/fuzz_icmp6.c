/* libFuzzer target: ICMPv6 (sk_icmp6_parse/emit) and Neighbor Discovery (sk_nd_parse/emit).
 * Input: mode byte, source and destination address (16 bytes each), then the message. Parsed
 * raw, and (mode bit 0) with the checksum fixed over the pseudo-header (mode bit 1: the code
 * set to 0 first, as ND requires), so that the ND parser sees most inputs.
 * Properties: documented reasons only; spans inside the input; a parsed ICMPv6 message emits
 * back to the same bytes; a parsed ND message emits to one that parses to the same fields and
 * options (unknown options left out, the Redirected Header possibly cut to fit 1280 bytes). */
#include "fuzz_common.h"

static void same_nd(const struct sk_nd_msg *a, const struct sk_nd_msg *b)
{
    FUZZ_CHECK(a->type == b->type && a->cur_hop_limit == b->cur_hop_limit);
    FUZZ_CHECK(a->managed == b->managed && a->other == b->other);
    FUZZ_CHECK(a->router_lifetime == b->router_lifetime);
    FUZZ_CHECK(a->reachable_time == b->reachable_time && a->retrans_timer == b->retrans_timer);
    FUZZ_CHECK(memcmp(&a->target, &b->target, 16) == 0 && memcmp(&a->dest, &b->dest, 16) == 0);
    FUZZ_CHECK(a->router == b->router && a->solicited == b->solicited &&
               a->override == b->override);
    const struct sk_nd_opts *x = &a->opts, *y = &b->opts;
    FUZZ_CHECK(x->src_ll_len == y->src_ll_len && memcmp(x->src_ll, y->src_ll, x->src_ll_len) == 0);
    FUZZ_CHECK(x->tgt_ll_len == y->tgt_ll_len && memcmp(x->tgt_ll, y->tgt_ll, x->tgt_ll_len) == 0);
    FUZZ_CHECK(x->has_mtu == y->has_mtu && x->mtu == y->mtu);
    FUZZ_CHECK(x->nprefix == y->nprefix);
    for (size_t i = 0; i < x->nprefix; i++) {
        const struct sk_nd_prefix *p = &x->prefix[i], *q = &y->prefix[i];
        FUZZ_CHECK(p->prefix_len == q->prefix_len && p->on_link == q->on_link &&
                   p->autonomous == q->autonomous && p->valid_lifetime == q->valid_lifetime &&
                   p->preferred_lifetime == q->preferred_lifetime &&
                   memcmp(&p->prefix, &q->prefix, 16) == 0);
    }
    FUZZ_CHECK(y->redirected_len <= x->redirected_len);
    if (y->redirected_len)
        FUZZ_CHECK(memcmp(x->redirected, y->redirected, y->redirected_len) == 0);
}

static void check_nd(const uint8_t *p, size_t len, const struct sk_addr *src,
                     const struct sk_addr *dst)
{
    struct sk_nd_msg m, g;
    int err = sk_nd_parse(p, len, &m);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_ND_MALFORMED);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(m.type >= SK_ND_ROUTER_SOLICIT && m.type <= SK_ND_REDIRECT);
    FUZZ_CHECK(m.opts.nprefix <= SK_ND_MAX_PREFIXES);
    FUZZ_CHECK(m.opts.src_ll_len <= SK_ND_LLADDR_MAX && m.opts.tgt_ll_len <= SK_ND_LLADDR_MAX);
    if (m.opts.redirected)
        FUZZ_CHECK(m.opts.redirected >= p && m.opts.redirected + m.opts.redirected_len <= p + len);
    size_t cap = 2048;
    uint8_t *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    size_t n = sk_nd_emit(out, cap, src, dst, &m);
    FUZZ_CHECK(n >= 8 && n <= cap);
    struct sk_icmp6_hdr h;
    FUZZ_CHECK(sk_icmp6_parse(out, n, src, dst, &h) == SK_DROP_NONE);
    FUZZ_CHECK(sk_nd_parse(out, n, &g) == SK_DROP_NONE);
    same_nd(&m, &g);
    free(out);
}

static void check(const uint8_t *p, size_t len, const struct sk_addr *src,
                  const struct sk_addr *dst)
{
    struct sk_icmp6_hdr h;
    int err = sk_icmp6_parse(p, len, src, dst, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_ICMP6_TRUNCATED ||
               err == SK_DROP_ICMP6_CHECKSUM);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(h.payload == p + SK_ICMP6_HLEN && h.payload_len == len - SK_ICMP6_HLEN);
    uint8_t *out = fuzz_dup(p, len);
    FUZZ_CHECK(sk_icmp6_emit(out, len, src, dst, &h) == len);
    /* The same bytes, but for a checksum of 0xffff where the input had 0 (both right). */
    FUZZ_CHECK(memcmp(out, p, 2) == 0 && memcmp(out + 4, p + 4, len - 4) == 0);
    free(out);
    check_nd(p, len, src, dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = fuzz_u8(&r);
    struct sk_addr src, dst;
    for (int i = 0; i < 16; i++)
        src.b[i] = fuzz_u8(&r);
    for (int i = 0; i < 16; i++)
        dst.b[i] = fuzz_u8(&r);
    uint8_t *p = fuzz_dup(r.p, r.n);
    size_t len = r.n;
    check(p, len, &src, &dst);
    if ((mode & 1) && len >= SK_ICMP6_HLEN) {
        if (mode & 2)
            p[1] = 0;
        fuzz_fix_csum(p, len, 2,
                      sk_csum_pseudo6(src.b, dst.b, SK_IPPROTO_ICMPV6, (uint32_t)len));
        check(p, len, &src, &dst);
    }
    free(p);
    return 0;
}
