/* The real window, in-process, with a real worker training the shipped model
 * on Debian's Fashion-MNIST (small K so that epochs take a fraction of a
 * second): freezing from the tree reaches the engine and the counts,
 * "Unfreeze last N" matches the CLI's --unfreeze-last N, a run fills the
 * charts and leaves markers, pause/step/reset, the preset switch updates the
 * BN column, bad files end in the error banner (and the window keeps its
 * last good setup), and closing the window mid-run stops the worker.
 * Every wait has a deadline, so the test cannot hang. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "thaw-window.h"

#define WAIT_S 90

static gboolean have_data(void)
{
    if (access(THAW_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return TRUE;
    g_test_skip("Debian's dataset-fashion-mnist is not installed");
    return FALSE;
}

/* K = 10 per class: 50 training images, batches of 20 -> 2 steps per epoch;
 * 10 validation images per class. Without the feature cache, so that a run
 * lasts long enough to change knobs while it trains (with it, the frozen
 * base's 40 epochs are over in a few hundred milliseconds: /window/cache). */
static ThawSetup *small_setup(void)
{
    ThawSetup *s = thaw_setup_new();
    g_assert_true(thaw_setup_set(s, "k", "10", NULL));
    g_assert_true(thaw_setup_set(s, "val_k", "10", NULL));
    g_assert_true(thaw_setup_set(s, "batch", "20", NULL));
    g_assert_true(thaw_setup_set(s, "epochs", "40", NULL));
    g_assert_true(thaw_setup_set(s, "feature_cache", "false", NULL));
    return s;
}

typedef gboolean (*Until)(ThawWindow *w, gpointer data);

/* Iterates the main context until until(w) holds (checked after each
 * iteration) or the deadline passes (a test failure). */
static void wait_for(ThawWindow *w, Until until, gpointer data, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    while (!until(w, data)) {
        if (g_get_monotonic_time() > deadline) g_error("timed out waiting for %s", what);
        g_main_context_iteration(NULL, TRUE);
    }
}

static gboolean at_state(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->state == (ThawWorkerState)GPOINTER_TO_INT(data) && r->n_layers > 0;
}

static gboolean at_step(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->step >= (guint64)GPOINTER_TO_INT(data);
}

static gboolean paused_at(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->state == THAW_WORKER_PAUSED && r->step == (guint64)GPOINTER_TO_INT(data) &&
           r->n_layers > 0;
}

/* The engine's flags (in the last report) equal the tree's model's. */
static gboolean engine_matches_tree(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    thaw_model *m = thaw_model_pane_get_model(thaw_window_get_model_pane(w));
    if (!r || !m || r->n_layers != m->n_layers) return FALSE;
    for (int i = 0; i < m->n_layers; i++)
        if ((r->trainable[i] != 0) != m->layers[i].trainable) return FALSE;
    return TRUE;
}

static gboolean has_error(ThawWindow *w, gpointer data)
{
    return thaw_window_get_error(w) != NULL;
}

static ThawWindow *open_window(const ThawSetup *s)
{
    ThawWindow *w = thaw_window_new(NULL, s, NULL);
    gtk_window_present(GTK_WINDOW(w));
    wait_for(w, at_state, GINT_TO_POINTER(THAW_WORKER_PAUSED), "the model to load");
    return w;
}

static void close_window(ThawWindow *w)
{
    gtk_window_destroy(GTK_WINDOW(w));
    while (g_main_context_iteration(NULL, FALSE)) {
    }
}

static void activate(ThawWindow *w, const char *action, GVariant *param)
{
    g_action_group_activate_action(G_ACTION_GROUP(w), action, param);
}

static int find(thaw_model *m, const char *name)
{
    int i = thaw_model_find_layer(m, name);
    g_assert_cmpint(i, >=, 0);
    return i;
}

/* The tree's flags reach the engine, and the counts are model.summary()'s. */
static void test_freeze(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    ThawModelPane *pane = thaw_window_get_model_pane(w);
    thaw_model *m = thaw_model_pane_get_model(pane);
    g_assert_nonnull(m);
    int conv = find(m, "conv4_block3_2_conv");
    ThawReport *r = thaw_window_get_last_report(w);
    g_assert_false(r->trainable[conv]);
    thaw_param_counts before = thaw_model_pane_get_counts(pane);

    thaw_model_pane_set_trainable(pane, conv, TRUE);
    wait_for(w, engine_matches_tree, NULL, "the engine to unfreeze conv4_block3_2_conv");
    r = thaw_window_get_last_report(w);
    g_assert_true(r->trainable[conv]);
    thaw_param_counts after = thaw_model_pane_get_counts(pane);
    size_t kernel = 3 * 3 * 64 * 64; /* conv4_block3_2_conv/kernel (+ bias) */
    g_assert_cmpuint(after.trainable - before.trainable, >=, kernel);
    g_assert_cmpuint(after.total, ==, before.total);
    /* The counts are the engine's own (thaw_model_count_params on the same flags). */
    thaw_model *check = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_model_new_uninitialized(&check, &r->config, &err), ==, THAW_OK);
    for (int i = 0; i < check->n_layers; i++) check->layers[i].trainable = r->trainable[i];
    thaw_model_set_preset(check, r->preset);
    check->base_training = r->base_training;
    thaw_param_counts c = thaw_model_count_params(check);
    g_assert_cmpuint(c.trainable, ==, after.trainable);
    g_assert_cmpuint(c.non_trainable, ==, after.non_trainable);
    thaw_model_free(check);
    /* The window's setup follows, so Reset keeps the choice. */
    activate(w, "reset", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(0), "the reset");
    wait_for(w, engine_matches_tree, NULL, "the reset model");
    g_assert_true(thaw_window_get_last_report(w)->trainable[conv]);

    /* Freeze all and unfreeze all through the window's actions. */
    activate(w, "freeze-all", NULL);
    wait_for(w, engine_matches_tree, NULL, "freeze all");
    g_assert_cmpuint(thaw_model_pane_get_counts(pane).trainable, ==, 0);
    close_window(w);
}

/* "Unfreeze last N" in the window = the CLI's --unfreeze-last N. */
static void test_unfreeze_last(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    const int ns[] = {1, 12, 30};
    for (guint k = 0; k < G_N_ELEMENTS(ns); k++) {
        activate(w, "unfreeze-last", g_variant_new_int32(ns[k]));
        wait_for(w, engine_matches_tree, NULL, "unfreeze last N");
        /* the CLI path: the setup's rule applied by thaw_run_new */
        g_autoptr(ThawSetup) cli = small_setup();
        cli->unfreeze_last = ns[k];
        ThawRun *run = NULL;
        thaw_error err;
        g_assert_cmpint(thaw_run_new(&run, cli, NULL, &err), ==, THAW_OK);
        const thaw_model *m = thaw_run_model(run);
        ThawReport *r = thaw_window_get_last_report(w);
        int trainable_base = 0;
        for (int i = 0; i < m->n_layers; i++) {
            g_assert_cmpint(r->trainable[i] != 0, ==, m->layers[i].trainable);
            trainable_base += m->layers[i].in_base && m->layers[i].trainable;
        }
        g_assert_cmpint(trainable_base, ==, ns[k]);
        thaw_run_free(run);
    }
    close_window(w);
}

static gboolean work_is(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && strcmp(r->cached_layer, data) == 0;
}

static gboolean has_val_and_marker(ThawWindow *w, gpointer data)
{
    ThawChart *acc = thaw_window_get_acc_chart(w);
    ThawChart *loss = thaw_window_get_loss_chart(w);
    return thaw_chart_get_n_points(acc, 0) >= 2 && thaw_chart_get_n_markers(loss) >= 1;
}

static gboolean chart_has_marker(ThawChart *c, const char *label)
{
    for (guint i = 0; i < thaw_chart_get_n_markers(c); i++)
        if (strcmp(thaw_chart_get_marker(c, i, NULL), label) == 0) return TRUE;
    return FALSE;
}

/* A short run: points for every step, epoch points in both modes, a marker
 * where the preset changed mid-run; pause, step and reset. */
static void test_run(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    ThawChart *loss = thaw_window_get_loss_chart(w), *acc = thaw_window_get_acc_chart(w);
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 0), ==, 0);

    activate(w, "step", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(1), "one step");
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 0), ==, 1);

    activate(w, "run", NULL);
    wait_for(w, at_step, GINT_TO_POINTER(3), "three steps");
    g_assert_cmpint(thaw_window_get_last_report(w)->state, ==, THAW_WORKER_RUNNING);
    g_action_group_change_action_state(G_ACTION_GROUP(w), "preset",
                                       g_variant_new_string("pytorch"));
    wait_for(w, has_val_and_marker, NULL, "two epochs and a marker");
    g_assert_true(chart_has_marker(loss, "preset pytorch"));
    g_assert_true(chart_has_marker(acc, "preset pytorch"));

    activate(w, "pause", NULL);
    wait_for(w, at_state, GINT_TO_POINTER(THAW_WORKER_PAUSED), "the pause");
    ThawReport *r = thaw_window_get_last_report(w);
    guint64 at = r->step;
    /* every step's batch loss is on the chart, once, in order */
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 0), ==, at);
    for (guint i = 0; i < at; i++) {
        double x, y;
        g_assert_true(thaw_chart_get_point(loss, 0, i, &x, &y));
        g_assert_cmpfloat(x, ==, i + 1);
        g_assert_true(isfinite(y) && y > 0);
    }
    /* epoch points: accuracy in both modes, in percent */
    double x, y;
    g_assert_true(thaw_chart_get_point(acc, 0, 0, &x, &y));
    g_assert_cmpfloat(x, ==, 2); /* the end of epoch 1 */
    g_assert_true(y >= 0 && y <= 100);
    g_assert_cmpuint(thaw_chart_get_n_points(acc, 1), ==, thaw_chart_get_n_points(acc, 0));
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 1), ==, thaw_chart_get_n_points(acc, 0));
    /* paused means paused */
    for (int i = 0; i < 20; i++) g_main_context_iteration(NULL, FALSE);
    g_usleep(200000);
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_assert_cmpuint(thaw_window_get_last_report(w)->step, ==, at);

    activate(w, "step", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(at + 1), "one more step");

    activate(w, "reset", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(0), "the reset");
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 0), ==, 0);
    g_assert_cmpuint(thaw_chart_get_n_markers(loss), ==, 0);
    /* the preset chosen in the window stays after the reset */
    g_assert_cmpint(thaw_window_get_last_report(w)->preset, ==, THAW_PRESET_PYTORCH);

    guint n;
    double p50, p95, max;
    thaw_window_frame_stats(w, &n, &p50, &p95, &max);
    g_test_message("frame intervals while running: %u frames, p50 %.1f ms, p95 %.1f ms, max "
                   "%.1f ms",
                   n, p50, p95, max);
    close_window(w);
}

static gboolean bn_text_is(ThawWindow *w, gpointer data)
{
    ThawModelPane *pane = thaw_window_get_model_pane(w);
    thaw_model *m = thaw_model_pane_get_model(pane);
    const char *t = thaw_model_pane_get_bn_text(pane, find(m, "conv1_bn"));
    return t && strcmp(t, data) == 0;
}

static gboolean report_preset(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->preset == (thaw_preset)GPOINTER_TO_INT(data);
}

/* The BN column follows the preset: a frozen BN under keras3 runs on its
 * running statistics; under pytorch it normalises with the batch's and
 * updates them (requires_grad=False does not freeze BatchNorm). */
static void test_preset_bn_column(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    wait_for(w, bn_text_is, (gpointer) "running stats, frozen", "the keras3 BN text");
    g_action_group_change_action_state(G_ACTION_GROUP(w), "preset",
                                       g_variant_new_string("pytorch"));
    g_assert_true(bn_text_is(w, (gpointer) "batch stats, updating")); /* at once */
    wait_for(w, report_preset, GINT_TO_POINTER(THAW_PRESET_PYTORCH), "the engine's preset");
    /* the base called with training=False puts it back into inference mode */
    g_action_group_change_action_state(G_ACTION_GROUP(w), "base-training",
                                       g_variant_new_string("false"));
    g_assert_true(bn_text_is(w, (gpointer) "running stats, frozen"));
    close_window(w);
}

static gboolean good_again(ThawWindow *w, gpointer data)
{
    return has_error(w, NULL) && at_state(w, GINT_TO_POINTER(THAW_WORKER_PAUSED));
}

static void on_saved(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(thaw_window_save_png_finish(THAW_WINDOW(source), result, &error));
    *(gboolean *)data = TRUE;
}

static gboolean flag_set(ThawWindow *w, gpointer data)
{
    return *(gboolean *)data;
}

/* Bad files: one clear message in the banner; the window keeps working on
 * its last good setup. */
static void test_bad_input(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    g_autofree char *dir = g_dir_make_tmp("thaw-window-XXXXXX", NULL);
    g_autofree char *bad = g_build_filename(dir, "truncated.thaw", NULL);
    /* the first 100 bytes of the shipped model */
    g_autofree char *ship =
        g_build_filename(g_getenv("THAW_MODELS"), "fashion-resnet20.thaw", NULL);
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(ship, &data, &len, NULL));
    g_assert_true(g_file_set_contents(bad, data, 100, NULL));

    activate(w, "open-weights-from", g_variant_new_string(bad));
    wait_for(w, good_again, NULL, "the error and the return to the good setup");
    g_assert_nonnull(strstr(thaw_window_get_error(w), "truncated.thaw"));
    g_test_message("banner: %s", thaw_window_get_error(w));
    g_assert_cmpstr(thaw_window_get_setup(w)->model, ==, s->model);
    /* and it still trains */
    activate(w, "step", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(1), "a step after the error");

    activate(w, "dismiss-error", NULL);
    g_assert_null(thaw_window_get_error(w));
    g_autofree char *nowhere = g_build_filename(dir, "no-such-folder", NULL);
    activate(w, "open-images-from", g_variant_new_string(nowhere));
    wait_for(w, good_again, NULL, "the folder error");
    g_assert_nonnull(strstr(thaw_window_get_error(w), "no-such-folder"));

    /* a checkpoint that cannot be written: an error, nothing else changes */
    activate(w, "dismiss-error", NULL);
    activate(w, "save-checkpoint-to", g_variant_new_string("/nonexistent-dir/x.thaw"));
    wait_for(w, has_error, NULL, "the save error");
    g_assert_nonnull(strstr(thaw_window_get_error(w), "/nonexistent-dir/x.thaw"));
    /* and one that can */
    g_autofree char *good = g_build_filename(dir, "saved.thaw", NULL);
    activate(w, "save-checkpoint-to", g_variant_new_string(good));
    gint64 deadline = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    while (!g_file_test(good, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    thaw_model *back = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_checkpoint_load(&back, good, &err), ==, THAW_OK);
    thaw_model_free(back);

    /* the window as PNG, and the run history as CSV */
    g_autofree char *png = g_build_filename(dir, "window.png", NULL);
    gboolean saved = FALSE;
    thaw_window_save_png_async(w, png, on_saved, &saved);
    wait_for(w, flag_set, &saved, "the PNG");
    g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
    activate(w, "step", NULL); /* the reload after the bad folder started a new history */
    wait_for(w, paused_at, GINT_TO_POINTER(1), "a step");
    g_autofree char *csv = g_build_filename(dir, "run.csv", NULL);
    activate(w, "export-csv-to", g_variant_new_string(csv));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
    g_assert_true(g_str_has_prefix(text, "kind,step,epoch,loss,accuracy,"));
    g_assert_nonnull(strstr(text, "\nstep,1,,"));
    close_window(w);
    g_unlink(bad);
    g_unlink(good);
    g_unlink(png);
    g_unlink(csv);
    g_rmdir(dir);
}

/* Writes root/<class>/<i>.png: n_classes classes of n 28x28 grey images
 * (class c is a bright square in a different corner, plus noise). */
static void write_folder(const char *root, int n_classes, int n)
{
    guint32 seed = 7;
    for (int c = 0; c < n_classes; c++) {
        g_autofree char *name = g_strdup_printf("class-%d", c);
        g_autofree char *dir = g_build_filename(root, name, NULL);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        for (int i = 0; i < n; i++) {
            guint8 px[28 * 28 * 3];
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) {
                    seed = seed * 1664525u + 1013904223u;
                    gboolean on = (x < 14) == (c & 1) && (y < 14) == ((c >> 1) & 1);
                    guint8 v = (guint8)((on ? 180 : 30) + (seed >> 27));
                    px[(y * 28 + x) * 3] = px[(y * 28 + x) * 3 + 1] = px[(y * 28 + x) * 3 + 2] = v;
                }
            g_autoptr(GBytes) bytes = g_bytes_new(px, sizeof px);
            g_autoptr(GdkTexture) t =
                gdk_memory_texture_new(28, 28, GDK_MEMORY_R8G8B8, bytes, 28 * 3);
            g_autofree char *file = g_strdup_printf("%s/%04d.png", dir, i);
            g_assert_true(gdk_texture_save_to_png(t, file));
        }
    }
}

static void remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *f;
        while (d && (f = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, f, NULL);
            remove_tree(p);
        }
        if (d) g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static gboolean loading(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->state == THAW_WORKER_LOADING;
}

static gboolean cancelled_and_back(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->state == THAW_WORKER_PAUSED && r->n_layers > 0 &&
           r->generation >= (guint)GPOINTER_TO_INT(data) &&
           g_strcmp0(thaw_window_get_setup(w)->dataset, "fashion-mnist") == 0;
}

static gboolean classes_are(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->state == THAW_WORKER_PAUSED && r->config.classes == GPOINTER_TO_INT(data);
}

/* An images folder loads off the main thread with progress, can be
 * cancelled (the window goes back to what it had), and once loaded brings
 * its own classes: a new head, a rebuilt tree. */
static void test_images_folder(void)
{
    if (!have_data()) return;
    g_autofree char *root = g_dir_make_tmp("thaw-folder-XXXXXX", NULL);
    g_autofree char *big = g_build_filename(root, "big", NULL);
    g_autofree char *small = g_build_filename(root, "small", NULL);
    write_folder(big, 2, 3000);
    write_folder(small, 3, 30);
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    guint gen = thaw_window_get_last_report(w)->generation;

    activate(w, "open-images-from", g_variant_new_string(big));
    wait_for(w, loading, NULL, "the folder load");
    activate(w, "cancel-load", NULL);
    wait_for(w, cancelled_and_back, GINT_TO_POINTER(gen + 2), "the cancel and the reload");
    g_assert_null(thaw_window_get_error(w)); /* a cancel is not an error */

    activate(w, "open-images-from", g_variant_new_string(small));
    wait_for(w, classes_are, GINT_TO_POINTER(3), "the 3-class folder");
    ThawReport *r = thaw_window_get_last_report(w);
    g_assert_cmpint(r->n_train, ==, 3 * 10); /* K = 10 per class */
    thaw_model *m = thaw_model_pane_get_model(thaw_window_get_model_pane(w));
    g_assert_cmpint(m->cfg.classes, ==, 3);
    activate(w, "step", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(1), "a step on the folder");
    close_window(w);
    remove_tree(root);
}

static gboolean code_shown(ThawWindow *w, gpointer data)
{
    g_autofree char *t = thaw_code_pane_get_text(thaw_window_get_code_pane(w));
    return t && strstr(t, data) != NULL;
}

/* The Code pane shows the current setup's script (and follows the knobs);
 * the settings remember the pane and the setup. */
static void test_code_and_settings(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    thaw_window_show_pane(w, "code");
    wait_for(w, code_shown, (gpointer) "import", "the script");
    g_autofree char *keras = thaw_code_pane_get_text(thaw_window_get_code_pane(w));
    g_assert_nonnull(strstr(keras, "keras"));
    thaw_code_pane_set_framework(thaw_window_get_code_pane(w), THAW_CODE_PYTORCH);
    wait_for(w, code_shown, (gpointer) "import torch", "the PyTorch script");
    /* a knob changes the script: the pytorch preset has no bn.eval() for frozen BN */
    g_action_group_change_action_state(G_ACTION_GROUP(w), "preset",
                                       g_variant_new_string("pytorch-bn-eval"));
    wait_for(w, code_shown, (gpointer) ".eval()", "the script with bn.eval()");

    g_autoptr(GError) error = NULL;
    g_assert_true(thaw_window_save_settings(w, &error));
    g_autofree char *path = thaw_settings_path();
    char *warning = NULL;
    g_autoptr(ThawSettings) st = thaw_settings_load(path, &warning);
    g_assert_null(warning);
    g_assert_cmpstr(st->pane, ==, "code");
    g_assert_cmpint(st->code_framework, ==, 1);
    g_autoptr(ThawSetup) back = thaw_setup_new();
    g_assert_true(thaw_setup_load_data(back, st->setup_data, path, NULL, NULL));
    g_assert_cmpint(back->preset, ==, THAW_PRESET_PYTORCH_BN_EVAL);
    g_assert_cmpint(back->k, ==, 10);
    close_window(w);

    /* a new window restored from them shows the same pane */
    ThawWindow *again = thaw_window_new(NULL, back, NULL);
    thaw_window_restore(again, st);
    g_assert_cmpint(thaw_code_pane_get_framework(thaw_window_get_code_pane(again)), ==,
                    THAW_CODE_PYTORCH);
    gtk_window_present(GTK_WINDOW(again));
    wait_for(again, at_state, GINT_TO_POINTER(THAW_WORKER_PAUSED), "the restored window");
    wait_for(again, code_shown, (gpointer) ".eval()", "the restored script");
    close_window(again);
    g_unlink(path);
}

static gboolean predictions_shown(ThawWindow *w, gpointer data)
{
    return thaw_predictions_pane_get_summary(thaw_window_get_predictions_pane(w)).n > 0;
}

/* The number after "key": in a JSON text. */
static double json_number(const char *json, const char *key)
{
    g_autofree char *k = g_strdup_printf("\"%s\": ", key);
    const char *p = strstr(json, k);
    g_assert_nonnull(p);
    return g_ascii_strtod(p + strlen(k), NULL);
}

/* The Predictions pane shows what `thaw-cli compare` computes on the same
 * checkpoint, images and batch. The pytorch preset keeps frozen BN layers
 * in training mode, so the two modes differ. */
static void test_predictions_vs_compare(void)
{
    if (!have_data()) return;
    const char *cli = g_getenv("THAW_CLI");
    if (!cli) {
        g_test_skip("THAW_CLI is not set");
        return;
    }
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "preset", "pytorch", NULL));
    ThawWindow *w = open_window(s);
    activate(w, "step", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(1), "a step");
    g_autofree char *dir = g_dir_make_tmp("thaw-window-XXXXXX", NULL);
    g_autofree char *ckpt = g_build_filename(dir, "model.thaw", NULL);
    activate(w, "save-checkpoint-to", g_variant_new_string(ckpt));
    thaw_window_show_pane(w, "predictions");
    wait_for(w, predictions_shown, NULL, "the predictions");
    ThawPredictionSummary sum =
        thaw_predictions_pane_get_summary(thaw_window_get_predictions_pane(w));
    g_assert_cmpint(sum.n, ==, 50); /* every validation image: 10 per class */
    g_assert_true(g_file_test(ckpt, G_FILE_TEST_IS_REGULAR));

    const char *argv[] = {cli,  "compare", "--model", ckpt,      "--preset", "pytorch", "--k",
                          "10", "--val_k", "10",      "--batch", "20",       "--json",  NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL)) g_error("thaw-cli compare failed: %s", err);
    g_assert_cmpint(json_number(out, "images"), ==, 50);
    g_assert_cmpfloat_with_epsilon(json_number(out, "accuracy_infer"), sum.acc_infer, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_number(out, "accuracy_train"), sum.acc_train, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_number(out, "disagreement"), sum.disagree_rate, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_number(out, "mean_abs_dp_true"), sum.mean_abs_dp, 1e-5);
    g_test_message("window and thaw-cli compare: training=True %.3f, training=False %.3f, "
                   "disagree %.3f",
                   sum.acc_train, sum.acc_infer, sum.disagree_rate);
    close_window(w);
    g_unlink(ckpt);
    g_rmdir(dir);
}

static gboolean bn_columns(ThawWindow *w, gpointer data)
{
    return thaw_bn_pane_get_n_columns(thaw_window_get_bn_pane(w)) >= (guint)GPOINTER_TO_INT(data);
}

static gboolean reestimated(ThawWindow *w, gpointer data)
{
    const char *t = thaw_bn_pane_get_result_text(thaw_window_get_bn_pane(w));
    return t && strstr(t, "→") != NULL;
}

/* The BatchNorm pane: the model's BN layers with their pretrained
 * statistics, a drift column per training step's snapshot, and the
 * re-estimation with its two accuracies. Under pytorch a frozen BN updates
 * its running statistics, so the drift grows from 0. */
static void test_batchnorm_pane(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "preset", "pytorch", NULL));
    ThawWindow *w = open_window(s);
    ThawBnPane *bn = thaw_window_get_bn_pane(w);
    thaw_window_show_pane(w, "batchnorm");
    g_assert_cmpint(thaw_bn_pane_get_n_layers(bn), ==, 21);
    thaw_bn_pane_select(bn, 0);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(bn), ==, 16); /* conv1_bn */
    activate(w, "step", NULL);
    wait_for(w, bn_columns, GINT_TO_POINTER(1), "a drift column");
    activate(w, "step", NULL);
    wait_for(w, bn_columns, GINT_TO_POINTER(2), "a second drift column");
    double d1 = thaw_bn_pane_get_drift(bn, 0, 0), d2 = thaw_bn_pane_get_drift(bn, 0, 1);
    g_test_message("conv1_bn drift after 1 and 2 steps: %.4f, %.4f", d1, d2);
    g_assert_cmpfloat(d1, >, 0);
    g_assert_cmpfloat(d2, >, d1);

    /* a BN layer picked in the freeze tree is the pane's layer */
    thaw_model *tm = thaw_model_pane_get_model(thaw_window_get_model_pane(w));
    g_signal_emit_by_name(thaw_window_get_model_pane(w), "layer-selected",
                          find(tm, "conv4_block3_2_bn"));
    g_assert_cmpint(thaw_bn_pane_get_selected(bn), ==, 20);
    g_assert_cmpuint(thaw_bn_pane_get_n_channels_shown(bn), ==, 64);
    thaw_bn_pane_select(bn, 0);

    /* each pane as PNG at 2x */
    const char *panes[] = {"training", "batchnorm", "predictions"};
    g_autofree char *dir = g_dir_make_tmp("thaw-panes-XXXXXX", NULL);
    for (guint i = 0; i < G_N_ELEMENTS(panes); i++) {
        g_autofree char *file = g_strdup_printf("%s.png", panes[i]);
        g_autofree char *png = g_build_filename(dir, file, NULL);
        int pw = 0, ph = 0;
        g_autoptr(GError) error = NULL;
        g_assert_true(thaw_window_export_pane_png(w, panes[i], png, &pw, &ph, &error));
        cairo_surface_t *img = cairo_image_surface_create_from_png(png);
        g_assert_cmpint(cairo_surface_status(img), ==, CAIRO_STATUS_SUCCESS);
        g_assert_cmpint(cairo_image_surface_get_width(img), ==, pw);
        g_assert_cmpint(cairo_image_surface_get_height(img), ==, ph);
        GtkWidget *stack = gtk_widget_get_parent(GTK_WIDGET(bn)); /* the stack's page */
        while (stack && !GTK_IS_STACK(stack)) stack = gtk_widget_get_parent(stack);
        g_assert_cmpint(pw, ==, 2 * MAX(gtk_widget_get_width(stack), 640));
        cairo_surface_destroy(img);
        if (g_getenv("THAW_PANE_PNG_DIR")) {
            g_autofree char *keep = g_build_filename(g_getenv("THAW_PANE_PNG_DIR"), file, NULL);
            g_autofree char *data = NULL;
            gsize len;
            g_assert_true(g_file_get_contents(png, &data, &len, NULL));
            g_assert_true(g_file_set_contents(keep, data, (gssize)len, NULL));
        }
        g_unlink(png);
    }
    g_autoptr(GError) none = NULL;
    g_assert_false(thaw_window_export_pane_png(w, "code", "/tmp/x.png", NULL, NULL, &none));
    g_rmdir(dir);

    g_signal_emit_by_name(bn, "reestimate-requested");
    wait_for(w, reestimated, NULL, "the re-estimation");
    g_test_message("%s", thaw_bn_pane_get_result_text(bn));
    wait_for(w, bn_columns, GINT_TO_POINTER(3), "the re-estimated statistics' column");
    close_window(w);
}

static gboolean strip_has(ThawWindow *w, gpointer data)
{
    return thaw_strip_plot_get_n(thaw_window_get_strip_plot(w)) == GPOINTER_TO_INT(data);
}

/* The batch-mates experiment: in training mode (pytorch: a frozen BN
 * still normalises with the batch's statistics) one image's answer at
 * B = 1 differs from its answers inside batches of 64; its inference-mode
 * answer is the same either way. Without Dropout, the dropout draws of one
 * fixed batch are all equal. */
static void test_batchmates(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "preset", "pytorch", NULL));
    g_assert_true(thaw_setup_set(s, "val_k", "20", NULL)); /* 100 images: room for B = 64 */
    g_assert_true(thaw_setup_set(s, "dropout", "0", NULL));
    ThawWindow *w = open_window(s);
    thaw_window_show_pane(w, "predictions");
    ThawStripPlot *sp = thaw_window_get_strip_plot(w);
    GtkSpinButton *batch = NULL, *passes = NULL;
    /* the spin buttons are the window's template children; set them by value */
    for (GtkWidget *c = gtk_widget_get_first_child(gtk_widget_get_parent(GTK_WIDGET(sp))); c;
         c = gtk_widget_get_next_sibling(c))
        for (GtkWidget *d = gtk_widget_get_first_child(c); d; d = gtk_widget_get_next_sibling(d))
            if (GTK_IS_SPIN_BUTTON(d)) {
                if (!batch)
                    batch = GTK_SPIN_BUTTON(d);
                else
                    passes = GTK_SPIN_BUTTON(d);
            }
    g_assert_nonnull(batch);
    g_assert_nonnull(passes);
    gtk_spin_button_set_value(passes, 6);

    gtk_spin_button_set_value(batch, 1);
    activate(w, "study-image", g_variant_new_int32(3));
    wait_for(w, strip_has, GINT_TO_POINTER(6), "B = 1");
    double one[5], infer1[5];
    for (int c = 0; c < 5; c++) {
        one[c] = thaw_strip_plot_get_train(sp, 0, c);
        infer1[c] = thaw_strip_plot_get_infer(sp, c);
        g_assert_cmpfloat(thaw_strip_plot_get_spread(sp, c), <, 1e-6); /* one image, no dropout */
    }
    gtk_spin_button_set_value(batch, 64);
    thaw_strip_plot_set_data(sp, 0, NULL, 0, NULL, NULL, -1, NULL);
    activate(w, "batchmates", NULL);
    wait_for(w, strip_has, GINT_TO_POINTER(6), "B = 64");
    double diff = 0, spread = 0;
    for (int c = 0; c < 5; c++) {
        diff += fabs(thaw_strip_plot_get_train(sp, 0, c) - one[c]);
        spread += thaw_strip_plot_get_spread(sp, c);
        g_assert_cmpfloat(thaw_strip_plot_get_infer(sp, c), ==, infer1[c]);
    }
    g_test_message("B=1 vs B=64: |dp| %.3f; spread over 6 batches of 64: %.3f", diff, spread);
    g_assert_cmpfloat(diff, >, 0.05);
    g_assert_cmpfloat(spread, >, 0);

    thaw_strip_plot_set_data(sp, 0, NULL, 0, NULL, NULL, -1, NULL);
    activate(w, "dropout-draws", NULL);
    wait_for(w, strip_has, GINT_TO_POINTER(6), "the dropout draws");
    for (int c = 0; c < 5; c++) g_assert_cmpfloat(thaw_strip_plot_get_spread(sp, c), <, 1e-6);
    close_window(w);
}

static gboolean preset_is(ThawWindow *w, gpointer data)
{
    ThawReport *r = thaw_window_get_last_report(w);
    return r && r->n_layers > 0 && r->state == THAW_WORKER_PAUSED &&
           r->preset == (thaw_preset)GPOINTER_TO_INT(data);
}

/* The Lessons pane: the demos in order, a lesson rendered, and "Set up this
 * demo" loading the demo's setup (broken-bn: keras-2.1.3, base frozen). */
static void test_lessons(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    ThawLessonPane *lp = thaw_window_get_lesson_pane(w);
    thaw_window_show_pane(w, "lesson");
    g_assert_cmpstr(thaw_lesson_pane_get_selected(lp), ==, "training-not-trainable");
    g_assert_nonnull(strstr(thaw_lesson_pane_get_markup(lp), "is not <tt>trainable</tt>"));
    thaw_lesson_pane_select(lp, "broken-bn");
    g_assert_nonnull(strstr(thaw_lesson_pane_get_markup(lp), "Keras 2.1.3"));
    g_signal_emit_by_name(lp, "setup-requested", "broken-bn");
    wait_for(w, preset_is, GINT_TO_POINTER(THAW_PRESET_KERAS_2_1_3), "the demo's setup");
    g_assert_true(thaw_window_get_setup(w)->base);
    g_assert_cmpint(thaw_window_get_setup(w)->k, ==, 100);
    close_window(w);
}

/* The feature cache in the window: a frozen base trains from cached avg_pool
 * features, the status bar says so with the step's work, epochs that end
 * within one frame all reach the charts, and unfreezing the last stage moves
 * the cache back to the end of the frozen ones. */
static void test_cache(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "feature_cache", "true", NULL));
    ThawWindow *w = open_window(s);
    activate(w, "run", NULL);
    wait_for(w, at_state, GINT_TO_POINTER(THAW_WORKER_FINISHED), "the 40 epochs");
    ThawChart *acc = thaw_window_get_acc_chart(w), *loss = thaw_window_get_loss_chart(w);
    g_assert_cmpuint(thaw_chart_get_n_points(acc, 0), ==, 40);
    g_assert_cmpuint(thaw_chart_get_n_points(acc, 1), ==, 40);
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 1), ==, 40);
    g_assert_cmpuint(thaw_chart_get_n_points(loss, 0), ==, 80);
    for (guint i = 0; i < 40; i++) {
        double x, y;
        g_assert_true(thaw_chart_get_point(acc, 0, i, &x, &y));
        g_assert_cmpfloat(x, ==, 2.0 * (i + 1));
    }
    ThawReport *r = thaw_window_get_last_report(w);
    g_assert_cmpstr(r->cached_layer, ==, "avg_pool");
    g_assert_cmpfloat(r->step_macs, ==, 2 * 64 * 5); /* forward, weight gradient */
    g_assert_cmpstr(thaw_window_get_work_text(w), ==, "640 MAC/image · avg_pool cached");

    activate(w, "reset", NULL);
    wait_for(w, paused_at, GINT_TO_POINTER(0), "the reset");
    ThawModelPane *mp = thaw_window_get_model_pane(w);
    const thaw_model *m = thaw_model_pane_get_model(mp);
    for (int i = 0; i < m->n_layers; i++)
        if (g_str_has_prefix(m->layers[i].name, "conv4_"))
            thaw_model_pane_set_trainable(mp, i, TRUE);
    wait_for(w, work_is, "conv3_block3_out", "the cache at the end of stage 2");
    g_assert_nonnull(strstr(thaw_window_get_work_text(w), "MMAC/image · conv3_block3_out cached"));
    close_window(w);
}

static gboolean has_result(ThawWindow *w, gpointer data)
{
    return thaw_lesson_pane_get_result(thaw_window_get_lesson_pane(w)) != NULL;
}

static gboolean is_measuring(ThawWindow *w, gpointer data)
{
    return thaw_lesson_pane_get_busy(thaw_window_get_lesson_pane(w));
}

/* Measure in the Lessons pane: the demo's own measurement on a thread beside
 * the worker (which pauses when it was training), its numbers and verdict
 * in the pane (kept per demo); Cancel
 * stops one within a training step; closing the window mid-measurement
 * stops it too (the thread ends soon after, touching nothing of the window). */
static void test_measure(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    ThawLessonPane *lp = thaw_window_get_lesson_pane(w);
    thaw_window_show_pane(w, "lesson");
    activate(w, "run", NULL);
    wait_for(w, at_state, GINT_TO_POINTER(THAW_WORKER_RUNNING), "training");
    thaw_lesson_pane_select(lp, "training-not-trainable");
    g_signal_emit_by_name(lp, "measure-requested", "training-not-trainable");
    g_assert_true(thaw_lesson_pane_get_busy(lp));
    /* the training pauses: the two would share the cores */
    wait_for(w, at_state, GINT_TO_POINTER(THAW_WORKER_PAUSED), "the pause");
    wait_for(w, has_result, NULL, "the measurement");
    g_assert_false(thaw_lesson_pane_get_busy(lp));
    g_autofree char *result = g_strdup(thaw_lesson_pane_get_result(lp));
    g_assert_nonnull(strstr(result, "The claim holds:</b> training=False with a trainable base"));
    g_assert_nonnull(
        strstr(result, "trainable base, base(x, training=False): conv kernels changed (of 21): "
                       "<b>21</b>"));
    /* another demo shows its own (none yet), and the first one's comes back */
    thaw_lesson_pane_select(lp, "broken-bn");
    g_assert_null(thaw_lesson_pane_get_result(lp));
    thaw_lesson_pane_select(lp, "training-not-trainable");
    g_assert_cmpstr(thaw_lesson_pane_get_result(lp), ==, result);

    /* Cancel */
    thaw_lesson_pane_select(lp, "compute");
    g_signal_emit_by_name(lp, "measure-requested", "compute");
    g_usleep(300000);
    g_signal_emit_by_name(lp, "measure-cancelled");
    gint64 t0 = g_get_monotonic_time();
    wait_for(w, has_result, NULL, "the cancelled measurement");
    g_test_message("cancelling took %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);
    g_assert_cmpstr(thaw_lesson_pane_get_result(lp), ==, "Measurement cancelled.");
    g_assert_false(thaw_lesson_pane_get_busy(lp));

    /* closing mid-measurement */
    thaw_lesson_pane_select(lp, "momentum-lag");
    g_signal_emit_by_name(lp, "measure-requested", "momentum-lag");
    wait_for(w, is_measuring, NULL, "a measurement");
    g_assert_cmpint(thaw_window_measurements_running(), ==, 1);
    close_window(w);
    /* the thread notices the cancellation and ends; nothing of it touches
     * the closed window */
    gint64 t1 = g_get_monotonic_time(), deadline = t1 + WAIT_S * G_USEC_PER_SEC;
    while (thaw_window_measurements_running() > 0 && g_get_monotonic_time() < deadline) {
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        g_usleep(10000);
    }
    g_assert_cmpint(thaw_window_measurements_running(), ==, 0);
    g_test_message("the measurement ended %.0f ms after the window closed",
                   (g_get_monotonic_time() - t1) / 1000.0);
    /* its result and last progress lines reach the main loop, for nobody */
    for (int i = 0; i < 20; i++) {
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        g_usleep(5000);
    }
}

/* Closing the window while the worker trains stops it cleanly. */
static void test_close_running(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawWindow *w = open_window(s);
    activate(w, "run", NULL);
    wait_for(w, at_step, GINT_TO_POINTER(3), "three steps");
    gint64 t0 = g_get_monotonic_time();
    close_window(w);
    g_test_message("closing mid-run took %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/window/freeze", test_freeze);
    g_test_add_func("/window/unfreeze-last", test_unfreeze_last);
    g_test_add_func("/window/run", test_run);
    g_test_add_func("/window/preset-bn-column", test_preset_bn_column);
    g_test_add_func("/window/bad-input", test_bad_input);
    g_test_add_func("/window/images-folder", test_images_folder);
    g_test_add_func("/window/code-and-settings", test_code_and_settings);
    g_test_add_func("/window/predictions-vs-compare", test_predictions_vs_compare);
    g_test_add_func("/window/batchnorm-pane", test_batchnorm_pane);
    g_test_add_func("/window/batchmates", test_batchmates);
    g_test_add_func("/window/lessons", test_lessons);
    g_test_add_func("/window/cache", test_cache);
    g_test_add_func("/window/measure", test_measure);
    g_test_add_func("/window/close-running", test_close_running);
    return g_test_run();
}
