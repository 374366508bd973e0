/* A fine-tune run: what `thaw-cli finetune` and the window's engine worker
 * drive, so the scenario logic exists once.
 *
 * thaw_run_new() turns a setup into a ready run: the base model (.thaw or
 * Keras .h5), the training and validation images (the Fashion-MNIST scenario
 * or an image folder, with the setup's K, seed and domain shift), the model
 * for the target task (the base's weights and statistics under a new head),
 * the preset, the base's `training` override, the freeze rules and the
 * per-stage learning rates. thaw_run_step() then trains one batch at a time
 * -- a caller may pause, change knobs or stop between any two steps -- and
 * thaw_run_validate() measures the validation images in both modes.
 *
 * Epochs walk the training images in a seeded random order in full batches
 * (drop_last: BatchNorm statistics need full batches); augmentation obeys
 * `training` like Keras's preprocessing layers (on unless the call passes
 * training=False). The setup's two-phase recipe unfreezes at the start of
 * epoch unfreeze_epoch + 1 and continues at unfreeze_lr. */
#ifndef THAW_APP_RUN_H
#define THAW_APP_RUN_H

#include <stdbool.h>

#include "setup.h"
#include "thaw.h"

G_BEGIN_DECLS

/* The Fashion-MNIST scenario of SPEC.md §4: source classes 0-4, target 5-9. */
extern const int thaw_scenario_source_classes[5];
extern const int thaw_scenario_target_classes[5];

/* Loads the Fashion-MNIST split `prefix` ("train", "t10k") of dir, keeps
 * `classes` (k per class, 0 = all, seeded) relabelled 0..4, and applies an
 * optional domain shift. */
thaw_status thaw_scenario_load_split(thaw_dataset *out, const char *dir, const char *prefix,
                                     const int *classes, int k, uint64_t seed,
                                     const thaw_transform *shift, thaw_error *err);

/* Loads the model a setup's `model` names: a .thaw, or a Keras .h5 with its
 * top (keep_top) or without. *path_out receives the resolved path (g_free). */
thaw_status thaw_scenario_load_model(thaw_model **out, const ThawSetup *s, bool keep_top,
                                     char **path_out, thaw_error *err);

typedef struct ThawRun ThawRun;

/* What a step did besides training (a bit set). */
enum {
    THAW_RUN_EPOCH_STARTED = 1 << 0, /* this step began an epoch */
    THAW_RUN_UNFROZEN = 1 << 1,      /* ... and the second phase unfroze layers first */
    THAW_RUN_EPOCH_DONE = 1 << 2,    /* this step finished the epoch */
};

/* Prepares a run. On failure *out is NULL, err says why and *usage_error
 * (may be NULL) tells whether the setup itself is at fault (a freeze pattern
 * matching no layer) rather than a file or the data. */
thaw_status thaw_run_new(ThawRun **out, const ThawSetup *s, bool *usage_error, thaw_error *err);

/* Progress of thaw_run_new_full(), called on the loading thread: fraction in
 * [0, 1] and what is being done ("reading images in 'dir'"). Returning TRUE
 * cancels the load: thaw_run_new_full() then fails with THAW_ERR_CANCELLED.
 * Image folders report per image; the model file and Fashion-MNIST (each
 * well under a second) between phases. */
typedef gboolean (*ThawRunProgressFn)(gpointer ctx, double fraction, const char *what);

/* As thaw_run_new, with progress reports and cancellation (progress may be NULL). */
thaw_status thaw_run_new_full(ThawRun **out, const ThawSetup *s, ThawRunProgressFn progress,
                              gpointer progress_ctx, bool *usage_error, thaw_error *err);
void thaw_run_free(ThawRun *r);

thaw_model *thaw_run_model(const ThawRun *r);
const thaw_model *thaw_run_base(const ThawRun *r);
const char *thaw_run_base_path(const ThawRun *r);
const char *thaw_run_data_description(const ThawRun *r); /* "Fashion-MNIST classes 5-9" */
const thaw_dataset *thaw_run_train_data(const ThawRun *r);
const thaw_dataset *thaw_run_val_data(const ThawRun *r);
/* The target classes' names, in label order (Fashion-MNIST's "Sandal",
 * ...; an image folder's sub-folder names), NULL-terminated. */
const char *const *thaw_run_class_names(const ThawRun *r);
const ThawSetup *thaw_run_setup(const ThawRun *r);

int thaw_run_epoch(const ThawRun *r); /* the current (or last) epoch, 1-based */
int thaw_run_steps_per_epoch(const ThawRun *r);
int thaw_run_step_in_epoch(const ThawRun *r); /* steps done in the current epoch */
float thaw_run_lr(const ThawRun *r);          /* the learning rate of the next step */
/* Sets the learning rate from the next step on (the setup's two-phase switch,
 * when it comes, sets its own); lr must be finite and > 0. */
thaw_status thaw_run_set_lr(ThawRun *r, float lr);
bool thaw_run_finished(const ThawRun *r); /* all the setup's epochs are done */

/* One training step on the next batch; *events gets THAW_RUN_* bits. A
 * failed step (e.g. a non-finite loss) leaves the model as it was. rep may be
 * NULL. Calling it on a finished run is THAW_ERR_STATE. */
thaw_status thaw_run_step(ThawRun *r, thaw_step_report *rep, unsigned *events, thaw_error *err);

/* The layer whose cached output the last step started from (the frozen-prefix
 * feature cache, engine/model/cache.h; validation uses one too), 0 when it
 * ran from the images: the setup's feature_cache off, augmentation on, no
 * fixed prefix, or its features too big (over 512 MiB for the data set). */
int thaw_run_cached_layer(const ThawRun *r);

/* The layer the next step will start from as the knobs stand now (0: the
 * images); thaw_model_step_cost(model, this) is its work per image. Brings
 * the cache in line with the knobs (it may empty it, as the step would). */
int thaw_run_next_cut(ThawRun *r);

/* The current (or just finished) epoch so far: mean loss and training
 * accuracy (measured in training mode, as fit() reports it), images/s. */
void thaw_run_epoch_stats(const ThawRun *r, double *loss, double *acc, double *images_per_s);

/* Validation accuracy and loss in inference mode and in training mode
 * (batches of 256, dropout seeded by the epoch, no statistics updated). */
thaw_status thaw_run_validate(ThawRun *r, thaw_eval_result *infer, thaw_eval_result *train,
                              thaw_error *err);

/* How far the base's BatchNorm moving statistics moved from the base model's:
 * layers counted, layers with any change, and the mean over layers of
 * sum |now - was| / sum |was| (moving mean and variance together). */
void thaw_run_bn_drift(const ThawRun *r, int *layers, int *changed, double *mean_relative);

G_END_DECLS

#endif
