#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void thaw_rng_seed(thaw_rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t s = seed;
    uint64_t t = stream ^ 0x5851f42d4c957f2dull;
    rng->state = splitmix64(&s);
    rng->inc = (splitmix64(&t) << 1) | 1u;
    (void)thaw_rng_u32(rng);
}

uint32_t thaw_rng_u32(thaw_rng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ull + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

float thaw_rng_uniform(thaw_rng *rng)
{
    return (float)(thaw_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

uint32_t thaw_rng_below(thaw_rng *rng, uint32_t bound)
{
    uint64_t m = (uint64_t)thaw_rng_u32(rng) * bound;
    uint32_t low = (uint32_t)m;
    if (low < bound) {
        uint32_t threshold = (uint32_t)(-bound) % bound;
        while (low < threshold) {
            m = (uint64_t)thaw_rng_u32(rng) * bound;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float thaw_rng_normal(thaw_rng *rng)
{
    /* u1 in (0, 1] so that log() is finite. */
    double u1 = ((double)(thaw_rng_u32(rng) >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(thaw_rng_u32(rng) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
