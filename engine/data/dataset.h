/* In-memory image datasets (NHWC float32, normalised) and the Fashion-MNIST
 * scenario of SPEC.md §4: source = some classes, target = others with K
 * labelled images per class, relabelled 0..n-1. */
#ifndef THAW_DATA_DATASET_H
#define THAW_DATA_DATASET_H

#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"

typedef struct thaw_dataset {
    int n;       /* images */
    int h, w, c; /* image shape */
    float *x;    /* (n, h, w, c) raw pixel values, 0..255 */
    int32_t *y;  /* (n) labels in [0, classes) */
    int classes;
} thaw_dataset;

/* Fashion-MNIST mean and standard deviation in pixel units (0.2860 and
 * 0.3530 of 255: the normalisation of ../shared/bench/pytorch_resnet20.py);
 * models trained on it standardise their input with these
 * (thaw_model_config_set_standardize). */
#define THAW_FASHION_MEAN (0.2860f * 255.0f)
#define THAW_FASHION_STD  (0.3530f * 255.0f)

/* Loads "<dir>/<prefix>-images-idx3-ubyte[.gz]" and "-labels-idx1-ubyte[.gz]"
 * (prefix "train" or "t10k") as raw pixel values 0..255: normalisation
 * belongs to the model. Errors name the file: bad magic, truncated, counts
 * differ, label out of range. */
thaw_status thaw_fashion_load(thaw_dataset *out, const char *dir, const char *prefix,
                              thaw_error *err);

/* Copies the images of the listed classes into out, relabelled by their
 * position in `classes`. k_per_class > 0 keeps k random images of each class
 * (seeded; an error if a class has fewer), 0 keeps all. */
thaw_status thaw_dataset_subset(thaw_dataset *out, const thaw_dataset *src, const int *classes,
                                int n_classes, int k_per_class, uint64_t seed, thaw_error *err);

/* Fills perm with a seeded random permutation of 0..n-1 (Fisher-Yates). */
void thaw_shuffle(int *perm, int n, thaw_rng *rng);

void thaw_dataset_free(thaw_dataset *d);

#endif
