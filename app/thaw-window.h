/* ThawWindow: the main window (SPEC.md §5). It owns one ThawWorker (the
 * engine on its own thread) and shows what its reports say: the freeze tree
 * (ThawModelPane), the loss and accuracy charts (ThawChart), the status bar,
 * a loading banner with progress and Cancel, and an error banner. The header
 * bar drives the worker: setup, Run/Pause, Step, Reset, the semantics preset,
 * the base model's `training` argument; the primary menu opens images and
 * weights, saves checkpoints and exports.
 *
 * Everything the header bar and menus do is a window action, so the
 * keyboard, the menus and D-Bus (`org.gtk.Actions` on the window's object
 * path) reach the same code:
 *   win.run  win.pause  win.run-pause  win.step  win.reset  win.cancel-load
 *   win.preset (s, stateful: a preset name)  win.base-training (s: "none",
 *   "true", "false")  win.setup (s: a preset file's basename)  win.log-loss
 *   (b)  win.set-lr (s)  win.freeze-all  win.unfreeze-all  win.unfreeze-last
 *   (i)  win.open-images  win.open-weights  win.save-checkpoint
 *   win.export-code (s: "keras"|"pytorch")  win.export-png  win.export-csv
 *   win.export-pane (the visible pane as PNG at 2x)  win.pane (s, stateful:
 *   "training", "batchnorm", "predictions", "lesson", "code")  win.batchmates
 *   win.dropout-draws (the experiments on the image studied; with an int
 *   parameter, on that validation image: win.study-image (i))
 *   win.lesson (s: a demo's name: the Lessons pane on it)  win.measure-demo
 *   (run the shown demo's measurement, as thaw-cli demo does)
 *   win.cancel-measure  win.dismiss-error
 *
 * Knob edits (freezing, preset, base training, learning rate) take effect at
 * the worker's next step, leave a marker on the charts, and are also written
 * into the window's current setup, so that Reset restarts from the
 * pretrained weights with what the person sees, and exported code matches. */
#ifndef THAW_APP_THAW_WINDOW_H
#define THAW_APP_THAW_WINDOW_H

#include <gtk/gtk.h>

#include "settings.h"
#include "setup.h"
#include "thaw-bn-pane.h"
#include "thaw-code-pane.h"
#include "thaw-lesson-pane.h"
#include "thaw-predictions-pane.h"
#include "thaw-strip-plot.h"
#include "thaw-chart.h"
#include "thaw-model-pane.h"
#include "thaw-worker.h"

G_BEGIN_DECLS

#define THAW_TYPE_WINDOW (thaw_window_get_type())
G_DECLARE_FINAL_TYPE(ThawWindow, thaw_window, THAW, WINDOW, GtkApplicationWindow)

/* A window running setup (copied); setup_id names the preset file it came
 * from (its basename without .ini), or NULL for a setup from the command
 * line. */
ThawWindow *thaw_window_new(GtkApplication *app, const ThawSetup *setup, const char *setup_id);

/* For tests and the application. */
ThawWorker *thaw_window_get_worker(ThawWindow *self);
ThawModelPane *thaw_window_get_model_pane(ThawWindow *self);
ThawChart *thaw_window_get_loss_chart(ThawWindow *self);
ThawChart *thaw_window_get_acc_chart(ThawWindow *self);
/* The last report shown (NULL before the first), and the setup Reset uses. */
ThawReport *thaw_window_get_last_report(ThawWindow *self);
const ThawSetup *thaw_window_get_setup(ThawWindow *self);
/* The error banner's text, NULL when it is hidden. */
const char *thaw_window_get_error(ThawWindow *self);
/* Demo measurements (the Lessons pane's Measure) whose thread has not ended
 * yet, in all windows: a closed window's keeps running until it notices the
 * cancellation. */
int thaw_window_measurements_running(void);
/* The status bar's work of a step per image ("640 MAC/image · avg_pool cached"). */
const char *thaw_window_get_work_text(ThawWindow *self);

/* Applies remembered settings (size, pane, divider, log scale, the code
 * framework) before the window is shown; thaw_window_save_settings() writes
 * the current ones to thaw_settings_path() (the window does it when it
 * closes; a failure is a warning, never fatal). */
void thaw_window_restore(ThawWindow *self, const ThawSettings *settings);
gboolean thaw_window_save_settings(ThawWindow *self, GError **error);
ThawCodePane *thaw_window_get_code_pane(ThawWindow *self);
ThawPredictionsPane *thaw_window_get_predictions_pane(ThawWindow *self);
ThawBnPane *thaw_window_get_bn_pane(ThawWindow *self);
ThawLessonPane *thaw_window_get_lesson_pane(ThawWindow *self);
ThawStripPlot *thaw_window_get_strip_plot(ThawWindow *self);
/* The batch-mates (or, with dropout, the dropout-draws) experiment on
 * validation image `image` with the pane's batch size and passes. */
void thaw_window_study_image(ThawWindow *self, int image, gboolean dropout);
/* How many validation images the Predictions pane predicts (from the first). */
#define THAW_WINDOW_PREDICT_IMAGES 240
/* A transient message in the status bar. */
void thaw_window_show_message(ThawWindow *self, const char *message);
/* Shows the pane called name ("training", "code", ...). */
void thaw_window_show_pane(ThawWindow *self, const char *name);

/* Renders the window as it is on screen to a PNG file, after its next
 * frame (the PNG shows exactly what was painted). */
void thaw_window_save_png_async(ThawWindow *self, const char *path, GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean thaw_window_save_png_finish(ThawWindow *self, GAsyncResult *result, GError **error);

/* Draws pane ("training", "batchnorm", "predictions") at twice its size on
 * screen into a PNG file (cairo, libpng); *out_w, *out_h (may be NULL)
 * receive the image's size. The Code pane has no picture (export the
 * script instead). */
gboolean thaw_window_export_pane_png(ThawWindow *self, const char *pane, const char *path,
                                     int *out_w, int *out_h, GError **error);

/* Frame intervals (ms) measured on the frame clock while the worker runs:
 * how many, the median, the 95th percentile and the maximum. */
void thaw_window_frame_stats(ThawWindow *self, guint *n, double *p50, double *p95, double *max);

G_END_DECLS

#endif
