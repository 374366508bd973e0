/* Seeded image transforms on raw pixel values 0..255 (NHWC float32):
 *
 * - Domain shift, a property of the data: applied once to a whole dataset
 *   (thaw_transform_shift_dataset), e.g. a target task whose images are
 *   brighter or inverted, to change the input statistics BatchNorm sees.
 * - Augmentation, like Keras's RandomFlip / RandomTranslation preprocessing
 *   layers: applied to each training batch, and the identity when
 *   `training` is false.
 *
 * A thaw_transform zero-initialised ({0}) does nothing; every field's off
 * value is 0. Settings come from short strings (thaw_transform_parse):
 *
 *   none | brightness:B | contrast:F | invert | lift | dark:K | noise:S |
 *   flip | shift:K | fill:zero | fill:edge
 *
 * comma-separated, e.g. "invert,noise:25,flip,shift:2". */
#ifndef THAW_DATA_TRANSFORM_H
#define THAW_DATA_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "data/dataset.h"

typedef enum thaw_fill {
    THAW_FILL_ZERO = 0, /* pixels shifted in are 0 (black), Keras fill_mode="constant" */
    THAW_FILL_EDGE,     /* pixels shifted in repeat the edge, Keras fill_mode="nearest" */
} thaw_fill;

/* Domain-shift steps run in the order of the fields below, each result
 * clamped to [0, 255] before the next step. */
typedef struct thaw_transform {
    float brightness; /* x' = x + b, b in [-255, 255]; 0 = off */
    float contrast;   /* x' = m + f (x - m), f in (0, 10], m = the image's mean per
                         channel (tf.image.adjust_contrast); 0 = off */
    bool invert;      /* x' = 255 - x */
    bool lift;        /* lifted background, 0.3 + 0.7 x in [0, 1] units: x' = 76.5 + 0.7 x */
    float dark;       /* darkening x' = k x, k in (0, 1]; 0 = off */
    float noise;      /* x' = x + s N(0, 1), s in (0, 255] pixel units, seeded per
                         image; 0 = off */
    /* augmentation */
    bool flip;      /* random horizontal flip, probability 0.5 per image */
    int shift;      /* random translation by dy, dx uniform in [-k, k], k in [0, 64] */
    thaw_fill fill; /* what a shift moves in */
} thaw_transform;

/* Applies one comma-separated spec on top of *t (so several specs can be
 * combined; "none" resets everything), then validates. On error *t is
 * unchanged and the message quotes the offending item. */
thaw_status thaw_transform_parse(thaw_transform *t, const char *spec, thaw_error *err);

/* Checks every field's range (and that floats are finite). */
thaw_status thaw_transform_validate(const thaw_transform *t, thaw_error *err);

/* The canonical spec of t ("none" when nothing is on), parseable by
 * thaw_transform_parse; truncated to size like snprintf. Returns the
 * length it needed. */
size_t thaw_transform_describe(const thaw_transform *t, char *buf, size_t size);

bool thaw_transform_has_shift(const thaw_transform *t);
bool thaw_transform_has_augment(const thaw_transform *t);

/* Domain shift of one (h, w, c) image in place; rng is only used for noise
 * (h*w*c normal draws, in memory order). */
void thaw_transform_shift_image(float *x, int h, int w, int c, const thaw_transform *t,
                                thaw_rng *rng);

/* Domain shift of every image of d in place. Image i's noise comes from
 * its own generator seeded from (seed, i) alone, so the result does not
 * depend on the order or the threads that process the images. Validates t
 * first. */
thaw_status thaw_transform_shift_dataset(thaw_dataset *d, const thaw_transform *t, uint64_t seed,
                                         thaw_error *err);

/* Augments a batch x of n (h, w, c) images in place. When training is
 * false: the identity, and rng is not touched. When true, for each image in
 * order: if flip, one thaw_rng_uniform draw u, flipped when u < 0.5; if
 * shift > 0, dy = thaw_rng_below(2k+1) - k then dx likewise; the image is
 * flipped, then translated: out[y][x] = in[y - dy][x - dx] (dy > 0 moves the
 * content down, dx > 0 right), with `fill` where that is outside. Same rng
 * state, same batch. */
void thaw_transform_augment(float *x, int n, int h, int w, int c, const thaw_transform *t,
                            bool training, thaw_rng *rng);

/* The two augmentation kernels, on one (h, w, c) image in place. */
void thaw_transform_flip(float *x, int h, int w, int c);
void thaw_transform_translate(float *x, int h, int w, int c, int dy, int dx, thaw_fill fill);

#endif
