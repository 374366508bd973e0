/* A fine-tune run (see run.h). */
#include "run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const int thaw_scenario_source_classes[5] = {0, 1, 2, 3, 4};
const int thaw_scenario_target_classes[5] = {5, 6, 7, 8, 9};

/* Loads the Fashion-MNIST split `prefix` and keeps `classes` (k per class,
 * 0 = all), relabelled 0..4, with an optional domain shift applied. */
thaw_status thaw_scenario_load_split(thaw_dataset *out, const char *dir, const char *prefix,
                                     const int *classes, int k, uint64_t seed,
                                     const thaw_transform *shift, thaw_error *err)
{
    thaw_dataset all;
    thaw_status st = thaw_fashion_load(&all, dir, prefix, err);
    if (st != THAW_OK) return st;
    st = thaw_dataset_subset(out, &all, classes, 5, k, seed, err);
    thaw_dataset_free(&all);
    if (st == THAW_OK && shift && thaw_transform_has_shift(shift)) {
        st = thaw_transform_shift_dataset(out, shift, seed ^ 0x5417ull, err);
        if (st != THAW_OK) thaw_dataset_free(out);
    }
    return st;
}

thaw_status thaw_scenario_load_model(thaw_model **out, const ThawSetup *s, bool keep_top,
                                     char **path_out, thaw_error *err)
{
    g_autoptr(GError) gerr = NULL;
    ThawSetupModelFormat format;
    char *path = thaw_setup_resolve_model(s, &format, &gerr);
    if (!path) return thaw_error_set(err, THAW_ERR_IO, "%s", gerr->message);
    *path_out = path;
    if (format == THAW_SETUP_MODEL_KERAS_H5) {
        thaw_keras_options ko;
        thaw_keras_options_default(&ko);
        ko.ignore_top = !keep_top;
        if (s->arch && *s->arch) ko.arch = s->arch;
        return thaw_keras_h5_load(out, path, &ko, NULL, err);
    }
    return thaw_checkpoint_load(out, path, err);
}

/* Progress of a load: the caller's callback, the span of the overall
 * fraction the current phase covers and what it is doing. */
typedef struct {
    ThawRunProgressFn fn;
    gpointer ctx;
    double lo, hi;
    char what[600];
} Progress;

/* Reports the start of a phase covering [lo, hi]; TRUE = cancelled. */
static bool progress_phase(Progress *p, double lo, double hi, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static bool progress_phase(Progress *p, double lo, double hi, const char *fmt, ...)
{
    if (!p || !p->fn) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->what, sizeof p->what, fmt, ap);
    va_end(ap);
    p->lo = lo;
    p->hi = hi;
    return p->fn(p->ctx, lo, p->what);
}

static int folder_progress(void *ctx, int done, int total)
{
    Progress *p = ctx;
    double f = total > 0 ? (double)done / total : 0.0;
    return p->fn(p->ctx, p->lo + (p->hi - p->lo) * f, p->what) ? 1 : 0;
}

static thaw_status cancelled(thaw_error *err)
{
    return thaw_error_set(err, THAW_ERR_CANCELLED, "loading cancelled");
}

/* The training and validation data the setup names, shaped for the model
 * `base` (h, w, c): the Fashion-MNIST scenario (target classes 5-9, K per
 * class, all 5,000 test images of those classes to validate) or an image
 * folder (every class, K per class; validation on val_dataset, or on the
 * whole folder when none is given). */
static thaw_status load_data(const ThawSetup *s, const thaw_model *base, thaw_dataset *train,
                             thaw_dataset *val, char ***names, char *desc, size_t desc_size,
                             Progress *prog, thaw_error *err)
{
    g_autoptr(GError) gerr = NULL;
    ThawSetupDataKind kind;
    g_autofree char *dir = thaw_setup_resolve_dataset(s, FALSE, &kind, &gerr);
    if (!dir) return thaw_error_set(err, THAW_ERR_IO, "%s", gerr->message);
    thaw_status st;
    if (kind != THAW_SETUP_DATA_IMAGES) {
        if (base->cfg.in_h != 28 || base->cfg.in_w != 28 || base->cfg.in_c != 1)
            return thaw_error_set(err, THAW_ERR_SHAPE,
                                  "the model takes %dx%dx%d input, Fashion-MNIST is 28x28x1",
                                  base->cfg.in_h, base->cfg.in_w, base->cfg.in_c);
        if (progress_phase(prog, 0.3, 0.9, "reading Fashion-MNIST from '%s'", dir))
            return cancelled(err);
        st = thaw_scenario_load_split(train, dir, "train", thaw_scenario_target_classes, s->k,
                                      s->data_seed, &s->shift, err);
        if (st == THAW_OK) {
            st = thaw_scenario_load_split(val, dir, "t10k", thaw_scenario_target_classes, s->val_k,
                                          2, &s->shift, err);
            if (st != THAW_OK) thaw_dataset_free(train);
        }
        snprintf(desc, desc_size, "Fashion-MNIST classes 5-9");
        static const char *const fashion[] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};
        *names = g_new0(char *, 6);
        for (int i = 0; i < 5; i++)
            (*names)[i] = g_strdup(fashion[thaw_scenario_target_classes[i]]);
        return st;
    }
    thaw_folder_options fo = {.h = base->cfg.in_h, .w = base->cfg.in_w, .c = base->cfg.in_c};
    if (prog && prog->fn) {
        fo.progress = folder_progress;
        fo.progress_ctx = prog;
    }
    thaw_folder folder;
    if (progress_phase(prog, 0.2, 0.6, "reading the images in '%s'", dir)) return cancelled(err);
    st = thaw_folder_load(&folder, dir, &fo, err);
    if (st != THAW_OK) return st;
    int n_classes = folder.data.classes;
    int *classes = g_new(int, n_classes);
    for (int i = 0; i < n_classes; i++) classes[i] = i;
    st = thaw_dataset_subset(train, &folder.data, classes, n_classes, s->k, s->data_seed, err);
    *names = g_new0(char *, n_classes + 1);
    for (int i = 0; i < n_classes; i++) (*names)[i] = g_strdup(folder.class_names[i]);
    thaw_folder_free(&folder);
    g_autofree char *vdir = NULL;
    if (st == THAW_OK && s->val_dataset && *s->val_dataset) {
        g_clear_error(&gerr);
        vdir = thaw_setup_resolve_dataset(s, TRUE, &kind, &gerr);
        if (!vdir) st = thaw_error_set(err, THAW_ERR_IO, "%s", gerr->message);
    }
    if (st == THAW_OK &&
        progress_phase(prog, 0.6, 0.95, "reading the validation images in '%s'", vdir ? vdir : dir))
        st = cancelled(err);
    if (st == THAW_OK) st = thaw_folder_load(&folder, vdir ? vdir : dir, &fo, err);
    if (st == THAW_OK) {
        if (folder.data.classes != n_classes)
            st = thaw_error_set(err, THAW_ERR_FORMAT, "'%s' has %d classes but '%s' has %d",
                                vdir ? vdir : dir, folder.data.classes, dir, n_classes);
        else
            st = thaw_dataset_subset(val, &folder.data, classes, n_classes, s->val_k, 2, err);
        thaw_folder_free(&folder);
    }
    g_free(classes);
    if (st == THAW_OK && thaw_transform_has_shift(&s->shift)) {
        st = thaw_transform_shift_dataset(train, &s->shift, s->data_seed, err);
        if (st == THAW_OK) st = thaw_transform_shift_dataset(val, &s->shift, 2, err);
    }
    if (st != THAW_OK) {
        thaw_dataset_free(train);
        thaw_dataset_free(val);
        return st;
    }
    snprintf(desc, desc_size, "%s (%d classes)%s", dir, n_classes,
             vdir ? "" : ", validated on the same folder");
    return THAW_OK;
}

struct ThawRun {
    ThawSetup *setup;
    thaw_model *base, *model;
    char *base_path;
    thaw_dataset train, val;
    char **class_names; /* the target's, in label order */
    char data_desc[512];

    thaw_optimizer opt;
    thaw_rng rng;
    int *perm;
    float *x;
    int32_t *y;
    thaw_step_report *rep; /* used when the caller passes none */
    /* Frozen-prefix feature caches of the training and validation images
     * (engine/model/cache.h), used when the setup allows it. */
    thaw_feature_cache train_cache, val_cache;
    int cached_layer; /* the cut the last step started from, 0: none */

    int epoch;       /* current epoch, 1-based; 0 before the first step */
    int next;        /* index into perm of the next batch */
    bool in_epoch;   /* an epoch is under way */
    double lsum, t0; /* the epoch so far */
    long correct, seen;
    double ips;
};

/* The most each feature cache may hold: the features of the training or the
 * validation images at the cut. Above it the run recomputes the prefix. */
#define FEATURE_CACHE_BYTES ((size_t)512 << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

thaw_status thaw_run_new(ThawRun **out, const ThawSetup *s, bool *usage_error, thaw_error *err)
{
    return thaw_run_new_full(out, s, NULL, NULL, usage_error, err);
}

thaw_status thaw_run_new_full(ThawRun **out, const ThawSetup *s, ThawRunProgressFn progress,
                              gpointer progress_ctx, bool *usage_error, thaw_error *err)
{
    *out = NULL;
    if (usage_error) *usage_error = false;
    Progress prog = {.fn = progress, .ctx = progress_ctx};
    ThawRun *r = g_new0(ThawRun, 1);
    r->setup = thaw_setup_copy(s);
    thaw_status st = THAW_OK;
    if (progress_phase(&prog, 0.0, 0.2, "reading the model '%s'", s->model)) st = cancelled(err);
    if (st == THAW_OK) st = thaw_scenario_load_model(&r->base, s, false, &r->base_path, err);
    if (st == THAW_OK)
        st = load_data(s, r->base, &r->train, &r->val, &r->class_names, r->data_desc,
                       sizeof r->data_desc, &prog, err);
    if (st == THAW_OK && progress_phase(&prog, 0.95, 1.0, "building the model"))
        st = cancelled(err);
    if (st == THAW_OK && s->batch > r->train.n)
        st = thaw_error_set(err, THAW_ERR_ARG, "--batch %d is larger than the %d training images",
                            s->batch, r->train.n);
    /* The base's weights and statistics under a new head for the target classes. */
    thaw_model_config cfg = r->base ? r->base->cfg : (thaw_model_config){0};
    cfg.classes = r->train.classes;
    cfg.head_hidden = s->head_hidden;
    cfg.dropout = (float)s->dropout;
    cfg.pooling_avg = false;
    cfg.seed = s->seed + 17;
    if (st == THAW_OK) st = thaw_model_new(&r->model, &cfg, err);
    thaw_model *m = r->model;
    for (int i = 0; st == THAW_OK && i < m->n_params; i++) {
        thaw_param *p = &m->params[i];
        if (!m->layers[p->layer].in_base) continue;
        thaw_param *q = thaw_model_find_param(r->base, p->name);
        if (!q || q->count != p->count)
            st = thaw_error_set(err, THAW_ERR_SHAPE, "'%s' has no tensor %s of %zu values",
                                r->base_path, p->name, p->count);
        else
            memcpy(thaw_param_data(m, p), thaw_param_data(r->base, q), p->count * sizeof(float));
    }
    if (st == THAW_OK) {
        thaw_model_set_preset(m, s->preset);
        m->base_training = s->base_training;
        m->bn_momentum = (float)s->bn_momentum;
        g_autoptr(GError) gerr = NULL;
        if (!thaw_setup_apply_freezing(s, m, &gerr) || !thaw_setup_apply_lr_mult(s, m, &gerr)) {
            st = thaw_error_set(err, THAW_ERR_ARG, "%s", gerr->message);
            if (usage_error) *usage_error = true;
        }
    }
    if (st == THAW_OK) {
        size_t img = (size_t)r->train.h * r->train.w * r->train.c;
        r->perm = malloc((size_t)r->train.n * sizeof *r->perm);
        r->x = malloc((size_t)s->batch * img * sizeof *r->x);
        r->y = malloc((size_t)s->batch * sizeof *r->y);
        r->rep = thaw_step_report_new(m);
        if (!r->perm || !r->x || !r->y || !r->rep)
            st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
    }
    if (st != THAW_OK) {
        thaw_run_free(r);
        return st;
    }
    thaw_feature_cache_init(&r->train_cache, r->train.x, r->train.y, r->train.n,
                            FEATURE_CACHE_BYTES);
    thaw_feature_cache_init(&r->val_cache, r->val.x, r->val.y, r->val.n, FEATURE_CACHE_BYTES);
    thaw_setup_optimizer(s, &r->opt);
    r->opt.lr = (float)s->lr;
    thaw_rng_seed(&r->rng, s->seed, 0x7a11);
    *out = r;
    return THAW_OK;
}

void thaw_run_free(ThawRun *r)
{
    if (!r) return;
    thaw_setup_free(r->setup);
    thaw_model_free(r->base);
    thaw_model_free(r->model);
    g_free(r->base_path);
    thaw_dataset_free(&r->train);
    thaw_dataset_free(&r->val);
    g_strfreev(r->class_names);
    free(r->perm);
    free(r->x);
    free(r->y);
    thaw_step_report_free(r->rep);
    thaw_feature_cache_free(&r->train_cache);
    thaw_feature_cache_free(&r->val_cache);
    g_free(r);
}

thaw_model *thaw_run_model(const ThawRun *r)
{
    return r->model;
}
const thaw_model *thaw_run_base(const ThawRun *r)
{
    return r->base;
}
const char *thaw_run_base_path(const ThawRun *r)
{
    return r->base_path;
}
const char *thaw_run_data_description(const ThawRun *r)
{
    return r->data_desc;
}
const thaw_dataset *thaw_run_train_data(const ThawRun *r)
{
    return &r->train;
}
const thaw_dataset *thaw_run_val_data(const ThawRun *r)
{
    return &r->val;
}
const char *const *thaw_run_class_names(const ThawRun *r)
{
    return (const char *const *)r->class_names;
}
const ThawSetup *thaw_run_setup(const ThawRun *r)
{
    return r->setup;
}
int thaw_run_epoch(const ThawRun *r)
{
    return r->epoch;
}
int thaw_run_steps_per_epoch(const ThawRun *r)
{
    return r->train.n / r->setup->batch;
}
int thaw_run_step_in_epoch(const ThawRun *r)
{
    return r->in_epoch ? r->next / r->setup->batch : 0;
}
float thaw_run_lr(const ThawRun *r)
{
    return r->opt.lr;
}
thaw_status thaw_run_set_lr(ThawRun *r, float lr)
{
    if (!(lr > 0.0f && isfinite(lr))) return THAW_ERR_ARG;
    r->opt.lr = lr;
    return THAW_OK;
}

bool thaw_run_finished(const ThawRun *r)
{
    return r->epoch >= r->setup->epochs && !r->in_epoch;
}

/* Augmentation obeys `training` like Keras's preprocessing layers. */
static bool augmenting(const ThawRun *r)
{
    return r->model->call_training != THAW_FALSE && thaw_transform_has_augment(&r->setup->augment);
}

/* The cut a pass over c's images starts from (0: the images): the setup may
 * turn the cache off, and random augmentation changes what the prefix sees. */
static int feature_cache_cut(ThawRun *r, thaw_feature_cache *c)
{
    if (!r->setup->feature_cache || augmenting(r)) return 0;
    return thaw_feature_cache_sync(c, r->model);
}

int thaw_run_cached_layer(const ThawRun *r)
{
    return r->cached_layer;
}

int thaw_run_next_cut(ThawRun *r)
{
    return feature_cache_cut(r, &r->train_cache);
}

thaw_status thaw_run_step(ThawRun *r, thaw_step_report *rep, unsigned *events, thaw_error *err)
{
    const ThawSetup *s = r->setup;
    const int batch = s->batch;
    unsigned ev = 0;
    if (events) *events = 0;
    if (!r->in_epoch) {
        if (r->epoch >= s->epochs)
            return thaw_error_set(err, THAW_ERR_STATE, "all %d epochs are done", s->epochs);
        if (s->unfreeze_epoch > 0 && r->epoch == s->unfreeze_epoch) {
            /* The second phase of the Keras guide / fastai fine_tune. */
            g_autoptr(GError) gerr = NULL;
            if (!thaw_setup_apply_unfreeze(s, r->model, &gerr))
                return thaw_error_set(err, THAW_ERR_ARG, "%s", gerr->message);
            r->opt.lr = (float)thaw_setup_phase2_lr(s);
            ev |= THAW_RUN_UNFROZEN;
        }
        r->epoch++;
        r->in_epoch = true;
        r->next = 0;
        r->lsum = 0;
        r->correct = r->seen = 0;
        r->t0 = now_s();
        thaw_shuffle(r->perm, r->train.n, &r->rng);
        ev |= THAW_RUN_EPOCH_STARTED;
    }
    const thaw_dataset *d = &r->train;
    if (!rep) rep = r->rep;
    thaw_status st;
    r->cached_layer = feature_cache_cut(r, &r->train_cache);
    if (r->cached_layer > 0) {
        st = thaw_model_train_step_cached(r->model, &r->train_cache, r->perm + r->next, batch,
                                          &r->opt, rep, err);
    } else {
        size_t img = (size_t)d->h * d->w * d->c;
        for (int i = 0; i < batch; i++) {
            int k = r->perm[r->next + i];
            memcpy(r->x + (size_t)i * img, d->x + (size_t)k * img, img * sizeof(float));
            r->y[i] = d->y[k];
        }
        thaw_transform_augment(r->x, batch, d->h, d->w, d->c, &s->augment, augmenting(r), &r->rng);
        st = thaw_model_train_step(r->model, r->x, r->y, batch, &r->opt, rep, err);
    }
    if (st != THAW_OK) {
        if (events) *events = ev;
        return st;
    }
    r->next += batch;
    r->lsum += rep->loss * batch;
    r->correct += rep->correct;
    r->seen += batch;
    double dt = now_s() - r->t0;
    r->ips = dt > 0 ? r->seen / dt : 0;
    if (r->next + batch > d->n) {
        r->in_epoch = false;
        ev |= THAW_RUN_EPOCH_DONE;
    }
    if (events) *events = ev;
    return THAW_OK;
}

void thaw_run_epoch_stats(const ThawRun *r, double *loss, double *acc, double *images_per_s)
{
    *loss = r->seen ? r->lsum / r->seen : NAN;
    *acc = r->seen ? (double)r->correct / r->seen : NAN;
    *images_per_s = r->ips;
}

thaw_status thaw_run_validate(ThawRun *r, thaw_eval_result *infer, thaw_eval_result *train,
                              thaw_error *err)
{
    const thaw_dataset *v = &r->val;
    thaw_status st;
    if (r->setup->feature_cache && thaw_feature_cache_sync(&r->val_cache, r->model) > 0) {
        st = thaw_model_evaluate_cached(r->model, &r->val_cache, 256, false, 0, infer, err);
        if (st == THAW_OK)
            st = thaw_model_evaluate_cached(r->model, &r->val_cache, 256, true, (uint64_t)r->epoch,
                                            train, err);
        return st;
    }
    st = thaw_model_evaluate(r->model, v->x, v->y, v->n, 256, false, 0, infer, err);
    if (st == THAW_OK)
        st = thaw_model_evaluate(r->model, v->x, v->y, v->n, 256, true, (uint64_t)r->epoch, train,
                                 err);
    return st;
}

void thaw_run_bn_drift(const ThawRun *r, int *layers, int *changed, double *mean_relative)
{
    const thaw_model *m = r->model;
    int n = 0, c = 0;
    double rel_sum = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_BATCHNORM || !l->in_base) continue;
        bool moved = false;
        double num = 0, den = 0;
        for (int t = 2; t <= 3; t++) { /* moving_mean, moving_variance */
            const thaw_param *p = &m->params[l->first_param + t];
            const float *now = thaw_param_data(m, p);
            const float *was =
                thaw_param_data(r->base, thaw_model_find_param((thaw_model *)r->base, p->name));
            for (size_t k = 0; k < p->count; k++) {
                moved |= now[k] != was[k];
                num += fabs((double)now[k] - was[k]);
                den += fabs((double)was[k]);
            }
        }
        n++;
        c += moved;
        rel_sum += den > 0 ? num / den : 0;
    }
    *layers = n;
    *changed = c;
    *mean_relative = n ? rel_sum / n : 0;
}
