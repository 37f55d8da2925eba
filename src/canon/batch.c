/*
 * Canonicalizing many inputs at once, on several threads: each input is
 * independent (its own parse, its own DOM), stet's error state is
 * thread-local, and libxml2 is initialised once before the threads start.
 * Results land in the caller's arrays by index, so the order of inputs is
 * kept whatever the threads' timing.
 */
#include "canon.h"

#include <libxml/parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	stet_canon **out;
	char **errors;
	const char *const *paths;
	size_t n;
	size_t next;
	pthread_mutex_t lock;
} batch;

static void one(batch *b, size_t i)
{
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

static void *worker(void *arg)
{
	batch *b = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&b->lock);
		i = b->next++;
		pthread_mutex_unlock(&b->lock);
		if (i >= b->n)
			return NULL;
		one(b, i);
	}
}

int stet_canon_files(stet_canon **out, char **errors, const char *const *paths, size_t n, int threads)
{
	batch b = { out, errors, paths, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t tids[16];
	int k, started = 0, stdin_used = 0;
	size_t i;

	memset(out, 0, n * sizeof(*out));
	memset(errors, 0, n * sizeof(*errors));
	for (i = 0; i < n; i++)
		stdin_used |= !strcmp(paths[i], "-");
	if (threads > 16)
		threads = 16;
	if (threads <= 1 || n < 2 || stdin_used) {
		for (i = 0; i < n; i++)
			one(&b, i);
		return 0;
	}
	xmlInitParser();
	for (k = 0; k < threads; k++)
		if (pthread_create(&tids[k], NULL, worker, &b) == 0)
			started++;
	if (!started)
		worker(&b);
	for (k = 0; k < started; k++)
		pthread_join(tids[k], NULL);
	pthread_mutex_destroy(&b.lock);
	return 0;
}
