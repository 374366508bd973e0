/* ThawCodePane: the Keras or PyTorch script equivalent to the current setup
 * (SPEC.md §5 "Code pane"), read-only in a monospace view, with a framework
 * switch, Copy (to the clipboard) and Save. The pane does not make the
 * script: the window regenerates it (app/export-setup.c) when the setup or
 * the framework changes and calls thaw_code_pane_set_code(). */
#ifndef THAW_UI_CODE_PANE_H
#define THAW_UI_CODE_PANE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
    THAW_CODE_KERAS,
    THAW_CODE_PYTORCH,
} ThawCodeFramework;

#define THAW_TYPE_CODE_PANE (thaw_code_pane_get_type())
G_DECLARE_FINAL_TYPE(ThawCodePane, thaw_code_pane, THAW, CODE_PANE, GtkWidget)

GtkWidget *thaw_code_pane_new(void);

/* Property "framework" (notify on change): which script the pane shows. */
void thaw_code_pane_set_framework(ThawCodePane *self, ThawCodeFramework fw);
ThawCodeFramework thaw_code_pane_get_framework(ThawCodePane *self);

/* The script to show (copied); error: shown instead when the setup cannot
 * be expressed in the framework (text may then be NULL). */
void thaw_code_pane_set_code(ThawCodePane *self, const char *text, const char *error);
/* The text shown (for tests and Copy). */
char *thaw_code_pane_get_text(ThawCodePane *self);

/* Copies the script to the clipboard (what the Copy button does). */
void thaw_code_pane_copy(ThawCodePane *self);

/* Signal "save-requested": the Save… button (the window opens a chooser). */

G_END_DECLS

#endif
