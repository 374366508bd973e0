/* ThawLayerNode: one row of the freeze tree (ThawModelPane) -- a stage
 * ("stem", "conv2".., "head"), a block ("conv2_block1") or a layer. A node
 * covers the layers first..last of model.layers (a layer row: first == last)
 * and, for stages and blocks, holds the list model of its children.
 *
 * The texts that never change for a model (name, kind, output shape,
 * params) are set once while the tree is built. The state that follows the
 * model's knobs (trainable, inconsistent, frozen, BN text) is a set of
 * properties: thaw_layer_node_set_state() notifies only what changed, and
 * the bound cells of the column view follow those notifications. */
#ifndef THAW_UI_LAYER_NODE_H
#define THAW_UI_LAYER_NODE_H

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
    THAW_LAYER_NODE_STAGE,
    THAW_LAYER_NODE_BLOCK,
    THAW_LAYER_NODE_LAYER,
} ThawLayerNodeKind;

#define THAW_TYPE_LAYER_NODE (thaw_layer_node_get_type())
G_DECLARE_FINAL_TYPE(ThawLayerNode, thaw_layer_node, THAW, LAYER_NODE, GObject)

/* A node for model.layers[first..last] (inclusive). */
ThawLayerNode *thaw_layer_node_new(ThawLayerNodeKind kind, const char *name, int first, int last);

/* Texts shown in the Kind, Output shape and Params columns; has_check is
 * FALSE for rows without a trainable check box (the InputLayer). Set while
 * the tree is built, before the node is shown. */
void thaw_layer_node_set_texts(ThawLayerNode *self, const char *kind_text, const char *shape_text,
                               const char *params_text, gboolean has_check);
/* Takes a reference on children (NULL: a leaf). */
void thaw_layer_node_set_children(ThawLayerNode *self, GListModel *children);

ThawLayerNodeKind thaw_layer_node_get_kind(ThawLayerNode *self);
const char *thaw_layer_node_get_name(ThawLayerNode *self);
int thaw_layer_node_get_first(ThawLayerNode *self);
int thaw_layer_node_get_last(ThawLayerNode *self);
const char *thaw_layer_node_get_kind_text(ThawLayerNode *self);
const char *thaw_layer_node_get_shape_text(ThawLayerNode *self);
const char *thaw_layer_node_get_params_text(ThawLayerNode *self);
gboolean thaw_layer_node_get_has_check(ThawLayerNode *self);
GListModel *thaw_layer_node_get_children(ThawLayerNode *self); /* borrowed, nullable */

/* The state (properties "trainable", "inconsistent", "frozen", "bn-text"):
 * trainable is the check box (for stage and block rows: every layer inside
 * is trainable), inconsistent says a stage or block is mixed, frozen marks
 * the row, bn_text is the BN column (NULL for rows that are not BN layers). */
gboolean thaw_layer_node_get_trainable(ThawLayerNode *self);
gboolean thaw_layer_node_get_inconsistent(ThawLayerNode *self);
gboolean thaw_layer_node_get_frozen(ThawLayerNode *self);
const char *thaw_layer_node_get_bn_text(ThawLayerNode *self);

/* Sets the state; notifies each property whose value changed, and nothing
 * else. */
void thaw_layer_node_set_state(ThawLayerNode *self, gboolean trainable, gboolean inconsistent,
                               gboolean frozen, const char *bn_text);

G_END_DECLS

#endif
