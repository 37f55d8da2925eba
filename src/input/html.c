/*
 * libxml2's HTML parser, locked down: no network, no external entities,
 * no DTD loading, errors silenced (the parser recovers; its complaints
 * about tag soup are not the user's problem), and no HUGE option so the
 * parser's own depth and size limits stay in force; an input that hits
 * them is refused, never archived cut short.
 */
#include "internal.h"

#include <string.h>

int stet_html_parse(htmlDocPtr *out, const char *name, const char *html, size_t len)
{
	htmlParserCtxtPtr ctxt;
	htmlDocPtr doc;
	int stopped;

	*out = NULL;
	if (len > (size_t)INT32_MAX)
		return stet_error_set(STET_ETOOBIG, "%s: too large to parse", name);
	if (!(ctxt = htmlNewParserCtxt()))
		return stet_error_oom();
	doc = htmlCtxtReadMemory(ctxt, len ? html : " ", len ? (int)len : 1, NULL, "UTF-8",
				 HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
					 HTML_PARSE_RECOVER | HTML_PARSE_COMPACT);
	/* libxml2 stops at a text node over its limit (10,000,000 bytes without
	 * HUGE) and reports it as out of memory: the rest would be lost, so the
	 * input is refused instead of archived cut short */
	stopped = ctxt->errNo == XML_ERR_NO_MEMORY;
	htmlFreeParserCtxt(ctxt);
	if (stopped) {
		xmlFreeDoc(doc);
		return stet_error_set(STET_ETOOBIG,
				      "%s: a run of text over 10,000,000 bytes without markup (the HTML "
				      "parser's limit), or out of memory",
				      name);
	}
	if (!doc)
		return stet_error_set(STET_EINVALID, "%s: not parseable as HTML", name);
	*out = doc;
	return 0;
}

static void text_rec(stet_buf *out, xmlNodePtr n, int depth)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				stet_buf_puts(out, (const char *)n->content);
		} else if (n->type == XML_ELEMENT_NODE && depth < STET_MAX_DEPTH) {
			if (n->name && (!strcmp((const char *)n->name, "script") ||
					!strcmp((const char *)n->name, "style")))
				continue;
			text_rec(out, n->children, depth + 1);
		}
	}
}

void stet_node_text(stet_buf *out, xmlNodePtr node)
{
	if (!node)
		return;
	if (node->type == XML_TEXT_NODE) {
		if (node->content)
			stet_buf_puts(out, (const char *)node->content);
		return;
	}
	text_rec(out, node->children, 0);
}

const char *stet_html_attr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a;
	for (a = n->properties; a; a = a->next)
		if (a->name && !stet_ascii_casecmp((const char *)a->name, name) && a->children &&
		    a->children->type == XML_TEXT_NODE)
			return (const char *)a->children->content;
	return NULL;
}

int stet_html_walk(xmlNodePtr root, stet_html_visit cb, void *payload)
{
	xmlNodePtr n = root;
	int depth = 0, r;

	while (n) {
		if (n->type == XML_ELEMENT_NODE) {
			if ((r = cb(n, depth, payload)) < 0)
				return r;
			if (r > 0 && n->children && depth < STET_MAX_DEPTH) {
				n = n->children;
				depth++;
				continue;
			}
		}
		while (n && !n->next && depth > 0) {
			n = n->parent;
			depth--;
		}
		if (!n || depth == 0)
			break;
		n = n->next;
	}
	return 0;
}
