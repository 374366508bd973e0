/* ThawBnPane: the BatchNorm pane of the window.
 *
 * What a person sees, top to bottom:
 *   - a row with a drop-down of the model's BN layers ("BatchNorm layer"),
 *     the "Re-estimate running statistics" button (with a spinner while the
 *     engine works) and the outcome of the last re-estimation
 *     ("inference-mode accuracy 61.3% → 74.8%");
 *   - the chosen layer's channels (ThawBnPlot): running mean and variance
 *     against the current batch's, the pretrained values as a faint
 *     reference, updated on every push;
 *   - the drift map (ThawDriftMap): every BN layer (rows) over time
 *     (columns), coloured by how far its running statistics moved from the
 *     pretrained ones; clicking a row chooses that layer.
 *
 * The pane knows nothing of the worker: it takes plain arrays. Statistics of
 * all layers are concatenated in layer order, channels[0] floats for layer 0,
 * then channels[1] for layer 1, and so on ("total" floats; the same layout as
 * the worker's ThawBnStats).
 *
 * Drift, per layer l after each push (d_l, what the map colours):
 *
 *       d_l = sum_c (|mm_c - rm_c| + |mv_c - rv_c|) / sum_c (|rm_c| + |rv_c|)
 *
 * over the layer's channels c, with mm/mv the pushed moving mean/variance and
 * rm/rv the reference (pretrained) mean/variance -- the "mean relative change"
 * of thaw_run_bn_drift(), in double precision. d_l = 0 when the denominator is
 * 0; NaN when no reference is set (or the statistics are NaN). */
#ifndef THAW_UI_BN_PANE_H
#define THAW_UI_BN_PANE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_TYPE_BN_PANE (thaw_bn_pane_get_type())
G_DECLARE_FINAL_TYPE(ThawBnPane, thaw_bn_pane, THAW, BN_PANE, GtkWidget)

GtkWidget *thaw_bn_pane_new(void);

/* The BN layers of a model: n names and their channel counts (copied).
 * Resets everything (reference, statistics, history, result); selects layer
 * 0 (-1 when n is 0). */
void thaw_bn_pane_set_layers(ThawBnPane *self, int n, const char *const *names,
                             const int *channels);
int thaw_bn_pane_get_n_layers(ThawBnPane *self);

/* The pretrained moving statistics (total floats each, copied); the faint
 * reference of the plot and what drift is measured against, from the next
 * push on (columns already in the map stay). NULL, NULL: none. */
void thaw_bn_pane_set_reference(ThawBnPane *self, const float *mean, const float *var);

/* One snapshot after a training step (total floats each, copied): updates the
 * plot of the selected layer and appends a drift column. Only queues redraws. */
void thaw_bn_pane_push(ThawBnPane *self, guint64 step, const float *batch_mean,
                       const float *batch_var, const float *moving_mean, const float *moving_var);

/* Forgets the drift history and the last snapshot (the plot keeps the
 * reference); for a new run of the same model. */
void thaw_bn_pane_clear_history(ThawBnPane *self);

/* Property "selected": the layer shown in the plot (-1: none). Also set by
 * the drop-down and by clicks on the drift map. */
void thaw_bn_pane_select(ThawBnPane *self, int layer);
int thaw_bn_pane_get_selected(ThawBnPane *self);

/* Channels drawn for the selected layer (one mark per channel and series). */
guint thaw_bn_pane_get_n_channels_shown(ThawBnPane *self);
/* d_l (above) of a layer at a drift-map column; NAN outside the map. */
double thaw_bn_pane_get_drift(ThawBnPane *self, int layer, guint column);
/* Drift-map columns; at most THAW_DRIFT_MAP_MAX_COLUMNS (older columns are
 * merged as pushes go on). */
guint thaw_bn_pane_get_n_columns(ThawBnPane *self);

/* The outcome of a re-estimation: inference-mode accuracy (0..1) before and
 * after, shown as "inference-mode accuracy 61.3% → 74.8%"; NAN, NAN clears. */
void thaw_bn_pane_set_reestimate_result(ThawBnPane *self, double before, double after);
/* The result text shown ("" when none). */
const char *thaw_bn_pane_get_result_text(ThawBnPane *self);

/* While the engine re-estimates: the button is insensitive and a spinner
 * turns. */
void thaw_bn_pane_set_busy(ThawBnPane *self, gboolean busy);

/* Draws the pane's plots (the result line if any, the channel plot, the
 * drift map) into a cairo context of the given size, split as on screen;
 * for PNG export at any scale. */
void thaw_bn_pane_draw(ThawBnPane *self, cairo_t *cr, int width, int height);

/* Signal ::reestimate-requested(): the button (action "bn.reestimate") was
 * activated; the window asks the engine to re-estimate the running
 * statistics, calls set_busy, then set_reestimate_result. */

G_END_DECLS

#endif
