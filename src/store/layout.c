/*
 * Where an article lives and who it is: the identity key and the archive
 * path. Both are pure functions of the canonical metadata (and, for the
 * path, the time it was first archived), so reruns agree with each other.
 *
 * Key: the canonical URL without its scheme (http and https alike), else
 * "guid:" + guid, else the permalink like a URL (or "permalink:" + source
 * + ":" + it when relative), else "title:" + source + "|" + published +
 * "|" + the harsh normalization of the title, else "text:" + the exact
 * fingerprint of the body.
 *
 * Path: <source>/<YYYY>/<MM>/<DD>/<title>-<h>.md, slugs of letters and
 * digits of any script joined by '-', ASCII lower-cased, capped at a UTF-8
 * boundary; h is 8 hex digits of XXH3-64 of the key (16 on a clash).
 */
#include "internal.h"

#include <string.h>
#include <time.h>
#include <utf8proc.h>
#include <xxhash.h>

void stet_store_slug(stet_buf *out, const char *s, size_t max_bytes)
{
	size_t start = out->size, i = 0, len = s ? strlen(s) : 0, adv;
	int dash = 0;

	while (i < len) {
		int32_t c = stet_utf8_decode(s + i, len - i, &adv);
		utf8proc_category_t cat = c < 0 ? UTF8PROC_CATEGORY_CN : utf8proc_category(c);
		i += adv;
		if ((cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
		    (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO)) {
			char enc[4];
			size_t n;
			if (dash && out->size > start)
				stet_buf_putc(out, '-');
			dash = 0;
			if (c >= 'A' && c <= 'Z')
				c += 32;
			n = stet_utf8_encode(enc, c);
			if (out->size - start + n > max_bytes)
				break;
			stet_buf_put(out, enc, n);
		} else {
			dash = 1;
		}
	}
	if (out->size == start)
		stet_buf_puts(out, "untitled");
}

static const char *strip_scheme(const char *url)
{
	if (!strncmp(url, "https://", 8))
		return url + 8;
	if (!strncmp(url, "http://", 7))
		return url + 7;
	return NULL;
}

int stet_store_key(char **out, const stet_canon *c, const char *source)
{
	stet_buf b = STET_BUF_INIT;
	const char *u;
	int error = 0;

	*out = NULL;
	if (c->url && (u = strip_scheme(c->url))) {
		stet_buf_puts(&b, u);
	} else if (c->guid) {
		stet_buf_printf(&b, "guid:%s", c->guid);
	} else if (c->permalink && (u = strip_scheme(c->permalink))) {
		stet_buf_puts(&b, u);
	} else if (c->permalink) {
		stet_buf_printf(&b, "permalink:%s:%s", source ? source : "", c->permalink);
	} else if (c->title) {
		stet_buf_printf(&b, "title:%s|%s|", source ? source : "", c->published ? c->published : "");
		error = stet_fp_normalize(&b, c->title, strlen(c->title));
	} else {
		char fp[33];
		if ((error = stet_fp_exact(fp, c->body, strlen(c->body))) == 0)
			stet_buf_printf(&b, "text:%s", fp);
	}
	if (!error)
		error = stet_buf_check(&b, "key");
	/* keys are one line of text: the key cache depends on it */
	for (size_t i = 0; !error && i < b.size; i++)
		if (b.ptr[i] == '\t' || b.ptr[i] == '\n' || b.ptr[i] == '\r')
			b.ptr[i] = ' ';
	if (!error && !(*out = stet_buf_detach(&b)))
		error = stet_error_oom();
	stet_buf_dispose(&b);
	return error;
}

int stet_store_path(char **out, const stet_canon *c, const char *source, const char *key, long long when,
		    int longer)
{
	stet_buf b = STET_BUF_INIT;
	long long t = when;
	struct tm tm;
	time_t tt;
	char date[32];
	int error;

	*out = NULL;
	if (c->published)
		stet_canon_date_epoch(&t, c->published);
	tt = (time_t)t;
	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(date, sizeof(date), "%Y/%m/%d", &tm);
	stet_store_slug(&b, source && *source ? source : "unknown-source", 48);
	stet_buf_printf(&b, "/%s/", date);
	stet_store_slug(&b, c->title ? c->title : "untitled", 80);
	if (longer)
		stet_buf_printf(&b, "-%016llx.md", (unsigned long long)XXH3_64bits(key, strlen(key)));
	else
		stet_buf_printf(&b, "-%08llx.md", (unsigned long long)(XXH3_64bits(key, strlen(key)) >> 32));
	if ((error = stet_buf_check(&b, "path")) == 0 && !(*out = stet_buf_detach(&b)))
		error = stet_error_oom();
	stet_buf_dispose(&b);
	return error;
}
