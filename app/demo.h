/* Teaching demos (SPEC.md §5 "Lesson pane", §6 `thaw-cli demo`): guided
 * experiments that each correct one misconception about `trainable` and
 * `training` (SEMANTICS.md §1.6-1.8, §5, §6) with numbers a learner
 * measures on their own machine.
 *
 * A demo is three things with one name:
 *   resources/presets/demo-NAME.ini  the setup ("Set up this demo" in the
 *                                    window; `--setup` for thaw-cli)
 *   resources/lessons/NAME.md        the narrative: what to click, what to
 *                                    watch, why it happens, sources
 *   a measurement (demo.c)           runs the setup's variants headless and
 *                                    decides whether the claim holds, with
 *                                    the margins the lesson states
 * The setup may be overridden (thaw-cli demo NAME --epochs 2 ...): the
 * measurement runs on whatever setup it is given, so tests can use smaller
 * budgets and the claim must still hold. */
#ifndef THAW_APP_DEMO_H
#define THAW_APP_DEMO_H

#include <gio/gio.h>
#include <glib.h>

#include "setup.h"

G_BEGIN_DECLS

/* One measured number of a demo. */
typedef struct {
    char *label; /* "trainable base, training=False: conv kernels changed" */
    double value;
    char *unit; /* "", "%", "points", "of 21" */
} ThawDemoNumber;

typedef struct {
    GPtrArray *numbers; /* of ThawDemoNumber */
    gboolean holds;     /* the claim held with the lesson's margins */
    char *verdict;      /* one line: why it holds or what did not */
} ThawDemoResult;

/* Progress while a demo runs (a line per variant); may be NULL. */
typedef void (*ThawDemoProgress)(gpointer ctx, const char *what);

typedef struct {
    const char *name;  /* "training-not-trainable" */
    const char *title; /* "`training` is not `trainable`" */
    const char *claim; /* one line, what the numbers must show */
    gboolean (*run)(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                    gpointer ctx, GError **error);
} ThawDemo;

/* The demos in lesson order; *n receives their number. */
const ThawDemo *thaw_demos(size_t *n);
const ThawDemo *thaw_demo_find(const char *name);

/* The demo's setup file (resources/presets/demo-NAME.ini) and its path. */
char *thaw_demo_setup_path(const ThawDemo *d);
/* The lesson's Markdown (resources/lessons/NAME.md), NULL with error. */
char *thaw_demo_lesson(const ThawDemo *d, GError **error);

/* Runs d on s; FALSE only when it could not run (a file, the data) or was
 * cancelled (G_IO_ERROR_CANCELLED: cancellable is checked before every
 * training step and between the demo's variants; may be NULL); a claim
 * that does not hold is res->holds = FALSE. Runs on any thread: the
 * progress callback is called on the calling one. */
gboolean thaw_demo_run(const ThawDemo *d, const ThawSetup *s, ThawDemoResult *res,
                       ThawDemoProgress progress, gpointer ctx, GCancellable *cancellable,
                       GError **error);
void thaw_demo_result_clear(ThawDemoResult *res);

G_END_DECLS

#endif
