/*
 * A checkpoint's objects written as one pack, in one pass (docs/format.md,
 * "Packs"; docs/performance.md says why).
 *
 * libgit2's pack builder searches every object against ten others for a
 * delta, compresses at zlib's default level, and its indexer then inflates
 * and hashes the whole pack again: two thirds of a corpus run's packing
 * time, and the run's bottleneck. stet knows better which objects are
 * alike: the versions of one path. So, like git fast-import, it deltas
 * each version against its neighbour at the same path, and nothing else:
 *
 *   - the objects are grouped by their path (a file's blob, a folder's
 *     tree; "" is the root tree; commits have none) and, within a path,
 *     the newest version comes first and is stored whole, each older one
 *     as a delta against the one before it (an OFS_DELTA: its base is
 *     earlier in the same pack), so that reading the tip, which the next
 *     run and every reader does most, costs no delta;
 *   - the delta copies the common start and end of the two versions and,
 *     between them, every run of bytes that starts with a 16-byte block of
 *     the older one (found by the block's XXH3), inserting the rest: a tree
 *     that gained or changed an entry, an article edited at the top and
 *     the bottom, cost a few dozen bytes. It is kept only when under half
 *     the object's size;
 *   - a chain is at most PACK_DEPTH deltas long (git's default), then a
 *     version is stored whole again;
 *   - every object is compressed once (libdeflate, deflate_object), a
 *     run of whole paths at a time (a "part": a delta's base is in its
 *     own part, so its distance does not depend on where the part
 *     lands); the run's last checkpoint compresses its parts on two
 *     threads. Articles and commits (and their deltas) are compressed at
 *     PACK_LEVEL; trees, their deltas and objects under PACK_MIN_SQUEEZE
 *     bytes are stored as they are (level 0, store_whole): compression
 *     gains little on these (trees: 12 %, for most of what the articles
 *     cost).
 *
 * The pack (git's pack format, version 2, SHA-1 trailer) and its index
 * (git's .idx, version 2: the ids in order, each object's CRC-32 and
 * offset) are written by stet, as fast-import does, from what it knows
 * of every object as it writes it: libgit2's indexer, which wrote them
 * until the fourteenth session, inflated, resolved and hashed the whole
 * pack again, a tenth of a corpus run's CPU (docs/performance.md). What
 * that check guarded, a wrong delta, is checked where it is made: a
 * delta is kept only once it has been seen to rebuild its object from
 * its base (pack_delta_rebuilds). Both files go to temporary names in the
 * folder (tmp_stet_*), are synced, and are renamed: the pack first, then
 * its index, which is what makes git and libgit2 see the pack; then the
 * folder is synced.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <git2/sys/odb_backend.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <libdeflate.h>
#include <zlib.h>

enum {
	PACK_DEPTH = 50,        /* git's pack.depth */
	PACK_LEVEL = 1,         /* libdeflate's: as small as zlib's level 1, 4.6 % larger than zlib's 6 */
	PACK_MIN_DELTA = 64,    /* smaller objects are stored whole */
	PACK_MIN_SQUEEZE = 128  /* smaller objects are stored as they are (store_whole) */
};

typedef struct {
	git_oid id;
	const char *name; /* NULL: a commit, or a name not known */
	size_t order;     /* when it was staged */
	uint64_t offset;  /* where its entry starts: in its part, then in the pack */
	uint32_t crc;     /* CRC-32 of its entry (header and data), for the index */
} item;

/* a file being written under a temporary name, and the SHA-1 of what went
 * into it */
typedef struct {
	int fd;
	char *tmp;
	EVP_MD_CTX *sha;
} sink;

/* a run of whole paths, compressed into memory on one thread: a delta's
 * base is at its own path, so its distance is the same here as in the
 * pack */
typedef struct {
	item *v;
	size_t n;
	git_odb_backend *objects;
	stet_buf out;
	struct libdeflate_compressor *z, *stored; /* PACK_LEVEL, and level 0 (store_whole) */
	stet_buf zout;  /* an object, compressed */
	stet_buf delta;
	stet_buf blocks; /* the base's block index (make_delta) */
	int error;
	char msg[512];
} part;

static int by_id(const void *x, const void *y)
{
	const item *a = x, *b = y;
	int c = git_oid_cmp(&a->id, &b->id);
	return c ? c : a->order < b->order ? 1 : a->order > b->order ? -1 : 0;
}

/* by path (the unnamed last), newest first */
static int by_path(const void *x, const void *y)
{
	const item *a = x, *b = y;
	int c;
	if (!a->name != !b->name)
		return a->name ? -1 : 1;
	if (a->name && (c = strcmp(a->name, b->name)))
		return c;
	return a->order < b->order ? 1 : a->order > b->order ? -1 : 0;
}

/* the process's umask, read without changing it (umask(2) would, for every
 * thread): /proc/self/status says it; git's usual 022 where it does not */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned mask = 022;
	if (!f)
		return 022;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Umask:", 6)) {
			if (sscanf(line + 6, "%o", &mask) != 1)
				mask = 022;
			break;
		}
	fclose(f);
	return (mode_t)(mask & 0777);
}

/* a new file in dir under a temporary name (tmp_stet_*: odb_sweep removes
 * one a killed run left), hashed as it is written, of the given mode
 * (mkstemp's is 0600) */
static int sink_open(sink *w, const char *dir, const char *what, mode_t mode)
{
	stet_buf b = STET_BUF_INIT;
	stet_buf_printf(&b, "%s/tmp_stet_%s_XXXXXX", dir, what);
	if (stet_buf_check(&b, "packing") < 0)
		return stet_error_oom();
	if ((w->fd = mkstemp(b.ptr)) < 0) {
		int error = stet_error_set(STET_EIO, "packing: cannot create %s: %s", b.ptr, strerror(errno));
		stet_buf_dispose(&b);
		return error;
	}
	w->tmp = stet_buf_detach(&b);
	if (fchmod(w->fd, mode) < 0)
		return stet_error_set(STET_EIO, "packing: cannot set the mode of %s: %s", w->tmp, strerror(errno));
	if (!(w->sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w->sha, EVP_sha1(), NULL))
		return stet_error_set(STET_EIO, "packing: no SHA-1 for %s", w->tmp);
	return 0;
}

/* bytes into the file: hashed for the trailer unless they are it */
static int sink_put(sink *w, const void *data, size_t size, int hash)
{
	if (hash && !EVP_DigestUpdate(w->sha, data, size))
		return stet_error_set(STET_EIO, "packing: hashing %s failed", w->tmp);
	if (stet_write_all(w->fd, data, size) < 0)
		return stet_error_set(STET_EIO, "packing: writing %s: %s", w->tmp, strerror(errno));
	return 0;
}

/* the hash of what was written, then written after it, and the file synced
 * and closed */
static int sink_finish(sink *w, unsigned char hash[GIT_OID_RAWSZ])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int error;
	if (!EVP_DigestFinal_ex(w->sha, md, &len) || len != GIT_OID_RAWSZ)
		return stet_error_set(STET_EIO, "packing: hashing %s failed", w->tmp);
	memcpy(hash, md, GIT_OID_RAWSZ);
	if ((error = sink_put(w, md, len, 0)) < 0)
		return error;
	if (fsync(w->fd) < 0 || close(w->fd) < 0) {
		w->fd = -1;
		return stet_error_set(STET_EIO, "packing: syncing %s: %s", w->tmp, strerror(errno));
	}
	w->fd = -1;
	return 0;
}

/* the temporary file, moved to dir/pack-HASH.ext */
static int sink_rename(sink *w, const char *dir, const char *hex, const char *ext)
{
	stet_buf to = STET_BUF_INIT;
	int error = 0;
	stet_buf_printf(&to, "%s/pack-%s.%s", dir, hex, ext);
	if ((error = stet_buf_check(&to, "packing")) == 0 && rename(w->tmp, to.ptr) < 0)
		error = stet_error_set(STET_EIO, "packing: cannot rename %s to %s: %s", w->tmp, to.ptr, strerror(errno));
	if (!error) {
		free(w->tmp);
		w->tmp = NULL;
	}
	stet_buf_dispose(&to);
	return error;
}

/* a file not finished: closed and removed */
static void sink_dispose(sink *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	EVP_MD_CTX_free(w->sha);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

static int entry_by_id(const void *x, const void *y)
{
	return git_oid_cmp(&((const pack_entry *)x)->id, &((const pack_entry *)y)->id);
}

/*
 * The pack's index, git's version 2: the ids in order behind a fanout by
 * their first byte, then every object's CRC-32, then its offset (an
 * offset of 2 GiB or more as an index into a table of 64-bit ones), the
 * pack's hash (the index's own is the writer's to add). e: the objects,
 * each once, sorted by id here.
 */
int pack_index_write(stet_buf *out, pack_entry *e, size_t n, const unsigned char pack_hash[GIT_OID_RAWSZ])
{
	unsigned char b[8];
	size_t i, large = 0;
	uint32_t fan[256] = {0};

	if (n > UINT32_MAX)
		return stet_error_set(STET_ETOOBIG, "packing: %zu objects are too many for one pack", n);
	qsort(e, n, sizeof(*e), entry_by_id);
	stet_buf_clear(out);
	stet_buf_put(out, "\377tOc\0\0\0\2", 8);
	for (i = 0; i < n; i++)
		fan[e[i].id.id[0]]++;
	for (i = 0; i < 256; i++) {
		if (i)
			fan[i] += fan[i - 1];
		put_be32(b, fan[i]);
		stet_buf_put(out, b, 4);
	}
	for (i = 0; i < n; i++)
		stet_buf_put(out, e[i].id.id, GIT_OID_RAWSZ);
	for (i = 0; i < n; i++) {
		put_be32(b, e[i].crc);
		stet_buf_put(out, b, 4);
	}
	for (i = 0; i < n; i++) {
		put_be32(b, e[i].offset < 0x80000000u ? (uint32_t)e[i].offset : 0x80000000u | (uint32_t)large++);
		stet_buf_put(out, b, 4);
	}
	for (i = 0; i < n; i++)
		if (e[i].offset >= 0x80000000u) {
			put_be32(b, (uint32_t)(e[i].offset >> 32));
			put_be32(b + 4, (uint32_t)e[i].offset);
			stet_buf_put(out, b, 8);
		}
	stet_buf_put(out, pack_hash, GIT_OID_RAWSZ);
	return out->failed ? stet_error_oom() : 0;
}

/* an object as a zlib stream (what a pack entry holds), by libdeflate:
 * 2.2 times as fast as zlib at level 1 on the corpus's articles (37 MB/s
 * there, the checkpoint's thread's main cost and most of the run's last
 * checkpoint), the same size (docs/performance.md) */
static int deflate_object(part *w, struct libdeflate_compressor *z, const void *data, size_t size)
{
	size_t bound = libdeflate_zlib_compress_bound(z, size), n;

	if (size > UINT32_MAX || bound < size) /* git's readers, zlib, count in unsigned ints */
		return stet_error_set(STET_ETOOBIG, "packing: an object of %zu bytes is too large", size);
	stet_buf_clear(&w->zout);
	if (stet_buf_grow(&w->zout, bound + 1) < 0)
		return stet_error_oom();
	if (!(n = libdeflate_zlib_compress(z, data, size, w->zout.ptr, w->zout.asize - 1)))
		return stet_error_set(STET_EIO, "packing: libdeflate failed to compress an object of %zu bytes", size);
	w->zout.size = n;
	return 0;
}

/* Objects compression gains little on are stored (level 0): trees and
 * their deltas (names and binary ids: 80 % of a tree's size at level 1),
 * and anything under PACK_MIN_SQUEEZE bytes (most deltas of articles).
 * On each object zlib spent 10 to 40 us before its first byte, whatever
 * its strategy (docs/performance.md): that was most of a pack's time
 * with its trees compressed, and more the larger the archive (its
 * folders' trees are larger). libdeflate's level 1 would take 0.13 s on
 * the corpus's trees (0.18 s on its articles) to gain 12 %. An article's,
 * or a delta of one, of more than that is text: compressed. */
static int store_whole(git_object_t kind, size_t size)
{
	return kind == GIT_OBJECT_TREE || size < PACK_MIN_SQUEEZE;
}

/* an object's entry: type and size, the base's distance for a delta, the
 * data compressed. `kind`: the object's own type (a delta's too) */
static int put_object(part *w, item *it, int type, git_object_t kind, const void *data, size_t size,
		      uint64_t base_distance)
{
	unsigned char h[32];
	size_t n = 0, s = size;
	int error;

	h[n] = (unsigned char)((type << 4) | (s & 15));
	s >>= 4;
	while (s) {
		h[n++] |= 0x80;
		h[n] = s & 0x7f;
		s >>= 7;
	}
	n++;
	if (type == GIT_OBJECT_OFS_DELTA) { /* big endian, each continuation one more */
		unsigned char o[16];
		size_t p = sizeof(o) - 1;
		uint64_t d = base_distance;
		o[p] = d & 0x7f;
		while (d >>= 7)
			o[--p] = 0x80 | (--d & 0x7f);
		memcpy(h + n, o + p, sizeof(o) - p);
		n += sizeof(o) - p;
	}
	if ((error = deflate_object(w, store_whole(kind, size) ? w->stored : w->z, data, size)) < 0)
		return error;
	it->offset = w->out.size;
	it->crc = (uint32_t)crc32_z(crc32_z(0, h, n), (const Bytef *)w->zout.ptr, w->zout.size);
	stet_buf_put(&w->out, h, n);
	stet_buf_put(&w->out, w->zout.ptr, w->zout.size);
	return w->out.failed ? stet_error_oom() : 0;
}

static void put_varint(stet_buf *b, size_t v)
{
	unsigned char c[10];
	size_t n = 0;
	do {
		c[n] = v & 0x7f;
		v >>= 7;
		if (v)
			c[n] |= 0x80;
		n++;
	} while (v);
	stet_buf_put(b, c, n);
}

static void put_copy(stet_buf *b, size_t off, size_t len)
{
	while (len) {
		size_t n = len > 0xffffff ? 0xffffff : len;
		unsigned char c[8];
		size_t k = 1, i;
		c[0] = 0x80;
		for (i = 0; i < 4; i++)
			if ((off >> (8 * i)) & 0xff) {
				c[0] |= (unsigned char)(1u << i);
				c[k++] = (off >> (8 * i)) & 0xff;
			}
		for (i = 0; i < 3; i++)
			if ((n >> (8 * i)) & 0xff) {
				c[0] |= (unsigned char)(0x10u << i);
				c[k++] = (n >> (8 * i)) & 0xff;
			}
		stet_buf_put(b, c, k);
		off += n;
		len -= n;
	}
}

static void put_insert(stet_buf *d, const unsigned char *p, size_t n)
{
	while (n) {
		unsigned char k = (unsigned char)(n < 127 ? n : 127);
		stet_buf_putc(d, (char)k);
		stet_buf_put(d, p, k);
		p += k;
		n -= k;
	}
}

/* the base's blocks of DELTA_BLOCK bytes, by their hash: a table of
 * (hash, offset + 1) pairs, open addressing, the first of equal blocks
 * kept. At most DELTA_BLOCKS of them (8 MB of table): a larger base has
 * every k-th block indexed, so its copies start at coarser steps */
enum { DELTA_BLOCK = 16, DELTA_BLOCKS = 1 << 18 };

static int index_blocks(stet_buf *t, size_t *mask, const unsigned char *base, size_t nb)
{
	size_t step = DELTA_BLOCK * (1 + nb / DELTA_BLOCK / DELTA_BLOCKS);
	size_t blocks = nb / step, slots = 64, i;
	uint64_t *v;

	while (slots < 2 * blocks)
		slots *= 2;
	stet_buf_clear(t);
	if (stet_buf_grow(t, slots * 2 * sizeof(uint64_t)) < 0)
		return -1;
	v = (uint64_t *)(void *)t->ptr; /* stet_buf memory is malloc'd: aligned */
	memset(v, 0, slots * 2 * sizeof(uint64_t));
	for (i = 0; i < blocks; i++) {
		uint64_t h = XXH3_64bits(base + i * step, DELTA_BLOCK);
		size_t s = (size_t)h & (slots - 1);
		while (v[2 * s + 1] && v[2 * s] != h)
			s = (s + 1) & (slots - 1);
		if (!v[2 * s + 1]) {
			v[2 * s] = h;
			v[2 * s + 1] = i * step + 1;
		}
	}
	*mask = slots - 1;
	return 0;
}

/*
 * git's delta of `to` against `base`: their common start and end copied;
 * between them, wherever a block of the base appears in `to` (found by
 * its hash, then grown both ways as far as the bytes agree) a copy, the
 * rest inserted. An article revised at the top and the bottom, a tree
 * with an entry changed: a few dozen bytes. 1 when made and worth keeping
 * (under half of `to`), 0 when not, -1 out of memory.
 */
static int make_delta(stet_buf *d, stet_buf *table, const unsigned char *base, size_t nb, const unsigned char *to,
		      size_t nt)
{
	size_t pre = 0, suf = 0, max = nb < nt ? nb : nt, end, p, lit, mask = 0;
	const uint64_t *v = NULL;

	if (nb > UINT32_MAX || nt > UINT32_MAX) /* copies address 32 bits of the base */
		return 0;
	while (pre < max && base[pre] == to[pre])
		pre++;
	while (suf < max - pre && base[nb - 1 - suf] == to[nt - 1 - suf])
		suf++;
	end = nt - suf;
	stet_buf_clear(d);
	put_varint(d, nb);
	put_varint(d, nt);
	put_copy(d, 0, pre);
	if (end - pre >= 2 * DELTA_BLOCK && nb >= DELTA_BLOCK) {
		if (index_blocks(table, &mask, base, nb) < 0)
			return -1;
		v = (const uint64_t *)(const void *)table->ptr;
	}
	for (p = lit = pre; v && p + DELTA_BLOCK <= end;) {
		uint64_t h = XXH3_64bits(to + p, DELTA_BLOCK);
		size_t s = (size_t)h & mask, at, len;
		while (v[2 * s + 1] && v[2 * s] != h)
			s = (s + 1) & mask;
		at = (size_t)v[2 * s + 1];
		if (!at || memcmp(base + at - 1, to + p, DELTA_BLOCK)) {
			p++;
			continue;
		}
		at--;
		len = DELTA_BLOCK;
		while (p + len < end && at + len < nb && base[at + len] == to[p + len])
			len++;
		while (p > lit && at > 0 && base[at - 1] == to[p - 1]) {
			p--;
			at--;
			len++;
		}
		put_insert(d, to + lit, p - lit);
		put_copy(d, at, len);
		p += len;
		lit = p;
		if (d->size >= nt / 2)
			return 0;
	}
	put_insert(d, to + lit, end - lit);
	put_copy(d, nb - suf, suf);
	if (d->failed)
		return -1;
	return d->size < nt / 2;
}

/* a git delta's two sizes (its base's, its result's) from its start;
 * *p is advanced past them. 0, or -1 if they are cut short */
static int delta_sizes(const unsigned char **p, const unsigned char *end, uint64_t sizes[2])
{
	int k;
	for (k = 0; k < 2; k++) {
		unsigned shift = 0;
		sizes[k] = 0;
		do {
			if (*p == end || shift > 63)
				return -1;
			sizes[k] |= (uint64_t)(**p & 0x7f) << shift;
			shift += 7;
		} while (*(*p)++ & 0x80);
	}
	return 0;
}

/* a delta's instructions from p, as git reads them (copies from the base
 * and inserted bytes), run against base into `to` (nt bytes): written
 * there, or with `compare` compared with what is there. 1 if they make
 * exactly nt bytes (and, comparing, the same ones), else 0 */
static int delta_run(const unsigned char *p, const unsigned char *end, const unsigned char *base, size_t nb,
		     unsigned char *to, size_t nt, int compare)
{
	size_t at = 0;

	while (p < end) {
		unsigned c = *p++;
		const unsigned char *from;
		size_t len;
		if (c & 0x80) {
			uint64_t off = 0, l = 0;
			unsigned i;
			for (i = 0; i < 4; i++)
				if (c & (1u << i)) {
					if (p == end)
						return 0;
					off |= (uint64_t)*p++ << (8 * i);
				}
			for (i = 0; i < 3; i++)
				if (c & (0x10u << i)) {
					if (p == end)
						return 0;
					l |= (uint64_t)*p++ << (8 * i);
				}
			if (!l)
				l = 0x10000;
			if (off > nb || l > nb - off)
				return 0;
			from = base + off;
			len = (size_t)l;
		} else if (c) {
			if (c > (size_t)(end - p))
				return 0;
			from = p;
			len = c;
			p += c;
		} else {
			return 0; /* git refuses the opcode 0 */
		}
		if (len > nt - at)
			return 0;
		if (!compare)
			memcpy(to + at, from, len);
		else if (memcmp(from, to + at, len))
			return 0;
		at += len;
	}
	return at == nt;
}

/* whether delta d, applied to base, gives `to` exactly, compared as it
 * goes. What libgit2's indexer checked of stet's deltas, for the price of
 * one comparison of each delta's object */
int pack_delta_rebuilds(const void *delta, size_t nd, const void *base, size_t nb, const void *to, size_t nt)
{
	const unsigned char *p = delta;
	uint64_t sizes[2];

	if (delta_sizes(&p, p + nd, sizes) < 0 || sizes[0] != nb || sizes[1] != nt)
		return 0;
	return delta_run(p, (const unsigned char *)delta + nd, base, nb, (unsigned char *)to, nt, 1);
}

int pack_delta_apply(unsigned char **out, size_t *nt, const void *delta, size_t nd, const void *base, size_t nb,
		     size_t max)
{
	const unsigned char *p = delta;
	uint64_t sizes[2];
	unsigned char *to;

	*out = NULL;
	*nt = 0;
	if (delta_sizes(&p, p + nd, sizes) < 0 || sizes[0] != nb || sizes[1] > max ||
	    !(to = malloc(sizes[1] ? (size_t)sizes[1] : 1)))
		return -1;
	if (!delta_run(p, (const unsigned char *)delta + nd, base, nb, to, (size_t)sizes[1], 0)) {
		free(to);
		return -1;
	}
	*out = to;
	*nt = (size_t)sizes[1];
	return 0;
}

/* the previous (newer) version at the same path, kept as the next one's base */
typedef struct {
	void *data;
	size_t size;
	git_object_t type;
	uint64_t offset;
	int depth;
	const char *name;
} base;

static int write_items(part *w)
{
	git_odb_backend *objects = w->objects;
	item *v = w->v;
	size_t n = w->n;
	base b = {0};
	size_t i;
	int error = 0;

	for (i = 0; i < n && !error; i++) {
		void *data = NULL;
		size_t size = 0;
		git_object_t type = GIT_OBJECT_INVALID;
		uint64_t at = w->out.size;
		int delta = 0;

		if ((error = objects->read(&data, &size, &type, objects, &v[i].id)) < 0) {
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof(hex), &v[i].id);
			error = stet_git_error(error, hex);
			break;
		}
		if (b.data && v[i].name && b.name && !strcmp(v[i].name, b.name) && b.type == type &&
		    b.depth < PACK_DEPTH && size >= PACK_MIN_DELTA &&
		    (delta = make_delta(&w->delta, &w->blocks, b.data, b.size, data, size)) < 0) {
			error = stet_error_oom();
		} else if (delta && !pack_delta_rebuilds(w->delta.ptr, w->delta.size, b.data, b.size, data, size)) {
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof(hex), &v[i].id);
			error = stet_error_set(STET_ERROR, "packing: the delta made for %s does not rebuild it", hex);
		} else if (delta) {
			error = put_object(w, &v[i], GIT_OBJECT_OFS_DELTA, type, w->delta.ptr, w->delta.size, at - b.offset);
		} else if (!error) {
			error = put_object(w, &v[i], type, type, data, size, 0);
		}
		if (b.data)
			git_odb_backend_data_free(objects, b.data);
		b.data = data;
		b.size = size;
		b.type = type;
		b.offset = at;
		b.depth = delta ? b.depth + 1 : 0;
		b.name = v[i].name;
	}
	if (b.data)
		git_odb_backend_data_free(objects, b.data);
	return error;
}

static void compress_part(size_t i, void *payload)
{
	part *p = (part *)payload + i;

	if (!(p->z = libdeflate_alloc_compressor(PACK_LEVEL)) || !(p->stored = libdeflate_alloc_compressor(0)))
		p->error = stet_error_oom();
	else
		p->error = write_items(p);
	if (p->error < 0) /* errors are the thread's own: kept for the caller */
		snprintf(p->msg, sizeof(p->msg), "%s", stet_error_last());
}

static void part_dispose(part *p)
{
	libdeflate_free_compressor(p->z);
	libdeflate_free_compressor(p->stored);
	p->z = p->stored = NULL;
	stet_buf_dispose(&p->out);
	stet_buf_dispose(&p->zout);
	stet_buf_dispose(&p->delta);
	stet_buf_dispose(&p->blocks);
}

/* the items cut into runs of whole paths, about `want` of them */
static size_t cut_parts(part *parts, size_t want, item *v, size_t n, git_odb_backend *objects)
{
	size_t k = 0, lo = 0;

	while (lo < n) {
		size_t hi = lo + (n - lo) / (want - k > 1 ? want - k : 1);
		if (hi <= lo)
			hi = lo + 1;
		while (hi < n && v[hi].name && v[hi - 1].name && !strcmp(v[hi].name, v[hi - 1].name))
			hi++;
		memset(&parts[k], 0, sizeof(parts[k]));
		parts[k].v = v + lo;
		parts[k].n = hi - lo;
		parts[k].objects = objects;
		k++;
		lo = hi;
	}
	return k;
}

/* the folder synced: the names of the files just renamed into it (a file
 * system that cannot sync a folder says EINVAL or ENOTSUP: nothing more
 * to do there) */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), error = 0;
	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP))
		error = stet_error_set(STET_EIO, "packing: syncing the folder %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return error;
}

int pack_write(const char *dir, git_odb_backend *objects, const git_oid *ids, char *const *names, size_t n,
	       int threads, char idx_name[PACK_IDX_NAME])
{
	sink pk = {.fd = -1}, ix = {.fd = -1};
	item *v = NULL;
	pack_entry *entries = NULL;
	part *parts = NULL;
	stet_buf idx = STET_BUF_INIT;
	size_t i, k, nparts = 0, want = threads > 1 ? 8 * (size_t)threads : 8;
	unsigned char head[12], pack_hash[GIT_OID_RAWSZ], idx_hash[GIT_OID_RAWSZ];
	char hex[GIT_OID_HEXSZ + 1];
	uint64_t at = sizeof(head);
	git_oid name;
	mode_t mode;
	int error = 0;

	if (n > UINT32_MAX)
		return stet_error_set(STET_ETOOBIG, "packing: %zu objects are too many for one pack", n);
	if (!(v = stet_calloc(n ? n : 1, sizeof(*v))) || !(parts = stet_calloc(want, sizeof(*parts)))) {
		free(v);
		return stet_error_oom();
	}
	for (i = 0; i < n; i++) {
		git_oid_cpy(&v[i].id, &ids[i]);
		v[i].name = names[i];
		v[i].order = i;
	}
	/* each object once (the newest staging of it) */
	qsort(v, n, sizeof(*v), by_id);
	for (i = k = 0; i < n; i++)
		if (!k || !git_oid_equal(&v[k - 1].id, &v[i].id))
			v[k++] = v[i];
	n = k;
	qsort(v, n, sizeof(*v), by_path);
	nparts = cut_parts(parts, want, v, n, objects);

	/* read-only for all whom the umask lets read, as git and libgit2 make
	 * packs: mkstemp's 0600 would hide them from a web front end running
	 * as another user */
	mode = 0444 & ~current_umask();
	if ((error = sink_open(&pk, dir, "pack", mode)) < 0)
		goto done;
	memcpy(head, "PACK\0\0\0\2", 8);
	put_be32(head + 8, (uint32_t)n);
	if ((error = sink_put(&pk, head, sizeof(head), 1)) < 0)
		goto done;
	/* on several threads all parts at once, then written in order; on one,
	 * a part at a time (an eighth of the pack in memory) */
	if (threads > 1)
		stet_parallel_for(nparts, threads, compress_part, parts);
	for (i = 0; i < nparts && !error; i++) {
		if (threads <= 1)
			compress_part(i, parts);
		if (parts[i].error < 0) {
			error = stet_error_set(parts[i].error, "%s", parts[i].msg);
		} else if ((error = sink_put(&pk, parts[i].out.ptr, parts[i].out.size, 1)) == 0) {
			for (k = 0; k < parts[i].n; k++)
				parts[i].v[k].offset += at;
			at += parts[i].out.size;
		}
		part_dispose(&parts[i]);
	}
	if (error < 0 || (error = sink_finish(&pk, pack_hash)) < 0)
		goto done;
	/* the index, named as git names it: by the pack's hash */
	if (!(entries = stet_calloc(n ? n : 1, sizeof(*entries)))) {
		error = stet_error_oom();
		goto done;
	}
	for (i = 0; i < n; i++) {
		git_oid_cpy(&entries[i].id, &v[i].id);
		entries[i].offset = v[i].offset;
		entries[i].crc = v[i].crc;
	}
	if ((error = pack_index_write(&idx, entries, n, pack_hash)) < 0 || (error = sink_open(&ix, dir, "idx", mode)) < 0 ||
	    (error = sink_put(&ix, idx.ptr, idx.size, 1)) < 0 || (error = sink_finish(&ix, idx_hash)) < 0)
		goto done;
	git_oid_fromraw(&name, pack_hash);
	git_oid_tostr(hex, sizeof(hex), &name);
	if ((error = sink_rename(&pk, dir, hex, "pack")) < 0 || (error = sink_rename(&ix, dir, hex, "idx")) < 0)
		goto done;
	if ((error = sync_dir(dir)) == 0 && idx_name)
		snprintf(idx_name, PACK_IDX_NAME, "pack-%s.idx", hex);
done:
	for (i = 0; i < nparts; i++)
		part_dispose(&parts[i]);
	sink_dispose(&pk);
	sink_dispose(&ix);
	stet_buf_dispose(&idx);
	free(entries);
	free(parts);
	free(v);
	return error;
}
