/* 2-D convolution on NHWC tensors with HWIO kernels: shape set-up, the naive
 * reference kernels (the test oracle) and the im2col / col2im helpers used by
 * the GEMM backend (backend.c). Layouts and semantics: see conv2d.h. */
#include "kernels/conv2d.h"

#include <string.h>

int thaw_conv_shape_init(thaw_conv_shape *s, int n, int h, int w, int c, int o, int kh, int kw,
                         int sh, int sw, int pt, int pb, int pl, int pr)
{
    *s = (thaw_conv_shape){
        .n = n,
        .h = h,
        .w = w,
        .c = c,
        .o = o,
        .kh = kh,
        .kw = kw,
        .sh = sh,
        .sw = sw,
        .pt = pt,
        .pb = pb,
        .pl = pl,
        .pr = pr,
    };
    if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || o <= 0 || kh <= 0 || kw <= 0 || sh <= 0 ||
        sw <= 0 || pt < 0 || pb < 0 || pl < 0 || pr < 0)
        return -1;
    /* 64-bit sums: padded sizes must not overflow int. */
    long long ph = (long long)h + pt + pb, pw = (long long)w + pl + pr;
    if (ph < kh || pw < kw || ph > 0x7fffffff || pw > 0x7fffffff) return -1;
    s->oh = (int)((ph - kh) / sh + 1);
    s->ow = (int)((pw - kw) / sw + 1);
    return 0;
}

void thaw_conv_same_padding(int in, int k, int stride, int *before, int *after)
{
    int out = (in + stride - 1) / stride;
    int total = (out - 1) * stride + k - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - *before;
}

/* --- naive reference kernels ---------------------------------------------- */

/* out (n,oh,ow,o) = sum over (ky,kx,ci) of in (n,h,w,c) x kernel (kh,kw,c,o) + bias (o);
 * overwritten. One double accumulator per output element. */
void thaw_conv2d_forward_ref(float *out, const float *in, const float *kernel, const float *bias,
                             const thaw_conv_shape *s)
{
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++)
                for (int oc = 0; oc < s->o; oc++) {
                    double acc = bias ? bias[oc] : 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int iy = oy * s->sh - s->pt + ky;
                        if (iy < 0 || iy >= s->h) continue;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int ix = ox * s->sw - s->pl + kx;
                            if (ix < 0 || ix >= s->w) continue;
                            const float *x = in + (((size_t)b * s->h + iy) * s->w + ix) * s->c;
                            const float *k = kernel + ((size_t)ky * s->kw + kx) * s->c * s->o;
                            for (int ci = 0; ci < s->c; ci++)
                                acc += (double)x[ci] * k[(size_t)ci * s->o + oc];
                        }
                    }
                    out[(((size_t)b * s->oh + oy) * s->ow + ox) * s->o + oc] = (float)acc;
                }
}

/* din (n,h,w,c) += sum over the outputs (oy,ox,oc) that read in[b,iy,ix,ci] of
 * dout (n,oh,ow,o) x kernel (kh,kw,c,o). Gathered per input element, so each
 * element gets one double sum. */
void thaw_conv2d_backward_data_ref(float *din, const float *dout, const float *kernel,
                                   const thaw_conv_shape *s)
{
    for (int b = 0; b < s->n; b++)
        for (int iy = 0; iy < s->h; iy++)
            for (int ix = 0; ix < s->w; ix++)
                for (int ci = 0; ci < s->c; ci++) {
                    double acc = 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int ty = iy + s->pt - ky; /* = oy * sh */
                        if (ty < 0 || ty % s->sh != 0 || ty / s->sh >= s->oh) continue;
                        int oy = ty / s->sh;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int tx = ix + s->pl - kx; /* = ox * sw */
                            if (tx < 0 || tx % s->sw != 0 || tx / s->sw >= s->ow) continue;
                            int ox = tx / s->sw;
                            const float *g = dout + (((size_t)b * s->oh + oy) * s->ow + ox) * s->o;
                            const float *k =
                                kernel + (((size_t)ky * s->kw + kx) * s->c + ci) * s->o;
                            for (int oc = 0; oc < s->o; oc++) acc += (double)g[oc] * k[oc];
                        }
                    }
                    din[(((size_t)b * s->h + iy) * s->w + ix) * s->c + ci] += (float)acc;
                }
}

/* dkernel (kh,kw,c,o) += sum over (b,oy,ox) of in (n,h,w,c) patch x dout (n,oh,ow,o);
 * dbias (o) += sum of dout over (b,oy,ox), skipped when dbias is NULL. */
void thaw_conv2d_backward_weights_ref(float *dkernel, float *dbias, const float *dout,
                                      const float *in, const thaw_conv_shape *s)
{
    for (int ky = 0; ky < s->kh; ky++)
        for (int kx = 0; kx < s->kw; kx++)
            for (int ci = 0; ci < s->c; ci++)
                for (int oc = 0; oc < s->o; oc++) {
                    double acc = 0.0;
                    for (int b = 0; b < s->n; b++)
                        for (int oy = 0; oy < s->oh; oy++) {
                            int iy = oy * s->sh - s->pt + ky;
                            if (iy < 0 || iy >= s->h) continue;
                            for (int ox = 0; ox < s->ow; ox++) {
                                int ix = ox * s->sw - s->pl + kx;
                                if (ix < 0 || ix >= s->w) continue;
                                acc +=
                                    (double)in[(((size_t)b * s->h + iy) * s->w + ix) * s->c + ci] *
                                    dout[(((size_t)b * s->oh + oy) * s->ow + ox) * s->o + oc];
                            }
                        }
                    dkernel[(((size_t)ky * s->kw + kx) * s->c + ci) * s->o + oc] += (float)acc;
                }
    if (!dbias) return;
    size_t rows = (size_t)s->n * s->oh * s->ow;
    for (int oc = 0; oc < s->o; oc++) {
        double acc = 0.0;
        for (size_t r = 0; r < rows; r++) acc += dout[r * s->o + oc];
        dbias[oc] += (float)acc;
    }
}

/* --- im2col / col2im ------------------------------------------------------ */

/* Position of one output row of the flattened (n, oh, ow) grid, advanced row by
 * row so that the loops below divide only once per call. */
typedef struct conv_cursor {
    size_t b;
    int oy, ox;
} conv_cursor;

static conv_cursor conv_cursor_at(const thaw_conv_shape *s, size_t row)
{
    size_t ohw = (size_t)s->oh * s->ow;
    size_t rem = row % ohw;
    return (conv_cursor){.b = row / ohw, .oy = (int)(rem / s->ow), .ox = (int)(rem % s->ow)};
}

static inline void conv_cursor_next(conv_cursor *p, const thaw_conv_shape *s)
{
    if (++p->ox < s->ow) return;
    p->ox = 0;
    if (++p->oy < s->oh) return;
    p->oy = 0;
    p->b++;
}

/* dst (n) += src (n). Blocked by 8 so that gcc vectorizes it at -O2. */
static inline void add_floats(float *restrict dst, const float *restrict src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; j++) dst[i + j] += src[i + j];
    for (; i < n; i++) dst[i] += src[i];
}

/* dst (n) = src (n) and dst (n) = 0. Short runs (a few channels, e.g. the c = 1
 * stem) are cheaper as plain loops than as library calls. */
static inline void copy_floats(float *restrict dst, const float *restrict src, size_t n)
{
    if (n >= 16) {
        memcpy(dst, src, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

static inline void zero_floats(float *dst, size_t n)
{
    if (n >= 16) {
        memset(dst, 0, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) dst[i] = 0.0f;
}

/* col (rows, kh*kw*c): row r holds the input patch of output row row0 + r,
 * column (ky*kw + kx)*c + ci; padded taps are 0. A patch row (fixed ky) is one
 * contiguous run of the input row iy, so each patch row is at most a zero run,
 * one copy and a zero run -- no per-element branches. */
void thaw_im2col(float *col, const float *in, const thaw_conv_shape *s, size_t row0, size_t rows)
{
    const size_t c = (size_t)s->c, kw = (size_t)s->kw, kh = (size_t)s->kh;
    const size_t tap_row = kw * c, k_dim = kh * tap_row;
    const size_t img = (size_t)s->h * s->w * c, in_row = (size_t)s->w * c;
    conv_cursor p = conv_cursor_at(s, row0);

    if (kh == 1 && kw == 1 && s->pt == 0 && s->pl == 0) {
        /* 1x1 without leading padding (e.g. strided projection shortcuts): a gather of
         * in[b, oy*sh, ox*sw, :], or zeros where the tap lies in bottom/right padding. */
        for (size_t r = 0; r < rows; r++, col += c, conv_cursor_next(&p, s)) {
            int iy = p.oy * s->sh, ix = p.ox * s->sw;
            if (iy < s->h && ix < s->w)
                copy_floats(col, in + p.b * img + (size_t)iy * in_row + (size_t)ix * c, c);
            else
                zero_floats(col, c);
        }
        return;
    }

    for (size_t r = 0; r < rows; r++, col += k_dim, conv_cursor_next(&p, s)) {
        const int iy0 = p.oy * s->sh - s->pt, ix0 = p.ox * s->sw - s->pl;
        /* taps kx in [kx0, kx1) fall inside the row; the rest are padding */
        int kx0 = ix0 < 0 ? -ix0 : 0;
        int kx1 = s->w - ix0 < s->kw ? s->w - ix0 : s->kw;
        if (kx1 < kx0) kx1 = kx0;
        const size_t lead = (size_t)kx0 * c, run = (size_t)(kx1 - kx0) * c;
        const size_t trail = tap_row - lead - run;
        /* first valid tap of the patch row (only formed when there is one) */
        const float *src = run ? in + p.b * img + (size_t)(ix0 + kx0) * c : in;
        float *dst = col;
        for (int ky = 0; ky < s->kh; ky++, dst += tap_row) {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= s->h || run == 0) {
                zero_floats(dst, tap_row);
                continue;
            }
            if (lead) zero_floats(dst, lead);
            copy_floats(dst + lead, src + (size_t)iy * in_row, run);
            if (trail) zero_floats(dst + lead + run, trail);
        }
    }
}

/* din (n,h,w,c) += col2im(col): col (rows, kh*kw*c) as laid out by thaw_im2col for
 * output rows [row0, row0 + rows); padded taps are dropped. */
void thaw_col2im_add(float *din, const float *col, const thaw_conv_shape *s, size_t row0,
                     size_t rows)
{
    const size_t c = (size_t)s->c, kw = (size_t)s->kw, kh = (size_t)s->kh;
    const size_t tap_row = kw * c, k_dim = kh * tap_row;
    const size_t img = (size_t)s->h * s->w * c, in_row = (size_t)s->w * c;
    conv_cursor p = conv_cursor_at(s, row0);

    if (kh == 1 && kw == 1 && s->pt == 0 && s->pl == 0) {
        for (size_t r = 0; r < rows; r++, col += c, conv_cursor_next(&p, s)) {
            int iy = p.oy * s->sh, ix = p.ox * s->sw;
            if (iy < s->h && ix < s->w)
                add_floats(din + p.b * img + (size_t)iy * in_row + (size_t)ix * c, col, c);
        }
        return;
    }

    for (size_t r = 0; r < rows; r++, col += k_dim, conv_cursor_next(&p, s)) {
        const int iy0 = p.oy * s->sh - s->pt, ix0 = p.ox * s->sw - s->pl;
        int kx0 = ix0 < 0 ? -ix0 : 0;
        int kx1 = s->w - ix0 < s->kw ? s->w - ix0 : s->kw;
        if (kx1 <= kx0) continue;
        const size_t lead = (size_t)kx0 * c, run = (size_t)(kx1 - kx0) * c;
        float *dst = din + p.b * img + (size_t)(ix0 + kx0) * c;
        int ky0 = iy0 < 0 ? -iy0 : 0;
        int ky1 = s->h - iy0 < s->kh ? s->h - iy0 : s->kh;
        for (int ky = ky0; ky < ky1; ky++)
            add_floats(dst + (size_t)(iy0 + ky) * in_row, col + (size_t)ky * tap_row + lead, run);
    }
}
