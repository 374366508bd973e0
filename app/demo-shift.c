/* Teaching demos about BatchNorm's moving statistics meeting new data:
 * 3. unfreezing without training=False (the Keras guide's two-phase recipe)
 * and 7. domain shift and re-estimated statistics. See demo.h. */
#include "demo-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Accuracy of m on d in inference mode, in percent. */
static gboolean accuracy(thaw_model *m, const thaw_dataset *d, double *acc, GError **error)
{
    thaw_eval_result r;
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_model_evaluate(m, d->x, d->y, d->n, 256, false, 0, &r, &err) != THAW_OK)
        return thaw_demo_fail(error, &err);
    *acc = 100.0 * r.accuracy;
    return TRUE;
}

/* Validation accuracy of run in inference mode, in percent. */
static gboolean val_accuracy(ThawRun *run, double *acc, GError **error)
{
    return accuracy(thaw_run_model(run), thaw_run_val_data(run), acc, error);
}

/* ---- 3. unfreezing without training=False ------------------------------ */

gboolean thaw_demo_unfreeze(const ThawSetup *setup, ThawDemoResult *res, ThawDemoProgress progress,
                            gpointer ctx, GError **error)
{
    static const struct {
        thaw_tristate training;
        const char *what;
    } cases[] = {
        {THAW_UNSET, "base(x)"},
        {THAW_FALSE, "base(x, training=False)"},
    };
    if (setup->unfreeze_epoch < 1 || !setup->unfreeze_layers || !*setup->unfreeze_layers) {
        g_set_error(error, thaw_demo_error_quark(), 0,
                    "the demo needs the two-phase recipe (unfreeze_epoch, unfreeze_layers)");
        return FALSE;
    }
    double before[2], after[2], rel[2];
    int layers[2], moved[2];
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
        s->base = TRUE;
        s->base_training = cases[c].training;
        thaw_demo_say(progress, ctx, "%s: %d epochs with the base frozen, then unfrozen at lr %g",
                      cases[c].what, s->unfreeze_epoch, thaw_setup_phase2_lr(s));
        ThawRun *run = thaw_demo_prepare(s, error);
        if (!run) return FALSE;
        const int spe = thaw_run_steps_per_epoch(run);
        gboolean ok = thaw_demo_step_n(run, s->unfreeze_epoch * spe, error) &&
                      val_accuracy(run, &before[c], error);
        /* the first step of the second phase unfreezes the base */
        thaw_error err;
        thaw_error_clear(&err);
        unsigned ev = 0;
        if (ok && thaw_run_step(run, NULL, &ev, &err) != THAW_OK) ok = thaw_demo_fail(error, &err);
        if (ok && !(ev & THAW_RUN_UNFROZEN)) {
            g_set_error(error, thaw_demo_error_quark(), 0, "the base was not unfrozen");
            ok = FALSE;
        }
        ok = ok && thaw_demo_step_n(run, spe - 1, error) && val_accuracy(run, &after[c], error);
        if (ok) thaw_run_bn_drift(run, &layers[c], &moved[c], &rel[c]);
        thaw_run_free(run);
        if (!ok) return FALSE;
        thaw_demo_add_number(res, before[c], "%",
                             "%s: validation accuracy before unfreezing (epoch %d)", cases[c].what,
                             s->unfreeze_epoch);
        thaw_demo_add_number(res, after[c], "%", "%s: validation accuracy after one epoch unfrozen",
                             cases[c].what);
        thaw_demo_add_number(res, after[c] - before[c], "points", "%s: change at the unfreeze",
                             cases[c].what);
        thaw_demo_add_number(res, moved[c], "",
                             "%s: BN layers whose moving statistics moved (of %d)", cases[c].what,
                             layers[c]);
        thaw_demo_add_number(res, rel[c], "", "%s: mean relative change of the moving statistics",
                             cases[c].what);
    }
    /* The lesson's margins: without training=False the accuracy falls by at
     * least 10 points at the unfreeze and every BN layer's statistics move;
     * with it the accuracy changes by at most 2 points and the statistics
     * stay bit-identical. */
    double dip = before[0] - after[0], change = after[1] - before[1];
    res->holds = dip >= 10.0 && fabs(change) <= 2.0 && moved[0] == layers[0] && moved[1] == 0;
    res->verdict =
        res->holds
            ? g_strdup_printf("holds: unfrozen without training=False the model lost %.1f points "
                              "(%.1f%% -> %.1f%%) in one epoch and all %d BN layers' moving "
                              "statistics moved; with training=False it changed by %+.1f points "
                              "and the statistics stayed bit-identical",
                              dip, before[0], after[0], layers[0], change)
            : g_strdup_printf("does not hold: dip %.1f points without training=False (needs >= "
                              "10), change %+.1f with it (needs within 2); %d/%d and %d layers "
                              "moved",
                              dip, change, moved[0], layers[0], moved[1]);
    return TRUE;
}

/* ---- 7. domain shift and re-estimated statistics ------------------------ */

/* A copy of d with the domain shift t applied. */
static gboolean shifted_copy(thaw_dataset *out, const thaw_dataset *d, const thaw_transform *t,
                             uint64_t seed, GError **error)
{
    size_t floats = (size_t)d->n * d->h * d->w * d->c;
    *out = *d;
    out->x = malloc(floats * sizeof(float));
    out->y = malloc((size_t)d->n * sizeof(int32_t));
    if (!out->x || !out->y) {
        thaw_dataset_free(out);
        g_set_error(error, thaw_demo_error_quark(), 0, "out of memory");
        return FALSE;
    }
    memcpy(out->x, d->x, floats * sizeof(float));
    memcpy(out->y, d->y, (size_t)d->n * sizeof(int32_t));
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_transform_shift_dataset(out, t, seed, &err) != THAW_OK) {
        thaw_dataset_free(out);
        return thaw_demo_fail(error, &err);
    }
    return TRUE;
}

/* Under shift t: validation accuracy in inference mode before (*shifted) and
 * after (*recovered) re-estimating the base's BN statistics on the shifted
 * (unlabelled) training images; the parameters and moving statistics are left
 * as they were. */
static gboolean measure_shift(ThawRun *run, const thaw_transform *t, double *shifted,
                              double *recovered, GError **error)
{
    thaw_model *m = thaw_run_model(run);
    const ThawSetup *s = thaw_run_setup(run);
    thaw_dataset train, val;
    if (!shifted_copy(&train, thaw_run_train_data(run), t, s->data_seed, error)) return FALSE;
    if (!shifted_copy(&val, thaw_run_val_data(run), t, 2, error)) {
        thaw_dataset_free(&train);
        return FALSE;
    }
    float *saved = g_memdup2(m->param_mem, m->n_floats * sizeof(float));
    thaw_error err;
    thaw_error_clear(&err);
    gboolean ok = accuracy(m, &val, shifted, error);
    if (ok && thaw_model_reestimate_bn(m, train.x, train.n, s->batch, true, &err) != THAW_OK)
        ok = thaw_demo_fail(error, &err);
    ok = ok && accuracy(m, &val, recovered, error);
    memcpy(m->param_mem, saved, m->n_floats * sizeof(float));
    thaw_model_params_changed(m); /* feature caches of the run are stale */
    g_free(saved);
    thaw_dataset_free(&train);
    thaw_dataset_free(&val);
    return ok;
}

gboolean thaw_demo_domain_shift(const ThawSetup *setup, ThawDemoResult *res,
                                ThawDemoProgress progress, gpointer ctx, GError **error)
{
    if (!thaw_transform_has_shift(&setup->shift)) {
        g_set_error(error, thaw_demo_error_quark(), 0, "the demo needs a shift (e.g. lift)");
        return FALSE;
    }
    char shift_name[128];
    thaw_transform_describe(&setup->shift, shift_name, sizeof shift_name);
    /* the contrasts: inversion (not magic) */
    thaw_transform invert = {0};
    invert.invert = true;
    double clean[2], shifted[2], recovered[2], inv_shifted = 0, inv_recovered = 0;
    static const char *const heads[] = {"head on target statistics", "head on source statistics"};
    for (int h = 0; h < 2; h++) {
        g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
        memset(&s->shift, 0, sizeof s->shift); /* train on the unshifted target */
        s->base = TRUE;
        s->base_training = THAW_FALSE;
        s->unfreeze_epoch = 0;
        thaw_demo_say(progress, ctx, "%s: %d epochs with the base frozen", heads[h], s->epochs);
        ThawRun *run = thaw_demo_prepare(s, error);
        if (!run) return FALSE;
        gboolean ok = TRUE;
        if (h == 0) {
            /* the base's statistics re-estimated on the target's training
             * images first: the head learns on features that fit them */
            const thaw_dataset *t = thaw_run_train_data(run);
            thaw_error err;
            thaw_error_clear(&err);
            if (thaw_model_reestimate_bn(thaw_run_model(run), t->x, t->n, s->batch, true, &err) !=
                THAW_OK)
                ok = thaw_demo_fail(error, &err);
        }
        ok = ok && thaw_demo_step_n(run, 0, error) && val_accuracy(run, &clean[h], error);
        /* under the source head: re-estimated on the unshifted target */
        static const thaw_transform none = {0};
        thaw_demo_say(progress, ctx, "%s: shift %s, then re-estimate the statistics on it",
                      heads[h], h == 0 ? shift_name : "none");
        ok = ok &&
             measure_shift(run, h == 0 ? &setup->shift : &none, &shifted[h], &recovered[h], error);
        if (ok && h == 0) ok = measure_shift(run, &invert, &inv_shifted, &inv_recovered, error);
        thaw_run_free(run);
        if (!ok) return FALSE;
        thaw_demo_add_number(res, clean[h], "%", "%s: validation accuracy, no shift", heads[h]);
        if (h == 1) {
            thaw_demo_add_number(res, recovered[1], "%",
                                 "%s: no shift, statistics re-estimated on the target images",
                                 heads[h]);
            thaw_demo_add_number(res, shifted[1] - recovered[1], "points",
                                 "%s: re-estimated on the unshifted target, lost", heads[h]);
            continue;
        }
        thaw_demo_add_number(res, shifted[h], "%", "%s: validation accuracy, shift %s", heads[h],
                             shift_name);
        thaw_demo_add_number(res, recovered[h], "%",
                             "%s: shift %s, statistics re-estimated on the shifted images",
                             heads[h], shift_name);
        thaw_demo_add_number(res, recovered[h] - shifted[h], "points",
                             "%s: shift %s, gained by re-estimation", heads[h], shift_name);
        thaw_demo_add_number(res, inv_shifted, "%", "%s: validation accuracy, shift invert",
                             heads[h]);
        thaw_demo_add_number(res, inv_recovered, "%",
                             "%s: shift invert, statistics re-estimated on the shifted images",
                             heads[h]);
        thaw_demo_add_number(res, inv_recovered - inv_shifted, "points",
                             "%s: shift invert, gained by re-estimation", heads[h]);
    }
    double fall = clean[0] - shifted[0], gain = recovered[0] - shifted[0];
    double inv_gain = inv_recovered - inv_shifted, hurt = shifted[1] - recovered[1];
    /* The lesson's margins: the shift costs at least 20 points; re-estimation
     * gives back at least 20 and ends within 10 points of the unshifted
     * accuracy; inversion gains at most 5; under the source head
     * re-estimation on the target costs at least 10. */
    double gap = clean[0] - recovered[0];
    res->holds = fall >= 20.0 && gain >= 20.0 && gap <= 10.0 && inv_gain <= 5.0 && hurt >= 10.0;
    res->verdict =
        res->holds
            ? g_strdup_printf(
                  "holds: shift %s took the target-statistics model from %.1f%% to %.1f%%; "
                  "re-estimating the statistics on the shifted images (no gradient step) "
                  "gave back %.1f points; inversion gained %+.1f; under a head fitted to the "
                  "source statistics re-estimation cost %.1f points",
                  shift_name, clean[0], shifted[0], gain, inv_gain, hurt)
            : g_strdup_printf("does not hold: shift %s fall %.1f (needs >= 20), gain %.1f (needs "
                              ">= 20), %.1f below unshifted after it (needs <= 10), inversion gain "
                              "%.1f (needs <= 5), source-head loss %.1f (needs >= 10) points",
                              shift_name, fall, gain, gap, inv_gain, hurt);
    return TRUE;
}
