/* ThawBnPlot: the per-channel statistics of one BatchNorm layer.
 *
 * Two stacked plots share the channel axis (x: channel 0 .. n-1): the mean
 * above, the variance below. Per channel and plot:
 *   - the running (moving) statistic: a filled dot (THAW_BN_MOVING_COLOR);
 *   - the current batch's statistic: a hollow ring (THAW_BN_BATCH_COLOR);
 *   - the pretrained value: a faint grey tick (the reference).
 * Each y axis is fitted (thaw_axis_fit) over all three series of its plot. A
 * legend sits beside the title; on hover a band marks the channel under the
 * pointer and a read-out gives its index and the three values.
 *
 * The plot holds a copy of what it shows; setting values never draws, it
 * queues one redraw. */
#ifndef THAW_UI_BN_PLOT_H
#define THAW_UI_BN_PLOT_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_BN_MOVING_COLOR "#9141ac" /* running statistics (THAW_CHART_PURPLE) */
#define THAW_BN_BATCH_COLOR  "#e66100" /* the batch's statistics (THAW_CHART_ORANGE) */

/* The six series, per channel. */
typedef enum {
    THAW_BN_MOVING_MEAN,
    THAW_BN_MOVING_VAR,
    THAW_BN_BATCH_MEAN,
    THAW_BN_BATCH_VAR,
    THAW_BN_REF_MEAN, /* pretrained */
    THAW_BN_REF_VAR,
    THAW_BN_N_SERIES
} ThawBnSeries;

#define THAW_TYPE_BN_PLOT (thaw_bn_plot_get_type())
G_DECLARE_FINAL_TYPE(ThawBnPlot, thaw_bn_plot, THAW, BN_PLOT, GtkWidget)

GtkWidget *thaw_bn_plot_new(void);

/* The title above the plots ("conv2_block1_1_bn · 64 channels"); also the
 * widget's accessible label. NULL: none. */
void thaw_bn_plot_set_title(ThawBnPlot *self, const char *title);

/* Shows n channels: values[s] points at n floats of series s, or is NULL
 * when the series is not known (no batch yet, no pretrained reference).
 * Copied. n = 0 (or values NULL) shows nothing. */
void thaw_bn_plot_set_values(ThawBnPlot *self, guint n, const float *const *values);

/* A hint drawn in the middle while no series is shown; NULL for none. */
void thaw_bn_plot_set_placeholder(ThawBnPlot *self, const char *text);

/* The number of channels shown (each series draws one mark per channel). */
guint thaw_bn_plot_get_n_channels(ThawBnPlot *self);
/* The value shown for series s at a channel; NAN when not shown. */
double thaw_bn_plot_get_value(ThawBnPlot *self, ThawBnSeries s, guint channel);

/* The hover read-out for the pointer at widget coordinates (x, y), as the
 * motion controller sets it ("channel 3 · mean: running 0.213 · batch 0.305
 * · pretrained 0.198"); NULL when the pointer is over no channel. */
const char *thaw_bn_plot_hover_at(ThawBnPlot *self, double x, double y);

/* The mean (part 0) or variance (part 1) plot area in widget coordinates for
 * the widget's current size; FALSE when too small. For tests. */
gboolean thaw_bn_plot_get_plot_area(ThawBnPlot *self, int part, graphene_rect_t *area);

/* Draws the plot into a cairo context of the given size (what snapshot()
 * does; also PNG export at any scale). */
void thaw_bn_plot_draw(ThawBnPlot *self, cairo_t *cr, int width, int height);

G_END_DECLS

#endif
