/* Parameter counts and the Keras-style summary table. */
#include "model/summary.h"

#include <stdio.h>
#include <string.h>

size_t thaw_layer_param_count(const thaw_model *m, int layer)
{
    const thaw_layer *l = &m->layers[layer];
    size_t n = 0;
    for (int k = 0; k < l->n_params; k++) n += m->params[l->first_param + k].count;
    return n;
}

thaw_param_counts thaw_model_count_params(thaw_model *m)
{
    thaw_model_resolve(m, THAW_PHASE_FIT);
    thaw_param_counts c = {0};
    for (int i = 0; i < m->n_params; i++) {
        const thaw_param *p = &m->params[i];
        c.total += p->count;
        if (!p->is_state && m->layers[p->layer].mode.params_trained) c.trainable += p->count;
    }
    c.non_trainable = c.total - c.trainable;
    return c;
}

void thaw_format_count(char *buf, size_t size, size_t v)
{
    /* 23587712 -> "23,587,712" */
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%zu", v);
    size_t j = 0;
    for (int i = 0; i < len && j + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && j + 2 < size) buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = '\0';
}

void thaw_model_summary_print(thaw_model *m, FILE *f)
{
    thaw_param_counts c = thaw_model_count_params(m); /* also resolves FIT modes */
    char num[32], shape[48];
    fprintf(f, "Model: \"%s\"  (preset %s)\n", m->cfg.arch, thaw_preset_get(m->preset)->name);
    fprintf(f, "%-28s %-24s %-18s %12s  %-9s %s\n", "Layer", "Kind", "Output shape", "Param #",
            "Trainable", "BN in a training step");
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind == THAW_LAYER_GAP || l->kind == THAW_LAYER_DENSE ||
            (l->kind == THAW_LAYER_DROPOUT && !l->in_base))
            snprintf(shape, sizeof shape, "(None, %d)", l->oc);
        else
            snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->oh, l->ow, l->oc);
        thaw_format_count(num, sizeof num, thaw_layer_param_count(m, i));
        const char *tr = l->n_params == 0 ? "" : l->mode.params_trained ? "yes" : "no";
        const char *bn = l->kind == THAW_LAYER_BATCHNORM ? thaw_bn_mode_phrase(&l->mode) : "";
        fprintf(f, "%-28s %-24s %-18s %12s  %-9s %s\n", l->name, thaw_layer_kind_name(l->kind),
                shape, num, tr, bn);
    }
    thaw_format_count(num, sizeof num, c.total);
    fprintf(f, "Total params: %s\n", num);
    thaw_format_count(num, sizeof num, c.trainable);
    fprintf(f, "Trainable params: %s\n", num);
    thaw_format_count(num, sizeof num, c.non_trainable);
    fprintf(f, "Non-trainable params: %s\n", num);
}
