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
