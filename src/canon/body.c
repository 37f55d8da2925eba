/*
 * The canonical body: blocks rendered as text, and read back.
 *
 *   paragraph   its sentences, one per line
 *   heading     "#" x level, a space, the text (one line)
 *   list item   "- " + first sentence, further sentences indented "  "
 *   quote       "> " before each sentence line
 *   pre         its lines as they are
 *
 * Blocks are separated by one blank line, except consecutive items of one
 * list. A paragraph or pre block whose first line would read as another
 * kind ("#", "- ", "> ", "\") gets a "\" in front; the reader removes it.
 */
#include "canon.h"

#include <stdlib.h>
#include <string.h>

int blk_add(blk_list *l, blk_kind kind, int level, const char *text, size_t len)
{
	char *t;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		blk *v = stet_realloc(l->v, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		l->v = v;
		l->cap = cap;
	}
	if (!(t = stet_strndup(text, len)))
		return stet_error_oom();
	l->v[l->n].kind = kind;
	l->v[l->n].level = level;
	l->v[l->n].text = t;
	l->n++;
	return 0;
}

void blk_list_dispose(blk_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int needs_escape(const char *s)
{
	/* s is a first line, ended by '\n' or the end of the string */
	int alone = s[1] == '\0' || s[1] == '\n';
	return s[0] == '#' || s[0] == '\\' || ((s[0] == '-' || s[0] == '>') && (s[1] == ' ' || alone));
}

/* Emit `lines` (each ending "\n") with a prefix on the first and another
 * on the rest; with escape_rest, a later line that would read as a block
 * marker once its indent is gone ("- ", a backslash...) gets a backslash. */
static void prefixed(stet_buf *out, const char *lines, size_t len, const char *first, const char *rest,
		     int escape_rest)
{
	const char *p = lines, *end = lines + len;
	int n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		stet_buf_puts(out, n++ ? rest : first);
		if (n > 1 && escape_rest && needs_escape(p))
			stet_buf_putc(out, '\\');
		stet_buf_put(out, p, (size_t)(le - p));
		stet_buf_putc(out, '\n');
		p = nl ? nl + 1 : end;
	}
}

void stet_canon_render(stet_buf *out, const blk_list *l)
{
	stet_buf sent = STET_BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const blk *b = &l->v[i];
		size_t len = strlen(b->text);
		int same_list = i > 0 && b->kind == BLK_LI && l->v[i - 1].kind == BLK_LI &&
				l->v[i - 1].level == b->level;

		if (!len)
			continue;
		if (out->size && !same_list)
			stet_buf_putc(out, '\n');
		stet_buf_clear(&sent);
		switch (b->kind) {
		case BLK_H: {
			int k;
			for (k = 0; k < (b->level < 1 ? 1 : b->level > 6 ? 6 : b->level); k++)
				stet_buf_putc(out, '#');
			stet_buf_putc(out, ' ');
			stet_buf_put(out, b->text, len);
			stet_buf_putc(out, '\n');
			break;
		}
		case BLK_LI:
			stet_canon_sentences(&sent, b->text, len);
			prefixed(out, sent.ptr, sent.size, "- ", "  ", 1);
			break;
		case BLK_QUOTE:
			stet_canon_sentences(&sent, b->text, len);
			prefixed(out, sent.ptr, sent.size, "> ", "> ", 0);
			break;
		case BLK_P:
		case BLK_PRE:
			stet_canon_sentences(&sent, b->text, len);
			prefixed(out, sent.ptr, sent.size, needs_escape(sent.ptr) ? "\\" : "", "", 0);
			break;
		}
	}
	stet_buf_dispose(&sent);
}

/*
 * Read a canonical body back. Each line is normalized again (folding and
 * NFC are idempotent); sentences stay as they are, so the result renders
 * to the same text. The block kinds' sentence lines are kept joined by
 * "\n" in blk.text with kind BLK_PRE-like rendering, see below.
 */
int stet_canon_parse_body(blk_list *out, const char *text)
{
	stet_buf block = STET_BUF_INIT, line = STET_BUF_INIT;
	const char *p = text;
	blk_kind kind = BLK_P;
	int level = 0, list_no = 0, in_block = 0, error = 0;

#define FLUSH()                                                                            \
	do {                                                                               \
		if (in_block && block.size) {                                              \
			if (block.ptr[block.size - 1] == '\n')                             \
				stet_buf_truncate(&block, block.size - 1);                 \
			if ((error = blk_add(out, kind, level, block.ptr, block.size)) < 0) \
				goto done;                                                 \
		}                                                                          \
		stet_buf_clear(&block);                                                    \
		in_block = 0;                                                              \
	} while (0)

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p;
		p = nl ? nl + 1 : p + n;

		stet_buf_clear(&line);
		if (n == 0 || (error = stet_canon_text(&line, s, n)) < 0 || !line.size) {
			if (error < 0)
				goto done;
			FLUSH();
			list_no++;
			continue;
		}
		if (!in_block) {
			const char *t = line.ptr;
			in_block = 1;
			if (t[0] == '#') {
				int h = 0;
				while (t[h] == '#')
					h++;
				kind = BLK_H;
				level = h > 6 ? 6 : h;
				stet_buf_puts(&block, t + h + (t[h] == ' '));
				continue;
			}
			if (t[0] == '-' && (t[1] == ' ' || !t[1])) {
				kind = BLK_LI;
				level = list_no;
				stet_buf_puts(&block, t + 1 + (t[1] == ' '));
				stet_buf_putc(&block, '\n');
				continue;
			}
			if (t[0] == '>' && (t[1] == ' ' || !t[1])) {
				kind = BLK_QUOTE;
				level = 0;
				stet_buf_puts(&block, t + 1 + (t[1] == ' '));
				stet_buf_putc(&block, '\n');
				continue;
			}
			kind = BLK_P;
			level = 0;
			stet_buf_puts(&block, t + (t[0] == '\\'));
			stet_buf_putc(&block, '\n');
			continue;
		}
		switch (kind) {
		case BLK_LI:
			if (line.ptr[0] == '-' && (line.ptr[1] == ' ' || !line.ptr[1])) {
				FLUSH();
				in_block = 1;
				kind = BLK_LI;
				level = list_no;
				stet_buf_puts(&block, line.ptr + 1 + (line.ptr[1] == ' '));
			} else {
				/* a continuation line; "\\" escapes a marker */
				stet_buf_puts(&block, line.ptr + (line.ptr[0] == '\\'));
			}
			break;
		case BLK_QUOTE:
			stet_buf_puts(&block, line.ptr + (line.ptr[0] == '>') + (line.ptr[0] == '>' && line.ptr[1] == ' '));
			break;
		default:
			stet_buf_puts(&block, line.ptr);
			break;
		}
		stet_buf_putc(&block, '\n');
	}
	FLUSH();
	error = stet_buf_check(&block, "body");
done:
#undef FLUSH
	stet_buf_dispose(&block);
	stet_buf_dispose(&line);
	return error;
}
