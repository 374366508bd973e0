/* thaw-cli demo: the teaching demos headless (app/demo.h). Prints the
 * lesson, measures, prints the numbers and a verdict. Exit status 0 when
 * the claim held, 1 when it did not or the demo could not run, 2 on a
 * usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo.h"

static const char demo_help[] =
    "Usage: thaw-cli demo                       list the demos\n"
    "       thaw-cli demo NAME [SETUP OPTION...] [--json] [--no-lesson]\n"
    "Run a teaching demo: print its lesson, measure its claim on the demo's setup\n"
    "(resources/presets/demo-NAME.ini; setup options override it, e.g. --epochs 2),\n"
    "and print the numbers and a verdict. --json prints only the numbers and the\n"
    "verdict as JSON; --no-lesson skips the lesson text.\n";

static void on_progress(gpointer ctx, const char *what)
{
    fprintf(stderr, "  %s...\n", what);
}

static void list(void)
{
    size_t n;
    const ThawDemo *d = thaw_demos(&n);
    printf("Demos (thaw-cli demo NAME):\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-24s %s\n     %s\n", d[i].name, d[i].title, d[i].claim);
}

int thaw_cli_demo(int argc, char **argv)
{
    if (argc < 2) {
        list();
        return EXIT_SUCCESS;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        fputs(demo_help, stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(name, "--list") == 0) {
        list();
        return EXIT_SUCCESS;
    }
    const ThawDemo *d = thaw_demo_find(name);
    if (!d) return thaw_cli_usage_error("demo: no demo '%s' (thaw-cli demo lists them)", name);

    g_autoptr(GError) gerr = NULL;
    g_autoptr(ThawSetup) s = thaw_setup_new();
    g_autofree char *path = thaw_demo_setup_path(d);
    if (!thaw_setup_load_file(s, path, &gerr)) {
        fprintf(stderr, "thaw-cli: %s\n", gerr->message);
        return EXIT_FAILURE;
    }
    /* everything after the name: setup options, then our own */
    int rest = argc - 1;
    char **args = argv + 1;
    if (!thaw_setup_parse_args(s, &rest, &args, &gerr))
        return thaw_cli_usage_error("%s", gerr->message);
    gboolean json = FALSE, lesson = TRUE;
    for (int i = 1; i < rest; i++) {
        if (strcmp(args[i], "--json") == 0)
            json = TRUE;
        else if (strcmp(args[i], "--no-lesson") == 0)
            lesson = FALSE;
        else
            return thaw_cli_usage_error("demo: unknown option or argument '%s'", args[i]);
    }
    if (!thaw_setup_validate(s, &gerr)) return thaw_cli_usage_error("%s", gerr->message);

    if (!json && lesson) {
        g_autofree char *text = thaw_demo_lesson(d, &gerr);
        if (!text) {
            fprintf(stderr, "thaw-cli: %s\n", gerr->message);
            return EXIT_FAILURE;
        }
        printf("%s\n", text);
    }
    if (!json) printf("Measuring (%s):\n", d->title);
    fflush(stdout); /* before the progress lines on stderr */
    ThawDemoResult res;
    if (!thaw_demo_run(d, s, &res, json ? NULL : on_progress, NULL, NULL, &gerr)) {
        fprintf(stderr, "thaw-cli: %s\n", gerr->message);
        return EXIT_FAILURE;
    }
    if (json) {
        g_autoptr(GString) j = g_string_new("{\"demo\": ");
        thaw_cli_json_string(j, d->name);
        g_string_append(j, ", \"numbers\": [");
        for (guint i = 0; i < res.numbers->len; i++) {
            const ThawDemoNumber *n = res.numbers->pdata[i];
            g_string_append_printf(j, "%s{\"label\": ", i ? ", " : "");
            thaw_cli_json_string(j, n->label);
            g_string_append_printf(j, ", \"value\": %.6g, \"unit\": ", n->value);
            thaw_cli_json_string(j, n->unit);
            g_string_append(j, "}");
        }
        g_string_append_printf(j, "], \"holds\": %s, \"verdict\": ", res.holds ? "true" : "false");
        thaw_cli_json_string(j, res.verdict);
        g_string_append(j, "}\n");
        fputs(j->str, stdout);
    } else {
        for (guint i = 0; i < res.numbers->len; i++) {
            const ThawDemoNumber *n = res.numbers->pdata[i];
            printf("  %-72s %8.4g%s%s\n", n->label, n->value, *n->unit ? " " : "", n->unit);
        }
        printf("\nVerdict: the claim %s\n", res.verdict);
    }
    int rc = res.holds ? EXIT_SUCCESS : EXIT_FAILURE;
    thaw_demo_result_clear(&res);
    return rc;
}
