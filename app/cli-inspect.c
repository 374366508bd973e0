/* thaw-cli summary, eval, compare and import-keras: looking at models. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* -------------------------------------------------------------- summary */

static const char summary_help[] =
    "Usage: thaw-cli summary [SETUP OPTION...] [--input HxWxC] [--classes N] [--json | --csv]\n"
    "The Keras-style layer table of what a setup would train: name, kind, output shape,\n"
    "parameters, whether the layer trains, and what each BatchNorm does in a training step\n"
    "under the preset; then total, trainable and non-trainable parameters as\n"
    "model.summary() counts them (BN moving statistics are non-trainable).\n"
    "Without --input/--classes it shows the setup's model (default: the shipped one, with\n"
    "the setup's freezing: --base false to see it all trainable). With them it builds --arch\n"
    "(default resnet20) fresh: e.g. --arch resnet50 --input 224x224x3 --classes 0 --base false\n"
    "gives Keras's ResNet50 without top: 23,587,712 parameters, 53,120 non-trainable.\n"
    "--json keys: model, preset, layers [{name, kind, output_shape, params, trainable,\n"
    "bn_in_training_step}], total, trainable, non_trainable. --csv: one row per layer.\n";

int thaw_cli_summary(int argc, char **argv)
{
    g_autoptr(GError) gerr = NULL;
    g_autoptr(ThawSetup) s = thaw_setup_new();
    if (!thaw_setup_parse_args(s, &argc, &argv, &gerr))
        return thaw_cli_usage_error("%s", gerr->message);
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    bool fresh = false, json = false, csv = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(summary_help, stdout);
            return EXIT_SUCCESS;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--csv") == 0) {
            csv = true;
        } else if (strcmp(a, "--input") == 0 && v) {
            if (sscanf(v, "%dx%dx%d", &cfg.in_h, &cfg.in_w, &cfg.in_c) != 3)
                return thaw_cli_usage_error("--input: '%s' is not HxWxC", v);
            fresh = true, i++;
        } else if (strcmp(a, "--classes") == 0 && v) {
            if (!thaw_cli_parse_int(v, 0, 100000, &cfg.classes))
                return thaw_cli_usage_error("--classes: '%s' is not a number in 0..100000", v);
            fresh = true, i++;
        } else {
            return thaw_cli_usage_error("summary: unknown option or argument '%s'", a);
        }
    }
    if (json && csv) return thaw_cli_usage_error("--json and --csv exclude each other%s", "");
    if (!thaw_setup_validate(s, &gerr)) return thaw_cli_usage_error("%s", gerr->message);
    thaw_model *m = NULL;
    thaw_error err = {0};
    g_autofree char *path = NULL;
    if (fresh || (s->arch && *s->arch)) {
        snprintf(cfg.arch, sizeof cfg.arch, "%s", s->arch && *s->arch ? s->arch : "resnet20");
        cfg.head_hidden = s->head_hidden;
        cfg.dropout = cfg.classes > 0 ? (float)s->dropout : 0.0f;
        if (thaw_model_new_uninitialized(&m, &cfg, &err) != THAW_OK) return thaw_cli_fail(&err);
        path = g_strdup(cfg.arch);
    } else if (thaw_scenario_load_model(&m, s, true, &path, &err) != THAW_OK) {
        return thaw_cli_fail(&err);
    }
    thaw_model_set_preset(m, s->preset);
    m->base_training = s->base_training;
    if (!thaw_setup_apply_freezing(s, m, &gerr)) {
        thaw_model_free(m);
        fprintf(stderr, "thaw-cli: %s\n", gerr->message);
        return EXIT_USAGE;
    }
    thaw_param_counts c = thaw_model_count_params(m); /* resolves the FIT modes */
    if (!json && !csv) {
        thaw_model_summary_print(m, stdout);
        thaw_model_free(m);
        return EXIT_SUCCESS;
    }
    g_autoptr(GString) o = g_string_new(NULL);
    if (json) {
        g_string_append(o, "{\"model\": ");
        thaw_cli_json_string(o, path);
        g_string_append_printf(o, ", \"preset\": \"%s\", \"layers\": [",
                               thaw_preset_get(m->preset)->name);
    } else {
        g_string_append(o, "name,kind,output_shape,params,trainable,bn_in_training_step\n");
    }
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        bool flat = l->kind == THAW_LAYER_GAP || l->kind == THAW_LAYER_DENSE ||
                    (l->kind == THAW_LAYER_DROPOUT && !l->in_base);
        g_autofree char *shape =
            flat ? g_strdup_printf("%d", l->oc) : g_strdup_printf("%d,%d,%d", l->oh, l->ow, l->oc);
        const char *bn = l->kind == THAW_LAYER_BATCHNORM ? thaw_bn_mode_phrase(&l->mode) : "";
        const char *tr = l->n_params == 0 ? "" : l->mode.params_trained ? "yes" : "no";
        size_t np = thaw_layer_param_count(m, i);
        if (json)
            g_string_append_printf(o,
                                   "%s{\"name\": \"%s\", \"kind\": \"%s\", \"output_shape\": "
                                   "[%s], \"params\": %zu, \"trainable\": %s, "
                                   "\"bn_in_training_step\": %s%s%s}",
                                   i ? ", " : "", l->name, thaw_layer_kind_name(l->kind), shape, np,
                                   l->n_params == 0 ? "null"
                                   : tr[0] == 'y'   ? "true"
                                                    : "false",
                                   *bn ? "\"" : "null", bn, *bn ? "\"" : "");
        else
            g_string_append_printf(o, "%s,%s,\"%s\",%zu,%s,\"%s\"\n", l->name,
                                   thaw_layer_kind_name(l->kind), shape, np, tr, bn);
    }
    if (json)
        g_string_append_printf(o,
                               "], \"total\": %zu, \"trainable\": %zu, \"non_trainable\": %zu}\n",
                               c.total, c.trainable, c.non_trainable);
    fputs(o->str, stdout);
    thaw_model_free(m);
    return EXIT_SUCCESS;
}

/* ------------------------------------------------------- eval and compare */

/* What eval and compare look at: a model (with its own head), set up with
 * the setup's semantics and freezing, and the images it is measured on. */
typedef struct inspect_ctx {
    ThawSetup *setup;
    thaw_model *model;
    char *model_path;
    thaw_dataset data;
    bool source; /* Fashion-MNIST: classes 0-4 instead of 5-9 */
    bool json;
    bool train_mode; /* eval --mode train */
    int flips;       /* compare: how many flipped images to list */
    int sweep[16];   /* compare: batch sizes for the training-mode sweep */
    int n_sweep;
    bool csv;         /* predict: CSV rows */
    GPtrArray *files; /* predict: PNG files given on the command line */
} inspect_ctx;

static void inspect_free(inspect_ctx *c)
{
    thaw_setup_free(c->setup);
    thaw_model_free(c->model);
    g_free(c->model_path);
    thaw_dataset_free(&c->data);
    if (c->files) g_ptr_array_free(c->files, TRUE);
}

/* PNG files given on the command line, decoded to the model's channels and
 * resized (bilinear) to its input; labels unknown (-1 is not a valid label,
 * so they are 0 and not reported). */
static thaw_status load_files(inspect_ctx *c, thaw_error *err)
{
    const thaw_model_config *cfg = &c->model->cfg;
    size_t img = (size_t)cfg->in_h * cfg->in_w * cfg->in_c;
    int n = (int)c->files->len;
    c->data = (thaw_dataset){
        .n = n, .h = cfg->in_h, .w = cfg->in_w, .c = cfg->in_c, .classes = cfg->classes};
    c->data.x = calloc((size_t)n * img, sizeof(float)); /* freed by thaw_dataset_free */
    c->data.y = calloc((size_t)n, sizeof(int32_t));
    if (!c->data.x || !c->data.y) return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        thaw_png_image p;
        thaw_status st = thaw_png_read(&p, c->files->pdata[i], cfg->in_c, err);
        if (st != THAW_OK) return st;
        thaw_folder_resize(c->data.x + (size_t)i * img, cfg->in_h, cfg->in_w, p.px, p.h, p.w,
                           cfg->in_c);
        thaw_png_image_free(&p);
    }
    return THAW_OK;
}

/* The test images: Fashion-MNIST test split (source or target classes,
 * val_k per class), or an image folder (val_dataset, else dataset). */
static thaw_status inspect_load(inspect_ctx *c, thaw_error *err)
{
    const ThawSetup *s = c->setup;
    thaw_status st = thaw_scenario_load_model(&c->model, s, true, &c->model_path, err);
    if (st != THAW_OK) return st;
    thaw_model *m = c->model;
    if (m->cfg.classes <= 0)
        return thaw_error_set(err, THAW_ERR_STATE, "'%s' has no classifier head", c->model_path);
    g_autoptr(GError) gerr = NULL;
    if (c->files && c->files->len > 0) return load_files(c, err);
    ThawSetupDataKind kind;
    bool val = s->val_dataset && *s->val_dataset;
    g_autofree char *dir = thaw_setup_resolve_dataset(s, val, &kind, &gerr);
    if (!dir) return thaw_error_set(err, THAW_ERR_IO, "%s", gerr->message);
    if (kind == THAW_SETUP_DATA_IMAGES) {
        thaw_folder_options fo = {.h = m->cfg.in_h, .w = m->cfg.in_w, .c = m->cfg.in_c};
        thaw_folder f;
        st = thaw_folder_load(&f, dir, &fo, err);
        if (st != THAW_OK) return st;
        c->data = f.data;
        memset(&f.data, 0, sizeof f.data);
        thaw_folder_free(&f);
        if (thaw_transform_has_shift(&s->shift))
            st = thaw_transform_shift_dataset(&c->data, &s->shift, 2, err);
    } else {
        st = thaw_scenario_load_split(&c->data, dir, "t10k",
                                      c->source ? thaw_scenario_source_classes
                                                : thaw_scenario_target_classes,
                                      s->val_k, 2, &s->shift, err);
    }
    if (st != THAW_OK) return st;
    if (c->data.h != m->cfg.in_h || c->data.w != m->cfg.in_w || c->data.c != m->cfg.in_c)
        return thaw_error_set(
            err, THAW_ERR_SHAPE, "'%s' takes %dx%dx%d input, the data is %dx%dx%d", c->model_path,
            m->cfg.in_h, m->cfg.in_w, m->cfg.in_c, c->data.h, c->data.w, c->data.c);
    if (c->data.classes != m->cfg.classes)
        return thaw_error_set(err, THAW_ERR_SHAPE, "'%s' has %d classes, the data %d",
                              c->model_path, m->cfg.classes, c->data.classes);
    thaw_model_set_preset(m, s->preset);
    m->base_training = s->base_training;
    m->bn_momentum = (float)s->bn_momentum;
    if (!thaw_setup_apply_freezing(s, m, &gerr))
        return thaw_error_set(err, THAW_ERR_ARG, "%s", gerr->message);
    return THAW_OK;
}

/* Parses the setup options plus the command's own; returns 0, -1 (help
 * printed) or an exit status. With c->files set, operands are PNG files. */
static int inspect_parse(int argc, char **argv, inspect_ctx *c, const char *help)
{
    g_autoptr(GError) gerr = NULL;
    c->setup = thaw_setup_new();
    c->flips = 10;
    if (!thaw_setup_parse_args(c->setup, &argc, &argv, &gerr))
        return thaw_cli_usage_error("%s", gerr->message);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            c->json = true;
        } else if (strcmp(a, "--csv") == 0) {
            c->csv = true;
        } else if (a[0] != '-' && c->files) {
            g_ptr_array_add(c->files, g_strdup(a));
        } else if (strcmp(a, "--classes") == 0 && v) {
            if (strcmp(v, "source") != 0 && strcmp(v, "target") != 0)
                return thaw_cli_usage_error("--classes: '%s' is not source or target", v);
            c->source = strcmp(v, "source") == 0;
            i++;
        } else if (strcmp(a, "--mode") == 0 && v) {
            if (strcmp(v, "train") != 0 && strcmp(v, "infer") != 0)
                return thaw_cli_usage_error("--mode: '%s' is not train or infer", v);
            c->train_mode = strcmp(v, "train") == 0;
            i++;
        } else if (strcmp(a, "--flips") == 0 && v) {
            if (!thaw_cli_parse_int(v, 0, 100000, &c->flips))
                return thaw_cli_usage_error("--flips: '%s' is not a number in 0..100000", v);
            i++;
        } else if (strcmp(a, "--batch-sweep") == 0 && v) {
            g_auto(GStrv) parts = g_strsplit(v, ",", -1);
            c->n_sweep = 0;
            for (int k = 0; parts[k]; k++) {
                if (c->n_sweep == 16 ||
                    !thaw_cli_parse_int(parts[k], 1, 4096, &c->sweep[c->n_sweep]))
                    return thaw_cli_usage_error("--batch-sweep: '%s' is not a list of up to 16 "
                                                "batch sizes in 1..4096",
                                                v);
                c->n_sweep++;
            }
            i++;
        } else {
            return thaw_cli_usage_error("unknown option or argument '%s'", a);
        }
    }
    if (!thaw_setup_validate(c->setup, &gerr)) return thaw_cli_usage_error("%s", gerr->message);
    if (c->json && c->csv) return thaw_cli_usage_error("--json and --csv exclude each other%s", "");
    return 0;
}

static const char eval_help[] =
    "Usage: thaw-cli eval [--model M] [--mode train|infer] [--batch N] [--classes source|target]\n"
    "                     [SETUP OPTION...] [--json | --csv]\n"
    "Loss and accuracy of a model on test images, in inference mode (predict/evaluate:\n"
    "moving statistics, no dropout) or in training mode (model(x, training=True) under the\n"
    "preset and freezing of the setup, without updating any statistics).\n"
    "Data: Fashion-MNIST test images of the target classes 5-9 (--classes source: 0-4; the\n"
    "shipped model was trained on those), or --dataset/--val_dataset DIR, an image folder.\n"
    "Setup options (--setup FILE, --preset, --base_training, --freeze, --val_k, --shift, ...)\n"
    "are those of 'thaw-cli finetune --help'.\n";

static int inspect_parse_with_files(int argc, char **argv, inspect_ctx *c, const char *help)
{
    c->files = g_ptr_array_new_with_free_func(g_free);
    return inspect_parse(argc, argv, c, help);
}

int thaw_cli_eval(int argc, char **argv)
{
    inspect_ctx c;
    memset(&c, 0, sizeof c);
    int rc = inspect_parse(argc, argv, &c, eval_help);
    if (rc != 0) {
        inspect_free(&c);
        return rc < 0 ? EXIT_SUCCESS : rc;
    }
    thaw_error err = {0};
    thaw_eval_result r;
    if (inspect_load(&c, &err) != THAW_OK ||
        thaw_model_evaluate(c.model, c.data.x, c.data.y, c.data.n, c.setup->batch, c.train_mode,
                            c.setup->seed, &r, &err) != THAW_OK) {
        inspect_free(&c);
        return thaw_cli_fail(&err);
    }
    const char *mode = c.train_mode ? "train" : "infer";
    if (c.csv) {
        printf("model,preset,mode,batch,images,loss,accuracy\n\"%s\",%s,%s,%d,%d,%.6f,%.6f\n",
               c.model_path, thaw_preset_get(c.setup->preset)->name, mode, c.setup->batch, r.n,
               r.loss, r.accuracy);
    } else if (c.json) {
        g_autoptr(GString) j = g_string_new("{\"model\": ");
        thaw_cli_json_string(j, c.model_path);
        g_string_append_printf(j,
                               ", \"preset\": \"%s\", \"mode\": \"%s\", \"batch\": %d, "
                               "\"images\": %d, \"loss\": %.6f, \"accuracy\": %.6f}\n",
                               thaw_preset_get(c.setup->preset)->name, mode, c.setup->batch, r.n,
                               r.loss, r.accuracy);
        fputs(j->str, stdout);
    } else {
        printf("%s: %d images, mode %s (preset %s, batch %d): loss %.4f, accuracy %.2f%%\n",
               c.model_path, r.n, mode, thaw_preset_get(c.setup->preset)->name, c.setup->batch,
               r.loss, 100 * r.accuracy);
    }
    inspect_free(&c);
    return EXIT_SUCCESS;
}

static int argmax_row(const float *p, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (p[j] > p[best]) best = j;
    return best;
}

static const char compare_help[] =
    "Usage: thaw-cli compare [--model M] [--batch N] [--batch-sweep 1,2,4,...] [--flips N]\n"
    "                        [--classes source|target] [SETUP OPTION...] [--json | --csv]\n"
    "The core view as text: the same images predicted in training mode (batch statistics\n"
    "where the preset and freezing say so, dropout on; batches of --batch images) and in\n"
    "inference mode. Prints both accuracies, the disagreement rate (top-1 differs), the mean\n"
    "|p_train - p_infer| of the true class, a per-class table and the first --flips images\n"
    "whose top-1 flips. --batch-sweep repeats the training-mode measurement at each batch\n"
    "size: in training mode an image's answer depends on its batch-mates (down to 1).\n"
    "Data and setup options as for 'thaw-cli eval --help'.\n";

int thaw_cli_compare(int argc, char **argv)
{
    inspect_ctx c;
    memset(&c, 0, sizeof c);
    int rc = inspect_parse(argc, argv, &c, compare_help);
    if (rc != 0) {
        inspect_free(&c);
        return rc < 0 ? EXIT_SUCCESS : rc;
    }
    thaw_error err = {0};
    float *pi = NULL, *pt = NULL;
    int *cls_n = NULL, *cls_i = NULL, *cls_t = NULL, *cls_d = NULL;
    g_autoptr(GString) flips = g_string_new(NULL);
    g_autoptr(GString) jflips = g_string_new(NULL);
    if (inspect_load(&c, &err) != THAW_OK) goto failed;
    const int n = c.data.n, k = c.model->cfg.classes, batch = c.setup->batch;
    pi = g_new(float, (size_t)n *k);
    pt = g_new(float, (size_t)n *k);
    if (thaw_model_predict(c.model, c.data.x, n, batch, false, 0, pi, &err) != THAW_OK ||
        thaw_model_predict(c.model, c.data.x, n, batch, true, c.setup->seed, pt, &err) != THAW_OK)
        goto failed;
    int hit_i = 0, hit_t = 0, disagree = 0;
    double dp = 0;
    cls_n = g_new0(int, k), cls_i = g_new0(int, k), cls_t = g_new0(int, k);
    cls_d = g_new0(int, k);
    int listed = 0;
    for (int i = 0; i < n; i++) {
        const float *a = pi + (size_t)i * k, *b = pt + (size_t)i * k;
        int y = c.data.y[i], ti = argmax_row(a, k), tt = argmax_row(b, k);
        hit_i += ti == y;
        hit_t += tt == y;
        dp += fabs((double)b[y] - (double)a[y]);
        cls_n[y]++;
        cls_i[y] += ti == y;
        cls_t[y] += tt == y;
        if (ti != tt) {
            disagree++;
            cls_d[y]++;
            if (listed < c.flips) {
                g_string_append_printf(flips, "  %6d %6d   %3d (%.2f)   %3d (%.2f)\n", i, y, ti,
                                       (double)a[ti], tt, (double)b[tt]);
                g_string_append_printf(jflips,
                                       "%s{\"image\": %d, \"label\": %d, \"infer\": %d, "
                                       "\"p_infer\": %.4f, \"train\": %d, \"p_train\": %.4f}",
                                       listed ? ", " : "", i, y, ti, (double)a[ti], tt,
                                       (double)b[tt]);
                listed++;
            }
        }
    }
    /* The batch-size sweep: training-mode accuracy as the batch shrinks. */
    double sweep_acc[16];
    for (int s = 0; s < c.n_sweep; s++) {
        thaw_eval_result r;
        if (thaw_model_evaluate(c.model, c.data.x, c.data.y, n, c.sweep[s], true, c.setup->seed, &r,
                                &err) != THAW_OK)
            goto failed;
        sweep_acc[s] = r.accuracy;
    }
    const char *preset = thaw_preset_get(c.setup->preset)->name;
    if (c.csv) {
        printf("class,images,accuracy_infer,accuracy_train,disagreements\n");
        for (int y = 0; y < k; y++)
            printf("%d,%d,%.6f,%.6f,%d\n", y, cls_n[y],
                   cls_n[y] ? (double)cls_i[y] / cls_n[y] : 0.0,
                   cls_n[y] ? (double)cls_t[y] / cls_n[y] : 0.0, cls_d[y]);
        printf("all,%d,%.6f,%.6f,%d\n", n, (double)hit_i / n, (double)hit_t / n, disagree);
    } else if (c.json) {
        g_autoptr(GString) j = g_string_new("{\"model\": ");
        thaw_cli_json_string(j, c.model_path);
        g_string_append_printf(j,
                               ", \"preset\": \"%s\", \"batch\": %d, \"images\": %d, "
                               "\"accuracy_infer\": %.6f, \"accuracy_train\": %.6f, "
                               "\"disagreement\": %.6f, \"mean_abs_dp_true\": %.6f, "
                               "\"classes\": [",
                               preset, batch, n, (double)hit_i / n, (double)hit_t / n,
                               (double)disagree / n, dp / n);
        for (int y = 0; y < k; y++)
            g_string_append_printf(j,
                                   "%s{\"class\": %d, \"images\": %d, \"accuracy_infer\": %.6f, "
                                   "\"accuracy_train\": %.6f, \"disagreements\": %d}",
                                   y ? ", " : "", y, cls_n[y],
                                   cls_n[y] ? (double)cls_i[y] / cls_n[y] : 0.0,
                                   cls_n[y] ? (double)cls_t[y] / cls_n[y] : 0.0, cls_d[y]);
        g_string_append_printf(j, "], \"flips\": [%s], \"batch_sweep\": [", jflips->str);
        for (int s = 0; s < c.n_sweep; s++)
            g_string_append_printf(j, "%s{\"batch\": %d, \"accuracy_train\": %.6f}", s ? ", " : "",
                                   c.sweep[s], sweep_acc[s]);
        g_string_append(j, "]}\n");
        fputs(j->str, stdout);
    } else {
        printf("%s on %d images, preset %s, training-mode batches of %d\n", c.model_path, n, preset,
               batch);
        printf("accuracy in inference mode %.2f%%, in training mode %.2f%%; top-1 differs on "
               "%.2f%% of the images; mean |dp| of the true class %.4f\n",
               100.0 * hit_i / n, 100.0 * hit_t / n, 100.0 * disagree / n, dp / n);
        printf("\n%6s %7s %11s %11s %9s\n", "class", "images", "acc infer", "acc train", "differ");
        for (int y = 0; y < k; y++)
            printf("%6d %7d %10.1f%% %10.1f%% %9d\n", y, cls_n[y],
                   cls_n[y] ? 100.0 * cls_i[y] / cls_n[y] : 0.0,
                   cls_n[y] ? 100.0 * cls_t[y] / cls_n[y] : 0.0, cls_d[y]);
        if (listed)
            printf("\nimages whose top-1 flips (first %d):\n  %6s %6s   %-10s   %-10s\n%s", listed,
                   "image", "label", "infer (p)", "train (p)", flips->str);
        if (c.n_sweep) {
            printf("\ntraining-mode accuracy by batch size (inference mode: %.2f%%):\n",
                   100.0 * hit_i / n);
            for (int s = 0; s < c.n_sweep; s++)
                printf("  batch %4d: %6.2f%%\n", c.sweep[s], 100 * sweep_acc[s]);
        }
    }
    g_free(cls_n), g_free(cls_i), g_free(cls_t), g_free(cls_d);
    g_free(pi), g_free(pt);
    inspect_free(&c);
    return EXIT_SUCCESS;
failed:
    g_free(cls_n), g_free(cls_i), g_free(cls_t), g_free(cls_d);
    g_free(pi), g_free(pt);
    inspect_free(&c);
    return thaw_cli_fail(&err);
}

/* ------------------------------------------------------------ import-keras */

static const char import_help[] =
    "Usage: thaw-cli import-keras FILE.h5 --save FILE.thaw [--input HxW] [--ignore-top]\n"
    "                             [--graph ka-1.0.5] [--preprocess auto|caffe|none]\n"
    "Read a Keras legacy HDF5 weight file by layer name (tf.keras / Keras 3 names or the old\n"
    "keras-applications names, detected from the file), print what was found, and save it\n"
    "as a Thaw checkpoint. --graph ka-1.0.5 builds old-name files without pool1_pad, as\n"
    "keras-applications <= 1.0.5 and Keras 1 did.\n";

int thaw_cli_import_keras(int argc, char **argv)
{
    thaw_keras_options ko;
    thaw_keras_options_default(&ko);
    const char *in = NULL, *save = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(import_help, stdout);
            return EXIT_SUCCESS;
        } else if (strcmp(a, "--save") == 0 && v) {
            save = v, i++;
        } else if (strcmp(a, "--input") == 0 && v) {
            if (sscanf(v, "%dx%d", &ko.in_h, &ko.in_w) != 2 || ko.in_h < 1 || ko.in_w < 1 ||
                ko.in_h > 4096 || ko.in_w > 4096)
                return thaw_cli_usage_error("--input: '%s' is not HxW", v);
            i++;
        } else if (strcmp(a, "--ignore-top") == 0) {
            ko.ignore_top = true;
        } else if (strcmp(a, "--graph") == 0 && v) {
            if (strcmp(v, "ka-1.0.5") == 0)
                ko.graph = THAW_KERAS_GRAPH_KA_1_0_5;
            else if (strcmp(v, "default") == 0)
                ko.graph = THAW_KERAS_GRAPH_DEFAULT;
            else
                return thaw_cli_usage_error("--graph: '%s' is not default or ka-1.0.5", v);
            i++;
        } else if (strcmp(a, "--preprocess") == 0 && v) {
            if (strcmp(v, "auto") == 0)
                ko.preprocess = THAW_KERAS_PREPROCESS_AUTO;
            else if (strcmp(v, "caffe") == 0)
                ko.preprocess = THAW_KERAS_PREPROCESS_CAFFE;
            else if (strcmp(v, "none") == 0)
                ko.preprocess = THAW_KERAS_PREPROCESS_NONE;
            else
                return thaw_cli_usage_error("--preprocess: '%s' is not auto, caffe or none", v);
            i++;
        } else if (a[0] != '-' && !in) {
            in = a;
        } else {
            return thaw_cli_usage_error("import-keras: unknown option or argument '%s'", a);
        }
    }
    if (!in || !save)
        return thaw_cli_usage_error("import-keras: needs FILE.h5 and --save FILE%s", "");
    thaw_model *m = NULL;
    thaw_keras_info info;
    thaw_error err = {0};
    if (thaw_keras_h5_load(&m, in, &ko, &info, &err) != THAW_OK) return thaw_cli_fail(&err);
    thaw_param_counts pc = thaw_model_count_params(m);
    printf("%s: %s, Keras %s, backend %s\n", in, info.variant_name,
           info.keras_version[0] ? info.keras_version : "1 (no keras_version)",
           info.backend[0] ? info.backend : "?");
    printf("architecture %s, input %dx%dx%d, BN epsilon %g%s%s\n", info.arch, m->cfg.in_h,
           m->cfg.in_w, m->cfg.in_c, (double)info.bn_eps, info.no_pool_pad ? ", no pool1_pad" : "",
           info.caffe ? ", caffe preprocessing" : "");
    printf("%d weighted layers read (%d tensors, %zu values); top: %s\n", info.n_layers_read,
           info.n_tensors, info.n_values,
           info.top_loaded ? info.top_name
           : info.has_top  ? "skipped"
                           : "none");
    printf("params: %zu total, %zu trainable, %zu non-trainable\n", pc.total, pc.trainable,
           pc.non_trainable);
    thaw_status st = thaw_checkpoint_save(m, save, false, &err);
    thaw_model_free(m);
    if (st != THAW_OK) return thaw_cli_fail(&err);
    printf("saved %s\n", save);
    return EXIT_SUCCESS;
}

/* ---------------------------------------------------------------- predict */

static const char predict_help[] =
    "Usage: thaw-cli predict [--model M] [--mode train|infer] [--batch N] [--csv | --json]\n"
    "                        [SETUP OPTION...] [FILE.png...]\n"
    "Per-image class probabilities in the chosen mode (default infer). With PNG files, each\n"
    "is decoded to the model's channels and resized (bilinear) to its input; without, the\n"
    "test images of the setup's data are used (as 'thaw-cli eval'; --val_k limits them).\n"
    "Columns: image, label (dataset images only), top-1, its probability, then p0..pK-1.\n"
    "In training mode the answer for an image depends on the other images of its batch.\n";

int thaw_cli_predict(int argc, char **argv)
{
    inspect_ctx c;
    memset(&c, 0, sizeof c);
    int rc = inspect_parse_with_files(argc, argv, &c, predict_help);
    if (rc != 0) {
        inspect_free(&c);
        return rc < 0 ? EXIT_SUCCESS : rc;
    }
    thaw_error err = {0};
    float *probs = NULL;
    g_autoptr(GString) o = g_string_new(NULL);
    if (inspect_load(&c, &err) != THAW_OK) goto failed;
    const int n = c.data.n, k = c.model->cfg.classes;
    const bool files = c.files->len > 0;
    probs = malloc((size_t)n * k * sizeof *probs);
    if (!probs) {
        thaw_error_set(&err, THAW_ERR_NOMEM, "out of memory");
        goto failed;
    }
    if (thaw_model_predict(c.model, c.data.x, n, c.setup->batch, c.train_mode, c.setup->seed, probs,
                           &err) != THAW_OK)
        goto failed;
    if (c.json) {
        g_string_append(o, "{\"model\": ");
        thaw_cli_json_string(o, c.model_path);
        g_string_append_printf(o, ", \"mode\": \"%s\", \"classes\": %d, \"images\": [",
                               c.train_mode ? "train" : "infer", k);
    } else if (c.csv) {
        g_string_append(o, files ? "image,top1,p_top1" : "image,label,top1,p_top1");
        for (int j = 0; j < k; j++) g_string_append_printf(o, ",p%d", j);
        g_string_append_c(o, '\n');
    }
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        int t = argmax_row(p, k);
        g_autofree char *name = files ? g_strdup(c.files->pdata[i]) : g_strdup_printf("%d", i);
        if (c.json) {
            g_string_append(o, i ? ", {\"image\": " : "{\"image\": ");
            thaw_cli_json_string(o, name);
            if (!files) g_string_append_printf(o, ", \"label\": %d", c.data.y[i]);
            g_string_append_printf(o, ", \"top1\": %d, \"probs\": [", t);
            for (int j = 0; j < k; j++) g_string_append_printf(o, "%s%.6f", j ? ", " : "", p[j]);
            g_string_append(o, "]}");
        } else if (c.csv) {
            g_string_append(o, name);
            if (!files) g_string_append_printf(o, ",%d", c.data.y[i]);
            g_string_append_printf(o, ",%d,%.6f", t, p[t]);
            for (int j = 0; j < k; j++) g_string_append_printf(o, ",%.6f", p[j]);
            g_string_append_c(o, '\n');
        } else {
            g_string_append_printf(o, "%-24s", name);
            if (!files) g_string_append_printf(o, " label %d", c.data.y[i]);
            g_string_append_printf(o, "  top-1 %d (%.3f)  [", t, p[t]);
            for (int j = 0; j < k; j++) g_string_append_printf(o, "%s%.3f", j ? " " : "", p[j]);
            g_string_append(o, "]\n");
        }
    }
    if (c.json) g_string_append(o, "]}\n");
    fputs(o->str, stdout);
    free(probs);
    inspect_free(&c);
    return EXIT_SUCCESS;
failed:
    free(probs);
    inspect_free(&c);
    return thaw_cli_fail(&err);
}
