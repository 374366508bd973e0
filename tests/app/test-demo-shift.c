/* Demos 3 (unfreeze) and 7 (domain-shift), app/demo-shift.c: their claims
 * measured with the demos' own setups and again with another seed and other
 * K images, so the margins the lessons state hold robustly, not once. Needs
 * Debian's Fashion-MNIST. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "demotest.h"
#include "thaw.h"

static void test_unfreeze(void)
{
    if (!demotest_have_data()) return;
    for (guint v = 0; v < G_N_ELEMENTS(demotest_seeds); v++) {
        ThawDemoResult r;
        demotest_run("unfreeze", &r, demotest_seeds[v][0] ? demotest_seeds[v] : NULL);
        g_assert_true(r.holds);
        /* the lesson's margins */
        g_assert_cmpfloat(demotest_number(&r, "base(x): change at the unfreeze"), <=, -10);
        g_assert_cmpfloat(
            fabs(demotest_number(&r, "base(x, training=False): change at the unfreeze")), <=, 2);
        g_assert_cmpfloat(
            demotest_number(&r, "base(x): BN layers whose moving statistics moved (of 21)"), ==,
            21);
        g_assert_cmpfloat(
            demotest_number(&r, "base(x, training=False): BN layers whose moving statistics "
                                "moved (of 21)"),
            ==, 0);
        g_assert_cmpfloat(
            demotest_number(&r, "base(x, training=False): mean relative change of the moving "
                                "statistics"),
            ==, 0);
        /* both variants start the second phase from the same model */
        g_assert_cmpfloat(
            demotest_number(&r, "base(x): validation accuracy before unfreezing (epoch 3)"), ==,
            demotest_number(&r, "base(x, training=False): validation accuracy before "
                                "unfreezing (epoch 3)"));
        thaw_demo_result_clear(&r);
    }
}

static void test_domain_shift(void)
{
    if (!demotest_have_data()) return;
    for (guint v = 0; v < G_N_ELEMENTS(demotest_seeds); v++) {
        ThawDemoResult r;
        demotest_run("domain-shift", &r, demotest_seeds[v][0] ? demotest_seeds[v] : NULL);
        g_assert_true(r.holds);
        const char *t = "head on target statistics";
        g_autofree char *clean = g_strdup_printf("%s: validation accuracy, no shift", t);
        g_autofree char *lift = g_strdup_printf("%s: validation accuracy, shift lift", t);
        g_autofree char *gain = g_strdup_printf("%s: shift lift, gained by re-estimation", t);
        g_autofree char *inv = g_strdup_printf("%s: shift invert, gained by re-estimation", t);
        g_assert_cmpfloat(demotest_number(&r, clean) - demotest_number(&r, lift), >=, 20);
        g_assert_cmpfloat(demotest_number(&r, gain), >=, 20);
        g_autofree char *after =
            g_strdup_printf("%s: shift lift, statistics re-estimated on the shifted images", t);
        g_assert_cmpfloat(demotest_number(&r, clean) - demotest_number(&r, after), <=, 10);
        g_assert_cmpfloat(demotest_number(&r, inv), <=, 5);
        g_assert_cmpfloat(
            demotest_number(&r, "head on source statistics: re-estimated on the unshifted "
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
    g_assert_false(thaw_demo_run(thaw_demo_find("unfreeze"), s, &r, NULL, NULL, NULL, &e));
    g_assert_nonnull(e);
    g_clear_error(&e);
    g_assert_false(thaw_demo_run(thaw_demo_find("domain-shift"), s, &r, NULL, NULL, NULL, &e));
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
