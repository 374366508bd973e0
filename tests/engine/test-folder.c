/* Image folders: class and file order, labels, the bilinear resize on
 * hand-computed cases, channel conversion, skipped files, every error with
 * the folder or file named, the caps, and cancelling from the callback. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/folder.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/thaw-folder-XXXXXX";

/* Writes an 8-bit PNG (or 16-bit when depth is 16) of the given colour type
 * from samples (h, w, spp); palette images use pal (3 bytes per entry). */
static void write_png(const char *path, int w, int h, int color_type, int depth,
                      const unsigned *samples, const unsigned char *pal, int npal)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        CHECK_MSG(0, "cannot create %s", path);
        return;
    }
    int spp = color_type == PNG_COLOR_TYPE_GRAY         ? 1
              : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
              : color_type == PNG_COLOR_TYPE_RGB        ? 3
              : color_type == PNG_COLOR_TYPE_RGBA       ? 4
                                                        : 1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    size_t bps = depth == 16 ? 2 : 1, rowbytes = (size_t)w * spp * bps;
    unsigned char *row = malloc(rowbytes);
    if (setjmp(png_jmpbuf(png))) {
        CHECK_MSG(0, "libpng failed writing %s", path);
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(row);
        return;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color p[256];
        for (int i = 0; i < npal; i++)
            p[i].red = pal[3 * i], p[i].green = pal[3 * i + 1], p[i].blue = pal[3 * i + 2];
        png_set_PLTE(png, info, p, npal);
    }
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        for (int i = 0; i < w * spp; i++) {
            unsigned v = samples[(size_t)y * w * spp + i];
            if (depth == 16)
                row[2 * i] = (unsigned char)(v >> 8), row[2 * i + 1] = v & 255;
            else
                row[i] = (unsigned char)v;
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(row);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* "<tmpdir>/<rel>" in one of 4 rotating buffers. */
static char *pathf(const char *rel)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, rel);
    return buf[k];
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_tree(const char *p)
{
    nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the resize on its own -------------------------------------------- */

/* Reference in double precision, same sampling rule. */
static void resize_ref(double *dst, int dh, int dw, const float *src, int sh, int sw, int c)
{
    for (int y = 0; y < dh; y++) {
        double sy = (y + 0.5) * sh / dh - 0.5;
        if (sy < 0) sy = 0;
        int y0 = (int)floor(sy), y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        if (y0 > sh - 1) y0 = sh - 1;
        double ly = sy - floor(sy);
        for (int x = 0; x < dw; x++) {
            double sx = (x + 0.5) * sw / dw - 0.5;
            if (sx < 0) sx = 0;
            int x0 = (int)floor(sx), x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            if (x0 > sw - 1) x0 = sw - 1;
            double lx = sx - floor(sx);
            for (int k = 0; k < c; k++) {
                double a = src[((size_t)y0 * sw + x0) * c + k],
                       b = src[((size_t)y0 * sw + x1) * c + k];
                double p = src[((size_t)y1 * sw + x0) * c + k],
                       q = src[((size_t)y1 * sw + x1) * c + k];
                dst[((size_t)y * dw + x) * c + k] =
                    (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * p + lx * q);
            }
        }
    }
}

static void test_resize(void)
{
    /* 2x2 -> 4x4: sample rows/cols at -0.25 (clamped), 0.25, 0.75, 1.25. */
    const float up_src[4] = {0, 100, 200, 40};
    const float up_want[16] = {0,   25,      75,     100, 50,  58.75f, 76.25f, 85,
                               150, 126.25f, 78.75f, 55,  200, 160,    80,     40};
    float up[16];
    thaw_folder_resize(up, 4, 4, up_src, 2, 2, 1);
    CHECK(thaw_test_same("2x2 -> 4x4", up, up_want, 16));
    /* 4x4 -> 2x2: each output is the mean of a 2x2 block. */
    const float dn_src[16] = {10, 20, 0, 0, 30, 40, 100, 200, 7, 9, 1, 1, 11, 13, 3, 3};
    const float dn_want[4] = {25, 75, 10, 2};
    float dn[4];
    thaw_folder_resize(dn, 2, 2, dn_src, 4, 4, 1);
    CHECK(thaw_test_same("4x4 -> 2x2", dn, dn_want, 4));
    /* 3 -> 2 along a row: samples at 0.25 and 1.75. */
    const float r_src[3] = {0, 30, 60}, r_want[2] = {7.5f, 52.5f};
    float r[2];
    thaw_folder_resize(r, 1, 2, r_src, 1, 3, 1);
    CHECK(thaw_test_same("1x3 -> 1x2", r, r_want, 2));
    /* Channels interleaved stay apart. */
    const float c_src[8] = {0, 1, 100, 101, 200, 201, 40, 41};
    float c_out[32];
    thaw_folder_resize(c_out, 4, 4, c_src, 2, 2, 2);
    for (int i = 0; i < 16; i++) {
        CHECK(c_out[2 * i] == up_want[i]);
        CHECK(fabsf(c_out[2 * i + 1] - (up_want[i] + 1)) < 1e-4f);
    }
    /* Random shapes against the double reference; same size is a copy. */
    thaw_rng rng;
    thaw_rng_seed(&rng, 5, 0);
    static const int shapes[][4] = {{7, 5, 3, 9}, {1, 6, 4, 1}, {28, 28, 32, 32}, {28, 28, 14, 9},
                                    {3, 3, 3, 3}, {1, 1, 5, 7}, {17, 4, 2, 13}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int sh = shapes[s][0], sw = shapes[s][1], dh = shapes[s][2], dw = shapes[s][3], c = 3;
        float *src = thaw_test_alloc((size_t)sh * sw * c);
        float *dst = thaw_test_alloc((size_t)dh * dw * c),
              *want = thaw_test_alloc((size_t)dh * dw * c);
        double *ref = calloc((size_t)dh * dw * c, sizeof *ref);
        thaw_test_fill_uniform(src, (size_t)sh * sw * c, 0, 255, &rng);
        thaw_folder_resize(dst, dh, dw, src, sh, sw, c);
        resize_ref(ref, dh, dw, src, sh, sw, c);
        for (size_t i = 0; i < (size_t)dh * dw * c; i++) want[i] = (float)ref[i];
        char what[64];
        snprintf(what, sizeof what, "resize %dx%d -> %dx%d", sh, sw, dh, dw);
        CHECK(thaw_test_close(what, dst, want, (size_t)dh * dw * c, 1e-3, 1e-5));
        if (sh == dh && sw == dw) CHECK(thaw_test_same(what, dst, src, (size_t)dh * dw * c));
        free(src), free(dst), free(want), free(ref);
    }
}

/* ---- a folder tree ----------------------------------------------------- */

typedef struct progress_log {
    int calls, last_done, last_total, cancel_at;
} progress_log;

static int on_progress(void *ctx, int done, int total)
{
    progress_log *p = ctx;
    CHECK(done == p->last_done + (p->calls ? 1 : 0));
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return p->cancel_at >= 0 && done == p->cancel_at;
}

/* The red plane of Dog/a.PNG (4x4 RGB); green = 255 - red, blue = min(2 red, 255). */
static const unsigned plane[16] = {10, 20, 0, 0, 30, 40, 100, 200, 7, 9, 1, 1, 11, 13, 3, 3};

static void rgb_of(int i, unsigned rgb[3])
{
    rgb[0] = plane[i];
    rgb[1] = 255 - plane[i];
    rgb[2] = 2 * plane[i] > 255 ? 255 : 2 * plane[i];
}

static void build_tree(void)
{
    mkdir(pathf("root"), 0755);
    mkdir(pathf("root/cat"), 0755);
    mkdir(pathf("root/Dog"), 0755);
    mkdir(pathf("root/bird"), 0755);
    mkdir(pathf("root/.ipynb_checkpoints"), 0755);
    mkdir(pathf("root/cat/nested"), 0755);
    write_text(pathf("root/README.txt"), "not an image");
    write_text(pathf("root/.ipynb_checkpoints/x.png"), "not a png");

    /* Dog (label 0): a 2x2 gray image and a 4x4 RGB image. */
    const unsigned g22[4] = {0, 100, 200, 40};
    write_png(pathf("root/Dog/b.png"), 2, 2, PNG_COLOR_TYPE_GRAY, 8, g22, NULL, 0);
    unsigned rgb44[48];
    for (int i = 0; i < 16; i++) rgb_of(i, rgb44 + 3 * i);
    write_png(pathf("root/Dog/a.PNG"), 4, 4, PNG_COLOR_TYPE_RGB, 8, rgb44, NULL, 0);
    write_text(pathf("root/Dog/notes.txt"), "skipped");
    write_text(pathf("root/Dog/._a.png"), "AppleDouble junk, hidden");
    write_text(pathf("root/Dog/photo.jpg"), "skipped");

    /* bird (label 1): a 1x1 pure red RGBA pixel, alpha 0 (dropped). */
    const unsigned red[4] = {255, 0, 0, 0};
    write_png(pathf("root/bird/red.png"), 1, 1, PNG_COLOR_TYPE_RGBA, 8, red, NULL, 0);

    /* cat (label 2): a 16-bit gray 4x4 constant and a palette 3x5 image;
     * a file inside cat/nested is not read. */
    unsigned g16[16];
    for (int i = 0; i < 16; i++) g16[i] = 257 * 60; /* 60 in 8 bits */
    write_png(pathf("root/cat/z16.png"), 4, 4, PNG_COLOR_TYPE_GRAY, 16, g16, NULL, 0);
    const unsigned char pal[6] = {0, 0, 255, 255, 255, 255};
    unsigned idx[15];
    for (int i = 0; i < 15; i++) idx[i] = 1;
    write_png(pathf("root/cat/m.png"), 3, 5, PNG_COLOR_TYPE_PALETTE, 8, idx, pal, 2);
    write_text(pathf("root/cat/nested/deep.png"), "never read");
}

static void test_load(void)
{
    build_tree();
    const char *root = pathf("root");
    thaw_folder f;
    thaw_error err;
    progress_log log = {0, 0, 0, -1};
    thaw_folder_options opt = {
        .h = 4, .w = 4, .c = 3, .progress = on_progress, .progress_ctx = &log};
    thaw_status st = thaw_folder_load(&f, root, &opt, &err);
    CHECK_MSG(st == THAW_OK, "load: %s", err.msg);
    if (st != THAW_OK) return;
    const thaw_dataset *d = &f.data;
    CHECK(d->n == 5 && d->h == 4 && d->w == 4 && d->c == 3 && d->classes == 3);
    CHECK(!strcmp(f.class_names[0], "Dog") && !strcmp(f.class_names[1], "bird") &&
          !strcmp(f.class_names[2], "cat"));
    static const char *files[] = {"Dog/a.PNG", "Dog/b.png", "bird/red.png", "cat/m.png",
                                  "cat/z16.png"};
    static const int labels[] = {0, 0, 1, 2, 2};
    for (int i = 0; i < 5 && i < d->n; i++) {
        CHECK_MSG(!strcmp(f.files[i], files[i]), "file %d is %s, want %s", i, f.files[i], files[i]);
        CHECK(d->y[i] == labels[i]);
    }
    CHECK(log.calls == 6 && log.last_done == 5 && log.last_total == 5);

    size_t img = 4 * 4 * 3;
    /* Dog/a.PNG is 4x4 already: copied exactly. */
    for (int p = 0; p < 16; p++) {
        unsigned rgb[3];
        rgb_of(p, rgb);
        for (int k = 0; k < 3; k++) CHECK(d->x[p * 3 + k] == (float)rgb[k]);
    }
    /* Dog/b.png: 2x2 gray -> 4x4, replicated to RGB. */
    const float up_want[16] = {0,   25,      75,     100, 50,  58.75f, 76.25f, 85,
                               150, 126.25f, 78.75f, 55,  200, 160,    80,     40};
    for (int p = 0; p < 16; p++)
        for (int k = 0; k < 3; k++)
            CHECK_MSG(d->x[img + p * 3 + k] == up_want[p], "b.png pixel %d ch %d: %g, want %g", p,
                      k, (double)d->x[img + p * 3 + k], (double)up_want[p]);
    /* bird/red.png: alpha 0 dropped, not composited: still pure red. */
    for (int p = 0; p < 16; p++)
        CHECK(d->x[2 * img + p * 3] == 255 && d->x[2 * img + p * 3 + 1] == 0 &&
              d->x[2 * img + p * 3 + 2] == 0);
    /* cat/m.png: palette white; cat/z16.png: 16-bit 60*257 -> 60. */
    for (size_t i = 0; i < img; i++) CHECK(d->x[3 * img + i] == 255 && d->x[4 * img + i] == 60);
    thaw_folder_free(&f);
    CHECK(f.class_names == NULL && f.files == NULL && f.data.x == NULL);

    /* Gray at 2x2: luma first, then the resize (Keras's order). */
    opt = (thaw_folder_options){.h = 2, .w = 2, .c = 1};
    st = thaw_folder_load(&f, root, &opt, &err);
    CHECK_MSG(st == THAW_OK, "gray load: %s", err.msg);
    if (st != THAW_OK) return;
    CHECK(f.data.c == 1 && f.data.n == 5 && f.data.h == 2 && f.data.w == 2);
    float luma[16];
    for (int i = 0; i < 16; i++) {
        unsigned rgb[3];
        rgb_of(i, rgb);
        luma[i] = (float)((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
    }
    /* 4x4 -> 2x2: sample points 0.5 and 2.5, i.e. 2x2 block means computed
     * as top = a + (b - a) / 2, bot likewise, top + (bot - top) / 2. */
    for (int by = 0; by < 2; by++)
        for (int bx = 0; bx < 2; bx++) {
            const float *q = luma + by * 8 + bx * 2;
            float top = q[0] + (q[1] - q[0]) * 0.5f, bot = q[4] + (q[5] - q[4]) * 0.5f;
            float want = top + (bot - top) * 0.5f;
            CHECK_MSG(f.data.x[by * 2 + bx] == want, "a.PNG gray block %d,%d: %g, want %g", by, bx,
                      (double)f.data.x[by * 2 + bx], (double)want);
        }
    /* Dog/b.png is 2x2 already: copied. */
    CHECK(f.data.x[4] == 0 && f.data.x[5] == 100 && f.data.x[6] == 200 && f.data.x[7] == 40);
    /* bird: red (255, 0, 0) -> (299 * 255 + 500) / 1000 = 76 */
    for (int p = 0; p < 4; p++) CHECK(f.data.x[2 * 4 + p] == 76);
    thaw_folder_free(&f);

    /* Cancelling from the callback. */
    log = (progress_log){0, 0, 0, 2};
    opt = (thaw_folder_options){
        .h = 4, .w = 4, .c = 3, .progress = on_progress, .progress_ctx = &log};
    st = thaw_folder_load(&f, root, &opt, &err);
    CHECK_MSG(st == THAW_ERR_CANCELLED && strstr(err.msg, root), "cancel: %s", err.msg);
    CHECK(log.calls == 3 && f.data.x == NULL && f.class_names == NULL && f.data.n == 0);
    log = (progress_log){0, 0, 0, 0};
    st = thaw_folder_load(&f, root, &opt, &err);
    CHECK(st == THAW_ERR_CANCELLED && log.calls == 1);

    /* The caps. */
    opt = (thaw_folder_options){.h = 4, .w = 4, .c = 3, .max_images = 4};
    st = thaw_folder_load(&f, root, &opt, &err);
    CHECK_MSG(st == THAW_ERR_UNSUPPORTED && strstr(err.msg, "more than 4 images"), "cap: %s",
              err.msg);
    opt = (thaw_folder_options){.h = 4, .w = 4, .c = 3, .max_bytes = 5 * 48 * 4 - 1};
    st = thaw_folder_load(&f, root, &opt, &err);
    CHECK_MSG(st == THAW_ERR_UNSUPPORTED && strstr(err.msg, "MB"), "bytes cap: %s", err.msg);
    opt.max_bytes = 5 * 48 * 4;
    st = thaw_folder_load(&f, root, &opt, &err);
    CHECK(st == THAW_OK);
    thaw_folder_free(&f);

    /* Bad options. */
    opt = (thaw_folder_options){.h = 4, .w = 4, .c = 2};
    CHECK(thaw_folder_load(&f, root, &opt, &err) == THAW_ERR_ARG);
    opt = (thaw_folder_options){.h = 0, .w = 4, .c = 3};
    CHECK(thaw_folder_load(&f, root, &opt, &err) == THAW_ERR_ARG);
    rm_tree(root);
}

/* Loads root expecting failure with `want` and a message containing both
 * needles. */
static void expect_error(const char *root, thaw_status want, const char *n1, const char *n2)
{
    thaw_folder f;
    thaw_error err;
    thaw_error_clear(&err);
    thaw_folder_options opt = {.h = 8, .w = 8, .c = 3};
    thaw_status st = thaw_folder_load(&f, root, &opt, &err);
    CHECK_MSG(st == want && strstr(err.msg, n1) && strstr(err.msg, n2),
              "%s: status %s (want %s), message '%s' (want '%s', '%s')", root,
              thaw_status_to_string(st), thaw_status_to_string(want), err.msg, n1, n2);
    CHECK(f.data.x == NULL && f.class_names == NULL && f.files == NULL);
}

static void test_errors(void)
{
    const unsigned px[1] = {128};
    expect_error(pathf("missing"), THAW_ERR_IO, pathf("missing"), "No such file");
    write_text(pathf("plain"), "a file");
    expect_error(pathf("plain"), THAW_ERR_IO, pathf("plain"), "not a directory");
    unlink(pathf("plain"));

    /* No class folders: empty, or images straight in root. */
    mkdir(pathf("flat"), 0755);
    expect_error(pathf("flat"), THAW_ERR_FORMAT, "no class folders", pathf("flat"));
    write_png(pathf("flat/a.png"), 1, 1, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0);
    expect_error(pathf("flat"), THAW_ERR_FORMAT, "no class folders", "need a folder per class");
    rm_tree(pathf("flat"));

    /* An empty class folder, named; one with only JPEGs says so. */
    mkdir(pathf("r2"), 0755);
    mkdir(pathf("r2/a"), 0755);
    mkdir(pathf("r2/b_empty"), 0755);
    write_png(pathf("r2/a/x.png"), 1, 1, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0);
    expect_error(pathf("r2"), THAW_ERR_FORMAT, pathf("r2/b_empty"), "no .png images");
    write_text(pathf("r2/b_empty/y.JPG"), "jpeg");
    expect_error(pathf("r2"), THAW_ERR_FORMAT, pathf("r2/b_empty"), "only PNG");

    /* A bad file is named: not a PNG, then truncated. */
    write_text(pathf("r2/b_empty/bad.png"), "this is not a PNG");
    expect_error(pathf("r2"), THAW_ERR_FORMAT, pathf("r2/b_empty/bad.png"), "not a PNG");
    FILE *f = fopen(pathf("r2/a/x.png"), "rb");
    unsigned char buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(pathf("r2/b_empty/bad.png"), "wb");
    fwrite(buf, 1, n - 5, f);
    fclose(f);
    expect_error(pathf("r2"), THAW_ERR_FORMAT, pathf("r2/b_empty/bad.png"), "truncated at byte");
    /* A directory named like an image is not an image. */
    unlink(pathf("r2/b_empty/bad.png"));
    mkdir(pathf("r2/b_empty/dir.png"), 0755);
    expect_error(pathf("r2"), THAW_ERR_FORMAT, pathf("r2/b_empty"), "no .png images");
    rm_tree(pathf("r2"));
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 99;
    test_resize();
    test_load();
    test_errors();
    if (rmdir(tmpdir) != 0) fprintf(stderr, "temp dir %s not empty\n", tmpdir);
    return thaw_test_finish();
}
