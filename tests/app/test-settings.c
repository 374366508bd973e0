/* What the window remembers: a round trip, a missing file, damaged files
 * (each gives the defaults for what is damaged and one warning naming the
 * file and key, never a failure), and an atomic write. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "settings.h"
#include "setup.h"

static char *tmp_path(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static void test_roundtrip(void)
{
    g_autofree char *dir = g_dir_make_tmp("thaw-settings-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sub", "settings.ini", NULL);
    g_autoptr(ThawSettings) s = thaw_settings_new();
    s->width = 1400, s->height = 900, s->maximized = TRUE, s->paned_position = 700;
    s->pane = g_strdup("batchnorm");
    s->log_loss = TRUE;
    s->code_framework = 1;
    g_autoptr(ThawSetup) setup = thaw_setup_new();
    g_assert_true(thaw_setup_set(setup, "preset", "pytorch", NULL));
    g_assert_true(thaw_setup_set(setup, "freeze", "conv1_conv,conv2_block1_1_conv", NULL));
    s->setup_data = thaw_setup_to_data(setup);
    s->setup_id = g_strdup("default");
    g_autoptr(GError) e = NULL;
    g_assert_true(thaw_settings_save(s, path, &e)); /* creates sub/ */
    char *warning = NULL;
    g_autoptr(ThawSettings) b = thaw_settings_load(path, &warning);
    g_assert_null(warning);
    g_assert_cmpint(b->width, ==, 1400);
    g_assert_cmpint(b->height, ==, 900);
    g_assert_true(b->maximized);
    g_assert_cmpint(b->paned_position, ==, 700);
    g_assert_cmpstr(b->pane, ==, "batchnorm");
    g_assert_true(b->log_loss);
    g_assert_cmpint(b->code_framework, ==, 1);
    g_assert_cmpstr(b->setup_id, ==, "default");
    g_autoptr(ThawSetup) back = thaw_setup_new();
    g_assert_true(thaw_setup_load_data(back, b->setup_data, "settings", NULL, NULL));
    g_assert_true(thaw_setup_equal(back, setup));
    /* no temporary file left beside it */
    g_autofree char *sub = g_path_get_dirname(path);
    GDir *d = g_dir_open(sub, 0, NULL);
    int files = 0;
    while (g_dir_read_name(d)) files++;
    g_dir_close(d);
    g_assert_cmpint(files, ==, 1);
    g_unlink(path);
    g_rmdir(sub);
    g_rmdir(dir);
}

static void expect_defaults_with_warning(const char *contents, const char *needle)
{
    g_autofree char *dir = g_dir_make_tmp("thaw-settings-XXXXXX", NULL);
    g_autofree char *path = tmp_path(dir, "settings.ini");
    g_assert_true(g_file_set_contents(path, contents, -1, NULL));
    char *warning = NULL;
    g_autoptr(ThawSettings) s = thaw_settings_load(path, &warning);
    g_assert_nonnull(s);
    g_assert_nonnull(warning);
    g_test_message("%s", warning);
    g_assert_nonnull(strstr(warning, path));
    g_assert_nonnull(strstr(warning, needle));
    g_free(warning);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_damaged(void)
{
    /* missing: defaults, no warning */
    char *warning = NULL;
    g_autoptr(ThawSettings) s = thaw_settings_load("/nonexistent-dir/settings.ini", &warning);
    g_assert_null(warning);
    g_assert_cmpint(s->width, ==, 0);
    g_assert_null(s->setup_data);

    expect_defaults_with_warning("\x89PNG\r\n\x1a\n garbage", "using the defaults");
    expect_defaults_with_warning("[window]\nwidth = wide\n", "width");
    expect_defaults_with_warning("[window]\nwidth = 100000000\n", "width");
    expect_defaults_with_warning("[window]\nmaximized = perhaps\n", "maximized");
    expect_defaults_with_warning("[setup]\ndata = [train]\\nbatch = 0\\n\n", "[setup] data");
    expect_defaults_with_warning("[setup]\ndata = [nonsense]\\nx = 1\\n\n", "[setup] data");

    /* damage in one key keeps the others */
    g_autofree char *dir = g_dir_make_tmp("thaw-settings-XXXXXX", NULL);
    g_autofree char *path = tmp_path(dir, "settings.ini");
    g_assert_true(g_file_set_contents(path, "[window]\nwidth = 1200\nheight = x\n", -1, NULL));
    g_autoptr(ThawSettings) p = thaw_settings_load(path, &warning);
    g_assert_cmpint(p->width, ==, 1200);
    g_assert_cmpint(p->height, ==, 0);
    g_assert_nonnull(strstr(warning, "height"));
    g_free(warning);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_unwritable(void)
{
    g_autoptr(ThawSettings) s = thaw_settings_new();
    g_autoptr(GError) e = NULL;
    g_assert_false(thaw_settings_save(s, "/proc/thaw-cannot/settings.ini", &e));
    g_assert_nonnull(e);
    g_assert_nonnull(strstr(e->message, "/proc/thaw-cannot"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/settings/roundtrip", test_roundtrip);
    g_test_add_func("/settings/damaged", test_damaged);
    g_test_add_func("/settings/unwritable", test_unwritable);
    return g_test_run();
}
