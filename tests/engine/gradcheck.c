/* Finite-difference gradient checker: see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "testutil.h"

thaw_gradcheck_opts thaw_gradcheck_defaults(void)
{
    return (thaw_gradcheck_opts){
        .step = 1e-2,
        .rtol = 1e-2,
        .floor = 1e-2,
        .atol = 0.0,
        .max_elems = 0,
        .max_skip_frac = 0.1,
        .seed = 1,
        .quiet = false,
    };
}

/* L = sum w_i out_i in double */
static double weighted_sum(const float *out, const float *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)w[i] * out[i];
    return s;
}

static double eval_loss(const thaw_gradcheck_fn *fn, float *out, const float *w)
{
    fn->forward(fn->ctx, out);
    return weighted_sum(out, w, fn->out_count);
}

/* Picks `k` distinct indices of [0, n) (all of them, in order, when k >= n). */
static size_t *pick_indices(size_t n, size_t k, thaw_rng *rng, size_t *picked)
{
    size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
    if (!idx) {
        fprintf(stderr, "gradcheck: out of memory\n");
        exit(99);
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if (k == 0 || k >= n) {
        *picked = n;
        return idx;
    }
    /* partial Fisher-Yates, then sorted for a readable report */
    for (size_t i = 0; i < k; i++) {
        size_t j = i + thaw_rng_below(rng, (uint32_t)(n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t i = 1; i < k; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && idx[j - 1] > v) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    *picked = k;
    return idx;
}

typedef struct fd_result {
    double num;         /* central difference */
    double left, right; /* one-sided slopes */
} fd_result;

/* Slopes of L at element i of t with step h, from the float values actually
 * stored at x0 +- h; t->data[i] is restored exactly. l0 = L at the base point. */
static fd_result central_diff(const thaw_gradcheck_fn *fn, thaw_gradcheck_tensor *t, size_t i,
                              double h, const float *w, float *out, double l0)
{
    float x0 = t->data[i];
    float xp = (float)((double)x0 + h), xm = (float)((double)x0 - h);
    t->data[i] = xp;
    double lp = eval_loss(fn, out, w);
    t->data[i] = xm;
    double lm = eval_loss(fn, out, w);
    t->data[i] = x0;
    return (fd_result){
        .num = (lp - lm) / ((double)xp - (double)xm),
        .left = (l0 - lm) / ((double)x0 - (double)xm),
        .right = (lp - l0) / ((double)xp - (double)x0),
    };
}

static double err_of(double num, double ana, double floor_abs)
{
    double den = fmax(fmax(fabs(num), fabs(ana)), floor_abs);
    if (den == 0.0) return 0.0;
    return fabs(num - ana) / den;
}

static bool check_tensor(const char *what, const thaw_gradcheck_fn *fn, thaw_gradcheck_tensor *t,
                         const double *ana, const float *w, float *out, double l0,
                         const thaw_gradcheck_opts *o, thaw_rng *rng, thaw_gradcheck_stats *st)
{
    double gmax = 0.0;
    for (size_t i = 0; i < t->count; i++) gmax = fmax(gmax, fabs(ana[i]));
    double floor_abs = fmax(o->floor * gmax, o->atol);

    size_t n_pick;
    size_t *idx = pick_indices(t->count, o->max_elems, rng, &n_pick);
    memset(st, 0, sizeof(*st));
    int printed = 0;

    for (size_t p = 0; p < n_pick; p++) {
        size_t i = idx[p];
        double h = o->step * fmax(fabs((double)t->data[i]), 1.0);
        fd_result fd = central_diff(fn, t, i, h, w, out, l0);
        double e = err_of(fd.num, ana[i], floor_abs);
        if (e > o->rtol) {
            /* strong curvature or a kink: retry with a 10x smaller step */
            fd = central_diff(fn, t, i, h / 10, w, out, l0);
            e = err_of(fd.num, ana[i], floor_abs);
        }
        st->checked++;
        if (e > o->rtol && err_of(fd.right, fd.left, floor_abs) > o->rtol) {
            /* the one-sided slopes disagree: the step straddles a kink */
            st->skipped++;
            if (err_of(fd.right, ana[i], floor_abs) <= o->rtol ||
                err_of(fd.left, ana[i], floor_abs) <= o->rtol)
                st->one_sided++;
            continue;
        }
        if (e > st->worst) {
            st->worst = e;
            st->worst_at = i;
        }
        if (e <= o->rtol) continue;
        st->failed++;
        if (printed++ < 5)
            fprintf(stderr, "  %s/%s[%zu]: analytic %.7g numeric %.7g (err %.3g; x %.7g)\n", what,
                    t->name, i, ana[i], fd.num, e, (double)t->data[i]);
    }
    free(idx);

    bool too_many_skips = st->checked && (double)st->skipped > o->max_skip_frac * st->checked;
    bool ok = st->failed == 0 && !too_many_skips;
    if (!ok || !o->quiet)
        fprintf(stderr,
                "%s gradcheck %s/%s: n=%zu checked=%zu skipped=%zu (one-sided match %zu) "
                "failed=%zu worst err %.3g at [%zu] (max |grad| %.3g)\n",
                ok ? "ok" : "FAIL", what, t->name, t->count, st->checked, st->skipped,
                st->one_sided, st->failed, st->worst, st->worst_at, gmax);
    if (st->failed)
        thaw_test_fail(__FILE__, __LINE__, "gradcheck %s/%s: %zu of %zu elements differ", what,
                       t->name, st->failed, st->checked);
    if (too_many_skips)
        thaw_test_fail(__FILE__, __LINE__, "gradcheck %s/%s: %zu of %zu elements skipped as kinks",
                       what, t->name, st->skipped, st->checked);
    return ok;
}

/* Runs backward again with every grad prefilled with g0 in [-1, 1) and checks
 * grad == g0 + ana up to rounding: a backward that overwrites (or zeroes)
 * instead of accumulating is off by |g0| on most elements. */
static bool check_accumulates(const char *what, const thaw_gradcheck_fn *fn,
                              thaw_gradcheck_tensor *tensors, int ntensors, double **ana,
                              const float *w, float *out, thaw_rng *rng)
{
    bool ok = true;
    float **g0 = calloc((size_t)ntensors + 1, sizeof(float *));
    if (!g0) {
        fprintf(stderr, "gradcheck: out of memory\n");
        exit(99);
    }
    for (int t = 0; t < ntensors; t++) {
        g0[t] = thaw_test_alloc(tensors[t].count);
        thaw_test_fill_uniform(g0[t], tensors[t].count, -1.0f, 1.0f, rng);
        memcpy(tensors[t].grad, g0[t], tensors[t].count * sizeof(float));
    }
    fn->forward(fn->ctx, out);
    fn->backward(fn->ctx, w);
    for (int t = 0; t < ntensors; t++) {
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < tensors[t].count; i++) {
            double want = (double)g0[t][i] + ana[t][i];
            if (fabs(tensors[t].grad[i] - want) > 1e-5 * (1.0 + fabs(ana[t][i])) && !bad++)
                first = i;
        }
        if (bad) {
            thaw_test_fail(__FILE__, __LINE__,
                           "gradcheck %s/%s: backward does not accumulate: %zu of %zu elements "
                           "differ from prefill + gradient, first [%zu]: %.7g, want %.7g",
                           what, tensors[t].name, bad, tensors[t].count, first,
                           (double)tensors[t].grad[first], (double)g0[t][first] + ana[t][first]);
            ok = false;
        }
        free(g0[t]);
    }
    free(g0);
    return ok;
}

bool thaw_gradcheck(const char *what, const thaw_gradcheck_fn *fn, thaw_gradcheck_tensor *tensors,
                    int ntensors, const thaw_gradcheck_opts *opts, thaw_gradcheck_stats *stats)
{
    thaw_gradcheck_opts o = opts ? *opts : thaw_gradcheck_defaults();
    thaw_rng rng;
    thaw_rng_seed(&rng, o.seed, 0x6772616463686bull /* "gradchk" */);
    size_t nout = fn->out_count;
    bool ok = true;
    thaw_test_checks++;

    float *w = thaw_test_alloc(nout);
    float *out = thaw_test_alloc(nout);
    float *out2 = thaw_test_alloc(nout);
    thaw_test_fill_uniform(w, nout, -1.0f, 1.0f, &rng);

    /* 1. the forward must be a function of the tensors alone */
    fn->forward(fn->ctx, out2);
    double l0 = eval_loss(fn, out, w);
    if (memcmp(out, out2, nout * sizeof(float)) != 0) {
        thaw_test_fail(__FILE__, __LINE__,
                       "gradcheck %s: two forward calls at the same point differ", what);
        ok = false;
    }

    /* 2. analytic gradients from zeroed buffers */
    double **ana = calloc((size_t)ntensors + 1, sizeof(double *));
    if (!ana) {
        fprintf(stderr, "gradcheck: out of memory\n");
        exit(99);
    }
    for (int t = 0; t < ntensors; t++) memset(tensors[t].grad, 0, tensors[t].count * sizeof(float));
    fn->forward(fn->ctx, out); /* the base point, right before backward */
    fn->backward(fn->ctx, w);
    for (int t = 0; t < ntensors; t++) {
        ana[t] = malloc((tensors[t].count ? tensors[t].count : 1) * sizeof(double));
        if (!ana[t]) {
            fprintf(stderr, "gradcheck: out of memory\n");
            exit(99);
        }
        for (size_t i = 0; i < tensors[t].count; i++) ana[t][i] = tensors[t].grad[i];
    }
    if (!check_accumulates(what, fn, tensors, ntensors, ana, w, out, &rng)) ok = false;

    /* 3./4. finite differences */
    for (int t = 0; t < ntensors; t++) {
        thaw_gradcheck_stats st;
        if (!check_tensor(what, fn, &tensors[t], ana[t], w, out, l0, &o, &rng, &st)) ok = false;
        if (stats) stats[t] = st;
    }

    for (int t = 0; t < ntensors; t++) free(ana[t]);
    free(ana);
    free(w);
    free(out);
    free(out2);
    return ok;
}
