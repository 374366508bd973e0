/* ThawPredictionsPane, the drawn export: the summary line, the current
 * page's cards in a grid and the per-class table, through cairo, for PNG
 * export at any scale (see thaw_predictions_pane_draw in
 * thaw-predictions-pane.h). The cards draw themselves
 * (thaw_prediction_card_draw), stretched to their column's width as in the
 * window's flow box. */
#include <math.h>
#include <string.h>

#include "thaw-prediction-card.h"
#include "thaw-predictions-pane-private.h"

#define PAD 8.0 /* around the export and between its cards */

static void draw_text(cairo_t *cr, PangoLayout *pl, const char *text, gboolean bold, double scale,
                      double x, double y, double xalign, const GdkRGBA *fg, double alpha, int *w,
                      int *h)
{
    PangoAttrList *attrs = pango_attr_list_new();
    if (bold) pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    if (scale != 1.0) pango_attr_list_insert(attrs, pango_attr_scale_new(scale));
    pango_layout_set_attributes(pl, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_text(pl, text, -1);
    int tw, th;
    pango_layout_get_pixel_size(pl, &tw, &th);
    if (fg) {
        cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, fg->alpha * alpha);
        cairo_move_to(cr, round(x - xalign * tw), round(y));
        pango_cairo_show_layout(cr, pl);
        cairo_new_path(cr);
    }
    if (w) *w = tw;
    if (h) *h = th;
}

/* Where the drawn export puts things for a given width. */
typedef struct {
    double summary_h;       /* the summary line */
    double card_w, card_h;  /* cards: as wide as their columns allow */
    int cols, rows;         /* the current page's cards */
    double col_x[5], row_h; /* the table: column anchors (class: left, numbers: right) */
    double table_w, table_h;
    double height; /* all of it */
} Layout;

static const double TABLE_GAP = 24.0;

static void pane_layout(ThawPredictionsPane *self, PangoLayout *pl, double width, Layout *L)
{
    int w, h, col_w[5] = {0};
    char cells[4][32];
    memset(L, 0, sizeof *L);
    draw_text(NULL, pl, self->summary_text, TRUE, 1.0, 0, 0, 0, NULL, 1, &w, &h);
    L->summary_h = h;
    L->height = PAD + L->summary_h + PAD;

    if (self->cards->len > 0) {
        int cw, ch;
        GtkWidget *first = g_ptr_array_index(self->cards, 0);
        gtk_widget_measure(first, GTK_ORIENTATION_HORIZONTAL, -1, &cw, NULL, NULL, NULL);
        gtk_widget_measure(first, GTK_ORIENTATION_VERTICAL, cw, &ch, NULL, NULL, NULL);
        L->cols = MAX(1, (int)((width - PAD) / (cw + PAD)));
        L->cols = MIN(L->cols, (int)self->cards->len);
        L->rows = ((int)self->cards->len + L->cols - 1) / L->cols;
        L->card_w = MAX(cw, floor((width - PAD) / L->cols - PAD));
        L->card_h = ch;
        L->height += L->rows * (ch + PAD) + PAD;
    }

    for (int col = 0; col < 5; col++) {
        draw_text(NULL, pl, thaw_predictions_pane_table_headers[col], TRUE, 1.0, 0, 0, 0, NULL, 1,
                  &w, &h);
        col_w[col] = w;
    }
    for (int cls = 0; cls < self->k; cls++) {
        draw_text(NULL, pl, self->names[cls], FALSE, 1.0, 0, 0, 0, NULL, 1, &w, &h);
        col_w[0] = MAX(col_w[0], w);
        thaw_predictions_pane_class_row(self, cls, cells);
        for (int col = 1; col < 5; col++) {
            draw_text(NULL, pl, cells[col - 1], FALSE, 1.0, 0, 0, 0, NULL, 1, &w, &h);
            col_w[col] = MAX(col_w[col], w);
        }
    }
    double right = PAD;
    for (int col = 0; col < 5; col++) {
        right += col_w[col] + (col ? TABLE_GAP : 0.0);
        L->col_x[col] = col == 0 ? PAD : right;
    }
    L->row_h = h + 4.0;
    L->table_w = right - PAD;
    L->table_h = (self->k + 1) * L->row_h;
    L->height += L->table_h + PAD;
}

static void draw_table(ThawPredictionsPane *self, cairo_t *cr, PangoLayout *pl, const Layout *L,
                       double y, const GdkRGBA *fg)
{
    char cells[4][32];
    for (int col = 0; col < 5; col++)
        draw_text(cr, pl, thaw_predictions_pane_table_headers[col], TRUE, 1.0, L->col_x[col], y,
                  col ? 1.0 : 0.0, fg, 1, NULL, NULL);
    cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, fg->alpha * 0.25);
    cairo_rectangle(cr, PAD, round(y + L->row_h - 2.0), L->table_w, 1.0);
    cairo_fill(cr);
    for (int cls = 0; cls < self->k; cls++) {
        double ry = y + (cls + 1) * L->row_h;
        thaw_predictions_pane_class_row(self, cls, cells);
        draw_text(cr, pl, self->names[cls], FALSE, 1.0, L->col_x[0], ry, 0.0, fg, 1, NULL, NULL);
        for (int col = 1; col < 5; col++)
            draw_text(cr, pl, cells[col - 1], FALSE, 1.0, L->col_x[col], ry, 1.0, fg, 1, NULL,
                      NULL);
    }
}

void thaw_predictions_pane_draw(ThawPredictionsPane *self, cairo_t *cr, int width, int height)
{
    g_return_if_fail(THAW_IS_PREDICTIONS_PANE(self));
    if (width <= 0 || height <= 0) return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self)), &fg);
    PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    cairo_save(cr);
    int w, h;
    if (self->n == 0) {
        pango_layout_set_width(pl, (int)((width - 2 * PAD) * PANGO_SCALE));
        pango_layout_set_alignment(pl, PANGO_ALIGN_CENTER);
        pango_layout_set_wrap(pl, PANGO_WRAP_WORD);
        draw_text(NULL, pl, thaw_predictions_pane_empty_text, TRUE, 1.0, 0, 0, 0, NULL, 1, &w, &h);
        draw_text(cr, pl, thaw_predictions_pane_empty_text, TRUE, 1.0, PAD, (height - h) / 2.0, 0.0,
                  &fg, 0.55, NULL, NULL);
        cairo_restore(cr);
        g_object_unref(pl);
        return;
    }

    /* The whole page and the table, shrunk uniformly when they do not fit
     * (down to a third; below that, rows that do not fit are left out). */
    Layout L;
    double scale = 1.0, W = width, H = height;
    pane_layout(self, pl, W, &L);
    while (L.height > H && scale > 0.34) {
        scale *= 0.95, W = width / scale, H = height / scale;
        pane_layout(self, pl, W, &L);
    }
    cairo_scale(cr, scale, scale);

    double y = PAD;
    draw_text(cr, pl, self->summary_text, TRUE, 1.0, PAD, y, 0.0, &fg, 1.0, NULL, NULL);
    char page[96];
    g_snprintf(page, sizeof page, "Page %d of %d%s", self->page + 1,
               thaw_predictions_pane_get_n_pages(self),
               self->disagreements_first ? " · disagreements first" : "");
    draw_text(cr, pl, page, FALSE, 0.85, W - PAD, y + 1.0, 1.0, &fg, 0.6, NULL, NULL);
    y += L.summary_h + PAD;

    for (guint i = 0; i < self->cards->len; i++) {
        int r = (int)i / L.cols, col = (int)i % L.cols;
        double cy = y + r * (L.card_h + PAD);
        if (cy + L.card_h > H) break;
        cairo_save(cr);
        cairo_translate(cr, PAD + col * (L.card_w + PAD), cy);
        thaw_prediction_card_draw(g_ptr_array_index(self->cards, i), cr, (int)L.card_w,
                                  (int)L.card_h);
        cairo_restore(cr);
    }
    if (L.rows > 0) y += L.rows * (L.card_h + PAD) + PAD;
    if (y + L.table_h <= H) draw_table(self, cr, pl, &L, y, &fg);
    cairo_restore(cr);
    g_object_unref(pl);
}
