/* ThawModelPane's columns: the cells of the freeze tree. See
 * thaw-model-pane.c for the whole picture.
 *
 * Each column has a GtkSignalListItemFactory. setup builds the cell's widgets
 * once (the check box's ::toggled is connected there, once per widget); bind
 * stores the row's node on the cell widget (a reference, qdata) and connects
 * one ::notify handler on the node; unbind (and teardown) disconnect it and
 * drop the node, so a recycled cell never follows its previous row.
 *
 * CSS classes, on the child widget of every cell (the widget given to
 * gtk_list_item_set_child: the GtkTreeExpander of the Layer column, the
 * labels and the check box of the others): "frozen" on rows of frozen layers
 * (and of stages and blocks whose layers are all frozen), "stage" and
 * "block" on group rows. The snowflake of the Layer column has
 * "frozen-mark"; the name label of a stage row "heading". */
#include "thaw-model-pane-private.h"

typedef enum { COL_NAME, COL_KIND, COL_SHAPE, COL_PARAMS, COL_TRAINABLE, COL_BN, N_COLS } Column;

/* qdata on cell widgets (and q_column on factories) */
static GQuark q_column;  /* Column + 1 */
static GQuark q_node;    /* the bound ThawLayerNode (a reference) */
static GQuark q_handler; /* its ::notify handler id */
static GQuark q_syncing; /* set while the pane itself sets a check box */
static GQuark q_label;   /* the name label of the Layer column */
static GQuark q_mark;    /* the snowflake of the Layer column */

static void set_class(GtkWidget *w, const char *css_class, gboolean on)
{
    if (on)
        gtk_widget_add_css_class(w, css_class);
    else
        gtk_widget_remove_css_class(w, css_class);
}

static void set_label_text(GtkWidget *label, const char *text)
{
    if (g_strcmp0(gtk_label_get_label(GTK_LABEL(label)), text ? text : "") != 0)
        gtk_label_set_label(GTK_LABEL(label), text ? text : "");
}

/* Shows node's state in cell, a child widget of the column view. */
static void cell_update(GtkWidget *cell, ThawLayerNode *node)
{
    Column col = GPOINTER_TO_INT(g_object_get_qdata(G_OBJECT(cell), q_column)) - 1;
    ThawLayerNodeKind kind = thaw_layer_node_get_kind(node);
    gboolean frozen = thaw_layer_node_get_frozen(node);
    set_class(cell, "frozen", frozen);
    set_class(cell, "stage", kind == THAW_LAYER_NODE_STAGE);
    set_class(cell, "block", kind == THAW_LAYER_NODE_BLOCK);

    switch (col) {
    case COL_NAME: {
        GtkWidget *label = g_object_get_qdata(G_OBJECT(cell), q_label);
        set_label_text(label, thaw_layer_node_get_name(node));
        set_class(label, "heading", kind == THAW_LAYER_NODE_STAGE);
        gtk_widget_set_visible(g_object_get_qdata(G_OBJECT(cell), q_mark), frozen);
        break;
    }
    case COL_KIND:
        set_label_text(cell, thaw_layer_node_get_kind_text(node));
        break;
    case COL_SHAPE:
        set_label_text(cell, thaw_layer_node_get_shape_text(node));
        break;
    case COL_PARAMS:
        set_label_text(cell, thaw_layer_node_get_params_text(node));
        break;
    case COL_TRAINABLE: {
        /* The pane's own writes must not read as a click (::toggled). */
        GtkCheckButton *check = GTK_CHECK_BUTTON(cell);
        g_object_set_qdata(G_OBJECT(cell), q_syncing, GINT_TO_POINTER(1));
        gtk_widget_set_visible(cell, thaw_layer_node_get_has_check(node));
        gtk_check_button_set_active(check, thaw_layer_node_get_trainable(node));
        gtk_check_button_set_inconsistent(check, thaw_layer_node_get_inconsistent(node));
        g_object_set_qdata(G_OBJECT(cell), q_syncing, NULL);
        break;
    }
    case COL_BN:
        set_label_text(cell, thaw_layer_node_get_bn_text(node));
        break;
    case N_COLS:
        break;
    }
}

static void on_node_notify(ThawLayerNode *node, GParamSpec *pspec, GtkWidget *cell)
{
    (void)pspec;
    cell_update(cell, node);
}

/* Forgets the bound node (unbind, teardown); safe to call twice. */
static void cell_release(GtkWidget *cell)
{
    if (!cell) return;
    ThawLayerNode *node = g_object_get_qdata(G_OBJECT(cell), q_node);
    gulong id = (gulong)GPOINTER_TO_SIZE(g_object_get_qdata(G_OBJECT(cell), q_handler));
    if (node && id) g_signal_handler_disconnect(node, id);
    g_object_set_qdata(G_OBJECT(cell), q_handler, NULL);
    g_object_set_qdata(G_OBJECT(cell), q_node, NULL); /* drops the reference */
}

static void on_check_toggled(GtkCheckButton *check, ThawModelPane *self)
{
    if (g_object_get_qdata(G_OBJECT(check), q_syncing)) return;
    ThawLayerNode *node = g_object_get_qdata(G_OBJECT(check), q_node);
    if (!node || !thaw_model_pane_get_model(self)) return;
    g_object_ref(node); /* a ::trainable-changed handler may replace the model */
    gboolean on = gtk_check_button_get_active(check);
    if (thaw_layer_node_get_kind(node) == THAW_LAYER_NODE_LAYER) {
        thaw_model_pane_set_trainable(self, thaw_layer_node_get_first(node), on);
    } else {
        /* Keras's recursive setter: every layer of the stage or block. */
        g_autofree char *label =
            g_strdup_printf("%s %s", on ? "unfroze" : "froze", thaw_layer_node_get_name(node));
        thaw_model_pane_set_range(self, thaw_layer_node_get_first(node),
                                  thaw_layer_node_get_last(node), on, label);
    }
    /* When nothing changed no notification came: show the model's state. */
    if (g_object_get_qdata(G_OBJECT(check), q_node) == node) cell_update(GTK_WIDGET(check), node);
    g_object_unref(node);
}

static Column factory_column(GtkListItemFactory *factory)
{
    return GPOINTER_TO_INT(g_object_get_qdata(G_OBJECT(factory), q_column)) - 1;
}

/* A column is as wide as the cells it has measured so far, so a wider text
 * scrolled in later ("GlobalAveragePooling2D") would spill into the next
 * one: room for the longest texts from the start, in average characters
 * (checked on screen against the texts named). */
static const int width_chars[N_COLS] = {
    [COL_KIND] = 20,  /* GlobalAveragePooling2D */
    [COL_SHAPE] = 15, /* (None, 56, 56, 256) */
    [COL_PARAMS] = 9, /* 23,587,712 */
    [COL_BN] = 21,    /* running stats, γ/β trained */
};

static void on_setup(GtkListItemFactory *factory, GtkListItem *item, ThawModelPane *self)
{
    Column col = factory_column(factory);
    GtkWidget *cell = NULL;
    switch (col) {
    case COL_NAME: {
        cell = gtk_tree_expander_new();
        gtk_tree_expander_set_indent_for_icon(GTK_TREE_EXPANDER(cell), TRUE);
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        GtkWidget *label = gtk_label_new(NULL);
        gtk_label_set_xalign(GTK_LABEL(label), 0.0f);
        GtkWidget *mark = gtk_label_new("❄");
        gtk_widget_add_css_class(mark, "frozen-mark");
        gtk_widget_set_tooltip_text(mark, "Frozen: a training step does not change its weights");
        gtk_accessible_update_property(GTK_ACCESSIBLE(mark), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "frozen", -1);
        gtk_box_append(GTK_BOX(box), label);
        gtk_box_append(GTK_BOX(box), mark);
        gtk_tree_expander_set_child(GTK_TREE_EXPANDER(cell), box);
        g_object_set_qdata(G_OBJECT(cell), q_label, label);
        g_object_set_qdata(G_OBJECT(cell), q_mark, mark);
        break;
    }
    case COL_KIND:
    case COL_SHAPE:
    case COL_PARAMS:
    case COL_BN:
        cell = gtk_label_new(NULL);
        gtk_label_set_xalign(GTK_LABEL(cell), col == COL_PARAMS ? 1.0f : 0.0f);
        gtk_label_set_width_chars(GTK_LABEL(cell), width_chars[col]);
        if (col == COL_PARAMS) gtk_widget_add_css_class(cell, "numeric");
        break;
    case COL_TRAINABLE:
        cell = gtk_check_button_new();
        gtk_widget_set_halign(cell, GTK_ALIGN_CENTER);
        g_signal_connect_object(cell, "toggled", G_CALLBACK(on_check_toggled), self, 0);
        break;
    case N_COLS:
        g_return_if_reached();
    }
    g_object_set_qdata(G_OBJECT(cell), q_column, GINT_TO_POINTER(col + 1));
    gtk_list_item_set_child(item, cell);
}

static void on_bind(GtkListItemFactory *factory, GtkListItem *item, ThawModelPane *self)
{
    (void)self;
    GtkWidget *cell = gtk_list_item_get_child(item);
    GtkTreeListRow *row = gtk_list_item_get_item(item);
    cell_release(cell);
    ThawLayerNode *node = gtk_tree_list_row_get_item(row); /* a reference, kept in qdata */
    g_object_set_qdata_full(G_OBJECT(cell), q_node, node, g_object_unref);
    gulong id = g_signal_connect(node, "notify", G_CALLBACK(on_node_notify), cell);
    g_object_set_qdata(G_OBJECT(cell), q_handler, GSIZE_TO_POINTER(id));

    Column col = factory_column(factory);
    if (col == COL_NAME) gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(cell), row);
    if (col == COL_TRAINABLE) {
        g_autofree char *name = g_strdup_printf("Trainable: %s", thaw_layer_node_get_name(node));
        gtk_accessible_update_property(GTK_ACCESSIBLE(cell), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                       -1);
    }
    cell_update(cell, node);
}

static void on_unbind(GtkListItemFactory *factory, GtkListItem *item, ThawModelPane *self)
{
    (void)self;
    GtkWidget *cell = gtk_list_item_get_child(item);
    cell_release(cell);
    if (cell && factory_column(factory) == COL_NAME)
        gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(cell), NULL);
}

static void on_teardown(GtkListItemFactory *factory, GtkListItem *item, ThawModelPane *self)
{
    (void)factory;
    (void)self;
    cell_release(gtk_list_item_get_child(item));
}

static void add_column(ThawModelPane *self, GtkColumnView *column_view, Column col,
                       const char *title, gboolean expand)
{
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_object_set_qdata(G_OBJECT(factory), q_column, GINT_TO_POINTER(col + 1));
    g_signal_connect_object(factory, "setup", G_CALLBACK(on_setup), self, 0);
    g_signal_connect_object(factory, "bind", G_CALLBACK(on_bind), self, 0);
    g_signal_connect_object(factory, "unbind", G_CALLBACK(on_unbind), self, 0);
    g_signal_connect_object(factory, "teardown", G_CALLBACK(on_teardown), self, 0);
    GtkColumnViewColumn *column = gtk_column_view_column_new(title, factory);
    gtk_column_view_column_set_expand(column, expand);
    gtk_column_view_column_set_resizable(column, TRUE);
    gtk_column_view_append_column(column_view, column);
    g_object_unref(column);
}

void thaw_model_pane_add_columns(ThawModelPane *self, GtkColumnView *column_view)
{
    if (!q_column) {
        q_column = g_quark_from_static_string("thaw-pane-column");
        q_node = g_quark_from_static_string("thaw-pane-node");
        q_handler = g_quark_from_static_string("thaw-pane-handler");
        q_syncing = g_quark_from_static_string("thaw-pane-syncing");
        q_label = g_quark_from_static_string("thaw-pane-label");
        q_mark = g_quark_from_static_string("thaw-pane-mark");
    }
    add_column(self, column_view, COL_NAME, "Layer", TRUE);
    add_column(self, column_view, COL_KIND, "Kind", FALSE);
    add_column(self, column_view, COL_SHAPE, "Output shape", FALSE);
    add_column(self, column_view, COL_PARAMS, "Params", FALSE);
    add_column(self, column_view, COL_TRAINABLE, "Trainable", FALSE);
    add_column(self, column_view, COL_BN, "BN in a training step", FALSE);
}

ThawLayerNode *thaw_model_pane_node_at(GtkWidget *column_view, GtkWidget *w)
{
    for (; w && w != column_view; w = gtk_widget_get_parent(w)) {
        ThawLayerNode *node = g_object_get_qdata(G_OBJECT(w), q_node);
        if (node) return node;
        if (g_strcmp0(gtk_widget_get_css_name(w), "row") != 0) continue;
        /* A row itself (its padding, or the focused row): look in its cells. */
        for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
            GtkWidget *child = gtk_widget_get_first_child(c);
            node = child ? g_object_get_qdata(G_OBJECT(child), q_node) : NULL;
            if (node) return node;
        }
        return NULL;
    }
    return NULL;
}
