/* A setup's Keras or PyTorch script (see export-setup.h). */
#include "export-setup.h"

#include <stdio.h>
#include <string.h>

char *thaw_export_setup_code(const ThawSetup *s, const thaw_model_config *bc,
                             const char *weights_path, int classes, ThawExportFramework fw,
                             GError **error)
{
    if (s->unfreeze_epoch > 0 && strcmp(s->unfreeze_layers, "base") != 0) {
        g_set_error(error, THAW_EXPORT_ERROR, THAW_EXPORT_ERROR_INVALID,
                    "unfreeze_layers '%s': the exported scripts unfreeze the whole base only",
                    s->unfreeze_layers);
        return NULL;
    }
    ThawExportSpec spec;
    thaw_export_spec_default(&spec);
    spec.source = s->name && *s->name ? s->name : "a Thaw setup";
    snprintf(spec.arch, sizeof spec.arch, "%s", bc->arch);
    spec.in_h = bc->in_h, spec.in_w = bc->in_w, spec.in_c = bc->in_c;
    spec.width = bc->width;
    spec.bn_eps = bc->bn_eps;
    spec.no_pool_pad = bc->no_pool_pad;
    spec.head_hidden = s->head_hidden;
    spec.dropout = (float)s->dropout;
    if (bc->input_bgr) {
        spec.preproc = THAW_EXPORT_PREPROC_CAFFE;
    } else if (thaw_model_config_input_identity(bc)) {
        spec.preproc = THAW_EXPORT_PREPROC_NONE;
    } else {
        spec.preproc = THAW_EXPORT_PREPROC_STANDARDIZE;
        spec.mean = bc->input_mean[0];
        spec.std = 1.0f / bc->input_scale[0];
    }
    spec.weights = weights_path;

    ThawSetupDataKind kind;
    g_autofree char *dir = thaw_setup_resolve_dataset(s, FALSE, &kind, error);
    if (!dir) return NULL;
    spec.data_dir = dir;
    spec.classes = classes;
    spec.data =
        kind == THAW_SETUP_DATA_IMAGES ? THAW_EXPORT_DATA_FOLDER : THAW_EXPORT_DATA_FASHION_MNIST;
    spec.first_class = 5;
    spec.k = s->k;
    spec.val_k = s->val_k;
    spec.shift = s->shift;
    spec.augment = s->augment;

    /* Freezing and learning-rate multipliers as Thaw resolves them on the real graph. */
    thaw_model_config cfg = *bc;
    cfg.classes = classes;
    cfg.head_hidden = s->head_hidden;
    cfg.dropout = (float)s->dropout;
    cfg.pooling_avg = false;
    thaw_model *m = NULL;
    thaw_error err;
    thaw_error_clear(&err);
    if (thaw_model_new_uninitialized(&m, &cfg, &err) != THAW_OK) {
        g_set_error(error, THAW_EXPORT_ERROR, THAW_EXPORT_ERROR_INVALID, "%s", err.msg);
        return NULL;
    }
    char *code = NULL;
    g_autoptr(GPtrArray) frozen = g_ptr_array_new();
    if (thaw_setup_apply_freezing(s, m, error) && thaw_setup_apply_lr_mult(s, m, error)) {
        for (int i = 0; i < m->n_layers; i++) {
            const thaw_layer *l = &m->layers[i];
            if (l->n_params > 0 && !l->trainable) g_ptr_array_add(frozen, (gpointer)l->name);
            int stage = l->stage < 0 ? THAW_EXPORT_STAGES - 1 : l->stage;
            if (stage < THAW_EXPORT_STAGES && l->n_params > 0) spec.lr_mult[stage] = l->lr_mult;
        }
        g_ptr_array_add(frozen, NULL);
        spec.freeze_base = false; /* the explicit list says it all */
        spec.frozen = (const char *const *)frozen->pdata;
        spec.preset = s->preset;
        spec.base_training = s->base_training;
        thaw_setup_optimizer(s, &spec.opt);
        spec.epochs = s->epochs;
        spec.batch = s->batch;
        spec.unfreeze_epoch = s->unfreeze_epoch;
        spec.unfreeze_lr = (float)thaw_setup_phase2_lr(s);
        spec.seed = s->seed;
        code = thaw_export_code(&spec, fw, error);
    }
    thaw_model_free(m);
    return code;
}
