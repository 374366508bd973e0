/* ThawPredictionsPane on Xvfb: the summary, the per-class counts, paging and
 * the disagreements-first order against numbers known by construction; the
 * controls (check box, page-size drop-down, Predict again) and the cards in
 * a laid-out window (count, CSS class "disagree", activation); drawing
 * (both modes' bar colours, the empty state); data replaced and cleared
 * without leaks (ASan/LSan in CI).
 *
 * The synthetic data: 30 images 28x28x1, 5 classes, label i % 5. In each
 * mode the top-1 class gets 0.5 + j/64 and the other four 0.125 - j/256
 * each (j = i % 8 with training=True, 3i % 8 with training=False: sums of 1,
 * all exact in float). The top-1 is
 *   training=True   the true class for i < 20, else class (y + 1) % 5;
 *   training=False  the true class for even i; (y + 1) % 5 for i = 25, 27,
 *                   29; else (y + 2) % 5.
 * So 20 right with training=True, 15 with training=False, and 17
 * disagreements: the odd i < 20, every i in 20..24 and 26, 28.
 *
 * Set THAW_PRED_PNG=path to also draw an example with real Fashion-MNIST
 * test images (classes 5..9) and invented probabilities at 2x, and
 * THAW_PRED_WINDOW_PNG=path for a screenshot of the pane in its window. */
#include <math.h>
#include <string.h>

#include <gtk/gtk.h>

#include "thaw-chart.h"
#include "thaw-prediction-card.h"
#include "thaw-predictions-pane.h"
#include "thaw.h"

#define N  30
#define K  5
#define HW 28

static const char *const NAMES[K] = {"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

typedef struct {
    float pixels[N * HW * HW];
    int32_t labels[N];
    float p[2][N * K];
    int top[2][N];
} Data;

static int top_train(int i)
{
    return i < 20 ? i % K : (i % K + 1) % K;
}

static int top_infer(int i)
{
    if (i % 2 == 0) return i % K;
    if (i >= 25) return (i % K + 1) % K;
    return (i % K + 2) % K;
}

static void data_make(Data *d)
{
    for (int i = 0; i < N; i++) {
        d->labels[i] = i % K;
        for (int px = 0; px < HW * HW; px++) /* a bright square on dark */
            d->pixels[i * HW * HW + px] =
                (px / HW > 6 && px / HW < 22 && px % HW > 6 && px % HW < 22) ? 200.0f + i : 10.0f;
        d->top[0][i] = top_train(i);
        d->top[1][i] = top_infer(i);
        for (int m = 0; m < 2; m++) {
            int j = m == 0 ? i % 8 : (3 * i) % 8;
            for (int c = 0; c < K; c++)
                d->p[m][i * K + c] = c == d->top[m][i] ? 0.5f + j / 64.0f : 0.125f - j / 256.0f;
        }
    }
}

static double data_dp(const Data *d, int i)
{
    int y = d->labels[i];
    return fabs((double)d->p[0][i * K + y] - d->p[1][i * K + y]);
}

static gboolean data_disagrees(const Data *d, int i)
{
    return d->top[0][i] != d->top[1][i];
}

static void pane_set(ThawPredictionsPane *pane, const Data *d, int n)
{
    thaw_predictions_pane_set_data(pane, n, HW, HW, 1, d->pixels, d->labels, K, NAMES, d->p[0],
                                   d->p[1]);
}

/* ---------------------------------------------------------- helpers */

static ThawPredictionsPane *pane_new_floating_ref(void)
{
    return THAW_PREDICTIONS_PANE(g_object_ref_sink(thaw_predictions_pane_new()));
}

/* The pane in a presented window, laid out. */
static GtkWidget *window_with(ThawPredictionsPane *pane, int width, int height)
{
    GtkWidget *window = gtk_window_new();
    gtk_window_set_default_size(GTK_WINDOW(window), width, height);
    gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(pane));
    gtk_window_present(GTK_WINDOW(window));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    return window;
}

static void collect(GtkWidget *w, GType type, GPtrArray *out)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(w, type)) g_ptr_array_add(out, w);
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        collect(c, type, out);
}

static GtkWidget *find_button(GtkWidget *root, const char *label)
{
    GPtrArray *all = g_ptr_array_new();
    collect(root, GTK_TYPE_BUTTON, all);
    GtkWidget *found = NULL;
    for (guint i = 0; i < all->len && !found; i++)
        if (g_strcmp0(gtk_button_get_label(all->pdata[i]), label) == 0) found = all->pdata[i];
    g_ptr_array_unref(all);
    return found;
}

static cairo_surface_t *draw_pane(ThawPredictionsPane *pane, int width, int height)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    cairo_t *cr = cairo_create(s);
    thaw_predictions_pane_draw(pane, cr, width, height);
    g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    return s;
}

/* Pixels at least half covered in (r, g, b) give or take tol (the surface is
 * premultiplied). */
static int count_color(cairo_surface_t *s, int r, int g, int b, int tol)
{
    int n = 0, w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const guint8 *data = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; y++) {
        const guint32 *row = (const guint32 *)(data + y * stride);
        for (int x = 0; x < w; x++) {
            int a = row[x] >> 24;
            if (a < 128) continue;
            int pr = ((row[x] >> 16) & 0xff) * 255 / a, pg = ((row[x] >> 8) & 0xff) * 255 / a,
                pb = (row[x] & 0xff) * 255 / a;
            n += abs(pr - r) <= tol && abs(pg - g) <= tol && abs(pb - b) <= tol;
        }
    }
    return n;
}

static int count_ink(cairo_surface_t *s)
{
    int n = 0, w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const guint8 *data = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) n += data[y * stride + 4 * x + 3] != 0;
    return n;
}

#define RED_RGB   192, 28, 40  /* THAW_CHART_RED */
#define GREEN_RGB 38, 162, 105 /* THAW_CHART_GREEN */

static void count(GObject *object, GParamSpec *pspec, int *n)
{
    (*n)++;
}

/* ---------------------------------------------------------- tests */

static void test_summary(void)
{
    Data *d = g_new(Data, 1);
    data_make(d);
    ThawPredictionsPane *pane = pane_new_floating_ref();
    pane_set(pane, d, N);

    ThawPredictionSummary s = thaw_predictions_pane_get_summary(pane);
    g_assert_cmpint(s.n, ==, 30);
    g_assert_cmpint(s.n_disagree, ==, 17);
    g_assert_cmpfloat(s.acc_train, ==, 20.0 / 30.0);
    g_assert_cmpfloat(s.acc_infer, ==, 15.0 / 30.0);
    g_assert_cmpfloat(s.disagree_rate, ==, 17.0 / 30.0);
    /* mean |Δp| by the definition, from the construction: */
    double sum = 0.0;
    for (int i = 0; i < N; i++) {
        int jt = i % 8, jf = (3 * i) % 8;
        double pt = top_train(i) == i % K ? 0.5 + jt / 64.0 : 0.125 - jt / 256.0;
        double pf = top_infer(i) == i % K ? 0.5 + jf / 64.0 : 0.125 - jf / 256.0;
        sum += fabs(pt - pf);
    }
    g_assert_cmpfloat_with_epsilon(s.mean_abs_dp, sum / N, 1e-12);
    /* and one by hand: image 1 (train right j=1, infer wrong j=3) */
    g_assert_cmpfloat(data_dp(d, 1), ==, (0.5 + 1 / 64.0) - (0.125 - 3 / 256.0));

    char *expected = g_strdup_printf("training=True 66.7%% · training=False 50.0%% · disagree "
                                     "56.7%% · mean |Δp| %.2f",
                                     sum / N);
    g_assert_cmpstr(thaw_predictions_pane_get_summary_text(pane), ==, expected);
    g_free(expected);

    /* per class: 6 images each, 4 right in training mode (i < 20), 3 in
     * inference mode (the even i), disagreements counted above */
    const int disagree[K] = {3, 4, 3, 4, 3};
    for (int c = 0; c < K; c++) {
        ThawPredictionClassStats cs;
        g_assert_true(thaw_predictions_pane_get_class_stats(pane, c, &cs));
        g_assert_cmpint(cs.n, ==, 6);
        g_assert_cmpint(cs.correct_train, ==, 4);
        g_assert_cmpint(cs.correct_infer, ==, 3);
        g_assert_cmpint(cs.disagree, ==, disagree[c]);
    }
    ThawPredictionClassStats cs;
    g_assert_false(thaw_predictions_pane_get_class_stats(pane, K, &cs));
    g_assert_cmpint(cs.n, ==, 0);
    g_assert_false(thaw_predictions_pane_get_class_stats(pane, -1, &cs));

    /* ties and NaN: the first largest wins, NaN never */
    const float tie[3] = {0.4f, 0.4f, 0.2f}, nan3[3] = {NAN, 0.1f, NAN};
    const float all_nan[2] = {NAN, NAN};
    g_assert_cmpint(thaw_prediction_argmax(tie, 3), ==, 0);
    g_assert_cmpint(thaw_prediction_argmax(nan3, 3), ==, 1);
    g_assert_cmpint(thaw_prediction_argmax(all_nan, 2), ==, -1);

    g_object_unref(pane);
    g_free(d);
}

static void test_paging(void)
{
    Data *d = g_new(Data, 1);
    data_make(d);
    ThawPredictionsPane *pane = pane_new_floating_ref();
    int page_notes = 0;
    g_assert_cmpint(thaw_predictions_pane_get_page_size(pane), ==, 24);
    pane_set(pane, d, N);
    g_assert_cmpint(thaw_predictions_pane_get_n_pages(pane), ==, 2);
    thaw_predictions_pane_set_page_size(pane, 12);
    g_assert_cmpint(thaw_predictions_pane_get_n_pages(pane), ==, 3);
    for (int i = 0; i < 12; i++) g_assert_cmpint(thaw_predictions_pane_get_shown(pane, i), ==, i);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 12), ==, -1);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, -1), ==, -1);

    g_signal_connect(pane, "notify::page", G_CALLBACK(count), &page_notes);
    thaw_predictions_pane_set_page(pane, 2);
    g_assert_cmpint(page_notes, ==, 1);
    for (int i = 0; i < 6; i++)
        g_assert_cmpint(thaw_predictions_pane_get_shown(pane, i), ==, 24 + i);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 6), ==, -1);
    thaw_predictions_pane_set_page(pane, 10); /* clamps */
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 2);
    g_assert_cmpint(page_notes, ==, 1);
    thaw_predictions_pane_set_page(pane, -3);
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 0);
    g_assert_cmpint(page_notes, ==, 2);

    /* a new page size keeps the first image shown on the page */
    thaw_predictions_pane_set_page(pane, 2); /* images 24.. */
    thaw_predictions_pane_set_page_size(pane, 24);
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 1);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 0), ==, 24);
    g_object_set(pane, "page-size", 48, NULL);
    g_assert_cmpint(thaw_predictions_pane_get_n_pages(pane), ==, 1);
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 0);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 29), ==, 29);

    /* fewer images: the page is clamped */
    thaw_predictions_pane_set_page_size(pane, 12);
    thaw_predictions_pane_set_page(pane, 2);
    pane_set(pane, d, 13);
    g_assert_cmpint(thaw_predictions_pane_get_n_pages(pane), ==, 2);
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 1);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 0), ==, 12);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 1), ==, -1);
    g_object_unref(pane);
    g_free(d);
}

static void test_disagreements_first(void)
{
    Data *d = g_new(Data, 1);
    data_make(d);
    ThawPredictionsPane *pane = pane_new_floating_ref();
    pane_set(pane, d, N);
    thaw_predictions_pane_set_page_size(pane, 12);
    thaw_predictions_pane_set_page(pane, 1);
    int notes = 0;
    g_signal_connect(pane, "notify::disagreements-first", G_CALLBACK(count), &notes);
    thaw_predictions_pane_set_disagreements_first(pane, TRUE);
    g_assert_cmpint(notes, ==, 1);
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 0); /* back to the top */

    /* the expected order: disagreeing first, |Δp| descending, index ascending */
    int order[N];
    for (int i = 0; i < N; i++) order[i] = i;
    for (int a = 1; a < N; a++) {
        for (int b = a; b > 0; b--) {
            int i = order[b - 1], j = order[b];
            gboolean swap =
                data_disagrees(d, j) > data_disagrees(d, i) ||
                (data_disagrees(d, j) == data_disagrees(d, i) && data_dp(d, j) > data_dp(d, i));
            if (!swap) break;
            order[b - 1] = j, order[b] = i;
        }
    }
    for (int s = 0; s < N; s++) {
        thaw_predictions_pane_set_page(pane, s / 12);
        int shown = thaw_predictions_pane_get_shown(pane, s % 12);
        g_assert_cmpint(shown, ==, order[s]);
        g_assert_true(data_disagrees(d, shown) == (s < 17)); /* exactly the 17 first */
    }
    /* hand check: the largest |Δp| among the disagreements */
    thaw_predictions_pane_set_page(pane, 0);
    int first = thaw_predictions_pane_get_shown(pane, 0);
    for (int i = 0; i < N; i++)
        if (data_disagrees(d, i)) g_assert_cmpfloat(data_dp(d, first), >=, data_dp(d, i));

    /* new data keeps the order; switching it off restores the data's order */
    pane_set(pane, d, N);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 0), ==, order[0]);
    g_object_set(pane, "disagreements-first", FALSE, NULL);
    g_assert_cmpint(notes, ==, 2);
    for (int i = 0; i < 12; i++) g_assert_cmpint(thaw_predictions_pane_get_shown(pane, i), ==, i);
    g_object_unref(pane);
    g_free(d);
}

static void on_refresh(ThawPredictionsPane *pane, int *n)
{
    (*n)++;
}

static void on_activated(ThawPredictionsPane *pane, int index, int *out)
{
    *out = index;
}

/* The real widgets in a window: controls, cards, CSS classes, activation. */
static void test_widgets(void)
{
    Data *d = g_new(Data, 1);
    data_make(d);
    ThawPredictionsPane *pane = THAW_PREDICTIONS_PANE(thaw_predictions_pane_new());
    GtkWidget *window = window_with(pane, 1300, 900);
    pane_set(pane, d, N);
    thaw_predictions_pane_set_page_size(pane, 12);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));

    /* Predict again emits once */
    int refreshes = 0;
    g_signal_connect(pane, "refresh-requested", G_CALLBACK(on_refresh), &refreshes);
    GtkWidget *button = find_button(GTK_WIDGET(pane), "Predict again");
    g_assert_nonnull(button);
    g_signal_emit_by_name(button, "clicked"); /* (activate clicks on a timeout) */
    g_assert_cmpint(refreshes, ==, 1);

    /* the check box and the pane follow each other */
    GPtrArray *checks = g_ptr_array_new();
    collect(GTK_WIDGET(pane), GTK_TYPE_CHECK_BUTTON, checks);
    g_assert_cmpuint(checks->len, ==, 1);
    GtkCheckButton *check = checks->pdata[0];
    g_ptr_array_unref(checks);
    g_assert_cmpstr(gtk_check_button_get_label(check), ==, "Disagreements first");
    gtk_check_button_set_active(check, TRUE);
    g_assert_true(thaw_predictions_pane_get_disagreements_first(pane));
    thaw_predictions_pane_set_disagreements_first(pane, FALSE);
    g_assert_false(gtk_check_button_get_active(check));

    /* the page-size drop-down */
    GPtrArray *dds = g_ptr_array_new();
    collect(GTK_WIDGET(pane), GTK_TYPE_DROP_DOWN, dds);
    g_assert_cmpuint(dds->len, ==, 1);
    GtkDropDown *dd = dds->pdata[0];
    g_ptr_array_unref(dds);
    g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 0); /* follows set_page_size(12) */
    gtk_drop_down_set_selected(dd, 2);
    g_assert_cmpint(thaw_predictions_pane_get_page_size(pane), ==, 48);
    thaw_predictions_pane_set_page_size(pane, 12);
    g_assert_cmpuint(gtk_drop_down_get_selected(dd), ==, 0);

    /* the cards of the page, after layout */
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    GPtrArray *cards = g_ptr_array_new();
    collect(GTK_WIDGET(pane), THAW_TYPE_PREDICTION_CARD, cards);
    g_assert_cmpuint(cards->len, ==, 12);
    for (guint s = 0; s < cards->len; s++) {
        ThawPredictionCard *card = cards->pdata[s];
        int i = thaw_prediction_card_get_index(card);
        g_assert_cmpint(i, ==, thaw_predictions_pane_get_shown(pane, (int)s));
        g_assert_true(gtk_widget_has_css_class(GTK_WIDGET(card), "disagree") ==
                      data_disagrees(d, i));
        g_assert_true(thaw_prediction_card_get_disagree(card) == data_disagrees(d, i));
        g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(card)), >=, 200);
        g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(card)), >=, 90);
        if (s == 0)
            g_test_message("card %d x %d", gtk_widget_get_width(GTK_WIDGET(card)),
                           gtk_widget_get_height(GTK_WIDGET(card)));
    }
    /* image 1: true Shirt, training=True Shirt 52%, training=False Bag 55% */
    ThawPredictionCard *card1 = cards->pdata[1];
    g_assert_cmpstr(thaw_prediction_card_get_description(card1), ==,
                    "image 1, true Shirt; training=True: Shirt 52%; training=False: Bag 55% "
                    "(wrong) (disagree)");
    g_assert_false(gtk_widget_has_css_class(cards->pdata[0], "disagree"));
    g_assert_true(gtk_widget_has_css_class(cards->pdata[1], "disagree"));

    /* activating a card (Enter or a double click on its flow box child) */
    int activated = -1;
    g_signal_connect(pane, "image-activated", G_CALLBACK(on_activated), &activated);
    g_signal_emit_by_name(gtk_widget_get_parent(cards->pdata[5]), "activate");
    g_assert_cmpint(activated, ==, 5);
    g_ptr_array_unref(cards);

    /* the next page's cards replace these */
    thaw_predictions_pane_set_page(pane, 2);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    cards = g_ptr_array_new();
    collect(GTK_WIDGET(pane), THAW_TYPE_PREDICTION_CARD, cards);
    g_assert_cmpuint(cards->len, ==, 6);
    g_assert_cmpint(thaw_prediction_card_get_index(cards->pdata[0]), ==, 24);
    g_ptr_array_unref(cards);

    /* the per-class table: a header row and one row per class */
    GPtrArray *grids = g_ptr_array_new();
    collect(GTK_WIDGET(pane), GTK_TYPE_GRID, grids);
    g_assert_cmpuint(grids->len, ==, 1);
    GtkWidget *cell = gtk_grid_get_child_at(grids->pdata[0], 0, 5);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(cell)), ==, "Ankle boot");
    cell = gtk_grid_get_child_at(grids->pdata[0], 2, 1);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(cell)), ==, "66.7%");
    cell = gtk_grid_get_child_at(grids->pdata[0], 4, 2);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(cell)), ==, "4");
    g_ptr_array_unref(grids);

    g_object_add_weak_pointer(G_OBJECT(pane), (gpointer *)&pane);
    gtk_window_destroy(GTK_WINDOW(window));
    g_assert_null(pane);
    g_free(d);
}

static void test_draw(void)
{
    Data *d = g_new(Data, 1);
    data_make(d);
    ThawPredictionsPane *pane = pane_new_floating_ref(); /* not realized */
    pane_set(pane, d, N);
    cairo_surface_t *s = draw_pane(pane, 800, 600);
    int red = count_color(s, RED_RGB, 24), green = count_color(s, GREEN_RGB, 24);
    g_test_message("red %d, green %d pixels", red, green);
    g_assert_cmpint(red, >, 500);
    g_assert_cmpint(green, >, 500);
    cairo_surface_destroy(s);

    /* at 2x, as the export draws */
    s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1600, 1200);
    cairo_t *cr = cairo_create(s);
    cairo_scale(cr, 2, 2);
    thaw_predictions_pane_draw(pane, cr, 800, 600);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    g_assert_cmpint(count_color(s, RED_RGB, 24), >, 3 * red);
    cairo_surface_destroy(s);
    g_object_unref(pane);
    g_free(d);
}

/* No images: a hint, no cards, no bars, no crash; set_data twice and clear
 * (leaks show under ASan). */
static void test_empty_and_replace(void)
{
    Data *d = g_new(Data, 1);
    data_make(d);
    ThawPredictionsPane *pane = THAW_PREDICTIONS_PANE(thaw_predictions_pane_new());
    GtkWidget *window = window_with(pane, 900, 600);
    g_assert_cmpstr(thaw_predictions_pane_get_summary_text(pane), ==, "No predictions yet");
    g_assert_cmpint(thaw_predictions_pane_get_n_pages(pane), ==, 0);
    g_assert_cmpint(thaw_predictions_pane_get_shown(pane, 0), ==, -1);
    ThawPredictionSummary sum = thaw_predictions_pane_get_summary(pane);
    g_assert_cmpint(sum.n, ==, 0);
    g_assert_cmpfloat(sum.acc_train, ==, 0.0);
    cairo_surface_t *s = draw_pane(pane, 800, 600);
    g_assert_cmpint(count_ink(s), >, 200); /* the hint */
    g_assert_cmpint(count_color(s, RED_RGB, 24) + count_color(s, GREEN_RGB, 24), ==, 0);
    cairo_surface_destroy(s);
    thaw_predictions_pane_set_page(pane, 3);
    g_assert_cmpint(thaw_predictions_pane_get_page(pane), ==, 0);
    thaw_predictions_pane_set_disagreements_first(pane, TRUE);

    pane_set(pane, d, N);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    pane_set(pane, d, 7);
    g_assert_cmpint(thaw_predictions_pane_get_summary(pane).n, ==, 7);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    GPtrArray *cards = g_ptr_array_new();
    collect(GTK_WIDGET(pane), THAW_TYPE_PREDICTION_CARD, cards);
    g_assert_cmpuint(cards->len, ==, 7);
    g_ptr_array_unref(cards);

    thaw_predictions_pane_clear(pane);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    cards = g_ptr_array_new();
    collect(GTK_WIDGET(pane), THAW_TYPE_PREDICTION_CARD, cards);
    g_assert_cmpuint(cards->len, ==, 0);
    g_ptr_array_unref(cards);
    g_assert_cmpstr(thaw_predictions_pane_get_summary_text(pane), ==, "No predictions yet");
    g_assert_true(thaw_predictions_pane_get_disagreements_first(pane)); /* a setting, kept */

    /* n = 0 through set_data is the empty state too; and RGB images */
    pane_set(pane, d, N);
    thaw_predictions_pane_set_data(pane, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL, NULL);
    g_assert_cmpint(thaw_predictions_pane_get_n_pages(pane), ==, 0);
    float *rgb = g_new0(float, 2 * 4 * 3 * 3);
    rgb[0] = 255.0f, rgb[4] = 300.0f, rgb[8] = NAN; /* clamped */
    thaw_predictions_pane_set_data(pane, 2, 4, 3, 3, rgb, d->labels, K, NAMES, d->p[0], d->p[1]);
    g_free(rgb);
    g_assert_cmpint(thaw_predictions_pane_get_summary(pane).n, ==, 2);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    s = draw_pane(pane, 800, 600);
    cairo_surface_destroy(s);

    gtk_window_destroy(GTK_WINDOW(window));
    g_free(d);
}

/* ---------------------------------------------------------- the example */

static void write_window_png(GtkWidget *widget, const char *path)
{
    GdkPaintable *paintable = gtk_widget_paintable_new(widget);
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, snap, w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(widget));
    GdkTexture *texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
    g_assert_true(gdk_texture_save_to_png(texture, path));
    g_object_unref(texture);
    gsk_render_node_unref(node);
    g_object_unref(paintable);
}

static void softmax(float *p, const double *logit, int k)
{
    double mx = logit[0], sum = 0.0;
    for (int c = 1; c < k; c++) mx = MAX(mx, logit[c]);
    for (int c = 0; c < k; c++) sum += exp(logit[c] - mx);
    for (int c = 0; c < k; c++) p[c] = (float)(exp(logit[c] - mx) / sum);
}

static void test_example(void)
{
    const char *path = g_getenv("THAW_PRED_PNG");
    const char *window_path = g_getenv("THAW_PRED_WINDOW_PNG");
    if (!path && !window_path) {
        g_test_skip("set THAW_PRED_PNG or THAW_PRED_WINDOW_PNG to draw the example");
        return;
    }
    thaw_dataset all = {0}, sub = {0};
    thaw_error err;
    if (thaw_fashion_load(&all, THAW_FASHION_MNIST_DIR, "t10k", &err) != THAW_OK) {
        g_test_skip("no Fashion-MNIST");
        return;
    }
    const int classes[K] = {5, 6, 7, 8, 9};
    g_assert_cmpint(thaw_dataset_subset(&sub, &all, classes, K, 12, 42, &err), ==, THAW_OK);
    thaw_dataset_free(&all);
    int n = sub.n;
    float *p[2] = {g_new(float, (size_t)n *K), g_new(float, (size_t)n *K)};
    GRand *rand = g_rand_new_with_seed(3);
    for (int i = 0; i < n; i++) {
        /* inference mode: a decent model; training mode (batch statistics of
         * a small batch): flatter and noisier, its own confusions */
        double shared[K], logit[K];
        for (int c = 0; c < K; c++) shared[c] = g_rand_double_range(rand, -1.5, 1.5);
        shared[sub.y[i]] += 2.6;
        gboolean shoe = sub.y[i] == 0 || sub.y[i] == 2 || sub.y[i] == 4;
        for (int c = 0; c < K && shoe; c++) /* footwear is confused with footwear */
            if (c != sub.y[i] && (c == 0 || c == 2 || c == 4)) shared[c] += 0.8;
        for (int c = 0; c < K; c++) logit[c] = shared[c];
        softmax(p[1] + (size_t)i * K, logit, K);
        for (int c = 0; c < K; c++)
            logit[c] = 0.6 * shared[c] + g_rand_double_range(rand, -1.4, 1.4);
        softmax(p[0] + (size_t)i * K, logit, K);
    }
    g_rand_free(rand);

    ThawPredictionsPane *pane = THAW_PREDICTIONS_PANE(thaw_predictions_pane_new());
    GtkWidget *window = window_with(pane, 1280, 900);
    thaw_predictions_pane_set_data(pane, n, sub.h, sub.w, sub.c, sub.x, sub.y, K, NAMES, p[0],
                                   p[1]);
    thaw_predictions_pane_set_disagreements_first(pane, TRUE);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(pane));
    g_test_message("%s", thaw_predictions_pane_get_summary_text(pane));
    if (path) {
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 2 * 1280, 2 * 900);
        cairo_t *cr = cairo_create(s);
        cairo_set_source_rgb(cr, 0.98, 0.98, 0.98);
        cairo_paint(cr);
        cairo_scale(cr, 2, 2);
        thaw_predictions_pane_draw(pane, cr, 1280, 900);
        cairo_destroy(cr);
        g_assert_cmpint(cairo_surface_write_to_png(s, path), ==, CAIRO_STATUS_SUCCESS);
        cairo_surface_destroy(s);
    }
    if (window_path) write_window_png(window, window_path);
    gtk_window_destroy(GTK_WINDOW(window));
    g_free(p[0]);
    g_free(p[1]);
    thaw_dataset_free(&sub);
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/predictions-pane/summary", test_summary);
    g_test_add_func("/predictions-pane/paging", test_paging);
    g_test_add_func("/predictions-pane/disagreements-first", test_disagreements_first);
    g_test_add_func("/predictions-pane/widgets", test_widgets);
    g_test_add_func("/predictions-pane/draw", test_draw);
    g_test_add_func("/predictions-pane/empty-and-replace", test_empty_and_replace);
    g_test_add_func("/predictions-pane/example", test_example);
    return g_test_run();
}
