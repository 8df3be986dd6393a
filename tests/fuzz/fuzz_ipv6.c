/* libFuzzer target: IPv6 fixed header and extension-header chain (sk_ipv6_parse, sk_ipv6_emit,
 * sk_ip6_ext_walk).
 * Input: mode byte, then the packet. Parsed raw, and (mode bit 0) with the version set to 6 and
 * the payload length clamped to the bytes present, so that the walker sees most inputs.
 * Properties: the walk returns a documented reason; every offset it reports lies inside the
 * packet and names the bytes it says (the Next Header field holding the upper-layer protocol,
 * the Fragment header's Next Header, the option type a Parameter Problem would point at); the
 * limits hold; re-emitting the fixed header gives the same 40 bytes. */
#include "fuzz_common.h"

static bool is_ext(uint8_t next)
{
    return next == SK_IPPROTO_HOPOPTS || next == SK_IPPROTO_ROUTING ||
           next == SK_IPPROTO_FRAGMENT || next == SK_IPPROTO_DSTOPTS;
}

static void check_walk(const uint8_t *p, size_t len)
{
    struct sk_ip6_ext e;
    int err = sk_ip6_ext_walk(p, len, &e);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_IP6_BAD_EXT ||
               err == SK_DROP_IP6_EXT_LIMIT || err == SK_DROP_IP6_CHAIN_INCOMPLETE ||
               err == SK_DROP_IP_FRAG_INVALID || err == SK_DROP_IP6_OPTION);
    if (err != SK_DROP_NONE) {
        FUZZ_CHECK(e.pp_pointer < len);
        FUZZ_CHECK(e.pp_code <= SK_ICMP6_PP_CHAIN || (err == SK_DROP_IP6_EXT_LIMIT &&
                   (e.pp_code == SK_ICMP6_PP_CHAIN_TOO_LONG ||
                    e.pp_code == SK_ICMP6_PP_TOO_MANY_HDRS)));
        if (err == SK_DROP_IP6_OPTION) {
            FUZZ_CHECK(e.opt_action != SK_IP6_OPT_SKIP && e.opt_action == e.opt_type >> 6);
            FUZZ_CHECK(p[e.pp_pointer] == e.opt_type && e.pp_code == SK_ICMP6_PP_OPTION);
        }
        if (err == SK_DROP_IP6_CHAIN_INCOMPLETE)
            FUZZ_CHECK(e.has_frag && e.frag_offset == 0 && e.frag_more);
        return;
    }
    FUZZ_CHECK(e.upper_off >= SK_IPV6_HLEN && e.upper_off <= len);
    FUZZ_CHECK(e.upper_off - SK_IPV6_HLEN <= SK_IP6_EXT_MAX_BYTES);
    FUZZ_CHECK(e.nhdrs <= SK_IP6_EXT_MAX_HDRS);
    FUZZ_CHECK(e.next_hdr_off < e.upper_off && p[e.next_hdr_off] == e.proto);
    if (e.has_frag) {
        FUZZ_CHECK(e.frag_hdr_off >= SK_IPV6_HLEN && e.frag_hdr_off + 8 <= e.upper_off);
        FUZZ_CHECK(p[e.frag_hdr_off] == e.frag_next);
        FUZZ_CHECK(e.frag_next_off < e.frag_hdr_off && p[e.frag_next_off] == SK_IPPROTO_FRAGMENT);
        FUZZ_CHECK(e.frag_offset % 8 == 0);
        if (e.frag_offset != 0)
            FUZZ_CHECK(e.upper_off == e.frag_hdr_off + 8 && e.proto == e.frag_next);
    }
    if (!e.has_frag || e.frag_offset == 0)
        FUZZ_CHECK(!is_ext(e.proto)); /* the walk went to the end of the chain */
    if (e.has_routing)
        FUZZ_CHECK(e.routing_type_off < e.upper_off && p[e.routing_type_off] == e.routing_type &&
                   p[e.routing_type_off + 1] == e.segments_left);
}

static void check(const uint8_t *p, size_t len)
{
    struct sk_ipv6_hdr h;
    int err = sk_ipv6_parse(p, len, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_IP6_TRUNCATED || err == SK_DROP_IP_VERSION);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(h.payload == p + SK_IPV6_HLEN && h.payload_len == h.payload_len_field);
    FUZZ_CHECK(SK_IPV6_HLEN + h.payload_len <= len);
    FUZZ_CHECK(h.flow <= 0xfffff);
    uint8_t out[SK_IPV6_HLEN];
    FUZZ_CHECK(sk_ipv6_emit(out, sizeof(out), &h, h.payload_len) == SK_IPV6_HLEN);
    FUZZ_CHECK(memcmp(out, p, SK_IPV6_HLEN) == 0);
    /* An exact-size copy of the packet without link padding: ASan sees any read past it. */
    uint8_t *pkt = fuzz_dup(p, SK_IPV6_HLEN + h.payload_len);
    check_walk(pkt, SK_IPV6_HLEN + h.payload_len);
    free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = fuzz_u8(&r);
    uint8_t *p = fuzz_dup(r.p, r.n);
    size_t len = r.n;
    check(p, len);
    if ((mode & 1) && len >= SK_IPV6_HLEN) {
        p[0] = (uint8_t)(0x60 | (p[0] & 0x0f));
        size_t room = len - SK_IPV6_HLEN;
        fuzz_clamp16(p, 4, 0, room < UINT16_MAX ? room : UINT16_MAX);
        check(p, len);
    }
    free(p);
    return 0;
}
