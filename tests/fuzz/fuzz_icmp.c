/* libFuzzer target: ICMPv4 (sk_icmp_parse/sk_icmp_emit).
 * Input: mode byte, then the message. Parsed raw, and (mode bit 0) with its checksum fixed.
 * Properties: a parsed message re-emits to the same bytes (the checksum may change between its
 * two one's complement forms 0x0000/0xffff) and parses again; emitting in place works too. */
#include "fuzz_common.h"

static void check(const uint8_t *p, size_t len)
{
    struct sk_icmp_hdr h, g;
    int err = sk_icmp_parse(p, len, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_ICMP_TRUNCATED || err == SK_DROP_ICMP_CHECKSUM);
    FUZZ_CHECK(len >= SK_ICMP_HLEN || err == SK_DROP_ICMP_TRUNCATED);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(h.payload == p + 8 && h.payload_len == len - 8);

    uint8_t *out = malloc(len);
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(sk_icmp_emit(out, len, &h) == len);
    FUZZ_CHECK(sk_icmp_emit(out, len - 1, &h) == 0);
    FUZZ_CHECK(memcmp(out, p, 2) == 0 && memcmp(out + 4, p + 4, len - 4) == 0);
    FUZZ_CHECK(sk_get16(out + 2) == sk_get16(p + 2) ||
               (sk_get16(out + 2) | sk_get16(p + 2)) == 0xffff);
    FUZZ_CHECK(sk_icmp_parse(out, len, &g) == SK_DROP_NONE);
    FUZZ_CHECK(g.type == h.type && g.code == h.code && g.rest == h.rest);

    /* in place: payload already after the header */
    g.type ^= 8;
    FUZZ_CHECK(sk_icmp_emit(out, len, &g) == len);
    FUZZ_CHECK(sk_icmp_parse(out, len, &g) == SK_DROP_NONE);
    FUZZ_CHECK(memcmp(out + 8, p + 8, len - 8) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = fuzz_u8(&r);
    uint8_t *p = fuzz_dup(r.p, r.n);
    check(p, r.n);
    if ((mode & 1) && r.n >= SK_ICMP_HLEN) {
        fuzz_fix_csum(p, r.n, 2, 0);
        check(p, r.n);
    }
    free(p);
    return 0;
}
