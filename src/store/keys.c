/*
 * The key cache: which key lives at which path, with its blob and the
 * hash of its canonical document. It is a cache of what main's tree says,
 * kept in .git/stet/keys with the commit it reflects; when that is not
 * main's tip (a git pull, a killed run, a deleted file) it is rebuilt from
 * the archived files themselves.
 */
#include "internal.h"
#include "stet/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* Format 6 is a journal over a snapshot (snapshot.c): its second line
 * "@base ID" names the snapshot it continues ("none": it holds everything);
 * then records (one entry's whole state a line; a later record of a key
 * replaces an earlier one and the snapshot's), each batch closed by a line
 * "@tip COMMIT". A run appends only what it changed, so saving costs what
 * the run did, not what the archive holds; a batch left unclosed by a
 * killed run is ignored and cut off. When the journal grows past
 * compact_at() records, everything goes into a new snapshot and the
 * journal starts again. */
#define CACHE_MAGIC "stet-keys 6"
#define BASE_MARK "@base "
#define TIP_MARK "@tip "
/* Format 7 is format 6 with a third line "@top ID": the small snapshot
 * between the journal and the big one (snapshot.c's format, in a file
 * top-ID), which holds the entries added since the big one was written,
 * its ids following the big one's. When the journal is full and the small
 * snapshot has room, only the small one is written again (it costs what
 * it holds, not the archive); the journal then starts again with the
 * records of the big one's entries that changed. Written only when there
 * is a small snapshot: a journal without one stays format 6. */
#define CACHE_MAGIC_TOP "stet-keys 7"
#define TOP_MARK "@top "
/* Format 8 is format 6 with a third line "@mid ID", and then maybe the
 * line "@top ID": a middle snapshot (file mid-ID) between the big one and
 * the small one, which holds the entries added after the big one and
 * before the small one (ids following the big one's; the small one's
 * follow it). When the small snapshot is full, it goes into the middle
 * one (only that is written again), and the big one is written again
 * only when the middle one is full: at 1,000,000 articles a big merge
 * wrote 1.1 GB every 32 runs of 2,000. Written only when there is a
 * middle snapshot. */
#define CACHE_MAGIC_MID "stet-keys 8"
#define MID_MARK "@mid "

static size_t slot_of(const char *s, size_t slots)
{
	return (size_t)(XXH3_64bits(s, strlen(s)) & (slots - 1));
}

static int rehash(keymap *m, size_t slots)
{
	size_t *bk = stet_calloc(slots, sizeof(size_t)), *bp = stet_calloc(slots, sizeof(size_t)), i;

	if (!bk || !bp) {
		free(bk);
		free(bp);
		return stet_error_oom();
	}
	for (i = 0; i < m->n; i++) {
		size_t s = slot_of(m->v[i]->key, slots);
		while (bk[s])
			s = (s + 1) & (slots - 1);
		bk[s] = i + 1;
		if (m->v[i]->kind != KE_ARTICLE)
			continue;
		s = slot_of(m->v[i]->path, slots);
		while (bp[s])
			s = (s + 1) & (slots - 1);
		bp[s] = i + 1;
	}
	free(m->by_key);
	free(m->by_path);
	m->by_key = bk;
	m->by_path = bp;
	m->slots = slots;
	return 0;
}

keyent *keymap_by_key(keymap *m, const char *key)
{
	size_t s;
	if (!m->slots)
		return NULL;
	for (s = slot_of(key, m->slots); m->by_key[s]; s = (s + 1) & (m->slots - 1))
		if (!strcmp(m->v[m->by_key[s] - 1]->key, key))
			return m->v[m->by_key[s] - 1];
	return NULL;
}

keyent *keymap_by_path(keymap *m, const char *path)
{
	size_t s;
	if (!m->slots)
		return NULL;
	for (s = slot_of(path, m->slots); m->by_path[s]; s = (s + 1) & (m->slots - 1))
		if (!strcmp(m->v[m->by_path[s] - 1]->path, path) && m->v[m->by_path[s] - 1]->kind == KE_ARTICLE)
			return m->v[m->by_path[s] - 1];
	return NULL;
}

/* 16 hex digits (as the cache writes them) to a number; *ok = 0 if not */
static uint64_t hex16(const char *s, int *ok)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 16; i++) {
		unsigned c = (unsigned char)s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else {
			*ok = 0;
			return 0;
		}
		v = v << 4 | d;
	}
	return v;
}

static uint64_t hash64(const char *hex)
{
	int ok = 1;
	return hex16(hex, &ok);
}

int keyent_has_seen(const keyent *e, const char *hash)
{
	uint64_t h = hash64(hash);
	size_t i;
	for (i = 0; i < e->nseen; i++)
		if (e->seen[i] == h)
			return 1;
	return 0;
}

static int seen_push(keyent *e, const char *hash)
{
	uint64_t *v;
	if (strlen(hash) < 16 || keyent_has_seen(e, hash))
		return 0;
	if (!(v = stet_realloc(e->seen, (e->nseen + 1) * sizeof(*v))))
		return stet_error_oom();
	v[e->nseen++] = hash64(hash);
	e->seen = v;
	e->dirty = 1;
	return 0;
}

int keyent_saw(keyent *e, const char *hash)
{
	return strcmp(hash, e->hash) ? seen_push(e, hash) : 0;
}

static void keyent_free(keyent *e)
{
	if (!e)
		return;
	stet_fp_dispose(&e->fp);
	free(e->near_of);
	free(e->seen);
	free(e->key);
	free(e->path);
	free(e->title);
	free(e);
}

/* a new entry, in memory only (its key not known yet) */
static int new_entry(keyent **out, keymap *m, const char *key, const char *path, const char *title,
		     const git_oid *blob, const char *hash)
{
	keyent *e;
	size_t s;
	int error;

	*out = NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		keyent **v = stet_realloc(m->v, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		m->v = v;
		m->cap = cap;
	}
	if ((m->n + 1) * 2 > m->slots && (error = rehash(m, m->slots ? m->slots * 2 : 2048)) < 0)
		return error;
	if (!(e = stet_calloc(1, sizeof(*e))))
		return stet_error_oom();
	e->key = stet_strdup(key);
	e->path = stet_strdup(path);
	e->title = stet_strdup(title ? title : "");
	e->distance = -1;
	e->dirty = 1;
	if (!e->key || !e->path || !e->title) {
		keyent_free(e);
		return stet_error_oom();
	}
	git_oid_cpy(&e->blob, blob);
	memcpy(e->hash, hash, 33);
	e->idx = m->n;
	e->gid = m->next_gid++;
	m->v[m->n++] = e;
	for (s = slot_of(key, m->slots); m->by_key[s]; s = (s + 1) & (m->slots - 1))
		;
	m->by_key[s] = m->n;
	for (s = slot_of(path, m->slots); m->by_path[s]; s = (s + 1) & (m->slots - 1))
		;
	m->by_path[s] = m->n;
	*out = e;
	return 0;
}

/* n numbers of the snapshot from off, into a fresh array */
static int copy_numbers(uint64_t **v, size_t *count, const snap *sn, uint64_t off, size_t n)
{
	if (!n)
		return 0;
	if (!(*v = stet_malloc(n * sizeof(**v))))
		return stet_error_oom();
	memcpy(*v, snap_num(sn, off), n * sizeof(**v));
	*count = n;
	return 0;
}

const snap *keymap_layer(const keymap *m, uint32_t id, uint32_t *local)
{
	if (id < m->nbase) {
		*local = id;
		return m->snap;
	}
	if (id < m->nmid) {
		*local = (uint32_t)(id - m->nbase);
		return m->mid;
	}
	*local = (uint32_t)(id - m->nmid);
	return id < m->nsnap ? m->top : NULL;
}

int keymap_from_snap(keyent **out, keymap *m, uint32_t id)
{
	const snap_ent *s;
	const snap *L;
	keyent *e;
	git_oid blob;
	uint32_t local;
	int error;

	*out = NULL;
	if (!(L = keymap_layer(m, id, &local)))
		return stet_error_set(STET_ECORRUPT, "key cache: no snapshot entry %u", (unsigned)id);
	if (m->shadow[id]) {
		*out = m->v[m->shadow[id] - 1];
		return 0;
	}
	if ((error = snap_get(&s, L, local)) < 0)
		return error;
	if (s->hash[32] || s->exact[32])
		return stet_error_set(STET_ECORRUPT, "key cache: snapshot entry %u is damaged; run 'stet index'", (unsigned)id);
	git_oid_fromraw(&blob, s->blob);
	if ((error = new_entry(&e, m, snap_str(L, s->key), snap_str(L, s->path), snap_str(L, s->title), &blob,
			       s->hash)) < 0)
		return error;
	m->next_gid--; /* it keeps its place in the order */
	e->gid = id;
	e->snap = id + 1;
	e->kind = s->kind;
	e->distance = s->distance;
	e->containment = s->containment;
	if (s->near_of && !(e->near_of = stet_strdup(snap_str(L, s->near_of))))
		return stet_error_oom();
	memcpy(e->fp.exact, s->exact, 33);
	e->fp.simhash = s->simhash;
	e->fp.too_short = s->too_short;
	if ((error = copy_numbers(&e->fp.sent, &e->fp.nsent, L, s->sent, s->nsent)) < 0 ||
	    (error = copy_numbers(&e->seen, &e->nseen, L, s->seen, s->nseen)) < 0)
		return error;
	e->dirty = 0;
	m->shadow[id] = (uint32_t)e->idx + 1;
	*out = e;
	return 0;
}

/* *id: str's entry (a key, or an article's path) in the small snapshot,
 * which holds the newest entries, else in the middle one, else in the big
 * one; -1 none */
static int snaps_find(const keymap *m, int (*by)(const snap *, const char *, int64_t *), const char *str, int64_t *id)
{
	int error;

	*id = -1;
	if (m->top && (error = by(m->top, str, id)) < 0)
		return error;
	if (*id >= 0) {
		*id += (int64_t)m->nmid;
		return 0;
	}
	if (m->mid && (error = by(m->mid, str, id)) < 0)
		return error;
	if (*id >= 0) {
		*id += (int64_t)m->nbase;
		return 0;
	}
	return by(m->snap, str, id);
}

int keymap_find_key(keyent **out, keymap *m, const char *key)
{
	int64_t id;
	int error;

	if ((*out = keymap_by_key(m, key)) || !m->snap)
		return 0;
	if ((error = snaps_find(m, snap_by_key, key, &id)) < 0 || id < 0)
		return error;
	return keymap_from_snap(out, m, (uint32_t)id);
}

int keymap_find_path(keyent **out, keymap *m, const char *path)
{
	int64_t id;
	int error;

	if ((*out = keymap_by_path(m, path)) || !m->snap)
		return 0;
	if ((error = snaps_find(m, snap_by_path, path, &id)) < 0 || id < 0)
		return error;
	if (m->shadow[id]) { /* taken over, and no longer the article there */
		return 0;
	}
	if ((error = keymap_from_snap(out, m, (uint32_t)id)) < 0)
		return error;
	if ((*out)->kind != KE_ARTICLE || strcmp((*out)->path, path))
		*out = NULL;
	return 0;
}

static void snap_drop(keymap *m)
{
	snap_close(m->snap);
	snap_close(m->mid);
	snap_close(m->top);
	free(m->shadow);
	m->snap = m->mid = m->top = NULL;
	m->shadow = NULL;
	m->nbase = m->nmid = m->nsnap = 0;
	m->heap_known = 0;
}

static int by_gid(const void *x, const void *y)
{
	uint32_t a = (*(keyent *const *)x)->gid, b = (*(keyent *const *)y)->gid;
	return (a > b) - (a < b);
}

int keymap_load_all(keymap *m)
{
	size_t i, n = m->nsnap;
	keyent *e;
	int error;

	if (!m->snap)
		return 0;
	for (i = 0; i < n; i++)
		if ((error = keymap_from_snap(&e, m, (uint32_t)i)) < 0)
			return error;
	/* in the archive's order, as if read from the journal; the snapshot
	 * goes: everything is in memory */
	qsort(m->v, m->n, sizeof(*m->v), by_gid);
	for (i = 0; i < m->n; i++) {
		m->v[i]->idx = i;
		m->v[i]->snap = 0;
		m->v[i]->stale = 0;
	}
	snap_drop(m);
	return rehash(m, m->slots);
}

/* key's entry e (NULL: none yet) updated to a new version, or made; *out it */
static int add_entry(keyent **out, keymap *m, keyent *e, const char *key, const char *path, const char *title,
		     const git_oid *blob, const char *hash)
{
	int error;

	if (!e)
		return new_entry(out, m, key, path, title, blob, hash);
	/* an update of a known key: same path; the old version is remembered */
	*out = e;
	if (strcmp(e->hash, hash) && (error = seen_push(e, e->hash)) < 0)
		return error;
	git_oid_cpy(&e->blob, blob);
	memcpy(e->hash, hash, 33);
	e->dirty = 1;
	if (title && (!e->title || strcmp(e->title, title))) {
		char *t = stet_strdup(title);
		if (!t)
			return stet_error_oom();
		free(e->title);
		e->title = t;
	}
	return 0;
}

int keymap_add(keymap *m, const char *key, const char *path, const char *title, const git_oid *blob,
	       const char *hash)
{
	keyent *e;
	int error;

	if ((error = keymap_find_key(&e, m, key)) < 0)
		return error;
	return add_entry(&e, m, e, key, path, title, blob, hash);
}

int keyent_set_near(keyent *e, const char *of, int distance, double containment)
{
	char *c = of && *of ? stet_strdup(of) : NULL;
	if (of && *of && !c)
		return stet_error_oom();
	free(e->near_of);
	e->near_of = c;
	e->distance = distance;
	e->containment = containment;
	e->dirty = 1;
	return 0;
}

void keyent_set_fp(keyent *e, stet_fingerprint *f)
{
	stet_fp_dispose(&e->fp);
	e->fp = *f;
	memset(f, 0, sizeof(*f));
	e->dirty = 1;
}

int keymap_set_kind(keymap *m, keyent *e, int kind, const char *path)
{
	size_t s, idx = e->idx + 1;
	if (path && strcmp(path, e->path)) {
		char *p = stet_strdup(path);
		if (!p)
			return stet_error_oom();
		free(e->path);
		e->path = p;
	}
	if (kind == KE_ARTICLE && e->kind != KE_ARTICLE) {
		for (s = slot_of(e->path, m->slots); m->by_path[s]; s = (s + 1) & (m->slots - 1))
			;
		m->by_path[s] = idx;
	}
	e->kind = kind;
	e->dirty = 1;
	if (kind != KE_ARTICLE)
		stet_fp_dispose(&e->fp);
	return 0;
}

static void bg_drop(keymap *m);

void keymap_dispose(keymap *m)
{
	size_t i;
	bg_drop(m); /* before the snapshots its thread reads */
	for (i = 0; i < m->n; i++)
		keyent_free(m->v[i]);
	free(m->v);
	snap_drop(m);
	free(m->by_key);
	free(m->by_path);
	memset(m, 0, sizeof(*m));
}

int canon_hash_doc(char out[33], const stet_canon *c, stet_buf *doc)
{
	XXH128_hash_t h;
	int error;

	stet_buf_clear(doc);
	if ((error = stet_canon_write(doc, c)) == 0) {
		h = XXH3_128bits(doc->ptr, doc->size);
		snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
	}
	return error;
}

int canon_hash(char out[33], const stet_canon *c)
{
	stet_buf b = STET_BUF_INIT;
	int error = canon_hash_doc(out, c, &b);
	stet_buf_dispose(&b);
	return error;
}

static char *cache_path(stet_archive *a)
{
	stet_buf b = STET_BUF_INIT;
	stet_buf_printf(&b, "%s/stet/keys", a->gitdir);
	return stet_buf_detach(&b);
}

/* The snapshots' levels: the big one, the middle one and the small one.
 * Each level's files in <gitdir>/stet: its snapshot (PREFIX and the id in
 * 16 hex digits) and its spare, the snapshot of the level before the
 * current one, which the next is written over (snapshot.c), named here
 * only */
enum { BIG, MID, TOP, LEVELS };
static const struct {
	const char *prefix, *spare;
} level_files[LEVELS] = {
	[BIG] = { "snapshot-", "snapshot.spare" },
	[MID] = { "mid-", "mid.spare" },
	[TOP] = { "top-", "top.spare" },
};

/* a level's snapshot file of this id (malloc'd; NULL: out of memory) */
static char *level_path(const char *gitdir, int level, uint64_t id)
{
	stet_buf b = STET_BUF_INIT;
	stet_buf_printf(&b, "%s/stet/%s%016llx", gitdir, level_files[level].prefix, (unsigned long long)id);
	return stet_buf_detach(&b);
}

/* a level's spare (malloc'd; NULL: out of memory) */
static char *level_spare(const char *gitdir, int level)
{
	stet_buf b = STET_BUF_INIT;
	stet_buf_printf(&b, "%s/stet/%s", gitdir, level_files[level].spare);
	return stet_buf_detach(&b);
}

/* ---- rebuild from the tree ---- */

typedef struct {
	stet_archive *a;
	int error;
} walk_ctx;

/* the entry of an archived file (and the keys that point at it) from
 * the file itself */
static int entry_from_file(stet_archive *a, const char *file, const git_oid *id)
{
	git_blob *blob = NULL;
	stet_article *art = NULL;
	stet_canon *c = NULL;
	const char *key = NULL;
	char hash[33];
	size_t i;
	int error;

	if ((error = git_blob_lookup(&blob, a->repo, id)) < 0) {
		error = stet_git_error(error, file);
		goto done;
	}
	if (stet_input_read(&art, file, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0 ||
	    art->format != STET_FORMAT_CANON) {
		error = 0; /* not an article file: a README someone added, say */
		goto done;
	}
	for (i = 0; i + 1 < art->extra.n; i += 2)
		if (!strcmp(art->extra.v[i], "key"))
			key = art->extra.v[i + 1];
	if (!key)
		goto done;
	if ((error = stet_canon_new(&c, art)) < 0 || (error = canon_hash(hash, c)) < 0 ||
	    (error = keymap_add(&a->keys, key, file, c->title, id, hash)) < 0)
		goto done;
	{
		stet_fingerprint f;
		afields fl;
		keyent *e;
		size_t k;
		if ((error = keymap_find_key(&e, &a->keys, key)) < 0 || (error = stet_fp_compute(&f, c->body)) < 0)
			goto done;
		keyent_set_fp(e, &f);
		/* the keys that point here: aliases and reposts */
		if (afields_read(&fl, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) == 0) {
			if (fl.near_of)
				error = keyent_set_near(e, fl.near_of, fl.distance, fl.containment);
			for (k = 0; k < fl.aliases.n + fl.repost_key.n && !error; k++) {
				const char *pk = k < fl.aliases.n ? fl.aliases.v[k] : fl.repost_key.v[k - fl.aliases.n];
				keyent *pe;
				if ((error = keymap_find_key(&pe, &a->keys, pk)) < 0)
					break;
				if (pe)
					continue;
				if ((error = keymap_add(&a->keys, pk, file, c->title, id,
							"00000000000000000000000000000000")) < 0 ||
				    (error = keymap_find_key(&pe, &a->keys, pk)) < 0)
					break;
				error = keymap_set_kind(&a->keys, pe, k < fl.aliases.n ? KE_ALIAS : KE_REPOST, file);
			}
			afields_dispose(&fl);
		}
		stet_error_clear();
	}
done:
	stet_canon_free(c);
	stet_article_free(art);
	git_blob_free(blob);
	return error;
}

static int rebuild_entry(const char *root, const git_tree_entry *entry, void *payload)
{
	walk_ctx *w = payload;
	stet_buf path = STET_BUF_INIT;
	const char *name = git_tree_entry_name(entry);
	size_t nl = strlen(name);
	int error;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB || nl < 4 || strcmp(name + nl - 3, ".md"))
		return 0;
	stet_buf_printf(&path, "%s%s", root, name);
	error = stet_buf_check(&path, "path");
	if (!error)
		error = entry_from_file(w->a, path.ptr, git_tree_entry_id(entry));
	stet_buf_dispose(&path);
	if (error < 0) {
		w->error = error;
		return -1;
	}
	return 0;
}

/* Earlier versions from the commits' trailers (Stet-Key, Stet-Document). */
static int rebuild_seen(stet_archive *a, const git_oid *hide)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int error;

	if ((error = git_revwalk_new(&walk, a->repo)) < 0 || (error = git_revwalk_push(walk, &a->tip)) < 0 ||
	    (hide && (error = git_revwalk_hide(walk, hide)) < 0)) {
		error = stet_git_error(error, "walking main");
		goto done;
	}
	while ((error = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		const char *msg, *k, *d;
		char key[4096], doc[33];
		size_t n;
		keyent *e;
		if (git_commit_lookup(&c, a->repo, &id) < 0)
			continue;
		msg = git_commit_message(c);
		if ((k = strstr(msg, "\nStet-Key: ")) && (d = strstr(msg, "\nStet-Document: "))) {
			k += strlen("\nStet-Key: ");
			d += strlen("\nStet-Document: ");
			n = strcspn(k, "\n");
			if (n < sizeof(key) && strlen(d) >= 32) {
				memcpy(key, k, n);
				key[n] = '\0';
				memcpy(doc, d, 32);
				doc[32] = '\0';
				if ((error = keymap_find_key(&e, &a->keys, key)) < 0) {
					git_commit_free(c);
					goto done;
				}
				if (e && e->kind != KE_ARTICLE &&
				    !strcmp(e->hash, "00000000000000000000000000000000")) {
					/* newest first: the first commit of a pointer key is its latest document */
					memcpy(e->hash, doc, 33);
				} else if (e && (error = keyent_saw(e, doc)) < 0) {
					git_commit_free(c);
					goto done;
				}
			}
		}
		git_commit_free(c);
	}
	error = error == GIT_ITEROVER ? 0 : stet_git_error(error, "walking main");
done:
	git_revwalk_free(walk);
	return error;
}

static int rebuild(stet_archive *a)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	walk_ctx w = { a, 0 };
	int error;

	keymap_dispose(&a->keys);
	if (!a->have_tip)
		return 0;
	if ((error = git_commit_lookup(&commit, a->repo, &a->tip)) < 0 ||
	    (error = git_commit_tree(&tree, commit)) < 0) {
		error = stet_git_error(error, "reading main");
		goto done;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, rebuild_entry, &w) < 0)
		error = w.error ? w.error : stet_git_error(-1, "walking main's tree");
	else
		error = rebuild_seen(a, NULL);
done:
	git_tree_free(tree);
	git_commit_free(commit);
	return error;
}

/* One record line (NUL-terminated, no newline): add or replace its entry.
 * Returns 1 when the line is damaged. */
static int load_record(keymap *m, char *line)
{
	char *fld[14], *p = line, *h;
	keyent *e;
	git_oid blob;
	int k, kind, error;

	for (k = 0; k < 14; k++) {
		fld[k] = p;
		p = strchr(p, '\t');
		if (k < 13) {
			if (!p)
				break;
			*p++ = '\0';
		}
	}
	if (k < 14 || git_oid_fromstr(&blob, fld[2]) < 0 || strlen(fld[3]) != 32)
		return 1;
	if ((error = keymap_find_key(&e, m, fld[0])) < 0)
		return error;
	if (e) { /* a later record of the key: its whole state anew */
		e->stale = e->snap != 0;
		free(e->seen);
		e->seen = NULL;
		e->nseen = 0;
		memcpy(e->hash, fld[3], 33);
	}
	/* the key looked up once (a new key's miss in the snapshot costs) */
	if ((error = add_entry(&e, m, e, fld[0], fld[1], fld[13], &blob, fld[3])) < 0)
		return error;
	kind = atoi(fld[5]);
	if ((error = keyent_set_near(e, strcmp(fld[10], "-") ? fld[10] : NULL, atoi(fld[11]),
				     strtod(fld[12], NULL))) < 0 ||
	    (error = keymap_set_kind(m, e, kind, fld[1])) < 0)
		return error;
	if (kind == KE_ARTICLE) {
		stet_fingerprint fpr;
		char *q = fld[9];
		size_t fcap = 0;
		memset(&fpr, 0, sizeof(fpr));
		snprintf(fpr.exact, sizeof(fpr.exact), "%s", fld[6]);
		fpr.simhash = strtoull(fld[7], NULL, 16);
		fpr.too_short = atoi(fld[8]);
		int ok = 1;
		while (q[0] && ok) {
			if (fpr.nsent == fcap) {
				size_t nc = fcap ? fcap * 2 : 16;
				uint64_t *v = stet_realloc(fpr.sent, nc * sizeof(*v));
				if (!v) {
					stet_fp_dispose(&fpr);
					return stet_error_oom();
				}
				fpr.sent = v;
				fcap = nc;
			}
			fpr.sent[fpr.nsent++] = hex16(q, &ok);
			q += ok ? 16 : 0;
			if (*q == ',')
				q++;
			else if (*q)
				ok = 0;
		}
		if (!ok) {
			stet_fp_dispose(&fpr);
			return 1; /* damaged */
		}
		keyent_set_fp(e, &fpr);
		stet_fp_dispose(&fpr);
	}
	for (h = fld[4]; strlen(h) >= 16;) {
		char hex[33];
		memcpy(hex, h, 16);
		memset(hex + 16, '0', 16);
		hex[32] = '\0';
		if ((error = keyent_saw(e, hex)) < 0)
			return error;
		h += 16;
		if (*h == ',')
			h++;
	}
	e->journaled = 1;
	return 0;
}

/* the snapshot that the journal's line "MARK ID" at *p names, opened into
 * *out, and *p past the line: 0; 1 when the line is not one or the file
 * not that snapshot (*gone: missing or not a snapshot: the cache is
 * rebuilt), or an error */
static int open_named(stet_archive *a, char **p, const char *mark, int level, snap **out, int *gone)
{
	const size_t ml = strlen(mark);
	uint64_t id;
	int okhex = 1, error;
	char *sf;

	if (strncmp(*p, mark, ml) || (id = hex16(*p + ml, &okhex), !okhex) || (*p)[ml + 16] != '\n' ||
	    !(sf = level_path(a->gitdir, level, id)))
		return 1;
	error = snap_open(out, sf);
	free(sf);
	if (error > 0)
		*gone = 1;
	if (error)
		return error;
	if (snap_id(*out) != id)
		return 1;
	*p += ml + 17;
	return 0;
}

/* 0 loaded, 1 absent/stale/damaged (rebuild), or an error */
static int load_cache(stet_archive *a, const char *file, git_oid *behind, int *is_behind, int *gone)
{
	stet_buf b = STET_BUF_INIT;
	char want[64], *p, *end, *last = NULL;
	size_t i, records = 0, batches = 0;
	int fd, error = 0, ok = 0, has_top = 0, has_mid = 0;
	ssize_t r;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return 1; /* no cache */
	stet_buf_init(&b, SIZE_MAX / 2);
	for (;;) {
		if (stet_buf_grow(&b, 1 << 20) < 0) {
			error = stet_error_set(STET_ENOMEM, "%s: out of memory reading the key cache", file);
			break;
		}
		if ((r = read(fd, b.ptr + b.size, b.asize - b.size - 1)) <= 0)
			break;
		b.size += (size_t)r;
	}
	close(fd);
	if (error < 0)
		goto done;
	b.ptr[b.size] = '\0';
	/* the last closed batch: everything after it is a killed run's */
	for (p = b.ptr; (p = strstr(p, "\n" TIP_MARK)); p++)
		if (memchr(p + 1, '\n', b.size - (size_t)(p + 1 - b.ptr)))
			last = p + 1;
	snprintf(want, sizeof(want), TIP_MARK "%s\n", a->have_tip ? git_oid_tostr_s(&a->tip) : "none");
	if (!strncmp(b.ptr, CACHE_MAGIC_TOP "\n", sizeof(CACHE_MAGIC_TOP)))
		has_top = 1;
	else if (!strncmp(b.ptr, CACHE_MAGIC_MID "\n", sizeof(CACHE_MAGIC_MID)))
		has_mid = 1;
	else if (strncmp(b.ptr, CACHE_MAGIC "\n", sizeof(CACHE_MAGIC)))
		goto done; /* another format: stale */
	if (!last)
		goto done;
	if (strncmp(last, want, strlen(want))) {
		/* another commit: loaded as it is, then brought up to main
		 * (catch_up) when main descends from it */
		char hex[GIT_OID_HEXSZ + 1];
		if (!a->have_tip || strlen(last) < strlen(TIP_MARK) + GIT_OID_HEXSZ + 1 ||
		    last[strlen(TIP_MARK) + GIT_OID_HEXSZ] != '\n')
			goto done;
		memcpy(hex, last + strlen(TIP_MARK), GIT_OID_HEXSZ);
		hex[GIT_OID_HEXSZ] = '\0';
		if (git_oid_fromstr(behind, hex) < 0)
			goto done;
		*is_behind = 1;
		end = last + strlen(TIP_MARK) + GIT_OID_HEXSZ + 1;
	} else {
		end = last + strlen(want);
	}
	/* the snapshot it continues */
	p = b.ptr + sizeof(CACHE_MAGIC);
	if (strncmp(p, BASE_MARK, strlen(BASE_MARK)))
		goto done;
	p += strlen(BASE_MARK);
	if (strncmp(p, "none\n", 5)) {
		int okhex = 1;
		uint64_t base = hex16(p, &okhex);
		char *sf;
		if (!okhex || p[16] != '\n' || !(sf = level_path(a->gitdir, BIG, base)))
			goto done;
		error = snap_open(&a->keys.snap, sf);
		free(sf);
		if (error) { /* missing or not a snapshot: rebuild */
			if (error > 0)
				*gone = 1;
			error = error < 0 ? error : 0;
			goto done;
		}
		if (snap_id(a->keys.snap) != base) {
			snap_drop(&a->keys);
			goto done;
		}
		a->keys.nbase = a->keys.nmid = a->keys.nsnap = snap_count(a->keys.snap);
		p += 17;
		if (has_mid) { /* the middle snapshot over it, and maybe a small one */
			if ((error = open_named(a, &p, MID_MARK, MID, &a->keys.mid, gone)) != 0) {
				error = error < 0 ? error : 0;
				snap_drop(&a->keys);
				goto done;
			}
			a->keys.nmid = a->keys.nsnap += snap_count(a->keys.mid);
			has_top = !strncmp(p, TOP_MARK, strlen(TOP_MARK));
		}
		if (has_top) { /* the small snapshot over it */
			if ((error = open_named(a, &p, TOP_MARK, TOP, &a->keys.top, gone)) != 0) {
				error = error < 0 ? error : 0;
				snap_drop(&a->keys);
				goto done;
			}
			a->keys.nsnap += snap_count(a->keys.top);
		}
		if (a->keys.nsnap >= UINT32_MAX || !(a->keys.shadow = stet_calloc(a->keys.nsnap + 1, sizeof(uint32_t)))) {
			snap_drop(&a->keys);
			goto done;
		}
		a->keys.next_gid = (uint32_t)a->keys.nsnap;
	} else {
		if (has_top || has_mid)
			goto done;
		p += 5;
	}
	for (; p < end && !error; p++) {
		char *nl = strchr(p, '\n');
		if (!nl || nl >= end) { /* a NUL inside: damaged */
			keymap_dispose(&a->keys);
			goto done;
		}
		*nl = '\0';
		if (strncmp(p, TIP_MARK, strlen(TIP_MARK))) {
			if ((error = load_record(&a->keys, p)) > 0) {
				keymap_dispose(&a->keys);
				goto done; /* damaged: rebuild */
			}
			records++;
		} else
			batches++;
		p = nl;
	}
	if (error < 0)
		goto done;
	for (i = 0; i < a->keys.n; i++)
		a->keys.v[i]->dirty = 0;
	a->keys.cache_end = (size_t)(end - b.ptr);
	a->keys.cache_records = records;
	a->keys.cache_batches = batches;
	ok = 1;
done:
	stet_buf_dispose(&b);
	if (error < 0)
		return error;
	return ok ? 0 : 1;
}

/* Bring a cache that names an older commit up to main: the files that
 * changed between them read again, the earlier versions from the
 * commits between them. 0 done, 1 not possible (main does not descend
 * from it, a file was deleted or renamed: rebuild), or an error. */
static int catch_up(stet_archive *a, const git_oid *from)
{
	git_commit *old = NULL, *now = NULL;
	git_tree *ot = NULL, *nt = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	size_t i, n;
	int error;

	if (git_graph_descendant_of(a->repo, &a->tip, from) != 1)
		return 1;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if ((error = git_commit_lookup(&old, a->repo, from)) < 0 || (error = git_commit_tree(&ot, old)) < 0 ||
	    (error = git_commit_lookup(&now, a->repo, &a->tip)) < 0 || (error = git_commit_tree(&nt, now)) < 0 ||
	    (error = git_diff_tree_to_tree(&diff, a->repo, ot, nt, &opts)) < 0) {
		error = error == GIT_ENOTFOUND ? 1 : stet_git_error(error, "reading main");
		goto done;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED) {
			error = 1; /* a deletion: the cache may hold what is gone */
			goto done;
		}
	}
	for (i = 0; i < n && !error; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		size_t nl = strlen(d->new_file.path);
		if (nl >= 4 && !strcmp(d->new_file.path + nl - 3, ".md"))
			error = entry_from_file(a, d->new_file.path, &d->new_file.id);
	}
	if (!error)
		error = rebuild_seen(a, from);
	/* their postings in the snapshot are not theirs any more */
	for (i = 0; i < a->keys.n && !error; i++)
		if (a->keys.v[i]->dirty && a->keys.v[i]->snap)
			a->keys.v[i]->stale = 1;
done:
	git_diff_free(diff);
	git_tree_free(ot);
	git_tree_free(nt);
	git_commit_free(old);
	git_commit_free(now);
	return error;
}

int keys_load(stet_archive *a)
{
	char *file = cache_path(a);
	git_oid behind;
	int r, is_behind = 0, gone, tries;

	if (!file)
		return stet_error_oom();
	/* a reader may find the journal naming a snapshot that the writing
	 * run has just replaced (with the journal): read them again */
	for (tries = 0; tries < 3; tries++) {
		gone = is_behind = 0;
		r = load_cache(a, file, &behind, &is_behind, &gone);
		if (r <= 0 || !gone || a->writer)
			break;
		keymap_dispose(&a->keys);
	}
	free(file);
	if (r == 0 && is_behind)
		r = catch_up(a, &behind);
	if (r > 0) {
		keymap_dispose(&a->keys);
		r = rebuild(a);
	}
	/* a command that reads (not ingest) may look at every entry */
	if (r == 0 && !a->writer)
		r = keymap_load_all(&a->keys);
	return r < 0 ? r : index_build(a);
}

/* v as "%016llx" writes it */
static void put_hex64(stet_buf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char s[16];
	int i;
	for (i = 15; i >= 0; i--, v >>= 4)
		s[i] = digits[v & 15];
	stet_buf_put(b, s, sizeof(s));
}

/* a list of numbers, comma-separated */
static void put_hex_list(stet_buf *b, const uint64_t *v, size_t n)
{
	size_t k;
	for (k = 0; k < n; k++) {
		if (k)
			stet_buf_putc(b, ',');
		put_hex64(b, v[k]);
	}
}

/* one record, a line (format above); the numbers written by hand, not by
 * printf: an article's sentence fingerprints, ~30 of them, were a printf
 * each, a tenth of the corpus run's one-core phase */
static void put_record(stet_buf *b, const keyent *e)
{
	char blob[GIT_OID_HEXSZ + 1];
	git_oid_tostr(blob, sizeof(blob), &e->blob);
	stet_buf_puts(b, e->key);
	stet_buf_putc(b, '\t');
	stet_buf_puts(b, e->path);
	stet_buf_putc(b, '\t');
	stet_buf_puts(b, blob);
	stet_buf_putc(b, '\t');
	stet_buf_puts(b, e->hash);
	stet_buf_putc(b, '\t');
	put_hex_list(b, e->seen, e->nseen);
	stet_buf_printf(b, "\t%d\t%s\t", e->kind, e->fp.exact[0] ? e->fp.exact : "-");
	put_hex64(b, e->fp.simhash);
	stet_buf_printf(b, "\t%d\t", e->fp.too_short);
	put_hex_list(b, e->fp.sent, e->fp.nsent);
	stet_buf_printf(b, "\t%s\t%d\t%.3f\t%s\n", e->near_of ? e->near_of : "-", e->distance, e->containment,
			e->title);
}

/* the number in environment variable name, or `otherwise` (tests) */
static size_t env_size(const char *name, size_t otherwise)
{
	const char *env = getenv(name);
	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);
		if (!*end)
			return (size_t)v;
	}
	return otherwise;
}

/* journal records that call for a new snapshot. A run reads the journal
 * whole (about 18 us a record) and a new snapshot costs about 2.7 us an
 * entry (a merge, mostly writing the file): for runs of B records into an
 * archive of N, a run costs the least on average with a journal of
 * sqrt(2 * B * N * 2.7 / 18) = sqrt(0.3 * B * N) records at most. B is
 * the journal's mean batch; 40 * sqrt(N) at most (one huge run must not
 * leave a journal every later run reads), 4096 at least.
 * STET_SNAPSHOT_AFTER overrides (tests). */
static size_t compact_at(size_t total, size_t batch)
{
	size_t at, most = 40, r = 1;
	while (r * r < total)
		r++;
	most *= r;
	for (at = 1; at * at < 3 * (batch ? batch : 1) * (total / 10 + 1) && at < most; at++)
		;
	if (at > most)
		at = most;
	return env_size("STET_SNAPSHOT_AFTER", at < 4096 ? 4096 : at);
}

/* The most entries the middle snapshot holds before the big one is
 * written again: a quarter of the big one, from 131,072 entries on (a
 * small snapshot of a thirty-second then holds at least 4,096); below,
 * none. STET_SNAPSHOT_MID overrides (tests; 0: none). */
static size_t mid_most(size_t nbase)
{
	return env_size("STET_SNAPSHOT_MID", nbase / 32 >= 4096 ? nbase / 4 : 0);
}

/* The most entries the small snapshot holds before it goes into the
 * middle one: a thirty-second of the big one. Without a middle one, a
 * sixteenth, and the big one is written again when it is full. Over an
 * archive of N, with batches of B, a run then reads a journal of about
 * compact_at(N / 32) records, a small snapshot is written every few runs
 * (costing what it holds, up to N / 32 entries), the middle one every
 * N / (32 B) runs (up to N / 4) and the big one every N / (4 B) runs.
 * Below 65,536 entries (a journal of 4,096 would not fit) there is no
 * small snapshot. STET_SNAPSHOT_TOP overrides (tests; 0: none). */
static size_t top_most(size_t nbase)
{
	size_t most = mid_most(nbase) ? nbase / 32 : nbase / 16;
	return env_size("STET_SNAPSHOT_TOP", most >= 4096 ? most : 0);
}

/* snapshot entry i of the archive as it is now: taken over, the
 * snapshots', or new; from entry `first` on (a small snapshot's view) */
typedef struct {
	keymap *m;
	keyent **news; /* the entries without a snapshot entry, by gid - nsnap */
	size_t first;
} view_ctx;

/* snapshot entry i as the snapshots of m hold it, in scratch */
static int snap_view(const keyent **out, const keymap *m, size_t i, keyent *scratch)
{
	const snap_ent *s;
	const snap *L;
	uint32_t local;
	int error;

	L = keymap_layer(m, (uint32_t)i, &local);
	if ((error = snap_get(&s, L, local)) < 0)
		return error;
	memset(scratch, 0, sizeof(*scratch));
	scratch->key = (char *)snap_str(L, s->key);
	scratch->path = (char *)snap_str(L, s->path);
	scratch->title = (char *)snap_str(L, s->title);
	scratch->near_of = s->near_of ? (char *)snap_str(L, s->near_of) : NULL;
	scratch->kind = s->kind;
	scratch->distance = s->distance;
	scratch->containment = s->containment;
	memcpy(scratch->fp.exact, s->exact, 32);
	scratch->fp.simhash = s->simhash;
	scratch->fp.too_short = s->too_short;
	scratch->fp.sent = (uint64_t *)snap_num(L, s->sent);
	scratch->fp.nsent = s->nsent;
	scratch->seen = (uint64_t *)snap_num(L, s->seen);
	scratch->nseen = s->nseen;
	git_oid_fromraw(&scratch->blob, s->blob);
	memcpy(scratch->hash, s->hash, 32);
	*out = scratch;
	return 0;
}

static int view_entry(const keyent **out, size_t i, keyent *scratch, void *payload)
{
	view_ctx *vc = payload;
	keymap *m = vc->m;
	size_t n = m->nsnap;

	i += vc->first;
	if (i >= n) {
		*out = vc->news[i - n];
		return 0;
	}
	if (m->shadow[i]) {
		*out = m->v[m->shadow[i] - 1];
		return 0;
	}
	return snap_view(out, m, i, scratch);
}

/* remove snapshots other than keep, keep_mid and keep_top (older ones,
 * a killed run's); the one of each kind before becomes the spare that the
 * next snapshot of its kind is written over (snapshot.c). The strings and
 * numbers of generations other than keep_gen (0: none) go too */
static void remove_snapshots(const char *gitdir, uint64_t keep, uint64_t keep_mid, uint64_t keep_top, uint64_t keep_gen)
{
	stet_buf dir = STET_BUF_INIT, f = STET_BUF_INIT;
	char gen[17];
	const uint64_t keeps[LEVELS] = { [BIG] = keep, [MID] = keep_mid, [TOP] = keep_top };
	char *kept[LEVELS] = { NULL }, *spares[LEVELS] = { NULL };
	DIR *d;
	struct dirent *de;
	size_t k;
	int named = 1; /* every file to keep is known: else nothing is removed */

	for (k = 0; k < LEVELS; k++) { /* each level's file to keep (0: none), and its spare */
		kept[k] = keeps[k] ? level_path(gitdir, (int)k, keeps[k]) : NULL;
		spares[k] = level_spare(gitdir, (int)k);
		named &= !keeps[k] || kept[k] != NULL;
	}
	snprintf(gen, sizeof(gen), "%016llx", (unsigned long long)keep_gen);
	stet_buf_printf(&dir, "%s/stet", gitdir);
	if (named && stet_buf_check(&dir, "key cache") == 0 && (d = opendir(dir.ptr))) {
		while ((de = readdir(d))) {
			const char *g = !strncmp(de->d_name, "strings-", 8) ? de->d_name + 8
					: !strncmp(de->d_name, "numbers-", 8) ? de->d_name + 8
										: NULL;
			if (g) { /* strings and numbers of a generation no snapshot named reads */
				stet_buf_clear(&f);
				stet_buf_printf(&f, "%s/%s", dir.ptr, de->d_name);
				if ((!keep_gen || strcmp(g, gen)) && stet_buf_check(&f, "key cache") == 0)
					unlink(f.ptr);
				continue;
			}
			for (k = 0; k < LEVELS; k++)
				if (!strncmp(de->d_name, level_files[k].prefix, strlen(level_files[k].prefix)))
					break;
			if (k == LEVELS)
				continue;
			stet_buf_clear(&f);
			stet_buf_printf(&f, "%s/%s", dir.ptr, de->d_name);
			if (stet_buf_check(&f, "key cache") < 0 || (kept[k] && !strcmp(f.ptr, kept[k])))
				continue;
			/* a whole snapshot (not a killed run's temporary file) */
			if (strlen(de->d_name) != strlen(level_files[k].prefix) + 16 || !spares[k] ||
			    rename(f.ptr, spares[k]) < 0)
				unlink(f.ptr);
		}
		closedir(d);
	}
	stet_error_clear();
	for (k = 0; k < LEVELS; k++) {
		free(kept[k]);
		free(spares[k]);
	}
	stet_buf_dispose(&dir);
	stet_buf_dispose(&f);
}

void keys_sweep(stet_archive *a)
{
	stet_buf dir = STET_BUF_INIT;

	/* only a writer, under the lock, writes keys.tmp.PID: one there now
	 * was left by a run that died */
	stet_buf_printf(&dir, "%s/stet", a->gitdir);
	if (stet_buf_check(&dir, "key cache") == 0)
		stet_unlink_prefixed(dir.ptr, "keys.tmp.");
	stet_error_clear();
	stet_buf_dispose(&dir);
}

/* a new snapshot's id, and the view's entries that no snapshot holds */
/* a new snapshot's id */
static uint64_t new_id(const stet_archive *a)
{
	uint64_t id = XXH3_64bits_withSeed(&a->tip, sizeof(a->tip),
					   (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)a->keys.nsnap ^
						   ((uint64_t)a->keys.next_gid << 40));
	return id ? id : 1;
}

static int view_start(view_ctx *vc, stet_archive *a, uint64_t *id)
{
	keymap *m = &a->keys;
	size_t nsnap = m->nsnap, total = m->next_gid, i;

	*id = new_id(a);
	if (total < nsnap || !(vc->news = stet_calloc(total - nsnap + 1, sizeof(*vc->news))))
		return stet_error_oom();
	for (i = 0; i < m->n; i++)
		if (!m->v[i]->snap && m->v[i]->gid >= nsnap && m->v[i]->gid < total)
			vc->news[m->v[i]->gid - nsnap] = m->v[i];
	for (i = 0; i < total - nsnap; i++)
		if (!vc->news[i]) {
			free(vc->news);
			vc->news = NULL;
			return stet_error_set(STET_ECORRUPT, "key cache: entry %zu missing in memory", nsnap + i);
		}
	return 0;
}

/* a snapshot of level (TOP, MID, BIG) into file: merged from old when
 * there is one (its cost is the changed and new entries' strings and
 * numbers, the entries and the postings), the entries of the snapshots
 * between (view of them: first, view->nsnap) taken as they are; else
 * written whole: a big one into a new generation of strings and numbers,
 * the others into heap's. *heap advanced when it is written */
static int level_write(const char *file, const char *spare, uint64_t id, int level, const keymap *view, size_t first,
		       size_t n, snap_view_fn fn, void *payload, const uint32_t *touched, snap_heap *heap)
{
	const snap *old = level == TOP ? view->top : level == MID ? view->mid : view->snap;
	snap_src srcs[2] = { { NULL, 0 }, { NULL, 0 } };
	size_t nsrc = 0;
	snap_heap h = *heap;
	int error;

	if (level == BIG && view->mid)
		srcs[nsrc++] = (snap_src){ view->mid, view->nbase - first };
	if (level != TOP && view->top)
		srcs[nsrc++] = (snap_src){ view->top, view->nmid - first };
	error = old ? snap_merge(file, spare, id, old, n, fn, payload, touched, srcs, nsrc, &h, level == BIG) : 1;
	if (error == 1) {
		h = *heap;
		if (level == BIG)
			memset(&h, 0, sizeof(h)); /* a new generation */
		error = snap_write(file, spare, id, n, fn, payload, &h);
	}
	if (error == 0)
		*heap = h;
	return error;
}

/* the generation the snapshots read (the big one's, else the others'),
 * its ends (the furthest any of them reads) and the dead bytes they count
 * in it (dead may be NULL) */
static void heap_of_levels(const keymap *m, snap_heap *out, uint64_t *dead)
{
	const snap *levels[3] = { m->snap, m->mid, m->top };
	size_t k;

	memset(out, 0, sizeof(*out));
	if (dead)
		*dead = 0;
	for (k = 0; k < 3; k++) {
		snap_heap h;
		snap_heap_of(levels[k], &h);
		if (!h.gen || (out->gen && h.gen != out->gen))
			continue; /* before version 5 (its strings are its own), or another generation */
		out->gen = h.gen;
		if (h.nstr > out->nstr)
			out->nstr = h.nstr;
		if (h.nnum > out->nnum)
			out->nnum = h.nnum;
		if (dead)
			*dead += snap_dead(levels[k]);
	}
}

/* where the next snapshot's strings and numbers go: the snapshots'
 * generation, from its ends; or, when this run wrote one, after it */
static snap_heap *heap_now(keymap *m)
{
	if (!m->heap_known)
		heap_of_levels(m, &m->heap, NULL);
	m->heap_known = 1;
	return &m->heap;
}

/* a snapshot of this level: the id of its first entry */
static size_t level_first(const keymap *m, int level)
{
	return level == TOP ? m->nmid : level == MID ? m->nbase : 0;
}

/* a new snapshot; *id its id. TOP: the entries added since the middle
 * snapshot (or the big one, when there is no middle level), into a new
 * small one; MID: those added since the big one, into a new middle one;
 * BIG: everything, into a new big one */
static int compact(stet_archive *a, uint64_t *id, int level)
{
	keymap *m = &a->keys;
	size_t first = level_first(m, level);
	view_ctx vc = { m, NULL, first };
	char *file = NULL, *spare = NULL;
	int error;

	if ((error = view_start(&vc, a, id)) < 0)
		return error;
	if (!(file = level_path(a->gitdir, level, *id)) || !(spare = level_spare(a->gitdir, level))) {
		error = stet_error_oom();
		goto done;
	}
	error = level_write(file, spare, *id, level, m, first, m->next_gid - first, view_entry, &vc, m->shadow + first,
			    heap_now(m));
done:
	free(file);
	free(spare);
	free(vc.news);
	return error;
}

/* an entry of a snapshot below the one written (ids below `below`)
 * whose record the journal after it keeps: it changed since that
 * snapshot was written */
static int carried(const keyent *e, size_t below)
{
	return e->gid < below && (e->journaled || e->dirty);
}

/* the small snapshot's most entries now (0: none; none after this run
 * wrote a big or a middle one: the run's own view is of the old ones) */
static size_t top_room(const keymap *m)
{
	return m->base_moved || m->mid_moved ? 0 : top_most(m->nbase);
}

/* the middle snapshot's most entries now (0: none; none after this run
 * wrote a big one) */
static size_t mid_room(const keymap *m)
{
	return m->base_moved ? 0 : mid_most(m->nbase);
}

/* the journal's records past which a new snapshot is due, with dirty
 * records more: the mean batch is the journal's and this one's; what a
 * new snapshot costs is the small snapshot's size when there is one (or
 * the middle one's), else the archive's */
static size_t journal_limit(const keymap *m, size_t dirty)
{
	size_t most = top_room(m);
	if (!most)
		most = mid_room(m);
	return compact_at(most ? most : m->next_gid, (m->cache_records + dirty) / (m->cache_batches + 1));
}

/* the generation's dead bytes (strings and numbers of entries changed
 * since) past half of it: only a big snapshot's merge compacts it (into a
 * new generation), and an archive whose new entries stopped would never
 * fill the middle snapshot that calls for one */
static int heap_mostly_dead(const keymap *m)
{
	snap_heap h;
	uint64_t dead;

	heap_of_levels(m, &h, &dead);
	return dead > 0 && dead * 2 > h.nstr + h.nnum * 8;
}

/* which snapshot goes next (TOP, MID or BIG) when the journal is full,
 * and *carry: the records of lower snapshots' entries it keeps. A small
 * one while it has room (over the middle one, once there is one), and
 * those records fill at most half the journal; else a middle one, the
 * same; else the big one */
static int level_due(const keymap *m, size_t limit, size_t *carry)
{
	size_t tmost = top_room(m), mmost = mid_room(m), i;

	*carry = 0;
	if (heap_mostly_dead(m))
		return BIG;
	if (tmost && (m->mid || !mmost) && m->next_gid > m->nmid && m->next_gid - m->nmid <= tmost) {
		for (i = 0; i < m->n; i++)
			*carry += carried(m->v[i], m->nmid);
		if (*carry <= limit / 2)
			return TOP;
	}
	if (mmost && m->next_gid > m->nbase && m->next_gid - m->nbase <= mmost) {
		*carry = 0;
		for (i = 0; i < m->n; i++)
			*carry += carried(m->v[i], m->nbase);
		if (*carry <= limit / 2)
			return MID;
	}
	*carry = 0;
	return BIG;
}

int keys_due(const stet_archive *a)
{
	return a->keys.cache_end > 0 && a->keys.cache_records > journal_limit(&a->keys, 0);
}

/* ---- a new snapshot written on a thread of its own ----
 *
 * A run that opens the archive with its journal past the limit writes the
 * new snapshot. It used to write it at the opening, beside the
 * canonicalizing of the first batch (which has both cores), and the run
 * waited for it before its first commit: at 1,000,000 articles a run that
 * wrote a middle snapshot took ~0.57 s more than one that wrote none, one
 * that wrote a small one ~0.08 s. Now the snapshot is made on a thread of
 * its own from the entries as they are at the opening (copies of those it
 * rewrites: the run changes them as it goes), while the run goes on; most
 * of a run after its canonicalizing (putting articles into trees and
 * packs) has one core to itself. The journal meanwhile goes on over the
 * old snapshots, its records marked since_cut; the first keys_prepare
 * that finds the snapshot written (at the latest the run's last, after
 * keys_compact_wait) writes the journal again naming it, with the records
 * of every entry that changed since the cut besides those the snapshot's
 * level carries. A run killed before that leaves the old journal whole
 * (and a snapshot that no journal names, removed with the next one
 * written); a snapshot that cannot be written is a warning, and the
 * journal goes on. */
typedef struct keys_bg {
	pthread_t thread;
	atomic_int done; /* the snapshot is written, or failed */
	int threaded, joined;
	int level;       /* TOP, MID or BIG */
	uint64_t id;     /* the new snapshot's */
	char *file, *spare; /* its file, and its level's spare */
	keymap view;     /* the snapshots as they were (snap, mid, top and their counts only) */
	size_t first, n; /* its entries: ids first to first + n - 1 */
	keyent **ents;   /* by id - first: a copy of the entry as it was, or NULL (the old snapshot's) */
	uint32_t *touched; /* by id - first: 1 where ents has one (snap_merge) */
	snap_heap heap;    /* where its strings and numbers go; advanced once written */
	int base_moved, mid_moved; /* the keymap's flags before */
	int error;
	char msg[512];
} keys_bg;

/* a copy of e that owns its strings and numbers (NULL: out of memory) */
static keyent *keyent_copy(const keyent *e)
{
	keyent *c = stet_malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *e;
	c->key = stet_strdup(e->key);
	c->path = stet_strdup(e->path);
	c->title = stet_strdup(e->title ? e->title : "");
	c->near_of = e->near_of ? stet_strdup(e->near_of) : NULL;
	c->fp.sent = e->fp.nsent ? stet_malloc(e->fp.nsent * sizeof(*e->fp.sent)) : NULL;
	c->seen = e->nseen ? stet_malloc(e->nseen * sizeof(*e->seen)) : NULL;
	if (!c->key || !c->path || !c->title || (e->near_of && !c->near_of) || (e->fp.nsent && !c->fp.sent) ||
	    (e->nseen && !c->seen)) {
		keyent_free(c);
		return NULL;
	}
	if (e->fp.nsent)
		memcpy(c->fp.sent, e->fp.sent, e->fp.nsent * sizeof(*e->fp.sent));
	if (e->nseen)
		memcpy(c->seen, e->seen, e->nseen * sizeof(*e->seen));
	return c;
}

static void bg_free(keys_bg *g)
{
	size_t i;
	if (!g)
		return;
	for (i = 0; g->ents && i < g->n; i++)
		keyent_free(g->ents[i]);
	free(g->ents);
	free(g->touched);
	free(g->file);
	free(g->spare);
	free(g);
}

static int bg_entry(const keyent **out, size_t i, keyent *scratch, void *payload)
{
	keys_bg *g = payload;
	if (g->ents[i]) {
		*out = g->ents[i];
		return 0;
	}
	return snap_view(out, &g->view, g->first + i, scratch);
}

static void *bg_main(void *arg)
{
	keys_bg *g = arg;
	int error = level_write(g->file, g->spare, g->id, g->level, &g->view, g->first, g->n, bg_entry, g, g->touched,
				&g->heap);
	g->error = error < 0 ? error : 0;
	if (error < 0)
		snprintf(g->msg, sizeof(g->msg), "%s", stet_error_last());
	atomic_store(&g->done, 1);
	return NULL;
}

/* is the snapshot written, to be named now. STET_SNAPSHOT_LATE=1: only
 * once keys_compact_wait waited for it, at the end of the run (tests:
 * the journal goes on over the old snapshots through every checkpoint) */
static int bg_ready(const keys_bg *g)
{
	return g->joined || (atomic_load(&g->done) && !env_size("STET_SNAPSHOT_LATE", 0));
}

/* the thread done with */
static void bg_wait(keys_bg *g)
{
	if (!g->joined && g->threaded)
		pthread_join(g->thread, NULL);
	g->joined = 1;
}

/* wait for the thread; 0: the snapshot is written, else (dropped, with a
 * warning) -1 */
static int bg_join(stet_archive *a)
{
	keys_bg *g = a->keys.bg;
	bg_wait(g);
	if (g->error == 0)
		return 0;
	stet_buf_printf(&a->warnings, "%s: the key cache's new snapshot was not written (%s); the journal goes on\n",
			g->file, g->msg);
	a->keys.base_moved = g->base_moved;
	a->keys.mid_moved = g->mid_moved;
	bg_free(g);
	a->keys.bg = NULL;
	return -1;
}

/* the thread stopped, and a snapshot no journal names removed */
static void bg_drop(keymap *m)
{
	keys_bg *g = m->bg;
	if (!g)
		return;
	bg_wait(g);
	if (g->error == 0)
		unlink(g->file);
	bg_free(g);
	m->bg = NULL;
}

int keys_compact_start(stet_archive *a)
{
	keymap *m = &a->keys;
	size_t dirty = 0, carry, i, total = m->next_gid;
	view_ctx vc = { m, NULL, 0 };
	keys_bg *g;
	int level, error;

	/* the first snapshot, or a journal while the archive is small: now */
	if (!m->snap || m->bg)
		return keys_save(a);
	for (i = 0; i < m->n; i++)
		dirty += m->v[i]->dirty != 0;
	level = level_due(m, journal_limit(m, dirty), &carry);
	if (!(g = stet_calloc(1, sizeof(*g))))
		return stet_error_oom();
	g->level = level;
	g->first = level_first(m, level);
	g->heap = *heap_now(m);
	g->view.snap = m->snap;
	g->view.mid = m->mid;
	g->view.top = m->top;
	g->view.nbase = m->nbase;
	g->view.nmid = m->nmid;
	g->view.nsnap = m->nsnap;
	/* the entries without a snapshot entry (vc.news), as compact takes them */
	if ((error = view_start(&vc, a, &g->id)) < 0)
		goto fail;
	g->file = level_path(a->gitdir, level, g->id);
	g->spare = level_spare(a->gitdir, level);
	g->n = total - g->first;
	g->ents = stet_calloc(g->n + 1, sizeof(*g->ents));
	g->touched = stet_calloc(g->n + 1, sizeof(*g->touched));
	error = !g->file || !g->spare || !g->ents || !g->touched ? stet_error_oom() : 0;
	for (i = g->first; i < m->nsnap && !error; i++)
		if (m->shadow[i]) {
			if (!(g->ents[i - g->first] = keyent_copy(m->v[m->shadow[i] - 1])))
				error = stet_error_oom();
			g->touched[i - g->first] = 1;
		}
	for (i = m->nsnap; i < total && !error; i++)
		if (!(g->ents[i - g->first] = keyent_copy(vc.news[i - m->nsnap])))
			error = stet_error_oom();
	free(vc.news);
	if (error < 0)
		goto fail;
	g->base_moved = m->base_moved;
	g->mid_moved = m->mid_moved;
	if (level == BIG)
		m->base_moved = 1;
	else if (level == MID)
		m->mid_moved = 1;
	m->bg = g;
	g->threaded = pthread_create(&g->thread, NULL, bg_main, g) == 0;
	if (!g->threaded)
		bg_main(g); /* no thread to be had: here, now */
	return 0;
fail:
	bg_free(g);
	return error;
}

void keys_compact_wait(stet_archive *a)
{
	if (a->keys.bg)
		bg_join(a);
}

int keys_prepare(stet_archive *a, keys_batch *kb, size_t slack)
{
	keymap *m = &a->keys;
	size_t i, dirty = 0, limit, carry = 0, below = 0, records = 0;
	int error = 0, whole = 0, level = BIG, naming = 0;

	memset(kb, 0, sizeof(*kb));
	if (!(kb->file = cache_path(a)))
		return stet_error_oom();
	for (i = 0; i < m->n; i++)
		dirty += m->v[i]->dirty != 0;
	limit = journal_limit(m, dirty);
	/* append; or, while the archive is small, write the journal whole;
	 * or put the entries added since the middle snapshot into a new small
	 * one, when it has room, and start the journal again with the
	 * records of the big and middle ones' entries that changed; or those
	 * added since the big one into a new middle one, the same; or put
	 * everything into a new big snapshot and start the journal again. At a
	 * checkpoint (slack 2) the journal may pass its limit up to twice:
	 * the next run's opening writes the snapshot (keys_due). While a
	 * snapshot is written on its thread, append; once it is written (or
	 * when the journal would pass that), name it (naming) */
	if (m->bg && (bg_ready(m->bg) || !(m->cache_end > 0 && m->cache_records + dirty <= slack * limit)))
		naming = bg_join(a) == 0;
	kb->append = !naming && m->cache_end > 0 && (m->bg || m->cache_records + dirty <= slack * limit);
	kb->at = m->cache_end;
	if (!kb->append) {
		whole = !naming && !m->snap && m->n <= limit;
		if (naming)
			level = m->bg->level;
		else if (!whole && m->snap)
			level = level_due(m, limit, &carry);
		if (naming) {
			m->heap = m->bg->heap;
			m->heap_known = 1;
			kb->gen = m->heap.gen;
			kb->base = level == BIG ? m->bg->id : snap_id(m->snap);
			kb->mid = level == MID ? m->bg->id : level == TOP && m->mid ? snap_id(m->mid) : 0;
			kb->top = level == TOP ? m->bg->id : 0;
			below = level_first(m, level);
		} else if (whole) {
			level = -1;
		} else if (level == TOP) {
			if ((error = compact(a, &kb->top, TOP)) < 0)
				return error;
			kb->gen = m->heap.gen;
			kb->base = snap_id(m->snap);
			kb->mid = m->mid ? snap_id(m->mid) : 0;
			below = m->nmid;
		} else if (level == MID) {
			if ((error = compact(a, &kb->mid, MID)) < 0)
				return error;
			kb->gen = m->heap.gen;
			kb->base = snap_id(m->snap);
			m->mid_moved = 1;
			below = m->nbase;
		} else {
			if ((error = compact(a, &kb->base, BIG)) < 0)
				return error;
			kb->gen = m->heap.gen;
			m->base_moved = 1;
		}
		stet_buf_puts(&kb->bytes, kb->mid ? CACHE_MAGIC_MID "\n" : kb->top ? CACHE_MAGIC_TOP "\n" : CACHE_MAGIC "\n");
		if (whole)
			stet_buf_puts(&kb->bytes, BASE_MARK "none\n");
		else
			stet_buf_printf(&kb->bytes, BASE_MARK "%016llx\n", (unsigned long long)kb->base);
		if (kb->mid)
			stet_buf_printf(&kb->bytes, MID_MARK "%016llx\n", (unsigned long long)kb->mid);
		if (kb->top)
			stet_buf_printf(&kb->bytes, TOP_MARK "%016llx\n", (unsigned long long)kb->top);
	}
	/* appended: what changed; a journal named after its snapshot: the
	 * lower snapshots' entries that changed since those were written, and
	 * (naming) whatever changed since the cut */
	for (i = 0; i < m->n; i++) {
		keyent *e = m->v[i];
		if (kb->append ? e->dirty
			       : whole || (below && carried(e, below)) || (naming && (e->dirty || e->since_cut))) {
			put_record(&kb->bytes, e);
			e->journaled = 1;
			records++;
			if (kb->append && m->bg)
				e->since_cut = 1;
		}
		if (!kb->append)
			e->since_cut = 0;
	}
	if (naming) {
		bg_free(m->bg);
		m->bg = NULL;
	}
	stet_buf_printf(&kb->bytes, TIP_MARK "%s\n", a->have_tip ? git_oid_tostr_s(&a->tip) : "none");
	if ((error = stet_buf_check(&kb->bytes, "key cache")) < 0)
		return error;
	/* as it will be once written (a failed write makes the next one whole) */
	if (kb->append) {
		a->keys.cache_end += kb->bytes.size;
		a->keys.cache_records += dirty;
		a->keys.cache_batches++;
	} else {
		a->keys.cache_end = kb->bytes.size;
		a->keys.cache_records = whole || naming ? records : level == TOP || level == MID ? carry : 0;
		a->keys.cache_batches = 1;
	}
	for (i = 0; i < a->keys.n; i++)
		a->keys.v[i]->dirty = 0;
	return 0;
}

int keys_write(const char *gitdir, const keys_batch *kb)
{
	stet_buf tmp = STET_BUF_INIT;
	const char *file = kb->file;
	int fd = -1, error = 0;

	if (kb->append) {
		/* cut off whatever a killed run left after the last batch */
		if ((fd = open(file, O_WRONLY | O_CLOEXEC)) < 0 || ftruncate(fd, (off_t)kb->at) < 0 ||
		    lseek(fd, 0, SEEK_END) != (off_t)kb->at || stet_write_all(fd, kb->bytes.ptr, kb->bytes.size) < 0 ||
		    fsync(fd) < 0) {
			error = stet_error_set(STET_EIO, "%s: %s", file, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto done;
		}
		if (close(fd) < 0)
			error = stet_error_set(STET_EIO, "%s: %s", file, strerror(errno));
		goto done;
	}
	stet_buf_printf(&tmp, "%s.tmp.%d", file, (int)getpid());
	if ((error = stet_buf_check(&tmp, "key cache")) < 0)
		goto done;
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (stet_write_all(fd, kb->bytes.ptr, kb->bytes.size) < 0 || fsync(fd) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", tmp.ptr, strerror(errno));
		close(fd);
		unlink(tmp.ptr);
		goto done;
	}
	if (close(fd) < 0 || rename(tmp.ptr, file) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", file, strerror(errno));
		unlink(tmp.ptr);
		goto done;
	}
	remove_snapshots(gitdir, kb->base, kb->mid, kb->top, kb->gen); /* 0: none is named */
done:
	stet_buf_dispose(&tmp);
	return error;
}

void keys_batch_dispose(keys_batch *kb)
{
	free(kb->file);
	stet_buf_dispose(&kb->bytes);
	memset(kb, 0, sizeof(*kb));
}

int keys_save(stet_archive *a)
{
	keys_batch kb;
	int error;

	if ((error = keys_prepare(a, &kb, 1)) == 0 && (error = keys_write(a->gitdir, &kb)) < 0)
		a->keys.cache_end = 0; /* write it whole next time */
	keys_batch_dispose(&kb);
	return error;
}
