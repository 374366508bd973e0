/* The teaching demos' claims, measured on the shipped model with the demos'
 * own setups (resources/presets/demo-*.ini), and again with another seed and
 * other K images where a claim depends on training: the margins the lessons
 * state must hold robustly, not once. Needs Debian's Fashion-MNIST. */
#include <glib.h>
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
    return g_test_run();
}
