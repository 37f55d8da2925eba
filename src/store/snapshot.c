/*
 * The snapshot: the key cache and the duplicate index of every archived
 * article, as one memory-mapped file (.git/stet/snapshot-ID, and its
 * small and middle kin top-ID and mid-ID) that a run reads only where it
 * looks, its strings and numbers in the files of a generation that the
 * snapshots share (below, "The heap"). The key cache journal (keys.c) names the
 * snapshot it continues and holds what changed since; so opening an
 * archive costs what changed since the last snapshot, not what the
 * archive holds. docs/format.md describes the layout.
 *
 * A snapshot is written under a temporary name (a new file, or over the
 * spare: the snapshot before the last, which no journal names), synced
 * and renamed; under its name it is never edited. Every offset read from
 * it is checked against the file before use: a damaged snapshot gives
 * STET_ECORRUPT, never a wild read.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define SNAP_MAGIC "stetsnp1"
/* 2: the header counts dead bytes (merged snapshots); 1 is read as 0 dead.
 * 3: the string tables keep a tag of each string's hash beside its entry,
 * and the sentence postings a 16-bit tag of each key (below, "Tags").
 * 4: one sentence posting an article, however often it has the sentence
 * (uniq_pairs); a merge over an older file is declined (written whole) */
/* 5: the strings and numbers in a generation's files of their own
 * (strings-GEN, numbers-GEN), appended to and never copied; the file's
 * own sections of them are empty (below, "The heap") */
#define SNAP_VERSION 5
#define SNAP_ENDIAN 0x01020304u

typedef struct {
	uint64_t off, size; /* bytes */
} section;

enum { S_ENT, S_STR, S_NUM, S_BYKEY, S_BYPATH, S_SKEY, S_SID, S_SDIR, S_XKEY, S_XID, S_XDIR,
       S_SIMFP0, S_SIMID0 = S_SIMFP0 + 4, S_SIMDIR0 = S_SIMID0 + 4, S_COUNT = S_SIMDIR0 + 4 };

typedef struct {
	char magic[8];
	uint32_t version, endian;
	uint64_t id;
	uint64_t n;         /* entries */
	uint64_t slots;     /* of each string table, a power of two */
	uint32_t sbits, xbits; /* directory bits of the sentence and exact postings */
	section sec[S_COUNT];
	uint64_t dead; /* bytes of strings and numbers no entry refers to (version 2) */
	section stag;  /* the sentence keys' tags (version 3) */
	uint64_t heap; /* the generation of strings and numbers it reads (version 5) */
	uint64_t hstr, hnum; /* how much of them: bytes, numbers */
} header;

/* the header's size as a version wrote it */
static size_t header_size(uint32_t version)
{
	return version >= 5 ? sizeof(header) : version >= 3 ? offsetof(header, heap) : offsetof(header, stag);
}

struct snap {
	unsigned char *map;
	size_t size;
	const header *h;
	const snap_ent *ent;
	const char *str;
	const uint64_t *num;
	const uint32_t *bykey, *bypath; /* slots of `stride` words: entry + 1, and the tag (version 3) */
	unsigned stride;
	const uint16_t *stag; /* NULL before version 3 */
	const uint64_t *skey, *xkey, *simfp[4];
	const uint32_t *sid, *sdir, *xid, *xdir, *simid[4], *simdir[4];
	uint64_t nstr, nnum, nsent, nexact, nsim[4], dead;
	int fd;
	char *file;
	/* version 5: the generation's files, mapped as far as it reads */
	void *hmap[2];
	size_t hsize[2];
};

/* Tags. A lookup of a key the archive does not have (every new article's
 * key and path) probes slots that hold other entries; comparing their
 * strings reads an entry and a string at random places in the file, two
 * pages the process maps on first touch (5,000 page faults a batch of
 * 2,000 into 1,000,000 articles). Each slot keeps the top 32 bits of its
 * string's hash beside the entry: a probe with another tag reads nothing
 * more. Likewise each sentence posting has the low 16 bits of its key in
 * a table of their own, a quarter of the keys' size: a lookup reads the
 * tags of its directory bucket (16 postings on average) and a key only
 * where a tag matches, so the sentences a batch looks up map a quarter
 * of the pages. */
static uint64_t hash_of(const char *s) { return XXH3_64bits(s, strlen(s)); }
static uint32_t tag_of(uint64_t hash) { return (uint32_t)(hash >> 32); }
static uint16_t key_tag(uint64_t key) { return (uint16_t)key; }

/* a bucket longer than this (a common sentence's run) is searched in its
 * keys, not scanned in its tags */
enum { TAG_SCAN_MAX = 64 };

static unsigned block(uint64_t fp, int t) { return (unsigned)((fp >> (16 * t)) & 0xFFFF); }

static int damaged(const snap *s)
{
	return stet_error_set(STET_ECORRUPT, "%s: the key cache's snapshot is damaged; run 'stet index' to rebuild it",
			      s->file);
}

/* ---- the heap ----
 *
 * Up to version 4 every snapshot held the strings and numbers of its
 * entries, and a merge copied them from the snapshot it replaced: at
 * 1,000,000 articles 59 % of a big snapshot's 1.1 GB, and of every middle
 * and small one's, written again each time (docs/performance.md). From
 * version 5 they are appended, once, to two files of a generation
 * (strings-GEN, numbers-GEN, GEN 16 hex digits) that the big, middle and
 * small snapshots share; a snapshot names the generation and how much of
 * each file it reads (header: heap, hstr, hnum), and a merge writes only
 * the strings and numbers of the entries that changed or are new. Bytes
 * past what the named snapshots read are a killed or failed writer's:
 * the next writer cuts them off before it appends (one writer at a time:
 * the archive's lock), and a reader maps only what its snapshot reads, so
 * appending never changes what a reader sees. Strings and numbers are
 * synced before the snapshot that reads them is. A whole big snapshot
 * starts a new generation; keys.c removes the old one's files once no
 * journal names a snapshot of it. */

/* the generation's file of kind 0 (strings) or 1 (numbers), beside file */
static void heap_name(stet_buf *b, const char *file, int kind, uint64_t gen)
{
	const char *slash = strrchr(file, '/');
	stet_buf_clear(b);
	if (slash)
		stet_buf_put(b, file, (size_t)(slash - file) + 1);
	stet_buf_printf(b, "%s-%016llx", kind ? "numbers" : "strings", (unsigned long long)gen);
}

/* s's strings and numbers from its generation's files: 0, or 1 (a file
 * missing or shorter than s reads: as good as no snapshot) */
static int heap_map(snap *s)
{
	const uint64_t want[2] = { s->h->hstr, s->h->hnum * 8 };
	stet_buf name = STET_BUF_INIT;
	int kind, result = 0;

	if (s->h->hnum > UINT64_MAX / 8)
		return 1;
	for (kind = 0; kind < 2 && !result; kind++) {
		struct stat st;
		int fd;
		heap_name(&name, s->file, kind, s->h->heap);
		if (stet_buf_check(&name, "snapshot") < 0) {
			stet_error_clear();
			result = 1;
			break;
		}
		if (!want[kind])
			continue;
		if ((fd = open(name.ptr, O_RDONLY | O_CLOEXEC)) < 0)
			result = 1;
		else if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < want[kind] || want[kind] > SIZE_MAX)
			result = 1;
		else if ((s->hmap[kind] = mmap(NULL, (size_t)want[kind], PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
			s->hmap[kind] = NULL;
			result = 1;
		} else
			s->hsize[kind] = (size_t)want[kind];
		if (fd >= 0)
			close(fd);
	}
	stet_buf_dispose(&name);
	return result;
}

/* bytes of a generation's file from at on (what was past it cut off
 * first: a killed writer's), synced; fresh: the file made anew */
static int heap_put(const char *file, int kind, uint64_t gen, int fresh, uint64_t at, const void *p, size_t n)
{
	stet_buf name = STET_BUF_INIT;
	int fd, error = 0;

	heap_name(&name, file, kind, gen);
	if ((error = stet_buf_check(&name, "snapshot")) < 0)
		goto done;
	if ((fd = open(name.ptr, O_WRONLY | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0644)) < 0 ||
	    ftruncate(fd, (off_t)at) < 0 || (n && stet_pwrite_all(fd, p, n, at) < 0) || fsync(fd) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", name.ptr, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	if (close(fd) < 0)
		error = stet_error_set(STET_EIO, "%s: %s", name.ptr, strerror(errno));
done:
	stet_buf_dispose(&name);
	return error;
}

/* a snapshot's new strings and numbers, appended to generation gen (made
 * anew when fresh) from sbase bytes and nbase numbers on */
static int heap_append(const char *file, uint64_t gen, int fresh, uint64_t sbase, const stet_buf *strs, uint64_t nbase,
		       const uint64_t *num, size_t nnum)
{
	int error;
	if ((error = heap_put(file, 0, gen, fresh, sbase, strs->ptr, strs->size)) < 0)
		return error;
	return heap_put(file, 1, gen, fresh, nbase * 8, num, nnum * 8);
}

/* does s read generation gen */
static int of_gen(const snap *s, uint64_t gen) { return s && s->h->version >= 5 && s->h->heap == gen; }

void snap_heap_of(const snap *s, snap_heap *out)
{
	memset(out, 0, sizeof(*out));
	if (s && s->h->version >= 5) {
		out->gen = s->h->heap;
		out->nstr = s->h->hstr;
		out->nnum = s->h->hnum;
	}
}

uint64_t snap_dead(const snap *s) { return s ? s->dead : 0; }

/* ---- reading ---- */

/* a generation without numbers: never read, but a pointer to be offset */
static const uint64_t no_numbers[1];

/* a section not 8-aligned or not within a file of size bytes */
static int outside(const section *c, size_t size)
{
	return c->off % 8 || c->off > size || c->size > size - c->off;
}

int snap_open(snap **out, const char *file)
{
	struct stat st;
	snap *s;
	const header *h;
	int fd, i;

	*out = NULL;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(header)) {
		close(fd);
		return 1;
	}
	if (!(s = stet_calloc(1, sizeof(*s))) || !(s->file = stet_strdup(file))) {
		free(s);
		close(fd);
		return stet_error_oom();
	}
	s->size = (size_t)st.st_size;
	s->fd = fd; /* kept, with a shared lock: a writer does not reuse a file being read */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		/* being written over (a spare): as good as missing. Where
		 * locks are not to be had (ENOLCK), it is read unlocked: a
		 * writer's lock fails there too, so no spare is reused */
		snap_close(s);
		return 1;
	}
	s->map = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		snap_close(s);
		return 1;
	}
	s->h = h = (const header *)s->map;
	if (memcmp(h->magic, SNAP_MAGIC, 8) || h->version < 1 || h->version > SNAP_VERSION ||
	    s->size < header_size(h->version) || h->endian != SNAP_ENDIAN || h->slots == 0 ||
	    (h->slots & (h->slots - 1)) || h->sbits > 40 || h->xbits > 40)
		goto bad;
	for (i = 0; i < S_COUNT; i++)
		if (outside(&h->sec[i], s->size))
			goto bad;
	if (h->version >= 3 && outside(&h->stag, s->size))
		goto bad;
	s->stride = h->version >= 3 ? 2 : 1;
#define SEC(k) (s->map + h->sec[k].off)
	s->ent = (const snap_ent *)SEC(S_ENT);
	s->str = (const char *)SEC(S_STR);
	s->num = (const uint64_t *)SEC(S_NUM);
	s->nstr = h->sec[S_STR].size;
	s->nnum = h->sec[S_NUM].size / 8;
	if (h->version >= 5) { /* its generation's (the file's own are empty) */
		if (!h->heap || s->nstr || s->nnum || heap_map(s))
			goto bad;
		s->str = s->hmap[0];
		s->num = s->hmap[1] ? s->hmap[1] : no_numbers;
		s->nstr = h->hstr;
		s->nnum = h->hnum;
	}
	s->bykey = (const uint32_t *)SEC(S_BYKEY);
	s->bypath = (const uint32_t *)SEC(S_BYPATH);
	s->skey = (const uint64_t *)SEC(S_SKEY);
	s->sid = (const uint32_t *)SEC(S_SID);
	s->sdir = (const uint32_t *)SEC(S_SDIR);
	s->xkey = (const uint64_t *)SEC(S_XKEY);
	s->xid = (const uint32_t *)SEC(S_XID);
	s->xdir = (const uint32_t *)SEC(S_XDIR);
	s->nsent = h->sec[S_SKEY].size / 8;
	s->nexact = h->sec[S_XKEY].size / 8;
	s->dead = h->version >= 2 ? h->dead : 0; /* version 1 was always written whole */
	s->stag = h->version >= 3 ? (const uint16_t *)(s->map + h->stag.off) : NULL;
	if (h->sec[S_ENT].size != h->n * sizeof(snap_ent) || h->sec[S_BYKEY].size != h->slots * 4 * s->stride ||
	    h->sec[S_BYPATH].size != h->slots * 4 * s->stride || h->sec[S_SID].size != s->nsent * 4 ||
	    (s->stag && h->stag.size != s->nsent * 2) ||
	    h->sec[S_SDIR].size != (((uint64_t)1 << h->sbits) + 1) * 4 || h->sec[S_XID].size != s->nexact * 4 ||
	    h->sec[S_XDIR].size != (((uint64_t)1 << h->xbits) + 1) * 4 || !s->nstr || s->str[s->nstr - 1] != '\0')
		goto bad;
	for (i = 0; i < 4; i++) {
		s->simfp[i] = (const uint64_t *)SEC(S_SIMFP0 + i);
		s->simid[i] = (const uint32_t *)SEC(S_SIMID0 + i);
		s->simdir[i] = (const uint32_t *)SEC(S_SIMDIR0 + i);
		s->nsim[i] = h->sec[S_SIMFP0 + i].size / 8;
		if (h->sec[S_SIMID0 + i].size != s->nsim[i] * 4 || h->sec[S_SIMDIR0 + i].size != 65537 * 4)
			goto bad;
	}
#undef SEC
	*out = s;
	return 0;
bad:
	snap_close(s);
	return 1;
}

void snap_close(snap *s)
{
	if (!s)
		return;
	if (s->map)
		munmap(s->map, s->size);
	if (s->hmap[0])
		munmap(s->hmap[0], s->hsize[0]);
	if (s->hmap[1])
		munmap(s->hmap[1], s->hsize[1]);
	if (s->fd >= 0)
		close(s->fd);
	free(s->file);
	free(s);
}

uint64_t snap_id(const snap *s) { return s->h->id; }
size_t snap_count(const snap *s) { return s ? (size_t)s->h->n : 0; }

/* an entry, its offsets checked */
int snap_get(const snap_ent **out, const snap *s, uint32_t id)
{
	const snap_ent *e;
	if (id >= s->h->n)
		return damaged(s);
	e = &s->ent[id];
	if (e->key >= s->nstr || e->path >= s->nstr || e->title >= s->nstr || e->near_of >= s->nstr ||
	    e->sent > s->nnum || e->nsent > s->nnum - e->sent || e->seen > s->nnum || e->nseen > s->nnum - e->seen)
		return damaged(s);
	*out = e;
	return 0;
}

const char *snap_str(const snap *s, uint64_t off) { return s->str + off; }
const uint64_t *snap_num(const snap *s, uint64_t off) { return s->num + off; }

static int find_string(const snap *s, const uint32_t *table, const char *str, int paths, int64_t *id)
{
	const uint64_t hash = hash_of(str), mask = s->h->slots - 1;
	const unsigned w = s->stride;
	size_t i, probes = 0;
	*id = -1;
	for (i = hash & mask; table[i * w]; i = (i + 1) & mask) {
		const snap_ent *e = NULL;
		int error;
		if (++probes > s->h->slots)
			return damaged(s);
		if (w == 2 && table[i * 2 + 1] != tag_of(hash))
			continue; /* another string: its entry is not read */
		if ((error = snap_get(&e, s, table[i * w] - 1)) < 0)
			return error;
		if (!strcmp(snap_str(s, paths ? e->path : e->key), str) && (!paths || e->kind == KE_ARTICLE)) {
			*id = table[i * w] - 1;
			return 0;
		}
	}
	return 0;
}

int snap_by_key(const snap *s, const char *key, int64_t *id) { return find_string(s, s->bykey, key, 0, id); }
int snap_by_path(const snap *s, const char *path, int64_t *id) { return find_string(s, s->bypath, path, 1, id); }

/* the ids stored under key in a sorted (key, id) list with a directory by
 * the key's top bits (and the keys' tags, or NULL) */
static int postings(const snap *s, const uint64_t *keys, const uint16_t *tags, const uint32_t *ids,
		    const uint32_t *dir, uint64_t n, unsigned bits, uint64_t key, const uint32_t **out, size_t *count)
{
	uint64_t d = bits ? key >> (64 - bits) : 0, lo = dir[d], hi = dir[d + 1];
	*out = NULL;
	*count = 0;
	if (lo > hi || hi > n)
		return damaged(s);
	if (tags && hi - lo <= TAG_SCAN_MAX) {
		/* the bucket's tags; a key read only where its tag matches.
		 * Keys are sorted, so the first match starts key's run */
		uint64_t i, j;
		for (i = lo; i < hi && !(tags[i] == key_tag(key) && keys[i] == key); i++)
			;
		for (j = i; j < hi && keys[j] == key; j++)
			;
		*out = ids + i;
		*count = (size_t)(j - i);
		return 0;
	}
	{ /* the run of key in [lo, hi): binary searches (a common
	   * sentence's run can be long) */
		uint64_t a = lo, b = hi;
		while (a < b) {
			uint64_t mid = a + (b - a) / 2;
			if (keys[mid] < key)
				a = mid + 1;
			else
				b = mid;
		}
		lo = a;
		b = hi;
		while (a < b) {
			uint64_t mid = a + (b - a) / 2;
			if (keys[mid] <= key)
				a = mid + 1;
			else
				b = mid;
		}
		*out = ids + lo;
		*count = (size_t)(a - lo);
	}
	return 0;
}

int snap_sentences(const snap *s, uint64_t sentence, const uint32_t **ids, size_t *n)
{
	return postings(s, s->skey, s->stag, s->sid, s->sdir, s->nsent, s->h->sbits, sentence, ids, n);
}

void snap_sentences_prefetch(const snap *s, uint64_t sentence, int stage)
{
	uint64_t d = s->h->sbits ? sentence >> (64 - s->h->sbits) : 0;
	if (!stage) {
		__builtin_prefetch(s->sdir + d);
		return;
	}
	if (s->sdir[d] < s->nsent)
		__builtin_prefetch(s->stag ? (const void *)(s->stag + s->sdir[d]) : (const void *)(s->skey + s->sdir[d]));
}

int snap_exacts(const snap *s, uint64_t exact, const uint32_t **ids, size_t *n)
{
	return postings(s, s->xkey, NULL, s->xid, s->xdir, s->nexact, s->h->xbits, exact, ids, n);
}

void snap_sim_prefetch(const snap *s, uint64_t fp, int stage)
{
	int t;
	for (t = 0; t < 4; t++) {
		unsigned b = block(fp, t);
		if (!stage)
			__builtin_prefetch(s->simdir[t] + b);
		else if (s->simdir[t][b] < s->nsim[t])
			__builtin_prefetch(s->simfp[t] + s->simdir[t][b]);
	}
}

int snap_sim_query(const snap *s, uint64_t fp, int k, stet_simindex_cb cb, void *payload)
{
	int t, u, r;
	for (t = 0; t < 4; t++) {
		unsigned b = block(fp, t);
		uint64_t lo = s->simdir[t][b], hi = s->simdir[t][b + 1], i;
		if (lo > hi || hi > s->nsim[t])
			return damaged(s);
		for (i = lo; i < hi; i++) {
			uint64_t other = s->simfp[t][i];
			int d = __builtin_popcountll(other ^ fp), seen = 0;
			if (d > k)
				continue;
			/* reported from an earlier table if an earlier block matches */
			for (u = 0; u < t; u++)
				seen |= block(other, u) == block(fp, u);
			if (seen)
				continue;
			if (s->simid[t][i] >= s->h->n)
				return damaged(s);
			if ((r = cb(s->simid[t][i], other, d, payload)) != 0)
				return r;
		}
	}
	return 0;
}

/* ---- writing ---- */

typedef struct {
	uint64_t key;
	uint32_t id;
} pair;

/* the directory of pairs by their keys' top `bits` bits: where each
 * bucket starts, and the end */
static uint32_t *dir_of(const pair *v, size_t n, unsigned bits)
{
	size_t nb = (size_t)1 << bits, i;
	uint32_t *dir = stet_calloc(nb + 1, sizeof(*dir));

	if (!dir)
		return NULL;
	for (i = 0; i < n; i++)
		dir[(bits ? v[i].key >> (64 - bits) : 0) + 1]++;
	for (i = 0; i < nb; i++)
		dir[i + 1] += dir[i];
	return dir;
}

/* pairs sorted by key, ids in their given order within a key, and the
 * directory of the keys' top `bits` bits: a counting sort, then an
 * insertion sort of each (small) bucket */
static int sort_pairs(pair *v, size_t n, unsigned bits, uint32_t **dir_out)
{
	size_t nb = (size_t)1 << bits, i;
	uint32_t *dir = dir_of(v, n, bits);
	pair *tmp = stet_malloc((n ? n : 1) * sizeof(*tmp));

	if (!dir || !tmp) {
		free(dir);
		free(tmp);
		return stet_error_oom();
	}
	{
		uint32_t *at = stet_malloc(nb * sizeof(*at));
		if (!at) {
			free(dir);
			free(tmp);
			return stet_error_oom();
		}
		memcpy(at, dir, nb * sizeof(*at));
		for (i = 0; i < n; i++)
			tmp[at[bits ? v[i].key >> (64 - bits) : 0]++] = v[i];
		free(at);
	}
	for (i = 0; i < nb; i++) {
		size_t lo = dir[i], hi = dir[i + 1], j, k;
		for (j = lo + 1; j < hi; j++) {
			pair x = tmp[j];
			for (k = j; k > lo && tmp[k - 1].key > x.key; k--)
				tmp[k] = tmp[k - 1];
			tmp[k] = x;
		}
	}
	if (n)
		memcpy(v, tmp, n * sizeof(*v));
	free(tmp);
	*dir_out = dir;
	return 0;
}

/* Sorted pairs without repeats (*n: the count left): an article that has
 * a sentence twice has one posting for it, as in memory
 * (stet_postings_add), so that a sentence's count of articles is the same
 * from a snapshot as from the journal. A repeat is the same key and id
 * side by side: the ids of a key keep their order, and an entry's pairs
 * are made together. */
static void uniq_pairs(pair *v, size_t *n)
{
	size_t i, k = 0;

	for (i = 0; i < *n; i++)
		if (!k || v[i].key != v[k - 1].key || v[i].id != v[k - 1].id)
			v[k++] = v[i];
	*n = k;
}

/* pairs as the file keeps them: the keys, then the ids */
static void split_pairs(const pair *v, size_t n, uint64_t *keys, uint32_t *ids)
{
	size_t i;
	for (i = 0; i < n; i++) {
		keys[i] = v[i].key;
		ids[i] = v[i].id;
	}
}

/* directory bits for a list of n postings, `per` to a bucket on average:
 * 4 for the exact postings, 16 for the sentences (whose buckets are
 * scanned in their tags) */
static unsigned bits_for(size_t n, size_t per)
{
	unsigned b = 0;
	while (b < 32 && ((size_t)1 << b) * per < n)
		b++;
	return b;
}

enum { SENT_PER_BUCKET = 16, EXACT_PER_BUCKET = 4 };

typedef struct {
	FILE *f;
	uint64_t at;
	uint64_t started; /* bytes the disk was told to write so far */
	int failed;
} out_file;

/* bytes within a section. The disk is told to start on them as they are
 * written (stet_write_behind): a big snapshot is a gigabyte at 1,000,000
 * articles, and the fsync at the end waited ~1 s for all of it, after the
 * merge that made it; now it is written while the rest is made */
static void put_part(out_file *o, const void *p, size_t n)
{
	if (!o->failed && n && fwrite(p, 1, n, o->f) != n)
		o->failed = 1;
	o->at += n;
	if (!o->failed && o->at - o->started >= STET_WRITE_BEHIND) {
		if (fflush(o->f) != 0) /* stdio's buffer first: the hint is of what the file has */
			o->failed = 1;
		else
			o->started = stet_write_behind(fileno(o->f), o->started, o->at);
	}
}

/* the section's last bytes, then its padding */
static void put(out_file *o, const void *p, size_t n)
{
	static const char zero[8];
	put_part(o, p, n);
	if (o->at % 8) /* every section starts 8-aligned */
		put_part(o, zero, 8 - o->at % 8);
}

/* The file a snapshot is written into: the spare (the snapshot of its
 * kind before the last, kept and named by keys.c; NULL: none) when
 * nobody reads it,
 * written over in place, else a new one. Writing over a file's pages
 * costs a copy; new pages cost the kernel finding and clearing them
 * (about 2 s a GB on these VMs), and removing the old file costs as much
 * again (a small snapshot of 62 MB: 85-90 ms to remove, on a file system
 * mounted with discard, as these VMs' are). A reader holds a
 * shared lock on the snapshot it maps (snap_open), so a spare still read
 * is left alone. */
static int out_open(out_file *o, const char *file, const char *spare, stet_buf *tmpname)
{
	int fd = -1;

	memset(o, 0, sizeof(*o));
	stet_buf_printf(tmpname, "%s.tmp.%d", file, (int)getpid());
	if (stet_buf_check(tmpname, "snapshot") < 0)
		return stet_error_oom();
	if (spare && (fd = open(spare, O_WRONLY | O_CLOEXEC)) >= 0 &&
	    (flock(fd, LOCK_EX | LOCK_NB) < 0 || rename(spare, tmpname->ptr) < 0)) {
		close(fd);
		fd = -1;
	}
	if ((fd < 0 && (fd = open(tmpname->ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) ||
	    !(o->f = fdopen(fd, "wb"))) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmpname->ptr);
		}
		return stet_error_set(STET_EIO, "%s: %s", tmpname->ptr, strerror(e));
	}
	return 0;
}

/* the header's fields (the sections come as they are written), the
 * file opened and the header put first: written again at the end */
static int out_start(out_file *o, header *h, const char *file, const char *spare, stet_buf *tmpname, uint64_t id,
		     uint64_t n, uint64_t slots, uint64_t dead)
{
	int error;

	memcpy(h->magic, SNAP_MAGIC, 8);
	h->version = SNAP_VERSION;
	h->endian = SNAP_ENDIAN;
	h->id = id;
	h->n = n;
	h->slots = slots;
	h->dead = dead;
	if ((error = out_open(o, file, spare, tmpname)) < 0)
		return error;
	put(o, h, sizeof(*h));
	return 0;
}

/* a section written whole from memory (o and h: the writer's) */
#define SECTION(k, p, bytes)                                                                                           \
	do {                                                                                                           \
		h.sec[k].off = o.at;                                                                                   \
		h.sec[k].size = (bytes);                                                                               \
		put(&o, (p), (bytes));                                                                                 \
	} while (0)

/* the header again, with the sections; the file cut to what was written
 * (a spare may have been longer), synced and renamed to its name; or
 * removed (error < 0: the writer's own) */
static int out_finish(out_file *o, const header *h, const char *file, const char *tmpname, int error)
{
	if (error >= 0) {
		if (!o->failed && (fseek(o->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof(*h), o->f) != sizeof(*h)))
			o->failed = 1;
		if (o->failed || fflush(o->f) != 0 || ftruncate(fileno(o->f), (off_t)o->at) < 0 || fsync(fileno(o->f)) < 0)
			error = stet_error_set(STET_EIO, "%s: %s", tmpname, strerror(errno));
	}
	if (fclose(o->f) != 0 && error >= 0)
		error = stet_error_set(STET_EIO, "%s: %s", tmpname, strerror(errno));
	o->f = NULL;
	if (error >= 0 && rename(tmpname, file) < 0)
		error = stet_error_set(STET_EIO, "%s: %s", file, strerror(errno));
	if (error < 0)
		unlink(tmpname);
	return error;
}

/* entry id under str in a string table (open addressing; a slot is the
 * entry + 1 and the tag of str's hash) */
/* entry id put in the first free slot from its string's hash's home */
static void slot_put(uint32_t *t, size_t slots, uint64_t hash, size_t id)
{
	size_t j;
	for (j = hash & (slots - 1); t[j * 2]; j = (j + 1) & (slots - 1))
		;
	t[j * 2] = (uint32_t)id + 1;
	t[j * 2 + 1] = tag_of(hash);
}

static void table_put(uint32_t *t, size_t slots, const char *str, size_t id) { slot_put(t, slots, hash_of(str), id); }

/* Strings put in a table a few dozen at a time: each one's home slot is
 * fetched while the next are hashed, then all are put in the order they
 * came (the table is the same as table_put's one by one). A table of
 * 1,250,000 entries (32 MB) made again at a big merge waited on memory at
 * nearly every string: a tenth of the merge's CPU */
typedef struct {
	uint32_t *t;
	size_t slots, k;
	uint64_t hash[32];
	uint32_t id[32];
} table_batch;

static void tb_flush(table_batch *b)
{
	size_t i;
	for (i = 0; i < b->k; i++)
		slot_put(b->t, b->slots, b->hash[i], b->id[i]);
	b->k = 0;
}

static void tb_add(table_batch *b, const char *str, size_t id)
{
	const uint64_t hash = hash_of(str);
	__builtin_prefetch(&b->t[(hash & (b->slots - 1)) * 2], 1);
	b->hash[b->k] = hash;
	b->id[b->k] = (uint32_t)id;
	if (++b->k == sizeof(b->hash) / sizeof(b->hash[0]))
		tb_flush(b);
}

static int table_of(uint32_t **out, size_t slots, size_t n, const char *const *strs)
{
	uint32_t *t = stet_calloc(slots, 2 * sizeof(*t));
	table_batch b;
	size_t i;
	*out = t;
	if (!t)
		return stet_error_oom();
	b.t = t;
	b.slots = slots;
	b.k = 0;
	for (i = 0; i < n; i++)
		if (strs[i])
			tb_add(&b, strs[i], i);
	tb_flush(&b);
	return 0;
}

/* numbers (64-bit) as the file keeps them */
typedef struct {
	uint64_t *v;
	size_t n, cap;
} numvec;

static int num_put(numvec *nv, const uint64_t *p, size_t n)
{
	if (nv->n + n > nv->cap) {
		size_t cap = nv->cap ? nv->cap * 2 : 1 << 16;
		uint64_t *v;
		while (cap < nv->n + n)
			cap *= 2;
		if (!(v = stet_realloc(nv->v, cap * sizeof(*v))))
			return stet_error_oom();
		nv->v = v;
		nv->cap = cap;
	}
	if (n)
		memcpy(nv->v + nv->n, p, n * sizeof(*p));
	nv->n += n;
	return 0;
}

/* an entry as the file keeps it: its strings go to the end of strs and
 * its numbers to the end of num, which start at str_base and num_base in
 * the file (0 when written whole) */
static int ent_fill(snap_ent *s, const keyent *e, stet_buf *strs, uint64_t str_base, numvec *num, uint64_t num_base)
{
	char c[32];
	int error;

	memset(s, 0, sizeof(*s));
	s->simhash = e->fp.simhash;
	/* as the journal keeps it: three decimals */
	snprintf(c, sizeof(c), "%.3f", e->containment);
	s->containment = strtod(c, NULL);
	s->kind = e->kind;
	s->distance = e->distance;
	s->too_short = e->fp.too_short;
	memcpy(s->blob, e->blob.id, 20);
	memcpy(s->hash, e->hash, 32);
	memcpy(s->exact, e->fp.exact, strnlen(e->fp.exact, sizeof(s->exact) - 1));
	s->key = str_base + strs->size;
	stet_buf_put(strs, e->key, strlen(e->key) + 1);
	s->path = str_base + strs->size;
	stet_buf_put(strs, e->path, strlen(e->path) + 1);
	s->title = str_base + strs->size;
	stet_buf_put(strs, e->title, strlen(e->title) + 1);
	if (e->near_of && *e->near_of) {
		s->near_of = str_base + strs->size;
		stet_buf_put(strs, e->near_of, strlen(e->near_of) + 1);
	}
	s->sent = num_base + num->n;
	s->nsent = (uint32_t)e->fp.nsent;
	if ((error = num_put(num, e->fp.sent, e->fp.nsent)) < 0)
		return error;
	s->seen = num_base + num->n;
	s->nseen = (uint32_t)e->nseen;
	return num_put(num, e->seen, e->nseen);
}

int snap_write(const char *file, const char *spare, uint64_t id, size_t n, snap_view_fn view, void *payload,
	       snap_heap *heap)
{
	snap_heap fresh = { 0, 0, 0 }, *hp = heap ? heap : &fresh;
	const uint64_t gen = hp->gen ? hp->gen : id, sbase = hp->gen ? hp->nstr : 0, nbase = hp->gen ? hp->nnum : 0;
	header h;
	stet_buf strs = STET_BUF_INIT, tmpname = STET_BUF_INIT;
	snap_ent *ent = NULL;
	numvec num = { 0 };
	size_t nsent = 0, nexact = 0, i, j, slots = 2048;
	pair *sp = NULL, *xp = NULL, *simp[4] = { 0 };
	uint32_t *sdir = NULL, *xdir = NULL, *simdir[4] = { 0 }, *bykey = NULL, *bypath = NULL;
	const char **keys = NULL, **paths = NULL;
	out_file o = { 0 };
	int error = 0, t;

	if (n >= UINT32_MAX)
		return stet_error_set(STET_ETOOBIG, "%s: too many entries for a snapshot", file);
	while (slots < 2 * n)
		slots *= 2;
	memset(&h, 0, sizeof(h));
	stet_buf_init(&strs, SIZE_MAX / 2);
	if (!hp->gen)
		stet_buf_putc(&strs, '\0'); /* offset 0 of a generation: the empty string */
	if (!(ent = stet_calloc(n ? n : 1, sizeof(*ent))) || !(keys = stet_calloc(n ? n : 1, sizeof(*keys))) ||
	    !(paths = stet_calloc(n ? n : 1, sizeof(*paths)))) {
		error = stet_error_oom();
		goto done;
	}
	/* entries, strings, numbers; count the postings */
	for (i = 0; i < n && !error; i++) {
		keyent scratch;
		const keyent *e;
		snap_ent *s = &ent[i];
		if ((error = view(&e, i, &scratch, payload)) < 0 ||
		    (error = ent_fill(s, e, &strs, sbase, &num, nbase)) < 0)
			break;
		if (snap_indexed(s)) {
			nsent += s->nsent;
			nexact++;
		}
	}
	if (error < 0 || (error = stet_buf_check(&strs, "snapshot")) < 0)
		goto done;
	if (nsent >= UINT32_MAX || nbase + num.n >= UINT32_MAX || sbase + strs.size >= UINT32_MAX) {
		error = stet_error_set(STET_ETOOBIG, "%s: too many sentences for a snapshot", file);
		goto done;
	}
	/* postings and simhash tables; the string tables over the copies in
	 * strs (what the view lent may be gone) */
	for (i = 0; i < n; i++) {
		keys[i] = strs.ptr + (ent[i].key - sbase);
		paths[i] = ent[i].kind == KE_ARTICLE ? strs.ptr + (ent[i].path - sbase) : NULL;
	}
	if (!(sp = stet_malloc((nsent ? nsent : 1) * sizeof(*sp))) ||
	    !(xp = stet_malloc((nexact ? nexact : 1) * sizeof(*xp)))) {
		error = stet_error_oom();
		goto done;
	}
	for (t = 0; t < 4; t++)
		if (!(simp[t] = stet_malloc((nexact ? nexact : 1) * sizeof(pair)))) {
			error = stet_error_oom();
			goto done;
		}
	{
		size_t ks = 0, kx = 0, kh = 0;
		for (i = 0; i < n; i++) {
			const snap_ent *s = &ent[i];
			if (!snap_indexed(s))
				continue;
			xp[kx].key = snap_exact64(s->exact);
			xp[kx++].id = (uint32_t)i;
			for (j = 0; j < s->nsent; j++) {
				sp[ks].key = num.v[s->sent - nbase + j];
				sp[ks++].id = (uint32_t)i;
			}
			if (!s->too_short) {
				for (t = 0; t < 4; t++) {
					/* sorted by the block: kept whole in key's low bits,
					 * the block in the top 16 */
					simp[t][kh].key = (uint64_t)block(s->simhash, t) << 48;
					simp[t][kh].id = (uint32_t)i;
				}
				kh++;
			}
		}
		nexact = kx;
		nsent = ks;
		h.sbits = bits_for(nsent, SENT_PER_BUCKET);
		h.xbits = bits_for(nexact, EXACT_PER_BUCKET);
		if ((error = sort_pairs(sp, nsent, h.sbits, &sdir)) < 0 || (error = sort_pairs(xp, nexact, h.xbits, &xdir)) < 0)
			goto done;
		/* repeated sentences out, and the directory made for the
		 * postings left (what a merge of the same entries makes) */
		uniq_pairs(sp, &nsent);
		h.sbits = bits_for(nsent, SENT_PER_BUCKET);
		free(sdir);
		if (!(sdir = dir_of(sp, nsent, h.sbits))) {
			error = stet_error_oom();
			goto done;
		}
		for (t = 0; t < 4 && !error; t++) {
			error = sort_pairs(simp[t], kh, 16, &simdir[t]);
			h.sec[S_SIMFP0 + t].size = kh * 8;
			/* sorted: the table keeps the whole simhash */
			for (i = 0; i < kh && !error; i++)
				simp[t][i].key = ent[simp[t][i].id].simhash;
		}
		if (error < 0)
			goto done;
	}
	if ((error = table_of(&bykey, slots, n, keys)) < 0 || (error = table_of(&bypath, slots, n, paths)) < 0)
		goto done;
	/* the strings and numbers, synced before the file that reads them */
	if ((error = heap_append(file, gen, !hp->gen, sbase, &strs, nbase, num.v, num.n)) < 0)
		goto done;
	/* the file */
	if ((error = out_start(&o, &h, file, spare, &tmpname, id, n, slots, 0)) < 0)
		goto done;
	h.heap = gen;
	h.hstr = sbase + strs.size;
	h.hnum = nbase + num.n;
	SECTION(S_ENT, ent, n * sizeof(*ent));
	SECTION(S_STR, NULL, 0);
	SECTION(S_NUM, NULL, 0);
	SECTION(S_BYKEY, bykey, slots * 8);
	SECTION(S_BYPATH, bypath, slots * 8);
	/* postings: keys, then ids */
	{
		uint64_t *k64 = stet_malloc(((nsent > nexact ? nsent : nexact) + 1) * sizeof(*k64));
		uint32_t *k32 = stet_malloc(((nsent > nexact ? nsent : nexact) + 1) * sizeof(*k32));
		if (!k64 || !k32) {
			free(k64);
			free(k32);
			error = out_finish(&o, &h, file, tmpname.ptr, stet_error_oom());
			goto done;
		}
		split_pairs(sp, nsent, k64, k32);
		SECTION(S_SKEY, k64, nsent * 8);
		SECTION(S_SID, k32, nsent * 4);
		SECTION(S_SDIR, sdir, (((size_t)1 << h.sbits) + 1) * 4);
		{ /* the keys' tags, over the ids just written */
			uint16_t *tags = (uint16_t *)k32;
			for (i = 0; i < nsent; i++)
				tags[i] = key_tag(k64[i]);
			h.stag.off = o.at;
			h.stag.size = nsent * 2;
			put(&o, tags, nsent * 2);
		}
		split_pairs(xp, nexact, k64, k32);
		SECTION(S_XKEY, k64, nexact * 8);
		SECTION(S_XID, k32, nexact * 4);
		SECTION(S_XDIR, xdir, (((size_t)1 << h.xbits) + 1) * 4);
		for (t = 0; t < 4; t++) {
			size_t kh = h.sec[S_SIMFP0 + t].size / 8;
			split_pairs(simp[t], kh, k64, k32);
			SECTION(S_SIMFP0 + t, k64, kh * 8);
			SECTION(S_SIMID0 + t, k32, kh * 4);
			SECTION(S_SIMDIR0 + t, simdir[t], 65537 * 4);
		}
		free(k64);
		free(k32);
	}
	if ((error = out_finish(&o, &h, file, tmpname.ptr, 0)) == 0) {
		hp->gen = gen;
		hp->nstr = h.hstr;
		hp->nnum = h.hnum;
	}
done:
	for (t = 0; t < 4; t++) {
		free(simp[t]);
		free(simdir[t]);
	}
	free(sp);
	free(xp);
	free(sdir);
	free(xdir);
	free(bykey);
	free(bypath);
	free(keys);
	free(paths);
	free(ent);
	free(num.v);
	stet_buf_dispose(&strs);
	stet_buf_dispose(&tmpname);
	return error;
}

/* ---- merging: a new snapshot from the old one and what changed ----
 *
 * Rewriting every entry, string and posting from memory costs the
 * archive's size in fresh memory (2.4 GB at 1,000,000 articles) and
 * sorting. A merge copies the old file's sections as they are, with the
 * changed entries' strings and numbers appended (the old ones left as
 * dead bytes), and merges the changed and new entries' postings into the
 * old sorted ones in one pass each, without their old postings. Entries
 * keep their ids, so old postings stay valid. The result answers every
 * lookup as the whole writer's does; with nothing changed and nothing dead
 * it is the same file byte for byte (tests/unit/test_store.c). */

/* a sorted stream: the old list without the dropped ids, merged with the
 * new pairs (sorted); ties in key order by id. t >= 0: a simhash table,
 * ordered by block t of the key */
typedef struct {
	const snap *s;
	const uint64_t *okey;
	const uint32_t *oid;
	uint64_t on, oi;
	const pair *nv;
	size_t nn, ni;
	const unsigned char *drop;
	int t;
	int dropping;  /* some old ids are dropped */
	uint32_t *pos; /* NULL, or where each new pair goes in the old list (below) */
	int pos_known; /* pos filled by an earlier pass */
} merger;

static uint64_t order_key(const merger *m, uint64_t key) { return m->t < 0 ? key : block(key, m->t); }

/* old pair i goes before the next new one (ties in key order by id) */
static int old_first(const merger *m, uint64_t i)
{
	uint64_t ko = order_key(m, m->okey[i]), kn = order_key(m, m->nv[m->ni].key);
	return ko < kn || (ko == kn && m->oid[i] < m->nv[m->ni].id);
}

/* writes in blocks, without the padding put() adds after each section */
typedef struct {
	out_file *o;
	unsigned char buf[1 << 16];
	size_t n;
} block_out;

static void bflush(block_out *b);

static void bput(block_out *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->buf))
		bflush(b);
	memcpy(b->buf + b->n, p, n);
	b->n += n;
}

/* the block so far, before bytes written past it */
static void bflush(block_out *b)
{
	put_part(b->o, b->buf, b->n);
	b->n = 0;
}

/* the rest of the block, then the section's padding */
static void bend(block_out *b)
{
	put(b->o, b->buf, b->n);
	b->n = 0;
}

/* a key's tag, as the sentence tags keep it */
static void put_tag(block_out *b, uint64_t key)
{
	uint16_t tag = key_tag(key);
	bput(b, &tag, 2);
}

/* the tags of n keys, made in the block a stretch at a time (one bput a
 * key was a tenth of a big merge's CPU at 1,000,000 articles) */
static void put_tags(block_out *b, const uint64_t *keys, uint64_t n)
{
	while (n) {
		size_t room, k, i;
		uint16_t tag;
		if (b->n + sizeof(tag) > sizeof(b->buf))
			bflush(b);
		room = (sizeof(b->buf) - b->n) / sizeof(tag);
		k = n < room ? (size_t)n : room;
		for (i = 0; i < k; i++) {
			tag = key_tag(keys[i]);
			memcpy(b->buf + b->n + i * sizeof(tag), &tag, sizeof(tag));
		}
		b->n += k * sizeof(tag);
		keys += k;
		n -= k;
	}
}

/* the old pair i is dropped (its id checked first: the drop bits cover
 * the old file's entries only) */
static int dropped(const merger *m, uint64_t i, int *gone)
{
	const uint32_t o = m->oid[i];
	*gone = 0;
	if (o >= m->s->h->n)
		return damaged(m->s);
	*gone = m->dropping && (m->drop[o / 8] & (1u << (o % 8)));
	return 0;
}

/* the directory of a merge: entry d counts the pairs whose directory
 * value (top bits, or block t) is below d, the old list's kept ones and
 * the new ones, each counted in one sequential scan. The whole old list
 * is checked here (ids inside the old file, order keys never going down),
 * dropped pairs too. A merge of every pair, in order, was a fifth of a
 * big merge's CPU at 1,000,000 articles */
static int merge_dir(block_out *b, const merger *m, unsigned bits, uint64_t nb, uint64_t *count)
{
	uint64_t po = m->oi, pn = m->ni, kept = 0, d, last = 0; /* order keys never go down */
	const unsigned shift = 64 - bits;

	for (d = 0; d <= nb; d++) {
		uint32_t at;
		for (; po < m->on; po++) {
			uint64_t k = order_key(m, m->okey[po]);
			uint64_t dk = m->t >= 0 ? k : bits ? k >> shift : 0;
			int gone = 0, error;
			if (k < last)
				return damaged(m->s);
			if ((error = dropped(m, po, &gone)) < 0)
				return error;
			if (dk >= d)
				break;
			last = k;
			kept += !gone;
		}
		for (; pn < m->nn; pn++) {
			uint64_t k = order_key(m, m->nv[pn].key);
			if ((m->t >= 0 ? k : bits ? k >> shift : 0) >= d)
				break;
		}
		at = (uint32_t)(kept + pn);
		bput(b, &at, 4);
	}
	*count = kept + pn;
	return 0;
}

enum { MERGE_KEYS, MERGE_IDS, MERGE_DIR, MERGE_TAGS };

/* one pass over a merged list, writing its keys, its ids, its directory
 * (by the keys' top `bits` bits, or by block t of a simhash table) or its
 * keys' tags; *count the pairs */
static int merge_pass(out_file *o, const merger *tmpl, int what, unsigned bits, uint64_t *count)
{
	block_out *b = stet_malloc(sizeof(*b)); /* 64 KiB: not on the stack */
	merger m = *tmpl;
	uint64_t n = 0, nb = m.t >= 0 ? 65536 : (uint64_t)1 << bits;
	int r;

	if (!b)
		return stet_error_oom();
	b->o = o;
	b->n = 0;
	if (what == MERGE_DIR) {
		r = merge_dir(b, &m, bits, nb, &n);
	} else {
		/* the old list in runs between the new pairs, copied whole
		 * when nothing is dropped, else pair by pair without the
		 * dropped ones (the directory's pass checks the old list) */
		r = 0;
		while (m.oi < m.on || m.ni < m.nn) {
			uint64_t lo = m.ni < m.nn ? m.oi : m.on, hi = m.on;
			if (m.ni < m.nn && m.pos_known) {
				lo = m.pos[m.ni];
				if (lo < m.oi || lo > hi) { /* a pass before found another place */
					free(b);
					return stet_error_set(STET_ECORRUPT, "%s: a merge's passes disagree", m.s->file);
				}
			} else if (m.ni < m.nn) { /* the old pairs before the next new one */
				/* galloping from where the last one went: the new
				 * pairs are sorted, so its place is near. A search
				 * of the whole rest read the old list at random
				 * pages: at 1,000,000 articles, 25 steps in 183 MB
				 * for each of a million new sentences, two fifths
				 * of a big merge's time */
				uint64_t top = lo, step = 1;
				while (top < hi && old_first(&m, top)) {
					lo = top + 1;
					top = lo + step;
					step *= 2;
				}
				if (top > hi)
					top = hi;
				while (lo < top) { /* everything before lo goes first; top does not, or is the end */
					uint64_t mid = lo + (top - lo) / 2;
					if (old_first(&m, mid))
						lo = mid + 1;
					else
						top = mid;
				}
				if (m.pos) /* the later passes take it from here */
					m.pos[m.ni] = (uint32_t)lo;
			}
			if (m.dropping) {
				uint64_t i;
				for (i = m.oi; i < lo; i++) {
					int gone = 0;
					if ((r = dropped(&m, i, &gone)) < 0)
						break;
					if (gone)
						continue;
					if (what == MERGE_KEYS)
						bput(b, &m.okey[i], 8);
					else if (what == MERGE_TAGS)
						put_tag(b, m.okey[i]);
					else
						bput(b, &m.oid[i], 4);
					n++;
				}
				if (r < 0)
					break;
			} else if (what == MERGE_TAGS) { /* made from the old keys (older files have none) */
				put_tags(b, m.okey + m.oi, lo - m.oi);
				n += lo - m.oi;
			} else {
				/* a short run (between new pairs that come close:
				 * a big merge takes in millions) goes into the block
				 * with them; a long one is written from the old
				 * list. A write of each was 9 % of a big merge's
				 * samples at 1,000,000 articles, in stdio's calls */
				const void *run = what == MERGE_KEYS ? (const void *)(m.okey + m.oi)
								     : (const void *)(m.oid + m.oi);
				size_t bytes = (size_t)(lo - m.oi) * (what == MERGE_KEYS ? 8 : 4);
				if (bytes <= sizeof(b->buf) / 4) {
					bput(b, run, bytes);
				} else {
					bflush(b);
					put_part(o, run, bytes);
				}
				n += lo - m.oi;
			}
			m.oi = lo;
			if (m.ni < m.nn) {
				if (what == MERGE_KEYS)
					bput(b, &m.nv[m.ni].key, 8);
				else if (what == MERGE_TAGS)
					put_tag(b, m.nv[m.ni].key);
				else
					bput(b, &m.nv[m.ni].id, 4);
				m.ni++;
				n++;
			}
		}
	}
	if (r < 0) {
		free(b);
		return r;
	}
	bend(b);
	free(b);
	*count = n;
	return 0;
}

/* a merged list as three sections: its keys, its ids, and its directory
 * (by the keys' top *bits bits, chosen for the list's length; bits NULL:
 * a simhash table's, by the block), and with tags (the sentences) a
 * fourth, the keys' tags. The keys' pass finds where each new pair goes
 * in the old list and keeps it for the ids' and tags' passes: a search in
 * each pass was a tenth of a big merge's CPU at 1,000,000 articles (the
 * positions are 4 bytes a new pair; without them, each pass searches) */
static int merge_list(out_file *o, header *h, const merger *m, int keys, int ids, int dir, uint32_t *bits,
		      size_t per, int tags)
{
	merger mm = *m;
	uint64_t count;
	int error;

	mm.pos = NULL;
	mm.pos_known = 0;
	if (mm.nn && mm.on < UINT32_MAX)
		mm.pos = stet_malloc(mm.nn * sizeof(*mm.pos));
	h->sec[keys].off = o->at;
	if ((error = merge_pass(o, &mm, MERGE_KEYS, 0, &count)) < 0)
		goto done;
	h->sec[keys].size = count * 8;
	mm.pos_known = mm.pos != NULL;
	h->sec[ids].off = o->at;
	if ((error = merge_pass(o, &mm, MERGE_IDS, 0, &count)) < 0)
		goto done;
	h->sec[ids].size = count * 4;
	if (bits)
		*bits = bits_for(count, per);
	h->sec[dir].off = o->at;
	if ((error = merge_pass(o, &mm, MERGE_DIR, bits ? *bits : 16, &count)) < 0)
		goto done;
	h->sec[dir].size = bits ? (((uint64_t)1 << *bits) + 1) * 4 : 65537 * 4;
	if (tags) {
		h->stag.off = o->at;
		if ((error = merge_pass(o, &mm, MERGE_TAGS, 0, &count)) < 0)
			goto done;
		h->stag.size = count * 2;
	}
done:
	free(mm.pos);
	return error;
}

/* the old entry i against the view's: the same in every field the file keeps */
static int same_entry(const snap *s, const snap_ent *r, const keyent *e)
{
	snap_ent x;
	stet_buf strs = STET_BUF_INIT;
	numvec num = { 0 };
	int same;

	if (ent_fill(&x, e, &strs, 0, &num, 0) < 0 || stet_buf_check(&strs, "snapshot") < 0) {
		stet_error_clear();
		same = 0; /* written anew */
	} else
		same = x.kind == r->kind && x.distance == r->distance && x.containment == r->containment &&
		       x.simhash == r->simhash && x.too_short == r->too_short && !memcmp(x.blob, r->blob, 20) &&
		       !memcmp(x.hash, r->hash, sizeof(x.hash)) && !memcmp(x.exact, r->exact, sizeof(x.exact)) &&
		       !strcmp(e->key, snap_str(s, r->key)) && !strcmp(e->path, snap_str(s, r->path)) &&
		       !strcmp(e->title, snap_str(s, r->title)) &&
		       !strcmp(x.near_of ? strs.ptr + x.near_of : "", r->near_of ? snap_str(s, r->near_of) : "") &&
		       x.nsent == r->nsent && x.nseen == r->nseen &&
		       (!x.nsent || !memcmp(num.v, snap_num(s, r->sent), x.nsent * 8)) &&
		       (!x.nseen || !memcmp(num.v + x.nsent, snap_num(s, r->seen), x.nseen * 8));
	stet_buf_dispose(&strs);
	free(num.v);
	return same;
}

static size_t ent_strings(const snap *s, const snap_ent *r)
{
	return strlen(snap_str(s, r->key)) + strlen(snap_str(s, r->path)) + strlen(snap_str(s, r->title)) + 3 +
	       (r->near_of ? strlen(snap_str(s, r->near_of)) + 1 : 0);
}

/* room for entry n, one more changed or new entry (with *cap 0: for n
 * of them) */
static int grow(snap_ent **ent, uint32_t **ids, size_t *cap, size_t n)
{
	snap_ent *v;
	uint32_t *w;
	size_t c = *cap ? *cap * 2 : n > 256 ? n : 256;

	if (n < *cap)
		return 0;
	if (!(v = stet_realloc(*ent, c * sizeof(*v))))
		return stet_error_oom();
	*ent = v;
	if (!(w = stet_realloc(*ids, c * sizeof(*w))))
		return stet_error_oom();
	*ids = w;
	*cap = c;
	return 0;
}

/* pairs of the changed and new entries (ent, ids ascending), sorted as
 * the file keeps them */
static int new_pairs(pair **sp, size_t *ns, pair **xp, size_t *nx, pair *simp[4], size_t *nh, const snap_ent *ent,
		     const uint32_t *ids, size_t nch, const uint64_t *num, uint64_t num_base, const uint64_t *hnum)
{
	size_t i, j, s = 0, x = 0, k = 0;
	uint32_t *dir = NULL;
	int t, error;

	for (i = 0; i < nch; i++)
		if (snap_indexed(&ent[i]))
			s += ent[i].nsent, x++;
	if (!(*sp = stet_malloc((s + 1) * sizeof(pair))) || !(*xp = stet_malloc((x + 1) * sizeof(pair))))
		return stet_error_oom();
	for (t = 0; t < 4; t++)
		if (!(simp[t] = stet_malloc((x + 1) * sizeof(pair))))
			return stet_error_oom();
	s = x = 0;
	for (i = 0; i < nch; i++) {
		const snap_ent *e = &ent[i];
		if (!snap_indexed(e))
			continue;
		(*xp)[x].key = snap_exact64(e->exact);
		(*xp)[x++].id = ids[i];
		for (j = 0; j < e->nsent; j++) { /* its numbers appended now, or in the generation */
			(*sp)[s].key = e->sent >= num_base ? num[e->sent - num_base + j] : hnum[e->sent + j];
			(*sp)[s++].id = ids[i];
		}
		if (!e->too_short) {
			for (t = 0; t < 4; t++) { /* by the block; the id is ent's index for now */
				simp[t][k].key = (uint64_t)block(e->simhash, t) << 48;
				simp[t][k].id = (uint32_t)i;
			}
			k++;
		}
	}
	if ((error = sort_pairs(*sp, s, bits_for(s, SENT_PER_BUCKET), &dir)) < 0)
		return error;
	free(dir);
	dir = NULL;
	uniq_pairs(*sp, &s);
	if ((error = sort_pairs(*xp, x, bits_for(x, EXACT_PER_BUCKET), &dir)) < 0)
		return error;
	free(dir);
	for (t = 0; t < 4; t++) {
		dir = NULL;
		if ((error = sort_pairs(simp[t], k, 16, &dir)) < 0)
			return error;
		free(dir);
		for (i = 0; i < k; i++) { /* the whole simhash, as the file keeps it */
			simp[t][i].key = ent[simp[t][i].id].simhash;
			simp[t][i].id = ids[simp[t][i].id];
		}
	}
	*ns = s;
	*nx = x;
	*nh = k;
	return 0;
}

/* a string table: the old one when no entry left its place (then the new
 * entries are added), else built again from every entry (also from a
 * version before 3, whose slots have no tags) */
typedef struct {
	const char *buf;  /* the strings appended now */
	uint64_t base;    /* their offset in the generation */
	const char *heap; /* the generation's, mapped (entries taken as they are) */
} strsrc;

static const char *str_at(const strsrc *x, uint64_t off) { return off >= x->base ? x->buf + (off - x->base) : x->heap + off; }

static int merged_table(uint32_t **out, const snap *old, const uint32_t *oldt, size_t slots, int paths, int rebuild,
			const snap_ent *ent, const uint32_t *ids, size_t nch, const strsrc *xstr, size_t n)
{
	const size_t nold = snap_count(old);
	table_batch b;
	uint32_t *t;
	size_t i, c;

	if (!(t = stet_calloc(slots, 2 * sizeof(*t))))
		return stet_error_oom();
	*out = t;
	if (!rebuild && slots == old->h->slots && old->stride == 2) {
		memcpy(t, oldt, slots * 2 * sizeof(*t));
		for (c = 0; c < nch; c++) {
			const snap_ent *e = &ent[c];
			const char *s = str_at(xstr, paths ? e->path : e->key);
			if (ids[c] < nold || (paths && e->kind != KE_ARTICLE))
				continue; /* an old key keeps its entry */
			table_put(t, slots, s, ids[c]);
		}
		return 0;
	}
	b.t = t;
	b.slots = slots;
	b.k = 0;
	for (i = 0, c = 0; i < n; i++) {
		const snap_ent *e;
		const char *s;
		int error;
		if (c < nch && ids[c] == i) {
			e = &ent[c++];
			s = str_at(xstr, paths ? e->path : e->key);
		} else {
			if ((error = snap_get(&e, old, (uint32_t)i)) < 0)
				return error;
			s = snap_str(old, paths ? e->path : e->key);
		}
		if (!paths || e->kind == KE_ARTICLE)
			tb_add(&b, s, i);
	}
	tb_flush(&b);
	return 0;
}

/* The postings of a merge (new pairs sorted, then each list merged with
 * the old one), written on a thread of their own into the file's second
 * part while the merge's thread writes the entries, strings, numbers and
 * tables into the first: a big merge at the opening of a run had one core
 * idle once the run's inputs were canonicalized. The parts meet at an
 * offset known before either is written (their layout is the whole
 * writer's, byte for byte). */
typedef struct {
	out_file o; /* a second stream on the file, from the postings' offset */
	header *h;  /* the postings' fields only */
	const snap *old;
	const snap_ent *ent;
	const uint32_t *ids;
	size_t nch;
	const uint64_t *num;  /* the numbers appended now, from num_base */
	uint64_t num_base;
	const uint64_t *hnum; /* the generation's, mapped */
	const unsigned char *drop;
	int dropping;
	int error;
	char msg[512];
} postings_job;

static int write_postings(postings_job *j)
{
	const snap *old = j->old;
	pair *sp = NULL, *xp = NULL, *simp[4] = { 0 };
	size_t ns = 0, nx = 0, nh = 0;
	merger m;
	int error, t;

	if ((error = new_pairs(&sp, &ns, &xp, &nx, simp, &nh, j->ent, j->ids, j->nch, j->num, j->num_base, j->hnum)) < 0)
		goto done;
	m = (merger){ old, old->skey, old->sid, old->nsent, 0, sp, ns, 0, j->drop, -1, j->dropping, NULL, 0 };
	if ((error = merge_list(&j->o, j->h, &m, S_SKEY, S_SID, S_SDIR, &j->h->sbits, SENT_PER_BUCKET, 1)) < 0)
		goto done;
	m = (merger){ old, old->xkey, old->xid, old->nexact, 0, xp, nx, 0, j->drop, -1, j->dropping, NULL, 0 };
	if ((error = merge_list(&j->o, j->h, &m, S_XKEY, S_XID, S_XDIR, &j->h->xbits, EXACT_PER_BUCKET, 0)) < 0)
		goto done;
	for (t = 0; t < 4; t++) {
		m = (merger){ old, old->simfp[t], old->simid[t], old->nsim[t], 0, simp[t], nh, 0, j->drop, t, j->dropping, NULL, 0 };
		if ((error = merge_list(&j->o, j->h, &m, S_SIMFP0 + t, S_SIMID0 + t, S_SIMDIR0 + t, NULL, 0, 0)) < 0)
			goto done;
	}
	if (!j->o.failed && fflush(j->o.f) != 0)
		j->o.failed = 1;
done:
	for (t = 0; t < 4; t++)
		free(simp[t]);
	free(sp);
	free(xp);
	return error;
}

static void *postings_thread(void *arg)
{
	postings_job *j = arg;
	if ((j->error = write_postings(j)) < 0)
		snprintf(j->msg, sizeof(j->msg), "%s", stet_error_last());
	return NULL;
}

/* the source among srcs that holds view entry i (NULL: none) */
static const snap_src *src_of(const snap_src *srcs, size_t nsrc, size_t i)
{
	size_t k;
	for (k = 0; k < nsrc; k++)
		if (srcs[k].s && i >= srcs[k].first && i - srcs[k].first < snap_count(srcs[k].s))
			return &srcs[k];
	return NULL;
}

int snap_merge(const char *file, const char *spare, uint64_t id, const snap *old, size_t n, snap_view_fn view,
	       void *payload, const uint32_t *touched, const snap_src *srcs, size_t nsrc, snap_heap *heap, int compact)
{
	const size_t nold = snap_count(old);
	header h;
	stet_buf strs = STET_BUF_INIT, tmpname = STET_BUF_INIT;
	numvec num = { 0 };
	snap_ent *ent = NULL;       /* the changed and new entries, in id order */
	uint32_t *ids = NULL;       /* and their ids */
	unsigned char *drop = NULL; /* old ids whose postings go */
	size_t nch = 0, cap = 0, i, k, slots = 2048;
	uint64_t dead = old->dead, post_at, sbase, nbase;
	uint32_t *bykey = NULL, *bypath = NULL;
	int error = 0, paths_moved = 0, dropping = 0, threaded = 0;
	out_file o = { 0 };
	postings_job pj;
	pthread_t thread;
	snap_heap own, *hp = heap ? heap : &own;
	const snap *hstr = old, *hnum = old; /* the generation's maps that reach furthest */
	strsrc xs;

	memset(&pj, 0, sizeof(pj));
	if (n >= UINT32_MAX)
		return stet_error_set(STET_ETOOBIG, "%s: too many entries for a snapshot", file);
	if (n < nold)
		return 1; /* entries are never removed; if they were, write it whole */
	if (old->h->version < 5)
		return 1; /* its strings are its own, its postings may repeat an article: write it whole, once */
	snap_heap_of(old, &own);
	if (!of_gen(old, hp->gen) || hp->nstr < own.nstr || hp->nnum < own.nnum)
		return 1;
	sbase = hp->nstr;
	nbase = hp->nnum;
	for (k = 0; k < nsrc; k++) /* sources of another generation are read through the view */
		if (of_gen(srcs[k].s, hp->gen)) {
			dead += srcs[k].s->dead;
			if (srcs[k].s->nstr > hstr->nstr)
				hstr = srcs[k].s;
			if (srcs[k].s->nnum > hnum->nnum)
				hnum = srcs[k].s;
		}
	while (slots < 2 * n)
		slots *= 2;
	memset(&h, 0, sizeof(h));
	stet_buf_init(&strs, SIZE_MAX / 2);
	if (!(drop = stet_calloc(nold / 8 + 1, 1))) {
		error = stet_error_oom();
		goto done;
	}
	/* room for the new entries (the most a merge takes: a big one's, the
	 * middle and small ones' entries, taken as they are), and a quarter
	 * more: grown by doubling, a big merge's buffers at 1,000,000
	 * articles touched twice their size in fresh pages and copied each on
	 * the way. Their strings and numbers are the journal's entries' only
	 * (a few thousand): grown as they come */
	if (n > nold && (error = grow(&ent, &ids, &cap, (n - nold) + (n - nold) / 4 + 256)) < 0)
		goto done;
	/* the old entries the view changed, then the new ones: a source's
	 * as they are (their strings and numbers stay where they are in the
	 * generation), unless the view changed them too */
	for (i = 0; i < n && !error; i++) {
		keyent scratch;
		const keyent *e;
		const snap_ent *r = NULL;
		const snap *rs = old; /* the snapshot r is of */
		const snap_src *src = NULL;
		if (i < nold && !touched[i])
			continue;
		if (i >= nold && (src = src_of(srcs, nsrc, i)) && !of_gen(src->s, hp->gen))
			src = NULL;
		if (src) {
			rs = src->s;
			if ((error = snap_get(&r, rs, (uint32_t)(i - src->first))) < 0)
				break;
			if (!touched[i]) {
				if ((error = grow(&ent, &ids, &cap, nch)) < 0)
					break;
				ent[nch] = *r;
				ids[nch++] = (uint32_t)i;
				continue;
			}
		}
		if ((error = view(&e, i, &scratch, payload)) < 0 || (i < nold && (error = snap_get(&r, old, (uint32_t)i)) < 0))
			break;
		if ((error = grow(&ent, &ids, &cap, nch)) < 0)
			break;
		if (src && same_entry(rs, r, e)) {
			ent[nch] = *r;
			ids[nch++] = (uint32_t)i;
			continue;
		}
		if (i < nold && same_entry(old, r, e))
			continue;
		if ((error = ent_fill(&ent[nch], e, &strs, sbase, &num, nbase)) < 0)
			break;
		ids[nch++] = (uint32_t)i;
		if (!r)
			continue;
		dead += ent_strings(rs, r) + ((uint64_t)r->nsent + r->nseen) * 8;
		if (i >= nold)
			continue; /* a source's: it had no postings in old */
		if (snap_indexed(r)) {
			drop[i / 8] |= (unsigned char)(1u << (i % 8));
			dropping = 1;
		}
		if ((r->kind == KE_ARTICLE) != (e->kind == KE_ARTICLE) ||
		    (r->kind == KE_ARTICLE && strcmp(snap_str(old, r->path), e->path)))
			paths_moved = 1;
	}
	if (error < 0 || (error = stet_buf_check(&strs, "snapshot")) < 0)
		goto done;
	if (nbase + num.n >= UINT32_MAX || sbase + strs.size >= UINT32_MAX) {
		error = stet_error_set(STET_ETOOBIG, "%s: too many sentences for a snapshot", file);
		goto done;
	}
	/* the generation's dead bytes past a quarter of it (a big snapshot's
	 * merge, compact): write it whole, into a new one */
	if (compact && dead * 4 > sbase + strs.size + (nbase + num.n) * 8) {
		error = 1;
		goto done;
	}
	/* the new strings and numbers, synced before the file that reads them */
	if ((error = heap_append(file, hp->gen, 0, sbase, &strs, nbase, num.v, num.n)) < 0)
		goto done;
	xs.buf = strs.ptr;
	xs.base = sbase;
	xs.heap = hstr->str;
	/* where the postings begin: after the header, entries and the two
	 * tables, each 8-aligned */
	post_at = (sizeof(h) + 7) / 8 * 8 + n * sizeof(snap_ent) + 2 * (uint64_t)slots * 8;
	if ((error = out_start(&o, &h, file, spare, &tmpname, id, n, slots, dead)) < 0)
		goto done;
	h.heap = hp->gen;
	h.hstr = sbase + strs.size;
	h.hnum = nbase + num.n;
	{
		int fd = open(tmpname.ptr, O_WRONLY | O_CLOEXEC);
		pj.h = &h;
		pj.old = old;
		pj.ent = ent;
		pj.ids = ids;
		pj.nch = nch;
		pj.num = num.v;
		pj.num_base = nbase;
		pj.hnum = hnum->num;
		pj.drop = drop;
		pj.dropping = dropping;
		if (fd < 0 || !(pj.o.f = fdopen(fd, "wb")) || fseeko(pj.o.f, (off_t)post_at, SEEK_SET) != 0) {
			error = stet_error_set(STET_EIO, "%s: %s", tmpname.ptr, strerror(errno));
			if (pj.o.f)
				fclose(pj.o.f);
			else if (fd >= 0)
				close(fd);
			pj.o.f = NULL;
			goto fail;
		}
		pj.o.at = pj.o.started = post_at;
		threaded = pthread_create(&thread, NULL, postings_thread, &pj) == 0;
	}
	if ((error = merged_table(&bykey, old, old->bykey, slots, 0, 0, ent, ids, nch, &xs, n)) < 0 ||
	    (error = merged_table(&bypath, old, old->bypath, slots, 1, paths_moved, ent, ids, nch, &xs, n)) < 0)
		goto join;
	{ /* entries: the old ones, the changed ones in their place, the new */
		size_t c = 0, from = 0;
		h.sec[S_ENT].off = o.at;
		for (c = 0; c < nch && ids[c] < nold; c++) {
			put_part(&o, old->ent + from, (ids[c] - from) * sizeof(snap_ent));
			put_part(&o, &ent[c], sizeof(snap_ent));
			from = ids[c] + 1;
		}
		put_part(&o, old->ent + from, (nold - from) * sizeof(snap_ent));
		put(&o, ent + c, (nch - c) * sizeof(snap_ent));
		h.sec[S_ENT].size = n * sizeof(snap_ent);
	}
	SECTION(S_STR, NULL, 0);
	SECTION(S_NUM, NULL, 0);
	SECTION(S_BYKEY, bykey, slots * 8);
	SECTION(S_BYPATH, bypath, slots * 8);
	if (o.at != post_at)
		error = stet_error_set(STET_ECORRUPT, "%s: the postings were placed at %llu, not %llu", tmpname.ptr,
				       (unsigned long long)post_at, (unsigned long long)o.at);
join:
	if (threaded)
		pthread_join(thread, NULL);
	else
		postings_thread(&pj);
	if (error >= 0 && pj.error < 0)
		error = stet_error_set(pj.error, "%s", pj.msg);
	if (fclose(pj.o.f) != 0 || pj.o.failed)
		o.failed = 1; /* out_finish reports it */
	pj.o.f = NULL;
	o.at = pj.o.at; /* the file ends where the postings do */
fail:
	if ((error = out_finish(&o, &h, file, tmpname.ptr, error)) == 0) {
		hp->nstr = h.hstr;
		hp->nnum = h.hnum;
	}
done:
	free(bykey);
	free(bypath);
	free(ent);
	free(ids);
	free(drop);
	free(num.v);
	stet_buf_dispose(&strs);
	stet_buf_dispose(&tmpname);
	return error;
}

uint32_t snap_version(const snap *s) { return s->h->version; }

int snap_indexed(const snap_ent *s)
{
	return s->kind == KE_ARTICLE && s->exact[0] && !(s->exact[0] == '-' && (s->exact[1] == '\0'));
}

uint64_t snap_exact64(const char *hex)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 16 && hex[i]; i++) {
		unsigned c = (unsigned char)hex[i];
		unsigned d = c >= '0' && c <= '9' ? c - '0' : ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') ? (c | 0x20) - 'a' + 10 : 0;
		v = v << 4 | d;
	}
	return v;
}
