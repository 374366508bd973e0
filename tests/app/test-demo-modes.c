/* Teaching demos 5 and 6 (app/demo-modes.c): training mode at prediction
 * time. Their claims, measured on the shipped model with the demos' own
 * setups (resources/presets/demo-batch-mates.ini, demo-dropout.ini) and
 * again with another seed and other K images: the margins the lessons state
 * must hold robustly, not once. Needs Debian's Fashion-MNIST. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "demotest.h"
#include "thaw.h"

static void test_batch_mates(void)
{
    if (!demotest_have_data()) return;
    static const int sizes[] = {1, 2, 4, 8, 16, 32, 128};
    for (guint v = 0; v < G_N_ELEMENTS(demotest_seeds); v++) {
        ThawDemoResult r;
        demotest_run("batch-mates", &r, demotest_seeds[v][0] ? demotest_seeds[v] : NULL);
        g_assert_true(r.holds);
        double infer = demotest_number(&r, "inference mode: validation accuracy, batches of 256");
        /* inference mode is one function of the image: the batch cannot matter */
        g_assert_cmpfloat(demotest_number(&r, "inference mode: validation accuracy, batches of 1"),
                          ==, infer);
        g_assert_cmpfloat(demotest_number(&r, "training mode at batch 1 minus inference mode"), <=,
                          -40);
        g_assert_cmpfloat(
            fabs(demotest_number(&r, "training mode at batch 128 minus inference mode")), <=, 4);
        double prev = 0;
        for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
            g_autofree char *label =
                g_strdup_printf("training mode: validation accuracy, batches of %d", sizes[i]);
            double acc = demotest_number(&r, label);
            if (i > 0) g_assert_cmpfloat(acc, >=, prev - 2);
            prev = acc;
        }
        thaw_demo_result_clear(&r);
    }
}

static void test_dropout(void)
{
    if (!demotest_have_data()) return;
    static const char *const rates[] = {"0.1", "0.3", "0.5"};
    for (guint v = 0; v < G_N_ELEMENTS(demotest_seeds); v++) {
        ThawDemoResult r;
        demotest_run("dropout", &r, demotest_seeds[v][0] ? demotest_seeds[v] : NULL);
        g_assert_true(r.holds);
        double spread[3];
        for (guint i = 0; i < G_N_ELEMENTS(rates); i++) {
            g_autofree char *same = g_strdup_printf(
                "dropout %s: two inference-mode passes bit-identical (1 = yes)", rates[i]);
            g_assert_cmpfloat(demotest_number(&r, same), ==, 1);
            g_autofree char *std = g_strdup_printf("dropout %s: std of the true-class probability "
                                                   "over 10 passes (mean over images)",
                                                   rates[i]);
            spread[i] = demotest_number(&r, std);
        }
        g_assert_cmpfloat(spread[0], >, 0);
        g_assert_cmpfloat(spread[1], >=, spread[0] + 1);
        g_assert_cmpfloat(spread[2], >=, spread[1] + 1);
        g_assert_cmpfloat(spread[2], >=, 5);
        g_assert_cmpfloat(
            demotest_number(&r, "dropout 0.5: images whose top-1 flips at least once in 10 "
                                "passes"),
            >=, 50);
        thaw_demo_result_clear(&r);
    }
}

/* Demos 5 and 6 come right after demo 4 (requires-grad), in lesson order. */
static void test_order(void)
{
    size_t n;
    const ThawDemo *d = thaw_demos(&n);
    const ThawDemo *rg = thaw_demo_find("requires-grad");
    const ThawDemo *bm = thaw_demo_find("batch-mates");
    const ThawDemo *dr = thaw_demo_find("dropout");
    g_assert_nonnull(rg);
    g_assert_nonnull(bm);
    g_assert_nonnull(dr);
    g_assert_true(bm > rg && dr == bm + 1 && dr < d + n);
    for (const ThawDemo *x = bm; x <= dr; x++) {
        g_autofree char *path = thaw_demo_setup_path(x);
        g_autoptr(ThawSetup) s = thaw_setup_new();
        g_autoptr(GError) e = NULL;
        g_assert_true(thaw_setup_load_file(s, path, &e));
        g_assert_no_error(e);
        g_assert_true(thaw_setup_validate(s, &e));
        demotest_check_lesson(x);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demo-modes/order", test_order);
    g_test_add_func("/demo-modes/batch-mates", test_batch_mates);
    g_test_add_func("/demo-modes/dropout", test_dropout);
    return g_test_run();
}
