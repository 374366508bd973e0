/* Drawing helpers: see thaw-draw.h. */
#include "thaw-draw.h"

#include <math.h>

void thaw_draw_text_set(PangoLayout *pl, ThawTextKind kind, const char *text, int *w, int *h)
{
    PangoAttrList *attrs = pango_attr_list_new();
    if (kind == THAW_TEXT_SMALL || kind == THAW_TEXT_SMALL_BOLD)
        pango_attr_list_insert(attrs, pango_attr_scale_new(0.85));
    if (kind == THAW_TEXT_TITLE || kind == THAW_TEXT_SMALL_BOLD)
        pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    pango_layout_set_attributes(pl, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_width(pl, -1);
    pango_layout_set_ellipsize(pl, PANGO_ELLIPSIZE_NONE);
    pango_layout_set_text(pl, text, -1);
    pango_layout_get_pixel_size(pl, w, h);
}

void thaw_draw_text_fit(PangoLayout *pl, double max_w, PangoEllipsizeMode mode, int *w)
{
    int cur;
    pango_layout_get_pixel_size(pl, &cur, NULL);
    if (cur > max_w && max_w > 0) {
        pango_layout_set_width(pl, (int)(max_w * PANGO_SCALE));
        pango_layout_set_ellipsize(pl, mode);
        pango_layout_get_pixel_size(pl, &cur, NULL);
    }
    if (w) *w = cur;
}

void thaw_draw_text_show(cairo_t *cr, PangoLayout *pl, double x, double y, double xalign)
{
    int w;
    pango_layout_get_pixel_size(pl, &w, NULL);
    cairo_move_to(cr, round(x - xalign * w), round(y));
    pango_cairo_show_layout(cr, pl);
    cairo_new_path(cr); /* else the next arc would start with a line from here */
}

void thaw_draw_set_color(cairo_t *cr, const GdkRGBA *c, double alpha)
{
    cairo_set_source_rgba(cr, c->red, c->green, c->blue, c->alpha * alpha);
}

void thaw_draw_text_box(cairo_t *cr, const GdkRGBA *fg, double x, double y, double w, double h,
                        double alpha)
{
    double v = 0.3 * fg->red + 0.6 * fg->green + 0.1 * fg->blue > 0.5 ? 0.14 : 1.0;
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgba(cr, v, v, v, alpha);
    cairo_fill(cr);
}
