/* Unit tests of src/canon: the text rules, sentences, metadata rules,
 * furniture, extraction and idempotence of the canonical form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "stet/stet.h"
#include "util/util.h"
#include "xorshift.h"
#include <utf8proc.h>

static char *text(const char *s)
{
	stet_buf b = STET_BUF_INIT;
	assert_int_equal(stet_canon_text(&b, s, strlen(s)), 0);
	return stet_buf_detach(&b);
}

static void check_text(const char *in, const char *want)
{
	char *got = text(in);
	assert_string_equal(got, want);
	free(got);
}

static void test_canon__whitespace_folds(void **state)
{
	(void)state;
	check_text("  a \t b\n\n c  ", "a b c");
	check_text("\xE3\x80\x80\xE3\x80\x80中文", "中文");             /* U+3000 indent */
	check_text("a\xC2\xA0\xC2\xA0" "b", "a b");                       /* NBSP */
	check_text("zero\xE2\x80\x8Bwidth", "zerowidth");                 /* U+200B */
	check_text("中文\n中文", "中文中文");                             /* line-wrap inside CJK */
	check_text("中文 中文", "中文 中文");                             /* a real space stays */
	check_text("IT之家 报道 5G", "IT之家 报道 5G");
}

/* the text rules one code point at a time, as stet_canon_text did before
 * its run of printable ASCII and its copy of the input's bytes: the
 * reference its output must equal */
static char *text_reference(const char *s, size_t len)
{
	stet_buf tmp = STET_BUF_INIT;
	size_t i = 0, adv;
	int32_t prev = 0, cp;
	int pending = 0, pending_nl = 0;
	utf8proc_uint8_t *nfc = NULL;
	while (i < len) {
		char enc[4];
		cp = stet_utf8_decode(s + i, len - i, &adv);
		i += adv;
		if (cp < 0)
			cp = 0xFFFD;
		if (stet_is_space(cp)) {
			pending = 1;
			pending_nl |= cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029;
			continue;
		}
		if (stet_is_invisible(cp))
			continue;
		if (pending && tmp.size && !(pending_nl && stet_is_cjk(prev) && stet_is_cjk(cp)))
			stet_buf_putc(&tmp, ' ');
		pending = pending_nl = 0;
		stet_buf_put(&tmp, enc, stet_utf8_encode(enc, cp));
		prev = cp;
	}
	if (tmp.size)
		assert_true(utf8proc_map((const utf8proc_uint8_t *)tmp.ptr, (utf8proc_ssize_t)tmp.size, &nfc,
					 UTF8PROC_STABLE | UTF8PROC_COMPOSE) >= 0);
	stet_buf_dispose(&tmp);
	return nfc ? (char *)nfc : strdup("");
}

/* random mixes of ASCII, spaces and controls, CJK, accents to compose,
 * U+FFFD itself, invalid and cut sequences: the same text as the
 * reference */
static void test_canon__text_as_the_reference(void **state)
{
	static const char *const pieces[] = {
		"a", "Word", "3.5", " ", "  ", "\t", "\n", "\r\n", "\f", "\v", "\x01", "\x7f", "中", "文。",
		"\xE3\x80\x80", "\xC2\xA0", "\xE2\x80\x8B", "\xEF\xBB\xBF", "e\xCC\x81", "\xCC\x81",
		"\xEF\xBF\xBD", "\xFF", "\xC3", "\xE4\xB8", "\xED\xA0\x80", "\xC0\xAF", "\xF0\x9F\x98\x80",
		"\xE2\x80\xA8", "\xC2\x85", "~", "!", "\xD0\x96"};
	uint64_t rng = 0x7e47;
	int round;
	(void)state;
	for (round = 0; round < 20000; round++) {
		stet_buf in = STET_BUF_INIT, got = STET_BUF_INIT;
		char *want;
		int k, n = (int)(xorshift64(&rng) % 12);
		for (k = 0; k < n; k++)
			stet_buf_puts(&in, pieces[xorshift64(&rng) % STET_ARRAY_SIZE(pieces)]);
		want = text_reference(in.ptr ? in.ptr : "", in.size);
		assert_int_equal(stet_canon_text(&got, in.ptr ? in.ptr : "", in.size), 0);
		assert_int_equal(got.size, strlen(want));
		if (got.size)
			assert_memory_equal(got.ptr, want, got.size);
		free(want);
		stet_buf_dispose(&in);
		stet_buf_dispose(&got);
	}
	check_text("a\xFF" "b", "a\xEF\xBF\xBD" "b");
	check_text("a\xEF\xBF\xBD" "b", "a\xEF\xBF\xBD" "b");
	check_text("x\x01y\fz", "xy z");
}

static void test_canon__nfc(void **state)
{
	(void)state;
	check_text("Cafe\xCC\x81", "Caf\xC3\xA9");
}

static void sentences(const char *para, const char *want)
{
	stet_buf b = STET_BUF_INIT;
	stet_canon_sentences(&b, para, strlen(para));
	assert_string_equal(b.ptr, want);
	stet_buf_dispose(&b);
}

static void test_canon__sentences_cjk(void **state)
{
	(void)state;
	sentences("他说：“我们来了。”然后走了。真的吗？是的！", "他说：“我们来了。”\n然后走了。\n真的吗？\n是的！\n");
	sentences("省略……接着说。", "省略……接着说。\n");
	sentences("结束了……下一句。", "结束了……下一句。\n");
	sentences("“我不知道……”他说。", "“我不知道……”\n他说。\n");
	sentences("数字3.5亿元。", "数字3.5亿元。\n");
}

static void test_canon__sentences_latin(void **state)
{
	(void)state;
	sentences("Dr. Smith arrived. He spoke at 3.30 p.m. today.", "Dr. Smith arrived.\nHe spoke at 3.30 p.m. today.\n");
	sentences("J. K. Rowling wrote it. The U.S. Senate agreed.", "J. K. Rowling wrote it.\nThe U.S. Senate agreed.\n");
	sentences("\"Stop!\" she said. Why? Because.", "\"Stop!\" she said.\nWhy?\nBecause.\n");
	sentences("It rose 2.5 percent. e.g. this stays.", "It rose 2.5 percent. e.g. this stays.\n");
}

static void check_date(const char *in, const char *want)
{
	char *got = NULL;
	assert_int_equal(stet_canon_date(&got, in), 0);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_canon__dates(void **state)
{
	(void)state;
	check_date("Tue, 08 Jun 2021 03:07:15 GMT", "2021-06-08T03:07:15Z");
	check_date("08 Jun 2021 11:07:15 +0800", "2021-06-08T03:07:15Z");
	check_date("2021-06-08T10:20:00+08:00", "2021-06-08T02:20:00Z");
	check_date("2020-11-14T05:50:00.000Z", "2020-11-14T05:50:00Z");
	check_date("2021-06-08", "2021-06-08T00:00:00Z");
	check_date("2021-06-08 10:20", "2021-06-08T10:20:00Z");
	check_date("2021年6月8日 10:20", "2021-06-08T10:20:00Z");
	check_date("1605333000000", "2020-11-14T05:50:00Z");
	check_date("1605333000", "2020-11-14T05:50:00Z");
	check_date("June 8, 2021", "2021-06-08T00:00:00Z");
	check_date("Invalid Date", NULL);
	check_date("", NULL);
	check_date("tomorrow", NULL);
	check_date("2021-13-45", NULL);
}

static void check_url(const char *in, const char *want)
{
	char *got = NULL;
	assert_int_equal(stet_canon_url(&got, in), 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_canon__urls(void **state)
{
	(void)state;
	check_url(" HTTPS://WWW.Example.COM:443/Path?utm_source=rss&id=7&spm=a.b#frag ",
		  "https://www.example.com/Path?id=7");
	check_url("http://example.com", "http://example.com/");
	check_url("http://example.com:8080/x?fbclid=1", "http://example.com:8080/x");
	check_url("urn:uuid:1234", "urn:uuid:1234");
	check_url("https://example.com/a\n b\tc?q=1 2", "https://example.com/a%20bc?q=1%202");
}

static void check_title(const char *in, const char *site, const char *want)
{
	char *got = NULL;
	assert_int_equal(stet_canon_title(&got, in, site), 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_canon__titles(void **state)
{
	(void)state;
	check_title("工信部：加强统筹 | 新浪财经", NULL, "工信部：加强统筹");
	check_title("某地发生大事_网易新闻", NULL, "某地发生大事");
	check_title("Storm hits coast - BBC News", NULL, "Storm hits coast");
	check_title("Budget passes | Example Gazette", "Example Gazette", "Budget passes");
	check_title("1+1=4 - an Excel bug in 2000 to 2010", NULL, "1+1=4 - an Excel bug in 2000 to 2010");
	check_title("自由亚洲｜中国宣布新的出口管制措施，涉及多种稀土和新闻纸", NULL,
		    "自由亚洲｜中国宣布新的出口管制措施，涉及多种稀土和新闻纸");
	check_title("  spaced\ttitle  ", NULL, "spaced title");
	check_title("示例新闻网_某市举行马拉松比赛 三万人参加", NULL, "某市举行马拉松比赛 三万人参加");
	check_title("德国之声 | 德国大选结果出炉", NULL, "德国大选结果出炉");
}

static void test_canon__furniture(void **state)
{
	static const char *const yes[] = { "责任编辑：王翔", "原标题：某某", "转载请注明出处", "- THE END -",
					   "海量资讯、精准解读，尽在新浪财经APP", "图片来源：视觉中国",
					   "Advertisement", "Photo: Getty Images", "（完）", NULL };
	static const char *const no[] = { "会议指出，当前我国5G网络建设步伐加快。", "The photo was taken in May.",
					  "来源：本文作者在长篇报道中说，这是一个很长的段落，讲述了事件的来龙去脉，"
					  "包括时间、地点和人物，以及许多其他细节，远远超过八十个字符，所以它不是来源行，"
					  "而是正文的一部分，必须保留。", NULL };
	size_t i;
	(void)state;
	for (i = 0; yes[i]; i++)
		if (!stet_canon_is_furniture(yes[i], strlen(yes[i])))
			fail_msg("'%s' should be furniture", yes[i]);
	for (i = 0; no[i]; i++)
		if (stet_canon_is_furniture(no[i], strlen(no[i])))
			fail_msg("'%s' should not be furniture", no[i]);
}

static stet_canon *canon_of(const char *doc)
{
	stet_article *a = NULL;
	stet_canon *c = NULL;
	if (stet_input_read(&a, "t.html", doc, strlen(doc)) || stet_canon_new(&c, a))
		fail_msg("canon failed: %s", stet_error_last());
	stet_article_free(a);
	return c;
}

/* found by fuzz_page: the writer took a title's own trailing dots for
 * libyaml's document end marker and cut them */
static void test_canon__title_ending_in_dots(void **state)
{
	stet_canon *c = canon_of("<html><head><title>Wait for it...</title></head><body>"
				 "<p>A story that is long enough to be the article, with commas, and a full stop.</p>"
				 "<p>...</p></body></html>");
	stet_buf out = STET_BUF_INIT;
	(void)state;
	assert_int_equal(stet_canon_write(&out, c), 0);
	assert_non_null(strstr(out.ptr, "\ntitle: Wait for it...\n---\n"));
	stet_buf_dispose(&out);
	stet_canon_free(c);
}

static void test_canon__page_boilerplate_goes(void **state)
{
	stet_canon *c = canon_of(
		"<html><head><title>Big story | Daily News</title></head><body>"
		"<nav><a href=/>Home</a><a href=/n>News</a></nav>"
		"<div class=\"share-bar\">Share on Facebook</div>"
		"<div class=\"article-body\"><h1>Big story</h1>"
		"<p>First paragraph of the story, long enough to count as article text, with commas, and more.</p>"
		"<p>Second paragraph, which also carries the story forward, with detail, names, and places.</p>"
		"<script>var x = 'not text';</script><style>p{}</style><!-- a comment -->"
		"<p>Third paragraph closes the piece, again long enough to be part of the body of the article.</p>"
		"</div><div class=\"related-links\"><a href=/x>Other story one</a><a href=/y>Other story two</a></div>"
		"<footer>Copyright 2021</footer></body></html>");
	(void)state;
	assert_string_equal(c->title, "Big story");
	assert_non_null(strstr(c->body, "First paragraph"));
	assert_non_null(strstr(c->body, "Third paragraph"));
	assert_null(strstr(c->body, "Share"));
	assert_null(strstr(c->body, "Home"));
	assert_null(strstr(c->body, "not text"));
	assert_null(strstr(c->body, "Other story"));
	assert_null(strstr(c->body, "Copyright"));
	assert_null(strstr(c->body, "# Big story"));
	stet_canon_free(c);
}

static void test_canon__structure_is_kept(void **state)
{
	stet_canon *c = canon_of("---\ntitle: S\n---\n<div><p>Lead.</p><h2>Part</h2><ul><li>One.</li><li>Two.</li></ul>"
				 "<blockquote>Said it. Twice.</blockquote><p>- not a list</p><p># not a heading</p>"
				 "<p><a href=x>Linked</a> words <img src=i.png> here.</p></div>");
	(void)state;
	assert_string_equal(c->body, "Lead.\n\n## Part\n\n- One.\n- Two.\n\n> Said it.\n> Twice.\n\n"
				     "\\- not a list\n\n\\# not a heading\n\nLinked words here.\n");
	stet_canon_free(c);
}

static void test_canon__lone_markers_are_escaped(void **state)
{
	stet_canon *c = canon_of("---\ntitle: S\n---\n<div><p>&gt;</p><p>-</p><p>#</p><p>\\</p></div>");
	(void)state;
	assert_string_equal(c->body, "\\>\n\n\\-\n\n\\#\n\n\\\\\n");
	stet_canon_free(c);
}

static void test_canon__idempotent(void **state)
{
	const char *docs[] = {
		"---\ntitle: 'T | 新浪财经'\nauthor: 新浪财经\ndate: 2021-06-08\n---\n<div><p>　　第一段。第二句！</p><h3>小标题</h3>"
		"<ul><li>甲。乙。</li></ul><blockquote>引用。</blockquote><p>- dash</p><pre>a  b\n\nc</pre></div>",
		"<html><head><title>A | B News</title><meta name=author content='By BY X'></head><body><article>"
		"<p>Some text that is long enough to be the article, and then some more of it.</p></article></body></html>",
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		stet_canon *c1 = canon_of(docs[i]), *c2;
		stet_buf w1 = STET_BUF_INIT, w2 = STET_BUF_INIT;
		assert_int_equal(stet_canon_write(&w1, c1), 0);
		c2 = canon_of(w1.ptr);
		assert_int_equal(stet_canon_write(&w2, c2), 0);
		assert_string_equal(w1.ptr, w2.ptr);
		stet_buf_dispose(&w1);
		stet_buf_dispose(&w2);
		stet_canon_free(c1);
		stet_canon_free(c2);
	}
}

static void test_canon__front_matter_is_yaml(void **state)
{
	stet_canon *c = canon_of("---\ntitle: \"Quote: 'x' and # hash\"\nauthor: 'a: b'\n---\n<p>Body.</p>");
	stet_buf w = STET_BUF_INIT;
	(void)state;
	assert_int_equal(stet_canon_write(&w, c), 0);
	assert_non_null(strstr(w.ptr, "---\ncanon: 1\ntitle: 'Quote: ''x'' and # hash'\nsource: 'a: b'\n---\nBody.\n"));
	stet_buf_dispose(&w);
	stet_canon_free(c);
}

static void test_canon__empty_body_is_an_error(void **state)
{
	stet_article *a = NULL;
	stet_canon *c = NULL;
	const char *doc = "---\ntitle: x\n---\n<div><script>x</script></div>\n";
	(void)state;
	assert_int_equal(stet_input_read(&a, "e.md", doc, strlen(doc)), 0);
	assert_int_equal(stet_canon_new(&c, a), STET_EINVALID);
	assert_string_equal(stet_error_last(), "e.md:4:1: no article text found");
	stet_article_free(a);
}

static void test_canon__media_only_post(void **state)
{
	stet_canon *c = canon_of("---\ntitle: G\n---\n<div><img src=\"https://x/1.jpg\"><video src=\"https://x/v.mp4\"></video></div>");
	(void)state;
	assert_string_equal(c->body, "[image] https://x/1.jpg\n\n[video] https://x/v.mp4\n");
	stet_canon_free(c);
}

static void test_canon__deep_nesting_is_bounded(void **state)
{
	stet_buf b = STET_BUF_INIT;
	stet_article *a = NULL;
	stet_canon *c = NULL;
	int i;
	(void)state;
	stet_buf_puts(&b, "<html><body><p>Shallow text that is long enough to be the body of an article.</p>");
	for (i = 0; i < 100000; i++)
		stet_buf_puts(&b, "<div>");
	stet_buf_puts(&b, "deep</body></html>");
	assert_int_equal(stet_input_read(&a, "deep.html", b.ptr, b.size), 0);
	assert_int_equal(stet_canon_new(&c, a), 0);
	assert_non_null(strstr(c->body, "Shallow text"));
	stet_canon_free(c);
	stet_article_free(a);
	stet_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon__whitespace_folds),
		cmocka_unit_test(test_canon__nfc),
		cmocka_unit_test(test_canon__text_as_the_reference),
		cmocka_unit_test(test_canon__sentences_cjk),
		cmocka_unit_test(test_canon__sentences_latin),
		cmocka_unit_test(test_canon__dates),
		cmocka_unit_test(test_canon__urls),
		cmocka_unit_test(test_canon__titles),
		cmocka_unit_test(test_canon__furniture),
		cmocka_unit_test(test_canon__page_boilerplate_goes),
		cmocka_unit_test(test_canon__structure_is_kept),
		cmocka_unit_test(test_canon__lone_markers_are_escaped),
		cmocka_unit_test(test_canon__idempotent),
		cmocka_unit_test(test_canon__title_ending_in_dots),
		cmocka_unit_test(test_canon__front_matter_is_yaml),
		cmocka_unit_test(test_canon__empty_body_is_an_error),
		cmocka_unit_test(test_canon__media_only_post),
		cmocka_unit_test(test_canon__deep_nesting_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
