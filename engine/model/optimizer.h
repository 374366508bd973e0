/* Optimizers over the parameter arena. Only parameters whose layer resolves
 * to params_trained are touched (as PyTorch skips params whose grad is None,
 * and Keras updates only trainable_weights); their state is kept while frozen.
 *
 * SGD (PyTorch torch.optim.SGD, dampening 0):
 *   g = grad + wd*p;  buf = momentum*buf + g;
 *   p -= lr * (nesterov ? g + momentum*buf : buf)        (buf = g when momentum = 0)
 * Adam (PyTorch torch.optim.Adam, L2 weight decay added to the gradient):
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  t = steps of this tensor
 *   p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 * The learning rate of a layer is lr * layer->lr_mult. */
#ifndef THAW_MODEL_OPTIMIZER_H
#define THAW_MODEL_OPTIMIZER_H

#include <stdbool.h>

#include "model/model.h"

typedef enum thaw_opt_kind {
    THAW_OPT_SGD,
    THAW_OPT_ADAM,
} thaw_opt_kind;

typedef struct thaw_optimizer {
    thaw_opt_kind kind;
    float lr;
    float momentum;          /* SGD */
    bool nesterov;           /* SGD */
    float weight_decay;      /* L2 added to the gradient (both) */
    float beta1, beta2, eps; /* Adam */
} thaw_optimizer;

/* SGD lr 0.01, momentum 0.9, no weight decay; Adam betas 0.9/0.999, eps 1e-8. */
void thaw_optimizer_default(thaw_optimizer *opt, thaw_opt_kind kind);

/* Checks the settings (finite, lr >= 0, momentum in [0,1), betas in [0,1), eps > 0). */
thaw_status thaw_optimizer_validate(const thaw_optimizer *opt, thaw_error *err);

/* Applies one update from grad_mem to every trained parameter. Allocates the
 * optimizer-state arenas on first use (THAW_ERR_NOMEM if that fails; nothing
 * is changed then). */
thaw_status thaw_optimizer_step(thaw_model *m, const thaw_optimizer *opt, thaw_error *err);

#endif
