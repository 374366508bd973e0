/* ThawWorker: a run on its own thread, driven from a GMainLoop: step, run,
 * knobs while running (markers), pause, finish, reset, load errors and
 * disposal mid-run. Needs Debian's Fashion-MNIST (skipped visibly without).
 * Every wait has a deadline, so the test cannot hang. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "thaw-worker.h"

#define WAIT_S 60

static ThawSetup *small_setup(int epochs)
{
    ThawSetup *s = thaw_setup_new();
    g_assert_true(thaw_setup_set(s, "k", "10", NULL));
    g_assert_true(thaw_setup_set(s, "val_k", "10", NULL));
    g_assert_true(thaw_setup_set(s, "batch", "20", NULL));
    g_autofree char *e = g_strdup_printf("%d", epochs);
    g_assert_true(thaw_setup_set(s, "epochs", e, NULL));
    return s;
}

static gboolean have_data(void)
{
    if (access(THAW_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return TRUE;
    g_test_skip("Debian's dataset-fashion-mnist is not installed");
    return FALSE;
}

/* What the reports said so far. */
typedef struct {
    GMainLoop *loop;
    ThawReport *last;
    guint n_reports;
    guint64 max_step;
    gboolean monotonic;  /* steps never went down (outside resets) */
    GPtrArray *markers;  /* labels, in order */
    GPtrArray *messages; /* one-shot messages, "!" prefixed for errors */
    int val_reports;     /* reports carrying validation */
    int n_epochs;        /* finished epochs received in the current generation */
    guint n_points;      /* step points received in the current generation */
    guint generation;
    guint64 last_point; /* the step of the last point */
    gboolean (*until)(ThawReport *r, gpointer data);
    gpointer until_data;
} Ctx;

static void on_report(ThawWorker *w, ThawReport *r, Ctx *c)
{
    (void)w;
    if (c->last && r->step < c->last->step && r->step != 0) c->monotonic = FALSE;
    g_clear_pointer(&c->last, thaw_report_unref);
    c->last = thaw_report_ref(r);
    c->n_reports++;
    c->max_step = MAX(c->max_step, r->step);
    if (r->generation != c->generation) {
        c->generation = r->generation;
        c->n_points = 0;
        c->last_point = 0;
        c->n_epochs = 0;
    }
    /* every step arrives once, in order, however the reports coalesced */
    for (guint i = 0; i < r->n_points; i++) {
        g_assert_cmpuint(r->points[i].step, ==, c->last_point + 1);
        g_assert_true(isfinite(r->points[i].loss));
        c->last_point = r->points[i].step;
        c->n_points++;
    }
    g_assert_cmpuint(c->last_point, ==, r->step);
    if (r->n_layers > 0) {
        g_assert_cmpint(r->config.classes, ==, 5);
        g_assert_cmpstr(r->config.arch, ==, "resnet20");
        g_assert_nonnull(r->model_path);
        g_assert_cmpint(r->n_train, ==, 50);
    }
    for (guint i = 0; i < r->n_markers; i++) {
        g_assert_cmpuint(r->markers[i].step, <=, r->step);
        g_ptr_array_add(c->markers, g_strdup(r->markers[i].label));
    }
    /* every finished epoch arrives once, in order, with its validation */
    for (guint i = 0; i < r->n_epochs; i++) {
        const ThawEpochPoint *e = &r->epochs[i];
        g_assert_cmpint(e->epoch, ==, c->n_epochs + 1);
        g_assert_cmpfloat(e->val_infer, >=, 0);
        g_assert_cmpfloat(e->val_infer, <=, 1);
        g_assert_cmpfloat(e->val_train, >=, 0);
        g_assert_cmpfloat(e->val_train, <=, 1);
        g_assert_true(isfinite(e->loss) && e->acc >= 0 && e->acc <= 1);
        c->n_epochs++;
    }
    if (r->n_epochs > 0) c->val_reports++;
    if (r->message)
        g_ptr_array_add(c->messages,
                        g_strdup_printf("%s%s", r->message_is_error ? "!" : "", r->message));
    if (c->until && c->until(r, c->until_data)) g_main_loop_quit(c->loop);
}

static gboolean on_deadline(gpointer data)
{
    (void)data;
    g_error("no expected report within %d s", WAIT_S);
    return G_SOURCE_REMOVE;
}

static void wait_until(Ctx *c, gboolean (*until)(ThawReport *, gpointer), gpointer data)
{
    if (c->last && until(c->last, data)) return;
    c->until = until;
    c->until_data = data;
    guint id = g_timeout_add_seconds(WAIT_S, on_deadline, NULL);
    g_main_loop_run(c->loop);
    g_source_remove(id);
    c->until = NULL;
}

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

/* Spins the loop for ms milliseconds. */
static void spin(Ctx *c, guint ms)
{
    g_timeout_add(ms, quit_loop, c->loop);
    g_main_loop_run(c->loop);
}

static gboolean at_state(ThawReport *r, gpointer data)
{
    return r->state == (ThawWorkerState)GPOINTER_TO_INT(data);
}
static gboolean at_step(ThawReport *r, gpointer data)
{
    return r->step >= (guint64)GPOINTER_TO_INT(data);
}
static gboolean paused_at_step(ThawReport *r, gpointer data)
{
    return r->state == THAW_WORKER_PAUSED && r->step == (guint64)GPOINTER_TO_INT(data);
}
static gboolean with_val(ThawReport *r, gpointer data)
{
    (void)data;
    return r->n_epochs > 0;
}

typedef struct {
    Ctx *c;
    const char *label;
    int layer;
} MarkerWait;

static gboolean has_marker(Ctx *c, const char *label)
{
    for (guint i = 0; i < c->markers->len; i++)
        if (strcmp(c->markers->pdata[i], label) == 0) return TRUE;
    return FALSE;
}

static gboolean marker_and_unfrozen(ThawReport *r, gpointer data)
{
    MarkerWait *mw = data;
    if (!has_marker(mw->c, mw->label)) return FALSE;
    return mw->layer < 0 || (r->n_layers > mw->layer && r->trainable[mw->layer]);
}

static void ctx_init(Ctx *c)
{
    memset(c, 0, sizeof *c);
    c->loop = g_main_loop_new(NULL, FALSE);
    c->monotonic = TRUE;
    c->markers = g_ptr_array_new_with_free_func(g_free);
    c->messages = g_ptr_array_new_with_free_func(g_free);
}

static void ctx_clear(Ctx *c)
{
    g_clear_pointer(&c->last, thaw_report_unref);
    g_main_loop_unref(c->loop);
    g_ptr_array_unref(c->markers);
    g_ptr_array_unref(c->messages);
}

static int find_layer(const ThawSetup *s, const char *name)
{
    ThawRun *r = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_run_new(&r, s, NULL, &err), ==, THAW_OK);
    int i = thaw_model_find_layer(thaw_run_model(r), name);
    g_assert_cmpint(i, >, 0);
    g_assert_false(thaw_run_model(r)->layers[i].trainable); /* the base is frozen */
    thaw_run_free(r);
    return i;
}

static gboolean two_messages(ThawReport *r, gpointer data)
{
    (void)r;
    Ctx *c = data;
    g_ptr_array_add(c->messages, NULL);
    g_autofree char *all = g_strjoinv("; ", (char **)c->messages->pdata);
    g_ptr_array_remove_index(c->messages, c->messages->len - 1);
    return strstr(all, "saved '") && strstr(all, "/nonexistent-dir/");
}

static void test_drive(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup(25); /* 50 steps: long enough to act while running */
    int conv = find_layer(s, "conv2_block1_1_conv");
    Ctx c;
    ctx_init(&c);
    ThawWorker *w = thaw_worker_new(s);
    g_signal_connect(w, "report", G_CALLBACK(on_report), &c);

    /* step once */
    wait_until(&c, at_state, GINT_TO_POINTER(THAW_WORKER_PAUSED));
    g_assert_cmpuint(c.last->step, ==, 0);
    g_assert_cmpint(c.last->steps_per_epoch, ==, 2);
    thaw_worker_step(w);
    wait_until(&c, at_step, GINT_TO_POINTER(1));
    g_assert_cmpuint(c.last->step, ==, 1);
    g_assert_true(isfinite(c.last->loss));
    g_assert_nonnull(c.last->bn);
    g_assert_cmpint(c.last->bn->n_bn, ==, 21);
    g_assert_cmpint(c.last->bn->offset[20] + 1, <=, c.last->bn->channels);
    wait_until(&c, paused_at_step, GINT_TO_POINTER(1));

    /* knobs while paused: markers in the acknowledgement */
    thaw_worker_set_preset(w, THAW_PRESET_PYTORCH);
    thaw_worker_set_lr(w, 0.001);
    MarkerWait lrw = {&c, "lr 0.001", -1};
    wait_until(&c, marker_and_unfrozen, &lrw);
    g_assert_true(has_marker(&c, "preset pytorch"));
    g_assert_cmpfloat(c.last->lr, ==, 0.001f);

    /* run, then unfreeze a base layer while running */
    thaw_worker_run(w);
    wait_until(&c, at_step, GINT_TO_POINTER(4));
    g_assert_cmpint(c.last->state, ==, THAW_WORKER_RUNNING);
    thaw_worker_set_trainable(w, conv, TRUE);
    MarkerWait mw = {&c, "unfroze conv2_block1_1_conv", conv};
    wait_until(&c, marker_and_unfrozen, &mw);
    wait_until(&c, with_val, NULL);
    g_assert_cmpint(c.val_reports, >=, 1);

    /* pause: after the acknowledgement the step stays put */
    thaw_worker_pause(w);
    wait_until(&c, at_state, GINT_TO_POINTER(THAW_WORKER_PAUSED));
    guint64 at = c.last->step;
    g_assert_cmpuint(at, <, 50);
    spin(&c, 300);
    g_assert_cmpuint(c.max_step, ==, at);
    g_assert_cmpint(c.last->state, ==, THAW_WORKER_PAUSED);

    /* run to the end */
    thaw_worker_run(w);
    wait_until(&c, at_state, GINT_TO_POINTER(THAW_WORKER_FINISHED));
    g_assert_cmpuint(c.last->step, ==, 50);
    g_assert_cmpint(c.last->epoch, ==, 25);
    g_assert_cmpint(c.n_epochs, ==, 25);
    g_assert_true(c.monotonic);
    g_assert_cmpint(c.val_reports, >=, 1);
    /* every marker arrived exactly once */
    guint n = 0;
    for (guint i = 0; i < c.markers->len; i++)
        n += strcmp(c.markers->pdata[i], "unfroze conv2_block1_1_conv") == 0;
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpuint(c.markers->len, ==, 3);
    g_assert_cmpuint(c.n_points, ==, 50);
    g_assert_cmpfloat(c.last->elapsed, >, 0);

    /* every flag at once: one marker with the caller's label */
    guint8 *all = g_malloc(c.last->n_layers);
    memset(all, 1, c.last->n_layers);
    thaw_worker_set_trainable_all(w, all, c.last->n_layers, "unfroze all");
    MarkerWait aw = {&c, "unfroze all", conv};
    wait_until(&c, marker_and_unfrozen, &aw);
    g_assert_cmpuint(c.markers->len, ==, 4);
    thaw_worker_set_trainable_all(w, all, c.last->n_layers, "unfroze all again"); /* no change */
    g_free(all);
    g_assert_cmpuint(c.last->knob_serial, ==, 4); /* preset, lr, trainable, trainable_all */

    /* save between steps: the outcome arrives as a message, once */
    g_autofree char *dir = g_dir_make_tmp("thaw-worker-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "run.thaw", NULL);
    thaw_worker_save(w, path);
    thaw_worker_save(w, "/nonexistent-dir/run.thaw");
    wait_until(&c, two_messages, &c);
    g_autofree char *saved = g_strdup_printf("saved '%s'", path);
    g_ptr_array_add(c.messages, NULL);
    g_autofree char *all_msgs = g_strjoinv("; ", (char **)c.messages->pdata);
    g_assert_nonnull(strstr(all_msgs, saved));
    g_assert_nonnull(strstr(all_msgs, "/nonexistent-dir/run.thaw"));
    g_assert_nonnull(strchr(all_msgs, '!')); /* the error is flagged */
    thaw_model *back = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_checkpoint_load(&back, path, &err), ==, THAW_OK);
    g_assert_cmpint(back->n_layers, ==, c.last->n_layers);
    thaw_model_free(back);
    g_unlink(path);
    g_rmdir(dir);

    /* reset: step 0, the knobs back to the setup's */
    thaw_worker_reset(w, NULL);
    wait_until(&c, paused_at_step, GINT_TO_POINTER(0));
    g_assert_false(c.last->trainable[conv]);
    g_assert_false(has_marker(&c, "unfroze all again"));
    g_assert_cmpuint(c.last->generation, ==, 2);
    g_assert_cmpuint(c.n_points, ==, 0);
    g_assert_cmpfloat(c.last->lr, ==, (float)s->lr);

    g_object_unref(w);
    ctx_clear(&c);
}

static void test_bad_freeze(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup(2);
    g_assert_true(thaw_setup_set(s, "freeze", "conv2_blok1_1_conv", NULL));
    Ctx c;
    ctx_init(&c);
    ThawWorker *w = thaw_worker_new(s);
    g_signal_connect(w, "report", G_CALLBACK(on_report), &c);
    wait_until(&c, at_state, GINT_TO_POINTER(THAW_WORKER_FAILED));
    g_assert_nonnull(c.last->error);
    g_assert_nonnull(strstr(c.last->error, "did you mean conv2_block1_1_conv"));
    /* commands on a failed worker are harmless */
    thaw_worker_run(w);
    thaw_worker_step(w);
    spin(&c, 100);
    g_assert_cmpint(c.last->state, ==, THAW_WORKER_FAILED);
    g_object_unref(w);
    ctx_clear(&c);
}

static gboolean cancelled(ThawReport *r, gpointer data)
{
    (void)data;
    return r->state == THAW_WORKER_FAILED && r->cancelled;
}

/* A load can be cancelled (between its phases here: reading the model,
 * reading Fashion-MNIST -- several hundred ms -- building the run); the
 * worker then loads again on reset. */
static void test_cancel_load(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup(2);
    Ctx c;
    ctx_init(&c);
    ThawWorker *w = thaw_worker_new(s);
    g_signal_connect(w, "report", G_CALLBACK(on_report), &c);
    thaw_worker_cancel_load(w);
    wait_until(&c, cancelled, NULL);
    g_assert_cmpstr(c.last->error, ==, "loading cancelled");
    g_assert_cmpint(c.last->n_layers, ==, 0);
    thaw_worker_reset(w, NULL);
    wait_until(&c, paused_at_step, GINT_TO_POINTER(0));
    g_assert_false(c.last->cancelled);
    g_assert_cmpint(c.last->n_layers, >, 0);
    g_object_unref(w);
    ctx_clear(&c);
}

static gboolean has_jobs(ThawReport *r, gpointer data)
{
    GPtrArray *jobs = data;
    for (guint i = 0; i < r->n_jobs; i++) {
        ThawJobResult *copy = g_new0(ThawJobResult, 1);
        *copy = *r->jobs[i];
        gsize img = (gsize)copy->h * copy->w * copy->c;
        gsize rows = copy->kind == THAW_JOB_PREDICT ? copy->n : 1;
        copy->error = g_strdup(copy->error);
        copy->pixels = g_memdup2(copy->pixels, rows * img * sizeof(float));
        copy->labels = g_memdup2(copy->labels, rows * sizeof(int32_t));
        copy->probs_train = g_memdup2(copy->probs_train, (gsize)copy->n * copy->classes * 4);
        copy->probs_infer = g_memdup2(copy->probs_infer, rows * copy->classes * 4);
        g_ptr_array_add(jobs, copy);
    }
    return jobs->len >= 3;
}

/* jobs->pdata[0] holds the id waited for; results are appended after it. */
static gboolean has_job_id(ThawReport *r, gpointer data)
{
    GPtrArray *jobs = data;
    for (guint i = 0; i < r->n_jobs; i++)
        if (r->jobs[i]->id == GPOINTER_TO_UINT(jobs->pdata[0])) {
            ThawJobResult *copy = g_new0(ThawJobResult, 1);
            copy->id = r->jobs[i]->id;
            copy->error = g_strdup(r->jobs[i]->error);
            copy->acc_before = r->jobs[i]->acc_before;
            copy->acc_after = r->jobs[i]->acc_after;
            g_ptr_array_add(jobs, copy);
            return TRUE;
        }
    return FALSE;
}

static void job_copy_free(ThawJobResult *j)
{
    if (!j) return;
    g_free(j->error);
    g_free(j->pixels);
    g_free(j->labels);
    g_free(j->probs_train);
    g_free(j->probs_infer);
    g_free(j);
}

/* One-shot jobs: predictions in both modes equal what `thaw-cli compare`
 * computes (thaw_model_predict on the same model, images, batch and
 * dropout seed); the batch-mates experiment changes the training-mode
 * answer with the batch and never the inference-mode one. The pytorch
 * preset keeps a frozen BN in training mode, so the batch matters. */
static void test_jobs(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup(2);
    s->preset = THAW_PRESET_PYTORCH;
    s->dropout = 0; /* the batch alone makes training-mode answers differ */
    Ctx c;
    ctx_init(&c);
    ThawWorker *w = thaw_worker_new(s);
    g_signal_connect(w, "report", G_CALLBACK(on_report), &c);
    wait_until(&c, paused_at_step, GINT_TO_POINTER(0));
    g_assert_cmpstr(c.last->class_names[0], ==, "Sandal");
    g_assert_cmpstr(c.last->class_names[4], ==, "Ankle boot");
    guint id = thaw_worker_predict(w, 5, 30, 10);
    guint b1 = thaw_worker_batchmates(w, 7, 1, 4);
    guint b20 = thaw_worker_batchmates(w, 7, 20, 4);
    g_assert_true(id && b1 == id + 1 && b20 == id + 2);
    GPtrArray *jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_copy_free);
    c.until = NULL;
    wait_until(&c, has_jobs, jobs);
    ThawJobResult *p = jobs->pdata[0], *j1 = jobs->pdata[1], *j20 = jobs->pdata[2];
    g_assert_null(p->error);
    g_assert_cmpuint(p->id, ==, id);
    g_assert_cmpint(p->kind, ==, THAW_JOB_PREDICT);
    g_assert_cmpint(p->first, ==, 5);
    g_assert_cmpint(p->n, ==, 30);
    g_assert_cmpint(p->classes, ==, 5);

    /* the same numbers, computed directly */
    ThawRun *run = NULL;
    thaw_error err;
    g_assert_cmpint(thaw_run_new(&run, s, NULL, &err), ==, THAW_OK);
    const thaw_dataset *v = thaw_run_val_data(run);
    size_t img = (size_t)v->h * v->w * v->c;
    float *pi = g_new(float, 30 * 5), *pt = g_new(float, 30 * 5);
    g_assert_cmpint(
        thaw_model_predict(thaw_run_model(run), v->x + 5 * img, 30, 10, false, 0, pi, &err), ==,
        THAW_OK);
    g_assert_cmpint(
        thaw_model_predict(thaw_run_model(run), v->x + 5 * img, 30, 10, true, s->seed, pt, &err),
        ==, THAW_OK);
    g_assert_cmpmem(p->probs_infer, 30 * 5 * sizeof(float), pi, 30 * 5 * sizeof(float));
    g_assert_cmpmem(p->probs_train, 30 * 5 * sizeof(float), pt, 30 * 5 * sizeof(float));
    g_assert_cmpmem(p->labels, 30 * sizeof(int32_t), v->y + 5, 30 * sizeof(int32_t));
    g_free(pi);
    g_free(pt);
    thaw_run_free(run);

    /* batch-mates: inference identical, training mode depends on the batch */
    g_assert_null(j1->error);
    g_assert_null(j20->error);
    g_assert_cmpint(j1->kind, ==, THAW_JOB_BATCHMATES);
    g_assert_cmpint(j1->n, ==, 4);
    g_assert_cmpmem(j1->probs_infer, 5 * sizeof(float), j20->probs_infer, 5 * sizeof(float));
    double diff = 0, spread20 = 0;
    for (int k = 0; k < 5; k++) {
        diff += fabs(j1->probs_train[k] - j20->probs_train[k]);
        spread20 += fabs(j20->probs_train[k] - j20->probs_train[5 + k]);
    }
    g_test_message("batch-mates: |p(B=1) - p(B=20)| = %.4f, spread between two B=20 batches %.4f",
                   diff, spread20);
    g_assert_cmpfloat(diff, >, 1e-3);
    g_assert_cmpfloat(spread20, >, 0); /* different mates, different answers */
    /* B = 1 in training mode: every repetition is the same one-image batch */
    g_assert_cmpmem(j1->probs_train, 5 * sizeof(float), j1->probs_train + 5, 5 * sizeof(float));

    /* dropout job without any Dropout layer: every draw is the same */
    g_assert_nonnull(c.last->bn_reference);
    g_assert_cmpint(c.last->bn_reference->n_bn, ==, 21);
    g_assert_true(isnan(c.last->bn_reference->batch_mean[0]));
    guint d = thaw_worker_dropout(w, 7, 20, 3);
    g_ptr_array_set_size(jobs, 0);
    g_ptr_array_add(jobs, GUINT_TO_POINTER(d));
    wait_until(&c, has_job_id, jobs);
    jobs->pdata[0] = NULL;

    /* re-estimation: two accuracies, a marker, new moving statistics */
    guint re = thaw_worker_reestimate(w);
    g_ptr_array_set_size(jobs, 0);
    g_ptr_array_add(jobs, GUINT_TO_POINTER(re));
    wait_until(&c, has_job_id, jobs);
    ThawJobResult *rj = jobs->pdata[1];
    g_assert_null(rj->error);
    g_assert_true(rj->acc_before >= 0 && rj->acc_before <= 1);
    g_assert_true(rj->acc_after >= 0 && rj->acc_after <= 1);
    g_test_message("re-estimated: inference accuracy %.3f -> %.3f", rj->acc_before, rj->acc_after);
    jobs->pdata[0] = NULL;
    MarkerWait rw = {&c, "re-estimated BN statistics", -1};
    wait_until(&c, marker_and_unfrozen, &rw);
    g_assert_nonnull(c.last->bn);
    double moved = 0;
    for (int i = 0; i < c.last->bn->channels; i++)
        moved += fabs(c.last->bn->moving_mean[i] - c.last->bn_reference->moving_mean[i]);
    g_assert_cmpfloat(moved, >, 0);

    /* a batch larger than the validation set is an error, not a crash */
    guint bad = thaw_worker_batchmates(w, 0, 1000, 2);
    g_ptr_array_set_size(jobs, 0);
    g_ptr_array_add(jobs, GUINT_TO_POINTER(bad)); /* slot 0: the id waited for */
    wait_until(&c, has_job_id, jobs);
    ThawJobResult *e = jobs->pdata[jobs->len - 1];
    g_assert_cmpuint(e->id, ==, bad);
    g_assert_nonnull(e->error);
    g_test_message("%s", e->error);
    jobs->pdata[0] = NULL;
    g_ptr_array_unref(jobs);
    g_object_unref(w);
    ctx_clear(&c);
}

static void test_dispose_running(void)
{
    if (!have_data()) return;
    g_autoptr(ThawSetup) s = small_setup(1000);
    Ctx c;
    ctx_init(&c);
    ThawWorker *w = thaw_worker_new(s);
    g_signal_connect(w, "report", G_CALLBACK(on_report), &c);
    thaw_worker_run(w);
    wait_until(&c, at_step, GINT_TO_POINTER(3));
    guint seen = c.n_reports;
    gint64 t0 = g_get_monotonic_time();
    g_object_unref(w);
    gint64 dt = g_get_monotonic_time() - t0;
    g_test_message("dispose took %.1f ms", dt / 1000.0);
    g_assert_cmpint(dt, <, 2 * G_USEC_PER_SEC);
    spin(&c, 100); /* an idle callback may still be in flight: it must do nothing */
    g_assert_cmpuint(c.n_reports, ==, seen);
    ctx_clear(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/drive", test_drive);
    g_test_add_func("/worker/bad-freeze", test_bad_freeze);
    g_test_add_func("/worker/cancel-load", test_cancel_load);
    g_test_add_func("/worker/jobs", test_jobs);
    g_test_add_func("/worker/dispose-running", test_dispose_running);
    return g_test_run();
}
