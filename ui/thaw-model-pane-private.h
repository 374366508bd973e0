/* Private to ThawModelPane's files: the columns of the freeze tree live in
 * thaw-model-pane-columns.c, the tree, actions and menu in
 * thaw-model-pane.c. */
#ifndef THAW_UI_MODEL_PANE_PRIVATE_H
#define THAW_UI_MODEL_PANE_PRIVATE_H

#include "thaw-layer-node.h"
#include "thaw-model-pane.h"

G_BEGIN_DECLS

/* Appends the columns Layer, Kind, Output shape, Params, Trainable and "BN
 * in a training step" to column_view. Its rows must be GtkTreeListRows of
 * ThawLayerNodes; a click on a row's check box runs the pane's freeze action
 * (thaw_model_pane_set_trainable / _set_range). */
void thaw_model_pane_add_columns(ThawModelPane *self, GtkColumnView *column_view);

/* The node of the row that w (a widget inside column_view, picked under the
 * pointer or focused) belongs to, or NULL. */
ThawLayerNode *thaw_model_pane_node_at(GtkWidget *column_view, GtkWidget *w);

G_END_DECLS

#endif
