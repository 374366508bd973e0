/* Fine-tune setups: the option table, files, command line, validation, freeze rules. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "setup.h"

#define PRESETS thaw_setup_presets_dir()

/* THAW_PRESETS_DIR/name, valid until the next call. */
static const char *preset_file(const char *name)
{
    static char buf[4096];
    g_snprintf(buf, sizeof buf, "%s/%s", PRESETS, name);
    return buf;
}

/* ------------------------------------------------------------ helpers */

static thaw_model *build(const char *arch, int hw, int c, int classes, int width)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    g_strlcpy(cfg.arch, arch, sizeof cfg.arch);
    cfg.in_h = cfg.in_w = hw;
    cfg.in_c = c;
    cfg.classes = classes;
    cfg.width = width;
    thaw_model *m = NULL;
    thaw_error err;
    thaw_status st = thaw_model_new(&m, &cfg, &err);
    if (st != THAW_OK) g_error("thaw_model_new: %s", err.msg);
    return m;
}

static thaw_model *resnet20(void)
{
    return build("resnet20", 28, 1, 5, 0);
}

static thaw_model *resnet50_tiny(void)
{
    return build("resnet50", 32, 3, 5, 4);
}

static gboolean trainable(const thaw_model *m, const char *name)
{
    int i = thaw_model_find_layer(m, name);
    g_assert_cmpint(i, >=, 0);
    return m->layers[i].trainable;
}

/* Loads text as a setup file on top of s. */
static gboolean load_text(ThawSetup *s, const char *text, GError **error)
{
    return thaw_setup_load_data(s, text, "test.ini", NULL, error);
}

static void assert_error(GError *e, int code, const char *needle)
{
    g_assert_nonnull(e);
    if (!strstr(e->message, needle))
        g_error("error '%s' does not contain '%s'", e->message, needle);
    g_assert_error(e, THAW_SETUP_ERROR, code);
}

/* Sets key=value and expects the error code and message part. */
static void expect_set_error(const char *key, const char *value, int code, const char *needle)
{
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;
    g_assert_false(thaw_setup_set(s, key, value, &e));
    assert_error(e, code, needle);
}

/* ------------------------------------------------------------ the table and defaults */

static void test_table(void)
{
    size_t n;
    const ThawSetupOption *o = thaw_setup_options(&n);
    g_assert_cmpuint(n, >=, 30);
    for (size_t i = 0; i < n; i++) {
        g_assert_nonnull(o[i].help);
        g_assert_nonnull(o[i].metavar);
        g_assert_nonnull(o[i].def);
        /* bare keys are unique, so --key is never ambiguous */
        for (size_t j = i + 1; j < n; j++) g_assert_cmpstr(o[i].key, !=, o[j].key);
        g_assert_true(thaw_setup_find_option(o[i].key) == &o[i]);
        g_autofree char *qual = g_strdup_printf("%s.%s", o[i].section, o[i].key);
        g_assert_true(thaw_setup_find_option(qual) == &o[i]);
    }
    g_assert_true(thaw_setup_find_option("val-k") == thaw_setup_find_option("val_k"));
    g_assert_true(thaw_setup_find_option("train/batch") == thaw_setup_find_option("batch"));
    g_assert_null(thaw_setup_find_option("model.batch"));
    g_assert_null(thaw_setup_find_option("bach"));

    g_autofree char *help = thaw_setup_help();
    g_autofree char *md = thaw_setup_reference_markdown();
    for (size_t i = 0; i < n; i++) {
        g_autofree char *opt = g_strdup_printf("--%s ", o[i].key);
        g_autofree char *cell = g_strdup_printf("| `%s` |", o[i].key);
        g_assert_nonnull(strstr(help, opt));
        g_assert_nonnull(strstr(md, cell));
    }
    g_assert_nonnull(strstr(help, "--setup FILE"));
    /* no help line is wider than 100 columns */
    g_auto(GStrv) lines = g_strsplit(help, "\n", -1);
    for (char **l = lines; *l; l++) g_assert_cmpint(g_utf8_strlen(*l, -1), <=, 100);
}

static void test_defaults(void)
{
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_assert_cmpstr(s->model, ==, "fashion-resnet20");
    g_assert_cmpstr(s->arch, ==, "");
    g_assert_cmpstr(s->dataset, ==, "fashion-mnist");
    g_assert_cmpstr(s->val_dataset, ==, "");
    g_assert_cmpint(s->k, ==, 100);
    g_assert_cmpint(s->val_k, ==, 0);
    g_assert_true(s->base);
    g_assert_false(s->bn_only);
    g_assert_cmpint(s->unfreeze_last, ==, 0);
    g_assert_cmpint(s->preset, ==, THAW_PRESET_KERAS3);
    g_assert_cmpint(s->base_training, ==, THAW_UNSET);
    g_assert_true(s->bn_momentum < 0);
    g_assert_cmpint(s->optimizer, ==, THAW_OPT_SGD);
    g_assert_cmpfloat(s->lr, ==, 0.05);
    g_assert_cmpfloat(s->momentum, ==, 0.9);
    g_assert_cmpint(s->epochs, ==, 8);
    g_assert_cmpint(s->batch, ==, 32);
    g_assert_cmpint(s->unfreeze_epoch, ==, 0);
    g_assert_cmpuint(s->seed, ==, 1);
    g_assert_false(thaw_transform_has_shift(&s->shift));
    g_assert_false(thaw_transform_has_augment(&s->augment));
    g_autoptr(GError) e = NULL;
    g_assert_true(thaw_setup_validate(s, &e));
    g_assert_no_error(e);

    thaw_optimizer opt;
    thaw_setup_optimizer(s, &opt);
    g_assert_cmpint(opt.kind, ==, THAW_OPT_SGD);
    g_assert_cmpfloat_with_epsilon(opt.lr, 0.05, 1e-7);
    g_assert_cmpfloat_with_epsilon(opt.momentum, 0.9, 1e-7);

    /* the shipped model resolves */
    ThawSetupModelFormat fmt;
    g_autofree char *path = thaw_setup_resolve_model(s, &fmt, &e);
    g_assert_no_error(e);
    g_assert_true(g_str_has_suffix(path, "/fashion-resnet20.thaw"));
    g_assert_cmpint(fmt, ==, THAW_SETUP_MODEL_THAW);

    /* default.ini is the same scenario as the built-in defaults */
    g_autoptr(ThawSetup) d = thaw_setup_new();
    g_assert_true(thaw_setup_load_file(d, preset_file("default.ini"), &e));
    g_assert_no_error(e);
    g_assert_true(thaw_setup_equal(s, d));
}

/* ------------------------------------------------------------ every key */

typedef struct {
    const char *key, *value, *canonical;
} sample;

/* A non-default value for every option, and how it reads back. */
static const sample samples[] = {
    {"name", "My run", "My run"},
    {"description", "a longer line, with commas", "a longer line, with commas"},
    {"model", "/tmp/base.h5", "/tmp/base.h5"},
    {"arch", "resnet50", "resnet50"},
    {"head_hidden", "64", "64"},
    {"dropout", "0.5", "0.5"},
    {"dataset", "/data/flowers", "/data/flowers"},
    {"val_dataset", "/data/flowers-val", "/data/flowers-val"},
    {"k", "7", "7"},
    {"val_k", "50", "50"},
    {"data_seed", "18446744073709551615", "18446744073709551615"},
    {"shift", "invert,noise:25", NULL},
    {"augment", "flip,shift:2", NULL},
    {"base", "false", "false"},
    {"up_to", "conv2_block1_out", "conv2_block1_out"},
    {"unfreeze_last", "20", "20"},
    {"freeze", "conv1*,conv2_*", "conv1*,conv2_*"},
    {"unfreeze", "conv4_block3_2_bn", "conv4_block3_2_bn"},
    {"bn_only", "true", "true"},
    {"preset", "pytorch-bn-eval", "pytorch-bn-eval"},
    {"base_training", "false", "false"},
    {"bn_momentum", "0.9", "0.9"},
    {"optimizer", "adam", "adam"},
    {"lr", "1e-3", "0.001"},
    {"momentum", "0.5", "0.5"},
    {"nesterov", "true", "true"},
    {"weight_decay", "5e-4", "0.0005"},
    {"epochs", "30", "30"},
    {"batch", "8", "8"},
    {"lr_mult", "stem=0.1,conv2=0.1,conv3=0.5,head=1", "stem=0.1,conv2=0.1,conv3=0.5,head=1"},
    {"unfreeze_epoch", "20", "20"},
    {"unfreeze_layers", "base", "base"},
    {"unfreeze_lr", "1e-5", "1e-05"},
    {"seed", "42", "42"},
    {"feature_cache", "false", "false"},
};

static const char *canonical_of(const sample *x)
{
    return x->canonical ? x->canonical : x->value;
}

static void test_every_key(void)
{
    size_t n;
    const ThawSetupOption *opts = thaw_setup_options(&n);
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(samples));
    for (size_t i = 0; i < n; i++) {
        const sample *x = NULL;
        for (size_t j = 0; j < G_N_ELEMENTS(samples); j++)
            if (strcmp(samples[j].key, opts[i].key) == 0) x = &samples[j];
        g_assert_nonnull(x);
        g_autoptr(GError) e = NULL;

        /* the sample differs from the default */
        g_autoptr(ThawSetup) def = thaw_setup_new();
        g_autofree char *dv = thaw_setup_get(def, x->key);

        /* via a file */
        g_autoptr(ThawSetup) f = thaw_setup_new();
        g_autofree char *text =
            g_strdup_printf("[%s]\n%s = %s\n", opts[i].section, x->key, x->value);
        g_assert_true(load_text(f, text, &e));
        g_assert_no_error(e);
        g_autofree char *fv = thaw_setup_get(f, x->key);

        /* via the command line, both spellings */
        g_autoptr(ThawSetup) a = thaw_setup_new();
        g_autofree char *opt = g_strdup_printf("--%s", x->key);
        char *argv1[] = {"prog", opt, (char *)x->value, NULL};
        char **av = argv1;
        int ac = 3;
        g_assert_true(thaw_setup_parse_args(a, &ac, &av, &e));
        g_assert_no_error(e);
        g_assert_cmpint(ac, ==, 1);
        g_autofree char *av1 = thaw_setup_get(a, x->key);

        g_autoptr(ThawSetup) b = thaw_setup_new();
        g_autofree char *opt_eq = g_strdup_printf("--%s.%s=%s", opts[i].section, x->key, x->value);
        char *argv2[] = {"prog", opt_eq, NULL};
        av = argv2;
        ac = 2;
        g_assert_true(thaw_setup_parse_args(b, &ac, &av, &e));
        g_assert_no_error(e);
        g_assert_cmpint(ac, ==, 1);

        /* via thaw_setup_set */
        g_autoptr(ThawSetup) c = thaw_setup_new();
        g_assert_true(thaw_setup_set(c, x->key, x->value, &e));
        g_assert_no_error(e);

        if (x->canonical || opts[i].type != THAW_SETUP_SHIFT)
            g_assert_cmpstr(fv, ==, canonical_of(x));
        g_assert_cmpstr(fv, !=, dv);
        g_assert_cmpstr(av1, ==, fv);
        g_assert_true(thaw_setup_equal(f, a));
        g_assert_true(thaw_setup_equal(f, b));
        g_assert_true(thaw_setup_equal(f, c));
        g_assert_false(thaw_setup_equal(f, def));
    }
}

static void test_round_trip(void)
{
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;
    for (size_t j = 0; j < G_N_ELEMENTS(samples); j++) {
        g_assert_true(thaw_setup_set(s, samples[j].key, samples[j].value, &e));
        g_assert_no_error(e);
    }
    /* strings GKeyFile must escape */
    g_assert_true(thaw_setup_set(s, "name", "back\\slash\tand tab", &e));
    g_free(s->description);
    s->description = g_strdup(" leading and trailing space  ");
    g_assert_true(thaw_setup_set(s, "lr", "0.1", &e));
    s->lr = 0.1 + 1e-12; /* a value that needs 17 digits */

    g_autofree char *data = thaw_setup_to_data(s);
    g_assert_nonnull(strstr(data, "[train]\n"));
    g_assert_nonnull(strstr(data, "# learning rate (default: 0.05)\nlr = "));
    g_autoptr(ThawSetup) t = thaw_setup_new();
    g_assert_true(load_text(t, data, &e));
    g_assert_no_error(e);
    g_assert_true(thaw_setup_equal(s, t));
    g_assert_cmpfloat(t->lr, ==, s->lr);
    g_assert_cmpstr(t->description, ==, " leading and trailing space  ");
    g_assert_cmpstr(t->name, ==, "back\\slash\tand tab");

    /* defaults round-trip too, and a copy is equal */
    g_autoptr(ThawSetup) d = thaw_setup_new();
    g_autofree char *dd = thaw_setup_to_data(d);
    g_autoptr(ThawSetup) d2 = thaw_setup_new();
    g_assert_true(thaw_setup_set(d2, "epochs", "3", &e));
    g_assert_true(load_text(d2, dd, &e));
    g_assert_true(thaw_setup_equal(d, d2));
    g_autoptr(ThawSetup) cp = thaw_setup_copy(s);
    g_assert_true(thaw_setup_equal(cp, s));
    g_assert_true(cp->model != s->model);

    /* save_file, atomically, then load_file */
    g_autofree char *dir = g_dir_make_tmp("thaw-setup-XXXXXX", &e);
    g_assert_no_error(e);
    g_autofree char *path = g_build_filename(dir, "run.ini", NULL);
    g_assert_true(thaw_setup_save_file(s, path, &e));
    g_assert_no_error(e);
    g_autoptr(ThawSetup) u = thaw_setup_new();
    g_assert_true(thaw_setup_load_file(u, path, &e));
    g_assert_no_error(e);
    g_assert_true(thaw_setup_equal(s, u));
    g_remove(path);

    /* relative paths in a file are relative to the file */
    g_assert_true(g_file_set_contents(path,
                                      "[model]\nmodel = nets/base.thaw\n[data]\n"
                                      "dataset = flowers\nval_dataset = /abs/val\n",
                                      -1, &e));
    g_autoptr(ThawSetup) r = thaw_setup_new();
    g_assert_true(thaw_setup_load_file(r, path, &e));
    g_autofree char *want_model = g_build_filename(dir, "nets/base.thaw", NULL);
    g_autofree char *want_data = g_build_filename(dir, "flowers", NULL);
    g_assert_cmpstr(r->model, ==, want_model);
    g_assert_cmpstr(r->dataset, ==, want_data);
    g_assert_cmpstr(r->val_dataset, ==, "/abs/val");
    g_remove(path);
    /* ...but shipped names and fashion-mnist stay names */
    g_assert_true(g_file_set_contents(path,
                                      "[model]\nmodel = fashion-resnet20\n[data]\n"
                                      "dataset = fashion-mnist\n",
                                      -1, &e));
    g_assert_true(thaw_setup_load_file(r, path, &e));
    g_assert_cmpstr(r->model, ==, "fashion-resnet20");
    g_assert_cmpstr(r->dataset, ==, "fashion-mnist");
    g_remove(path);
    g_rmdir(dir);
}

/* ------------------------------------------------------------ command line */

static void test_args(void)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *dir = g_dir_make_tmp("thaw-setup-XXXXXX", &e);
    g_autofree char *path = g_build_filename(dir, "a.ini", NULL);
    g_assert_true(g_file_set_contents(path,
                                      "[train]\nbatch = 16\nepochs = 4\nlr = 0.2\n"
                                      "[freeze]\nbn_only = false\n",
                                      -1, &e));

    /* --setup comes last but is loaded first; options override it, in order;
     * everything else stays, in order */
    g_autoptr(ThawSetup) s = thaw_setup_new();
    char *argv[] = {"thaw-cli", "finetune", "--batch",   "64",      "--json",   "--lr=0.3",
                    "--lr",     "0.4",      "--bn-only", "--save",  "out.thaw", "--base",
                    "false",    "--val-k",  "5",         "--setup", path,       "extra",
                    "--",       "--epochs", "2",         NULL};
    char **av = argv;
    int ac = (int)G_N_ELEMENTS(argv) - 1;
    g_assert_true(thaw_setup_parse_args(s, &ac, &av, &e));
    g_assert_no_error(e);
    g_assert_cmpint(s->batch, ==, 64); /* args override the file */
    g_assert_cmpint(s->epochs, ==, 4); /* from the file; after -- is not ours */
    g_assert_cmpfloat(s->lr, ==, 0.4); /* the last one wins */
    g_assert_true(s->bn_only);         /* a boolean without a value */
    g_assert_false(s->base);           /* a boolean with one */
    g_assert_cmpint(s->val_k, ==, 5);  /* dashes for underscores */
    const char *left[] = {"thaw-cli", "finetune", "--json",   "--save", "out.thaw",
                          "extra",    "--",       "--epochs", "2"};
    g_assert_cmpint(ac, ==, (int)G_N_ELEMENTS(left));
    for (int i = 0; i < ac; i++) g_assert_cmpstr(av[i], ==, left[i]);
    g_assert_null(av[ac]);

    /* --setup=FILE, and a --setup anywhere */
    g_autoptr(ThawSetup) t = thaw_setup_new();
    g_autofree char *opt = g_strdup_printf("--setup=%s", path);
    char *argv2[] = {"p", "--epochs", "9", opt, NULL};
    av = argv2;
    ac = 4;
    g_assert_true(thaw_setup_parse_args(t, &ac, &av, &e));
    g_assert_cmpint(t->epochs, ==, 9);
    g_assert_cmpint(t->batch, ==, 16);
    g_assert_cmpint(ac, ==, 1);

    /* errors */
    struct {
        const char *args[4];
        int code;
        const char *needle;
    } bad[] = {
        {{"--batch", NULL}, THAW_SETUP_ERROR_MISSING_ARG, "--batch: a value is required"},
        {{"--setup", NULL}, THAW_SETUP_ERROR_MISSING_ARG, "--setup: a setup file is required"},
        {{"--setup", "/nonexistent/x.ini", NULL},
         THAW_SETUP_ERROR_IO,
         "cannot read setup '/nonexistent/x.ini'"},
        {{"--batch", "0", NULL}, THAW_SETUP_ERROR_BAD_VALUE, "--batch: 0 is not a batch size ≥ 1"},
        {{"--lr=-1", NULL},
         THAW_SETUP_ERROR_BAD_VALUE,
         "--lr: -1 is not a learning rate in (0, 10]"},
        {{"--preset", "keras33", NULL},
         THAW_SETUP_ERROR_BAD_VALUE,
         "--preset: unknown preset 'keras33'; did you mean keras3"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(ThawSetup) u = thaw_setup_new();
        g_autoptr(GError) err = NULL;
        char *a[6] = {"p"};
        int n = 1;
        for (int j = 0; bad[i].args[j]; j++) a[n++] = (char *)bad[i].args[j];
        a[n] = NULL;
        char **pa = a;
        g_assert_false(thaw_setup_parse_args(u, &n, &pa, &err));
        assert_error(err, bad[i].code, bad[i].needle);
    }
    g_remove(path);
    g_rmdir(dir);
}

/* ------------------------------------------------------------ errors */

static void test_value_errors(void)
{
    expect_set_error("bach", "8", THAW_SETUP_ERROR_UNKNOWN_KEY,
                     "unknown option 'bach'; did you mean batch?");
    expect_set_error("model.batch", "8", THAW_SETUP_ERROR_UNKNOWN_KEY, "unknown option");
    expect_set_error("batch", "eight", THAW_SETUP_ERROR_BAD_VALUE,
                     "--batch: 'eight' is not a whole number");
    expect_set_error("batch", "0", THAW_SETUP_ERROR_BAD_VALUE,
                     "--batch: 0 is not a batch size ≥ 1");
    expect_set_error("batch", "1e3", THAW_SETUP_ERROR_BAD_VALUE, "not a whole number");
    expect_set_error("k", "0", THAW_SETUP_ERROR_BAD_VALUE, "--k: 0 is not a number of images");
    expect_set_error("epochs", "0", THAW_SETUP_ERROR_BAD_VALUE, "--epochs: 0 is not a number of");
    expect_set_error("lr", "-0.1", THAW_SETUP_ERROR_BAD_VALUE,
                     "--lr: -0.1 is not a learning rate in (0, 10]");
    expect_set_error("lr", "0", THAW_SETUP_ERROR_BAD_VALUE, "(0, 10]");
    expect_set_error("lr", "11", THAW_SETUP_ERROR_BAD_VALUE, "(0, 10]");
    expect_set_error("lr", "nan", THAW_SETUP_ERROR_BAD_VALUE, "--lr: nan is not a learning rate");
    expect_set_error("lr", "inf", THAW_SETUP_ERROR_BAD_VALUE, "--lr: inf is not");
    expect_set_error("lr", "0.1x", THAW_SETUP_ERROR_BAD_VALUE, "--lr: '0.1x' is not a number");
    expect_set_error("dropout", "1", THAW_SETUP_ERROR_BAD_VALUE,
                     "--dropout: 1 is not a dropout rate in [0, 1)");
    expect_set_error("momentum", "1", THAW_SETUP_ERROR_BAD_VALUE, "[0, 1)");
    expect_set_error("bn_momentum", "1.5", THAW_SETUP_ERROR_BAD_VALUE, "--bn_momentum: 1.5");
    expect_set_error("seed", "-1", THAW_SETUP_ERROR_BAD_VALUE, "--seed: '-1' is not a seed");
    expect_set_error("base", "maybe", THAW_SETUP_ERROR_BAD_VALUE,
                     "--base: 'maybe' is not true or false");
    expect_set_error("base_training", "maybe", THAW_SETUP_ERROR_BAD_VALUE,
                     "--base_training: 'maybe' is not true, false or none");
    expect_set_error("preset", "nonsense", THAW_SETUP_ERROR_BAD_VALUE,
                     "unknown preset 'nonsense' (presets: keras3, tf-keras2");
    expect_set_error("preset", "pytorch-bn-evl", THAW_SETUP_ERROR_BAD_VALUE,
                     "did you mean pytorch-bn-eval");
    expect_set_error("preset", "manual", THAW_SETUP_ERROR_BAD_VALUE, "unknown preset 'manual'");
    expect_set_error("optimizer", "rmsprop", THAW_SETUP_ERROR_BAD_VALUE,
                     "--optimizer: 'rmsprop' is not sgd or adam");
    expect_set_error("arch", "resnet51", THAW_SETUP_ERROR_BAD_VALUE,
                     "unknown architecture 'resnet51'");
    expect_set_error("shift", "sparkle", THAW_SETUP_ERROR_BAD_VALUE, "--shift: ");
    expect_set_error("shift", "flip", THAW_SETUP_ERROR_BAD_VALUE, "is augmentation");
    expect_set_error("augment", "invert", THAW_SETUP_ERROR_BAD_VALUE, "is a domain shift");
    expect_set_error("freeze", "conv1,,conv2", THAW_SETUP_ERROR_BAD_VALUE, "empty item");
    expect_set_error("freeze", "conv[12]", THAW_SETUP_ERROR_BAD_VALUE,
                     "'[' cannot be part of a layer name or pattern");
    expect_set_error("up_to", "conv1*", THAW_SETUP_ERROR_BAD_VALUE,
                     "'*' cannot be part of a layer name");
    expect_set_error("up_to", "a,b", THAW_SETUP_ERROR_BAD_VALUE, "not one layer name");
    expect_set_error("lr_mult", "stem=0.1,conv9=1", THAW_SETUP_ERROR_BAD_VALUE,
                     "unknown stage 'conv9'");
    expect_set_error("lr_mult", "stme=0.1", THAW_SETUP_ERROR_BAD_VALUE, "did you mean stem");
    expect_set_error("lr_mult", "stem", THAW_SETUP_ERROR_BAD_VALUE, "not STAGE=MULTIPLIER");
    expect_set_error("lr_mult", "head=-1", THAW_SETUP_ERROR_BAD_VALUE, "not a multiplier");
    expect_set_error("lr_mult", "head=1,head=2", THAW_SETUP_ERROR_BAD_VALUE, "given twice");
    expect_set_error("model", "", THAW_SETUP_ERROR_BAD_VALUE, "required");
    expect_set_error("name", "two\nlines", THAW_SETUP_ERROR_BAD_VALUE, "one line");

    /* a failed set leaves the value alone */
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_assert_false(thaw_setup_set(s, "batch", "0", NULL));
    g_assert_cmpint(s->batch, ==, 32);

    /* resolvers */
    g_autoptr(GError) e = NULL;
    g_assert_true(thaw_setup_set(s, "model", "fashion-resnet21", NULL));
    g_assert_null(thaw_setup_resolve_model(s, NULL, &e));
    assert_error(e, THAW_SETUP_ERROR_BAD_VALUE,
                 "--model: no shipped model 'fashion-resnet21' (shipped: fashion-resnet20");
    g_clear_error(&e);
    g_assert_true(thaw_setup_set(s, "model", "/nonexistent/base.h5", NULL));
    ThawSetupModelFormat fmt;
    g_assert_null(thaw_setup_resolve_model(s, &fmt, &e));
    g_assert_cmpint(fmt, ==, THAW_SETUP_MODEL_KERAS_H5);
    assert_error(e, THAW_SETUP_ERROR_IO, "--model: cannot read '/nonexistent/base.h5'");
    g_clear_error(&e);
    g_assert_true(thaw_setup_set(s, "dataset", "/nonexistent/flowers", NULL));
    g_assert_null(thaw_setup_resolve_dataset(s, FALSE, NULL, &e));
    assert_error(e, THAW_SETUP_ERROR_IO, "--dataset: '/nonexistent/flowers' is not a folder");
    g_clear_error(&e);
    g_assert_true(thaw_setup_set(s, "dataset", "fashion-mnist", NULL));
    ThawSetupDataKind kind;
    g_autofree char *dd = thaw_setup_resolve_dataset(s, TRUE, &kind, &e);
    g_assert_cmpint(kind, ==, THAW_SETUP_DATA_FASHION);
}

static void test_file_errors(void)
{
    struct {
        const char *text;
        int code;
        const char *needle;
    } bad[] = {
        {"[train]\nepochs = 3\nbach = 8\n", THAW_SETUP_ERROR_UNKNOWN_KEY,
         "test.ini:3: unknown key 'bach' in [train]; did you mean batch?"},
        {"[train]\nbase_training = false\n", THAW_SETUP_ERROR_UNKNOWN_KEY,
         "test.ini:2: unknown key 'base_training' in [train]; it belongs in [semantics]"},
        {"[model]\n\n[trian]\nlr = 1\n", THAW_SETUP_ERROR_UNKNOWN_KEY,
         "test.ini:3: unknown section [trian]; did you mean train?"},
        {"[train]\n# comment\nbatch = 0\n", THAW_SETUP_ERROR_BAD_VALUE,
         "test.ini:3: [train] batch: 0 is not a batch size ≥ 1"},
        {"[train]\nlr = fast\n", THAW_SETUP_ERROR_BAD_VALUE,
         "test.ini:2: [train] lr: 'fast' is not a number"},
        {"[semantics]\npreset = keras-2.1.4\n", THAW_SETUP_ERROR_BAD_VALUE,
         "[semantics] preset: unknown preset 'keras-2.1.4'"},
        {"[train]\nbatch 32\n", THAW_SETUP_ERROR_PARSE, "test.ini: not a setup file"},
        {"batch = 32\n", THAW_SETUP_ERROR_PARSE, "test.ini: not a setup file"},
        {"[train\nbatch = 32\n", THAW_SETUP_ERROR_PARSE, "test.ini: not a setup file"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(ThawSetup) s = thaw_setup_new();
        g_autoptr(GError) e = NULL;
        g_assert_false(load_text(s, bad[i].text, &e));
        assert_error(e, bad[i].code, bad[i].needle);
    }
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;
    g_assert_false(thaw_setup_load_file(s, "/nonexistent/setup.ini", &e));
    assert_error(e, THAW_SETUP_ERROR_IO, "cannot read setup '/nonexistent/setup.ini'");

    /* comments and blank lines are fine; a partial file keeps other values */
    g_clear_error(&e);
    g_assert_true(load_text(s, "# hello\n\n[train]\n# the batch\nbatch=4\n", &e));
    g_assert_no_error(e);
    g_assert_cmpint(s->batch, ==, 4);
    g_assert_cmpint(s->epochs, ==, 8);
}

static void test_validate(void)
{
    struct {
        const char *sets[3][2];
        const char *needle;
    } bad[] = {
        {{{"unfreeze_epoch", "8"}}, "--unfreeze_epoch: 8 leaves no epoch"},
        {{{"unfreeze_epoch", "3"}}, "--unfreeze_layers: say what to unfreeze at epoch 3"},
        {{{"unfreeze_layers", "base"}}, "--unfreeze_layers: 'base' is unused without"},
        {{{"unfreeze_lr", "1e-5"}}, "--unfreeze_lr: unused without"},
        {{{"nesterov", "true"}, {"momentum", "0"}}, "--nesterov: needs"},
        {{{"nesterov", "true"}, {"optimizer", "adam"}}, "--nesterov: needs"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(ThawSetup) s = thaw_setup_new();
        for (int j = 0; j < 3 && bad[i].sets[j][0]; j++)
            g_assert_true(thaw_setup_set(s, bad[i].sets[j][0], bad[i].sets[j][1], NULL));
        g_autoptr(GError) e = NULL;
        g_assert_false(thaw_setup_validate(s, &e));
        assert_error(e, THAW_SETUP_ERROR_INVALID, bad[i].needle);
    }
    /* fields set by hand (the window) are checked too */
    struct {
        size_t off;
        int kind; /* 0 int, 1 double */
        double v;
        const char *needle;
    } hand[] = {
        {offsetof(ThawSetup, batch), 0, 0, "--batch: 0 is not a batch size ≥ 1"},
        {offsetof(ThawSetup, k), 0, -3, "--k: -3 is not"},
        {offsetof(ThawSetup, epochs), 0, 0, "--epochs: 0"},
        {offsetof(ThawSetup, lr), 1, -0.5, "--lr: -0.5 is not a learning rate"},
        {offsetof(ThawSetup, lr), 1, NAN, "--lr: nan is not a learning rate"},
        {offsetof(ThawSetup, dropout), 1, 1.0, "--dropout: 1 is not a dropout rate"},
        {offsetof(ThawSetup, bn_momentum), 1, 2.0, "--bn_momentum: 2 is not"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(hand); i++) {
        g_autoptr(ThawSetup) s = thaw_setup_new();
        if (hand[i].kind == 0)
            *(int *)((char *)s + hand[i].off) = (int)hand[i].v;
        else
            *(double *)((char *)s + hand[i].off) = hand[i].v;
        g_autoptr(GError) e = NULL;
        g_assert_false(thaw_setup_validate(s, &e));
        assert_error(e, THAW_SETUP_ERROR_INVALID, hand[i].needle);
    }
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_free(s->freeze);
    s->freeze = g_strdup("conv1 conv2");
    g_autoptr(GError) e = NULL;
    g_assert_false(thaw_setup_validate(s, &e));
    assert_error(e, THAW_SETUP_ERROR_INVALID, "--freeze: 'conv1 conv2': ' ' cannot be part");
}

/* ------------------------------------------------------------ freeze rules */

static int count_trainable(const thaw_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_layers; i++) n += m->layers[i].trainable;
    return n;
}

static void test_freeze_resnet20(void)
{
    thaw_model *m = resnet20();
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;

    /* base = true: every base layer frozen, the head trainable */
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_no_error(e);
    for (int i = 0; i < m->n_layers; i++)
        g_assert_cmpint(m->layers[i].trainable, ==,
                        !m->layers[i].in_base && m->layers[i].kind != THAW_LAYER_INPUT);
    g_assert_true(trainable(m, "predictions"));

    /* base = false: everything (but the InputLayer) trainable */
    g_assert_true(thaw_setup_set(s, "base", "false", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_cmpint(count_trainable(m), ==, m->n_layers - 1);
    g_assert_false(m->layers[0].trainable); /* InputLayer untouched */

    /* up_to: layers[:idx+1] frozen */
    g_assert_true(thaw_setup_set(s, "up_to", "conv2_block1_out", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    int idx = thaw_model_find_layer(m, "conv2_block1_out");
    for (int i = 1; i < m->n_layers; i++) g_assert_cmpint(m->layers[i].trainable, ==, i > idx);

    /* patterns: freeze conv1*,conv2_* then unfreeze one of them back */
    g_autoptr(ThawSetup) p = thaw_setup_new();
    g_assert_true(thaw_setup_set(p, "base", "false", NULL));
    g_assert_true(thaw_setup_set(p, "freeze", "conv1*, conv2_*", NULL));
    g_assert_true(thaw_setup_set(p, "unfreeze", "conv2_block3_2_bn", NULL));
    g_assert_true(thaw_setup_apply_freezing(p, m, &e));
    g_assert_no_error(e);
    for (int i = 1; i < m->n_layers; i++) {
        const char *n = m->layers[i].name;
        gboolean frozen = (g_str_has_prefix(n, "conv1") || g_str_has_prefix(n, "conv2_")) &&
                          strcmp(n, "conv2_block3_2_bn") != 0;
        g_assert_cmpint(m->layers[i].trainable, ==, !frozen);
    }
    /* order: unfreeze (rule 5) wins over freeze (rule 4) for the same layer */
    g_assert_true(thaw_setup_set(p, "freeze", "conv3_block1_1_conv", NULL));
    g_assert_true(thaw_setup_set(p, "unfreeze", "conv3_*", NULL));
    g_assert_true(thaw_setup_set(p, "up_to", "conv3_block1_1_bn", NULL));
    g_assert_true(thaw_setup_apply_freezing(p, m, &e));
    g_assert_true(trainable(m, "conv3_block1_1_conv"));
    g_assert_true(trainable(m, "conv3_block1_1_bn")); /* up_to (2) < unfreeze (5) */
    g_assert_false(trainable(m, "conv2_block3_out"));
    /* freeze words: head */
    g_assert_true(thaw_setup_set(p, "unfreeze", "", NULL));
    g_assert_true(thaw_setup_set(p, "up_to", "", NULL));
    g_assert_true(thaw_setup_set(p, "freeze", "head", NULL));
    g_assert_true(thaw_setup_apply_freezing(p, m, &e));
    g_assert_false(trainable(m, "predictions"));
    g_assert_true(trainable(m, "conv1_conv"));

    /* bn_only: base frozen but BN layers; bn_only (6) wins over unfreeze (5) */
    g_autoptr(ThawSetup) b = thaw_setup_new();
    g_assert_true(thaw_setup_set(b, "bn_only", "true", NULL));
    g_assert_true(thaw_setup_set(b, "unfreeze", "conv4_block3_2_conv", NULL));
    g_assert_true(thaw_setup_apply_freezing(b, m, &e));
    for (int i = 1; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        gboolean want = l->in_base ? l->kind == THAW_LAYER_BATCHNORM : TRUE;
        g_assert_cmpint(l->trainable, ==, want);
    }

    /* unknown names: near matches, nothing changed */
    for (int i = 0; i < m->n_layers; i++) m->layers[i].trainable = (i % 2) == 1;
    struct {
        const char *key, *value, *needle;
    } bad[] = {
        {"freeze", "conv2_blok1_1_conv",
         "--freeze: no layer 'conv2_blok1_1_conv'; did you mean conv2_block1_1_conv, "
         "conv2_block1_2_conv"},
        {"unfreeze", "conv1_conv,conv9*", "--unfreeze: no layer matches 'conv9*'"},
        {"up_to", "conv2_block1_ot",
         "--up_to: no layer 'conv2_block1_ot'; did you mean "
         "conv2_block1_out"},
        {"freeze", "xyzzy", "--freeze: no layer 'xyzzy'"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(ThawSetup) u = thaw_setup_new();
        g_assert_true(thaw_setup_set(u, bad[i].key, bad[i].value, NULL));
        g_autoptr(GError) err = NULL;
        g_assert_false(thaw_setup_apply_freezing(u, m, &err));
        assert_error(err, THAW_SETUP_ERROR_NO_LAYER, bad[i].needle);
        for (int j = 0; j < m->n_layers; j++)
            g_assert_cmpint(m->layers[j].trainable, ==, (j % 2) == 1);
    }
    thaw_model_free(m);
}

static void test_freeze_resnet50(void)
{
    thaw_model *m = resnet50_tiny();
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;
    int n_base = 0;
    for (int i = 0; i < m->n_layers; i++) n_base += m->layers[i].in_base;
    g_assert_cmpint(n_base, ==, 175); /* Keras ResNet50(include_top=False).layers */

    /* unfreeze_last 20 == for l in base.layers[:-20]: l.trainable = False */
    g_assert_true(thaw_setup_set(s, "unfreeze_last", "20", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_no_error(e);
    int first = thaw_model_find_layer(m, "conv5_block2_1_conv");
    int last = thaw_model_find_layer(m, "conv5_block3_out");
    g_assert_cmpint(last - first + 1, ==, 20);
    int n_bn = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (!l->in_base) {
            g_assert_true(l->trainable); /* the head */
            continue;
        }
        gboolean want = i >= first && i <= last;
        g_assert_cmpint(l->trainable, ==, want);
        n_bn += want && l->kind == THAW_LAYER_BATCHNORM;
    }
    g_assert_cmpint(n_bn, ==, 6);

    /* N = 1: only conv5_block3_out; N >= all base layers: nothing frozen */
    g_assert_true(thaw_setup_set(s, "unfreeze_last", "1", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_true(trainable(m, "conv5_block3_out"));
    g_assert_false(trainable(m, "conv5_block3_add"));
    g_assert_true(thaw_setup_set(s, "unfreeze_last", "500", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_cmpint(count_trainable(m), ==, m->n_layers - 1);
    /* N = 174: every base layer but the InputLayer (the first of base.layers) */
    g_assert_true(thaw_setup_set(s, "unfreeze_last", "174", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_cmpint(count_trainable(m), ==, m->n_layers - 1);
    g_assert_true(thaw_setup_set(s, "unfreeze_last", "173", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_false(trainable(m, "conv1_pad"));
    g_assert_true(trainable(m, "conv1_conv"));

    /* unfreeze_last (3) after up_to (2); freeze (4) on top */
    g_assert_true(thaw_setup_set(s, "unfreeze_last", "20", NULL));
    g_assert_true(thaw_setup_set(s, "up_to", "conv5_block3_1_conv", NULL));
    g_assert_true(thaw_setup_set(s, "freeze", "conv5_block3_3_*", NULL));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_true(trainable(m, "conv5_block2_1_conv"));
    g_assert_false(trainable(m, "conv5_block3_3_conv"));
    g_assert_false(trainable(m, "conv5_block3_3_bn"));
    g_assert_true(trainable(m, "conv5_block3_out"));

    /* stage globs of the big graph */
    g_autoptr(ThawSetup) g = thaw_setup_new();
    g_assert_true(thaw_setup_set(g, "base", "false", NULL));
    g_assert_true(thaw_setup_set(g, "freeze", "conv1*,conv2_*,pool1*", NULL));
    g_assert_true(thaw_setup_apply_freezing(g, m, &e));
    g_assert_false(trainable(m, "pool1_pool"));
    g_assert_false(trainable(m, "conv2_block3_out"));
    g_assert_true(trainable(m, "conv3_block1_1_conv"));
    thaw_model_free(m);
}

static void test_lr_mult(void)
{
    thaw_model *m = resnet50_tiny();
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;
    g_assert_true(thaw_setup_set(s, "lr_mult", "stem=0.1,conv2=0.2,conv3=0.5,head=2", &e));
    g_assert_true(thaw_setup_apply_lr_mult(s, m, &e));
    g_assert_no_error(e);
    struct {
        const char *layer;
        float mult;
    } want[] = {
        {"conv1_conv", 0.1f},       {"pool1_pool", 0.1f},     {"conv2_block1_1_conv", 0.2f},
        {"conv3_block4_out", 0.5f}, {"conv4_block1_0_bn", 1}, {"conv5_block3_3_conv", 1},
        {"predictions", 2},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        g_assert_cmpfloat(m->layers[thaw_model_find_layer(m, want[i].layer)].lr_mult, ==,
                          want[i].mult);
    /* base= sets every base layer; stage entries refine it */
    g_assert_true(thaw_setup_set(s, "lr_mult", "base=0.01,conv5=0.1", &e));
    g_assert_true(thaw_setup_apply_lr_mult(s, m, &e));
    g_assert_cmpfloat(m->layers[thaw_model_find_layer(m, "conv1_conv")].lr_mult, ==, 0.01f);
    g_assert_cmpfloat(m->layers[thaw_model_find_layer(m, "conv5_block1_1_conv")].lr_mult, ==, 0.1f);
    g_assert_cmpfloat(m->layers[thaw_model_find_layer(m, "predictions")].lr_mult, ==, 1.0f);
    /* empty: all 1 */
    g_assert_true(thaw_setup_set(s, "lr_mult", "", &e));
    g_assert_true(thaw_setup_apply_lr_mult(s, m, &e));
    for (int i = 0; i < m->n_layers; i++) g_assert_cmpfloat(m->layers[i].lr_mult, ==, 1.0f);
    thaw_model_free(m);

    /* conv5 on a model without conv5 is fine (presets fit every model) */
    thaw_model *r = resnet20();
    g_assert_true(thaw_setup_set(s, "lr_mult", "conv5=0.3,conv4=0.2", &e));
    g_assert_true(thaw_setup_apply_lr_mult(s, r, &e));
    g_assert_cmpfloat(r->layers[thaw_model_find_layer(r, "conv4_block3_out")].lr_mult, ==, 0.2f);
    thaw_model_free(r);
}

static void test_two_phase(void)
{
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autoptr(GError) e = NULL;
    g_assert_true(thaw_setup_load_file(s, preset_file("keras-guide.ini"), &e));
    g_assert_no_error(e);
    g_assert_true(thaw_setup_validate(s, &e));
    g_assert_cmpint(s->unfreeze_epoch, ==, 5);
    g_assert_cmpint(s->epochs, ==, 10);
    g_assert_cmpstr(s->unfreeze_layers, ==, "base");
    g_assert_cmpfloat(thaw_setup_phase2_lr(s), ==, 1e-5);
    g_assert_cmpint(s->base_training, ==, THAW_FALSE);
    g_assert_cmpint(s->optimizer, ==, THAW_OPT_ADAM);

    thaw_model *m = resnet20();
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_false(trainable(m, "conv1_conv"));
    g_assert_true(thaw_setup_apply_unfreeze(s, m, &e));
    g_assert_no_error(e);
    g_assert_cmpint(count_trainable(m), ==, m->n_layers - 1);

    /* a layer list, and an unknown name */
    g_assert_true(thaw_setup_set(s, "unfreeze_layers", "conv4_*", &e));
    g_assert_true(thaw_setup_apply_freezing(s, m, &e));
    g_assert_true(thaw_setup_apply_unfreeze(s, m, &e));
    g_assert_true(trainable(m, "conv4_block1_1_conv"));
    g_assert_false(trainable(m, "conv3_block1_1_conv"));
    g_assert_true(thaw_setup_set(s, "unfreeze_layers", "conv4_blok1_1_conv", &e));
    g_assert_false(thaw_setup_apply_unfreeze(s, m, &e));
    assert_error(e, THAW_SETUP_ERROR_NO_LAYER,
                 "--unfreeze_layers: no layer 'conv4_blok1_1_conv'; did you mean "
                 "conv4_block1_1_conv");
    g_clear_error(&e);

    /* unfreeze_lr 0 keeps lr */
    g_assert_true(thaw_setup_set(s, "unfreeze_lr", "0", &e));
    g_assert_cmpfloat(thaw_setup_phase2_lr(s), ==, s->lr);
    thaw_model_free(m);
}

/* ------------------------------------------------------------ presets */

static void test_presets(void)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(GDir) dir = g_dir_open(PRESETS, 0, &e);
    g_assert_no_error(e);
    const char *required[] = {"default.ini",
                              "keras-guide.ini",
                              "keras-2.1.3-broken-bn.ini",
                              "pytorch-requires-grad.ini",
                              "pytorch-bn-eval.ini",
                              "fastai-fine-tune.ini",
                              "last-n.ini"};
    int found = 0, n = 0;
    thaw_model *r20 = resnet20();
    thaw_model *r50 = resnet50_tiny();
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".ini")) continue;
        n++;
        for (size_t i = 0; i < G_N_ELEMENTS(required); i++)
            found += strcmp(entry, required[i]) == 0;
        g_autofree char *path = g_build_filename(PRESETS, entry, NULL);
        g_autoptr(ThawSetup) s = thaw_setup_new();
        if (!thaw_setup_load_file(s, path, &e)) g_error("%s", e->message);
        if (!thaw_setup_validate(s, &e)) g_error("%s: %s", entry, e->message);
        g_assert_cmpstr(s->name, !=, "");
        g_assert_cmpstr(s->description, !=, "");
        if (strcmp(entry, "default.ini") != 0) g_assert_cmpstr(s->name, !=, "Default scenario");
        if (!thaw_setup_apply_freezing(s, r20, &e)) g_error("%s: %s", entry, e->message);
        if (!thaw_setup_apply_freezing(s, r50, &e)) g_error("%s: %s", entry, e->message);
        if (!thaw_setup_apply_lr_mult(s, r20, &e)) g_error("%s: %s", entry, e->message);
        if (s->unfreeze_epoch > 0 && !thaw_setup_apply_unfreeze(s, r20, &e))
            g_error("%s: %s", entry, e->message);
        g_autofree char *resolved = thaw_setup_resolve_model(s, NULL, &e);
        if (!resolved) g_error("%s: %s", entry, e->message);
        /* what a preset file says survives a round trip */
        g_autofree char *data = thaw_setup_to_data(s);
        g_autoptr(ThawSetup) t = thaw_setup_new();
        g_assert_true(load_text(t, data, &e));
        g_assert_true(thaw_setup_equal(s, t));
    }
    g_assert_cmpint(found, ==, (int)G_N_ELEMENTS(required));
    g_assert_cmpint(n, >=, 7);

    /* specific contents */
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_assert_true(thaw_setup_load_file(s, preset_file("keras-2.1.3-broken-bn.ini"), &e));
    g_assert_cmpint(s->preset, ==, THAW_PRESET_KERAS_2_1_3);
    g_assert_true(s->base);
    g_assert_true(thaw_setup_load_file(s, preset_file("pytorch-requires-grad.ini"), &e));
    g_assert_cmpint(s->preset, ==, THAW_PRESET_PYTORCH);
    g_assert_true(thaw_setup_load_file(s, preset_file("pytorch-bn-eval.ini"), &e));
    g_assert_cmpint(s->preset, ==, THAW_PRESET_PYTORCH_BN_EVAL);
    g_assert_true(thaw_setup_load_file(s, preset_file("fastai-fine-tune.ini"), &e));
    g_assert_cmpint(s->preset, ==, THAW_PRESET_FASTAI_TRAIN_BN);
    g_assert_cmpint(s->unfreeze_epoch, ==, 1);
    g_assert_cmpfloat(thaw_setup_phase2_lr(s), ==, s->lr / 2);

    g_autoptr(ThawSetup) last = thaw_setup_new();
    g_assert_true(thaw_setup_load_file(last, preset_file("last-n.ini"), &e));
    g_assert_cmpint(last->unfreeze_last, ==, 20);
    g_assert_true(thaw_setup_apply_freezing(last, r50, &e));
    int trained_base = 0;
    for (int i = 0; i < r50->n_layers; i++)
        trained_base += r50->layers[i].in_base && r50->layers[i].trainable;
    g_assert_cmpint(trained_base, ==, 20);
    g_assert_true(trainable(r50, "conv5_block2_1_conv"));
    g_assert_false(trainable(r50, "conv5_block1_out"));
    thaw_model_free(r20);
    thaw_model_free(r50);
}

/* Flags set by hand (the window's tree) round-trip through [freeze]. */
static void check_roundtrip(thaw_model *m, gboolean expect_base)
{
    g_autoptr(ThawSetup) s = thaw_setup_new();
    thaw_setup_set_freezing_from_model(s, m);
    g_assert_cmpint(s->base, ==, expect_base);
    thaw_model *n = resnet20();
    g_assert_true(thaw_setup_apply_freezing(s, n, NULL));
    for (int i = 0; i < m->n_layers; i++)
        g_assert_cmpint(n->layers[i].trainable, ==, m->layers[i].trainable);
    /* and through the file format */
    g_autofree char *data = thaw_setup_to_data(s);
    g_autoptr(ThawSetup) back = thaw_setup_new();
    g_assert_true(thaw_setup_load_data(back, data, "roundtrip", NULL, NULL));
    g_assert_true(thaw_setup_equal(s, back));
    thaw_model_free(n);
}

static void test_freezing_from_model(void)
{
    thaw_model *m = resnet20();
    g_autoptr(ThawSetup) s = thaw_setup_new(); /* base frozen */
    g_assert_true(thaw_setup_apply_freezing(s, m, NULL));
    check_roundtrip(m, TRUE);
    thaw_model_unfreeze_last(m, 7);
    check_roundtrip(m, FALSE);
    for (int i = 1; i < m->n_layers; i++) m->layers[i].trainable = true; /* not input_1 */
    check_roundtrip(m, FALSE);
    m->layers[m->n_layers - 1].trainable = false; /* the head's classifier alone */
    check_roundtrip(m, FALSE);
    thaw_model_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/setup/table", test_table);
    g_test_add_func("/setup/defaults", test_defaults);
    g_test_add_func("/setup/every-key", test_every_key);
    g_test_add_func("/setup/round-trip", test_round_trip);
    g_test_add_func("/setup/args", test_args);
    g_test_add_func("/setup/value-errors", test_value_errors);
    g_test_add_func("/setup/file-errors", test_file_errors);
    g_test_add_func("/setup/validate", test_validate);
    g_test_add_func("/setup/freeze-resnet20", test_freeze_resnet20);
    g_test_add_func("/setup/freeze-resnet50", test_freeze_resnet50);
    g_test_add_func("/setup/lr-mult", test_lr_mult);
    g_test_add_func("/setup/two-phase", test_two_phase);
    g_test_add_func("/setup/presets", test_presets);
    g_test_add_func("/setup/freezing-from-model", test_freezing_from_model);
    return g_test_run();
}
