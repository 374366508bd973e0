/* ThawPredictionsPane: validation images with what the model predicts for
 * each in training mode (training=True: batch statistics, dropout on) and in
 * inference mode (training=False), side by side.
 *
 * What a person sees, top to bottom:
 *   - a row with the summary ("training=True 71.2% · training=False 48.2% ·
 *     disagree 31.0% · mean |Δp| 0.27", its tooltip defining each number),
 *     a "Disagreements first" check box, page controls (previous, "Page 2
 *     of 9", next, and 12 / 24 / 48 per page) and a "Predict again" button;
 *   - a grid of cards (ThawPredictionCard, thaw-prediction-card.h), one
 *     per image of the current page: the image, its true class, the
 *     probability bars of both modes; cards whose modes disagree are framed
 *     in amber and carry the CSS class "disagree";
 *   - a per-class table: class, images, accuracy with training=True, with
 *     training=False, disagreements.
 * With no images it shows a hint instead of the grid and the table.
 *
 * The pane does not run the model: the window runs the engine on the
 * validation images in both modes and hands the results to
 * thaw_predictions_pane_set_data(); "Predict again" only asks for that
 * (::refresh-requested).
 *
 * Definitions (the summary, the table, the sort order and the tests use
 * exactly these):
 *   top-1      the class of the first largest probability (lowest class
 *              index among equals; NaN never wins; all NaN: no class, which
 *              is wrong and equals only another "no class").
 *   accuracy   share of images whose top-1 is the true label, per mode.
 *   disagree   an image's top-1 differs between the modes; the rate is
 *              their share of all images.
 *   |Δp|       |p_train[y] - p_infer[y]| for an image of true label y: how
 *              much the probability of the right answer moves between
 *              the modes (NaN counts as 0). mean |Δp| is its mean over
 *              all images.
 *
 * Properties: "page-size" (int, default 24), "page" (int, from 0),
 * "disagreements-first" (boolean); all notify only on change. */
#ifndef THAW_UI_PREDICTIONS_PANE_H
#define THAW_UI_PREDICTIONS_PANE_H

#include <stdint.h>

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_TYPE_PREDICTIONS_PANE (thaw_predictions_pane_get_type())
G_DECLARE_FINAL_TYPE(ThawPredictionsPane, thaw_predictions_pane, THAW, PREDICTIONS_PANE, GtkWidget)

/* The summary line's numbers (all 0 without images). */
typedef struct {
    int n;                /* images */
    int n_disagree;       /* images whose top-1 differs between the modes */
    double acc_train;     /* 0..1, training=True */
    double acc_infer;     /* 0..1, training=False */
    double disagree_rate; /* n_disagree / n */
    double mean_abs_dp;   /* mean over images of |p_train[y] - p_infer[y]| */
} ThawPredictionSummary;

/* One row of the per-class table: counts over the images of true class c. */
typedef struct {
    int n;             /* images of the class */
    int correct_train; /* of which top-1 is right with training=True */
    int correct_infer; /* ... with training=False */
    int disagree;      /* of which the modes' top-1 differ */
} ThawPredictionClassStats;

GtkWidget *thaw_predictions_pane_new(void);

/* The data: n images of h x w x c (c = 1 or 3) raw pixel values 0..255 as
 * float, row-major NHWC as thaw_dataset holds them (stored as bytes:
 * rounded and clamped); their true labels (0..k-1); the k class names; the
 * softmax probabilities (n x k, row-major) in training mode and in inference
 * mode. Copies everything. Recomputes the summary and the table, keeps the
 * page (clamped) and the sort order. n = 0 is the empty state (the other
 * pointers may then be NULL). */
void thaw_predictions_pane_set_data(ThawPredictionsPane *self, int n, int h, int w, int c,
                                    const float *pixels, const int32_t *labels, int k,
                                    const char *const *class_names, const float *probs_train,
                                    const float *probs_infer);
/* Drops the data: the empty state. */
void thaw_predictions_pane_clear(ThawPredictionsPane *self);

/* Images per page (>= 1; the drop-down offers 12, 24, 48). The page changes
 * so that the first image shown stays on it. */
void thaw_predictions_pane_set_page_size(ThawPredictionsPane *self, int page_size);
int thaw_predictions_pane_get_page_size(ThawPredictionsPane *self);
/* The page shown, from 0; clamped to 0..n_pages-1. */
void thaw_predictions_pane_set_page(ThawPredictionsPane *self, int page);
int thaw_predictions_pane_get_page(ThawPredictionsPane *self);
/* ceil(n / page size); 0 without images. */
int thaw_predictions_pane_get_n_pages(ThawPredictionsPane *self);

/* The order: FALSE (default) the data's; TRUE the disagreeing images
 * first, each group by |Δp| largest first, equal |Δp| by index. Changing it
 * shows the first page. */
void thaw_predictions_pane_set_disagreements_first(ThawPredictionsPane *self, gboolean on);
gboolean thaw_predictions_pane_get_disagreements_first(ThawPredictionsPane *self);

/* The index (into the data) of the i-th image of the current page in the
 * current order; -1 for i outside the page. */
int thaw_predictions_pane_get_shown(ThawPredictionsPane *self, int i);

ThawPredictionSummary thaw_predictions_pane_get_summary(ThawPredictionsPane *self);
/* FALSE (and zeros) for a class outside 0..k-1. */
gboolean thaw_predictions_pane_get_class_stats(ThawPredictionsPane *self, int cls,
                                               ThawPredictionClassStats *out);
/* The summary line as shown ("training=True 71.2% · training=False 48.2% ·
 * disagree 31.0% · mean |Δp| 0.27"; "No predictions yet" when empty). */
const char *thaw_predictions_pane_get_summary_text(ThawPredictionsPane *self);

/* Draws the summary line, the current page's cards in a grid and, where
 * room is left, the per-class table into a cairo context of the given size
 * (for PNG export at any scale: scale the context). Paints no background. */
void thaw_predictions_pane_draw(ThawPredictionsPane *self, cairo_t *cr, int width, int height);

/* Signals:
 *   ::refresh-requested ()  "Predict again" was pressed: run the model on
 *                           the images in both modes and call set_data.
 *   ::image-activated (int index)  a card was double-clicked or activated
 *                           with the keyboard; index into the data. */

G_END_DECLS

#endif
