/* ThawBnPane: see thaw-bn-pane.h.
 *
 * Widgets: the pane lays out three children with a vertical GtkBoxLayout --
 * the control row (a GtkBox), the ThawBnPlot and the ThawDriftMap -- and
 * unparents them in dispose. The pane owns the data: the layers, the
 * reference, the last snapshot (all layers, so that choosing another layer
 * shows its latest values at once) and a per-layer drift scratch; the plot
 * gets a copy of the selected layer's slice, the map a copy of each drift
 * column. Nothing is allocated per push beyond what GTK needs to queue a
 * redraw.
 *
 * The drop-down, the drift map and thaw_bn_pane_select() all go through
 * thaw_bn_pane_select(); `syncing` keeps the drop-down's own notify from
 * coming back in while the pane sets it. */
#include "thaw-bn-pane.h"

#include <math.h>
#include <string.h>

#include "thaw-bn-plot.h"
#include "thaw-draw.h"
#include "thaw-drift-map.h"

#define PAD 6.0

struct _ThawBnPane {
    GtkWidget parent_instance;

    GtkWidget *controls; /* the top row */
    GtkWidget *drop_down, *button, *spinner, *result_label;
    GtkWidget *plot, *map;

    int n_layers;
    char **names;       /* (n_layers), NULL-terminated */
    int *channels;      /* (n_layers) */
    size_t *offsets;    /* (n_layers) into the concatenated arrays */
    size_t total;       /* sum of channels */
    float *ref;         /* (2, total) mean then var, or NULL */
    float *stats;       /* (4, total): batch mean, batch var, moving mean, moving var */
    gboolean has_stats; /* stats hold a push */
    double *drift;      /* (n_layers) scratch for one column */
    int selected;       /* -1: none */
    gboolean busy;
    gboolean syncing; /* the pane is setting the drop-down */
    char *result_text;
};

G_DEFINE_FINAL_TYPE(ThawBnPane, thaw_bn_pane, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_SELECTED, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_REESTIMATE_REQUESTED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { STAT_BATCH_MEAN, STAT_BATCH_VAR, STAT_MOVING_MEAN, STAT_MOVING_VAR };

/* ---- data to the children */

static const float *stat(ThawBnPane *self, int which, int layer)
{
    return self->has_stats ? self->stats + which * self->total + self->offsets[layer] : NULL;
}

static void pane_update_plot(ThawBnPane *self)
{
    ThawBnPlot *plot = THAW_BN_PLOT(self->plot);
    int l = self->selected;
    if (l < 0) {
        thaw_bn_plot_set_values(plot, 0, NULL);
        thaw_bn_plot_set_title(plot, NULL);
        thaw_bn_plot_set_placeholder(plot, "No BatchNorm layers");
        return;
    }
    const float *v[THAW_BN_N_SERIES];
    v[THAW_BN_MOVING_MEAN] = stat(self, STAT_MOVING_MEAN, l);
    v[THAW_BN_MOVING_VAR] = stat(self, STAT_MOVING_VAR, l);
    v[THAW_BN_BATCH_MEAN] = stat(self, STAT_BATCH_MEAN, l);
    v[THAW_BN_BATCH_VAR] = stat(self, STAT_BATCH_VAR, l);
    v[THAW_BN_REF_MEAN] = self->ref ? self->ref + self->offsets[l] : NULL;
    v[THAW_BN_REF_VAR] = self->ref ? self->ref + self->total + self->offsets[l] : NULL;
    thaw_bn_plot_set_values(plot, (guint)self->channels[l], v);
}

static void pane_update_title(ThawBnPane *self)
{
    if (self->selected < 0) return;
    char *title = g_strdup_printf("%s · %d channels", self->names[self->selected],
                                  self->channels[self->selected]);
    thaw_bn_plot_set_title(THAW_BN_PLOT(self->plot), title);
    thaw_bn_plot_set_placeholder(THAW_BN_PLOT(self->plot), "Run a training step to see the "
                                                           "statistics");
    g_free(title);
}

static void pane_update_actions(ThawBnPane *self)
{
    gboolean enabled = self->n_layers > 0 && !self->busy;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "bn.reestimate", enabled);
}

/* d_l of thaw-bn-pane.h for every layer, from the stats just pushed. */
static void pane_compute_drift(ThawBnPane *self)
{
    const float *mm = self->stats + STAT_MOVING_MEAN * self->total;
    const float *mv = self->stats + STAT_MOVING_VAR * self->total;
    for (int l = 0; l < self->n_layers; l++) {
        if (!self->ref) {
            self->drift[l] = NAN;
            continue;
        }
        const float *rm = self->ref, *rv = self->ref + self->total;
        double num = 0.0, den = 0.0;
        for (size_t c = self->offsets[l]; c < self->offsets[l] + self->channels[l]; c++) {
            num += fabs((double)mm[c] - rm[c]) + fabs((double)mv[c] - rv[c]);
            den += fabs((double)rm[c]) + fabs((double)rv[c]);
        }
        self->drift[l] = den > 0.0 ? num / den : isnan(num) ? NAN : 0.0;
    }
}

/* ---- signal handlers */

static void on_drop_down_selected(GObject *dd, GParamSpec *pspec, gpointer data)
{
    ThawBnPane *self = data;
    if (self->syncing) return;
    guint pos = gtk_drop_down_get_selected(GTK_DROP_DOWN(dd));
    if (pos == GTK_INVALID_LIST_POSITION || (int)pos >= self->n_layers) return;
    thaw_bn_pane_select(self, (int)pos);
}

static void on_row_activated(ThawDriftMap *map, int row, gpointer data)
{
    thaw_bn_pane_select(data, row);
}

static void action_reestimate(GtkWidget *widget, const char *name, GVariant *param)
{
    g_signal_emit(widget, signals[SIGNAL_REESTIMATE_REQUESTED], 0);
}

/* ---- drawing (export) */

void thaw_bn_pane_draw(ThawBnPane *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    if (width <= 0 || height <= 0) return;
    double y = 0.0;
    cairo_save(cr);
    if (self->result_text && *self->result_text) {
        GdkRGBA fg;
        gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
        PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
        int w, h;
        char *text = g_strdup_printf("Running statistics re-estimated: %s", self->result_text);
        thaw_draw_text_set(pl, THAW_TEXT_NORMAL, text, &w, &h);
        thaw_draw_text_fit(pl, width - 2 * PAD, PANGO_ELLIPSIZE_END, &w);
        thaw_draw_set_color(cr, &fg, 0.85);
        thaw_draw_text_show(cr, pl, PAD, PAD, 0.0);
        g_free(text);
        g_object_unref(pl);
        y = h + PAD;
    }
    /* As on screen: the plot's share of the height the two have there. */
    int ph = gtk_widget_get_height(self->plot), mh = gtk_widget_get_height(self->map);
    double share = ph > 0 && mh > 0 ? (double)ph / (ph + mh) : 0.55;
    int plot_h = (int)round((height - y) * share);
    cairo_translate(cr, 0.0, y);
    thaw_bn_plot_draw(THAW_BN_PLOT(self->plot), cr, width, plot_h);
    cairo_translate(cr, 0.0, plot_h);
    thaw_drift_map_draw(THAW_DRIFT_MAP(self->map), cr, width, (int)(height - y) - plot_h);
    cairo_restore(cr);
}

/* ---- GObject / GtkWidget */

static void thaw_bn_pane_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    ThawBnPane *self = THAW_BN_PANE(object);
    switch (id) {
    case PROP_SELECTED:
        g_value_set_int(value, self->selected);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_bn_pane_set_property(GObject *object, guint id, const GValue *value,
                                      GParamSpec *pspec)
{
    ThawBnPane *self = THAW_BN_PANE(object);
    switch (id) {
    case PROP_SELECTED:
        thaw_bn_pane_select(self, g_value_get_int(value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_bn_pane_dispose(GObject *object)
{
    ThawBnPane *self = THAW_BN_PANE(object);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self)))) gtk_widget_unparent(child);
    self->controls = self->drop_down = self->button = self->spinner = NULL;
    self->result_label = self->plot = self->map = NULL;
    G_OBJECT_CLASS(thaw_bn_pane_parent_class)->dispose(object);
}

static void pane_free_data(ThawBnPane *self)
{
    g_clear_pointer(&self->names, g_strfreev);
    g_clear_pointer(&self->channels, g_free);
    g_clear_pointer(&self->offsets, g_free);
    g_clear_pointer(&self->ref, g_free);
    g_clear_pointer(&self->stats, g_free);
    g_clear_pointer(&self->drift, g_free);
    self->n_layers = 0;
    self->total = 0;
    self->has_stats = FALSE;
}

static void thaw_bn_pane_finalize(GObject *object)
{
    ThawBnPane *self = THAW_BN_PANE(object);
    pane_free_data(self);
    g_free(self->result_text);
    G_OBJECT_CLASS(thaw_bn_pane_parent_class)->finalize(object);
}

static void thaw_bn_pane_class_init(ThawBnPaneClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->get_property = thaw_bn_pane_get_property;
    object_class->set_property = thaw_bn_pane_set_property;
    object_class->dispose = thaw_bn_pane_dispose;
    object_class->finalize = thaw_bn_pane_finalize;

    props[PROP_SELECTED] =
        g_param_spec_int("selected", NULL, NULL, -1, G_MAXINT, -1,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);

    /* ::reestimate-requested(): the user asked to re-estimate the running
     * statistics (the engine's work; the pane only shows the outcome). */
    signals[SIGNAL_REESTIMATE_REQUESTED] =
        g_signal_new("reestimate-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_install_action(widget_class, "bn.reestimate", NULL, action_reestimate);

    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BOX_LAYOUT);
    gtk_widget_class_set_css_name(widget_class, "thaw-bn-pane");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void thaw_bn_pane_init(ThawBnPane *self)
{
    self->selected = -1;
    self->names = g_new0(char *, 1);
    self->result_text = g_strdup("");
    GtkLayoutManager *layout = gtk_widget_get_layout_manager(GTK_WIDGET(self));
    gtk_orientable_set_orientation(GTK_ORIENTABLE(layout), GTK_ORIENTATION_VERTICAL);
    gtk_box_layout_set_spacing(GTK_BOX_LAYOUT(layout), 6);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "BatchNorm statistics", -1);

    /* The control row. */
    self->controls = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_widget_add_css_class(self->controls, "bn-controls");
    gtk_widget_set_margin_start(self->controls, 6);
    gtk_widget_set_margin_end(self->controls, 6);
    gtk_widget_set_margin_top(self->controls, 6);
    gtk_widget_set_parent(self->controls, GTK_WIDGET(self));

    GtkWidget *label = gtk_label_new("Layer");
    gtk_box_append(GTK_BOX(self->controls), label);
    GtkExpression *expr = gtk_property_expression_new(GTK_TYPE_STRING_OBJECT, NULL, "string");
    self->drop_down = gtk_drop_down_new(NULL, expr);
    gtk_drop_down_set_enable_search(GTK_DROP_DOWN(self->drop_down), TRUE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->drop_down), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "BatchNorm layer", -1);
    gtk_widget_set_tooltip_text(self->drop_down, "The BatchNorm layer whose channels are shown "
                                                 "(or click its row in the drift map)");
    g_signal_connect_object(self->drop_down, "notify::selected", G_CALLBACK(on_drop_down_selected),
                            self, 0);
    gtk_box_append(GTK_BOX(self->controls), self->drop_down);

    self->button = gtk_button_new_with_label("Re-estimate running statistics");
    gtk_actionable_set_action_name(GTK_ACTIONABLE(self->button), "bn.reestimate");
    gtk_widget_set_tooltip_text(
        self->button,
        "Recompute every BatchNorm layer's running mean and variance from scratch: the training "
        "images go through the model in training mode, without updating any weight, and each "
        "layer keeps the plain average of the batch statistics -- PyTorch's momentum=None "
        "cumulative average (what torch.optim.swa_utils.update_bn does). Fixes running "
        "statistics that no longer match the weights.");
    gtk_widget_set_margin_start(self->button, 12);
    gtk_box_append(GTK_BOX(self->controls), self->button);

    self->spinner = gtk_spinner_new();
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Re-estimating running statistics", -1);
    gtk_widget_set_visible(self->spinner, FALSE);
    gtk_box_append(GTK_BOX(self->controls), self->spinner);

    self->result_label = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(self->result_label), 0.0f);
    gtk_label_set_ellipsize(GTK_LABEL(self->result_label), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(self->result_label, TRUE);
    gtk_widget_add_css_class(self->result_label, "reestimate-result");
    gtk_widget_set_tooltip_text(self->result_label,
                                "Accuracy on the validation images in inference mode "
                                "(training=False), before and after the re-estimation");
    gtk_box_append(GTK_BOX(self->controls), self->result_label);

    /* The plots. */
    self->plot = thaw_bn_plot_new();
    gtk_widget_set_vexpand(self->plot, TRUE);
    gtk_widget_set_hexpand(self->plot, TRUE);
    gtk_widget_set_parent(self->plot, GTK_WIDGET(self));
    self->map = thaw_drift_map_new();
    gtk_widget_set_vexpand(self->map, TRUE);
    gtk_widget_set_hexpand(self->map, TRUE);
    gtk_widget_set_parent(self->map, GTK_WIDGET(self));
    g_signal_connect_object(self->map, "row-activated", G_CALLBACK(on_row_activated), self, 0);

    pane_update_plot(self);
    pane_update_actions(self);
}

/* ---- public API */

GtkWidget *thaw_bn_pane_new(void)
{
    return g_object_new(THAW_TYPE_BN_PANE, NULL);
}

void thaw_bn_pane_set_layers(ThawBnPane *self, int n, const char *const *names, const int *channels)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    g_return_if_fail(n >= 0 && (n == 0 || (names && channels)));
    for (int l = 0; l < n; l++) g_return_if_fail(channels[l] > 0);
    int old = self->selected;
    pane_free_data(self);
    self->n_layers = n;
    self->names = g_new0(char *, n + 1);
    self->channels = g_new(int, MAX(n, 1));
    self->offsets = g_new(size_t, MAX(n, 1));
    self->drift = g_new(double, MAX(n, 1));
    for (int l = 0; l < n; l++) {
        self->names[l] = g_strdup(names[l] ? names[l] : "");
        self->channels[l] = channels[l];
        self->offsets[l] = self->total;
        self->total += channels[l];
    }
    self->stats = g_new(float, 4 * MAX(self->total, 1));
    self->selected = n > 0 ? 0 : -1;

    self->syncing = TRUE;
    GtkStringList *list = gtk_string_list_new((const char *const *)self->names);
    gtk_drop_down_set_model(GTK_DROP_DOWN(self->drop_down), G_LIST_MODEL(list));
    g_object_unref(list);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->drop_down),
                               n > 0 ? 0u : GTK_INVALID_LIST_POSITION);
    self->syncing = FALSE;

    thaw_drift_map_set_rows(THAW_DRIFT_MAP(self->map), n, (const char *const *)self->names);
    thaw_drift_map_set_selected(THAW_DRIFT_MAP(self->map), self->selected);
    thaw_bn_pane_set_reestimate_result(self, NAN, NAN);
    pane_update_title(self);
    pane_update_plot(self);
    pane_update_actions(self);
    if (old != self->selected) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SELECTED]);
}

int thaw_bn_pane_get_n_layers(ThawBnPane *self)
{
    g_return_val_if_fail(THAW_IS_BN_PANE(self), 0);
    return self->n_layers;
}

void thaw_bn_pane_set_reference(ThawBnPane *self, const float *mean, const float *var)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    g_return_if_fail((mean == NULL) == (var == NULL));
    if (!mean || self->total == 0) {
        g_clear_pointer(&self->ref, g_free);
    } else {
        if (!self->ref) self->ref = g_new(float, 2 * self->total);
        memcpy(self->ref, mean, self->total * sizeof *self->ref);
        memcpy(self->ref + self->total, var, self->total * sizeof *self->ref);
    }
    pane_update_plot(self);
}

void thaw_bn_pane_push(ThawBnPane *self, guint64 step, const float *batch_mean,
                       const float *batch_var, const float *moving_mean, const float *moving_var)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    if (self->n_layers == 0) return;
    g_return_if_fail(batch_mean && batch_var && moving_mean && moving_var);
    const float *src[4] = {batch_mean, batch_var, moving_mean, moving_var};
    for (int i = 0; i < 4; i++)
        memcpy(self->stats + i * self->total, src[i], self->total * sizeof *self->stats);
    self->has_stats = TRUE;
    pane_compute_drift(self);
    thaw_drift_map_append(THAW_DRIFT_MAP(self->map), step, self->drift);
    pane_update_plot(self);
}

void thaw_bn_pane_clear_history(ThawBnPane *self)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    thaw_drift_map_clear(THAW_DRIFT_MAP(self->map));
    if (!self->has_stats) return;
    self->has_stats = FALSE;
    pane_update_plot(self);
}

void thaw_bn_pane_select(ThawBnPane *self, int layer)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    g_return_if_fail(layer >= -1 && layer < self->n_layers);
    if (layer == self->selected) return;
    self->selected = layer;
    self->syncing = TRUE;
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->drop_down),
                               layer >= 0 ? (guint)layer : GTK_INVALID_LIST_POSITION);
    self->syncing = FALSE;
    thaw_drift_map_set_selected(THAW_DRIFT_MAP(self->map), layer);
    pane_update_title(self);
    pane_update_plot(self);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SELECTED]);
}

int thaw_bn_pane_get_selected(ThawBnPane *self)
{
    g_return_val_if_fail(THAW_IS_BN_PANE(self), -1);
    return self->selected;
}

guint thaw_bn_pane_get_n_channels_shown(ThawBnPane *self)
{
    g_return_val_if_fail(THAW_IS_BN_PANE(self), 0);
    return thaw_bn_plot_get_n_channels(THAW_BN_PLOT(self->plot));
}

double thaw_bn_pane_get_drift(ThawBnPane *self, int layer, guint column)
{
    g_return_val_if_fail(THAW_IS_BN_PANE(self), NAN);
    return thaw_drift_map_get_value(THAW_DRIFT_MAP(self->map), layer, column);
}

guint thaw_bn_pane_get_n_columns(ThawBnPane *self)
{
    g_return_val_if_fail(THAW_IS_BN_PANE(self), 0);
    return thaw_drift_map_get_n_columns(THAW_DRIFT_MAP(self->map));
}

void thaw_bn_pane_set_reestimate_result(ThawBnPane *self, double before, double after)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    g_free(self->result_text);
    if (isfinite(before) && isfinite(after))
        self->result_text = g_strdup_printf("inference-mode accuracy %.1f%% → %.1f%%",
                                            100.0 * before, 100.0 * after);
    else if (isfinite(after))
        self->result_text = g_strdup_printf("inference-mode accuracy after: %.1f%%", 100.0 * after);
    else if (isfinite(before))
        self->result_text =
            g_strdup_printf("inference-mode accuracy before: %.1f%%", 100.0 * before);
    else
        self->result_text = g_strdup("");
    gtk_label_set_label(GTK_LABEL(self->result_label), self->result_text);
}

const char *thaw_bn_pane_get_result_text(ThawBnPane *self)
{
    g_return_val_if_fail(THAW_IS_BN_PANE(self), NULL);
    return self->result_text;
}

void thaw_bn_pane_set_busy(ThawBnPane *self, gboolean busy)
{
    g_return_if_fail(THAW_IS_BN_PANE(self));
    busy = !!busy;
    if (busy == self->busy) return;
    self->busy = busy;
    gtk_widget_set_visible(self->spinner, busy);
    gtk_spinner_set_spinning(GTK_SPINNER(self->spinner), busy);
    pane_update_actions(self);
}
