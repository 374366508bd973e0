/* The frozen-prefix feature cache (engine/model/cache.h): where the cut
 * falls for each kind of knob (presets, partial freezing, a residual edge
 * crossing the prefix, manual BN knobs), that cached steps and evaluations
 * compute what the full network computes (two models side by side, one
 * uncached), that the prefix of each image is computed once, that anything
 * writing the prefix (re-estimation, a direct write, unfreezing, a preset
 * whose frozen BN uses batch statistics) empties or moves the cache, the
 * memory cap, bad indices, and the cost model of a step against the anchor's
 * analytic count for ResNet-20. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thaw.h"
#include "testutil.h"

enum { H = 10, BATCH = 6, N = 22, CLASSES = 5 };

static thaw_model *make_model(void)
{
    return thaw_test_bn_model(H, CLASSES, 8, 0.3f, 17, 23, true);
}

static int layer(const thaw_model *m, const char *name)
{
    int i = thaw_model_find_layer(m, name);
    CHECK_MSG(i >= 0, "no layer %s", name);
    return i;
}

/* Freezes every layer whose name starts with one of the prefixes (NULL-ended). */
static void freeze(thaw_model *m, const char *const *prefixes, bool trainable)
{
    for (int i = 0; i < m->n_layers; i++)
        for (const char *const *p = prefixes; *p; p++)
            if (strncmp(m->layers[i].name, *p, strlen(*p)) == 0) m->layers[i].trainable = trainable;
}

static void freeze_base(thaw_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].in_base) m->layers[i].trainable = false;
}

static void check_cut(thaw_model *m, const char *want, const char *what)
{
    int cut = thaw_model_fixed_cut(m);
    const char *got = cut > 0 ? m->layers[cut].name : "(none)";
    CHECK_MSG(strcmp(got, want) == 0, "%s: cut at %s, expected %s", what, got, want);
}

static void test_cut(void)
{
    thaw_model *m = make_model();
    thaw_model_set_preset(m, THAW_PRESET_KERAS3);
    check_cut(m, "(none)", "nothing frozen");
    freeze_base(m);
    check_cut(m, "avg_pool", "keras3, base frozen");
    m->layers[layer(m, "head_dense")].trainable = false;
    /* the dropout after it drops in a training step */
    check_cut(m, "head_dense", "keras3, base and head_dense frozen");
    m->layers[layer(m, "head_dense")].trainable = true;

    thaw_model_set_preset(m, THAW_PRESET_PYTORCH_BN_EVAL);
    check_cut(m, "avg_pool", "pytorch-bn-eval, base frozen");
    thaw_model_set_preset(m, THAW_PRESET_TIMM_FROZEN_BN);
    check_cut(m, "avg_pool", "timm FrozenBatchNorm, base frozen");
    /* requires_grad=False leaves BN in batch mode: only the first conv is fixed */
    thaw_model_set_preset(m, THAW_PRESET_PYTORCH);
    check_cut(m, "conv1_conv", "pytorch, base frozen");
    thaw_model_set_preset(m, THAW_PRESET_KERAS_2_1_3);
    check_cut(m, "conv1_conv", "keras-2.1.3 (frozen BN in batch mode)");
    thaw_model_set_preset(m, THAW_PRESET_KERAS3);

    /* `training=True` hard-coded on the base: Keras 3 still runs frozen BN in
     * inference, tf.keras 2 too (fused BN, trainable=False wins) */
    m->base_training = THAW_TRUE;
    check_cut(m, "avg_pool", "keras3, base(x, training=True)");
    m->base_training = THAW_UNSET;

    /* stem and stage 1 frozen */
    for (int i = 0; i < m->n_layers; i++) m->layers[i].trainable = true;
    freeze(m, (const char *const[]){"conv1_", "conv2_", NULL}, false);
    check_cut(m, "conv2_block1_out", "keras3, stem + stage 1 frozen");

    /* a trained conv inside the block: the identity shortcut from conv1_relu
     * crosses every layer between, so the cut falls back to conv1_relu */
    m->layers[layer(m, "conv2_block1_2_conv")].trainable = true;
    check_cut(m, "conv1_relu", "keras3, conv2_block1_2_conv trained");

    /* manual knobs: a BN told to use batch statistics ends the prefix */
    freeze_base(m);
    thaw_model_set_preset(m, THAW_PRESET_MANUAL);
    for (int i = 0; i < m->n_layers; i++) m->layers[i].manual = (thaw_layer_mode){0};
    for (int i = 0; i < m->n_layers; i++)
        if (!m->layers[i].in_base && m->layers[i].n_params > 0)
            m->layers[i].manual.params_trained = true;
    check_cut(m, "avg_pool", "manual, nothing trained in the base");
    m->layers[layer(m, "conv3_block1_1_bn")].manual.bn_batch_stats = true;
    /* conv3_block1_1_conv is fixed, but the projection shortcut conv3_block1_0_conv
     * (built after it) reads conv2_block1_out: the deepest cut is there */
    check_cut(m, "conv2_block1_out", "manual, conv3_block1_1_bn on batch statistics");
    thaw_model_free(m);
}

static int32_t *make_labels(int n)
{
    int32_t *y = malloc((size_t)n * sizeof *y);
    for (int i = 0; i < n; i++) y[i] = (i * 7 + 3) % CLASSES;
    return y;
}

/* One uncached step on a (the reference) and one cached step on b, on the
 * same images; the two models must stay close. */
static void step_both(thaw_model *a, thaw_model *b, thaw_feature_cache *c, const float *x,
                      const int32_t *y, const int *idx, const thaw_optimizer *opt, const char *what)
{
    float *xb = thaw_test_alloc((size_t)BATCH * H * H);
    int32_t yb[BATCH];
    for (int k = 0; k < BATCH; k++) {
        memcpy(xb + (size_t)k * H * H, x + (size_t)idx[k] * H * H, H * H * sizeof(float));
        yb[k] = y[idx[k]];
    }
    thaw_step_report *ra = thaw_step_report_new(a), *rb = thaw_step_report_new(b);
    thaw_error err;
    CHECK(thaw_model_train_step(a, xb, yb, BATCH, opt, ra, &err) == THAW_OK);
    thaw_status st = thaw_model_train_step_cached(b, c, idx, BATCH, opt, rb, &err);
    CHECK_MSG(st == THAW_OK, "%s: %s", what, err.msg);
    CHECK_MSG(fabs(ra->loss - rb->loss) <= 1e-5 * fabs(ra->loss) + 1e-6,
              "%s: loss %.9g cached vs %.9g", what, rb->loss, ra->loss);
    CHECK_MSG(ra->correct == rb->correct, "%s: correct %d vs %d", what, rb->correct, ra->correct);
    thaw_test_close(what, b->param_mem, a->param_mem, a->n_floats, 1e-6, 1e-5);
    thaw_step_report_free(ra);
    thaw_step_report_free(rb);
    free(xb);
}

static void check_eval(thaw_model *a, thaw_model *b, thaw_feature_cache *c, const float *x,
                       const int32_t *y, const char *what)
{
    for (int training = 0; training <= 1; training++) {
        thaw_eval_result ea, eb;
        thaw_error err;
        CHECK(thaw_model_evaluate(a, x, y, N, 8, training, 5, &ea, &err) == THAW_OK);
        CHECK(thaw_model_evaluate_cached(b, c, 8, training, 5, &eb, &err) == THAW_OK);
        CHECK_MSG(ea.accuracy == eb.accuracy && fabs(ea.loss - eb.loss) <= 1e-5 * ea.loss + 1e-6,
                  "%s (%s mode): cached %.4f/%.7g vs %.4f/%.7g", what,
                  training ? "training" : "inference", eb.accuracy, eb.loss, ea.accuracy, ea.loss);
    }
}

static void shuffle(int *perm, int n, thaw_rng *rng)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)thaw_rng_below(rng, (uint32_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void test_same_as_uncached(void)
{
    thaw_model *a = make_model(), *b = make_model();
    thaw_model_set_preset(a, THAW_PRESET_KERAS3);
    thaw_model_set_preset(b, THAW_PRESET_KERAS3);
    freeze_base(a);
    freeze_base(b);
    float *x = thaw_test_images(N, H, 3);
    int32_t *y = make_labels(N);
    thaw_feature_cache c;
    thaw_feature_cache_init(&c, x, y, N, 1 << 20);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "avg_pool"));

    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = 0.05f;
    thaw_rng rng;
    thaw_rng_seed(&rng, 9, 0);
    int perm[N];
    char what[64];
    for (int epoch = 0; epoch < 3; epoch++) {
        shuffle(perm, N, &rng);
        for (int s = 0; s + BATCH <= N; s += BATCH) {
            snprintf(what, sizeof what, "epoch %d step %d", epoch, s / BATCH);
            step_both(a, b, &c, x, y, perm + s, &opt, what);
        }
    }
    /* Each image's prefix computed at most once; 3 epochs of 3 steps of 6. */
    CHECK_MSG(c.computed <= N && c.computed + c.served == 3 * 3 * BATCH,
              "computed %llu, served %llu", (unsigned long long)c.computed,
              (unsigned long long)c.served);
    CHECK(c.cut == layer(b, "avg_pool"));
    check_eval(a, b, &c, x, y, "after training");
    CHECK_MSG(c.filled == N && c.computed == N, "evaluation filled the cache: %d, %llu", c.filled,
              (unsigned long long)c.computed);
    uint64_t computed = c.computed;
    check_eval(a, b, &c, x, y, "again");
    CHECK_MSG(c.computed == computed, "a second evaluation computed %llu prefixes",
              (unsigned long long)(c.computed - computed));

    /* re-estimation writes the statistics of the prefix: the cache empties */
    thaw_error err;
    CHECK(thaw_model_reestimate_bn(a, x, N, BATCH, true, &err) == THAW_OK);
    CHECK(thaw_model_reestimate_bn(b, x, N, BATCH, true, &err) == THAW_OK);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "avg_pool"));
    CHECK_MSG(c.filled == 0, "after re-estimation the cache still holds %d images", c.filled);
    check_eval(a, b, &c, x, y, "after re-estimation");

    /* a direct write announced by thaw_model_params_changed */
    thaw_param *p = thaw_model_find_param(b, "conv2_block1_1_conv/kernel");
    thaw_param_data(b, p)[0] += 0.5f;
    thaw_param_data(a, thaw_model_find_param(a, p->name))[0] += 0.5f;
    thaw_model_params_changed(b);
    CHECK(thaw_feature_cache_sync(&c, b) > 0 && c.filled == 0);
    check_eval(a, b, &c, x, y, "after a direct write");

    /* unfreezing stage 3: the cut moves back to the end of stage 2, and the
     * trained stage keeps it away once refrozen until its writes are seen */
    freeze(a, (const char *const[]){"conv4_", NULL}, true);
    freeze(b, (const char *const[]){"conv4_", NULL}, true);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "conv3_block1_out"));
    for (int s = 0; s + BATCH <= N; s += BATCH)
        step_both(a, b, &c, x, y, perm + s, &opt, "stage 3 unfrozen");
    freeze(a, (const char *const[]){"conv4_", NULL}, false);
    freeze(b, (const char *const[]){"conv4_", NULL}, false);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "avg_pool") && c.filled == 0);
    check_eval(a, b, &c, x, y, "stage 3 trained and refrozen");

    /* BN in batch mode under `pytorch`: the cut shrinks to the first conv */
    thaw_model_set_preset(a, THAW_PRESET_PYTORCH);
    thaw_model_set_preset(b, THAW_PRESET_PYTORCH);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "conv1_conv"));
    for (int s = 0; s + BATCH <= N; s += BATCH)
        step_both(a, b, &c, x, y, perm + s, &opt, "pytorch");
    /* ... and back: the running statistics moved meanwhile */
    thaw_model_set_preset(a, THAW_PRESET_KERAS3);
    thaw_model_set_preset(b, THAW_PRESET_KERAS3);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "avg_pool") && c.filled == 0);
    check_eval(a, b, &c, x, y, "back to keras3");

    /* bad index */
    int bad[BATCH] = {0, 1, 2, 3, 4, N};
    thaw_optimizer o2 = opt;
    CHECK(thaw_model_train_step_cached(b, &c, bad, BATCH, &o2, NULL, &err) == THAW_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "index 22") != NULL, "message: %s", err.msg);

    thaw_feature_cache_free(&c);
    free(x);
    free(y);
    thaw_model_free(a);
    thaw_model_free(b);
}

static void test_memory_cap(void)
{
    thaw_model *a = make_model(), *b = make_model();
    freeze(a, (const char *const[]){"conv1_", NULL}, false);
    freeze(b, (const char *const[]){"conv1_", NULL}, false);
    float *x = thaw_test_images(N, H, 4);
    int32_t *y = make_labels(N);
    thaw_feature_cache c;
    /* conv1_relu: 10 x 10 x 16 floats per image, 6,400 bytes; 22 images do not fit in 100 KB */
    thaw_feature_cache_init(&c, x, y, N, 100000);
    CHECK(thaw_model_fixed_cut(b) == layer(b, "conv1_relu"));
    CHECK(thaw_feature_cache_sync(&c, b) == 0);
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_ADAM);
    int idx[BATCH] = {3, 1, 4, 15, 9, 2};
    step_both(a, b, &c, x, y, idx, &opt, "over the memory cap");
    CHECK(c.computed == 0 && c.feats == NULL);
    thaw_feature_cache_free(&c);
    thaw_feature_cache_init(&c, x, y, N, 200000);
    CHECK(thaw_feature_cache_sync(&c, b) == layer(b, "conv1_relu"));
    step_both(a, b, &c, x, y, idx, &opt, "under the cap");
    CHECK(c.computed == BATCH);
    thaw_feature_cache_free(&c);
    free(x);
    free(y);
    thaw_model_free(a);
    thaw_model_free(b);
}

/* ResNet-20 on 28x28x1 with Dense(64 -> 10): 62.04 MFLOP per image forward
 * (../shared/bench/pytorch_resnet20.py --info counts 2 FLOP per MAC). */
static void test_cost(void)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    thaw_model *m = NULL;
    thaw_error err;
    CHECK(thaw_model_new_uninitialized(&m, &cfg, &err) == THAW_OK);
    thaw_model_set_preset(m, THAW_PRESET_PYTORCH_BN_EVAL);
    thaw_step_cost all = thaw_model_step_cost(m, 0);
    CHECK_MSG(fabs(2 * all.forward - 62.04e6) < 0.01e6, "forward %.0f MACs", all.forward);
    /* every weight gradient; every input gradient but the first conv's */
    CHECK(all.backward_weights == all.forward);
    double conv1 = 28.0 * 28 * 16 * 9;
    CHECK_MSG(fabs(all.backward_data - (all.forward - conv1)) < 1, "backward data %.0f",
              all.backward_data);
    CHECK(all.layers_trained == 21 + 21 + 1); /* convs, BNs, the dense */

    double prev = thaw_step_cost_total(&all);
    const char *stages[] = {"conv1_", "conv2_", "conv3_", "conv4_"};
    for (int s = 0; s < 4; s++) {
        freeze(m, (const char *const[]){stages[s], NULL}, false);
        thaw_step_cost c = thaw_model_step_cost(m, 0);
        CHECK_MSG(c.forward == all.forward, "freezing does not change the forward pass");
        CHECK_MSG(thaw_step_cost_total(&c) < prev, "freezing %s saves work", stages[s]);
        prev = thaw_step_cost_total(&c);
    }
    thaw_step_cost frozen = thaw_model_step_cost(m, 0);
    CHECK(frozen.backward_weights == 640 && frozen.backward_data == 0 &&
          frozen.layers_backward == 1);
    int cut = thaw_model_fixed_cut(m);
    CHECK(cut == layer(m, "avg_pool"));
    thaw_step_cost head = thaw_model_step_cost(m, cut);
    CHECK_MSG(head.forward == 640 && head.layers_forward == 1, "head only: %.0f MACs, %d layers",
              head.forward, head.layers_forward);
    thaw_model_free(m);
}

int main(void)
{
    test_cut();
    test_same_as_uncached();
    test_memory_cap();
    test_cost();
    return thaw_test_finish();
}
