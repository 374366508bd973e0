/* ThawDriftMap: see thaw-drift-map.h.
 *
 * map_geometry() places the names column, the cells, the colour bar and
 * both axes for a given size; drawing, hover and clicks all call it, so a
 * click lands on the row drawn under it.
 *
 *   Drift from pretrained   mean relative change of running mean and variance
 *   conv1_bn           +------------------------------------------+  +-+ 40%
 *   conv2_block1_1_bn  |                     ..........::::::####|  | | 30%
 *   ...                |                                          |  | | ...
 *   conv4_block2_2_bn  +------------------------------------------+  +-+ 0%
 *                      0          100          200          300
 *                                        step
 */
#include "thaw-drift-map.h"

#include <math.h>
#include <string.h>

#include "thaw-chart-axis.h"
#include "thaw-draw.h"

#define PAD        6.0
#define TICK       4.0
#define MAX_TICKS  32
#define MAX_ROW_H  22.0  /* rows of a small model do not become bands */
#define MAX_NAME_W 170.0 /* the names column at most */
#define BAR_W      12.0  /* the colour bar */

typedef struct {
    double names_w;           /* the names column, from PAD */
    double left, top, mw, mh; /* the cells */
    double row_h;
    double bar_x; /* the colour bar: same top and height as the cells */
    double title_h;
    int label_every; /* name every k-th row */
    ThawAxis scale;  /* drift in percent */
    double st[MAX_TICKS], sstep;
    int nst;
} Geometry;

struct _ThawDriftMap {
    GtkWidget parent_instance;
    int n_rows;
    char **names;           /* n_rows, NULL-terminated */
    double *values;         /* (MAX_COLUMNS, n_rows), column-major */
    guint64 *steps;         /* (MAX_COLUMNS) */
    guint n_cols;           /* columns in use */
    guint span, fill;       /* appends per column; appends in the last column */
    double max;             /* the largest finite value (the top of the scale) */
    gboolean any_nan;       /* a cell without a value (the bar shows the grey) */
    int selected;           /* -1: none */
    cairo_surface_t *cells; /* (MAX_COLUMNS x n_rows) cell colours, or NULL */
    double cells_top;       /* the scale (percent) the cells were coloured for */
    guint cells_from;       /* columns from here on need colouring */
    int hover_row;          /* -1: no read-out */
    guint hover_col;
    char *hover_text;
};

G_DEFINE_FINAL_TYPE(ThawDriftMap, thaw_drift_map, GTK_TYPE_WIDGET)

enum { SIGNAL_ROW_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- the colour scale */

typedef struct {
    double t, r, g, b, a;
} Stop;

/* Transparent to yellow, then orange, then dark red (THAW_DRIFT_*). */
static const Stop ramp[] = {
    {0.00, 0.965, 0.827, 0.176, 0.0},
    {0.30, 0.965, 0.827, 0.176, 1.0},
    {0.65, 0.902, 0.380, 0.000, 1.0},
    {1.00, 0.647, 0.114, 0.176, 1.0},
};

static void ramp_color(double t, double c[4])
{
    t = isfinite(t) ? CLAMP(t, 0.0, 1.0) : 0.0;
    guint i = 1;
    while (i + 1 < G_N_ELEMENTS(ramp) && t > ramp[i].t) i++;
    const Stop *a = &ramp[i - 1], *b = &ramp[i];
    double f = (t - a->t) / (b->t - a->t);
    c[0] = a->r + f * (b->r - a->r);
    c[1] = a->g + f * (b->g - a->g);
    c[2] = a->b + f * (b->b - a->b);
    c[3] = a->a + f * (b->a - a->a);
}

/* A cell's pixel (premultiplied ARGB32) for value v on a scale of top percent. */
static guint32 cell_pixel(double v, double top)
{
    double c[4] = {0.5, 0.5, 0.5, 0.55}; /* no value: grey */
    if (isfinite(v)) ramp_color(v * 100.0 / top, c);
    guint32 a = (guint32)lround(c[3] * 255.0);
    guint32 r = (guint32)lround(c[0] * a), g = (guint32)lround(c[1] * a),
            b = (guint32)lround(c[2] * a);
    return a << 24 | r << 16 | g << 8 | b;
}

static ThawAxis map_scale(ThawDriftMap *self)
{
    double r[2] = {0.0, self->max * 100.0};
    if (!(r[1] > 0.0)) r[1] = 1.0; /* nothing moved yet: 0..1% */
    return thaw_axis_fit(r, 2, false, 5);
}

/* Colours the columns that changed since the last frame (all of them when
 * the scale changed): O(rows) per new column. */
static void map_update_cells(ThawDriftMap *self, double top)
{
    if (!self->cells) return;
    guint from = top == self->cells_top ? self->cells_from : 0;
    if (from >= self->n_cols) return;
    cairo_surface_flush(self->cells);
    guint8 *data = cairo_image_surface_get_data(self->cells);
    int stride = cairo_image_surface_get_stride(self->cells);
    for (int r = 0; r < self->n_rows; r++) {
        guint32 *row = (guint32 *)(data + (size_t)r * stride);
        for (guint c = from; c < self->n_cols; c++)
            row[c] = cell_pixel(self->values[(size_t)c * self->n_rows + r], top);
    }
    cairo_surface_mark_dirty(self->cells);
    self->cells_top = top;
    self->cells_from = self->n_cols;
}

/* ---- geometry */

static void format_percent(char *buf, size_t size, double v)
{
    if (!isfinite(v))
        g_snprintf(buf, size, "n/a");
    else if (v == 0.0 || fabs(v) >= 100.0)
        g_snprintf(buf, size, "%.0f%%", v);
    else
        g_snprintf(buf, size, "%.3g%%", v);
}

static void scale_label(const Geometry *g, double v, char *buf, size_t size)
{
    thaw_axis_format(&g->scale, v, g->sstep, buf, size);
    g_strlcat(buf, "%", size);
}

static gboolean map_geometry(ThawDriftMap *self, PangoLayout *pl, int width, int height,
                             Geometry *g)
{
    char buf[64];
    int w, h, sh, th;
    memset(g, 0, sizeof *g);
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, "0", &w, &sh);
    thaw_draw_text_set(pl, THAW_TEXT_TITLE, "Drift", &w, &th);
    g->title_h = MAX(th, sh);
    g->top = PAD + g->title_h + PAD + sh / 2.0; /* room for the bar's top label */
    double bottom = TICK + 2.0 + 2.0 * sh + PAD;
    g->mh = floor(height - g->top - bottom);

    for (int r = 0; r < self->n_rows; r++) {
        thaw_draw_text_set(pl, THAW_TEXT_SMALL_BOLD, self->names[r], &w, &h);
        g->names_w = MAX(g->names_w, w);
    }
    g->names_w = MIN(g->names_w, MIN(MAX_NAME_W, width * 0.3));
    g->left = ceil(PAD + g->names_w + PAD);

    int max_st = CLAMP((int)(g->mh / 28.0), 2, 6), label_w = 0;
    g->scale = map_scale(self);
    g->nst = thaw_axis_ticks(&g->scale, max_st, g->st, MAX_TICKS, &g->sstep);
    for (int i = 0; i < g->nst; i++) {
        scale_label(g, g->st[i], buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        label_w = MAX(label_w, w);
    }
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, "n/a", &w, &h);
    label_w = MAX(label_w, w);
    double right = 2.0 * PAD + BAR_W + TICK + 2.0 + label_w + PAD;
    g->mw = floor(width - g->left - right);
    g->bar_x = g->left + g->mw + 2.0 * PAD;
    if (g->mh < 16.0 || g->mw < 16.0 || self->n_rows == 0) return FALSE;
    g->row_h = MIN(g->mh / self->n_rows, MAX_ROW_H);
    g->mh = g->row_h * self->n_rows;
    g->label_every = MAX(1, (int)ceil((sh - 1.0) / g->row_h));
    return TRUE;
}

/* The x of a step on the time axis: between the centres of the columns
 * around it (columns are evenly spaced, steps need not be). */
static double step_x(ThawDriftMap *self, const Geometry *g, double step)
{
    double cw = g->mw / self->n_cols;
    guint lo = 0, hi = self->n_cols - 1;
    if (step <= self->steps[0]) return g->left + 0.5 * cw;
    if (step >= self->steps[hi]) return g->left + (hi + 0.5) * cw;
    while (hi - lo > 1) { /* steps[lo] < step <= steps[hi] */
        guint mid = (lo + hi) / 2;
        if (self->steps[mid] < step)
            lo = mid;
        else
            hi = mid;
    }
    double f = (step - self->steps[lo]) / (double)(self->steps[hi] - self->steps[lo]);
    return g->left + (lo + 0.5 + f) * cw;
}

/* ---- drawing */

static void draw_time_axis(ThawDriftMap *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                           const GdkRGBA *fg)
{
    char buf[64];
    int w, h;
    double bottom = g->top + g->mh, t[MAX_TICKS], step = 1.0;
    int n = 0;
    if (self->n_cols == 1 || (self->n_cols > 1 && self->steps[self->n_cols - 1] <= self->steps[0]))
        t[n++] = (double)self->steps[self->n_cols - 1];
    else if (self->n_cols > 1) { /* whole steps only */
        ThawAxis a = {(double)self->steps[0], (double)self->steps[self->n_cols - 1], false};
        double all[MAX_TICKS];
        int k = thaw_axis_ticks(&a, CLAMP((int)(g->mw / 80.0), 2, 10), all, MAX_TICKS, &step);
        for (int i = 0; i < k; i++)
            if (all[i] == floor(all[i])) t[n++] = all[i];
    }
    ThawAxis fmt = {0.0, 1.0, false};
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < n; i++) {
        double x = floor(step_x(self, g, t[i])) + 0.5;
        thaw_draw_set_color(cr, fg, 0.35);
        cairo_move_to(cr, x, bottom), cairo_line_to(cr, x, bottom + TICK), cairo_stroke(cr);
        thaw_axis_format(&fmt, t[i], MAX(step, 1.0), buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        thaw_draw_set_color(cr, fg, 0.75);
        thaw_draw_text_show(cr, pl, CLAMP(x, g->left + w / 2.0, g->left + g->mw - w / 2.0),
                            bottom + TICK + 2.0, 0.5);
    }
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, "step", &w, &h);
    thaw_draw_set_color(cr, fg, 0.75);
    thaw_draw_text_show(cr, pl, g->left + g->mw / 2.0, bottom + TICK + 2.0 + h, 0.5);
}

static void draw_color_bar(ThawDriftMap *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                           const GdkRGBA *fg)
{
    char buf[64];
    int w, h;
    double x = g->bar_x, top = g->top, bh = MAX(g->mh, 40.0);
    cairo_pattern_t *p = cairo_pattern_create_linear(0.0, top + bh, 0.0, top);
    for (int i = 0; i <= 16; i++) {
        double c[4];
        ramp_color(i / 16.0, c);
        cairo_pattern_add_color_stop_rgba(p, i / 16.0, c[0], c[1], c[2], c[3]);
    }
    cairo_rectangle(cr, x, top, BAR_W, bh);
    cairo_set_source(cr, p);
    cairo_fill(cr);
    cairo_pattern_destroy(p);
    cairo_set_line_width(cr, 1.0);
    thaw_draw_set_color(cr, fg, 0.35);
    cairo_rectangle(cr, x + 0.5, top + 0.5, BAR_W - 1.0, bh - 1.0);
    cairo_stroke(cr);
    for (int i = 0; i < g->nst; i++) {
        double y = floor(top + bh * (1.0 - thaw_axis_normalize(&g->scale, g->st[i]))) + 0.5;
        thaw_draw_set_color(cr, fg, 0.35);
        cairo_move_to(cr, x + BAR_W, y), cairo_line_to(cr, x + BAR_W + TICK, y), cairo_stroke(cr);
        scale_label(g, g->st[i], buf, sizeof buf);
        thaw_draw_text_set(pl, THAW_TEXT_SMALL, buf, &w, &h);
        thaw_draw_set_color(cr, fg, 0.75);
        thaw_draw_text_show(cr, pl, x + BAR_W + TICK + 2.0, y - h / 2.0, 0.0);
    }
    if (!self->any_nan) return;
    double sy = top + bh + TICK + 2.0;
    cairo_rectangle(cr, x, sy, BAR_W, 8.0);
    cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.55);
    cairo_fill(cr);
    thaw_draw_text_set(pl, THAW_TEXT_SMALL, "n/a", &w, &h);
    thaw_draw_set_color(cr, fg, 0.75);
    thaw_draw_text_show(cr, pl, x + BAR_W + TICK + 2.0, sy + 4.0 - h / 2.0, 0.0);
}

/* Row names: every label_every-th row and the selected one (bold), leaving
 * out names that would run into the selected row's. */
static void draw_names(ThawDriftMap *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                       const GdkRGBA *fg)
{
    int w, h;
    double sel_y0 = INFINITY, sel_y1 = -INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        for (int r = 0; r < self->n_rows; r++) {
            gboolean sel = r == self->selected;
            if (pass == 0 ? !sel : sel || r % g->label_every) continue;
            thaw_draw_text_set(pl, sel ? THAW_TEXT_SMALL_BOLD : THAW_TEXT_SMALL, self->names[r], &w,
                               &h);
            thaw_draw_text_fit(pl, g->names_w, PANGO_ELLIPSIZE_MIDDLE, &w);
            double y = round(g->top + (r + 0.5) * g->row_h - h / 2.0);
            y = CLAMP(y, g->top - h / 2.0, g->top + g->mh - h / 2.0);
            if (sel) {
                sel_y0 = y, sel_y1 = y + h;
            } else if (y + h > sel_y0 + 1.0 && y < sel_y1 - 1.0) {
                continue;
            }
            thaw_draw_set_color(cr, fg, sel ? 1.0 : 0.8);
            thaw_draw_text_show(cr, pl, PAD + g->names_w, y, 1.0);
        }
    }
}

static void draw_hover(ThawDriftMap *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                       const GdkRGBA *fg)
{
    if (self->hover_row < 0 || self->hover_row >= self->n_rows || self->hover_col >= self->n_cols ||
        !self->hover_text)
        return;
    double cw = g->mw / self->n_cols, x = g->left + self->hover_col * cw;
    double y = g->top + self->hover_row * g->row_h;
    cairo_set_line_width(cr, 1.0);
    thaw_draw_set_color(cr, fg, 0.9);
    cairo_rectangle(cr, x - 0.5, y - 0.5, MAX(cw, 2.0) + 1.0, g->row_h + 1.0);
    cairo_stroke(cr);
    int w, h;
    thaw_draw_text_set(pl, THAW_TEXT_NORMAL, self->hover_text, &w, &h);
    thaw_draw_text_fit(pl, g->mw - 12.0, PANGO_ELLIPSIZE_END, &w);
    double bw = w + 12.0, bh = h + 6.0, bx = x + cw + 8.0, by = y - bh - 4.0;
    if (bx + bw > g->left + g->mw) bx = x - 8.0 - bw;
    if (by < g->top) by = y + g->row_h + 4.0;
    bx = round(CLAMP(bx, g->left, MAX(g->left, g->left + g->mw - bw)));
    by = round(CLAMP(by, g->top, MAX(g->top, g->top + g->mh - bh)));
    thaw_draw_text_box(cr, fg, bx, by, bw, bh, 0.92);
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw - 1.0, bh - 1.0);
    thaw_draw_set_color(cr, fg, 0.3);
    cairo_stroke(cr);
    thaw_draw_set_color(cr, fg, 1.0);
    thaw_draw_text_show(cr, pl, bx + 6.0, by + 3.0, 0.0);
}

static void draw_title(cairo_t *cr, PangoLayout *pl, const Geometry *g, int width,
                       const GdkRGBA *fg)
{
    int w, h, sw, sh;
    thaw_draw_text_set(pl, THAW_TEXT_TITLE, "Drift from pretrained", &w, &h);
    thaw_draw_text_fit(pl, width - 2 * PAD, PANGO_ELLIPSIZE_END, &w);
    thaw_draw_set_color(cr, fg, 1.0);
    thaw_draw_text_show(cr, pl, PAD, PAD + (g->title_h - h) / 2.0, 0.0);
    thaw_draw_text_set(pl, THAW_TEXT_SMALL,
                       "per layer: Σ|running − pretrained| / Σ|pretrained| over mean and variance",
                       &sw, &sh);
    double room = width - PAD - (PAD + w + 12.0);
    if (room < 80.0) return;
    thaw_draw_text_fit(pl, room, PANGO_ELLIPSIZE_END, &sw);
    thaw_draw_set_color(cr, fg, 0.7);
    thaw_draw_text_show(cr, pl, PAD + w + 12.0, PAD + (g->title_h - sh) / 2.0, 0.0);
}

void thaw_drift_map_draw(ThawDriftMap *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_DRIFT_MAP(self));
    if (width <= 0 || height <= 0) return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    gboolean ok = map_geometry(self, pl, width, height, &g);
    cairo_save(cr);
    draw_title(cr, pl, &g, width, &fg);
    if (ok) {
        if (self->n_cols > 0) {
            map_update_cells(self, g.scale.max);
            cairo_save(cr);
            cairo_rectangle(cr, g.left, g.top, g.mw, g.mh);
            cairo_clip(cr);
            cairo_translate(cr, g.left, g.top);
            cairo_scale(cr, g.mw / self->n_cols, g.row_h);
            cairo_set_source_surface(cr, self->cells, 0.0, 0.0);
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
            cairo_rectangle(cr, 0.0, 0.0, self->n_cols, self->n_rows);
            cairo_fill(cr);
            cairo_restore(cr);
            draw_time_axis(self, cr, pl, &g, &fg);
        } else {
            int pw, ph;
            thaw_draw_text_set(pl, THAW_TEXT_NORMAL,
                               "Train to see how far each layer's running statistics move", &pw,
                               &ph);
            thaw_draw_text_fit(pl, g.mw - 2 * PAD, PANGO_ELLIPSIZE_END, &pw);
            thaw_draw_set_color(cr, &fg, 0.45);
            thaw_draw_text_show(cr, pl, g.left + (g.mw - pw) / 2.0, g.top + (g.mh - ph) / 2.0, 0.0);
        }
        cairo_set_line_width(cr, 1.0);
        thaw_draw_set_color(cr, &fg, 0.25);
        cairo_rectangle(cr, g.left + 0.5, g.top + 0.5, g.mw - 1.0, g.mh - 1.0);
        cairo_stroke(cr);
        if (self->selected >= 0) {
            static const GdkRGBA blue = {0.110, 0.443, 0.847, 1.0}; /* THAW_CHART_BLUE */
            double y = g.top + self->selected * g.row_h;
            thaw_draw_set_color(cr, &blue, 1.0);
            cairo_set_line_width(cr, 2.0);
            cairo_rectangle(cr, g.left - 1.0, y - 1.0, g.mw + 2.0, g.row_h + 2.0);
            cairo_stroke(cr);
        }
        draw_names(self, cr, pl, &g, &fg);
        draw_color_bar(self, cr, pl, &g, &fg);
        draw_hover(self, cr, pl, &g, &fg);
    } else if (self->n_rows == 0) {
        int pw, ph;
        thaw_draw_text_set(pl, THAW_TEXT_NORMAL, "No BatchNorm layers", &pw, &ph);
        thaw_draw_set_color(cr, &fg, 0.45);
        thaw_draw_text_show(cr, pl, (width - pw) / 2.0, (height - ph) / 2.0, 0.0);
    }
    cairo_restore(cr);
    g_object_unref(pl);
}

/* ---- pointer */

static gboolean widget_geometry(ThawDriftMap *self, Geometry *g)
{
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    gboolean ok = map_geometry(self, pl, gtk_widget_get_width(GTK_WIDGET(self)),
                               gtk_widget_get_height(GTK_WIDGET(self)), g);
    g_object_unref(pl);
    return ok;
}

int thaw_drift_map_row_at(ThawDriftMap *self, double x, double y)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), -1);
    Geometry g;
    if (!widget_geometry(self, &g) || x < 0.0 || x >= g.left + g.mw || y < g.top ||
        y >= g.top + g.mh)
        return -1;
    return CLAMP((int)floor((y - g.top) / g.row_h), 0, self->n_rows - 1);
}

gboolean thaw_drift_map_get_row_area(ThawDriftMap *self, int row, graphene_rect_t *area)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self) && area, FALSE);
    Geometry g;
    graphene_rect_init(area, 0, 0, 0, 0);
    if (row < -1 || row >= self->n_rows || !widget_geometry(self, &g)) return FALSE;
    if (row < 0)
        graphene_rect_init(area, g.left, g.top, g.mw, g.mh);
    else
        graphene_rect_init(area, g.left, g.top + row * g.row_h, g.mw, g.row_h);
    return TRUE;
}

static void map_set_hover(ThawDriftMap *self, int row, guint col)
{
    if (row == self->hover_row && (row < 0 || col == self->hover_col)) return;
    self->hover_row = row;
    self->hover_col = col;
    g_clear_pointer(&self->hover_text, g_free);
    if (row >= 0) {
        char pct[32];
        format_percent(pct, sizeof pct, self->values[(size_t)col * self->n_rows + row] * 100.0);
        self->hover_text = g_strdup_printf("%s · step %" G_GUINT64_FORMAT " · %s", self->names[row],
                                           self->steps[col], pct);
    }
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

const char *thaw_drift_map_hover_at(ThawDriftMap *self, double x, double y)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), NULL);
    Geometry g;
    int row = -1;
    guint col = 0;
    if (self->n_cols > 0 && widget_geometry(self, &g) && x >= g.left && x < g.left + g.mw &&
        y >= g.top && y < g.top + g.mh) {
        row = CLAMP((int)floor((y - g.top) / g.row_h), 0, self->n_rows - 1);
        col =
            (guint)CLAMP((int)floor((x - g.left) / g.mw * self->n_cols), 0, (int)self->n_cols - 1);
    }
    map_set_hover(self, row, col);
    return self->hover_text;
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, gpointer self)
{
    thaw_drift_map_hover_at(self, x, y);
}

static void on_leave(GtkEventControllerMotion *c, gpointer self)
{
    map_set_hover(self, -1, 0);
}

static void on_pressed(GtkGestureClick *click, int n_press, double x, double y, gpointer data)
{
    ThawDriftMap *self = data;
    int row = thaw_drift_map_row_at(self, x, y);
    if (row < 0) return;
    thaw_drift_map_set_selected(self, row);
    g_signal_emit(self, signals[SIGNAL_ROW_ACTIVATED], 0, row);
}

/* ---- GObject / GtkWidget */

static void thaw_drift_map_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w <= 0 || h <= 0) return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    thaw_drift_map_draw(THAW_DRIFT_MAP(widget), cr, w, h);
    cairo_destroy(cr);
}

static void thaw_drift_map_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                   int *min, int *nat, int *min_baseline, int *nat_baseline)
{
    ThawDriftMap *self = THAW_DRIFT_MAP(widget);
    if (orientation == GTK_ORIENTATION_HORIZONTAL) {
        *min = 300, *nat = 600;
    } else { /* ~14 px per named row, within reason */
        *min = 140;
        *nat = CLAMP(70 + 14 * self->n_rows, 200, 480);
    }
}

static void clear_history(ThawDriftMap *self)
{
    self->n_cols = 0;
    self->span = 1, self->fill = 0;
    self->max = 0.0;
    self->any_nan = FALSE;
    self->cells_from = 0;
    self->hover_row = -1;
    g_clear_pointer(&self->hover_text, g_free);
}

static void thaw_drift_map_finalize(GObject *object)
{
    ThawDriftMap *self = THAW_DRIFT_MAP(object);
    g_strfreev(self->names);
    g_free(self->values);
    g_free(self->steps);
    g_clear_pointer(&self->cells, cairo_surface_destroy);
    g_free(self->hover_text);
    G_OBJECT_CLASS(thaw_drift_map_parent_class)->finalize(object);
}

static void thaw_drift_map_class_init(ThawDriftMapClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->finalize = thaw_drift_map_finalize;
    widget_class->snapshot = thaw_drift_map_snapshot;
    widget_class->measure = thaw_drift_map_measure;

    /* ::row-activated(row): a click selected a row (the layer it shows). */
    signals[SIGNAL_ROW_ACTIVATED] =
        g_signal_new("row-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT);
    gtk_widget_class_set_css_name(widget_class, "thawdriftmap");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void thaw_drift_map_init(ThawDriftMap *self)
{
    self->selected = -1;
    self->names = g_new0(char *, 1);
    self->cells_top = NAN;
    clear_history(self);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "BatchNorm drift map", GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                   "Heat map of how far each BatchNorm layer's running statistics "
                                   "moved from the pretrained ones, over training steps; click a "
                                   "row to show that layer",
                                   -1);
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);
    GtkGesture *click = gtk_gesture_click_new();
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_PRIMARY);
    g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
}

/* ---- public API */

GtkWidget *thaw_drift_map_new(void)
{
    return g_object_new(THAW_TYPE_DRIFT_MAP, NULL);
}

void thaw_drift_map_set_rows(ThawDriftMap *self, int n, const char *const *names)
{
    g_return_if_fail(THAW_IS_DRIFT_MAP(self));
    g_return_if_fail(n >= 0 && (n == 0 || names));
    g_strfreev(self->names);
    self->names = g_new0(char *, n + 1);
    for (int r = 0; r < n; r++) self->names[r] = g_strdup(names[r] ? names[r] : "");
    self->n_rows = n;
    g_free(self->values);
    g_free(self->steps);
    self->values = n ? g_new(double, (size_t)THAW_DRIFT_MAP_MAX_COLUMNS *n) : NULL;
    self->steps = n ? g_new(guint64, THAW_DRIFT_MAP_MAX_COLUMNS) : NULL;
    g_clear_pointer(&self->cells, cairo_surface_destroy);
    if (n) {
        self->cells =
            cairo_image_surface_create(CAIRO_FORMAT_ARGB32, THAW_DRIFT_MAP_MAX_COLUMNS, n);
        if (cairo_surface_status(self->cells) != CAIRO_STATUS_SUCCESS)
            g_clear_pointer(&self->cells, cairo_surface_destroy);
    }
    self->cells_top = NAN;
    self->selected = -1;
    clear_history(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

int thaw_drift_map_get_n_rows(ThawDriftMap *self)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), 0);
    return self->n_rows;
}

/* The largest finite value and whether any is not finite, over every cell. */
static void map_rescan(ThawDriftMap *self)
{
    self->max = 0.0;
    self->any_nan = FALSE;
    for (size_t i = 0; i < (size_t)self->n_cols * self->n_rows; i++) {
        double v = self->values[i];
        if (isfinite(v))
            self->max = MAX(self->max, v);
        else
            self->any_nan = TRUE;
    }
}

void thaw_drift_map_append(ThawDriftMap *self, guint64 step, const double *values)
{
    g_return_if_fail(THAW_IS_DRIFT_MAP(self));
    g_return_if_fail(values || self->n_rows == 0);
    const int nr = self->n_rows;
    if (nr <= 0) return;
    gboolean rescan = FALSE;
    if (self->n_cols > 0 && self->fill < self->span) { /* the last column is still open */
        self->fill++;
        const double *old = self->values + (size_t)(self->n_cols - 1) * self->n_rows;
        for (int r = 0; r < self->n_rows; r++) rescan |= !isfinite(old[r]) || old[r] >= self->max;
    } else {
        if (self->n_cols == THAW_DRIFT_MAP_MAX_COLUMNS) { /* merge pairs, keep the later */
            guint half = THAW_DRIFT_MAP_MAX_COLUMNS / 2;
            for (guint c = 0; c < half; c++) {
                memcpy(self->values + (size_t)c * self->n_rows,
                       self->values + (size_t)(2 * c + 1) * self->n_rows,
                       (size_t)self->n_rows * sizeof *self->values);
                self->steps[c] = self->steps[2 * c + 1];
            }
            self->n_cols = half;
            self->span *= 2;
            self->cells_from = 0;
            rescan = TRUE;
        }
        self->n_cols++;
        self->fill = 1;
    }
    guint c = self->n_cols - 1;
    memcpy(self->values + (size_t)c * nr, values, (size_t)nr * sizeof *values);
    self->steps[c] = step;
    self->cells_from = MIN(self->cells_from, c);
    if (rescan) {
        map_rescan(self);
    } else {
        for (int r = 0; r < self->n_rows; r++) {
            if (isfinite(values[r]))
                self->max = MAX(self->max, values[r]);
            else
                self->any_nan = TRUE;
        }
    }
    if (self->hover_row >= 0) { /* the read-out follows the new values */
        int row = self->hover_row;
        guint col = MIN(self->hover_col, self->n_cols - 1);
        self->hover_row = -1;
        map_set_hover(self, row, col);
    }
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void thaw_drift_map_clear(ThawDriftMap *self)
{
    g_return_if_fail(THAW_IS_DRIFT_MAP(self));
    if (self->n_cols == 0) return;
    clear_history(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint thaw_drift_map_get_n_columns(ThawDriftMap *self)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), 0);
    return self->n_cols;
}

double thaw_drift_map_get_value(ThawDriftMap *self, int row, guint column)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), NAN);
    if (row < 0 || row >= self->n_rows || column >= self->n_cols) return NAN;
    return self->values[(size_t)column * self->n_rows + row];
}

guint64 thaw_drift_map_get_step(ThawDriftMap *self, guint column)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), 0);
    return column < self->n_cols ? self->steps[column] : 0;
}

void thaw_drift_map_set_selected(ThawDriftMap *self, int row)
{
    g_return_if_fail(THAW_IS_DRIFT_MAP(self));
    g_return_if_fail(row >= -1 && row < self->n_rows);
    if (row == self->selected) return;
    self->selected = row;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

int thaw_drift_map_get_selected(ThawDriftMap *self)
{
    g_return_val_if_fail(THAW_IS_DRIFT_MAP(self), -1);
    return self->selected;
}
