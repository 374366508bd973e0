/* ThawCodePane: see thaw-code-pane.h. */
#include "thaw-code-pane.h"

struct _ThawCodePane {
    GtkWidget parent_instance;
    GtkWidget *box;
    GtkWidget *framework; /* GtkDropDown: Keras, PyTorch */
    GtkWidget *copy, *save, *note;
    GtkWidget *view; /* GtkTextView */
    ThawCodeFramework fw;
};

G_DEFINE_FINAL_TYPE(ThawCodePane, thaw_code_pane, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_FRAMEWORK, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_SAVE_REQUESTED, N_SIGNALS };
static guint signals[N_SIGNALS];

void thaw_code_pane_set_framework(ThawCodePane *self, ThawCodeFramework fw)
{
    g_return_if_fail(THAW_IS_CODE_PANE(self));
    if (self->fw == fw) return;
    self->fw = fw;
    if (gtk_drop_down_get_selected(GTK_DROP_DOWN(self->framework)) != (guint)fw)
        gtk_drop_down_set_selected(GTK_DROP_DOWN(self->framework), fw);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FRAMEWORK]);
}

ThawCodeFramework thaw_code_pane_get_framework(ThawCodePane *self)
{
    g_return_val_if_fail(THAW_IS_CODE_PANE(self), THAW_CODE_KERAS);
    return self->fw;
}

void thaw_code_pane_set_code(ThawCodePane *self, const char *text, const char *error)
{
    g_return_if_fail(THAW_IS_CODE_PANE(self));
    GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->view));
    gtk_text_buffer_set_text(buf, text ? text : "", -1);
    gtk_label_set_text(GTK_LABEL(self->note), error ? error : "");
    gtk_widget_set_visible(self->note, error != NULL);
    gtk_widget_set_sensitive(self->copy, text && *text);
    gtk_widget_set_sensitive(self->save, text && *text);
}

char *thaw_code_pane_get_text(ThawCodePane *self)
{
    g_return_val_if_fail(THAW_IS_CODE_PANE(self), NULL);
    GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->view));
    GtkTextIter a, b;
    gtk_text_buffer_get_bounds(buf, &a, &b);
    return gtk_text_buffer_get_text(buf, &a, &b, FALSE);
}

void thaw_code_pane_copy(ThawCodePane *self)
{
    g_return_if_fail(THAW_IS_CODE_PANE(self));
    g_autofree char *text = thaw_code_pane_get_text(self);
    gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self)), text);
}

static void on_framework(GtkDropDown *dd, GParamSpec *pspec, ThawCodePane *self)
{
    thaw_code_pane_set_framework(self, (ThawCodeFramework)gtk_drop_down_get_selected(dd));
}

static void on_copy(GtkButton *b, ThawCodePane *self)
{
    thaw_code_pane_copy(self);
}

static void on_save(GtkButton *b, ThawCodePane *self)
{
    g_signal_emit(self, signals[SIGNAL_SAVE_REQUESTED], 0);
}

static void thaw_code_pane_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    ThawCodePane *self = THAW_CODE_PANE(object);
    if (id == PROP_FRAMEWORK)
        g_value_set_int(value, self->fw);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void thaw_code_pane_set_property(GObject *object, guint id, const GValue *value,
                                        GParamSpec *pspec)
{
    ThawCodePane *self = THAW_CODE_PANE(object);
    if (id == PROP_FRAMEWORK)
        thaw_code_pane_set_framework(self, (ThawCodeFramework)g_value_get_int(value));
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void thaw_code_pane_dispose(GObject *object)
{
    ThawCodePane *self = THAW_CODE_PANE(object);
    g_clear_pointer(&self->box, gtk_widget_unparent);
    G_OBJECT_CLASS(thaw_code_pane_parent_class)->dispose(object);
}

static void thaw_code_pane_class_init(ThawCodePaneClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->dispose = thaw_code_pane_dispose;
    oc->get_property = thaw_code_pane_get_property;
    oc->set_property = thaw_code_pane_set_property;
    props[PROP_FRAMEWORK] =
        g_param_spec_int("framework", NULL, NULL, THAW_CODE_KERAS, THAW_CODE_PYTORCH,
                         THAW_CODE_KERAS, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY);
    g_object_class_install_properties(oc, N_PROPS, props);
    signals[SIGNAL_SAVE_REQUESTED] =
        g_signal_new("save-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_layout_manager_type(GTK_WIDGET_CLASS(klass), GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "thaw-code-pane");
}

static void thaw_code_pane_init(ThawCodePane *self)
{
    self->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_parent(self->box, GTK_WIDGET(self));
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    const char *names[] = {"Keras (TensorFlow 2 / Keras 3)", "PyTorch", NULL};
    self->framework = gtk_drop_down_new_from_strings(names);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->framework), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Framework of the script", -1);
    g_signal_connect(self->framework, "notify::selected", G_CALLBACK(on_framework), self);
    GtkWidget *what = gtk_label_new("The same setup as a script to run on your own machine:");
    gtk_widget_add_css_class(what, "dim-label");
    gtk_label_set_xalign(GTK_LABEL(what), 0);
    gtk_widget_set_hexpand(what, TRUE);
    gtk_label_set_ellipsize(GTK_LABEL(what), PANGO_ELLIPSIZE_END);
    self->copy = gtk_button_new_with_mnemonic("_Copy");
    gtk_widget_set_tooltip_text(self->copy, "Copy the script to the clipboard");
    g_signal_connect(self->copy, "clicked", G_CALLBACK(on_copy), self);
    self->save = gtk_button_new_with_mnemonic("_Save…");
    gtk_widget_set_tooltip_text(self->save, "Save the script to a .py file");
    g_signal_connect(self->save, "clicked", G_CALLBACK(on_save), self);
    gtk_box_append(GTK_BOX(row), what);
    gtk_box_append(GTK_BOX(row), self->framework);
    gtk_box_append(GTK_BOX(row), self->copy);
    gtk_box_append(GTK_BOX(row), self->save);
    gtk_box_append(GTK_BOX(self->box), row);
    self->note = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(self->note), TRUE);
    gtk_label_set_xalign(GTK_LABEL(self->note), 0);
    gtk_widget_add_css_class(self->note, "error");
    gtk_widget_set_visible(self->note, FALSE);
    gtk_box_append(GTK_BOX(self->box), self->note);
    self->view = gtk_text_view_new();
    gtk_text_view_set_editable(GTK_TEXT_VIEW(self->view), FALSE);
    gtk_text_view_set_monospace(GTK_TEXT_VIEW(self->view), TRUE);
    gtk_text_view_set_left_margin(GTK_TEXT_VIEW(self->view), 8);
    gtk_text_view_set_top_margin(GTK_TEXT_VIEW(self->view), 6);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   "Generated training script", -1);
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), self->view);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_box_append(GTK_BOX(self->box), scroll);
    thaw_code_pane_set_code(self, NULL, NULL);
}

GtkWidget *thaw_code_pane_new(void)
{
    return g_object_new(THAW_TYPE_CODE_PANE, NULL);
}
