/* The teaching demos' claims, measured on the shipped model with the demos'
 * own setups (resources/presets/demo-*.ini), and again with another seed and
 * other K images where a claim depends on training: the margins the lessons
 * state must hold robustly, not once. Needs Debian's Fashion-MNIST. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "thaw.h"

static gboolean have_data(void)
{
    if (access(THAW_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return TRUE;
    g_test_skip("Debian's dataset-fashion-mnist is not installed");
    return FALSE;
}

static double number(const ThawDemoResult *r, const char *label)
{
    for (guint i = 0; i < r->numbers->len; i++) {
        const ThawDemoNumber *n = r->numbers->pdata[i];
        if (strcmp(n->label, label) == 0) return n->value;
    }
    g_error("no number '%s'", label);
    return 0;
}

/* Runs demo `name` on its setup with optional "key=value" overrides. */
static void run(const char *name, ThawDemoResult *r, const char *const *overrides)
{
    const ThawDemo *d = thaw_demo_find(name);
    g_assert_nonnull(d);
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autofree char *path = thaw_demo_setup_path(d);
    g_autoptr(GError) e = NULL;
    g_assert_true(thaw_setup_load_file(s, path, &e));
    for (int i = 0; overrides && overrides[i]; i += 2)
        g_assert_true(thaw_setup_set(s, overrides[i], overrides[i + 1], NULL));
    g_assert_true(thaw_setup_validate(s, NULL));
    /* the lesson exists and names its sources */
    g_autofree char *lesson = thaw_demo_lesson(d, &e);
    g_assert_no_error(e);
    g_assert_nonnull(strstr(lesson, "**Sources.**"));
    g_assert_nonnull(strstr(lesson, "**What you should see.**"));
    g_assert_true(thaw_demo_run(d, s, r, NULL, NULL, &e));
    g_assert_no_error(e);
    for (guint i = 0; i < r->numbers->len; i++) {
        const ThawDemoNumber *n = r->numbers->pdata[i];
        g_test_message("%s: %s = %g %s", name, n->label, n->value, n->unit);
    }
    g_test_message("%s: %s", name, r->verdict);
}

static void test_training_not_trainable(void)
{
    if (!have_data()) return;
    ThawDemoResult r;
    run("training-not-trainable", &r, NULL);
    g_assert_true(r.holds);
    /* the numbers, exactly */
    g_assert_cmpfloat(number(&r, "trainable base, base(x, training=False): conv kernels changed "
                                 "(of 21)"),
                      ==, 21);
    g_assert_cmpfloat(number(&r, "trainable base, base(x, training=False): gamma/beta changed "
                                 "(of 42)"),
                      ==, 42);
    g_assert_cmpfloat(number(&r, "trainable base, base(x, training=False): moving statistics "
                                 "changed (of 42)"),
                      ==, 0);
    g_assert_cmpfloat(number(&r, "frozen base, base(x): conv kernels changed (of 21)"), ==, 0);
    thaw_demo_result_clear(&r);
}

static void test_broken_bn(void)
{
    if (!have_data()) return;
    static const char *const variants[][5] = {
        {NULL},
        {"seed", "2", "data_seed", "7", NULL},
    };
    for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
        ThawDemoResult r;
        run("broken-bn", &r, variants[v][0] ? variants[v] : NULL);
        g_assert_true(r.holds);
        g_assert_cmpfloat(number(&r, "keras-2.1.3: training mode minus inference mode"), >=, 10);
        g_assert_cmpfloat(number(&r, "keras3: training mode minus inference mode"), <=, 3);
        thaw_demo_result_clear(&r);
    }
}

static void test_requires_grad(void)
{
    if (!have_data()) return;
    ThawDemoResult r;
    run("requires-grad", &r, NULL);
    g_assert_true(r.holds);
    g_assert_cmpfloat(number(&r, "pytorch: BN layers whose running statistics moved (of 21)"), ==,
                      21);
    g_assert_cmpfloat(number(&r, "pytorch-bn-eval: mean relative change of the running "
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
        g_autofree char *lesson = thaw_demo_lesson(&d[i], &e);
        g_assert_no_error(e);
        g_assert_true(g_str_has_prefix(lesson, "# "));
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
