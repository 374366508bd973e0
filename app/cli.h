/* Shared pieces of thaw-cli's subcommands (app/cli-*.c). */
#ifndef THAW_APP_CLI_H
#define THAW_APP_CLI_H

#include <glib.h>
#include <signal.h>
#include <stdbool.h>

#include "export-code.h"
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

/* The Fashion-MNIST scenario of SPEC.md §4: source classes 0-4, target 5-9. */
extern const int thaw_cli_source_classes[5];
extern const int thaw_cli_target_classes[5];

/* Loads the Fashion-MNIST split `prefix` ("train", "t10k") of dir, keeps
 * `classes` (k per class, 0 = all, seeded) relabelled 0..4, and applies an
 * optional domain shift. */
thaw_status thaw_cli_load_split(thaw_dataset *out, const char *dir, const char *prefix,
                                const int *classes, int k, uint64_t seed,
                                const thaw_transform *shift, thaw_error *err);

/* Loads the model a setup's `model` names: a .thaw, or a Keras .h5 with its
 * top (keep_top) or without. *path_out receives the resolved path (g_free). */
thaw_status thaw_cli_load_model(thaw_model **out, const ThawSetup *s, bool keep_top,
                                char **path_out, thaw_error *err);

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

#endif
