/* Unit tests of src/store/tree.c: trees built by splicing raw entries are
 * the objects libgit2's git_tree_create_updated makes from the same base
 * and files, over thousands of random puts (names chosen so that git's
 * order of a folder, "a" sorting as "a/", against "a-", "a.md" and "a0"
 * is exercised); every folder written is reported with its id; a file
 * never replaces a folder nor a folder a file; invalid names, too deep
 * paths and damaged trees are errors that say which. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "xorshift.h"

static char root[64];
static git_repository *repo;
static git_odb *odb;
static odb_hasher *h; /* odb_write's: ids hashed by OpenSSL, checked against libgit2's */

static int setup(void **state)
{
	(void)state;
	git_libgit2_init();
	snprintf(root, sizeof(root), "/tmp/stet-test-tree.XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(git_repository_init(&repo, root, 1), 0);
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	odb_hasher_free(h);
	git_odb_free(odb);
	git_repository_free(repo);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	git_libgit2_shutdown();
	return 0;
}

static void blob(git_oid *id, uint64_t *rng)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "article %llu\n", (unsigned long long)xorshift64(rng));
	assert_int_equal(git_blob_create_from_buffer(id, repo, text, (size_t)n), 0);
}

/* libgit2's tree for the same puts */
static void expected(git_oid *out, const git_oid *base, const tree_put *puts, size_t n)
{
	git_tree *bt = NULL;
	git_tree_update upd[4];
	size_t i;
	if (base)
		assert_int_equal(git_tree_lookup(&bt, repo, base), 0);
	memset(upd, 0, sizeof(upd));
	for (i = 0; i < n; i++) {
		upd[i].action = GIT_TREE_UPDATE_UPSERT;
		git_oid_cpy(&upd[i].id, &puts[i].blob);
		upd[i].filemode = GIT_FILEMODE_BLOB;
		upd[i].path = puts[i].path;
	}
	if (git_tree_create_updated(out, repo, bt, n, upd) < 0)
		fail_msg("libgit2: %s (%s%s%s)", git_error_last()->message, puts[0].path, n > 1 ? ", " : "",
			 n > 1 ? puts[1].path : "");
	git_tree_free(bt);
}

/* every folder on a put's path is reported, with the id it has in root */
static void check_written(const git_oid *rootid, const tree_put *puts, size_t n, const tree_written *w, size_t nw)
{
	git_tree *t;
	size_t i, k;
	const char *slash;
	assert_int_equal(git_tree_lookup(&t, repo, rootid), 0);
	assert_true(nw > 0);
	assert_string_equal(w[nw - 1].dir, "");
	assert_true(git_oid_equal(&w[nw - 1].id, rootid));
	for (i = 0; i < n; i++)
		for (slash = strchr(puts[i].path, '/'); slash; slash = strchr(slash + 1, '/')) {
			char dir[256];
			git_tree_entry *te;
			size_t dl = (size_t)(slash - puts[i].path);
			memcpy(dir, puts[i].path, dl);
			dir[dl] = '\0';
			for (k = 0; k < nw && strcmp(w[k].dir, dir); k++)
				;
			assert_true(k < nw);
			assert_int_equal(git_tree_entry_bypath(&te, t, dir), 0);
			assert_true(git_oid_equal(git_tree_entry_id(te), &w[k].id));
			git_tree_entry_free(te);
		}
	git_tree_free(t);
}

/* folders and files; "a" is both, now and then */
static const char *const folders[] = { "a", "a-", "ab", "Z", "中文", "2024", "01" };
static const char *const files[] = { "a.md", "a-b.md", "a0", "a-.md", "b.md", "Z.md", "中文.md", "a" };
#define NFOLDERS (sizeof(folders) / sizeof(folders[0]))
#define NFILES (sizeof(files) / sizeof(files[0]))

static void random_path(char *out, size_t cap, uint64_t *rng)
{
	size_t depth = xorshift64(rng) % 4, d, len = 0;
	out[0] = '\0';
	for (d = 0; d < depth; d++)
		len += (size_t)snprintf(out + len, cap - len, "%s/", folders[xorshift64(rng) % NFOLDERS]);
	snprintf(out + len, cap - len, "%s", files[xorshift64(rng) % NFILES]);
}

static void test_same_as_libgit2(void **state)
{
	uint64_t rng = 0x7265657473ULL;
	git_oid base, got, want;
	int have = 0, step, agreed = 0, conflicts = 0;
	(void)state;
	for (step = 0; step < 3000; step++) {
		char p[2][256];
		tree_put puts[2];
		tree_written *w = NULL;
		size_t nw = 0, n = 1 + (xorshift64(&rng) % 4 == 0), i;
		int error;
		for (i = 0; i < n; i++) {
			random_path(p[i], sizeof(p[i]), &rng);
			puts[i].path = p[i];
			blob(&puts[i].blob, &rng);
		}
		error = tree_put_files(&got, &w, &nw, odb, &h, have ? &base : NULL, puts, n);
		if (error == STET_EINVALID) {
			/* a file where a folder is, or the other way: libgit2 would
			 * replace one with the other; stet never drops content */
			assert_non_null(strstr(stet_error_last(), "cannot put '"));
			assert_null(w);
			conflicts++;
			continue;
		}
		assert_int_equal(error, 0);
		expected(&want, have ? &base : NULL, puts, n);
		assert_true(git_oid_equal(&got, &want));
		check_written(&got, puts, n, w, nw);
		tree_written_free(w, nw);
		git_oid_cpy(&base, &got);
		have = 1;
		agreed++;
	}
	/* both outcomes were exercised */
	assert_true(agreed > 1000);
	assert_true(conflicts > 100);
}

static void test_conflicts_and_names(void **state)
{
	uint64_t rng = 42;
	git_oid t1, t2;
	tree_put put;
	tree_written *w = NULL;
	size_t nw = 0;
	static const char *const bad[] = { "../x.md", "a/./x.md", "a//x.md", "a/", "", ".git/x", "a/.GIT/x.md", "/x.md" };
	size_t i;
	(void)state;
	put.path = "src/2024/01/x.md";
	blob(&put.blob, &rng);
	assert_int_equal(tree_put_files(&t1, &w, &nw, odb, &h, NULL, &put, 1), 0);
	assert_int_equal(nw, 4); /* bottom up, the root last */
	assert_string_equal(w[0].dir, "src/2024/01");
	assert_string_equal(w[3].dir, "");
	tree_written_free(w, nw);
	/* a folder under a file */
	put.path = "src/2024/01/x.md/y.md";
	assert_int_equal(tree_put_files(&t2, &w, &nw, odb, &h, &t1, &put, 1), STET_EINVALID);
	assert_non_null(strstr(stet_error_last(), "'src/2024/01/x.md' is a file there"));
	/* a file over a folder */
	put.path = "src/2024";
	assert_int_equal(tree_put_files(&t2, &w, &nw, odb, &h, &t1, &put, 1), STET_EINVALID);
	assert_non_null(strstr(stet_error_last(), "'src/2024' is a folder there"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put.path = bad[i];
		assert_int_equal(tree_put_files(&t2, &w, &nw, odb, &h, &t1, &put, 1), STET_EINVALID);
		assert_non_null(strstr(stet_error_last(), "is not a valid name"));
		assert_null(w);
	}
}

static void test_too_deep(void **state)
{
	uint64_t rng = 7;
	char path[256] = "";
	size_t len = 0;
	git_oid t;
	tree_put put;
	tree_written *w = NULL;
	size_t nw = 0;
	int d;
	(void)state;
	for (d = 0; d < TREE_MAX_DEPTH + 1; d++)
		len += (size_t)snprintf(path + len, sizeof(path) - len, "d/");
	snprintf(path + len, sizeof(path) - len, "x.md");
	put.path = path;
	blob(&put.blob, &rng);
	assert_int_equal(tree_put_files(&t, &w, &nw, odb, &h, NULL, &put, 1), STET_ETOOBIG);
	assert_non_null(strstr(stet_error_last(), "folders deep"));
}

static void test_damaged_and_old_modes(void **state)
{
	uint64_t rng = 9;
	git_oid sub, bad, base, got, want;
	tree_put put;
	tree_written *w = NULL;
	size_t nw = 0;
	char raw[128];
	size_t n;
	(void)state;
	put.path = "a/new.md";
	blob(&put.blob, &rng);
	/* a damaged tree: a mode with no name */
	assert_int_equal(git_odb_write(&bad, odb, "100644 ", 7, GIT_OBJECT_TREE), 0);
	assert_int_equal(tree_put_files(&got, &w, &nw, odb, &h, &bad, &put, 1), STET_ECORRUPT);
	assert_non_null(strstr(stet_error_last(), "tree of '/' is damaged (entry at byte 0)"));
	/* a folder's mode written "040000", as some old tools did: the tree
	 * stet writes has "40000", as libgit2's does */
	assert_int_equal(git_odb_write(&sub, odb, "", 0, GIT_OBJECT_TREE), 0);
	n = (size_t)snprintf(raw, sizeof(raw), "040000 old%c", 0);
	memcpy(raw + n, sub.id, GIT_OID_RAWSZ);
	n += GIT_OID_RAWSZ;
	assert_int_equal(git_odb_write(&base, odb, raw, n, GIT_OBJECT_TREE), 0);
	assert_int_equal(tree_put_files(&got, &w, &nw, odb, &h, &base, &put, 1), 0);
	tree_written_free(w, nw);
	expected(&want, &base, &put, 1);
	assert_true(git_oid_equal(&got, &want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libgit2),
		cmocka_unit_test(test_conflicts_and_names),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_damaged_and_old_modes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
