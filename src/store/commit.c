/*
 * Deciding and committing: stet_archive_put() turns one canonical article
 * into an event (new, unchanged, revision) and, unless unchanged, a commit
 * staged in the in-memory object store; a checkpoint (every
 * checkpoint_every commits, and stet_archive_finish() at the end) hands
 * the staged objects to its own thread, which writes them as one pack,
 * then moves main, then saves the key cache and updates the work tree
 * (flush.c).
 *
 * Revision grades (docs/format.md): cosmetic when only the metadata
 * changed or the text is equal after the harsh normalization; otherwise
 * by the Jaccard similarity of 4-token shingles: minor >= 0.8,
 * substantive >= 0.3, rewrite below.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <git2/sys/commit.h>

static int checkpoint(stet_archive *a, int wait);

static int track(stet_archive *a, const git_oid *id, const char *name)
{
	char *copy = NULL;

	if (a->npending == a->cappending) {
		size_t cap = a->cappending ? a->cappending * 2 : 1024;
		git_oid *v = stet_realloc(a->pending, cap * sizeof(*v));
		char **nv;
		if (!v)
			return stet_error_oom();
		a->pending = v;
		if (!(nv = stet_realloc(a->pending_names, cap * sizeof(*nv))))
			return stet_error_oom();
		a->pending_names = nv;
		a->cappending = cap;
	}
	if (name && !(copy = stet_strdup(name)))
		return stet_error_oom();
	git_oid_cpy(&a->pending[a->npending], id);
	a->pending_names[a->npending++] = copy;
	return 0;
}

static int note_changed(stet_archive *a, const char *path)
{
	char *copy;
	if (a->nchanged == a->capchanged) {
		size_t cap = a->capchanged ? a->capchanged * 2 : 256;
		char **v = stet_realloc(a->changed, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		a->changed = v;
		a->capchanged = cap;
	}
	if (!(copy = stet_strdup(path)))
		return stet_error_oom();
	a->changed[a->nchanged++] = copy;
	return 0;
}

/* the grade of a revision from both versions' tokens and harsh text: the
 * same harsh text is cosmetic, else graded by shared shingles */
static stet_grade grade_of(const stet_tokens *ta, const stet_buf *x, const stet_tokens *tb, const stet_buf *y)
{
	double sim;
	if (x->size == y->size && (!x->size || !memcmp(x->ptr, y->ptr, x->size)))
		return STET_G_COSMETIC;
	sim = stet_fp_similarity(ta, tb, 4);
	return sim >= 0.8 ? STET_G_MINOR : sim >= 0.3 ? STET_G_SUBSTANTIVE : STET_G_REWRITE;
}

/* the grade of a revision from the archived version `old` to `now`, from
 * their bodies (one normalization of each gives its tokens and harsh
 * text) */
static stet_grade grade(const stet_canon *old, const stet_canon *now)
{
	stet_buf x = STET_BUF_INIT, y = STET_BUF_INIT;
	stet_tokens ta = { 0 }, tb = { 0 };
	stet_grade g = STET_G_SUBSTANTIVE; /* when the texts cannot be compared */

	if (!strcmp(old->body, now->body))
		g = STET_G_COSMETIC;
	else if (stet_fp_tokens_harsh(&ta, &x, old->body, strlen(old->body)) == 0 &&
		 stet_fp_tokens_harsh(&tb, &y, now->body, strlen(now->body)) == 0)
		g = grade_of(&ta, &x, &tb, &y);
	stet_tokens_dispose(&ta);
	stet_tokens_dispose(&tb);
	stet_buf_dispose(&x);
	stet_buf_dispose(&y);
	stet_error_clear();
	return g;
}

/* a stable email for a source: its slug when ASCII, else a hash */
static void source_email(stet_buf *out, const char *source)
{
	stet_buf slug = STET_BUF_INIT;
	size_t i;
	int ascii = 1;

	stet_store_slug(&slug, source, 48);
	for (i = 0; i < slug.size; i++)
		ascii &= (unsigned char)slug.ptr[i] < 0x80;
	if (ascii)
		stet_buf_printf(out, "%s@sources.stet.invalid", slug.ptr);
	else
		stet_buf_printf(out, "source-%016llx@sources.stet.invalid",
				(unsigned long long)XXH3_64bits(source, strlen(source)));
	stet_buf_dispose(&slug);
}

static void subject_text(stet_buf *out, const char *s, size_t max_chars)
{
	size_t len = strlen(s), cut = 0, chars = 0, adv;
	while (cut < len && chars < max_chars) {
		stet_utf8_decode(s + cut, len - cut, &adv);
		cut += adv;
		chars++;
	}
	stet_buf_put(out, s, cut);
	if (cut < len)
		stet_buf_puts(out, "…");
}

typedef struct {
	const char *path;
	stet_buf content;
	git_oid blob;
} upsert;

static const char *verb_of(const stet_event *ev)
{
	switch (ev->verdict) {
	case STET_V_REVISION: return "revise";
	case STET_V_REPOST: return "repost";
	case STET_V_ALIAS: return "alias";
	case STET_V_NEAR: return "near-duplicate";
	default: return "new";
	}
}

/* One commit of one event: write the files' blobs, the updated tree, the
 * commit; stage every new object for the pack. */
static int commit_files(stet_archive *a, upsert *u, size_t nu, const stet_canon *c, const char *source,
			const char *key, const char *hash, const char *fp, const stet_event *ev)
{
	stet_buf msg = STET_BUF_INIT, email = STET_BUF_INIT;
	git_signature *author = NULL, *committer = NULL;
	tree_put puts[2];
	tree_written *written = NULL;
	size_t nwritten = 0;
	git_oid tree_id, commit_id;
	long long when = a->run_time, t;
	const char *slash;
	size_t i, w;
	int error;

	if (nu > 2)
		return stet_error_set(STET_EUSAGE, "commit_files: %zu files", nu);
	/* the files' blobs, written straight to the object store (libgit2's
	 * blob functions copy the data once more through a write stream) */
	for (i = 0; i < nu; i++)
		if ((error = stet_buf_check(&u[i].content, u[i].path)) < 0 ||
		    (error = odb_write(&u[i].blob, a->odb, &a->hasher, u[i].content.ptr, u[i].content.size, GIT_OBJECT_BLOB,
				       u[i].path)) < 0)
			goto done;
	/* the parent's tree: known from the last commit, else read once */
	if (a->have_tip && !git_oid_equal(&a->tip_tree_of, &a->tip)) {
		git_commit *parent = NULL;
		if ((error = git_commit_lookup(&parent, a->repo, &a->tip)) < 0) {
			error = stet_git_error(error, "reading main");
			goto done;
		}
		git_oid_cpy(&a->tip_tree, git_commit_tree_id(parent));
		git_oid_cpy(&a->tip_tree_of, &a->tip);
		git_commit_free(parent);
	}
	for (i = 0; i < nu; i++) {
		puts[i].path = u[i].path;
		git_oid_cpy(&puts[i].blob, &u[i].blob);
	}
	if ((error = tree_put_files(&tree_id, &written, &nwritten, a->odb, &a->hasher, a->have_tip ? &a->tip_tree : NULL, puts,
				    nu)) < 0)
		goto done;
	/* the article's own time: published for a new one, modified for an edit */
	if (ev->verdict == STET_V_REVISION && c->modified && stet_canon_date_epoch(&t, c->modified) == 0)
		when = t;
	else if (ev->verdict != STET_V_REVISION && c->published && stet_canon_date_epoch(&t, c->published) == 0)
		when = t;
	if (when < 0)
		when = 0;
	source_email(&email, source ? source : "unknown");
	if ((error = stet_buf_check(&email, "email")) < 0)
		goto done;
	if ((error = git_signature_new(&author, source ? source : "unknown source", email.ptr, (git_time_t)when, 0)) < 0 ||
	    (error = git_signature_new(&committer, a->committer_name, a->committer_email, (git_time_t)a->run_time, 0)) <
		    0) {
		error = stet_git_error(error, "signature");
		goto done;
	}
	stet_buf_printf(&msg, "%s: ", verb_of(ev));
	subject_text(&msg, source ? source : "unknown source", 40);
	stet_buf_puts(&msg, ": ");
	subject_text(&msg, c->title ? c->title : ev->path, 120);
	if (ev->verdict == STET_V_REVISION)
		stet_buf_printf(&msg, " (%s)", stet_grade_name(ev->grade));
	stet_buf_printf(&msg, "\n\nStet-Key: %s\nStet-Fingerprint: %s\nStet-Document: %s\nStet-Canon: %d\n", key, fp,
			hash, STET_CANON_VERSION);
	if (ev->verdict == STET_V_REVISION)
		stet_buf_printf(&msg, "Stet-Grade: %s\n", stet_grade_name(ev->grade));
	if (ev->of)
		stet_buf_printf(&msg, "Stet-Of: %s\n", ev->of);
	if (ev->verdict == STET_V_NEAR)
		stet_buf_printf(&msg, "Stet-Distance: %d\n", ev->distance);
	if ((error = stet_buf_check(&msg, "commit message")) < 0)
		goto done;
	{
		const git_oid *parents[1] = { &a->tip };
		if ((error = git_commit_create_from_ids(&commit_id, a->repo, NULL, author, committer, "UTF-8", msg.ptr,
							&tree_id, a->have_tip ? 1 : 0, parents)) < 0) {
			error = stet_git_error(error, u[0].path);
			goto done;
		}
	}
	/* stage for the pack: the root tree, then each file and the trees on
	 * its path from the top (the trees tree_put_files wrote) */
	if ((error = track(a, &tree_id, "")) < 0)
		goto done;
	for (i = 0; i < nu; i++) {
		if ((error = track(a, &u[i].blob, u[i].path)) < 0 || (error = note_changed(a, u[i].path)) < 0)
			goto done;
		for (slash = strchr(u[i].path, '/'); slash; slash = strchr(slash + 1, '/')) {
			size_t dl = (size_t)(slash - u[i].path);
			for (w = 0; w < nwritten; w++)
				if (strlen(written[w].dir) == dl && !memcmp(written[w].dir, u[i].path, dl))
					break;
			if (w == nwritten) {
				error = stet_error_set(STET_ECORRUPT, "the tree of '%.*s' was not written", (int)dl, u[i].path);
				goto done;
			}
			if ((error = track(a, &written[w].id, written[w].dir)) < 0)
				goto done;
		}
	}
	if ((error = track(a, &commit_id, NULL)) < 0)
		goto done;
	git_oid_cpy(&a->tip, &commit_id);
	git_oid_cpy(&a->tip_tree, &tree_id);
	git_oid_cpy(&a->tip_tree_of, &commit_id);
	a->have_tip = 1;
	if (a->commits_since_checkpoint++ == 0 && a->commits_total == 0)
		error = flush_prefetch(a);
done:
	git_signature_free(author);
	git_signature_free(committer);
	tree_written_free(written, nwritten);
	stet_buf_dispose(&msg);
	stet_buf_dispose(&email);
	return error;
}

static int has(const stet_strlist *l, const char *s)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

/* the input is no longer "coming": its sentences leave the observed counts */
static void unobserve(stet_archive *a, const stet_fingerprint *f)
{
	size_t i;
	for (i = 0; i < f->nsent; i++) {
		size_t df = sentence_df(a, f->sent[i]), n = 0;
		if (df > 0) {
			stet_postings_get(a->sentences, f->sent[i], &n);
			if (df > n) {
				stet_fingerprint one = *f;
				one.sent = &f->sent[i];
				one.nsent = 1;
				observe(a, &one, -1);
			}
		}
	}
}

int stet_archive_put(stet_archive *a, const stet_canon *c_in, const char *source_override, stet_prepared *p,
		     stet_event *ev)
{
	stet_canon c = *c_in, *dc = NULL;
	stet_fingerprint f;
	afields xf, df;
	upsert u[2];
	size_t nu = 0, i;
	const char *source;
	char hash[33];
	keyent *e, *d = NULL, *taken = NULL;
	dup_match m;
	int error;

	memset(ev, 0, sizeof(*ev));
	memset(&f, 0, sizeof(f));
	memset(&xf, 0, sizeof(xf));
	memset(&df, 0, sizeof(df));
	memset(u, 0, sizeof(u));
	xf.distance = df.distance = -1;
	ev->distance = -1;
	if (!a->writer)
		return stet_error_set(STET_EUSAGE, "archive opened read-only");
	if (source_override && *source_override)
		c.source = (char *)source_override;
	source = c.source;
	if (p && p->key) { /* prepared with it */
		ev->key = p->key;
		p->key = NULL;
	} else if ((error = stet_store_key(&ev->key, &c, source)) < 0) {
		goto done;
	}
	if (p) { /* prepared ahead: take its fingerprint */
		memcpy(hash, p->hash, sizeof(hash));
		f = p->fp;
		memset(&p->fp, 0, sizeof(p->fp));
	} else if ((error = canon_hash(hash, &c)) < 0 || (error = stet_fp_compute(&f, c.body)) < 0) {
		goto done;
	}
	/* the input counts among the stories that hold its sentences while it
	 * is judged; it leaves the observed counts when decided (done:) or
	 * moves into the index as an article */
	if ((error = keymap_find_key(&e, &a->keys, ev->key)) < 0)
		goto done;
	if (e) {
		if (!strcmp(e->hash, hash) || keyent_has_seen(e, hash)) {
			ev->verdict = STET_V_UNCHANGED;
			if (!(ev->path = stet_strdup(e->path)) || (e->kind != KE_ARTICLE && !(ev->of = stet_strdup(e->path))))
				error = stet_error_oom();
			goto done;
		}
		if (e->kind == KE_ARTICLE) {
			/* a revision: same path, the file's own archive keys kept */
			ev->verdict = STET_V_REVISION;
			if (!(ev->path = stet_strdup(e->path))) {
				error = stet_error_oom();
				goto done;
			}
			/* the archived version: its own keys are kept, its text
			 * graded. Both texts' tokens at hand (it was put in this
			 * run, and this one is prepared): from them, without
			 * reading its body again */
			const stet_fp_text *was = text_kept(a, e->idx);
			if (was && was->have_tokens && p && p->have_text && p->text.have_tokens) {
				if ((error = read_archived(NULL, &xf, a, &e->blob)) < 0)
					goto done;
				ev->grade = grade_of(&was->tokens, &was->harsh, &p->text.tokens, &p->text.harsh);
				goto write;
			}
			if ((error = read_archived(&dc, &xf, a, &e->blob)) < 0)
				goto done;
			ev->grade = grade(dc, &c);
			stet_canon_free(dc);
			dc = NULL;
			goto write;
		}
		/* a repost or alias key whose text changed: decided again below */
	}
	if ((error = find_duplicate(&m, a, &c, source, &f, (size_t)-1, p && p->have_text ? &p->text : NULL)) < 0)
		goto done;
	if (m.verdict == STET_V_REPOST || m.verdict == STET_V_ALIAS) {
		d = a->keys.v[m.of];
		ev->verdict = m.verdict;
		ev->distance = 0;
		if (!(ev->path = stet_strdup(d->path)) || !(ev->of = stet_strdup(d->path))) {
			error = stet_error_oom();
			goto done;
		}
		if ((error = read_archived(&dc, &df, a, &d->blob)) < 0)
			goto done;
		if (has(&df.aliases, ev->key) || has(&df.repost_key, ev->key)) {
			ev->verdict = STET_V_UNCHANGED; /* recorded already */
			goto done;
		}
		if (m.verdict == STET_V_ALIAS) {
			error = stet_strlist_push(&df.aliases, ev->key);
		} else if ((error = stet_strlist_push(&df.repost_source, source ? source : "")) == 0 &&
			   (error = stet_strlist_push(&df.repost_key, ev->key)) == 0) {
			error = stet_strlist_push(&df.repost_date, c.published ? c.published : "");
		}
		if (error < 0)
			goto done;
		u[0].path = d->path;
		if ((error = afields_render(&u[0].content, dc, &df)) < 0 ||
		    (error = commit_files(a, u, 1, &c, source, ev->key, hash, f.exact, ev)) < 0)
			goto done;
		git_oid_cpy(&d->blob, &u[0].blob);
		d->dirty = 1;
		if (e) {
			memcpy(e->hash, hash, 33);
			error = keymap_set_kind(&a->keys, e, m.verdict == STET_V_ALIAS ? KE_ALIAS : KE_REPOST, d->path);
		} else if ((error = keymap_add(&a->keys, ev->key, d->path, c.title, &u[0].blob, hash)) == 0) {
			keyent *k = NULL;
			if ((error = keymap_find_key(&k, &a->keys, ev->key)) == 0)
				error = keymap_set_kind(&a->keys, k, m.verdict == STET_V_ALIAS ? KE_ALIAS : KE_REPOST,
							d->path);
		}
		goto checkpoint;
	}
	ev->verdict = m.verdict == STET_V_NEAR ? STET_V_NEAR : STET_V_NEW;
	if ((error = stet_store_path(&ev->path, &c, source, ev->key, a->run_time, 0)) < 0)
		goto done;
	if ((error = keymap_find_path(&taken, &a->keys, ev->path)) < 0)
		goto done;
	if (taken) {
		free(ev->path);
		ev->path = NULL;
		if ((error = stet_store_path(&ev->path, &c, source, ev->key, a->run_time, 1)) < 0 ||
		    (error = keymap_find_path(&taken, &a->keys, ev->path)) < 0)
			goto done;
		if (taken) {
			error = stet_error_set(STET_EEXISTS, "%s: path taken by another article", ev->path);
			goto done;
		}
	}
	if (m.verdict == STET_V_NEAR) {
		d = a->keys.v[m.of];
		ev->distance = m.distance;
		if (!(ev->of = stet_strdup(d->path)) || !(xf.near_of = stet_strdup(d->path))) {
			error = stet_error_oom();
			goto done;
		}
		xf.distance = m.distance;
		xf.containment = m.containment;
		/* the original's file is not touched: its history holds its own
		 * versions only; the back-link is derived (stet dups) */
	}
write:
	free(xf.key);
	if (!(xf.key = stet_strdup(ev->key))) {
		error = stet_error_oom();
		goto done;
	}
	u[0].path = ev->path;
	/* the document prepared with the hash, when there is one: the same
	 * canon and source, written once */
	if ((error = p && p->doc.size ? afields_render_doc(&u[0].content, &p->doc, &xf)
				      : afields_render(&u[0].content, &c, &xf)) < 0)
		goto done;
	nu = 1;
	if (dc) {
		u[1].path = d->path;
		if ((error = afields_render(&u[1].content, dc, &df)) < 0)
			goto done;
		nu = 2;
	}
	if ((error = commit_files(a, u, nu, &c, source, ev->key, hash, f.exact, ev)) < 0)
		goto done;
	if (nu == 2) {
		git_oid_cpy(&d->blob, &u[1].blob);
		d->dirty = 1;
	}
	if (e && e->kind != KE_ARTICLE && (error = keymap_set_kind(&a->keys, e, KE_ARTICLE, ev->path)) < 0)
		goto done;
	if ((error = keymap_add(&a->keys, ev->key, ev->path, c.title, &u[0].blob, hash)) < 0 ||
	    (error = keymap_find_key(&e, &a->keys, ev->key)) < 0)
		goto done;
	text_keep(a, e->idx, c.body, p && p->have_text ? &p->text : NULL);
	unobserve(a, &f);
	keyent_set_fp(e, &f);
	if (ev->verdict == STET_V_NEAR && (error = keyent_set_near(e, ev->of, m.distance, m.containment)) < 0)
		goto done;
	if ((error = index_add(a, e->idx)) < 0)
		goto done;
checkpoint:
	if (a->commits_since_checkpoint >= a->checkpoint_every)
		error = checkpoint(a, 0) < 0 ? stet_error_code() : 0;
done:
	if (f.nsent)
		unobserve(a, &f);
	for (i = 0; i < 2; i++)
		stet_buf_dispose(&u[i].content);
	stet_canon_free(dc);
	afields_dispose(&xf);
	afields_dispose(&df);
	stet_fp_dispose(&f);
	if (error < 0)
		stet_event_dispose(ev);
	return error;
}

/* .git/stet/checkout-pending (docs/format.md) */
static int marker_path(stet_buf *path, const stet_archive *a)
{
	stet_buf_printf(path, "%s/stet/checkout-pending", a->gitdir);
	return stet_buf_check(path, "marker");
}

int stet_store_mark_checkout(stet_archive *a, const git_oid *base)
{
	stet_buf path = STET_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int error = 0, fd;

	if ((error = marker_path(&path, a)) < 0)
		goto done;
	if (base) {
		/* an existing marker names the commit the work tree is still at */
		if ((fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
			if (errno != EEXIST)
				error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
			goto done;
		}
		git_oid_tostr(hex, sizeof(hex), base);
		hex[GIT_OID_HEXSZ] = '\n';
		if (stet_write_all(fd, hex, sizeof(hex)) < 0 || fsync(fd) < 0)
			error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
		close(fd);
	} else if (unlink(path.ptr) < 0 && errno != ENOENT) {
		error = stet_error_set(STET_EIO, "%s: %s", path.ptr, strerror(errno));
	}
done:
	stet_buf_dispose(&path);
	return error;
}

/* the commit a marker names, if it names one this repository has */
static int marker_base(git_oid *out, stet_archive *a, const char *path)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_commit *c = NULL;
	ssize_t got;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	got = read(fd, hex, sizeof(hex));
	close(fd);
	if (got == (ssize_t)sizeof(hex) && hex[GIT_OID_HEXSZ] == '\n') {
		hex[GIT_OID_HEXSZ] = 0;
		ok = git_oid_fromstr(out, hex) == 0 && git_commit_lookup(&c, a->repo, out) == 0;
		git_commit_free(c);
	}
	stet_error_clear();
	return ok;
}

int stet_store_head_is_main(stet_archive *a)
{
	git_reference *head = NULL;
	int yes = git_repository_head(&head, a->repo) == 0 && !strcmp(git_reference_name(head), MAIN_REF);
	git_reference_free(head);
	return yes;
}

/* the run writes the files it commits into the work tree: there is one,
 * and main is checked out in it */
int stet_store_keeps_worktree(stet_archive *a)
{
	return !a->bare && stet_store_head_is_main(a);
}

int stet_store_sync_worktree(stet_archive *a)
{
	stet_buf path = STET_BUF_INIT;
	int error = 0;

	if (a->bare)
		return 0;
	if ((error = marker_path(&path, a)) == 0 && access(path.ptr, F_OK) == 0) {
		/* a run died between moving main and finishing the work tree: some
		 * of its files may be written, their index entries are not */
		git_index *index = NULL;
		git_commit *commit = NULL;
		git_tree *tree = NULL;
		git_checkout_options opts;
		git_oid base;
		stet_buf lock = STET_BUF_INIT;
		struct stat ms, ls;
		/* its index.lock, if it died holding it: made after the marker */
		stet_buf_printf(&lock, "%s/index.lock", a->gitdir);
		if (stet_buf_check(&lock, "index.lock") == 0 && stat(path.ptr, &ms) == 0 && stat(lock.ptr, &ls) == 0 &&
		    ls.st_mtime >= ms.st_mtime)
			unlink(lock.ptr);
		stet_buf_dispose(&lock);
		stet_error_clear();
		if (!stet_store_head_is_main(a)) {
			/* someone checked out another branch: their work tree stays */
		} else if (marker_base(&base, a, path.ptr)) {
			/* the marker names the commit the work tree and its index are
			 * at: write what differs from there to main */
			error = worktree_resync(a, &base);
		} else {
			/* a marker of an older stet, or a commit gone: all of it */
			git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
			opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
			if ((error = git_repository_index(&index, a->repo)) < 0 ||
			    (error = git_commit_lookup(&commit, a->repo, &a->tip)) < 0 ||
			    (error = git_commit_tree(&tree, commit)) < 0 || (error = git_index_read_tree(index, tree)) < 0 ||
			    (error = git_index_write(index)) < 0)
				error = stet_git_error(error, "resetting the index");
			else if ((error = git_checkout_head(a->repo, &opts)) < 0)
				error = stet_git_error(error, "updating the work tree");
		}
		git_tree_free(tree);
		git_commit_free(commit);
		git_index_free(index);
		if (!error)
			error = stet_store_mark_checkout(a, NULL);
	}
	stet_buf_dispose(&path);
	return error;
}

/* a checkpoint: what the run wrote since the last one goes to disk on
 * the checkpoint's thread (flush.c); wait: and wait for it, as the end of
 * a run does. Returns the commits it holds. */
static int checkpoint(stet_archive *a, int wait)
{
	size_t commits = a->commits_since_checkpoint, i;
	int error;

	if (!a->writer)
		return 0;
	if (!a->npending) { /* nothing new; but a key cache rebuilt from main is kept */
		if ((error = flush_wait(a)) < 0)
			return error;
		/* a snapshot written on its thread is named by a new journal */
		return a->keys.cache_end == 0 || a->keys.bg ? keys_save(a) : 0;
	}
	if ((error = flush_start(a, wait)) < 0)
		return error;
	a->commits_since_checkpoint = 0;
	for (i = 0; i < a->nchanged; i++)
		free(a->changed[i]);
	a->nchanged = 0;
	if (wait && (error = flush_wait(a)) < 0)
		return error;
	return (int)commits;
}

int stet_archive_finish(stet_archive *a)
{
	int n, error;

	if (a->writer)
		keys_compact_wait(a); /* so that the last checkpoint's journal names it */
	n = checkpoint(a, 1);
	if (n >= 0 && (error = flush_finish(a)) < 0)
		return error;
	if (n >= 0 && a->commits_total > 0) /* the run wrote packs */
		odb_index_packs(a);
	return n;
}
