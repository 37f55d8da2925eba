/* Allocation failure: every allocation stet makes itself is failed in turn
 * while reading, canonicalizing and fingerprinting real inputs. Each run
 * must end in success or a clean STET_ENOMEM (with a message), never a
 * crash; under ASan, never a leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stet/stet.h"
#include "util/util.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static int pipeline(const char *name, const char *data, size_t len)
{
	stet_article *a = NULL;
	stet_canon *c = NULL;
	stet_fingerprint f;
	stet_buf out = STET_BUF_INIT;
	int error;

	if ((error = stet_input_read(&a, name, data, len)) == 0 && (error = stet_canon_new(&c, a)) == 0 &&
	    (error = stet_canon_write(&out, c)) == 0 && (error = stet_fp_compute(&f, c->body)) == 0)
		stet_fp_dispose(&f);
	stet_buf_dispose(&out);
	stet_canon_free(c);
	stet_article_free(a);
	return error;
}

static void run_file(const char *rel)
{
	char path[4096];
	const char *src = getenv("STET_SRC");
	size_t len = 0;
	char *data;
	long n;
	int error, ok_seen = 0;

	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
	data = slurp(path, &len);
	assert_non_null(data);
	for (n = 0; n < 20000 && !ok_seen; n++) {
		stet_error_clear();
		stet_alloc_fail_after(n);
		error = pipeline(rel, data, len);
		stet_alloc_fail_after(-1);
		if (error == 0) {
			ok_seen = 1; /* past the last allocation: done */
		} else if (error != STET_ENOMEM) {
			fail_msg("%s: allocation %ld failed gave %d (%s), not STET_ENOMEM", rel, n, error, stet_error_last());
		} else {
			assert_true(stet_error_last()[0] != '\0');
		}
	}
	assert_true(ok_seen);
	free(data);
}

static void test_alloc__post(void **state)
{
	(void)state;
	run_file("examples/hexo-library.md");
}

static void test_alloc__page(void **state)
{
	(void)state;
	run_file("examples/page-budget.html");
}

static void test_alloc__markdown(void **state)
{
	(void)state;
	run_file("tests/data/golden/markdown-post.md");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc__post),
		cmocka_unit_test(test_alloc__page),
		cmocka_unit_test(test_alloc__markdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
