/*
 * One loop over independent items on several threads: the threads take
 * the next index from a shared counter until none is left; the caller's
 * thread is one of them. Items write their results by index, so the
 * order of the results never depends on the threads' timing.
 */
#include "util.h"

#include <pthread.h>

typedef struct {
	stet_each_fn fn;
	void *payload;
	size_t n, next;
	pthread_mutex_t lock;
} loop;

static void *worker(void *arg)
{
	loop *l = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&l->lock);
		i = l->next++;
		pthread_mutex_unlock(&l->lock);
		if (i >= l->n)
			return NULL;
		l->fn(i, l->payload);
	}
}

void stet_parallel_for(size_t n, int threads, stet_each_fn fn, void *payload)
{
	loop l = { fn, payload, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t tids[16];
	int k, started = 0;

	if (threads > 16)
		threads = 16;
	for (k = 0; k < threads - 1 && (size_t)k + 1 < n; k++)
		if (pthread_create(&tids[k], NULL, worker, &l) == 0)
			started++;
	worker(&l);
	for (k = 0; k < started; k++)
		pthread_join(tids[k], NULL);
	pthread_mutex_destroy(&l.lock);
}
