/* Teaching demos 5 and 6: what training mode does at prediction time. A
 * model measured in training mode is not a fixed function of its input:
 * BatchNorm normalises each image with its batch-mates' statistics (5) and
 * Dropout draws a new mask on every pass (6). Inference mode is the same
 * function every time (SEMANTICS.md §1.2, §2, §3). */
#include "demo-private.h"

#include <math.h>
#include <string.h>

/* thaw_model_evaluate on the validation images; FALSE with error. */
static gboolean evaluate(ThawRun *run, int batch, gboolean training, guint64 dropout_seed,
                         double *accuracy, GError **error)
{
    const thaw_dataset *v = thaw_run_val_data(run);
    thaw_eval_result r;
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_model_evaluate(thaw_run_model(run), v->x, v->y, v->n, batch, training, dropout_seed,
                            &r, &err) != THAW_OK) {
        return thaw_demo_fail(error, &err);
    }
    *accuracy = 100.0 * r.accuracy;
    return TRUE;
}

/* ---- 5. batch-mates: training-mode BatchNorm couples a batch's images ----- */

gboolean thaw_demo_batch_mates(const ThawSetup *setup, ThawDemoResult *res,
                               ThawDemoProgress progress, gpointer ctx, GError **error)
{
    static const int sizes[] = {1, 2, 4, 8, 16, 32, 128};
    enum { N = G_N_ELEMENTS(sizes) };
    g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
    /* BN in training mode during fit(), so its running statistics fit the
     * target; no head Dropout, so BatchNorm is all that differs between the
     * modes. */
    s->base = FALSE;
    s->base_training = THAW_UNSET;
    s->dropout = 0;
    const char *name = thaw_preset_get(s->preset)->name;
    thaw_demo_say(progress, ctx, "%s: %d epochs with the whole model trainable", name, s->epochs);
    ThawRun *run = thaw_demo_train(s, error);
    if (!run) return FALSE;
    int n_val = thaw_run_val_data(run)->n;
    double infer1, infer256, train[N];
    thaw_demo_say(progress, ctx, "inference mode: %d validation images, batches of 1 and 256",
                  n_val);
    if (!evaluate(run, 1, FALSE, 0, &infer1, error) ||
        !evaluate(run, 256, FALSE, 0, &infer256, error)) {
        thaw_run_free(run);
        return FALSE;
    }
    for (int i = 0; i < N; i++) {
        thaw_demo_say(progress, ctx, "training mode: batches of %d consecutive images", sizes[i]);
        if (!evaluate(run, sizes[i], TRUE, 1, &train[i], error)) {
            thaw_run_free(run);
            return FALSE;
        }
    }
    thaw_run_free(run);
    thaw_demo_add_number(res, infer256, "%", "inference mode: validation accuracy, batches of 256");
    thaw_demo_add_number(res, infer1, "%", "inference mode: validation accuracy, batches of 1");
    for (int i = 0; i < N; i++)
        thaw_demo_add_number(res, train[i], "%",
                             "training mode: validation accuracy, batches of %d", sizes[i]);
    double gap1 = train[0] - infer256, gap128 = train[N - 1] - infer256;
    thaw_demo_add_number(res, gap1, "points", "training mode at batch 1 minus inference mode");
    thaw_demo_add_number(res, gap128, "points", "training mode at batch 128 minus inference mode");
    /* The lesson's margins: batch 1 at least 40 points below inference mode;
     * no doubling of the batch loses more than 2 points; batch 128 within 4
     * points of inference mode; inference mode the same at batch 1 and 256. */
    gboolean rising = TRUE;
    for (int i = 1; i < N; i++) rising &= train[i] >= train[i - 1] - 2.0;
    res->holds = gap1 <= -40.0 && rising && fabs(gap128) <= 4.0 && infer1 == infer256;
    res->verdict =
        res->holds
            ? g_strdup_printf("holds: in training mode the same %d images score %.1f%% in "
                              "batches of 1 and %.1f%% in batches of 128; inference mode scores "
                              "%.1f%% at any batch size",
                              n_val, train[0], train[N - 1], infer256)
            : g_strdup_printf("does not hold: training mode %.1f%% (batch 1, needs <= %.1f), "
                              "%.1f%% (batch 128, needs %.1f +- 4)%s; inference %.1f%% / %.1f%% "
                              "(batch 1 / 256, must be equal)",
                              train[0], infer256 - 40.0, train[N - 1], infer256,
                              rising ? "" : ", falls with the batch size", infer1, infer256);
    return TRUE;
}

/* ---- 6. Dropout at inference: training-mode predictions spread ----------- */

/* What R training-mode passes over the validation images show. */
typedef struct {
    double accuracy;  /* inference mode */
    gboolean same;    /* two inference-mode passes bit-identical */
    double spread;    /* mean over images of the std of the true-class probability, points */
    double flips;     /* images whose top-1 differs between passes, % */
    double train_acc; /* training mode, mean over the passes */
} Spread;

static int top1(const float *p, int classes)
{
    int best = 0;
    for (int k = 1; k < classes; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

static gboolean measure_spread(ThawRun *run, int passes, Spread *out, GError **error)
{
    thaw_model *m = thaw_run_model(run);
    const thaw_dataset *v = thaw_run_val_data(run);
    const int n = v->n, c = v->classes;
    const size_t nc = (size_t)n * c;
    g_autofree float *p = g_new(float, nc);
    g_autofree float *q = g_new(float, nc);
    g_autofree double *sum = g_new0(double, n);
    g_autofree double *sum2 = g_new0(double, n);
    g_autofree int *first = g_new(int, n);
    g_autofree gboolean *flipped = g_new0(gboolean, n);
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_model_predict(m, v->x, n, 256, false, 0, p, &err) != THAW_OK ||
        thaw_model_predict(m, v->x, n, 256, false, 0, q, &err) != THAW_OK)
        goto fail;
    out->same = memcmp(p, q, nc * sizeof(float)) == 0;
    int hits = 0;
    for (int i = 0; i < n; i++) hits += top1(p + (size_t)i * c, c) == v->y[i];
    out->accuracy = 100.0 * hits / n;
    hits = 0;
    for (int r = 0; r < passes; r++) {
        if (thaw_model_predict(m, v->x, n, 256, true, (uint64_t)r + 1, p, &err) != THAW_OK)
            goto fail;
        for (int i = 0; i < n; i++) {
            const float *pi = p + (size_t)i * c;
            double t = 100.0 * pi[v->y[i]];
            sum[i] += t;
            sum2[i] += t * t;
            int k = top1(pi, c);
            hits += k == v->y[i];
            if (r == 0)
                first[i] = k;
            else
                flipped[i] |= k != first[i];
        }
    }
    double spread = 0;
    int flips = 0;
    for (int i = 0; i < n; i++) {
        double mean = sum[i] / passes, var = sum2[i] / passes - mean * mean;
        spread += sqrt(var > 0 ? var : 0);
        flips += flipped[i];
    }
    out->spread = spread / n;
    out->flips = 100.0 * flips / n;
    out->train_acc = 100.0 * hits / ((double)n * passes);
    return TRUE;
fail:
    return thaw_demo_fail(error, &err);
}

gboolean thaw_demo_dropout(const ThawSetup *setup, ThawDemoResult *res, ThawDemoProgress progress,
                           gpointer ctx, GError **error)
{
    /* Each rate is trained on its own (the honest comparison); the setup's
     * own rate is what the window runs. Rates up to 0.5: at 0.8 two epochs
     * of this head do not train reliably and the spread of a probability
     * saturates, so the comparison would measure that instead. */
    static const double rates[] = {0.1, 0.3, 0.5};
    enum { N = G_N_ELEMENTS(rates) };
    const int passes = 10;
    Spread sp[N];
    for (int i = 0; i < N; i++) {
        g_autoptr(ThawSetup) s = thaw_setup_copy(setup);
        /* a frozen base: its BatchNorm stays in inference mode (keras3's
         * trainable=False rule), so Dropout is all that training mode adds */
        s->base = TRUE;
        s->dropout = rates[i];
        thaw_demo_say(progress, ctx, "dropout %.1f: %d epochs, then %d training-mode passes",
                      rates[i], s->epochs, passes);
        ThawRun *run = thaw_demo_train(s, error);
        if (!run) return FALSE;
        gboolean ok = measure_spread(run, passes, &sp[i], error);
        thaw_run_free(run);
        if (!ok) return FALSE;
        thaw_demo_add_number(res, sp[i].accuracy, "%",
                             "dropout %.1f: validation accuracy in inference mode", rates[i]);
        thaw_demo_add_number(res, sp[i].train_acc, "%",
                             "dropout %.1f: validation accuracy in training mode (mean of %d "
                             "passes)",
                             rates[i], passes);
        thaw_demo_add_number(res, sp[i].spread, "points",
                             "dropout %.1f: std of the true-class probability over %d passes "
                             "(mean over images)",
                             rates[i], passes);
        thaw_demo_add_number(res, sp[i].flips, "%",
                             "dropout %.1f: images whose top-1 flips at least once in %d passes",
                             rates[i], passes);
        thaw_demo_add_number(res, sp[i].same ? 1 : 0, "",
                             "dropout %.1f: two inference-mode passes bit-identical (1 = yes)",
                             rates[i]);
    }
    /* The lesson's margins (rates 0.1, 0.3, 0.5): the spread grows with the
     * rate, each step by at least 1 point; at 0.5 it is at least 5 points
     * and at least half of the images flip; inference mode is bit-identical
     * every time. */
    gboolean same = TRUE;
    for (int i = 0; i < N; i++) same &= sp[i].same;
    const Spread *top = &sp[N - 1];
    res->holds = same && sp[0].spread > 0 && sp[1].spread >= sp[0].spread + 1.0 &&
                 sp[2].spread >= sp[1].spread + 1.0 && top->spread >= 5.0 && top->flips >= 50.0;
    res->verdict =
        res->holds
            ? g_strdup_printf("holds: with Dropout on, one image's true-class probability "
                              "varies by %.1f / %.1f / %.1f points (std) at rates 0.1 / 0.3 / "
                              "0.5, and %.0f%% of the images change their top-1 at rate 0.5; "
                              "inference mode gives the same bits every time",
                              sp[0].spread, sp[1].spread, sp[2].spread, top->flips)
            : g_strdup_printf("does not hold: spread %.1f / %.1f / %.1f points at rates 0.1 / "
                              "0.3 / 0.5 (needs rising by >= 1, >= 5 at 0.5), %.0f%% flip at "
                              "0.5 (needs >= 50)%s",
                              sp[0].spread, sp[1].spread, sp[2].spread, top->flips,
                              same ? "" : ", inference mode not repeatable");
    return TRUE;
}
