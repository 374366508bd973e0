/* The ResNet builder: Keras's layer names, order, shapes and parameter counts. */
#include <stdio.h>
#include <string.h>

#include "thaw.h"
#include "testutil.h"

static thaw_model *build(const char *arch, int h, int w, int c, int classes, bool avg)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
    cfg.in_h = h;
    cfg.in_w = w;
    cfg.in_c = c;
    cfg.classes = classes;
    cfg.pooling_avg = avg;
    thaw_model *m = NULL;
    thaw_error err;
    thaw_status st = thaw_model_new(&m, &cfg, &err);
    CHECK_MSG(st == THAW_OK, "building %s: %s", arch, err.msg);
    return m;
}

static int count_kind(const thaw_model *m, thaw_layer_kind k)
{
    int n = 0;
    for (int i = 0; i < m->n_layers; i++) n += m->layers[i].kind == k;
    return n;
}

static void test_resnet50(void)
{
    /* SEMANTICS.md §4.1: notop, pooling=None: 175 layers incl. InputLayer,
     * 53 Conv2D + 53 BN, 23,587,712 params of which 53,120 non-trainable. */
    thaw_model *m = build("resnet50", 224, 224, 3, 0, false);
    if (!m) return;
    CHECK_MSG(m->n_layers == 175, "resnet50 notop has %d layers", m->n_layers);
    CHECK(count_kind(m, THAW_LAYER_CONV2D) == 53);
    CHECK(count_kind(m, THAW_LAYER_BATCHNORM) == 53);
    thaw_param_counts c = thaw_model_count_params(m);
    CHECK_MSG(c.total == 23587712, "total %zu", c.total);
    CHECK_MSG(c.trainable == 23534592, "trainable %zu", c.trainable);
    CHECK_MSG(c.non_trainable == 53120, "non-trainable %zu", c.non_trainable);
    const thaw_layer *out = thaw_model_output(m);
    CHECK(strcmp(out->name, "conv5_block3_out") == 0);
    CHECK(out->oh == 7 && out->ow == 7 && out->oc == 2048);
    /* Sizes for 224: conv1_pad 230 -> conv1_conv 112 -> pool1_pad 114 -> pool1_pool 56. */
    CHECK(m->layers[thaw_model_find_layer(m, "conv1_pad")].oh == 230);
    CHECK(m->layers[thaw_model_find_layer(m, "conv1_conv")].oh == 112);
    CHECK(m->layers[thaw_model_find_layer(m, "pool1_pad")].oh == 114);
    CHECK(m->layers[thaw_model_find_layer(m, "pool1_pool")].oh == 56);
    CHECK(m->layers[thaw_model_find_layer(m, "conv3_block1_out")].oh == 28);
    CHECK(m->layers[thaw_model_find_layer(m, "conv4_block6_out")].oc == 1024);
    /* Block 1 order as in tf.keras summaries. */
    const char *order[] = {"conv2_block1_1_conv", "conv2_block1_1_bn",   "conv2_block1_1_relu",
                           "conv2_block1_2_conv", "conv2_block1_2_bn",   "conv2_block1_2_relu",
                           "conv2_block1_0_conv", "conv2_block1_3_conv", "conv2_block1_0_bn",
                           "conv2_block1_3_bn",   "conv2_block1_add",    "conv2_block1_out"};
    int first = thaw_model_find_layer(m, order[0]);
    CHECK(first == 7);
    for (int i = 0; first >= 0 && i < 12; i++)
        CHECK_MSG(strcmp(m->layers[first + i].name, order[i]) == 0, "layer %d is %s, want %s",
                  first + i, m->layers[first + i].name, order[i]);
    /* The last 20 layers hold 6 BN layers (SEMANTICS.md §4.1). */
    int bn_last20 = 0;
    for (int i = m->n_layers - 20; i < m->n_layers; i++)
        bn_last20 += m->layers[i].kind == THAW_LAYER_BATCHNORM;
    CHECK(bn_last20 == 6);
    CHECK(strcmp(m->layers[m->n_layers - 20].name, "conv5_block2_1_conv") == 0);
    /* eps and bias */
    CHECK(m->layers[thaw_model_find_layer(m, "conv1_bn")].eps == 1.001e-5f);
    CHECK(thaw_model_find_param(m, "conv1_conv/bias") != NULL);
    thaw_param *k = thaw_model_find_param(m, "conv1_conv/kernel");
    CHECK(k && k->ndim == 4 && k->dims[0] == 7 && k->dims[1] == 7 && k->dims[2] == 3 &&
          k->dims[3] == 64);
    thaw_param *mv = thaw_model_find_param(m, "conv5_block3_3_bn/moving_variance");
    CHECK(mv && mv->is_state && mv->count == 2048);
    thaw_model_free(m);

    /* with top: 177 layers, 25,636,712 params */
    m = build("resnet50", 224, 224, 3, 1000, false);
    if (!m) return;
    CHECK(m->n_layers == 177);
    c = thaw_model_count_params(m);
    CHECK_MSG(c.total == 25636712, "with top: total %zu", c.total);
    thaw_model_free(m);
    /* keras-applications <= 1.0.5: no pool1_pad, 112 -> 55 */
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "resnet50");
    cfg.in_h = cfg.in_w = 224;
    cfg.in_c = 3;
    cfg.classes = 0;
    cfg.no_pool_pad = true;
    cfg.width = 4; /* a tiny ResNet50 graph */
    thaw_error err;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_OK);
    CHECK(m->n_layers == 174 && thaw_model_find_layer(m, "pool1_pad") < 0);
    CHECK(m->layers[thaw_model_find_layer(m, "pool1_pool")].oh == 55);
    CHECK(thaw_model_output(m)->oh == 7 && thaw_model_output(m)->oc == 4 * 4 * 8);
    thaw_model_free(m);
    /* pooling='avg': 176 */
    m = build("resnet50", 224, 224, 3, 0, true);
    if (!m) return;
    CHECK(m->n_layers == 176);
    thaw_model_free(m);
}

static void test_cifar(void)
{
    thaw_model *m = build("resnet20", 28, 28, 1, 10, false);
    if (!m) return;
    /* 1 + 3 stem + 9 blocks (2 with projection: 9 layers, 7 identity: 7) + 2 head */
    CHECK_MSG(m->n_layers == 1 + 3 + 2 * 9 + 7 * 7 + 2, "resnet20 has %d layers", m->n_layers);
    CHECK(count_kind(m, THAW_LAYER_CONV2D) == 21);
    CHECK(count_kind(m, THAW_LAYER_BATCHNORM) == 21);
    thaw_param_counts c = thaw_model_count_params(m);
    /* The ResNet-20 of ../shared/bench/pytorch_resnet20.py (option B
     * shortcuts) has 272,186 parameters (BN weight and bias included) and
     * 1,568 running-statistics values (counted with PyTorch). */
    CHECK_MSG(c.trainable == 272186, "trainable %zu", c.trainable);
    CHECK_MSG(c.non_trainable == 1568, "non-trainable %zu", c.non_trainable);
    int l = thaw_model_find_layer(m, "conv3_block1_1_conv");
    CHECK(l > 0 && m->layers[l].pt == 0 && m->layers[l].pb == 1 && m->layers[l].oh == 14);
    l = thaw_model_find_layer(m, "conv4_block1_0_conv");
    CHECK(l > 0 && m->layers[l].oh == 7 && m->layers[l].kh == 1);
    CHECK(thaw_model_find_layer(m, "conv2_block1_0_conv") == -1);
    CHECK(!m->layers[thaw_model_find_layer(m, "avg_pool")].in_base);
    CHECK(m->layers[thaw_model_find_layer(m, "conv4_block3_out")].in_base);
    CHECK(thaw_model_find_param(m, "conv1_conv/bias") == NULL);
    thaw_model_free(m);

    /* head with hidden Dense and Dropout */
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    cfg.head_hidden = 32;
    cfg.dropout = 0.5f;
    thaw_error err;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_OK);
    int n = m->n_layers;
    CHECK(strcmp(m->layers[n - 3].name, "head_dense") == 0 && m->layers[n - 3].relu);
    CHECK(strcmp(m->layers[n - 2].name, "head_dropout") == 0 && m->layers[n - 2].rate == 0.5f);
    CHECK(strcmp(m->layers[n - 1].name, "predictions") == 0);
    thaw_model_free(m);

    /* other depths build and end at 7x7x64 */
    const char *archs[] = {"resnet8", "resnet32", "resnet56"};
    int blocks[] = {1, 5, 9};
    for (int i = 0; i < 3; i++) {
        m = build(archs[i], 32, 32, 3, 0, false);
        if (!m) continue;
        CHECK(count_kind(m, THAW_LAYER_CONV2D) == 6 * blocks[i] + 1 + 2);
        CHECK(thaw_model_output(m)->oh == 8 && thaw_model_output(m)->oc == 64);
        thaw_model_free(m);
    }
    m = build("resnet18", 64, 64, 3, 0, false);
    if (m) {
        CHECK(count_kind(m, THAW_LAYER_CONV2D) == 20);
        thaw_param_counts c18 = thaw_model_count_params(m);
        /* torchvision resnet18 without fc: 11,176,512 (weights + BN affine);
         * plus 2 x 4,800 running statistics */
        CHECK_MSG(c18.trainable == 11176512, "resnet18 trainable %zu", c18.trainable);
        thaw_model_free(m);
    }
}

static void test_errors(void)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    thaw_model *m = (thaw_model *)1;
    thaw_error err;
    snprintf(cfg.arch, sizeof cfg.arch, "resnet7");
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG && m == NULL);
    CHECK(strstr(err.msg, "resnet7") != NULL);
    thaw_model_config_default(&cfg);
    cfg.in_h = 5000;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "5000x28x1") != NULL, "message: %s", err.msg);
    thaw_model_config_default(&cfg);
    cfg.dropout = 1.0f;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG);
    thaw_model_config_default(&cfg);
    cfg.in_c = 0;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG);
    thaw_model_config_default(&cfg);
    cfg.classes = -3;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG);
}

static void test_preprocessing(void)
{
    /* Keras 'caffe': RGB -> BGR, minus the ImageNet means (SEMANTICS.md §4.3). */
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "resnet8");
    cfg.in_h = cfg.in_w = 2;
    cfg.in_c = 3;
    thaw_model_config_set_caffe(&cfg);
    thaw_model *m;
    thaw_error err;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_OK);
    float x[12] = {10, 20, 30, 255, 0, 128, 1, 2, 3, 4, 5, 6};
    CHECK(thaw_model_forward(m, x, 1, THAW_PHASE_PREDICT, false, NULL, &err) == THAW_OK);
    const float *in = m->layers[0].out;
    const float mean[3] = {103.939f, 116.779f, 123.68f};
    for (int p = 0; p < 4; p++)
        for (int k = 0; k < 3; k++)
            CHECK_MSG(in[p * 3 + k] == x[p * 3 + 2 - k] - mean[k], "pixel %d channel %d: %g", p, k,
                      (double)in[p * 3 + k]);
    thaw_model_free(m);
    /* standardisation, and bad settings */
    thaw_model_config_default(&cfg);
    cfg.in_h = cfg.in_w = 4;
    thaw_model_config_set_standardize(&cfg, 72.93f, 90.0f);
    CHECK(!thaw_model_config_input_identity(&cfg));
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_OK);
    float g[16];
    for (int i = 0; i < 16; i++) g[i] = (float)(i * 16);
    CHECK(thaw_model_forward(m, g, 1, THAW_PHASE_PREDICT, false, NULL, &err) == THAW_OK);
    CHECK(m->layers[0].out[5] == (80.0f - 72.93f) * (1.0f / 90.0f));
    thaw_model_free(m);
    cfg.input_bgr = true; /* with one channel */
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG);
    thaw_model_config_default(&cfg);
    cfg.input_scale[0] = 0.0f;
    CHECK(thaw_model_new(&m, &cfg, &err) == THAW_ERR_ARG);
}

int main(void)
{
    test_preprocessing();
    test_resnet50();
    test_cifar();
    test_errors();
    return thaw_test_finish();
}
