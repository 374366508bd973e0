/* Teaching demo 9: moving statistics lag the weights. BatchNorm's moving
 * statistics are an exponential average over past batches, taken while the
 * weights below them change: with Keras's momentum 0.99 the average remembers
 * about a hundred steps, so while the weights move fast it describes layers
 * that no longer exist. Training mode never reads it (fit() is the same under
 * any momentum); inference mode does, and falls behind (SEMANTICS.md §1.1,
 * §1.3). The shipped model's own pretraining shows it (resources/models:
 * 43.7 % in inference mode after its first epoch, 90.2 % in training mode).
 *
 * The measurement fine-tunes the whole model (BatchNorm in training mode,
 * updating) at the demo's learning rate twice -- with the setup's momentum
 * and with Keras 0.9 (PyTorch's 0.1) -- and measures the validation images in
 * both modes after each epoch; then it re-estimates the first run's
 * statistics on the training images without a gradient step. */
#include "demo-private.h"

#include <math.h>
#include <string.h>

#define FAST_MOMENTUM 0.9

typedef struct {
    double infer, train; /* validation accuracy per mode, % */
    double loss;         /* the epoch's fit() loss */
} EpochNumbers;

/* Trains run to the end of its epochs, validating after each. */
static gboolean train_and_measure(ThawRun *run, EpochNumbers *out, int epochs, GError **error)
{
    thaw_error err;
    thaw_error_clear(&err);
    for (int e = 0; e < epochs; e++) {
        /* an epoch is exactly its full batches (drop_last) */
        if (!thaw_demo_step_n(run, thaw_run_steps_per_epoch(run), error)) return FALSE;
        thaw_eval_result ri, rt;
        if (thaw_run_validate(run, &ri, &rt, &err) != THAW_OK) return thaw_demo_fail(error, &err);
        double acc, ips;
        thaw_run_epoch_stats(run, &out[e].loss, &acc, &ips);
        out[e].infer = 100.0 * ri.accuracy;
        out[e].train = 100.0 * rt.accuracy;
    }
    return TRUE;
}

gboolean thaw_demo_momentum_lag(const ThawSetup *setup, ThawDemoResult *res,
                                ThawDemoProgress progress, gpointer ctx, GError **error)
{
    g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
    /* Every BN layer in training mode: the moving statistics are only ever
     * written, never read, while fitting. No Dropout, so that the two modes
     * differ by BatchNorm alone. */
    s->base = FALSE;
    s->base_training = THAW_UNSET;
    s->dropout = 0;
    s->unfreeze_epoch = 0;
    const int epochs = s->epochs;
    g_autofree EpochNumbers *slow = g_new0(EpochNumbers, epochs);
    g_autofree EpochNumbers *fast = g_new0(EpochNumbers, epochs);

    const thaw_preset_info *info = thaw_preset_get(s->preset);
    double slow_momentum = s->bn_momentum >= 0 ? s->bn_momentum : info->bn_momentum;
    thaw_demo_say(progress, ctx, "momentum %.2f: %d epochs with the whole model trainable",
                  slow_momentum, epochs);
    ThawRun *run = thaw_demo_prepare(s, error);
    if (!run) return FALSE;
    if (!train_and_measure(run, slow, epochs, error)) {
        thaw_run_free(run);
        return FALSE;
    }
    /* the same weights, statistics re-estimated on the training images */
    thaw_demo_say(progress, ctx, "momentum %.2f: re-estimating the statistics, no gradient step",
                  slow_momentum);
    const thaw_dataset *d = thaw_run_train_data(run);
    thaw_error err;
    thaw_error_clear(&err);
    thaw_eval_result re;
    gboolean ok = thaw_model_reestimate_bn(thaw_run_model(run), d->x, d->n, s->batch, TRUE, &err) ==
                      THAW_OK &&
                  thaw_model_evaluate(thaw_run_model(run), thaw_run_val_data(run)->x,
                                      thaw_run_val_data(run)->y, thaw_run_val_data(run)->n, 256,
                                      FALSE, 0, &re, &err) == THAW_OK;
    thaw_run_free(run);
    if (!ok) return thaw_demo_fail(error, &err);
    double reestimated = 100.0 * re.accuracy;

    s->bn_momentum = FAST_MOMENTUM;
    thaw_demo_say(progress, ctx, "momentum %.2f: the same %d epochs", FAST_MOMENTUM, epochs);
    run = thaw_demo_prepare(s, error);
    if (!run) return FALSE;
    ok = train_and_measure(run, fast, epochs, error);
    thaw_run_free(run);
    if (!ok) return FALSE;

    double same_fit = 0;
    for (int e = 0; e < epochs; e++) {
        thaw_demo_add_number(res, slow[e].train, "%",
                             "epoch %d: validation accuracy in training mode (either momentum)",
                             e + 1);
        thaw_demo_add_number(res, slow[e].infer, "%",
                             "epoch %d, momentum %.2f: validation accuracy in inference mode",
                             e + 1, slow_momentum);
        thaw_demo_add_number(res, fast[e].infer, "%",
                             "epoch %d, momentum %.2f: validation accuracy in inference mode",
                             e + 1, FAST_MOMENTUM);
        same_fit = fmax(same_fit, fabs(slow[e].loss - fast[e].loss));
        same_fit = fmax(same_fit, fabs(slow[e].train - fast[e].train));
    }
    const EpochNumbers *ls = &slow[epochs - 1], *lf = &fast[epochs - 1];
    double gap_slow = ls->train - ls->infer, gap_fast = lf->train - lf->infer;
    double gap_reest = ls->train - reestimated;
    thaw_demo_add_number(res, gap_slow, "points",
                         "momentum %.2f: training mode minus inference mode after epoch %d",
                         slow_momentum, epochs);
    thaw_demo_add_number(res, gap_fast, "points",
                         "momentum %.2f: training mode minus inference mode after epoch %d",
                         FAST_MOMENTUM, epochs);
    thaw_demo_add_number(res, reestimated, "%",
                         "momentum %.2f, statistics re-estimated: inference accuracy",
                         slow_momentum);
    thaw_demo_add_number(res, same_fit, "",
                         "largest difference of fit() losses and training-mode accuracies "
                         "between the momenta");

    /* The lesson's margins: the slow average leaves inference mode at least
     * 10 points behind; the fast one at most 5; re-estimating the slow run's
     * statistics brings it within 5 points of training mode; and fit() cannot
     * tell the two momenta apart. */
    res->holds = gap_slow >= 10.0 && gap_fast <= 5.0 && gap_reest <= 5.0 && same_fit == 0.0;
    if (res->holds)
        res->verdict = g_strdup_printf(
            "holds: after %d epochs inference mode is %.1f points behind training mode with "
            "momentum %.2f and %.1f with %.2f, although fit() reported the same numbers; "
            "re-estimating the statistics, without a gradient step, gives %.1f%% (training mode "
            "%.1f%%)",
            epochs, gap_slow, slow_momentum, gap_fast, FAST_MOMENTUM, reestimated, ls->train);
    else
        res->verdict = g_strdup_printf(
            "does not hold: gaps %.1f (momentum %.2f, needs >= 10) and %.1f (%.2f, needs <= 5) "
            "points, %.1f after re-estimation (needs <= 5), fit() differing by %g",
            gap_slow, slow_momentum, gap_fast, FAST_MOMENTUM, gap_reest, same_fit);
    return TRUE;
}
