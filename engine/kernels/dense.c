/* Fully connected kernels through the backend's row-major sgemm: see dense.h. */
#include "kernels/dense.h"

#include <string.h>

/* y (n,out) = x (n,in) @ kernel (in,out) + bias (out); y overwritten, bias may be NULL. */
void thaw_dense_forward(float *y, const float *x, const float *kernel, const float *bias, int n,
                        int in, int out, const thaw_backend *be)
{
    if (n <= 0 || out <= 0) return;
    if (bias) {
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * out, bias, (size_t)out * sizeof(float));
    }
    if (in <= 0) {
        if (!bias) memset(y, 0, (size_t)n * out * sizeof(float));
        return;
    }
    be->sgemm(false, false, n, out, in, 1.0f, x, in, kernel, out, bias ? 1.0f : 0.0f, y, out);
}

/* dx (n,in) += dy (n,out) @ kernel^T, kernel (in,out). */
void thaw_dense_backward_data(float *dx, const float *dy, const float *kernel, int n, int in,
                              int out, const thaw_backend *be)
{
    if (n <= 0 || in <= 0 || out <= 0) return;
    be->sgemm(false, true, n, in, out, 1.0f, dy, out, kernel, out, 1.0f, dx, in);
}

/* dkernel (in,out) += x^T @ dy with x (n,in), dy (n,out);
 * dbias (out) += column sums of dy (skipped when NULL). */
void thaw_dense_backward_weights(float *dkernel, float *dbias, const float *dy, const float *x,
                                 int n, int in, int out, const thaw_backend *be)
{
    if (n <= 0 || out <= 0) return;
    if (dkernel && in > 0)
        be->sgemm(true, false, in, out, n, 1.0f, x, in, dy, out, 1.0f, dkernel, out);
    if (dbias) {
        for (int i = 0; i < n; i++) {
            const float *dyr = dy + (size_t)i * out;
            for (int j = 0; j < out; j++) dbias[j] += dyr[j];
        }
    }
}
