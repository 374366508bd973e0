/* ThawDriftMap: a heat map of how far every BatchNorm layer's running
 * statistics have moved from the pretrained ones, over time.
 *
 * Rows are layers (their names at the left, small font; when rows are too
 * thin for every name, every k-th row and the selected row are named),
 * columns are time (one per appended snapshot, oldest at the left, with a
 * step axis below). The colour is sequential: zero drift is transparent (the
 * window background shows), then it turns yellow, orange and dark red
 * towards the top of the scale; a colour bar at the right gives the scale in
 * percent (linear from 0 to a nice number above the largest value, via
 * thaw_axis_fit). A cell with no value (NaN: no reference, or NaN
 * statistics) is grey, and the bar then shows a grey "n/a" swatch.
 *
 * History is bounded: at most THAW_DRIFT_MAP_MAX_COLUMNS columns. When they
 * are full, neighbouring columns are merged pairwise (the later one is kept:
 * a column shows the state at its step) and each column from then on covers
 * twice as many appends (the newest value replacing the previous one until
 * the column is full). So drawing and memory stay O(rows x cap) however long
 * a run is. The cells are coloured into an image surface (one pixel per
 * cell) when they change, and drawing scales it onto the map.
 *
 * Clicking a row (a GtkGestureClick on the widget) selects it and emits
 * ::row-activated(row); the selected row is outlined. Hover shows a read-out
 * of the cell under the pointer. */
#ifndef THAW_UI_DRIFT_MAP_H
#define THAW_UI_DRIFT_MAP_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_DRIFT_MAP_MAX_COLUMNS 1024

/* The colour scale's stops (zero drift is transparent). */
#define THAW_DRIFT_YELLOW "#f6d32d"
#define THAW_DRIFT_ORANGE "#e66100"
#define THAW_DRIFT_RED    "#a51d2d"

#define THAW_TYPE_DRIFT_MAP (thaw_drift_map_get_type())
G_DECLARE_FINAL_TYPE(ThawDriftMap, thaw_drift_map, THAW, DRIFT_MAP, GtkWidget)

GtkWidget *thaw_drift_map_new(void);

/* n rows named names[0..n-1] (copied); clears the history and the selection. */
void thaw_drift_map_set_rows(ThawDriftMap *self, int n, const char *const *names);
int thaw_drift_map_get_n_rows(ThawDriftMap *self);

/* Appends a column: values[row] for every row (NaN: no value), at step. */
void thaw_drift_map_append(ThawDriftMap *self, guint64 step, const double *values);
/* Drops every column (the rows stay). */
void thaw_drift_map_clear(ThawDriftMap *self);

guint thaw_drift_map_get_n_columns(ThawDriftMap *self);
/* The value of a cell; NAN outside the map. */
double thaw_drift_map_get_value(ThawDriftMap *self, int row, guint column);
/* The step of a column (the last appended to it); 0 outside the map. */
guint64 thaw_drift_map_get_step(ThawDriftMap *self, guint column);

/* The outlined row; -1: none. Setting it does not emit ::row-activated. */
void thaw_drift_map_set_selected(ThawDriftMap *self, int row);
int thaw_drift_map_get_selected(ThawDriftMap *self);

/* The row at widget coordinates (x, y) -- over its cells or its name -- for
 * the widget's current size; -1 when none. This is what a click uses. */
int thaw_drift_map_row_at(ThawDriftMap *self, double x, double y);
/* The cells of a row (or, row -1, of the whole map) in widget coordinates
 * for the widget's current size; FALSE (and an empty rect) when there is no
 * such row or the widget is too small. */
gboolean thaw_drift_map_get_row_area(ThawDriftMap *self, int row, graphene_rect_t *area);

/* The hover read-out for (x, y) ("conv3_block1_1_bn · step 120 · 12.3%");
 * NULL when the pointer is over no cell. */
const char *thaw_drift_map_hover_at(ThawDriftMap *self, double x, double y);

/* Draws the map into a cairo context of the given size (what snapshot()
 * does; also PNG export at any scale). */
void thaw_drift_map_draw(ThawDriftMap *self, cairo_t *cr, int width, int height);

G_END_DECLS

#endif
