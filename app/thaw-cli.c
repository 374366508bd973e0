/* thaw-cli: the headless front end (SPEC.md §6).
 *
 * Each subcommand lives with its kind (cli-train.c: pretrain, finetune;
 * cli-inspect.c: summary, eval, compare, predict, import-keras; export-code
 * in cli-train.c; bench in cli-bench.c; demo in cli-demo.c) and shares the setup
 * table (setup.c) with the window, so no option is parsed twice.
 * Exit status: 0 on success, 1 on a failure, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"finetune", thaw_cli_finetune,
     "run a fine-tune setup and print its curve (default: the "
     "shipped model on Fashion-MNIST 5-9)"},
    {"pretrain", thaw_cli_pretrain,
     "train a model from scratch on Fashion-MNIST 0-4 (how the "
     "shipped model is made)"},
    {"summary", thaw_cli_summary, "the Keras-style layer table and parameter counts"},
    {"eval", thaw_cli_eval, "loss and accuracy of a model in training or inference mode"},
    {"compare", thaw_cli_compare,
     "training-mode vs inference-mode predictions on the same "
     "images, and how they depend on the batch"},
    {"predict", thaw_cli_predict, "per-image class probabilities in a chosen mode"},
    {"import-keras", thaw_cli_import_keras, "convert a Keras .h5 weight file to .thaw"},
    {"export-code", thaw_cli_export_code, "a Keras or PyTorch script equivalent to a setup"},
    {"demo", thaw_cli_demo, "the teaching demos: a lesson, its numbers measured, a verdict"},
    {"bench", thaw_cli_bench, "the engine benchmark (the PyTorch anchor's ResNet-20 and modes)"},
};

static void print_help(FILE *f)
{
    fprintf(f, "Usage: thaw-cli COMMAND [OPTION...]\n"
               "Thaw: which layers are frozen (trainable) and which mode they run in "
               "(training).\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'thaw-cli COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return EXIT_SUCCESS;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    return thaw_cli_usage_error("unknown command '%s'", cmd);
}
