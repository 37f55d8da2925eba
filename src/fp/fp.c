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
