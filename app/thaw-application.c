/* ThawApplication: see thaw-application.h. */
#include "thaw-application.h"

#include "thaw-window.h"

struct _ThawApplication {
    GtkApplication parent_instance;
    ThawSetup *setup;
    char *setup_id;
    ThawSettings *settings; /* remembered from the last launch */
    char *settings_warning; /* what was wrong with them, if anything */
};

G_DEFINE_FINAL_TYPE(ThawApplication, thaw_application, GTK_TYPE_APPLICATION)

static void action_quit(GSimpleAction *a, GVariant *p, gpointer data)
{
    /* Closing each window disposes it, which stops its worker cleanly. */
    GList *windows = gtk_application_get_windows(GTK_APPLICATION(data));
    while (windows) {
        GtkWindow *w = windows->data;
        windows = windows->next;
        gtk_window_destroy(w);
    }
}

static void action_about(GSimpleAction *a, GVariant *p, gpointer data)
{
    static const char *authors[] = {"The Thaw developers", NULL};
    gtk_show_about_dialog(
        gtk_application_get_active_window(GTK_APPLICATION(data)), "program-name", "Thaw", "version",
        THAW_VERSION, "comments",
        "A workbench for the two knobs of transfer learning: which layers are frozen "
        "(trainable) and which mode they run in (training).",
        "license-type", GTK_LICENSE_GPL_3_0, "authors", authors, "logo-icon-name",
        "applications-science-symbolic", NULL);
}

static void on_screenshot_saved(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (!thaw_window_save_png_finish(THAW_WINDOW(source), result, &error))
        g_printerr("thaw: %s\n", error->message);
    g_application_release(G_APPLICATION(data));
}

static void action_screenshot(GSimpleAction *a, GVariant *p, gpointer data)
{
    GtkWindow *w = gtk_application_get_active_window(GTK_APPLICATION(data));
    const char *path = g_variant_get_string(p, NULL);
    if (!w || !THAW_IS_WINDOW(w)) {
        g_printerr("thaw: cannot write '%s': no window is open\n", path);
        return;
    }
    g_application_hold(G_APPLICATION(data)); /* until the PNG is written */
    thaw_window_save_png_async(THAW_WINDOW(w), path, on_screenshot_saved, data);
}

static const GActionEntry app_entries[] = {
    {.name = "quit", .activate = action_quit},
    {.name = "about", .activate = action_about},
    {.name = "screenshot", .parameter_type = "s", .activate = action_screenshot},
};

static void thaw_application_startup(GApplication *app)
{
    G_APPLICATION_CLASS(thaw_application_parent_class)->startup(app);
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_entries, G_N_ELEMENTS(app_entries), app);
    /* Space and S are window shortcuts in the bubble phase (thaw-window.c):
     * as application accelerators they would steal keys from text entries. */
    static const struct {
        const char *action, *accels[3];
    } accels[] = {
        {"app.quit", {"<Control>q", NULL}},
        {"win.reset", {"<Control>r", NULL}},
        {"win.open-images", {"<Control>o", NULL}},
        {"win.save-checkpoint", {"<Control>s", NULL}},
        {"win.export-code::pytorch", {"<Control>e", NULL}},
        {"win.show-help-overlay", {"F1", "<Control>question", NULL}},
    };
    for (guint i = 0; i < G_N_ELEMENTS(accels); i++)
        gtk_application_set_accels_for_action(GTK_APPLICATION(app), accels[i].action,
                                              accels[i].accels);
    GtkCssProvider *css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/io/github/thaw/Thaw/style.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref(css);
}

static void thaw_application_activate(GApplication *app)
{
    ThawApplication *self = THAW_APPLICATION(app);
    GtkWindow *w = gtk_application_get_active_window(GTK_APPLICATION(app));
    if (!w) {
        ThawWindow *win = thaw_window_new(GTK_APPLICATION(app), self->setup, self->setup_id);
        if (self->settings) thaw_window_restore(win, self->settings);
        if (self->settings_warning) thaw_window_show_message(win, self->settings_warning);
        w = GTK_WINDOW(win);
    }
    gtk_window_present(w);
}

static void thaw_application_finalize(GObject *object)
{
    ThawApplication *self = THAW_APPLICATION(object);
    thaw_setup_free(self->setup);
    g_free(self->setup_id);
    thaw_settings_free(self->settings);
    g_free(self->settings_warning);
    G_OBJECT_CLASS(thaw_application_parent_class)->finalize(object);
}

static void thaw_application_class_init(ThawApplicationClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = thaw_application_finalize;
    G_APPLICATION_CLASS(klass)->startup = thaw_application_startup;
    G_APPLICATION_CLASS(klass)->activate = thaw_application_activate;
}

static void thaw_application_init(ThawApplication *self)
{
}

ThawApplication *thaw_application_new(const ThawSetup *setup, const char *setup_id,
                                      const ThawSettings *settings, const char *settings_warning)
{
    ThawApplication *self =
        g_object_new(THAW_TYPE_APPLICATION, "application-id", THAW_APPLICATION_ID, "flags",
                     G_APPLICATION_DEFAULT_FLAGS, NULL);
    self->setup = thaw_setup_copy(setup);
    self->setup_id = g_strdup(setup_id);
    if (settings) {
        self->settings = thaw_settings_new();
        *self->settings = *settings;
        self->settings->pane = g_strdup(settings->pane);
        self->settings->setup_id = g_strdup(settings->setup_id);
        self->settings->setup_data = g_strdup(settings->setup_data);
    }
    self->settings_warning = g_strdup(settings_warning);
    return self;
}
