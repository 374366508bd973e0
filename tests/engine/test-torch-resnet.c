/* A whole ResNet-8 against PyTorch: logits, loss, every gradient, every
 * parameter after one SGD step and every BN moving statistic.
 *
 * Reference: tests/fixtures/resnet8.thawfix, written by
 * tests/fixtures/gen_torch_fixtures.py: the CIFAR-style ResNet-8 on 28x28x1
 * (10 classes, convs without bias, BN eps 1.001e-5, train mode) in float64
 * from float32-rounded inputs, with random non-trivial BN statistics, 4 images
 * and their labels; one torch.optim.SGD step (lr 0.1, momentum 0.9,
 * weight_decay 5e-4) and BN momentum 0.1 (Keras convention 0.9), unbiased
 * running variance. Names and layouts are Keras's: "param/<name>" initial
 * values, "grad/<name>" gradients of the mean loss, "after/<name>" values after
 * the step (moving statistics included), "batch/<bn>/mean|var" the batch
 * statistics of the forward pass.
 *
 * The model is run with the openblas backend and again with the naive one, so
 * a mismatch tells a GEMM-path problem from a model-level one.
 *
 * Tolerances (|got - want| <= atol + rtol*|want|, atol a fraction of the
 * tensor's largest magnitude max|want|, for elements near 0):
 *   forward (logits, loss, batch statistics, moving statistics): rtol 1e-5, atol 1e-6
 *   gradients and values after the SGD step:                     rtol 1e-4, atol 1e-5
 * Run with THAW_TEST_VERBOSE=1 for max abs/rel errors of every tensor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kernels/backend.h"
#include "kernels/loss.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "model/semantics.h"
#include "model/train.h"
#include "testutil.h"

#define FWD_RTOL  1e-5
#define FWD_ATOL  1e-6
#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-5

#define REGEN_HINT "regenerate with: /usr/bin/python3 tests/fixtures/gen_torch_fixtures.py"

#define N_IMAGES 4
#define CLASSES  10

static void compare(const char *what, const float *got, const float *want, size_t n, double rtol,
                    double atol)
{
    thaw_fixture_compare(what, got, want, n, rtol, atol, 0);
}

/* The tensor "<prefix><name>" with exactly `count` values, or NULL after
 * recording a failure that names it. */
static const float *need(const thaw_fixture *fx, const char *prefix, const char *name, size_t count)
{
    char key[256];
    size_t got;
    snprintf(key, sizeof key, "%s%s", prefix, name);
    const float *p = thaw_fixture_get(fx, key, &got, NULL, NULL);
    if (!p) {
        CHECK_MSG(0, "%s: tensor '%s' missing; " REGEN_HINT, fx->path, key);
        return NULL;
    }
    if (got != count) {
        CHECK_MSG(0, "%s: tensor '%s' has %zu values, the model's has %zu", fx->path, key, got,
                  count);
        return NULL;
    }
    return p;
}

static thaw_model *new_model(const thaw_backend *be)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "%s", "resnet8");
    cfg.in_h = 28;
    cfg.in_w = 28;
    cfg.in_c = 1;
    cfg.classes = CLASSES;
    cfg.head_hidden = 0;
    cfg.dropout = 0.0f;
    cfg.pooling_avg = false;
    cfg.bn_eps = 1.001e-5f;
    cfg.seed = 1;

    thaw_model *m = NULL;
    thaw_error err = {0};
    thaw_status st = thaw_model_new(&m, &cfg, &err);
    CHECK_MSG(st == THAW_OK && m, "thaw_model_new(resnet8): %s: %s", thaw_status_to_string(st),
              err.msg);
    if (st != THAW_OK || !m) return NULL;
    m->backend = be;
    st = thaw_model_set_preset(m, THAW_PRESET_PYTORCH);
    CHECK_MSG(st == THAW_OK, "thaw_model_set_preset(PYTORCH): %s", thaw_status_to_string(st));
    return m;
}

/* Copies every "param/<name>" into the model; every model parameter must have
 * one and every fixture parameter must exist in the model. */
static int load_params(thaw_model *m, const thaw_fixture *fx)
{
    int bad = 0;
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        const float *src = need(fx, "param/", p->name, p->count);
        if (!src) {
            bad++;
            continue;
        }
        memcpy(thaw_param_data(m, p), src, p->count * sizeof(float));
    }
    for (int i = 0; i < fx->n; i++) {
        const char *name = fx->tensors[i].name;
        if (strncmp(name, "param/", 6) != 0) continue;
        bool found = thaw_model_find_param(m, name + 6) != NULL;
        CHECK_MSG(found, "fixture has '%s' but the model has no parameter '%s'", name, name + 6);
        bad += !found;
    }
    return bad ? -1 : 0;
}

/* Checks the preset maps PyTorch's BN defaults as the fixture assumes. */
static void check_preset(const thaw_model *m)
{
    const thaw_preset_info *info = thaw_preset_get(THAW_PRESET_PYTORCH);
    CHECK_MSG(info && fabsf(info->bn_momentum - 0.9f) < 1e-7f,
              "preset pytorch: BN momentum %g, expected 0.9 (PyTorch 0.1, Keras convention)",
              info ? (double)info->bn_momentum : -1.0);
    CHECK_MSG(info && info->var_mode == THAW_BN_VAR_UNBIASED,
              "preset pytorch: moving variance must use the unbiased batch variance");
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_BATCHNORM) continue;
        float mom = thaw_model_bn_momentum(m, l);
        CHECK_MSG(fabsf(mom - 0.9f) < 1e-7f, "layer %s: BN momentum %g, expected 0.9", l->name,
                  (double)mom);
        CHECK_MSG(fabsf(l->eps - 1.001e-5f) < 1e-12f, "layer %s: BN eps %g, expected 1.001e-5",
                  l->name, (double)l->eps);
    }
}

/* Compares the moving statistics in the model with "after/<bn>/...". */
static void compare_moving(thaw_model *m, const thaw_fixture *fx, const char *tag)
{
    char what[256];
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        if (!p->is_state) continue;
        const float *want = need(fx, "after/", p->name, p->count);
        if (!want) continue;
        snprintf(what, sizeof what, "[%s] after/%s", tag, p->name);
        compare(what, thaw_param_data(m, p), want, p->count, FWD_RTOL, FWD_ATOL);
    }
}

/* Forward in the FIT phase: logits, loss, batch statistics, then the moving
 * statistics the forward's update leaves. */
static void test_forward(const thaw_fixture *fx, const thaw_backend *be, const float *x,
                         const int32_t *labels)
{
    thaw_model *m = new_model(be);
    if (!m) return;
    if (load_params(m, fx)) {
        thaw_model_free(m);
        return;
    }
    check_preset(m);

    thaw_error err = {0};
    thaw_status st = thaw_model_forward(m, x, N_IMAGES, THAW_PHASE_FIT, true, NULL, &err);
    CHECK_MSG(st == THAW_OK, "thaw_model_forward: %s: %s", thaw_status_to_string(st), err.msg);
    if (st != THAW_OK) {
        thaw_model_free(m);
        return;
    }
    char what[256];
    const thaw_layer *out = thaw_model_output(m);
    CHECK_MSG(out->oc == CLASSES && out->oh == 1 && out->ow == 1,
              "model output is %dx%dx%d, expected 1x1x%d", out->oh, out->ow, out->oc, CLASSES);
    const float *want_logits = need(fx, "", "logits", N_IMAGES * CLASSES);
    const float *want_loss = need(fx, "", "loss", 1);
    if (want_logits) {
        snprintf(what, sizeof what, "[%s] logits", be->name);
        compare(what, out->out, want_logits, N_IMAGES * CLASSES, FWD_RTOL, FWD_ATOL);
    }
    if (want_loss) {
        float loss = (float)thaw_softmax_xent(NULL, NULL, out->out, labels, N_IMAGES, CLASSES);
        snprintf(what, sizeof what, "[%s] loss", be->name);
        compare(what, &loss, want_loss, 1, FWD_RTOL, FWD_ATOL);
    }

    int n_bn = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_BATCHNORM) continue;
        n_bn++;
        char key[128];
        CHECK_MSG(l->mode.bn_batch_stats && l->mode.bn_update,
                  "layer %s: not in train mode (batch stats + update) under preset pytorch",
                  l->name);
        snprintf(key, sizeof key, "%s/mean", l->name);
        const float *mean = need(fx, "batch/", key, (size_t)l->oc);
        snprintf(key, sizeof key, "%s/var", l->name);
        const float *var = need(fx, "batch/", key, (size_t)l->oc);
        if (mean) {
            snprintf(what, sizeof what, "[%s] batch/%s/mean", be->name, l->name);
            compare(what, l->bn_mean, mean, (size_t)l->oc, FWD_RTOL, FWD_ATOL);
        }
        if (var) {
            snprintf(what, sizeof what, "[%s] batch/%s/var", be->name, l->name);
            compare(what, l->bn_var, var, (size_t)l->oc, FWD_RTOL, FWD_ATOL);
        }
    }
    int n_fix_bn = 0;
    for (int i = 0; i < fx->n; i++) {
        const char *name = fx->tensors[i].name;
        size_t len = strlen(name);
        n_fix_bn +=
            strncmp(name, "batch/", 6) == 0 && len > 5 && strcmp(name + len - 5, "/mean") == 0;
    }
    CHECK_MSG(n_bn == n_fix_bn, "model has %d BatchNorm layers, fixture %d", n_bn, n_fix_bn);

    snprintf(what, sizeof what, "%s forward", be->name);
    compare_moving(m, fx, what);
    thaw_model_free(m);
}

/* One training step on a fresh model: loss, every gradient, every value
 * after the SGD step, and the step report's BN statistics. */
static void test_train_step(const thaw_fixture *fx, const thaw_backend *be, const float *x,
                            const int32_t *labels)
{
    thaw_model *m = new_model(be);
    if (!m) return;
    if (load_params(m, fx)) {
        thaw_model_free(m);
        return;
    }
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = 0.1f;
    opt.momentum = 0.9f;
    opt.nesterov = false;
    opt.weight_decay = 5e-4f;

    thaw_step_report *rep = thaw_step_report_new(m);
    CHECK_MSG(rep != NULL, "thaw_step_report_new failed");
    thaw_error err = {0};
    /* train_step zeroes grad_mem itself before the backward pass (so a
     * poisoned arena must not leak in), then leaves the gradients of this
     * step in grad_mem after the update. */
    for (size_t i = 0; i < m->n_floats; i++) m->grad_mem[i] = 1e3f;
    thaw_status st = thaw_model_train_step(m, x, labels, N_IMAGES, &opt, rep, &err);
    CHECK_MSG(st == THAW_OK, "thaw_model_train_step: %s: %s", thaw_status_to_string(st), err.msg);
    if (st != THAW_OK) {
        thaw_step_report_free(rep);
        thaw_model_free(m);
        return;
    }
    char what[256];
    const float *want_loss = need(fx, "", "loss", 1);
    if (want_loss && rep) {
        float loss = (float)rep->loss;
        snprintf(what, sizeof what, "[%s step] loss", be->name);
        compare(what, &loss, want_loss, 1, FWD_RTOL, FWD_ATOL);
    }

    int n_grads = 0;
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        if (p->is_state) continue;
        n_grads++;
        const float *want = need(fx, "grad/", p->name, p->count);
        if (!want) continue;
        snprintf(what, sizeof what, "[%s step] grad/%s", be->name, p->name);
        compare(what, thaw_param_grad(m, p), want, p->count, GRAD_RTOL, GRAD_ATOL);
    }
    int n_fix_grads = 0;
    for (int i = 0; i < fx->n; i++) n_fix_grads += strncmp(fx->tensors[i].name, "grad/", 5) == 0;
    CHECK_MSG(n_grads == n_fix_grads, "model has %d trained tensors, fixture %d gradients", n_grads,
              n_fix_grads);

    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        if (p->is_state) continue;
        const float *want = need(fx, "after/", p->name, p->count);
        if (!want) continue;
        snprintf(what, sizeof what, "[%s step] after/%s", be->name, p->name);
        compare(what, thaw_param_data(m, p), want, p->count, GRAD_RTOL, GRAD_ATOL);
    }
    snprintf(what, sizeof what, "%s step", be->name);
    compare_moving(m, fx, what);

    /* The step report carries the batch statistics of the step. */
    for (int j = 0; rep && j < rep->n_bn; j++) {
        const thaw_layer *l = &m->layers[rep->bn_layer[j]];
        char key[128];
        CHECK_MSG(rep->bn_used_batch[j] && rep->bn_updated[j],
                  "step report: %s did not use batch statistics and update", l->name);
        snprintf(key, sizeof key, "%s/mean", l->name);
        const float *mean = need(fx, "batch/", key, (size_t)l->oc);
        snprintf(key, sizeof key, "%s/var", l->name);
        const float *var = need(fx, "batch/", key, (size_t)l->oc);
        if (mean) {
            snprintf(what, sizeof what, "[%s step report] batch/%s/mean", be->name, l->name);
            compare(what, rep->batch_mean + rep->bn_offset[j], mean, (size_t)l->oc, FWD_RTOL,
                    FWD_ATOL);
        }
        if (var) {
            snprintf(what, sizeof what, "[%s step report] batch/%s/var", be->name, l->name);
            compare(what, rep->batch_var + rep->bn_offset[j], var, (size_t)l->oc, FWD_RTOL,
                    FWD_ATOL);
        }
    }
    thaw_step_report_free(rep);
    thaw_model_free(m);
}

int main(void)
{
    thaw_fixture *fx = thaw_fixture_load("resnet8.thawfix");
    CHECK_MSG(fx != NULL, "cannot load fixture resnet8.thawfix; " REGEN_HINT);
    if (!fx) return thaw_test_finish();

    size_t nx = (size_t)N_IMAGES * 28 * 28 * 1;
    const float *x = need(fx, "", "x", nx);
    const float *flabels = need(fx, "", "labels", N_IMAGES);
    if (x && flabels) {
        int32_t labels[N_IMAGES];
        for (int i = 0; i < N_IMAGES; i++) labels[i] = (int32_t)flabels[i];
        const thaw_backend *backends[] = {&thaw_backend_openblas, &thaw_backend_naive};
        for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
            test_forward(fx, backends[b], x, labels);
            test_train_step(fx, backends[b], x, labels);
        }
    }
    thaw_fixture_free(fx);
    return thaw_test_finish();
}
