/* Shared pieces of thaw-cli's subcommands (app/cli-*.c). */
#ifndef THAW_APP_CLI_H
#define THAW_APP_CLI_H

#include <glib.h>
#include <signal.h>
#include <stdbool.h>

#include "export-code.h"
#include "run.h"
#include "setup.h"
#include "thaw.h"

#ifndef THAW_MODELS_DIR
#define THAW_MODELS_DIR "resources/models"
#endif

#define EXIT_USAGE 2

/* Set by SIGINT: loops stop between steps and still write what they owe. */
extern volatile sig_atomic_t thaw_cli_interrupted;
void thaw_cli_catch_sigint(void);

double thaw_cli_now(void);

/* "thaw-cli: <message> (see 'thaw-cli --help')" on stderr; returns EXIT_USAGE. */
int thaw_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "thaw-cli: <err->msg>" on stderr; returns EXIT_FAILURE. */
int thaw_cli_fail(const thaw_error *err);

/* Appends s as a JSON string literal. */
void thaw_cli_json_string(GString *out, const char *s);

bool thaw_cli_parse_int(const char *s, int lo, int hi, int *out);
bool thaw_cli_parse_float(const char *s, float lo, float hi, float *out);

/* Subcommands: argv[0] is the subcommand's name. */
int thaw_cli_pretrain(int argc, char **argv);
int thaw_cli_finetune(int argc, char **argv);
int thaw_cli_summary(int argc, char **argv);
int thaw_cli_eval(int argc, char **argv);
int thaw_cli_compare(int argc, char **argv);
int thaw_cli_predict(int argc, char **argv);
int thaw_cli_import_keras(int argc, char **argv);
int thaw_cli_export_code(int argc, char **argv);
int thaw_cli_bench(int argc, char **argv);
int thaw_cli_demo(int argc, char **argv);

#endif
