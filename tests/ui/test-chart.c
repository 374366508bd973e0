/* ThawChart: data in and out, property notification, the hover read-out at
 * a known point, and what drawing puts into pixels (a series' colour where
 * its line goes and nowhere else, decimation keeping spikes, NaN gaps, log
 * axes skipping values <= 0). Runs under Xvfb (tests/ui/run-under-xvfb.sh).
 *
 * Set THAW_CHART_PNG=path to also write the example chart (the look of a
 * real run: noisy batch loss on log y, epoch loss, two markers, a hover). */
#include <math.h>
#include <string.h>

#include <gtk/gtk.h>

#include "thaw-chart.h"

#define RED "#c01c28" /* (192, 28, 40): nowhere in the theme's text or frame */

/* A chart in a window of a fixed size, drawn once, so its allocation (and
 * so thaw_chart_get_plot_area) is known. */
typedef struct {
    GtkWidget *window;
    ThawChart *chart;
} ChartWin;

static ChartWin chart_window_new(int width, int height)
{
    ChartWin cw;
    cw.window = gtk_window_new();
    cw.chart = THAW_CHART(thaw_chart_new("Test"));
    gtk_window_set_default_size(GTK_WINDOW(cw.window), width, height);
    gtk_window_set_child(GTK_WINDOW(cw.window), GTK_WIDGET(cw.chart));
    gtk_window_present(GTK_WINDOW(cw.window));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(cw.chart));
    g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(cw.chart)), >=, 240);
    g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(cw.chart)), >=, 160);
    return cw;
}

/* Draws the chart on a transparent surface of the given size. */
static cairo_surface_t *draw_chart(ThawChart *chart, int width, int height)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    cairo_t *cr = cairo_create(s);
    thaw_chart_draw(chart, cr, width, height);
    g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    return s;
}

static cairo_surface_t *draw_widget_size(ThawChart *chart)
{
    return draw_chart(chart, gtk_widget_get_width(GTK_WIDGET(chart)),
                      gtk_widget_get_height(GTK_WIDGET(chart)));
}

/* Is the pixel at least half covered, in the colour (r, g, b) give or take
 * tol per channel? Surfaces are premultiplied; antialiased edges keep the
 * colour with a lower alpha. */
static gboolean pixel_is(cairo_surface_t *s, int x, int y, int r, int g, int b, int tol)
{
    if (x < 0 || y < 0 || x >= cairo_image_surface_get_width(s) ||
        y >= cairo_image_surface_get_height(s))
        return FALSE;
    const guint8 *row = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s);
    guint32 p = ((const guint32 *)row)[x];
    int a = p >> 24;
    if (a < 128) return FALSE;
    int pr = ((p >> 16) & 0xff) * 255 / a, pg = ((p >> 8) & 0xff) * 255 / a,
        pb = (p & 0xff) * 255 / a;
    return abs(pr - r) <= tol && abs(pg - g) <= tol && abs(pb - b) <= tol;
}

static int count_red(cairo_surface_t *s, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) n += pixel_is(s, x, y, 192, 28, 40, 24);
    return n;
}

static int count_red_all(cairo_surface_t *s)
{
    return count_red(s, 0, 0, cairo_image_surface_get_width(s) - 1,
                     cairo_image_surface_get_height(s) - 1);
}

static void test_data(void)
{
    ThawChart *chart = THAW_CHART(g_object_ref_sink(thaw_chart_new("Loss")));
    g_assert_cmpuint(thaw_chart_get_n_series(chart), ==, 0);
    int a = thaw_chart_add_series(chart, "batch loss", THAW_CHART_BLUE, THAW_CHART_LINE);
    int b = thaw_chart_add_series(chart, "epoch loss", THAW_CHART_ORANGE, THAW_CHART_LINE_POINTS);
    g_assert_cmpint(a, ==, 0);
    g_assert_cmpint(b, ==, 1);
    for (int i = 0; i < 10; i++) thaw_chart_append(chart, a, i, 1.0 / (i + 1));
    thaw_chart_append(chart, b, 9, 0.25);
    thaw_chart_append(chart, b, 19, NAN); /* gaps are kept */
    g_assert_cmpuint(thaw_chart_get_n_points(chart, a), ==, 10);
    g_assert_cmpuint(thaw_chart_get_n_points(chart, b), ==, 2);
    double x, y;
    g_assert_true(thaw_chart_get_point(chart, a, 3, &x, &y));
    g_assert_cmpfloat(x, ==, 3.0);
    g_assert_cmpfloat(y, ==, 0.25);
    g_assert_true(thaw_chart_get_point(chart, b, 1, &x, &y));
    g_assert_true(x == 19.0 && isnan(y));
    g_assert_false(thaw_chart_get_point(chart, a, 10, &x, &y));
    g_assert_false(thaw_chart_get_point(chart, 2, 0, &x, &y));

    thaw_chart_add_marker(chart, 5, "lr 1e-4");
    thaw_chart_add_marker(chart, 7.5, "unfreeze 20");
    g_assert_cmpuint(thaw_chart_get_n_markers(chart), ==, 2);
    g_assert_cmpstr(thaw_chart_get_marker(chart, 1, &x), ==, "unfreeze 20");
    g_assert_cmpfloat(x, ==, 7.5);
    g_assert_null(thaw_chart_get_marker(chart, 2, &x));

    thaw_chart_clear(chart); /* points and markers go, series stay */
    g_assert_cmpuint(thaw_chart_get_n_series(chart), ==, 2);
    g_assert_cmpuint(thaw_chart_get_n_points(chart, a), ==, 0);
    g_assert_cmpuint(thaw_chart_get_n_points(chart, b), ==, 0);
    g_assert_cmpuint(thaw_chart_get_n_markers(chart), ==, 0);
    thaw_chart_append(chart, b, 1, 2);
    g_assert_cmpuint(thaw_chart_get_n_points(chart, b), ==, 1);

    g_assert_cmpint(gtk_accessible_get_accessible_role(GTK_ACCESSIBLE(chart)), ==,
                    GTK_ACCESSIBLE_ROLE_IMG);
    int min, nat;
    gtk_widget_measure(GTK_WIDGET(chart), GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
    g_assert_cmpint(min, >=, 200);
    g_assert_cmpint(nat, >=, min);
    g_object_add_weak_pointer(G_OBJECT(chart), (gpointer *)&chart);
    g_object_unref(chart);
    g_assert_null(chart); /* nothing else holds a reference */
}

static void count_notify(GObject *o, GParamSpec *p, gpointer n)
{
    (*(int *)n)++;
}

static void test_properties(void)
{
    ThawChart *chart = THAW_CHART(g_object_ref_sink(thaw_chart_new("A")));
    int log_n = 0, title_n = 0;
    g_signal_connect(chart, "notify::log-y", G_CALLBACK(count_notify), &log_n);
    g_signal_connect(chart, "notify::title", G_CALLBACK(count_notify), &title_n);
    g_assert_false(thaw_chart_get_log_y(chart));
    thaw_chart_set_log_y(chart, FALSE);
    g_assert_cmpint(log_n, ==, 0);
    thaw_chart_set_log_y(chart, TRUE);
    g_assert_cmpint(log_n, ==, 1);
    thaw_chart_set_log_y(chart, TRUE);
    g_object_set(chart, "log-y", TRUE, NULL);
    g_assert_cmpint(log_n, ==, 1);
    g_assert_true(thaw_chart_get_log_y(chart));
    g_object_set(chart, "log-y", FALSE, NULL);
    g_assert_cmpint(log_n, ==, 2);
    g_assert_false(thaw_chart_get_log_y(chart));

    thaw_chart_set_title(chart, "A");
    g_assert_cmpint(title_n, ==, 0);
    thaw_chart_set_title(chart, "Accuracy");
    g_assert_cmpint(title_n, ==, 1);
    char *t = NULL;
    g_object_get(chart, "title", &t, NULL);
    g_assert_cmpstr(t, ==, "Accuracy");
    g_free(t);
    thaw_chart_set_title(chart, NULL);
    g_assert_cmpint(title_n, ==, 2);
    g_object_unref(chart);
}

/* Widget coordinates of a data point for a chart whose x axis is known to
 * be [0, xmax] and y axis [ymin, ymax] (linear). */
static void to_widget(ThawChart *chart, double xmax, double ymin, double ymax, double x, double y,
                      double *px, double *py)
{
    graphene_rect_t r;
    g_assert_true(thaw_chart_get_plot_area(chart, &r));
    *px = r.origin.x + r.size.width * x / xmax;
    *py = r.origin.y + r.size.height * (1.0 - (y - ymin) / (ymax - ymin));
}

static void test_hover(void)
{
    ChartWin cw = chart_window_new(600, 300);
    ThawChart *chart = cw.chart;
    g_assert_null(thaw_chart_hover_at(chart, 300, 150)); /* no data */
    thaw_chart_set_x_label(chart, "epoch");
    thaw_chart_set_y_unit(chart, "%");
    thaw_chart_set_y_range(chart, 0, 100);
    int s = thaw_chart_add_series(chart, "accuracy", RED, THAW_CHART_LINE_POINTS);
    thaw_chart_append(chart, s, 0, 10);
    thaw_chart_append(chart, s, 50, 87.5);
    thaw_chart_append(chart, s, 100, 40);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(chart));

    double px, py;
    to_widget(chart, 100, 0, 100, 50, 87.5, &px, &py);
    g_assert_cmpstr(thaw_chart_hover_at(chart, px, py), ==, "accuracy  epoch 50  87.5%");
    g_assert_cmpstr(thaw_chart_hover_at(chart, px + 6, py - 4), ==, "accuracy  epoch 50  87.5%");
    to_widget(chart, 100, 0, 100, 100, 40, &px, &py);
    g_assert_cmpstr(thaw_chart_hover_at(chart, px - 3, py + 3), ==, "accuracy  epoch 100  40%");
    /* (50, 10) is far from every point (the line passes nowhere near) */
    to_widget(chart, 100, 0, 100, 50, 10, &px, &py);
    g_assert_null(thaw_chart_hover_at(chart, px, py));

    /* the drawn point is where hover found it: red at its centre */
    to_widget(chart, 100, 0, 100, 50, 87.5, &px, &py);
    cairo_surface_t *surf = draw_widget_size(chart);
    g_assert_cmpint(count_red(surf, px - 1, py - 1, px + 1, py + 1), >=, 4);
    cairo_surface_destroy(surf);

    thaw_chart_clear(chart);
    g_assert_null(thaw_chart_hover_at(chart, px, py));
    g_object_add_weak_pointer(G_OBJECT(chart), (gpointer *)&chart);
    gtk_window_destroy(GTK_WINDOW(cw.window));
    g_assert_null(chart); /* the motion controller holds no reference to it */
}

static void test_draw_colour(void)
{
    /* Not in a window: thaw_chart_draw must not need a realized widget. */
    ThawChart *chart = THAW_CHART(g_object_ref_sink(thaw_chart_new("Blank")));
    cairo_surface_t *s = draw_chart(chart, 600, 300);
    g_assert_cmpint(count_red_all(s), ==, 0);
    cairo_surface_destroy(s);

    /* a series without points: no line and no legend entry either */
    int i = thaw_chart_add_series(chart, "loss", RED, THAW_CHART_LINE);
    thaw_chart_add_marker(chart, 3, "a marker");
    s = draw_chart(chart, 600, 300);
    g_assert_cmpint(count_red_all(s), ==, 0);
    cairo_surface_destroy(s);

    for (int k = 0; k <= 40; k++) thaw_chart_append(chart, i, k, 2.0 + sin(k * 0.3));
    s = draw_chart(chart, 600, 300);
    g_assert_cmpint(count_red_all(s), >, 300);
    cairo_surface_destroy(s);

    /* any scale: PNG export draws at 2x through a scaled context */
    s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1200, 600);
    cairo_t *cr = cairo_create(s);
    cairo_scale(cr, 2, 2);
    thaw_chart_draw(chart, cr, 600, 300);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    g_assert_cmpint(count_red_all(s), >, 1200);
    cairo_surface_destroy(s);
    g_object_unref(chart);
}

static void test_many_points(void)
{
    ChartWin cw = chart_window_new(600, 300);
    ThawChart *chart = cw.chart;
    thaw_chart_set_y_range(chart, 0, 100);
    int s = thaw_chart_add_series(chart, "batch loss", RED, THAW_CHART_LINE);
    GRand *rand = g_rand_new_with_seed(7);
    for (int k = 0; k <= 20000; k++) /* one spike at 12345: decimation must keep it */
        thaw_chart_append(chart, s, k, k == 12345 ? 95.0 : 5.0 + g_rand_double(rand));
    g_rand_free(rand);
    g_assert_cmpuint(thaw_chart_get_n_points(chart, s), ==, 20001);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(chart));

    gint64 t0 = g_get_monotonic_time();
    cairo_surface_t *surf = draw_widget_size(chart);
    g_test_message("20001 points drawn in %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    g_assert_cmpint(count_red_all(surf), >, 300);
    double px, py;
    to_widget(chart, 20000, 0, 100, 12345, 95, &px, &py);
    g_assert_cmpint(count_red(surf, px - 2, py - 1, px + 2, py + 3), >, 0);
    to_widget(chart, 20000, 0, 100, 5000, 95, &px, &py); /* no spike there */
    g_assert_cmpint(count_red(surf, px - 2, py - 1, px + 2, py + 3), ==, 0);
    to_widget(chart, 20000, 0, 100, 5000, 5.5, &px, &py); /* the baseline */
    g_assert_cmpint(count_red(surf, px - 2, py - 3, px + 2, py + 3), >, 0);
    cairo_surface_destroy(surf);

    to_widget(chart, 20000, 0, 100, 12345, 95, &px, &py);
    g_assert_cmpstr(thaw_chart_hover_at(chart, px, py), ==, "batch loss  step 12345  95");
    gtk_window_destroy(GTK_WINDOW(cw.window));
}

static void test_gaps(void)
{
    ChartWin cw = chart_window_new(600, 300);
    ThawChart *chart = cw.chart;
    thaw_chart_set_y_range(chart, 0, 100);
    int s = thaw_chart_add_series(chart, "loss", RED, THAW_CHART_DASHED);
    for (int k = 0; k <= 100; k++) thaw_chart_append(chart, s, k, k > 40 && k < 60 ? NAN : 50.0);
    cairo_surface_t *surf = draw_widget_size(chart);
    double px, py;
    to_widget(chart, 100, 0, 100, 20, 50, &px, &py);
    g_assert_cmpint(count_red(surf, px - 8, py - 2, px + 8, py + 2), >, 0);
    to_widget(chart, 100, 0, 100, 80, 50, &px, &py);
    g_assert_cmpint(count_red(surf, px - 8, py - 2, px + 8, py + 2), >, 0);
    to_widget(chart, 100, 0, 100, 50, 50, &px, &py); /* the gap */
    g_assert_cmpint(count_red(surf, px - 8, py - 2, px + 8, py + 2), ==, 0);
    cairo_surface_destroy(surf);
    gtk_window_destroy(GTK_WINDOW(cw.window));
}

static void test_log_y(void)
{
    ChartWin cw = chart_window_new(600, 300);
    ThawChart *chart = cw.chart;
    thaw_chart_set_log_y(chart, TRUE);
    int s = thaw_chart_add_series(chart, "loss", RED, THAW_CHART_LINE_POINTS);
    thaw_chart_append(chart, s, 0, 1.0);
    thaw_chart_append(chart, s, 50, 0.0); /* not drawable on a log axis */
    thaw_chart_append(chart, s, 60, -2.0);
    thaw_chart_append(chart, s, 100, 10.0);
    cairo_surface_t *surf = draw_widget_size(chart);
    g_assert_cmpint(count_red_all(surf), >, 20);
    cairo_surface_destroy(surf);

    /* the data fit [1, 10]; log10 is linear in the exponent: 0..1 */
    graphene_rect_t r;
    g_assert_true(thaw_chart_get_plot_area(chart, &r));
    double bottom = r.origin.y + r.size.height;
    g_assert_cmpstr(thaw_chart_hover_at(chart, r.origin.x + r.size.width, r.origin.y), ==,
                    "loss  step 100  10");
    g_assert_cmpstr(thaw_chart_hover_at(chart, r.origin.x, bottom), ==, "loss  step 0  1");
    /* where the 0 and -2 would be: nothing (the only points are far away) */
    g_assert_null(thaw_chart_hover_at(chart, r.origin.x + r.size.width * 0.55, bottom));

    /* only non-positive values: nothing to draw, nothing to hover */
    thaw_chart_clear(chart);
    thaw_chart_append(chart, s, 1, 0.0);
    thaw_chart_append(chart, s, 2, -1.0);
    surf = draw_widget_size(chart);
    g_assert_true(thaw_chart_get_plot_area(chart, &r)); /* the legend still names it */
    g_assert_cmpint(count_red(surf, r.origin.x, r.origin.y, r.origin.x + r.size.width,
                              r.origin.y + r.size.height),
                    ==, 0);
    cairo_surface_destroy(surf);
    g_assert_null(thaw_chart_hover_at(chart, r.origin.x + r.size.width * 0.5, bottom));
    gtk_window_destroy(GTK_WINDOW(cw.window));
}

/* What a run looks like; written only when THAW_CHART_PNG names a file. */
static void test_example(void)
{
    ChartWin cw = chart_window_new(720, 360);
    ThawChart *chart = cw.chart;
    thaw_chart_set_title(chart, "Loss");
    thaw_chart_set_log_y(chart, TRUE);
    int batch = thaw_chart_add_series(chart, "batch loss", THAW_CHART_BLUE, THAW_CHART_LINE);
    int epoch =
        thaw_chart_add_series(chart, "epoch loss", THAW_CHART_ORANGE, THAW_CHART_LINE_POINTS);
    GRand *rand = g_rand_new_with_seed(1);
    double sum = 0.0;
    for (int k = 1; k <= 500; k++) {
        double loss = 2.3 * exp(-k / 120.0) + 0.04;
        loss *= exp(g_rand_double_range(rand, -0.35, 0.35));
        thaw_chart_append(chart, batch, k, loss);
        sum += loss;
        if (k % 100 == 0) thaw_chart_append(chart, epoch, k, sum / 100.0), sum = 0.0;
    }
    g_rand_free(rand);
    thaw_chart_add_marker(chart, 200, "lr 1e-4");
    thaw_chart_add_marker(chart, 220, "unfreeze last 20 layers");
    gtk_test_widget_wait_for_draw(GTK_WIDGET(chart));

    graphene_rect_t r;
    g_assert_true(thaw_chart_get_plot_area(chart, &r));
    const char *text = NULL;
    for (double y = r.origin.y; !text && y < r.origin.y + r.size.height; y += 4)
        text = thaw_chart_hover_at(chart, r.origin.x + r.size.width * 0.55, y);
    g_assert_nonnull(text);
    g_assert_true(g_str_has_prefix(text, "batch loss  step ") ||
                  g_str_has_prefix(text, "epoch loss  step "));

    const char *path = g_getenv("THAW_CHART_PNG");
    if (path) {
        cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 720, 360);
        cairo_t *cr = cairo_create(surf);
        cairo_set_source_rgb(cr, 0.98, 0.98, 0.98); /* the window's background */
        cairo_paint(cr);
        thaw_chart_draw(chart, cr, 720, 360);
        cairo_destroy(cr);
        g_assert_cmpint(cairo_surface_write_to_png(surf, path), ==, CAIRO_STATUS_SUCCESS);
        cairo_surface_destroy(surf);
    }
    gtk_window_destroy(GTK_WINDOW(cw.window));
}

static int count_ink(cairo_surface_t *s)
{
    int n = 0, w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) n += d[y * stride + 4 * x + 3] != 0; /* alpha */
    return n;
}

/* The hint shows while no series has a point, and only then. */
static void test_placeholder(void)
{
    ThawChart *chart = THAW_CHART(g_object_ref_sink(thaw_chart_new("Loss")));
    int i = thaw_chart_add_series(chart, "loss", RED, THAW_CHART_LINE);
    cairo_surface_t *s = draw_chart(chart, 600, 300);
    int plain = count_ink(s);
    cairo_surface_destroy(s);
    thaw_chart_set_placeholder(chart, "Press Run to train");
    s = draw_chart(chart, 600, 300);
    int hinted = count_ink(s);
    cairo_surface_destroy(s);
    g_assert_cmpint(hinted, >, plain + 100);
    thaw_chart_append(chart, i, 1, 1.0);
    thaw_chart_append(chart, i, 2, 2.0);
    s = draw_chart(chart, 600, 300);
    int with_points = count_ink(s);
    cairo_surface_destroy(s);
    thaw_chart_set_placeholder(chart, NULL);
    s = draw_chart(chart, 600, 300);
    g_assert_cmpint(count_ink(s), ==, with_points);
    cairo_surface_destroy(s);
    g_object_unref(chart);
}

/* Charts stacked in the window share their plot's left edge when they
 * reserve the same label width, whatever their own tick labels are. */
static void test_y_label_sample(void)
{
    ThawChart *a = THAW_CHART(g_object_ref_sink(thaw_chart_new("Loss")));
    ThawChart *b = THAW_CHART(g_object_ref_sink(thaw_chart_new("Accuracy")));
    thaw_chart_set_y_label_sample(a, "100%");
    thaw_chart_set_y_label_sample(b, "100%");
    thaw_chart_set_placeholder(b, "hint"); /* other setters leave the sample alone */
    thaw_chart_set_y_range(b, 0, 100);
    thaw_chart_set_y_unit(b, "%");
    int sa = thaw_chart_add_series(a, "loss", RED, THAW_CHART_LINE);
    int sb = thaw_chart_add_series(b, "acc", RED, THAW_CHART_LINE);
    thaw_chart_append(a, sa, 0, 0.5);
    thaw_chart_append(a, sa, 10, 2.5);
    thaw_chart_append(b, sb, 0, 50);
    thaw_chart_append(b, sb, 10, 90);
    GtkWidget *win = gtk_window_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_window_set_default_size(GTK_WINDOW(win), 600, 600);
    gtk_widget_set_vexpand(GTK_WIDGET(a), TRUE);
    gtk_widget_set_vexpand(GTK_WIDGET(b), TRUE);
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(a));
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(b));
    gtk_window_set_child(GTK_WINDOW(win), box);
    gtk_window_present(GTK_WINDOW(win));
    while (gtk_widget_get_width(GTK_WIDGET(b)) == 0) g_main_context_iteration(NULL, TRUE);
    graphene_rect_t ra, rb;
    g_assert_true(thaw_chart_get_plot_area(a, &ra));
    g_assert_true(thaw_chart_get_plot_area(b, &rb));
    g_assert_cmpfloat(ra.origin.x, ==, rb.origin.x);
    g_assert_cmpfloat(ra.size.width, ==, rb.size.width);
    gtk_window_destroy(GTK_WINDOW(win));
    g_object_unref(a);
    g_object_unref(b);
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/chart/data", test_data);
    g_test_add_func("/chart/properties", test_properties);
    g_test_add_func("/chart/hover", test_hover);
    g_test_add_func("/chart/draw-colour", test_draw_colour);
    g_test_add_func("/chart/many-points", test_many_points);
    g_test_add_func("/chart/gaps", test_gaps);
    g_test_add_func("/chart/log-y", test_log_y);
    g_test_add_func("/chart/placeholder", test_placeholder);
    g_test_add_func("/chart/y-label-sample", test_y_label_sample);
    g_test_add_func("/chart/example", test_example);
    return g_test_run();
}
