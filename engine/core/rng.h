/* Seeded pseudo-random numbers for dropout, shuffling, augmentation and
 * initialisation. Each model and each dataset owns its own generator, so runs
 * are reproducible and independent of the C library's rand().
 *
 * Generator: PCG32 (O'Neill, "PCG: A Family of Simple Fast Space-Efficient
 * Statistically Good Algorithms", XSH-RR 64/32), seeded via SplitMix64. */
#ifndef THAW_CORE_RNG_H
#define THAW_CORE_RNG_H

#include <stdint.h>

typedef struct thaw_rng {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
} thaw_rng;

/* Seeds rng; different (seed, stream) pairs give independent sequences. */
void thaw_rng_seed(thaw_rng *rng, uint64_t seed, uint64_t stream);

uint32_t thaw_rng_u32(thaw_rng *rng);

/* Uniform in [0, 1) with 24 random bits (exactly representable floats). */
float thaw_rng_uniform(thaw_rng *rng);

/* Uniform integer in [0, bound), unbiased (Lemire's method); bound > 0. */
uint32_t thaw_rng_below(thaw_rng *rng, uint32_t bound);

/* Standard normal sample (Box-Muller, no cached second value). */
float thaw_rng_normal(thaw_rng *rng);

#endif
