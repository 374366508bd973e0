/* Lesson Markdown to Pango markup, display-free: headings, paragraphs,
 * joined lines, list items, bold/italic/code, escaping; and every shipped
 * lesson turns into markup that Pango accepts. */
#include <glib.h>
#include <pango/pango.h>
#include <string.h>

#include "thaw-markdown.h"

static void check(const char *md, const char *want)
{
    g_autofree char *got = thaw_markdown_to_pango(md);
    g_assert_cmpstr(got, ==, want);
    g_assert_true(pango_parse_markup(got, -1, 0, NULL, NULL, NULL, NULL));
}

static void test_basics(void)
{
    check("# Title\n\nA line\njoined.\n\nNext.",
          "<span size=\"x-large\" weight=\"bold\">Title</span>\n\nA line joined.\n\nNext.");
    check("**Bold** and *it* and `a<b & c>`",
          "<b>Bold</b> and <i>it</i> and <tt>a&lt;b &amp; c&gt;</tt>");
    check("x * y and 2*3", "x * y and 2*3");
    check("- one\n- two **b**", " • one\n • two <b>b</b>");
    check("## Sub\ntext", "<span size=\"large\" weight=\"bold\">Sub</span>\n\ntext");
    check("unclosed **bold", "unclosed **bold");
    check("", "");
    check("a **bold\nacross** lines", "a <b>bold across</b> lines");
}

static void test_lessons(void)
{
    const char *dir = g_getenv("THAW_LESSONS");
    if (!dir) {
        g_test_skip("THAW_LESSONS is not set");
        return;
    }
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    int n = 0;
    const char *f;
    while ((f = g_dir_read_name(d))) {
        if (!g_str_has_suffix(f, ".md")) continue;
        g_autofree char *path = g_build_filename(dir, f, NULL);
        g_autofree char *md = NULL;
        g_assert_true(g_file_get_contents(path, &md, NULL, NULL));
        g_autofree char *markup = thaw_markdown_to_pango(md);
        g_autoptr(GError) e = NULL;
        if (!pango_parse_markup(markup, -1, 0, NULL, NULL, NULL, &e))
            g_error("%s: %s", f, e->message);
        n++;
    }
    g_assert_cmpint(n, >=, 3);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/markdown/basics", test_basics);
    g_test_add_func("/markdown/lessons", test_lessons);
    return g_test_run();
}
