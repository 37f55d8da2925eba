/*
 * The object database of a writing run. libgit2 checks, before it writes
 * an object, whether the object exists already; when it does not (nearly
 * always, for a new article's objects), it re-reads the folder of packs
 * and looks again. With one pack per checkpoint that re-read grows with
 * the archive: it was a fifth of a run's time at 100,000 articles. A run
 * holds the archive's lock, so no pack appears that stet did not write
 * itself: here the pack backend is wrapped so that it refreshes only when
 * stet says it wrote a pack (odb_packs_changed). Reads and writes are
 * libgit2's own; new objects go to the mempack, as before.
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

typedef struct {
	git_odb_backend parent;
	git_odb_backend *inner;
	int refresh_now;
} packs;

static git_odb_backend *in(git_odb_backend *b) { return ((packs *)b)->inner; }

static int p_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	return in(b)->read(data, len, type, in(b), oid);
}

static int p_read_prefix(git_oid *out, void **data, size_t *len, git_object_t *type, git_odb_backend *b,
			 const git_oid *oid, size_t n)
{
	return in(b)->read_prefix(out, data, len, type, in(b), oid, n);
}

static int p_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	return in(b)->read_header(len, type, in(b), oid);
}

static int p_exists(git_odb_backend *b, const git_oid *oid) { return in(b)->exists(in(b), oid); }

static int p_exists_prefix(git_oid *out, git_odb_backend *b, const git_oid *oid, size_t n)
{
	return in(b)->exists_prefix(out, in(b), oid, n);
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
	return in(b)->foreach(in(b), cb, payload);
}

static int p_refresh(git_odb_backend *b)
{
	packs *p = (packs *)b;
	if (!p->refresh_now)
		return 0; /* nothing else writes packs while the lock is held */
	p->refresh_now = 0;
	return p->inner->refresh(p->inner);
}

static void p_free(git_odb_backend *b)
{
	packs *p = (packs *)b;
	p->inner->free(p->inner);
	free(p);
}

int odb_open(stet_archive *a)
{
	stet_buf objects = STET_BUF_INIT, alt = STET_BUF_INIT;
	git_odb *odb = NULL;
	git_odb_backend *pack = NULL, *loose = NULL;
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
	if ((error = git_odb_new(&odb)) < 0 || (error = git_odb_backend_pack(&pack, objects.ptr)) < 0 ||
	    (error = git_odb_backend_loose(&loose, objects.ptr, -1, 0, 0, 0)) < 0) {
		error = stet_git_error(error, "opening the object store");
		goto done;
	}
	if (!(p = stet_calloc(1, sizeof(*p)))) {
		error = stet_error_oom();
		goto done;
	}
	git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION);
	p->inner = pack;
	pack = NULL;
	p->parent.read = p_read;
	p->parent.read_prefix = p_read_prefix;
	p->parent.read_header = p_read_header;
	p->parent.exists = p_exists;
	p->parent.exists_prefix = p_exists_prefix;
	p->parent.freshen = no_freshen;
	p->parent.foreach = p_foreach;
	p->parent.refresh = p_refresh;
	p->parent.free = p_free;
	/* the priorities of libgit2's default object store */
	if ((error = git_odb_add_backend(odb, &p->parent, 2)) < 0) {
		p_free(&p->parent);
		error = stet_git_error(error, "opening the object store");
		goto done;
	}
	p->inner->odb = odb;
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
	if (pack)
		pack->free(pack);
	git_odb_free(odb);
	if (error < 0)
		a->packs = NULL;
	stet_buf_dispose(&objects);
	stet_buf_dispose(&alt);
	return error;
}

int odb_packs_changed(stet_archive *a)
{
	if (a->packs)
		((packs *)a->packs)->refresh_now = 1;
	return git_odb_refresh(a->odb);
}

/* ---- the multi-pack-index ----
 *
 * A run writes a pack a checkpoint, never merged (repacking would delta
 * and compress every object again): 1,000 packs at 1,000,000 articles. An
 * object that is not in the newest packs was then looked for in each
 * pack's index in turn, and so by git readers too. A multi-pack-index (git's
 * objects/pack/multi-pack-index, written by libgit2's pack backend) finds
 * it with one search over all the packs it covers. It is written again
 * when the packs it does not cover are 16 or more and an eighth of those
 * it does: its cost (5 s at 1,000,000 articles) then comes once every so
 * many articles, however large the archive. It only speeds reading, so a
 * failure to write it is a warning.
 */

enum { MIDX_FRESH_MIN = 16, MIDX_FRESH_SHARE = 8 };

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
			if (strncmp(de->d_name, "pack_git2_", 10))
				continue;
			stet_buf_clear(&f);
			stet_buf_printf(&f, "%s/%s", dir.ptr, de->d_name);
			if (stet_buf_check(&f, "packs") == 0 && age_of(f.ptr) > LEFT_AFTER_SECONDS)
				unlink(f.ptr);
		}
		closedir(d);
	}
	stet_error_clear();
	stet_buf_dispose(&dir);
	stet_buf_dispose(&f);
}

/* the packs a multi-pack-index covers (its header), 0 if none or unreadable */
static size_t midx_covers(const char *file)
{
	unsigned char h[12];
	uint32_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return 0;
	got = read(fd, h, sizeof(h));
	close(fd);
	if (got != (ssize_t)sizeof(h) || memcmp(h, "MIDX", 4) || h[4] != 1)
		return 0;
	memcpy(&n, h + 8, 4);
	return ntohl(n);
}

int odb_index_packs(stet_archive *a)
{
	packs *p = (packs *)a->packs;
	stet_buf dir = STET_BUF_INIT, midx = STET_BUF_INIT, lock = STET_BUF_INIT;
	size_t npacks = 0, covered, fresh;
	long long age;
	struct dirent *de;
	DIR *d;

	if (!p || !p->inner->writemidx)
		return 0; /* borrowed objects (alternates): libgit2's odb as it is */
	stet_buf_printf(&dir, "%s/objects/pack", a->commondir);
	stet_buf_printf(&midx, "%s/multi-pack-index", dir.ptr);
	stet_buf_printf(&lock, "%s.lock", midx.ptr);
	if (stet_buf_check(&dir, "packs") < 0 || stet_buf_check(&midx, "packs") < 0 || stet_buf_check(&lock, "packs") < 0)
		goto done;
	if (!(d = opendir(dir.ptr)))
		goto done;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		npacks += l > 4 && !strcmp(de->d_name + l - 4, ".idx");
	}
	closedir(d);
	covered = midx_covers(midx.ptr);
	/* covering more than there are: packs were removed (git gc) */
	fresh = covered <= npacks ? npacks - covered : npacks;
	if (fresh < MIDX_FRESH_MIN || (covered <= npacks && fresh < covered / MIDX_FRESH_SHARE))
		goto done;
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
				lock.ptr, npacks);
		goto done;
	}
	p->refresh_now = 1;
	if (p->parent.refresh(&p->parent) < 0 || p->inner->writemidx(p->inner) < 0) {
		const git_error *e = git_error_last();
		stet_buf_printf(&a->warnings, "%s: not written (%s); it only speeds reading\n", midx.ptr,
				e && e->message ? e->message : "git error");
	}
done:
	stet_error_clear();
	stet_buf_dispose(&dir);
	stet_buf_dispose(&midx);
	stet_buf_dispose(&lock);
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
