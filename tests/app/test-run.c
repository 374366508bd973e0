/* ThawRun: a setup becomes a run that trains step by step (what the window's
 * worker will drive): epochs, the two-phase unfreeze, validation, BatchNorm
 * drift, and errors. Needs Debian's Fashion-MNIST (skipped visibly without). */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

static ThawSetup *small_setup(void)
{
    ThawSetup *s = thaw_setup_new();
    g_assert_true(thaw_setup_set(s, "k", "10", NULL));
    g_assert_true(thaw_setup_set(s, "val_k", "10", NULL));
    g_assert_true(thaw_setup_set(s, "batch", "20", NULL));
    g_assert_true(thaw_setup_set(s, "epochs", "3", NULL));
    return s;
}

static gboolean have_data(void)
{
    if (access(THAW_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return TRUE;
    g_test_skip("Debian's dataset-fashion-mnist is not installed");
    return FALSE;
}

static void test_epochs(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    ThawRun *r = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_run_new(&r, s, NULL, &err), ==, THAW_OK);
    g_assert_cmpint(thaw_run_steps_per_epoch(r), ==, 2); /* 50 images, batch 20, drop_last */
    g_assert_cmpint(thaw_run_train_data(r)->n, ==, 50);
    g_assert_cmpint(thaw_run_val_data(r)->n, ==, 50);
    g_assert_cmpint(thaw_run_model(r)->cfg.classes, ==, 5);
    unsigned ev, all = 0;
    int steps = 0, epochs_done = 0;
    while (!thaw_run_finished(r)) {
        g_assert_cmpint(thaw_run_step(r, NULL, &ev, &err), ==, THAW_OK);
        steps++;
        all |= ev;
        if (ev & THAW_RUN_EPOCH_DONE) {
            epochs_done++;
            double loss, acc, ips;
            thaw_run_epoch_stats(r, &loss, &acc, &ips);
            g_assert_true(isfinite(loss) && acc >= 0 && acc <= 1);
        }
        if (steps == 1) g_assert_true(ev & THAW_RUN_EPOCH_STARTED);
    }
    g_assert_cmpint(steps, ==, 6);
    g_assert_cmpint(epochs_done, ==, 3);
    g_assert_false(all & THAW_RUN_UNFROZEN);
    g_assert_cmpint(thaw_run_step(r, NULL, &ev, &err), ==, THAW_ERR_STATE);
    thaw_eval_result ri, rt;
    g_assert_cmpint(thaw_run_validate(r, &ri, &rt, &err), ==, THAW_OK);
    g_assert_cmpint(ri.n, ==, 50);
    /* keras3 with a frozen base: no moving statistic moved */
    int layers, changed;
    double rel;
    thaw_run_bn_drift(r, &layers, &changed, &rel);
    g_assert_cmpint(layers, ==, 21);
    g_assert_cmpint(changed, ==, 0);
    g_assert_cmpfloat(rel, ==, 0.0);
    thaw_run_free(r);
}

static void test_two_phase(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "preset", "pytorch", NULL));
    g_assert_true(thaw_setup_set(s, "unfreeze_epoch", "1", NULL));
    g_assert_true(thaw_setup_set(s, "unfreeze_layers", "base", NULL));
    g_assert_true(thaw_setup_set(s, "unfreeze_lr", "0.001", NULL));
    ThawRun *r = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_run_new(&r, s, NULL, &err), ==, THAW_OK);
    thaw_model *m = thaw_run_model(r);
    int conv1 = thaw_model_find_layer(m, "conv1_conv");
    g_assert_false(m->layers[conv1].trainable);
    unsigned ev;
    int unfrozen_at = 0;
    while (!thaw_run_finished(r)) {
        g_assert_cmpint(thaw_run_step(r, NULL, &ev, &err), ==, THAW_OK);
        if (ev & THAW_RUN_UNFROZEN) unfrozen_at = thaw_run_epoch(r);
    }
    g_assert_cmpint(unfrozen_at, ==, 2); /* at the start of epoch unfreeze_epoch + 1 */
    g_assert_true(m->layers[conv1].trainable);
    g_assert_cmpfloat(thaw_run_lr(r), ==, 0.001f);
    /* pytorch: requires_grad=False never froze BN, so all 21 moved */
    int layers, changed;
    double rel;
    thaw_run_bn_drift(r, &layers, &changed, &rel);
    g_assert_cmpint(changed, ==, 21);
    g_assert_cmpfloat(rel, >, 0.0);
    thaw_run_free(r);
}

/* Trains s for all its epochs; returns the per-step losses and the final
 * validation in *infer (inference mode) and *train (training mode). */
static GArray *train_all(const ThawSetup *s, int *cached_layer, thaw_eval_result *infer,
                         thaw_eval_result *train)
{
    ThawRun *r = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_run_new(&r, s, NULL, &err), ==, THAW_OK);
    GArray *losses = g_array_new(FALSE, FALSE, sizeof(double));
    thaw_step_report *rep = thaw_step_report_new(thaw_run_model(r));
    while (!thaw_run_finished(r)) {
        g_assert_cmpint(thaw_run_step(r, rep, NULL, &err), ==, THAW_OK);
        g_array_append_val(losses, rep->loss);
    }
    *cached_layer = thaw_run_cached_layer(r);
    const thaw_model *m = thaw_run_model(r);
    if (*cached_layer > 0) g_assert_cmpstr(m->layers[*cached_layer].name, ==, "avg_pool");
    g_assert_cmpint(thaw_run_validate(r, infer, train, &err), ==, THAW_OK);
    thaw_step_report_free(rep);
    thaw_run_free(r);
    return losses;
}

/* The frozen-prefix feature cache: on by default for a frozen base under
 * keras3 (the cut at avg_pool), the same losses and accuracies as without it,
 * and off with augmentation or with the setup's feature_cache=false. */
static void test_feature_cache(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "dropout", "0.3", NULL));
    int cut_on, cut_off;
    thaw_eval_result i_on, t_on, i_off, t_off;
    g_autoptr(GArray) on = train_all(s, &cut_on, &i_on, &t_on);
    g_assert_cmpint(cut_on, >, 0);
    g_assert_true(thaw_setup_set(s, "feature_cache", "false", NULL));
    g_autoptr(GArray) off = train_all(s, &cut_off, &i_off, &t_off);
    g_assert_cmpint(cut_off, ==, 0);
    g_assert_cmpuint(on->len, ==, off->len);
    for (guint k = 0; k < on->len; k++)
        g_assert_cmpfloat_with_epsilon(g_array_index(on, double, k), g_array_index(off, double, k),
                                       1e-5);
    g_assert_cmpfloat(i_on.accuracy, ==, i_off.accuracy);
    g_assert_cmpfloat(t_on.accuracy, ==, t_off.accuracy);
    g_assert_cmpfloat_with_epsilon(i_on.loss, i_off.loss, 1e-5);

    /* random flips change what the prefix sees: no cache */
    g_assert_true(thaw_setup_set(s, "feature_cache", "true", NULL));
    g_assert_true(thaw_setup_set(s, "augment", "flip", NULL));
    g_autoptr(GArray) flipped = train_all(s, &cut_on, &i_on, &t_on);
    g_assert_cmpint(cut_on, ==, 0);
    /* BN in batch mode on a frozen base under `pytorch`: only conv1_conv is fixed */
    g_assert_true(thaw_setup_set(s, "augment", "", NULL));
    g_assert_true(thaw_setup_set(s, "preset", "pytorch", NULL));
    ThawRun *r = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_run_new(&r, s, NULL, &err), ==, THAW_OK);
    g_assert_cmpint(thaw_run_step(r, NULL, NULL, &err), ==, THAW_OK);
    g_assert_cmpstr(thaw_run_model(r)->layers[thaw_run_cached_layer(r)].name, ==, "conv1_conv");
    thaw_run_free(r);
}

static void test_errors(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup();
    g_assert_true(thaw_setup_set(s, "freeze", "conv2_blok1_1_conv", NULL));
    ThawRun *r = (ThawRun *)1;
    thaw_error err;
    bool usage = false;
    g_assert_cmpint(thaw_run_new(&r, s, &usage, &err), ==, THAW_ERR_ARG);
    g_assert_null(r);
    g_assert_true(usage);
    g_assert_nonnull(strstr(err.msg, "did you mean conv2_block1_1_conv"));

    g_autoptr(ThawSetup) b = small_setup();
    g_assert_true(thaw_setup_set(b, "batch", "64", NULL));
    usage = true;
    g_assert_cmpint(thaw_run_new(&r, b, &usage, &err), ==, THAW_ERR_ARG);
    g_assert_false(usage);
    g_assert_nonnull(strstr(err.msg, "larger than the 50 training images"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/run/epochs", test_epochs);
    g_test_add_func("/run/two-phase", test_two_phase);
    g_test_add_func("/run/feature-cache", test_feature_cache);
    g_test_add_func("/run/errors", test_errors);
    return g_test_run();
}
