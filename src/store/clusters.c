/*
 * Repost clusters, similar articles, and the index's own maintenance:
 * stet dups, stet similar, stet reindex, stet fsck. Clusters are derived:
 * near-duplicates name their original in their own file, reposts and
 * aliases are keys that point at the original, and union-find joins them.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t uf_find(size_t *p, size_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

int stet_archive_dups(stet_archive *a, const char *path, stet_dup_cb cb, void *payload)
{
	size_t n = a->keys.n, i, j, *parent, *size, cluster = 0, want = (size_t)-1;
	int error = 0;

	if (!(parent = stet_malloc((n + 1) * sizeof(*parent))) || !(size = stet_calloc(n + 1, sizeof(*size)))) {
		free(parent);
		return stet_error_oom();
	}
	for (i = 0; i < n; i++)
		parent[i] = i;
	for (i = 0; i < n; i++) {
		keyent *e = a->keys.v[i], *t = NULL;
		if (e->kind != KE_ARTICLE)
			t = keymap_by_path(&a->keys, e->path);
		else if (e->near_of)
			t = keymap_by_path(&a->keys, e->near_of);
		if (t) {
			size_t x = uf_find(parent, i), y = uf_find(parent, t->idx);
			/* the original stays the root */
			if (x != y)
				parent[x] = y;
		}
	}
	for (i = 0; i < n; i++)
		size[uf_find(parent, i)]++;
	if (path) {
		keyent *e = keymap_by_path(&a->keys, path);
		if (!e) {
			error = stet_error_set(STET_ENOTFOUND, "%s: not an article of the archive", path);
			goto done;
		}
		want = uf_find(parent, e->idx);
	}
	for (i = 0; i < n && !error; i++) {
		keyent *root = a->keys.v[i];
		stet_canon *rc = NULL;
		afields rf;
		if (parent[i] != i || size[i] < 2 || (want != (size_t)-1 && want != i))
			continue;
		cluster++;
		memset(&rf, 0, sizeof(rf));
		rf.distance = -1;
		/* the original, then its members in archive order */
		{
			stet_dup d = { root->path, "original", NULL, root->key, root->title, NULL, -1, 0 };
			if ((error = cb(cluster, &d, payload)) != 0)
				break;
		}
		if (read_archived(&rc, &rf, a, &root->blob) < 0)
			stet_error_clear(); /* the lists below fall back to the keys alone */
		for (j = 0; j < n && !error; j++) {
			keyent *e = a->keys.v[j];
			stet_dup d;
			size_t k;
			if (j == i || uf_find(parent, j) != i)
				continue;
			memset(&d, 0, sizeof(d));
			d.key = e->key;
			d.title = e->title;
			d.distance = -1;
			if (e->kind == KE_ARTICLE) {
				d.path = e->path;
				d.relation = "near-duplicate";
				d.of = e->near_of;
				d.distance = e->distance;
				d.containment = e->containment;
			} else {
				d.path = e->path;
				d.of = e->path;
				d.relation = e->kind == KE_ALIAS ? "alias" : "repost";
				d.containment = 1.0;
				d.distance = 0;
				for (k = 0; k < rf.repost_key.n; k++)
					if (!strcmp(rf.repost_key.v[k], e->key) && rf.repost_source.v[k][0])
						d.source = rf.repost_source.v[k];
			}
			error = cb(cluster, &d, payload);
		}
		stet_canon_free(rc);
		afields_dispose(&rf);
	}
done:
	free(parent);
	free(size);
	return error;
}

typedef struct {
	stet_archive *a;
	stet_similar_cb cb;
	void *payload;
} sim_ctx;

static int similar_one(size_t entry, const stet_fp_overlap *o, int distance, void *payload)
{
	sim_ctx *s = payload;
	keyent *e = s->a->keys.v[entry];
	stet_similar r;

	memset(&r, 0, sizeof(r));
	r.path = e->path;
	r.title = e->title;
	r.distance = distance;
	r.jaccard = o->jaccard;
	r.containment = o->containment;
	r.duplicate = o->jaccard >= 0.3 || o->containment >= 0.8;
	return s->cb(&r, s->payload);
}

int stet_archive_similar(stet_archive *a, const stet_canon *c, stet_similar_cb cb, void *payload)
{
	stet_fingerprint f;
	dup_match m;
	sim_ctx s = { a, cb, payload };
	int error;

	if ((error = stet_fp_compute(&f, c->body)) < 0)
		return error;
	if ((error = find_duplicate(&m, a, c, c->source, &f, (size_t)-1, NULL)) == 0 &&
	    (m.verdict == STET_V_REPOST || m.verdict == STET_V_ALIAS)) {
		stet_similar r;
		keyent *e = a->keys.v[m.of];
		memset(&r, 0, sizeof(r));
		r.path = e->path;
		r.title = e->title;
		r.distance = 0;
		r.jaccard = r.containment = 1.0;
		r.duplicate = r.exact = 1;
		error = cb(&r, payload);
	} else if (error == 0) {
		error = find_similar(a, c, &f, (size_t)-1, 1, similar_one, &s, NULL);
	}
	stet_fp_dispose(&f);
	return error;
}

static char *cache_file(stet_archive *a)
{
	stet_buf b = STET_BUF_INIT;
	stet_buf_printf(&b, "%s/stet/keys", a->gitdir);
	return stet_buf_detach(&b);
}

int stet_archive_reindex(stet_archive *a, size_t *articles)
{
	char *file = cache_file(a);
	size_t i;
	int error;

	if (!file)
		return stet_error_oom();
	remove(file);
	free(file);
	keymap_dispose(&a->keys);
	if ((error = keys_load(a)) < 0 || (error = keys_save(a)) < 0)
		return error;
	*articles = 0;
	for (i = 0; i < a->keys.n; i++)
		*articles += a->keys.v[i]->kind == KE_ARTICLE;
	return 0;
}

int stet_archive_fsck(stet_archive *a, stet_problem_cb cb, void *payload)
{
	keymap cached = a->keys;
	stet_buf msg = STET_BUF_INIT;
	size_t i, problems = 0;
	int error;

	/* rebuild from the repository beside what the cache said */
	memset(&a->keys, 0, sizeof(a->keys));
	index_free(a);
	{
		char *file = cache_file(a);
		char *tmp = NULL;
		stet_buf t = STET_BUF_INIT;
		if (!file) {
			a->keys = cached;
			return stet_error_oom();
		}
		stet_buf_printf(&t, "%s.fsck", file);
		tmp = stet_buf_detach(&t);
		/* load without the cache: move it aside for the rebuild */
		if (tmp && rename(file, tmp) == 0) {
			error = keys_load(a);
			rename(tmp, file);
		} else {
			error = keys_load(a);
		}
		free(tmp);
		free(file);
	}
	if (error < 0) {
		keymap_dispose(&cached);
		return error;
	}
	for (i = 0; i < cached.n; i++) {
		keyent *c = cached.v[i], *r = keymap_by_key(&a->keys, c->key);
		stet_buf_clear(&msg);
		if (!r)
			stet_buf_printf(&msg, "the index knows key %s (%s), the repository does not", c->key, c->path);
		else if (strcmp(r->path, c->path))
			stet_buf_printf(&msg, "key %s: the index says %s, the repository %s", c->key, c->path, r->path);
		else if (c->kind == KE_ARTICLE && !git_oid_equal(&r->blob, &c->blob))
			stet_buf_printf(&msg, "%s: the index has blob %.12s, the repository %.12s", c->path,
					git_oid_tostr_s(&c->blob), git_oid_tostr_s(&r->blob));
		else if (c->kind == KE_ARTICLE && (strcmp(r->hash, c->hash) || strcmp(r->fp.exact, c->fp.exact) ||
						   r->fp.simhash != c->fp.simhash || r->fp.nsent != c->fp.nsent))
			stet_buf_printf(&msg, "%s: the index's fingerprints differ from the file's", c->path);
		if (msg.size) {
			problems++;
			if ((error = cb(msg.ptr, payload)) != 0)
				break;
		}
	}
	for (i = 0; i < a->keys.n && !error; i++) {
		keyent *r = a->keys.v[i];
		if (keymap_by_key(&cached, r->key))
			continue;
		stet_buf_clear(&msg);
		stet_buf_printf(&msg, "the repository has %s (%s), the index does not", r->key, r->path);
		problems++;
		error = cb(msg.ptr, payload);
	}
	keymap_dispose(&cached);
	stet_buf_dispose(&msg);
	return error < 0 ? error : (int)problems;
}
