/*
 * What log, show and diff share: opening the archive to read, naming a
 * version (ARTICLE[@REV]), colours, dates.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_color(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	return isatty(STDOUT_FILENO) && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
}

void cli_date(char out[32], long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, 32, "%lld", t);
		return;
	}
	strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
}

int cli_open_read(stet_archive **a, cli_ctx *ctx)
{
	if (stet_archive_open(a, ctx->archive ? ctx->archive : ".", 0, 0) < 0) {
		cli_lib_error();
		return -1;
	}
	return 0;
}

/* which version REV names among v[0..n) (oldest first): "N", "-N", or a
 * commit id prefix. Returns the index or -1 with an error printed. */
long cli_pick_version(const stet_revinfo *v, size_t n, const char *path, const char *rev)
{
	char *end;
	long k;
	size_t i, found = n;

	if (!n) {
		cli_error("%s: no versions", path);
		return -1;
	}
	k = strtol(rev, &end, 10);
	if (*rev && !*end) {
		if (k > 0 && (size_t)k <= n)
			return k - 1;
		if (k < 0 && (size_t)-k <= n)
			return (long)n + k;
		cli_error("%s has %zu version%s; @%s is not one of them (@1..@%zu, @-1..@-%zu)", path, n, n == 1 ? "" : "s",
			  rev, n, n);
		return -1;
	}
	if (strlen(rev) >= 4 && strlen(rev) <= 40 && strspn(rev, "0123456789abcdef") == strlen(rev)) {
		for (i = 0; i < n; i++)
			if (!strncmp(v[i].commit, rev, strlen(rev))) {
				if (found != n) {
					cli_error("commit '%s' is ambiguous", rev);
					return -1;
				}
				found = i;
			}
		if (found != n)
			return (long)found;
	}
	cli_error("%s: no version '%s' (give @N, @-N or a commit of this article)", path, rev);
	return -1;
}

/* Split "ARTICLE@REV" (the last '@' followed by a version-like word). */
char *cli_split_rev(char *arg)
{
	char *at = strrchr(arg, '@');
	if (!at || at == arg)
		return NULL;
	if (strspn(at + 1, "-0123456789abcdef") != strlen(at + 1) || !at[1])
		return NULL;
	*at = '\0';
	return at + 1;
}

void cli_json_stringn(stet_buf *out, const char *s, size_t len)
{
	size_t i;
	stet_buf_putc(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			stet_buf_printf(out, "\\%c", c);
		else if (c == '\n')
			stet_buf_puts(out, "\\n");
		else if (c < 0x20)
			stet_buf_printf(out, "\\u%04x", c);
		else
			stet_buf_putc(out, (char)c);
	}
	stet_buf_putc(out, '"');
}

void cli_json_string(stet_buf *out, const char *s)
{
	cli_json_stringn(out, s ? s : "", s ? strlen(s) : 0);
}
