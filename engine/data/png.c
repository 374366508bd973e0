/* PNG reader: libpng 1.6 with the limits and error paths of PLATFORM.md.
 *
 * The file's first 33 bytes (signature + IHDR) are read and checked here
 * first, so that "not a PNG" and "too large" get clear messages and no
 * libpng allocation happens for them; libpng then receives the same bytes
 * through a read callback that counts the offset, so a short read reports
 * "truncated at byte N". libpng's errors longjmp back into png_decode(),
 * whose caller owns every buffer and frees it on both paths. */
#include "data/png.h"

#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Signature (8) + IHDR length (4), type (4), data (13) and CRC (4). */
#define HEAD_BYTES 33

typedef struct png_reader {
    FILE *fp;
    unsigned char head[HEAD_BYTES];
    size_t head_len; /* bytes of head read from the file */
    size_t offset;   /* bytes handed to libpng (or consumed) so far */
    char msg[200];   /* the first error, for the caller's message */
} png_reader;

/* Buffers of one decode, freed by the caller whatever happens. */
typedef struct png_buffers {
    png_bytep data;  /* (h, rowbytes) 8-bit samples after the transforms */
    png_bytep *rows; /* h pointers into data */
} png_buffers;

static void on_error(png_structp png, png_const_charp msg)
{
    png_reader *rd = png_get_error_ptr(png);
    /* Keep the first message: ours from on_read, or libpng's. */
    if (rd->msg[0] == '\0') snprintf(rd->msg, sizeof rd->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    /* Warnings (e.g. a benign out-of-range palette index) are not printed:
     * the engine is a library and never writes to stderr. */
    (void)png;
    (void)msg;
}

static void on_read(png_structp png, png_bytep data, size_t len)
{
    png_reader *rd = png_get_io_ptr(png);
    size_t got = 0;
    if (rd->offset < rd->head_len) {
        got = rd->head_len - rd->offset < len ? rd->head_len - rd->offset : len;
        memcpy(data, rd->head + rd->offset, got);
    }
    if (got < len) got += fread(data + got, 1, len - got, rd->fp);
    if (got < len) {
        if (ferror(rd->fp))
            snprintf(rd->msg, sizeof rd->msg, "read error at byte %zu: %s", rd->offset + got,
                     strerror(errno));
        else
            snprintf(rd->msg, sizeof rd->msg, "truncated at byte %zu", rd->offset + got);
        png_error(png, rd->msg);
    }
    rd->offset += len;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the signature and, when present, IHDR's size before libpng runs. */
static thaw_status check_head(const png_reader *rd, const char *path, thaw_error *err)
{
    size_t n = rd->head_len;
    if (n == 0)
        return thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': empty file, not a PNG",
                              path);
    if (png_sig_cmp(rd->head, 0, n < 8 ? n : 8) != 0)
        return thaw_error_set(err, THAW_ERR_FORMAT,
                              "cannot read '%s': not a PNG file (bad signature)", path);
    if (n < 8)
        return thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': truncated at byte %zu", path,
                              n);
    if (n >= 24 && memcmp(rd->head + 12, "IHDR", 4) == 0) {
        uint32_t w = be32(rd->head + 16), h = be32(rd->head + 20);
        if (w > THAW_PNG_MAX_SIDE || h > THAW_PNG_MAX_SIDE)
            return thaw_error_set(err, THAW_ERR_UNSUPPORTED,
                                  "cannot read '%s': image is %ux%u pixels, more than the limit "
                                  "of %d per side",
                                  path, w, h, THAW_PNG_MAX_SIDE);
        if ((size_t)w * h > THAW_PNG_MAX_PIXELS)
            return thaw_error_set(err, THAW_ERR_UNSUPPORTED,
                                  "cannot read '%s': image is %ux%u pixels, more than the limit "
                                  "of %zu pixels",
                                  path, w, h, THAW_PNG_MAX_PIXELS);
    }
    return THAW_OK;
}

/* Decodes the whole image into 8-bit samples in buf (1..4 channels, as
 * png_get_channels says after the transforms). Returns 0 on success, -1
 * after a libpng error (message in rd->msg), -2 if too large, -3 out of
 * memory. Every allocation is stored in buf so the caller can free it. */
static int png_decode(png_structp png, png_infop info, png_buffers *buf, png_reader *rd)
{
    if (setjmp(png_jmpbuf(png))) return -1;

    png_set_sig_bytes(png, 8);
    rd->offset = 8;
    png_set_user_limits(png, THAW_PNG_MAX_SIDE, THAW_PNG_MAX_SIDE);
    /* Only IHDR, PLTE, tRNS, IDAT and IEND are read; every other known or
     * unknown chunk is skipped through its CRC check without an allocation. */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_chunk_cache_max(png, 64);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)1 << 20);
    /* A CRC error is an error in ancillary chunks too (libpng's default
     * only warns and discards them). */
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);

    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    if (w > THAW_PNG_MAX_SIDE || h > THAW_PNG_MAX_SIDE || (size_t)w * h > THAW_PNG_MAX_PIXELS)
        return -2;
    /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha; 16 -> 8 bits by
     * exact scaling (round(v * 255 / 65535)), not by dropping the low byte. */
    png_set_expand(png);
    if (png_get_bit_depth(png, info) == 16) png_set_scale_16(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || channels < 1 || channels > 4 ||
        rowbytes != (size_t)w * channels)
        png_error(png, "unexpected layout after the 8-bit transforms");

    buf->data = malloc(rowbytes * h);
    buf->rows = malloc((size_t)h * sizeof *buf->rows);
    if (!buf->data || !buf->rows) return -3;
    for (size_t y = 0; y < h; y++) buf->rows[y] = buf->data + y * rowbytes;
    png_read_image(png, buf->rows);
    /* Reads up to IEND: a file cut after the image data is an error too. */
    png_read_end(png, NULL);
    return 0;
}

/* 8-bit samples with `nc` channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)
 * to floats with `c` channels (1, 3 or 4). */
static void to_float(float *dst, const unsigned char *src, size_t pixels, int nc, int c)
{
    bool gray = nc <= 2, alpha = nc == 2 || nc == 4;
    for (size_t i = 0; i < pixels; i++, src += nc, dst += c) {
        unsigned r = src[0], g = gray ? src[0] : src[1], b = gray ? src[0] : src[2];
        unsigned a = alpha ? src[nc - 1] : 255;
        if (c == 1) {
            dst[0] = gray ? (float)r : (float)((299 * r + 587 * g + 114 * b + 500) / 1000);
        } else {
            dst[0] = (float)r;
            dst[1] = (float)g;
            dst[2] = (float)b;
            if (c == 4) dst[3] = (float)a;
        }
    }
}

thaw_status thaw_png_read(thaw_png_image *out, const char *path, int channels, thaw_error *err)
{
    memset(out, 0, sizeof *out);
    if (channels != 1 && channels != 3 && channels != 4)
        return thaw_error_set(err, THAW_ERR_ARG,
                              "cannot read '%s': %d channels asked for, "
                              "expected 1, 3 or 4",
                              path, channels);
    png_reader rd;
    memset(&rd, 0, sizeof rd);
    rd.fp = fopen(path, "rb");
    if (!rd.fp)
        return thaw_error_set(err, THAW_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    rd.head_len = fread(rd.head, 1, sizeof rd.head, rd.fp);
    if (ferror(rd.fp)) {
        thaw_status st =
            thaw_error_set(err, THAW_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        fclose(rd.fp);
        return st;
    }
    thaw_status st = check_head(&rd, path, err);
    if (st != THAW_OK) {
        fclose(rd.fp);
        return st;
    }

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &rd, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        fclose(rd.fp);
        return thaw_error_set(err, THAW_ERR_NOMEM, "cannot read '%s': out of memory", path);
    }
    png_set_read_fn(png, &rd, on_read);
    png_buffers buf = {NULL, NULL};
    int r = png_decode(png, info, &buf, &rd);
    if (r == 0) {
        int nc = png_get_channels(png, info);
        out->w = (int)png_get_image_width(png, info);
        out->h = (int)png_get_image_height(png, info);
        out->c = channels;
        size_t pixels = (size_t)out->w * out->h;
        out->px = malloc(pixels * channels * sizeof(float));
        if (out->px)
            to_float(out->px, buf.data, pixels, nc, channels);
        else
            r = -3;
    }
    if (r == -1)
        st = thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': %s", path,
                            rd.msg[0] ? rd.msg : "libpng error");
    else if (r == -2)
        st = thaw_error_set(err, THAW_ERR_UNSUPPORTED,
                            "cannot read '%s': image is %ux%u pixels, more than the limits "
                            "(%d per side, %zu in all)",
                            path, png_get_image_width(png, info), png_get_image_height(png, info),
                            THAW_PNG_MAX_SIDE, THAW_PNG_MAX_PIXELS);
    else if (r == -3)
        st = thaw_error_set(err, THAW_ERR_NOMEM, "cannot read '%s': out of memory", path);
    png_destroy_read_struct(&png, &info, NULL);
    free(buf.rows);
    free(buf.data);
    fclose(rd.fp);
    if (st != THAW_OK) thaw_png_image_free(out);
    return st;
}

void thaw_png_image_free(thaw_png_image *img)
{
    free(img->px);
    memset(img, 0, sizeof *img);
}
