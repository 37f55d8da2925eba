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
 *   - every object goes through zlib once, a run of whole paths at a
 *     time (a "part": a delta's base is in its own part, so its distance
 *     does not depend on where the part lands); the run's last checkpoint
 *     compresses its parts on two threads. Articles and commits (and
 *     their deltas) are compressed at PACK_LEVEL; trees, their deltas
 *     and objects under PACK_MIN_SQUEEZE bytes are stored as they are
 *     (zlib level 0, store_whole): zlib spends 10-40 us on each object
 *     before its first byte, and gains little on these.
 *
 * The stream (git's pack format, version 2, SHA-1 trailer) goes to
 * libgit2's indexer as before, a megabyte at a time (its indexer maps
 * and unmaps the file for every piece it is given): it checks every
 * object (inflates it, resolves the deltas, hashes it) and writes the pack
 * and its index, synced. So a pack stet writes wrongly is refused before
 * main can name anything in it (the indexer has no object store to take a
 * missing base from: the pack stands alone).
 */
#include "internal.h"

#include <git2/indexer.h>
#include <git2/sys/odb_backend.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zlib.h>

enum {
	PACK_DEPTH = 50,        /* git's pack.depth */
	PACK_LEVEL = 1,         /* zlib: 4.6 % larger than level 6 for the corpus, twice as fast */
	PACK_CHUNK = 1u << 20,  /* what the indexer is given at a time */
	PACK_MIN_DELTA = 64,    /* smaller objects are stored whole */
	PACK_MIN_SQUEEZE = 128  /* smaller objects are stored as they are (store_whole) */
};

typedef struct {
	git_oid id;
	const char *name; /* NULL: a commit, or a name not known */
	size_t order;     /* when it was staged */
} item;

/* where the pack's bytes go: hashed, then to the indexer */
typedef struct {
	git_indexer *indexer;
	git_indexer_progress stats;
	EVP_MD_CTX *sha;
	unsigned char *buf;
	size_t len;
} sink;

/* a run of whole paths, compressed into memory on one thread: a delta's
 * base is at its own path, so its distance is the same here as in the
 * pack */
typedef struct {
	const item *v;
	size_t n;
	git_odb_backend *objects;
	stet_buf out;
	z_stream z, stored; /* PACK_LEVEL, and level 0 (store_whole) */
	int z_ready;
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

static int drain(sink *w)
{
	int error = 0;
	if (w->len)
		error = git_indexer_append(w->indexer, w->buf, w->len, &w->stats);
	w->len = 0;
	return error < 0 ? stet_git_error(error, "writing the pack") : 0;
}

/* pack bytes: hashed for the trailer (unless it is the trailer) and handed on */
static int emit(sink *w, const void *data, size_t size, int hash)
{
	int error;

	if (hash && !EVP_DigestUpdate(w->sha, data, size))
		return stet_error_set(STET_EIO, "packing: hashing the pack failed");
	if (w->len + size > PACK_CHUNK && (error = drain(w)) < 0)
		return error;
	if (size >= PACK_CHUNK) { /* a large piece goes as it is */
		if ((error = git_indexer_append(w->indexer, data, size, &w->stats)) < 0)
			return stet_git_error(error, "writing the pack");
		return 0;
	}
	memcpy(w->buf + w->len, data, size);
	w->len += size;
	return 0;
}

static int deflate_object(part *w, z_stream *z, const void *data, size_t size)
{
	int zr;

	if (size > UINT32_MAX) /* zlib counts in unsigned ints */
		return stet_error_set(STET_ETOOBIG, "packing: an object of %zu bytes is too large", size);
	stet_buf_clear(&w->zout);
	if (stet_buf_grow(&w->zout, deflateBound(z, (uLong)size) + 1) < 0)
		return stet_error_oom();
	if (deflateReset(z) != Z_OK)
		return stet_error_set(STET_EIO, "packing: zlib failed to reset");
	z->next_in = (Bytef *)(uintptr_t)data;
	z->avail_in = (uInt)size;
	z->next_out = (Bytef *)w->zout.ptr;
	z->avail_out = (uInt)(w->zout.asize - 1);
	zr = deflate(z, Z_FINISH);
	if (zr != Z_STREAM_END)
		return stet_error_set(STET_EIO, "packing: zlib failed to compress an object (%d)", zr);
	w->zout.size = (size_t)(z->next_out - (Bytef *)w->zout.ptr);
	return 0;
}

/* Objects zlib gains little on are stored (zlib level 0): trees and
 * their deltas (names and binary ids: 80 % of a tree's size at level 1),
 * and anything under PACK_MIN_SQUEEZE bytes (most deltas of articles).
 * On each object zlib spends 10 to 40 us before its first byte, whatever
 * its strategy (docs/performance.md): that was most of a pack's time
 * with its trees compressed, and more the larger the archive (its
 * folders' trees are larger). An article's, or a delta of one, of more
 * than that is text: compressed. */
static int store_whole(git_object_t kind, size_t size)
{
	return kind == GIT_OBJECT_TREE || size < PACK_MIN_SQUEEZE;
}

/* an object's entry: type and size, the base's distance for a delta, the
 * data compressed. `kind`: the object's own type (a delta's too) */
static int put_object(part *w, int type, git_object_t kind, const void *data, size_t size, uint64_t base_distance)
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
	if ((error = deflate_object(w, store_whole(kind, size) ? &w->stored : &w->z, data, size)) < 0)
		return error;
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
	const item *v = w->v;
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
		} else if (delta) {
			error = put_object(w, GIT_OBJECT_OFS_DELTA, type, w->delta.ptr, w->delta.size, at - b.offset);
		} else if (!error) {
			error = put_object(w, type, type, data, size, 0);
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

	if (deflateInit(&p->z, PACK_LEVEL) != Z_OK) {
		p->error = stet_error_oom();
	} else if (deflateInit(&p->stored, 0) != Z_OK) {
		deflateEnd(&p->z);
		p->error = stet_error_oom();
	} else {
		p->z_ready = 1;
		p->error = write_items(p);
	}
	if (p->error < 0) /* errors are the thread's own: kept for the caller */
		snprintf(p->msg, sizeof(p->msg), "%s", stet_error_last());
}

static void part_dispose(part *p)
{
	if (p->z_ready) {
		deflateEnd(&p->z);
		deflateEnd(&p->stored);
	}
	p->z_ready = 0;
	stet_buf_dispose(&p->out);
	stet_buf_dispose(&p->zout);
	stet_buf_dispose(&p->delta);
	stet_buf_dispose(&p->blocks);
}

/* the items cut into runs of whole paths, about `want` of them */
static size_t cut_parts(part *parts, size_t want, const item *v, size_t n, git_odb_backend *objects)
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

int pack_write(const char *dir, git_odb_backend *objects, const git_oid *ids, char *const *names, size_t n,
	       int threads)
{
	sink w = {0};
	item *v = NULL;
	part *parts = NULL;
	size_t i, k, nparts = 0, want = threads > 1 ? 8 * (size_t)threads : 8;
	unsigned char head[12], trailer[EVP_MAX_MD_SIZE];
	unsigned int tlen = 0;
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

	if (!(w.buf = stet_malloc(PACK_CHUNK)) || !(w.sha = EVP_MD_CTX_new())) {
		error = stet_error_oom();
		goto done;
	}
	if (!EVP_DigestInit_ex(w.sha, EVP_sha1(), NULL)) {
		error = stet_error_set(STET_EIO, "packing: no SHA-1 for the pack's trailer");
		goto done;
	}
	/* the indexer syncs the pack and its index: GIT_OPT_ENABLE_FSYNC_GITDIR (archive.c) */
	if ((error = git_indexer_new(&w.indexer, dir, 0, NULL, NULL)) < 0) {
		error = stet_git_error(error, "writing the pack");
		goto done;
	}
	memcpy(head, "PACK\0\0\0\2", 8);
	head[8] = (unsigned char)(n >> 24);
	head[9] = (unsigned char)(n >> 16);
	head[10] = (unsigned char)(n >> 8);
	head[11] = (unsigned char)n;
	if ((error = emit(&w, head, sizeof(head), 1)) < 0)
		goto done;
	/* on several threads all parts at once, then written in order; on one,
	 * a part at a time (an eighth of the pack in memory) */
	if (threads > 1)
		stet_parallel_for(nparts, threads, compress_part, parts);
	for (i = 0; i < nparts && !error; i++) {
		if (threads <= 1)
			compress_part(i, parts);
		if (parts[i].error < 0)
			error = stet_error_set(parts[i].error, "%s", parts[i].msg);
		else
			error = emit(&w, parts[i].out.ptr, parts[i].out.size, 1);
		part_dispose(&parts[i]);
	}
	if (error < 0)
		goto done;
	if (!EVP_DigestFinal_ex(w.sha, trailer, &tlen) || tlen != GIT_OID_RAWSZ) {
		error = stet_error_set(STET_EIO, "packing: hashing the pack failed");
		goto done;
	}
	if ((error = emit(&w, trailer, tlen, 0)) < 0 || (error = drain(&w)) < 0)
		goto done;
	if ((error = git_indexer_commit(w.indexer, &w.stats)) < 0)
		error = stet_git_error(error, "writing the pack");
done:
	for (i = 0; i < nparts; i++)
		part_dispose(&parts[i]);
	git_indexer_free(w.indexer);
	EVP_MD_CTX_free(w.sha);
	free(w.buf);
	free(parts);
	free(v);
	return error;
}
