/*
 * Walking the inputs of a run: folders recursively, in byte order of the
 * entry names (so runs are reproducible), hidden entries skipped, links
 * followed with every folder visited once (by device and inode), so a link
 * loop ends instead of recursing forever. Depth is bounded too.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_MAX_DEPTH 64

typedef struct {
	dev_t dev;
	ino_t ino;
} seen_dir;

typedef struct {
	stet_walk_cb cb, on_error;
	void *payload;
	seen_dir *seen;
	size_t nseen, capseen;
} walker;

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int report(walker *w, int error)
{
	if (w->on_error)
		return w->on_error(stet_error_last(), w->payload) < 0 ? error : 0;
	return 0;
}

static int walk(walker *w, const char *path, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0;

	if (stat(path, &st) < 0)
		return report(w, stet_error_set(errno == ENOENT ? STET_ENOTFOUND : STET_EIO, "%s: %s", path,
						strerror(errno)));
	if (!S_ISDIR(st.st_mode))
		return w->cb(path, w->payload);
	for (i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == st.st_dev && w->seen[i].ino == st.st_ino)
			return 0; /* been here: a link loop or a second link */
	if (depth >= WALK_MAX_DEPTH)
		return report(w, stet_error_set(STET_ETOOBIG, "%s: folders nested over %d deep", path, WALK_MAX_DEPTH));
	if (w->nseen == w->capseen) {
		size_t nc = w->capseen ? w->capseen * 2 : 64;
		seen_dir *v = stet_realloc(w->seen, nc * sizeof(*v));
		if (!v)
			return stet_error_oom();
		w->seen = v;
		w->capseen = nc;
	}
	w->seen[w->nseen].dev = st.st_dev;
	w->seen[w->nseen++].ino = st.st_ino;
	if (!(d = opendir(path)))
		return report(w, stet_error_set(STET_EIO, "%s: %s", path, strerror(errno)));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **v = stet_realloc(names, nc * sizeof(*v));
			if (!v) {
				error = stet_error_oom();
				goto done;
			}
			names = v;
			cap = nc;
		}
		if (!(names[n] = stet_strdup(de->d_name))) {
			error = stet_error_oom();
			goto done;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && !error; i++) {
		stet_buf child = STET_BUF_INIT;
		size_t pl = strlen(path);
		stet_buf_put(&child, path, pl);
		if (pl && path[pl - 1] != '/')
			stet_buf_putc(&child, '/');
		stet_buf_puts(&child, names[i]);
		if ((error = stet_buf_check(&child, path)) == 0)
			error = walk(w, child.ptr, depth + 1);
		stet_buf_dispose(&child);
	}
done:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

int stet_input_walk(const char *path, stet_walk_cb cb, stet_walk_cb on_error, void *payload)
{
	walker w;
	int error;

	memset(&w, 0, sizeof(w));
	w.cb = cb;
	w.on_error = on_error;
	w.payload = payload;
	error = walk(&w, path, 0);
	free(w.seen);
	return error;
}
