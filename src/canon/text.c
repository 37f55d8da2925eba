/*
 * Text rules of the canonical form: whitespace folding, invisible
 * characters, NFC (utf8proc), and the sentence splitter.
 *
 * Folding: any run of whitespace (ASCII, NBSP, U+3000, the U+2000 spaces)
 * becomes one space; a run that held a line break and stands between two
 * CJK characters vanishes (source line-wrapping, never a word gap);
 * leading and trailing whitespace goes. Zero-width characters, the BOM,
 * soft hyphens, bidi controls and C0/C1 controls are dropped.
 */
#include "canon.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int stet_canon_text(stet_buf *out, const char *s, size_t len)
{
	stet_buf tmp = STET_BUF_INIT;
	int error = canon_text_with(out, &tmp, s, len);
	stet_buf_dispose(&tmp);
	return error;
}

int canon_text_with(stet_buf *out, stet_buf *tmp, const char *s, size_t len)
{
	size_t i = 0, adv;
	int32_t prev = 0, cp;
	int pending = 0, pending_nl = 0, bad, error;

	stet_buf_clear(tmp);
	stet_buf_grow(tmp, len); /* the text less what folds away, most often; a failure shows at the check */
	while (i < len) {
		/* a run of those ideographs: copied as it is; a line break
		 * before it vanishes after CJK */
		if (stet_utf8_unified3(s + i, len - i)) {
			size_t j = i + 3;
			while (stet_utf8_unified3(s + j, len - j))
				j += 3;
			if (pending && tmp->size && !(pending_nl && stet_is_cjk(prev)))
				stet_buf_putc(tmp, ' ');
			pending = pending_nl = 0;
			stet_buf_put(tmp, s + i, j - i);
			prev = ((int32_t)(s[j - 3] & 0x0F) << 12) | ((int32_t)(s[j - 2] & 0x3F) << 6) | (s[j - 1] & 0x3F);
			i = j;
			continue;
		}
		/* a run of printable ASCII other than the space: copied as it is
		 * (none of it is space or invisible, none of it CJK) */
		if (stet_ascii_graph((unsigned char)s[i])) {
			size_t j = i + 1;
			while (j < len && stet_ascii_graph((unsigned char)s[j]))
				j++;
			if (pending && tmp->size)
				stet_buf_putc(tmp, ' ');
			pending = pending_nl = 0;
			stet_buf_put(tmp, s + i, j - i);
			prev = (unsigned char)s[j - 1];
			i = j;
			continue;
		}
		cp = stet_utf8_decode(s + i, len - i, &adv);
		i += adv;
		bad = cp < 0;
		if (bad)
			cp = 0xFFFD;
		if (stet_is_space(cp)) {
			pending = 1;
			pending_nl |= cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029;
			continue;
		}
		if (stet_is_invisible(cp))
			continue;
		if (pending && tmp->size && !(pending_nl && stet_is_cjk(prev) && stet_is_cjk(cp)))
			stet_buf_putc(tmp, ' ');
		pending = pending_nl = 0;
		if (bad) {
			char enc[4]; /* an invalid byte: U+FFFD in its place */
			stet_buf_put(tmp, enc, stet_utf8_encode(enc, cp));
		} else {
			/* the decoder takes only the shortest form: the bytes are
			 * the code point's encoding */
			stet_buf_put(tmp, s + i - adv, adv);
		}
		prev = cp;
	}
	if ((error = stet_buf_check(tmp, "text")) < 0)
		goto done;
	if (tmp->size && (error = stet_unorm(out, tmp->ptr, tmp->size, UTF8PROC_STABLE | UTF8PROC_COMPOSE, "text")) < 0)
		goto done;
	error = stet_buf_check(out, "text");
done:
	return error;
}

/* ---- sentences ---- */

static int is_closer(int32_t c)
{
	return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 ||
	       c == 0x300D || c == 0x300F || c == 0xFF09 || c == 0x300B || c == 0x3011 ||
	       c == 0x3009 || c == 0xFF02 || c == 0xFF07 || c == 0x00BB || c == 0xFF3D;
}

static int is_cjk_stop(int32_t c)
{
	return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF61;
}

static int is_upper_start(int32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '"' || c == '\'' ||
	       c == 0x201C || c == 0x2018 || c == '(' || c == '[' || (c >= 0xC0 && c <= 0xDE) ||
	       (c >= 0x391 && c <= 0x3A9) || (c >= 0x410 && c <= 0x42F) || stet_is_cjk_token(c);
}

static const char *const abbrev[] = {
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "gov", "sen", "rep",
	"lt", "col", "capt", "sgt", "cmdr", "adm", "maj", "rev", "hon", "pres", "supt", "insp",
	"inc", "ltd", "co", "corp", "bros", "dept", "univ", "assn", "vs", "etc", "eg", "ie", "cf",
	"no", "nos", "vol", "vols", "pp", "fig", "figs", "ed", "eds", "est", "approx", "jan",
	"feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon",
	"tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "am", "pm", "us", "uk",
	"un", "eu", "ph", "mph", "op", "al", "ca", "c", "ave", "blvd", "rd", "hwy", "mass",
	"calif", "fla", "ariz", "conn", "ill", "mich", "minn", "penn", "tenn", "wash", "wis",
	"jr", "sr", NULL
};

/* Is the word that ends at s[end) (just before a '.') an abbreviation? */
static int abbreviation_before(const char *s, size_t end)
{
	char word[16];
	size_t start = end, n = 0, i;
	int dots = 0;

	while (start > 0) {
		unsigned char c = (unsigned char)s[start - 1];
		if (c == '.') {
			dots++;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
			break;
		}
		start--;
	}
	if (start == end)
		return 0;
	if (end - start == 1 && s[start] >= 'A' && s[start] <= 'Z')
		return 1; /* an initial: "J. K. Rowling" */
	if (dots)
		return 1; /* "U.S.", "e.g." */
	for (i = start; i < end && n < sizeof(word) - 1; i++)
		word[n++] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	word[n] = '\0';
	if (end - start >= sizeof(word) - 1)
		return 0;
	for (i = 0; abbrev[i]; i++)
		if (!strcmp(word, abbrev[i]))
			return 1;
	return 0;
}

static void split_line(stet_buf *out, const char *s, size_t len)
{
	size_t i = 0, start = 0, adv;
	int32_t prev = 0;

	while (i < len) {
		int32_t c = stet_utf8_decode(s + i, len - i, &adv);
		size_t j = i + adv, cut = 0;

		if (is_cjk_stop(c) || ((c == '!' || c == '?' || c == 0xFF1F || c == 0xFF01) && stet_is_cjk(prev)) ||
		    (c == 0x2026 && stet_is_cjk(prev))) {
			/* absorb further stops, ellipses and closing quotes */
			for (;;) {
				size_t a2;
				int32_t d = j < len ? stet_utf8_decode(s + j, len - j, &a2) : -1;
				if (d < 0 || !(is_closer(d) || is_cjk_stop(d) || d == '!' || d == '?' ||
					       d == 0x2026 || d == 0xFF01 || d == 0xFF1F))
					break;
				j += a2;
			}
			if (c == 0x2026) {
				/* in Chinese an ellipsis is mostly a pause: it ends a
				 * sentence only with a closing quote after it */
				size_t a2, q = i + adv;
				int32_t d;
				while (q < j && (d = stet_utf8_decode(s + q, j - q, &a2)) == 0x2026)
					q += a2;
				if (q == j)
					goto next;
			}
			cut = j;
		} else if (c == '.' || c == '!' || c == '?' || c == 0x2026) {
			size_t k = j, a2;
			int32_t d, before = c;
			/* the run of closers and stops after it; it stops at a ! or ?
			 * after a CJK closer (》?), where the CJK rule above cuts:
			 * taking it whole here would give a line that rule cuts
			 * again when the document is read back */
			while (k < len && (d = stet_utf8_decode(s + k, len - k, &a2)) >= 0 &&
			       (is_closer(d) || d == '.' || d == '!' || d == '?') &&
			       !((d == '!' || d == '?') && stet_is_cjk(before))) {
				before = d;
				k += a2;
			}
			if (k < len && s[k] == ' ' && k + 1 < len) {
				d = stet_utf8_decode(s + k + 1, len - k - 1, &a2);
				if (is_upper_start(d) && !(c == '.' && abbreviation_before(s, i)))
					cut = k;
			}
		}
		if (cut) {
			stet_buf_put(out, s + start, cut - start);
			stet_buf_putc(out, '\n');
			while (cut < len && s[cut] == ' ')
				cut++;
			start = i = cut;
			prev = 0;
			continue;
		}
	next:
		prev = c;
		i += adv;
	}
	if (start < len) {
		stet_buf_put(out, s + start, len - start);
		stet_buf_putc(out, '\n');
	}
}

void stet_canon_sentences(stet_buf *out, const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	/* a line break in the text is a hard break (pre blocks, re-read bodies) */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le > p)
			split_line(out, p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
	}
}
