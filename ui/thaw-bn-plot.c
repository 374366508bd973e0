/* ThawBnPlot: see thaw-bn-plot.h.
 *
 * As in ThawChart, one helper, plot_geometry(), turns (data, text sizes,
 * width, height) into both plot rectangles, the shared channel axis and the
 * two y axes; drawing and hover both call it. Each series keeps its finite
 * extent, updated when values are set, so the geometry costs a dozen text
 * measurements and drawing walks the channels once per series.
 *
 *   conv2_block1_1_bn · 64 channels     ● running  ○ batch  - pretrained
 *        mean
 *    0.4 +-------------------------------------------------------------+
 *        |  ●  -  ○●    ●-   ...                                       |
 *   -0.4 +-------------------------------------------------------------+
 *        variance
 *    2.0 +-------------------------------------------------------------+
 *        |  ○●  -●   ...                                               |
 *    0.0 +-------------------------------------------------------------+
 *        0         8        16        24        32        40        48
 *                                  channel
 */
#include "thaw-bn-plot.h"

#include <math.h>
#include <string.h>

#include "thaw-chart-axis.h"
#include "thaw-draw.h"

#define PAD       6.0
#define TICK      4.0
#define MAX_TICKS 32

typedef struct {
    double left, pw;
    double top[2], ph[2]; /* part 0: mean, part 1: variance */
    double title_h;       /* the title row */
    double legend_x, legend_y;
    ThawAxis ax, ay[2];
    double xt[MAX_TICKS], yt[2][MAX_TICKS], ystep[2];
    int nxt, nyt[2];
} Geometry;

struct _ThawBnPlot {
    GtkWidget parent_instance;
    char *title, *placeholder;
    guint n;                                           /* channels shown */
    guint capacity;                                    /* channels data has room for */
    float *data;                                       /* THAW_BN_N_SERIES * capacity */
    gboolean has[THAW_BN_N_SERIES];                    /* series known */
    double lo[THAW_BN_N_SERIES], hi[THAW_BN_N_SERIES]; /* finite extents */
    GdkRGBA moving_color, batch_color;
    int hover_channel, hover_part; /* -1: no read-out */
    char *hover_text;
};

G_DEFINE_FINAL_TYPE(ThawBnPlot, thaw_bn_plot, GTK_TYPE_WIDGET)

static const char *const part_names[2] = {"mean", "variance"};

static const float *series(ThawBnPlot *self, int s)
{
    return self->has[s] ? self->data + (size_t)s * self->capacity : NULL;
}

/* ---- geometry */

/* The legend's width: three glyph + text items. */
static double legend_width(PangoLayout *pl)
{
    static const char *const names[3] = {"running", "batch", "pretrained"};
    double total = 0.0;
    for (int i = 0; i < 3; i++) {
        int w, h;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, names[i], &w, &h);
        total += (i ? 14.0 : 0.0) + 16.0 + w;
    }
    return total;
}

static ThawAxis part_axis(ThawBnPlot *self, int part, int max_ticks)
{
    double r[2] = {INFINITY, -INFINITY};
    for (int s = part; s < THAW_BN_N_SERIES; s += 2) { /* mean and var alternate */
        if (!self->has[s]) continue;
        r[0] = MIN(r[0], self->lo[s]);
        r[1] = MAX(r[1], self->hi[s]);
    }
    return thaw_axis_fit(r, 2, false, max_ticks);
}

static gboolean plot_geometry(ThawBnPlot *self, PangoLayout *pl, int width, int height, Geometry *g)
{
    char buf[64];
    int tw = 0, th = 0, sw, sh;
    memset(g, 0, sizeof *g);
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, "0", &sw, &sh);
    if (self->title && *self->title) thaw_draw_text_set(pl, THAW_TEXT_TITLE, self->title, &tw, &th);
    double lw = legend_width(pl);
    g->title_h = MAX(th, sh);
    double top = PAD + g->title_h + PAD;
    if (tw + lw + 3 * PAD <= width) {
        g->legend_x = width - PAD - lw;
        g->legend_y = PAD + (g->title_h - sh) / 2.0;
    } else { /* a row of its own under the title */
        g->legend_x = PAD;
        g->legend_y = top;
        top += sh + PAD;
    }
    double header = sh + 2.0;
    double bottom = TICK + 2.0 + 2.0 * sh + PAD;
    double avail = height - top - 2.0 * header - PAD - bottom;
    g->ph[0] = g->ph[1] = floor(avail / 2.0);
    if (g->ph[0] < 16.0) return FALSE;
    g->top[0] = top + header;
    g->top[1] = g->top[0] + g->ph[0] + PAD + header;

    int max_yt = CLAMP((int)(g->ph[0] / 24.0), 3, 6), label_w = 0;
    for (int p = 0; p < 2; p++) {
        g->ay[p] = part_axis(self, p, max_yt);
        g->nyt[p] = thaw_axis_ticks(&g->ay[p], max_yt, g->yt[p], MAX_TICKS, &g->ystep[p]);
        /* Both ends labelled: widen the axis to the tick step when the fit
         * (which may use a finer step than the ticks) ends between ticks. */
        double s = g->ystep[p], lo = g->ay[p].min, hi = g->ay[p].max;
        if (g->nyt[p] > 0 && s > 0.0 &&
            (g->yt[p][0] > lo + 1e-9 * s || g->yt[p][g->nyt[p] - 1] < hi - 1e-9 * s)) {
            g->ay[p].min = floor(lo / s + 1e-9) * s;
            g->ay[p].max = ceil(hi / s - 1e-9) * s;
            g->nyt[p] = thaw_axis_ticks(&g->ay[p], max_yt, g->yt[p], MAX_TICKS, &g->ystep[p]);
        }
        for (int i = 0; i < g->nyt[p]; i++) {
            int w, h;
            thaw_axis_format(&g->ay[p], g->yt[p][i], g->ystep[p], buf, sizeof buf);
            thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
            label_w = MAX(label_w, w);
        }
    }
    g->left = ceil(PAD + label_w + 2.0 + TICK);
    g->pw = floor(width - g->left - 2.0 * PAD);
    if (g->pw < 16.0) return FALSE;

    guint n = MAX(self->n, 1);
    g->ax = (ThawAxis){-0.5, n - 0.5, false};
    if (n == 1) {
        g->xt[0] = 0.0, g->nxt = 1;
    } else { /* whole channels only */
        ThawAxis t = {0.0, n - 1.0, false};
        double tmp[MAX_TICKS], step;
        int max_xt = CLAMP((int)(g->pw / 50.0), 2, 16);
        int k = thaw_axis_ticks(&t, max_xt, tmp, MAX_TICKS, &step);
        for (int i = 0; i < k; i++)
            if (tmp[i] == floor(tmp[i])) g->xt[g->nxt++] = tmp[i];
    }
    return TRUE;
}

static double plot_px(const Geometry *g, double channel)
{
    return g->left + thaw_axis_normalize(&g->ax, channel) * g->pw;
}

static double plot_py(const Geometry *g, int part, double v)
{
    double t = thaw_axis_normalize(&g->ay[part], v);
    return isfinite(t) ? g->top[part] + (1.0 - CLAMP(t, -100.0, 100.0)) * g->ph[part] : NAN;
}

/* ---- drawing */

static gboolean plot_has_marks(ThawBnPlot *self)
{
    for (int s = 0; s < THAW_BN_N_SERIES; s++)
        if (self->has[s]) return TRUE;
    return FALSE;
}

static void draw_legend(ThawBnPlot *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                        const GdkRGBA *fg)
{
    static const char *const names[3] = {"running", "batch", "pretrained"};
    double x = g->legend_x;
    for (int i = 0; i < 3; i++) {
        int w, h;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, names[i], &w, &h);
        double cx = x + 6.0, cy = round(g->legend_y + h / 2.0);
        cairo_set_line_width(cr, 1.5);
        if (i == 0) {
            thaw_draw_set_color(cr, &self->moving_color, 1.0);
            cairo_arc(cr, cx, cy, 3.5, 0.0, 2 * G_PI);
            cairo_fill(cr);
        } else if (i == 1) {
            thaw_draw_set_color(cr, &self->batch_color, 1.0);
            cairo_arc(cr, cx, cy, 3.5, 0.0, 2 * G_PI);
            cairo_stroke(cr);
        } else {
            thaw_draw_set_color(cr, fg, 0.45);
            cairo_set_line_width(cr, 2.0);
            cairo_move_to(cr, cx - 6.0, cy), cairo_line_to(cr, cx + 6.0, cy), cairo_stroke(cr);
        }
        thaw_draw_set_color(cr, fg, 0.85);
        thaw_draw_text_show(cr, pl, x + 16.0, g->legend_y, 0.0);
        x += 16.0 + w + 14.0;
    }
}

static void draw_axes(ThawBnPlot *self, cairo_t *cr, PangoLayout *pl, const Geometry *g, int part,
                      const GdkRGBA *fg)
{
    char buf[64];
    int w, h;
    double right = g->left + g->pw, top = g->top[part], bottom = top + g->ph[part];
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, part_names[part], &w, &h);
    thaw_draw_set_color(cr, fg, 0.75);
    thaw_draw_text_show(cr, pl, g->left, top - h - 2.0, 0.0);
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < g->nyt[part]; i++) {
        double y = floor(plot_py(g, part, g->yt[part][i])) + 0.5;
        thaw_draw_set_color(cr, fg, 0.08);
        cairo_move_to(cr, g->left, y), cairo_line_to(cr, right, y), cairo_stroke(cr);
        thaw_draw_set_color(cr, fg, 0.35);
        cairo_move_to(cr, g->left - TICK, y), cairo_line_to(cr, g->left, y), cairo_stroke(cr);
        thaw_axis_format(&g->ay[part], g->yt[part][i], g->ystep[part], buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        thaw_draw_set_color(cr, fg, 0.75);
        thaw_draw_text_show(cr, pl, g->left - TICK - 2.0, CLAMP(y - h / 2.0, 0.0, bottom), 1.0);
    }
    for (int i = 0; i < g->nxt; i++) {
        double x = floor(plot_px(g, g->xt[i])) + 0.5;
        thaw_draw_set_color(cr, fg, 0.35);
        cairo_move_to(cr, x, bottom), cairo_line_to(cr, x, bottom + TICK), cairo_stroke(cr);
        if (part == 0) continue;
        thaw_axis_format(&g->ax, g->xt[i], 1.0, buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        thaw_draw_set_color(cr, fg, 0.75);
        thaw_draw_text_show(cr, pl, x, bottom + TICK + 2.0, 0.5);
    }
    thaw_draw_set_color(cr, fg, 0.25);
    cairo_rectangle(cr, g->left + 0.5, top + 0.5, g->pw - 1.0, g->ph[part] - 1.0);
    cairo_stroke(cr);
}

/* One part's marks: pretrained ticks, then batch rings, then running dots on
 * top. Sizes follow the slot width so dense layers stay readable. */
static void draw_marks(ThawBnPlot *self, cairo_t *cr, const Geometry *g, int part,
                       const GdkRGBA *fg)
{
    double slot = g->pw / MAX(self->n, 1);
    double r = CLAMP(slot * 0.3, 1.2, 3.5), hw = CLAMP(slot * 0.42, 1.5, 7.0);
    const float *ref = series(self, THAW_BN_REF_MEAN + part);
    const float *batch = series(self, THAW_BN_BATCH_MEAN + part);
    const float *moving = series(self, THAW_BN_MOVING_MEAN + part);
    cairo_save(cr); /* marks may leave the plot by their size (values on the axis ends) */
    cairo_rectangle(cr, g->left - 4.0, g->top[part] - 4.0, g->pw + 8.0, g->ph[part] + 8.0);
    cairo_clip(cr);
    if (ref) {
        for (guint i = 0; i < self->n; i++) {
            double x = plot_px(g, i), y = plot_py(g, part, ref[i]);
            if (!isfinite(y)) continue;
            cairo_move_to(cr, x - hw, y), cairo_line_to(cr, x + hw, y);
        }
        thaw_draw_set_color(cr, fg, 0.4);
        cairo_set_line_width(cr, 2.0);
        cairo_stroke(cr);
    }
    if (batch) {
        for (guint i = 0; i < self->n; i++) {
            double y = plot_py(g, part, batch[i]);
            if (!isfinite(y)) continue;
            cairo_new_sub_path(cr);
            cairo_arc(cr, plot_px(g, i), y, r + 0.3, 0.0, 2 * G_PI);
        }
        thaw_draw_set_color(cr, &self->batch_color, 1.0);
        cairo_set_line_width(cr, r > 2.0 ? 1.4 : 1.0);
        cairo_stroke(cr);
    }
    if (moving) {
        for (guint i = 0; i < self->n; i++) {
            double y = plot_py(g, part, moving[i]);
            if (!isfinite(y)) continue;
            cairo_new_sub_path(cr);
            cairo_arc(cr, plot_px(g, i), y, r, 0.0, 2 * G_PI);
        }
        thaw_draw_set_color(cr, &self->moving_color, 1.0);
        cairo_fill(cr);
    }
    cairo_restore(cr);
}

/* The hovered channel: a band under the marks (box FALSE), then the
 * read-out box over them (box TRUE), at the top of the hovered part. */
static void draw_hover(ThawBnPlot *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                       const GdkRGBA *fg, gboolean box)
{
    if (self->hover_channel < 0 || (guint)self->hover_channel >= self->n || !self->hover_text)
        return;
    double slot = g->pw / self->n, x = g->left + self->hover_channel * slot;
    if (!box) {
        thaw_draw_set_color(cr, fg, 0.1);
        for (int p = 0; p < 2; p++) cairo_rectangle(cr, x, g->top[p], MAX(slot, 1.0), g->ph[p]);
        cairo_fill(cr);
        return;
    }

    int w, h;
    thaw_draw_text_set(pl, THAW_TEXT_NORMAL, self->hover_text, &w, &h);
    thaw_draw_text_fit(pl, g->pw - 12.0, PANGO_ELLIPSIZE_END, &w);
    double bw = w + 12.0, bh = h + 6.0, p = self->hover_part;
    double bx = x + slot + 8.0, by = g->top[(int)p] + 4.0;
    if (bx + bw > g->left + g->pw) bx = x - 8.0 - bw;
    bx = round(CLAMP(bx, g->left, MAX(g->left, g->left + g->pw - bw)));
    thaw_draw_text_box(cr, fg, bx, by, bw, bh, 0.92);
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw - 1.0, bh - 1.0);
    thaw_draw_set_color(cr, fg, 0.3);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    thaw_draw_set_color(cr, fg, 1.0);
    thaw_draw_text_show(cr, pl, bx + 6.0, by + 3.0, 0.0);
}

void thaw_bn_plot_draw(ThawBnPlot *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_BN_PLOT(self));
    if (width <= 0 || height <= 0) return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = plot_geometry(self, pl, width, height, &g);
    cairo_save(cr);
    if (self->title && *self->title) {
        int tw, th;
        thaw_draw_text_set(pl, THAW_TEXT_TITLE, self->title, &tw, &th);
        thaw_draw_text_fit(pl, ok ? g.legend_x - 2 * PAD : width - 2 * PAD, PANGO_ELLIPSIZE_END,
                           &tw);
        thaw_draw_set_color(cr, &fg, 1.0);
        thaw_draw_text_show(cr, pl, PAD, PAD + (g.title_h - th) / 2.0, 0.0);
    }
    if (ok) {
        draw_legend(self, cr, pl, &g, &fg);
        for (int p = 0; p < 2; p++) draw_axes(self, cr, pl, &g, p, &fg);
        int w, h;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, "channel", &w, &h);
        thaw_draw_set_color(cr, &fg, 0.75);
        thaw_draw_text_show(cr, pl, g.left + g.pw / 2.0, g.top[1] + g.ph[1] + TICK + 2.0 + h, 0.5);
        draw_hover(self, cr, pl, &g, &fg, FALSE);
        for (int p = 0; p < 2 && self->n > 0; p++) draw_marks(self, cr, &g, p, &fg);
        draw_hover(self, cr, pl, &g, &fg, TRUE);
        if (!plot_has_marks(self) && self->placeholder) {
            int pw, ph;
            thaw_draw_text_set(pl, THAW_TEXT_TITLE, self->placeholder, &pw, &ph);
            thaw_draw_text_fit(pl, g.pw - 2 * PAD, PANGO_ELLIPSIZE_END, &pw);
            thaw_draw_set_color(cr, &fg, 0.45);
            double mid = (g.top[0] + g.top[1] + g.ph[1]) / 2.0;
            thaw_draw_text_show(cr, pl, g.left + (g.pw - pw) / 2.0, mid - ph / 2.0, 0.0);
        }
    }
    cairo_restore(cr);
    g_object_unref(pl);
}

/* ---- hover */

static void format_value(GString *t, const char *name, const float *v, guint i)
{
    g_string_append_printf(t, "%s%s ", t->str[t->len - 1] == ':' ? " " : ", ", name);
    if (v && isfinite(v[i]))
        g_string_append_printf(t, "%.4g", v[i]);
    else
        g_string_append(t, "–");
}

static void plot_set_hover(ThawBnPlot *self, int channel, int part)
{
    if (channel == self->hover_channel && (channel < 0 || part == self->hover_part)) return;
    self->hover_channel = channel;
    self->hover_part = part;
    g_clear_pointer(&self->hover_text, g_free);
    if (channel >= 0) {
        GString *t = g_string_new(NULL);
        g_string_append_printf(t, "channel %d · %s:", channel, part_names[part]);
        format_value(t, "running", series(self, THAW_BN_MOVING_MEAN + part), channel);
        format_value(t, "batch", series(self, THAW_BN_BATCH_MEAN + part), channel);
        format_value(t, "pretrained", series(self, THAW_BN_REF_MEAN + part), channel);
        self->hover_text = g_string_free(t, FALSE);
    }
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

const char *thaw_bn_plot_hover_at(ThawBnPlot *self, double x, double y)
{
    g_return_val_if_fail(THAW_IS_BN_PLOT(self), NULL);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = plot_geometry(self, pl, gtk_widget_get_width(GTK_WIDGET(self)),
                                gtk_widget_get_height(GTK_WIDGET(self)), &g);
    g_object_unref(pl);
    int channel = -1, part = 0;
    if (ok && self->n > 0 && x >= g.left && x < g.left + g.pw) {
        for (int p = 0; p < 2; p++)
            if (y >= g.top[p] && y < g.top[p] + g.ph[p]) part = p, channel = 0;
        if (channel == 0)
            channel = CLAMP((int)floor((x - g.left) / g.pw * self->n), 0, (int)self->n - 1);
    }
    plot_set_hover(self, channel, part);
    return self->hover_text;
}

gboolean thaw_bn_plot_get_plot_area(ThawBnPlot *self, int part, graphene_rect_t *area)
{
    g_return_val_if_fail(THAW_IS_BN_PLOT(self) && area && (part == 0 || part == 1), FALSE);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = plot_geometry(self, pl, gtk_widget_get_width(GTK_WIDGET(self)),
                                gtk_widget_get_height(GTK_WIDGET(self)), &g);
    g_object_unref(pl);
    graphene_rect_init(area, g.left, g.top[part], ok ? g.pw : 0.0, ok ? g.ph[part] : 0.0);
    return ok;
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, gpointer self)
{
    thaw_bn_plot_hover_at(self, x, y);
}

static void on_leave(GtkEventControllerMotion *c, gpointer self)
{
    plot_set_hover(self, -1, 0);
}

/* ---- GObject / GtkWidget */

static void thaw_bn_plot_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w <= 0 || h <= 0) return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    thaw_bn_plot_draw(THAW_BN_PLOT(widget), cr, w, h);
    cairo_destroy(cr);
}

static void thaw_bn_plot_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                 int *min, int *nat, int *min_baseline, int *nat_baseline)
{
    gboolean horizontal = orientation == GTK_ORIENTATION_HORIZONTAL;
    *min = horizontal ? 240 : 200;
    *nat = horizontal ? 480 : 300;
}

static void thaw_bn_plot_finalize(GObject *object)
{
    ThawBnPlot *self = THAW_BN_PLOT(object);
    g_free(self->title);
    g_free(self->placeholder);
    g_free(self->data);
    g_free(self->hover_text);
    G_OBJECT_CLASS(thaw_bn_plot_parent_class)->finalize(object);
}

static void thaw_bn_plot_class_init(ThawBnPlotClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->finalize = thaw_bn_plot_finalize;
    widget_class->snapshot = thaw_bn_plot_snapshot;
    widget_class->measure = thaw_bn_plot_measure;
    gtk_widget_class_set_css_name(widget_class, "thawbnplot");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void thaw_bn_plot_init(ThawBnPlot *self)
{
    self->hover_channel = -1;
    gdk_rgba_parse(&self->moving_color, THAW_BN_MOVING_COLOR);
    gdk_rgba_parse(&self->batch_color, THAW_BN_BATCH_COLOR);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "BatchNorm channel statistics",
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                   "Per channel: running mean and variance (dots), the current "
                                   "batch's (rings) and the pretrained values (grey ticks)",
                                   -1);
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);
}

/* ---- public API */

GtkWidget *thaw_bn_plot_new(void)
{
    return g_object_new(THAW_TYPE_BN_PLOT, NULL);
}

void thaw_bn_plot_set_title(ThawBnPlot *self, const char *title)
{
    g_return_if_fail(THAW_IS_BN_PLOT(self));
    if (g_strcmp0(self->title, title) == 0) return;
    g_free(self->title);
    self->title = g_strdup(title);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   title ? title : "BatchNorm channel statistics", -1);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_bn_plot_set_placeholder(ThawBnPlot *self, const char *text)
{
    g_return_if_fail(THAW_IS_BN_PLOT(self));
    if (g_strcmp0(self->placeholder, text) == 0) return;
    g_free(self->placeholder);
    self->placeholder = g_strdup(text);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_bn_plot_set_values(ThawBnPlot *self, guint n, const float *const *values)
{
    g_return_if_fail(THAW_IS_BN_PLOT(self));
    if (!values) n = 0;
    if (n > self->capacity) { /* grows only: a push of the same layer reuses it */
        g_free(self->data);
        self->data = g_new(float, (size_t)THAW_BN_N_SERIES *n);
        self->capacity = n;
    }
    self->n = n;
    for (int s = 0; s < THAW_BN_N_SERIES; s++) {
        self->has[s] = n > 0 && values[s];
        self->lo[s] = INFINITY, self->hi[s] = -INFINITY;
        if (!self->has[s]) continue;
        float *dst = self->data + (size_t)s * self->capacity;
        memcpy(dst, values[s], n * sizeof *dst);
        for (guint i = 0; i < n; i++) {
            if (!isfinite(dst[i])) continue;
            self->lo[s] = MIN(self->lo[s], dst[i]);
            self->hi[s] = MAX(self->hi[s], dst[i]);
        }
    }
    if (self->hover_channel >= 0) { /* the read-out shows the new values */
        int c = self->hover_channel, p = self->hover_part;
        self->hover_channel = -1;
        plot_set_hover(self, (guint)c < n ? c : -1, p);
    }
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint thaw_bn_plot_get_n_channels(ThawBnPlot *self)
{
    g_return_val_if_fail(THAW_IS_BN_PLOT(self), 0);
    return self->n;
}

double thaw_bn_plot_get_value(ThawBnPlot *self, ThawBnSeries s, guint channel)
{
    g_return_val_if_fail(THAW_IS_BN_PLOT(self), NAN);
    if ((int)s < 0 || s >= THAW_BN_N_SERIES || channel >= self->n || !self->has[s]) return NAN;
    return series(self, s)[channel];
}
