/*
 * Reposts and near-duplicates: the in-memory index over the archived
 * articles (simhash tables, sentence postings, exact fingerprints), the
 * document frequency of sentences that tells boilerplate from story, and
 * the search that turns a new text into new, repost, alias or
 * near-duplicate. docs/dedup.md explains the thresholds.
 *
 * Candidates: articles sharing a sentence (sentences held by more than
 * CANDIDATE_DF_MAX stories are too common to list), and articles whose
 * simhash is within SIMHASH_K. Each candidate is verified on character
 * 5-grams of the harsh text without boilerplate sentences (held by
 * COMMON_DF stories or more): a near-duplicate when Jaccard >= NEAR_JACCARD
 * or containment >= NEAR_CONTAINMENT.
 */
#include "internal.h"
#include "stet/input.h"

#include <stdlib.h>
#include <string.h>

#define CANDIDATE_DF_MAX 50
#define SIMHASH_K 3
#define MAX_CANDIDATES 12
#define COMMON_DF 5
#define NEAR_JACCARD 0.3
#define NEAR_CONTAINMENT 0.8

/* ---- a small counter: sentence -> count ---- */

struct counter {
	uint64_t *keys;
	int32_t *vals;
	size_t n, used;
};

static size_t cslot(const struct counter *c, uint64_t k)
{
	size_t i = (size_t)(k * 0x9E3779B97F4A7C15ull >> 11) & (c->n - 1);
	while (c->vals[i] != INT32_MIN && c->keys[i] != k)
		i = (i + 1) & (c->n - 1);
	return i;
}

static int counter_add(struct counter **cp, uint64_t k, int delta)
{
	struct counter *c = *cp;
	size_t i;

	if (!c) {
		if (!(c = stet_calloc(1, sizeof(*c))))
			return stet_error_oom();
		*cp = c;
	}
	if ((c->used + 1) * 2 > c->n) {
		size_t n = c->n ? c->n * 2 : 4096, j;
		uint64_t *ok = c->keys;
		int32_t *ov = c->vals;
		size_t on = c->n;
		uint64_t *nk = stet_malloc(n * sizeof(*nk));
		int32_t *nv = stet_malloc(n * sizeof(*nv));
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return stet_error_oom();
		}
		for (j = 0; j < n; j++)
			nv[j] = INT32_MIN;
		c->keys = nk;
		c->vals = nv;
		c->n = n;
		for (j = 0; j < on; j++)
			if (ov[j] != INT32_MIN) {
				size_t s = cslot(c, ok[j]);
				c->keys[s] = ok[j];
				c->vals[s] = ov[j];
			}
		free(ok);
		free(ov);
	}
	i = cslot(c, k);
	if (c->vals[i] == INT32_MIN) {
		c->keys[i] = k;
		c->vals[i] = 0;
		c->used++;
	}
	c->vals[i] += delta;
	return 0;
}

static int counter_get(const struct counter *c, uint64_t k)
{
	size_t i;
	if (!c || !c->n)
		return 0;
	i = cslot(c, k);
	return c->vals[i] == INT32_MIN ? 0 : c->vals[i];
}

static uint64_t exact64(const char *hex) { return snap_exact64(hex); }

static void counter_free(struct counter **c)
{
	if (*c) {
		free((*c)->keys);
		free((*c)->vals);
		free(*c);
		*c = NULL;
	}
}

/* ---- the index ---- */

static void text_drop(stet_archive *a, size_t entry);

void index_free(stet_archive *a)
{
	size_t i;
	for (i = 0; i < a->ntexts; i++)
		text_drop(a, i);
	free(a->texts);
	a->texts = NULL;
	a->ntexts = a->text_bytes = 0;
	stet_simindex_free(a->sim);
	stet_postings_free(a->sentences);
	stet_postings_free(a->exacts);
	counter_free(&a->observed);
	counter_free(&a->unposted);
	a->sim = NULL;
	a->sentences = a->exacts = NULL;
}

/* Which of an article's sentences are the first of their value (one it
 * has twice counts once): *firsts[i], from a table of the values seen, so
 * that a long article (a hostile one: 40,000 lines took 2 s, most of it
 * here, comparing each with every earlier one) costs what it holds. Up to
 * FIRSTS_SCAN sentences *firsts is NULL and is_first compares. */
#define FIRSTS_SCAN 32

static int mark_firsts(unsigned char **firsts, const uint64_t *v, size_t n)
{
	size_t slots = 64, i;
	uint64_t *t;
	unsigned char *used, *out;

	*firsts = NULL;
	if (n <= FIRSTS_SCAN)
		return 0;
	while (slots < 2 * n)
		slots *= 2;
	t = stet_malloc(slots * sizeof(*t));
	used = stet_calloc(slots, 1);
	out = stet_malloc(n);
	if (!t || !used || !out) {
		free(t);
		free(used);
		free(out);
		return stet_error_oom();
	}
	for (i = 0; i < n; i++) { /* the values are XXH3 hashes: their low bits place them */
		size_t h = (size_t)v[i] & (slots - 1);
		while (used[h] && t[h] != v[i])
			h = (h + 1) & (slots - 1);
		out[i] = !used[h];
		used[h] = 1;
		t[h] = v[i];
	}
	free(t);
	free(used);
	*firsts = out;
	return 0;
}

static int is_first(const uint64_t *v, size_t i, const unsigned char *firsts)
{
	size_t j;
	if (firsts)
		return firsts[i];
	for (j = 0; j < i; j++)
		if (v[j] == v[i])
			return 0;
	return 1;
}

int index_add(stet_archive *a, size_t entry)
{
	keyent *e = a->keys.v[entry];
	size_t i;
	int error = 0;

	if (e->kind != KE_ARTICLE || !e->fp.exact[0] || !strcmp(e->fp.exact, "-"))
		return 0;
	if (!e->fp.too_short && (error = stet_simindex_add(a->sim, (uint32_t)entry, e->fp.simhash)) < 0)
		return error;
	if ((error = stet_postings_add(a->exacts, exact64(e->fp.exact), (uint32_t)entry)) < 0)
		return error;
	for (i = 0; i < e->fp.nsent && !error; i++)
		error = stet_postings_add(a->sentences, e->fp.sent[i], (uint32_t)entry);
	return error;
}

/* The index in memory holds the entries read from the journal and those
 * a run adds; the snapshot's tables hold the rest. Entries the journal
 * changed are in both: their sentences in the snapshot are counted out
 * (unposted) and their ids there skipped (stale). */
int index_build(stet_archive *a)
{
	size_t i, nsent = 0;
	int error;

	index_free(a);
	if ((error = stet_simindex_new(&a->sim)) < 0 || (error = stet_postings_new(&a->sentences)) < 0 ||
	    (error = stet_postings_new(&a->exacts)) < 0)
		return error;
	for (i = 0; i < a->keys.n; i++)
		nsent += a->keys.v[i]->fp.nsent;
	if ((error = stet_postings_reserve(a->sentences, nsent)) < 0 ||
	    (error = stet_postings_reserve(a->exacts, a->keys.n)) < 0)
		return error;
	/* not the entries whose postings in the snapshot are still theirs */
	for (i = 0; i < a->keys.n && !error; i++)
		if (!a->keys.v[i]->snap || a->keys.v[i]->stale)
			error = index_add(a, i);
	for (i = 0; i < a->keys.n && !error && a->keys.snap; i++) {
		const keyent *e = a->keys.v[i];
		const snap_ent *s;
		const snap *L;
		uint32_t local;
		size_t j;
		if (!e->snap || !e->stale)
			continue;
		if (!(L = keymap_layer(&a->keys, e->snap - 1, &local))) {
			error = stet_error_set(STET_ECORRUPT, "key cache: no snapshot entry %u", (unsigned)(e->snap - 1));
			break;
		}
		if ((error = snap_get(&s, L, local)) < 0)
			break;
		if (!snap_indexed(s))
			continue;
		/* one posting a sentence of the entry (two for a repeated one
		 * before version 4) */
		{
			const uint64_t *sent = snap_num(L, s->sent);
			unsigned char *firsts = NULL;
			int once = snap_version(L) >= 4;
			if (once && (error = mark_firsts(&firsts, sent, s->nsent)) < 0)
				break;
			for (j = 0; j < s->nsent && !error; j++)
				if (!once || is_first(sent, j, firsts))
					error = counter_add(&a->unposted, sent[j], 1);
			free(firsts);
		}
	}
	if (!error)
		stet_simindex_compact(a->sim);
	return error;
}

/* the snapshots in id order: k 0 the big one, 1 the middle one, 2 the
 * small one (NULL: none); *first the id of its first entry */
enum { LAYERS = 3 };
static const snap *layer(const stet_archive *a, int k, uint32_t *first)
{
	*first = k == 2 ? (uint32_t)a->keys.nmid : k ? (uint32_t)a->keys.nbase : 0;
	return k == 2 ? a->keys.top : k ? a->keys.mid : a->keys.snap;
}

/* the entry of snapshot entry id's posting (taken over on first use), or
 * NULL when that posting is not its own any more (the journal replaced
 * it: its postings are in memory) */
static int posting_entry(keyent **out, stet_archive *a, uint32_t id)
{
	uint32_t at = id < a->keys.nsnap ? a->keys.shadow[id] : 0;
	*out = NULL;
	if (at && a->keys.v[at - 1]->stale)
		return 0;
	return keymap_from_snap(out, &a->keys, id);
}

/* what the key cache holds of a sentence: its postings in each snapshot,
 * how many postings it has in all (in memory, and in the snapshots
 * without the stale ones), and its count of stories (df: those, and the
 * inputs still coming that have it). One look asks each snapshot once:
 * find_similar asked each up to four times a sentence, and at 1,000,000
 * articles (three snapshots, each a read at a random page) that was a
 * twentieth of a run */
typedef struct {
	const uint32_t *ids[LAYERS];
	size_t n[LAYERS];
	size_t postings, df;
} sentence_look;

/* what memory holds of a sentence: its postings there, and the inputs
 * still coming that have it */
static void in_memory(stet_archive *a, uint64_t s, size_t *postings, size_t *coming)
{
	int obs = counter_get(a->observed, s);
	*postings = 0;
	stet_postings_get(a->sentences, s, postings);
	*coming = obs > 0 ? (size_t)obs : 0;
}

static int look_up(sentence_look *l, stet_archive *a, uint64_t s)
{
	size_t n, coming, sn = 0;
	int k, error;

	in_memory(a, s, &n, &coming);
	for (k = 0; k < LAYERS; k++) {
		uint32_t first;
		const snap *L = a->keys.snap ? layer(a, k, &first) : NULL;
		l->ids[k] = NULL;
		l->n[k] = 0;
		if (L && (error = snap_sentences(L, s, &l->ids[k], &l->n[k])) < 0)
			return error;
		sn += l->n[k];
	}
	if (sn) {
		int un = counter_get(a->unposted, s);
		sn -= un > 0 && (size_t)un <= sn ? (size_t)un : 0;
	}
	l->postings = n + sn;
	l->df = l->postings + coming;
	return 0;
}

size_t sentence_df(stet_archive *a, uint64_t s)
{
	sentence_look l;
	size_t n, coming;
	if (look_up(&l, a, s) == 0)
		return l.df;
	/* a damaged snapshot: the error is set; count what memory has */
	in_memory(a, s, &n, &coming);
	return n + coming;
}

/* sentences' df, remembered through one find_similar (nothing it does
 * changes a count): the texts it compares ask for the same sentences
 * again (common_cb), the text's own all of them */
typedef struct {
	stet_archive *a;
	uint64_t *keys; /* open addressing; a sentence of hash 0 is not kept */
	size_t *df;
	size_t slots, n;
} df_memo;

static int memo_init(df_memo *m, stet_archive *a, size_t want)
{
	m->a = a;
	m->n = 0;
	for (m->slots = 64; m->slots < want * 2; m->slots *= 2)
		;
	m->keys = stet_calloc(m->slots, sizeof(*m->keys));
	m->df = stet_malloc(m->slots * sizeof(*m->df));
	if (!m->keys || !m->df) {
		free(m->keys);
		free(m->df);
		return stet_error_oom();
	}
	return 0;
}

static void memo_dispose(df_memo *m)
{
	free(m->keys);
	free(m->df);
}

/* s's slot: where it is, or the empty one where it goes */
static size_t memo_slot(const df_memo *m, uint64_t s)
{
	size_t i = (size_t)(s ^ (s >> 29)) & (m->slots - 1);
	while (m->keys[i] && m->keys[i] != s)
		i = (i + 1) & (m->slots - 1);
	return i;
}

/* remember s's df; when the table is full, it is not (it only saves) */
static void memo_put(df_memo *m, uint64_t s, size_t df)
{
	size_t i;
	if (!s || (m->n + 1) * 2 > m->slots)
		return;
	i = memo_slot(m, s);
	if (!m->keys[i]) {
		m->keys[i] = s;
		m->n++;
	}
	m->df[i] = df;
}

static size_t memo_df(df_memo *m, uint64_t s)
{
	size_t i, df;
	if (s && m->keys[i = memo_slot(m, s)])
		return m->df[i];
	df = sentence_df(m->a, s);
	memo_put(m, s, df);
	return df;
}

int observe(stet_archive *a, const stet_fingerprint *f, int sign)
{
	unsigned char *firsts;
	size_t i;
	int error;

	if ((error = mark_firsts(&firsts, f->sent, f->nsent)) < 0)
		return error;
	for (i = 0; i < f->nsent && !error; i++)
		if (is_first(f->sent, i, firsts))
			error = counter_add(&a->observed, f->sent[i], sign);
	free(firsts);
	return error;
}

int stet_archive_observe(stet_archive *a, const stet_canon *c, const stet_prepared *p)
{
	stet_fingerprint f;
	int error;

	if (p)
		return observe(a, &p->fp, +1);
	if ((error = stet_fp_compute(&f, c->body)) < 0)
		return error;
	error = observe(a, &f, +1);
	stet_fp_dispose(&f);
	return error;
}

/* ---- reading what is archived ---- */

int read_archived(stet_canon **c, afields *f, stet_archive *a, const git_oid *blob)
{
	git_blob *b = NULL;
	stet_article *art = NULL;
	int error;

	if (c)
		*c = NULL;
	if ((error = git_blob_lookup(&b, a->repo, blob)) < 0)
		return stet_git_error(error, git_oid_tostr_s(blob));
	if (!c) /* its fields only */
		error = afields_read(f, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	else if ((error = stet_input_read(&art, "archived", git_blob_rawcontent(b), (size_t)git_blob_rawsize(b))) == 0 &&
		 (error = stet_canon_new(c, art)) == 0 && f)
		error = afields_read(f, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	stet_article_free(art);
	git_blob_free(b);
	return error;
}

/* At most this much prepared text is kept in memory for verification. */
#define TEXT_CACHE_BYTES (256u << 20)

/* what a kept text counts against TEXT_CACHE_BYTES */
static size_t text_cost(const stet_fp_text *t) { return t->harsh.size + t->tokens.n * sizeof(*t->tokens.v); }

static void text_drop(stet_archive *a, size_t entry)
{
	if (entry < a->ntexts && a->texts[entry]) {
		a->text_bytes -= text_cost(a->texts[entry]);
		stet_fp_text_dispose(a->texts[entry]);
		free(a->texts[entry]);
		a->texts[entry] = NULL;
	}
}

/* take over t (emptied) into the cache if there is room; 0 if taken */
static int text_put(stet_archive *a, size_t entry, stet_fp_text *t)
{
	stet_fp_text *copy;

	if (entry >= a->ntexts) {
		size_t n = entry + 1 > a->ntexts * 2 ? entry + 1 : a->ntexts * 2;
		stet_fp_text **v = stet_realloc(a->texts, n * sizeof(*v));
		if (!v)
			return -1; /* a cache: without memory, go on without it */
		memset(v + a->ntexts, 0, (n - a->ntexts) * sizeof(*v));
		a->texts = v;
		a->ntexts = n;
	}
	text_drop(a, entry);
	if (a->text_bytes + text_cost(t) > TEXT_CACHE_BYTES || !(copy = stet_malloc(sizeof(*copy))))
		return -1;
	*copy = *t;
	memset(t, 0, sizeof(*t));
	a->texts[entry] = copy;
	a->text_bytes += text_cost(copy);
	return 0;
}

void text_keep(stet_archive *a, size_t entry, const char *body, stet_fp_text *prepared)
{
	stet_fp_text t;
	text_drop(a, entry);
	if (body && prepared) {
		t = *prepared;
		memset(prepared, 0, sizeof(*prepared));
	} else if (!body || stet_fp_text_prepare(&t, body) < 0) {
		stet_error_clear();
		return;
	}
	if (text_put(a, entry, &t) < 0)
		stet_fp_text_dispose(&t);
}

const stet_fp_text *text_kept(const stet_archive *a, size_t entry)
{
	return entry < a->ntexts ? a->texts[entry] : NULL;
}

int text_of(const stet_fp_text **out, stet_archive *a, size_t entry)
{
	static _Thread_local stet_fp_text spare; /* when the cache is full */
	stet_canon *c = NULL;
	stet_fp_text t;
	int error;

	if (entry < a->ntexts && a->texts[entry]) {
		*out = a->texts[entry];
		return 0;
	}
	if ((error = read_archived(&c, NULL, a, &a->keys.v[entry]->blob)) < 0)
		return error;
	error = stet_fp_text_prepare(&t, c->body);
	stet_canon_free(c);
	if (error < 0)
		return error;
	if (text_put(a, entry, &t) == 0) {
		*out = a->texts[entry];
		return 0;
	}
	stet_fp_text_dispose(&spare);
	spare = t;
	*out = &spare;
	return 0;
}

/* ---- finding a duplicate ---- */

typedef struct {
	uint32_t id;  /* entry */
	uint32_t gid; /* its place in the archive's order: ties go to the older */
	int score;
} cand;

typedef struct {
	cand v[256];
	size_t n;
	stet_archive *a;
	size_t self;
	int error;
	uint32_t first; /* the snapshot queried: the id of its first entry */
} cands;

static void bump(cands *cs, const keyent *e, int by)
{
	size_t i;
	if (e->idx == cs->self || e->kind != KE_ARTICLE)
		return;
	for (i = 0; i < cs->n; i++)
		if (cs->v[i].id == e->idx) {
			cs->v[i].score += by;
			return;
		}
	if (cs->n < sizeof(cs->v) / sizeof(cs->v[0])) {
		cs->v[cs->n].id = (uint32_t)e->idx;
		cs->v[cs->n].gid = e->gid;
		cs->v[cs->n++].score = by;
	}
}

static int sim_cb(uint32_t id, uint64_t fp, int distance, void *payload)
{
	cands *cs = payload;
	(void)fp;
	bump(cs, cs->a->keys.v[id], SIMHASH_K + 1 - distance);
	return 0;
}

static int snap_sim_cb(uint32_t id, uint64_t fp, int distance, void *payload)
{
	cands *cs = payload;
	keyent *e;
	int error;
	(void)fp;
	if ((error = posting_entry(&e, cs->a, id + cs->first)) < 0)
		return error;
	if (e)
		bump(cs, e, SIMHASH_K + 1 - distance);
	return 0;
}

static int by_score(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	return a->score != b->score ? b->score - a->score : (a->gid > b->gid) - (a->gid < b->gid);
}

static int common_cb(uint64_t s, void *payload)
{
	return memo_df(payload, s) >= COMMON_DF;
}

static int near_cb(size_t entry, const stet_fp_overlap *o, int distance, void *payload);

static int by_gid(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	return (a->gid > b->gid) - (a->gid < b->gid);
}

int find_duplicate(dup_match *m, stet_archive *a, const stet_canon *c, const char *source, const stet_fingerprint *f,
		   size_t self, const stet_fp_text *mine)
{
	const uint32_t *ids;
	size_t n, i;
	cand *list = NULL;
	size_t nlist = 0;
	int error = 0;

	memset(m, 0, sizeof(*m));
	m->verdict = STET_V_NEW;
	m->distance = -1;
	/* exact: the same text (after the harsh normalization); the archive's
	 * older entry first */
	{
		size_t ln[LAYERS] = { 0 };
		const uint32_t *lids[LAYERS] = { NULL };
		uint32_t first[LAYERS];
		int k;
		ids = stet_postings_get(a->exacts, exact64(f->exact), &n);
		for (k = 0; k < LAYERS; k++) {
			const snap *L = layer(a, k, &first[k]);
			if (L && (error = snap_exacts(L, exact64(f->exact), &lids[k], &ln[k])) < 0)
				return error;
		}
		if (n + ln[0] + ln[1] + ln[2] && !(list = stet_malloc((n + ln[0] + ln[1] + ln[2]) * sizeof(*list))))
			return stet_error_oom();
		/* (taking an entry over adds nothing to the memory's postings:
		 * ids stays valid) */
		for (k = 0; k < LAYERS; k++)
			for (i = 0; i < ln[k]; i++) {
				keyent *e;
				if ((error = posting_entry(&e, a, lids[k][i] + first[k])) < 0)
					goto done;
				if (!e)
					continue;
				list[nlist].id = (uint32_t)e->idx;
				list[nlist++].gid = e->gid;
			}
		for (i = 0; i < n; i++) {
			list[nlist].id = ids[i];
			list[nlist++].gid = a->keys.v[ids[i]]->gid;
		}
		if (a->keys.snap && nlist > 1)
			qsort(list, nlist, sizeof(*list), by_gid);
	}
	for (i = 0; i < nlist; i++) {
		keyent *d = a->keys.v[list[i].id];
		stet_canon *dc = NULL;
		if (list[i].id == self || d->kind != KE_ARTICLE || strcmp(d->fp.exact, f->exact))
			continue;
		if ((error = read_archived(&dc, NULL, a, &d->blob)) < 0)
			goto done;
		m->verdict = dc->source && source && !strcmp(dc->source, source) ? STET_V_ALIAS : STET_V_REPOST;
		m->of = list[i].id;
		m->distance = 0;
		m->containment = 1.0;
		stet_canon_free(dc);
		goto done;
	}
	free(list);
	return find_similar(a, c, f, self, 0, near_cb, m, mine);
done:
	free(list);
	return error;
}

static int near_cb(size_t entry, const stet_fp_overlap *o, int distance, void *payload)
{
	dup_match *m = payload;
	if (m->verdict != STET_V_NEAR || o->containment > m->containment) {
		m->verdict = STET_V_NEAR;
		m->of = entry;
		m->containment = o->containment;
		m->distance = distance;
	}
	return 0;
}

int find_similar(stet_archive *a, const stet_canon *c, const stet_fingerprint *f, size_t self, int all, match_cb cb,
		 void *payload, const stet_fp_text *prepared)
{
	const uint32_t *ids;
	size_t n, i, j;
	cands cs;
	stet_fp_text self_text;
	stet_fp_side my_side;
	const stet_fp_text *mine = prepared;
	unsigned char *firsts = NULL;
	sentence_look *look;
	df_memo memo;
	int error = 0, k;

	/* candidates by shared sentences and by simhash. Sentences that are
	 * boilerplate only make candidates of texts that are nearly all
	 * boilerplate themselves (a story reposted many times): elsewhere they
	 * cannot pass the verification, which leaves them out */
	size_t own = 0;
	cs.n = 0;
	cs.a = a;
	cs.self = self;
	cs.error = 0;
	if (!(look = stet_malloc((f->nsent ? f->nsent : 1) * sizeof(*look))))
		return stet_error_oom();
	if ((error = memo_init(&memo, a, f->nsent + 64)) < 0) {
		free(look);
		return error;
	}
	/* a text's sentences are each a read at a random place of every
	 * snapshot (at 1,000,000 articles, of 1.1 GB): asked of the memory
	 * all together first, their waits overlap rather than follow each
	 * other */
	for (k = 0; k < 2 * LAYERS && a->keys.snap; k++) {
		uint32_t first;
		const snap *L = layer(a, k % LAYERS, &first);
		for (i = 0; L && i < f->nsent; i++)
			snap_sentences_prefetch(L, f->sent[i], k / LAYERS);
		if (L && !f->too_short) /* and the simhash's buckets, asked below */
			snap_sim_prefetch(L, f->simhash, k / LAYERS);
	}
	for (i = 0; i < f->nsent && !error; i++)
		if ((error = look_up(&look[i], a, f->sent[i])) == 0) {
			own += look[i].df < COMMON_DF;
			memo_put(&memo, f->sent[i], look[i].df);
		}
	if (!error)
		error = mark_firsts(&firsts, f->sent, f->nsent);
	for (i = 0; i < f->nsent && !error; i++) {
		if (!is_first(f->sent, i, firsts))
			continue;
		n = look[i].postings;
		if (!n || n > CANDIDATE_DF_MAX || (own >= 2 && look[i].df >= COMMON_DF))
			continue;
		for (k = 0; k < LAYERS && !error; k++) {
			uint32_t first;
			const uint32_t *sids = look[i].ids[k];
			layer(a, k, &first);
			for (j = 0; j < look[i].n[k]; j++) {
				keyent *e;
				if (j && sids[j] == sids[j - 1])
					continue; /* an article's repeated sentence (before version 4) */
				if ((error = posting_entry(&e, a, sids[j] + first)) < 0)
					break;
				if (e)
					bump(&cs, e, 1);
			}
		}
		if (error < 0)
			break;
		ids = stet_postings_get(a->sentences, f->sent[i], &n);
		for (j = 0; j < n; j++)
			bump(&cs, a->keys.v[ids[j]], 1);
	}
	free(firsts);
	free(look);
	if (error < 0)
		goto out;
	for (k = 0; k < LAYERS && !f->too_short; k++) {
		const snap *L = layer(a, k, &cs.first);
		if (L && (error = snap_sim_query(L, f->simhash, SIMHASH_K, snap_sim_cb, &cs)) < 0)
			goto out;
	}
	if (!f->too_short && (error = stet_simindex_query(a->sim, f->simhash, SIMHASH_K, sim_cb, &cs)) < 0)
		goto out;
	qsort(cs.v, cs.n, sizeof(cs.v[0]), by_score);
	if (!cs.n)
		goto out;
	if (!mine) {
		if ((error = stet_fp_text_prepare(&self_text, c->body)) < 0)
			goto out;
		mine = &self_text;
	}
	/* this text's side of the comparisons is made once (the callbacks
	 * leave the sentence counts that say what is common alone) */
	if ((error = stet_fp_side_prepare(&my_side, mine, common_cb, &memo)) < 0)
		goto done;
	for (i = 0; i < cs.n && i < MAX_CANDIDATES && !error; i++) {
		keyent *d = a->keys.v[cs.v[i].id];
		const stet_fp_text *theirs;
		stet_fp_side their_side;
		stet_fp_overlap o;
		if (cs.v[i].id == self || d->kind != KE_ARTICLE)
			continue;
		if ((error = text_of(&theirs, a, cs.v[i].id)) < 0 ||
		    (error = stet_fp_side_prepare(&their_side, theirs, common_cb, &memo)) < 0)
			break;
		error = stet_fp_overlap_sides(&o, &my_side, &their_side);
		stet_fp_side_dispose(&their_side);
		if (error < 0)
			break;
		if (all || o.jaccard >= NEAR_JACCARD || o.containment >= NEAR_CONTAINMENT) {
			int distance = f->too_short || d->fp.too_short ? -1 : stet_fp_hamming(f->simhash, d->fp.simhash);
			error = cb(cs.v[i].id, &o, distance, payload);
		}
	}
	stet_fp_side_dispose(&my_side);
done:
	if (mine == &self_text)
		stet_fp_text_dispose(&self_text);
out:
	memo_dispose(&memo);
	return error;
}
