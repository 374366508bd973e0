/* Transforms: each domain-shift formula exactly, clamping, seeding, the
 * settings parser and validator, and augmentation (identity unless
 * training, flips and shifts exact, the documented draw order). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/transform.h"
#include "testutil.h"

enum { H = 5, W = 4, C = 3, N = H * W * C };

static float clampf(float v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* A test image with 0 and 255 among random values. */
static void test_image(float *x, uint64_t seed)
{
    thaw_rng rng;
    thaw_rng_seed(&rng, seed, 0);
    for (int i = 0; i < N; i++) x[i] = (float)thaw_rng_below(&rng, 256);
    x[0] = 0, x[1] = 255, x[5] = 250, x[7] = 3;
}

static void apply(float *out, const float *in, const char *spec)
{
    thaw_transform t = {0};
    thaw_error err;
    CHECK_MSG(thaw_transform_parse(&t, spec, &err) == THAW_OK, "%s: %s", spec, err.msg);
    memcpy(out, in, N * sizeof *out);
    thaw_rng rng;
    thaw_rng_seed(&rng, 1, 0);
    thaw_transform_shift_image(out, H, W, C, &t, &rng);
}

static void test_formulas(void)
{
    float x[N], got[N], want[N];
    test_image(x, 3);

    apply(got, x, "brightness:40");
    for (int i = 0; i < N; i++) want[i] = clampf(x[i] + 40.0f);
    CHECK(thaw_test_same("brightness +40", got, want, N));
    CHECK(got[1] == 255 && got[5] == 255 && got[0] == 40); /* clamped at 255 */
    apply(got, x, "brightness:-40");
    for (int i = 0; i < N; i++) want[i] = clampf(x[i] - 40.0f);
    CHECK(thaw_test_same("brightness -40", got, want, N));
    CHECK(got[0] == 0 && got[7] == 0 && got[1] == 215);

    apply(got, x, "invert");
    for (int i = 0; i < N; i++) want[i] = 255.0f - x[i];
    CHECK(thaw_test_same("invert", got, want, N));
    CHECK(got[0] == 255 && got[1] == 0);

    apply(got, x, "lift");
    for (int i = 0; i < N; i++) want[i] = clampf(76.5f + 0.7f * x[i]);
    CHECK(thaw_test_same("lift", got, want, N));
    CHECK(got[0] == 76.5f && fabsf(got[1] - 255.0f) < 1e-4f && fabsf(got[7] - 78.6f) < 1e-4f);

    apply(got, x, "dark:0.5");
    for (int i = 0; i < N; i++) want[i] = x[i] * 0.5f;
    CHECK(thaw_test_same("dark 0.5", got, want, N));

    /* Contrast around each channel's own mean. */
    apply(got, x, "contrast:1.5");
    for (int k = 0; k < C; k++) {
        double sum = 0;
        for (int p = 0; p < H * W; p++) sum += x[p * C + k];
        float m = (float)(sum / (H * W));
        for (int p = 0; p < H * W; p++) want[p * C + k] = clampf(m + 1.5f * (x[p * C + k] - m));
    }
    CHECK(thaw_test_same("contrast 1.5", got, want, N));
    {
        /* hand case: one channel [0, 100], mean 50, factor 2 -> [0 (from -50), 150] */
        float two[2] = {0, 100};
        thaw_transform t = {.contrast = 2};
        thaw_transform_shift_image(two, 1, 2, 1, &t, NULL);
        CHECK(two[0] == 0 && two[1] == 150);
        float rgb[6] = {0, 10, 200, 100, 30, 220}; /* means 50, 20, 210 */
        t.contrast = 0.5f;
        thaw_transform_shift_image(rgb, 1, 2, 3, &t, NULL);
        CHECK(rgb[0] == 25 && rgb[3] == 75 && rgb[1] == 15 && rgb[4] == 25 && rgb[2] == 205 &&
              rgb[5] == 215);
    }

    /* Steps run in the documented order, each clamped: brightness first,
     * then invert: 255 - clamp(x + 100). */
    apply(got, x, "invert,brightness:100");
    for (int i = 0; i < N; i++) want[i] = 255.0f - clampf(x[i] + 100.0f);
    CHECK(thaw_test_same("brightness then invert", got, want, N));
    apply(got, x, "lift,dark:0.5");
    for (int i = 0; i < N; i++) want[i] = clampf(76.5f + 0.7f * x[i]) * 0.5f;
    CHECK(thaw_test_same("lift then dark", got, want, N));

    /* Noise: x + s N(0,1) with the rng's normals in memory order, clamped. */
    {
        thaw_transform t = {.noise = 25};
        thaw_rng a, b;
        thaw_rng_seed(&a, 77, 3);
        thaw_rng_seed(&b, 77, 3);
        memcpy(got, x, sizeof got);
        thaw_transform_shift_image(got, H, W, C, &t, &a);
        for (int i = 0; i < N; i++) want[i] = clampf(x[i] + 25.0f * thaw_rng_normal(&b));
        CHECK(thaw_test_same("noise 25", got, want, N));
        int clamped = 0;
        for (int i = 0; i < N; i++) clamped += got[i] == 0 || got[i] == 255;
        CHECK(clamped >= 1); /* 0 and 255 are in the image: some noise goes outside */
    }
    /* Noise statistics on a flat image. */
    {
        enum { S = 64 * 64 };
        float *flat = thaw_test_alloc(S);
        for (int i = 0; i < S; i++) flat[i] = 128;
        thaw_transform t = {.noise = 10};
        thaw_rng rng;
        thaw_rng_seed(&rng, 5, 0);
        thaw_transform_shift_image(flat, 64, 64, 1, &t, &rng);
        double m = 0, v = 0;
        for (int i = 0; i < S; i++) m += flat[i] - 128.0;
        m /= S;
        for (int i = 0; i < S; i++) v += (flat[i] - 128.0 - m) * (flat[i] - 128.0 - m);
        double sd = sqrt(v / S);
        CHECK_MSG(fabs(m) < 0.5 && fabs(sd - 10) < 0.5, "noise mean %g sd %g", m, sd);
        free(flat);
    }
}

static void test_dataset_shift(void)
{
    enum { NI = 4 };
    thaw_dataset a = {.n = NI, .h = H, .w = W, .c = C, .classes = 1};
    a.x = thaw_test_alloc(NI * N);
    thaw_dataset b = a, c = a;
    b.x = thaw_test_alloc(NI * N);
    c.x = thaw_test_alloc(NI * N);
    for (int i = 0; i < NI; i++) test_image(a.x + i * N, 10); /* all images alike */
    memcpy(b.x, a.x, NI * N * sizeof(float));
    memcpy(c.x, a.x, NI * N * sizeof(float));
    thaw_transform t = {.noise = 20, .brightness = 5};
    thaw_error err;
    CHECK(thaw_transform_shift_dataset(&a, &t, 42, &err) == THAW_OK);
    CHECK(thaw_transform_shift_dataset(&b, &t, 42, &err) == THAW_OK);
    CHECK(thaw_transform_shift_dataset(&c, &t, 43, &err) == THAW_OK);
    CHECK(thaw_test_same("same seed, same data", a.x, b.x, NI * N));
    CHECK(memcmp(a.x, c.x, NI * N * sizeof(float)) != 0);
    /* Equal images get different noise. */
    CHECK(memcmp(a.x, a.x + N, N * sizeof(float)) != 0);
    /* Without noise the dataset shift is the image shift on every image. */
    thaw_transform inv = {.invert = true};
    float one[N];
    memcpy(one, b.x + 2 * N, sizeof one);
    CHECK(thaw_transform_shift_dataset(&b, &inv, 0, &err) == THAW_OK);
    for (int i = 0; i < N; i++) one[i] = 255 - one[i];
    CHECK(thaw_test_same("dataset invert", b.x + 2 * N, one, N));
    /* Invalid settings are refused before touching the data. */
    memcpy(one, b.x, sizeof one);
    thaw_transform bad = {.dark = 2};
    CHECK(thaw_transform_shift_dataset(&b, &bad, 0, &err) == THAW_ERR_ARG);
    CHECK(thaw_test_same("untouched", b.x, one, N));
    free(a.x), free(b.x), free(c.x);
}

/* Field by field: the struct has padding. */
static bool same_settings(const thaw_transform *a, const thaw_transform *b)
{
    return a->brightness == b->brightness && a->contrast == b->contrast && a->invert == b->invert &&
           a->lift == b->lift && a->dark == b->dark && a->noise == b->noise && a->flip == b->flip &&
           a->shift == b->shift && a->fill == b->fill;
}

static void test_settings(void)
{
    thaw_transform t = {0};
    thaw_error err;
    char buf[128];
    CHECK(!thaw_transform_has_shift(&t) && !thaw_transform_has_augment(&t));
    CHECK(thaw_transform_describe(&t, buf, sizeof buf) == 4 && !strcmp(buf, "none"));
    CHECK(thaw_transform_validate(&t, &err) == THAW_OK);

    CHECK(thaw_transform_parse(&t, "invert", &err) == THAW_OK && t.invert);
    CHECK(thaw_transform_parse(&t, "brightness:-40", &err) == THAW_OK && t.brightness == -40);
    CHECK(thaw_transform_parse(&t, "noise:25", &err) == THAW_OK && t.noise == 25);
    CHECK(thaw_transform_parse(&t, "lift", &err) == THAW_OK && t.lift);
    CHECK(thaw_transform_parse(&t, "dark:0.5", &err) == THAW_OK && t.dark == 0.5f);
    CHECK(t.invert && t.brightness == -40); /* specs accumulate */
    CHECK(thaw_transform_has_shift(&t) && !thaw_transform_has_augment(&t));
    CHECK(thaw_transform_parse(&t, " none , contrast:1.5 ,flip,shift:3,fill:edge ", &err) ==
          THAW_OK);
    CHECK(!t.invert && !t.lift && t.brightness == 0 && t.contrast == 1.5f && t.flip &&
          t.shift == 3 && t.fill == THAW_FILL_EDGE && thaw_transform_has_augment(&t));
    thaw_transform_describe(&t, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, "contrast:1.5,flip,shift:3,fill:edge"), "describe: %s", buf);
    /* describe -> parse round trip */
    thaw_transform all = {.brightness = -12.5f,
                          .contrast = 2,
                          .invert = true,
                          .lift = true,
                          .dark = 0.25f,
                          .noise = 7,
                          .flip = true,
                          .shift = 2,
                          .fill = THAW_FILL_EDGE};
    thaw_transform_describe(&all, buf, sizeof buf);
    thaw_transform back = {0};
    CHECK_MSG(thaw_transform_parse(&back, buf, &err) == THAW_OK, "'%s': %s", buf, err.msg);
    CHECK(same_settings(&back, &all));
    /* truncation like snprintf */
    char small[8];
    size_t need = thaw_transform_describe(&all, small, sizeof small);
    CHECK(need == strlen(buf) && strlen(small) == 7 && !strncmp(small, buf, 7));

    /* Errors: clear, quoting the item, leaving t unchanged. */
    static const struct {
        const char *spec, *needle;
    } bad[] = {
        {"bogus", "unknown transform 'bogus'"},
        {"dark", "needs a value"},
        {"dark:abc", "not a number"},
        {"dark:1.5", "(0, 1]"},
        {"dark:0", "above 0"},
        {"contrast:0", "above 0"},
        {"contrast:-1", "contrast factor -1"},
        {"contrast:11", "out of range"},
        {"brightness:300", "brightness 300"},
        {"brightness:nan", "not a number"},
        {"noise:-1", "noise sigma -1"},
        {"noise:1000", "out of range"},
        {"shift:65", "shift 65"},
        {"shift:-1", "shift -1"},
        {"shift:1.5", "whole number"},
        {"fill:reflect", "zero or edge"},
        {"invert:3", "takes no value"},
        {"", "empty"},
        {" , ", "empty"},
        {"invert,bogus", "'bogus'"},
        {"noise:25x", "not a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        thaw_transform before = t;
        thaw_error_clear(&err);
        thaw_status st = thaw_transform_parse(&t, bad[i].spec, &err);
        CHECK_MSG(st == THAW_ERR_ARG && strstr(err.msg, bad[i].needle),
                  "'%s': status %s, message '%s' (want '%s')", bad[i].spec,
                  thaw_status_to_string(st), err.msg, bad[i].needle);
        CHECK_MSG(same_settings(&before, &t), "'%s' changed the settings", bad[i].spec);
    }
    thaw_transform nanb = {.brightness = NAN};
    CHECK(thaw_transform_validate(&nanb, &err) == THAW_ERR_ARG);
    thaw_transform inf = {.noise = INFINITY};
    CHECK(thaw_transform_validate(&inf, &err) == THAW_ERR_ARG);
    thaw_transform fill = {.fill = (thaw_fill)7};
    CHECK(thaw_transform_validate(&fill, &err) == THAW_ERR_ARG);
}

/* Naive translation: out[y][x] = in[y - dy][x - dx], fill outside. */
static void translate_ref(float *out, const float *in, int h, int w, int c, int dy, int dx,
                          thaw_fill fill)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                int sy = y - dy, sx = x - dx;
                float v;
                if (fill == THAW_FILL_ZERO) {
                    v = sy >= 0 && sy < h && sx >= 0 && sx < w ? in[(sy * w + sx) * c + k] : 0;
                } else {
                    sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
                    sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
                    v = in[(sy * w + sx) * c + k];
                }
                out[(y * w + x) * c + k] = v;
            }
}

static void flip_ref(float *out, const float *in, int h, int w, int c)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) out[(y * w + x) * c + k] = in[(y * w + w - 1 - x) * c + k];
}

static void test_kernels(void)
{
    float x[N], got[N], want[N];
    test_image(x, 11);
    for (int i = 0; i < N; i++) x[i] += 1; /* no zeros: fill is visible */
    for (int fill = 0; fill < 2; fill++)
        for (int dy = -H - 1; dy <= H + 1; dy++)
            for (int dx = -W - 1; dx <= W + 1; dx++) {
                memcpy(got, x, sizeof got);
                thaw_transform_translate(got, H, W, C, dy, dx, (thaw_fill)fill);
                translate_ref(want, x, H, W, C, dy, dx, (thaw_fill)fill);
                char what[64];
                snprintf(what, sizeof what, "translate %d,%d fill %d", dy, dx, fill);
                CHECK_MSG(thaw_test_same(what, got, want, N), "%s", what);
            }
    /* Hand case: a 1x4 row shifted right by 1. */
    float row[4] = {1, 2, 3, 4};
    thaw_transform_translate(row, 1, 4, 1, 0, 1, THAW_FILL_ZERO);
    CHECK(row[0] == 0 && row[1] == 1 && row[2] == 2 && row[3] == 3);
    float row2[4] = {1, 2, 3, 4};
    thaw_transform_translate(row2, 1, 4, 1, 0, -2, THAW_FILL_EDGE);
    CHECK(row2[0] == 3 && row2[1] == 4 && row2[2] == 4 && row2[3] == 4);

    for (int w = 1; w <= 4; w++) {
        memcpy(got, x, sizeof got);
        thaw_transform_flip(got, H, w, C - 1);
        flip_ref(want, x, H, w, C - 1);
        CHECK(thaw_test_same("flip", got, want, (size_t)H * w * (C - 1)));
        thaw_transform_flip(got, H, w, C - 1);
        CHECK(thaw_test_same("flip twice", got, x, (size_t)H * w * (C - 1)));
    }
}

static void test_augment(void)
{
    enum { B = 16 };
    float *x = thaw_test_alloc((size_t)B * N), *y = thaw_test_alloc((size_t)B * N);
    float *want = thaw_test_alloc((size_t)B * N);
    for (int i = 0; i < B; i++) test_image(x + i * N, 100 + i);
    thaw_transform t = {.flip = true, .shift = 2, .fill = THAW_FILL_ZERO};
    thaw_rng rng, copy;

    /* Not training: identity, rng untouched. */
    memcpy(y, x, (size_t)B * N * sizeof *y);
    thaw_rng_seed(&rng, 9, 1);
    copy = rng;
    thaw_transform_augment(y, B, H, W, C, &t, false, &rng);
    CHECK(thaw_test_same("training=false", y, x, (size_t)B * N));
    CHECK(rng.state == copy.state && rng.inc == copy.inc);

    /* Training: the documented draws, flip then translate. */
    thaw_rng_seed(&rng, 9, 1);
    memcpy(y, x, (size_t)B * N * sizeof *y);
    thaw_transform_augment(y, B, H, W, C, &t, true, &rng);
    thaw_rng_seed(&copy, 9, 1);
    int flips = 0, moved = 0;
    for (int i = 0; i < B; i++) {
        float tmp[N];
        bool f = thaw_rng_uniform(&copy) < 0.5f;
        int dy = (int)thaw_rng_below(&copy, 5) - 2, dx = (int)thaw_rng_below(&copy, 5) - 2;
        if (f)
            flip_ref(tmp, x + i * N, H, W, C);
        else
            memcpy(tmp, x + i * N, sizeof tmp);
        translate_ref(want + i * N, tmp, H, W, C, dy, dx, THAW_FILL_ZERO);
        flips += f;
        moved += dy || dx;
    }
    CHECK(thaw_test_same("augment draws", y, want, (size_t)B * N));
    CHECK(rng.state == copy.state);
    CHECK(flips > 0 && flips < B && moved > 0);
    CHECK(memcmp(y, x, (size_t)B * N * sizeof *y) != 0); /* not the identity */

    /* Same seed, same batch; another seed, another batch. */
    float *z = thaw_test_alloc((size_t)B * N);
    memcpy(z, x, (size_t)B * N * sizeof *z);
    thaw_rng_seed(&rng, 9, 1);
    thaw_transform_augment(z, B, H, W, C, &t, true, &rng);
    CHECK(thaw_test_same("same seed", z, y, (size_t)B * N));
    memcpy(z, x, (size_t)B * N * sizeof *z);
    thaw_rng_seed(&rng, 10, 1);
    thaw_transform_augment(z, B, H, W, C, &t, true, &rng);
    CHECK(memcmp(z, y, (size_t)B * N * sizeof *z) != 0);

    /* Flip only: every image is itself or its exact mirror. */
    thaw_transform fo = {.flip = true};
    memcpy(z, x, (size_t)B * N * sizeof *z);
    thaw_rng_seed(&rng, 3, 0);
    thaw_transform_augment(z, B, H, W, C, &fo, true, &rng);
    thaw_rng_seed(&copy, 3, 0);
    for (int i = 0; i < B; i++) {
        float m[N];
        flip_ref(m, x + i * N, H, W, C);
        bool f = thaw_rng_uniform(&copy) < 0.5f;
        CHECK(thaw_test_same("flip only", z + i * N, f ? m : x + i * N, N));
    }
    /* No augmentation configured: identity even when training. */
    thaw_transform none = {0};
    memcpy(z, x, (size_t)B * N * sizeof *z);
    thaw_transform_augment(z, B, H, W, C, &none, true, &rng);
    CHECK(thaw_test_same("nothing on", z, x, (size_t)B * N));
    free(x), free(y), free(z), free(want);
}

int main(void)
{
    test_formulas();
    test_dataset_shift();
    test_settings();
    test_kernels();
    test_augment();
    return thaw_test_finish();
}
