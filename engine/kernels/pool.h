/* Pooling kernels on NHWC tensors.
 *
 * Max pooling with a k x k window and stride s, VALID (no padding): Keras's
 * ResNet puts an explicit ZeroPadding2D (`pool1_pad`) before `pool1_pool`,
 * which the model builds as its own pad layer (see elementwise.h).
 *   x (n,h,w,c) -> y (n,oh,ow,c), oh = (h - kh)/sh + 1, ow = (w - kw)/sw + 1
 *   argmax (n,oh,ow,c) out: flat index into x of the chosen element (first
 *   maximum in window scan order), used by the backward pass.
 *
 * Global average pooling (Keras GlobalAveragePooling2D):
 *   x (n,h,w,c) -> y (n,c), y = mean over h,w. */
#ifndef THAW_KERNELS_POOL_H
#define THAW_KERNELS_POOL_H

#include <stdint.h>

typedef struct thaw_pool_shape {
    int n, h, w, c;
    int kh, kw, sh, sw;
    int oh, ow;
} thaw_pool_shape;

/* Fills s and computes oh/ow; returns 0, or -1 for impossible sizes. */
int thaw_pool_shape_init(thaw_pool_shape *s, int n, int h, int w, int c, int kh, int kw, int sh,
                         int sw);

/* y overwritten; argmax (same count as y) overwritten. */
void thaw_maxpool_forward(float *y, int32_t *argmax, const float *x, const thaw_pool_shape *s);

/* dx (n,h,w,c) += dy routed to the argmax positions. */
void thaw_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                           const thaw_pool_shape *s);

/* y (n,c) = mean of x (n,h,w,c) over h and w; overwritten. */
void thaw_gap_forward(float *y, const float *x, int n, int h, int w, int c);

/* dx (n,h,w,c) += dy (n,c) / (h*w) */
void thaw_gap_backward(float *dx, const float *dy, int n, int h, int w, int c);

#endif
