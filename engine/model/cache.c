/* The frozen-prefix feature cache and the cost of a step (cache.h). The
 * cached passes themselves live in train.c beside the uncached ones. */
#include "model/cache.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "model/model-private.h"

/* ------------------------------------------------------------ fixed prefix */

static bool mode_fixed(thaw_layer_mode md)
{
    return !md.params_trained && !md.bn_batch_stats && !md.bn_update && !md.dropout_active;
}

static bool layer_fixed(const thaw_model *m, int i)
{
    return mode_fixed(thaw_model_layer_mode(m, i, THAW_PHASE_FIT)) &&
           mode_fixed(thaw_model_layer_mode(m, i, THAW_PHASE_PREDICT));
}

int thaw_model_fixed_cut(const thaw_model *m)
{
    int last = m->n_layers - 1;
    int fixed_to = -1; /* layers 0..fixed_to are fixed */
    while (fixed_to + 1 < last && layer_fixed(m, fixed_to + 1)) fixed_to++;
    /* From the back: the smallest input index of the layers after c; c is a
     * cut when nothing after it reads a layer before it. */
    int min_in = INT_MAX;
    for (int c = last - 1; c >= 1; c--) {
        const thaw_layer *next = &m->layers[c + 1];
        for (int k = 0; k < next->n_inputs; k++)
            if (next->inputs[k] < min_in) min_in = next->inputs[k];
        if (c <= fixed_to && min_in >= c) return c;
    }
    return 0;
}

/* ------------------------------------------------------------------ cache */

/* Changes whenever a layer up to cut (or the whole arena) is written. */
static uint64_t stamp_of(const thaw_model *m, int cut)
{
    uint64_t s = m->param_writes;
    for (int i = 0; i <= cut; i++) s += m->layers[i].writes;
    return s;
}

void thaw_feature_cache_init(thaw_feature_cache *c, const float *x, const int32_t *y, int n,
                             size_t max_bytes)
{
    *c = (thaw_feature_cache){.x = x, .y = y, .n = n > 0 ? n : 0, .max_bytes = max_bytes};
}

static void drop_features(thaw_feature_cache *c)
{
    free(c->feats);
    free(c->have);
    c->feats = NULL;
    c->have = NULL;
    c->cut = 0;
    c->per_image = 0;
    c->filled = 0;
}

void thaw_feature_cache_free(thaw_feature_cache *c)
{
    drop_features(c);
    free(c->xbuf);
    free(c->fbuf);
    free(c->ybuf);
    c->xbuf = c->fbuf = NULL;
    c->ybuf = NULL;
    c->xbuf_floats = c->fbuf_floats = 0;
    c->ybuf_n = 0;
}

int thaw_feature_cache_sync(thaw_feature_cache *c, const thaw_model *m)
{
    int cut = thaw_model_fixed_cut(m);
    if (cut == c->cut && (cut == 0 || stamp_of(m, cut) == c->stamp)) return cut;
    drop_features(c);
    if (cut == 0 || c->n == 0) return 0;
    size_t per = thaw_layer_size(&m->layers[cut]);
    if ((double)per * (double)c->n * sizeof(float) > (double)c->max_bytes) return 0;
    c->feats = thaw_alloc_floats(per * (size_t)c->n);
    c->have = calloc((size_t)c->n, 1);
    if (!c->feats || !c->have) { /* not worth failing a step for: run without */
        drop_features(c);
        return 0;
    }
    c->cut = cut;
    c->per_image = per;
    c->stamp = stamp_of(m, cut);
    return cut;
}

/* Grows a gather buffer to at least `need` floats. */
static bool reserve_floats(float **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    float *p = thaw_alloc_floats(need);
    if (!p) return false;
    free(*buf);
    *buf = p;
    *cap = need;
    return true;
}

static thaw_status out_of_memory(thaw_error *err)
{
    return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory for the feature cache's batch");
}

/* Image k of a pass: idx[k], or first + k without idx. */
static int image_at(const int *idx, int first, int k)
{
    return idx ? idx[k] : first + k;
}

/* Computes the prefix output of the images of the pass that are not in the
 * cache yet, in one forward pass up to the cut, and stores it. */
static thaw_status fill(thaw_feature_cache *c, thaw_model *m, const int *idx, int first, int n,
                        thaw_error *err)
{
    size_t img = (size_t)m->cfg.in_h * m->cfg.in_w * m->cfg.in_c;
    int missing = 0;
    for (int k = 0; k < n; k++) missing += !c->have[image_at(idx, first, k)];
    c->served += (uint64_t)(n - missing);
    if (missing == 0) return THAW_OK;
    if (!reserve_floats(&c->xbuf, &c->xbuf_floats, (size_t)missing * img))
        return out_of_memory(err);
    int j = 0;
    for (int k = 0; k < n; k++) {
        int i = image_at(idx, first, k);
        if (!c->have[i])
            memcpy(c->xbuf + (size_t)j++ * img, c->x + (size_t)i * img, img * sizeof(float));
    }
    thaw_status st =
        thaw_model_forward_range(m, 0, c->xbuf, missing, c->cut, THAW_PHASE_FIT, NULL, err);
    if (st != THAW_OK) return st;
    const float *out = m->layers[c->cut].out;
    j = 0;
    for (int k = 0; k < n; k++) {
        int i = image_at(idx, first, k);
        if (c->have[i]) continue;
        memcpy(c->feats + (size_t)i * c->per_image, out + (size_t)j++ * c->per_image,
               c->per_image * sizeof(float));
        c->have[i] = 1;
        c->filled++;
    }
    c->computed += (uint64_t)missing;
    return THAW_OK;
}

thaw_status thaw_feature_cache_gather(thaw_feature_cache *c, thaw_model *m, int cut, const int *idx,
                                      int n, const float **out, thaw_error *err)
{
    for (int k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= c->n)
            return thaw_error_set(err, THAW_ERR_ARG,
                                  "image %d of the batch is index %d, not in 0..%d", k, idx[k],
                                  c->n - 1);
    if (n > c->ybuf_n) {
        int32_t *y = malloc((size_t)n * sizeof *y);
        if (!y) return out_of_memory(err);
        free(c->ybuf);
        c->ybuf = y;
        c->ybuf_n = n;
    }
    for (int k = 0; k < n; k++) c->ybuf[k] = c->y[idx[k]];

    size_t row = cut > 0 ? c->per_image : (size_t)m->cfg.in_h * m->cfg.in_w * m->cfg.in_c;
    const float *src = cut > 0 ? c->feats : c->x;
    if (cut > 0) {
        thaw_status st = fill(c, m, idx, 0, n, err);
        if (st != THAW_OK) return st;
    }
    if (!reserve_floats(&c->fbuf, &c->fbuf_floats, (size_t)n * row)) return out_of_memory(err);
    for (int k = 0; k < n; k++)
        memcpy(c->fbuf + (size_t)k * row, src + (size_t)idx[k] * row, row * sizeof(float));
    *out = c->fbuf;
    return THAW_OK;
}

thaw_status thaw_feature_cache_range(thaw_feature_cache *c, thaw_model *m, int first, int count,
                                     const float **out, thaw_error *err)
{
    thaw_status st = fill(c, m, NULL, first, count, err);
    if (st != THAW_OK) return st;
    *out = c->feats + (size_t)first * c->per_image;
    return THAW_OK;
}

/* ------------------------------------------------------------------- cost */

/* Multiply-accumulates per image of a conv or dense layer's forward pass. */
static double layer_macs(const thaw_model *m, const thaw_layer *l)
{
    const thaw_layer *in = l->n_inputs > 0 ? &m->layers[l->inputs[0]] : NULL;
    if (l->kind == THAW_LAYER_CONV2D) return (double)l->oh * l->ow * l->oc * l->kh * l->kw * in->oc;
    if (l->kind == THAW_LAYER_DENSE) return (double)thaw_layer_size(in) * l->oc;
    return 0.0;
}

thaw_step_cost thaw_model_step_cost(const thaw_model *m, int from)
{
    thaw_step_cost cost = {0};
    bool *reach = calloc((size_t)m->n_layers, sizeof *reach);
    if (!reach) return cost;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        thaw_layer_mode md = thaw_model_layer_mode(m, i, THAW_PHASE_FIT);
        bool input_reached = l->n_inputs > 0 && reach[l->inputs[0]];
        reach[i] = md.params_trained;
        for (int k = 0; k < l->n_inputs; k++) reach[i] = reach[i] || reach[l->inputs[k]];
        if (i <= from || l->kind == THAW_LAYER_INPUT) continue;
        double macs = layer_macs(m, l);
        cost.layers_forward++;
        cost.forward += macs;
        if (!reach[i]) continue;
        cost.layers_backward++;
        if (md.params_trained) {
            cost.layers_trained++;
            cost.backward_weights += macs;
        }
        if (input_reached) cost.backward_data += macs;
    }
    free(reach);
    return cost;
}
