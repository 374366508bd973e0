/* A setup's Keras or PyTorch script: maps a ThawSetup (and the model it
 * builds) onto ThawExportSpec and calls thaw_export_code(). Shared by
 * `thaw-cli export-code` and the window's Export menu, so both write the
 * same script for the same setup. */
#ifndef THAW_APP_EXPORT_SETUP_H
#define THAW_APP_EXPORT_SETUP_H

#include "export-code.h"
#include "setup.h"
#include "thaw.h"

G_BEGIN_DECLS

/* The script for setup s, whose base model has architecture base_cfg (its
 * weights file: weights_path) and whose target task has `classes` classes
 * (Fashion-MNIST: 5; an image folder: its class count). Freezing and
 * learning-rate multipliers are resolved by Thaw's own rules on a
 * structure-only model, then written as an explicit list. Errors: a freeze
 * rule that matches no layer (THAW_SETUP_ERROR_NO_LAYER), combinations the
 * scripts cannot express (THAW_EXPORT_ERROR_INVALID). */
char *thaw_export_setup_code(const ThawSetup *s, const thaw_model_config *base_cfg,
                             const char *weights_path, int classes, ThawExportFramework fw,
                             GError **error);

G_END_DECLS

#endif
