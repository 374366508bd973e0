/* check-png: checks a screenshot from outside the application (used by
 * tests/ui/test-e2e.sh).
 *
 *   check-png FILE [--min-size WxH] [--colour #rrggbb:TOL:MINPIXELS]...
 *             [--min-colours N]
 *
 * Decodes FILE (any PNG colour type and bit depth, taken to 8-bit RGBA) and
 * fails if it cannot be read, is smaller than WxH, has fewer than N distinct
 * colours (a blank or nearly blank window), or has fewer than MINPIXELS
 * pixels within TOL (the largest absolute channel difference, 0-255) of a
 * given colour. Fully transparent pixels count as one colour and match none.
 *
 * Exit status: 0 when every check passes (one summary line on stdout), 1 when
 * one fails (one line on stderr naming the file and the check), 2 on a usage
 * error. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/* Screenshots are a few megapixels; anything far beyond is not one. */
#define MAX_SIDE   16384
#define MAX_PIXELS (64u * 1024u * 1024u)
#define MAX_COLOUR 16

typedef struct {
    unsigned char rgb[3];
    int tol;
    long min_pixels;
    long found;
    const char *spec;
} Colour;

typedef struct {
    char message[256];
    char warning[256]; /* the last warning, which often says why */
} ReadError;

static const char *prog = "check-png";

static void usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr,
            "\nUsage: %s FILE [--min-size WxH] [--colour #rrggbb:TOL:MINPIXELS]... "
            "[--min-colours N]\n",
            prog);
    va_end(ap);
    exit(2);
}

static void fail(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: %s: ", prog, path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return 0;
    *out = v;
    return 1;
}

static int parse_size(const char *s, long *w, long *h)
{
    char buf[64];
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    char *x = strchr(buf, 'x');
    if (!x) return 0;
    *x = '\0';
    return parse_long(buf, 0, MAX_SIDE, w) && parse_long(x + 1, 0, MAX_SIDE, h);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "#rrggbb:TOL:MINPIXELS" */
static int parse_colour(const char *s, Colour *c)
{
    char buf[64];
    if (strlen(s) >= sizeof buf || s[0] != '#') return 0;
    strcpy(buf, s);
    char *tol = strchr(buf, ':');
    if (!tol || tol - buf != 7) return 0;
    *tol++ = '\0';
    char *min = strchr(tol, ':');
    if (!min) return 0;
    *min++ = '\0';
    for (int i = 0; i < 3; i++) {
        int hi = hex_digit(buf[1 + 2 * i]), lo = hex_digit(buf[2 + 2 * i]);
        if (hi < 0 || lo < 0) return 0;
        c->rgb[i] = (unsigned char)(hi * 16 + lo);
    }
    long t;
    if (!parse_long(tol, 0, 255, &t) || !parse_long(min, 1, LONG_MAX, &c->min_pixels)) return 0;
    c->tol = (int)t;
    c->found = 0;
    c->spec = s;
    return 1;
}

static void on_png_error(png_structp png, png_const_charp msg)
{
    ReadError *e = png_get_error_ptr(png);
    snprintf(e->message, sizeof e->message, "%s", msg);
    png_longjmp(png, 1);
}

/* libpng's own reader says only "Read Error" at the end of a file. */
static void read_data(png_structp png, png_bytep data, size_t length)
{
    FILE *f = png_get_io_ptr(png);
    if (fread(data, 1, length, f) != length)
        png_error(png, ferror(f) ? "read error" : "unexpected end of file (truncated?)");
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    /* Harmless ones (an odd sRGB profile, say) are common: shown only with
     * an error. Real damage raises an error (benign errors are made errors). */
    ReadError *e = png_get_error_ptr(png);
    snprintf(e->warning, sizeof e->warning, "%s", msg);
}

/* Decodes path to 8-bit RGBA rows; returns NULL with why on failure. */
static unsigned char *read_png(const char *path, png_uint_32 *width, png_uint_32 *height, char *why,
                               size_t why_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "cannot open: %s", strerror(errno));
        return NULL;
    }
    unsigned char sig[8];
    if (fread(sig, 1, sizeof sig, f) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(f);
        snprintf(why, why_size, "not a PNG file");
        return NULL;
    }
    ReadError err = {.message = ""};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(f);
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    /* volatile: changed after setjmp and read on the error branch */
    unsigned char *volatile pixels = NULL;
    png_bytepp volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        if (err.warning[0])
            snprintf(why, why_size, "cannot decode: %s (%s)", err.message, err.warning);
        else
            snprintf(why, why_size, "cannot decode: %s", err.message);
        return NULL;
    }
    png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
    png_set_chunk_malloc_max(png, 16u * 1024u * 1024u);
    png_set_benign_errors(png, 0);
    /* Ancillary chunks are not needed: never buffer them. */
    static const png_byte skip[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0"
                                   "pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skip, (int)(sizeof skip / 5));
    png_set_read_fn(png, f, read_data);
    png_set_sig_bytes(png, sizeof sig);
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, type;
    png_get_IHDR(png, info, &w, &h, &depth, &type, NULL, NULL, NULL);
    if ((uint64_t)w * h > MAX_PIXELS) png_error(png, "image too large for a screenshot");
    png_set_expand(png); /* palette to RGB, gray below 8 bits to 8, tRNS to alpha */
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    if (!(type & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    if (png_set_interlace_handling(png) < 1) png_error(png, "bad interlace handling");
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 4 || png_get_channels(png, info) != 4 ||
        png_get_bit_depth(png, info) != 8)
        png_error(png, "unexpected pixel layout after the transformations");

    pixels = malloc((size_t)w * h * 4);
    rows = malloc(sizeof *rows * (h ? h : 1));
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * w * 4;
    png_read_image(png, rows);
    png_read_end(png, NULL); /* a missing IEND or a broken trailer is an error too */

    unsigned char *out = pixels;
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    *width = w;
    *height = h;
    return out;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    long min_w = 0, min_h = 0, min_colours = 0;
    Colour colours[MAX_COLOUR];
    int n_colours = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("Usage: %s FILE [--min-size WxH] [--colour #rrggbb:TOL:MINPIXELS]... "
                   "[--min-colours N]\n",
                   prog);
            return 0;
        }
        int has_value = i + 1 < argc;
        if (strcmp(a, "--min-size") == 0) {
            if (!has_value || !parse_size(argv[++i], &min_w, &min_h))
                usage("--min-size wants WxH (e.g. 800x500)");
        } else if (strcmp(a, "--colour") == 0 || strcmp(a, "--color") == 0) {
            if (n_colours == MAX_COLOUR) usage("at most %d --colour checks", MAX_COLOUR);
            if (!has_value || !parse_colour(argv[++i], &colours[n_colours]))
                usage("--colour wants #rrggbb:TOL:MINPIXELS (TOL 0-255, MINPIXELS >= 1)");
            n_colours++;
        } else if (strcmp(a, "--min-colours") == 0 || strcmp(a, "--min-colors") == 0) {
            if (!has_value || !parse_long(argv[++i], 0, 1L << 25, &min_colours))
                usage("--min-colours wants a count");
        } else if (a[0] == '-' && a[1]) {
            usage("unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            usage("unexpected argument '%s'", a);
        }
    }
    if (!path) usage("no FILE given");

    png_uint_32 w, h;
    char why[320];
    unsigned char *px = read_png(path, &w, &h, why, sizeof why);
    if (!px) fail(path, "%s", why);
    if (w < (png_uint_32)min_w || h < (png_uint_32)min_h)
        fail(path, "%ux%u is smaller than %ldx%ld", (unsigned)w, (unsigned)h, min_w, min_h);

    /* One bit per RGB value (2 MiB), plus one for "fully transparent". */
    unsigned char *seen = calloc((1u << 24) / 8, 1);
    if (!seen) fail(path, "out of memory");
    long distinct = 0;
    int transparent = 0;
    for (size_t i = 0, n = (size_t)w * h; i < n; i++) {
        const unsigned char *p = px + 4 * i;
        if (p[3] == 0) {
            if (!transparent) distinct++;
            transparent = 1;
            continue;
        }
        uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        if (!(seen[v >> 3] & (1u << (v & 7)))) {
            seen[v >> 3] |= (unsigned char)(1u << (v & 7));
            distinct++;
        }
        for (int c = 0; c < n_colours; c++) {
            Colour *k = &colours[c];
            if (abs(p[0] - k->rgb[0]) <= k->tol && abs(p[1] - k->rgb[1]) <= k->tol &&
                abs(p[2] - k->rgb[2]) <= k->tol)
                k->found++;
        }
    }
    free(seen);
    free(px);

    if (distinct < min_colours)
        fail(path, "only %ld distinct colours, want at least %ld (blank?)", distinct, min_colours);
    for (int c = 0; c < n_colours; c++)
        if (colours[c].found < colours[c].min_pixels)
            fail(path, "%ld pixels match %s, want at least %ld", colours[c].found, colours[c].spec,
                 colours[c].min_pixels);

    printf("%s: %ux%u, %ld colours", path, (unsigned)w, (unsigned)h, distinct);
    for (int c = 0; c < n_colours; c++)
        printf(", %ld pixels match %s", colours[c].found, colours[c].spec);
    printf("\n");
    return 0;
}
