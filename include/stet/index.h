/*
 * The near-duplicate index: in memory, built from the archive (never the
 * truth), answering "which fingerprints are within Hamming distance k"
 * among millions in microseconds, and "which articles hold this sentence".
 *
 * Simhash lookups use multi-index hashing (Manku, Jain, Das Sarma): the 64
 * bits are cut into 4 blocks of 16; two fingerprints within distance 3
 * agree exactly on at least one block, so each table is looked up by one
 * block and only that bucket is checked.
 */
#ifndef STET_INDEX_H
#define STET_INDEX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STET_SIMINDEX_MAX_K 3

typedef struct stet_simindex stet_simindex;

int stet_simindex_new(stet_simindex **out);
void stet_simindex_free(stet_simindex *ix);
/** Add a fingerprint under id (ids need not be dense; any uint32). */
int stet_simindex_add(stet_simindex *ix, uint32_t id, uint64_t fp);
typedef int (*stet_simindex_cb)(uint32_t id, uint64_t fp, int distance, void *payload);
/** Every entry within distance k (0..STET_SIMINDEX_MAX_K) of fp, each once;
 *  a non-zero return from cb stops the query and is returned. */
int stet_simindex_query(const stet_simindex *ix, uint64_t fp, int k, stet_simindex_cb cb, void *payload);
size_t stet_simindex_count(const stet_simindex *ix);
/** Give back the buckets' spare room (after a bulk load). */
void stet_simindex_compact(stet_simindex *ix);
/** Bytes the index holds (tables and fingerprints). */
size_t stet_simindex_bytes(const stet_simindex *ix);

/** Sentence postings: sentence fingerprint -> the ids that hold it. */
typedef struct stet_postings stet_postings;
int stet_postings_new(stet_postings **out);
void stet_postings_free(stet_postings *p);
int stet_postings_add(stet_postings *p, uint64_t sentence, uint32_t id);
/** Make room for `keys` distinct sentences at once (saves rehashing). */
int stet_postings_reserve(stet_postings *p, size_t keys);
/** The ids holding sentence (borrowed, valid until the next add), count in *n. */
const uint32_t *stet_postings_get(const stet_postings *p, uint64_t sentence, size_t *n);
size_t stet_postings_bytes(const stet_postings *p);

#ifdef __cplusplus
}
#endif
#endif
