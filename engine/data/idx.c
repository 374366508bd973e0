/* IDX reader: gzip (via zlib) or plain files, checked byte by byte. */
#include "data/idx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Reads up to want bytes; returns the count read, or -1 on a zlib error. */
static long read_bytes(gzFile f, void *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        unsigned chunk = want - got > (1u << 30) ? (1u << 30) : (unsigned)(want - got);
        int r = gzread(f, (char *)buf + got, chunk);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long)got;
}

thaw_status thaw_idx_read(thaw_idx *out, const char *path, thaw_error *err)
{
    memset(out, 0, sizeof *out);
    /* gzopen reads plain files transparently too. */
    gzFile f = gzopen(path, "rb");
    if (!f)
        return thaw_error_set(err, THAW_ERR_IO, "cannot open '%s': %s", path,
                              errno ? strerror(errno) : "out of memory");
    unsigned char head[4 + 4 * 4];
    thaw_status st = THAW_OK;
    long got = read_bytes(f, head, 4);
    if (got < 0) {
        st = thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': corrupt gzip stream", path);
        goto done;
    }
    if (got < 4) {
        st = thaw_error_set(err, THAW_ERR_FORMAT,
                            "cannot read '%s': truncated at byte %ld "
                            "(the IDX header needs 4)",
                            path, got);
        goto done;
    }
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4) {
        st = thaw_error_set(err, THAW_ERR_FORMAT,
                            "cannot read '%s': bad magic %02x %02x %02x %02x (expected 00 00 08 "
                            "01..04, an unsigned-byte IDX file)",
                            path, head[0], head[1], head[2], head[3]);
        goto done;
    }
    out->ndim = head[3];
    size_t hdr = 4 + 4 * (size_t)out->ndim;
    got = read_bytes(f, head + 4, hdr - 4);
    if (got < 0 || (size_t)got < hdr - 4) {
        st = thaw_error_set(err, THAW_ERR_FORMAT,
                            "cannot read '%s': truncated at byte %ld "
                            "(the header needs %zu)",
                            path, got < 0 ? 4 : 4 + got, hdr);
        goto done;
    }
    out->count = 1;
    for (int i = 0; i < out->ndim; i++) {
        const unsigned char *p = head + 4 + 4 * i;
        out->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (out->dims[i] == 0 || out->dims[i] > (1u << 28) ||
            out->count > ((size_t)1 << 34) / out->dims[i]) {
            st = thaw_error_set(err, THAW_ERR_FORMAT,
                                "cannot read '%s': dimension %d has implausible size %u", path, i,
                                out->dims[i]);
            goto done;
        }
        out->count *= out->dims[i];
    }
    out->data = malloc(out->count);
    if (!out->data) {
        st = thaw_error_set(err, THAW_ERR_NOMEM, "cannot read '%s': out of memory for %zu bytes",
                            path, out->count);
        goto done;
    }
    got = read_bytes(f, out->data, out->count);
    if (got < 0) {
        st = thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': corrupt gzip stream", path);
        goto done;
    }
    if ((size_t)got < out->count) {
        st = thaw_error_set(err, THAW_ERR_FORMAT,
                            "cannot read '%s': truncated at byte %zu (expected %zu bytes of data "
                            "after the %zu-byte header)",
                            path, hdr + (size_t)got, out->count, hdr);
        goto done;
    }
    char extra;
    if (read_bytes(f, &extra, 1) == 1)
        st = thaw_error_set(err, THAW_ERR_FORMAT, "cannot read '%s': trailing data after %zu bytes",
                            path, hdr + out->count);
done:
    gzclose(f);
    if (st != THAW_OK) thaw_idx_free(out);
    return st;
}

void thaw_idx_free(thaw_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
