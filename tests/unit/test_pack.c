/* Unit tests of src/store/pack.c: a checkpoint's objects written as a pack
 * read back from it, every one, byte for byte and with its type, through
 * libgit2's pack backend; its index is the one git index-pack makes of it
 * (where git is installed), and one with offsets past 2 GiB is read back
 * by hand; a delta that would not rebuild its object is refused. The versions of a
 * path are deltas of one another: the pack is far smaller than the
 * objects, the newest version of each path is stored whole (also when
 * versions differ at both ends), and no chain is longer than 50; trees
 * are stored as they are, articles and a delta of 2.6 KB of text
 * compressed (git verify-pack says, where git is installed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "xorshift.h"

#define MAXOBJ 1024

static char root[64], objects[96], packdir[128];
static git_odb_backend *mem;
static git_oid ids[MAXOBJ];
static char *names[MAXOBJ];
static size_t nobj, article_bytes;
static git_oid newest[8]; /* the newest version of each named path */
static git_oid tree_id;   /* the tree: stored as it is (zlib level 0) */
static git_oid cut_id;    /* an article's version as a delta of 2.6 KB of text: compressed */
static size_t nnewest;
static int threads; /* pack_write's */

static void stage(const void *data, size_t len, git_object_t type, const char *name)
{
	git_oid id;
	assert_int_equal(git_odb_hash(&id, data, len, type), 0);
	assert_int_equal(mem->write(mem, &id, data, len, type), 0);
	assert_true(nobj < MAXOBJ);
	git_oid_cpy(&ids[nobj], &id);
	names[nobj++] = name ? strdup(name) : NULL;
}

/* a line of random hex: compresses to about half, so only deltas make the
 * pack small */
static void random_line(char *out, uint64_t *rng)
{
	int i;
	for (i = 0; i < 64; i++)
		out[i] = "0123456789abcdef"[xorshift64(rng) & 15];
	out[64] = '\n';
}

static int setup(void **state)
{
	uint64_t rng = 0x5eed;
	nobj = article_bytes = nnewest = 0;
	char *text;
	size_t len = 0, v, i, big = (34u << 20) + 123;
	(void)state;
	git_libgit2_init();
	snprintf(root, sizeof(root), "/tmp/stet-pack-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(objects, sizeof(objects), "%s/objects", root);
	snprintf(packdir, sizeof(packdir), "%s/pack", objects);
	assert_int_equal(mkdir(objects, 0755), 0);
	assert_int_equal(mkdir(packdir, 0755), 0);
	assert_int_equal(git_mempack_new(&mem), 0);

	/* an article, 130 versions, each with a line inserted somewhere: more
	 * than two chains of 50 */
	text = malloc(200 * 65);
	for (i = 0; i < 60; i++)
		random_line(text + 65 * len++, &rng);
	for (v = 0; v < 130; v++) {
		size_t at = xorshift64(&rng) % (len + 1);
		memmove(text + 65 * (at + 1), text + 65 * at, 65 * (len - at));
		random_line(text + 65 * at, &rng);
		len++;
		stage(text, 65 * len, GIT_OBJECT_BLOB, "src/2024/01/02/a-1.md");
		article_bytes += 65 * len;
	}
	git_odb_hash(&newest[nnewest++], text, 65 * len, GIT_OBJECT_BLOB);
	/* 60 versions each changed at the top and added to at the bottom: no
	 * common end, so only the blocks in between make the delta */
	for (i = 0; i < 40; i++)
		random_line(text + 65 * i, &rng);
	for (v = 0; v < 60; v++) {
		random_line(text, &rng);
		random_line(text + 65 * (40 + v), &rng);
		stage(text, 65 * (41 + v), GIT_OBJECT_BLOB, "src/2024/01/03/c-3.md");
	}
	git_odb_hash(&newest[nnewest++], text, 65 * (41 + v - 1), GIT_OBJECT_BLOB);
	/* an article whose newer version dropped 40 lines: the older one is
	 * a delta that inserts them, 2.6 KB of text, compressed */
	for (i = 0; i < 190; i++)
		random_line(text + 65 * i, &rng);
	stage(text, 65 * 190, GIT_OBJECT_BLOB, "src/2024/01/04/d-4.md");
	git_oid_cpy(&cut_id, &ids[nobj - 1]);
	memmove(text + 65 * 75, text + 65 * 115, 65 * 75);
	stage(text, 65 * 150, GIT_OBJECT_BLOB, "src/2024/01/04/d-4.md");
	git_odb_hash(&newest[nnewest++], text, 65 * 150, GIT_OBJECT_BLOB);
	/* a second path whose versions have nothing in common: stored whole */
	for (v = 0; v < 3; v++) {
		for (i = 0; i < 40; i++)
			random_line(text + 65 * i, &rng);
		stage(text, 65 * 40, GIT_OBJECT_BLOB, "src/2024/01/02/b-2.md");
	}
	git_odb_hash(&newest[nnewest++], text, 65 * 40, GIT_OBJECT_BLOB);
	/* tiny ones, the same one staged twice under two names, a tree and
	 * then a blob of the same bytes under one name (a delta of the tree
	 * against the blob would be tiny, and read back as a blob), a commit */
	stage("x\n", 2, GIT_OBJECT_BLOB, "tiny");
	stage("y\n", 2, GIT_OBJECT_BLOB, "tiny");
	stage("x\n", 2, GIT_OBJECT_BLOB, "other");
	{
		char tree[128], commit[256];
		git_oid blob, tid;
		size_t tn = 0;
		char hex[GIT_OID_HEXSZ + 1];
		const char *const entries[] = { "100644 a-1.md", "100644 b-2.md" };
		git_odb_hash(&blob, "x\n", 2, GIT_OBJECT_BLOB);
		for (i = 0; i < 2; i++) {
			tn += (size_t)snprintf(tree + tn, sizeof(tree) - tn, "%s", entries[i]) + 1;
			memcpy(tree + tn, blob.id, GIT_OID_RAWSZ);
			tn += GIT_OID_RAWSZ;
		}
		stage(tree, tn, GIT_OBJECT_TREE, "src/2024/01/02");
		git_oid_cpy(&tree_id, &ids[nobj - 1]);
		stage(tree, tn, GIT_OBJECT_BLOB, "src/2024/01/02");
		git_odb_hash(&tid, tree, tn, GIT_OBJECT_TREE);
		git_oid_tostr(hex, sizeof(hex), &tid);
		stage(commit,
		      (size_t)snprintf(commit, sizeof(commit),
				       "tree %s\nauthor A <a@example.com> 0 +0000\ncommitter A <a@example.com> 0 +0000\n\nnew\n",
				       hex),
		      GIT_OBJECT_COMMIT, NULL);
	}
	/* 34 MiB, then a version of it changed in the middle: its copies
	 * are longer than one copy instruction can say */
	{
		char *b = malloc(big);
		for (i = 0; i < big; i++)
			b[i] = (char)('a' + (i * 7 + i / 4096) % 26);
		stage(b, big, GIT_OBJECT_BLOB, "big.md");
		memcpy(b + big / 2, "an edit in the middle", 21);
		stage(b, big, GIT_OBJECT_BLOB, "big.md");
		git_odb_hash(&newest[nnewest++], b, big, GIT_OBJECT_BLOB);
		/* 5 MiB changed at both ends: more blocks than the index holds,
		 * so every second one is indexed, and still a delta */
		b[0] = '#';
		stage(b, 5u << 20, GIT_OBJECT_BLOB, "five.md");
		b[(5u << 20) - 1] = '#';
		b[1] = '#';
		stage(b, 5u << 20, GIT_OBJECT_BLOB, "five.md");
		git_odb_hash(&newest[nnewest++], b, 5u << 20, GIT_OBJECT_BLOB);
		free(b);
	}
	free(text);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	size_t i;
	(void)state;
	for (i = 0; i < nobj; i++)
		free(names[i]);
	if (mem)
		mem->free(mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	git_libgit2_shutdown();
	return 0;
}

/* the pack file's name and size */
static off_t the_pack(char *name, size_t cap)
{
	DIR *d = opendir(packdir);
	struct dirent *de;
	struct stat st;
	int found = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strlen(de->d_name) > 5 && !strcmp(de->d_name + strlen(de->d_name) - 5, ".pack")) {
			snprintf(name, cap, "%s/%s", packdir, de->d_name);
			found++;
		}
	closedir(d);
	assert_int_equal(found, 1);
	assert_int_equal(stat(name, &st), 0);
	return st.st_size;
}

static void every_object_reads_back(void **state)
{
	git_odb *odb;
	git_odb_backend *packs;
	char pack[256];
	size_t i;
	(void)state;
	assert_int_equal(pack_write(packdir, mem, ids, names, nobj, threads, NULL), 0);
	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_backend_pack(&packs, objects), 0);
	assert_int_equal(git_odb_add_backend(odb, packs, 1), 0);
	for (i = 0; i < nobj; i++) {
		git_odb_object *o;
		void *data;
		size_t len;
		git_object_t type;
		assert_int_equal(mem->read(&data, &len, &type, mem, &ids[i]), 0);
		assert_int_equal(git_odb_read(&o, odb, &ids[i]), 0);
		assert_int_equal(git_odb_object_type(o), type);
		assert_int_equal(git_odb_object_size(o), len);
		assert_memory_equal(git_odb_object_data(o), data, len);
		git_odb_object_free(o);
		git_odb_backend_data_free(mem, data);
	}
	git_odb_free(odb);
	/* 130 versions of the article in a few whole copies and deltas: without
	 * deltas the pack would be over half the article's bytes */
	assert_true((size_t)the_pack(pack, sizeof(pack)) < article_bytes / 10 + (1u << 20));
}

/* git verify-pack -v: "SHA type size size-in-pack offset [depth base]" */
static void chains_are_short_and_the_newest_whole(void **state)
{
	char pack[256], cmd[400], line[512];
	FILE *p;
	int deltas = 0, max_depth = 0, newest_seen = 0, tree_seen = 0, cut_seen = 0;
	char tree_hex[GIT_OID_HEXSZ + 1], article_hex[GIT_OID_HEXSZ + 1], cut_hex[GIT_OID_HEXSZ + 1];
	size_t i;
	(void)state;
	if (system("git --version >/dev/null 2>&1") != 0)
		skip();
	the_pack(pack, sizeof(pack));
	git_oid_tostr(tree_hex, sizeof(tree_hex), &tree_id);
	git_oid_tostr(article_hex, sizeof(article_hex), &newest[0]);
	git_oid_tostr(cut_hex, sizeof(cut_hex), &cut_id);
	snprintf(cmd, sizeof(cmd), "git verify-pack -v %s 2>&1", pack);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p)) {
		char sha[64], type[16];
		unsigned long size, packed, off, depth;
		char base[64];
		int n = sscanf(line, "%63s %15s %lu %lu %lu %lu %63s", sha, type, &size, &packed, &off, &depth, base);
		if (n < 5 || strlen(sha) != GIT_OID_HEXSZ)
			continue;
		/* a tree is stored as it is: its bytes and zlib's framing (2 + 5 + 4);
		 * the article (hex text) compressed at level 1, to about half */
		if (!strcmp(sha, tree_hex)) {
			assert_true(packed >= size + 11);
			tree_seen = 1;
		}
		if (!strcmp(sha, article_hex))
			assert_true(packed < size * 3 / 4);
		/* a delta's size here is its own (git verify-pack): 2.6 KB of hex
		 * lines and the copies, compressed */
		if (!strcmp(sha, cut_hex)) {
			assert_int_equal(n, 7);
			assert_true(size > 2600 && packed < size * 3 / 4);
			cut_seen = 1;
		}
		if (n == 7) {
			deltas++;
			if ((int)depth > max_depth)
				max_depth = (int)depth;
		}
		for (i = 0; i < nnewest; i++) {
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof(hex), &newest[i]);
			if (!strcmp(hex, sha)) {
				assert_int_equal(n, 5); /* stored whole */
				newest_seen++;
			}
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(newest_seen, (int)nnewest);
	assert_true(tree_seen);
	assert_true(cut_seen);
	/* the older versions: the article's, less a whole copy a chain (127),
	 * the one changed at both ends (58), big.md's and five.md's (2) */
	assert_true(deltas >= 127 + 58 + 2);
	assert_int_equal(max_depth, 50);
}

/* the index is the one git would make of the pack, byte for byte, and no
 * temporary file is left in the folder */
static void the_index_is_gits(void **state)
{
	char pack[256], cmd[1024];
	DIR *d;
	struct dirent *de;
	(void)state;
	assert_non_null(d = opendir(packdir));
	while ((de = readdir(d)))
		assert_true(strncmp(de->d_name, "tmp_", 4));
	closedir(d);
	if (system("git --version >/dev/null 2>&1") != 0)
		skip();
	the_pack(pack, sizeof(pack));
	snprintf(cmd, sizeof(cmd),
		 "cp %s %s/copy.pack && git index-pack -o %s/copy.idx %s/copy.pack >/dev/null && "
		 "pack=%s && cmp -s \"${pack%%.pack}.idx\" %s/copy.idx",
		 pack, root, root, root, pack, root);
	assert_int_equal(system(cmd), 0);
}

/* the pack and its index are readable by all whom the umask allows, and
 * read-only, as git makes them (a web front end may run as another user) */
static void the_files_are_read_only_for_all(void **state)
{
	char pack[256], idx[256];
	struct stat st;
	mode_t mask = umask(022);
	size_t n;
	(void)state;
	umask(mask);
	the_pack(pack, sizeof(pack));
	n = strlen(pack);
	snprintf(idx, sizeof(idx), "%.*s.idx", (int)(n - 5), pack);
	assert_int_equal(stat(pack, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444 & ~mask);
	assert_int_equal(stat(idx, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444 & ~mask);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* offsets of 2 GiB and more go to the index's table of 64-bit ones, in
 * the order of the ids; the rest stay in the 32-bit column */
static void large_offsets_go_to_the_wide_table(void **state)
{
	const uint64_t off[5] = {12, 0x7fffffffu, 0x80000000u, (5ull << 32) | 7, 0x123456789ull};
	pack_entry e[5];
	stet_buf out = STET_BUF_INIT;
	unsigned char hash[20];
	const unsigned char *p, *oids, *crcs, *small, *wide;
	size_t i, wide_seen = 0;
	(void)state;
	memset(hash, 0xab, sizeof(hash));
	for (i = 0; i < 5; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].id.id[0] = (unsigned char)(0xf0 - 0x30 * i); /* given out of order */
		e[i].id.id[19] = (unsigned char)i;
		e[i].offset = off[i];
		e[i].crc = 0x1000u + (uint32_t)i;
	}
	assert_int_equal(pack_index_write(&out, e, 5, hash), 0);
	assert_int_equal(out.size, 8 + 1024 + 5 * (20 + 4 + 4) + 3 * 8 + 20);
	p = (const unsigned char *)out.ptr;
	assert_memory_equal(p, "\377tOc\0\0\0\2", 8);
	assert_int_equal(be32(p + 8 + 4 * 0x2f), 0);
	assert_int_equal(be32(p + 8 + 4 * 0x30), 1);
	assert_int_equal(be32(p + 8 + 4 * 255), 5);
	oids = p + 8 + 1024;
	crcs = oids + 5 * 20;
	small = crcs + 5 * 4;
	wide = small + 5 * 4;
	for (i = 0; i < 5; i++) {
		size_t was = 4 - i; /* the entry given i-th from the end */
		uint32_t o = be32(small + 4 * i);
		assert_int_equal(oids[20 * i], 0xf0 - 0x30 * was);
		assert_int_equal(be32(crcs + 4 * i), 0x1000u + was);
		if (off[was] < 0x80000000u) {
			assert_int_equal(o, off[was]);
		} else {
			assert_int_equal(o, 0x80000000u | wide_seen);
			assert_int_equal((uint64_t)be32(wide + 8 * wide_seen) << 32 | be32(wide + 8 * wide_seen + 4), off[was]);
			wide_seen++;
		}
	}
	assert_int_equal(wide_seen, 3);
	assert_memory_equal(wide + 8 * 3, hash, 20);
	stet_buf_dispose(&out);
}

/* the check of every delta before it is kept: git's reading of it must give
 * the object; anything else (a wrong size, a copy outside the base, an
 * insert past the end, the opcode 0, other bytes) is refused */
static void a_delta_that_does_not_rebuild_is_refused(void **state)
{
	const char *base = "0123456789abcdef", *to = "89abXYZ01234";
	/* sizes 16 and 12; copy 4 from 8; insert "XYZ"; copy 5 from 0 */
	const unsigned char good[] = {16, 12, 0x91, 8, 4, 3, 'X', 'Y', 'Z', 0x90, 5};
	unsigned char bad[sizeof(good)];
	(void)state;
	assert_true(pack_delta_rebuilds(good, sizeof(good), base, 16, to, 12));
	assert_false(pack_delta_rebuilds(good, sizeof(good), base, 16, "89abXYZ01235", 12));
	assert_false(pack_delta_rebuilds(good, sizeof(good), base, 15, to, 12));
	assert_false(pack_delta_rebuilds(good, sizeof(good) - 1, base, 16, to, 12));
	assert_false(pack_delta_rebuilds(good, 1, base, 16, to, 12));
	memcpy(bad, good, sizeof(good));
	bad[3] = 13; /* copy 4 from 13: past the base's 16 bytes */
	assert_false(pack_delta_rebuilds(bad, sizeof(bad), base, 16, to, 12));
	memcpy(bad, good, sizeof(good));
	bad[5] = 0; /* the opcode 0 */
	assert_false(pack_delta_rebuilds(bad, sizeof(bad), base, 16, to, 12));
	memcpy(bad, good, sizeof(good));
	bad[9] = 9; /* an insert of 9 bytes where 1 is left */
	assert_false(pack_delta_rebuilds(bad, sizeof(bad), base, 16, to, 12));
	memcpy(bad, good, sizeof(good));
	bad[1] = 0x80 | 12; /* a size that never ends */
	assert_false(pack_delta_rebuilds(bad, 2, base, 16, to, 12));
}

static int setup_one(void **state)
{
	threads = 1;
	return setup(state);
}

static int setup_two(void **state)
{
	threads = 2;
	return setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_object_reads_back),
		cmocka_unit_test(chains_are_short_and_the_newest_whole),
		cmocka_unit_test(the_index_is_gits),
		cmocka_unit_test(the_files_are_read_only_for_all),
		cmocka_unit_test(large_offsets_go_to_the_wide_table),
		cmocka_unit_test(a_delta_that_does_not_rebuild_is_refused),
	};
	int failed = cmocka_run_group_tests_name("pack, one thread", tests, setup_one, teardown);
	return failed + cmocka_run_group_tests_name("pack, two threads", tests, setup_two, teardown);
}
