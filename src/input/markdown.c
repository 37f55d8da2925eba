/*
 * A small Markdown-to-HTML converter for post bodies written in Markdown.
 * It knows the block structure the canonical form keeps (paragraphs,
 * ATX and setext headings, lists, block quotes, fenced code, rules) and
 * the inline forms that matter for text (links keep their text, images
 * are dropped, emphasis and code markers vanish). Lines that start with
 * a tag pass through as HTML. Text is escaped, so nothing in it can
 * become markup by accident.
 */
#include "internal.h"

#include <string.h>

static void esc(stet_buf *o, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': stet_buf_puts(o, "&lt;"); break;
		case '>': stet_buf_puts(o, "&gt;"); break;
		case '&':
			/* keep entities the author wrote */
			if (memchr(s + i, ';', n - i < 10 ? n - i : 10))
				stet_buf_putc(o, '&');
			else
				stet_buf_puts(o, "&amp;");
			break;
		default: stet_buf_putc(o, s[i]); break;
		}
	}
}

/* Inline: [text](url) -> text, ![alt](url) -> nothing, * _ ` markers dropped. */
static void inl(stet_buf *o, const char *s, size_t n)
{
	size_t i = 0, start = 0;

	while (i < n) {
		char c = s[i];
		if (c == '\\' && i + 1 < n && strchr("\\`*_{}[]()#+-.!<>", s[i + 1])) {
			esc(o, s + start, i - start);
			esc(o, s + i + 1, 1);
			i += 2;
			start = i;
		} else if ((c == '[' || (c == '!' && i + 1 < n && s[i + 1] == '['))) {
			size_t t0 = i + (c == '!' ? 2 : 1), j = t0, k;
			int depth = 1;
			while (j < n && depth) {
				if (s[j] == '[') depth++;
				else if (s[j] == ']') depth--;
				if (depth) j++;
			}
			if (j < n && j + 1 < n && s[j + 1] == '(' && (k = j + 2) < n) {
				while (k < n && s[k] != ')')
					k++;
				if (k < n) {
					esc(o, s + start, i - start);
					if (c != '!')
						inl(o, s + t0, j - t0);
					i = k + 1;
					start = i;
					continue;
				}
			}
			i++;
		} else if (c == '*' || c == '`' || (c == '_' && (i + 1 < n && s[i + 1] == '_'))) {
			esc(o, s + start, i - start);
			while (i < n && s[i] == c)
				i++;
			start = i;
		} else if (c == '<' && i + 1 < n && (s[i + 1] == '/' || (s[i + 1] >= 'a' && s[i + 1] <= 'z'))) {
			/* inline HTML passes through */
			const char *gt = memchr(s + i, '>', n - i);
			if (!gt) {
				i++;
				continue;
			}
			esc(o, s + start, i - start);
			stet_buf_put(o, s + i, (size_t)(gt - (s + i)) + 1);
			i = (size_t)(gt - s) + 1;
			start = i;
		} else {
			i++;
		}
	}
	esc(o, s + start, n - start);
}

typedef enum { B_NONE, B_P, B_UL, B_OL, B_QUOTE, B_CODE } block;

static void close_block(stet_buf *o, block *b)
{
	static const char *const closers[] = { "", "</p>\n", "</li></ul>\n", "</li></ol>\n",
					       "</p></blockquote>\n", "</pre>\n" };
	stet_buf_puts(o, closers[*b]);
	*b = B_NONE;
}

static int is_rule(const char *s, size_t n, char c)
{
	size_t i, k = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == c) k++;
		else if (s[i] != ' ') return 0;
	}
	return k >= 3;
}

void stet_markdown_to_html(stet_buf *o, const char *md, size_t len)
{
	const char *p = md, *end = md + len;
	block b = B_NONE;
	size_t para_mark = 0; /* where the current paragraph's <p> starts */

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p;
		size_t n, ind = 0;

		while (s < le && (*s == ' ' || *s == '\t') && ind < 4) {
			s++;
			ind++;
		}
		n = (size_t)(le - s);
		p = nl ? nl + 1 : end;
		if (b == B_CODE) {
			if (n >= 3 && (!strncmp(s, "```", 3) || !strncmp(s, "~~~", 3)))
				close_block(o, &b);
			else {
				esc(o, s, n);
				stet_buf_putc(o, '\n');
			}
			continue;
		}
		if (!n) {
			close_block(o, &b);
			continue;
		}
		if (n >= 3 && (!strncmp(s, "```", 3) || !strncmp(s, "~~~", 3))) {
			close_block(o, &b);
			stet_buf_puts(o, "<pre>");
			b = B_CODE;
			continue;
		}
		if (b == B_P && (is_rule(s, n, '=') || is_rule(s, n, '-')) && !memchr(s, ' ', n)) {
			/* setext heading: rewrite the open paragraph */
			char tag = *s == '=' ? '1' : '2';
			stet_buf inner = STET_BUF_INIT;
			stet_buf_put(&inner, o->ptr + para_mark + 3, o->size - para_mark - 3);
			stet_buf_truncate(o, para_mark);
			stet_buf_printf(o, "<h%c>%s</h%c>\n", tag, inner.ptr, tag);
			stet_buf_dispose(&inner);
			b = B_NONE;
			continue;
		}
		if (is_rule(s, n, '-') || is_rule(s, n, '*') || is_rule(s, n, '_')) {
			close_block(o, &b);
			stet_buf_puts(o, "<hr>\n");
			continue;
		}
		if (*s == '#') {
			size_t h = 0;
			while (h < n && s[h] == '#')
				h++;
			if (h <= 6 && (h == n || s[h] == ' ')) {
				size_t e = n;
				close_block(o, &b);
				while (e > h && (s[e - 1] == '#' || s[e - 1] == ' '))
					e--;
				stet_buf_printf(o, "<h%zu>", h);
				if (e > h)
					inl(o, s + h + 1, e - h - 1);
				stet_buf_printf(o, "</h%zu>\n", h);
				continue;
			}
		}
		if (*s == '>') {
			size_t k = (n > 1 && s[1] == ' ') ? 2 : 1;
			if (b != B_QUOTE) {
				close_block(o, &b);
				stet_buf_puts(o, "<blockquote><p>");
				b = B_QUOTE;
			} else if (n == k) {
				stet_buf_puts(o, "</p><p>");
			} else {
				stet_buf_putc(o, '\n');
			}
			inl(o, s + k, n - k);
			continue;
		}
		if ((n > 2 && (*s == '-' || *s == '*' || *s == '+') && s[1] == ' ') ||
		    (n > 2 && *s >= '0' && *s <= '9')) {
			size_t k = 0;
			block want = B_UL;
			if (*s >= '0' && *s <= '9') {
				while (k < n && s[k] >= '0' && s[k] <= '9')
					k++;
				if (k < n - 1 && (s[k] == '.' || s[k] == ')') && s[k + 1] == ' ') {
					want = B_OL;
					k += 2;
				} else {
					k = 0;
				}
			} else {
				k = 2;
			}
			if (k) {
				if (b == want)
					stet_buf_puts(o, "</li><li>");
				else {
					close_block(o, &b);
					stet_buf_puts(o, want == B_UL ? "<ul><li>" : "<ol><li>");
					b = want;
				}
				inl(o, s + k, n - k);
				continue;
			}
		}
		if (*s == '<' && ind == 0 && b == B_NONE) {
			/* an HTML block line */
			stet_buf_put(o, s, n);
			stet_buf_putc(o, '\n');
			continue;
		}
		if (b == B_NONE) {
			para_mark = o->size;
			stet_buf_puts(o, "<p>");
			b = B_P;
		} else {
			stet_buf_putc(o, '\n');
		}
		inl(o, s, n);
	}
	close_block(o, &b);
}
