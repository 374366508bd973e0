/* SGD and Adam over the parameter arena (formulas in optimizer.h). */
#include "model/optimizer.h"

#include "model/model-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void thaw_optimizer_default(thaw_optimizer *opt, thaw_opt_kind kind)
{
    *opt = (thaw_optimizer){
        .kind = kind,
        .lr = kind == THAW_OPT_ADAM ? 1e-3f : 1e-2f,
        .momentum = kind == THAW_OPT_SGD ? 0.9f : 0.0f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
    };
}

thaw_status thaw_optimizer_validate(const thaw_optimizer *opt, thaw_error *err)
{
    if (opt->kind != THAW_OPT_SGD && opt->kind != THAW_OPT_ADAM)
        return thaw_error_set(err, THAW_ERR_ARG, "unknown optimizer %d", (int)opt->kind);
    if (!isfinite(opt->lr) || opt->lr < 0.0f || opt->lr > 100.0f)
        return thaw_error_set(err, THAW_ERR_ARG, "learning rate %g is not in [0, 100]",
                              (double)opt->lr);
    if (!isfinite(opt->weight_decay) || opt->weight_decay < 0.0f || opt->weight_decay >= 1.0f)
        return thaw_error_set(err, THAW_ERR_ARG, "weight decay %g is not in [0, 1)",
                              (double)opt->weight_decay);
    if (opt->kind == THAW_OPT_SGD && !(opt->momentum >= 0.0f && opt->momentum < 1.0f))
        return thaw_error_set(err, THAW_ERR_ARG, "momentum %g is not in [0, 1)",
                              (double)opt->momentum);
    if (opt->kind == THAW_OPT_SGD && opt->nesterov && opt->momentum <= 0.0f)
        return thaw_error_set(err, THAW_ERR_ARG, "Nesterov momentum needs momentum > 0");
    if (opt->kind == THAW_OPT_ADAM &&
        !(opt->beta1 >= 0.0f && opt->beta1 < 1.0f && opt->beta2 >= 0.0f && opt->beta2 < 1.0f))
        return thaw_error_set(err, THAW_ERR_ARG, "Adam betas (%g, %g) are not in [0, 1)",
                              (double)opt->beta1, (double)opt->beta2);
    if (opt->kind == THAW_OPT_ADAM && !(opt->eps > 0.0f && isfinite(opt->eps)))
        return thaw_error_set(err, THAW_ERR_ARG, "Adam epsilon %g must be > 0", (double)opt->eps);
    return THAW_OK;
}

static void sgd_update(float *restrict p, float *restrict buf, const float *restrict g, size_t n,
                       float lr, float mu, float wd, bool nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float b = mu * buf[i] + gi;
        buf[i] = b;
        p[i] -= lr * (nesterov ? gi + mu * b : b);
    }
}

static void adam_update(float *restrict p, float *restrict m1, float *restrict m2,
                        const float *restrict g, size_t n, float lr, float b1, float b2, float eps,
                        float wd, uint32_t t)
{
    float c1 = 1.0f - powf(b1, (float)t);
    float c2 = 1.0f - powf(b2, (float)t);
    float step = lr / c1;
    float rc2 = 1.0f / sqrtf(c2);
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        m1[i] = b1 * m1[i] + (1.0f - b1) * gi;
        m2[i] = b2 * m2[i] + (1.0f - b2) * gi * gi;
        p[i] -= step * m1[i] / (sqrtf(m2[i]) * rc2 + eps);
    }
}

thaw_status thaw_optimizer_step(thaw_model *m, const thaw_optimizer *opt, thaw_error *err)
{
    bool need_v = opt->kind == THAW_OPT_ADAM;
    if (!m->opt_m) m->opt_m = thaw_alloc_floats(m->n_floats);
    if (need_v && !m->opt_v) m->opt_v = thaw_alloc_floats(m->n_floats);
    if (!m->opt_m || (need_v && !m->opt_v))
        return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory for the optimizer state (%zu MB)",
                              m->n_floats * sizeof(float) >> 20);
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        thaw_layer *l = &m->layers[p->layer];
        if (p->is_state || !l->mode.params_trained) continue;
        l->writes++;
        float lr = opt->lr * l->lr_mult;
        float *w = m->param_mem + p->offset;
        const float *g = m->grad_mem + p->offset;
        uint32_t t = ++m->opt_steps[i];
        if (opt->kind == THAW_OPT_SGD)
            sgd_update(w, m->opt_m + p->offset, g, p->count, lr, opt->momentum, opt->weight_decay,
                       opt->nesterov);
        else
            adam_update(w, m->opt_m + p->offset, m->opt_v + p->offset, g, p->count, lr, opt->beta1,
                        opt->beta2, opt->eps, opt->weight_decay, t);
    }
    return THAW_OK;
}
