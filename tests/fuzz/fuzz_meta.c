/* libFuzzer target: page metadata alone (charset sniffing and decoding,
 * <meta>, OpenGraph, article:*, <link rel=canonical>, JSON-LD), then the
 * canonicalizer's rules for what was found (dates, URL, title, authors).
 * Every string read must be valid UTF-8 without NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stet/stet.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s)
{
	if (s && !stet_utf8_valid(s, strlen(s), NULL))
		abort();
}

static void check_list(const stet_strlist *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		check(l->v[i]);
}

/* the canonicalizer's rules for what was found: each result valid, and a
 * rule applied to its own result changes nothing */
static void normalized(const stet_article *a)
{
	char *x = NULL, *y = NULL;
	long long t;

	if (a->published && stet_canon_date(&x, a->published) == 0 && x) {
		check(x);
		if (stet_canon_date_epoch(&t, x) < 0 || stet_canon_date(&y, x) < 0 || !y || strcmp(x, y))
			abort();
	}
	free(x);
	free(y);
	x = y = NULL;
	if (a->url && stet_canon_url(&x, a->url) == 0 && x) {
		check(x);
		if (stet_canon_url(&y, x) < 0 || !y || strcmp(x, y))
			abort();
	}
	free(x);
	free(y);
	x = y = NULL;
	if (a->title && stet_canon_title(&x, a->title, a->site) == 0 && x)
		check(x);
	free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stet_buf page = STET_BUF_INIT;
	stet_article *a = NULL;

	/* a page head: the fuzzer fills in the rest */
	stet_buf_puts(&page, "<html><head>");
	stet_buf_put(&page, data, size);
	if (stet_input_read(&a, "fuzz.html", page.ptr, page.size) == 0) {
		check(a->title);
		check(a->source);
		check(a->published);
		check(a->modified);
		check(a->url);
		check(a->site);
		check(a->description);
		check(a->ld_body);
		check_list(&a->authors);
		check_list(&a->tags);
		check_list(&a->categories);
		normalized(a);
	}
	stet_article_free(a);
	stet_buf_dispose(&page);
	return 0;
}
