/* One training step per preset on a partly frozen resnet8, checked against the
 * truth tables of SEMANTICS.md §1.7 and SPEC.md §2 -- by looking at the
 * numbers, not at the resolver's answer:
 *  - which BN layers normalised with batch statistics (their output is
 *    recomputed from the layer input both ways and compared),
 *  - which moving statistics changed, and by exactly the EMA formula with the
 *    preset's momentum and variance convention; the others bit-identical,
 *  - which gamma/beta and kernels changed; frozen ones bit-identical, with no
 *    weight gradient computed at all,
 *  - dropout scaled in training, identity in inference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/batchnorm.h"
#include "thaw.h"
#include "testutil.h"

#define N 8
#define H 12

typedef struct expect {
    thaw_preset preset;
    /* frozen BN: batch stats, update, gamma/beta trained; then unfrozen BN */
    int fb, fu, ft;
    int ub, uu, ut;
    float momentum;
    thaw_bn_var_mode var;
} expect;

static const expect table[] = {
    {THAW_PRESET_KERAS3, 0, 0, 0, 1, 1, 1, 0.99f, THAW_BN_VAR_BIASED},
    {THAW_PRESET_TF_KERAS2, 0, 0, 0, 1, 1, 1, 0.99f, THAW_BN_VAR_UNBIASED},
    {THAW_PRESET_KERAS_2_1_2, 1, 1, 0, 1, 1, 1, 0.99f, THAW_BN_VAR_BIASED},
    {THAW_PRESET_KERAS_2_1_3, 1, 0, 0, 1, 1, 1, 0.99f, THAW_BN_VAR_BIASED},
    {THAW_PRESET_KERAS_2_2, 1, 0, 0, 1, 1, 1, 0.99f, THAW_BN_VAR_KERAS22},
    {THAW_PRESET_PYTORCH, 1, 1, 0, 1, 1, 1, 0.9f, THAW_BN_VAR_UNBIASED},
    {THAW_PRESET_PYTORCH_BN_EVAL, 0, 0, 0, 1, 1, 1, 0.9f, THAW_BN_VAR_UNBIASED},
    {THAW_PRESET_LIGHTNING_NO_TRAIN_BN, 1, 0, 0, 1, 1, 1, 0.9f, THAW_BN_VAR_UNBIASED},
    {THAW_PRESET_TIMM_FROZEN_BN, 0, 0, 0, 1, 1, 1, 0.9f, THAW_BN_VAR_UNBIASED},
    {THAW_PRESET_FASTAI_TRAIN_BN, 1, 1, 1, 1, 1, 1, 0.9f, THAW_BN_VAR_UNBIASED},
};

static thaw_model *make_model(float dropout)
{
    thaw_model *m = thaw_test_bn_model(H, 5, 16, dropout, 7, 99, false);
    /* Freeze the stem and stage conv2 (the first two stages). */
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].in_base && m->layers[i].stage <= 1) m->layers[i].trainable = false;
    return m;
}

static void make_batch(float *x, int32_t *y)
{
    thaw_rng rng;
    thaw_rng_seed(&rng, 5, 1);
    thaw_test_fill_normal(x, (size_t)N * H * H, 0.3f, 1.0f, &rng);
    for (int i = 0; i < N; i++) y[i] = (int32_t)thaw_rng_below(&rng, 5);
}

static bool any_diff(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) != 0;
}

static bool all_zero(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != 0.0f) return false;
    return true;
}

/* Did BN layer l normalise with batch statistics? Recompute both ways. */
static int used_batch_stats(thaw_model *m, const thaw_layer *l, const float *before, int n)
{
    const thaw_layer *a = &m->layers[l->inputs[0]];
    size_t rows = (size_t)n * l->oh * l->ow, cnt = rows * l->oc;
    float *yb = thaw_test_alloc(cnt), *yi = thaw_test_alloc(cnt);
    float *mean = thaw_test_alloc(l->oc), *var = thaw_test_alloc(l->oc);
    float *inv = thaw_test_alloc(l->oc);
    const thaw_param *p = &m->params[l->first_param];
    /* gamma/beta/moving stats as they were during the forward pass */
    const float *g = before + p[0].offset, *b = before + p[1].offset;
    thaw_bn_forward_train(yb, mean, var, inv, a->out, g, b, rows, l->oc, l->eps);
    thaw_bn_forward_infer(yi, a->out, g, b, before + p[2].offset, before + p[3].offset, rows, l->oc,
                          l->eps);
    int batch = memcmp(l->out, yb, cnt * sizeof(float)) == 0;
    int infer = memcmp(l->out, yi, cnt * sizeof(float)) == 0;
    free(yb), free(yi), free(mean), free(var), free(inv);
    if (batch == infer) return -1; /* neither (or both): a bug either way */
    return batch;
}

static void check_preset(const expect *e, thaw_tristate base_training)
{
    thaw_model *m = make_model(0.5f);
    thaw_model_set_preset(m, e->preset);
    m->base_training = base_training;
    const char *pname = thaw_preset_get(e->preset)->name;
    float *x = thaw_test_alloc((size_t)N * H * H);
    int32_t y[N];
    make_batch(x, y);
    float *before = thaw_test_alloc(m->n_floats);
    memcpy(before, m->param_mem, m->n_floats * sizeof(float));

    thaw_step_report *rep = thaw_step_report_new(m);
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = 0.1f;
    thaw_error err;
    thaw_status st = thaw_model_train_step(m, x, y, N, &opt, rep, &err);
    CHECK_MSG(st == THAW_OK, "%s: step failed: %s", pname, err.msg);
    bool base_off = base_training == THAW_FALSE;

    for (int j = 0; j < rep->n_bn; j++) {
        const thaw_layer *l = &m->layers[rep->bn_layer[j]];
        bool frozen = !l->trainable;
        int wb = frozen ? e->fb : e->ub, wu = frozen ? e->fu : e->uu, wt = frozen ? e->ft : e->ut;
        if (base_off) wb = wu = 0; /* base_model(x, training=False) */
        const thaw_param *p = &m->params[l->first_param];
        size_t c = (size_t)l->oc;

        int used = used_batch_stats(m, l, before, N);
        CHECK_MSG(used == wb, "%s %s: normalised with %s statistics, want %s", pname, l->name,
                  used == 1   ? "batch"
                  : used == 0 ? "moving"
                              : "unrecognisable",
                  wb ? "batch" : "moving");
        CHECK(rep->bn_used_batch[j] == wb);

        const float *mm0 = before + p[2].offset, *mv0 = before + p[3].offset;
        const float *mm = thaw_param_data(m, &p[2]), *mv = thaw_param_data(m, &p[3]);
        if (wu) {
            /* EMA with the preset's momentum and variance convention, from the
             * batch statistics the report carries (recomputed in double). */
            size_t cnt = (size_t)N * l->oh * l->ow;
            double scale = e->var == THAW_BN_VAR_BIASED ? 1.0
                           : e->var == THAW_BN_VAR_UNBIASED
                               ? (double)cnt / (double)(cnt - 1)
                               : (double)cnt / ((double)cnt - (1.0 + (double)l->eps));
            float *wm = thaw_test_alloc(c), *wv = thaw_test_alloc(c);
            for (size_t k = 0; k < c; k++) {
                double bm = rep->batch_mean[rep->bn_offset[j] + k];
                double bv = rep->batch_var[rep->bn_offset[j] + k];
                wm[k] = (float)(e->momentum * (double)mm0[k] + (1.0 - e->momentum) * bm);
                wv[k] = (float)(e->momentum * (double)mv0[k] + (1.0 - e->momentum) * bv * scale);
            }
            char what[160];
            snprintf(what, sizeof what, "%s %s moving_mean", pname, l->name);
            thaw_test_close(what, mm, wm, c, 1e-6, 1e-5);
            snprintf(what, sizeof what, "%s %s moving_variance", pname, l->name);
            thaw_test_close(what, mv, wv, c, 1e-6, 1e-5);
            CHECK_MSG(any_diff(mm, mm0, c), "%s %s: moving mean did not move", pname, l->name);
            free(wm), free(wv);
        } else {
            CHECK_MSG(!any_diff(mm, mm0, c) && !any_diff(mv, mv0, c),
                      "%s %s: moving statistics changed but must not", pname, l->name);
        }
        bool gb_changed = any_diff(thaw_param_data(m, &p[0]), before + p[0].offset, c) ||
                          any_diff(thaw_param_data(m, &p[1]), before + p[1].offset, c);
        CHECK_MSG(gb_changed == (bool)wt, "%s %s: gamma/beta %s, want %s", pname, l->name,
                  gb_changed ? "changed" : "unchanged", wt ? "changed" : "bit-identical");
        if (!wt)
            CHECK_MSG(all_zero(thaw_param_grad(m, &p[0]), c),
                      "%s %s: a gradient was computed for frozen gamma", pname, l->name);
    }
    /* kernels: frozen bit-identical and never differentiated; others move */
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_CONV2D && l->kind != THAW_LAYER_DENSE) continue;
        const thaw_param *p = &m->params[l->first_param];
        bool changed = any_diff(thaw_param_data(m, p), before + p->offset, p->count);
        CHECK_MSG(changed == l->trainable, "%s %s: kernel %s", pname, l->name,
                  changed ? "changed though frozen" : "unchanged though trainable");
        if (!l->trainable)
            CHECK_MSG(all_zero(thaw_param_grad(m, p), p->count),
                      "%s %s: weight gradient computed for a frozen layer", pname, l->name);
    }
    /* backward stops at the earliest trained layer: nothing below it reached */
    int first_trained = -1;
    for (int i = 0; i < m->n_layers && first_trained < 0; i++)
        if (m->layers[i].mode.params_trained) first_trained = i;
    for (int i = 0; i < first_trained; i++)
        CHECK_MSG(!m->reach[i], "%s: backward reached %s below the first trained layer %s", pname,
                  m->layers[i].name, m->layers[first_trained].name);

    /* dropout: active in the training step (zeros and x/(1-rate)) */
    int d = thaw_model_find_layer(m, "head_dropout");
    const thaw_layer *dl = &m->layers[d], *din = &m->layers[dl->inputs[0]];
    int zeros = 0, scaled = 0, n = N * dl->oc;
    for (int k = 0; k < n; k++) {
        if (dl->out[k] == 0.0f)
            zeros++;
        else if (fabsf(dl->out[k] - din->out[k] / 0.5f) <= 1e-6f * fabsf(dl->out[k]))
            scaled++;
    }
    CHECK_MSG(zeros + scaled == n && zeros > 0 && scaled > 0,
              "%s: dropout in training: %d zeros, %d scaled of %d", pname, zeros, scaled, n);
    /* inference: identity, and every BN uses moving statistics */
    float *probs = thaw_test_alloc((size_t)N * 5);
    CHECK(thaw_model_predict(m, x, N, N, false, 1, probs, &err) == THAW_OK);
    CHECK_MSG(!any_diff(dl->out, din->out, (size_t)n), "%s: dropout not identity in inference",
              pname);
    memcpy(before, m->param_mem, m->n_floats * sizeof(float));
    for (int j = 0; j < rep->n_bn; j++)
        CHECK(used_batch_stats(m, &m->layers[rep->bn_layer[j]], before, N) == 0);
    CHECK_MSG(!any_diff(before, m->param_mem, m->n_floats), "%s: predict changed parameters",
              pname);

    free(probs);
    free(before);
    free(x);
    thaw_step_report_free(rep);
    thaw_model_free(m);
}

int main(void)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        check_preset(&table[i], THAW_UNSET);
        /* base_model(x, training=False) / base.eval(): every base BN on moving
         * statistics, nothing updated, trainable gamma/beta/kernels still trained. */
        check_preset(&table[i], THAW_FALSE);
    }
    return thaw_test_finish();
}
