/* Kernels other than convolution (batchnorm, dense, pool, elementwise, loss)
 * against naive double-precision references and hand-computed values, on
 * awkward shapes: batch 1, one channel, m = 1 for BN (variance 0), channel
 * counts that are not multiples of the vector blocks (8, 16, 64).
 *
 * The dense kernels run through two local backends (a naive double-accumulating
 * sgemm and cblas_sgemm) so this test does not depend on backend.c. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/batchnorm.h"
#include "kernels/dense.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "kernels/pool.h"
#include "testutil.h"

static thaw_rng rng;

static float *randn(size_t n)
{
    float *p = thaw_test_alloc(n);
    thaw_test_fill_normal(p, n, 0.0f, 1.0f, &rng);
    return p;
}

static float *copy_of(const float *src, size_t n)
{
    float *p = thaw_test_alloc(n);
    memcpy(p, src, n * sizeof(float));
    return p;
}

static void fill_nan(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

/* got is within `ulps` float steps of the exact value want */
static bool within_ulps(float got, double want, int ulps)
{
    float lo = (float)want, hi = lo;
    for (int i = 0; i < ulps; i++) {
        lo = nextafterf(lo, -INFINITY);
        hi = nextafterf(hi, INFINITY);
    }
    return got >= lo && got <= hi;
}

/* ========================================================================= */
/* BatchNorm                                                                 */
/* ========================================================================= */

/* Per-channel statistics in double, column by column (a different loop order
 * from the kernel). */
static void bn_ref_stats(double *mu, double *var, const float *x, size_t m, int c)
{
    for (int j = 0; j < c; j++) {
        double s = 0, q = 0;
        for (size_t r = 0; r < m; r++) s += x[r * c + j];
        mu[j] = s / (double)m;
        for (size_t r = 0; r < m; r++) {
            double d = x[r * c + j] - mu[j];
            q += d * d;
        }
        var[j] = q / (double)m;
    }
}

static void test_bn_forward_train_case(size_t m, int c, bool use_gamma, bool use_beta, float eps)
{
    char what[96];
    float *x = randn(m * c);
    for (size_t i = 0; i < m * c; i++) x[i] = 3.0f + 2.0f * x[i]; /* mean 3, std 2 */
    float *gamma = use_gamma ? randn(c) : NULL;
    float *beta = use_beta ? randn(c) : NULL;
    float *y = thaw_test_alloc(m * c), *mean = thaw_test_alloc(c), *var = thaw_test_alloc(c);
    float *invstd = thaw_test_alloc(c);
    fill_nan(y, m * c);
    thaw_bn_forward_train(y, mean, var, invstd, x, gamma, beta, m, c, eps);

    double *mu = malloc(c * sizeof(double)), *v = malloc(c * sizeof(double));
    bn_ref_stats(mu, v, x, m, c);
    float *want_mean = thaw_test_alloc(c), *want_var = thaw_test_alloc(c);
    float *want_invstd = thaw_test_alloc(c), *want_y = thaw_test_alloc(m * c);
    for (int j = 0; j < c; j++) {
        want_mean[j] = (float)mu[j];
        want_var[j] = (float)v[j];
        want_invstd[j] = (float)(1.0 / sqrt(v[j] + eps));
    }
    for (size_t r = 0; r < m; r++) {
        for (int j = 0; j < c; j++) {
            double g = gamma ? gamma[j] : 1.0, b = beta ? beta[j] : 0.0;
            want_y[r * c + j] = (float)(g * (x[r * c + j] - mu[j]) / sqrt(v[j] + eps) + b);
        }
    }
    snprintf(what, sizeof what, "bn train m=%zu c=%d g=%d b=%d", m, c, use_gamma, use_beta);
    thaw_test_close(what, mean, want_mean, c, 1e-6, 1e-6);
    thaw_test_close(what, var, want_var, c, 1e-6, 1e-5);
    thaw_test_close(what, invstd, want_invstd, c, 1e-6, 1e-5);
    thaw_test_close(what, y, want_y, m * c, 1e-5, 1e-5);

    free(x), free(gamma), free(beta), free(y), free(mean), free(var), free(invstd);
    free(mu), free(v), free(want_mean), free(want_var), free(want_invstd), free(want_y);
}

static void test_bn_forward_train(void)
{
    static const struct {
        size_t m;
        int c;
    } shapes[] = {{1, 1},   {2, 1},    {7, 1},    {4, 3},    {13, 8},
                  {37, 17}, {100, 75}, {50, 130}, {9, 2048}, {1000, 16}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        for (int gb = 0; gb < 4; gb++)
            test_bn_forward_train_case(shapes[i].m, shapes[i].c, gb & 1, gb & 2, 1e-3f);
    }
    test_bn_forward_train_case(333, 67, true, true, 1.001e-5f);
}

/* m = 1: the batch variance is exactly 0 and the output is exactly beta. */
static void test_bn_single_row(void)
{
    enum { C = 11 };
    float *x = randn(C), *gamma = randn(C), *beta = randn(C);
    float y[C], mean[C], var[C], invstd[C];
    thaw_bn_forward_train(y, mean, var, invstd, x, gamma, beta, 1, C, 1e-3f);
    thaw_test_same("bn m=1 mean == x", mean, x, C);
    thaw_test_same("bn m=1 y == beta", y, beta, C);
    for (int j = 0; j < C; j++) {
        CHECK(var[j] == 0.0f);
        CHECK(invstd[j] == (float)(1.0 / sqrt((double)1e-3f)));
    }
    /* and without beta, zeros */
    thaw_bn_forward_train(y, mean, var, invstd, x, gamma, NULL, 1, C, 1e-3f);
    for (int j = 0; j < C; j++) CHECK(y[j] == 0.0f);
    free(x), free(gamma), free(beta);
}

/* Train-mode output: per-channel mean == beta and biased variance ==
 * gamma^2 * var/(var + eps) (== gamma^2 up to eps). */
static void test_bn_invariants(void)
{
    const size_t m = 600;
    const int c = 19;
    const float eps = 1e-3f;
    float *x = randn(m * c), *gamma = randn(c), *beta = randn(c);
    for (size_t i = 0; i < m * c; i++) x[i] = -5.0f + 0.5f * (float)(i % 7) + x[i] * 0.3f;
    float *y = thaw_test_alloc(m * c), mean[19], var[19], invstd[19];
    thaw_bn_forward_train(y, mean, var, invstd, x, gamma, beta, m, c, eps);
    double mu_y[19], var_y[19];
    bn_ref_stats(mu_y, var_y, y, m, c);
    for (int j = 0; j < c; j++) {
        double want_var = (double)gamma[j] * gamma[j] * var[j] / ((double)var[j] + eps);
        CHECK_MSG(fabs(mu_y[j] - beta[j]) <= 1e-5 * (1 + fabs(beta[j])),
                  "bn invariant: channel %d mean %.8g, beta %.8g", j, mu_y[j], beta[j]);
        CHECK_MSG(fabs(var_y[j] - want_var) <= 1e-5 * (1e-3 + want_var),
                  "bn invariant: channel %d var %.8g, want %.8g", j, var_y[j], want_var);
    }
    free(x), free(gamma), free(beta), free(y);
}

static void test_bn_forward_infer(void)
{
    static const struct {
        size_t m;
        int c;
    } shapes[] = {{1, 1}, {5, 3}, {31, 9}, {64, 77}, {3, 1024}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s].m;
        int c = shapes[s].c;
        float eps = 1.001e-5f;
        float *x = randn(m * c), *gamma = randn(c), *beta = randn(c), *mm = randn(c);
        float *mv = thaw_test_alloc(c);
        thaw_test_fill_uniform(mv, c, 0.1f, 4.0f, &rng);
        float *y = thaw_test_alloc(m * c), *want = thaw_test_alloc(m * c);
        for (int gb = 0; gb < 4; gb++) {
            const float *g = gb & 1 ? gamma : NULL, *b = gb & 2 ? beta : NULL;
            fill_nan(y, m * c);
            thaw_bn_forward_infer(y, x, g, b, mm, mv, m, c, eps);
            /* the affine map a*x + b, a = gamma/sqrt(mv+eps), b = beta - a*mm */
            for (size_t r = 0; r < m; r++) {
                for (int j = 0; j < c; j++) {
                    double a = (g ? g[j] : 1.0) / sqrt((double)mv[j] + eps);
                    double bb = (b ? b[j] : 0.0) - a * mm[j];
                    want[r * c + j] = (float)(a * x[r * c + j] + bb);
                }
            }
            char what[64];
            snprintf(what, sizeof what, "bn infer m=%zu c=%d gb=%d", m, c, gb);
            thaw_test_close(what, y, want, m * c, 1e-5, 1e-5);
        }
        /* with the moving stats set to the batch stats, inference == training */
        float *mean = thaw_test_alloc(c), *var = thaw_test_alloc(c), *invstd = thaw_test_alloc(c);
        float *yt = thaw_test_alloc(m * c);
        thaw_bn_forward_train(yt, mean, var, invstd, x, gamma, beta, m, c, eps);
        thaw_bn_forward_infer(y, x, gamma, beta, mean, var, m, c, eps);
        thaw_test_close("bn infer with batch stats == train", y, yt, m * c, 2e-4, 1e-4);
        free(x), free(gamma), free(beta), free(mm), free(mv), free(y), free(want);
        free(mean), free(var), free(invstd), free(yt);
    }
}

/* Double-precision reference of the training-mode backward (SEMANTICS.md §1.4). */
static void bn_ref_backward_train(double *dx, double *dgamma, double *dbeta, const float *dy,
                                  const float *x, const float *gamma, size_t m, int c, float eps)
{
    double *mu = malloc(c * sizeof(double)), *v = malloc(c * sizeof(double));
    bn_ref_stats(mu, v, x, m, c);
    for (int j = 0; j < c; j++) {
        double is = 1.0 / sqrt(v[j] + eps), g = gamma ? gamma[j] : 1.0;
        double mdy = 0, mdyx = 0;
        for (size_t r = 0; r < m; r++) {
            mdy += dy[r * c + j];
            mdyx += dy[r * c + j] * (x[r * c + j] - mu[j]) * is;
        }
        dbeta[j] = mdy;
        dgamma[j] = mdyx;
        mdy /= (double)m;
        mdyx /= (double)m;
        for (size_t r = 0; r < m; r++) {
            double xhat = (x[r * c + j] - mu[j]) * is;
            dx[r * c + j] = g * is * (dy[r * c + j] - mdy - xhat * mdyx);
        }
    }
    free(mu), free(v);
}

static void test_bn_backward_train_case(size_t m, int c, bool use_gamma)
{
    const float eps = 1e-3f;
    float *x = randn(m * c), *dy = randn(m * c), *gamma = use_gamma ? randn(c) : NULL;
    float *y = thaw_test_alloc(m * c), *mean = thaw_test_alloc(c), *var = thaw_test_alloc(c);
    float *invstd = thaw_test_alloc(c);
    thaw_bn_forward_train(y, mean, var, invstd, x, gamma, NULL, m, c, eps);

    double *rdx = malloc(m * c * sizeof(double)), *rdg = malloc(c * sizeof(double));
    double *rdb = malloc(c * sizeof(double));
    bn_ref_backward_train(rdx, rdg, rdb, dy, x, gamma, m, c, eps);

    /* prefilled: the kernel must accumulate */
    float *dx0 = randn(m * c), *dg0 = randn(c), *db0 = randn(c);
    float *dx = copy_of(dx0, m * c), *dg = copy_of(dg0, c), *db = copy_of(db0, c);
    float *want_dx = thaw_test_alloc(m * c), *want_dg = thaw_test_alloc(c);
    float *want_db = thaw_test_alloc(c);
    for (size_t i = 0; i < m * c; i++) want_dx[i] = (float)(dx0[i] + rdx[i]);
    for (int j = 0; j < c; j++) {
        want_dg[j] = (float)(dg0[j] + rdg[j]);
        want_db[j] = (float)(db0[j] + rdb[j]);
    }
    thaw_bn_backward_train(dx, dg, db, dy, x, mean, invstd, gamma, m, c);
    char what[64];
    snprintf(what, sizeof what, "bn backward train m=%zu c=%d g=%d", m, c, use_gamma);
    thaw_test_close(what, dx, want_dx, m * c, 1e-4, 1e-4);
    thaw_test_close(what, dg, want_dg, c, 1e-4, 1e-5);
    thaw_test_close(what, db, want_db, c, 1e-4, 1e-5);

    /* NULL outputs: each gradient alone gives the same values */
    float *dx2 = copy_of(dx0, m * c), *dg2 = copy_of(dg0, c), *db2 = copy_of(db0, c);
    thaw_bn_backward_train(dx2, NULL, NULL, dy, x, mean, invstd, gamma, m, c);
    thaw_bn_backward_train(NULL, dg2, NULL, dy, x, mean, invstd, gamma, m, c);
    thaw_bn_backward_train(NULL, NULL, db2, dy, x, mean, invstd, gamma, m, c);
    thaw_test_same("bn backward train dx alone", dx2, dx, m * c);
    thaw_test_same("bn backward train dgamma alone", dg2, dg, c);
    thaw_test_same("bn backward train dbeta alone", db2, db, c);
    thaw_bn_backward_train(NULL, NULL, NULL, dy, x, mean, invstd, gamma, m, c);

    free(x), free(dy), free(gamma), free(y), free(mean), free(var), free(invstd);
    free(rdx), free(rdg), free(rdb), free(dx0), free(dg0), free(db0), free(dx), free(dg), free(db);
    free(want_dx), free(want_dg), free(want_db), free(dx2), free(dg2), free(db2);
}

static void test_bn_backward_train(void)
{
    test_bn_backward_train_case(1, 3, true); /* m = 1: dx = 0 */
    test_bn_backward_train_case(2, 1, true);
    test_bn_backward_train_case(9, 5, false);
    test_bn_backward_train_case(41, 73, true);
    test_bn_backward_train_case(200, 16, true);
    test_bn_backward_train_case(7, 1030, false);
}

static void test_bn_backward_infer(void)
{
    static const struct {
        size_t m;
        int c;
    } shapes[] = {{1, 1}, {6, 7}, {33, 72}, {4, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s].m;
        int c = shapes[s].c;
        const float eps = 1e-3f;
        float *x = randn(m * c), *dy = randn(m * c), *gamma = randn(c), *mm = randn(c);
        float *mv = thaw_test_alloc(c);
        thaw_test_fill_uniform(mv, c, 0.2f, 3.0f, &rng);
        for (int use_gamma = 0; use_gamma < 2; use_gamma++) {
            const float *g = use_gamma ? gamma : NULL;
            float *dx0 = randn(m * c), *dg0 = randn(c), *db0 = randn(c);
            float *dx = copy_of(dx0, m * c), *dg = copy_of(dg0, c), *db = copy_of(db0, c);
            float *want_dx = thaw_test_alloc(m * c), *want_dg = thaw_test_alloc(c);
            float *want_db = thaw_test_alloc(c);
            for (int j = 0; j < c; j++) {
                double is = 1.0 / sqrt((double)mv[j] + eps), a = (g ? g[j] : 1.0) * is;
                double sdg = 0, sdb = 0;
                for (size_t r = 0; r < m; r++) {
                    size_t i = r * c + j;
                    want_dx[i] = (float)(dx0[i] + a * dy[i]);
                    sdb += dy[i];
                    sdg += dy[i] * (x[i] - (double)mm[j]) * is;
                }
                want_dg[j] = (float)(dg0[j] + sdg);
                want_db[j] = (float)(db0[j] + sdb);
            }
            thaw_bn_backward_infer(dx, dg, db, dy, x, g, mm, mv, m, c, eps);
            char what[64];
            snprintf(what, sizeof what, "bn backward infer m=%zu c=%d g=%d", m, c, use_gamma);
            thaw_test_close(what, dx, want_dx, m * c, 1e-5, 1e-5);
            thaw_test_close(what, dg, want_dg, c, 1e-5, 1e-5);
            thaw_test_close(what, db, want_db, c, 1e-5, 1e-5);
            /* NULL outputs */
            float *dx2 = copy_of(dx0, m * c), *dg2 = copy_of(dg0, c);
            thaw_bn_backward_infer(dx2, NULL, NULL, dy, x, g, mm, mv, m, c, eps);
            thaw_bn_backward_infer(NULL, dg2, NULL, dy, x, g, mm, mv, m, c, eps);
            thaw_test_same("bn backward infer dx alone", dx2, dx, m * c);
            thaw_test_same("bn backward infer dgamma alone", dg2, dg, c);
            free(dx0), free(dg0), free(db0), free(dx), free(dg), free(db);
            free(want_dx), free(want_dg), free(want_db), free(dx2), free(dg2);
        }
        free(x), free(dy), free(gamma), free(mm), free(mv);
    }
}

/* Runs one batch x = [1,2,3,4] (one channel) from moving stats (0, 1). */
static void bn_worked_update(float *mm, float *mv, float momentum, thaw_bn_var_mode mode)
{
    const float x[4] = {1, 2, 3, 4};
    float y[4], mean, var, invstd;
    thaw_bn_forward_train(y, &mean, &var, &invstd, x, NULL, NULL, 4, 1, 1e-3f);
    CHECK(mean == 2.5f && var == 1.25f);
    *mm = 0.0f;
    *mv = 1.0f;
    thaw_bn_update_moving(mm, mv, &mean, &var, 1, 4, momentum, mode, 1e-3f);
}

/* SEMANTICS.md §1.3 worked example. Each result must be within one float step
 * of the exact value of the formula (evaluated in double from the float
 * momentum and eps the kernel receives) and agree with the table's printed
 * digits. */
static void test_bn_worked_example(void)
{
    float mm, mv;
    const double m99 = 0.99f, m90 = 0.9f, eps = 1e-3f;

    /* Keras 3 (biased), momentum 0.99: 0.025 / 1.0025 */
    bn_worked_update(&mm, &mv, 0.99f, THAW_BN_VAR_BIASED);
    CHECK_MSG(within_ulps(mm, (1 - m99) * 2.5, 1), "keras3 mm %.9g", mm);
    CHECK_MSG(within_ulps(mv, m99 + (1 - m99) * 1.25, 1), "keras3 mv %.9g", mv);
    CHECK_MSG(fabs(mm - 0.025) <= 5e-7 && fabs(mv - 1.0025) <= 5e-7, "keras3 %.9g %.9g", mm, mv);

    /* tf.keras fused (unbiased), momentum 0.99: 1.006667 */
    bn_worked_update(&mm, &mv, 0.99f, THAW_BN_VAR_UNBIASED);
    CHECK_MSG(within_ulps(mv, m99 + (1 - m99) * (1.25 * 4 / 3), 1), "tf fused mv %.9g", mv);
    CHECK_MSG(fabs(mv - 1.006667) <= 5e-7, "tf fused mv %.9g", mv);

    /* PyTorch momentum 0.1 == Keras momentum 0.9, unbiased: 0.25 / 1.066667 */
    bn_worked_update(&mm, &mv, 0.9f, THAW_BN_VAR_UNBIASED);
    CHECK_MSG(within_ulps(mm, (1 - m90) * 2.5, 1), "torch mm %.9g", mm);
    CHECK_MSG(within_ulps(mv, m90 + (1 - m90) * (1.25 * 4 / 3), 1), "torch mv %.9g", mv);
    CHECK_MSG(fabs(mm - 0.25) <= 5e-7 && fabs(mv - 1.066667) <= 5e-7, "torch %.9g %.9g", mm, mv);

    /* momentum 0: the batch statistics themselves, 1.25 / 1.6667 / 1.6672 */
    bn_worked_update(&mm, &mv, 0.0f, THAW_BN_VAR_BIASED);
    CHECK(mm == 2.5f && mv == 1.25f);
    bn_worked_update(&mm, &mv, 0.0f, THAW_BN_VAR_UNBIASED);
    CHECK(mm == 2.5f && mv == (float)(5.0 / 3.0));
    CHECK(fabs(mv - 1.6667) <= 5e-5);
    bn_worked_update(&mm, &mv, 0.0f, THAW_BN_VAR_KERAS22);
    CHECK_MSG(mm == 2.5f && mv == (float)(1.25 * 4 / (4 - (1 + eps))), "keras22 mv %.9g", mv);
    CHECK(fabs(mv - 1.6672) <= 5e-5);

    /* momentum 1: nothing moves */
    bn_worked_update(&mm, &mv, 1.0f, THAW_BN_VAR_UNBIASED);
    CHECK(mm == 0.0f && mv == 1.0f);
}

/* Momentum 0 copies the batch stats exactly; the variance modes on other
 * counts, including the clamp of m-1 at 1. */
static void test_bn_update_modes(void)
{
    enum { C = 21 };
    float *mean = randn(C), var[C], mm[C], mv[C];
    thaw_test_fill_uniform(var, C, 0.0f, 5.0f, &rng);

    thaw_test_fill_uniform(mm, C, -1, 1, &rng);
    thaw_test_fill_uniform(mv, C, 0, 1, &rng);
    thaw_bn_update_moving(mm, mv, mean, var, C, 50, 0.0f, THAW_BN_VAR_BIASED, 1e-3f);
    thaw_test_same("bn momentum 0 mean", mm, mean, C);
    thaw_test_same("bn momentum 0 var", mv, var, C);

    static const struct {
        thaw_bn_var_mode mode;
        size_t count;
        double factor;
    } cases[] = {
        {THAW_BN_VAR_BIASED, 1, 1.0},
        {THAW_BN_VAR_BIASED, 7, 1.0},
        {THAW_BN_VAR_UNBIASED, 1, 1.0}, /* m-1 clamped to 1 */
        {THAW_BN_VAR_UNBIASED, 2, 2.0},
        {THAW_BN_VAR_UNBIASED, 10, 10.0 / 9.0},
        {THAW_BN_VAR_KERAS22, 10, 10.0 / (10.0 - (1.0 + (double)1e-3f))},
        {THAW_BN_VAR_KERAS22, 2, 2.0 / (2.0 - (1.0 + (double)1e-3f))},
    };
    const float momentum = 0.7f;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float mm0[C], mv0[C];
        thaw_test_fill_uniform(mm0, C, -1, 1, &rng);
        thaw_test_fill_uniform(mv0, C, 0, 2, &rng);
        memcpy(mm, mm0, sizeof mm);
        memcpy(mv, mv0, sizeof mv);
        thaw_bn_update_moving(mm, mv, mean, var, C, cases[k].count, momentum, cases[k].mode, 1e-3f);
        for (int j = 0; j < C; j++) {
            double p = momentum;
            double want_m = p * mm0[j] + (1 - p) * mean[j];
            double want_v = p * mv0[j] + (1 - p) * var[j] * cases[k].factor;
            CHECK_MSG(within_ulps(mm[j], want_m, 1) && within_ulps(mv[j], want_v, 1),
                      "bn update mode %d count %zu ch %d: (%.9g, %.9g) want (%.9g, %.9g)",
                      (int)cases[k].mode, cases[k].count, j, mm[j], mv[j], want_m, want_v);
        }
    }
    free(mean);
}

/* ========================================================================= */
/* Dense                                                                     */
/* ========================================================================= */

/* Naive row-major sgemm with double accumulation (the contract of backend.h). */
static void naive_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += av * bv;
            }
            float *cij = &c[(size_t)i * ldc + j];
            *cij = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * *cij));
        }
    }
}

static void blas_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static const thaw_backend naive_backend = {.name = "test-naive", .sgemm = naive_sgemm};
static const thaw_backend blas_backend = {.name = "test-cblas", .sgemm = blas_sgemm};

/* Reference dense kernels: plain loops, double accumulation. */
static void dense_forward_ref(float *y, const float *x, const float *kernel, const float *bias,
                              int n, int in, int out)
{
    for (int i = 0; i < n; i++) {
        for (int o = 0; o < out; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int p = 0; p < in; p++) s += (double)x[i * in + p] * kernel[p * out + o];
            y[i * out + o] = (float)s;
        }
    }
}

static void dense_backward_ref(float *dx, float *dkernel, float *dbias, const float *dy,
                               const float *x, const float *kernel, int n, int in, int out)
{
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < in; p++) {
            double s = dx[i * in + p];
            for (int o = 0; o < out; o++) s += (double)dy[i * out + o] * kernel[p * out + o];
            dx[i * in + p] = (float)s;
        }
    }
    for (int p = 0; p < in; p++) {
        for (int o = 0; o < out; o++) {
            double s = dkernel[p * out + o];
            for (int i = 0; i < n; i++) s += (double)x[i * in + p] * dy[i * out + o];
            dkernel[p * out + o] = (float)s;
        }
    }
    for (int o = 0; o < out; o++) {
        double s = dbias[o];
        for (int i = 0; i < n; i++) s += dy[i * out + o];
        dbias[o] = (float)s;
    }
}

static void test_dense_case(const thaw_backend *be, int n, int in, int out, bool use_bias)
{
    size_t nx = (size_t)n * in, nk = (size_t)in * out, ny = (size_t)n * out;
    float *x = randn(nx), *kernel = randn(nk), *bias = use_bias ? randn(out) : NULL;
    float *y = thaw_test_alloc(ny), *want_y = thaw_test_alloc(ny);
    fill_nan(y, ny); /* beta = 0 must not read y */
    thaw_dense_forward(y, x, kernel, bias, n, in, out, be);
    dense_forward_ref(want_y, x, kernel, bias, n, in, out);
    char what[96];
    snprintf(what, sizeof what, "dense forward %s n=%d in=%d out=%d bias=%d", be->name, n, in, out,
             use_bias);
    /* float sums of `in` products of N(0,1) values: rounding grows like sqrt(in) */
    thaw_test_close(what, y, want_y, ny, 5e-6 * sqrt(in), 1e-5);

    float *dy = randn(ny), *dx = randn(nx), *dk = randn(nk), *db = randn(out);
    float *want_dx = copy_of(dx, nx), *want_dk = copy_of(dk, nk), *want_db = copy_of(db, out);
    dense_backward_ref(want_dx, want_dk, want_db, dy, x, kernel, n, in, out);
    thaw_dense_backward_data(dx, dy, kernel, n, in, out, be);
    thaw_dense_backward_weights(dk, db, dy, x, n, in, out, be);
    snprintf(what, sizeof what, "dense backward %s n=%d in=%d out=%d", be->name, n, in, out);
    thaw_test_close(what, dx, want_dx, nx, 5e-6 * sqrt(out + 1), 1e-5);
    thaw_test_close(what, dk, want_dk, nk, 5e-6 * sqrt(n + 1), 1e-5);
    thaw_test_close(what, db, want_db, out, 1e-5, 1e-5);

    /* dbias NULL leaves dkernel identical */
    float *dk3 = randn(nk), *dk3_0 = copy_of(dk3, nk);
    thaw_dense_backward_weights(dk3, NULL, dy, x, n, in, out, be);
    float *dk4 = copy_of(dk3_0, nk), *db4 = thaw_test_alloc(out);
    thaw_dense_backward_weights(dk4, db4, dy, x, n, in, out, be);
    thaw_test_same("dense backward weights dbias NULL", dk3, dk4, nk);

    free(x), free(kernel), free(bias), free(y), free(want_y), free(dy), free(dx), free(dk);
    free(db), free(want_dx), free(want_dk), free(want_db), free(dk3), free(dk3_0);
    free(dk4), free(db4);
}

static void test_dense(void)
{
    static const int shapes[][3] = {{1, 1, 1},    {1, 7, 3},    {5, 13, 9},
                                    {17, 33, 10}, {3, 64, 130}, {32, 2048, 10}};
    const thaw_backend *bes[] = {&naive_backend, &blas_backend};
    for (int b = 0; b < 2; b++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            test_dense_case(bes[b], shapes[s][0], shapes[s][1], shapes[s][2], true);
            test_dense_case(bes[b], shapes[s][0], shapes[s][1], shapes[s][2], false);
        }
    }
    /* hand-computed: x (1,2) = [1, 2], kernel (2,3) = [[1,2,3],[4,5,6]], bias [0.5, 0, -1] */
    const float x[2] = {1, 2}, k[6] = {1, 2, 3, 4, 5, 6}, bias[3] = {0.5f, 0, -1};
    float y[3];
    thaw_dense_forward(y, x, k, bias, 1, 2, 3, &blas_backend);
    const float want[3] = {9.5f, 12, 14};
    thaw_test_same("dense hand-computed", y, want, 3);
}

/* ========================================================================= */
/* Pooling                                                                   */
/* ========================================================================= */

/* Reference max pool: for each output, scan the window in (ky, kx) order. */
static void maxpool_ref(float *y, int32_t *argmax, const float *x, const thaw_pool_shape *s)
{
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++)
                for (int ch = 0; ch < s->c; ch++) {
                    float best = -INFINITY;
                    int32_t at = -1;
                    for (int ky = 0; ky < s->kh; ky++)
                        for (int kx = 0; kx < s->kw; kx++) {
                            int iy = oy * s->sh + ky, ix = ox * s->sw + kx;
                            int32_t i = ((b * s->h + iy) * s->w + ix) * s->c + ch;
                            if (at < 0 || x[i] > best) best = x[i], at = i;
                        }
                    size_t o = (((size_t)b * s->oh + oy) * s->ow + ox) * s->c + ch;
                    y[o] = best;
                    argmax[o] = at;
                }
}

static void test_maxpool_case(int n, int h, int w, int c, int k, int st, bool ties)
{
    thaw_pool_shape s;
    CHECK(thaw_pool_shape_init(&s, n, h, w, c, k, k, st, st) == 0);
    CHECK(s.oh == (h - k) / st + 1 && s.ow == (w - k) / st + 1);
    size_t nx = (size_t)n * h * w * c, ny = (size_t)n * s.oh * s.ow * c;
    float *x = randn(nx);
    if (ties) /* few distinct values: many ties */
        for (size_t i = 0; i < nx; i++) x[i] = (float)(thaw_rng_below(&rng, 3));
    float *y = thaw_test_alloc(ny), *want_y = thaw_test_alloc(ny);
    int32_t *am = calloc(ny, sizeof(int32_t)), *want_am = calloc(ny, sizeof(int32_t));
    thaw_maxpool_forward(y, am, x, &s);
    maxpool_ref(want_y, want_am, x, &s);
    char what[96];
    snprintf(what, sizeof what, "maxpool n=%d h=%d w=%d c=%d k=%d s=%d ties=%d", n, h, w, c, k, st,
             ties);
    thaw_test_same(what, y, want_y, ny);
    CHECK_MSG(memcmp(am, want_am, ny * sizeof(int32_t)) == 0, "%s: argmax differs", what);

    float *dy = randn(ny), *dx = randn(nx), *want_dx = thaw_test_alloc(nx);
    double *acc = calloc(nx, sizeof(double));
    for (size_t i = 0; i < nx; i++) acc[i] = dx[i];
    for (size_t o = 0; o < ny; o++) acc[want_am[o]] += dy[o];
    for (size_t i = 0; i < nx; i++) want_dx[i] = (float)acc[i];
    thaw_maxpool_backward(dx, dy, am, &s);
    thaw_test_close(what, dx, want_dx, nx, 1e-6, 1e-6);
    free(x), free(y), free(want_y), free(am), free(want_am), free(dy), free(dx), free(want_dx);
    free(acc);
}

static void test_maxpool(void)
{
    test_maxpool_case(1, 4, 4, 1, 2, 2, false);
    test_maxpool_case(2, 7, 9, 3, 3, 2, false);
    test_maxpool_case(1, 5, 5, 2, 3, 1, false); /* overlapping windows: backward sums */
    test_maxpool_case(3, 9, 9, 17, 3, 2, false);
    test_maxpool_case(2, 6, 7, 5, 3, 2, true);
    test_maxpool_case(1, 3, 3, 1, 3, 3, false);

    thaw_pool_shape s;
    CHECK(thaw_pool_shape_init(&s, 1, 2, 2, 1, 3, 3, 1, 1) == -1);
    CHECK(thaw_pool_shape_init(&s, 0, 4, 4, 1, 2, 2, 2, 2) == -1);
    CHECK(thaw_pool_shape_init(&s, 1, 4, 4, 1, 2, 2, 0, 2) == -1);

    /* hand-made ties: a 3x3 window of equal values picks the top-left one;
     * the maximum appearing at (1,2) and (2,0) picks (1,2). */
    CHECK(thaw_pool_shape_init(&s, 1, 3, 3, 2, 3, 3, 1, 1) == 0);
    float x[18];
    for (int i = 0; i < 9; i++) x[2 * i] = 7.0f, x[2 * i + 1] = 0.0f;
    x[(1 * 3 + 2) * 2 + 1] = 5.0f;
    x[(2 * 3 + 0) * 2 + 1] = 5.0f;
    float y[2];
    int32_t am[2];
    thaw_maxpool_forward(y, am, x, &s);
    CHECK(y[0] == 7.0f && am[0] == 0);
    CHECK(y[1] == 5.0f && am[1] == (1 * 3 + 2) * 2 + 1);
    float dy[2] = {1.5f, -2.0f}, dx[18] = {0};
    thaw_maxpool_backward(dx, dy, am, &s);
    thaw_maxpool_backward(dx, dy, am, &s); /* accumulates */
    CHECK(dx[0] == 3.0f && dx[(1 * 3 + 2) * 2 + 1] == -4.0f);
    int nonzero = 0;
    for (int i = 0; i < 18; i++) nonzero += dx[i] != 0.0f;
    CHECK(nonzero == 2);
}

static void test_gap(void)
{
    static const int shapes[][4] = {{1, 1, 1, 1}, {2, 3, 5, 7}, {4, 7, 7, 130}, {1, 2, 2, 2048}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int n = shapes[k][0], h = shapes[k][1], w = shapes[k][2], c = shapes[k][3];
        size_t nx = (size_t)n * h * w * c, ny = (size_t)n * c;
        float *x = randn(nx), *y = thaw_test_alloc(ny), *want = thaw_test_alloc(ny);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                for (int p = 0; p < h * w; p++) s += x[((size_t)b * h * w + p) * c + ch];
                want[(size_t)b * c + ch] = (float)(s / (h * w));
            }
        thaw_gap_forward(y, x, n, h, w, c);
        char what[64];
        snprintf(what, sizeof what, "gap n=%d h=%d w=%d c=%d", n, h, w, c);
        thaw_test_close(what, y, want, ny, 1e-6, 1e-6);

        float *dy = randn(ny), *dx = randn(nx), *want_dx = copy_of(dx, nx);
        for (int b = 0; b < n; b++)
            for (int p = 0; p < h * w; p++)
                for (int ch = 0; ch < c; ch++)
                    want_dx[((size_t)b * h * w + p) * c + ch] += dy[(size_t)b * c + ch] / (h * w);
        thaw_gap_backward(dx, dy, n, h, w, c);
        thaw_test_close(what, dx, want_dx, nx, 1e-6, 1e-6);
        if (h * w == 1) thaw_test_same("gap 1x1 is the identity", y, x, nx);
        free(x), free(y), free(want), free(dy), free(dx), free(want_dx);
    }
}

/* ========================================================================= */
/* Element-wise                                                              */
/* ========================================================================= */

static void test_relu(void)
{
    const float x[6] = {-2.0f, -0.0f, 0.0f, 1e-30f, 3.0f, -1e-30f};
    float y[6], dx[6] = {1, 1, 1, 1, 1, 1};
    const float dy[6] = {10, 20, 30, 40, 50, 60};
    thaw_relu_forward(y, x, 6);
    CHECK(y[0] == 0.0f && y[1] == 0.0f && y[2] == 0.0f && y[3] == 1e-30f && y[4] == 3.0f &&
          y[5] == 0.0f);
    thaw_relu_backward(dx, dy, y, 6);
    /* the gradient at exactly 0 is 0 */
    CHECK(dx[0] == 1 && dx[1] == 1 && dx[2] == 1 && dx[3] == 41 && dx[4] == 51 && dx[5] == 1);

    for (size_t n = 1; n < 70; n += 9) {
        float *a = randn(n), *b = thaw_test_alloc(n), *want = thaw_test_alloc(n);
        float *g = randn(n), *d = randn(n), *want_d = copy_of(d, n);
        if (n > 3) a[2] = 0.0f;
        for (size_t i = 0; i < n; i++) {
            want[i] = a[i] > 0 ? a[i] : 0.0f;
            if (a[i] > 0) want_d[i] += g[i];
        }
        thaw_relu_forward(b, a, n);
        thaw_test_same("relu forward", b, want, n);
        thaw_relu_backward(d, g, b, n);
        thaw_test_same("relu backward", d, want_d, n);
        free(a), free(b), free(want), free(g), free(d), free(want_d);
    }
}

static void test_add_accumulate(void)
{
    for (size_t n = 1; n < 100; n += 11) {
        float *a = randn(n), *b = randn(n), *y = thaw_test_alloc(n), *want = thaw_test_alloc(n);
        float *acc = copy_of(a, n);
        for (size_t i = 0; i < n; i++) want[i] = a[i] + b[i];
        thaw_add_forward(y, a, b, n);
        thaw_test_same("add", y, want, n);
        thaw_accumulate(acc, b, n);
        thaw_test_same("accumulate", acc, want, n);
        free(a), free(b), free(y), free(want), free(acc);
    }
}

static void test_dropout(void)
{
    const size_t n = 200003;
    float *x = randn(n), *y = thaw_test_alloc(n), *mask = thaw_test_alloc(n);
    thaw_rng r, r2;

    /* rate 0: identity, mask 1, still one draw per element */
    thaw_rng_seed(&r, 42, 7);
    r2 = r;
    thaw_dropout_forward(y, mask, x, n, 0.0f, &r);
    thaw_test_same("dropout rate 0 identity", y, x, n);
    bool ones = true;
    for (size_t i = 0; i < n; i++) ones &= mask[i] == 1.0f;
    CHECK(ones);
    for (size_t i = 0; i < n; i++) (void)thaw_rng_uniform(&r2);
    CHECK(thaw_rng_u32(&r) == thaw_rng_u32(&r2));

    /* rate 1: zeros */
    thaw_rng_seed(&r, 42, 7);
    r2 = r;
    thaw_dropout_forward(y, mask, x, n, 1.0f, &r);
    bool zeros = true;
    for (size_t i = 0; i < n; i++) zeros &= y[i] == 0.0f && mask[i] == 0.0f;
    CHECK(zeros);
    for (size_t i = 0; i < n; i++) (void)thaw_rng_uniform(&r2);
    CHECK(thaw_rng_u32(&r) == thaw_rng_u32(&r2));

    static const float rates[] = {0.1f, 0.3f, 0.5f, 0.75f, 0.9f};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        float rate = rates[k];
        thaw_rng_seed(&r, 1000 + k, 3);
        r2 = r;
        thaw_dropout_forward(y, mask, x, n, rate, &r);
        float scale = (float)(1.0 / (1.0 - rate));
        size_t kept = 0;
        bool rule = true, values = true, exact = true;
        for (size_t i = 0; i < n; i++) {
            float u = thaw_rng_uniform(&r2);
            bool keep = u >= rate;
            kept += keep;
            rule &= mask[i] == (keep ? scale : 0.0f);
            values &= y[i] == x[i] * mask[i] && (keep || y[i] == 0.0f);
            /* kept values are x/(1-rate) up to the rounding of the scale */
            if (keep) exact &= fabs(y[i] - x[i] / (1.0 - rate)) <= 2.4e-7 * fabs(x[i] / (1 - rate));
        }
        CHECK_MSG(rule, "dropout rate %g: mask is not [u >= rate] / (1-rate)", rate);
        CHECK_MSG(values && exact, "dropout rate %g: kept values not x/(1-rate)", rate);
        /* the fraction kept: 1-rate within 6 standard deviations */
        double frac = (double)kept / n, sd = sqrt(rate * (1.0 - rate) / n);
        CHECK_MSG(fabs(frac - (1.0 - rate)) <= 6 * sd, "dropout rate %g: kept %.5f", rate, frac);
        if (rate == 0.5f || rate == 0.75f) { /* power-of-two scales: bit-exact division */
            bool bits = true;
            for (size_t i = 0; i < n; i++) bits &= mask[i] == 0.0f || y[i] == x[i] / (1.0f - rate);
            CHECK(bits);
        }
    }

    /* determinism: the same seed gives the same mask; another seed does not */
    float *mask2 = thaw_test_alloc(n), *y2 = thaw_test_alloc(n);
    thaw_rng_seed(&r, 5, 1);
    thaw_dropout_forward(y, mask, x, n, 0.4f, &r);
    thaw_rng_seed(&r, 5, 1);
    thaw_dropout_forward(y2, mask2, x, n, 0.4f, &r);
    thaw_test_same("dropout same seed mask", mask2, mask, n);
    thaw_test_same("dropout same seed output", y2, y, n);
    thaw_rng_seed(&r, 6, 1);
    thaw_dropout_forward(y2, mask2, x, n, 0.4f, &r);
    CHECK(memcmp(mask, mask2, n * sizeof(float)) != 0);

    /* backward: dx += dy * mask */
    float *dy = randn(n), *dx = randn(n), *want = copy_of(dx, n);
    for (size_t i = 0; i < n; i++) want[i] += dy[i] * mask[i];
    thaw_dropout_backward(dx, dy, mask, n);
    thaw_test_same("dropout backward", dx, want, n);

    free(x), free(y), free(mask), free(mask2), free(y2), free(dy), free(dx), free(want);
}

static void test_pad_case(int n, int h, int w, int c, int pt, int pb, int pl, int pr)
{
    int yh = h + pt + pb, yw = w + pl + pr;
    size_t nx = (size_t)n * h * w * c, ny = (size_t)n * yh * yw * c;
    float *x = randn(nx), *y = thaw_test_alloc(ny), *want = thaw_test_alloc(ny);
    fill_nan(y, ny);
    for (int b = 0; b < n; b++)
        for (int r = 0; r < yh; r++)
            for (int q = 0; q < yw; q++)
                for (int ch = 0; ch < c; ch++) {
                    int xr = r - pt, xq = q - pl;
                    bool in = xr >= 0 && xr < h && xq >= 0 && xq < w;
                    want[(((size_t)b * yh + r) * yw + q) * c + ch] =
                        in ? x[(((size_t)b * h + xr) * w + xq) * c + ch] : 0.0f;
                }
    thaw_pad_forward(y, x, n, h, w, c, pt, pb, pl, pr);
    char what[96];
    snprintf(what, sizeof what, "pad n=%d h=%d w=%d c=%d (%d,%d,%d,%d)", n, h, w, c, pt, pb, pl,
             pr);
    thaw_test_same(what, y, want, ny);

    float *dy = randn(ny), *dx = randn(nx), *want_dx = copy_of(dx, nx);
    for (int b = 0; b < n; b++)
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++)
                for (int ch = 0; ch < c; ch++)
                    want_dx[(((size_t)b * h + r) * w + q) * c + ch] +=
                        dy[(((size_t)b * yh + r + pt) * yw + q + pl) * c + ch];
    thaw_pad_backward(dx, dy, n, h, w, c, pt, pb, pl, pr);
    thaw_test_same(what, dx, want_dx, nx);
    free(x), free(y), free(want), free(dy), free(dx), free(want_dx);
}

static void test_pad(void)
{
    test_pad_case(1, 1, 1, 1, 0, 0, 0, 0);
    test_pad_case(2, 5, 4, 3, 3, 3, 3, 3);  /* conv1_pad */
    test_pad_case(1, 6, 7, 2, 1, 1, 1, 1);  /* pool1_pad */
    test_pad_case(3, 4, 5, 17, 0, 1, 2, 0); /* asymmetric */
    test_pad_case(1, 3, 3, 1, 2, 0, 0, 1);
}

/* ========================================================================= */
/* Softmax cross-entropy                                                     */
/* ========================================================================= */

static void test_softmax_xent(void)
{
    enum { N = 5, K = 7 };
    float logits[N * K];
    thaw_test_fill_uniform(logits, N * K, -4, 4, &rng);
    const int32_t labels[N] = {0, 6, 3, 3, 1};
    float probs[N * K], dl[N * K], want_p[N * K], want_dl[N * K];
    double want_loss = 0;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < K; j++) s += exp((double)logits[i * K + j]);
        want_loss += log(s) - logits[i * K + labels[i]];
        for (int j = 0; j < K; j++) {
            double p = exp((double)logits[i * K + j]) / s;
            want_p[i * K + j] = (float)p;
            want_dl[i * K + j] = (float)((p - (j == labels[i])) / N);
        }
    }
    want_loss /= N;
    double loss = thaw_softmax_xent(dl, probs, logits, labels, N, K);
    CHECK_MSG(fabs(loss - want_loss) <= 1e-12 * (1 + fabs(want_loss)), "xent loss %.17g want %.17g",
              loss, want_loss);
    thaw_test_close("xent probs", probs, want_p, N * K, 1e-7, 1e-6);
    thaw_test_close("xent dlogits", dl, want_dl, N * K, 1e-8, 1e-6);
    for (int i = 0; i < N; i++) {
        double sp = 0, sd = 0;
        for (int j = 0; j < K; j++) sp += probs[i * K + j], sd += dl[i * K + j];
        CHECK(fabs(sp - 1) < 1e-6 && fabs(sd) < 1e-7);
    }
    /* dlogits is overwritten, probs/dlogits may be NULL */
    float dl2[N * K];
    fill_nan(dl2, N * K);
    double loss2 = thaw_softmax_xent(dl2, NULL, logits, labels, N, K);
    CHECK(loss2 == loss);
    thaw_test_same("xent dlogits overwritten", dl2, dl, N * K);
    CHECK(thaw_softmax_xent(NULL, NULL, logits, labels, N, K) == loss);

    /* thaw_softmax, also in place */
    float p2[N * K], inplace[N * K];
    thaw_softmax(p2, logits, N, K);
    thaw_test_same("softmax == xent probs", p2, probs, N * K);
    memcpy(inplace, logits, sizeof inplace);
    thaw_softmax(inplace, inplace, N, K);
    thaw_test_same("softmax in place", inplace, probs, N * K);

    /* huge logits: no overflow. loss = logsumexp - z[label]. */
    const float big[2 * 3] = {1000.0f, 0.0f, -1000.0f, 3e38f, -3e38f, 3e38f};
    const int32_t bl[2] = {1, 0};
    float bp[6], bd[6];
    double bloss = thaw_softmax_xent(bd, bp, big, bl, 2, 3);
    /* row 0: 1000 - 0; row 1: log 2 */
    CHECK_MSG(fabs(bloss - (1000.0 + log(2.0)) / 2) < 1e-9, "xent huge logits loss %.17g", bloss);
    bool finite = true;
    for (int j = 0; j < 6; j++) finite &= isfinite(bp[j]) && isfinite(bd[j]);
    CHECK(finite);
    CHECK(bp[0] == 1.0f && bp[1] == 0.0f && bp[2] == 0.0f);
    CHECK(bp[3] == 0.5f && bp[4] == 0.0f && bp[5] == 0.5f);
    CHECK(bd[0] == 0.5f && bd[1] == -0.5f && bd[2] == 0.0f);
    CHECK(bd[3] == -0.25f && bd[4] == 0.0f && bd[5] == 0.25f);
    float lp[3];
    thaw_softmax(lp, big, 1, 3);
    CHECK(lp[0] == 1.0f && lp[1] == 0.0f && lp[2] == 0.0f);

    /* one class: loss 0, gradient 0 */
    const float one[3] = {5.0f, -2.0f, 100.0f};
    const int32_t zl[3] = {0, 0, 0};
    float od[3];
    CHECK(thaw_softmax_xent(od, NULL, one, zl, 3, 1) == 0.0);
    CHECK(od[0] == 0.0f && od[1] == 0.0f && od[2] == 0.0f);

    /* an invalid label makes the loss NaN */
    const int32_t badl[N] = {0, 7, 3, 3, 1};
    CHECK(isnan(thaw_softmax_xent(dl, NULL, logits, badl, N, K)));
    const int32_t negl[N] = {0, 1, -1, 3, 1};
    CHECK(isnan(thaw_softmax_xent(NULL, NULL, logits, negl, N, K)));
}

int main(void)
{
    thaw_rng_seed(&rng, 2024, 11);

    test_bn_forward_train();
    test_bn_single_row();
    test_bn_invariants();
    test_bn_forward_infer();
    test_bn_backward_train();
    test_bn_backward_infer();
    test_bn_worked_example();
    test_bn_update_modes();

    test_dense();

    test_maxpool();
    test_gap();

    test_relu();
    test_add_accumulate();
    test_dropout();
    test_pad();

    test_softmax_xent();

    return thaw_test_finish();
}
