/*
 * Merging packs. A run writes a pack a checkpoint; the multi-pack-index
 * (odb.c) covers the old ones, but the packs written since it was last
 * written are each searched in turn for every object not in it, and in a
 * large archive most of a batch's folders were changed a few runs ago: at
 * 1,000,000 articles that search cost the run more with each run since the
 * index was written, and the index costs seconds to write
 * (docs/performance.md). So at the end of a run the packs the index does
 * not cover are kept in a geometric progression, as git's `repack
 * --geometric` keeps them: sorted by their number of objects, the smallest
 * that do not make a progression with factor MERGE_FACTOR are merged into
 * one, so there are about log(N) of them.
 *
 * A merge writes no object again: the packs' entries are copied as they
 * are, pack after pack. An entry's delta names its base by the distance
 * back to it in the same pack (OFS_DELTA), and a pack's entries stay
 * together, so the distances stand. The index (git's version 2) is the
 * sources' entries merged by id, each with the CRC32 the source index
 * gives and its offset moved by where its pack's entries begin; the
 * trailer is the SHA-1 of the new pack. libgit2 then opens the new pack as
 * a reader would (its trailer against the index, its count) and reads the
 * first object of each source from it, before any source is removed.
 *
 * Written as a temporary file, synced, renamed (the pack, then its index:
 * a reader sees a pack only with its index), the folder synced, and only
 * then the sources removed (index first). A run killed meanwhile leaves
 * either the sources alone or the sources and the merged pack: the same
 * objects twice, harmless; packs that hold an object twice are not merged
 * (the next multi-pack-index covers them). Packs with a .keep, or anything
 * beside their index (a bitmap, a reverse index), and packs in the
 * multi-pack-index are never touched.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <dirent.h>
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
#include <zlib.h>

enum {
	MERGE_FACTOR = 2,       /* each pack kept at least twice the one before (git's usual) */
	MERGE_MAX_PACKS = 4096, /* looked at, at most, outside the multi-pack-index */
	IDX_HEADER = 8 + 256 * 4
};

typedef struct {
	char *name;            /* "pack-<sha>" */
	uint32_t n;            /* objects */
	/* the index, mapped into memory by read_idx */
	unsigned char *idx;
	size_t idx_size;
	const unsigned char *ids, *crcs, *offs, *large;
	uint64_t pack_size;
	uint64_t shift;        /* where its entries begin in the merged pack, less 12 */
	uint32_t at;           /* the merge's cursor */
} src;

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* objects in a pack's index (version 2), from its fanout: 0 if it is not one */
static uint32_t idx_count(const char *path)
{
	unsigned char h[IDX_HEADER];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return 0;
	got = read(fd, h, sizeof(h));
	close(fd);
	if (got != (ssize_t)sizeof(h) || memcmp(h, "\377tOc", 4) || be32(h + 4) != 2)
		return 0;
	return be32(h + 8 + 255 * 4);
}

static int read_whole(const char *path, unsigned char **out, size_t *size)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || !(buf = stet_malloc((size_t)st.st_size))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0) {
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*size = got;
	return 0;
}

/* a source's index read and checked: its tables, sorted ids, sizes that
 * add up; and its pack: the header's count, the trailer the index names */
static int read_idx(src *s, const char *dir)
{
	char path[4096];
	unsigned char head[12], tail[20];
	struct stat st;
	uint64_t nlarge = 0, i;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.idx", dir, s->name);
	if (read_whole(path, &s->idx, &s->idx_size) < 0 || s->idx_size < IDX_HEADER + 40 ||
	    memcmp(s->idx, "\377tOc", 4) || be32(s->idx + 4) != 2)
		return -1;
	s->n = be32(s->idx + 8 + 255 * 4);
	if ((uint64_t)s->n * 28 + IDX_HEADER + 40 > s->idx_size)
		return -1;
	s->ids = s->idx + IDX_HEADER;
	s->crcs = s->ids + (size_t)s->n * 20;
	s->offs = s->crcs + (size_t)s->n * 4;
	s->large = s->offs + (size_t)s->n * 4;
	for (i = 0; i < s->n; i++) {
		if (be32(s->offs + 4 * i) & 0x80000000u)
			nlarge++;
		if (i && memcmp(s->ids + 20 * (i - 1), s->ids + 20 * i, 20) >= 0)
			return -1;
	}
	if (IDX_HEADER + (uint64_t)s->n * 28 + nlarge * 8 + 40 != s->idx_size)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.pack", dir, s->name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < 32 || pread(fd, head, 12, 0) != 12 ||
	    pread(fd, tail, 20, st.st_size - 20) != 20) {
		close(fd);
		return -1;
	}
	close(fd);
	s->pack_size = (uint64_t)st.st_size;
	if (memcmp(head, "PACK", 4) || (be32(head + 4) != 2 && be32(head + 4) != 3) || be32(head + 8) != s->n ||
	    memcmp(tail, s->idx + s->idx_size - 40, 20))
		return -1;
	return 0;
}

static uint64_t src_offset(const src *s, uint32_t i)
{
	uint32_t o = be32(s->offs + 4 * (size_t)i);
	const unsigned char *l;
	if (!(o & 0x80000000u))
		return o;
	o &= 0x7fffffffu;
	if ((size_t)(s->large - s->idx) + 8 * ((size_t)o + 1) > s->idx_size - 40)
		return UINT64_MAX;
	l = s->large + 8 * (size_t)o;
	return (uint64_t)be32(l) << 32 | be32(l + 4);
}

/* ---- choosing ---- */

static int by_count(const void *x, const void *y)
{
	const src *a = x, *b = y;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* how many of the smallest packs to merge (git's repack --geometric):
 * those below where the sizes last stop growing by MERGE_FACTOR, and then
 * every next one the merged pack would not be MERGE_FACTOR times smaller
 * than */
static size_t split_of(const src *v, size_t n)
{
	size_t i, split;
	uint64_t total = 0;

	if (n < 2)
		return 0;
	for (i = n - 1; i > 0; i--)
		if ((uint64_t)v[i].n < (uint64_t)MERGE_FACTOR * v[i - 1].n)
			break;
	split = i ? i + 1 : 0;
	for (i = 0; i < split; i++)
		total += v[i].n;
	for (i = split; i < n && (uint64_t)v[i].n < MERGE_FACTOR * total; i++, split++)
		total += v[i].n;
	return split >= 2 ? split : 0;
}

/* the names of the packs the multi-pack-index covers: its PNAM chunk
 * ("pack-<sha>.idx", each NUL-terminated), read alone; NULL: none */
static char *midx_names(const char *path, size_t *size)
{
	unsigned char h[12], c[24];
	char *names = NULL;
	size_t i, nchunks;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*size = 0;
	if (fd < 0)
		return NULL;
	if (pread(fd, h, 12, 0) != 12 || memcmp(h, "MIDX", 4))
		goto done;
	nchunks = h[6];
	for (i = 0; i < nchunks; i++) {
		uint64_t at, end;
		if (pread(fd, c, 24, (off_t)(12 + 12 * i)) != 24)
			goto done;
		if (memcmp(c, "PNAM", 4))
			continue;
		at = (uint64_t)be32(c + 4) << 32 | be32(c + 8);
		end = (uint64_t)be32(c + 16) << 32 | be32(c + 20);
		if (at >= end || end - at > (64u << 20) || !(names = stet_malloc((size_t)(end - at) + 1)))
			goto done;
		if (pread(fd, names, (size_t)(end - at), (off_t)at) != (ssize_t)(end - at)) {
			free(names);
			names = NULL;
			goto done;
		}
		names[end - at] = '\0';
		*size = (size_t)(end - at);
		break;
	}
done:
	close(fd);
	return names;
}

static int in_midx(const char *names, size_t size, const char *name)
{
	size_t at = 0, len = strlen(name);
	while (names && at < size) {
		size_t l = strnlen(names + at, size - at);
		if (l == len + 4 && !memcmp(names + at, name, len) && !memcmp(names + at + len, ".idx", 4))
			return 1;
		at += l + 1;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), error;
	if (fd < 0)
		return -1;
	error = fsync(fd);
	close(fd);
	return error;
}

/* a pack with nothing beside its index: no .keep, .bitmap, .rev, .promisor */
static int plain(const char *dir, const char *name)
{
	static const char *const other[] = { ".keep", ".bitmap", ".rev", ".promisor", ".mtimes" };
	char path[4096];
	size_t i;
	for (i = 0; i < sizeof(other) / sizeof(*other); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, name, other[i]);
		if (access(path, F_OK) == 0)
			return 0;
	}
	snprintf(path, sizeof(path), "%s/%s.pack", dir, name);
	return access(path, F_OK) == 0;
}

/* ---- writing ---- */

typedef struct {
	int fd;
	EVP_MD_CTX *sha;
	uint64_t size;
} out;

static int out_put(out *o, const void *p, size_t n)
{
	if (!EVP_DigestUpdate(o->sha, p, n) || stet_write_all(o->fd, p, n) < 0)
		return -1;
	o->size += n;
	return 0;
}

static int out_end(out *o, unsigned char sum[20])
{
	unsigned int len = 0;
	if (!EVP_DigestFinal_ex(o->sha, sum, &len) || len != 20 || stet_write_all(o->fd, sum, 20) < 0 || fsync(o->fd) < 0)
		return -1;
	return 0;
}

/* the sources' entries, one after the other */
static int write_pack(out *o, const char *dir, src *v, size_t n, uint32_t total, unsigned char sum[20])
{
	unsigned char head[12], *buf = stet_malloc(1u << 20);
	uint64_t at = 0;
	size_t i;
	int error = -1;

	if (!buf)
		return -1;
	memcpy(head, "PACK", 4);
	put32(head + 4, 2);
	put32(head + 8, total);
	if (out_put(o, head, 12) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		char path[4096];
		uint64_t pos = 12, end = v[i].pack_size - 20;
		int fd;
		v[i].shift = at;
		snprintf(path, sizeof(path), "%s/%s.pack", dir, v[i].name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			goto done;
		while (pos < end) {
			size_t want = end - pos < (1u << 20) ? (size_t)(end - pos) : (1u << 20);
			ssize_t r = pread(fd, buf, want, (off_t)pos);
			if (r <= 0 || out_put(o, buf, (size_t)r) < 0) {
				close(fd);
				goto done;
			}
			pos += (uint64_t)r;
		}
		close(fd);
		at += end - 12;
	}
	error = out_end(o, sum);
done:
	free(buf);
	return error;
}

typedef struct {
	uint64_t off;
	uint32_t crc;
} span;

static int by_off(const void *x, const void *y)
{
	const span *a = x, *b = y;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* every entry of the merged pack where its index says, intact: the CRC32
 * of its bytes (from its offset to the next entry's) is the one its
 * source's index gave. The pack is read back once, in order. */
static int verify_entries(const char *pack, const uint64_t *offs, const unsigned char *crcs, uint32_t total,
			  uint64_t pack_size)
{
	span *v = stet_malloc((size_t)total * sizeof(*v) + 1);
	unsigned char *buf = stet_malloc(1u << 20);
	uint32_t k;
	int fd = -1, error = -1;

	if (!v || !buf || (fd = open(pack, O_RDONLY | O_CLOEXEC)) < 0)
		goto done;
	for (k = 0; k < total; k++) {
		v[k].off = offs[k];
		v[k].crc = be32(crcs + 4 * (size_t)k);
	}
	qsort(v, total, sizeof(*v), by_off);
	for (k = 0; k < total; k++) {
		uint64_t at = v[k].off, end = k + 1 < total ? v[k + 1].off : pack_size - 20;
		uLong crc = crc32(0L, Z_NULL, 0);
		if (at < 12 || at >= end)
			goto done;
		while (at < end) {
			size_t want = end - at < (1u << 20) ? (size_t)(end - at) : (1u << 20);
			ssize_t r = pread(fd, buf, want, (off_t)at);
			if (r <= 0)
				goto done;
			crc = crc32(crc, buf, (uInt)r);
			at += (uint64_t)r;
		}
		if ((uint32_t)crc != v[k].crc)
			goto done;
	}
	error = 0;
done:
	if (fd >= 0)
		close(fd);
	free(v);
	free(buf);
	return error;
}

/* the index: the sources' entries merged by id, after verify_entries;
 * 1: an id twice (no index) */
static int write_idx(out *o, src *v, size_t n, uint32_t total, const char *pack, uint64_t pack_size,
		     const unsigned char pack_sum[20])
{
	unsigned char *ids = stet_malloc((size_t)total * 20 + 1), *crcs = stet_malloc((size_t)total * 4 + 1);
	uint64_t *offs = stet_malloc((size_t)total * 8 + 1);
	unsigned char head[IDX_HEADER], sum[20], b[8];
	uint32_t k, nlarge = 0, fan = 0;
	size_t i;
	int error = -1;

	if (!ids || !crcs || !offs)
		goto done;
	for (i = 0; i < n; i++)
		v[i].at = 0;
	for (k = 0; k < total; k++) { /* the smallest id among the sources' cursors */
		src *best = NULL;
		uint64_t off;
		for (i = 0; i < n; i++) {
			int c;
			if (v[i].at >= v[i].n)
				continue;
			if (!best || (c = memcmp(v[i].ids + 20 * (size_t)v[i].at, best->ids + 20 * (size_t)best->at, 20)) < 0)
				best = &v[i];
			else if (c == 0) {
				error = 1;
				goto done;
			}
		}
		if (!best || (off = src_offset(best, best->at)) == UINT64_MAX || off < 12 ||
		    off >= best->pack_size - 20)
			goto done;
		memcpy(ids + 20 * (size_t)k, best->ids + 20 * (size_t)best->at, 20);
		memcpy(crcs + 4 * (size_t)k, best->crcs + 4 * (size_t)best->at, 4);
		offs[k] = off + best->shift;
		best->at++;
	}
	if (verify_entries(pack, offs, crcs, total, pack_size) < 0)
		goto done;
	memcpy(head, "\377tOc", 4);
	put32(head + 4, 2);
	for (i = 0, k = 0; i < 256; i++) {
		while (k < total && ids[20 * (size_t)k] <= i)
			k++;
		fan = k;
		put32(head + 8 + 4 * i, fan);
	}
	if (out_put(o, head, sizeof(head)) < 0 || out_put(o, ids, (size_t)total * 20) < 0 ||
	    out_put(o, crcs, (size_t)total * 4) < 0)
		goto done;
	for (k = 0; k < total; k++) {
		put32(b, offs[k] < 0x80000000u ? (uint32_t)offs[k] : 0x80000000u | nlarge++);
		if (out_put(o, b, 4) < 0)
			goto done;
	}
	for (k = 0; k < total; k++) {
		if (offs[k] < 0x80000000u)
			continue;
		put32(b, (uint32_t)(offs[k] >> 32));
		put32(b + 4, (uint32_t)offs[k]);
		if (out_put(o, b, 8) < 0)
			goto done;
	}
	error = out_put(o, pack_sum, 20) < 0 || out_end(o, sum) < 0 ? -1 : 0;
done:
	free(ids);
	free(crcs);
	free(offs);
	return error;
}

static int open_tmp(out *o, char *path, size_t cap, const char *tmpdir, const char *what)
{
	snprintf(path, cap, "%s/merged.%s", tmpdir, what);
	o->size = 0;
	if (!(o->sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(o->sha, EVP_sha1(), NULL)) {
		o->fd = -1;
		return -1;
	}
	o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	return o->fd < 0 ? -1 : 0;
}

static void close_tmp(out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	EVP_MD_CTX_free(o->sha);
	o->fd = -1;
	o->sha = NULL;
}

/* the merged pack as a reader opens it: libgit2 checks its trailer
 * against the index and the count; then the first object of each source,
 * by its id, read from it */
static int check_merged(const char *idx_path, const src *v, size_t n)
{
	git_odb *odb = NULL;
	git_odb_backend *one = NULL;
	size_t i;
	int error = -1;

	if (git_odb_new(&odb) < 0 || git_odb_backend_one_pack(&one, idx_path) < 0 ||
	    git_odb_add_backend(odb, one, 1) < 0) {
		if (one && !one->odb)
			one->free(one);
		goto done;
	}
	for (i = 0; i < n; i++) {
		git_odb_object *obj;
		git_oid id;
		if (!v[i].n)
			continue;
		git_oid_fromraw(&id, v[i].ids);
		if (git_odb_read(&obj, odb, &id) < 0)
			goto done;
		git_odb_object_free(obj);
	}
	error = 0;
done:
	git_odb_free(odb);
	return error;
}

/* merge v[0..n): 1 merged, 0 not (an id twice: nothing changed), -1
 * failed. Written in a folder of its own (objects/pack/stet_merge_PID,
 * where no reader looks for packs), checked there, then moved in. */
static int merge(const char *dir, src *v, size_t n, stet_buf *warnings)
{
	char tmpdir[4096], tpack[4096], tidx[4096], hex[41], fin[4096];
	unsigned char psum[20];
	out p = { -1, NULL, 0 }, x = { -1, NULL, 0 };
	uint64_t total = 0;
	size_t i;
	int error = -1, r;

	for (i = 0; i < n; i++)
		total += v[i].n;
	if (total > UINT32_MAX)
		return 0;
	tpack[0] = tidx[0] = '\0';
	errno = 0;
	snprintf(tmpdir, sizeof(tmpdir), "%s/stet_merge_%ld", dir, (long)getpid());
	if (mkdir(tmpdir, 0755) < 0)
		return -1;
	if (open_tmp(&p, tpack, sizeof(tpack), tmpdir, "pack") < 0 ||
	    write_pack(&p, dir, v, n, (uint32_t)total, psum) < 0 || open_tmp(&x, tidx, sizeof(tidx), tmpdir, "idx") < 0)
		goto done;
	if ((r = write_idx(&x, v, n, (uint32_t)total, tpack, p.size + 20, psum)) != 0) {
		error = r > 0 ? 0 : -1;
		goto done;
	}
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", psum[i]);
	close_tmp(&p);
	close_tmp(&x);
	if (check_merged(tidx, v, n) < 0) {
		errno = 0;
		goto done;
	}
	/* the pack, then its index: a reader sees the pack complete */
	snprintf(fin, sizeof(fin), "%s/pack-%s.pack", dir, hex);
	if (access(fin, F_OK) == 0 || rename(tpack, fin) < 0)
		goto done;
	tpack[0] = '\0';
	snprintf(fin, sizeof(fin), "%s/pack-%s.idx", dir, hex);
	if (rename(tidx, fin) < 0)
		goto done;
	tidx[0] = '\0';
	if (fsync_dir(dir) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		snprintf(fin, sizeof(fin), "%s/%s.idx", dir, v[i].name);
		unlink(fin);
		snprintf(fin, sizeof(fin), "%s/%s.pack", dir, v[i].name);
		unlink(fin);
	}
	error = 1;
done:
	if (error < 0)
		stet_buf_printf(warnings, "%s: merging %zu packs failed (%s); packs left as they were\n", dir, n,
				errno ? strerror(errno) : "the merged pack did not check out");
	close_tmp(&p);
	close_tmp(&x);
	if (tpack[0])
		unlink(tpack);
	if (tidx[0])
		unlink(tidx);
	rmdir(tmpdir);
	return error;
}

int odb_merge_packs(stet_archive *a)
{
	stet_buf dir = STET_BUF_INIT, midx = STET_BUF_INIT;
	char *m = NULL;
	size_t msize = 0, n = 0, k, i;
	src *v = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int merged = 0;

	if (!a->packs)
		return 0; /* borrowed objects (alternates): left as they are */
	stet_buf_printf(&dir, "%s/objects/pack", a->commondir);
	stet_buf_printf(&midx, "%s/multi-pack-index", dir.ptr);
	if (stet_buf_check(&dir, "packs") < 0 || stet_buf_check(&midx, "packs") < 0 ||
	    !(v = stet_calloc(MERGE_MAX_PACKS, sizeof(*v))) || !(d = opendir(dir.ptr)))
		goto done;
	m = midx_names(midx.ptr, &msize);
	while ((de = readdir(d)) && n < MERGE_MAX_PACKS) {
		size_t l = strlen(de->d_name);
		char path[4096];
		if (l != 5 + 40 + 4 || strncmp(de->d_name, "pack-", 5) || strcmp(de->d_name + l - 4, ".idx"))
			continue;
		if (!(v[n].name = stet_strndup(de->d_name, l - 4)))
			goto done;
		snprintf(path, sizeof(path), "%s/%s", dir.ptr, de->d_name);
		if (in_midx(m, msize, v[n].name) || !plain(dir.ptr, v[n].name) || !(v[n].n = idx_count(path))) {
			free(v[n].name);
			v[n].name = NULL;
			continue;
		}
		n++;
	}
	qsort(v, n, sizeof(*v), by_count);
	if ((k = split_of(v, n)) < 2)
		goto done;
	for (i = 0; i < k; i++)
		if (read_idx(&v[i], dir.ptr) < 0)
			goto done; /* a pack not as expected: left as it is */
	merged = merge(dir.ptr, v, k, &a->warnings);
	if (merged > 0)
		odb_packs_changed(a);
done:
	if (d)
		closedir(d);
	for (i = 0; v && i < MERGE_MAX_PACKS; i++) {
		free(v[i].name);
		free(v[i].idx);
	}
	free(v);
	free(m);
	stet_error_clear();
	stet_buf_dispose(&dir);
	stet_buf_dispose(&midx);
	return merged > 0 ? (int)k : 0;
}
