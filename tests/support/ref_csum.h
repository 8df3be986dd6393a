/* The tests' reference Internet checksum: RFC 1071 §1 written out the plain way (big-endian
 * 16-bit words, an odd last byte padded with zero, end-around carry), so that the stack's own
 * sk_csum_* code is checked against something it does not share. */
#ifndef SK_TEST_REF_CSUM_H
#define SK_TEST_REF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* The folded one's complement sum of p[0..n) added to sum: a correct segment, checksum
 * included, sums to 0xffff. */
static inline uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    uint64_t s = sum;
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

/* The checksum field's value: the complement of that sum. */
static inline uint16_t ref_csum(uint32_t init, const uint8_t *p, size_t n)
{
    return (uint16_t)~ref_sum(init, p, n);
}

#endif
