/*
 * Internal helpers shared by every stage: error setting, allocation
 * wrappers (one place to inject allocation failures in tests), UTF-8
 * decoding and classification, ASCII helpers that ignore the locale.
 */
#ifndef STET_UTIL_H
#define STET_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "stet/error.h"
#include "stet/buf.h"
#include "banned.h"

#define STET_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* errors */
int stet_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prefix the current message with context: "<context>: <old message>" */
int stet_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int stet_error_oom(void);

/* append s normalized as utf8proc_map(s, options) would (unorm.c: ASCII
 * and CJK ideographs are copied, the rest goes to utf8proc); 0, or
 * STET_EINVALID naming `what` (invalid UTF-8), or STET_ENOMEM */
int stet_unorm(stet_buf *out, const char *s, size_t len, int options, const char *what);

/* write all n bytes to fd (io.c); 0, or -1 with errno set */
int stet_write_all(int fd, const void *data, size_t n);
/* the same at offset `at` of fd (pwrite), the file position untouched */
int stet_pwrite_all(int fd, const void *data, size_t n, uint64_t at);
/* the bytes of fd from `from` up to `to`, written, handed to the disk to
 * start on (not waited for: the fsync at the end makes them durable),
 * once STET_WRITE_BEHIND or more are pending; returns where the next
 * hint starts (to, or from when none was given) */
#define STET_WRITE_BEHIND (32u << 20)
uint64_t stet_write_behind(int fd, uint64_t from, uint64_t to);
/* remove the files of folder dir whose names begin with prefix (io.c:
 * what a killed writer left); what cannot be listed or removed is left */
void stet_unlink_prefixed(const char *dir, const char *prefix);

/* run fn(i, payload) for i in [0, n) on up to `threads` threads, this one
 * included; returns when all are done (parallel.c) */
typedef void (*stet_each_fn)(size_t i, void *payload);
void stet_parallel_for(size_t n, int threads, stet_each_fn fn, void *payload);

/* allocation; all go through here so tests can fail the Nth one */
void *stet_malloc(size_t n);
void *stet_calloc(size_t n, size_t size);
void *stet_realloc(void *p, size_t n);
char *stet_strdup(const char *s);
char *stet_strndup(const char *s, size_t n);
/* test hook: fail every allocation after the next n (n < 0: never) */
void stet_alloc_fail_after(long n);

/* UTF-8 */
/* Decode one code point at s (len bytes available). Sets *adv to the bytes
 * consumed (at least 1). Returns the code point, or -1 for an invalid or
 * truncated sequence (then *adv is 1). */
int32_t stet_utf8_decode(const char *s, size_t len, size_t *adv);
size_t stet_utf8_encode(char out[4], int32_t cp);
int stet_utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* Append s to out with invalid sequences replaced by U+FFFD. */
void stet_utf8_sanitize(stet_buf *out, const char *s, size_t len);
/* Han ideographs, kana, CJK symbols and full-width forms: scripts written
 * without spaces between words. Hangul is not among them. */
int stet_is_cjk(int32_t cp);
/* Letters of scripts tokenised one character at a time (CJK + Hangul). */
int stet_is_cjk_token(int32_t cp);
/* Byte-level fast paths of the text rules, for code that would decode
 * every code point: a printable ASCII byte other than the space (never
 * space, invisible or CJK), and a CJK unified ideograph of U+5000-U+9FFF
 * in its 3 bytes at s (never space or invisible, always CJK; left: the
 * bytes there, or more for a NUL-terminated string). */
static inline int stet_ascii_graph(unsigned char c) { return c > 0x20 && c < 0x7F; }
static inline int stet_utf8_unified3(const char *s, size_t left)
{
	return left >= 3 && (unsigned char)s[0] >= 0xE5 && (unsigned char)s[0] <= 0xE9 &&
	       ((unsigned char)s[1] & 0xC0) == 0x80 && ((unsigned char)s[2] & 0xC0) == 0x80;
}
/* Whitespace of any kind that the canonical form folds to one space. */
int stet_is_space(int32_t cp);
/* Characters that are dropped: zero-width, BOM, soft hyphen, controls. */
int stet_is_invisible(int32_t cp);
/* Count code points. */
size_t stet_utf8_len(const char *s, size_t len);
/* Cut s to at most max bytes at a code point boundary; returns the length. */
size_t stet_utf8_cut(const char *s, size_t len, size_t max);

/* ASCII helpers that ignore the locale */
int stet_ascii_casecmp(const char *a, const char *b);
int stet_ascii_ncasecmp(const char *a, const char *b, size_t n);
const char *stet_ascii_casestr(const char *hay, const char *needle);
void stet_ascii_lower(char *s);
int stet_starts_with(const char *s, const char *prefix);


#endif
