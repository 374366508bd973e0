/* Softmax cross-entropy (Keras SparseCategoricalCrossentropy(from_logits=True),
 * PyTorch F.cross_entropy), mean over the batch.
 *   logits (n,k), labels (n) in [0,k), probs (n,k) out or NULL,
 *   dlogits (n,k) out or NULL: overwritten with (softmax - onehot) / n.
 * Computed stably (max subtracted, log-sum-exp in double). Returns the mean
 * loss; a label outside [0,k) makes the result NaN (callers validate labels). */
#ifndef THAW_KERNELS_LOSS_H
#define THAW_KERNELS_LOSS_H

#include <stdint.h>

double thaw_softmax_xent(float *dlogits, float *probs, const float *logits, const int32_t *labels,
                         int n, int k);

/* probs (n,k) = softmax(logits) row-wise; probs may alias logits. */
void thaw_softmax(float *probs, const float *logits, int n, int k);

#endif
