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
 * Threading. Convolution GEMMs are skinny (o = 16..64 columns for ResNet-20)
 * and OpenBLAS 0.3.21 gains nothing from its own threads on them: with 2
 * threads they run no faster than with 1, some 2x slower. So OpenBLAS is
 * switched to one thread while a convolution runs, the batch is split into
 * two parts at an image boundary (images never share din, so col2im needs no
 * locks), and the second part runs on a helper thread (see below) while the
 * caller runs the first. Inside a part, rows go in chunks of conv_chunk_rows()
 * so that a chunk's im2col is still in cache when its GEMM reads it. The parts
 * and chunks depend on the shape only, so results are bit-identical whatever
 * the thread count. With OpenBLAS set to one thread everything runs on the
 * calling thread, so a caller that slices the batch over its own threads
 * (and sets OpenBLAS to one thread) gets no extra threads from here. */
#include "kernels/backend.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* im2col floats per chunk and part (1 MiB): small enough to stay in cache
 * until the GEMM reads it, large enough for efficient GEMMs. Measured on the
 * ResNet-20 shapes: 2^18..2^20 alike, 2^16 15% slower, one chunk for the whole
 * 28x28x16 layer (3.6M floats) 1.8x slower. */
#define CONV_CHUNK_FLOATS ((size_t)1 << 18)

/* Rows per GEMM on the scratch-free 1x1 path: keeps every GEMM size an int. */
#define CONV_POINTWISE_BLOCK_ROWS ((size_t)1 << 24)

/* Below this many multiply-adds handing half to the helper thread costs more
 * than it saves. */
#define CONV_PARALLEL_MIN_MACS 1e6

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

/* dst (cols) += column sums of x (rows, cols) with row stride ld, one double
 * sum per column. */
static void column_sums_add(float *dst, const float *x, size_t rows, size_t cols, size_t ld)
{
    enum { BLOCK = 64 };
    double acc[BLOCK];
    for (size_t j0 = 0; j0 < cols; j0 += BLOCK) {
        size_t nb = cols - j0 < BLOCK ? cols - j0 : BLOCK;
        for (size_t j = 0; j < nb; j++) acc[j] = 0.0;
        for (size_t r = 0; r < rows; r++) {
            const float *row = x + r * ld + j0;
            for (size_t j = 0; j < nb; j++) acc[j] += row[j];
        }
        for (size_t j = 0; j < nb; j++) dst[j0 + j] += (float)acc[j];
    }
}

/* --- OpenBLAS thread mode ------------------------------------------------- */

/* While any convolution runs, OpenBLAS runs single-threaded (its threads gain
 * nothing on these GEMMs, and the helper thread below supplies the second
 * core); the first convolution to enter saves the caller's setting, the last
 * to leave restores it. */
static pthread_mutex_t blas_mode_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_mode_depth, blas_mode_saved;

/* Returns the number of convolutions now running with OpenBLAS switched
 * (1: this one alone), or 0, changing nothing, when OpenBLAS already uses one
 * thread -- then the caller decides the threading and this backend adds none. */
static int blas_single_begin(void)
{
    int depth = 0;
    pthread_mutex_lock(&blas_mode_lock);
    if (blas_mode_depth > 0 || openblas_get_num_threads() >= 2) {
        if (blas_mode_depth == 0) {
            blas_mode_saved = openblas_get_num_threads();
            openblas_set_num_threads(1);
        }
        depth = ++blas_mode_depth;
    }
    pthread_mutex_unlock(&blas_mode_lock);
    return depth;
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
    float *dbias;               /* backward weights: += column sums of this part's dout */
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
        openblas_sgemm(false, false, (int)nr, (int)o, (int)kd, 1.0f, a, (int)kd, p->kernel, (int)o,
                       p->bias ? 1.0f : 0.0f, dst, (int)o);
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
    if (p->dbias) column_sums_add(p->dbias, p->dout + p->row0 * o, p->rows, o, o);
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
    if (p->dbias) column_sums_add(p->dbias + p->oc0, p->dout + p->oc0, rows, p->ocs, o);
    for (size_t r0 = 0; r0 < rows; r0 += p->chunk) {
        const size_t nr = rows - r0 < p->chunk ? rows - r0 : p->chunk;
        openblas_sgemm(true, false, (int)c, (int)p->ocs, (int)nr, 1.0f, p->in + r0 * c, (int)c,
                       p->dout + r0 * o + p->oc0, (int)o, 1.0f, p->dkernel + p->oc0, (int)o);
    }
}

/* --- the helper thread ---------------------------------------------------- */

/* One long-lived helper thread runs the second part of a convolution while the
 * calling thread runs the first. Waking an idle CPU costs 0.2-1 ms on the
 * 2-vCPU VMs Thaw is measured on -- as long as a whole ResNet-20 convolution --
 * so a thread per call does not pay, and after each job the helper polls for
 * the next one for HELPER_SPIN_NS before it sleeps on a condition variable
 * (OpenBLAS's own threads make the same trade, polling for ~0.1 s).
 *
 * A job is one slot word, generation << 2 | state. The caller posts part[1]
 * (POSTED), runs part[0], then claims part[1] itself if the helper has not
 * (CALLER) -- so a sleeping, slow or missing helper (e.g. after fork) costs
 * nothing but the post -- or else waits until the helper marks it DONE. One
 * caller at a time owns the helper; a concurrent caller runs both parts. */
#define HELPER_SPIN_NS 2000000 /* 2 ms */

enum { SLOT_POSTED = 0, SLOT_HELPER = 1, SLOT_CALLER = 2, SLOT_DONE = 3 };

static struct {
    pthread_once_t once;
    bool started;
    pthread_mutex_t owner; /* held by the caller using the helper */
    pthread_mutex_t lock;  /* guards sleeping, pairs with wake */
    pthread_cond_t wake;
    bool sleeping;
    _Atomic uint64_t slot; /* generation << 2 | state; generation 0 is never posted */
    const conv_part *_Atomic job;
} helper = {
    .once = PTHREAD_ONCE_INIT,
    .owner = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static inline uint64_t slot_word(uint64_t gen, int state)
{
    return gen << 2 | (uint64_t)state;
}

static inline void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static bool helper_has_news(uint64_t seen)
{
    return atomic_load_explicit(&helper.slot, memory_order_acquire) >> 2 != seen;
}

static void *helper_main(void *arg)
{
    uint64_t seen = 0;
    for (;;) {
        const uint64_t t0 = now_ns();
        while (!helper_has_news(seen)) {
            if (now_ns() - t0 < HELPER_SPIN_NS) {
                spin_pause();
                continue;
            }
            pthread_mutex_lock(&helper.lock);
            helper.sleeping = true;
            while (!helper_has_news(seen)) pthread_cond_wait(&helper.wake, &helper.lock);
            helper.sleeping = false;
            pthread_mutex_unlock(&helper.lock);
        }
        seen = atomic_load_explicit(&helper.slot, memory_order_acquire) >> 2;
        uint64_t posted = slot_word(seen, SLOT_POSTED);
        if (atomic_compare_exchange_strong_explicit(&helper.slot, &posted,
                                                    slot_word(seen, SLOT_HELPER),
                                                    memory_order_acq_rel, memory_order_acquire)) {
            const conv_part *p = atomic_load_explicit(&helper.job, memory_order_relaxed);
            p->run(p);
            atomic_store_explicit(&helper.slot, slot_word(seen, SLOT_DONE), memory_order_release);
        }
    }
    return NULL;
}

static void helper_start(void)
{
    pthread_t thread;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    helper.started = pthread_create(&thread, &attr, helper_main, NULL) == 0;
    pthread_attr_destroy(&attr);
}

/* Runs part[0] here and part[1] on the helper; false (nothing run) when the
 * helper is missing or busy with another caller. */
static bool helper_run_pair(const conv_part part[2])
{
    pthread_once(&helper.once, helper_start);
    if (!helper.started || pthread_mutex_trylock(&helper.owner) != 0) return false;

    const uint64_t gen = (atomic_load_explicit(&helper.slot, memory_order_relaxed) >> 2) + 1;
    atomic_store_explicit(&helper.job, &part[1], memory_order_relaxed);
    atomic_store_explicit(&helper.slot, slot_word(gen, SLOT_POSTED), memory_order_release);
    pthread_mutex_lock(&helper.lock);
    if (helper.sleeping) pthread_cond_signal(&helper.wake);
    pthread_mutex_unlock(&helper.lock);

    part[0].run(&part[0]);

    uint64_t posted = slot_word(gen, SLOT_POSTED);
    if (atomic_compare_exchange_strong_explicit(&helper.slot, &posted, slot_word(gen, SLOT_CALLER),
                                                memory_order_acq_rel, memory_order_acquire))
        part[1].run(&part[1]);
    else
        while (atomic_load_explicit(&helper.slot, memory_order_acquire) !=
               slot_word(gen, SLOT_DONE))
            spin_pause();
    pthread_mutex_unlock(&helper.owner);
    return true;
}

/* Runs the parts with OpenBLAS single-threaded: part[1] on the helper thread
 * when there are two parts worth it and no other convolution is running (the
 * caller may be slicing the work over threads itself), otherwise one after the
 * other. */
static void conv_run_parts(const conv_part part[2], int nparts)
{
    const thaw_conv_shape *s = part[0].s;
    const double macs = (double)conv_rows(s) * (double)conv_k_dim(s) * s->o;
    const int running = blas_single_begin();
    if (!(running == 1 && nparts == 2 && macs >= CONV_PARALLEL_MIN_MACS && helper_run_pair(part)))
        for (int i = 0; i < nparts; i++) part[i].run(&part[i]);
    if (running) blas_single_end();
}

/* Splits s into parts running `run`; col scratch per part, NULL when pointwise. */
static int conv_split(conv_part part[2], const thaw_conv_shape *s, void (*run)(const conv_part *),
                      float *scratch)
{
    size_t rows0;
    const int nparts = conv_parts(s, &rows0);
    const bool pointwise = conv_is_pointwise(s);
    const size_t chunk = pointwise ? CONV_POINTWISE_BLOCK_ROWS : conv_chunk_rows(s);
    for (int i = 0; i < nparts; i++)
        part[i] = (conv_part){
            .run = run,
            .s = s,
            .row0 = i == 0 ? 0 : rows0,
            .rows = nparts == 1 ? conv_rows(s)
                    : i == 0    ? rows0
                                : conv_rows(s) - rows0,
            .chunk = chunk,
            .col = pointwise ? NULL : scratch + (size_t)i * chunk * conv_k_dim(s),
        };
    return nparts;
}

/* Scratch: per part one chunk of im2col rows, plus a private dkernel (K,o) and
 * dbias (o) for the second part of backward weights. Pointwise convolutions
 * need none: their backward weights split the output channels, not the rows. */
static size_t openblas_conv_scratch_floats(const thaw_conv_shape *s)
{
    size_t rows0;
    if (conv_is_pointwise(s)) return 0;
    const int nparts = conv_parts(s, &rows0);
    const size_t kd = conv_k_dim(s);
    return (size_t)nparts * conv_chunk_rows(s) * kd + (nparts == 2 ? (kd + 1) * s->o : 0);
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
 * dout when not NULL. The first part adds into dkernel and dbias, the second
 * into private partials that are added afterwards. */
static void openblas_conv_backward_weights(float *dkernel, float *dbias, const float *dout,
                                           const float *in, const thaw_conv_shape *s,
                                           float *scratch)
{
    const size_t o = (size_t)s->o, kd = conv_k_dim(s);
    conv_part part[2];
    if (conv_is_pointwise(s)) {
        const size_t o0 = (o + 1) / 2;
        const int nparts = o >= 2 ? 2 : 1;
        for (int i = 0; i < nparts; i++)
            part[i] = (conv_part){
                .run = conv_part_pointwise_weights,
                .s = s,
                .chunk = CONV_POINTWISE_BLOCK_ROWS,
                .oc0 = i == 0 ? 0 : o0,
                .ocs = nparts == 1 ? o
                       : i == 0    ? o0
                                   : o - o0,
                .dkernel = dkernel,
                .dbias = dbias,
                .in = in,
                .dout = dout,
            };
        conv_run_parts(part, nparts);
        return;
    }
    const int nparts = conv_split(part, s, conv_part_backward_weights, scratch);
    float *partial_dk = scratch + (size_t)nparts * part[0].chunk * kd;
    float *partial_db = partial_dk + kd * o;
    if (nparts == 2 && dbias) memset(partial_db, 0, o * sizeof(float));
    for (int i = 0; i < nparts; i++) {
        part[i].dkernel = i == 0 ? dkernel : partial_dk;
        part[i].dkernel_beta = i == 0 ? 1.0f : 0.0f;
        part[i].dbias = !dbias ? NULL : i == 0 ? dbias : partial_db;
        part[i].in = in;
        part[i].dout = dout;
    }
    conv_run_parts(part, nparts);
    if (nparts == 2) {
        add_floats(dkernel, partial_dk, kd * o);
        if (dbias) add_floats(dbias, partial_db, o);
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

static void naive_conv_forward(float *out, const float *in, const float *kernel, const float *bias,
                               const thaw_conv_shape *s, float *scratch)
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
