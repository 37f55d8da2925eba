/*
 * stet_buf: the one growable byte buffer of stet.
 *
 * After stet_buf_init() `ptr` is never NULL and always NUL-terminated.
 * Appends never fail loudly: a failed allocation, or growth past the
 * optional cap, sets a sticky flag that stet_buf_check() turns into an
 * error once after a run of appends.
 */
#ifndef STET_BUF_H
#define STET_BUF_H

#include <stddef.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stet_buf {
	char *ptr;
	size_t size;  /* bytes used, not counting the NUL */
	size_t asize; /* bytes allocated (0 while ptr is the shared empty string) */
	size_t cap;   /* 0: no limit; else the largest size allowed */
	int failed;   /* sticky: 1 out of memory, 2 over cap */
} stet_buf;

#define STET_BUF_INIT { (char *)stet_buf__empty, 0, 0, 0, 0 }
extern const char stet_buf__empty[1];

/** Prepare an empty buffer; cap 0 means unbounded. */
void stet_buf_init(stet_buf *b, size_t cap);
/** Release the memory; the buffer is empty and usable again. */
void stet_buf_dispose(stet_buf *b);
/** Make room for `extra` more bytes. 0 or STET_ENOMEM / STET_ETOOBIG. */
int stet_buf_grow(stet_buf *b, size_t extra);
void stet_buf_put(stet_buf *b, const void *data, size_t len);
void stet_buf_puts(stet_buf *b, const char *s);
void stet_buf_putc(stet_buf *b, char c);
void stet_buf_printf(stet_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void stet_buf_vprintf(stet_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/** Drop the contents, keep the memory. */
void stet_buf_clear(stet_buf *b);
/** Shorten to len bytes (no-op if already shorter). */
void stet_buf_truncate(stet_buf *b, size_t len);
/** Take the memory: returns a malloc'd NUL-terminated string (caller frees)
 *  or NULL when out of memory; the buffer is left empty. */
char *stet_buf_detach(stet_buf *b);
/** 0, or STET_ENOMEM / STET_ETOOBIG with a message naming `what`, if any
 *  append since init failed. */
int stet_buf_check(const stet_buf *b, const char *what);

#ifdef __cplusplus
}
#endif
#endif
