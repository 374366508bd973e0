/* What the window remembers (see settings.h). */
#include "settings.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "setup.h"

char *thaw_settings_path(void)
{
    return g_build_filename(g_get_user_config_dir(), "thaw", "settings.ini", NULL);
}

ThawSettings *thaw_settings_new(void)
{
    return g_new0(ThawSettings, 1);
}

void thaw_settings_free(ThawSettings *s)
{
    if (!s) return;
    g_free(s->pane);
    g_free(s->setup_id);
    g_free(s->setup_data);
    g_free(s);
}

/* Appends one problem to *why ("; "-separated). */
static void note(GString *why, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(GString *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why->len) g_string_append(why, "; ");
    g_string_append_vprintf(why, fmt, ap);
    va_end(ap);
}

/* An integer in [lo, hi] from [window] key, else def (and a note). */
static int get_int(GKeyFile *kf, const char *group, const char *key, int lo, int hi, int def,
                   GString *why)
{
    if (!g_key_file_has_key(kf, group, key, NULL)) return def;
    g_autoptr(GError) e = NULL;
    int v = g_key_file_get_integer(kf, group, key, &e);
    if (e) {
        note(why, "[%s] %s: %s", group, key, e->message);
        return def;
    }
    if (v < lo || v > hi) {
        note(why, "[%s] %s: %d is not in %d..%d", group, key, v, lo, hi);
        return def;
    }
    return v;
}

static gboolean get_bool(GKeyFile *kf, const char *group, const char *key, gboolean def,
                         GString *why)
{
    if (!g_key_file_has_key(kf, group, key, NULL)) return def;
    g_autoptr(GError) e = NULL;
    gboolean v = g_key_file_get_boolean(kf, group, key, &e);
    if (e) {
        note(why, "[%s] %s: %s", group, key, e->message);
        return def;
    }
    return v;
}

static char *get_string(GKeyFile *kf, const char *group, const char *key, GString *why)
{
    if (!g_key_file_has_key(kf, group, key, NULL)) return NULL;
    g_autoptr(GError) e = NULL;
    char *v = g_key_file_get_string(kf, group, key, &e);
    if (e) note(why, "[%s] %s: %s", group, key, e->message);
    if (v && !*v) g_clear_pointer(&v, g_free);
    return v;
}

ThawSettings *thaw_settings_load(const char *path, char **warning)
{
    ThawSettings *s = thaw_settings_new();
    if (warning) *warning = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) e = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
        if (!g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) && warning)
            *warning = g_strdup_printf("'%s': %s -- using the defaults", path, e->message);
        return s;
    }
    g_autoptr(GString) why = g_string_new(NULL);
    s->width = get_int(kf, "window", "width", 320, 16384, 0, why);
    s->height = get_int(kf, "window", "height", 240, 16384, 0, why);
    s->maximized = get_bool(kf, "window", "maximized", FALSE, why);
    s->paned_position = get_int(kf, "window", "paned_position", 100, 16384, 0, why);
    s->pane = get_string(kf, "window", "pane", why);
    s->log_loss = get_bool(kf, "window", "log_loss", FALSE, why);
    s->code_framework = get_int(kf, "window", "code_framework", 0, 1, 0, why);
    s->setup_id = get_string(kf, "setup", "preset_file", why);
    s->setup_data = get_string(kf, "setup", "data", why);
    if (s->setup_data) {
        /* A setup that no longer loads (an option renamed, a bad value) is
         * dropped here rather than failing later. */
        g_autoptr(ThawSetup) check = thaw_setup_new();
        g_autoptr(GError) se = NULL;
        if (!thaw_setup_load_data(check, s->setup_data, path, NULL, &se) ||
            !thaw_setup_validate(check, &se)) {
            note(why, "[setup] data: %s", se->message);
            g_clear_pointer(&s->setup_data, g_free);
            g_clear_pointer(&s->setup_id, g_free);
        }
    }
    if (why->len && warning)
        *warning = g_strdup_printf("'%s': %s -- using the defaults there", path, why->str);
    return s;
}

gboolean thaw_settings_save(const ThawSettings *s, const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_comment(
        kf, NULL, NULL, " What the Thaw window remembers; safe to delete (written by thaw)", NULL);
    if (s->width > 0) g_key_file_set_integer(kf, "window", "width", s->width);
    if (s->height > 0) g_key_file_set_integer(kf, "window", "height", s->height);
    g_key_file_set_boolean(kf, "window", "maximized", s->maximized);
    if (s->paned_position > 0)
        g_key_file_set_integer(kf, "window", "paned_position", s->paned_position);
    if (s->pane) g_key_file_set_string(kf, "window", "pane", s->pane);
    g_key_file_set_boolean(kf, "window", "log_loss", s->log_loss);
    g_key_file_set_integer(kf, "window", "code_framework", s->code_framework);
    if (s->setup_id) g_key_file_set_string(kf, "setup", "preset_file", s->setup_id);
    if (s->setup_data) g_key_file_set_string(kf, "setup", "data", s->setup_data);
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int errsv = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "cannot create '%s': %s",
                    dir, g_strerror(errsv));
        return FALSE;
    }
    gsize len;
    g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
    /* g_file_set_contents writes a temporary file and renames it. */
    return g_file_set_contents(path, data, (gssize)len, error);
}
