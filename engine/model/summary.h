/* Parameter counts and the Keras-style summary table. */
#ifndef THAW_MODEL_SUMMARY_H
#define THAW_MODEL_SUMMARY_H

#include <stdio.h>

#include "model/model.h"

/* Counted as Keras's model.summary() does: BN moving statistics and every
 * parameter of a layer that does not train are non-trainable. "Trains" is the
 * layer's resolved params_trained in a FIT pass under the current preset
 * (so timm's FrozenBatchNorm gamma/beta count as non-trainable). */
typedef struct thaw_param_counts {
    size_t total, trainable, non_trainable;
} thaw_param_counts;

thaw_param_counts thaw_model_count_params(thaw_model *m);

/* Parameters of layer i (all of them, trainable or not). */
size_t thaw_layer_param_count(const thaw_model *m, int layer);

/* v with thousands separators, as model.summary() prints counts:
 * 23587712 -> "23,587,712" (truncated to size). */
void thaw_format_count(char *buf, size_t size, size_t v);

/* Prints the layer table (name, kind, output shape, params, trainable, BN
 * mode under the current preset) and the three totals. */
void thaw_model_summary_print(thaw_model *m, FILE *f);

#endif
