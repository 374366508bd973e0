/* What the window remembers between launches: its size, the pane shown,
 * the divider, the log-scale and code-framework choices, and the last setup
 * (as a complete setup file, so that it loads back exactly).
 *
 * Stored as an INI file (GKeyFile) at thaw_settings_path(): written
 * atomically (a temporary file renamed over the old one, so a crash never
 * leaves half a file), read leniently: a missing file gives the defaults;
 * a damaged one (not a key file, a value of the wrong type, an absurd size,
 * a setup that does not load) gives the defaults for what is damaged and a
 * warning naming the file and the key -- never a failure to start. */
#ifndef THAW_APP_SETTINGS_H
#define THAW_APP_SETTINGS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int width, height; /* the window's, 0 = the default */
    gboolean maximized;
    int paned_position; /* 0 = the default */
    char *pane;         /* the visible pane's name ("training", "batchnorm", ...), or NULL */
    gboolean log_loss;
    int code_framework; /* 0 Keras, 1 PyTorch */
    char *setup_id;     /* the preset file it came from, NULL = not one */
    char *setup_data;   /* the last setup, as thaw_setup_to_data() writes it; NULL = none */
} ThawSettings;

/* $XDG_CONFIG_HOME/thaw/settings.ini (g_get_user_config_dir()). */
char *thaw_settings_path(void);

ThawSettings *thaw_settings_new(void);
void thaw_settings_free(ThawSettings *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ThawSettings, thaw_settings_free)

/* Reads path; never fails. *warning (may be NULL) receives what was wrong
 * with a damaged file ("settings.ini: key width: ... -- using the
 * defaults"), NULL when the file was fine or absent. */
ThawSettings *thaw_settings_load(const char *path, char **warning);

/* Writes s to path atomically, creating the folder. */
gboolean thaw_settings_save(const ThawSettings *s, const char *path, GError **error);

G_END_DECLS

#endif
