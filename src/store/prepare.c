/*
 * What stet_archive_put() and stet_archive_observe() compute from an input
 * before they look at the archive: the key, the fingerprints, the text
 * prepared for verification (with its tokens, for a grade) and the
 * document hash. None of it needs the archive, so a
 * batch is prepared on several threads while the decisions and commits,
 * which must follow the archive's order, stay on one.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* the input as put will see it: with the run's source, if one is given */
static stet_canon as_put(const stet_canon *c_in, const char *source)
{
	stet_canon c = *c_in;
	if (source && *source)
		c.source = (char *)source;
	return c;
}

/* first pass: the key alone, so that the batch's versions of one article
 * are known before the second */
static stet_prepared *prepare_key(const stet_canon *c_in, const char *source)
{
	stet_canon c = as_put(c_in, source);
	stet_prepared *p = stet_calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->doc = (stet_buf)STET_BUF_INIT;
	if (stet_store_key(&p->key, &c, c.source) < 0) {
		stet_prepared_free(p);
		stet_error_clear(); /* put computes it again and reports the error */
		return NULL;
	}
	return p;
}

/* second pass: the rest; 0, or -1 with p to be dropped */
static int prepare_rest(stet_prepared *p, const stet_canon *c_in, const char *source)
{
	stet_canon c = as_put(c_in, source);

	if (canon_hash_doc(p->hash, &c, &p->doc) < 0 || stet_fp_compute_text(&p->fp, &p->text, c.body) < 0) {
		stet_error_clear(); /* put computes it again and reports the error */
		return -1;
	}
	p->have_text = 1;
	if (!p->graded) {
		stet_tokens_dispose(&p->text.tokens);
		p->text.have_tokens = 0;
	}
	return 0;
}

void stet_prepared_free(stet_prepared *p)
{
	if (!p)
		return;
	stet_fp_dispose(&p->fp);
	if (p->have_text)
		stet_fp_text_dispose(&p->text);
	stet_buf_dispose(&p->doc);
	free(p->key);
	free(p);
}

typedef struct {
	stet_prepared **out;
	stet_canon *const *in;
	const char *source;
} job;

static void key_one(size_t i, void *payload)
{
	job *j = payload;
	j->out[i] = j->in[i] ? prepare_key(j->in[i], j->source) : NULL;
}

static void rest_one(size_t i, void *payload)
{
	job *j = payload;
	if (j->out[i] && prepare_rest(j->out[i], j->in[i], j->source) < 0) {
		stet_prepared_free(j->out[i]);
		j->out[i] = NULL;
	}
}

static int by_key(const void *x, const void *y)
{
	const stet_prepared *a = *(stet_prepared *const *)x, *b = *(stet_prepared *const *)y;
	return strcmp(a->key, b->key);
}

/* A text's tokens serve only to grade it against another version of the
 * same article put in this run (commit.c): they are kept by the inputs
 * whose key another input of the batch has, and not by every input of a
 * batch until its turn (8 bytes a token: 25 MB for the corpus). An
 * article revised from an earlier run is graded from both bodies. Without
 * memory to sort, none is marked. */
static void mark_versions(stet_prepared **out, size_t n)
{
	stet_prepared **v = stet_malloc(n * sizeof(*v));
	size_t m = 0, i, j, k;

	if (!v) {
		stet_error_clear();
		return;
	}
	for (i = 0; i < n; i++)
		if (out[i])
			v[m++] = out[i];
	qsort(v, m, sizeof(*v), by_key);
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && !strcmp(v[i]->key, v[j]->key); j++)
			;
		for (k = i; j - i > 1 && k < j; k++)
			v[k]->graded = 1;
	}
	free(v);
}

void stet_archive_prepare(stet_prepared **out, stet_canon *const *c, size_t n, const char *source, int threads)
{
	job j = { out, c, source };
	stet_parallel_for(n, threads, key_one, &j);
	mark_versions(out, n);
	stet_parallel_for(n, threads, rest_one, &j);
}
