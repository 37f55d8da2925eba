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
 * The files are written by the checkpoint's thread (flush.c) while the
 * run goes on committing: making thousands of files and folders is
 * kernel work that took as long as everything else of a run
 * (docs/performance.md). worktree_collect, on the run's thread, reads
 * their content out of main's tree; worktree_files, on the checkpoint's
 * thread (and a second one, for half of them), writes them, then their
 * entries into the git index (its own object, opened once a run, not the
 * repository's).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* make the folders of rel (a path relative to root): a missing one is
 * made, and what is not a plain folder (a link, a file) is replaced by one.
 * rel's first `known` bytes, up to a '/', are folders this call of
 * worktree_files has made or checked already (0: none) */
static int folders(stet_buf *full, const char *root, const char *rel, size_t known)
{
	const char *slash;
	struct stat st;
	int error, there;

	for (slash = strchr(rel + known + (known > 0), '/'); slash; slash = strchr(slash + 1, '/')) {
		stet_buf_clear(full);
		stet_buf_printf(full, "%s/%.*s", root, (int)(slash - rel), rel);
		if ((error = stet_buf_check(full, "path")) < 0)
			return error;
		if ((there = lstat(full->ptr, &st) == 0) && S_ISDIR(st.st_mode))
			continue;
		/* nothing there, or something else, removed (a link, not what
		 * it points to): a folder made here needs no second look; one
		 * that appeared meanwhile (EEXIST) does */
		if ((there ? unlink(full->ptr) == 0 : errno == ENOENT) &&
		    (mkdir(full->ptr, 0777) == 0 || (errno == EEXIST && lstat(full->ptr, &st) == 0 && S_ISDIR(st.st_mode))))
			continue;
		return stet_error_set(STET_EIO, "%s: cannot make it a folder: %s", full->ptr, strerror(errno));
	}
	return 0;
}

/* a path from a tree names something inside the work tree */
static int inside(const char *rel)
{
	size_t n = strlen(rel);
	if (!n || rel[0] == '/' || strstr(rel, "/../") || !strncmp(rel, "../", 3) ||
	    (n >= 3 && !strcmp(rel + n - 3, "/..")) || !strcmp(rel, ".."))
		return stet_error_set(STET_ECORRUPT, "%s: not a path inside the archive", rel);
	return 0;
}

/* f written at its place, its folders made; *st: the written file's, for
 * its index entry. A path nothing has yet gets the file made there at
 * once, as git's checkout makes it (the stat taken from the open file, as
 * git does). A path that is taken (an older version, a link someone
 * made) gets the file written to the temporary name tmpname and renamed
 * over it: nothing is written through a link, and a reader never sees
 * half of a file it saw whole. A run killed while making a new file
 * leaves part of it, at a path main has: the next run writes it again
 * (the checkout-pending marker, flush.c). Renaming every file in from
 * .git/stet was 2,662 of a corpus run's cross-folder renames, each taken
 * under the file system's one rename lock, which the two writers share */
static int write_file(const char *root, const char *tmpname, const wt_file *f, size_t known, struct stat *st)
{
	const char *rel = f->path;
	stet_buf full = STET_BUF_INIT;
	int fd = -1, error = 0;

	if ((error = inside(rel)) < 0)
		goto done;
	if ((error = folders(&full, root, rel, known)) < 0)
		goto done;
	stet_buf_clear(&full);
	stet_buf_printf(&full, "%s/%s", root, rel);
	if ((error = stet_buf_check(&full, "path")) < 0)
		goto done;
	if ((fd = open(full.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666)) >= 0) {
		if (stet_write_all(fd, f->data, f->size) < 0 || fstat(fd, st) < 0) {
			error = stet_error_set(STET_EIO, "%s: %s", full.ptr, strerror(errno));
			close(fd);
			unlink(full.ptr); /* made here: no part of it is left */
		} else if (close(fd) < 0) {
			error = stet_error_set(STET_EIO, "%s: %s", full.ptr, strerror(errno));
			unlink(full.ptr);
		}
		fd = -1;
		goto done_made;
	}
	if (errno != EEXIST) {
		error = stet_error_set(STET_EIO, "%s: %s", full.ptr, strerror(errno));
		goto done_made;
	}
	if ((fd = open(tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666)) < 0 && errno == EEXIST &&
	    unlink(tmpname) == 0) /* one a killed run left */
		fd = open(tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", tmpname, strerror(errno));
		goto done;
	}
	if (stet_write_all(fd, f->data, f->size) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", tmpname, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = stet_error_set(STET_EIO, "%s: %s", tmpname, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmpname, full.ptr) < 0 || lstat(full.ptr, st) < 0)
		error = stet_error_set(STET_EIO, "%s: %s", full.ptr, strerror(errno));
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmpname);
	} else if (error < 0) {
		unlink(tmpname);
	}
done_made:
	stet_buf_dispose(&full);
	return error;
}

static int add_entry(git_index *index, const wt_file *f, const struct stat *st)
{
	git_index_entry e;
	int error;

	memset(&e, 0, sizeof(e));
	e.ctime.seconds = (int32_t)st->st_ctim.tv_sec;
	e.ctime.nanoseconds = (uint32_t)st->st_ctim.tv_nsec;
	e.mtime.seconds = (int32_t)st->st_mtim.tv_sec;
	e.mtime.nanoseconds = (uint32_t)st->st_mtim.tv_nsec;
	e.dev = (uint32_t)st->st_dev;
	e.ino = (uint32_t)st->st_ino;
	e.mode = GIT_FILEMODE_BLOB;
	e.uid = (uint32_t)st->st_uid;
	e.gid = (uint32_t)st->st_gid;
	e.file_size = (uint32_t)st->st_size;
	git_oid_cpy(&e.id, &f->id);
	e.path = f->path;
	if ((error = git_index_add(index, &e)) < 0)
		error = stet_git_error(error, f->path);
	return error;
}

/* one writer's run of the files, in path order, and its temporary name,
 * under .git (the same file system as stet init makes it), so that a run
 * killed mid-write leaves nothing in the work tree; one run holds the
 * lock, so a name a writer serves */
typedef struct {
	const char *root;
	const wt_file *files;
	struct stat *st;
	size_t from, to;
	stet_buf tmp;
	int error;
	char msg[1024]; /* its error: errors are the thread's own */
} writer;

static void *write_run(void *arg)
{
	writer *w = arg;
	size_t i, k;
	for (i = w->from; i < w->to && !w->error; i++) {
		/* the folders the file before was written in, as far as this
		 * one's path shares them, are there: each is looked at once
		 * (the files come in path order; four lstat calls a file were
		 * a third of writing it) */
		size_t known = 0;
		for (k = 0; i > w->from && w->files[i].path[k] && w->files[i].path[k] == w->files[i - 1].path[k]; k++)
			if (w->files[i].path[k] == '/')
				known = k;
		if ((w->error = write_file(w->root, w->tmp.ptr, &w->files[i], known, &w->st[i])) < 0)
			snprintf(w->msg, sizeof(w->msg), "%s", stet_error_last());
	}
	return NULL;
}

void worktree_files_free(wt_file *files, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].data);
	}
	free(files);
}

int worktree_index_open(git_index **index, const char *gitdir)
{
	stet_buf path = STET_BUF_INIT;
	int error;

	if (*index)
		return 0;
	stet_buf_printf(&path, "%s/index", gitdir);
	if ((error = stet_buf_check(&path, "index")) == 0 && (error = git_index_open(index, path.ptr)) < 0)
		error = stet_git_error(error, "opening the index");
	stet_buf_dispose(&path);
	return error;
}

/* Two writers, each half of the files, from WT_TWO files on: making files
 * and folders is kernel work, and the run's thread, waiting for the
 * checkpoint or done, leaves a core to it (docs/performance.md) */
enum { WT_TWO = 64 };

int worktree_files(const char *root, const char *gitdir, git_index **index, const wt_file *files, size_t n)
{
	writer w[2];
	struct stat *st = NULL;
	pthread_t thread;
	size_t i, nw = n >= WT_TWO ? 2 : 1;
	int error = 0, threaded = 0;

	if (!*index && (error = worktree_index_open(index, gitdir)) < 0)
		return error;
	if (!n)
		return 0;
	if (!(st = stet_calloc(n, sizeof(*st))))
		return stet_error_oom();
	memset(w, 0, sizeof(w));
	for (i = 0; i < nw; i++) {
		w[i].root = root;
		w[i].files = files;
		w[i].st = st;
		w[i].from = n * i / nw;
		w[i].to = n * (i + 1) / nw;
		stet_buf_init(&w[i].tmp, 0);
		stet_buf_printf(&w[i].tmp, i ? "%s/stet/worktree-tmp-%zu" : "%s/stet/worktree-tmp", gitdir, i);
		if ((error = stet_buf_check(&w[i].tmp, "path")) < 0)
			goto done;
		unlink(w[i].tmp.ptr); /* one a killed run left: new files never use it */
	}
	if (nw > 1)
		threaded = pthread_create(&thread, NULL, write_run, &w[1]) == 0;
	write_run(&w[0]);
	if (threaded)
		pthread_join(thread, NULL);
	else if (nw > 1)
		write_run(&w[1]);
	for (i = 0; i < nw && !error; i++)
		if (w[i].error < 0)
			error = stet_error_set(w[i].error, "%s", w[i].msg);
	for (i = 0; i < n && !error; i++)
		error = add_entry(*index, &files[i], &st[i]);
done:
	for (i = 0; i < nw; i++)
		stet_buf_dispose(&w[i].tmp);
	free(st);
	return error;
}

int worktree_index_write(git_index *index)
{
	int error = git_index_write(index);
	return error < 0 ? stet_git_error(error, "writing the index") : 0;
}

/* a path main no longer has: its file and its index entry go */
static int remove_one(const char *root, git_index *index, const char *rel)
{
	stet_buf full = STET_BUF_INIT;
	const char *slash;
	struct stat st;
	int error, real = 1;

	if ((error = inside(rel)) < 0)
		return error;
	/* through plain folders only: never unlink through a link to elsewhere */
	for (slash = strchr(rel, '/'); slash && real && !error; slash = strchr(slash + 1, '/')) {
		stet_buf_clear(&full);
		stet_buf_printf(&full, "%s/%.*s", root, (int)(slash - rel), rel);
		if ((error = stet_buf_check(&full, "path")) == 0)
			real = lstat(full.ptr, &st) == 0 && S_ISDIR(st.st_mode);
	}
	stet_buf_clear(&full);
	stet_buf_printf(&full, "%s/%s", root, rel);
	if (!error && real && (error = stet_buf_check(&full, "path")) == 0 && unlink(full.ptr) < 0 && errno != ENOENT)
		error = stet_error_set(STET_EIO, "%s: %s", full.ptr, strerror(errno));
	if (!error && (error = git_index_remove_bypath(index, rel)) < 0)
		error = stet_git_error(error, rel);
	stet_buf_dispose(&full);
	return error;
}

/* f: the file at path with blob id's content */
static int file_of_blob(wt_file *f, git_repository *repo, const char *path, const git_oid *id)
{
	git_blob *blob = NULL;
	int error;

	if ((error = git_blob_lookup(&blob, repo, id)) < 0)
		return stet_git_error(error, path);
	git_oid_cpy(&f->id, id);
	f->size = (size_t)git_blob_rawsize(blob);
	f->path = stet_strdup(path);
	f->data = stet_malloc(f->size ? f->size : 1);
	if (f->data)
		memcpy(f->data, git_blob_rawcontent(blob), f->size);
	git_blob_free(blob);
	return f->path && f->data ? 0 : stet_error_oom();
}

int worktree_resync(stet_archive *a, const git_oid *base)
{
	git_commit *from_c = NULL, *to_c = NULL;
	git_tree *from = NULL, *to = NULL;
	git_diff *diff = NULL;
	git_index *index = NULL;
	wt_file *files = NULL;
	size_t i, n = 0, nd;
	int error;

	if ((error = git_commit_lookup(&from_c, a->repo, base)) < 0 || (error = git_commit_tree(&from, from_c)) < 0 ||
	    (error = git_commit_lookup(&to_c, a->repo, &a->tip)) < 0 || (error = git_commit_tree(&to, to_c)) < 0 ||
	    (error = git_diff_tree_to_tree(&diff, a->repo, from, to, NULL)) < 0) {
		error = stet_git_error(error, "comparing the work tree's commit with main");
		goto done;
	}
	if ((error = worktree_index_open(&index, a->gitdir)) < 0)
		goto done;
	nd = git_diff_num_deltas(diff);
	if (nd && !(files = stet_calloc(nd, sizeof(*files)))) {
		error = stet_error_oom();
		goto done;
	}
	for (i = 0; i < nd && !error; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_DELETED)
			error = remove_one(a->root, index, d->old_file.path);
		else if (d->new_file.mode == GIT_FILEMODE_BLOB) /* stet writes plain files only */
			error = file_of_blob(&files[n++], a->repo, d->new_file.path, &d->new_file.id);
	}
	if (!error && (error = worktree_files(a->root, a->gitdir, &index, files, n)) == 0)
		error = worktree_index_write(index);
done:
	worktree_files_free(files, n);
	git_index_free(index);
	git_diff_free(diff);
	git_tree_free(from);
	git_tree_free(to);
	git_commit_free(from_c);
	git_commit_free(to_c);
	return error;
}

static int by_path(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int worktree_collect(stet_archive *a, wt_file **out, size_t *nout)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	wt_file *files = NULL;
	size_t i, n = 0;
	int error;

	*out = NULL;
	*nout = 0;
	/* a path changed twice since the checkpoint is written once */
	qsort(a->changed, a->nchanged, sizeof(*a->changed), by_path);
	if (a->nchanged && !(files = stet_calloc(a->nchanged, sizeof(*files))))
		return stet_error_oom();
	if ((error = git_commit_lookup(&commit, a->repo, &a->tip)) < 0 || (error = git_commit_tree(&tree, commit)) < 0) {
		error = stet_git_error(error, "updating the work tree");
		goto done;
	}
	for (i = 0; i < a->nchanged; i++) {
		git_tree_entry *te = NULL;
		if (i && !strcmp(a->changed[i], a->changed[i - 1]))
			continue;
		if ((error = git_tree_entry_bypath(&te, tree, a->changed[i])) < 0) {
			error = stet_git_error(error, a->changed[i]);
			goto done;
		}
		error = file_of_blob(&files[n++], a->repo, a->changed[i], git_tree_entry_id(te));
		git_tree_entry_free(te);
		if (error < 0)
			goto done;
	}
done:
	git_tree_free(tree);
	git_commit_free(commit);
	if (error < 0)
		worktree_files_free(files, n);
	else {
		*out = files;
		*nout = n;
	}
	return error;
}
