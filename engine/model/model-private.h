/* Internals shared by the model's files (builder, forward/backward, train). */
#ifndef THAW_MODEL_PRIVATE_H
#define THAW_MODEL_PRIVATE_H

#include "model/model.h"

/* Builder state while resnet.c assembles the graph. */
typedef struct thaw_builder {
    thaw_model *m;
    int cap;          /* allocated layers */
    int stage, block; /* stamped on new layers */
    bool in_base;
    thaw_status status; /* first failure, sticky */
    thaw_error *err;
} thaw_builder;

/* Appends a layer computing its output shape from its inputs; returns its
 * index, or -1 after recording a failure in b (later calls then do nothing). */
int thaw_build_input(thaw_builder *b, const char *name, int h, int w, int c);
int thaw_build_conv(thaw_builder *b, const char *name, int in, int filters, int k, int stride,
                    bool same, bool bias);
int thaw_build_bn(thaw_builder *b, const char *name, int in, float eps);
int thaw_build_relu(thaw_builder *b, const char *name, int in);
int thaw_build_add(thaw_builder *b, const char *name, int a, int c);
int thaw_build_pad(thaw_builder *b, const char *name, int in, int pad);
int thaw_build_maxpool(thaw_builder *b, const char *name, int in, int k, int stride);
int thaw_build_gap(thaw_builder *b, const char *name, int in);
int thaw_build_dense(thaw_builder *b, const char *name, int in, int units, bool relu);
int thaw_build_dropout(thaw_builder *b, const char *name, int in, float rate);

/* Builds the ResNet graph of m->cfg into b (resnet.c). */
thaw_status thaw_resnet_build(thaw_builder *b);

/* n zeroed floats, 64-byte aligned (an arena or a tensor); NULL when out of
 * memory. Free with free(). */
float *thaw_alloc_floats(size_t n);

/* Number of float elements of layer l's output per image. */
static inline size_t thaw_layer_size(const thaw_layer *l)
{
    return (size_t)l->oh * l->ow * l->oc;
}

/* Applies the moving-statistics updates recorded by the last forward pass
 * (BN layers whose mode has bn_update), over batches of n images. */
void thaw_model_apply_bn_updates(thaw_model *m, int n);

/* Forward pass of layers from+1 .. to without moving-statistics updates
 * (train.c applies them once the loss is known to be finite). from 0: in is
 * the input batch (n, in_h, in_w, in_c) and the input layer runs too; from >
 * 0: in is layer from's output for the batch (the frozen-prefix features of
 * cache.h), copied into its buffer. Resolves the whole model for phase. */
thaw_status thaw_model_forward_range(thaw_model *m, int from, const float *in, int n, int to,
                                     thaw_phase phase, thaw_rng *rng, thaw_error *err);

/* The whole forward pass: thaw_model_forward_range(m, 0, x, n, last, ...). */
thaw_status thaw_model_forward_pass(thaw_model *m, const float *x, int n, thaw_phase phase,
                                    thaw_rng *rng, thaw_error *err);

/* Feature-cache internals (cache.c), for the cached passes in train.c.
 * Both make sure the features of the images they name are in the cache
 * (computing the missing ones' prefix in one pass) and point *out at them. */
struct thaw_feature_cache;
/* Images idx[0..n): their features (cut > 0) or pixels (cut 0) gathered
 * into one batch, their labels into c->ybuf. */
thaw_status thaw_feature_cache_gather(struct thaw_feature_cache *c, thaw_model *m, int cut,
                                      const int *idx, int n, const float **out, thaw_error *err);
/* Images first..first+count-1 of a cache in use: its own rows. */
thaw_status thaw_feature_cache_range(struct thaw_feature_cache *c, thaw_model *m, int first,
                                     int count, const float **out, thaw_error *err);

#endif
