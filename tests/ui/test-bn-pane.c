/* ThawBnPane: layers and selection (drop-down, property, drift-map clicks),
 * drift values against the formula of thaw-bn-pane.h, the plot following the
 * latest push, the re-estimate button and result line, what drawing puts
 * into pixels, and a long run staying bounded. Runs under Xvfb
 * (tests/ui/run-under-xvfb.sh).
 *
 * Set THAW_BN_PANE_PNG=path to also write a screenshot of the example pane
 * (900x700, 21 layers, 300 pushes of growing drift), and
 * THAW_BN_PANE_EXPORT_PNG=path for thaw_bn_pane_draw() of it at 2x. */
#include <math.h>
#include <string.h>

#include <gtk/gtk.h>

#include "thaw-bn-pane.h"
#include "thaw-bn-plot.h"
#include "thaw-drift-map.h"

/* ------------------------------------------------------------- helpers */

static GtkWidget *find_type(GtkWidget *root, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(root, type)) return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_type(c, type);
        if (hit) return hit;
    }
    return NULL;
}

static GtkWidget *find_button(GtkWidget *root, const char *text)
{
    if (GTK_IS_BUTTON(root) && g_strcmp0(gtk_button_get_label(GTK_BUTTON(root)), text) == 0)
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_button(c, text);
        if (hit) return hit;
    }
    return NULL;
}

static GtkWidget *find_class(GtkWidget *root, const char *css_class)
{
    if (gtk_widget_has_css_class(root, css_class)) return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_class(c, css_class);
        if (hit) return hit;
    }
    return NULL;
}

static ThawBnPlot *pane_plot(ThawBnPane *pane)
{
    return THAW_BN_PLOT(find_type(GTK_WIDGET(pane), THAW_TYPE_BN_PLOT));
}

static ThawDriftMap *pane_map(ThawBnPane *pane)
{
    return THAW_DRIFT_MAP(find_type(GTK_WIDGET(pane), THAW_TYPE_DRIFT_MAP));
}

static GtkDropDown *pane_drop_down(ThawBnPane *pane)
{
    return GTK_DROP_DOWN(find_type(GTK_WIDGET(pane), GTK_TYPE_DROP_DOWN));
}

/* A pane in a window of a fixed size, laid out and drawn once. */
static GtkWidget *pane_window_new(int width, int height, ThawBnPane **pane)
{
    GtkWidget *window = gtk_window_new();
    *pane = THAW_BN_PANE(thaw_bn_pane_new());
    gtk_window_set_default_size(GTK_WINDOW(window), width, height);
    gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(*pane));
    gtk_window_present(GTK_WINDOW(window));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(*pane));
    return window;
}

static void on_after_paint(GdkFrameClock *clock, int *n)
{
    (*n)++;
}

/* Lays w out again and runs the main loop until its window painted once more. */
static void wait_for_layout(GtkWidget *w)
{
    gint64 end = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    while (!gtk_widget_get_mapped(w) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE);
    GdkFrameClock *clock = gtk_widget_get_frame_clock(w);
    g_assert_nonnull(clock);
    int n = 0;
    gulong id = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), &n);
    gtk_widget_queue_resize(w);
    while (n < 1 && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_signal_handler_disconnect(clock, id);
    g_assert_cmpint(n, >=, 1);
}

static void count_cb(gpointer instance, gpointer n)
{
    (*(int *)n)++;
}

static void count_notify(GObject *o, GParamSpec *p, gpointer n)
{
    (*(int *)n)++;
}

/* Three layers of 4, 8 and 16 channels: 28 floats per array. */
#define TOTAL 28
static const char *const names3[] = {"conv1_bn", "conv2_bn", "conv3_bn"};
static const int channels3[] = {4, 8, 16};
static const int offsets3[] = {0, 4, 12};

static void reference3(float *mean, float *var)
{
    for (int i = 0; i < TOTAL; i++) {
        mean[i] = 0.1f * (i % 5) - 0.2f;
        var[i] = 1.0f + 0.05f * i;
    }
}

/* The k-th snapshot: moving statistics k steps away from the reference. */
static void snapshot3(int k, const float *rm, const float *rv, float *bm, float *bv, float *mm,
                      float *mv)
{
    for (int i = 0; i < TOTAL; i++) {
        mm[i] = rm[i] + 0.01f * k * (i % 3 - 1) + (i == 20 ? 0.5f : 0.0f);
        mv[i] = rv[i] * (1.0f + 0.02f * k * (i % 2));
        bm[i] = mm[i] + 0.3f;
        bv[i] = 2.0f * mv[i];
    }
}

/* The drift of thaw-bn-pane.h, written out again. */
static double expected_drift(int off, int n, const float *rm, const float *rv, const float *mm,
                             const float *mv)
{
    double num = 0.0, den = 0.0;
    for (int c = off; c < off + n; c++) {
        num += fabs((double)mm[c] - (double)rm[c]);
        num += fabs((double)mv[c] - (double)rv[c]);
        den += fabs((double)rm[c]) + fabs((double)rv[c]);
    }
    return num / den;
}

/* Premultiplied ARGB32 pixel at (x, y): is it at least half covered and
 * within tol of (r, g, b)? */
static gboolean pixel_is(cairo_surface_t *s, int x, int y, int r, int g, int b, int tol)
{
    const guint8 *row = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s);
    guint32 p = ((const guint32 *)row)[x];
    int a = p >> 24;
    if (a < 128) return FALSE;
    int pr = ((p >> 16) & 0xff) * 255 / a, pg = ((p >> 8) & 0xff) * 255 / a,
        pb = (p & 0xff) * 255 / a;
    return abs(pr - r) <= tol && abs(pg - g) <= tol && abs(pb - b) <= tol;
}

static int count_color(cairo_surface_t *s, int y0, int y1, int r, int g, int b, int tol)
{
    int n = 0, w = cairo_image_surface_get_width(s);
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) n += pixel_is(s, x, y, r, g, b, tol);
    return n;
}

/* Pixels of the drift colour scale: yellow, orange, red (not the purple of
 * running statistics, not grey text). */
static int count_warm(cairo_surface_t *s, int y0, int y1)
{
    int n = 0, w = cairo_image_surface_get_width(s), stride = cairo_image_surface_get_stride(s);
    const guint8 *d = cairo_image_surface_get_data(s);
    for (int y = y0; y < y1; y++) {
        for (int x = 0; x < w; x++) {
            guint32 p = ((const guint32 *)(d + y * stride))[x];
            int a = p >> 24;
            if (a < 40) continue;
            int r = ((p >> 16) & 0xff) * 255 / a, b = (p & 0xff) * 255 / a;
            n += r > 140 && r - b > 100;
        }
    }
    return n;
}

static cairo_surface_t *draw_pane(ThawBnPane *pane, int width, int height, double scale)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)(width * scale),
                                                    (int)(height * scale));
    cairo_t *cr = cairo_create(s);
    cairo_scale(cr, scale, scale);
    thaw_bn_pane_draw(pane, cr, width, height);
    g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    return s;
}

/* --------------------------------------------------------------- tests */

static void test_layers(void)
{
    ThawBnPane *pane = THAW_BN_PANE(g_object_ref_sink(thaw_bn_pane_new()));
    ThawBnPlot *plot = pane_plot(pane);
    ThawDriftMap *map = pane_map(pane);
    GtkDropDown *dd = pane_drop_down(pane);
    g_assert_nonnull(plot);
    g_assert_nonnull(map);
    g_assert_nonnull(dd);
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, -1);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(pane), ==, 0);

    int notified = 0;
    g_signal_connect(pane, "notify::selected", G_CALLBACK(count_notify), &notified);
    thaw_bn_pane_set_layers(pane, 3, names3, channels3);
    g_assert_cmpint(thaw_bn_pane_get_n_layers(pane), ==, 3);
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, 0);
    g_assert_cmpint(notified, ==, 1);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(pane), ==, 4);
    g_assert_cmpuint(g_list_model_get_n_items(gtk_drop_down_get_model(dd)), ==, 3);
    g_assert_cmpint(thaw_drift_map_get_n_rows(map), ==, 3);

    thaw_bn_pane_select(pane, 1);
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, 1);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(pane), ==, 8);
    g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 1);
    g_assert_cmpint(thaw_drift_map_get_selected(map), ==, 1);
    g_assert_cmpint(notified, ==, 2);
    thaw_bn_pane_select(pane, 1); /* no change, no notify */
    g_assert_cmpint(notified, ==, 2);

    gtk_drop_down_set_selected(dd, 2); /* what picking from the list does */
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, 2);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(pane), ==, 16);
    g_assert_cmpint(thaw_drift_map_get_selected(map), ==, 2);
    g_assert_cmpint(notified, ==, 3);

    g_object_set(pane, "selected", 0, NULL);
    int sel = -5;
    g_object_get(pane, "selected", &sel, NULL);
    g_assert_cmpint(sel, ==, 0);
    g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 0);
    g_assert_cmpint(notified, ==, 4);

    /* accessible roles of the custom widgets */
    g_assert_cmpint(gtk_accessible_get_accessible_role(GTK_ACCESSIBLE(plot)), ==,
                    GTK_ACCESSIBLE_ROLE_IMG);
    g_assert_cmpint(gtk_accessible_get_accessible_role(GTK_ACCESSIBLE(map)), ==,
                    GTK_ACCESSIBLE_ROLE_IMG);

    /* no layers: nothing selected, nothing shown, no re-estimation */
    thaw_bn_pane_set_layers(pane, 0, NULL, NULL);
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, -1);
    g_assert_cmpint(notified, ==, 5);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(pane), ==, 0);
    g_assert_cmpuint(thaw_bn_pane_get_n_columns(pane), ==, 0);
    g_assert_false(
        gtk_widget_is_sensitive(find_button(GTK_WIDGET(pane), "Re-estimate running statistics")));

    g_object_add_weak_pointer(G_OBJECT(pane), (gpointer *)&pane);
    g_object_unref(pane);
    g_assert_null(pane); /* nothing else holds a reference */
}

static void test_drift(void)
{
    ThawBnPane *pane = THAW_BN_PANE(g_object_ref_sink(thaw_bn_pane_new()));
    ThawBnPlot *plot = pane_plot(pane);
    float rm[TOTAL], rv[TOTAL], bm[TOTAL], bv[TOTAL], mm[TOTAL], mv[TOTAL];
    reference3(rm, rv);
    thaw_bn_pane_set_layers(pane, 3, names3, channels3);
    thaw_bn_pane_set_reference(pane, rm, rv);
    thaw_bn_pane_select(pane, 1);
    /* before any push the plot shows the reference only */
    g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_REF_MEAN, 2), ==, rm[4 + 2]);
    g_assert_true(isnan(thaw_bn_plot_get_value(plot, THAW_BN_MOVING_MEAN, 2)));

    double want[2][3];
    for (int k = 1; k <= 2; k++) {
        snapshot3(k, rm, rv, bm, bv, mm, mv);
        thaw_bn_pane_push(pane, 10 * k, bm, bv, mm, mv);
        for (int l = 0; l < 3; l++)
            want[k - 1][l] = expected_drift(offsets3[l], channels3[l], rm, rv, mm, mv);
    }
    g_assert_cmpuint(thaw_bn_pane_get_n_columns(pane), ==, 2);
    for (int j = 0; j < 2; j++) {
        for (int l = 0; l < 3; l++) {
            double got = thaw_bn_pane_get_drift(pane, l, j);
            g_test_message("drift layer %d column %d: %.12g (want %.12g)", l, j, got, want[j][l]);
            g_assert_cmpfloat_with_epsilon(got, want[j][l], 1e-9);
        }
    }
    g_assert_cmpfloat(want[1][0], >, want[0][0]); /* the values moved further */
    g_assert_cmpfloat(want[1][2], >, 0.01);       /* the 0.5 offset of channel 20 */
    g_assert_true(isnan(thaw_bn_pane_get_drift(pane, 3, 0)));
    g_assert_true(isnan(thaw_bn_pane_get_drift(pane, 0, 2)));
    g_assert_cmpuint(thaw_drift_map_get_step(pane_map(pane), 1), ==, 20);

    /* the selected layer's plot follows the latest push (k = 2) */
    g_assert_cmpuint(thaw_bn_plot_get_n_channels(plot), ==, 8);
    for (int c = 0; c < 8; c++) {
        g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_MOVING_MEAN, c), ==, mm[4 + c]);
        g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_MOVING_VAR, c), ==, mv[4 + c]);
        g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_BATCH_MEAN, c), ==, bm[4 + c]);
        g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_BATCH_VAR, c), ==, bv[4 + c]);
        g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_REF_VAR, c), ==, rv[4 + c]);
    }
    g_assert_true(isnan(thaw_bn_plot_get_value(plot, THAW_BN_MOVING_MEAN, 8)));
    /* choosing another layer shows its latest values at once */
    thaw_bn_pane_select(pane, 2);
    g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_MOVING_MEAN, 8), ==, mm[20]);

    /* clear_history: no columns, no batch; the reference stays */
    thaw_bn_pane_clear_history(pane);
    g_assert_cmpuint(thaw_bn_pane_get_n_columns(pane), ==, 0);
    g_assert_true(isnan(thaw_bn_plot_get_value(plot, THAW_BN_BATCH_MEAN, 0)));
    g_assert_cmpfloat(thaw_bn_plot_get_value(plot, THAW_BN_REF_MEAN, 0), ==, rm[12]);

    /* without a reference, drift is NaN (drawn grey) */
    thaw_bn_pane_set_reference(pane, NULL, NULL);
    thaw_bn_pane_push(pane, 30, bm, bv, mm, mv);
    g_assert_true(isnan(thaw_bn_pane_get_drift(pane, 0, 0)));
    cairo_surface_t *s = draw_pane(pane, 800, 600, 1.0);
    cairo_surface_destroy(s);
    g_object_unref(pane);
}

static GtkGesture *find_click(GtkWidget *widget)
{
    GListModel *controllers = gtk_widget_observe_controllers(widget);
    GtkGesture *click = NULL;
    for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
        GtkEventController *c = g_list_model_get_item(controllers, i);
        if (GTK_IS_GESTURE_CLICK(c)) click = GTK_GESTURE(c);
        g_object_unref(c);
    }
    g_object_unref(controllers);
    return click;
}

static void test_click_row(void)
{
    ThawBnPane *pane;
    GtkWidget *window = pane_window_new(900, 700, &pane);
    float rm[TOTAL], rv[TOTAL], bm[TOTAL], bv[TOTAL], mm[TOTAL], mv[TOTAL];
    reference3(rm, rv);
    thaw_bn_pane_set_layers(pane, 3, names3, channels3);
    thaw_bn_pane_set_reference(pane, rm, rv);
    for (int k = 1; k <= 3; k++) {
        snapshot3(k, rm, rv, bm, bv, mm, mv);
        thaw_bn_pane_push(pane, k, bm, bv, mm, mv);
    }
    ThawDriftMap *map = pane_map(pane);
    wait_for_layout(GTK_WIDGET(map));
    int notified = 0;
    g_signal_connect(pane, "notify::selected", G_CALLBACK(count_notify), &notified);

    graphene_rect_t r;
    g_assert_true(thaw_drift_map_get_row_area(map, 2, &r));
    g_assert_cmpfloat(r.size.height, >=, 4.0);
    double x = r.origin.x + r.size.width / 2, y = r.origin.y + r.size.height / 2;
    g_assert_cmpint(thaw_drift_map_row_at(map, x, y), ==, 2);
    GtkGesture *click = find_click(GTK_WIDGET(map));
    g_assert_nonnull(click);
    g_signal_emit_by_name(click, "pressed", 1, x, y); /* what a click on the row does */
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, 2);
    g_assert_cmpuint(gtk_drop_down_get_selected(pane_drop_down(pane)), ==, 2);
    g_assert_cmpint(thaw_drift_map_get_selected(map), ==, 2);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(pane), ==, 16);
    g_assert_cmpint(notified, ==, 1);

    /* on a row's name, left of the cells, also selects */
    g_assert_true(thaw_drift_map_get_row_area(map, 0, &r));
    g_signal_emit_by_name(click, "pressed", 1, 8.0, r.origin.y + r.size.height / 2);
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, 0);
    /* below the rows: nothing */
    g_assert_true(thaw_drift_map_get_row_area(map, -1, &r));
    g_signal_emit_by_name(click, "pressed", 1, r.origin.x + 5, r.origin.y + r.size.height + 3);
    g_assert_cmpint(thaw_bn_pane_get_selected(pane), ==, 0);
    g_assert_cmpint(notified, ==, 2);

    /* hover read-outs: a drift cell and a channel */
    g_assert_true(thaw_drift_map_get_row_area(map, 1, &r));
    const char *text =
        thaw_drift_map_hover_at(map, r.origin.x + r.size.width - 2, r.origin.y + r.size.height / 2);
    g_assert_nonnull(text);
    g_assert_true(g_str_has_prefix(text, "conv2_bn · step 3 · "));
    g_assert_true(g_str_has_suffix(text, "%"));
    g_assert_null(thaw_drift_map_hover_at(map, 1, 1));

    thaw_bn_pane_select(pane, 1);
    ThawBnPlot *plot = pane_plot(pane);
    wait_for_layout(GTK_WIDGET(plot));
    g_assert_true(thaw_bn_plot_get_plot_area(plot, 1, &r));
    text = thaw_bn_plot_hover_at(plot, r.origin.x + r.size.width * 3.5 / 8,
                                 r.origin.y + r.size.height / 2);
    g_assert_nonnull(text);
    g_test_message("hover: %s", text);
    g_assert_true(g_str_has_prefix(text, "channel 3 · variance: running "));
    g_assert_nonnull(strstr(text, ", batch "));
    g_assert_nonnull(strstr(text, ", pretrained "));
    g_assert_null(thaw_bn_plot_hover_at(plot, 0, 0));

    g_object_add_weak_pointer(G_OBJECT(pane), (gpointer *)&pane);
    gtk_window_destroy(GTK_WINDOW(window));
    for (int i = 0; i < 10; i++) g_main_context_iteration(NULL, FALSE);
    g_assert_null(pane); /* the gestures hold no reference */
}

static void test_reestimate(void)
{
    ThawBnPane *pane;
    GtkWidget *window = pane_window_new(900, 700, &pane);
    GtkWidget *button = find_button(GTK_WIDGET(pane), "Re-estimate running statistics");
    g_assert_nonnull(button);
    g_assert_nonnull(gtk_widget_get_tooltip_text(button));
    g_assert_nonnull(strstr(gtk_widget_get_tooltip_text(button), "momentum=None"));
    int requested = 0;
    g_signal_connect(pane, "reestimate-requested", G_CALLBACK(count_cb), &requested);
    g_assert_false(gtk_widget_is_sensitive(button)); /* no layers yet */

    thaw_bn_pane_set_layers(pane, 3, names3, channels3);
    g_assert_true(gtk_widget_is_sensitive(button));
    g_signal_emit_by_name(button, "clicked");
    g_assert_cmpint(requested, ==, 1);

    /* busy: insensitive, a spinner turns, clicks do nothing */
    GtkWidget *spinner = find_type(GTK_WIDGET(pane), GTK_TYPE_SPINNER);
    g_assert_nonnull(spinner);
    g_assert_false(gtk_widget_get_visible(spinner));
    thaw_bn_pane_set_busy(pane, TRUE);
    g_assert_false(gtk_widget_is_sensitive(button));
    g_assert_true(gtk_widget_get_visible(spinner));
    g_assert_true(gtk_spinner_get_spinning(GTK_SPINNER(spinner)));
    g_signal_emit_by_name(button, "clicked");
    g_assert_cmpint(requested, ==, 1);
    thaw_bn_pane_set_busy(pane, FALSE);
    g_assert_true(gtk_widget_is_sensitive(button));
    g_assert_false(gtk_widget_get_visible(spinner));
    g_signal_emit_by_name(button, "clicked");
    g_assert_cmpint(requested, ==, 2);

    GtkWidget *label = find_class(GTK_WIDGET(pane), "reestimate-result");
    g_assert_true(GTK_IS_LABEL(label));
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(label)), ==, "");
    thaw_bn_pane_set_reestimate_result(pane, 0.613, 0.748);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(label)), ==,
                    "inference-mode accuracy 61.3% → 74.8%");
    g_assert_nonnull(strstr(gtk_label_get_text(GTK_LABEL(label)), "61.3% → 74.8%"));
    g_assert_cmpstr(thaw_bn_pane_get_result_text(pane), ==, gtk_label_get_text(GTK_LABEL(label)));
    thaw_bn_pane_set_reestimate_result(pane, NAN, 0.5);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(label)), ==,
                    "inference-mode accuracy after: 50.0%");
    thaw_bn_pane_set_reestimate_result(pane, NAN, NAN);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(label)), ==, "");
    /* a new model clears it */
    thaw_bn_pane_set_reestimate_result(pane, 0.1, 0.2);
    thaw_bn_pane_set_layers(pane, 3, names3, channels3);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(label)), ==, "");
    gtk_window_destroy(GTK_WINDOW(window));
}

static void test_draw(void)
{
    /* Not in a window: drawing must not need a realized widget. */
    ThawBnPane *pane = THAW_BN_PANE(g_object_ref_sink(thaw_bn_pane_new()));
    cairo_surface_t *s = draw_pane(pane, 800, 600, 1.0); /* empty: draws hints only */
    cairo_surface_destroy(s);

    float rm[TOTAL], rv[TOTAL], bm[TOTAL], bv[TOTAL], mm[TOTAL], mv[TOTAL];
    reference3(rm, rv);
    thaw_bn_pane_set_layers(pane, 3, names3, channels3);
    thaw_bn_pane_set_reference(pane, rm, rv);
    /* Unallocated, the plot takes the top 55% (330 px), the map the rest. */
    s = draw_pane(pane, 800, 600, 1.0);
    int purple0 = count_color(s, 0, 330, 145, 65, 172, 30); /* the legend's dot */
    int warm0 = count_warm(s, 340, 600);                    /* the colour bar */
    cairo_surface_destroy(s);
    g_assert_cmpint(warm0, >, 200);

    for (int k = 1; k <= 20; k++) {
        snapshot3(k, rm, rv, bm, bv, mm, mv);
        thaw_bn_pane_push(pane, k, bm, bv, mm, mv);
    }
    s = draw_pane(pane, 800, 600, 1.0);
    int purple = count_color(s, 0, 330, 145, 65, 172, 30);
    int warm = count_warm(s, 340, 600);
    g_test_message("purple %d -> %d, warm %d -> %d", purple0, purple, warm0, warm);
    g_assert_cmpint(purple, >, purple0 + 100); /* 4 channels x 2 plots of running dots */
    g_assert_cmpint(warm, >, warm0 + 5000);    /* the cells of the drift map */
    g_assert_cmpint(count_color(s, 330, 600, 145, 65, 172, 30), ==, 0); /* none in the map */
    cairo_surface_destroy(s);

    /* any scale: PNG export draws at 2x through a scaled context */
    s = draw_pane(pane, 800, 600, 2.0);
    g_assert_cmpint(count_color(s, 0, 660, 145, 65, 172, 30), >, 3 * purple);
    g_assert_cmpint(count_warm(s, 680, 1200), >, 3 * warm);
    cairo_surface_destroy(s);
    g_object_unref(pane);
}

/* 21 layers of 16/32/64 channels as in a small ResNet. */
#define N_RES 21
static void resnet_layers(char **names, int *channels, size_t *total)
{
    int i = 0;
    *total = 0;
    names[i] = g_strdup("conv1_bn"), channels[i++] = 16;
    for (int stage = 2; stage <= 4; stage++) {
        int ch = 16 << (stage - 2);
        for (int block = 1; block <= 3; block++) {
            if (stage > 2 && block == 1)
                names[i] = g_strdup_printf("conv%d_block1_0_bn", stage), channels[i++] = ch;
            for (int j = 1; j <= 2; j++)
                names[i] = g_strdup_printf("conv%d_block%d_%d_bn", stage, block, j),
                channels[i++] = ch;
        }
    }
    g_assert_cmpint(i, ==, N_RES);
    for (int l = 0; l < N_RES; l++) *total += channels[l];
}

static void test_many_pushes(void)
{
    ThawBnPane *pane = THAW_BN_PANE(g_object_ref_sink(thaw_bn_pane_new()));
    char *names[N_RES + 1] = {0};
    int channels[N_RES];
    size_t total;
    resnet_layers(names, channels, &total);
    thaw_bn_pane_set_layers(pane, N_RES, (const char *const *)names, channels);
    float *buf = g_new(float, 6 * total);
    float *rm = buf, *rv = rm + total, *bm = rv + total, *bv = bm + total, *mm = bv + total,
          *mv = mm + total;
    for (size_t i = 0; i < total; i++)
        rm[i] = 0.1f * (i % 7) - 0.3f, rv[i] = 0.5f + 0.01f * (i % 50);
    thaw_bn_pane_set_reference(pane, rm, rv);
    memcpy(mm, rm, total * sizeof *mm);
    memcpy(mv, rv, total * sizeof *mv);

    gint64 t0 = g_get_monotonic_time();
    for (int k = 1; k <= 5000; k++) {
        for (size_t i = 0; i < total; i++) {
            bm[i] = rm[i] + 0.5f + 0.1f * sinf(k * 0.01f + i);
            bv[i] = rv[i] * 1.5f;
            mm[i] = 0.99f * mm[i] + 0.01f * bm[i];
            mv[i] = 0.99f * mv[i] + 0.01f * bv[i];
        }
        thaw_bn_pane_push(pane, k, bm, bv, mm, mv);
        g_assert_cmpuint(thaw_bn_pane_get_n_columns(pane), <=, THAW_DRIFT_MAP_MAX_COLUMNS);
    }
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    guint n = thaw_bn_pane_get_n_columns(pane);
    g_test_message("5000 pushes in %.2f s, %u columns", secs, n);
    g_assert_cmpuint(n, >=, THAW_DRIFT_MAP_MAX_COLUMNS / 2);
    ThawDriftMap *map = pane_map(pane);
    g_assert_cmpuint(thaw_drift_map_get_step(map, n - 1), ==, 5000);
    for (guint j = 1; j < n; j++)
        g_assert_cmpuint(thaw_drift_map_get_step(map, j), >, thaw_drift_map_get_step(map, j - 1));
    size_t off = 0;
    for (int l = 0; l < N_RES; l++) { /* the newest column is the last push */
        double want = expected_drift((int)off, channels[l], rm, rv, mm, mv);
        g_assert_cmpfloat_with_epsilon(thaw_bn_pane_get_drift(pane, l, n - 1), want, 1e-9);
        off += channels[l];
    }
    g_assert_cmpfloat(secs, <, 30.0); /* ~0.1 s optimised; generous for ASan */

    t0 = g_get_monotonic_time();
    cairo_surface_t *s = draw_pane(pane, 800, 600, 1.0);
    g_test_message("drawn in %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    g_assert_cmpint(count_warm(s, 340, 600), >, 5000);
    cairo_surface_destroy(s);
    g_free(buf);
    for (int l = 0; l < N_RES; l++) g_free(names[l]);
    g_object_unref(pane);
}

/* ------------------------------------------------------------- example */

static double gauss(GRand *rand)
{
    double u = g_rand_double_range(rand, 1e-12, 1.0), v = g_rand_double(rand);
    return sqrt(-2.0 * log(u)) * cos(2 * G_PI * v);
}

static void save_window_png(GtkWidget *window, const char *path)
{
    int w = gtk_widget_get_width(window), h = gtk_widget_get_height(window);
    GdkPaintable *paintable = gtk_widget_paintable_new(window);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snapshot), w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
    GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(window));
    GdkTexture *texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
    g_assert_true(gdk_texture_save_to_png(texture, path));
    g_object_unref(texture);
    gsk_render_node_unref(node);
    g_object_unref(paintable);
}

/* What a fine-tuning run looks like: 21 layers, 300 pushes; the new data's
 * statistics differ more from the pretrained ones deeper in the network, and
 * Keras's momentum 0.99 pulls the running statistics there. */
static void test_example(void)
{
    ThawBnPane *pane;
    GtkWidget *window = pane_window_new(900, 700, &pane);
    char *names[N_RES + 1] = {0};
    int channels[N_RES];
    size_t total;
    resnet_layers(names, channels, &total);
    thaw_bn_pane_set_layers(pane, N_RES, (const char *const *)names, channels);
    float *buf = g_new(float, 8 * total);
    float *rm = buf, *rv = rm + total, *bm = rv + total, *bv = bm + total, *mm = bv + total,
          *mv = mm + total, *tm = mv + total, *tv = tm + total; /* t*: the new data's */
    GRand *rand = g_rand_new_with_seed(3);
    size_t off = 0;
    for (int l = 0; l < N_RES; l++) {
        double shift = 0.05 + 0.5 * l / (N_RES - 1.0);
        for (int c = 0; c < channels[l]; c++, off++) {
            rm[off] = (float)(0.4 * gauss(rand));
            rv[off] = (float)exp(0.5 * gauss(rand) - 0.3);
            tm[off] = rm[off] + (float)(shift * gauss(rand));
            tv[off] = rv[off] * (float)exp(shift * (0.8 + 0.5 * gauss(rand)));
        }
    }
    thaw_bn_pane_set_reference(pane, rm, rv);
    memcpy(mm, rm, total * sizeof *mm);
    memcpy(mv, rv, total * sizeof *mv);
    for (int k = 1; k <= 300; k++) {
        for (size_t i = 0; i < total; i++) {
            bm[i] = tm[i] + (float)(0.12 * gauss(rand));
            bv[i] = tv[i] * (float)exp(0.15 * gauss(rand));
            mm[i] = 0.99f * mm[i] + 0.01f * bm[i];
            mv[i] = 0.99f * mv[i] + 0.01f * bv[i];
        }
        thaw_bn_pane_push(pane, 10 * k, bm, bv, mm, mv);
    }
    g_rand_free(rand);
    thaw_bn_pane_select(pane, 14);
    thaw_bn_pane_set_reestimate_result(pane, 0.613, 0.748);
    g_assert_cmpuint(thaw_bn_pane_get_n_columns(pane), ==, 300);
    g_assert_cmpfloat(thaw_bn_pane_get_drift(pane, 20, 299), >,
                      thaw_bn_pane_get_drift(pane, 0, 299));
    wait_for_layout(GTK_WIDGET(pane));

    ThawBnPlot *plot = pane_plot(pane);
    graphene_rect_t r;
    g_assert_true(thaw_bn_plot_get_plot_area(plot, 0, &r));
    g_assert_nonnull(thaw_bn_plot_hover_at(plot, r.origin.x + r.size.width * 20.5 / 64,
                                           r.origin.y + r.size.height * 0.5));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(plot));

    const char *path = g_getenv("THAW_BN_PANE_PNG");
    if (path) save_window_png(window, path);
    path = g_getenv("THAW_BN_PANE_EXPORT_PNG");
    if (path) {
        int w = gtk_widget_get_width(GTK_WIDGET(pane)), h = gtk_widget_get_height(GTK_WIDGET(pane));
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 2 * w, 2 * h);
        cairo_t *cr = cairo_create(s);
        cairo_set_source_rgb(cr, 0.98, 0.98, 0.98); /* the window's background */
        cairo_paint(cr);
        cairo_scale(cr, 2, 2);
        thaw_bn_pane_draw(pane, cr, w, h);
        cairo_destroy(cr);
        g_assert_cmpint(cairo_surface_write_to_png(s, path), ==, CAIRO_STATUS_SUCCESS);
        cairo_surface_destroy(s);
    }
    g_free(buf);
    for (int l = 0; l < N_RES; l++) g_free(names[l]);
    gtk_window_destroy(GTK_WINDOW(window));
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/bn-pane/layers", test_layers);
    g_test_add_func("/bn-pane/drift", test_drift);
    g_test_add_func("/bn-pane/click-row", test_click_row);
    g_test_add_func("/bn-pane/reestimate", test_reestimate);
    g_test_add_func("/bn-pane/draw", test_draw);
    g_test_add_func("/bn-pane/many-pushes", test_many_pushes);
    g_test_add_func("/bn-pane/example", test_example);
    return g_test_run();
}
