/* Pooling kernels on NHWC tensors: see pool.h. */
#include "kernels/pool.h"

#include <stddef.h>

int thaw_pool_shape_init(thaw_pool_shape *s, int n, int h, int w, int c, int kh, int kw, int sh,
                         int sw)
{
    if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0) return -1;
    if (kh > h || kw > w) return -1;
    /* argmax holds flat int32 indices into x */
    if ((size_t)n * h * w * c > (size_t)INT32_MAX) return -1;
    *s = (thaw_pool_shape){
        .n = n,
        .h = h,
        .w = w,
        .c = c,
        .kh = kh,
        .kw = kw,
        .sh = sh,
        .sw = sw,
        .oh = (h - kh) / sh + 1,
        .ow = (w - kw) / sw + 1,
    };
    return 0;
}

/* x (n,h,w,c) -> y (n,oh,ow,c) overwritten, argmax (n,oh,ow,c) overwritten
 * with the flat index into x of the first maximum in window scan order (ky
 * outer, kx inner). VALID windows: no padding. */
void thaw_maxpool_forward(float *y, int32_t *argmax, const float *x, const thaw_pool_shape *s)
{
    const int c = s->c;
    for (int b = 0; b < s->n; b++) {
        for (int oy = 0; oy < s->oh; oy++) {
            for (int ox = 0; ox < s->ow; ox++) {
                size_t o = (((size_t)b * s->oh + oy) * s->ow + ox) * c;
                float *yp = y + o;
                int32_t *ap = argmax + o;
                for (int ky = 0; ky < s->kh; ky++) {
                    for (int kx = 0; kx < s->kw; kx++) {
                        int iy = oy * s->sh + ky, ix = ox * s->sw + kx;
                        size_t i0 = (((size_t)b * s->h + iy) * s->w + ix) * c;
                        const float *xp = x + i0;
                        if (ky == 0 && kx == 0) {
                            for (int ch = 0; ch < c; ch++) {
                                yp[ch] = xp[ch];
                                ap[ch] = (int32_t)(i0 + ch);
                            }
                            continue;
                        }
                        for (int ch = 0; ch < c; ch++) {
                            /* strict >: the first maximum in scan order wins ties */
                            if (xp[ch] > yp[ch]) {
                                yp[ch] = xp[ch];
                                ap[ch] = (int32_t)(i0 + ch);
                            }
                        }
                    }
                }
            }
        }
    }
}

/* dx (n,h,w,c) += dy (n,oh,ow,c) scattered to argmax (n,oh,ow,c). */
void thaw_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                           const thaw_pool_shape *s)
{
    size_t count = (size_t)s->n * s->oh * s->ow * s->c;
    for (size_t i = 0; i < count; i++) dx[argmax[i]] += dy[i];
}

#define GAP_BLOCK 64

/* x (n,h,w,c) -> y (n,c) overwritten: mean over h and w, accumulated in double
 * over blocks of channels (rows outer, channels inner). */
void thaw_gap_forward(float *y, const float *x, int n, int h, int w, int c)
{
    size_t hw = (size_t)h * w;
    double inv = hw ? 1.0 / (double)hw : 0.0;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * hw * c;
        for (int c0 = 0; c0 < c; c0 += GAP_BLOCK) {
            int cw = c - c0 < GAP_BLOCK ? c - c0 : GAP_BLOCK;
            double acc[GAP_BLOCK] = {0};
            for (size_t p = 0; p < hw; p++) {
                const float *xp = xb + p * c + c0;
                for (int j = 0; j < cw; j++) acc[j] += xp[j];
            }
            for (int j = 0; j < cw; j++) y[(size_t)b * c + c0 + j] = (float)(acc[j] * inv);
        }
    }
}

/* dx (n,h,w,c) += dy (n,c) / (h*w) broadcast over h and w. */
void thaw_gap_backward(float *dx, const float *dy, int n, int h, int w, int c)
{
    size_t hw = (size_t)h * w;
    if (!hw) return;
    float inv = (float)(1.0 / (double)hw);
    for (int b = 0; b < n; b++) {
        const float *dyb = dy + (size_t)b * c;
        for (size_t p = 0; p < hw; p++) {
            float *dxp = dx + ((size_t)b * hw + p) * c;
            for (int ch = 0; ch < c; ch++) dxp[ch] += dyb[ch] * inv;
        }
    }
}
