/*
 * Internal state of an open archive, shared by the store's files.
 */
#ifndef STET_STORE_INTERNAL_H
#define STET_STORE_INTERNAL_H

#include <git2.h>
#include <git2/sys/mempack.h>

#include "stet/store.h"
#include "stet/fp.h"
#include "util/util.h"

/* One archived article, as the key cache knows it. */
typedef struct {
	char *key;
	char *path;
	char *title;
	git_oid blob;
	char hash[33];   /* XXH3-128 of its canonical document (no archive keys) */
	uint64_t *seen;  /* earlier versions: the first 64 bits of their hashes */
	size_t nseen;
} keyent;

typedef struct {
	keyent *v;
	size_t n, cap;
	size_t *by_key, *by_path; /* open addressing: index + 1, 0 empty */
	size_t slots;
} keymap;

int keymap_add(keymap *m, const char *key, const char *path, const char *title, const git_oid *blob,
	       const char *hash);
keyent *keymap_by_key(keymap *m, const char *key);
/* record an earlier version's document hash (hex) for an entry */
int keyent_saw(keyent *e, const char *hash);
int keyent_has_seen(const keyent *e, const char *hash);
keyent *keymap_by_path(keymap *m, const char *path);
void keymap_dispose(keymap *m);

struct stet_archive {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack;
	char *root;        /* work tree, with a trailing '/' removed */
	char *gitdir;
	int writer;
	int lock_fd;
	/* config (stet.yaml) */
	char *committer_name, *committer_email;
	char *hook;
	size_t checkpoint_every;
	/* state */
	keymap keys;
	git_oid tip;       /* the last commit of the run (or main's) */
	int have_tip;
	git_oid *pending;  /* objects written since the last checkpoint */
	char **pending_names;
	size_t npending, cappending;
	char **changed;    /* paths changed since the last checkpoint */
	size_t nchanged, capchanged;
	size_t commits_since_checkpoint, commits_total;
	long long run_time;
};

/* git error -> stet error with context */
int stet_git_error(int code, const char *what);

/* keys and paths (layout.c) */
int stet_store_key(char **out, const stet_canon *c, const char *source);
int stet_store_path(char **out, const stet_canon *c, const char *source, const char *key, long long when,
		    int longer);
void stet_store_slug(stet_buf *out, const char *s, size_t max_bytes);

/* key cache (keys.c) */
int keys_load(stet_archive *a);
int keys_save(stet_archive *a);
/* the canonical document hash of a canon */
int canon_hash(char out[33], const stet_canon *c);

/* work tree (commit.c): a marker set while main is ahead of the work tree */
int stet_store_mark_checkout(stet_archive *a, int on);
int stet_store_sync_worktree(stet_archive *a);

/* config (config.c) */
int config_load(stet_archive *a);
extern const char stet_default_config[];

#endif
