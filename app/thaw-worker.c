/* The engine worker: see thaw-worker.h.
 *
 * Threads and locks:
 *  - Everything about the run (ThawRun, the model, the step report, the
 *    command state, the markers not yet published) belongs to the worker
 *    thread alone; the main thread never touches it.
 *  - Commands reach it through `queue` (a GAsyncQueue, its own lock).
 *  - Reports reach the main context through a Channel: `lock` guards
 *    `pending` (the latest unpublished report), `idle_scheduled` (one idle
 *    source in flight at most) and `owner` (the worker, cleared on dispose).
 *    The channel is refcounted so that an idle source that outlives the
 *    worker finds `owner` NULL and drops its report. */
#include "thaw-worker.h"

#include <math.h>
#include <string.h>

#include "run.h"

/* ---- reports ---------------------------------------------------------- */

static void bn_stats_clear(ThawBnStats *b)
{
    g_free(b->layer);
    g_free(b->offset);
    g_free(b->batch_mean);
    g_free(b->batch_var);
    g_free(b->moving_mean);
    g_free(b->moving_var);
}

/* A snapshot in the layout of rep (which BN layers, where their channels
 * start); the four arrays allocated, not filled. */
static ThawBnStats *bn_stats_alloc(const thaw_step_report *rep, guint64 step)
{
    ThawBnStats *b = g_atomic_rc_box_new0(ThawBnStats);
    b->step = step;
    b->n_bn = rep->n_bn;
    b->channels = rep->bn_channels;
    b->layer = g_memdup2(rep->bn_layer, (gsize)rep->n_bn * sizeof(int));
    b->offset = g_memdup2(rep->bn_offset, (gsize)rep->n_bn * sizeof(int));
    gsize cb = (gsize)rep->bn_channels * sizeof(float) + 1;
    b->batch_mean = g_malloc(cb);
    b->batch_var = g_malloc(cb);
    b->moving_mean = g_malloc(cb);
    b->moving_var = g_malloc(cb);
    return b;
}

/* The moving statistics in the model now (batch statistics: those of prev
 * when given, else NaN). */
static ThawBnStats *bn_stats_from_model(const thaw_model *m, const thaw_step_report *rep,
                                        const ThawBnStats *prev, guint64 step)
{
    ThawBnStats *b = bn_stats_alloc(rep, step);
    for (int i = 0; i < rep->bn_channels; i++) {
        b->batch_mean[i] = prev ? prev->batch_mean[i] : NAN;
        b->batch_var[i] = prev ? prev->batch_var[i] : NAN;
    }
    for (int j = 0; j < rep->n_bn; j++) {
        const thaw_layer *l = &m->layers[rep->bn_layer[j]];
        size_t c = (size_t)l->oc, off = (size_t)rep->bn_offset[j];
        memcpy(b->moving_mean + off, thaw_param_data(m, &m->params[l->first_param + 2]),
               c * sizeof(float));
        memcpy(b->moving_var + off, thaw_param_data(m, &m->params[l->first_param + 3]),
               c * sizeof(float));
    }
    return b;
}

/* The statistics of the step rep reports. */
static ThawBnStats *bn_stats_copy(const thaw_step_report *rep, guint64 step)
{
    ThawBnStats *b = bn_stats_alloc(rep, step);
    gsize cb = (gsize)rep->bn_channels * sizeof(float);
    memcpy(b->batch_mean, rep->batch_mean, cb);
    memcpy(b->batch_var, rep->batch_var, cb);
    memcpy(b->moving_mean, rep->moving_mean, cb);
    memcpy(b->moving_var, rep->moving_var, cb);
    /* A layer on its moving statistics computed no batch statistics. */
    for (int j = 0; j < rep->n_bn; j++)
        if (!rep->bn_used_batch[j]) {
            int c =
                (j + 1 < rep->n_bn ? rep->bn_offset[j + 1] : rep->bn_channels) - rep->bn_offset[j];
            for (int k = 0; k < c; k++)
                b->batch_mean[rep->bn_offset[j] + k] = b->batch_var[rep->bn_offset[j] + k] = NAN;
        }
    return b;
}

static void bn_stats_unref(ThawBnStats *b)
{
    if (b) g_atomic_rc_box_release_full(b, (GDestroyNotify)bn_stats_clear);
}

static void job_free(ThawJobResult *j)
{
    g_free(j->error);
    g_free(j->pixels);
    g_free(j->labels);
    g_free(j->probs_train);
    g_free(j->probs_infer);
    g_free(j);
}

static void report_clear(ThawReport *r)
{
    for (guint i = 0; i < r->n_jobs; i++) job_free(r->jobs[i]);
    g_free(r->jobs);
    g_strfreev(r->class_names);
    for (guint i = 0; i < r->n_markers; i++) g_free(r->markers[i].label);
    g_free(r->markers);
    g_free(r->points);
    g_free(r->epochs);
    g_free(r->trainable);
    bn_stats_unref(r->bn);
    bn_stats_unref(r->bn_reference);
    g_free(r->error);
    g_free(r->load_what);
    g_free(r->message);
    g_free(r->model_path);
    g_free(r->data_description);
}

ThawReport *thaw_report_ref(ThawReport *r)
{
    return g_atomic_rc_box_acquire(r);
}

void thaw_report_unref(ThawReport *r)
{
    g_atomic_rc_box_release_full(r, (GDestroyNotify)report_clear);
}

G_DEFINE_BOXED_TYPE(ThawReport, thaw_report, thaw_report_ref, thaw_report_unref)

const char *thaw_worker_state_to_string(ThawWorkerState state)
{
    switch (state) {
    case THAW_WORKER_LOADING:
        return "loading";
    case THAW_WORKER_PAUSED:
        return "paused";
    case THAW_WORKER_RUNNING:
        return "running";
    case THAW_WORKER_FINISHED:
        return "finished";
    case THAW_WORKER_FAILED:
        return "failed";
    }
    return "?";
}

/* ---- the channel to the main context ---------------------------------- */

typedef struct {
    GMutex lock;
    ThawReport *pending; /* latest unpublished report */
    gboolean idle_scheduled;
    ThawWorker *owner; /* NULL once disposed */
    GMainContext *context;
} Channel;

static void channel_clear(Channel *c)
{
    g_mutex_clear(&c->lock);
    if (c->pending) thaw_report_unref(c->pending);
    g_main_context_unref(c->context);
}

static Channel *channel_ref(Channel *c)
{
    return g_atomic_rc_box_acquire(c);
}

static void channel_unref(Channel *c)
{
    g_atomic_rc_box_release_full(c, (GDestroyNotify)channel_clear);
}

/* ---- the object ------------------------------------------------------- */

typedef enum {
    CMD_RUN,
    CMD_PAUSE,
    CMD_STEP,
    CMD_RESET,
    /* the knob commands, contiguous: knob_serial counts them */
    CMD_SET_TRAINABLE,
    CMD_SET_TRAINABLE_ALL,
    CMD_SET_PRESET,
    CMD_SET_LR,
    CMD_SET_BASE_TRAINING,
    CMD_SAVE,
    CMD_PREDICT,
    CMD_BATCHMATES,
    CMD_DROPOUT,
    CMD_REESTIMATE,
    CMD_QUIT,
} CmdKind;

typedef struct {
    CmdKind kind;
    int i;
    gboolean b;
    double f;
    ThawSetup *setup; /* CMD_RESET, may be NULL */
    guint8 *flags;    /* CMD_SET_TRAINABLE_ALL: i of them */
    int args[3];      /* jobs: first/image, count/batch, batch/reps */
    guint id;         /* jobs */
    char *label;      /* CMD_SET_TRAINABLE_ALL (may be NULL), CMD_SAVE: the path */
} Cmd;

static void cmd_free(Cmd *c)
{
    if (c->setup) thaw_setup_free(c->setup);
    g_free(c->flags);
    g_free(c->label);
    g_free(c);
}

struct _ThawWorker {
    GObject parent_instance;

    GAsyncQueue *queue; /* of Cmd */
    GThread *thread;
    Channel *channel;
    gint cancel_load; /* atomic: set from any thread, read by the load's progress */

    /* worker thread only, from here on */
    ThawSetup *setup;
    ThawRun *run;
    thaw_step_report *rep;
    ThawWorkerState state;
    char *error;
    guint64 steps;
    int steps_to_do; /* pending `step` commands */
    GArray *markers; /* of ThawMarker, not yet put in a report */
    GArray *points;  /* of ThawStepPoint, likewise */
    GArray *epochs;  /* of ThawEpochPoint, likewise */
    guint generation;
    double elapsed;     /* seconds of training since the load */
    gboolean cancelled; /* the last load was cancelled */
    double load_fraction;
    char *load_what;
    gint64 last_progress_us;   /* when the last loading report went out */
    ThawBnStats *bn;           /* the last step's */
    ThawBnStats *bn_reference; /* as loaded */
    double last_loss, last_acc;
    guint64 knob_serial;
    char *message;
    gboolean message_is_error;
    GPtrArray *jobs; /* of ThawJobResult, not yet put in a report */
    guint next_job;  /* main thread: the last id handed out */
};

G_DEFINE_FINAL_TYPE(ThawWorker, thaw_worker, G_TYPE_OBJECT)

enum { SIGNAL_REPORT, N_SIGNALS };
static guint signals[N_SIGNALS];

static gboolean deliver_idle(gpointer data)
{
    Channel *c = data;
    g_assert(g_main_context_is_owner(c->context)); /* never on the worker thread */
    g_mutex_lock(&c->lock);
    ThawReport *r = g_steal_pointer(&c->pending);
    c->idle_scheduled = FALSE;
    ThawWorker *w = c->owner ? g_object_ref(c->owner) : NULL;
    g_mutex_unlock(&c->lock);
    if (w && r) g_signal_emit(w, signals[SIGNAL_REPORT], 0, r);
    if (r) thaw_report_unref(r);
    if (w) g_object_unref(w);
    return G_SOURCE_REMOVE;
}

/* Appends msg (taken) to *text, "; "-separated; an error makes *is_error. */
static void add_message(char **text, gboolean *is_error, char *msg, gboolean error)
{
    if (*text) {
        char *both = g_strconcat(*text, "; ", msg, NULL);
        g_free(*text);
        g_free(msg);
        *text = both;
    } else {
        *text = msg;
    }
    *is_error = *is_error || error;
}

/* Worker thread: publishes r (takes it), merging a report the main loop has
 * not taken yet: its markers go first, its validation is kept. */
/* *items (n of them, `size` bytes each) becomes old's items followed by its
 * own: what a report that replaces a pending one takes over from it. */
static void prepend_items(gpointer *items, guint *n, gconstpointer old, guint old_n, size_t size)
{
    if (old_n == 0) return;
    char *all = g_malloc((old_n + *n) * size);
    memcpy(all, old, old_n * size);
    if (*n) memcpy(all + old_n * size, *items, *n * size);
    g_free(*items);
    *items = all;
    *n += old_n;
}

/* TRUE while a posted report has not been taken by the main loop yet. */
static gboolean channel_waiting(Channel *c)
{
    g_mutex_lock(&c->lock);
    gboolean waiting = c->pending != NULL;
    g_mutex_unlock(&c->lock);
    return waiting;
}

static void post(ThawWorker *w, ThawReport *r)
{
    Channel *c = w->channel;
    gboolean schedule = FALSE;
    g_mutex_lock(&c->lock);
    ThawReport *old = g_steal_pointer(&c->pending);
    if (old) {
        if (old->n_markers) {
            ThawMarker *m = g_new(ThawMarker, old->n_markers + r->n_markers);
            for (guint i = 0; i < old->n_markers; i++)
                m[i] = (ThawMarker){old->markers[i].step, g_strdup(old->markers[i].label)};
            if (r->n_markers) memcpy(m + old->n_markers, r->markers, r->n_markers * sizeof *m);
            g_free(r->markers);
            r->markers = m;
            r->n_markers += old->n_markers;
        }
        prepend_items((gpointer *)&r->points, &r->n_points, old->points, old->n_points,
                      sizeof *r->points);
        prepend_items((gpointer *)&r->epochs, &r->n_epochs, old->epochs, old->n_epochs,
                      sizeof *r->epochs);
        /* the jobs move: old must not free them */
        prepend_items((gpointer *)&r->jobs, &r->n_jobs, old->jobs, old->n_jobs, sizeof *r->jobs);
        g_clear_pointer(&old->jobs, g_free);
        old->n_jobs = 0;
        if (old->message) {
            char *mine = g_steal_pointer(&r->message);
            r->message = g_steal_pointer(&old->message);
            if (mine) add_message(&r->message, &r->message_is_error, mine, r->message_is_error);
            r->message_is_error |= old->message_is_error;
        }
    }
    c->pending = r;
    if (!c->idle_scheduled && c->owner) {
        c->idle_scheduled = TRUE;
        schedule = TRUE;
    }
    g_mutex_unlock(&c->lock);
    if (old) thaw_report_unref(old);
    if (schedule) {
        /* Not g_main_context_invoke_full(): when the context is not running
         * it would call deliver_idle right here, on the worker thread. */
        GSource *src = g_idle_source_new();
        g_source_set_priority(src, G_PRIORITY_DEFAULT_IDLE);
        g_source_set_static_name(src, "thaw-worker report");
        g_source_set_callback(src, deliver_idle, channel_ref(c), (GDestroyNotify)channel_unref);
        g_source_attach(src, c->context);
        g_source_unref(src);
    }
}

static void add_marker(ThawWorker *w, char *label)
{
    ThawMarker m = {w->steps, label};
    g_array_append_val(w->markers, m);
}

/* Worker thread: a snapshot of the current state. */
static ThawReport *snapshot(ThawWorker *w)
{
    ThawReport *r = g_atomic_rc_box_new0(ThawReport);
    r->state = w->state;
    r->generation = w->generation;
    r->step = w->steps;
    r->elapsed = w->elapsed;
    r->cancelled = w->cancelled;
    r->load_fraction = w->load_fraction;
    r->load_what = g_strdup(w->load_what);
    r->loss = w->last_loss;
    r->acc = w->last_acc;
    r->epoch_loss = r->epoch_acc = r->images_per_s = NAN;
    r->knob_serial = w->knob_serial;
    r->n_jobs = w->jobs->len;
    r->jobs = (ThawJobResult **)g_ptr_array_steal(w->jobs, NULL);
    r->message = g_steal_pointer(&w->message);
    r->message_is_error = w->message_is_error;
    if (w->run) {
        const thaw_model *m = thaw_run_model(w->run);
        r->epoch = thaw_run_epoch(w->run);
        r->step_in_epoch = thaw_run_step_in_epoch(w->run);
        r->steps_per_epoch = thaw_run_steps_per_epoch(w->run);
        r->lr = thaw_run_lr(w->run);
        if (w->steps > 0)
            thaw_run_epoch_stats(w->run, &r->epoch_loss, &r->epoch_acc, &r->images_per_s);
        int cut = thaw_run_next_cut(w->run);
        if (cut > 0) g_strlcpy(r->cached_layer, m->layers[cut].name, sizeof r->cached_layer);
        thaw_step_cost cost = thaw_model_step_cost(m, cut);
        r->step_macs = thaw_step_cost_total(&cost);
        r->n_layers = m->n_layers;
        r->config = m->cfg;
        r->trainable = g_new(guint8, m->n_layers);
        for (int i = 0; i < m->n_layers; i++) r->trainable[i] = m->layers[i].trainable;
        r->preset = m->preset;
        r->base_training = m->base_training;
        r->bn_momentum = m->bn_momentum;
        r->model_path = g_strdup(thaw_run_base_path(w->run));
        r->data_description = g_strdup(thaw_run_data_description(w->run));
        r->class_names = g_strdupv((char **)thaw_run_class_names(w->run));
        r->n_train = thaw_run_train_data(w->run)->n;
        r->n_val = thaw_run_val_data(w->run)->n;
    }
    if (w->bn) r->bn = g_atomic_rc_box_acquire(w->bn);
    if (w->bn_reference) r->bn_reference = g_atomic_rc_box_acquire(w->bn_reference);
    r->n_markers = w->markers->len;
    r->markers = (ThawMarker *)g_array_free(w->markers, FALSE);
    w->markers = g_array_new(FALSE, FALSE, sizeof(ThawMarker));
    r->n_points = w->points->len;
    r->points = (ThawStepPoint *)g_array_free(w->points, FALSE);
    w->points = g_array_new(FALSE, FALSE, sizeof(ThawStepPoint));
    r->n_epochs = w->epochs->len;
    r->epochs = (ThawEpochPoint *)g_array_free(w->epochs, FALSE);
    w->epochs = g_array_new(FALSE, FALSE, sizeof(ThawEpochPoint));
    r->error = g_strdup(w->error);
    return r;
}

static void drop_run(ThawWorker *w)
{
    g_clear_pointer(&w->run, thaw_run_free);
    g_clear_pointer(&w->rep, thaw_step_report_free);
    g_clear_pointer(&w->bn, bn_stats_unref);
    g_clear_pointer(&w->bn_reference, bn_stats_unref);
    g_clear_pointer(&w->error, g_free);
    w->steps = 0;
    w->steps_to_do = 0;
    w->last_loss = w->last_acc = NAN;
    w->elapsed = 0;
    w->cancelled = FALSE;
    w->load_fraction = 0;
    g_clear_pointer(&w->load_what, g_free);
    g_array_set_size(w->points, 0);
    g_array_set_size(w->epochs, 0);
}

/* Worker thread, during thaw_run_new_full(): a loading report at most every
 * 50 ms; TRUE (cancel) once thaw_worker_cancel_load() was called. */
static gboolean load_progress(gpointer ctx, double fraction, const char *what)
{
    ThawWorker *w = ctx;
    if (g_atomic_int_get(&w->cancel_load)) return TRUE;
    gint64 now = g_get_monotonic_time();
    w->load_fraction = fraction;
    if (!w->load_what || strcmp(w->load_what, what) != 0) {
        g_free(w->load_what);
        w->load_what = g_strdup(what);
    } else if (now - w->last_progress_us < 50000) {
        return FALSE;
    }
    w->last_progress_us = now;
    post(w, snapshot(w));
    return FALSE;
}

/* Worker thread: (re)builds the run from w->setup. */
static void load(ThawWorker *w)
{
    drop_run(w);
    w->generation++;
    w->state = THAW_WORKER_LOADING;
    w->last_progress_us = g_get_monotonic_time();
    post(w, snapshot(w));
    thaw_error err;
    thaw_error_clear(&err);
    ThawRun *run = NULL;
    thaw_status st = thaw_run_new_full(&run, w->setup, load_progress, w, NULL, &err);
    /* A cancel that came after the load finished is dropped with it. */
    g_atomic_int_set(&w->cancel_load, 0);
    w->load_fraction = 1;
    if (st != THAW_OK) {
        w->state = THAW_WORKER_FAILED;
        w->cancelled = st == THAW_ERR_CANCELLED;
        w->error = g_strdup(err.msg[0] ? err.msg : "the run could not be prepared");
        return;
    }
    w->run = run;
    thaw_model *m = thaw_run_model(run);
    w->rep = thaw_step_report_new(m);
    w->bn_reference = bn_stats_from_model(m, w->rep, NULL, 0);
    w->state = thaw_run_finished(run) ? THAW_WORKER_FINISHED : THAW_WORKER_PAUSED;
}

static gboolean can_step(ThawWorker *w)
{
    return w->run && w->state != THAW_WORKER_FAILED && !thaw_run_finished(w->run);
}

static void fail(ThawWorker *w, const char *msg)
{
    w->state = THAW_WORKER_FAILED;
    g_free(w->error);
    w->error = g_strdup(msg);
}

/* Worker thread: PREDICT (see ThawJobResult). */
static void job_predict(ThawWorker *w, ThawJobResult *j, int first, int count)
{
    const thaw_dataset *v = thaw_run_val_data(w->run);
    thaw_model *m = thaw_run_model(w->run);
    thaw_error err;
    thaw_error_clear(&err);
    first = CLAMP(first, 0, MAX(v->n - 1, 0));
    count = CLAMP(count, 0, v->n - first);
    size_t img = (size_t)v->h * v->w * v->c;
    j->first = first, j->n = count, j->h = v->h, j->w = v->w, j->c = v->c;
    j->pixels = g_memdup2(v->x + (size_t)first * img, (gsize)count * img * sizeof(float));
    j->labels = g_memdup2(v->y + first, (gsize)count * sizeof(int32_t));
    j->probs_train = g_new(float, (gsize)count * j->classes);
    j->probs_infer = g_new(float, (gsize)count * j->classes);
    const float *x = v->x + (size_t)first * img;
    if (count > 0 &&
        (thaw_model_predict(m, x, count, j->batch, false, 0, j->probs_infer, &err) != THAW_OK ||
         thaw_model_predict(m, x, count, j->batch, true, thaw_run_setup(w->run)->seed,
                            j->probs_train, &err) != THAW_OK))
        j->error = g_strdup(err.msg);
}

/* Worker thread: BATCHMATES (see ThawJobResult). */
static void job_batchmates(ThawWorker *w, ThawJobResult *j, int image, int reps, gboolean fixed)
{
    const thaw_dataset *v = thaw_run_val_data(w->run);
    thaw_model *m = thaw_run_model(w->run);
    thaw_error err;
    thaw_error_clear(&err);
    if (image < 0 || image >= v->n || j->batch > v->n || reps < 1) {
        j->error = g_strdup_printf("batch-mates: image %d, batch %d, %d repetitions do not fit "
                                   "%d validation images",
                                   image, j->batch, reps, v->n);
        return;
    }
    size_t img = (size_t)v->h * v->w * v->c;
    j->first = image, j->n = reps, j->h = v->h, j->w = v->w, j->c = v->c;
    j->pixels = g_memdup2(v->x + (size_t)image * img, img * sizeof(float));
    j->labels = g_memdup2(v->y + image, sizeof(int32_t));
    j->probs_train = g_new(float, (gsize)reps * j->classes);
    j->probs_infer = g_new(float, j->classes);
    float *x = g_new(float, (gsize)j->batch *img);
    float *p = g_new(float, (gsize)j->batch * j->classes);
    int *perm = g_new(int, v->n);
    thaw_rng rng;
    thaw_rng_seed(&rng, thaw_run_setup(w->run)->seed, 0xba7c4u + (guint)image);
    /* its inference-mode answer does not depend on any batch */
    memcpy(x, v->x + (size_t)image * img, img * sizeof(float));
    thaw_status st = thaw_model_predict(m, x, 1, 1, false, 0, j->probs_infer, &err);
    for (int r = 0; st == THAW_OK && r < reps; r++) {
        /* the image first, then batch - 1 others drawn without replacement
         * (once only for the dropout job: the same batch every time) */
        if (r == 0 || !fixed) {
            for (int i = 0; i < v->n; i++) perm[i] = i;
            thaw_shuffle(perm, v->n, &rng);
        }
        int filled = 1;
        for (int i = 0; filled < j->batch && i < v->n; i++)
            if (perm[i] != image)
                memcpy(x + (size_t)filled++ * img, v->x + (size_t)perm[i] * img,
                       img * sizeof(float));
        uint64_t dropout_seed = ((uint64_t)thaw_rng_u32(&rng) << 32) | thaw_rng_u32(&rng);
        st = thaw_model_predict(m, x, j->batch, j->batch, true, dropout_seed, p, &err);
        memcpy(j->probs_train + (size_t)r * j->classes, p, j->classes * sizeof(float));
    }
    if (st != THAW_OK) j->error = g_strdup(err.msg);
    g_free(x);
    g_free(p);
    g_free(perm);
}

/* Worker thread: REESTIMATE (see ThawJobResult). */
static void job_reestimate(ThawWorker *w, ThawJobResult *j)
{
    thaw_model *m = thaw_run_model(w->run);
    const thaw_dataset *t = thaw_run_train_data(w->run), *v = thaw_run_val_data(w->run);
    thaw_error err;
    thaw_error_clear(&err);
    thaw_eval_result before, after;
    int batch = thaw_run_setup(w->run)->batch;
    if (thaw_model_evaluate(m, v->x, v->y, v->n, 256, false, 0, &before, &err) != THAW_OK ||
        thaw_model_reestimate_bn(m, t->x, t->n, batch, false, &err) != THAW_OK ||
        thaw_model_evaluate(m, v->x, v->y, v->n, 256, false, 0, &after, &err) != THAW_OK) {
        j->error = g_strdup(err.msg);
        return;
    }
    j->acc_before = before.accuracy;
    j->acc_after = after.accuracy;
    j->n = w->rep->n_bn;
    j->batch = batch;
    ThawBnStats *b = bn_stats_from_model(m, w->rep, w->bn, w->steps);
    bn_stats_unref(w->bn);
    w->bn = b;
    add_marker(w, g_strdup("re-estimated BN statistics"));
}

/* Worker thread: applies one command; FALSE for quit. */
static gboolean apply(ThawWorker *w, Cmd *c)
{
    thaw_model *m = w->run ? thaw_run_model(w->run) : NULL;
    if (c->kind >= CMD_SET_TRAINABLE && c->kind <= CMD_SET_BASE_TRAINING) w->knob_serial++;
    switch (c->kind) {
    case CMD_QUIT:
        return FALSE;
    case CMD_RUN:
        if (can_step(w)) w->state = THAW_WORKER_RUNNING;
        break;
    case CMD_PAUSE:
        w->steps_to_do = 0;
        if (w->state == THAW_WORKER_RUNNING) w->state = THAW_WORKER_PAUSED;
        break;
    case CMD_STEP:
        if (can_step(w)) {
            w->state = THAW_WORKER_PAUSED;
            w->steps_to_do++;
        }
        break;
    case CMD_RESET:
        if (c->setup) {
            thaw_setup_free(w->setup);
            w->setup = g_steal_pointer(&c->setup);
        }
        load(w);
        break;
    case CMD_SET_TRAINABLE:
        if (!m || c->i < 0 || c->i >= m->n_layers || m->layers[c->i].trainable == !!c->b) break;
        if (thaw_model_set_trainable(m, c->i, c->b) == THAW_OK)
            add_marker(w,
                       g_strdup_printf("%s %s", c->b ? "unfroze" : "froze", m->layers[c->i].name));
        break;
    case CMD_SET_TRAINABLE_ALL: {
        if (!m || c->i != m->n_layers) break;
        int froze = 0, unfroze = 0, last = -1;
        for (int i = 0; i < m->n_layers; i++) {
            gboolean t = c->flags[i] != 0;
            if (m->layers[i].trainable == t) continue;
            thaw_model_set_trainable(m, i, t);
            *(t ? &unfroze : &froze) += 1;
            last = i;
        }
        if (froze + unfroze == 0) break;
        if (c->label)
            add_marker(w, g_strdup(c->label));
        else if (froze + unfroze == 1)
            add_marker(
                w, g_strdup_printf("%s %s", unfroze ? "unfroze" : "froze", m->layers[last].name));
        else if (froze && unfroze)
            add_marker(w, g_strdup_printf("froze %d layers, unfroze %d", froze, unfroze));
        else
            add_marker(w, g_strdup_printf("%s %d layers", froze ? "froze" : "unfroze",
                                          froze ? froze : unfroze));
        break;
    }
    case CMD_SET_PRESET:
        if (m && m->preset != (thaw_preset)c->i &&
            thaw_model_set_preset(m, (thaw_preset)c->i) == THAW_OK)
            add_marker(w, g_strdup_printf("preset %s", thaw_preset_get(m->preset)->name));
        break;
    case CMD_SET_LR:
        if (m && thaw_run_set_lr(w->run, c->f) == THAW_OK)
            add_marker(w, g_strdup_printf("lr %g", c->f));
        break;
    case CMD_SAVE: {
        thaw_error err;
        thaw_error_clear(&err);
        char *msg;
        gboolean bad = TRUE;
        if (!m)
            msg = g_strdup_printf("cannot save '%s': no model is loaded", c->label);
        else if (thaw_checkpoint_save(m, c->label, true, &err) != THAW_OK)
            msg = g_strdup(err.msg[0] ? err.msg : "the checkpoint could not be written");
        else {
            msg = g_strdup_printf("saved '%s'", c->label);
            bad = FALSE;
        }
        add_message(&w->message, &w->message_is_error, msg, bad);
        break;
    }
    case CMD_PREDICT:
    case CMD_BATCHMATES:
    case CMD_DROPOUT:
    case CMD_REESTIMATE: {
        ThawJobResult *j = g_new0(ThawJobResult, 1);
        j->kind = c->kind == CMD_PREDICT      ? THAW_JOB_PREDICT
                  : c->kind == CMD_BATCHMATES ? THAW_JOB_BATCHMATES
                  : c->kind == CMD_DROPOUT    ? THAW_JOB_DROPOUT
                                              : THAW_JOB_REESTIMATE;
        j->id = c->id;
        j->acc_before = j->acc_after = NAN;
        if (!m) {
            j->error = g_strdup("no model is loaded");
        } else {
            j->classes = m->cfg.classes;
            int batch = c->kind == CMD_PREDICT ? c->args[2] : c->args[1];
            j->batch = batch > 0 ? batch : thaw_run_setup(w->run)->batch;
            if (c->kind == CMD_PREDICT)
                job_predict(w, j, c->args[0], c->args[1]);
            else if (c->kind == CMD_REESTIMATE)
                job_reestimate(w, j);
            else
                job_batchmates(w, j, c->args[0], c->args[2], c->kind == CMD_DROPOUT);
        }
        g_ptr_array_add(w->jobs, j);
        break;
    }
    case CMD_SET_BASE_TRAINING:
        if (m && m->base_training != (thaw_tristate)c->i) {
            m->base_training = (thaw_tristate)c->i;
            add_marker(w, g_strdup_printf("base training=%s", c->i == THAW_TRUE    ? "True"
                                                              : c->i == THAW_FALSE ? "False"
                                                                                   : "None"));
        }
        break;
    }
    return TRUE;
}

/* Worker thread: one training step and its report. */
static void step(ThawWorker *w)
{
    thaw_error err;
    thaw_error_clear(&err);
    unsigned ev = 0;
    gint64 t0 = g_get_monotonic_time();
    if (thaw_run_step(w->run, w->rep, &ev, &err) != THAW_OK) {
        fail(w, err.msg[0] ? err.msg : "the training step failed");
        post(w, snapshot(w));
        return;
    }
    if (ev & THAW_RUN_UNFROZEN) {
        const ThawSetup *s = thaw_run_setup(w->run);
        add_marker(w, g_strdup_printf("phase 2: unfroze %s, lr %g", s->unfreeze_layers,
                                      thaw_setup_phase2_lr(s)));
    }
    w->steps++;
    w->last_loss = w->rep->loss;
    w->last_acc = w->rep->n ? (double)w->rep->correct / w->rep->n : NAN;
    ThawStepPoint pt = {w->steps, w->last_loss, w->last_acc};
    g_array_append_val(w->points, pt);
    bn_stats_unref(w->bn);
    w->bn = bn_stats_copy(w->rep, w->steps);
    if (ev & THAW_RUN_EPOCH_DONE) {
        thaw_eval_result ri, rt;
        if (thaw_run_validate(w->run, &ri, &rt, &err) != THAW_OK) {
            fail(w, err.msg);
            post(w, snapshot(w));
            return;
        }
        ThawEpochPoint e = {
            .epoch = thaw_run_epoch(w->run), .val_infer = ri.accuracy, .val_train = rt.accuracy};
        double ips;
        thaw_run_epoch_stats(w->run, &e.loss, &e.acc, &ips);
        g_array_append_val(w->epochs, e);
    }
    w->elapsed += (double)(g_get_monotonic_time() - t0) * 1e-6;
    if (w->steps_to_do > 0) w->steps_to_do--;
    if (thaw_run_finished(w->run)) {
        w->state = THAW_WORKER_FINISHED;
        w->steps_to_do = 0;
    }
    /* Running flat out (a head on cached features takes microseconds a
     * step), the main loop takes one report per frame: while the last one
     * still waits there, this step's point and epoch stay in w->points and
     * w->epochs for the next snapshot -- the next step's, or a command's
     * acknowledgement. A step the loop is not sure to follow posts. */
    if (w->state == THAW_WORKER_RUNNING && can_step(w) && channel_waiting(w->channel)) return;
    post(w, snapshot(w));
}

static gpointer thread_main(gpointer data)
{
    ThawWorker *w = data;
    load(w);
    post(w, snapshot(w));
    for (;;) {
        gboolean busy = can_step(w) && (w->state == THAW_WORKER_RUNNING || w->steps_to_do > 0);
        Cmd *c = busy ? g_async_queue_try_pop(w->queue) : g_async_queue_pop(w->queue);
        gboolean applied = c != NULL;
        while (c) {
            gboolean go_on = apply(w, c);
            cmd_free(c);
            if (!go_on) return NULL;
            c = g_async_queue_try_pop(w->queue);
        }
        if (can_step(w) && (w->state == THAW_WORKER_RUNNING || w->steps_to_do > 0))
            step(w);
        else if (applied)
            post(w, snapshot(w)); /* acknowledges the state and carries the markers */
    }
}

/* ---- public API ------------------------------------------------------- */

static void send(ThawWorker *w, CmdKind kind, int i, gboolean b, double f, ThawSetup *setup)
{
    g_return_if_fail(THAW_IS_WORKER(w));
    if (!w->thread) {
        if (setup) thaw_setup_free(setup);
        return;
    }
    Cmd *c = g_new0(Cmd, 1);
    *c = (Cmd){.kind = kind, .i = i, .b = b, .f = f, .setup = setup};
    g_async_queue_push(w->queue, c);
}

void thaw_worker_run(ThawWorker *w)
{
    send(w, CMD_RUN, 0, FALSE, 0, NULL);
}
void thaw_worker_pause(ThawWorker *w)
{
    send(w, CMD_PAUSE, 0, FALSE, 0, NULL);
}
void thaw_worker_step(ThawWorker *w)
{
    send(w, CMD_STEP, 0, FALSE, 0, NULL);
}
void thaw_worker_reset(ThawWorker *w, const ThawSetup *setup)
{
    /* A cancel meant for the load under way must not stop the new one. */
    g_atomic_int_set(&w->cancel_load, 0);
    send(w, CMD_RESET, 0, FALSE, 0, setup ? thaw_setup_copy(setup) : NULL);
}
void thaw_worker_set_trainable(ThawWorker *w, int layer, gboolean trainable)
{
    send(w, CMD_SET_TRAINABLE, layer, trainable, 0, NULL);
}
void thaw_worker_set_trainable_all(ThawWorker *w, const guint8 *flags, int n, const char *label)
{
    g_return_if_fail(THAW_IS_WORKER(w) && flags && n > 0);
    if (!w->thread) return;
    Cmd *c = g_new0(Cmd, 1);
    c->kind = CMD_SET_TRAINABLE_ALL;
    c->i = n;
    c->flags = g_memdup2(flags, (gsize)n);
    c->label = g_strdup(label);
    g_async_queue_push(w->queue, c);
}

void thaw_worker_save(ThawWorker *w, const char *path)
{
    g_return_if_fail(THAW_IS_WORKER(w) && path);
    if (!w->thread) return;
    Cmd *c = g_new0(Cmd, 1);
    c->kind = CMD_SAVE;
    c->label = g_strdup(path);
    g_async_queue_push(w->queue, c);
}

static guint send_job(ThawWorker *w, CmdKind kind, int a, int b, int c)
{
    g_return_val_if_fail(THAW_IS_WORKER(w), 0);
    guint id = ++w->next_job;
    if (!w->thread) return id;
    Cmd *cmd = g_new0(Cmd, 1);
    cmd->kind = kind;
    cmd->args[0] = a, cmd->args[1] = b, cmd->args[2] = c;
    cmd->id = id;
    g_async_queue_push(w->queue, cmd);
    return id;
}

guint thaw_worker_predict(ThawWorker *w, int first, int count, int batch)
{
    return send_job(w, CMD_PREDICT, first, count, batch);
}

guint thaw_worker_batchmates(ThawWorker *w, int image, int batch, int reps)
{
    g_return_val_if_fail(batch >= 1 && reps >= 1, 0);
    return send_job(w, CMD_BATCHMATES, image, batch, reps);
}

guint thaw_worker_dropout(ThawWorker *w, int image, int batch, int reps)
{
    g_return_val_if_fail(batch >= 1 && reps >= 1, 0);
    return send_job(w, CMD_DROPOUT, image, batch, reps);
}

guint thaw_worker_reestimate(ThawWorker *w)
{
    return send_job(w, CMD_REESTIMATE, 0, 0, 0);
}

void thaw_worker_cancel_load(ThawWorker *w)
{
    g_return_if_fail(THAW_IS_WORKER(w));
    g_atomic_int_set(&w->cancel_load, 1);
}

void thaw_worker_set_preset(ThawWorker *w, thaw_preset preset)
{
    g_return_if_fail((int)preset >= 0 && preset < THAW_PRESET_COUNT);
    send(w, CMD_SET_PRESET, (int)preset, FALSE, 0, NULL);
}
void thaw_worker_set_lr(ThawWorker *w, double lr)
{
    g_return_if_fail(lr > 0 && isfinite(lr));
    send(w, CMD_SET_LR, 0, FALSE, lr, NULL);
}
void thaw_worker_set_base_training(ThawWorker *w, thaw_tristate training)
{
    send(w, CMD_SET_BASE_TRAINING, (int)training, FALSE, 0, NULL);
}

void thaw_worker_stop(ThawWorker *w)
{
    g_return_if_fail(THAW_IS_WORKER(w));
    if (!w->thread) return;
    /* Quit goes first: the commands still queued are dropped unapplied. */
    Cmd *quit = g_new0(Cmd, 1);
    quit->kind = CMD_QUIT;
    g_async_queue_push_front(w->queue, quit);
    g_atomic_int_set(&w->cancel_load, 1);
    g_thread_join(g_steal_pointer(&w->thread));
    /* The thread is gone: its state is ours now. */
    drop_run(w);
}

static void thaw_worker_dispose(GObject *object)
{
    ThawWorker *w = THAW_WORKER(object);
    thaw_worker_stop(w);
    if (w->channel) {
        g_mutex_lock(&w->channel->lock);
        w->channel->owner = NULL;
        g_clear_pointer(&w->channel->pending, thaw_report_unref);
        g_mutex_unlock(&w->channel->lock);
    }
    G_OBJECT_CLASS(thaw_worker_parent_class)->dispose(object);
}

static void thaw_worker_finalize(GObject *object)
{
    ThawWorker *w = THAW_WORKER(object);
    g_clear_pointer(&w->channel, channel_unref);
    g_async_queue_unref(w->queue);
    thaw_setup_free(w->setup);
    for (guint i = 0; i < w->markers->len; i++)
        g_free(g_array_index(w->markers, ThawMarker, i).label);
    g_array_free(w->markers, TRUE);
    g_array_free(w->points, TRUE);
    g_array_free(w->epochs, TRUE);
    g_free(w->load_what);
    g_free(w->message);
    g_ptr_array_unref(w->jobs);
    G_OBJECT_CLASS(thaw_worker_parent_class)->finalize(object);
}

static void thaw_worker_class_init(ThawWorkerClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->dispose = thaw_worker_dispose;
    oc->finalize = thaw_worker_finalize;
    /**
     * ThawWorker::report:
     * @report: (transfer none): the latest snapshot
     */
    signals[SIGNAL_REPORT] =
        g_signal_new("report", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, THAW_TYPE_REPORT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void thaw_worker_init(ThawWorker *w)
{
    w->queue = g_async_queue_new_full((GDestroyNotify)cmd_free);
    w->markers = g_array_new(FALSE, FALSE, sizeof(ThawMarker));
    w->points = g_array_new(FALSE, FALSE, sizeof(ThawStepPoint));
    w->epochs = g_array_new(FALSE, FALSE, sizeof(ThawEpochPoint));
    w->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_free);
    w->last_loss = w->last_acc = NAN;
}

ThawWorker *thaw_worker_new(const ThawSetup *setup)
{
    g_return_val_if_fail(setup != NULL, NULL);
    ThawWorker *w = g_object_new(THAW_TYPE_WORKER, NULL);
    w->setup = thaw_setup_copy(setup);
    w->channel = g_atomic_rc_box_new0(Channel);
    g_mutex_init(&w->channel->lock);
    w->channel->owner = w;
    w->channel->context = g_main_context_ref_thread_default();
    w->thread = g_thread_new("thaw-worker", thread_main, w);
    return w;
}
