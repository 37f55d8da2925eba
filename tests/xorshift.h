/* xorshift64 (Marsaglia, 2003): the reproducible random numbers of the
 * unit tests and the benchmarks, one seed per file. */
#ifndef STET_TESTS_XORSHIFT_H
#define STET_TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
