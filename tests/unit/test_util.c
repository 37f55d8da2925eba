/* Unit tests of src/util: buffers, UTF-8, JSON, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "util/json.h"

static void test_util__buf_appends_and_stays_terminated(void **state)
{
	stet_buf b = STET_BUF_INIT;
	(void)state;
	assert_string_equal(b.ptr, "");
	stet_buf_puts(&b, "abc");
	stet_buf_putc(&b, '-');
	stet_buf_printf(&b, "%d", 42);
	assert_string_equal(b.ptr, "abc-42");
	assert_int_equal(b.size, 6);
	stet_buf_truncate(&b, 2);
	assert_string_equal(b.ptr, "ab");
	assert_int_equal(stet_buf_check(&b, "x"), 0);
	stet_buf_dispose(&b);
	assert_string_equal(b.ptr, "");
}

static void test_util__buf_cap_is_sticky(void **state)
{
	stet_buf b;
	(void)state;
	stet_buf_init(&b, 4);
	stet_buf_puts(&b, "abc");
	stet_buf_puts(&b, "de");
	stet_buf_puts(&b, "f");
	assert_string_equal(b.ptr, "abc");
	assert_int_equal(stet_buf_check(&b, "input"), STET_ETOOBIG);
	assert_non_null(strstr(stet_error_last(), "input"));
	stet_buf_dispose(&b);
}

static void test_util__buf_detach_hands_over(void **state)
{
	stet_buf b = STET_BUF_INIT;
	char *s;
	(void)state;
	s = stet_buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
	stet_buf_puts(&b, "hello");
	s = stet_buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_int_equal(b.size, 0);
	free(s);
}

static void test_util__allocation_failure_is_reported(void **state)
{
	stet_buf b = STET_BUF_INIT;
	(void)state;
	stet_alloc_fail_after(0);
	assert_null(stet_strdup("x"));
	stet_alloc_fail_after(-1);
	stet_buf_puts(&b, "ok");
	assert_int_equal(stet_buf_check(&b, "x"), 0);
	stet_buf_dispose(&b);
}

static void test_util__utf8_decoding_is_strict(void **state)
{
	size_t adv;
	(void)state;
	assert_int_equal(stet_utf8_decode("\xE4\xB8\xAD", 3, &adv), 0x4E2D);
	assert_int_equal(adv, 3);
	assert_int_equal(stet_utf8_decode("\xC0\xAF", 2, &adv), -1);     /* overlong */
	assert_int_equal(stet_utf8_decode("\xED\xA0\x80", 3, &adv), -1); /* surrogate */
	assert_int_equal(stet_utf8_decode("\xE4\xB8", 2, &adv), -1);     /* truncated */
	assert_true(stet_utf8_valid("abc\xE4\xB8\xAD", 6, NULL));
	assert_false(stet_utf8_valid("ab\xFF", 3, &adv));
	assert_int_equal(adv, 2);
}

static void test_util__utf8_sanitize_replaces_bad_bytes(void **state)
{
	stet_buf b = STET_BUF_INIT;
	(void)state;
	stet_utf8_sanitize(&b, "a\xFFz\xE4\xB8\xAD", 6);
	assert_string_equal(b.ptr, "a\xEF\xBF\xBDz\xE4\xB8\xAD");
	stet_buf_dispose(&b);
}

static void test_util__utf8_cut_at_boundary(void **state)
{
	(void)state;
	/* "中文" is 6 bytes; cutting at 4 must not split a character */
	assert_int_equal(stet_utf8_cut("\xE4\xB8\xAD\xE6\x96\x87", 6, 4), 3);
	assert_int_equal(stet_utf8_cut("abc", 3, 10), 3);
}

static void test_util__cjk_classes(void **state)
{
	(void)state;
	assert_true(stet_is_cjk(0x4E2D));
	assert_true(stet_is_cjk(0x3042));
	assert_false(stet_is_cjk(0xAC00)); /* Hangul is spaced */
	assert_true(stet_is_cjk_token(0xAC00));
	assert_true(stet_is_space(0x3000));
	assert_true(stet_is_space(0xA0));
	assert_true(stet_is_invisible(0x200B));
	assert_false(stet_is_invisible('a'));
}

static void test_util__json_parses_nested_values(void **state)
{
	const char *text = "{\"a\": [1, \"x\\u4e2d\\ud83d\\ude00\", true, null], \"b\": {\"c\": \"d\"}}";
	json_value *v = NULL;
	(void)state;
	assert_int_equal(json_parse(&v, text, strlen(text)), 0);
	assert_int_equal(json_get(v, "a")->n, 4);
	assert_string_equal(json_str(json_get(v, "a")->items[1]), "x\xE4\xB8\xAD\xF0\x9F\x98\x80");
	assert_string_equal(json_str(json_get(json_get(v, "b"), "c")), "d");
	assert_null(json_get(v, "zz"));
	json_free(v);
}

/* found by fuzz_meta: an escaped multi-byte character came out as one
 * stray byte; a lone surrogate must not become CESU-8 */
static void test_util__json_escapes_stay_utf8(void **state)
{
	const char *text = "[\"a\\\xE4\xB8\xAD\\\"b\\/\", \"\\ud800x\", \"\\\\\"]";
	json_value *v = NULL;
	(void)state;
	assert_int_equal(json_parse(&v, text, strlen(text)), 0);
	assert_int_equal(v->n, 3);
	assert_string_equal(json_str(v->items[0]), "a\xE4\xB8\xAD\"b/");
	assert_string_equal(json_str(v->items[1]), "\xEF\xBF\xBDx");
	assert_string_equal(json_str(v->items[2]), "\\");
	json_free(v);
}

static void test_util__json_rejects_deep_nesting(void **state)
{
	char text[1000];
	json_value *v = NULL;
	(void)state;
	memset(text, '[', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(json_parse(&v, text, strlen(text)), STET_EINVALID);
	assert_non_null(strstr(stet_error_last(), "nested too deeply"));
	assert_null(v);
}

static void test_util__json_rejects_garbage(void **state)
{
	json_value *v = NULL;
	(void)state;
	assert_int_equal(json_parse(&v, "{\"a\": }", 7), STET_EINVALID);
	assert_int_equal(json_parse(&v, "\"abc", 4), STET_EINVALID);
	assert_int_equal(json_parse(&v, "[1] x", 5), STET_EINVALID);
}

static void test_util__json_writes_escaped_strings(void **state)
{
	stet_buf b = STET_BUF_INIT;
	(void)state;
	json_write_string(&b, "a\"b\\c\n\x01");
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\"");
	stet_buf_dispose(&b);
}

static void test_util__error_wrap_prefixes_context(void **state)
{
	(void)state;
	stet_error_set(STET_EINVALID, "bad thing");
	assert_int_equal(stet_error_wrap(STET_EINVALID, "file.md"), STET_EINVALID);
	assert_string_equal(stet_error_last(), "file.md: bad thing");
	assert_int_equal(stet_error_code(), STET_EINVALID);
	stet_error_clear();
	assert_string_equal(stet_error_last(), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util__buf_appends_and_stays_terminated),
		cmocka_unit_test(test_util__buf_cap_is_sticky),
		cmocka_unit_test(test_util__buf_detach_hands_over),
		cmocka_unit_test(test_util__allocation_failure_is_reported),
		cmocka_unit_test(test_util__utf8_decoding_is_strict),
		cmocka_unit_test(test_util__utf8_sanitize_replaces_bad_bytes),
		cmocka_unit_test(test_util__utf8_cut_at_boundary),
		cmocka_unit_test(test_util__cjk_classes),
		cmocka_unit_test(test_util__json_parses_nested_values),
		cmocka_unit_test(test_util__json_escapes_stay_utf8),
		cmocka_unit_test(test_util__json_rejects_deep_nesting),
		cmocka_unit_test(test_util__json_rejects_garbage),
		cmocka_unit_test(test_util__json_writes_escaped_strings),
		cmocka_unit_test(test_util__error_wrap_prefixes_context),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
