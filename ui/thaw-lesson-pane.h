/* ThawLessonPane: the teaching demos in the window (SPEC.md §5 "Lesson
 * pane"): a demo chooser, the chosen demo's lesson (its Markdown rendered
 * with thaw-markdown.h: what to click, what to watch, why, sources), a
 * "Set up this demo" button and a Measure button with its progress and
 * results. The pane knows only names and texts: the window reads the
 * lessons (app/demo.h), loads the demo's setup when asked
 * (::setup-requested) and runs its measurement (::measure-requested). */
#ifndef THAW_UI_LESSON_PANE_H
#define THAW_UI_LESSON_PANE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define THAW_TYPE_LESSON_PANE (thaw_lesson_pane_get_type())
G_DECLARE_FINAL_TYPE(ThawLessonPane, thaw_lesson_pane, THAW, LESSON_PANE, GtkWidget)

GtkWidget *thaw_lesson_pane_new(void);

/* The demos, in lesson order: n names ("broken-bn") and titles. Selects the
 * first and emits ::demo-selected for it. */
void thaw_lesson_pane_set_demos(ThawLessonPane *self, int n, const char *const *names,
                                const char *const *titles);
/* Selects demo name (emits ::demo-selected when it changes). */
void thaw_lesson_pane_select(ThawLessonPane *self, const char *name);
const char *thaw_lesson_pane_get_selected(ThawLessonPane *self);

/* The lesson of the selected demo, as Markdown (NULL: none). */
void thaw_lesson_pane_set_lesson(ThawLessonPane *self, const char *markdown);
/* The Pango markup shown (for tests). */
const char *thaw_lesson_pane_get_markup(ThawLessonPane *self);

/* Measuring the selected demo (the window runs it): progress is the line
 * shown beside a spinner and a Cancel button while it runs, NULL when idle
 * (the Measure button is insensitive while busy). */
void thaw_lesson_pane_set_progress(ThawLessonPane *self, const char *progress);
gboolean thaw_lesson_pane_get_busy(ThawLessonPane *self);
/* The measured numbers and verdict shown above the lesson, as Pango markup
 * (NULL hides them). */
void thaw_lesson_pane_set_result(ThawLessonPane *self, const char *markup);
const char *thaw_lesson_pane_get_result(ThawLessonPane *self);

/* Signals: "demo-selected" (const char *name), "setup-requested" (const
 * char *name: the "Set up this demo" button), "measure-requested" (const
 * char *name: the Measure button), "measure-cancelled" (its Cancel). */

G_END_DECLS

#endif
