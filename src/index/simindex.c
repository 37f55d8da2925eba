/*
 * Multi-index hashing for 64-bit simhashes: four tables, one per 16-bit
 * block, each a bucket per block value holding ids; the fingerprints live
 * once, in an id-ordered array. A query looks at four buckets and reports
 * an entry from the first table whose block it shares, so each entry is
 * reported once. Memory: 8 bytes of fingerprint and 4 x 4 bytes of ids per
 * entry, plus the bucket headers.
 */
#include "stet/index.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	uint32_t *ids;
	uint32_t n, cap;
} bucket;

struct stet_simindex {
	bucket *tables[4];   /* 65536 buckets each */
	uint64_t *fps;       /* by slot */
	uint32_t *slot_ids;  /* slot -> id */
	size_t n, cap;
};

int stet_simindex_new(stet_simindex **out)
{
	stet_simindex *ix = stet_calloc(1, sizeof(*ix));
	int t;

	*out = NULL;
	if (!ix)
		return stet_error_oom();
	for (t = 0; t < 4; t++)
		if (!(ix->tables[t] = stet_calloc(65536, sizeof(bucket)))) {
			stet_simindex_free(ix);
			return stet_error_oom();
		}
	*out = ix;
	return 0;
}

void stet_simindex_free(stet_simindex *ix)
{
	int t;
	size_t b;

	if (!ix)
		return;
	for (t = 0; t < 4; t++) {
		if (!ix->tables[t])
			continue;
		for (b = 0; b < 65536; b++)
			free(ix->tables[t][b].ids);
		free(ix->tables[t]);
	}
	free(ix->fps);
	free(ix->slot_ids);
	free(ix);
}

static unsigned block(uint64_t fp, int t) { return (unsigned)((fp >> (16 * t)) & 0xFFFF); }

int stet_simindex_add(stet_simindex *ix, uint32_t id, uint64_t fp)
{
	int t;

	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 1024;
		uint64_t *f = stet_realloc(ix->fps, cap * sizeof(*f));
		uint32_t *s;
		if (!f)
			return stet_error_oom();
		ix->fps = f;
		if (!(s = stet_realloc(ix->slot_ids, cap * sizeof(*s))))
			return stet_error_oom();
		ix->slot_ids = s;
		ix->cap = cap;
	}
	for (t = 0; t < 4; t++) {
		bucket *b = &ix->tables[t][block(fp, t)];
		if (b->n == b->cap) {
			uint32_t cap = b->cap ? b->cap * 2 : 4;
			uint32_t *v = stet_realloc(b->ids, cap * sizeof(*v));
			if (!v)
				return stet_error_oom();
			b->ids = v;
			b->cap = cap;
		}
		b->ids[b->n++] = (uint32_t)ix->n;
	}
	ix->fps[ix->n] = fp;
	ix->slot_ids[ix->n++] = id;
	return 0;
}

int stet_simindex_query(const stet_simindex *ix, uint64_t fp, int k, stet_simindex_cb cb, void *payload)
{
	int t, u, r;
	uint32_t i;

	if (k < 0 || k > STET_SIMINDEX_MAX_K)
		return stet_error_set(STET_EUSAGE, "simhash distance %d is outside 0..%d", k, STET_SIMINDEX_MAX_K);
	for (t = 0; t < 4; t++) {
		const bucket *b = &ix->tables[t][block(fp, t)];
		for (i = 0; i < b->n; i++) {
			uint64_t other = ix->fps[b->ids[i]];
			int d = __builtin_popcountll(fp ^ other), seen = 0;
			if (d > k)
				continue;
			for (u = 0; u < t && !seen; u++)
				seen = block(fp, u) == block(other, u);
			if (seen)
				continue; /* reported from an earlier table */
			if ((r = cb(ix->slot_ids[b->ids[i]], other, d, payload)) != 0)
				return r;
		}
	}
	return 0;
}

size_t stet_simindex_count(const stet_simindex *ix) { return ix->n; }

size_t stet_simindex_bytes(const stet_simindex *ix)
{
	size_t bytes = ix->cap * (sizeof(uint64_t) + sizeof(uint32_t)) + 4 * 65536 * sizeof(bucket);
	int t;
	size_t b;
	for (t = 0; t < 4; t++)
		for (b = 0; b < 65536; b++)
			bytes += ix->tables[t][b].cap * sizeof(uint32_t);
	return bytes;
}
