/* Deterministic pseudo-random numbers (splitmix64) and SipHash-2-4, for the core.
 * Private to the library. */
#ifndef SK_UTIL_RAND_H
#define SK_UTIL_RAND_H
#include <stddef.h>
#include <stdint.h>

/* splitmix64: small, fast, good enough for ports, ISN keys in tests and jitter. Never used
 * directly as an ISN: ISNs go through SipHash with a secret key (RFC 6528). */
static inline uint64_t sk_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* SipHash-2-4 of len bytes under a 128-bit key (k0, k1). */
uint64_t sk_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);
#endif
