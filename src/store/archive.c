/*
 * The archive: opening it (and its lock), deciding what an article is,
 * staging its commit in memory (libgit2's mempacks, odb.c), and checkpoints
 * that write the staged objects as one pack and only then move main
 * (flush.c). A run
 * killed before a checkpoint leaves main where it was; a pack written
 * without its ref update is harmless garbage that git gc collects.
 *
 * Invariants: main only ever points at a commit whose objects are all on
 * disk; the key cache names the commit it reflects; the work tree and the
 * index are brought up to date for the paths a checkpoint changed.
 */
#include "internal.h"
#include "stet/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

int stet_git_error(int code, const char *what)
{
	const git_error *e = git_error_last();
	return stet_error_set(code == GIT_ENOTFOUND ? STET_ENOTFOUND : code == GIT_ELOCKED ? STET_ELOCKED : STET_ERROR,
			      "%s: %s", what, e && e->message ? e->message : "git error");
}

const char *stet_verdict_name(stet_verdict v)
{
	static const char *const names[] = { "new", "unchanged", "revision", "repost", "alias", "near-duplicate",
					     "rejected" };
	return (unsigned)v < STET_ARRAY_SIZE(names) ? names[v] : "unknown";
}

const char *stet_grade_name(stet_grade g)
{
	static const char *const names[] = { "", "cosmetic", "minor", "substantive", "rewrite" };
	return (unsigned)g < STET_ARRAY_SIZE(names) ? names[g] : "";
}

void stet_event_dispose(stet_event *ev)
{
	free(ev->path);
	free(ev->key);
	free(ev->of);
	memset(ev, 0, sizeof(*ev));
	ev->distance = -1;
}

static int libgit2_up;

static int git_up(void)
{
	if (!libgit2_up) {
		if (git_libgit2_init() < 0)
			return stet_error_set(STET_ERROR, "libgit2 did not initialize");
		/* our own fsync on the pack and the ref: a crash must not lose them */
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
		libgit2_up = 1;
	}
	return 0;
}

/* ---- init ---- */

/* the first commit's tree: stet.yaml alone, from the work tree's file
 * (and its index entry) or, bare, straight into the object store */
static int first_tree(git_oid *tree_id, git_repository *repo, const char *dir)
{
	git_index *index = NULL;
	git_treebuilder *tb = NULL;
	stet_buf path = STET_BUF_INIT;
	git_oid blob;
	FILE *f;
	int error = 0;

	if (git_repository_is_bare(repo)) {
		if ((error = git_blob_create_from_buffer(&blob, repo, stet_default_config,
							 strlen(stet_default_config))) < 0 ||
		    (error = git_treebuilder_new(&tb, repo, NULL)) < 0 ||
		    (error = git_treebuilder_insert(NULL, tb, "stet.yaml", &blob, GIT_FILEMODE_BLOB)) < 0 ||
		    (error = git_treebuilder_write(tree_id, tb)) < 0)
			error = stet_git_error(error, dir);
		goto done;
	}
	stet_buf_printf(&path, "%s/stet.yaml", git_repository_workdir(repo));
	if ((error = stet_buf_check(&path, dir)) < 0)
		goto done;
	if (!(f = fopen(path.ptr, "w")) || fputs(stet_default_config, f) < 0 || fclose(f) != 0) {
		error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
		goto done;
	}
	if ((error = git_repository_index(&index, repo)) < 0 || (error = git_index_add_bypath(index, "stet.yaml")) < 0 ||
	    (error = git_index_write(index)) < 0 || (error = git_index_write_tree(tree_id, index)) < 0)
		error = stet_git_error(error, dir);
done:
	git_treebuilder_free(tb);
	git_index_free(index);
	stet_buf_dispose(&path);
	return error;
}

int stet_archive_init(const char *dir, int bare)
{
	git_repository *repo = NULL;
	git_repository_init_options opts;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, commit_id;
	int error;

	if ((error = git_up()) < 0)
		return error;
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	if (git_repository_open_ext(NULL, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0)
		return stet_error_set(STET_EEXISTS, "%s: already a git repository", dir);
	opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
	opts.initial_head = "main";
	if ((error = git_repository_init_ext(&repo, dir, &opts)) < 0) {
		error = stet_git_error(error, dir);
		goto done;
	}
	/* a bare repository keeps no reflog unless asked: a run's entry in it
	 * ("stet ingest: N commits") is how main's moves are read back */
	if (bare) {
		git_config *cfg = NULL;
		error = git_repository_config(&cfg, repo);
		if (!error)
			error = git_config_set_bool(cfg, "core.logAllRefUpdates", 1);
		git_config_free(cfg);
		if (error < 0) {
			error = stet_git_error(error, dir);
			goto done;
		}
	}
	if ((error = first_tree(&tree_id, repo, dir)) < 0)
		goto done;
	if ((error = git_tree_lookup(&tree, repo, &tree_id)) < 0 ||
	    (error = git_signature_now(&sig, "stet", "stet@localhost")) < 0 ||
	    (error = git_commit_create(&commit_id, repo, "HEAD", sig, sig, "UTF-8", "init: a stet archive\n", tree, 0,
				       NULL)) < 0) {
		error = stet_git_error(error, dir);
		goto done;
	}
done:
	git_tree_free(tree);
	git_signature_free(sig);
	git_repository_free(repo);
	return error;
}

/* ---- open, lock ---- */

static int take_lock(stet_archive *a, double wait_seconds)
{
	stet_buf path = STET_BUF_INIT;
	struct timespec start, now;
	int fd, error = 0;

	stet_buf_printf(&path, "%s/stet", a->gitdir);
	if (mkdir(path.ptr, 0755) < 0 && errno != EEXIST) {
		error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
		goto done;
	}
	stet_buf_puts(&path, "/lock");
	if ((error = stet_buf_check(&path, "lock")) < 0)
		goto done;
	if ((fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	/* flock: the kernel drops it when its holder dies, so a lock left by a
	 * killed run is taken over by the next one */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t r;
		double waited;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
			close(fd);
			goto done;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (waited >= wait_seconds) {
			r = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[r > 0 ? r : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			error = stet_error_set(STET_ELOCKED, "%s: archive is locked by pid %s", a->root,
					       pid[0] ? pid : "(unknown)");
			close(fd);
			goto done;
		}
		usleep(50000);
	}
	{
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
			error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
			close(fd);
			goto done;
		}
	}
	a->lock_fd = fd;
	/* when the run took the archive, by the file system's clock: its
	 * lock's time, set by the write that made the pid readable. A lock
	 * on main is judged made before or after this (flush.c) by its own
	 * file time, which that clock gives in coarse ticks, up to a few ms
	 * behind clock_gettime's: read after the pid was written, the
	 * process clock would put a lock made just after it before it */
	{
		struct stat st;
		if (fstat(fd, &st) == 0)
			a->locked_at = st.st_mtim;
		else
			clock_gettime(CLOCK_REALTIME, &a->locked_at);
	}
done:
	stet_buf_dispose(&path);
	return error;
}

static int read_tip(stet_archive *a)
{
	int error = git_reference_name_to_id(&a->tip, a->repo, MAIN_REF);
	if (error == GIT_ENOTFOUND) {
		a->have_tip = 0;
		return 0;
	}
	if (error < 0)
		return stet_git_error(error, "reading main");
	git_oid_cpy(&a->main_at, &a->tip);
	a->have_tip = 1;
	return 0;
}

/* a copy of a folder's name without libgit2's trailing '/' */
static char *folder_dup(const char *dir)
{
	char *c = stet_strdup(dir);
	size_t l = c ? strlen(c) : 0;
	if (l > 1 && c[l - 1] == '/')
		c[l - 1] = '\0';
	return c;
}

int stet_archive_open(stet_archive **out, const char *dir, int for_writing, double wait_seconds)
{
	stet_archive *a;
	const char *wd;
	int error;

	*out = NULL;
	if ((error = git_up()) < 0)
		return error;
	if (!(a = stet_calloc(1, sizeof(*a))))
		return stet_error_oom();
	a->lock_fd = -1;
	a->warnings = (stet_buf)STET_BUF_INIT;
	a->run_time = (long long)time(NULL);
	if ((error = git_repository_open_ext(&a->repo, dir, 0, NULL)) < 0) {
		error = error == GIT_ENOTFOUND
				? stet_error_set(STET_ENOTFOUND, "%s: not a stet archive (no git repository); see 'stet init'", dir)
				: stet_git_error(error, dir);
		goto done;
	}
	/* a bare archive's folder is the repository's */
	a->bare = !(wd = git_repository_workdir(a->repo));
	if (!(a->root = folder_dup(a->bare ? git_repository_path(a->repo) : wd)) ||
	    !(a->gitdir = folder_dup(git_repository_path(a->repo))) ||
	    !(a->commondir = folder_dup(git_repository_commondir(a->repo)))) {
		error = stet_error_oom();
		goto done;
	}
	/* a bare writer reads main's stet.yaml through its own object store,
	 * below: opening one reads the packs' multi-pack-index whole */
	if (!(a->bare && for_writing) && (error = config_load(a)) < 0)
		goto done;
	a->writer = for_writing;
	if (for_writing && (error = take_lock(a, wait_seconds)) < 0)
		goto done;
	if (for_writing) { /* what killed runs left, removed under the lock */
		odb_sweep(a);
		keys_sweep(a);
	}
	/* after the lock: what another run committed meanwhile counts */
	if ((error = read_tip(a)) < 0 || (error = keys_load(a)) < 0)
		goto done;
	if (for_writing) {
		if ((error = odb_open(a)) < 0 || (a->bare && (error = config_load(a)) < 0))
			goto done;
		/* what a writing run reads is mostly what it has just written, and
		 * what it creates refers to objects it has just written or read:
		 * libgit2 would hash every object it reads again, and look up every
		 * entry of every tree it writes in every pack (git does neither).
		 * Process-wide settings: a process writes to one archive. */
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
		if ((error = odb_staging_open(a)) < 0)
			goto done;
		if (!a->have_tip) {
			error = stet_error_set(STET_ECORRUPT, "%s: branch main is missing; see 'stet init'", a->root);
			goto done;
		}
		/* a killed run may have left the cache behind main (keys_load
		 * rebuilt it) and the work tree behind main (synced here) */
		if ((error = stet_store_sync_worktree(a)) < 0)
			goto done;
		/* a journal the last run left past its limit: the new snapshot
		 * now, on a thread of its own while the run goes on (keys.c), not
		 * at a checkpoint of this run, where the run waits for it */
		if (keys_due(a) && (error = keys_compact_start(a)) < 0)
			goto done;
	}
done:
	if (error < 0)
		stet_archive_free(a);
	else
		*out = a;
	return error;
}

const char *stet_archive_root(const stet_archive *a) { return a->root; }
const char *stet_archive_hook(const stet_archive *a) { return a->hook; }
size_t stet_archive_commits(const stet_archive *a) { return a->commits_total; }

void stet_archive_free(stet_archive *a)
{
	size_t i;

	if (!a)
		return;
	if (a->writer && a->staging)
		stet_archive_finish(a); /* best effort: the caller should have finished (then it does nothing) */
	for (i = 0; i < a->npending; i++)
		free(a->pending_names[i]);
	free(a->pending);
	free(a->pending_names);
	for (i = 0; i < a->nchanged; i++)
		free(a->changed[i]);
	free(a->changed);
	flush_free(a); /* before the object store its thread reads */
	index_free(a);
	keymap_dispose(&a->keys);
	git_odb_free(a->odb); /* the staging backend is freed with the odb */
	odb_hasher_free(a->hasher);
	git_repository_free(a->repo);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	free(a->root);
	free(a->gitdir);
	free(a->commondir);
	stet_buf_dispose(&a->warnings);
	free(a->committer_name);
	free(a->committer_email);
	free(a->hook);
	free(a);
}

const char *stet_archive_warnings(const stet_archive *a)
{
	return a->warnings.ptr ? a->warnings.ptr : "";
}
