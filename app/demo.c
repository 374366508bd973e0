/* Teaching demos: see demo.h. Each measurement builds its variants of the
 * demo's setup with thaw_run_new (the same scenario code as `thaw-cli
 * finetune` and the window), trains them and compares. */
#include "demo-private.h"

#include <math.h>
#include <string.h>

GQuark thaw_demo_error_quark(void)
{
    return g_quark_from_static_string("thaw-demo-error-quark");
}

gboolean thaw_demo_fail(GError **error, const thaw_error *err)
{
    g_set_error(error, thaw_demo_error_quark(), 0, "%s", err->msg);
    return FALSE;
}

void thaw_demo_add_number(ThawDemoResult *res, double value, const char *unit, const char *fmt, ...)
{
    ThawDemoNumber *n = g_new0(ThawDemoNumber, 1);
    va_list ap;
    va_start(ap, fmt);
    n->label = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    n->value = value;
    n->unit = g_strdup(unit);
    g_ptr_array_add(res->numbers, n);
}

static void number_free(gpointer p)
{
    ThawDemoNumber *n = p;
    g_free(n->label);
    g_free(n->unit);
    g_free(n);
}

void thaw_demo_result_clear(ThawDemoResult *res)
{
    if (res->numbers) g_ptr_array_unref(res->numbers);
    g_free(res->verdict);
    memset(res, 0, sizeof *res);
}

void thaw_demo_say(ThawDemoProgress progress, gpointer ctx, const char *fmt, ...)
{
    if (!progress) return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    progress(ctx, s);
}

/* The cancellable of the demo running on this thread (thaw_demo_run). */
static _Thread_local GCancellable *running_cancellable;

gboolean thaw_demo_cancelled(GError **error)
{
    return g_cancellable_set_error_if_cancelled(running_cancellable, error);
}

/* A run of s, ready to train; NULL with error when it cannot be prepared. */
/* Loading a run polls the cancellable too (between images and phases). */
static gboolean prepare_progress(gpointer ctx, double fraction, const char *what)
{
    return g_cancellable_is_cancelled(running_cancellable);
}

ThawRun *thaw_demo_prepare(const ThawSetup *s, GError **error)
{
    if (thaw_demo_cancelled(error)) return NULL;
    ThawRun *run = NULL;
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_run_new_full(&run, s, prepare_progress, NULL, NULL, &err) != THAW_OK) {
        if (!thaw_demo_cancelled(error)) thaw_demo_fail(error, &err);
        return NULL;
    }
    return run;
}

/* Trains run for `steps` steps (0: to the end of the setup's epochs). */
gboolean thaw_demo_step_n(ThawRun *run, int steps, GError **error)
{
    thaw_error err;
    thaw_error_clear(&err);
    for (int i = 0; (steps == 0 || i < steps) && !thaw_run_finished(run); i++) {
        if (thaw_demo_cancelled(error)) return FALSE;
        unsigned ev;
        if (thaw_run_step(run, NULL, &ev, &err) != THAW_OK) {
            return thaw_demo_fail(error, &err);
        }
    }
    return TRUE;
}

/* A run of s trained to the end of its epochs. */
ThawRun *thaw_demo_train(const ThawSetup *s, GError **error)
{
    ThawRun *run = thaw_demo_prepare(s, error);
    if (run && !thaw_demo_step_n(run, 0, error)) g_clear_pointer(&run, thaw_run_free);
    return run;
}

/* ---- 1. `training` is not `trainable` ----------------------------------- */

/* How many of the base's tensors of one kind differ between two parameter
 * arenas; *total receives how many there are. */
static int changed(const thaw_model *m, const float *before, const char *suffix, int *total)
{
    int n = 0;
    *total = 0;
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        if (!m->layers[p->layer].in_base || !g_str_has_suffix(p->name, suffix)) continue;
        (*total)++;
        n += memcmp(before + p->offset, thaw_param_data(m, p), p->count * sizeof(float)) != 0;
    }
    return n;
}

static gboolean demo_training_not_trainable(const ThawSetup *setup, ThawDemoResult *res,
                                            ThawDemoProgress progress, gpointer ctx, GError **error)
{
    /* base frozen or not x base called with training=False or not */
    static const struct {
        gboolean frozen;
        thaw_tristate training;
        const char *what;
        int kernels, gamma_beta, stats; /* expected: 1 all changed, 0 none */
    } cases[] = {
        {TRUE, THAW_UNSET, "frozen base, base(x)", 0, 0, 0},
        {TRUE, THAW_FALSE, "frozen base, base(x, training=False)", 0, 0, 0},
        {FALSE, THAW_UNSET, "trainable base, base(x)", 1, 1, 1},
        {FALSE, THAW_FALSE, "trainable base, base(x, training=False)", 1, 1, 0},
    };
    const int steps = 3;
    gboolean holds = TRUE;
    g_autoptr(GString) why = g_string_new(NULL);
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
        s->base = cases[c].frozen;
        s->base_training = cases[c].training;
        thaw_demo_say(progress, ctx, "%s: %d training steps", cases[c].what, steps);
        ThawRun *run = thaw_demo_prepare(s, error);
        if (!run) return FALSE;
        const thaw_model *m = thaw_run_model(run);
        g_autofree float *p0 = g_memdup2(m->param_mem, m->n_floats * sizeof(float));
        if (!thaw_demo_step_n(run, steps, error)) {
            thaw_run_free(run);
            return FALSE;
        }
        int nk, ng, nb, nm, nv, nmv;
        int k = changed(m, p0, "_conv/kernel", &nk);
        int g = changed(m, p0, "/gamma", &ng) + changed(m, p0, "/beta", &nb);
        int st = changed(m, p0, "/moving_mean", &nm) + changed(m, p0, "/moving_variance", &nv);
        nmv = nm + nv;
        thaw_run_free(run);
        thaw_demo_add_number(res, k, "", "%s: conv kernels changed (of %d)", cases[c].what, nk);
        thaw_demo_add_number(res, g, "", "%s: gamma/beta changed (of %d)", cases[c].what, ng + nb);
        thaw_demo_add_number(res, st, "", "%s: moving statistics changed (of %d)", cases[c].what,
                             nmv);
        int want_k = cases[c].kernels ? nk : 0, want_g = cases[c].gamma_beta ? ng + nb : 0;
        int want_s = cases[c].stats ? nmv : 0;
        if (k != want_k || g != want_g || st != want_s) {
            holds = FALSE;
            g_string_append_printf(why, "%s%s: %d/%d/%d changed, expected %d/%d/%d",
                                   why->len ? "; " : "", cases[c].what, k, g, st, want_k, want_g,
                                   want_s);
        }
    }
    res->holds = holds;
    res->verdict =
        holds ? g_strdup("holds: training=False with a trainable base still trains every conv "
                         "kernel and every gamma/beta; it only stops the moving statistics. "
                         "Freezing is trainable=False.")
              : g_strdup_printf("does not hold: %s", why->str);
    return TRUE;
}

/* ---- 2. the "broken BatchNorm" of Keras 2.1.3 -------------------------- */

static gboolean demo_broken_bn(const ThawSetup *setup, ThawDemoResult *res,
                               ThawDemoProgress progress, gpointer ctx, GError **error)
{
    static const thaw_preset presets[] = {THAW_PRESET_KERAS_2_1_3, THAW_PRESET_KERAS3};
    double gap[2];
    for (int i = 0; i < 2; i++) {
        g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
        s->preset = presets[i];
        s->base = TRUE;
        s->base_training = THAW_UNSET;
        const char *name = thaw_preset_get(presets[i])->name;
        thaw_demo_say(progress, ctx, "%s: %d epochs with the base frozen", name, s->epochs);
        ThawRun *run = thaw_demo_train(s, error);
        if (!run) return FALSE;
        double fit_loss, fit_acc, ips;
        thaw_run_epoch_stats(run, &fit_loss, &fit_acc, &ips);
        thaw_eval_result infer, trainm;
        thaw_error err;
        thaw_error_clear(&err);
        if (thaw_run_validate(run, &infer, &trainm, &err) != THAW_OK) {
            thaw_demo_fail(error, &err);
            thaw_run_free(run);
            return FALSE;
        }
        thaw_run_free(run);
        gap[i] = 100.0 * (trainm.accuracy - infer.accuracy);
        thaw_demo_add_number(res, 100.0 * fit_acc, "%", "%s: accuracy fit() reports (last epoch)",
                             name);
        thaw_demo_add_number(res, 100.0 * trainm.accuracy, "%",
                             "%s: validation accuracy in training mode", name);
        thaw_demo_add_number(res, 100.0 * infer.accuracy, "%",
                             "%s: validation accuracy in inference mode (predict)", name);
        thaw_demo_add_number(res, gap[i], "points", "%s: training mode minus inference mode", name);
    }
    /* The lesson's margins: at least 10 points apart under keras-2.1.3; under
     * keras3 inference mode at most 3 points below training mode (training
     * mode can only lose there: its Dropout is on). */
    res->holds = gap[0] >= 10.0 && gap[1] <= 3.0;
    res->verdict =
        res->holds
            ? g_strdup_printf("holds: under keras-2.1.3 the same validation images score %.1f "
                              "points lower in predict() than in training mode; under keras3 "
                              "the gap is %.1f",
                              gap[0], gap[1])
            : g_strdup_printf("does not hold: gaps %.1f (keras-2.1.3, needs >= 10) and %.1f "
                              "(keras3, needs <= 3) points",
                              gap[0], gap[1]);
    return TRUE;
}

/* ---- 4. PyTorch: requires_grad=False does not freeze BatchNorm ------------ */

static gboolean demo_requires_grad(const ThawSetup *setup, ThawDemoResult *res,
                                   ThawDemoProgress progress, gpointer ctx, GError **error)
{
    static const thaw_preset presets[] = {THAW_PRESET_PYTORCH, THAW_PRESET_PYTORCH_BN_EVAL};
    int layers[2], moved[2];
    double rel[2];
    for (int i = 0; i < 2; i++) {
        g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
        s->preset = presets[i];
        s->base = TRUE;
        const char *name = thaw_preset_get(presets[i])->name;
        thaw_demo_say(progress, ctx, "%s: %d epochs with requires_grad=False on the base", name,
                      s->epochs);
        ThawRun *run = thaw_demo_train(s, error);
        if (!run) return FALSE;
        thaw_run_bn_drift(run, &layers[i], &moved[i], &rel[i]);
        thaw_run_free(run);
        thaw_demo_add_number(res, moved[i], "",
                             "%s: BN layers whose running statistics moved (of %d)", name,
                             layers[i]);
        thaw_demo_add_number(res, rel[i], "", "%s: mean relative change of the running statistics",
                             name);
    }
    res->holds = moved[0] == layers[0] && rel[0] > 0.0 && moved[1] == 0 && rel[1] == 0.0;
    res->verdict = res->holds
                       ? g_strdup_printf("holds: with requires_grad=False alone all %d BN layers' "
                                         "running statistics moved (mean relative change %.3f); "
                                         "with bn.eval() none changed by a single bit",
                                         layers[0], rel[0])
                       : g_strdup_printf("does not hold: %d/%d layers moved without bn.eval(), "
                                         "%d with it",
                                         moved[0], layers[0], moved[1]);
    return TRUE;
}

/* ---- the table ------------------------------------------------------------ */

static const ThawDemo demos[] = {
    {"training-not-trainable", "`training` is not `trainable`",
     "base(x, training=False) still trains a trainable base's kernels and gamma/beta; only "
     "trainable=False freezes them",
     demo_training_not_trainable},
    {"broken-bn", "The \"broken BatchNorm\" of Keras 2.1.3",
     "with a frozen base, Keras 2.1.3 fits on batch statistics and predicts on stale moving "
     "ones: inference accuracy falls far below training mode; keras3 closes the gap",
     demo_broken_bn},
    {"unfreeze", "Unfreezing without training=False",
     "at the unfreeze of the two-phase recipe, a base called without training=False switches its "
     "BN layers to batch statistics and overwrites the moving ones: validation accuracy drops; "
     "with training=False it does not",
     thaw_demo_unfreeze},
    {"requires-grad", "PyTorch: requires_grad=False does not freeze BatchNorm",
     "running statistics of every BN layer move under model.train() even with requires_grad=False; "
     "bn.eval() keeps them bit-identical",
     demo_requires_grad},
    {"batch-mates", "Batch-mates: in training mode a prediction depends on the batch",
     "training-mode accuracy falls far below inference mode in small batches and recovers "
     "with the batch size; inference mode is the same at every batch size",
     thaw_demo_batch_mates},
    {"dropout", "Dropout at inference: training-mode predictions spread",
     "repeated training-mode predictions of one image spread, more with a higher rate, and flip "
     "top-1 answers; inference-mode ones are bit-identical",
     thaw_demo_dropout},
    {"domain-shift", "Domain shift and re-estimated statistics",
     "a shift of the target images makes the frozen moving statistics misfit and accuracy falls; "
     "re-estimating them on the shifted images, without a gradient step, recovers much of it "
     "(not for inversion)",
     thaw_demo_domain_shift},
    {"compute", "Where the compute goes",
     "each frozen stage saves backward work (trainable=False); a frozen prefix in inference mode "
     "is computed once and cached, leaving only the head; the same losses either way",
     thaw_demo_compute},
    {"momentum-lag", "Moving statistics lag the weights",
     "while the weights change fast, BatchNorm's moving averages (Keras momentum 0.99) describe "
     "layers that are gone: inference mode falls far behind training mode although fit() shows "
     "nothing; momentum 0.9 or re-estimating the statistics closes the gap",
     thaw_demo_momentum_lag},
};

const ThawDemo *thaw_demos(size_t *n)
{
    *n = G_N_ELEMENTS(demos);
    return demos;
}

const ThawDemo *thaw_demo_find(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(demos); i++)
        if (strcmp(demos[i].name, name) == 0) return &demos[i];
    return NULL;
}

char *thaw_demo_setup_path(const ThawDemo *d)
{
    g_autofree char *file = g_strdup_printf("demo-%s.ini", d->name);
    return g_build_filename(thaw_setup_presets_dir(), file, NULL);
}

char *thaw_demo_lesson(const ThawDemo *d, GError **error)
{
    g_autofree char *file = g_strdup_printf("%s.md", d->name);
    g_autofree char *dir = g_path_get_dirname(thaw_setup_presets_dir());
    g_autofree char *path = g_build_filename(dir, "lessons", file, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error)) return NULL;
    return text;
}

gboolean thaw_demo_run(const ThawDemo *d, const ThawSetup *s, ThawDemoResult *res,
                       ThawDemoProgress progress, gpointer ctx, GCancellable *cancellable,
                       GError **error)
{
    memset(res, 0, sizeof *res);
    res->numbers = g_ptr_array_new_with_free_func(number_free);
    running_cancellable = cancellable;
    gboolean ok = d->run(s, res, progress, ctx, error);
    running_cancellable = NULL;
    if (!ok) thaw_demo_result_clear(res);
    return ok;
}
