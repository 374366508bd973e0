/* Keras legacy HDF5 import (engine/io/keras_h5.c) against files written in
 * Keras's layout and logits from a PyTorch re-implementation of Keras's
 * ResNet50 v1 graph.
 *
 * Fixtures (tests/fixtures, written by gen_keras_fixtures.py; see README.md):
 *   keras-resnet50-tiny.h5      current names, width 2, top predictions(5),
 *                               variable-length strings
 *   keras-resnet50-tiny-old.h5  the same weights under keras-applications
 *                               names, Keras-1 flat datasets, fixed-length strings
 *   keras-resnet8.h5            Thaw's resnet8 (28x28x1, width 4), no top,
 *                               full-model file, Keras 3 names, split layer_names
 *   keras-bad-*.h5              one defect each
 *   keras-logits.thawfix        x, logits (current), logits_old (eps 1e-3),
 *                               logits_old_nopad (<= 1.0.5 graph), param/...,
 *                               resnet8/x, resnet8/features, resnet8/param/...
 *
 * Logits are compared with |got - want| <= 1e-4 * (|want| + max|want|): a
 * relative tolerance of 1e-4 of the logits' scale. THAW_TEST_VERBOSE=1 prints
 * the measured normalised differences. Every load is followed by a check
 * that no HDF5 object stayed open and that HDF5's error printing was
 * restored; the ASan build checks for leaks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "fixture.h"
#include "io/keras_h5.h"
#include "model/model.h"
#include "model/train.h"
#include "testutil.h"

#define LOGIT_RTOL 1e-4

#define REGEN_HINT "regenerate with: /usr/bin/python3 tests/fixtures/gen_keras_fixtures.py"

static const char *fixture_path(const char *name)
{
    static char buf[4][1024];
    static int next;
    const char *dir = getenv("THAW_FIXTURES");
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir && *dir ? dir : "tests/fixtures", name);
    return p;
}

static H5E_auto2_t auto_before;
static void *auto_data_before;

/* After every load: no HDF5 object left open, HDF5's error printing restored. */
static void check_hdf5_clean(const char *what)
{
    ssize_t open_objs = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    CHECK_MSG(open_objs == 0, "%s: %zd HDF5 objects left open", what, open_objs);
    H5E_auto2_t f = NULL;
    void *d = NULL;
    CHECK(H5Eget_auto2(H5E_DEFAULT, &f, &d) >= 0);
    CHECK_MSG(f == auto_before && d == auto_data_before,
              "%s: HDF5's error handler was not restored", what);
}

static thaw_model *load(const char *file, const thaw_keras_options *opt, thaw_keras_info *info)
{
    thaw_model *m = NULL;
    thaw_error err = {0};
    thaw_status st = thaw_keras_h5_load(&m, fixture_path(file), opt, info, &err);
    CHECK_MSG(st == THAW_OK && m, "loading %s: %s: %s", file, thaw_status_to_string(st), err.msg);
    check_hdf5_clean(file);
    if (st != THAW_OK) {
        thaw_model_free(m);
        return NULL;
    }
    return m;
}

static const float *need(const thaw_fixture *fx, const char *name, size_t count)
{
    size_t got = 0;
    const float *p = thaw_fixture_get(fx, name, &got, NULL, NULL);
    CHECK_MSG(p != NULL, "%s: tensor %s missing; " REGEN_HINT, fx->path, name);
    if (p && got != count) {
        CHECK_MSG(0, "%s: tensor %s has %zu values, expected %zu", fx->path, name, got, count);
        return NULL;
    }
    return p;
}

/* Every "<prefix>param/<name>" of the fixture equals the model's parameter bit
 * for bit (the h5 stores the same float32 values). */
static void check_params(thaw_model *m, const thaw_fixture *fx, const char *prefix)
{
    char want_prefix[64];
    snprintf(want_prefix, sizeof want_prefix, "%sparam/", prefix);
    size_t len = strlen(want_prefix);
    int checked = 0;
    for (int i = 0; i < fx->n; i++) {
        const char *name = fx->tensors[i].name;
        if (strncmp(name, want_prefix, len) != 0) continue;
        const thaw_param *p = thaw_model_find_param(m, name + len);
        CHECK_MSG(p != NULL, "model has no parameter %s", name + len);
        if (!p) continue;
        CHECK_MSG(p->count == fx->tensors[i].count, "%s: %zu values, fixture %zu", name, p->count,
                  fx->tensors[i].count);
        if (p->count == fx->tensors[i].count)
            thaw_test_same(name, thaw_param_data(m, p), fx->tensors[i].data, p->count);
        checked++;
    }
    CHECK_MSG(checked >= 4, "only %d spot-checked parameters under %s", checked, want_prefix);
}

/* max|got - want| / max|want| */
static double norm_diff(const float *got, const float *want, size_t n)
{
    double d = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)got[i] - want[i]));
        s = fmax(s, fabs((double)want[i]));
    }
    return s > 0.0 ? d / s : d;
}

/* The model's output (before any softmax) on n images of x, in inference mode. */
static const float *forward(thaw_model *m, const float *x, int n)
{
    thaw_error err = {0};
    thaw_status st = thaw_model_forward(m, x, n, THAW_PHASE_PREDICT, false, NULL, &err);
    CHECK_MSG(st == THAW_OK, "forward: %s", err.msg);
    return st == THAW_OK ? thaw_model_output(m)->out : NULL;
}

static void compare_logits(const char *what, const float *got, const float *want, size_t n)
{
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)want[i]));
    thaw_test_close(what, got, want, n, LOGIT_RTOL * scale, LOGIT_RTOL);
    printf("  %-34s max|diff|/max|logit| = %.3g\n", what, norm_diff(got, want, n));
}

/* ---------------------------------------------------------------- tests */

#define N_IMAGES 2
#define CLASSES  5

static void test_current(const thaw_fixture *fx)
{
    thaw_keras_options opt;
    thaw_keras_options_default(&opt);
    opt.in_h = opt.in_w = 32;
    thaw_keras_info info;
    thaw_model *m = load("keras-resnet50-tiny.h5", &opt, &info);
    if (!m) return;

    CHECK(info.variant == THAW_KERAS_VARIANT_CURRENT);
    CHECK(info.variant_name && strstr(info.variant_name, "current names"));
    CHECK(strcmp(info.keras_version, "2.11.0") == 0);
    CHECK(strcmp(info.backend, "tensorflow") == 0);
    CHECK(strcmp(info.arch, "resnet50") == 0);
    CHECK(!info.full_model && !info.fixed_strings);
    CHECK(info.has_top && info.top_loaded && info.top_classes == CLASSES);
    CHECK(strcmp(info.top_name, "predictions") == 0);
    CHECK_MSG(info.n_layer_names == 177, "layer_names has %d entries", info.n_layer_names);
    CHECK_MSG(info.n_layers_read == 107, "%d layers read (53 conv + 53 BN + 1 dense)",
              info.n_layers_read);
    CHECK_MSG(info.n_tensors == 53 * 2 + 53 * 4 + 2, "%d tensors read", info.n_tensors);
    size_t values = 0;
    for (int i = 0; i < m->n_params; i++) values += m->params[i].count;
    CHECK_MSG(info.n_values == values, "%zu values read, the model has %zu", info.n_values, values);
    CHECK(info.n_float64 == 0);
    CHECK(fabsf(info.bn_eps - 1.001e-5f) == 0.0f && !info.no_pool_pad && info.caffe);

    CHECK(strcmp(m->cfg.arch, "resnet50") == 0);
    CHECK(m->cfg.width == 2 && m->cfg.in_c == 3 && m->cfg.in_h == 32 && m->cfg.classes == CLASSES);
    CHECK(m->cfg.input_bgr && fabsf(m->cfg.input_mean[0] - 103.939f) == 0.0f &&
          fabsf(m->cfg.input_mean[2] - 123.68f) == 0.0f);
    CHECK(thaw_model_find_layer(m, "pool1_pad") >= 0);
    int bn = thaw_model_find_layer(m, "conv3_block2_2_bn");
    CHECK(bn >= 0 && m->layers[bn].eps == 1.001e-5f);
    check_params(m, fx, "");

    const float *x = need(fx, "x", (size_t)N_IMAGES * 32 * 32 * 3);
    const float *want = need(fx, "logits", N_IMAGES * CLASSES);
    if (x && want) {
        const float *got = forward(m, x, N_IMAGES);
        if (got) compare_logits("current names: logits", got, want, N_IMAGES * CLASSES);

        /* The public prediction call: softmax of the same logits. */
        float probs[N_IMAGES * CLASSES], ref[N_IMAGES * CLASSES];
        thaw_error err = {0};
        thaw_status st = thaw_model_predict(m, x, N_IMAGES, N_IMAGES, false, 1, probs, &err);
        CHECK_MSG(st == THAW_OK, "predict: %s", err.msg);
        for (int i = 0; i < N_IMAGES; i++) {
            double mx = -INFINITY, sum = 0.0;
            for (int k = 0; k < CLASSES; k++) mx = fmax(mx, want[i * CLASSES + k]);
            for (int k = 0; k < CLASSES; k++) sum += exp(want[i * CLASSES + k] - mx);
            for (int k = 0; k < CLASSES; k++)
                ref[i * CLASSES + k] = (float)(exp(want[i * CLASSES + k] - mx) / sum);
        }
        if (st == THAW_OK)
            thaw_test_close("predict probabilities", probs, ref, N_IMAGES * CLASSES, 1e-5, 1e-4);
    }
    thaw_model_free(m);
}

static void test_old(const thaw_fixture *fx)
{
    const float *x = need(fx, "x", (size_t)N_IMAGES * 32 * 32 * 3);
    const float *want = need(fx, "logits_old", N_IMAGES * CLASSES);
    const float *want_nopad = need(fx, "logits_old_nopad", N_IMAGES * CLASSES);
    const float *want_current = need(fx, "logits", N_IMAGES * CLASSES);

    thaw_keras_options opt;
    thaw_keras_options_default(&opt);
    opt.in_h = opt.in_w = 32;
    thaw_keras_info info;
    thaw_model *m = load("keras-resnet50-tiny-old.h5", &opt, &info);
    if (!m) return;
    CHECK(info.variant == THAW_KERAS_VARIANT_OLD);
    CHECK(info.variant_name && strstr(info.variant_name, "old names"));
    CHECK(info.keras_version[0] == '\0' && info.backend[0] == '\0');
    CHECK(strcmp(info.arch, "resnet50") == 0);
    CHECK(info.fixed_strings && !info.full_model);
    CHECK(info.has_top && info.top_loaded && strcmp(info.top_name, "fc1000") == 0);
    CHECK(info.top_classes == CLASSES && info.n_layers_read == 107);
    CHECK(info.bn_eps == 1e-3f && !info.no_pool_pad && info.caffe);
    CHECK(m->cfg.input_bgr && m->cfg.width == 2);
    int bn = thaw_model_find_layer(m, "conv1_bn");
    CHECK(bn >= 0 && m->layers[bn].eps == 1e-3f);
    CHECK(thaw_model_find_layer(m, "pool1_pad") >= 0);
    check_params(m, fx, ""); /* same weights as the current-name file, under Thaw's names */
    const float *got = x && want ? forward(m, x, N_IMAGES) : NULL;
    if (got) {
        compare_logits("old names (>= 1.0.6): logits", got, want, N_IMAGES * CLASSES);
        /* BN epsilon matters: the current-name logits are far off. */
        if (want_current)
            CHECK_MSG(norm_diff(got, want_current, N_IMAGES * CLASSES) > 100 * LOGIT_RTOL,
                      "eps 1e-3 and 1.001e-5 give the same logits: the eps test is void");
    }
    thaw_model_free(m);

    /* keras-applications <= 1.0.5: no pool1_pad, different logits. */
    opt.graph = THAW_KERAS_GRAPH_KA_1_0_5;
    m = load("keras-resnet50-tiny-old.h5", &opt, &info);
    if (!m) return;
    CHECK(info.no_pool_pad && m->cfg.no_pool_pad);
    CHECK(thaw_model_find_layer(m, "pool1_pad") < 0);
    int pool = thaw_model_find_layer(m, "pool1_pool");
    CHECK(pool >= 0 && m->layers[pool].oh == 7); /* 32 -> 16 -> 7 (not 8) */
    got = x && want_nopad ? forward(m, x, N_IMAGES) : NULL;
    if (got) {
        compare_logits("old names (<= 1.0.5): logits", got, want_nopad, N_IMAGES * CLASSES);
        if (want)
            CHECK_MSG(norm_diff(got, want, N_IMAGES * CLASSES) > 100 * LOGIT_RTOL,
                      "the <= 1.0.5 graph gives the same logits as >= 1.0.6");
    }
    thaw_model_free(m);
}

static void test_resnet8(const thaw_fixture *fx)
{
    thaw_keras_info info;
    thaw_model *m = load("keras-resnet8.h5", NULL, &info);
    if (!m) return;
    CHECK(info.variant == THAW_KERAS_VARIANT_CURRENT);
    CHECK(info.full_model && !info.fixed_strings);
    CHECK(strcmp(info.keras_version, "3.3.3") == 0);
    CHECK(strcmp(info.arch, "resnet8") == 0);
    CHECK(!info.has_top && !info.top_loaded && info.top_classes == 0);
    CHECK_MSG(info.n_layer_names == 29, "layer_names0 + layer_names1: %d", info.n_layer_names);
    CHECK_MSG(info.n_layers_read == 18, "%d layers read", info.n_layers_read);
    CHECK(!info.caffe && info.bn_eps == 1.001e-5f);
    CHECK(m->cfg.in_h == 28 && m->cfg.in_w == 28 && m->cfg.in_c == 1 && m->cfg.width == 4);
    CHECK(m->cfg.classes == 0 && thaw_model_config_input_identity(&m->cfg));
    CHECK(strcmp(thaw_model_output(m)->name, "conv4_block1_out") == 0);
    check_params(m, fx, "resnet8/");

    const float *x = need(fx, "resnet8/x", (size_t)N_IMAGES * 28 * 28);
    const float *want = need(fx, "resnet8/features", (size_t)N_IMAGES * 7 * 7 * 16);
    const float *got = x && want ? forward(m, x, N_IMAGES) : NULL;
    if (got) compare_logits("resnet8 (no top): features", got, want, (size_t)N_IMAGES * 7 * 7 * 16);
    thaw_model_free(m);

    /* A new head on the loaded backbone. */
    thaw_keras_options opt;
    thaw_keras_options_default(&opt);
    opt.classes = 3;
    opt.head_hidden = 8;
    opt.dropout = 0.25f;
    m = load("keras-resnet8.h5", &opt, &info);
    if (!m) return;
    CHECK(m->cfg.classes == 3 && m->cfg.head_hidden == 8 && !info.top_loaded);
    CHECK(thaw_model_find_param(m, "head_dense/kernel") != NULL);
    CHECK(thaw_model_find_param(m, "predictions/kernel") != NULL);
    check_params(m, fx, "resnet8/");
    thaw_model_free(m);
}

static void expect_error(const char *file, const char *path, const thaw_keras_options *opt,
                         thaw_status want, const char *must1, const char *must2)
{
    static thaw_model poison;
    thaw_model *m = &poison; /* the loader must reset it to NULL */
    thaw_error err = {0};
    thaw_status st = thaw_keras_h5_load(&m, path, opt, NULL, &err);
    CHECK_MSG(st == want, "%s: status %s, expected %s (%s)", file, thaw_status_to_string(st),
              thaw_status_to_string(want), err.msg);
    CHECK_MSG(m == NULL, "%s: a model was returned on failure", file);
    CHECK_MSG(err.status == st, "%s: err.status differs from the returned status", file);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    CHECK_MSG(strstr(err.msg, base), "%s: message does not name the file: %s", file, err.msg);
    CHECK_MSG(!must1 || strstr(err.msg, must1), "%s: message lacks '%s': %s", file, must1, err.msg);
    CHECK_MSG(!must2 || strstr(err.msg, must2), "%s: message lacks '%s': %s", file, must2, err.msg);
    if (getenv("THAW_TEST_VERBOSE")) printf("  %-26s -> %s\n", file, err.msg);
    if (st == THAW_OK) thaw_model_free(m);
    check_hdf5_clean(file);
}

/* Attribute `name` of loc: n fixed-length strings as h5py 2 writes them. */
static bool write_names(hid_t loc, const char *name, const char *const *names, int n)
{
    char buf[4][32] = {{0}};
    size_t size = 1;
    for (int i = 0; i < n && i < 4; i++) {
        snprintf(buf[i], sizeof buf[i], "%s", names[i]);
        if (strlen(buf[i]) > size) size = strlen(buf[i]);
    }
    char packed[4 * 32] = {0};
    for (int i = 0; i < n && i < 4; i++) memcpy(packed + (size_t)i * size, buf[i], strlen(buf[i]));
    hsize_t dims[1] = {(hsize_t)n};
    hid_t type = H5Tcopy(H5T_C_S1);
    hid_t space = H5Screate_simple(1, dims, NULL);
    bool ok = type >= 0 && space >= 0 && H5Tset_size(type, size) >= 0 &&
              H5Tset_strpad(type, H5T_STR_NULLPAD) >= 0;
    hid_t a = ok ? H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT) : -1;
    ok = a >= 0 && H5Awrite(a, type, packed) >= 0;
    if (a >= 0) ok &= H5Aclose(a) >= 0;
    if (space >= 0) ok &= H5Sclose(space) >= 0;
    if (type >= 0) ok &= H5Tclose(type) >= 0;
    return ok;
}

static void test_broken(void)
{
    static const struct {
        const char *file;
        thaw_status status;
        const char *must1, *must2;
    } cases[] = {
        {"keras-bad-bncount.h5", THAW_ERR_SHAPE, "layer conv2_block1_1_bn: 3 weights",
         "expected 4 (gamma, beta, moving_mean, moving_variance)"},
        {"keras-bad-shape.h5", THAW_ERR_SHAPE, "layer conv1_bn: expected 4 values, found 2",
         "conv1_bn/gamma:0"},
        {"keras-bad-missing.h5", THAW_ERR_FORMAT, "layer conv3_block1_2_conv is missing",
         "expects 18 weighted layers"},
        {"keras-bad-float64.h5", THAW_ERR_FORMAT, "layer conv3_block1_0_conv", "float64"},
        {"keras-bad-nan.h5", THAW_ERR_NONFINITE, "layer conv4_block1_2_conv", "non-finite"},
        {"keras-bad-negvar.h5", THAW_ERR_FORMAT, "layer conv2_block1_2_bn", "moving variance"},
        {"keras-bad-extra.h5", THAW_ERR_FORMAT, "unexpected weighted layer dense_7", NULL},
        {"keras-bad-truncated.h5", THAW_ERR_FORMAT, "truncated", NULL},
        {"README.md", THAW_ERR_FORMAT, "not an HDF5 file", NULL},
        {"bn.thawfix", THAW_ERR_FORMAT, "not an HDF5 file", NULL},
        {"no-such-file.h5", THAW_ERR_IO, "No such file", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].file, fixture_path(cases[i].file), NULL, cases[i].status,
                     cases[i].must1, cases[i].must2);
    expect_error("fixtures directory", fixture_path(""), NULL, THAW_ERR_IO, "directory", NULL);

    /* Files made here: an empty file, HDF5 files that are not Keras weight files. */
    const char *tmp = "test-keras-h5-tmp.h5";
    FILE *empty = fopen(tmp, "wb");
    CHECK(empty && fclose(empty) == 0);
    expect_error("0-byte file", tmp, NULL, THAW_ERR_FORMAT, "empty", NULL);

    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0 && H5Fclose(f) >= 0);
    expect_error("HDF5 without layer_names", tmp, NULL, THAW_ERR_FORMAT, "no layer_names", NULL);

    static const char *const listed_only[] = {"input_1", "conv1_conv"};
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0 && write_names(f, "layer_names", listed_only, 2) && H5Fclose(f) >= 0);
    expect_error("layer without group", tmp, NULL, THAW_ERR_FORMAT,
                 "layer input_1 is listed in layer_names but has no group", NULL);

    static const char *const dense_only[] = {"dense_1"};
    static const char *const dense_weights[] = {"dense_1/kernel:0"};
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = f >= 0 ? H5Gcreate2(f, "dense_1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    CHECK(g >= 0 && write_names(f, "layer_names", dense_only, 1) &&
          write_names(g, "weight_names", dense_weights, 1) && H5Gclose(g) >= 0 && H5Fclose(f) >= 0);
    expect_error("not a ResNet", tmp, NULL, THAW_ERR_FORMAT, "not a Keras ResNet", "dense_1");
    remove(tmp);
}

static void test_options(void)
{
    thaw_keras_options opt;
    thaw_keras_options_default(&opt);
    opt.in_h = opt.in_w = 32;
    const char *r50 = fixture_path("keras-resnet50-tiny.h5");
    const char *old = fixture_path("keras-resnet50-tiny-old.h5");

    /* include_top=False style: skip the file's classifier, new head. */
    thaw_keras_info info;
    opt.ignore_top = true;
    opt.classes = 3;
    thaw_model *m = load("keras-resnet50-tiny.h5", &opt, &info);
    if (m) {
        CHECK(info.has_top && !info.top_loaded && m->cfg.classes == 3);
        CHECK(info.n_layers_read == 106);
        thaw_model_free(m);
    }
    opt.classes = 0; /* ignore_top without classes: backbone only */
    m = load("keras-resnet50-tiny.h5", &opt, &info);
    if (m) {
        CHECK(m->cfg.classes == 0 && strcmp(thaw_model_output(m)->name, "conv5_block3_out") == 0);
        thaw_model_free(m);
    }
    opt.ignore_top = false;

    opt.preprocess = THAW_KERAS_PREPROCESS_NONE;
    m = load("keras-resnet50-tiny.h5", &opt, &info);
    if (m) {
        CHECK(!info.caffe && thaw_model_config_input_identity(&m->cfg));
        thaw_model_free(m);
    }
    opt.preprocess = THAW_KERAS_PREPROCESS_AUTO;

    opt.classes = 7;
    expect_error("classes 7 vs top 5", r50, &opt, THAW_ERR_SHAPE, "predictions", "5 classes");
    opt.classes = 0;
    opt.graph = THAW_KERAS_GRAPH_KA_1_0_5;
    expect_error("<= 1.0.5 graph, current names", r50, &opt, THAW_ERR_ARG, "pool1_pad", NULL);
    opt.graph = THAW_KERAS_GRAPH_DEFAULT;
    opt.arch = "resnet101";
    expect_error("forced resnet101", r50, &opt, THAW_ERR_FORMAT,
                 "layer conv4_block7_1_conv is missing", "resnet101");
    expect_error("forced resnet101, old names", old, &opt, THAW_ERR_FORMAT,
                 "layer res4g_branch2a (Thaw conv4_block7_1_conv) is missing", NULL);
    opt.arch = "resnet8";
    expect_error("forced resnet8 on a 7x7 stem", r50, &opt, THAW_ERR_SHAPE, "conv1_conv",
                 "resnet8");
    opt.arch = "vgg16";
    expect_error("unknown arch", r50, &opt, THAW_ERR_ARG, "vgg16", NULL);
    opt.arch = NULL;
    opt.in_h = -1;
    expect_error("negative input size", r50, &opt, THAW_ERR_ARG, "input size", NULL);

    /* float64: refused by default (test_broken), converted on request. */
    thaw_keras_options_default(&opt);
    opt.allow_float64 = true;
    m = load("keras-bad-float64.h5", &opt, &info);
    thaw_model *ref = load("keras-resnet8.h5", NULL, NULL);
    if (m && ref) {
        CHECK(info.n_float64 == 1);
        CHECK(m->n_floats == ref->n_floats);
        if (m->n_floats == ref->n_floats)
            thaw_test_same("float64 file converted", m->param_mem, ref->param_mem, m->n_floats);
    }
    thaw_model_free(m);
    thaw_model_free(ref);
}

int main(void)
{
    if (H5Eget_auto2(H5E_DEFAULT, &auto_before, &auto_data_before) < 0) {
        fprintf(stderr, "HDF5 error handler unavailable\n");
        return 1;
    }
    thaw_fixture *fx = thaw_fixture_load("keras-logits.thawfix");
    CHECK_MSG(fx != NULL, "keras-logits.thawfix missing; " REGEN_HINT);
    if (fx) {
        test_current(fx);
        test_old(fx);
        test_resnet8(fx);
    }
    test_broken();
    test_options();
    thaw_fixture_free(fx);
    return thaw_test_finish();
}
