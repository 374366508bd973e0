/* ThawCodePane: shows the text it is given, the framework switch notifies
 * once per change, Copy puts the text on the clipboard, Save asks. */
#include <gtk/gtk.h>

#include "thaw-code-pane.h"

static void count(GObject *o, GParamSpec *p, int *n)
{
    (*n)++;
}

static void on_text(GObject *source, GAsyncResult *res, gpointer data)
{
    char **out = data;
    *out = gdk_clipboard_read_text_finish(GDK_CLIPBOARD(source), res, NULL);
    if (!*out) *out = g_strdup("");
}

static void test_pane(void)
{
    GtkWidget *win = gtk_window_new();
    ThawCodePane *pane = THAW_CODE_PANE(thaw_code_pane_new());
    gtk_window_set_child(GTK_WINDOW(win), GTK_WIDGET(pane));
    gtk_window_present(GTK_WINDOW(win));

    thaw_code_pane_set_code(pane, "import torch\nprint('hi')\n", NULL);
    g_autofree char *t = thaw_code_pane_get_text(pane);
    g_assert_cmpstr(t, ==, "import torch\nprint('hi')\n");

    int notified = 0;
    g_signal_connect(pane, "notify::framework", G_CALLBACK(count), &notified);
    thaw_code_pane_set_framework(pane, THAW_CODE_PYTORCH);
    thaw_code_pane_set_framework(pane, THAW_CODE_PYTORCH);
    g_assert_cmpint(notified, ==, 1);
    g_assert_cmpint(thaw_code_pane_get_framework(pane), ==, THAW_CODE_PYTORCH);

    thaw_code_pane_copy(pane);
    char *clip = NULL;
    gdk_clipboard_read_text_async(gtk_widget_get_clipboard(GTK_WIDGET(pane)), NULL, on_text, &clip);
    while (!clip) g_main_context_iteration(NULL, TRUE);
    g_assert_cmpstr(clip, ==, "import torch\nprint('hi')\n");
    g_free(clip);

    int saves = 0;
    g_signal_connect_swapped(pane, "save-requested", G_CALLBACK(g_atomic_int_inc), &saves);
    g_signal_emit_by_name(pane, "save-requested");
    g_assert_cmpint(saves, ==, 1);

    /* an error replaces the script */
    thaw_code_pane_set_code(pane, NULL, "PyTorch cannot load .h5 weights");
    g_autofree char *e = thaw_code_pane_get_text(pane);
    g_assert_cmpstr(e, ==, "");
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/code-pane/basics", test_pane);
    return g_test_run();
}
