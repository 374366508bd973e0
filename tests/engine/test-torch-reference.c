/* The conv and batch-norm kernels against PyTorch, tensor by tensor.
 *
 * Reference: tests/fixtures/conv.thawfix and bn.thawfix, written by
 * tests/fixtures/gen_torch_fixtures.py (PyTorch, float64, from float32-rounded
 * inputs). Each case is discovered from the file ("<case>/x"), so a case added
 * to the generator is tested without touching this file.
 *
 * Tolerances (element passes if |got - want| <= atol + rtol*|want|):
 *   forward values (conv y, BN y, batch mean/var, moving statistics):
 *     rtol 1e-5, atol 1e-6 * max|want|
 *   gradients (dx, dkernel, dbias, dgamma, dbeta):
 *     rtol 1e-4, atol 1e-5 * max|want|
 *     (BN dx: atol 1e-5 * max(gamma*invstd) * max|dy|, the size of the terms
 *     that cancel in training mode; see bn_compare_grads)
 * The atol only matters for elements near 0 (a sum that cancels), judged on
 * the scale of their tensor, so it is a fraction of that tensor's largest
 * value. Run with THAW_TEST_VERBOSE=1 for max abs/rel errors of every tensor.
 *
 * Backward kernels accumulate (+=): every backward runs twice into the same
 * buffers and the second result must be twice the reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kernels/backend.h"
#include "kernels/batchnorm.h"
#include "kernels/conv2d.h"
#include "testutil.h"

#define FWD_RTOL  1e-5
#define FWD_ATOL  1e-6
#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-5

#define REGEN_HINT "regenerate with: /usr/bin/python3 tests/fixtures/gen_torch_fixtures.py"

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

/* thaw_test_close of got against times*want (times 2: a backward kernel run
 * twice into one buffer), with atol relative to the larger of max|want| and
 * `scale` (the magnitude of the terms that cancel, 0 when irrelevant). */
static void compare_n(const char *what, const float *got, const float *want, size_t n, int times,
                      double rtol, double atol, double scale)
{
    float *w = thaw_test_alloc(n);
    for (size_t i = 0; i < n; i++) w[i] = (float)times * want[i];
    char buf[160];
    snprintf(buf, sizeof buf, "%s%s", what, times > 1 ? " (accumulated twice)" : "");
    thaw_fixture_compare(buf, got, w, n, rtol, atol, times * scale);
    free(w);
}

static void compare(const char *what, const float *got, const float *want, size_t n, double rtol,
                    double atol)
{
    compare_n(what, got, want, n, 1, rtol, atol, 0);
}

static thaw_fixture *load_fixture(const char *file)
{
    thaw_fixture *fx = thaw_fixture_load(file);
    CHECK_MSG(fx != NULL, "cannot load fixture %s; " REGEN_HINT, file);
    return fx;
}

/* Fetches "<prefix>/<key>"; with want_count > 0 also checks its size. Records
 * a failure naming the tensor when it is missing (unless optional). */
static const float *get(const thaw_fixture *fx, const char *prefix, const char *key,
                        size_t want_count, bool optional)
{
    char name[256];
    size_t count;
    snprintf(name, sizeof name, "%s/%s", prefix, key);
    const float *p = thaw_fixture_get(fx, name, &count, NULL, NULL);
    if (!p) {
        if (!optional) CHECK_MSG(0, "%s: tensor '%s' missing; " REGEN_HINT, fx->path, name);
        return NULL;
    }
    if (want_count && count != want_count) {
        CHECK_MSG(0, "%s: tensor '%s' has %zu values, expected %zu", fx->path, name, count,
                  want_count);
        return NULL;
    }
    return p;
}

/* Collects the case names: every "<case>/<suffix>" tensor, in file order. */
static int list_cases(const thaw_fixture *fx, const char *suffix, char cases[][64], int max)
{
    int n = 0;
    size_t sl = strlen(suffix);
    for (int i = 0; i < fx->n && n < max; i++) {
        const char *name = fx->tensors[i].name;
        size_t len = strlen(name);
        if (len <= sl + 1 || len - sl >= 64 || strcmp(name + len - sl, suffix) != 0) continue;
        if (name[len - sl - 1] != '/') continue;
        memcpy(cases[n], name, len - sl - 1);
        cases[n][len - sl - 1] = '\0';
        n++;
    }
    return n;
}

/* ---- convolution --------------------------------------------------------- */

typedef struct conv_case {
    const char *name;
    thaw_conv_shape s;
    const float *x, *kernel, *bias, *y, *dy, *dx, *dkernel, *dbias;
    size_t nx, nk, ny;
} conv_case;

static int conv_case_load(conv_case *cc, const thaw_fixture *fx, const char *name)
{
    const thaw_fixture_tensor *tx, *tk, *ty;
    char buf[256];
    memset(cc, 0, sizeof *cc);
    cc->name = name;
    snprintf(buf, sizeof buf, "%s/x", name);
    tx = thaw_fixture_find(fx, buf);
    snprintf(buf, sizeof buf, "%s/kernel", name);
    tk = thaw_fixture_find(fx, buf);
    snprintf(buf, sizeof buf, "%s/y", name);
    ty = thaw_fixture_find(fx, buf);
    const float *pad = get(fx, name, "pad", 4, false);
    const float *stride = get(fx, name, "stride", 2, false);
    if (!tx || !tk || !ty || !pad || !stride || tx->ndim != 4 || tk->ndim != 4 || ty->ndim != 4) {
        CHECK_MSG(0, "conv case %s: x/kernel/y missing or not 4-D; " REGEN_HINT, name);
        return -1;
    }
    if (tk->dims[2] != tx->dims[3]) {
        CHECK_MSG(0, "conv case %s: kernel has %d input channels, x has %d", name, tk->dims[2],
                  tx->dims[3]);
        return -1;
    }
    int rc =
        thaw_conv_shape_init(&cc->s, tx->dims[0], tx->dims[1], tx->dims[2], tx->dims[3],
                             tk->dims[3], tk->dims[0], tk->dims[1], (int)stride[0], (int)stride[1],
                             (int)pad[0], (int)pad[1], (int)pad[2], (int)pad[3]);
    CHECK_MSG(rc == 0, "conv case %s: thaw_conv_shape_init failed", name);
    if (rc) return -1;
    const thaw_conv_shape *s = &cc->s;
    CHECK_MSG(s->oh == ty->dims[1] && s->ow == ty->dims[2] && s->o == ty->dims[3] &&
                  s->n == ty->dims[0],
              "conv case %s: output %dx%dx%dx%d, PyTorch %dx%dx%dx%d", name, s->n, s->oh, s->ow,
              s->o, ty->dims[0], ty->dims[1], ty->dims[2], ty->dims[3]);
    if (s->oh != ty->dims[1] || s->ow != ty->dims[2]) return -1;

    cc->nx = tx->count;
    cc->nk = tk->count;
    cc->ny = ty->count;
    cc->x = tx->data;
    cc->kernel = tk->data;
    cc->y = ty->data;
    cc->bias = get(fx, name, "bias", (size_t)s->o, true);
    cc->dy = get(fx, name, "dy", cc->ny, false);
    cc->dx = get(fx, name, "dx", cc->nx, false);
    cc->dkernel = get(fx, name, "dkernel", cc->nk, false);
    cc->dbias = get(fx, name, "dbias", (size_t)s->o, false);
    return cc->dy && cc->dx && cc->dkernel && cc->dbias ? 0 : -1;
}

/* Keras "same" padding, where the case name says the fixture used it. */
static void check_same_padding(const conv_case *cc)
{
    if (!strstr(cc->name, "same")) return;
    const thaw_conv_shape *s = &cc->s;
    int pt, pb, pl, pr;
    thaw_conv_same_padding(s->h, s->kh, s->sh, &pt, &pb);
    thaw_conv_same_padding(s->w, s->kw, s->sw, &pl, &pr);
    CHECK_MSG(pt == s->pt && pb == s->pb && pl == s->pl && pr == s->pr,
              "conv case %s: thaw_conv_same_padding gives (%d,%d,%d,%d), fixture (%d,%d,%d,%d)",
              cc->name, pt, pb, pl, pr, s->pt, s->pb, s->pl, s->pr);
}

/* Runs one case through the backend (be) or, when be is NULL, the _ref kernels. */
static void conv_case_run(const conv_case *cc, const thaw_backend *be)
{
    const thaw_conv_shape *s = &cc->s;
    const char *tag = be ? be->name : "ref";
    size_t o = (size_t)s->o;
    size_t ns = be ? be->conv_scratch_floats(s) : 0;
    float *scratch = ns ? thaw_test_alloc(ns) : NULL;
    float *y = thaw_test_alloc(cc->ny);
    float *dx = thaw_test_alloc(cc->nx);
    float *dk = thaw_test_alloc(cc->nk);
    float *db = thaw_test_alloc(o);
    char what[160];

    /* forward: poison the output first, it must be overwritten */
    for (size_t i = 0; i < cc->ny; i++) y[i] = 1e3f;
    if (be)
        be->conv_forward(y, cc->x, cc->kernel, cc->bias, s, scratch);
    else
        thaw_conv2d_forward_ref(y, cc->x, cc->kernel, cc->bias, s);
    snprintf(what, sizeof what, "conv %s [%s] y", cc->name, tag);
    compare(what, y, cc->y, cc->ny, FWD_RTOL, FWD_ATOL);

    /* backward, twice: the kernels accumulate. The second weights pass gives
     * dbias = NULL when the case has no bias (it must then stay untouched). */
    for (int pass = 1; pass <= 2; pass++) {
        float *dbp = (pass == 2 && !cc->bias) ? NULL : db;
        if (be) {
            be->conv_backward_data(dx, cc->dy, cc->kernel, s, scratch);
            be->conv_backward_weights(dk, dbp, cc->dy, cc->x, s, scratch);
        } else {
            thaw_conv2d_backward_data_ref(dx, cc->dy, cc->kernel, s);
            thaw_conv2d_backward_weights_ref(dk, dbp, cc->dy, cc->x, s);
        }
        snprintf(what, sizeof what, "conv %s [%s] dx", cc->name, tag);
        compare_n(what, dx, cc->dx, cc->nx, pass, GRAD_RTOL, GRAD_ATOL, 0);
        snprintf(what, sizeof what, "conv %s [%s] dkernel", cc->name, tag);
        compare_n(what, dk, cc->dkernel, cc->nk, pass, GRAD_RTOL, GRAD_ATOL, 0);
        snprintf(what, sizeof what, "conv %s [%s] dbias%s", cc->name, tag,
                 dbp ? "" : " (untouched when NULL)");
        compare_n(what, db, cc->dbias, o, dbp ? pass : 1, GRAD_RTOL, GRAD_ATOL, 0);
    }
    free(scratch);
    free(y);
    free(dx);
    free(dk);
    free(db);
}

static void test_conv(void)
{
    thaw_fixture *fx = load_fixture("conv.thawfix");
    if (!fx) return;
    char cases[64][64];
    int n = list_cases(fx, "x", cases, 64);
    CHECK_MSG(n >= 6, "conv.thawfix: only %d cases; " REGEN_HINT, n);
    for (int i = 0; i < n; i++) {
        conv_case cc;
        if (conv_case_load(&cc, fx, cases[i])) continue;
        check_same_padding(&cc);
        conv_case_run(&cc, &thaw_backend_openblas);
        conv_case_run(&cc, NULL);
    }
    thaw_fixture_free(fx);
}

/* ---- batch normalisation -------------------------------------------------- */

typedef struct bn_case {
    const char *name;
    size_t m;
    int c;
    float eps;
    const float *x, *gamma, *beta, *moving_mean, *moving_var, *y, *dy, *dx, *dgamma, *dbeta;
} bn_case;

/* Loads the tensors common to every BN case; x's last dim is the channel. */
static int bn_case_load(bn_case *bc, const thaw_fixture *fx, const char *name)
{
    char buf[256];
    memset(bc, 0, sizeof *bc);
    bc->name = name;
    snprintf(buf, sizeof buf, "%s/x", name);
    const thaw_fixture_tensor *tx = thaw_fixture_find(fx, buf);
    const float *eps = get(fx, name, "eps", 1, false);
    if (!tx || !eps || tx->ndim < 2) {
        CHECK_MSG(0, "bn case %s: x or eps missing; " REGEN_HINT, name);
        return -1;
    }
    bc->c = tx->dims[tx->ndim - 1];
    bc->m = tx->count / (size_t)bc->c;
    bc->eps = eps[0];
    bc->x = tx->data;
    size_t c = (size_t)bc->c, n = tx->count;
    bc->gamma = get(fx, name, "gamma", c, true);
    bc->beta = get(fx, name, "beta", c, true);
    bc->moving_mean = get(fx, name, "moving_mean", c, false);
    bc->moving_var = get(fx, name, "moving_var", c, false);
    bc->y = get(fx, name, "y", n, false);
    bc->dy = get(fx, name, "dy", n, false);
    bc->dx = get(fx, name, "dx", n, false);
    bc->dgamma = get(fx, name, "dgamma", c, bc->gamma == NULL);
    bc->dbeta = get(fx, name, "dbeta", c, bc->beta == NULL);
    if (!bc->moving_mean || !bc->moving_var || !bc->y || !bc->dy || !bc->dx) return -1;
    if (bc->gamma && !bc->dgamma) return -1;
    if (bc->beta && !bc->dbeta) return -1;
    return 0;
}

/* Backward results: dx, and dgamma/dbeta when the case has gamma/beta.
 * var is the variance the layer normalised with (batch or moving). In
 * training mode dx = gamma*invstd*(dy - mean(dy) - xhat*mean(dy*xhat)) is a
 * difference of terms of size gamma*invstd*|dy| that can cancel almost
 * completely (with m = 2 rows, xhat = +-1 and dx is O(eps)), so dx's atol is
 * relative to max(gamma*invstd) * max|dy| rather than to max|dx|. */
static void bn_compare_grads(const bn_case *bc, int pass, const float *dx, const float *dg,
                             const float *db, const float *var)
{
    size_t c = (size_t)bc->c;
    double term = 0;
    for (size_t j = 0; j < c; j++) {
        double a = (bc->gamma ? fabs(bc->gamma[j]) : 1.0) / sqrt((double)var[j] + bc->eps);
        if (a > term) term = a;
    }
    term *= max_abs(bc->dy, bc->m * c);
    char what[160];
    snprintf(what, sizeof what, "bn %s dx", bc->name);
    compare_n(what, dx, bc->dx, bc->m * c, pass, GRAD_RTOL, GRAD_ATOL, term);
    if (bc->gamma) {
        snprintf(what, sizeof what, "bn %s dgamma", bc->name);
        compare_n(what, dg, bc->dgamma, c, pass, GRAD_RTOL, GRAD_ATOL, 0);
    }
    if (bc->beta) {
        snprintf(what, sizeof what, "bn %s dbeta", bc->name);
        compare_n(what, db, bc->dbeta, c, pass, GRAD_RTOL, GRAD_ATOL, 0);
    }
}

/* Training mode: forward, batch statistics, backward, one moving update. */
static void bn_train_case(const thaw_fixture *fx, const char *name)
{
    bn_case bc;
    if (bn_case_load(&bc, fx, name)) return;
    size_t c = (size_t)bc.c, n = bc.m * c;
    const float *bmean = get(fx, name, "batch_mean", c, false);
    const float *bvar = get(fx, name, "batch_var", c, false);
    const float *mom = get(fx, name, "momentum", 1, false);
    const float *new_mm = get(fx, name, "new_moving_mean", c, false);
    const float *new_mv = get(fx, name, "new_moving_var", c, false);
    if (!bmean || !bvar || !mom || !new_mm || !new_mv) return;

    float *y = thaw_test_alloc(n), *dx = thaw_test_alloc(n);
    float *mean = thaw_test_alloc(c), *var = thaw_test_alloc(c), *invstd = thaw_test_alloc(c);
    float *want_invstd = thaw_test_alloc(c);
    float *dg = thaw_test_alloc(c), *db = thaw_test_alloc(c);
    float *mm = thaw_test_alloc(c), *mv = thaw_test_alloc(c);
    char what[160];

    for (size_t i = 0; i < n; i++) y[i] = 1e3f;
    thaw_bn_forward_train(y, mean, var, invstd, bc.x, bc.gamma, bc.beta, bc.m, bc.c, bc.eps);
    for (size_t j = 0; j < c; j++) want_invstd[j] = (float)(1.0 / sqrt((double)bvar[j] + bc.eps));
    snprintf(what, sizeof what, "bn %s y (train)", name);
    compare(what, y, bc.y, n, FWD_RTOL, FWD_ATOL);
    snprintf(what, sizeof what, "bn %s batch mean", name);
    compare(what, mean, bmean, c, FWD_RTOL, FWD_ATOL);
    snprintf(what, sizeof what, "bn %s batch var (biased)", name);
    compare(what, var, bvar, c, FWD_RTOL, FWD_ATOL);
    snprintf(what, sizeof what, "bn %s invstd", name);
    compare(what, invstd, want_invstd, c, FWD_RTOL, FWD_ATOL);

    /* Backward from the kernel's own saved statistics, as a layer runs it. */
    for (int pass = 1; pass <= 2; pass++) {
        thaw_bn_backward_train(dx, bc.gamma ? dg : NULL, bc.beta ? db : NULL, bc.dy, bc.x, mean,
                               invstd, bc.gamma, bc.m, bc.c);
        bn_compare_grads(&bc, pass, dx, dg, db, bvar);
    }

    /* Moving statistics: PyTorch momentum 0.1 == Keras convention 0.9, the
     * unbiased batch variance. Fed the reference batch statistics so that
     * this checks the update alone. */
    memcpy(mm, bc.moving_mean, c * sizeof(float));
    memcpy(mv, bc.moving_var, c * sizeof(float));
    thaw_bn_update_moving(mm, mv, bmean, bvar, bc.c, bc.m, mom[0], THAW_BN_VAR_UNBIASED, bc.eps);
    snprintf(what, sizeof what, "bn %s moving_mean after update", name);
    compare(what, mm, new_mm, c, FWD_RTOL, FWD_ATOL);
    snprintf(what, sizeof what, "bn %s moving_var after update (unbiased)", name);
    compare(what, mv, new_mv, c, FWD_RTOL, FWD_ATOL);

    free(y);
    free(dx);
    free(mean);
    free(var);
    free(invstd);
    free(want_invstd);
    free(dg);
    free(db);
    free(mm);
    free(mv);
}

/* Inference mode: the affine map and its gradients (SEMANTICS.md §1.4). */
static void bn_infer_case(const thaw_fixture *fx, const char *name)
{
    bn_case bc;
    if (bn_case_load(&bc, fx, name)) return;
    size_t c = (size_t)bc.c, n = bc.m * c;
    float *y = thaw_test_alloc(n), *dx = thaw_test_alloc(n);
    float *dg = thaw_test_alloc(c), *db = thaw_test_alloc(c);
    char what[160];

    for (size_t i = 0; i < n; i++) y[i] = 1e3f;
    thaw_bn_forward_infer(y, bc.x, bc.gamma, bc.beta, bc.moving_mean, bc.moving_var, bc.m, bc.c,
                          bc.eps);
    snprintf(what, sizeof what, "bn %s y (inference)", name);
    compare(what, y, bc.y, n, FWD_RTOL, FWD_ATOL);
    for (int pass = 1; pass <= 2; pass++) {
        thaw_bn_backward_infer(dx, bc.gamma ? dg : NULL, bc.beta ? db : NULL, bc.dy, bc.x, bc.gamma,
                               bc.moving_mean, bc.moving_var, bc.m, bc.c, bc.eps);
        bn_compare_grads(&bc, pass, dx, dg, db, bc.moving_var);
    }
    free(y);
    free(dx);
    free(dg);
    free(db);
}

/* PyTorch momentum=None: the k-th training batch folds in with factor 1/k,
 * i.e. Keras-convention momentum 1 - 1/k (0 for the first batch). */
static void bn_cumulative_case(const thaw_fixture *fx, const char *name)
{
    const float *batches = get(fx, name, "batches", 1, false);
    const float *eps = get(fx, name, "eps", 1, false);
    const float *gamma = get(fx, name, "gamma", 0, false);
    const float *beta = get(fx, name, "beta", 0, false);
    char buf[256];
    snprintf(buf, sizeof buf, "%s/moving_mean", name);
    const thaw_fixture_tensor *tmm = thaw_fixture_find(fx, buf);
    const float *mv0 = get(fx, name, "moving_var", tmm ? tmm->count : 0, false);
    if (!batches || !eps || !gamma || !beta || !tmm || !mv0) return;
    int c = (int)tmm->count;
    float *mm = thaw_test_alloc((size_t)c), *mv = thaw_test_alloc((size_t)c);
    float *mean = thaw_test_alloc((size_t)c), *var = thaw_test_alloc((size_t)c);
    float *invstd = thaw_test_alloc((size_t)c);
    memcpy(mm, tmm->data, (size_t)c * sizeof(float));
    memcpy(mv, mv0, (size_t)c * sizeof(float));

    for (int k = 1; k <= (int)batches[0]; k++) {
        char key[64], what[160];
        snprintf(buf, sizeof buf, "%s/x%d", name, k);
        const thaw_fixture_tensor *tx = thaw_fixture_find(fx, buf);
        snprintf(key, sizeof key, "y%d", k);
        const float *want_y = get(fx, name, key, tx ? tx->count : 0, false);
        snprintf(key, sizeof key, "after%d/moving_mean", k);
        const float *want_mm = get(fx, name, key, (size_t)c, false);
        snprintf(key, sizeof key, "after%d/moving_var", k);
        const float *want_mv = get(fx, name, key, (size_t)c, false);
        CHECK_MSG(tx != NULL, "bn %s: tensor %s missing; " REGEN_HINT, name, buf);
        if (!tx || !want_y || !want_mm || !want_mv) break;
        size_t m = tx->count / (size_t)c;
        float *y = thaw_test_alloc(tx->count);

        thaw_bn_forward_train(y, mean, var, invstd, tx->data, gamma, beta, m, c, eps[0]);
        snprintf(what, sizeof what, "bn %s y%d (train)", name, k);
        compare(what, y, want_y, tx->count, FWD_RTOL, FWD_ATOL);
        /* Chained from the kernel's own batch statistics, as a model does. */
        float momentum = 1.0f - 1.0f / (float)k;
        thaw_bn_update_moving(mm, mv, mean, var, c, m, momentum, THAW_BN_VAR_UNBIASED, eps[0]);
        snprintf(what, sizeof what, "bn %s moving_mean after batch %d (momentum %.4g)", name, k,
                 momentum);
        compare(what, mm, want_mm, (size_t)c, FWD_RTOL, FWD_ATOL);
        snprintf(what, sizeof what, "bn %s moving_var after batch %d (momentum %.4g)", name, k,
                 momentum);
        compare(what, mv, want_mv, (size_t)c, FWD_RTOL, FWD_ATOL);
        free(y);
    }
    free(mm);
    free(mv);
    free(mean);
    free(var);
    free(invstd);
}

static void test_bn(void)
{
    thaw_fixture *fx = load_fixture("bn.thawfix");
    if (!fx) return;
    char cases[64][64];
    int n = list_cases(fx, "x", cases, 64);
    int n_train = 0, n_infer = 0;
    for (int i = 0; i < n; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s/batch_mean", cases[i]);
        if (thaw_fixture_find(fx, buf)) {
            bn_train_case(fx, cases[i]);
            n_train++;
        } else {
            bn_infer_case(fx, cases[i]);
            n_infer++;
        }
    }
    CHECK_MSG(n_train >= 1 && n_infer >= 1,
              "bn.thawfix: %d training and %d inference cases; " REGEN_HINT, n_train, n_infer);
    /* Cases without a single x: the cumulative-average sequence. */
    n = list_cases(fx, "batches", cases, 64);
    CHECK_MSG(n >= 1, "bn.thawfix: no momentum=None case; " REGEN_HINT);
    for (int i = 0; i < n; i++) bn_cumulative_case(fx, cases[i]);
    thaw_fixture_free(fx);
}

int main(void)
{
    test_conv();
    test_bn();
    return thaw_test_finish();
}
