/* The training-step API a worker thread drives: one step, evaluation,
 * prediction in either mode, BatchNorm re-estimation, cancellation between
 * batches, and a per-step report copied out for the caller. */
#ifndef THAW_MODEL_TRAIN_H
#define THAW_MODEL_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "model/optimizer.h"

/* Statistics of every BatchNorm layer after a step, copied out. Channel data
 * of BN layer j starts at offset[j] in the four arrays. */
typedef struct thaw_step_report {
    double loss;   /* mean cross-entropy of the batch */
    int correct;   /* top-1 hits in the batch (training-mode forward) */
    int n;         /* batch size */
    uint64_t step; /* model->steps after this step */

    int n_bn;                     /* number of BN layers */
    int *bn_layer;                /* (n_bn) layer index of each */
    int *bn_offset;               /* (n_bn) channel offset of each */
    int bn_channels;              /* total channels */
    unsigned char *bn_used_batch; /* (n_bn) 1 if it normalised with batch statistics */
    unsigned char *bn_updated;    /* (n_bn) 1 if it updated its moving statistics */
    float *batch_mean;            /* (bn_channels) batch statistics of this step (0 if unused) */
    float *batch_var;
    float *moving_mean; /* (bn_channels) moving statistics after the step */
    float *moving_var;
} thaw_step_report;

thaw_step_report *thaw_step_report_new(const thaw_model *m);
void thaw_step_report_free(thaw_step_report *r);

/* One training step on a batch: forward in FIT phase, softmax cross-entropy,
 * backward as far as `trainable` requires, optimizer update. x is
 * (n, in_h, in_w, in_c), labels (n) in [0, classes). A non-finite loss stops
 * before the update (the parameters stay as they were) with
 * THAW_ERR_NONFINITE. rep may be NULL. */
thaw_status thaw_model_train_step(thaw_model *m, const float *x, const int32_t *labels, int n,
                                  const thaw_optimizer *opt, thaw_step_report *rep,
                                  thaw_error *err);

/* Class probabilities (n, classes) for x, in inference mode (training=false:
 * phase PREDICT) or in training mode (training=true: the FIT resolution,
 * without updating any moving statistics). dropout_seed seeds the dropout
 * stream of a training-mode pass, so measurements are reproducible and do not
 * disturb the training stream. Batches larger than `batch` are split. */
thaw_status thaw_model_predict(thaw_model *m, const float *x, int n, int batch, bool training,
                               uint64_t dropout_seed, float *probs, thaw_error *err);

typedef struct thaw_eval_result {
    double loss;     /* mean cross-entropy */
    double accuracy; /* top-1, in [0, 1] */
    int n;
} thaw_eval_result;

/* Loss and accuracy over n images in batches of `batch`, in the chosen mode.
 * Polls the model's cancel flag between batches (THAW_ERR_CANCELLED). */
thaw_status thaw_model_evaluate(thaw_model *m, const float *x, const int32_t *labels, int n,
                                int batch, bool training, uint64_t dropout_seed,
                                thaw_eval_result *res, thaw_error *err);

/* Re-estimates the BatchNorm moving statistics over n images x (n, in_h,
 * in_w, in_c), as PyTorch users do after SWA or fine-tuning
 * (torch.optim.swa_utils.update_bn: reset_running_stats(), momentum=None, a
 * forward pass over the data in train mode). For every BatchNorm layer (only
 * the base model's, in_base, when base_only) the old moving statistics are
 * forgotten and replaced by the plain average over the batches of x, taken in
 * order: full batches of `batch` images and a final partial batch if n is not
 * a multiple. Every batch counts 1/k of k batches whatever its size (a partial
 * batch weighs as much as a full one), as PyTorch's cumulative average does.
 *
 * Every BN layer, picked or not, normalises with its own batch statistics in
 * the pass, so a layer sees the input it would see in a training step with
 * every BN in training mode. The variance folded in is the preset's
 * (thaw_preset_get(m->preset)->var_mode: unbiased m/(m-1) for PyTorch and
 * tf.keras, biased for Keras 3, m/(m-1-eps) for keras-2.2), with m = images *
 * height * width of that batch. The average is summed in double and divided
 * by k at the end: mathematically the recursion with momentum 1 - 1/k
 * (batchnorm.h), without the drift a float momentum brings for large k, and
 * the arena is written only once everything succeeded. Dropout is off:
 * update_bn runs it in train mode, but dropout only sits in the head after
 * global pooling, where no BN follows it, so this is exact and leaves the
 * model's dropout stream untouched. Head BN layers (none in the current
 * graphs) come after the base, so base_only cannot change what the base sees.
 *
 * Only the moving statistics change (and each picked layer's bn_batches, set
 * to the number of batches): weights, gamma/beta, optimizer state, rng, step
 * count, preset, trainable flags, manual knobs and resolved modes are left as
 * they were (activation buffers and the layers' last batch statistics,
 * bn_mean/bn_var, are overwritten, as by a prediction). Polls
 * the cancel flag before each batch. On any failure (THAW_ERR_CANCELLED,
 * THAW_ERR_NOMEM, THAW_ERR_NONFINITE when an average is not finite) the moving
 * statistics are left exactly as they were. n < 1, batch < 1 or no x:
 * THAW_ERR_ARG. */
thaw_status thaw_model_reestimate_bn(thaw_model *m, const float *x, int n, int batch,
                                     bool base_only, thaw_error *err);

/* Asks a running evaluate() to stop after its current batch; thread-safe. */
void thaw_model_request_cancel(thaw_model *m);
void thaw_model_clear_cancel(thaw_model *m);

#endif
