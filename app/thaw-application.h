/* ThawApplication: the GtkApplication of the `thaw` window (app id
 * io.github.thaw.Thaw). Startup registers the application actions (quit,
 * about, screenshot), the keyboard accelerators and the style sheet;
 * activate opens a window on the setup given to thaw_application_new().
 *
 * app.screenshot (s: a path) renders the active window to a PNG file: with
 * `gapplication action io.github.thaw.Thaw screenshot "'/tmp/x.png'"` a
 * running window can be checked from outside (tests/ui/test-e2e.sh). */
#ifndef THAW_APP_THAW_APPLICATION_H
#define THAW_APP_THAW_APPLICATION_H

#include <gtk/gtk.h>

#include "settings.h"
#include "setup.h"

G_BEGIN_DECLS

#define THAW_APPLICATION_ID "io.github.thaw.Thaw"

#define THAW_TYPE_APPLICATION (thaw_application_get_type())
G_DECLARE_FINAL_TYPE(ThawApplication, thaw_application, THAW, APPLICATION, GtkApplication)

/* setup: what the first window runs (copied); setup_id: its preset file's
 * basename, or NULL when it came from the command line; settings (may be
 * NULL, copied): what the window looked like last time; settings_warning:
 * what was wrong with them (shown in the status bar), or NULL. */
ThawApplication *thaw_application_new(const ThawSetup *setup, const char *setup_id,
                                      const ThawSettings *settings, const char *settings_warning);

G_END_DECLS

#endif
