/* The ResNet family, built from a small table, with Keras's layer names and
 * Keras's `model.layers` order (SPEC.md §3, SEMANTICS.md §4.1).
 *
 *   CIFAR-style resnet8/20/32/56: conv1 3x3/1 (16) -> stages conv2..conv4 of
 *     (depth-2)/6 BasicBlocks, 16/32/64 filters, stride 2 at the first block of
 *     conv3 and conv4; convs without bias; "same" padding as Keras computes it
 *     (asymmetric (0,1) for 3x3 stride 2 on even sizes).
 *   ImageNet-style resnet18/34 (BasicBlock) and resnet50/101/152 (Bottleneck
 *     v1: the stride on the first 1x1 conv, bias on every conv):
 *     conv1_pad(3) -> conv1_conv 7x7/2 valid -> conv1_bn -> conv1_relu ->
 *     pool1_pad(1) -> pool1_pool 3x3/2 -> stages conv2..conv5.
 * Every BN has epsilon 1.001e-5 unless the config says otherwise.
 *
 * Block layer order follows Keras's topological sort (by depth from the
 * output), observed in tf.keras summaries of ResNet50:
 *   bottleneck with projection: _1_conv _1_bn _1_relu _2_conv _2_bn _2_relu
 *                               _0_conv _3_conv _0_bn _3_bn _add _out
 *   basic with projection:      _1_conv _1_bn _1_relu _0_conv _2_conv _0_bn
 *                               _2_bn _add _out
 * and without the _0_ layers for identity shortcuts.
 *
 * Head (classes > 0): avg_pool -> [head_dense (relu)] -> [head_dropout] ->
 * predictions (logits). Without classes: the backbone output, optionally
 * avg_pool (Keras pooling='avg'). The head is not part of the base model. */
#include <stdio.h>
#include <string.h>

#include "model/model-private.h"

typedef struct arch_spec {
    const char *name;
    bool cifar;
    bool bottleneck;
    bool conv_bias;
    int stages;
    int blocks[4];
} arch_spec;

static const arch_spec archs[] = {
    {"resnet8", true, false, false, 3, {1, 1, 1}},
    {"resnet20", true, false, false, 3, {3, 3, 3}},
    {"resnet32", true, false, false, 3, {5, 5, 5}},
    {"resnet56", true, false, false, 3, {9, 9, 9}},
    {"resnet18", false, false, false, 4, {2, 2, 2, 2}},
    {"resnet34", false, false, false, 4, {3, 4, 6, 3}},
    {"resnet50", false, true, true, 4, {3, 4, 6, 3}},
    {"resnet101", false, true, true, 4, {3, 4, 23, 3}},
    {"resnet152", false, true, true, 4, {3, 8, 36, 3}},
};

#define NAME(buf, ...) (snprintf(buf, sizeof buf, __VA_ARGS__), buf)

static int basic_block(thaw_builder *b, const arch_spec *a, const char *p, int x, int filters,
                       int stride, float eps)
{
    char n[THAW_NAME_MAX];
    const thaw_layer *in = b->status == THAW_OK ? &b->m->layers[x] : NULL;
    bool project = in && (stride != 1 || in->oc != filters);
    int y = thaw_build_conv(b, NAME(n, "%s_1_conv", p), x, filters, 3, stride, true, a->conv_bias);
    y = thaw_build_bn(b, NAME(n, "%s_1_bn", p), y, eps);
    y = thaw_build_relu(b, NAME(n, "%s_1_relu", p), y);
    int s = x;
    if (project)
        s = thaw_build_conv(b, NAME(n, "%s_0_conv", p), x, filters, 1, stride, false, a->conv_bias);
    y = thaw_build_conv(b, NAME(n, "%s_2_conv", p), y, filters, 3, 1, true, a->conv_bias);
    if (project) s = thaw_build_bn(b, NAME(n, "%s_0_bn", p), s, eps);
    y = thaw_build_bn(b, NAME(n, "%s_2_bn", p), y, eps);
    y = thaw_build_add(b, NAME(n, "%s_add", p), s, y);
    return thaw_build_relu(b, NAME(n, "%s_out", p), y);
}

static int bottleneck_block(thaw_builder *b, const arch_spec *a, const char *p, int x, int filters,
                            int stride, bool project, float eps)
{
    char n[THAW_NAME_MAX];
    int y = thaw_build_conv(b, NAME(n, "%s_1_conv", p), x, filters, 1, stride, false, true);
    y = thaw_build_bn(b, NAME(n, "%s_1_bn", p), y, eps);
    y = thaw_build_relu(b, NAME(n, "%s_1_relu", p), y);
    y = thaw_build_conv(b, NAME(n, "%s_2_conv", p), y, filters, 3, 1, true, true);
    y = thaw_build_bn(b, NAME(n, "%s_2_bn", p), y, eps);
    y = thaw_build_relu(b, NAME(n, "%s_2_relu", p), y);
    int s = x;
    if (project)
        s = thaw_build_conv(b, NAME(n, "%s_0_conv", p), x, 4 * filters, 1, stride, false, true);
    y = thaw_build_conv(b, NAME(n, "%s_3_conv", p), y, 4 * filters, 1, 1, false, true);
    if (project) s = thaw_build_bn(b, NAME(n, "%s_0_bn", p), s, eps);
    y = thaw_build_bn(b, NAME(n, "%s_3_bn", p), y, eps);
    y = thaw_build_add(b, NAME(n, "%s_add", p), s, y);
    (void)a;
    return thaw_build_relu(b, NAME(n, "%s_out", p), y);
}

thaw_status thaw_resnet_build(thaw_builder *b)
{
    const thaw_model_config *cfg = &b->m->cfg;
    const arch_spec *a = NULL;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strcmp(archs[i].name, cfg->arch) == 0) a = &archs[i];
    if (!a)
        return thaw_error_set(
            b->err, THAW_ERR_ARG,
            "unknown architecture '%s' (resnet8/20/32/56, resnet18/34/50/101/152)", cfg->arch);
    float eps = cfg->bn_eps > 0.0f ? cfg->bn_eps : 1.001e-5f;
    char n[THAW_NAME_MAX];

    b->stage = 0;
    b->block = 0;
    b->in_base = true;
    int x = thaw_build_input(b, "input_1", cfg->in_h, cfg->in_w, cfg->in_c);
    if (a->cifar) {
        x = thaw_build_conv(b, "conv1_conv", x, cfg->width > 0 ? cfg->width : 16, 3, 1, true,
                            a->conv_bias);
        x = thaw_build_bn(b, "conv1_bn", x, eps);
        x = thaw_build_relu(b, "conv1_relu", x);
    } else {
        x = thaw_build_pad(b, "conv1_pad", x, 3);
        x = thaw_build_conv(b, "conv1_conv", x, cfg->width > 0 ? cfg->width : 64, 7, 2, false,
                            a->conv_bias);
        x = thaw_build_bn(b, "conv1_bn", x, eps);
        x = thaw_build_relu(b, "conv1_relu", x);
        if (!cfg->no_pool_pad) x = thaw_build_pad(b, "pool1_pad", x, 1);
        x = thaw_build_maxpool(b, "pool1_pool", x, 3, 2);
    }
    int width = cfg->width > 0 ? cfg->width : a->cifar ? 16 : 64;
    for (int s = 0; s < a->stages; s++) {
        b->stage = s + 1;
        for (int k = 1; k <= a->blocks[s]; k++) {
            b->block = k;
            int stride = (k == 1 && s > 0) ? 2 : 1;
            char p[THAW_NAME_MAX];
            NAME(p, "conv%d_block%d", s + 2, k);
            if (a->bottleneck)
                x = bottleneck_block(b, a, p, x, width, stride, k == 1, eps);
            else
                x = basic_block(b, a, p, x, width, stride, eps);
        }
        width *= 2;
    }

    b->stage = -1;
    b->block = 0;
    b->in_base = false;
    if (cfg->classes > 0 || cfg->pooling_avg) x = thaw_build_gap(b, "avg_pool", x);
    if (cfg->classes > 0) {
        if (cfg->head_hidden > 0) x = thaw_build_dense(b, "head_dense", x, cfg->head_hidden, true);
        if (cfg->dropout > 0.0f) x = thaw_build_dropout(b, "head_dropout", x, cfg->dropout);
        x = thaw_build_dense(b, "predictions", x, cfg->classes, false);
    }
    (void)n;
    return b->status;
}
