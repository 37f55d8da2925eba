/* Unit tests of src/store/snapshot.c: a snapshot written from entries
 * answers every lookup as a scan of those entries does (keys, paths,
 * sentence and exact postings in entry order, simhash within 3), and a
 * damaged file gives STET_ECORRUPT or is refused, never a wild read (run
 * under ASan in CI). The same tests run again over a snapshot merged from
 * an older one of the first entries, some of them since changed; a merge
 * that changes nothing is the whole writer's file byte for byte, and one
 * that would leave too much dead is declined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "files.h"
#include "xorshift.h"

#define N 3000
#define POOL 400

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { return xorshift64(&rng); }

static keyent ents[N];
static uint64_t pool[POOL];
static char dir[64], file[80];

/* payload NULL: entry i; else entry i + *(size_t *)payload (a view of
 * the entries from there on, as a small snapshot's) */
static int view(const keyent **out, size_t i, keyent *scratch, void *payload)
{
	(void)scratch;
	*out = &ents[i + (payload ? *(const size_t *)payload : 0)];
	return 0;
}

static int teardown(void **state);
static int teardown_merged(void **state);

static void make_entries(void)
{
	size_t i, j;
	char s[64];
	memset(ents, 0, sizeof(ents)); /* what an earlier group freed */
	rng = 88172645463325252ull;
	for (i = 0; i < POOL; i++)
		pool[i] = next();
	/* two sentences whose keys share the directory bucket and the tag
	 * (the low 16 bits; docs/format.md), and a third like them that no
	 * entry has (postings_as_a_scan); the others are drawn from pool[3] on */
	pool[1] = pool[0] + (1ull << 16);
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
				e->fp.sent[j] = pool[3 + next() % (POOL - 3)];
			if (i % 3 == 0) /* a common sentence: its run is searched, not scanned */
				e->fp.sent[0] = pool[2];
			if (i >= 10 && i <= 12) /* the pair that shares a tag: short runs, scanned */
				e->fp.sent[1] = pool[i < 12];
			if (i % 11 == 5) /* a sentence twice: one posting (uniq_pairs) */
				e->fp.sent[e->fp.nsent - 1] = e->fp.sent[0];
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
	/* a directory of its own: the strings and numbers go beside the
	 * snapshots, in files named by their generation (docs/format.md) */
	snprintf(dir, sizeof(dir), "/tmp/stet-test-snap-%d", (int)getpid());
	(void)mkdir(dir, 0700);
	snprintf(file, sizeof(file), "%s/s", dir);
}

static int setup(void **state)
{
	(void)state;
	make_entries();
	return snap_write(file, NULL, 0x1234, N, view, NULL, NULL);
}

/* entries in the snapshot the merge starts from: 2600 keeps the string
 * tables' size (the old ones are copied), 2000 makes them grow (built
 * again) */
static size_t OLD = 2600;

static char oldfile[96];

static void set_title(keyent *e, const char *t)
{
	free(e->title);
	e->title = strdup(t);
}

/* an older snapshot of the first OLD entries, then changes to some of
 * them: texts, kinds (an article becomes a pointer and back), titles,
 * near-duplicate marks, earlier versions; the merge over it */
static int setup_merged(void **state)
{
	static uint32_t touched[N];
	snap *old;
	size_t i, j;
	int r;
	(void)state;
	make_entries();
	snprintf(oldfile, sizeof(oldfile), "%s.old", file);
	if (snap_write(oldfile, NULL, 0x99, OLD, view, NULL, NULL) < 0 || snap_open(&old, oldfile) != 0)
		return -1;
	for (i = 0; i < OLD; i++) {
		keyent *e = &ents[i];
		touched[i] = i % 3 == 0; /* looked at, mostly unchanged */
		if (i % 11 == 5 && e->kind == KE_ARTICLE) { /* a revision: another text */
			for (j = 0; j < e->fp.nsent; j++)
				e->fp.sent[j] = pool[3 + next() % (POOL - 3)];
			e->fp.simhash = next();
			snprintf(e->fp.exact, sizeof(e->fp.exact), "%016llx%016llx", (unsigned long long)next(), 7ull);
			touched[i] = 1;
		}
		if (i % 19 == 7) { /* an article found to be a repost, or the reverse */
			e->kind = e->kind == KE_ARTICLE ? KE_REPOST : KE_ARTICLE;
			if (e->kind == KE_ARTICLE && !e->fp.exact[0]) {
				snprintf(e->fp.exact, sizeof(e->fp.exact), "%016llx%016llx", 5ull, 5ull);
				e->fp.simhash = next();
			}
			touched[i] = 1;
		}
		if (i % 29 == 3) { /* another title, a near-duplicate mark */
			set_title(e, "A new title, longer than the old one");
			free(e->near_of);
			e->near_of = strdup(ents[1].path);
			e->distance = 4;
			e->containment = 0.5;
			touched[i] = 1;
		}
	}
	r = snap_merge(file, NULL, 0x1234, old, N, view, NULL, touched, NULL, 0, NULL, 1);
	snap_close(old);
	return r;
}

/* Three levels (docs/format.md): a big snapshot of the first 1800
 * entries, a small one over it of the next 700 (ids following, the same
 * generation of strings and numbers), then changes in both; the big
 * one's merge of everything takes the small one's unchanged entries as
 * they are (their strings and numbers stay where they are) */
static char topfile[96];

static int setup_levels(void **state)
{
	static uint32_t touched[N];
	const size_t A = 1800, B = 2500;
	snap_heap heap = { 0, 0, 0 };
	snap *big, *top;
	snap_src src;
	const snap_ent *r, *t;
	uint64_t nstr;
	size_t first = A, i;
	int error;
	(void)state;
	make_entries();
	snprintf(oldfile, sizeof(oldfile), "%s.old", file);
	snprintf(topfile, sizeof(topfile), "%s.top", file);
	if (snap_write(oldfile, NULL, 0x51, A, view, NULL, &heap) < 0 || heap.gen != 0x51 ||
	    snap_write(topfile, NULL, 0x52, B - A, view, &first, &heap) < 0 || heap.gen != 0x51 ||
	    snap_open(&big, oldfile) != 0 || snap_open(&top, topfile) != 0)
		return -1;
	for (i = 0; i < B; i += 97) { /* another title: in the big one, in the small one */
		set_title(&ents[i], "A title given later");
		touched[i] = 1;
	}
	touched[A + 3] = 1; /* looked at, unchanged */
	nstr = heap.nstr;
	src.s = top;
	src.first = A;
	error = snap_merge(file, NULL, 0x1234, big, N, view, NULL, touched, &src, 1, &heap, 1);
	/* the small one's unchanged entries where they were; its changed
	 * ones and the new ones appended */
	if (error == 0) {
		snap *s;
		if (snap_open(&s, file) != 0)
			return -1;
		for (i = A; i < B && !error; i++)
			if (snap_get(&r, s, (uint32_t)i) < 0 || snap_get(&t, top, (uint32_t)(i - A)) < 0 ||
			    (i % 97 != 0) != (r->key == t->key && r->title == t->title && r->sent == t->sent))
				error = -1;
		snap_close(s);
		if (heap.nstr <= nstr || heap.nstr - nstr > (N - B + B / 97 + 1) * 200)
			error = -1;
	}
	snap_close(big);
	snap_close(top);
	return error;
}

static int teardown_levels(void **state)
{
	unlink(topfile);
	return teardown_merged(state);
}

static int setup_grown(void **state)
{
	OLD = 2000;
	return setup_merged(state);
}

static int teardown_merged(void **state)
{
	unlink(oldfile);
	return teardown(state);
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
					break; /* once an article, however often it has it */
				}
		assert_int_equal(k, n);
	}
	assert_int_equal(snap_sentences(s, 7, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(snap_sentences(s, pool[0] + (2ull << 16), &ids, &n), 0); /* its tag, not its key */
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
	FILE *f;
	size_t size;
	unsigned char *data = read_whole(file, &size);
	int trial;
	char bad[96];
	(void)state;
	snprintf(bad, sizeof(bad), "%s.bad", file);
	for (trial = 0; trial < 300; trial++) {
		unsigned char *copy = malloc((size_t)size);
		size_t at = trial < 40 ? (size_t)(next() % 512) : (size_t)(next() % (uint64_t)size), k;
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

/* the file's header: where version 5 names its generation (the
 * fields after magic .. stag: 440 bytes; docs/format.md) */
#define HEAP_FIELD 440

/* the merge over old of all N entries (touched: old ids looked at) is
 * the whole writer's file byte for byte but the generation it names
 * (old's; the whole one's is new), and the two generations' strings and
 * numbers are the same bytes */
static void assert_merge_is_whole(const snap *old, const uint32_t *touched, uint64_t oldgen)
{
	char whole[96], merged[96], a[96], b[96];
	unsigned char *w, *m;
	size_t nw, nm;
	int k;
	uint64_t gen;
	snprintf(whole, sizeof(whole), "%s.whole", file);
	snprintf(merged, sizeof(merged), "%s.merged", file);
	assert_int_equal(snap_merge(merged, NULL, 0x77, old, N, view, NULL, touched, NULL, 0, NULL, 1), 0);
	assert_int_equal(snap_write(whole, NULL, 0x77, N, view, NULL, NULL), 0);
	assert_non_null(w = read_whole(whole, &nw));
	assert_non_null(m = read_whole(merged, &nm));
	assert_int_equal(nw, nm);
	memcpy(&gen, m + HEAP_FIELD, 8);
	assert_int_equal(gen, oldgen);
	memcpy(&gen, w + HEAP_FIELD, 8);
	assert_int_equal(gen, 0x77);
	memcpy(m + HEAP_FIELD, &gen, 8);
	assert_memory_equal(w, m, nw);
	free(w);
	free(m);
	for (k = 0; k < 2; k++) {
		snprintf(a, sizeof(a), "%s/%s-%016llx", dir, k ? "numbers" : "strings", 0x77ull);
		snprintf(b, sizeof(b), "%s/%s-%016llx", dir, k ? "numbers" : "strings", (unsigned long long)oldgen);
		assert_non_null(w = read_whole(a, &nw));
		assert_non_null(m = read_whole(b, &nm));
		assert_int_equal(nw, nm);
		assert_memory_equal(w, m, nw);
		free(w);
		free(m);
	}
	unlink(whole);
	unlink(merged);
}

/* with nothing changed and nothing dead, a merge is the whole file */
static void merge_of_nothing_is_whole(void **state)
{
	static uint32_t touched[N];
	snap *old;
	size_t i;
	(void)state;
	for (i = 0; i < OLD; i++)
		touched[i] = i % 2; /* looked at, unchanged */
	assert_int_equal(snap_write(oldfile, NULL, 0x9a, OLD, view, NULL, NULL), 0);
	assert_int_equal(snap_open(&old, oldfile), 0);
	assert_merge_is_whole(old, touched, 0x9a);
	snap_close(old);
}

/* The snapshot in `file` as version 4 wrote it (docs/format.md): a
 * header of 440 bytes, and the strings and numbers in sections of the
 * file's own after the entries, the other sections moved after them */
static unsigned char *as_version_4(size_t *size)
{
	unsigned char *v5, *v4, *str, *num;
	uint64_t off, len, gen, hstr, hnum, e, at, delta;
	size_t n5, nstr, nnum, k;
	uint32_t version = 4;
	char name[96];

	assert_non_null(v5 = read_whole(file, &n5));
	memcpy(&gen, v5 + HEAP_FIELD, 8);
	memcpy(&hstr, v5 + HEAP_FIELD + 8, 8);
	memcpy(&hnum, v5 + HEAP_FIELD + 16, 8);
	snprintf(name, sizeof(name), "%s/strings-%016llx", dir, (unsigned long long)gen);
	assert_non_null(str = read_whole(name, &nstr));
	snprintf(name, sizeof(name), "%s/numbers-%016llx", dir, (unsigned long long)gen);
	assert_non_null(num = read_whole(name, &nnum));
	assert_true(nstr >= hstr && nnum >= hnum * 8);
	memcpy(&e, v5 + 48 + 8, 8); /* S_ENT's size; it starts after the header (464 bytes) */
	delta = (HEAP_FIELD - 464) + (hstr + 7) / 8 * 8 + hnum * 8;
	*size = (size_t)(n5 + delta);
	assert_non_null(v4 = calloc(1, *size));
	memcpy(v4, v5, HEAP_FIELD);
	memcpy(v4 + 8, &version, 4);
	for (k = 0; k < 23 + 1; k++) { /* the sections, then the tags (after the dead bytes' count) */
		size_t field = k < 23 ? 48 + k * 16 : 48 + 23 * 16 + 8;
		memcpy(&off, v4 + field, 8);
		memcpy(&len, v4 + field + 8, 8);
		if (k == 0)
			off = HEAP_FIELD;
		else if (k == 1)
			off = HEAP_FIELD + e, len = hstr;
		else if (k == 2)
			off = HEAP_FIELD + e + (hstr + 7) / 8 * 8, len = hnum * 8;
		else
			off += delta;
		memcpy(v4 + field, &off, 8);
		memcpy(v4 + field + 8, &len, 8);
	}
	at = HEAP_FIELD;
	memcpy(v4 + at, v5 + 464, e);
	memcpy(v4 + at + e, str, hstr);
	memcpy(v4 + at + e + (hstr + 7) / 8 * 8, num, hnum * 8);
	memcpy(v4 + at + e + (hstr + 7) / 8 * 8 + hnum * 8, v5 + 464 + e, n5 - 464 - e);
	free(v5);
	free(str);
	free(num);
	return v4;
}

/* A version 4 snapshot reads as version 5 does; a merge over it is
 * declined (written whole, its strings and numbers into a generation) */
static void reads_version_4(void **state)
{
	static uint32_t touched[N];
	char v4[96], merged[96];
	unsigned char *data;
	size_t size, i;
	int64_t id;
	FILE *f;
	snap *s, *s5;
	(void)state;
	data = as_version_4(&size);
	snprintf(v4, sizeof(v4), "%s.v4", file);
	assert_non_null(f = fopen(v4, "wb"));
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	free(data);
	assert_int_equal(snap_open(&s, v4), 0);
	assert_int_equal(snap_open(&s5, file), 0);
	assert_int_equal(snap_version(s), 4);
	for (i = 0; i < N; i++) {
		const snap_ent *a, *b;
		assert_int_equal(snap_by_key(s, ents[i].key, &id), 0);
		assert_int_equal(id, (int64_t)i);
		assert_int_equal(snap_get(&a, s, (uint32_t)i), 0);
		assert_int_equal(snap_get(&b, s5, (uint32_t)i), 0);
		assert_string_equal(snap_str(s, a->title), snap_str(s5, b->title));
		assert_int_equal(a->nsent, b->nsent);
		assert_memory_equal(snap_num(s, a->sent), snap_num(s5, b->sent), a->nsent * 8);
	}
	snprintf(merged, sizeof(merged), "%s.merged", file);
	assert_int_equal(snap_merge(merged, NULL, 0x77, s, N, view, NULL, touched, NULL, 0, NULL, 1), 1);
	assert_int_equal(access(merged, F_OK), -1);
	snap_close(s);
	snap_close(s5);
	unlink(v4);
}

/* A version 2 snapshot (before tags: string tables of 4-byte slots, no
 * sentence tags) made from this one as docs/format.md lays both out: the
 * header's version, and each string table's entries without their tags
 * at the start of its section. It answers every lookup; a merge over it
 * is declined (its postings may repeat an article: written whole). So is
 * one over version 3 (the same layout as 4). */
static void reads_version_2(void **state)
{
	static uint32_t touched[N];
	char v2[96];
	unsigned char *data;
	uint64_t slots, off, i;
	int64_t id;
	uint32_t version = 2;
	size_t size;
	FILE *f;
	snap *s;
	int t;
	(void)state;
	data = as_version_4(&size);
	memcpy(data + 8, &version, 4);
	memcpy(&slots, data + 32, 8);
	for (t = 0; t < 2; t++) { /* S_BYKEY and S_BYPATH: sections 3 and 4 from byte 48 */
		uint64_t size4 = slots * 4;
		memcpy(&off, data + 48 + (3 + t) * 16, 8);
		for (i = 0; i < slots; i++)
			memmove(data + off + i * 4, data + off + i * 8, 4);
		memcpy(data + 48 + (3 + t) * 16 + 8, &size4, 8);
	}
	snprintf(v2, sizeof(v2), "%s.v2", file);
	f = fopen(v2, "wb");
	assert_int_equal(fwrite(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	free(data);
	assert_int_equal(snap_open(&s, v2), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(snap_by_key(s, ents[i].key, &id), 0);
		assert_int_equal(id, (int64_t)i);
		assert_int_equal(snap_by_path(s, ents[i].path, &id), 0);
		assert_int_equal(id, ents[i].kind == KE_ARTICLE ? (int64_t)i : -1);
	}
	assert_int_equal(snap_by_key(s, "no.example/such", &id), 0);
	assert_int_equal(id, -1);
	for (i = 0; i < POOL; i++) {
		const uint32_t *ids, *ids2;
		size_t n, n2;
		snap *s3;
		assert_int_equal(snap_open(&s3, file), 0);
		assert_int_equal(snap_sentences(s, pool[i], &ids, &n), 0);
		assert_int_equal(snap_sentences(s3, pool[i], &ids2, &n2), 0);
		assert_int_equal(n, n2);
		assert_memory_equal(ids, ids2, n * 4);
		snap_close(s3);
	}
	{
		char merged[96];
		snap *s3;
		snprintf(merged, sizeof(merged), "%s.merged", file);
		assert_int_equal(snap_merge(merged, NULL, 0x77, s, N, view, NULL, touched, NULL, 0, NULL, 1), 1);
		snap_close(s);
		data = as_version_4(&size);
		version = 3;
		memcpy(data + 8, &version, 4);
		f = fopen(v2, "wb");
		assert_int_equal(fwrite(data, 1, (size_t)size, f), (size_t)size);
		fclose(f);
		free(data);
		assert_int_equal(snap_open(&s3, v2), 0);
		assert_int_equal(snap_merge(merged, NULL, 0x77, s3, N, view, NULL, touched, NULL, 0, NULL, 1), 1);
		snap_close(s3);
		assert_int_equal(access(merged, F_OK), -1);
	}
	unlink(v2);
}

/* every entry's title changed: most of the strings dead, so declined */
static int retitled(const keyent **out, size_t i, keyent *scratch, void *payload)
{
	(void)payload;
	*scratch = ents[i];
	scratch->title = "retitled";
	*out = scratch;
	return 0;
}

static void merge_declined_when_mostly_dead(void **state)
{
	static uint32_t touched[N];
	char merged[96];
	snap *old;
	size_t i;
	(void)state;
	snprintf(merged, sizeof(merged), "%s.merged", file);
	for (i = 0; i < OLD; i++)
		touched[i] = 1;
	assert_int_equal(snap_write(oldfile, NULL, 0x9b, OLD, view, NULL, NULL), 0);
	assert_int_equal(snap_open(&old, oldfile), 0);
	assert_int_equal(snap_merge(merged, NULL, 0x77, old, OLD, retitled, NULL, touched, NULL, 0, NULL, 1), 1);
	assert_int_equal(access(merged, F_OK), -1); /* nothing left behind */
	/* a small or middle snapshot's merge (not compact) takes it: the
	 * big one's merge compacts the generation */
	assert_int_equal(snap_merge(merged, NULL, 0x77, old, OLD, retitled, NULL, touched, NULL, 0, NULL, 0), 0);
	unlink(merged);
	snap_close(old);
}

/* A merge checks the old lists as it counts their directory: a sentence
 * key that goes down, a sentence posting's id past the old file's
 * entries, a simhash table out of its block's order each make it
 * STET_ECORRUPT, with nothing left behind; with `drop`, some articles'
 * sentences changed since the old file, so their old postings are
 * dropped (the pair-by-pair copy), else none is (runs copied whole) */
static void damaged_merges(int drop)
{
	static uint32_t touched[N];
	uint64_t was[N];
	/* header: magic, version, byte order, id, n, slots, two bit counts
	 * (48 bytes), then each section's offset and size */
	static const struct {
		size_t sec, width;
		uint64_t value;
	} cut[] = { { 5, 8, 0 }, { 6, 4, 0xFFFFFFF0u }, { 11, 8, 0 } }; /* S_SKEY, S_SID, S_SIMFP0 */
	char bad[96], merged[96];
	size_t size, c;
	unsigned char *data;
	snprintf(bad, sizeof(bad), "%s.bad", file);
	snprintf(merged, sizeof(merged), "%s.merged", file);
	for (c = 0; c < OLD; c++) { /* the old file had another first sentence */
		touched[c] = drop && c % 50 == 1 && indexed(&ents[c]) && ents[c].fp.nsent;
		if (touched[c]) {
			was[c] = ents[c].fp.sent[0];
			ents[c].fp.sent[0] = next();
		}
	}
	assert_int_equal(snap_write(oldfile, NULL, 0x9c, OLD, view, NULL, NULL), 0);
	for (c = 0; c < OLD; c++)
		if (touched[c])
			ents[c].fp.sent[0] = was[c];
	assert_non_null(data = read_whole(oldfile, &size));
	{ /* undamaged, it merges */
		snap *old;
		assert_int_equal(snap_open(&old, oldfile), 0);
		assert_int_equal(snap_merge(merged, NULL, 0x77, old, N, view, NULL, touched, NULL, 0, NULL, 1), 0);
		snap_close(old);
		unlink(merged);
	}
	for (c = 0; c < sizeof(cut) / sizeof(cut[0]); c++) {
		unsigned char *copy = malloc(size);
		uint64_t off, len, at;
		snap *old;
		FILE *f;
		assert_non_null(copy);
		memcpy(copy, data, size);
		memcpy(&off, copy + 48 + cut[c].sec * 16, 8);
		memcpy(&len, copy + 48 + cut[c].sec * 16 + 8, 8);
		assert_true(len / cut[c].width > 8 && off + len <= size);
		at = off + (len / cut[c].width / 2) * cut[c].width; /* the middle one */
		if (cut[c].width == 8)
			memcpy(copy + at, &cut[c].value, 8);
		else {
			uint32_t v = (uint32_t)cut[c].value;
			memcpy(copy + at, &v, 4);
		}
		assert_non_null(f = fopen(bad, "wb"));
		assert_int_equal(fwrite(copy, 1, size, f), size);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(snap_open(&old, bad), 0);
		assert_int_equal(snap_merge(merged, NULL, 0x77, old, N, view, NULL, touched, NULL, 0, NULL, 1), STET_ECORRUPT);
		assert_int_equal(access(merged, F_OK), -1);
		snap_close(old);
		free(copy);
	}
	free(data);
	unlink(bad);
	stet_error_clear();
}

static void merge_over_damaged_lists(void **state)
{
	(void)state;
	damaged_merges(0);
	damaged_merges(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_and_tables),
		cmocka_unit_test(postings_as_a_scan),
		cmocka_unit_test(simhash_as_a_scan),
		cmocka_unit_test(damage_is_caught),
		cmocka_unit_test(reads_version_4),
		cmocka_unit_test(reads_version_2),
	};
	const struct CMUnitTest merged[] = {
		cmocka_unit_test(entries_and_tables),
		cmocka_unit_test(postings_as_a_scan),
		cmocka_unit_test(simhash_as_a_scan),
		cmocka_unit_test(damage_is_caught),
		cmocka_unit_test(merge_of_nothing_is_whole),
		cmocka_unit_test(merge_declined_when_mostly_dead),
		cmocka_unit_test(merge_over_damaged_lists),
	};
	int failed = cmocka_run_group_tests_name("whole", tests, setup, teardown);
	failed += cmocka_run_group_tests_name("merged", merged, setup_merged, teardown_merged);
	failed += cmocka_run_group_tests_name("merged, tables grown", merged, setup_grown, teardown_merged);
	failed += cmocka_run_group_tests_name("merged from three levels", merged, setup_levels, teardown_levels);
	{ /* the generations' files, and the directory */
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			failed++;
	}
	return failed;
}
