/*
 * A multi-pack-index written by merging sorted lists: git's format
 * (version 1, SHA-1; git's gitformat-pack documentation, "multi-pack-index
 * files"): a header, a table of chunks, the packs' names (PNAM, sorted),
 * a fanout of the ids' first bytes (OIDF), the ids (OIDL), each one's pack
 * and offset (OOFF), offsets past 2 GiB (LOFF, when there are any), and
 * the SHA-1 of all of it.
 *
 * libgit2's writer reads every pack's index again and sorts all their
 * ids: 7 s at 1,000,000 articles (7.5 million objects). The lists given
 * here are already sorted (a multi-pack-index, a pack's index), so the
 * index is one merge of them, taken twice (to count, then to write the
 * ids and their places, each where it goes in the file), with memory for
 * the lists' heads and the writers' buffers only. Most ids come from one
 * list (the old index) in runs between the few others' heads, taken
 * without the heap (walk). odb.c says which lists and where the file goes.
 */
#include "internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ID = GIT_OID_RAWSZ };

/* ---- the lists, merged: each id once, in order ---- */

typedef struct {
	const midx_list *lists;
	size_t n;
	uint32_t *at;   /* each list's next entry */
	uint64_t *key;  /* its first 8 bytes, big-endian: most comparisons end there */
	size_t *heap;   /* the lists with entries left, least next id first */
	size_t nheap;
	const char *what;
} merge;

/* list a's next id before list b's (a tie: the earlier list first, so
 * that of one object in two lists the first list's place is kept) */
static int before(const merge *m, size_t a, size_t b)
{
	int c;
	if (m->key[a] != m->key[b])
		return m->key[a] < m->key[b];
	c = memcmp(m->lists[a].ids + (size_t)m->at[a] * ID, m->lists[b].ids + (size_t)m->at[b] * ID, ID);
	return c < 0 || (c == 0 && a < b);
}

static uint64_t key_of(const unsigned char *id)
{
	uint64_t k;
	memcpy(&k, id, sizeof(k));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	k = __builtin_bswap64(k);
#endif
	return k;
}

static void sift(merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, least = i, t;
		if (l < m->nheap && before(m, m->heap[l], m->heap[least]))
			least = l;
		if (r < m->nheap && before(m, m->heap[r], m->heap[least]))
			least = r;
		if (least == i)
			return;
		t = m->heap[i];
		m->heap[i] = m->heap[least];
		m->heap[least] = t;
		i = least;
	}
}

/* ---- the file: written through buffers ---- */

typedef struct hasher hasher;
static void hashed_up_to(hasher *h, uint64_t at);

/* One part of the file, written in order from where it starts: the head
 * (header, names, fanout, ids), and the places and large offsets, which
 * the same pass makes, each at its own offset */
typedef struct {
	int fd;
	hasher *h; /* the head's: told how far the file is written */
	unsigned char buf[1 << 16];
	size_t n;
	uint64_t at, started; /* where the buffer goes; of the bytes before, handed to the disk */
	int failed; /* errno of a failed write */
} out;

/* The disk is told to start on the bytes as they are written
 * (stet_write_behind): git's multi-pack-index is 200 MB at 1,000,000
 * articles, and the fsync after it (odb.c) waited 0.28 s for all of it,
 * after the merge that made it */
static void out_flush(out *o)
{
	if (!o->failed && o->n) {
		if (stet_pwrite_all(o->fd, o->buf, o->n, o->at) < 0)
			o->failed = errno ? errno : EIO;
		o->at += o->n;
	}
	o->n = 0;
	if (!o->failed) {
		o->started = stet_write_behind(o->fd, o->started, o->at);
		if (o->h)
			hashed_up_to(o->h, o->at);
	}
}

static inline void out_put(out *o, const void *p, size_t n)
{
	const unsigned char *b = p;
	if (n < sizeof(o->buf) - o->n) { /* most puts: 8 or 20 bytes */
		memcpy(o->buf + o->n, p, n);
		o->n += n;
		return;
	}
	while (n) {
		size_t k = sizeof(o->buf) - o->n < n ? sizeof(o->buf) - o->n : n;
		memcpy(o->buf + o->n, b, k);
		o->n += k;
		b += k;
		n -= k;
		if (o->n == sizeof(o->buf))
			out_flush(o);
	}
}

/* ---- the two passes ---- */

typedef struct {
	out *head, *places, *large; /* the writing pass's */
	const uint32_t *rank; /* a name's place among the sorted names */
	size_t nnames;
	uint64_t count, nlarge;
	uint32_t fanout[256];
	const char *what;
} pass;

/* each id once, with its pack's place among the sorted names and its
 * offset (placed: asked of its list only when the pass needs them) */
typedef void (*each_fn)(pass *p, const unsigned char *id, uint32_t pack, uint64_t off);

/* where entry i of l is: its pack's place among the sorted names */
static int where(pass *p, const midx_list *l, uint32_t i, uint32_t *pack, uint64_t *off)
{
	uint32_t name;
	if (l->where(l, i, &name, off) < 0 || name >= p->nnames)
		return stet_error_set(STET_ECORRUPT, "%s: %s does not say where an object is", p->what,
				      l->name ? l->name : "a list");
	*pack = p->rank[name];
	return 0;
}

/* each distinct id of the lists in order, given to fn; STET_ECORRUPT
 * when a list is not in order or cannot place an object.
 * The list at the heap's top gives a run of ids, up to the least head of
 * the others, without the heap: a merge of a multi-pack-index with a few
 * packs' indexes takes most ids from the one list, a dozen at a time */
static int walk(merge *m, pass *p, each_fn fn, int placed)
{
	const unsigned char *last = NULL;
	size_t i;
	int error;

	m->nheap = 0;
	for (i = 0; i < m->n; i++) {
		m->at[i] = 0;
		if (m->lists[i].n) {
			m->key[i] = key_of(m->lists[i].ids);
			m->heap[m->nheap++] = i;
		}
	}
	for (i = m->nheap; i-- > 0;)
		sift(m, i);
	while (m->nheap) {
		size_t k = m->heap[0], other = m->nheap > 1 ? m->heap[1] : (size_t)-1;
		const midx_list *l = &m->lists[k];
		const unsigned char *id = l->ids + (size_t)m->at[k] * ID;
		/* the run's first id may be the one given last, from another list */
		int skip = last && m->key[k] == key_of(last) && !memcmp(last, id, ID);

		if (m->nheap > 2 && before(m, m->heap[2], other))
			other = m->heap[2];
		for (;;) {
			uint64_t key;
			if (!skip) {
				uint32_t pack = 0;
				uint64_t off = 0;
				if (placed && (error = where(p, l, m->at[k], &pack, &off)) < 0)
					return error;
				fn(p, id, pack, off);
				last = id;
			}
			skip = 0;
			if (++m->at[k] == l->n) {
				m->heap[0] = m->heap[--m->nheap];
				break;
			}
			/* each list's ids strictly increasing: checked as they are taken */
			key = key_of(id + ID);
			if (key < m->key[k] || (key == m->key[k] && memcmp(id, id + ID, ID) >= 0))
				return stet_error_set(STET_ECORRUPT, "%s: the ids of %s are not in order", m->what,
						      l->name ? l->name : "a list");
			m->key[k] = key;
			id += ID;
			if (other != (size_t)-1 && !before(m, k, other))
				break;
		}
		sift(m, 0);
	}
	return 0;
}

static void count_one(pass *p, const unsigned char *id, uint32_t pack, uint64_t off)
{
	(void)pack;
	p->fanout[id[0]]++;
	p->count++;
	p->nlarge += off >= 0x80000000u;
}

static void put32(out *o, uint32_t v)
{
	unsigned char b[4];
	put_be32(b, v);
	out_put(o, b, 4);
}

static void put64(out *o, uint64_t v)
{
	put32(o, (uint32_t)(v >> 32));
	put32(o, (uint32_t)v);
}

/* the id, its pack and offset or (past 2 GiB) its place in LOFF, whose
 * entries come in the same order */
static void write_one(pass *p, const unsigned char *id, uint32_t pack, uint64_t off)
{
	uint32_t o = (uint32_t)off;
	unsigned char b[8];
	if (off >= 0x80000000u) {
		o = 0x80000000u | (uint32_t)p->nlarge++;
		put64(p->large, off);
	}
	put_be32(b, pack);
	put_be32(b + 4, o);
	out_put(p->head, id, ID);
	out_put(p->places, b, 8);
	p->count++;
}

typedef struct {
	const char *name;
	uint32_t given; /* its place among the names given */
} named;

static int by_name(const void *a, const void *b)
{
	return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* ---- the SHA-1 at the end ----
 *
 * The SHA-1 of everything before it, taken on a thread of its own that
 * reads the file back as the head is written (a quarter of the writing's
 * time at 1,000,000 articles, when it was taken as the head was written),
 * then the places and large offsets once all is written. */
struct hasher {
	int fd;
	EVP_MD_CTX *sha;
	pthread_mutex_t lock;
	pthread_cond_t more;
	uint64_t ready; /* bytes from the file's start written */
	int all;        /* and nothing more comes: the SHA-1 is of the first `ready` */
	int failed;     /* errno of a failed read, or -1 for SHA-1 */
	unsigned char buf[1 << 16];
};

static void hashed_up_to(hasher *h, uint64_t at)
{
	pthread_mutex_lock(&h->lock);
	h->ready = at;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
}

/* bytes [from, to) of the file into the hash: 0, or errno (-1: SHA-1) */
static int hash_range(hasher *h, uint64_t from, uint64_t to)
{
	while (from < to) {
		size_t k = to - from < sizeof(h->buf) ? (size_t)(to - from) : sizeof(h->buf);
		ssize_t r = pread(h->fd, h->buf, k, (off_t)from);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? errno : EIO;
		if (EVP_DigestUpdate(h->sha, h->buf, (size_t)r) != 1)
			return -1;
		from += (uint64_t)r;
	}
	return 0;
}

static void *hash_thread(void *arg)
{
	hasher *h = arg;
	uint64_t at = 0, to;
	int all;
	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (h->ready == at && !h->all)
			pthread_cond_wait(&h->more, &h->lock);
		to = h->ready;
		all = h->all;
		pthread_mutex_unlock(&h->lock);
		if ((h->failed = hash_range(h, at, to)) != 0 || all)
			return NULL;
		at = to;
	}
}

/* the hash thread told that the file ends at `end`, and waited for */
static void finish(hasher *h, uint64_t end, pthread_t thread)
{
	pthread_mutex_lock(&h->lock);
	h->ready = end;
	h->all = 1;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
	pthread_join(thread, NULL);
}

int midx_write(int fd, const char *what, const char *const *names, size_t nnames, const midx_list *lists,
	       size_t nlists)
{
	enum { PNAM = 0x504e414d, OIDF = 0x4f494446, OIDL = 0x4f49444c, OOFF = 0x4f4f4646, LOFF = 0x4c4f4646 };
	merge m = { lists, nlists, NULL, NULL, NULL, 0, what };
	named *order = NULL;
	uint32_t *rank = NULL;
	out *o = NULL, *places = NULL, *large = NULL;
	hasher *hs = NULL;
	pthread_t thread;
	pass p;
	size_t i, names_size = 0, chunks;
	uint64_t at, count, nlarge, ooff, loff;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int error = 0, placed = 0, failed, threaded = 0;

	memset(&p, 0, sizeof(p));
	p.what = what;
	p.nnames = nnames;
	if (nnames >= UINT32_MAX)
		return stet_error_set(STET_ETOOBIG, "%s: too many packs", what);
	if (!(m.at = stet_calloc(nlists + 1, sizeof(*m.at))) || !(m.key = stet_calloc(nlists + 1, sizeof(*m.key))) ||
	    !(m.heap = stet_calloc(nlists + 1, sizeof(*m.heap))) ||
	    !(order = stet_calloc(nnames + 1, sizeof(*order))) || !(rank = stet_calloc(nnames + 1, sizeof(*rank))) ||
	    !(o = stet_calloc(1, sizeof(*o))) || !(places = stet_calloc(1, sizeof(*places))) ||
	    !(large = stet_calloc(1, sizeof(*large))) || !(hs = stet_calloc(1, sizeof(*hs))) ||
	    !(hs->sha = EVP_MD_CTX_new())) {
		error = stet_error_oom();
		goto done;
	}
	/* the names sorted, as git requires; each once */
	for (i = 0; i < nnames; i++) {
		order[i].name = names[i];
		order[i].given = (uint32_t)i;
		names_size += strlen(names[i]) + 1;
	}
	qsort(order, nnames, sizeof(*order), by_name);
	for (i = 0; i < nnames; i++) {
		if (i && !strcmp(order[i - 1].name, order[i].name)) {
			error = stet_error_set(STET_EINVALID, "%s: pack %s named twice", what, order[i].name);
			goto done;
		}
		rank[order[i].given] = (uint32_t)i;
	}
	p.rank = rank;
	/* the count: each list's places asked only when one may be past 2 GiB
	 * (the header then has a table of them) */
	for (i = 0; i < nlists; i++)
		placed |= !lists[i].small;
	if ((error = walk(&m, &p, count_one, placed)) < 0)
		goto done;
	if (p.count >= UINT32_MAX || p.nlarge >= 0x80000000u) {
		error = stet_error_set(STET_ETOOBIG, "%s: too many objects", what);
		goto done;
	}
	count = p.count;
	nlarge = p.nlarge;
	if (EVP_DigestInit_ex(hs->sha, EVP_sha1(), NULL) != 1) {
		error = stet_error_set(STET_EIO, "%s: SHA-1 is not available", what);
		goto done;
	}
	chunks = nlarge ? 5 : 4;
	o->fd = places->fd = large->fd = hs->fd = fd;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->more, NULL);
	o->h = hs;
	/* without a thread, the hash is taken at the end */
	threaded = pthread_create(&thread, NULL, hash_thread, hs) == 0;
	out_put(o, "MIDX", 4);
	{
		unsigned char h[4] = { 1, 1, (unsigned char)chunks, 0 }; /* version, SHA-1, chunks, no base */
		out_put(o, h, 4);
	}
	put32(o, (uint32_t)nnames);
	/* the chunks' table: id and offset each, then a zero id at the end */
	at = 12 + (chunks + 1) * 12;
	put32(o, PNAM);
	put64(o, at);
	at += (names_size + 3) / 4 * 4;
	put32(o, OIDF);
	put64(o, at);
	at += 256 * 4;
	put32(o, OIDL);
	put64(o, at);
	at += count * ID;
	put32(o, OOFF);
	put64(o, at);
	ooff = at;
	at += count * 8;
	loff = at;
	if (nlarge) {
		put32(o, LOFF);
		put64(o, at);
		at += nlarge * 8;
	}
	put32(o, 0);
	put64(o, at);
	for (i = 0; i < nnames; i++)
		out_put(o, order[i].name, strlen(order[i].name) + 1);
	out_put(o, "\0\0\0", (4 - names_size % 4) % 4);
	{
		uint32_t sum = 0;
		for (i = 0; i < 256; i++) {
			sum += p.fanout[i];
			put32(o, sum);
		}
	}
	/* the ids after the head, their places and large offsets each at
	 * their own chunk, in one more pass */
	places->at = places->started = ooff;
	large->at = large->started = loff;
	p.head = o;
	p.places = places;
	p.large = large;
	p.count = p.nlarge = 0;
	if ((error = walk(&m, &p, write_one, 1)) < 0)
		goto done;
	if (p.count != count || p.nlarge != nlarge) { /* a list flagged small placed one past 2 GiB */
		error = stet_error_set(STET_ECORRUPT, "%s: an object's place past 2 GiB was not foreseen", what);
		goto done;
	}
	out_flush(o);
	out_flush(places);
	out_flush(large);
	failed = o->failed ? o->failed : places->failed ? places->failed : large->failed;
	if (!failed && threaded) {
		finish(hs, at, thread);
		threaded = 0;
		failed = hs->failed;
	} else if (!failed) {
		failed = hash_range(hs, 0, at);
	}
	if (!failed && (EVP_DigestFinal_ex(hs->sha, md, &mdlen) != 1 || mdlen != ID))
		failed = -1;
	if (!failed && stet_pwrite_all(fd, md, ID, at) < 0)
		failed = errno ? errno : EIO;
	if (failed)
		error = stet_error_set(STET_EIO, "%s: %s", what, failed < 0 ? "SHA-1 failed" : strerror(failed));
done:
	if (threaded) /* stopped at what is written */
		finish(hs, hs->ready, thread);
	if (o && o->h) {
		pthread_mutex_destroy(&hs->lock);
		pthread_cond_destroy(&hs->more);
	}
	if (hs)
		EVP_MD_CTX_free(hs->sha);
	free(hs);
	free(o);
	free(places);
	free(large);
	free(m.at);
	free(m.key);
	free(m.heap);
	free(order);
	free(rank);
	return error;
}
