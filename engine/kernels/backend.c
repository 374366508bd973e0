/* The compute backends: OpenBLAS (im2col + cblas_sgemm) and naive (the *_ref
 * loops, the test oracle). Semantics and buffer shapes: backend.h, conv2d.h.
 *
 * The OpenBLAS convolutions view the (n, oh, ow) output grid as the rows of a
 * matrix. With K = kh*kw*c, per block of rows:
 *   forward           out[rows] (r,o)  = col (r,K) @ kernel (K,o)  [+ bias]
 *   backward weights  dkernel (K,o)   += col^T (K,r) @ dout[rows] (r,o)
 *   backward data     dcol (r,K)       = dout[rows] (r,o) @ kernel^T (o,K);  din += col2im(dcol)
 * 1x1 stride-1 unpadded convolutions need no im2col: the NHWC input already
 * is the (n*h*w, c) matrix, so they run as plain GEMMs without scratch.
 *
 * Threading. Convolution GEMMs are skinny (o = 16..64 columns) and OpenBLAS
 * 0.3.21 gains nothing from its own threads on them (measured: 2 threads are
 * as slow as 1, sometimes slower). So the batch is split into two parts at an
 * image boundary (images never share din, so col2im needs no locks), each
 * part runs single-threaded GEMMs on its own rows, and the two parts run on
 * two threads while OpenBLAS is switched to one thread. The split and the
 * chunking depend on the shape only, so results do not depend on the thread
 * count. Inside a part, rows go in chunks of conv_chunk_rows() so that one
 * chunk's im2col stays in cache until its GEMM reads it. */
#include "kernels/backend.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* im2col floats per chunk and part (1 MiB): small enough to stay in L2 while
 * the GEMM reads it, large enough for efficient GEMMs (see the report in the
 * commit; 256K..1M floats measured alike, 16M floats 1.8x slower). */
#define CONV_CHUNK_FLOATS ((size_t)1 << 18)

/* Rows per GEMM on the scratch-free 1x1 path: keeps every GEMM size an int. */
#define CONV_POINTWISE_BLOCK_ROWS ((size_t)1 << 24)

/* Below this many multiply-adds a second thread costs more than it saves. */
#define CONV_PARALLEL_MIN_MACS 4e6

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

/* Number of parts (1 or 2) and the output rows of the first part: the first
 * ceil(n/2) images. */
static int conv_parts(const thaw_conv_shape *s, size_t *rows0)
{
    *rows0 = (size_t)((s->n + 1) / 2) * s->oh * s->ow;
    return s->n >= 2 ? 2 : 1;
}

/* Rows per im2col chunk: as many as fit CONV_CHUNK_FLOATS, at least 1, at most
 * the rows of the larger (first) part. */
static size_t conv_chunk_rows(const thaw_conv_shape *s)
{
    size_t rows0, per = CONV_CHUNK_FLOATS / conv_k_dim(s);
    conv_parts(s, &rows0);
    if (per < 1) per = 1;
    return per < rows0 ? per : rows0;
}

static void add_floats(float *restrict dst, const float *restrict src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; j++) dst[i + j] += src[i + j];
    for (; i < n; i++) dst[i] += src[i];
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

/* --- OpenBLAS thread mode ------------------------------------------------- */

/* While any convolution runs its parts on threads, OpenBLAS runs single
 * threaded; the first to enter saves the caller's setting, the last to leave
 * restores it. */
static pthread_mutex_t blas_mode_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_mode_depth, blas_mode_saved;

/* Returns false (and changes nothing) when OpenBLAS is set to one thread. */
static bool blas_single_begin(void)
{
    bool parallel = true;
    pthread_mutex_lock(&blas_mode_lock);
    if (blas_mode_depth == 0) {
        int threads = openblas_get_num_threads();
        parallel = threads >= 2;
        if (parallel) {
            blas_mode_saved = threads;
            openblas_set_num_threads(1);
        }
    }
    if (parallel) blas_mode_depth++;
    pthread_mutex_unlock(&blas_mode_lock);
    return parallel;
}

static void blas_single_end(void)
{
    pthread_mutex_lock(&blas_mode_lock);
    if (--blas_mode_depth == 0) openblas_set_num_threads(blas_mode_saved);
    pthread_mutex_unlock(&blas_mode_lock);
}

/* --- OpenBLAS ------------------------------------------------------------- */

static void openblas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb, float beta, float *c,
                           int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* One part of a convolution: output rows [row0, row0 + rows), walked in chunks
 * of `chunk` rows with `col` (chunk, K) as im2col scratch (NULL when pointwise). */
typedef struct conv_part {
    void (*run)(const struct conv_part *p);
    const thaw_conv_shape *s;
    size_t row0, rows, chunk;
    size_t oc0, ocs; /* pointwise backward weights: output channels [oc0, oc0 + ocs) */
    float *col;
    float *out, *din, *dkernel; /* outputs, by kind */
    float dkernel_beta;         /* 0: overwrite dkernel (a private partial), 1: add */
    const float *in, *dout, *kernel, *bias;
} conv_part;

static void conv_part_forward(const conv_part *p)
{
    const thaw_conv_shape *s = p->s;
    const size_t o = (size_t)s->o, kd = conv_k_dim(s), end = p->row0 + p->rows;
    for (size_t r0 = p->row0; r0 < end; r0 += p->chunk) {
        const size_t nr = end - r0 < p->chunk ? end - r0 : p->chunk;
        float *dst = p->out + r0 * o;
        const float *a = p->in + r0 * kd; /* pointwise: the input rows themselves */
        if (p->col) {
            thaw_im2col(p->col, p->in, s, r0, nr);
            a = p->col;
        }
        if (p->bias) /* the GEMM adds onto the bias (beta 1) */
            for (size_t r = 0; r < nr; r++) memcpy(dst + r * o, p->bias, o * sizeof(float));
        openblas_sgemm(false, false, (int)nr, (int)o, (int)kd, 1.0f, a, (int)kd, p->kernel,
                       (int)o, p->bias ? 1.0f : 0.0f, dst, (int)o);
    }
}

static void conv_part_backward_data(const conv_part *p)
{
    const thaw_conv_shape *s = p->s;
    const size_t o = (size_t)s->o, kd = conv_k_dim(s), end = p->row0 + p->rows;
    for (size_t r0 = p->row0; r0 < end; r0 += p->chunk) {
        const size_t nr = end - r0 < p->chunk ? end - r0 : p->chunk;
        if (!p->col) { /* pointwise: din rows += dout rows @ kernel^T */
            openblas_sgemm(false, true, (int)nr, (int)kd, (int)o, 1.0f, p->dout + r0 * o, (int)o,
                           p->kernel, (int)o, 1.0f, p->din + r0 * kd, (int)kd);
            continue;
        }
        openblas_sgemm(false, true, (int)nr, (int)kd, (int)o, 1.0f, p->dout + r0 * o, (int)o,
                       p->kernel, (int)o, 0.0f, p->col, (int)kd);
        thaw_col2im_add(p->din, p->col, s, r0, nr);
    }
}

static void conv_part_backward_weights(const conv_part *p)
{
    const thaw_conv_shape *s = p->s;
    const size_t o = (size_t)s->o, kd = conv_k_dim(s), end = p->row0 + p->rows;
    float beta = p->dkernel_beta;
    for (size_t r0 = p->row0; r0 < end; r0 += p->chunk, beta = 1.0f) {
        const size_t nr = end - r0 < p->chunk ? end - r0 : p->chunk;
        const float *a = p->in + r0 * kd;
        if (p->col) {
            thaw_im2col(p->col, p->in, s, r0, nr);
            a = p->col;
        }
        openblas_sgemm(true, false, (int)kd, (int)o, (int)nr, 1.0f, a, (int)kd, p->dout + r0 * o,
                       (int)o, beta, p->dkernel, (int)o);
    }
}

/* Pointwise backward weights, split by output channels instead of rows:
 * dkernel[:, oc0:oc0+ocs] (c, ocs) += in^T (c, rows) @ dout[:, oc0:oc0+ocs] (rows, ocs). */
static void conv_part_pointwise_weights(const conv_part *p)
{
    const size_t rows = conv_rows(p->s), o = (size_t)p->s->o, c = (size_t)p->s->c;
    for (size_t r0 = 0; r0 < rows; r0 += p->chunk) {
        const size_t nr = rows - r0 < p->chunk ? rows - r0 : p->chunk;
        openblas_sgemm(true, false, (int)c, (int)p->ocs, (int)nr, 1.0f, p->in + r0 * c, (int)c,
                       p->dout + r0 * o + p->oc0, (int)o, 1.0f, p->dkernel + p->oc0, (int)o);
    }
}

static void *conv_part_thread(void *arg)
{
    const conv_part *p = arg;
    p->run(p);
    return NULL;
}

/* Runs part[0] here and part[1] (if any) on a second thread when the work is
 * worth it and OpenBLAS may use two threads; otherwise one after the other. */
static void conv_run_parts(const conv_part part[2], int nparts)
{
    const thaw_conv_shape *s = part[0].s;
    double macs = (double)conv_rows(s) * (double)conv_k_dim(s) * s->o;
    if (nparts == 2 && macs >= CONV_PARALLEL_MIN_MACS && blas_single_begin()) {
        pthread_t thread;
        bool spawned = pthread_create(&thread, NULL, conv_part_thread, (void *)&part[1]) == 0;
        part[0].run(&part[0]);
        if (spawned)
            pthread_join(thread, NULL);
        else
            part[1].run(&part[1]);
        blas_single_end();
        return;
    }
    for (int i = 0; i < nparts; i++) part[i].run(&part[i]);
}

/* Splits s into parts running `run`; col scratch per part, NULL when pointwise. */
static int conv_split(conv_part part[2], const thaw_conv_shape *s,
                      void (*run)(const conv_part *), float *scratch)
{
    size_t rows0;
    const int nparts = conv_parts(s, &rows0);
    const bool pointwise = conv_is_pointwise(s);
    const size_t chunk = pointwise ? CONV_POINTWISE_BLOCK_ROWS : conv_chunk_rows(s);
    for (int i = 0; i < 2; i++)
        part[i] = (conv_part){
            .run = run,
            .s = s,
            .row0 = i == 0 ? 0 : rows0,
            .rows = nparts == 1 ? conv_rows(s) : i == 0 ? rows0 : conv_rows(s) - rows0,
            .chunk = chunk,
            .col = pointwise ? NULL : scratch + (size_t)i * chunk * conv_k_dim(s),
        };
    return nparts;
}

/* Scratch: per part one chunk of im2col rows, plus a private dkernel (K,o) for
 * the second part of backward weights. Pointwise convolutions need none: their
 * backward weights split the output channels instead of the rows. */
static size_t openblas_conv_scratch_floats(const thaw_conv_shape *s)
{
    size_t rows0;
    if (conv_is_pointwise(s)) return 0;
    const int nparts = conv_parts(s, &rows0);
    const size_t kd = conv_k_dim(s);
    return (size_t)nparts * conv_chunk_rows(s) * kd + (nparts == 2 ? kd * s->o : 0);
}

/* out (n,oh,ow,o) = conv(in (n,h,w,c), kernel (kh,kw,c,o)) + bias (o) or none;
 * overwritten. */
static void openblas_conv_forward(float *out, const float *in, const float *kernel,
                                  const float *bias, const thaw_conv_shape *s, float *scratch)
{
    conv_part part[2];
    const int nparts = conv_split(part, s, conv_part_forward, scratch);
    for (int i = 0; i < nparts; i++) {
        part[i].out = out;
        part[i].in = in;
        part[i].kernel = kernel;
        part[i].bias = bias;
    }
    conv_run_parts(part, nparts);
}

/* din (n,h,w,c) += d out / d in of dout (n,oh,ow,o) through kernel (kh,kw,c,o).
 * The parts cover disjoint images, so they write disjoint parts of din. */
static void openblas_conv_backward_data(float *din, const float *dout, const float *kernel,
                                        const thaw_conv_shape *s, float *scratch)
{
    conv_part part[2];
    const int nparts = conv_split(part, s, conv_part_backward_data, scratch);
    for (int i = 0; i < nparts; i++) {
        part[i].din = din;
        part[i].dout = dout;
        part[i].kernel = kernel;
    }
    conv_run_parts(part, nparts);
}

/* dkernel (kh,kw,c,o) += in-patches^T @ dout (n,oh,ow,o); dbias (o) += column sums of
 * dout when not NULL. The first part adds into dkernel, the second into a
 * private (K,o) partial that is added afterwards. */
static void openblas_conv_backward_weights(float *dkernel, float *dbias, const float *dout,
                                           const float *in, const thaw_conv_shape *s,
                                           float *scratch)
{
    const size_t rows = conv_rows(s), o = (size_t)s->o, kd = conv_k_dim(s);
    if (dbias) column_sums_add(dbias, dout, rows, o);
    conv_part part[2];
    if (conv_is_pointwise(s)) {
        const size_t o0 = (o + 1) / 2;
        const int nparts = o >= 2 ? 2 : 1;
        for (int i = 0; i < 2; i++)
            part[i] = (conv_part){
                .run = conv_part_pointwise_weights,
                .s = s,
                .chunk = CONV_POINTWISE_BLOCK_ROWS,
                .oc0 = i == 0 ? 0 : o0,
                .ocs = nparts == 1 ? o : i == 0 ? o0 : o - o0,
                .dkernel = dkernel,
                .in = in,
                .dout = dout,
            };
        conv_run_parts(part, nparts);
        return;
    }
    const int nparts = conv_split(part, s, conv_part_backward_weights, scratch);
    float *partial = scratch + (size_t)nparts * part[0].chunk * kd;
    for (int i = 0; i < nparts; i++) {
        part[i].dkernel = i == 0 ? dkernel : partial;
        part[i].dkernel_beta = i == 0 ? 1.0f : 0.0f;
        part[i].in = in;
        part[i].dout = dout;
    }
    conv_run_parts(part, nparts);
    if (nparts == 2) add_floats(dkernel, partial, kd * o);
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
