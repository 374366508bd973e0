/* The training-step API: determinism, learning, a whole-model gradient check,
 * non-finite losses, bad arguments, Adam/Nesterov, prediction and evaluation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/loss.h"
#include "thaw.h"
#include "testutil.h"

static thaw_model *make(const char *arch, int h, int classes, int hidden, float dropout,
                        uint64_t seed)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
    cfg.in_h = cfg.in_w = h;
    cfg.classes = classes;
    cfg.head_hidden = hidden;
    cfg.dropout = dropout;
    cfg.seed = seed;
    thaw_model *m = NULL;
    thaw_error err;
    if (thaw_model_new(&m, &cfg, &err) != THAW_OK) {
        fprintf(stderr, "model: %s\n", err.msg);
        exit(1);
    }
    return m;
}

/* A learnable toy problem: the class is the quadrant with the brightest blob. */
static void toy_batch(float *x, int32_t *y, int n, int h, thaw_rng *rng)
{
    for (int i = 0; i < n; i++) {
        int cls = (int)thaw_rng_below(rng, 4);
        y[i] = cls;
        float *img = x + (size_t)i * h * h;
        for (int p = 0; p < h * h; p++) img[p] = 0.3f * thaw_rng_normal(rng);
        int oy = (cls / 2) * h / 2, ox = (cls % 2) * h / 2;
        for (int r = 0; r < h / 2; r++)
            for (int c = 0; c < h / 2; c++) img[(oy + r) * h + ox + c] += 1.0f;
    }
}

static void test_determinism_and_learning(void)
{
    enum { N = 16, H = 12, STEPS = 30 };
    double losses[2][STEPS];
    for (int run = 0; run < 2; run++) {
        thaw_model *m = make("resnet8", H, 4, 16, 0.3f, 42);
        thaw_rng rng;
        thaw_rng_seed(&rng, 3, 0);
        float *x = thaw_test_alloc((size_t)N * H * H);
        int32_t y[N];
        thaw_optimizer opt;
        thaw_optimizer_default(&opt, THAW_OPT_SGD);
        opt.lr = 0.05f;
        thaw_step_report *rep = thaw_step_report_new(m);
        for (int s = 0; s < STEPS; s++) {
            toy_batch(x, y, N, H, &rng);
            thaw_error err;
            CHECK(thaw_model_train_step(m, x, y, N, &opt, rep, &err) == THAW_OK);
            losses[run][s] = rep->loss;
        }
        CHECK(rep->step == STEPS && rep->n == N);
        thaw_step_report_free(rep);
        free(x);
        thaw_model_free(m);
    }
    /* the same seed gives bit-identical losses */
    CHECK(memcmp(losses[0], losses[1], sizeof losses[0]) == 0);
    double first = (losses[0][0] + losses[0][1] + losses[0][2]) / 3;
    double last = (losses[0][STEPS - 1] + losses[0][STEPS - 2] + losses[0][STEPS - 3]) / 3;
    CHECK_MSG(last < 0.5 * first, "loss did not fall: %.4f -> %.4f", first, last);
}

/* Whole-model gradient check: d(loss)/d(param) by central differences for a
 * few elements of several tensors, BN in training mode (pytorch preset, no
 * dropout). The moving statistics are reset before each evaluation. */
static double model_loss(thaw_model *m, const float *x, const int32_t *y, int n)
{
    thaw_error err;
    thaw_model_forward(m, x, n, THAW_PHASE_FIT, false, NULL, &err);
    const thaw_layer *out = thaw_model_output(m);
    return thaw_softmax_xent(NULL, NULL, out->out, y, n, m->cfg.classes);
}

static void test_whole_model_gradients(void)
{
    enum { N = 8, H = 16 };
    thaw_model *m = make("resnet8", H, 3, 0, 0.0f, 5);
    thaw_model_set_preset(m, THAW_PRESET_PYTORCH);
    thaw_rng rng;
    thaw_rng_seed(&rng, 11, 0);
    float *x = thaw_test_alloc((size_t)N * H * H);
    thaw_test_fill_normal(x, (size_t)N * H * H, 0, 1, &rng);
    int32_t y[N] = {0, 1, 2, 1, 2, 0, 0, 1};
    /* analytic gradients: forward + loss + backward without an update */
    thaw_error err;
    thaw_model_forward(m, x, N, THAW_PHASE_FIT, false, NULL, &err);
    thaw_layer *out = &m->layers[m->n_layers - 1];
    thaw_softmax_xent(out->dout, NULL, out->out, y, N, 3);
    memset(m->grad_mem, 0, m->n_floats * sizeof(float));
    thaw_model_backward(m, N);
    float *grad = thaw_test_alloc(m->n_floats);
    memcpy(grad, m->grad_mem, m->n_floats * sizeof(float));

    const char *names[] = {"conv1_conv/kernel",          "conv1_bn/gamma",
                           "conv2_block1_2_bn/beta",     "conv3_block1_0_conv/kernel",
                           "conv4_block1_1_conv/kernel", "conv4_block1_2_bn/gamma",
                           "predictions/kernel",         "predictions/bias"};
    int checked = 0, bad = 0, kinks = 0;
    double l0 = model_loss(m, x, y, N);
    for (size_t t = 0; t < sizeof names / sizeof names[0]; t++) {
        thaw_param *p = thaw_model_find_param(m, names[t]);
        CHECK_MSG(p != NULL, "no param %s", names[t]);
        if (!p) continue;
        float *w = thaw_param_data(m, p);
        for (int k = 0; k < 6; k++) {
            size_t i = thaw_rng_below(&rng, (uint32_t)p->count);
            float w0 = w[i];
            float h = 1e-3f * fmaxf(1.0f, fabsf(w0));
            w[i] = w0 + h;
            double lp = model_loss(m, x, y, N);
            w[i] = w0 - h;
            double lm = model_loss(m, x, y, N);
            w[i] = w0;
            double fd = (lp - lm) / (2.0 * (double)h);
            double right = (lp - l0) / h, left = (l0 - lm) / h;
            double an = grad[p->offset + i];
            double tol = 1e-3 + 5e-2 * fabs(fd); /* float forward, 1e-3 steps */
            /* Every ReLU (and, through training-mode BN, every activation)
             * depends on every early weight: when the one-sided slopes
             * disagree, a kink lies inside [w-h, w+h] and the central
             * difference means nothing there. */
            if (fabs(right - left) > tol) {
                kinks++;
                continue;
            }
            checked++;
            if (fabs(fd - an) > tol) {
                bad++;
                fprintf(stderr, "  %s[%zu]: analytic %.6g, finite difference %.6g\n", names[t], i,
                        an, fd);
            }
        }
    }
    CHECK_MSG(bad == 0, "%d of %d whole-model gradient elements disagree", bad, checked);
    CHECK_MSG(checked >= 32, "only %d of 48 elements were away from kinks", checked);
    if (getenv("THAW_TEST_VERBOSE"))
        fprintf(stderr, "whole-model gradient check: %d checked, %d skipped at kinks\n", checked,
                kinks);
    free(grad);
    free(x);
    thaw_model_free(m);
}

static void test_nonfinite_and_errors(void)
{
    enum { N = 8, H = 12 };
    thaw_model *m = make("resnet8", H, 4, 0, 0.0f, 1);
    thaw_rng rng;
    thaw_rng_seed(&rng, 1, 0);
    float *x = thaw_test_alloc((size_t)N * H * H);
    int32_t y[N];
    toy_batch(x, y, N, H, &rng);
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    thaw_error err;

    /* a NaN in the input gives a NaN loss: error, and nothing changes */
    float *saved = thaw_test_alloc(m->n_floats);
    memcpy(saved, m->param_mem, m->n_floats * sizeof(float));
    x[5] = NAN;
    thaw_status st = thaw_model_train_step(m, x, y, N, &opt, NULL, &err);
    CHECK(st == THAW_ERR_NONFINITE);
    CHECK_MSG(strstr(err.msg, "learning rate") != NULL && strstr(err.msg, "step 1") != NULL,
              "message: %s", err.msg);
    CHECK(memcmp(saved, m->param_mem, m->n_floats * sizeof(float)) == 0);
    CHECK(m->steps == 0);
    x[5] = 0.0f;

    /* bad arguments: clear errors, no crash */
    int32_t bad[N];
    memcpy(bad, y, sizeof bad);
    bad[3] = 4;
    CHECK(thaw_model_train_step(m, x, bad, N, &opt, NULL, &err) == THAW_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "label 4 of image 3") != NULL, "message: %s", err.msg);
    bad[3] = -1;
    CHECK(thaw_model_train_step(m, x, bad, N, &opt, NULL, &err) == THAW_ERR_ARG);
    CHECK(thaw_model_train_step(m, x, y, 0, &opt, NULL, &err) == THAW_ERR_ARG);
    CHECK(thaw_model_train_step(m, NULL, y, N, &opt, NULL, &err) == THAW_ERR_ARG);
    CHECK(thaw_model_train_step(m, x, NULL, N, &opt, NULL, &err) == THAW_ERR_ARG);
    thaw_optimizer o2 = opt;
    o2.lr = -1;
    CHECK(thaw_model_train_step(m, x, y, N, &o2, NULL, &err) == THAW_ERR_ARG);
    CHECK(strstr(err.msg, "learning rate") != NULL);
    o2 = opt;
    o2.lr = NAN;
    CHECK(thaw_model_train_step(m, x, y, N, &o2, NULL, &err) == THAW_ERR_ARG);
    o2 = opt;
    o2.momentum = 1.0f;
    CHECK(thaw_model_train_step(m, x, y, N, &o2, NULL, &err) == THAW_ERR_ARG);
    CHECK(memcmp(saved, m->param_mem, m->n_floats * sizeof(float)) == 0);
    float probs[4 * N];
    CHECK(thaw_model_predict(m, x, N, 0, false, 0, probs, &err) == THAW_ERR_ARG);
    CHECK(thaw_model_reserve(m, -5, &err) == THAW_ERR_ARG);

    /* weights that overflow: infinite logits, NaN loss; the step is refused
     * and leaves every parameter and moving statistic as it was */
    thaw_param *k = thaw_model_find_param(m, "predictions/kernel");
    for (size_t i = 0; i < k->count; i++) thaw_param_data(m, k)[i] *= 3e38f;
    memcpy(saved, m->param_mem, m->n_floats * sizeof(float));
    st = thaw_model_train_step(m, x, y, N, &opt, NULL, &err);
    CHECK_MSG(st == THAW_ERR_NONFINITE, "overflowing weights gave status %s",
              thaw_status_to_string(st));
    CHECK(memcmp(saved, m->param_mem, m->n_floats * sizeof(float)) == 0);
    free(saved);
    free(x);
    thaw_model_free(m);
}

static void test_optimizers(void)
{
    /* Nesterov SGD and Adam on one parameter tensor, against the formulas. */
    thaw_model *m = make("resnet8", 8, 2, 0, 0.0f, 3);
    thaw_param *p = thaw_model_find_param(m, "predictions/bias");
    float *w = thaw_param_data(m, p), *g = thaw_param_grad(m, p);
    for (int i = 0; i < m->n_layers; i++) m->layers[i].mode.params_trained = false;
    m->layers[p->layer].mode.params_trained = true;
    m->layers[p->layer].lr_mult = 0.5f;
    w[0] = 1.0f, w[1] = -2.0f;
    g[0] = 0.5f, g[1] = 0.25f;
    thaw_optimizer opt = {.kind = THAW_OPT_SGD,
                          .lr = 0.1f,
                          .momentum = 0.9f,
                          .nesterov = true,
                          .weight_decay = 0.01f};
    CHECK(thaw_optimizer_step(m, &opt, NULL) == THAW_OK);
    CHECK(thaw_optimizer_step(m, &opt, NULL) == THAW_OK);
    /* by hand, lr 0.05: g' = g + wd*w; buf = 0.9 buf + g'; w -= lr (g' + 0.9 buf) */
    double ww[2] = {1.0, -2.0}, buf[2] = {0, 0}, gg[2] = {0.5, 0.25};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 2; i++) {
            double gi = gg[i] + 0.01 * ww[i];
            buf[i] = 0.9 * buf[i] + gi;
            ww[i] -= 0.05 * (gi + 0.9 * buf[i]);
        }
    float want[2] = {(float)ww[0], (float)ww[1]};
    thaw_test_close("nesterov sgd", w, want, 2, 1e-7, 1e-6);

    memset(m->opt_m, 0, m->n_floats * sizeof(float)); /* allocated by the SGD steps */
    memset(m->opt_steps, 0, (size_t)m->n_params * sizeof *m->opt_steps);
    w[0] = 1.0f, w[1] = -2.0f;
    thaw_optimizer adam;
    thaw_optimizer_default(&adam, THAW_OPT_ADAM);
    adam.lr = 0.01f;
    double m1[2] = {0, 0}, m2[2] = {0, 0};
    ww[0] = 1.0, ww[1] = -2.0;
    for (int s = 1; s <= 3; s++) {
        CHECK(thaw_optimizer_step(m, &adam, NULL) == THAW_OK);
        for (int i = 0; i < 2; i++) {
            m1[i] = 0.9 * m1[i] + 0.1 * gg[i];
            m2[i] = 0.999 * m2[i] + 0.001 * gg[i] * gg[i];
            double mh = m1[i] / (1 - pow(0.9, s)), vh = m2[i] / (1 - pow(0.999, s));
            ww[i] -= 0.005 * mh / (sqrt(vh) + 1e-8);
        }
    }
    want[0] = (float)ww[0], want[1] = (float)ww[1];
    thaw_test_close("adam", w, want, 2, 1e-6, 1e-5);
    thaw_model_free(m);
}

static void test_predict_evaluate(void)
{
    enum { N = 10, H = 12 };
    thaw_model *m = make("resnet8", H, 4, 8, 0.5f, 9);
    thaw_rng rng;
    thaw_rng_seed(&rng, 2, 0);
    float *x = thaw_test_alloc((size_t)N * H * H);
    int32_t y[N];
    toy_batch(x, y, N, H, &rng);
    float p1[N * 4], p2[N * 4], p3[N * 4];
    thaw_error err;
    /* inference mode: batch split does not matter, rows sum to 1 */
    CHECK(thaw_model_predict(m, x, N, N, false, 0, p1, &err) == THAW_OK);
    CHECK(thaw_model_predict(m, x, N, 3, false, 0, p2, &err) == THAW_OK);
    thaw_test_close("inference predictions by batch size", p2, p1, N * 4, 1e-6, 1e-5);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int k = 0; k < 4; k++) s += p1[i * 4 + k];
        CHECK(fabs(s - 1.0) < 1e-5);
    }
    /* training mode: dropout makes repeated passes differ, the seed pins them */
    CHECK(thaw_model_predict(m, x, N, N, true, 1, p2, &err) == THAW_OK);
    CHECK(thaw_model_predict(m, x, N, N, true, 1, p3, &err) == THAW_OK);
    CHECK(memcmp(p2, p3, sizeof p2) == 0);
    CHECK(thaw_model_predict(m, x, N, N, true, 2, p3, &err) == THAW_OK);
    CHECK(memcmp(p2, p3, sizeof p2) != 0);
    /* training mode: batch statistics make answers depend on batch-mates */
    CHECK(thaw_model_predict(m, x, N, 2, true, 1, p3, &err) == THAW_OK);
    CHECK(memcmp(p2, p3, sizeof p2) != 0);

    thaw_eval_result r;
    CHECK(thaw_model_evaluate(m, x, y, N, 4, false, 0, &r, &err) == THAW_OK);
    CHECK(r.n == N && r.accuracy >= 0 && r.accuracy <= 1 && isfinite(r.loss));
    int correct = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int k = 1; k < 4; k++)
            if (p1[i * 4 + k] > p1[i * 4 + best]) best = k;
        correct += best == y[i];
    }
    CHECK(fabs(r.accuracy - (double)correct / N) < 1e-12);
    thaw_model_request_cancel(m);
    CHECK(thaw_model_evaluate(m, x, y, N, 4, false, 0, &r, &err) == THAW_ERR_CANCELLED);
    thaw_model_clear_cancel(m);
    CHECK(thaw_model_evaluate(m, x, y, N, 4, false, 0, &r, &err) == THAW_OK);
    free(x);
    thaw_model_free(m);
}

int main(void)
{
    test_determinism_and_learning();
    test_whole_model_gradients();
    test_nonfinite_and_errors();
    test_optimizers();
    test_predict_evaluate();
    return thaw_test_finish();
}
