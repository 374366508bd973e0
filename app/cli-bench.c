/* thaw-cli bench: Thaw's half of the ResNet-20 benchmark.
 *
 * Builds the same model as the PyTorch anchor (../shared/bench/pytorch_resnet20.py:
 * CIFAR-style ResNet-20 on Fashion-MNIST 1x28x28, 10 classes, no hidden layer,
 * no dropout) and times the same modes with the same methodology:
 *   train     thaw_model_train_step, SGD lr 0.05 momentum 0.9 wd 5e-4,
 *             preset "pytorch", every layer trainable
 *   infer     thaw_model_forward in phase PREDICT (model.eval() + no_grad)
 *   frozen1   train step with the stem (conv1_*) and stage 1 (conv2_*) frozen,
 *             preset "pytorch-bn-eval" (frozen BN in eval mode)
 *   frozen12  as frozen1, stage 2 (conv3_*) frozen too
 * Per configuration: `warm` untimed steps, one step timed to size a repetition
 * to about --min-rep-s seconds, then `reps` repetitions; the time per step of
 * each repetition gives images/s, reported as median, min and max.
 *
 * With --profile each configuration also gets a separate pass with the
 * model's per-layer-kind timers on (never during the timed repetitions),
 * reported as shares of the step time.
 *
 * Run it through tests/bench/run-bench, which runs the anchor in the same
 * invocation and prints the ratio; see tests/bench/README.md. */
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define LIST_MAX 16

/* Where the human-readable lines go: stdout, or stderr with --json - (one JSON
 * document on stdout). */
static FILE *text_out;
#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

typedef enum bench_mode {
    MODE_TRAIN,
    MODE_INFER,
    MODE_FROZEN1,
    MODE_FROZEN12,
    MODE_COUNT
} bench_mode;

static const char *const mode_names[MODE_COUNT] = {"train", "infer", "frozen1", "frozen12"};

typedef struct bench_opts {
    int threads[LIST_MAX], n_threads;
    int sizes[LIST_MAX], n_sizes;
    int batches[LIST_MAX], n_batches;
    int modes[LIST_MAX], n_modes;
    int reps, warm;
    double min_rep_s;
    bool quick, profile, csv;
    const char *json;
    const char *data_dir;
} bench_opts;

/* Share of the step time per layer kind, from a profiled pass. */
typedef struct bench_profile {
    double step_ms;            /* wall time per step of the profiled pass */
    double conv_fwd, conv_bwd; /* fractions of step_ms */
    double bn_fwd, bn_bwd;
    double relu_add;     /* ReLU and Add, forward + backward */
    double other_layers; /* input copy, GAP, Dense, ... forward + backward */
    double outside;      /* not in any layer: loss, zero-grad, BN update, optimizer */
} bench_profile;

typedef struct bench_row {
    int threads, h, batch;
    bench_mode mode;
    double ms_med, ips_med, ips_min, ips_max, gflops;
    int iters;
    bool has_profile;
    bench_profile prof;
} bench_row;

/* The batch: the first images of Fashion-MNIST train (or random data). */
typedef struct bench_data {
    float *x28;      /* (n, 28, 28, 1) normalised */
    int32_t *labels; /* (n) */
    int n;
    bool random;
} bench_data;

/* ------------------------------------------------------------------ options */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: thaw-cli bench [OPTION...]\n"
            "Times Thaw's ResNet-20 the way ../shared/bench/pytorch_resnet20.py times PyTorch's.\n"
            "  --threads LIST    OpenBLAS thread counts (default 1,2)\n"
            "  --sizes LIST      input sizes HxW, >= 28, zero-padded as the anchor does "
            "(default 28)\n"
            "  --batches LIST    batch sizes (default 32,128)\n"
            "  --modes LIST      train,infer,frozen1,frozen12 (default all four)\n"
            "  --reps N          timed repetitions per configuration (default 7)\n"
            "  --min-rep-s S     seconds per repetition, at least one step (default 0.4)\n"
            "  --warm N          untimed warm-up steps (default 3)\n"
            "  --quick           reps 5, min-rep-s 0.2, warm 2 (as the anchor's --quick)\n"
            "  --profile         also run a separate profiled pass and print the share of\n"
            "                    the step time per layer kind\n"
            "  --csv             print the rows as CSV on stdout (the table goes to stderr)\n"
            "  --json FILE       write the rows as JSON (the anchor's fields); FILE - is stdout\n"
            "                    (one JSON document; the table goes to stderr)\n"
            "  --data DIR        Fashion-MNIST directory (default " DEFAULT_DATA_DIR ")\n"
            "  --help            this text\n");
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A bad option: one line on stderr, exit status 2. */
static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "thaw-cli bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see --help)\n");
    va_end(ap);
    exit(2);
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* Splits a comma-separated list into items; each item goes through `item`. */
static void parse_list(const char *opt, const char *arg, int *vals, int *n,
                       bool (*item)(const char *s, int *out))
{
    char buf[256];
    if (strlen(arg) >= sizeof buf) die_usage("%s: list too long: '%s'", opt, arg);
    strcpy(buf, arg);
    *n = 0;
    for (char *tok = buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        if (*n == LIST_MAX) die_usage("%s: more than %d items in '%s'", opt, LIST_MAX, arg);
        if (!item(tok, &vals[*n])) die_usage("%s: bad item '%s' in '%s'", opt, tok, arg);
        (*n)++;
    }
}

static bool item_threads(const char *s, int *out)
{
    return parse_int(s, 1, 256, out);
}

static bool item_size(const char *s, int *out)
{
    return parse_int(s, 28, 1024, out);
}

static bool item_batch(const char *s, int *out)
{
    return parse_int(s, 1, 65536, out);
}

static bool item_mode(const char *s, int *out)
{
    for (int i = 0; i < MODE_COUNT; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *out = i;
            return true;
        }
    return false;
}

static const char *opt_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) die_usage("%s needs a value", argv[*i]);
    return argv[++*i];
}

static void parse_args(bench_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    parse_list("--threads", "1,2", o->threads, &o->n_threads, item_threads);
    parse_list("--sizes", "28", o->sizes, &o->n_sizes, item_size);
    parse_list("--batches", "32,128", o->batches, &o->n_batches, item_batch);
    parse_list("--modes", "train,infer,frozen1,frozen12", o->modes, &o->n_modes, item_mode);
    o->reps = 7;
    o->min_rep_s = 0.4;
    o->warm = 3;
    o->data_dir = DEFAULT_DATA_DIR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--threads") == 0) {
            parse_list(a, opt_value(argc, argv, &i), o->threads, &o->n_threads, item_threads);
        } else if (strcmp(a, "--sizes") == 0) {
            parse_list(a, opt_value(argc, argv, &i), o->sizes, &o->n_sizes, item_size);
        } else if (strcmp(a, "--batches") == 0) {
            parse_list(a, opt_value(argc, argv, &i), o->batches, &o->n_batches, item_batch);
        } else if (strcmp(a, "--modes") == 0) {
            parse_list(a, opt_value(argc, argv, &i), o->modes, &o->n_modes, item_mode);
        } else if (strcmp(a, "--reps") == 0) {
            const char *v = opt_value(argc, argv, &i);
            if (!parse_int(v, 1, 1000, &o->reps)) die_usage("%s: bad count '%s'", a, v);
        } else if (strcmp(a, "--warm") == 0) {
            const char *v = opt_value(argc, argv, &i);
            if (!parse_int(v, 0, 1000, &o->warm)) die_usage("%s: bad count '%s'", a, v);
        } else if (strcmp(a, "--min-rep-s") == 0) {
            const char *v = opt_value(argc, argv, &i);
            if (!parse_double(v, 0.0, 3600.0, &o->min_rep_s))
                die_usage("%s: bad number of seconds '%s'", a, v);
        } else if (strcmp(a, "--json") == 0) {
            o->json = opt_value(argc, argv, &i);
        } else if (strcmp(a, "--data") == 0) {
            o->data_dir = opt_value(argc, argv, &i);
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = true;
        } else if (strcmp(a, "--profile") == 0) {
            o->profile = true;
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = true;
        } else {
            die_usage("unknown option '%s'", a);
        }
    }
    if (o->quick) { /* as the anchor: --quick wins over the explicit values */
        o->reps = 5;
        o->min_rep_s = 0.2;
        o->warm = 2;
    }
}

/* ------------------------------------------------------------------ helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median as Python's statistics.median: the mean of the middle two when n is even. */
static double median(const double *v, int n, double *sorted)
{
    memcpy(sorted, v, (size_t)n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/* Multiply-accumulates per image of the conv and linear layers (the anchor's analytic_macs). */
typedef struct bench_macs {
    double stem, stage1, stage2, stage3, fc, total;
} bench_macs;

static bench_macs analytic_macs(int h)
{
    double hh = h, h2 = (h + 1) / 2, h3 = ((h + 1) / 2 + 1) / 2;
    bench_macs m;
    m.stem = 16.0 * 1 * 9 * hh * hh;
    m.stage1 = 6.0 * 16 * 16 * 9 * hh * hh;
    m.stage2 = (32.0 * 16 * 9 + 32 * 32 * 9 + 32 * 16 + 4 * 32 * 32 * 9) * h2 * h2;
    m.stage3 = (64.0 * 32 * 9 + 64 * 64 * 9 + 64 * 32 + 4 * 64 * 64 * 9) * h3 * h3;
    m.fc = 64.0 * 10;
    m.total = m.stem + m.stage1 + m.stage2 + m.stage3 + m.fc;
    return m;
}

/* Nominal FLOPs per image (the anchor's train_flops_per_image): forward 2*MAC,
 * backward twice the forward of the trained parts, less the stem's dX. */
static double flops_per_image(bench_mode mode, int h)
{
    bench_macs m = analytic_macs(h);
    double fwd = 2 * m.total, bwd = 0.0;
    switch (mode) {
    case MODE_INFER:
        return fwd;
    case MODE_TRAIN:
        bwd = 4 * (m.stem + m.stage1 + m.stage2 + m.stage3 + m.fc) - 2 * m.stem;
        break;
    case MODE_FROZEN1:
        bwd = 4 * (m.stage2 + m.stage3 + m.fc);
        break;
    case MODE_FROZEN12:
        bwd = 4 * (m.stage3 + m.fc);
        break;
    case MODE_COUNT:
        break;
    }
    return fwd + bwd;
}

/* -------------------------------------------------------------------- data */

static int max_int(const int *v, int n)
{
    int m = v[0];
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/* The first n images of Fashion-MNIST train, else standard-normal noise with
 * random labels (as the anchor falls back to torch.randn). */
static bool data_load(bench_data *d, int n, const char *dir)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->x28 = malloc((size_t)n * 28 * 28 * sizeof *d->x28);
    d->labels = malloc((size_t)n * sizeof *d->labels);
    if (!d->x28 || !d->labels) return false;
    thaw_dataset ds;
    thaw_error err;
    thaw_status st = thaw_fashion_load(&ds, dir, "train", &err);
    if (st == THAW_OK && ds.n >= n && ds.h == 28 && ds.w == 28 && ds.c == 1) {
        /* Normalised here, as the anchor does, so that padding adds zeros. */
        for (size_t i = 0; i < (size_t)n * 28 * 28; i++)
            d->x28[i] = (ds.x[i] - THAW_FASHION_MEAN) / THAW_FASHION_STD;
        memcpy(d->labels, ds.y, (size_t)n * sizeof *d->labels);
    } else {
        if (st == THAW_ERR_NOMEM) return false;
        fprintf(stderr, "thaw-cli bench: %s; timing random data instead\n",
                st != THAW_OK ? err.msg : "Fashion-MNIST train has too few images");
        thaw_rng rng;
        thaw_rng_seed(&rng, 0, 0xbe7c);
        for (size_t i = 0; i < (size_t)n * 28 * 28; i++) d->x28[i] = thaw_rng_normal(&rng);
        for (int i = 0; i < n; i++) d->labels[i] = (int32_t)thaw_rng_below(&rng, 10);
        d->random = true;
    }
    if (st == THAW_OK) thaw_dataset_free(&ds);
    return true;
}

static void data_free(bench_data *d)
{
    free(d->x28);
    free(d->labels);
}

/* The first b images zero-padded to h x h as the anchor's F.pad does (the
 * extra row/column goes to the bottom/right when h - 28 is odd). Padding
 * happens after normalisation, so the border is 0, not the normalised black. */
static float *batch_make(const bench_data *d, int b, int h)
{
    float *x = calloc((size_t)b * h * h, sizeof *x);
    if (!x) return NULL;
    int p = (h - 28) / 2;
    for (int i = 0; i < b; i++)
        for (int r = 0; r < 28; r++)
            memcpy(x + ((size_t)i * h + r + p) * h + p, d->x28 + ((size_t)i * 28 + r) * 28,
                   28 * sizeof *x);
    return x;
}

/* ------------------------------------------------------------------- model */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static thaw_status model_make(thaw_model **out, bench_mode mode, int h, int batch, thaw_error *err)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "resnet20");
    cfg.in_h = h;
    cfg.in_w = h;
    cfg.in_c = 1;
    cfg.classes = 10;
    cfg.head_hidden = 0;
    cfg.dropout = 0.0f;
    cfg.seed = 0;
    thaw_status st = thaw_model_new(out, &cfg, err);
    if (st != THAW_OK) return st;
    thaw_model *m = *out;

    const char *preset_name =
        mode == MODE_FROZEN1 || mode == MODE_FROZEN12 ? "pytorch-bn-eval" : "pytorch";
    thaw_preset preset;
    if (thaw_preset_from_name(preset_name, &preset) != 0)
        return thaw_error_set(err, THAW_ERR_ARG, "unknown preset '%s'", preset_name);
    st = thaw_model_set_preset(m, preset);
    if (st != THAW_OK) return thaw_error_set(err, st, "cannot set preset '%s'", preset_name);

    int frozen = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const char *name = m->layers[i].name;
        bool freeze = (mode == MODE_FROZEN1 || mode == MODE_FROZEN12) &&
                      (starts_with(name, "conv1_") || starts_with(name, "conv2_") ||
                       (mode == MODE_FROZEN12 && starts_with(name, "conv3_")));
        st = thaw_model_set_trainable(m, i, !freeze);
        if (st != THAW_OK) return thaw_error_set(err, st, "cannot set layer %d trainable", i);
        frozen += freeze;
    }
    if ((mode == MODE_FROZEN1 || mode == MODE_FROZEN12) && frozen == 0)
        return thaw_error_set(err, THAW_ERR_STATE, "no conv1_/conv2_ layers to freeze");
    return thaw_model_reserve(m, batch, err);
}

typedef struct bench_step {
    thaw_model *m;
    bench_mode mode;
    const float *x;
    const int32_t *labels;
    int n;
    thaw_optimizer opt;
} bench_step;

static thaw_status step_run(bench_step *s, thaw_error *err)
{
    if (s->mode == MODE_INFER)
        return thaw_model_forward(s->m, s->x, s->n, THAW_PHASE_PREDICT, false, NULL, err);
    return thaw_model_train_step(s->m, s->x, s->labels, s->n, &s->opt, NULL, err);
}

/* Runs `count` steps; returns the mean seconds per step, or -1 on error. */
static double steps_time(bench_step *s, int count, thaw_error *err)
{
    double t0 = now_s();
    for (int i = 0; i < count; i++)
        if (step_run(s, err) != THAW_OK) return -1.0;
    return (now_s() - t0) / count;
}

static void profile_collect(bench_profile *p, const thaw_model *m, double step_s, int steps)
{
    double total = step_s * steps * 1e9, in_layers = 0.0, relu_add = 0.0;
    for (int k = 0; k < THAW_LAYER_KIND_COUNT; k++)
        in_layers += m->prof_ns[k][0] + m->prof_ns[k][1];
    for (int d = 0; d < 2; d++)
        relu_add += m->prof_ns[THAW_LAYER_RELU][d] + m->prof_ns[THAW_LAYER_ADD][d];
    p->step_ms = step_s * 1e3;
    p->conv_fwd = m->prof_ns[THAW_LAYER_CONV2D][0] / total;
    p->conv_bwd = m->prof_ns[THAW_LAYER_CONV2D][1] / total;
    p->bn_fwd = m->prof_ns[THAW_LAYER_BATCHNORM][0] / total;
    p->bn_bwd = m->prof_ns[THAW_LAYER_BATCHNORM][1] / total;
    p->relu_add = relu_add / total;
    p->other_layers =
        (in_layers - m->prof_ns[THAW_LAYER_CONV2D][0] - m->prof_ns[THAW_LAYER_CONV2D][1] -
         m->prof_ns[THAW_LAYER_BATCHNORM][0] - m->prof_ns[THAW_LAYER_BATCHNORM][1] - relu_add) /
        total;
    p->outside = (total - in_layers) / total;
}

/* Times one configuration into row (and profiles it when asked). */
static thaw_status bench_one(bench_row *row, const bench_opts *o, const bench_data *d,
                             thaw_error *err)
{
    thaw_model *m = NULL;
    float *x = batch_make(d, row->batch, row->h);
    double *ts = malloc((size_t)o->reps * sizeof *ts);
    double *sorted = malloc((size_t)o->reps * sizeof *sorted);
    thaw_status st = THAW_OK;
    if (!x || !ts || !sorted) {
        st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory for the batch");
        goto done;
    }
    st = model_make(&m, row->mode, row->h, row->batch, err);
    if (st != THAW_OK) goto done;

    bench_step s = {.m = m, .mode = row->mode, .x = x, .labels = d->labels, .n = row->batch};
    thaw_optimizer_default(&s.opt, THAW_OPT_SGD);
    s.opt.lr = 0.05f;
    s.opt.momentum = 0.9f;
    s.opt.weight_decay = 5e-4f;

    for (int i = 0; i < o->warm; i++)
        if ((st = step_run(&s, err)) != THAW_OK) goto done;
    double per = steps_time(&s, 1, err);
    if (per < 0) {
        st = err->status;
        goto done;
    }
    int iters = (int)(o->min_rep_s / per + 0.5);
    iters = iters < 1 ? 1 : iters;
    for (int r = 0; r < o->reps; r++) {
        ts[r] = steps_time(&s, iters, err);
        if (ts[r] < 0) {
            st = err->status;
            goto done;
        }
    }
    double med = median(ts, o->reps, sorted);
    row->ms_med = med * 1e3;
    row->ips_med = row->batch / med;
    row->ips_min = row->batch / sorted[o->reps - 1];
    row->ips_max = row->batch / sorted[0];
    row->gflops = flops_per_image(row->mode, row->h) * row->batch / med / 1e9;
    row->iters = iters;

    if (o->profile) { /* a separate pass, as long as one repetition */
        memset(m->prof_ns, 0, sizeof m->prof_ns);
        m->profile = true;
        double ps = steps_time(&s, iters, err);
        m->profile = false;
        if (ps < 0) {
            st = err->status;
            goto done;
        }
        profile_collect(&row->prof, m, ps, iters);
        row->has_profile = true;
    }

done:
    thaw_model_free(m);
    free(x);
    free(ts);
    free(sorted);
    return st;
}

/* ------------------------------------------------------------------ output */

/* Writes the rows to f and closes it; false on a write error. */
static bool json_write(FILE *f, const bench_row *rows, int n, const bench_opts *o)
{
    fprintf(f, "[");
    for (int i = 0; i < n; i++) {
        const bench_row *r = &rows[i];
        fprintf(f,
                "%s\n {\"threads\": %d, \"H\": %d, \"B\": %d, \"mode\": \"%s\", "
                "\"ms_med\": %.6g, \"ips_med\": %.6g, \"ips_min\": %.6g, \"ips_max\": %.6g, "
                "\"gflops\": %.6g, \"iters_per_rep\": %d, \"reps\": %d",
                i ? "," : "", r->threads, r->h, r->batch, mode_names[r->mode], r->ms_med,
                r->ips_med, r->ips_min, r->ips_max, r->gflops, r->iters, o->reps);
        if (r->has_profile) {
            const bench_profile *p = &r->prof;
            fprintf(f,
                    ", \"profile\": {\"step_ms\": %.6g, \"conv_fwd\": %.6g, \"conv_bwd\": %.6g, "
                    "\"bn_fwd\": %.6g, \"bn_bwd\": %.6g, \"relu_add\": %.6g, "
                    "\"other_layers\": %.6g, \"outside\": %.6g}",
                    p->step_ms, p->conv_fwd, p->conv_bwd, p->bn_fwd, p->bn_bwd, p->relu_add,
                    p->other_layers, p->outside);
        }
        fprintf(f, "}");
    }
    fprintf(f, "\n]\n");
    bool ok = !ferror(f);
    if (f == stdout) return fflush(f) == 0 && ok;
    return fclose(f) == 0 && ok;
}

static void profile_print(const bench_row *rows, int n)
{
    fprintf(text_out,
            "# profile: share of the step time per layer kind (separate pass, timers on)\n");
    fprintf(text_out, "%3s %5s %4s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "thr", "HxW", "B",
            "mode", "ms/step", "conv fwd", "conv bwd", "BN fwd", "BN bwd", "relu+add", "other",
            "outside");
    for (int i = 0; i < n; i++) {
        const bench_row *r = &rows[i];
        const bench_profile *p = &r->prof;
        fprintf(text_out,
                "%3d %2dx%-2d %4d %8s %8.2f %7.1f%% %7.1f%% %7.1f%% %7.1f%% %7.1f%% %7.1f%% "
                "%7.1f%%\n",
                r->threads, r->h, r->h, r->batch, mode_names[r->mode], p->step_ms,
                100 * p->conv_fwd, 100 * p->conv_bwd, 100 * p->bn_fwd, 100 * p->bn_bwd,
                100 * p->relu_add, 100 * p->other_layers, 100 * p->outside);
    }
    fprintf(text_out, "# other: input copy, global average pool, dense; outside: loss, zero-grad, "
                      "BN moving-statistics update, optimizer\n");
}

static void header_print(const bench_opts *o, const bench_data *d)
{
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    fprintf(text_out,
            "# thaw-cli bench: resnet20, backend %s, OpenBLAS core %s, OPENBLAS_CORETYPE=%s\n",
            thaw_backend_default()->name, openblas_get_corename(), coretype ? coretype : "(unset)");
    fprintf(text_out, "# OpenBLAS config: %s\n", openblas_get_config());
    fprintf(text_out, "# data: %s; reps %d, min-rep-s %g, warm %d\n",
            d->random ? "random (Fashion-MNIST not found)" : "Fashion-MNIST train, first images",
            o->reps, o->min_rep_s, o->warm);
    for (int si = 0; si < o->n_sizes; si++) {
        int h = o->sizes[si];
        fprintf(text_out, "# H=%d: fwd MFLOP/img=%.2f", h, 2 * analytic_macs(h).total / 1e6);
        for (int mi = 0; mi < MODE_COUNT; mi++)
            fprintf(text_out, "  %s=%.1f", mode_names[mi],
                    flops_per_image((bench_mode)mi, h) / 1e6);
        fprintf(text_out, " (nominal MFLOP/img)\n");
    }
    fprintf(text_out, "%3s %5s %4s %8s %11s %9s %9s %9s %8s %6s\n", "thr", "HxW", "B", "mode",
            "ms/step med", "img/s med", "img/s min", "img/s max", "GFLOP/s", "it/rep");
    fflush(stdout);
}

/* Runs the sweep in the anchor's order (threads, size, batch, mode) into rows;
 * returns the number of rows done, stopping at the first failure (*ok = false). */
static int sweep_run(bench_row *rows, const bench_opts *o, const bench_data *d, bool *ok)
{
    int k = 0;
    *ok = true;
    for (int ti = 0; ti < o->n_threads; ti++) {
        openblas_set_num_threads(o->threads[ti]);
        fprintf(text_out, "# threads %d: openblas_get_num_threads() = %d\n", o->threads[ti],
                openblas_get_num_threads());
        for (int si = 0; si < o->n_sizes; si++)
            for (int bi = 0; bi < o->n_batches; bi++)
                for (int mi = 0; mi < o->n_modes; mi++) {
                    bench_row *r = &rows[k];
                    r->threads = o->threads[ti];
                    r->h = o->sizes[si];
                    r->batch = o->batches[bi];
                    r->mode = (bench_mode)o->modes[mi];
                    thaw_error err;
                    thaw_error_clear(&err);
                    if (bench_one(r, o, d, &err) != THAW_OK) {
                        fprintf(stderr, "thaw-cli bench: %s, batch %d, %d threads: %s\n",
                                mode_names[r->mode], r->batch, r->threads, err.msg);
                        *ok = false;
                        return k;
                    }
                    fprintf(text_out, "%3d %2dx%-2d %4d %8s %11.2f %9.0f %9.0f %9.0f %8.1f %6d\n",
                            r->threads, r->h, r->h, r->batch, mode_names[r->mode], r->ms_med,
                            r->ips_med, r->ips_min, r->ips_max, r->gflops, r->iters);
                    fflush(stdout);
                    k++;
                }
    }
    return k;
}

int thaw_cli_bench(int argc, char **argv)
{
    bench_opts o;
    parse_args(&o, argc, argv);

    /* Opened first so that a bad path fails before minutes of timing. "-" is
     * stdout: the JSON document alone, the text goes to stderr. */
    FILE *json = NULL;
    bool json_stdout = o.json && strcmp(o.json, "-") == 0;
    if (json_stdout && o.csv) {
        fprintf(stderr, "thaw-cli bench: --json - and --csv both want stdout\n");
        return 2;
    }
    text_out = json_stdout || o.csv ? stderr : stdout;
    if (json_stdout)
        json = stdout;
    else if (o.json && !(json = fopen(o.json, "w"))) {
        fprintf(stderr, "thaw-cli bench: cannot write '%s': %s\n", o.json, strerror(errno));
        return 1;
    }
    int status = 1;
    bench_data d;
    bench_row *rows = NULL;
    if (!data_load(&d, max_int(o.batches, o.n_batches), o.data_dir) ||
        !(rows = calloc((size_t)o.n_threads * o.n_sizes * o.n_batches * o.n_modes, sizeof *rows))) {
        fprintf(stderr, "thaw-cli bench: out of memory\n");
        goto done;
    }

    header_print(&o, &d);
    bool ok;
    int k = sweep_run(rows, &o, &d, &ok);
    if (o.profile && k > 0) profile_print(rows, k);
    status = ok ? 0 : 1;
    if (o.csv) {
        printf("threads,H,B,mode,ms_med,ips_med,ips_min,ips_max,gflops\n");
        for (int i = 0; i < k; i++)
            printf("%d,%d,%d,%s,%.4f,%.1f,%.1f,%.1f,%.2f\n", rows[i].threads, rows[i].h,
                   rows[i].batch, mode_names[rows[i].mode], rows[i].ms_med, rows[i].ips_med,
                   rows[i].ips_min, rows[i].ips_max, rows[i].gflops);
    }
    if (json) {
        bool written = json_write(json, rows, k, &o);
        json = NULL;
        if (!written) {
            fprintf(stderr, "thaw-cli bench: cannot write '%s'\n", o.json);
            status = 1;
        }
    }

done:
    if (json && json != stdout) fclose(json);
    free(rows);
    data_free(&d);
    return status;
}
