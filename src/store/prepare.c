/*
 * What stet_archive_put() and stet_archive_observe() compute from an input
 * before they look at the archive: the fingerprints, the text prepared for
 * verification and the document hash. None of it needs the archive, so a
 * batch is prepared on several threads while the decisions and commits,
 * which must follow the archive's order, stay on one.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static stet_prepared *prepare_one(const stet_canon *c_in, const char *source)
{
	stet_canon c = *c_in;
	stet_prepared *p = stet_calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (source && *source)
		c.source = (char *)source;
	p->doc = (stet_buf)STET_BUF_INIT;
	if (canon_hash_doc(p->hash, &c, &p->doc) < 0 || stet_fp_compute_text(&p->fp, &p->text, c.body) < 0) {
		stet_prepared_free(p);
		stet_error_clear(); /* put computes it again and reports the error */
		return NULL;
	}
	p->have_text = 1;
	return p;
}

void stet_prepared_free(stet_prepared *p)
{
	if (!p)
		return;
	stet_fp_dispose(&p->fp);
	if (p->have_text)
		stet_fp_text_dispose(&p->text);
	stet_buf_dispose(&p->doc);
	free(p);
}

typedef struct {
	stet_prepared **out;
	stet_canon *const *in;
	const char *source;
} job;

static void one(size_t i, void *payload)
{
	job *j = payload;
	j->out[i] = j->in[i] ? prepare_one(j->in[i], j->source) : NULL;
}

void stet_archive_prepare(stet_prepared **out, stet_canon *const *c, size_t n, const char *source, int threads)
{
	job j = { out, c, source };
	stet_parallel_for(n, threads, one, &j);
}
