/*
 * Allocation wrappers. Every allocation stet makes itself goes through
 * here so that the reliability tests can make the Nth one fail and check
 * that each caller turns it into a clean STET_ENOMEM.
 */
#include "util.h"

#include <stdlib.h>
#include <string.h>

static long fail_after = -1;

void stet_alloc_fail_after(long n) { fail_after = n; }

static int should_fail(void)
{
	if (fail_after < 0)
		return 0;
	if (fail_after == 0)
		return 1;
	fail_after--;
	return 0;
}

void *stet_malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n ? n : 1);
}

void *stet_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *stet_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *stet_strndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	if (!(p = stet_malloc(n + 1)))
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *stet_strdup(const char *s)
{
	return s ? stet_strndup(s, strlen(s)) : NULL;
}
