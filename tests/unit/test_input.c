/* Unit tests of src/input: format detection, posts, pages, charsets, and
 * the clear errors every malformed input must get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stet/stet.h"

static stet_article *read_ok(const char *text)
{
	stet_article *a = NULL;
	int error = stet_input_read(&a, "t.md", text, strlen(text));
	if (error)
		fail_msg("unexpected error: %s", stet_error_last());
	return a;
}

static void read_fails(const char *text, size_t len, int code, const char *msg)
{
	stet_article *a = NULL;
	assert_int_equal(stet_input_read(&a, "t.md", text, len), code);
	assert_null(a);
	if (!strstr(stet_error_last(), msg))
		fail_msg("message '%s' lacks '%s'", stet_error_last(), msg);
}

static void test_input__hexo_post(void **state)
{
	stet_article *a = read_ok("\n---\ntitle: 'T &#123;1&#125;'\ncategories: \n - 金融\n - 新浪财经\n"
				  "author: 新浪财经\ncomments: false\ndate: Invalid Date\n"
				  "headimg: 'https://picsum.photos/400/300?random=3'\n---\n\n<div><p>正文。</p></div>\n");
	(void)state;
	assert_int_equal(a->format, STET_FORMAT_POST);
	assert_string_equal(a->title, "T &#123;1&#125;");
	assert_int_equal(a->categories.n, 2);
	assert_string_equal(a->categories.v[1], "新浪财经");
	assert_string_equal(a->authors.v[0], "新浪财经");
	assert_string_equal(a->published, "Invalid Date");
	assert_int_equal(a->body_line, 13); /* where <div> stands */
	stet_article_free(a);
}

static void test_input__jekyll_furniture_is_skipped(void **state)
{
	stet_article *a = read_ok("---\nlayout: post\ntitle: \"X\"\nauthor: 路透\nfrom: https://a.example/x\n---\n"
				  "<!--1605333000000-->\n[X](https://a.example/x)\n------\n\n<div><p>Body.</p></div>\n");
	stet_canon *c = NULL;
	(void)state;
	assert_string_equal(a->url, "https://a.example/x");
	assert_int_equal(stet_canon_new(&c, a), 0);
	assert_string_equal(c->body, "Body.\n");
	stet_canon_free(c);
	stet_article_free(a);
}

static void test_input__bom_crlf_and_blank_lines(void **state)
{
	stet_article *a = read_ok("\xEF\xBB\xBF\r\n\r\n---\r\ntitle: CRLF\r\n---\r\n<p>Text here.</p>\r\n");
	(void)state;
	assert_string_equal(a->title, "CRLF");
	stet_article_free(a);
}

static void test_input__utf16_with_bom(void **state)
{
	const char *src = "---\ntitle: UTF16\n---\n<p>Hi.</p>\n";
	char out[256], *in = (char *)src, *o = out + 2;
	size_t inleft = strlen(src), oleft = sizeof(out) - 2;
	stet_article *a = NULL;
	iconv_t cd = iconv_open("UTF-16LE", "UTF-8");
	(void)state;
	out[0] = (char)0xFF;
	out[1] = (char)0xFE;
	iconv(cd, &in, &inleft, &o, &oleft);
	iconv_close(cd);
	assert_int_equal(stet_input_read(&a, "u16.md", out, (size_t)(o - out)), 0);
	assert_string_equal(a->title, "UTF16");
	stet_article_free(a);
}

static void test_input__unterminated_front_matter(void **state)
{
	(void)state;
	read_fails("\n\n---\ntitle: x\nbody\n", 20, STET_EINVALID, "t.md:3:1: front matter opened here has no closing");
}

static void test_input__yaml_error_has_line_and_column(void **state)
{
	(void)state;
	read_fails("---\ntitle: a\nbad: [1, 2\n---\nbody\n", 33, STET_EINVALID, "t.md:4:1: front matter:");
}

static void test_input__front_matter_not_a_mapping(void **state)
{
	(void)state;
	read_fails("---\n- a\n- b\n---\nbody\n", 21, STET_EINVALID, "t.md:2:1: front matter is not a mapping");
}

static void test_input__yaml_alias_bomb_is_harmless(void **state)
{
	const char *bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\ntags: *e\ntitle: Bomb\n---\n<p>Body text.</p>\n";
	stet_article *a = read_ok(bomb);
	(void)state;
	assert_string_equal(a->title, "Bomb");
	assert_int_equal(a->tags.n, 0); /* sequences of sequences are not tags */
	stet_article_free(a);
}

static void test_input__nul_and_empty_and_invalid_utf8(void **state)
{
	(void)state;
	read_fails("---\ntitle: a\0b\n---\n", 19, STET_EINVALID, "t.md: binary data (NUL byte at offset 12)");
	read_fails("", 0, STET_EINVALID, "t.md: empty input");
	read_fails("\n  \n", 4, STET_EINVALID, "t.md: empty input");
	read_fails("---\ntitle: \xFF\n---\nx\n", 19, STET_EINVALID, "t.md:2:8: invalid UTF-8");
	read_fails("plain \xFF text", 12, STET_EINVALID, "neither UTF-8 text nor an HTML page");
}

static void test_input__too_big(void **state)
{
	stet_article *a = NULL;
	(void)state;
	assert_int_equal(stet_input_read(&a, "big", "x", (size_t)STET_INPUT_MAX + 1), STET_ETOOBIG);
}

/* a file of n bytes that are not text, read through its descriptor */
static int read_sized(size_t n, int pipe_it)
{
	char name[] = "/tmp/stet-test-big.XXXXXX";
	stet_article *a = NULL;
	char *text = malloc(n);
	int fd = mkstemp(name), error, p[2];
	pid_t pid = 0;

	assert_non_null(text);
	assert_true(fd >= 0);
	memset(text, 0xFF, n); /* read whole, then refused as not text: quick */
	if (pipe_it) {
		/* standard input is a pipe: no size to go by */
		assert_int_equal(pipe(p), 0);
		if ((pid = fork()) == 0) {
			size_t done = 0;
			close(p[0]);
			while (done < n) {
				ssize_t w = write(p[1], text + done, n - done);
				if (w <= 0)
					_exit(1);
				done += (size_t)w;
			}
			_exit(0);
		}
		close(p[1]);
		close(fd);
		fd = p[0];
	} else {
		assert_int_equal(write(fd, text, n), (ssize_t)n);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	}
	error = stet_input_read_fd(&a, "big.txt", fd);
	close(fd);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	unlink(name);
	free(text);
	stet_article_free(a);
	return error;
}

/* the limit is the limit, however the bytes arrive: a file just under it
 * is read to its end and judged on what it holds (it was refused as too
 * big while the buffer grew by 64 KiB past it) */
static void test_input__limit_through_a_descriptor(void **state)
{
	(void)state;
	assert_int_equal(read_sized(STET_INPUT_MAX - 1000, 0), STET_EINVALID);
	assert_non_null(strstr(stet_error_last(), "neither UTF-8 text nor an HTML page"));
	assert_int_equal(read_sized(STET_INPUT_MAX, 1), STET_EINVALID);
	assert_int_equal(read_sized((size_t)STET_INPUT_MAX + 1, 0), STET_ETOOBIG);
	assert_non_null(strstr(stet_error_last(), "big.txt: larger than the limit of"));
	assert_int_equal(read_sized((size_t)STET_INPUT_MAX + 1, 1), STET_ETOOBIG);
}

static void test_input__page_metadata(void **state)
{
	stet_article *a = read_ok(
		"<!doctype html><html><head><title>Head title | Site</title>"
		"<meta property=\"og:title\" content=\"OG title\">"
		"<meta property=\"og:site_name\" content=\"Site\">"
		"<meta property=\"article:published_time\" content=\"2021-06-08T10:20:00+08:00\">"
		"<link rel=\"canonical\" href=\"https://EXAMPLE.com/a?utm_source=x\">"
		"<script type=\"application/ld+json\">{\"@graph\":[{\"@type\":\"NewsArticle\","
		"\"headline\":\"LD title\",\"author\":{\"name\":\"Ann\"},\"datePublished\":\"2021-06-07\"}]}</script>"
		"</head><body><p>Text.</p></body></html>");
	(void)state;
	assert_int_equal(a->format, STET_FORMAT_PAGE);
	assert_string_equal(a->title, "LD title");
	assert_string_equal(a->published, "2021-06-07");
	assert_string_equal(a->url, "https://EXAMPLE.com/a?utm_source=x");
	assert_string_equal(a->site, "Site");
	assert_string_equal(a->authors.v[0], "Ann");
	stet_article_free(a);
}

static void test_input__gbk_page_is_decoded(void **state)
{
	/* "<meta charset=gbk><p>中文</p>" with 中文 in GBK: D6 D0 CE C4 */
	const char page[] = "<html><head><meta charset=\"gbk\"><title>\xD6\xD0\xCE\xC4</title></head>"
			    "<body><p>\xD6\xD0\xCE\xC4</p></body></html>";
	stet_article *a = NULL;
	(void)state;
	assert_int_equal(stet_input_read(&a, "g.html", page, sizeof(page) - 1), 0);
	assert_string_equal(a->title, "中文");
	stet_article_free(a);
}

static void test_input__big5_and_shift_jis(void **state)
{
	const char big5[] = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">"
			    "<title>\xA4\xA4\xA4\xE5</title><p>x</p>"; /* 中文 */
	const char sjis[] = "<meta charset=\"Shift_JIS\"><title>\x93\xFA\x96\x7B</title><p>x</p>"; /* 日本 */
	stet_article *a = NULL;
	(void)state;
	assert_int_equal(stet_input_read(&a, "b.html", big5, sizeof(big5) - 1), 0);
	assert_string_equal(a->title, "中文");
	stet_article_free(a);
	assert_int_equal(stet_input_read(&a, "s.html", sjis, sizeof(sjis) - 1), 0);
	assert_string_equal(a->title, "日本");
	stet_article_free(a);
}

static void test_input__unknown_charset(void **state)
{
	const char page[] = "<meta charset=\"x-klingon\"><p>\xFF\xFE bytes</p>";
	const char ok[] = "<meta charset=\"x-klingon\"><title>fine</title><p>UTF-8 after all</p>";
	stet_article *a = NULL;
	(void)state;
	read_fails(page, sizeof(page) - 1, STET_EINVALID, "unknown character set 'x-klingon'");
	assert_int_equal(stet_input_read(&a, "k.html", ok, sizeof(ok) - 1), 0);
	assert_string_equal(a->title, "fine");
	stet_article_free(a);
}

static void test_input__markdown_body(void **state)
{
	stet_article *a = read_ok("---\ntitle: M\n---\n# Head\n\nSome *text* with a [link](http://x).\n"
				  "![img](http://i)\n\n- one\n- two\n\n> quoted\n");
	stet_canon *c = NULL;
	(void)state;
	assert_int_equal(stet_canon_new(&c, a), 0);
	assert_string_equal(c->body, "# Head\n\nSome text with a link.\n\n- one\n- two\n\n> quoted\n");
	stet_canon_free(c);
	stet_article_free(a);
}

static void test_input__external_entities_are_not_loaded(void **state)
{
	const char page[] = "<!DOCTYPE html [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
			    "<html><body><p>Before &xxe; after, and this is the text.</p></body></html>";
	stet_article *a = NULL;
	stet_canon *c = NULL;
	(void)state;
	assert_int_equal(stet_input_read(&a, "x.html", page, sizeof(page) - 1), 0);
	assert_int_equal(stet_canon_new(&c, a), 0);
	assert_null(strstr(c->body, "root:"));
	stet_canon_free(c);
	stet_article_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input__hexo_post),
		cmocka_unit_test(test_input__jekyll_furniture_is_skipped),
		cmocka_unit_test(test_input__bom_crlf_and_blank_lines),
		cmocka_unit_test(test_input__utf16_with_bom),
		cmocka_unit_test(test_input__unterminated_front_matter),
		cmocka_unit_test(test_input__yaml_error_has_line_and_column),
		cmocka_unit_test(test_input__front_matter_not_a_mapping),
		cmocka_unit_test(test_input__yaml_alias_bomb_is_harmless),
		cmocka_unit_test(test_input__nul_and_empty_and_invalid_utf8),
		cmocka_unit_test(test_input__too_big),
		cmocka_unit_test(test_input__limit_through_a_descriptor),
		cmocka_unit_test(test_input__page_metadata),
		cmocka_unit_test(test_input__gbk_page_is_decoded),
		cmocka_unit_test(test_input__big5_and_shift_jis),
		cmocka_unit_test(test_input__unknown_charset),
		cmocka_unit_test(test_input__markdown_body),
		cmocka_unit_test(test_input__external_entities_are_not_loaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
