/* Code export: Keras and PyTorch training scripts equivalent to a fine-tune
 * setup. See export-code.h.
 *
 * A script is assembled from fixed Python chunks (the py_* strings below:
 * data loaders, the .thaw reader, the ResNet builders, the training loop)
 * and generated parts: the header, the CONFIG block of constants, and the
 * freezing/semantics section, which is where the presets differ. */
#include "export-code.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#ifndef THAW_VERSION
#define THAW_VERSION "0.1.0"
#endif
#ifndef THAW_MODELS_DIR
#define THAW_MODELS_DIR "resources/models"
#endif
#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

GQuark thaw_export_error_quark(void)
{
    return g_quark_from_static_string("thaw-export-error-quark");
}

/* What a frozen BatchNorm does in a training step under a preset, and how
 * each framework expresses it. */
typedef enum frozen_bn {
    FBN_INFER,          /* running stats, no update: Keras >= TF 2 rule / bn.eval() */
    FBN_TIMM,           /* as FBN_INFER, through FrozenBatchNorm2d */
    FBN_BATCH_NOUPDATE, /* batch stats, running stats untouched */
    FBN_BATCH_UPDATE,   /* batch stats, running stats updated */
    FBN_TRAINABLE,      /* BN is not frozen at all (fastai train_bn) */
} frozen_bn;

typedef struct preset_policy {
    frozen_bn fbn;
    bool keras_native; /* modern Keras expresses it without emulation */
    bool legacy_keras; /* multi-backend Keras 2.x era */
    const char *rule;  /* the rule, for the header */
} preset_policy;

static const preset_policy policies[THAW_PRESET_COUNT] = {
    [THAW_PRESET_KERAS3] =
        {FBN_INFER, true, false,
         "Keras 3: a frozen BatchNormalization (trainable=False) runs in inference mode even\n"
         "when called with training=True: it normalises with its moving statistics and never\n"
         "updates them (the moving average uses the biased batch variance)."},
    [THAW_PRESET_TF_KERAS2] =
        {FBN_INFER, true, false,
         "tf.keras >= 2.0: trainable=False forces a BatchNormalization into inference mode\n"
         "(_USE_V2_BEHAVIOR), overriding even training=True; the fused kernel feeds the\n"
         "unbiased batch variance n/(n-1) into the moving average of unfrozen BN layers."},
    [THAW_PRESET_KERAS_2_1_2] =
        {FBN_BATCH_UPDATE, false, true,
         "Keras <= 2.1.2 (multi-backend): trainable=False froze gamma/beta only; a frozen\n"
         "BatchNormalization still normalised with batch statistics in fit() and still\n"
         "updated its moving statistics."},
    [THAW_PRESET_KERAS_2_1_3] =
        {FBN_BATCH_NOUPDATE, false, true,
         "Keras 2.1.3 (commit 24246ea): a frozen BatchNormalization stopped updating its\n"
         "moving statistics but still normalised with batch statistics in fit(), so fit()\n"
         "and predict() saw different features (the \"broken BN\" complaints)."},
    [THAW_PRESET_KERAS_2_2] =
        {FBN_BATCH_NOUPDATE, false, true,
         "Keras 2.1.4-2.3.1: as 2.1.3 (a frozen BatchNormalization normalises with batch\n"
         "statistics in fit() and does not update), and unfrozen layers store the sample\n"
         "variance n/(n-1-eps) in their moving variance."},
    [THAW_PRESET_PYTORCH] =
        {FBN_BATCH_UPDATE, false, false,
         "PyTorch: requires_grad_(False) freezes weights only; BatchNorm follows\n"
         "model.train(): batch statistics, running statistics updated (momentum 0.1,\n"
         "unbiased variance), also in frozen layers."},
    [THAW_PRESET_PYTORCH_BN_EVAL] =
        {FBN_INFER, true, false,
         "PyTorch, the usual fix: frozen BatchNorm modules are put back in eval() after every\n"
         "model.train(): running statistics, no update (pytorch/pytorch#10856)."},
    [THAW_PRESET_LIGHTNING_NO_TRAIN_BN] =
        {FBN_BATCH_NOUPDATE, false, false,
         "PyTorch Lightning BaseFinetuning.freeze(train_bn=False): a frozen BatchNorm gets\n"
         "track_running_stats=False: batch statistics in training steps, running statistics\n"
         "never updated (and still used in eval())."},
    [THAW_PRESET_TIMM_FROZEN_BN] =
        {FBN_TIMM, true, false,
         "timm freeze_batch_norm_2d: a frozen BatchNorm2d is replaced by FrozenBatchNorm2d:\n"
         "running statistics and fixed gamma/beta in train() and eval() alike."},
    [THAW_PRESET_FASTAI_TRAIN_BN] =
        {FBN_TRAINABLE, true, false,
         "fastai (train_bn=True): BatchNorm layers inside frozen groups stay trainable and in\n"
         "train mode: batch statistics, running statistics updated, gamma/beta trained."},
};

/* ------------------------------------------------------------ small helpers */

/* The shortest decimal that reads back as the same float32, as a Python float. */
static char *py_float(float v)
{
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        g_ascii_formatd(buf, sizeof buf,
                        prec == 6   ? "%.6g"
                        : prec == 7 ? "%.7g"
                        : prec == 8 ? "%.8g"
                                    : "%.9g",
                        (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".en")) g_strlcat(buf, ".0", sizeof buf);
    return g_strdup(buf);
}

/* A derived value (1 - momentum) rounded to 5 significant digits, so that
 * 1 - 0.99f prints as 0.01. */
static char *py_derived(double v)
{
    char buf[32];
    g_ascii_formatd(buf, sizeof buf, "%.5g", v);
    if (!strpbrk(buf, ".en")) g_strlcat(buf, ".0", sizeof buf);
    return g_strdup(buf);
}

/* A Python string literal. */
static char *py_str(const char *s)
{
    GString *out = g_string_new("\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_printf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(out, "\\x%02x", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    g_string_append_c(out, '"');
    return g_string_free(out, FALSE);
}

static const char *py_bool(bool b)
{
    return b ? "True" : "False";
}

/* Appends every line of text prefixed with "# " (a Python comment block). */
static void comment(GString *s, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++)
        g_string_append_printf(s, lines[i][0] ? "# %s\n" : "#\n", lines[i]);
}

static bool has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && g_ascii_strcasecmp(s + n - m, suffix) == 0;
}

static bool is_h5(const char *path)
{
    return path && (has_suffix_ci(path, ".h5") || has_suffix_ci(path, ".hdf5"));
}

static const char *tristate_py(thaw_tristate t)
{
    return t == THAW_UNSET ? "None" : t == THAW_TRUE ? "True" : "False";
}

static float lr_mult(const ThawExportSpec *s, int i)
{
    return s->lr_mult[i] > 0.0f ? s->lr_mult[i] : 1.0f;
}

static bool has_lr_mults(const ThawExportSpec *s)
{
    for (int i = 0; i < THAW_EXPORT_STAGES; i++)
        if (lr_mult(s, i) != 1.0f) return true;
    return false;
}

static bool has_augment(const ThawExportSpec *s)
{
    return s->augment.flip || s->augment.shift > 0;
}

static float bn_eps(const ThawExportSpec *s)
{
    return s->bn_eps > 0.0f ? s->bn_eps : 1.001e-5f;
}

/* ------------------------------------------------------------ the layer list */

/* What the generator needs to know about the graph, from Thaw's own builder. */
typedef struct export_graph {
    GPtrArray *frozen;    /* weighted layer names frozen, in model order (owned strings) */
    bool all_base_frozen; /* every weighted base layer is in `frozen` */
    bool any_base_frozen;
    bool head_frozen; /* some head layer is frozen */
} export_graph;

static void export_graph_clear(export_graph *g)
{
    if (g->frozen) g_ptr_array_unref(g->frozen);
    g->frozen = NULL;
}

static bool build_graph(const ThawExportSpec *s, export_graph *g, GError **error)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    g_strlcpy(cfg.arch, s->arch, sizeof cfg.arch);
    cfg.in_h = s->in_h;
    cfg.in_w = s->in_w;
    cfg.in_c = s->in_c;
    cfg.width = s->width;
    cfg.classes = s->classes;
    cfg.head_hidden = s->head_hidden;
    cfg.dropout = s->dropout;
    cfg.bn_eps = s->bn_eps;
    cfg.no_pool_pad = s->no_pool_pad;
    thaw_model *m = NULL;
    thaw_error err;
    if (thaw_model_new_uninitialized(&m, &cfg, &err) != THAW_OK) {
        g_set_error(error, THAW_EXPORT_ERROR, THAW_EXPORT_ERROR_INVALID, "architecture: %s",
                    err.msg);
        return false;
    }
    bool ok = true;
    g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; s->frozen && s->frozen[i]; i++) {
        if (thaw_model_find_layer(m, s->frozen[i]) < 0) {
            g_set_error(error, THAW_EXPORT_ERROR, THAW_EXPORT_ERROR_INVALID,
                        "frozen layers: %s has no layer '%s'", s->arch, s->frozen[i]);
            ok = false;
            break;
        }
        g_hash_table_add(wanted, (gpointer)s->frozen[i]);
    }
    g->frozen = g_ptr_array_new_with_free_func(g_free);
    g->all_base_frozen = true;
    g->any_base_frozen = g->head_frozen = false;
    for (int i = 0; ok && i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->n_params == 0) continue; /* weightless layers: trainable means nothing */
        bool frozen = (l->in_base && s->freeze_base) || g_hash_table_contains(wanted, l->name);
        if (frozen) g_ptr_array_add(g->frozen, g_strdup(l->name));
        if (l->in_base) {
            g->all_base_frozen &= frozen;
            g->any_base_frozen |= frozen;
        } else {
            g->head_frozen |= frozen;
        }
    }
    thaw_model_free(m);
    if (!ok) export_graph_clear(g);
    return ok;
}

static bool is_bn_name(const char *name)
{
    return g_str_has_suffix(name, "_bn");
}

/* ------------------------------------------------------------ validation */

static bool invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, THAW_EXPORT_ERROR, THAW_EXPORT_ERROR_INVALID, msg);
    g_free(msg);
    return false;
}

static bool validate(const ThawExportSpec *s, ThawExportFramework fw, GError **error)
{
    if (fw != THAW_EXPORT_KERAS && fw != THAW_EXPORT_PYTORCH)
        return invalid(error, "unknown framework %d (keras or pytorch)", (int)fw);
    if ((int)s->preset < 0 || s->preset >= THAW_PRESET_COUNT)
        return invalid(error, "unknown semantics preset %d", (int)s->preset);
    if (s->preset == THAW_PRESET_MANUAL)
        return invalid(error,
                       "preset manual: hand-set per-layer knobs have no %s equivalent; "
                       "choose a framework preset",
                       thaw_export_framework_name(fw));
    if (s->base_training != THAW_UNSET && s->base_training != THAW_FALSE &&
        s->base_training != THAW_TRUE)
        return invalid(error, "base training: %d is not true, false or none",
                       (int)s->base_training);
    if (s->in_h < 1 || s->in_w < 1 || s->in_c < 1 || s->in_c > 4)
        return invalid(error, "input shape %dx%dx%d is not supported", s->in_h, s->in_w, s->in_c);
    if (s->classes < 1) return invalid(error, "classes: %d, need at least 1", s->classes);
    if (s->head_hidden < 0) return invalid(error, "head hidden units: %d", s->head_hidden);
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return invalid(error, "dropout %g is not in [0, 1)", (double)s->dropout);
    if (s->preproc == THAW_EXPORT_PREPROC_CAFFE && s->in_c != 3)
        return invalid(error, "caffe preprocessing needs 3 input channels, the model has %d",
                       s->in_c);
    if (s->preproc == THAW_EXPORT_PREPROC_STANDARDIZE &&
        !(isfinite(s->mean) && isfinite(s->std) && s->std > 0.0f))
        return invalid(error, "standardisation: mean %g, std %g (std must be > 0)", (double)s->mean,
                       (double)s->std);
    if ((unsigned)s->preproc > THAW_EXPORT_PREPROC_CAFFE)
        return invalid(error, "unknown preprocessing %d", (int)s->preproc);
    if (s->weights && *s->weights) {
        if (is_h5(s->weights) && fw == THAW_EXPORT_PYTORCH)
            return invalid(error,
                           "weights '%s': the PyTorch export reads .thaw files; convert "
                           "the Keras file first (thaw-cli import-keras)",
                           s->weights);
        if (!is_h5(s->weights) && !has_suffix_ci(s->weights, ".thaw"))
            return invalid(error, "weights '%s': expected a .thaw or Keras .h5 file", s->weights);
    }
    if (!s->data_dir || !*s->data_dir) return invalid(error, "data: no folder given");
    if (s->data == THAW_EXPORT_DATA_FASHION_MNIST) {
        if (s->in_h != 28 || s->in_w != 28 || s->in_c != 1)
            return invalid(error, "data: Fashion-MNIST is 28x28x1, the model takes %dx%dx%d",
                           s->in_h, s->in_w, s->in_c);
        if (s->first_class < 0 || s->first_class + s->classes > 10)
            return invalid(error, "data: Fashion-MNIST classes %d..%d do not exist", s->first_class,
                           s->first_class + s->classes - 1);
    } else if (s->data != THAW_EXPORT_DATA_FOLDER) {
        return invalid(error, "unknown data source %d", (int)s->data);
    }
    if (s->k < 0 || s->val_k < 0)
        return invalid(error, "data: images per class must be >= 0 (k %d, val_k %d)", s->k,
                       s->val_k);
    thaw_error err;
    if (thaw_transform_validate(&s->shift, &err) != THAW_OK)
        return invalid(error, "domain shift: %s", err.msg);
    if (thaw_transform_validate(&s->augment, &err) != THAW_OK)
        return invalid(error, "augmentation: %s", err.msg);
    if (s->augment.shift < 0 || s->augment.shift > 64)
        return invalid(error, "augmentation: shift %d is not in 0..64", s->augment.shift);
    if (s->epochs < 1) return invalid(error, "epochs: %d, need at least 1", s->epochs);
    if (s->batch < 1) return invalid(error, "batch: %d, need at least 1", s->batch);
    if (!(isfinite(s->opt.lr) && s->opt.lr > 0.0f))
        return invalid(error, "learning rate %g must be > 0", (double)s->opt.lr);
    if (s->opt.kind != THAW_OPT_SGD && s->opt.kind != THAW_OPT_ADAM)
        return invalid(error, "unknown optimizer %d", (int)s->opt.kind);
    if (thaw_optimizer_validate(&s->opt, &err) != THAW_OK)
        return invalid(error, "optimizer: %s", err.msg);
    if (!(s->opt.weight_decay >= 0.0f))
        return invalid(error, "weight decay %g must be >= 0", (double)s->opt.weight_decay);
    for (int i = 0; i < THAW_EXPORT_STAGES; i++)
        if (!(isfinite(s->lr_mult[i]) && s->lr_mult[i] >= 0.0f))
            return invalid(error, "learning-rate multiplier %g must be >= 0",
                           (double)s->lr_mult[i]);
    if (s->unfreeze_epoch < 0 || s->unfreeze_epoch >= s->epochs)
        return invalid(error, "unfreeze epoch %d is not in 1..%d", s->unfreeze_epoch,
                       s->epochs - 1);
    if (s->unfreeze_epoch > 0 && !(isfinite(s->unfreeze_lr) && s->unfreeze_lr > 0.0f))
        return invalid(error, "unfreeze learning rate %g must be > 0", (double)s->unfreeze_lr);
    return true;
}

/* ------------------------------------------------------------ Python chunks */

static const char py_fashion_loader[] =
    "# ---------------------------------------------------------------------------\n"
    "# Data: Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz], ...), raw pixel\n"
    "# values 0..255 in NHWC float32. The target task is FIRST_CLASS ..\n"
    "# FIRST_CLASS + CLASSES - 1, relabelled 0 .. CLASSES - 1, with K_SHOT images per\n"
    "# class drawn with SEED (Thaw's own sampler draws a different, equally random K).\n"
    "# ---------------------------------------------------------------------------\n"
    "def read_idx(folder, name):\n"
    "    \"\"\"Reads one IDX file (gzip-compressed or not) into a numpy array.\"\"\"\n"
    "    path = os.path.join(folder, name)\n"
    "    opener = open\n"
    "    if not os.path.exists(path) and os.path.exists(path + \".gz\"):\n"
    "        path, opener = path + \".gz\", gzip.open\n"
    "    with opener(path, \"rb\") as f:\n"
    "        data = f.read()\n"
    "    magic, = struct.unpack_from(\">I\", data, 0)\n"
    "    ndim = magic & 0xFF\n"
    "    dims = struct.unpack_from(\">%dI\" % ndim, data, 4)\n"
    "    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)\n"
    "\n"
    "\n"
    "def load_fashion_split(folder, prefix, classes, per_class, rng):\n"
    "    \"\"\"Images of `classes` (relabelled 0..), at most per_class of each (0 = all).\"\"\"\n"
    "    images = read_idx(folder, prefix + \"-images-idx3-ubyte\")\n"
    "    labels = read_idx(folder, prefix + \"-labels-idx1-ubyte\")\n"
    "    xs, ys = [], []\n"
    "    for new_label, c in enumerate(classes):\n"
    "        idx = np.flatnonzero(labels == c)\n"
    "        if per_class:\n"
    "            idx = np.sort(rng.choice(idx, size=min(per_class, idx.size), replace=False))\n"
    "        xs.append(images[idx])\n"
    "        ys.append(np.full(idx.size, new_label, np.int64))\n"
    "    x = np.concatenate(xs).astype(np.float32)[..., None]  # (n, 28, 28, 1)\n"
    "    return x, np.concatenate(ys)\n"
    "\n"
    "\n"
    "def load_data(folder):\n"
    "    \"\"\"(x_train, y_train, x_val, y_val): raw pixels, domain shift applied.\"\"\"\n"
    "    rng = np.random.default_rng(SEED)\n"
    "    classes = list(range(FIRST_CLASS, FIRST_CLASS + CLASSES))\n"
    "    x_train, y_train = load_fashion_split(folder, \"train\", classes, K_SHOT, rng)\n"
    "    x_val, y_val = load_fashion_split(folder, \"t10k\", classes, VAL_PER_CLASS, rng)\n"
    "    return domain_shift(x_train, SEED + 1), y_train, domain_shift(x_val, SEED + 2), y_val\n";

static const char py_folder_loader[] =
    "# ---------------------------------------------------------------------------\n"
    "# Data: an image folder ROOT/<class name>/*.png (any format PIL reads), classes\n"
    "# in sorted order, resized to the model's input with PIL; raw pixel values\n"
    "# 0..255 in NHWC float32. K_SHOT images per class (0 = all) drawn with SEED; the\n"
    "# rest, up to VAL_PER_CLASS per class (0 = all), validates.\n"
    "# ---------------------------------------------------------------------------\n"
    "def load_data(folder):\n"
    "    \"\"\"(x_train, y_train, x_val, y_val): raw pixels, domain shift applied.\"\"\"\n"
    "    from PIL import Image  # only needed for image folders\n"
    "\n"
    "    rng = np.random.default_rng(SEED)\n"
    "    names = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))\n"
    "    if len(names) != CLASSES:\n"
    "        raise SystemExit(\"%s: %d class folders, the model has %d classes\"\n"
    "                         % (folder, len(names), CLASSES))\n"
    "    mode = \"L\" if IN_C == 1 else \"RGB\"\n"
    "    parts = {\"train\": ([], []), \"val\": ([], [])}\n"
    "    for label, name in enumerate(names):\n"
    "        files = sorted(os.listdir(os.path.join(folder, name)))\n"
    "        order = rng.permutation(len(files))\n"
    "        n_train = min(K_SHOT, len(files)) if K_SHOT else len(files) * 4 // 5\n"
    "        for rank, i in enumerate(order):\n"
    "            part = \"train\" if rank < n_train else \"val\"\n"
    "            if part == \"val\" and VAL_PER_CLASS and rank - n_train >= VAL_PER_CLASS:\n"
    "                break\n"
    "            image = Image.open(os.path.join(folder, name, files[i])).convert(mode)\n"
    "            image = image.resize((IN_W, IN_H))\n"
    "            pixels = np.asarray(image, np.float32).reshape(IN_H, IN_W, IN_C)\n"
    "            parts[part][0].append(pixels)\n"
    "            parts[part][1].append(label)\n"
    "    (xt, yt), (xv, yv) = parts[\"train\"], parts[\"val\"]\n"
    "    return (domain_shift(np.stack(xt), SEED + 1), np.array(yt, np.int64),\n"
    "            domain_shift(np.stack(xv), SEED + 2), np.array(yv, np.int64))\n";

static const char py_preprocess[] =
    "def preprocess(x):\n"
    "    \"\"\"Raw pixels (n, h, w, c) -> network input, as Thaw's input layer does.\"\"\"\n"
    "    if PREPROCESS == \"standardize\":\n"
    "        return (x - INPUT_MEAN) / INPUT_STD\n"
    "    if PREPROCESS == \"caffe\":  # keras.applications.resnet50.preprocess_input\n"
    "        return x[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)\n"
    "    return x\n";

static const char py_thaw_reader[] =
    "# ---------------------------------------------------------------------------\n"
    "# A minimal reader of Thaw's .thaw checkpoints (format: engine/io/CHECKPOINT.md\n"
    "# in Thaw's sources): a 64-byte header, \"key = value\" config text, a directory\n"
    "# of 168-byte entries, float32 tensors in Keras layouts, a CRC-32 at the end.\n"
    "# ---------------------------------------------------------------------------\n"
    "THAW_HEADER = struct.Struct(\"<8sIIQQQQ16x\")\n"
    "THAW_ENTRY = struct.Struct(\"<128sII4IQQ\")\n"
    "\n"
    "\n"
    "def read_thaw(path):\n"
    "    \"\"\"Returns (config dict, {\"<layer>/<weight>\": numpy array in Keras layout}).\"\"\"\n"
    "    with open(path, \"rb\") as f:\n"
    "        data = f.read()\n"
    "    if len(data) < THAW_HEADER.size + 4 or data[:8] != b\"THAWCKPT\":\n"
    "        raise SystemExit(\"%s: not a Thaw checkpoint\" % path)\n"
    "    _, version, count, size, cfg_off, cfg_len, dir_off = THAW_HEADER.unpack_from(data)\n"
    "    if version != 1 or size != len(data):\n"
    "        raise SystemExit(\"%s: unsupported version %d or truncated file\" % (path, version))\n"
    "    crc, = struct.unpack_from(\"<I\", data, size - 4)\n"
    "    if zlib.crc32(data[:size - 4]) & 0xFFFFFFFF != crc:\n"
    "        raise SystemExit(\"%s: checksum mismatch: file is damaged\" % path)\n"
    "    config = {}\n"
    "    for line in data[cfg_off:cfg_off + cfg_len].decode(\"utf-8\").splitlines():\n"
    "        key, eq, value = line.partition(\"=\")\n"
    "        if eq and not line.lstrip().startswith(\"#\"):\n"
    "            config[key.strip()] = value.strip()\n"
    "    tensors = {}\n"
    "    for i in range(count):\n"
    "        fields = THAW_ENTRY.unpack_from(data, dir_off + i * THAW_ENTRY.size)\n"
    "        raw, dtype, ndim, dims, offset, length = fields[0], fields[1], fields[2], \\\n"
    "            fields[3:7], fields[7], fields[8]\n"
    "        name = raw.split(b\"\\0\", 1)[0].decode(\"utf-8\")\n"
    "        kind = \"<f4\" if dtype == 1 else \"<u4\"\n"
    "        tensors[name] = np.frombuffer(data, kind, count=length // 4,\n"
    "                                      offset=offset).reshape(dims[:ndim])\n"
    "    return config, tensors\n"
    "\n"
    "\n"
    "def check_thaw_config(config, path):\n"
    "    \"\"\"The file must hold the backbone this script builds.\"\"\"\n"
    "    want = {\"arch\": ARCH, \"in_h\": str(IN_H), \"in_w\": str(IN_W), \"in_c\": str(IN_C),\n"
    "            \"width\": str(WIDTH)}\n"
    "    for key, value in want.items():\n"
    "        if config.get(key) != value:\n"
    "            raise SystemExit(\"%s: %s is %s, this script builds %s\"\n"
    "                             % (path, key, config.get(key), value))\n";

/* The architecture table both exports carry: it mirrors archs[] of
 * engine/model/resnet.c. */
#define PY_ARCHS                                                                                   \
    "ARCHS = {  # name: (CIFAR-style, bottleneck blocks, conv bias, blocks per stage)\n"           \
    "    \"resnet8\": (True, False, False, (1, 1, 1)),\n"                                          \
    "    \"resnet20\": (True, False, False, (3, 3, 3)),\n"                                         \
    "    \"resnet32\": (True, False, False, (5, 5, 5)),\n"                                         \
    "    \"resnet56\": (True, False, False, (9, 9, 9)),\n"                                         \
    "    \"resnet18\": (False, False, False, (2, 2, 2, 2)),\n"                                     \
    "    \"resnet34\": (False, False, False, (3, 4, 6, 3)),\n"                                     \
    "    \"resnet50\": (False, True, True, (3, 4, 6, 3)),\n"                                       \
    "    \"resnet101\": (False, True, True, (3, 4, 23, 3)),\n"                                     \
    "    \"resnet152\": (False, True, True, (3, 8, 36, 3)),\n"                                     \
    "}\n"

static const char py_pt_model[] =
    "# ---------------------------------------------------------------------------\n"
    "# The model: Thaw's ResNet graph (engine/model/resnet.c) with Keras's layer\n"
    "# names as module names, so \"conv2_block1_1_conv\" is model.base[\"conv2_block1_1_conv\"].\n"
    "# Tensors are NCHW here; the .thaw file is NHWC/HWIO (Keras), converted on load.\n"
    "# ---------------------------------------------------------------------------\n" PY_ARCHS
    "HEAD_LAYERS = (\"avg_pool\", \"head_dense\", \"head_dropout\", \"predictions\")\n"
    "\n"
    "\n"
    "def same_padding(size, k, stride):\n"
    "    \"\"\"TensorFlow's \"same\" padding (before, after): asymmetric when odd.\"\"\"\n"
    "    out = (size + stride - 1) // stride\n"
    "    total = max((out - 1) * stride + k - size, 0)\n"
    "    return total // 2, total - total // 2\n"
    "\n"
    "\n"
    "class KerasConv2d(nn.Conv2d):\n"
    "    \"\"\"nn.Conv2d with Keras's padding: \"same\" as TF computes it, or \"valid\".\"\"\"\n"
    "\n"
    "    def __init__(self, cin, cout, k, stride, bias, same, h, w):\n"
    "        super().__init__(cin, cout, k, stride=stride, bias=bias)\n"
    "        top, bottom = same_padding(h, k, stride) if same else (0, 0)\n"
    "        left, right = same_padding(w, k, stride) if same else (0, 0)\n"
    "        self.pads = (left, right, top, bottom)\n"
    "        self.out_hw = ((h + top + bottom - k) // stride + 1,\n"
    "                       (w + left + right - k) // stride + 1)\n"
    "\n"
    "    def forward(self, x):\n"
    "        if any(self.pads):\n"
    "            x = F.pad(x, self.pads)\n"
    "        return super().forward(x)\n"
    "\n"
    "\n"
    "class ThawResNet(nn.Module):\n"
    "    def __init__(self, arch, in_h, in_w, in_c, width, head_hidden, dropout, classes,\n"
    "                 bn_eps, bn_momentum, no_pool_pad=False):\n"
    "        super().__init__()\n"
    "        self.cifar, self.bottleneck, bias, blocks = ARCHS[arch]\n"
    "        self.no_pool_pad = no_pool_pad\n"
    "        self.base = nn.ModuleDict()\n"
    "        self.head = nn.ModuleDict()\n"
    "        hw = (in_h, in_w)\n"
    "\n"
    "        def conv(name, cin, cout, k, stride, same, hw_in):\n"
    "            self.base[name] = KerasConv2d(cin, cout, k, stride, bias, same, *hw_in)\n"
    "            return self.base[name].out_hw\n"
    "\n"
    "        def bn(name, c):\n"
    "            # Keras momentum m is PyTorch momentum 1 - m; eps belongs to the model.\n"
    "            self.base[name] = nn.BatchNorm2d(c, eps=bn_eps, momentum=bn_momentum)\n"
    "\n"
    "        width = width or (16 if self.cifar else 64)\n"
    "        if self.cifar:\n"
    "            hw = conv(\"conv1_conv\", in_c, width, 3, 1, True, hw)\n"
    "        else:\n"
    "            hw = conv(\"conv1_conv\", in_c, width, 7, 2, False, (hw[0] + 6, hw[1] + 6))\n"
    "            pad = 0 if no_pool_pad else 2\n"
    "            hw = ((hw[0] + pad - 3) // 2 + 1, (hw[1] + pad - 3) // 2 + 1)\n"
    "        bn(\"conv1_bn\", width)\n"
    "        self.blocks = []  # (prefix, has a projection shortcut)\n"
    "        cin, filters = width, width\n"
    "        for stage, n_blocks in enumerate(blocks):\n"
    "            for k in range(1, n_blocks + 1):\n"
    "                p = \"conv%d_block%d\" % (stage + 2, k)\n"
    "                stride = 2 if k == 1 and stage > 0 else 1\n"
    "                if self.bottleneck:\n"
    "                    project = k == 1\n"
    "                    out = conv(p + \"_1_conv\", cin, filters, 1, stride, False, hw)\n"
    "                    conv(p + \"_2_conv\", filters, filters, 3, 1, True, out)\n"
    "                    conv(p + \"_3_conv\", filters, 4 * filters, 1, 1, False, out)\n"
    "                    cout = 4 * filters\n"
    "                    for i in (1, 2, 3):\n"
    "                        bn(\"%s_%d_bn\" % (p, i), cout if i == 3 else filters)\n"
    "                else:\n"
    "                    project = stride != 1 or cin != filters\n"
    "                    out = conv(p + \"_1_conv\", cin, filters, 3, stride, True, hw)\n"
    "                    conv(p + \"_2_conv\", filters, filters, 3, 1, True, out)\n"
    "                    cout = filters\n"
    "                    bn(p + \"_1_bn\", filters)\n"
    "                    bn(p + \"_2_bn\", filters)\n"
    "                if project:\n"
    "                    conv(p + \"_0_conv\", cin, cout, 1, stride, False, hw)\n"
    "                    bn(p + \"_0_bn\", cout)\n"
    "                self.blocks.append((p, project))\n"
    "                cin, hw = cout, out\n"
    "            filters *= 2\n"
    "        features = cin\n"
    "        if head_hidden:\n"
    "            self.head[\"head_dense\"] = nn.Linear(features, head_hidden)\n"
    "            features = head_hidden\n"
    "        if dropout:\n"
    "            self.head[\"head_dropout\"] = nn.Dropout(dropout)\n"
    "        self.head[\"predictions\"] = nn.Linear(features, classes)\n"
    "        # Fresh head initialisation as Keras does it: Glorot-uniform, zero bias.\n"
    "        for layer in self.head.values():\n"
    "            if isinstance(layer, nn.Linear):\n"
    "                nn.init.xavier_uniform_(layer.weight)\n"
    "                nn.init.zeros_(layer.bias)\n"
    "\n"
    "    def layer(self, name):\n"
    "        \"\"\"The module of a Keras layer name, or None for weightless layers.\"\"\"\n"
    "        for group in (self.base, self.head):\n"
    "            if name in group:\n"
    "                return group[name]\n"
    "        return None\n"
    "\n"
    "    def forward_base(self, x):\n"
    "        L = self.base\n"
    "        if self.cifar:\n"
    "            x = F.relu(L[\"conv1_bn\"](L[\"conv1_conv\"](x)))\n"
    "        else:\n"
    "            x = F.relu(L[\"conv1_bn\"](L[\"conv1_conv\"](F.pad(x, (3, 3, 3, 3)))))\n"
    "            if not self.no_pool_pad:\n"
    "                x = F.pad(x, (1, 1, 1, 1))  # zeros are harmless after the ReLU\n"
    "            x = F.max_pool2d(x, 3, 2)\n"
    "        for p, project in self.blocks:\n"
    "            y = F.relu(L[p + \"_1_bn\"](L[p + \"_1_conv\"](x)))\n"
    "            y = L[p + \"_2_bn\"](L[p + \"_2_conv\"](y))\n"
    "            if self.bottleneck:\n"
    "                y = L[p + \"_3_bn\"](L[p + \"_3_conv\"](F.relu(y)))\n"
    "            shortcut = L[p + \"_0_bn\"](L[p + \"_0_conv\"](x)) if project else x\n"
    "            x = F.relu(shortcut + y)\n"
    "        return x\n"
    "\n"
    "    def forward(self, x):\n"
    "        x = self.forward_base(x).mean(dim=(2, 3))  # avg_pool\n"
    "        if \"head_dense\" in self.head:\n"
    "            x = F.relu(self.head[\"head_dense\"](x))\n"
    "        if \"head_dropout\" in self.head:\n"
    "            x = self.head[\"head_dropout\"](x)\n"
    "        return self.head[\"predictions\"](x)  # logits\n"
    "\n"
    "\n"
    "def load_thaw_weights(model, path, include_head):\n"
    "    \"\"\"Copies a .thaw file's tensors into the model: conv kernels HWIO -> OIHW,\n"
    "    dense kernels (in, out) -> (out, in), gamma/beta/moving_mean/moving_variance\n"
    "    -> weight/bias/running_mean/running_var.\"\"\"\n"
    "    config, tensors = read_thaw(path)\n"
    "    check_thaw_config(config, path)\n"
    "    renames = {\"gamma\": \"weight\", \"beta\": \"bias\", \"moving_mean\": \"running_mean\",\n"
    "               \"moving_variance\": \"running_var\", \"kernel\": \"weight\", \"bias\": "
    "\"bias\"}\n"
    "    state = model.state_dict()\n"
    "    loaded = 0\n"
    "    for name, value in tensors.items():\n"
    "        layer, _, weight = name.partition(\"/\")\n"
    "        if \"/\" in weight or (layer in HEAD_LAYERS and not include_head):\n"
    "            continue  # optimizer state, or the old task's head\n"
    "        group = \"head\" if layer in HEAD_LAYERS else \"base\"\n"
    "        key = \"%s.%s.%s\" % (group, layer, renames[weight])\n"
    "        if value.ndim == 4:\n"
    "            value = value.transpose(3, 2, 0, 1)  # HWIO -> OIHW\n"
    "        elif value.ndim == 2:\n"
    "            value = value.T  # (in, out) -> (out, in)\n"
    "        if key not in state or tuple(state[key].shape) != value.shape:\n"
    "            raise SystemExit(\"%s: tensor %s %s does not fit this model\"\n"
    "                             % (path, name, value.shape))\n"
    "        state[key].copy_(torch.from_numpy(np.ascontiguousarray(value)))\n"
    "        loaded += 1\n"
    "    missing = [k for k in state\n"
    "               if k.startswith(\"base.\") and not k.endswith(\"num_batches_tracked\")]\n"
    "    if loaded < len(missing):\n"
    "        raise SystemExit(\"%s: only %d of the backbone's %d tensors found\"\n"
    "                         % (path, loaded, len(missing)))\n"
    "    return config\n";

static const char py_pt_timm[] =
    "class FrozenBatchNorm2d(nn.Module):\n"
    "    \"\"\"timm's FrozenBatchNorm2d: BatchNorm2d with fixed statistics and affine\n"
    "    parameters (buffers, not parameters), the same in train() and eval().\"\"\"\n"
    "\n"
    "    def __init__(self, bn):\n"
    "        super().__init__()\n"
    "        self.num_features, self.eps = bn.num_features, bn.eps\n"
    "        for name in (\"weight\", \"bias\", \"running_mean\", \"running_var\"):\n"
    "            self.register_buffer(name, getattr(bn, name).detach().clone())\n"
    "\n"
    "    def forward(self, x):\n"
    "        scale = self.weight * (self.running_var + self.eps).rsqrt()\n"
    "        shift = self.bias - self.running_mean * scale\n"
    "        return x * scale[None, :, None, None] + shift[None, :, None, None]\n"
    "\n"
    "\n"
    "def thaw_batch_norm(frozen, momentum):\n"
    "    \"\"\"timm's unfreeze_batch_norm_2d: a FrozenBatchNorm2d back to a BatchNorm2d.\"\"\"\n"
    "    bn = nn.BatchNorm2d(frozen.num_features, eps=frozen.eps, momentum=momentum)\n"
    "    with torch.no_grad():\n"
    "        for name in (\"weight\", \"bias\", \"running_mean\", \"running_var\"):\n"
    "            getattr(bn, name).copy_(getattr(frozen, name))\n"
    "    return bn.to(frozen.weight.device)\n";

static const char py_pt_augment[] =
    "def augment(x, rng):\n"
    "    \"\"\"Training-time augmentation on raw pixels (n, h, w, c), per image: a random\n"
    "    horizontal flip (p = 0.5), then a random translation by up to AUG_SHIFT\n"
    "    pixels, filling with zeros (or repeating the edge). Never used in eval.\"\"\"\n"
    "    x = x.copy()\n"
    "    for i in range(len(x)):\n"
    "        if AUG_FLIP and rng.random() < 0.5:\n"
    "            x[i] = x[i, :, ::-1]\n"
    "        if AUG_SHIFT:\n"
    "            dy, dx = rng.integers(-AUG_SHIFT, AUG_SHIFT + 1, size=2)\n"
    "            mode = \"edge\" if AUG_FILL == \"edge\" else \"constant\"\n"
    "            padded = np.pad(x[i], ((AUG_SHIFT,) * 2, (AUG_SHIFT,) * 2, (0, 0)), mode=mode)\n"
    "            h, w = x.shape[1:3]\n"
    "            top, left = AUG_SHIFT - dy, AUG_SHIFT - dx\n"
    "            x[i] = padded[top:top + h, left:left + w]\n"
    "    return x\n";

static const char py_pt_optimizer[] =
    "def stage_of(name):\n"
    "    \"\"\"The stage a Keras layer name belongs to: conv1 (the stem), conv2.., head.\"\"\"\n"
    "    if name in HEAD_LAYERS:\n"
    "        return \"head\"\n"
    "    return \"conv1\" if name.startswith(\"pool1\") else name.split(\"_\")[0]\n"
    "\n"
    "\n"
    "def make_optimizer(model, lr):\n"
    "    \"\"\"One parameter group per stage, with the stage's learning-rate multiplier.\n"
    "    Frozen parameters (requires_grad False) are left out, as Keras leaves\n"
    "    non-trainable weights out of the optimizer.\"\"\"\n"
    "    groups = {}\n"
    "    for group in (model.base, model.head):\n"
    "        for layer_name, module in group.items():\n"
    "            for p in module.parameters():\n"
    "                if p.requires_grad:\n"
    "                    groups.setdefault(stage_of(layer_name), []).append(p)\n"
    "    param_groups = [{\"params\": ps, \"lr\": lr * LR_MULT.get(stage, 1.0)}\n"
    "                    for stage, ps in groups.items()]\n"
    "    if not param_groups:\n"
    "        raise SystemExit(\"every layer is frozen: nothing to train\")\n"
    "    if OPTIMIZER == \"adam\":\n"
    "        return torch.optim.Adam(param_groups, lr=lr, betas=(BETA1, BETA2), eps=ADAM_EPS,\n"
    "                                weight_decay=WEIGHT_DECAY)\n"
    "    # PyTorch's weight_decay is an L2 term added to the gradient, as in Thaw.\n"
    "    return torch.optim.SGD(param_groups, lr=lr, momentum=MOMENTUM, nesterov=NESTEROV,\n"
    "                           weight_decay=WEIGHT_DECAY)\n";

static const char py_pt_main[] =
    "def to_tensor(x, device):\n"
    "    \"\"\"Raw NHWC pixels -> preprocessed NCHW float tensor.\"\"\"\n"
    "    nchw = np.ascontiguousarray(preprocess(x).transpose(0, 3, 1, 2), dtype=np.float32)\n"
    "    return torch.from_numpy(nchw).to(device)\n"
    "\n"
    "\n"
    "def evaluate(model, x, y, device, batch=256, max_batches=0):\n"
    "    \"\"\"Accuracy in inference mode (model.eval(): BatchNorm on running statistics,\n"
    "    Dropout off), like Keras's evaluate()/predict().\"\"\"\n"
    "    model.eval()\n"
    "    correct = seen = 0\n"
    "    with torch.no_grad():\n"
    "        for b, i in enumerate(range(0, len(x), batch)):\n"
    "            if max_batches and b >= max_batches:\n"
    "                break\n"
    "            logits = model(to_tensor(x[i:i + batch], device))\n"
    "            correct += (logits.argmax(1).cpu().numpy() == y[i:i + batch]).sum()\n"
    "            seen += len(logits)\n"
    "    return correct / max(seen, 1)\n"
    "\n"
    "\n"
    "def parse_args():\n"
    "    parser = argparse.ArgumentParser(description=__doc__.split(\"\\n\\n\")[0],\n"
    "                                     formatter_class=argparse.RawDescriptionHelpFormatter)\n"
    "    parser.add_argument(\"--data\", default=DATA_DIR,\n"
    "                        help=\"dataset folder (default %(default)s)\")\n"
    "    parser.add_argument(\"--weights\", default=BASE_WEIGHTS,\n"
    "                        help=\"pretrained base, a .thaw file ('' = random init)\")\n"
    "    parser.add_argument(\"--epochs\", type=int, default=EPOCHS)\n"
    "    parser.add_argument(\"--max-batches\", type=int, default=0,\n"
    "                        help=\"stop each epoch and validation after N batches (smoke run)\")\n"
    "    parser.add_argument(\"--check-source\", type=int, default=0, metavar=\"N\",\n"
    "                        help=\"only evaluate the weights file with its own head on N test \"\n"
    "                             \"images per source class (Fashion-MNIST), then exit\")\n"
    "    parser.add_argument(\"--device\", default=\"cuda\" if torch.cuda.is_available() else "
    "\"cpu\")\n"
    "    return parser.parse_args()\n"
    "\n"
    "\n"
    "def main():\n"
    "    args = parse_args()\n"
    "    random.seed(SEED)\n"
    "    np.random.seed(SEED)\n"
    "    torch.manual_seed(SEED)\n"
    "    device = torch.device(args.device)\n"
    "    if args.check_source:\n"
    "        return check_source(args, device)\n"
    "\n"
    "    x_train, y_train, x_val, y_val = load_data(args.data)\n"
    "    model = ThawResNet(ARCH, IN_H, IN_W, IN_C, WIDTH, HEAD_HIDDEN, DROPOUT, CLASSES,\n"
    "                       BN_EPS, BN_MOMENTUM, NO_POOL_PAD)\n"
    "    if args.weights:\n"
    "        load_thaw_weights(model, args.weights, include_head=False)\n"
    "    model.to(device)\n"
    "    freeze(model)\n"
    "    optimizer = make_optimizer(model, LR)\n"
    "    print(\"%d training images, %d validation images; %d trainable parameters\"\n"
    "          % (len(x_train), len(x_val),\n"
    "             sum(p.numel() for p in model.parameters() if p.requires_grad)))\n"
    "\n"
    "    rng = np.random.default_rng(SEED)\n"
    "    loss_value = float(\"nan\")\n"
    "    for epoch in range(args.epochs):\n"
    "        if UNFREEZE_EPOCH and epoch == UNFREEZE_EPOCH:\n"
    "            unfreeze(model)\n"
    "            optimizer = make_optimizer(model, UNFREEZE_LR)\n"
    "            print(\"epoch %d: unfrozen, new optimizer, lr %g\" % (epoch + 1, UNFREEZE_LR))\n"
    "        set_train_mode(model)\n"
    "        order = rng.permutation(len(x_train))\n"
    "        total = count = 0\n"
    "        for b, i in enumerate(range(0, len(order), BATCH)):\n"
    "            if args.max_batches and b >= args.max_batches:\n"
    "                break\n"
    "            idx = order[i:i + BATCH]\n"
    "            xb = x_train[idx]\n"
    "            if AUGMENT:\n"
    "                xb = augment(xb, rng)\n"
    "            logits = model(to_tensor(xb, device))\n"
    "            loss = F.cross_entropy(logits, torch.from_numpy(y_train[idx]).to(device))\n"
    "            optimizer.zero_grad()\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
    "            loss_value = loss.item()\n"
    "            total += loss_value * len(idx)\n"
    "            count += len(idx)\n"
    "        val_acc = evaluate(model, x_val, y_val, device, max_batches=args.max_batches)\n"
    "        print(\"epoch %d: loss %.4f, validation accuracy (inference mode) %.4f\"\n"
    "              % (epoch + 1, total / max(count, 1), val_acc))\n"
    "    print(\"final loss: %.6f\" % loss_value)\n"
    "\n"
    "\n"
    "if __name__ == \"__main__\":\n"
    "    main()\n";

static const char py_pt_check_source[] =
    "def check_source(args, device):\n"
    "    \"\"\"Loads the whole .thaw file, its own head included, and measures its\n"
    "    accuracy on its own task (test images of classes 0 .. its classes - 1): a\n"
    "    check that the conversion to PyTorch is exact.\"\"\"\n"
    "    config, _ = read_thaw(args.weights)\n"
    "    classes = int(config[\"classes\"])\n"
    "    model = ThawResNet(ARCH, IN_H, IN_W, IN_C, WIDTH, int(config[\"head_hidden\"]),\n"
    "                       float(config[\"dropout\"]), classes, BN_EPS, BN_MOMENTUM,\n"
    "                       NO_POOL_PAD).to(device)\n"
    "    load_thaw_weights(model, args.weights, include_head=True)\n"
    "    rng = np.random.default_rng(SEED)\n"
    "    x, y = load_fashion_split(args.data, \"t10k\", list(range(classes)), args.check_source,\n"
    "                              rng)\n"
    "    acc = evaluate(model, x, y, device)\n"
    "    print(\"source accuracy: %.4f on %d test images of classes 0-%d\"\n"
    "          % (acc, len(x), classes - 1))\n";

static const char py_keras_builder[] =
    "# ---------------------------------------------------------------------------\n"
    "# The base model: Thaw's ResNet graph (engine/model/resnet.c) with the same\n"
    "# Keras layer names and order, so a .thaw file or a Keras .h5 file of the same\n"
    "# architecture loads into it. CIFAR-style nets: conv1 3x3/1 then BasicBlocks,\n"
    "# no conv bias; ImageNet-style: conv1_pad + 7x7/2 + pool1, BasicBlocks\n"
    "# (resnet18/34) or Bottleneck v1 blocks with bias (resnet50/101/152).\n"
    "# ---------------------------------------------------------------------------\n" PY_ARCHS "\n"
    "\n"
    "def build_thaw_resnet(input_shape, name=\"base\"):\n"
    "    cifar, bottleneck, bias, blocks = ARCHS[ARCH]\n"
    "    reg = keras.regularizers.L2(WEIGHT_DECAY / 2) if WEIGHT_DECAY else None\n"
    "\n"
    "    def conv(x, filters, k, stride, padding, layer_name):\n"
    "        return layers.Conv2D(filters, k, strides=stride, padding=padding, use_bias=bias,\n"
    "                             kernel_regularizer=reg,\n"
    "                             bias_regularizer=reg if bias else None, name=layer_name)(x)\n"
    "\n"
    "    def bn(x, layer_name):\n"
    "        return BatchNorm(epsilon=BN_EPS, momentum=BN_MOMENTUM, gamma_regularizer=reg,\n"
    "                         beta_regularizer=reg, name=layer_name)(x)\n"
    "\n"
    "    def relu(x, layer_name):\n"
    "        return layers.Activation(\"relu\", name=layer_name)(x)\n"
    "\n"
    "    inputs = keras.Input(shape=input_shape, name=\"input_1\")\n"
    "    width = WIDTH or (16 if cifar else 64)\n"
    "    if cifar:\n"
    "        x = conv(inputs, width, 3, 1, \"same\", \"conv1_conv\")\n"
    "        x = relu(bn(x, \"conv1_bn\"), \"conv1_relu\")\n"
    "    else:\n"
    "        x = layers.ZeroPadding2D(3, name=\"conv1_pad\")(inputs)\n"
    "        x = conv(x, width, 7, 2, \"valid\", \"conv1_conv\")\n"
    "        x = relu(bn(x, \"conv1_bn\"), \"conv1_relu\")\n"
    "        if not NO_POOL_PAD:\n"
    "            x = layers.ZeroPadding2D(1, name=\"pool1_pad\")(x)\n"
    "        x = layers.MaxPooling2D(3, strides=2, name=\"pool1_pool\")(x)\n"
    "    filters = width\n"
    "    for stage, n_blocks in enumerate(blocks):\n"
    "        for k in range(1, n_blocks + 1):\n"
    "            p = \"conv%d_block%d\" % (stage + 2, k)\n"
    "            stride = 2 if k == 1 and stage > 0 else 1\n"
    "            if bottleneck:\n"
    "                project, cout = k == 1, 4 * filters\n"
    "                y = conv(x, filters, 1, stride, \"valid\", p + \"_1_conv\")\n"
    "                y = relu(bn(y, p + \"_1_bn\"), p + \"_1_relu\")\n"
    "                y = conv(y, filters, 3, 1, \"same\", p + \"_2_conv\")\n"
    "                y = relu(bn(y, p + \"_2_bn\"), p + \"_2_relu\")\n"
    "                y = bn(conv(y, cout, 1, 1, \"valid\", p + \"_3_conv\"), p + \"_3_bn\")\n"
    "            else:\n"
    "                project, cout = stride != 1 or x.shape[-1] != filters, filters\n"
    "                y = conv(x, filters, 3, stride, \"same\", p + \"_1_conv\")\n"
    "                y = relu(bn(y, p + \"_1_bn\"), p + \"_1_relu\")\n"
    "                y = bn(conv(y, filters, 3, 1, \"same\", p + \"_2_conv\"), p + \"_2_bn\")\n"
    "            shortcut = x\n"
    "            if project:\n"
    "                shortcut = conv(x, cout, 1, stride, \"valid\", p + \"_0_conv\")\n"
    "                shortcut = bn(shortcut, p + \"_0_bn\")\n"
    "            x = layers.Add(name=p + \"_add\")([shortcut, y])\n"
    "            x = relu(x, p + \"_out\")\n"
    "        filters *= 2\n"
    "    return keras.Model(inputs, x, name=name)\n";

static const char py_keras_thaw_loader[] =
    "def load_thaw_into_keras(model, path):\n"
    "    \"\"\"Sets every layer of `model` that the .thaw file has weights for; .thaw\n"
    "    tensors are already in Keras layouts (HWIO kernels, (in, out) dense).\"\"\"\n"
    "    config, tensors = read_thaw(path)\n"
    "    check_thaw_config(config, path)\n"
    "    order = {\"Conv2D\": (\"kernel\", \"bias\"), \"Dense\": (\"kernel\", \"bias\"),\n"
    "             \"BatchNormalization\": (\"gamma\", \"beta\", \"moving_mean\", "
    "\"moving_variance\")}\n"
    "    for layer in model.layers:\n"
    "        if not layer.weights:\n"
    "            continue\n"
    "        kind = \"BatchNormalization\" if isinstance(layer, layers.BatchNormalization) \\\n"
    "            else type(layer).__name__\n"
    "        names = [\"%s/%s\" % (layer.name, w) for w in order[kind]]\n"
    "        values = [tensors[n] for n in names if n in tensors]\n"
    "        if len(values) != len(layer.weights):\n"
    "            raise SystemExit(\"%s: no weights for layer %s\" % (path, layer.name))\n"
    "        layer.set_weights(values)\n";

static const char py_keras_main[] =
    "def parse_args():\n"
    "    parser = argparse.ArgumentParser(description=__doc__.split(\"\\n\\n\")[0],\n"
    "                                     formatter_class=argparse.RawDescriptionHelpFormatter)\n"
    "    parser.add_argument(\"--data\", default=DATA_DIR,\n"
    "                        help=\"dataset folder (default %(default)s)\")\n"
    "    parser.add_argument(\"--weights\", default=BASE_WEIGHTS,\n"
    "                        help=\"pretrained base, .thaw or Keras .h5 ('' = random init)\")\n"
    "    parser.add_argument(\"--epochs\", type=int, default=EPOCHS)\n"
    "    parser.add_argument(\"--max-batches\", type=int, default=0,\n"
    "                        help=\"train only N batches per epoch: a smoke run\")\n"
    "    return parser.parse_args()\n"
    "\n"
    "\n"
    "def find_layer(base_model, model, name):\n"
    "    \"\"\"A layer by its Keras name, in the base model or in the head.\"\"\"\n"
    "    try:\n"
    "        return base_model.get_layer(name)\n"
    "    except ValueError:\n"
    "        return model.get_layer(name)\n";

static const char py_keras_folder_loader[] =
    "# ---------------------------------------------------------------------------\n"
    "# Data: an image folder ROOT/<class name>/*.png read by\n"
    "# keras.utils.image_dataset_from_directory (classes in sorted order, resized to\n"
    "# the model's input): an 80/20 split seeded with SEED, then at most K_SHOT\n"
    "# training and VAL_PER_CLASS validation images per class (0 = all). Raw pixel\n"
    "# values 0..255; preprocessing is a layer of the model.\n"
    "# ---------------------------------------------------------------------------\n"
    "def load_data(folder):\n"
    "    \"\"\"(x_train, y_train, x_val, y_val) as numpy arrays, domain shift applied.\"\"\"\n"
    "    splits = keras.utils.image_dataset_from_directory(\n"
    "        folder, labels=\"inferred\", label_mode=\"int\",\n"
    "        color_mode=\"grayscale\" if IN_C == 1 else \"rgb\", image_size=(IN_H, IN_W),\n"
    "        batch_size=None, shuffle=True, seed=SEED, validation_split=0.2, subset=\"both\")\n"
    "    if len(splits[0].class_names) != CLASSES:\n"
    "        raise SystemExit(\"%s: %d class folders, the model has %d classes\"\n"
    "                         % (folder, len(splits[0].class_names), CLASSES))\n"
    "    out = []\n"
    "    for ds, per_class, seed in zip(splits, (K_SHOT, VAL_PER_CLASS), (SEED + 1, SEED + 2)):\n"
    "        pairs = [(np.asarray(image, np.float32), int(label)) for image, label in ds]\n"
    "        x = np.stack([p[0] for p in pairs])\n"
    "        y = np.array([p[1] for p in pairs], np.int64)\n"
    "        if per_class:\n"
    "            keep = np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class]\n"
    "                                           for c in range(CLASSES)]))\n"
    "            x, y = x[keep], y[keep]\n"
    "        out += [domain_shift(x, seed), y]\n"
    "    return tuple(out)\n";

/* ------------------------------------------------------------ shared parts */

static const char *policy_phrase(const ThawExportSpec *s, ThawExportFramework fw)
{
    frozen_bn f = policies[s->preset].fbn;
    if (fw == THAW_EXPORT_PYTORCH) {
        switch (f) {
        case FBN_INFER:
            return "This script: frozen layers get requires_grad_(False) (Keras's "
                   "trainable=False),\n"
                   "and frozen BatchNorm2d modules are switched back to eval() after every\n"
                   "model.train() (set_train_mode), so they use and keep their running statistics.";
        case FBN_TIMM:
            return "This script: frozen layers get requires_grad_(False), and their BatchNorm2d\n"
                   "modules are replaced by FrozenBatchNorm2d (freeze()).";
        case FBN_BATCH_NOUPDATE:
            if (s->preset == THAW_PRESET_LIGHTNING_NO_TRAIN_BN)
                return "This script: frozen layers get requires_grad_(False), and their "
                       "BatchNorm2d\n"
                       "modules track_running_stats=False (freeze()), as Lightning does.";
            return "This script: frozen layers get requires_grad_(False); their BatchNorm2d "
                   "modules\n"
                   "stay in train mode with momentum 0, so they normalise with batch statistics\n"
                   "while running = (1 - 0) * running + 0 * batch leaves the running ones "
                   "unchanged.";
        case FBN_BATCH_UPDATE:
            return "This script: frozen layers get requires_grad_(False) and nothing else; their\n"
                   "BatchNorm2d modules follow model.train() like every other module.";
        case FBN_TRAINABLE:
            return "This script: frozen layers except BatchNorm get requires_grad_(False);\n"
                   "BatchNorm2d layers stay trainable and follow model.train().";
        }
    } else {
        switch (f) {
        case FBN_INFER:
        case FBN_TIMM:
            return "This script: frozen layers get trainable=False, and modern Keras then runs a\n"
                   "frozen BatchNormalization in inference mode by itself: no extra code needed.";
        case FBN_BATCH_NOUPDATE:
        case FBN_BATCH_UPDATE:
            return "Modern Keras forces a frozen BatchNormalization into inference mode, so this\n"
                   "script builds the BN layers as LegacyBatchNorm, a small BatchNormalization\n"
                   "subclass that keeps the behaviour above in fit() while frozen.";
        case FBN_TRAINABLE:
            return "This script: BatchNormalization layers are left out of FROZEN_LAYERS, so they\n"
                   "stay trainable and run with batch statistics in fit().";
        }
    }
    return "";
}

static const char *base_training_phrase(const ThawExportSpec *s, ThawExportFramework fw)
{
    bool keras = fw == THAW_EXPORT_KERAS;
    switch (s->base_training) {
    case THAW_FALSE:
        return keras
                   ? "x = base_model(x, training=False): every layer of the base runs in "
                     "inference\n"
                     "mode, in fit() too and still after unfreezing (the Keras transfer-learning\n"
                     "guide's recipe). Gradients still flow: unfrozen weights, BN gamma/beta\n"
                     "included, still train; only BN's moving statistics stay put."
                   : "base_model(x, training=False) becomes model.base.eval() after every\n"
                     "model.train(): the whole backbone runs in inference mode (BN on running\n"
                     "statistics, never updated); requires_grad still decides what trains.";
    case THAW_TRUE:
        return keras
                   ? "x = base_model(x, training=True): a value fixed when building wins, so the\n"
                     "base runs in training mode even in predict()/evaluate(); a frozen BN is\n"
                     "still forced into inference mode by modern Keras."
                   : "base_model(x, training=True) is PyTorch's default under model.train();\n"
                     "in eval() the backbone follows eval() (Keras would keep training mode).";
    default:
        return keras
                   ? "The base is called without a training argument: fit() passes training=True,\n"
                     "predict()/evaluate() pass False."
                   : "No override of the base's mode: model.train() / model.eval() decide.";
    }
}

static const char *mismatch_note(const ThawExportSpec *s, ThawExportFramework fw)
{
    const preset_policy *p = &policies[s->preset];
    bool torch_preset = thaw_preset_get(s->preset)->pytorch_style;
    if (fw == THAW_EXPORT_PYTORCH && !torch_preset)
        return "Not reproducible in PyTorch: running_var stores the unbiased batch variance\n"
               "n/(n-1); Keras 3 stores the biased one (Keras 2.1.4-2.3.1: n/(n-1-eps)). The\n"
               "difference is small. BN momentum is the Keras one, converted (1 - m).";
    if (fw == THAW_EXPORT_KERAS && torch_preset)
        return "Not reproducible in Keras: the moving variance is the biased batch variance\n"
               "(PyTorch stores the unbiased one, n/(n-1)); small. BN momentum is PyTorch's\n"
               "0.1, i.e. Keras momentum 0.9.";
    if (fw == THAW_EXPORT_KERAS && p->legacy_keras)
        return "Keras 2-era behaviour: this script runs on Keras 3. The original multi-backend\n"
               "Keras (2.1/2.2, TensorFlow 1.x) had no RandomFlip/RandomTranslation layers, no\n"
               "image_dataset_from_directory and no keras.ops; its frozen-BN behaviour can no\n"
               "longer be had from a stock layer and is emulated by LegacyBatchNorm below. Not\n"
               "reproduced: the n/(n-1-eps) moving variance of Keras 2.1.4-2.3.1 (Keras 3\n"
               "stores the biased variance).";
    if (fw == THAW_EXPORT_KERAS && s->preset == THAW_PRESET_TF_KERAS2)
        return "Runs on TensorFlow 2.x's tf.keras (with TensorFlow >= 2.16: pip install tf_keras;\n"
               "TF_USE_LEGACY_KERAS=1 is set below).";
    return NULL;
}

/* Word-wraps one paragraph to `width` columns (a new string). */
static char *wrap(const char *text, size_t width)
{
    GString *out = g_string_new(NULL);
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    size_t col = 0;
    for (int i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        if (!n) continue;
        if (col && col + 1 + n > width) {
            g_string_append_c(out, '\n');
            col = 0;
        } else if (col) {
            g_string_append_c(out, ' ');
            col++;
        }
        g_string_append(out, words[i]);
        col += n;
    }
    return g_string_free(out, FALSE);
}

static void emit_header(GString *s, const ThawExportSpec *spec, ThawExportFramework fw,
                        const export_graph *g)
{
    const char *fwname = fw == THAW_EXPORT_KERAS ? "Keras" : "PyTorch";
    const thaw_preset_info *pi = thaw_preset_get(spec->preset);
    g_string_append(s, "#!/usr/bin/env python3\n");
    g_autoptr(GString) h = g_string_new(NULL);
    g_string_append_printf(h, "Thaw export (%s): fine-tune %s, semantics preset %s.\n\n", fwname,
                           spec->arch, pi->name);
    g_autofree char *lr = py_float(spec->opt.lr);
    g_autoptr(GString) r = g_string_new(NULL);
    g_string_append_printf(r, "Reproduces: %s (weights %s) fine-tuned on %s, ", spec->arch,
                           spec->weights && *spec->weights ? spec->weights : "random init",
                           spec->data == THAW_EXPORT_DATA_FASHION_MNIST ? "Fashion-MNIST"
                                                                        : "an image folder");
    if (spec->data == THAW_EXPORT_DATA_FASHION_MNIST)
        g_string_append_printf(r, "classes %d-%d, ", spec->first_class,
                               spec->first_class + spec->classes - 1);
    if (spec->k) g_string_append_printf(r, "K = %d per class, ", spec->k);
    g_string_append_printf(r, "%s, %s lr %s, batch %d, %d epoch%s",
                           g->all_base_frozen   ? "base frozen"
                           : g->any_base_frozen ? "base partly frozen"
                                                : "base trainable",
                           spec->opt.kind == THAW_OPT_ADAM ? "Adam" : "SGD", lr, spec->batch,
                           spec->epochs, spec->epochs == 1 ? "" : "s");
    if (spec->unfreeze_epoch > 0) {
        g_autofree char *ulr = py_float(spec->unfreeze_lr);
        g_string_append_printf(r, ", unfrozen at epoch %d with lr %s", spec->unfreeze_epoch + 1,
                               ulr);
    }
    g_string_append_printf(r, ", seed %" G_GUINT64_FORMAT ".", spec->seed);
    g_autofree char *gen = g_strdup_printf("Generated by Thaw %s from %s.",
                                           spec->thaw_version ? spec->thaw_version : THAW_VERSION,
                                           spec->source ? spec->source : "a setup");
    g_autofree char *wrapped = wrap(r->str, 86);
    g_autofree char *wrapped_gen = wrap(gen, 86);
    g_string_append_printf(h, "%s\n%s\n\n", wrapped, wrapped_gen);
    g_string_append(h,
                    "trainable vs training: `trainable` (requires_grad) decides which weights the\n"
                    "optimizer updates; `training` (train()/eval()) decides how BatchNorm and\n"
                    "Dropout compute. The preset fixes how a frozen BatchNorm behaves in fit():\n");
    g_string_append_printf(h, "- Rule: %s\n", policies[spec->preset].rule);
    g_string_append_printf(h, "- %s\n", policy_phrase(spec, fw));
    g_string_append_printf(h, "- %s\n", base_training_phrase(spec, fw));
    const char *note = mismatch_note(spec, fw);
    if (note) g_string_append_printf(h, "- %s\n", note);
    /* indent continuation lines of the bullets */
    g_autofree char *text = g_strdup(h->str);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    bool in_bullet = false;
    for (int i = 0; lines[i]; i++) {
        if (!lines[i + 1] && !lines[i][0]) break;
        if (g_str_has_prefix(lines[i], "- "))
            in_bullet = true;
        else if (!lines[i][0])
            in_bullet = false;
        if (in_bullet && !g_str_has_prefix(lines[i], "- ") && lines[i][0])
            g_string_append_printf(s, "#   %s\n", lines[i]);
        else
            g_string_append_printf(s, lines[i][0] ? "# %s\n" : "#\n", lines[i]);
    }
    g_string_append_printf(
        s,
        "\"\"\"Fine-tune %s (%s) as Thaw's setup does, preset %s.\n\n"
        "Usage: python3 %s [--data DIR] [--weights FILE] [--epochs N] [--max-batches N]\n"
        "--max-batches 1 makes a one-step smoke run.\n\"\"\"\n",
        spec->arch, fwname, pi->name,
        fw == THAW_EXPORT_KERAS ? "train_keras.py" : "train_pytorch.py");
}

static void emit_name_list(GString *s, const char *var, GPtrArray *names)
{
    if (names->len == 0) {
        g_string_append_printf(s, "%s = []\n", var);
        return;
    }
    g_string_append_printf(s, "%s = [\n", var);
    size_t col = 0;
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *q = py_str(g_ptr_array_index(names, i));
        size_t n = strlen(q) + 2;
        if (col == 0 || col + n > 95) {
            if (col) g_string_append_c(s, '\n');
            g_string_append(s, "    ");
            col = 4;
        } else {
            g_string_append_c(s, ' ');
            col++;
        }
        g_string_append_printf(s, "%s,", q);
        col += n - 1;
    }
    g_string_append(s, "\n]\n");
}

static void emit_config(GString *s, const ThawExportSpec *spec, ThawExportFramework fw,
                        const export_graph *g)
{
    bool torch = fw == THAW_EXPORT_PYTORCH;
    const thaw_preset_info *pi = thaw_preset_get(spec->preset);
    g_autofree char *dropout = py_float(spec->dropout);
    g_autofree char *eps = py_float(bn_eps(spec));
    g_autofree char *mom = py_derived(torch ? 1.0 - pi->bn_momentum : pi->bn_momentum);
    g_autofree char *mean = py_float(spec->mean);
    g_autofree char *std = py_float(spec->std);
    g_autofree char *weights = py_str(spec->weights ? spec->weights : "");
    g_autofree char *data = py_str(spec->data_dir);
    g_autofree char *preset = py_str(pi->name);
    g_string_append(
        s, "\n# ---------------------------------------------------------------------------\n"
           "# The setup, as exported from Thaw (edit freely).\n"
           "# ---------------------------------------------------------------------------\n");
    g_string_append_printf(s, "ARCH = \"%s\"\n", spec->arch);
    g_string_append_printf(s, "IN_H, IN_W, IN_C = %d, %d, %d\n", spec->in_h, spec->in_w,
                           spec->in_c);
    g_string_append_printf(s, "WIDTH = %d  # filters of the first stage; 0 = 16 (CIFAR) or 64\n",
                           spec->width);
    g_string_append_printf(s, "HEAD_HIDDEN = %d  # > 0: Dense(HEAD_HIDDEN, relu) \"head_dense\"\n",
                           spec->head_hidden);
    g_string_append_printf(
        s, "DROPOUT = %s  # > 0: Dropout \"head_dropout\" before the classifier\n", dropout);
    g_string_append_printf(s, "CLASSES = %d\n", spec->classes);
    g_string_append_printf(s, "NO_POOL_PAD = %s\n", py_bool(spec->no_pool_pad));
    g_string_append_printf(s, "BN_EPS = %s  # belongs to the model\n", eps);
    if (torch) {
        g_autofree char *km = py_derived(pi->bn_momentum);
        g_string_append_printf(s, "BN_MOMENTUM = %s  # PyTorch convention (= Keras momentum %s)\n",
                               mom, km);
    } else {
        g_autofree char *tm = py_derived(1.0 - pi->bn_momentum);
        g_string_append_printf(s, "BN_MOMENTUM = %s  # Keras convention (= PyTorch momentum %s)\n",
                               mom, tm);
    }
    const char *pre = spec->preproc == THAW_EXPORT_PREPROC_STANDARDIZE ? "standardize"
                      : spec->preproc == THAW_EXPORT_PREPROC_CAFFE     ? "caffe"
                                                                       : "none";
    g_string_append(
        s, "# Input preprocessing: standardize = (x - INPUT_MEAN) / INPUT_STD, caffe =\n"
           "# RGB -> BGR minus the ImageNet means (Keras's ResNet50), none = raw pixels.\n");
    g_string_append_printf(s, "PREPROCESS = \"%s\"\n", pre);
    g_string_append_printf(s, "INPUT_MEAN, INPUT_STD = %s, %s  # pixel units (0..255)\n", mean,
                           std);
    g_string_append_printf(s, "BASE_WEIGHTS = %s\n", weights);
    g_string_append_printf(s, "DATA_DIR = %s\n", data);
    if (spec->data == THAW_EXPORT_DATA_FASHION_MNIST)
        g_string_append_printf(s,
                               "FIRST_CLASS = %d  # the target: classes FIRST_CLASS.."
                               "FIRST_CLASS + CLASSES - 1\n",
                               spec->first_class);
    g_string_append_printf(s, "K_SHOT = %d  # training images per class, 0 = all\n", spec->k);
    g_string_append_printf(s, "VAL_PER_CLASS = %d  # validation images per class, 0 = all\n",
                           spec->val_k);
    {
        g_string_append_printf(s, "AUGMENT = %s\n", py_bool(has_augment(spec)));
        g_string_append_printf(s, "AUG_FLIP = %s  # random horizontal flip, p = 0.5\n",
                               py_bool(spec->augment.flip));
        g_string_append_printf(s,
                               "AUG_SHIFT = %d  # random translation by up to this many pixels\n",
                               spec->augment.shift);
        g_string_append_printf(s,
                               "AUG_FILL = \"%s\"  # what a translation moves in: zero or edge\n",
                               spec->augment.fill == THAW_FILL_EDGE ? "edge" : "zero");
    }
    g_string_append_printf(s, "PRESET = %s\n", preset);
    g_string_append_printf(s, "BASE_TRAINING = %s  # base_model(x, training=BASE_TRAINING)\n",
                           tristate_py(spec->base_training));
    g_string_append(
        s, "# Layers frozen (trainable=False) after Thaw resolved the freeze rules; layers\n"
           "# without weights are left out.");
    if (policies[spec->preset].fbn == FBN_TRAINABLE)
        g_string_append(s, " fastai keeps BatchNorm layers trainable: none is\n# listed.");
    g_string_append_c(s, '\n');
    emit_name_list(s, "FROZEN_LAYERS", g->frozen);
    g_autofree char *lr = py_float(spec->opt.lr);
    g_autofree char *momentum = py_float(spec->opt.momentum);
    g_autofree char *wd = py_float(spec->opt.weight_decay);
    g_autofree char *b1 = py_float(spec->opt.beta1);
    g_autofree char *b2 = py_float(spec->opt.beta2);
    g_autofree char *aeps = py_float(spec->opt.eps);
    g_string_append_printf(s, "OPTIMIZER = \"%s\"\n",
                           spec->opt.kind == THAW_OPT_ADAM ? "adam" : "sgd");
    g_string_append_printf(s, "LR = %s\n", lr);
    g_string_append_printf(s, "MOMENTUM, NESTEROV = %s, %s  # SGD\n", momentum,
                           py_bool(spec->opt.nesterov));
    g_string_append_printf(s, "WEIGHT_DECAY = %s  # L2: weight_decay * w added to the gradient\n",
                           wd);
    g_string_append_printf(s, "BETA1, BETA2, ADAM_EPS = %s, %s, %s  # Adam\n", b1, b2, aeps);
    g_string_append_printf(s, "EPOCHS = %d\n", spec->epochs);
    g_string_append_printf(s, "BATCH = %d\n", spec->batch);
    static const char *const stages[THAW_EXPORT_STAGES] = {"conv1", "conv2", "conv3",
                                                           "conv4", "conv5", "head"};
    g_string_append(s, "# Learning-rate multiplier per stage (conv1 is the stem).\nLR_MULT = {");
    for (int i = 0; i < THAW_EXPORT_STAGES; i++) {
        g_autofree char *v = py_float(lr_mult(spec, i));
        g_string_append_printf(s, "%s\"%s\": %s", i ? ", " : "", stages[i], v);
    }
    g_string_append(s, "}\n");
    g_autofree char *ulr = py_float(spec->unfreeze_lr);
    g_string_append_printf(s,
                           "UNFREEZE_EPOCH = %d  # > 0: unfreeze everything at this epoch "
                           "(0-based)\n",
                           spec->unfreeze_epoch);
    g_string_append_printf(s, "UNFREEZE_LR = %s  # ... and go on with this learning rate\n", ulr);
    g_string_append_printf(s, "SEED = %" G_GUINT64_FORMAT "\n\n\n", spec->seed);
}

/* The domain shift: Thaw's steps in Thaw's order, each clamped to [0, 255]. */
static void emit_domain_shift(GString *s, const ThawExportSpec *spec)
{
    const thaw_transform *t = &spec->shift;
    g_string_append(s, "def domain_shift(x, seed):\n");
    if (!thaw_transform_has_shift(t)) {
        g_string_append(s, "    \"\"\"No domain shift in this setup: the images as loaded.\"\"\"\n"
                           "    return x\n\n\n");
        return;
    }
    char desc[128];
    thaw_transform_describe(t, desc, sizeof desc);
    g_string_append_printf(
        s,
        "    \"\"\"The target domain's shift, applied once to the loaded raw pixels, each\n"
        "    step clamped to [0, 255] as in Thaw (its noise stream differs): %s\"\"\"\n",
        desc);
    if (t->brightness != 0.0f) {
        g_autofree char *v = py_float(t->brightness);
        g_string_append_printf(s, "    x = np.clip(x + %s, 0, 255)  # brightness\n", v);
    }
    if (t->contrast != 0.0f) {
        g_autofree char *v = py_float(t->contrast);
        g_string_append_printf(
            s,
            "    mean = x.mean(axis=(1, 2), keepdims=True)  # per image and channel\n"
            "    x = np.clip(mean + %s * (x - mean), 0, 255)  # contrast\n",
            v);
    }
    if (t->invert) g_string_append(s, "    x = 255 - x  # invert\n");
    if (t->lift)
        g_string_append(s, "    x = np.clip(76.5 + 0.7 * x, 0, 255)  # lifted background\n");
    if (t->dark != 0.0f) {
        g_autofree char *v = py_float(t->dark);
        g_string_append_printf(s, "    x = np.clip(%s * x, 0, 255)  # darker\n", v);
    }
    if (t->noise != 0.0f) {
        g_autofree char *v = py_float(t->noise);
        g_string_append(s, "    rng = np.random.default_rng(seed)\n");
        g_string_append_printf(s,
                               "    x = np.clip(x + %s * rng.standard_normal(x.shape), 0, 255)"
                               "  # noise\n",
                               v);
    }
    g_string_append(s, "    return x.astype(np.float32)\n\n\n");
}

/* ------------------------------------------------------------ PyTorch */

static void emit_pytorch_semantics(GString *s, const ThawExportSpec *spec)
{
    frozen_bn f = policies[spec->preset].fbn;
    g_string_append(
        s, "# ---------------------------------------------------------------------------\n"
           "# Freezing and the `training` semantics of the preset.\n");
    comment(s, policies[spec->preset].rule);
    g_string_append(
        s, "# ---------------------------------------------------------------------------\n"
           "def frozen_modules(model):\n"
           "    \"\"\"(name, module) of the frozen layers that are still frozen.\"\"\"\n"
           "    return [(name, model.layer(name)) for name in FROZEN_LAYERS]\n\n\n"
           "def freeze(model):\n"
           "    \"\"\"requires_grad_(False) is PyTorch's trainable=False: no gradient, no update.\n"
           "    It does not touch BatchNorm's running statistics (buffers).\"\"\"\n"
           "    for name, module in frozen_modules(model):\n");
    switch (f) {
    case FBN_TRAINABLE:
        g_string_append(
            s, "        if isinstance(module, nn.BatchNorm2d):\n"
               "            continue  # fastai train_bn: BN in frozen groups stays trainable\n"
               "        module.requires_grad_(False)\n");
        break;
    case FBN_TIMM:
        g_string_append(
            s, "        module.requires_grad_(False)\n"
               "        if isinstance(module, nn.BatchNorm2d):\n"
               "            # timm: fixed statistics and affine, whatever train()/eval() say\n"
               "            model.base[name] = FrozenBatchNorm2d(module)\n");
        break;
    case FBN_BATCH_NOUPDATE:
        g_string_append(s, "        module.requires_grad_(False)\n"
                           "        if isinstance(module, nn.BatchNorm2d):\n");
        if (spec->preset == THAW_PRESET_LIGHTNING_NO_TRAIN_BN)
            g_string_append(
                s,
                "            # Lightning: batch statistics in train(), running ones never updated\n"
                "            module.track_running_stats = False\n");
        else
            g_string_append(
                s,
                "            # Keras 2.1.3-2.3.1: batch statistics in fit(), no update: in train\n"
                "            # mode with momentum 0 the running statistics stay as they are\n"
                "            module.momentum = 0.0\n");
        break;
    case FBN_INFER:
        g_string_append(s,
                        "        module.requires_grad_(False)\n"
                        "    # (frozen BatchNorm2d modules are put in eval() by set_train_mode)\n");
        break;
    case FBN_BATCH_UPDATE:
        g_string_append(s,
                        "        module.requires_grad_(False)\n"
                        "    # BatchNorm2d modules are left alone: in train() they use batch\n"
                        "    # statistics and update their running statistics, frozen or not.\n");
        break;
    }
    g_string_append(
        s, "\n\ndef unfreeze(model):\n"
           "    \"\"\"Unfreezes every frozen layer (the second phase of the recipe).\"\"\"\n"
           "    for name, module in frozen_modules(model):\n"
           "        module.requires_grad_(True)\n");
    if (f == FBN_TIMM)
        g_string_append(s, "        if isinstance(module, FrozenBatchNorm2d):\n"
                           "            model.base[name] = thaw_batch_norm(module, BN_MOMENTUM)\n");
    else if (f == FBN_BATCH_NOUPDATE && spec->preset == THAW_PRESET_LIGHTNING_NO_TRAIN_BN)
        g_string_append(s, "        if isinstance(module, nn.BatchNorm2d):\n"
                           "            module.track_running_stats = True\n");
    else if (f == FBN_BATCH_NOUPDATE)
        g_string_append(s, "        if isinstance(module, nn.BatchNorm2d):\n"
                           "            module.momentum = BN_MOMENTUM\n");
    g_string_append(
        s, "    FROZEN_LAYERS.clear()  # nothing is frozen from now on\n\n\n"
           "def set_train_mode(model):\n"
           "    \"\"\"model.train() for a training epoch, then the preset's exceptions.\"\"\"\n"
           "    model.train()\n");
    if (f == FBN_INFER)
        g_string_append(
            s, "    # Frozen BatchNorm runs in inference mode, so re-apply eval() after every\n"
               "    # model.train() (which sets every module back to training mode).\n"
               "    for _, module in frozen_modules(model):\n"
               "        if isinstance(module, nn.BatchNorm2d):\n"
               "            module.eval()\n");
    if (spec->base_training == THAW_FALSE)
        g_string_append(
            s,
            "    # base_model(x, training=False): the whole backbone in inference mode, always.\n"
            "    model.base.eval()\n");
    else if (spec->base_training == THAW_TRUE)
        g_string_append(
            s, "    # base_model(x, training=True): the backbone follows model.train() here.\n");
    g_string_append(s, "\n\n");
}

static char *export_pytorch(const ThawExportSpec *spec, const export_graph *g)
{
    GString *s = g_string_new(NULL);
    emit_header(s, spec, THAW_EXPORT_PYTORCH, g);
    bool fashion = spec->data == THAW_EXPORT_DATA_FASHION_MNIST;
    g_string_append_printf(s,
                           "import argparse\n%simport os\nimport random\nimport struct\n"
                           "import zlib\n\nimport numpy as np\nimport torch\n"
                           "import torch.nn as nn\nimport torch.nn.functional as F\n",
                           fashion ? "import gzip\n" : "");
    emit_config(s, spec, THAW_EXPORT_PYTORCH, g);
    emit_domain_shift(s, spec);
    g_string_append(s, py_preprocess);
    g_string_append(s, "\n\n");
    if (spec->data == THAW_EXPORT_DATA_FASHION_MNIST)
        g_string_append(s, py_fashion_loader);
    else
        g_string_append(s, py_folder_loader);
    g_string_append(s, "\n\n");
    g_string_append(s, py_pt_augment);
    g_string_append(s, "\n\n");
    g_string_append(s, py_thaw_reader);
    g_string_append(s, "\n\n");
    g_string_append(s, py_pt_model);
    g_string_append(s, "\n\n");
    if (policies[spec->preset].fbn == FBN_TIMM) {
        g_string_append(s, py_pt_timm);
        g_string_append(s, "\n\n");
    }
    emit_pytorch_semantics(s, spec);
    g_string_append(s, py_pt_optimizer);
    g_string_append(s, "\n\n");
    if (fashion) {
        g_string_append(s, py_pt_check_source);
        g_string_append(s, "\n\n");
    } else {
        g_string_append(s,
                        "def check_source(args, device):\n"
                        "    raise SystemExit(\"--check-source needs Fashion-MNIST data\")\n\n\n");
    }
    g_string_append(s, py_pt_main);
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ Keras */

/* keras.applications has the ResNet50 family with exactly these names. */
static bool use_keras_applications(const ThawExportSpec *s)
{
    bool family = !strcmp(s->arch, "resnet50") || !strcmp(s->arch, "resnet101") ||
                  !strcmp(s->arch, "resnet152");
    frozen_bn f = policies[s->preset].fbn;
    return family && is_h5(s->weights) && (s->width == 0 || s->width == 64) && s->in_c == 3 &&
           !s->no_pool_pad && bn_eps(s) == 1.001e-5f && f != FBN_BATCH_NOUPDATE &&
           f != FBN_BATCH_UPDATE && s->opt.weight_decay == 0.0f;
}

static const char *keras_app_name(const char *arch)
{
    return !strcmp(arch, "resnet50")    ? "ResNet50"
           : !strcmp(arch, "resnet101") ? "ResNet101"
                                        : "ResNet152";
}

static void emit_legacy_bn(GString *s, const ThawExportSpec *spec)
{
    frozen_bn f = policies[spec->preset].fbn;
    if (f != FBN_BATCH_NOUPDATE && f != FBN_BATCH_UPDATE) {
        g_string_append(s, "BatchNorm = layers.BatchNormalization\n\n\n");
        return;
    }
    g_string_append_printf(
        s,
        "class LegacyBatchNorm(layers.BatchNormalization):\n"
        "    \"\"\"A BatchNormalization that, while frozen (trainable=False) and in a training\n"
        "    step, still normalises with the batch statistics%s\n"
        "    (preset %s). Keras 3 would force a frozen BN into inference mode\n"
        "    instead. Called with training=False (predict, evaluate, base_model(x,\n"
        "    training=False)) it is the stock layer.\"\"\"\n\n"
        "    UPDATE_WHEN_FROZEN = %s\n\n"
        "    def call(self, inputs, training=None, mask=None):\n"
        "        if not training or self.trainable:\n"
        "            return super().call(inputs, training=training, mask=mask)\n"
        "        mean, variance = ops.moments(inputs, axes=[0, 1, 2])  # biased variance\n"
        "        if self.UPDATE_WHEN_FROZEN:\n"
        "            m = self.momentum\n"
        "            self.moving_mean.assign(self.moving_mean * m + mean * (1 - m))\n"
        "            self.moving_variance.assign(self.moving_variance * m + variance * (1 - m))\n"
        "        return ops.batch_normalization(inputs, mean, variance, axis=-1, "
        "offset=self.beta,\n"
        "                                       scale=self.gamma, epsilon=self.epsilon)\n\n\n"
        "BatchNorm = LegacyBatchNorm\n\n\n",
        f == FBN_BATCH_UPDATE ? " and folds them into its\n    moving statistics" : "",
        thaw_preset_get(spec->preset)->name, py_bool(f == FBN_BATCH_UPDATE));
}

static void emit_keras_optimizer(GString *s, const ThawExportSpec *spec)
{
    g_string_append(
        s, "def make_optimizer(lr):\n"
           "    \"\"\"The optimizer. Weight decay: Thaw and PyTorch add weight_decay * w to the\n"
           "    gradient (coupled L2), while the weight_decay argument of Keras optimizers is\n"
           "    decoupled (w -= lr * wd * w, outside momentum/Adam). So this script leaves that\n"
           "    argument alone and puts L2(WEIGHT_DECAY / 2) regularizers on the layers: the\n"
           "    gradient of WEIGHT_DECAY / 2 * w^2 is exactly WEIGHT_DECAY * w.\"\"\"\n");
    if (has_lr_mults(spec))
        g_string_append(
            s,
            "    # LR_MULT is NOT applied: Keras optimizers have one learning rate for all\n"
            "    # variables. Reproduce it with one optimizer per stage in a custom train_step,\n"
            "    # or keras.optimizers.MultiOptimizer (tensorflow_addons) in tf.keras.\n");
    if (spec->opt.kind == THAW_OPT_ADAM)
        g_string_append(
            s, "    # Keras's Adam folds the bias correction into the step size, so its epsilon\n"
               "    # acts slightly differently from PyTorch's; identical for eps -> 0.\n"
               "    return keras.optimizers.Adam(learning_rate=lr, beta_1=BETA1, beta_2=BETA2,\n"
               "                                 epsilon=ADAM_EPS)\n\n\n");
    else
        g_string_append(s,
                        "    # Keras's v = m * v - lr * g; w += v is PyTorch's buf = m * buf + g;\n"
                        "    # w -= lr * buf at a constant learning rate (Nesterov likewise).\n"
                        "    return keras.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM,\n"
                        "                                nesterov=NESTEROV)\n\n\n");
}

static void emit_keras_main(GString *s, const ThawExportSpec *spec, const export_graph *g)
{
    bool apps = use_keras_applications(spec);
    g_string_append(
        s, "def main():\n"
           "    args = parse_args()\n"
           "    keras.utils.set_random_seed(SEED)\n"
           "    x_train, y_train, x_val, y_val = load_data(args.data)\n"
           "    if args.max_batches:  # a smoke run\n"
           "        x_train = x_train[:args.max_batches * BATCH]\n"
           "        y_train = y_train[:args.max_batches * BATCH]\n"
           "    reg = keras.regularizers.L2(WEIGHT_DECAY / 2) if WEIGHT_DECAY else None\n\n");
    if (apps) {
        g_string_append_printf(
            s,
            "    # The base: Keras's own %s (same graph and layer names as Thaw's), without\n"
            "    # its top, and the Keras .h5 weights (loaded by layer order).\n"
            "    base_model = keras.applications.%s(weights=None, include_top=False,\n"
            "                                       input_shape=(IN_H, IN_W, IN_C))\n"
            "    if args.weights:\n"
            "        base_model.load_weights(args.weights)\n"
            "    for layer in base_model.layers:\n"
            "        if isinstance(layer, layers.BatchNormalization):\n"
            "            layer.momentum = BN_MOMENTUM  # the preset's momentum; epsilon stays\n\n",
            keras_app_name(spec->arch), keras_app_name(spec->arch));
    } else {
        g_string_append(
            s, "    # The base: Thaw's graph with Keras layer names; .thaw weights through the\n"
               "    # reader above, Keras .h5 weights of the same graph through load_weights.\n"
               "    base_model = build_thaw_resnet((IN_H, IN_W, IN_C))\n"
               "    if args.weights.endswith(\".thaw\"):\n"
               "        load_thaw_into_keras(base_model, args.weights)\n"
               "    elif args.weights:\n"
               "        base_model.load_weights(args.weights)\n\n");
    }
    g_string_append(s,
                    "    # The full model: augmentation -> preprocessing -> base -> the new head.\n"
                    "    inputs = keras.Input(shape=(IN_H, IN_W, IN_C), name=\"image\")\n"
                    "    x = inputs\n");
    if (has_augment(spec)) {
        g_string_append(
            s,
            "    # Augmentation layers run only in fit() (fit passes training=True, predict and\n"
            "    # evaluate pass False), before the base, on raw pixels.\n");
        if (spec->augment.flip)
            g_string_append(s, "    x = layers.RandomFlip(\"horizontal\", seed=SEED, "
                               "name=\"augment_flip\")(x)\n");
        if (spec->augment.shift > 0)
            g_string_append_printf(
                s,
                "    x = layers.RandomTranslation(AUG_SHIFT / IN_H, AUG_SHIFT / IN_W,\n"
                "                                 fill_mode=\"%s\", fill_value=0.0,\n"
                "                                 interpolation=\"nearest\", seed=SEED,\n"
                "                                 name=\"augment_shift\")(x)\n",
                spec->augment.fill == THAW_FILL_EDGE ? "nearest" : "constant");
    }
    if (spec->preproc == THAW_EXPORT_PREPROC_STANDARDIZE)
        g_string_append(s,
                        "    x = layers.Rescaling(1 / INPUT_STD, offset=-INPUT_MEAN / INPUT_STD,\n"
                        "                         name=\"preprocess\")(x)\n");
    else if (spec->preproc == THAW_EXPORT_PREPROC_CAFFE)
        g_string_append(s, "    x = layers.Lambda(keras.applications.resnet50.preprocess_input,\n"
                           "                      name=\"preprocess\")(x)  # caffe mode\n");
    switch (spec->base_training) {
    case THAW_FALSE:
        g_string_append(
            s, "    # training=False: the base runs in inference mode in fit() too, also after it\n"
               "    # is unfrozen (BN keeps its moving statistics; gamma/beta still train).\n"
               "    x = base_model(x, training=False)\n");
        break;
    case THAW_TRUE:
        g_string_append(
            s, "    # training=True is fixed on this node: the base runs in training mode even in\n"
               "    # predict()/evaluate() (but a frozen BN is still forced into inference mode).\n"
               "    x = base_model(x, training=True)\n");
        break;
    default:
        g_string_append(
            s, "    # No training argument: the base follows fit() (True) / predict() (False).\n"
               "    x = base_model(x)\n");
    }
    g_string_append(s, "    x = layers.GlobalAveragePooling2D(name=\"avg_pool\")(x)\n");
    if (spec->head_hidden > 0)
        g_string_append(
            s, "    x = layers.Dense(HEAD_HIDDEN, activation=\"relu\", kernel_regularizer=reg,\n"
               "                     bias_regularizer=reg, name=\"head_dense\")(x)\n");
    if (spec->dropout > 0.0f)
        g_string_append(s,
                        "    x = layers.Dropout(DROPOUT, seed=SEED, name=\"head_dropout\")(x)\n");
    g_string_append(
        s, "    outputs = layers.Dense(CLASSES, kernel_regularizer=reg, bias_regularizer=reg,\n"
           "                           name=\"predictions\")(x)  # logits\n"
           "    model = keras.Model(inputs, outputs, name=\"thaw_finetune\")\n\n");
    g_string_append(
        s, "    # Freezing: trainable=False takes a layer's weights out of trainable_weights.\n");
    if (g->all_base_frozen && policies[spec->preset].fbn != FBN_TRAINABLE)
        g_string_append(s,
                        "    # Here that is the whole base, i.e. base_model.trainable = False.\n");
    g_string_append(
        s, "    for name in FROZEN_LAYERS:\n"
           "        find_layer(base_model, model, name).trainable = False\n"
           "    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
           "    model.compile(optimizer=make_optimizer(LR), loss=loss, metrics=[\"accuracy\"])\n"
           "    print(\"%d training images, %d validation images; %d trainable weights\"\n"
           "          % (len(x_train), len(x_val),\n"
           "             sum(int(np.prod(w.shape)) for w in model.trainable_weights)))\n\n"
           "    first = min(UNFREEZE_EPOCH, args.epochs) if UNFREEZE_EPOCH else args.epochs\n"
           "    history = model.fit(x_train, y_train, batch_size=BATCH, epochs=first,\n"
           "                        validation_data=(x_val, y_val), shuffle=True)\n");
    if (spec->unfreeze_epoch > 0) {
        g_string_append(
            s,
            "    if UNFREEZE_EPOCH and args.epochs > UNFREEZE_EPOCH:\n"
            "        # Phase 2, the Keras transfer-learning guide's fine-tuning step: unfreeze,\n"
            "        # then RE-COMPILE. A change of `trainable` takes effect only at the next\n"
            "        # compile(); without it the old set of trainable weights keeps training.\n");
        if (spec->base_training == THAW_FALSE)
            g_string_append(
                s,
                "        # The base still runs with training=False, so its BN layers keep their\n"
                "        # moving statistics while their gamma/beta now train.\n");
        else
            g_string_append(s, "        # Unfrozen BN layers now run in training mode in fit(): "
                               "batch statistics,\n"
                               "        # moving statistics overwritten (the guide passes "
                               "training=False to avoid it).\n");
        g_string_append(
            s,
            "        for name in FROZEN_LAYERS:\n"
            "            find_layer(base_model, model, name).trainable = True\n"
            "        model.compile(optimizer=make_optimizer(UNFREEZE_LR), loss=loss,\n"
            "                      metrics=[\"accuracy\"])\n"
            "        history = model.fit(x_train, y_train, batch_size=BATCH, epochs=args.epochs,\n"
            "                            initial_epoch=UNFREEZE_EPOCH,\n"
            "                            validation_data=(x_val, y_val), shuffle=True)\n");
    }
    g_string_append(
        s, "    val_loss, val_acc = model.evaluate(x_val, y_val, batch_size=256, verbose=0)\n"
           "    print(\"validation (inference mode): loss %.4f, accuracy %.4f\" % (val_loss, "
           "val_acc))\n"
           "    print(\"final loss: %.6f\" % history.history[\"loss\"][-1])\n\n\n"
           "if __name__ == \"__main__\":\n"
           "    main()\n");
}

static char *export_keras(const ThawExportSpec *spec, const export_graph *g)
{
    const preset_policy *p = &policies[spec->preset];
    bool legacy_bn = p->fbn == FBN_BATCH_NOUPDATE || p->fbn == FBN_BATCH_UPDATE;
    bool apps = use_keras_applications(spec);
    GString *s = g_string_new(NULL);
    emit_header(s, spec, THAW_EXPORT_KERAS, g);
    bool fashion = spec->data == THAW_EXPORT_DATA_FASHION_MNIST;
    bool need_os = fashion || spec->preset == THAW_PRESET_TF_KERAS2;
    bool need_struct = fashion || !apps;
    g_string_append_printf(s, "import argparse\n%s%s%s%s\nimport numpy as np\n\n",
                           fashion ? "import gzip\n" : "", need_os ? "import os\n" : "",
                           need_struct ? "import struct\n" : "", !apps ? "import zlib\n" : "");
    if (spec->preset == THAW_PRESET_TF_KERAS2)
        g_string_append(
            s, "# tf.keras 2.x: with TensorFlow >= 2.16 this selects the tf_keras package.\n"
               "os.environ.setdefault(\"TF_USE_LEGACY_KERAS\", \"1\")\n"
               "import tensorflow as tf  # noqa: E402\n\n"
               "keras = tf.keras\n");
    else
        g_string_append(s, "import keras  # Keras 3 (any backend)\n");
    if (legacy_bn) g_string_append(s, "from keras import ops\n");
    g_string_append(s, "\nlayers = keras.layers\n");
    emit_config(s, spec, THAW_EXPORT_KERAS, g);
    emit_domain_shift(s, spec);
    g_string_append(s, spec->data == THAW_EXPORT_DATA_FASHION_MNIST ? py_fashion_loader
                                                                    : py_keras_folder_loader);
    g_string_append(s, "\n\n");
    if (!apps) {
        g_string_append(s, py_thaw_reader);
        g_string_append(s, "\n\n");
        g_string_append(s, py_keras_thaw_loader);
        g_string_append(s, "\n\n");
        emit_legacy_bn(s, spec);
        g_string_append(s, py_keras_builder);
        g_string_append(s, "\n\n");
    } else {
        g_string_append(
            s, "# Weight decay as L2 regularizers covers only the new head here: the\n"
               "# keras.applications base has none (this setup has no weight decay).\n\n\n");
    }
    g_string_append(s, py_keras_main);
    g_string_append(s, "\n\n");
    emit_keras_optimizer(s, spec);
    emit_keras_main(s, spec, g);
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ API */

char *thaw_export_code(const ThawExportSpec *spec, ThawExportFramework fw, GError **error)
{
    g_return_val_if_fail(spec != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!validate(spec, fw, error)) return NULL;
    export_graph g = {0};
    if (!build_graph(spec, &g, error)) return NULL;
    if (policies[spec->preset].fbn == FBN_TRAINABLE) {
        /* fastai train_bn: BN layers are never frozen */
        for (guint i = g.frozen->len; i-- > 0;)
            if (is_bn_name(g_ptr_array_index(g.frozen, i))) g_ptr_array_remove_index(g.frozen, i);
    }
    char *text = fw == THAW_EXPORT_KERAS ? export_keras(spec, &g) : export_pytorch(spec, &g);
    export_graph_clear(&g);
    return text;
}

void thaw_export_spec_default(ThawExportSpec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->source = "the default scenario (fashion-resnet20, Fashion-MNIST 0-4 -> 5-9)";
    g_strlcpy(spec->arch, "resnet20", sizeof spec->arch);
    spec->in_h = spec->in_w = 28;
    spec->in_c = 1;
    spec->head_hidden = 0;
    spec->dropout = 0.2f;
    spec->classes = 5;
    spec->preproc = THAW_EXPORT_PREPROC_STANDARDIZE;
    spec->mean = 72.93f;
    spec->std = 1.0f / 0.01110926f; /* the shipped model's input_scale */
    spec->weights = THAW_MODELS_DIR "/fashion-resnet20.thaw";
    spec->data = THAW_EXPORT_DATA_FASHION_MNIST;
    spec->data_dir = FASHION_MNIST_DIR;
    spec->first_class = 5;
    spec->k = 100;
    spec->val_k = 0;
    spec->freeze_base = true;
    spec->preset = THAW_PRESET_KERAS3;
    spec->base_training = THAW_UNSET;
    thaw_optimizer_default(&spec->opt, THAW_OPT_SGD);
    spec->opt.lr = 0.05f;
    spec->epochs = 8;
    spec->batch = 32;
    for (int i = 0; i < THAW_EXPORT_STAGES; i++) spec->lr_mult[i] = 1.0f;
    spec->seed = 1;
}

const char *thaw_export_framework_name(ThawExportFramework fw)
{
    return fw == THAW_EXPORT_KERAS ? "keras" : fw == THAW_EXPORT_PYTORCH ? "pytorch" : "?";
}

gboolean thaw_export_framework_from_name(const char *name, ThawExportFramework *out)
{
    if (!name) return FALSE;
    if (!g_ascii_strcasecmp(name, "keras"))
        *out = THAW_EXPORT_KERAS;
    else if (!g_ascii_strcasecmp(name, "pytorch") || !g_ascii_strcasecmp(name, "torch"))
        *out = THAW_EXPORT_PYTORCH;
    else
        return FALSE;
    return TRUE;
}
