/*
 * Benchmark (not a test) of the simhash index: median lookup time within
 * Hamming distance 3 among N archived fingerprints, the brute-force scan
 * beside it, and the index's bytes per article.
 *   build/stet-bench-index [N...]      (default: 1000000 10000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stet/index.h"
#include "xorshift.h"

static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t next(void) { return xorshift64(&rng); }

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int count(uint32_t id, uint64_t fp, int d, void *p)
{
	(void)id;
	(void)fp;
	(void)d;
	++*(size_t *)p;
	return 0;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = { 1000000, 10000000 }, nsizes = 2, s;
	int a;

	if (argc > 1) {
		nsizes = 0;
		for (a = 1; a < argc && nsizes < 8; a++)
			sizes[nsizes++] = strtoull(argv[a], NULL, 10);
	}
	printf("%10s %14s %14s %16s %10s\n", "articles", "median lookup", "p99 lookup", "brute-force scan", "bytes/art");
	for (s = 0; s < nsizes; s++) {
		size_t n = sizes[s], i, q, found = 0, Q = 20000;
		uint64_t *fps = malloc(n * sizeof(*fps));
		double *t = malloc(Q * sizeof(*t)), t0, brute;
		stet_simindex *ix = NULL;

		if (!fps || !t || stet_simindex_new(&ix) < 0) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		for (i = 0; i < n; i++) {
			fps[i] = next();
			stet_simindex_add(ix, (uint32_t)i, fps[i]);
		}
		stet_simindex_compact(ix);
		for (q = 0; q < Q; q++) {
			/* half the probes are near an archived fingerprint */
			uint64_t p = q % 2 ? fps[next() % n] ^ (1ull << (next() % 64)) ^ (1ull << (next() % 64)) : next();
			t0 = now();
			stet_simindex_query(ix, p, 3, count, &found);
			t[q] = now() - t0;
		}
		qsort(t, Q, sizeof(*t), cmp_d);
		t0 = now();
		for (q = 0; q < 20; q++) {
			uint64_t p = next();
			for (i = 0; i < n; i++)
				found += __builtin_popcountll(p ^ fps[i]) <= 3;
		}
		brute = (now() - t0) / 20;
		printf("%10zu %11.2f µs %11.2f µs %13.0f µs %10.1f\n", n, t[Q / 2] * 1e6, t[Q * 99 / 100] * 1e6, brute * 1e6,
		       (double)stet_simindex_bytes(ix) / (double)n);
		fprintf(stderr, "(%zu matches)\n", found);
		stet_simindex_free(ix);
		free(fps);
		free(t);
	}
	return 0;
}
