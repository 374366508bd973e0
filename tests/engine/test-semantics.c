/* The resolver against the truth tables of SEMANTICS.md §1.5-§1.8 and SPEC.md §2,
 * one layer at a time (no model, no compute). */
#include <stdio.h>
#include <string.h>

#include "model/semantics.h"
#include "testutil.h"

static thaw_layer_mode bn(thaw_preset p, thaw_phase phase, thaw_tristate call, thaw_tristate node,
                          bool trainable)
{
    thaw_resolve_in in = {.preset = p,
                          .phase = phase,
                          .call_training = call,
                          .node_training = node,
                          .trainable = trainable,
                          .is_bn = true,
                          .has_params = true};
    return thaw_resolve(&in);
}

static thaw_layer_mode dropout(thaw_preset p, thaw_phase phase, thaw_tristate call,
                               thaw_tristate node, bool trainable)
{
    thaw_resolve_in in = {.preset = p,
                          .phase = phase,
                          .call_training = call,
                          .node_training = node,
                          .trainable = trainable,
                          .is_dropout = true};
    return thaw_resolve(&in);
}

/* expected knobs: batch, update, gamma/beta trained */
#define EXPECT_BN(m, b, u, t)                                                                      \
    CHECK_MSG((m).bn_batch_stats == (b) && (m).bn_update == (u) && (m).params_trained == (t),      \
              "%s: got batch=%d update=%d trained=%d, want %d %d %d", #m, (m).bn_batch_stats,      \
              (m).bn_update, (m).params_trained, b, u, t)

static void test_truth_table_keras(thaw_preset p)
{
    const thaw_phase FIT = THAW_PHASE_FIT;
    /* SEMANTICS.md §1.7, inside fit() (call training=True) */
    thaw_layer_mode m;
    m = bn(p, FIT, THAW_TRUE, THAW_UNSET, true);
    EXPECT_BN(m, 1, 1, 1); /* trainable, training=True: batch stats, update, gamma/beta */
    m = bn(p, FIT, THAW_TRUE, THAW_FALSE, true);
    EXPECT_BN(m, 0, 0, 1); /* trainable, hard-coded training=False: moving stats, still trained */
    m = bn(p, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 0, 0, 0); /* frozen: forced to inference even under training=True */
    m = bn(p, FIT, THAW_TRUE, THAW_TRUE, false);
    EXPECT_BN(m, 0, 0, 0); /* ... even when training=True is explicit on the node */
    m = bn(p, FIT, THAW_TRUE, THAW_FALSE, false);
    EXPECT_BN(m, 0, 0, 0);
    m = bn(p, THAW_PHASE_PREDICT, THAW_TRUE, THAW_UNSET, true);
    EXPECT_BN(m, 0, 0, 0); /* predict/evaluate: moving stats */
    /* a custom loop calling model(x) without training: BN default None -> inference */
    m = bn(p, FIT, THAW_UNSET, THAW_UNSET, true);
    EXPECT_BN(m, 0, 0, 1);
}

static void test_presets(void)
{
    const thaw_phase FIT = THAW_PHASE_FIT;
    test_truth_table_keras(THAW_PRESET_KERAS3);
    test_truth_table_keras(THAW_PRESET_TF_KERAS2);

    thaw_layer_mode m;
    /* keras-2.1.3 / 2.2: frozen BN normalises with batch stats but does not update */
    m = bn(THAW_PRESET_KERAS_2_1_3, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 1, 0, 0);
    m = bn(THAW_PRESET_KERAS_2_2, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 1, 0, 0);
    m = bn(THAW_PRESET_KERAS_2_1_3, FIT, THAW_TRUE, THAW_UNSET, true);
    EXPECT_BN(m, 1, 1, 1);
    m = bn(THAW_PRESET_KERAS_2_1_3, FIT, THAW_TRUE, THAW_FALSE, false);
    EXPECT_BN(m, 0, 0, 0); /* training=False is the fix of that era */
    /* keras-2.1.2: frozen BN still updates */
    m = bn(THAW_PRESET_KERAS_2_1_2, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 1, 1, 0);
    /* pytorch: requires_grad=False does not touch BN */
    m = bn(THAW_PRESET_PYTORCH, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 1, 1, 0);
    m = bn(THAW_PRESET_PYTORCH, FIT, THAW_UNSET, THAW_UNSET, false);
    EXPECT_BN(m, 1, 1, 0); /* a fresh module is in train() mode */
    m = bn(THAW_PRESET_PYTORCH, FIT, THAW_TRUE, THAW_FALSE, true);
    EXPECT_BN(m, 0, 0, 1); /* base.eval(): running stats, weights still trained */
    /* pytorch-bn-eval, timm: frozen BN in eval / FrozenBatchNorm2d */
    m = bn(THAW_PRESET_PYTORCH_BN_EVAL, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 0, 0, 0);
    m = bn(THAW_PRESET_PYTORCH_BN_EVAL, FIT, THAW_TRUE, THAW_UNSET, true);
    EXPECT_BN(m, 1, 1, 1);
    m = bn(THAW_PRESET_TIMM_FROZEN_BN, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 0, 0, 0);
    /* lightning: batch stats, running stats not tracked */
    m = bn(THAW_PRESET_LIGHTNING_NO_TRAIN_BN, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 1, 0, 0);
    /* fastai: BN inside frozen groups trains, batch mode */
    m = bn(THAW_PRESET_FASTAI_TRAIN_BN, FIT, THAW_TRUE, THAW_UNSET, false);
    EXPECT_BN(m, 1, 1, 1);
    /* every preset: predict is inference, nothing updated or trained */
    for (int p = 0; p < THAW_PRESET_COUNT; p++) {
        m = bn((thaw_preset)p, THAW_PHASE_PREDICT, THAW_TRUE, THAW_UNSET, p % 2);
        EXPECT_BN(m, 0, 0, 0);
    }
}

static void test_dropout(void)
{
    /* Dropout ignores trainable; only training matters (SEMANTICS.md §2). */
    for (int p = 0; p < THAW_PRESET_MANUAL; p++) {
        for (int tr = 0; tr < 2; tr++) {
            thaw_layer_mode m = dropout((thaw_preset)p, THAW_PHASE_FIT, THAW_TRUE, THAW_UNSET, tr);
            CHECK_MSG(m.dropout_active, "preset %d trainable %d: dropout off in fit", p, tr);
            m = dropout((thaw_preset)p, THAW_PHASE_FIT, THAW_TRUE, THAW_FALSE, tr);
            CHECK_MSG(!m.dropout_active, "preset %d: training=False must switch dropout off", p);
            m = dropout((thaw_preset)p, THAW_PHASE_PREDICT, THAW_TRUE, THAW_UNSET, tr);
            CHECK(!m.dropout_active);
            CHECK(!m.params_trained);
        }
    }
}

static void test_conv_and_manual(void)
{
    thaw_resolve_in in = {.preset = THAW_PRESET_KERAS3,
                          .phase = THAW_PHASE_FIT,
                          .call_training = THAW_TRUE,
                          .node_training = THAW_FALSE,
                          .trainable = true,
                          .has_params = true};
    /* training=False does NOT freeze weights (SEMANTICS.md §6a) */
    CHECK(thaw_resolve(&in).params_trained);
    in.trainable = false;
    CHECK(!thaw_resolve(&in).params_trained);
    in.has_params = false;
    in.trainable = true;
    CHECK(!thaw_resolve(&in).params_trained);

    thaw_layer_mode knobs = {.params_trained = false, .bn_batch_stats = true, .bn_update = false};
    thaw_resolve_in man = {.preset = THAW_PRESET_MANUAL,
                           .phase = THAW_PHASE_FIT,
                           .call_training = THAW_TRUE,
                           .node_training = THAW_UNSET,
                           .trainable = true,
                           .is_bn = true,
                           .has_params = true,
                           .manual = &knobs};
    thaw_layer_mode m = thaw_resolve(&man);
    EXPECT_BN(m, 1, 0, 0);
    knobs.bn_batch_stats = false;
    knobs.bn_update = true; /* impossible combination is normalised away */
    m = thaw_resolve(&man);
    EXPECT_BN(m, 0, 0, 0);
    man.phase = THAW_PHASE_PREDICT;
    knobs.bn_batch_stats = true;
    m = thaw_resolve(&man);
    EXPECT_BN(m, 0, 0, 0);
}

static void test_names(void)
{
    const char *names[] = {
        "keras3",         "tf-keras2",       "keras-2.1.2",     "keras-2.1.3",
        "keras-2.2",      "pytorch",         "pytorch-bn-eval", "lightning-no-train-bn",
        "timm-frozen-bn", "fastai-train-bn", "manual"};
    for (int i = 0; i < THAW_PRESET_COUNT; i++) {
        thaw_preset p;
        CHECK(thaw_preset_from_name(names[i], &p) == 0 && p == (thaw_preset)i);
        CHECK(strcmp(thaw_preset_get((thaw_preset)i)->name, names[i]) == 0);
    }
    thaw_preset p;
    CHECK(thaw_preset_from_name("keras4", &p) == -1);
    CHECK(thaw_preset_from_name(NULL, &p) == -1);
    CHECK(thaw_preset_get(THAW_PRESET_COUNT) == NULL);
    /* framework defaults, Keras momentum convention */
    CHECK(thaw_preset_get(THAW_PRESET_KERAS3)->bn_momentum == 0.99f);
    CHECK(thaw_preset_get(THAW_PRESET_PYTORCH)->bn_momentum == 0.9f);
    CHECK(thaw_preset_get(THAW_PRESET_KERAS3)->var_mode == THAW_BN_VAR_BIASED);
    CHECK(thaw_preset_get(THAW_PRESET_TF_KERAS2)->var_mode == THAW_BN_VAR_UNBIASED);
    CHECK(thaw_preset_get(THAW_PRESET_KERAS_2_2)->var_mode == THAW_BN_VAR_KERAS22);
    CHECK(thaw_preset_get(THAW_PRESET_PYTORCH)->var_mode == THAW_BN_VAR_UNBIASED);
}

int main(void)
{
    test_presets();
    test_dropout();
    test_conv_and_manual();
    test_names();
    return thaw_test_finish();
}
