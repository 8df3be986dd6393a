/* The Internet checksum: RFC 1071 (computation), RFC 9293 §3.1 and RFC 768 (pseudo-header),
 * RFC 8200 §8.1 (the IPv6 pseudo-header).
 *
 * The sum is defined over big-endian 16-bit words, but RFC 1071 §2(B) shows it is byte-order
 * independent: summing the same bytes as native-order words gives the byte-swapped result. So
 * the loop sums native 64-bit loads (memcpy: any alignment), deferring the carries in wide
 * accumulators (RFC 1071 §2(C)), folds to 16 bits, and converts to network order once at the end.
 * sk_csum_copy is the same loop storing what it loads: a copy and its sum in one pass.
 */
#include <stdbool.h>
#include <string.h>

#include "wire/wire.h"

/* a + b in one's complement arithmetic on 64 bits (end-around carry). */
static inline uint64_t add64(uint64_t a, uint64_t b)
{
    a += b;
    return a + (a < b);
}

/* Folds a 64-bit one's complement sum to 16 bits without losing carries. */
static inline uint16_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

/* One pass over len bytes at b: their one's complement sum added to sum and, when copy is
 * set, each load also stored at d (sk_csum_copy: the bytes are in registers anyway, so the
 * copy and the sum cost one pass over memory instead of two). Always inlined with a constant
 * `copy`, so sk_csum_add carries no trace of the stores. */
static inline __attribute__((always_inline)) uint32_t csum_pass(uint8_t *d, const uint8_t *b,
                                                                size_t len, uint32_t sum,
                                                                bool copy)
{
    uint64_t acc = 0, w;

    /* Bulk: 32 bytes a round, each 64-bit load split into 32-bit halves summed into two 64-bit
     * accumulators. No carry can be lost: a round adds under 2^34 to each, so 2^20 rounds
     * (32 MiB) stay far below 2^64; the carries are folded in once per block. Two accumulators
     * let the adds of a round run in parallel. */
    while (len >= 32) {
        size_t rounds = len / 32 < ((size_t)1 << 20) ? len / 32 : (size_t)1 << 20;
        uint64_t a0 = 0, a1 = 0;
        for (size_t i = 0; i < rounds; i++, b += 32) {
            uint64_t w0, w1, w2, w3;
            memcpy(&w0, b, 8);
            memcpy(&w1, b + 8, 8);
            memcpy(&w2, b + 16, 8);
            memcpy(&w3, b + 24, 8);
            if (copy) {
                memcpy(d, &w0, 8);
                memcpy(d + 8, &w1, 8);
                memcpy(d + 16, &w2, 8);
                memcpy(d + 24, &w3, 8);
                d += 32;
            }
            a0 += (w0 & 0xffffffffu) + (w0 >> 32) + (w1 & 0xffffffffu) + (w1 >> 32);
            a1 += (w2 & 0xffffffffu) + (w2 >> 32) + (w3 & 0xffffffffu) + (w3 >> 32);
        }
        acc = add64(add64(acc, a0), a1);
        len -= rounds * 32;
    }
    while (len >= 8) {
        memcpy(&w, b, 8);
        if (copy) {
            memcpy(d, &w, 8);
            d += 8;
        }
        acc = add64(acc, w);
        b += 8;
        len -= 8;
    }
    if (len) {
        /* The last 1..7 bytes as one word padded with zeros: an odd last byte is then the
         * high-order byte of a 16-bit word padded on the right with zeros (RFC 9293 §3.1). */
        uint8_t tail[8] = {0};
        memcpy(tail, b, len);
        if (copy)
            memcpy(d, tail, len);
        memcpy(&w, tail, 8);
        acc = add64(acc, w);
    }

    /* Read the native 16-bit sum back as network order: on a little-endian host this swaps. */
    uint16_t native = fold64(acc);
    uint8_t be[2];
    memcpy(be, &native, 2);
    uint32_t part = (uint32_t)be[0] << 8 | be[1];

    uint32_t r = sum + part;
    return r + (r < part);
}

uint32_t sk_csum_add(uint32_t sum, const void *p, size_t len)
{
    return csum_pass(NULL, p, len, sum, false);
}

uint32_t sk_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
    return csum_pass(dst, src, len, sum, true);
}

uint16_t sk_csum_fold(uint32_t sum)
{
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t sk_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    /* RFC 9293 §3.1: source address, destination address, zero, PTCL, TCP length. */
    uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
    return fold64(s);
}

uint32_t sk_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                         uint32_t len)
{
    /* RFC 8200 §8.1: source, destination, Upper-Layer Packet Length (32 bits), zero (24 bits),
     * Next Header. The addresses are summed as bytes: 32 of them, an even count. */
    uint64_t s = sk_csum_add(sk_csum_add(0, src, 16), dst, 16);
    s += (len >> 16) + (len & 0xffffu) + proto;
    return fold64(s);
}
