/*
 * The archive: a git repository (branch `main`) holding one canonical file
 * per article, written with libgit2. One commit per event; the objects of
 * a run go into one pack and `main` moves once at the end of the run, or
 * at checkpoints on long runs, so a run killed at any moment leaves the
 * archive at its last checkpoint. A lock file keeps two runs apart.
 * docs/format.md ("The archive") pins the layout and commit format.
 */
#ifndef STET_STORE_H
#define STET_STORE_H

#include <stddef.h>

#include "stet/buf.h"
#include "stet/canon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stet_archive stet_archive;

typedef enum {
	STET_V_NEW = 0,
	STET_V_UNCHANGED,
	STET_V_REVISION,
	STET_V_REPOST,
	STET_V_ALIAS,
	STET_V_NEAR,
	STET_V_REJECTED
} stet_verdict;

typedef enum {
	STET_G_NONE = 0,
	STET_G_COSMETIC,    /* metadata only, or text equal after the harsh normalization */
	STET_G_MINOR,       /* shingle similarity >= 0.8 */
	STET_G_SUBSTANTIVE, /* >= 0.3 */
	STET_G_REWRITE      /* below */
} stet_grade;

/** What happened to one input. Strings are owned; stet_event_dispose. */
typedef struct stet_event {
	stet_verdict verdict;
	stet_grade grade;
	char *path;       /* the article's path in the archive */
	char *key;        /* its identity key */
	char *of;         /* the archived article it matched (reposts) */
	int distance;     /* near-duplicates: Hamming distance; else -1 */
} stet_event;

const char *stet_verdict_name(stet_verdict v);
const char *stet_grade_name(stet_grade g);
void stet_event_dispose(stet_event *ev);

/** Create an archive in dir (created if missing): a git repository on
 *  branch main with a commented stet.yaml and a first commit. bare: a
 *  bare repository, no work tree (stet.yaml is read from main's tree).
 *  STET_EEXISTS if dir already holds a repository. */
int stet_archive_init(const char *dir, int bare);

/** Open the archive at (or above) dir. For writing, take the lock: wait up
 *  to wait_seconds for another run to finish (0: fail at once with
 *  STET_ELOCKED, "archive is locked by pid N"). */
int stet_archive_open(stet_archive **out, const char *dir, int for_writing, double wait_seconds);

/** What opening the archive found worth saying but not an error (an
 *  unknown stet.yaml setting, with its file and line): a line each, or
 *  "". */
const char *stet_archive_warnings(const stet_archive *a);

/** Finish: a writer's pending events are committed (stet_archive_finish);
 *  then the lock is released and everything freed. */
void stet_archive_free(stet_archive *a);

/** What put and observe compute from an input before they look at the
 *  archive (fingerprints, the text for verification, the document hash). */
typedef struct stet_prepared stet_prepared;

/** Prepare n inputs on up to `threads` threads (it needs no archive):
 *  out[i] for c[i], NULL where c[i] is NULL or preparing failed (put then
 *  computes it and reports the error). `source` as for put. */
void stet_archive_prepare(stet_prepared **out, stet_canon *const *c, size_t n, const char *source, int threads);
void stet_prepared_free(stet_prepared *p);

/** Decide what an article is and stage its commit. `source` overrides the
 *  article's own source when not NULL. `p` (may be NULL) is the input
 *  prepared by stet_archive_prepare with the same source; put takes what
 *  it keeps from it, the caller still frees it. Checkpoints when due. */
int stet_archive_put(stet_archive *a, const stet_canon *c, const char *source, stet_prepared *p, stet_event *ev);

/** Tell the archive about an input that is coming in this run, before
 *  any put: sentences many inputs share are boilerplate, and knowing the
 *  whole run first lets the first of them be judged like the last.
 *  `p` may be NULL. */
int stet_archive_observe(stet_archive *a, const stet_canon *c, const stet_prepared *p);

/** Write the pending objects as one pack, move main, update the work tree
 *  and the key cache. Returns the number of commits it added (>= 0). */
int stet_archive_finish(stet_archive *a);

/** Commits since the archive was opened (all checkpoints). */
size_t stet_archive_commits(const stet_archive *a);

/** The archive's root folder (the work tree). Borrowed. */
const char *stet_archive_root(const stet_archive *a);

/** The post-ingest hook configured in stet.yaml, as an absolute path, or
 *  NULL. Borrowed. */
const char *stet_archive_hook(const stet_archive *a);

/* ---- history ---- */

/** Resolve ARTICLE (an archive path, a URL or key, or a title fragment that
 *  matches exactly one article) to its archive path. *out is malloc'd. */
int stet_archive_resolve(char **out, stet_archive *a, const char *article);

typedef struct stet_revinfo {
	char commit[41];
	char blob[41];
	char *subject;
	long long time;   /* author time */
	long long ctime;  /* commit time */
} stet_revinfo;

/** Versions of the file at path, oldest first (commits where its content
 *  changed). Free with stet_versions_free. */
int stet_archive_versions(stet_revinfo **out, size_t *n, stet_archive *a, const char *path);
void stet_versions_free(stet_revinfo *v, size_t n);

/** One event of the history, newest first. */
typedef struct stet_log_entry {
	char commit[41];
	const char *subject;
	const char *path;      /* the article's path, or NULL */
	long long time, ctime;
	const char *author;
} stet_log_entry;

typedef int (*stet_log_cb)(const stet_log_entry *e, void *payload);
/** Every event on main, newest first; with path, only those that changed it. */
int stet_archive_log(stet_archive *a, const char *path, stet_log_cb cb, void *payload);

/** The content of a blob (hex id). */
int stet_archive_read_blob(stet_buf *out, stet_archive *a, const char *blob_hex);

/* ---- reposts ---- */

/** One member of a repost cluster. Strings borrowed for the callback. */
typedef struct stet_dup {
	const char *path;      /* the archived file (for reposts and aliases: the original's) */
	const char *relation;  /* "original", "near-duplicate", "repost", "alias" */
	const char *of;        /* the file it duplicates; NULL for the original */
	const char *key;
	const char *title;
	const char *source;    /* reposts: the reposting source */
	int distance;          /* near-duplicates: simhash distance (-1 unknown) */
	double containment;
} stet_dup;

typedef int (*stet_dup_cb)(size_t cluster, const stet_dup *d, void *payload);

/** Every cluster of articles that repost each other (with path: only its
 *  cluster), the original first. Clusters are numbered from 1. */
int stet_archive_dups(stet_archive *a, const char *path, stet_dup_cb cb, void *payload);

typedef struct stet_similar {
	const char *path;
	const char *title;
	int distance;          /* simhash distance, -1 when a text is too short */
	double jaccard, containment;
	int duplicate;         /* 1 if stet would call it a duplicate */
	int exact;             /* the same text */
} stet_similar;
typedef int (*stet_similar_cb)(const stet_similar *s, void *payload);

/** The archived articles a text resembles (candidates that share sentences
 *  or a near simhash), each with its overlap, without archiving it. */
int stet_archive_similar(stet_archive *a, const stet_canon *c, stet_similar_cb cb, void *payload);

/** Rebuild the key cache and the index from the archive's files and
 *  commits (a writer). *articles gets the number of articles. */
int stet_archive_reindex(stet_archive *a, size_t *articles);

/** Check the cache and index against the repository: each disagreement
 *  goes to cb as a sentence; returns the number of problems (>= 0). */
typedef int (*stet_problem_cb)(const char *problem, void *payload);
int stet_archive_fsck(stet_archive *a, stet_problem_cb cb, void *payload);

/* ---- diff ---- */

typedef enum { STET_DIFF_SAME, STET_DIFF_DEL, STET_DIFF_ADD } stet_diff_op;

/** Line diff of two texts (LCS over lines); cb gets each line in order. */
typedef int (*stet_diff_cb)(stet_diff_op op, const char *line, size_t len, void *payload);
int stet_diff_lines(const char *a, const char *b, stet_diff_cb cb, void *payload);

/** Within one changed line pair: the spans that differ, as character (CJK)
 *  or word (Latin) tokens. cb gets runs of (op, text). */
int stet_diff_inline(const char *a, size_t alen, const char *b, size_t blen, stet_diff_cb cb, void *payload);

#ifdef __cplusplus
}
#endif
#endif
