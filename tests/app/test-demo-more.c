/* Demos 8 (compute, app/demo-compute.c) and 9 (momentum-lag,
 * app/demo-lag.c): their claims on the shipped model with the demos' own
 * setups, demo 9 on two seeds. A program of their own so that no demo test
 * program comes near its timeout on a busy machine. Needs Debian's
 * Fashion-MNIST. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "demo.h"
#include "demotest.h"

/* Demo 8 asserts work, never time: the cost model's multiply-accumulates
 * per image for each variant (ResNet-20 on 28x28 with 5 classes: 31,021,312
 * conv MACs + 320 dense ones forward, counted by hand), where the cache starts, and that it changes
 * no loss. The measured speeds are only checked to be numbers. */
static void test_compute(void)
{
    if (!demotest_have_data()) return;
    ThawDemoResult r;
    demotest_run("compute", &r, NULL);
    g_assert_true(r.holds);
    const char *ladder[] = {"nothing frozen", "stem frozen", "stem + stage 1 frozen",
                            "stem + stages 1-2 frozen", "whole base frozen"};
    const int reach[] = {72, 69, 48, 25, 1};
    double prev = G_MAXDOUBLE;
    for (guint i = 0; i < G_N_ELEMENTS(ladder); i++) {
        g_autofree char *work = g_strdup_printf("%s: work per image per step", ladder[i]);
        g_autofree char *layers = g_strdup_printf("%s: layers backward reaches", ladder[i]);
        g_autofree char *speed = g_strdup_printf("%s: measured speed", ladder[i]);
        double w = demotest_number(&r, work);
        g_assert_cmpfloat(w, <, prev);
        prev = w;
        g_assert_cmpfloat(demotest_number(&r, layers), ==, reach[i]);
        double ips = demotest_number(&r, speed);
        g_assert_true(isfinite(ips) && ips > 0);
    }
    /* everything trains: forward + input gradients (not the first conv's) + weight gradients */
    g_assert_cmpfloat_with_epsilon(demotest_number(&r, "nothing frozen: work per image per step"),
                                   3 * 31.021632 - 0.112896, 1e-6);
    /* the whole base frozen: the forward pass and the head's 64 x 5 weight gradient */
    g_assert_cmpfloat_with_epsilon(
        demotest_number(&r, "whole base frozen: work per image per step"), 31.021632 + 0.00032,
        1e-6);
    g_assert_cmpfloat(demotest_number(&r, "whole base frozen, feature cache: work per image per "
                                          "step"),
                      ==, 640e-6);
    g_assert_cmpfloat(demotest_number(&r, "whole base frozen, feature cache: forward pass skipped "
                                          "(cached up to avg_pool)"),
                      >, 99.99);
    g_assert_cmpfloat(demotest_number(&r, "stem + stages 1-2 frozen, feature cache: forward pass "
                                          "skipped (cached up to conv3_block3_out)"),
                      >, 50);
    g_assert_cmpfloat(demotest_number(&r, "whole base frozen, preset pytorch, feature cache: "
                                          "forward pass skipped (cached up to conv1_conv)"),
                      <, 1);
    g_assert_cmpfloat(demotest_number(&r, "whole base frozen: largest difference of the first 8 "
                                          "losses, feature cache vs none"),
                      <=, 1e-4);
    thaw_demo_result_clear(&r);
}

/* Demo 9 on two seeds: inference mode at least 10 points behind training
 * mode with Keras's momentum 0.99, at most 5 with 0.9, within 5 after
 * re-estimating the statistics; fit() identical under both momenta. */
static void test_momentum_lag(void)
{
    if (!demotest_have_data()) return;
    for (guint v = 0; v < G_N_ELEMENTS(demotest_seeds); v++) {
        ThawDemoResult r;
        demotest_run("momentum-lag", &r, demotest_seeds[v][0] ? demotest_seeds[v] : NULL);
        g_assert_true(r.holds);
        double train = demotest_number(&r, "epoch 3: validation accuracy in training mode (either "
                                           "momentum)");
        g_assert_cmpfloat(demotest_number(&r, "momentum 0.99: training mode minus inference mode "
                                              "after epoch 3"),
                          >=, 10);
        g_assert_cmpfloat(demotest_number(&r, "momentum 0.90: training mode minus inference mode "
                                              "after epoch 3"),
                          <=, 5);
        g_assert_cmpfloat(train - demotest_number(&r, "momentum 0.99, statistics re-estimated: "
                                                      "inference accuracy"),
                          <=, 5);
        g_assert_cmpfloat(demotest_number(&r, "largest difference of fit() losses and "
                                              "training-mode accuracies between the momenta"),
                          ==, 0);
        thaw_demo_result_clear(&r);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demo-more/compute", test_compute);
    g_test_add_func("/demo-more/momentum-lag", test_momentum_lag);
    return g_test_run();
}
