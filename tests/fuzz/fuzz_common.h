/* Helpers shared by the wire fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * Each target feeds its parser two inputs per run: the raw bytes, and a "fixed" copy whose
 * length fields are clamped into range and whose checksum is recomputed, so that the fuzzer
 * reaches the code behind the checksum without having to guess it. A leading mode byte and, for
 * TCP/UDP, the pseudo-header addresses are taken from the front of the data. Everything the
 * parser sees lives in an exact-size heap copy, so ASan reports any read past len.
 * Properties are checked with FUZZ_CHECK, which aborts: a failed property is a crash.
 */
#ifndef SK_FUZZ_COMMON_H
#define SK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* Consumes the fuzz input from the front; reads past the end yield zeros. */
struct fuzz_reader {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static inline uint32_t fuzz_u32(struct fuzz_reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fuzz_u8(r);
    return v;
}

/* An exact-size heap copy (never a 0-byte allocation: malloc(0) may return NULL). */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

/* Clamps a 16-bit length field at off into [lo, hi] (hi >= lo), keeping in-range values. */
static inline void fuzz_clamp16(uint8_t *p, size_t off, size_t lo, size_t hi)
{
    size_t v = sk_get16(p + off);
    if (v < lo || v > hi)
        v = lo + v % (hi - lo + 1);
    sk_put16(p + off, (uint16_t)v);
}

/* Stores the checksum of p[0..len) + sum at p[off], with the field zeroed first. */
static inline void fuzz_fix_csum(uint8_t *p, size_t len, size_t off, uint32_t sum)
{
    sk_put16(p + off, 0);
    sk_put16(p + off, sk_csum_fold(sk_csum_add(sum, p, len)));
}

#endif
