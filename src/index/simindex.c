/*
 * Multi-index hashing for 64-bit simhashes: four tables, one per 16-bit
 * block. A bucket (one per block value) holds, for each entry, the other
 * three blocks and the id (10 bytes), so a lookup reads four buckets
 * front to back and never jumps elsewhere in memory; an entry is reported
 * from the first table whose block it shares with the probe, so once.
 * About 40 bytes per entry, plus the buckets' spare room.
 */
#include "stet/index.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct __attribute__((packed)) {
	uint16_t rest[3]; /* the other blocks, in table order */
	uint32_t id;
} entry;

/* a bucket is one allocation, its counts in front; an empty one is NULL,
 * so the fixed cost is a pointer per block value */
typedef struct {
	uint32_t n, cap;
	entry v[];
} bucket;

struct stet_simindex {
	bucket **tables[4]; /* 65536 buckets each */
	size_t n;
};

int stet_simindex_new(stet_simindex **out)
{
	stet_simindex *ix = stet_calloc(1, sizeof(*ix));
	int t;

	*out = NULL;
	if (!ix)
		return stet_error_oom();
	for (t = 0; t < 4; t++)
		if (!(ix->tables[t] = stet_calloc(65536, sizeof(bucket *)))) {
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
			free(ix->tables[t][b]);
		free(ix->tables[t]);
	}
	free(ix);
}

static unsigned block(uint64_t fp, int t) { return (unsigned)((fp >> (16 * t)) & 0xFFFF); }

int stet_simindex_add(stet_simindex *ix, uint32_t id, uint64_t fp)
{
	int t, u, k;

	for (t = 0; t < 4; t++) {
		bucket **slot = &ix->tables[t][block(fp, t)], *b = *slot;
		if (!b || b->n == b->cap) {
			/* grow by an eighth: spare room is most of an index's overhead */
			uint32_t cap = b ? b->cap + b->cap / 8 + 4 : 4;
			bucket *nb = stet_realloc(b, sizeof(bucket) + cap * sizeof(entry));
			if (!nb)
				return stet_error_oom();
			if (!b)
				nb->n = 0;
			nb->cap = cap;
			*slot = b = nb;
		}
		for (u = 0, k = 0; u < 4; u++)
			if (u != t)
				b->v[b->n].rest[k++] = (uint16_t)block(fp, u);
		b->v[b->n++].id = id;
	}
	ix->n++;
	return 0;
}

int stet_simindex_query(const stet_simindex *ix, uint64_t fp, int k, stet_simindex_cb cb, void *payload)
{
	int t, u, j, r;
	uint32_t i;

	if (k < 0 || k > STET_SIMINDEX_MAX_K)
		return stet_error_set(STET_EUSAGE, "simhash distance %d is outside 0..%d", k, STET_SIMINDEX_MAX_K);
	for (t = 0; t < 4; t++) {
		const bucket *b = ix->tables[t][block(fp, t)];
		uint16_t want[3];
		if (!b)
			continue;
		for (u = 0, j = 0; u < 4; u++)
			if (u != t)
				want[j++] = (uint16_t)block(fp, u);
		for (i = 0; i < b->n; i++) {
			const entry *e = &b->v[i];
			int d = __builtin_popcount((unsigned)(e->rest[0] ^ want[0])) +
				__builtin_popcount((unsigned)(e->rest[1] ^ want[1])) +
				__builtin_popcount((unsigned)(e->rest[2] ^ want[2]));
			uint64_t other;
			int seen = 0;
			if (d > k)
				continue;
			/* reported from an earlier table if an earlier block matches */
			for (u = 0, j = 0; u < t; u++, j++)
				seen |= e->rest[j] == want[j];
			if (seen)
				continue;
			other = (uint64_t)block(fp, t) << (16 * t);
			for (u = 0, j = 0; u < 4; u++)
				if (u != t)
					other |= (uint64_t)e->rest[j++] << (16 * u);
			if ((r = cb(e->id, other, d, payload)) != 0)
				return r;
		}
	}
	return 0;
}

void stet_simindex_compact(stet_simindex *ix)
{
	int t;
	size_t b;
	for (t = 0; t < 4; t++)
		for (b = 0; b < 65536; b++) {
			bucket *k = ix->tables[t][b], *nk;
			if (!k || k->n == k->cap)
				continue;
			if ((nk = realloc(k, sizeof(bucket) + k->n * sizeof(entry)))) {
				nk->cap = nk->n;
				ix->tables[t][b] = nk;
			}
		}
}

size_t stet_simindex_count(const stet_simindex *ix) { return ix->n; }

size_t stet_simindex_bytes(const stet_simindex *ix)
{
	size_t bytes = sizeof(*ix) + 4 * 65536 * sizeof(bucket *), b;
	int t;
	for (t = 0; t < 4; t++)
		for (b = 0; b < 65536; b++)
			if (ix->tables[t][b])
				bytes += sizeof(bucket) + ix->tables[t][b]->cap * sizeof(entry);
	return bytes;
}
