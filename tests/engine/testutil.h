/* Small helpers shared by the engine tests: checks that report file:line and
 * keep going, tensor comparison with max abs/rel error and the first
 * mismatches printed (llm.c style), and seeded random fills.
 *
 * A test program calls CHECK, CHECK_MSG and thaw_test_close() freely and ends with
 *   return thaw_test_finish();
 * which prints a summary and returns 0 when nothing failed, 1 otherwise. */
#ifndef THAW_TESTUTIL_H
#define THAW_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

extern int thaw_test_failures;
extern int thaw_test_checks;

void thaw_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        thaw_test_checks++;                                                                        \
        if (!(cond)) thaw_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                       \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        thaw_test_checks++;                                                                        \
        if (!(cond)) thaw_test_fail(__FILE__, __LINE__, __VA_ARGS__);                              \
    } while (0)

/* Compares n floats: element i passes if |a-b| <= atol + rtol*|b| (b is the
 * reference). Prints the max abs and rel errors, and the first 5 mismatches,
 * under `what` on failure. Returns true when all pass. */
bool thaw_test_close(const char *what, const float *got, const float *want, size_t n, double atol,
                     double rtol);

/* Bit-identical comparison of n floats. */
bool thaw_test_same(const char *what, const float *got, const float *want, size_t n);

/* Fills x with uniform values in [lo, hi) from rng. */
void thaw_test_fill_uniform(float *x, size_t n, float lo, float hi, thaw_rng *rng);

/* Fills x with normal(mean, std) values from rng. */
void thaw_test_fill_normal(float *x, size_t n, float mean, float std, thaw_rng *rng);

/* Allocates n floats (zeroed); aborts the test program on failure. */
float *thaw_test_alloc(size_t n);

/* n single-channel hw x hw images of normal(0.5, 1.2) values drawn from
 * seed (the input of thaw_test_bn_model); free() them. */
float *thaw_test_images(int n, int hw, uint64_t seed);

/* A small resnet8 (hw x hw x 1 input, Dense(head_hidden) + Dropout(dropout)
 * head, weights from seed) whose BN layers have non-trivial statistics, so
 * that batch and moving normalisation differ: moving means ~N(0, 0.3),
 * moving variances in [0.5, 2], gammas in [0.5, 1.5] and, with
 * fill_beta, betas ~N(0, 0.3), drawn from fill_seed. Exits on failure. */
struct thaw_model;
struct thaw_model *thaw_test_bn_model(int hw, int classes, int head_hidden, float dropout,
                                      uint64_t seed, uint64_t fill_seed, bool fill_beta);

/* Prints "<checks> checks, <failures> failed" and returns the exit code. */
int thaw_test_finish(void);

#endif
