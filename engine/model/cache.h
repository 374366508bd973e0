/* The frozen-prefix feature cache (SPEC.md §2) and what a training step costs.
 *
 * When a whole prefix of the network is frozen and runs deterministically --
 * no parameter trained, every BatchNorm normalising with its moving statistics
 * and not updating them, no active dropout -- its output for a given image
 * cannot change while nothing writes those layers. A training step then needs
 * only the layers after it: the prefix's output for each image is computed
 * once, kept, and every later step and evaluation starts from it. This is the
 * Keras transfer-learning guide's "extract the features once, train the head
 * on them", done automatically for whatever prefix the knobs leave fixed.
 *
 * It is the same computation: a cached step gives the step the full network
 * would give, up to the order of float sums inside a GEMM, which may depend on
 * how many images a pass holds (tests/engine/test-cache.c bounds it).
 *
 * A cache serves one data set (borrowed pointers, kept alive by the caller)
 * and is filled lazily: the first pass over an image computes its prefix
 * output as part of the step or evaluation that needs it, so the first epoch
 * costs what it would cost without a cache. Before every use the cache checks
 * that it is current -- the model's fixed cut is the layer it holds and no
 * layer up to it was written since (thaw_layer.writes, thaw_model.param_writes)
 * -- and otherwise empties itself and starts again at the current cut; so
 * unfreezing a stage, switching the preset to one whose frozen BatchNorm uses
 * batch statistics, or re-estimating the statistics simply turns it off or
 * moves it.
 *
 * The engine does not see augmentation: random flips and shifts applied to
 * the images before the network change the prefix's output every epoch, so a
 * caller that augments must not use a cache (app/run.c checks). */
#ifndef THAW_MODEL_CACHE_H
#define THAW_MODEL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "model/optimizer.h"
#include "model/train.h"

/* The deepest layer c (0 < c < the output layer) such that every layer
 * 0..c is fixed both in a training step and in inference (as resolved now:
 * nothing trained, BN on moving statistics without updates, dropout off) and
 * no later layer reads a layer before c (a residual edge crossing c would
 * need more than c's output). 0 when there is no such layer. */
int thaw_model_fixed_cut(const thaw_model *m);

typedef struct thaw_feature_cache {
    /* the data set served (borrowed) */
    const float *x;   /* (n, in_h, in_w, in_c) images as the model takes them */
    const int32_t *y; /* (n) labels, or NULL for prediction only */
    int n;
    size_t max_bytes; /* the most the features may take; above it the cache stays off */

    int cut;             /* layer whose outputs are kept; 0: off */
    size_t per_image;    /* floats per image at the cut */
    float *feats;        /* (n, per_image) */
    unsigned char *have; /* (n) 1 once image i's features are in */
    int filled;          /* images whose features are in */
    uint64_t stamp;      /* the writes of layers 0..cut and param_writes when targeted */

    float *xbuf, *fbuf; /* gather buffers for a batch: pixels, features */
    size_t xbuf_floats, fbuf_floats;
    int32_t *ybuf;
    int ybuf_n;

    uint64_t computed; /* images whose prefix output was computed for the cache */
    uint64_t served;   /* images a pass took from the cache instead */
} thaw_feature_cache;

/* An empty cache for the n images x (labels y, may be NULL) that will hold at
 * most max_bytes of features. Allocates nothing yet. */
void thaw_feature_cache_init(thaw_feature_cache *c, const float *x, const int32_t *y, int n,
                             size_t max_bytes);

/* Frees what the cache holds; it may be initialised again. */
void thaw_feature_cache_free(thaw_feature_cache *c);

/* Brings the cache in line with the model (see above) and returns the cut in
 * use: 0 when the model has no fixed prefix, when the features of all n
 * images would need more than max_bytes, or when memory runs out. Cheap; the
 * cached passes below call it themselves. */
int thaw_feature_cache_sync(thaw_feature_cache *c, const thaw_model *m);

/* thaw_model_train_step on the cache's images idx[0..n) (labels from the
 * cache's y), starting at the cut when the cache is in use, else on the
 * gathered pixels. */
thaw_status thaw_model_train_step_cached(thaw_model *m, thaw_feature_cache *c, const int *idx,
                                         int n, const thaw_optimizer *opt, thaw_step_report *rep,
                                         thaw_error *err);

/* thaw_model_evaluate over all the cache's images in order, starting at the
 * cut when the cache is in use (a training-mode evaluation too: the prefix is
 * fixed in both modes by definition). Needs labels. */
thaw_status thaw_model_evaluate_cached(thaw_model *m, thaw_feature_cache *c, int batch,
                                       bool training, uint64_t dropout_seed, thaw_eval_result *res,
                                       thaw_error *err);

/* ---------------------------------------------------------------- cost */

/* The arithmetic of one training step per image, in multiply-accumulates of
 * the convolutions and dense layers (the rest is a few percent), as the
 * current knobs resolve for a training step. */
typedef struct thaw_step_cost {
    double forward;          /* forward MACs of the layers that run */
    double backward_data;    /* gradient w.r.t. layer inputs, where backward reaches */
    double backward_weights; /* weight gradients of trained layers */
    int layers_forward;      /* layers that run forward (after the cut) */
    int layers_backward;     /* layers backward reaches */
    int layers_trained;      /* layers whose weights get gradients */
} thaw_step_cost;

/* The cost of a step that starts after layer `from` (0: from the images; a
 * feature cache's cut). */
thaw_step_cost thaw_model_step_cost(const thaw_model *m, int from);

static inline double thaw_step_cost_total(const thaw_step_cost *c)
{
    return c->forward + c->backward_data + c->backward_weights;
}

#endif
