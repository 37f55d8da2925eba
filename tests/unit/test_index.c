/* Unit tests of src/index and the fingerprints of src/fp: the simhash
 * index against a brute-force scan, postings, simhash and overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <xxhash.h>
#include <stdlib.h>
#include <string.h>

#include "stet/stet.h"
#include "xorshift.h"

#define SIMHASH_OF_STORY 0x68046cf7058994c5ull

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { return xorshift64(&rng); }

typedef struct {
	uint32_t ids[4096];
	int dist[4096];
	size_t n;
} hits;

static int collect(uint32_t id, uint64_t fp, int distance, void *payload)
{
	hits *h = payload;
	(void)fp;
	h->ids[h->n] = id;
	h->dist[h->n++] = distance;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void test_index__simhash_matches_brute_force(void **state)
{
	enum { N = 20000, Q = 300 };
	uint64_t *fps = malloc(N * sizeof(*fps));
	stet_simindex *ix = NULL;
	size_t i, q;
	(void)state;
	assert_int_equal(stet_simindex_new(&ix), 0);
	for (i = 0; i < N; i++) {
		/* clusters of near fingerprints, so that answers are not empty */
		fps[i] = i % 10 == 0 || i == 0 ? next() : fps[i - 1] ^ (1ull << (next() % 64)) ^ (i % 3 ? 0 : 1ull << (next() % 64));
		assert_int_equal(stet_simindex_add(ix, (uint32_t)i, fps[i]), 0);
	}
	for (q = 0; q < Q; q++) {
		uint64_t probe = q % 2 ? fps[next() % N] ^ (1ull << (next() % 64)) : next();
		int k = (int)(q % 4);
		hits got = { { 0 }, { 0 }, 0 }, want = { { 0 }, { 0 }, 0 };
		assert_int_equal(stet_simindex_query(ix, probe, k, collect, &got), 0);
		for (i = 0; i < N; i++)
			if (__builtin_popcountll(probe ^ fps[i]) <= k)
				want.ids[want.n++] = (uint32_t)i;
		qsort(got.ids, got.n, sizeof(got.ids[0]), cmp_u32);
		assert_int_equal(got.n, want.n);
		for (i = 0; i < got.n; i++)
			assert_int_equal(got.ids[i], want.ids[i]);
	}
	assert_int_equal(stet_simindex_count(ix), N);
	assert_int_equal(stet_simindex_query(ix, 0, 4, collect, NULL), STET_EUSAGE);
	stet_simindex_free(ix);
	free(fps);
}

static void test_index__postings(void **state)
{
	stet_postings *p = NULL;
	const uint32_t *ids;
	size_t n, i;
	(void)state;
	assert_int_equal(stet_postings_new(&p), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(stet_postings_add(p, i % 1000, (uint32_t)i), 0);
	assert_int_equal(stet_postings_add(p, 7, 4007), 0); /* the same id again: not twice */
	ids = stet_postings_get(p, 7, &n);
	assert_int_equal(n, 5);
	assert_int_equal(ids[0], 7);
	assert_int_equal(ids[4], 4007);
	assert_null(stet_postings_get(p, 123456, &n));
	assert_int_equal(n, 0);
	stet_postings_free(p);
}

static const char *story =
	"The harbour ferry resumed service on Monday after a two-year pause.\n"
	"Dr. Ana Ruiz, who chairs the port board, said 1,200 passengers rode it on the first day.\n\n"
	"\"We expected half that,\" Ruiz said.\n"
	"The board will add a second boat in August if demand holds.\n\n"
	"Tickets cost 2.50 dollars, as before, and the first boat leaves at 6.30 in the morning on weekdays.\n";

/* the simhash as docs/format.md defines it: each 3-token shingle's hash
 * votes +1 or -1 on each of 64 bits */
static uint64_t simhash_by_votes(const stet_tokens *t)
{
	int votes[64] = { 0 };
	size_t i, j, n = t->n >= 3 ? t->n - 2 : 0;
	uint64_t out = 0;
	int b;
	for (i = 0; i < n; i++) {
		uint64_t h = 0x9E3779B97F4A7C15ull;
		for (j = i; j < i + 3; j++)
			h = XXH3_64bits_withSeed(&t->v[j], sizeof(t->v[j]), h);
		for (b = 0; b < 64; b++)
			votes[b] += (h >> b) & 1 ? 1 : -1;
	}
	for (b = 0; b < 64; b++)
		if (votes[b] > 0)
			out |= 1ull << b;
	return out;
}

static void test_fp__simhash_is_the_vote(void **state)
{
	uint64_t seed = 0x51ba5;
	uint64_t v[1400];
	stet_tokens t;
	stet_fingerprint f;
	size_t n, i;
	(void)state;
	/* lengths across the counters' flush every 255 shingles; few
	 * distinct tokens too, so that votes tie, and one token repeated, so
	 * that every shingle votes the same */
	for (n = 0; n < 1400; n += 1 + n / 8) {
		for (i = 0; i < n; i++)
			v[i] = n % 2 ? 7 : n % 3 ? xorshift64(&seed) : xorshift64(&seed) % 3;
		t.v = v;
		t.n = n;
		assert_true(stet_fp_simhash(&t) == simhash_by_votes(&t));
	}
	/* pinned (docs/format.md, fingerprint version 1) */
	assert_int_equal(stet_fp_compute(&f, story), 0);
	assert_true(f.simhash == SIMHASH_OF_STORY);
	stet_fp_dispose(&f);
}

static void test_fp__simhash_is_near_for_edits(void **state)
{
	stet_fingerprint a, b, c;
	(void)state;
	assert_int_equal(stet_fp_compute(&a, story), 0);
	assert_int_equal(stet_fp_compute(&b, "The harbour ferry resumed service on Monday after a two-year pause.\n"
					  "Dr. Ana Ruiz, who chairs the port board, said 1,350 passengers rode it on the first day.\n\n"
					  "\"We expected half that,\" Ruiz said.\n"
					  "The board will add a second boat in August if demand holds.\n\n"
					  "Tickets cost 2.50 dollars, as before, and the first boat leaves at 6.30 in the morning on weekdays.\n"), 0);
	assert_int_equal(stet_fp_compute(&c, "Completely different words about a mountain village festival with music, "
					  "dancing, food stalls and a parade that lasted the whole night long until dawn came.\n"), 0);
	assert_false(a.too_short);
	assert_true(stet_fp_hamming(a.simhash, b.simhash) < stet_fp_hamming(a.simhash, c.simhash));
	assert_int_equal(a.nsent, 5);
	assert_int_equal(b.nsent, 5);
	assert_true(a.sent[0] == b.sent[0] && a.sent[1] != b.sent[1]);
	stet_fp_dispose(&a);
	stet_fp_dispose(&b);
	stet_fp_dispose(&c);
}

static void test_fp__exact_ignores_spacing_and_punctuation(void **state)
{
	char x[33], y[33], z[33];
	(void)state;
	assert_int_equal(stet_fp_exact(x, "前泽友作 给出 绕月之旅 候选者 名单。", strlen("前泽友作 给出 绕月之旅 候选者 名单。")), 0);
	assert_int_equal(stet_fp_exact(y, "前泽友作给出绕月之旅候选者名单", strlen("前泽友作给出绕月之旅候选者名单")), 0);
	assert_int_equal(stet_fp_exact(z, "前泽友作给出绕月之旅候选人名单", strlen("前泽友作给出绕月之旅候选人名单")), 0);
	assert_string_equal(x, y);
	assert_string_not_equal(x, z);
}

static int all_common(uint64_t s, void *payload)
{
	(void)s;
	(void)payload;
	return 1;
}

static int in_set(uint64_t s, void *payload)
{
	const uint64_t *set = payload;
	return s == set[0] || s == set[1] || s == set[2];
}

static void test_fp__overlap_leaves_boilerplate_out(void **state)
{
	const char *gallery = "A caption about the first photo in the gallery of the week.\n"
			      "A caption about the second photo in the gallery of the week.\n"
			      "A caption about the third photo in the gallery of the week.\n";
	stet_buf a = STET_BUF_INIT, b = STET_BUF_INIT;
	stet_fp_overlap o;
	stet_fingerprint f;
	(void)state;
	stet_buf_printf(&a, "%sStory one is about taxes and the budget of the city council this year.\n", gallery);
	stet_buf_printf(&b, "%sStory two is about a football match that went to extra time on Sunday.\n", gallery);
	/* whole texts: mostly the shared gallery */
	assert_int_equal(stet_fp_overlap_of(&o, a.ptr, b.ptr, NULL, NULL), 0);
	assert_true(o.containment > 0.6);
	/* gallery sentences as boilerplate: the stories differ */
	assert_int_equal(stet_fp_compute(&f, gallery), 0);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(stet_fp_overlap_of(&o, a.ptr, b.ptr, in_set, f.sent), 0);
	assert_true(o.containment < 0.2);
	assert_true(o.chars_a < 80);
	assert_int_equal(stet_fp_overlap_of(&o, a.ptr, b.ptr, all_common, NULL), 0);
	/* both all boilerplate: compared whole */
	assert_true(o.containment > 0.6);
	stet_fp_dispose(&f);
	stet_buf_dispose(&a);
	stet_buf_dispose(&b);
}

/* the 5-gram sets are sorted and made distinct (a radix sort past 64
 * hashes): exact counts, checked against a set built by hand */
/* fingerprints and the prepared text from one normalization of a body
 * are what stet_fp_compute and stet_fp_text_prepare give apart, and so are
 * tokens with the harsh text (stet_fp_tokens, stet_fp_normalize): random
 * bodies of lines that fold (full-width letters, ligatures, capitals,
 * CJK, punctuation, blank lines, lines too short for a sentence) */
static void test_fp__compute_text_is_both(void **state)
{
	static const char *const pieces[] = {
		"The council met on Tuesday", " ", "\n", "\n\n", "ＡＢＣ", "ﬁnance", "ÉCOLE", "Straße", "中文新闻报道",
		"，", "。", "42", "!", "ǅ", "x", "Ⅻ", "① ", "\xE2\x80\x8B", "ＸＹＺ１２３", "dépôt", "İstanbul"};
	uint64_t seed = 0xf00d;
	int round;
	(void)state;
	for (round = 0; round < 3000; round++) {
		stet_buf body = STET_BUF_INIT;
		stet_fingerprint f1, f2;
		stet_fp_text t1, t2;
		int k, n = (int)(xorshift64(&seed) % 40);
		size_t i;
		for (k = 0; k < n; k++)
			stet_buf_puts(&body, pieces[xorshift64(&seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
		stet_buf_puts(&body, "");
		assert_int_equal(stet_fp_compute(&f1, body.ptr), 0);
		assert_int_equal(stet_fp_text_prepare(&t1, body.ptr), 0);
		assert_int_equal(stet_fp_compute_text(&f2, &t2, body.ptr), 0);
		assert_string_equal(f1.exact, f2.exact);
		assert_true(f1.simhash == f2.simhash);
		assert_int_equal(f1.too_short, f2.too_short);
		assert_int_equal(f1.nsent, f2.nsent);
		for (i = 0; i < f1.nsent; i++)
			assert_true(f1.sent[i] == f2.sent[i]);
		assert_int_equal(t1.nlines, t2.nlines);
		assert_int_equal(t1.harsh.size, t2.harsh.size);
		if (t1.harsh.size)
			assert_memory_equal(t1.harsh.ptr, t2.harsh.ptr, t1.harsh.size);
		for (i = 0; i < t1.nlines; i++) {
			assert_int_equal(t1.end[i], t2.end[i]);
			assert_true(t1.hash[i] == t2.hash[i]);
		}
		{ /* tokens and the harsh text from one normalization */
			stet_tokens k1, k2;
			stet_buf h1 = STET_BUF_INIT, h2 = STET_BUF_INIT;
			assert_int_equal(stet_fp_tokens(&k1, body.ptr, body.size), 0);
			assert_int_equal(stet_fp_normalize(&h1, body.ptr, body.size), 0);
			assert_int_equal(stet_fp_tokens_harsh(&k2, &h2, body.ptr, body.size), 0);
			assert_int_equal(k1.n, k2.n);
			if (k1.n)
				assert_memory_equal(k1.v, k2.v, k1.n * sizeof(k1.v[0]));
			assert_int_equal(h1.size, h2.size);
			if (h1.size)
				assert_memory_equal(h1.ptr, h2.ptr, h1.size);
			/* what stet_fp_compute_text keeps for a grade: the same
			 * tokens, and its text's harsh is the same harsh text */
			assert_true(t2.have_tokens);
			assert_false(t1.have_tokens);
			assert_int_equal(t2.tokens.n, k1.n);
			if (k1.n)
				assert_memory_equal(t2.tokens.v, k1.v, k1.n * sizeof(k1.v[0]));
			assert_int_equal(t2.harsh.size, h1.size);
			if (h1.size)
				assert_memory_equal(t2.harsh.ptr, h1.ptr, h1.size);
			stet_tokens_dispose(&k1);
			stet_tokens_dispose(&k2);
			stet_buf_dispose(&h1);
			stet_buf_dispose(&h2);
		}
		stet_fp_dispose(&f1);
		stet_fp_dispose(&f2);
		stet_fp_text_dispose(&t1);
		stet_fp_text_dispose(&t2);
		stet_buf_dispose(&body);
	}
}

static void test_fp__overlap_counts_are_exact(void **state)
{
	stet_buf a = STET_BUF_INIT, b = STET_BUF_INIT;
	stet_fp_overlap o;
	int i;
	(void)state;
	/* a: the alphabet over and over, 800 letters (796 5-grams, 26 of them
	 * distinct); b: the first 200 of them. Every 5-gram of b is in a */
	for (i = 0; i < 800; i++)
		stet_buf_putc(&a, (char)('a' + (i % 400) % 26));
	for (i = 0; i < 200; i++)
		stet_buf_putc(&b, (char)('a' + i % 26));
	stet_buf_putc(&a, '\n');
	stet_buf_putc(&b, '\n');
	assert_int_equal(stet_fp_overlap_of(&o, a.ptr, a.ptr, NULL, NULL), 0);
	assert_true(o.jaccard == 1.0 && o.containment == 1.0);
	assert_int_equal(stet_fp_overlap_of(&o, a.ptr, b.ptr, NULL, NULL), 0);
	assert_true(o.containment == 1.0);
	stet_buf_dispose(&a);
	stet_buf_dispose(&b);
}

/* the distinct 5-letter substrings of s (one line of a-z), sorted */
static size_t grams_of(char (*out)[6], const char *s, size_t len)
{
	size_t i, j, m = 0;
	for (i = 0; i + 5 <= len; i++) {
		for (j = 0; j < m && memcmp(out[j], s + i, 5); j++)
			;
		if (j == m) {
			memcpy(out[m], s + i, 5);
			out[m++][5] = '\0';
		}
	}
	return m;
}

static void test_fp__overlap_matches_brute_force(void **state)
{
	/* random lines of lower-case letters (the harsh text as it is), from
	 * 4 letters (few distinct 5-grams, each many times) to 26 (most
	 * distinct), short and long (the 5-grams' sort takes another path
	 * past 64 values, and sorts a bucket of many by qsort): the overlap
	 * counts every distinct 5-gram once, as sets compared by hand do */
	static char ga[6000][6], gb[6000][6];
	uint64_t r = 0x5eedf00dULL;
	int round;
	(void)state;
	for (round = 0; round < 60; round++) {
		stet_buf a = STET_BUF_INIT, b = STET_BUF_INIT;
		size_t letters = round % 3 == 0 ? 4 : round % 3 == 1 ? 8 : 26;
		size_t la = 5 + xorshift64(&r) % (round < 30 ? 80 : 3000), lb = 5 + xorshift64(&r) % 3000;
		size_t na, nb, both = 0, i, j, share = xorshift64(&r) % (la < lb ? la : lb);
		stet_fp_overlap o;
		for (i = 0; i < la; i++)
			stet_buf_putc(&a, (char)('a' + xorshift64(&r) % letters));
		for (i = 0; i < lb; i++) /* b begins with a part of a: some 5-grams shared whatever the letters */
			stet_buf_putc(&b, i < share ? a.ptr[i] : (char)('a' + xorshift64(&r) % letters));
		na = grams_of(ga, a.ptr, la);
		nb = grams_of(gb, b.ptr, lb);
		for (i = 0; i < na; i++)
			for (j = 0; j < nb; j++)
				both += !strcmp(ga[i], gb[j]);
		stet_buf_putc(&a, '\n');
		stet_buf_putc(&b, '\n');
		assert_int_equal(stet_fp_overlap_of(&o, a.ptr, b.ptr, NULL, NULL), 0);
		assert_true(o.containment == (double)both / (double)(na < nb ? na : nb));
		assert_true(o.jaccard == (double)both / (double)(na + nb - both));
		stet_buf_dispose(&a);
		stet_buf_dispose(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index__simhash_matches_brute_force),
		cmocka_unit_test(test_index__postings),
		cmocka_unit_test(test_fp__simhash_is_near_for_edits),
		cmocka_unit_test(test_fp__simhash_is_the_vote),
		cmocka_unit_test(test_fp__exact_ignores_spacing_and_punctuation),
		cmocka_unit_test(test_fp__overlap_leaves_boilerplate_out),
		cmocka_unit_test(test_fp__overlap_counts_are_exact),
		cmocka_unit_test(test_fp__overlap_matches_brute_force),
		cmocka_unit_test(test_fp__compute_text_is_both),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
