/*
 * UTF-8 decoding, validation and the character classes the canonical form
 * relies on (which characters are CJK, which are spaces, which vanish).
 * Strict decoding: overlong forms, surrogates and code points past
 * U+10FFFF are invalid.
 */
#include "util.h"

#include <string.h>

int32_t stet_utf8_decode(const char *str, size_t len, size_t *adv)
{
	const unsigned char *s = (const unsigned char *)str;
	int32_t cp;
	size_t n, i;

	*adv = 1;
	if (!len)
		return -1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*adv = n;
	return cp;
}

size_t stet_utf8_encode(char out[4], int32_t cp)
{
	if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int stet_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
	size_t i = 0, adv;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if (stet_utf8_decode(s + i, len - i, &adv) < 0) {
			if (bad_offset)
				*bad_offset = i;
			return 0;
		}
		i += adv;
	}
	return 1;
}

void stet_utf8_sanitize(stet_buf *out, const char *s, size_t len)
{
	size_t i = 0, start = 0, adv;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if (stet_utf8_decode(s + i, len - i, &adv) < 0) {
			stet_buf_put(out, s + start, i - start);
			stet_buf_put(out, "\xEF\xBF\xBD", 3);
			i += 1;
			start = i;
			continue;
		}
		i += adv;
	}
	stet_buf_put(out, s + start, i - start);
}

int stet_is_cjk(int32_t c)
{
	if (c < 0x2E80)
		return 0;
	return (c >= 0x2E80 && c <= 0x2FDF) ||   /* radicals */
	       (c >= 0x3000 && c <= 0x303F) ||   /* CJK symbols and punctuation */
	       (c >= 0x3040 && c <= 0x30FF) ||   /* kana */
	       (c >= 0x31F0 && c <= 0x31FF) ||
	       (c >= 0x3400 && c <= 0x4DBF) ||   /* ext A */
	       (c >= 0x4E00 && c <= 0x9FFF) ||   /* unified */
	       (c >= 0xF900 && c <= 0xFAFF) ||   /* compatibility */
	       (c >= 0xFE30 && c <= 0xFE4F) ||   /* compatibility forms */
	       (c >= 0xFF00 && c <= 0xFF60) ||   /* full-width forms */
	       (c >= 0xFF61 && c <= 0xFF9F) ||   /* half-width kana */
	       (c >= 0x20000 && c <= 0x3FFFF);   /* ext B.. */
}

int stet_is_cjk_token(int32_t c)
{
	return stet_is_cjk(c) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
	       (c >= 0x3130 && c <= 0x318F);
}

int stet_is_space(int32_t c)
{
	switch (c) {
	case ' ': case '\t': case '\n': case '\r': case '\f': case '\v':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return 1;
	default:
		return c >= 0x2000 && c <= 0x200A;
	}
}

int stet_is_invisible(int32_t c)
{
	if (c >= 0x20 && c < 0x7F)
		return 0; /* printable ASCII: the common case */
	return c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF ||
	       c == 0xAD || c == 0x180E || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
	       (c >= 0x7F && c < 0xA0 && c != 0x85) || (c >= 0x200E && c <= 0x200F) ||
	       (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

size_t stet_utf8_len(const char *s, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

size_t stet_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int stet_ascii_casecmp(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b))
		a++, b++;
	return lower((unsigned char)*a) - lower((unsigned char)*b);
}

int stet_ascii_ncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int d = lower((unsigned char)*a) - lower((unsigned char)*b);
		if (d || !*a)
			return d;
	}
	return 0;
}

const char *stet_ascii_casestr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!stet_ascii_ncasecmp(hay, needle, n))
			return hay;
	return NULL;
}

void stet_ascii_lower(char *s)
{
	for (; *s; s++)
		*s = (char)lower((unsigned char)*s);
}

int stet_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}
