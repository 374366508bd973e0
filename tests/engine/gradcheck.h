/* One reusable finite-difference gradient checker (after Caffe's
 * test_gradient_check_util.hpp and ggml's test-backend-ops), used by every
 * layer test: kernels, layers, the convolution backends and whole models.
 *
 * The function under test is any f: (tensors) -> out (out_count floats),
 * given as a forward callback. The checker reduces it to the scalar
 *   L = sum_i w_i * out_i          (w fixed, random in [-1, 1), summed in double)
 * so the analytic gradient of every tensor is the backward pass applied to
 * dout = w. Usage:
 *
 *   struct my_ctx { float *x, *dx, *y; ... };
 *   static void fwd(void *ctx, float *out) { ... out = f(x) ... }
 *   static void bwd(void *ctx, const float *dout) { ... dx += df/dx^T dout ... }
 *
 *   thaw_gradcheck_tensor t[] = {{"x", c.x, c.dx, nx}, ...};
 *   thaw_gradcheck_fn fn = {.ctx = &c, .out_count = ny, .forward = fwd, .backward = bwd};
 *   thaw_gradcheck_opts o = thaw_gradcheck_defaults();
 *   thaw_gradcheck("bn/train", &fn, t, 2, &o, NULL);
 *
 * Protocol, in order:
 *   1. forward at the base point, twice; the two outputs must be bit-identical
 *      (re-seed any RNG, e.g. dropout's, inside forward);
 *   2. the grad buffers are zeroed and backward(dout = w) is called right
 *      after a base-point forward (so it may use values that forward saved,
 *      e.g. BN's mean/invstd): that is the analytic gradient. Then forward
 *      and backward run again with the grads prefilled with random g0; they
 *      must end as g0 + gradient: backward ACCUMULATES (+=);
 *   3. for each checked element x_j (all, or opts.max_elems random ones):
 *      L(x_j + h) and L(x_j - h) with h = step * max(|x_j|, 1) (the actual
 *      representable float steps are used), restoring x_j exactly afterwards.
 *      The central difference is compared with the analytic value:
 *        err = |num - ana| / max(|num|, |ana|, floor * max_j |ana_j|, atol)
 *      and passes when err <= rtol. (atol matters for a tensor whose gradient
 *      is exactly 0, e.g. a conv bias feeding a training-mode BN.)
 *      An element that fails is retried once with h/10 (strong curvature:
 *      the central difference error falls 100x; a kink usually leaves the
 *      interval).
 *   4. Kinks (ReLU at 0, max-pool ties, ...): when an element still fails and
 *      its one-sided slopes (L(x+h) - L(x))/h and (L(x) - L(x-h))/h disagree
 *      by more than rtol (same scale), the step straddles a non-differentiable
 *      point; the element is skipped, not failed. It is reported as a skip,
 *      and counted as "one-sided match" when the analytic value agrees with
 *      one of the one-sided slopes. More than max_skip_frac of the checked
 *      elements skipped is a failure.
 *
 * One line per tensor is printed (checked, skipped, worst relative error and
 * where). Failures are recorded through testutil (thaw_test_fail) so a test
 * ends with thaw_test_finish() as usual. forward must not modify the tensors;
 * backward must not modify dout.
 *
 * Tips (see test-gradients.c): keep shapes small so float rounding stays far
 * below rtol; for a scalar loss output f - f(base) rather than f, so rounding
 * the double loss to float keeps the small differences; in a chain of layers,
 * zero the intermediate gradient buffers inside backward (the kernels
 * accumulate into them); keep inputs O(1) since h scales with max(|x|, 1). */
#ifndef THAW_GRADCHECK_H
#define THAW_GRADCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct thaw_gradcheck_tensor {
    const char *name; /* printed in the report */
    float *data;      /* perturbed in place (the forward callback reads it) */
    float *grad;      /* analytic gradient: backward ACCUMULATES into it */
    size_t count;
} thaw_gradcheck_tensor;

typedef struct thaw_gradcheck_fn {
    void *ctx;
    size_t out_count;
    /* out (out_count) overwritten with f(tensors) */
    void (*forward)(void *ctx, float *out);
    /* grads of all tensors += (d out / d tensor)^T dout */
    void (*backward)(void *ctx, const float *dout);
} thaw_gradcheck_fn;

typedef struct thaw_gradcheck_opts {
    double step;          /* relative step: h = step * max(|x|, 1) */
    double rtol;          /* pass when err <= rtol (see above) */
    double floor;         /* error scale floor, relative to the tensor's max |ana| */
    double atol;          /* absolute error scale floor */
    size_t max_elems;     /* elements checked per tensor; 0 = all */
    double max_skip_frac; /* fail when more of the checked elements are kink skips */
    uint64_t seed;        /* weights w, g0 and the element subset */
    bool quiet;           /* print only failures */
} thaw_gradcheck_opts;

/* step 1e-2, rtol 1e-2, floor 1e-2, atol 0, max_elems 0 (all), max_skip_frac 0.1, seed 1. */
thaw_gradcheck_opts thaw_gradcheck_defaults(void);

typedef struct thaw_gradcheck_stats {
    size_t checked;   /* elements compared or skipped */
    size_t skipped;   /* kink skips (including one-sided matches) */
    size_t one_sided; /* kink skips whose analytic value matched a one-sided slope */
    size_t failed;
    double worst; /* worst err among the compared (non-skipped) elements */
    size_t worst_at;
} thaw_gradcheck_stats;

/* Checks every tensor; returns true when all pass. stats (ntensors entries)
 * may be NULL. */
bool thaw_gradcheck(const char *what, const thaw_gradcheck_fn *fn, thaw_gradcheck_tensor *tensors,
                    int ntensors, const thaw_gradcheck_opts *opts, thaw_gradcheck_stats *stats);

#endif
