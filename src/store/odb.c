/*
 * The object database of a writing run. libgit2 checks, before it writes
 * an object, whether the object exists already; when it does not (nearly
 * always, for a new article's objects), it re-reads the folder of packs
 * and looks again. With one pack per checkpoint that re-read grows with
 * the archive: it was a fifth of a run's time at 100,000 articles. A run
 * holds the archive's lock, so no pack appears that stet did not write
 * itself: here the packs are re-read only when stet says it wrote one
 * (odb_packs_changed). Which pack holds an object is found here too (the
 * multi-pack-index and the packs' indexes, below), and the object is read
 * there (read_at), or by libgit2's backend of that pack for what that
 * does not read. New objects go to the mempack, as before.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <openssl/evp.h>
#include <zlib.h>

/* ---- an object's id: SHA-1 of "<type> <size>\0" and its data, as git
 * names it, by OpenSSL (read_at's check, odb_write's id) ---- */
struct odb_hasher {
	EVP_MD_CTX *sha;
	EVP_MD *md; /* fetched once: EVP_sha1() is fetched again at each use */
};

/* 0; -1 without memory, -2 for a type git does not store as an object,
 * -3 when OpenSSL has no SHA-1 or it failed. *h: made on first use */
static int object_id(odb_hasher **h, git_object_t type, const void *data, size_t len, git_oid *out)
{
	char head[64];
	int hl = snprintf(head, sizeof(head), "%s %zu", git_object_type2string(type), len) + 1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (hl <= 1 || (size_t)hl > sizeof(head) || !git_object_typeisloose(type))
		return -2;
	if (!*h && !(*h = calloc(1, sizeof(**h))))
		return -1;
	if (!(*h)->sha && !((*h)->sha = EVP_MD_CTX_new()))
		return -1;
	if ((!(*h)->md && !((*h)->md = EVP_MD_fetch(NULL, "SHA1", NULL))) ||
	    EVP_DigestInit_ex((*h)->sha, (*h)->md, NULL) != 1 || EVP_DigestUpdate((*h)->sha, head, (size_t)hl) != 1 ||
	    EVP_DigestUpdate((*h)->sha, data, len) != 1 || EVP_DigestFinal_ex((*h)->sha, md, &mdlen) != 1 ||
	    mdlen != GIT_OID_RAWSZ)
		return -3;
	git_oid_fromraw(out, md);
	return 0;
}

void odb_hasher_free(odb_hasher *h)
{
	if (h) {
		EVP_MD_CTX_free(h->sha);
		EVP_MD_free(h->md);
		free(h);
	}
}

/* ---- finding an object's pack ----
 *
 * libgit2's pack backend, when it opens a multi-pack-index, checks that
 * its object ids are in order: all of them, 7,000,000 at 1,000,000
 * articles (140 MB read), every run. That was the one step of a run that
 * grows with the archive however little the run does. Here the backend
 * finds the pack of an object itself, from the multi-pack-index's ids
 * (searched, never checked whole) and the indexes of the packs it does
 * not cover, and reads the object where the index places it (below,
 * "reading an object where an index says it is"), or asks libgit2's
 * backend of that one pack (git_odb_backend_one_pack), which finds it in
 * the pack's own index. Either way its id is checked, so a damaged
 * multi-pack-index costs a miss, never a wrong object. What the search
 * misses, and what is rare (prefixes, listing every object, writing the
 * multi-pack-index), goes to libgit2's backend of the whole folder,
 * made on first use. */

typedef struct {
	char *path;          /* its .idx */
	git_odb_backend *b;  /* libgit2's backend of this pack, made on first use */
	int failed;          /* that failed (the pack is gone): skipped */
	int fd;              /* its .pack, read at an offset (read_at): the descriptor + 1; 0 not open, -1 unreadable */
	/* packs the multi-pack-index does not cover: their .idx, mapped */
	unsigned char *map;
	size_t size;
	const unsigned char *fanout, *ids;
	uint32_t n;
	long long mtime;
} one_pack;

/* a multi-pack-index, mapped: git's (objects/pack/multi-pack-index) or
 * stet's own of the packs git's does not cover (below, "the
 * multi-pack-index") */
typedef struct {
	unsigned char *map; /* NULL: none, or not usable */
	size_t size;
	const unsigned char *fanout, *ids, *offs, *loff;
	uint32_t n, npacks;
	uint64_t nloff;
	size_t *pack;             /* its pack number -> index in v (SIZE_MAX: none) */
	int bad;                  /* ids found out of order: not used */
	unsigned char sorted[32]; /* fanout buckets whose ids were found in order */
} midx_view;

enum { GIT_MIDX, STET_MIDX, NMIDX };
#define RECENT_MIDX "recent-midx" /* stet's, in <gitdir>/stet */

typedef struct {
	git_odb_backend parent;
	git_odb *odb;
	char *dir;               /* objects/pack */
	char *recent;            /* stet's multi-pack-index: <gitdir>/stet/recent-midx */
	git_odb_backend *inner;  /* libgit2's backend of the folder, made on first use */
	int refresh_now;
	pthread_mutex_t lock;    /* the lists below, and making backends */
	midx_view m[NMIDX];      /* git's multi-pack-index, stet's */
	one_pack *v;             /* covered packs, then the others */
	size_t n, cap;
	size_t *loose;           /* the packs neither covers, newest first */
	size_t nloose;
	size_t nfd;              /* packs open for read_at */
	size_t fds_most;         /* at most (fds_most()), 0 until the first */
	struct odb_hasher *hasher; /* read_at's check of an object's id (object_id) */
	unsigned char *chunk;    /* read_at's reads from a pack file */
	size_t reads_at;         /* objects read by read_at (tests) */
	size_t folder_reads;     /* the folder listed (scan_packs; tests) */
	int incomplete;          /* a pack index this search cannot read: a miss is not sure */
} packs;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The place of oid among n sorted ids (fanout: 256 big-endian counts), or
 * -1. Ids are uniform: within its fanout bucket an id's place is about
 * its next four bytes, as a fraction, times the bucket's size. The
 * search starts there and gallops outwards to bracket it, then halves:
 * a few reads of nearby ids where halving alone reads ~15 spread over a
 * bucket (27,000 ids of a 7,000,000-object multi-pack-index, 540 KB), each
 * a page to fault in and a cache line to miss. Ids out of order make it
 * miss, as they did halving (bucket_sorted tells). */
long long odb_find_id(const unsigned char *fanout, const unsigned char *ids, uint32_t n, const git_oid *oid)
{
	unsigned first = oid->id[0];
	uint32_t lo = first ? be32(fanout + 4 * (first - 1)) : 0, hi = be32(fanout + 4 * first), at, step;
	int c;

	if (hi > n || lo >= hi)
		return -1;
	at = lo + (uint32_t)(((uint64_t)be32(oid->id + 1) * (hi - lo)) >> 32);
	c = memcmp(ids + (size_t)at * GIT_OID_RAWSZ, oid->id, GIT_OID_RAWSZ);
	if (!c)
		return at;
	if (c < 0) { /* oid is after at: [at + 1, hi) bracketed from the left */
		for (step = 16, lo = at + 1; lo < hi; step *= 2) {
			uint32_t probe = hi - lo > step ? lo + step : hi - 1;
			c = memcmp(ids + (size_t)probe * GIT_OID_RAWSZ, oid->id, GIT_OID_RAWSZ);
			if (!c)
				return probe;
			if (c > 0) {
				hi = probe;
				break;
			}
			lo = probe + 1;
		}
	} else { /* before at: [lo, at) bracketed from the right */
		for (step = 16, hi = at; hi > lo; step *= 2) {
			uint32_t probe = hi - lo > step ? hi - 1 - step : lo;
			c = memcmp(ids + (size_t)probe * GIT_OID_RAWSZ, oid->id, GIT_OID_RAWSZ);
			if (!c)
				return probe;
			if (c < 0) {
				lo = probe + 1;
				break;
			}
			hi = probe;
		}
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		c = memcmp(ids + (size_t)mid * GIT_OID_RAWSZ, oid->id, GIT_OID_RAWSZ);
		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int map_file(const char *path, unsigned char **map, size_t *size, long long *mtime)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *m;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	*map = m;
	*size = (size_t)st.st_size;
	if (mtime)
		*mtime = (long long)st.st_mtime;
	return 0;
}

/* a pack index (version 2) mapped, its fanout and ids found; -1 if it is
 * not one (the pack is then looked for by libgit2's backend of the folder) */
static int map_idx(one_pack *o)
{
	uint32_t n;
	unsigned i;

	if (map_file(o->path, &o->map, &o->size, &o->mtime) < 0)
		return -1;
	if (o->size < 8 + 1024 || memcmp(o->map, "\377tOc", 4) || be32(o->map + 4) != 2)
		goto bad;
	o->fanout = o->map + 8;
	for (i = 1; i < 256; i++)
		if (be32(o->fanout + 4 * i) < be32(o->fanout + 4 * (i - 1)))
			goto bad;
	n = be32(o->fanout + 4 * 255);
	if ((o->size - 8 - 1024) / GIT_OID_RAWSZ < n)
		goto bad;
	o->ids = o->fanout + 1024;
	o->n = n;
	return 0;
bad:
	munmap(o->map, o->size);
	o->map = NULL;
	return -1;
}

/* dir/name (name: len bytes), or NULL */
static char *pack_path(const char *dir, const char *name, size_t len)
{
	stet_buf b = STET_BUF_INIT;
	stet_buf_printf(&b, "%s/%.*s", dir, (int)len, name);
	if (stet_buf_check(&b, "packs") < 0) {
		stet_buf_dispose(&b);
		return NULL;
	}
	return stet_buf_detach(&b);
}

/* room for one more pack in p->v (-1: none to be had) */
static int room(packs *p)
{
	one_pack *v;
	size_t cap;
	if (p->n < p->cap)
		return 0;
	cap = p->cap ? p->cap * 2 : 64;
	if (!(v = stet_realloc(p->v, cap * sizeof(*v))))
		return -1;
	p->v = v;
	p->cap = cap;
	return 0;
}

static void midx_drop(midx_view *x)
{
	if (x->map)
		munmap(x->map, x->size);
	free(x->pack);
	memset(x, 0, sizeof(*x));
}

static int known(const packs *p, const char *path);

/* the chunks of a multi-pack-index (git's format, version 1), checked
 * against the file's size; not its ids' order (a search that meets ids
 * out of order misses). Stet's own (x is p->m[STET_MIDX]) is used only
 * when every pack it names is there and not covered by git's: git gc, a
 * multi-pack-index git wrote, or a run killed between writing git's and
 * removing stet's leave one that is not (then the next run writes it
 * again if it is due) */
static int midx_parse(packs *p, midx_view *x, const char *file)
{
	const unsigned char *m;
	size_t size, i, end;
	const unsigned char *names = NULL;
	size_t names_size = 0, fan_size = 0, ids_size = 0, offs_size = 0, loff_size = 0, first = p->n;
	unsigned chunks;

	memset(x, 0, sizeof(*x));
	if (map_file(file, &x->map, &x->size, NULL) < 0)
		return -1;
	m = x->map;
	size = x->size;
	if (size < 12 + 20 || memcmp(m, "MIDX", 4) || m[4] != 1 || m[5] != 1 || m[7] != 0)
		goto bad;
	chunks = m[6];
	x->npacks = be32(m + 8);
	if (12 + ((size_t)chunks + 1) * 12 > size - 20)
		goto bad;
	for (i = 0; i < chunks; i++) {
		const unsigned char *c = m + 12 + i * 12;
		uint32_t id = be32(c);
		uint64_t off = (uint64_t)be32(c + 4) << 32 | be32(c + 8);
		uint64_t next = (uint64_t)be32(c + 16) << 32 | be32(c + 20);
		if (off > next || next > size - 20)
			goto bad;
		switch (id) {
		case 0x504e414d: names = m + off; names_size = next - off; break;  /* PNAM */
		case 0x4f494446: x->fanout = m + off; fan_size = next - off; break; /* OIDF */
		case 0x4f49444c: x->ids = m + off; ids_size = next - off; break; /* OIDL */
		case 0x4f4f4646: x->offs = m + off; offs_size = next - off; break; /* OOFF */
		case 0x4c4f4646: x->loff = m + off; loff_size = next - off; break; /* LOFF */
		default: break;
		}
	}
	if (!names || fan_size != 1024 || !x->ids || !x->offs)
		goto bad;
	for (i = 1; i < 256; i++)
		if (be32(x->fanout + 4 * i) < be32(x->fanout + 4 * (i - 1)))
			goto bad;
	x->n = be32(x->fanout + 4 * 255);
	x->nloff = loff_size / 8;
	if (ids_size / GIT_OID_RAWSZ < x->n || offs_size / 8 < x->n)
		goto bad;
	if (!(x->pack = stet_calloc(x->npacks ? x->npacks : 1, sizeof(*x->pack))))
		goto bad;
	/* the names, NUL-terminated one after the other */
	for (i = 0, end = 0; i < x->npacks; i++) {
		const char *name = (const char *)names + end;
		size_t l;
		if (end >= names_size)
			goto bad;
		l = strnlen(name, names_size - end);
		if (l == names_size - end || l < 5 || memchr(name, '/', l) || memcmp(name + l - 4, ".idx", 4))
			goto bad;
		x->pack[i] = SIZE_MAX;
		if (room(p) < 0)
			goto bad;
		memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
		if (!(p->v[p->n].path = pack_path(p->dir, name, l)))
			goto bad;
		if (x == &p->m[STET_MIDX] && (known(p, p->v[p->n].path) || access(p->v[p->n].path, F_OK) < 0)) {
			free(p->v[p->n].path);
			goto bad;
		}
		x->pack[i] = p->n++;
		end += l + 1;
	}
	return 0;
bad:
	midx_drop(x);
	while (p->n > first) /* its packs are then found as the others are */
		free(p->v[--p->n].path);
	return -1;
}

/* is path one of the packs already listed: those a multi-pack-index
 * names (sorted, as git writes them: searched), or the others */
static int known(const packs *p, const char *path)
{
	size_t i, k;
	for (k = 0; k < NMIDX; k++) {
		const midx_view *x = &p->m[k];
		size_t lo = 0, hi = x->map ? x->npacks : 0;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = x->pack[mid] == SIZE_MAX ? 1 : strcmp(p->v[x->pack[mid]].path, path);
			if (!c)
				return 1;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	for (i = 0; i < p->nloose; i++)
		if (!strcmp(p->v[p->loose[i]].path, path))
			return 1;
	return 0;
}

static int newer(const one_pack *a, const one_pack *b)
{
	return a->mtime > b->mtime || (a->mtime == b->mtime && strcmp(a->path, b->path) < 0);
}

/* the folder's pack index `name` (pack-*.idx, l bytes) in the search,
 * unless it is there already: 1 added, 0 there already, 2 not a pack
 * index this search reads (libgit2's backend of the folder does: the
 * search is incomplete), or STET_ENOMEM */
static int add_idx(packs *p, const char *name, size_t l)
{
	one_pack o;

	memset(&o, 0, sizeof(o));
	if (!(o.path = pack_path(p->dir, name, l)))
		return stet_error_oom();
	if (known(p, o.path)) {
		free(o.path);
		return 0;
	}
	if (map_idx(&o) < 0) {
		free(o.path);
		return 2;
	}
	if (room(p) < 0) {
		munmap(o.map, o.size);
		free(o.path);
		return stet_error_oom();
	}
	p->v[p->n++] = o;
	return 1;
}

static int list_new(packs *p, size_t first);

/* the packs of the folder the multi-pack-index does not cover, each .idx
 * mapped; new ones first */
static int scan_packs(packs *p)
{
	DIR *d = opendir(p->dir);
	struct dirent *de;
	size_t first = p->n;
	int error;

	p->folder_reads++;
	if (!d)
		return errno == ENOENT ? 0 : stet_error_set(STET_EIO, "%s: %s", p->dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 10 || strncmp(de->d_name, "pack-", 5) || strcmp(de->d_name + l - 4, ".idx"))
			continue;
		if ((error = add_idx(p, de->d_name, l)) < 0) {
			closedir(d);
			return error;
		}
		if (error == 2)
			p->incomplete = 1;
	}
	closedir(d);
	return list_new(p, first);
}

/* the packs added from `first` on go first among those no
 * multi-pack-index covers, the newest first */
static int list_new(packs *p, size_t first)
{
	size_t i, *loose;

	if (p->n == first)
		return 0;
	if (!(loose = stet_malloc((p->nloose + p->n - first) * sizeof(*loose))))
		return stet_error_oom();
	for (i = first; i < p->n; i++) { /* newest first (a few, but for an archive without a multi-pack-index) */
		size_t j = i - first, k = i;
		while (j > 0 && newer(&p->v[k], &p->v[loose[j - 1]])) {
			loose[j] = loose[j - 1];
			j--;
		}
		loose[j] = k;
	}
	if (p->nloose)
		memcpy(loose + (p->n - first), p->loose, p->nloose * sizeof(*loose));
	free(p->loose);
	p->loose = loose;
	p->nloose += p->n - first;
	return 0;
}

/* libgit2's backend of pack i, made on first use (NULL: it failed) */
static git_odb_backend *pack_of(packs *p, size_t i)
{
	one_pack *o;
	git_odb_backend *b;

	pthread_mutex_lock(&p->lock);
	o = &p->v[i]; /* under the lock: a refresh may move p->v */
	if (!o->b && !o->failed) {
		if (git_odb_backend_one_pack(&o->b, o->path) < 0) {
			o->b = NULL;
			o->failed = 1;
		} else {
			o->b->odb = p->odb;
		}
	}
	b = o->b;
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* are a multi-pack-index's ids that begin with byte b where its fanout
 * says, each beginning with b, and in order? Asked when a search among
 * them misses: a miss there is then sure */
static int bucket_sorted(midx_view *x, unsigned b)
{
	uint32_t lo = b ? be32(x->fanout + 4 * (b - 1)) : 0, hi = be32(x->fanout + 4 * b), i;
	if (x->sorted[b / 8] & (1u << (b % 8)))
		return 1;
	if (lo > hi || hi > x->n)
		return 0;
	for (i = lo; i < hi; i++)
		if (x->ids[(size_t)i * GIT_OID_RAWSZ] != b ||
		    (i > lo && memcmp(x->ids + (size_t)(i - 1) * GIT_OID_RAWSZ, x->ids + (size_t)i * GIT_OID_RAWSZ,
				      GIT_OID_RAWSZ) >= 0))
			return 0;
	x->sorted[b / 8] |= (unsigned char)(1u << (b % 8));
	return 1;
}

/* entry at of a multi-pack-index: its pack (index in p->v) and offset
 * (UINT64_MAX: unknown); -1 if the entry names no pack it lists */
static int midx_entry(const midx_view *x, uint32_t at, size_t *k, uint64_t *off)
{
	uint32_t j = be32(x->offs + (size_t)at * 8), o = be32(x->offs + (size_t)at * 8 + 4);
	if (j >= x->npacks || x->pack[j] == SIZE_MAX)
		return -1;
	*k = x->pack[j];
	*off = o;
	if (o & 0x80000000u) /* in its table of large offsets */
		*off = x->loff && (o & 0x7fffffffu) < x->nloff
			       ? (uint64_t)be32(x->loff + (size_t)(o & 0x7fffffffu) * 8) << 32 |
					 be32(x->loff + (size_t)(o & 0x7fffffffu) * 8 + 4)
			       : UINT64_MAX;
	return 0;
}

enum { FOUND, MISSING, UNSURE };

/* where a pack's own index (a pack the multi-pack-index does not cover)
 * says the object at place `at` starts; UINT64_MAX if it cannot say */
static uint64_t idx_offset(const one_pack *o, uint32_t at)
{
	size_t tables = 8 + 1024 + (size_t)o->n * 28, big; /* header, fanout, ids, CRCs, offsets */
	uint32_t v;
	if (o->size < tables + 40)
		return UINT64_MAX;
	v = be32(o->map + tables - (size_t)o->n * 4 + (size_t)at * 4);
	if (!(v & 0x80000000u))
		return v;
	big = tables + (size_t)(v & 0x7fffffffu) * 8; /* the table of offsets past 2 GiB */
	if (big > o->size - 40 - 8)
		return UINT64_MAX;
	return (uint64_t)be32(o->map + big) << 32 | be32(o->map + big + 4);
}

/* the pack that holds oid (this backend's own search), under p->lock:
 * stet's multi-pack-index (of the packs git's does not cover), git's,
 * then the packs neither covers, newest first (what a run reads that is
 * in neither is mostly what it or the runs just before it wrote). FOUND:
 * in pack *k, its entry at *off when an index says where (else
 * UINT64_MAX); MISSING: in no pack (libgit2 then asks the loose objects);
 * UNSURE: the search cannot tell (libgit2's backend of the folder is
 * asked) */
static int find_pack(packs *p, const git_oid *oid, size_t *k, uint64_t *off)
{
	size_t i;
	long long at[NMIDX] = { -1, -1 };
	int unsure = p->incomplete;

	*k = SIZE_MAX;
	*off = UINT64_MAX;
	/* stet's first: what a run reads is mostly what the runs just before
	 * wrote (two thirds of the trees a run at 1,000,000 articles splices),
	 * and it is the smaller file; no pack is in both */
	for (i = NMIDX; i-- > 0 && *k == SIZE_MAX;) {
		midx_view *x = &p->m[i];
		if (!x->map || x->bad)
			continue;
		if ((at[i] = odb_find_id(x->fanout, x->ids, x->n, oid)) >= 0 &&
		    midx_entry(x, (uint32_t)at[i], k, off) < 0)
			unsure = 1;
	}
	for (i = 0; i < p->nloose && *k == SIZE_MAX; i++) {
		const one_pack *o = &p->v[p->loose[i]];
		long long j = odb_find_id(o->fanout, o->ids, o->n, oid);
		if (j >= 0) {
			*k = p->loose[i];
			*off = idx_offset(o, (uint32_t)j);
		}
	}
	if (*k != SIZE_MAX)
		return FOUND;
	/* in no pack: sure if the multi-pack-indexes' ids it was searched
	 * among are in order (a loose object, or none) */
	for (i = 0; i < NMIDX; i++) {
		midx_view *x = &p->m[i];
		if (x->map && !x->bad && at[i] < 0 && !bucket_sorted(x, oid->id[0]))
			x->bad = unsure = 1;
		unsure |= x->bad;
	}
	return unsure ? UNSURE : MISSING;
}

/* the pack's backend for oid: FOUND (*out set), MISSING or UNSURE */
static int locate(packs *p, const git_oid *oid, git_odb_backend **out)
{
	size_t k;
	uint64_t off;
	int r;

	*out = NULL;
	pthread_mutex_lock(&p->lock);
	r = find_pack(p, oid, &k, &off);
	pthread_mutex_unlock(&p->lock);
	if (r == FOUND && (*out = pack_of(p, k)))
		return FOUND;
	return r == FOUND ? UNSURE : r;
}

/* ---- reading an object where an index says it is ----
 *
 * libgit2's backend of one pack opens the pack's index (a map), checks
 * for .keep and .promisor files, opens and maps the pack, and finds the
 * object in the index again: at 1,000,000 articles a run reads the trees
 * it splices from ~700 packs, and those openings, maps and first touches
 * of their pages were most of what such a run costs more than one at
 * 10,000 (docs/performance.md, "Fifteenth session"). The multi-pack-index
 * (or the pack's own index) already says where the object starts; here
 * its entry is read there with pread and inflated, a delta against an
 * earlier entry of the same pack (OFS_DELTA, as stet and git write them)
 * resolved the same way. What this does not read (a delta against an id,
 * REF_DELTA; offsets past 2 GiB in the multi-pack-index; a chain deeper
 * than AT_DEPTH_MAX; objects over AT_SIZE_MAX; anything damaged) goes to
 * libgit2's backend of the pack, as before. The object's id is checked
 * (SHA-1 of the object as git hashes it) before it is given: a wrong
 * offset costs that fallback, never a wrong object. */

enum {
	AT_FIRST = 4096,       /* bytes read first: the header, and all of most trees */
	AT_CHUNK = 64 * 1024,  /* bytes read at a time after that */
	AT_DEPTH_MAX = 64,     /* deltas on deltas (git's pack.depth is 50) */
	AT_FDS_MIN = 4,        /* packs open at once, at least: then all are closed */
	AT_FDS_MAX = 16384     /* at most */
};
#define AT_SIZE_MAX ((uint64_t)256 << 20)

/* how many packs read_at keeps open: a quarter of the process's limit on
 * open files, so that the rest of the process (libgit2's own maps and
 * files, the files a run writes) keeps the other three. A run at
 * 1,000,000 articles reads the trees it splices from ~1,000 packs, one
 * checkpoint each: with 128 open at most, nearly every read opened its
 * pack again (~25 ms a run of 2,000 articles); Debian's default limit
 * of 1,024 gives 256, a raised one all of them */
static size_t fds_most(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return AT_FDS_MIN;
	if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur / 4 > AT_FDS_MAX)
		return AT_FDS_MAX;
	return r.rlim_cur / 4 < AT_FDS_MIN ? AT_FDS_MIN : (size_t)(r.rlim_cur / 4);
}

/* pack k's file, open (-1: it cannot be read here) */
static int pack_fd(packs *p, size_t k)
{
	one_pack *o = &p->v[k];
	if (!o->fd) {
		size_t l = strlen(o->path), i;
		char *path = malloc(l + 2);
		unsigned char head[12];
		int fd = -1;
		if (!p->fds_most)
			p->fds_most = fds_most();
		if (p->nfd >= p->fds_most) {
			for (i = 0; i < p->n; i++)
				if (p->v[i].fd > 0) {
					close(p->v[i].fd - 1);
					p->v[i].fd = 0;
				}
			p->nfd = 0;
		}
		if (path && l > 4) {
			memcpy(path, o->path, l - 4);
			memcpy(path + l - 4, ".pack", 6);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		free(path);
		if (fd >= 0 && (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) || memcmp(head, "PACK", 4) ||
				(be32(head + 4) != 2 && be32(head + 4) != 3))) {
			close(fd);
			fd = -1;
		}
		o->fd = fd >= 0 ? fd + 1 : -1;
		p->nfd += fd >= 0;
	}
	return o->fd > 0 ? o->fd - 1 : -1;
}

/* size bytes inflated from the pack's zlib stream at pos, whose first
 * nhave bytes are `have` (in p->chunk): *out malloc'd; 0, or -1 */
static int inflate_at(packs *p, int fd, uint64_t pos, const unsigned char *have, size_t nhave, size_t size,
		      unsigned char **out)
{
	z_stream z;
	unsigned char *o = malloc(size ? size : 1);
	int zr;

	*out = NULL;
	memset(&z, 0, sizeof(z));
	if (!o || inflateInit(&z) != Z_OK) {
		free(o);
		return -1;
	}
	z.next_out = o;
	z.avail_out = (uInt)size;
	z.next_in = (Bytef *)have;
	z.avail_in = (uInt)nhave;
	pos += nhave;
	for (;;) {
		if (!z.avail_in) {
			ssize_t got = pread(fd, p->chunk, AT_CHUNK, (off_t)pos);
			if (got <= 0)
				break;
			pos += (uint64_t)got;
			z.next_in = p->chunk;
			z.avail_in = (uInt)got;
		}
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			if (z.total_out != size)
				break;
			inflateEnd(&z);
			*out = o;
			return 0;
		}
		if ((zr != Z_OK && zr != Z_BUF_ERROR) || (zr == Z_BUF_ERROR && z.avail_in))
			break; /* damaged, or more than its header said */
	}
	inflateEnd(&z);
	free(o);
	return -1;
}

/* the object whose entry starts at off in the pack: *out malloc'd, its
 * size and git type; 0, or -1 (then read by libgit2) */
static int object_at(packs *p, int fd, uint64_t off, int depth, unsigned char **out, size_t *size, int *type)
{
	ssize_t got;
	size_t i = 0;
	uint64_t n, base_off = 0;
	unsigned c, shift = 4;
	int t;

	*out = NULL;
	if (depth > AT_DEPTH_MAX || off < 12 || off > INT64_MAX || (got = pread(fd, p->chunk, AT_FIRST, (off_t)off)) < 2)
		return -1;
	c = p->chunk[i++];
	t = (int)(c >> 4) & 7;
	n = c & 15;
	while (c & 0x80) {
		if (i == (size_t)got || shift > 60)
			return -1;
		c = p->chunk[i++];
		n |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	if (t == 6) { /* OFS_DELTA: its base starts that many bytes earlier */
		uint64_t back;
		if (i == (size_t)got)
			return -1;
		c = p->chunk[i++];
		back = c & 0x7f;
		while (c & 0x80) {
			if (i == (size_t)got || back > (UINT64_MAX >> 8))
				return -1;
			c = p->chunk[i++];
			back = ((back + 1) << 7) | (c & 0x7f);
		}
		if (!back || back > off - 12)
			return -1;
		base_off = off - back;
	} else if (t < 1 || t > 4) {
		return -1; /* REF_DELTA, or not an object */
	}
	if (n > AT_SIZE_MAX || inflate_at(p, fd, off, p->chunk + i, (size_t)got - i, (size_t)n, out) < 0)
		return -1;
	*size = (size_t)n;
	*type = t;
	if (t == 6) { /* the delta (in *out) applied to its base */
		unsigned char *base = NULL, *made = NULL;
		size_t nb = 0, nm = 0;
		int r = object_at(p, fd, base_off, depth + 1, &base, &nb, type);
		if (r == 0)
			r = pack_delta_apply(&made, &nm, *out, *size, base, nb, (size_t)AT_SIZE_MAX);
		free(base);
		free(*out);
		*out = made;
		*size = nm;
		return r < 0 ? -1 : 0;
	}
	return 0;
}

/* is this oid's object */
static int has_id(packs *p, int type, const unsigned char *data, size_t size, const git_oid *oid)
{
	git_oid id;
	return object_id(&p->hasher, (git_object_t)type, data, size, &id) == 0 && git_oid_equal(&id, oid);
}

/* oid's object from pack k at off, under p->lock: 0, or -1 (not read here) */
static int read_at(packs *p, size_t k, uint64_t off, const git_oid *oid, void **data, size_t *len, git_object_t *type)
{
	unsigned char *o = NULL;
	size_t n = 0;
	int t = 0, fd;

	if (!p->chunk && !(p->chunk = malloc(AT_CHUNK)))
		return -1;
	if ((fd = pack_fd(p, k)) < 0 || object_at(p, fd, off, 0, &o, &n, &t) < 0)
		return -1;
	if (!has_id(p, t, o, n, oid) || !(*data = git_odb_backend_data_alloc(&p->parent, n ? n : 1))) {
		free(o);
		return -1;
	}
	memcpy(*data, o, n);
	free(o);
	*len = n;
	*type = (git_object_t)t;
	p->reads_at++;
	return 0;
}

/* libgit2's backend of the whole folder, made on first use */
static git_odb_backend *whole(packs *p)
{
	git_odb_backend *b;
	pthread_mutex_lock(&p->lock);
	if (!p->inner) {
		stet_buf objects = STET_BUF_INIT;
		size_t l = strlen(p->dir);
		stet_buf_printf(&objects, "%.*s", (int)(l > 5 ? l - 5 : l), p->dir); /* without "/pack" */
		if (stet_buf_check(&objects, "objects") == 0 && git_odb_backend_pack(&p->inner, objects.ptr) == 0)
			p->inner->odb = p->odb;
		else
			p->inner = NULL;
		stet_buf_dispose(&objects);
	}
	b = p->inner;
	pthread_mutex_unlock(&p->lock);
	return b;
}

static int p_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	packs *p = (packs *)b;
	git_odb_backend *h = NULL;
	size_t k;
	uint64_t off;
	int r;

	pthread_mutex_lock(&p->lock);
	r = find_pack(p, oid, &k, &off);
	if (r == FOUND && off != UINT64_MAX && read_at(p, k, off, oid, data, len, type) == 0) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);
	if (r == FOUND && (h = pack_of(p, k)) && h->read(data, len, type, h, oid) == 0)
		return 0;
	if (r == MISSING)
		return GIT_ENOTFOUND;
	h = whole(p);
	return h ? h->read(data, len, type, h, oid) : GIT_ENOTFOUND;
}

static int p_read_prefix(git_oid *out, void **data, size_t *len, git_object_t *type, git_odb_backend *b,
			 const git_oid *oid, size_t n)
{
	git_odb_backend *h;
	if (n >= GIT_OID_HEXSZ) {
		int r = p_read(data, len, type, b, oid);
		if (r == 0)
			git_oid_cpy(out, oid);
		return r;
	}
	h = whole((packs *)b);
	return h ? h->read_prefix(out, data, len, type, h, oid, n) : GIT_ENOTFOUND;
}

static int p_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	git_odb_backend *h;
	int r = locate((packs *)b, oid, &h);
	if (r == FOUND && h->read_header(len, type, h, oid) == 0)
		return 0;
	if (r == MISSING)
		return GIT_ENOTFOUND;
	h = whole((packs *)b);
	return h ? h->read_header(len, type, h, oid) : GIT_ENOTFOUND;
}

static int p_exists(git_odb_backend *b, const git_oid *oid)
{
	git_odb_backend *h;
	int r = locate((packs *)b, oid, &h);
	if (r == FOUND && h->exists(h, oid))
		return 1;
	if (r == MISSING)
		return 0;
	h = whole((packs *)b);
	return h ? h->exists(h, oid) : 0;
}

static int p_exists_prefix(git_oid *out, git_odb_backend *b, const git_oid *oid, size_t n)
{
	git_odb_backend *h = whole((packs *)b);
	return h ? h->exists_prefix(out, h, oid, n) : GIT_ENOTFOUND;
}

/* Freshening (does the object exist already? then touch it so that gc
 * keeps it) before each write: libgit2 asks every backend, each miss
 * formats an error message, and the loose backend calls utimes on a file
 * that is not there. A writing run's objects are new (trees and blobs of
 * new versions, commits); one that existed is written once more into the
 * run's pack, which is harmless. So a writing run does not freshen. */
static int no_freshen(git_odb_backend *b, const git_oid *oid)
{
	(void)b;
	(void)oid;
	return GIT_ENOTFOUND;
}

static int p_foreach(git_odb_backend *b, git_odb_foreach_cb cb, void *payload)
{
	git_odb_backend *h = whole((packs *)b);
	return h ? h->foreach(h, cb, payload) : 0;
}

static int p_refresh(git_odb_backend *b)
{
	packs *p = (packs *)b;
	int error = 0;
	if (!p->refresh_now)
		return 0; /* nothing else writes packs while the lock is held */
	p->refresh_now = 0;
	pthread_mutex_lock(&p->lock);
	error = scan_packs(p);
	pthread_mutex_unlock(&p->lock);
	if (error < 0)
		return error;
	if (p->inner)
		return p->inner->refresh(p->inner);
	return 0;
}

static void p_free(git_odb_backend *b)
{
	packs *p = (packs *)b;
	size_t i;
	for (i = 0; i < p->n; i++) {
		if (p->v[i].b)
			p->v[i].b->free(p->v[i].b);
		if (p->v[i].map)
			munmap(p->v[i].map, p->v[i].size);
		if (p->v[i].fd > 0)
			close(p->v[i].fd - 1);
		free(p->v[i].path);
	}
	free(p->chunk);
	odb_hasher_free(p->hasher);
	free(p->v);
	free(p->loose);
	midx_drop(&p->m[GIT_MIDX]);
	midx_drop(&p->m[STET_MIDX]);
	free(p->recent);
	if (p->inner)
		p->inner->free(p->inner);
	free(p->dir);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* the backend of the folder of packs, or an error */
static int packs_new(packs **out, git_odb *odb, const char *objects, const char *gitdir)
{
	packs *p = stet_calloc(1, sizeof(*p));
	stet_buf dir = STET_BUF_INIT, midx = STET_BUF_INIT, recent = STET_BUF_INIT;
	int error;

	*out = NULL;
	if (!p)
		return stet_error_oom();
	pthread_mutex_init(&p->lock, NULL);
	git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION);
	p->parent.read = p_read;
	p->parent.read_prefix = p_read_prefix;
	p->parent.read_header = p_read_header;
	p->parent.exists = p_exists;
	p->parent.exists_prefix = p_exists_prefix;
	p->parent.freshen = no_freshen;
	p->parent.foreach = p_foreach;
	p->parent.refresh = p_refresh;
	p->parent.free = p_free;
	p->odb = odb;
	stet_buf_printf(&dir, "%s/pack", objects);
	stet_buf_printf(&midx, "%s/pack/multi-pack-index", objects);
	stet_buf_printf(&recent, "%s/stet/" RECENT_MIDX, gitdir);
	if ((error = stet_buf_check(&dir, "packs")) < 0 || (error = stet_buf_check(&midx, "packs")) < 0 ||
	    (error = stet_buf_check(&recent, "packs")) < 0)
		goto done;
	p->dir = stet_buf_detach(&dir);
	p->recent = stet_buf_detach(&recent);
	/* none, or not one we read: the packs' own indexes */
	midx_parse(p, &p->m[GIT_MIDX], midx.ptr);
	midx_parse(p, &p->m[STET_MIDX], p->recent);
	error = scan_packs(p);
done:
	stet_buf_dispose(&dir);
	stet_buf_dispose(&midx);
	stet_buf_dispose(&recent);
	if (error < 0)
		p_free(&p->parent);
	else
		*out = p;
	return error;
}

int odb_open(stet_archive *a)
{
	stet_buf objects = STET_BUF_INIT, alt = STET_BUF_INIT;
	git_odb *odb = NULL;
	git_odb_backend *loose = NULL;
	packs *p = NULL;
	int error;

	stet_buf_printf(&objects, "%s/objects", a->commondir);
	stet_buf_printf(&alt, "%s/info/alternates", objects.ptr);
	if ((error = stet_buf_check(&objects, "objects")) < 0 || (error = stet_buf_check(&alt, "objects")) < 0)
		goto done;
	if (access(alt.ptr, F_OK) == 0) { /* borrowed objects: libgit2's own odb, as it is */
		if ((error = git_repository_odb(&a->odb, a->repo)) < 0)
			error = stet_git_error(error, "opening the object store");
		goto done;
	}
	if ((error = git_odb_new(&odb)) < 0 || (error = git_odb_backend_loose(&loose, objects.ptr, -1, 0, 0, 0)) < 0) {
		error = stet_git_error(error, "opening the object store");
		goto done;
	}
	if ((error = packs_new(&p, odb, objects.ptr, a->gitdir)) < 0)
		goto done;
	/* the priorities of libgit2's default object store */
	if ((error = git_odb_add_backend(odb, &p->parent, 2)) < 0) {
		p_free(&p->parent);
		error = stet_git_error(error, "opening the object store");
		goto done;
	}
	a->packs = &p->parent;
	loose->freshen = no_freshen;
	if ((error = git_odb_add_backend(odb, loose, 1)) < 0) {
		error = stet_git_error(error, "opening the object store");
		goto done;
	}
	loose = NULL;
	git_repository_set_odb(a->repo, odb);
	a->odb = odb;
	odb = NULL;
done:
	if (loose)
		loose->free(loose);
	git_odb_free(odb);
	if (error < 0)
		a->packs = NULL;
	stet_buf_dispose(&objects);
	stet_buf_dispose(&alt);
	return error;
}

void odb_search_counts(const stet_archive *a, size_t counts[3])
{
	const packs *p = (const packs *)a->packs;
	size_t i;
	for (i = 0; i < NMIDX; i++)
		counts[i] = p && p->m[i].map && !p->m[i].bad ? p->m[i].npacks : 0;
	counts[2] = p ? p->nloose : 0;
}

int odb_made_whole(const stet_archive *a)
{
	return a->packs && ((const packs *)a->packs)->inner != NULL;
}

size_t odb_folder_reads(const stet_archive *a)
{
	return a->packs ? ((const packs *)a->packs)->folder_reads : 0;
}

size_t odb_reads_at(const stet_archive *a)
{
	return a->packs ? ((const packs *)a->packs)->reads_at : 0;
}

int odb_packs_changed(stet_archive *a, const char *name)
{
	packs *p = (packs *)a->packs;
	int error;

	/* stet's own new pack: taken in by name. At 1,000,000 articles the
	 * folder holds 2,000 files, and reading it at every checkpoint and
	 * again at the end was ~7 ms a run (nineteenth session); nothing else
	 * writes packs while the lock is held, and the run needs no object of
	 * a pack someone adds anyway (main moved under it stops it): the next
	 * run lists it */
	if (p && name && !p->refresh_now) {
		size_t first;
		pthread_mutex_lock(&p->lock);
		first = p->n;
		if ((error = add_idx(p, name, strlen(name))) == 1)
			error = list_new(p, first);
		pthread_mutex_unlock(&p->lock);
		if (error == 0)
			return 0;
		stet_error_clear(); /* unreadable, or no memory: read the folder instead */
	}
	if (p)
		p->refresh_now = 1;
	return git_odb_refresh(a->odb);
}

/* ---- the multi-pack-index ----
 *
 * A run writes a pack a checkpoint, never merged (repacking would delta
 * and compress every object again): 1,000 packs at 1,000,000 articles. An
 * object that is not in the newest packs was then looked for in each
 * pack's index in turn, and so by git readers too. A multi-pack-index (git's
 * objects/pack/multi-pack-index) finds it with one search over all the
 * packs it covers. It is written again when the packs it does not cover
 * are 16 or more and an eighth of those it does: its cost then comes once
 * every so many articles, however large the archive. It is merged here
 * (midx.c) from itself, stet's own (below) and the packs neither covers:
 * 0.5 s and its sync 0.25 s at 1,000,000 articles (8.8 million objects),
 * where libgit2's writer, which reads every pack's index again and sorts
 * all their ids, took 7 s (it still writes it when a merge cannot: a
 * damaged index, a pack gone).
 *
 * Between two, up to an eighth of git's packs are covered by neither: at
 * 1,000,000 articles ~75, in which a run looked for the trees it splices
 * (most of them written by the runs just before) 44,000 times, 58 ms a
 * run. So the packs git's does not cover go into stet's own, in git's
 * format, in <gitdir>/stet/recent-midx (a cache: not synced, removed when
 * git's is written again, not used when it names a pack that is not
 * there or one git's covers), when 4 or more (and an eighth of those it
 * covers) are in neither; its merge costs what those packs hold.
 * Either only speeds reading, so a failure to write one is a warning.
 */

enum { MIDX_FRESH_MIN = 16, MIDX_FRESH_SHARE = 8, RECENT_MIN = 4, RECENT_SHARE = 8 };

/* A file that a writer of the object store keeps writing (libgit2's
 * pack_git2_* as it indexes a pack, a multi-pack-index.lock as it writes
 * one) and that has not changed for this long was left by a process that
 * died: writing either takes seconds. */
#define LEFT_AFTER_SECONDS 3600

/* seconds since path last changed; -1 if it is not there */
static long long age_of(const char *path)
{
	struct stat st;
	time_t now = time(NULL);
	if (stat(path, &st) < 0)
		return -1;
	return now > st.st_mtime ? (long long)(now - st.st_mtime) : 0;
}

void odb_sweep(stet_archive *a)
{
	stet_buf dir = STET_BUF_INIT, f = STET_BUF_INIT;
	struct dirent *de;
	DIR *d;

	stet_buf_printf(&dir, "%s/objects/pack", a->commondir);
	if (stet_buf_check(&dir, "packs") == 0 && (d = opendir(dir.ptr))) {
		while ((de = readdir(d))) {
			/* stet's own (pack.c) are written only under its lock,
			 * which this run holds: any there was left by a run that
			 * died */
			int own = !strncmp(de->d_name, "tmp_stet_", 9);
			if (!own && strncmp(de->d_name, "pack_git2_", 10))
				continue;
			stet_buf_clear(&f);
			stet_buf_printf(&f, "%s/%s", dir.ptr, de->d_name);
			if (stet_buf_check(&f, "packs") == 0 && (own || age_of(f.ptr) > LEFT_AFTER_SECONDS))
				unlink(f.ptr);
		}
		closedir(d);
	}
	/* and stet's multi-pack-index's temporary files (write_recent) */
	stet_buf_clear(&dir);
	stet_buf_printf(&dir, "%s/stet", a->gitdir);
	if (stet_buf_check(&dir, "packs") == 0)
		stet_unlink_prefixed(dir.ptr, RECENT_MIDX ".tmp.");
	stet_error_clear();
	stet_buf_dispose(&dir);
	stet_buf_dispose(&f);
}

/* what a list of midx_write's comes from: a multi-pack-index (x) or the
 * index of pack k, and each pack's name among those written (name_of,
 * by index in p->v) */
typedef struct {
	const packs *p;
	const midx_view *x;
	size_t k;
	const uint32_t *name_of;
} list_src;

/* a pack's index without a table of offsets past 2 GiB: idx_offset
 * gives none */
static int idx_small(const one_pack *o)
{
	return o->size < 8 + 1024 + (size_t)o->n * 28 + 40 + 8;
}

static int view_where(const midx_list *l, uint32_t i, uint32_t *pack, uint64_t *off)
{
	const list_src *s = l->src;
	size_t k;
	if (midx_entry(s->x, i, &k, off) < 0 || *off == UINT64_MAX || s->name_of[k] == UINT32_MAX)
		return -1;
	*pack = s->name_of[k];
	return 0;
}

static int idx_where(const midx_list *l, uint32_t i, uint32_t *pack, uint64_t *off)
{
	const list_src *s = l->src;
	if ((*off = idx_offset(&s->p->v[s->k], i)) == UINT64_MAX)
		return -1;
	*pack = s->name_of[s->k];
	return 0;
}

/* a multi-pack-index into fd of the packs stet's multi-pack-index covers,
 * those neither covers and, with_git, those git's does (each named pack
 * there: git gc may have removed some since); 0 or STET_E* */
static int write_index(packs *p, int with_git, int fd, const char *what)
{
	const size_t nviews = NMIDX;
	size_t nl = 0, nn = 0, i, j;
	midx_list *lists = stet_calloc(nviews + p->nloose + 1, sizeof(*lists));
	list_src *srcs = stet_calloc(nviews + p->nloose + 1, sizeof(*srcs));
	const char **names = stet_calloc(p->n + 1, sizeof(*names));
	uint32_t *name_of = stet_malloc((p->n + 1) * sizeof(*name_of));
	int error = 0;

	if (!lists || !srcs || !names || !name_of) {
		error = stet_error_oom();
		goto done;
	}
	for (i = 0; i < p->n; i++)
		name_of[i] = UINT32_MAX;
	for (i = with_git ? GIT_MIDX : STET_MIDX; i < nviews; i++) {
		const midx_view *x = &p->m[i];
		if (!x->map)
			continue;
		for (j = 0; j < x->npacks; j++) {
			const char *path = p->v[x->pack[j]].path;
			if (access(path, F_OK) < 0) {
				error = stet_error_set(STET_ENOTFOUND, "%s: names %s, which is not there", what, path);
				goto done;
			}
			name_of[x->pack[j]] = (uint32_t)nn;
			names[nn++] = strrchr(path, '/') + 1;
		}
		srcs[nl] = (list_src){ p, x, 0, name_of };
		lists[nl] = (midx_list){ x->ids, x->n, view_where, &srcs[nl], i == GIT_MIDX ? "git's multi-pack-index" : p->recent,
					 x->nloff == 0 };
		nl++;
	}
	for (i = 0; i < p->nloose; i++) {
		const one_pack *o = &p->v[p->loose[i]];
		name_of[p->loose[i]] = (uint32_t)nn;
		names[nn++] = strrchr(o->path, '/') + 1;
		srcs[nl] = (list_src){ p, NULL, p->loose[i], name_of };
		lists[nl] = (midx_list){ o->ids, o->n, idx_where, &srcs[nl], o->path, idx_small(o) };
		nl++;
	}
	error = midx_write(fd, what, names, nn, lists, nl);
done:
	free(lists);
	free(srcs);
	free(names);
	free(name_of);
	return error;
}

/* fd (file's temporary, tmp) synced, closed and renamed to file; or
 * removed (error < 0) */
static int index_done(int fd, const char *tmp, const char *file, int sync, int error)
{
	if (error >= 0 && sync && fsync(fd) < 0)
		error = stet_error_set(STET_EIO, "%s: %s", tmp, strerror(errno));
	if (close(fd) < 0 && error >= 0)
		error = stet_error_set(STET_EIO, "%s: %s", tmp, strerror(errno));
	if (error >= 0 && rename(tmp, file) < 0)
		error = stet_error_set(STET_EIO, "%s: %s", file, strerror(errno));
	if (error < 0)
		unlink(tmp);
	return error;
}

/* stet's multi-pack-index again: the packs it covers and those neither
 * covers. A cache (a writing run checks every object it reads from it),
 * so not synced: one a crash damaged costs misses */
static void write_recent(stet_archive *a, packs *p)
{
	stet_buf tmp = STET_BUF_INIT;
	int fd, error;

	stet_buf_printf(&tmp, "%s.tmp.%d", p->recent, (int)getpid());
	if (stet_buf_check(&tmp, "packs") < 0)
		goto done;
	if ((fd = open(tmp.ptr, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		stet_buf_printf(&a->warnings, "%s: not written (%s); it only speeds reading\n", p->recent, strerror(errno));
		goto done;
	}
	if ((error = index_done(fd, tmp.ptr, p->recent, 0, write_index(p, 0, fd, p->recent))) < 0)
		stet_buf_printf(&a->warnings, "%s: not written (%s); it only speeds reading\n", p->recent,
				stet_error_last());
done:
	stet_error_clear();
	stet_buf_dispose(&tmp);
}

int odb_index_packs(stet_archive *a)
{
	packs *p = (packs *)a->packs;
	stet_buf midx = STET_BUF_INIT, lock = STET_BUF_INIT;
	size_t covered, recent, fresh;
	long long age;
	int fd, bad;

	git_odb_backend *w;

	if (!p)
		return 0; /* borrowed objects (alternates): libgit2's odb as it is */
	stet_buf_printf(&midx, "%s/multi-pack-index", p->dir);
	stet_buf_printf(&lock, "%s.lock", midx.ptr);
	if (stet_buf_check(&midx, "packs") < 0 || stet_buf_check(&lock, "packs") < 0)
		goto done;
	if (p->parent.refresh(&p->parent) < 0) /* a pack not taken in by name, listed */
		goto done;
	covered = p->m[GIT_MIDX].map ? p->m[GIT_MIDX].npacks : 0;
	recent = p->m[STET_MIDX].map ? p->m[STET_MIDX].npacks : 0;
	bad = p->m[GIT_MIDX].bad || p->m[STET_MIDX].bad || p->incomplete;
	fresh = recent + p->nloose;
	if (fresh < MIDX_FRESH_MIN || fresh < covered / MIDX_FRESH_SHARE) {
		if (p->m[STET_MIDX].bad)
			unlink(p->recent); /* its packs are then searched one by one, until the next */
		else if (!bad && p->nloose >= RECENT_MIN && p->nloose >= recent / RECENT_SHARE)
			write_recent(a, p);
		goto done;
	}
	if ((age = age_of(lock.ptr)) > LEFT_AFTER_SECONDS) {
		/* a killed writer's: otherwise no index would ever be written again */
		if (unlink(lock.ptr) == 0)
			stet_buf_printf(&a->warnings, "%s: left behind %lld minutes ago by a process that is gone; removed\n",
					lock.ptr, age / 60);
	}
	if (access(lock.ptr, F_OK) == 0) {
		stet_buf_printf(&a->warnings,
				"%s: exists, so the multi-pack-index (it speeds reading %zu packs) was not written; "
				"remove it if no git command is running (stet does once it is an hour old)\n",
				lock.ptr, covered + fresh);
		if (!bad && p->nloose) /* stet's own, meanwhile */
			write_recent(a, p);
		goto done;
	}
	/* merged from both multi-pack-indexes and the packs neither covers,
	 * written under git's lock (the file itself, renamed when done) */
	if (!bad && (fd = open(lock.ptr, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) >= 0 &&
	    index_done(fd, lock.ptr, midx.ptr, 1, write_index(p, 1, fd, midx.ptr)) == 0) {
		unlink(p->recent); /* git's covers its packs now */
		goto done;
	}
	/* else (a damaged index, a pack git gc removed): written by libgit2's
	 * backend of the folder, which reads every pack's index again */
	if (!(w = whole(p)) || !w->writemidx || w->writemidx(w) < 0) {
		const git_error *e = git_error_last();
		stet_buf_printf(&a->warnings, "%s: not written (%s); it only speeds reading\n", midx.ptr,
				e && e->message ? e->message : "git error");
	} else {
		unlink(p->recent);
	}
done:
	stet_error_clear();
	stet_buf_dispose(&midx);
	stet_buf_dispose(&lock);
	return 0;
}

/* ---- writing an object, its id hashed here ----
 *
 * git_odb_write hashes each object with libgit2's SHA-1, the
 * collision-detecting one (sha1dc): ~450 MB/s here, a quarter of the
 * corpus run's one-core phase (the run's blobs and trees). OpenSSL's SHA-1
 * gives the same ids at ~1.6 GB/s (SHA-NI). What sha1dc guards against, a
 * crafted collision, needs blocks of arbitrary bytes; an archived object is
 * a canonical file (valid UTF-8 text) or a tree and a commit stet writes
 * itself. Then the object goes, as git_odb_write sends it, to the first
 * backend that writes: a writing run's mempack, which keeps one copy of
 * each id. git_odb_write asked first whether any backend had it; of a
 * writing run's, the packs and loose objects answer no (no_freshen), and
 * the staging mempacks yes only for an object written again after a
 * checkpoint froze its first copy: that one now goes into the next pack
 * too, which costs its bytes and nothing else. */
int odb_write(git_oid *out, git_odb *odb, odb_hasher **h, const void *data, size_t len, git_object_t type,
	      const char *what)
{
	size_t i, n = git_odb_num_backends(odb);
	git_odb_backend *b = NULL;
	int error = object_id(h, type, data, len, out);

	if (error == -1)
		return stet_error_oom();
	if (error == -2)
		return stet_error_set(STET_EUSAGE, "%s: not an object type stet writes (%d)", what, (int)type);
	if (error < 0)
		return stet_error_set(STET_ERROR, "%s: hashing the object failed (OpenSSL's SHA-1)", what);
	for (i = 0; i < n && !b; i++)
		if (git_odb_get_backend(&b, odb, i) < 0 || !b->write)
			b = NULL;
	if (!b)
		return stet_error_set(STET_ERROR, "%s: no object store to write to", what);
	if ((error = b->write(b, out, data, len, type)) < 0)
		return stet_git_error(error, what);
	return 0;
}

/* ---- staging: the run's new objects, in memory until a pack holds them ----
 * Two mempacks: new objects go to the current one; at a checkpoint it is
 * frozen (its objects are being packed on the checkpoint's thread, and
 * still read from here meanwhile) and the other, emptied, takes the new
 * ones. Reads look in both. The mempacks are not told apart by libgit2:
 * this backend is the one it knows. */
typedef struct {
	git_odb_backend parent;
	git_odb_backend *cur, *frozen;
} staging;

/* the current mempack first, then the frozen one. Asked whether it has
 * the object first: a mempack's read of one it has not formats an error
 * message (the id in hex), and most objects a run reads (the trees it
 * changes) are in neither but in the packs. */
static git_odb_backend *holder(staging *s, const git_oid *oid)
{
	return s->cur->exists(s->cur, oid) ? s->cur : s->frozen->exists(s->frozen, oid) ? s->frozen : NULL;
}

static int s_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	git_odb_backend *h = holder((staging *)b, oid);
	return h ? h->read(data, len, type, h, oid) : GIT_ENOTFOUND;
}

static int s_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	git_odb_backend *h = holder((staging *)b, oid);
	return h ? h->read_header(len, type, h, oid) : GIT_ENOTFOUND;
}

static int s_exists(git_odb_backend *b, const git_oid *oid) { return holder((staging *)b, oid) != NULL; }

static int s_write(git_odb_backend *b, const git_oid *oid, const void *data, size_t len, git_object_t type)
{
	staging *s = (staging *)b;
	return s->cur->write(s->cur, oid, data, len, type);
}

static void s_free(git_odb_backend *b)
{
	staging *s = (staging *)b;
	s->cur->free(s->cur);
	s->frozen->free(s->frozen);
	free(s);
}

int odb_staging_open(stet_archive *a)
{
	staging *s = stet_calloc(1, sizeof(*s));
	int error;

	if (!s)
		return stet_error_oom();
	if ((error = git_mempack_new(&s->cur)) < 0 || (error = git_mempack_new(&s->frozen)) < 0) {
		if (s->cur)
			s->cur->free(s->cur);
		free(s);
		return stet_git_error(error, "preparing the object store");
	}
	git_odb_init_backend(&s->parent, GIT_ODB_BACKEND_VERSION);
	s->parent.read = s_read;
	s->parent.read_header = s_read_header;
	s->parent.exists = s_exists;
	s->parent.write = s_write;
	s->parent.free = s_free;
	if ((error = git_odb_add_backend(a->odb, &s->parent, 1000)) < 0) {
		s_free(&s->parent);
		return stet_git_error(error, "preparing the object store");
	}
	a->staging = &s->parent;
	return 0;
}

git_odb_backend *odb_staging_freeze(stet_archive *a)
{
	staging *s = (staging *)a->staging;
	git_odb_backend *t = s->frozen;
	s->frozen = s->cur;
	s->cur = t;
	return s->frozen;
}

void odb_staging_release(stet_archive *a)
{
	git_mempack_reset(((staging *)a->staging)->frozen);
}
