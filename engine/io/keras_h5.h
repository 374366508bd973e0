/* Import of Keras legacy HDF5 weight files (SEMANTICS.md §4.2, §4.2b; SPEC.md §3).
 *
 * Reads `model.save_weights('w.h5')` and `model.save('m.h5')` files as Keras,
 * tf.keras and Keras 1 write them. The layout is a root attribute
 * `layer_names` (or `layer_names0`, `layer_names1`, ... when split), optionally
 * under the group /model_weights, and one group per layer. Each group has the
 * attribute `weight_names` and keeps its datasets under those names: current
 * style `conv1_conv/kernel:0`, Keras 3 without ":0", or Keras-1 flat
 * `conv1_W:0`. The string attributes may be fixed-length (h5py 2, possibly
 * without a NUL terminator) or variable-length (h5py 3). Weightless layers
 * carry an empty float64 `weight_names`.
 *
 * Everything is addressed by name, never by position. The model is built
 * from the names in the file, then every weighted layer of the model is
 * matched to its group, and the group's datasets are read in `weight_names`
 * order into the layer's parameters. The suffixes (kernel, moving_variance,
 * running_std, ...) are never relied on. Conv kernels are HWIO, Dense kernels
 * (in, out), and BN weights come as gamma, beta, moving mean, moving variance,
 * exactly Thaw's parameter order.
 *
 * Two name variants are detected from the file:
 *   - current tf.keras / Keras 3 names (conv1_conv, conv1_bn,
 *     conv2_block1_0_conv, ..., top `predictions`, or `probs` as
 *     keras-applications' resnet_common writes it). These are Thaw's own layer
 *     names. BN epsilon is 1.001e-5. This covers ResNet50/101/152 and also
 *     Thaw's CIFAR-style resnet8/20/32/56 and resnet18/34 saved in Keras
 *     layout (a `head_dense` layer is read as a hidden head layer).
 *   - old keras-applications names (conv1, bn_conv1, res2a_branch2a,
 *     bn2a_branch2a, res2a_branch1, ..., fc1000; caffe-style block ids
 *     res4b1..res4b22 too). BN epsilon is 1e-3. These files come from
 *     keras-applications and Keras 1. Two historical graphs share them:
 *     >= 1.0.6 with pool1_pad, the default, and <= 1.0.5 / Keras 1 without it
 *     (THAW_KERAS_GRAPH_KA_1_0_5). The old head,
 *     AveragePooling2D(7) + Flatten, equals GlobalAveragePooling2D on the 7x7
 *     map of a 224x224 input, and Thaw uses the latter.
 * The architecture is read from the block counts in the file. The model
 * config's `width` comes from conv1's kernel shape (so tiny graphs load), the
 * input channels from conv1, and the classes from the top's kernel.
 *
 * Checks: each one refuses the file with one message naming the file and the
 * layer, and returns no model. They cover a missing file, a file that is not
 * HDF5, and a truncated or corrupt file (HDF5's own error printing is
 * silenced and its innermost message quoted). They also cover a file with no
 * `layer_names`, a layer without its group or `weight_names`, a missing
 * weighted layer (the message lists what the model expected), an unexpected
 * weighted layer, a weight-count mismatch, an inexact shape ("layer conv1_bn:
 * expected 64 values, found 32"), a dataset that is not float32, a non-finite
 * value and a negative moving variance.
 *
 * float64 policy: refused by default, because SEMANTICS.md §4.2b says a robust
 * importer checks float32, although Keras itself casts silently.
 * `allow_float64` converts instead, rounding to nearest. A value beyond the
 * float32 range then counts as non-finite. Other float sizes and non-float
 * types are always refused.
 *
 * HDF5 calls are made with the library's automatic error printing switched
 * off for the calling thread (restored afterwards). Debian's libhdf5 is built
 * thread-safe. */
#ifndef THAW_IO_KERAS_H5_H
#define THAW_IO_KERAS_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "model/model.h"

typedef enum thaw_keras_variant {
    THAW_KERAS_VARIANT_UNKNOWN = 0,
    THAW_KERAS_VARIANT_CURRENT, /* tf.keras / Keras 3 names: conv1_conv, conv2_block1_1_conv */
    THAW_KERAS_VARIANT_OLD,     /* keras-applications names: conv1, bn_conv1, res2a_branch2a */
} thaw_keras_variant;

/* Which historical graph an old-name file is run with. */
typedef enum thaw_keras_graph {
    THAW_KERAS_GRAPH_DEFAULT = 0, /* pool1_pad before pool1_pool: keras-applications >= 1.0.6,
                                     tf.keras, Keras 3 (the only choice for current names) */
    THAW_KERAS_GRAPH_KA_1_0_5,    /* old names only: no pool1_pad (keras-applications <= 1.0.5,
                                     Keras 1): 112 -> 55 after pool1 */
} thaw_keras_graph;

typedef enum thaw_keras_preprocess {
    THAW_KERAS_PREPROCESS_AUTO = 0, /* 'caffe' for ImageNet bottleneck files (ResNet50/101/152)
                                       with 3 input channels, identity otherwise */
    THAW_KERAS_PREPROCESS_CAFFE,    /* RGB -> BGR, minus 103.939/116.779/123.68 */
    THAW_KERAS_PREPROCESS_NONE,     /* raw values go straight in */
} thaw_keras_preprocess;

typedef struct thaw_keras_options {
    int in_h, in_w; /* input size; 0: 224 (ImageNet-style), 32 (CIFAR-style, 28 with 1 channel) */
    /* 0: the file's top decides (none: no top). > 0: the file's top must have
     * this many classes, or, when the file has no top or ignore_top is set, a
     * new head with this many classes is initialised from `seed`. */
    int classes;
    bool ignore_top;  /* skip the file's classifier (like include_top=False) */
    int head_hidden;  /* a new head only: Dense(head_hidden, relu) before the classifier */
    float dropout;    /* a new head only: Dropout(rate) before the classifier */
    bool pooling_avg; /* without any top: end with avg_pool (Keras pooling='avg') */
    thaw_keras_graph graph;
    thaw_keras_preprocess preprocess;
    const char *arch;   /* NULL or "": from the file; else forced (the file must match it) */
    bool allow_float64; /* convert float64 datasets instead of refusing them */
    uint64_t seed;      /* initialisation of layers not in the file (new head); 0: 1 */
} thaw_keras_options;

/* Defaults: everything from the file, >= 1.0.6 graph, auto preprocessing. */
void thaw_keras_options_default(thaw_keras_options *opt);

typedef struct thaw_keras_info {
    thaw_keras_variant variant;
    const char *variant_name;     /* "tf.keras / Keras 3 (current names)" or
                                     "keras-applications (old names)" */
    char keras_version[32];       /* root attribute; "" if absent (Keras 1) */
    char backend[32];             /* root attribute; "" if absent */
    char arch[16];                /* resnet50, resnet8, ... */
    bool full_model;              /* weights were under /model_weights */
    bool fixed_strings;           /* string attributes were fixed-length (h5py 2 era) */
    bool has_top;                 /* the file has a classifier */
    char top_name[THAW_NAME_MAX]; /* its name in the file: predictions, probs or fc1000 */
    int top_classes;              /* its classes (0: no top) */
    bool top_loaded;              /* the model's classifier came from the file */
    int n_layer_names;            /* entries of layer_names (weighted or not) */
    int n_layers_read;            /* weighted layers read into the model */
    int n_tensors;                /* datasets read */
    size_t n_values;              /* floats read */
    int n_float64;                /* datasets converted from float64 (allow_float64) */
    float bn_eps;                 /* epsilon the model's BN layers use */
    bool no_pool_pad;             /* built without pool1_pad */
    bool caffe;                   /* 'caffe' preprocessing recorded in the model config */
} thaw_keras_info;

/* Builds a model from the Keras HDF5 weight file at path and loads every
 * weight into it. On success *out owns the model, in inference-ready state
 * with the preset THAW_PRESET_KERAS3 (thaw_model_new's default). On failure,
 * *out is NULL, err says what is wrong (file and layer named), and nothing
 * leaks. opt may be NULL (defaults); info may be NULL, and on failure it
 * holds what was detected before the failure. */
thaw_status thaw_keras_h5_load(thaw_model **out, const char *path, const thaw_keras_options *opt,
                               thaw_keras_info *info, thaw_error *err);

#endif
