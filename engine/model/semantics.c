/* The semantics resolver: SEMANTICS.md §1.5-§1.8 and §3 as code.
 *
 * Every preset answers the same four questions for one layer in one pass.
 * Let t be the effective `training` value at the layer (see
 * thaw_effective_training) and `trainable` the layer's flag:
 *
 *   preset                 frozen BN (trainable=0)     unfrozen BN          gamma/beta trained
 *   keras3, tf-keras2      running stats, no update    batch+update iff t   iff trainable
 *   keras-2.1.3, -2.2      batch iff t, no update      batch+update iff t   iff trainable
 *   keras-2.1.2            batch+update iff t          batch+update iff t   iff trainable
 *   pytorch                batch+update iff t          batch+update iff t   iff trainable
 *   pytorch-bn-eval, timm  running stats, no update    batch+update iff t   iff trainable
 *   lightning-no-train-bn  batch iff t, not tracked    batch+update iff t   iff trainable
 *   fastai-train-bn        batch+update iff t          batch+update iff t   always (BN stays
 *                                                                           trainable)
 * Dropout drops iff t, whatever `trainable` says, in every preset. In the
 * PREDICT phase every layer runs in inference mode unless a node hard-codes
 * training=True. */
#include "model/semantics.h"

#include <string.h>

static const thaw_preset_info presets[THAW_PRESET_COUNT] = {
    [THAW_PRESET_KERAS3] = {"keras3",
                            "Keras 3: trainable=False forces BatchNorm into inference mode", 0.99f,
                            THAW_BN_VAR_BIASED, false},
    [THAW_PRESET_TF_KERAS2] = {"tf-keras2",
                               "tf.keras 2.x (fused BN): as Keras 3, unbiased moving variance",
                               0.99f, THAW_BN_VAR_UNBIASED, false},
    [THAW_PRESET_KERAS_2_1_2] = {"keras-2.1.2",
                                 "Keras <= 2.1.2: frozen BatchNorm still updates its statistics",
                                 0.99f, THAW_BN_VAR_BIASED, false},
    [THAW_PRESET_KERAS_2_1_3] = {"keras-2.1.3",
                                 "Keras 2.1.3: frozen BatchNorm uses batch statistics, no update",
                                 0.99f, THAW_BN_VAR_BIASED, false},
    [THAW_PRESET_KERAS_2_2] = {"keras-2.2",
                               "Keras 2.1.4-2.3.1: as 2.1.3, moving variance n/(n-1-eps)", 0.99f,
                               THAW_BN_VAR_KERAS22, false},
    [THAW_PRESET_PYTORCH] = {"pytorch",
                             "PyTorch: requires_grad=False leaves BatchNorm in train mode", 0.9f,
                             THAW_BN_VAR_UNBIASED, true},
    [THAW_PRESET_PYTORCH_BN_EVAL] = {"pytorch-bn-eval",
                                     "PyTorch with bn.eval() on frozen BatchNorm after train()",
                                     0.9f, THAW_BN_VAR_UNBIASED, true},
    [THAW_PRESET_LIGHTNING_NO_TRAIN_BN] = {"lightning-no-train-bn",
                                           "Lightning freeze(train_bn=False): frozen BatchNorm "
                                           "uses batch statistics, not tracked",
                                           0.9f, THAW_BN_VAR_UNBIASED, true},
    [THAW_PRESET_TIMM_FROZEN_BN] = {"timm-frozen-bn",
                                    "timm FrozenBatchNorm2d: frozen BatchNorm fixed, running stats",
                                    0.9f, THAW_BN_VAR_UNBIASED, true},
    [THAW_PRESET_FASTAI_TRAIN_BN] = {"fastai-train-bn",
                                     "fastai train_bn=True: BatchNorm in frozen groups trains",
                                     0.9f, THAW_BN_VAR_UNBIASED, true},
    [THAW_PRESET_MANUAL] = {"manual", "Manual: set each layer's knobs by hand", 0.99f,
                            THAW_BN_VAR_BIASED, false},
};

const thaw_preset_info *thaw_preset_get(thaw_preset preset)
{
    if ((int)preset < 0 || preset >= THAW_PRESET_COUNT) return NULL;
    return &presets[preset];
}

int thaw_preset_from_name(const char *name, thaw_preset *out)
{
    if (!name) return -1;
    for (int i = 0; i < THAW_PRESET_COUNT; i++) {
        if (strcmp(presets[i].name, name) == 0) {
            *out = (thaw_preset)i;
            return 0;
        }
    }
    return -1;
}

bool thaw_effective_training(const thaw_resolve_in *in)
{
    /* A value hard-coded on the node (base_model(x, training=False), or
     * base_model.eval() in PyTorch) always wins (Keras 3 rule 1). */
    if (in->node_training != THAW_UNSET) return in->node_training == THAW_TRUE;
    /* predict()/evaluate() call the model with training=False. */
    if (in->phase == THAW_PHASE_PREDICT) return false;
    /* In a training step: fit() passes True. A custom loop that calls model(x)
     * without `training` leaves it unset: Keras BN (default None) and Dropout
     * (default False) then run in inference mode; a PyTorch module stays in
     * its default train() mode. */
    if (in->call_training != THAW_UNSET) return in->call_training == THAW_TRUE;
    const thaw_preset_info *info = thaw_preset_get(in->preset);
    return info && info->pytorch_style;
}

thaw_layer_mode thaw_resolve(const thaw_resolve_in *in)
{
    thaw_layer_mode mode = {0};
    bool t = thaw_effective_training(in);
    bool fit = in->phase == THAW_PHASE_FIT;
    bool trainable = in->trainable;

    if (in->preset == THAW_PRESET_MANUAL && in->manual) {
        if (!fit) {
            /* Inference everywhere; a node's hard-coded training=True still wins. */
            mode.bn_batch_stats = in->is_bn && t;
            mode.dropout_active = in->is_dropout && t;
            return mode;
        }
        mode = *in->manual;
        mode.params_trained = mode.params_trained && in->has_params;
        if (!in->is_bn) mode.bn_batch_stats = mode.bn_update = false;
        if (!in->is_dropout) mode.dropout_active = false;
        /* Updating moving statistics needs batch statistics to update from. */
        if (!mode.bn_batch_stats) mode.bn_update = false;
        return mode;
    }

    mode.params_trained = fit && in->has_params && trainable;
    mode.dropout_active = in->is_dropout && t;
    if (!in->is_bn) return mode;

    switch (in->preset) {
    case THAW_PRESET_KERAS3:
    case THAW_PRESET_TF_KERAS2:
    case THAW_PRESET_PYTORCH_BN_EVAL:
    case THAW_PRESET_TIMM_FROZEN_BN:
    case THAW_PRESET_MANUAL: /* manual without knobs: behave like keras3 */
        mode.bn_batch_stats = t && trainable;
        mode.bn_update = t && trainable;
        break;
    case THAW_PRESET_KERAS_2_1_3:
    case THAW_PRESET_KERAS_2_2:
    case THAW_PRESET_LIGHTNING_NO_TRAIN_BN:
        mode.bn_batch_stats = t;
        mode.bn_update = t && trainable;
        break;
    case THAW_PRESET_KERAS_2_1_2:
    case THAW_PRESET_PYTORCH:
        mode.bn_batch_stats = t;
        mode.bn_update = t;
        break;
    case THAW_PRESET_FASTAI_TRAIN_BN:
        mode.bn_batch_stats = t;
        mode.bn_update = t;
        mode.params_trained = fit && in->has_params; /* BN stays trainable */
        break;
    case THAW_PRESET_COUNT:
        break;
    }
    /* In the PREDICT phase nothing is trained and nothing is updated, even
     * where a node hard-codes training=True (it still normalises with batch
     * statistics then: that is what Keras does). */
    if (!fit) mode.bn_update = false;
    return mode;
}

const char *thaw_bn_mode_phrase(const thaw_layer_mode *mode)
{
    if (mode->bn_batch_stats)
        return mode->bn_update ? "batch stats, updating" : "batch stats, not updating";
    return mode->params_trained ? "running stats, γ/β trained" : "running stats, frozen";
}
