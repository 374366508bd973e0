/* ThawPredictionsPane's insides, shared by thaw-predictions-pane.c (data,
 * widgets, API) and thaw-predictions-pane-draw.c (the drawn export). */
#ifndef THAW_UI_PREDICTIONS_PANE_PRIVATE_H
#define THAW_UI_PREDICTIONS_PANE_PRIVATE_H

#include "thaw-predictions-pane.h"

G_BEGIN_DECLS

struct _ThawPredictionsPane {
    GtkWidget parent_instance;

    /* the data (owned copies) */
    int n, h, w, c, k;
    uint8_t *pixels; /* (n, h, w, c) */
    int32_t *labels; /* (n) */
    char **names;    /* (k), NULL-terminated */
    float *p[2];     /* (n, k) each: [0] training=True, [1] training=False */
    /* derived */
    int *top[2]; /* (n) top-1 per mode, -1: none */
    float *dp;   /* (n) |Δp| of the true class */
    int *order;  /* (n) image indices in the shown order */
    ThawPredictionSummary summary;
    ThawPredictionClassStats *class_stats; /* (k) */
    char *summary_text;

    int page_size, page;
    gboolean disagreements_first;

    GtkWidget *box; /* the only child */
    GtkWidget *summary_label, *check, *prev, *page_label, *next, *page_size_dd, *refresh;
    GtkWidget *empty_label, *scrolled, *flow, *table;
    GPtrArray *cards; /* the current page's ThawPredictionCards, in order (refs) */
};

/* The hint shown without images. */
extern const char thaw_predictions_pane_empty_text[];
/* The per-class table's column titles. */
extern const char *const thaw_predictions_pane_table_headers[5];
/* The texts of row `cls` of the per-class table (columns 1..4: images,
 * accuracy with training=True, with training=False, disagreements). */
void thaw_predictions_pane_class_row(ThawPredictionsPane *self, int cls, char cells[4][32]);

G_END_DECLS

#endif
