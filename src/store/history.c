/*
 * Reading the history: which article an argument names, the versions of
 * an article, the events on main. Commits carry their article's key in a
 * Stet-Key trailer, so an event's article is found without diffing trees.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int key_of_commit(char *out, size_t outsz, git_commit *c)
{
	const char *msg = git_commit_message(c), *k = strstr(msg, "\nStet-Key: ");
	size_t n;

	if (!k)
		return 0;
	k += strlen("\nStet-Key: ");
	n = strcspn(k, "\n");
	if (n >= outsz)
		return 0;
	memcpy(out, k, n);
	out[n] = '\0';
	return 1;
}

static const char *strip_scheme(const char *u)
{
	return !strncmp(u, "https://", 8) ? u + 8 : !strncmp(u, "http://", 7) ? u + 7 : u;
}

int stet_archive_resolve(char **out, stet_archive *a, const char *article)
{
	keyent *e = NULL, *match = NULL;
	size_t i, rl = strlen(a->root), nmatch = 0;
	const char *p = article;
	char *url = NULL;
	int error = 0;

	*out = NULL;
	/* a path: relative to the archive, or a file system path inside it */
	if (!strncmp(p, a->root, rl) && p[rl] == '/')
		p += rl + 1;
	while (!strncmp(p, "./", 2))
		p += 2;
	if ((e = keymap_by_path(&a->keys, p)))
		goto found;
	/* a URL or a key */
	if (strstr(article, "://")) {
		if ((error = stet_canon_url(&url, article)) < 0)
			return error;
		e = keymap_by_key(&a->keys, strip_scheme(url));
		free(url);
		if (e)
			goto found;
	}
	if ((e = keymap_by_key(&a->keys, article)))
		goto found;
	/* a title fragment that names one article */
	for (i = 0; i < a->keys.n; i++) {
		if (stet_ascii_casestr(a->keys.v[i]->title, article)) {
			if (!nmatch++)
				match = a->keys.v[i];
		}
	}
	if (nmatch == 1) {
		e = match;
		goto found;
	}
	if (nmatch > 1)
		return stet_error_set(STET_EINVALID, "'%s' matches %zu articles (one is %s); give more of the title, a URL or a path",
				      article, nmatch, match->path);
	return stet_error_set(STET_ENOTFOUND, "no article matches '%s' (a path, URL, key or title fragment)", article);
found:
	return (*out = stet_strdup(e->path)) ? 0 : stet_error_oom();
}

static int blob_at(git_oid *out, git_commit *c, const char *path)
{
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	int found = 0;

	if (git_commit_tree(&t, c) == 0 && git_tree_entry_bypath(&e, t, path) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(e));
		found = 1;
	}
	git_tree_entry_free(e);
	git_tree_free(t);
	return found;
}

typedef int (*commit_cb)(git_commit *c, const char *key, void *payload);

static int walk_main(stet_archive *a, commit_cb cb, void *payload)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int error;

	if (!a->have_tip)
		return 0;
	if ((error = git_revwalk_new(&walk, a->repo)) < 0 ||
	    (error = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL)) < 0 ||
	    (error = git_revwalk_push(walk, &a->tip)) < 0) {
		error = stet_git_error(error, "walking main");
		goto done;
	}
	while ((error = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		char key[4096];
		if ((error = git_commit_lookup(&c, a->repo, &id)) < 0) {
			error = stet_git_error(error, "reading a commit");
			break;
		}
		error = cb(c, key_of_commit(key, sizeof(key), c) ? key : NULL, payload);
		git_commit_free(c);
		if (error)
			break;
	}
	if (error == GIT_ITEROVER || error > 0)
		error = 0;
	else if (error < 0 && !stet_error_code())
		error = stet_git_error(error, "walking main");
done:
	git_revwalk_free(walk);
	return error;
}

typedef struct {
	stet_archive *a;
	const char *path;
	const char *key;
	stet_log_cb cb;
	void *payload;
	stet_revinfo *v;
	size_t n, cap;
} hist_ctx;

static int log_one(git_commit *c, const char *key, void *payload)
{
	hist_ctx *h = payload;
	keyent *e = key ? keymap_by_key(&h->a->keys, key) : NULL;
	stet_log_entry le;

	if (h->key && (!key || strcmp(key, h->key)))
		return 0;
	memset(&le, 0, sizeof(le));
	git_oid_tostr(le.commit, sizeof(le.commit), git_commit_id(c));
	le.subject = git_commit_summary(c);
	le.path = e ? e->path : NULL;
	le.time = (long long)git_commit_author(c)->when.time;
	le.ctime = (long long)git_commit_time(c);
	le.author = git_commit_author(c)->name;
	return h->cb(&le, h->payload);
}

int stet_archive_log(stet_archive *a, const char *path, stet_log_cb cb, void *payload)
{
	hist_ctx h;
	keyent *e = NULL;

	memset(&h, 0, sizeof(h));
	h.a = a;
	h.cb = cb;
	h.payload = payload;
	if (path) {
		if (!(e = keymap_by_path(&a->keys, path)))
			return stet_error_set(STET_ENOTFOUND, "%s: not an article of the archive", path);
		h.key = e->key;
	}
	return walk_main(a, log_one, &h);
}

static int version_one(git_commit *c, const char *key, void *payload)
{
	hist_ctx *h = payload;
	stet_revinfo *r;
	git_oid blob;

	if (!key || strcmp(key, h->key) || !blob_at(&blob, c, h->path))
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		stet_revinfo *v = stet_realloc(h->v, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		h->v = v;
		h->cap = cap;
	}
	r = &h->v[h->n];
	memset(r, 0, sizeof(*r));
	git_oid_tostr(r->commit, sizeof(r->commit), git_commit_id(c));
	git_oid_tostr(r->blob, sizeof(r->blob), &blob);
	r->time = (long long)git_commit_author(c)->when.time;
	r->ctime = (long long)git_commit_time(c);
	if (!(r->subject = stet_strdup(git_commit_summary(c))))
		return stet_error_oom();
	h->n++;
	return 0;
}

int stet_archive_versions(stet_revinfo **out, size_t *n, stet_archive *a, const char *path)
{
	hist_ctx h;
	keyent *e;
	size_t i;
	int error;

	*out = NULL;
	*n = 0;
	if (!(e = keymap_by_path(&a->keys, path)))
		return stet_error_set(STET_ENOTFOUND, "%s: not an article of the archive", path);
	memset(&h, 0, sizeof(h));
	h.a = a;
	h.path = path;
	h.key = e->key;
	if ((error = walk_main(a, version_one, &h)) < 0) {
		stet_versions_free(h.v, h.n);
		return error;
	}
	/* the walk is newest first; versions are numbered oldest first */
	for (i = 0; i < h.n / 2; i++) {
		stet_revinfo t = h.v[i];
		h.v[i] = h.v[h.n - 1 - i];
		h.v[h.n - 1 - i] = t;
	}
	*out = h.v;
	*n = h.n;
	return 0;
}

void stet_versions_free(stet_revinfo *v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(v[i].subject);
	free(v);
}

int stet_archive_read_blob(stet_buf *out, stet_archive *a, const char *blob_hex)
{
	git_oid id;
	git_blob *b = NULL;
	int error;

	if (git_oid_fromstr(&id, blob_hex) < 0)
		return stet_error_set(STET_EINVALID, "'%s' is not an object id", blob_hex);
	if ((error = git_blob_lookup(&b, a->repo, &id)) < 0)
		return stet_git_error(error, blob_hex);
	stet_buf_put(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	return stet_buf_check(out, blob_hex);
}
