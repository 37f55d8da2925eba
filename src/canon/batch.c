/*
 * Canonicalizing many inputs at once, on several threads: each input is
 * independent (its own parse, its own DOM), stet's error state is
 * thread-local, and libxml2 is initialised once before the threads start.
 * Results land in the caller's arrays by index, so the order of inputs is
 * kept whatever the threads' timing.
 */
#include "canon.h"

#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	stet_canon **out;
	char **errors;
	const char *const *paths;
} batch;

static void one(size_t i, void *payload)
{
	batch *b = payload;
	stet_article *a = NULL;
	int error;

	error = !strcmp(b->paths[i], "-") ? stet_input_read_fd(&a, "-", STDIN_FILENO)
					 : stet_input_read_file(&a, b->paths[i]);
	if (!error)
		error = stet_canon_new(&b->out[i], a);
	if (error < 0) {
		const char *m = stet_error_last();
		b->errors[i] = strdup(m && *m ? m : stet_error_name(error));
	}
	stet_article_free(a);
}

int stet_canon_files(stet_canon **out, char **errors, const char *const *paths, size_t n, int threads)
{
	batch b = { out, errors, paths };
	size_t i;

	memset(out, 0, n * sizeof(*out));
	memset(errors, 0, n * sizeof(*errors));
	for (i = 0; i < n; i++)
		if (!strcmp(paths[i], "-"))
			threads = 1; /* standard input is read once, in order */
	if (threads > 1 && n > 1)
		xmlInitParser(); /* once, before the threads */
	stet_parallel_for(n, threads, one, &b);
	return 0;
}
