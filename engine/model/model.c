/* The model: graph building blocks, arenas, forward and backward passes. */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/batchnorm.h"
#include "kernels/dense.h"
#include "kernels/elementwise.h"
#include "kernels/pool.h"
#include "model/model-private.h"

static const char *const kind_names[THAW_LAYER_KIND_COUNT] = {
    [THAW_LAYER_INPUT] = "InputLayer",
    [THAW_LAYER_CONV2D] = "Conv2D",
    [THAW_LAYER_BATCHNORM] = "BatchNormalization",
    [THAW_LAYER_RELU] = "Activation",
    [THAW_LAYER_ADD] = "Add",
    [THAW_LAYER_PAD] = "ZeroPadding2D",
    [THAW_LAYER_MAXPOOL] = "MaxPooling2D",
    [THAW_LAYER_GAP] = "GlobalAveragePooling2D",
    [THAW_LAYER_DENSE] = "Dense",
    [THAW_LAYER_DROPOUT] = "Dropout",
};

const char *thaw_layer_kind_name(thaw_layer_kind kind)
{
    if ((int)kind < 0 || kind >= THAW_LAYER_KIND_COUNT) return "?";
    return kind_names[kind];
}

void thaw_model_config_default(thaw_model_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->arch, sizeof cfg->arch, "resnet20");
    cfg->in_h = 28;
    cfg->in_w = 28;
    cfg->in_c = 1;
    cfg->classes = 10;
    cfg->seed = 1;
    for (int k = 0; k < 4; k++) cfg->input_scale[k] = 1.0f;
}

void thaw_model_config_set_standardize(thaw_model_config *cfg, float mean, float std)
{
    cfg->input_bgr = false;
    for (int k = 0; k < 4; k++) {
        cfg->input_mean[k] = mean;
        cfg->input_scale[k] = 1.0f / std;
    }
}

void thaw_model_config_set_caffe(thaw_model_config *cfg)
{
    static const float bgr_mean[3] = {103.939f, 116.779f, 123.68f};
    cfg->input_bgr = true;
    for (int k = 0; k < 4; k++) {
        cfg->input_mean[k] = k < 3 ? bgr_mean[k] : 0.0f;
        cfg->input_scale[k] = 1.0f;
    }
}

bool thaw_model_config_input_identity(const thaw_model_config *cfg)
{
    if (cfg->input_bgr && cfg->in_c > 1) return false;
    for (int k = 0; k < cfg->in_c && k < 4; k++)
        if (cfg->input_mean[k] != 0.0f || cfg->input_scale[k] != 1.0f) return false;
    return true;
}

/* The input layer: raw pixels (n, h, w, c) -> preprocessed network input. */
static void preprocess_input(float *restrict y, const float *restrict x, size_t pixels,
                             const thaw_model_config *cfg)
{
    const int c = cfg->in_c;
    if (thaw_model_config_input_identity(cfg)) {
        memcpy(y, x, pixels * (size_t)c * sizeof(float));
        return;
    }
    for (size_t p = 0; p < pixels; p++)
        for (int k = 0; k < c; k++) {
            int src = cfg->input_bgr ? c - 1 - k : k;
            y[p * c + k] = (x[p * c + src] - cfg->input_mean[k]) * cfg->input_scale[k];
        }
}

/* ------------------------------------------------------------------ builder */

static thaw_layer *builder_push(thaw_builder *b, thaw_layer_kind kind, const char *name, int in0,
                                int in1)
{
    if (b->status != THAW_OK) return NULL;
    thaw_model *m = b->m;
    if (m->n_layers == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        thaw_layer *p = realloc(m->layers, (size_t)cap * sizeof *p);
        if (!p) {
            b->status =
                thaw_error_set(b->err, THAW_ERR_NOMEM, "out of memory building %s", m->cfg.arch);
            return NULL;
        }
        m->layers = p;
        b->cap = cap;
    }
    thaw_layer *l = &m->layers[m->n_layers];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->kind = kind;
    l->inputs[0] = in0;
    l->inputs[1] = in1;
    l->n_inputs = (in0 >= 0) + (in1 >= 0);
    l->stage = b->stage;
    l->block = b->block;
    l->in_base = b->in_base;
    l->trainable = true;
    l->lr_mult = 1.0f;
    l->momentum = -1.0f;
    l->manual = (thaw_layer_mode){
        .params_trained = true, .bn_batch_stats = true, .bn_update = true, .dropout_active = true};
    return l;
}

static int builder_commit(thaw_builder *b)
{
    return b->m->n_layers++;
}

static const thaw_layer *input_of(thaw_builder *b, int in)
{
    if (b->status != THAW_OK) return NULL;
    return &b->m->layers[in];
}

static int too_small(thaw_builder *b, const char *name, const thaw_layer *in)
{
    b->status = thaw_error_set(
        b->err, THAW_ERR_SHAPE, "%s: input %dx%d is too small for layer %s (its input is %dx%dx%d)",
        b->m->cfg.arch, b->m->cfg.in_h, b->m->cfg.in_w, name, in->oh, in->ow, in->oc);
    return -1;
}

int thaw_build_input(thaw_builder *b, const char *name, int h, int w, int c)
{
    thaw_layer *l = builder_push(b, THAW_LAYER_INPUT, name, -1, -1);
    if (!l) return -1;
    l->oh = h;
    l->ow = w;
    l->oc = c;
    l->trainable = false;
    return builder_commit(b);
}

int thaw_build_conv(thaw_builder *b, const char *name, int in, int filters, int k, int stride,
                    bool same, bool bias)
{
    const thaw_layer *x = input_of(b, in);
    thaw_layer *l = builder_push(b, THAW_LAYER_CONV2D, name, in, -1);
    if (!l) return -1;
    x = &b->m->layers[in]; /* builder_push may have moved the array */
    l->kh = l->kw = k;
    l->sh = l->sw = stride;
    if (same) {
        thaw_conv_same_padding(x->oh, k, stride, &l->pt, &l->pb);
        thaw_conv_same_padding(x->ow, k, stride, &l->pl, &l->pr);
    }
    l->use_bias = bias;
    thaw_conv_shape s;
    if (thaw_conv_shape_init(&s, 1, x->oh, x->ow, x->oc, filters, k, k, stride, stride, l->pt,
                             l->pb, l->pl, l->pr) != 0)
        return too_small(b, name, x);
    l->oh = s.oh;
    l->ow = s.ow;
    l->oc = filters;
    return builder_commit(b);
}

int thaw_build_bn(thaw_builder *b, const char *name, int in, float eps)
{
    thaw_layer *l = builder_push(b, THAW_LAYER_BATCHNORM, name, in, -1);
    if (!l) return -1;
    const thaw_layer *x = &b->m->layers[in];
    l->oh = x->oh;
    l->ow = x->ow;
    l->oc = x->oc;
    l->eps = eps;
    return builder_commit(b);
}

static int build_same_shape(thaw_builder *b, thaw_layer_kind kind, const char *name, int in0,
                            int in1)
{
    thaw_layer *l = builder_push(b, kind, name, in0, in1);
    if (!l) return -1;
    const thaw_layer *x = &b->m->layers[in0];
    if (in1 >= 0) {
        const thaw_layer *y = &b->m->layers[in1];
        if (x->oh != y->oh || x->ow != y->ow || x->oc != y->oc) {
            b->status = thaw_error_set(b->err, THAW_ERR_SHAPE,
                                       "layer %s: inputs %dx%dx%d and %dx%dx%d differ", name, x->oh,
                                       x->ow, x->oc, y->oh, y->ow, y->oc);
            return -1;
        }
    }
    l->oh = x->oh;
    l->ow = x->ow;
    l->oc = x->oc;
    return builder_commit(b);
}

int thaw_build_relu(thaw_builder *b, const char *name, int in)
{
    return build_same_shape(b, THAW_LAYER_RELU, name, in, -1);
}

int thaw_build_add(thaw_builder *b, const char *name, int a, int c)
{
    return build_same_shape(b, THAW_LAYER_ADD, name, a, c);
}

int thaw_build_dropout(thaw_builder *b, const char *name, int in, float rate)
{
    int i = build_same_shape(b, THAW_LAYER_DROPOUT, name, in, -1);
    if (i >= 0) b->m->layers[i].rate = rate;
    return i;
}

int thaw_build_pad(thaw_builder *b, const char *name, int in, int pad)
{
    thaw_layer *l = builder_push(b, THAW_LAYER_PAD, name, in, -1);
    if (!l) return -1;
    const thaw_layer *x = &b->m->layers[in];
    l->pt = l->pb = l->pl = l->pr = pad;
    l->oh = x->oh + 2 * pad;
    l->ow = x->ow + 2 * pad;
    l->oc = x->oc;
    return builder_commit(b);
}

int thaw_build_maxpool(thaw_builder *b, const char *name, int in, int k, int stride)
{
    thaw_layer *l = builder_push(b, THAW_LAYER_MAXPOOL, name, in, -1);
    if (!l) return -1;
    const thaw_layer *x = &b->m->layers[in];
    l->kh = l->kw = k;
    l->sh = l->sw = stride;
    thaw_pool_shape s;
    if (thaw_pool_shape_init(&s, 1, x->oh, x->ow, x->oc, k, k, stride, stride) != 0)
        return too_small(b, name, x);
    l->oh = s.oh;
    l->ow = s.ow;
    l->oc = x->oc;
    return builder_commit(b);
}

int thaw_build_gap(thaw_builder *b, const char *name, int in)
{
    thaw_layer *l = builder_push(b, THAW_LAYER_GAP, name, in, -1);
    if (!l) return -1;
    l->oh = l->ow = 1;
    l->oc = b->m->layers[in].oc;
    return builder_commit(b);
}

int thaw_build_dense(thaw_builder *b, const char *name, int in, int units, bool relu)
{
    thaw_layer *l = builder_push(b, THAW_LAYER_DENSE, name, in, -1);
    if (!l) return -1;
    const thaw_layer *x = &b->m->layers[in];
    if (x->oh != 1 || x->ow != 1) {
        b->status = thaw_error_set(b->err, THAW_ERR_SHAPE,
                                   "layer %s: Dense needs a flat input, got %dx%dx%d", name, x->oh,
                                   x->ow, x->oc);
        return -1;
    }
    l->oh = l->ow = 1;
    l->oc = units;
    l->use_bias = true;
    l->relu = relu;
    return builder_commit(b);
}

/* ------------------------------------------------------------- parameters */

static int add_param(thaw_model *m, int *cap, int layer, const char *suffix, int ndim,
                     const int *dims, bool is_state)
{
    if (m->n_params == *cap) {
        int ncap = *cap ? 2 * *cap : 64;
        thaw_param *p = realloc(m->params, (size_t)ncap * sizeof *p);
        if (!p) return -1;
        m->params = p;
        *cap = ncap;
    }
    thaw_param *p = &m->params[m->n_params++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s/%s", m->layers[layer].name, suffix);
    p->layer = layer;
    p->ndim = ndim;
    p->count = 1;
    for (int i = 0; i < ndim; i++) {
        p->dims[i] = dims[i];
        p->count *= (size_t)dims[i];
    }
    p->offset = m->n_floats;
    /* Keep every tensor 64-byte aligned (16 floats). */
    m->n_floats += (p->count + 15) & ~(size_t)15;
    p->is_state = is_state;
    return 0;
}

static thaw_status register_params(thaw_model *m, thaw_error *err)
{
    int cap = 0;
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        const thaw_layer *x = l->n_inputs ? &m->layers[l->inputs[0]] : NULL;
        int rc = 0;
        l->first_param = m->n_params;
        switch (l->kind) {
        case THAW_LAYER_CONV2D: {
            int kd[4] = {l->kh, l->kw, x->oc, l->oc};
            rc |= add_param(m, &cap, i, "kernel", 4, kd, false);
            if (l->use_bias) rc |= add_param(m, &cap, i, "bias", 1, &l->oc, false);
            break;
        }
        case THAW_LAYER_BATCHNORM:
            rc |= add_param(m, &cap, i, "gamma", 1, &l->oc, false);
            rc |= add_param(m, &cap, i, "beta", 1, &l->oc, false);
            rc |= add_param(m, &cap, i, "moving_mean", 1, &l->oc, true);
            rc |= add_param(m, &cap, i, "moving_variance", 1, &l->oc, true);
            break;
        case THAW_LAYER_DENSE: {
            int kd[2] = {x->oc, l->oc};
            rc |= add_param(m, &cap, i, "kernel", 2, kd, false);
            if (l->use_bias) rc |= add_param(m, &cap, i, "bias", 1, &l->oc, false);
            break;
        }
        default:
            break;
        }
        if (rc) return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
        l->n_params = m->n_params - l->first_param;
    }
    return THAW_OK;
}

float *thaw_alloc_floats(size_t n)
{
    size_t bytes = ((n ? n : 1) * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

static void init_weights(thaw_model *m)
{
    thaw_rng rng;
    thaw_rng_seed(&rng, m->cfg.seed, 0x1417);
    for (int i = 0; i < m->n_params; i++) {
        thaw_param *p = &m->params[i];
        float *d = thaw_param_data(m, p);
        const thaw_layer *l = &m->layers[p->layer];
        const char *suffix = strrchr(p->name, '/') + 1;
        if (strcmp(suffix, "kernel") == 0 && l->kind == THAW_LAYER_CONV2D) {
            /* He-normal: std = sqrt(2 / fan_in), fan_in = kh*kw*cin. */
            float std = sqrtf(2.0f / (float)(p->dims[0] * p->dims[1] * p->dims[2]));
            for (size_t j = 0; j < p->count; j++) d[j] = std * thaw_rng_normal(&rng);
        } else if (strcmp(suffix, "kernel") == 0) {
            /* Glorot-uniform, Keras's Dense default. */
            float lim = sqrtf(6.0f / (float)(p->dims[0] + p->dims[1]));
            for (size_t j = 0; j < p->count; j++)
                d[j] = lim * (2.0f * thaw_rng_uniform(&rng) - 1.0f);
        } else if (strcmp(suffix, "gamma") == 0 || strcmp(suffix, "moving_variance") == 0) {
            for (size_t j = 0; j < p->count; j++) d[j] = 1.0f;
        } /* bias, beta, moving_mean: 0 */
    }
}

static thaw_status model_new(thaw_model **out, const thaw_model_config *cfg, bool init,
                             thaw_error *err);

thaw_status thaw_model_new(thaw_model **out, const thaw_model_config *cfg, thaw_error *err)
{
    return model_new(out, cfg, true, err);
}

thaw_status thaw_model_new_uninitialized(thaw_model **out, const thaw_model_config *cfg,
                                         thaw_error *err)
{
    return model_new(out, cfg, false, err);
}

static thaw_status model_new(thaw_model **out, const thaw_model_config *cfg, bool init,
                             thaw_error *err)
{
    *out = NULL;
    if (cfg->in_h <= 0 || cfg->in_w <= 0 || cfg->in_c <= 0 || cfg->in_h > 4096 ||
        cfg->in_w > 4096 || cfg->in_c > 64)
        return thaw_error_set(err, THAW_ERR_ARG, "model input %dx%dx%d is out of range", cfg->in_h,
                              cfg->in_w, cfg->in_c);
    if (cfg->classes < 0 || cfg->classes > 100000 || cfg->head_hidden < 0 ||
        cfg->head_hidden > 100000)
        return thaw_error_set(err, THAW_ERR_ARG, "model head: classes %d, hidden %d", cfg->classes,
                              cfg->head_hidden);
    if (cfg->width < 0 || cfg->width > 4096)
        return thaw_error_set(err, THAW_ERR_ARG, "model width %d is out of range", cfg->width);
    if (!(cfg->dropout >= 0.0f && cfg->dropout < 1.0f))
        return thaw_error_set(err, THAW_ERR_ARG, "dropout rate %g is not in [0, 1)",
                              (double)cfg->dropout);
    if (cfg->in_c > 4 && !thaw_model_config_input_identity(cfg))
        return thaw_error_set(err, THAW_ERR_ARG,
                              "input preprocessing is defined for at most 4 channels, not %d",
                              cfg->in_c);
    for (int k = 0; k < cfg->in_c && k < 4; k++)
        if (!isfinite(cfg->input_mean[k]) || !isfinite(cfg->input_scale[k]) ||
            cfg->input_scale[k] == 0.0f)
            return thaw_error_set(err, THAW_ERR_ARG, "input channel %d: mean %g, scale %g", k,
                                  (double)cfg->input_mean[k], (double)cfg->input_scale[k]);
    if (cfg->input_bgr && cfg->in_c != 3)
        return thaw_error_set(err, THAW_ERR_ARG, "BGR input needs 3 channels, not %d", cfg->in_c);
    if (!(cfg->bn_eps >= 0.0f && cfg->bn_eps < 1.0f))
        return thaw_error_set(err, THAW_ERR_ARG, "BatchNorm epsilon %g is not in [0, 1)",
                              (double)cfg->bn_eps);

    thaw_model *m = calloc(1, sizeof *m);
    if (!m) return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
    m->cfg = *cfg;
    m->cfg.arch[sizeof m->cfg.arch - 1] = '\0';
    m->preset = THAW_PRESET_KERAS3;
    m->call_training = THAW_TRUE;
    m->base_training = THAW_UNSET;
    m->bn_momentum = -1.0f;
    const char *be = getenv("THAW_BACKEND");
    m->backend = be && *be ? thaw_backend_by_name(be) : thaw_backend_default();
    if (!m->backend) {
        free(m);
        return thaw_error_set(err, THAW_ERR_ARG,
                              "THAW_BACKEND='%s' names no backend (openblas, naive)", be);
    }
    thaw_rng_seed(&m->rng, cfg->seed, 0xd50);
    atomic_init(&m->cancel, 0);

    thaw_builder b = {.m = m, .in_base = true, .err = err};
    thaw_status st = thaw_resnet_build(&b);
    if (st == THAW_OK) st = register_params(m, err);
    if (st == THAW_OK) {
        m->param_mem = thaw_alloc_floats(m->n_floats);
        m->grad_mem = thaw_alloc_floats(m->n_floats);
        m->opt_steps = calloc((size_t)m->n_params + 1, sizeof *m->opt_steps);
        m->reach = calloc((size_t)m->n_layers, sizeof *m->reach);
        if (!m->param_mem || !m->grad_mem || !m->opt_steps || !m->reach)
            st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory for %zu parameters",
                                m->n_floats);
    }
    for (int i = 0; st == THAW_OK && i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        if (l->kind == THAW_LAYER_BATCHNORM) {
            l->bn_mean = calloc((size_t)3 * l->oc, sizeof(float));
            if (!l->bn_mean)
                st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
            else {
                l->bn_var = l->bn_mean + l->oc;
                l->bn_invstd = l->bn_var + l->oc;
            }
        }
    }
    if (st != THAW_OK) {
        thaw_model_free(m);
        return st;
    }
    if (init) init_weights(m);
    *out = m;
    return THAW_OK;
}

static void free_activations(thaw_model *m)
{
    free(m->act_mem);
    free(m->scratch);
    free(m->probs);
    m->act_mem = m->scratch = m->probs = NULL;
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        free(l->argmax);
        l->out = l->dout = l->mask = NULL;
        l->argmax = NULL;
    }
    m->batch_cap = 0;
    m->act_floats = m->scratch_floats = 0;
}

void thaw_model_free(thaw_model *m)
{
    if (!m) return;
    free_activations(m);
    for (int i = 0; i < m->n_layers; i++) free(m->layers[i].bn_mean);
    free(m->layers);
    free(m->params);
    free(m->param_mem);
    free(m->grad_mem);
    free(m->opt_m);
    free(m->opt_v);
    free(m->opt_steps);
    free(m->reach);
    free(m);
}

int thaw_model_find_layer(const thaw_model *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i].name, name) == 0) return i;
    return -1;
}

thaw_param *thaw_model_find_param(thaw_model *m, const char *name)
{
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

const thaw_layer *thaw_model_output(const thaw_model *m)
{
    return &m->layers[m->n_layers - 1];
}

thaw_status thaw_model_set_trainable(thaw_model *m, int layer, bool trainable)
{
    if (layer < 0 || layer >= m->n_layers) return THAW_ERR_ARG;
    m->layers[layer].trainable = trainable;
    return THAW_OK;
}

void thaw_model_unfreeze_last(thaw_model *m, int n)
{
    int n_base = 0;
    for (int i = 0; i < m->n_layers; i++) n_base += m->layers[i].in_base;
    int seen = 0;
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        if (!l->in_base) continue;
        bool last = seen >= n_base - n;
        seen++;
        if (l->kind != THAW_LAYER_INPUT) l->trainable = last;
    }
}

thaw_status thaw_model_set_preset(thaw_model *m, thaw_preset preset)
{
    if (!thaw_preset_get(preset)) return THAW_ERR_ARG;
    m->preset = preset;
    return THAW_OK;
}

float thaw_model_bn_momentum(const thaw_model *m, const thaw_layer *l)
{
    if (l->momentum >= 0.0f) return l->momentum;
    if (m->bn_momentum >= 0.0f) return m->bn_momentum;
    return thaw_preset_get(m->preset)->bn_momentum;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* -------------------------------------------------------------- activations */

static thaw_conv_shape conv_shape(const thaw_model *m, const thaw_layer *l, int n)
{
    const thaw_layer *x = &m->layers[l->inputs[0]];
    thaw_conv_shape s;
    thaw_conv_shape_init(&s, n, x->oh, x->ow, x->oc, l->oc, l->kh, l->kw, l->sh, l->sw, l->pt,
                         l->pb, l->pl, l->pr);
    return s;
}

static thaw_pool_shape pool_shape(const thaw_model *m, const thaw_layer *l, int n)
{
    const thaw_layer *x = &m->layers[l->inputs[0]];
    thaw_pool_shape s;
    thaw_pool_shape_init(&s, n, x->oh, x->ow, x->oc, l->kh, l->kw, l->sh, l->sw);
    return s;
}

thaw_status thaw_model_reserve(thaw_model *m, int n, thaw_error *err)
{
    if (n <= 0 || n > 1 << 20)
        return thaw_error_set(err, THAW_ERR_ARG, "batch size %d is out of range", n);
    if (n <= m->batch_cap) return THAW_OK;
    free_activations(m);

    /* One block: out and dout of every layer, then dropout masks. */
    size_t total = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        size_t sz = ((size_t)n * thaw_layer_size(l) + 15) & ~(size_t)15;
        total += 2 * sz;
        if (l->kind == THAW_LAYER_DROPOUT) total += sz;
    }
    size_t scratch = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_CONV2D) continue;
        thaw_conv_shape s = conv_shape(m, l, n);
        size_t need = m->backend->conv_scratch_floats(&s);
        if (need > scratch) scratch = need;
    }
    const thaw_layer *outl = thaw_model_output(m);
    m->act_mem = thaw_alloc_floats(total);
    m->scratch = thaw_alloc_floats(scratch);
    m->probs = thaw_alloc_floats((size_t)n * thaw_layer_size(outl));
    bool ok = m->act_mem && m->scratch && m->probs;
    float *p = m->act_mem;
    for (int i = 0; ok && i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        size_t sz = ((size_t)n * thaw_layer_size(l) + 15) & ~(size_t)15;
        l->out = p;
        p += sz;
        l->dout = p;
        p += sz;
        if (l->kind == THAW_LAYER_DROPOUT) {
            l->mask = p;
            p += sz;
        }
        if (l->kind == THAW_LAYER_MAXPOOL) {
            l->argmax = malloc(sz * sizeof *l->argmax);
            ok = l->argmax != NULL;
        }
    }
    if (!ok) {
        free_activations(m);
        return thaw_error_set(err, THAW_ERR_NOMEM,
                              "out of memory for activations of a batch of %d (%zu MB)", n,
                              total * sizeof(float) >> 20);
    }
    m->act_floats = total;
    m->scratch_floats = scratch;
    m->batch_cap = n;
    return THAW_OK;
}

/* ---------------------------------------------------------------- resolve */

thaw_layer_mode thaw_model_layer_mode(const thaw_model *m, int layer, thaw_phase phase)
{
    const thaw_layer *l = &m->layers[layer];
    thaw_resolve_in in = {
        .preset = m->preset,
        .phase = phase,
        .call_training = m->call_training,
        .node_training = l->in_base ? m->base_training : THAW_UNSET,
        .trainable = l->trainable,
        .is_bn = l->kind == THAW_LAYER_BATCHNORM,
        .is_dropout = l->kind == THAW_LAYER_DROPOUT,
        .has_params = l->n_params > 0,
        .manual = &l->manual,
    };
    return thaw_resolve(&in);
}

void thaw_model_resolve(thaw_model *m, thaw_phase phase)
{
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        l->mode = thaw_model_layer_mode(m, i, phase);
        /* The output gradient of a layer is needed when it or anything below
         * it trains: backward stops at the earliest trained layer. */
        bool reach = l->mode.params_trained;
        for (int k = 0; k < l->n_inputs; k++) reach = reach || m->reach[l->inputs[k]];
        m->reach[i] = reach;
    }
}

void thaw_model_params_changed(thaw_model *m)
{
    m->param_writes++;
}

/* ---------------------------------------------------------------- forward */

static const float *param_or_null(const thaw_model *m, const thaw_layer *l, int k)
{
    return k < l->n_params ? thaw_param_data(m, &m->params[l->first_param + k]) : NULL;
}

thaw_status thaw_model_forward_range(thaw_model *m, int from, const float *in_data, int n, int to,
                                     thaw_phase phase, thaw_rng *rng, thaw_error *err)
{
    if (from < 0 || to < from || to >= m->n_layers)
        return thaw_error_set(err, THAW_ERR_ARG, "layers %d..%d are not in the model's 0..%d", from,
                              to, m->n_layers - 1);
    thaw_status st = thaw_model_reserve(m, n, err);
    if (st != THAW_OK) return st;
    thaw_model_resolve(m, phase);
    if (!rng) rng = &m->rng;
    const thaw_backend *be = m->backend;
    const float *x = in_data;
    int first = 0;
    if (from > 0) { /* layer `from`'s output is given: start after it */
        thaw_layer *l = &m->layers[from];
        memcpy(l->out, in_data, (size_t)n * thaw_layer_size(l) * sizeof(float));
        first = from + 1;
    }

    for (int i = first; i <= to; i++) {
        thaw_layer *l = &m->layers[i];
        const thaw_layer *a = l->n_inputs > 0 ? &m->layers[l->inputs[0]] : NULL;
        const float *in = a ? a->out : NULL;
        size_t count = (size_t)n * thaw_layer_size(l);
        double t0 = m->profile ? now_ns() : 0.0;
        switch (l->kind) {
        case THAW_LAYER_INPUT:
            preprocess_input(l->out, x, (size_t)n * l->oh * l->ow, &m->cfg);
            break;
        case THAW_LAYER_CONV2D: {
            thaw_conv_shape s = conv_shape(m, l, n);
            be->conv_forward(l->out, in, param_or_null(m, l, 0),
                             l->use_bias ? param_or_null(m, l, 1) : NULL, &s, m->scratch);
            break;
        }
        case THAW_LAYER_BATCHNORM: {
            const float *gamma = param_or_null(m, l, 0), *beta = param_or_null(m, l, 1);
            size_t rows = (size_t)n * l->oh * l->ow;
            if (l->mode.bn_batch_stats)
                thaw_bn_forward_train(l->out, l->bn_mean, l->bn_var, l->bn_invstd, in, gamma, beta,
                                      rows, l->oc, l->eps);
            else
                thaw_bn_forward_infer(l->out, in, gamma, beta, param_or_null(m, l, 2),
                                      param_or_null(m, l, 3), rows, l->oc, l->eps);
            break;
        }
        case THAW_LAYER_RELU:
            thaw_relu_forward(l->out, in, count);
            break;
        case THAW_LAYER_ADD:
            thaw_add_forward(l->out, in, m->layers[l->inputs[1]].out, count);
            break;
        case THAW_LAYER_PAD:
            thaw_pad_forward(l->out, in, n, a->oh, a->ow, a->oc, l->pt, l->pb, l->pl, l->pr);
            break;
        case THAW_LAYER_MAXPOOL: {
            thaw_pool_shape s = pool_shape(m, l, n);
            thaw_maxpool_forward(l->out, l->argmax, in, &s);
            break;
        }
        case THAW_LAYER_GAP:
            thaw_gap_forward(l->out, in, n, a->oh, a->ow, a->oc);
            break;
        case THAW_LAYER_DENSE:
            thaw_dense_forward(l->out, in, param_or_null(m, l, 0),
                               l->use_bias ? param_or_null(m, l, 1) : NULL, n, a->oc, l->oc, be);
            if (l->relu) /* fused activation, in place (the kernels forbid aliasing) */
                for (size_t j = 0; j < count; j++) l->out[j] = l->out[j] > 0.0f ? l->out[j] : 0.0f;
            break;
        case THAW_LAYER_DROPOUT:
            if (l->mode.dropout_active)
                thaw_dropout_forward(l->out, l->mask, in, count, l->rate, rng);
            else
                memcpy(l->out, in, count * sizeof(float));
            break;
        case THAW_LAYER_KIND_COUNT:
            break;
        }
        if (m->profile) m->prof_ns[l->kind][0] += now_ns() - t0;
    }
    return THAW_OK;
}

void thaw_model_apply_bn_updates(thaw_model *m, int n)
{
    const thaw_preset_info *info = thaw_preset_get(m->preset);
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_BATCHNORM || !l->mode.bn_update || !l->mode.bn_batch_stats)
            continue;
        float *mm = thaw_param_data(m, &m->params[l->first_param + 2]);
        float *mv = thaw_param_data(m, &m->params[l->first_param + 3]);
        thaw_bn_update_moving(mm, mv, l->bn_mean, l->bn_var, l->oc, (size_t)n * l->oh * l->ow,
                              thaw_model_bn_momentum(m, l), info->var_mode, l->eps);
        l->writes++;
    }
}

thaw_status thaw_model_forward_pass(thaw_model *m, const float *x, int n, thaw_phase phase,
                                    thaw_rng *rng, thaw_error *err)
{
    return thaw_model_forward_range(m, 0, x, n, m->n_layers - 1, phase, rng, err);
}

thaw_status thaw_model_forward(thaw_model *m, const float *x, int n, thaw_phase phase,
                               bool update_stats, thaw_rng *rng, thaw_error *err)
{
    if (!x) return thaw_error_set(err, THAW_ERR_ARG, "no input batch");
    thaw_status st = thaw_model_forward_pass(m, x, n, phase, rng, err);
    if (st == THAW_OK && update_stats) thaw_model_apply_bn_updates(m, n);
    return st;
}

/* --------------------------------------------------------------- backward */

static float *grad_or_null(const thaw_model *m, const thaw_layer *l, int k)
{
    return k < l->n_params ? thaw_param_grad(m, &m->params[l->first_param + k]) : NULL;
}

void thaw_model_backward(thaw_model *m, int n)
{
    const thaw_backend *be = m->backend;
    /* Zero the output gradients that backward accumulates into; the last
     * layer's was written by the loss. */
    for (int i = 0; i < m->n_layers - 1; i++) {
        thaw_layer *l = &m->layers[i];
        if (m->reach[i]) memset(l->dout, 0, (size_t)n * thaw_layer_size(l) * sizeof(float));
    }
    for (int i = m->n_layers - 1; i >= 0; i--) {
        thaw_layer *l = &m->layers[i];
        if (!m->reach[i]) continue;
        thaw_layer *a = l->n_inputs > 0 ? &m->layers[l->inputs[0]] : NULL;
        float *din = a && m->reach[l->inputs[0]] ? a->dout : NULL;
        bool trained = l->mode.params_trained;
        size_t count = (size_t)n * thaw_layer_size(l);
        double t0 = m->profile ? now_ns() : 0.0;
        switch (l->kind) {
        case THAW_LAYER_INPUT:
            break;
        case THAW_LAYER_CONV2D: {
            thaw_conv_shape s = conv_shape(m, l, n);
            if (trained)
                be->conv_backward_weights(grad_or_null(m, l, 0),
                                          l->use_bias ? grad_or_null(m, l, 1) : NULL, l->dout,
                                          a->out, &s, m->scratch);
            if (din) be->conv_backward_data(din, l->dout, param_or_null(m, l, 0), &s, m->scratch);
            break;
        }
        case THAW_LAYER_BATCHNORM: {
            size_t rows = (size_t)n * l->oh * l->ow;
            float *dg = trained ? grad_or_null(m, l, 0) : NULL;
            float *db = trained ? grad_or_null(m, l, 1) : NULL;
            if (l->mode.bn_batch_stats)
                thaw_bn_backward_train(din, dg, db, l->dout, a->out, l->bn_mean, l->bn_invstd,
                                       param_or_null(m, l, 0), rows, l->oc);
            else
                thaw_bn_backward_infer(din, dg, db, l->dout, a->out, param_or_null(m, l, 0),
                                       param_or_null(m, l, 2), param_or_null(m, l, 3), rows, l->oc,
                                       l->eps);
            break;
        }
        case THAW_LAYER_RELU:
            if (din) thaw_relu_backward(din, l->dout, l->out, count);
            break;
        case THAW_LAYER_ADD: {
            if (din) thaw_accumulate(din, l->dout, count);
            thaw_layer *b = &m->layers[l->inputs[1]];
            if (m->reach[l->inputs[1]]) thaw_accumulate(b->dout, l->dout, count);
            break;
        }
        case THAW_LAYER_PAD:
            if (din)
                thaw_pad_backward(din, l->dout, n, a->oh, a->ow, a->oc, l->pt, l->pb, l->pl, l->pr);
            break;
        case THAW_LAYER_MAXPOOL:
            if (din) {
                thaw_pool_shape s = pool_shape(m, l, n);
                thaw_maxpool_backward(din, l->dout, l->argmax, &s);
            }
            break;
        case THAW_LAYER_GAP:
            if (din) thaw_gap_backward(din, l->dout, n, a->oh, a->ow, a->oc);
            break;
        case THAW_LAYER_DENSE:
            if (l->relu) /* fused activation: mask the incoming gradient in place */
                for (size_t j = 0; j < count; j++)
                    if (!(l->out[j] > 0.0f)) l->dout[j] = 0.0f;
            if (trained)
                thaw_dense_backward_weights(grad_or_null(m, l, 0),
                                            l->use_bias ? grad_or_null(m, l, 1) : NULL, l->dout,
                                            a->out, n, a->oc, l->oc, be);
            if (din)
                thaw_dense_backward_data(din, l->dout, param_or_null(m, l, 0), n, a->oc, l->oc, be);
            break;
        case THAW_LAYER_DROPOUT:
            if (din) {
                if (l->mode.dropout_active)
                    thaw_dropout_backward(din, l->dout, l->mask, count);
                else
                    thaw_accumulate(din, l->dout, count);
            }
            break;
        case THAW_LAYER_KIND_COUNT:
            break;
        }
        if (m->profile) m->prof_ns[l->kind][1] += now_ns() - t0;
    }
}
