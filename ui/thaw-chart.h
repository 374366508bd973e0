/* ThawChart: a live line chart for the window (loss, accuracy).
 *
 * Data lives in series (name, colour, style, points appended as they come);
 * the axis math is ui/thaw-chart-axis (pure, tested headless); the widget
 * only maps it onto pixels in snapshot() through gtk_snapshot_append_cairo().
 * Appending never draws: it queues one redraw, which GTK runs on the next
 * frame of the frame clock, however many points arrived in between.
 *
 * What a person sees: a title, y ticks and labels (linear, or log10 for
 * losses), x ticks (steps or epochs), one line per series, vertical dashed
 * markers with a short label where a knob changed mid-run, a legend, and on
 * hover a read-out of the nearest point ("batch loss  step 412  0.3127"). */
#ifndef THAW_UI_CHART_H
#define THAW_UI_CHART_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The palette the window uses (also what the end-to-end test looks for in
 * a screenshot: the batch-loss colour). */
#define THAW_CHART_BLUE   "#1c71d8" /* batch loss */
#define THAW_CHART_ORANGE "#e66100" /* epoch loss */
#define THAW_CHART_GREEN  "#26a269" /* inference mode (training=False) */
#define THAW_CHART_RED    "#c01c28" /* training mode (training=True) */
#define THAW_CHART_PURPLE "#9141ac" /* running estimates */

typedef enum {
    THAW_CHART_LINE,        /* a polyline */
    THAW_CHART_LINE_POINTS, /* a polyline with a dot on every point (epoch values) */
    THAW_CHART_DASHED,      /* a dashed polyline (estimates) */
} ThawChartStyle;

#define THAW_TYPE_CHART (thaw_chart_get_type())
G_DECLARE_FINAL_TYPE(ThawChart, thaw_chart, THAW, CHART, GtkWidget)

GtkWidget *thaw_chart_new(const char *title);

void thaw_chart_set_title(ThawChart *self, const char *title);
void thaw_chart_set_x_label(ThawChart *self, const char *label); /* "step" */
/* Property "log-y": a log10 y axis (values <= 0 are not drawn). */
void thaw_chart_set_log_y(ThawChart *self, gboolean log_y);
gboolean thaw_chart_get_log_y(ThawChart *self);
/* A fixed y range (e.g. 0..100 for accuracy in percent); NAN, NAN = fit the data. */
void thaw_chart_set_y_range(ThawChart *self, double min, double max);
/* How y values are printed in the hover read-out and ticks: "%" appends a
 * percent sign; NULL prints plain numbers. */
void thaw_chart_set_y_unit(ThawChart *self, const char *unit);

/* A hint drawn in the middle of the plot while no series has a point
 * ("Press Run (Space) or Step (S) to train"); NULL for none. */
void thaw_chart_set_placeholder(ThawChart *self, const char *text);

/* The y tick labels take at least the width of sample ("100%"), so that
 * charts stacked above one another share their x positions; NULL: as wide
 * as the labels are. */
void thaw_chart_set_y_label_sample(ThawChart *self, const char *sample);

/* Adds a series; returns its index (0, 1, ...). color: "#rrggbb". */
int thaw_chart_add_series(ThawChart *self, const char *name, const char *color,
                          ThawChartStyle style);
/* Appends a point (non-finite y values are kept as gaps). */
void thaw_chart_append(ThawChart *self, int series, double x, double y);
/* A vertical marker at x with a short label. */
void thaw_chart_add_marker(ThawChart *self, double x, const char *label);
/* Drops every point and marker (the series stay). */
void thaw_chart_clear(ThawChart *self);

guint thaw_chart_get_n_series(ThawChart *self);
guint thaw_chart_get_n_points(ThawChart *self, int series);
gboolean thaw_chart_get_point(ThawChart *self, int series, guint i, double *x, double *y);
guint thaw_chart_get_n_markers(ThawChart *self);
const char *thaw_chart_get_marker(ThawChart *self, guint i, double *x);

/* The hover read-out for the pointer at widget coordinates (px, py), as the
 * motion controller sets it; returns the text shown (NULL: nothing near).
 * Public so tests can check it without synthesising pointer events. */
const char *thaw_chart_hover_at(ThawChart *self, double px, double py);

/* The plot area (inside the axes) in widget coordinates for the widget's
 * current size, as drawing and hover place it; FALSE (and an empty rect)
 * when the widget is too small for one. For tests and overlays. */
gboolean thaw_chart_get_plot_area(ThawChart *self, graphene_rect_t *area);

/* Draws the chart into a cairo context of the given size (what snapshot()
 * does; also used for PNG export at any scale). */
void thaw_chart_draw(ThawChart *self, cairo_t *cr, int width, int height);

G_END_DECLS

#endif
