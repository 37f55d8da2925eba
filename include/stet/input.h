/*
 * Readers: turn the bytes of one input into a stet_article (metadata as
 * found, plus the body parsed, ready for the canonicalizer).
 *
 * The format is chosen by content, never by file name:
 *   - a post: YAML front matter between `---` lines, then an HTML or
 *     Markdown body (Hexo and Jekyll news mirrors);
 *   - a canonical document: a post whose front matter has `canon:`
 *     (what `stet canon` prints), whose body is canonical text;
 *   - an HTML page: anything else that looks like markup.
 * A UTF-8 BOM, UTF-16 with a BOM, leading blank lines and CRLF line ends
 * are accepted. Every input is untrusted: sizes and depths are bounded,
 * libxml2 never loads an external entity or touches the network.
 */
#ifndef STET_INPUT_H
#define STET_INPUT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest input read, in bytes. Larger files are rejected. */
#define STET_INPUT_MAX (32u * 1024 * 1024)

typedef struct stet_strlist {
	char **v;
	size_t n;
} stet_strlist;

typedef enum {
	STET_FORMAT_POST = 1, /* front matter + HTML/Markdown body */
	STET_FORMAT_PAGE,     /* an HTML page */
	STET_FORMAT_CANON     /* a canonical document */
} stet_format;

typedef struct stet_article_body stet_article_body; /* private: parsed body */

typedef struct stet_article {
	char *name;            /* the input's name, used in messages */
	stet_format format;
	char *title;
	char *source;          /* the publishing site or feed ("新浪财经") */
	stet_strlist authors;  /* people */
	char *published;       /* dates exactly as found; canon parses them */
	char *modified;
	char *url;             /* canonical URL as found */
	char *guid;            /* feed item id */
	char *permalink;
	char *site;            /* site name (og:site_name) */
	char *description;
	stet_strlist categories;
	stet_strlist tags;
	stet_strlist images;
	char *ld_body;         /* JSON-LD articleBody, when the page has one */
	stet_strlist extra;    /* other top-level scalar front matter: key, value, key, value... */
	unsigned body_line;    /* 1-based line of the input where the body starts */
	stet_article_body *body;
} stet_article;

/** Read one input from memory. `name` is used in messages ("post.md").
 *  On success *out is a new article (free with stet_article_free).
 *  Returns 0, STET_EINVALID with "NAME:LINE:COL: what" for malformed input,
 *  STET_ETOOBIG, or STET_ENOMEM. */
int stet_input_read(stet_article **out, const char *name, const char *data, size_t len);

/** Read one file (at most STET_INPUT_MAX bytes) and parse it as above. */
int stet_input_read_file(stet_article **out, const char *path);

/** Read all of a stream (standard input) and parse it as above. */
int stet_input_read_fd(stet_article **out, const char *name, int fd);

void stet_article_free(stet_article *a);

/** Called for each file a walk finds; a negative return stops the walk
 *  and is returned by it. */
typedef int (*stet_walk_cb)(const char *path, void *payload);

/** Walk path: a file is reported as it is; a folder is walked recursively,
 *  entries in byte order, names starting with '.' skipped, symbolic links
 *  followed but every folder visited once (link loops end). Errors on
 *  single entries (unreadable folder) go to `on_error` (may be NULL) with
 *  the message in stet_error_last(), and the walk goes on. */
int stet_input_walk(const char *path, stet_walk_cb cb, stet_walk_cb on_error, void *payload);

/** Free the strings of a list and reset it. */
void stet_strlist_dispose(stet_strlist *l);
/** Append a copy of s, always (NULL as ""). 0 or STET_ENOMEM. */
int stet_strlist_push(stet_strlist *l, const char *s);
/** Append a copy of s unless NULL, empty, already there, or the list holds
 *  256 items. 0 or STET_ENOMEM. */
int stet_strlist_add(stet_strlist *l, const char *s);

#ifdef __cplusplus
}
#endif
#endif
