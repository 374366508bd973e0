/* The main window: see thaw-window.h.
 *
 * Data flow: the worker posts ThawReport snapshots on the main context
 * (coalesced, at most one in flight); on_report() turns each into widget
 * updates -- chart points (every step's loss arrives, even when reports
 * coalesce), markers, the status bar, the banners -- and queues redraws,
 * which GTK performs on the next frame. Commands go back through the
 * worker's queue. The window never touches the worker's model: the tree
 * shows a structure-only copy (`shadow`) whose knobs mirror the reports.
 *
 * Knob edits are counted (`knobs_sent`); a report's knobs are copied into
 * the shadow only once its knob_serial shows every edit sent so far was
 * applied, so an older report in flight never undoes a click.
 *
 * The panes beside the charts (BatchNorm, Predictions, Lessons, Code) are
 * wired in thaw-window-panes.c; file choosers, export and screenshots live
 * in thaw-window-files.c. */
#include "thaw-window-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_FINAL_TYPE(ThawWindow, thaw_window, GTK_TYPE_APPLICATION_WINDOW)

static const char *const base_training_ids[] = {"none", "true", "false"};
static const thaw_tristate base_training_values[] = {THAW_UNSET, THAW_TRUE, THAW_FALSE};

/* ---- the error banner and messages ---------------------------------- */

void thaw_window_show_error(ThawWindow *self, const char *message)
{
    gtk_label_set_text(self->error_label, message);
    gtk_revealer_set_reveal_child(self->error_revealer, TRUE);
    g_free(self->error_text);
    self->error_text = g_strdup(message);
}

static void dismiss_error(ThawWindow *self)
{
    gtk_revealer_set_reveal_child(self->error_revealer, FALSE);
    g_clear_pointer(&self->error_text, g_free);
}

void thaw_window_show_message(ThawWindow *self, const char *message)
{
    gtk_label_set_text(self->message_label, message);
}

/* ---- the worker -------------------------------------------------------- */

static void on_report(ThawWorker *worker, ThawReport *r, ThawWindow *self);

static void start_worker(ThawWindow *self)
{
    self->worker = thaw_worker_new(self->setup);
    g_signal_connect(self->worker, "report", G_CALLBACK(on_report), self);
    self->knobs_sent = 0;
}

/* Rebuilds the run from self->setup (a new model: charts start over). */
void thaw_window_restart(ThawWindow *self)
{
    thaw_worker_reset(self->worker, self->setup);
}

/* Replaces the setup (a new file, images folder or weights) and reloads; if
 * the new setup fails to load, the window goes back to the last one that
 * loaded (see on_report) and shows why. */
void thaw_window_load_setup(ThawWindow *self, ThawSetup *setup, const char *setup_id)
{
    thaw_setup_free(self->setup);
    self->setup = setup;
    g_free(self->setup_id);
    self->setup_id = g_strdup(setup_id);
    self->reverting = FALSE;
    dismiss_error(self);
    thaw_window_restart(self);
}

/* ---- knobs ------------------------------------------------------------- */

/* The tree changed the shadow's flags: send them on and remember them. */
static void on_trainable_changed(ThawModelPane *pane, const char *label, ThawWindow *self)
{
    thaw_model *m = self->shadow;
    if (!m) return;
    g_autofree guint8 *flags = g_new(guint8, m->n_layers);
    for (int i = 0; i < m->n_layers; i++) flags[i] = m->layers[i].trainable;
    thaw_worker_set_trainable_all(self->worker, flags, m->n_layers, label);
    self->knobs_sent++;
    thaw_setup_set_freezing_from_model(self->setup, m);
    thaw_window_setup_changed(self);
}

static void set_preset(ThawWindow *self, thaw_preset p)
{
    if (p == self->setup->preset && (!self->shadow || self->shadow->preset == p)) return;
    self->setup->preset = p;
    if (self->shadow) {
        thaw_model_set_preset(self->shadow, p);
        thaw_model_pane_refresh(self->model_pane);
    }
    thaw_worker_set_preset(self->worker, p);
    self->knobs_sent++;
    thaw_window_setup_changed(self);
}

static void set_base_training(ThawWindow *self, thaw_tristate t)
{
    if (t == self->setup->base_training && (!self->shadow || self->shadow->base_training == t))
        return;
    self->setup->base_training = t;
    if (self->shadow) {
        self->shadow->base_training = t;
        thaw_model_pane_refresh(self->model_pane);
    }
    thaw_worker_set_base_training(self->worker, t);
    self->knobs_sent++;
    thaw_window_setup_changed(self);
}

/* Sets the learning rate from text; FALSE (and the entry marked) if it is
 * not a number in (0, 10]. */
static gboolean set_lr_text(ThawWindow *self, const char *text)
{
    char *end = NULL;
    double lr = g_ascii_strtod(text, &end);
    gboolean ok =
        end && end != text && *g_strchug(end) == '\0' && isfinite(lr) && lr > 0 && lr <= 10;
    if (!ok) {
        gtk_widget_add_css_class(GTK_WIDGET(self->lr_entry), "error");
        g_autofree char *msg =
            g_strdup_printf("learning rate: '%s' is not a number in (0, 10]", text);
        thaw_window_show_message(self, msg);
        return FALSE;
    }
    gtk_widget_remove_css_class(GTK_WIDGET(self->lr_entry), "error");
    self->setup->lr = lr;
    thaw_worker_set_lr(self->worker, lr);
    self->knobs_sent++;
    thaw_window_setup_changed(self);
    return TRUE;
}

static void on_lr_activate(GtkEntry *entry, ThawWindow *self)
{
    set_lr_text(self, gtk_editable_get_text(GTK_EDITABLE(entry)));
}

/* Puts a state on a stateful action without running its change_state. */
void thaw_window_set_action_state(ThawWindow *self, const char *name, GVariant *state)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self), name);
    g_simple_action_set_state(G_SIMPLE_ACTION(a), state);
}

/* Shows knobs in the choosers (no command is sent: `syncing`). */
static void show_knobs(ThawWindow *self, thaw_preset preset, thaw_tristate base_training)
{
    self->syncing = TRUE;
    if (preset < THAW_PRESET_MANUAL) {
        gtk_drop_down_set_selected(self->preset_dropdown, (guint)preset);
        thaw_window_set_action_state(self, "preset",
                                     g_variant_new_string(thaw_preset_get(preset)->name));
    }
    for (guint i = 0; i < G_N_ELEMENTS(base_training_values); i++)
        if (base_training_values[i] == base_training) {
            gtk_drop_down_set_selected(self->base_training_dropdown, i);
            thaw_window_set_action_state(self, "base-training",
                                         g_variant_new_string(base_training_ids[i]));
        }
    self->syncing = FALSE;
}

static void on_preset_selected(GtkDropDown *dd, GParamSpec *pspec, ThawWindow *self)
{
    guint i = gtk_drop_down_get_selected(dd);
    if (self->syncing || i >= THAW_PRESET_MANUAL) return;
    g_action_group_change_action_state(G_ACTION_GROUP(self), "preset",
                                       g_variant_new_string(thaw_preset_get(i)->name));
}

static void on_base_training_selected(GtkDropDown *dd, GParamSpec *pspec, ThawWindow *self)
{
    guint i = gtk_drop_down_get_selected(dd);
    if (self->syncing || i >= G_N_ELEMENTS(base_training_ids)) return;
    g_action_group_change_action_state(G_ACTION_GROUP(self), "base-training",
                                       g_variant_new_string(base_training_ids[i]));
}

static void on_setup_selected(GtkDropDown *dd, GParamSpec *pspec, ThawWindow *self)
{
    guint i = gtk_drop_down_get_selected(dd);
    if (self->syncing || i >= self->setup_ids->len) return;
    g_action_group_change_action_state(G_ACTION_GROUP(self), "setup",
                                       g_variant_new_string(self->setup_ids->pdata[i]));
}

/* ---- charts and status ------------------------------------------------- */

static void clear_history(ThawWindow *self)
{
    thaw_chart_clear(self->loss_chart);
    thaw_chart_clear(self->acc_chart);
    g_array_set_size(self->steps, 0);
    g_array_set_size(self->epochs, 0);
    self->last_val_epoch = 0;
    self->last_estimate_step = 0;
}

static void add_points(ThawWindow *self, const ThawReport *r)
{
    for (guint i = 0; i < r->n_points; i++) {
        const ThawStepPoint *p = &r->points[i];
        thaw_chart_append(self->loss_chart, SERIES_BATCH_LOSS, (double)p->step, p->loss);
        g_array_append_val(self->steps, *p);
    }
    /* Markers and finished epochs in step order (an epoch ending at step s
     * before a knob changed after it), so the history CSV reads in order. */
    guint i = 0, j = 0;
    while (i < r->n_markers || j < r->n_epochs) {
        const ThawEpochPoint *e = j < r->n_epochs ? &r->epochs[j] : NULL;
        /* Epoch results sit at the step that ended the epoch. */
        guint64 e_step = e ? (guint64)e->epoch * (guint64)r->steps_per_epoch : 0;
        if (e && (i == r->n_markers || e_step <= r->markers[i].step)) {
            j++;
            if (e->epoch <= self->last_val_epoch) continue;
            double x = (double)e_step;
            thaw_chart_append(self->loss_chart, SERIES_EPOCH_LOSS, x, e->loss);
            thaw_chart_append(self->acc_chart, SERIES_VAL_INFER, x, 100.0 * e->val_infer);
            thaw_chart_append(self->acc_chart, SERIES_VAL_TRAIN, x, 100.0 * e->val_train);
            ThawEpochRow row = {.epoch = e->epoch,
                                .step = e_step,
                                .loss = e->loss,
                                .acc = e->acc,
                                .val_infer = e->val_infer,
                                .val_train = e->val_train};
            g_array_append_val(self->epochs, row);
            self->last_val_epoch = e->epoch;
        } else {
            const ThawMarker *m = &r->markers[i++];
            thaw_chart_add_marker(self->loss_chart, (double)m->step, m->label);
            thaw_chart_add_marker(self->acc_chart, (double)m->step, m->label);
            ThawEpochRow row = {.marker_step = m->step, .marker = g_strdup(m->label)};
            g_array_append_val(self->epochs, row);
        }
    }
    /* The cheap running estimate between epochs: fit()'s accuracy of the
     * epoch so far (training mode, on the training batches). */
    if (r->step > self->last_estimate_step && r->step_in_epoch > 0 && isfinite(r->epoch_acc)) {
        thaw_chart_append(self->acc_chart, SERIES_FIT_ACC, (double)r->step, 100.0 * r->epoch_acc);
        self->last_estimate_step = r->step;
    }
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data);

/* "31.0 MMAC/image", "640 MAC/image · avg_pool cached": a step's work per
 * image (SPEC.md §2: backward stops early; the frozen-prefix cache). */
static void format_work(char *buf, size_t size, const ThawReport *r)
{
    double v = r->step_macs;
    if (!(v > 0)) {
        buf[0] = '\0';
        return;
    }
    const char *unit = v >= 1e6 ? "MMAC" : v >= 1e3 ? "kMAC" : "MAC";
    double scaled = v >= 1e6 ? v / 1e6 : v >= 1e3 ? v / 1e3 : v;
    int n = snprintf(buf, size, scaled >= 100 ? "%.0f %s/image" : "%.1f %s/image", scaled, unit);
    if (r->cached_layer[0] && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " · %s cached", r->cached_layer);
}

static void update_status(ThawWindow *self, const ThawReport *r)
{
    char buf[160];
    gtk_label_set_text(self->state_label, thaw_worker_state_to_string(r->state));
    snprintf(buf, sizeof buf, "step %" G_GUINT64_FORMAT, r->step);
    gtk_label_set_text(self->step_label, buf);
    if (r->steps_per_epoch > 0) {
        int epochs = self->setup->epochs;
        /* Between epochs the last one is complete. */
        int in_epoch =
            r->step_in_epoch == 0 && r->epoch > 0 ? r->steps_per_epoch : r->step_in_epoch;
        snprintf(buf, sizeof buf, "epoch %d/%d (batch %d/%d)", MAX(r->epoch, 1), epochs, in_epoch,
                 r->steps_per_epoch);
    } else {
        buf[0] = '\0';
    }
    gtk_label_set_text(self->epoch_label, buf);
    if (isfinite(r->images_per_s) && r->images_per_s > 0) {
        char count[32];
        thaw_format_count(count, sizeof count, (size_t)llround(r->images_per_s));
        snprintf(buf, sizeof buf, "%s images/s", count);
    } else
        snprintf(buf, sizeof buf, "– images/s");
    gtk_label_set_text(self->speed_label, buf);
    format_work(buf, sizeof buf, r);
    gtk_label_set_text(self->work_label, buf);
    int s = (int)r->elapsed;
    snprintf(buf, sizeof buf, "%02d:%02d elapsed", s / 60, s % 60);
    gtk_label_set_text(self->elapsed_label, buf);

    gboolean running = r->state == THAW_WORKER_RUNNING;
    /* Frame intervals are measured while training runs (a tick callback
     * keeps the frame clock going, so it is not left on when idle). */
    if (running && !self->tick_id)
        self->tick_id = gtk_widget_add_tick_callback(GTK_WIDGET(self), on_tick, NULL, NULL);
    else if (!running && self->tick_id) {
        gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->tick_id);
        self->tick_id = 0;
        self->last_frame_us = 0;
    }
    gtk_image_set_from_icon_name(self->run_icon, running ? "media-playback-pause-symbolic"
                                                         : "media-playback-start-symbolic");
    gtk_label_set_text(self->run_label, running ? "Pause" : "Run");
    gboolean can_train = r->state == THAW_WORKER_PAUSED || r->state == THAW_WORKER_RUNNING;
    thaw_window_update_actions(self, can_train, r->state == THAW_WORKER_LOADING);

    if (r->n_layers > 0 && r->data_description) {
        g_autofree char *base = g_path_get_basename(r->model_path);
        g_autofree char *d = g_strdup_printf("%s → %s · %d training / %d validation images", base,
                                             r->data_description, r->n_train, r->n_val);
        gtk_label_set_text(self->data_label, d);
    }
}

static void update_loading(ThawWindow *self, const ThawReport *r)
{
    gboolean loading = r->state == THAW_WORKER_LOADING;
    gtk_revealer_set_reveal_child(self->loading_revealer, loading);
    if (!loading) return;
    gtk_progress_bar_set_fraction(self->loading_bar, r->load_fraction);
    gtk_label_set_text(self->loading_label,
                       r->load_what ? r->load_what : "Loading the model and the images…");
}

/* A new model arrived: a structure-only copy for the tree. */
static void rebuild_shadow(ThawWindow *self, const ThawReport *r)
{
    thaw_model_pane_set_model(self->model_pane, NULL);
    g_clear_pointer(&self->shadow, thaw_model_free);
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_model_new_uninitialized(&self->shadow, &r->config, &err) != THAW_OK ||
        self->shadow->n_layers != r->n_layers) {
        g_clear_pointer(&self->shadow, thaw_model_free);
        thaw_window_show_error(self, err.msg[0] ? err.msg : "the model cannot be shown");
        return;
    }
    self->shadow_generation = r->generation;
}

/* Copies the report's knobs into the shadow; TRUE if anything changed. */
static gboolean sync_knobs(ThawWindow *self, const ThawReport *r)
{
    thaw_model *m = self->shadow;
    gboolean changed = FALSE;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].trainable != (r->trainable[i] != 0)) {
            m->layers[i].trainable = r->trainable[i] != 0;
            changed = TRUE;
        }
    if (m->preset != r->preset) thaw_model_set_preset(m, r->preset), changed = TRUE;
    if (m->base_training != r->base_training) m->base_training = r->base_training, changed = TRUE;
    m->bn_momentum = r->bn_momentum;
    return changed;
}

static void on_report(ThawWorker *worker, ThawReport *r, ThawWindow *self)
{
    ThawReport *prev = self->last;
    self->last = thaw_report_ref(r);

    if (r->generation != self->shown_generation) {
        self->shown_generation = r->generation;
        clear_history(self);
        thaw_window_panes_new_generation(self);
    }
    if (r->n_layers > 0 && self->shadow_generation != r->generation) {
        rebuild_shadow(self, r);
        if (self->shadow) {
            sync_knobs(self, r);
            thaw_model_pane_set_model(self->model_pane, self->shadow);
        }
        thaw_window_panes_new_model(self, r);
        /* This setup loads: it is the one to come back to. */
        thaw_setup_free(self->good_setup);
        self->good_setup = thaw_setup_copy(self->setup);
        g_free(self->good_setup_id);
        self->good_setup_id = g_strdup(self->setup_id);
        show_knobs(self, r->preset, r->base_training);
        thaw_window_setup_changed(self); /* a new model: the script's graph and weights */
        g_autofree char *lr = g_strdup_printf("%g", r->lr);
        gtk_editable_set_text(GTK_EDITABLE(self->lr_entry), lr);
    } else if (self->shadow && r->n_layers == self->shadow->n_layers &&
               r->knob_serial == self->knobs_sent) {
        if (sync_knobs(self, r)) thaw_model_pane_refresh(self->model_pane);
        show_knobs(self, r->preset, r->base_training);
    }
    add_points(self, r);
    thaw_window_panes_report(self, r, prev);
    update_status(self, r);
    update_loading(self, r);
    if (r->message) {
        if (r->message_is_error)
            thaw_window_show_error(self, r->message);
        else
            thaw_window_show_message(self, r->message);
    }

    gboolean failed_now =
        r->state == THAW_WORKER_FAILED &&
        (!prev || prev->state != THAW_WORKER_FAILED || prev->generation != r->generation);
    if (failed_now) {
        if (r->cancelled)
            thaw_window_show_message(self, "Loading cancelled");
        else
            thaw_window_show_error(self, r->error ? r->error : "the run failed");
        /* A setup that does not load leaves the window on the last one that
         * did (once: if that fails too, the error stays). */
        if (self->good_setup && !self->reverting && r->n_layers == 0) {
            self->reverting = TRUE;
            thaw_setup_free(self->setup);
            self->setup = thaw_setup_copy(self->good_setup);
            g_free(self->setup_id);
            self->setup_id = g_strdup(self->good_setup_id);
            thaw_window_select_setup_id(self, self->setup_id);
            thaw_window_restart(self);
        }
    } else if (r->state != THAW_WORKER_FAILED && r->state != THAW_WORKER_LOADING) {
        self->reverting = FALSE;
    }
    if (prev) thaw_report_unref(prev);
}

/* ---- settings ------------------------------------------------------------ */

void thaw_window_restore(ThawWindow *self, const ThawSettings *st)
{
    if (st->width > 0 && st->height > 0)
        gtk_window_set_default_size(GTK_WINDOW(self), st->width, st->height);
    if (st->maximized) gtk_window_maximize(GTK_WINDOW(self));
    if (st->paned_position > 0) gtk_paned_set_position(self->paned, st->paned_position);
    if (st->pane) thaw_window_show_pane(self, st->pane);
    if (st->log_loss)
        g_action_group_change_action_state(G_ACTION_GROUP(self), "log-loss",
                                           g_variant_new_boolean(TRUE));
    thaw_code_pane_set_framework(self->code_pane,
                                 st->code_framework ? THAW_CODE_PYTORCH : THAW_CODE_KERAS);
}

gboolean thaw_window_save_settings(ThawWindow *self, GError **error)
{
    g_autoptr(ThawSettings) st = thaw_settings_new();
    gtk_window_get_default_size(GTK_WINDOW(self), &st->width, &st->height);
    st->maximized = gtk_window_is_maximized(GTK_WINDOW(self));
    st->paned_position = gtk_paned_get_position(self->paned);
    st->pane = g_strdup(gtk_stack_get_visible_child_name(self->stack));
    g_autoptr(GVariant) log = g_action_group_get_action_state(G_ACTION_GROUP(self), "log-loss");
    st->log_loss = log && g_variant_get_boolean(log);
    st->code_framework = thaw_code_pane_get_framework(self->code_pane) == THAW_CODE_PYTORCH;
    /* The setup that last loaded (with the knobs set since): a setup that
     * failed is not worth coming back to. */
    const ThawSetup *s = self->reverting || !self->good_setup ? self->good_setup : self->setup;
    if (s) {
        st->setup_data = thaw_setup_to_data(s);
        st->setup_id = g_strdup(s == self->setup ? self->setup_id : self->good_setup_id);
    }
    g_autofree char *path = thaw_settings_path();
    return thaw_settings_save(st, path, error);
}

static gboolean on_close_request(GtkWindow *window, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (!thaw_window_save_settings(THAW_WINDOW(window), &error))
        g_printerr("thaw: the settings were not saved: %s\n", error->message);
    return FALSE; /* close */
}

/* ---- the frame clock: smoothness while training ---------------------- */

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
    ThawWindow *self = THAW_WINDOW(widget);
    gint64 t = gdk_frame_clock_get_frame_time(clock);
    gboolean running = self->last && self->last->state == THAW_WORKER_RUNNING;
    if (running && self->last_frame_us > 0) {
        double ms = (double)(t - self->last_frame_us) / 1000.0;
        g_array_append_val(self->frame_ms, ms);
    }
    self->last_frame_us = running ? t : 0;
    return G_SOURCE_CONTINUE;
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void thaw_window_frame_stats(ThawWindow *self, guint *n, double *p50, double *p95, double *max)
{
    g_return_if_fail(THAW_IS_WINDOW(self));
    guint len = self->frame_ms->len;
    *n = len;
    *p50 = *p95 = *max = NAN;
    if (len == 0) return;
    g_autofree double *v = g_memdup2(self->frame_ms->data, len * sizeof(double));
    qsort(v, len, sizeof(double), cmp_double);
    *p50 = v[len / 2];
    *p95 = v[MIN(len - 1, (guint)ceil(0.95 * len) - 1)];
    *max = v[len - 1];
}

/* ---- the setup chooser --------------------------------------------- */

/* Fills the setup drop-down with the shipped preset files (by their [meta]
 * name), plus "Command line" when the window started from one. */
static void fill_setups(ThawWindow *self)
{
    GtkStringList *names = gtk_string_list_new(NULL);
    g_autoptr(GError) error = NULL;
    const char *dir = thaw_setup_presets_dir();
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    const char *f;
    while (d && (f = g_dir_read_name(d)))
        if (g_str_has_suffix(f, ".ini")) g_ptr_array_add(files, g_strdup(f));
    g_ptr_array_sort(files, (GCompareFunc)g_strcmp0);
    /* default.ini first: it is the embedded default scenario */
    for (guint i = 0; i < files->len; i++)
        if (strcmp(files->pdata[i], "default.ini") == 0 && i > 0) {
            gpointer t = files->pdata[0];
            files->pdata[0] = files->pdata[i];
            files->pdata[i] = t;
        }
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *path = g_build_filename(dir, files->pdata[i], NULL);
        g_autoptr(ThawSetup) s = thaw_setup_new();
        g_autoptr(GError) e = NULL;
        if (!thaw_setup_load_file(s, path, &e)) {
            g_message("skipping setup %s", e->message);
            continue;
        }
        char *id = g_strndup(files->pdata[i], strlen(files->pdata[i]) - strlen(".ini"));
        g_ptr_array_add(self->setup_ids, id);
        gtk_string_list_append(names, s->name && *s->name ? s->name : id);
    }
    if (!self->setup_id) {
        g_ptr_array_add(self->setup_ids, g_strdup(""));
        gtk_string_list_append(names, "Command line");
    }
    gtk_drop_down_set_model(self->setup_dropdown, G_LIST_MODEL(names));
    g_object_unref(names);
}

void thaw_window_select_setup_id(ThawWindow *self, const char *id)
{
    self->syncing = TRUE;
    for (guint i = 0; i < self->setup_ids->len; i++)
        if (g_strcmp0(self->setup_ids->pdata[i], id ? id : "") == 0)
            gtk_drop_down_set_selected(self->setup_dropdown, i);
    thaw_window_set_action_state(self, "setup", g_variant_new_string(id ? id : ""));
    self->syncing = FALSE;
}

/* ---- actions ---------------------------------------------------------- */

static void action_run(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_worker_run(THAW_WINDOW(data)->worker);
}

static void action_pause(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_worker_pause(THAW_WINDOW(data)->worker);
}

static void action_run_pause(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    if (self->last && self->last->state == THAW_WORKER_RUNNING)
        thaw_worker_pause(self->worker);
    else
        thaw_worker_run(self->worker);
}

static void action_step(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_worker_step(THAW_WINDOW(data)->worker);
}

static void action_reset(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_window_restart(THAW_WINDOW(data));
}

static void action_cancel_load(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_worker_cancel_load(THAW_WINDOW(data)->worker);
}

static void action_dismiss_error(GSimpleAction *a, GVariant *p, gpointer data)
{
    dismiss_error(THAW_WINDOW(data));
}

static void change_preset(GSimpleAction *a, GVariant *value, gpointer data)
{
    ThawWindow *self = data;
    thaw_preset p;
    if (thaw_preset_from_name(g_variant_get_string(value, NULL), &p) != 0 ||
        p == THAW_PRESET_MANUAL)
        return;
    g_simple_action_set_state(a, value);
    set_preset(self, p);
    show_knobs(self, p, self->setup->base_training);
}

static void change_base_training(GSimpleAction *a, GVariant *value, gpointer data)
{
    ThawWindow *self = data;
    const char *id = g_variant_get_string(value, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(base_training_ids); i++)
        if (strcmp(id, base_training_ids[i]) == 0) {
            g_simple_action_set_state(a, value);
            set_base_training(self, base_training_values[i]);
            show_knobs(self, self->setup->preset, base_training_values[i]);
        }
}

static void change_setup(GSimpleAction *a, GVariant *value, gpointer data)
{
    ThawWindow *self = data;
    const char *id = g_variant_get_string(value, NULL);
    if (!*id || g_strcmp0(id, self->setup_id) == 0) return;
    g_autofree char *file = g_strconcat(id, ".ini", NULL);
    g_autofree char *path = g_build_filename(thaw_setup_presets_dir(), file, NULL);
    ThawSetup *s = thaw_setup_new();
    g_autoptr(GError) error = NULL;
    if (!thaw_setup_load_file(s, path, &error) || !thaw_setup_validate(s, &error)) {
        thaw_setup_free(s);
        thaw_window_show_error(self, error->message);
        thaw_window_select_setup_id(self, self->setup_id);
        return;
    }
    g_simple_action_set_state(a, value);
    thaw_window_select_setup_id(self, id);
    thaw_window_load_setup(self, s, id);
}

static void change_log_loss(GSimpleAction *a, GVariant *value, gpointer data)
{
    g_simple_action_set_state(a, value);
    thaw_chart_set_log_y(THAW_WINDOW(data)->loss_chart, g_variant_get_boolean(value));
}

static void action_set_lr(GSimpleAction *a, GVariant *p, gpointer data)
{
    ThawWindow *self = data;
    const char *text = g_variant_get_string(p, NULL);
    if (set_lr_text(self, text)) gtk_editable_set_text(GTK_EDITABLE(self->lr_entry), text);
}

static void action_freeze_all(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_model_pane_freeze_all(THAW_WINDOW(data)->model_pane);
}

static void action_unfreeze_all(GSimpleAction *a, GVariant *p, gpointer data)
{
    thaw_model_pane_unfreeze_all(THAW_WINDOW(data)->model_pane);
}

static void action_unfreeze_last(GSimpleAction *a, GVariant *p, gpointer data)
{
    int n = g_variant_get_int32(p);
    if (n >= 0) thaw_model_pane_unfreeze_last(THAW_WINDOW(data)->model_pane, n);
}

static const GActionEntry win_entries[] = {
    {.name = "run", .activate = action_run},
    {.name = "pause", .activate = action_pause},
    {.name = "run-pause", .activate = action_run_pause},
    {.name = "step", .activate = action_step},
    {.name = "reset", .activate = action_reset},
    {.name = "cancel-load", .activate = action_cancel_load},
    {.name = "dismiss-error", .activate = action_dismiss_error},
    {.name = "preset", .parameter_type = "s", .state = "'keras3'", .change_state = change_preset},
    {.name = "base-training",
     .parameter_type = "s",
     .state = "'none'",
     .change_state = change_base_training},
    {.name = "setup", .parameter_type = "s", .state = "''", .change_state = change_setup},
    {.name = "log-loss", .state = "false", .change_state = change_log_loss},
    {.name = "set-lr", .parameter_type = "s", .activate = action_set_lr},
    {.name = "freeze-all", .activate = action_freeze_all},
    {.name = "unfreeze-all", .activate = action_unfreeze_all},
    {.name = "unfreeze-last", .parameter_type = "i", .activate = action_unfreeze_last},
};

static void enable(ThawWindow *self, const char *name, gboolean on)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self), name);
    if (a) g_simple_action_set_enabled(G_SIMPLE_ACTION(a), on);
}

void thaw_window_update_actions(ThawWindow *self, gboolean can_train, gboolean loading)
{
    enable(self, "run", can_train);
    enable(self, "run-pause", can_train);
    enable(self, "step", can_train);
    enable(self, "cancel-load", loading);
    enable(self, "save-checkpoint", !loading && self->shadow != NULL);
}

/* ---- the object -------------------------------------------------------- */

ThawWorker *thaw_window_get_worker(ThawWindow *self)
{
    return self->worker;
}
ThawModelPane *thaw_window_get_model_pane(ThawWindow *self)
{
    return self->model_pane;
}
ThawChart *thaw_window_get_loss_chart(ThawWindow *self)
{
    return self->loss_chart;
}
ThawChart *thaw_window_get_acc_chart(ThawWindow *self)
{
    return self->acc_chart;
}
ThawReport *thaw_window_get_last_report(ThawWindow *self)
{
    return self->last;
}
const ThawSetup *thaw_window_get_setup(ThawWindow *self)
{
    return self->setup;
}
ThawStripPlot *thaw_window_get_strip_plot(ThawWindow *self)
{
    return self->strip_plot;
}
ThawLessonPane *thaw_window_get_lesson_pane(ThawWindow *self)
{
    return self->lesson_pane;
}
ThawBnPane *thaw_window_get_bn_pane(ThawWindow *self)
{
    return self->bn_pane;
}
ThawPredictionsPane *thaw_window_get_predictions_pane(ThawWindow *self)
{
    return self->predictions_pane;
}
ThawCodePane *thaw_window_get_code_pane(ThawWindow *self)
{
    return self->code_pane;
}
const char *thaw_window_get_error(ThawWindow *self)
{
    return self->error_text;
}

const char *thaw_window_get_work_text(ThawWindow *self)
{
    return gtk_label_get_text(self->work_label);
}

static void thaw_window_dispose(GObject *object)
{
    ThawWindow *self = THAW_WINDOW(object);
    /* THAW_FRAME_STATS=1: how smooth the window stayed while training. */
    if (g_getenv("THAW_FRAME_STATS") && self->frame_ms && self->frame_ms->len) {
        guint n;
        double p50, p95, max;
        thaw_window_frame_stats(self, &n, &p50, &p95, &max);
        g_printerr("thaw: frame intervals while training: %u frames, p50 %.1f ms, p95 %.1f ms, "
                   "max %.1f ms\n",
                   n, p50, p95, max);
        g_array_set_size(self->frame_ms, 0);
    }
    /* The worker first: it joins its thread (mid-step at worst), and no
     * report reaches this window afterwards. */
    if (self->worker) {
        g_signal_handlers_disconnect_by_data(self->worker, self);
        thaw_worker_stop(self->worker);
        g_clear_object(&self->worker);
    }
    if (self->model_pane) thaw_model_pane_set_model(self->model_pane, NULL);
    thaw_window_panes_dispose(self);
    self->disposed = TRUE;
    gtk_widget_dispose_template(GTK_WIDGET(self), THAW_TYPE_WINDOW);
    G_OBJECT_CLASS(thaw_window_parent_class)->dispose(object);
}

static void epoch_row_clear(gpointer p)
{
    g_free(((ThawEpochRow *)p)->marker);
}

static void thaw_window_finalize(GObject *object)
{
    ThawWindow *self = THAW_WINDOW(object);
    g_clear_pointer(&self->last, thaw_report_unref);
    g_clear_pointer(&self->shadow, thaw_model_free);
    thaw_setup_free(self->setup);
    thaw_setup_free(self->good_setup);
    g_free(self->setup_id);
    g_free(self->good_setup_id);
    g_free(self->error_text);
    g_ptr_array_unref(self->setup_ids);
    g_array_unref(self->steps);
    g_array_unref(self->epochs);
    g_array_unref(self->frame_ms);
    G_OBJECT_CLASS(thaw_window_parent_class)->finalize(object);
}

static void thaw_window_class_init(ThawWindowClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = thaw_window_dispose;
    oc->finalize = thaw_window_finalize;
    g_type_ensure(THAW_TYPE_CHART);
    g_type_ensure(THAW_TYPE_MODEL_PANE);
    g_type_ensure(THAW_TYPE_CODE_PANE);
    g_type_ensure(THAW_TYPE_PREDICTIONS_PANE);
    g_type_ensure(THAW_TYPE_BN_PANE);
    g_type_ensure(THAW_TYPE_STRIP_PLOT);
    g_type_ensure(THAW_TYPE_LESSON_PANE);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/thaw/Thaw/ui/thaw-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, ThawWindow, name)
    CHILD(setup_dropdown);
    CHILD(preset_dropdown);
    CHILD(base_training_dropdown);
    CHILD(run_button);
    CHILD(run_icon);
    CHILD(run_label);
    CHILD(step_button);
    CHILD(reset_button);
    CHILD(loading_revealer);
    CHILD(loading_label);
    CHILD(loading_bar);
    CHILD(error_revealer);
    CHILD(error_label);
    CHILD(model_pane);
    CHILD(loss_chart);
    CHILD(paned);
    CHILD(stack);
    CHILD(code_pane);
    CHILD(predictions_pane);
    CHILD(bn_pane);
    CHILD(lesson_pane);
    CHILD(exp_label);
    CHILD(exp_batch);
    CHILD(exp_passes);
    CHILD(strip_plot);
    CHILD(acc_chart);
    CHILD(lr_entry);
    CHILD(data_label);
    CHILD(state_label);
    CHILD(step_label);
    CHILD(epoch_label);
    CHILD(speed_label);
    CHILD(work_label);
    CHILD(elapsed_label);
    CHILD(message_label);
#undef CHILD
}

static void setup_charts(ThawWindow *self)
{
    ThawChart *l = self->loss_chart, *a = self->acc_chart;
    thaw_chart_set_title(l, "Loss (training batches)");
    thaw_chart_set_placeholder(l, "Press Run (Space) or Step (S) to train");
    thaw_chart_set_x_label(l, "step");
    thaw_chart_add_series(l, "batch loss", THAW_CHART_BLUE, THAW_CHART_LINE);          /* 0 */
    thaw_chart_add_series(l, "epoch loss", THAW_CHART_ORANGE, THAW_CHART_LINE_POINTS); /* 1 */
    thaw_chart_set_title(a, "Accuracy: validation in both modes, and fit()'s running estimate");
    /* Both charts leave the same room for y labels: steps line up. */
    thaw_chart_set_y_label_sample(l, "100%");
    thaw_chart_set_y_label_sample(a, "100%");
    thaw_chart_set_x_label(a, "step");
    thaw_chart_set_y_range(a, 0, 100);
    thaw_chart_set_y_unit(a, "%");
    thaw_chart_set_placeholder(a, "Validation accuracy in both modes appears after each epoch");
    thaw_chart_add_series(a, "training=False (inference)", THAW_CHART_GREEN,
                          THAW_CHART_LINE_POINTS); /* 0 */
    thaw_chart_add_series(a, "training=True (batch stats)", THAW_CHART_RED,
                          THAW_CHART_LINE_POINTS); /* 1 */
    thaw_chart_add_series(a, "fit accuracy, epoch so far", THAW_CHART_PURPLE,
                          THAW_CHART_DASHED); /* 2 */
}

static void setup_choosers(ThawWindow *self)
{
    GtkStringList *presets = gtk_string_list_new(NULL);
    for (int p = 0; p < THAW_PRESET_MANUAL; p++)
        gtk_string_list_append(presets, thaw_preset_get(p)->name);
    gtk_drop_down_set_model(self->preset_dropdown, G_LIST_MODEL(presets));
    g_object_unref(presets);
    const char *bt[] = {"base training=None", "base training=True", "base training=False", NULL};
    GtkStringList *bts = gtk_string_list_new(bt);
    gtk_drop_down_set_model(self->base_training_dropdown, G_LIST_MODEL(bts));
    g_object_unref(bts);
    fill_setups(self);
    g_signal_connect(self->preset_dropdown, "notify::selected", G_CALLBACK(on_preset_selected),
                     self);
    g_signal_connect(self->base_training_dropdown, "notify::selected",
                     G_CALLBACK(on_base_training_selected), self);
    g_signal_connect(self->setup_dropdown, "notify::selected", G_CALLBACK(on_setup_selected), self);
}

/* Space and S work unless the focused widget wants the key (typing in the
 * learning-rate entry, toggling a check box): a bubble-phase controller,
 * unlike application accelerators, which run in the capture phase. */
static void setup_keys(ThawWindow *self)
{
    GtkEventController *c = gtk_shortcut_controller_new();
    gtk_event_controller_set_propagation_phase(c, GTK_PHASE_BUBBLE);
    gtk_shortcut_controller_add_shortcut(GTK_SHORTCUT_CONTROLLER(c),
                                         gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_space, 0),
                                                          gtk_named_action_new("win.run-pause")));
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(c),
        gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_s, 0), gtk_named_action_new("win.step")));
    gtk_widget_add_controller(GTK_WIDGET(self), c);
}

static void thaw_window_init(ThawWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->setup_ids = g_ptr_array_new_with_free_func(g_free);
    self->steps = g_array_new(FALSE, FALSE, sizeof(ThawStepPoint));
    self->epochs = g_array_new(FALSE, FALSE, sizeof(ThawEpochRow));
    g_array_set_clear_func(self->epochs, epoch_row_clear);
    self->frame_ms = g_array_new(FALSE, FALSE, sizeof(double));
    g_action_map_add_action_entries(G_ACTION_MAP(self), win_entries, G_N_ELEMENTS(win_entries),
                                    self);
    thaw_window_add_file_actions(self);
    setup_charts(self);
    setup_keys(self);
    g_signal_connect(self->model_pane, "trainable-changed", G_CALLBACK(on_trainable_changed), self);
    g_signal_connect(self->lr_entry, "activate", G_CALLBACK(on_lr_activate), self);
    thaw_window_panes_setup(self);
    g_signal_connect(self, "close-request", G_CALLBACK(on_close_request), NULL);
    thaw_window_update_actions(self, FALSE, TRUE);
}

ThawWindow *thaw_window_new(GtkApplication *app, const ThawSetup *setup, const char *setup_id)
{
    ThawWindow *self = g_object_new(THAW_TYPE_WINDOW, "application", app, NULL);
    self->setup = thaw_setup_copy(setup);
    self->setup_id = g_strdup(setup_id);
    setup_choosers(self);
    thaw_window_select_setup_id(self, setup_id);
    show_knobs(self, setup->preset, setup->base_training);
    start_worker(self);
    return self;
}
