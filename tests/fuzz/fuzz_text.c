/* libFuzzer target: the text rules and fingerprints on arbitrary bytes:
 * folding, sentences, dates, URLs, titles, fingerprints, overlap, diff. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stet/stet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ignore(stet_diff_op op, const char *s, size_t len, void *p)
{
	(void)op, (void)s, (void)len, (void)p;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *x = NULL, fp[33];
	stet_buf t = STET_BUF_INIT, sent = STET_BUF_INIT;
	stet_fingerprint f;
	stet_fp_overlap o;
	size_t half;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (memchr(data, 0, size)) /* the library takes C strings here */
		goto done;
	if (stet_canon_text(&t, s, size) == 0)
		stet_canon_sentences(&sent, t.ptr, t.size);
	stet_canon_is_furniture(s, size);
	if (stet_canon_date(&x, s) == 0)
		free(x);
	if (stet_canon_url(&x, s) == 0)
		free(x);
	if (stet_canon_title(&x, s, "site") == 0)
		free(x);
	stet_fp_exact(fp, s, size);
	if (stet_fp_compute(&f, s) == 0)
		stet_fp_dispose(&f);
	half = size / 2;
	{
		char *a = strndup(s, half), *b = strdup(s + half);
		if (a && b) {
			stet_fp_overlap_of(&o, a, b, NULL, NULL);
			stet_diff_lines(a, b, ignore, NULL);
			stet_diff_inline(a, strlen(a), b, strlen(b), ignore, NULL);
		}
		free(a);
		free(b);
	}
done:
	stet_buf_dispose(&t);
	stet_buf_dispose(&sent);
	free(s);
	return 0;
}
