/* SipHash-2-4 against the reference vectors of its paper, and the initial sequence numbers of
 * RFC 6528 §3 against SipHash computed here from the stack's documented inputs.
 *
 * The vectors: Aumasson and Bernstein, "SipHash: a fast short-input PRF" (2012), key
 * 00 01 02 .. 0f, message i bytes 00 01 .. (i-1) for i = 0..63; Appendix A works through
 * i = 15 (a129ca6149be45e5). Each output below is the 64-bit value (the paper's byte string
 * read little-endian). Both the library's sk_siphash and the tests' own (tests/ref/ref_isn.h)
 * must produce all 64; the ISN checks then rely on the tests' own only. */
#include <string.h>

#include "harness.h"
#include "internal.h"
#include "util/rand.h"

#include "../ref/ref_isn.h"

static const uint64_t paper_vectors[64] = {
    0x726fdb47dd0e0e31u, 0x74f839c593dc67fdu, 0x0d6c8009d9a94f5au,
    0x85676696d7fb7e2du, 0xcf2794e0277187b7u, 0x18765564cd99a68du,
    0xcbc9466e58fee3ceu, 0xab0200f58b01d137u, 0x93f5f5799a932462u,
    0x9e0082df0ba9e4b0u, 0x7a5dbbc594ddb9f3u, 0xf4b32f46226bada7u,
    0x751e8fbc860ee5fbu, 0x14ea5627c0843d90u, 0xf723ca908e7af2eeu,
    0xa129ca6149be45e5u, 0x3f2acc7f57c29bdbu, 0x699ae9f52cbe4794u,
    0x4bc1b3f0968dd39cu, 0xbb6dc91da77961bdu, 0xbed65cf21aa2ee98u,
    0xd0f2cbb02e3b67c7u, 0x93536795e3a33e88u, 0xa80c038ccd5ccec8u,
    0xb8ad50c6f649af94u, 0xbce192de8a85b8eau, 0x17d835b85bbb15f3u,
    0x2f2e6163076bcfadu, 0xde4daaaca71dc9a5u, 0xa6a2506687956571u,
    0xad87a3535c49ef28u, 0x32d892fad841c342u, 0x7127512f72f27cceu,
    0xa7f32346f95978e3u, 0x12e0b01abb051238u, 0x15e034d40fa197aeu,
    0x314dffbe0815a3b4u, 0x027990f029623981u, 0xcadcd4e59ef40c4du,
    0x9abfd8766a33735cu, 0x0e3ea96b5304a7d0u, 0xad0c42d6fc585992u,
    0x187306c89bc215a9u, 0xd4a60abcf3792b95u, 0xf935451de4f21df2u,
    0xa9538f0419755787u, 0xdb9acddff56ca510u, 0xd06c98cd5c0975ebu,
    0xe612a3cb9ecba951u, 0xc766e62cfcadaf96u, 0xee64435a9752fe72u,
    0xa192d576b245165au, 0x0a8787bf8ecb74b2u, 0x81b3e73d20b49b6fu,
    0x7fa8220ba3b2eceau, 0x245731c13ca42499u, 0xb78dbfaf3a8d83bdu,
    0xea1ad565322a1a0bu, 0x60e61c23a3795013u, 0x6606d7e446282b93u,
    0x6ca4ecb15c5f91e1u, 0x9f626da15c9625f3u, 0xe51b38608ef25f57u,
    0x958a324ceb064572u,
};

static const uint8_t paper_key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void paper_message(uint8_t msg[64])
{
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
}

/* The tests' own SipHash, which the ISN oracle below trusts, reproduces the paper. */
static void test_reference_siphash_matches_paper_vectors(void **state)
{
    (void)state;
    uint8_t msg[64];
    paper_message(msg);
    for (size_t len = 0; len < 64; len++) {
        uint64_t got = ref_siphash24(paper_key, msg, len);
        if (got != paper_vectors[len])
            fail_msg("ref_siphash24, %zu bytes: %016llx, paper %016llx", len,
                     (unsigned long long)got, (unsigned long long)paper_vectors[len]);
    }
}

/* The library's SipHash (src/util/siphash.c) reproduces the paper: every length from 0 to 63
 * bytes, so every tail length and one to seven whole words; also from an odd address. */
static void test_library_siphash_matches_paper_vectors(void **state)
{
    (void)state;
    uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull; /* the key, little-endian */
    uint8_t msg[64], odd[65];
    paper_message(msg);
    memcpy(odd + 1, msg, sizeof(msg));
    for (size_t len = 0; len < 64; len++) {
        uint64_t got = sk_siphash(k0, k1, msg, len);
        if (got != paper_vectors[len])
            fail_msg("sk_siphash, %zu bytes: %016llx, paper %016llx", len,
                     (unsigned long long)got, (unsigned long long)paper_vectors[len]);
        assert_true(sk_siphash(k0, k1, odd + 1, len) == paper_vectors[len]);
    }
}

/* Active open: the SYN carries ISN = M + F(4-tuple, key) for the key the test handed the stack
 * and the time of the connect call, for several local ports and times, the 4 µs clock M
 * included. */
static void test_syn_carries_rfc6528_isn(void **state)
{
    (void)state;
    struct ref_key key;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    ref_isn_config(&cfg, &key, 1);
    struct raw *r = raw_new(&cfg);
    static const uint16_t ports[] = {80, 81, 1024, 65535};
    static const sk_time_us steps[] = {0, 4, 1, 3, 123457};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        raw_run_for(r, steps[i]);
        struct sk_tcp *c;
        assert_int_equal(sk_tcp_connect(r->st, ports[i], ADDR_B, RAW_PEER_PORT, &c), 0);
        uint32_t want = ref_isn(&key, ADDR_A, ports[i], ADDR_B, RAW_PEER_PORT, r->now);
        const struct raw_out *o = raw_expect(r, SYN, want, 0);
        assert_int_equal(o->sport, ports[i]);
    }
    raw_free(r);
}

/* Passive open: the SYN,ACK carries the ISN of the listener's side of the 4-tuple at the
 * time the SYN arrived. Two peers' ports, two times. */
static void test_syn_ack_carries_rfc6528_isn(void **state)
{
    (void)state;
    struct ref_key key;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    ref_isn_config(&cfg, &key, 2);
    struct raw *r = raw_new(&cfg);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    raw_send(r, .sport = 40001, .flags = SYN, .seq = 1000);
    raw_expect(r, SYN | ACK, ref_isn(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, 40001, r->now), 1001);
    raw_run_for(r, MS(7) + 2);
    raw_send(r, .sport = 40002, .flags = SYN, .seq = 5000);
    raw_expect(r, SYN | ACK, ref_isn(&key, ADDR_A, RAW_LOCAL_PORT, ADDR_B, 40002, r->now), 5001);
    raw_free(r);
}

/* The key is the stack's: two stacks with different keys choose the ISNs their own keys give
 * for the same 4-tuple at the same time. And M is taken modulo 2^32: started 6 hours in, the
 * 4 µs clock has wrapped once (2^32 * 4 µs is about 4.77 hours). */
static void test_isn_follows_key_and_wrapping_clock(void **state)
{
    (void)state;
    struct ref_key k1, k2;
    struct sk_config c1, c2;
    harness_config(&c1, 0);
    harness_config(&c2, 0);
    ref_isn_config(&c1, &k1, 3);
    ref_isn_config(&c2, &k2, 4);
    sk_time_us start = SEC(6 * 3600) + 2;
    struct raw *r1 = raw_new_at(&c1, start), *r2 = raw_new_at(&c2, start);
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r1->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    assert_int_equal(sk_tcp_connect(r2->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    uint32_t i1 = ref_isn(&k1, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, start);
    uint32_t i2 = ref_isn(&k2, ADDR_A, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, start);
    assert_true(i1 != i2);
    raw_expect(r1, SYN, i1, 0);
    raw_expect(r2, SYN, i2, 0);
    raw_free(r1);
    raw_free(r2);
}
/* The key derivation and the generator (src/stack.c, documented in tests/ref/ref_isn.h) for the
 * secret 00 01 .. 1f: vectors computed by a separate SipHash-2-4 written in Python from the
 * paper, so that the tests' own derivation is itself checked against something else. */
static const uint64_t kdf_vectors[6][2] = {
    {0x9398f91f312b43c8u, 0x3ed63d0a662ac69fu}, /* ISN */
    {0xce6905785e919b59u, 0xd3b366654d4383d4u}, /* HASH */
    {0x01f32f44b2265dbfu, 0xd5b793929d213aaeu}, /* TS */
    {0x8ae8d1174af592f0u, 0xb5cb0185c2f1c6e1u}, /* COOKIE */
    {0xdf8d034470ec4adeu, 0x52c135ac7428b710u}, /* PORT */
    {0xd524347b5c2a3aafu, 0xe42b87403636268du}, /* RNG */
};
static const uint64_t rng_vectors[3] = {0xf813c10d4f264a6au, 0x6728de558aae1792u,
                                        0xf85790579fd748bdu};

static void test_key_derivation_and_generator_vectors(void **state)
{
    (void)state;
    struct ref_key key;
    for (int i = 0; i < 32; i++)
        key.secret[i] = (uint8_t)i;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    assert_int_equal(sk_config_set_secret(&cfg, key.secret, sizeof(key.secret)), 0);
    struct raw *r = raw_new(&cfg);
    for (int p = 0; p < 6; p++) {
        uint8_t k[16];
        ref_purpose_key(&key, p, k);
        for (int j = 0; j < 2; j++) {
            uint64_t w = 0;
            for (int i = 7; i >= 0; i--)
                w = (w << 8) | k[8 * j + i];
            assert_true(w == kdf_vectors[p][j]);
            assert_true(sk_key(r->st, (enum sk_key_purpose)p)[j] == kdf_vectors[p][j]);
        }
    }
    for (uint64_t i = 0; i < 3; i++)
        assert_true(ref_random(&key, i) == rng_vectors[i]);
    r->st->rng_counter = 0; /* replay the generator from its start */
    for (int i = 0; i < 3; i++)
        assert_true(sk_random(r->st) == rng_vectors[i]);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_reference_siphash_matches_paper_vectors),
        TEST(test_library_siphash_matches_paper_vectors),
        TEST(test_syn_carries_rfc6528_isn),
        TEST(test_syn_ack_carries_rfc6528_isn),
        TEST(test_isn_follows_key_and_wrapping_clock),
        TEST(test_key_derivation_and_generator_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
