/*
 * Sentence postings: an open-addressing table from a sentence fingerprint
 * to the ids of the articles that hold it. The number of ids is the
 * sentence's document frequency, which tells boilerplate from story.
 */
#include "stet/index.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	uint64_t key;
	uint32_t *ids;
	uint32_t n, cap;
	int used;
} slot;

struct stet_postings {
	slot *slots;
	size_t nslots, used;
};

int stet_postings_new(stet_postings **out)
{
	stet_postings *p = stet_calloc(1, sizeof(*p));
	*out = NULL;
	if (!p || !(p->slots = stet_calloc(1024, sizeof(slot)))) {
		free(p);
		return stet_error_oom();
	}
	p->nslots = 1024;
	*out = p;
	return 0;
}

void stet_postings_free(stet_postings *p)
{
	size_t i;
	if (!p)
		return;
	for (i = 0; i < p->nslots; i++)
		free(p->slots[i].ids);
	free(p->slots);
	free(p);
}

static size_t find(const stet_postings *p, uint64_t key)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 7) & (p->nslots - 1);
	while (p->slots[i].used && p->slots[i].key != key)
		i = (i + 1) & (p->nslots - 1);
	return i;
}

static int grow(stet_postings *p)
{
	slot *old = p->slots;
	size_t n = p->nslots, i;

	if (!(p->slots = stet_calloc(n * 2, sizeof(slot)))) {
		p->slots = old;
		return stet_error_oom();
	}
	p->nslots = n * 2;
	for (i = 0; i < n; i++)
		if (old[i].used)
			p->slots[find(p, old[i].key)] = old[i];
	free(old);
	return 0;
}

int stet_postings_add(stet_postings *p, uint64_t sentence, uint32_t id)
{
	slot *s;
	size_t i;
	int error;

	if ((p->used + 1) * 2 > p->nslots && (error = grow(p)) < 0)
		return error;
	i = find(p, sentence);
	s = &p->slots[i];
	if (!s->used) {
		s->used = 1;
		s->key = sentence;
		p->used++;
	}
	if (s->n && s->ids[s->n - 1] == id)
		return 0; /* the same article twice in a row: a repeated sentence */
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 2;
		uint32_t *v = stet_realloc(s->ids, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		s->ids = v;
		s->cap = cap;
	}
	s->ids[s->n++] = id;
	return 0;
}

const uint32_t *stet_postings_get(const stet_postings *p, uint64_t sentence, size_t *n)
{
	size_t i = find(p, sentence);
	if (!p->slots[i].used) {
		*n = 0;
		return NULL;
	}
	*n = p->slots[i].n;
	return p->slots[i].ids;
}

size_t stet_postings_bytes(const stet_postings *p)
{
	size_t bytes = p->nslots * sizeof(slot), i;
	for (i = 0; i < p->nslots; i++)
		bytes += p->slots[i].cap * sizeof(uint32_t);
	return bytes;
}
