/* libFuzzer target: an HTML page: charset, metadata (meta, og, JSON-LD),
 * extraction, and the canonical form of the canonical form. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stet/stet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stet_buf page = STET_BUF_INIT, doc = STET_BUF_INIT, again = STET_BUF_INIT;
	stet_article *a = NULL, *b = NULL;
	stet_canon *c = NULL, *d = NULL;

	/* always a page: start with markup */
	stet_buf_puts(&page, "<html>");
	stet_buf_put(&page, data, size);
	if (stet_input_read(&a, "fuzz.html", page.ptr, page.size) == 0 && stet_canon_new(&c, a) == 0 &&
	    stet_canon_write(&doc, c) == 0 && stet_input_read(&b, "canon.md", doc.ptr, doc.size) == 0 &&
	    stet_canon_new(&d, b) == 0 && stet_canon_write(&again, d) == 0) {
		/* the canonical form is idempotent: anything else is a bug */
		if (doc.size != again.size || memcmp(doc.ptr, again.ptr, doc.size))
			abort();
	}
	stet_canon_free(c);
	stet_canon_free(d);
	stet_article_free(a);
	stet_article_free(b);
	stet_buf_dispose(&page);
	stet_buf_dispose(&doc);
	stet_buf_dispose(&again);
	return 0;
}
