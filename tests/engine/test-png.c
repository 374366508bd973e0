/* PNG reader: every colour type and bit depth, interlaced or not, written
 * by libpng's writer and read back exactly; then every way a file can be
 * bad (truncated anywhere, CRC errors, short image data, absurd sizes and
 * chunk lengths, not a PNG) must be a clean error naming the file. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "data/png.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/thaw-png-XXXXXX";

/* ---- writing test images ---------------------------------------------- */

/* One test image: samples in the file's own units (0..2^depth-1, or
 * palette indices), `spp` samples per pixel. */
typedef struct spec {
    int w, h;
    int color_type, depth, interlace;
    int spp;
    uint16_t *s;        /* (h, w, spp) */
    png_color pal[256]; /* palette images */
    int npal;
    png_byte trans[256]; /* palette alpha */
    int ntrans;          /* > 0: write tRNS */
    png_color_16 tcolor; /* gray/RGB colour key */
    bool has_tcolor;
    bool text; /* add tEXt, zTXt and a private ancillary chunk */
} spec;

static int spp_of(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    case PNG_COLOR_TYPE_RGBA:
        return 4;
    default:
        return 1; /* palette */
    }
}

static bool write_png(const char *path, const spec *sp)
{
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    size_t rowbytes = ((size_t)sp->w * sp->spp * sp->depth + 7) / 8;
    unsigned char *data = calloc((size_t)sp->h, rowbytes);
    png_bytep *rows = malloc((size_t)sp->h * sizeof *rows);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(data);
        free(rows);
        return false;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)sp->w, (png_uint_32)sp->h, sp->depth, sp->color_type,
                 sp->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (sp->color_type == PNG_COLOR_TYPE_PALETTE) png_set_PLTE(png, info, sp->pal, sp->npal);
    if (sp->ntrans > 0) png_set_tRNS(png, info, sp->trans, sp->ntrans, NULL);
    if (sp->has_tcolor) png_set_tRNS(png, info, NULL, 0, (png_color_16p)&sp->tcolor);
    if (sp->text) {
        png_text t[2];
        memset(t, 0, sizeof t);
        t[0].compression = PNG_TEXT_COMPRESSION_NONE;
        t[0].key = (char *)"Comment";
        t[0].text = (char *)"written by test-png";
        t[1].compression = PNG_TEXT_COMPRESSION_zTXt;
        t[1].key = (char *)"Description";
        t[1].text = (char *)"a compressed text chunk, skipped by the reader";
        png_set_text(png, info, t, 2);
        png_unknown_chunk u;
        memset(&u, 0, sizeof u);
        memcpy(u.name, "prVt", 5);
        static png_byte payload[] = {1, 2, 3, 4, 5};
        u.data = payload;
        u.size = sizeof payload;
        u.location = PNG_HAVE_IHDR;
        png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, NULL, 0);
        png_set_unknown_chunks(png, info, &u, 1);
    }
    png_write_info(png, info);
    for (int y = 0; y < sp->h; y++) {
        unsigned char *row = data + (size_t)y * rowbytes;
        rows[y] = row;
        for (int i = 0; i < sp->w * sp->spp; i++) {
            unsigned v = sp->s[(size_t)y * sp->w * sp->spp + i];
            if (sp->depth == 16) {
                row[2 * i] = (unsigned char)(v >> 8);
                row[2 * i + 1] = (unsigned char)v;
            } else if (sp->depth == 8) {
                row[i] = (unsigned char)v;
            } else { /* packed, first sample in the high bits */
                int per = 8 / sp->depth, shift = 8 - sp->depth * (i % per + 1);
                row[i / per] |= (unsigned char)(v << shift);
            }
        }
    }
    png_write_image(png, rows); /* handles the Adam7 passes */
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(data);
    free(rows);
    return true;
}

/* Expected 8-bit value of a sample of the given depth. */
static unsigned to8(unsigned v, int depth)
{
    if (depth == 16) return (v * 255u + 32767u) / 65535u; /* round(v * 255 / 65535) */
    return v * 255u / ((1u << depth) - 1u);               /* bit replication, exact */
}

/* What thaw_png_read must return for sp with c channels. */
static void expected(float *out, const spec *sp, int c)
{
    for (size_t p = 0; p < (size_t)sp->w * sp->h; p++) {
        const uint16_t *s = sp->s + p * sp->spp;
        unsigned r, g, b, a = 255;
        bool gray = false;
        switch (sp->color_type) {
        case PNG_COLOR_TYPE_PALETTE:
            r = sp->pal[s[0]].red, g = sp->pal[s[0]].green, b = sp->pal[s[0]].blue;
            if (s[0] < sp->ntrans) a = sp->trans[s[0]];
            break;
        case PNG_COLOR_TYPE_GRAY:
        case PNG_COLOR_TYPE_GRAY_ALPHA:
            gray = true;
            r = g = b = to8(s[0], sp->depth);
            if (sp->spp == 2) a = to8(s[1], sp->depth);
            if (sp->has_tcolor && s[0] == sp->tcolor.gray) a = 0;
            break;
        default:
            r = to8(s[0], sp->depth), g = to8(s[1], sp->depth), b = to8(s[2], sp->depth);
            if (sp->spp == 4) a = to8(s[3], sp->depth);
            if (sp->has_tcolor && s[0] == sp->tcolor.red && s[1] == sp->tcolor.green &&
                s[2] == sp->tcolor.blue)
                a = 0;
        }
        float *o = out + p * c;
        if (c == 1) {
            o[0] = gray ? (float)g : (float)((299 * r + 587 * g + 114 * b + 500) / 1000);
        } else {
            o[0] = (float)r, o[1] = (float)g, o[2] = (float)b;
            if (c == 4) o[3] = (float)a;
        }
    }
}

static void fill_random(spec *sp, thaw_rng *rng)
{
    unsigned maxv = sp->color_type == PNG_COLOR_TYPE_PALETTE ? (unsigned)sp->npal : 1u << sp->depth;
    for (size_t i = 0; i < (size_t)sp->w * sp->h * sp->spp; i++)
        sp->s[i] = (uint16_t)thaw_rng_below(rng, maxv);
    /* The extremes always appear. */
    sp->s[0] = 0;
    sp->s[(size_t)sp->w * sp->h * sp->spp - 1] = (uint16_t)(maxv - 1);
}

static void check_decode(const char *path, const spec *sp, const char *what)
{
    for (int c = 1; c <= 4; c++) {
        if (c == 2) continue;
        thaw_png_image img;
        thaw_error err;
        thaw_status st = thaw_png_read(&img, path, c, &err);
        CHECK_MSG(st == THAW_OK, "%s c=%d: %s", what, c, err.msg);
        if (st != THAW_OK) continue;
        CHECK(img.w == sp->w && img.h == sp->h && img.c == c);
        float *want = thaw_test_alloc((size_t)sp->w * sp->h * c);
        expected(want, sp, c);
        char name[160];
        snprintf(name, sizeof name, "%s c=%d", what, c);
        CHECK_MSG(thaw_test_same(name, img.px, want, (size_t)sp->w * sp->h * c), "%s", name);
        free(want);
        thaw_png_image_free(&img);
    }
}

static void test_all_formats(void)
{
    static const struct {
        int type, depth;
    } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, 1},        {PNG_COLOR_TYPE_GRAY, 2},
        {PNG_COLOR_TYPE_GRAY, 4},        {PNG_COLOR_TYPE_GRAY, 8},
        {PNG_COLOR_TYPE_GRAY, 16},       {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 16}, {PNG_COLOR_TYPE_RGB, 8},
        {PNG_COLOR_TYPE_RGB, 16},        {PNG_COLOR_TYPE_RGBA, 8},
        {PNG_COLOR_TYPE_RGBA, 16},       {PNG_COLOR_TYPE_PALETTE, 1},
        {PNG_COLOR_TYPE_PALETTE, 2},     {PNG_COLOR_TYPE_PALETTE, 4},
        {PNG_COLOR_TYPE_PALETTE, 8},
    };
    static const int sizes[][2] = {{13, 7}, {1, 1}, {9, 17}, {3, 2}};
    thaw_rng rng;
    thaw_rng_seed(&rng, 1234, 0);
    char path[256], what[160];
    int files = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
            for (int il = 0; il < 2; il++)
                for (int variant = 0; variant < 2; variant++) {
                    spec sp;
                    memset(&sp, 0, sizeof sp);
                    sp.w = sizes[z][0], sp.h = sizes[z][1];
                    sp.color_type = kinds[k].type, sp.depth = kinds[k].depth;
                    sp.interlace = il ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;
                    sp.spp = spp_of(sp.color_type);
                    sp.text = variant == 1 && z == 0;
                    sp.s = calloc((size_t)sp.w * sp.h * sp.spp, sizeof *sp.s);
                    if (sp.color_type == PNG_COLOR_TYPE_PALETTE) {
                        sp.npal = 1 << sp.depth;
                        if (sp.npal > 200) sp.npal = 200; /* a short 8-bit palette */
                        for (int i = 0; i < sp.npal; i++) {
                            sp.pal[i].red = (png_byte)thaw_rng_below(&rng, 256);
                            sp.pal[i].green = (png_byte)thaw_rng_below(&rng, 256);
                            sp.pal[i].blue = (png_byte)thaw_rng_below(&rng, 256);
                        }
                        if (variant == 1) { /* tRNS shorter than the palette */
                            sp.ntrans = sp.npal > 1 ? sp.npal - 1 : 1;
                            for (int i = 0; i < sp.ntrans; i++)
                                sp.trans[i] = (png_byte)thaw_rng_below(&rng, 256);
                        }
                    }
                    fill_random(&sp, &rng);
                    if (variant == 1 && (sp.color_type == PNG_COLOR_TYPE_GRAY ||
                                         sp.color_type == PNG_COLOR_TYPE_RGB)) {
                        /* A colour key equal to the first pixel. */
                        sp.has_tcolor = true;
                        sp.tcolor.gray = sp.s[0];
                        sp.tcolor.red = sp.s[0];
                        if (sp.spp == 3) sp.tcolor.green = sp.s[1], sp.tcolor.blue = sp.s[2];
                    }
                    snprintf(path, sizeof path, "%s/t%zu-%zu-%d-%d.png", tmpdir, k, z, il, variant);
                    snprintf(what, sizeof what, "type %d depth %d %dx%d%s%s%s", sp.color_type,
                             sp.depth, sp.w, sp.h, il ? " interlaced" : "",
                             sp.ntrans || sp.has_tcolor ? " tRNS" : "", sp.text ? " text" : "");
                    CHECK_MSG(write_png(path, &sp), "writing %s", what);
                    check_decode(path, &sp, what);
                    unlink(path);
                    free(sp.s);
                    files++;
                }
    CHECK(files == 15 * 4 * 2 * 2);
}

/* Every 16-bit value scales to round(v * 255 / 65535). */
static void test_scale_16(void)
{
    spec sp;
    memset(&sp, 0, sizeof sp);
    sp.w = 256, sp.h = 256, sp.color_type = PNG_COLOR_TYPE_GRAY, sp.depth = 16, sp.spp = 1;
    sp.s = calloc(65536, sizeof *sp.s);
    for (unsigned v = 0; v < 65536; v++) sp.s[v] = (uint16_t)v;
    char path[256];
    snprintf(path, sizeof path, "%s/scale16.png", tmpdir);
    CHECK(write_png(path, &sp));
    thaw_png_image img;
    thaw_error err;
    CHECK(thaw_png_read(&img, path, 1, &err) == THAW_OK);
    int bad = 0;
    for (unsigned v = 0; img.px && v < 65536; v++) {
        double want = (double)(long)((double)v * 255.0 / 65535.0 + 0.5);
        if (img.px[v] != (float)want && bad++ < 5)
            fprintf(stderr, "16-bit %u -> %g, want %g\n", v, (double)img.px[v], want);
    }
    CHECK_MSG(bad == 0, "%d 16-bit values scaled wrongly", bad);
    CHECK(img.px && img.px[257 * 100] == 100.0f && img.px[65535] == 255.0f);
    thaw_png_image_free(&img);
    unlink(path);
    free(sp.s);
}

/* ---- damaged files ---------------------------------------------------- */

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* Offset of the first chunk of the given type, or 0. */
static size_t find_chunk(const unsigned char *buf, size_t n, const char *type)
{
    size_t off = 8;
    while (off + 12 <= n) {
        size_t len = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 |
                     (size_t)buf[off + 2] << 8 | buf[off + 3];
        if (memcmp(buf + off + 4, type, 4) == 0) return off;
        off += 12 + len;
    }
    return 0;
}

/* Reads path expecting failure with `want`; the message must name the file
 * and contain needle. Returns the message check's result. */
static bool expect_error(const char *path, int channels, thaw_status want, const char *needle)
{
    thaw_png_image img;
    thaw_error err;
    thaw_error_clear(&err);
    thaw_status st = thaw_png_read(&img, path, channels, &err);
    bool ok = st == want && strstr(err.msg, path) && strstr(err.msg, needle) && !img.px;
    CHECK_MSG(ok, "%s: status %s (want %s), message '%s' (want '%s')", path,
              thaw_status_to_string(st), thaw_status_to_string(want), err.msg, needle);
    thaw_png_image_free(&img);
    return ok;
}

/* A file cut at every offset fails with "truncated at byte <cut>". */
static void test_truncated(void)
{
    spec sp;
    memset(&sp, 0, sizeof sp);
    sp.w = 11, sp.h = 5, sp.color_type = PNG_COLOR_TYPE_RGB, sp.depth = 8, sp.spp = 3;
    sp.interlace = PNG_INTERLACE_ADAM7;
    sp.text = true;
    sp.s = calloc((size_t)sp.w * sp.h * sp.spp, sizeof *sp.s);
    thaw_rng rng;
    thaw_rng_seed(&rng, 7, 0);
    fill_random(&sp, &rng);
    char path[256], cut_path[256];
    snprintf(path, sizeof path, "%s/whole.png", tmpdir);
    CHECK(write_png(path, &sp));
    size_t n = 0;
    unsigned char *buf = slurp(path, &n);
    CHECK(n > 100);
    check_decode(path, &sp, "whole file for the cuts");
    snprintf(cut_path, sizeof cut_path, "%s/cut.png", tmpdir);
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++) {
        spit(cut_path, buf, cut);
        char needle[64];
        if (cut == 0)
            snprintf(needle, sizeof needle, "empty file");
        else
            snprintf(needle, sizeof needle, "truncated at byte %zu", cut);
        if (!expect_error(cut_path, 3, THAW_ERR_FORMAT, needle) && ++bad > 3) break;
    }
    unlink(cut_path);
    unlink(path);
    free(buf);
    free(sp.s);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Appends a chunk with a correct CRC (declared length `len_field`, data of
 * n bytes) to buf at *off. */
static void add_chunk(unsigned char *buf, size_t *off, const char *type, const void *data, size_t n,
                      uint32_t len_field)
{
    put32(buf + *off, len_field);
    memcpy(buf + *off + 4, type, 4);
    if (n) memcpy(buf + *off + 8, data, n);
    uLong crc = crc32(0, buf + *off + 4, (uInt)(4 + n));
    put32(buf + *off + 8 + n, (uint32_t)crc);
    *off += 12 + n;
}

/* A hand-built 8-bit gray w x h PNG whose IDAT holds the zlib stream of
 * `raw` (filter bytes included), then IEND. Returns the size. */
static size_t build_gray(unsigned char *buf, uint32_t w, uint32_t h, const unsigned char *raw,
                         size_t raw_n, size_t keep_z)
{
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    memcpy(buf, sig, 8);
    size_t off = 8;
    unsigned char ihdr[13] = {0};
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8; /* depth */
    ihdr[9] = 0; /* gray */
    add_chunk(buf, &off, "IHDR", ihdr, 13, 13);
    unsigned char z[1024];
    uLongf zn = sizeof z;
    compress(z, &zn, raw, (uLong)raw_n);
    if (keep_z && keep_z < zn) zn = keep_z;
    add_chunk(buf, &off, "IDAT", z, zn, (uint32_t)zn);
    add_chunk(buf, &off, "IEND", NULL, 0, 0);
    return off;
}

static void test_damaged(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/bad.png", tmpdir);
    unsigned char raw[8 * 9], buf[2048];
    for (int y = 0; y < 8; y++) {
        raw[y * 9] = 0; /* filter: none */
        for (int x = 0; x < 8; x++) raw[y * 9 + 1 + x] = (unsigned char)(y * 30 + x);
    }
    /* The builder itself is right: the whole image decodes. */
    size_t n = build_gray(buf, 8, 8, raw, sizeof raw, 0);
    spit(path, buf, n);
    thaw_png_image img;
    thaw_error err;
    CHECK(thaw_png_read(&img, path, 1, &err) == THAW_OK);
    CHECK(img.px && img.w == 8 && img.h == 8 && img.px[63] == 7 * 30 + 7);
    thaw_png_image_free(&img);

    /* A complete zlib stream holding only half the rows: short IDAT. */
    n = build_gray(buf, 8, 8, raw, sizeof raw / 2, 0);
    spit(path, buf, n);
    expect_error(path, 1, THAW_ERR_FORMAT, "image data");
    /* The zlib stream itself cut short, chunk CRCs valid. */
    n = build_gray(buf, 8, 8, raw, sizeof raw, 12);
    spit(path, buf, n);
    expect_error(path, 1, THAW_ERR_FORMAT, "cannot read");
    /* No IDAT at all. */
    {
        size_t off = 0;
        n = build_gray(buf, 8, 8, raw, sizeof raw, 0);
        off = find_chunk(buf, n, "IDAT");
        size_t iend = find_chunk(buf, n, "IEND");
        memmove(buf + off, buf + iend, 12);
        spit(path, buf, off + 12);
        expect_error(path, 1, THAW_ERR_FORMAT, "cannot read");
    }

    /* CRC errors: in IDAT, in IHDR, in an ancillary tEXt chunk. */
    spec sp;
    memset(&sp, 0, sizeof sp);
    sp.w = 6, sp.h = 4, sp.color_type = PNG_COLOR_TYPE_RGB, sp.depth = 8, sp.spp = 3;
    sp.text = true;
    sp.s = calloc((size_t)sp.w * sp.h * sp.spp, sizeof *sp.s);
    thaw_rng rng;
    thaw_rng_seed(&rng, 9, 0);
    fill_random(&sp, &rng);
    char good[256];
    snprintf(good, sizeof good, "%s/good.png", tmpdir);
    CHECK(write_png(good, &sp));
    unsigned char *file = slurp(good, &n);
    const char *types[] = {"IDAT", "IHDR", "tEXt", "zTXt", "prVt", "IEND"};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        size_t off = find_chunk(file, n, types[t]);
        CHECK_MSG(off > 0, "no %s chunk in the test file", types[t]);
        if (!off) continue;
        size_t len = (size_t)file[off] << 24 | (size_t)file[off + 1] << 16 |
                     (size_t)file[off + 2] << 8 | file[off + 3];
        unsigned char *copy = malloc(n);
        /* the stored CRC wrong */
        memcpy(copy, file, n);
        copy[off + 8 + len + 1] ^= 0x40;
        spit(path, copy, n);
        expect_error(path, 3, THAW_ERR_FORMAT, "CRC");
        /* a data byte wrong (zlib may notice first in IDAT: still an error) */
        if (len > 0 && strcmp(types[t], "IHDR") != 0) {
            memcpy(copy, file, n);
            copy[off + 8 + len / 2] ^= 0x01;
            spit(path, copy, n);
            expect_error(path, 3, THAW_ERR_FORMAT,
                         strcmp(types[t], "IDAT") == 0 ? "cannot read" : "CRC");
        }
        free(copy);
    }
    /* An unknown critical chunk is an error, an unknown ancillary one is not
     * (prVt above decodes when intact: check_decode in test_all_formats). */
    {
        unsigned char *copy = malloc(n + 64);
        size_t off = find_chunk(file, n, "IDAT");
        memcpy(copy, file, off);
        size_t o = off;
        add_chunk(copy, &o, "CRIT", "x", 1, 1);
        memcpy(copy + o, file + off, n - off);
        spit(path, copy, o + n - off);
        expect_error(path, 3, THAW_ERR_FORMAT, "cannot read");
        free(copy);
    }
    free(file);
    unlink(good);
    free(sp.s);

    /* Not PNG files. */
    spit(path, "hello, world\n", 13);
    expect_error(path, 3, THAW_ERR_FORMAT, "not a PNG");
    static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
    spit(path, jpeg, sizeof jpeg);
    expect_error(path, 3, THAW_ERR_FORMAT, "not a PNG");
    spit(path, "", 0);
    expect_error(path, 3, THAW_ERR_FORMAT, "empty file");
    unlink(path);
    expect_error("/nonexistent/x.png", 3, THAW_ERR_IO, "cannot open");
    /* A directory opens but cannot be read. */
    thaw_png_image im;
    CHECK(thaw_png_read(&im, tmpdir, 3, &err) != THAW_OK && im.px == NULL);
    CHECK(thaw_png_read(&im, path, 2, &err) == THAW_ERR_ARG);
}

/* ---- absurd sizes ----------------------------------------------------- */

/* sig + IHDR(w, h, 8-bit RGB) + a small IDAT + IEND, or with `text_len`
 * a tEXt chunk declaring that length right after IHDR, file cut there. */
static size_t build_header(unsigned char *buf, uint32_t w, uint32_t h, uint32_t text_len)
{
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    memcpy(buf, sig, 8);
    size_t off = 8;
    unsigned char ihdr[13] = {0};
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8;
    ihdr[9] = 2;
    add_chunk(buf, &off, "IHDR", ihdr, 13, 13);
    if (text_len) {
        /* 149 bytes in all: 33 + 8 + 108 bytes of text, no CRC. */
        put32(buf + off, text_len);
        memcpy(buf + off + 4, "tEXt", 4);
        off += 8;
        memcpy(buf + off, "Comment", 8);
        memset(buf + off + 8, 'A', 100);
        return off + 108;
    }
    unsigned char raw[1 + 3 * 4] = {0}, z[64];
    uLongf zn = sizeof z;
    compress(z, &zn, raw, sizeof raw);
    add_chunk(buf, &off, "IDAT", z, zn, (uint32_t)zn);
    add_chunk(buf, &off, "IEND", NULL, 0, 0);
    return off;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN
/* Virtual memory size of this process in kB, from /proc. */
static long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}
#endif

static void test_absurd(void)
{
    char path[256];
    unsigned char buf[256];
    snprintf(path, sizeof path, "%s/huge.png", tmpdir);
    struct {
        uint32_t w, h;
    } sizes[] = {{100000, 100000}, {20000, 20000}, {16385, 1}, {10000, 10000}, {1, 0x7fffffff}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = build_header(buf, sizes[i].w, sizes[i].h, 0);
        spit(path, buf, n);
        char needle[64];
        snprintf(needle, sizeof needle, "%ux%u", sizes[i].w, sizes[i].h);
        expect_error(path, 3, THAW_ERR_UNSUPPORTED, needle);
    }
    /* Zero width: libpng's own IHDR check. */
    size_t n = build_header(buf, 0, 5, 0);
    spit(path, buf, n);
    expect_error(path, 3, THAW_ERR_FORMAT, "cannot read");

    /* A tEXt chunk declaring 2^31-1 bytes in a 149-byte file: skipped, so
     * the error is the truncation, not an allocation of 2 GB. */
    char tpath[256];
    snprintf(tpath, sizeof tpath, "%s/text.png", tmpdir);
    n = build_header(buf, 4, 3, 0x7fffffff);
    CHECK(n == 149);
    spit(tpath, buf, n);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_error(tpath, 3, THAW_ERR_FORMAT, "truncated at byte 149");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CHECK_MSG(secs < 0.5, "the absurd tEXt took %.3f s", secs);

#ifndef UNDER_ASAN
    /* Again in a child whose address space allows only 64 MB more than it
     * has: a 2 GB (or 30 GB) allocation would fail there. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        long kb = vm_size_kb();
        if (kb > 0) {
            struct rlimit rl;
            rl.rlim_cur = rl.rlim_max = (rlim_t)(kb + 64 * 1024) * 1024;
            setrlimit(RLIMIT_AS, &rl);
        }
        thaw_png_image img;
        thaw_error err;
        thaw_status a = thaw_png_read(&img, tpath, 3, &err);
        bool ok_a = a == THAW_ERR_FORMAT && strstr(err.msg, "truncated at byte 149");
        thaw_status b = thaw_png_read(&img, path, 3, &err); /* the zero-width file */
        n = build_header(buf, 100000, 100000, 0);
        spit(path, buf, n);
        thaw_status c = thaw_png_read(&img, path, 3, &err);
        _exit(ok_a && b == THAW_ERR_FORMAT && c == THAW_ERR_UNSUPPORTED ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "under a tight RLIMIT_AS the absurd files did not fail cleanly (status %d)", status);
#else
    fprintf(stderr, "SKIP the RLIMIT_AS child under AddressSanitizer\n");
#endif
    unlink(tpath);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 99;
    test_all_formats();
    test_scale_16();
    test_truncated();
    test_damaged();
    test_absurd();
    if (rmdir(tmpdir) != 0) fprintf(stderr, "temp dir %s not empty\n", tmpdir);
    return thaw_test_finish();
}
