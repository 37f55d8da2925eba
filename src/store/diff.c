/*
 * Diffs of canonical text: by line (each line is a sentence, so a line is
 * the unit a reader thinks in), and inside a changed line by token: a CJK
 * character, a Latin word, a run of spaces, or one other character. Both
 * are longest-common-subsequence diffs after the common head and tail are
 * set aside; a middle too large for the table (over 16M cells) is shown
 * as removed and added whole rather than risk the time and memory.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CELLS (16u * 1024 * 1024)

typedef struct {
	const char *s;
	size_t len;
} span;

/* append a span, growing the array; 0, or -1 (v freed, *out NULL) */
static int span_push(span **v, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		span *nv = stet_realloc(*v, nc * sizeof(**v));
		if (!nv) {
			free(*v);
			*v = NULL;
			return -1;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[*n].s = s;
	(*v)[(*n)++].len = len;
	return 0;
}

static size_t split_lines(span **out, const char *t)
{
	size_t n = 0, cap = 0;
	span *v = NULL;
	const char *p = t;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (span_push(&v, &n, &cap, p, len) < 0) {
			*out = NULL;
			return (size_t)-1;
		}
		p += len + (nl ? 1 : 0);
	}
	*out = v;
	return n;
}

static int same(const span *x, const span *y)
{
	return x->len == y->len && !memcmp(x->s, y->s, x->len);
}

/* LCS diff of two span arrays, reported in order through cb */
static int lcs(const span *a, size_t na, const span *b, size_t nb, stet_diff_cb cb, void *payload)
{
	size_t pre = 0, suf = 0, i, j, m, n;
	unsigned *t = NULL;
	int error = 0;

	while (pre < na && pre < nb && same(&a[pre], &b[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && same(&a[na - 1 - suf], &b[nb - 1 - suf]))
		suf++;
	for (i = 0; i < pre && !error; i++)
		error = cb(STET_DIFF_SAME, a[i].s, a[i].len, payload);
	m = na - pre - suf;
	n = nb - pre - suf;
	if (!error && m && n && (m + 1) * (n + 1) <= MAX_CELLS && (t = stet_calloc((m + 1) * (n + 1), sizeof(*t)))) {
		const span *x = a + pre, *y = b + pre;
		for (i = m; i-- > 0;)
			for (j = n; j-- > 0;)
				t[i * (n + 1) + j] = same(&x[i], &y[j]) ? t[(i + 1) * (n + 1) + j + 1] + 1
					: (t[(i + 1) * (n + 1) + j] > t[i * (n + 1) + j + 1] ? t[(i + 1) * (n + 1) + j]
												: t[i * (n + 1) + j + 1]);
		i = j = 0;
		while (!error && (i < m || j < n)) {
			if (i < m && j < n && same(&x[i], &y[j])) {
				error = cb(STET_DIFF_SAME, x[i].s, x[i].len, payload);
				i++, j++;
			} else if (j == n || (i < m && t[(i + 1) * (n + 1) + j] >= t[i * (n + 1) + j + 1])) {
				error = cb(STET_DIFF_DEL, x[i].s, x[i].len, payload);
				i++;
			} else {
				error = cb(STET_DIFF_ADD, y[j].s, y[j].len, payload);
				j++;
			}
		}
	} else {
		for (i = pre; i < na - suf && !error; i++)
			error = cb(STET_DIFF_DEL, a[i].s, a[i].len, payload);
		for (j = pre; j < nb - suf && !error; j++)
			error = cb(STET_DIFF_ADD, b[j].s, b[j].len, payload);
	}
	for (i = na - suf; i < na && !error; i++)
		error = cb(STET_DIFF_SAME, a[i].s, a[i].len, payload);
	free(t);
	return error;
}

int stet_diff_lines(const char *a, const char *b, stet_diff_cb cb, void *payload)
{
	span *la = NULL, *lb = NULL;
	size_t na = split_lines(&la, a), nb = split_lines(&lb, b);
	int error;

	if (na == (size_t)-1 || nb == (size_t)-1) {
		free(la);
		free(lb);
		return stet_error_oom();
	}
	error = lcs(la, na, lb, nb, cb, payload);
	free(la);
	free(lb);
	return error;
}

static size_t split_tokens(span **out, const char *s, size_t len)
{
	size_t n = 0, cap = 0, i = 0, adv;
	span *v = NULL;

	while (i < len) {
		int32_t c = stet_utf8_decode(s + i, len - i, &adv);
		size_t start = i, end = i + adv;
		int word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= 0xC0 && !stet_is_cjk_token(c) && !stet_is_space(c) && c < 0x2000);
		if (word || c == ' ') {
			while (end < len) {
				size_t a2;
				int32_t d = stet_utf8_decode(s + end, len - end, &a2);
				int w2 = (d >= '0' && d <= '9') || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
					 (d >= 0xC0 && !stet_is_cjk_token(d) && !stet_is_space(d) && d < 0x2000);
				if ((word && !w2) || (!word && d != ' '))
					break;
				end += a2;
			}
		}
		if (span_push(&v, &n, &cap, s + start, end - start) < 0) {
			*out = NULL;
			return (size_t)-1;
		}
		i = end;
	}
	*out = v;
	return n;
}

typedef struct {
	stet_diff_cb cb;
	void *payload;
	stet_diff_op op;
	const char *start;
	size_t len;
} merge_ctx;

/* adjacent tokens with the same op are reported as one run */
static int merge(stet_diff_op op, const char *s, size_t len, void *payload)
{
	merge_ctx *m = payload;
	int error = 0;

	if (m->len && (op != m->op || m->start + m->len != s))
		error = m->cb(m->op, m->start, m->len, m->payload), m->len = 0;
	if (!m->len) {
		m->op = op;
		m->start = s;
	}
	m->len += len;
	return error;
}

int stet_diff_inline(const char *a, size_t alen, const char *b, size_t blen, stet_diff_cb cb, void *payload)
{
	span *ta = NULL, *tb = NULL;
	size_t na = split_tokens(&ta, a, alen), nb = split_tokens(&tb, b, blen);
	merge_ctx m = { cb, payload, STET_DIFF_SAME, NULL, 0 };
	int error;

	if (na == (size_t)-1 || nb == (size_t)-1) {
		free(ta);
		free(tb);
		return stet_error_oom();
	}
	error = lcs(ta, na, tb, nb, merge, &m);
	if (!error && m.len)
		error = cb(m.op, m.start, m.len, payload);
	free(ta);
	free(tb);
	return error;
}
