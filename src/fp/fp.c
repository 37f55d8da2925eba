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
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>

static int keep_cp(int32_t c)
{
	utf8proc_category_t cat = utf8proc_category(c);
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
	       (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* NFKC + case fold into a fresh buffer */
static int fold(utf8proc_uint8_t **out, utf8proc_ssize_t *outlen, const char *text, size_t len)
{
	utf8proc_ssize_t r;

	*out = NULL;
	*outlen = 0;
	if (!len)
		return 0;
	r = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, out,
			 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
				 UTF8PROC_IGNORE);
	if (r < 0) {
		*out = NULL;
		return r == UTF8PROC_ERROR_NOMEM ? stet_error_oom()
						 : stet_error_set(STET_EINVALID, "fingerprint: %s", utf8proc_errmsg(r));
	}
	*outlen = r;
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

int stet_fp_tokens(stet_tokens *t, const char *text, size_t len)
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
		i += adv;
	}
	if (!error && word >= 0)
		error = push(t, &cap, XXH3_64bits(f + word, (size_t)(n - word)));
	free(f);
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
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
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

uint64_t stet_fp_simhash(const stet_tokens *t)
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

int stet_fp_compute(stet_fingerprint *f, const char *body)
{
	stet_tokens t = { 0 };
	stet_buf line = STET_BUF_INIT;
	const char *p = body;
	size_t cap = 0, chars;
	int error;

	memset(f, 0, sizeof(*f));
	if ((error = stet_fp_exact(f->exact, body, strlen(body))) < 0 ||
	    (error = stet_fp_tokens(&t, body, strlen(body))) < 0)
		goto done;
	f->too_short = t.n < STET_FP_MIN_TOKENS;
	f->simhash = f->too_short ? 0 : stet_fp_simhash(&t);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if ((error = harsh_line(&line, p, n, &chars)) < 0)
			goto done;
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
		p += n + (nl ? 1 : 0);
	}
done:
	stet_tokens_dispose(&t);
	stet_buf_dispose(&line);
	if (error < 0)
		stet_fp_dispose(f);
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
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
	*out = v;
	return (long)m;
}

/* harsh text of a body, without (or with) its common sentences */
static int harsh_body(stet_buf *kept, stet_buf *all, const char *body, stet_fp_common_cb common, void *payload)
{
	stet_buf line = STET_BUF_INIT;
	const char *p = body;
	size_t chars;
	int error = 0;

	while (*p && !error) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if ((error = harsh_line(&line, p, n, &chars)) == 0 && line.size) {
			stet_buf_put(all, line.ptr, line.size);
			if (!(common && chars >= STET_FP_MIN_SENTENCE && common(XXH3_64bits(line.ptr, line.size), payload)))
				stet_buf_put(kept, line.ptr, line.size);
		}
		p += n + (nl ? 1 : 0);
	}
	stet_buf_dispose(&line);
	if (!error && (error = stet_buf_check(kept, "text")) == 0)
		error = stet_buf_check(all, "text");
	return error;
}

#define OVERLAP_MIN_CHARS 50

int stet_fp_overlap_of(stet_fp_overlap *out, const char *body_a, const char *body_b, stet_fp_common_cb common,
		       void *payload)
{
	stet_buf ka = STET_BUF_INIT, aa = STET_BUF_INIT, kb = STET_BUF_INIT, ab = STET_BUF_INIT;
	uint64_t *ga = NULL, *gb = NULL;
	long na, nb, i = 0, j = 0, both = 0;
	const stet_buf *ta, *tb;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = harsh_body(&ka, &aa, body_a, common, payload)) < 0 ||
	    (error = harsh_body(&kb, &ab, body_b, common, payload)) < 0)
		goto done;
	ta = &ka;
	tb = &kb;
	/* both texts all boilerplate (one story reposted many times): compare
	 * them whole; one of them all boilerplate (a gallery beside articles
	 * that embed it): it shares no story with the other */
	if (stet_utf8_len(ka.ptr, ka.size) < OVERLAP_MIN_CHARS && stet_utf8_len(kb.ptr, kb.size) < OVERLAP_MIN_CHARS) {
		ta = &aa;
		tb = &ab;
	}
	out->chars_a = stet_utf8_len(ta->ptr, ta->size);
	out->chars_b = stet_utf8_len(tb->ptr, tb->size);
	if ((na = grams5(&ga, ta->ptr, ta->size)) < 0 || (nb = grams5(&gb, tb->ptr, tb->size)) < 0) {
		error = stet_error_oom();
		goto done;
	}
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
done:
	free(ga);
	free(gb);
	stet_buf_dispose(&ka);
	stet_buf_dispose(&aa);
	stet_buf_dispose(&kb);
	stet_buf_dispose(&ab);
	return error;
}
