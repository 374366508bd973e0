/* The teaching demos' claims, measured on the shipped model with the demos'
 * own setups (resources/presets/demo-*.ini), and again with another seed and
 * other K images where a claim depends on training: the margins the lessons
 * state must hold robustly, not once. Needs Debian's Fashion-MNIST. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "demotest.h"
#include "thaw.h"

static void test_training_not_trainable(void)
{
    if (!demotest_have_data()) return;
    ThawDemoResult r;
    demotest_run("training-not-trainable", &r, NULL);
    g_assert_true(r.holds);
    /* the numbers, exactly */
    g_assert_cmpfloat(
        demotest_number(&r, "trainable base, base(x, training=False): conv kernels changed "
                            "(of 21)"),
        ==, 21);
    g_assert_cmpfloat(demotest_number(&r,
                                      "trainable base, base(x, training=False): gamma/beta changed "
                                      "(of 42)"),
                      ==, 42);
    g_assert_cmpfloat(demotest_number(&r,
                                      "trainable base, base(x, training=False): moving statistics "
                                      "changed (of 42)"),
                      ==, 0);
    g_assert_cmpfloat(demotest_number(&r, "frozen base, base(x): conv kernels changed (of 21)"), ==,
                      0);
    thaw_demo_result_clear(&r);
}

static void test_broken_bn(void)
{
    if (!demotest_have_data()) return;
    for (guint v = 0; v < G_N_ELEMENTS(demotest_seeds); v++) {
        ThawDemoResult r;
        demotest_run("broken-bn", &r, demotest_seeds[v][0] ? demotest_seeds[v] : NULL);
        g_assert_true(r.holds);
        g_assert_cmpfloat(demotest_number(&r, "keras-2.1.3: training mode minus inference mode"),
                          >=, 10);
        g_assert_cmpfloat(demotest_number(&r, "keras3: training mode minus inference mode"), <=, 3);
        thaw_demo_result_clear(&r);
    }
}

static void test_requires_grad(void)
{
    if (!demotest_have_data()) return;
    ThawDemoResult r;
    demotest_run("requires-grad", &r, NULL);
    g_assert_true(r.holds);
    g_assert_cmpfloat(
        demotest_number(&r, "pytorch: BN layers whose running statistics moved (of 21)"), ==, 21);
    g_assert_cmpfloat(demotest_number(&r, "pytorch-bn-eval: mean relative change of the running "
                                          "statistics"),
                      ==, 0);
    thaw_demo_result_clear(&r);
}

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

/* Every demo in the table has its setup file and lesson. */
static void test_files(void)
{
    size_t n;
    const ThawDemo *d = thaw_demos(&n);
    g_assert_cmpuint(n, >=, 3);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *path = thaw_demo_setup_path(&d[i]);
        g_autoptr(ThawSetup) s = thaw_setup_new();
        g_autoptr(GError) e = NULL;
        g_assert_true(thaw_setup_load_file(s, path, &e));
        g_assert_true(thaw_setup_validate(s, &e));
        demotest_check_lesson(&d[i]);
    }
    g_assert_null(thaw_demo_find("no-such-demo"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demos/files", test_files);
    g_test_add_func("/demos/training-not-trainable", test_training_not_trainable);
    g_test_add_func("/demos/broken-bn", test_broken_bn);
    g_test_add_func("/demos/requires-grad", test_requires_grad);
    g_test_add_func("/demos/compute", test_compute);
    g_test_add_func("/demos/momentum-lag", test_momentum_lag);
    return g_test_run();
}
