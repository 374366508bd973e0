/* ThawWindow's files: opening images and weights, saving checkpoints,
 * exporting scripts, the window as PNG and the run history as CSV.
 *
 * GTK 4.8 has no GtkFileDialog: choosers are GtkFileChooserNative (a portal
 * dialog where there is one). Every choice ends in the worker (a reload or a
 * save between two steps) or in a small file write on the main thread;
 * failures go to the error banner with the message the CLI would print. */
#include "thaw-window-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "export-setup.h"

typedef void (*ChosenFn)(ThawWindow *self, const char *path, const char *extra);

typedef struct {
    ThawWindow *self;
    ChosenFn fn;
    char *extra;
} Choice;

static void on_chooser_response(GtkNativeDialog *dialog, int response, Choice *c)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;
        if (path)
            c->fn(c->self, path, c->extra);
        else if (file)
            thaw_window_show_error(c->self, "Thaw reads and writes local files only");
    }
    g_object_unref(c->self);
    g_free(c->extra);
    g_free(c);
    g_object_unref(dialog);
}

/* Opens a chooser; fn(self, path, extra) runs on a local file accepted. */
static void choose(ThawWindow *self, const char *title, GtkFileChooserAction action,
                   const char *accept, const char *suggested, GtkFileFilter *filter, ChosenFn fn,
                   const char *extra)
{
    GtkFileChooserNative *d =
        gtk_file_chooser_native_new(title, GTK_WINDOW(self), action, accept, "_Cancel");
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
    if (suggested) gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), suggested);
    if (filter) gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), filter);
    Choice *c = g_new0(Choice, 1);
    c->self = g_object_ref(self);
    c->fn = fn;
    c->extra = g_strdup(extra);
    g_signal_connect(d, "response", G_CALLBACK(on_chooser_response), c);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static GtkFileFilter *filter_new(const char *name, const char *const *patterns)
{
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, name);
    for (int i = 0; patterns[i]; i++) gtk_file_filter_add_pattern(f, patterns[i]);
    return f;
}

/* ---- opening: a new setup, loaded off the main thread by the worker ---- */

static void reload_with(ThawWindow *self, const char *key, const char *value)
{
    ThawSetup *s = thaw_setup_copy(self->setup);
    g_autoptr(GError) error = NULL;
    if (!thaw_setup_set(s, key, value, &error) || !thaw_setup_validate(s, &error)) {
        thaw_window_show_error(self, error->message);
        thaw_setup_free(s);
        return;
    }
    if (strcmp(key, "dataset") == 0) {
        /* A folder brings its own classes and validation. */
        g_free(s->val_dataset);
        s->val_dataset = g_strdup("");
    }
    thaw_window_load_setup(self, s, NULL);
    thaw_window_select_setup_id(self, NULL);
}

static void open_images(ThawWindow *self, const char *path, const char *extra)
{
    reload_with(self, "dataset", path);
}

static void open_weights(ThawWindow *self, const char *path, const char *extra)
{
    reload_with(self, "model", path);
}

static void action_open_images(GSimpleAction *a, GVariant *p, gpointer data)
{
    /* With a path (D-Bus, tests) it opens that folder directly. */
    if (p) {
        open_images(data, g_variant_get_string(p, NULL), NULL);
        return;
    }
    choose(data, "Open Images Folder (one sub-folder of PNG images per class)",
           GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", NULL, NULL, open_images, NULL);
}

static void action_open_weights(GSimpleAction *a, GVariant *p, gpointer data)
{
    if (p) {
        open_weights(data, g_variant_get_string(p, NULL), NULL);
        return;
    }
    static const char *const pats[] = {"*.thaw", "*.h5", "*.hdf5", NULL};
    choose(data, "Open Weights", GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", NULL,
           filter_new("Thaw checkpoints and Keras weights (.thaw, .h5)", pats), open_weights, NULL);
}

/* ---- saving ------------------------------------------------------------ */

static void save_checkpoint(ThawWindow *self, const char *path, const char *extra)
{
    thaw_worker_save(self->worker, path);
    g_autofree char *msg = g_strdup_printf("saving '%s'…", path);
    thaw_window_show_message(self, msg);
}

static void action_save_checkpoint(GSimpleAction *a, GVariant *p, gpointer data)
{
    if (p) {
        save_checkpoint(data, g_variant_get_string(p, NULL), NULL);
        return;
    }
    static const char *const pats[] = {"*.thaw", NULL};
    choose(data, "Save Checkpoint", GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "fine-tuned.thaw",
           filter_new("Thaw checkpoints (.thaw)", pats), save_checkpoint, NULL);
}

/* Writes text to path atomically; errors go to the banner. */
static void write_text(ThawWindow *self, const char *path, const char *text)
{
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(path, text, -1, &error)) {
        thaw_window_show_error(self, error->message);
        return;
    }
    g_autofree char *msg = g_strdup_printf("wrote '%s'", path);
    thaw_window_show_message(self, msg);
}

static void export_code(ThawWindow *self, const char *path, const char *framework)
{
    ThawExportFramework fw;
    const ThawReport *r = self->last;
    if (!thaw_export_framework_from_name(framework, &fw)) return;
    if (!r || r->n_layers == 0) {
        thaw_window_show_error(self, "export: no model is loaded");
        return;
    }
    /* r->config is the target model's: its base architecture, its classes. */
    g_autoptr(GError) error = NULL;
    g_autofree char *code = thaw_export_setup_code(self->setup, &r->config, r->model_path,
                                                   r->config.classes, fw, &error);
    if (!code) {
        thaw_window_show_error(self, error->message);
        return;
    }
    write_text(self, path, code);
}

static void action_export_code(GSimpleAction *a, GVariant *p, gpointer data)
{
    const char *fw = g_variant_get_string(p, NULL);
    gboolean keras = strcmp(fw, "keras") == 0;
    static const char *const pats[] = {"*.py", NULL};
    choose(data, keras ? "Export Keras Script" : "Export PyTorch Script",
           GTK_FILE_CHOOSER_ACTION_SAVE, "_Export",
           keras ? "finetune_keras.py" : "finetune_torch.py",
           filter_new("Python scripts (.py)", pats), export_code, fw);
}

/* PNG writers write in place: they write to tmp, and this renames it over
 * path, so that a failed write never leaves half a file under the name.
 * failed: why the writer failed, NULL if it did not. */
static gboolean finish_write(const char *tmp, const char *path, const char *failed, GError **error)
{
    if (!failed && g_rename(tmp, path) == 0) return TRUE;
    int e = failed ? EIO : errno;
    g_unlink(tmp);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot write '%s': %s", path,
                failed ? failed : g_strerror(e));
    return FALSE;
}

/* Renders the window's last frame to path. Right after a paint the
 * widget's render node is current; at any other time a pending redraw may
 * have dropped it (during training, almost always), so the work is done in
 * the frame clock's after-paint. */
static gboolean render_png(ThawWindow *self, const char *path, GError **error)
{
    GtkWidget *w = GTK_WIDGET(self);
    int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
    GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(self));
    GdkPaintable *paintable = gtk_widget_paintable_new(w);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, snap, width, height);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    g_object_unref(paintable);
    if (!node || !renderer) {
        if (node) gsk_render_node_unref(node);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cannot write '%s': the window has not been drawn", path);
        return FALSE;
    }
    graphene_rect_t bounds = GRAPHENE_RECT_INIT(0, 0, width, height);
    GdkTexture *texture = gsk_renderer_render_texture(renderer, node, &bounds);
    gsk_render_node_unref(node);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    gboolean ok = gdk_texture_save_to_png(texture, tmp);
    g_object_unref(texture);
    return finish_write(tmp, path, ok ? NULL : "the PNG was not written", error);
}

typedef struct {
    GdkFrameClock *clock;
    gulong handler;
} PngWait;

static void png_wait_free(PngWait *p)
{
    if (p->handler) g_signal_handler_disconnect(p->clock, p->handler);
    g_object_unref(p->clock);
    g_free(p);
}

static void on_after_paint(GdkFrameClock *clock, GTask *task)
{
    PngWait *p = g_task_get_task_data(task);
    g_signal_handler_disconnect(clock, p->handler);
    p->handler = 0;
    GError *error = NULL;
    if (render_png(g_task_get_source_object(task), g_object_get_data(G_OBJECT(task), "path"),
                   &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
    g_object_unref(task);
}

void thaw_window_save_png_async(ThawWindow *self, const char *path, GAsyncReadyCallback callback,
                                gpointer user_data)
{
    g_return_if_fail(THAW_IS_WINDOW(self) && path);
    GTask *task = g_task_new(self, NULL, callback, user_data);
    g_task_set_source_tag(task, thaw_window_save_png_async);
    g_object_set_data_full(G_OBJECT(task), "path", g_strdup(path), g_free);
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(self));
    if (!clock || !gtk_widget_get_mapped(GTK_WIDGET(self))) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                "cannot write '%s': the window is not on screen", path);
        g_object_unref(task);
        return;
    }
    PngWait *p = g_new0(PngWait, 1);
    p->clock = g_object_ref(clock);
    g_task_set_task_data(task, p, (GDestroyNotify)png_wait_free);
    p->handler = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), task);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean thaw_window_save_png_finish(ThawWindow *self, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

static void on_png_saved(GObject *source, GAsyncResult *result, gpointer data)
{
    ThawWindow *self = THAW_WINDOW(source);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = data;
    if (!thaw_window_save_png_finish(self, result, &error)) {
        thaw_window_show_error(self, error->message);
        return;
    }
    g_autofree char *msg = g_strdup_printf("wrote '%s'", path);
    thaw_window_show_message(self, msg);
}

static void export_png(ThawWindow *self, const char *path, const char *extra)
{
    thaw_window_save_png_async(self, path, on_png_saved, g_strdup(path));
}

static void action_export_png(GSimpleAction *a, GVariant *p, gpointer data)
{
    static const char *const pats[] = {"*.png", NULL};
    choose(data, "Export Window as PNG", GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "thaw.png",
           filter_new("PNG images", pats), export_png, NULL);
}

/* ---- a pane as PNG, at 2x: what is on screen, drawn again with cairo ---- */

/* Draws the visible pane's content into cr (width x height in pane pixels);
 * FALSE for a pane that has no picture (the Code pane: export the script). */
static gboolean draw_pane(ThawWindow *self, const char *pane, cairo_t *cr, int width, int height)
{
    if (g_strcmp0(pane, "training") == 0) {
        /* the two charts one above the other, as on screen */
        int hl = gtk_widget_get_height(GTK_WIDGET(self->loss_chart));
        int ha = gtk_widget_get_height(GTK_WIDGET(self->acc_chart));
        if (hl <= 0 || ha <= 0) hl = ha = height / 2;
        double k = (double)height / (hl + ha);
        cairo_save(cr);
        thaw_chart_draw(self->loss_chart, cr, width, (int)(hl * k));
        cairo_translate(cr, 0, (int)(hl * k));
        thaw_chart_draw(self->acc_chart, cr, width, height - (int)(hl * k));
        cairo_restore(cr);
        return TRUE;
    }
    if (g_strcmp0(pane, "batchnorm") == 0) {
        thaw_bn_pane_draw(self->bn_pane, cr, width, height);
        return TRUE;
    }
    if (g_strcmp0(pane, "predictions") == 0) {
        thaw_predictions_pane_draw(self->predictions_pane, cr, width, height);
        return TRUE;
    }
    return FALSE;
}

gboolean thaw_window_export_pane_png(ThawWindow *self, const char *pane, const char *path,
                                     int *out_w, int *out_h, GError **error)
{
    GtkWidget *stack = GTK_WIDGET(self->stack);
    int width = MAX(gtk_widget_get_width(stack), 640),
        height = MAX(gtk_widget_get_height(stack), 480);
    const int scale = 2; /* crisp on slides and high-density screens */
    cairo_surface_t *surface =
        cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width * scale, height * scale);
    cairo_t *cr = cairo_create(surface);
    /* An opaque background in the theme's window colour (the widgets draw
     * their text in the theme's colours, light or dark). */
    GdkRGBA bg = {1, 1, 1, 1};
    GtkStyleContext *ctx = gtk_widget_get_style_context(GTK_WIDGET(self));
    if (!gtk_style_context_lookup_color(ctx, "window_bg_color", &bg)) bg = (GdkRGBA){1, 1, 1, 1};
    cairo_set_source_rgb(cr, bg.red, bg.green, bg.blue);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    gboolean drawn = draw_pane(self, pane, cr, width, height);
    cairo_destroy(cr);
    if (!drawn) {
        cairo_surface_destroy(surface);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "the %s pane has no picture to export", pane ? pane : "(none)");
        return FALSE;
    }
    /* cairo writes with libpng */
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    cairo_status_t st = cairo_surface_write_to_png(surface, tmp);
    cairo_surface_destroy(surface);
    if (!finish_write(tmp, path, st == CAIRO_STATUS_SUCCESS ? NULL : cairo_status_to_string(st),
                      error))
        return FALSE;
    if (out_w) *out_w = width * scale;
    if (out_h) *out_h = height * scale;
    return TRUE;
}

static void export_pane(ThawWindow *self, const char *path, const char *extra)
{
    g_autoptr(GError) error = NULL;
    const char *pane = gtk_stack_get_visible_child_name(self->stack);
    if (!thaw_window_export_pane_png(self, pane, path, NULL, NULL, &error)) {
        thaw_window_show_error(self, error->message);
        return;
    }
    g_autofree char *msg = g_strdup_printf("wrote '%s'", path);
    thaw_window_show_message(self, msg);
}

static void action_export_pane(GSimpleAction *a, GVariant *p, gpointer data)
{
    if (p) {
        export_pane(data, g_variant_get_string(p, NULL), NULL);
        return;
    }
    ThawWindow *self = data;
    g_autofree char *name =
        g_strdup_printf("thaw-%s.png", gtk_stack_get_visible_child_name(self->stack));
    static const char *const pats[] = {"*.png", NULL};
    choose(data, "Export Pane as PNG (2×)", GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", name,
           filter_new("PNG images", pats), export_pane, NULL);
}

/* The run history: every step's batch loss and accuracy, each epoch's
 * results, and the markers, in step order (one table, a `kind` column). */
static char *history_csv(ThawWindow *self)
{
    GString *s = g_string_new("kind,step,epoch,loss,accuracy,val_acc_training_false,"
                              "val_acc_training_true,label\n");
    char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE],
        d[G_ASCII_DTOSTR_BUF_SIZE];
    guint e = 0;
    ThawEpochRow *rows = (ThawEpochRow *)(void *)self->epochs->data;
    for (guint i = 0; i <= self->steps->len; i++) {
        guint64 step =
            i < self->steps->len ? g_array_index(self->steps, ThawStepPoint, i).step : G_MAXUINT64;
        /* markers and epochs that happened before this step */
        for (; e < self->epochs->len; e++) {
            const ThawEpochRow *r = &rows[e];
            guint64 at = r->epoch ? r->step : r->marker_step;
            if (at >= step) break;
            if (r->epoch) {
                g_string_append_printf(s, "epoch,%" G_GUINT64_FORMAT ",%d,%s,%s,%s,%s,\n", r->step,
                                       r->epoch, g_ascii_formatd(a, sizeof a, "%.6g", r->loss),
                                       g_ascii_formatd(b, sizeof b, "%.6g", r->acc),
                                       g_ascii_formatd(c, sizeof c, "%.6g", r->val_infer),
                                       g_ascii_formatd(d, sizeof d, "%.6g", r->val_train));
            } else {
                g_autofree char *label = g_strdup(r->marker);
                g_strdelimit(label, ",\"\n", ' ');
                g_string_append_printf(s, "marker,%" G_GUINT64_FORMAT ",,,,,,%s\n", r->marker_step,
                                       label);
            }
        }
        if (i == self->steps->len) break;
        const ThawStepPoint *p = &g_array_index(self->steps, ThawStepPoint, i);
        g_string_append_printf(s, "step,%" G_GUINT64_FORMAT ",,%s,%s,,,\n", p->step,
                               g_ascii_formatd(a, sizeof a, "%.6g", p->loss),
                               g_ascii_formatd(b, sizeof b, "%.6g", p->acc));
    }
    return g_string_free(s, FALSE);
}

static void export_csv(ThawWindow *self, const char *path, const char *extra)
{
    g_autofree char *csv = history_csv(self);
    write_text(self, path, csv);
}

static void action_export_csv(GSimpleAction *a, GVariant *p, gpointer data)
{
    if (p) {
        export_csv(data, g_variant_get_string(p, NULL), NULL);
        return;
    }
    static const char *const pats[] = {"*.csv", NULL};
    choose(data, "Export Run History as CSV", GTK_FILE_CHOOSER_ACTION_SAVE, "_Export",
           "thaw-run.csv", filter_new("CSV files", pats), export_csv, NULL);
}

/* Actions with an optional path: the menus pass none (a chooser opens);
 * D-Bus and tests may use the -to variants with a path. */
static const GActionEntry file_entries[] = {
    {.name = "open-images", .activate = action_open_images},
    {.name = "open-images-from", .parameter_type = "s", .activate = action_open_images},
    {.name = "open-weights", .activate = action_open_weights},
    {.name = "open-weights-from", .parameter_type = "s", .activate = action_open_weights},
    {.name = "save-checkpoint", .activate = action_save_checkpoint},
    {.name = "save-checkpoint-to", .parameter_type = "s", .activate = action_save_checkpoint},
    {.name = "export-code", .parameter_type = "s", .activate = action_export_code},
    {.name = "export-png", .activate = action_export_png},
    {.name = "export-pane", .activate = action_export_pane},
    {.name = "export-pane-to", .parameter_type = "s", .activate = action_export_pane},
    {.name = "export-csv", .activate = action_export_csv},
    {.name = "export-csv-to", .parameter_type = "s", .activate = action_export_csv},
};

void thaw_window_add_file_actions(ThawWindow *self)
{
    g_action_map_add_action_entries(G_ACTION_MAP(self), file_entries, G_N_ELEMENTS(file_entries),
                                    self);
}
