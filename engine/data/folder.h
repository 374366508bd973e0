/* Image-folder datasets in Keras's image_dataset_from_directory layout:
 *
 *   root/<class>/<image>.png
 *
 * - Classes are the subfolders of root, sorted by byte order of their names
 *   (Python's sorted(), as Keras does); an image's label is its class's
 *   index in that order. Hidden subfolders (name starting with '.', e.g.
 *   .ipynb_checkpoints) are skipped; Keras would make them classes.
 * - Images are the regular files (symlinks followed) directly in a class
 *   folder whose name ends in ".png", any case, sorted by byte order. Other
 *   extensions are skipped like Keras's extension filter does, and so are
 *   hidden files (macOS "._x.png" resource forks). Unlike Keras, nested
 *   subfolders of a class folder are not searched, and only PNG is decoded
 *   (Keras also reads .jpg/.jpeg/.bmp/.gif: a class folder with only those
 *   is reported as such).
 * - Each image is decoded to the requested channel count (thaw_png_read:
 *   luma for 1 channel, gray replicated for 3, alpha dropped), then resized
 *   to h x w by thaw_folder_resize (bilinear, half-pixel centres), the order
 *   Keras uses (decode with channels, then tf.image.resize).
 * - Pixels stay raw 0..255 (normalisation belongs to the model).
 *
 * Errors, each naming the folder or file at fault: root missing or not a
 * directory (THAW_ERR_IO), no class folders or a class folder with no .png
 * image (THAW_ERR_FORMAT), a file that cannot be read or decoded (as
 * thaw_png_read reports it), more images than max_images or more pixel data
 * than max_bytes (THAW_ERR_UNSUPPORTED), bad options (THAW_ERR_ARG), a
 * cancel from the progress callback (THAW_ERR_CANCELLED). */
#ifndef THAW_DATA_FOLDER_H
#define THAW_DATA_FOLDER_H

#include <stddef.h>

#include "core/status.h"
#include "data/dataset.h"

/* Defaults of thaw_folder_options.max_images and .max_bytes. */
#define THAW_FOLDER_MAX_IMAGES 100000
#define THAW_FOLDER_MAX_BYTES  ((size_t)2 << 30)

/* Called before the first image with done = 0 and after each image with
 * done = 1..total; returning non-zero stops the load with
 * THAW_ERR_CANCELLED. Runs on the loading thread. */
typedef int (*thaw_folder_progress_fn)(void *ctx, int done, int total);

typedef struct thaw_folder_options {
    int h, w;                         /* output size (the model's input), 1..4096 */
    int c;                            /* output channels: 1 (gray) or 3 (RGB) */
    int max_images;                   /* 0: THAW_FOLDER_MAX_IMAGES */
    size_t max_bytes;                 /* cap on n*h*w*c floats, in bytes; 0: default */
    thaw_folder_progress_fn progress; /* optional */
    void *progress_ctx;
} thaw_folder_options;

typedef struct thaw_folder {
    thaw_dataset data;  /* (n, h, w, c) raw pixels, labels 0..classes-1 */
    char **class_names; /* data.classes names, in label order */
    char **files;       /* data.n paths "<class>/<file>" relative to root */
} thaw_folder;

/* Loads root into out (zeroed on failure). */
thaw_status thaw_folder_load(thaw_folder *out, const char *root, const thaw_folder_options *opt,
                             thaw_error *err);

void thaw_folder_free(thaw_folder *f);

/* Bilinear resize of one (sh, sw, c) image to (dh, dw, c), all sizes > 0.
 * Half-pixel centres, the align_corners=False convention of TF 2's
 * tf.image.resize(method="bilinear", antialias=False) (what Keras's
 * image_dataset_from_directory uses) and of PyTorch's
 * F.interpolate(mode="bilinear", align_corners=False, antialias=False):
 * output pixel (y, x) samples the source at
 *   sy = (y + 0.5) * sh / dh - 0.5,   sx = (x + 0.5) * sw / dw - 0.5,
 * y0 = floor(sy) clamped to [0, sh-1], y1 = min(y0 + 1, sh - 1), ly = sy -
 * floor(sy) (0 when sy < 0), likewise in x, and
 *   top = s[y0][x0] + (s[y0][x1] - s[y0][x0]) * lx
 *   bot = s[y1][x0] + (s[y1][x1] - s[y1][x0]) * lx
 *   out = top + (bot - top) * ly.
 * Edges clamp (no black border); downscaling has no antialiasing (2:1
 * averages 2x2 blocks, larger ratios alias, as in Keras). Same size copies. */
void thaw_folder_resize(float *dst, int dh, int dw, const float *src, int sh, int sw, int c);

#endif
