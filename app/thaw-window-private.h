/* ThawWindow's instance and the functions its files share
 * (thaw-window.c: reports, knobs, actions; thaw-window-panes.c: the BatchNorm,
 * Predictions, Lessons and Code panes; thaw-window-files.c: file choosers,
 * export, screenshots). */
#ifndef THAW_APP_THAW_WINDOW_PRIVATE_H
#define THAW_APP_THAW_WINDOW_PRIVATE_H

#include "settings.h"
#include "thaw-bn-pane.h"
#include "thaw-code-pane.h"
#include "thaw-lesson-pane.h"
#include "thaw-predictions-pane.h"
#include "thaw-strip-plot.h"
#include "thaw-window.h"

G_BEGIN_DECLS

/* Series of the two charts, in the order setup_charts() adds them. */
enum { SERIES_BATCH_LOSS = 0, SERIES_EPOCH_LOSS = 1 };
enum { SERIES_VAL_INFER = 0, SERIES_VAL_TRAIN = 1, SERIES_FIT_ACC = 2 };

/* The run history for CSV export: an epoch's results, or a marker. */
typedef struct {
    int epoch; /* 0 for a marker row */
    guint64 step;
    double loss, acc, val_infer, val_train;
    guint64 marker_step;
    char *marker;
} ThawEpochRow;

struct _ThawWindow {
    GtkApplicationWindow parent_instance;

    /* template children */
    GtkDropDown *setup_dropdown, *preset_dropdown, *base_training_dropdown;
    GtkButton *run_button, *step_button, *reset_button;
    GtkImage *run_icon;
    GtkLabel *run_label;
    GtkRevealer *loading_revealer, *error_revealer;
    GtkLabel *loading_label, *error_label;
    GtkProgressBar *loading_bar;
    ThawModelPane *model_pane;
    ThawChart *loss_chart, *acc_chart;
    GtkPaned *paned;
    GtkStack *stack;
    ThawCodePane *code_pane;
    ThawPredictionsPane *predictions_pane;
    ThawBnPane *bn_pane;
    ThawLessonPane *lesson_pane;
    GtkLabel *exp_label;
    GtkSpinButton *exp_batch, *exp_passes;
    ThawStripPlot *strip_plot;
    int exp_image;        /* the validation image studied alone, -1 = none */
    guint exp_job;        /* the experiment asked for, 0 = none */
    guint reestimate_job; /* asked for and not yet answered, 0 = none */
    guint predict_job;    /* the predictions asked for and not yet shown, 0 = none */
    guint predicted_step; /* +1: the step the shown predictions are of (0 = none) */
    gboolean code_stale;  /* the setup changed since the Code pane's script was made */
    GtkEntry *lr_entry;
    GtkLabel *data_label, *state_label, *step_label, *epoch_label, *speed_label, *work_label,
        *elapsed_label, *message_label;

    ThawWorker *worker;
    ThawSetup *setup;      /* what Reset uses: the loaded setup plus knob edits */
    char *setup_id;        /* its preset file's basename, NULL: the command line */
    ThawSetup *good_setup; /* the last setup that loaded, to come back to */
    char *good_setup_id;
    gboolean reverting;   /* going back to good_setup after a failed load */
    GPtrArray *setup_ids; /* parallel to setup_dropdown's items ("" = command line) */

    ThawReport *last;        /* the last report shown */
    thaw_model *shadow;      /* structure-only copy of the worker's model, for the tree */
    guint shadow_generation; /* the report generation it was built for */
    guint shown_generation;  /* the charts show this generation */
    guint64 knobs_sent;      /* knob commands sent to the worker */
    gboolean syncing;        /* choosers being set from a report: send nothing */

    GArray *steps;  /* of ThawStepPoint: every step of this generation */
    GArray *epochs; /* of ThawEpochRow */
    int last_val_epoch;
    guint64 last_estimate_step;
    char *error_text; /* the error banner's, NULL when hidden */

    GCancellable *measure_cancel; /* a demo measurement running in a thread, NULL: none */
    GHashTable *measure_results;  /* demo name -> the Lessons pane's result markup */
    gboolean disposed;            /* late callbacks (a measurement ending) touch nothing */

    guint tick_id; /* frame-interval measurement while running */
    gint64 last_frame_us;
    GArray *frame_ms; /* of double */
};

void thaw_window_show_error(ThawWindow *self, const char *message);
void thaw_window_restart(ThawWindow *self);
/* Takes setup; reloads the worker with it. */
void thaw_window_load_setup(ThawWindow *self, ThawSetup *setup, const char *setup_id);
void thaw_window_select_setup_id(ThawWindow *self, const char *id);
void thaw_window_update_actions(ThawWindow *self, gboolean can_train, gboolean loading);
/* The setup changed: the Code pane's script is remade (now if it shows). */
void thaw_window_setup_changed(ThawWindow *self);
/* Sets a stateful action's state without running its change_state. */
void thaw_window_set_action_state(ThawWindow *self, const char *name, GVariant *state);
/* thaw-window-panes.c: wiring at init; a new generation (clears what was
 * about the old model); a new model; every report (BN snapshots, jobs). */
void thaw_window_panes_setup(ThawWindow *self);
void thaw_window_panes_new_generation(ThawWindow *self);
void thaw_window_panes_new_model(ThawWindow *self, const ThawReport *r);
void thaw_window_panes_report(ThawWindow *self, const ThawReport *r, const ThawReport *prev);
/* At dispose: cancels a demo measurement still running. */
void thaw_window_panes_dispose(ThawWindow *self);
/* thaw-window-files.c */
void thaw_window_add_file_actions(ThawWindow *self);

G_END_DECLS

#endif
