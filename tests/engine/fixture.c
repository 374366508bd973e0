/* Reader for the .thawfix reference fixtures; the format is in fixture.h. */
#include "fixture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char fixture_magic[8] = {'T', 'H', 'A', 'W', 'F', 'I', 'X', '1'};

/* A bounded little-endian cursor over the file's bytes. */
typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
} reader;

static int read_u32(reader *r, uint32_t *v)
{
    if (r->len - r->pos < 4) return -1;
    const unsigned char *b = r->p + r->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    r->pos += 4;
    return 0;
}

static int read_f32s(reader *r, float *out, size_t n)
{
    if ((r->len - r->pos) / 4 < n) return -1;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *b = r->p + r->pos + 4 * i;
        uint32_t u =
            (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&out[i], &u, sizeof u);
    }
    r->pos += 4 * n;
    return 0;
}

static unsigned char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fixture %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (!buf) {
        fprintf(stderr, "fixture %s: out of memory\n", path);
    } else if (ferror(f)) {
        fprintf(stderr, "fixture %s: read error\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Parses tensor i; returns 0 or -1 after printing what is wrong. */
static int parse_tensor(reader *r, thaw_fixture_tensor *t, const char *path, int i)
{
    uint32_t name_len, ndim;
    if (read_u32(r, &name_len) || name_len > r->len - r->pos) {
        fprintf(stderr, "fixture %s: truncated in the name of tensor %d\n", path, i);
        return -1;
    }
    t->name = malloc((size_t)name_len + 1);
    if (!t->name) {
        fprintf(stderr, "fixture %s: out of memory\n", path);
        return -1;
    }
    memcpy(t->name, r->p + r->pos, name_len);
    t->name[name_len] = '\0';
    r->pos += name_len;
    if (strlen(t->name) != name_len) {
        fprintf(stderr, "fixture %s: tensor %d: name contains a NUL byte\n", path, i);
        return -1;
    }
    if (read_u32(r, &ndim)) {
        fprintf(stderr, "fixture %s: truncated in the header of tensor '%s'\n", path, t->name);
        return -1;
    }
    if (ndim > THAW_FIXTURE_MAX_DIMS) {
        fprintf(stderr, "fixture %s: tensor '%s' has %u dims (at most %d)\n", path, t->name, ndim,
                THAW_FIXTURE_MAX_DIMS);
        return -1;
    }
    t->ndim = (int)ndim;
    size_t count = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        uint32_t v;
        if (read_u32(r, &v)) {
            fprintf(stderr, "fixture %s: truncated in the dims of tensor '%s'\n", path, t->name);
            return -1;
        }
        if (v > INT32_MAX || (v && count > SIZE_MAX / 4 / v)) {
            fprintf(stderr, "fixture %s: tensor '%s' has an absurd dim %u\n", path, t->name, v);
            return -1;
        }
        t->dims[d] = (int)v;
        count *= v;
    }
    t->count = count;
    t->data = malloc(count ? count * sizeof(float) : 1);
    if (!t->data) {
        fprintf(stderr, "fixture %s: out of memory for tensor '%s'\n", path, t->name);
        return -1;
    }
    if (read_f32s(r, t->data, count)) {
        fprintf(stderr,
                "fixture %s: truncated in the data of tensor '%s' (%zu floats, %zu bytes left)\n",
                path, t->name, count, r->len - r->pos);
        return -1;
    }
    return 0;
}

thaw_fixture *thaw_fixture_load_path(const char *path)
{
    size_t len = 0;
    unsigned char *bytes = read_whole_file(path, &len);
    if (!bytes) return NULL;

    thaw_fixture *fx = calloc(1, sizeof *fx);
    if (fx) fx->path = strdup(path);
    if (!fx || !fx->path) {
        fprintf(stderr, "fixture %s: out of memory\n", path);
        goto fail;
    }
    reader r = {bytes, len, 0};
    if (len < sizeof fixture_magic || memcmp(bytes, fixture_magic, sizeof fixture_magic) != 0) {
        fprintf(stderr, "fixture %s: bad magic (not a THAWFIX1 file)\n", path);
        goto fail;
    }
    r.pos = sizeof fixture_magic;
    uint32_t count;
    if (read_u32(&r, &count)) {
        fprintf(stderr, "fixture %s: truncated before the tensor count\n", path);
        goto fail;
    }
    /* Each tensor takes at least 8 header bytes: rejects absurd counts early. */
    if (count > (len - r.pos) / 8) {
        fprintf(stderr, "fixture %s: claims %u tensors in %zu bytes (truncated?)\n", path, count,
                len);
        goto fail;
    }
    fx->tensors = calloc(count ? count : 1, sizeof *fx->tensors);
    if (!fx->tensors) {
        fprintf(stderr, "fixture %s: out of memory\n", path);
        goto fail;
    }
    for (uint32_t i = 0; i < count; i++) {
        fx->n = (int)i + 1; /* so that free() releases the partial tensor */
        if (parse_tensor(&r, &fx->tensors[i], path, (int)i)) goto fail;
    }
    if (r.pos != len) {
        fprintf(stderr, "fixture %s: %zu trailing bytes after the last tensor\n", path,
                len - r.pos);
        goto fail;
    }
    free(bytes);
    return fx;

fail:
    free(bytes);
    thaw_fixture_free(fx);
    return NULL;
}

thaw_fixture *thaw_fixture_load(const char *file)
{
    const char *dir = getenv("THAW_FIXTURES");
    if (!dir || !*dir) {
        fprintf(stderr,
                "fixture %s: THAW_FIXTURES is not set (run through `meson test`, or "
                "set it to the source tree's tests/fixtures)\n",
                file);
        return NULL;
    }
    size_t n = strlen(dir) + 1 + strlen(file) + 1;
    char *path = malloc(n);
    if (!path) {
        fprintf(stderr, "fixture %s: out of memory\n", file);
        return NULL;
    }
    snprintf(path, n, "%s/%s", dir, file);
    thaw_fixture *fx = thaw_fixture_load_path(path);
    free(path);
    return fx;
}

const thaw_fixture_tensor *thaw_fixture_find(const thaw_fixture *fx, const char *name)
{
    for (int i = 0; i < fx->n; i++)
        if (strcmp(fx->tensors[i].name, name) == 0) return &fx->tensors[i];
    return NULL;
}

const float *thaw_fixture_get(const thaw_fixture *fx, const char *name, size_t *count, int *ndim,
                              int *dims)
{
    const thaw_fixture_tensor *t = thaw_fixture_find(fx, name);
    if (!t) return NULL;
    if (count) *count = t->count;
    if (ndim) *ndim = t->ndim;
    if (dims) memcpy(dims, t->dims, (size_t)t->ndim * sizeof(int));
    return t->data;
}

bool thaw_fixture_compare(const char *what, const float *got, const float *want, size_t n,
                          double rtol, double atol_frac, double scale)
{
    double wmax = 0, dmax = 0, used = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(want[i]) > wmax) wmax = fabs(want[i]);
    double atol = atol_frac * (scale > wmax ? scale : wmax);
    bool ok = thaw_test_close(what, got, want, n, atol, rtol);
    if (ok && getenv("THAW_TEST_VERBOSE")) {
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)got[i] - want[i]);
            double tol = atol + rtol * fabs(want[i]);
            if (d > dmax) dmax = d;
            if (tol > 0 && d / tol > used) used = d / tol;
        }
        fprintf(stderr, "   %s: max abs / max|want| %.3g, worst element at %.2g of its tolerance\n",
                what, wmax > 0 ? dmax / wmax : dmax, used);
    }
    return ok;
}

void thaw_fixture_free(thaw_fixture *fx)
{
    if (!fx) return;
    for (int i = 0; i < fx->n && fx->tensors; i++) {
        free(fx->tensors[i].name);
        free(fx->tensors[i].data);
    }
    free(fx->tensors);
    free(fx->path);
    free(fx);
}
