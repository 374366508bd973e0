/* Fashion-MNIST loading and the default scenario: raw pixels, label and count
 * checks with the file named, seeded K-shot sampling, relabelling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/idx.h"
#include "testutil.h"

static char dir[] = "/tmp/thaw-dataset-XXXXXX";

/* Writes "<dir>/<prefix>-images-idx3-ubyte.gz" (n images 2x2) and the labels. */
static void write_split(const char *prefix, int n_images, int n_labels, const uint8_t *labels)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    gzFile f = gzopen(path, "wb");
    unsigned char h[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n_images, 0, 0, 0, 2, 0, 0, 0, 2};
    gzwrite(f, h, sizeof h);
    for (int i = 0; i < n_images * 4; i++) {
        unsigned char v = (unsigned char)(i % 251);
        gzwrite(f, &v, 1);
    }
    gzclose(f);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    f = gzopen(path, "wb");
    unsigned char hl[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n_labels};
    gzwrite(f, hl, sizeof hl);
    gzwrite(f, labels, (unsigned)n_labels);
    gzclose(f);
}

static void test_synthetic(void)
{
    uint8_t labels[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 5, 5};
    write_split("train", 12, 12, labels);
    thaw_dataset d;
    thaw_error err;
    CHECK(thaw_fashion_load(&d, dir, "train", &err) == THAW_OK);
    CHECK(d.n == 12 && d.h == 2 && d.w == 2 && d.c == 1 && d.classes == 10);
    CHECK(d.x[5] == 5.0f && d.y[11] == 5); /* raw pixel values, 0..255 */

    /* target classes 5..9, K = 2: class 5 has three images, the others one */
    const int target[5] = {5, 6, 7, 8, 9};
    thaw_dataset t;
    CHECK(thaw_dataset_subset(&t, &d, target, 5, 2, 1, &err) == THAW_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "class 6 has 1 images, fewer than K = 2") != NULL, "%s", err.msg);
    CHECK(thaw_dataset_subset(&t, &d, target, 5, 1, 1, &err) == THAW_OK);
    CHECK(t.n == 5 && t.classes == 5);
    int seen[5] = {0};
    for (int i = 0; i < 5; i++) seen[t.y[i]]++; /* relabelled 0..4, one image each */
    for (int i = 0; i < 5; i++) CHECK(seen[i] == 1);
    CHECK(t.y[0] == 1 || t.y[0] == 0); /* file order: image 5 (class 5) or 6 (class 6) first */
    thaw_dataset_free(&t);
    CHECK(thaw_dataset_subset(&t, &d, target, 5, 0, 0, &err) == THAW_OK);
    CHECK(t.n == 7); /* all of them */
    thaw_dataset_free(&t);
    thaw_dataset_free(&d);

    labels[3] = 12;
    write_split("bad", 12, 12, labels);
    CHECK(thaw_fashion_load(&d, dir, "bad", &err) == THAW_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "bad-labels-idx1-ubyte.gz") && strstr(err.msg, "label 12 of item 3"),
              "%s", err.msg);
    CHECK(d.x == NULL && d.n == 0);
    labels[3] = 3;
    write_split("short", 12, 11, labels);
    CHECK(thaw_fashion_load(&d, dir, "short", &err) == THAW_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "has 12 images but") && strstr(err.msg, "has 11 labels"), "%s",
              err.msg);
    CHECK(thaw_fashion_load(&d, dir, "missing", &err) == THAW_ERR_IO);
    CHECK(strstr(err.msg, "missing-images-idx3-ubyte") != NULL);
    const char *names[] = {"train", "bad", "short"};
    for (int i = 0; i < 3; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, names[i]);
        unlink(p);
        snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, names[i]);
        unlink(p);
    }
}

static void test_scenario(void)
{
    if (access(THAW_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "SKIP the real scenario: Fashion-MNIST is not installed\n");
        return;
    }
    thaw_dataset test, val, k1, k2, k3;
    thaw_error err;
    CHECK(thaw_fashion_load(&test, THAW_FASHION_MNIST_DIR, "t10k", &err) == THAW_OK);
    const int target[5] = {5, 6, 7, 8, 9};
    /* validation: all test images of the target classes */
    CHECK(thaw_dataset_subset(&val, &test, target, 5, 0, 0, &err) == THAW_OK);
    CHECK(val.n == 5000);
    /* K = 100 per class, seeded: same seed same images, other seed others */
    CHECK(thaw_dataset_subset(&k1, &test, target, 5, 100, 7, &err) == THAW_OK);
    CHECK(thaw_dataset_subset(&k2, &test, target, 5, 100, 7, &err) == THAW_OK);
    CHECK(thaw_dataset_subset(&k3, &test, target, 5, 100, 8, &err) == THAW_OK);
    CHECK(k1.n == 500 && memcmp(k1.x, k2.x, 500 * 784 * sizeof(float)) == 0);
    CHECK(memcmp(k1.x, k3.x, 500 * 784 * sizeof(float)) != 0);
    int hist[5] = {0};
    for (int i = 0; i < k1.n; i++) hist[k1.y[i]]++;
    for (int c = 0; c < 5; c++) CHECK(hist[c] == 100);
    thaw_dataset_free(&k3);
    CHECK(thaw_dataset_subset(&k3, &test, target, 5, 1001, 7, &err) == THAW_ERR_ARG);
    CHECK(k3.x == NULL); /* nothing half-made on failure */
    thaw_dataset_free(&k1);
    thaw_dataset_free(&k2);
    thaw_dataset_free(&val);
    thaw_dataset_free(&test);
}

int main(void)
{
    if (!mkdtemp(dir)) return 99;
    test_synthetic();
    test_scenario();
    rmdir(dir);
    return thaw_test_finish();
}
