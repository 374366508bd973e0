/* Reader for reference fixtures: named float32 tensors dumped by PyTorch
 * (tests/fixtures/gen_torch_fixtures.py), compared by name in the tests,
 * llm.c style.
 *
 * File format (".thawfix", all integers and floats little-endian):
 *   magic    8 bytes  "THAWFIX1"
 *   count    uint32   number of tensors
 *   then `count` times:
 *     name_len uint32   length of the name in bytes
 *     name     name_len bytes of UTF-8, no terminating NUL ("k3s1p1/x")
 *     ndim     uint32   0 for a scalar
 *     dims     ndim x uint32
 *     data     float32 x (product of dims; 1 for a scalar), row-major
 * Integers (labels, padding, strides) are stored as float32. Layouts are the
 * engine's: activations NHWC, conv kernels HWIO, dense kernels (in, out).
 *
 * Files are found under the directory named by the environment variable
 * THAW_FIXTURES (tests/meson.build sets it to the source tree's
 * tests/fixtures). */
#ifndef THAW_TEST_FIXTURE_H
#define THAW_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THAW_FIXTURE_MAX_DIMS 8

typedef struct thaw_fixture_tensor {
    char *name; /* NUL-terminated copy of the stored name */
    int ndim;
    int dims[THAW_FIXTURE_MAX_DIMS];
    size_t count; /* product of dims (1 for a scalar) */
    float *data;
} thaw_fixture_tensor;

typedef struct thaw_fixture {
    char *path;
    int n;
    thaw_fixture_tensor *tensors;
} thaw_fixture;

/* Loads $THAW_FIXTURES/<file> whole. Returns NULL after printing one line to
 * stderr that names the file and what is wrong (missing, bad magic,
 * truncated at a named tensor, ...). */
thaw_fixture *thaw_fixture_load(const char *file);

/* Loads the file at path (no THAW_FIXTURES lookup); same errors. */
thaw_fixture *thaw_fixture_load_path(const char *path);

/* The tensor called name, or NULL if absent. */
const thaw_fixture_tensor *thaw_fixture_find(const thaw_fixture *fx, const char *name);

/* The data of tensor `name`, or NULL if absent. When found, *count (if not
 * NULL) receives the element count and dims[0..ndim) / *ndim (if not NULL)
 * its shape; dims must hold THAW_FIXTURE_MAX_DIMS ints. */
const float *thaw_fixture_get(const thaw_fixture *fx, const char *name, size_t *count, int *ndim,
                              int *dims);

void thaw_fixture_free(thaw_fixture *fx);

/* Compares n floats with a reference tensor through thaw_test_close() with
 *   atol = atol_frac * max(max|want|, scale)
 * i.e. the absolute tolerance (for elements near 0) is a fraction of the
 * tensor's own magnitude, or of `scale` when the caller knows the size of the
 * terms that cancel in it (0 otherwise). Under THAW_TEST_VERBOSE=1 it also
 * prints the normalised error max|got - want| / max|want| and the share of
 * its tolerance the worst element uses. Returns true when all pass. */
bool thaw_fixture_compare(const char *what, const float *got, const float *want, size_t n,
                          double rtol, double atol_frac, double scale);

#endif
