/* PNG images through libpng 1.6, decoded to float pixel values 0..255.
 *
 * Every PNG colour type and bit depth is read: gray 1/2/4/8/16-bit, gray +
 * alpha, RGB, RGBA, palette 1/2/4/8-bit with or without tRNS, interlaced
 * (Adam7) or not. Decoding choices:
 * - 16-bit samples are scaled to 8 bits exactly, round(v * 255 / 65535)
 *   (png_set_scale_16, not png_set_strip_16's high byte), so every value
 *   returned is an integer 0..255 whatever the bit depth. Samples of 1, 2
 *   and 4 bits are scaled to 0..255 by bit replication (1-bit: 0, 255).
 * - No gamma or colour-profile correction: the stored values are returned.
 * - Alpha (an alpha channel or a palette/colour-key tRNS) is dropped for 1
 *   and 3 channels, not composited on a background, as PIL's
 *   convert("RGB") and tf.io.decode_png(channels=3) do; 4 channels return
 *   RGBA with alpha 255 where the image has none.
 * - 1 channel from a colour image is ITU-R BT.601 luma rounded to the
 *   nearest integer, (299 R + 587 G + 114 B + 500) / 1000 in integers (PIL's
 *   convert("L") weights); gray images are returned as stored.
 * - 3 channels from a gray image replicate the gray value.
 *
 * Hardening (../shared/PLATFORM.md, "Hardening libpng 1.6.39"): at most
 * THAW_PNG_MAX_SIDE pixels per side and THAW_PNG_MAX_PIXELS in all, checked
 * from the header before libpng allocates anything; every ancillary chunk
 * but tRNS is skipped, read through for its CRC but never stored (no
 * allocation for a tEXt or iCCP of any declared length); a CRC error in any
 * chunk, a short or missing IDAT and a file truncated anywhere before the
 * end of IEND are errors, never an image padded with black; so is an
 * unknown critical chunk. libpng's "benign" errors stay warnings, as libpng
 * reads by default (e.g. surplus data after the last row in the zlib stream
 * is ignored). All failures free everything and return a message naming the
 * file: "cannot read 'x.png': truncated at byte 57", or libpng's own message
 * ("cannot read 'x.png': IDAT: CRC error"). */
#ifndef THAW_DATA_PNG_H
#define THAW_DATA_PNG_H

#include <stddef.h>

#include "core/status.h"

/* Largest width or height accepted, and largest width x height. */
#define THAW_PNG_MAX_SIDE   16384
#define THAW_PNG_MAX_PIXELS ((size_t)1 << 25)

typedef struct thaw_png_image {
    int h, w, c; /* c: the channel count asked for */
    float *px;   /* (h, w, c) pixel values 0..255, row-major, channels last */
} thaw_png_image;

/* Decodes the PNG file at path into out with `channels` channels: 1 (gray),
 * 3 (RGB) or 4 (RGBA). Status THAW_ERR_ARG for another channel count,
 * THAW_ERR_IO if the file cannot be opened or read, THAW_ERR_FORMAT if it is
 * not a PNG or is damaged, THAW_ERR_UNSUPPORTED if it is larger than the
 * limits above, THAW_ERR_NOMEM. On failure out is zeroed. */
thaw_status thaw_png_read(thaw_png_image *out, const char *path, int channels, thaw_error *err);

void thaw_png_image_free(thaw_png_image *img);

#endif
