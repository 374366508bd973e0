/* ThawWorker: the engine worker. It owns one ThawRun on its own thread and
 * is driven from a main loop (the window's, later; GLib only here).
 *
 * Commands go in through a GAsyncQueue and are applied only between two
 * training steps; a knob changed while running takes effect at the next step
 * and leaves a marker (step + label) in the next report.
 *
 * Reports come out as immutable, refcounted ThawReport snapshots, delivered
 * by the "report" signal on the GMainContext that was thread-default when the
 * worker was created. They are coalesced: one latest-wins slot under a mutex
 * and at most one idle callback in flight, so a slow main loop sees fewer
 * reports, but markers (and the last validation) are carried over into the
 * report that replaces a dropped one, never lost.
 *
 * Dispose (or thaw_worker_stop) sends quit and joins the thread, mid-run or
 * not; no "report" is emitted after it. Dispose must run on the thread of
 * the worker's main context. */
#ifndef THAW_APP_THAW_WORKER_H
#define THAW_APP_THAW_WORKER_H

#include <glib-object.h>

#include "setup.h"
#include "thaw.h"

G_BEGIN_DECLS

typedef enum {
    THAW_WORKER_LOADING,  /* thaw_run_new() under way on the worker thread */
    THAW_WORKER_PAUSED,   /* loaded, waiting for run or step */
    THAW_WORKER_RUNNING,  /* training continuously */
    THAW_WORKER_FINISHED, /* all the setup's epochs are done */
    THAW_WORKER_FAILED,   /* loading or a step failed: see error */
} ThawWorkerState;

const char *thaw_worker_state_to_string(ThawWorkerState state);

/* A change that charts draw: at `step` (steps done when it took effect). */
typedef struct {
    guint64 step;
    char *label; /* "unfroze conv4_block3_2_conv", "preset pytorch", "lr 0.001" */
} ThawMarker;

/* The BatchNorm statistics after one step, copied from thaw_step_report:
 * channel data of BN layer j starts at offset[j] in the four arrays. Shared
 * (refcounted) between the reports that carry the same step's statistics. */
typedef struct {
    guint64 step; /* the step they come from */
    int n_bn;
    int *layer;  /* (n_bn) model layer index */
    int *offset; /* (n_bn) */
    int channels;
    float *batch_mean, *batch_var; /* (channels) */
    float *moving_mean, *moving_var;
} ThawBnStats;

/* One training step's numbers (reports carry every step since the last
 * delivered report, so charts miss none when reports coalesce). */
typedef struct {
    guint64 step;     /* 1-based: the step's number */
    double loss, acc; /* the batch's loss and accuracy (training mode) */
} ThawStepPoint;

/* One finished epoch: fit()'s mean loss and (training-mode) accuracy over its
 * batches, and the validation accuracy in both modes measured right after.
 * Reports carry every epoch finished since the last delivered report: with
 * the feature cache an epoch can take a millisecond, so several may end
 * between two frames. */
typedef struct {
    int epoch;                   /* 1-based */
    double loss, acc;            /* the epoch's training batches */
    double val_infer, val_train; /* validation accuracy, inference / training mode */
} ThawEpochPoint;

/* One-shot jobs: run on the worker thread between two steps (a running
 * worker goes on afterwards); each result arrives once, in a report. */
typedef enum {
    THAW_JOB_PREDICT,    /* validation images predicted in both modes */
    THAW_JOB_BATCHMATES, /* one validation image in many random training-mode batches */
    THAW_JOB_DROPOUT,    /* one validation image, one fixed batch, many dropout draws */
    THAW_JOB_REESTIMATE, /* BN running statistics re-estimated on the training images */
} ThawJobKind;

typedef struct {
    ThawJobKind kind;
    guint id;    /* what the thaw_worker_* call returned */
    char *error; /* NULL on success */
    int classes;
    int batch; /* the training-mode batch size */
    /* PREDICT: validation images first .. first + n - 1, their raw pixels
     * (n, h, w, c), labels, and softmax probabilities (n, classes) in
     * training mode (batches of `batch` in order, dropout seeded by the
     * setup's seed: what `thaw-cli compare` computes) and inference mode.
     * BATCHMATES: image `first`; probs_train holds n rows (one per random
     * batch of `batch` validation images around it, each with its own
     * dropout seed), probs_infer one row (its inference-mode answer), and
     * pixels/labels that one image.
     * DROPOUT: as BATCHMATES, but every row is the same batch (mates drawn
     * once) with a different dropout seed: only Dropout makes them differ.
     * REESTIMATE: the validation accuracy in inference mode before and
     * after (acc_before, acc_after) and the layers re-estimated (n). */
    int first, n, h, w, c;
    float *pixels;
    int32_t *labels;
    float *probs_train, *probs_infer;
    double acc_before, acc_after;
} ThawJobResult;

/* One snapshot. Read-only once delivered. */
typedef struct {
    ThawWorkerState state;
    guint generation; /* counts the run's (re)loads: a new value means a new model */
    guint64 step;     /* steps done since the run was (re)built */
    int epoch;        /* 1-based current (or last) epoch; 0 before the first step */
    int step_in_epoch, steps_per_epoch;
    float lr;                                   /* of the next step */
    double loss, acc;                           /* the last step (NaN if none) */
    double epoch_loss, epoch_acc, images_per_s; /* the epoch so far (NaN if none) */
    /* Where a step's compute goes, as the knobs stand: the layer whose output
     * the frozen-prefix feature cache keeps for the next steps ("" when they
     * run from the images; thaw_run_next_cut) and the multiply-accumulates
     * per image of such a step once the cache holds the image
     * (thaw_model_step_cost; 0 before a model is loaded). */
    double step_macs;
    char cached_layer[THAW_NAME_MAX];
    ThawEpochPoint *epochs; /* every epoch finished since the last delivered report, oldest
                               first */
    guint n_epochs;
    ThawMarker *markers; /* since the last delivered report, oldest first */
    guint n_markers;
    ThawStepPoint *points; /* every step since the last delivered report, oldest first */
    guint n_points;
    double elapsed; /* seconds spent training (steps and validation) since the load */
    /* Loading: how far (0..1) and what it is doing. */
    double load_fraction;
    char *load_what;
    gboolean cancelled; /* state FAILED because thaw_worker_cancel_load() stopped it */
    /* The model, once loaded: its architecture (a structure-only copy can be
     * built from it with thaw_model_new_uninitialized) and its knobs. */
    int n_layers; /* 0 while loading or failed to load */
    thaw_model_config config;
    guint8 *trainable; /* (n_layers) the model's layer.trainable flags */
    thaw_preset preset;
    thaw_tristate base_training;
    float bn_momentum; /* the model's override, < 0: the preset's default */
    char *model_path;  /* the base model's file */
    char *data_description;
    char **class_names;        /* the target's, in label order */
    int n_train, n_val;        /* images */
    ThawBnStats *bn;           /* the last step's BN statistics, NULL before the first; batch
                                  statistics are NaN where a layer normalised with its moving ones */
    ThawBnStats *bn_reference; /* the moving statistics as loaded (pretrained): NaN batch
                                  statistics; NULL while loading */
    char *error;               /* state FAILED: why */
    /* Knob commands (set_trainable*, set_preset, set_lr, set_base_training)
     * applied so far, counted from the worker's creation: a front end that
     * counts what it sent knows when the knobs in a report include all its
     * changes. */
    guint64 knob_serial;
    /* The outcome of one-shot jobs (saves) since the last delivered report,
     * "; "-separated: "saved 'x.thaw'" or an error (then message_is_error).
     * NULL when there is none. */
    char *message;
    gboolean message_is_error;
    /* Results of one-shot jobs since the last delivered report. */
    ThawJobResult **jobs;
    guint n_jobs;
} ThawReport;

#define THAW_TYPE_REPORT (thaw_report_get_type())
GType thaw_report_get_type(void) G_GNUC_CONST;
ThawReport *thaw_report_ref(ThawReport *r);
void thaw_report_unref(ThawReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ThawReport, thaw_report_unref)

#define THAW_TYPE_WORKER (thaw_worker_get_type())
G_DECLARE_FINAL_TYPE(ThawWorker, thaw_worker, THAW, WORKER, GObject)

/* Starts the thread, which loads a run from (a copy of) setup and then waits
 * paused. Signal "report" (ThawReport *) is emitted on the caller's
 * thread-default main context. */
ThawWorker *thaw_worker_new(const ThawSetup *setup);

void thaw_worker_run(ThawWorker *w);   /* train continuously */
void thaw_worker_pause(ThawWorker *w); /* stop after the current step */
void thaw_worker_step(ThawWorker *w);  /* one batch, then paused */
/* Rebuilds the run (knob changes are dropped) from setup, or from the last
 * setup when NULL; the worker is then paused at step 0. */
void thaw_worker_reset(ThawWorker *w, const ThawSetup *setup);
void thaw_worker_set_trainable(ThawWorker *w, int layer, gboolean trainable);
/* Sets every layer's trainable flag at once (flags: n_layers values, copied)
 * with one marker labelled `label` ("froze all"; NULL: "froze conv1_conv" for
 * one change, "froze 3 layers, unfroze 2" otherwise). Ignored when n does not
 * match the model. */
void thaw_worker_set_trainable_all(ThawWorker *w, const guint8 *flags, int n, const char *label);
void thaw_worker_set_preset(ThawWorker *w, thaw_preset preset);
/* The learning rate from the next step on (until the two-phase recipe's
 * switch, which keeps the override: it stays in force until reset). */
void thaw_worker_set_lr(ThawWorker *w, double lr);
void thaw_worker_set_base_training(ThawWorker *w, thaw_tristate training);

/* Saves the model as it is between two steps to path (a .thaw checkpoint,
 * written atomically, with the optimizer state); the outcome arrives as a
 * report's message. */
void thaw_worker_save(ThawWorker *w, const char *path);

/* Predicts count validation images from first (clamped to the set) in both
 * modes, training mode in batches of `batch` (0: the setup's). Returns the
 * job's id. */
guint thaw_worker_predict(ThawWorker *w, int first, int count, int batch);
/* The batch-mates experiment: validation image `image` predicted in
 * training mode inside reps random batches of size batch (its mates drawn
 * from the other validation images), and once in inference mode. */
guint thaw_worker_batchmates(ThawWorker *w, int image, int batch, int reps);
/* Dropout made visible: image `image` in one fixed batch of `batch`,
 * predicted reps times in training mode with different dropout seeds. */
guint thaw_worker_dropout(ThawWorker *w, int image, int batch, int reps);
/* Re-estimates every BN layer's running statistics over the training
 * images (thaw_model_reestimate_bn, in the setup's batch size; no gradient
 * step) and measures the validation accuracy in inference mode before and
 * after. Leaves a marker; the next report's `bn` carries the new moving
 * statistics. */
guint thaw_worker_reestimate(ThawWorker *w);

/* Stops a load under way (an image folder stops within an image); the
 * worker then reports FAILED with `cancelled` set. No effect otherwise.
 * Safe from any thread. */
void thaw_worker_cancel_load(ThawWorker *w);

/* Sends quit and joins the thread (idempotent); dispose calls it. A load
 * under way is cancelled first. */
void thaw_worker_stop(ThawWorker *w);

G_END_DECLS

#endif
