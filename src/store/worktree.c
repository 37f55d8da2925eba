/*
 * Keeping the work tree in step with main after a checkpoint. The files a
 * checkpoint changed are known, and so is their content: each is written
 * (to a temporary name, then renamed over) and its index entry set from
 * the written file, then the index is written once. libgit2's checkout
 * did the same but compared the whole index and work tree to find them,
 * a cost that grew with the archive (a sixth of a run at 100,000
 * articles). Where main has a folder and the work tree has something
 * else (a symbolic link someone made, a file), that thing is removed and
 * a folder made, as `git checkout -f` does: nothing is ever written
 * through a link to outside the archive (libgit2's checkout, used before,
 * did write through a linked folder).
 *
 * The files are written on a thread of their own while the run goes on
 * committing: making thousands of files and folders is kernel work that
 * took as long as everything else of a run (docs/performance.md). The
 * main thread reads the files' content out of git (libgit2 is used on
 * the main thread only) and hands it over; the thread owns the git index
 * (opened once a run, its own object, not the repository's) and the
 * "checkout-pending" marker, which it removes when its files are
 * written. The next checkpoint waits for it before moving main again,
 * so one job at most is running, and the marker is set only while main
 * is ahead of the files.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* make the folders of rel (a path relative to root): a missing one is
 * made, and what is not a plain folder (a link, a file) is replaced by one */
static int folders(stet_buf *full, const char *root, const char *rel)
{
	const char *slash;
	struct stat st;
	int error;

	for (slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		stet_buf_clear(full);
		stet_buf_printf(full, "%s/%.*s", root, (int)(slash - rel), rel);
		if ((error = stet_buf_check(full, "path")) < 0)
			return error;
		if (lstat(full->ptr, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		if ((errno == ENOENT || unlink(full->ptr) == 0) && (mkdir(full->ptr, 0777) == 0 || errno == EEXIST) &&
		    lstat(full->ptr, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		return stet_error_set(STET_EIO, "%s: cannot make it a folder: %s", full->ptr, strerror(errno));
	}
	return 0;
}

typedef struct {
	char *path;
	void *data;
	size_t size;
	git_oid id;
} wt_file;

struct wt_writer {
	stet_archive *a;   /* its root and gitdir only: they never change */
	git_index *index;  /* the work tree's index, opened by the first job */
	wt_file *files;
	size_t n;
	pthread_t thread;
	int running;
	int error;         /* the last job's: 0, or a STET_E* code with msg */
	char msg[1024];
};

static int write_one(wt_writer *w, const wt_file *f)
{
	stet_archive *a = w->a;
	const char *rel = f->path;
	stet_buf full = STET_BUF_INIT, tmp = STET_BUF_INIT;
	git_index_entry e;
	struct stat st;
	int fd = -1, error = 0;

	if (rel[0] == '/' || strstr(rel, "/../") || !strncmp(rel, "../", 3)) {
		error = stet_error_set(STET_ECORRUPT, "%s: not a path inside the archive", rel);
		goto done;
	}
	if ((error = folders(&full, a->root, rel)) < 0)
		goto done;
	stet_buf_clear(&full);
	stet_buf_printf(&full, "%s/%s", a->root, rel);
	/* the temporary file lives under .git (same file system as stet init
	 * makes it), so a run killed mid-write leaves nothing in the work tree;
	 * one writer holds the lock, so one name serves */
	stet_buf_printf(&tmp, "%s/stet/worktree-tmp", a->gitdir);
	if ((error = stet_buf_check(&full, "path")) < 0 || (error = stet_buf_check(&tmp, "path")) < 0)
		goto done;
	unlink(tmp.ptr); /* one a killed run left */
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666)) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (stet_write_all(fd, f->data, f->size) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = stet_error_set(STET_EIO, "%s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, full.ptr) < 0 || lstat(full.ptr, &st) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", full.ptr, strerror(errno));
		goto done;
	}
	memset(&e, 0, sizeof(e));
	e.ctime.seconds = (int32_t)st.st_ctim.tv_sec;
	e.ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
	e.mtime.seconds = (int32_t)st.st_mtim.tv_sec;
	e.mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
	e.dev = (uint32_t)st.st_dev;
	e.ino = (uint32_t)st.st_ino;
	e.mode = GIT_FILEMODE_BLOB;
	e.uid = (uint32_t)st.st_uid;
	e.gid = (uint32_t)st.st_gid;
	e.file_size = (uint32_t)st.st_size;
	git_oid_cpy(&e.id, &f->id);
	e.path = rel;
	if ((error = git_index_add(w->index, &e)) < 0)
		error = stet_git_error(error, rel);
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp.ptr);
	} else if (error < 0 && tmp.size) {
		unlink(tmp.ptr);
	}
	stet_buf_dispose(&full);
	stet_buf_dispose(&tmp);
	return error;
}

static void files_free(wt_writer *w)
{
	size_t i;
	for (i = 0; i < w->n; i++) {
		free(w->files[i].path);
		free(w->files[i].data);
	}
	free(w->files);
	w->files = NULL;
	w->n = 0;
}

/* the thread: every file of the job, the index, then the marker */
static void *job(void *arg)
{
	wt_writer *w = arg;
	stet_buf path = STET_BUF_INIT;
	size_t i;
	int error = 0;

	if (!w->index) {
		stet_buf_printf(&path, "%s/index", w->a->gitdir);
		if ((error = stet_buf_check(&path, "index")) == 0 && (error = git_index_open(&w->index, path.ptr)) < 0)
			error = stet_git_error(error, "opening the index");
		stet_buf_dispose(&path);
	}
	/* someone may have staged something between runs or checkpoints */
	if (!error && (error = git_index_read(w->index, 0)) < 0)
		error = stet_git_error(error, "reading the index");
	for (i = 0; i < w->n && !error; i++)
		error = write_one(w, &w->files[i]);
	if (!error && (error = git_index_write(w->index)) < 0)
		error = stet_git_error(error, "writing the index");
	if (!error)
		error = stet_store_mark_checkout(w->a, 0);
	if (error < 0) {
		w->error = stet_error_code();
		snprintf(w->msg, sizeof(w->msg), "%s", stet_error_last());
	}
	files_free(w);
	return NULL;
}

int worktree_wait(stet_archive *a)
{
	wt_writer *w = a->wt;

	if (!w || !w->running)
		return 0;
	pthread_join(w->thread, NULL);
	w->running = 0;
	if (w->error) {
		int code = w->error;
		w->error = 0;
		return stet_error_set(code, "updating the work tree: %s", w->msg);
	}
	return 0;
}

static int by_path(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int worktree_write(stet_archive *a)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	wt_writer *w;
	size_t i;
	int error;

	if ((error = worktree_wait(a)) < 0)
		return error;
	if (!a->wt) {
		if (!(a->wt = stet_calloc(1, sizeof(*a->wt))))
			return stet_error_oom();
		a->wt->a = a;
	}
	w = a->wt;
	/* a path changed twice since the checkpoint is written once */
	qsort(a->changed, a->nchanged, sizeof(*a->changed), by_path);
	if (a->nchanged && !(w->files = stet_calloc(a->nchanged, sizeof(*w->files))))
		return stet_error_oom();
	if ((error = git_commit_lookup(&commit, a->repo, &a->tip)) < 0 || (error = git_commit_tree(&tree, commit)) < 0) {
		error = stet_git_error(error, "updating the work tree");
		goto done;
	}
	for (i = 0; i < a->nchanged; i++) {
		git_tree_entry *te = NULL;
		git_blob *blob = NULL;
		wt_file *f = &w->files[w->n];
		if (i && !strcmp(a->changed[i], a->changed[i - 1]))
			continue;
		if ((error = git_tree_entry_bypath(&te, tree, a->changed[i])) < 0 ||
		    (error = git_blob_lookup(&blob, a->repo, git_tree_entry_id(te))) < 0) {
			git_tree_entry_free(te);
			error = stet_git_error(error, a->changed[i]);
			goto done;
		}
		git_oid_cpy(&f->id, git_tree_entry_id(te));
		f->size = (size_t)git_blob_rawsize(blob);
		f->path = stet_strdup(a->changed[i]);
		f->data = stet_malloc(f->size ? f->size : 1);
		if (f->data)
			memcpy(f->data, git_blob_rawcontent(blob), f->size);
		git_blob_free(blob);
		git_tree_entry_free(te);
		w->n++;
		if (!f->path || !f->data) {
			error = stet_error_oom();
			goto done;
		}
	}
	if (pthread_create(&w->thread, NULL, job, w) != 0) {
		error = stet_error_set(STET_ERROR, "updating the work tree: cannot start a thread");
		goto done;
	}
	w->running = 1;
done:
	if (error < 0)
		files_free(w);
	git_tree_free(tree);
	git_commit_free(commit);
	return error;
}

void worktree_free(stet_archive *a)
{
	if (!a->wt)
		return;
	worktree_wait(a);
	stet_error_clear();
	files_free(a->wt);
	git_index_free(a->wt->index);
	free(a->wt);
	a->wt = NULL;
}
