/* SipHash-2-4, the core's one keyed function: ISNs, table hashes, timestamp offsets, ports,
 * the key derivation and the generator behind sk_random (src/stack.c). Private to the library. */
#ifndef SK_UTIL_RAND_H
#define SK_UTIL_RAND_H
#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of len bytes under a 128-bit key (k0, k1). */
uint64_t sk_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);
#endif
