/*
 * stet_buf: growable, always NUL-terminated byte buffer with a sticky
 * failure flag and an optional size cap for untrusted input.
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char stet_buf__empty[1] = "";

void stet_buf_init(stet_buf *b, size_t cap)
{
	b->ptr = (char *)stet_buf__empty;
	b->size = b->asize = 0;
	b->cap = cap;
	b->failed = 0;
}

void stet_buf_dispose(stet_buf *b)
{
	if (b->asize)
		free(b->ptr);
	stet_buf_init(b, b->cap);
}

int stet_buf_grow(stet_buf *b, size_t extra)
{
	size_t need, nsize;
	char *p;

	if (b->failed)
		return b->failed == 2 ? STET_ETOOBIG : STET_ENOMEM;
	if (extra > SIZE_MAX - b->size - 1) {
		b->failed = 1;
		return STET_ENOMEM;
	}
	need = b->size + extra + 1;
	if (b->cap && need - 1 > b->cap) {
		b->failed = 2;
		return STET_ETOOBIG;
	}
	if (need <= b->asize)
		return 0;
	nsize = b->asize ? b->asize : 64;
	while (nsize < need)
		nsize = nsize > SIZE_MAX / 2 ? need : nsize * 2;
	p = b->asize ? realloc(b->ptr, nsize) : malloc(nsize);
	if (!p) {
		b->failed = 1;
		return STET_ENOMEM;
	}
	if (!b->asize)
		p[0] = '\0';
	b->ptr = p;
	b->asize = nsize;
	return 0;
}

void stet_buf_put(stet_buf *b, const void *data, size_t len)
{
	if (!len || stet_buf_grow(b, len) < 0)
		return;
	memmove(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
}

void stet_buf_puts(stet_buf *b, const char *s) { stet_buf_put(b, s, strlen(s)); }

void stet_buf_putc(stet_buf *b, char c) { stet_buf_put(b, &c, 1); }

void stet_buf_vprintf(stet_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || stet_buf_grow(b, (size_t)n) < 0)
		return;
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	b->size += (size_t)n;
}

void stet_buf_printf(stet_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stet_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void stet_buf_clear(stet_buf *b) { stet_buf_truncate(b, 0); }

void stet_buf_truncate(stet_buf *b, size_t len)
{
	if (len >= b->size)
		return;
	b->size = len;
	b->ptr[len] = '\0';
}

char *stet_buf_detach(stet_buf *b)
{
	char *p;

	if (b->failed) {
		stet_buf_dispose(b);
		return NULL;
	}
	p = b->asize ? b->ptr : strdup("");
	stet_buf_init(b, b->cap);
	return p;
}

int stet_buf_check(const stet_buf *b, const char *what)
{
	if (b->failed == 2)
		return stet_error_set(STET_ETOOBIG, "%s: larger than the limit of %zu bytes",
				      what, b->cap);
	if (b->failed)
		return stet_error_set(STET_ENOMEM, "%s: out of memory", what);
	return 0;
}
