/* libFuzzer target: UDP (sk_udp_parse/sk_udp_emit).
 * Input: mode byte, source and destination address (4 bytes each), then the datagram. Parsed
 * raw, and (mode bit 0) with the length field clamped into range and the checksum fixed (mode
 * bit 1: set to 0, "no checksum").
 * Properties: spans lie inside the input; re-emitting a parsed datagram gives the same bytes up
 * to the length field (checksum: the same, or a fresh one where the input had none) and parses. */
#include "fuzz_common.h"

static void check(const uint8_t *p, size_t len, uint32_t src, uint32_t dst)
{
    struct sk_udp_hdr h, g;
    int err = sk_udp_parse(p, len, src, dst, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_UDP_TRUNCATED || err == SK_DROP_UDP_CHECKSUM);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(h.len >= 8 && h.len <= len);
    FUZZ_CHECK(h.payload == p + 8 && h.payload_len == h.len - 8u);

    uint8_t *out = malloc(h.len);
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(sk_udp_emit(out, h.len, src, dst, &h) == h.len);
    FUZZ_CHECK(memcmp(out, p, 6) == 0 && memcmp(out + 8, p + 8, h.len - 8u) == 0);
    uint16_t c = sk_get16(out + 6);
    FUZZ_CHECK(c != 0);
    FUZZ_CHECK(h.checksum == 0 || c == h.checksum || (c | h.checksum) == 0xffff);
    FUZZ_CHECK(sk_udp_parse(out, h.len, src, dst, &g) == SK_DROP_NONE);
    FUZZ_CHECK(g.sport == h.sport && g.dport == h.dport && g.len == h.len);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = fuzz_u8(&r);
    uint32_t src = fuzz_u32(&r), dst = fuzz_u32(&r);
    uint8_t *p = fuzz_dup(r.p, r.n);
    size_t len = r.n;
    check(p, len, src, dst);
    if ((mode & 1) && len >= SK_UDP_HLEN) {
        fuzz_clamp16(p, 4, SK_UDP_HLEN, len < UINT16_MAX ? len : UINT16_MAX);
        uint16_t ulen = sk_get16(p + 4);
        if (mode & 2)
            sk_put16(p + 6, 0);
        else
            fuzz_fix_csum(p, ulen, 6, sk_csum_pseudo(src, dst, SK_IPPROTO_UDP, ulen));
        check(p, len, src, dst);
    }
    free(p);
    return 0;
}
