/*
 * What the readers hand to the canonicalizer besides the public metadata:
 * the parsed body. Only src/input and src/canon include this.
 */
#ifndef STET_INPUT_INTERNAL_H
#define STET_INPUT_INTERNAL_H

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "stet/input.h"
#include "util/util.h"

struct stet_article_body {
	htmlDocPtr doc;  /* HTML page, or a post body parsed as an HTML fragment */
	int fragment;    /* 1: the whole document is the article (a post body) */
	char *text;      /* STET_FORMAT_CANON: the canonical body text */
};

/* Deepest element nesting any walker follows; deeper content is dropped. */
#define STET_MAX_DEPTH 200

/* Parse UTF-8 HTML (len bytes) with the network and entities locked down. */
int stet_html_parse(htmlDocPtr *out, const char *name, const char *html, size_t len);

/* Readers, each filling a zeroed article; `data` is UTF-8 text with LF
 * line ends, `line0` the 1-based line it starts on. */
int stet_post_read(stet_article *a, const char *data, size_t len, unsigned line0);
int stet_page_read(stet_article *a, const char *data, size_t len);

/* Markdown body to HTML (appended to out). */
void stet_markdown_to_html(stet_buf *out, const char *md, size_t len);

/* Decode bytes in `charset` to UTF-8 (invalid sequences become U+FFFD).
 * Returns STET_EINVALID if the charset is unknown. */
int stet_charset_decode(stet_buf *out, const char *charset, const char *data, size_t len);
/* The charset declared in an HTML/XML head, or "" (written to out). */
void stet_charset_sniff(char *out, size_t outsz, const char *data, size_t len);

/* The value of attribute `name` (ASCII case-insensitive) or NULL; borrowed. */
const char *stet_html_attr(xmlNodePtr n, const char *name);

/* Visit root and the elements below it in document order, at most
 * STET_MAX_DEPTH deep. cb returns 1 to go into the element's children, 0
 * to skip them, or a negative error that ends the walk and is returned. */
typedef int (*stet_html_visit)(xmlNodePtr n, int depth, void *payload);
int stet_html_walk(xmlNodePtr root, stet_html_visit cb, void *payload);

/* Text of a node and its descendants, whitespace as in the source. */
void stet_node_text(stet_buf *out, xmlNodePtr node);

#endif
