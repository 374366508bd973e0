/* ThawChart: see thaw-chart.h.
 *
 * One helper, chart_geometry(), turns (data, settings, text sizes, width,
 * height) into the plot rectangle, the two axes and their ticks. Drawing and
 * hover both call it, so the point under the pointer is always the point
 * drawn there, also before the first frame and right after new data changed
 * the axes. It is cheap: each series keeps its x and y extents up to date as
 * points arrive, so the geometry costs O(series) plus a dozen text
 * measurements; only the polylines and the hover search walk the points.
 *
 *   Title                                       -- batch loss  -- epoch loss
 *       +---------------------------------------------------------------+
 *   2.0 |-.  lr 1e-4 :                                                  |
 *   1.0 |  `-._      :                                                  |
 *       +---------------------------------------------------------------+
 *       0          200         400         600         800          1000
 *                                  step
 */
#include "thaw-chart.h"

#include <math.h>
#include <string.h>

#include "thaw-chart-axis.h"
#include "thaw-draw.h"

#define PAD          6.0  /* around the edges and between bands */
#define TICK         4.0  /* tick mark length, outside the plot */
#define HOVER_RADIUS 30.0 /* pointer to point, in pixels, for a read-out */
#define MAX_TICKS    32
#define MARKER_ROWS  3 /* staggered rows of marker labels */

typedef struct {
    char *name;
    GdkRGBA color;
    ThawChartStyle style;
    GArray *x, *y;             /* doubles, all points kept; drawing decimates */
    double xlo, xhi;           /* finite x extent */
    double ylo, yhi, plo, phi; /* finite y extent, and of y > 0 (log axes) */
} Series;

typedef struct {
    double x;
    char *label;
} Marker;

typedef struct {
    double left, top, pw, ph;      /* the plot area, whole pixels */
    double row_h;                  /* the title row's height */
    double legend_y, legend_row_h; /* the legend's own rows, if it has them */
    ThawAxis ax, ay;
    double xt[MAX_TICKS], yt[MAX_TICKS], xstep, ystep;
    int nxt, nyt;
} Geometry;

struct _ThawChart {
    GtkWidget parent_instance;
    char *title, *x_label, *y_unit;
    char *placeholder;    /* shown in the plot while no series has a point */
    char *y_label_sample; /* the y labels take at least this text's width */
    gboolean log_y;
    double y_min, y_max; /* NAN: fit the data */
    GPtrArray *series;   /* of Series */
    GArray *markers;     /* of Marker */
    int hover_series;    /* -1: no read-out */
    guint hover_index;
    char *hover_text;
};

G_DEFINE_FINAL_TYPE(ThawChart, thaw_chart, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_TITLE, PROP_LOG_Y, N_PROPS };
static GParamSpec *props[N_PROPS];

static void series_free(gpointer p)
{
    Series *s = p;
    g_free(s->name);
    g_array_unref(s->x);
    g_array_unref(s->y);
    g_free(s);
}

static void series_reset_extents(Series *s)
{
    s->xlo = s->ylo = s->plo = INFINITY;
    s->xhi = s->yhi = s->phi = -INFINITY;
}

static void marker_clear(gpointer p)
{
    g_free(((Marker *)p)->label);
}

/* g_set_str() is GLib 2.76; TRUE when the string changed. */
static gboolean chart_set_str(char **dst, const char *src)
{
    if (g_strcmp0(*dst, src) == 0) return FALSE;
    g_free(*dst);
    *dst = g_strdup(src);
    return TRUE;
}

static Series *chart_series(ThawChart *self, int i)
{
    return g_ptr_array_index(self->series, i);
}

/* Text goes through the widget's own Pango context (its CSS font, DPI and
 * font options, thaw-draw.h), which exists whether or not the widget is
 * realized, so drawing into any cairo_t and the hover's measurements agree. */

static void format_tick(ThawChart *self, const ThawAxis *a, double v, double step, gboolean unit,
                        char *buf, size_t size)
{
    thaw_axis_format(a, v, step, buf, size);
    if (unit && self->y_unit) g_strlcat(buf, self->y_unit, size);
}

/* ---- geometry */

static gboolean series_visible(const Series *s)
{
    return s->x->len > 0;
}

/* Where the legend goes: one line right-aligned beside the title when it
 * fits, else rows of its own under the title, filled left to right. Stores
 * each series' x and row (-1: the title row) in pos (2 per series) and
 * returns how many rows of its own it takes (0: beside the title or empty).
 *
 * The legend lists only series with at least one point: a series the run
 * has not reached yet (epoch loss before the first epoch ends, the mode not
 * in use) would otherwise name a line that is not there. */
static int chart_legend(ThawChart *self, PangoLayout *pl, int width, int title_w, double *pos)
{
    double total = 0.0, x = PAD;
    int w, h, rows = 1;
    for (guint i = 0; i < self->series->len; i++) {
        pos[2 * i] = NAN, pos[2 * i + 1] = 0.0; /* NAN: not in the legend */
        if (!series_visible(chart_series(self, i))) continue;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, chart_series(self, i)->name, &w, &h);
        total += (total > 0.0 ? 14.0 : 0.0) + 20.0 + w;
        pos[2 * i] = w; /* the item's text width, for the second pass */
    }
    gboolean beside = total + title_w + (title_w > 0 ? 3 : 2) * PAD <= width;
    if (beside) x = width - PAD - total;
    for (guint i = 0; i < self->series->len; i++) {
        if (isnan(pos[2 * i])) continue;
        w = (int)pos[2 * i];
        if (!beside && x > PAD && x + 20.0 + w > width - PAD) x = PAD, rows++;
        pos[2 * i] = x;
        pos[2 * i + 1] = beside ? -1 : rows - 1;
        x += 20.0 + w + 14.0;
    }
    return beside || total == 0.0 ? 0 : rows;
}

static ThawAxis chart_x_axis(ThawChart *self)
{
    double r[2] = {0.0, -INFINITY}; /* steps and epochs start the axis at 0 */
    for (guint i = 0; i < self->series->len; i++) {
        Series *s = chart_series(self, i);
        r[0] = MIN(r[0], s->xlo), r[1] = MAX(r[1], s->xhi);
    }
    for (guint i = 0; i < self->markers->len; i++) {
        double x = g_array_index(self->markers, Marker, i).x;
        if (isfinite(x)) r[0] = MIN(r[0], x), r[1] = MAX(r[1], x);
    }
    if (!(r[1] > r[0])) r[1] = r[0] + 1.0;
    /* The exact span, not widened to a nice tick: a live run's latest step
     * stays at the right edge, and 0..1010 does not become 0..1500. */
    return (ThawAxis){r[0], r[1], false};
}

/* The fixed range if set (one a log axis cannot show, min <= 0, is ignored),
 * else a fit of every series' finite (log: positive) values. */
static ThawAxis chart_y_axis(ThawChart *self, int max_ticks)
{
    if (isfinite(self->y_min) && (!self->log_y || self->y_min > 0.0))
        return (ThawAxis){self->y_min, self->y_max, self->log_y};
    double r[2] = {INFINITY, -INFINITY};
    for (guint i = 0; i < self->series->len; i++) {
        Series *s = chart_series(self, i);
        r[0] = MIN(r[0], self->log_y ? s->plo : s->ylo);
        r[1] = MAX(r[1], self->log_y ? s->phi : s->yhi);
    }
    return thaw_axis_fit(r, 2, self->log_y, max_ticks);
}

/* Everything's place for a width x height chart; FALSE when too small for a
 * plot area (the title is still drawn). */
static gboolean chart_geometry(ThawChart *self, PangoLayout *pl, int width, int height, Geometry *g)
{
    char buf[64];
    int tw = 0, th = 0, sw, sh;
    memset(g, 0, sizeof *g);
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, "0", &sw, &sh);
    if (self->title && *self->title) thaw_draw_text_set(pl, THAW_TEXT_TITLE, self->title, &tw, &th);
    double *pos = g_new(double, 2 * self->series->len + 2);
    int legend_rows = chart_legend(self, pl, width, tw, pos);
    gboolean legend_beside = FALSE;
    for (guint i = 0; i < self->series->len; i++) legend_beside |= pos[2 * i + 1] < 0.0;
    g_free(pos);
    g->row_h = MAX(th, sh);
    g->top = PAD;
    if (tw > 0 || legend_beside) g->top += g->row_h + PAD;
    g->legend_y = g->top, g->legend_row_h = sh + 2.0;
    g->top += legend_rows * g->legend_row_h + (legend_rows ? PAD : 0.0);
    double bottom = TICK + 2.0 + sh + PAD + (self->x_label && *self->x_label ? sh : 0.0);
    g->ph = floor(height - g->top - bottom);
    if (g->ph < 16.0) return FALSE;

    int max_yt = CLAMP((int)(g->ph / 32.0), 2, 8);
    g->ay = chart_y_axis(self, max_yt);
    g->nyt = thaw_axis_ticks(&g->ay, max_yt, g->yt, MAX_TICKS, &g->ystep);
    int label_w = 0;
    if (self->y_label_sample) {
        int h;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, self->y_label_sample, &label_w, &h);
    }
    for (int i = 0; i < g->nyt; i++) {
        int w, h;
        format_tick(self, &g->ay, g->yt[i], g->ystep, TRUE, buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        label_w = MAX(label_w, w);
    }
    g->left = ceil(PAD + label_w + 2.0 + TICK);

    /* The last x label is centred on the right edge: leave room for half. */
    int max_xt = CLAMP((int)((width - g->left - 2 * PAD) / 80.0), 3, 10);
    g->ax = chart_x_axis(self);
    format_tick(self, &g->ax, g->ax.max, 1.0, FALSE, buf, sizeof buf);
    int lw, lh;
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &lw, &lh);
    g->pw = floor(width - g->left - MAX(2 * PAD, lw / 2.0 + 2.0));
    if (g->pw < 16.0) return FALSE;
    g->nxt = thaw_axis_ticks(&g->ax, max_xt, g->xt, MAX_TICKS, &g->xstep);
    return TRUE;
}

/* Data to pixels; NAN (a gap) for what the axis cannot show (non-finite
 * values, y <= 0 on a log axis). Far-off values are clamped so cairo's fixed
 * point never overflows; the plot clip hides them. */
static double chart_px(const Geometry *g, double x)
{
    double t = thaw_axis_normalize(&g->ax, x);
    return isfinite(t) ? g->left + CLAMP(t, -100.0, 100.0) * g->pw : NAN;
}

static double chart_py(const Geometry *g, double y)
{
    double t = thaw_axis_normalize(&g->ay, y);
    return isfinite(t) ? g->top + (1.0 - CLAMP(t, -100.0, 100.0)) * g->ph : NAN;
}

/* ---- drawing */

static void draw_axes(ThawChart *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                      const GdkRGBA *fg)
{
    char buf[64];
    int w, h;
    double right = g->left + g->pw, bottom = g->top + g->ph;
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < g->nyt; i++) {
        double y = floor(chart_py(g, g->yt[i])) + 0.5;
        thaw_draw_set_color(cr, fg, 0.08); /* grid */
        cairo_move_to(cr, g->left, y), cairo_line_to(cr, right, y), cairo_stroke(cr);
        thaw_draw_set_color(cr, fg, 0.35);
        cairo_move_to(cr, g->left - TICK, y), cairo_line_to(cr, g->left, y), cairo_stroke(cr);
        format_tick(self, &g->ay, g->yt[i], g->ystep, TRUE, buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        thaw_draw_set_color(cr, fg, 0.75);
        thaw_draw_text_show(cr, pl, g->left - TICK - 2.0, CLAMP(y - h / 2.0, 0.0, bottom), 1.0);
    }
    for (int i = 0; i < g->nxt; i++) {
        double x = floor(chart_px(g, g->xt[i])) + 0.5;
        thaw_draw_set_color(cr, fg, 0.08);
        cairo_move_to(cr, x, g->top), cairo_line_to(cr, x, bottom), cairo_stroke(cr);
        thaw_draw_set_color(cr, fg, 0.35);
        cairo_move_to(cr, x, bottom), cairo_line_to(cr, x, bottom + TICK), cairo_stroke(cr);
        format_tick(self, &g->ax, g->xt[i], g->xstep, FALSE, buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        thaw_draw_set_color(cr, fg, 0.75);
        thaw_draw_text_show(cr, pl, x, bottom + TICK + 2.0, 0.5);
    }
    if (self->x_label && *self->x_label) {
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, self->x_label, &w, &h);
        thaw_draw_text_show(cr, pl, g->left + g->pw / 2.0, bottom + TICK + 2.0 + h, 0.5);
    }
    thaw_draw_set_color(cr, fg, 0.25); /* a subtle frame; the background stays the window's */
    cairo_rectangle(cr, g->left + 0.5, g->top + 0.5, g->pw - 1.0, g->ph - 1.0);
    cairo_stroke(cr);
}

static void path_to(cairo_t *cr, gboolean *pen, double x, double y)
{
    if (*pen)
        cairo_line_to(cr, x, y);
    else
        cairo_move_to(cr, x, y);
    *pen = TRUE;
}

/* Adds a series' polyline to the path. With more points than pixel columns
 * each column gets its first, lowest, highest and last value, in the order
 * they came, so spikes survive and the path has O(width) segments however
 * many points there are. Gaps (see chart_px) lift the pen. */
static void path_series(cairo_t *cr, const Geometry *g, const Series *s)
{
    const double *xs = (const double *)s->x->data, *ys = (const double *)s->y->data;
    gboolean decimate = s->x->len > (guint)g->pw, pen = FALSE;
    double col = NAN, b[4] = {0}; /* first, min, max, last (screen y) */
    guint bi[2] = {0};            /* when the min and the max came */
    for (guint i = 0; i <= s->x->len; i++) {
        double px = i < s->x->len ? chart_px(g, xs[i]) : NAN;
        double py = i < s->x->len ? chart_py(g, ys[i]) : NAN;
        gboolean ok = isfinite(px) && isfinite(py);
        if (!decimate) {
            if (ok)
                path_to(cr, &pen, px, py);
            else
                pen = FALSE;
            continue;
        }
        double c = ok ? floor(px) : NAN;
        if (isfinite(col) && c != col) { /* flush the finished column */
            double x = col + 0.5;
            path_to(cr, &pen, x, b[0]);
            path_to(cr, &pen, x, b[bi[0] < bi[1] ? 1 : 2]);
            path_to(cr, &pen, x, b[bi[0] < bi[1] ? 2 : 1]);
            path_to(cr, &pen, x, b[3]);
        }
        if (!ok) pen = FALSE;
        if (c != col) {
            col = c;
            b[0] = b[1] = b[2] = b[3] = py;
            bi[0] = bi[1] = i;
            continue;
        }
        if (py < b[1]) b[1] = py, bi[0] = i;
        if (py > b[2]) b[2] = py, bi[1] = i;
        b[3] = py;
    }
}

static void draw_series(cairo_t *cr, const Geometry *g, const Series *s)
{
    static const double dash[] = {6.0, 4.0};
    thaw_draw_set_color(cr, &s->color, 1.0);
    cairo_set_line_width(cr, s->style == THAW_CHART_LINE_POINTS ? 2.0 : 1.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_dash(cr, dash, s->style == THAW_CHART_DASHED ? 2 : 0, 0.0);
    path_series(cr, g, s);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
    /* Dots only while they stay apart; on a dense series they would merge
     * into a thick line anyway. */
    if (s->style != THAW_CHART_LINE_POINTS || s->x->len > (guint)g->pw / 4) return;
    for (guint i = 0; i < s->x->len; i++) {
        double px = chart_px(g, g_array_index(s->x, double, i));
        double py = chart_py(g, g_array_index(s->y, double, i));
        if (!isfinite(px) || !isfinite(py)) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, 3.0, 0.0, 2 * G_PI);
    }
    cairo_fill(cr);
}

/* Markers: dashed lines in the text colour, dimmed, under the series; then
 * (labels TRUE) their labels over the series at the top of the plot, each
 * in the first of MARKER_ROWS rows where it does not run into the label
 * before it, ellipsized to 140 px and to the plot; right of the line, or
 * left of it near the right edge. A label with no free row is left out: the
 * line still shows. */
static void draw_markers(ThawChart *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                         const GdkRGBA *fg, gboolean labels)
{
    static const double dash[] = {3.0, 3.0};
    double row_end[MARKER_ROWS], right = g->left + g->pw;
    for (int r = 0; r < MARKER_ROWS; r++) row_end[r] = -INFINITY;
    for (guint i = 0; i < self->markers->len; i++) {
        const Marker *m = &g_array_index(self->markers, Marker, i);
        double x = chart_px(g, m->x);
        if (!isfinite(x)) continue;
        x = floor(x) + 0.5;
        if (!labels) {
            thaw_draw_set_color(cr, fg, 0.45);
            cairo_set_line_width(cr, 1.0);
            cairo_set_dash(cr, dash, 2, 0.0);
            cairo_move_to(cr, x, g->top), cairo_line_to(cr, x, g->top + g->ph), cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0.0);
            continue;
        }
        if (!m->label || !*m->label) continue;
        int w, h;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, m->label, &w, &h);
        gboolean left = right - x < MIN(w, 80) + 6.0 && x - g->left > right - x;
        double room = MIN(140.0, (left ? x - g->left : right - x) - 6.0);
        if (room < 16.0) continue;
        if (w > room) {
            pango_layout_set_width(pl, (int)(room * PANGO_SCALE));
            pango_layout_set_ellipsize(pl, PANGO_ELLIPSIZE_END);
            pango_layout_get_pixel_size(pl, &w, &h);
        }
        double lx = left ? x - 3.0 - w : x + 3.0;
        for (int r = 0; r < MARKER_ROWS; r++) {
            if (lx < row_end[r] + 6.0) continue;
            double y = g->top + 2.0 + r * h;
            thaw_draw_text_box(cr, fg, lx - 2.0, y, w + 4.0, h, 0.75);
            thaw_draw_set_color(cr, fg, 0.8);
            thaw_draw_text_show(cr, pl, lx, y, 0.0);
            row_end[r] = lx + w;
            break;
        }
    }
}

static void draw_legend(ThawChart *self, cairo_t *cr, PangoLayout *pl, const Geometry *g, int width,
                        int title_w, const GdkRGBA *fg)
{
    static const double dash[] = {4.0, 2.0};
    double *pos = g_new(double, 2 * self->series->len + 2);
    chart_legend(self, pl, width, title_w, pos);
    for (guint i = 0; i < self->series->len; i++) {
        Series *s = chart_series(self, i);
        if (isnan(pos[2 * i])) continue;
        int w, h;
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, s->name, &w, &h);
        double x = pos[2 * i], row = pos[2 * i + 1];
        double y = row < 0.0 ? PAD + (g->row_h - h) / 2.0 : g->legend_y + row * g->legend_row_h;
        double my = round(y + h / 2.0);
        thaw_draw_set_color(cr, &s->color, 1.0);
        cairo_set_line_width(cr, 2.0);
        cairo_set_dash(cr, dash, s->style == THAW_CHART_DASHED ? 2 : 0, 0.0);
        cairo_move_to(cr, x, my), cairo_line_to(cr, x + 16.0, my), cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
        if (s->style == THAW_CHART_LINE_POINTS) {
            cairo_arc(cr, x + 8.0, my, 3.0, 0.0, 2 * G_PI);
            cairo_fill(cr);
        }
        thaw_draw_set_color(cr, fg, 0.85);
        thaw_draw_text_show(cr, pl, x + 20.0, y, 0.0);
    }
    g_free(pos);
}

/* The hovered point: a ring in the series colour and a read-out box beside
 * it, kept inside the plot. */
static void draw_hover(ThawChart *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                       const GdkRGBA *fg)
{
    if (self->hover_series < 0 || !self->hover_text) return;
    Series *s = chart_series(self, self->hover_series);
    double px = chart_px(g, g_array_index(s->x, double, self->hover_index));
    double py = chart_py(g, g_array_index(s->y, double, self->hover_index));
    if (!isfinite(px) || !isfinite(py)) return;
    cairo_arc(cr, px, py, 4.5, 0.0, 2 * G_PI);
    thaw_draw_set_color(cr, &s->color, 1.0);
    cairo_fill_preserve(cr);
    thaw_draw_set_color(cr, fg, 0.9);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);

    int w, h;
    thaw_draw_text_set(pl, THAW_TEXT_NORMAL, self->hover_text, &w, &h);
    double bw = w + 12.0, bh = h + 6.0, bx = px + 10.0, by = py - 10.0 - bh;
    if (bx + bw > g->left + g->pw) bx = px - 10.0 - bw;
    if (by < g->top) by = py + 10.0;
    bx = round(CLAMP(bx, g->left, MAX(g->left, g->left + g->pw - bw)));
    by = round(CLAMP(by, g->top, MAX(g->top, g->top + g->ph - bh)));
    thaw_draw_text_box(cr, fg, bx, by, bw, bh, 0.92);
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw - 1.0, bh - 1.0);
    thaw_draw_set_color(cr, fg, 0.3);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    thaw_draw_set_color(cr, fg, 1.0);
    thaw_draw_text_show(cr, pl, bx + 6.0, by + 3.0, 0.0);
}

static gboolean chart_has_points(ThawChart *self)
{
    for (guint i = 0; i < self->series->len; i++)
        if (chart_series(self, i)->x->len > 0) return TRUE;
    return FALSE;
}

void thaw_chart_set_placeholder(ThawChart *self, const char *text)
{
    g_return_if_fail(THAW_IS_CHART(self));
    if (g_strcmp0(self->placeholder, text) == 0) return;
    g_free(self->placeholder);
    self->placeholder = g_strdup(text);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_set_y_label_sample(ThawChart *self, const char *sample)
{
    g_return_if_fail(THAW_IS_CHART(self));
    if (g_strcmp0(self->y_label_sample, sample) == 0) return;
    g_free(self->y_label_sample);
    self->y_label_sample = g_strdup(sample);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_draw(ThawChart *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_CHART(self));
    if (width <= 0 || height <= 0) return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = chart_geometry(self, pl, width, height, &g);
    cairo_save(cr);
    int tw = 0, th;
    if (self->title && *self->title) {
        thaw_draw_text_set(pl, THAW_TEXT_TITLE, self->title, &tw, &th);
        thaw_draw_set_color(cr, &fg, 1.0);
        thaw_draw_text_show(cr, pl, PAD, PAD + (g.row_h - th) / 2.0, 0.0);
    }
    if (ok) {
        draw_legend(self, cr, pl, &g, width, tw, &fg);
        draw_axes(self, cr, pl, &g, &fg);
        cairo_save(cr); /* lines may leave the plot only by their width */
        cairo_rectangle(cr, g.left - 3.0, g.top - 3.0, g.pw + 6.0, g.ph + 6.0);
        cairo_clip(cr);
        draw_markers(self, cr, pl, &g, &fg, FALSE);
        for (guint i = 0; i < self->series->len; i++) draw_series(cr, &g, chart_series(self, i));
        draw_markers(self, cr, pl, &g, &fg, TRUE);
        cairo_restore(cr);
        draw_hover(self, cr, pl, &g, &fg);
        if (self->placeholder && !chart_has_points(self)) {
            int pw, ph;
            thaw_draw_text_set(pl, THAW_TEXT_TITLE, self->placeholder, &pw, &ph);
            thaw_draw_set_color(cr, &fg, 0.45);
            thaw_draw_text_show(cr, pl, g.left + (g.pw - pw) / 2.0, g.top + (g.ph - ph) / 2.0, 0.0);
        }
    }
    cairo_restore(cr);
    g_object_unref(pl);
}

/* ---- hover */

static char *chart_hover_text(ThawChart *self, int si, guint i)
{
    Series *s = chart_series(self, si);
    double x = g_array_index(s->x, double, i), y = g_array_index(s->y, double, i);
    GString *t = g_string_new(s->name);
    g_string_append(t, "  ");
    if (self->x_label && *self->x_label) g_string_append_printf(t, "%s ", self->x_label);
    if (x == floor(x) && fabs(x) < 1e15)
        g_string_append_printf(t, "%.0f  ", x);
    else
        g_string_append_printf(t, "%.4g  ", x);
    /* 4 significant digits: 0.3127, 87.5, 1.5e-05; whole numbers from 1000 */
    if (fabs(y) >= 1000.0 && fabs(y) < 1e7)
        g_string_append_printf(t, "%.0f", y);
    else
        g_string_append_printf(t, "%.4g", y);
    if (self->y_unit) g_string_append(t, self->y_unit);
    return g_string_free(t, FALSE);
}

/* The read-out names the x label and carries the unit: rewrite it when they change. */
static void chart_refresh_hover(ThawChart *self)
{
    if (self->hover_series < 0) return;
    g_free(self->hover_text);
    self->hover_text = chart_hover_text(self, self->hover_series, self->hover_index);
}

static void chart_set_hover(ThawChart *self, int si, guint i)
{
    if (si == self->hover_series && (si < 0 || i == self->hover_index)) return;
    self->hover_series = si;
    self->hover_index = i;
    g_clear_pointer(&self->hover_text, g_free);
    if (si >= 0) self->hover_text = chart_hover_text(self, si, i);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

const char *thaw_chart_hover_at(ThawChart *self, double px, double py)
{
    g_return_val_if_fail(THAW_IS_CHART(self), NULL);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = chart_geometry(self, pl, gtk_widget_get_width(GTK_WIDGET(self)),
                                 gtk_widget_get_height(GTK_WIDGET(self)), &g);
    g_object_unref(pl);
    int best = -1, best_i = 0;
    double best_d = HOVER_RADIUS * HOVER_RADIUS;
    for (guint si = 0; ok && si < self->series->len; si++) {
        Series *s = chart_series(self, si);
        const double *xs = (const double *)s->x->data, *ys = (const double *)s->y->data;
        int i = thaw_axis_nearest(&g.ax, &g.ay, xs, ys, s->x->len, (px - g.left) / g.pw,
                                  (g.top + g.ph - py) / g.ph, g.pw, g.ph);
        if (i < 0) continue;
        double dx = chart_px(&g, xs[i]) - px, dy = chart_py(&g, ys[i]) - py;
        if (dx * dx + dy * dy <= best_d) best_d = dx * dx + dy * dy, best = (int)si, best_i = i;
    }
    chart_set_hover(self, best, (guint)best_i);
    return self->hover_text;
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, gpointer self)
{
    thaw_chart_hover_at(self, x, y);
}

static void on_leave(GtkEventControllerMotion *c, gpointer self)
{
    chart_set_hover(self, -1, 0);
}

gboolean thaw_chart_get_plot_area(ThawChart *self, graphene_rect_t *area)
{
    g_return_val_if_fail(THAW_IS_CHART(self) && area, FALSE);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = chart_geometry(self, pl, gtk_widget_get_width(GTK_WIDGET(self)),
                                 gtk_widget_get_height(GTK_WIDGET(self)), &g);
    g_object_unref(pl);
    graphene_rect_init(area, g.left, g.top, ok ? g.pw : 0.0, ok ? g.ph : 0.0);
    return ok;
}

/* ---- GObject / GtkWidget */

static void thaw_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w <= 0 || h <= 0) return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    thaw_chart_draw(THAW_CHART(widget), cr, w, h);
    cairo_destroy(cr);
}

static void thaw_chart_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                               int *min, int *nat, int *min_baseline, int *nat_baseline)
{
    gboolean horizontal = orientation == GTK_ORIENTATION_HORIZONTAL;
    *min = horizontal ? 240 : 160;
    *nat = horizontal ? 480 : 280;
}

static void thaw_chart_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    ThawChart *self = THAW_CHART(object);
    switch (id) {
    case PROP_TITLE:
        g_value_set_string(value, self->title);
        break;
    case PROP_LOG_Y:
        g_value_set_boolean(value, self->log_y);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_chart_set_property(GObject *object, guint id, const GValue *value,
                                    GParamSpec *pspec)
{
    ThawChart *self = THAW_CHART(object);
    switch (id) {
    case PROP_TITLE:
        thaw_chart_set_title(self, g_value_get_string(value));
        break;
    case PROP_LOG_Y:
        thaw_chart_set_log_y(self, g_value_get_boolean(value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_chart_finalize(GObject *object)
{
    ThawChart *self = THAW_CHART(object);
    g_free(self->title);
    g_free(self->placeholder);
    g_free(self->y_label_sample);
    g_free(self->x_label);
    g_free(self->y_unit);
    g_free(self->hover_text);
    g_ptr_array_unref(self->series);
    g_array_unref(self->markers);
    G_OBJECT_CLASS(thaw_chart_parent_class)->finalize(object);
}

static void thaw_chart_class_init(ThawChartClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->get_property = thaw_chart_get_property;
    object_class->set_property = thaw_chart_set_property;
    object_class->finalize = thaw_chart_finalize;
    widget_class->snapshot = thaw_chart_snapshot;
    widget_class->measure = thaw_chart_measure;
    props[PROP_TITLE] =
        g_param_spec_string("title", NULL, NULL, NULL,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    props[PROP_LOG_Y] =
        g_param_spec_boolean("log-y", NULL, NULL, FALSE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
    gtk_widget_class_set_css_name(widget_class, "thawchart");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void thaw_chart_init(ThawChart *self)
{
    self->y_min = self->y_max = NAN;
    self->hover_series = -1;
    self->series = g_ptr_array_new_with_free_func(series_free);
    self->markers = g_array_new(FALSE, FALSE, sizeof(Marker));
    g_array_set_clear_func(self->markers, marker_clear);
    self->x_label = g_strdup("step");
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);
}

/* ---- public API */

GtkWidget *thaw_chart_new(const char *title)
{
    return g_object_new(THAW_TYPE_CHART, "title", title, NULL);
}

void thaw_chart_set_title(ThawChart *self, const char *title)
{
    g_return_if_fail(THAW_IS_CHART(self));
    if (!chart_set_str(&self->title, title)) return;
    if (title)
        gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                       -1);
    else
        gtk_accessible_reset_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TITLE]);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_set_x_label(ThawChart *self, const char *label)
{
    g_return_if_fail(THAW_IS_CHART(self));
    if (!chart_set_str(&self->x_label, label)) return;
    chart_refresh_hover(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_set_log_y(ThawChart *self, gboolean log_y)
{
    g_return_if_fail(THAW_IS_CHART(self));
    log_y = !!log_y;
    if (self->log_y == log_y) return;
    self->log_y = log_y;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOG_Y]);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean thaw_chart_get_log_y(ThawChart *self)
{
    g_return_val_if_fail(THAW_IS_CHART(self), FALSE);
    return self->log_y;
}

void thaw_chart_set_y_range(ThawChart *self, double min, double max)
{
    g_return_if_fail(THAW_IS_CHART(self));
    g_return_if_fail((isnan(min) && isnan(max)) || (isfinite(min) && isfinite(max) && min < max));
    if ((isnan(min) && isnan(self->y_min)) || (min == self->y_min && max == self->y_max)) return;
    self->y_min = min;
    self->y_max = max;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_set_y_unit(ThawChart *self, const char *unit)
{
    g_return_if_fail(THAW_IS_CHART(self));
    if (!chart_set_str(&self->y_unit, unit)) return;
    chart_refresh_hover(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

int thaw_chart_add_series(ThawChart *self, const char *name, const char *color,
                          ThawChartStyle style)
{
    g_return_val_if_fail(THAW_IS_CHART(self), -1);
    Series *s = g_new0(Series, 1);
    s->name = g_strdup(name ? name : "");
    if (!color || !gdk_rgba_parse(&s->color, color)) gdk_rgba_parse(&s->color, THAW_CHART_BLUE);
    s->style = style;
    s->x = g_array_new(FALSE, FALSE, sizeof(double));
    s->y = g_array_new(FALSE, FALSE, sizeof(double));
    series_reset_extents(s);
    g_ptr_array_add(self->series, s);

    GString *desc = g_string_new("Line chart of ");
    for (guint i = 0; i < self->series->len; i++)
        g_string_append_printf(desc, "%s%s", i ? ", " : "", chart_series(self, i)->name);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                   desc->str, -1);
    g_string_free(desc, TRUE);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return (int)self->series->len - 1;
}

void thaw_chart_append(ThawChart *self, int series, double x, double y)
{
    g_return_if_fail(THAW_IS_CHART(self));
    g_return_if_fail(series >= 0 && (guint)series < self->series->len);
    Series *s = chart_series(self, series);
    g_array_append_val(s->x, x);
    g_array_append_val(s->y, y);
    if (isfinite(x)) s->xlo = MIN(s->xlo, x), s->xhi = MAX(s->xhi, x);
    if (isfinite(y)) s->ylo = MIN(s->ylo, y), s->yhi = MAX(s->yhi, y);
    if (isfinite(y) && y > 0.0) s->plo = MIN(s->plo, y), s->phi = MAX(s->phi, y);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_add_marker(ThawChart *self, double x, const char *label)
{
    g_return_if_fail(THAW_IS_CHART(self));
    Marker m = {x, g_strdup(label)};
    g_array_append_val(self->markers, m);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_chart_clear(ThawChart *self)
{
    g_return_if_fail(THAW_IS_CHART(self));
    gboolean changed = self->markers->len > 0;
    for (guint i = 0; i < self->series->len; i++) {
        Series *s = chart_series(self, i);
        changed |= s->x->len > 0;
        g_array_set_size(s->x, 0);
        g_array_set_size(s->y, 0);
        series_reset_extents(s);
    }
    g_array_set_size(self->markers, 0);
    self->hover_series = -1;
    g_clear_pointer(&self->hover_text, g_free);
    if (changed) gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint thaw_chart_get_n_series(ThawChart *self)
{
    g_return_val_if_fail(THAW_IS_CHART(self), 0);
    return self->series->len;
}

guint thaw_chart_get_n_points(ThawChart *self, int series)
{
    g_return_val_if_fail(THAW_IS_CHART(self), 0);
    g_return_val_if_fail(series >= 0 && (guint)series < self->series->len, 0);
    return chart_series(self, series)->x->len;
}

gboolean thaw_chart_get_point(ThawChart *self, int series, guint i, double *x, double *y)
{
    g_return_val_if_fail(THAW_IS_CHART(self), FALSE);
    if (series < 0 || (guint)series >= self->series->len) return FALSE;
    Series *s = chart_series(self, series);
    if (i >= s->x->len) return FALSE;
    if (x) *x = g_array_index(s->x, double, i);
    if (y) *y = g_array_index(s->y, double, i);
    return TRUE;
}

guint thaw_chart_get_n_markers(ThawChart *self)
{
    g_return_val_if_fail(THAW_IS_CHART(self), 0);
    return self->markers->len;
}

const char *thaw_chart_get_marker(ThawChart *self, guint i, double *x)
{
    g_return_val_if_fail(THAW_IS_CHART(self), NULL);
    if (i >= self->markers->len) return NULL;
    const Marker *m = &g_array_index(self->markers, Marker, i);
    if (x) *x = m->x;
    return m->label;
}
