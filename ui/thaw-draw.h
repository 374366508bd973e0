/* Small drawing helpers shared by Thaw's drawn widgets (ThawChart, ThawBnPlot,
 * ThawDriftMap): text through the widget's own Pango layout and colours with
 * an extra alpha; ThawChart uses them too. Nothing here allocates beyond
 * what Pango does for a line of text. */
#ifndef THAW_UI_DRAW_H
#define THAW_UI_DRAW_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
    THAW_TEXT_SMALL,      /* tick labels, legends, row names: 0.85 of the widget's font */
    THAW_TEXT_SMALL_BOLD, /* the selected row's name */
    THAW_TEXT_NORMAL,     /* read-outs */
    THAW_TEXT_TITLE,      /* bold */
} ThawTextKind;

/* Sets pl's text and style (no width limit, no ellipsis); *w and *h receive
 * its size in pixels. */
void thaw_draw_text_set(PangoLayout *pl, ThawTextKind kind, const char *text, int *w, int *h);

/* Limits the text set last to max_w pixels, ellipsized at mode (no-op when
 * it fits); *w receives the new width. */
void thaw_draw_text_fit(PangoLayout *pl, double max_w, PangoEllipsizeMode mode, int *w);

/* Draws the layout with its left edge at x - xalign * width, top at y. */
void thaw_draw_text_show(cairo_t *cr, PangoLayout *pl, double x, double y, double xalign);

/* c with its alpha multiplied by alpha. */
void thaw_draw_set_color(cairo_t *cr, const GdkRGBA *c, double alpha);

/* A box behind text laid over a plot: light or dark against the theme's text
 * colour fg, so that it reads in either theme. */
void thaw_draw_text_box(cairo_t *cr, const GdkRGBA *fg, double x, double y, double w, double h,
                        double alpha);

G_END_DECLS

#endif
