/* A fine-tune setup: everything one transfer-learning run needs, as one
 * struct, one INI file (GKeyFile) and one set of command-line options.
 *
 * Every setting is described once, in the option table (setup.c,
 * thaw_setup_options()): its section, key, type, default and one-line help.
 * The setup file, `--key value` on the command line, thaw_setup_new()'s
 * defaults, the --help text and the reference documentation all come from
 * that table, so they cannot disagree.
 *
 * File format (a complete file is what thaw_setup_to_data() writes):
 *
 *   [meta]       name, description                  (one line each, for choosers)
 *   [model]      model, arch, head_hidden, dropout
 *   [data]       dataset, val_dataset, k, val_k, data_seed, shift, augment
 *   [freeze]     base, up_to, unfreeze_last, freeze, unfreeze, bn_only
 *   [semantics]  preset, base_training, bn_momentum
 *   [train]      optimizer, lr, momentum, nesterov, weight_decay, epochs, batch,
 *                lr_mult, unfreeze_epoch, unfreeze_layers, unfreeze_lr, seed,
 *                feature_cache
 *
 * A file need not be complete: keys it leaves out keep their current value.
 * Unknown sections and keys are errors (with near-match suggestions). Each
 * value is checked as it is read; thaw_setup_validate() adds the checks that
 * span several options, once the file and the command line are both in.
 *
 * Relative `model`, `dataset` and `val_dataset` paths in a file are taken
 * relative to the file's directory (on the command line, to the current one).
 *
 * Freeze rules ([freeze]) apply in this fixed order, each on top of the
 * previous one (thaw_setup_apply_freezing):
 *   1. base           true: every layer of the base model (in_base) frozen, the head
 *                     trainable; false: every layer trainable.
 *   2. up_to X        every layer from the first up to and including X, in model.layers
 *                     order, frozen (Keras `for l in model.layers[:idx+1]`).
 *   3. unfreeze_last N  (N > 0) the base model's layers in base_model.layers order,
 *                     counting every layer as Keras does (the InputLayer and weightless
 *                     pads, ReLUs, adds, pools included): the last N trainable, all the
 *                     others frozen, i.e. `base.trainable = True; for l in
 *                     base.layers[:-N]: l.trainable = False`. Head layers are untouched.
 *   4. freeze LIST    matching layers frozen.
 *   5. unfreeze LIST  matching layers trainable.
 *   6. bn_only        every base layer frozen except BatchNormalization layers, which
 *                     become trainable; the head keeps what rules 1-5 gave it.
 * The InputLayer has no weights and is never changed. LIST is a comma-separated
 * list of layer names and glob patterns (`*`, `?`: conv1*,conv2_*), plus the
 * words `base` (every base layer) and `head` (every head layer). A name or
 * pattern that matches no layer is an error that lists near matches. */
#ifndef THAW_APP_SETUP_H
#define THAW_APP_SETUP_H

#include <glib.h>
#include <stddef.h>

#include "thaw.h"

G_BEGIN_DECLS

#define THAW_SETUP_ERROR (thaw_setup_error_quark())
GQuark thaw_setup_error_quark(void);

typedef enum {
    THAW_SETUP_ERROR_UNKNOWN_KEY, /* no such section/key/option (message suggests near matches) */
    THAW_SETUP_ERROR_BAD_VALUE,   /* a value that does not parse or is out of range */
    THAW_SETUP_ERROR_INVALID,     /* options that do not fit together (thaw_setup_validate) */
    THAW_SETUP_ERROR_PARSE,       /* a malformed setup file */
    THAW_SETUP_ERROR_IO,          /* a file that cannot be read or written */
    THAW_SETUP_ERROR_NO_LAYER,    /* a layer name or pattern that matches nothing */
    THAW_SETUP_ERROR_MISSING_ARG, /* `--key` at the end of the command line */
} ThawSetupError;

/* What an option holds (and how its value is parsed and written). */
typedef enum {
    THAW_SETUP_STRING,    /* free text (char *), "" = none */
    THAW_SETUP_PATH,      /* a path or a name (char *) */
    THAW_SETUP_INT,       /* int, in [min, max] */
    THAW_SETUP_SEED,      /* guint64 */
    THAW_SETUP_DOUBLE,    /* double, in the range min..max (see flags) */
    THAW_SETUP_BOOL,      /* gboolean: true|false (also yes|no, on|off, 1|0) */
    THAW_SETUP_TRISTATE,  /* thaw_tristate: true|false|none */
    THAW_SETUP_PRESET,    /* thaw_preset, by thaw_preset_from_name (not "manual") */
    THAW_SETUP_OPTIMIZER, /* thaw_opt_kind: sgd|adam */
    THAW_SETUP_ARCH,      /* char *: "" or resnet8/20/32/56/18/34/50/101/152 */
    THAW_SETUP_SHIFT,     /* thaw_transform: a domain-shift spec (thaw_transform_parse) */
    THAW_SETUP_AUGMENT,   /* thaw_transform: an augmentation spec (flip, shift:K, fill:...) */
    THAW_SETUP_LAYERS,    /* char *: comma list of layer names / patterns / base / head */
    THAW_SETUP_LAYER,     /* char *: one layer name, "" = none */
    THAW_SETUP_LR_MULT,   /* char *: stage=multiplier list, e.g. "stem=0.1,conv2=0.5,head=1" */
    THAW_SETUP_MOMENTUM,  /* double: BN momentum in [0, 1), or "default" (stored as -1) */
} ThawSetupType;

/* Range flags of THAW_SETUP_DOUBLE options. */
enum {
    THAW_SETUP_MIN_EXCLUSIVE = 1 << 0, /* value > min (else >= min) */
    THAW_SETUP_MAX_EXCLUSIVE = 1 << 1, /* value < max (else <= max) */
};

/* One row of the option table. */
typedef struct {
    const char *section; /* "train" */
    const char *key;     /* "batch": the file key; the command-line option is --batch */
    ThawSetupType type;
    const char *metavar; /* "N", "LR", "SPEC", ... for --help */
    const char *def;     /* the default, as written in a file */
    const char *help;    /* one line */
    const char *what;    /* numbers: the noun in range errors ("a batch size") */
    double min, max;     /* numbers: the accepted range */
    unsigned flags;      /* THAW_SETUP_MIN_EXCLUSIVE, THAW_SETUP_MAX_EXCLUSIVE */
    size_t offset;       /* of the field in ThawSetup */
} ThawSetupOption;

typedef struct {
    /* [meta] */
    char *name;        /* one line, shown in choosers */
    char *description; /* one line */

    /* [model] */
    char *model;     /* shipped name ("fashion-resnet20"), a .thaw path or a Keras .h5 path */
    char *arch;      /* for .h5 files: force the architecture; "" = from the file */
    int head_hidden; /* new head: Dense(head_hidden, relu) before the classifier, 0 = none */
    double dropout;  /* new head: Dropout(rate) before the classifier, 0 = none */

    /* [data] */
    char *dataset;          /* "fashion-mnist" (embedded: source 0-4, target 5-9), an IDX folder,
                               or an image folder root/<class>/<image>.png */
    char *val_dataset;      /* "" = the dataset's own validation split */
    int k;                  /* labelled training images per class */
    int val_k;              /* validation images per class, 0 = all */
    guint64 data_seed;      /* which K images are drawn */
    thaw_transform shift;   /* domain shift of the target images (shift fields only) */
    thaw_transform augment; /* augmentation in training steps (flip, shift:K, fill only) */

    /* [freeze] (rules in the order documented above) */
    gboolean base;     /* freeze the whole base model */
    char *up_to;       /* "" = none */
    int unfreeze_last; /* 0 = none */
    char *freeze;      /* LIST, "" = none */
    char *unfreeze;    /* LIST, "" = none */
    gboolean bn_only;

    /* [semantics] */
    thaw_preset preset;
    thaw_tristate base_training; /* base_model(x, training=...) */
    double bn_momentum;          /* Keras convention; < 0: the preset's default */

    /* [train] */
    thaw_opt_kind optimizer;
    double lr;
    double momentum; /* SGD */
    gboolean nesterov;
    double weight_decay;
    int epochs;
    int batch;
    char *lr_mult;          /* per stage: "stem=0.1,conv2=0.1,conv3=0.5,head=1", "" = all 1 */
    int unfreeze_epoch;     /* k > 0: after k epochs, unfreeze unfreeze_layers; 0 = never */
    char *unfreeze_layers;  /* LIST unfrozen then (e.g. "base") */
    double unfreeze_lr;     /* learning rate from then on; 0 = keep lr */
    guint64 seed;           /* the new head's initialisation, dropout, batch order */
    gboolean feature_cache; /* the frozen-prefix feature cache (engine/model/cache.h) */
} ThawSetup;

/* Where the shipped presets (*.ini) and models (*.thaw) are. */
const char *thaw_setup_presets_dir(void);
const char *thaw_setup_models_dir(void);

/* The table, in section order; *n receives its length. */
const ThawSetupOption *thaw_setup_options(size_t *n);

/* The option of "key", "section.key" or "section/key" (dashes count as
 * underscores: "val-k"); NULL if there is none. */
const ThawSetupOption *thaw_setup_find_option(const char *key);

/* A new setup with every option at its default: the embedded default scenario
 * (shipped fashion-resnet20, fashion-mnist K = 100, base frozen, keras3,
 * base_training none, SGD lr 0.05 momentum 0.9, 8 epochs, batch 32, seed 1). */
ThawSetup *thaw_setup_new(void);
ThawSetup *thaw_setup_copy(const ThawSetup *s);
void thaw_setup_free(ThawSetup *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ThawSetup, thaw_setup_free)

/* TRUE when every option has the same value. */
gboolean thaw_setup_equal(const ThawSetup *a, const ThawSetup *b);

/* Sets one option from its text form, checking it. key as for
 * thaw_setup_find_option. Errors read "--batch: 0 is not a batch size ≥ 1". */
gboolean thaw_setup_set(ThawSetup *s, const char *key, const char *value, GError **error);

/* The text form of an option's current value (as a file holds it). */
char *thaw_setup_get(const ThawSetup *s, const char *key);

/* Reads a setup file on top of s. Errors name the file, the line when it is
 * known, and the section/key. On failure s may be partly updated. */
gboolean thaw_setup_load_file(ThawSetup *s, const char *path, GError **error);

/* As thaw_setup_load_file, from text; `name` is used in messages and
 * base_dir anchors relative paths (NULL: they stay as written). */
gboolean thaw_setup_load_data(ThawSetup *s, const char *data, const char *name,
                              const char *base_dir, GError **error);

/* Consumes the setup options from argv: `--setup FILE` (loaded first,
 * wherever it appears; several are loaded in order), then every table option
 * as `--key value`, `--key=value` or `--section.key value`, in order, so that
 * they override the file. Boolean options may omit the value (`--bn-only`).
 * Everything else (argv[0], other options, operands, and all after `--`) is
 * left in argv, in order, for the caller; *argc is updated. */
gboolean thaw_setup_parse_args(ThawSetup *s, int *argc, char ***argv, GError **error);

/* Checks the options that depend on one another; messages name the option. */
gboolean thaw_setup_validate(const ThawSetup *s, GError **error);

/* A complete, commented setup file that loads back to an equal setup. */
char *thaw_setup_to_data(const ThawSetup *s);
/* Writes thaw_setup_to_data() to path atomically. */
gboolean thaw_setup_save_file(const ThawSetup *s, const char *path, GError **error);

/* The options part of --help, generated from the table. */
char *thaw_setup_help(void);
/* The table as a Markdown reference (for the presets README). */
char *thaw_setup_reference_markdown(void);

/* Sets every layer's `trainable` from the [freeze] rules (order above). */
gboolean thaw_setup_apply_freezing(const ThawSetup *s, thaw_model *m, GError **error);

/* The inverse of thaw_setup_apply_freezing for a model whose flags were set
 * by hand (the window's tree): rewrites [freeze] so that applying it gives
 * m's trainable flags exactly -- `base = true` when that is the whole story,
 * else an explicit `freeze` list of the frozen layers' names. */
void thaw_setup_set_freezing_from_model(ThawSetup *s, const thaw_model *m);

/* The second phase of the two-phase recipe: makes the layers of
 * unfreeze_layers trainable (call it when unfreeze_epoch epochs are done, and
 * switch the learning rate to thaw_setup_phase2_lr()). */
gboolean thaw_setup_apply_unfreeze(const ThawSetup *s, thaw_model *m, GError **error);
double thaw_setup_phase2_lr(const ThawSetup *s);

/* Sets every layer's lr_mult from lr_mult: stem (stage 0), conv2..conv5
 * (stages 1..4), head (every layer outside the base), base (every base
 * layer, before the stage entries); unnamed stages get 1. */
gboolean thaw_setup_apply_lr_mult(const ThawSetup *s, thaw_model *m, GError **error);

/* Fills an optimizer from [train] (lr = the phase-1 lr). */
void thaw_setup_optimizer(const ThawSetup *s, thaw_optimizer *opt);

typedef enum {
    THAW_SETUP_MODEL_THAW,     /* a .thaw checkpoint (shipped or not) */
    THAW_SETUP_MODEL_KERAS_H5, /* a Keras .h5 / .hdf5 weight file */
} ThawSetupModelFormat;

/* The file `model` names: a shipped name -> THAW_MODELS_DIR/<name>.thaw,
 * else the path itself; the file must exist. */
char *thaw_setup_resolve_model(const ThawSetup *s, ThawSetupModelFormat *format, GError **error);

typedef enum {
    THAW_SETUP_DATA_FASHION, /* the embedded Fashion-MNIST scenario */
    THAW_SETUP_DATA_IDX,     /* a folder of IDX files */
    THAW_SETUP_DATA_IMAGES,  /* a folder root/<class>/<image>.png */
} ThawSetupDataKind;

/* The folder `dataset` (or val_dataset when val) names and what it holds. */
char *thaw_setup_resolve_dataset(const ThawSetup *s, gboolean val, ThawSetupDataKind *kind,
                                 GError **error);

G_END_DECLS

#endif
