/* The training-step API a worker thread drives: one step, evaluation,
 * prediction in either mode, cancellation between batches, and a per-step
 * report copied out for the caller. */
#ifndef THAW_MODEL_TRAIN_H
#define THAW_MODEL_TRAIN_H

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

/* Asks a running evaluate() to stop after its current batch; thread-safe. */
void thaw_model_request_cancel(thaw_model *m);
void thaw_model_clear_cancel(thaw_model *m);

#endif
