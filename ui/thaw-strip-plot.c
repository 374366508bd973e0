/* ThawStripPlot: see thaw-strip-plot.h. */
#include "thaw-strip-plot.h"

#include <math.h>

#include "thaw-chart.h"

struct _ThawStripPlot {
    GtkWidget parent_instance;
    int k, n, label;
    char **names;
    float *train; /* (n, k) */
    float *infer; /* (k) */
    char *title;
};

G_DEFINE_FINAL_TYPE(ThawStripPlot, thaw_strip_plot, GTK_TYPE_WIDGET)

enum { PAD = 8, NAME_W = 110, ROW_MIN = 22 };

static void clear(ThawStripPlot *self)
{
    g_clear_pointer(&self->names, g_strfreev);
    g_clear_pointer(&self->train, g_free);
    g_clear_pointer(&self->infer, g_free);
    g_clear_pointer(&self->title, g_free);
    self->k = self->n = 0;
    self->label = -1;
}

void thaw_strip_plot_set_data(ThawStripPlot *self, int k, const char *const *class_names, int n,
                              const float *probs_train, const float *probs_infer, int label,
                              const char *title)
{
    g_return_if_fail(THAW_IS_STRIP_PLOT(self));
    clear(self);
    if (k > 0 && n > 0 && probs_train && probs_infer) {
        self->k = k, self->n = n, self->label = label;
        self->names = g_new0(char *, k + 1);
        for (int c = 0; c < k; c++)
            self->names[c] = class_names && class_names[c] ? g_strdup(class_names[c])
                                                           : g_strdup_printf("class %d", c);
        self->train = g_memdup2(probs_train, (gsize)n * k * sizeof(float));
        self->infer = g_memdup2(probs_infer, (gsize)k * sizeof(float));
        self->title = g_strdup(title);
    }
    char desc[160];
    g_snprintf(desc, sizeof desc, "Strip plot: %d training-mode passes of one image", self->n);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, desc, -1);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

int thaw_strip_plot_get_n(ThawStripPlot *self)
{
    return self->n;
}

double thaw_strip_plot_get_spread(ThawStripPlot *self, int c)
{
    if (self->n < 2 || c < 0 || c >= self->k) return 0.0;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < self->n; i++) {
        double v = self->train[(size_t)i * self->k + c];
        lo = MIN(lo, v), hi = MAX(hi, v);
    }
    return hi - lo;
}

double thaw_strip_plot_get_train(ThawStripPlot *self, int i, int c)
{
    if (i < 0 || i >= self->n || c < 0 || c >= self->k) return NAN;
    return self->train[(size_t)i * self->k + c];
}

double thaw_strip_plot_get_infer(ThawStripPlot *self, int c)
{
    if (c < 0 || c >= self->k || self->n == 0) return NAN;
    return self->infer[c];
}

static void set_hex(cairo_t *cr, const char *hex, double alpha)
{
    GdkRGBA c;
    gdk_rgba_parse(&c, hex);
    cairo_set_source_rgba(cr, c.red, c.green, c.blue, alpha);
}

static void text(cairo_t *cr, PangoLayout *pl, double x, double y, const char *s, gboolean bold,
                 gboolean right)
{
    g_autofree char *m = g_markup_printf_escaped(bold ? "<b>%s</b>" : "%s", s);
    pango_layout_set_markup(pl, m, -1);
    int w, h;
    pango_layout_get_pixel_size(pl, &w, &h);
    cairo_move_to(cr, right ? x - w : x, y - h / 2.0);
    pango_cairo_show_layout(cr, pl);
}

void thaw_strip_plot_draw(ThawStripPlot *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_STRIP_PLOT(self));
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    cairo_save(cr);
    gdk_cairo_set_source_rgba(cr, &fg);
    if (self->n == 0) {
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.5);
        text(cr, pl, PAD, height / 2.0,
             "Double-click an image above, then run the batch-mates or dropout experiment", FALSE,
             FALSE);
        cairo_restore(cr);
        g_object_unref(pl);
        return;
    }
    double top = PAD + 44, bottom = height - PAD - 18; /* title, legend, then the rows */
    double left = PAD + NAME_W, right = width - PAD - 10;
    if (self->title) text(cr, pl, PAD, PAD + 9, self->title, TRUE, FALSE);
    double row = (bottom - top) / self->k;
    /* x axis: probability */
    cairo_set_line_width(cr, 1);
    for (int t = 0; t <= 4; t++) {
        double x = left + (right - left) * t / 4.0;
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.12);
        cairo_move_to(cr, x + 0.5, top);
        cairo_line_to(cr, x + 0.5, bottom);
        cairo_stroke(cr);
        char b[16];
        g_snprintf(b, sizeof b, "%d%%", t * 25);
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.7);
        pango_layout_set_markup(pl, b, -1);
        int w, h;
        pango_layout_get_pixel_size(pl, &w, &h);
        cairo_move_to(cr, x - w / 2.0, bottom + 3);
        pango_cairo_show_layout(cr, pl);
    }
    guint32 seed = 12345;
    for (int c = 0; c < self->k; c++) {
        double y = top + row * (c + 0.5);
        gdk_cairo_set_source_rgba(cr, &fg);
        g_autofree char *name = c == self->label ? g_strdup_printf("%s (true)", self->names[c])
                                                 : g_strdup(self->names[c]);
        text(cr, pl, left - 8, y, name, c == self->label, TRUE);
        double r = MIN(4.0, row / 5.0);
        for (int i = 0; i < self->n; i++) {
            double p = self->train[(size_t)i * self->k + c];
            if (!isfinite(p)) continue;
            seed = seed * 1664525u + 1013904223u;
            double jitter = ((seed >> 8) / 16777216.0 - 0.5) * row * 0.5;
            set_hex(cr, THAW_CHART_RED, 0.45);
            cairo_arc(cr, left + p * (right - left), y + jitter, r, 0, 2 * G_PI);
            cairo_fill(cr);
        }
        double q = self->infer[c];
        if (isfinite(q)) {
            double x = left + q * (right - left), d = MIN(7.0, row / 3.0);
            set_hex(cr, THAW_CHART_GREEN, 1.0);
            cairo_move_to(cr, x, y - d);
            cairo_line_to(cr, x + d, y);
            cairo_line_to(cr, x, y + d);
            cairo_line_to(cr, x - d, y);
            cairo_close_path(cr);
            cairo_fill(cr);
        }
    }
    /* legend, on its own line under the title */
    int lw, lh;
    pango_layout_set_markup(pl, "training=True passes", -1);
    pango_layout_get_pixel_size(pl, &lw, &lh);
    double ly = PAD + 28, lx = PAD + 6;
    set_hex(cr, THAW_CHART_RED, 0.8);
    cairo_arc(cr, lx, ly, 4, 0, 2 * G_PI);
    cairo_fill(cr);
    gdk_cairo_set_source_rgba(cr, &fg);
    cairo_move_to(cr, lx + 8, ly - lh / 2.0);
    pango_cairo_show_layout(cr, pl);
    double dx = lx + 8 + lw + 18;
    set_hex(cr, THAW_CHART_GREEN, 1.0);
    cairo_move_to(cr, dx, ly - 5);
    cairo_line_to(cr, dx + 5, ly);
    cairo_line_to(cr, dx, ly + 5);
    cairo_line_to(cr, dx - 5, ly);
    cairo_close_path(cr);
    cairo_fill(cr);
    gdk_cairo_set_source_rgba(cr, &fg);
    pango_layout_set_markup(pl, "training=False (one answer)", -1);
    cairo_move_to(cr, dx + 9, ly - lh / 2.0);
    pango_cairo_show_layout(cr, pl);
    cairo_restore(cr);
    g_object_unref(pl);
}

static void thaw_strip_plot_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w <= 0 || h <= 0) return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    thaw_strip_plot_draw(THAW_STRIP_PLOT(widget), cr, w, h);
    cairo_destroy(cr);
}

static void thaw_strip_plot_measure(GtkWidget *widget, GtkOrientation o, int for_size, int *min,
                                    int *nat, int *min_base, int *nat_base)
{
    ThawStripPlot *self = THAW_STRIP_PLOT(widget);
    if (o == GTK_ORIENTATION_HORIZONTAL)
        *min = 320, *nat = 600;
    else
        *min = 140, *nat = MAX(180, 80 + ROW_MIN * MAX(self->k, 5));
    *min_base = *nat_base = -1;
}

static void thaw_strip_plot_finalize(GObject *object)
{
    clear(THAW_STRIP_PLOT(object));
    G_OBJECT_CLASS(thaw_strip_plot_parent_class)->finalize(object);
}

static void thaw_strip_plot_class_init(ThawStripPlotClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = thaw_strip_plot_finalize;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    wc->snapshot = thaw_strip_plot_snapshot;
    wc->measure = thaw_strip_plot_measure;
    gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
    gtk_widget_class_set_css_name(wc, "thaw-strip-plot");
}

static void thaw_strip_plot_init(ThawStripPlot *self)
{
    self->label = -1;
}

GtkWidget *thaw_strip_plot_new(void)
{
    return g_object_new(THAW_TYPE_STRIP_PLOT, NULL);
}
