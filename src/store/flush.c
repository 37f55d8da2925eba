/*
 * Checkpoints, written on a thread of their own. At a checkpoint the run
 * hands over what it wrote since the last one: the new objects (frozen in
 * their mempack, odb.c), the commit main moves to, the key cache's batch
 * (rendered on the run's thread: it reads the key map) and the work
 * tree's files (their content read out of main's tree). The thread then
 * does, in the order that keeps the archive whole if the process dies at
 * any moment (docs/architecture.md):
 *
 *   1. pack the objects (the pack and its index on disk, synced);
 *   2. set the "checkout-pending" marker, naming the commit the work
 *      tree and the git index are at (main is about to be ahead of them;
 *      a marker already set by this run's first checkpoint stays);
 *   3. move main (only if it is still where this run found it or last
 *      put it: else the run stops, see move_main);
 *   4. write the key cache (a journal batch naming the new main);
 *   5. write the work tree's files, and their entries into the git index
 *      in memory.
 *
 * The git index (an entry per article: 17 MB at 100,000 articles) is
 * written once, at the end of the run (flush_finish), which then removes
 * the marker. A run killed before that leaves the marker: the next one
 * writes the files that differ between the commit it names and main
 * (worktree_resync), as many as the killed run committed.
 *
 * Meanwhile the run goes on deciding and committing in memory: it writes
 * nothing to disk, so one checkpoint's thread at a time is all the
 * ordering needed. The next checkpoint waits for it first. Packing,
 * compressing and making files were half of a run's time (docs/
 * performance.md).
 *
 * The thread uses libgit2 through its own handle on the repository (for
 * main) and its own git index; the run's handle is used on the run's
 * thread only. The pack is written from the frozen mempack (pack.c),
 * which both threads read, and neither writes, until the checkpoint is
 * done.
 */
#include "internal.h"

#include <git2/sys/repository.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct flusher {
	stet_archive *a;         /* its folders and locked_at only: they never change */
	git_repository *repo;    /* the thread's handle, opened by the first job */
	git_index *index;        /* the work tree's index, opened when first needed */
	/* the job */
	git_odb_backend *frozen;
	char pack_name[PACK_IDX_NAME]; /* the written pack's index ("": none) */
	git_oid *ids;
	char **names;
	size_t nids;
	git_oid tip;
	git_oid main_at;         /* where main must still be: the run's commits descend from it */
	size_t commits;
	keys_batch keys;
	int worktree;            /* write the files: a work tree with main checked out */
	int index_pending;       /* entries in index not yet written; the marker is set */
	int prefetch;            /* the running job only reads the git index */
	int last;                /* the run's last checkpoint: the run waits for it */
	wt_file *files;
	size_t nfiles;
	/* the thread */
	pthread_t thread;
	int running, threaded;
	int error;               /* a failed checkpoint's code, kept: nothing more is written */
	char msg[1024];
};

/* the archive could not be written: the run stops, with this error
 * (the last on this thread), from now on */
static void keep_error(flusher *f, int error)
{
	f->error = error == STET_ENOMEM || error == STET_ECORRUPT ? error : STET_EIO;
	snprintf(f->msg, sizeof(f->msg), "%s", stet_error_last());
}

static int pack(flusher *f)
{
	stet_buf dir = STET_BUF_INIT;
	int error;

	stet_buf_printf(&dir, "%s/objects/pack", f->a->gitdir);
	if ((error = stet_buf_check(&dir, "the pack's folder")) == 0)
		/* the run's last: nothing else to do meanwhile, so on both cores */
		error = pack_write(dir.ptr, f->frozen, f->ids, f->names, f->nids, f->last ? 2 : 1, f->pack_name);
	stet_buf_dispose(&dir);
	return error;
}

/* main's lock file, if it was made before this run took the archive's
 * lock: a run killed while it moved main left it (git holds a ref's lock
 * for the moment of an update, and no other stet run writes main while
 * this one holds the archive). Removed: 1. */
static int take_over_main_lock(flusher *f)
{
	stet_buf path = STET_BUF_INIT;
	const struct timespec *t = &f->a->locked_at;
	struct stat st;
	int taken = 0;

	stet_buf_printf(&path, "%s/refs/heads/main.lock", f->a->commondir);
	if (stet_buf_check(&path, "main's lock") == 0 && stat(path.ptr, &st) == 0 &&
	    (st.st_mtim.tv_sec < t->tv_sec || (st.st_mtim.tv_sec == t->tv_sec && st.st_mtim.tv_nsec < t->tv_nsec)))
		taken = unlink(path.ptr) == 0;
	stet_error_clear();
	stet_buf_dispose(&path);
	return taken;
}

/* main moves from where the run found it (or its last checkpoint put it)
 * to the checkpoint's commit, or not at all: a commit pushed or made there
 * during the run would be lost from main, so the run stops instead */
static int move_main(flusher *f)
{
	git_reference *ref = NULL;
	stet_buf logmsg = STET_BUF_INIT;
	char was[GIT_OID_HEXSZ + 1], now[GIT_OID_HEXSZ + 1];
	git_oid cur;
	int error, tries;

	stet_buf_printf(&logmsg, "stet ingest: %zu commit%s", f->commits, f->commits == 1 ? "" : "s");
	if ((error = stet_buf_check(&logmsg, "reflog")) < 0)
		goto done;
	/* a push or a commit holds main's lock for a moment: wait it out (up
	 * to 2 s), then see where it left main */
	for (tries = 0; (error = git_reference_create_matching(&ref, f->repo, MAIN_REF, &f->tip, 1, &f->main_at,
								 logmsg.ptr)) == GIT_ELOCKED && tries < 200; tries++)
		usleep(10000);
	if (error == GIT_ELOCKED && take_over_main_lock(f))
		error = git_reference_create_matching(&ref, f->repo, MAIN_REF, &f->tip, 1, &f->main_at, logmsg.ptr);
	if (error == GIT_EMODIFIED || error == GIT_ENOTFOUND) {
		git_oid_tostr(was, sizeof(was), &f->main_at);
		if (git_reference_name_to_id(&cur, f->repo, MAIN_REF) == 0)
			git_oid_tostr(now, sizeof(now), &cur);
		else
			snprintf(now, sizeof(now), "nowhere");
		error = stet_error_set(STET_ECORRUPT,
				       "main moved during the run (from %.12s to %.12s: a push, or a commit in the "
				       "archive?); this run stops and leaves it there, what it archived before is "
				       "kept, and the next run goes on from the new main", was, now);
	} else if (error == GIT_ELOCKED) {
		error = stet_error_set(STET_EIO,
				       "moving main: %s/refs/heads/main.lock, taken during this run, has been held for "
				       "2 s; this run stops, what it archived before is kept",
				       f->a->commondir);
	} else if (error < 0) {
		error = stet_git_error(error, "moving main");
	}
done:
	git_reference_free(ref);
	stet_buf_dispose(&logmsg);
	return error;
}

static void *job(void *arg)
{
	flusher *f = arg;
	stet_archive *a = f->a;
	int error = 0;

	if (!f->repo && (error = git_repository_open(&f->repo, a->gitdir)) < 0)
		error = stet_git_error(error, "opening the repository");
	if (!error)
		error = pack(f);
	if (!error && f->worktree)
		error = stet_store_mark_checkout(a, &f->main_at);
	if (!error)
		error = move_main(f);
	if (!error)
		error = keys_write(a->gitdir, &f->keys);
	if (!error && f->worktree) {
		error = worktree_files(a->root, a->gitdir, &f->index, f->files, f->nfiles);
		f->index_pending = 1;
	} else if (!error) {
		error = stet_store_mark_checkout(a, NULL);
	}
	if (error < 0)
		keep_error(f, error);
	return NULL;
}

/* the git index read ahead, while the run commits its first thousand:
 * 50 MB and a second at 300,000 articles, which the first checkpoint
 * would otherwise spend before it can pack */
static void *prefetch_job(void *arg)
{
	flusher *f = arg;
	int error = worktree_index_open(&f->index, f->a->gitdir);
	if (error < 0)
		keep_error(f, error);
	return NULL;
}

/* the archive's flusher, made on first use */
static flusher *flusher_of(stet_archive *a)
{
	if (!a->flush && (a->flush = stet_calloc(1, sizeof(*a->flush))))
		a->flush->a = a;
	return a->flush;
}

/* run fn on the checkpoint's thread; with no thread to be had, on this one */
static void launch(flusher *f, void *(*fn)(void *))
{
	f->threaded = pthread_create(&f->thread, NULL, fn, f) == 0;
	if (!f->threaded)
		fn(f);
	f->running = 1;
}

int flush_prefetch(stet_archive *a)
{
	flusher *f = a->flush;

	if (f && (f->running || f->index || f->error))
		return 0;
	if (!stet_store_keeps_worktree(a))
		return 0; /* no work tree to keep */
	if (!(f = flusher_of(a)))
		return stet_error_oom();
	f->prefetch = 1;
	launch(f, prefetch_job);
	return 0;
}

static void job_free(flusher *f)
{
	size_t i;
	for (i = 0; i < f->nids; i++)
		free(f->names[i]);
	free(f->ids);
	free(f->names);
	f->ids = NULL;
	f->names = NULL;
	f->nids = 0;
	keys_batch_dispose(&f->keys);
	worktree_files_free(f->files, f->nfiles);
	f->files = NULL;
	f->nfiles = 0;
}

int flush_wait(stet_archive *a)
{
	flusher *f = a->flush;

	if (!f)
		return 0;
	if (f->running) {
		if (f->threaded)
			pthread_join(f->thread, NULL);
		f->running = 0;
		if (f->prefetch) {
			f->prefetch = 0; /* only the index was read */
		} else {
			/* the pack is on disk (or the run stops): the run's object
			 * store sees it, then the frozen objects go */
			odb_packs_changed(a, f->pack_name[0] ? f->pack_name : NULL);
			f->pack_name[0] = '\0';
			if (!f->error) {
				odb_staging_release(a);
				git_oid_cpy(&a->main_at, &f->tip);
				a->commits_total += f->commits;
			} else
				a->keys.cache_end = 0; /* a later run writes the key cache whole */
			job_free(f);
		}
	}
	if (f->error)
		return stet_error_set(f->error, "%s", f->msg);
	return 0;
}

int flush_start(stet_archive *a, int last)
{
	flusher *f;
	int error;

	if ((error = flush_wait(a)) < 0)
		return error;
	if (!(f = flusher_of(a)))
		return stet_error_oom();
	/* what the checkpoint writes, taken from the run */
	if ((error = keys_prepare(a, &f->keys, 2)) < 0)
		goto fail;
	f->worktree = stet_store_keeps_worktree(a);
	if (f->worktree && (error = worktree_collect(a, &f->files, &f->nfiles)) < 0)
		goto fail;
	f->ids = a->pending;
	f->names = a->pending_names;
	f->nids = a->npending;
	a->pending = NULL;
	a->pending_names = NULL;
	a->npending = a->cappending = 0;
	f->frozen = odb_staging_freeze(a);
	git_oid_cpy(&f->tip, &a->tip);
	git_oid_cpy(&f->main_at, &a->main_at);
	f->commits = a->commits_since_checkpoint;
	f->last = last;
	launch(f, job);
	return 0;
fail:
	/* the key cache's batch is counted written: stop here too */
	job_free(f);
	a->keys.cache_end = 0;
	keep_error(f, error);
	return stet_error_set(f->error, "%s", f->msg);
}

int flush_finish(stet_archive *a)
{
	flusher *f = a->flush;
	int error;

	if (!f || f->error || !f->index_pending)
		return 0;
	if ((error = worktree_index_write(f->index)) == 0)
		error = stet_store_mark_checkout(a, NULL);
	if (error < 0) {
		keep_error(f, error);
		return stet_error_set(f->error, "%s", f->msg);
	}
	f->index_pending = 0;
	return 0;
}

void flush_free(stet_archive *a)
{
	if (!a->flush)
		return;
	flush_wait(a);
	stet_error_clear();
	job_free(a->flush);
	git_index_free(a->flush->index);
	git_repository_free(a->flush->repo);
	free(a->flush);
	a->flush = NULL;
}
