/*
 * Fingerprints: the harsh normalization (utf8proc NFKC + case fold, then
 * letters and digits only), tokens (one per CJK character, one per run of
 * other letters/digits), the XXH3-128 exact fingerprint, and shingle
 * similarity. Everything here is a pure function of the canonical text.
 */
#include "stet/fp.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <utf8proc.h>
/* xxHash's own inline build (its header, the package's version): the
 * shingles hash 8 bytes at a time, millions of times a run, where a call
 * into the shared library cost more than the hash. The values are the
 * library's: XXH3 is fixed since xxHash 0.8.0 */
#define XXH_INLINE_ALL
#include <xxhash.h>

static int keep_cp(int32_t c)
{
	utf8proc_category_t cat = utf8proc_category(c);
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
	       (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* NFKC + case fold into a fresh buffer (util/unorm.c) */
static int fold(utf8proc_uint8_t **out, utf8proc_ssize_t *outlen, const char *text, size_t len)
{
	stet_buf b = STET_BUF_INIT;
	int error;

	*out = NULL;
	*outlen = 0;
	if (!len)
		return 0;
	if ((error = stet_unorm(&b, text, len,
				UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE,
				"fingerprint")) < 0) {
		stet_buf_dispose(&b);
		return error;
	}
	*outlen = (utf8proc_ssize_t)b.size;
	if (!(*out = (utf8proc_uint8_t *)stet_buf_detach(&b)))
		return stet_error_oom();
	return 0;
}

int stet_fp_normalize(stet_buf *out, const char *text, size_t len)
{
	utf8proc_uint8_t *f;
	utf8proc_ssize_t n, i = 0;
	int error;

	if ((error = fold(&f, &n, text, len)) < 0)
		return error;
	while (i < n) {
		int32_t c;
		utf8proc_ssize_t adv = utf8proc_iterate(f + i, n - i, &c);
		if (adv <= 0)
			break;
		if (keep_cp(c))
			stet_buf_put(out, f + i, (size_t)adv);
		i += adv;
	}
	free(f);
	return stet_buf_check(out, "fingerprint");
}

static int push(stet_tokens *t, size_t *cap, uint64_t h)
{
	if (t->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		uint64_t *v = stet_realloc(t->v, nc * sizeof(*v));
		if (!v)
			return stet_error_oom();
		t->v = v;
		*cap = nc;
	}
	t->v[t->n++] = h;
	return 0;
}

int stet_fp_tokens(stet_tokens *t, const char *text, size_t len) { return stet_fp_tokens_harsh(t, NULL, text, len); }

int stet_fp_tokens_harsh(stet_tokens *t, stet_buf *harsh, const char *text, size_t len)
{
	utf8proc_uint8_t *f;
	utf8proc_ssize_t n, i = 0, word = -1;
	size_t cap = 0;
	int error;

	t->v = NULL;
	t->n = 0;
	if ((error = fold(&f, &n, text, len)) < 0)
		return error;
	while (i < n && !error) {
		int32_t c;
		utf8proc_ssize_t adv = utf8proc_iterate(f + i, n - i, &c);
		if (adv <= 0)
			break;
		if (keep_cp(c) && !stet_is_cjk_token(c)) {
			if (word < 0)
				word = i;
		} else {
			if (word >= 0) {
				error = push(t, &cap, XXH3_64bits(f + word, (size_t)(i - word)));
				word = -1;
			}
			if (!error && keep_cp(c))
				error = push(t, &cap, XXH3_64bits(f + i, (size_t)adv));
		}
		if (harsh && keep_cp(c))
			stet_buf_put(harsh, f + i, (size_t)adv);
		i += adv;
	}
	if (!error && word >= 0)
		error = push(t, &cap, XXH3_64bits(f + word, (size_t)(n - word)));
	free(f);
	if (!error && harsh)
		error = stet_buf_check(harsh, "fingerprint");
	if (error < 0)
		stet_tokens_dispose(t);
	return error;
}

void stet_tokens_dispose(stet_tokens *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int stet_fp_exact(char out[33], const char *text, size_t len)
{
	stet_buf b = STET_BUF_INIT;
	XXH128_hash_t h;
	int error;

	if ((error = stet_fp_normalize(&b, text, len)) == 0) {
		h = XXH3_128bits(b.ptr, b.size);
		snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
	}
	stet_buf_dispose(&b);
	return error;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* sort v and drop repeats; returns how many are left. The values are
 * hashes, spread evenly over 64 bits: one pass puts each in a bucket of
 * its top bits (about two a bucket), then each bucket is sorted by
 * insertion, in a third of the time of the eight byte-wide passes of the
 * radix sort before (a tenth of the corpus run's one-core phase, where a
 * candidate's 5-grams are made for each article it is checked against).
 * A bucket of more than a few (one value repeated, or values made to
 * share their top bits) is sorted by qsort, so that no input costs more
 * than n log n. qsort alone for a few values, or when the scratch space
 * cannot be had. The result is the same either way. */
#define SORT_BUCKET_INSERT 16

static void sort_bucket(uint64_t *v, size_t n)
{
	size_t i, j;
	if (n > SORT_BUCKET_INSERT) {
		qsort(v, n, sizeof(*v), cmp_u64);
		return;
	}
	for (i = 1; i < n; i++) {
		uint64_t x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static size_t sort_unique(uint64_t *v, size_t n)
{
	unsigned bits = 4;
	uint32_t *end = NULL;
	uint64_t *tmp = NULL;
	size_t i, m = 0;

	while (bits < 20 && ((size_t)1 << bits) < n / 2)
		bits++;
	if (n > 64 && n < UINT32_MAX && (tmp = stet_malloc(n * sizeof(*tmp))) &&
	    (end = stet_calloc(((size_t)1 << bits) + 1, sizeof(*end)))) {
		unsigned shift = 64 - bits;
		size_t b, nb = (size_t)1 << bits;
		/* end[b + 1]: the count of bucket b, then where it starts; each
		 * value placed at its bucket's next place leaves end[b + 1] at
		 * the bucket's end */
		for (i = 0; i < n; i++)
			end[(v[i] >> shift) + 1]++;
		for (b = 1; b <= nb; b++)
			end[b] += end[b - 1];
		for (i = 0; i < n; i++)
			tmp[end[v[i] >> shift]++] = v[i];
		for (b = 0; b < nb; b++)
			sort_bucket(tmp + (b ? end[b - 1] : 0), end[b] - (b ? end[b - 1] : 0));
		memcpy(v, tmp, n * sizeof(*v));
	} else {
		if (n > 64)
			stet_error_clear(); /* no scratch space: qsort gives the same */
		qsort(v, n, sizeof(*v), cmp_u64);
	}
	free(tmp);
	free(end);
	for (i = 0; i < n; i++)
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
	return m;
}

/* sorted, de-duplicated shingle hashes; returns count or -1 */
static long shingles(uint64_t **out, const stet_tokens *t, int k)
{
	size_t n = t->n >= (size_t)k ? t->n - (size_t)k + 1 : (t->n ? 1 : 0), i, j, m = 0;
	uint64_t *v;

	*out = NULL;
	if (!n)
		return 0;
	if (!(v = stet_malloc(n * sizeof(*v))))
		return -1;
	for (i = 0; i < n; i++) {
		uint64_t h = 0x9E3779B97F4A7C15ull;
		for (j = i; j < i + (size_t)k && j < t->n; j++)
			h = (h ^ t->v[j]) * 0x100000001B3ull + (h >> 29);
		v[i] = h;
	}
	m = sort_unique(v, n);
	*out = v;
	return (long)m;
}

double stet_fp_similarity(const stet_tokens *a, const stet_tokens *b, int k)
{
	uint64_t *sa, *sb;
	long na = shingles(&sa, a, k), nb = shingles(&sb, b, k), i = 0, j = 0, both = 0;
	double sim;

	if (na < 0 || nb < 0) {
		free(sa);
		free(sb);
		return 0.0;
	}
	if (!na && !nb)
		return 1.0;
	while (i < na && j < nb) {
		if (sa[i] == sb[j]) {
			both++;
			i++;
			j++;
		} else if (sa[i] < sb[j]) {
			i++;
		} else {
			j++;
		}
	}
	sim = (double)both / (double)(na + nb - both);
	free(sa);
	free(sb);
	return sim;
}

/* ---- simhash, sentences, overlap ---- */

/* byte i of spread[x] is bit i of x: eight bits counted at once, a byte
 * each (flushed before a byte can overflow) */
static uint64_t spread[256];
static pthread_once_t spread_once = PTHREAD_ONCE_INIT;

static void spread_init(void)
{
	unsigned x, i;
	for (x = 0; x < 256; x++)
		for (i = 0; i < 8; i++)
			spread[x] |= (uint64_t)((x >> i) & 1) << (8 * i);
}

uint64_t stet_fp_simhash(const stet_tokens *t)
{
	size_t ones[64] = { 0 }; /* shingles with each bit set */
	uint64_t acc[8];
	size_t i, j, n = t->n >= 3 ? t->n - 2 : 0, pending = 0;
	uint64_t out = 0;
	int b, k;

	pthread_once(&spread_once, spread_init);
	memset(acc, 0, sizeof(acc));
	for (i = 0; i < n; i++) {
		uint64_t h = 0x9E3779B97F4A7C15ull;
		for (j = i; j < i + 3; j++)
			h = XXH3_64bits_withSeed(&t->v[j], sizeof(t->v[j]), h);
		for (k = 0; k < 8; k++)
			acc[k] += spread[(h >> (8 * k)) & 0xff];
		if (++pending == 255 || i + 1 == n) {
			for (k = 0; k < 8; k++)
				for (b = 0; b < 8; b++)
					ones[8 * k + b] += (acc[k] >> (8 * b)) & 0xff;
			memset(acc, 0, sizeof(acc));
			pending = 0;
		}
	}
	/* a bit is set when more shingles vote for it than against */
	for (b = 0; b < 64; b++)
		if (2 * ones[b] > n)
			out |= 1ull << b;
	return out;
}

int stet_fp_hamming(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

void stet_fp_dispose(stet_fingerprint *f)
{
	free(f->sent);
	memset(f, 0, sizeof(*f));
}

/* harsh normalization of one line, and its length in code points */
static int harsh_line(stet_buf *out, const char *s, size_t len, size_t *chars)
{
	int error;
	stet_buf_clear(out);
	if ((error = stet_fp_normalize(out, s, len)) < 0)
		return error;
	*chars = stet_utf8_len(out->ptr, out->size);
	return 0;
}

/* a line's harsh text onto a prepared text (stet_fp_text_prepare's line) */
static int text_line(stet_fp_text *t, size_t *cap, const stet_buf *line, size_t chars)
{
	if (t->nlines == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		size_t *e = stet_realloc(t->end, nc * sizeof(*e));
		uint64_t *h;
		if (!e)
			return stet_error_oom();
		t->end = e;
		if (!(h = stet_realloc(t->hash, nc * sizeof(*h))))
			return stet_error_oom();
		t->hash = h;
		*cap = nc;
	}
	stet_buf_put(&t->harsh, line->ptr, line->size);
	t->end[t->nlines] = t->harsh.size;
	t->hash[t->nlines++] = chars >= STET_FP_MIN_SENTENCE ? XXH3_64bits(line->ptr, line->size) : 0;
	return 0;
}

/*
 * All fingerprints from one pass over one NFKC + case-fold of the body:
 * the kept characters stream into the exact hash, into the current
 * line's sentence buffer, and into tokens; with `text`, each line's harsh
 * text into it as stet_fp_text_prepare gives it. (Folding never joins
 * across a line break, so this equals folding each line on its own.)
 */
int stet_fp_compute(stet_fingerprint *f, const char *body) { return stet_fp_compute_text(f, NULL, body); }

int stet_fp_compute_text(stet_fingerprint *f, stet_fp_text *text, const char *body)
{
	stet_tokens t = { 0 };
	stet_buf line = STET_BUF_INIT;
	utf8proc_uint8_t *fb;
	utf8proc_ssize_t n, i = 0, word = -1;
	size_t cap = 0, tcap = 0, chars = 0, lcap = 0;
	XXH3_state_t *st = NULL;
	XXH128_hash_t h;
	int error;

	memset(f, 0, sizeof(*f));
	if (text)
		memset(text, 0, sizeof(*text));
	if ((error = fold(&fb, &n, body, strlen(body))) < 0)
		return error;
	if (!(st = XXH3_createState()) || XXH3_128bits_reset(st) != XXH_OK) {
		error = stet_error_oom();
		goto done;
	}
	for (;;) {
		int32_t c = '\n';
		utf8proc_ssize_t adv = 0;
		int keep;
		if (i < n && (adv = utf8proc_iterate(fb + i, n - i, &c)) <= 0)
			break;
		keep = i < n && keep_cp(c);
		/* tokens */
		if (keep && !stet_is_cjk_token(c)) {
			if (word < 0)
				word = i;
		} else {
			if (word >= 0) {
				if ((error = push(&t, &tcap, XXH3_64bits(fb + word, (size_t)(i - word)))) < 0)
					goto done;
				word = -1;
			}
			if (keep && (error = push(&t, &tcap, XXH3_64bits(fb + i, (size_t)adv))) < 0)
				goto done;
		}
		if (keep) {
			stet_buf_put(&line, fb + i, (size_t)adv);
			chars++;
		} else if (c == '\n' || i >= n) {
			/* a line ends: its kept characters into the exact hash (a
			 * stream's hash does not depend on how it is cut), its
			 * sentence fingerprint */
			if (line.size && XXH3_128bits_update(st, line.ptr, line.size) != XXH_OK) {
				error = stet_error_oom();
				goto done;
			}
			if (chars >= STET_FP_MIN_SENTENCE) {
				if (f->nsent == cap) {
					size_t nc = cap ? cap * 2 : 32;
					uint64_t *v = stet_realloc(f->sent, nc * sizeof(*v));
					if (!v) {
						error = stet_error_oom();
						goto done;
					}
					f->sent = v;
					cap = nc;
				}
				f->sent[f->nsent++] = XXH3_64bits(line.ptr, line.size);
			}
			if (text && line.size && (error = text_line(text, &lcap, &line, chars)) < 0)
				goto done;
			stet_buf_clear(&line);
			chars = 0;
		}
		if (i >= n)
			break;
		i += adv;
	}
	if ((error = stet_buf_check(&line, "fingerprint")) < 0 ||
	    (text && (error = stet_buf_check(&text->harsh, "text")) < 0))
		goto done;
	h = XXH3_128bits_digest(st);
	snprintf(f->exact, sizeof(f->exact), "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
	f->too_short = t.n < STET_FP_MIN_TOKENS;
	f->simhash = f->too_short ? 0 : stet_fp_simhash(&t);
	if (text) { /* kept for a revision's grade (store/commit.c) */
		uint64_t *v = t.n && tcap > t.n ? stet_realloc(t.v, t.n * sizeof(*v)) : NULL;
		if (v) /* no more memory than the tokens take */
			t.v = v;
		text->tokens = t;
		text->have_tokens = 1;
		memset(&t, 0, sizeof(t));
	}
done:
	XXH3_freeState(st);
	free(fb);
	stet_tokens_dispose(&t);
	stet_buf_dispose(&line);
	if (error < 0) {
		stet_fp_dispose(f);
		if (text)
			stet_fp_text_dispose(text);
	}
	return error;
}

/* code point offsets are not needed: 5-grams over the UTF-8 of the harsh
 * text, aligned to code point starts */
static long grams5(uint64_t **out, const char *s, size_t len)
{
	size_t starts = 0, i, k, n = 0, m = 0;
	size_t *pos;
	uint64_t *v;

	*out = NULL;
	for (i = 0; i < len; i++)
		starts += ((unsigned char)s[i] & 0xC0) != 0x80;
	if (!starts)
		return 0;
	if (!(pos = stet_malloc((starts + 1) * sizeof(*pos))))
		return -1;
	for (i = 0, k = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			pos[k++] = i;
	pos[k] = len;
	n = starts >= 5 ? starts - 4 : 1;
	if (!(v = stet_malloc(n * sizeof(*v)))) {
		free(pos);
		return -1;
	}
	for (i = 0; i < n; i++) {
		size_t e = i + 5 <= starts ? pos[i + 5] : len;
		v[i] = XXH3_64bits(s + pos[i], e - pos[i]);
	}
	free(pos);
	m = sort_unique(v, n);
	*out = v;
	return (long)m;
}

int stet_fp_text_prepare(stet_fp_text *t, const char *body)
{
	stet_buf line = STET_BUF_INIT;
	const char *p = body;
	size_t chars, cap = 0;
	int error = 0;

	memset(t, 0, sizeof(*t));
	while (*p && !error) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if ((error = harsh_line(&line, p, n, &chars)) == 0 && line.size)
			error = text_line(t, &cap, &line, chars);
		p += n + (nl ? 1 : 0);
	}
	stet_buf_dispose(&line);
	if (!error)
		error = stet_buf_check(&t->harsh, "text");
	if (error)
		stet_fp_text_dispose(t);
	return error;
}

void stet_fp_text_dispose(stet_fp_text *t)
{
	stet_buf_dispose(&t->harsh);
	free(t->end);
	free(t->hash);
	stet_tokens_dispose(&t->tokens);
	memset(t, 0, sizeof(*t));
}

/* the harsh text without its common lines */
static void kept_text(stet_buf *kept, const stet_fp_text *t, stet_fp_common_cb common, void *payload)
{
	size_t i, start = 0;
	for (i = 0; i < t->nlines; i++) {
		if (!(common && t->hash[i] && common(t->hash[i], payload)))
			stet_buf_put(kept, t->harsh.ptr + start, t->end[i] - start);
		start = t->end[i];
	}
}

#define OVERLAP_MIN_CHARS 50

int stet_fp_overlap_of(stet_fp_overlap *out, const char *body_a, const char *body_b, stet_fp_common_cb common,
		       void *payload)
{
	stet_fp_text a, b;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = stet_fp_text_prepare(&a, body_a)) < 0)
		return error;
	if ((error = stet_fp_text_prepare(&b, body_b)) == 0)
		error = stet_fp_overlap_texts(out, &a, &b, common, payload);
	stet_fp_text_dispose(&a);
	stet_fp_text_dispose(&b);
	return error;
}

int stet_fp_side_prepare(stet_fp_side *s, const stet_fp_text *t, stet_fp_common_cb common, void *payload)
{
	int error;

	memset(s, 0, sizeof(*s));
	s->text = t;
	s->kept = (stet_buf)STET_BUF_INIT;
	kept_text(&s->kept, t, common, payload);
	if ((error = stet_buf_check(&s->kept, "text")) < 0) {
		stet_fp_side_dispose(s);
		return error;
	}
	s->kept_chars = stet_utf8_len(s->kept.ptr, s->kept.size);
	s->ngrams = s->nwhole = -1; /* not computed yet */
	return 0;
}

void stet_fp_side_dispose(stet_fp_side *s)
{
	stet_buf_dispose(&s->kept);
	free(s->grams);
	free(s->whole);
	memset(s, 0, sizeof(*s));
}

/* the side's 5-grams: of its kept text, or of its whole harsh text */
static int side_grams(const uint64_t **g, long *n, stet_fp_side *s, int whole)
{
	uint64_t **v = whole ? &s->whole : &s->grams;
	long *nv = whole ? &s->nwhole : &s->ngrams;
	const stet_buf *t = whole ? &s->text->harsh : &s->kept;

	if (*nv < 0 && (*nv = grams5(v, t->ptr, t->size)) < 0)
		return stet_error_oom();
	*g = *v;
	*n = *nv;
	return 0;
}

int stet_fp_overlap_sides(stet_fp_overlap *out, stet_fp_side *a, stet_fp_side *b)
{
	const uint64_t *ga, *gb;
	long na, nb, i = 0, j = 0, both = 0;
	int whole, error;

	memset(out, 0, sizeof(*out));
	/* both texts all boilerplate (one story reposted many times): compare
	 * them whole; one of them all boilerplate (a gallery beside articles
	 * that embed it): it shares no story with the other */
	whole = a->kept_chars < OVERLAP_MIN_CHARS && b->kept_chars < OVERLAP_MIN_CHARS;
	out->chars_a = whole ? stet_utf8_len(a->text->harsh.ptr, a->text->harsh.size) : a->kept_chars;
	out->chars_b = whole ? stet_utf8_len(b->text->harsh.ptr, b->text->harsh.size) : b->kept_chars;
	if ((error = side_grams(&ga, &na, a, whole)) < 0 || (error = side_grams(&gb, &nb, b, whole)) < 0)
		return error;
	while (i < na && j < nb) {
		if (ga[i] == gb[j]) {
			both++;
			i++;
			j++;
		} else if (ga[i] < gb[j]) {
			i++;
		} else {
			j++;
		}
	}
	if (na + nb - both > 0)
		out->jaccard = (double)both / (double)(na + nb - both);
	if (na && nb)
		out->containment = (double)both / (double)(na < nb ? na : nb);
	return 0;
}

int stet_fp_overlap_texts(stet_fp_overlap *out, const stet_fp_text *a, const stet_fp_text *b,
			  stet_fp_common_cb common, void *payload)
{
	stet_fp_side sa, sb;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = stet_fp_side_prepare(&sa, a, common, payload)) < 0)
		return error;
	if ((error = stet_fp_side_prepare(&sb, b, common, payload)) == 0) {
		error = stet_fp_overlap_sides(out, &sa, &sb);
		stet_fp_side_dispose(&sb);
	}
	stet_fp_side_dispose(&sa);
	return error;
}
