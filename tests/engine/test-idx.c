/* IDX reader: the real Fashion-MNIST files, and every way a file can be bad. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/idx.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/thaw-idx-XXXXXX";

static void write_file(const char *path, const unsigned char *data, size_t n, bool gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, data, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void expect_error(const char *path, thaw_status want, const char *needle)
{
    thaw_idx idx;
    thaw_error err;
    thaw_status st = thaw_idx_read(&idx, path, &err);
    CHECK_MSG(st == want, "%s: status %s, want %s", path, thaw_status_to_string(st),
              thaw_status_to_string(want));
    CHECK_MSG(strstr(err.msg, needle) != NULL && strstr(err.msg, path) != NULL,
              "%s: message '%s' lacks '%s' or the path", path, err.msg, needle);
    CHECK(idx.data == NULL);
}

static void test_synthetic(void)
{
    /* a 2x3x2 image file */
    unsigned char good[4 + 12 + 12] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2};
    for (int i = 0; i < 12; i++) good[16 + i] = (unsigned char)(i * 20);
    char path[128];
    for (int gz = 0; gz < 2; gz++) {
        snprintf(path, sizeof path, "%s/good%s", tmpdir, gz ? ".gz" : "");
        write_file(path, good, sizeof good, gz);
        thaw_idx idx;
        thaw_error err;
        CHECK(thaw_idx_read(&idx, path, &err) == THAW_OK);
        CHECK(idx.ndim == 3 && idx.dims[0] == 2 && idx.dims[1] == 3 && idx.dims[2] == 2);
        CHECK(idx.count == 12 && idx.data[11] == 220);
        thaw_idx_free(&idx);

        /* truncated at every length */
        for (size_t cut = 0; cut < sizeof good; cut++) {
            snprintf(path, sizeof path, "%s/cut%zu%s", tmpdir, cut, gz ? ".gz" : "");
            write_file(path, good, cut, gz);
            expect_error(path, THAW_ERR_FORMAT, "truncated at byte");
            unlink(path);
        }
    }
    unsigned char bad[sizeof good];
    memcpy(bad, good, sizeof good);
    bad[2] = 0x0d; /* float IDX: not supported */
    snprintf(path, sizeof path, "%s/float", tmpdir);
    write_file(path, bad, sizeof bad, false);
    expect_error(path, THAW_ERR_FORMAT, "bad magic");
    memcpy(bad, good, sizeof good);
    bad[7] = 0; /* a zero dimension */
    write_file(path, bad, sizeof bad, false);
    expect_error(path, THAW_ERR_FORMAT, "dimension 0");
    unsigned char longer[sizeof good + 1];
    memcpy(longer, good, sizeof good);
    longer[sizeof good] = 1;
    write_file(path, longer, sizeof longer, false);
    expect_error(path, THAW_ERR_FORMAT, "trailing data");
    unlink(path);
    /* a gzip stream cut in the middle: corrupt or truncated, never a crash */
    snprintf(path, sizeof path, "%s/good.gz", tmpdir);
    FILE *f = fopen(path, "rb");
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/broken.gz", tmpdir);
    write_file(path, buf, n - 10, false);
    thaw_idx idx;
    thaw_error err;
    CHECK(thaw_idx_read(&idx, path, &err) == THAW_ERR_FORMAT);
    unlink(path);
    snprintf(path, sizeof path, "%s/good.gz", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/good", tmpdir);
    unlink(path);
    expect_error("/nonexistent/train-images-idx3-ubyte.gz", THAW_ERR_IO, "cannot open");
}

static void test_fashion_mnist(void)
{
    const char *p = THAW_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz";
    if (access(p, R_OK) != 0) {
        fprintf(stderr, "SKIP real Fashion-MNIST: %s not installed\n", p);
        return;
    }
    thaw_idx labels, images;
    thaw_error err;
    CHECK(thaw_idx_read(&labels, p, &err) == THAW_OK);
    CHECK(labels.ndim == 1 && labels.dims[0] == 10000);
    int hist[10] = {0};
    for (size_t i = 0; i < labels.count; i++) hist[labels.data[i] < 10 ? labels.data[i] : 0]++;
    for (int k = 0; k < 10; k++) CHECK(hist[k] == 1000);
    CHECK(thaw_idx_read(&images, THAW_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", &err) ==
          THAW_OK);
    CHECK(images.ndim == 3 && images.dims[0] == 10000 && images.dims[1] == 28 &&
          images.dims[2] == 28);
    thaw_idx_free(&labels);
    thaw_idx_free(&images);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 99;
    test_synthetic();
    test_fashion_mnist();
    rmdir(tmpdir);
    return thaw_test_finish();
}
