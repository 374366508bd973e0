/* The little Markdown of Thaw's lessons (resources/lessons/NAME.md) turned
 * into Pango markup for a GtkLabel: "# " and "## " headings, paragraphs
 * separated by blank lines (lines inside one are joined), "- " list items,
 * **bold**, *italic* and `code`; everything else is escaped text. Pure and
 * display-free (tested without a display). */
#ifndef THAW_UI_MARKDOWN_H
#define THAW_UI_MARKDOWN_H

#include <glib.h>

G_BEGIN_DECLS

/* Newly allocated Pango markup for md (never NULL). */
char *thaw_markdown_to_pango(const char *md);

G_END_DECLS

#endif
