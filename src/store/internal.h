/*
 * Internal state of an open archive, shared by the store's files.
 */
#ifndef STET_STORE_INTERNAL_H
#define STET_STORE_INTERNAL_H

#include <git2.h>
#include <git2/sys/mempack.h>
#include <time.h>

#include "stet/store.h"
#include "stet/fp.h"
#include "stet/index.h"
#include "util/util.h"

enum { KE_ARTICLE = 0, KE_REPOST = 1, KE_ALIAS = 2 };

/* One archived article (or a key that points at one), as the key cache
 * knows it. */
typedef struct {
	char *key;
	char *path;      /* the article's file; for pointers, the file they point at */
	char *title;
	int kind;        /* KE_* */
	char *near_of;   /* articles that are near-duplicates: the original's path */
	int distance;    /* and how near: simhash distance (-1 unknown), containment */
	double containment;
	stet_fingerprint fp; /* articles only */
	git_oid blob;
	char hash[33];   /* XXH3-128 of its canonical document (no archive keys) */
	uint64_t *seen;  /* earlier versions: the first 64 bits of their hashes */
	size_t nseen;
	int dirty;       /* changed since the key cache was read: to be appended */
	size_t idx;      /* its place in keymap.v */
	uint32_t gid;    /* its place in the archive's order (snapshot id, then new ones) */
	uint32_t snap;   /* the snapshot entry it continues + 1, or 0 */
	int stale;       /* the snapshot's postings of it are not its own (changed before this run) */
	int journaled;   /* its record is in the journal (read, or written by this run) */
	int since_cut;   /* changed after a snapshot being written took the entries as they were */
} keyent;

/* the snapshot (snapshot.c): a memory-mapped, read-only file */
typedef struct snap snap;
typedef struct {
	uint64_t simhash;
	double containment;
	uint64_t key, path, title, near_of; /* offsets into the strings (near_of 0: none) */
	uint64_t sent, seen;                /* offsets into the numbers */
	uint32_t nsent, nseen;
	int32_t kind, distance, too_short;
	unsigned char blob[20];
	char hash[33];
	char exact[33];
} snap_ent;
/* 0 opened, 1 missing or not a snapshot, or an error */
int snap_open(snap **out, const char *file);
void snap_close(snap *s);
uint64_t snap_id(const snap *s);
size_t snap_count(const snap *s);
int snap_get(const snap_ent **out, const snap *s, uint32_t id);
const char *snap_str(const snap *s, uint64_t off);
const uint64_t *snap_num(const snap *s, uint64_t off);
/* *id: the entry, or -1 */
int snap_by_key(const snap *s, const char *key, int64_t *id);
int snap_by_path(const snap *s, const char *path, int64_t *id);
int snap_sentences(const snap *s, uint64_t sentence, const uint32_t **ids, size_t *n);
/* what snap_sentences will read of sentence, asked of the memory ahead:
 * stage 0 the directory's entry, stage 1 (after 0) the bucket */
void snap_sentences_prefetch(const snap *s, uint64_t sentence, int stage);
/* the same for snap_sim_query's reads of fp's buckets */
void snap_sim_prefetch(const snap *s, uint64_t fp, int stage);
int snap_exacts(const snap *s, uint64_t exact, const uint32_t **ids, size_t *n);
int snap_sim_query(const snap *s, uint64_t fp, int k, stet_simindex_cb cb, void *payload);
/* the version the file was written in (before 4, an article that has a
 * sentence twice has two postings for it) */
uint32_t snap_version(const snap *s);
/* does the entry have postings (an article with an exact fingerprint) */
int snap_indexed(const snap_ent *s);
/* the first 64 bits of a hex exact fingerprint */
uint64_t snap_exact64(const char *hex);
/* entry i for the writer: *out may point at scratch. The snapshot goes
 * to `file` by way of a temporary file: `spare` (NULL: none), the
 * snapshot of its kind before the last, which keys.c keeps, written over
 * in place when nobody reads it */
typedef int (*snap_view_fn)(const keyent **out, size_t i, keyent *scratch, void *payload);
/* The strings and numbers of snapshots (version 5) are kept apart, in two
 * files appended to (strings-GEN, numbers-GEN beside the snapshot): a
 * generation, which the big, middle and small snapshots share and which a
 * merge never copies (docs/format.md). A writer's heap: the generation
 * (0: a new one, named by the snapshot's id) and its ends, where the next
 * strings and numbers go (what every named snapshot of it reads, and what
 * this process wrote since); advanced by a write that succeeds */
typedef struct {
	uint64_t gen;
	uint64_t nstr, nnum; /* bytes, numbers */
} snap_heap;
/* heap NULL: a new generation */
int snap_write(const char *file, const char *spare, uint64_t id, size_t n, snap_view_fn view, void *payload,
	       snap_heap *heap);
/* a snapshot of the same generation whose entries a merge takes as they
 * are: view entries first to first + its count - 1 */
typedef struct {
	const snap *s;
	size_t first;
} snap_src;
/* the same snapshot from old and the entries that changed: entry i of the
 * view is looked at only when i is new or touched[i] (else it is old's,
 * or a source's: srcs, nsrc); heap NULL: old's generation, from old's
 * ends. 1: declined (old is of an earlier version or another
 * generation; or, compact set, the generation's dead bytes would pass a
 * quarter of it), write it whole */
int snap_merge(const char *file, const char *spare, uint64_t id, const snap *old, size_t n, snap_view_fn view,
	       void *payload, const uint32_t *touched, const snap_src *srcs, size_t nsrc, snap_heap *heap,
	       int compact);
/* the generation s reads (gen 0: its own strings and numbers, before
 * version 5), its ends there, and the dead bytes it counts */
void snap_heap_of(const snap *s, snap_heap *out);
uint64_t snap_dead(const snap *s);

typedef struct {
	keyent **v;      /* entries never move: pointers stay valid */
	size_t n, cap;
	size_t *by_key, *by_path; /* open addressing: index + 1, 0 empty */
	size_t slots;
	/* the key cache file as read: where its last complete batch ends
	 * (0: rewrite it whole), how many records and batches it holds */
	size_t cache_end, cache_records, cache_batches;
	/* the snapshots the journal continues: the big one (NULL: none), ids
	 * 0 to nbase - 1; the middle one over it (NULL: none), ids nbase to
	 * nmid - 1; the small one over that (NULL: none), the entries added
	 * since, ids nmid to nsnap - 1 (docs/format.md); by id, the entry that
	 * took it over + 1 */
	snap *snap, *mid, *top;
	size_t nbase, nmid, nsnap;
	uint32_t *shadow;
	uint32_t next_gid;
	int base_moved; /* this run wrote a new big snapshot: no other now */
	int mid_moved;  /* this run wrote a new middle one: no small one now */
	/* where the next snapshot's strings and numbers go (snapshot.c; heap.gen
	 * 0: a new generation), once heap_known */
	snap_heap heap;
	int heap_known;
	struct keys_bg *bg; /* a new snapshot being written on a thread of its own (keys.c) */
} keymap;

/* the snapshot that holds id, and id's place in it (NULL: none) */
const snap *keymap_layer(const keymap *m, uint32_t id, uint32_t *local);

int keymap_add(keymap *m, const char *key, const char *path, const char *title, const git_oid *blob,
	       const char *hash);
/* make the entry of key a pointer (KE_REPOST, KE_ALIAS) or an article */
int keymap_set_kind(keymap *m, keyent *e, int kind, const char *path);
/* take over a fingerprint (f is emptied) */
void keyent_set_fp(keyent *e, stet_fingerprint *f);
/* the entry of a key, or of the article at a path (*out NULL: none),
 * taken over from the snapshot when it is there */
int keymap_find_key(keyent **out, keymap *m, const char *key);
int keymap_find_path(keyent **out, keymap *m, const char *path);
/* the entry that holds snapshot entry id (taken over on first use) */
int keymap_from_snap(keyent **out, keymap *m, uint32_t id);
/* take over every snapshot entry and close it (commands that read all) */
int keymap_load_all(keymap *m);
/* in memory only: for maps without a snapshot (after keymap_load_all) */
keyent *keymap_by_key(keymap *m, const char *key);
keyent *keymap_by_path(keymap *m, const char *path);
/* record an earlier version's document hash (hex) for an entry */
int keyent_saw(keyent *e, const char *hash);
int keyent_has_seen(const keyent *e, const char *hash);
void keymap_dispose(keymap *m);

struct stet_archive {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *staging; /* new objects (odb.c) */
	struct odb_hasher *hasher; /* odb_write's, on the run's thread */
	git_odb_backend *packs; /* the wrapped pack backend (odb.c), or NULL */
	char *root;        /* work tree (a bare archive: its folder), no trailing '/' */
	char *gitdir;
	char *commondir;   /* where objects and refs are (gitdir but in a linked work tree) */
	int bare;          /* no work tree: stet.yaml is read from main's tree */
	int writer;
	int lock_fd;
	/* config (stet.yaml) */
	char *committer_name, *committer_email;
	char *hook;
	size_t checkpoint_every;
	stet_buf warnings; /* found reading stet.yaml, a line each */
	/* state */
	keymap keys;
	git_oid tip;       /* the last commit of the run (or main's) */
	git_oid tip_tree, tip_tree_of; /* tip's tree, known when tip_tree_of is tip */
	git_oid main_at;   /* main on disk: as the run found it, then where its last checkpoint put it */
	int have_tip;
	git_oid *pending;  /* objects written since the last checkpoint */
	char **pending_names;
	size_t npending, cappending;
	char **changed;    /* paths changed since the last checkpoint */
	size_t nchanged, capchanged;
	struct flusher *flush; /* the checkpoints' thread (flush.c), or NULL */
	size_t commits_since_checkpoint, commits_total;
	long long run_time;
	struct timespec locked_at; /* when a writer took the archive's lock */
	/* the duplicate index, built from keys (index.c) */
	stet_simindex *sim;
	stet_postings *sentences;  /* sentence -> article entries */
	stet_postings *exacts;     /* first 64 bits of the exact fingerprint -> entries */
	struct counter *observed;  /* sentences of inputs observed but not yet put */
	struct counter *unposted;  /* sentences of the snapshot's stale entries (not to count) */
	stet_fp_text **texts;      /* prepared bodies by entry, kept for verification */
	size_t ntexts, text_bytes;
};

/* archive fields (fields.c) */
typedef struct {
	char *key;
	stet_strlist aliases;
	stet_strlist repost_source, repost_key, repost_date; /* parallel */
	char *near_of;
	int distance;
	double containment;
} afields;
int afields_read(afields *f, const char *text, size_t len);
void afields_dispose(afields *f);
/* the archived file: canonical document + fields */
int afields_render(stet_buf *out, const stet_canon *c, const afields *f);
/* the same from the canonical document already written (stet_canon_write) */
int afields_render_doc(stet_buf *out, const stet_buf *doc, const afields *f);

/* the duplicate index (dedup.c) */
int index_build(stet_archive *a);
int index_add(stet_archive *a, size_t entry);
void index_free(stet_archive *a);
/* how many stories hold a sentence: archived articles + observed inputs */
size_t sentence_df(stet_archive *a, uint64_t s);
int observe(stet_archive *a, const stet_fingerprint *f, int sign);

/* decisions beyond keys (dedup.c): exact and near duplicates of a new text */
typedef struct {
	int verdict;          /* STET_V_NEW, _REPOST, _ALIAS, _NEAR */
	size_t of;            /* entry matched */
	int distance;
	double containment;
} dup_match;
/* `mine`: the input's prepared text, or NULL to prepare it when needed */
int find_duplicate(dup_match *m, stet_archive *a, const stet_canon *c, const char *source, const stet_fingerprint *f,
		   size_t self, const stet_fp_text *mine);
/* every verified near match of a text (stet similar) */
typedef int (*match_cb)(size_t entry, const stet_fp_overlap *o, int distance, void *payload);
int find_similar(stet_archive *a, const stet_canon *c, const stet_fingerprint *f, size_t self, int all, match_cb cb,
		 void *payload, const stet_fp_text *mine);
int keyent_set_near(keyent *e, const char *of, int distance, double containment);
/* read an archived file: its canonical form and fields (dedup.c); with
 * c NULL, its fields only */
int read_archived(stet_canon **c, afields *f, stet_archive *a, const git_oid *blob);
/* an article entry's body prepared for overlaps (borrowed: valid until
 * the next call) */
int text_of(const stet_fp_text **out, stet_archive *a, size_t entry);
/* the entry's kept text, if any (borrowed: valid until the entry's text
 * is kept again or dropped); no reading */
const stet_fp_text *text_kept(const stet_archive *a, size_t entry);
/* remember an entry's body, prepared (taken from `prepared` when not
 * NULL, emptied); forget it when body is NULL */
void text_keep(stet_archive *a, size_t entry, const char *body, stet_fp_text *prepared);

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
/* keys_save in two steps: keys_prepare renders what the key cache gets
 * now (and makes a new snapshot when it is due) and counts it written;
 * keys_write, on any thread, writes it (appended to the journal, or the
 * journal replaced) */
typedef struct {
	char *file;
	stet_buf bytes;
	int append;    /* 1: at offset at of the journal; 0: the whole journal */
	size_t at;
	uint64_t base; /* whole: the snapshot it names (0: none); the others go */
	uint64_t mid;  /* whole: the middle snapshot it names (0: none) */
	uint64_t top;  /* whole: the small snapshot it names (0: none) */
	uint64_t gen;  /* whole: the generation of strings and numbers they read (0: none); others go */
} keys_batch;
/* slack: the journal may grow to slack times its limit before a new
 * snapshot is made (1, or 2 at a checkpoint: see keys_due) */
int keys_prepare(stet_archive *a, keys_batch *kb, size_t slack);
/* whether the journal as read has passed its limit (a writer's open then
 * makes the new snapshot: keys_save) */
int keys_due(const stet_archive *a);
/* keys_save for a due journal, its new snapshot written on a thread of
 * its own while the run goes on (from the entries as they are now; the
 * journal goes on over the old snapshots until keys_prepare finds the
 * new one written: then the journal names it); without a thread, now */
int keys_compact_start(stet_archive *a);
/* wait for that thread (the end of a run: its next keys_prepare names
 * the new snapshot). Never fails: a snapshot that could not be written
 * is dropped with a warning, and the journal goes on */
void keys_compact_wait(stet_archive *a);
int keys_write(const char *gitdir, const keys_batch *kb);
void keys_batch_dispose(keys_batch *kb);
/* the canonical document hash of a canon */
int canon_hash(char out[33], const stet_canon *c);
/* canon_hash, the document it hashes left in doc */
int canon_hash_doc(char out[33], const stet_canon *c, stet_buf *doc);

/* the branch stet writes */
#define MAIN_REF "refs/heads/main"

/* work tree (commit.c): a marker set while main is ahead of the work tree
 * and its index, naming the commit they are at (base; NULL removes it; an
 * existing marker is kept: its commit is still the one they are at);
 * whether the work tree is main's (someone who checked out another branch
 * keeps theirs) */
int stet_store_mark_checkout(stet_archive *a, const git_oid *base);
int stet_store_head_is_main(stet_archive *a);
int stet_store_keeps_worktree(stet_archive *a);
int stet_store_sync_worktree(stet_archive *a);

/* prepared inputs (prepare.c) */
struct stet_prepared {
	stet_fingerprint fp;
	stet_fp_text text;
	int have_text;
	char hash[33]; /* canon_hash with the source put will use */
	stet_buf doc;  /* the canonical document that hash is of (stet_canon_write) */
	char *key;     /* stet_store_key with that source */
	int graded;    /* another input of the batch has the key: text keeps its tokens */
};

/* a commit's tree (tree.c): base (NULL: empty) with files put, every
 * changed tree written to odb; written: each of them with its folder
 * ("" the root), bottom up, the root last */
#define TREE_MAX_DEPTH 32
typedef struct {
	const char *path; /* "source/2024/01/02/title-h.md" */
	git_oid blob;
} tree_put;
typedef struct {
	char *dir;
	git_oid id;
} tree_written;
int tree_put_files(git_oid *root, tree_written **written, size_t *nwritten, git_odb *odb, struct odb_hasher **h,
		   const git_oid *base, const tree_put *puts, size_t n);
void tree_written_free(tree_written *w, size_t n);

/* the object store of a writing run (odb.c): a->odb, set as the
 * repository's; the packs are re-read only after odb_packs_changed:
 * stet's new pack `name` (pack-HASH.idx) taken in by name, or (NULL)
 * the folder read again */
int odb_open(stet_archive *a);
int odb_packs_changed(stet_archive *a, const char *name);
/* how often the run's search read the pack folder (tests) */
size_t odb_folder_reads(const stet_archive *a);
/* whether libgit2's backend of the whole folder of packs was made (for
 * what the backend's own search missed, or what is rare): tests */
int odb_made_whole(const stet_archive *a);
/* the packs a writing run searches through git's multi-pack-index,
 * through stet's, and one by one (counts[0..2]): tests */
void odb_search_counts(const stet_archive *a, size_t counts[3]);
/* how many objects were read where an index says they are, by stet's own
 * reading of the pack (not libgit2's backend of the pack): tests */
size_t odb_reads_at(const stet_archive *a);
/* the place of oid among n sorted ids with their fanout (git's: 256
 * big-endian counts), as in a pack's index or the multi-pack-index; -1 if
 * not there */
long long odb_find_id(const unsigned char *fanout, const unsigned char *ids, uint32_t n, const git_oid *oid);
/* at the end of a writing run, when enough packs are in neither: write
 * the packs' multi-pack-index again over all of them, or stet's own one
 * of the packs git's does not cover (<gitdir>/stet/recent-midx); a
 * failure is a warning, never an error */
int odb_index_packs(stet_archive *a);

/* v big-endian into p[0..3], as git's pack and multi-pack indexes hold
 * their numbers (pack.c, midx.c) */
static inline void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* midx.c: one sorted list of objects for midx_write: n ids of 20 bytes,
 * ascending, and where entry i is (where: the pack, as an index into
 * midx_write's names, and its offset there; -1 if it cannot say) */
typedef struct midx_list {
	const unsigned char *ids;
	uint32_t n;
	int (*where)(const struct midx_list *l, uint32_t i, uint32_t *pack, uint64_t *off);
	const void *src;  /* where's own */
	const char *name; /* for errors */
	int small;        /* every place it gives is under 2 GiB (its index has no table of larger ones) */
} midx_list;
/* a multi-pack-index (git's format, version 1) of the lists' objects,
 * each id once (the first list's place when two lists have it), naming
 * the given packs' .idx files (base names); written to fd (open to read
 * too: part of it is read back for its SHA-1), which the caller syncs
 * and renames. what names the file in errors. 0, or STET_E*
 * (STET_ECORRUPT: a list out of order or placing an object nowhere) */
int midx_write(int fd, const char *what, const char *const *names, size_t nnames, const midx_list *lists,
	       size_t nlists);
/* a writer, under the lock: remove what killed runs left in the object
 * store (stet's temporary pack files, tmp_stet_*; libgit2's, pack_git2_*,
 * once unchanged for an hour: older stet wrote them) */
void odb_sweep(stet_archive *a);
/* and the key cache's temporary files (keys.tmp.PID) a killed run left */
void keys_sweep(stet_archive *a);

/* pack.c: a checkpoint's objects (ids staged in order, each named by its
 * path, "" the root tree, NULL a commit), read from `objects`, written as
 * one pack with its index into the folder `dir`, compressed on up to
 * `threads` threads; idx_name (or NULL): the index's file name */
enum { PACK_IDX_NAME = 64 };
int pack_write(const char *dir, git_odb_backend *objects, const git_oid *ids, char *const *names, size_t n,
	       int threads, char idx_name[PACK_IDX_NAME]);
/* an object's line in a pack's index: its id, the offset of its entry in
 * the pack, the CRC-32 of the entry's bytes */
typedef struct {
	git_oid id;
	uint64_t offset;
	uint32_t crc;
} pack_entry;
/* the pack's index (git's .idx, version 2) into out, up to its own
 * trailing hash, which the writer adds; e is sorted by id here */
int pack_index_write(stet_buf *out, pack_entry *e, size_t n, const unsigned char pack_hash[20]);
/* whether a git delta (nd bytes) applied to base gives `to` exactly */
int pack_delta_rebuilds(const void *delta, size_t nd, const void *base, size_t nb, const void *to, size_t nt);
/* the object a git delta makes of base: *out (malloc'd, *nt bytes, at
 * most max), 0; -1 if it is not a delta of this base, or too big */
int pack_delta_apply(unsigned char **out, size_t *nt, const void *delta, size_t nd, const void *base, size_t nb,
		     size_t max);

/* the work tree (worktree.c): the files a checkpoint changed
 * (a->changed), with main's content, read on the run's thread; written,
 * with their entries in *index (opened and read on first use), on any
 * thread; the index is written by worktree_index_write, once a run.
 * worktree_resync: bring the work tree and index from commit base's tree
 * to main's, writing and removing only the paths that differ. */
typedef struct {
	char *path;
	void *data;
	size_t size;
	git_oid id;
} wt_file;
int worktree_collect(stet_archive *a, wt_file **files, size_t *n);
int worktree_files(const char *root, const char *gitdir, git_index **index, const wt_file *files, size_t n);
int worktree_index_open(git_index **index, const char *gitdir);
int worktree_index_write(git_index *index);
int worktree_resync(stet_archive *a, const git_oid *base);
void worktree_files_free(wt_file *files, size_t n);

/* the objects of a writing run (odb.c): staged in memory (two mempacks
 * behind one backend, a->staging) until a checkpoint's pack holds them.
 * freeze: the current objects are the checkpoint's, new ones go to the
 * other mempack; release: the frozen ones are in a pack now (after
 * odb_packs_changed); the checkpoint's packer reads the frozen one. */
int odb_staging_open(stet_archive *a);
/* git_odb_write, the id hashed with OpenSSL's SHA-1 rather than libgit2's
 * slower collision-detecting one, and no check for a copy elsewhere: the
 * object goes to odb's first backend that writes (a writing run's
 * mempack). *h: NULL before the first write, made by it; freed with
 * odb_hasher_free. 0, or STET_E* naming what. */
typedef struct odb_hasher odb_hasher;
int odb_write(git_oid *out, git_odb *odb, odb_hasher **h, const void *data, size_t len, git_object_t type,
	      const char *what);
void odb_hasher_free(odb_hasher *h);
git_odb_backend *odb_staging_freeze(stet_archive *a);
void odb_staging_release(stet_archive *a);

/* checkpoints (flush.c): flush_start hands what the run wrote since the
 * last checkpoint (a->pending, a->tip, the key cache's batch, a->changed)
 * to a thread that packs the objects, moves main, writes the key cache
 * and the work tree, in that order; one at a time (`last`: the run waits
 * for this one, so its pack is compressed on two threads). flush_wait waits for
 * it and returns its error; after an error every later call returns it
 * again (the run must stop: nothing more is written). */
typedef struct flusher flusher;
int flush_start(stet_archive *a, int last);
int flush_wait(stet_archive *a);
/* at a run's first commit: the checkpoint's thread reads the git index
 * ahead (it is written at the end; flush_wait waits for it too) */
int flush_prefetch(stet_archive *a);
/* the end of a run, after the last flush_wait: the git index, kept in
 * memory from the first checkpoint on, is written and the marker goes */
int flush_finish(stet_archive *a);
void flush_free(stet_archive *a);

/* config (config.c) */
int config_load(stet_archive *a);
/* Parse stet.yaml's text (data NULL: none) into a's settings; errors name path. */
int config_parse(stet_archive *a, const char *path, const char *data, size_t len);
extern const char stet_default_config[];

#endif
