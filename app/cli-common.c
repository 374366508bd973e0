/* Helpers shared by thaw-cli's subcommands. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

volatile sig_atomic_t thaw_cli_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    thaw_cli_interrupted = 1;
}

double thaw_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int thaw_cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "thaw-cli: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'thaw-cli --help')\n");
    return EXIT_USAGE;
}

int thaw_cli_fail(const thaw_error *err)
{
    fprintf(stderr, "thaw-cli: %s\n", err->msg);
    return EXIT_FAILURE;
}

bool thaw_cli_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

bool thaw_cli_parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

const int thaw_cli_source_classes[5] = {0, 1, 2, 3, 4};
const int thaw_cli_target_classes[5] = {5, 6, 7, 8, 9};

/* Loads the Fashion-MNIST split `prefix` and keeps `classes` (k per class,
 * 0 = all), relabelled 0..4, with an optional domain shift applied. */
thaw_status thaw_cli_load_split(thaw_dataset *out, const char *dir, const char *prefix,
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

thaw_status thaw_cli_load_model(thaw_model **out, const ThawSetup *s, bool keep_top,
                                char **path_out, thaw_error *err)
{
    g_autoptr(GError) gerr = NULL;
    ThawSetupModelFormat format;
    char *path = thaw_setup_resolve_model(s, &format, &gerr);
    if (!path) return thaw_error_set(err, THAW_ERR_IO, "%s", gerr->message);
    *path_out = path;
    if (format == THAW_SETUP_MODEL_KERAS_H5) {
        thaw_keras_options ko;
        thaw_keras_options_default(&ko);
        ko.ignore_top = !keep_top;
        if (s->arch && *s->arch) ko.arch = s->arch;
        return thaw_keras_h5_load(out, path, &ko, NULL, err);
    }
    return thaw_checkpoint_load(out, path, err);
}

void thaw_cli_catch_sigint(void)
{
    signal(SIGINT, on_sigint);
}

void thaw_cli_json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            g_string_append_printf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            g_string_append_printf(out, "\\u%04x", *s);
        else
            g_string_append_c(out, *s);
    }
    g_string_append_c(out, '"');
}
