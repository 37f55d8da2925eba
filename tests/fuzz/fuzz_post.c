/* libFuzzer target: a post (front matter + body) read and canonicalized. */
#include <stddef.h>
#include <stdint.h>

#include "stet/stet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stet_article *a = NULL;
	stet_canon *c = NULL;
	stet_buf out = STET_BUF_INIT;

	if (stet_input_read(&a, "fuzz.md", (const char *)data, size) == 0 && stet_canon_new(&c, a) == 0) {
		stet_canon_write(&out, c);
		stet_canon_write_json(&out, c, "fuzz.md");
	}
	stet_buf_dispose(&out);
	stet_canon_free(c);
	stet_article_free(a);
	return 0;
}
