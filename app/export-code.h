/* Code export: a runnable Keras or PyTorch training script equivalent to a
 * fine-tune setup (SPEC.md §5 "Code pane", §6 `thaw-cli export-code`).
 *
 * The script rebuilds Thaw's ResNet graph with the same Keras layer names,
 * loads the base weights (.thaw with an inlined reader; Keras .h5 through
 * load_weights), loads the same data, freezes the same layers and expresses
 * the semantics preset with the framework's own means: `trainable` /
 * `base_model(x, training=False)` in Keras, `requires_grad` / `bn.eval()` /
 * `track_running_stats` / FrozenBatchNorm2d in PyTorch (SEMANTICS.md §1.6,
 * §3). Where a preset's behaviour cannot be reproduced by the target
 * framework the script says so in a comment.
 *
 * The input is a small struct of its own (ThawExportSpec), independent of the
 * setup-file code: front ends map their setup onto it. */
#ifndef THAW_APP_EXPORT_CODE_H
#define THAW_APP_EXPORT_CODE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "data/transform.h"
#include "model/optimizer.h"
#include "model/semantics.h"

G_BEGIN_DECLS

#define THAW_EXPORT_ERROR (thaw_export_error_quark())
GQuark thaw_export_error_quark(void);

typedef enum ThawExportError {
    THAW_EXPORT_ERROR_INVALID, /* an impossible or unsupported combination */
} ThawExportError;

typedef enum ThawExportFramework {
    THAW_EXPORT_KERAS,
    THAW_EXPORT_PYTORCH,
} ThawExportFramework;

typedef enum ThawExportPreproc {
    THAW_EXPORT_PREPROC_NONE,        /* raw pixel values 0..255 */
    THAW_EXPORT_PREPROC_STANDARDIZE, /* (x - mean) / std, in pixel units */
    THAW_EXPORT_PREPROC_CAFFE,       /* Keras 'caffe': RGB -> BGR, minus ImageNet means */
} ThawExportPreproc;

typedef enum ThawExportData {
    THAW_EXPORT_DATA_FASHION_MNIST, /* IDX files; target classes first_class.. */
    THAW_EXPORT_DATA_FOLDER,        /* root/<class>/<image>.png */
} ThawExportData;

/* Per-stage learning-rate multipliers: conv1 (the stem), conv2..conv5, head. */
enum { THAW_EXPORT_STAGES = 6 };

typedef struct ThawExportSpec {
    const char *source; /* where the setup came from, for the header ("default scenario") */

    /* architecture (thaw_model_config's fields) */
    char arch[16]; /* resnet8/20/32/56, resnet18/34/50/101/152 */
    int in_h, in_w, in_c;
    int width;       /* 0: the architecture's default (16 CIFAR / 64 ImageNet) */
    int head_hidden; /* > 0: Dense(head_hidden, relu) "head_dense" */
    float dropout;   /* > 0: Dropout "head_dropout" before the classifier */
    int classes;     /* the new head's classes (the target task) */
    float bn_eps;    /* 0: 1.001e-5 */
    bool no_pool_pad;

    /* input preprocessing */
    ThawExportPreproc preproc;
    float mean, std; /* THAW_EXPORT_PREPROC_STANDARDIZE, pixel units */

    const char *weights; /* base weights: .thaw or .h5 (Keras only); NULL: random init */

    /* data */
    ThawExportData data;
    const char *data_dir;   /* IDX folder or image-folder root */
    int first_class;        /* Fashion-MNIST: the target is first_class .. + classes - 1 */
    int k;                  /* training images per class, 0 = all */
    int val_k;              /* validation images per class, 0 = all */
    thaw_transform shift;   /* domain shift of the data (its shift fields only) */
    thaw_transform augment; /* training-time augmentation (flip / shift / fill only) */

    /* freezing and semantics */
    bool freeze_base; /* every layer of the base is frozen (plus `frozen`) */
    const char *const
        *frozen;        /* NULL-terminated layer names frozen after Thaw's rules; may be NULL */
    thaw_preset preset; /* any but THAW_PRESET_MANUAL */
    thaw_tristate base_training; /* base_model(x, training=...) */

    /* optimisation */
    thaw_optimizer opt; /* kind, lr, momentum, nesterov, weight_decay, Adam's betas/eps */
    int epochs, batch;
    float lr_mult[THAW_EXPORT_STAGES]; /* 0 counts as 1 */
    int unfreeze_epoch; /* > 0: at the start of this epoch (0-based) unfreeze everything */
    float unfreeze_lr;  /* ... and continue with this learning rate */
    uint64_t seed;

    const char *thaw_version; /* NULL: this build's */
} ThawExportSpec;

/* The embedded default scenario (SPEC.md §4): the shipped fashion-resnet20
 * transferred to Fashion-MNIST classes 5-9 with K = 100 per class, base
 * frozen, keras3, SGD lr 0.05 momentum 0.9, batch 32, 8 epochs, seed 1. */
void thaw_export_spec_default(ThawExportSpec *spec);

/* The script's text (free with g_free), or NULL with THAW_EXPORT_ERROR_INVALID
 * naming the field for impossible combinations: an unknown or manual preset, an
 * unknown architecture or layer name, .h5 weights for PyTorch, a bad epoch
 * count, batch or learning rate, caffe preprocessing on one channel, ... */
char *thaw_export_code(const ThawExportSpec *spec, ThawExportFramework fw, GError **error);

/* "keras" / "pytorch", and back (FALSE if unknown). */
const char *thaw_export_framework_name(ThawExportFramework fw);
gboolean thaw_export_framework_from_name(const char *name, ThawExportFramework *out);

G_END_DECLS

#endif
