/* ThawModelPane: the freeze tree. See thaw-model-pane.h.
 *
 * Widgets: the pane has one child, a vertical box holding a scrolled
 * GtkColumnView, the counts label and the toolbar; the context menu (a
 * GtkPopoverMenu) is parented to the pane and presented in size_allocate.
 * The column view shows a GtkSingleSelection over a GtkTreeListModel whose
 * root is a GListStore of ThawLayerNode stage rows; stages and blocks hand
 * their children list models to the tree (autoexpand off, stages expanded
 * when a model is set).
 *
 * Cells (thaw-model-pane-columns.c) follow their row's node: bind connects
 * one ::notify handler on the node and unbind disconnects it. Frozen rows
 * carry the CSS class "frozen" on every cell's child widget (see there);
 * the counts label has "counts", the button row "freeze-bar".
 *
 * "Frozen" is what a training step will do: a layer with weights is frozen
 * when its weights are not trained in a FIT pass under the current preset
 * (mode.params_trained after thaw_model_resolve -- the same rule as the
 * counts, so a fastai-train-bn BatchNorm in a frozen group is not marked), a
 * weightless layer when its trainable flag is off; the InputLayer never. The
 * check box always shows the layer's own trainable flag. */
#include "thaw-model-pane.h"

#include <stdio.h>

#include "thaw-model-pane-private.h"

struct _ThawModelPane {
    GtkWidget parent_instance;

    thaw_model *model; /* borrowed */

    GtkWidget *box; /* the only child (but the popover) */
    GtkWidget *column_view;
    GtkSingleSelection *selection; /* owned; its model is the tree */
    GtkTreeListModel *tree;        /* NULL without a model */
    GPtrArray *nodes;              /* every node, stages first (owned) */
    ThawLayerNode **layer_nodes;   /* per layer (borrowed from nodes) */
    int n_base;                    /* layers in the base model */

    GtkWidget *counts_label;
    GtkWidget *spin;
    GtkWidget *unfreeze_last_button;
    GtkWidget *popover;

    thaw_param_counts counts;
    char *counts_text;
};

G_DEFINE_FINAL_TYPE(ThawModelPane, thaw_model_pane, GTK_TYPE_WIDGET)

enum { SIGNAL_TRAINABLE_CHANGED, SIGNAL_LAYER_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------ texts */

/* Output shapes as the summary prints them. */
static void format_shape(char *buf, size_t size, const thaw_layer *l)
{
    if (l->kind == THAW_LAYER_GAP || l->kind == THAW_LAYER_DENSE ||
        (l->kind == THAW_LAYER_DROPOUT && !l->in_base))
        snprintf(buf, size, "(None, %d)", l->oc);
    else
        snprintf(buf, size, "(None, %d, %d, %d)", l->oh, l->ow, l->oc);
}

static void format_stage(char *buf, size_t size, int stage)
{
    if (stage == 0)
        snprintf(buf, size, "stem");
    else if (stage < 0)
        snprintf(buf, size, "head");
    else
        snprintf(buf, size, "conv%d", stage + 1);
}

static const char *plural(int n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* ------------------------------------------------------------- the tree */

static gboolean layer_is_frozen(const thaw_layer *l)
{
    if (l->kind == THAW_LAYER_INPUT) return FALSE;
    return l->n_params > 0 ? !l->mode.params_trained : !l->trainable;
}

/* Sets a node's state from the model (resolved for FIT). */
static void node_update(ThawModelPane *self, ThawLayerNode *node)
{
    const thaw_model *m = self->model;
    int first = thaw_layer_node_get_first(node), last = thaw_layer_node_get_last(node);
    if (thaw_layer_node_get_kind(node) == THAW_LAYER_NODE_LAYER) {
        const thaw_layer *l = &m->layers[first];
        const char *bn = l->kind == THAW_LAYER_BATCHNORM ? thaw_bn_mode_phrase(&l->mode) : NULL;
        thaw_layer_node_set_state(node, l->trainable, FALSE, layer_is_frozen(l), bn);
        return;
    }
    /* A stage or block: the layers inside but the InputLayer, which has no
     * weights and never changes. */
    int n = 0, n_trainable = 0, n_frozen = 0;
    for (int i = first; i <= last; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind == THAW_LAYER_INPUT) continue;
        n++;
        n_trainable += l->trainable;
        n_frozen += layer_is_frozen(l);
    }
    gboolean all = n > 0 && n_trainable == n;
    gboolean mixed = n_trainable > 0 && n_trainable < n;
    gboolean frozen = n > 0 && n_frozen == n;
    thaw_layer_node_set_state(node, all, mixed, frozen, NULL);
}

static ThawLayerNode *layer_node_new(ThawModelPane *self, int i)
{
    const thaw_layer *l = &self->model->layers[i];
    char shape[48], params[32];
    format_shape(shape, sizeof shape, l);
    thaw_format_count(params, sizeof params, thaw_layer_param_count(self->model, i));
    ThawLayerNode *node = thaw_layer_node_new(THAW_LAYER_NODE_LAYER, l->name, i, i);
    thaw_layer_node_set_texts(node, thaw_layer_kind_name(l->kind), shape, params,
                              l->kind != THAW_LAYER_INPUT);
    g_ptr_array_add(self->nodes, node);
    self->layer_nodes[i] = node;
    return node;
}

/* A stage or block row over layers first..last with the given children. */
static ThawLayerNode *group_node_new(ThawModelPane *self, ThawLayerNodeKind kind, const char *name,
                                     int first, int last, GListStore *children, int n_blocks)
{
    const thaw_model *m = self->model;
    size_t params = 0;
    gboolean has_check = FALSE;
    for (int i = first; i <= last; i++) {
        params += thaw_layer_param_count(m, i);
        has_check = has_check || m->layers[i].kind != THAW_LAYER_INPUT;
    }
    int n_layers = last - first + 1; /* as Keras counts them: the InputLayer too */
    char kind_text[64], shape[48], num[32];
    if (kind == THAW_LAYER_NODE_BLOCK)
        snprintf(kind_text, sizeof kind_text, "Block · %d %s", n_layers,
                 plural(n_layers, "layer", "layers"));
    else if (n_blocks > 0)
        snprintf(kind_text, sizeof kind_text, "Stage · %d %s", n_blocks,
                 plural(n_blocks, "block", "blocks"));
    else
        snprintf(kind_text, sizeof kind_text, "Stage · %d %s", n_layers,
                 plural(n_layers, "layer", "layers"));
    format_shape(shape, sizeof shape, &m->layers[last]); /* what the group outputs */
    thaw_format_count(num, sizeof num, params);
    ThawLayerNode *node = thaw_layer_node_new(kind, name, first, last);
    thaw_layer_node_set_texts(node, kind_text, shape, num, has_check);
    thaw_layer_node_set_children(node, G_LIST_MODEL(children));
    g_ptr_array_add(self->nodes, node);
    return node;
}

/* Stage rows over runs of equal stage; inside, block rows over runs of
 * equal block (layers outside blocks are direct children of the stage). */
static GListStore *build_root(ThawModelPane *self)
{
    const thaw_model *m = self->model;
    GListStore *root = g_list_store_new(THAW_TYPE_LAYER_NODE);
    int i = 0;
    while (i < m->n_layers) {
        int stage = m->layers[i].stage, end = i;
        while (end < m->n_layers && m->layers[end].stage == stage) end++;
        char stage_name[THAW_NAME_MAX];
        format_stage(stage_name, sizeof stage_name, stage);

        g_autoptr(GListStore) children = g_list_store_new(THAW_TYPE_LAYER_NODE);
        int n_blocks = 0;
        for (int k = i; k < end;) {
            int block = m->layers[k].block;
            if (block == 0) {
                g_list_store_append(children, layer_node_new(self, k));
                k++;
                continue;
            }
            int e = k;
            while (e < end && m->layers[e].block == block) e++;
            g_autoptr(GListStore) layers = g_list_store_new(THAW_TYPE_LAYER_NODE);
            for (int j = k; j < e; j++) g_list_store_append(layers, layer_node_new(self, j));
            char block_name[2 * THAW_NAME_MAX];
            snprintf(block_name, sizeof block_name, "%s_block%d", stage_name, block);
            g_list_store_append(children, group_node_new(self, THAW_LAYER_NODE_BLOCK, block_name, k,
                                                         e - 1, layers, 0));
            n_blocks++;
            k = e;
        }
        g_list_store_append(root, group_node_new(self, THAW_LAYER_NODE_STAGE, stage_name, i,
                                                 end - 1, children, n_blocks));
        i = end;
    }
    return root;
}

static GListModel *create_children(gpointer item, gpointer user_data)
{
    (void)user_data;
    GListModel *children = thaw_layer_node_get_children(THAW_LAYER_NODE(item));
    return children ? g_object_ref(children) : NULL;
}

static void clear_tree(ThawModelPane *self)
{
    if (self->selection) gtk_single_selection_set_model(self->selection, NULL);
    g_clear_object(&self->tree);
    if (self->nodes) g_ptr_array_set_size(self->nodes, 0);
    g_clear_pointer(&self->layer_nodes, g_free);
    self->n_base = 0;
}

static void build_tree(ThawModelPane *self)
{
    const thaw_model *m = self->model;
    self->layer_nodes = g_new0(ThawLayerNode *, m->n_layers > 0 ? m->n_layers : 1);
    for (int i = 0; i < m->n_layers; i++) self->n_base += m->layers[i].in_base;
    GListStore *root = build_root(self);
    /* The tree takes root. */
    self->tree =
        gtk_tree_list_model_new(G_LIST_MODEL(root), FALSE, FALSE, create_children, NULL, NULL);
    guint n_stages = g_list_model_get_n_items(G_LIST_MODEL(root));
    for (guint i = 0; i < n_stages; i++) {
        GtkTreeListRow *row = gtk_tree_list_model_get_child_row(self->tree, i);
        if (row) {
            gtk_tree_list_row_set_expanded(row, TRUE);
            g_object_unref(row);
        }
    }
    gtk_single_selection_set_model(self->selection, G_LIST_MODEL(self->tree));
}

/* ------------------------------------------------------------ context menu */

static void popup_menu(ThawModelPane *self, ThawLayerNode *node, double x, double y)
{
    /* On a stage or block row, "here" is its last layer. */
    int target = thaw_layer_node_get_last(node);
    g_autoptr(GMenu) menu = g_menu_new();
    g_autoptr(GMenu) here = g_menu_new();
    g_autoptr(GMenuItem) item = g_menu_item_new("Freeze up to here", NULL);
    g_menu_item_set_action_and_target_value(item, "pane.freeze-up-to", g_variant_new_int32(target));
    g_menu_append_item(here, item);
    g_menu_append_section(menu, NULL, G_MENU_MODEL(here));
    g_autoptr(GMenu) all = g_menu_new();
    g_menu_append(all, "Freeze all", "pane.freeze-all");
    g_menu_append(all, "Unfreeze all", "pane.unfreeze-all");
    g_menu_append_section(menu, NULL, G_MENU_MODEL(all));

    if (!self->popover) {
        self->popover = gtk_popover_menu_new_from_model(G_MENU_MODEL(menu));
        gtk_widget_set_parent(self->popover, GTK_WIDGET(self));
        gtk_popover_set_has_arrow(GTK_POPOVER(self->popover), FALSE);
        gtk_widget_set_halign(self->popover, GTK_ALIGN_START);
    } else {
        gtk_popover_menu_set_menu_model(GTK_POPOVER_MENU(self->popover), G_MENU_MODEL(menu));
    }
    GdkRectangle at = {(int)x, (int)y, 1, 1};
    gtk_popover_set_pointing_to(GTK_POPOVER(self->popover), &at);
    gtk_popover_popup(GTK_POPOVER(self->popover));
}

static void on_secondary_pressed(GtkGestureClick *gesture, int n_press, double x, double y,
                                 ThawModelPane *self)
{
    (void)n_press;
    if (!self->model) return;
    GtkWidget *picked = gtk_widget_pick(self->column_view, x, y, GTK_PICK_DEFAULT);
    ThawLayerNode *node = thaw_model_pane_node_at(self->column_view, picked);
    if (!node) return;
    gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    graphene_point_t p;
    if (!gtk_widget_compute_point(self->column_view, GTK_WIDGET(self),
                                  &GRAPHENE_POINT_INIT((float)x, (float)y), &p))
        return;
    popup_menu(self, node, p.x, p.y);
}

/* menu.popup (Shift+F10, the Menu key): the context menu of the focused row. */
static void action_popup(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    (void)param;
    ThawModelPane *self = THAW_MODEL_PANE(widget);
    GtkRoot *root = gtk_widget_get_root(widget);
    GtkWidget *focus = root ? gtk_root_get_focus(root) : NULL;
    ThawLayerNode *node =
        self->model && focus ? thaw_model_pane_node_at(self->column_view, focus) : NULL;
    graphene_rect_t b;
    if (!node || !gtk_widget_compute_bounds(focus, widget, &b)) return;
    popup_menu(self, node, b.origin.x + b.size.width / 2, b.origin.y + b.size.height);
}

/* ---------------------------------------------------------------- actions */

static void emit_if(ThawModelPane *self, gboolean changed, const char *label)
{
    thaw_model_pane_refresh(self);
    if (changed) g_signal_emit(self, signals[SIGNAL_TRAINABLE_CHANGED], 0, label);
}

void thaw_model_pane_set_range(ThawModelPane *self, int first, int last, gboolean trainable,
                               const char *label)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    thaw_model *m = self->model;
    if (!m) return;
    g_return_if_fail(first >= 0 && first <= last && last < m->n_layers);
    gboolean changed = FALSE;
    for (int i = first; i <= last; i++) {
        thaw_layer *l = &m->layers[i];
        if (l->kind == THAW_LAYER_INPUT || l->trainable == !!trainable) continue;
        thaw_model_set_trainable(m, i, trainable);
        changed = TRUE;
    }
    g_autofree char *own = NULL;
    if (!label)
        label = own = first == last ? g_strdup_printf("%s %s", trainable ? "unfroze" : "froze",
                                                      m->layers[first].name)
                                    : g_strdup_printf("%s %s..%s", trainable ? "unfroze" : "froze",
                                                      m->layers[first].name, m->layers[last].name);
    emit_if(self, changed, label);
}

void thaw_model_pane_set_trainable(ThawModelPane *self, int layer, gboolean trainable)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    if (!self->model) return;
    g_return_if_fail(layer >= 0 && layer < self->model->n_layers);
    thaw_model_pane_set_range(self, layer, layer, trainable, NULL);
}

void thaw_model_pane_freeze_all(ThawModelPane *self)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    if (!self->model) return;
    thaw_model_pane_set_range(self, 0, self->model->n_layers - 1, FALSE, "froze all");
}

void thaw_model_pane_unfreeze_all(ThawModelPane *self)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    if (!self->model) return;
    thaw_model_pane_set_range(self, 0, self->model->n_layers - 1, TRUE, "unfroze all");
}

void thaw_model_pane_freeze_up_to(ThawModelPane *self, int layer)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    thaw_model *m = self->model;
    if (!m) return;
    g_return_if_fail(layer >= 0 && layer < m->n_layers);
    gboolean changed = FALSE;
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        bool want = i > layer;
        if (l->kind == THAW_LAYER_INPUT || l->trainable == want) continue;
        thaw_model_set_trainable(m, i, want);
        changed = TRUE;
    }
    g_autofree char *label = g_strdup_printf("froze up to %s", m->layers[layer].name);
    emit_if(self, changed, label);
}

void thaw_model_pane_unfreeze_last(ThawModelPane *self, int n)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    g_return_if_fail(n >= 0);
    thaw_model *m = self->model;
    if (!m) return;
    g_autofree bool *before = g_new(bool, m->n_layers > 0 ? m->n_layers : 1);
    for (int i = 0; i < m->n_layers; i++) before[i] = m->layers[i].trainable;
    thaw_model_unfreeze_last(m, n);
    /* The spin button shows the N in force, however it was asked for. */
    if (self->spin && n >= 1 && n <= self->n_base)
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->spin), n);
    gboolean changed = FALSE;
    for (int i = 0; i < m->n_layers; i++) changed = changed || before[i] != m->layers[i].trainable;
    g_autofree char *label = g_strdup_printf("unfroze last %d", n);
    emit_if(self, changed, label);
}

static void action_freeze_all(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    (void)param;
    thaw_model_pane_freeze_all(THAW_MODEL_PANE(widget));
}

static void action_unfreeze_all(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    (void)param;
    thaw_model_pane_unfreeze_all(THAW_MODEL_PANE(widget));
}

static void action_unfreeze_last(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    (void)param;
    ThawModelPane *self = THAW_MODEL_PANE(widget);
    int n = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->spin));
    thaw_model_pane_unfreeze_last(self, n);
}

static void action_freeze_up_to(GtkWidget *widget, const char *name, GVariant *param)
{
    (void)name;
    ThawModelPane *self = THAW_MODEL_PANE(widget);
    int layer = g_variant_get_int32(param);
    if (!self->model || layer < 0 || layer >= self->model->n_layers) return;
    thaw_model_pane_freeze_up_to(self, layer);
}

static void update_actions(ThawModelPane *self)
{
    gboolean on = self->model != NULL;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "pane.freeze-all", on);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "pane.unfreeze-all", on);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "pane.unfreeze-last", on);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "pane.freeze-up-to", on);
    if (self->spin) gtk_widget_set_sensitive(self->spin, on);
}

static void on_spin_changed(GtkSpinButton *spin, ThawModelPane *self)
{
    g_autofree char *label =
        g_strdup_printf("Unfreeze last %d", gtk_spin_button_get_value_as_int(spin));
    gtk_button_set_label(GTK_BUTTON(self->unfreeze_last_button), label);
}

/* A layer row selected: ::layer-selected with its model index. */
static void on_selection(GtkSingleSelection *sel, GParamSpec *pspec, ThawModelPane *self)
{
    GtkTreeListRow *row = gtk_single_selection_get_selected_item(sel);
    ThawLayerNode *node = row ? THAW_LAYER_NODE(gtk_tree_list_row_get_item(row)) : NULL;
    if (node && thaw_layer_node_get_kind(node) == THAW_LAYER_NODE_LAYER)
        g_signal_emit(self, signals[SIGNAL_LAYER_SELECTED], 0, thaw_layer_node_get_first(node));
    if (node) g_object_unref(node);
}

/* ------------------------------------------------------------- public API */

GtkWidget *thaw_model_pane_new(void)
{
    return g_object_new(THAW_TYPE_MODEL_PANE, NULL);
}

void thaw_model_pane_set_model(ThawModelPane *self, thaw_model *model)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    if (self->popover) gtk_popover_popdown(GTK_POPOVER(self->popover));
    clear_tree(self);
    if (!self->box) return; /* disposed */
    self->model = model;
    if (model) build_tree(self);
    /* N from 1 (N = 0 would freeze the whole base, unlike Python's
     * layers[:-0], which is empty: "Freeze all" says that better). */
    gtk_spin_button_set_range(GTK_SPIN_BUTTON(self->spin), 1, MAX(1, self->n_base));
    if (gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->spin)) <= 1)
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->spin), MIN(10, MAX(1, self->n_base)));
    update_actions(self);
    thaw_model_pane_refresh(self);
}

thaw_model *thaw_model_pane_get_model(ThawModelPane *self)
{
    g_return_val_if_fail(THAW_IS_MODEL_PANE(self), NULL);
    return self->model;
}

void thaw_model_pane_refresh(ThawModelPane *self)
{
    g_return_if_fail(THAW_IS_MODEL_PANE(self));
    g_clear_pointer(&self->counts_text, g_free);
    if (!self->model) {
        self->counts = (thaw_param_counts){0};
        self->counts_text = g_strdup("");
        if (self->counts_label) gtk_label_set_label(GTK_LABEL(self->counts_label), "");
        return;
    }
    self->counts = thaw_model_count_params(self->model); /* resolves the FIT modes */
    for (guint i = 0; i < self->nodes->len; i++) node_update(self, self->nodes->pdata[i]);
    char total[32], trainable[32], frozen[32];
    thaw_format_count(total, sizeof total, self->counts.total);
    thaw_format_count(trainable, sizeof trainable, self->counts.trainable);
    thaw_format_count(frozen, sizeof frozen, self->counts.non_trainable);
    self->counts_text = g_strdup_printf("Total params: %s · Trainable: %s · Non-trainable: %s",
                                        total, trainable, frozen);
    if (self->counts_label) gtk_label_set_label(GTK_LABEL(self->counts_label), self->counts_text);
}

thaw_param_counts thaw_model_pane_get_counts(ThawModelPane *self)
{
    g_return_val_if_fail(THAW_IS_MODEL_PANE(self), (thaw_param_counts){0});
    return self->counts;
}

const char *thaw_model_pane_get_counts_text(ThawModelPane *self)
{
    g_return_val_if_fail(THAW_IS_MODEL_PANE(self), NULL);
    return self->counts_text;
}

const char *thaw_model_pane_get_bn_text(ThawModelPane *self, int layer)
{
    g_return_val_if_fail(THAW_IS_MODEL_PANE(self), NULL);
    if (!self->model || layer < 0 || layer >= self->model->n_layers) return NULL;
    return thaw_layer_node_get_bn_text(self->layer_nodes[layer]);
}

/* --------------------------------------------------------------- GObject */

static void thaw_model_pane_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                    int *min, int *nat, int *min_baseline, int *nat_baseline)
{
    ThawModelPane *self = THAW_MODEL_PANE(widget);
    *min = *nat = 0;
    if (self->box)
        gtk_widget_measure(self->box, orientation, for_size, min, nat, min_baseline, nat_baseline);
}

static void thaw_model_pane_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    ThawModelPane *self = THAW_MODEL_PANE(widget);
    if (self->box) gtk_widget_allocate(self->box, width, height, baseline, NULL);
    if (self->popover) gtk_popover_present(GTK_POPOVER(self->popover));
}

static GtkSizeRequestMode thaw_model_pane_get_request_mode(GtkWidget *widget)
{
    ThawModelPane *self = THAW_MODEL_PANE(widget);
    return self->box ? gtk_widget_get_request_mode(self->box) : GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void thaw_model_pane_dispose(GObject *object)
{
    ThawModelPane *self = THAW_MODEL_PANE(object);
    clear_tree(self);
    self->model = NULL;
    g_clear_pointer(&self->popover, gtk_widget_unparent);
    g_clear_pointer(&self->box, gtk_widget_unparent);
    self->column_view = self->counts_label = self->spin = self->unfreeze_last_button = NULL;
    g_clear_object(&self->selection);
    G_OBJECT_CLASS(thaw_model_pane_parent_class)->dispose(object);
}

static void thaw_model_pane_finalize(GObject *object)
{
    ThawModelPane *self = THAW_MODEL_PANE(object);
    g_clear_pointer(&self->nodes, g_ptr_array_unref);
    g_free(self->counts_text);
    G_OBJECT_CLASS(thaw_model_pane_parent_class)->finalize(object);
}

static void thaw_model_pane_class_init(ThawModelPaneClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = thaw_model_pane_dispose;
    object_class->finalize = thaw_model_pane_finalize;
    widget_class->measure = thaw_model_pane_measure;
    widget_class->size_allocate = thaw_model_pane_size_allocate;
    widget_class->get_request_mode = thaw_model_pane_get_request_mode;

    /* ::trainable-changed(label): the user changed layer.trainable flags of
     * the model; label names the change ("froze all", "unfroze conv4"). */
    signals[SIGNAL_TRAINABLE_CHANGED] =
        g_signal_new("trainable-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_LAYER_SELECTED] =
        g_signal_new("layer-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT);

    gtk_widget_class_install_action(widget_class, "pane.freeze-all", NULL, action_freeze_all);
    gtk_widget_class_install_action(widget_class, "pane.unfreeze-all", NULL, action_unfreeze_all);
    /* N is the spin button's value. */
    gtk_widget_class_install_action(widget_class, "pane.unfreeze-last", NULL, action_unfreeze_last);
    /* The target is the index of the layer in model.layers. */
    gtk_widget_class_install_action(widget_class, "pane.freeze-up-to", "i", action_freeze_up_to);
    gtk_widget_class_install_action(widget_class, "menu.popup", NULL, action_popup);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "menu.popup",
                                        NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Menu, 0, "menu.popup", NULL);

    gtk_widget_class_set_css_name(widget_class, "thaw-model-pane");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static GtkWidget *toolbar_button(const char *label, const char *action)
{
    GtkWidget *button = gtk_button_new_with_label(label);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(button), action);
    return button;
}

static void thaw_model_pane_init(ThawModelPane *self)
{
    self->nodes = g_ptr_array_new_with_free_func(g_object_unref);
    self->counts_text = g_strdup("");
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Model layers", -1);

    self->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_parent(self->box, GTK_WIDGET(self));

    /* The tree. */
    self->selection = gtk_single_selection_new(NULL);
    g_signal_connect(self->selection, "notify::selected-item", G_CALLBACK(on_selection), self);
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    self->column_view = gtk_column_view_new(GTK_SELECTION_MODEL(g_object_ref(self->selection)));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->column_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Layers and trainable flags", -1);
    thaw_model_pane_add_columns(self, GTK_COLUMN_VIEW(self->column_view));
    GtkGesture *click = gtk_gesture_click_new();
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
    g_signal_connect_object(click, "pressed", G_CALLBACK(on_secondary_pressed), self, 0);
    gtk_widget_add_controller(self->column_view, GTK_EVENT_CONTROLLER(click));

    GtkWidget *scrolled = gtk_scrolled_window_new();
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), self->column_view);
    gtk_widget_set_vexpand(scrolled, TRUE);
    gtk_widget_set_hexpand(scrolled, TRUE);
    gtk_box_append(GTK_BOX(self->box), scrolled);

    /* The counts. */
    self->counts_label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(self->counts_label), 0.0f);
    gtk_label_set_selectable(GTK_LABEL(self->counts_label), FALSE);
    gtk_widget_add_css_class(self->counts_label, "counts");
    gtk_widget_set_margin_start(self->counts_label, 6);
    gtk_widget_set_margin_end(self->counts_label, 6);
    gtk_box_append(GTK_BOX(self->box), self->counts_label);

    /* The toolbar. */
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_widget_add_css_class(bar, "freeze-bar");
    gtk_widget_set_margin_start(bar, 6);
    gtk_widget_set_margin_end(bar, 6);
    gtk_widget_set_margin_bottom(bar, 6);
    gtk_box_append(GTK_BOX(bar), toolbar_button("Freeze all", "pane.freeze-all"));
    gtk_box_append(GTK_BOX(bar), toolbar_button("Unfreeze all", "pane.unfreeze-all"));
    GtkWidget *spacer = gtk_separator_new(GTK_ORIENTATION_VERTICAL);
    gtk_box_append(GTK_BOX(bar), spacer);
    self->spin = gtk_spin_button_new_with_range(0, 1, 1);
    gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(self->spin), TRUE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Layers to unfreeze from the end", -1);
    gtk_widget_set_tooltip_text(self->spin, "N: the last N layers of the base model become "
                                            "trainable, all others frozen "
                                            "(Keras: for l in base.layers[:-N]: l.trainable = "
                                            "False)");
    gtk_box_append(GTK_BOX(bar), self->spin);
    self->unfreeze_last_button = toolbar_button("Unfreeze last 1", "pane.unfreeze-last");
    gtk_box_append(GTK_BOX(bar), self->unfreeze_last_button);
    g_signal_connect_object(self->spin, "value-changed", G_CALLBACK(on_spin_changed), self, 0);
    gtk_box_append(GTK_BOX(self->box), bar);

    update_actions(self);
}
