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
/** stet_fp_tokens, and stet_fp_normalize's text appended to harsh (when
 *  not NULL), from one normalization of the text */
int stet_fp_tokens_harsh(stet_tokens *out, stet_buf *harsh, const char *text, size_t len);
void stet_tokens_dispose(stet_tokens *t);

/** The exact-duplicate fingerprint: XXH3-128 of the harsh normalization,
 *  as 32 lower-case hex digits plus NUL. */
int stet_fp_exact(char out[33], const char *text, size_t len);

/** Jaccard similarity (0..1) of the sets of k-token shingles of a and b
 *  (texts shorter than k tokens count as one shingle of all their tokens). */
double stet_fp_similarity(const stet_tokens *a, const stet_tokens *b, int k);

/** Sentences shorter than this (letters and digits) get no fingerprint. */
#define STET_FP_MIN_SENTENCE 8
/** Texts with fewer tokens than this have no meaningful simhash. */
#define STET_FP_MIN_TOKENS 24

/** Everything stet keeps of a text to find its duplicates. */
typedef struct stet_fingerprint {
	char exact[33];      /* stet_fp_exact() */
	uint64_t simhash;    /* over 3-token shingles; 0 when too_short */
	int too_short;       /* fewer than STET_FP_MIN_TOKENS tokens */
	uint64_t *sent;      /* XXH3-64 of each sentence line's harsh normalization */
	size_t nsent;
} stet_fingerprint;

/** Fingerprints of a canonical body. Free with stet_fp_dispose. */
int stet_fp_compute(stet_fingerprint *out, const char *body);
void stet_fp_dispose(stet_fingerprint *f);

/** The 64-bit simhash of tokens' 3-shingles (each shingle hash's bits vote
 *  +1/-1). */
uint64_t stet_fp_simhash(const stet_tokens *t);

/** Bits that differ. */
int stet_fp_hamming(uint64_t a, uint64_t b);

/** Is this sentence fingerprint boilerplate? (decided by the caller, from
 *  how many archived stories carry it) */
typedef int (*stet_fp_common_cb)(uint64_t sentence, void *payload);

/** How much two bodies overlap: character 5-gram sets of their harsh
 *  normalization, boilerplate sentences left out (unless that leaves
 *  both texts under 50 characters: then the whole texts count). */
typedef struct stet_fp_overlap {
	double jaccard;      /* |A∩B| / |A∪B| */
	double containment;  /* |A∩B| / min(|A|, |B|) */
	size_t chars_a, chars_b; /* characters compared */
} stet_fp_overlap;
int stet_fp_overlap_of(stet_fp_overlap *out, const char *body_a, const char *body_b, stet_fp_common_cb common,
		       void *payload);

/** A body prepared for overlaps: its lines' harsh normalization and
 *  sentence fingerprints, computed once for many comparisons. */
typedef struct stet_fp_text {
	stet_buf harsh;   /* every line's harsh text, concatenated */
	size_t *end;      /* where each line ends in harsh */
	uint64_t *hash;   /* each line's sentence fingerprint, 0 if too short */
	size_t nlines;
	/* the body's tokens (stet_fp_tokens), kept by stet_fp_compute_text;
	 * stet_fp_text_prepare leaves them out (have_tokens 0). harsh is
	 * stet_fp_tokens_harsh's harsh text of the same body */
	stet_tokens tokens;
	int have_tokens;
} stet_fp_text;
int stet_fp_text_prepare(stet_fp_text *t, const char *body);
/** stet_fp_compute and stet_fp_text_prepare of one body from one
 *  normalization of it (text may be NULL): both as each gives them, and
 *  the text keeps the tokens its simhash was made of. */
int stet_fp_compute_text(stet_fingerprint *out, stet_fp_text *text, const char *body);
void stet_fp_text_dispose(stet_fp_text *t);
/** stet_fp_overlap_of on prepared texts. */
int stet_fp_overlap_texts(stet_fp_overlap *out, const stet_fp_text *a, const stet_fp_text *b,
			  stet_fp_common_cb common, void *payload);
/** One side of many overlaps: a prepared text without its common lines
 *  (as `common` says when it is prepared), and its 5-grams once asked
 *  for. stet_fp_overlap_texts(a, b) is stet_fp_overlap_sides of the two
 *  sides; one text compared with many keeps its side. */
typedef struct stet_fp_side {
	const stet_fp_text *text;
	stet_buf kept;
	size_t kept_chars;
	uint64_t *grams, *whole; /* sorted, distinct: of kept, of the whole text */
	long ngrams, nwhole;     /* -1 until computed */
} stet_fp_side;
int stet_fp_side_prepare(stet_fp_side *s, const stet_fp_text *t, stet_fp_common_cb common, void *payload);
void stet_fp_side_dispose(stet_fp_side *s);
int stet_fp_overlap_sides(stet_fp_overlap *out, stet_fp_side *a, stet_fp_side *b);

#ifdef __cplusplus
}
#endif
#endif
