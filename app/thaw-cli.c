/* thaw-cli: the headless front end.
 *
 * For now it has three subcommands (the full workbench of SPEC.md §6 grows here):
 *   finetune  the embedded default scenario: transfer the shipped model,
 *             pretrained on Fashion-MNIST classes 0-4, to classes 5-9 with K
 *             labelled images per class, and print the per-epoch curve
 *             measured in training mode and in inference mode;
 *   pretrain  how the shipped model is made;
 *   summary   the Keras-style layer table and parameter counts.
 * Exit status: 0 on success, 1 on a failure, 2 on a usage error. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thaw.h"

#ifndef THAW_MODELS_DIR
#define THAW_MODELS_DIR "resources/models"
#endif

#define EXIT_USAGE 2

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "thaw-cli: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'thaw-cli --help')\n");
    return EXIT_USAGE;
}

static int fail(const thaw_error *err)
{
    fprintf(stderr, "thaw-cli: %s\n", err->msg);
    return EXIT_FAILURE;
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

/* --------------------------------------------------------- training loop */

/* The Fashion-MNIST scenario of SPEC.md §4: the source task is classes 0-4,
 * the target task classes 5-9. */
static const int source_classes[5] = {0, 1, 2, 3, 4};
static const int target_classes[5] = {5, 6, 7, 8, 9};

typedef struct fit_opts {
    int epochs, batch, eval_batch;
    float lr;
    bool cosine;           /* cosine decay of lr to 0 over all steps */
    thaw_optimizer opt;
    thaw_transform augment; /* random flip / shift in training steps */
} fit_opts;

/* One epoch over d in shuffled full batches (drop_last, as BN statistics
 * need full batches). Augmentation obeys `training` like Keras's
 * preprocessing layers: on in fit() (and in a custom loop that does not pass
 * training, their default), off when the call passes training=False. */
static thaw_status train_epoch(thaw_model *m, const thaw_dataset *d, const fit_opts *f,
                               long *step, long total_steps, thaw_rng *rng, double *loss,
                               double *acc, double *ips, thaw_error *err)
{
    int batch = f->batch;
    int *perm = malloc((size_t)d->n * sizeof *perm);
    size_t img = (size_t)d->h * d->w * d->c;
    float *x = malloc((size_t)batch * img * sizeof(float));
    int32_t *y = malloc((size_t)batch * sizeof *y);
    thaw_step_report *rep = thaw_step_report_new(m);
    if (!perm || !x || !y || !rep) {
        free(perm), free(x), free(y), thaw_step_report_free(rep);
        return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
    }
    thaw_shuffle(perm, d->n, rng);
    bool augment = m->call_training != THAW_FALSE;
    double lsum = 0, t0 = now_s();
    long correct = 0, seen = 0;
    thaw_status st = THAW_OK;
    thaw_optimizer opt = f->opt;
    for (int b = 0; b + batch <= d->n && !interrupted; b += batch) {
        for (int i = 0; i < batch; i++) {
            memcpy(x + (size_t)i * img, d->x + (size_t)perm[b + i] * img, img * sizeof(float));
            y[i] = d->y[perm[b + i]];
        }
        thaw_transform_augment(x, batch, d->h, d->w, d->c, &f->augment, augment, rng);
        opt.lr = f->cosine ? 0.5f * f->lr * (1.0f + cosf(3.14159265f * (float)*step /
                                                          (float)total_steps))
                           : f->lr;
        st = thaw_model_train_step(m, x, y, batch, &opt, rep, err);
        if (st != THAW_OK) break;
        (*step)++;
        lsum += rep->loss * batch;
        correct += rep->correct;
        seen += batch;
    }
    double dt = now_s() - t0;
    *loss = seen ? lsum / seen : NAN;
    *acc = seen ? (double)correct / seen : NAN;
    *ips = dt > 0 ? seen / dt : 0;
    if (st == THAW_OK && interrupted) st = thaw_error_set(err, THAW_ERR_CANCELLED, "interrupted");
    free(perm), free(x), free(y);
    thaw_step_report_free(rep);
    return st;
}

/* Loads the Fashion-MNIST split `prefix` and keeps `classes` (k per class,
 * 0 = all), relabelled 0..4, with an optional domain shift applied. */
static thaw_status load_split(thaw_dataset *out, const char *dir, const char *prefix,
                              const int *classes, int k, uint64_t seed,
                              const thaw_transform *shift, thaw_error *err)
{
    thaw_dataset all;
    thaw_status st = thaw_fashion_load(&all, dir, prefix, err);
    if (st != THAW_OK) return st;
    st = thaw_dataset_subset(out, &all, classes, 5, k, seed, err);
    thaw_dataset_free(&all);
    if (st == THAW_OK && shift && thaw_transform_has_shift(shift)) {
        st = thaw_transform_shift_dataset(out, shift, seed ^ 0x5417ull, err);
        if (st != THAW_OK) thaw_dataset_free(out);
    }
    return st;
}

static void print_row(int epoch, double loss, double acc, const thaw_eval_result *ri,
                      const thaw_eval_result *rt, double ips)
{
    printf("%5d %9.4f %11.1f%% %13.1f%% %13.1f%% %9.0f\n", epoch, loss, 100 * acc,
           100 * ri->accuracy, 100 * rt->accuracy, ips);
    fflush(stdout);
}

/* Trains m on d for f->epochs, printing after each epoch the loss, the
 * training accuracy (measured in training mode, as fit() reports it) and the
 * validation accuracy in inference mode and in training mode. */
static thaw_status fit(thaw_model *m, const thaw_dataset *d, const thaw_dataset *val,
                       const fit_opts *f, uint64_t seed, thaw_error *err)
{
    thaw_rng rng;
    thaw_rng_seed(&rng, seed, 0x7a11);
    long step = 0, total = (long)f->epochs * (d->n / f->batch);
    printf("%5s %9s %12s %14s %14s %9s\n", "epoch", "loss", "train acc", "val acc infer",
           "val acc train", "images/s");
    for (int e = 1; e <= f->epochs; e++) {
        double loss = NAN, acc = NAN, ips = 0;
        thaw_status st = train_epoch(m, d, f, &step, total, &rng, &loss, &acc, &ips, err);
        if (st != THAW_OK) return st;
        thaw_eval_result ri, rt;
        st = thaw_model_evaluate(m, val->x, val->y, val->n, f->eval_batch, false, 0, &ri, err);
        if (st == THAW_OK)
            st = thaw_model_evaluate(m, val->x, val->y, val->n, f->eval_batch, true,
                                     (uint64_t)e, &rt, err);
        if (st != THAW_OK) return st;
        print_row(e, loss, acc, &ri, &rt, ips);
    }
    return THAW_OK;
}

/* ------------------------------------------------------------- pretrain */

typedef struct pretrain_opts {
    const char *data_dir, *arch, *save;
    int epochs, batch, hidden, k;
    float lr, dropout;
    thaw_transform augment;
    uint64_t seed;
} pretrain_opts;

static const char pretrain_help[] =
    "Usage: thaw-cli pretrain --save FILE.thaw [OPTION...]\n"
    "Train a ResNet from scratch on Fashion-MNIST classes 0-4 (the source task) and save it.\n"
    "SGD momentum 0.9, weight decay 5e-4, cosine learning-rate decay, preset keras3.\n\n"
    "  --save FILE         where to write the model (.thaw, written atomically)\n"
    "  --data DIR          Fashion-MNIST IDX files (default " THAW_FASHION_MNIST_DIR ")\n"
    "  --arch NAME         resnet8/20/32/56 (default resnet20)\n"
    "  --epochs N          (default 4)\n"
    "  --k N               training images per class, 0 = all 6000 (default 0)\n"
    "  --batch N           (default 64)\n"
    "  --lr LR             initial learning rate (default 0.1)\n"
    "  --hidden N          head: Dense(N, relu) before the classifier, 0 = none (default 64)\n"
    "  --dropout RATE      head: Dropout(RATE) before the classifier (default 0.3)\n"
    "  --augment SPEC      e.g. flip,shift:2 (default none)\n"
    "  --seed N            (default 1)\n";

static int cmd_pretrain(const pretrain_opts *o)
{
    thaw_error err;
    thaw_dataset src, test;
    double t0 = now_s();
    if (load_split(&src, o->data_dir, "train", source_classes, o->k, o->seed, NULL, &err) !=
        THAW_OK)
        return fail(&err);
    if (load_split(&test, o->data_dir, "t10k", source_classes, 0, 0, NULL, &err) != THAW_OK) {
        thaw_dataset_free(&src);
        return fail(&err);
    }
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "%s", o->arch);
    cfg.in_h = src.h;
    cfg.in_w = src.w;
    cfg.in_c = src.c;
    cfg.classes = 5;
    cfg.head_hidden = o->hidden;
    cfg.dropout = o->dropout;
    cfg.seed = o->seed;
    thaw_model_config_set_standardize(&cfg, THAW_FASHION_MEAN, THAW_FASHION_STD);
    thaw_model *m = NULL;
    int rc = EXIT_SUCCESS;
    if (thaw_model_new(&m, &cfg, &err) != THAW_OK) goto failed;
    printf("Pretraining %s on Fashion-MNIST classes 0-4: %d images, %d epochs, batch %d, lr %g "
           "(cosine), seed %llu\n", o->arch, src.n, o->epochs, o->batch, (double)o->lr,
           (unsigned long long)o->seed);
    fit_opts f = {.epochs = o->epochs, .batch = o->batch, .eval_batch = 256, .lr = o->lr,
                  .cosine = true, .augment = o->augment};
    thaw_optimizer_default(&f.opt, THAW_OPT_SGD);
    f.opt.weight_decay = 5e-4f;
    if (fit(m, &src, &test, &f, o->seed, &err) != THAW_OK) goto failed;
    thaw_eval_result r;
    if (thaw_model_evaluate(m, test.x, test.y, test.n, 256, false, 0, &r, &err) != THAW_OK)
        goto failed;
    if (thaw_checkpoint_save(m, o->save, false, &err) != THAW_OK) goto failed;
    printf("test accuracy on classes 0-4 (inference mode, %d images): %.2f%%\n", test.n,
           100 * r.accuracy);
    printf("saved %s in %.0f s\n", o->save, now_s() - t0);
    goto out;
failed:
    rc = fail(&err);
out:
    thaw_model_free(m);
    thaw_dataset_free(&src);
    thaw_dataset_free(&test);
    return rc;
}

static int parse_pretrain(int argc, char **argv, pretrain_opts *o)
{
    static const struct option longopts[] = {
        {"save", required_argument, 0, 'o'},   {"data", required_argument, 0, 'd'},
        {"arch", required_argument, 0, 'a'},   {"epochs", required_argument, 0, 'e'},
        {"batch", required_argument, 0, 'b'},  {"lr", required_argument, 0, 'l'},
        {"hidden", required_argument, 0, 'H'}, {"dropout", required_argument, 0, 'D'},
        {"augment", required_argument, 0, 'A'}, {"seed", required_argument, 0, 's'},
        {"k", required_argument, 0, 'k'},      {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *o = (pretrain_opts){.data_dir = THAW_FASHION_MNIST_DIR, .arch = "resnet20", .epochs = 4,
                         .batch = 64, .hidden = 64, .lr = 0.1f, .dropout = 0.3f, .seed = 1};
    int c, v;
    thaw_error err;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->save = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'a': o->arch = optarg; break;
        case 'k':
            if (!parse_int(optarg, 0, 6000, &o->k))
                return usage_error("--k: '%s' is not a number in 0..6000", optarg);
            break;
        case 'e':
            if (!parse_int(optarg, 1, 10000, &o->epochs))
                return usage_error("--epochs: '%s' is not a number in 1..10000", optarg);
            break;
        case 'b':
            if (!parse_int(optarg, 1, 4096, &o->batch))
                return usage_error("--batch: '%s' is not a number in 1..4096", optarg);
            break;
        case 'l':
            if (!parse_float(optarg, 0.0f, 10.0f, &o->lr))
                return usage_error("--lr: '%s' is not a number in [0, 10]", optarg);
            break;
        case 'H':
            if (!parse_int(optarg, 0, 100000, &o->hidden))
                return usage_error("--hidden: '%s' is not a number in 0..100000", optarg);
            break;
        case 'D':
            if (!parse_float(optarg, 0.0f, 0.99f, &o->dropout))
                return usage_error("--dropout: '%s' is not a rate in [0, 0.99]", optarg);
            break;
        case 'A':
            if (thaw_transform_parse(&o->augment, optarg, &err) != THAW_OK)
                return usage_error("--augment: %s", err.msg);
            break;
        case 's':
            if (!parse_int(optarg, 0, 2147483647, &v))
                return usage_error("--seed: '%s' is not a non-negative number", optarg);
            o->seed = (uint64_t)v;
            break;
        case 'h': fputs(pretrain_help, stdout); return -1;
        default:
            return usage_error("pretrain: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("pretrain: unexpected argument '%s'", argv[optind]);
    if (!o->save) return usage_error("pretrain: --save FILE is required%s", "");
    return 0;
}

/* ------------------------------------------------------------- finetune */

typedef struct run_opts {
    const char *data_dir, *base, *save;
    int epochs, k, val_k, batch, hidden;
    float lr, dropout;
    thaw_preset preset;
    thaw_tristate base_training;
    bool freeze_base;
    thaw_transform shift, augment;
    uint64_t seed;
} run_opts;

/* Loads the base model (.thaw, or Keras .h5 by its extension). */
static thaw_status load_base(thaw_model **out, const char *path, thaw_error *err)
{
    size_t n = strlen(path);
    if (n > 3 && (strcmp(path + n - 3, ".h5") == 0 || strcmp(path + n - 5, ".hdf5") == 0)) {
        thaw_keras_options ko;
        thaw_keras_options_default(&ko);
        ko.ignore_top = true;
        ko.in_h = ko.in_w = 28;
        return thaw_keras_h5_load(out, path, &ko, NULL, err);
    }
    return thaw_checkpoint_load(out, path, err);
}

static int cmd_finetune(const run_opts *o)
{
    thaw_error err;
    thaw_dataset tgt, val;
    double t0 = now_s();
    thaw_model *base = NULL, *m = NULL;
    if (load_base(&base, o->base, &err) != THAW_OK) return fail(&err);
    if (base->cfg.in_h != 28 || base->cfg.in_w != 28 || base->cfg.in_c != 1) {
        thaw_error_set(&err, THAW_ERR_SHAPE,
                       "'%s': the model takes %dx%dx%d input, Fashion-MNIST is 28x28x1", o->base,
                       base->cfg.in_h, base->cfg.in_w, base->cfg.in_c);
        thaw_model_free(base);
        return fail(&err);
    }
    if (load_split(&tgt, o->data_dir, "train", target_classes, o->k, o->seed + 1, &o->shift,
                   &err) != THAW_OK) {
        thaw_model_free(base);
        return fail(&err);
    }
    if (load_split(&val, o->data_dir, "t10k", target_classes, o->val_k, 2, &o->shift, &err) !=
        THAW_OK) {
        thaw_model_free(base);
        thaw_dataset_free(&tgt);
        return fail(&err);
    }
    int rc = EXIT_SUCCESS;
    if (o->batch > tgt.n) {
        thaw_error_set(&err, THAW_ERR_ARG, "--batch %d is larger than the %d target images",
                       o->batch, tgt.n);
        goto failed;
    }
    /* The base's weights and statistics under a new head for the 5 target classes. */
    thaw_model_config cfg = base->cfg;
    cfg.classes = 5;
    cfg.head_hidden = o->hidden;
    cfg.dropout = o->dropout;
    cfg.seed = o->seed + 17;
    if (thaw_model_new(&m, &cfg, &err) != THAW_OK) goto failed;
    for (int i = 0; i < m->n_params; i++) {
        thaw_param *p = &m->params[i];
        if (!m->layers[p->layer].in_base) continue;
        thaw_param *q = thaw_model_find_param(base, p->name);
        if (!q || q->count != p->count) {
            thaw_error_set(&err, THAW_ERR_SHAPE, "'%s' has no tensor %s of %zu values", o->base,
                           p->name, p->count);
            goto failed;
        }
        memcpy(thaw_param_data(m, p), thaw_param_data(base, q), p->count * sizeof(float));
    }
    thaw_model_set_preset(m, o->preset);
    m->base_training = o->base_training;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].in_base) m->layers[i].trainable = !o->freeze_base;
    thaw_param_counts pc = thaw_model_count_params(m);
    char shift[128], aug[128];
    thaw_transform_describe(&o->shift, shift, sizeof shift);
    thaw_transform_describe(&o->augment, aug, sizeof aug);
    printf("Fine-tuning %s (%s) on Fashion-MNIST classes 5-9: K = %d per class (%d images), "
           "validation %d images\n", cfg.arch, o->base, o->k, tgt.n, val.n);
    printf("preset %s; base %s, called with training=%s; shift %s; augment %s\n",
           thaw_preset_get(o->preset)->name, o->freeze_base ? "frozen" : "trainable",
           o->base_training == THAW_UNSET ? "None" : o->base_training ? "True" : "False", shift,
           aug);
    printf("params: %zu trainable, %zu non-trainable; SGD lr %g momentum 0.9, batch %d\n",
           pc.trainable, pc.non_trainable, (double)o->lr, o->batch);
    fit_opts f = {.epochs = o->epochs, .batch = o->batch, .eval_batch = 256, .lr = o->lr,
                  .augment = o->augment};
    thaw_optimizer_default(&f.opt, THAW_OPT_SGD);
    if (fit(m, &tgt, &val, &f, o->seed, &err) != THAW_OK) goto failed;
    if (o->save && thaw_checkpoint_save(m, o->save, false, &err) != THAW_OK) goto failed;
    printf("done in %.1f s%s%s\n", now_s() - t0, o->save ? ", saved " : "", o->save ? o->save : "");
    goto out;
failed:
    rc = fail(&err);
out:
    thaw_model_free(base);
    thaw_model_free(m);
    thaw_dataset_free(&tgt);
    thaw_dataset_free(&val);
    return rc;
}

static const char finetune_help[] =
    "Usage: thaw-cli finetune [OPTION...]\n"
    "Transfer a model pretrained on Fashion-MNIST classes 0-4 to classes 5-9 with K labelled\n"
    "images per class, and print the curve: loss, training accuracy (measured in training\n"
    "mode, as fit() reports it), validation accuracy in inference mode and in training mode.\n\n"
    "  --base FILE             the pretrained model, .thaw or Keras .h5 (default: the shipped\n"
    "                          " THAW_MODELS_DIR "/fashion-resnet20.thaw)\n"
    "  --data DIR              Fashion-MNIST IDX files (default " THAW_FASHION_MNIST_DIR ")\n"
    "  --epochs N              fine-tuning epochs (default 8)\n"
    "  --k N                   labelled target images per class (default 100)\n"
    "  --val-k N               test images per class to validate on, 0 = all 1000 (default 0)\n"
    "  --batch N               batch size (default 32)\n"
    "  --lr LR                 learning rate, SGD momentum 0.9 (default 0.05)\n"
    "  --hidden N              new head: Dense(N, relu) before the classifier (default 0)\n"
    "  --dropout RATE          new head: Dropout(RATE) before the classifier (default 0.2)\n"
    "  --preset NAME           semantics preset (default keras3): keras3, tf-keras2,\n"
    "                          keras-2.1.2, keras-2.1.3, keras-2.2, pytorch, pytorch-bn-eval,\n"
    "                          lightning-no-train-bn, timm-frozen-bn, fastai-train-bn\n"
    "  --base-training VALUE   base_model(x, training=VALUE): true, false or none (default none)\n"
    "  --unfreeze              train the base too (default: the base is frozen)\n"
    "  --shift SPEC            domain shift of the target images, e.g. invert, lift, dark:0.5,\n"
    "                          brightness:-40, contrast:0.5, noise:25 (default none)\n"
    "  --augment SPEC          augmentation in training steps, e.g. flip,shift:2 (default none)\n"
    "  --save FILE             write the fine-tuned model (.thaw)\n"
    "  --seed N                seed of sampling, the new head and dropout (default 1)\n";

static int parse_finetune(int argc, char **argv, run_opts *o)
{
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},          {"base", required_argument, 0, 'B'},
        {"epochs", required_argument, 0, 'e'},        {"k", required_argument, 0, 'k'},
        {"val-k", required_argument, 0, 'v'},         {"batch", required_argument, 0, 'b'},
        {"lr", required_argument, 0, 'l'},            {"hidden", required_argument, 0, 'H'},
        {"dropout", required_argument, 0, 'D'},       {"preset", required_argument, 0, 'p'},
        {"base-training", required_argument, 0, 't'}, {"unfreeze", no_argument, 0, 'u'},
        {"shift", required_argument, 0, 'S'},         {"augment", required_argument, 0, 'A'},
        {"save", required_argument, 0, 'o'},          {"seed", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0},
    };
    *o = (run_opts){.data_dir = THAW_FASHION_MNIST_DIR,
                    .base = THAW_MODELS_DIR "/fashion-resnet20.thaw", .epochs = 8, .k = 100,
                    .batch = 32, .lr = 0.05f, .dropout = 0.2f, .preset = THAW_PRESET_KERAS3,
                    .base_training = THAW_UNSET, .freeze_base = true, .seed = 1};
    int c, v;
    thaw_error err;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data_dir = optarg; break;
        case 'B': o->base = optarg; break;
        case 'o': o->save = optarg; break;
        case 'e':
            if (!parse_int(optarg, 0, 10000, &o->epochs))
                return usage_error("--epochs: '%s' is not a number in 0..10000", optarg);
            break;
        case 'k':
            if (!parse_int(optarg, 1, 6000, &o->k))
                return usage_error("--k: '%s' is not a number in 1..6000", optarg);
            break;
        case 'v':
            if (!parse_int(optarg, 0, 1000, &o->val_k))
                return usage_error("--val-k: '%s' is not a number in 0..1000", optarg);
            break;
        case 'b':
            if (!parse_int(optarg, 1, 4096, &o->batch))
                return usage_error("--batch: '%s' is not a number in 1..4096", optarg);
            break;
        case 'l':
            if (!parse_float(optarg, 0.0f, 10.0f, &o->lr))
                return usage_error("--lr: '%s' is not a number in [0, 10]", optarg);
            break;
        case 'H':
            if (!parse_int(optarg, 0, 100000, &o->hidden))
                return usage_error("--hidden: '%s' is not a number in 0..100000", optarg);
            break;
        case 'D':
            if (!parse_float(optarg, 0.0f, 0.99f, &o->dropout))
                return usage_error("--dropout: '%s' is not a rate in [0, 0.99]", optarg);
            break;
        case 'p':
            if (thaw_preset_from_name(optarg, &o->preset) != 0 || o->preset == THAW_PRESET_MANUAL)
                return usage_error("--preset: unknown preset '%s'", optarg);
            break;
        case 't':
            if (strcmp(optarg, "true") == 0) o->base_training = THAW_TRUE;
            else if (strcmp(optarg, "false") == 0) o->base_training = THAW_FALSE;
            else if (strcmp(optarg, "none") == 0) o->base_training = THAW_UNSET;
            else return usage_error("--base-training: '%s' is not true, false or none", optarg);
            break;
        case 'u': o->freeze_base = false; break;
        case 'S':
            if (thaw_transform_parse(&o->shift, optarg, &err) != THAW_OK)
                return usage_error("--shift: %s", err.msg);
            if (thaw_transform_has_augment(&o->shift))
                return usage_error("--shift: '%s' is augmentation; use --augment", optarg);
            break;
        case 'A':
            if (thaw_transform_parse(&o->augment, optarg, &err) != THAW_OK)
                return usage_error("--augment: %s", err.msg);
            if (thaw_transform_has_shift(&o->augment))
                return usage_error("--augment: '%s' is a domain shift; use --shift", optarg);
            break;
        case 's':
            if (!parse_int(optarg, 0, 2147483647, &v))
                return usage_error("--seed: '%s' is not a non-negative number", optarg);
            o->seed = (uint64_t)v;
            break;
        case 'h': fputs(finetune_help, stdout); return -1;
        default:
            return usage_error("finetune: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("finetune: unexpected argument '%s'", argv[optind]);
    return 0;
}

/* -------------------------------------------------------------- summary */

static const char summary_help[] =
    "Usage: thaw-cli summary [--arch NAME] [--input HxWxC] [--classes N] [--preset NAME]\n"
    "                        [--freeze-base]\n"
    "Print the Keras-style layer table: name, kind, output shape, parameters, whether the\n"
    "layer trains, and what each BatchNorm does in a training step under the preset; then\n"
    "total, trainable and non-trainable parameter counts as model.summary() reports them.\n"
    "Defaults: resnet20, 28x28x1, 10 classes, keras3. --classes 0 builds no top.\n";

static int cmd_summary(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"arch", required_argument, 0, 'a'},   {"input", required_argument, 0, 'i'},
        {"classes", required_argument, 0, 'c'}, {"preset", required_argument, 0, 'p'},
        {"freeze-base", no_argument, 0, 'f'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    thaw_preset preset = THAW_PRESET_KERAS3;
    bool freeze = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': snprintf(cfg.arch, sizeof cfg.arch, "%s", optarg); break;
        case 'i':
            if (sscanf(optarg, "%dx%dx%d", &cfg.in_h, &cfg.in_w, &cfg.in_c) != 3)
                return usage_error("--input: '%s' is not HxWxC", optarg);
            break;
        case 'c':
            if (!parse_int(optarg, 0, 100000, &cfg.classes))
                return usage_error("--classes: '%s' is not a number in 0..100000", optarg);
            break;
        case 'p':
            if (thaw_preset_from_name(optarg, &preset) != 0)
                return usage_error("--preset: unknown preset '%s'", optarg);
            break;
        case 'f': freeze = true; break;
        case 'h': fputs(summary_help, stdout); return EXIT_SUCCESS;
        default: return usage_error("summary: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("summary: unexpected argument '%s'", argv[optind]);
    thaw_model *m;
    thaw_error err;
    if (thaw_model_new(&m, &cfg, &err) != THAW_OK) return fail(&err);
    thaw_model_set_preset(m, preset);
    for (int i = 0; freeze && i < m->n_layers; i++)
        if (m->layers[i].in_base) m->layers[i].trainable = false;
    thaw_model_summary_print(m, stdout);
    thaw_model_free(m);
    return EXIT_SUCCESS;
}

static const char main_help[] =
    "Usage: thaw-cli COMMAND [OPTION...]\n"
    "Thaw: which layers are frozen (trainable) and which mode they run in (training).\n\n"
    "Commands:\n"
    "  finetune   fine-tune the shipped model on Fashion-MNIST 5-9 and print the curve\n"
    "  pretrain   train a model from scratch on Fashion-MNIST 0-4 (the shipped model)\n"
    "  summary    the Keras-style layer table and parameter counts\n\n"
    "'thaw-cli COMMAND --help' describes a command's options.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_help, stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(cmd, "summary") == 0) return cmd_summary(argc - 1, argv + 1);
    if (strcmp(cmd, "finetune") == 0) {
        run_opts o;
        int rc = parse_finetune(argc - 1, argv + 1, &o);
        if (rc != 0) return rc < 0 ? EXIT_SUCCESS : rc;
        signal(SIGINT, on_sigint);
        return cmd_finetune(&o);
    }
    if (strcmp(cmd, "pretrain") == 0) {
        pretrain_opts o;
        int rc = parse_pretrain(argc - 1, argv + 1, &o);
        if (rc != 0) return rc < 0 ? EXIT_SUCCESS : rc;
        signal(SIGINT, on_sigint);
        return cmd_pretrain(&o);
    }
    return usage_error("unknown command '%s'", cmd);
}
