/* Reference values for the tests, computed without the library: SipHash-2-4 written from its
 * paper (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012, §2), the stack's
 * documented key derivation, and the initial sequence number of RFC 6528 §3, the timestamp
 * offset of RFC 7323 §5.4 and the generator behind sk_random, each written from its document.
 *
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)          (RFC 6528 §3)
 *
 * M  the stack's clock in 4 µs ticks: the sk_time_us the stack was last handed (sk_stack_new,
 *    sk_stack_input, sk_stack_poll, in microseconds) divided by 4, modulo 2^32.
 * F  the low 32 bits of SipHash-2-4 under the stack's ISN key, over the 12 bytes of the
 *    uint32_t array {localip, remoteip, localport << 16 | remoteport} (addresses and ports in
 *    host order, the array in the host's byte order), as sk_tcp_isn in src/tcp/tcp_conn.c
 *    documents it.
 * The keys (include/synack/stack.h, src/stack.c derive_keys): the caller hands sk_config 32
 *    secret bytes S (sk_config_set_secret; a test seed is its 8 bytes little-endian then 24
 *    zeros). For purpose p (the order of enum sk_key_purpose: ISN 0, HASH 1, TS 2, COOKIE 3,
 *    PORT 4, RNG 5) word j (0, 1) of its 128-bit key is
 *        SipHash(S[0..15], L) XOR SipHash(S[16..31], L),  L = the 8 bytes "sk-kdf", p, j
 *    with the 16-byte keys read as the paper says.
 * TSval offset (RFC 7323 §5.4): the low 32 bits of SipHash under the TS key over the 8 bytes
 *    of the uint32_t array {localip, remoteip}, host order.
 * sk_random's i-th value (from 0): SipHash under the RNG key over i as 8 bytes little-endian.
 * IPv6 (docs/api.md, "Addresses of both families"): F is over 36 bytes, the local address's 16
 *    bytes then the remote's (network order) then the uint32_t localport << 16 | remoteport
 *    (host order); the TSval offset over the two addresses' 32 bytes (ref_isn6,
 *    ref_ts_offset6).
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

/* ---------------- the keys ---------------- */

enum { REF_KEY_ISN, REF_KEY_HASH, REF_KEY_TS, REF_KEY_COOKIE, REF_KEY_PORT, REF_KEY_RNG,
       REF_KEY_IID, REF_KEY_FLOW, REF_KEY_TFO };

/* A test's secret, and the keys the stack must derive from it (see the top). */
struct ref_key {
    uint8_t secret[32];
};

static inline void ref_le64_put(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

/* The 16-byte key of purpose p, as bytes (word 0 then word 1, little-endian). */
static inline void ref_purpose_key(const struct ref_key *key, int p, uint8_t out[16])
{
    for (int j = 0; j < 2; j++) {
        const uint8_t label[8] = {'s', 'k', '-', 'k', 'd', 'f', (uint8_t)p, (uint8_t)j};
        uint64_t w = ref_siphash24(key->secret, label, 8) ^ ref_siphash24(key->secret + 16, label, 8);
        ref_le64_put(out + 8 * j, w);
    }
}

/* Fills key with 32 bytes derived from `seed` (any bytes will do: the test chooses them) and
 * hands them to cfg as the caller's secret. */
static inline void ref_isn_config(struct sk_config *cfg, struct ref_key *key, uint8_t seed)
{
    for (int i = 0; i < 32; i++)
        key->secret[i] = (uint8_t)(seed * 32 + i * 7 + 1);
    sk_config_set_secret(cfg, key->secret, sizeof(key->secret));
}

/* The secret sk_config_set_test_seed(cfg, seed) stands for. */
static inline void ref_key_from_test_seed(struct ref_key *key, uint64_t seed)
{
    memset(key, 0, sizeof(*key));
    ref_le64_put(key->secret, seed);
}

/* RFC 7323 §5.4: the TSval offset towards raddr from laddr. */
static inline uint32_t ref_ts_offset(const struct ref_key *key, uint32_t laddr, uint32_t raddr)
{
    uint8_t k[16], msg[8];
    uint32_t words[2] = {laddr, raddr};
    memcpy(msg, words, sizeof(msg));
    ref_purpose_key(key, REF_KEY_TS, k);
    return (uint32_t)ref_siphash24(k, msg, sizeof(msg));
}

/* The stack's i-th draw from its generator (counting from 0 at sk_stack_new). */
static inline uint64_t ref_random(const struct ref_key *key, uint64_t i)
{
    uint8_t k[16], msg[8];
    ref_purpose_key(key, REF_KEY_RNG, k);
    ref_le64_put(msg, i);
    return ref_siphash24(k, msg, sizeof(msg));
}

/* ---------------- RFC 6528 ISN ---------------- */

/* RFC 6528 §3: the ISN a stack holding `key` must choose at time now_us for this 4-tuple
 * (addresses and ports in host order). */
static inline uint32_t ref_isn(const struct ref_key *key, uint32_t laddr, uint16_t lport,
                               uint32_t raddr, uint16_t rport, uint64_t now_us)
{
    uint32_t words[3] = {laddr, raddr, ((uint32_t)lport << 16) | rport};
    uint8_t msg[12];
    memcpy(msg, words, sizeof(msg));
    uint8_t k[16];
    ref_purpose_key(key, REF_KEY_ISN, k);
    uint32_t f = (uint32_t)ref_siphash24(k, msg, sizeof(msg));
    uint32_t m = (uint32_t)(now_us / 4);
    return m + f;
}

/* ---------------- IPv6 ---------------- */

/* RFC 7323 §5.4 over IPv6: the offset towards raddr from laddr (16 bytes each). */
static inline uint32_t ref_ts_offset6(const struct ref_key *key, const uint8_t laddr[16],
                                      const uint8_t raddr[16])
{
    uint8_t k[16], msg[32];
    memcpy(msg, laddr, 16);
    memcpy(msg + 16, raddr, 16);
    ref_purpose_key(key, REF_KEY_TS, k);
    return (uint32_t)ref_siphash24(k, msg, sizeof(msg));
}

/* RFC 6528 §3 over IPv6. */
static inline uint32_t ref_isn6(const struct ref_key *key, const uint8_t laddr[16], uint16_t lport,
                                const uint8_t raddr[16], uint16_t rport, uint64_t now_us)
{
    uint8_t msg[36], k[16];
    uint32_t ports = ((uint32_t)lport << 16) | rport;
    memcpy(msg, laddr, 16);
    memcpy(msg + 16, raddr, 16);
    memcpy(msg + 32, &ports, 4);
    ref_purpose_key(key, REF_KEY_ISN, k);
    return (uint32_t)(now_us / 4) + (uint32_t)ref_siphash24(k, msg, sizeof(msg));
}

/* RFC 6437 §3: the 20-bit flow label of an IPv6 flow, a keyed hash of the 5-tuple (addresses,
 * next header, then the ports in network order), never 0 (0 says "no flow"). */
static inline uint32_t ref_flow_label6(const struct ref_key *key, const uint8_t src[16],
                                       const uint8_t dst[16], uint8_t proto, uint16_t sport,
                                       uint16_t dport)
{
    uint8_t msg[37], k[16];
    memcpy(msg, src, 16);
    memcpy(msg + 16, dst, 16);
    msg[32] = proto;
    msg[33] = (uint8_t)(sport >> 8), msg[34] = (uint8_t)sport;
    msg[35] = (uint8_t)(dport >> 8), msg[36] = (uint8_t)dport;
    ref_purpose_key(key, REF_KEY_FLOW, k);
    uint32_t f = (uint32_t)ref_siphash24(k, msg, sizeof(msg)) & 0xfffffu;
    return f ? f : 1;
}

#endif
