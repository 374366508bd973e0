/* 2-D convolution kernels on NHWC tensors with HWIO kernels (Keras layout).
 *
 * Shapes (all row-major, float32):
 *   in      (n, h, w, c)
 *   kernel  (kh, kw, c, o)    -- Keras Conv2D kernel, HWIO
 *   bias    (o)               -- optional (NULL when use_bias is false)
 *   out     (n, oh, ow, o)
 * Zero padding is explicit and may be asymmetric: pt/pb rows above/below,
 * pl/pr columns left/right. Keras "same" with stride 2 on an even size pads
 * (0, 1) -- see thaw_conv_same_padding(). The output size is
 *   oh = (h + pt + pb - kh) / sh + 1,  ow = (w + pl + pr - kw) / sw + 1.
 *
 * The fast kernels (im2col + sgemm through a backend, see backend.h) and the
 * naive *_ref kernels compute the same function; tests hold them together.
 * Forward overwrites its output; both backward kernels ACCUMULATE (+=) into
 * their outputs so that a tensor read by several layers sums its gradients. */
#ifndef THAW_KERNELS_CONV2D_H
#define THAW_KERNELS_CONV2D_H

#include <stddef.h>

typedef struct thaw_conv_shape {
    int n, h, w, c;     /* input */
    int o, oh, ow;      /* output channels and spatial size */
    int kh, kw;         /* kernel size */
    int sh, sw;         /* strides */
    int pt, pb, pl, pr; /* zero padding: top, bottom, left, right */
} thaw_conv_shape;

/* Fills s from the input shape, kernel, strides and padding and computes
 * oh/ow. Returns 0, or -1 when a size is non-positive or the padded input is
 * smaller than the kernel. */
int thaw_conv_shape_init(thaw_conv_shape *s, int n, int h, int w, int c, int o, int kh, int kw,
                         int sh, int sw, int pt, int pb, int pl, int pr);

/* Keras/TensorFlow "same" padding along one axis of size `in`:
 *   out = ceil(in / stride), total = max((out - 1) * stride + k - in, 0),
 *   before = total / 2, after = total - before  (the extra pixel goes after). */
void thaw_conv_same_padding(int in, int k, int stride, int *before, int *after);

/* --- naive reference kernels: direct loops, double accumulation ----------- */

/* out (n,oh,ow,o) = conv(in, kernel) + bias; overwritten. bias may be NULL. */
void thaw_conv2d_forward_ref(float *out, const float *in, const float *kernel, const float *bias,
                             const thaw_conv_shape *s);

/* din (n,h,w,c) += d out / d in applied to dout (n,oh,ow,o). */
void thaw_conv2d_backward_data_ref(float *din, const float *dout, const float *kernel,
                                   const thaw_conv_shape *s);

/* dkernel (kh,kw,c,o) += sum over n,oh,ow of in-patch x dout;
 * dbias (o) += sum of dout over n,oh,ow (skipped when dbias is NULL). */
void thaw_conv2d_backward_weights_ref(float *dkernel, float *dbias, const float *dout,
                                      const float *in, const thaw_conv_shape *s);

/* --- im2col helpers used by the GEMM backend ------------------------------ */

/* col (rows, kh*kw*c) for output rows [row0, row0 + rows) of the flattened
 * (n*oh*ow) output grid; padded taps are 0. Column order is (ky, kx, ci),
 * matching the HWIO kernel's row order, so out_rows = col @ kernel. */
void thaw_im2col(float *col, const float *in, const thaw_conv_shape *s, size_t row0, size_t rows);

/* din += col2im(col): the adjoint of thaw_im2col for the same row range. */
void thaw_col2im_add(float *din, const float *col, const thaw_conv_shape *s, size_t row0,
                     size_t rows);

#endif
