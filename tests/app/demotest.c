/* Shared by the demo test programs: see demotest.h. */
#include "demotest.h"

#include <string.h>
#include <unistd.h>

#include "thaw.h"

const char *const demotest_seeds[2][5] = {
    {NULL},
    {"seed", "2", "data_seed", "7", NULL},
};

gboolean demotest_have_data(void)
{
    if (access(THAW_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return TRUE;
    g_test_skip("Debian's dataset-fashion-mnist is not installed");
    return FALSE;
}

double demotest_number(const ThawDemoResult *r, const char *label)
{
    for (guint i = 0; i < r->numbers->len; i++) {
        const ThawDemoNumber *n = r->numbers->pdata[i];
        if (strcmp(n->label, label) == 0) return n->value;
    }
    g_error("no number '%s'", label);
    return 0;
}

void demotest_check_lesson(const ThawDemo *d)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *lesson = thaw_demo_lesson(d, &e);
    g_assert_no_error(e);
    g_assert_true(g_str_has_prefix(lesson, "# "));
    static const char *const sections[] = {
        "**What to click.**", "**What to watch.**", "**What you should see.**",
        "**Why.**",           "**Sources.**",
    };
    for (guint i = 0; i < G_N_ELEMENTS(sections); i++)
        if (!strstr(lesson, sections[i])) g_error("lesson %s: no %s", d->name, sections[i]);
}

void demotest_run(const char *name, ThawDemoResult *r, const char *const *overrides)
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
    demotest_check_lesson(d);
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(thaw_demo_run(d, s, r, NULL, NULL, NULL, &e));
    g_assert_no_error(e);
    for (guint i = 0; i < r->numbers->len; i++) {
        const ThawDemoNumber *n = r->numbers->pdata[i];
        g_test_message("%s: %s = %g %s", name, n->label, n->value, n->unit);
    }
    g_test_message("%s: %s (%.1f s)", name, r->verdict, (g_get_monotonic_time() - t0) / 1e6);
}
