/* Reference values for the tests, computed without the library: SipHash-2-4 written from its
 * paper (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012, §2) and the initial
 * sequence number of RFC 6528 §3 written from the RFC and the stack's documented inputs.
 *
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)          (RFC 6528 §3)
 *
 * M  the stack's clock in 4 µs ticks: the sk_time_us the stack was last handed (sk_stack_new,
 *    sk_stack_input, sk_stack_poll, in microseconds) divided by 4, modulo 2^32.
 * F  the low 32 bits of SipHash-2-4 under the 128-bit secret key, over the 12 bytes of the
 *    uint32_t array {localip, remoteip, localport << 16 | remoteport} (addresses and ports in
 *    host order, the array in the host's byte order), as sk_tcp_isn in src/tcp/tcp_conn.c
 *    documents it.
 * The key: sk_config has no field for it; sk_stack_new draws it from sk_config.random, the
 *    first draw the key's bytes 0-7 and the second its bytes 8-15, both little-endian
 *    (src/stack.c). ref_isn_config is the one place that knows this: it installs a random
 *    source that returns the test's key first, then a stream of the test's own.
 *
 * Header-only (static inline), so each test file that includes it gets its own copy. */
#ifndef SK_TEST_REF_ISN_H
#define SK_TEST_REF_ISN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "synack/stack.h"

/* ---------------- SipHash-2-4, from the paper ---------------- */

struct ref_sip {
    uint64_t v0, v1, v2, v3;
};

static inline uint64_t ref_rotl64(uint64_t x, unsigned n)
{
    return (x << n) | (x >> (64u - n));
}

/* SipRound, as the paper draws it: two ARX half-rounds side by side. */
static inline void ref_sipround(struct ref_sip *s)
{
    s->v0 += s->v1;
    s->v2 += s->v3;
    s->v1 = ref_rotl64(s->v1, 13);
    s->v3 = ref_rotl64(s->v3, 16);
    s->v1 ^= s->v0;
    s->v3 ^= s->v2;
    s->v0 = ref_rotl64(s->v0, 32);
    s->v2 += s->v1;
    s->v0 += s->v3;
    s->v1 = ref_rotl64(s->v1, 17);
    s->v3 = ref_rotl64(s->v3, 21);
    s->v1 ^= s->v2;
    s->v3 ^= s->v0;
    s->v2 = ref_rotl64(s->v2, 32);
}

/* Compression: one message word m_i, c = 2 rounds. */
static inline void ref_sip_compress(struct ref_sip *s, uint64_t m)
{
    s->v3 ^= m;
    ref_sipround(s);
    ref_sipround(s);
    s->v0 ^= m;
}

/* SipHash-2-4 of len bytes under the 16-byte key k (k_0 = bytes 0-7, k_1 = bytes 8-15, each
 * read little-endian, as the paper's §2 "Initialization"). */
static inline uint64_t ref_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
    const uint8_t *p = msg;
    uint64_t k0 = 0, k1 = 0;
    for (int i = 7; i >= 0; i--) {
        k0 = (k0 << 8) | key[i];
        k1 = (k1 << 8) | key[8 + i];
    }
    /* The constants spell "somepseudorandomlygeneratedbytes". */
    struct ref_sip s = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                        k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    /* Words of 8 bytes little-endian; the last word holds the leftover bytes and, in its top
     * byte, len mod 256. */
    uint64_t m = 0;
    for (size_t i = 0; i < len; i++) {
        m |= (uint64_t)p[i] << (8 * (i % 8));
        if (i % 8 == 7) {
            ref_sip_compress(&s, m);
            m = 0;
        }
    }
    m |= (uint64_t)(len & 0xff) << 56;
    ref_sip_compress(&s, m);
    /* Finalization: d = 4 rounds. */
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        ref_sipround(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---------------- RFC 6528 ISN ---------------- */

/* A test's secret key, and the random source that hands it to a stack (see the top). One per
 * stack; it must outlive the stack. */
struct ref_key {
    uint8_t k[16];
    uint64_t draws;  /* values the stack has drawn so far */
    uint64_t stream; /* state of the test's own generator for the draws after the key */
};

static inline uint64_t ref_key_word(const struct ref_key *key, int half)
{
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = (w << 8) | key->k[8 * half + i];
    return w;
}

/* The stack's random source: the key's two words, then an xorshift64* stream (Vigna 2016),
 * which is not the stack's own generator. */
static inline uint64_t ref_key_random(void *ctx)
{
    struct ref_key *key = ctx;
    uint64_t n = key->draws++;
    if (n < 2)
        return ref_key_word(key, (int)n);
    uint64_t x = key->stream ? key->stream : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    key->stream = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Fills key with 16 bytes derived from `seed` (any bytes will do: the test chooses them) and
 * makes cfg's stack take it. */
static inline void ref_isn_config(struct sk_config *cfg, struct ref_key *key, uint8_t seed)
{
    memset(key, 0, sizeof(*key));
    for (int i = 0; i < 16; i++)
        key->k[i] = (uint8_t)(seed * 16 + i * 7 + 1);
    key->stream = 0x5eed0000u + seed;
    cfg->random = ref_key_random;
    cfg->random_ctx = key;
}

/* RFC 6528 §3: the ISN a stack holding `key` must choose at time now_us for this 4-tuple
 * (addresses and ports in host order). */
static inline uint32_t ref_isn(const struct ref_key *key, uint32_t laddr, uint16_t lport,
                               uint32_t raddr, uint16_t rport, uint64_t now_us)
{
    uint32_t words[3] = {laddr, raddr, ((uint32_t)lport << 16) | rport};
    uint8_t msg[12];
    memcpy(msg, words, sizeof(msg));
    uint32_t f = (uint32_t)ref_siphash24(key->k, msg, sizeof(msg));
    uint32_t m = (uint32_t)(now_us / 4);
    return m + f;
}

#endif
