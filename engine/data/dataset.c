#include "data/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/idx.h"

/* "<dir>/<prefix>-<kind>" with ".gz" if that file exists, else plain. */
static void idx_path(char *buf, size_t size, const char *dir, const char *prefix, const char *kind)
{
    snprintf(buf, size, "%s/%s-%s.gz", dir, prefix, kind);
    if (access(buf, F_OK) == 0) return;
    snprintf(buf, size, "%s/%s-%s", dir, prefix, kind);
    if (access(buf, F_OK) == 0) return;
    snprintf(buf, size, "%s/%s-%s.gz", dir, prefix, kind); /* for the error message */
}

thaw_status thaw_fashion_load(thaw_dataset *out, const char *dir, const char *prefix,
                              thaw_error *err)
{
    memset(out, 0, sizeof *out);
    char ipath[4096], lpath[4096];
    idx_path(ipath, sizeof ipath, dir, prefix, "images-idx3-ubyte");
    idx_path(lpath, sizeof lpath, dir, prefix, "labels-idx1-ubyte");
    thaw_idx img, lab;
    thaw_status st = thaw_idx_read(&img, ipath, err);
    if (st != THAW_OK) return st;
    st = thaw_idx_read(&lab, lpath, err);
    if (st != THAW_OK) {
        thaw_idx_free(&img);
        return st;
    }
    if (img.ndim != 3)
        st = thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': %d dimensions, expected 3",
                            ipath, img.ndim);
    else if (lab.ndim != 1)
        st = thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': %d dimensions, expected 1",
                            lpath, lab.ndim);
    else if (img.dims[0] != lab.dims[0])
        st = thaw_error_set(err, THAW_ERR_FORMAT, "'%s' has %u images but '%s' has %u labels",
                            ipath, img.dims[0], lpath, lab.dims[0]);
    for (size_t i = 0; st == THAW_OK && i < lab.count; i++)
        if (lab.data[i] > 9)
            st = thaw_error_set(err, THAW_ERR_FORMAT,
                                "cannot read '%s': label %u of item %zu is out of range 0..9",
                                lpath, lab.data[i], i);
    if (st == THAW_OK) {
        out->n = (int)img.dims[0];
        out->h = (int)img.dims[1];
        out->w = (int)img.dims[2];
        out->c = 1;
        out->classes = 10;
        out->x = malloc(img.count * sizeof(float));
        out->y = malloc((size_t)out->n * sizeof(int32_t));
        if (!out->x || !out->y) {
            st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory loading '%s'", ipath);
            thaw_dataset_free(out);
        } else {
            for (size_t i = 0; i < img.count; i++) out->x[i] = img.data[i];
            for (int i = 0; i < out->n; i++) out->y[i] = lab.data[i];
        }
    }
    thaw_idx_free(&img);
    thaw_idx_free(&lab);
    return st;
}

void thaw_shuffle(int *perm, int n, thaw_rng *rng)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)thaw_rng_below(rng, (uint32_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

thaw_status thaw_dataset_subset(thaw_dataset *out, const thaw_dataset *src, const int *classes,
                                int n_classes, int k_per_class, uint64_t seed, thaw_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_classes <= 0 || k_per_class < 0)
        return thaw_error_set(err, THAW_ERR_ARG, "subset: %d classes, K = %d", n_classes,
                              k_per_class);
    int *perm = malloc((size_t)(src->n ? src->n : 1) * sizeof *perm);
    int *picked = calloc((size_t)n_classes, sizeof *picked);
    int *keep = malloc((size_t)(src->n ? src->n : 1) * sizeof *keep);
    if (!perm || !picked || !keep) {
        free(perm), free(picked), free(keep);
        return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
    }
    thaw_rng rng;
    thaw_rng_seed(&rng, seed, 0x5b5e7);
    /* A seeded order when sampling K per class, the file order otherwise. */
    if (k_per_class > 0)
        thaw_shuffle(perm, src->n, &rng);
    else
        for (int i = 0; i < src->n; i++) perm[i] = i;
    int n = 0;
    for (int t = 0; t < src->n; t++) {
        int i = perm[t];
        for (int k = 0; k < n_classes; k++) {
            if (src->y[i] != classes[k]) continue;
            if (k_per_class == 0 || picked[k] < k_per_class) {
                picked[k]++;
                keep[n++] = i;
            }
        }
    }
    thaw_status st = THAW_OK;
    for (int k = 0; k < n_classes; k++)
        if (picked[k] == 0 || (k_per_class > 0 && picked[k] < k_per_class)) {
            st = thaw_error_set(err, THAW_ERR_ARG, "class %d has %d images, fewer than K = %d",
                                classes[k], picked[k], k_per_class ? k_per_class : 1);
            break;
        }
    if (st == THAW_OK && k_per_class > 0) {
        /* Keep the chosen images in file order: the training loop shuffles. */
        for (int a = 1; a < n; a++) {
            int v = keep[a], b = a - 1;
            while (b >= 0 && keep[b] > v) keep[b + 1] = keep[b], b--;
            keep[b + 1] = v;
        }
    }
    size_t img = (size_t)src->h * src->w * src->c;
    if (st == THAW_OK) {
        out->x = malloc((size_t)n * img * sizeof(float));
        out->y = malloc((size_t)n * sizeof(int32_t));
        if (!out->x || !out->y) st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
    }
    if (st == THAW_OK) {
        out->n = n;
        out->h = src->h;
        out->w = src->w;
        out->c = src->c;
        out->classes = n_classes;
        for (int j = 0; j < n; j++) {
            memcpy(out->x + (size_t)j * img, src->x + (size_t)keep[j] * img, img * sizeof(float));
            for (int k = 0; k < n_classes; k++)
                if (src->y[keep[j]] == classes[k]) out->y[j] = k;
        }
    } else {
        thaw_dataset_free(out);
    }
    free(perm), free(picked), free(keep);
    return st;
}

void thaw_dataset_free(thaw_dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}
