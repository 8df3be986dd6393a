/* The tests' own seeded generator (splitmix64), independent of the stack's keyed one, so a
 * test's random choices replay from a printed seed and never share state with the code under
 * test. */
#ifndef SK_TEST_RNG_H
#define SK_TEST_RNG_H
#include <stdint.h>

static inline uint64_t test_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform-enough in [0, n) for test choices; 0 when n is 0. */
static inline uint32_t test_rng_below(uint64_t *state, uint32_t n)
{
    uint64_t z = test_rng_next(state);
    return n ? (uint32_t)(z % n) : 0;
}
#endif
