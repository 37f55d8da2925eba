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
 */
#include "internal.h"

#include <errno.h>
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

static int write_one(stet_archive *a, git_index *index, git_tree *tree, const char *rel)
{
	stet_buf full = STET_BUF_INIT, tmp = STET_BUF_INIT;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	git_index_entry e;
	struct stat st;
	int fd = -1, error = 0;

	if (rel[0] == '/' || strstr(rel, "/../") || !strncmp(rel, "../", 3)) {
		error = stet_error_set(STET_ECORRUPT, "%s: not a path inside the archive", rel);
		goto done;
	}
	if ((error = folders(&full, a->root, rel)) < 0)
		goto done;
	if ((error = git_tree_entry_bypath(&te, tree, rel)) < 0 ||
	    (error = git_blob_lookup(&blob, a->repo, git_tree_entry_id(te))) < 0) {
		error = stet_git_error(error, rel);
		goto done;
	}
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
	if (stet_write_all(fd, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0) {
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
	git_oid_cpy(&e.id, git_tree_entry_id(te));
	e.path = rel;
	if ((error = git_index_add(index, &e)) < 0)
		error = stet_git_error(error, rel);
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp.ptr);
	} else if (error < 0 && tmp.size) {
		unlink(tmp.ptr);
	}
	git_blob_free(blob);
	git_tree_entry_free(te);
	stet_buf_dispose(&full);
	stet_buf_dispose(&tmp);
	return error;
}

int worktree_write(stet_archive *a)
{
	git_index *index = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	size_t i;
	int error;

	if ((error = git_repository_index(&index, a->repo)) < 0 || (error = git_index_read(index, 0)) < 0 ||
	    (error = git_commit_lookup(&commit, a->repo, &a->tip)) < 0 || (error = git_commit_tree(&tree, commit)) < 0) {
		error = stet_git_error(error, "updating the work tree");
		goto done;
	}
	for (i = 0; i < a->nchanged && !error; i++)
		error = write_one(a, index, tree, a->changed[i]);
	if (!error && (error = git_index_write(index)) < 0)
		error = stet_git_error(error, "writing the index");
done:
	git_tree_free(tree);
	git_commit_free(commit);
	git_index_free(index);
	return error;
}
