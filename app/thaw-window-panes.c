/* ThawWindow's panes beside the charts: BatchNorm, Predictions (with the
 * batch-mates and dropout experiments), Lessons and Code. They show what
 * the worker's one-shot jobs return and ask for new ones; see
 * thaw-window.c for the reports they are fed from. */
#include "thaw-window-private.h"

#include <string.h>

#include "demo.h"
#include "export-setup.h"

static void show_job(ThawWindow *self, const ThawReport *r, const ThawJobResult *j);

/* ---- the Code pane ------------------------------------------------------ */

static void make_code(ThawWindow *self)
{
    const ThawReport *r = self->last;
    if (!r || r->n_layers == 0) {
        thaw_code_pane_set_code(self->code_pane, NULL,
                                "The script appears once the model is loaded.");
        return;
    }
    ThawExportFramework fw = thaw_code_pane_get_framework(self->code_pane) == THAW_CODE_PYTORCH
                                 ? THAW_EXPORT_PYTORCH
                                 : THAW_EXPORT_KERAS;
    g_autoptr(GError) error = NULL;
    g_autofree char *code = thaw_export_setup_code(self->setup, &r->config, r->model_path,
                                                   r->config.classes, fw, &error);
    thaw_code_pane_set_code(self->code_pane, code, code ? NULL : error->message);
    self->code_stale = FALSE;
}

void thaw_window_setup_changed(ThawWindow *self)
{
    self->code_stale = TRUE;
    if (g_strcmp0(gtk_stack_get_visible_child_name(self->stack), "code") == 0) make_code(self);
}

/* ---- the Predictions pane ------------------------------------------------ */

/* Asks the worker for predictions of the first validation images in both
 * modes (training mode in the setup's batches, as `thaw-cli compare`). */
static void request_predictions(ThawWindow *self)
{
    if (!self->last || self->last->n_layers == 0 || self->predict_job) return;
    self->predict_job = thaw_worker_predict(self->worker, 0, THAW_WINDOW_PREDICT_IMAGES, 0);
    thaw_window_show_message(self, "predicting the validation images in both modes…");
}

static void on_predict_again(ThawPredictionsPane *pane, ThawWindow *self)
{
    request_predictions(self);
}

static void show_job(ThawWindow *self, const ThawReport *r, const ThawJobResult *j)
{
    if ((j->kind == THAW_JOB_BATCHMATES || j->kind == THAW_JOB_DROPOUT) && j->id == self->exp_job) {
        self->exp_job = 0;
        if (j->error) {
            thaw_window_show_error(self, j->error);
            return;
        }
        const char *const *names = (const char *const *)r->class_names;
        const char *cls =
            names && j->labels[0] >= 0 && j->labels[0] < j->classes ? names[j->labels[0]] : "?";
        g_autofree char *title =
            j->kind == THAW_JOB_BATCHMATES
                ? g_strdup_printf("Image %d (%s) in %d random batches of %d: training=True answers "
                                  "vs its one training=False answer",
                                  j->first, cls, j->n, j->batch)
                : g_strdup_printf("Image %d (%s) in one batch of %d, %d dropout draws", j->first,
                                  cls, j->batch, j->n);
        thaw_strip_plot_set_data(self->strip_plot, j->classes, names, j->n, j->probs_train,
                                 j->probs_infer, j->labels[0], title);
        return;
    }
    if (j->kind == THAW_JOB_REESTIMATE && j->id == self->reestimate_job) {
        self->reestimate_job = 0;
        thaw_bn_pane_set_busy(self->bn_pane, FALSE);
        if (j->error)
            thaw_window_show_error(self, j->error);
        else
            thaw_bn_pane_set_reestimate_result(self->bn_pane, j->acc_before, j->acc_after);
        return;
    }
    if (j->kind != THAW_JOB_PREDICT || j->id != self->predict_job) return;
    self->predict_job = 0;
    if (j->error) {
        thaw_window_show_error(self, j->error);
        return;
    }
    thaw_predictions_pane_set_data(self->predictions_pane, j->n, j->h, j->w, j->c, j->pixels,
                                   j->labels, j->classes,
                                   r->class_names ? (const char *const *)r->class_names : NULL,
                                   j->probs_train, j->probs_infer);
    self->predicted_step = (guint)r->step + 1;
    g_autofree char *msg = g_strdup_printf("predictions of step %" G_GUINT64_FORMAT, r->step);
    thaw_window_show_message(self, msg);
}

/* ---- the Lesson pane ------------------------------------------------------- */

static void on_demo_selected(ThawLessonPane *pane, const char *name, ThawWindow *self)
{
    const ThawDemo *d = thaw_demo_find(name);
    if (!d) return;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = thaw_demo_lesson(d, &error);
    if (!text)
        text = g_strdup_printf("# %s\n\nThe lesson cannot be read: %s", d->title, error->message);
    thaw_lesson_pane_set_lesson(pane, text);
    thaw_lesson_pane_set_result(
        pane, self->measure_results ? g_hash_table_lookup(self->measure_results, name) : NULL);
}

/* "Set up this demo": its setup file, through the setup chooser's action
 * (so a file that does not load ends in the banner like any other). */
static void on_demo_setup(ThawLessonPane *pane, const char *name, ThawWindow *self)
{
    g_autofree char *id = g_strdup_printf("demo-%s", name);
    g_action_group_change_action_state(G_ACTION_GROUP(self), "setup", g_variant_new_string(id));
    if (g_strcmp0(self->setup_id, id) == 0) thaw_window_show_pane(self, "training");
}

/* "Measure": the demo's measurement (what `thaw-cli demo NAME` runs) on a
 * thread of its own, beside the worker (paused if it was training);
 * progress lines and then the numbers and the verdict in the pane. One at a
 * time; Cancel (or closing the window) stops it before its next training
 * step. The measurement knows the window only through a weak reference, so
 * a closed window goes away at once; the application is held until the
 * thread has noticed, so quitting waits for it. Shared between the thread
 * and the main loop by reference count; freed on the main thread. */
typedef struct {
    const ThawDemo *demo;
    ThawSetup *setup;
    GApplication *app; /* held until measure_done (NULL without one) */
    GWeakRef window;
    ThawDemoResult res;
} Measurement;

static gint measurements_running; /* atomic: threads that have not finished */

int thaw_window_measurements_running(void)
{
    return g_atomic_int_get(&measurements_running);
}

/* May run on the measuring thread (GTask drops its last reference on
 * whichever thread is last): nothing here needs the main thread. */
static void measurement_clear(gpointer p)
{
    Measurement *m = p;
    thaw_setup_free(m->setup);
    thaw_demo_result_clear(&m->res);
    g_weak_ref_clear(&m->window);
    g_warn_if_fail(m->app == NULL); /* released by measure_done */
}

static void measurement_unref(gpointer p)
{
    g_atomic_rc_box_release_full(p, measurement_clear);
}

/* The window, if it is still open (a reference), on the main thread. */
static ThawWindow *measurement_window(Measurement *m)
{
    ThawWindow *self = g_weak_ref_get(&m->window);
    if (self && self->disposed) g_clear_object(&self);
    return self;
}

typedef struct {
    Measurement *m; /* a reference */
    char *text;
} MeasureProgress;

static gboolean show_measure_progress(gpointer data)
{
    MeasureProgress *p = data;
    ThawWindow *self = measurement_window(p->m);
    if (self && self->measure_cancel) thaw_lesson_pane_set_progress(self->lesson_pane, p->text);
    if (self) g_object_unref(self);
    measurement_unref(p->m);
    g_free(p->text);
    g_free(p);
    return G_SOURCE_REMOVE;
}

/* On the measuring thread: hand the line to the main loop. */
static void on_measure_progress(gpointer ctx, const char *what)
{
    MeasureProgress *p = g_new(MeasureProgress, 1);
    p->m = g_atomic_rc_box_acquire(ctx);
    p->text = g_strdup_printf("%s…", what);
    g_idle_add(show_measure_progress, p);
}

static void measure_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Measurement *m = data;
    GError *error = NULL;
    gboolean ok = thaw_demo_run(m->demo, m->setup, &m->res, on_measure_progress, m, cancel, &error);
    /* before the result can reach the main loop */
    g_atomic_int_add(&measurements_running, -1);
    if (ok)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* The result as markup: the verdict, then every number as `thaw-cli demo` prints it. */
static char *result_markup(const ThawDemo *d, const ThawDemoResult *res)
{
    GString *s = g_string_new(NULL);
    /* Verdicts read "holds: why" or "does not hold: why" (after "the claim"). */
    const char *verdict = res->verdict ? res->verdict : "";
    const char *why = strchr(verdict, ':');
    why = why ? why + 1 : verdict;
    while (*why == ' ') why++;
    g_autofree char *text = g_markup_escape_text(why, -1);
    g_string_append_printf(s, "<b>%s</b> %s\n",
                           res->holds ? "✔ The claim holds:" : "✘ The claim does not hold:", text);
    for (guint i = 0; i < res->numbers->len; i++) {
        const ThawDemoNumber *n = res->numbers->pdata[i];
        g_autofree char *label = g_markup_escape_text(n->label, -1);
        g_autofree char *unit = g_markup_escape_text(n->unit, -1);
        g_string_append_printf(s, "\n%s: <b>%.4g</b>%s%s", label, n->value, unit[0] ? " " : "",
                               unit);
    }
    g_string_append_printf(s,
                           "\n\n<small>Measured here on the demo's setup (demo-%s.ini), as "
                           "<tt>thaw-cli demo %s</tt> does.</small>",
                           d->name, d->name);
    return g_string_free(s, FALSE);
}

static void measure_done(GObject *source, GAsyncResult *result, gpointer data)
{
    GTask *task = G_TASK(result);
    Measurement *m = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    gboolean ok = g_task_propagate_boolean(task, &error);
    if (m->app) { /* on the main thread, as GApplication wants */
        g_application_release(m->app);
        g_clear_object(&m->app);
    }
    g_autoptr(ThawWindow) self = measurement_window(m);
    if (!self) return;
    g_clear_object(&self->measure_cancel);
    char *markup;
    if (ok)
        markup = result_markup(m->demo, &m->res);
    else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        markup = g_strdup("Measurement cancelled.");
    else {
        g_autofree char *msg = g_markup_escape_text(error->message, -1);
        markup = g_strdup_printf("<b>The demo could not run:</b> %s", msg);
    }
    g_hash_table_replace(self->measure_results, g_strdup(m->demo->name), markup);
    thaw_lesson_pane_set_progress(self->lesson_pane, NULL);
    if (g_strcmp0(thaw_lesson_pane_get_selected(self->lesson_pane), m->demo->name) == 0)
        thaw_lesson_pane_set_result(self->lesson_pane, markup);
}

static void on_measure_requested(ThawLessonPane *pane, const char *name, ThawWindow *self)
{
    const ThawDemo *d = thaw_demo_find(name);
    if (!d || self->measure_cancel) return;
    g_autofree char *path = thaw_demo_setup_path(d);
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) error = NULL;
    if (!thaw_setup_load_file(s, path, &error) || !thaw_setup_validate(s, &error)) {
        g_autofree char *msg = g_markup_escape_text(error->message, -1);
        thaw_lesson_pane_set_result(pane, msg);
        return;
    }
    Measurement *m = g_atomic_rc_box_new0(Measurement);
    g_atomic_int_inc(&measurements_running);
    m->demo = d;
    m->setup = g_steal_pointer(&s);
    g_weak_ref_init(&m->window, self);
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));
    if (app) { /* none in the window tests */
        m->app = G_APPLICATION(g_object_ref(app));
        g_application_hold(m->app);
    }
    self->measure_cancel = g_cancellable_new();
    GTask *task = g_task_new(NULL, self->measure_cancel, measure_done, NULL);
    g_task_set_task_data(task, m, measurement_unref);
    g_task_set_name(task, "thaw demo measurement");
    thaw_lesson_pane_set_result(pane, NULL);
    g_hash_table_remove(self->measure_results, name);
    thaw_lesson_pane_set_progress(pane, "Preparing…");
    /* Both would share the cores: the demo's timings would be wrong and
     * training would crawl. Run goes on working. */
    if (self->last && self->last->state == THAW_WORKER_RUNNING) {
        thaw_worker_pause(self->worker);
        thaw_window_show_message(self, "training paused while the demo is measured");
    }
    g_task_run_in_thread(task, measure_thread);
    g_object_unref(task);
}

static void on_measure_cancelled(ThawLessonPane *pane, ThawWindow *self)
{
    if (self->measure_cancel) {
        g_cancellable_cancel(self->measure_cancel);
        thaw_lesson_pane_set_progress(pane, "Stopping after the current step…");
    }
}

void thaw_window_panes_dispose(ThawWindow *self)
{
    if (self->measure_cancel) g_cancellable_cancel(self->measure_cancel);
    g_clear_object(&self->measure_cancel);
    g_clear_pointer(&self->measure_results, g_hash_table_unref);
}

static void setup_lessons(ThawWindow *self)
{
    self->measure_results = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    size_t n;
    const ThawDemo *d = thaw_demos(&n);
    g_autofree const char **names = g_new(const char *, n + 1);
    g_autofree const char **titles = g_new(const char *, n + 1);
    for (size_t i = 0; i < n; i++) names[i] = d[i].name, titles[i] = d[i].title;
    g_signal_connect(self->lesson_pane, "demo-selected", G_CALLBACK(on_demo_selected), self);
    g_signal_connect(self->lesson_pane, "setup-requested", G_CALLBACK(on_demo_setup), self);
    g_signal_connect(self->lesson_pane, "measure-requested", G_CALLBACK(on_measure_requested),
                     self);
    g_signal_connect(self->lesson_pane, "measure-cancelled", G_CALLBACK(on_measure_cancelled),
                     self);
    thaw_lesson_pane_set_demos(self->lesson_pane, (int)n, names, titles);
}

/* ---- the BatchNorm pane ---------------------------------------------------- */

/* A new model: its BN layers and their pretrained statistics. */
static void bn_pane_new_model(ThawWindow *self, const ThawReport *r)
{
    const ThawBnStats *ref = r->bn_reference;
    if (!ref || !self->shadow) {
        thaw_bn_pane_set_layers(self->bn_pane, 0, NULL, NULL);
        return;
    }
    g_autofree const char **names = g_new(const char *, ref->n_bn + 1);
    g_autofree int *channels = g_new(int, ref->n_bn + 1);
    for (int j = 0; j < ref->n_bn; j++) {
        names[j] = self->shadow->layers[ref->layer[j]].name;
        channels[j] = self->shadow->layers[ref->layer[j]].oc;
    }
    thaw_bn_pane_set_layers(self->bn_pane, ref->n_bn, names, channels);
    thaw_bn_pane_set_reference(self->bn_pane, ref->moving_mean, ref->moving_var);
}

/* A BN layer picked in the tree is the BatchNorm pane's layer too. */
static void on_tree_layer(ThawModelPane *pane, int layer, ThawWindow *self)
{
    const ThawReport *r = self->last;
    if (!r || !r->bn_reference) return;
    for (int j = 0; j < r->bn_reference->n_bn; j++)
        if (r->bn_reference->layer[j] == layer) thaw_bn_pane_select(self->bn_pane, j);
}

static void on_reestimate(ThawBnPane *pane, ThawWindow *self)
{
    if (self->reestimate_job || !self->last || self->last->n_layers == 0) return;
    self->reestimate_job = thaw_worker_reestimate(self->worker);
    thaw_bn_pane_set_busy(pane, TRUE);
    thaw_window_show_message(self,
                             "re-estimating the BatchNorm statistics on the training images…");
}

void thaw_window_study_image(ThawWindow *self, int image, gboolean dropout)
{
    if (!self->last || self->last->n_layers == 0 || image < 0) return;
    self->exp_image = image;
    int batch = gtk_spin_button_get_value_as_int(self->exp_batch);
    int passes = gtk_spin_button_get_value_as_int(self->exp_passes);
    self->exp_job = dropout ? thaw_worker_dropout(self->worker, image, batch, passes)
                            : thaw_worker_batchmates(self->worker, image, batch, passes);
    g_autofree char *t = g_strdup_printf("Image %d", image);
    gtk_label_set_text(self->exp_label, t);
}

static void on_image_activated(ThawPredictionsPane *pane, int index, ThawWindow *self)
{
    thaw_window_study_image(self, index, FALSE);
}

static void on_pane_shown(GtkStack *stack, GParamSpec *pspec, ThawWindow *self)
{
    const char *name = gtk_stack_get_visible_child_name(stack);
    if (name) thaw_window_set_action_state(self, "pane", g_variant_new_string(name));
    if (self->code_stale && g_strcmp0(name, "code") == 0) make_code(self);
    /* Fresh predictions when the pane is opened on a model that moved on. */
    if (g_strcmp0(name, "predictions") == 0 && self->last &&
        self->predicted_step != (guint)self->last->step + 1)
        request_predictions(self);
}

static void on_framework(ThawCodePane *pane, GParamSpec *pspec, ThawWindow *self)
{
    make_code(self);
}

static void on_save_code(ThawCodePane *pane, ThawWindow *self)
{
    gboolean torch = thaw_code_pane_get_framework(pane) == THAW_CODE_PYTORCH;
    g_action_group_activate_action(G_ACTION_GROUP(self), "export-code",
                                   g_variant_new_string(torch ? "pytorch" : "keras"));
}

void thaw_window_show_pane(ThawWindow *self, const char *name)
{
    if (gtk_stack_get_child_by_name(self->stack, name))
        gtk_stack_set_visible_child_name(self->stack, name);
}

/* ---- what thaw-window.c calls ------------------------------------------- */

void thaw_window_panes_new_generation(ThawWindow *self)
{
    /* results about another model are not worth showing */
    thaw_predictions_pane_clear(self->predictions_pane);
    self->predict_job = 0;
    self->predicted_step = 0;
    thaw_bn_pane_set_layers(self->bn_pane, 0, NULL, NULL);
    thaw_strip_plot_set_data(self->strip_plot, 0, NULL, 0, NULL, NULL, -1, NULL);
    self->exp_job = 0;
    self->exp_image = -1;
    if (self->reestimate_job) thaw_bn_pane_set_busy(self->bn_pane, FALSE);
    self->reestimate_job = 0;
}

void thaw_window_panes_new_model(ThawWindow *self, const ThawReport *r)
{
    bn_pane_new_model(self, r);
}

void thaw_window_panes_report(ThawWindow *self, const ThawReport *r, const ThawReport *prev)
{
    /* BN statistics: one drift column per new snapshot (a step, or a
     * re-estimation), however many steps a coalesced report covers. */
    if (r->bn && (!prev || prev->bn != r->bn) && thaw_bn_pane_get_n_layers(self->bn_pane) > 0)
        thaw_bn_pane_push(self->bn_pane, r->bn->step, r->bn->batch_mean, r->bn->batch_var,
                          r->bn->moving_mean, r->bn->moving_var);
    for (guint i = 0; i < r->n_jobs; i++) show_job(self, r, r->jobs[i]);
}

static void action_batchmates(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    thaw_window_study_image(self, self->exp_image, FALSE);
}

static void action_dropout_draws(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    thaw_window_study_image(self, self->exp_image, TRUE);
}

static void action_study_image(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_window_study_image(data, g_variant_get_int32(p), FALSE);
}

static void change_pane(GSimpleAction *a, GVariant *value, gpointer data)
{
    ThawWindow *self = data;
    const char *name = g_variant_get_string(value, NULL);
    if (!gtk_stack_get_child_by_name(self->stack, name)) return;
    g_simple_action_set_state(a, value);
    gtk_stack_set_visible_child_name(self->stack, name);
}

/* win.lesson (s): the Lessons pane on demo s; win.measure-demo: measure the
 * demo shown there; win.cancel-measure. */
static void action_lesson(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    const char *name = g_variant_get_string(p, NULL);
    if (!thaw_demo_find(name)) return;
    thaw_lesson_pane_select(self->lesson_pane, name);
    thaw_window_show_pane(self, "lesson");
}

static void action_measure_demo(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    const char *name = thaw_lesson_pane_get_selected(self->lesson_pane);
    if (name) on_measure_requested(self->lesson_pane, name, self);
}

static void action_cancel_measure(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    on_measure_cancelled(self->lesson_pane, self);
}

static const GActionEntry pane_entries[] = {
    {.name = "lesson", .parameter_type = "s", .activate = action_lesson},
    {.name = "measure-demo", .activate = action_measure_demo},
    {.name = "cancel-measure", .activate = action_cancel_measure},
    {.name = "pane", .parameter_type = "s", .state = "'training'", .change_state = change_pane},
    {.name = "batchmates", .activate = action_batchmates},
    {.name = "dropout-draws", .activate = action_dropout_draws},
    {.name = "study-image", .parameter_type = "i", .activate = action_study_image},
};

void thaw_window_panes_setup(ThawWindow *self)
{
    g_action_map_add_action_entries(G_ACTION_MAP(self), pane_entries, G_N_ELEMENTS(pane_entries),
                                    self);
    g_signal_connect(self->stack, "notify::visible-child-name", G_CALLBACK(on_pane_shown), self);
    g_signal_connect(self->code_pane, "notify::framework", G_CALLBACK(on_framework), self);
    g_signal_connect(self->code_pane, "save-requested", G_CALLBACK(on_save_code), self);
    g_signal_connect(self->predictions_pane, "refresh-requested", G_CALLBACK(on_predict_again),
                     self);
    g_signal_connect(self->bn_pane, "reestimate-requested", G_CALLBACK(on_reestimate), self);
    g_signal_connect(self->model_pane, "layer-selected", G_CALLBACK(on_tree_layer), self);
    g_signal_connect(self->predictions_pane, "image-activated", G_CALLBACK(on_image_activated),
                     self);
    self->exp_image = -1;
    self->code_stale = TRUE;
    setup_lessons(self);
}
