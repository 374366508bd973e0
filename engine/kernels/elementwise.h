/* Element-wise kernels: ReLU, residual add, inverted dropout, zero padding.
 * Forward kernels overwrite their output; backward kernels accumulate (+=).
 * Outputs never alias inputs (the kernels use restrict pointers).
 * `count` is the number of float elements. */
#ifndef THAW_KERNELS_ELEMENTWISE_H
#define THAW_KERNELS_ELEMENTWISE_H

#include <stddef.h>

#include "core/rng.h"

/* y = max(x, 0) */
void thaw_relu_forward(float *y, const float *x, size_t count);

/* dx += dy where y > 0 (the gradient at 0 is taken as 0, like PyTorch) */
void thaw_relu_backward(float *dx, const float *dy, const float *y, size_t count);

/* y = a + b */
void thaw_add_forward(float *y, const float *a, const float *b, size_t count);

/* dx += dy (the backward of add for each input) */
void thaw_accumulate(float *dx, const float *dy, size_t count);

/* Inverted dropout, training mode (SEMANTICS.md §2): each element is kept
 * with probability 1-rate and scaled by 1/(1-rate), else 0. rate == 0 is the
 * identity, rate == 1 gives zeros (Keras 3). mask (count) out holds the factor
 * applied to each element (0 or 1/(1-rate)) for the backward pass. Uses
 * exactly one thaw_rng_uniform() draw per element, in order. */
void thaw_dropout_forward(float *y, float *mask, const float *x, size_t count, float rate,
                          thaw_rng *rng);

/* dx += dy * mask */
void thaw_dropout_backward(float *dx, const float *dy, const float *mask, size_t count);

/* Keras ZeroPadding2D on NHWC: x (n,h,w,c) -> y (n, h+pt+pb, w+pl+pr, c). */
void thaw_pad_forward(float *y, const float *x, int n, int h, int w, int c, int pt, int pb, int pl,
                      int pr);

/* dx (n,h,w,c) += the interior of dy (n, h+pt+pb, w+pl+pr, c) */
void thaw_pad_backward(float *dx, const float *dy, int n, int h, int w, int c, int pt, int pb,
                       int pl, int pr);

#endif
