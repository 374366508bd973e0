/* ThawPredictionsPane: see thaw-predictions-pane.h.
 *
 * Widgets: the pane has one child, a vertical box holding the top row
 * (summary label, "Disagreements first", page controls, "Predict again"),
 * the empty-state label and a scrolled column with the cards' GtkFlowBox
 * and the per-class GtkGrid. (A strip plot of the dropout spread can go
 * between the two later: the column is a plain vertical box.)
 *
 * Data: set_data copies the pixels (as bytes), labels, names and both
 * probability matrices, then derives everything else once: each image's
 * top-1 in both modes and its |Δp| (the order's keys), the summary, the
 * per-class counts and the order. A page change only rebuilds the cards of
 * that page (at most one page of widgets exists).
 *
 * The drawn export (thaw_predictions_pane_draw) is in
 * thaw-predictions-pane-draw.c; both see the struct through
 * thaw-predictions-pane-private.h. */
#include "thaw-predictions-pane.h"

#include <math.h>
#include <string.h>

#include "thaw-prediction-card.h"
#include "thaw-predictions-pane-private.h"

static const int PAGE_SIZES[] = {12, 24, 48};

G_DEFINE_FINAL_TYPE(ThawPredictionsPane, thaw_predictions_pane, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_PAGE_SIZE, PROP_PAGE, PROP_DISAGREEMENTS_FIRST, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_REFRESH_REQUESTED, SIGNAL_IMAGE_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char SUMMARY_TOOLTIP[] =
    "Accuracy: share of the images whose top-1 class is the true one, with training=True "
    "(batch statistics, dropout on) and with training=False (running statistics, dropout "
    "off).\n"
    "Disagree: share of the images whose top-1 class differs between the two modes.\n"
    "Mean |Δp|: the mean over the images of |p(true class | training=True) − p(true class | "
    "training=False)|, how far the probability of the right answer moves between the modes.";

const char thaw_predictions_pane_empty_text[] =
    "No predictions yet: press Predict again to run the model on "
    "the validation images in both modes";

/* ------------------------------------------------------------------ data */

static void pane_free_data(ThawPredictionsPane *self)
{
    g_clear_pointer(&self->pixels, g_free);
    g_clear_pointer(&self->labels, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    for (int m = 0; m < 2; m++) {
        g_clear_pointer(&self->p[m], g_free);
        g_clear_pointer(&self->top[m], g_free);
    }
    g_clear_pointer(&self->dp, g_free);
    g_clear_pointer(&self->order, g_free);
    g_clear_pointer(&self->class_stats, g_free);
    self->n = self->h = self->w = self->c = self->k = 0;
    memset(&self->summary, 0, sizeof self->summary);
}

static gboolean image_disagrees(ThawPredictionsPane *self, int i)
{
    return self->top[0][i] != self->top[1][i];
}

static int compare_disagreements_first(gconstpointer a, gconstpointer b, gpointer data)
{
    ThawPredictionsPane *self = data;
    int i = *(const int *)a, j = *(const int *)b;
    int di = image_disagrees(self, i), dj = image_disagrees(self, j);
    if (di != dj) return dj - di;
    if (self->dp[i] != self->dp[j]) return self->dp[i] > self->dp[j] ? -1 : 1;
    return i - j;
}

static void pane_sort(ThawPredictionsPane *self)
{
    for (int i = 0; i < self->n; i++) self->order[i] = i;
    if (self->disagreements_first && self->n > 1)
        g_qsort_with_data(self->order, self->n, sizeof(int), compare_disagreements_first, self);
}

/* Top-1s, |Δp|, the summary, the per-class counts and the summary text. */
static void pane_derive(ThawPredictionsPane *self)
{
    int n = self->n, k = self->k, correct[2] = {0, 0};
    double dp_sum = 0.0;
    memset(&self->summary, 0, sizeof self->summary);
    for (int i = 0; i < n; i++) {
        int y = self->labels[i];
        ThawPredictionClassStats *cs = &self->class_stats[y];
        cs->n++;
        for (int m = 0; m < 2; m++) {
            self->top[m][i] = thaw_prediction_argmax(self->p[m] + (size_t)i * k, k);
            correct[m] += self->top[m][i] == y;
        }
        cs->correct_train += self->top[0][i] == y;
        cs->correct_infer += self->top[1][i] == y;
        if (image_disagrees(self, i)) cs->disagree++, self->summary.n_disagree++;
        float a = self->p[0][(size_t)i * k + y], b = self->p[1][(size_t)i * k + y];
        self->dp[i] = fabsf((isnan(a) ? 0.0f : a) - (isnan(b) ? 0.0f : b));
        dp_sum += self->dp[i];
    }
    self->summary.n = n;
    if (n > 0) {
        self->summary.acc_train = (double)correct[0] / n;
        self->summary.acc_infer = (double)correct[1] / n;
        self->summary.disagree_rate = (double)self->summary.n_disagree / n;
        self->summary.mean_abs_dp = dp_sum / n;
    }
    g_free(self->summary_text);
    if (n == 0)
        self->summary_text = g_strdup("No predictions yet");
    else
        self->summary_text = g_strdup_printf(
            "training=True %.1f%% · training=False %.1f%% · disagree %.1f%% · mean |Δp| %.2f",
            100.0 * self->summary.acc_train, 100.0 * self->summary.acc_infer,
            100.0 * self->summary.disagree_rate, self->summary.mean_abs_dp);
}

/* ---------------------------------------------------------------- the view */

static int pane_n_pages(ThawPredictionsPane *self)
{
    return (self->n + self->page_size - 1) / self->page_size;
}

static int pane_clamp_page(ThawPredictionsPane *self, int page)
{
    return CLAMP(page, 0, MAX(pane_n_pages(self) - 1, 0));
}

static void flow_remove_all(GtkWidget *flow)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(flow)))
        gtk_flow_box_remove(GTK_FLOW_BOX(flow), child);
}

static void grid_remove_all(GtkWidget *grid)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(grid))) gtk_grid_remove(GTK_GRID(grid), child);
}

static GtkWidget *table_cell(GtkWidget *grid, const char *text, int col, int row, gboolean header)
{
    GtkWidget *label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), col == 0 ? 0.0f : 1.0f);
    if (header) gtk_widget_add_css_class(label, "heading");
    if (!header && col > 0) gtk_widget_add_css_class(label, "numeric");
    gtk_grid_attach(GTK_GRID(grid), label, col, row, 1, 1);
    return label;
}

const char *const thaw_predictions_pane_table_headers[5] = {"Class", "Images", "training=True",
                                                            "training=False", "Disagree"};

void thaw_predictions_pane_class_row(ThawPredictionsPane *self, int cls, char cells[4][32])
{
    const ThawPredictionClassStats *cs = &self->class_stats[cls];
    g_snprintf(cells[0], 32, "%d", cs->n);
    if (cs->n > 0) {
        g_snprintf(cells[1], 32, "%.1f%%", 100.0 * cs->correct_train / cs->n);
        g_snprintf(cells[2], 32, "%.1f%%", 100.0 * cs->correct_infer / cs->n);
    } else {
        g_strlcpy(cells[1], "–", 32);
        g_strlcpy(cells[2], "–", 32);
    }
    g_snprintf(cells[3], 32, "%d", cs->disagree);
}

static void pane_rebuild_table(ThawPredictionsPane *self)
{
    grid_remove_all(self->table);
    if (self->n == 0) return;
    for (int col = 0; col < 5; col++)
        table_cell(self->table, thaw_predictions_pane_table_headers[col], col, 0, TRUE);
    for (int cls = 0; cls < self->k; cls++) {
        char cells[4][32];
        thaw_predictions_pane_class_row(self, cls, cells);
        table_cell(self->table, self->names[cls], 0, cls + 1, FALSE);
        for (int col = 1; col < 5; col++)
            table_cell(self->table, cells[col - 1], col, cls + 1, FALSE);
    }
}

/* The cards of the current page, the page controls and what is visible. */
static void pane_update_page(ThawPredictionsPane *self)
{
    flow_remove_all(self->flow);
    g_ptr_array_set_size(self->cards, 0);
    int first = self->page * self->page_size;
    int last = MIN(first + self->page_size, self->n);
    for (int s = first; s < last; s++) {
        int i = self->order[s];
        GtkWidget *card = thaw_prediction_card_new();
        thaw_prediction_card_set(THAW_PREDICTION_CARD(card), i, self->h, self->w, self->c,
                                 self->pixels + (size_t)i * self->h * self->w * self->c,
                                 self->labels[i], self->k, (const char *const *)self->names,
                                 self->p[0] + (size_t)i * self->k,
                                 self->p[1] + (size_t)i * self->k);
        g_ptr_array_add(self->cards, g_object_ref(card));
        gtk_flow_box_append(GTK_FLOW_BOX(self->flow), card);
    }

    int n_pages = pane_n_pages(self);
    char text[64];
    g_snprintf(text, sizeof text, "Page %d of %d", n_pages ? self->page + 1 : 0, n_pages);
    gtk_label_set_text(GTK_LABEL(self->page_label), text);
    gtk_widget_set_sensitive(self->prev, self->page > 0);
    gtk_widget_set_sensitive(self->next, self->page + 1 < n_pages);
    gtk_widget_set_visible(self->empty_label, self->n == 0);
    gtk_widget_set_visible(self->scrolled, self->n > 0);
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(self->scrolled));
    gtk_adjustment_set_value(adj, gtk_adjustment_get_lower(adj));
}

static void pane_update_summary(ThawPredictionsPane *self)
{
    gtk_label_set_text(GTK_LABEL(self->summary_label), self->summary_text);
    gtk_widget_set_sensitive(self->check, self->n > 0);
}

static void pane_set_page_internal(ThawPredictionsPane *self, int page)
{
    if (page == self->page) return;
    self->page = page;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PAGE]);
}

/* ------------------------------------------------------------- public API */

GtkWidget *thaw_predictions_pane_new(void)
{
    return g_object_new(THAW_TYPE_PREDICTIONS_PANE, NULL);
}

static uint8_t pixel_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* also NaN */
    return v >= 255.0f ? 255 : (uint8_t)lrintf(v);
}

void thaw_predictions_pane_set_data(ThawPredictionsPane *self, int n, int h, int w, int c,
                                    const float *pixels, const int32_t *labels, int k,
                                    const char *const *class_names, const float *probs_train,
                                    const float *probs_infer)
{
    g_return_if_fail(THAW_IS_PREDICTIONS_PANE(self));
    g_return_if_fail(n >= 0);
    if (n == 0) {
        thaw_predictions_pane_clear(self);
        return;
    }
    g_return_if_fail(h > 0 && w > 0 && (c == 1 || c == 3) && k > 0);
    g_return_if_fail(pixels && labels && class_names && probs_train && probs_infer);
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k) {
            g_critical("%s: label %d of image %d is outside 0..%d", G_STRFUNC, labels[i], i, k - 1);
            return;
        }
    }

    pane_free_data(self);
    size_t px = (size_t)n * h * w * c, nk = (size_t)n * k;
    self->n = n, self->h = h, self->w = w, self->c = c, self->k = k;
    self->pixels = g_malloc(px);
    for (size_t i = 0; i < px; i++) self->pixels[i] = pixel_byte(pixels[i]);
    self->labels = g_memdup2(labels, n * sizeof *labels);
    self->names = g_new0(char *, k + 1);
    for (int i = 0; i < k; i++) self->names[i] = g_strdup(class_names[i] ? class_names[i] : "?");
    self->p[0] = g_memdup2(probs_train, nk * sizeof(float));
    self->p[1] = g_memdup2(probs_infer, nk * sizeof(float));
    self->top[0] = g_new(int, n);
    self->top[1] = g_new(int, n);
    self->dp = g_new(float, n);
    self->order = g_new(int, n);
    self->class_stats = g_new0(ThawPredictionClassStats, k);
    pane_derive(self);
    pane_sort(self);

    pane_set_page_internal(self, pane_clamp_page(self, self->page));
    pane_update_summary(self);
    pane_rebuild_table(self);
    pane_update_page(self);
}

void thaw_predictions_pane_clear(ThawPredictionsPane *self)
{
    g_return_if_fail(THAW_IS_PREDICTIONS_PANE(self));
    pane_free_data(self);
    pane_derive(self);
    pane_set_page_internal(self, 0);
    pane_update_summary(self);
    pane_rebuild_table(self);
    pane_update_page(self);
}

void thaw_predictions_pane_set_page_size(ThawPredictionsPane *self, int page_size)
{
    g_return_if_fail(THAW_IS_PREDICTIONS_PANE(self));
    g_return_if_fail(page_size >= 1);
    if (page_size == self->page_size) return;
    int first = self->page * self->page_size; /* stays on the page shown */
    self->page_size = page_size;
    pane_set_page_internal(self, pane_clamp_page(self, first / page_size));
    pane_update_page(self);
    /* the drop-down follows (its ::notify comes back here as a no-op) */
    for (guint i = 0; i < G_N_ELEMENTS(PAGE_SIZES); i++)
        if (PAGE_SIZES[i] == page_size)
            gtk_drop_down_set_selected(GTK_DROP_DOWN(self->page_size_dd), i);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PAGE_SIZE]);
}

int thaw_predictions_pane_get_page_size(ThawPredictionsPane *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), 0);
    return self->page_size;
}

void thaw_predictions_pane_set_page(ThawPredictionsPane *self, int page)
{
    g_return_if_fail(THAW_IS_PREDICTIONS_PANE(self));
    page = pane_clamp_page(self, page);
    if (page == self->page) return;
    pane_set_page_internal(self, page);
    pane_update_page(self);
}

int thaw_predictions_pane_get_page(ThawPredictionsPane *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), 0);
    return self->page;
}

int thaw_predictions_pane_get_n_pages(ThawPredictionsPane *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), 0);
    return pane_n_pages(self);
}

void thaw_predictions_pane_set_disagreements_first(ThawPredictionsPane *self, gboolean on)
{
    g_return_if_fail(THAW_IS_PREDICTIONS_PANE(self));
    on = !!on;
    if (on == self->disagreements_first) return;
    self->disagreements_first = on;
    gtk_check_button_set_active(GTK_CHECK_BUTTON(self->check), on); /* toggled: a no-op now */
    pane_sort(self);
    pane_set_page_internal(self, 0);
    pane_update_page(self);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DISAGREEMENTS_FIRST]);
}

gboolean thaw_predictions_pane_get_disagreements_first(ThawPredictionsPane *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), FALSE);
    return self->disagreements_first;
}

int thaw_predictions_pane_get_shown(ThawPredictionsPane *self, int i)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), -1);
    int s = self->page * self->page_size + i;
    if (i < 0 || i >= self->page_size || s >= self->n) return -1;
    return self->order[s];
}

ThawPredictionSummary thaw_predictions_pane_get_summary(ThawPredictionsPane *self)
{
    ThawPredictionSummary zero = {0};
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), zero);
    return self->summary;
}

gboolean thaw_predictions_pane_get_class_stats(ThawPredictionsPane *self, int cls,
                                               ThawPredictionClassStats *out)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self) && out, FALSE);
    memset(out, 0, sizeof *out);
    if (cls < 0 || cls >= self->k) return FALSE;
    *out = self->class_stats[cls];
    return TRUE;
}

const char *thaw_predictions_pane_get_summary_text(ThawPredictionsPane *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTIONS_PANE(self), NULL);
    return self->summary_text;
}

/* ---------------------------------------------------------------- signals */

static void on_check_toggled(GtkCheckButton *check, ThawPredictionsPane *self)
{
    thaw_predictions_pane_set_disagreements_first(self, gtk_check_button_get_active(check));
}

static void on_page_size_selected(GtkDropDown *dd, GParamSpec *pspec, ThawPredictionsPane *self)
{
    guint i = gtk_drop_down_get_selected(dd);
    if (i < G_N_ELEMENTS(PAGE_SIZES)) thaw_predictions_pane_set_page_size(self, PAGE_SIZES[i]);
}

static void on_prev_clicked(GtkButton *button, ThawPredictionsPane *self)
{
    thaw_predictions_pane_set_page(self, self->page - 1);
}

static void on_next_clicked(GtkButton *button, ThawPredictionsPane *self)
{
    thaw_predictions_pane_set_page(self, self->page + 1);
}

static void on_refresh_clicked(GtkButton *button, ThawPredictionsPane *self)
{
    g_signal_emit(self, signals[SIGNAL_REFRESH_REQUESTED], 0);
}

static void on_child_activated(GtkFlowBox *flow, GtkFlowBoxChild *child, ThawPredictionsPane *self)
{
    GtkWidget *card = gtk_flow_box_child_get_child(child);
    if (!THAW_IS_PREDICTION_CARD(card)) return;
    g_signal_emit(self, signals[SIGNAL_IMAGE_ACTIVATED], 0,
                  thaw_prediction_card_get_index(THAW_PREDICTION_CARD(card)));
}

/* ---------------------------------------------------------------- GObject */

static void thaw_predictions_pane_get_property(GObject *object, guint id, GValue *value,
                                               GParamSpec *pspec)
{
    ThawPredictionsPane *self = THAW_PREDICTIONS_PANE(object);
    switch (id) {
    case PROP_PAGE_SIZE:
        g_value_set_int(value, self->page_size);
        break;
    case PROP_PAGE:
        g_value_set_int(value, self->page);
        break;
    case PROP_DISAGREEMENTS_FIRST:
        g_value_set_boolean(value, self->disagreements_first);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_predictions_pane_set_property(GObject *object, guint id, const GValue *value,
                                               GParamSpec *pspec)
{
    ThawPredictionsPane *self = THAW_PREDICTIONS_PANE(object);
    switch (id) {
    case PROP_PAGE_SIZE:
        thaw_predictions_pane_set_page_size(self, g_value_get_int(value));
        break;
    case PROP_PAGE:
        thaw_predictions_pane_set_page(self, g_value_get_int(value));
        break;
    case PROP_DISAGREEMENTS_FIRST:
        thaw_predictions_pane_set_disagreements_first(self, g_value_get_boolean(value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_predictions_pane_dispose(GObject *object)
{
    ThawPredictionsPane *self = THAW_PREDICTIONS_PANE(object);
    if (self->cards) g_ptr_array_set_size(self->cards, 0);
    g_clear_pointer(&self->box, gtk_widget_unparent);
    G_OBJECT_CLASS(thaw_predictions_pane_parent_class)->dispose(object);
}

static void thaw_predictions_pane_finalize(GObject *object)
{
    ThawPredictionsPane *self = THAW_PREDICTIONS_PANE(object);
    pane_free_data(self);
    g_clear_pointer(&self->cards, g_ptr_array_unref);
    g_free(self->summary_text);
    G_OBJECT_CLASS(thaw_predictions_pane_parent_class)->finalize(object);
}

static void thaw_predictions_pane_class_init(ThawPredictionsPaneClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->get_property = thaw_predictions_pane_get_property;
    object_class->set_property = thaw_predictions_pane_set_property;
    object_class->dispose = thaw_predictions_pane_dispose;
    object_class->finalize = thaw_predictions_pane_finalize;

    GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
    props[PROP_PAGE_SIZE] = g_param_spec_int("page-size", NULL, NULL, 1, G_MAXINT, 24, flags);
    props[PROP_PAGE] = g_param_spec_int("page", NULL, NULL, 0, G_MAXINT, 0, flags);
    props[PROP_DISAGREEMENTS_FIRST] =
        g_param_spec_boolean("disagreements-first", NULL, NULL, FALSE, flags);
    g_object_class_install_properties(object_class, N_PROPS, props);

    signals[SIGNAL_REFRESH_REQUESTED] =
        g_signal_new("refresh-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_IMAGE_ACTIVATED] =
        g_signal_new("image-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT);

    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(widget_class, "thaw-predictions-pane");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void set_label(GtkWidget *widget, const char *label)
{
    gtk_accessible_update_property(GTK_ACCESSIBLE(widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                   -1);
}

static GtkWidget *icon_button(const char *icon, const char *label)
{
    GtkWidget *button = gtk_button_new_from_icon_name(icon);
    set_label(button, label);
    gtk_widget_set_tooltip_text(button, label);
    return button;
}

static void build_top_row(ThawPredictionsPane *self)
{
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_widget_add_css_class(row, "predictions-bar");

    self->summary_label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(self->summary_label), 0.0f);
    gtk_label_set_ellipsize(GTK_LABEL(self->summary_label), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(self->summary_label, TRUE);
    gtk_widget_set_tooltip_text(self->summary_label, SUMMARY_TOOLTIP);
    gtk_widget_add_css_class(self->summary_label, "summary");
    /* The summary is the lesson: a line of its own, never cut short. */
    gtk_label_set_ellipsize(GTK_LABEL(self->summary_label), PANGO_ELLIPSIZE_NONE);
    gtk_label_set_wrap(GTK_LABEL(self->summary_label), TRUE);
    gtk_box_append(GTK_BOX(self->box), self->summary_label);
    GtkWidget *spacer = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_widget_set_hexpand(spacer, TRUE);

    self->check = gtk_check_button_new_with_label("Disagreements first");
    gtk_widget_set_tooltip_text(self->check, "Show the images whose top-1 differs between the "
                                             "modes first, largest |Δp| first");
    g_signal_connect_object(self->check, "toggled", G_CALLBACK(on_check_toggled), self, 0);
    gtk_box_append(GTK_BOX(row), self->check);
    gtk_box_append(GTK_BOX(row), spacer);

    GtkWidget *pager = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    self->prev = icon_button("go-previous-symbolic", "Previous page");
    self->page_label = gtk_label_new(NULL);
    gtk_widget_add_css_class(self->page_label, "numeric");
    self->next = icon_button("go-next-symbolic", "Next page");
    g_signal_connect_object(self->prev, "clicked", G_CALLBACK(on_prev_clicked), self, 0);
    g_signal_connect_object(self->next, "clicked", G_CALLBACK(on_next_clicked), self, 0);
    const char *sizes[] = {"12 per page", "24 per page", "48 per page", NULL};
    self->page_size_dd = gtk_drop_down_new_from_strings(sizes);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->page_size_dd), 1);
    set_label(self->page_size_dd, "Images per page");
    g_signal_connect_object(self->page_size_dd, "notify::selected",
                            G_CALLBACK(on_page_size_selected), self, 0);
    gtk_box_append(GTK_BOX(pager), self->prev);
    gtk_box_append(GTK_BOX(pager), self->page_label);
    gtk_box_append(GTK_BOX(pager), self->next);
    gtk_box_append(GTK_BOX(pager), self->page_size_dd);
    gtk_box_append(GTK_BOX(row), pager);

    self->refresh = gtk_button_new_with_label("Predict again");
    gtk_widget_set_tooltip_text(self->refresh,
                                "Run the model on these images with training=True and with "
                                "training=False");
    g_signal_connect_object(self->refresh, "clicked", G_CALLBACK(on_refresh_clicked), self, 0);
    gtk_box_append(GTK_BOX(row), self->refresh);
    gtk_box_append(GTK_BOX(self->box), row);
}

static void thaw_predictions_pane_init(ThawPredictionsPane *self)
{
    self->page_size = 24;
    self->cards = g_ptr_array_new_with_free_func(g_object_unref);
    set_label(GTK_WIDGET(self), "Predictions in training and inference mode");

    self->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_margin_start(self->box, 6);
    gtk_widget_set_margin_end(self->box, 6);
    gtk_widget_set_margin_top(self->box, 6);
    gtk_widget_set_parent(self->box, GTK_WIDGET(self));
    build_top_row(self);

    self->empty_label = gtk_label_new(thaw_predictions_pane_empty_text);
    gtk_label_set_wrap(GTK_LABEL(self->empty_label), TRUE);
    gtk_label_set_justify(GTK_LABEL(self->empty_label), GTK_JUSTIFY_CENTER);
    gtk_widget_add_css_class(self->empty_label, "dim-label");
    gtk_widget_add_css_class(self->empty_label, "empty");
    gtk_widget_set_vexpand(self->empty_label, TRUE);
    gtk_box_append(GTK_BOX(self->box), self->empty_label);

    /* the cards, then the per-class table, scrolled together */
    GtkWidget *column = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    self->flow = gtk_flow_box_new();
    gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(self->flow), GTK_SELECTION_NONE);
    gtk_flow_box_set_activate_on_single_click(GTK_FLOW_BOX(self->flow), FALSE);
    gtk_flow_box_set_homogeneous(GTK_FLOW_BOX(self->flow), TRUE);
    gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(self->flow), 12);
    gtk_flow_box_set_row_spacing(GTK_FLOW_BOX(self->flow), 6);
    gtk_flow_box_set_column_spacing(GTK_FLOW_BOX(self->flow), 6);
    gtk_widget_set_valign(self->flow, GTK_ALIGN_START);
    set_label(self->flow, "Validation images");
    g_signal_connect_object(self->flow, "child-activated", G_CALLBACK(on_child_activated), self, 0);
    gtk_box_append(GTK_BOX(column), self->flow);

    self->table = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(self->table), 24);
    gtk_grid_set_row_spacing(GTK_GRID(self->table), 2);
    gtk_widget_set_halign(self->table, GTK_ALIGN_START);
    gtk_widget_set_margin_start(self->table, 6);
    gtk_widget_set_margin_bottom(self->table, 6);
    gtk_widget_add_css_class(self->table, "per-class");
    set_label(self->table, "Accuracy per class");
    gtk_box_append(GTK_BOX(column), self->table);

    self->scrolled = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(self->scrolled), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(self->scrolled), column);
    gtk_widget_set_vexpand(self->scrolled, TRUE);
    gtk_widget_set_hexpand(self->scrolled, TRUE);
    gtk_box_append(GTK_BOX(self->box), self->scrolled);

    pane_derive(self); /* the empty state's texts */
    pane_update_summary(self);
    pane_update_page(self);
}
