/* A fine-tune setup: the option table, files, command line, freeze rules (see setup.h). */
#include "setup.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

G_DEFINE_QUARK(thaw - setup - error - quark, thaw_setup_error)

#define OFF(field) offsetof(ThawSetup, field)
#define BIG        1e300

/* ------------------------------------------------------------ the table */

/* Every option, once. The defaults are parsed by thaw_setup_new() through the
 * same code as a file's values, so a bad default fails the tests at once. */
static const ThawSetupOption options[] = {
    {"meta", "name", THAW_SETUP_STRING, "TEXT", "Default scenario",
     "one-line name shown in preset choosers", NULL, 0, 0, 0, OFF(name)},
    {"meta", "description", THAW_SETUP_STRING, "TEXT",
     "Shipped model to Fashion-MNIST 5-9, K = 100, base frozen, Keras 3 semantics",
     "one-line description", NULL, 0, 0, 0, OFF(description)},

    {"model", "model", THAW_SETUP_PATH, "NAME|FILE", "fashion-resnet20",
     "shipped model name, a .thaw file or a Keras .h5 file", NULL, 0, 0, 0, OFF(model)},
    {"model", "arch", THAW_SETUP_ARCH, "ARCH", "",
     "architecture of a Keras .h5 file (resnet50, ...); empty: from the file", NULL, 0, 0, 0,
     OFF(arch)},
    {"model", "head_hidden", THAW_SETUP_INT, "N", "0",
     "new head: Dense(N, relu) before the classifier, 0 = none", "a number of units", 0, 100000, 0,
     OFF(head_hidden)},
    {"model", "dropout", THAW_SETUP_DOUBLE, "RATE", "0.2",
     "new head: Dropout(RATE) before the classifier, 0 = none", "a dropout rate", 0, 1,
     THAW_SETUP_MAX_EXCLUSIVE, OFF(dropout)},

    {"data", "dataset", THAW_SETUP_PATH, "NAME|DIR", "fashion-mnist",
     "fashion-mnist (embedded: source 0-4, target 5-9), an IDX folder or an image folder "
     "root/<class>/*.png",
     NULL, 0, 0, 0, OFF(dataset)},
    {"data", "val_dataset", THAW_SETUP_PATH, "DIR", "",
     "validation folder; empty: the dataset's own validation split", NULL, 0, 0, 0,
     OFF(val_dataset)},
    {"data", "k", THAW_SETUP_INT, "N", "100", "labelled training images per class",
     "a number of images per class", 1, 1000000, 0, OFF(k)},
    {"data", "val_k", THAW_SETUP_INT, "N", "0", "validation images per class, 0 = all",
     "a number of images per class", 0, 1000000, 0, OFF(val_k)},
    {"data", "data_seed", THAW_SETUP_SEED, "N", "2", "seed of the draw of the K images per class",
     NULL, 0, 0, 0, OFF(data_seed)},
    {"data", "shift", THAW_SETUP_SHIFT, "SPEC", "none",
     "domain shift of the target images: invert, lift, dark:K, brightness:B, contrast:F, "
     "noise:S (comma list)",
     NULL, 0, 0, 0, OFF(shift)},
    {"data", "augment", THAW_SETUP_AUGMENT, "SPEC", "none",
     "augmentation in training steps: flip, shift:K, fill:zero|edge (comma list)", NULL, 0, 0, 0,
     OFF(augment)},

    {"freeze", "base", THAW_SETUP_BOOL, "BOOL", "true",
     "rule 1: freeze every layer of the base model (false: every layer trainable)", NULL, 0, 0, 0,
     OFF(base)},
    {"freeze", "up_to", THAW_SETUP_LAYER, "LAYER", "",
     "rule 2: freeze every layer up to and including LAYER (model.layers[:idx+1])", NULL, 0, 0, 0,
     OFF(up_to)},
    {"freeze", "unfreeze_last", THAW_SETUP_INT, "N", "0",
     "rule 3: only the last N base layers trainable (base.layers[:-N] frozen; InputLayer and "
     "weightless layers count), 0 = off",
     "a number of layers", 0, 100000, 0, OFF(unfreeze_last)},
    {"freeze", "freeze", THAW_SETUP_LAYERS, "LIST", "",
     "rule 4: freeze these layers (names, globs like conv1*,conv2_*, base, head)", NULL, 0, 0, 0,
     OFF(freeze)},
    {"freeze", "unfreeze", THAW_SETUP_LAYERS, "LIST", "",
     "rule 5: make these layers trainable (same syntax)", NULL, 0, 0, 0, OFF(unfreeze)},
    {"freeze", "bn_only", THAW_SETUP_BOOL, "BOOL", "false",
     "rule 6: freeze every base layer but the BatchNormalization ones (head unchanged)", NULL, 0, 0,
     0, OFF(bn_only)},

    {"semantics", "preset", THAW_SETUP_PRESET, "NAME", "keras3",
     "framework semantics: keras3, tf-keras2, keras-2.1.2, keras-2.1.3, keras-2.2, pytorch, "
     "pytorch-bn-eval, lightning-no-train-bn, timm-frozen-bn, fastai-train-bn",
     NULL, 0, 0, 0, OFF(preset)},
    {"semantics", "base_training", THAW_SETUP_TRISTATE, "true|false|none", "none",
     "base_model(x, training=VALUE), the sub-model override", NULL, 0, 0, 0, OFF(base_training)},
    {"semantics", "bn_momentum", THAW_SETUP_MOMENTUM, "M|default", "default",
     "BatchNorm momentum, Keras convention (0.99), or default: the preset's", "a BN momentum", 0, 1,
     THAW_SETUP_MAX_EXCLUSIVE, OFF(bn_momentum)},

    {"train", "optimizer", THAW_SETUP_OPTIMIZER, "sgd|adam", "sgd", "optimizer", NULL, 0, 0, 0,
     OFF(optimizer)},
    {"train", "lr", THAW_SETUP_DOUBLE, "LR", "0.05", "learning rate", "a learning rate", 0, 10,
     THAW_SETUP_MIN_EXCLUSIVE, OFF(lr)},
    {"train", "momentum", THAW_SETUP_DOUBLE, "M", "0.9", "SGD momentum", "a momentum", 0, 1,
     THAW_SETUP_MAX_EXCLUSIVE, OFF(momentum)},
    {"train", "nesterov", THAW_SETUP_BOOL, "BOOL", "false", "SGD Nesterov momentum", NULL, 0, 0, 0,
     OFF(nesterov)},
    {"train", "weight_decay", THAW_SETUP_DOUBLE, "WD", "0", "L2 weight decay added to the gradient",
     "a weight decay", 0, 1, 0, OFF(weight_decay)},
    {"train", "epochs", THAW_SETUP_INT, "N", "8", "training epochs (both phases together)",
     "a number of epochs", 1, 100000, 0, OFF(epochs)},
    {"train", "batch", THAW_SETUP_INT, "N", "32", "batch size", "a batch size", 1, 65536, 0,
     OFF(batch)},
    {"train", "lr_mult", THAW_SETUP_LR_MULT, "LIST", "",
     "per-stage lr multipliers: stem=0.1,conv2=0.1,conv3=0.5,head=1 (also base=); empty: all 1",
     NULL, 0, 0, 0, OFF(lr_mult)},
    {"train", "unfreeze_epoch", THAW_SETUP_INT, "K", "0",
     "two-phase recipe: after K epochs unfreeze unfreeze_layers, 0 = never", "an epoch", 0, 100000,
     0, OFF(unfreeze_epoch)},
    {"train", "unfreeze_layers", THAW_SETUP_LAYERS, "LIST", "",
     "what to unfreeze after unfreeze_epoch: base, or a layer LIST", NULL, 0, 0, 0,
     OFF(unfreeze_layers)},
    {"train", "unfreeze_lr", THAW_SETUP_DOUBLE, "LR", "0",
     "learning rate after unfreeze_epoch (Keras guide: 1e-5), 0 = keep lr", "a learning rate", 0,
     10, 0, OFF(unfreeze_lr)},
    {"train", "seed", THAW_SETUP_SEED, "N", "1", "seed of the new head, dropout and batch order",
     NULL, 0, 0, 0, OFF(seed)},
    {"train", "feature_cache", THAW_SETUP_BOOL, "BOOL", "true",
     "compute a frozen, deterministic prefix's output once per image and train the rest on it",
     NULL, 0, 0, 0, OFF(feature_cache)},
};

static const char *const sections[] = {"meta", "model", "data", "freeze", "semantics", "train"};

static const char *const archs[] = {"resnet8",  "resnet20", "resnet32",  "resnet56", "resnet18",
                                    "resnet34", "resnet50", "resnet101", "resnet152"};

const char *thaw_setup_presets_dir(void)
{
    return THAW_PRESETS_DIR;
}

const char *thaw_setup_models_dir(void)
{
    return THAW_MODELS_DIR;
}

const ThawSetupOption *thaw_setup_options(size_t *n)
{
    if (n) *n = G_N_ELEMENTS(options);
    return options;
}

#define FIELD(s, o, type)  ((type *)(void *)((char *)(s) + (o)->offset))
#define CFIELD(s, o, type) ((const type *)(const void *)((const char *)(s) + (o)->offset))

static gboolean is_string_type(ThawSetupType t)
{
    return t == THAW_SETUP_STRING || t == THAW_SETUP_PATH || t == THAW_SETUP_ARCH ||
           t == THAW_SETUP_LAYERS || t == THAW_SETUP_LAYER || t == THAW_SETUP_LR_MULT;
}

/* ------------------------------------------------------------ near matches */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    g_autofree size_t *row = g_new(size_t, lb + 1);
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

typedef struct {
    const char *name;
    size_t dist;
    size_t order;
} candidate;

static int candidate_cmp(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* "; did you mean a, b?" for the (up to 3) names closest to word, or "". */
static char *suggest(const char *word, const char *const *names, size_t n)
{
    g_autofree candidate *c = g_new(candidate, n ? n : 1);
    size_t m = 0;
    size_t limit = MAX(2, strlen(word) / 3);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, names[i]);
        /* a prefix or a substring is a near match too ("conv5" -> conv5_block1_...) */
        if (d > limit && !(strlen(word) >= 3 && strstr(names[i], word))) continue;
        c[m++] = (candidate){names[i], d, i};
    }
    if (m == 0) return g_strdup("");
    qsort(c, m, sizeof *c, candidate_cmp);
    /* the closest, and for long names those one edit further */
    size_t keep = c[0].dist + (strlen(word) >= 8 ? 1 : 0);
    GString *s = g_string_new("; did you mean ");
    for (size_t i = 0; i < m && i < 3 && c[i].dist <= keep; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", c[i].name);
    g_string_append_c(s, '?');
    return g_string_free(s, FALSE);
}

static char *suggest_option(const char *key)
{
    const char *names[G_N_ELEMENTS(options)];
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) names[i] = options[i].key;
    return suggest(key, names, G_N_ELEMENTS(options));
}

/* ------------------------------------------------------------ lookup */

static char *normalize_key(const char *key)
{
    char *k = g_strdup(key);
    for (char *p = k; *p; p++)
        if (*p == '-')
            *p = '_';
        else if (*p == '/')
            *p = '.';
    return k;
}

const ThawSetupOption *thaw_setup_find_option(const char *key)
{
    g_autofree char *k = normalize_key(key);
    const char *dot = strchr(k, '.');
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        const ThawSetupOption *o = &options[i];
        if (dot) {
            size_t sl = (size_t)(dot - k);
            if (strlen(o->section) == sl && strncmp(o->section, k, sl) == 0 &&
                strcmp(o->key, dot + 1) == 0)
                return o;
        } else if (strcmp(o->key, k) == 0) {
            return o;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ values */

static gboolean parse_bool(const char *v, gboolean *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(v, yes[i]) == 0) return (*out = TRUE), TRUE;
        if (g_ascii_strcasecmp(v, no[i]) == 0) return (*out = FALSE), TRUE;
    }
    return FALSE;
}

/* The bound v breaks ("≥ 1", "≤ 65536") for integers, the interval for reals. */
static char *range_text(const ThawSetupOption *o, double v)
{
    char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(lo, sizeof lo, "%.15g", o->min);
    g_ascii_formatd(hi, sizeof hi, "%.15g", o->max);
    if (o->type == THAW_SETUP_INT)
        return v < o->min ? g_strdup_printf("≥ %s", lo) : g_strdup_printf("≤ %s", hi);
    return g_strdup_printf("in %c%s, %s%c", (o->flags & THAW_SETUP_MIN_EXCLUSIVE) ? '(' : '[', lo,
                           hi, (o->flags & THAW_SETUP_MAX_EXCLUSIVE) ? ')' : ']');
}

static gboolean double_in_range(const ThawSetupOption *o, double v)
{
    if (!isfinite(v)) return FALSE;
    if ((o->flags & THAW_SETUP_MIN_EXCLUSIVE) ? v <= o->min : v < o->min) return FALSE;
    if ((o->flags & THAW_SETUP_MAX_EXCLUSIVE) ? v >= o->max : v > o->max) return FALSE;
    return TRUE;
}

static gboolean parse_double_text(const char *v, double *out)
{
    char *end = NULL;
    errno = 0;
    double d = g_ascii_strtod(v, &end);
    if (end == v || *end != '\0' || errno == ERANGE) return FALSE;
    *out = d;
    return TRUE;
}

/* Checks a LIST: comma-separated, non-empty items of [A-Za-z0-9_.*?-]. */
static char *check_layer_list(const char *v, gboolean single)
{
    if (!*v) return NULL;
    g_auto(GStrv) items = g_strsplit(v, ",", -1);
    if (single && g_strv_length(items) > 1) return g_strdup_printf("'%s' is not one layer name", v);
    for (char **it = items; *it; it++) {
        g_autofree char *item = g_strstrip(g_strdup(*it));
        if (!*item) return g_strdup_printf("'%s' has an empty item", v);
        for (const char *p = item; *p; p++) {
            gboolean ok =
                g_ascii_isalnum(*p) || strchr("_.-/:", *p) || (!single && (*p == '*' || *p == '?'));
            if (!ok)
                return g_strdup_printf("'%s': '%c' cannot be part of a layer %s", item, *p,
                                       single ? "name" : "name or pattern");
        }
    }
    return NULL;
}

typedef struct {
    const char *name;
    int stage; /* -1 head, -2 base */
} stage_name;

static const stage_name stage_names[] = {
    {"stem", 0}, {"conv2", 1}, {"conv3", 2}, {"conv4", 3}, {"conv5", 4}, {"head", -1}, {"base", -2},
};

/* Parses "stem=0.1,conv2=0.5,head=1" into mult[stage + 2] (NaN = not given). */
static char *parse_lr_mult(const char *v, double mult[G_N_ELEMENTS(stage_names)])
{
    for (size_t i = 0; i < G_N_ELEMENTS(stage_names); i++) mult[i] = NAN;
    if (!*v) return NULL;
    g_auto(GStrv) items = g_strsplit(v, ",", -1);
    for (char **it = items; *it; it++) {
        g_autofree char *item = g_strstrip(g_strdup(*it));
        char *eq = strchr(item, '=');
        if (!eq) return g_strdup_printf("'%s' is not STAGE=MULTIPLIER", item);
        *eq = '\0';
        g_strstrip(item);
        char *val = g_strstrip(eq + 1);
        size_t si = G_N_ELEMENTS(stage_names);
        for (size_t i = 0; i < G_N_ELEMENTS(stage_names); i++)
            if (strcmp(stage_names[i].name, item) == 0) si = i;
        if (si == G_N_ELEMENTS(stage_names)) {
            const char *names[G_N_ELEMENTS(stage_names)];
            for (size_t i = 0; i < G_N_ELEMENTS(stage_names); i++) names[i] = stage_names[i].name;
            g_autofree char *hint = suggest(item, names, G_N_ELEMENTS(names));
            return g_strdup_printf("unknown stage '%s' (stages: stem, conv2..conv5, head, "
                                   "base)%s",
                                   item, hint);
        }
        double d;
        if (!parse_double_text(val, &d) || !isfinite(d) || d < 0 || d > 1000)
            return g_strdup_printf("%s: '%s' is not a multiplier in [0, 1000]", item, val);
        if (!isnan(mult[si])) return g_strdup_printf("stage '%s' is given twice", item);
        mult[si] = d;
    }
    return NULL;
}

static char *preset_names(void)
{
    GString *s = g_string_new(NULL);
    for (int p = 0; p < THAW_PRESET_COUNT; p++) {
        if (p == THAW_PRESET_MANUAL) continue;
        g_string_append_printf(s, "%s%s", s->len ? ", " : "", thaw_preset_get(p)->name);
    }
    return g_string_free(s, FALSE);
}

/* Parses v for option o into s. Returns NULL, or the problem (without the
 * option's name). base_dir: anchors relative paths (NULL: none). */
static char *parse_value(ThawSetup *s, const ThawSetupOption *o, const char *value,
                         const char *base_dir)
{
    /* free text keeps its spaces (files escape them); everything else is trimmed */
    g_autofree char *v =
        o->type == THAW_SETUP_STRING ? g_strdup(value) : g_strstrip(g_strdup(value));
    if (strchr(v, '\n') || strchr(v, '\r')) return g_strdup("the value must be one line");
    switch (o->type) {
    case THAW_SETUP_STRING:
    case THAW_SETUP_PATH: {
        if (o->type == THAW_SETUP_PATH && strcmp(o->key, "model") == 0 && !*v)
            return g_strdup("a model name or file is required");
        if (o->type == THAW_SETUP_PATH && strcmp(o->key, "dataset") == 0 && !*v)
            return g_strdup("a dataset name or folder is required");
        char **f = FIELD(s, o, char *);
        char *nv = NULL;
        /* Relative paths in files are relative to the file; names stay names. */
        gboolean is_path = o->type == THAW_SETUP_PATH && *v && !g_path_is_absolute(v) && base_dir &&
                           (strcmp(o->key, "model") == 0
                                ? (strchr(v, '/') || g_str_has_suffix(v, ".thaw") ||
                                   g_str_has_suffix(v, ".h5") || g_str_has_suffix(v, ".hdf5"))
                                : strcmp(v, "fashion-mnist") != 0);
        nv = is_path ? g_build_filename(base_dir, v, NULL) : g_strdup(v);
        g_free(*f);
        *f = nv;
        return NULL;
    }
    case THAW_SETUP_ARCH: {
        gboolean ok = !*v;
        for (size_t i = 0; i < G_N_ELEMENTS(archs); i++) ok = ok || strcmp(v, archs[i]) == 0;
        if (!ok) {
            g_autofree char *hint = suggest(v, archs, G_N_ELEMENTS(archs));
            return g_strdup_printf("unknown architecture '%s' (resnet8/20/32/56, "
                                   "resnet18/34/50/101/152)%s",
                                   v, hint);
        }
        break;
    }
    case THAW_SETUP_INT: {
        gint64 n;
        if (!g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, &n, NULL))
            return g_strdup_printf("'%s' is not a whole number", v);
        if ((double)n < o->min || (double)n > o->max) {
            g_autofree char *r = range_text(o, (double)n);
            return g_strdup_printf("%s is not %s %s", v, o->what, r);
        }
        *FIELD(s, o, int) = (int)n;
        return NULL;
    }
    case THAW_SETUP_SEED: {
        guint64 n;
        if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &n, NULL))
            return g_strdup_printf("'%s' is not a seed (a whole number ≥ 0)", v);
        *FIELD(s, o, guint64) = n;
        return NULL;
    }
    case THAW_SETUP_MOMENTUM:
        if (g_ascii_strcasecmp(v, "default") == 0 || !*v) {
            *FIELD(s, o, double) = -1;
            return NULL;
        }
        /* fall through */
    case THAW_SETUP_DOUBLE: {
        double d;
        if (!parse_double_text(v, &d)) return g_strdup_printf("'%s' is not a number", v);
        if (!double_in_range(o, d)) {
            g_autofree char *r = range_text(o, 0);
            return g_strdup_printf("%s is not %s %s", v, o->what, r);
        }
        *FIELD(s, o, double) = d;
        return NULL;
    }
    case THAW_SETUP_BOOL:
        if (!parse_bool(v, FIELD(s, o, gboolean)))
            return g_strdup_printf("'%s' is not true or false", v);
        return NULL;
    case THAW_SETUP_TRISTATE: {
        gboolean b;
        if (g_ascii_strcasecmp(v, "none") == 0 || g_ascii_strcasecmp(v, "unset") == 0)
            *FIELD(s, o, thaw_tristate) = THAW_UNSET;
        else if (parse_bool(v, &b))
            *FIELD(s, o, thaw_tristate) = b ? THAW_TRUE : THAW_FALSE;
        else
            return g_strdup_printf("'%s' is not true, false or none", v);
        return NULL;
    }
    case THAW_SETUP_PRESET: {
        thaw_preset p;
        if (thaw_preset_from_name(v, &p) != 0 || p == THAW_PRESET_MANUAL) {
            const char *names[THAW_PRESET_COUNT];
            size_t n = 0;
            for (int i = 0; i < THAW_PRESET_COUNT; i++)
                if (i != THAW_PRESET_MANUAL) names[n++] = thaw_preset_get(i)->name;
            g_autofree char *hint = suggest(v, names, n);
            g_autofree char *all = preset_names();
            if (*hint) return g_strdup_printf("unknown preset '%s'%s", v, hint);
            return g_strdup_printf("unknown preset '%s' (presets: %s)", v, all);
        }
        *FIELD(s, o, thaw_preset) = p;
        return NULL;
    }
    case THAW_SETUP_OPTIMIZER:
        if (g_ascii_strcasecmp(v, "sgd") == 0)
            *FIELD(s, o, thaw_opt_kind) = THAW_OPT_SGD;
        else if (g_ascii_strcasecmp(v, "adam") == 0)
            *FIELD(s, o, thaw_opt_kind) = THAW_OPT_ADAM;
        else
            return g_strdup_printf("'%s' is not sgd or adam", v);
        return NULL;
    case THAW_SETUP_SHIFT:
    case THAW_SETUP_AUGMENT: {
        thaw_transform t = {0};
        thaw_error err;
        if (thaw_transform_parse(&t, *v ? v : "none", &err) != THAW_OK) return g_strdup(err.msg);
        if (o->type == THAW_SETUP_SHIFT && thaw_transform_has_augment(&t))
            return g_strdup_printf("'%s' is augmentation, not a domain shift; use augment", v);
        if (o->type == THAW_SETUP_AUGMENT && thaw_transform_has_shift(&t))
            return g_strdup_printf("'%s' is a domain shift, not augmentation; use shift", v);
        *FIELD(s, o, thaw_transform) = t;
        return NULL;
    }
    case THAW_SETUP_LAYERS:
    case THAW_SETUP_LAYER: {
        char *problem = check_layer_list(v, o->type == THAW_SETUP_LAYER);
        if (problem) return problem;
        break;
    }
    case THAW_SETUP_LR_MULT: {
        double mult[G_N_ELEMENTS(stage_names)];
        char *problem = parse_lr_mult(v, mult);
        if (problem) return problem;
        break;
    }
    }
    /* the validated string types */
    char **f = FIELD(s, o, char *);
    g_free(*f);
    *f = g_strdup(v);
    return NULL;
}

static char *format_double(double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (int prec = 6; prec <= 17; prec++) {
        char fmt[8];
        g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
        g_ascii_formatd(buf, sizeof buf, fmt, d);
        if (g_ascii_strtod(buf, NULL) == d) break;
    }
    return g_strdup(buf);
}

static char *value_text(const ThawSetup *s, const ThawSetupOption *o)
{
    if (is_string_type(o->type)) {
        const char *v = *CFIELD(s, o, char *);
        return g_strdup(v ? v : "");
    }
    switch (o->type) {
    case THAW_SETUP_INT:
        return g_strdup_printf("%d", *CFIELD(s, o, int));
    case THAW_SETUP_SEED:
        return g_strdup_printf("%" G_GUINT64_FORMAT, *CFIELD(s, o, guint64));
    case THAW_SETUP_MOMENTUM:
        if (*CFIELD(s, o, double) < 0) return g_strdup("default");
        /* fall through */
    case THAW_SETUP_DOUBLE:
        return format_double(*CFIELD(s, o, double));
    case THAW_SETUP_BOOL:
        return g_strdup(*CFIELD(s, o, gboolean) ? "true" : "false");
    case THAW_SETUP_TRISTATE: {
        thaw_tristate t = *CFIELD(s, o, thaw_tristate);
        return g_strdup(t == THAW_UNSET ? "none" : t == THAW_TRUE ? "true" : "false");
    }
    case THAW_SETUP_PRESET:
        return g_strdup(thaw_preset_get(*CFIELD(s, o, thaw_preset))->name);
    case THAW_SETUP_OPTIMIZER:
        return g_strdup(*CFIELD(s, o, thaw_opt_kind) == THAW_OPT_ADAM ? "adam" : "sgd");
    case THAW_SETUP_SHIFT:
    case THAW_SETUP_AUGMENT: {
        char buf[256];
        thaw_transform_describe(CFIELD(s, o, thaw_transform), buf, sizeof buf);
        return g_strdup(buf);
    }
    default:
        g_assert_not_reached();
    }
}

/* ------------------------------------------------------------ life cycle */

ThawSetup *thaw_setup_new(void)
{
    ThawSetup *s = g_new0(ThawSetup, 1);
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        char *problem = parse_value(s, &options[i], options[i].def, NULL);
        if (problem) g_error("setup: bad default of %s: %s", options[i].key, problem);
    }
    return s;
}

void thaw_setup_free(ThawSetup *s)
{
    if (!s) return;
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++)
        if (is_string_type(options[i].type)) g_free(*FIELD(s, &options[i], char *));
    g_free(s);
}

ThawSetup *thaw_setup_copy(const ThawSetup *s)
{
    ThawSetup *c = g_new(ThawSetup, 1);
    *c = *s;
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++)
        if (is_string_type(options[i].type)) {
            char **f = FIELD(c, &options[i], char *);
            *f = g_strdup(*f);
        }
    return c;
}

gboolean thaw_setup_equal(const ThawSetup *a, const ThawSetup *b)
{
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        g_autofree char *va = value_text(a, &options[i]);
        g_autofree char *vb = value_text(b, &options[i]);
        if (strcmp(va, vb) != 0) return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------ set / get */

static gboolean unknown_option(const char *key, const char *prefix, GError **error)
{
    g_autofree char *k = normalize_key(key);
    const char *dot = strrchr(k, '.');
    g_autofree char *hint = suggest_option(dot ? dot + 1 : k);
    g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_UNKNOWN_KEY, "%sunknown option '%s'%s",
                prefix, key, hint);
    return FALSE;
}

gboolean thaw_setup_set(ThawSetup *s, const char *key, const char *value, GError **error)
{
    g_return_val_if_fail(s && key && value, FALSE);
    const ThawSetupOption *o = thaw_setup_find_option(key);
    if (!o) return unknown_option(key, "", error);
    g_autofree char *problem = parse_value(s, o, value, NULL);
    if (problem) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_BAD_VALUE, "--%s: %s", o->key,
                    problem);
        return FALSE;
    }
    return TRUE;
}

char *thaw_setup_get(const ThawSetup *s, const char *key)
{
    const ThawSetupOption *o = thaw_setup_find_option(key);
    return o ? value_text(s, o) : NULL;
}

/* ------------------------------------------------------------ files */

/* The 1-based line of [section] key = ... in data, or 0. */
static int find_line(const char *data, const char *section, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    gboolean in = section == NULL;
    for (int i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        if (*l == '[') {
            char *end = strchr(l, ']');
            if (end) *end = '\0';
            in = section && strcmp(l + 1, section) == 0;
            if (in && !key) return i + 1;
            continue;
        }
        if (!in || !key || *l == '#') continue;
        size_t kl = strlen(key);
        if (strncmp(l, key, kl) == 0 &&
            (l[kl] == '=' || l[kl] == ' ' || l[kl] == '\t' || l[kl] == '['))
            return i + 1;
    }
    return 0;
}

static char *where(const char *name, const char *data, const char *section, const char *key)
{
    int line = find_line(data, section, key);
    if (line > 0) return g_strdup_printf("%s:%d: ", name, line);
    return g_strdup_printf("%s: ", name);
}

gboolean thaw_setup_load_data(ThawSetup *s, const char *data, const char *name,
                              const char *base_dir, GError **error)
{
    g_return_val_if_fail(s && data, FALSE);
    if (!name) name = "setup";
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &local)) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_PARSE, "%s: not a setup file: %s",
                    name, local->message);
        return FALSE;
    }
    gsize n_groups = 0;
    g_auto(GStrv) groups = g_key_file_get_groups(kf, &n_groups);
    for (gsize g = 0; g < n_groups; g++) {
        gboolean known = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(sections); i++)
            known = known || strcmp(groups[g], sections[i]) == 0;
        if (!known) {
            g_autofree char *at = where(name, data, groups[g], NULL);
            g_autofree char *hint = suggest(groups[g], sections, G_N_ELEMENTS(sections));
            g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_UNKNOWN_KEY,
                        "%sunknown section [%s]%s", at, groups[g], hint);
            return FALSE;
        }
        gsize n_keys = 0;
        g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[g], &n_keys, NULL);
        for (gsize k = 0; k < n_keys; k++) {
            const ThawSetupOption *o = NULL;
            for (size_t i = 0; i < G_N_ELEMENTS(options); i++)
                if (strcmp(options[i].section, groups[g]) == 0 &&
                    strcmp(options[i].key, keys[k]) == 0)
                    o = &options[i];
            g_autofree char *at = where(name, data, groups[g], keys[k]);
            if (!o) {
                /* suggest keys of this section first, then any option */
                const char *names[G_N_ELEMENTS(options)];
                size_t nn = 0;
                for (size_t i = 0; i < G_N_ELEMENTS(options); i++)
                    if (strcmp(options[i].section, groups[g]) == 0) names[nn++] = options[i].key;
                g_autofree char *hint = suggest(keys[k], names, nn);
                const ThawSetupOption *elsewhere = thaw_setup_find_option(keys[k]);
                if (elsewhere)
                    g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_UNKNOWN_KEY,
                                "%sunknown key '%s' in [%s]; it belongs in [%s]", at, keys[k],
                                groups[g], elsewhere->section);
                else
                    g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_UNKNOWN_KEY,
                                "%sunknown key '%s' in [%s]%s", at, keys[k], groups[g], hint);
                return FALSE;
            }
            g_autofree char *v = g_key_file_get_string(kf, groups[g], keys[k], &local);
            if (!v) {
                g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_PARSE, "%s[%s] %s: %s", at,
                            groups[g], keys[k], local->message);
                return FALSE;
            }
            g_autofree char *problem = parse_value(s, o, v, base_dir);
            if (problem) {
                g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_BAD_VALUE, "%s[%s] %s: %s",
                            at, groups[g], keys[k], problem);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean thaw_setup_load_file(ThawSetup *s, const char *path, GError **error)
{
    g_return_val_if_fail(s && path, FALSE);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_IO, "cannot read setup '%s': %s",
                    path, local->message);
        return FALSE;
    }
    if (strlen(data) != len) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_PARSE,
                    "%s: not a setup file (it contains NUL bytes)", path);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    return thaw_setup_load_data(s, data, path, dir, error);
}

/* GKeyFile escaping of a one-line value (leading and trailing spaces as \\s). */
static void append_escaped(GString *out, const char *v)
{
    size_t len = strlen(v), tail = len;
    while (tail > 0 && v[tail - 1] == ' ') tail--;
    for (const char *p = v; *p; p++) {
        if (*p == ' ' && (p == v || (size_t)(p - v) >= tail))
            g_string_append(out, "\\s");
        else if (*p == '\\')
            g_string_append(out, "\\\\");
        else if (*p == '\t')
            g_string_append(out, "\\t");
        else
            g_string_append_c(out, *p);
    }
}

char *thaw_setup_to_data(const ThawSetup *s)
{
    GString *out = g_string_new("# Thaw fine-tune setup. Every key is also a command-line option "
                                "(--key value),\n# which overrides the file. Freeze rules apply "
                                "in the order base, up_to,\n# unfreeze_last, freeze, unfreeze, "
                                "bn_only.\n");
    const char *cur = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        const ThawSetupOption *o = &options[i];
        if (!cur || strcmp(cur, o->section) != 0) {
            g_string_append_printf(out, "\n[%s]\n", o->section);
            cur = o->section;
        }
        g_autofree char *v = value_text(s, o);
        g_string_append_printf(out, "# %s (default: %s)\n%s = ", o->help, *o->def ? o->def : "none",
                               o->key);
        append_escaped(out, v);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

gboolean thaw_setup_save_file(const ThawSetup *s, const char *path, GError **error)
{
    g_autofree char *data = thaw_setup_to_data(s);
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents(path, data, -1, &local)) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_IO, "cannot write setup '%s': %s",
                    path, local->message);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------ command line */

gboolean thaw_setup_parse_args(ThawSetup *s, int *argc, char ***argv, GError **error)
{
    g_return_val_if_fail(s && argc && argv, FALSE);
    int n = *argc;
    char **a = *argv;
    g_autofree gboolean *used = g_new0(gboolean, n > 0 ? n : 1);
    int end = n; /* index of "--" */
    for (int i = 1; i < n; i++)
        if (strcmp(a[i], "--") == 0) {
            end = i;
            break;
        }

    /* pass 1: --setup FILE, in order */
    for (int i = 1; i < end; i++) {
        const char *file = NULL;
        if (strcmp(a[i], "--setup") == 0) {
            if (i + 1 >= end) {
                g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_MISSING_ARG,
                            "--setup: a setup file is required");
                return FALSE;
            }
            used[i] = used[i + 1] = TRUE;
            file = a[++i];
        } else if (g_str_has_prefix(a[i], "--setup=")) {
            used[i] = TRUE;
            file = a[i] + strlen("--setup=");
        }
        if (file && !thaw_setup_load_file(s, file, error)) return FALSE;
    }

    /* pass 2: the options, in order */
    for (int i = 1; i < end; i++) {
        if (used[i] || !g_str_has_prefix(a[i], "--") || a[i][2] == '\0') continue;
        g_autofree char *name = g_strdup(a[i] + 2);
        char *eq = strchr(name, '=');
        if (eq) *eq = '\0';
        const ThawSetupOption *o = thaw_setup_find_option(name);
        if (!o) continue; /* the caller's */
        const char *value;
        used[i] = TRUE;
        if (eq) {
            value = eq + 1;
        } else if (o->type == THAW_SETUP_BOOL) {
            gboolean b;
            if (i + 1 < end && parse_bool(a[i + 1], &b)) {
                value = a[++i];
                used[i] = TRUE;
            } else {
                value = "true";
            }
        } else {
            if (i + 1 >= end) {
                g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_MISSING_ARG,
                            "--%s: a value is required (%s)", o->key, o->metavar);
                return FALSE;
            }
            value = a[++i];
            used[i] = TRUE;
        }
        g_autofree char *problem = parse_value(s, o, value, NULL);
        if (problem) {
            g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_BAD_VALUE, "--%s: %s", o->key,
                        problem);
            return FALSE;
        }
    }

    int m = 0;
    for (int i = 0; i < n; i++)
        if (!used[i]) a[m++] = a[i];
    if (m < n) a[m] = NULL;
    *argc = m;
    return TRUE;
}

/* ------------------------------------------------------------ validation */

static gboolean invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_INVALID, msg);
    return FALSE;
}

gboolean thaw_setup_validate(const ThawSetup *s, GError **error)
{
    g_return_val_if_fail(s, FALSE);
    /* Every single value first (the struct may have been filled by hand). */
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        const ThawSetupOption *o = &options[i];
        g_autofree char *v = value_text(s, o);
        g_autoptr(ThawSetup) scratch = thaw_setup_copy(s);
        g_autofree char *problem = NULL;
        if (o->type == THAW_SETUP_DOUBLE && !double_in_range(o, *CFIELD(s, o, double))) {
            g_autofree char *r = range_text(o, 0);
            problem = g_strdup_printf("%s is not %s %s", v, o->what, r);
        } else if (o->type == THAW_SETUP_MOMENTUM && *CFIELD(s, o, double) >= 0 &&
                   !double_in_range(o, *CFIELD(s, o, double))) {
            g_autofree char *r = range_text(o, 0);
            problem = g_strdup_printf("%s is not %s %s", v, o->what, r);
        } else if (o->type == THAW_SETUP_PRESET &&
                   ((int)s->preset < 0 || s->preset >= THAW_PRESET_MANUAL)) {
            problem = g_strdup_printf("%d is not a preset", (int)s->preset);
        } else {
            problem = parse_value(scratch, o, v, NULL);
        }
        if (problem) return invalid(error, "--%s: %s", o->key, problem);
    }
    if (s->unfreeze_epoch > 0) {
        if (s->unfreeze_epoch >= s->epochs)
            return invalid(error,
                           "--unfreeze_epoch: %d leaves no epoch to train after unfreezing "
                           "(--epochs is %d; it must be < epochs)",
                           s->unfreeze_epoch, s->epochs);
        if (!*s->unfreeze_layers)
            return invalid(error,
                           "--unfreeze_layers: say what to unfreeze at epoch %d (e.g. "
                           "base)",
                           s->unfreeze_epoch);
    } else if (*s->unfreeze_layers) {
        return invalid(error, "--unfreeze_layers: '%s' is unused without --unfreeze_epoch K",
                       s->unfreeze_layers);
    } else if (s->unfreeze_lr > 0) {
        return invalid(error, "--unfreeze_lr: unused without --unfreeze_epoch K");
    }
    if (s->nesterov && (s->optimizer != THAW_OPT_SGD || s->momentum <= 0))
        return invalid(error, "--nesterov: needs the sgd optimizer with a momentum > 0");
    return TRUE;
}

/* ------------------------------------------------------------ help and docs */

static void wrap(GString *out, const char *text, size_t indent, size_t width)
{
    size_t col = indent;
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    for (char **w = words; *w; w++) {
        size_t len = g_utf8_strlen(*w, -1);
        if (col > indent && col + 1 + len > width) {
            g_string_append_c(out, '\n');
            for (size_t i = 0; i < indent; i++) g_string_append_c(out, ' ');
            col = indent;
        } else if (col > indent) {
            g_string_append_c(out, ' ');
            col++;
        }
        g_string_append(out, *w);
        col += len;
    }
}

char *thaw_setup_help(void)
{
    GString *out = g_string_new("Setup options (also keys of a --setup FILE; the command line "
                                "overrides the file):\n"
                                "  --setup FILE                load a setup file first\n");
    const char *cur = NULL;
    const size_t indent = 30;
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        const ThawSetupOption *o = &options[i];
        if (!cur || strcmp(cur, o->section) != 0) {
            g_string_append_printf(out, "[%s]\n", o->section);
            cur = o->section;
        }
        g_autofree char *head = g_strdup_printf("  --%s %s", o->key, o->metavar);
        g_string_append(out, head);
        size_t col = g_utf8_strlen(head, -1);
        if (col + 1 > indent) {
            g_string_append_c(out, '\n');
            col = 0;
        }
        for (; col < indent; col++) g_string_append_c(out, ' ');
        g_autofree char *text =
            strcmp(o->section, "meta") == 0
                ? g_strdup(o->help)
                : g_strdup_printf("%s (default %s)", o->help, *o->def ? o->def : "none");
        wrap(out, text, indent, 100);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

static const char *type_name(ThawSetupType t)
{
    switch (t) {
    case THAW_SETUP_STRING:
        return "text";
    case THAW_SETUP_PATH:
        return "name or path";
    case THAW_SETUP_INT:
        return "integer";
    case THAW_SETUP_SEED:
        return "seed";
    case THAW_SETUP_DOUBLE:
        return "number";
    case THAW_SETUP_BOOL:
        return "true/false";
    case THAW_SETUP_TRISTATE:
        return "true/false/none";
    case THAW_SETUP_PRESET:
        return "preset";
    case THAW_SETUP_OPTIMIZER:
        return "sgd/adam";
    case THAW_SETUP_ARCH:
        return "architecture";
    case THAW_SETUP_SHIFT:
        return "shift spec";
    case THAW_SETUP_AUGMENT:
        return "augment spec";
    case THAW_SETUP_LAYERS:
        return "layer list";
    case THAW_SETUP_LAYER:
        return "layer name";
    case THAW_SETUP_LR_MULT:
        return "stage=mult list";
    case THAW_SETUP_MOMENTUM:
        return "number or default";
    }
    return "?";
}

/* Text for a Markdown table cell ('|' escaped). */
static char *md_cell(const char *text)
{
    GString *out = g_string_new(NULL);
    for (const char *p = text; *p; p++) {
        if (*p == '|') g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

char *thaw_setup_reference_markdown(void)
{
    GString *out = g_string_new("| section | key | type | default | meaning |\n"
                                "|---|---|---|---|---|\n");
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        const ThawSetupOption *o = &options[i];
        g_autofree char *help = md_cell(o->help);
        g_autofree char *def = md_cell(o->def);
        if (*o->def)
            g_string_append_printf(out, "| `[%s]` | `%s` | %s | `%s` | %s |\n", o->section, o->key,
                                   type_name(o->type), def, help);
        else
            g_string_append_printf(out, "| `[%s]` | `%s` | %s | (none) | %s |\n", o->section,
                                   o->key, type_name(o->type), help);
    }
    return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------ freeze rules */

static char *layer_hint(const thaw_model *m, const char *word)
{
    g_autofree const char **names = g_new(const char *, m->n_layers ? m->n_layers : 1);
    g_autofree char *plain = g_strdup(word);
    /* compare patterns without their wildcards */
    char *w = plain;
    for (const char *p = word; *p; p++)
        if (*p != '*' && *p != '?') *w++ = *p;
    *w = '\0';
    for (int i = 0; i < m->n_layers; i++) names[i] = m->layers[i].name;
    return suggest(plain, names, (size_t)m->n_layers);
}

static gboolean no_layer(const thaw_model *m, const char *opt, const char *word, GError **error)
{
    g_autofree char *hint = layer_hint(m, word);
    gboolean pattern = strchr(word, '*') || strchr(word, '?');
    g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_NO_LAYER, "--%s: %s '%s'%s", opt,
                pattern ? "no layer matches" : "no layer", word, hint);
    return FALSE;
}

/* Sets trainable on every layer that a LIST matches (the InputLayer excepted). */
static gboolean apply_list(const char *opt, const char *list, thaw_model *m, gboolean trainable,
                           GError **error)
{
    if (!list || !*list) return TRUE;
    g_auto(GStrv) items = g_strsplit(list, ",", -1);
    for (char **it = items; *it; it++) {
        g_autofree char *item = g_strstrip(g_strdup(*it));
        if (!*item) continue;
        int hits = 0;
        g_autoptr(GPatternSpec) spec = g_pattern_spec_new(item);
        for (int i = 0; i < m->n_layers; i++) {
            thaw_layer *l = &m->layers[i];
            gboolean match;
            if (strcmp(item, "base") == 0)
                match = l->in_base;
            else if (strcmp(item, "head") == 0)
                match = !l->in_base;
            else
                match = g_pattern_spec_match_string(spec, l->name);
            if (!match) continue;
            hits++;
            if (l->kind != THAW_LAYER_INPUT) l->trainable = trainable;
        }
        if (hits == 0) return no_layer(m, opt, item, error);
    }
    return TRUE;
}

gboolean thaw_setup_apply_freezing(const ThawSetup *s, thaw_model *m, GError **error)
{
    g_return_val_if_fail(s && m, FALSE);
    /* Resolve every name before changing anything. */
    int up_to = -1;
    if (s->up_to && *s->up_to) {
        up_to = thaw_model_find_layer(m, s->up_to);
        if (up_to < 0) return no_layer(m, "up_to", s->up_to, error);
    }
    g_autofree gboolean *saved = g_new(gboolean, m->n_layers ? m->n_layers : 1);
    for (int i = 0; i < m->n_layers; i++) saved[i] = m->layers[i].trainable;

    /* 1. base */
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        if (l->kind != THAW_LAYER_INPUT) l->trainable = !(s->base && l->in_base);
    }
    /* 2. up_to */
    for (int i = 0; i <= up_to; i++)
        if (m->layers[i].kind != THAW_LAYER_INPUT) m->layers[i].trainable = false;
    /* 3. unfreeze_last: base.layers[:-N] frozen, the last N trainable */
    if (s->unfreeze_last > 0) thaw_model_unfreeze_last(m, s->unfreeze_last);
    /* 4, 5. freeze, unfreeze */
    if (!apply_list("freeze", s->freeze, m, FALSE, error) ||
        !apply_list("unfreeze", s->unfreeze, m, TRUE, error)) {
        for (int i = 0; i < m->n_layers; i++) m->layers[i].trainable = saved[i];
        return FALSE;
    }
    /* 6. bn_only */
    if (s->bn_only)
        for (int i = 0; i < m->n_layers; i++) {
            thaw_layer *l = &m->layers[i];
            if (l->in_base && l->kind != THAW_LAYER_INPUT)
                l->trainable = l->kind == THAW_LAYER_BATCHNORM;
        }
    return TRUE;
}

void thaw_setup_set_freezing_from_model(ThawSetup *s, const thaw_model *m)
{
    g_return_if_fail(s && m);
    gboolean base_only = TRUE; /* exactly the base frozen, the head trainable */
    g_autoptr(GString) frozen = g_string_new(NULL);
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->kind == THAW_LAYER_INPUT) continue; /* never changed by the rules */
        if (l->trainable == l->in_base) base_only = FALSE;
        if (!l->trainable) g_string_append_printf(frozen, "%s%s", frozen->len ? "," : "", l->name);
    }
    s->base = base_only;
    g_free(s->up_to);
    s->up_to = g_strdup("");
    s->unfreeze_last = 0;
    g_free(s->freeze);
    s->freeze = base_only ? g_strdup("") : g_strdup(frozen->str);
    g_free(s->unfreeze);
    s->unfreeze = g_strdup("");
    s->bn_only = FALSE;
}

gboolean thaw_setup_apply_unfreeze(const ThawSetup *s, thaw_model *m, GError **error)
{
    g_return_val_if_fail(s && m, FALSE);
    g_autofree gboolean *saved = g_new(gboolean, m->n_layers ? m->n_layers : 1);
    for (int i = 0; i < m->n_layers; i++) saved[i] = m->layers[i].trainable;
    if (!apply_list("unfreeze_layers", s->unfreeze_layers, m, TRUE, error)) {
        for (int i = 0; i < m->n_layers; i++) m->layers[i].trainable = saved[i];
        return FALSE;
    }
    return TRUE;
}

double thaw_setup_phase2_lr(const ThawSetup *s)
{
    return s->unfreeze_lr > 0 ? s->unfreeze_lr : s->lr;
}

gboolean thaw_setup_apply_lr_mult(const ThawSetup *s, thaw_model *m, GError **error)
{
    g_return_val_if_fail(s && m, FALSE);
    double mult[G_N_ELEMENTS(stage_names)];
    g_autofree char *problem = parse_lr_mult(s->lr_mult ? s->lr_mult : "", mult);
    if (problem) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_BAD_VALUE, "--lr_mult: %s", problem);
        return FALSE;
    }
    for (int i = 0; i < m->n_layers; i++) {
        thaw_layer *l = &m->layers[i];
        double f = 1.0;
        if (l->in_base && !isnan(mult[6])) f = mult[6];
        for (size_t k = 0; k < G_N_ELEMENTS(stage_names); k++) {
            if (isnan(mult[k]) || stage_names[k].stage == -2) continue;
            gboolean match = stage_names[k].stage == -1
                                 ? !l->in_base
                                 : l->in_base && l->stage == stage_names[k].stage;
            if (match) f = mult[k];
        }
        l->lr_mult = (float)f;
    }
    return TRUE;
}

void thaw_setup_optimizer(const ThawSetup *s, thaw_optimizer *opt)
{
    thaw_optimizer_default(opt, s->optimizer);
    opt->lr = (float)s->lr;
    opt->weight_decay = (float)s->weight_decay;
    if (s->optimizer == THAW_OPT_SGD) {
        opt->momentum = (float)s->momentum;
        opt->nesterov = s->nesterov;
    }
}

/* ------------------------------------------------------------ resolvers */

static char *shipped_models(void)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GDir) dir = g_dir_open(THAW_MODELS_DIR, 0, NULL);
    const char *e;
    while (dir && (e = g_dir_read_name(dir)))
        if (g_str_has_suffix(e, ".thaw"))
            g_string_append_printf(out, "%s%.*s", out->len ? ", " : "",
                                   (int)(strlen(e) - strlen(".thaw")), e);
    return g_string_free(out, FALSE);
}

char *thaw_setup_resolve_model(const ThawSetup *s, ThawSetupModelFormat *format, GError **error)
{
    const char *v = s->model;
    gboolean h5 = g_str_has_suffix(v, ".h5") || g_str_has_suffix(v, ".hdf5");
    gboolean path = h5 || strchr(v, '/') || g_str_has_suffix(v, ".thaw");
    if (format) *format = h5 ? THAW_SETUP_MODEL_KERAS_H5 : THAW_SETUP_MODEL_THAW;
    if (!path) {
        char *file = g_strdup_printf("%s/%s.thaw", THAW_MODELS_DIR, v);
        if (g_file_test(file, G_FILE_TEST_IS_REGULAR)) return file;
        g_free(file);
        g_autofree char *all = shipped_models();
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_BAD_VALUE,
                    "--model: no shipped model '%s' (shipped: %s; or give a .thaw/.h5 path)", v,
                    *all ? all : "none");
        return NULL;
    }
    if (!g_file_test(v, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_IO, "--model: cannot read '%s': %s",
                    v, g_file_test(v, G_FILE_TEST_EXISTS) ? "not a file" : "no such file");
        return NULL;
    }
    return g_strdup(v);
}

char *thaw_setup_resolve_dataset(const ThawSetup *s, gboolean val, ThawSetupDataKind *kind,
                                 GError **error)
{
    const char *v = val ? s->val_dataset : s->dataset;
    const char *opt = val ? "val_dataset" : "dataset";
    if (val && !*v) v = s->dataset;
    if (strcmp(v, "fashion-mnist") == 0) {
        if (kind) *kind = THAW_SETUP_DATA_FASHION;
        return g_strdup(THAW_FASHION_MNIST_DIR);
    }
    if (!g_file_test(v, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, THAW_SETUP_ERROR, THAW_SETUP_ERROR_IO, "--%s: '%s' is not a folder%s",
                    opt, v, g_file_test(v, G_FILE_TEST_EXISTS) ? "" : " (no such file)");
        return NULL;
    }
    ThawSetupDataKind k = THAW_SETUP_DATA_IMAGES;
    g_autoptr(GDir) dir = g_dir_open(v, 0, NULL);
    const char *e;
    while (dir && (e = g_dir_read_name(dir)))
        if (strstr(e, "-idx3-ubyte")) k = THAW_SETUP_DATA_IDX;
    if (kind) *kind = k;
    return g_strdup(v);
}
