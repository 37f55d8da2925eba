/*
 * Sentence postings: an open-addressing table from a sentence fingerprint
 * to the ids of the articles that hold it. The number of ids is the
 * sentence's document frequency, which tells boilerplate from story.
 */
#include "stet/index.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* Most sentences are held by one article: up to two ids live in the slot
 * itself, without an allocation of their own. An empty slot has n == 0. */
typedef struct {
	uint64_t key;
	uint32_t n, cap; /* cap 2: the ids are inline */
	union {
		uint32_t in[2];
		uint32_t *ids;
	} u;
} slot;

struct stet_postings {
	slot *slots;
	size_t nslots, used;
};

static uint32_t *ids_of(slot *s) { return s->cap <= 2 ? s->u.in : s->u.ids; }

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
		if (p->slots[i].cap > 2)
			free(p->slots[i].u.ids);
	free(p->slots);
	free(p);
}

static size_t find(const stet_postings *p, uint64_t key)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 7) & (p->nslots - 1);
	while (p->slots[i].n && p->slots[i].key != key)
		i = (i + 1) & (p->nslots - 1);
	return i;
}

static int resize(stet_postings *p, size_t n)
{
	slot *old = p->slots;
	size_t on = p->nslots, i;

	if (!(p->slots = stet_calloc(n, sizeof(slot)))) {
		p->slots = old;
		return stet_error_oom();
	}
	p->nslots = n;
	for (i = 0; i < on; i++)
		if (old[i].n)
			p->slots[find(p, old[i].key)] = old[i];
	free(old);
	return 0;
}

int stet_postings_reserve(stet_postings *p, size_t keys)
{
	size_t n = p->nslots;
	while (n / 2 < keys && n < SIZE_MAX / 4)
		n *= 2;
	return n > p->nslots ? resize(p, n) : 0;
}

int stet_postings_add(stet_postings *p, uint64_t sentence, uint32_t id)
{
	slot *s;
	uint32_t *ids;
	int error;

	if ((p->used + 1) * 2 > p->nslots && (error = resize(p, p->nslots * 2)) < 0)
		return error;
	s = &p->slots[find(p, sentence)];
	if (!s->n) {
		s->key = sentence;
		s->cap = 2;
		s->u.in[0] = id;
		s->n = 1;
		p->used++;
		return 0;
	}
	ids = ids_of(s);
	if (ids[s->n - 1] == id)
		return 0; /* the same article twice in a row: a repeated sentence */
	if (s->n == s->cap) {
		uint32_t cap = s->cap * 2;
		uint32_t *v = s->cap > 2 ? stet_realloc(s->u.ids, cap * sizeof(*v)) : stet_malloc(cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		if (s->cap == 2)
			memcpy(v, s->u.in, sizeof(s->u.in));
		s->u.ids = v;
		s->cap = cap;
		ids = v;
	}
	ids[s->n++] = id;
	return 0;
}

const uint32_t *stet_postings_get(const stet_postings *p, uint64_t sentence, size_t *n)
{
	slot *s = &p->slots[find(p, sentence)];
	if (!s->n) {
		*n = 0;
		return NULL;
	}
	*n = s->n;
	return ids_of(s);
}

size_t stet_postings_bytes(const stet_postings *p)
{
	size_t bytes = p->nslots * sizeof(slot), i;
	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].cap > 2)
			bytes += p->slots[i].cap * sizeof(uint32_t);
	return bytes;
}
