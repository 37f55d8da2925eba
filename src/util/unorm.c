/*
 * Unicode normalization (utf8proc_map), with the characters that
 * normalize to themselves copied here instead. utf8proc decomposes every
 * character twice over (once to size its buffer); over Chinese and
 * English text that was the largest cost of canonicalizing and of
 * fingerprinting. Two kinds of character are copied:
 *
 * - ASCII: NFC and NFKC leave it as it is, case folding lowers A-Z. An
 *   ASCII character composes with a combining mark after it (e + U+0301
 *   is é), so one that any other character follows goes to utf8proc with
 *   what follows, unless that is a CJK ideograph;
 * - CJK unified ideographs U+4E00-U+9FFF: no decomposition, no case, not
 *   ignorable, combining class 0, and no composition starts or ends with
 *   one.
 *
 * Either is a starter that nothing composes across, so cutting the text
 * before and after it changes nothing: the result is byte for byte
 * utf8proc_map's with the same options (tests/unit/test_util.c checks
 * random mixes and every ideograph before combining marks).
 */
#include "util/util.h"

#include <stdlib.h>
#include <utf8proc.h>

/* the length of the CJK unified ideograph at t (UTF-8, 3 bytes), or 0 */
static size_t ideograph(const unsigned char *t, size_t n)
{
	if (n < 3 || t[0] < 0xE4 || t[0] > 0xE9 || (t[1] & 0xC0) != 0x80 || (t[2] & 0xC0) != 0x80)
		return 0;
	return t[0] == 0xE4 && t[1] < 0xB8 ? 0 : 3; /* U+4E00 is E4 B8 80 */
}

/* the length of the character at i if it is copied as it is, else 0 */
static size_t copied(const unsigned char *t, size_t len, size_t i)
{
	if (t[i] < 0x80)
		return i + 1 == len || t[i + 1] < 0x80 || ideograph(t + i + 1, len - i - 1) ? 1 : 0;
	return ideograph(t + i, len - i);
}

int stet_unorm(stet_buf *out, const char *s, size_t len, int options, const char *what)
{
	const unsigned char *t = (const unsigned char *)s;
	int lower = (options & UTF8PROC_CASEFOLD) != 0;
	size_t i = 0, n;

	while (i < len) {
		size_t j = i;
		utf8proc_uint8_t *seg;
		utf8proc_ssize_t r;
		while (j < len && (n = copied(t, len, j)) > 0)
			j += n;
		if (j > i) {
			size_t at = out->size, k;
			stet_buf_put(out, t + i, j - i);
			if (lower && out->size == at + (j - i))
				for (k = at; k < out->size; k++)
					if (out->ptr[k] >= 'A' && out->ptr[k] <= 'Z')
						out->ptr[k] = (char)(out->ptr[k] - 'A' + 'a');
			i = j;
		}
		if (i == len)
			break;
		/* what utf8proc normalizes: up to the next character copied */
		for (j = i + 1; j < len && ((t[j] & 0xC0) == 0x80 || !copied(t, len, j)); j++)
			;
		r = utf8proc_map(t + i, (utf8proc_ssize_t)(j - i), &seg, (utf8proc_option_t)options);
		if (r < 0)
			return r == UTF8PROC_ERROR_NOMEM ? stet_error_oom()
							 : stet_error_set(STET_EINVALID, "%s: %s", what, utf8proc_errmsg(r));
		stet_buf_put(out, seg, (size_t)r);
		free(seg);
		i = j;
	}
	return stet_buf_check(out, what);
}
