/* The semantics resolver (SPEC.md §2, SEMANTICS.md §1.5-§1.8, §3).
 *
 * Per layer the engine keeps independent knobs: whether its parameters are
 * trained, whether a BatchNorm normalises with batch or moving statistics and
 * whether it updates them, whether a Dropout drops. A preset (the framework
 * being reproduced), the layer's `trainable` flag and the call's `training`
 * value resolve those knobs for every layer at every step. */
#ifndef THAW_MODEL_SEMANTICS_H
#define THAW_MODEL_SEMANTICS_H

#include <stdbool.h>

#include "kernels/batchnorm.h"

typedef enum thaw_preset {
    THAW_PRESET_KERAS3,                /* Keras 3: frozen BN forced to inference */
    THAW_PRESET_TF_KERAS2,             /* tf.keras 2.x, fused BN: as keras3, unbiased EMA */
    THAW_PRESET_KERAS_2_1_2,           /* frozen BN: batch stats AND updates */
    THAW_PRESET_KERAS_2_1_3,           /* frozen BN: batch stats, no update ("broken BN") */
    THAW_PRESET_KERAS_2_2,             /* 2.1.4-2.3.1: as 2.1.3, EMA var m/(m-1-eps) */
    THAW_PRESET_PYTORCH,               /* requires_grad=False leaves BN in train mode */
    THAW_PRESET_PYTORCH_BN_EVAL,       /* frozen BN put in eval() after every train() */
    THAW_PRESET_LIGHTNING_NO_TRAIN_BN, /* frozen BN: batch stats, running stats not tracked */
    THAW_PRESET_TIMM_FROZEN_BN,        /* frozen BN replaced by FrozenBatchNorm2d */
    THAW_PRESET_FASTAI_TRAIN_BN,       /* BN in frozen groups stays trainable, batch mode */
    THAW_PRESET_MANUAL,                /* the per-layer knobs are set by hand */
    THAW_PRESET_COUNT
} thaw_preset;

/* A `training` argument: passed as True/False, or not passed (None). */
typedef enum thaw_tristate {
    THAW_UNSET = -1,
    THAW_FALSE = 0,
    THAW_TRUE = 1,
} thaw_tristate;

/* Where a forward pass comes from. */
typedef enum thaw_phase {
    THAW_PHASE_FIT,     /* a training step: fit()/train_on_batch, model.train() */
    THAW_PHASE_PREDICT, /* predict()/evaluate(), model.eval() */
} thaw_phase;

/* The knobs of one layer for one pass, as resolved. */
typedef struct thaw_layer_mode {
    bool params_trained; /* gradients computed and optimizer applied to its params */
    bool bn_batch_stats; /* BN: normalise with batch statistics (else moving) */
    bool bn_update;      /* BN: update the moving statistics in this pass */
    bool dropout_active; /* Dropout: mask and scale (else identity) */
} thaw_layer_mode;

/* Framework defaults a preset brings. */
typedef struct thaw_preset_info {
    const char *name;          /* "keras3", "tf-keras2", ... as used in files and the CLI */
    const char *description;   /* one line for choosers and --help */
    float bn_momentum;         /* in Keras's convention: 0.99 Keras, 0.9 for PyTorch's 0.1 */
    thaw_bn_var_mode var_mode; /* which variance feeds the moving average */
    bool pytorch_style;        /* the `training` flag is module.train()/eval() */
} thaw_preset_info;

const thaw_preset_info *thaw_preset_get(thaw_preset preset);

/* Parses a preset name; returns 0 and sets *out, or -1 if unknown. */
int thaw_preset_from_name(const char *name, thaw_preset *out);

/* The inputs of the resolver for one layer. */
typedef struct thaw_resolve_in {
    thaw_preset preset;
    thaw_phase phase;
    thaw_tristate call_training; /* model(x, training=...) at the top; fit passes True */
    thaw_tristate node_training; /* a value hard-coded for this layer's sub-model, e.g.
                                    base_model(x, training=False); wins over the call */
    bool trainable;              /* the layer's trainable flag (Keras) / requires_grad */
    bool is_bn;
    bool is_dropout;
    bool has_params;
    const thaw_layer_mode *manual; /* the hand-set knobs for THAW_PRESET_MANUAL */
} thaw_resolve_in;

/* The effective `training` value at a layer: the node's hard-coded value, else
 * the call's, else the phase default (True in fit, False in predict). */
bool thaw_effective_training(const thaw_resolve_in *in);

thaw_layer_mode thaw_resolve(const thaw_resolve_in *in);

/* A short human phrase for a BN layer's resolved behaviour, e.g.
 * "batch stats, updating", "running stats, frozen", "batch stats, not updating". */
const char *thaw_bn_mode_phrase(const thaw_layer_mode *mode);

#endif
