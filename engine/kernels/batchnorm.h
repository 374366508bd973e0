/* Batch normalisation kernels over the channel (last) axis of NHWC tensors.
 * Formulas: SEMANTICS.md §1.2 (forward), §1.3 (moving statistics), §1.4
 * (gradients). The reduction runs over every axis but the channel one, so the
 * tensors are viewed as x (m, c) with m = n*h*w rows of c channels.
 *
 *   training mode:  y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta,
 *                   var_B biased (sum (x - mu_B)^2 / m) in every framework
 *   inference mode: y = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta
 *
 * gamma may be NULL (scale=False, i.e. 1) and beta may be NULL (center=False,
 * i.e. 0). Statistics are accumulated in double. Forward kernels overwrite y;
 * backward kernels ACCUMULATE (+=) into dx, dgamma, dbeta, any of which may
 * be NULL when that gradient is not needed. Outputs never alias inputs. */
#ifndef THAW_KERNELS_BATCHNORM_H
#define THAW_KERNELS_BATCHNORM_H

#include <stddef.h>

/* Which batch variance feeds the moving average (SEMANTICS.md §1.3). */
typedef enum thaw_bn_var_mode {
    THAW_BN_VAR_BIASED,   /* sigma^2_B: Keras 3, tf.keras non-fused, Keras <= 2.1.3 */
    THAW_BN_VAR_UNBIASED, /* sigma^2_B * m/(m-1): PyTorch, tf.keras fused (m-1 clamped >= 1) */
    THAW_BN_VAR_KERAS22,  /* sigma^2_B * m/(m-(1+eps)): multi-backend Keras 2.1.4-2.3.1 */
} thaw_bn_var_mode;

/* Training-mode forward.
 *   y (m,c) out;  mean (c) out: mu_B;  var (c) out: biased sigma^2_B;
 *   invstd (c) out: 1/sqrt(var + eps), kept for the backward pass;
 *   x (m,c), gamma (c) or NULL, beta (c) or NULL. */
void thaw_bn_forward_train(float *y, float *mean, float *var, float *invstd, const float *x,
                           const float *gamma, const float *beta, size_t m, int c, float eps);

/* Inference-mode forward: the per-channel affine map a*x + b with
 * a = gamma/sqrt(moving_var + eps), b = beta - a*moving_mean.
 *   y (m,c) out; x (m,c); gamma/beta (c) or NULL; moving_mean, moving_var (c). */
void thaw_bn_forward_infer(float *y, const float *x, const float *gamma, const float *beta,
                           const float *moving_mean, const float *moving_var, size_t m, int c,
                           float eps);

/* Training-mode backward (gradient through mu_B and sigma^2_B too):
 *   dx += gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)), xhat = (x-mean)*invstd
 *   dgamma += sum dy*xhat;  dbeta += sum dy
 * mean and invstd are the values saved by thaw_bn_forward_train. */
void thaw_bn_backward_train(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                            const float *mean, const float *invstd, const float *gamma, size_t m,
                            int c);

/* Inference-mode (affine) backward:
 *   dx += dy * gamma/sqrt(moving_var + eps)
 *   dgamma += sum dy*(x - moving_mean)/sqrt(moving_var + eps);  dbeta += sum dy */
void thaw_bn_backward_infer(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                            const float *gamma, const float *moving_mean, const float *moving_var,
                            size_t m, int c, float eps);

/* Moving-statistics update with Keras's momentum convention (PyTorch's
 * momentum p corresponds to momentum = 1 - p):
 *   moving_mean = momentum*moving_mean + (1-momentum)*mean
 *   moving_var  = momentum*moving_var  + (1-momentum)*v,  v = var scaled per mode
 * var is the biased batch variance over count elements per channel. For
 * PyTorch's cumulative average (momentum=None) pass momentum = 1 - 1/k for
 * the k-th batch. */
void thaw_bn_update_moving(float *moving_mean, float *moving_var, const float *mean,
                           const float *var, int c, size_t count, float momentum,
                           thaw_bn_var_mode mode, float eps);

#endif
