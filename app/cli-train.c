/* thaw-cli pretrain and finetune: the training loops. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export-setup.h"

/* --------------------------------------------------------- training loop */

typedef struct fit_opts {
    int epochs, batch, eval_batch;
    float lr;
    bool cosine; /* cosine decay of lr to 0 over all steps */
    thaw_optimizer opt;
    thaw_transform augment; /* random flip / shift in training steps */
    int epoch;              /* for the progress bar */
} fit_opts;

/* A one-line progress bar on stderr when it is a terminal (never in a pipe). */
static void progress(const fit_opts *f, int done, int total, double t0)
{
    static double last;
    double now = thaw_cli_now();
    if (!isatty(STDERR_FILENO) || (done < total && now - last < 0.2)) return;
    last = now;
    if (done >= total) {
        fprintf(stderr, "\r\033[K");
        return;
    }
    int w = 30, fill = total > 0 ? (int)((long)w * done / total) : 0;
    fprintf(stderr, "\r  epoch %d [%.*s%*s] %d/%d images, %.0f images/s", f->epoch, fill,
            "##############################", w - fill, "", done, total,
            done / (now - t0 > 1e-9 ? now - t0 : 1e-9));
}

/* One epoch over d in shuffled full batches (drop_last, as BN statistics
 * need full batches). Augmentation obeys `training` like Keras's
 * preprocessing layers: on in fit() (and in a custom loop that does not pass
 * training, their default), off when the call passes training=False. */
static thaw_status train_epoch(thaw_model *m, const thaw_dataset *d, const fit_opts *f, long *step,
                               long total_steps, thaw_rng *rng, double *loss, double *acc,
                               double *ips, thaw_error *err)
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
    double lsum = 0, t0 = thaw_cli_now();
    long correct = 0, seen = 0;
    thaw_status st = THAW_OK;
    thaw_optimizer opt = f->opt;
    for (int b = 0; b + batch <= d->n && !thaw_cli_interrupted; b += batch) {
        for (int i = 0; i < batch; i++) {
            memcpy(x + (size_t)i * img, d->x + (size_t)perm[b + i] * img, img * sizeof(float));
            y[i] = d->y[perm[b + i]];
        }
        thaw_transform_augment(x, batch, d->h, d->w, d->c, &f->augment, augment, rng);
        opt.lr = f->cosine
                     ? 0.5f * f->lr * (1.0f + cosf(3.14159265f * (float)*step / (float)total_steps))
                     : f->lr;
        st = thaw_model_train_step(m, x, y, batch, &opt, rep, err);
        if (st != THAW_OK) break;
        (*step)++;
        progress(f, b + batch, d->n, t0);
        lsum += rep->loss * batch;
        correct += rep->correct;
        seen += batch;
    }
    progress(f, d->n, d->n, t0);
    double dt = thaw_cli_now() - t0;
    *loss = seen ? lsum / seen : NAN;
    *acc = seen ? (double)correct / seen : NAN;
    *ips = dt > 0 ? seen / dt : 0;
    if (st == THAW_OK && thaw_cli_interrupted)
        st = thaw_error_set(err, THAW_ERR_CANCELLED, "interrupted");
    free(perm), free(x), free(y);
    thaw_step_report_free(rep);
    return st;
}

static void print_row(FILE *out, int epoch, double loss, double acc, const thaw_eval_result *ri,
                      const thaw_eval_result *rt, double ips)
{
    fprintf(out, "%5d %9.4f %11.1f%% %13.1f%% %13.1f%% %9.0f\n", epoch, loss, 100 * acc,
            100 * ri->accuracy, 100 * rt->accuracy, ips);
    fflush(out);
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
        fit_opts fe = *f;
        fe.epoch = e;
        thaw_status st = train_epoch(m, d, &fe, &step, total, &rng, &loss, &acc, &ips, err);
        if (st != THAW_OK) return st;
        thaw_eval_result ri, rt;
        st = thaw_model_evaluate(m, val->x, val->y, val->n, f->eval_batch, false, 0, &ri, err);
        if (st == THAW_OK)
            st = thaw_model_evaluate(m, val->x, val->y, val->n, f->eval_batch, true, (uint64_t)e,
                                     &rt, err);
        if (st != THAW_OK) return st;
        print_row(stdout, e, loss, acc, &ri, &rt, ips);
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
    thaw_error err = {0};
    thaw_dataset src, test;
    double t0 = thaw_cli_now();
    if (thaw_scenario_load_split(&src, o->data_dir, "train", thaw_scenario_source_classes, o->k,
                                 o->seed, NULL, &err) != THAW_OK)
        return thaw_cli_fail(&err);
    if (thaw_scenario_load_split(&test, o->data_dir, "t10k", thaw_scenario_source_classes, 0, 0,
                                 NULL, &err) != THAW_OK) {
        thaw_dataset_free(&src);
        return thaw_cli_fail(&err);
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
           "(cosine), seed %llu\n",
           o->arch, src.n, o->epochs, o->batch, (double)o->lr, (unsigned long long)o->seed);
    fit_opts f = {.epochs = o->epochs,
                  .batch = o->batch,
                  .eval_batch = 256,
                  .lr = o->lr,
                  .cosine = true,
                  .augment = o->augment};
    thaw_optimizer_default(&f.opt, THAW_OPT_SGD);
    f.opt.weight_decay = 5e-4f;
    if (fit(m, &src, &test, &f, o->seed, &err) != THAW_OK) goto failed;
    thaw_eval_result r;
    if (thaw_model_evaluate(m, test.x, test.y, test.n, 256, false, 0, &r, &err) != THAW_OK)
        goto failed;
    if (thaw_checkpoint_save(m, o->save, false, &err) != THAW_OK) goto failed;
    printf("test accuracy on classes 0-4 (inference mode, %d images): %.2f%%\n", test.n,
           100 * r.accuracy);
    printf("saved %s in %.0f s\n", o->save, thaw_cli_now() - t0);
    goto out;
failed:
    rc = thaw_cli_fail(&err);
out:
    thaw_model_free(m);
    thaw_dataset_free(&src);
    thaw_dataset_free(&test);
    return rc;
}

static int parse_pretrain(int argc, char **argv, pretrain_opts *o)
{
    static const struct option longopts[] = {
        {"save", required_argument, 0, 'o'},
        {"data", required_argument, 0, 'd'},
        {"arch", required_argument, 0, 'a'},
        {"epochs", required_argument, 0, 'e'},
        {"batch", required_argument, 0, 'b'},
        {"lr", required_argument, 0, 'l'},
        {"hidden", required_argument, 0, 'H'},
        {"dropout", required_argument, 0, 'D'},
        {"augment", required_argument, 0, 'A'},
        {"seed", required_argument, 0, 's'},
        {"k", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *o = (pretrain_opts){.data_dir = THAW_FASHION_MNIST_DIR,
                         .arch = "resnet20",
                         .epochs = 4,
                         .batch = 64,
                         .hidden = 64,
                         .lr = 0.1f,
                         .dropout = 0.3f,
                         .seed = 1};
    int c, v;
    thaw_error err = {0};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->save = optarg;
            break;
        case 'd':
            o->data_dir = optarg;
            break;
        case 'a':
            o->arch = optarg;
            break;
        case 'k':
            if (!thaw_cli_parse_int(optarg, 0, 6000, &o->k))
                return thaw_cli_usage_error("--k: '%s' is not a number in 0..6000", optarg);
            break;
        case 'e':
            if (!thaw_cli_parse_int(optarg, 1, 10000, &o->epochs))
                return thaw_cli_usage_error("--epochs: '%s' is not a number in 1..10000", optarg);
            break;
        case 'b':
            if (!thaw_cli_parse_int(optarg, 1, 4096, &o->batch))
                return thaw_cli_usage_error("--batch: '%s' is not a number in 1..4096", optarg);
            break;
        case 'l':
            if (!thaw_cli_parse_float(optarg, 0.0f, 10.0f, &o->lr))
                return thaw_cli_usage_error("--lr: '%s' is not a number in [0, 10]", optarg);
            break;
        case 'H':
            if (!thaw_cli_parse_int(optarg, 0, 100000, &o->hidden))
                return thaw_cli_usage_error("--hidden: '%s' is not a number in 0..100000", optarg);
            break;
        case 'D':
            if (!thaw_cli_parse_float(optarg, 0.0f, 0.99f, &o->dropout))
                return thaw_cli_usage_error("--dropout: '%s' is not a rate in [0, 0.99]", optarg);
            break;
        case 'A':
            if (thaw_transform_parse(&o->augment, optarg, &err) != THAW_OK)
                return thaw_cli_usage_error("--augment: %s", err.msg);
            break;
        case 's':
            if (!thaw_cli_parse_int(optarg, 0, 2147483647, &v))
                return thaw_cli_usage_error("--seed: '%s' is not a non-negative number", optarg);
            o->seed = (uint64_t)v;
            break;
        case 'h':
            fputs(pretrain_help, stdout);
            return -1;
        default:
            return thaw_cli_usage_error("pretrain: unknown or incomplete option '%s'",
                                        argv[optind - 1]);
        }
    }
    if (optind < argc)
        return thaw_cli_usage_error("pretrain: unexpected argument '%s'", argv[optind]);
    if (!o->save) return thaw_cli_usage_error("pretrain: --save FILE is required%s", "");
    return 0;
}

/* ------------------------------------------------------------- finetune */

typedef struct finetune_opts {
    ThawSetup *setup;
    const char *save, *log;
    bool json, csv;
} finetune_opts;

static int cmd_finetune(const finetune_opts *o)
{
    const ThawSetup *s = o->setup;
    thaw_error err = {0};
    double t0 = thaw_cli_now();
    ThawRun *run = NULL;
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GString) csv = g_string_new("epoch,phase_lr,loss,train_acc,val_acc_infer,"
                                          "val_acc_train,images_per_s\n");
    g_autoptr(GString) jrows = g_string_new(NULL);
    /* With --json or --csv stdout carries the document; the human text goes to stderr. */
    FILE *out = o->json || o->csv ? stderr : stdout;
    int rc = EXIT_SUCCESS;
    bool usage = false;
    if (thaw_run_new(&run, s, &usage, &err) != THAW_OK) {
        if (!usage) return thaw_cli_fail(&err);
        /* A layer name that matches nothing is a usage error (exit 2). */
        fprintf(stderr, "thaw-cli: %s\n", err.msg);
        return EXIT_USAGE;
    }
    thaw_model *m = thaw_run_model(run);
    const thaw_dataset *tgt = thaw_run_train_data(run), *val = thaw_run_val_data(run);
    thaw_param_counts pc = thaw_model_count_params(m);
    char shift[128], aug[128];
    thaw_transform_describe(&s->shift, shift, sizeof shift);
    thaw_transform_describe(&s->augment, aug, sizeof aug);
    fprintf(out, "Fine-tuning %s (%s) on %s: K = %d per class (%d images), validation %d images\n",
            m->cfg.arch, thaw_run_base_path(run), thaw_run_data_description(run), s->k, tgt->n,
            val->n);
    fprintf(out, "preset %s; base called with training=%s; shift %s; augment %s\n",
            thaw_preset_get(s->preset)->name,
            s->base_training == THAW_UNSET ? "None"
            : s->base_training             ? "True"
                                           : "False",
            shift, aug);
    fprintf(out, "params: %zu trainable, %zu non-trainable; %s lr %g, batch %d, %d epochs",
            pc.trainable, pc.non_trainable, s->optimizer == THAW_OPT_ADAM ? "Adam" : "SGD",
            (double)thaw_run_lr(run), s->batch, s->epochs);
    if (s->unfreeze_epoch > 0)
        fprintf(out, "; after epoch %d unfreeze %s at lr %g", s->unfreeze_epoch, s->unfreeze_layers,
                thaw_setup_phase2_lr(s));
    int cut = thaw_run_next_cut(run);
    thaw_step_cost cost = thaw_model_step_cost(m, cut);
    fprintf(out, "\nwork per image and step: %.3g MMAC", thaw_step_cost_total(&cost) / 1e6);
    if (cut > 0)
        fprintf(out,
                " once the frozen prefix's output (up to %s) is cached; the first epoch "
                "computes it",
                m->layers[cut].name);
    fprintf(out, "\n%5s %9s %12s %14s %14s %9s\n", "epoch", "loss", "train acc", "val acc infer",
            "val acc train", "images/s");

    fit_opts bar = {.batch = s->batch};
    double tepoch = thaw_cli_now();
    while (!thaw_run_finished(run)) {
        if (thaw_cli_interrupted) {
            thaw_error_set(&err, THAW_ERR_CANCELLED, "interrupted");
            goto failed;
        }
        unsigned ev;
        if (thaw_run_step(run, NULL, &ev, &err) != THAW_OK) goto failed;
        if (ev & THAW_RUN_UNFROZEN) {
            pc = thaw_model_count_params(m);
            progress(&bar, tgt->n, tgt->n, tepoch);
            fprintf(out, "-- unfrozen %s: %zu trainable params, lr %g\n", s->unfreeze_layers,
                    pc.trainable, (double)thaw_run_lr(run));
        }
        if (ev & THAW_RUN_EPOCH_STARTED) tepoch = thaw_cli_now();
        float lr = thaw_run_lr(run); /* this epoch's (after a phase change) */
        bar.epoch = thaw_run_epoch(run);
        progress(&bar, thaw_run_step_in_epoch(run) * s->batch, tgt->n, tepoch);
        if (!(ev & THAW_RUN_EPOCH_DONE)) continue;
        progress(&bar, tgt->n, tgt->n, tepoch);
        double loss, acc, ips;
        thaw_run_epoch_stats(run, &loss, &acc, &ips);
        thaw_eval_result ri, rt;
        if (thaw_run_validate(run, &ri, &rt, &err) != THAW_OK) goto failed;
        int e = thaw_run_epoch(run);
        print_row(out, e, loss, acc, &ri, &rt, ips);
        g_string_append_printf(csv, "%d,%g,%.6f,%.6f,%.6f,%.6f,%.1f\n", e, (double)lr, loss, acc,
                               ri.accuracy, rt.accuracy, ips);
        g_string_append_printf(jrows,
                               "%s{\"epoch\": %d, \"lr\": %g, \"loss\": %.6f, "
                               "\"train_acc\": %.6f, \"val_acc_infer\": %.6f, "
                               "\"val_acc_train\": %.6f, \"images_per_s\": %.1f}",
                               e > 1 ? ", " : "", e, (double)lr, loss, acc, ri.accuracy,
                               rt.accuracy, ips);
    }
    int bn_layers, bn_changed;
    double bn_rel;
    thaw_run_bn_drift(run, &bn_layers, &bn_changed, &bn_rel);
    fprintf(out,
            "BatchNorm moving statistics changed in %d of %d base layers (mean relative "
            "change %.4f)\n",
            bn_changed, bn_layers, bn_rel);
    if (o->save && thaw_checkpoint_save(m, o->save, false, &err) != THAW_OK) goto failed;
    if (o->log && !g_file_set_contents(o->log, csv->str, (gssize)csv->len, &gerr)) {
        thaw_error_set(&err, THAW_ERR_IO, "cannot write the log: %s", gerr->message);
        goto failed;
    }
    if (o->csv) fputs(csv->str, stdout);
    if (o->json) {
        g_autoptr(GString) j = g_string_new("{\"model\": ");
        thaw_cli_json_string(j, thaw_run_base_path(run));
        g_string_append_printf(j,
                               ", \"preset\": \"%s\", \"base_training\": \"%s\", "
                               "\"params_trainable\": %zu, \"params_non_trainable\": %zu, "
                               "\"train_images\": %d, \"val_images\": %d, \"epochs\": [%s], "
                               "\"bn_layers\": %d, \"bn_layers_changed\": %d, "
                               "\"bn_mean_relative_change\": %.6f, \"saved\": ",
                               thaw_preset_get(s->preset)->name,
                               s->base_training == THAW_UNSET ? "none"
                               : s->base_training             ? "true"
                                                              : "false",
                               pc.trainable, pc.non_trainable, tgt->n, val->n, jrows->str,
                               bn_layers, bn_changed, bn_rel);
        if (o->save)
            thaw_cli_json_string(j, o->save);
        else
            g_string_append(j, "null");
        g_string_append(j, "}\n");
        fputs(j->str, stdout);
    }
    fprintf(out, "done in %.1f s%s%s\n", thaw_cli_now() - t0, o->save ? ", saved " : "",
            o->save ? o->save : "");
    goto out;
failed:
    /* Interrupted or failed: the log of the finished epochs is still written;
     * after Ctrl-C (between two steps, so the model is consistent) the
     * checkpoint too. A failed step (e.g. a non-finite loss) left the model as
     * it was before that step, but a previous checkpoint is kept untouched. */
    if (o->log && csv->len > 0) g_file_set_contents(o->log, csv->str, (gssize)csv->len, NULL);
    if (err.status == THAW_ERR_CANCELLED && o->save) {
        thaw_error serr;
        if (thaw_checkpoint_save(m, o->save, false, &serr) == THAW_OK)
            fprintf(stderr, "thaw-cli: interrupted; saved %s after %ld steps\n", o->save,
                    (long)m->steps);
        else
            thaw_cli_fail(&serr);
    }
    rc = thaw_cli_fail(&err);
    if (err.status == THAW_ERR_CANCELLED) rc = 130; /* 128 + SIGINT */
out:
    thaw_run_free(run);
    return rc;
}

static void print_finetune_help(void)
{
    g_autofree char *table = thaw_setup_help();
    printf("Usage: thaw-cli finetune [--setup FILE] [OPTION...] [--save FILE] [--log FILE]\n"
           "Transfer a pretrained model to a target task and print the curve: loss, training\n"
           "accuracy (measured in training mode, as fit() reports it), validation accuracy in\n"
           "inference mode and in training mode. A setup file (see resources/presets/) holds\n"
           "every option below; options on the command line override it.\n\n"
           "Presets: %s/*.ini\n"
           "  --save FILE             write the fine-tuned model (.thaw, atomically)\n"
           "  --log FILE              write the per-epoch rows as CSV (atomically)\n"
           "  --csv                   print the --log rows on stdout (the text goes to stderr)\n"
           "  --json                  print one JSON document on stdout (the text goes to\n"
           "                          stderr): model, preset, base_training, params_trainable,\n"
           "                          params_non_trainable, train_images, val_images, epochs\n"
           "                          [{epoch, lr, loss, train_acc, val_acc_infer, val_acc_train,\n"
           "                          images_per_s}], bn_layers, bn_layers_changed,\n"
           "                          bn_mean_relative_change, saved\n\n%s",
           thaw_setup_presets_dir(), table);
}

static int parse_finetune(int argc, char **argv, finetune_opts *o)
{
    g_autoptr(GError) gerr = NULL;
    o->setup = thaw_setup_new();
    o->save = o->log = NULL;
    o->json = o->csv = false;
    if (!thaw_setup_parse_args(o->setup, &argc, &argv, &gerr))
        return thaw_cli_usage_error("%s", gerr->message);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_finetune_help();
            return -1;
        }
        if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0) {
            *(a[2] == 'j' ? &o->json : &o->csv) = true;
            continue;
        }
        const char **slot = strcmp(a, "--save") == 0  ? &o->save
                            : strcmp(a, "--log") == 0 ? &o->log
                                                      : NULL;
        if (!slot && strncmp(a, "--", 2) == 0) {
            /* Let the setup table name its near matches ("did you mean batch?"). */
            g_autofree char *key = g_strndup(a + 2, strcspn(a + 2, "="));
            g_clear_error(&gerr);
            ThawSetup *probe = thaw_setup_new();
            gboolean known = thaw_setup_set(probe, key, "", &gerr);
            thaw_setup_free(probe);
            if (!known && gerr && gerr->code == THAW_SETUP_ERROR_UNKNOWN_KEY)
                return thaw_cli_usage_error("finetune: %s", gerr->message);
        }
        if (!slot) return thaw_cli_usage_error("finetune: unknown option or argument '%s'", a);
        if (i + 1 >= argc) return thaw_cli_usage_error("%s needs a file name", a);
        *slot = argv[++i];
    }
    if (!thaw_setup_validate(o->setup, &gerr)) return thaw_cli_usage_error("%s", gerr->message);
    if (o->json && o->csv) return thaw_cli_usage_error("--json and --csv exclude each other%s", "");
    return 0;
}

int thaw_cli_pretrain(int argc, char **argv)
{
    pretrain_opts o;
    int rc = parse_pretrain(argc, argv, &o);
    if (rc != 0) return rc < 0 ? EXIT_SUCCESS : rc;
    thaw_cli_catch_sigint();
    return cmd_pretrain(&o);
}

int thaw_cli_finetune(int argc, char **argv)
{
    finetune_opts o;
    int rc = parse_finetune(argc, argv, &o);
    if (rc == 0) {
        thaw_cli_catch_sigint();
        rc = cmd_finetune(&o);
    } else if (rc < 0) {
        rc = EXIT_SUCCESS;
    }
    thaw_setup_free(o.setup);
    return rc;
}

/* ----------------------------------------------------------- export-code */

static const char export_help[] =
    "Usage: thaw-cli export-code --framework keras|pytorch [--setup FILE] [SETUP OPTION...]\n"
    "                            [--output FILE]\n"
    "Write a runnable Keras or PyTorch script equivalent to the setup: the same graph and\n"
    "weights, the same frozen layers (after Thaw's freeze rules), `training=` of the base call\n"
    "or bn.eval(), the preset's BatchNorm mechanism, optimizer, schedule and data. Setup\n"
    "options are those of 'thaw-cli finetune --help'.\n";

int thaw_cli_export_code(int argc, char **argv)
{
    g_autoptr(GError) gerr = NULL;
    g_autoptr(ThawSetup) s = thaw_setup_new();
    if (!thaw_setup_parse_args(s, &argc, &argv, &gerr))
        return thaw_cli_usage_error("%s", gerr->message);
    const char *output = NULL;
    bool have_fw = false;
    ThawExportFramework fw = THAW_EXPORT_PYTORCH;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(export_help, stdout);
            return EXIT_SUCCESS;
        } else if (strcmp(a, "--framework") == 0 && v) {
            if (!thaw_export_framework_from_name(v, &fw))
                return thaw_cli_usage_error("--framework: '%s' is not keras or pytorch", v);
            have_fw = true, i++;
        } else if (strcmp(a, "--output") == 0 && v) {
            output = v, i++;
        } else {
            return thaw_cli_usage_error("export-code: unknown option or argument '%s'", a);
        }
    }
    if (!have_fw)
        return thaw_cli_usage_error("export-code: --framework keras|pytorch is %s", "required");
    if (!thaw_setup_validate(s, &gerr)) return thaw_cli_usage_error("%s", gerr->message);

    thaw_error err = {0};
    thaw_model *base = NULL;
    g_autofree char *path = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *code = NULL;
    int rc = EXIT_SUCCESS;
    if (thaw_scenario_load_model(&base, s, false, &path, &err) != THAW_OK)
        return thaw_cli_fail(&err);
    /* The target's classes: Fashion-MNIST's five, or the image folder's. */
    int classes = 5;
    ThawSetupDataKind kind;
    dir = thaw_setup_resolve_dataset(s, FALSE, &kind, &gerr);
    if (!dir) {
        thaw_error_set(&err, THAW_ERR_IO, "%s", gerr->message);
        goto failed;
    }
    if (kind == THAW_SETUP_DATA_IMAGES) {
        thaw_folder_options fo = {.h = base->cfg.in_h, .w = base->cfg.in_w, .c = base->cfg.in_c};
        thaw_folder f;
        if (thaw_folder_load(&f, dir, &fo, &err) != THAW_OK) goto failed;
        classes = f.data.classes;
        thaw_folder_free(&f);
    }
    code = thaw_export_setup_code(s, &base->cfg, path, classes, fw, &gerr);
    if (!code) {
        if (g_error_matches(gerr, THAW_SETUP_ERROR, THAW_SETUP_ERROR_NO_LAYER) ||
            g_error_matches(gerr, THAW_EXPORT_ERROR, THAW_EXPORT_ERROR_INVALID)) {
            fprintf(stderr, "thaw-cli: %s\n", gerr->message);
            rc = EXIT_USAGE;
            goto out;
        }
        thaw_error_set(&err, THAW_ERR_ARG, "%s", gerr->message);
        goto failed;
    }
    if (output) {
        if (!g_file_set_contents(output, code, -1, &gerr)) {
            thaw_error_set(&err, THAW_ERR_IO, "%s", gerr->message);
            goto failed;
        }
        fprintf(stderr, "wrote %s\n", output);
    } else {
        fputs(code, stdout);
    }
    goto out;
failed:
    rc = thaw_cli_fail(&err);
out:
    thaw_model_free(base);
    return rc;
}
