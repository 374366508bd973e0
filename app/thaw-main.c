/* thaw: the window. `thaw [--setup FILE] [SETUP OPTION...]` takes the same
 * setup options as `thaw-cli finetune` (see `thaw-cli finetune --help`);
 * without any it opens on the embedded default scenario (the shipped
 * fashion-resnet20, Fashion-MNIST classes 5-9, keras3, base frozen). */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "thaw-application.h"

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: thaw [--setup FILE] [SETUP OPTION...]\n"
                   "Open the Thaw window on a fine-tune setup (default: the embedded default\n"
                   "scenario). Setup options are those of 'thaw-cli finetune --help'.\n");
            return 0;
        }
    g_autoptr(ThawSetup) setup = thaw_setup_new();
    g_autoptr(GError) error = NULL;
    gboolean plain = argc == 1;
    g_autofree char *settings_path = thaw_settings_path();
    g_autofree char *warning = NULL;
    g_autoptr(ThawSettings) settings = thaw_settings_load(settings_path, &warning);
    if (warning) fprintf(stderr, "thaw: %s\n", warning);
    const char *setup_id = NULL;
    if (plain && settings->setup_data) {
        /* No setup on the command line: the last one (thaw_settings_load
         * checked that it loads). */
        thaw_setup_load_data(setup, settings->setup_data, settings_path, NULL, NULL);
        setup_id = settings->setup_id;
    } else if (plain) {
        /* The default scenario is resources/presets/default.ini, so that the
         * window's setup chooser shows it as selected. */
        g_autofree char *path = g_build_filename(thaw_setup_presets_dir(), "default.ini", NULL);
        if (!thaw_setup_load_file(setup, path, &error)) {
            fprintf(stderr, "thaw: %s (using the built-in defaults)\n", error->message);
            g_clear_error(&error);
            thaw_setup_free(setup);
            setup = thaw_setup_new();
            plain = FALSE;
        }
        if (plain) setup_id = "default";
    }
    if (!thaw_setup_parse_args(setup, &argc, &argv, &error) ||
        !thaw_setup_validate(setup, &error)) {
        fprintf(stderr, "thaw: %s\n", error->message);
        return 2;
    }
    if (argc > 1) {
        fprintf(stderr, "thaw: unexpected argument '%s' (try --help)\n", argv[1]);
        return 2;
    }
    ThawApplication *app = thaw_application_new(setup, setup_id, settings, warning);
    int status = g_application_run(G_APPLICATION(app), argc, argv);
    g_object_unref(app);
    return status;
}
