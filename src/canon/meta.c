/*
 * Canonical metadata: dates to ISO 8601 UTC, URLs normalized, titles
 * without site suffixes. Each rule is total: an input it cannot read is
 * "unknown" (NULL), never an error, because feeds write "Invalid Date".
 */
#include "canon.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int num(const char **p, int maxdigits, int *out)
{
	int v = 0, n = 0;
	while (n < maxdigits && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*out = v;
	return n;
}

static void skip_sp(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == ',')
		(*p)++;
}

/* zone: Z, UTC, GMT, +hh:mm, +hhmm, +hh; returns offset seconds */
static int zone(const char **p, long *off)
{
	const char *s = *p;
	int hh = 0, mm = 0, sign;

	skip_sp(&s);
	*off = 0;
	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		return 1;
	}
	if (!strncmp(s, "UTC", 3) || !strncmp(s, "GMT", 3)) {
		s += 3;
		*p = s;
		if (*s != '+' && *s != '-')
			return 1;
	}
	if (*s != '+' && *s != '-')
		return 0;
	sign = *s == '-' ? -1 : 1;
	s++;
	if (num(&s, 2, &hh) != 2)
		return 0;
	if (*s == ':')
		s++;
	num(&s, 2, &mm);
	*off = sign * (hh * 3600L + mm * 60L);
	*p = s;
	return 1;
}

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
				      "jul", "aug", "sep", "oct", "nov", "dec" };

static int month_name(const char **p)
{
	int i;
	for (i = 0; i < 12; i++) {
		if (!stet_ascii_ncasecmp(*p, months[i], 3)) {
			*p += 3;
			while ((**p >= 'a' && **p <= 'z') || (**p >= 'A' && **p <= 'Z') || **p == '.')
				(*p)++;
			return i + 1;
		}
	}
	return 0;
}

static int valid(int y, int mo, int d, int h, int mi, int s)
{
	return y >= 1000 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 &&
	       h <= 24 && mi >= 0 && mi < 60 && s >= 0 && s <= 60;
}

static int finish(long long *out, int y, int mo, int d, int h, int mi, int s, long off)
{
	if (!valid(y, mo, d, h, mi, s))
		return STET_EINVALID;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600LL + mi * 60LL + s - off;
	return 0;
}

/* hh:mm[:ss[.fff]] */
static int clock_time(const char **p, int *h, int *mi, int *s)
{
	const char *q = *p;
	*h = *mi = *s = 0;
	if (num(&q, 2, h) < 1 || (*q != ':' && strncmp(q, "：", 3)))
		return 0;
	q += *q == ':' ? 1 : 3;
	if (num(&q, 2, mi) != 2)
		return 0;
	if (*q == ':') {
		q++;
		num(&q, 2, s);
		if (*q == '.' || *q == ',') {
			q++;
			while (*q >= '0' && *q <= '9')
				q++;
		}
	}
	*p = q;
	return 1;
}

int stet_canon_date_epoch(long long *out, const char *raw)
{
	const char *p = raw;
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n;
	long off = 0;

	if (!raw)
		return STET_EINVALID;
	while (*p == ' ' || *p == '\t')
		p++;
	/* epoch seconds (10 digits) or milliseconds (13) */
	n = (int)strspn(p, "0123456789");
	if ((n == 10 || n == 13) && p[n] == '\0') {
		long long v = strtoll(p, NULL, 10);
		*out = n == 13 ? v / 1000 : v;
		return 0;
	}
	if (n == 4) {
		num(&p, 4, &y);
		if (*p == '-' || *p == '/' || *p == '.') {
			char sep = *p++;
			if (num(&p, 2, &mo) < 1 || *p != sep)
				return STET_EINVALID;
			p++;
			if (num(&p, 2, &d) < 1)
				return STET_EINVALID;
		} else if (!strncmp(p, "年", 3)) {
			p += 3;
			if (num(&p, 2, &mo) < 1 || strncmp(p, "月", 3))
				return STET_EINVALID;
			p += 3;
			if (num(&p, 2, &d) < 1)
				return STET_EINVALID;
			if (!strncmp(p, "日", 3))
				p += 3;
		} else {
			return STET_EINVALID;
		}
		if (*p == 'T' || *p == 't' || *p == ' ') {
			const char *q = p + 1;
			while (*q == ' ')
				q++;
			if (clock_time(&q, &h, &mi, &s))
				p = q;
		}
		zone(&p, &off);
		skip_sp(&p);
		if (*p && *p != '(')
			return STET_EINVALID;
		return finish(out, y, mo, d, h, mi, s, off);
	}
	/* RFC 1123 / 2822: [Tue, ]08 Jun 2021 03:07:15 GMT; also "June 8, 2021" */
	if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
		const char *q = p;
		if ((mo = month_name(&q)) == 0) {
			/* a weekday */
			while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
				p++;
			skip_sp(&p);
		} else {
			/* Month D, YYYY [time] */
			p = q;
			skip_sp(&p);
			if (num(&p, 2, &d) < 1)
				return STET_EINVALID;
			skip_sp(&p);
			if (num(&p, 4, &y) != 4)
				return STET_EINVALID;
			skip_sp(&p);
			clock_time(&p, &h, &mi, &s);
			zone(&p, &off);
			return finish(out, y, mo, d, h, mi, s, off);
		}
	}
	if (num(&p, 2, &d) < 1)
		return STET_EINVALID;
	skip_sp(&p);
	if (*p == '-')
		p++;
	if ((mo = month_name(&p)) == 0)
		return STET_EINVALID;
	skip_sp(&p);
	if (*p == '-')
		p++;
	if (num(&p, 4, &y) != 4)
		return STET_EINVALID;
	skip_sp(&p);
	clock_time(&p, &h, &mi, &s);
	zone(&p, &off);
	skip_sp(&p);
	if (*p && *p != '(')
		return STET_EINVALID;
	return finish(out, y, mo, d, h, mi, s, off);
}

int stet_canon_date(char **out, const char *raw)
{
	long long t;
	struct tm tm;
	time_t tt;
	char buf[32];

	*out = NULL;
	if (stet_canon_date_epoch(&t, raw) < 0)
		return 0;
	tt = (time_t)t;
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return 0;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (*out = stet_strdup(buf)) ? 0 : stet_error_oom();
}

/* ---- URLs ---- */

static int url_clean(char **out, const char *raw);

static int tracking_param(const char *k, size_t n)
{
	static const char *const names[] = { "spm", "fbclid", "gclid", "dclid", "msclkid", "yclid",
					     "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid",
					     "ncid", "xtor", "ref_src", "ref_url", "share", "from",
					     "src", "scm", "wfr", "wt.mc_id", "s_cid", "cmp", "icid",
					     "smid", "partner", "sr_share", "__twitter_impression",
					     "rss", "feed", "feedtype", "ito", NULL };
	size_t i;

	if (n >= 4 && !stet_ascii_ncasecmp(k, "utm_", 4))
		return 1;
	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == n && !stet_ascii_ncasecmp(k, names[i], n))
			return 1;
	return 0;
}

int stet_canon_url(char **out, const char *raw)
{
	stet_buf clean = STET_BUF_INIT;
	int error;
	size_t i, n;

	/* as browsers do: tabs and line breaks inside a URL vanish, other
	 * controls too, and a space is %20; the URL stays one line */
	*out = NULL;
	if (!raw)
		return 0;
	n = strlen(raw);
	while (n && ((unsigned char)raw[n - 1] <= 0x20 || raw[n - 1] == 0x7F))
		n--; /* trailing blanks and controls go; a written "%20" stays */
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)raw[i];
		if (ch == ' ')
			stet_buf_puts(&clean, clean.size ? "%20" : "");
		else if (ch >= 0x20 && ch != 0x7F)
			stet_buf_putc(&clean, (char)ch);
	}
	if ((error = stet_buf_check(&clean, "URL")) == 0)
		error = url_clean(out, clean.ptr);
	stet_buf_dispose(&clean);
	return error;
}

static int url_clean(char **out, const char *raw)
{
	stet_buf b = STET_BUF_INIT;
	const char *p, *s, *e, *host, *hend, *path, *q, *frag;
	size_t i;
	int first = 1, error;

	*out = NULL;
	if (!raw)
		return 0;
	s = raw;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		e--;
	if (e == s)
		return 0;
	p = memchr(s, ':', (size_t)(e - s));
	if (!p || p + 3 > e || p[1] != '/' || p[2] != '/' ||
	    !((p - s == 4 && !stet_ascii_ncasecmp(s, "http", 4)) ||
	      (p - s == 5 && !stet_ascii_ncasecmp(s, "https", 5)))) {
		/* not http(s): kept as written, trimmed */
		*out = stet_strndup(s, (size_t)(e - s));
		return *out ? 0 : stet_error_oom();
	}
	for (i = 0; i < (size_t)(p - s); i++)
		stet_buf_putc(&b, (char)(s[i] | 0x20));
	stet_buf_puts(&b, "://");
	host = p + 3;
	for (hend = host; hend < e && *hend != '/' && *hend != '?' && *hend != '#'; hend++)
		;
	{
		/* drop user info (up to the last '@', as WHATWG URL parsers
		 * do), lower-case, drop the default port */
		const char *at = NULL, *h, *colon;
		size_t hl;
		for (h = host; h < hend; h++)
			if (*h == '@')
				at = h;
		h = at ? at + 1 : host;
		colon = memchr(h, ':', (size_t)(hend - h));
		hl = (size_t)((colon ? colon : hend) - h);
		while (hl && h[hl - 1] == '.') /* trailing dots of the host */
			hl--;
		for (i = 0; i < hl; i++)
			stet_buf_putc(&b, (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i]));
		if (colon && !((hend - colon == 3 && !strncmp(colon, ":80", 3)) ||
			       (hend - colon == 4 && !strncmp(colon, ":443", 4))))
			stet_buf_put(&b, colon, (size_t)(hend - colon));
	}
	path = hend;
	frag = memchr(path, '#', (size_t)(e - path));
	if (frag)
		e = frag;
	q = memchr(path, '?', (size_t)(e - path));
	if (path == (q ? q : e))
		stet_buf_putc(&b, '/');
	stet_buf_put(&b, path, (size_t)((q ? q : e) - path));
	if (q) {
		const char *k = q + 1;
		while (k < e) {
			const char *amp = memchr(k, '&', (size_t)(e - k)), *ke;
			const char *pe = amp ? amp : e;
			ke = memchr(k, '=', (size_t)(pe - k));
			if (pe > k && !tracking_param(k, (size_t)((ke ? ke : pe) - k))) {
				stet_buf_putc(&b, first ? '?' : '&');
				stet_buf_put(&b, k, (size_t)(pe - k));
				first = 0;
			}
			k = amp ? amp + 1 : e;
		}
	}
	if ((error = stet_buf_check(&b, "URL")) < 0)
		return error;
	*out = stet_buf_detach(&b);
	return *out ? 0 : stet_error_oom();
}

/* ---- titles ---- */

static int site_like(const char *s, size_t n, const char *site)
{
	static const char *const marks[] = { "网", "網", "新闻", "新聞", "财经", "財經", "日报", "日報",
					     "时报", "時報", "晚报", "之声", "之聲", "电台", "電台", "頻道",
					     "频道", "早报", "早報", "News", "NEWS", ".com", ".cn", ".net",
					     ".org", "Times", "Post", "Journal", "Online", "Daily",
					     "Magazine", "Network", "Tribune", "Herald", "Gazette", "Reuters",
					     "BBC", "CNN", "Guardian", "Telegraph", "Express", "Wired",
					     "TechCrunch", "The Verge", NULL };
	size_t i;

	if (site && strlen(site) == n && !stet_ascii_ncasecmp(s, site, n))
		return 1;
	if (stet_utf8_len(s, n) > 30)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("!?。！？", s[i]))
			return 0;
	for (i = 0; marks[i]; i++) {
		size_t m = strlen(marks[i]), j;
		for (j = 0; j + m <= n; j++)
			if (!memcmp(s + j, marks[i], m))
				return 1;
	}
	return 0;
}

int stet_canon_title(char **out, const char *raw, const char *site)
{
	static const char *const seps[] = { " | ", " - ", " – ", " — ", " :: ", " » ", "｜", " |", "_", NULL };
	stet_buf b = STET_BUF_INIT;
	size_t len, i;
	int error;

	*out = NULL;
	if (!raw)
		return 0;
	if ((error = stet_canon_text(&b, raw, strlen(raw))) < 0)
		goto done;
	len = b.size;
	/* one site suffix, at the last separator; else one site prefix */
	for (i = 0; seps[i]; i++) {
		size_t m = strlen(seps[i]), j, last = 0;
		int found = 0;
		for (j = 1; j + m < len; j++)
			if (!memcmp(b.ptr + j, seps[i], m)) {
				last = j;
				found = 1;
			}
		if (!found)
			continue;
		{
			const char *suf = b.ptr + last + m;
			size_t sn = len - last - m;
			while (sn && *suf == ' ') {
				suf++;
				sn--;
			}
			if (sn && site_like(suf, sn, site) && stet_utf8_len(b.ptr, last) >= 4) {
				size_t keep = last;
				while (keep && b.ptr[keep - 1] == ' ')
					keep--;
				stet_buf_truncate(&b, keep);
				break;
			}
		}
	}
	if (b.size == len) {
		for (i = 0; seps[i]; i++) {
			size_t m = strlen(seps[i]), j;
			for (j = 1; j + m < len; j++)
				if (!memcmp(b.ptr + j, seps[i], m))
					break;
			if (j + m >= len)
				continue;
			{
				size_t pn = j, rest = j + m;
				while (pn && b.ptr[pn - 1] == ' ')
					pn--;
				while (rest < len && b.ptr[rest] == ' ')
					rest++;
				if (site_like(b.ptr, pn, site) && stet_utf8_len(b.ptr + rest, len - rest) >= 4 &&
				    stet_utf8_len(b.ptr + rest, len - rest) > stet_utf8_len(b.ptr, pn)) {
					memmove(b.ptr, b.ptr + rest, len - rest);
					stet_buf_truncate(&b, len - rest);
					break;
				}
			}
		}
	}
	if (!b.size)
		goto done;
	if ((error = stet_buf_check(&b, "title")) < 0)
		goto done;
	if (!(*out = stet_buf_detach(&b)))
		error = stet_error_oom();
done:
	stet_buf_dispose(&b);
	return error;
}
