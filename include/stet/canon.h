/*
 * The canonicalizer: one article in, its canonical document out.
 *
 * The canonical document (docs/format.md pins it, version STET_CANON_VERSION)
 * is a YAML front matter with the article's metadata in a fixed key order,
 * then the article's text only: boilerplate removed, Unicode NFC,
 * whitespace folded, one sentence per line, a blank line between blocks.
 * It is deterministic and idempotent: canonicalizing a canonical document
 * gives it back unchanged.
 */
#ifndef STET_CANON_H
#define STET_CANON_H

#include "stet/buf.h"
#include "stet/input.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STET_CANON_VERSION 1

typedef struct stet_canon {
	char *title;            /* site suffixes removed; NULL if none */
	char *source;           /* publishing site or feed; NULL if unknown */
	stet_strlist authors;
	char *published;        /* "YYYY-MM-DDTHH:MM:SSZ" or NULL if unknown */
	char *modified;
	char *url;              /* normalized: see stet_canon_url */
	char *guid;
	char *permalink;
	stet_strlist categories;
	stet_strlist tags;
	char *body;             /* canonical text, ends with "\n" unless empty */
} stet_canon;

/** Canonicalize an article. *out is new (free with stet_canon_free).
 *  Returns 0, STET_EINVALID ("NAME: no article text found") or STET_ENOMEM. */
int stet_canon_new(stet_canon **out, const stet_article *a);

/** Read a file (stet_input_read_file) and canonicalize it. */
int stet_canon_file(stet_canon **out, const char *path);

void stet_canon_free(stet_canon *c);

/** Read and canonicalize many files at once on `threads` threads (1: in
 *  this thread). For each i, out[i] is the canonical article or NULL, and
 *  then errors[i] the malloc'd message ("FILE:LINE:COL: ..."). A path "-"
 *  reads standard input. Returns 0, or STET_ENOMEM if the batch itself
 *  could not run. */
int stet_canon_files(stet_canon **out, char **errors, const char *const *paths, size_t n, int threads);

/** The canonical document: front matter and body. */
int stet_canon_write(stet_buf *out, const stet_canon *c);

/** The canonical document with more front matter keys after the
 *  canonical ones: `extra` is NULL or a NULL-terminated list of key,
 *  value, key, value... (values NULL are left out). The archive uses it for
 *  its own keys; the canonical reader ignores keys it does not know. */
int stet_canon_write_ext(stet_buf *out, const stet_canon *c, const char *const *extra);

/** One JSON object (no newline): input, metadata and body. */
int stet_canon_write_json(stet_buf *out, const stet_canon *c, const char *input);

/* --- the rules, exposed for tests and for the later stages --- */

/** A date in any of the accepted forms (ISO 8601, RFC 1123/2822, "2021年6
 *  月8日 10:20", epoch seconds or milliseconds) as "YYYY-MM-DDTHH:MM:SSZ".
 *  *out is NULL when the date is unknown ("Invalid Date", empty, not a
 *  date): that is not an error. */
int stet_canon_date(char **out, const char *raw);

/** Date to seconds since the epoch; 0 on success, STET_EINVALID if unknown. */
int stet_canon_date_epoch(long long *out, const char *raw);

/** Normalize a URL: scheme and host lower case, default port, fragment and
 *  tracking parameters (utm_*, spm, fbclid, gclid, ...) removed. */
int stet_canon_url(char **out, const char *raw);

/** A title with whitespace folded and a site suffix (" | 新浪财经",
 *  "_网易新闻", " - BBC News") removed. `site` may be NULL. */
int stet_canon_title(char **out, const char *raw, const char *site);

/** Fold whitespace, drop invisible characters, NFC: one line of text. */
int stet_canon_text(stet_buf *out, const char *s, size_t len);

/** Split one normalized paragraph into sentences, one per line (each
 *  followed by "\n"). */
void stet_canon_sentences(stet_buf *out, const char *para, size_t len);

/** 1 if a normalized paragraph is news furniture ("责任编辑：…"). */
int stet_canon_is_furniture(const char *para, size_t len);

#ifdef __cplusplus
}
#endif
#endif
