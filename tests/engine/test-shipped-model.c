/* The shipped source-task model (resources/models/fashion-resnet20.thaw):
 * it loads, has the documented architecture, and reaches at least 90% test
 * accuracy on Fashion-MNIST classes 0-4 in inference mode (the README states
 * the measured figure, 94.66%). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thaw.h"
#include "testutil.h"

int main(void)
{
    const char *dir = getenv("THAW_MODELS");
    char path[4096];
    snprintf(path, sizeof path, "%s/fashion-resnet20.thaw", dir ? dir : "resources/models");
    thaw_model *m = NULL;
    thaw_error err;
    thaw_status st = thaw_checkpoint_load(&m, path, &err);
    CHECK_MSG(st == THAW_OK, "%s", err.msg);
    if (st != THAW_OK) return thaw_test_finish();
    CHECK(strcmp(m->cfg.arch, "resnet20") == 0);
    CHECK(m->cfg.in_h == 28 && m->cfg.in_w == 28 && m->cfg.in_c == 1 && m->cfg.classes == 5);
    CHECK(thaw_model_find_layer(m, "head_dropout") >= 0);
    CHECK(!thaw_model_config_input_identity(&m->cfg));

    if (access(THAW_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "SKIP accuracy: Fashion-MNIST is not installed\n");
    } else {
        thaw_dataset test, src;
        const int classes[5] = {0, 1, 2, 3, 4};
        CHECK(thaw_fashion_load(&test, THAW_FASHION_MNIST_DIR, "t10k", &err) == THAW_OK);
        CHECK(thaw_dataset_subset(&src, &test, classes, 5, 0, 0, &err) == THAW_OK);
        thaw_eval_result r;
        CHECK(thaw_model_evaluate(m, src.x, src.y, src.n, 250, false, 0, &r, &err) == THAW_OK);
        printf("shipped model: %.2f%% on %d test images of classes 0-4\n", 100 * r.accuracy, r.n);
        CHECK_MSG(r.n == 5000 && r.accuracy >= 0.90, "accuracy %.4f", r.accuracy);
        thaw_dataset_free(&src);
        thaw_dataset_free(&test);
    }
    thaw_model_free(m);
    return thaw_test_finish();
}
