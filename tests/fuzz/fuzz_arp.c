/* libFuzzer target: ARP (sk_arp_parse/sk_arp_emit).
 * The input is parsed raw and again with the fixed fields (hrd, pro, hln, pln) forced valid and
 * op forced to 1 or 2, so most runs reach the address fields.
 * Property: a parsed packet re-emits to the same 28 bytes. */
#include "fuzz_common.h"

static void check(const uint8_t *p, size_t len)
{
    struct sk_arp a;
    int err = sk_arp_parse(p, len, &a);
    FUZZ_CHECK(err == SK_DROP_NONE || err == SK_DROP_ARP_MALFORMED);
    if (err != SK_DROP_NONE)
        return;
    FUZZ_CHECK(len >= SK_ARP_LEN);
    FUZZ_CHECK(a.op == SK_ARP_REQUEST || a.op == SK_ARP_REPLY);
    uint8_t out[SK_ARP_LEN];
    FUZZ_CHECK(sk_arp_emit(out, sizeof(out), &a) == SK_ARP_LEN);
    FUZZ_CHECK(memcmp(out, p, SK_ARP_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = fuzz_dup(data, size);
    check(p, size);
    if (size >= SK_ARP_LEN) {
        static const uint8_t fixed[6] = {0, 1, 8, 0, 6, 4};
        memcpy(p, fixed, sizeof(fixed));
        p[6] = 0;
        p[7] = 1 + (p[7] & 1);
        check(p, size);
    }
    free(p);
    return 0;
}
