/* thaw-cli: the headless front end.
 *
 * For now it has two subcommands (the full workbench of SPEC.md §6 grows here):
 *   finetune  the embedded default scenario: pretrain a ResNet on Fashion-MNIST
 *             classes 0-4, transfer it to classes 5-9 with K labelled images
 *             per class, and print the per-epoch curve measured in training
 *             mode and in inference mode;
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

/* ------------------------------------------------------------- finetune */

typedef struct run_opts {
    const char *data_dir;
    const char *arch;
    int pretrain_epochs, pretrain_k, epochs, k, val_k, batch, eval_batch;
    float pretrain_lr, lr;
    thaw_preset preset;
    thaw_tristate base_training;
    bool freeze_base;
    uint64_t seed;
} run_opts;

static thaw_status train_epoch(thaw_model *m, const thaw_dataset *d, int batch,
                               const thaw_optimizer *opt, thaw_rng *rng, double *loss,
                               double *acc, double *ips, thaw_error *err)
{
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
    double lsum = 0, t0 = now_s();
    long correct = 0, seen = 0;
    thaw_status st = THAW_OK;
    /* drop_last: every step sees a full batch, as BN statistics need */
    for (int b = 0; b + batch <= d->n && st == THAW_OK && !interrupted; b += batch) {
        for (int i = 0; i < batch; i++) {
            memcpy(x + (size_t)i * img, d->x + (size_t)perm[b + i] * img, img * sizeof(float));
            y[i] = d->y[perm[b + i]];
        }
        st = thaw_model_train_step(m, x, y, batch, opt, rep, err);
        if (st != THAW_OK) break;
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

static int cmd_finetune(const run_opts *o)
{
    thaw_error err;
    thaw_dataset train, test, src, tgt, val;
    double t_start = now_s();
    if (thaw_fashion_load(&train, o->data_dir, "train", &err) != THAW_OK) return fail(&err);
    if (thaw_fashion_load(&test, o->data_dir, "t10k", &err) != THAW_OK) {
        thaw_dataset_free(&train);
        return fail(&err);
    }
    const int source[5] = {0, 1, 2, 3, 4}, target[5] = {5, 6, 7, 8, 9};
    thaw_status st = thaw_dataset_subset(&src, &train, source, 5, o->pretrain_k, o->seed, &err);
    if (st == THAW_OK) st = thaw_dataset_subset(&tgt, &train, target, 5, o->k, o->seed + 1, &err);
    if (st == THAW_OK) st = thaw_dataset_subset(&val, &test, target, 5, o->val_k, 2, &err);
    thaw_dataset_free(&train);
    if (st != THAW_OK) {
        thaw_dataset_free(&test);
        return fail(&err);
    }
    thaw_dataset srcval;
    st = thaw_dataset_subset(&srcval, &test, source, 5, o->val_k, 3, &err);
    thaw_dataset_free(&test);
    if (st != THAW_OK) return fail(&err);

    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "%s", o->arch);
    cfg.in_h = src.h;
    cfg.in_w = src.w;
    cfg.in_c = src.c;
    cfg.classes = 5;
    cfg.dropout = 0.2f;
    cfg.seed = o->seed;
    thaw_model_config_set_standardize(&cfg, THAW_FASHION_MEAN, THAW_FASHION_STD);
    thaw_model *pre = NULL, *m = NULL;
    thaw_rng rng;
    thaw_rng_seed(&rng, o->seed, 0x7a11);
    int rc = EXIT_SUCCESS;

    /* 1. The source task (until a pretrained model ships in resources/models). */
    printf("Pretraining %s on Fashion-MNIST classes 0-4 (%d images, %d epochs, batch %d)\n",
           o->arch, src.n, o->pretrain_epochs, o->batch);
    if (thaw_model_new(&pre, &cfg, &err) != THAW_OK) goto failed;
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = o->pretrain_lr;
    opt.weight_decay = 5e-4f;
    for (int e = 1; e <= o->pretrain_epochs; e++) {
        double loss, acc, ips;
        if (train_epoch(pre, &src, o->batch, &opt, &rng, &loss, &acc, &ips, &err) != THAW_OK)
            goto failed;
        thaw_eval_result r;
        if (thaw_model_evaluate(pre, srcval.x, srcval.y, srcval.n, o->eval_batch, false, 0, &r,
                                &err) != THAW_OK)
            goto failed;
        printf("  pretrain epoch %d: loss %.4f, train acc %.1f%%, test acc (inference) %.1f%%, "
               "%.0f images/s\n", e, loss, 100 * acc, 100 * r.accuracy, ips);
        fflush(stdout);
    }

    /* 2. Transfer: the base's weights and statistics, a new head. */
    cfg.seed = o->seed + 17;
    if (thaw_model_new(&m, &cfg, &err) != THAW_OK) goto failed;
    for (int i = 0; i < m->n_params; i++) {
        thaw_param *p = &m->params[i];
        if (!m->layers[p->layer].in_base) continue;
        thaw_param *q = thaw_model_find_param(pre, p->name);
        memcpy(thaw_param_data(m, p), thaw_param_data(pre, q), p->count * sizeof(float));
    }
    thaw_model_set_preset(m, o->preset);
    m->base_training = o->base_training;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].in_base) m->layers[i].trainable = !o->freeze_base;
    thaw_param_counts pc = thaw_model_count_params(m);
    printf("\nFine-tuning on classes 5-9: K = %d per class (%d images), validation %d images\n",
           o->k, tgt.n, val.n);
    printf("preset %s, base %s, base called with training=%s; params: %zu trainable, %zu "
           "non-trainable\n", thaw_preset_get(o->preset)->name,
           o->freeze_base ? "frozen" : "trainable",
           o->base_training == THAW_UNSET ? "None" : o->base_training ? "True" : "False",
           pc.trainable, pc.non_trainable);
    printf("%5s %9s %12s %14s %14s %9s\n", "epoch", "loss", "train acc", "val acc infer",
           "val acc train", "images/s");
    thaw_optimizer_default(&opt, THAW_OPT_SGD);
    opt.lr = o->lr;
    for (int e = 1; e <= o->epochs; e++) {
        double loss, acc, ips;
        if (train_epoch(m, &tgt, o->batch, &opt, &rng, &loss, &acc, &ips, &err) != THAW_OK)
            goto failed;
        thaw_eval_result ri, rt;
        if (thaw_model_evaluate(m, val.x, val.y, val.n, o->eval_batch, false, 0, &ri, &err) !=
                THAW_OK ||
            thaw_model_evaluate(m, val.x, val.y, val.n, o->eval_batch, true, (uint64_t)e, &rt,
                                &err) != THAW_OK)
            goto failed;
        printf("%5d %9.4f %11.1f%% %13.1f%% %13.1f%% %9.0f\n", e, loss, 100 * acc,
               100 * ri.accuracy, 100 * rt.accuracy, ips);
        fflush(stdout);
    }
    printf("done in %.1f s\n", now_s() - t_start);
    goto out;
failed:
    rc = fail(&err);
out:
    thaw_model_free(pre);
    thaw_model_free(m);
    thaw_dataset_free(&src);
    thaw_dataset_free(&tgt);
    thaw_dataset_free(&val);
    thaw_dataset_free(&srcval);
    return rc;
}

static const char finetune_help[] =
    "Usage: thaw-cli finetune [OPTION...]\n"
    "Pretrain a ResNet on Fashion-MNIST classes 0-4, transfer it to classes 5-9 with K\n"
    "labelled images per class, and print the curve: loss, training accuracy (measured in\n"
    "training mode), validation accuracy in inference mode and in training mode.\n\n"
    "  --data DIR              Fashion-MNIST IDX files (default " THAW_FASHION_MNIST_DIR ")\n"
    "  --arch NAME             resnet8/20/32/56 (default resnet20)\n"
    "  --pretrain-epochs N     source-task epochs (default 2)\n"
    "  --pretrain-k N          source images per class, 0 = all 6000 (default 2000)\n"
    "  --pretrain-lr LR        source-task learning rate (default 0.05)\n"
    "  --epochs N              fine-tuning epochs (default 8)\n"
    "  --k N                   labelled target images per class (default 100)\n"
    "  --val-k N               test images per class to validate on, 0 = all 1000 (default 0)\n"
    "  --batch N               batch size (default 32)\n"
    "  --lr LR                 fine-tuning learning rate, SGD momentum 0.9 (default 0.01)\n"
    "  --preset NAME           semantics preset (default keras3): keras3, tf-keras2,\n"
    "                          keras-2.1.2, keras-2.1.3, keras-2.2, pytorch, pytorch-bn-eval,\n"
    "                          lightning-no-train-bn, timm-frozen-bn, fastai-train-bn\n"
    "  --base-training VALUE   base_model(x, training=VALUE): true, false or none (default none)\n"
    "  --unfreeze              train the base too (default: the base is frozen)\n"
    "  --seed N                seed of data sampling, initialisation and dropout (default 1)\n";

static int parse_finetune(int argc, char **argv, run_opts *o)
{
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},          {"arch", required_argument, 0, 'a'},
        {"pretrain-epochs", required_argument, 0, 'P'}, {"pretrain-k", required_argument, 0, 'K'},
        {"pretrain-lr", required_argument, 0, 'L'},   {"epochs", required_argument, 0, 'e'},
        {"k", required_argument, 0, 'k'},             {"batch", required_argument, 0, 'b'},
        {"lr", required_argument, 0, 'l'},            {"preset", required_argument, 0, 'p'},
        {"base-training", required_argument, 0, 't'}, {"unfreeze", no_argument, 0, 'u'},
        {"seed", required_argument, 0, 's'},          {"help", no_argument, 0, 'h'},
        {"val-k", required_argument, 0, 'v'},
        {0, 0, 0, 0},
    };
    *o = (run_opts){.data_dir = THAW_FASHION_MNIST_DIR, .arch = "resnet20", .pretrain_epochs = 2,
                    .pretrain_k = 2000, .epochs = 8, .k = 100, .batch = 32, .eval_batch = 256,
                    .pretrain_lr = 0.05f, .lr = 0.01f, .preset = THAW_PRESET_KERAS3,
                    .base_training = THAW_UNSET, .freeze_base = true, .seed = 1};
    int c, v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data_dir = optarg; break;
        case 'a': o->arch = optarg; break;
        case 'P':
            if (!parse_int(optarg, 0, 1000, &o->pretrain_epochs))
                return usage_error("--pretrain-epochs: '%s' is not a number in 0..1000", optarg);
            break;
        case 'K':
            if (!parse_int(optarg, 0, 6000, &o->pretrain_k))
                return usage_error("--pretrain-k: '%s' is not a number in 0..6000", optarg);
            break;
        case 'L':
            if (!parse_float(optarg, 0.0f, 10.0f, &o->pretrain_lr))
                return usage_error("--pretrain-lr: '%s' is not a number in [0, 10]", optarg);
            break;
        case 'e':
            if (!parse_int(optarg, 0, 10000, &o->epochs))
                return usage_error("--epochs: '%s' is not a number in 0..10000", optarg);
            break;
        case 'k':
            if (!parse_int(optarg, 1, 6000, &o->k))
                return usage_error("--k: '%s' is not a number in 1..6000", optarg);
            break;
        case 'b':
            if (!parse_int(optarg, 1, 4096, &o->batch))
                return usage_error("--batch: '%s' is not a number in 1..4096", optarg);
            break;
        case 'l':
            if (!parse_float(optarg, 0.0f, 10.0f, &o->lr))
                return usage_error("--lr: '%s' is not a number in [0, 10]", optarg);
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
        case 'v':
            if (!parse_int(optarg, 0, 1000, &o->val_k))
                return usage_error("--val-k: '%s' is not a number in 0..1000", optarg);
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
    if (o->batch > o->k * 5)
        return usage_error("--batch: larger than the %s target images", "5*K");
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
    "  finetune   pretrain on Fashion-MNIST 0-4, fine-tune on 5-9, print the curve\n"
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
    return usage_error("unknown command '%s'", cmd);
}
