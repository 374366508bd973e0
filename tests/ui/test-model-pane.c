/* ThawModelPane, the freeze tree: a resnet20 (classes 5, the shipped model's
 * architecture) in a real window on Xvfb. The tree's structure, the counts
 * against thaw_model_count_params, the freeze actions against the engine's
 * rules, clicks on the check boxes of real bound rows, refresh after a preset
 * change, and teardown without leaks (weak pointers on the rows). */
#include <gtk/gtk.h>
#include <string.h>

#include "thaw-layer-node.h"
#include "thaw-model-pane.h"

typedef struct {
    thaw_model *m;
    GtkWidget *window;
    ThawModelPane *pane;
    int n_signals;
    char *last_label;
} Fixture;

static thaw_model *build_resnet20(void)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "resnet20");
    cfg.classes = 5;
    cfg.head_hidden = 64;
    cfg.dropout = 0.3f;
    thaw_model *m = NULL;
    thaw_error err;
    thaw_status st = thaw_model_new(&m, &cfg, &err);
    g_assert_cmpint(st, ==, THAW_OK);
    return m;
}

/* ------------------------------------------------------------- main loop */

static void on_after_paint(GdkFrameClock *clock, int *n)
{
    (void)clock;
    (*n)++;
}

/* Runs the main loop until `frames` frames of w's window were painted. */
static void wait_frames(GtkWidget *w, int frames)
{
    gint64 end = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    while (!gtk_widget_get_mapped(w) && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    GdkFrameClock *clock = gtk_widget_get_frame_clock(w);
    g_assert_nonnull(clock);
    int n = 0;
    gulong id = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), &n);
    gtk_widget_queue_resize(w);
    while (n < frames && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_signal_handler_disconnect(clock, id);
    g_assert_cmpint(n, >=, frames);
}

static void on_trainable_changed(ThawModelPane *pane, const char *label, Fixture *f)
{
    (void)pane;
    f->n_signals++;
    g_free(f->last_label);
    f->last_label = g_strdup(label);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    f->m = build_resnet20();
    f->window = gtk_window_new();
    gtk_window_set_default_size(GTK_WINDOW(f->window), 900, 700);
    f->pane = THAW_MODEL_PANE(thaw_model_pane_new());
    gtk_window_set_child(GTK_WINDOW(f->window), GTK_WIDGET(f->pane));
    thaw_model_pane_set_model(f->pane, f->m);
    g_signal_connect(f->pane, "trainable-changed", G_CALLBACK(on_trainable_changed), f);
    gtk_window_present(GTK_WINDOW(f->window));
    wait_frames(f->window, 2);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    if (f->window) gtk_window_destroy(GTK_WINDOW(f->window));
    for (int i = 0; i < 20; i++) g_main_context_iteration(NULL, FALSE);
    thaw_model_free(f->m);
    g_free(f->last_label);
}

/* --------------------------------------------------------- widget lookup */

static GtkWidget *find_type(GtkWidget *root, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(root, type)) return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_type(c, type);
        if (hit) return hit;
    }
    return NULL;
}

/* A mapped GtkLabel showing exactly text (markup aside). */
static GtkWidget *find_label(GtkWidget *root, const char *text)
{
    if (GTK_IS_LABEL(root) && gtk_widget_get_mapped(root) &&
        strcmp(gtk_label_get_text(GTK_LABEL(root)), text) == 0)
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_label(c, text);
        if (hit) return hit;
    }
    return NULL;
}

/* A mapped button whose label is text. */
static GtkWidget *find_button(GtkWidget *root, const char *text)
{
    if (GTK_IS_BUTTON(root) && gtk_widget_get_mapped(root) &&
        g_strcmp0(gtk_button_get_label(GTK_BUTTON(root)), text) == 0)
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_button(c, text);
        if (hit) return hit;
    }
    return NULL;
}

static GtkTreeListModel *pane_tree(Fixture *f)
{
    GtkWidget *cv = find_type(GTK_WIDGET(f->pane), GTK_TYPE_COLUMN_VIEW);
    g_assert_nonnull(cv);
    GtkSelectionModel *sel = gtk_column_view_get_model(GTK_COLUMN_VIEW(cv));
    GListModel *inner = gtk_single_selection_get_model(GTK_SINGLE_SELECTION(sel));
    return inner ? GTK_TREE_LIST_MODEL(inner) : NULL;
}

/* The tree row of the node named name among the current rows (-1: none). */
static int tree_find(GtkTreeListModel *tree, const char *name, GtkTreeListRow **out)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(tree));
    for (guint i = 0; i < n; i++) {
        GtkTreeListRow *row = g_list_model_get_item(G_LIST_MODEL(tree), i);
        ThawLayerNode *node = gtk_tree_list_row_get_item(row);
        gboolean hit = strcmp(thaw_layer_node_get_name(node), name) == 0;
        g_object_unref(node);
        if (hit) {
            if (out)
                *out = row;
            else
                g_object_unref(row);
            return (int)i;
        }
        g_object_unref(row);
    }
    if (out) *out = NULL;
    return -1;
}

/* The column view row widget (CSS name "row") showing the node named name,
 * scrolled into view if needed. */
static GtkWidget *find_row(Fixture *f, const char *name)
{
    GtkWidget *w = find_label(GTK_WIDGET(f->pane), name);
    if (!w) {
        int pos = tree_find(pane_tree(f), name, NULL);
        g_assert_cmpint(pos, >=, 0);
        GtkWidget *list = find_type(GTK_WIDGET(f->pane), GTK_TYPE_LIST_VIEW);
        g_assert_nonnull(list);
        gtk_widget_activate_action(list, "list.scroll-to-item", "u", (guint)pos);
        wait_frames(f->window, 2);
        w = find_label(GTK_WIDGET(f->pane), name);
    }
    while (w && g_strcmp0(gtk_widget_get_css_name(w), "row") != 0) w = gtk_widget_get_parent(w);
    g_assert_nonnull(w);
    return w;
}

/* The pane's own widget in cell col of row (columns: Layer, Kind, Output
 * shape, Params, Trainable, BN). */
static GtkWidget *row_cell(GtkWidget *row, int col)
{
    int k = 0;
    for (GtkWidget *c = gtk_widget_get_first_child(row); c; c = gtk_widget_get_next_sibling(c))
        if (k++ == col) return gtk_widget_get_first_child(c);
    g_assert_not_reached();
    return NULL;
}

static GtkCheckButton *row_check(Fixture *f, const char *name)
{
    GtkWidget *check = row_cell(find_row(f, name), 4);
    g_assert_true(GTK_IS_CHECK_BUTTON(check));
    return GTK_CHECK_BUTTON(check);
}

static size_t state_floats(const thaw_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].is_state) n += m->params[i].count;
    return n;
}

static void check_counts(Fixture *f)
{
    thaw_param_counts want = thaw_model_count_params(f->m);
    thaw_param_counts got = thaw_model_pane_get_counts(f->pane);
    g_assert_cmpuint(got.total, ==, want.total);
    g_assert_cmpuint(got.trainable, ==, want.trainable);
    g_assert_cmpuint(got.non_trainable, ==, want.non_trainable);
    /* The line on screen is the text the pane reports. */
    g_assert_nonnull(find_label(GTK_WIDGET(f->pane), thaw_model_pane_get_counts_text(f->pane)));
}

/* ------------------------------------------------------------------ tests */

static void test_structure(Fixture *f, gconstpointer data)
{
    (void)data;
    GtkTreeListModel *tree = pane_tree(f);
    g_assert_nonnull(tree);
    GListModel *root = gtk_tree_list_model_get_model(tree);
    const char *stages[] = {"stem", "conv2", "conv3", "conv4", "head"};
    g_assert_cmpuint(g_list_model_get_n_items(root), ==, G_N_ELEMENTS(stages));
    for (guint i = 0; i < G_N_ELEMENTS(stages); i++) {
        ThawLayerNode *node = g_list_model_get_item(root, i);
        g_assert_cmpstr(thaw_layer_node_get_name(node), ==, stages[i]);
        g_assert_cmpint(thaw_layer_node_get_kind(node), ==, THAW_LAYER_NODE_STAGE);
        g_object_unref(node);
    }
    /* Stages expanded, blocks not: stem (input_1, conv1_conv, conv1_bn,
     * conv1_relu), 3 x 3 blocks, head (avg_pool, head_dense, head_dropout,
     * predictions). */
    guint n0 = g_list_model_get_n_items(G_LIST_MODEL(tree));
    g_assert_cmpuint(n0, ==, 5 + 4 + 9 + 4);

    GtkTreeListRow *row = NULL;
    tree_find(tree, "conv3_block1", &row);
    g_assert_nonnull(row);
    ThawLayerNode *block = gtk_tree_list_row_get_item(row);
    int n_inside = thaw_layer_node_get_last(block) - thaw_layer_node_get_first(block) + 1;
    g_assert_cmpint(n_inside, ==, 9); /* with the projection shortcut _0_conv, _0_bn */
    g_assert_true(gtk_tree_list_row_is_expandable(row));
    g_assert_false(gtk_tree_list_row_get_expanded(row));
    gtk_tree_list_row_set_expanded(row, TRUE);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(tree)), ==, n0 + (guint)n_inside);
    wait_frames(f->window, 1);
    g_assert_nonnull(find_label(GTK_WIDGET(f->pane), "conv3_block1_0_conv"));
    gtk_tree_list_row_set_expanded(row, FALSE);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(tree)), ==, n0);
    g_object_unref(block);
    g_object_unref(row);

    /* Fully expanded, the leaves are model.layers in order, each once. */
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(tree)); i++) {
        GtkTreeListRow *r = g_list_model_get_item(G_LIST_MODEL(tree), i);
        gtk_tree_list_row_set_expanded(r, TRUE);
        g_object_unref(r);
    }
    guint n = g_list_model_get_n_items(G_LIST_MODEL(tree));
    g_assert_cmpuint(n, ==, 5 + 9 + (guint)f->m->n_layers);
    int next = 0;
    for (guint i = 0; i < n; i++) {
        GtkTreeListRow *r = g_list_model_get_item(G_LIST_MODEL(tree), i);
        ThawLayerNode *node = gtk_tree_list_row_get_item(r);
        if (thaw_layer_node_get_kind(node) == THAW_LAYER_NODE_LAYER) {
            g_assert_cmpint(thaw_layer_node_get_first(node), ==, next);
            g_assert_cmpstr(thaw_layer_node_get_name(node), ==, f->m->layers[next].name);
            g_assert_cmpuint(gtk_tree_list_row_get_depth(r), ==,
                             f->m->layers[next].block > 0 ? 2 : 1);
            next++;
        }
        g_object_unref(node);
        g_object_unref(r);
    }
    g_assert_cmpint(next, ==, f->m->n_layers);

    /* The columns of a bound row. */
    GtkWidget *bn_row = find_row(f, "conv2_block2_1_bn");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(bn_row, 1))), ==, "BatchNormalization");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(bn_row, 2))), ==, "(None, 28, 28, 16)");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(bn_row, 3))), ==, "64");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(bn_row, 5))), ==,
                    "batch stats, updating");
    GtkWidget *dense_row = find_row(f, "head_dense");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(dense_row, 2))), ==, "(None, 64)");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(dense_row, 3))), ==, "4,160");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(row_cell(dense_row, 5))), ==, "");
    /* The InputLayer has no check box. */
    g_assert_false(gtk_widget_get_visible(row_cell(find_row(f, "input_1"), 4)));
    g_assert_true(gtk_widget_get_visible(row_cell(find_row(f, "conv1_relu"), 4)));
}

static void test_counts(Fixture *f, gconstpointer data)
{
    (void)data;
    check_counts(f);
    thaw_param_counts c = thaw_model_pane_get_counts(f->pane);
    g_assert_cmpuint(c.non_trainable, ==, state_floats(f->m));
    char want[128];
    /* resnet20 (classes 5, Dense(64) head), as `thaw-cli summary --base
     * false` prints it for the shipped model's architecture. */
    g_assert_cmpuint(c.total, ==, 277589);
    g_assert_cmpuint(c.trainable, ==, 276021);
    snprintf(want, sizeof want, "Total params: %s · Trainable: %s · Non-trainable: %s", "277,589",
             "276,021", "1,568");
    g_assert_cmpstr(thaw_model_pane_get_counts_text(f->pane), ==, want);

    /* The toolbar's Freeze all. */
    GtkWidget *freeze = find_button(GTK_WIDGET(f->pane), "Freeze all");
    g_assert_nonnull(freeze);
    g_signal_emit_by_name(freeze, "clicked");
    g_assert_cmpint(f->n_signals, ==, 1);
    g_assert_cmpstr(f->last_label, ==, "froze all");
    c = thaw_model_pane_get_counts(f->pane);
    g_assert_cmpuint(c.trainable, ==, 0);
    g_assert_cmpuint(c.non_trainable, ==, c.total);
    for (int i = 0; i < f->m->n_layers; i++) g_assert_false(f->m->layers[i].trainable);
    wait_frames(f->window, 1);
    check_counts(f);
    /* Nothing changes: no signal. */
    gtk_widget_activate_action(GTK_WIDGET(f->pane), "pane.freeze-all", NULL);
    g_assert_cmpint(f->n_signals, ==, 1);

    GtkWidget *unfreeze = find_button(GTK_WIDGET(f->pane), "Unfreeze all");
    g_assert_nonnull(unfreeze);
    g_signal_emit_by_name(unfreeze, "clicked");
    g_assert_cmpint(f->n_signals, ==, 2);
    g_assert_cmpstr(f->last_label, ==, "unfroze all");
    c = thaw_model_pane_get_counts(f->pane);
    g_assert_cmpuint(c.non_trainable, ==, state_floats(f->m));
    /* The InputLayer never changes (Keras's InputLayer has no weights). */
    g_assert_false(f->m->layers[0].trainable);
    for (int i = 1; i < f->m->n_layers; i++) g_assert_true(f->m->layers[i].trainable);
    wait_frames(f->window, 1);
    check_counts(f);
}

static void test_check_boxes(Fixture *f, gconstpointer data)
{
    (void)data;
    int conv = thaw_model_find_layer(f->m, "conv1_conv");
    g_assert_cmpint(conv, >=, 0);
    size_t before = thaw_model_pane_get_counts(f->pane).trainable;
    GtkCheckButton *check = row_check(f, "conv1_conv");
    g_assert_true(gtk_check_button_get_active(check));
    GtkWidget *name_cell = row_cell(find_row(f, "conv1_conv"), 0);
    g_assert_false(gtk_widget_has_css_class(name_cell, "frozen"));

    gtk_check_button_set_active(check, FALSE);
    g_assert_false(f->m->layers[conv].trainable);
    g_assert_cmpint(f->n_signals, ==, 1);
    g_assert_cmpstr(f->last_label, ==, "froze conv1_conv");
    g_assert_cmpuint(thaw_model_pane_get_counts(f->pane).trainable, ==,
                     before - thaw_layer_param_count(f->m, conv));
    /* The frozen mark on every cell of the row, and the snowflake. */
    GtkWidget *row = find_row(f, "conv1_conv");
    for (int col = 0; col < 6; col++)
        g_assert_true(gtk_widget_has_css_class(row_cell(row, col), "frozen"));
    g_assert_nonnull(find_label(row, "❄"));
    g_assert_false(gtk_widget_has_css_class(row_cell(find_row(f, "conv1_bn"), 0), "frozen"));

    gtk_widget_activate(GTK_WIDGET(check));
    g_assert_true(f->m->layers[conv].trainable);
    g_assert_true(gtk_check_button_get_active(check));
    g_assert_cmpint(f->n_signals, ==, 2);
    g_assert_cmpstr(f->last_label, ==, "unfroze conv1_conv");
    g_assert_cmpuint(thaw_model_pane_get_counts(f->pane).trainable, ==, before);
    wait_frames(f->window, 1);
    g_assert_null(find_label(find_row(f, "conv1_conv"), "❄"));

    /* A stage's check box sets every layer inside (Keras's recursive
     * setter), with one signal. */
    GtkCheckButton *stage = row_check(f, "conv2");
    GtkCheckButton *block = row_check(f, "conv2_block1");
    g_assert_true(gtk_check_button_get_active(stage));
    gtk_check_button_set_active(stage, FALSE);
    g_assert_cmpint(f->n_signals, ==, 3);
    g_assert_cmpstr(f->last_label, ==, "froze conv2");
    for (int i = 0; i < f->m->n_layers; i++)
        g_assert_true(f->m->layers[i].trainable ==
                      (f->m->layers[i].stage != 1 && f->m->layers[i].kind != THAW_LAYER_INPUT));
    g_assert_false(gtk_check_button_get_active(block));
    g_assert_true(gtk_widget_has_css_class(row_cell(find_row(f, "conv2"), 0), "frozen"));

    /* Mixed: inconsistent. */
    int first = thaw_model_find_layer(f->m, "conv2_block1_1_conv");
    thaw_model_pane_set_trainable(f->pane, first, TRUE);
    g_assert_cmpint(f->n_signals, ==, 4);
    g_assert_cmpstr(f->last_label, ==, "unfroze conv2_block1_1_conv");
    g_assert_true(gtk_check_button_get_inconsistent(stage));
    g_assert_true(gtk_check_button_get_inconsistent(block));
    g_assert_false(gtk_widget_has_css_class(row_cell(find_row(f, "conv2"), 0), "frozen"));
    g_assert_false(gtk_check_button_get_inconsistent(row_check(f, "conv2_block2")));

    /* Clicking a mixed box makes everything inside trainable. */
    gtk_widget_activate(GTK_WIDGET(stage));
    g_assert_cmpint(f->n_signals, ==, 5);
    g_assert_cmpstr(f->last_label, ==, "unfroze conv2");
    g_assert_false(gtk_check_button_get_inconsistent(stage));
    g_assert_true(gtk_check_button_get_active(stage));
    for (int i = 1; i < f->m->n_layers; i++) g_assert_true(f->m->layers[i].trainable);

    /* The stem's box ignores the InputLayer. */
    GtkCheckButton *stem = row_check(f, "stem");
    g_assert_true(gtk_check_button_get_active(stem));
    g_assert_false(gtk_check_button_get_inconsistent(stem));
    gtk_check_button_set_active(stem, FALSE);
    g_assert_cmpint(f->n_signals, ==, 6);
    g_assert_cmpstr(f->last_label, ==, "froze stem");
    g_assert_false(gtk_check_button_get_inconsistent(stem));
    check_counts(f);
}

static void test_unfreeze_last(Fixture *f, gconstpointer data)
{
    /* The API (what the window's win.unfreeze-last calls) shows its N in the spin button. */
    thaw_model_pane_unfreeze_last(f->pane, 7);
    GtkWidget *spin7 = find_type(GTK_WIDGET(f->pane), GTK_TYPE_SPIN_BUTTON);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(spin7)), ==, 7);
    g_assert_nonnull(find_button(GTK_WIDGET(f->pane), "Unfreeze last 7"));
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin7), 10);
    (void)data;
    int n_base = 0;
    for (int i = 0; i < f->m->n_layers; i++) n_base += f->m->layers[i].in_base;
    GtkWidget *spin = find_type(GTK_WIDGET(f->pane), GTK_TYPE_SPIN_BUTTON);
    g_assert_nonnull(spin);
    double lo, hi;
    gtk_spin_button_get_range(GTK_SPIN_BUTTON(spin), &lo, &hi);
    g_assert_cmpfloat(lo, ==, 1); /* N = 0 is "Freeze all"'s job */
    g_assert_cmpfloat(hi, ==, n_base);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(spin)), ==, 10);

    const int ns[] = {1, 5, 12, n_base - 1, n_base, 3};
    for (size_t k = 0; k < G_N_ELEMENTS(ns); k++) {
        int n = ns[k];
        /* Start from everything trainable, like a fresh model. */
        thaw_model_pane_unfreeze_all(f->pane);
        thaw_model *fresh = build_resnet20();
        thaw_model_unfreeze_last(fresh, n);
        gboolean want_signal = FALSE;
        for (int i = 0; i < fresh->n_layers; i++)
            want_signal = want_signal || fresh->layers[i].trainable != f->m->layers[i].trainable;

        int signals = f->n_signals;
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), n);
        char label[64];
        snprintf(label, sizeof label, "Unfreeze last %d", n);
        GtkWidget *button = find_button(GTK_WIDGET(f->pane), label);
        g_assert_nonnull(button);
        g_signal_emit_by_name(button, "clicked");

        for (int i = 0; i < fresh->n_layers; i++)
            g_assert_true(f->m->layers[i].trainable == fresh->layers[i].trainable);
        g_assert_cmpint(f->n_signals, ==, signals + (want_signal ? 1 : 0));
        snprintf(label, sizeof label, "unfroze last %d", n);
        if (want_signal) g_assert_cmpstr(f->last_label, ==, label);
        thaw_param_counts want = thaw_model_count_params(fresh);
        g_assert_cmpuint(thaw_model_pane_get_counts(f->pane).trainable, ==, want.trainable);
        thaw_model_free(fresh);
    }
    /* n = 3: the last three base layers conv4_block3_2_bn, _add and _out
     * (and the head) trainable; conv4_block3_2_conv before them frozen. */
    g_assert_false(f->m->layers[thaw_model_find_layer(f->m, "conv4_block3_2_conv")].trainable);
    g_assert_true(f->m->layers[thaw_model_find_layer(f->m, "conv4_block3_2_bn")].trainable);
    g_assert_true(f->m->layers[thaw_model_find_layer(f->m, "head_dense")].trainable);
    wait_frames(f->window, 1);
    check_counts(f);
}

static void test_freeze_up_to(Fixture *f, gconstpointer data)
{
    (void)data;
    const char *names[] = {"conv3_block1_out", "input_1", "conv1_bn", "predictions",
                           "conv3_block1_out"};
    for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
        int at = thaw_model_find_layer(f->m, names[k]);
        g_assert_cmpint(at, >=, 0);
        int signals = f->n_signals;
        gboolean changes = FALSE;
        for (int i = 1; i < f->m->n_layers; i++) changes |= f->m->layers[i].trainable != (i > at);
        /* The context menu's action, with the layer index as its target. */
        gtk_widget_activate_action(GTK_WIDGET(f->pane), "pane.freeze-up-to", "i", at);
        g_assert_false(f->m->layers[0].trainable); /* input_1 unchanged */
        for (int i = 1; i < f->m->n_layers; i++)
            g_assert_true(f->m->layers[i].trainable == (i > at));
        g_assert_cmpint(f->n_signals, ==, signals + (changes ? 1 : 0));
        if (changes) {
            char label[96];
            snprintf(label, sizeof label, "froze up to %s", names[k]);
            g_assert_cmpstr(f->last_label, ==, label);
        }
        check_counts(f);
    }
    /* The last one repeated the first change from another state; repeating
     * it again changes nothing and says nothing. */
    int signals = f->n_signals;
    thaw_model_pane_freeze_up_to(f->pane, thaw_model_find_layer(f->m, "conv3_block1_out"));
    g_assert_cmpint(f->n_signals, ==, signals);
    /* Rows follow: conv3_block1 frozen, conv3_block2 and conv3 itself not. */
    wait_frames(f->window, 1);
    g_assert_false(gtk_check_button_get_active(row_check(f, "conv3_block1")));
    g_assert_true(gtk_widget_has_css_class(row_cell(find_row(f, "conv3_block1"), 0), "frozen"));
    g_assert_true(gtk_check_button_get_active(row_check(f, "conv3_block2")));
    g_assert_true(gtk_check_button_get_inconsistent(row_check(f, "conv3")));
    g_assert_false(gtk_widget_has_css_class(row_cell(find_row(f, "conv3"), 0), "frozen"));
}

static void test_preset_refresh(Fixture *f, gconstpointer data)
{
    (void)data;
    int bn = thaw_model_find_layer(f->m, "conv1_bn");
    g_assert_null(thaw_model_pane_get_bn_text(f->pane, thaw_model_find_layer(f->m, "conv1_conv")));
    g_assert_cmpstr(thaw_model_pane_get_bn_text(f->pane, bn), ==, "batch stats, updating");

    /* Freeze the base (the last 0 base layers trainable). */
    thaw_model_pane_unfreeze_last(f->pane, 0);
    g_assert_cmpint(f->n_signals, ==, 1);
    g_assert_cmpstr(thaw_model_pane_get_bn_text(f->pane, bn), ==, "running stats, frozen");
    GtkWidget *bn_label = row_cell(find_row(f, "conv1_bn"), 5);
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(bn_label)), ==, "running stats, frozen");

    /* Expand a block; refresh must keep it. */
    GtkTreeListModel *tree = pane_tree(f);
    GtkTreeListRow *row = NULL;
    tree_find(tree, "conv2_block2", &row);
    g_assert_nonnull(row);
    gtk_tree_list_row_set_expanded(row, TRUE);
    guint n_rows = g_list_model_get_n_items(G_LIST_MODEL(tree));
    size_t trainable = thaw_model_pane_get_counts(f->pane).trainable;

    /* The preset changes from outside; the window calls refresh. */
    g_assert_cmpint(thaw_model_set_preset(f->m, THAW_PRESET_PYTORCH), ==, THAW_OK);
    thaw_model_pane_refresh(f->pane);
    g_assert_cmpstr(thaw_model_pane_get_bn_text(f->pane, bn), ==, "batch stats, updating");
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(bn_label)), ==, "batch stats, updating");
    g_assert_true(gtk_widget_has_css_class(row_cell(find_row(f, "conv1_bn"), 0), "frozen"));
    g_assert_cmpuint(thaw_model_pane_get_counts(f->pane).trainable, ==, trainable);
    g_assert_true(gtk_tree_list_row_get_expanded(row));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(tree)), ==, n_rows);
    g_assert_true(pane_tree(f) == tree); /* not rebuilt */

    /* fastai keeps BN in frozen groups trainable: not marked frozen, and its
     * gamma/beta count as trainable. */
    thaw_model_set_preset(f->m, THAW_PRESET_FASTAI_TRAIN_BN);
    thaw_model_pane_refresh(f->pane);
    g_assert_false(gtk_widget_has_css_class(row_cell(find_row(f, "conv1_bn"), 0), "frozen"));
    g_assert_true(gtk_widget_has_css_class(row_cell(find_row(f, "conv1_conv"), 0), "frozen"));
    g_assert_false(gtk_check_button_get_active(row_check(f, "conv1_bn")));
    g_assert_cmpuint(thaw_model_pane_get_counts(f->pane).trainable, >, trainable);

    /* Back to keras3. */
    thaw_model_set_preset(f->m, THAW_PRESET_KERAS3);
    thaw_model_pane_refresh(f->pane);
    g_assert_cmpstr(gtk_label_get_label(GTK_LABEL(bn_label)), ==, "running stats, frozen");
    g_assert_cmpint(f->n_signals, ==, 1); /* refresh never signals */
    wait_frames(f->window, 1);
    check_counts(f);
    g_object_unref(row);
}

/* The context menu of a row: "Freeze up to here" targets that row's layer
 * (a block's last layer), through the pane.freeze-up-to action. */
static void test_context_menu(Fixture *f, gconstpointer data)
{
    (void)data;
    const struct {
        const char *row, *target;
    } cases[] = {{"conv1_bn", "conv1_bn"}, {"conv3_block1", "conv3_block1_out"}};
    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        GtkWidget *check = GTK_WIDGET(row_check(f, cases[k].row));
        g_assert_true(gtk_widget_grab_focus(check));
        g_assert_true(gtk_widget_activate_action(check, "menu.popup", NULL));
        GtkWidget *popover = find_type(GTK_WIDGET(f->pane), GTK_TYPE_POPOVER_MENU);
        g_assert_nonnull(popover);
        wait_frames(f->window, 1);
        g_assert_true(gtk_widget_get_visible(popover));

        GMenuModel *menu = gtk_popover_menu_get_menu_model(GTK_POPOVER_MENU(popover));
        GMenuModel *here = g_menu_model_get_item_link(menu, 0, G_MENU_LINK_SECTION);
        g_assert_nonnull(here);
        g_autofree char *label = NULL, *action = NULL;
        g_assert_true(
            g_menu_model_get_item_attribute(here, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label));
        g_assert_cmpstr(label, ==, "Freeze up to here");
        g_assert_true(
            g_menu_model_get_item_attribute(here, 0, G_MENU_ATTRIBUTE_ACTION, "s", &action));
        g_assert_cmpstr(action, ==, "pane.freeze-up-to");
        GVariant *target = g_menu_model_get_item_attribute_value(here, 0, G_MENU_ATTRIBUTE_TARGET,
                                                                 G_VARIANT_TYPE_INT32);
        g_assert_nonnull(target);
        int at = thaw_model_find_layer(f->m, cases[k].target);
        g_assert_cmpint(g_variant_get_int32(target), ==, at);
        g_object_unref(here);

        /* What clicking the item does. */
        int signals = f->n_signals;
        g_assert_true(gtk_widget_activate_action_variant(popover, action, target));
        g_variant_unref(target);
        gtk_popover_popdown(GTK_POPOVER(popover));
        g_assert_cmpint(f->n_signals, ==, signals + 1);
        char want[96];
        snprintf(want, sizeof want, "froze up to %s", cases[k].target);
        g_assert_cmpstr(f->last_label, ==, want);
        for (int i = 1; i < f->m->n_layers; i++)
            g_assert_true(f->m->layers[i].trainable == (i > at));
    }
}

/* Rows are recycled when stages collapse and expand: each mapped row must
 * show its own layer, and a click must act once, on that layer. */
static void test_recycling(Fixture *f, gconstpointer data)
{
    (void)data;
    GtkTreeListModel *tree = pane_tree(f);
    for (int round = 0; round < 3; round++) {
        for (int s = 4; s >= 0; s--) {
            GtkTreeListRow *r = gtk_tree_list_model_get_child_row(tree, (guint)s);
            gtk_tree_list_row_set_expanded(r, FALSE);
            g_object_unref(r);
        }
        wait_frames(f->window, 1);
        for (int s = 4; s >= 0; s--) {
            GtkTreeListRow *r = gtk_tree_list_model_get_child_row(tree, (guint)s);
            gtk_tree_list_row_set_expanded(r, TRUE);
            g_object_unref(r);
        }
        wait_frames(f->window, 1);
    }
    /* Blocks open too: rows that showed stages and blocks now show layers. */
    GtkTreeListRow *block = NULL;
    tree_find(tree, "conv2_block1", &block);
    gtk_tree_list_row_set_expanded(block, TRUE);
    g_object_unref(block);
    tree_find(tree, "conv2_block2", &block);
    gtk_tree_list_row_set_expanded(block, TRUE);
    g_object_unref(block);
    wait_frames(f->window, 1);
    thaw_model_pane_freeze_up_to(f->pane, thaw_model_find_layer(f->m, "conv1_bn"));
    g_assert_cmpint(f->n_signals, ==, 1);
    wait_frames(f->window, 1);
    /* Every mapped layer row agrees with the model. */
    int seen = 0;
    for (int i = 1; i < f->m->n_layers; i++) {
        GtkWidget *label = find_label(GTK_WIDGET(f->pane), f->m->layers[i].name);
        if (!label) continue;
        GtkWidget *row = label;
        while (g_strcmp0(gtk_widget_get_css_name(row), "row") != 0)
            row = gtk_widget_get_parent(row);
        GtkWidget *check = row_cell(row, 4);
        g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(check)) ==
                      f->m->layers[i].trainable);
        seen++;
    }
    g_assert_cmpint(seen, >=, 10);
    gtk_check_button_set_active(row_check(f, "conv1_relu"), FALSE);
    g_assert_cmpint(f->n_signals, ==, 2);
    g_assert_cmpstr(f->last_label, ==, "froze conv1_relu");
    g_assert_false(f->m->layers[thaw_model_find_layer(f->m, "conv1_relu")].trainable);
}

static void test_set_model(Fixture *f, gconstpointer data)
{
    (void)data;
    GtkTreeListModel *tree = pane_tree(f);
    GListModel *root = gtk_tree_list_model_get_model(tree);
    ThawLayerNode *stem = g_list_model_get_item(root, 0);
    g_object_add_weak_pointer(G_OBJECT(stem), (gpointer *)&stem);
    g_object_unref(stem);
    g_object_add_weak_pointer(G_OBJECT(tree), (gpointer *)&tree);

    thaw_model_pane_set_model(f->pane, NULL);
    wait_frames(f->window, 1);
    g_assert_null(thaw_model_pane_get_model(f->pane));
    g_assert_cmpstr(thaw_model_pane_get_counts_text(f->pane), ==, "");
    g_assert_null(thaw_model_pane_get_bn_text(f->pane, 2));
    g_assert_null(pane_tree(f));
    g_assert_null(stem); /* every row is gone: no references left behind */
    g_assert_null(tree);
    /* Actions are off; calling them does nothing. */
    thaw_model_pane_freeze_all(f->pane);
    g_assert_cmpint(f->n_signals, ==, 0);

    /* Another model. */
    thaw_model *m2 = build_resnet20();
    thaw_model_pane_set_model(f->pane, m2);
    wait_frames(f->window, 2);
    g_assert_true(thaw_model_pane_get_model(f->pane) == m2);
    gtk_check_button_set_active(row_check(f, "conv1_conv"), FALSE);
    g_assert_cmpint(f->n_signals, ==, 1);
    g_assert_false(m2->layers[thaw_model_find_layer(m2, "conv1_conv")].trainable);
    g_assert_true(f->m->layers[thaw_model_find_layer(f->m, "conv1_conv")].trainable);

    /* Destroying the window releases the pane and every row. */
    ThawModelPane *pane = f->pane;
    g_object_add_weak_pointer(G_OBJECT(pane), (gpointer *)&pane);
    tree = pane_tree(f);
    g_object_add_weak_pointer(G_OBJECT(tree), (gpointer *)&tree);
    root = gtk_tree_list_model_get_model(tree);
    stem = g_list_model_get_item(root, 0);
    g_object_add_weak_pointer(G_OBJECT(stem), (gpointer *)&stem);
    g_object_unref(stem);
    gtk_window_destroy(GTK_WINDOW(f->window));
    f->window = NULL;
    for (int i = 0; i < 20; i++) g_main_context_iteration(NULL, FALSE);
    g_assert_null(pane);
    g_assert_null(tree);
    g_assert_null(stem);
    thaw_model_free(m2); /* the pane never frees its model */
}

/* The shipped model, loaded as the window loads it. */
static void test_shipped_model(void)
{
    const char *dir = g_getenv("THAW_MODELS");
    g_autofree char *path = dir ? g_build_filename(dir, "fashion-resnet20.thaw", NULL) : NULL;
    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_test_skip("THAW_MODELS/fashion-resnet20.thaw not found");
        return;
    }
    thaw_model *m = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_checkpoint_load(&m, path, &err), ==, THAW_OK);
    GtkWidget *pane = g_object_ref_sink(thaw_model_pane_new());
    thaw_model_pane_set_model(THAW_MODEL_PANE(pane), m);
    thaw_model_pane_unfreeze_last(THAW_MODEL_PANE(pane), 0);
    thaw_param_counts want = thaw_model_count_params(m);
    thaw_param_counts got = thaw_model_pane_get_counts(THAW_MODEL_PANE(pane));
    g_assert_cmpuint(got.total, ==, want.total);
    g_assert_cmpuint(got.trainable, ==, want.trainable);
    /* Only the head trains: Dense(64) and Dense(5). */
    g_assert_cmpuint(got.trainable, ==, 64 * 64 + 64 + 64 * 5 + 5);
    g_object_unref(pane);
    thaw_model_free(m);
}

static void on_layer_selected(ThawModelPane *pane, int layer, int *out)
{
    *out = layer;
}

/* Selecting a layer's row names the layer (stage rows name nothing). The
 * top level is stem, conv2, ...: row 1 is the stem's first layer once the
 * stem is expanded (it is, initially). */
static void test_selection(Fixture *f, gconstpointer data)
{
    (void)data;
    int got = -2;
    g_signal_connect(f->pane, "layer-selected", G_CALLBACK(on_layer_selected), &got);
    GtkWidget *cv = find_type(GTK_WIDGET(f->pane), GTK_TYPE_COLUMN_VIEW);
    GtkSingleSelection *sel = GTK_SINGLE_SELECTION(gtk_column_view_get_model(GTK_COLUMN_VIEW(cv)));
    gtk_single_selection_set_selected(sel, 0); /* the stem row */
    g_assert_cmpint(got, ==, -2);
    gtk_single_selection_set_selected(sel, 2); /* stem > conv1_pad or conv1_conv */
    g_assert_cmpint(got, >=, 0);
    GtkTreeListRow *row = gtk_single_selection_get_selected_item(sel);
    g_autoptr(GObject) item = gtk_tree_list_row_get_item(row);
    g_assert_cmpstr(f->m->layers[got].name, ==, thaw_layer_node_get_name(THAW_LAYER_NODE(item)));
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add("/model-pane/structure", Fixture, NULL, fixture_setup, test_structure,
               fixture_teardown);
    g_test_add("/model-pane/counts", Fixture, NULL, fixture_setup, test_counts, fixture_teardown);
    g_test_add("/model-pane/check-boxes", Fixture, NULL, fixture_setup, test_check_boxes,
               fixture_teardown);
    g_test_add("/model-pane/unfreeze-last", Fixture, NULL, fixture_setup, test_unfreeze_last,
               fixture_teardown);
    g_test_add("/model-pane/freeze-up-to", Fixture, NULL, fixture_setup, test_freeze_up_to,
               fixture_teardown);
    g_test_add("/model-pane/preset-refresh", Fixture, NULL, fixture_setup, test_preset_refresh,
               fixture_teardown);
    g_test_add("/model-pane/context-menu", Fixture, NULL, fixture_setup, test_context_menu,
               fixture_teardown);
    g_test_add("/model-pane/recycling", Fixture, NULL, fixture_setup, test_recycling,
               fixture_teardown);
    g_test_add("/model-pane/selection", Fixture, NULL, fixture_setup, test_selection,
               fixture_teardown);
    g_test_add("/model-pane/set-model", Fixture, NULL, fixture_setup, test_set_model,
               fixture_teardown);
    g_test_add_func("/model-pane/shipped-model", test_shipped_model);
    return g_test_run();
}
