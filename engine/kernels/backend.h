/* The narrow compute backend: sgemm and the three convolution kernels.
 *
 * Layers never call cblas or im2col directly; they call through a backend so
 * that a faster one (e.g. oneDNN direct NHWC convolutions) can be added and
 * measured without touching the layers. Two backends exist:
 *   thaw_backend_openblas  im2col + cblas_sgemm (1x1 stride-1 unpadded convs
 *                          skip im2col: the NHWC input already is the matrix)
 *   thaw_backend_naive     the *_ref loops, for tests
 *
 * Convolution semantics and buffer shapes: see conv2d.h. Scratch: the caller
 * provides at least conv_scratch_floats(s) floats (may be 0 → NULL allowed).
 * Backward kernels accumulate (+=). */
#ifndef THAW_KERNELS_BACKEND_H
#define THAW_KERNELS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/conv2d.h"

typedef struct thaw_backend {
    const char *name;

    /* C (m,n) = alpha * op(A) op(B) + beta * C, row-major; op(A) is (m,k)
     * (A stored (k,m) when trans_a), op(B) is (k,n) (stored (n,k) when trans_b). */
    void (*sgemm)(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc);

    size_t (*conv_scratch_floats)(const thaw_conv_shape *s);
    void (*conv_forward)(float *out, const float *in, const float *kernel, const float *bias,
                         const thaw_conv_shape *s, float *scratch);
    void (*conv_backward_data)(float *din, const float *dout, const float *kernel,
                               const thaw_conv_shape *s, float *scratch);
    void (*conv_backward_weights)(float *dkernel, float *dbias, const float *dout, const float *in,
                                  const thaw_conv_shape *s, float *scratch);
} thaw_backend;

extern const thaw_backend thaw_backend_openblas;
extern const thaw_backend thaw_backend_naive;

/* The backend used by new models: "openblas" unless the environment variable
 * THAW_BACKEND names another ("naive"). */
const thaw_backend *thaw_backend_default(void);

/* Looks a backend up by name; NULL if unknown. */
const thaw_backend *thaw_backend_by_name(const char *name);

#endif
