/* Demos 3 (unfreeze) and 7 (domain-shift), app/demo-shift.c: their claims
 * measured with the demos' own setups and again with another seed and other
 * K images, so the margins the lessons state hold robustly, not once. Needs
 * Debian's Fashion-MNIST. */
#include <glib.h>
#include <math.h>
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
    g_assert_true(g_str_has_prefix(lesson, "# "));
    g_assert_nonnull(strstr(lesson, "**Sources.**"));
    g_assert_nonnull(strstr(lesson, "**What you should see.**"));
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(thaw_demo_run(d, s, r, NULL, NULL, &e));
    g_assert_no_error(e);
    for (guint i = 0; i < r->numbers->len; i++) {
        const ThawDemoNumber *n = r->numbers->pdata[i];
        g_test_message("%s: %s = %g %s", name, n->label, n->value, n->unit);
    }
    g_test_message("%s: %s (%.1f s)", name, r->verdict, (g_get_monotonic_time() - t0) / 1e6);
}

static const char *const seeds[][5] = {
    {NULL},
    {"seed", "2", "data_seed", "7", NULL},
};

static void test_unfreeze(void)
{
    if (!have_data()) return;
    for (guint v = 0; v < G_N_ELEMENTS(seeds); v++) {
        ThawDemoResult r;
        run("unfreeze", &r, seeds[v][0] ? seeds[v] : NULL);
        g_assert_true(r.holds);
        /* the lesson's margins */
        g_assert_cmpfloat(number(&r, "base(x): change at the unfreeze"), <=, -10);
        g_assert_cmpfloat(fabs(number(&r, "base(x, training=False): change at the unfreeze")), <=,
                          2);
        g_assert_cmpfloat(number(&r, "base(x): BN layers whose moving statistics moved (of 21)"),
                          ==, 21);
        g_assert_cmpfloat(number(&r, "base(x, training=False): BN layers whose moving statistics "
                                     "moved (of 21)"),
                          ==, 0);
        g_assert_cmpfloat(number(&r, "base(x, training=False): mean relative change of the moving "
                                     "statistics"),
                          ==, 0);
        /* both variants start the second phase from the same model */
        g_assert_cmpfloat(number(&r, "base(x): validation accuracy before unfreezing (epoch 3)"),
                          ==,
                          number(&r, "base(x, training=False): validation accuracy before "
                                     "unfreezing (epoch 3)"));
        thaw_demo_result_clear(&r);
    }
}

static void test_domain_shift(void)
{
    if (!have_data()) return;
    for (guint v = 0; v < G_N_ELEMENTS(seeds); v++) {
        ThawDemoResult r;
        run("domain-shift", &r, seeds[v][0] ? seeds[v] : NULL);
        g_assert_true(r.holds);
        const char *t = "head on target statistics";
        g_autofree char *clean = g_strdup_printf("%s: validation accuracy, no shift", t);
        g_autofree char *lift = g_strdup_printf("%s: validation accuracy, shift lift", t);
        g_autofree char *gain = g_strdup_printf("%s: shift lift, gained by re-estimation", t);
        g_autofree char *inv = g_strdup_printf("%s: shift invert, gained by re-estimation", t);
        g_assert_cmpfloat(number(&r, clean) - number(&r, lift), >=, 20);
        g_assert_cmpfloat(number(&r, gain), >=, 20);
        g_autofree char *after =
            g_strdup_printf("%s: shift lift, statistics re-estimated on the shifted images", t);
        g_assert_cmpfloat(number(&r, clean) - number(&r, after), <=, 10);
        g_assert_cmpfloat(number(&r, inv), <=, 5);
        g_assert_cmpfloat(number(&r, "head on source statistics: re-estimated on the unshifted "
                                     "target, lost"),
                          >=, 10);
        thaw_demo_result_clear(&r);
    }
}

/* The demos need their two-phase recipe and their shift. */
static void test_needs(void)
{
    g_autoptr(ThawSetup) s = thaw_setup_new();
    ThawDemoResult r;
    g_autoptr(GError) e = NULL;
    g_assert_false(thaw_demo_run(thaw_demo_find("unfreeze"), s, &r, NULL, NULL, &e));
    g_assert_nonnull(e);
    g_clear_error(&e);
    g_assert_false(thaw_demo_run(thaw_demo_find("domain-shift"), s, &r, NULL, NULL, &e));
    g_assert_nonnull(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demo-shift/needs", test_needs);
    g_test_add_func("/demo-shift/unfreeze", test_unfreeze);
    g_test_add_func("/demo-shift/domain-shift", test_domain_shift);
    return g_test_run();
}
