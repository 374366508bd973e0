/* What the demo test programs share (test-demos.c, test-demo-shift.c,
 * test-demo-modes.c): running a demo on its own setup with overrides, and
 * reading its numbers back by label. */
#ifndef THAW_TESTS_DEMOTEST_H
#define THAW_TESTS_DEMOTEST_H

#include <glib.h>

#include "demo.h"

/* TRUE when Debian's Fashion-MNIST is installed; otherwise marks the test
 * skipped (visibly) and returns FALSE. */
gboolean demotest_have_data(void);

/* The demo's lesson exists: a title and the sections every lesson has
 * (what to click, what to watch, what you should see, why, sources). */
void demotest_check_lesson(const ThawDemo *d);

/* Runs demo `name` on its setup file with optional overrides (key, value,
 * ..., NULL), after checking its lesson (a title and the sections every
 * lesson has); logs every number and the verdict. */
void demotest_run(const char *name, ThawDemoResult *r, const char *const *overrides);

/* The number labelled label (the test fails if there is none). */
double demotest_number(const ThawDemoResult *r, const char *label);

/* Seeds every trained claim is checked with: the setup's, and seed 2 with
 * other K images. */
extern const char *const demotest_seeds[2][5];

#endif
