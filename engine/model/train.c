/* Training step, prediction, evaluation and BatchNorm re-estimation. */
#include "model/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/batchnorm.h"
#include "kernels/loss.h"
#include "model/cache.h"
#include "model/model-private.h"

thaw_step_report *thaw_step_report_new(const thaw_model *m)
{
    thaw_step_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    for (int i = 0; i < m->n_layers; i++) {
        if (m->layers[i].kind != THAW_LAYER_BATCHNORM) continue;
        r->n_bn++;
        r->bn_channels += m->layers[i].oc;
    }
    size_t nb = (size_t)r->n_bn + 1, nc = (size_t)r->bn_channels + 1;
    r->bn_layer = calloc(nb, sizeof *r->bn_layer);
    r->bn_offset = calloc(nb, sizeof *r->bn_offset);
    r->bn_used_batch = calloc(nb, 1);
    r->bn_updated = calloc(nb, 1);
    r->batch_mean = calloc(4 * nc, sizeof(float));
    if (!r->bn_layer || !r->bn_offset || !r->bn_used_batch || !r->bn_updated || !r->batch_mean) {
        thaw_step_report_free(r);
        return NULL;
    }
    r->batch_var = r->batch_mean + nc;
    r->moving_mean = r->batch_var + nc;
    r->moving_var = r->moving_mean + nc;
    int j = 0, off = 0;
    for (int i = 0; i < m->n_layers; i++) {
        if (m->layers[i].kind != THAW_LAYER_BATCHNORM) continue;
        r->bn_layer[j] = i;
        r->bn_offset[j] = off;
        off += m->layers[i].oc;
        j++;
    }
    return r;
}

void thaw_step_report_free(thaw_step_report *r)
{
    if (!r) return;
    free(r->bn_layer);
    free(r->bn_offset);
    free(r->bn_used_batch);
    free(r->bn_updated);
    free(r->batch_mean);
    free(r);
}

static void fill_report(const thaw_model *m, thaw_step_report *r)
{
    for (int j = 0; j < r->n_bn; j++) {
        const thaw_layer *l = &m->layers[r->bn_layer[j]];
        size_t c = (size_t)l->oc, off = (size_t)r->bn_offset[j];
        r->bn_used_batch[j] = l->mode.bn_batch_stats;
        r->bn_updated[j] = l->mode.bn_update;
        if (l->mode.bn_batch_stats) {
            memcpy(r->batch_mean + off, l->bn_mean, c * sizeof(float));
            memcpy(r->batch_var + off, l->bn_var, c * sizeof(float));
        } else {
            memset(r->batch_mean + off, 0, c * sizeof(float));
            memset(r->batch_var + off, 0, c * sizeof(float));
        }
        memcpy(r->moving_mean + off, thaw_param_data(m, &m->params[l->first_param + 2]),
               c * sizeof(float));
        memcpy(r->moving_var + off, thaw_param_data(m, &m->params[l->first_param + 3]),
               c * sizeof(float));
    }
}

static int top1(const float *row, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

static thaw_status check_batch(const thaw_model *m, const float *x, const int32_t *labels, int n,
                               thaw_error *err)
{
    if (m->cfg.classes <= 0)
        return thaw_error_set(err, THAW_ERR_STATE, "model %s has no classifier head", m->cfg.arch);
    if (!x || n <= 0) return thaw_error_set(err, THAW_ERR_ARG, "empty batch (%d images)", n);
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->cfg.classes)
            return thaw_error_set(err, THAW_ERR_ARG, "label %d of image %d is not in [0, %d)",
                                  labels[i], i, m->cfg.classes);
    return THAW_OK;
}

/* A training step whose forward starts after layer `from` (0: in is the
 * batch of images; else the layer's output for it, from a feature cache). */
static thaw_status train_step_from(thaw_model *m, int from, const float *in, const int32_t *labels,
                                   int n, const thaw_optimizer *opt, thaw_step_report *rep,
                                   thaw_error *err)
{
    thaw_status st = check_batch(m, in, labels, n, err);
    if (st == THAW_OK && !labels) st = thaw_error_set(err, THAW_ERR_ARG, "no labels");
    if (st == THAW_OK) st = thaw_optimizer_validate(opt, err);
    if (st != THAW_OK) return st;
    /* Forward without touching the moving statistics: they are updated only
     * once the loss is known to be finite, so a diverging step loses nothing. */
    st = thaw_model_forward_range(m, from, in, n, m->n_layers - 1, THAW_PHASE_FIT, NULL, err);
    if (st != THAW_OK) return st;
    thaw_layer *out = &m->layers[m->n_layers - 1];
    int k = m->cfg.classes;
    double loss = thaw_softmax_xent(out->dout, m->probs, out->out, labels, n, k);
    if (!isfinite(loss))
        return thaw_error_set(err, THAW_ERR_NONFINITE,
                              "loss is %g at step %llu: the learning rate (%g) is probably too "
                              "high; parameters left unchanged",
                              loss, (unsigned long long)m->steps + 1, (double)opt->lr);
    /* The optimizer can fail only allocating its state, before it moves anything;
     * the moving statistics follow once it succeeded. Backward never reaches
     * below `from`: the layers up to a cache's cut train nothing. */
    memset(m->grad_mem, 0, m->n_floats * sizeof(float));
    thaw_model_backward(m, n);
    st = thaw_optimizer_step(m, opt, err);
    if (st != THAW_OK) return st;
    thaw_model_apply_bn_updates(m, n);
    m->steps++;
    if (rep) {
        rep->loss = loss;
        rep->n = n;
        rep->step = m->steps;
        rep->correct = 0;
        for (int i = 0; i < n; i++) rep->correct += top1(out->out + (size_t)i * k, k) == labels[i];
        fill_report(m, rep);
    }
    return THAW_OK;
}

thaw_status thaw_model_train_step(thaw_model *m, const float *x, const int32_t *labels, int n,
                                  const thaw_optimizer *opt, thaw_step_report *rep, thaw_error *err)
{
    return train_step_from(m, 0, x, labels, n, opt, rep, err);
}

thaw_status thaw_model_train_step_cached(thaw_model *m, thaw_feature_cache *c, const int *idx,
                                         int n, const thaw_optimizer *opt, thaw_step_report *rep,
                                         thaw_error *err)
{
    if (!c->y) return thaw_error_set(err, THAW_ERR_ARG, "no labels");
    if (!idx || n <= 0) return thaw_error_set(err, THAW_ERR_ARG, "empty batch (%d images)", n);
    int from = thaw_feature_cache_sync(c, m);
    const float *in;
    thaw_status st = thaw_feature_cache_gather(c, m, from, idx, n, &in, err);
    if (st != THAW_OK) return st;
    return train_step_from(m, from, in, c->ybuf, n, opt, rep, err);
}

/* Runs the model over x in chunks of `batch`; for each chunk calls back with
 * the logits. Training-mode passes never update moving statistics. With a
 * feature cache in use (c not NULL, cut > 0) each chunk starts at the cut. */
typedef void (*chunk_fn)(void *ctx, const float *logits, int first, int count, int k);

static thaw_status run_chunks(thaw_model *m, const float *x, int n, int batch, bool training,
                              uint64_t dropout_seed, thaw_feature_cache *c, chunk_fn fn, void *ctx,
                              thaw_error *err)
{
    if (batch <= 0) return thaw_error_set(err, THAW_ERR_ARG, "batch size %d must be > 0", batch);
    thaw_rng rng;
    thaw_rng_seed(&rng, dropout_seed, 0xe7a1);
    size_t img = (size_t)m->cfg.in_h * m->cfg.in_w * m->cfg.in_c;
    int k = (int)thaw_layer_size(thaw_model_output(m));
    int from = c ? thaw_feature_cache_sync(c, m) : 0;
    for (int first = 0; first < n; first += batch) {
        if (atomic_load(&m->cancel))
            return thaw_error_set(err, THAW_ERR_CANCELLED, "cancelled after %d of %d images", first,
                                  n);
        int count = n - first < batch ? n - first : batch;
        const float *in = x + (size_t)first * img;
        thaw_status st = THAW_OK;
        if (from > 0) st = thaw_feature_cache_range(c, m, first, count, &in, err);
        if (st == THAW_OK)
            st =
                thaw_model_forward_range(m, from, in, count, m->n_layers - 1,
                                         training ? THAW_PHASE_FIT : THAW_PHASE_PREDICT, &rng, err);
        if (st != THAW_OK) return st;
        fn(ctx, thaw_model_output(m)->out, first, count, k);
    }
    return THAW_OK;
}

static void probs_chunk(void *ctx, const float *logits, int first, int count, int k)
{
    float *probs = ctx;
    thaw_softmax(probs + (size_t)first * k, logits, count, k);
}

thaw_status thaw_model_predict(thaw_model *m, const float *x, int n, int batch, bool training,
                               uint64_t dropout_seed, float *probs, thaw_error *err)
{
    thaw_status st = check_batch(m, x, NULL, n, err);
    if (st != THAW_OK) return st;
    if (!probs) return thaw_error_set(err, THAW_ERR_ARG, "no output buffer");
    return run_chunks(m, x, n, batch, training, dropout_seed, NULL, probs_chunk, probs, err);
}

typedef struct eval_ctx {
    thaw_model *m;
    const int32_t *labels;
    double loss_sum;
    long correct;
} eval_ctx;

static void eval_chunk(void *ctx, const float *logits, int first, int count, int k)
{
    eval_ctx *e = ctx;
    double loss = thaw_softmax_xent(NULL, e->m->probs, logits, e->labels + first, count, k);
    e->loss_sum += loss * count;
    for (int i = 0; i < count; i++)
        e->correct += top1(logits + (size_t)i * k, k) == e->labels[first + i];
}

static thaw_status evaluate(thaw_model *m, const float *x, const int32_t *labels, int n, int batch,
                            bool training, uint64_t dropout_seed, thaw_feature_cache *c,
                            thaw_eval_result *res, thaw_error *err)
{
    thaw_status st = check_batch(m, x, labels, n, err);
    if (st == THAW_OK && !labels) st = thaw_error_set(err, THAW_ERR_ARG, "no labels");
    if (st != THAW_OK) return st;
    eval_ctx e = {.m = m, .labels = labels};
    st = run_chunks(m, x, n, batch, training, dropout_seed, c, eval_chunk, &e, err);
    if (st != THAW_OK) return st;
    res->n = n;
    res->loss = e.loss_sum / n;
    res->accuracy = (double)e.correct / n;
    return THAW_OK;
}

thaw_status thaw_model_evaluate(thaw_model *m, const float *x, const int32_t *labels, int n,
                                int batch, bool training, uint64_t dropout_seed,
                                thaw_eval_result *res, thaw_error *err)
{
    return evaluate(m, x, labels, n, batch, training, dropout_seed, NULL, res, err);
}

thaw_status thaw_model_evaluate_cached(thaw_model *m, thaw_feature_cache *c, int batch,
                                       bool training, uint64_t dropout_seed, thaw_eval_result *res,
                                       thaw_error *err)
{
    return evaluate(m, c->x, c->y, c->n, batch, training, dropout_seed, c, res, err);
}

/* ------------------------------------------------ BatchNorm re-estimation */

static bool reestimate_picks(const thaw_layer *l, bool base_only)
{
    return l->kind == THAW_LAYER_BATCHNORM && (l->in_base || !base_only);
}

/* The knobs the re-estimation pass changes, saved so they can be put back. */
typedef struct reestimate_saved {
    thaw_preset preset;
    thaw_layer_mode *manual; /* (n_layers) */
    thaw_layer_mode *mode;   /* (n_layers) */
    bool *reach;             /* (n_layers) */
} reestimate_saved;

/* Runs the pass under THAW_PRESET_MANUAL: every BN layer normalises with its
 * batch statistics, no dropout, nothing trained, no moving-statistics update
 * (the caller folds the batch statistics in itself). */
static void reestimate_enter(thaw_model *m, reestimate_saved *s)
{
    s->preset = m->preset;
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        s->manual[i] = l->manual;
        s->mode[i] = l->mode;
        s->reach[i] = m->reach[i];
        l->manual = (thaw_layer_mode){.bn_batch_stats = l->kind == THAW_LAYER_BATCHNORM};
    }
    m->preset = THAW_PRESET_MANUAL;
}

static void reestimate_leave(thaw_model *m, const reestimate_saved *s)
{
    m->preset = s->preset;
    for (int i = 0; i < m->n_layers; i++) {
        m->layers[i].manual = s->manual[i];
        m->layers[i].mode = s->mode[i];
        m->reach[i] = s->reach[i];
    }
}

/* Folds one batch into the sums of every picked layer: the batch mean, and
 * the batch variance as the preset feeds it to the moving average (the
 * kernel's momentum-0 update applies the variance convention, so training
 * steps and re-estimation share one definition). */
static void reestimate_accumulate(thaw_model *m, double *sums, float *tmp, int n, bool base_only,
                                  thaw_bn_var_mode var_mode)
{
    size_t off = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (!reestimate_picks(l, base_only)) continue;
        int c = l->oc;
        memset(tmp, 0, 2 * (size_t)c * sizeof(float));
        thaw_bn_update_moving(tmp, tmp + c, l->bn_mean, l->bn_var, c, (size_t)n * l->oh * l->ow,
                              0.0f, var_mode, l->eps);
        for (int j = 0; j < 2 * c; j++) sums[off + (size_t)j] += tmp[j];
        off += 2 * (size_t)c;
    }
}

thaw_status thaw_model_reestimate_bn(thaw_model *m, const float *x, int n, int batch,
                                     bool base_only, thaw_error *err)
{
    if (!x) return thaw_error_set(err, THAW_ERR_ARG, "BatchNorm re-estimation: no images");
    if (n < 1)
        return thaw_error_set(err, THAW_ERR_ARG,
                              "BatchNorm re-estimation needs at least one image, not %d", n);
    if (batch < 1)
        return thaw_error_set(err, THAW_ERR_ARG,
                              "BatchNorm re-estimation: batch size %d must be > 0", batch);
    thaw_status st = thaw_model_reserve(m, batch < n ? batch : n, err);
    if (st != THAW_OK) return st;

    size_t n_sums = 0;
    int max_c = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (!reestimate_picks(l, base_only)) continue;
        n_sums += 2 * (size_t)l->oc;
        if (l->oc > max_c) max_c = l->oc;
    }
    if (n_sums == 0) return THAW_OK; /* no BatchNorm layer to re-estimate */

    size_t nl = (size_t)m->n_layers;
    double *sums = calloc(n_sums, sizeof *sums);
    float *tmp = malloc(2 * (size_t)max_c * sizeof *tmp);
    reestimate_saved saved = {
        .manual = malloc(nl * sizeof *saved.manual),
        .mode = malloc(nl * sizeof *saved.mode),
        .reach = malloc(nl * sizeof *saved.reach),
    };
    if (!sums || !tmp || !saved.manual || !saved.mode || !saved.reach) {
        st =
            thaw_error_set(err, THAW_ERR_NOMEM, "out of memory re-estimating BatchNorm statistics");
        goto out;
    }

    thaw_bn_var_mode var_mode = thaw_preset_get(m->preset)->var_mode;
    /* Dropout is off, so this stream is never drawn from; passing it keeps
     * the model's own stream out of reach all the same. */
    thaw_rng unused;
    thaw_rng_seed(&unused, 0, 0);
    size_t img = (size_t)m->cfg.in_h * m->cfg.in_w * m->cfg.in_c;
    uint64_t k = 0;
    reestimate_enter(m, &saved);
    for (int first = 0; first < n; first += batch) {
        if (atomic_load(&m->cancel)) {
            st = thaw_error_set(err, THAW_ERR_CANCELLED,
                                "BatchNorm re-estimation cancelled after %d of %d images; "
                                "moving statistics left as they were",
                                first, n);
            break;
        }
        int count = n - first < batch ? n - first : batch;
        st = thaw_model_forward_pass(m, x + (size_t)first * img, count, THAW_PHASE_FIT, &unused,
                                     err);
        if (st != THAW_OK) break;
        reestimate_accumulate(m, sums, tmp, count, base_only, var_mode);
        k++;
    }
    reestimate_leave(m, &saved);
    if (st != THAW_OK) goto out;

    /* Check everything before writing anything: all or nothing. */
    size_t off = 0;
    for (int i = 0; i < m->n_layers && st == THAW_OK; i++) {
        const thaw_layer *l = &m->layers[i];
        if (!reestimate_picks(l, base_only)) continue;
        for (size_t j = 0; j < 2 * (size_t)l->oc; j++)
            if (!isfinite((float)(sums[off + j] / (double)k))) {
                st = thaw_error_set(err, THAW_ERR_NONFINITE,
                                    "layer %s: re-estimated %s is not finite; moving statistics "
                                    "left as they were",
                                    l->name, j < (size_t)l->oc ? "mean" : "variance");
                break;
            }
        off += 2 * (size_t)l->oc;
    }
    off = 0;
    for (int i = 0; i < m->n_layers && st == THAW_OK; i++) {
        thaw_layer *l = &m->layers[i];
        if (!reestimate_picks(l, base_only)) continue;
        float *mm = thaw_param_data(m, &m->params[l->first_param + 2]);
        float *mv = thaw_param_data(m, &m->params[l->first_param + 3]);
        for (int j = 0; j < l->oc; j++) {
            mm[j] = (float)(sums[off + (size_t)j] / (double)k);
            mv[j] = (float)(sums[off + (size_t)l->oc + (size_t)j] / (double)k);
        }
        l->bn_batches = k;
        l->writes++;
        off += 2 * (size_t)l->oc;
    }
out:
    free(sums);
    free(tmp);
    free(saved.manual);
    free(saved.mode);
    free(saved.reach);
    return st;
}

void thaw_model_request_cancel(thaw_model *m)
{
    atomic_store(&m->cancel, 1);
}

void thaw_model_clear_cancel(thaw_model *m)
{
    atomic_store(&m->cancel, 0);
}
