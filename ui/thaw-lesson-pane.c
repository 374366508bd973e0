/* ThawLessonPane: see thaw-lesson-pane.h. */
#include "thaw-lesson-pane.h"

#include "thaw-markdown.h"

struct _ThawLessonPane {
    GtkWidget parent_instance;
    GtkWidget *box, *chooser, *setup, *text;
    GtkWidget *measure, *busy_row, *spinner, *progress, *cancel, *result;
    GPtrArray *names;
    char *markup, *result_markup;
    gboolean quiet; /* setting the chooser from code */
};

G_DEFINE_FINAL_TYPE(ThawLessonPane, thaw_lesson_pane, GTK_TYPE_WIDGET)

enum {
    SIGNAL_DEMO_SELECTED,
    SIGNAL_SETUP_REQUESTED,
    SIGNAL_MEASURE_REQUESTED,
    SIGNAL_MEASURE_CANCELLED,
    N_SIGNALS
};
static guint signals[N_SIGNALS];

const char *thaw_lesson_pane_get_selected(ThawLessonPane *self)
{
    g_return_val_if_fail(THAW_IS_LESSON_PANE(self), NULL);
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->chooser));
    return i < self->names->len ? self->names->pdata[i] : NULL;
}

static void on_selected(GtkDropDown *dd, GParamSpec *pspec, ThawLessonPane *self)
{
    const char *name = thaw_lesson_pane_get_selected(self);
    gtk_widget_set_sensitive(self->setup, name != NULL);
    gtk_widget_set_sensitive(self->measure, name != NULL && !thaw_lesson_pane_get_busy(self));
    if (name && !self->quiet) g_signal_emit(self, signals[SIGNAL_DEMO_SELECTED], 0, name);
}

static void on_setup(GtkButton *b, ThawLessonPane *self)
{
    const char *name = thaw_lesson_pane_get_selected(self);
    if (name) g_signal_emit(self, signals[SIGNAL_SETUP_REQUESTED], 0, name);
}

static void on_measure(GtkButton *b, ThawLessonPane *self)
{
    const char *name = thaw_lesson_pane_get_selected(self);
    if (name) g_signal_emit(self, signals[SIGNAL_MEASURE_REQUESTED], 0, name);
}

static void on_cancel(GtkButton *b, ThawLessonPane *self)
{
    g_signal_emit(self, signals[SIGNAL_MEASURE_CANCELLED], 0);
}

gboolean thaw_lesson_pane_get_busy(ThawLessonPane *self)
{
    g_return_val_if_fail(THAW_IS_LESSON_PANE(self), FALSE);
    return gtk_widget_get_visible(self->busy_row);
}

void thaw_lesson_pane_set_progress(ThawLessonPane *self, const char *progress)
{
    g_return_if_fail(THAW_IS_LESSON_PANE(self));
    gboolean busy = progress != NULL;
    gtk_widget_set_visible(self->busy_row, busy);
    gtk_spinner_set_spinning(GTK_SPINNER(self->spinner), busy);
    gtk_label_set_text(GTK_LABEL(self->progress), busy ? progress : "");
    gtk_widget_set_sensitive(self->measure, !busy && thaw_lesson_pane_get_selected(self));
}

void thaw_lesson_pane_set_result(ThawLessonPane *self, const char *markup)
{
    g_return_if_fail(THAW_IS_LESSON_PANE(self));
    g_free(self->result_markup);
    self->result_markup = g_strdup(markup);
    gtk_label_set_markup(GTK_LABEL(self->result), markup ? markup : "");
    gtk_widget_set_visible(self->result, markup != NULL);
}

const char *thaw_lesson_pane_get_result(ThawLessonPane *self)
{
    g_return_val_if_fail(THAW_IS_LESSON_PANE(self), NULL);
    return self->result_markup;
}

void thaw_lesson_pane_set_demos(ThawLessonPane *self, int n, const char *const *names,
                                const char *const *titles)
{
    g_return_if_fail(THAW_IS_LESSON_PANE(self));
    g_ptr_array_set_size(self->names, 0);
    GtkStringList *list = gtk_string_list_new(NULL);
    for (int i = 0; i < n; i++) {
        g_ptr_array_add(self->names, g_strdup(names[i]));
        g_autofree char *item = g_strdup_printf("%d. %s", i + 1, titles[i]);
        gtk_string_list_append(list, item);
    }
    self->quiet = TRUE;
    gtk_drop_down_set_model(GTK_DROP_DOWN(self->chooser), G_LIST_MODEL(list));
    self->quiet = FALSE;
    g_object_unref(list);
    if (n > 0) {
        gtk_drop_down_set_selected(GTK_DROP_DOWN(self->chooser), 0);
        on_selected(GTK_DROP_DOWN(self->chooser), NULL, self);
    }
}

void thaw_lesson_pane_select(ThawLessonPane *self, const char *name)
{
    g_return_if_fail(THAW_IS_LESSON_PANE(self));
    for (guint i = 0; i < self->names->len; i++)
        if (g_strcmp0(self->names->pdata[i], name) == 0)
            gtk_drop_down_set_selected(GTK_DROP_DOWN(self->chooser), i);
}

void thaw_lesson_pane_set_lesson(ThawLessonPane *self, const char *markdown)
{
    g_return_if_fail(THAW_IS_LESSON_PANE(self));
    g_free(self->markup);
    self->markup = thaw_markdown_to_pango(markdown ? markdown : "");
    gtk_label_set_markup(GTK_LABEL(self->text), self->markup);
}

const char *thaw_lesson_pane_get_markup(ThawLessonPane *self)
{
    return self->markup;
}

static void thaw_lesson_pane_dispose(GObject *object)
{
    ThawLessonPane *self = THAW_LESSON_PANE(object);
    g_clear_pointer(&self->box, gtk_widget_unparent);
    G_OBJECT_CLASS(thaw_lesson_pane_parent_class)->dispose(object);
}

static void thaw_lesson_pane_finalize(GObject *object)
{
    ThawLessonPane *self = THAW_LESSON_PANE(object);
    g_ptr_array_unref(self->names);
    g_free(self->markup);
    g_free(self->result_markup);
    G_OBJECT_CLASS(thaw_lesson_pane_parent_class)->finalize(object);
}

static void thaw_lesson_pane_class_init(ThawLessonPaneClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->dispose = thaw_lesson_pane_dispose;
    oc->finalize = thaw_lesson_pane_finalize;
    signals[SIGNAL_DEMO_SELECTED] =
        g_signal_new("demo-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_SETUP_REQUESTED] =
        g_signal_new("setup-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_MEASURE_REQUESTED] =
        g_signal_new("measure-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_MEASURE_CANCELLED] =
        g_signal_new("measure-cancelled", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_layout_manager_type(GTK_WIDGET_CLASS(klass), GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "thaw-lesson-pane");
}

static void thaw_lesson_pane_init(ThawLessonPane *self)
{
    self->names = g_ptr_array_new_with_free_func(g_free);
    self->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_margin_start(self->box, 6);
    gtk_widget_set_margin_end(self->box, 6);
    gtk_widget_set_margin_bottom(self->box, 6);
    gtk_widget_set_parent(self->box, GTK_WIDGET(self));
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    self->chooser = gtk_drop_down_new(NULL, NULL);
    gtk_widget_set_hexpand(self->chooser, TRUE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->chooser), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Demo", -1);
    g_signal_connect(self->chooser, "notify::selected", G_CALLBACK(on_selected), self);
    self->setup = gtk_button_new_with_mnemonic("_Set up this demo");
    gtk_widget_add_css_class(self->setup, "suggested-action");
    gtk_widget_set_tooltip_text(self->setup, "Load the demo's setup (the model, data, freezing "
                                             "and semantics it needs) and show the charts");
    gtk_widget_set_sensitive(self->setup, FALSE);
    g_signal_connect(self->setup, "clicked", G_CALLBACK(on_setup), self);
    self->measure = gtk_button_new_with_mnemonic("_Measure");
    gtk_widget_set_tooltip_text(self->measure,
                                "Run the demo's measurement here, as thaw-cli demo does: every "
                                "variant headless (up to a minute), then the numbers and the "
                                "verdict");
    gtk_widget_set_sensitive(self->measure, FALSE);
    g_signal_connect(self->measure, "clicked", G_CALLBACK(on_measure), self);
    gtk_box_append(GTK_BOX(row), self->chooser);
    gtk_box_append(GTK_BOX(row), self->setup);
    gtk_box_append(GTK_BOX(row), self->measure);
    gtk_box_append(GTK_BOX(self->box), row);

    self->busy_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    self->spinner = gtk_spinner_new();
    self->progress = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(self->progress), 0);
    gtk_label_set_ellipsize(GTK_LABEL(self->progress), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(self->progress, TRUE);
    self->cancel = gtk_button_new_with_mnemonic("_Cancel");
    gtk_widget_set_tooltip_text(self->cancel, "Stop the measurement");
    g_signal_connect(self->cancel, "clicked", G_CALLBACK(on_cancel), self);
    gtk_box_append(GTK_BOX(self->busy_row), self->spinner);
    gtk_box_append(GTK_BOX(self->busy_row), self->progress);
    gtk_box_append(GTK_BOX(self->busy_row), self->cancel);
    gtk_widget_set_visible(self->busy_row, FALSE);
    gtk_box_append(GTK_BOX(self->box), self->busy_row);

    self->result = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(self->result), TRUE);
    gtk_label_set_xalign(GTK_LABEL(self->result), 0);
    gtk_label_set_selectable(GTK_LABEL(self->result), TRUE);
    gtk_widget_add_css_class(self->result, "lesson-result");
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->result), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Measured numbers", -1);
    gtk_widget_set_visible(self->result, FALSE);
    self->text = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(self->text), TRUE);
    gtk_label_set_xalign(GTK_LABEL(self->text), 0);
    gtk_label_set_yalign(GTK_LABEL(self->text), 0);
    gtk_label_set_selectable(GTK_LABEL(self->text), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(self->text), 90);
    gtk_widget_set_margin_top(self->text, 8);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->text), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Lesson", -1);
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    GtkWidget *content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_box_append(GTK_BOX(content), self->result);
    gtk_box_append(GTK_BOX(content), self->text);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), content);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_box_append(GTK_BOX(self->box), scroll);
}

GtkWidget *thaw_lesson_pane_new(void)
{
    return g_object_new(THAW_TYPE_LESSON_PANE, NULL);
}
