/* ThawModelPane: the freeze tree of a model -- stages -> blocks -> layers in
 * a GtkColumnView over a GtkTreeListModel -- with name, kind, output shape,
 * params, a trainable check box and the BatchNorm behaviour the current
 * preset resolves to for a training step ("batch stats, updating", "running
 * stats, frozen", ...); the trainable / non-trainable / total counts exactly
 * as Keras's model.summary() prints them; and the freeze actions: Freeze
 * all, Unfreeze all, Freeze up to here (a row's context menu), Unfreeze last
 * N (a spin button; Keras's `for l in base.layers[:-N]`).
 *
 * The pane shows a model it does not own and never runs: the window gives it
 * a structure-only copy of the worker's model whose knobs (layer.trainable,
 * preset, base_training) mirror the worker's. The freeze actions write
 * layer.trainable in that model and emit ::trainable-changed; the window
 * forwards the flags to the worker. When knobs change from outside (a
 * report, the preset chooser), the window calls thaw_model_pane_refresh().
 *
 * Selecting a layer's row emits ::layer-selected (int: its index in
 * model.layers), e.g. for the BatchNorm pane to follow.
 *
 * Frozen layers are visibly marked: rows of frozen layers carry the CSS class
 * "frozen" (the window's style sheet dims them) and a snowflake glyph.
 * The class sits on the child widget of every cell of the row (the pane's
 * CSS name is thaw-model-pane, so `thaw-model-pane .frozen { opacity: 0.55; }`
 * dims a whole row); the glyph has "frozen-mark"; stage and block rows have
 * "stage" / "block"; the counts line "counts", the button row "freeze-bar".
 * A row is "frozen" when a training step leaves its weights alone (its
 * resolved params_trained, as the counts use it; weightless layers: their
 * trainable flag is off); the check box shows the layer.trainable flag.
 *
 * Actions (installed on the class): pane.freeze-all, pane.unfreeze-all,
 * pane.unfreeze-last (N from the spin button), pane.freeze-up-to (int32:
 * the layer index), menu.popup (the focused row's context menu; Shift+F10
 * and the Menu key). */
#ifndef THAW_UI_MODEL_PANE_H
#define THAW_UI_MODEL_PANE_H

#include <gtk/gtk.h>

#include "thaw.h"

G_BEGIN_DECLS

#define THAW_TYPE_MODEL_PANE (thaw_model_pane_get_type())
G_DECLARE_FINAL_TYPE(ThawModelPane, thaw_model_pane, THAW, MODEL_PANE, GtkWidget)

GtkWidget *thaw_model_pane_new(void);

/* Shows model (borrowed: it must outlive the pane or be replaced first; NULL
 * clears the pane). Rebuilds the tree. */
void thaw_model_pane_set_model(ThawModelPane *self, thaw_model *model);
thaw_model *thaw_model_pane_get_model(ThawModelPane *self);

/* The model's knobs changed from outside: updates the check boxes, the BN
 * column, the frozen marks and the counts in place (expansion, selection
 * and scroll position stay). */
void thaw_model_pane_refresh(ThawModelPane *self);

/* The freeze actions, exactly as the pane's buttons, check boxes and menus
 * run them (each changes the model, refreshes and emits ::trainable-changed
 * once with a label such as "froze all", "unfroze last 12", "froze up to
 * conv3_block1_out", "unfroze conv4_block2" -- nothing when nothing changed).
 * set_trainable on a layer that is a stage or block row in the tree is not
 * possible: rows of stages and blocks set every layer inside them (Keras's
 * recursive setter) through thaw_model_pane_set_range(). */
void thaw_model_pane_set_trainable(ThawModelPane *self, int layer, gboolean trainable);
/* Layers first..last (inclusive, model.layers order) set to trainable; label
 * names the change ("unfroze conv2_block1"). */
void thaw_model_pane_set_range(ThawModelPane *self, int first, int last, gboolean trainable,
                               const char *label);
void thaw_model_pane_freeze_all(ThawModelPane *self);
void thaw_model_pane_unfreeze_all(ThawModelPane *self);
/* Keras's `for l in model.layers[:i+1]: l.trainable = False` and the rest
 * trainable (the fine-tuning recipe of the Keras documentation). */
void thaw_model_pane_freeze_up_to(ThawModelPane *self, int layer);
/* thaw_model_unfreeze_last(): what `--unfreeze-last N` does. */
void thaw_model_pane_unfreeze_last(ThawModelPane *self, int n);

/* The counts the pane shows (model.summary()'s, for the current knobs). */
thaw_param_counts thaw_model_pane_get_counts(ThawModelPane *self);
/* The text of the counts line, e.g. "Total params: 272,474 · Trainable:
 * 2,565 · Non-trainable: 269,909". */
const char *thaw_model_pane_get_counts_text(ThawModelPane *self);
/* The BN column's text for layer (NULL for layers that are not BN). */
const char *thaw_model_pane_get_bn_text(ThawModelPane *self, int layer);

G_END_DECLS

#endif
