/* Batch normalisation kernels: see batchnorm.h and SEMANTICS.md §1.2-§1.4.
 *
 * Layout: x is viewed as (m, c) with the c channels of a row contiguous. Every
 * kernel streams over the rows (rows outer, channels inner), with per-channel
 * accumulators (double) and per-channel coefficients (float) computed once,
 * so the inner loops hold no division, sqrt or branch. The per-channel arrays
 * live on the stack, so channels are processed in chunks of at most BN_CHUNK
 * (one chunk for c <= 512, i.e. whole contiguous rows).
 *
 * Inner loops run through BN_FOR_CH, which splits [0, w) into runs of 64,
 * then 8, then 1 channels: gcc -O2 vectorises only loops whose trip count is a
 * known multiple of the vector width, and the fixed-length runs are.
 *
 * Statistics use two passes in double: the mean, then the sum of squared
 * deviations from it (never E[x^2] - E[x]^2). */
#include "kernels/batchnorm.h"

#include <math.h>

#define BN_CHUNK 512 /* channels per chunk: bounds the stack arrays (~18 KiB) */

/* Runs STMT for J in [0, w) in fixed-length runs of 64, 8 and 1. */
#define BN_FOR_CH(w, J, STMT)                                                                      \
    do {                                                                                           \
        int b_ = 0;                                                                                \
        for (; b_ + 64 <= (w); b_ += 64)                                                           \
            for (int k_ = 0; k_ < 64; k_++) {                                                      \
                int J = b_ + k_;                                                                   \
                STMT;                                                                              \
            }                                                                                      \
        for (; b_ + 8 <= (w); b_ += 8)                                                             \
            for (int k_ = 0; k_ < 8; k_++) {                                                       \
                int J = b_ + k_;                                                                   \
                STMT;                                                                              \
            }                                                                                      \
        for (; b_ < (w); b_++) {                                                                   \
            int J = b_;                                                                            \
            STMT;                                                                                  \
        }                                                                                          \
    } while (0)

/* Calls chunk(c0, w, args...) over [0, c) in chunks of at most BN_CHUNK channels. */
#define BN_FOR_CHUNKS(c, chunk, ...)                                                               \
    do {                                                                                           \
        for (int c0_ = 0; c0_ < (c); c0_ += BN_CHUNK)                                              \
            chunk(c0_, (c)-c0_ < BN_CHUNK ? (c)-c0_ : BN_CHUNK, __VA_ARGS__);                      \
    } while (0)

/* --- training-mode forward ------------------------------------------------ */

/* Channels [c0, c0+w) of thaw_bn_forward_train. */
static void bn_forward_train_chunk(int c0, int w, float *restrict y, float *mean, float *var,
                                   float *invstd, const float *restrict x, const float *gamma,
                                   const float *beta, size_t m, int c, float eps)
{
    double sum[BN_CHUNK], sq[BN_CHUNK], mu[BN_CHUNK];
    float mf[BN_CHUNK], a[BN_CHUNK], b[BN_CHUNK];
    double inv_m = m ? 1.0 / (double)m : 0.0;

    for (int j = 0; j < w; j++) sum[j] = sq[j] = 0.0;
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + c0;
        BN_FOR_CH(w, j, sum[j] += xr[j]);
    }
    for (int j = 0; j < w; j++) mu[j] = sum[j] * inv_m;
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + c0;
        BN_FOR_CH(w, j, double d = (double)xr[j] - mu[j]; sq[j] += d * d);
    }
    for (int j = 0; j < w; j++) {
        double v = sq[j] * inv_m;
        double is = 1.0 / sqrt(v + (double)eps);
        double g = gamma ? gamma[c0 + j] : 1.0;
        mean[c0 + j] = (float)mu[j];
        var[c0 + j] = (float)v;
        invstd[c0 + j] = (float)is;
        mf[j] = (float)mu[j];
        a[j] = (float)(g * is);
        b[j] = beta ? beta[c0 + j] : 0.0f;
    }
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + c0;
        float *yr = y + r * (size_t)c + c0;
        BN_FOR_CH(w, j, yr[j] = (xr[j] - mf[j]) * a[j] + b[j]);
    }
}

/* y, x (m,c); mean, var, invstd (c) out; gamma, beta (c) or NULL. y overwritten. */
void thaw_bn_forward_train(float *y, float *mean, float *var, float *invstd, const float *x,
                           const float *gamma, const float *beta, size_t m, int c, float eps)
{
    BN_FOR_CHUNKS(c, bn_forward_train_chunk, y, mean, var, invstd, x, gamma, beta, m, c, eps);
}

/* --- inference-mode forward ----------------------------------------------- */

static void bn_forward_infer_chunk(int c0, int w, float *restrict y, const float *restrict x,
                                   const float *gamma, const float *beta, const float *moving_mean,
                                   const float *moving_var, size_t m, int c, float eps)
{
    float a[BN_CHUNK], b[BN_CHUNK];
    for (int j = 0; j < w; j++) {
        double g = gamma ? gamma[c0 + j] : 1.0;
        double ad = g / sqrt((double)moving_var[c0 + j] + (double)eps);
        a[j] = (float)ad;
        b[j] = (float)((beta ? beta[c0 + j] : 0.0) - ad * moving_mean[c0 + j]);
    }
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + c0;
        float *yr = y + r * (size_t)c + c0;
        BN_FOR_CH(w, j, yr[j] = a[j] * xr[j] + b[j]);
    }
}

/* y, x (m,c); gamma, beta (c) or NULL; moving_mean, moving_var (c). y overwritten. */
void thaw_bn_forward_infer(float *y, const float *x, const float *gamma, const float *beta,
                           const float *moving_mean, const float *moving_var, size_t m, int c,
                           float eps)
{
    BN_FOR_CHUNKS(c, bn_forward_infer_chunk, y, x, gamma, beta, moving_mean, moving_var, m, c, eps);
}

/* --- training-mode backward ----------------------------------------------- */

/* With k = gamma*invstd, xhat = (x - mean)*invstd:
 *   dx += k*dy - k*mean(dy) - (x - mean) * k*invstd*mean(dy*xhat)
 * so per channel dx += p*dy + q*(x - mean) + s with p, q, s precomputed. */
static void bn_backward_train_chunk(int c0, int w, float *restrict dx, float *dgamma, float *dbeta,
                                    const float *restrict dy, const float *restrict x,
                                    const float *mean, const float *invstd, const float *gamma,
                                    size_t m, int c)
{
    double sdy[BN_CHUNK], sdyx[BN_CHUNK];
    float mf[BN_CHUNK], p[BN_CHUNK], q[BN_CHUNK], s[BN_CHUNK];
    double inv_m = m ? 1.0 / (double)m : 0.0;

    for (int j = 0; j < w; j++) {
        sdy[j] = sdyx[j] = 0.0;
        mf[j] = mean[c0 + j];
    }
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + c0;
        const float *dyr = dy + r * (size_t)c + c0;
        BN_FOR_CH(w, j, double g = dyr[j]; sdy[j] += g; sdyx[j] += g * ((double)xr[j] - mf[j]));
    }
    for (int j = 0; j < w; j++) {
        double is = invstd[c0 + j];
        double k = (gamma ? gamma[c0 + j] : 1.0) * is;
        if (dbeta) dbeta[c0 + j] += (float)sdy[j];
        if (dgamma) dgamma[c0 + j] += (float)(sdyx[j] * is);
        p[j] = (float)k;
        q[j] = (float)(-k * is * is * sdyx[j] * inv_m);
        s[j] = (float)(-k * sdy[j] * inv_m);
    }
    if (!dx) return;
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + c0;
        const float *dyr = dy + r * (size_t)c + c0;
        float *dxr = dx + r * (size_t)c + c0;
        BN_FOR_CH(w, j, dxr[j] += p[j] * dyr[j] + q[j] * (xr[j] - mf[j]) + s[j]);
    }
}

/* dx, dy, x (m,c); dgamma, dbeta, mean, invstd, gamma (c). dx, dgamma, dbeta
 * accumulated (+=), each may be NULL; gamma NULL means 1. */
void thaw_bn_backward_train(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                            const float *mean, const float *invstd, const float *gamma, size_t m,
                            int c)
{
    if (!dx && !dgamma && !dbeta) return;
    BN_FOR_CHUNKS(c, bn_backward_train_chunk, dx, dgamma, dbeta, dy, x, mean, invstd, gamma, m, c);
}

/* --- inference-mode backward ---------------------------------------------- */

static void bn_backward_infer_chunk(int c0, int w, float *restrict dx, float *dgamma, float *dbeta,
                                    const float *restrict dy, const float *restrict x,
                                    const float *gamma, const float *moving_mean,
                                    const float *moving_var, size_t m, int c, float eps)
{
    double is[BN_CHUNK];
    float a[BN_CHUNK];
    for (int j = 0; j < w; j++) {
        is[j] = 1.0 / sqrt((double)moving_var[c0 + j] + (double)eps);
        a[j] = (float)((gamma ? gamma[c0 + j] : 1.0) * is[j]);
    }
    if (dgamma || dbeta) {
        double sdy[BN_CHUNK], sdyx[BN_CHUNK];
        float mm[BN_CHUNK];
        for (int j = 0; j < w; j++) {
            sdy[j] = sdyx[j] = 0.0;
            mm[j] = moving_mean[c0 + j];
        }
        for (size_t r = 0; r < m; r++) {
            const float *xr = x + r * (size_t)c + c0;
            const float *dyr = dy + r * (size_t)c + c0;
            BN_FOR_CH(w, j, double g = dyr[j]; sdy[j] += g; sdyx[j] += g * ((double)xr[j] - mm[j]));
        }
        for (int j = 0; j < w; j++) {
            if (dbeta) dbeta[c0 + j] += (float)sdy[j];
            if (dgamma) dgamma[c0 + j] += (float)(sdyx[j] * is[j]);
        }
    }
    if (!dx) return;
    for (size_t r = 0; r < m; r++) {
        const float *dyr = dy + r * (size_t)c + c0;
        float *dxr = dx + r * (size_t)c + c0;
        BN_FOR_CH(w, j, dxr[j] += a[j] * dyr[j]);
    }
}

/* dx, dy, x (m,c); dgamma, dbeta, gamma, moving_mean, moving_var (c). dx,
 * dgamma, dbeta accumulated (+=), each may be NULL; gamma NULL means 1. */
void thaw_bn_backward_infer(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                            const float *gamma, const float *moving_mean, const float *moving_var,
                            size_t m, int c, float eps)
{
    if (!dx && !dgamma && !dbeta) return;
    BN_FOR_CHUNKS(c, bn_backward_infer_chunk, dx, dgamma, dbeta, dy, x, gamma, moving_mean,
                  moving_var, m, c, eps);
}

/* --- moving statistics ---------------------------------------------------- */

/* moving_mean, moving_var (c) updated in place; mean, var (c): batch mean and
 * biased variance over `count` elements per channel. Computed in double. */
void thaw_bn_update_moving(float *moving_mean, float *moving_var, const float *mean,
                           const float *var, int c, size_t count, float momentum,
                           thaw_bn_var_mode mode, float eps)
{
    double n = (double)count;
    double scale = 1.0;
    switch (mode) {
    case THAW_BN_VAR_BIASED:
        break;
    case THAW_BN_VAR_UNBIASED:
        /* TF's fused CPU kernel: n / max(n - 1, 1) */
        scale = n / (n - 1.0 >= 1.0 ? n - 1.0 : 1.0);
        break;
    case THAW_BN_VAR_KERAS22:
        /* multi-backend Keras 2.1.4-2.3.1: n / (n - (1 + eps)) as written;
         * for n = 1 the batch variance is 0, so the sign of the factor is moot. */
        scale = n / (n - (1.0 + (double)eps));
        break;
    }
    double mom = momentum, rest = 1.0 - mom;
    for (int j = 0; j < c; j++) {
        moving_mean[j] = (float)(mom * moving_mean[j] + rest * mean[j]);
        moving_var[j] = (float)(mom * moving_var[j] + rest * (var[j] * scale));
    }
}
