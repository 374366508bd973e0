/* Chart axis math: fitting, ticks, labels, normalisation and the hover's
 * nearest point -- no display needed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "thaw-chart-axis.h"

static void test_linear(void)
{
    double v[] = {0.13, 0.92, NAN, 0.5};
    ThawAxis a = thaw_axis_fit(v, 4, false, 6);
    CHECK(!a.log && a.min == 0.0 && fabs(a.max - 1.0) < 1e-12);
    double t[16], step;
    int n = thaw_axis_ticks(&a, 6, t, 16, &step);
    CHECK_MSG(n == 6 && fabs(step - 0.2) < 1e-12, "n %d step %g", n, step);
    CHECK(t[0] == 0.0 && fabs(t[5] - 1.0) < 1e-12 && fabs(t[1] - 0.2) < 1e-12);
    CHECK(fabs(thaw_axis_normalize(&a, 0.25) - 0.25) < 1e-12);
    CHECK(fabs(thaw_axis_denormalize(&a, 0.75) - 0.75) < 1e-12);
    char buf[32];
    thaw_axis_format(&a, 0.4, step, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, "0.4") == 0, "%s", buf);
    /* an accuracy axis in percent: 0..100 by 20 */
    double acc[] = {12.0, 97.0};
    a = thaw_axis_fit(acc, 2, false, 6);
    CHECK(a.min == 0.0 && a.max == 100.0);
    n = thaw_axis_ticks(&a, 6, t, 16, &step);
    CHECK(n == 6 && step == 20.0 && t[5] == 100.0);
    thaw_axis_format(&a, 60.0, step, buf, sizeof buf);
    CHECK(strcmp(buf, "60") == 0);
    /* negative and single values, and nothing usable */
    double neg[] = {-3.2, -1.1};
    a = thaw_axis_fit(neg, 2, false, 5);
    CHECK(a.min <= -3.2 && a.max >= -1.1 && a.max <= 0.0);
    double one = 5.0;
    a = thaw_axis_fit(&one, 1, false, 5);
    CHECK(a.min < 5.0 && a.max > 5.0);
    a = thaw_axis_fit(NULL, 0, false, 5);
    CHECK(a.min == 0.0 && a.max == 1.0);
    /* step labels get the decimals they need */
    a = (ThawAxis){0.0, 0.001, false};
    n = thaw_axis_ticks(&a, 5, t, 16, &step);
    CHECK(fabs(step - 0.0002) < 1e-15 || fabs(step - 0.00025) < 1e-15 || step <= 0.0005);
    thaw_axis_format(&a, t[1], step, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, "0.0002") == 0 || strcmp(buf, "0.0005") == 0, "%s", buf);
}

static void test_log(void)
{
    /* losses from 2.3 down to 0.004 span decades */
    double loss[] = {2.3, 0.9, 0.05, 0.004, 0.0, -1.0};
    ThawAxis a = thaw_axis_fit(loss, 6, true, 8);
    CHECK(a.log && fabs(a.min - 0.001) < 1e-15 && fabs(a.max - 10.0) < 1e-12);
    CHECK(fabs(thaw_axis_normalize(&a, 0.1) - 0.5) < 1e-12);
    CHECK(isinf(thaw_axis_normalize(&a, 0.0)));
    CHECK(fabs(thaw_axis_denormalize(&a, 0.25) - 0.01) < 1e-12);
    double t[32];
    int n = thaw_axis_ticks(&a, 8, t, 32, NULL);
    CHECK_MSG(n == 5 && fabs(t[0] - 0.001) < 1e-15 && fabs(t[4] - 10.0) < 1e-12, "n %d", n);
    /* one decade: 1, 2, 5 subdivisions */
    a = (ThawAxis){0.1, 1.0, true};
    n = thaw_axis_ticks(&a, 8, t, 32, NULL);
    CHECK_MSG(n == 4 && fabs(t[1] - 0.2) < 1e-12 && fabs(t[2] - 0.5) < 1e-12, "n %d", n);
    char buf[32];
    thaw_axis_format(&a, 0.001, 0.0, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, "1e-3") == 0, "%s", buf);
    thaw_axis_format(&a, 0.00002, 0.0, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, "2e-5") == 0, "%s", buf);
    thaw_axis_format(&a, 0.5, 0.0, buf, sizeof buf);
    CHECK(strcmp(buf, "0.5") == 0);
    a = thaw_axis_fit(loss + 4, 2, true, 8); /* nothing positive */
    CHECK(a.log && a.min == 0.1 && a.max == 1.0);
    /* many decades: thinned to the tick budget */
    a = (ThawAxis){1e-8, 1e4, true};
    n = thaw_axis_ticks(&a, 5, t, 32, NULL);
    CHECK_MSG(n >= 3 && n <= 7, "n %d", n);
}

static void test_nearest(void)
{
    ThawAxis ax = {0.0, 100.0, false}, ay = {0.0, 1.0, false};
    double x[] = {0, 10, 20, 30, NAN}, y[] = {0.9, 0.5, 0.4, 0.3, 0.2};
    /* a 400 x 200 px plot: the pointer at step 19, loss 0.45 */
    int i = thaw_axis_nearest(&ax, &ay, x, y, 5, 0.19, 0.45, 400, 200);
    CHECK_MSG(i == 2, "nearest %d", i);
    CHECK(thaw_axis_nearest(&ax, &ay, x, y, 0, 0.1, 0.1, 400, 200) == -1);
    ThawAxis lg = {0.01, 10.0, true};
    double yl[] = {1.0, 0.0, 0.1};
    i = thaw_axis_nearest(&ax, &lg, x, yl, 3, 0.1, thaw_axis_normalize(&lg, 0.1), 400, 200);
    CHECK(i == 2); /* the 0 loss is off a log axis and skipped */
}

int main(void)
{
    test_linear();
    test_log();
    test_nearest();
    return thaw_test_finish();
}
