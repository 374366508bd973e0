/* ThawPredictionCard: one validation image of the predictions pane with what
 * the model says about it in both modes.
 *
 *   +------------------------------------------------------------+
 *   | +--------+  train  Sandal     |##########    |  81%         |
 *   | | image  |         Sneaker   |##            |  12%         |
 *   | | 84 px  |         Bag       |              |   3%         |
 *   | +--------+  infer  Sneaker   |#######       |  55%         |
 *   | Sandal              Sandal    |#####         |  38%         |
 *   | #17                 Bag       |              |   4%         |
 *   +------------------------------------------------------------+
 *
 * Left: the image scaled up with nearest-neighbour sampling (scaled down
 * smoothly if larger than 84 px), its true class and its index. Right: two
 * groups of small horizontal probability bars, "train" (training=True, red
 * THAW_CHART_RED) above "infer" (training=False, green THAW_CHART_GREEN).
 * With k <= 5 classes every class is listed, in class order, so a class sits
 * on the same line in both groups; with more, each group lists its own top 3
 * by probability. A group's top-1 is bold; a wrong top-1 is struck through
 * in the error colour. When the top-1 differs between the modes the card
 * gets the CSS class "disagree" and an amber frame.
 *
 * The card is an image for assistive technology, labelled with a sentence
 * such as "image 17, true Sandal; training=True: Sandal 81%; training=False:
 * Sneaker 55% (disagree)" (also its tooltip). */
#ifndef THAW_UI_PREDICTION_CARD_H
#define THAW_UI_PREDICTION_CARD_H

#include <stdint.h>

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_PREDICTION_AMBER "#e5a50a" /* the frame of a card whose modes disagree */
#define THAW_PREDICTION_ERROR "#a51d2d" /* a wrong top-1's name */

#define THAW_TYPE_PREDICTION_CARD (thaw_prediction_card_get_type())
G_DECLARE_FINAL_TYPE(ThawPredictionCard, thaw_prediction_card, THAW, PREDICTION_CARD, GtkWidget)

GtkWidget *thaw_prediction_card_new(void);

/* Shows image `index` of the data: its pixels (h x w x c bytes, c = 1 or
 * 3, row-major HWC), its true label (0..k-1), the k class names and its
 * probabilities in training mode and in inference mode (k each). Copies
 * what it shows. top-1 is the first largest probability (NaN never wins);
 * the same rule as the pane's summary. */
void thaw_prediction_card_set(ThawPredictionCard *self, int index, int h, int w, int c,
                              const uint8_t *pixels, int label, int k,
                              const char *const *class_names, const float *p_train,
                              const float *p_infer);

int thaw_prediction_card_get_index(ThawPredictionCard *self);
/* Does the top-1 differ between the modes? */
gboolean thaw_prediction_card_get_disagree(ThawPredictionCard *self);
/* The accessible label (see above). */
const char *thaw_prediction_card_get_description(ThawPredictionCard *self);

/* Index of the first largest of the k values, ignoring NaN; -1 when none is
 * a number. */
int thaw_prediction_argmax(const float *p, int k);

/* Draws the card into a cairo context of the given size (what snapshot()
 * does; the pane's export draws its page through it). */
void thaw_prediction_card_draw(ThawPredictionCard *self, cairo_t *cr, int width, int height);

G_END_DECLS

#endif
