/* Element-wise kernels: see elementwise.h.
 *
 * Outputs never alias inputs (restrict). The loops run in blocks of EW_BLOCK
 * elements plus a scalar tail: at -O2 gcc's "very cheap" vectoriser only takes
 * loops whose trip count is a known multiple of the vector width, and the
 * fixed-width inner loop is one. Loads are unconditional (selects, not
 * branches) so the blocks if-convert. */
#include "kernels/elementwise.h"

#include <string.h>

#define EW_BLOCK 16

static inline float relu1(float x)
{
    return x < 0.0f ? 0.0f : x; /* NaN passes through */
}

/* y (count) = max(x, 0), overwritten. */
void thaw_relu_forward(float *restrict y, const float *restrict x, size_t count)
{
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int j = 0; j < EW_BLOCK; j++) y[i + j] = relu1(x[i + j]);
    for (; i < count; i++) y[i] = relu1(x[i]);
}

static inline float relu_grad1(float dy, float y)
{
    return y > 0.0f ? dy : 0.0f;
}

/* dx (count) += dy where the forward output y > 0 (0 at y == 0). */
void thaw_relu_backward(float *restrict dx, const float *restrict dy, const float *restrict y,
                        size_t count)
{
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int j = 0; j < EW_BLOCK; j++) dx[i + j] += relu_grad1(dy[i + j], y[i + j]);
    for (; i < count; i++) dx[i] += relu_grad1(dy[i], y[i]);
}

/* y (count) = a + b, overwritten. */
void thaw_add_forward(float *restrict y, const float *restrict a, const float *restrict b,
                      size_t count)
{
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int j = 0; j < EW_BLOCK; j++) y[i + j] = a[i + j] + b[i + j];
    for (; i < count; i++) y[i] = a[i] + b[i];
}

/* dx (count) += dy. */
void thaw_accumulate(float *restrict dx, const float *restrict dy, size_t count)
{
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int j = 0; j < EW_BLOCK; j++) dx[i + j] += dy[i + j];
    for (; i < count; i++) dx[i] += dy[i];
}

/* y, mask, x (count); y and mask overwritten. Element i draws u_i =
 * thaw_rng_uniform() (one draw per element, in order, whatever the rate) and
 * is kept iff u_i >= rate, so P(keep) = 1 - rate; mask_i = 1/(1-rate) or 0
 * and y_i = x_i * mask_i. rate <= 0 keeps everything with mask 1 (identity),
 * rate >= 1 drops everything. */
void thaw_dropout_forward(float *restrict y, float *restrict mask, const float *restrict x,
                          size_t count, float rate, thaw_rng *rng)
{
    float scale = rate < 1.0f ? (float)(1.0 / (1.0 - (double)rate)) : 0.0f;
    if (rate <= 0.0f) scale = 1.0f;
    for (size_t i = 0; i < count; i++) {
        float u = thaw_rng_uniform(rng);
        mask[i] = u >= rate ? scale : 0.0f;
    }
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int j = 0; j < EW_BLOCK; j++) y[i + j] = x[i + j] * mask[i + j];
    for (; i < count; i++) y[i] = x[i] * mask[i];
}

/* dx (count) += dy * mask. */
void thaw_dropout_backward(float *restrict dx, const float *restrict dy, const float *restrict mask,
                           size_t count)
{
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int j = 0; j < EW_BLOCK; j++) dx[i + j] += dy[i + j] * mask[i + j];
    for (; i < count; i++) dx[i] += dy[i] * mask[i];
}

/* x (n,h,w,c) -> y (n, h+pt+pb, w+pl+pr, c), overwritten; the border is 0. */
void thaw_pad_forward(float *restrict y, const float *restrict x, int n, int h, int w, int c,
                      int pt, int pb, int pl, int pr)
{
    const int yh = h + pt + pb, yw = w + pl + pr;
    const size_t yrow = (size_t)yw * c, xrow = (size_t)w * c;
    for (int b = 0; b < n; b++) {
        for (int r = 0; r < yh; r++) {
            float *yr = y + ((size_t)b * yh + r) * yrow;
            int xr = r - pt;
            if (xr < 0 || xr >= h) {
                memset(yr, 0, yrow * sizeof(float));
                continue;
            }
            memset(yr, 0, (size_t)pl * c * sizeof(float));
            memcpy(yr + (size_t)pl * c, x + ((size_t)b * h + xr) * xrow, xrow * sizeof(float));
            memset(yr + (size_t)pl * c + xrow, 0, (size_t)pr * c * sizeof(float));
        }
    }
}

/* dx (n,h,w,c) += the interior of dy (n, h+pt+pb, w+pl+pr, c). */
void thaw_pad_backward(float *restrict dx, const float *restrict dy, int n, int h, int w, int c,
                       int pt, int pb, int pl, int pr)
{
    const int yh = h + pt + pb, yw = w + pl + pr;
    const size_t yrow = (size_t)yw * c, xrow = (size_t)w * c;
    for (int b = 0; b < n; b++) {
        for (int r = 0; r < h; r++) {
            const float *dyr = dy + ((size_t)b * yh + r + pt) * yrow + (size_t)pl * c;
            thaw_accumulate(dx + ((size_t)b * h + r) * xrow, dyr, xrow);
        }
    }
}
