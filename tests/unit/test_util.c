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

#include <utf8proc.h>

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

/* stet_unorm copies ASCII and CJK ideographs and gives the rest to
 * utf8proc: the result must be utf8proc_map's over the whole text */
static const int unorm_options[] = {
	UTF8PROC_STABLE | UTF8PROC_COMPOSE,                                                        /* canon */
	UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE, /* fp */
};

static void unorm_matches(const char *text, size_t len)
{
	size_t o;
	for (o = 0; o < STET_ARRAY_SIZE(unorm_options); o++) {
		stet_buf mine = STET_BUF_INIT;
		utf8proc_uint8_t *ref = NULL;
		utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &ref,
						  (utf8proc_option_t)unorm_options[o]);
		int error = stet_unorm(&mine, text, len, unorm_options[o], "text");
		if (n < 0) {
			assert_int_equal(error, STET_EINVALID);
		} else {
			assert_int_equal(error, 0);
			assert_int_equal(mine.size, (size_t)n);
			assert_memory_equal(mine.ptr, ref, (size_t)n);
		}
		free(ref);
		stet_buf_dispose(&mine);
	}
}

static void test_util__unorm_is_utf8proc_map(void **state)
{
	/* pieces that compose across an ASCII/other boundary or fold oddly:
	 * combining acute, dot below and long solidus overlay after ASCII,
	 * Kelvin sign, fullwidth A, the fi ligature, sharp s, soft hyphen
	 * (ignorable), Hangul L + V jamo, e-acute both ways, one half, CJK
	 * at both ends of the copied range and just outside it, a CJK
	 * compatibility ideograph, ideographic space, fullwidth 1, kana and
	 * the combining voiced mark, NBSP, a stray continuation byte */
	static const char *const piece[] = {
		"a", "E", "Z", "0", " ", "\n", "-", "e", "\xcc\x81", "\xcc\xa3", "\xcc\xb8", "\xe2\x84\xaa",
		"\xef\xbc\xa1", "\xef\xac\x81", "\xc3\x9f", "\xc2\xad", "\xe1\x84\x80", "\xe1\x85\xa1", "\xc3\xa9",
		"\xc3\x89", "\xc2\xbd", "\xe4\xb8\xad", "\xe4\xb8\x80", "\xe9\xbf\xbf", "\xe4\xb7\xbf",
		"\xef\xa4\x80", "\xe3\x80\x80", "\xef\xbc\x91", "\xe3\x81\x8b", "\xe3\x82\x99", "\xc2\xa0", "=",
		"\x80"};
	uint64_t rng = 88172645463325252ull;
	char text[256];
	int round;
	(void)state;
	for (round = 0; round < 20000; round++) {
		size_t len = 0, k, n;
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		n = rng % 24;
		for (k = 0; k < n; k++) {
			const char *p;
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			/* one text in ten may hold the stray byte (an error both ways) */
			p = piece[rng % (STET_ARRAY_SIZE(piece) - (round % 10 ? 1 : 0))];
			memcpy(text + len, p, strlen(p));
			len += strlen(p);
		}
		unorm_matches(text, len);
	}
	/* every CJK unified ideograph, before combining marks and after ASCII */
	for (round = 0x4E00; round <= 0x9FFF; round++) {
		utf8proc_ssize_t len = 1;
		text[0] = 'A';
		len += utf8proc_encode_char(round, (utf8proc_uint8_t *)text + 1);
		memcpy(text + len, "\xcc\x81\xcc\xa3" "A\xcc\x81", 7);
		unorm_matches(text, (size_t)len + 7);
	}
	/* a 4-byte lead before an ideograph's bytes is invalid, not copied */
	unorm_matches("\xe4\xb8\x80\xf0\xe5\xb8\x80" "a", 8);
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
		cmocka_unit_test(test_util__unorm_is_utf8proc_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
