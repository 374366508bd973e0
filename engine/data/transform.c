/* Domain shift and augmentation of raw-pixel images, and their settings. */
#include "data/transform.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTRAST 10.0f
#define MAX_SHIFT    64

static float clamp255(float v)
{
    return v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
}

/* ---- settings ---------------------------------------------------------- */

thaw_status thaw_transform_validate(const thaw_transform *t, thaw_error *err)
{
    if (!isfinite(t->brightness) || fabsf(t->brightness) > 255.0f)
        return thaw_error_set(err, THAW_ERR_ARG, "brightness %g is out of range -255..255",
                              (double)t->brightness);
    if (!isfinite(t->contrast) || t->contrast < 0.0f || t->contrast > MAX_CONTRAST)
        return thaw_error_set(err, THAW_ERR_ARG,
                              "contrast factor %g is out of range (0, %g] (0 switches it off)",
                              (double)t->contrast, (double)MAX_CONTRAST);
    if (!isfinite(t->dark) || t->dark < 0.0f || t->dark > 1.0f)
        return thaw_error_set(err, THAW_ERR_ARG,
                              "darkening factor %g is out of range (0, 1] (0 switches it off; "
                              "brighten with brightness or contrast)",
                              (double)t->dark);
    if (!isfinite(t->noise) || t->noise < 0.0f || t->noise > 255.0f)
        return thaw_error_set(err, THAW_ERR_ARG, "noise sigma %g is out of range 0..255 pixels",
                              (double)t->noise);
    if (t->shift < 0 || t->shift > MAX_SHIFT)
        return thaw_error_set(err, THAW_ERR_ARG, "shift %d is out of range 0..%d pixels", t->shift,
                              MAX_SHIFT);
    if (t->fill != THAW_FILL_ZERO && t->fill != THAW_FILL_EDGE)
        return thaw_error_set(err, THAW_ERR_ARG, "fill mode %d is not zero or edge", (int)t->fill);
    return THAW_OK;
}

/* Parses a whole-string finite number. */
static bool parse_float(const char *s, float *out)
{
    if (!*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v)) return false;
    *out = (float)v;
    return true;
}

static bool parse_int(const char *s, int *out)
{
    if (!*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < -1000000 || v > 1000000) return false;
    *out = (int)v;
    return true;
}

/* Applies one item ("name" or "name:value") to t. */
static thaw_status parse_item(thaw_transform *t, const char *item, thaw_error *err)
{
    char name[32];
    const char *colon = strchr(item, ':');
    size_t len = colon ? (size_t)(colon - item) : strlen(item);
    if (len == 0 || len >= sizeof name)
        return thaw_error_set(err, THAW_ERR_ARG, "unknown transform '%s'", item);
    memcpy(name, item, len);
    name[len] = '\0';
    const char *val = colon ? colon + 1 : NULL;

    static const char *const flags[] = {"none", "invert", "lift", "flip"};
    static const char *const valued[] = {"brightness", "contrast", "dark",
                                         "noise",      "shift",    "fill"};
    bool is_flag = false, is_valued = false;
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) is_flag |= !strcmp(name, flags[i]);
    for (size_t i = 0; i < sizeof valued / sizeof *valued; i++)
        is_valued |= !strcmp(name, valued[i]);
    if (!is_flag && !is_valued)
        return thaw_error_set(err, THAW_ERR_ARG,
                              "unknown transform '%s' (expected none, brightness:B, "
                              "contrast:F, invert, lift, dark:K, noise:S, flip, shift:K, "
                              "fill:zero|edge)",
                              item);
    if (is_flag && val)
        return thaw_error_set(err, THAW_ERR_ARG, "'%s': %s takes no value", item, name);
    if (is_valued && !val)
        return thaw_error_set(err, THAW_ERR_ARG, "'%s' needs a value, e.g. %s", item,
                              !strcmp(name, "brightness") ? "brightness:-40"
                              : !strcmp(name, "contrast") ? "contrast:1.5"
                              : !strcmp(name, "dark")     ? "dark:0.5"
                              : !strcmp(name, "noise")    ? "noise:25"
                              : !strcmp(name, "shift")    ? "shift:2"
                                                          : "fill:edge");
    if (!strcmp(name, "none")) {
        memset(t, 0, sizeof *t);
    } else if (!strcmp(name, "invert")) {
        t->invert = true;
    } else if (!strcmp(name, "lift")) {
        t->lift = true;
    } else if (!strcmp(name, "flip")) {
        t->flip = true;
    } else if (!strcmp(name, "fill")) {
        if (!strcmp(val, "zero"))
            t->fill = THAW_FILL_ZERO;
        else if (!strcmp(val, "edge"))
            t->fill = THAW_FILL_EDGE;
        else
            return thaw_error_set(err, THAW_ERR_ARG, "'%s': fill is zero or edge", item);
    } else if (!strcmp(name, "shift")) {
        if (!parse_int(val, &t->shift))
            return thaw_error_set(err, THAW_ERR_ARG, "'%s': not a whole number of pixels", item);
    } else {
        float v;
        if (!parse_float(val, &v))
            return thaw_error_set(err, THAW_ERR_ARG, "'%s': '%s' is not a number", item, val);
        if (!strcmp(name, "brightness"))
            t->brightness = v;
        else if (!strcmp(name, "contrast"))
            t->contrast = v;
        else if (!strcmp(name, "dark"))
            t->dark = v;
        else
            t->noise = v;
        /* An explicit 0 would silently switch these off: reject it. */
        if (v == 0.0f && (!strcmp(name, "contrast") || !strcmp(name, "dark")))
            return thaw_error_set(err, THAW_ERR_ARG, "'%s': the factor must be above 0", item);
    }
    thaw_error tmp;
    if (thaw_transform_validate(t, &tmp) != THAW_OK)
        return thaw_error_set(err, tmp.status, "'%s': %s", item, tmp.msg);
    return THAW_OK;
}

thaw_status thaw_transform_parse(thaw_transform *t, const char *spec, thaw_error *err)
{
    thaw_transform next = *t;
    const char *p = spec;
    char item[64];
    bool any = false;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ') len--;
        if (len >= sizeof item)
            return thaw_error_set(err, THAW_ERR_ARG, "transform '%.*s...' is too long", 20, p);
        memcpy(item, p, len);
        item[len] = '\0';
        thaw_status st = parse_item(&next, item, err);
        if (st != THAW_OK) return st;
        any = true;
        p += len;
    }
    if (!any) return thaw_error_set(err, THAW_ERR_ARG, "empty transform spec '%s'", spec);
    *t = next;
    return THAW_OK;
}

/* Appends ",item" (or "item" first) to buf, counting past the end like
 * snprintf. */
static void append(char *buf, size_t size, size_t *len, const char *item)
{
    if (*len) {
        if (*len + 1 < size) buf[*len] = ',';
        (*len)++;
    }
    for (const char *s = item; *s; s++, (*len)++)
        if (*len + 1 < size) buf[*len] = *s;
    if (size) buf[*len < size ? *len : size - 1] = '\0';
}

size_t thaw_transform_describe(const thaw_transform *t, char *buf, size_t size)
{
    size_t len = 0;
    char item[48];
    if (size) buf[0] = '\0';
    if (t->brightness != 0.0f) {
        snprintf(item, sizeof item, "brightness:%g", (double)t->brightness);
        append(buf, size, &len, item);
    }
    if (t->contrast != 0.0f) {
        snprintf(item, sizeof item, "contrast:%g", (double)t->contrast);
        append(buf, size, &len, item);
    }
    if (t->invert) append(buf, size, &len, "invert");
    if (t->lift) append(buf, size, &len, "lift");
    if (t->dark != 0.0f) {
        snprintf(item, sizeof item, "dark:%g", (double)t->dark);
        append(buf, size, &len, item);
    }
    if (t->noise != 0.0f) {
        snprintf(item, sizeof item, "noise:%g", (double)t->noise);
        append(buf, size, &len, item);
    }
    if (t->flip) append(buf, size, &len, "flip");
    if (t->shift != 0) {
        snprintf(item, sizeof item, "shift:%d", t->shift);
        append(buf, size, &len, item);
    }
    if (t->fill == THAW_FILL_EDGE) append(buf, size, &len, "fill:edge");
    if (len == 0) append(buf, size, &len, "none");
    return len;
}

bool thaw_transform_has_shift(const thaw_transform *t)
{
    return t->brightness != 0.0f || t->contrast != 0.0f || t->invert || t->lift ||
           t->dark != 0.0f || t->noise != 0.0f;
}

bool thaw_transform_has_augment(const thaw_transform *t)
{
    return t->flip || t->shift > 0;
}

/* ---- domain shift ------------------------------------------------------ */

void thaw_transform_shift_image(float *x, int h, int w, int c, const thaw_transform *t,
                                thaw_rng *rng)
{
    size_t n = (size_t)h * w * c, pixels = (size_t)h * w;
    if (t->brightness != 0.0f)
        for (size_t i = 0; i < n; i++) x[i] = clamp255(x[i] + t->brightness);
    if (t->contrast != 0.0f) {
        for (int k = 0; k < c; k++) {
            double sum = 0.0;
            for (size_t p = 0; p < pixels; p++) sum += x[p * c + k];
            float m = (float)(sum / (double)pixels);
            for (size_t p = 0; p < pixels; p++)
                x[p * c + k] = clamp255(m + t->contrast * (x[p * c + k] - m));
        }
    }
    if (t->invert)
        for (size_t i = 0; i < n; i++) x[i] = 255.0f - x[i];
    if (t->lift)
        for (size_t i = 0; i < n; i++) x[i] = clamp255(76.5f + 0.7f * x[i]);
    if (t->dark != 0.0f)
        for (size_t i = 0; i < n; i++) x[i] = clamp255(t->dark * x[i]);
    if (t->noise != 0.0f)
        for (size_t i = 0; i < n; i++) x[i] = clamp255(x[i] + t->noise * thaw_rng_normal(rng));
}

thaw_status thaw_transform_shift_dataset(thaw_dataset *d, const thaw_transform *t, uint64_t seed,
                                         thaw_error *err)
{
    thaw_status st = thaw_transform_validate(t, err);
    if (st != THAW_OK || !thaw_transform_has_shift(t)) return st;
    size_t img = (size_t)d->h * d->w * d->c;
    for (int i = 0; i < d->n; i++) {
        thaw_rng rng;
        /* SplitMix64 inside thaw_rng_seed decorrelates neighbouring seeds. */
        thaw_rng_seed(&rng, seed + (uint64_t)i * 0x9e3779b97f4a7c15ull, 0x6e6f697365ull);
        thaw_transform_shift_image(d->x + (size_t)i * img, d->h, d->w, d->c, t, &rng);
    }
    return THAW_OK;
}

/* ---- augmentation ------------------------------------------------------ */

void thaw_transform_flip(float *x, int h, int w, int c)
{
    for (int y = 0; y < h; y++) {
        float *row = x + (size_t)y * w * c;
        for (int a = 0, b = w - 1; a < b; a++, b--)
            for (int k = 0; k < c; k++) {
                float v = row[(size_t)a * c + k];
                row[(size_t)a * c + k] = row[(size_t)b * c + k];
                row[(size_t)b * c + k] = v;
            }
    }
}

/* Shifts a line of n consecutive units of `unit` floats each (the pixels of
 * a row, or the rows of an image) by d units in place: out[i] = in[i - d],
 * and where i - d is outside 0..n-1, zeros or the nearest end unit. */
static void shift_line(float *x, int n, size_t unit, int d, thaw_fill fill)
{
    if (d == 0) return;
    int a = d > 0 ? d : -d;
    if (a >= n) {
        /* Everything comes from outside: zeros, or copies of the end that d
         * points away from (clamp(i - d) is 0 for d > 0, n - 1 for d < 0). */
        if (fill == THAW_FILL_ZERO) {
            memset(x, 0, (size_t)n * unit * sizeof *x);
            return;
        }
        const float *edge = x + (d > 0 ? 0 : (size_t)(n - 1) * unit);
        for (int i = 0; i < n; i++)
            if (x + (size_t)i * unit != edge) memcpy(x + (size_t)i * unit, edge, unit * sizeof *x);
        return;
    }
    size_t keep = (size_t)(n - a) * unit;
    if (d > 0) {
        memmove(x + (size_t)a * unit, x, keep * sizeof *x);
        for (int i = 0; i < a; i++) {
            float *dst = x + (size_t)i * unit;
            if (fill == THAW_FILL_ZERO)
                memset(dst, 0, unit * sizeof *x);
            else
                memcpy(dst, x + (size_t)a * unit, unit * sizeof *x); /* the old first unit */
        }
    } else {
        memmove(x, x + (size_t)a * unit, keep * sizeof *x);
        for (int i = n - a; i < n; i++) {
            float *dst = x + (size_t)i * unit;
            if (fill == THAW_FILL_ZERO)
                memset(dst, 0, unit * sizeof *x);
            else
                memcpy(dst, x + (size_t)(n - a - 1) * unit, unit * sizeof *x); /* old last */
        }
    }
}

void thaw_transform_translate(float *x, int h, int w, int c, int dy, int dx, thaw_fill fill)
{
    /* Separable: rows as units, then pixels within each row. Zero fill and
     * edge clamping both factor over the two axes. */
    shift_line(x, h, (size_t)w * c, dy, fill);
    if (dx != 0)
        for (int y = 0; y < h; y++) shift_line(x + (size_t)y * w * c, w, (size_t)c, dx, fill);
}

void thaw_transform_augment(float *x, int n, int h, int w, int c, const thaw_transform *t,
                            bool training, thaw_rng *rng)
{
    if (!training || !thaw_transform_has_augment(t)) return;
    size_t img = (size_t)h * w * c;
    uint32_t span = 2u * (uint32_t)t->shift + 1u;
    for (int i = 0; i < n; i++) {
        float *im = x + (size_t)i * img;
        bool flip = t->flip && thaw_rng_uniform(rng) < 0.5f;
        int dy = 0, dx = 0;
        if (t->shift > 0) {
            dy = (int)thaw_rng_below(rng, span) - t->shift;
            dx = (int)thaw_rng_below(rng, span) - t->shift;
        }
        if (flip) thaw_transform_flip(im, h, w, c);
        if (dy || dx) thaw_transform_translate(im, h, w, c, dy, dx, t->fill);
    }
}
