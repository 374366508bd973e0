/* ThawStripPlot: how one image's predicted probabilities spread over many
 * training-mode passes (the batch-mates experiment: different batches; the
 * dropout experiment: different dropout draws), next to its single
 * inference-mode answer. One row per class; x is the probability 0..1;
 * each pass is a translucent red dot (jittered vertically so that equal
 * values stay visible), the inference-mode answer a green diamond; the true
 * class's row is marked. */
#ifndef THAW_UI_STRIP_PLOT_H
#define THAW_UI_STRIP_PLOT_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_TYPE_STRIP_PLOT (thaw_strip_plot_get_type())
G_DECLARE_FINAL_TYPE(ThawStripPlot, thaw_strip_plot, THAW, STRIP_PLOT, GtkWidget)

GtkWidget *thaw_strip_plot_new(void);

/* k classes (names may be NULL: "class i"), n passes of probabilities
 * (n x k, training mode), the inference-mode probabilities (k), the true
 * label (-1: unknown) and a title. Copies everything; n = 0 clears. */
void thaw_strip_plot_set_data(ThawStripPlot *self, int k, const char *const *class_names, int n,
                              const float *probs_train, const float *probs_infer, int label,
                              const char *title);

/* For tests: passes shown, and the spread (max - min) of class c's
 * training-mode probability over them (0 with fewer than two passes). */
int thaw_strip_plot_get_n(ThawStripPlot *self);
double thaw_strip_plot_get_spread(ThawStripPlot *self, int c);

/* Pass i's training-mode probability of class c, and the inference-mode
 * one (NAN outside the data). */
double thaw_strip_plot_get_train(ThawStripPlot *self, int i, int c);
double thaw_strip_plot_get_infer(ThawStripPlot *self, int c);

/* Draws into any cairo context (PNG export). */
void thaw_strip_plot_draw(ThawStripPlot *self, cairo_t *cr, int width, int height);

G_END_DECLS

#endif
