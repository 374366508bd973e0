/* Axis math for Thaw's charts, pure and display-free (the widgets only map
 * what these functions compute onto pixels; Sysprof's axis/normalize split).
 *
 * An axis maps data values to [0, 1]: linear, or logarithmic (base 10) for
 * losses that span decades. Ticks are "nice" numbers: 1, 2 or 5 times a power
 * of ten on a linear axis; decades (with 2 and 5 in between when few decades
 * are shown) on a log axis. */
#ifndef THAW_CHART_AXIS_H
#define THAW_CHART_AXIS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ThawAxis {
    double min, max; /* data range shown; min < max (for log: 0 < min) */
    bool log;
} ThawAxis;

/* Fits an axis to the finite values of v (n of them; log axes ignore values
 * <= 0), widened to nice tick boundaries. With no usable value the axis is
 * [0, 1] (log: [0.1, 1]). A single value v gets a range around it. */
ThawAxis thaw_axis_fit(const double *v, size_t n, bool log, int max_ticks);

/* Maps v to [0, 1] along the axis (outside the range: beyond 0..1; log axes
 * map v <= 0 to -inf). */
double thaw_axis_normalize(const ThawAxis *a, double v);

/* The inverse of thaw_axis_normalize. */
double thaw_axis_denormalize(const ThawAxis *a, double t);

/* Tick values inside [a->min, a->max], at most cap of them, ascending;
 * returns how many. *step receives the linear tick step (log axes: 0). */
int thaw_axis_ticks(const ThawAxis *a, int max_ticks, double *ticks, int cap, double *step);

/* A tick label: as many decimals as the step needs ("0.25", "1.5e-05",
 * "2000"); log axes print "1e-3" style below 0.01 and above 10000. */
void thaw_axis_format(const ThawAxis *a, double v, double step, char *buf, size_t size);

/* The index of the point (x[i], y[i]) nearest to (px, py) in screen space,
 * where sx and sy are the pixels per unit of normalised x and y (points with
 * a non-finite coordinate are skipped); -1 if there is none. */
int thaw_axis_nearest(const ThawAxis *ax, const ThawAxis *ay, const double *x, const double *y,
                      size_t n, double px, double py, double sx, double sy);

#endif
