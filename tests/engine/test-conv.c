/* Convolution kernels: the OpenBLAS backend (im2col + sgemm, chunked) against
 * the naive reference loops on awkward shapes, the reference itself against
 * hand-computed numbers, im2col/col2im as an adjoint pair, and both sgemms
 * against each other for all transpose combinations. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/conv2d.h"
#include "testutil.h"

static thaw_rng rng;

static void fill_nan(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

static float *alloc_copy(const float *src, size_t n)
{
    float *p = thaw_test_alloc(n);
    memcpy(p, src, n * sizeof(float));
    return p;
}

/* --- shapes and padding --------------------------------------------------- */

static void test_same_padding(void)
{
    static const struct {
        int in, k, stride, before, after;
    } cases[] = {
        {28, 3, 2, 0, 1}, {7, 3, 1, 1, 1}, {224, 7, 2, 2, 3}, {28, 1, 2, 0, 0},
        {7, 1, 2, 0, 0},  {7, 3, 2, 1, 1}, {14, 3, 2, 0, 1},  {5, 4, 1, 1, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int b = -1, a = -1;
        thaw_conv_same_padding(cases[i].in, cases[i].k, cases[i].stride, &b, &a);
        CHECK_MSG(b == cases[i].before && a == cases[i].after,
                  "same padding in=%d k=%d s=%d: got (%d,%d), want (%d,%d)", cases[i].in,
                  cases[i].k, cases[i].stride, b, a, cases[i].before, cases[i].after);
    }
}

static void test_shape_init(void)
{
    thaw_conv_shape s;
    CHECK(thaw_conv_shape_init(&s, 32, 28, 28, 16, 32, 3, 3, 2, 2, 0, 1, 0, 1) == 0);
    CHECK(s.oh == 14 && s.ow == 14 && s.n == 32 && s.c == 16 && s.o == 32);
    CHECK(thaw_conv_shape_init(&s, 1, 7, 9, 3, 4, 3, 3, 2, 2, 0, 0, 0, 0) == 0);
    CHECK(s.oh == 3 && s.ow == 4);
    CHECK(thaw_conv_shape_init(&s, 1, 2, 2, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1) == 0);
    CHECK(s.oh == 2 && s.ow == 2);
    CHECK(thaw_conv_shape_init(&s, 1, 2, 2, 1, 1, 3, 3, 1, 1, 0, 0, 0, 0) == -1);
    CHECK(thaw_conv_shape_init(&s, 0, 8, 8, 1, 1, 3, 3, 1, 1, 0, 0, 0, 0) == -1);
    CHECK(thaw_conv_shape_init(&s, 1, 8, 8, 1, 1, 3, 3, 0, 1, 0, 0, 0, 0) == -1);
    CHECK(thaw_conv_shape_init(&s, 1, 8, 8, 1, 1, 3, 3, 1, 1, -1, 0, 0, 0) == -1);
    CHECK(thaw_conv_shape_init(&s, 1, 8, 8, 1, 0, 3, 3, 1, 1, 0, 0, 0, 0) == -1);
}

/* --- hand-computed cases -------------------------------------------------- */

/* in 3x3 = 1..9 (one channel), kernel 2x2 with two output channels:
 *   channel 0 [[1,2],[3,4]], channel 1 [[0,1],[-1,0]], bias (0.5, -1). */
static void test_hand_computed(const thaw_backend *be)
{
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    /* HWIO (2,2,1,2): kernel[ky][kx][0][oc] */
    const float kernel[8] = {1, 0, 2, 1, 3, -1, 4, 0};
    const float bias[2] = {0.5f, -1.0f};
    thaw_conv_shape s;
    CHECK(thaw_conv_shape_init(&s, 1, 3, 3, 1, 2, 2, 2, 1, 1, 0, 0, 0, 0) == 0);
    float scratch[64];
    CHECK(be->conv_scratch_floats(&s) <= 64);

    /* out[y][x] ch0 = in[y][x] + 2 in[y][x+1] + 3 in[y+1][x] + 4 in[y+1][x+1] + 0.5
     *           ch1 = in[y][x+1] - in[y+1][x] - 1 */
    const float want_out[8] = {37.5f, -3, 47.5f, -3, 67.5f, -3, 77.5f, -3};
    float out[8];
    fill_nan(out, 8);
    be->conv_forward(out, in, kernel, bias, &s, scratch);
    thaw_test_close("hand forward", out, want_out, 8, 0, 0);

    /* dout = 1 on channel 0, 0 on channel 1; din starts at 1 */
    const float dout[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    float din[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float want_din[9] = {2, 4, 3, 5, 11, 7, 4, 8, 5};
    be->conv_backward_data(din, dout, kernel, &s, scratch);
    thaw_test_close("hand backward data", din, want_din, 9, 0, 0);

    /* dkernel ch0 = sums of the four 2x2 windows' taps; ch1 = 0; start at 10 */
    float dkernel[8] = {10, 10, 10, 10, 10, 10, 10, 10};
    float dbias[2] = {1, 2};
    const float want_dk[8] = {22, 10, 26, 10, 34, 10, 38, 10};
    const float want_db[2] = {5, 2};
    be->conv_backward_weights(dkernel, dbias, dout, in, &s, scratch);
    thaw_test_close("hand backward weights", dkernel, want_dk, 8, 0, 0);
    thaw_test_close("hand backward bias", dbias, want_db, 2, 0, 0);

    /* stride 2 with Keras "same" padding (0,1) on a 3x3 input, 2x2 kernel of ones:
     * the right column and bottom row of windows read one padded tap each. */
    int pb, pa;
    thaw_conv_same_padding(3, 2, 2, &pb, &pa);
    CHECK(pb == 0 && pa == 1);
    CHECK(thaw_conv_shape_init(&s, 1, 3, 3, 1, 1, 2, 2, 2, 2, pb, pa, pb, pa) == 0);
    CHECK(s.oh == 2 && s.ow == 2);
    const float ones[4] = {1, 1, 1, 1};
    const float want_s2[4] = {12, 9, 15, 9};
    fill_nan(out, 4);
    be->conv_forward(out, in, ones, NULL, &s, scratch);
    thaw_test_close("hand forward stride 2 same", out, want_s2, 4, 0, 0);
}

/* --- im2col / col2im ------------------------------------------------------ */

/* A sub-range of rows equals the same rows of the full im2col, and col2im_add
 * is its adjoint: <im2col(x), y> == <x, col2im(y)>. */
static void test_im2col_adjoint(int n, int h, int w, int c, int kh, int kw, int sh, int sw, int pt,
                                int pb, int pl, int pr)
{
    thaw_conv_shape s;
    CHECK(thaw_conv_shape_init(&s, n, h, w, c, 1, kh, kw, sh, sw, pt, pb, pl, pr) == 0);
    size_t rows = (size_t)n * s.oh * s.ow, kd = (size_t)kh * kw * c;
    size_t nin = (size_t)n * h * w * c;
    float *x = thaw_test_alloc(nin), *col = thaw_test_alloc(rows * kd);
    float *part = thaw_test_alloc(rows * kd), *y = thaw_test_alloc(rows * kd);
    float *xt = thaw_test_alloc(nin);
    thaw_test_fill_uniform(x, nin, -1, 1, &rng);
    thaw_test_fill_uniform(y, rows * kd, -1, 1, &rng);
    fill_nan(col, rows * kd);
    thaw_im2col(col, x, &s, 0, rows);
    size_t r0 = rows / 3, r1 = rows - rows / 4;
    fill_nan(part, rows * kd);
    thaw_im2col(part, x, &s, r0, r1 - r0);
    thaw_test_same("im2col row range", part, col + r0 * kd, (r1 - r0) * kd);

    /* col2im over two row ranges sums to the adjoint */
    thaw_col2im_add(xt, y, &s, 0, r0);
    thaw_col2im_add(xt, y + r0 * kd, &s, r0, rows - r0);
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < rows * kd; i++) lhs += (double)col[i] * y[i];
    for (size_t i = 0; i < nin; i++) rhs += (double)x[i] * xt[i];
    CHECK_MSG(fabs(lhs - rhs) <= 1e-5 * (1 + fabs(lhs)),
              "im2col adjoint %dx%dx%d k%dx%d s%dx%d: <im2col x, y> %.9g != <x, col2im y> %.9g", h,
              w, c, kh, kw, sh, sw, lhs, rhs);
    free(x), free(col), free(part), free(y), free(xt);
}

/* --- backend against reference -------------------------------------------- */

typedef struct conv_case {
    const char *name;
    int n, h, w, c, o, kh, kw, sh, sw;
    int pt, pb, pl, pr; /* ignored when same */
    bool same;          /* Keras "same" padding from thaw_conv_same_padding */
    bool multi_chunk;   /* expect the openblas path to need more than one chunk */
} conv_case;

static void check_case(const conv_case *cc)
{
    const thaw_backend *fast = &thaw_backend_openblas, *ref = &thaw_backend_naive;
    int pt = cc->pt, pb = cc->pb, pl = cc->pl, pr = cc->pr;
    if (cc->same) {
        thaw_conv_same_padding(cc->h, cc->kh, cc->sh, &pt, &pb);
        thaw_conv_same_padding(cc->w, cc->kw, cc->sw, &pl, &pr);
    }
    thaw_conv_shape s;
    if (thaw_conv_shape_init(&s, cc->n, cc->h, cc->w, cc->c, cc->o, cc->kh, cc->kw, cc->sh, cc->sw,
                             pt, pb, pl, pr) != 0) {
        CHECK_MSG(false, "%s: bad shape", cc->name);
        return;
    }
    const size_t rows = (size_t)s.n * s.oh * s.ow, kd = (size_t)s.kh * s.kw * s.c;
    const size_t nin = (size_t)s.n * s.h * s.w * s.c, nout = rows * s.o, nk = kd * s.o;
    const bool pointwise = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && pt == 0 && pb == 0 &&
                           pl == 0 && pr == 0;

    size_t nscratch = fast->conv_scratch_floats(&s);
    CHECK_MSG(ref->conv_scratch_floats(&s) == 0, "%s: naive scratch not 0", cc->name);
    if (pointwise)
        CHECK_MSG(nscratch == 0, "%s: 1x1 stride-1 scratch %zu, want 0", cc->name, nscratch);
    else
        CHECK_MSG(nscratch >= kd, "%s: scratch %zu smaller than one im2col row (K %zu)", cc->name,
                  nscratch, kd);
    if (cc->multi_chunk) /* the scratch cannot hold the whole im2col matrix */
        CHECK_MSG(nscratch < rows * kd, "%s: expected several chunks, scratch %zu covers all",
                  cc->name, nscratch);
    /* scratch holds garbage: the kernels must not depend on it; NULL when 0 */
    float *scratch = nscratch ? thaw_test_alloc(nscratch) : NULL;

    float *in = thaw_test_alloc(nin), *kernel = thaw_test_alloc(nk);
    float *bias = thaw_test_alloc(s.o), *dout = thaw_test_alloc(nout);
    thaw_test_fill_uniform(in, nin, -1, 1, &rng);
    thaw_test_fill_uniform(kernel, nk, -1, 1, &rng);
    thaw_test_fill_uniform(bias, s.o, -1, 1, &rng);
    thaw_test_fill_uniform(dout, nout, -1, 1, &rng);

    /* absolute tolerances scale with the typical size of each sum (uniform
     * [-1,1] products have std 1/3, so a sum of m of them is ~ sqrt(m)/3) */
    const double fwd_atol = 1e-5 * sqrt((double)kd);
    const double data_atol = 1e-5 * sqrt((double)s.kh * s.kw * s.o);
    const double wgt_atol = 1e-5 * sqrt((double)rows);
    char what[160];

    /* forward, with and without bias; the output starts as NaN (overwritten) */
    float *out = thaw_test_alloc(nout), *want = thaw_test_alloc(nout);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const float *b = with_bias ? bias : NULL;
        fill_nan(out, nout);
        fill_nan(want, nout);
        if (scratch) fill_nan(scratch, nscratch);
        fast->conv_forward(out, in, kernel, b, &s, scratch);
        ref->conv_forward(want, in, kernel, b, &s, NULL);
        snprintf(what, sizeof what, "%s forward%s", cc->name, with_bias ? " +bias" : "");
        thaw_test_close(what, out, want, nout, fwd_atol, 1e-5);
    }

    /* backward data accumulates onto a non-zero din */
    float *din0 = thaw_test_alloc(nin);
    thaw_test_fill_uniform(din0, nin, -1, 1, &rng);
    float *din = alloc_copy(din0, nin), *din_want = alloc_copy(din0, nin);
    if (scratch) fill_nan(scratch, nscratch);
    fast->conv_backward_data(din, dout, kernel, &s, scratch);
    ref->conv_backward_data(din_want, dout, kernel, &s, NULL);
    snprintf(what, sizeof what, "%s backward data", cc->name);
    thaw_test_close(what, din, din_want, nin, data_atol, 1e-4);

    /* backward weights accumulate onto non-zero dkernel / dbias; with and without dbias */
    float *dk0 = thaw_test_alloc(nk), *db0 = thaw_test_alloc(s.o);
    thaw_test_fill_uniform(dk0, nk, -1, 1, &rng);
    thaw_test_fill_uniform(db0, s.o, -1, 1, &rng);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        float *dk = alloc_copy(dk0, nk), *dk_want = alloc_copy(dk0, nk);
        float *db = alloc_copy(db0, s.o), *db_want = alloc_copy(db0, s.o);
        if (scratch) fill_nan(scratch, nscratch);
        fast->conv_backward_weights(dk, with_bias ? db : NULL, dout, in, &s, scratch);
        ref->conv_backward_weights(dk_want, with_bias ? db_want : NULL, dout, in, &s, NULL);
        snprintf(what, sizeof what, "%s backward kernel%s", cc->name, with_bias ? " +bias" : "");
        thaw_test_close(what, dk, dk_want, nk, wgt_atol, 1e-4);
        snprintf(what, sizeof what, "%s backward bias", cc->name);
        if (with_bias)
            thaw_test_close(what, db, db_want, s.o, wgt_atol, 1e-4);
        else
            thaw_test_same(what, db, db0, s.o); /* untouched */
        free(dk), free(dk_want), free(db), free(db_want);
    }

    free(scratch), free(in), free(kernel), free(bias), free(dout), free(out), free(want);
    free(din0), free(din), free(din_want), free(dk0), free(db0);
}

/* clang-format off */
static const conv_case conv_cases[] = {
    /* name                       n  h   w   c   o  kh kw sh sw pt pb pl pr same  multi */
    {"odd 7x9 3x3 s1 pad1",       2, 7,  9,  3,  5, 3, 3, 1, 1, 1, 1, 1, 1, false, false},
    {"odd 7x9 3x3 s1 valid",      2, 7,  9,  3,  5, 3, 3, 1, 1, 0, 0, 0, 0, false, false},
    {"even 8x8 3x3 s2 same",      2, 8,  8,  4,  6, 3, 3, 2, 2, 0, 0, 0, 0, true,  false},
    {"odd 7x9 3x3 s2 same",       2, 7,  9,  4,  6, 3, 3, 2, 2, 0, 0, 0, 0, true,  false},
    {"odd 7x9 3x3 s2 valid",      2, 7,  9,  4,  6, 3, 3, 2, 2, 0, 0, 0, 0, false, false},
    {"5x5 3x3 s1 pad2 symmetric", 2, 5,  5,  3,  4, 3, 3, 1, 1, 2, 2, 2, 2, false, false},
    {"6x7 3x3 asymmetric pad",    2, 6,  7,  3,  4, 3, 3, 1, 1, 2, 0, 0, 1, false, false},
    {"2x2 input 3x3 kernel pad1", 3, 2,  2,  2,  3, 3, 3, 1, 1, 1, 1, 1, 1, false, false},
    {"1x1 s1",                    3, 6,  5,  7,  9, 1, 1, 1, 1, 0, 0, 0, 0, false, false},
    {"1x1 s1 big (threaded)",     2, 24, 24, 32, 32, 1, 1, 1, 1, 0, 0, 0, 0, false, false},
    {"1x1 s2 even 8x8",           2, 8,  8,  6, 10, 1, 1, 2, 2, 0, 0, 0, 0, true,  false},
    {"1x1 s2 odd 7x7",            2, 7,  7,  6, 10, 1, 1, 2, 2, 0, 0, 0, 0, true,  false},
    {"1x1 s1 trailing pad",       2, 5,  4,  3,  4, 1, 1, 1, 1, 0, 1, 0, 1, false, false},
    {"1x1 s2 leading pad",        2, 5,  6,  3,  4, 1, 1, 2, 2, 1, 0, 1, 1, false, false},
    {"3x1 and 1x5 s(1,2)",        2, 9,  11, 3,  4, 3, 5, 1, 2, 1, 1, 2, 2, false, false},
    {"batch 1 c=1 28x28 same",    1, 28, 28, 1, 16, 3, 3, 1, 1, 0, 0, 0, 0, true,  false},
    {"7x7 s2 same 32x32",         2, 32, 32, 3,  8, 7, 7, 2, 2, 0, 0, 0, 0, true,  false},
    {"resnet 28x28 16->32 s2",    2, 28, 28, 16, 32, 3, 3, 2, 2, 0, 0, 0, 0, true,  false},
    {"resnet 7x7 64->64",         2, 7,  7,  64, 64, 3, 3, 1, 1, 0, 0, 0, 0, true,  false},
    {"multi-chunk 3x32x32x64 3x3",3, 32, 32, 64, 4, 3, 3, 1, 1, 1, 1, 1, 1, false, true},
    {"multi-chunk 7x7 s2 wide",   1, 24, 26, 96, 3, 7, 7, 2, 2, 0, 0, 0, 0, true,  true},
};
/* clang-format on */

/* --- threading ------------------------------------------------------------ */

/* The openblas backend splits big convolutions into two parts that run on two
 * threads when OpenBLAS may use two; the split depends on the shape only, so
 * one and two threads give bit-identical results, and the caller's OpenBLAS
 * thread count is restored afterwards. */
static void test_thread_independence(int n, int h, int w, int c, int o, int k, int stride)
{
    const thaw_backend *be = &thaw_backend_openblas;
    int pt, pb, pl, pr;
    thaw_conv_same_padding(h, k, stride, &pt, &pb);
    thaw_conv_same_padding(w, k, stride, &pl, &pr);
    thaw_conv_shape s;
    CHECK(thaw_conv_shape_init(&s, n, h, w, c, o, k, k, stride, stride, pt, pb, pl, pr) == 0);
    const size_t nin = (size_t)n * h * w * c, nout = (size_t)n * s.oh * s.ow * o;
    const size_t nk = (size_t)k * k * c * o, nscratch = be->conv_scratch_floats(&s);
    float *in = thaw_test_alloc(nin), *kernel = thaw_test_alloc(nk);
    float *bias = thaw_test_alloc(o), *dout = thaw_test_alloc(nout);
    float *scratch = nscratch ? thaw_test_alloc(nscratch) : NULL;
    thaw_test_fill_uniform(in, nin, -1, 1, &rng);
    thaw_test_fill_uniform(kernel, nk, -1, 1, &rng);
    thaw_test_fill_uniform(bias, o, -1, 1, &rng);
    thaw_test_fill_uniform(dout, nout, -1, 1, &rng);

    float *out[2], *din[2], *dk[2], *db[2];
    const int saved = openblas_get_num_threads();
    for (int t = 0; t < 2; t++) {
        openblas_set_num_threads(t + 1);
        out[t] = thaw_test_alloc(nout);
        din[t] = thaw_test_alloc(nin);
        dk[t] = thaw_test_alloc(nk);
        db[t] = thaw_test_alloc(o);
        be->conv_forward(out[t], in, kernel, bias, &s, scratch);
        be->conv_backward_data(din[t], dout, kernel, &s, scratch);
        be->conv_backward_weights(dk[t], db[t], dout, in, &s, scratch);
        CHECK_MSG(openblas_get_num_threads() == t + 1, "OpenBLAS threads %d after convs, set %d",
                  openblas_get_num_threads(), t + 1);
    }
    openblas_set_num_threads(saved);
    char what[96];
    snprintf(what, sizeof what, "%dx%dx%dx%d k%d s%d: 1 vs 2 threads", n, h, w, c, k, stride);
    thaw_test_same(what, out[1], out[0], nout);
    thaw_test_same(what, din[1], din[0], nin);
    thaw_test_same(what, dk[1], dk[0], nk);
    thaw_test_same(what, db[1], db[0], o);
    for (int t = 0; t < 2; t++) free(out[t]), free(din[t]), free(dk[t]), free(db[t]);
    free(in), free(kernel), free(bias), free(dout), free(scratch);
}

/* --- sgemm ---------------------------------------------------------------- */

static void check_sgemm(int m, int n, int k, float alpha, float beta)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* stored shapes with padded leading dimensions */
            int a_rows = ta ? k : m, a_cols = ta ? m : k, lda = a_cols + 3;
            int b_rows = tb ? n : k, b_cols = tb ? k : n, ldb = b_cols + 2;
            int ldc = n + 5;
            size_t na = (size_t)a_rows * lda, nb = (size_t)b_rows * ldb, nc = (size_t)m * ldc;
            float *a = thaw_test_alloc(na), *b = thaw_test_alloc(nb), *c0 = thaw_test_alloc(nc);
            thaw_test_fill_uniform(a, na, -1, 1, &rng);
            thaw_test_fill_uniform(b, nb, -1, 1, &rng);
            thaw_test_fill_uniform(c0, nc, -1, 1, &rng);
            if (beta == 0.0f) /* C must not be read; padding must stay untouched */
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) c0[(size_t)i * ldc + j] = NAN;
            float *c = alloc_copy(c0, nc), *want = alloc_copy(c0, nc);
            thaw_backend_openblas.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            thaw_backend_naive.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
            char what[96];
            snprintf(what, sizeof what, "sgemm %c%c m=%d n=%d k=%d alpha=%g beta=%g",
                     ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, beta);
            thaw_test_close(what, c, want, nc, 1e-5 * sqrt((double)k), 1e-5);
            /* the naive sgemm itself, one element by hand */
            double acc = 0;
            for (int p = 0; p < k; p++) {
                float av = ta ? a[(size_t)p * lda + (m - 1)] : a[(size_t)(m - 1) * lda + p];
                float bv = tb ? b[(size_t)(n - 1) * ldb + p] : b[(size_t)p * ldb + (n - 1)];
                acc += (double)av * bv;
            }
            size_t last = (size_t)(m - 1) * ldc + (n - 1);
            double expect = alpha * acc + (beta == 0.0f ? 0.0 : beta * (double)c0[last]);
            CHECK_MSG(fabs(want[last] - expect) <= 1e-5 * (1 + fabs(expect)),
                      "%s: naive C[m-1][n-1] %.9g, by hand %.9g", what, want[last], expect);
            free(a), free(b), free(c0), free(c), free(want);
        }
}

/* --- backend lookup ------------------------------------------------------- */

static void test_lookup(void)
{
    CHECK(thaw_backend_by_name("openblas") == &thaw_backend_openblas);
    CHECK(thaw_backend_by_name("naive") == &thaw_backend_naive);
    CHECK(thaw_backend_by_name("bogus") == NULL);
    CHECK(thaw_backend_by_name(NULL) == NULL);
    CHECK(strcmp(thaw_backend_openblas.name, "openblas") == 0);
    CHECK(strcmp(thaw_backend_naive.name, "naive") == 0);

    const char *saved = getenv("THAW_BACKEND");
    char *keep = saved ? strdup(saved) : NULL;
    unsetenv("THAW_BACKEND");
    CHECK(thaw_backend_default() == &thaw_backend_openblas);
    setenv("THAW_BACKEND", "naive", 1);
    CHECK(thaw_backend_default() == &thaw_backend_naive);
    setenv("THAW_BACKEND", "openblas", 1);
    CHECK(thaw_backend_default() == &thaw_backend_openblas);
    setenv("THAW_BACKEND", "", 1);
    CHECK(thaw_backend_default() == &thaw_backend_openblas);
    if (keep)
        setenv("THAW_BACKEND", keep, 1);
    else
        unsetenv("THAW_BACKEND");
    free(keep);
}

int main(void)
{
    thaw_rng_seed(&rng, 20240607, 3);

    test_same_padding();
    test_shape_init();
    test_lookup();
    test_hand_computed(&thaw_backend_naive);
    test_hand_computed(&thaw_backend_openblas);

    test_im2col_adjoint(2, 7, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1);
    test_im2col_adjoint(2, 8, 8, 4, 3, 3, 2, 2, 0, 1, 0, 1);
    test_im2col_adjoint(1, 7, 7, 5, 1, 1, 2, 2, 0, 0, 0, 0);
    test_im2col_adjoint(2, 6, 5, 2, 1, 1, 2, 2, 1, 1, 0, 2);
    test_im2col_adjoint(1, 11, 10, 2, 7, 7, 2, 2, 2, 3, 3, 2);
    test_im2col_adjoint(1, 3, 3, 2, 3, 3, 1, 1, 3, 3, 3, 3); /* whole rows of padding */

    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        check_case(&conv_cases[i]);

    test_thread_independence(3, 30, 30, 32, 16, 3, 1); /* odd batch: parts of 2 and 1 images */
    test_thread_independence(4, 32, 32, 64, 64, 1, 1); /* 1x1 stride 1, no scratch */
    test_thread_independence(4, 57, 57, 16, 32, 1, 2); /* 1x1 stride 2 gather */

    check_sgemm(7, 5, 9, 0.7f, -0.3f);
    check_sgemm(7, 5, 9, 1.0f, 0.0f);
    check_sgemm(1, 1, 1, 2.0f, 1.0f);
    check_sgemm(67, 45, 130, -1.25f, 1.0f);
    check_sgemm(33, 130, 17, 0.5f, 0.0f);

    return thaw_test_finish();
}
