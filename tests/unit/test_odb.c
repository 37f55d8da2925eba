/* Unit tests of src/store/odb.c: a writing run finds an object's pack
 * itself, from the multi-pack-index's ids and the indexes of the packs it
 * does not cover, and reads the object through libgit2's backend of that
 * one pack; libgit2's backend of the whole folder (which checks every id
 * of the multi-pack-index as it opens it) is made only for what that
 * search cannot be sure of (a miss among ids out of order). Every object
 * of six packs (four in a multi-pack-index, two not) and of a pack written
 * after the opening reads back byte for byte without it, and an object
 * that is nowhere is a sure miss; a multi-pack-index whose ids are out of
 * order, or that is cut short, still gives every object, never a wrong
 * one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "files.h"
#include "xorshift.h"

#define PER_PACK 40
#define MAXOBJ (32 * PER_PACK)

static char root[64], objects[96], packdir[128], midx[160];
static git_repository *repo;
static git_oid ids[MAXOBJ];
static char *texts[MAXOBJ];
static size_t nobj;
static uint64_t rng = 0x0dbbac7;

static char last_pack[PACK_IDX_NAME]; /* the index add_pack wrote */

/* a pack of PER_PACK new blobs, written by stet's pack writer */
static void add_pack(void)
{
	git_odb_backend *mem;
	char *names[PER_PACK];
	size_t i, first = nobj;

	assert_true(nobj + PER_PACK <= MAXOBJ);
	assert_int_equal(git_mempack_new(&mem), 0);
	for (i = 0; i < PER_PACK; i++) {
		char *t = malloc(200), name[64];
		snprintf(t, 200, "object %zu: %016llx %016llx\n", nobj, (unsigned long long)xorshift64(&rng),
			 (unsigned long long)xorshift64(&rng));
		assert_int_equal(git_odb_hash(&ids[nobj], t, strlen(t), GIT_OBJECT_BLOB), 0);
		assert_int_equal(mem->write(mem, &ids[nobj], t, strlen(t), GIT_OBJECT_BLOB), 0);
		snprintf(name, sizeof(name), "f/%zu.md", nobj);
		names[i] = strdup(name);
		texts[nobj++] = t;
	}
	assert_int_equal(pack_write(packdir, mem, ids + first, names, PER_PACK, 1, last_pack), 0);
	assert_int_equal(strncmp(last_pack, "pack-", 5), 0);
	for (i = 0; i < PER_PACK; i++)
		free(names[i]);
	mem->free(mem);
}

/* a pack of PER_PACK versions of one file, each a line more than the one
 * before: stet's pack writer stores the newest whole and each older one
 * as a delta against the next (chains of up to PER_PACK - 1) */
static void add_versions(void)
{
	git_odb_backend *mem;
	char *names[PER_PACK];
	size_t i, first = nobj, len = 0, cap = 4096 + PER_PACK * 64;
	char *t = malloc(cap);

	assert_true(nobj + PER_PACK <= MAXOBJ);
	assert_int_equal(git_mempack_new(&mem), 0);
	for (i = 0; i < 20; i++)
		len += (size_t)snprintf(t + len, cap - len, "line %zu of %zu: %016llx\n", i, first,
					(unsigned long long)xorshift64(&rng));
	for (i = 0; i < PER_PACK; i++) {
		len += (size_t)snprintf(t + len, cap - len, "version %zu adds %016llx\n", i, (unsigned long long)xorshift64(&rng));
		texts[nobj] = strndup(t, len);
		assert_int_equal(git_odb_hash(&ids[nobj], texts[nobj], len, GIT_OBJECT_BLOB), 0);
		assert_int_equal(mem->write(mem, &ids[nobj], texts[nobj], len, GIT_OBJECT_BLOB), 0);
		names[i] = "v/versions.md";
		nobj++;
	}
	assert_int_equal(pack_write(packdir, mem, ids + first, names, PER_PACK, 1, NULL), 0);
	mem->free(mem);
	free(t);
}

/* the multi-pack-index over the packs there now, written by libgit2 */
static void write_midx(void)
{
	git_odb_backend *b;
	assert_int_equal(git_odb_backend_pack(&b, objects), 0);
	assert_int_equal(b->writemidx(b), 0);
	b->free(b);
}

static int setup(void **state)
{
	(void)state;
	git_libgit2_init();
	snprintf(root, sizeof(root), "/tmp/stet-odb-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(objects, sizeof(objects), "%s/objects", root);
	snprintf(packdir, sizeof(packdir), "%s/pack", objects);
	snprintf(midx, sizeof(midx), "%s/multi-pack-index", packdir);
	assert_int_equal(git_repository_init(&repo, root, 1), 0);
	for (int k = 0; k < 4; k++)
		add_pack();
	add_versions();
	write_midx();
	add_pack();
	add_versions();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	size_t i;
	(void)state;
	for (i = 0; i < nobj; i++)
		free(texts[i]);
	git_repository_free(repo);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	git_libgit2_shutdown();
	return 0;
}

/* a writing run's object store over the repository */
static stet_archive *open_store(void)
{
	stet_archive *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	a->commondir = root;
	a->gitdir = root;
	a->repo = repo;
	stet_buf_init(&a->warnings, 0);
	assert_int_equal(odb_open(a), 0);
	assert_non_null(a->odb);
	return a;
}

static void close_store(stet_archive *a)
{
	stet_buf_dispose(&a->warnings);
	git_odb_free(a->odb);
	free(a);
}

static void reads_back(git_odb *odb, size_t from, size_t to)
{
	size_t i;
	for (i = from; i < to; i++) {
		git_odb_object *o;
		size_t len;
		git_object_t type;
		assert_int_equal(git_odb_read(&o, odb, &ids[i]), 0);
		assert_int_equal(git_odb_object_type(o), GIT_OBJECT_BLOB);
		assert_int_equal(git_odb_object_size(o), strlen(texts[i]));
		assert_memory_equal(git_odb_object_data(o), texts[i], strlen(texts[i]));
		git_odb_object_free(o);
		assert_int_equal(git_odb_read_header(&len, &type, odb, &ids[i]), 0);
		assert_int_equal(len, strlen(texts[i]));
		assert_true(git_odb_exists(odb, &ids[i]));
	}
}

static void found_by_its_own_search(void **state)
{
	stet_archive *a = open_store();
	git_oid none;
	git_odb_object *o;
	size_t before = nobj, folder;
	(void)state;
	reads_back(a->odb, 0, nobj);
	/* each read where the multi-pack-index or its pack's index says it
	 * is, by stet (deltas on deltas too), not by libgit2's backend */
	assert_int_equal(odb_reads_at(a), nobj);
	/* a pack written after the opening is seen once the run says so: by
	 * its name, without reading the folder again */
	add_pack();
	folder = odb_folder_reads(a);
	assert_int_equal(odb_packs_changed(a, last_pack), 0);
	assert_int_equal(odb_folder_reads(a), folder);
	reads_back(a->odb, before, nobj);
	assert_int_equal(odb_reads_at(a), nobj);
	reads_back(a->odb, 0, before);
	assert_false(odb_made_whole(a));
	/* named twice, or not named: the same objects, once each */
	assert_int_equal(odb_packs_changed(a, last_pack), 0);
	assert_int_equal(odb_packs_changed(a, NULL), 0);
	assert_int_equal(odb_folder_reads(a), folder + 1);
	/* a name that is no pack index: the folder read instead */
	assert_int_equal(odb_packs_changed(a, "pack-0000000000000000000000000000000000000000.idx"), 0);
	assert_int_equal(odb_folder_reads(a), folder + 2);
	reads_back(a->odb, 0, nobj);
	assert_false(odb_made_whole(a));
	/* an object that is nowhere: a sure miss (the ids it was searched
	 * among are in order), not asked of libgit2's whole backend */
	memset(&none, 0xab, sizeof(none));
	assert_int_equal(git_odb_read(&o, a->odb, &none), GIT_ENOTFOUND);
	assert_false(git_odb_exists(a->odb, &none));
	assert_false(odb_made_whole(a));
	close_store(a);
}

static size_t open_files(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* every object read, and only read (an existence check or a header goes
 * to libgit2's backend of the pack, which opens the pack itself) */
static void reads_only(git_odb *odb)
{
	size_t i;
	for (i = 0; i < nobj; i++) {
		git_odb_object *o;
		assert_int_equal(git_odb_read(&o, odb, &ids[i]), 0);
		assert_int_equal(git_odb_object_size(o), strlen(texts[i]));
		assert_memory_equal(git_odb_object_data(o), texts[i], strlen(texts[i]));
		git_odb_object_free(o);
	}
}

static void reads_with_few_files_open(void **state)
{
	/* a process allowed 24 open files keeps 6 packs open at most (a
	 * quarter): past that, read_at closes them all and opens again what
	 * it reads next; every object is still read by stet, and right */
	struct rlimit was, few;
	stet_archive *a;
	size_t before;
	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	few = was;
	few.rlim_cur = 24;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &few), 0);
	a = open_store();
	before = open_files();
	reads_only(a->odb);
	assert_true(open_files() <= before + 6);
	reads_only(a->odb);
	assert_true(open_files() <= before + 6);
	assert_int_equal(odb_reads_at(a), 2 * nobj);
	close_store(a);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void damaged_index_still_reads(void **state)
{
	size_t size, i, oidl = 0, ooff = 0;
	unsigned char *good = read_whole(midx, &size), *d = malloc(size), tmp[20];
	stet_archive *a;
	(void)state;
	for (i = 0; i < good[6]; i++) {
		const unsigned char *c = good + 12 + i * 12;
		uint64_t off = (uint64_t)be32(c + 4) << 32 | be32(c + 8);
		if (be32(c) == 0x4f49444c)
			oidl = off;
		if (be32(c) == 0x4f4f4646)
			ooff = off;
	}
	assert_true(oidl && ooff);
	/* ids out of order: the first two swapped, with their packs */
	memcpy(d, good, size);
	memcpy(tmp, d + oidl, 20);
	memmove(d + oidl, d + oidl + 20, 20);
	memcpy(d + oidl + 20, tmp, 20);
	memcpy(tmp, d + ooff, 8);
	memmove(d + ooff, d + ooff + 8, 8);
	memcpy(d + ooff + 8, tmp, 8);
	write_whole(midx, d, size);
	a = open_store();
	reads_back(a->odb, 0, nobj);
	/* a miss among them is not sure: libgit2's whole backend is asked */
	{
		git_oid none;
		memset(&none, 0xff, sizeof(none));
		none.id[0] = d[oidl];
		assert_false(git_odb_exists(a->odb, &none));
		assert_true(odb_made_whole(a));
	}
	close_store(a);
	/* two objects' offsets swapped (their ids and packs in place): each
	 * read there is another object, whose id does not match; libgit2's
	 * backend of the pack reads the right one */
	memcpy(d, good, size);
	{
		size_t n, j;
		const unsigned char *fan = NULL;
		for (i = 0; i < good[6]; i++) {
			const unsigned char *c = good + 12 + i * 12;
			if (be32(c) == 0x4f494446) /* OIDF */
				fan = good + ((uint64_t)be32(c + 4) << 32 | be32(c + 8));
		}
		assert_non_null(fan);
		n = be32(fan + 4 * 255);
		for (j = 1; j < n && be32(d + ooff + j * 8) != be32(d + ooff); j++)
			;
		assert_true(j < n); /* another object of the first one's pack */
		memcpy(tmp, d + ooff + 4, 4);
		memcpy(d + ooff + 4, d + ooff + j * 8 + 4, 4);
		memcpy(d + ooff + j * 8 + 4, tmp, 4);
	}
	write_whole(midx, d, size);
	a = open_store();
	reads_back(a->odb, 0, nobj);
	assert_int_equal(odb_reads_at(a), nobj - 2);
	assert_false(odb_made_whole(a));
	close_store(a);
	/* cut short: not read at all; every pack is searched in its own index */
	write_whole(midx, good, size / 2);
	a = open_store();
	reads_back(a->odb, 0, nobj);
	assert_false(odb_made_whole(a));
	close_store(a);
	write_whole(midx, good, size);
	free(good);
	free(d);
}

static int by_bytes(const void *a, const void *b) { return memcmp(a, b, GIT_OID_RAWSZ); }
static unsigned char tmp_swap[20];

/* ids sorted with their fanout, as an index holds them: n ids, each either
 * random or (skewed) sharing its first five bytes with many others, so
 * that the search's guess of a place is far off */
static unsigned char *make_ids(uint32_t n, int skewed, unsigned char fanout[1024])
{
	unsigned char *v = malloc((size_t)n * GIT_OID_RAWSZ);
	uint32_t i, count[256] = { 0 }, sum = 0;
	for (i = 0; i < n; i++) {
		unsigned char *id = v + (size_t)i * GIT_OID_RAWSZ;
		for (int k = 0; k < GIT_OID_RAWSZ; k++)
			id[k] = (unsigned char)xorshift64(&rng);
		if (skewed && i % 3)
			memcpy(id, "\x42\xff\xff\x00\x01", 5);
	}
	qsort(v, n, GIT_OID_RAWSZ, by_bytes);
	for (i = 0; i < n; i++)
		count[v[(size_t)i * GIT_OID_RAWSZ]]++;
	for (i = 0; i < 256; i++) {
		sum += count[i];
		fanout[4 * i] = (unsigned char)(sum >> 24);
		fanout[4 * i + 1] = (unsigned char)(sum >> 16);
		fanout[4 * i + 2] = (unsigned char)(sum >> 8);
		fanout[4 * i + 3] = (unsigned char)sum;
	}
	return v;
}

/* the search of an index's ids finds each at its place, and no other id,
 * with ids uniform and ids bunched far from where their bytes say */
static void search_finds_each_id(void **state)
{
	unsigned char fanout[1024];
	(void)state;
	for (int skewed = 0; skewed < 2; skewed++) {
		const uint32_t n = 200000;
		unsigned char *v = make_ids(n, skewed, fanout);
		uint32_t i;
		for (i = 0; i < n; i++) {
			git_oid o;
			long long at;
			memcpy(o.id, v + (size_t)i * GIT_OID_RAWSZ, GIT_OID_RAWSZ);
			at = odb_find_id(fanout, v, n, &o);
			/* equal ids (none here, but allowed): any of them */
			assert_true(at >= 0 && !memcmp(v + (size_t)at * GIT_OID_RAWSZ, o.id, GIT_OID_RAWSZ));
			o.id[GIT_OID_RAWSZ - 1] ^= 1; /* a neighbour that is not there */
			if (!bsearch(o.id, v, n, GIT_OID_RAWSZ, by_bytes))
				assert_int_equal(odb_find_id(fanout, v, n, &o), -1);
		}
		for (i = 0; i < 1000; i++) { /* ids far from any */
			git_oid o;
			for (int k = 0; k < GIT_OID_RAWSZ; k++)
				o.id[k] = (unsigned char)xorshift64(&rng);
			if (!bsearch(o.id, v, n, GIT_OID_RAWSZ, by_bytes))
				assert_int_equal(odb_find_id(fanout, v, n, &o), -1);
		}
		free(v);
	}
}

static size_t packs_there(void)
{
	DIR *d = opendir(packdir);
	struct dirent *de;
	size_t n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strlen(de->d_name) > 4 && !strcmp(de->d_name + strlen(de->d_name) - 4, ".idx");
	closedir(d);
	return n;
}

static void counts_are(stet_archive *a, size_t git, size_t recent, size_t loose)
{
	size_t c[3];
	odb_search_counts(a, c);
	assert_int_equal(c[0], git);
	assert_int_equal(c[1], recent);
	assert_int_equal(c[2], loose);
}

/* At the end of a run, packs git's multi-pack-index does not cover (4 or
 * more, an eighth of stet's own) go into stet's own, .git/stet/recent-midx;
 * the next run finds their objects through it, not pack by pack. At 16 or
 * more (an eighth of git's), git's is written again over every pack, by
 * stet's merge, and stet's removed; one left over anyway (a run killed
 * between the two) names packs git's covers, and is not used */
static void recent_packs_indexed(void **state)
{
	char stetdir[128], recent[160];
	unsigned char *old;
	size_t covered, size, k;
	stet_archive *a;
	struct stat st;
	(void)state;
	snprintf(stetdir, sizeof(stetdir), "%s/stet", root);
	snprintf(recent, sizeof(recent), "%s/recent-midx", stetdir);
	mkdir(stetdir, 0755);
	a = open_store();
	covered = packs_there() - 3; /* the earlier tests' packs: 3 not covered */
	counts_are(a, covered, 0, 3);
	close_store(a);
	add_pack();
	a = open_store();
	assert_int_equal(odb_index_packs(a), 0);
	assert_int_equal(a->warnings.size, 0);
	close_store(a);
	a = open_store();
	counts_are(a, covered, 4, 0);
	reads_back(a->odb, 0, nobj);
	assert_int_equal(odb_reads_at(a), nobj);
	assert_false(odb_made_whole(a));
	/* a run's new pack: in neither, and not yet indexed (fewer than 4) */
	add_pack();
	assert_int_equal(odb_packs_changed(a, last_pack), 0);
	assert_int_equal(odb_index_packs(a), 0);
	counts_are(a, covered, 4, 1);
	close_store(a);
	old = read_whole(recent, &size);
	for (k = 0; k < 11; k++)
		add_pack();
	a = open_store();
	counts_are(a, covered, 4, 12);
	assert_int_equal(odb_index_packs(a), 0); /* 16 not in git's */
	assert_int_equal(a->warnings.size, 0);
	close_store(a);
	assert_int_equal(stat(recent, &st), -1);
	a = open_store();
	counts_are(a, packs_there(), 0, 0);
	reads_back(a->odb, 0, nobj);
	assert_int_equal(odb_reads_at(a), nobj);
	assert_false(odb_made_whole(a));
	close_store(a);
	write_whole(recent, old, size); /* left over: its packs are git's now */
	a = open_store();
	counts_are(a, packs_there(), 0, 0);
	reads_back(a->odb, 0, nobj);
	close_store(a);
	unlink(recent);
	free(old);
}

typedef struct {
	uint32_t pack;
	uint64_t base;
} fake_src;

static int fake_where(const midx_list *l, uint32_t i, uint32_t *pack, uint64_t *off)
{
	const fake_src *s = l->src;
	*pack = s->pack;
	*off = s->base + (uint64_t)i * 64;
	return 0;
}

static int no_where(const midx_list *l, uint32_t i, uint32_t *pack, uint64_t *off)
{
	(void)l;
	(void)i;
	(void)pack;
	(void)off;
	return -1;
}

/* midx_write by hand: two lists sharing 100 ids (each written once, at
 * the first list's place), offsets past 2 GiB in the table of large
 * offsets, names sorted, the fanout, the SHA-1 at the end; a list out of
 * order, one that cannot place an object, or one that said its places
 * were all under 2 GiB and gave one past, writes nothing usable */
static void midx_written_by_merge(void **state)
{
	unsigned char fan_a[1024], fan_b[1024], *a, *b, *f, *both;
	const char *names[] = { "pack-zz.idx", "pack-aa.idx" };
	fake_src sa = { 0, 12 }, sb = { 1, (uint64_t)3 << 30 };
	midx_list lists[2];
	char file[192];
	size_t size, i, k, na = 3000, nb = 1000, n, chunk[6] = { 0 }, nlarge = 0;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int fd;
	(void)state;
	a = make_ids((uint32_t)na, 0, fan_a);
	b = make_ids((uint32_t)nb, 0, fan_b);
	for (i = 0; i < 100; i++) /* b's every tenth id is one of a's */
		memcpy(b + i * 10 * 20, a + i * 29 * 20, 20);
	qsort(b, nb, 20, by_bytes);
	lists[0] = (midx_list){ a, (uint32_t)na, fake_where, &sa, "a", 1 }; /* all under 2 GiB */
	lists[1] = (midx_list){ b, (uint32_t)nb, fake_where, &sb, "b", 0 };
	snprintf(file, sizeof(file), "%s/written-midx", root);
	assert_true((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(midx_write(fd, file, names, 2, lists, 2), 0);
	close(fd);
	f = read_whole(file, &size);
	n = na + nb - 100;
	assert_memory_equal(f, "MIDX\1\1\5\0", 8);
	assert_int_equal(be32(f + 8), 2);
	for (i = 0; i < 5; i++) {
		const unsigned char *c = f + 12 + i * 12;
		const char *chunk_ids[] = { "PNAM", "OIDF", "OIDL", "OOFF", "LOFF" };
		assert_memory_equal(c, chunk_ids[i], 4);
		chunk[i] = (size_t)((uint64_t)be32(c + 4) << 32 | be32(c + 8));
	}
	chunk[5] = (size_t)((uint64_t)be32(f + 12 + 5 * 12 + 4) << 32 | be32(f + 12 + 5 * 12 + 8));
	assert_int_equal(be32(f + 12 + 5 * 12), 0);
	assert_int_equal(chunk[5], size - 20);
	assert_string_equal((char *)f + chunk[0], "pack-aa.idx"); /* sorted: "b"'s pack first */
	assert_string_equal((char *)f + chunk[0] + 12, "pack-zz.idx");
	assert_int_equal(chunk[1] % 4, 0);
	assert_int_equal(be32(f + chunk[1] + 4 * 255), n);
	assert_int_equal(chunk[2] - chunk[1], 1024);
	assert_int_equal(chunk[3] - chunk[2], n * 20);
	/* the union of the ids, in order, each in the fanout's bucket */
	both = malloc((na + nb) * 20);
	memcpy(both, a, na * 20);
	memcpy(both + na * 20, b, nb * 20);
	qsort(both, na + nb, 20, by_bytes);
	for (i = 0, k = 0; i < na + nb; i++)
		if (!i || memcmp(both + i * 20, both + (i - 1) * 20, 20))
			memmove(both + k++ * 20, both + i * 20, 20);
	assert_int_equal(k, n);
	assert_memory_equal(f + chunk[2], both, n * 20);
	for (i = 0; i < n; i++) {
		const unsigned char *id = f + chunk[2] + i * 20, *o = f + chunk[3] + i * 8;
		unsigned first = id[0];
		uint32_t lo = first ? be32(f + chunk[1] + 4 * (first - 1)) : 0, hi = be32(f + chunk[1] + 4 * first);
		unsigned char *in_a = bsearch(id, a, na, 20, by_bytes), *in_b = bsearch(id, b, nb, 20, by_bytes);
		assert_true(i >= lo && i < hi);
		if (in_a) { /* the first list's place, its pack second among the sorted names */
			assert_int_equal(be32(o), 1);
			assert_int_equal(be32(o + 4), 12 + (uint64_t)(in_a - a) / 20 * 64);
		} else {
			uint64_t want = ((uint64_t)3 << 30) + (uint64_t)(in_b - b) / 20 * 64;
			const unsigned char *l = f + chunk[4] + (size_t)(be32(o + 4) & 0x7fffffff) * 8;
			assert_non_null(in_b);
			assert_int_equal(be32(o), 0);
			assert_true(be32(o + 4) & 0x80000000u);
			assert_int_equal(be32(o + 4) & 0x7fffffff, nlarge++);
			assert_int_equal((uint64_t)be32(l) << 32 | be32(l + 4), want);
		}
	}
	assert_int_equal(nlarge, nb - 100);
	assert_int_equal(chunk[5] - chunk[4], nlarge * 8);
	assert_int_equal(EVP_Digest(f, size - 20, md, &mdlen, EVP_sha1(), NULL), 1);
	assert_memory_equal(f + size - 20, md, 20);
	free(f);
	/* a list that said all its places were under 2 GiB and gave one past:
	 * the header had no room for it */
	lists[1].small = 1;
	assert_true((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(midx_write(fd, file, names, 2, lists, 2), STET_ECORRUPT);
	assert_non_null(strstr(stet_error_last(), "past 2 GiB was not foreseen"));
	close(fd);
	lists[1].small = 0;
	/* out of order, or placing an object nowhere: an error naming it */
	memcpy(tmp_swap, b, 20);
	memcpy(b, b + 20, 20);
	memcpy(b + 20, tmp_swap, 20);
	assert_true((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(midx_write(fd, file, names, 2, lists, 2), STET_ECORRUPT);
	assert_non_null(strstr(stet_error_last(), "the ids of b are not in order"));
	memcpy(b + 20, b, 20);
	memcpy(b, tmp_swap, 20);
	lists[1].where = no_where;
	assert_int_equal(midx_write(fd, file, names, 2, lists, 2), STET_ECORRUPT);
	assert_non_null(strstr(stet_error_last(), "b does not say where"));
	close(fd);
	free(a);
	free(b);
	free(both);
}

/* midx_write of one large list and many small ones (the shape of a
 * multi-pack-index merged with the packs since): ids shared between the
 * large one and small ones and among small ones, and a third of them
 * alike in their first 10 bytes (most comparisons end in the first 8);
 * each id once, in order, at the first list's place; a list out of order
 * in the middle of a long run of the large one is found */
static void midx_merge_of_many_lists(void **state)
{
	enum { NL = 13, BIG = 20000, SMALL = 500 };
	unsigned char fan[1024], *v[NL], *f, *all;
	size_t nv[NL], i, j, k, total = 0, n, size;
	fake_src src[NL];
	midx_list lists[NL];
	char names_buf[NL][32], file[192];
	const char *names[NL];
	int fd;
	(void)state;
	for (j = 0; j < NL; j++) {
		nv[j] = j ? SMALL : BIG;
		v[j] = make_ids((uint32_t)nv[j], 0, fan);
		for (i = 0; i < nv[j]; i += 3) /* alike in their first 10 bytes */
			memcpy(v[j] + i * 20, "\x7e\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10);
		if (j) {
			for (i = 0; i < 30; i++) /* the large list's ids */
				memcpy(v[j] + (i * 16 + 1) * 20, v[0] + (i * 651 + j * 7) * 20, 20);
			for (i = 0; i < 20; i++) /* the list before's */
				memcpy(v[j] + (i * 24 + 5) * 20, v[j - 1] + (i * 23 + 2) * 20, 20);
		}
		qsort(v[j], nv[j], 20, by_bytes);
		for (i = k = 0; i < nv[j]; i++) /* strictly increasing within a list */
			if (!i || memcmp(v[j] + i * 20, v[j] + (k - 1) * 20, 20))
				memmove(v[j] + k++ * 20, v[j] + i * 20, 20);
		nv[j] = k;
		total += k;
		snprintf(names_buf[j], sizeof(names_buf[j]), "pack-%02zu.idx", NL - j); /* given in reverse */
		names[j] = names_buf[j];
		src[j] = (fake_src){ (uint32_t)j, (uint64_t)j << 20 };
		lists[j] = (midx_list){ v[j], (uint32_t)nv[j], fake_where, &src[j], names[j], 1 };
	}
	snprintf(file, sizeof(file), "%s/many-midx", root);
	assert_true((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(midx_write(fd, file, names, NL, lists, NL), 0);
	close(fd);
	f = read_whole(file, &size);
	all = malloc(total * 20);
	for (j = 0, k = 0; j < NL; k += nv[j] * 20, j++)
		memcpy(all + k, v[j], nv[j] * 20);
	qsort(all, total, 20, by_bytes);
	for (i = 0, n = 0; i < total; i++)
		if (!i || memcmp(all + i * 20, all + (n - 1) * 20, 20))
			memmove(all + n++ * 20, all + i * 20, 20);
	assert_true(n < total); /* some were shared */
	{
		size_t oidl = (size_t)((uint64_t)be32(f + 12 + 2 * 12 + 4) << 32 | be32(f + 12 + 2 * 12 + 8));
		size_t ooff = (size_t)((uint64_t)be32(f + 12 + 3 * 12 + 4) << 32 | be32(f + 12 + 3 * 12 + 8));
		assert_int_equal(ooff - oidl, n * 20);
		assert_memory_equal(f + oidl, all, n * 20);
		for (i = 0; i < n; i++) {
			const unsigned char *id = f + oidl + i * 20, *o = f + ooff + i * 8;
			for (j = 0; j < NL; j++) { /* the first list that has it */
				unsigned char *in = bsearch(id, v[j], nv[j], 20, by_bytes);
				if (in) {
					assert_int_equal(be32(o), NL - 1 - j); /* "pack-%02d" of NL - j, sorted */
					assert_int_equal(be32(o + 4), ((uint64_t)j << 20) + (uint64_t)(in - v[j]) / 20 * 64);
					break;
				}
			}
			assert_true(j < NL);
		}
	}
	free(f);
	/* out of order in the middle of the large list */
	memcpy(tmp_swap, v[0] + 10000 * 20, 20);
	memcpy(v[0] + 10000 * 20, v[0] + 10001 * 20, 20);
	memcpy(v[0] + 10001 * 20, tmp_swap, 20);
	assert_true((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(midx_write(fd, file, names, NL, lists, NL), STET_ECORRUPT);
	assert_non_null(strstr(stet_error_last(), "the ids of pack-13.idx are not in order"));
	close(fd);
	for (j = 0; j < NL; j++)
		free(v[j]);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(search_finds_each_id),
		cmocka_unit_test(found_by_its_own_search),
		cmocka_unit_test(reads_with_few_files_open),
		cmocka_unit_test(damaged_index_still_reads),
		cmocka_unit_test(recent_packs_indexed),
		cmocka_unit_test(midx_written_by_merge),
		cmocka_unit_test(midx_merge_of_many_lists),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
