/* A model: a layer graph in Keras's `model.layers` order, with one arena each
 * for parameters, gradients and optimizer state and named views into them
 * (llm.c style), so zero-grad, the optimizer and checkpoints are flat loops.
 *
 * Tensors are NHWC float32. Parameter views use Keras's names and layouts:
 *   "<layer>/kernel" (conv HWIO (kh,kw,c,o); dense (in,out)), "<layer>/bias",
 *   "<layer>/gamma", "<layer>/beta", "<layer>/moving_mean",
 *   "<layer>/moving_variance".
 * BN moving statistics live in the parameter arena (so checkpoints are one
 * loop) but are marked `is_state`: they never get gradients and count as
 * non-trainable, as in Keras's model.summary(). */
#ifndef THAW_MODEL_MODEL_H
#define THAW_MODEL_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "kernels/backend.h"
#include "model/semantics.h"

#define THAW_NAME_MAX 64

typedef enum thaw_layer_kind {
    THAW_LAYER_INPUT, /* Keras InputLayer: holds the batch */
    THAW_LAYER_CONV2D,
    THAW_LAYER_BATCHNORM,
    THAW_LAYER_RELU,    /* Keras Activation('relu') */
    THAW_LAYER_ADD,     /* residual add of two inputs */
    THAW_LAYER_PAD,     /* Keras ZeroPadding2D */
    THAW_LAYER_MAXPOOL, /* Keras MaxPooling2D, valid */
    THAW_LAYER_GAP,     /* Keras GlobalAveragePooling2D */
    THAW_LAYER_DENSE,   /* Keras Dense, optional fused relu activation */
    THAW_LAYER_DROPOUT,
    THAW_LAYER_KIND_COUNT
} thaw_layer_kind;

/* "Conv2D", "BatchNormalization", ... (Keras class names, for summaries). */
const char *thaw_layer_kind_name(thaw_layer_kind kind);

/* A named view into the arenas. */
typedef struct thaw_param {
    char name[2 * THAW_NAME_MAX]; /* "conv1_conv/kernel" */
    int layer;                    /* owning layer */
    int ndim;
    int dims[4];
    size_t offset; /* in floats, the same in params, grads, opt_m and opt_v */
    size_t count;
    bool is_state; /* BN moving statistics: updated by assignment, never trained */
} thaw_param;

typedef struct thaw_layer {
    char name[THAW_NAME_MAX];
    thaw_layer_kind kind;
    int inputs[2];
    int n_inputs;
    /* Where the layer sits in the stages -> blocks -> layers tree: stage 0 is
     * the stem (conv1, pool1), stages 1.. are conv2, conv3, ...; -1 is the
     * head. block is 1-based inside a stage, 0 outside blocks. */
    int stage, block;
    bool in_base; /* part of the base model (the backbone), else the head */

    int oh, ow, oc; /* output shape per image (GAP/Dense: 1 x 1 x units) */

    /* configuration */
    int kh, kw, sh, sw; /* conv, maxpool */
    int pt, pb, pl, pr; /* conv, pad */
    bool use_bias;      /* conv, dense */
    bool relu;          /* dense: activation='relu' */
    float eps;          /* batchnorm */
    float momentum;     /* batchnorm, Keras convention; < 0: the preset's default */
    float rate;         /* dropout */

    int first_param, n_params; /* views model->params[first_param ..] */

    /* user knobs */
    bool trainable;         /* Keras layer.trainable / PyTorch requires_grad */
    float lr_mult;          /* per-layer learning-rate multiplier (1 by default) */
    thaw_layer_mode manual; /* knobs used under THAW_PRESET_MANUAL */

    /* resolved knobs of the most recent pass */
    thaw_layer_mode mode;

    /* runtime buffers, sized for model->batch_cap (owned by the model) */
    float *out;     /* (n, oh, ow, oc) */
    float *dout;    /* same shape; NULL in layers that never need a gradient */
    float *bn_mean; /* (oc) batch mean of the last training-mode pass */
    float *bn_var;  /* (oc) biased batch variance of that pass */
    float *bn_invstd;
    float *mask;         /* dropout factors (n, oc) */
    int32_t *argmax;     /* maxpool */
    uint64_t bn_batches; /* batches folded in while re-estimating (cumulative mode) */
    uint64_t writes;     /* times the engine wrote its parameters or moving statistics
                            (optimizer steps, moving averages, re-estimation): the
                            feature cache (cache.h) compares it to know it is current */
} thaw_layer;

/* A model's architecture; everything needed to rebuild it (checkpoints store it). */
typedef struct thaw_model_config {
    char arch[16]; /* resnet8/20/32/56 (CIFAR-style), resnet18/34/50/101/152 */
    int in_h, in_w, in_c;
    int classes;      /* > 0: head with Dense(classes) named "predictions"; 0: no top */
    int head_hidden;  /* > 0: Dense(head_hidden, relu) "head_dense" before the classifier */
    float dropout;    /* > 0: Dropout(rate) "head_dropout" before the classifier */
    bool pooling_avg; /* without a top: end with GlobalAveragePooling2D ("avg_pool") */
    float bn_eps;     /* 0: the architecture's default (1.001e-5, Keras applications) */
    int width;        /* filters of the first stage; 0: 16 (CIFAR-style) or 64 (ImageNet).
                         Small widths make tiny test models of the big graphs. */
    bool no_pool_pad; /* ImageNet-style without pool1_pad: keras-applications <= 1.0.5
                         and Keras 1 (112 -> 55 after pool1) */
    uint64_t seed;    /* weight initialisation and the dropout stream */

    /* Input preprocessing, applied by the input layer to raw pixel values
     * (0..255): channel k of the network input is
     *   (x[src] - input_mean[k]) * input_scale[k],  src = input_bgr ? C-1-k : k.
     * Identity by default (mean 0, scale 1). Keras's 'caffe' mode (ResNet50)
     * is input_bgr with means 103.939, 116.779, 123.68 (B, G, R) and scale 1. */
    bool input_bgr;
    float input_mean[4];
    float input_scale[4];
} thaw_model_config;

/* Standardise every channel: (x - mean) / std, in pixel units. */
void thaw_model_config_set_standardize(thaw_model_config *cfg, float mean, float std);

/* Keras applications' 'caffe' preprocessing (RGB -> BGR, ImageNet means). */
void thaw_model_config_set_caffe(thaw_model_config *cfg);

/* True when cfg's preprocessing is the identity. */
bool thaw_model_config_input_identity(const thaw_model_config *cfg);

/* Sensible defaults: resnet20 on 28x28x1, 10 classes, no hidden layer. */
void thaw_model_config_default(thaw_model_config *cfg);

typedef struct thaw_model {
    thaw_model_config cfg;

    thaw_layer *layers;
    int n_layers;
    thaw_param *params;
    int n_params;

    size_t n_floats;     /* size of each arena in floats */
    float *param_mem;    /* parameters and BN moving statistics */
    float *grad_mem;     /* gradients (zeroed each step) */
    float *opt_m;        /* optimizer state: SGD momentum buffer / Adam first moment;
                            allocated by the first optimizer step that needs it */
    float *opt_v;        /* Adam second moment, likewise */
    uint32_t *opt_steps; /* per param tensor: optimizer steps taken (Adam bias correction) */

    /* semantics */
    thaw_preset preset;
    thaw_tristate call_training; /* model(x, training=...) */
    thaw_tristate base_training; /* base_model(x, training=...), the sub-model override */
    float bn_momentum;           /* < 0: the preset's default (Keras convention) */

    const thaw_backend *backend;
    thaw_rng rng; /* dropout in training steps */
    atomic_int cancel;

    /* runtime */
    int batch_cap;
    float *act_mem;
    size_t act_floats;
    float *scratch;
    size_t scratch_floats;
    float *probs;          /* (batch_cap, classes) softmax of the last forward */
    bool *reach;           /* per layer: its output gradient is needed in backward */
    uint64_t steps;        /* training steps taken */
    uint64_t param_writes; /* whole-arena writes (thaw_model_params_changed) */

    /* Optional profile: when `profile` is set, forward and backward add the
     * wall time of each layer to prof_ns[kind][0 = forward, 1 = backward]. */
    bool profile;
    double prof_ns[THAW_LAYER_KIND_COUNT][2];
} thaw_model;

/* Builds the graph for cfg, allocates the arenas and initialises the weights
 * (He-normal conv kernels, Glorot-uniform dense kernels, zero biases, BN
 * gamma 1, beta 0, moving mean 0, moving variance 1) from cfg->seed. */
thaw_status thaw_model_new(thaw_model **out, const thaw_model_config *cfg, thaw_error *err);

/* As thaw_model_new, but the parameters are left zero: for loaders that
 * overwrite every one of them (initialising a ResNet50 costs ~1.5 s). */
thaw_status thaw_model_new_uninitialized(thaw_model **out, const thaw_model_config *cfg,
                                         thaw_error *err);
void thaw_model_free(thaw_model *m);

int thaw_model_find_layer(const thaw_model *m, const char *name);   /* -1 if absent */
thaw_param *thaw_model_find_param(thaw_model *m, const char *name); /* NULL if absent */

static inline float *thaw_param_data(const thaw_model *m, const thaw_param *p)
{
    return m->param_mem + p->offset;
}
static inline float *thaw_param_grad(const thaw_model *m, const thaw_param *p)
{
    return m->grad_mem + p->offset;
}

/* Output of the last layer: logits (n, classes), or the backbone's features. */
const thaw_layer *thaw_model_output(const thaw_model *m);

/* Sets layer i's trainable flag (Keras's setter is recursive over a block or
 * stage: callers loop). */
thaw_status thaw_model_set_trainable(thaw_model *m, int layer, bool trainable);

/* Keras's `base.trainable = True; for l in base.layers[:-n]: l.trainable =
 * False`: of the base model's layers (in_base, in model.layers order, every
 * layer counted as Keras counts it: the InputLayer and the weightless pads,
 * ReLUs, adds and pools too) the last n become trainable and all the others
 * frozen. Head layers and the InputLayer are left as they are. */
void thaw_model_unfreeze_last(thaw_model *m, int n);

thaw_status thaw_model_set_preset(thaw_model *m, thaw_preset preset);

/* The momentum BN layers use: the layer's own, else the model's override, else
 * the preset's default. */
float thaw_model_bn_momentum(const thaw_model *m, const thaw_layer *l);

/* Grows the activation buffers to hold batches of n images. */
thaw_status thaw_model_reserve(thaw_model *m, int n, thaw_error *err);

/* Tells the model its parameters or moving statistics were written from
 * outside the engine's own updates (a checkpoint loaded into it, a saved copy
 * of param_mem put back): feature caches filled before are stale. */
void thaw_model_params_changed(thaw_model *m);

/* The knobs layer i would resolve to in a pass of `phase`, without changing
 * the model (thaw_model_resolve stores them for a pass). */
thaw_layer_mode thaw_model_layer_mode(const thaw_model *m, int layer, thaw_phase phase);

/* Resolves every layer's knobs for a pass (fills layer->mode) and the
 * gradient reach. Called by the forward pass; public so that views (the
 * summary, the tree) can show what the next step will do. */
void thaw_model_resolve(thaw_model *m, thaw_phase phase);

/* One forward pass over x (n, in_h, in_w, in_c). phase FIT runs each layer as
 * the preset resolves it for a training step; update_stats=false suppresses
 * every moving-statistics update (for measuring "training-mode accuracy"
 * without side effects). rng: dropout stream (NULL: the model's own). */
thaw_status thaw_model_forward(thaw_model *m, const float *x, int n, thaw_phase phase,
                               bool update_stats, thaw_rng *rng, thaw_error *err);

/* Backward from dlogits (n, classes) written into the output layer's dout.
 * Computes only what `trainable` requires: it stops below the earliest layer
 * with trained parameters and skips weight gradients of frozen layers.
 * Gradients accumulate into grad_mem (zero it first). */
void thaw_model_backward(thaw_model *m, int n);

#endif
