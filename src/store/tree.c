/*
 * A commit's tree: main's tree with some files put (added or replaced),
 * built by splicing the raw entries of the trees on their paths.
 *
 * Each tree on a put file's path is read raw from the object store, the
 * changed entries are merged into its entries in git's order (a folder's
 * name sorts as if it ended in '/'), the rest is copied as it is, and the
 * result is written. libgit2's git_tree_create_updated makes the same
 * objects but parses every tree into entries, builds a tree builder (a
 * hash map) for each one it changes, sorts and writes it again, and the
 * commit then looked each new tree up once more to stage it: at a few
 * tens of entries a folder that was most of a commit's own cost
 * (docs/performance.md, "Trees spliced"). tests/unit/test_tree.c checks
 * the ids against libgit2's for random edits.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* a new or replaced entry of one tree */
typedef struct {
	const char *name;
	size_t len;
	int is_tree;
	git_oid id;
	size_t first; /* the first put that names it */
	size_t *puts; /* a folder: the puts below it */
	size_t nputs;
	git_oid base; /* a folder: its old tree, if has_base */
	int has_base;
} newent;

/* one entry of a raw tree: "<octal mode> <name>\0<20-byte id>" */
typedef struct {
	const char *start, *name;
	size_t namelen, len; /* len: the whole entry */
	unsigned mode;
	const unsigned char *id;
} rawent;

typedef struct {
	git_odb *odb;
	odb_hasher **hasher; /* odb_write's */
	const tree_put *puts;
	tree_written *written;
	size_t nwritten, capwritten;
	stet_buf dir; /* the folder being built, "" for the root */
} ctx;

#define IS_TREE_MODE(m) (((m)&0170000u) == 0040000u)
/* the folder being built, as messages name it ("/" for the root) */
#define DIR_NAME(x) ((x)->dir.size ? (x)->dir.ptr : "/")

/* git's order of tree entries (base_name_compare): a folder's name is
 * compared as if it ended in '/' */
static int order(const char *a, size_t al, int at, const char *b, size_t bl, int bt)
{
	size_t n = al < bl ? al : bl;
	int c = memcmp(a, b, n);
	unsigned ca, cb;
	if (c)
		return c;
	ca = n < al ? (unsigned char)a[n] : at ? '/' : 0;
	cb = n < bl ? (unsigned char)b[n] : bt ? '/' : 0;
	return (int)ca - (int)cb;
}

/* the entry at p of the tree data: 0, or STET_ECORRUPT naming the folder */
static int raw_next(rawent *e, const char *data, const char *p, const char *end, const char *dir)
{
	const char *q = p, *nul;
	unsigned mode = 0;

	while (q < end && *q >= '0' && *q <= '7' && q - p < 7)
		mode = mode * 8 + (unsigned)(*q++ - '0');
	if (q == p || q >= end || *q != ' ')
		goto bad;
	q++;
	if (!(nul = memchr(q, '\0', (size_t)(end - q))) || nul == q || (size_t)(end - nul - 1) < GIT_OID_RAWSZ)
		goto bad;
	e->start = p;
	e->name = q;
	e->namelen = (size_t)(nul - q);
	e->mode = mode;
	e->id = (const unsigned char *)nul + 1;
	e->len = (size_t)(nul + 1 + GIT_OID_RAWSZ - p);
	return 0;
bad:
	return stet_error_set(STET_ECORRUPT, "the archive's tree of '%s' is damaged (entry at byte %zu)", dir,
			      (size_t)(p - data));
}

static int valid_name(const char *name, size_t len)
{
	if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)) ||
	    (len == 4 && !strncasecmp(name, ".git", 4)) || memchr(name, '\0', len))
		return 0;
	return 1;
}

static int note_written(ctx *x, const git_oid *id)
{
	char *d;
	if (x->nwritten == x->capwritten) {
		size_t cap = x->capwritten ? x->capwritten * 2 : 8;
		tree_written *v = stet_realloc(x->written, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		x->written = v;
		x->capwritten = cap;
	}
	if (!(d = stet_strdup(x->dir.ptr)))
		return stet_error_oom();
	x->written[x->nwritten].dir = d;
	git_oid_cpy(&x->written[x->nwritten++].id, id);
	return 0;
}

static void put_entry(stet_buf *out, unsigned mode, const char *name, size_t len, const unsigned char *id)
{
	stet_buf_printf(out, "%o ", mode);
	stet_buf_put(out, name, len);
	stet_buf_putc(out, '\0');
	stet_buf_put(out, id, GIT_OID_RAWSZ);
}

static int build(ctx *x, const git_oid *base, const size_t *puts, size_t nputs, size_t depth, git_oid *out);

/* the new entries of the folder x->dir from the puts below it, folders
 * built first; base's entries find the folders' old trees */
static int gather(ctx *x, newent *ne, size_t *nne, const char *data, size_t size, const size_t *puts, size_t nputs,
		  size_t depth)
{
	size_t i, j, n = 0, skip = x->dir.size ? x->dir.size + 1 : 0;
	const char *p, *end = data + size;
	rawent e;
	int error = 0;

	for (i = 0; i < nputs; i++) {
		const char *rest = x->puts[puts[i]].path + skip, *slash = strchr(rest, '/');
		size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
		if (!valid_name(rest, len))
			return stet_error_set(STET_EINVALID, "cannot put '%s' in the archive: '%.*s' is not a valid name",
					      x->puts[puts[i]].path, (int)len, rest);
		for (j = 0; j < n && (ne[j].len != len || memcmp(ne[j].name, rest, len)); j++)
			;
		if (j == n) {
			memset(&ne[n], 0, sizeof(ne[n]));
			ne[n].name = rest;
			ne[n].len = len;
			ne[n].is_tree = slash != NULL;
			ne[n].first = puts[i];
			if (slash && !(ne[n].puts = stet_calloc(nputs, sizeof(size_t))))
				return stet_error_oom();
			n++;
		} else if (ne[j].is_tree != (slash != NULL)) {
			return stet_error_set(STET_EINVALID, "cannot put '%s' in the archive: '%.*s' is both a file and a folder",
					      x->puts[puts[i]].path, (int)len, rest);
		} else if (!slash) {
			return stet_error_set(STET_EINVALID, "cannot put '%s' in the archive twice in one commit",
					      x->puts[puts[i]].path);
		}
		if (slash)
			ne[j].puts[ne[j].nputs++] = puts[i];
		else
			git_oid_cpy(&ne[j].id, &x->puts[puts[i]].blob);
	}
	*nne = n;
	/* the same names in the old tree: a folder is built on its old tree;
	 * a file never replaces a folder, nor a folder a file */
	for (p = data; p < end && !error; p += e.len) {
		if ((error = raw_next(&e, data, p, end, DIR_NAME(x))) < 0)
			break;
		for (j = 0; j < n && !error; j++) {
			if (e.namelen != ne[j].len || memcmp(e.name, ne[j].name, e.namelen))
				continue;
			if (IS_TREE_MODE(e.mode) != ne[j].is_tree)
				error = stet_error_set(STET_EINVALID, "cannot put '%s' in the archive: '%s%s%.*s' is a %s there",
						       x->puts[ne[j].first].path, x->dir.ptr, x->dir.size ? "/" : "",
						       (int)e.namelen, e.name, IS_TREE_MODE(e.mode) ? "folder" : "file");
			else if (ne[j].is_tree) {
				memcpy(ne[j].base.id, e.id, GIT_OID_RAWSZ);
				ne[j].has_base = 1;
			}
		}
	}
	for (j = 0; j < n && !error; j++) {
		size_t keep = x->dir.size;
		if (!ne[j].is_tree)
			continue;
		if (x->dir.size)
			stet_buf_putc(&x->dir, '/');
		stet_buf_put(&x->dir, ne[j].name, ne[j].len);
		if ((error = stet_buf_check(&x->dir, "tree path")) == 0)
			error = build(x, ne[j].has_base ? &ne[j].base : NULL, ne[j].puts, ne[j].nputs, depth + 1, &ne[j].id);
		stet_buf_truncate(&x->dir, keep);
	}
	return error;
}

static int by_order(const void *pa, const void *pb)
{
	const newent *a = pa, *b = pb;
	return order(a->name, a->len, a->is_tree, b->name, b->len, b->is_tree);
}

/* the tree of x->dir: base (NULL: none yet) with the puts below it */
static int build(ctx *x, const git_oid *base, const size_t *puts, size_t nputs, size_t depth, git_oid *out)
{
	git_odb_object *obj = NULL;
	const char *data = "", *p, *end;
	size_t size = 0, nne = 0, i, j = 0;
	newent *ne = NULL;
	stet_buf tree = STET_BUF_INIT;
	int error;

	if (depth > TREE_MAX_DEPTH)
		return stet_error_set(STET_ETOOBIG, "cannot put '%s' in the archive: more than %d folders deep",
				      x->puts[puts[0]].path, TREE_MAX_DEPTH);
	if (base) {
		if ((error = git_odb_read(&obj, x->odb, base)) < 0)
			return stet_git_error(error, DIR_NAME(x));
		if (git_odb_object_type(obj) != GIT_OBJECT_TREE) {
			git_odb_object_free(obj);
			return stet_error_set(STET_ECORRUPT, "the archive's '%s' is not a tree", DIR_NAME(x));
		}
		data = git_odb_object_data(obj);
		size = git_odb_object_size(obj);
	}
	if (!(ne = stet_calloc(nputs, sizeof(*ne)))) {
		error = stet_error_oom();
		goto done;
	}
	if ((error = gather(x, ne, &nne, data, size, puts, nputs, depth)) < 0)
		goto done;
	qsort(ne, nne, sizeof(*ne), by_order);
	/* merge: the old entries in order, a new one before the first old one
	 * it sorts before, an old one of a new one's name dropped */
	for (p = data, end = data + size; p < end;) {
		rawent e;
		int replaced = 0;
		if ((error = raw_next(&e, data, p, end, DIR_NAME(x))) < 0)
			goto done;
		p += e.len;
		while (j < nne && order(ne[j].name, ne[j].len, ne[j].is_tree, e.name, e.namelen, IS_TREE_MODE(e.mode)) < 0) {
			put_entry(&tree, ne[j].is_tree ? 040000u : 0100644u, ne[j].name, ne[j].len, ne[j].id.id);
			j++;
		}
		for (i = 0; i < nne && !replaced; i++)
			replaced = ne[i].len == e.namelen && !memcmp(ne[i].name, e.name, e.namelen);
		if (replaced)
			continue;
		if (e.start[0] == '0') /* a mode as libgit2 writes it: no leading zero */
			put_entry(&tree, e.mode, e.name, e.namelen, e.id);
		else
			stet_buf_put(&tree, e.start, e.len);
	}
	for (; j < nne; j++)
		put_entry(&tree, ne[j].is_tree ? 040000u : 0100644u, ne[j].name, ne[j].len, ne[j].id.id);
	if ((error = stet_buf_check(&tree, DIR_NAME(x))) < 0)
		goto done;
	if ((error = odb_write(out, x->odb, x->hasher, tree.ptr, tree.size, GIT_OBJECT_TREE, DIR_NAME(x))) == 0)
		error = note_written(x, out);
done:
	for (i = 0; ne && i < nputs; i++)
		free(ne[i].puts);
	free(ne);
	stet_buf_dispose(&tree);
	git_odb_object_free(obj);
	return error;
}

int tree_put_files(git_oid *root, tree_written **written, size_t *nwritten, git_odb *odb, odb_hasher **h,
		   const git_oid *base, const tree_put *puts, size_t n)
{
	ctx x;
	size_t *all = NULL, i;
	int error;

	*written = NULL;
	*nwritten = 0;
	memset(&x, 0, sizeof(x));
	x.odb = odb;
	x.hasher = h;
	x.puts = puts;
	stet_buf_init(&x.dir, 0);
	if (n == 0)
		return stet_error_set(STET_EUSAGE, "tree_put_files: no files");
	if (!(all = stet_calloc(n, sizeof(*all))))
		return stet_error_oom();
	for (i = 0; i < n; i++)
		all[i] = i;
	error = build(&x, base, all, n, 0, root);
	free(all);
	stet_buf_dispose(&x.dir);
	if (error < 0) {
		tree_written_free(x.written, x.nwritten);
		return error;
	}
	*written = x.written;
	*nwritten = x.nwritten;
	return 0;
}

void tree_written_free(tree_written *w, size_t n)
{
	size_t i;
	for (i = 0; w && i < n; i++)
		free(w[i].dir);
	free(w);
}
