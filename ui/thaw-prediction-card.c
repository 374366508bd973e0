/* ThawPredictionCard: see thaw-prediction-card.h.
 *
 * The card keeps an RGB24 cairo surface of its image at its own size and
 * copies of the names and probabilities it lists (at most 5 per mode), so
 * drawing touches nothing the pane owns. One helper, card_geometry(), gives
 * every column's x and the line height from the widget's Pango context;
 * measure and draw both use it, so the size asked for is the size drawn. */
#include "thaw-prediction-card.h"

#include <math.h>
#include <string.h>

#include "thaw-chart.h"

#define PAD       6.0  /* inside the frame */
#define IMG       84.0 /* the image's box, in pixels */
#define NAME_W    70.0 /* a class name (ellipsized) */
#define BAR_W     46.0 /* a probability of 1, at the natural width */
#define GROUP_GAP 6.0  /* between the train and infer groups */
#define MAX_BARS  5

typedef struct {
    char *name;
    float p;
    int cls;
} Bar;

typedef struct {
    double tag_x, name_x, bar_x, bar_w, pct_x, pct_w; /* column lefts and widths */
    double line_h, width, height;                     /* the natural size */
} Geometry;

struct _ThawPredictionCard {
    GtkWidget parent_instance;
    int index, label, k;
    char *true_name;
    cairo_surface_t *image; /* RGB24, the image's own size; NULL before set */
    int n_bars;             /* per mode */
    Bar bars[2][MAX_BARS];  /* [0] training=True, [1] training=False */
    int top[2];             /* top-1 class per mode, -1: none */
    gboolean disagree;
    char *description;
};

G_DEFINE_FINAL_TYPE(ThawPredictionCard, thaw_prediction_card, GTK_TYPE_WIDGET)

static const char *const MODE_TAG[2] = {"train", "infer"};
static const char *const MODE_COLOR[2] = {THAW_CHART_RED, THAW_CHART_GREEN};

int thaw_prediction_argmax(const float *p, int k)
{
    int best = -1;
    for (int i = 0; i < k; i++)
        if (!isnan(p[i]) && (best < 0 || p[i] > p[best])) best = i;
    return best;
}

/* NaN ranks below every number. */
static float rank(float v)
{
    return isnan(v) ? -INFINITY : v;
}

/* The class with the largest p that is not among the n chosen. */
static int next_largest(const float *p, int k, const int *chosen, int n)
{
    int best = -1;
    for (int i = 0; i < k; i++) {
        gboolean used = FALSE;
        for (int j = 0; j < n; j++) used = used || chosen[j] == i;
        if (!used && (best < 0 || rank(p[i]) > rank(p[best]))) best = i;
    }
    return best;
}

static void card_clear_bars(ThawPredictionCard *self)
{
    for (int m = 0; m < 2; m++)
        for (int b = 0; b < MAX_BARS; b++) g_clear_pointer(&self->bars[m][b].name, g_free);
    self->n_bars = 0;
}

/* ---- text (as ThawChart: the widget's own Pango context) */

typedef enum { TEXT_NORMAL, TEXT_SMALL, TEXT_SMALL_BOLD, TEXT_SMALL_WRONG } TextKind;

static void text_set(PangoLayout *pl, TextKind kind, const char *text, double max_w, int *w, int *h)
{
    PangoAttrList *attrs = pango_attr_list_new();
    if (kind != TEXT_NORMAL) pango_attr_list_insert(attrs, pango_attr_scale_new(0.85));
    if (kind == TEXT_SMALL_BOLD || kind == TEXT_SMALL_WRONG)
        pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    if (kind == TEXT_SMALL_WRONG) pango_attr_list_insert(attrs, pango_attr_strikethrough_new(TRUE));
    pango_layout_set_attributes(pl, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_width(pl, max_w > 0 ? (int)(max_w * PANGO_SCALE) : -1);
    pango_layout_set_ellipsize(pl, max_w > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
    pango_layout_set_text(pl, text, -1);
    pango_layout_get_pixel_size(pl, w, h);
}

static void text_show(cairo_t *cr, PangoLayout *pl, double x, double y)
{
    cairo_move_to(cr, round(x), round(y));
    pango_cairo_show_layout(cr, pl);
    cairo_new_path(cr);
}

static void set_color(cairo_t *cr, const GdkRGBA *c, double alpha)
{
    cairo_set_source_rgba(cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static void set_hex(cairo_t *cr, const char *hex, double alpha)
{
    GdkRGBA c;
    gdk_rgba_parse(&c, hex);
    set_color(cr, &c, alpha);
}

/* ---- geometry */

static int card_bars_shown(ThawPredictionCard *self)
{
    return self->n_bars > 0 ? self->n_bars : 3;
}

/* For a card `width` wide (< 0: its natural width); bars take the room a
 * wider allocation gives, up to three times their natural length. */
static void card_geometry(ThawPredictionCard *self, PangoLayout *pl, double width, Geometry *g)
{
    int w, h, tag_w = 0, pct_w, small_h, normal_h;
    for (int m = 0; m < 2; m++) {
        text_set(pl, TEXT_SMALL_BOLD, MODE_TAG[m], 0, &w, &small_h);
        tag_w = MAX(tag_w, w);
    }
    text_set(pl, TEXT_SMALL_BOLD, "100%", 0, &pct_w, &h);
    text_set(pl, TEXT_NORMAL, "Ag", 0, &w, &normal_h);
    g->line_h = MAX(small_h, 12) + 1;
    g->tag_x = PAD + IMG + 8.0;
    g->name_x = g->tag_x + tag_w + 6.0;
    g->bar_x = g->name_x + NAME_W + 6.0;
    g->pct_w = pct_w;
    g->width = ceil(g->bar_x + BAR_W + 4.0 + pct_w + PAD);
    g->bar_w = BAR_W + CLAMP(width - g->width, 0.0, 2.0 * BAR_W);
    g->pct_x = g->bar_x + g->bar_w + 4.0;
    double left_h = PAD + IMG + 4.0 + normal_h + small_h + PAD;
    double right_h = PAD + 2 * card_bars_shown(self) * g->line_h + GROUP_GAP + PAD;
    g->height = ceil(MAX(left_h, right_h));
}

/* ---- drawing */

static void rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -G_PI / 2, 0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0, G_PI / 2);
    cairo_arc(cr, x + r, y + h - r, r, G_PI / 2, G_PI);
    cairo_arc(cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
    cairo_close_path(cr);
}

static void draw_image(ThawPredictionCard *self, cairo_t *cr, const GdkRGBA *fg)
{
    int iw = cairo_image_surface_get_width(self->image);
    int ih = cairo_image_surface_get_height(self->image);
    double scale = IMG / MAX(iw, ih);
    double dw = iw * scale, dh = ih * scale;
    double x = PAD + round((IMG - dw) / 2.0), y = PAD + round((IMG - dh) / 2.0);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, self->image, 0, 0);
    /* Pixels stay pixels when enlarged; a large photo is averaged down. */
    cairo_pattern_set_filter(cairo_get_source(cr),
                             scale >= 1.0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_rectangle(cr, 0, 0, iw, ih);
    cairo_fill(cr);
    cairo_restore(cr);
    set_color(cr, fg, 0.25);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x - 0.5, y - 0.5, dw + 1.0, dh + 1.0);
    cairo_stroke(cr);
}

static void draw_group(ThawPredictionCard *self, cairo_t *cr, PangoLayout *pl, const Geometry *g,
                       int m, double y0, const GdkRGBA *fg)
{
    int w, h;
    text_set(pl, TEXT_SMALL_BOLD, MODE_TAG[m], 0, &w, &h);
    set_hex(cr, MODE_COLOR[m], 1.0);
    text_show(cr, pl, g->tag_x, y0 + (g->line_h - h) / 2.0);
    for (int b = 0; b < self->n_bars; b++) {
        const Bar *bar = &self->bars[m][b];
        double y = y0 + b * g->line_h;
        gboolean top = bar->cls == self->top[m];
        gboolean wrong = top && bar->cls != self->label;
        TextKind kind = wrong ? TEXT_SMALL_WRONG : top ? TEXT_SMALL_BOLD : TEXT_SMALL;
        text_set(pl, kind, bar->name, NAME_W, &w, &h);
        if (wrong)
            set_hex(cr, THAW_PREDICTION_ERROR, 1.0);
        else
            set_color(cr, fg, top ? 1.0 : 0.75);
        text_show(cr, pl, g->name_x, y + (g->line_h - h) / 2.0);

        /* the track, then the probability in the mode's colour */
        double by = y + round(g->line_h * 0.2), bh = g->line_h - 2.0 * round(g->line_h * 0.2);
        set_color(cr, fg, 0.08);
        cairo_rectangle(cr, g->bar_x, by, g->bar_w, bh);
        cairo_fill(cr);
        double p = isfinite(bar->p) ? CLAMP(bar->p, 0.0f, 1.0f) : 0.0;
        if (p * g->bar_w >= 0.5) {
            set_hex(cr, MODE_COLOR[m], top ? 1.0 : 0.7);
            cairo_rectangle(cr, g->bar_x, by, round(p * g->bar_w), bh);
            cairo_fill(cr);
        }

        char pct[16];
        if (isfinite(bar->p))
            g_snprintf(pct, sizeof pct, "%.0f%%", 100.0 * bar->p);
        else
            g_snprintf(pct, sizeof pct, "–");
        text_set(pl, top ? TEXT_SMALL_BOLD : TEXT_SMALL, pct, 0, &w, &h);
        set_color(cr, fg, top ? 1.0 : 0.75);
        text_show(cr, pl, g->pct_x + g->pct_w - w, y + (g->line_h - h) / 2.0);
    }
}

void thaw_prediction_card_draw(ThawPredictionCard *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_PREDICTION_CARD(self));
    if (width <= 0 || height <= 0) return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    Geometry g;
    card_geometry(self, pl, width, &g);
    cairo_save(cr);

    rounded_rect(cr, 1.0, 1.0, width - 2.0, height - 2.0, 6.0);
    if (self->disagree) {
        set_hex(cr, THAW_PREDICTION_AMBER, 0.12);
        cairo_fill_preserve(cr);
        set_hex(cr, THAW_PREDICTION_AMBER, 1.0);
        cairo_set_line_width(cr, 2.0);
    } else {
        set_color(cr, &fg, 0.04);
        cairo_fill_preserve(cr);
        set_color(cr, &fg, 0.15);
        cairo_set_line_width(cr, 1.0);
    }
    cairo_stroke(cr);

    if (self->image) {
        draw_image(self, cr, &fg);
        int w, h;
        double y = PAD + IMG + 4.0;
        text_set(pl, TEXT_NORMAL, self->true_name, IMG + 4.0, &w, &h);
        set_color(cr, &fg, 1.0);
        text_show(cr, pl, PAD, y);
        char idx[32];
        g_snprintf(idx, sizeof idx, "#%d", self->index);
        text_set(pl, TEXT_SMALL, idx, IMG + 4.0, &w, &h);
        set_color(cr, &fg, 0.6);
        text_show(cr, pl, PAD, y + g.line_h + 2.0);

        double y0 = PAD;
        double used = 2 * self->n_bars * g.line_h + GROUP_GAP;
        if (used < IMG) y0 += round((IMG - used) / 2.0); /* centred beside the image */
        draw_group(self, cr, pl, &g, 0, y0, &fg);
        draw_group(self, cr, pl, &g, 1, y0 + self->n_bars * g.line_h + GROUP_GAP, &fg);
    }
    cairo_restore(cr);
    g_object_unref(pl);
}

/* ---- data */

static void card_describe(ThawPredictionCard *self, const char *const *class_names,
                          const float *p[2])
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "image %d, true %s", self->index, self->true_name);
    for (int m = 0; m < 2; m++) {
        g_string_append_printf(s, "; training=%s: ", m == 0 ? "True" : "False");
        int t = self->top[m];
        if (t < 0)
            g_string_append(s, "no prediction");
        else
            g_string_append_printf(s, "%s %.0f%%%s", class_names[t], 100.0 * p[m][t],
                                   t == self->label ? "" : " (wrong)");
    }
    if (self->disagree) g_string_append(s, " (disagree)");
    g_free(self->description);
    self->description = g_string_free(s, FALSE);
}

void thaw_prediction_card_set(ThawPredictionCard *self, int index, int h, int w, int c,
                              const uint8_t *pixels, int label, int k,
                              const char *const *class_names, const float *p_train,
                              const float *p_infer)
{
    g_return_if_fail(THAW_IS_PREDICTION_CARD(self));
    g_return_if_fail(h > 0 && w > 0 && (c == 1 || c == 3) && pixels);
    g_return_if_fail(k > 0 && label >= 0 && label < k && class_names && p_train && p_infer);

    self->index = index;
    self->label = label;
    self->k = k;
    g_free(self->true_name);
    self->true_name = g_strdup(class_names[label]);

    g_clear_pointer(&self->image, cairo_surface_destroy);
    self->image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_surface_flush(self->image);
    unsigned char *data = cairo_image_surface_get_data(self->image);
    int stride = cairo_image_surface_get_stride(self->image);
    for (int y = 0; y < h; y++) {
        guint32 *row = (guint32 *)(data + (size_t)y * stride);
        for (int x = 0; x < w; x++) {
            const uint8_t *px = pixels + ((size_t)y * w + x) * c;
            guint32 r = px[0], gr = c == 3 ? px[1] : px[0], b = c == 3 ? px[2] : px[0];
            row[x] = 0xff000000u | r << 16 | gr << 8 | b;
        }
    }
    cairo_surface_mark_dirty(self->image);

    const float *p[2] = {p_train, p_infer};
    card_clear_bars(self);
    self->n_bars = MIN(k, k <= MAX_BARS ? MAX_BARS : 3);
    for (int m = 0; m < 2; m++) {
        self->top[m] = thaw_prediction_argmax(p[m], k);
        /* k <= 5: class order; else the top 3, largest first (ties: lower class). */
        int chosen[MAX_BARS];
        for (int b = 0; b < self->n_bars; b++) {
            int cls = k <= MAX_BARS ? b : next_largest(p[m], k, chosen, b);
            chosen[b] = cls;
            self->bars[m][b] = (Bar){g_strdup(class_names[cls]), p[m][cls], cls};
        }
    }
    self->disagree = self->top[0] != self->top[1];
    if (self->disagree)
        gtk_widget_add_css_class(GTK_WIDGET(self), "disagree");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self), "disagree");

    card_describe(self, class_names, p);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   self->description, -1);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self), self->description);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

int thaw_prediction_card_get_index(ThawPredictionCard *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTION_CARD(self), -1);
    return self->index;
}

gboolean thaw_prediction_card_get_disagree(ThawPredictionCard *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTION_CARD(self), FALSE);
    return self->disagree;
}

const char *thaw_prediction_card_get_description(ThawPredictionCard *self)
{
    g_return_val_if_fail(THAW_IS_PREDICTION_CARD(self), NULL);
    return self->description;
}

/* ---- GObject / GtkWidget */

static void thaw_prediction_card_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w <= 0 || h <= 0) return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    thaw_prediction_card_draw(THAW_PREDICTION_CARD(widget), cr, w, h);
    cairo_destroy(cr);
}

static void thaw_prediction_card_measure(GtkWidget *widget, GtkOrientation orientation,
                                         int for_size, int *min, int *nat, int *min_baseline,
                                         int *nat_baseline)
{
    ThawPredictionCard *self = THAW_PREDICTION_CARD(widget);
    PangoLayout *pl = gtk_widget_create_pango_layout(widget, NULL);
    Geometry g;
    card_geometry(self, pl, -1.0, &g);
    g_object_unref(pl);
    *min = *nat = (int)(orientation == GTK_ORIENTATION_HORIZONTAL ? g.width : g.height);
}

static void thaw_prediction_card_finalize(GObject *object)
{
    ThawPredictionCard *self = THAW_PREDICTION_CARD(object);
    card_clear_bars(self);
    g_free(self->true_name);
    g_free(self->description);
    g_clear_pointer(&self->image, cairo_surface_destroy);
    G_OBJECT_CLASS(thaw_prediction_card_parent_class)->finalize(object);
}

static void thaw_prediction_card_class_init(ThawPredictionCardClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->finalize = thaw_prediction_card_finalize;
    widget_class->snapshot = thaw_prediction_card_snapshot;
    widget_class->measure = thaw_prediction_card_measure;
    gtk_widget_class_set_css_name(widget_class, "thaw-prediction-card");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void thaw_prediction_card_init(ThawPredictionCard *self)
{
    self->index = -1;
    self->top[0] = self->top[1] = -1;
}

GtkWidget *thaw_prediction_card_new(void)
{
    return g_object_new(THAW_TYPE_PREDICTION_CARD, NULL);
}
