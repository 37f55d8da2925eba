/*
 * Character sets: what a page declares, and decoding it to UTF-8 with
 * iconv (the same converter libxml2 uses), replacing every undecodable
 * byte with U+FFFD instead of giving up on the page. Labels are mapped the
 * way browsers map them: gb2312 and gbk mean GB18030, iso-8859-1 means
 * windows-1252, shift_jis means CP932, euc-kr means CP949.
 */
#include "internal.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

static const struct { const char *label, *iconv; } aliases[] = {
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "x-gbk", "GB18030" },
	{ "gb18030", "GB18030" }, { "cp936", "GB18030" }, { "hz-gb-2312", "HZ-GB-2312" },
	{ "big5", "BIG5-HKSCS" }, { "big5-hkscs", "BIG5-HKSCS" }, { "x-big5", "BIG5-HKSCS" },
	{ "shift_jis", "CP932" }, { "shift-jis", "CP932" }, { "sjis", "CP932" },
	{ "x-sjis", "CP932" }, { "windows-31j", "CP932" }, { "euc-jp", "EUC-JP" },
	{ "iso-2022-jp", "ISO-2022-JP" }, { "euc-kr", "CP949" }, { "ks_c_5601-1987", "CP949" },
	{ "iso-8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
	{ "us-ascii", "WINDOWS-1252" }, { "ascii", "WINDOWS-1252" },
};

int stet_charset_decode(stet_buf *out, const char *charset, const char *data, size_t len)
{
	const char *name = charset;
	char *in = (char *)data;
	size_t inleft = len, i;
	iconv_t cd;
	char tmp[8192];

	for (i = 0; i < STET_ARRAY_SIZE(aliases); i++)
		if (!stet_ascii_casecmp(charset, aliases[i].label))
			name = aliases[i].iconv;
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return stet_error_set(STET_EINVALID, "unknown character set '%s'", charset);
	while (inleft > 0) {
		char *o = tmp;
		size_t oleft = sizeof(tmp);
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		stet_buf_put(out, tmp, sizeof(tmp) - oleft);
		if (r == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			/* EILSEQ or EINVAL (truncated): replace one byte, resync */
			stet_buf_put(out, "\xEF\xBF\xBD", 3);
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	iconv_close(cd);
	return stet_buf_check(out, "decoding");
}

/* Value of attribute `attr` inside the tag text [s, e), copied to out. */
static int tag_attr(char *out, size_t outsz, const char *s, const char *e, const char *attr)
{
	size_t alen = strlen(attr);
	const char *p;

	for (p = s; p + alen < e; p++) {
		if (stet_ascii_ncasecmp(p, attr, alen) || (p > s && (unsigned char)p[-1] > ' '))
			continue;
		const char *q = p + alen, *v;
		while (q < e && *q == ' ')
			q++;
		if (q >= e || *q != '=')
			continue;
		q++;
		while (q < e && *q == ' ')
			q++;
		if (q < e && (*q == '"' || *q == '\'')) {
			char quote = *q++;
			v = q;
			while (q < e && *q != quote)
				q++;
		} else {
			v = q;
			while (q < e && *q != ' ' && *q != '>' && *q != '/')
				q++;
		}
		size_t n = (size_t)(q - v) < outsz - 1 ? (size_t)(q - v) : outsz - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

void stet_charset_sniff(char *out, size_t outsz, const char *data, size_t len)
{
	const char *p, *end = data + (len < 65536 ? len : 65536);
	char val[256];

	out[0] = '\0';
	if (len > 5 && !strncmp(data, "<?xml", 5)) {
		const char *e = memchr(data, '>', (size_t)(end - data));
		if (e && tag_attr(out, outsz, data, e, "encoding"))
			return;
	}
	for (p = data; p < end; p++) {
		const char *e, *cs;
		if (*p != '<' || p + 5 >= end || stet_ascii_ncasecmp(p, "<meta", 5))
			continue;
		if (!(e = memchr(p, '>', (size_t)(end - p))))
			return;
		if (tag_attr(out, outsz, p, e, "charset"))
			return;
		if (tag_attr(val, sizeof(val), p, e, "content") && (cs = stet_ascii_casestr(val, "charset="))) {
			size_t n = 0;
			cs += 8;
			while (cs[n] && cs[n] != ';' && cs[n] != ' ' && cs[n] != '"' && n < outsz - 1)
				n++;
			memcpy(out, cs, n);
			out[n] = '\0';
			return;
		}
		p = e;
	}
}
