/* BatchNorm re-estimation (thaw_model_reestimate_bn, PyTorch's
 * swa_utils.update_bn) against a reference computed here from the forward
 * pass's buffers: for every BN layer, the per-batch channel mean and variance
 * of its input (the producer's `out` after a FIT pass in which every BN
 * normalises with batch statistics), the variance scaled as the preset
 * stores it, averaged over the batches with weight 1/k each. Also: nothing
 * but the moving statistics changes, knobs and streams are restored,
 * base_only, cancellation and failures leave the statistics as they were,
 * bad arguments, determinism, and training and inference afterwards. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thaw.h"
#include "testutil.h"

enum { H = 10, BATCH = 6, N = 3 * BATCH + 4, CLASSES = 5 };

static double worst_rel; /* max relative error of the moving statistics, over all cases */

static thaw_model *make_model(float dropout)
{
    return thaw_test_bn_model(H, CLASSES, 8, dropout, 17, 23, true);
}

static float *copy_params(const thaw_model *m)
{
    float *p = thaw_test_alloc(m->n_floats);
    memcpy(p, m->param_mem, m->n_floats * sizeof(float));
    return p;
}

static bool is_moving(const thaw_model *m, const thaw_param *p)
{
    return p->is_state && m->layers[p->layer].kind == THAW_LAYER_BATCHNORM;
}

/* The reference. Returns a copy of the parameter arena whose moving
 * statistics are the 1/k-weighted averages over the batches of x; the model
 * is left as it was (preset, trainable flags, parameters, rng). Also returns
 * in *size_weighted_mean0 channel 0 of conv1_bn's mean weighted by batch size
 * instead, to show the test tells the two apart. */
static float *reference(thaw_model *m, const float *x, int n, int batch, thaw_bn_var_mode mode,
                        double *size_weighted_mean0)
{
    float *ref = copy_params(m);
    double *sum = calloc(m->n_floats, sizeof *sum);
    bool *trainable = calloc((size_t)m->n_layers, sizeof *trainable);
    CHECK(sum && trainable);
    thaw_preset preset = m->preset;
    thaw_rng saved_rng = m->rng;
    /* pytorch with every layer trainable: every BN normalises with batch stats */
    thaw_model_set_preset(m, THAW_PRESET_PYTORCH);
    for (int i = 0; i < m->n_layers; i++) {
        trainable[i] = m->layers[i].trainable;
        m->layers[i].trainable = true;
    }
    int conv1_bn = thaw_model_find_layer(m, "conv1_bn");
    double sw_sum = 0;
    int k = 0;
    thaw_rng drop;
    thaw_rng_seed(&drop, 1, 2);
    for (int first = 0; first < n; first += batch, k++) {
        int count = n - first < batch ? n - first : batch;
        thaw_error err;
        thaw_status st = thaw_model_forward(m, x + (size_t)first * H * H, count, THAW_PHASE_FIT,
                                            false, &drop, &err);
        CHECK_MSG(st == THAW_OK, "reference forward: %s", err.msg);
        for (int i = 0; i < m->n_layers; i++) {
            const thaw_layer *l = &m->layers[i];
            if (l->kind != THAW_LAYER_BATCHNORM) continue;
            CHECK(l->mode.bn_batch_stats);
            const float *in = m->layers[l->inputs[0]].out;
            size_t rows = (size_t)count * l->oh * l->ow;
            double r = (double)rows;
            double scale = mode == THAW_BN_VAR_BIASED     ? 1.0
                           : mode == THAW_BN_VAR_UNBIASED ? r / (r > 1.0 ? r - 1.0 : 1.0)
                                                          : r / (r - 1.0 - (double)l->eps);
            const thaw_param *pm = &m->params[l->first_param + 2];
            const thaw_param *pv = &m->params[l->first_param + 3];
            for (int c = 0; c < l->oc; c++) {
                double mu = 0, ss = 0;
                for (size_t q = 0; q < rows; q++) mu += in[q * l->oc + c];
                mu /= r;
                for (size_t q = 0; q < rows; q++) {
                    double d = in[q * l->oc + c] - mu;
                    ss += d * d;
                }
                sum[pm->offset + c] += mu;
                sum[pv->offset + c] += ss / r * scale;
                if (i == conv1_bn && c == 0) sw_sum += mu * count;
            }
        }
    }
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        if (!is_moving(m, p)) continue;
        for (size_t j = 0; j < p->count; j++) ref[p->offset + j] = (float)(sum[p->offset + j] / k);
    }
    *size_weighted_mean0 = sw_sum / n;
    for (int i = 0; i < m->n_layers; i++) m->layers[i].trainable = trainable[i];
    thaw_model_set_preset(m, preset);
    m->rng = saved_rng;
    free(sum);
    free(trainable);
    return ref;
}

/* Moving statistics close to ref (1e-5 relative), every other float of the
 * arena bit-identical to it. */
static void check_against(const thaw_model *m, const float *ref, const char *what)
{
    double max_rel = 0;
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        const float *got = thaw_param_data(m, p), *want = ref + p->offset;
        char name[256];
        snprintf(name, sizeof name, "%s: %s", what, p->name);
        if (!is_moving(m, p)) {
            thaw_test_same(name, got, want, p->count);
            continue;
        }
        thaw_test_close(name, got, want, p->count, 1e-7, 1e-5);
        for (size_t j = 0; j < p->count; j++) {
            double d = fabs((double)got[j] - want[j]);
            if (fabs(want[j]) > 1e-3 && d / fabs(want[j]) > max_rel) max_rel = d / fabs(want[j]);
        }
    }
    printf("%-40s max rel error of the moving statistics %.3g\n", what, max_rel);
    if (max_rel > worst_rel) worst_rel = max_rel;
}

static bool same_modes(const thaw_layer_mode *a, const thaw_layer_mode *b)
{
    return a->params_trained == b->params_trained && a->bn_batch_stats == b->bn_batch_stats &&
           a->bn_update == b->bn_update && a->dropout_active == b->dropout_active;
}

/* Everything but the parameter arena that the call must leave alone. */
typedef struct snapshot {
    thaw_preset preset;
    thaw_tristate call_training, base_training;
    thaw_rng rng;
    uint64_t steps;
    bool *trainable, *in_base, *reach;
    thaw_layer_mode *manual, *mode;
    float *grad, *opt_m;
} snapshot;

static snapshot take(const thaw_model *m)
{
    size_t nl = (size_t)m->n_layers;
    snapshot s = {.preset = m->preset,
                  .call_training = m->call_training,
                  .base_training = m->base_training,
                  .rng = m->rng,
                  .steps = m->steps};
    s.trainable = calloc(nl, sizeof(bool));
    s.in_base = calloc(nl, sizeof(bool));
    s.reach = calloc(nl, sizeof(bool));
    s.manual = calloc(nl, sizeof *s.manual);
    s.mode = calloc(nl, sizeof *s.mode);
    CHECK(s.trainable && s.in_base && s.reach && s.manual && s.mode);
    for (size_t i = 0; i < nl; i++) {
        s.trainable[i] = m->layers[i].trainable;
        s.in_base[i] = m->layers[i].in_base;
        s.reach[i] = m->reach[i];
        s.manual[i] = m->layers[i].manual;
        s.mode[i] = m->layers[i].mode;
    }
    s.grad = thaw_test_alloc(m->n_floats);
    memcpy(s.grad, m->grad_mem, m->n_floats * sizeof(float));
    if (m->opt_m) {
        s.opt_m = thaw_test_alloc(m->n_floats);
        memcpy(s.opt_m, m->opt_m, m->n_floats * sizeof(float));
    }
    return s;
}

static void check_unchanged(const thaw_model *m, const snapshot *s, const char *what)
{
    CHECK_MSG(m->preset == s->preset, "%s: preset changed", what);
    CHECK_MSG(m->call_training == s->call_training && m->base_training == s->base_training,
              "%s: training values changed", what);
    CHECK_MSG(memcmp(&m->rng, &s->rng, sizeof m->rng) == 0, "%s: rng state changed", what);
    CHECK_MSG(m->steps == s->steps, "%s: step count changed", what);
    int bad = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        bad += l->trainable != s->trainable[i] || l->in_base != s->in_base[i] ||
               m->reach[i] != s->reach[i] || !same_modes(&l->manual, &s->manual[i]) ||
               !same_modes(&l->mode, &s->mode[i]);
    }
    CHECK_MSG(bad == 0, "%s: knobs of %d layers changed", what, bad);
    thaw_test_same("gradients", m->grad_mem, s->grad, m->n_floats);
    CHECK_MSG(!s->opt_m == !m->opt_m, "%s: optimizer state (de)allocated", what);
    if (s->opt_m && m->opt_m) thaw_test_same("optimizer state", m->opt_m, s->opt_m, m->n_floats);
}

static void drop(snapshot *s)
{
    free(s->trainable), free(s->in_base), free(s->reach), free(s->manual), free(s->mode);
    free(s->grad), free(s->opt_m);
}

/* One SGD step with momentum, so the optimizer state and the rng are live. */
static void warm_up(thaw_model *m)
{
    float *x = thaw_test_images(8, H, 77);
    int32_t y[8] = {0, 1, 2, 3, 4, 0, 1, 2};
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = 0.01f;
    thaw_error err;
    CHECK(thaw_model_train_step(m, x, y, 8, &opt, NULL, &err) == THAW_OK);
    free(x);
}

static int count_bn(const thaw_model *m)
{
    int c = 0;
    for (int i = 0; i < m->n_layers; i++) c += m->layers[i].kind == THAW_LAYER_BATCHNORM;
    return c;
}

/* The result matches the reference under a preset, whatever the trainable
 * flags say (freeze: the whole base frozen, which under keras3 would put
 * every BN in inference mode in a training step). */
static void test_reference(thaw_preset preset, bool freeze, int n, int batch)
{
    const thaw_preset_info *info = thaw_preset_get(preset);
    char what[128];
    snprintf(what, sizeof what, "%s%s n=%d batch=%d", info->name, freeze ? " frozen" : "", n,
             batch);
    thaw_model *m = make_model(0.4f);
    thaw_model_set_preset(m, preset);
    if (freeze)
        for (int i = 0; i < m->n_layers; i++)
            if (m->layers[i].in_base) m->layers[i].trainable = false;
    warm_up(m);
    float *x = thaw_test_images(n, H, 5);
    double sw_mean0;
    float *ref = reference(m, x, n, batch, info->var_mode, &sw_mean0);
    float *before = copy_params(m);
    snapshot s = take(m);

    thaw_error err;
    thaw_status st = thaw_model_reestimate_bn(m, x, n, batch, false, &err);
    CHECK_MSG(st == THAW_OK, "%s: %s", what, err.msg);
    check_against(m, ref, what);
    check_unchanged(m, &s, what);
    int k = (n + batch - 1) / batch;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == THAW_LAYER_BATCHNORM)
            CHECK_MSG(m->layers[i].bn_batches == (uint64_t)k, "%s: %s bn_batches %llu", what,
                      m->layers[i].name, (unsigned long long)m->layers[i].bn_batches);
    /* Batches weigh 1/k each: with a partial batch, weighting by size would
     * give a measurably different mean. */
    if (n % batch && n > batch) {
        const thaw_param *p = thaw_model_find_param(m, "conv1_bn/moving_mean");
        double got = thaw_param_data(m, p)[0];
        CHECK_MSG(fabs(got - sw_mean0) > 1e-4 * fabs(sw_mean0),
                  "%s: the data cannot tell 1/k from size weighting (%g vs %g)", what, got,
                  sw_mean0);
    }
    /* the stats did change */
    const thaw_param *pv = thaw_model_find_param(m, "conv2_block1_2_bn/moving_variance");
    CHECK(memcmp(thaw_param_data(m, pv), before + pv->offset, pv->count * sizeof(float)) != 0);

    drop(&s);
    free(before);
    free(ref);
    free(x);
    thaw_model_free(m);
}

/* base_only: the same as all when every BN is in the base (resnet heads have
 * none); a BN marked as head keeps its statistics and the others get the
 * same bits. */
static void test_base_only(void)
{
    thaw_model *m = make_model(0.0f);
    thaw_model_set_preset(m, THAW_PRESET_PYTORCH);
    float *x = thaw_test_images(N, H, 6);
    float *orig = copy_params(m);
    thaw_error err;
    CHECK(thaw_model_reestimate_bn(m, x, N, BATCH, false, &err) == THAW_OK);
    float *all = copy_params(m);
    memcpy(m->param_mem, orig, m->n_floats * sizeof(float));
    CHECK(thaw_model_reestimate_bn(m, x, N, BATCH, true, &err) == THAW_OK);
    thaw_test_same("base_only with every BN in the base", m->param_mem, all, m->n_floats);

    int last = -1;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == THAW_LAYER_BATCHNORM) last = i;
    CHECK(last >= 0);
    thaw_layer *l = &m->layers[last];
    l->in_base = false; /* pretend it is a head layer */
    uint64_t batches = l->bn_batches;
    l->bn_batches = 0;
    memcpy(m->param_mem, orig, m->n_floats * sizeof(float));
    CHECK(thaw_model_reestimate_bn(m, x, N, BATCH, true, &err) == THAW_OK);
    CHECK(l->in_base == false);
    CHECK(l->bn_batches == 0 && batches == 4);
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        const float *want = p->layer == last ? orig + p->offset : all + p->offset;
        thaw_test_same(p->name, thaw_param_data(m, p), want, p->count);
    }
    l->in_base = true;
    free(orig);
    free(all);
    free(x);
    thaw_model_free(m);
}

/* Bad arguments, cancellation and a failure half-way leave everything as it was. */
static void test_failures(void)
{
    thaw_model *m = make_model(0.4f);
    thaw_model_set_preset(m, THAW_PRESET_KERAS3);
    warm_up(m);
    float *x = thaw_test_images(N, H, 7);
    float *before = copy_params(m);
    snapshot s = take(m);
    thaw_error err;

    err.msg[0] = '\0';
    CHECK(thaw_model_reestimate_bn(m, x, 0, BATCH, false, &err) == THAW_ERR_ARG && err.msg[0]);
    err.msg[0] = '\0';
    CHECK(thaw_model_reestimate_bn(m, x, -3, BATCH, false, &err) == THAW_ERR_ARG && err.msg[0]);
    err.msg[0] = '\0';
    CHECK(thaw_model_reestimate_bn(m, x, N, 0, false, &err) == THAW_ERR_ARG && err.msg[0]);
    err.msg[0] = '\0';
    CHECK(thaw_model_reestimate_bn(m, NULL, N, BATCH, false, &err) == THAW_ERR_ARG && err.msg[0]);
    printf("bad argument: %s\n", err.msg);
    thaw_test_same("arena after bad arguments", m->param_mem, before, m->n_floats);

    thaw_model_request_cancel(m);
    err.msg[0] = '\0';
    CHECK(thaw_model_reestimate_bn(m, x, N, BATCH, false, &err) == THAW_ERR_CANCELLED &&
          err.msg[0]);
    printf("cancelled: %s\n", err.msg);
    thaw_model_clear_cancel(m);
    thaw_test_same("arena after cancel", m->param_mem, before, m->n_floats);
    check_unchanged(m, &s, "cancel");

    /* A non-finite image in the third batch: every average downstream is
     * NaN, the call fails after three passes and writes nothing. */
    x[(size_t)(2 * BATCH + 1) * H * H + 3] = NAN;
    err.msg[0] = '\0';
    CHECK(thaw_model_reestimate_bn(m, x, N, BATCH, false, &err) == THAW_ERR_NONFINITE &&
          err.msg[0]);
    printf("non-finite: %s\n", err.msg);
    thaw_test_same("arena after a non-finite batch", m->param_mem, before, m->n_floats);
    check_unchanged(m, &s, "non-finite");
    for (int i = 0; i < m->n_layers; i++) CHECK(m->layers[i].bn_batches == 0);

    drop(&s);
    free(before);
    free(x);
    thaw_model_free(m);
}

/* Old statistics are forgotten (even NaN ones), the result is deterministic,
 * inference uses it, and training afterwards is exactly what it would be on
 * a model that got the same statistics by assignment. */
static void test_after(void)
{
    float *x = thaw_test_images(N, H, 8);
    float *xt = thaw_test_images(8, H, 9);
    int32_t yt[8] = {4, 3, 2, 1, 0, 4, 3, 2};
    thaw_error err;

    thaw_model *a = make_model(0.4f), *b = make_model(0.4f);
    /* manual knobs that differ from the re-estimation pass's */
    for (int k = 0; k < 2; k++) {
        thaw_model *m = k ? b : a;
        thaw_model_set_preset(m, THAW_PRESET_MANUAL);
        int i = thaw_model_find_layer(m, "conv1_bn");
        m->layers[i].manual.bn_batch_stats = false;
        m->layers[i].manual.params_trained = false;
        warm_up(m);
    }
    float *pa = thaw_test_alloc((size_t)8 * CLASSES), *pb = thaw_test_alloc((size_t)8 * CLASSES);
    CHECK(thaw_model_predict(a, xt, 8, 8, false, 0, pa, &err) == THAW_OK);

    CHECK(thaw_model_reestimate_bn(a, x, N, BATCH, false, &err) == THAW_OK);
    float *first = copy_params(a);
    CHECK(thaw_model_reestimate_bn(a, x, N, BATCH, false, &err) == THAW_OK);
    thaw_test_same("re-estimating twice", a->param_mem, first, a->n_floats);

    /* forgotten: NaN moving statistics give the same result */
    for (int i = 0; i < a->n_params; i++)
        if (is_moving(a, &a->params[i]))
            for (size_t j = 0; j < a->params[i].count; j++)
                thaw_param_data(a, &a->params[i])[j] = NAN;
    CHECK(thaw_model_reestimate_bn(a, x, N, BATCH, false, &err) == THAW_OK);
    thaw_test_same("re-estimating over NaN statistics", a->param_mem, first, a->n_floats);

    CHECK(thaw_model_predict(a, xt, 8, 8, false, 0, pb, &err) == THAW_OK);
    CHECK_MSG(memcmp(pa, pb, (size_t)8 * CLASSES * sizeof(float)) != 0,
              "inference output did not change with the new statistics");

    /* b gets a's statistics by assignment; then one step each */
    memcpy(b->param_mem, a->param_mem, b->n_floats * sizeof(float));
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = 0.02f;
    thaw_step_report *ra = thaw_step_report_new(a), *rb = thaw_step_report_new(b);
    CHECK(thaw_model_train_step(a, xt, yt, 8, &opt, ra, &err) == THAW_OK);
    CHECK(thaw_model_train_step(b, xt, yt, 8, &opt, rb, &err) == THAW_OK);
    CHECK_MSG(ra->loss == rb->loss && isfinite(ra->loss), "losses %.9g vs %.9g", ra->loss,
              rb->loss);
    CHECK(ra->n_bn == count_bn(a) && ra->bn_used_batch[0] == 0); /* conv1_bn manual knob */
    thaw_test_same("parameters after a step", a->param_mem, b->param_mem, a->n_floats);
    thaw_test_same("optimizer state after a step", a->opt_m, b->opt_m, a->n_floats);
    CHECK(memcmp(&a->rng, &b->rng, sizeof a->rng) == 0 && a->steps == b->steps);

    thaw_step_report_free(ra);
    thaw_step_report_free(rb);
    free(first);
    free(pa);
    free(pb);
    free(x);
    free(xt);
    thaw_model_free(a);
    thaw_model_free(b);
}

int main(void)
{
    test_reference(THAW_PRESET_PYTORCH, false, N, BATCH);        /* unbiased, partial batch */
    test_reference(THAW_PRESET_PYTORCH, true, 2 * BATCH, BATCH); /* no partial batch */
    test_reference(THAW_PRESET_PYTORCH, false, 5, 16);  /* one batch smaller than `batch` */
    test_reference(THAW_PRESET_KERAS3, true, N, BATCH); /* biased; frozen BN ignored */
    test_reference(THAW_PRESET_KERAS3, false, N, BATCH);
    test_reference(THAW_PRESET_TF_KERAS2, false, N, BATCH); /* unbiased */
    test_reference(THAW_PRESET_KERAS_2_2, false, N, BATCH); /* m/(m-1-eps) */
    test_base_only();
    test_failures();
    test_after();
    printf("worst max rel error of the moving statistics: %.3g\n", worst_rel);
    return thaw_test_finish();
}
