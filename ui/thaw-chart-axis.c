#include "thaw-chart-axis.h"

#include <math.h>
#include <stdio.h>

/* The nice number (1, 2, 5 or 10 times a power of ten) nearest above range/n. */
static double nice_step(double range, int max_ticks)
{
    if (max_ticks < 2) max_ticks = 2;
    double raw = range / (max_ticks - 1);
    double p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    double nice = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
    return nice * p;
}

ThawAxis thaw_axis_fit(const double *v, size_t n, bool log, int max_ticks)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]) || (log && v[i] <= 0.0)) continue;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    if (!(lo <= hi)) return log ? (ThawAxis){0.1, 1.0, true} : (ThawAxis){0.0, 1.0, false};
    if (log) {
        /* whole decades around the data */
        double a = pow(10.0, floor(log10(lo))), b = pow(10.0, ceil(log10(hi)));
        if (a == b) b = a * 10.0;
        return (ThawAxis){a, b, true};
    }
    if (lo == hi) {
        double d = lo == 0.0 ? 1.0 : fabs(lo) * 0.1;
        lo -= d, hi += d;
    }
    double step = nice_step(hi - lo, max_ticks);
    return (ThawAxis){floor(lo / step) * step, ceil(hi / step) * step, false};
}

double thaw_axis_normalize(const ThawAxis *a, double v)
{
    if (a->log) {
        if (v <= 0.0) return -INFINITY;
        return (log10(v) - log10(a->min)) / (log10(a->max) - log10(a->min));
    }
    return (v - a->min) / (a->max - a->min);
}

double thaw_axis_denormalize(const ThawAxis *a, double t)
{
    if (a->log) return pow(10.0, log10(a->min) + t * (log10(a->max) - log10(a->min)));
    return a->min + t * (a->max - a->min);
}

int thaw_axis_ticks(const ThawAxis *a, int max_ticks, double *ticks, int cap, double *step)
{
    int n = 0;
    if (step) *step = 0.0;
    if (!(a->max > a->min) || cap <= 0) return 0;
    if (a->log) {
        int d0 = (int)floor(log10(a->min) + 1e-9), d1 = (int)ceil(log10(a->max) - 1e-9);
        int decades = d1 - d0;
        static const double sub[3] = {1.0, 2.0, 5.0};
        int per = decades * 3 <= max_ticks ? 3 : 1; /* 1, 2, 5 while they fit */
        int every = per == 1 && decades + 1 > max_ticks ? (decades + max_ticks - 1) / max_ticks : 1;
        for (int d = d0; d <= d1 && n < cap; d++) {
            if ((d - d0) % every) continue;
            for (int k = 0; k < per && n < cap; k++) {
                double v = sub[k] * pow(10.0, d);
                if (v >= a->min * (1 - 1e-9) && v <= a->max * (1 + 1e-9)) ticks[n++] = v;
            }
        }
        return n;
    }
    double s = nice_step(a->max - a->min, max_ticks);
    if (step) *step = s;
    double first = ceil(a->min / s - 1e-9) * s;
    for (double v = first; v <= a->max + s * 1e-9 && n < cap; v += s) {
        double r = round(v / s) * s; /* no accumulated drift */
        ticks[n++] = fabs(r) < s * 1e-9 ? 0.0 : r;
    }
    return n;
}

void thaw_axis_format(const ThawAxis *a, double v, double step, char *buf, size_t size)
{
    if (a->log || step <= 0.0) {
        if (v == 0.0 || (fabs(v) >= 0.01 && fabs(v) < 10000.0)) {
            snprintf(buf, size, "%g", v);
            return;
        }
        int d = (int)floor(log10(fabs(v)) + 1e-9);
        double m = v / pow(10.0, d);
        if (fabs(m - round(m)) < 1e-6)
            snprintf(buf, size, "%.0fe%d", m, d);
        else
            snprintf(buf, size, "%.3ge%d", m, d);
        return;
    }
    if (fabs(v) >= 1e5 || (step < 1e-4 && v != 0.0)) {
        snprintf(buf, size, "%.2g", v);
        return;
    }
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 6) decimals = 6;
    snprintf(buf, size, "%.*f", decimals, v);
}

int thaw_axis_nearest(const ThawAxis *ax, const ThawAxis *ay, const double *x, const double *y,
                      size_t n, double px, double py, double sx, double sy)
{
    int best = -1;
    double best_d = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double tx = thaw_axis_normalize(ax, x[i]), ty = thaw_axis_normalize(ay, y[i]);
        if (!isfinite(tx) || !isfinite(ty)) continue;
        double dx = (tx - px) * sx, dy = (ty - py) * sy;
        double d = dx * dx + dy * dy;
        if (d < best_d) {
            best_d = d;
            best = (int)i;
        }
    }
    return best;
}
