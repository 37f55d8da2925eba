/*
 * Entry point of the readers: loads bytes (bounded), removes what every
 * format may carry (BOM, UTF-16, CRLF), refuses binary data, and chooses
 * the reader by content. Everything after this sees LF line ends.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void stet_strlist_dispose(stet_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int stet_strlist_push(stet_strlist *l, const char *s)
{
	char **v, *copy;

	if (!(copy = stet_strdup(s ? s : "")))
		return stet_error_oom();
	if (!(v = stet_realloc(l->v, (l->n + 1) * sizeof(*v)))) {
		free(copy);
		return stet_error_oom();
	}
	v[l->n++] = copy;
	l->v = v;
	return 0;
}

int stet_strlist_add(stet_strlist *l, const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 0;
	if (l->n >= 256) /* a bound on hostile lists */
		return 0;
	return stet_strlist_push(l, s);
}

void stet_article_free(stet_article *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->title);
	free(a->source);
	stet_strlist_dispose(&a->authors);
	free(a->published);
	free(a->modified);
	free(a->url);
	free(a->guid);
	free(a->permalink);
	free(a->site);
	free(a->description);
	stet_strlist_dispose(&a->categories);
	stet_strlist_dispose(&a->tags);
	stet_strlist_dispose(&a->images);
	free(a->ld_body);
	stet_strlist_dispose(&a->extra);
	if (a->body) {
		if (a->body->doc)
			xmlFreeDoc(a->body->doc);
		free(a->body->text);
		free(a->body);
	}
	free(a);
}

/* UTF-16 with a BOM becomes UTF-8; a UTF-8 BOM is dropped. */
static int strip_bom(stet_buf *out, const char *data, size_t len, int *converted)
{
	const unsigned char *u = (const unsigned char *)data;

	*converted = 0;
	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
		*converted = 1;
		return stet_charset_decode(out, u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", data + 2, len - 2);
	}
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		stet_buf_put(out, data + 3, len - 3);
	else
		stet_buf_put(out, data, len);
	return 0;
}

/* CRLF and lone CR to LF, in place. */
static size_t fold_newlines(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static int looks_like_markup(const char *s, size_t len)
{
	static const char *const starts[] = { "<!doctype", "<html", "<head", "<body", "<?xml",
					      "<!--", "<meta", "<div", "<p", "<article", "<title",
					      "<section", "<main", "<h1", "<table", "<span", "<a " };
	size_t i;

	while (len && (*s == ' ' || *s == '\t' || *s == '\n')) {
		s++;
		len--;
	}
	for (i = 0; i < STET_ARRAY_SIZE(starts); i++)
		if (len >= strlen(starts[i]) && !stet_ascii_ncasecmp(s, starts[i], strlen(starts[i])))
			return 1;
	return 0;
}

int stet_input_read(stet_article **out, const char *name, const char *data, size_t len)
{
	stet_buf text = STET_BUF_INIT;
	stet_article *a = NULL;
	const char *p, *nul;
	unsigned line = 1;
	size_t n, bad;
	int error = 0, utf16;

	*out = NULL;
	if (len > STET_INPUT_MAX) {
		error = stet_error_set(STET_ETOOBIG, "%s: %zu bytes, over the limit of %u", name, len,
				       STET_INPUT_MAX);
		goto done;
	}
	if (!(a = stet_calloc(1, sizeof(*a))) || !(a->name = stet_strdup(name))) {
		error = stet_error_oom();
		goto done;
	}
	if ((error = strip_bom(&text, data, len, &utf16)) < 0) {
		stet_error_wrap(error, "%s", name);
		goto done;
	}
	if ((error = stet_buf_check(&text, name)) < 0)
		goto done;
	if ((nul = memchr(text.ptr, '\0', text.size))) {
		error = stet_error_set(STET_EINVALID, "%s: binary data (NUL byte at offset %zu), not an article",
				       name, (size_t)(nul - text.ptr));
		goto done;
	}
	if (text.size)
		text.size = fold_newlines(text.ptr, text.size);
	p = text.ptr;
	/* leading blank lines */
	for (;;) {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '\n')
			break;
		p = q + 1;
		line++;
	}
	n = text.size - (size_t)(p - text.ptr);
	if (!n) {
		error = stet_error_set(STET_EINVALID, "%s: empty input", name);
		goto done;
	}
	if (!strncmp(p, "---", 3) && (p[3] == '\n' || p[3] == ' ' || p[3] == '\t')) {
		if (!stet_utf8_valid(p, n, &bad)) {
			size_t l = 1, c = 1, i;
			for (i = 0; i < bad; i++) {
				if (p[i] == '\n') { l++; c = 1; } else if (((unsigned char)p[i] & 0xC0) != 0x80) c++;
			}
			error = stet_error_set(STET_EINVALID, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02x)", name,
					       l + line - 1, c, (unsigned char)p[bad]);
			goto done;
		}
		error = stet_post_read(a, p, n, line);
	} else if (looks_like_markup(p, n) || memchr(p, '<', n < 4096 ? n : 4096)) {
		error = stet_page_read(a, p, n);
	} else {
		/* plain text or Markdown without front matter */
		if (!stet_utf8_valid(p, n, &bad)) {
			error = stet_error_set(STET_EINVALID,
					       "%s: neither UTF-8 text nor an HTML page (invalid byte at offset %zu)",
					       name, bad + (size_t)(p - text.ptr));
			goto done;
		}
		error = stet_post_read(a, p, n, 0);
	}
	if (error < 0 && stet_error_code() != STET_ENOMEM && !stet_starts_with(stet_error_last(), name))
		stet_error_wrap(error, "%s", name);
done:
	stet_buf_dispose(&text);
	if (error < 0)
		stet_article_free(a);
	else
		*out = a;
	return error;
}

/* all of fd: a file's size at once (and a little more, to see its end),
 * else 64 KiB at a time; more than STET_INPUT_MAX bytes is an error */
static int read_all(stet_buf *out, int fd, const char *name)
{
	struct stat st;
	size_t step = 65536;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (unsigned long long)st.st_size <= STET_INPUT_MAX)
		step = (size_t)st.st_size + 64;
	for (;;) {
		ssize_t r;
		if (out->size > STET_INPUT_MAX)
			return stet_error_set(STET_ETOOBIG, "%s: larger than the limit of %u bytes", name,
					      STET_INPUT_MAX);
		if (out->asize == 0 || out->asize - out->size - 1 == 0) {
			size_t grow = step < STET_INPUT_MAX + 1 - out->size ? step : STET_INPUT_MAX + 1 - out->size;
			if (stet_buf_grow(out, grow) < 0)
				return stet_error_oom();
		}
		r = read(fd, out->ptr + out->size, out->asize - out->size - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return stet_error_set(STET_EIO, "%s: %s", name, strerror(errno));
		}
		if (r == 0)
			return 0;
		out->size += (size_t)r;
		out->ptr[out->size] = '\0';
		step = 65536;
	}
}

int stet_input_read_fd(stet_article **out, const char *name, int fd)
{
	stet_buf b;
	int error;

	*out = NULL;
	stet_buf_init(&b, STET_INPUT_MAX + 1); /* one byte more says it is too big */
	if ((error = read_all(&b, fd, name)) == 0)
		error = stet_input_read(out, name, b.ptr, b.size);
	stet_buf_dispose(&b);
	return error;
}

int stet_input_read_file(stet_article **out, const char *path)
{
	struct stat st;
	int fd, error;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return stet_error_set(errno == ENOENT ? STET_ENOTFOUND : STET_EIO, "%s: %s", path,
				      strerror(errno));
	if (fstat(fd, &st) < 0) {
		error = stet_error_set(STET_EIO, "%s: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		error = stet_error_set(STET_EINVALID, "%s: is a directory", path);
	} else if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > STET_INPUT_MAX) {
		error = stet_error_set(STET_ETOOBIG, "%s: %lld bytes, over the limit of %u", path,
				       (long long)st.st_size, STET_INPUT_MAX);
	} else {
		error = stet_input_read_fd(out, path, fd);
	}
	close(fd);
	return error;
}
