/* Fully connected (Keras Dense) kernels with (in, out) kernels.
 *   x (n, in), kernel (in, out), bias (out) or NULL, y (n, out)
 * Forward overwrites y; backward kernels accumulate (+=). The matrix
 * products go through the backend's sgemm. */
#ifndef THAW_KERNELS_DENSE_H
#define THAW_KERNELS_DENSE_H

#include "kernels/backend.h"

/* y = x @ kernel + bias */
void thaw_dense_forward(float *y, const float *x, const float *kernel, const float *bias, int n,
                        int in, int out, const thaw_backend *be);

/* dx (n,in) += dy @ kernel^T */
void thaw_dense_backward_data(float *dx, const float *dy, const float *kernel, int n, int in,
                              int out, const thaw_backend *be);

/* dkernel (in,out) += x^T @ dy;  dbias (out) += column sums of dy (if not NULL) */
void thaw_dense_backward_weights(float *dkernel, float *dbias, const float *dy, const float *x,
                                 int n, int in, int out, const thaw_backend *be);

#endif
