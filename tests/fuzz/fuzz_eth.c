/* libFuzzer target: Ethernet II header (sk_eth_parse/sk_eth_emit).
 * Property: a parsed header re-emits to the same 14 bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = fuzz_dup(data, size);
    struct sk_eth_hdr h;
    int err = sk_eth_parse(p, size, &h);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_LINK_TRUNCATED);
    FUZZ_CHECK((err == SK_DROP_NONE) == (size >= SK_ETH_HLEN));
    if (err == SK_DROP_NONE) {
        uint8_t out[SK_ETH_HLEN];
        FUZZ_CHECK(sk_eth_emit(out, sizeof(out), &h) == SK_ETH_HLEN);
        FUZZ_CHECK(memcmp(out, p, SK_ETH_HLEN) == 0);
        FUZZ_CHECK(sk_eth_emit(out, SK_ETH_HLEN - 1, &h) == 0);
    }
    free(p);
    return 0;
}
