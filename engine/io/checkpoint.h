/* Thaw's own checkpoint format, `.thaw`: a fixed header, the model config as
 * "key = value" text, a directory of named little-endian tensors (parameters,
 * BN moving statistics, optionally the optimizer state) and a CRC32 of the
 * whole file. Every byte is documented in io/CHECKPOINT.md, so any script can
 * write one; tests/fixtures/thaw_checkpoint.py is a reference in plain Python.
 *
 * Saving is atomic: the file is written to "<path>.XXXXXX" in the same folder,
 * flushed, fsync'ed and renamed over path, so a failure (a full disk, a
 * missing folder) leaves any previous file untouched. Loading checks
 * everything (size, magic, version, checksum, config, names, shapes, values)
 * before it hands out a model, and names the file and the tensor at fault. */
#ifndef THAW_IO_CHECKPOINT_H
#define THAW_IO_CHECKPOINT_H

#include <stdbool.h>

#include "core/status.h"
#include "model/model.h"

#define THAW_CHECKPOINT_MAGIC   "THAWCKPT" /* 8 bytes, no NUL */
#define THAW_CHECKPOINT_VERSION 1

/* Writes m's config, steps, parameters and BN moving statistics to path. With
 * with_optimizer, also the optimizer state: the per-tensor step counts and
 * whichever of opt_m / opt_v the model has allocated. A model holding a
 * non-finite value (or a negative moving variance) is refused with
 * THAW_ERR_NONFINITE, since the file could not be loaded. */
thaw_status thaw_checkpoint_save(const thaw_model *m, const char *path, bool with_optimizer,
                                 thaw_error *err);

/* Builds a new model from the checkpoint's config (thaw_model_new) and fills
 * every tensor and the step counters. *out is NULL on failure. The layer
 * knobs (trainable, lr_mult, preset) are the defaults of a new model: the
 * format stores state, not the user's freeze settings. */
thaw_status thaw_checkpoint_load(thaw_model **out, const char *path, thaw_error *err);

/* Loads a checkpoint into an existing model whose config equals the file's in
 * every field but the seed (THAW_ERR_SHAPE naming the first difference).
 * Replaces the parameters, moving statistics, step counters and the optimizer
 * state (dropped when the file has none); keeps m's knobs. On failure m is
 * unchanged. */
thaw_status thaw_checkpoint_load_into(thaw_model *m, const char *path, thaw_error *err);

#endif
