/* libFuzzer target: IPv4 header (sk_ipv4_parse/sk_ipv4_emit).
 * Input: mode byte, then the datagram. Parsed raw, and (mode bit 0) with the version set to 4,
 * IHL and total length clamped into range and the header checksum fixed.
 * Properties: the spans returned lie inside the input; re-emitting a parsed header and parsing
 * that gives the same fields. */
#include "fuzz_common.h"

static void check(const uint8_t *p, size_t len)
{
    struct sk_ipv4_hdr h, g;
    int err = sk_ipv4_parse(p, len, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_IP_TRUNCATED || err == SK_DROP_IP_VERSION ||
               err == SK_DROP_IP_HDRLEN || err == SK_DROP_IP_TOTLEN || err == SK_DROP_IP_CHECKSUM);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(h.hdr_len >= 20 && h.hdr_len <= 60 && h.hdr_len % 4 == 0);
    FUZZ_CHECK(h.options == p + 20 && h.options_len == h.hdr_len - 20u);
    FUZZ_CHECK(h.payload == p + h.hdr_len && h.hdr_len + h.payload_len == h.total_len);
    FUZZ_CHECK(h.total_len <= len);

    uint8_t out[SK_IPV4_HLEN];
    FUZZ_CHECK(sk_ipv4_emit(out, sizeof(out), &h, h.payload_len) == SK_IPV4_HLEN);
    err = sk_ipv4_parse(out, sizeof(out), &g);
    if (h.payload_len == 0) {
        FUZZ_CHECK(err == SK_DROP_NONE);
        FUZZ_CHECK(g.tos == h.tos && g.id == h.id && g.df == h.df && g.mf == h.mf &&
                   g.frag_off == h.frag_off && g.ttl == h.ttl && g.proto == h.proto &&
                   g.src == h.src && g.dst == h.dst && g.total_len == 20);
    } else {
        FUZZ_CHECK(err == SK_DROP_IP_TOTLEN); /* the header promises a payload we did not give */
    }
    /* Options dropped, the same fields otherwise: a 20-byte input header comes back identical
     * except for the reserved flag bit, which is not sent. */
    if (h.hdr_len == 20 && !(p[6] & 0x80))
        FUZZ_CHECK(memcmp(out, p, SK_IPV4_HLEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = fuzz_u8(&r);
    uint8_t *p = fuzz_dup(r.p, r.n);
    size_t len = r.n;
    check(p, len);
    if ((mode & 1) && len >= SK_IPV4_HLEN) {
        size_t max_ihl = len / 4 < 15 ? len / 4 : 15;
        size_t ihl = 5 + (p[0] & 0x0f) % (max_ihl - 4);
        p[0] = (uint8_t)(0x40 | ihl);
        fuzz_clamp16(p, 2, ihl * 4, len < UINT16_MAX ? len : UINT16_MAX);
        fuzz_fix_csum(p, ihl * 4, 10, 0);
        check(p, len);
    }
    free(p);
    return 0;
}
