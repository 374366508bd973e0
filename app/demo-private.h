/* What the demos' measurements share (demo.c and the demo-*.c files that
 * hold more of them): building and training runs of a setup, recording
 * numbers, progress lines. A new demo is a function with the ThawDemo
 * `run` signature, a row in the table at the end of demo.c, a setup file
 * resources/presets/demo-NAME.ini, a lesson resources/lessons/NAME.md and
 * its assertions in tests/app/test-demos.c. */
#ifndef THAW_APP_DEMO_PRIVATE_H
#define THAW_APP_DEMO_PRIVATE_H

#include "demo.h"
#include "run.h"

G_BEGIN_DECLS

GQuark thaw_demo_error_quark(void);

/* Sets error from an engine error; returns FALSE (for `return thaw_demo_fail(...)`). */
gboolean thaw_demo_fail(GError **error, const thaw_error *err);

/* Appends a measured number; the label is printf-formatted. */
void thaw_demo_add_number(ThawDemoResult *res, double value, const char *unit, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* One progress line (nothing when progress is NULL). */
void thaw_demo_say(ThawDemoProgress progress, gpointer ctx, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* TRUE, with G_IO_ERROR_CANCELLED in error, when the demo running on this
 * thread was cancelled (thaw_demo_run's cancellable). The helpers below
 * check it; a demo's own training loops call it before each step. */
gboolean thaw_demo_cancelled(GError **error);

/* A run of s ready to train (thaw_run_new); NULL with error. */
ThawRun *thaw_demo_prepare(const ThawSetup *s, GError **error);
/* Trains run for steps steps (0: to the end of the setup's epochs). */
gboolean thaw_demo_step_n(ThawRun *run, int steps, GError **error);
/* A run of s trained to the end of its epochs; NULL with error. */
ThawRun *thaw_demo_train(const ThawSetup *s, GError **error);

/* Demos 5 and 6 (demo-modes.c): batch-mates and Dropout at inference. */
gboolean thaw_demo_batch_mates(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                               gpointer ctx, GError **error);
gboolean thaw_demo_dropout(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                           gpointer ctx, GError **error);

/* Demos 3 and 7 (demo-shift.c): unfreezing without training=False, domain
 * shift and re-estimated statistics. */
gboolean thaw_demo_unfreeze(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                            gpointer ctx, GError **error);
gboolean thaw_demo_domain_shift(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                                gpointer ctx, GError **error);

/* Demo 8 (demo-compute.c): where the compute goes. */
gboolean thaw_demo_compute(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                           gpointer ctx, GError **error);

/* Demo 9 (demo-lag.c): moving statistics lag the weights. */
gboolean thaw_demo_momentum_lag(const ThawSetup *s, ThawDemoResult *res, ThawDemoProgress progress,
                                gpointer ctx, GError **error);

G_END_DECLS

#endif
