#include "testutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

int thaw_test_failures;
int thaw_test_checks;

void thaw_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    thaw_test_failures++;
}

bool thaw_test_close(const char *what, const float *got, const float *want, size_t n, double atol,
                     double rtol)
{
    double max_abs = 0, max_rel = 0;
    size_t bad = 0;
    thaw_test_checks++;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        double d = fabs(g - w);
        double r = d / (fabs(w) > 1e-30 ? fabs(w) : 1e-30);
        bool ok = d <= atol + rtol * fabs(w) && !isnan(g) == !isnan(w);
        if (isnan(g) || isnan(w)) ok = isnan(g) && isnan(w);
        if (d > max_abs) max_abs = d;
        if (fabs(w) > atol && r > max_rel) max_rel = r;
        if (!ok) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g want %.9g (abs %.3g)\n", what, i, g, w, d);
            bad++;
        }
    }
    if (bad) {
        thaw_test_failures++;
        fprintf(stderr,
                "FAIL %s: %zu of %zu differ (max abs %.3g, max rel %.3g; atol %.1g rtol %.1g)\n",
                what, bad, n, max_abs, max_rel, atol, rtol);
        return false;
    }
    if (getenv("THAW_TEST_VERBOSE"))
        fprintf(stderr, "ok %s: n=%zu max abs %.3g max rel %.3g\n", what, n, max_abs, max_rel);
    return true;
}

bool thaw_test_same(const char *what, const float *got, const float *want, size_t n)
{
    thaw_test_checks++;
    if (memcmp(got, want, n * sizeof(float)) == 0) return true;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            fprintf(stderr, "FAIL %s: not bit-identical, first at [%zu]: %.9g vs %.9g\n", what, i,
                    got[i], want[i]);
            break;
        }
    }
    thaw_test_failures++;
    return false;
}

void thaw_test_fill_uniform(float *x, size_t n, float lo, float hi, thaw_rng *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * thaw_rng_uniform(rng);
}

void thaw_test_fill_normal(float *x, size_t n, float mean, float std, thaw_rng *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = mean + std * thaw_rng_normal(rng);
}

float *thaw_test_alloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "test: out of memory allocating %zu floats\n", n);
        exit(99);
    }
    return p;
}

int thaw_test_finish(void)
{
    printf("%d checks, %d failed\n", thaw_test_checks, thaw_test_failures);
    return thaw_test_failures ? 1 : 0;
}

float *thaw_test_images(int n, int hw, uint64_t seed)
{
    size_t count = (size_t)n * hw * hw;
    float *x = thaw_test_alloc(count);
    thaw_rng rng;
    thaw_rng_seed(&rng, seed, 1);
    thaw_test_fill_normal(x, count, 0.5f, 1.2f, &rng);
    return x;
}

thaw_model *thaw_test_bn_model(int hw, int classes, int head_hidden, float dropout, uint64_t seed,
                               uint64_t fill_seed, bool fill_beta)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "resnet8");
    cfg.in_h = cfg.in_w = hw;
    cfg.classes = classes;
    cfg.head_hidden = head_hidden;
    cfg.dropout = dropout;
    cfg.seed = seed;
    thaw_model *m = NULL;
    thaw_error err;
    if (thaw_model_new(&m, &cfg, &err) != THAW_OK) {
        fprintf(stderr, "cannot build model: %s\n", err.msg);
        exit(1);
    }
    thaw_rng rng;
    thaw_rng_seed(&rng, fill_seed, 0);
    for (int i = 0; i < m->n_params; i++) {
        thaw_param *p = &m->params[i];
        const char *suf = strrchr(p->name, '/') + 1;
        if (strcmp(suf, "moving_mean") == 0 || (fill_beta && strcmp(suf, "beta") == 0))
            thaw_test_fill_normal(thaw_param_data(m, p), p->count, 0.0f, 0.3f, &rng);
        else if (strcmp(suf, "moving_variance") == 0)
            thaw_test_fill_uniform(thaw_param_data(m, p), p->count, 0.5f, 2.0f, &rng);
        else if (strcmp(suf, "gamma") == 0)
            thaw_test_fill_uniform(thaw_param_data(m, p), p->count, 0.5f, 1.5f, &rng);
    }
    return m;
}
