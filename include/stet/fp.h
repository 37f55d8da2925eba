/*
 * Fingerprints of canonical text (docs/format.md, "Fingerprints").
 *
 * They are computed from a harsher normalization than the canonical form:
 * NFKC, case folded, and only letters and digits kept. Tokens: every
 * Han/Kana/Hangul character is one token, every run of other letters and
 * digits (a Latin word, a number) is one token.
 */
#ifndef STET_FP_H
#define STET_FP_H

#include <stddef.h>
#include <stdint.h>

#include "stet/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STET_FP_VERSION 1

/** Token hashes (XXH3-64 of each token's UTF-8) of a text, in order. */
typedef struct stet_tokens {
	uint64_t *v;
	size_t n;
} stet_tokens;

/** The harsh normalization of text: NFKC, case folded, letters and digits
 *  only (appended to out). */
int stet_fp_normalize(stet_buf *out, const char *text, size_t len);

/** Tokens of text (see above). 0 or STET_ENOMEM. */
int stet_fp_tokens(stet_tokens *out, const char *text, size_t len);
void stet_tokens_dispose(stet_tokens *t);

/** The exact-duplicate fingerprint: XXH3-128 of the harsh normalization,
 *  as 32 lower-case hex digits plus NUL. */
int stet_fp_exact(char out[33], const char *text, size_t len);

/** Jaccard similarity (0..1) of the sets of k-token shingles of a and b
 *  (texts shorter than k tokens count as one shingle of all their tokens). */
double stet_fp_similarity(const stet_tokens *a, const stet_tokens *b, int k);

#ifdef __cplusplus
}
#endif
#endif
