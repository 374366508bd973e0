/* IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or plain.
 * Format: big-endian magic 0x0000 TT DD (TT = 0x08 unsigned byte, DD = number
 * of dimensions), DD big-endian uint32 sizes, then the data. */
#ifndef THAW_DATA_IDX_H
#define THAW_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct thaw_idx {
    int ndim;
    uint32_t dims[4];
    size_t count;  /* product of dims */
    uint8_t *data; /* count bytes */
} thaw_idx;

/* Reads an unsigned-byte IDX file (".gz" or plain; detected from the gzip
 * magic). Errors name the file: bad magic, truncated at byte N, ... */
thaw_status thaw_idx_read(thaw_idx *out, const char *path, thaw_error *err);
void thaw_idx_free(thaw_idx *idx);

/* Debian's dataset-fashion-mnist location. */
#define THAW_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

#endif
