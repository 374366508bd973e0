/* The compute backends: OpenBLAS (im2col + cblas_sgemm) and naive (the *_ref
 * loops, the test oracle). Semantics and buffer shapes: backend.h, conv2d.h.
 *
 * The OpenBLAS convolutions view the (n, oh, ow) output grid as rows of a
 * matrix and walk it in fixed chunks of conv_chunk_rows() rows, so the im2col
 * scratch stays bounded: each chunk is one im2col (or col2im) and one GEMM.
 * With K = kh*kw*c:
 *   forward           out[rows] (r,o)  = col (r,K) @ kernel (K,o)  [+ bias]
 *   backward weights  dkernel (K,o)   += col^T (K,r) @ dout[rows] (r,o)
 *   backward data     dcol (r,K)       = dout[rows] (r,o) @ kernel^T (o,K);  din += col2im(dcol)
 * 1x1 stride-1 unpadded convolutions need no im2col: the NHWC input already
 * is the (n*h*w, c) matrix, so they run as plain GEMMs without scratch. */
#include "kernels/backend.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound on the im2col scratch, in floats (16 MiB). Every ResNet-20 layer
 * at batch 32 fits in one chunk (the largest, 28x28x16 3x3, needs 3.6M floats);
 * bigger layers are split into chunks of whole rows. */
#define CONV_CHUNK_FLOATS ((size_t)4 << 20)

/* Rows per GEMM on the scratch-free 1x1 path: keeps every GEMM size an int. */
#define CONV_POINTWISE_BLOCK_ROWS ((size_t)1 << 24)

static size_t conv_rows(const thaw_conv_shape *s)
{
    return (size_t)s->n * s->oh * s->ow;
}

static size_t conv_k_dim(const thaw_conv_shape *s)
{
    return (size_t)s->kh * s->kw * s->c;
}

static bool conv_is_pointwise(const thaw_conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pt == 0 && s->pb == 0 &&
           s->pl == 0 && s->pr == 0;
}

/* Rows per im2col chunk: as many as fit CONV_CHUNK_FLOATS, at least 1, at most all. */
static size_t conv_chunk_rows(const thaw_conv_shape *s)
{
    size_t rows = conv_rows(s), per = CONV_CHUNK_FLOATS / conv_k_dim(s);
    if (per < 1) per = 1;
    return per < rows ? per : rows;
}

/* dst (cols) += column sums of x (rows, cols), one double sum per column. */
static void column_sums_add(float *dst, const float *x, size_t rows, size_t cols)
{
    enum { BLOCK = 64 };
    double acc[BLOCK];
    for (size_t j0 = 0; j0 < cols; j0 += BLOCK) {
        size_t nb = cols - j0 < BLOCK ? cols - j0 : BLOCK;
        for (size_t j = 0; j < nb; j++) acc[j] = 0.0;
        for (size_t r = 0; r < rows; r++) {
            const float *row = x + r * cols + j0;
            for (size_t j = 0; j < nb; j++) acc[j] += row[j];
        }
        for (size_t j = 0; j < nb; j++) dst[j0 + j] += (float)acc[j];
    }
}

/* out (rows, cols): every row = bias (cols). */
static void rows_fill(float *out, const float *bias, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) memcpy(out + r * cols, bias, cols * sizeof(float));
}

/* --- OpenBLAS ------------------------------------------------------------- */

static void openblas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb, float beta, float *c,
                           int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static size_t openblas_conv_scratch_floats(const thaw_conv_shape *s)
{
    return conv_is_pointwise(s) ? 0 : conv_chunk_rows(s) * conv_k_dim(s);
}

/* out (n,oh,ow,o) = conv(in (n,h,w,c), kernel (kh,kw,c,o)) + bias (o) or none;
 * overwritten. The bias is written first and the GEMM adds onto it (beta 1). */
static void openblas_conv_forward(float *out, const float *in, const float *kernel,
                                  const float *bias, const thaw_conv_shape *s, float *scratch)
{
    const size_t rows = conv_rows(s), o = (size_t)s->o, kd = conv_k_dim(s);
    const bool pointwise = conv_is_pointwise(s);
    const size_t chunk = pointwise ? CONV_POINTWISE_BLOCK_ROWS : conv_chunk_rows(s);
    const float beta = bias ? 1.0f : 0.0f;
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        const size_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        float *dst = out + r0 * o;
        const float *a = in + r0 * kd;
        if (!pointwise) {
            thaw_im2col(scratch, in, s, r0, nr);
            a = scratch;
        }
        if (bias) rows_fill(dst, bias, nr, o);
        openblas_sgemm(false, false, (int)nr, (int)o, (int)kd, 1.0f, a, (int)kd, kernel, (int)o,
                       beta, dst, (int)o);
    }
}

/* din (n,h,w,c) += d out / d in of dout (n,oh,ow,o) through kernel (kh,kw,c,o). */
static void openblas_conv_backward_data(float *din, const float *dout, const float *kernel,
                                        const thaw_conv_shape *s, float *scratch)
{
    const size_t rows = conv_rows(s), o = (size_t)s->o, kd = conv_k_dim(s);
    if (conv_is_pointwise(s)) {
        for (size_t r0 = 0; r0 < rows; r0 += CONV_POINTWISE_BLOCK_ROWS) {
            size_t nr = rows - r0;
            if (nr > CONV_POINTWISE_BLOCK_ROWS) nr = CONV_POINTWISE_BLOCK_ROWS;
            openblas_sgemm(false, true, (int)nr, (int)kd, (int)o, 1.0f, dout + r0 * o, (int)o,
                           kernel, (int)o, 1.0f, din + r0 * kd, (int)kd);
        }
        return;
    }
    const size_t chunk = conv_chunk_rows(s);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        const size_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        openblas_sgemm(false, true, (int)nr, (int)kd, (int)o, 1.0f, dout + r0 * o, (int)o, kernel,
                       (int)o, 0.0f, scratch, (int)kd);
        thaw_col2im_add(din, scratch, s, r0, nr);
    }
}

/* dkernel (kh,kw,c,o) += in-patches^T @ dout (n,oh,ow,o); dbias (o) += column sums of
 * dout when not NULL. */
static void openblas_conv_backward_weights(float *dkernel, float *dbias, const float *dout,
                                           const float *in, const thaw_conv_shape *s,
                                           float *scratch)
{
    const size_t rows = conv_rows(s), o = (size_t)s->o, kd = conv_k_dim(s);
    const bool pointwise = conv_is_pointwise(s);
    const size_t chunk = pointwise ? CONV_POINTWISE_BLOCK_ROWS : conv_chunk_rows(s);
    if (dbias) column_sums_add(dbias, dout, rows, o);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        const size_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        const float *a = in + r0 * kd;
        if (!pointwise) {
            thaw_im2col(scratch, in, s, r0, nr);
            a = scratch;
        }
        openblas_sgemm(true, false, (int)kd, (int)o, (int)nr, 1.0f, a, (int)kd, dout + r0 * o,
                       (int)o, 1.0f, dkernel, (int)o);
    }
}

const thaw_backend thaw_backend_openblas = {
    .name = "openblas",
    .sgemm = openblas_sgemm,
    .conv_scratch_floats = openblas_conv_scratch_floats,
    .conv_forward = openblas_conv_forward,
    .conv_backward_data = openblas_conv_backward_data,
    .conv_backward_weights = openblas_conv_backward_weights,
};

/* --- naive ---------------------------------------------------------------- */

/* C (m,n) = alpha * op(A) (m,k) @ op(B) (k,n) + beta * C, row-major, double sums.
 * With beta 0, C is not read (BLAS semantics: it may hold garbage or NaN). */
static void naive_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++) {
                float av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                float bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += (double)av * bv;
            }
            float *cij = c + (size_t)i * ldc + j;
            *cij = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *cij));
        }
}

static size_t naive_conv_scratch_floats(const thaw_conv_shape *s)
{
    return 0;
}

static void naive_conv_forward(float *out, const float *in, const float *kernel,
                               const float *bias, const thaw_conv_shape *s, float *scratch)
{
    thaw_conv2d_forward_ref(out, in, kernel, bias, s);
}

static void naive_conv_backward_data(float *din, const float *dout, const float *kernel,
                                     const thaw_conv_shape *s, float *scratch)
{
    thaw_conv2d_backward_data_ref(din, dout, kernel, s);
}

static void naive_conv_backward_weights(float *dkernel, float *dbias, const float *dout,
                                        const float *in, const thaw_conv_shape *s, float *scratch)
{
    thaw_conv2d_backward_weights_ref(dkernel, dbias, dout, in, s);
}

const thaw_backend thaw_backend_naive = {
    .name = "naive",
    .sgemm = naive_sgemm,
    .conv_scratch_floats = naive_conv_scratch_floats,
    .conv_forward = naive_conv_forward,
    .conv_backward_data = naive_conv_backward_data,
    .conv_backward_weights = naive_conv_backward_weights,
};

/* --- lookup --------------------------------------------------------------- */

const thaw_backend *thaw_backend_by_name(const char *name)
{
    static const thaw_backend *const all[] = {&thaw_backend_openblas, &thaw_backend_naive};
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0) return all[i];
    return NULL;
}

/* THAW_BACKEND unset, empty or unknown: openblas. */
const thaw_backend *thaw_backend_default(void)
{
    const char *env = getenv("THAW_BACKEND");
    const thaw_backend *be = env && *env ? thaw_backend_by_name(env) : NULL;
    return be ? be : &thaw_backend_openblas;
}
