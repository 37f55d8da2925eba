/* Unit tests of src/store/snapshot.c: a snapshot written from entries
 * answers every lookup as a scan of those entries does (keys, paths,
 * sentence and exact postings in entry order, simhash within 3), and a
 * damaged file gives STET_ECORRUPT or is refused, never a wild read (run
 * under ASan in CI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "xorshift.h"

#define N 3000
#define POOL 400

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { return xorshift64(&rng); }

static keyent ents[N];
static uint64_t pool[POOL];
static char file[64];

static int view(const keyent **out, size_t i, keyent *scratch, void *payload)
{
	(void)scratch;
	(void)payload;
	*out = &ents[i];
	return 0;
}

static int setup(void **state)
{
	size_t i, j;
	char s[64];
	(void)state;
	for (i = 0; i < POOL; i++)
		pool[i] = next();
	for (i = 0; i < N; i++) {
		keyent *e = &ents[i];
		snprintf(s, sizeof(s), "site%zu.example/story/%zu", i % 7, i);
		e->key = strdup(s);
		snprintf(s, sizeof(s), "site-%zu/2021/01/01/story-%zu.md", i % 7, i);
		e->path = strdup(s);
		snprintf(s, sizeof(s), "Story %zu", i);
		e->title = strdup(s);
		e->kind = i % 10 == 9 ? KE_REPOST : KE_ARTICLE;
		e->distance = -1;
		if (i % 13 == 0) {
			e->near_of = strdup(ents[0].path);
			e->distance = 2;
			e->containment = 0.875;
		}
		snprintf(e->hash, sizeof(e->hash), "%016llx%016llx", (unsigned long long)next(), (unsigned long long)next());
		if (e->kind == KE_ARTICLE) {
			/* a few share a text (exact reposts), the rest do not */
			uint64_t x = i % 100 == 1 ? 42 : next();
			snprintf(e->fp.exact, sizeof(e->fp.exact), "%016llx%016llx", (unsigned long long)x,
				 (unsigned long long)x);
			e->fp.simhash = i % 50 == 3 ? ents[i - 1].fp.simhash ^ 5 : next();
			e->fp.too_short = i % 17 == 0;
			e->fp.nsent = 2 + i % 5;
			e->fp.sent = calloc(e->fp.nsent, sizeof(uint64_t));
			for (j = 0; j < e->fp.nsent; j++)
				e->fp.sent[j] = pool[next() % POOL];
		}
		if (i % 4 == 0) {
			e->nseen = 2;
			e->seen = calloc(2, sizeof(uint64_t));
			e->seen[0] = next();
			e->seen[1] = next();
		}
		for (j = 0; j < 20; j++)
			e->blob.id[j] = (unsigned char)next();
	}
	snprintf(file, sizeof(file), "/tmp/stet-test-snap-%d", (int)getpid());
	return snap_write(file, 0x1234, N, view, NULL);
}

static int teardown(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < N; i++) {
		free(ents[i].key);
		free(ents[i].path);
		free(ents[i].title);
		free(ents[i].near_of);
		free(ents[i].seen);
		stet_fp_dispose(&ents[i].fp);
	}
	unlink(file);
	return 0;
}

static int indexed(const keyent *e) { return e->kind == KE_ARTICLE && e->fp.exact[0]; }

static void entries_and_tables(void **state)
{
	snap *s;
	size_t i;
	(void)state;
	assert_int_equal(snap_open(&s, file), 0);
	assert_int_equal(snap_count(s), N);
	assert_true(snap_id(s) == 0x1234);
	for (i = 0; i < N; i++) {
		const keyent *e = &ents[i];
		const snap_ent *r;
		int64_t id;
		assert_int_equal(snap_get(&r, s, (uint32_t)i), 0);
		assert_string_equal(snap_str(s, r->key), e->key);
		assert_string_equal(snap_str(s, r->path), e->path);
		assert_string_equal(snap_str(s, r->title), e->title);
		assert_string_equal(r->near_of ? snap_str(s, r->near_of) : "", e->near_of ? e->near_of : "");
		assert_int_equal(r->kind, e->kind);
		assert_int_equal(r->distance, e->distance);
		assert_true(r->simhash == e->fp.simhash);
		assert_int_equal(r->too_short, e->fp.too_short);
		assert_string_equal(r->exact, e->fp.exact);
		assert_string_equal(r->hash, e->hash);
		assert_memory_equal(r->blob, e->blob.id, 20);
		assert_int_equal(r->nsent, e->fp.nsent);
		if (e->fp.nsent)
			assert_memory_equal(snap_num(s, r->sent), e->fp.sent, e->fp.nsent * 8);
		assert_int_equal(r->nseen, e->nseen);
		if (e->nseen)
			assert_memory_equal(snap_num(s, r->seen), e->seen, e->nseen * 8);
		assert_int_equal(snap_by_key(s, e->key, &id), 0);
		assert_int_equal(id, (int64_t)i);
		assert_int_equal(snap_by_path(s, e->path, &id), 0);
		assert_int_equal(id, e->kind == KE_ARTICLE ? (int64_t)i : -1);
	}
	{
		int64_t id;
		assert_int_equal(snap_by_key(s, "no.example/such", &id), 0);
		assert_int_equal(id, -1);
	}
	snap_close(s);
}

static void postings_as_a_scan(void **state)
{
	snap *s;
	size_t p, i, j, n, k;
	const uint32_t *ids;
	(void)state;
	assert_int_equal(snap_open(&s, file), 0);
	for (p = 0; p < POOL; p++) {
		assert_int_equal(snap_sentences(s, pool[p], &ids, &n), 0);
		for (i = 0, k = 0; i < N; i++)
			for (j = 0; indexed(&ents[i]) && j < ents[i].fp.nsent; j++)
				if (ents[i].fp.sent[j] == pool[p]) {
					assert_true(k < n);
					assert_int_equal(ids[k], i); /* entry order */
					k++;
				}
		assert_int_equal(k, n);
	}
	assert_int_equal(snap_sentences(s, 7, &ids, &n), 0);
	assert_int_equal(n, 0);
	for (i = 0; i < N; i++) {
		if (!indexed(&ents[i]))
			continue;
		assert_int_equal(snap_exacts(s, snap_exact64(ents[i].fp.exact), &ids, &n), 0);
		for (j = 0, k = 0; j < N; j++)
			if (indexed(&ents[j]) && !strncmp(ents[j].fp.exact, ents[i].fp.exact, 16))
				assert_int_equal(ids[k++], j);
		assert_int_equal(k, n);
	}
	snap_close(s);
}

typedef struct {
	int seen[N];
	int count;
	uint64_t probe;
} simhits;

static int sim_cb(uint32_t id, uint64_t fp, int distance, void *payload)
{
	simhits *h = payload;
	assert_true(id < N);
	assert_true(fp == ents[id].fp.simhash);
	assert_int_equal(distance, __builtin_popcountll(fp ^ h->probe));
	h->seen[id]++;
	h->count++;
	return 0;
}

static void simhash_as_a_scan(void **state)
{
	snap *s;
	size_t q, i;
	static simhits h;
	(void)state;
	assert_int_equal(snap_open(&s, file), 0);
	for (q = 0; q < 300; q++) {
		/* probes near an entry (0 to 4 bits off) and at random */
		uint64_t probe = q % 3 ? ents[next() % N].fp.simhash : next();
		int flips = (int)(q % 5), f;
		for (f = 0; f < flips; f++)
			probe ^= 1ull << (next() % 64);
		memset(&h, 0, sizeof(h));
		h.probe = probe;
		assert_int_equal(snap_sim_query(s, probe, 3, sim_cb, &h), 0);
		for (i = 0; i < N; i++) {
			int want = indexed(&ents[i]) && !ents[i].fp.too_short &&
				   __builtin_popcountll(probe ^ ents[i].fp.simhash) <= 3;
			if (h.seen[i] != want)
				print_message("entry %zu seen %d want %d kind %d short %d\n", i, h.seen[i], want, ents[i].kind, ents[i].fp.too_short);
			assert_int_equal(h.seen[i], want); /* each once */
		}
	}
	snap_close(s);
}

static int ok_or_corrupt(int r) { return r == 0 || r == STET_ECORRUPT; }

static int any_cb(uint32_t id, uint64_t fp, int distance, void *payload)
{
	(void)fp;
	(void)distance;
	(void)payload;
	return id < N ? 0 : -1; /* snap_sim_query checked it */
}

/* garbage at random places: refused at open, or every call answers
 * within the file (0 or STET_ECORRUPT); ASan watches the reads */
static void damage_is_caught(void **state)
{
	FILE *f = fopen(file, "rb");
	unsigned char *data;
	long size;
	int trial;
	char bad[80];
	(void)state;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)size);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	snprintf(bad, sizeof(bad), "%s.bad", file);
	for (trial = 0; trial < 300; trial++) {
		unsigned char *copy = malloc((size_t)size);
		long at = trial < 40 ? (long)(next() % 512) : (long)(next() % (uint64_t)size), k;
		snap *s;
		size_t i, n;
		const uint32_t *ids;
		int64_t id;
		memcpy(copy, data, (size_t)size);
		for (k = 0; k < 8 && at + k < size; k++)
			copy[at + k] = trial % 2 ? 0xFF : (unsigned char)next();
		f = fopen(bad, "wb");
		fwrite(copy, 1, (size_t)(trial % 7 == 0 ? size / 2 : size), f);
		fclose(f);
		free(copy);
		if (snap_open(&s, bad) != 0)
			continue; /* refused: the caller rebuilds */
		for (i = 0; i < N; i += 7) {
			const snap_ent *r;
			if (snap_get(&r, s, (uint32_t)i) == 0) {
				/* what snap_get let through is inside the file */
				size_t len = strlen(snap_str(s, r->key)) + strlen(snap_str(s, r->path));
				(void)len;
			}
			assert_true(ok_or_corrupt(snap_by_key(s, ents[i].key, &id)));
			assert_true(ok_or_corrupt(snap_by_path(s, ents[i].path, &id)));
			if (ents[i].fp.nsent) {
				assert_true(ok_or_corrupt(snap_sentences(s, ents[i].fp.sent[0], &ids, &n)));
				assert_true(ok_or_corrupt(snap_exacts(s, snap_exact64(ents[i].fp.exact), &ids, &n)));
			}
			assert_true(ok_or_corrupt(snap_sim_query(s, ents[i].fp.simhash, 3, any_cb, NULL)));
		}
		snap_close(s);
	}
	unlink(bad);
	free(data);
	stet_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_and_tables),
		cmocka_unit_test(postings_as_a_scan),
		cmocka_unit_test(simhash_as_a_scan),
		cmocka_unit_test(damage_is_caught),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
