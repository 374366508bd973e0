/* Lesson Markdown to Pango markup: see thaw-markdown.h. */
#include "thaw-markdown.h"

#include <string.h>

/* Appends the inline text s (n bytes): escapes it and turns **x**, *x* and
 * `x` into <b>, <i> and <tt> when the closing mark is on the same line. */
static void inline_text(GString *out, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *mark = NULL, *open = NULL, *close = NULL;
        size_t ml = 0;
        if (s[i] == '`')
            mark = "`", ml = 1, open = "<tt>", close = "</tt>";
        else if (s[i] == '*' && i + 1 < n && s[i + 1] == '*')
            mark = "**", ml = 2, open = "<b>", close = "</b>";
        else if (s[i] == '*' && i + 1 < n && s[i + 1] != ' ')
            mark = "*", ml = 1, open = "<i>", close = "</i>";
        if (mark) {
            const char *end = g_strstr_len(s + i + ml, (gssize)(n - i - ml), mark);
            /* `code` holds no markup; ** and * only around something */
            if (end && end > s + i + ml) {
                g_string_append(out, open);
                size_t len = (size_t)(end - (s + i + ml));
                if (ml == 1 && mark[0] == '`') {
                    char *esc = g_markup_escape_text(s + i + ml, (gssize)len);
                    g_string_append(out, esc);
                    g_free(esc);
                } else {
                    inline_text(out, s + i + ml, len);
                }
                g_string_append(out, close);
                i = (size_t)(end - s) + ml;
                continue;
            }
        }
        /* plain text up to the next possible mark */
        size_t j = i + 1;
        while (j < n && s[j] != '`' && s[j] != '*') j++;
        char *esc = g_markup_escape_text(s + i, (gssize)(j - i));
        g_string_append(out, esc);
        g_free(esc);
        i = j;
    }
}

typedef enum { BLOCK_NONE, BLOCK_H1, BLOCK_H2, BLOCK_PARAGRAPH, BLOCK_ITEM } BlockKind;

/* Writes one block: a blank line between blocks, a line break between two
 * list items. Inline markup applies to the whole block, so marks may span
 * the source's line breaks. */
static void emit(GString *out, BlockKind kind, BlockKind *last, const GString *text)
{
    if (kind == BLOCK_NONE || text->len == 0) return;
    if (*last != BLOCK_NONE)
        g_string_append(out, *last == BLOCK_ITEM && kind == BLOCK_ITEM ? "\n" : "\n\n");
    if (kind == BLOCK_H1) g_string_append(out, "<span size=\"x-large\" weight=\"bold\">");
    if (kind == BLOCK_H2) g_string_append(out, "<span size=\"large\" weight=\"bold\">");
    if (kind == BLOCK_ITEM) g_string_append(out, " • ");
    inline_text(out, text->str, text->len);
    if (kind == BLOCK_H1 || kind == BLOCK_H2) g_string_append(out, "</span>");
    *last = kind;
}

char *thaw_markdown_to_pango(const char *md)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GString) text = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(md ? md : "", "\n", -1);
    BlockKind cur = BLOCK_NONE, last = BLOCK_NONE;
    for (int k = 0; lines[k]; k++) {
        const char *l = lines[k];
        while (*l == ' ') l++;
        size_t n = strlen(l);
        while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\r')) n--;
        BlockKind starts = n == 0                       ? BLOCK_NONE
                           : g_str_has_prefix(l, "## ") ? BLOCK_H2
                           : g_str_has_prefix(l, "# ")  ? BLOCK_H1
                           : g_str_has_prefix(l, "- ")  ? BLOCK_ITEM
                                                        : BLOCK_PARAGRAPH;
        /* a plain line continues the paragraph or item it follows */
        if (starts == BLOCK_PARAGRAPH && (cur == BLOCK_PARAGRAPH || cur == BLOCK_ITEM)) {
            g_string_append_c(text, ' ');
            g_string_append_len(text, l, (gssize)n);
            continue;
        }
        emit(out, cur, &last, text);
        g_string_truncate(text, 0);
        cur = starts;
        size_t skip = starts == BLOCK_H2 ? 3 : starts == BLOCK_H1 || starts == BLOCK_ITEM ? 2 : 0;
        if (n > skip) g_string_append_len(text, l + skip, (gssize)(n - skip));
        if (starts == BLOCK_H1 || starts == BLOCK_H2) {
            emit(out, cur, &last, text); /* a heading is one line */
            g_string_truncate(text, 0);
            cur = BLOCK_NONE;
        }
    }
    emit(out, cur, &last, text);
    return g_string_free(out, FALSE);
}
