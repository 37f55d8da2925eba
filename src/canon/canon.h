/*
 * Internal interface of the canonicalizer: the block model the extractor
 * produces and the writer consumes.
 */
#ifndef STET_CANON_INTERNAL_H
#define STET_CANON_INTERNAL_H

#include "stet/canon.h"
#include "util/util.h"

typedef enum { BLK_P, BLK_H, BLK_LI, BLK_QUOTE, BLK_PRE } blk_kind;

typedef struct {
	blk_kind kind;
	int level;      /* heading level; list: the list it belongs to */
	char *text;     /* normalized text (sentences not yet split) */
} blk;

typedef struct {
	blk *v;
	size_t n, cap;
} blk_list;

int blk_add(blk_list *l, blk_kind kind, int level, const char *text, size_t len);
void blk_list_dispose(blk_list *l);

struct stet_article;
/* Extract the article's blocks from its parsed body. */
int stet_extract(blk_list *out, const struct stet_article *a);
/* Parse a canonical body back into blocks. */
int stet_canon_parse_body(blk_list *out, const char *text);
/* Render blocks as the canonical body. */
void stet_canon_render(stet_buf *out, const blk_list *l);
/* stet_canon_text with a caller's scratch buffer (emptied first, kept
 * for the next call): a page's paragraphs one after another */
int canon_text_with(stet_buf *out, stet_buf *scratch, const char *s, size_t len);

#endif
