/* Whole files read and written by the unit tests (cmocka's asserts: the
 * test includes cmocka.h first). */
#ifndef STET_TESTS_FILES_H
#define STET_TESTS_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* a file's bytes, *size of them */
static inline unsigned char *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(*size ? *size : 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, *size, f), *size);
	fclose(f);
	return data;
}

/* size bytes as the whole of a file */
static inline void write_whole(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	fclose(f);
}

#endif
